/**
 * `npm run fuzz`: the mutation fuzzer. Mutants of the seed models (fuzz/corpus.ts) are made
 * from a fixed seed (fuzz/mutate.ts), each is given to every engine in a worker process with
 * a time limit and a heap limit (fuzz/pool.ts), the onnx checker judges which mutants are
 * invalid (fuzz/truth.ts), and the report (fuzz/report.ts) compares the engines:
 *
 *   npm run fuzz                              2,400 mutants, seed 10, Tessera and onnxruntime-node
 *   npm run fuzz -- --count 300 --seed 3 --engines tessera
 *   npm run fuzz -- repro fuzz-out/mutants/m0123.onnx [--engine ort]
 *
 * The smoke tier (`--tier smoke`, small node cases, Tessera only) runs in `npm test`.
 */
import { Command, Option } from 'commander';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Seed, type Tier, LARGE_SEED_BYTES, loadCorpus } from './corpus.js';
import { ENGINES, type EngineName, loadEngine } from './engines.js';
import { applyFeedEdit, editableInputs, planFeeds, seedInputs } from './feeds.js';
import { mutate } from './mutate.js';
import { WorkerPool } from './pool.js';
import { type MutantRecord, pad, renderReport, summarize, summaryTable } from './report.js';
import { Rng, mutantSeed } from './rng.js';
import { checkFiles, findPython, onnxVersion } from './truth.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface FuzzOptions {
  readonly count: number;
  readonly seed: number;
  readonly tier: Tier;
  readonly engines: readonly EngineName[];
  readonly outDir: string;
  /** Worker processes per engine. */
  readonly jobs: number;
  readonly timeoutMs: number;
  readonly heapMb: number;
  /** Judge validity with the onnx checker (needs python3-onnx). */
  readonly truth: boolean;
  /** Keep every mutant file (default: only those some engine crashed on, hung on, ... or wrongly accepted). */
  readonly keepAll: boolean;
  readonly log: (line: string) => void;
}

export interface FuzzResult {
  readonly records: MutantRecord[];
  readonly report: string;
  readonly reportFile: string;
}

/** The share of mutants that keep the model and change an input value instead (where the seed has small int inputs). */
const FEED_SHARE = 0.15;
const FEED_INTS: readonly bigint[] = [0n, -1n, -2n, 2n ** 31n - 1n, -(2n ** 31n), 2n ** 32n, 2n ** 40n, 2n ** 62n, 2n ** 63n - 1n, -(2n ** 63n)];
const FEED_FLOATS: readonly number[] = [0, -1, NaN, Infinity, -Infinity, 1e30, 1e-30];

/** Large seeds (the public models) are this share of the picks: each compile takes seconds. */
const LARGE_SHARE = 0.03;

function pickSeed(seeds: readonly Seed[], rng: Rng): Seed {
  const large = seeds.filter((s) => s.bytes > LARGE_SEED_BYTES);
  const small = seeds.filter((s) => s.bytes <= LARGE_SEED_BYTES);
  return rng.pick(large.length > 0 && (small.length === 0 || rng.chance(LARGE_SHARE)) ? large : small);
}

function elapsed(t0: number): string {
  const s = Math.round((performance.now() - t0) / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzResult> {
  const t0 = performance.now();
  const seeds = loadCorpus(o.tier, REPO_ROOT);
  const mutantDir = join(o.outDir, 'mutants');
  rmSync(mutantDir, { recursive: true, force: true });
  mkdirSync(mutantDir, { recursive: true });
  const python = o.truth ? findPython() : { missing: 'not asked for (--no-truth)' };
  if ('missing' in python && o.truth) throw new Error(`fuzz: ${python.missing}; or run with --no-truth`);

  o.log(`[fuzz] ${o.count} mutants of ${seeds.length} seeds (tier ${o.tier}, seed ${o.seed}); engines ${o.engines.join(', ')}; ${o.jobs} worker(s) each, ${o.timeoutMs / 1000} s and ${o.heapMb} MiB per mutant`);
  const records: MutantRecord[] = [];
  for (let i = 0; i < o.count; i++) {
    const rng = new Rng(mutantSeed(o.seed, i));
    const seed = pickSeed(seeds, rng);
    const bytes = readFileSync(join(seed.dir, 'model.onnx'));
    const file = join(mutantDir, `m${pad(i)}.onnx`);
    const base = { id: i, file, seed: seed.name, seedDir: seed.dir, feedSeed: mutantSeed(o.seed ^ 0x5eed, i), results: {} };
    const editable = rng.chance(FEED_SHARE) ? editableInputs(seedInputs(seed.dir)) : [];
    if (editable.length > 0) {
      // A hostile input value for an unchanged model: a shape, axis, count or scale that the
      // model reads at run time (or that a specializing session compiles in).
      const r = rng.fork(2);
      const target = r.pick(editable);
      const index = r.int(target.size);
      const value = target.int ? String(r.pick(FEED_INTS)) : String(r.pick(FEED_FLOATS));
      writeFileSync(file, bytes);
      records.push({ ...base, kind: 'feed:value', description: `input ${target.name}[${index}] = ${value}`, feedEdit: { input: target.name, index, value } });
      continue;
    }
    const m = mutate(bytes, rng.fork(1));
    writeFileSync(file, m.bytes);
    records.push({ ...base, kind: m.kind, description: m.description });
  }
  o.log(`[fuzz] mutants written to ${mutantDir} (${elapsed(t0)})`);

  const pools = new Map(o.engines.map((e) => [e, new WorkerPool(e, { size: o.jobs, timeoutMs: o.timeoutMs, heapMb: o.heapMb, recycleAfter: 100 })]));
  let done = 0;
  let nextLog = 0;
  const step = Math.max(1, Math.round(o.count / 20));
  try {
    await Promise.all(records.map(async (r) => {
      await Promise.all(o.engines.map(async (e) => {
        const job = { id: r.id, file: r.file, seedDir: r.seedDir, feedSeed: r.feedSeed, ...(r.feedEdit ? { feedEdit: r.feedEdit } : {}) };
        r.results[e] = await pools.get(e)!.run(job);
      }));
      if (++done >= nextLog || done === o.count) {
        nextLog = done + step;
        const parts = o.engines.map((e) => {
          const s = summarize(records, e);
          return `${e}: error ${s.error} crash ${s.crash} hang ${s.hang} oom ${s.oom}`;
        });
        o.log(`[fuzz] ${done}/${o.count}  ${parts.join('  |  ')}  (${elapsed(t0)})`);
      }
    }));
  } finally {
    await Promise.all([...pools.values()].map((p) => p.close()));
  }

  let checker = 'none (validity not judged)';
  if ('python' in python) {
    const version = onnxVersion(python.python);
    checker = `onnx.checker.check_model(full_check=True), onnx ${version}`;
    o.log(`[fuzz] judging validity with ${checker}`);
    const seedDirs = [...new Set(records.map((r) => r.seedDir))];
    const verdicts = checkFiles(python.python, [...seedDirs.map((d) => join(d, 'model.onnx')), ...records.map((r) => r.file)]);
    for (const r of records) {
      const v = verdicts.get(r.file);
      const seedOk = verdicts.get(join(r.seedDir, 'model.onnx'))?.valid ?? false;
      if (!v) continue;
      // A mutant the checker rejects only because its seed fails the checker too (an opset
      // newer than this onnx knows) says nothing about the mutation.
      r.truth = v.valid ? 'valid' : seedOk && !beyondChecker(v.message) ? 'invalid' : 'unknown';
      r.truthMessage = v.message;
    }
  }

  const interesting = (r: MutantRecord): boolean => o.engines.some((e) => {
    const out = r.results[e]?.result.outcome;
    return out === 'crash' || out === 'hang' || out === 'oom' || (out === 'ran' && r.truth === 'invalid');
  });
  if (!o.keepAll) for (const r of records) if (!interesting(r)) rmSync(r.file, { force: true });
  const report = renderReport({ records, engines: o.engines, seed: o.seed, tier: o.tier, seeds: seeds.length, seconds: (performance.now() - t0) / 1000, checker, outDir: o.outDir });
  const reportFile = join(o.outDir, 'report.md');
  writeFileSync(reportFile, report);
  writeFileSync(join(o.outDir, 'results.json'), `${JSON.stringify(records, null, 1)}\n`);
  o.log(`\n${summaryTable(records, o.engines)}\n\n[fuzz] report: ${reportFile} (${elapsed(t0)})`);
  return { records, report, reportFile };
}

/** The checker's own version limits (an IR version newer than it knows): no verdict on the model. */
function beyondChecker(message: string): boolean {
  return /ir_version is higher than the checker's/.test(message);
}

/** Runs one mutant in this process and prints what happened, with the whole stack of a crash. */
async function repro(file: string, engine: EngineName): Promise<void> {
  const results = join(resolve(file, '..', '..'), 'results.json');
  const rec = existsSync(results) ? (JSON.parse(readFileSync(results, 'utf8')) as MutantRecord[]).find((r) => resolve(r.file) === resolve(file)) : undefined;
  if (rec) console.log(`m${pad(rec.id)}: ${rec.kind} on ${rec.seed}: ${rec.description}`);
  const plan = planFeeds(readFileSync(file), rec ? seedInputs(rec.seedDir) : new Map(), rec?.feedSeed ?? 0);
  const run = await loadEngine(engine);
  const feeds = 'feeds' in plan ? (rec?.feedEdit ? applyFeedEdit(plan.feeds, rec.feedEdit) : plan.feeds) : undefined;
  const r = await run({ file, feeds });
  console.log(JSON.stringify({ ...r, stack: undefined }, null, 1));
  if (r.stack) console.log(r.stack);
}

function int(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} expects a non-negative integer, got "${v}"`);
    return n;
  };
}

async function main(): Promise<void> {
  const program = new Command('fuzz').description('Mutation fuzzer: Tessera and onnxruntime-node on mutated ONNX models');
  program
    .option('--count <n>', 'mutants to make', int('count'), 2400)
    .option('--seed <n>', 'the run seed (same seed, same mutants)', int('seed'), 10)
    .addOption(new Option('--tier <tier>', 'seed models: smoke (small node cases) or full (node suite and models)').choices(['smoke', 'full']).default('full'))
    .option('--engines <list>', 'engines, comma separated', 'tessera,ort')
    .option('--out <dir>', 'where mutants, report.md and results.json go', 'fuzz-out')
    .option('--jobs <n>', 'worker processes per engine', int('jobs'), Math.max(1, Math.floor(cpus().length / 2)))
    .option('--timeout-ms <n>', 'time limit per mutant and engine', int('timeout-ms'), 20_000)
    .option('--heap-mb <n>', 'V8 heap limit of each worker', int('heap-mb'), 2048)
    .option('--no-truth', 'do not judge validity with the onnx checker')
    .option('--keep-all', 'keep every mutant file', false)
    .action(async (opts: { count: number; seed: number; tier: Tier; engines: string; out: string; jobs: number; timeoutMs: number; heapMb: number; truth: boolean; keepAll: boolean }) => {
      const engines = opts.engines.split(',').map((s) => s.trim());
      for (const e of engines) if (!(ENGINES as readonly string[]).includes(e)) throw new Error(`--engines: unknown engine "${e}" (known: ${ENGINES.join(', ')})`);
      const r = await runFuzz({ ...opts, engines: engines as EngineName[], outDir: resolve(opts.out), jobs: Math.max(1, opts.jobs), log: (l) => console.log(l) });
      for (const e of engines.filter((x): x is EngineName => x !== 'ort')) {
        const bad = summarize(r.records, e as EngineName);
        if (bad.crash + bad.hang + bad.oom > 0) process.exitCode = 1;
      }
    });
  program.command('repro <file>').description('run one mutant in this process and print the full error')
    .addOption(new Option('--engine <name>', 'engine').choices([...ENGINES]).default('tessera'))
    .action(async (file: string, opts: { engine: EngineName }) => repro(file, opts.engine));
  await program.parseAsync();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();

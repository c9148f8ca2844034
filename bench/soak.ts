/**
 * `npm run soak`: resource figures over long use (not a test: nothing here is asserted).
 * Each scenario runs in a fresh process (node --expose-gc) and samples, after a forced
 * GC, RSS, heapUsed, external, arrayBuffers, Tessera's live pool workers and the OS
 * threads of the process at the start, every 10% and at the end; it flags growth:
 * RSS or heapUsed at the end more than 20% (and 5 MB) or 50 MB above the warm-up sample
 * (the 10% one), arrayBuffers likewise, unless it levelled off in the second half, and
 * workers or OS threads not back to where they started. Runs also check that the results stay the same as the first run's.
 *
 * Scenarios: runs of one session (mlp, mlp on 2 threads, squeezenet, a dynamic batch
 * cycling its size), create/run/release cycles of a session (compiling each time), and
 * load/run/dispose cycles of a compiled executable (the runtime alone).
 *
 *   npm run soak -- [--scenarios mlp-runs,...] [--quick] [--scale 5]   (--scale multiplies the counts)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Executor, InferenceSession, Tensor, compile } from '../src/index.js';
import { loadTestCase } from '../src/frontend/onnx/testcase.js';
import { liveWorkers } from '../src/runtime/devices/thread_pool.js';

interface Scenario {
  readonly name: string;
  readonly what: string;
  /** Iterations (runs or create/release cycles); `--quick` takes a tenth. */
  readonly count: number;
  /** Sets up and returns one iteration (and what to release at the end). */
  readonly setup: () => Promise<{ step: (i: number) => Promise<void>; end: () => Promise<void> }>;
}

const MLP = join('models', 'mlp_784_512_10');
const SQUEEZENET = join('models', 'squeezenet1_1');
const CNN = join('test', 'data', 'models', 'cnn_dynamic_batch');

/** Runs of one session, each result compared with the first run's. */
function runs(name: string, dir: string, count: number, threads = 1): Scenario {
  return {
    name, what: `${count} runs of ${dir} (wasm, ${threads} thread${threads > 1 ? 's' : ''})`, count,
    setup: async () => {
      const s = await InferenceSession.create(join(dir, 'model.onnx'), { target: 'wasm', threads });
      const feeds = namedFeeds(s, dir);
      const first = JSON.stringify(Array.from((await s.run(feeds))[s.outputNames[0]!]!.data, String));
      return {
        step: async (i) => {
          const r = await s.run(feeds);
          if (i % 100 === 0 && JSON.stringify(Array.from(r[s.outputNames[0]!]!.data, String)) !== first) throw new Error(`run ${i}: the result changed`);
        },
        end: () => s.release(),
      };
    },
  };
}

/** The data set's inputs keyed by the session's input names (in order). */
function namedFeeds(s: InferenceSession, dir: string): Record<string, Tensor> {
  const inputs = loadTestCase(dir).dataSets[0]!.inputs;
  return Object.fromEntries(s.inputNames.map((n, i) => [n, inputs[i]!]));
}

/** A dynamic batch rebinding at every run: batch sizes 1..8 in turn. */
function batchRuns(count: number): Scenario {
  return {
    name: 'cnn-batch-runs', what: `${count} runs of ${CNN} (wasm), batch size cycling 1..8`, count,
    setup: async () => {
      const s = await InferenceSession.create(join(CNN, 'model.onnx'), { target: 'wasm' });
      const feeds = Array.from({ length: 8 }, (_, b) => ({ input: new Tensor('float32', Float32Array.from({ length: (b + 1) * 768 }, (_, i) => Math.sin(i % 768)), [b + 1, 3, 16, 16]) }));
      const first = Array.from((await s.run(feeds[0]!)).logits!.data, String).join();
      return {
        step: async (i) => {
          const r = await s.run(feeds[i % 8]!);
          // Every sample of a batch is the same image: each row equals batch 1's result.
          if (i % 97 === 0 && Array.from(r.logits!.data.subarray(0, 10), String).join() !== first) throw new Error(`run ${i}: the result changed`);
        },
        end: () => s.release(),
      };
    },
  };
}

/** Create, run once, release: each cycle compiles and (with threads) starts and stops workers. */
function cycles(name: string, count: number, threads: number): Scenario {
  return {
    name, what: `${count} create/run/release cycles of ${MLP} (wasm, ${threads} thread${threads > 1 ? 's' : ''})`, count,
    setup: async () => {
      const bytes = readFileSync(join(MLP, 'model.onnx'));
      let feeds: Record<string, Tensor> | undefined;
      let first: string | undefined;
      return {
        step: async (i) => {
          const s = await InferenceSession.create(bytes, { target: 'wasm', threads });
          feeds ??= namedFeeds(s, MLP);
          const out = Array.from((await s.run(feeds))[s.outputNames[0]!]!.data, String).join();
          first ??= out;
          if (out !== first) throw new Error(`cycle ${i}: the result changed`);
          await s.release();
        },
        end: async () => undefined,
      };
    },
  };
}

/** The runtime alone: load a compiled executable, run once, dispose (no compiler in the loop). */
function loadCycles(name: string, count: number, threads: number): Scenario {
  return {
    name, what: `${count} Executor load/run/dispose cycles of ${MLP}, compiled once (wasm, ${threads} thread${threads > 1 ? 's' : ''})`, count,
    setup: async () => {
      const exe = compile(join(MLP, 'model.onnx'), { target: 'wasm', threads }).executable;
      const input = loadTestCase(MLP).dataSets[0]!.inputs[0]!;
      let first: string | undefined;
      return {
        step: async (i) => {
          const ex = await Executor.load(exe, { threads });
          const out = Array.from((await ex.run({ [exe.inputs[0]!.name]: input }))[exe.outputs[0]!.name]!.data, String).join();
          first ??= out;
          if (out !== first) throw new Error(`cycle ${i}: the result changed`);
          await ex.dispose();
        },
        end: async () => undefined,
      };
    },
  };
}

function scenarios(quick: boolean, scale: number): Scenario[] {
  const q = (n: number): number => Math.round((quick ? Math.max(10, n / 10) : n) * scale);
  return [
    runs('mlp-runs', MLP, q(10_000)),
    runs('mlp-runs-2t', MLP, q(10_000), 2),
    runs('squeezenet-runs', SQUEEZENET, q(1_000)),
    batchRuns(q(2_000)),
    cycles('cycles', q(200), 1),
    cycles('cycles-2t', q(200), 2),
    loadCycles('load-cycles', q(1_000), 1),
    loadCycles('load-cycles-2t', q(1_000), 2),
  ];
}

interface Sample {
  readonly at: string;
  readonly iteration: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
  readonly workers: number;
  readonly osThreads: number;
}

/** The process's OS threads (Linux; -1 elsewhere): worker threads show here whatever Tessera believes. */
function osThreads(): number {
  try {
    return Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? -1);
  } catch {
    return -1;
  }
}

async function sample(at: string, iteration: number): Promise<Sample> {
  const gc = (globalThis as { gc?: () => void }).gc;
  // Twice, with a turn between: finalizers and worker exits settle.
  for (let i = 0; i < 2; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 20));
  }
  const m = process.memoryUsage();
  return { at, iteration, rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, workers: liveWorkers().length, osThreads: osThreads() };
}

/** One scenario in this process: JSON samples on stdout. */
async function child(name: string, quick: boolean, scale: number): Promise<void> {
  const sc = scenarios(quick, scale).find((s) => s.name === name);
  if (!sc) throw new Error(`unknown scenario ${name}`);
  const samples: Sample[] = [await sample('start', 0)];
  const t0 = performance.now();
  const { step, end } = await sc.setup();
  for (let i = 0; i < sc.count; i++) {
    await step(i);
    if ((i + 1) % Math.max(1, Math.round(sc.count / 10)) === 0 && i + 1 < sc.count) samples.push(await sample(`${Math.round(((i + 1) / sc.count) * 100)}%`, i + 1));
  }
  samples.push(await sample('100%', sc.count));
  await end();
  samples.push(await sample('end (released, gc)', sc.count));
  process.stdout.write(`${JSON.stringify({ name, what: sc.what, seconds: (performance.now() - t0) / 1000, gc: typeof (globalThis as { gc?: unknown }).gc === 'function', samples })}\n`);
}

const MB = (n: number): string => (n / 2 ** 20).toFixed(1);

/**
 * The growth flags for one scenario's samples, and notes: growth since warm-up past the
 * limits is flagged unless it levelled off (the second half of the run added at most a
 * fifth of it, or 2 MB: an allocator's high-water mark, not a leak), which is noted.
 */
function verdict(samples: readonly Sample[]): { flags: string[]; notes: string[] } {
  const start = samples[0]!;
  const warm = samples[1] ?? start;
  const mid = samples[Math.floor((samples.length - 1) / 2)]!;
  const last = samples[samples.length - 1]!;
  const flags: string[] = [];
  const notes: string[] = [];
  const grew = (what: string, key: 'rss' | 'heapUsed' | 'arrayBuffers'): void => {
    const d = last[key] - warm[key];
    if (!(d > 50 * 2 ** 20 || (d > 5 * 2 ** 20 && d > 0.2 * warm[key]))) return;
    const late = last[key] - mid[key];
    const text = `${what} grew ${MB(d)} MB (${((d / warm[key]) * 100).toFixed(0)}%) since warm-up, ${late >= 0 ? '+' : ''}${MB(late)} MB of it in the second half`;
    if (late <= Math.max(2 * 2 ** 20, 0.2 * d)) notes.push(`${text}: levelled off`);
    else flags.push(text);
  };
  grew('RSS', 'rss');
  grew('heapUsed', 'heapUsed');
  grew('arrayBuffers', 'arrayBuffers');
  if (last.workers !== start.workers) flags.push(`pool workers ${last.workers}, ${start.workers} at the start`);
  if (start.osThreads >= 0 && last.osThreads > start.osThreads) flags.push(`OS threads ${last.osThreads}, ${start.osThreads} at the start`);
  return { flags, notes };
}

function table(r: { name: string; what: string; seconds: number; gc: boolean; samples: Sample[] }): string {
  const head = ['point', 'iteration', 'rss MB', 'heapUsed MB', 'external MB', 'arrayBuffers MB', 'workers', 'OS threads'];
  const rows = r.samples.map((s) => [s.at, String(s.iteration), MB(s.rss), MB(s.heapUsed), MB(s.external), MB(s.arrayBuffers), String(s.workers), String(s.osThreads)]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  const { flags, notes } = verdict(r.samples);
  return [
    `${r.name}: ${r.what} (${r.seconds.toFixed(1)} s${r.gc ? '' : ', no --expose-gc: figures without forced GC'})`,
    line(head), ...rows.map(line),
    ...notes.map((n) => `note: ${n}`),
    flags.length === 0 ? 'no growth flagged' : `FLAGGED: ${flags.join('; ')}`, '',
  ].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const scaleAt = args.indexOf('--scale');
  const scale = scaleAt >= 0 ? Number(args[scaleAt + 1]) : 1;
  const sc = args.indexOf('--scenario');
  if (sc >= 0) return child(args[sc + 1]!, quick, scale);
  const listed = args.indexOf('--scenarios');
  const names = listed >= 0 ? args[listed + 1]!.split(',') : scenarios(quick, scale).map((s) => s.name);
  const self = fileURLToPath(import.meta.url);
  let flagged = 0;
  for (const name of names) {
    const r = spawnSync(process.execPath, ['--expose-gc', self, '--scenario', name, '--scale', String(scale), ...(quick ? ['--quick'] : [])], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.status !== 0 || !line.startsWith('{')) {
      console.log(`${name}: failed (exit ${r.status})\n${r.stderr}`);
      flagged++;
      continue;
    }
    const result = JSON.parse(line) as { name: string; what: string; seconds: number; gc: boolean; samples: Sample[] };
    console.log(table(result));
    if (verdict(result.samples).flags.length > 0) flagged++;
  }
  console.log(flagged === 0 ? 'soak: no scenario flagged' : `soak: ${flagged} scenario(s) flagged`);
  process.exitCode = flagged === 0 ? 0 : 1;
}

if (!existsSync('models')) throw new Error('run from the repository root (npm run soak)');
await main();

#!/usr/bin/env node
/** The `tessera` command: run, check and inspect ONNX models. */
import { TesseraError } from '../runtime/error.js';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { Tensor } from '../runtime/tensor.js';
import { Executor } from '../runtime/executor.js';
import { deserializeExecutable, serializeExecutable } from '../runtime/artifact.js';
import type { Executable } from '../runtime/executable.js';
import { decodeTensor, encodeTensor } from '../frontend/onnx/proto.js';
import { type CompileOptions, type CompileResult, compile } from '../driver.js';
import { TuningDatabase } from '../tune/records.js';
import { type TuneFlags, printSummary, runTune } from './tune.js';
import { DEFAULT_OPT_LEVEL, MAX_OPT_LEVEL } from '../transform/pipeline.js';
import { printGraph } from '../graph/printer.js';
import { printPrimFunc } from '../tir/printer.js';
import { estimateFlops } from '../tir/analysis.js';
import { measure } from '../bench/measure.js';
import { type CaseResult, checkCase } from '../check.js';
import { DEFAULT_TARGET, parseTarget, targetKinds } from '../target/index.js';

/** A model argument may be a model file or a directory holding model.onnx. */
function modelPath(p: string): string {
  if (!existsSync(p)) throw new Error(`no such file or directory: ${p}`);
  return statSync(p).isDirectory() ? join(p, 'model.onnx') : p;
}

function number(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`'${v}' is not a number`);
  return n;
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** A target string, checked as it is parsed (kind and options; `tessera targets` lists them). */
function targetString(v: string): string {
  try {
    return parseTarget(v).toString();
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

const targetOption = (): Option => new Option('-t, --target <target>', `code generation target with options, e.g. "wasm -threads=2" (${targetKinds().map((k) => k.name).join(', ')}; see \`tessera targets\`)`)
  .argParser(targetString).default(DEFAULT_TARGET);

function optLevel(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > MAX_OPT_LEVEL) throw new InvalidArgumentError(`opt level must be 0..${MAX_OPT_LEVEL}`);
  return n;
}

/** Options every compiling command takes. */
function withCompileOptions(cmd: Command): Command {
  return cmd
    .addOption(targetOption())
    .option('-O, --opt-level <n>', `graph optimization level 0..${MAX_OPT_LEVEL}`, optLevel, DEFAULT_OPT_LEVEL)
    .option('--dump-ir <dir>', 'write the graph IR after each pass into DIR')
    .option('--threads <n>', "threads to run kernels on (the target's -threads; wasm)", number)
    .option('--no-fma', 'wasm: no relaxed-SIMD fused multiply-add, even where this engine has it (portable artifacts)')
    .option('--records <file>', 'tuning records (from `tessera tune`): kernels with a record for the target take its best schedule');
}

interface CompileFlags {
  target: string;
  optLevel: number;
  dumpIr?: string;
  threads?: number;
  fma: boolean;
  records?: string;
}

function compileOptions(o: CompileFlags): CompileOptions {
  if (o.records && !existsSync(o.records)) throw new InvalidArgumentError(`--records ${o.records}: no such file (\`tessera tune\` writes one)`);
  return {
    target: o.target, optLevel: o.optLevel, ...(o.threads !== undefined ? { threads: o.threads } : {}),
    ...(o.dumpIr ? { dumpIr: o.dumpIr } : {}), ...(o.fma ? {} : { fma: false }),
    ...(o.records ? { records: TuningDatabase.load(o.records) } : {}),
  };
}

/** What applying tuning records did, on stderr (stdout stays the command's result). */
function reportRecords(r: CompileResult): void {
  if (!r.records) return;
  const { applied, refused } = r.records;
  process.stderr.write(`tuning records: ${applied} of ${r.kernels.length} kernels scheduled by a record${refused.length ? `; ${refused.length} refused, default schedule used:` : ''}\n`);
  for (const why of refused) process.stderr.write(`  ${why}\n`);
}

function fmtBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(2)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}

/** Planned activation memory; a dynamic batch adds its per-sample part. */
function activations(exe: Executable): string {
  return `${fmtBytes(exe.activationBytes)}${exe.batch ? ` + ${fmtBytes(exe.batch.sampleBytes)} per sample of dynamic dim '${exe.batch.dim}'` : ''}`;
}

function summarize(t: Tensor): string {
  const n = Math.min(t.size, 6);
  const head = Array.from(t.data.subarray(0, n) as ArrayLike<number | bigint>, (x) => (typeof x === 'number' ? +x.toPrecision(6) : x)).join(', ');
  let extra = '';
  if (t.type === 'float32' && t.size > 1) {
    let best = 0;
    for (let i = 1; i < t.size; i++) if ((t.data[i] as number) > (t.data[best] as number)) best = i;
    extra = `  argmax=${best}`;
  }
  return `${t.type}[${t.dims.join(', ')}] [${head}${t.size > n ? ', ...' : ''}]${extra}`;
}

const program = new Command();
program.name('tessera').description('Tessera: a deep-learning compiler for ONNX models (`tessera targets` lists the targets)').version('0.1.0');

withCompileOptions(program
  .command('run')
  .description('compile a model and run it once; inputs from ONNX TensorProto files (default: the test_data_set_0 beside the model)')
  .argument('<model>', 'model.onnx (or its directory), or a compiled .tsra artifact')
  .option('-i, --input <NAME=file.pb>', 'an input tensor (repeatable)', collect, [])
  .option('-o, --output-dir <dir>', 'write output_<i>.pb (ONNX TensorProto) in graph-output order'))
  .action(async (modelArg: string, opts: CompileFlags & { input: string[]; outputDir?: string }) => {
    const model = modelPath(modelArg);
    const t0 = performance.now();
    const artifact = model.endsWith('.tsra');
    const compiled = artifact ? undefined : compile(model, compileOptions(opts));
    if (compiled) reportRecords(compiled);
    const executable = compiled ? compiled.executable : deserializeExecutable(readFileSync(model));
    const exec = await Executor.load(executable, { threads: opts.threads });
    const compileMs = performance.now() - t0;
    const feeds: Record<string, Tensor> = {};
    if (opts.input.length > 0) {
      for (const spec of opts.input) {
        const eq = spec.indexOf('=');
        if (eq < 0) throw new InvalidArgumentError(`--input expects NAME=file.pb, got '${spec}'`);
        feeds[spec.slice(0, eq)] = decodeTensor(readFileSync(spec.slice(eq + 1))).tensor;
      }
    } else {
      const ds = join(dirname(resolve(model)), 'test_data_set_0');
      if (!existsSync(ds)) throw new Error(`no --input given and no ${ds} to take inputs from`);
      exec.inputNames.forEach((n, i) => { feeds[n] = decodeTensor(readFileSync(join(ds, `input_${i}.pb`))).tensor; });
      console.log(`inputs: ${ds}`);
    }
    const t1 = performance.now();
    const out = await exec.run(feeds);
    const runMs = performance.now() - t1;
    if (compiled) {
      console.log(`compiled ${compiled.sourceNodes} ONNX nodes into ${compiled.kernels.length} kernels for ${opts.target} in ${compileMs.toFixed(0)} ms; planned activation memory ${activations(executable)}`);
    } else {
      console.log(`loaded ${model} (${executable.target}, ${executable.steps.length} steps) in ${compileMs.toFixed(0)} ms; planned activation memory ${activations(executable)}`);
    }
    console.log(`ran in ${runMs.toFixed(1)} ms`);
    exec.outputNames.forEach((n, i) => {
      console.log(`output ${i} '${n}': ${summarize(out[n]!)}`);
      if (opts.outputDir) {
        mkdirSync(opts.outputDir, { recursive: true });
        writeFileSync(join(opts.outputDir, `output_${i}.pb`), encodeTensor(out[n]!, n));
      }
    });
    if (opts.outputDir) console.log(`wrote ${exec.outputNames.length} output(s) to ${opts.outputDir}`);
  });

withCompileOptions(program
  .command('check')
  .description('compile and run ONNX backend-test case directories, compare against their reference outputs')
  .argument('<case-dir...>', 'directories holding model.onnx and test_data_set_*/')
  .option('--rtol <x>', 'relative tolerance', number, 1e-3)
  .option('--atol <x>', 'absolute tolerance', number, 1e-4)
  .option('--json <file>', 'write the per-case results as JSON'))
  .action(async (dirs: string[], opts: CompileFlags & { rtol: number; atol: number; json?: string }) => {
    const results: CaseResult[] = [];
    for (const dir of dirs) {
      const r = await checkCase(dir, compileOptions(opts), { rtol: opts.rtol, atol: opts.atol });
      results.push(r);
      const compiles = r.compilations !== undefined && r.compilations !== 1 ? `, ${r.compilations} compilations` : '';
      const timing = r.status === 'pass' ? ` (compile ${r.compileMs!.toFixed(0)} ms${compiles}, run ${r.runMs!.toFixed(1)} ms, activations ${fmtBytes(r.activationBytes!)}${r.sampleBytes !== undefined ? ` + ${fmtBytes(r.sampleBytes)} per sample` : ''})` : '';
      console.log(`${r.status.padEnd(5)} ${r.name}${timing}${r.reason ? `: ${r.reason}` : ''}`);
    }
    const passed = results.filter((r) => r.status === 'pass').length;
    if (opts.json) writeFileSync(opts.json, JSON.stringify({ target: opts.target, rtol: opts.rtol, atol: opts.atol, results }, null, 2));
    console.log(`${passed} passed, ${results.length - passed} failed`);
    if (passed !== results.length) process.exitCode = 1;
  });

withCompileOptions(program
  .command('compile')
  .description('compile a model into a .tsra artifact that the runtime loads without the compiler')
  .argument('<model>', 'model.onnx or a directory holding it')
  .requiredOption('-o, --output <file>', 'artifact path (.tsra)'))
  .action((modelArg: string, opts: CompileFlags & { output: string }) => {
    const model = modelPath(modelArg);
    const t0 = performance.now();
    const r = compile(model, compileOptions(opts));
    reportRecords(r);
    const bytes = serializeExecutable(r.executable);
    writeFileSync(opts.output, bytes);
    console.log(`compiled ${r.sourceNodes} ONNX nodes into ${r.kernels.length} ${opts.target} kernels in ${(performance.now() - t0).toFixed(0)} ms`);
    console.log(`wrote ${opts.output} (${fmtBytes(bytes.byteLength)}; planned activations ${activations(r.executable)})`);
  });

withCompileOptions(program
  .command('bench')
  .description('compile a model and time its runs (warm-up by time, median of repeated runs); with --peers, against onnxruntime-node and onnxruntime-web (each configuration in a fresh process, peers alternating)')
  .argument('<model>', 'model.onnx or a directory holding it (inputs from test_data_set_0 when present, else zeros)')
  .option('--runs <n>', 'measured runs', number, 20)
  .option('--warmup-ms <ms>', 'warm-up time', number, 1000)
  .option('--profile', 'also print the median time of each kernel')
  .option('--peers', 'compare with the peers (devDependencies) instead: a table of medians and ratios')
  .option('--passes <n>', 'with --peers: passes over the configurations', number, 3)
  .option('--peer-threads <list>', 'with --peers: thread counts', '1,2'))
  .action(async (modelArg: string, opts: CompileFlags & { runs: number; warmupMs: number; profile?: boolean; peers?: boolean; passes: number; peerThreads: string }) => {
    const model = modelPath(modelArg);
    if (opts.peers) {
      const threads = opts.peerThreads.split(',').map(Number);
      if (threads.some((t) => !Number.isInteger(t) || t < 1)) throw new InvalidArgumentError(`--peer-threads ${opts.peerThreads}: positive integers, comma-separated`);
      const { runSuite } = await import('../bench/suite.js');
      const dir = dirname(resolve(model));
      const lines = runSuite({
        tasks: [{ kind: 'model', name: dir.split(/[\\/]/).pop() ?? 'model', dir, file: resolve(model) }], passes: opts.passes, threads, warmupMs: opts.warmupMs, runs: opts.runs,
        progress: (line) => process.stderr.write(`${line}\n`),
      });
      for (const line of lines) console.log(line);
      return;
    }
    const t0 = performance.now();
    const r = compile(model, compileOptions(opts));
    reportRecords(r);
    const exec = await Executor.load(r.executable, { threads: opts.threads });
    const compileMs = performance.now() - t0;
    const ds = join(dirname(resolve(model)), 'test_data_set_0');
    const feeds: Record<string, Tensor> = {};
    exec.inputs.forEach((slot, i) => {
      const file = join(ds, `input_${i}.pb`);
      feeds[slot.name] = existsSync(file) ? decodeTensor(readFileSync(file)).tensor : Tensor.zeros(slot.dtype, slot.shape);
    });
    const m = await measure(() => exec.run(feeds), { runs: opts.runs, warmupMs: opts.warmupMs });
    const flops = r.kernels.reduce((n, k) => n + estimateFlops(k.func), 0);
    console.log(`model ${model}: ${r.sourceNodes} nodes -> ${r.kernels.length} kernels, target ${opts.target}, opt level ${opts.optLevel}`);
    if (opts.profile) {
      const flopsOf = new Map(r.kernels.map((k) => [k.name, estimateFlops(k.func)]));
      for (const p of await exec.profile(feeds, opts.runs)) {
        const gf = (flopsOf.get(p.kernel) ?? 0) / 1e6 / p.ms;
        console.log(`  ${p.kernel.padEnd(40)} ${p.ms.toFixed(3).padStart(9)} ms ${gf.toFixed(2).padStart(7)} GFLOP/s`);
      }
    }
    console.log(`compile ${compileMs.toFixed(0)} ms; latency median ${m.medianMs.toFixed(2)} ms (min ${m.minMs.toFixed(2)}, ${m.samples.length} runs after ${m.warmupRuns} warm-up); ${(flops / 1e6 / m.medianMs).toFixed(2)} GFLOP/s`);
  });

withCompileOptions(program
  .command('inspect')
  .description('print the optimized graph, its kernels (ops, shapes, FLOPs), the memory plan and where the compile time went')
  .argument('<model>', 'model.onnx or a directory holding it')
  .option('--loops', 'also print each kernel\'s scheduled loop IR')
  .option('--time', 'print only where the compile time went (no graph, no kernel list)')
  .option('--slowest <n>', 'kernels listed as slowest to lower and generate', number, 5))
  .action((modelArg: string, opts: CompileFlags & { loops?: boolean; time?: boolean; slowest: number }) => {
    const model = modelPath(modelArg);
    const t0 = performance.now();
    const r = compile(model, compileOptions(opts));
    reportRecords(r);
    const totalMs = performance.now() - t0;
    const ms = (x: number): string => `${x.toFixed(x < 10 ? 1 : 0)} ms`;
    if (!opts.time) {
      console.log(printGraph(r.graph));
      console.log(`kernels (${opts.target}):`);
      let total = 0;
      r.kernels.forEach((k) => {
        const flops = estimateFlops(k.func);
        total += flops;
        const shapes = k.outputs.map((o) => `${o.type.dtype}[${o.type.shape.join(', ')}]`).join(', ');
        console.log(`  ${k.name.padEnd(40)} ${k.nodes.map((n) => n.op).join('+').padEnd(28)} -> ${shapes.padEnd(26)} ${(flops / 1e6).toFixed(2).padStart(9)} MFLOP`);
        if (opts.loops) console.log(printPrimFunc(k.scheduled).replace(/^/gm, '      '));
      });
      const exe = r.executable;
      const generated = exe.batch ? ' (kernels generated for one sample)' : '';
      console.log(`total ${(total / 1e9).toFixed(3)} GFLOP${exe.batch ? ' per sample' : ''}; constants ${fmtBytes(exe.constants.byteLength)}, planned activations ${activations(exe)}${generated}, workspace ${fmtBytes(exe.workspaceBytes)}`);
    }
    // Where the compile time went: the phases, each graph pass, lowering by step, the slowest kernels.
    const t = r.timings;
    const sum = (f: (k: (typeof r.kernels)[number]) => number | undefined): number => r.kernels.reduce((a, k) => a + (f(k) ?? 0), 0);
    const row = (name: string, x: number, note = ''): void => console.log(`  ${name.padEnd(24)} ${ms(x).padStart(10)}${note ? `   ${note}` : ''}`);
    console.log(`compile time ${ms(totalMs)} (${r.sourceNodes} nodes -> ${r.kernels.length} kernels):`);
    row('import', t['import'] ?? 0);
    row('optimize', t['optimize'] ?? 0);
    for (const p of r.passTimings) row(`  ${p.pass}`, p.ms, `${p.nodesBefore} -> ${p.nodesAfter} nodes`);
    row('lower', t['lower'] ?? 0, `TE ${ms(sum((k) => k.ms.te))}, schedule ${ms(sum((k) => k.ms.schedule))}, loop-IR passes ${ms(sum((k) => k.ms.tir))}`);
    row('codegen', t['codegen'] ?? 0);
    row('plan', t['plan'] ?? 0, `memory plan and constants (${fmtBytes(r.executable.constants.byteLength)})`);
    const made = (k: (typeof r.kernels)[number]): number => k.ms.te + k.ms.schedule + k.ms.tir + (k.ms.codegen ?? 0);
    const slowest = [...r.kernels].sort((a, b) => made(b) - made(a)).slice(0, Math.max(0, opts.slowest));
    if (slowest.length > 0) {
      console.log(`slowest kernels to lower and generate (of ${r.kernels.length}):`);
      for (const k of slowest) {
        const codegen = k.ms.codegen !== undefined ? `, codegen ${ms(k.ms.codegen)}` : '';
        console.log(`  ${k.name.padEnd(40)} ${ms(made(k)).padStart(10)}   TE ${ms(k.ms.te)}, schedule ${ms(k.ms.schedule)} (${k.trace.length} steps), loop IR ${ms(k.ms.tir)}${codegen}`);
      }
    }
  });

withCompileOptions(program
  .command('tune')
  .description('search schedules for the model\'s kernels (measured here, each checked against the default schedule\'s outputs) and append the measurements to a records file that compile/run/bench --records apply')
  .argument('<model>', 'model.onnx or a directory holding it')
  .option('--trials <n>', 'measured candidates in all, over all kernels', number, 1000)
  .option('--time-limit <s>', 'stop after this many seconds', number)
  .option('--batch <n>', 'candidates per round of one kernel', number, 8)
  .option('--seed <n>', 'random seed of the search', number, 1)
  .addOption(new Option('--search <kind>', 'how candidates are picked: ranked by the learned cost model, or at random (the ablation)').choices(['model', 'random']).default('model'))
  .option('--measure-ms <ms>', 'time each measurement\'s runs fill', number, 40))
  .action(async (modelArg: string, opts: CompileFlags & TuneFlags & { records?: string }) => {
    if (!opts.records) throw new InvalidArgumentError('tune needs --records FILE: where the measurements go (appended; created if missing)');
    if (!(opts.trials >= 1)) throw new InvalidArgumentError('--trials must be at least 1');
    const { records: _r, ...compileFlags } = opts;
    const r = await runTune(modelPath(modelArg), compileOptions(compileFlags), { ...opts, records: opts.records });
    printSummary(r, (line) => console.log(line));
    console.log(`records: ${opts.records}`);
    if (r.stopped === 'interrupted') process.exitCode = 130;
  });

program
  .command('targets')
  .description('list the code generation targets, their options and what this host resolves them to')
  .action(() => {
    for (const k of targetKinds()) {
      console.log(`${k.name.padEnd(8)} ${k.description}`);
      for (const o of k.options) {
        const form = o.type === 'bool' ? `-[no-]${o.name}` : `-${o.name}=N`;
        console.log(`  ${form.padEnd(16)} ${o.doc}`);
      }
      console.log(`  here: "${parseTarget(k.name).toString()}"`);
    }
  });

program.parseAsync().catch((e: unknown) => {
  // A TesseraError is about the input and says what and where; anything else is a bug in Tessera.
  if (e instanceof TesseraError) console.error(`tessera: ${e.message}`);
  else console.error(`tessera: internal error (a bug in Tessera; please report it with the model):\n${e instanceof Error ? e.stack : String(e)}`);
  process.exitCode = 2;
});

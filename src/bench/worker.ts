/**
 * One benchmark configuration in a fresh process (thread pools are set once per
 * process): `node dist/bench/worker.js '<WorkerConfig JSON>'` prints one WorkerResult
 * JSON line. Every peer runs the same inputs: the model's test_data_set_0 (or zeros),
 * or seeded random matrices.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { measure } from './measure.js';
import { compile } from '../driver.js';
import { Executor } from '../runtime/executor.js';
import { Tensor } from '../runtime/tensor.js';
import type { TypedArray } from '../runtime/dtype.js';
import { decodeTensor } from '../frontend/onnx/proto.js';
import { makeModel } from '../frontend/onnx/model_builder.js';
import { estimateFlops } from '../tir/analysis.js';
import { ModuleBuilder } from '../codegen/wasm/encoder.js';
import { relaxedSimdSupported } from '../target/index.js';
import { type WorkerConfig, type WorkerResult, peerMissing } from './tasks.js';
import { TuningDatabase } from '../tune/records.js';

interface Input { name: string; tensor: Tensor }

function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  });
}

/** The model bytes and inputs of a task. */
function modelOf(cfg: WorkerConfig): { bytes: Uint8Array; modelDir?: string; inputs: Input[]; flops?: number } {
  const t = cfg.task;
  if (t.kind === 'matmul') {
    const n = t.n;
    const bytes = makeModel({
      nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['c'] }],
      inputs: [{ name: 'a', dtype: 'float32', shape: [n, n] }],
      outputs: [{ name: 'c', dtype: 'float32', shape: [n, n] }],
      initializers: { b: new Tensor('float32', seeded(n * n, 2), [n, n]) },
    });
    return { bytes, inputs: [{ name: 'a', tensor: new Tensor('float32', seeded(n * n, 1), [n, n]) }], flops: 2 * n ** 3 };
  }
  if (t.kind === 'conv') {
    const pad = (t.k - 1) >> 1;
    const out = Math.floor((t.hw + 2 * pad - t.k) / t.stride) + 1;
    const bytes = makeModel({
      nodes: [{ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { kernel_shape: [t.k, t.k], strides: [t.stride, t.stride], pads: [pad, pad, pad, pad], group: t.groups } }],
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, t.ci, t.hw, t.hw] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, t.co, out, out] }],
      initializers: {
        w: new Tensor('float32', seeded(t.co * (t.ci / t.groups) * t.k * t.k, 2), [t.co, t.ci / t.groups, t.k, t.k]),
        b: new Tensor('float32', seeded(t.co, 3), [t.co]),
      },
    });
    return { bytes, inputs: [{ name: 'x', tensor: new Tensor('float32', seeded(t.ci * t.hw * t.hw, 1), [1, t.ci, t.hw, t.hw]) }] };
  }
  if (t.kind === 'gemm') {
    const a = [...(t.batch ? [t.batch] : []), t.m, t.k];
    const b = [...(t.batch ? [t.batch] : []), t.k, t.n];
    const size = (d: number[]): number => d.reduce((x, y) => x * y, 1);
    const bytes = makeModel({
      nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['c'] }],
      inputs: [{ name: 'a', dtype: 'float32', shape: a }, ...(t.batch ? [{ name: 'b', dtype: 'float32' as const, shape: b }] : [])],
      outputs: [{ name: 'c', dtype: 'float32', shape: [...(t.batch ? [t.batch] : []), t.m, t.n] }],
      ...(t.batch ? {} : { initializers: { b: new Tensor('float32', seeded(size(b), 2), b) } }),
    });
    const inputs = [{ name: 'a', tensor: new Tensor('float32', seeded(size(a), 1), a) }];
    if (t.batch) inputs.push({ name: 'b', tensor: new Tensor('float32', seeded(size(b), 2), b) });
    return { bytes, inputs };
  }
  if (t.kind !== 'model') throw new Error('not a model task');
  const bytes = readFileSync(t.file ?? join(t.dir, 'model.onnx'));
  const ds = join(t.dir, 'test_data_set_0');
  const inputs: Input[] = [];
  for (let i = 0; existsSync(join(ds, `input_${i}.pb`)); i++) {
    const { name, tensor } = decodeTensor(readFileSync(join(ds, `input_${i}.pb`)));
    inputs.push({ name, tensor });
  }
  return { bytes, modelDir: t.dir, inputs };
}

async function runTessera(cfg: WorkerConfig, target: 'wasm' | 'js', records?: TuningDatabase): Promise<WorkerResult> {
  const base = { peer: cfg.peer, task: cfg.task.name, threads: cfg.threads };
  if (cfg.task.kind === 'simd-peak') return simdPeak(cfg);
  if (cfg.threads > 1 && target === 'js') return { ...base, skipped: 'the js target runs on one thread' };
  const m = modelOf(cfg);
  const r = compile(m.bytes, { target, threads: cfg.threads, ...(m.modelDir ? { modelDir: m.modelDir } : {}), ...(records ? { records } : {}) });
  const exec = await Executor.load(r.executable, { threads: cfg.threads });
  const feeds: Record<string, Tensor> = {};
  exec.inputNames.forEach((n, i) => { feeds[n] = m.inputs[i]?.tensor ?? Tensor.zeros(exec.inputs[i]!.dtype, exec.inputs[i]!.shape); });
  const res = await measure(() => exec.run(feeds), cfg);
  const flops = m.flops ?? r.kernels.reduce((s, k) => s + estimateFlops(k.func), 0);
  if (cfg.task.kind !== 'conv' && cfg.task.kind !== 'gemm') return { ...base, medianMs: res.medianMs, flops };
  // The op's own kernel: the one with the most flops (layout changes around it do none).
  const heaviest = r.kernels.reduce((a, k) => (estimateFlops(k.func) > estimateFlops(a.func) ? k : a));
  const prof = (await exec.profile(feeds, Math.max(cfg.runs, 5))).find((p) => p.kernel === heaviest.name)!;
  return { ...base, medianMs: res.medianMs, flops, kernelMs: prof.ms, kernelFlops: estimateFlops(heaviest.func) };
}

async function runOrt(cfg: WorkerConfig, kind: 'node' | 'web'): Promise<WorkerResult> {
  const base = { peer: cfg.peer, task: cfg.task.name, threads: cfg.threads };
  const m = modelOf(cfg);
  type OrtTensor = unknown;
  interface OrtSession { run(feeds: Record<string, OrtTensor>): Promise<unknown>; inputNames: readonly string[] }
  interface OrtModule {
    Tensor: new (type: string, data: TypedArray, dims: readonly number[]) => OrtTensor;
    InferenceSession: { create(bytes: Uint8Array, opts: Record<string, unknown>): Promise<OrtSession> };
    env: { wasm: { numThreads?: number; simd?: boolean } };
  }
  let ort: OrtModule;
  let opts: Record<string, unknown>;
  const pkg = kind === 'node' ? 'onnxruntime-node' : 'onnxruntime-web';
  const missing = peerMissing(pkg);
  if (missing) return { ...base, skipped: missing };
  if (kind === 'node') {
    ort = (await import('onnxruntime-node')) as unknown as OrtModule;
    opts = { intraOpNumThreads: cfg.threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' };
  } else {
    ort = (await import('onnxruntime-web')) as unknown as OrtModule;
    ort.env.wasm.numThreads = cfg.threads;
    opts = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
  }
  const session = await ort.InferenceSession.create(m.bytes, opts);
  const feeds: Record<string, OrtTensor> = {};
  session.inputNames.forEach((n, i) => {
    const t = m.inputs[i]!.tensor;
    feeds[n] = new ort.Tensor(t.type, t.data, t.dims);
  });
  const res = await measure(() => session.run(feeds), cfg);
  return { ...base, medianMs: res.medianMs, ...(m.flops ? { flops: m.flops } : {}) };
}

async function runJax(cfg: WorkerConfig): Promise<WorkerResult> {
  const base = { peer: cfg.peer, task: cfg.task.name, threads: cfg.threads };
  if (cfg.task.kind !== 'matmul') return { ...base, skipped: 'jax-js runs only the matmul microbenchmark' };
  if (cfg.threads !== 1) return { ...base, skipped: 'jax-js wasm backend is single-threaded' };
  const missing = peerMissing('@jax-js/jax');
  if (missing) return { ...base, skipped: missing };
  const jax = await import('@jax-js/jax');
  await jax.init('wasm');
  jax.defaultDevice('wasm');
  const n = cfg.task.n;
  const a = jax.numpy.array(seeded(n * n, 1)).reshape([n, n]);
  const b = jax.numpy.array(seeded(n * n, 2)).reshape([n, n]);
  const f = jax.jit((x: typeof a, y: typeof a) => jax.numpy.matmul(x, y));
  const res = await measure(async () => {
    const c = f(a.ref, b.ref);
    await c.blockUntilReady();
    c.dispose();
  }, cfg);
  return { ...base, medianMs: res.medianMs, flops: 2 * n ** 3 };
}

/**
 * The machine's SIMD128 f32 peak: 16 independent f32x4 multiply-add chains held in
 * locals (no memory traffic), with relaxed-SIMD FMA when `fma` (and supported).
 */
async function simdPeak(cfg: WorkerConfig): Promise<WorkerResult> {
  const base = { peer: cfg.peer, task: cfg.task.name, threads: cfg.threads };
  if (cfg.task.kind !== 'simd-peak') throw new Error('not a simd task');
  const fma = cfg.task.fma;
  if (fma && !relaxedSimdSupported()) return { ...base, skipped: 'relaxed SIMD is not available in this engine' };
  // Independent multiply-add chains; too few leave the units idle (latency-bound), too many
  // spill registers. The peak is the best over several counts.
  const iters = 2_000_000;
  let best: { medianMs: number; flops: number } | undefined;
  for (const chains of [8, 10, 12, 14, 16]) {
    const mod = new ModuleBuilder();
    const fn = mod.addFunction(['i32'], ['f32'], (f) => {
      const accs = Array.from({ length: chains }, () => f.addLocal('v128'));
      const m = f.addLocal('v128');
      const a = f.addLocal('v128');
      f.f32Const(0.999).op('f32x4.splat').localSet(m);
      f.f32Const(0.001).op('f32x4.splat').localSet(a);
      f.loop();
      for (const acc of accs) {
        if (fma) f.localGet(acc).localGet(m).localGet(a).op('f32x4.relaxed_madd').localSet(acc);
        else f.localGet(acc).localGet(m).op('f32x4.mul').localGet(a).op('f32x4.add').localSet(acc);
      }
      f.localGet(0).i32Const(1).op('i32.sub').localTee(0).brIf(0);
      f.end();
      f.localGet(accs[0]!);
      for (const acc of accs.slice(1)) f.localGet(acc).op('f32x4.add');
      f.laneOp('f32x4.extract_lane', 0);
    });
    mod.exportFunction('peak', fn);
    const inst = await WebAssembly.instantiate(await WebAssembly.compile(mod.build() as Uint8Array<ArrayBuffer>));
    const peak = inst.exports.peak as (iters: number) => number;
    const res = await measure(() => peak(iters), cfg);
    const flops = iters * chains * 4 * 2;
    if (!best || flops / res.medianMs > best.flops / best.medianMs) best = { medianMs: res.medianMs, flops };
  }
  return { ...base, ...best! };
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
  let r: WorkerResult;
  switch (cfg.peer) {
    case 'tessera-wasm': r = await runTessera(cfg, 'wasm'); break;
    case 'tessera-js': r = await runTessera(cfg, 'js'); break;
    case 'tessera-tuned': r = await runTessera(cfg, 'wasm', TuningDatabase.loadAll(cfg.records ?? [])); break;
    case 'ort-node': r = await runOrt(cfg, 'node'); break;
    case 'ort-web': r = await runOrt(cfg, 'web'); break;
    case 'jax-js': r = await runJax(cfg); break;
    default: throw new Error(`unknown peer ${String(cfg.peer)}`);
  }
  process.stdout.write(JSON.stringify(r) + '\n');
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : String(e));
  process.exit(1);
});

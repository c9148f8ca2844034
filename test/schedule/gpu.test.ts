/**
 * GPU loop IR: bind and set_scope, barrier insertion and the GPU checks. A GPU-scheduled
 * kernel still runs on the CPU codegens (thread loops one after another, barriers as
 * sequence points), which checks that the schedule computes what the function did.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compute, placeholder, reduceAxis, sum, type Tensor as TeTensor } from '../../src/te/tensor.js';
import { createPrimFunc } from '../../src/te/lower.js';
import { Schedule, ScheduleError } from '../../src/schedule/schedule.js';
import { lowerForCodegen } from '../../src/tir/transform/pipeline.js';
import { insertBarriers } from '../../src/tir/transform/barriers.js';
import { VerifyGpuError, verifyGpu } from '../../src/tir/transform/verify_gpu.js';
import { float, max, mul } from '../../src/ir/expr.js';
import { defaultSchedule } from '../../src/schedule/default.js';
import { type PrimFunc, type Stmt, barrier, mapStmt, seq, visitStmt } from '../../src/tir/stmt.js';
import { printPrimFunc } from '../../src/tir/printer.js';
import { type Target, parseTarget } from '../../src/target/index.js';
import { runJsKernel, runWasmKernel } from '../helpers/run_op.js';

const M = 16, N = 16, K = 16;

function matmul(): PrimFunc {
  const A = placeholder([M, K], 'float32', 'A');
  const B = placeholder([K, N], 'float32', 'B');
  const k = reduceAxis(K, 'k');
  const C = compute([M, N], (i, j) => sum(mul(A.at(i, k.var), B.at(k.var, j)), [k]), 'C');
  return createPrimFunc('mm', [A, B] as TeTensor[], [C]);
}

/** A GPU-shaped target for the checks (the limits WebGPU guarantees every adapter). */
const GPU: Target = {
  ...parseTarget('wasm -no-fma'), kind: 'test-gpu', keys: ['gpu'],
  memoryScopes: new Set(['global', 'shared', 'local']),
  gpu: { maxThreadsPerWorkgroup: 256, maxWorkgroupSize: [256, 256, 64], maxWorkgroupsPerDimension: 65535, maxWorkgroupStorageBytes: 16384 },
};

/**
 * The classic shared-memory matmul: 8x8 output tiles per workgroup (blockIdx.y, .x), one
 * output per invocation (threadIdx.y, .x), K in steps of 8 with the A and B tiles of each
 * step copied to shared memory by all 64 invocations together.
 */
function gpuSchedule(opts: { bindCopies?: boolean } = {}): Schedule {
  const sch = new Schedule(matmul());
  const [by, ty] = sch.split('C_ax0', [-1, 8]);
  const [bx, tx] = sch.split('C_ax1', [-1, 8]);
  const [ko, ki] = sch.split('C_r0', [-1, 8]);
  sch.reorder(by!, bx!, ko!, ty!, tx!, ki!);
  sch.bind(by!, 'blockIdx.y');
  sch.bind(bx!, 'blockIdx.x');
  sch.bind(ty!, 'threadIdx.y');
  sch.bind(tx!, 'threadIdx.x');
  for (const buf of ['A', 'B']) {
    sch.cacheRead(ko!, buf);
    sch.setScope(`${buf}_cache`, 'shared');
    if (opts.bindCopies !== false) {
      sch.bind(`${buf}_cache_ax0`, 'threadIdx.y');
      sch.bind(`${buf}_cache_ax1`, 'threadIdx.x');
    }
  }
  return sch;
}

function inputs(): [Float32Array, Float32Array] {
  let s = 11;
  const r = (): number => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff - 0.5;
  };
  return [Float32Array.from({ length: M * K }, r), Float32Array.from({ length: K * N }, r)];
}

function reference(): Float32Array {
  const [a, b] = inputs();
  const c = new Float32Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let acc = 0;
    for (let k = 0; k < K; k++) acc += a[i * K + k]! * b[k * N + j]!;
    c[i * N + j] = acc;
  }
  return c;
}

const count = (s: Stmt, kind: Stmt['kind']): number => {
  let n = 0;
  visitStmt(s, (x) => { if (x.kind === kind) n++; });
  return n;
};

test('a shared-memory GPU matmul schedule verifies, gets its barriers, and computes the matmul', async () => {
  const sch = gpuSchedule();
  const f = insertBarriers(sch.func);
  const text = printPrimFunc(f);
  assert.match(text, /thread_binding\['blockIdx\.y'\]\(2\)/);
  assert.match(text, /A_cache = alloc_shared\(float32, \[8, 8\]\)/);
  // One barrier after the two copies (the products read them), one ending each K step (the next copies overwrite them).
  assert.equal(count(f.body, 'barrier'), 2, text);
  const launch = verifyGpu(f, GPU);
  assert.deepEqual(launch, { grid: [2, 2, 1], workgroup: [8, 8, 1], sharedBytes: 2 * 8 * 8 * 4 });
  const want = reference();
  const low = lowerForCodegen(f);
  for (const target of ['js', 'wasm'] as const) {
    const [a, b] = inputs();
    const c = new Float32Array(M * N);
    if (target === 'js') runJsKernel(low, [a, b, c]);
    else await runWasmKernel(low, [a, b, c]);
    c.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) <= 1e-5 * (1 + Math.abs(want[i]!)), `${target}: C[${i}] = ${v}, want ${want[i]}`));
  }
  // The trace replays to the same function.
  const again = new Schedule(matmul());
  again.replay(JSON.parse(JSON.stringify(sch.trace)));
  assert.equal(printPrimFunc(again.func).replace(/_\d+\b/g, ''), printPrimFunc(sch.func).replace(/_\d+\b/g, ''));
});

test('bind refuses reductions, an axis bound twice on a path, thread axes outside block axes, and non-serial loops', () => {
  const fresh = (): { sch: Schedule; l: string[] } => {
    const sch = new Schedule(matmul());
    const [by, ty] = sch.split('C_ax0', [-1, 8]);
    const [bx, tx] = sch.split('C_ax1', [-1, 8]);
    return { sch, l: [by!, ty!, bx!, tx!] };
  };
  const refuses = (f: (sch: Schedule, l: string[]) => void, re: RegExp): void => {
    const { sch, l } = fresh();
    assert.throws(() => f(sch, l), (e: unknown) => e instanceof ScheduleError && re.test((e as Error).message), re.source);
  };
  refuses((sch) => sch.bind('C_r0', 'threadIdx.x'), /binds reduce iterator k of block C; threads would race on its accumulator/);
  refuses((sch, [by, ty]) => { sch.bind(by!, 'threadIdx.x'); sch.bind(ty!, 'threadIdx.x'); }, /around loop C_ax0_1 is already bound to threadIdx\.x/);
  refuses((sch, [by, ty]) => { sch.bind(ty!, 'blockIdx.x'); sch.bind(by!, 'blockIdx.x'); }, /inside loop C_ax0_0 is already bound to blockIdx\.x/);
  refuses((sch, [by, ty]) => { sch.bind(by!, 'threadIdx.y'); sch.bind(ty!, 'blockIdx.x'); }, /workgroup axes \(blockIdx\) must enclose invocation axes/);
  refuses((sch, [by, ty]) => { sch.bind(ty!, 'blockIdx.x'); sch.bind(by!, 'threadIdx.y'); }, /encloses loop C_ax0_1 \(bound to blockIdx\.x\)/);
  refuses((sch, [, , , tx]) => { sch.vectorize('C_r0'); sch.bind(tx!, 'threadIdx.x'); sch.bind('C_r0', 'threadIdx.y'); }, /loop C_r0 is vectorized; only a serial loop can be bound/);
  refuses((sch, [by]) => { sch.bind(by!, 'blockIdx.y'); sch.bind(by!, 'blockIdx.x'); }, /already bound to blockIdx\.y/);
  refuses((sch, [by]) => { sch.bind(by!, 'blockIdx.y'); sch.split(by!, [-1, 1]); }, /is bound to blockIdx\.y; split it before binding/);
  refuses((sch, [by]) => { sch.bind(by!, 'blockIdx.y'); sch.unroll(by!); }, /is bound to blockIdx\.y; a bound loop keeps its binding/);
  refuses((sch, [by]) => sch.bind(by!, 'warpIdx.x' as never), /unknown thread axis 'warpIdx\.x'/);
});

test('set_scope refuses parameters and unknown buffers, and moves every access of a scratch buffer', () => {
  const sch = gpuSchedule();
  assert.throws(() => sch.setScope('A', 'shared'), /buffer A is a parameter of the function/);
  assert.throws(() => sch.setScope('Z_cache', 'shared'), /no scratch buffer named Z_cache/);
  assert.throws(() => sch.setScope('A_cache', 'texture' as never), /unknown memory scope 'texture'/);
  const scopes = new Set<string>();
  visitStmt(sch.func.body, (s) => {
    if (s.kind === 'store' && s.buffer.name === 'A_cache') scopes.add(s.buffer.scope);
    if (s.kind === 'block') for (const b of [...s.reads, ...s.writes]) if (b.name === 'A_cache') scopes.add(b.scope);
  });
  assert.deepEqual([...scopes], ['shared'], 'the block reads/writes and the stores name the shared buffer');
});

test("verifyGpu refuses what the device cannot run, naming the kernel and the fix", () => {
  const f = insertBarriers(gpuSchedule().func);
  const refuses = (g: PrimFunc, t: Target, re: RegExp): void => {
    assert.throws(() => verifyGpu(g, t), (e: unknown) => e instanceof VerifyGpuError && /^kernel mm cannot run on the GPU: /.test((e as Error).message) && re.test((e as Error).message), re.source);
  };
  const limits = GPU.gpu!;
  refuses(f, { ...GPU, gpu: { ...limits, maxThreadsPerWorkgroup: 32 } }, /its workgroup has 64 invocations \(8 x 8 x 1\); the device allows 32/);
  refuses(f, { ...GPU, gpu: { ...limits, maxWorkgroupSize: [4, 256, 64] } }, /threadIdx\.x has extent 8; the device allows 4/);
  refuses(f, { ...GPU, gpu: { ...limits, maxWorkgroupsPerDimension: 1 } }, /blockIdx\.x has extent 2; the device allows 1/);
  refuses(f, { ...GPU, gpu: { ...limits, maxWorkgroupStorageBytes: 256 } }, /its shared buffers take 512 bytes; the device's workgroup storage is 256 bytes/);
  refuses(f, { ...GPU, memoryScopes: new Set(['global', 'local']) }, /buffer [AB]_cache is in scope 'shared', which target 'test-gpu' does not have/);
  refuses(f, parseTarget('wasm'), /target 'wasm' is not a GPU target/);
  assert.deepEqual(verifyGpu(matmul(), GPU), { grid: [1, 1, 1], workgroup: [1, 1, 1], sharedBytes: 0 }, 'a kernel that binds no loop runs as one invocation');
  refuses(insertBarriers(gpuSchedule({ bindCopies: false }).func), GPU, /a store to [AB]_cache is outside the loops bound to threadIdx\.y, threadIdx\.x; it would run once per invocation/);
  // A barrier moved into a thread loop.
  const inThread = mapStmt(f.body, (s) => (s.kind === 'for' && s.thread === 'threadIdx.x' ? { ...s, body: seq([barrier, s.body]) } : undefined));
  refuses({ ...f, body: inThread }, GPU, /a barrier inside a threadIdx loop would not be reached by every invocation/);
  // Two extents for one axis.
  const sch = new Schedule(matmul());
  const [by, ty] = sch.split('C_ax0', [-1, 8]);
  const [bx, tx] = sch.split('C_ax1', [-1, 4]);
  sch.reorder(by!, bx!, ty!, tx!);
  sch.bind(by!, 'blockIdx.y');
  sch.bind(bx!, 'blockIdx.x');
  sch.bind(ty!, 'threadIdx.y');
  sch.bind(tx!, 'threadIdx.x');
  sch.decomposeReduction('C', ty!);
  const init = sch.func;
  assert.equal(verifyGpu(init, GPU).workgroup.join(), '4,8,1', 'decompose_reduction binds the init nest to the same thread axes');
  refuses({ ...init, body: mapStmt(init.body, (s) => (s.kind === 'for' && s.thread === 'threadIdx.x' && s.loopVar.name.endsWith('_init') ? { ...s, extent: 2 } : undefined)) }, GPU,
    /loops C_ax1_1_init and C_ax1_1 are both bound to threadIdx\.x with extents 2 and 4; one axis has one extent per kernel/);
  // A kernel's intermediate in global memory: invocations of other loops would race on it.
  const scratch = new Schedule(matmul());
  const [sy, sty] = scratch.split('C_ax0', [-1, 8]);
  scratch.bind(sy!, 'blockIdx.x');
  scratch.bind(sty!, 'threadIdx.x');
  scratch.cacheRead(sty!, 'A');
  assert.throws(() => verifyGpu(scratch.func, GPU), /scratch buffer A_cache is in global memory; a kernel's intermediates on a GPU live in shared or local memory \(set_scope\)/);
});

test("the default GPU schedule: register tiles for a matmul with its epilogue, workgroups over the outputs, checked and computed", async () => {
  const webgpu = parseTarget('webgpu');
  const [m, n, kk] = [256, 256, 16];
  const A = placeholder([m, kk], 'float32', 'A');
  const B = placeholder([kk, n], 'float32', 'B');
  const k = reduceAxis(kk, 'k');
  const C = compute([m, n], (i, j) => sum(mul(A.at(i, k.var), B.at(k.var, j)), [k]), 'C');
  const D = compute([m, n], (i, j) => max(C.at(i, j), float(0)), 'D');
  const sch = defaultSchedule(createPrimFunc('mm', [A, B] as TeTensor[], [D]), webgpu);
  const text = printPrimFunc(sch.func);
  assert.match(text, /C_local = alloc_local\(float32, \[4, 4\]\)/, text);
  assert.ok(!/block D\(/.test(text), 'the ReLU is folded into the write-back');
  const low = lowerForCodegen(sch.func);
  // 65,536 outputs in 4x4 tiles: 4,096 invocations, 16 workgroups of 256.
  assert.deepEqual(verifyGpu(low, webgpu), { grid: [16, 1, 1], workgroup: [256, 1, 1], sharedBytes: 0 });
  let s = 5;
  const r = (): number => { s = (s * 1103515245 + 12345) & 0x7fffffff; return s / 0x7fffffff - 0.5; };
  const a = Float32Array.from({ length: m * kk }, r);
  const b = Float32Array.from({ length: kk * n }, r);
  const d = new Float32Array(m * n);
  runJsKernel(low, [a, b, d]);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let acc = 0;
    for (let q = 0; q < kk; q++) acc += a[i * kk + q]! * b[q * n + j]!;
    const want = Math.max(acc, 0);
    assert.ok(Math.abs(d[i * n + j]! - want) <= 1e-5 * (1 + Math.abs(want)), `D[${i}, ${j}] = ${d[i * n + j]}, want ${want}`);
  }
  // Few outputs keep one per invocation (the GPU needs thousands of invocations), still fused.
  const small = printPrimFunc(defaultSchedule(matmulRelu16(), webgpu).func);
  assert.match(small, /C_local = alloc_local\(float32, \[1, 1\]\)/, small);
  assert.ok(!/block D\(/.test(small), small);
});

function matmulRelu16(): PrimFunc {
  const A = placeholder([M, K], 'float32', 'A');
  const B = placeholder([K, N], 'float32', 'B');
  const k = reduceAxis(K, 'k');
  const C = compute([M, N], (i, j) => sum(mul(A.at(i, k.var), B.at(k.var, j)), [k]), 'C');
  const D = compute([M, N], (i, j) => max(C.at(i, j), float(0)), 'D');
  return createPrimFunc('mm', [A, B] as TeTensor[], [D]);
}

test('the default GPU schedule: a full reduction runs as one invocation; a huge grid spills into blockIdx.y', () => {
  const webgpu = parseTarget('webgpu');
  const x = placeholder([1000], 'float32', 'x');
  const r = reduceAxis(1000, 'r');
  const total = compute([1], () => sum(x.at(r.var), [r]), 'total');
  const one = lowerForCodegen(defaultSchedule(createPrimFunc('sum', [x] as TeTensor[], [total]), webgpu).func);
  assert.deepEqual(verifyGpu(one, webgpu), { grid: [1, 1, 1], workgroup: [1, 1, 1], sharedBytes: 0 });
  // 2^25 outputs: 131,072 workgroups of 256, more than one dimension's 65,535.
  const big = placeholder([1 << 25], 'float32', 'big');
  const y = compute([1 << 25], (i) => mul(big.at(i), float(2)), 'y');
  const launch = verifyGpu(lowerForCodegen(defaultSchedule(createPrimFunc('scale', [big] as TeTensor[], [y]), webgpu).func), webgpu);
  assert.deepEqual(launch.workgroup, [256, 1, 1]);
  assert.equal(launch.grid[0] * launch.grid[1], 131072);
  assert.ok(launch.grid[0] <= 65535 && launch.grid[1] > 1, launch.grid.join());
});

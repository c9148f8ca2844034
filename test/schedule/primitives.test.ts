/** Every schedule primitive preserves results on random inputs and refuses illegal rewrites. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Schedule, ScheduleError } from '../../src/schedule/schedule.js';
import { relayout } from '../../src/schedule/layout_prims.js';
import { lowerForCodegen } from '../../src/tir/transform/pipeline.js';
import type { PrimFunc } from '../../src/tir/stmt.js';
import { printPrimFunc } from '../../src/tir/printer.js';
import { runJsKernel, runWasmKernel } from '../helpers/run_op.js';
import { K, M, N, copiedMatmulRelu, matmulRelu } from '../helpers/kernels.js';


function inputs(): [Float32Array, Float32Array] {
  let s = 7;
  const r = (): number => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff - 0.5;
  };
  return [Float32Array.from({ length: M * K }, r), Float32Array.from({ length: K * N }, r)];
}

const reference = (() => {
  const [a, b] = inputs();
  const d = new Float32Array(M * N);
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let acc = 0;
    for (let kk = 0; kk < K; kk++) acc += a[i * K + kk]! * b[kk * N + j]!;
    d[i * N + j] = Math.max(acc + 1, 0);
  }
  return d;
})();

/** Runs a (scheduled) function on both targets and checks it against the reference. */
async function check(f: PrimFunc, what: string): Promise<void> {
  const low = lowerForCodegen(f);
  for (const target of ['js', 'wasm'] as const) {
    const [a, b] = inputs();
    const d = new Float32Array(M * N);
    if (target === 'js') runJsKernel(low, [a, b, d]);
    else await runWasmKernel(low, [a, b, d]);
    d.forEach((v, i) => assert.ok(Math.abs(v - reference[i]!) <= 1e-5 * (1 + Math.abs(reference[i]!)), `${what} on ${target}: D[${i}] = ${v}, want ${reference[i]}`));
  }
}

test('split, reorder, vectorize, unroll and parallel preserve results; the trace replays', async () => {
  const sch = new Schedule(matmulRelu());
  const [io, ii] = sch.split('C_ax0', [-1, 4]);
  const [jo, ji] = sch.split('C_ax1', [4, 4]);
  assert.deepEqual([io, ii, jo, ji], ['C_ax0_0', 'C_ax0_1', 'C_ax1_0', 'C_ax1_1']);
  sch.reorder(io!, jo!, 'C_r0', ii!, ji!);
  sch.unroll(ii!);
  sch.vectorize(ji!);
  sch.parallel(io!);
  assert.deepEqual(sch.getLoops('C').map((l) => `${l.loopVar.name}:${l.extent}:${l.forKind}`),
    ['C_ax0_0:2:parallel', 'C_ax1_0:4:serial', 'C_r0:12:serial', 'C_ax0_1:4:unrolled', 'C_ax1_1:4:vectorized']);
  await check(sch.func, 'loop primitives');
  const again = new Schedule(matmulRelu());
  again.replay(JSON.parse(JSON.stringify(sch.trace)));
  assert.equal(printPrimFunc(again.func), printPrimFunc(sch.func));
});

test('cache_write, decompose_reduction and reverse_compute_inline build a register tile with a fused epilogue', async () => {
  const sch = new Schedule(matmulRelu());
  const [jo, ji] = sch.split('C_ax1', [-1, 4]);
  sch.reorder('C_ax0', jo!, 'C_r0', ji!);
  const wb = sch.cacheWrite('C', jo!);
  assert.equal(wb, 'C_wb');
  await check(sch.func, 'cache_write');
  sch.decomposeReduction('C', 'C_r0');
  sch.vectorize(ji!);
  sch.vectorize(`${ji}_init`);
  await check(sch.func, 'decompose_reduction');
  sch.reverseComputeInline('D');
  assert.deepEqual(sch.blockNames(), ['C_init', 'C', 'C_wb']);
  assert.match(printPrimFunc(sch.func), /C_local = alloc_local\(float32, \[1, 4\]\)/);
  await check(sch.func, 'reverse_compute_inline');
});

test('rfactor splits a reduction into partial results that vectorize, and the result is unchanged', async () => {
  const sch = new Schedule(matmulRelu());
  const rf = sch.rfactor('C', 'C_r0', 4);
  assert.equal(rf, 'C_rf');
  assert.deepEqual(sch.blockNames(), ['C_rf', 'C', 'D']);
  // The partials are a spatial iterator of the rf block; k = ko * 4 + l.
  assert.deepEqual(sch.getBlock('C_rf').iterVars.map((iv) => `${iv.extent}${iv.type[0]}`), ['8s', '16s', '4s', '3r']);
  assert.deepEqual(sch.getBlock('C').iterVars.map((iv) => `${iv.extent}${iv.type[0]}`), ['8s', '16s', '4r']);
  await check(sch.func, 'rfactor');
  const loops = sch.getLoops('C_rf').map((l) => l.loopVar.name);
  sch.reorder(...loops.slice(0, 2), loops[3]!, loops[2]!);
  sch.vectorize(loops[2]!);
  await check(sch.func, 'rfactor, partials vectorized');
  const again = new Schedule(matmulRelu());
  again.replay(JSON.parse(JSON.stringify(sch.trace)));
  assert.equal(printPrimFunc(again.func), printPrimFunc(sch.func));
});

test('fuse and tile reshape loop nests and preserve results; the trace replays', async () => {
  const sch = new Schedule(matmulRelu());
  const fused = sch.fuse('D_ax0', 'D_ax1');
  assert.equal(fused, 'D_ax0_D_ax1');
  assert.deepEqual(sch.getLoops('D').map((l) => `${l.loopVar.name}:${l.extent}`), ['D_ax0_D_ax1:128']);
  sch.parallel(fused);
  const tiles = sch.tile('C_ax0', 'C_ax1', [4, 8]);
  assert.deepEqual(sch.getLoops('C').map((l) => `${l.loopVar.name}:${l.extent}`), ['C_ax0_0:2', 'C_ax1_0:2', 'C_ax0_1:4', 'C_ax1_1:8', 'C_r0:12']);
  assert.deepEqual(tiles, ['C_ax0_0', 'C_ax1_0', 'C_ax0_1', 'C_ax1_1']);
  await check(sch.func, 'fuse + tile');
  const again = new Schedule(matmulRelu());
  again.replay(JSON.parse(JSON.stringify(sch.trace)));
  assert.equal(printPrimFunc(again.func), printPrimFunc(sch.func));
});

test('cache_read copies the region a loop body reads; compute_at computes a producer per iteration', async () => {
  const sch = new Schedule(copiedMatmulRelu());
  const [io, jo] = sch.tile('C_ax0', 'C_ax1', [2, 4]);
  // Per (io, jo) tile, C reads rows 2io..2io+1 of E and columns 4jo..4jo+3 of B.
  const copy = sch.cacheRead(jo!, 'B');
  assert.equal(copy, 'B_cache');
  assert.match(printPrimFunc(sch.func), /B_cache = alloc_global\(float32, \[12, 4\]\)/);
  await check(sch.func, 'cache_read');
  sch.computeAt('E', io!);
  // E is now computed two rows at a time inside the row-tile loop.
  assert.deepEqual(sch.getLoops('E').map((l) => `${l.loopVar.name}:${l.extent}`), ['C_ax0_0:4', 'E_at0:2', 'E_at1:12']);
  await check(sch.func, 'compute_at');
  const again = new Schedule(copiedMatmulRelu());
  again.replay(JSON.parse(JSON.stringify(sch.trace)));
  assert.equal(printPrimFunc(again.func), printPrimFunc(sch.func));
});

test('primitives refuse what would change results', () => {
  const fresh = (): Schedule => new Schedule(matmulRelu());
  const refuses = (f: (s: Schedule) => unknown, re: RegExp): void => {
    const s = fresh();
    assert.throws(() => f(s), (e: unknown) => e instanceof ScheduleError && re.test(e.message));
    assert.deepEqual(s.trace, [], 'a refused primitive leaves no trace');
  };
  refuses((s) => s.split('C_ax1', [5, -1]), /do not divide loop C_ax1 of extent 16 exactly/);
  refuses((s) => s.reorder('C_ax0', 'D_ax0'), /not one perfect nest|not nested/);
  refuses((s) => s.vectorize('C_ax0'), /loop C_ax0 is not innermost/);
  refuses((s) => s.cacheWrite('D', 'D_ax0'), /expects a reduction block/);
  refuses((s) => s.cacheWrite('C', 'D_ax0'), /loop D_ax0 does not enclose block C/);
  refuses((s) => s.reverseComputeInline('D'), /its producer C is a reduction/);
  refuses((s) => s.decomposeReduction('D', 'D_ax0'), /block D: it has no init/);
  refuses((s) => s.computeInline('C'), /block C: it is a reduction/);
  refuses((s) => s.split('nope', [2, 2]), /no loop named nope/);
  refuses((s) => s.rfactor('C', 'C_r0', 5), /extent 12 of C_r0 is not divisible by 5/);
  refuses((s) => s.rfactor('C', 'C_ax0', 2), /loop C_ax0 binds a spatial iterator/);
  refuses((s) => s.rfactor('D', 'D_ax0', 2), /block D: it is not a reduction/);
  refuses((s) => s.fuse('C_ax0', 'C_r0'), /loop C_r0 is not the whole body of loop C_ax0/);
  const vec = fresh();
  vec.vectorize('D_ax1');
  assert.throws(() => vec.fuse('D_ax0', 'D_ax1'), (e: unknown) => e instanceof ScheduleError && /loop D_ax1 is vectorized; only serial loops fuse/.test(e.message));
  assert.equal(vec.trace.length, 1, 'the refused fuse left no trace');
  refuses((s) => s.tile('C_ax0', 'C_ax1', [3, 4]), /do not divide loop C_ax0 of extent 8 exactly/);
  refuses((s) => s.cacheRead('C_ax0', 'C'), /no block under loop C_ax0 reads a buffer named C|buffer C is written inside loop C_ax0/);
  refuses((s) => s.computeAt('C', 'D_ax0'), /block C is a reduction/);
  const cp = (): Schedule => new Schedule(copiedMatmulRelu());
  const refusesCp = (f: (s: Schedule) => unknown, re: RegExp): void => {
    const s = cp();
    assert.throws(() => f(s), (e: unknown) => e instanceof ScheduleError && re.test(e.message));
  };
  refusesCp((s) => s.computeAt('E', 'D_ax0'), /buffer E is read outside loop D_ax0/);
});

test('transform_layout re-lays a parameter (its caller passes relayout data) and a scratch buffer out in blocks', async () => {
  const sch = new Schedule(copiedMatmulRelu());
  // B[K, N] as 4-column panels B[N/4, K, 4] (the NK16n idea at width 4); E[M, K] as E[K/4, M, 4].
  const panels = { splits: [{ axis: 1, factor: 4 }], order: [1, 0, 2] };
  sch.transformLayout('B', panels);
  sch.transformLayout('E', { splits: [{ axis: 1, factor: 4 }], order: [1, 0, 2] });
  assert.deepEqual(sch.func.params.map((p) => `${p.name}[${p.shape.join(', ')}]`), ['A[8, 12]', 'B[4, 12, 4]', 'D[8, 16]']);
  assert.match(printPrimFunc(sch.func), /E = alloc_global\(float32, \[3, 8, 4\]\)/);
  // Later primitives compose with it: the panel's 4 columns become the vector lanes.
  const [, lanes] = sch.split('C_ax1', [-1, 4]);
  sch.reorder('C_ax0', 'C_ax1_0', 'C_r0', lanes!);
  const low = lowerForCodegen(sch.func);
  for (const target of ['js', 'wasm'] as const) {
    const [a, b] = inputs();
    const bp = relayout(b, [K, N], panels, (n) => new Float32Array(n));
    assert.notDeepEqual([...bp], [...b]);
    const d = new Float32Array(M * N);
    if (target === 'js') runJsKernel(low, [a, bp, d]);
    else await runWasmKernel(low, [a, bp, d]);
    d.forEach((v, i) => assert.ok(Math.abs(v - reference[i]!) <= 1e-5 * (1 + Math.abs(reference[i]!)), `transform_layout on ${target}: D[${i}] = ${v}, want ${reference[i]}`));
  }
  const again = new Schedule(copiedMatmulRelu());
  again.replay(JSON.parse(JSON.stringify(sch.trace)));
  assert.equal(printPrimFunc(again.func), printPrimFunc(sch.func));
  // relayout is the map on host data: OHWI4o of a [8, 3, 2, 2] weight puts w[o, i, y, x] at [o/4, y, x, i, o%4].
  const w = Float32Array.from({ length: 96 }, (_, i) => i);
  const blocked = relayout(w, [8, 3, 2, 2], { splits: [{ axis: 0, factor: 4 }], order: [0, 2, 3, 1, 4] }, (n) => new Float32Array(n));
  const at = (o: number, i: number, y: number, x: number): number => ((((Math.floor(o / 4) * 2 + y) * 2 + x) * 3 + i) * 4) + (o % 4);
  for (let o = 0; o < 8; o++) for (let i = 0; i < 3; i++) for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) {
    assert.equal(blocked[at(o, i, y, x)], w[((o * 3 + i) * 2 + y) * 2 + x]);
  }
});

test('transform_layout refuses maps that do not fit the buffer', () => {
  const refuses = (f: (s: Schedule) => unknown, re: RegExp): void => {
    const s = new Schedule(copiedMatmulRelu());
    assert.throws(() => f(s), (e: unknown) => e instanceof ScheduleError && re.test(e.message));
    assert.deepEqual(s.trace, []);
  };
  refuses((s) => s.transformLayout('B', { splits: [{ axis: 1, factor: 5 }], order: [1, 0, 2] }), /factor 5 does not divide axis 1 of extent 16/);
  refuses((s) => s.transformLayout('B', { splits: [{ axis: 2, factor: 4 }], order: [0, 1, 2] }), /split axis 2 is not an axis of \[12, 16\]/);
  refuses((s) => s.transformLayout('B', { splits: [{ axis: 1, factor: 4 }], order: [1, 1, 2] }), /order \[1, 1, 2\] is not a permutation of the 3 axes/);
  refuses((s) => s.transformLayout('Q', { splits: [], order: [0, 1] }), /no parameter or allocation named Q/);
  const tiled = new Schedule(copiedMatmulRelu());
  tiled.cacheWrite('C', 'C_ax0');
  assert.throws(() => tiled.transformLayout('C_local', { splits: [], order: [1, 0] }), (e: unknown) => e instanceof ScheduleError && /buffer C_local is a local tile/.test(e.message));
  assert.equal(tiled.trace.length, 1, 'the refused transform_layout left no trace');
});

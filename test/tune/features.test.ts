/** Loop-IR features: fixed length, deterministic, and moving as schedules change the loops. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compute, placeholder, reduceAxis, sum, type Tensor as TeTensor } from '../../src/te/tensor.js';
import { createPrimFunc } from '../../src/te/lower.js';
import { Schedule } from '../../src/schedule/schedule.js';
import { cpuSchedule } from '../../src/schedule/cpu.js';
import { parseTarget } from '../../src/target/index.js';
import { estimateFlops } from '../../src/tir/analysis.js';
import { type Expr, add, and, call, float, ge, int, lt, max, mul, select, sub } from '../../src/ir/expr.js';
import type { PrimFunc } from '../../src/tir/stmt.js';
import { FEATURE_NAMES, NUM_FEATURES, analyzeFunc, extractFeatures, featureIndex, featuresOf } from '../../src/tune/features.js';

const wasm = parseTarget('wasm');

function matmul(n = 64): PrimFunc {
  const A = placeholder([n, n], 'float32', 'A');
  const B = placeholder([n, n], 'float32', 'B');
  const k = reduceAxis(n, 'k');
  const C = compute([n, n], (i, j) => sum(mul(A.at(i, k.var), B.at(k.var, j)), [k]), 'C');
  return createPrimFunc('mm', [A, B] as TeTensor[], [C]);
}

/** A padded 3x3 convolution with a ReLU (a padding stage, a reduction, an epilogue). */
function conv(): PrimFunc {
  const C = 8, H = 14, W = 14, O = 8;
  const X = placeholder([1, C, H, W], 'float32', 'X');
  const Wt = placeholder([O, C, 3, 3], 'float32', 'W');
  const inside = (h: Expr, w: Expr): Expr => and(and(ge(h, int(1)), lt(h, int(H + 1))), and(ge(w, int(1)), lt(w, int(W + 1))));
  const P = compute([1, C, H + 2, W + 2], (n, c, h, w) => select(inside(h, w), X.at(n, c, sub(h, int(1)), sub(w, int(1))), float(0)), 'P');
  const rc = reduceAxis(C, 'rc'), rh = reduceAxis(3, 'rh'), rw = reduceAxis(3, 'rw');
  const Y = compute([1, O, H, W], (n, o, h, w) => sum(mul(P.at(n, rc.var, add(h, rh.var), add(w, rw.var)), Wt.at(o, rc.var, rh.var, rw.var)), [rc, rh, rw]), 'Y');
  const R = compute([1, O, H, W], (n, o, h, w) => max(Y.at(n, o, h, w), float(0)), 'R');
  return createPrimFunc('conv', [X, Wt] as TeTensor[], [R]);
}

function elementwise(): PrimFunc {
  const A = placeholder([64, 64], 'float32', 'A');
  const B = placeholder([64, 64], 'float32', 'B');
  const C = compute([64, 64], (i, j) => add(call('exp', [A.at(i, j)]), B.at(i, j)), 'C');
  return createPrimFunc('ew', [A, B] as TeTensor[], [C]);
}

const get = (v: Float64Array, name: string): number => v[featureIndex(name)]!;
const log = (x: number): number => Math.log2(1 + x);

test('the vector has one value per name, finite, names unique', () => {
  assert.equal(new Set(FEATURE_NAMES).size, FEATURE_NAMES.length);
  assert.equal(NUM_FEATURES, FEATURE_NAMES.length);
  for (const f of [matmul(), cpuSchedule(matmul(), wasm).func, conv(), cpuSchedule(conv(), wasm).func, elementwise()]) {
    const v = extractFeatures(f);
    assert.equal(v.length, NUM_FEATURES);
    assert.ok(v.every(Number.isFinite), `non-finite features in ${f.name}`);
  }
  assert.throws(() => featureIndex('nope'), /no feature named nope/);
});

test('flops equal estimateFlops, scheduled or not', () => {
  for (const f of [matmul(), cpuSchedule(matmul(), wasm).func, conv(), cpuSchedule(conv(), wasm).func, elementwise(), cpuSchedule(elementwise(), wasm).func]) {
    const flops = estimateFlops(f);
    assert.ok(flops > 0);
    assert.equal(analyzeFunc(f).flops, flops, f.name);
    assert.equal(get(extractFeatures(f), 'flops'), log(flops), f.name);
  }
  // 64³ multiply-adds; one exp and one add per element.
  assert.equal(analyzeFunc(matmul()).flops, 2 * 64 ** 3);
  const ew = extractFeatures(elementwise());
  assert.equal(get(ew, 'float_math'), log(64 * 64));
  assert.equal(get(ew, 'float_addsub'), log(64 * 64));
});

test('the same schedule gives the same features, whatever the variable ids', () => {
  const a = extractFeatures(cpuSchedule(conv(), wasm).func);
  const b = extractFeatures(cpuSchedule(conv(), wasm).func);
  assert.deepEqual(a, b);
  const f = matmul();
  assert.deepEqual(extractFeatures(f), extractFeatures(f));
});

test('vectorizing raises the vector-lanes features', () => {
  const plain = new Schedule(elementwise());
  plain.split('C_ax1', [-1, 4]);
  const vec = new Schedule(elementwise());
  const [, inner] = vec.split('C_ax1', [-1, 4]);
  vec.vectorize(inner!);
  const p = extractFeatures(plain.func), v = extractFeatures(vec.func);
  assert.equal(get(p, 'dom_vector_lanes'), log(1));
  assert.equal(get(v, 'dom_vector_lanes'), log(4));
  assert.equal(get(p, 'dom_inner_vectorized'), 0);
  assert.equal(get(v, 'dom_inner_vectorized'), 1);
  assert.equal(get(v, 'frac_vectorized'), 1);
  assert.equal(get(v, 'dom_vector_friendly'), 1, 'contiguous loads and store along the lanes');
  // The same loops otherwise: the arithmetic and the footprints do not move.
  for (const name of ['flops', 'dom_trips', 'dom_fp_1', 'dom_fp_all', 'traffic_32k']) assert.equal(get(v, name), get(p, name), name);

  // Vector lanes along the rows of a row-major buffer: strided, not vector friendly.
  const rows = new Schedule(elementwise());
  rows.reorder('C_ax1', 'C_ax0');
  const [, ri] = rows.split('C_ax0', [-1, 4]);
  rows.vectorize(ri!);
  const r = extractFeatures(rows.func);
  assert.equal(get(r, 'dom_vector_lanes'), log(4));
  assert.equal(get(r, 'dom_vector_friendly'), 0);
  assert.equal(get(r, 'w_contiguous'), 0);
  assert.equal(get(r, 'w_stride'), log(64));
});

test('loop order: the innermost stride and reuse of each buffer of a matmul', () => {
  // i, j, k: A[i, k] contiguous along k, B[k, j] strided by a row, C[i, j] invariant (reused 64 times).
  const ijk = extractFeatures(matmul());
  assert.equal(get(ijk, 'w_invariant'), 1);
  assert.equal(get(ijk, 'w_reuse_count'), log(64));
  assert.equal(get(ijk, 'w_reuse_iters'), log(1), 'the next iteration of k reuses it');
  assert.equal(get(ijk, 'r0_contiguous'), 1); // A (the slots tie on bytes: order of appearance)
  assert.equal(get(ijk, 'r1_stride'), log(64)); // B
  assert.equal(get(ijk, 'r1_contiguous'), 0);
  // B is reused only across i: after all 64 × 64 iterations of j and k.
  assert.equal(get(ijk, 'r1_reuse_count'), log(64));
  assert.equal(get(ijk, 'r1_reuse_iters'), log(64 * 64));
  assert.equal(get(ijk, 'r1_reuse_bytes'), log(64 * 64 * 4 + 2 * 64 * 4), 'all of B, a row of A and of C under the j, k loops');
  assert.equal(get(ijk, 'r2_unique_bytes'), 0, 'no fourth buffer');
  // i, k, j: B and C contiguous along j, A invariant.
  const sch = new Schedule(matmul());
  sch.reorder('C_ax0', 'C_r0', 'C_ax1');
  const ikj = extractFeatures(sch.func);
  assert.equal(get(ikj, 'w_contiguous'), 1);
  assert.equal(get(ikj, 'r0_invariant'), 1);
  assert.equal(get(ikj, 'r1_contiguous'), 1);
  assert.equal(get(ikj, 'frac_inner_contiguous'), 1);
  assert.ok(get(ijk, 'frac_inner_contiguous') < 1);
  // Walking B by rows touches fewer cache lines in the innermost loop than by columns.
  assert.ok(get(ikj, 'dom_fp_1') < get(ijk, 'dom_fp_1'));
  assert.ok(get(ikj, 'traffic_1k') < get(ijk, 'traffic_1k'));
});

test('a tiled matmul touches fewer bytes at the inner loop levels than the naive one', () => {
  const n = 256;
  const naive = extractFeatures(matmul(n));
  const sch = new Schedule(matmul(n));
  const [io, ii] = sch.split('C_ax0', [-1, 8]);
  const [jo, ji] = sch.split('C_ax1', [-1, 16]);
  const [ko, ki] = sch.split('C_r0', [-1, 16]);
  sch.reorder(io!, jo!, ko!, ii!, ki!, ji!);
  const tiled = extractFeatures(sch.func);
  assert.equal(get(tiled, 'flops'), get(naive, 'flops'));
  for (const name of ['dom_fp_1', 'dom_fp_2', 'dom_fp_3']) {
    assert.ok(get(tiled, name) < get(naive, name), `${name}: tiled ${get(tiled, name)} vs naive ${get(naive, name)}`);
  }
  // Less traffic for a 32 KiB cache, and more flops per byte moved.
  assert.ok(get(tiled, 'traffic_32k') < get(naive, 'traffic_32k'));
  assert.ok(get(tiled, 'ai_32k') > get(naive, 'ai_32k'));
  // The whole nest touches the same data either way.
  assert.equal(get(tiled, 'compulsory_bytes'), get(naive, 'compulsory_bytes'));
  const footprint = analyzeFunc(sch.func).stores.find((s) => s.ops.flops > 0)!.footprint;
  // Innermost (j of 16): a row of 16 of B and of C, one element of A: three 64-byte lines.
  assert.equal(footprint[footprint.length - 2], 3 * 64);
});

test('the CPU schedule: register tile in local memory, parallel outer loop, unrolled and vector loops', () => {
  const naive = extractFeatures(matmul());
  const cpu = extractFeatures(cpuSchedule(matmul(), wasm).func);
  assert.equal(get(naive, 'w_local'), 0);
  assert.equal(get(cpu, 'w_local'), 1, 'the tile accumulates in C_local');
  assert.ok(get(cpu, 'local_alloc_bytes') > 0);
  assert.ok(get(cpu, 'local_accesses') > 0);
  assert.equal(get(naive, 'local_accesses'), 0);
  assert.ok(get(cpu, 'dom_parallel') > 1);
  assert.ok(get(cpu, 'dom_unroll') > 1);
  assert.equal(get(cpu, 'dom_vector_lanes'), log(4));
  assert.equal(get(cpu, 'frac_parallel'), 1);
  assert.ok(get(cpu, 'static_stores') > get(naive, 'static_stores'), 'a decomposed init and a write-back');
  // The tile is indexed by unrolled and vector loops only (it can live in registers), and its
  // straight-line body does more multiply-adds per byte loaded than the naive loop's.
  assert.equal(get(cpu, 'dom_local_regs'), 1);
  assert.equal(get(naive, 'dom_local_regs'), 0);
  assert.equal(get(cpu, 'frac_local_regs'), 1);
  assert.equal(get(cpu, 'dom_body_iters'), log(2 * 16), 'rows 2 (unrolled) × columns 4 (unrolled) × 4 lanes');
  assert.equal(get(naive, 'dom_body_iters'), log(1));
  assert.ok(get(cpu, 'dom_body_ai') > get(naive, 'dom_body_ai'));
  // The same tile left as serial loops is not register-indexed.
  const serial = new Schedule(matmul());
  const [jo] = serial.split('C_ax1', [-1, 4]);
  serial.reorder('C_ax0', jo!, 'C_r0', 'C_ax1_1');
  serial.cacheWrite('C', jo!);
  assert.equal(get(extractFeatures(serial.func), 'dom_local_regs'), 0);
  // Global stores: once per output element for the tile, once per multiply-add for the naive loop.
  assert.equal(get(cpu, 'store_bytes'), log(64 * 64 * 4));
  assert.equal(get(naive, 'store_bytes'), log(64 ** 3 * 4 + 64 * 64 * 4));
});

test('fused loops (floordiv/floormod indices) are analyzed by evaluation', () => {
  const sch = new Schedule(elementwise());
  sch.fuse('C_ax0', 'C_ax1');
  const fused = extractFeatures(sch.func);
  const plain = extractFeatures(elementwise());
  assert.equal(get(fused, 'w_contiguous'), 1, 'the fused index steps by one element');
  assert.equal(get(fused, 'frac_inner_contiguous'), 1);
  // The whole nest covers each buffer exactly.
  for (const name of ['w_unique_bytes', 'r0_unique_bytes', 'r1_unique_bytes', 'compulsory_bytes']) assert.equal(get(fused, name), get(plain, name), name);
  assert.equal(get(fused, 'w_unique_bytes'), log(64 * 64 * 4));
  // A loop of extent 1 inside the non-affine indices changes nothing.
  const unit = new Schedule(elementwise());
  const f = unit.fuse('C_ax0', 'C_ax1');
  unit.split(f, [-1, 1]);
  assert.deepEqual(extractFeatures(unit.func), fused);
});

test('a conv: padding stage, reduction and epilogue stores; the reduction dominates', () => {
  const a = analyzeFunc(conv());
  assert.equal(a.stores.length, 4, 'P, the init and update of Y, R');
  assert.equal(a.blocks, 3);
  assert.equal(a.topNests, 3);
  const init = a.stores[1]!;
  assert.equal(init.trips, 8 * 14 * 14, 'an undecomposed init runs once per output');
  const v = featuresOf(a);
  assert.ok(get(v, 'dom_share') > 0.5);
  assert.equal(get(v, 'dom_trips'), log(8 * 14 * 14 * 8 * 9));
  assert.ok(get(v, 'float_select_cmp') > 0, 'the padding select');
  assert.ok(get(v, 'scratch_alloc_bytes') > 0, 'P and Y in scratch buffers');
});

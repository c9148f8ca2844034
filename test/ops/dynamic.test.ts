/**
 * Data-dependent-shape operators (src/ops/dynamic.ts: NonZero, Unique,
 * NonMaxSuppression) against naive references, through the real compiler path on both
 * targets (runOp: TE → loop IR → default schedule → JS codegen; runOpWasm: the same
 * PrimFunc through the wasm codegen), plus their ONNX converters
 * (src/frontend/onnx/ops/dynamic.ts): constant data, graph inputs bound by the
 * InferenceSession, and the errors.
 *
 * The `count` attribute (the data-dependent dim) comes from the host helpers the
 * converters use; the references below compute the full outputs independently
 * (numpy's nonzero/unique, onnxruntime's greedy NMS ported in float32 steps), and
 * every output is compared exactly (all outputs are integers or copied values).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runOp, inferOp, runOpWasm, runModel as runModelOn } from '../helpers/run_op.js';
import { rng } from '../helpers/random.js';
import { size } from '../helpers/shape.js';
import { assertOpError, expectNodeError } from '../helpers/assert.js';
import { makeModel, type ValueSpec } from '../helpers/onnx_model.js';
import { Tensor } from '../../src/runtime/tensor.js';
import type { DType } from '../../src/runtime/dtype.js';
import type { Attrs } from '../../src/graph/ir.js';
import { nmsCount, nonzeroCount, uniqueCount } from '../../src/ops/dynamic.js';
import { importOnnx, InputValueNeeded } from '../../src/frontend/onnx/importer.js';
import { InferenceSession } from '../../src/api.js';
import { f32ToF16 } from '../../src/runtime/math.js';

const runModel = (bytes: Uint8Array, feeds: Record<string, Tensor>, target: string): Promise<Record<string, Tensor>> => runModelOn(bytes, feeds, target, true);

const numbers = (t: Tensor): number[] => Array.from(t.data as ArrayLike<number | bigint>, Number);
const f32t = (values: number[], dims: number[]): Tensor => new Tensor('float32', Float32Array.from(values), dims);

/** Random small integers in [0, k) as a tensor of `dtype` (duplicates and zeros likely). */
function randInts(dims: number[], k: number, seed: number, dtype: DType = 'float32'): Tensor {
  const r = rng(seed);
  const vals = Array.from({ length: size(dims) }, () => Math.floor(r(0, k)));
  if (dtype === 'int64') return new Tensor(dtype, vals.map(BigInt), dims);
  return new Tensor(dtype, vals, dims);
}

/** Runs the op on both targets; checks they agree exactly and returns the js outputs. */
async function runBothTargets(op: string, inputs: readonly Tensor[], attrs: Attrs): Promise<Tensor[]> {
  const js = runOp(op, inputs, attrs);
  const wasm = await runOpWasm(op, inputs, attrs);
  js.forEach((t, i) => {
    assert.deepEqual(wasm[i]!.dims, t.dims, `output ${i}: wasm shape`);
    assert.deepEqual(numbers(wasm[i]!), numbers(t), `output ${i}: wasm vs js`);
  });
  return js;
}

function sameValues(got: number[], want: number[], what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  got.forEach((g, i) => assert.ok(Object.is(g, want[i]) || (Number.isNaN(g) && Number.isNaN(want[i]!)) || g === want[i], `${what}[${i}]: got ${g}, want ${want[i]}`));
}

const vs = (name: string, dtype: DType, shape: (number | string)[]): ValueSpec => ({ name, dtype, shape });

// ------------------------------------------------------------------ references

/** numpy.nonzero, stacked: [rank, count] (a scalar counts as shape [1]). */
function refNonZero(vals: readonly number[], dims: readonly number[]): number[][] {
  const shape = dims.length === 0 ? [1] : dims;
  const rows: number[][] = shape.map(() => []);
  vals.forEach((v, p) => {
    if (v === 0) return;
    let rem = p;
    for (let d = shape.length - 1; d >= 0; d--) {
      rows[d]!.push(rem % shape[d]!);
      rem = Math.floor(rem / shape[d]!);
    }
  });
  return rows;
}

interface UniqueRef { y: number[]; yDims: number[]; indices: number[]; inverse: number[]; counts: number[] }

/** numpy.unique(x, axis, return_index, return_inverse, return_counts) (sorted), or first-occurrence order. */
function refUnique(vals: readonly number[], dims: readonly number[], axis: number | undefined, sorted: boolean): UniqueRef {
  // Slices as value lists.
  let slices: number[][];
  if (axis === undefined) {
    slices = vals.map((v) => [v]);
  } else {
    const n = dims[axis]!;
    const outer = size(dims.slice(0, axis));
    const inner = size(dims.slice(axis + 1));
    slices = Array.from({ length: n }, (_, i) => {
      const s: number[] = [];
      for (let o = 0; o < outer; o++) for (let k = 0; k < inner; k++) s.push(vals[(o * n + i) * inner + k]!);
      return s;
    });
  }
  const eqv = (a: number, b: number): boolean => a === b || (Number.isNaN(a) && Number.isNaN(b));
  const sameSlice = (a: number[], b: number[]): boolean => a.every((v, i) => eqv(v, b[i]!));
  const cmpVal = (a: number, b: number): number => (eqv(a, b) ? 0 : Number.isNaN(a) ? 1 : Number.isNaN(b) ? -1 : a < b ? -1 : 1);
  const cmpSlice = (a: number[], b: number[]): number => {
    for (let i = 0; i < a.length; i++) {
      const c = cmpVal(a[i]!, b[i]!);
      if (c !== 0) return c;
    }
    return 0;
  };
  const firsts: number[] = [];
  slices.forEach((s, i) => { if (!firsts.some((f) => sameSlice(slices[f]!, s))) firsts.push(i); });
  if (sorted) firsts.sort((a, b) => cmpSlice(slices[a]!, slices[b]!));
  const inverse = slices.map((s) => firsts.findIndex((f) => sameSlice(slices[f]!, s)));
  const counts = firsts.map((_, k) => inverse.filter((v) => v === k).length);
  let y: number[];
  let yDims: number[];
  if (axis === undefined) {
    y = firsts.map((f) => vals[f]!);
    yDims = [firsts.length];
  } else {
    yDims = dims.map((d, i) => (i === axis ? firsts.length : d));
    const outer = size(dims.slice(0, axis));
    const inner = size(dims.slice(axis + 1));
    y = [];
    for (let o = 0; o < outer; o++) for (const f of firsts) for (let k = 0; k < inner; k++) y.push(vals[(o * dims[axis]! + f) * inner + k]!);
  }
  return { y, yDims, indices: firsts, inverse, counts };
}

/** onnxruntime's NonMaxSuppression (float32 steps): rows [batch, class, box]. */
function refNms(boxes: Tensor, scores: Tensor, center: boolean, maxOut: number, iouThr: number, scoreThr?: number): number[][] {
  const f = Math.fround;
  const [nb, nbox] = boxes.dims as [number, number];
  const nc = scores.dims[1]!;
  const bv = numbers(boxes);
  const sv = numbers(scores);
  const thr = f(iouThr);
  const suppress = (i: number, j: number, b: number): boolean => {
    const p = bv.slice((b * nbox + i) * 4, (b * nbox + i) * 4 + 4);
    const q = bv.slice((b * nbox + j) * 4, (b * nbox + j) * 4 + 4);
    let x1min, x1max, x2min, x2max, y1min, y1max, y2min, y2max;
    if (!center) {
      [x1min, x1max] = [Math.min(p[1]!, p[3]!), Math.max(p[1]!, p[3]!)];
      [x2min, x2max] = [Math.min(q[1]!, q[3]!), Math.max(q[1]!, q[3]!)];
      [y1min, y1max] = [Math.min(p[0]!, p[2]!), Math.max(p[0]!, p[2]!)];
      [y2min, y2max] = [Math.min(q[0]!, q[2]!), Math.max(q[0]!, q[2]!)];
    } else {
      const [w1, h1, w2, h2] = [f(p[2]! / 2), f(p[3]! / 2), f(q[2]! / 2), f(q[3]! / 2)];
      [x1min, x1max, x2min, x2max] = [f(p[0]! - w1), f(p[0]! + w1), f(q[0]! - w2), f(q[0]! + w2)];
      [y1min, y1max, y2min, y2max] = [f(p[1]! - h1), f(p[1]! + h1), f(q[1]! - h2), f(q[1]! + h2)];
    }
    const ixmin = Math.max(x1min, x2min), ixmax = Math.min(x1max, x2max);
    if (ixmax <= ixmin) return false;
    const iymin = Math.max(y1min, y2min), iymax = Math.min(y1max, y2max);
    if (iymax <= iymin) return false;
    const inter = f(f(ixmax - ixmin) * f(iymax - iymin));
    if (inter <= 0) return false;
    const a1 = f(f(x1max - x1min) * f(y1max - y1min));
    const a2 = f(f(x2max - x2min) * f(y2max - y2min));
    const uni = f(f(a1 + a2) - inter);
    if (a1 <= 0 || a2 <= 0 || uni <= 0) return false;
    return f(inter / uni) > thr;
  };
  const rows: number[][] = [];
  for (let b = 0; b < nb; b++) {
    for (let c = 0; c < nc; c++) {
      const s = (i: number): number => sv[(b * nc + c) * nbox + i]!;
      // A priority queue by (score desc, index asc), popped one at a time.
      const queue = Array.from({ length: nbox }, (_, i) => i).filter((i) => scoreThr === undefined || s(i) > f(scoreThr));
      const kept: number[] = [];
      while (queue.length > 0 && kept.length < maxOut) {
        let best = 0;
        for (let k = 1; k < queue.length; k++) {
          const a = queue[k]!, q = queue[best]!;
          if (s(a) > s(q) || (s(a) === s(q) && a < q)) best = k;
        }
        const i = queue.splice(best, 1)[0]!;
        if (!kept.some((j) => suppress(i, j, b))) kept.push(i);
      }
      for (const i of kept) rows.push([b, c, i]);
    }
  }
  return rows;
}

// ------------------------------------------------------------------ NonZero

describe('NonZero', () => {
  it('op: coordinates of the nonzeros in row-major order, both targets (shapes, dtypes, none, all, scalar)', async () => {
    const cases: [Tensor, string][] = [
      [randInts([2, 3, 4], 3, 1), 'float 3-D'],
      [randInts([7], 2, 2, 'int64'), 'int64 1-D'],
      [new Tensor('bool', [1, 0, 1, 1, 0, 0], [2, 3]), 'bool'],
      [new Tensor('int32', [0, 0, 0, 0], [2, 2]), 'all zero'],
      [new Tensor('float32', [1, -2, 3, 0.5, NaN, -0.25], [3, 2]), 'all nonzero (NaN counts)'],
      [new Tensor('float32', [-0, 0, 2, -0], [4]), 'negative zero is zero'],
      [new Tensor('float32', [5], []), 'scalar'],
      [randInts([3, 1, 2, 2], 2, 3, 'int32'), '4-D'],
    ];
    for (const [x, what] of cases) {
      const count = nonzeroCount(x);
      const want = refNonZero(numbers(x), x.dims);
      assert.equal(count, want[0]!.length, `${what}: count`);
      const [y] = await runBothTargets('NonZero', [x], { count });
      assert.equal(y!.type, 'int64');
      assert.deepEqual(y!.dims, [want.length, count], `${what}: shape`);
      assert.deepEqual(numbers(y!), want.flat(), what);
    }
  });

  it('shape rule: [rank, count], symbolic input dims allowed; invalid count', () => {
    assert.deepEqual(inferOp('NonZero', [{ dtype: 'float32', shape: ['n', 3] }], { count: 4 }), [{ dtype: 'int64', shape: [2, 4] }]);
    assertOpError(() => inferOp('NonZero', [{ dtype: 'float32', shape: [2, 3] }], { count: 7 }), /count 7 exceeds/);
    assertOpError(() => inferOp('NonZero', [{ dtype: 'float32', shape: [2] }], { count: -1 }), /non-negative/);
    assertOpError(() => inferOp('NonZero', [{ dtype: 'float32', shape: [2] }], {}), /missing attribute count/);
  });
});

// ------------------------------------------------------------------ Unique

describe('Unique', () => {
  it('op: flattened, sorted and unsorted, against numpy.unique (ints, floats with NaN and -0, bool)', async () => {
    const cases: [Tensor, string][] = [
      [randInts([12], 5, 11), 'float 1-D'],
      [randInts([3, 4], 4, 12, 'int64'), 'int64 2-D flattened'],
      [randInts([2, 2, 3], 3, 13, 'int32'), 'int32 3-D'],
      [new Tensor('float32', [2, NaN, 1, -0, 0, NaN, 2, -3.5], [8]), 'NaN equals NaN, sorts last; -0 equals 0'],
      [new Tensor('bool', [1, 0, 0, 1, 1], [5]), 'bool'],
      [new Tensor('float32', [4], [1]), 'one element'],
      [new Tensor('int32', [7], []), 'scalar'],
    ];
    for (const [x, what] of cases) {
      for (const sorted of [1, 0]) {
        const count = uniqueCount(x);
        const want = refUnique(numbers(x), x.dims, undefined, sorted === 1);
        assert.equal(count, want.indices.length, `${what}: count`);
        const [y, idx, inv, cnt] = await runBothTargets('Unique', [x], { count, sorted });
        assert.equal(y!.type, x.type);
        assert.deepEqual(y!.dims, want.yDims);
        sameValues(numbers(y!), want.y, `${what} sorted=${sorted} Y`);
        assert.deepEqual(numbers(idx!), want.indices, `${what} sorted=${sorted} indices`);
        assert.deepEqual(numbers(inv!), want.inverse, `${what} sorted=${sorted} inverse_indices`);
        assert.deepEqual(numbers(cnt!), want.counts, `${what} sorted=${sorted} counts`);
      }
    }
  });

  it('op: float16 data (decoded on the host for the count, compared in float32 by the compute)', async () => {
    const vals = [1.5, -0, 0, 1.5, 2, -7.25, 2];
    const x = new Tensor('float16', Uint16Array.from(vals, f32ToF16), [7]);
    const count = uniqueCount(x);
    const want = refUnique(vals, [7], undefined, true);
    assert.equal(count, 4);
    const [y, idx, inv, cnt] = await runBothTargets('Unique', [x], { count, sorted: 1 });
    assert.deepEqual(numbers(y!), want.y.map(f32ToF16));
    assert.deepEqual(numbers(idx!), want.indices);
    assert.deepEqual(numbers(inv!), want.inverse);
    assert.deepEqual(numbers(cnt!), want.counts);
    assert.equal(nonzeroCount(x), 5);
    const [nz] = await runBothTargets('NonZero', [x], { count: 5 });
    assert.deepEqual(numbers(nz!), refNonZero(vals, [7]).flat());
  });

  it('op: along an axis, slices compared lexicographically (every axis of random 3-D inputs)', async () => {
    for (const [dims, seed] of [[[3, 5, 2], 21], [[4, 3, 3], 22], [[2, 6, 1], 23]] as [number[], number][]) {
      // Few distinct values, and repeated slices: copy some slices along each axis.
      for (let axis = 0; axis < dims.length; axis++) {
        const x = randInts(dims, 2, seed + axis);
        const data = x.data as Float32Array;
        const n = dims[axis]!;
        const outer = size(dims.slice(0, axis));
        const inner = size(dims.slice(axis + 1));
        if (n > 2) for (let o = 0; o < outer; o++) for (let k = 0; k < inner; k++) data[(o * n + n - 1) * inner + k] = data[(o * n + 0) * inner + k]!;
        for (const sorted of [1, 0]) {
          const count = uniqueCount(x, axis);
          const want = refUnique(numbers(x), dims, axis, sorted === 1);
          assert.equal(count, want.indices.length);
          const [y, idx, inv, cnt] = await runBothTargets('Unique', [x], { count, sorted, axis });
          const what = `[${dims}] axis ${axis} sorted=${sorted}`;
          assert.deepEqual(y!.dims, want.yDims, what);
          assert.deepEqual(numbers(y!), want.y, `${what} Y`);
          assert.deepEqual(numbers(idx!), want.indices, `${what} indices`);
          assert.deepEqual(numbers(inv!), want.inverse, `${what} inverse`);
          assert.deepEqual(numbers(cnt!), want.counts, `${what} counts`);
        }
      }
    }
  });

  it('shape rule and attribute checks', () => {
    assert.deepEqual(inferOp('Unique', [{ dtype: 'float32', shape: [2, 'n'] }], { count: 2, axis: 0 }), [
      { dtype: 'float32', shape: [2, 'n'] }, { dtype: 'int64', shape: [2] }, { dtype: 'int64', shape: [2] }, { dtype: 'int64', shape: [2] },
    ]);
    assert.deepEqual(inferOp('Unique', [{ dtype: 'int32', shape: [2, 3] }], { count: 4 })[2], { dtype: 'int64', shape: [6] });
    assertOpError(() => inferOp('Unique', [{ dtype: 'float32', shape: [2, 3] }], { count: 3, axis: 0 }), /count 3 exceeds the size 2/);
    assertOpError(() => inferOp('Unique', [{ dtype: 'float32', shape: [2, 3] }], { count: 1, axis: 2 }), /axis 2 is out of range/);
  });
});

// ------------------------------------------------------------------ NonMaxSuppression

/** Random boxes clustered so that many overlap; corner order flipped at random; scores with ties. */
function randNms(nb: number, nbox: number, nc: number, seed: number, center: boolean): [Tensor, Tensor] {
  const r = rng(seed);
  const boxes: number[] = [];
  for (let i = 0; i < nb * nbox; i++) {
    const cx = r(0, 3), cy = r(0, 3), w = r(0.5, 2), h = r(0.5, 2);
    if (center) boxes.push(cx, cy, w, h);
    else {
      const [y1, y2] = r() < 0 ? [cy - h / 2, cy + h / 2] : [cy + h / 2, cy - h / 2];
      const [x1, x2] = r() < 0 ? [cx - w / 2, cx + w / 2] : [cx + w / 2, cx - w / 2];
      boxes.push(y1, x1, y2, x2);
    }
  }
  const scores = Array.from({ length: nb * nc * nbox }, () => Math.round(r(0, 10)) / 10);
  return [f32t(boxes, [nb, nbox, 4]), f32t(scores, [nb, nc, nbox])];
}

describe('NonMaxSuppression', () => {
  it('op: greedy selection against onnxruntime\'s algorithm (random clustered boxes, both formats, thresholds, limits)', async () => {
    let seed = 100;
    let nonTrivial = 0;
    for (const [nb, nbox, nc] of [[1, 8, 1], [2, 7, 3], [1, 12, 2]] as const) {
      for (const center of [false, true]) {
        for (const [maxOut, iou, st] of [[100, 0.3, undefined], [3, 0.5, 0.25], [2, 0, 0.45], [0, 0.5, undefined], [8, 1, 0.05]] as [number, number, number | undefined][]) {
          const [boxes, scores] = randNms(nb, nbox, nc, seed++, center);
          const m = Math.min(maxOut, nbox);
          const params = { centerPointBox: center, maxOutput: m, iouThreshold: iou, ...(st === undefined ? {} : { scoreThreshold: st }) };
          const want = refNms(boxes, scores, center, m, iou, st);
          const count = nmsCount(boxes, scores, params);
          assert.equal(count, want.length, 'host count');
          const attrs: Attrs = {
            count, center_point_box: center ? 1 : 0, max_output_boxes_per_class: m, iou_threshold: iou, ...(st === undefined ? {} : { score_threshold: st }),
          };
          const [y] = await runBothTargets('NonMaxSuppression', [boxes, scores], attrs);
          const what = `B${nb} N${nbox} C${nc} center=${center} max=${maxOut} iou=${iou} score=${st}`;
          assert.deepEqual(y!.dims, [want.length, 3], what);
          assert.deepEqual(numbers(y!), want.flat(), what);
          // Some selections must actually be suppressions (fewer kept than candidates).
          const cands = numbers(scores).filter((s) => st === undefined || s > Math.fround(st)).length;
          if (want.length > 0 && want.length < Math.min(cands, m * nb * nc)) nonTrivial++;
        }
      }
    }
    assert.ok(nonTrivial >= 5, `only ${nonTrivial} cases exercised suppression`);
  });

  it('op: degenerate boxes never suppress; identical boxes keep the lowest index; ties by index', async () => {
    // Box 1 has zero area (never suppresses or is suppressed); boxes 0, 2, 3 are identical.
    const boxes = f32t([0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 0, 0], [1, 4, 4]);
    const scores = f32t([0.5, 0.9, 0.5, 0.5], [1, 1, 4]);
    const params = { centerPointBox: false, maxOutput: 4, iouThreshold: 0.5 };
    const count = nmsCount(boxes, scores, params);
    const [y] = await runBothTargets('NonMaxSuppression', [boxes, scores], { count, max_output_boxes_per_class: 4, iou_threshold: 0.5 });
    assert.deepEqual(numbers(y!), [0, 0, 1, 0, 0, 0]);
    assert.deepEqual(numbers(y!), refNms(boxes, scores, false, 4, 0.5).flat());
  });

  it('shape rule and attribute checks', () => {
    const b = { dtype: 'float32' as const, shape: [1, 5, 4] };
    const s = { dtype: 'float32' as const, shape: [1, 2, 5] };
    assert.deepEqual(inferOp('NonMaxSuppression', [b, s], { count: 3 }), [{ dtype: 'int64', shape: [3, 3] }]);
    assertOpError(() => inferOp('NonMaxSuppression', [{ dtype: 'float32', shape: [1, 5, 3] }, s], { count: 0 }), /boxes must be/);
    assertOpError(() => inferOp('NonMaxSuppression', [b, { dtype: 'float32', shape: [1, 2, 6] }], { count: 0 }), /disagree/);
    assertOpError(() => inferOp('NonMaxSuppression', [b, s], { count: 0, center_point_box: 2 }), /center_point_box/);
  });
});

// ------------------------------------------------------------------ converters

describe('converters', () => {
  it('constant data: NonZero, Unique and NonMaxSuppression from initializers, both targets', async () => {
    const x = randInts([3, 4], 3, 31);
    for (const target of ['js', 'wasm'] as const) {
      const nz = await runModel(makeModel({
        nodes: [{ op: 'NonZero', inputs: ['x'], outputs: ['y'] }], inputs: [], outputs: [vs('y', 'int64', [2, 'n'])], initializers: { x }, opset: 13,
      }), {}, target);
      assert.deepEqual(numbers(nz['y']!), refNonZero(numbers(x), x.dims).flat());

      const un = await runModel(makeModel({
        nodes: [{ op: 'Unique', inputs: ['x'], outputs: ['y', 'i', 'inv', 'c'], attrs: { axis: -1, sorted: 0 } }], inputs: [],
        outputs: [vs('y', 'float32', [3, 'k']), vs('i', 'int64', ['k']), vs('inv', 'int64', [4]), vs('c', 'int64', ['k'])], initializers: { x }, opset: 11,
      }), {}, target);
      const want = refUnique(numbers(x), x.dims, 1, false);
      assert.deepEqual(numbers(un['y']!), want.y);
      assert.deepEqual(numbers(un['inv']!), want.inverse);

      const [boxes, scores] = randNms(1, 6, 2, 32, false);
      const nms = await runModel(makeModel({
        nodes: [{ op: 'NonMaxSuppression', inputs: ['b', 's', 'm', 'iou'], outputs: ['y'] }], inputs: [], outputs: [vs('y', 'int64', ['n', 3])],
        initializers: { b: boxes, s: scores, m: new Tensor('int64', [BigInt(Number.MAX_SAFE_INTEGER)], [1]), iou: f32t([0.4], []) }, opset: 11,
      }), {}, target);
      assert.deepEqual(numbers(nms['y']!), refNms(boxes, scores, false, 6, 0.4).flat());
    }
  });

  it('graph inputs: the session binds the data and compiles once per distinct value (output shapes follow the data)', async () => {
    for (const target of ['js', 'wasm'] as const) {
      const bytes = makeModel({
        nodes: [{ op: 'NonZero', inputs: ['x'], outputs: ['y'] }, { op: 'Unique', inputs: ['x'], outputs: ['u'] }],
        inputs: [vs('x', 'int32', [5])], outputs: [vs('y', 'int64', [1, 'n']), vs('u', 'int32', ['k'])], opset: 13,
      });
      const s = await InferenceSession.create(bytes, { target });
      for (const vals of [[0, 3, 0, 3, 1], [2, 2, 2, 2, 2], [0, 0, 0, 0, 0]]) {
        const out = await s.run({ x: new Tensor('int32', vals, [5]) });
        assert.deepEqual(numbers(out['y']!), refNonZero(vals, [5]).flat());
        assert.deepEqual(out['y']!.dims, [1, vals.filter((v) => v !== 0).length]);
        assert.deepEqual(numbers(out['u']!), refUnique(vals, [5], undefined, true).y);
      }
      assert.deepEqual(s.specializedInputs, ['x']);
      s.release();

      const [boxes, scores] = randNms(2, 5, 2, 41, true);
      const nmsBytes = makeModel({
        nodes: [{ op: 'NonMaxSuppression', inputs: ['b', 's', 'm', 'iou', 'st'], outputs: ['y'], attrs: { center_point_box: 1 } }],
        inputs: [vs('b', 'float32', [2, 5, 4]), vs('s', 'float32', [2, 2, 5]), vs('m', 'int64', [1]), vs('iou', 'float32', [1]), vs('st', 'float32', [1])],
        outputs: [vs('y', 'int64', ['n', 3])], opset: 11,
      });
      const ns = await InferenceSession.create(nmsBytes, { target });
      const out = await ns.run({ b: boxes, s: scores, m: new Tensor('int64', [2n], [1]), iou: f32t([0.3], [1]), st: f32t([0.2], [1]) });
      assert.deepEqual(numbers(out['y']!), refNms(boxes, scores, true, 2, 0.3, 0.2).flat());
      ns.release();
    }
  });

  it('optional inputs and outputs: NMS without max_output_boxes_per_class selects nothing; Unique with only Y', async () => {
    const [boxes, scores] = randNms(1, 4, 1, 51, false);
    const none = await runModel(makeModel({
      nodes: [{ op: 'NonMaxSuppression', inputs: ['b', 's'], outputs: ['y'] }], inputs: [], outputs: [vs('y', 'int64', [0, 3])],
      initializers: { b: boxes, s: scores }, opset: 10,
    }), {}, 'js');
    assert.deepEqual(none['y']!.dims, [0, 3]);
    const x = new Tensor('float32', [3, 1, 3, 2], [4]);
    const u = await runModel(makeModel({
      nodes: [{ op: 'Unique', inputs: ['x'], outputs: ['y'] }], inputs: [], outputs: [vs('y', 'float32', [3])], initializers: { x }, opset: 11,
    }), {}, 'wasm');
    assert.deepEqual(numbers(u['y']!), [1, 2, 3]);
  });

  it('errors: the data must be known at compile time; bad attributes and thresholds name the node', () => {
    const nz = makeModel({ nodes: [{ op: 'NonZero', inputs: ['x'], outputs: ['y'] }], inputs: [vs('x', 'float32', [3])], outputs: [vs('y', 'int64', [1, 'n'])], opset: 13 });
    assert.throws(() => importOnnx(nz), (e: unknown) => e instanceof InputValueNeeded && /input 'x' \(X \(NonZero needs its data at compile time/.test(e.message));
    const x = new Tensor('float32', [1, 2, 3, 4], [2, 2]);
    expectNodeError(() => importOnnx(makeModel({
      nodes: [{ op: 'Unique', inputs: ['x'], outputs: ['y'], attrs: { axis: 2 } }], inputs: [], outputs: [vs('y', 'float32', [2, 2])], initializers: { x }, opset: 11,
    })), /axis 2 is out of range for rank 2/);
    expectNodeError(() => importOnnx(makeModel({
      nodes: [{ op: 'Unique', inputs: ['x'], outputs: ['y'] }], inputs: [], outputs: [vs('y', 'float32', [4])], initializers: { x }, opset: 10,
    })), /Unique is defined from opset 11 of ai.onnx; the model imports opset 10/);
    const [boxes, scores] = randNms(1, 3, 1, 61, false);
    expectNodeError(() => importOnnx(makeModel({
      nodes: [{ op: 'NonMaxSuppression', inputs: ['b', 's', 'm', 'iou'], outputs: ['y'] }], inputs: [], outputs: [vs('y', 'int64', ['n', 3])],
      initializers: { b: boxes, s: scores, m: new Tensor('int64', [1n], [1]), iou: f32t([1.5], [1]) }, opset: 11,
    })), /iou_threshold must be in \[0, 1\]/);
    expectNodeError(() => importOnnx(makeModel({
      nodes: [{ op: 'NonMaxSuppression', inputs: ['b', 's'], outputs: ['y'] }], inputs: [], outputs: [vs('y', 'int64', ['n', 3])],
      initializers: { b: boxes, s: f32t([0.1, 0.2], [1, 1, 2]) }, opset: 11,
    })), /must be \[num_batches, num_classes, num_boxes\]/);
  });
});

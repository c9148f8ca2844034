/**
 * Operators whose output *shape* depends on the input *data*: NonZero, Unique,
 * NonMaxSuppression.
 *
 * How they fit a static-shape compiler: the ONNX converters require the data input(s)
 * at compile time (`ctx.requireConstInput`: an initializer or Constant works directly,
 * a graph input is bound per distinct value by the InferenceSession, a value computed
 * at run time is rejected). From that constant data the converter computes ONLY the
 * output-shape parameter (the `count` attribute below: the number of nonzeros, of
 * distinct values, of selected boxes), with the host helpers exported here
 * (nonzeroCount, uniqueCount, nmsCount). The output *values* are never computed on the
 * host: the graph op still takes the data as its input and its TE compute derives
 * every output element from it with comparisons and reductions. The shape rule reads
 * only the attributes. If the data fed at run time disagreed with `count` (it cannot
 * through the converters, which specialize on the data), the TE compute still stays in
 * bounds: missing slots read as the first element / index -1, extra elements are cut.
 *
 * Attributes (normalized by the converters):
 *   NonZero:           count — the number of nonzero elements of the input
 *   Unique:            count — the number of distinct values (or slices); sorted (0|1);
 *                      axis — optional, normalized to [0, rank); absent: the input is flattened
 *   NonMaxSuppression: count — the total number of selected boxes; center_point_box (0|1);
 *                      max_output_boxes_per_class (>= 0, already clamped to the box count);
 *                      iou_threshold; score_threshold — optional (absent: no score filter)
 *
 * All three are 'opaque' (several chained reductions, data-dependent reads).
 *
 * TE formulations (TE has no scan: Unique compares pairs, O(n^2); NMS is O(n^3); both
 * meant for the small tensors these ops see in practice; NonZero is blocked):
 *   NonZero: before[p] = #nonzeros at flat positions < p; the j-th nonzero is the p with
 *     x[p] != 0 and before[p] == j; output (d, j) is the d-th row-major coordinate of
 *     that p. Positions are grouped in blocks of ~sqrt(n) (per-block counts, counts of
 *     the blocks before, then within a block), so each stage is O(n^1.5), not O(n^2). A scalar input counts as shape [1]
 *     (numpy's atleast_1d, like onnxruntime): output [1, count].
 *   Unique: the input is viewed as n slices of M elements (flattened: n = size, M = 1;
 *     with axis: the slices along the axis, elements in row-major order of the other
 *     dims). diff[i, j] = the first element position where slices i and j differ (a
 *     min-reduction; M when equal). first[i] = the lowest j whose slice equals slice i.
 *     rank[i] = the number of first occurrences ordered before slice i: by
 *     lexicographic value when sorted (numpy's unique order), else by first
 *     occurrence. Then indices[k] = the lowest i with rank k, Y = the slices at
 *     indices, inverse_indices = rank, counts[k] = #i with rank k. Floats: NaN equals
 *     NaN (numpy's equal_nan) and sorts after every number; -0 equals 0.
 *   NonMaxSuppression (onnxruntime's algorithm): per (batch, class) the candidates are
 *     the boxes with score > score_threshold (without a threshold: every non-NaN score),
 *     ordered by score descending then index ascending (rank = a sum over pairs,
 *     order[r] = the box of rank r, a max-reduction). sup[b, i, j] = IoU(i, j) >
 *     iou_threshold with onnxruntime's rules (corner coordinates in either order,
 *     non-positive areas never suppress), each arithmetic step rounded to float32 so
 *     both targets agree with the float32 reference. Greedy suppression is sequential
 *     (a box is kept iff no higher-ranked *kept* box suppresses it); it is computed
 *     exactly by the fixed-point iteration keep_0 = candidates, keep_t[r] = candidate(r)
 *     and no r' < r with keep_{t-1}[r'] and sup(order[r'], order[r]) — after t steps
 *     ranks <= t are final, so N - 1 steps (one reduction compute each) are exact
 *     (corners and sup are materialized once rather than re-inlined into every step).
 *     The first max_output_boxes_per_class kept boxes are selected (a prefix count);
 *     rows are laid out batch-major, then class, then selection order (prefix sums give
 *     each selected box its row; each output row finds its box with a max-reduction).
 *     Cost: N - 1 kernels of B*C*N^2 work — fine for the box counts of the ONNX suite,
 *     slow to compile for thousands of boxes.
 *
 * In a graph, the inputs of these ops are always constants (that is what the
 * converters require), so the importer's constant folding evaluates them right away,
 * through this same TE compute built for the js target.
 */
import type { DType } from '../runtime/dtype.js';
import type { Tensor } from '../runtime/tensor.js';
import { bf16ToF32, f16ToF32 } from '../runtime/math.js';
import type { Attrs, Dim } from '../graph/ir.js';
import {
  type Expr, add, and as andE, call, cast, compare, constant, div, eq, float, floordiv, floormod, ge, gt, int, isFloatDType,
  lt, max, min, mul, not as notE, or as orE, select, sub,
} from '../ir/expr.js';
import { compute, maxReduce, minReduce, reduceAxis, sum } from '../te/tensor.js';
import { OpError, attrFloat, attrInt, registerOp } from './registry.js';
import { NUMERIC_TYPES, checkArity, checkDType, normAxis, unflatten, fmt } from './common.js';

const DATA_TYPES: readonly DType[] = [...NUMERIC_TYPES, 'bool'];

// ------------------------------------------------------------------ shared helpers

const size = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);
const one = (cond: Expr): Expr => select(cond, int(1), int(0));
const ne = (a: Expr, b: Expr): Expr => compare('ne', a, b);
/** Clamps an int32 index into [0, n) (n >= 1), for reads at data-dependent positions. */
const clampIdx = (i: Expr, n: number): Expr => min(max(i, int(0)), int(Math.max(n - 1, 0)));
const isNan = (v: Expr): Expr => call('isnan', [v], 'bool');

function attrCount(attrs: Attrs): number {
  const n = attrInt(attrs, 'count');
  if (!Number.isInteger(n) || n < 0) throw new OpError(`count must be a non-negative integer, got ${n}`);
  return n;
}

/** A host tensor's elements as numbers (float16/bfloat16 decoded, 64-bit integers converted). */
export function hostNumbers(t: Tensor): number[] {
  if (t.type === 'float16') return Array.from(t.data as Uint16Array, f16ToF32);
  if (t.type === 'bfloat16') return Array.from(t.data as Uint16Array, bf16ToF32);
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}

// ------------------------------------------------------------------ NonZero

/** The number of nonzero elements (the NonZero output's second dim). NaN counts as nonzero. */
export function nonzeroCount(x: Tensor): number {
  return hostNumbers(x).filter((v) => v !== 0).length;
}

registerOp({
  name: 'NonZero',
  pattern: 'opaque',
  inferTypes(inputs, attrs) {
    const [x] = checkArity(inputs, 1);
    checkDType(x!, DATA_TYPES);
    const count = attrCount(attrs);
    const n = x!.shape.every((d) => typeof d === 'number') ? size(x!.shape as number[]) : undefined;
    if (n !== undefined && count > n) throw new OpError(`count ${count} exceeds the ${n} elements of the input ${fmt(x!.shape)}`);
    return [{ dtype: 'int64', shape: [Math.max(x!.shape.length, 1), count] }];
  },
  compute([x], _attrs, [out]) {
    const shape = x!.rank === 0 ? [1] : x!.shape;
    const n = size(shape);
    const [rank, count] = out!.shape as number[];
    const at = (p: Expr): Expr => (x!.rank === 0 ? x!.at() : x!.at(...unflatten(clampIdx(p, n), shape)));
    // Positions are split into nb blocks of b (b ~ sqrt(n)): every stage is O(n^1.5), not O(n^2).
    const b = Math.max(1, Math.ceil(Math.sqrt(n)));
    const nb = Math.max(1, Math.ceil(n / b));
    /** Whether flat position p (possibly past the end of the last block) holds a nonzero. */
    const nz = (p: Expr): Expr => andE(lt(p, int(n)), ne(at(p), constant(0, x!.dtype)));
    const blockStart = (k: Expr): Expr => mul(k, int(b));
    const rt = reduceAxis(b, 't');
    const blockCount = compute([nb], (k) => sum(one(nz(add(blockStart(k!), rt.var))), [rt]), 'NonZero_block_count');
    const rk = reduceAxis(nb, 'k');
    const blockBefore = compute([nb], (k) => sum(select(lt(rk.var, k!), blockCount.at(rk.var), int(0)), [rk]), 'NonZero_block_before');
    // before[p]: the nonzeros at positions < p (the blocks before p's, then p's own block up to p).
    const ru = reduceAxis(b, 'u');
    const inBlock = compute([n], (p) => {
      const start = blockStart(floordiv(p!, int(b)));
      return sum(one(andE(lt(ru.var, floormod(p!, int(b))), nz(add(start, ru.var)))), [ru]);
    }, 'NonZero_in_block');
    const before = compute([n], (p) => add(blockBefore.at(floordiv(p!, int(b))), inBlock.at(p!)), 'NonZero_before');
    // The j-th nonzero lies in the block that ends after it (blocks ending at or before j are counted) ...
    const rc = reduceAxis(nb, 'c');
    const block = compute([count!], (j) => sum(one(ge(j!, add(blockBefore.at(rc.var), blockCount.at(rc.var)))), [rc]), 'NonZero_block');
    // ... at the position of that block whose nonzero has `before` j.
    const rv = reduceAxis(b, 'v');
    const pos = compute([count!], (j) => {
      const p = add(blockStart(clampIdx(block.at(j!), nb)), rv.var);
      return maxReduce(select(andE(nz(p), eq(before.at(clampIdx(p, n)), j!)), p, int(-1)), [rv]);
    }, 'NonZero_pos');
    return [compute([rank!, count!], (d, j) => {
      const coords = unflatten(clampIdx(pos.at(j!), n), shape);
      let v = coords[coords.length - 1]!;
      for (let k = coords.length - 2; k >= 0; k--) v = select(eq(d!, int(k)), coords[k]!, v);
      return cast(v, 'int64');
    }, 'NonZero')];
  },
});

// ------------------------------------------------------------------ Unique

interface UniqueSpec {
  /** The axis, or undefined: the flattened input. */
  readonly axis: number | undefined;
  readonly sorted: boolean;
  readonly count: number;
}

function uniqueSpec(attrs: Attrs, rank: number): UniqueSpec {
  const a = attrs['axis'];
  const axis = a === undefined ? undefined : normAxis(attrInt(attrs, 'axis'), rank);
  return { axis, sorted: attrInt(attrs, 'sorted', 1) !== 0, count: attrCount(attrs) };
}

/** Host key of a value: NaN equals NaN, -0 equals 0 (String(-0) is '0'). */
const valueKey = (v: number): string => (Number.isNaN(v) ? 'NaN' : String(v));

/**
 * The number of distinct values of `x` (axis undefined: flattened), or of distinct
 * slices along `axis` (the Unique outputs' dim).
 */
export function uniqueCount(x: Tensor, axis?: number): number {
  const vals = hostNumbers(x);
  if (axis === undefined) return new Set(vals.map(valueKey)).size;
  const shape = x.dims;
  const n = shape[axis]!;
  const inner = size(shape.slice(axis + 1));
  const outer = size(shape.slice(0, axis));
  const keys = new Set<string>();
  for (let i = 0; i < n; i++) {
    const parts: string[] = [];
    for (let o = 0; o < outer; o++) for (let k = 0; k < inner; k++) parts.push(valueKey(vals[(o * n + i) * inner + k]!));
    keys.add(parts.join(','));
  }
  return keys.size;
}

registerOp({
  name: 'Unique',
  pattern: 'opaque',
  inferTypes(inputs, attrs) {
    const [x] = checkArity(inputs, 1);
    checkDType(x!, DATA_TYPES);
    const spec = uniqueSpec(attrs, x!.shape.length);
    const k = spec.count;
    if (spec.axis === undefined) {
      const n = x!.shape.every((d) => typeof d === 'number') ? size(x!.shape as number[]) : undefined;
      if (n !== undefined && k > n) throw new OpError(`count ${k} exceeds the ${n} elements of the input`);
      return [
        { dtype: x!.dtype, shape: [k] }, { dtype: 'int64', shape: [k] },
        { dtype: 'int64', shape: [n ?? x!.shape.join('*')] }, { dtype: 'int64', shape: [k] },
      ];
    }
    const d = x!.shape[spec.axis]!;
    if (typeof d === 'number' && k > d) throw new OpError(`count ${k} exceeds the size ${d} of axis ${spec.axis}`);
    return [
      { dtype: x!.dtype, shape: x!.shape.map((v, i) => (i === spec.axis ? k : v)) }, { dtype: 'int64', shape: [k] },
      { dtype: 'int64', shape: [d] }, { dtype: 'int64', shape: [k] },
    ];
  },
  compute([x], attrs) {
    const spec = uniqueSpec(attrs, x!.rank);
    const shape = x!.shape;
    const k = spec.count;
    const axis = spec.axis;
    const rest = axis === undefined ? [] : shape.filter((_, i) => i !== axis);
    const n = axis === undefined ? size(shape) : shape[axis]!;
    const m = size(rest);
    /** Element `e` (row-major over the other dims) of slice `i`. */
    const elem = (i: Expr, e: Expr): Expr => {
      if (axis === undefined) return x!.rank === 0 ? x!.at() : x!.at(...unflatten(i, shape));
      const idx = unflatten(e, rest);
      idx.splice(axis, 0, i);
      return x!.at(...idx);
    };
    const fl = isFloatDType(x!.dtype);
    const differ = (a: Expr, b: Expr): Expr => (fl ? andE(ne(a, b), notE(andE(isNan(a), isNan(b)))) : ne(a, b));
    const less = (a: Expr, b: Expr): Expr => (fl ? orE(lt(a, b), andE(notE(isNan(a)), isNan(b))) : lt(a, b));

    const re = reduceAxis(m, 'e');
    const diff = compute([n, n], (i, j) => minReduce(select(differ(elem(i!, re.var), elem(j!, re.var)), re.var, int(m)), [re]), 'Unique_diff');
    const same = (i: Expr, j: Expr): Expr => ge(diff.at(i, j), int(m));
    const sliceLess = (i: Expr, j: Expr): Expr => {
      if (m === 0) return int(0, 'bool');
      const f = diff.at(i, j);
      const fc = clampIdx(f, m);
      return andE(lt(f, int(m)), less(elem(i, fc), elem(j, fc)));
    };
    const rj = reduceAxis(n, 'j');
    const first = compute([n], (i) => minReduce(select(same(rj.var, i!), rj.var, int(n)), [rj]), 'Unique_first');
    const rf = reduceAxis(n, 'f');
    const rank = compute([n], (i) => {
      const isFirst = eq(first.at(rf.var), rf.var);
      const precedes = spec.sorted ? sliceLess(rf.var, i!) : lt(rf.var, first.at(i!));
      return sum(one(andE(isFirst, precedes)), [rf]);
    }, 'Unique_rank');
    const ri = reduceAxis(n, 'i');
    const idx = compute([k], (q) => minReduce(select(eq(rank.at(ri.var), q!), ri.var, int(n)), [ri]), 'Unique_idx');
    const rc = reduceAxis(n, 'c');
    const cnt = compute([k], (q) => sum(one(eq(rank.at(rc.var), q!)), [rc]), 'Unique_cnt');

    const y = axis === undefined
      ? compute([k], (q) => elem(clampIdx(idx.at(q!), n), int(0)), 'Unique_Y')
      : compute(shape.map((d, i) => (i === axis ? k : d)), (...o) =>
        x!.at(...o.map((v, i) => (i === axis ? clampIdx(idx.at(v), n) : v))), 'Unique_Y');
    return [
      y,
      compute([k], (q) => cast(idx.at(q!), 'int64'), 'Unique_indices'),
      compute([n], (i) => cast(rank.at(i!), 'int64'), 'Unique_inverse'),
      compute([k], (q) => cast(cnt.at(q!), 'int64'), 'Unique_counts'),
    ];
  },
});

// ------------------------------------------------------------------ NonMaxSuppression

export interface NmsParams {
  readonly centerPointBox: boolean;
  readonly maxOutput: number;
  readonly iouThreshold: number;
  readonly scoreThreshold?: number;
}

function nmsParams(attrs: Attrs): NmsParams {
  const cpb = attrInt(attrs, 'center_point_box', 0);
  if (cpb !== 0 && cpb !== 1) throw new OpError(`center_point_box must be 0 or 1, got ${cpb}`);
  const maxOutput = attrInt(attrs, 'max_output_boxes_per_class', 0);
  if (!Number.isInteger(maxOutput) || maxOutput < 0) throw new OpError(`max_output_boxes_per_class must be a non-negative integer, got ${maxOutput}`);
  const iou = attrFloat(attrs, 'iou_threshold', 0);
  const st = attrs['score_threshold'];
  return { centerPointBox: cpb === 1, maxOutput, iouThreshold: iou, ...(st === undefined ? {} : { scoreThreshold: attrFloat(attrs, 'score_threshold') }) };
}

const f32 = Math.fround;

/** A box as [xmin, xmax, ymin, ymax] in float32, onnxruntime's reading of either format. */
function hostCorners(b: readonly number[], center: boolean): number[] {
  if (center) {
    const hw = f32(b[2]! / 2);
    const hh = f32(b[3]! / 2);
    return [f32(b[0]! - hw), f32(b[0]! + hw), f32(b[1]! - hh), f32(b[1]! + hh)];
  }
  return [Math.min(b[1]!, b[3]!), Math.max(b[1]!, b[3]!), Math.min(b[0]!, b[2]!), Math.max(b[0]!, b[2]!)];
}

/** onnxruntime's SuppressByIOU on [xmin, xmax, ymin, ymax] corners, in float32 steps. */
function hostSuppress(a: readonly number[], b: readonly number[], thr: number): boolean {
  const ixmin = Math.max(a[0]!, b[0]!);
  const ixmax = Math.min(a[1]!, b[1]!);
  if (ixmax <= ixmin) return false;
  const iymin = Math.max(a[2]!, b[2]!);
  const iymax = Math.min(a[3]!, b[3]!);
  if (iymax <= iymin) return false;
  const inter = f32(f32(ixmax - ixmin) * f32(iymax - iymin));
  if (inter <= 0) return false;
  const area1 = f32(f32(a[1]! - a[0]!) * f32(a[3]! - a[2]!));
  const area2 = f32(f32(b[1]! - b[0]!) * f32(b[3]! - b[2]!));
  const union = f32(f32(area1 + area2) - inter);
  if (area1 <= 0 || area2 <= 0 || union <= 0) return false;
  return f32(inter / union) > thr;
}

/**
 * The number of boxes NonMaxSuppression selects (the output's first dim): onnxruntime's
 * greedy algorithm run on the host for the count only. boxes [B, N, 4], scores [B, C, N].
 */
export function nmsCount(boxes: Tensor, scores: Tensor, p: NmsParams): number {
  const [nb, nbox] = boxes.dims as [number, number];
  const nc = scores.dims[1]!;
  const bv = hostNumbers(boxes);
  const sv = hostNumbers(scores);
  const thr = f32(p.iouThreshold);
  const sthr = p.scoreThreshold === undefined ? undefined : f32(p.scoreThreshold);
  let total = 0;
  for (let b = 0; b < nb; b++) {
    const corners = Array.from({ length: nbox }, (_, i) => hostCorners(bv.slice((b * nbox + i) * 4, (b * nbox + i) * 4 + 4), p.centerPointBox));
    for (let c = 0; c < nc; c++) {
      const s = sv.slice((b * nc + c) * nbox, (b * nc + c + 1) * nbox);
      const cand = s.map((v, i) => i).filter((i) => (sthr === undefined ? !Number.isNaN(s[i]!) : s[i]! > sthr));
      cand.sort((i, j) => s[j]! - s[i]! || i - j);
      const kept: number[] = [];
      for (const i of cand) {
        if (kept.length >= p.maxOutput) break;
        if (!kept.some((j) => hostSuppress(corners[i]!, corners[j]!, thr))) kept.push(i);
      }
      total += kept.length;
    }
  }
  return total;
}

/** Rounds a float32 expression to float32 (the JS target otherwise keeps doubles inside an expression). */
const r32 = (e: Expr): Expr => cast(cast(e, 'float64'), 'float32');

registerOp({
  name: 'NonMaxSuppression',
  pattern: 'opaque',
  inferTypes(inputs, attrs) {
    const [boxes, scores] = checkArity(inputs, 2);
    checkDType(boxes!, ['float32'], 'boxes');
    checkDType(scores!, ['float32'], 'scores');
    const bs = boxes!.shape;
    const ss = scores!.shape;
    if (bs.length !== 3 || bs[2] !== 4) throw new OpError(`boxes must be [num_batches, num_boxes, 4], got ${fmt(bs)}`);
    if (ss.length !== 3) throw new OpError(`scores must be [num_batches, num_classes, num_boxes], got ${fmt(ss)}`);
    const compatible = (a: Dim, b: Dim): boolean => typeof a !== 'number' || typeof b !== 'number' || a === b;
    if (!compatible(bs[0]!, ss[0]!) || !compatible(bs[1]!, ss[2]!)) throw new OpError(`boxes ${fmt(bs)} and scores ${fmt(ss)} disagree on batches or boxes`);
    nmsParams(attrs);
    return [{ dtype: 'int64', shape: [attrCount(attrs), 3] }];
  },
  compute([boxes, scores], attrs, [out]) {
    const p = nmsParams(attrs);
    const [nb, nbox] = boxes!.shape as [number, number];
    const nc = scores!.shape[1]!;
    const count = out!.shape[0] as number;
    const maxOut = Math.min(p.maxOutput, nbox);
    const f = (v: number): Expr => float(v, 'float32');

    // Corners [B, N, 4]: xmin, xmax, ymin, ymax.
    const corners = compute([nb, nbox, 4], (b, i, k) => {
      const bx = (j: number): Expr => boxes!.at(b!, i!, int(j));
      let xmin: Expr, xmax: Expr, ymin: Expr, ymax: Expr;
      if (p.centerPointBox) {
        const hw = r32(div(bx(2), f(2)));
        const hh = r32(div(bx(3), f(2)));
        [xmin, xmax, ymin, ymax] = [sub(bx(0), hw), add(bx(0), hw), sub(bx(1), hh), add(bx(1), hh)];
      } else {
        [xmin, xmax, ymin, ymax] = [min(bx(1), bx(3)), max(bx(1), bx(3)), min(bx(0), bx(2)), max(bx(0), bx(2))];
      }
      return select(eq(k!, int(0)), xmin, select(eq(k!, int(1)), xmax, select(eq(k!, int(2)), ymin, ymax)));
    }, 'NMS_corners', { materialize: true });
    // sup[b, i, j]: box i is suppressed by (selected) box j.
    const sup = compute([nb, nbox, nbox], (b, i, j) => {
      const a = (k: number): Expr => corners.at(b!, i!, int(k));
      const c = (k: number): Expr => corners.at(b!, j!, int(k));
      const ixmin = max(a(0), c(0));
      const ixmax = min(a(1), c(1));
      const iymin = max(a(2), c(2));
      const iymax = min(a(3), c(3));
      const inter = r32(mul(r32(sub(ixmax, ixmin)), r32(sub(iymax, iymin))));
      const area1 = r32(mul(r32(sub(a(1), a(0))), r32(sub(a(3), a(2)))));
      const area2 = r32(mul(r32(sub(c(1), c(0))), r32(sub(c(3), c(2)))));
      const union = r32(sub(r32(add(area1, area2)), inter));
      const zero = f(0);
      const ok = andE(andE(gt(ixmax, ixmin), gt(iymax, iymin)), andE(andE(gt(inter, zero), gt(area1, zero)), andE(gt(area2, zero), gt(union, zero))));
      return one(andE(ok, gt(r32(div(inter, union)), f(p.iouThreshold))));
    }, 'NMS_sup', { materialize: true });

    const score = (b: Expr, c: Expr, i: Expr): Expr => scores!.at(b, c, i);
    const valid = (b: Expr, c: Expr, i: Expr): Expr => {
      const s = score(b, c, i);
      return p.scoreThreshold === undefined ? notE(isNan(s)) : gt(s, f(p.scoreThreshold));
    };
    const rj = reduceAxis(nbox, 'j');
    const rank = compute([nb, nc, nbox], (b, c, i) => {
      const si = score(b!, c!, i!);
      const sj = score(b!, c!, rj.var);
      const before = orE(gt(sj, si), andE(eq(sj, si), lt(rj.var, i!)));
      return sum(one(andE(valid(b!, c!, rj.var), before)), [rj]);
    }, 'NMS_rank');
    const ri = reduceAxis(nbox, 'i');
    const order = compute([nb, nc, nbox], (b, c, r) =>
      maxReduce(select(andE(valid(b!, c!, ri.var), eq(rank.at(b!, c!, ri.var), r!)), ri.var, int(-1)), [ri]), 'NMS_order');
    const box = (b: Expr, c: Expr, r: Expr): Expr => clampIdx(order.at(b, c, r), nbox);

    // Greedy suppression as a fixed-point iteration over the rank order.
    let keep = compute([nb, nc, nbox], (b, c, r) => one(ge(order.at(b!, c!, r!), int(0))), 'NMS_keep0');
    for (let t = 1; t < nbox; t++) {
      const prev = keep;
      const rr = reduceAxis(nbox, `r${t}`);
      const hits = compute([nb, nc, nbox], (b, c, r) => {
        const cond = andE(andE(lt(rr.var, r!), eq(prev.at(b!, c!, rr.var), int(1))), eq(sup.at(b!, box(b!, c!, r!), box(b!, c!, rr.var)), int(1)));
        return sum(one(cond), [rr]);
      }, `NMS_hits${t}`);
      keep = compute([nb, nc, nbox], (b, c, r) => one(andE(ge(order.at(b!, c!, r!), int(0)), eq(hits.at(b!, c!, r!), int(0)))), `NMS_keep${t}`);
    }
    const finalKeep = keep;
    const rp = reduceAxis(nbox, 'rp');
    const prefix = compute([nb, nc, nbox], (b, c, r) => sum(one(andE(lt(rp.var, r!), eq(finalKeep.at(b!, c!, rp.var), int(1)))), [rp]), 'NMS_prefix');
    const selected = (b: Expr, c: Expr, r: Expr): Expr => andE(eq(finalKeep.at(b, c, r), int(1)), lt(prefix.at(b, c, r), int(maxOut)));
    const rs = reduceAxis(nbox, 'rs');
    const perClass = compute([nb, nc], (b, c) => sum(one(selected(b!, c!, rs.var)), [rs]), 'NMS_per_class');
    const ro = reduceAxis(nb * nc, 'ro');
    const offset = compute([nb, nc], (b, c) => {
      const q = ro.var;
      return sum(select(lt(q, add(mul(b!, int(nc)), c!)), perClass.at(floordiv(q, int(nc)), floormod(q, int(nc))), int(0)), [ro]);
    }, 'NMS_offset');
    const rq = reduceAxis(nb * nc * nbox, 'rq');
    const src = compute([count], (o) => {
      const [b, c, r] = unflatten(rq.var, [nb, nc, nbox]) as [Expr, Expr, Expr];
      const row = add(offset.at(b, c), prefix.at(b, c, r));
      return maxReduce(select(andE(selected(b, c, r), eq(row, o!)), rq.var, int(-1)), [rq]);
    }, 'NMS_src');
    return [compute([count, 3], (o, k) => {
      const q = clampIdx(src.at(o!), nb * nc * nbox);
      const [b, c, r] = unflatten(q, [nb, nc, nbox]) as [Expr, Expr, Expr];
      return cast(select(eq(k!, int(0)), b, select(eq(k!, int(1)), c, box(b, c, r))), 'int64');
    }, 'NonMaxSuppression')];
  },
});

/**
 * Math operators: Mod, BitShift, IsNaN, IsInf, Celu, Mish, Shrink, Trilu, ArgMax /
 * ArgMin, Hardmax, CumSum, LpNormalization, MeanVarianceNormalization,
 * InstanceNormalization, LRN, Einsum and Det. (CastLike is a converter onto Cast;
 * the composite reductions ReduceL1/L2/... live in reduce.ts.)
 *
 * Attributes are the normalized graph-level ones (the ONNX converters fill in every
 * default and turn constant inputs into attributes):
 *   Mod: fmod (0: floor modulo, sign of the divisor; 1: C fmod, sign of the dividend)
 *   BitShift: direction ('LEFT' | 'RIGHT')
 *   IsInf: detect_positive, detect_negative;  Celu: alpha;  Shrink: bias, lambd
 *   Trilu: upper, k;  ArgMax/ArgMin: axis, keepdims, select_last_index;  Hardmax: axis
 *   CumSum: axis, exclusive, reverse;  LpNormalization: axis, p
 *   MeanVarianceNormalization: axes;  InstanceNormalization: epsilon
 *   LRN: size, alpha, beta, bias;  Einsum: equation (without blanks)
 *
 * Every op is a TE compute (several chained computes where a reduction feeds an
 * elementwise step). Reads that could leave their tensor are guarded by `select`.
 */
import type { DType } from '../runtime/dtype.js';
import type { Attrs, Dim, TensorType } from '../graph/ir.js';
import {
  type Expr, add, and as andE, binary, call, cast, compare, constant, div, eq, floormod, ge, gt, int, le,
  lt, max, min, mul, or as orE, select, sub, isFloatDType,
} from '../ir/expr.js';
import {
  type Tensor as TeTensor, compute, maxReduce, minReduce, reduceAxis, sum,
} from '../te/tensor.js';
import { type UnaryDef, registerUnaryOps } from './elemwise.js';
import { OpError, attrFloat, attrInt, attrInts, attrString, registerOp } from './registry.js';
import {
  FLOAT_TYPES, NUMERIC_TYPES, alongAxisType, broadcastRead, broadcastShapes, checkArity, checkDType, checkSameDType, normAxis, dimsCompatible, fmt
} from './common.js';

const c = (v: number, like: Expr): Expr => constant(v, like.dtype);
const UINT_TYPES: readonly DType[] = ['uint8', 'uint16', 'uint32', 'uint64'];
const ALL_TYPES: readonly DType[] = [...NUMERIC_TYPES, 'bool'];

function insertAt(idx: readonly Expr[], axis: number, v: Expr): Expr[] {
  return [...idx.slice(0, axis), v, ...idx.slice(axis)];
}
function removeAt<T>(idx: readonly T[], axis: number): T[] {
  return [...idx.slice(0, axis), ...idx.slice(axis + 1)];
}
function replaceAt(idx: readonly Expr[], axis: number, v: Expr): Expr[] {
  return idx.map((x, i) => (i === axis ? v : x));
}
const mapCompute = (name: string, shape: readonly number[], fn: (idx: Expr[]) => Expr): TeTensor =>
  compute(shape, (...i) => fn(i), name);

// ------------------------------------------------------------------ Mod, BitShift

/**
 * C fmod: a - trunc(a / b) * b. Integers divide truncating (exact). Floats compute in
 * float64 (float32/float16 inputs are widened, which makes the result exact for them)
 * and correct a quotient that rounded across an integer: the result must carry the
 * dividend's sign. fmod(a, ±inf) is a.
 */
function fmodExpr(a: Expr, b: Expr): Expr {
  if (!isFloatDType(a.dtype)) return sub(a, mul(div(a, b), b));
  const dt = a.dtype;
  const widen = dt !== 'float64';
  const wa = widen ? cast(a, 'float64') : a;
  const wb = widen ? cast(b, 'float64') : b;
  const zero = c(0, wa);
  const r0 = sub(wa, mul(call('trunc', [div(wa, wb)]), wb));
  const absB = call('abs', [wb]);
  const fix = select(andE(gt(wa, zero), lt(r0, zero)), absB, select(andE(lt(wa, zero), gt(r0, zero)), sub(zero, absB), zero));
  const r = select(call('isinf', [wb], 'bool'), wa, add(r0, fix));
  return widen ? cast(r, dt) : r;
}

/**
 * Mod(A, B), numpy broadcasting. fmod=0: the remainder takes the divisor's sign
 * (Python's %); fmod=1: the dividend's (C's fmod). Integer division by zero is
 * undefined (ONNX leaves it so). Pattern broadcast.
 */
registerOp({
  name: 'Mod',
  pattern: 'broadcast',
  inferTypes(inputs, attrs) {
    const [a, b] = checkArity(inputs, 2);
    const dtype = checkSameDType([a!, b!]);
    checkDType(a!, NUMERIC_TYPES);
    const fmod = attrInt(attrs, 'fmod', 0);
    if (fmod !== 0 && fmod !== 1) throw new OpError(`fmod must be 0 or 1, got ${fmod}`);
    return [{ dtype, shape: broadcastShapes(a!.shape, b!.shape) }];
  },
  compute([a, b], attrs, [out]) {
    const fmod = attrInt(attrs, 'fmod', 0) === 1;
    return [mapCompute('Mod', out!.shape as number[], (i) => {
      const x = broadcastRead(a!, i), y = broadcastRead(b!, i);
      return fmod ? fmodExpr(x, y) : floormod(x, y);
    })];
  },
});

const BITS: Partial<Record<DType, number>> = { uint8: 8, uint16: 16, uint32: 32, uint64: 64 };

/**
 * BitShift(X, Y) on unsigned integers, numpy broadcasting: X * 2^Y (wrapping to the
 * width) or X / 2^Y. A shift by the bit width or more gives 0. Pattern broadcast.
 */
registerOp({
  name: 'BitShift',
  pattern: 'broadcast',
  inferTypes(inputs, attrs) {
    const [x, y] = checkArity(inputs, 2);
    const dtype = checkSameDType([x!, y!]);
    checkDType(x!, UINT_TYPES);
    const dir = attrString(attrs, 'direction');
    if (dir !== 'LEFT' && dir !== 'RIGHT') throw new OpError(`direction must be LEFT or RIGHT, got '${dir}'`);
    return [{ dtype, shape: broadcastShapes(x!.shape, y!.shape) }];
  },
  compute([x, y], attrs, [out]) {
    const left = attrString(attrs, 'direction') === 'LEFT';
    const bits = BITS[x!.dtype]!;
    return [mapCompute('BitShift', out!.shape as number[], (i) => {
      const v = broadcastRead(x!, i), s = broadcastRead(y!, i);
      const p = binary('pow', c(2, v), s);
      return select(lt(s, c(bits, s)), left ? mul(v, p) : div(v, p), c(0, v));
    })];
  },
});

// ------------------------------------------------------------------ unary: IsNaN, IsInf, Celu, Mish, Shrink


const UNARY: Record<string, UnaryDef> = {
  IsNaN: { fn: (x) => compare('ne', x, x), types: FLOAT_TYPES, out: 'bool' },
  IsInf: {
    fn: (x, a) => {
      const pos = attrInt(a, 'detect_positive', 1) !== 0;
      const neg = attrInt(a, 'detect_negative', 1) !== 0;
      const isPos = eq(x, c(Infinity, x));
      const isNeg = eq(x, c(-Infinity, x));
      if (pos && neg) return orE(isPos, isNeg);
      return pos ? isPos : neg ? isNeg : int(0, 'bool');
    },
    types: FLOAT_TYPES,
    out: 'bool',
  },
  /** max(0, x) + min(0, alpha * (exp(x / alpha) - 1)) */
  Celu: {
    fn: (x, a) => {
      const alpha = attrFloat(a, 'alpha', 1);
      if (alpha === 0) throw new OpError('alpha must be nonzero');
      const al = c(alpha, x);
      return add(max(c(0, x), x), min(c(0, x), mul(al, sub(call('exp', [div(x, al)]), c(1, x)))));
    },
    types: FLOAT_TYPES,
  },
  /** x * tanh(softplus(x)) */
  Mish: { fn: (x) => mul(x, call('tanh', [call('log', [add(call('exp', [x]), c(1, x))])])), types: FLOAT_TYPES },
  /** x < -lambd: x + bias; x > lambd: x - bias; else 0. */
  Shrink: {
    fn: (x, a) => {
      const lambd = c(attrFloat(a, 'lambd', 0.5), x);
      const bias = c(attrFloat(a, 'bias', 0), x);
      return select(lt(x, sub(c(0, x), lambd)), add(x, bias), select(gt(x, lambd), sub(x, bias), c(0, x)));
    },
    types: NUMERIC_TYPES,
  },
};

registerUnaryOps(UNARY);

// ------------------------------------------------------------------ Trilu

/**
 * Trilu: keeps the upper (j - i >= k) or lower (j - i <= k) triangle of the last two
 * dims, zeroing the rest. Pattern injective (the result depends on the index).
 */
registerOp({
  name: 'Trilu',
  pattern: 'injective',
  inferTypes(inputs, attrs) {
    const [x] = checkArity(inputs, 1);
    checkDType(x!, ALL_TYPES);
    if (x!.shape.length < 2) throw new OpError(`input must have rank >= 2, got ${fmt(x!.shape)}`);
    attrInt(attrs, 'upper', 1);
    const k = attrInt(attrs, 'k', 0);
    if (!Number.isInteger(k)) throw new OpError(`k must be an integer, got ${k}`);
    return [x!];
  },
  compute([x], attrs, [out]) {
    const upper = attrInt(attrs, 'upper', 1) !== 0;
    const k = attrInt(attrs, 'k', 0);
    const shape = out!.shape as number[];
    const r = shape.length;
    // |k| beyond the matrix size selects everything or nothing; clamp to keep constants small.
    const kc = Math.max(-shape[r - 2]! - 1, Math.min(shape[r - 1]! + 1, k));
    return [mapCompute('Trilu', shape, (idx) => {
      const d = sub(idx[r - 1]!, idx[r - 2]!);
      const keep = upper ? ge(d, int(kc)) : le(d, int(kc));
      return select(keep, x!.at(...idx), constant(0, x!.dtype));
    })];
  },
});

// ------------------------------------------------------------------ ArgMax, ArgMin, Hardmax

/**
 * The index along `axis` of the extreme value of `x`, per position of the other dims
 * (an int32 tensor of the shape without `axis`): an extreme reduction, then a
 * min (first) / max (last) reduction over the indices where x equals it. NaN counts as
 * the extreme (numpy's argmax/argmin return the first NaN).
 */
function argExtreme(x: TeTensor, axis: number, which: 'max' | 'min', last: boolean, name: string): TeTensor {
  const ext = x.shape[axis]!;
  const red = removeAt(x.shape, axis);
  const k1 = reduceAxis(ext, 'k');
  const m = compute(red, (...ri) => (which === 'max' ? maxReduce : minReduce)(x.at(...insertAt(ri, axis, k1.var)), [k1]), `${name}_val`);
  const k2 = reduceAxis(ext, 'k');
  return compute(red, (...ri) => {
    const v = x.at(...insertAt(ri, axis, k2.var));
    let hit = eq(v, m.at(...ri));
    if (isFloatDType(x.dtype)) hit = orE(hit, compare('ne', v, v));
    return last ? maxReduce(select(hit, k2.var, int(-1)), [k2]) : minReduce(select(hit, k2.var, int(ext)), [k2]);
  }, `${name}_idx`);
}

function argInfer(inputs: readonly (TensorType | null)[], attrs: Attrs): TensorType[] {
  const [x] = checkArity(inputs, 1);
  checkDType(x!, NUMERIC_TYPES);
  const r = x!.shape.length;
  if (r === 0) throw new OpError('input must have rank >= 1');
  const axis = normAxis(attrInt(attrs, 'axis', 0), r);
  if (x!.shape[axis] === 0) throw new OpError(`cannot reduce over the empty axis ${axis} of ${fmt(x!.shape)}`);
  const keep = attrInt(attrs, 'keepdims', 1) !== 0;
  attrInt(attrs, 'select_last_index', 0);
  const shape = keep ? x!.shape.map((d, i) => (i === axis ? 1 : d)) : removeAt(x!.shape, axis);
  return [{ dtype: 'int64', shape }];
}

/**
 * ArgMax / ArgMin: int64 indices along `axis` (first occurrence, or the last with
 * select_last_index). Two chained reductions over the axis, then an elementwise
 * int64 cast: pattern 'reduce' (injective producers inline into the reads, an
 * elementwise consumer joins the epilogue).
 */
for (const [name, which] of [['ArgMax', 'max'], ['ArgMin', 'min']] as const) {
  registerOp({
    name,
    pattern: 'reduce',
    inferTypes: argInfer,
    compute([x], attrs, [out]) {
      const axis = normAxis(attrInt(attrs, 'axis', 0), x!.rank);
      const keep = attrInt(attrs, 'keepdims', 1) !== 0;
      const idx = argExtreme(x!, axis, which, attrInt(attrs, 'select_last_index', 0) !== 0, name);
      return [compute(out!.shape as number[], (...oi) => cast(idx.at(...(keep ? removeAt(oi, axis) : oi)), 'int64'), name)];
    },
  });
}

/**
 * Hardmax (opset-13 semantics): 1 at the first maximum along `axis`, 0 elsewhere.
 * Pattern opaque (two chained reductions and a broadcast epilogue, like Softmax).
 */
registerOp({
  name: 'Hardmax',
  pattern: 'opaque',
  inferTypes: alongAxisType,
  compute([x], attrs, [out]) {
    const shape = out!.shape as number[];
    const axis = normAxis(attrInt(attrs, 'axis', -1), shape.length);
    if (shape[axis] === 0) return [mapCompute('Hardmax', shape, () => constant(0, x!.dtype))];
    const idx = argExtreme(x!, axis, 'max', false, 'Hardmax');
    return [mapCompute('Hardmax', shape, (i) =>
      select(eq(i[axis]!, idx.at(...removeAt(i, axis))), constant(1, x!.dtype), constant(0, x!.dtype)))];
  },
});

// ------------------------------------------------------------------ CumSum

/**
 * CumSum along `axis`: y[.., i, ..] = sum of x[.., j, ..] over j <= i (j < i when
 * exclusive; j >= i / j > i when reverse). A sum-reduction over the whole axis with
 * a select on the index (O(n^2) per line: TE has no scan). Pattern 'reduce'.
 */
registerOp({
  name: 'CumSum',
  pattern: 'reduce',
  inferTypes(inputs, attrs) {
    const [x] = checkArity(inputs, 1);
    checkDType(x!, NUMERIC_TYPES);
    if (x!.shape.length === 0) throw new OpError('input must have rank >= 1');
    normAxis(attrInt(attrs, 'axis', 0), x!.shape.length);
    attrInt(attrs, 'exclusive', 0);
    attrInt(attrs, 'reverse', 0);
    return [x!];
  },
  compute([x], attrs, [out]) {
    const shape = out!.shape as number[];
    const axis = normAxis(attrInt(attrs, 'axis', 0), shape.length);
    const exclusive = attrInt(attrs, 'exclusive', 0) !== 0;
    const reverse = attrInt(attrs, 'reverse', 0) !== 0;
    const r = reduceAxis(shape[axis]!, 'j');
    return [mapCompute('CumSum', shape, (idx) => {
      const i = idx[axis]!;
      const j = r.var;
      const cond = reverse ? (exclusive ? gt(j, i) : ge(j, i)) : exclusive ? lt(j, i) : le(j, i);
      return sum(select(cond, x!.at(...replaceAt(idx, axis, j)), constant(0, x!.dtype)), [r]);
    })];
  },
});

// ------------------------------------------------------------------ normalizations

/** Statistics over `axes` of `x`: the reads of reduced dims and the stats index from a full index. */
interface AxesReduce {
  readonly kept: number[];
  readonly statShape: number[];
  /** The x index for a stats index and reduce vars (in the order of `axes`). */
  readonly read: (si: readonly Expr[], rv: readonly Expr[]) => Expr[];
  readonly statIndex: (idx: readonly Expr[]) => Expr[];
  readonly count: number;
}

function axesReduce(shape: readonly number[], axes: readonly number[]): AxesReduce {
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  return {
    kept,
    statShape: kept.map((i) => shape[i]!),
    read: (si, rv) => shape.map((_, d) => (axes.includes(d) ? rv[axes.indexOf(d)]! : si[kept.indexOf(d)]!)),
    statIndex: (idx) => kept.map((d) => idx[d]!),
    count: axes.reduce((n, a) => n * shape[a]!, 1),
  };
}

/** Mean and centered (population) variance of x over `axes`, two-pass. */
function meanVar(x: TeTensor, axes: readonly number[], name: string): { ar: AxesReduce; mean: TeTensor; variance: TeTensor } {
  const ar = axesReduce(x.shape, axes);
  const dtype = x.dtype;
  const n = constant(ar.count, dtype);
  const k1 = axes.map((a, i) => reduceAxis(x.shape[a]!, `k${i}`));
  const total = compute(ar.statShape, (...si) => sum(x.at(...ar.read(si, k1.map((r) => r.var))), k1), `${name}_sum`);
  const mean = compute(ar.statShape, (...si) => div(total.at(...si), n), `${name}_mean`);
  const k2 = axes.map((a, i) => reduceAxis(x.shape[a]!, `k${i}`));
  const sq = compute(ar.statShape, (...si) => {
    const d = sub(x.at(...ar.read(si, k2.map((r) => r.var))), mean.at(...si));
    return sum(mul(d, d), k2);
  }, `${name}_sqsum`);
  const variance = compute(ar.statShape, (...si) => div(sq.at(...si), n), `${name}_var`);
  return { ar, mean, variance };
}

/**
 * LpNormalization: x / ||x||_p along `axis`, p = 1 or 2. A reduction and a broadcast
 * epilogue. Pattern opaque (as the other normalizations).
 */
registerOp({
  name: 'LpNormalization',
  pattern: 'opaque',
  inferTypes(inputs, attrs) {
    const [x] = checkArity(inputs, 1);
    checkDType(x!, FLOAT_TYPES);
    if (x!.shape.length === 0) throw new OpError('input must have rank >= 1');
    normAxis(attrInt(attrs, 'axis', -1), x!.shape.length);
    const p = attrInt(attrs, 'p', 2);
    if (p !== 1 && p !== 2) throw new OpError(`p must be 1 or 2, got ${p}`);
    return [x!];
  },
  compute([x], attrs, [out]) {
    const shape = out!.shape as number[];
    const axis = normAxis(attrInt(attrs, 'axis', -1), shape.length);
    const p = attrInt(attrs, 'p', 2);
    const k = reduceAxis(shape[axis]!, 'k');
    const acc = compute(removeAt(shape, axis), (...ri) => {
      const v = x!.at(...insertAt(ri, axis, k.var));
      return sum(p === 1 ? call('abs', [v]) : mul(v, v), [k]);
    }, 'LpNormalization_acc');
    return [mapCompute('LpNormalization', shape, (idx) => {
      const a = acc.at(...removeAt(idx, axis));
      return div(x!.at(...idx), p === 1 ? a : call('sqrt', [a]));
    })];
  },
});

/**
 * MeanVarianceNormalization: (x - mean) / (sqrt(var) + 1e-9) with mean and variance
 * over `axes` (default [0, 2, 3]), as the ONNX function body defines it (the epsilon
 * is added to the standard deviation). Pattern opaque.
 */
registerOp({
  name: 'MeanVarianceNormalization',
  pattern: 'opaque',
  inferTypes(inputs, attrs) {
    const [x] = checkArity(inputs, 1);
    checkDType(x!, FLOAT_TYPES);
    const raw = attrInts(attrs, 'axes', [0, 2, 3]);
    const axes = raw.map((a) => normAxis(a, x!.shape.length));
    if (new Set(axes).size !== axes.length) throw new OpError(`axes [${raw.join(', ')}] contains duplicates`);
    return [x!];
  },
  compute([x], attrs, [out]) {
    const shape = out!.shape as number[];
    const axes = attrInts(attrs, 'axes', [0, 2, 3]).map((a) => normAxis(a, shape.length));
    const { ar, mean, variance } = meanVar(x!, axes, 'MeanVarianceNormalization');
    const eps = constant(1e-9, x!.dtype);
    return [mapCompute('MeanVarianceNormalization', shape, (idx) => {
      const si = ar.statIndex(idx);
      return div(sub(x!.at(...idx), mean.at(...si)), add(call('sqrt', [variance.at(...si)]), eps));
    })];
  },
});

/**
 * InstanceNormalization: X[N, C, D...], scale[C], B[C]: per (n, c), normalizes over
 * the spatial dims: (x - mean) / sqrt(var + epsilon) * scale[c] + B[c]. Pattern opaque.
 */
registerOp({
  name: 'InstanceNormalization',
  pattern: 'opaque',
  inferTypes(inputs, attrs) {
    const [x, scale, bias] = checkArity(inputs, 3);
    checkDType(x!, FLOAT_TYPES);
    checkSameDType([x!, scale!, bias!]);
    attrFloat(attrs, 'epsilon', 1e-5);
    if (x!.shape.length < 3) throw new OpError(`input must be [N, C, D1, ...] (rank >= 3), got ${fmt(x!.shape)}`);
    const ch = x!.shape[1]!;
    for (const [t, what] of [[scale!, 'scale'], [bias!, 'B']] as const) {
      if (t.shape.length !== 1 || !dimsCompatible(t.shape[0]!, ch)) throw new OpError(`${what} must be [${ch}], got ${fmt(t.shape)}`);
    }
    return [x!];
  },
  compute([x, scale, bias], attrs, [out]) {
    const shape = out!.shape as number[];
    const axes = shape.map((_, i) => i).slice(2);
    const { ar, mean, variance } = meanVar(x!, axes, 'InstanceNormalization');
    const eps = constant(attrFloat(attrs, 'epsilon', 1e-5), x!.dtype);
    return [mapCompute('InstanceNormalization', shape, (idx) => {
      const si = ar.statIndex(idx);
      const norm = div(sub(x!.at(...idx), mean.at(...si)), call('sqrt', [add(variance.at(...si), eps)]));
      return add(mul(norm, scale!.at(idx[1]!)), bias!.at(idx[1]!));
    })];
  },
});

/**
 * LRN over channels (axis 1): y = x / (bias + alpha / size * sum of x^2 over the
 * channels [c - floor((size-1)/2), c + ceil((size-1)/2)]) ^ beta. The window read is
 * guarded at the channel edges. Pattern opaque.
 */
registerOp({
  name: 'LRN',
  pattern: 'opaque',
  inferTypes(inputs, attrs) {
    const [x] = checkArity(inputs, 1);
    checkDType(x!, FLOAT_TYPES);
    if (x!.shape.length < 2) throw new OpError(`input must be [N, C, ...] (rank >= 2), got ${fmt(x!.shape)}`);
    const size = attrInt(attrs, 'size');
    if (!Number.isInteger(size) || size < 1) throw new OpError(`size must be a positive integer, got ${size}`);
    attrFloat(attrs, 'alpha', 1e-4);
    attrFloat(attrs, 'beta', 0.75);
    attrFloat(attrs, 'bias', 1);
    return [x!];
  },
  compute([x], attrs, [out]) {
    const shape = out!.shape as number[];
    const dtype = x!.dtype;
    const size = attrInt(attrs, 'size');
    const alpha = attrFloat(attrs, 'alpha', 1e-4);
    const beta = attrFloat(attrs, 'beta', 0.75);
    const bias = attrFloat(attrs, 'bias', 1);
    const lo = Math.floor((size - 1) / 2);
    const ch = shape[1]!;
    const r = reduceAxis(size, 'w');
    const sq = mapCompute('LRN_sqsum', shape, (idx) => {
      const cc = add(sub(idx[1]!, int(lo)), r.var);
      const v = x!.at(...replaceAt(idx, 1, cc));
      return sum(select(andE(ge(cc, int(0)), lt(cc, int(ch))), mul(v, v), constant(0, dtype)), [r]);
    });
    return [mapCompute('LRN', shape, (idx) => {
      const base = add(constant(bias, dtype), mul(constant(alpha / size, dtype), sq.at(...idx)));
      return div(x!.at(...idx), binary('pow', base, constant(beta, dtype)));
    })];
  },
});

// ------------------------------------------------------------------ Einsum

/** A parsed einsum equation: per operand and for the output, one label per dim. */
interface EinsumPlan {
  /** Labels per input dim: a letter, or '.<t>' for the t-th broadcast (ellipsis) dim. */
  readonly inputs: string[][];
  readonly output: string[];
  /** Labels summed over (not in the output), in first-appearance order. */
  readonly reduced: string[];
  /** The size of each label (the broadcast of its occurrences). */
  readonly sizes: Map<string, Dim>;
}

const LETTER = /^[A-Za-z]$/;

/** Splits one einsum term into letters and at most one '...'. */
function einsumTerm(term: string, what: string): { before: string[]; after: string[]; ellipsis: boolean } {
  const parts = term.split('...');
  if (parts.length > 2) throw new OpError(`${what} '${term}' has more than one ellipsis`);
  const letters = (s: string): string[] => {
    const out = [...s];
    for (const ch of out) if (!LETTER.test(ch)) throw new OpError(`${what} '${term}' has an invalid label '${ch}' (letters and '...' only)`);
    return out;
  };
  return { before: letters(parts[0]!), after: parts.length === 2 ? letters(parts[1]!) : [], ellipsis: parts.length === 2 };
}

/** Parses and checks `equation` against the input shapes (numpy einsum rules). */
export function planEinsum(equation: string, shapes: readonly (readonly Dim[])[]): EinsumPlan {
  const eqn = equation.replace(/\s+/g, '');
  const arrow = eqn.indexOf('->');
  const lhs = arrow >= 0 ? eqn.slice(0, arrow) : eqn;
  const rhs = arrow >= 0 ? eqn.slice(arrow + 2) : undefined;
  if (rhs !== undefined && rhs.includes('->')) throw new OpError(`equation '${equation}' has more than one '->'`);
  const terms = lhs.split(',');
  if (terms.length !== shapes.length) throw new OpError(`equation '${equation}' has ${terms.length} operands, got ${shapes.length} inputs`);
  // The number of broadcast dims: the largest ellipsis.
  const parsed = terms.map((t, i) => einsumTerm(t, `operand ${i}`));
  let nEll = 0;
  parsed.forEach((p, i) => {
    const named = p.before.length + p.after.length;
    const rank = shapes[i]!.length;
    if (p.ellipsis ? rank < named : rank !== named) {
      throw new OpError(`operand ${i} '${terms[i]}' has ${named} labels${p.ellipsis ? ' and an ellipsis' : ''}, but the input has rank ${rank} ${fmt(shapes[i]!)}`);
    }
    if (p.ellipsis) nEll = Math.max(nEll, rank - named);
  });
  const ellLabels = Array.from({ length: nEll }, (_, t) => `.${t}`);
  const inputs = parsed.map((p, i) => {
    const e = p.ellipsis ? shapes[i]!.length - p.before.length - p.after.length : 0;
    return [...p.before, ...ellLabels.slice(nEll - e), ...p.after];
  });
  // Sizes: equal, or 1 broadcast against the others.
  const sizes = new Map<string, Dim>();
  inputs.forEach((labels, i) => labels.forEach((l, d) => {
    const s = shapes[i]![d]!;
    const prev = sizes.get(l);
    if (prev === undefined || prev === 1) sizes.set(l, s);
    else if (s !== 1 && !dimsCompatible(prev, s)) {
      const name = l.startsWith('.') ? `broadcast dim ${l.slice(1)}` : `label '${l}'`;
      throw new OpError(`${name} has sizes ${prev} and ${s} in '${equation}'`);
    } else if (typeof prev === 'string' && typeof s === 'number' && s !== 1) sizes.set(l, s);
  }));
  let output: string[];
  if (rhs === undefined) {
    const counts = new Map<string, number>();
    for (const labels of inputs) for (const l of labels) if (!l.startsWith('.')) counts.set(l, (counts.get(l) ?? 0) + 1);
    output = [...ellLabels, ...[...counts].filter(([, n]) => n === 1).map(([l]) => l).sort()];
  } else {
    const p = einsumTerm(rhs, 'output');
    output = [...p.before, ...(p.ellipsis ? ellLabels : []), ...p.after];
    const seen = new Set<string>();
    for (const l of [...p.before, ...p.after]) {
      if (seen.has(l)) throw new OpError(`output label '${l}' appears twice in '${equation}'`);
      if (!sizes.has(l)) throw new OpError(`output label '${l}' does not appear in any operand of '${equation}'`);
      seen.add(l);
    }
  }
  const reduced: string[] = [];
  for (const labels of inputs) for (const l of labels) if (!output.includes(l) && !reduced.includes(l)) reduced.push(l);
  return { inputs, output, reduced, sizes };
}

/**
 * Einsum (numpy semantics): any number of operands; implicit output (labels that
 * appear once, sorted, after the broadcast dims); repeated labels in one operand take
 * diagonals; '...' broadcasts numpy-style (size-1 dims broadcast, also for letters).
 * One TE compute: the product of the operand reads, summed over the labels not in
 * the output. Pattern out-elemwise-fusable (like MatMul).
 */
registerOp({
  name: 'Einsum',
  pattern: 'out-elemwise-fusable',
  inferTypes(inputs, attrs) {
    if (inputs.length === 0) throw new OpError('needs at least one input');
    const ins = checkArity(inputs, inputs.length);
    checkDType(ins[0]!, NUMERIC_TYPES);
    const dtype = checkSameDType(ins);
    const plan = planEinsum(attrString(attrs, 'equation'), ins.map((t) => t.shape));
    return [{ dtype, shape: plan.output.map((l) => plan.sizes.get(l)!) }];
  },
  compute(inputs, attrs, [out]) {
    const ts = inputs as TeTensor[];
    const plan = planEinsum(attrString(attrs, 'equation'), ts.map((t) => t.shape));
    const rs = plan.reduced.map((l, i) => reduceAxis(plan.sizes.get(l) as number, `e${i}`));
    return [mapCompute('Einsum', out!.shape as number[], (idx) => {
      const vars = new Map<string, Expr>();
      plan.output.forEach((l, i) => vars.set(l, idx[i]!));
      plan.reduced.forEach((l, i) => vars.set(l, rs[i]!.var));
      let term: Expr | undefined;
      ts.forEach((t, i) => {
        const read = t.at(...plan.inputs[i]!.map((l, d) => (t.shape[d] === 1 ? int(0) : vars.get(l)!)));
        term = term ? mul(term, read) : read;
      });
      return rs.length ? sum(term!, rs) : term!;
    })];
  },
});

// ------------------------------------------------------------------ Det

/**
 * Det of the trailing [M, M] matrices: Gaussian elimination with partial pivoting,
 * unrolled over the M steps at compile time. Step k works on the trailing
 * (M-k) x (M-k) block S: the pivot row p maximizes |S[p, 0]| (two reductions), and
 * the next block is S[r(i+1), j+1] - S[r(i+1), 0] / S[p, 0] * S[p, j+1] with r swapping
 * rows 0 and p. The determinant is the product of the pivots, negated per swap; a
 * zero pivot makes it 0. Each block is materialized (a sum over one element, so the
 * default schedule does not inline it: inlining would re-expand every earlier step).
 * Pattern opaque.
 */
registerOp({
  name: 'Det',
  pattern: 'opaque',
  inferTypes(inputs) {
    const [x] = checkArity(inputs, 1);
    checkDType(x!, FLOAT_TYPES);
    const r = x!.shape.length;
    if (r < 2) throw new OpError(`input must be [..., M, M] (rank >= 2), got ${fmt(x!.shape)}`);
    if (!dimsCompatible(x!.shape[r - 1]!, x!.shape[r - 2]!)) throw new OpError(`the last two dims must be equal (square matrices), got ${fmt(x!.shape)}`);
    return [{ dtype: x!.dtype, shape: x!.shape.slice(0, r - 2) }];
  },
  compute([x], _attrs, [out]) {
    const dtype = x!.dtype;
    const batch = out!.shape as number[];
    const nb = batch.length;
    const m = x!.shape[nb]!;
    const zero = constant(0, dtype);
    if (m === 0) return [mapCompute('Det', batch, () => constant(1, dtype))];
    let s: TeTensor = x!;
    const steps: { s: TeTensor; p: TeTensor }[] = [];
    for (let k = 0; k < m; k++) {
      const n = m - k;
      const cur = s;
      const at = (b: readonly Expr[], i: Expr, j: Expr): Expr => cur.at(...b, i, j);
      const r1 = reduceAxis(n, 'r');
      const amax = compute(batch, (...b) => maxReduce(call('abs', [at(b, r1.var, int(0))]), [r1]), `Det_amax${k}`);
      const r2 = reduceAxis(n, 'r');
      const pRaw = compute(batch, (...b) => {
        const v = call('abs', [at(b, r2.var, int(0))]);
        return minReduce(select(orE(eq(v, amax.at(...b)), compare('ne', v, v)), r2.var, int(n - 1)), [r2]);
      }, `Det_pivot${k}`);
      steps.push({ s: cur, p: pRaw });
      if (n === 1) break;
      const one = reduceAxis(1, 'u');
      s = compute([...batch, n - 1, n - 1], (...idx) => {
        const b = idx.slice(0, nb);
        const i = idx[nb]!, j = idx[nb + 1]!;
        const p = pRaw.at(...b);
        const i1 = add(i, int(1)), j1 = add(j, int(1));
        const row = select(eq(i1, p), int(0), i1);
        const piv = at(b, p, int(0));
        const f = select(eq(piv, zero), zero, div(at(b, row, int(0)), piv));
        return sum(sub(at(b, row, j1), mul(f, at(b, p, j1))), [one]);
      }, `Det_step${k}`);
    }
    return [mapCompute('Det', batch, (b) => {
      let d: Expr | undefined;
      for (const { s: st, p } of steps) {
        const pv = p.at(...b);
        const piv = st.at(...b, pv, int(0));
        const signed = select(eq(pv, int(0)), piv, sub(zero, piv));
        d = d ? mul(d, signed) : signed;
      }
      return d!;
    })];
  },
});

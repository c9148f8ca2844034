/**
 * Shape and data-movement operators.
 *
 * View ops (no kernel; the output aliases the input's storage): Flatten, Reshape,
 * Squeeze, Unsqueeze. Injective computes: Concat, Transpose, Gather, Slice, Pad.
 * Broadcast: Expand. Attributes are the normalized graph-level ones:
 *   Flatten:   axis
 *   Reshape:   shape — target dims (numbers, symbolic names, at most one -1 to infer;
 *              the converter has already resolved ONNX's 0 = copy)
 *   Squeeze:   axes (empty: every dim of size 1);  Unsqueeze: axes (in the output's rank)
 *   Concat:    axis;  Transpose: perm;  Gather: axis
 *   Slice:     axes, starts, ends, steps — normalized per axis (see normalizeSlice)
 *   Pad:       pads [begin..., end...] (negative crops), mode constant|reflect|edge|wrap, value
 *   Expand:    shape
 */
import type { AttrValue, Attrs, Dim } from '../graph/ir.js';
import {
  type Expr, add, and as andE, cast, constant, floormod, ge, int, lt, max, min, mul, select, sub,
} from '../ir/expr.js';
import { type Tensor as TeTensor, compute } from '../te/tensor.js';
import { OpError, attrFloat, attrInt, attrInts, attrString, registerOp } from './registry.js';
import { broadcastRead, broadcastShapes, checkArity, checkDType, normAxis, attrDims, dimsCompatible, fmt } from './common.js';


// ------------------------------------------------------------------ symbolic products

/** A product of dims in canonical form: a numeric coefficient and the multiset of symbol names. */
interface SymProduct {
  readonly coef: number;
  readonly syms: readonly string[];
}

/** Factors dims into a canonical product; symbolic dims like "a*b*3" (products) are split. */
function factor(dims: readonly Dim[]): SymProduct {
  let coef = 1;
  const syms: string[] = [];
  for (const d of dims) {
    if (typeof d === 'number') {
      coef *= d;
      continue;
    }
    for (const part of d.split('*')) {
      const p = part.trim();
      if (/^\d+$/.test(p)) coef *= Number(p);
      else syms.push(p);
    }
  }
  return { coef, syms: syms.sort() };
}

function productDim(p: SymProduct): Dim {
  if (p.syms.length === 0 || p.coef === 0) return p.coef;
  return p.coef === 1 ? p.syms.join('*') : [...p.syms, String(p.coef)].join('*');
}

/** The product of dims as one dim: a number, or a canonical symbolic product such as "batch*seq*4". */
export function shapeProduct(dims: readonly Dim[]): Dim {
  return productDim(factor(dims));
}

/** Removes `sub` from `all` as multisets; undefined when `sub` is not contained in `all`. */
function multisetMinus(all: readonly string[], sub: readonly string[]): string[] | undefined {
  const rest = [...all];
  for (const s of sub) {
    const i = rest.indexOf(s);
    if (i < 0) return undefined;
    rest.splice(i, 1);
  }
  return rest;
}

// ------------------------------------------------------------------ attribute helpers

/** Stores a dim list (numbers and symbolic names) as an attribute value. */
export function dimsAttr(dims: readonly Dim[]): AttrValue {
  return [...dims];
}

/** Normalizes a list of axes against `rank`; rejects duplicates. */
function normAxes(axes: readonly number[], rank: number, what = 'axes'): number[] {
  const out = axes.map((a) => normAxis(a, rank));
  if (new Set(out).size !== out.length) throw new OpError(`${what} ${fmt(axes)} contains duplicates`);
  return out;
}

// ------------------------------------------------------------------ Flatten, Reshape, Squeeze, Unsqueeze (views)

/** Flatten: [d0..d(axis-1), d(axis)..] → [prod(before), prod(after)]; axis in [-rank, rank]. */
registerOp({
  name: 'Flatten',
  pattern: 'injective',
  view: true,
  inferTypes(inputs, attrs) {
    const [x] = checkArity(inputs, 1);
    const r = x!.shape.length;
    const a0 = attrInt(attrs, 'axis', 1);
    const axis = a0 < 0 ? a0 + r : a0;
    if (!Number.isInteger(axis) || axis < 0 || axis > r) throw new OpError(`axis ${a0} is out of range for rank ${r} (allowed [-${r}, ${r}])`);
    return [{ dtype: x!.dtype, shape: [shapeProduct(x!.shape.slice(0, axis)), shapeProduct(x!.shape.slice(axis))] }];
  },
});

/**
 * Resolves a Reshape target against the input shape: at most one -1 is inferred
 * (symbolic factors cancel, e.g. [batch, 3, 4] → [-1, 12] gives [batch, 12]), and
 * the element counts are checked where they can be compared.
 */
export function resolveReshape(input: readonly Dim[], target: readonly Dim[]): Dim[] {
  const infer = target.flatMap((d, i) => (d === -1 ? [i] : []));
  if (infer.length > 1) throw new OpError(`target shape ${fmt(target)} has more than one -1`);
  for (const d of target) {
    if (typeof d === 'number' && d !== -1 && (!Number.isInteger(d) || d < 0)) throw new OpError(`target shape ${fmt(target)} has an invalid dim ${d}`);
  }
  const inP = factor(input);
  const known = factor(target.filter((d) => d !== -1));
  if (infer.length === 1) {
    const rest = multisetMinus(inP.syms, known.syms);
    if (!rest) throw new OpError(`cannot infer the -1 of target shape ${fmt(target)} from input shape ${fmt(input)}`);
    if (known.coef === 0) throw new OpError(`cannot infer the -1 of target shape ${fmt(target)}: the other dims have zero elements`);
    if (inP.coef % known.coef !== 0) throw new OpError(`cannot reshape ${fmt(input)} to ${fmt(target)}: sizes do not divide`);
    const out = [...target];
    out[infer[0]!] = productDim({ coef: inP.coef / known.coef, syms: rest });
    return out;
  }
  const sameSyms = inP.syms.length === known.syms.length && inP.syms.every((s, i) => s === known.syms[i]);
  if (sameSyms && inP.coef !== known.coef) {
    throw new OpError(`cannot reshape ${fmt(input)} (${productDim(inP)} elements) to ${fmt(target)} (${productDim(known)} elements)`);
  }
  return [...target];
}

registerOp({
  name: 'Reshape',
  pattern: 'injective',
  view: true,
  inferTypes(inputs, attrs) {
    const [x] = checkArity(inputs, 1);
    return [{ dtype: x!.dtype, shape: resolveReshape(x!.shape, attrDims(attrs, 'shape')) }];
  },
});

registerOp({
  name: 'Squeeze',
  pattern: 'injective',
  view: true,
  inferTypes(inputs, attrs) {
    const [x] = checkArity(inputs, 1);
    const shape = x!.shape;
    const axes = normAxes(attrInts(attrs, 'axes', []), shape.length);
    if (axes.length === 0) return [{ dtype: x!.dtype, shape: shape.filter((d) => d !== 1) }];
    for (const a of axes) {
      if (shape[a] !== 1) throw new OpError(`cannot squeeze axis ${a} of shape ${fmt(shape)}: its size is ${shape[a]}, not 1`);
    }
    return [{ dtype: x!.dtype, shape: shape.filter((_, i) => !axes.includes(i)) }];
  },
});

registerOp({
  name: 'Unsqueeze',
  pattern: 'injective',
  view: true,
  inferTypes(inputs, attrs) {
    const [x] = checkArity(inputs, 1);
    const raw = attrInts(attrs, 'axes');
    const rank = x!.shape.length + raw.length;
    const axes = normAxes(raw, rank);
    const out: Dim[] = [];
    let j = 0;
    for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : x!.shape[j++]!);
    return [{ dtype: x!.dtype, shape: out }];
  },
});

// ------------------------------------------------------------------ Concat

registerOp({
  name: 'Concat',
  pattern: 'injective',
  inferTypes(inputs, attrs) {
    if (inputs.length === 0) throw new OpError('expects at least one input');
    const [first, ...rest] = checkArity(inputs, inputs.length, inputs.length);
    const rank = first!.shape.length;
    if (rank === 0) throw new OpError('inputs must have rank >= 1');
    const axis = normAxis(attrInt(attrs, 'axis'), rank);
    const shape: Dim[] = [...first!.shape];
    const along: Dim[] = [first!.shape[axis]!];
    for (const t of rest) {
      if (t.dtype !== first!.dtype) throw new OpError(`inputs must share a dtype, got ${first!.dtype} and ${t.dtype}`);
      if (t.shape.length !== rank) throw new OpError(`inputs must share a rank: ${fmt(first!.shape)} vs ${fmt(t.shape)}`);
      t.shape.forEach((d, i) => {
        if (i === axis) return;
        if (!dimsCompatible(d, shape[i]!)) throw new OpError(`shapes ${fmt(first!.shape)} and ${fmt(t.shape)} differ on axis ${i} (concat axis ${axis})`);
        if (typeof d === 'number') shape[i] = d;
      });
      along.push(t.shape[axis]!);
    }
    const numeric = along.filter((d): d is number => typeof d === 'number').reduce((a, d) => a + d, 0);
    const syms = along.filter((d): d is string => typeof d === 'string');
    shape[axis] = syms.length === 0 ? numeric : [...syms, ...(numeric ? [String(numeric)] : [])].join('+');
    return [{ dtype: first!.dtype, shape }];
  },
  compute(inputs, attrs, [out]) {
    const shape = out!.shape as number[];
    const axis = normAxis(attrInt(attrs, 'axis'), shape.length);
    const parts: { t: TeTensor; off: number }[] = [];
    let off = 0;
    for (const t of inputs) {
      if (t!.shape[axis]! > 0) parts.push({ t: t!, off });
      off += t!.shape[axis]!;
    }
    return [compute(shape, (...idx) => {
      const read = (p: { t: TeTensor; off: number }): Expr => p.t.at(...idx.map((v, i) => (i === axis ? sub(v, int(p.off)) : v)));
      if (parts.length === 0) return constant(0, out!.dtype); // an empty output: never evaluated
      // A balanced tree of selects over parts [lo, hi): log2(parts) comparisons per element
      // and as deep, where a chain would be as deep as the parts are many (1000 inputs).
      const pick = (lo: number, hi: number): Expr => {
        if (hi - lo === 1) return read(parts[lo]!);
        const mid = (lo + hi) >> 1;
        return select(lt(idx[axis]!, int(parts[mid]!.off)), pick(lo, mid), pick(mid, hi));
      };
      return pick(0, parts.length);
    }, 'Concat')];
  },
});

// ------------------------------------------------------------------ Transpose

function perm(attrs: Attrs, rank: number): number[] {
  const p = attrInts(attrs, 'perm', Array.from({ length: rank }, (_, i) => rank - 1 - i));
  if (p.length !== rank || [...p].sort((a, b) => a - b).some((v, i) => v !== i)) {
    throw new OpError(`perm ${fmt(p)} is not a permutation of the ${rank} axes`);
  }
  return [...p];
}

registerOp({
  name: 'Transpose',
  pattern: 'injective',
  inferTypes(inputs, attrs) {
    const [x] = checkArity(inputs, 1);
    const p = perm(attrs, x!.shape.length);
    return [{ dtype: x!.dtype, shape: p.map((a) => x!.shape[a]!) }];
  },
  compute([x], attrs, [out]) {
    const p = perm(attrs, x!.rank);
    return [compute(out!.shape as number[], (...idx) => {
      const inIdx: Expr[] = new Array<Expr>(p.length);
      p.forEach((a, k) => { inIdx[a] = idx[k]!; });
      return x!.at(...inIdx);
    }, 'Transpose')];
  },
});

// ------------------------------------------------------------------ Gather

/**
 * Gather: out[d[:axis], idx..., d[axis+1:]] = data[..., indices[idx...], ...].
 * Negative indices wrap; indices outside [-n, n) are clamped into range (the ONNX
 * spec leaves them undefined; clamping keeps every read in bounds).
 */
registerOp({
  name: 'Gather',
  pattern: 'injective',
  inferTypes(inputs, attrs) {
    const [data, indices] = checkArity(inputs, 2);
    checkDType(indices!, ['int32', 'int64'], 'indices');
    const r = data!.shape.length;
    if (r === 0) throw new OpError('data must have rank >= 1');
    const axis = normAxis(attrInt(attrs, 'axis', 0), r);
    return [{ dtype: data!.dtype, shape: [...data!.shape.slice(0, axis), ...indices!.shape, ...data!.shape.slice(axis + 1)] }];
  },
  compute([data, indices], attrs, [out]) {
    const axis = normAxis(attrInt(attrs, 'axis', 0), data!.rank);
    const n = data!.shape[axis]!;
    const q = indices!.rank;
    return [compute(out!.shape as number[], (...idx) => {
      let i = cast(indices!.at(...idx.slice(axis, axis + q)), 'int32');
      i = select(lt(i, int(0)), add(i, int(n)), i);
      i = min(max(i, int(0)), int(Math.max(n - 1, 0)));
      return data!.at(...idx.slice(0, axis), i, ...idx.slice(axis + q));
    }, 'Gather')];
  },
});

// ------------------------------------------------------------------ Slice

export interface SliceSpec {
  readonly axes: number[];
  readonly starts: number[];
  readonly ends: number[];
  readonly steps: number[];
}

/**
 * ONNX Slice normalization: negative starts/ends count from the end, then they are
 * clamped ([0, d] for a positive step; start to [0, d-1] and end to [-1, d-1] for a
 * negative one, where end -1 means "through index 0"). Axes that keep the whole
 * dim are dropped. A sliced axis must have a concrete size.
 */
export function normalizeSlice(shape: readonly Dim[], starts: readonly number[], ends: readonly number[], axes?: readonly number[], steps?: readonly number[]): SliceSpec {
  const n = starts.length;
  if (ends.length !== n) throw new OpError(`starts ${fmt(starts)} and ends ${fmt(ends)} differ in length`);
  const ax = normAxes(axes ?? Array.from({ length: n }, (_, i) => i), shape.length);
  if (ax.length !== n) throw new OpError(`axes ${fmt(axes ?? [])} and starts ${fmt(starts)} differ in length`);
  const st = steps ?? new Array<number>(n).fill(1);
  if (st.length !== n) throw new OpError(`steps ${fmt(st)} and starts ${fmt(starts)} differ in length`);
  const out: SliceSpec = { axes: [], starts: [], ends: [], steps: [] };
  for (let i = 0; i < n; i++) {
    const step = st[i]!;
    if (step === 0) throw new OpError('slice steps must be nonzero');
    const d = shape[ax[i]!]!;
    let s = starts[i]!, e = ends[i]!;
    if (typeof d !== 'number') {
      // Only a slice that keeps a symbolic dim whole can be expressed.
      if (step === 1 && s === 0 && e >= 2147483647) continue;
      throw new OpError(`cannot slice axis ${ax[i]} of symbolic size '${d}'; bind the dim to a number`);
    }
    if (d === 0) continue; // nothing to select from an empty axis
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (step > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
    } else {
      s = Math.min(Math.max(s, 0), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
    }
    if (step === 1 && s === 0 && e === d) continue; // the whole axis
    out.axes.push(ax[i]!);
    out.starts.push(s);
    out.ends.push(e);
    out.steps.push(step);
  }
  return out;
}

function sliceSpec(attrs: Attrs, shape: readonly Dim[]): SliceSpec {
  const axes = normAxes(attrInts(attrs, 'axes', []), shape.length);
  const starts = attrInts(attrs, 'starts', []);
  const ends = attrInts(attrs, 'ends', []);
  const steps = attrInts(attrs, 'steps', new Array<number>(axes.length).fill(1));
  if (starts.length !== axes.length || ends.length !== axes.length || steps.length !== axes.length) {
    throw new OpError(`axes ${fmt(axes)}, starts ${fmt(starts)}, ends ${fmt(ends)} and steps ${fmt(steps)} must have the same length`);
  }
  return { axes, starts: [...starts], ends: [...ends], steps: [...steps] };
}

function sliceLength(start: number, end: number, step: number): number {
  return Math.max(0, Math.ceil((end - start) / step));
}

/** Slice with normalized attributes (see normalizeSlice); validated, not re-normalized. */
registerOp({
  name: 'Slice',
  pattern: 'injective',
  inferTypes(inputs, attrs) {
    const [x] = checkArity(inputs, 1);
    const spec = sliceSpec(attrs, x!.shape);
    const shape = [...x!.shape];
    spec.axes.forEach((a, i) => {
      const d = shape[a]!;
      if (typeof d !== 'number') throw new OpError(`cannot slice axis ${a} of symbolic size '${d}'`);
      if (d === 0) return; // an empty axis stays empty
      const s = spec.starts[i]!, e = spec.ends[i]!, step = spec.steps[i]!;
      const ok = step > 0 ? s >= 0 && s <= d && e >= 0 && e <= d : step < 0 && s >= 0 && s <= d - 1 && e >= -1 && e <= d - 1;
      if (!ok) throw new OpError(`slice of axis ${a} (size ${d}) is not normalized: start ${s}, end ${e}, step ${step}`);
      shape[a] = sliceLength(s, e, step);
    });
    return [{ dtype: x!.dtype, shape }];
  },
  compute([x], attrs, [out]) {
    const spec = sliceSpec(attrs, x!.shape);
    return [compute(out!.shape as number[], (...idx) => x!.at(...idx.map((v, a) => {
      const i = spec.axes.indexOf(a);
      return i < 0 ? v : add(mul(v, int(spec.steps[i]!)), int(spec.starts[i]!));
    })), 'Slice')];
  },
});

// ------------------------------------------------------------------ Pad

const PAD_MODES = ['constant', 'reflect', 'edge', 'wrap'];

registerOp({
  name: 'Pad',
  pattern: 'injective',
  inferTypes(inputs, attrs) {
    const [x] = checkArity(inputs, 1);
    const r = x!.shape.length;
    const pads = attrInts(attrs, 'pads');
    const mode = attrString(attrs, 'mode', 'constant');
    attrFloat(attrs, 'value', 0);
    if (!PAD_MODES.includes(mode)) throw new OpError(`unsupported pad mode '${mode}' (supported: ${PAD_MODES.join(', ')})`);
    if (pads.length !== 2 * r) throw new OpError(`pads ${fmt(pads)} must have ${2 * r} entries ([begin..., end...]) for rank ${r}`);
    if (pads.some((p) => !Number.isInteger(p))) throw new OpError(`pads ${fmt(pads)} must be integers`);
    const shape = x!.shape.map((d, i): Dim => {
      const pb = pads[i]!, pe = pads[r + i]!;
      if (pb === 0 && pe === 0) return d;
      if (typeof d !== 'number') {
        if (mode !== 'constant') throw new OpError(`${mode} padding of axis ${i} needs a concrete size, got '${d}'`);
        return `${d}+${pb + pe}`;
      }
      const o = d + pb + pe;
      if (o < 0) throw new OpError(`pads ${fmt(pads)} remove more than the ${d} elements of axis ${i}`);
      if (mode !== 'constant' && o > 0) {
        if (d === 0) throw new OpError(`${mode} padding of axis ${i} needs a non-empty input`);
        if (mode === 'reflect' && (pb > d - 1 || pe > d - 1)) throw new OpError(`reflect pads ${pb}, ${pe} of axis ${i} must be smaller than its size ${d}`);
      }
      return o;
    });
    return [{ dtype: x!.dtype, shape }];
  },
  compute([x], attrs, [out]) {
    const r = x!.rank;
    const pads = attrInts(attrs, 'pads');
    const mode = attrString(attrs, 'mode', 'constant');
    const value = attrFloat(attrs, 'value', 0);
    const shape = out!.shape as number[];
    return [compute(shape, (...idx) => {
      let cond: Expr = int(1, 'bool');
      const inIdx = idx.map((o, i) => {
        const pb = pads[i]!, d = x!.shape[i]!;
        const p = sub(o, int(pb));
        if (pads[i] === 0 && pads[r + i] === 0) return p;
        const canUnder = pb > 0;
        const canOver = shape[i]! - 1 - pb >= d;
        switch (mode) {
          case 'constant':
            if (canUnder) cond = andE(cond, ge(p, int(0)));
            if (canOver) cond = andE(cond, lt(p, int(d)));
            return p;
          case 'edge':
            return min(max(p, int(0)), int(d - 1));
          case 'wrap':
            return canUnder || canOver ? floormod(p, int(d)) : p;
          default: { // reflect: -p below, 2(d-1) - p above
            let q = p;
            if (canOver) q = select(ge(q, int(d)), sub(int(2 * (d - 1)), q), q);
            if (canUnder) q = select(lt(q, int(0)), sub(int(0), q), q);
            return q;
          }
        }
      });
      return select(cond, x!.at(...inIdx), constant(value, x!.dtype));
    }, 'Pad')];
  },
});

// ------------------------------------------------------------------ Expand

/** Expand: numpy (bidirectional) broadcast of the input against `shape`. Pattern broadcast. */
registerOp({
  name: 'Expand',
  pattern: 'broadcast',
  inferTypes(inputs, attrs) {
    const [x] = checkArity(inputs, 1);
    const target = attrDims(attrs, 'shape');
    for (const d of target) if (typeof d === 'number' && (!Number.isInteger(d) || d < 0)) throw new OpError(`shape ${fmt(target)} has an invalid dim ${d}`);
    return [{ dtype: x!.dtype, shape: broadcastShapes(x!.shape, target) }];
  },
  compute([x], _attrs, [out]) {
    return [compute(out!.shape as number[], (...idx) => broadcastRead(x!, idx), 'Expand')];
  },
});

/**
 * Neural-network operators: Conv (N-d), pooling (max/average, windowed and global),
 * Gemm, MatMul, BatchNormalization (inference), Softmax/LogSoftmax, LayerNormalization.
 *
 * Attributes are the *normalized* graph-level ones (the ONNX converters fill in
 * defaults, compute explicit `pads` from `auto_pad`, etc.):
 *   Conv:        strides, pads [begin..., end...], dilations, group, kernel_shape (defaults: 1s, 0s, 1s, 1, W's)
 *   MaxPool:     kernel_shape, strides, pads, dilations, ceil_mode
 *   AveragePool: kernel_shape, strides, pads, dilations, ceil_mode, count_include_pad
 *   Gemm:        alpha, beta, transA, transB
 *   BatchNormalization: epsilon;  Softmax/LogSoftmax: axis;  LayerNormalization: axis, epsilon
 *
 * Windowed ops read their input through `select(inBounds, X[...], pad)` only where a
 * window can leave the input (the select guards the read; codegens evaluate it lazily).
 */
import type { DType } from '../runtime/dtype.js';
import type { Attrs, Dim, TensorType } from '../graph/ir.js';
import {
  type Expr, type IterVar, type Var, add, and as andE, call, cast, constant, div, floordiv, floormod, ge, int, lt, max, min, mul, select, sub,
} from '../ir/expr.js';
import {
  type Tensor as TeTensor, compute, maxReduce, reduceAxis, reduceIdentity, sum,
} from '../te/tensor.js';
import { OpError, attrFloat, attrInt, attrInts, attrString, getOp, registerOp } from './registry.js';
import {
  FLOAT_TYPES, NUMERIC_TYPES, alongAxisType, broadcastRead, broadcastShapes, checkArity, checkDType, checkSameDType, normAxis, dimsCompatible, fmt
} from './common.js';


/** The broadcast of two shapes, or undefined when they do not broadcast. */
function tryBroadcast(a: readonly Dim[], b: readonly Dim[]): Dim[] | undefined {
  try {
    return broadcastShapes(a, b);
  } catch (e) {
    if (e instanceof OpError) return undefined;
    throw e;
  }
}

// ------------------------------------------------------------------ windows

/** Normalized window parameters of a conv/pool over `n` spatial dims. */
export interface Window {
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  /** [begin..., end...] */
  readonly pads: readonly number[];
  readonly ceil: boolean;
}

/**
 * Parses and checks the window attributes. `allowNegativePads` (ConvTranspose) accepts
 * negative pads, which crop the output instead of padding the input.
 */
export function windowAttrs(attrs: Attrs, n: number, kernelDefault: readonly Dim[] | undefined, allowDilations: boolean, allowNegativePads = false): Window {
  let kernel: readonly number[];
  if (attrs['kernel_shape'] !== undefined || !kernelDefault) kernel = attrInts(attrs, 'kernel_shape');
  else {
    if (kernelDefault.some((d) => typeof d !== 'number')) throw new OpError(`the weight's spatial dims ${fmt(kernelDefault)} must be concrete (or give kernel_shape)`);
    kernel = kernelDefault as number[];
  }
  const strides = attrInts(attrs, 'strides', new Array<number>(n).fill(1));
  const dilations = attrInts(attrs, 'dilations', new Array<number>(n).fill(1));
  const pads = attrInts(attrs, 'pads', new Array<number>(2 * n).fill(0));
  const ceil = attrInt(attrs, 'ceil_mode', 0) !== 0;
  if (kernel.length !== n) throw new OpError(`kernel_shape ${fmt(kernel)} must have ${n} entries (one per spatial dim)`);
  if (strides.length !== n) throw new OpError(`strides ${fmt(strides)} must have ${n} entries`);
  if (dilations.length !== n) throw new OpError(`dilations ${fmt(dilations)} must have ${n} entries`);
  if (pads.length !== 2 * n) throw new OpError(`pads ${fmt(pads)} must have ${2 * n} entries ([begin..., end...])`);
  for (let i = 0; i < n; i++) {
    if (!Number.isInteger(kernel[i]) || kernel[i]! < 1) throw new OpError(`kernel_shape ${fmt(kernel)} must be positive integers`);
    if (!Number.isInteger(strides[i]) || strides[i]! < 1) throw new OpError(`strides ${fmt(strides)} must be positive integers`);
    if (!Number.isInteger(dilations[i]) || dilations[i]! < 1) throw new OpError(`dilations ${fmt(dilations)} must be positive integers`);
    if (!allowDilations && dilations[i] !== 1) throw new OpError(`dilations ${fmt(dilations)} are not supported by this op`);
  }
  for (const p of pads) {
    if (!Number.isInteger(p) || (!allowNegativePads && p < 0)) throw new OpError(`pads ${fmt(pads)} must be ${allowNegativePads ? '' : 'non-negative '}integers`);
  }
  return { kernel, strides, dilations, pads, ceil };
}

/**
 * Output size of a sliding window along one dim. With ceil_mode, the output is
 * rounded up, but the last window must start inside the input or its left padding.
 * A symbolic input dim gives a symbolic output dim (identity windows keep it as is).
 */
export function windowOut(d: Dim, w: Window, i: number): Dim {
  const k = w.kernel[i]!, s = w.strides[i]!, dil = w.dilations[i]!, pb = w.pads[i]!, pe = w.pads[w.kernel.length + i]!;
  const eff = (k - 1) * dil + 1;
  if (typeof d !== 'number') {
    if (eff === 1 && s === 1 && pb === 0 && pe === 0) return d;
    return `${w.ceil ? 'ceil' : 'floor'}((${d}+${pb + pe}-${eff})/${s})+1`;
  }
  const span = d + pb + pe - eff;
  if (span < 0) throw new OpError(`the window (kernel ${k}, dilation ${dil}) is larger than the padded input (${d} + ${pb} + ${pe})`);
  if (!w.ceil) return Math.floor(span / s) + 1;
  let out = Math.ceil(span / s) + 1;
  if ((out - 1) * s >= d + pb) out--;
  return out;
}

/** Input positions of a window element: out * stride - padBegin + k * dilation, per spatial dim. */
export function windowPositions(out: readonly Expr[], ks: readonly Expr[], w: Window): Expr[] {
  return out.map((o, i) => sub(add(mul(o, int(w.strides[i]!)), mul(ks[i]!, int(w.dilations[i]!))), int(w.pads[i]!)));
}

/**
 * The in-bounds condition for reading the input at `pos`, with only the checks a
 * window can actually violate (none when no window leaves the input).
 */
export function inBounds(pos: readonly Expr[], inDims: readonly number[], outDims: readonly number[], w: Window): Expr {
  let cond: Expr = int(1, 'bool');
  pos.forEach((p, i) => {
    const lowest = -w.pads[i]!;
    const highest = (outDims[i]! - 1) * w.strides[i]! - w.pads[i]! + (w.kernel[i]! - 1) * w.dilations[i]!;
    if (lowest < 0) cond = andE(cond, ge(p, int(0)));
    if (highest >= inDims[i]!) cond = andE(cond, lt(p, int(inDims[i]!)));
  });
  return cond;
}

/** Output channels per block in the blocked kernel layout OHWI4o: W[O/4, k..., I, 4]. */
export const KERNEL_BLOCK = 4;

/**
 * The weight's logical [O, I, k...] shape. Conv's `kernel_layout` attribute says how the
 * weight is stored: 'OIHW' (the ONNX layout, default) or 'OHWI4o' = W[O/4, k..., I, 4],
 * output channels blocked by 4 innermost (a schedule loads 4 output channels' weights as
 * one vector) and input channels next (a reduction over them walks the weights
 * contiguously). AlterOpLayout chooses it.
 */
function logicalWeightShape(shape: readonly Dim[], attrs: Attrs): Dim[] {
  const layout = attrString(attrs, 'kernel_layout', 'OIHW');
  if (layout === 'OIHW') return [...shape];
  if (layout !== 'OHWI4o') throw new OpError(`unsupported kernel_layout ${layout}`);
  const last = shape[shape.length - 1];
  if (shape.length < 3 || last !== KERNEL_BLOCK || typeof shape[0] !== 'number') throw new OpError(`weight ${fmt(shape)} is not in the OHWI4o layout`);
  return [shape[0] * KERNEL_BLOCK, shape[shape.length - 2]!, ...shape.slice(1, -2)];
}

/** A read of a weight stored in OHWI4o at logical (output block, input channel, taps, output lane). */
export function blockedWeightAt(w: TeTensor, ob: Expr, c: Expr, ks: readonly Expr[], lane: Expr): Expr {
  return w.at(ob, ...ks, c, lane);
}

/** Whether some window reaches outside the input (so reads need padding or guards). */
function windowLeavesInput(inDims: readonly number[], outDims: readonly number[], w: Window): boolean {
  return inDims.some((d, i) => {
    const highest = (outDims[i]! - 1) * w.strides[i]! - w.pads[i]! + (w.kernel[i]! - 1) * w.dilations[i]!;
    return w.pads[i]! > 0 || highest >= d;
  });
}

/**
 * X zero-padded by the window's pads: [N, C, D_i + pad_begin_i + pad_end_i], or with
 * `blocked` [N, C/4, D_i', ..., 4] (channels blocked innermost, kept as its own stage).
 */
function padInput(x: TeTensor, w: Window, blocked = false): TeTensor {
  const n = x.rank - 2;
  const spatial = x.shape.slice(2).map((d, i) => d + w.pads[i]! + w.pads[n + i]!);
  const value = (ni: Expr, ci: Expr, sp: readonly Expr[]): Expr => {
    const pos = sp.map((p, i) => sub(p, int(w.pads[i]!)));
    let ok: Expr = int(1, 'bool');
    pos.forEach((p, i) => {
      if (w.pads[i]! > 0) ok = andE(ok, ge(p, int(0)));
      if (w.pads[n + i]! > 0) ok = andE(ok, lt(p, int(x.shape[i + 2]!)));
    });
    return select(ok, x.at(ni, ci, ...pos), constant(0, x.dtype));
  };
  if (!blocked) return compute([x.shape[0]!, x.shape[1]!, ...spatial], (...idx) => value(idx[0]!, idx[1]!, idx.slice(2)), 'Conv_pad');
  const shape = [x.shape[0]!, x.shape[1]! / KERNEL_BLOCK, ...spatial, KERNEL_BLOCK];
  return compute(shape, (...idx) => value(idx[0]!, add(mul(idx[1]!, int(KERNEL_BLOCK)), idx[idx.length - 1]!), idx.slice(2, -1)), 'Conv_pad', { materialize: true });
}

/** Reduce axes over a kernel window. */
export function kernelAxes(w: Window, prefix: string) {
  return w.kernel.map((k, i) => reduceAxis(k, `${prefix}${i}`));
}

// ------------------------------------------------------------------ Conv

/**
 * Conv: X[N, C, D1..Dn], W[M, C/group, k1..kn], optional B[M] → Y[N, M, O1..On].
 * TE: one sum-reduction over (input channel of the group, kernel window), then an
 * elementwise bias epilogue. Pattern out-elemwise-fusable (elementwise consumers fuse
 * into its epilogue; producers do not fuse into it).
 */
registerOp({
  name: 'Conv',
  pattern: 'out-elemwise-fusable',
  inferTypes(inputs, attrs) {
    const [x, w0, b] = checkArity(inputs, 2, 3);
    const w = { ...w0!, shape: logicalWeightShape(w0!.shape, attrs) };
    checkDType(x!, FLOAT_TYPES);
    checkSameDType([x!, w, b ?? null]);
    if (x!.shape.length < 3) throw new OpError(`input must be [N, C, spatial...] (rank >= 3), got ${fmt(x!.shape)}`);
    if (w.shape.length !== x!.shape.length) throw new OpError(`weight ${fmt(w.shape)} must have the input's rank ${x!.shape.length}`);
    const n = x!.shape.length - 2;
    const win = windowAttrs(attrs, n, w.shape.slice(2), true);
    const group = attrInt(attrs, 'group', 1);
    if (!Number.isInteger(group) || group < 1) throw new OpError(`group must be a positive integer, got ${group}`);
    const [, c] = x!.shape;
    const [m, cg] = w.shape;
    if (typeof c === 'number' && typeof cg === 'number' && cg * group !== c) {
      throw new OpError(`input channels ${c} do not match weight ${fmt(w.shape)}: weight channels ${cg} x group ${group} = ${cg * group}`);
    }
    if (typeof m === 'number' && m % group !== 0) throw new OpError(`output channels ${m} are not divisible by group ${group}`);
    w.shape.slice(2).forEach((d, i) => {
      if (!dimsCompatible(d, win.kernel[i]!)) throw new OpError(`kernel_shape ${fmt(win.kernel)} does not match weight ${fmt(w.shape)}`);
    });
    if (b) {
      if (b.shape.length !== 1 || !dimsCompatible(b.shape[0]!, m!)) throw new OpError(`bias must be [${m}], got ${fmt(b.shape)}`);
    }
    const spatial = x!.shape.slice(2).map((d, i) => windowOut(d, win, i));
    return [{ dtype: x!.dtype, shape: [x!.shape[0]!, m!, ...spatial] }];
  },
  compute([x, w, b], attrs, [out]) {
    const n = x!.rank - 2;
    const wShape = logicalWeightShape(w!.shape, attrs) as number[];
    const win = windowAttrs(attrs, n, wShape.slice(2), true);
    const blocked = attrString(attrs, 'kernel_layout', 'OIHW') !== 'OIHW';
    /** W[m, c, k...] in the logical OIHW order, whatever the stored layout. */
    const wAt = (m: Expr, c: Expr, ks: Expr[]): Expr =>
      blocked ? blockedWeightAt(w!, floordiv(m, int(KERNEL_BLOCK)), c, ks, floormod(m, int(KERNEL_BLOCK))) : w!.at(m, c, ...ks);
    const group = attrInt(attrs, 'group', 1);
    const outShape = out!.shape as number[];
    const m = wShape[0]!, cg = wShape[1]!;
    const mg = m / group;
    const rc = reduceAxis(cg, 'rc');
    const rk = kernelAxes(win, 'rk');
    // Where a window can leave the input, read a zero-padded copy (a separate block the
    // schedule may materialize), so the reduction itself has no bounds checks.
    // Depthwise: read the input through a padded copy blocked by 4 channels
    // ([N, C/4, H', W', 4]), so 4 channels' taps are one vector like the blocked weights.
    const depthwise = group > 1 && cg === 1 && mg === 1 && group % KERNEL_BLOCK === 0;
    const padded = depthwise ? padInput(x!, win, true)
      : windowLeavesInput(x!.shape.slice(2), outShape.slice(2), win) ? padInput(x!, win) : undefined;
    const conv = compute(outShape, (...idx) => {
      const [ni, mi, ...o] = idx as [Var, Var, ...Var[]];
      const ci = group === 1 ? rc.var : cg === 1 ? floordiv(mi, int(mg)) : add(mul(floordiv(mi, int(mg)), int(cg)), rc.var);
      const pos = windowPositions(o, rk.map((r) => r.var), win);
      const wv = wAt(mi, rc.var, rk.map((r) => r.var));
      if (!padded) return sum(mul(x!.at(ni, ci, ...pos), wv), [rc, ...rk]);
      const ppos = pos.map((p, i) => add(p, int(win.pads[i]!)));
      const xv = depthwise
        ? padded.at(ni, floordiv(ci, int(KERNEL_BLOCK)), ...ppos, floormod(ci, int(KERNEL_BLOCK)))
        : padded.at(ni, ci, ...ppos);
      return sum(mul(xv, wv), [rc, ...rk]);
    }, b ? 'Conv_acc' : 'Conv');
    if (!b) return [conv];
    return [compute(outShape, (...idx) => add(conv.at(...idx), b.at(idx[1]!)), 'Conv')];
  },
});

// ------------------------------------------------------------------ pooling

/**
 * Pools run in NCHW or, with attribute layout='NCHW4c' (ConvertLayout), on blocked
 * activations [N, C/4, spatial..., 4]: the trailing 4 channels ride along every index.
 */
function poolBlocked(attrs: Attrs): boolean {
  const layout = attrString(attrs, 'layout', 'NCHW');
  if (layout !== 'NCHW' && layout !== 'NCHW4c') throw new OpError(`unsupported layout ${layout}`);
  return layout === 'NCHW4c';
}

/** The spatial dims of a pool's input or output under its layout. */
function poolSpatial<T>(shape: readonly T[], blocked: boolean): T[] {
  return shape.slice(2, blocked ? -1 : undefined);
}

/** A pool output index split into batch, channel (block), spatial and the lane index list ([] or [c4]). */
function splitPoolIndex(idx: readonly Var[], blocked: boolean): { ni: Var; ci: Var; o: Var[]; lane: Var[] } {
  const [ni, ci, ...rest] = idx as [Var, Var, ...Var[]];
  return blocked ? { ni, ci, o: rest.slice(0, -1), lane: rest.slice(-1) } : { ni, ci, o: rest, lane: [] };
}

/**
 * A blocked pool's input padded with `value` so that every window lies inside it, as its
 * own stage: the window loop then reads without bounds checks and vectorizes over the
 * blocked channels. Returns the reads of window element `ks` for output position `o`.
 */
function paddedPoolReads(x: TeTensor, outSpatial: readonly number[], w: Window, value: Expr): (ni: Expr, ci: Expr, o: readonly Expr[], ks: readonly Expr[], lane: readonly Expr[]) => Expr {
  const inSpatial = poolSpatial(x.shape, true);
  const begin = inSpatial.map((_, i) => w.pads[i]!);
  const end = inSpatial.map((d, i) => Math.max(0, (outSpatial[i]! - 1) * w.strides[i]! - w.pads[i]! + (w.kernel[i]! - 1) * w.dilations[i]! - (d - 1)));
  const shape = [x.shape[0]!, x.shape[1]!, ...inSpatial.map((d, i) => d + begin[i]! + end[i]!), KERNEL_BLOCK];
  const padded = compute(shape, (...idx) => {
    const sp = idx.slice(2, -1).map((p, i) => sub(p, int(begin[i]!)));
    let ok: Expr = int(1, 'bool');
    sp.forEach((p, i) => {
      if (begin[i]! > 0) ok = andE(ok, ge(p, int(0)));
      if (end[i]! > 0) ok = andE(ok, lt(p, int(inSpatial[i]!)));
    });
    return select(ok, x.at(idx[0]!, idx[1]!, ...sp, idx[idx.length - 1]!), value);
  }, 'Pool_pad', { materialize: true });
  return (ni, ci, o, ks, lane) => padded.at(ni, ci, ...o.map((oi, i) => add(mul(oi, int(w.strides[i]!)), mul(ks[i]!, int(w.dilations[i]!)))), ...lane);
}

/**
 * The read of window element `ks` for output position `o` of a pool: through a padded
 * stage for blocked pools whose windows leave the input, else a guarded read (`pad`
 * outside the input).
 */
function poolReads(x: TeTensor, outShape: readonly number[], w: Window, blocked: boolean, pad: Expr): (ni: Expr, ci: Expr, o: readonly Expr[], ks: readonly Expr[], lane: readonly Expr[]) => Expr {
  const inSpatial = poolSpatial(x.shape, blocked);
  const outSpatial = poolSpatial(outShape, blocked);
  if (blocked && windowLeavesInput(inSpatial, outSpatial, w)) return paddedPoolReads(x, outSpatial, w, pad);
  return (ni, ci, o, ks, lane) => {
    const pos = windowPositions(o, ks, w);
    return select(inBounds(pos, inSpatial, outSpatial, w), x.at(ni, ci, ...pos, ...lane), pad);
  };
}

function poolInfer(inputs: readonly (TensorType | null)[], attrs: Attrs, types: readonly DType[], dilations: boolean): TensorType[] {
  const [x] = checkArity(inputs, 1);
  checkDType(x!, types);
  const blocked = poolBlocked(attrs);
  if (x!.shape.length < 3 + (blocked ? 1 : 0)) throw new OpError(`input must be [N, C, spatial...] (rank >= 3), got ${fmt(x!.shape)}`);
  if (blocked && x!.shape[x!.shape.length - 1] !== KERNEL_BLOCK) throw new OpError(`input ${fmt(x!.shape)} is not in the NCHW4c layout`);
  const spatial = poolSpatial(x!.shape, blocked);
  const n = spatial.length;
  const win = windowAttrs(attrs, n, undefined, dilations);
  for (let i = 0; i < n; i++) {
    const eff = (win.kernel[i]! - 1) * win.dilations[i]! + 1;
    if (win.pads[i]! >= eff || win.pads[n + i]! >= eff) {
      // ONNX requires pads smaller than the kernel; otherwise whole windows would lie in the padding.
      throw new OpError(`pads ${fmt(win.pads)} must be smaller than the kernel ${fmt(win.kernel)}`);
    }
  }
  const out = [x!.shape[0]!, x!.shape[1]!, ...spatial.map((d, i) => windowOut(d, win, i)), ...(blocked ? [KERNEL_BLOCK] : [])];
  return [{ dtype: x!.dtype, shape: out }];
}

/**
 * MaxPool / AveragePool. Pattern 'reduce': each output is a commutative reduction
 * over its window (like a Reduce* op with a windowed read), so injective producers
 * may be fused into its reads and elementwise consumers into its epilogue.
 */
registerOp({
  name: 'MaxPool',
  pattern: 'reduce',
  inferTypes: (inputs, attrs) => poolInfer(inputs, attrs, [...FLOAT_TYPES, 'int8', 'uint8'], true),
  compute([x], attrs, [out]) {
    const blocked = poolBlocked(attrs);
    const outShape = out!.shape as number[];
    const win = windowAttrs(attrs, poolSpatial(outShape, blocked).length, undefined, true);
    const rk = kernelAxes(win, 'rk');
    const read = poolReads(x!, outShape, win, blocked, constant(reduceIdentity('max', x!.dtype), x!.dtype)); // -inf for floats
    return [compute(outShape, (...idx) => {
      const { ni, ci, o, lane } = splitPoolIndex(idx, blocked);
      return maxReduce(read(ni, ci, o, rk.map((r) => r.var), lane), rk);
    }, 'MaxPool')];
  },
});

/**
 * The divisor of average pooling along one dim, as a function of the output index:
 * count_include_pad counts window positions inside the padded input [-padBegin,
 * D + padEnd); otherwise only those inside the input [0, D). A number when it is the
 * same for every output index.
 */
function poolCount(o: Expr, i: number, inDim: number, outDim: number, w: Window, includePad: boolean): Expr | number {
  const k = w.kernel[i]!, s = w.strides[i]!, d = w.dilations[i]!, pb = w.pads[i]!, pe = w.pads[w.kernel.length + i]!;
  const lo = includePad ? -pb : 0;
  const hi = includePad ? inDim + pe : inDim; // exclusive
  // Window elements r in [0, k) with lo <= oi*s - pb + r*d < hi, counted in closed form (k may be huge).
  const countAt = (oi: number): number => {
    const start = oi * s - pb;
    const rLo = Math.max(0, Math.ceil((lo - start) / d));
    const rHi = Math.min(k - 1, Math.floor((hi - 1 - start) / d));
    return Math.max(0, rHi - rLo + 1);
  };
  const first = countAt(0);
  let uniform = true;
  for (let oi = 1; oi < outDim && uniform; oi++) if (countAt(oi) !== first) uniform = false;
  if (uniform) return first;
  // start = o*s - pb; valid r: lo <= start + r*d < hi  =>  r in [ceil((lo-start)/d), floor((hi-1-start)/d)] ∩ [0, k-1]
  const start = sub(mul(o, int(s)), int(pb));
  const rLo = max(int(0), floordiv(add(sub(int(lo), start), int(d - 1)), int(d)));
  const rHi = min(int(k - 1), floordiv(sub(int(hi - 1), start), int(d)));
  return max(int(0), add(sub(rHi, rLo), int(1)));
}

registerOp({
  name: 'AveragePool',
  pattern: 'reduce',
  inferTypes: (inputs, attrs) => poolInfer(inputs, attrs, FLOAT_TYPES, true),
  compute([x], attrs, [out]) {
    const blocked = poolBlocked(attrs);
    const outShape = out!.shape as number[];
    const inSpatial = poolSpatial(x!.shape, blocked);
    const outSpatial = poolSpatial(outShape, blocked);
    const win = windowAttrs(attrs, outSpatial.length, undefined, true);
    const includePad = attrInt(attrs, 'count_include_pad', 0) !== 0;
    const dtype = x!.dtype;
    const rk = kernelAxes(win, 'rk');
    const read = poolReads(x!, outShape, win, blocked, constant(0, dtype));
    const total = compute(outShape, (...idx) => {
      const { ni, ci, o, lane } = splitPoolIndex(idx, blocked);
      return sum(read(ni, ci, o, rk.map((r) => r.var), lane), rk);
    }, 'AveragePool_sum');
    return [compute(outShape, (...idx) => {
      let constCount = 1;
      let count: Expr | undefined;
      splitPoolIndex(idx, blocked).o.forEach((o, i) => {
        const c = poolCount(o, i, inSpatial[i]!, outSpatial[i]!, win, includePad);
        if (typeof c === 'number') constCount *= c;
        else count = count ? mul(count, c) : c;
      });
      const divisor = count ? mul(cast(count, dtype), constant(constCount, dtype)) : constant(constCount, dtype);
      return div(total.at(...idx), divisor);
    }, 'AveragePool')];
  },
});

function globalPoolInfer(inputs: readonly (TensorType | null)[], attrs: Attrs): TensorType[] {
  const [x] = checkArity(inputs, 1);
  checkDType(x!, FLOAT_TYPES);
  const blocked = poolBlocked(attrs);
  if (x!.shape.length < 2) throw new OpError(`input must be [N, C, spatial...], got ${fmt(x!.shape)}`);
  if (blocked && (x!.shape.length < 3 || x!.shape[x!.shape.length - 1] !== KERNEL_BLOCK)) throw new OpError(`input ${fmt(x!.shape)} is not in the NCHW4c layout`);
  const spatial = poolSpatial(x!.shape, blocked);
  return [{ dtype: x!.dtype, shape: [x!.shape[0]!, x!.shape[1]!, ...spatial.map(() => 1), ...(blocked ? [KERNEL_BLOCK] : [])] }];
}

/** A global pool's reduction: over every spatial position of x, per (n, c[, c4]). */
function globalReduce(x: TeTensor, attrs: Attrs, shape: readonly number[], reducer: (e: Expr, axes: IterVar[]) => Expr, name: string): TeTensor {
  const blocked = poolBlocked(attrs);
  const rs = poolSpatial(x.shape, blocked).map((d, i) => reduceAxis(d, `rs${i}`));
  return compute(shape, (...idx) => {
    const { ni, ci, lane } = splitPoolIndex(idx, blocked);
    return reducer(x.at(ni, ci, ...rs.map((r) => r.var), ...lane), rs);
  }, name);
}

/** Global pools: a reduction over all spatial dims, output [N, C, 1, ...]. Pattern 'reduce'. */
registerOp({
  name: 'GlobalMaxPool',
  pattern: 'reduce',
  inferTypes: globalPoolInfer,
  compute([x], attrs, [out]) {
    return [globalReduce(x!, attrs, out!.shape as number[], maxReduce, 'GlobalMaxPool')];
  },
});

registerOp({
  name: 'GlobalAveragePool',
  pattern: 'reduce',
  inferTypes: globalPoolInfer,
  compute([x], attrs, [out]) {
    const shape = out!.shape as number[];
    const total = globalReduce(x!, attrs, shape, sum, 'GlobalAveragePool_sum');
    const count = poolSpatial(x!.shape, poolBlocked(attrs)).reduce((a, d) => a * d, 1);
    return [compute(shape, (...idx) => div(total.at(...idx), constant(count, x!.dtype)), 'GlobalAveragePool')];
  },
});

// ------------------------------------------------------------------ Gemm, MatMul

const GEMM_TYPES: readonly DType[] = [...FLOAT_TYPES, 'int32', 'int64', 'uint32', 'uint64'];

/**
 * Gemm: Y = alpha * op(A) @ op(B) + beta * C, op = optional transpose; C (optional)
 * broadcasts unidirectionally to [M, N]. Pattern out-elemwise-fusable.
 */
registerOp({
  name: 'Gemm',
  pattern: 'out-elemwise-fusable',
  inferTypes(inputs, attrs) {
    const [a, bStored, c] = checkArity(inputs, 2, 3);
    checkDType(a!, GEMM_TYPES);
    checkSameDType([a!, bStored!, c ?? null]);
    const b = { ...bStored!, shape: logicalWeight(bStored!.shape, attrs) };
    if (a!.shape.length !== 2 || b.shape.length !== 2) throw new OpError(`A and B must be 2-D, got ${fmt(a!.shape)} and ${fmt(b.shape)}`);
    const transA = attrInt(attrs, 'transA', 0) !== 0;
    const transB = attrInt(attrs, 'transB', 0) !== 0;
    if (transB && attrString(attrs, 'weight_layout', 'KN') !== 'KN') throw new OpError('a blocked weight_layout needs transB=0');
    attrFloat(attrs, 'alpha', 1);
    attrFloat(attrs, 'beta', 1);
    const [m, ka] = transA ? [a!.shape[1]!, a!.shape[0]!] : [a!.shape[0]!, a!.shape[1]!];
    const [kb, n] = transB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
    if (!dimsCompatible(ka, kb)) {
      throw new OpError(`inner dims differ: A${transA ? '^T' : ''} is [${m}, ${ka}], B${transB ? '^T' : ''} is [${kb}, ${n}]`);
    }
    if (c) {
      if (c.shape.length > 2) throw new OpError(`C must be broadcastable to [${m}, ${n}], got ${fmt(c.shape)}`);
      const bc = tryBroadcast([m, n], c.shape);
      if (!bc || !dimsCompatible(bc[0]!, m) || !dimsCompatible(bc[1]!, n)) throw new OpError(`C ${fmt(c.shape)} is not broadcastable to [${m}, ${n}]`);
    }
    return [{ dtype: a!.dtype, shape: [m, n] }];
  },
  compute([a, b, c], attrs, [out]) {
    const transA = attrInt(attrs, 'transA', 0) !== 0;
    const transB = attrInt(attrs, 'transB', 0) !== 0;
    const alpha = attrFloat(attrs, 'alpha', 1);
    const beta = attrFloat(attrs, 'beta', 1);
    const shape = out!.shape as number[];
    const kDim = transA ? a!.shape[0]! : a!.shape[1]!;
    const k = reduceAxis(kDim, 'k');
    const hasC = !!c && beta !== 0;
    const plain = alpha === 1 && !hasC;
    const mm = compute(shape, (i, j) => sum(mul(
      transA ? a!.at(k.var, i!) : a!.at(i!, k.var),
      transB ? b!.at(j!, k.var) : weightRead(b!, attrs, k.var, j!),
    ), [k]), plain ? 'Gemm' : 'Gemm_mm');
    if (plain) return [mm];
    const dtype = a!.dtype;
    return [compute(shape, (i, j) => {
      let v = mul(mm.at(i!, j!), constant(alpha, dtype));
      if (hasC) v = add(v, mul(broadcastRead(c!, [i!, j!]), constant(beta, dtype)));
      return v;
    }, 'Gemm')];
  },
});

/** Columns per block of a blocked matmul weight (layout `NK16n`: B[K, N] stored as [N/16, K, 16]). */
export const MATMUL_BLOCK = 16;

/**
 * B's logical [K, N] shape. The `weight_layout` attribute of MatMul and Gemm says how a
 * (constant, 2-D) B is stored: 'KN' as given, or 'NK16n' (AlterOpLayout), blocks of 16
 * columns each contiguous along K, so a tile's weight panel is one sequential stream.
 * With `weight_columns` N, the last block is zero-padded (N not a multiple of 16: a
 * 1000-class head); the padding columns are never read.
 */
function logicalWeight(b: readonly Dim[], attrs: Attrs): readonly Dim[] {
  const layout = attrString(attrs, 'weight_layout', 'KN');
  if (layout === 'KN') return b;
  if (layout !== 'NK16n') throw new OpError(`unsupported weight_layout ${layout}`);
  if (b.length !== 3 || b[2] !== MATMUL_BLOCK || typeof b[0] !== 'number') throw new OpError(`weight ${fmt(b)} is not in the NK16n layout`);
  const stored = b[0] * MATMUL_BLOCK;
  const n = attrInt(attrs, 'weight_columns', stored);
  if (n > stored || n <= stored - MATMUL_BLOCK) throw new OpError(`weight_columns ${n} does not fit the ${b[0]} column blocks of weight ${fmt(b)}`);
  return [b[1]!, n];
}

/** A read of B at logical (k, j) under its weight layout. */
function weightRead(b: TeTensor, attrs: Attrs, k: Expr, j: Expr): Expr {
  return attrString(attrs, 'weight_layout', 'KN') === 'KN' ? b.at(k, j) : b.at(floordiv(j, int(MATMUL_BLOCK)), k, floormod(j, int(MATMUL_BLOCK)));
}

/** MatMul's shapes: [batch..., M?, N?], with numpy's 1-D promotion (dropped dims absent). */
export function matmulShape(a: readonly Dim[], b: readonly Dim[]): Dim[] {
  if (a.length === 0 || b.length === 0) throw new OpError(`MatMul inputs must have rank >= 1, got ${fmt(a)} and ${fmt(b)}`);
  const a2 = a.length === 1 ? [1, a[0]!] : a;
  const b2 = b.length === 1 ? [b[0]!, 1] : b;
  const ka = a2[a2.length - 1]!, kb = b2[b2.length - 2]!;
  if (!dimsCompatible(ka, kb)) throw new OpError(`inner dims differ: ${fmt(a)} @ ${fmt(b)} (${ka} vs ${kb})`);
  let batch: Dim[];
  try {
    batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2));
  } catch {
    throw new OpError(`batch dims of ${fmt(a)} and ${fmt(b)} cannot be broadcast`);
  }
  const out = [...batch];
  if (a.length > 1) out.push(a2[a2.length - 2]!);
  if (b.length > 1) out.push(b2[b2.length - 1]!);
  return out;
}

/** The batch part of a read of `t` (rank >= 3 part only), right-aligned against the output batch indices. */
export function batchRead(t: TeTensor, batchIdx: readonly Expr[]): Expr[] {
  const tb = t.shape.slice(0, -2);
  const off = batchIdx.length - tb.length;
  return tb.map((d, i) => (d === 1 ? int(0) : batchIdx[off + i]!));
}

/** MatMul (numpy semantics): batched with broadcast batch dims, 1-D promotion. Pattern out-elemwise-fusable. */
registerOp({
  name: 'MatMul',
  pattern: 'out-elemwise-fusable',
  inferTypes(inputs, attrs) {
    const [a, b] = checkArity(inputs, 2);
    checkDType(a!, NUMERIC_TYPES);
    checkSameDType([a!, b!]);
    return [{ dtype: a!.dtype, shape: matmulShape(a!.shape, logicalWeight(b!.shape, attrs)) }];
  },
  compute([a, b], attrs, [out]) {
    const blocked = attrString(attrs, 'weight_layout', 'KN') !== 'KN';
    const shape = out!.shape as number[];
    const kDim = a!.shape[a!.rank - 1]!;
    const k = reduceAxis(kDim, 'k');
    const bRank = blocked ? 2 : b!.rank; // a blocked B is 2-D
    const nBatch = Math.max(a!.rank, bRank, 2) - 2;
    return [compute(shape, (...idx) => {
      const batch = idx.slice(0, nBatch);
      let p = nBatch;
      const i = a!.rank > 1 ? idx[p++]! : undefined;
      const j = bRank > 1 ? idx[p++]! : undefined;
      const av = a!.rank === 1 ? a!.at(k.var) : a!.at(...batchRead(a!, batch), i!, k.var);
      const bv = blocked ? weightRead(b!, attrs, k.var, j!) : b!.rank === 1 ? b!.at(k.var) : b!.at(...batchRead(b!, batch), k.var, j!);
      return sum(mul(av, bv), [k]);
    }, 'MatMul')];
  },
});

// ------------------------------------------------------------------ BatchNormalization

/**
 * BatchNormalization (inference): Y = (X - mean[c]) / sqrt(var[c] + epsilon) * scale[c] + B[c],
 * with c the index on axis 1. Inputs X, scale, B, mean, var. Pattern broadcast.
 */
registerOp({
  name: 'BatchNormalization',
  pattern: 'broadcast',
  inferTypes(inputs, attrs) {
    const [x, ...params] = checkArity(inputs, 5);
    checkDType(x!, FLOAT_TYPES);
    attrFloat(attrs, 'epsilon', 1e-5);
    if (x!.shape.length < 2) throw new OpError(`input must be [N, C, ...], got ${fmt(x!.shape)}`);
    const c = x!.shape[1]!;
    const names = ['scale', 'B', 'mean', 'var'];
    params.forEach((p, i) => {
      if (p!.dtype !== x!.dtype) throw new OpError(`${names[i]} has dtype ${p!.dtype}, input has ${x!.dtype}`);
      if (p!.shape.length !== 1 || !dimsCompatible(p!.shape[0]!, c)) throw new OpError(`${names[i]} must be [${c}], got ${fmt(p!.shape)}`);
    });
    return [x!];
  },
  compute([x, scale, bias, mean, variance], attrs, [out]) {
    const dtype = x!.dtype;
    const eps = constant(attrFloat(attrs, 'epsilon', 1e-5), dtype);
    return [compute(out!.shape as number[], (...idx) => {
      const c = idx[1]!;
      const norm = div(sub(x!.at(...idx), mean!.at(c)), call('sqrt', [add(variance!.at(c), eps)]));
      return add(mul(norm, scale!.at(c)), bias!.at(c));
    }, 'BatchNormalization')];
  },
});

/**
 * BatchNormalizationTraining (ONNX BatchNormalization with training_mode=1): normalizes
 * with the batch statistics over every axis but 1 (mean, population variance) and
 * outputs Y, running_mean = input_mean * momentum + mean * (1 - momentum) and
 * running_var = input_var * momentum + var * (1 - momentum). Attributes epsilon,
 * momentum. Two reductions (sum, centered sum of squares), then elementwise steps.
 * Pattern opaque.
 */
registerOp({
  name: 'BatchNormalizationTraining',
  pattern: 'opaque',
  inferTypes(inputs, attrs) {
    const [y] = getOp('BatchNormalization').inferTypes(inputs, attrs); // the inference op's checks
    attrFloat(attrs, 'momentum', 0.9);
    return [y!, inputs[3]!, inputs[4]!];
  },
  compute([x, scale, bias, inMean, inVar], attrs, outs) {
    const shape = outs[0]!.shape as number[];
    const dtype = x!.dtype;
    const eps = constant(attrFloat(attrs, 'epsilon', 1e-5), dtype);
    const momentum = attrFloat(attrs, 'momentum', 0.9);
    const count = constant(shape.reduce((a, d, i) => (i === 1 ? a : a * d), 1), dtype);
    const axesOf = (): { rs: ReturnType<typeof reduceAxis>[]; at: (c: Expr) => Expr[] } => {
      const rs = shape.filter((_, i) => i !== 1).map((d, i) => reduceAxis(d, `r${i}`));
      return { rs, at: (c) => [rs[0]!.var, c, ...rs.slice(1).map((r) => r.var)] };
    };
    const a1 = axesOf();
    const total = compute([shape[1]!], (c) => sum(x!.at(...a1.at(c!)), a1.rs), 'BatchNormalizationTraining_sum');
    const mean = compute([shape[1]!], (c) => div(total.at(c!), count), 'BatchNormalizationTraining_mean');
    const a2 = axesOf();
    const sq = compute([shape[1]!], (c) => {
      const dv = sub(x!.at(...a2.at(c!)), mean.at(c!));
      return sum(mul(dv, dv), a2.rs);
    }, 'BatchNormalizationTraining_sqsum');
    const variance = compute([shape[1]!], (c) => div(sq.at(c!), count), 'BatchNormalizationTraining_var');
    const y = compute(shape, (...idx) => {
      const c = idx[1]!;
      const norm = div(sub(x!.at(...idx), mean.at(c)), call('sqrt', [add(variance.at(c), eps)]));
      return add(mul(norm, scale!.at(c)), bias!.at(c));
    }, 'BatchNormalizationTraining');
    const running = (prev: TeTensor, cur: TeTensor, name: string): TeTensor => compute([shape[1]!], (c) =>
      add(mul(prev.at(c!), constant(momentum, dtype)), mul(cur.at(c!), constant(1 - momentum, dtype))), name);
    return [y, running(inMean!, mean, 'BatchNormalizationTraining_running_mean'), running(inVar!, variance, 'BatchNormalizationTraining_running_var')];
  },
});

// ------------------------------------------------------------------ Softmax, LogSoftmax

/** The indices with `v` inserted at position `axis`. */
function insertAt(idx: readonly Expr[], axis: number, v: Expr): Expr[] {
  return [...idx.slice(0, axis), v, ...idx.slice(axis)];
}
function removeAt<T>(idx: readonly T[], axis: number): T[] {
  return [...idx.slice(0, axis), ...idx.slice(axis + 1)];
}

/**
 * Softmax / LogSoftmax over one axis (opset-13 semantics): a max reduction, a
 * sum-of-exp reduction, and an elementwise output (Softmax keeps exp(x - max) in a stage
 * of its own, so each exp is computed once). Pattern opaque (two chained reductions plus a
 * broadcast epilogue do not fit any simpler kind).
 */
for (const name of ['Softmax', 'LogSoftmax'] as const) {
  registerOp({
    name,
    pattern: 'opaque',
    inferTypes: alongAxisType,
    compute([x], attrs, [out]) {
      const shape = out!.shape as number[];
      const axis = normAxis(attrInt(attrs, 'axis', -1), shape.length);
      const red = removeAt(shape, axis);
      const extent = shape[axis]!;
      const k1 = reduceAxis(extent, 'k');
      const mx = compute(red, (...ri) => maxReduce(x!.at(...insertAt(ri, axis, k1.var)), [k1]), `${name}_max`);
      const k2 = reduceAxis(extent, 'k');
      if (name === 'Softmax') {
        // exp(x - max) once, kept in its own stage, then summed and normalized.
        const e = compute(shape, (...idx) => call('exp', [sub(x!.at(...idx), mx.at(...removeAt(idx, axis)))]), 'Softmax_exp', { materialize: true });
        const se = compute(red, (...ri) => sum(e.at(...insertAt(ri, axis, k2.var)), [k2]), 'Softmax_sum');
        // Scaled by 1/sum (one division per row, hoisted out of the row's loop) rather than
        // divided per element: at most an ulp from the quotient, as onnxruntime computes it.
        return [compute(shape, (...idx) => mul(e.at(...idx), div(constant(1, x!.dtype), se.at(...removeAt(idx, axis)))), name)];
      }
      // LogSoftmax: x - max - log(sum exp(x - max)).
      const se = compute(red, (...ri) => sum(call('exp', [sub(x!.at(...insertAt(ri, axis, k2.var)), mx.at(...ri))]), [k2]), `${name}_sum`);
      return [compute(shape, (...idx) => {
        const ri = removeAt(idx, axis);
        return sub(sub(x!.at(...idx), mx.at(...ri)), call('log', [se.at(...ri)]));
      }, name)];
    },
  });
}

// ------------------------------------------------------------------ LayerNormalization

/**
 * LayerNormalization: normalizes over dims [axis, rank): Y = (X - mean) / sqrt(var + epsilon)
 * * Scale + B, with Scale and B (both optional here) broadcast to the normalized dims.
 * Outputs Y, Mean and InvStdDev (the last two shaped X.shape[:axis] + [1, ...], of
 * dtype float32 when stash_type is 1 (the default), else the input's; computed only
 * when used). Two-pass (mean, then centered variance). Pattern opaque.
 */
registerOp({
  name: 'LayerNormalization',
  pattern: 'opaque',
  inferTypes(inputs, attrs) {
    const [x, scale, bias] = checkArity(inputs, 1, 3);
    checkDType(x!, FLOAT_TYPES);
    attrFloat(attrs, 'epsilon', 1e-5);
    if (x!.shape.length === 0) throw new OpError('input must have rank >= 1');
    const axis = normAxis(attrInt(attrs, 'axis', -1), x!.shape.length);
    const normShape = x!.shape.slice(axis);
    for (const [t, what] of [[scale, 'Scale'], [bias, 'B']] as const) {
      if (!t) continue;
      if (t.dtype !== x!.dtype) throw new OpError(`${what} has dtype ${t.dtype}, input has ${x!.dtype}`);
      if (t.shape.length > normShape.length) throw new OpError(`${what} ${fmt(t.shape)} must broadcast to the normalized dims ${fmt(normShape)}`);
      const bc = tryBroadcast(normShape, t.shape);
      if (!bc || bc.some((d, i) => !dimsCompatible(d, normShape[i]!))) throw new OpError(`${what} ${fmt(t.shape)} must broadcast to the normalized dims ${fmt(normShape)}`);
    }
    const statType: DType = attrInt(attrs, 'stash_type', 1) === 1 ? 'float32' : x!.dtype;
    const statShape = [...x!.shape.slice(0, axis), ...normShape.map(() => 1)];
    return [x!, { dtype: statType, shape: statShape }, { dtype: statType, shape: statShape }];
  },
  compute([x, scale, bias], attrs, outs) {
    const shape = outs[0]!.shape as number[];
    const dtype = x!.dtype;
    const axis = normAxis(attrInt(attrs, 'axis', -1), shape.length);
    const outer = shape.slice(0, axis);
    const inner = shape.slice(axis);
    const count = constant(inner.reduce((a, d) => a * d, 1), dtype);
    const eps = constant(attrFloat(attrs, 'epsilon', 1e-5), dtype);
    const k1 = inner.map((d, i) => reduceAxis(d, `k${i}`));
    const total = compute(outer, (...oi) => sum(x!.at(...oi, ...k1.map((r) => r.var)), k1), 'LayerNormalization_sum');
    const mean = compute(outer, (...oi) => div(total.at(...oi), count), 'LayerNormalization_mean');
    const k2 = inner.map((d, i) => reduceAxis(d, `k${i}`));
    const sq = compute(outer, (...oi) => {
      const dv = sub(x!.at(...oi, ...k2.map((r) => r.var)), mean.at(...oi));
      return sum(mul(dv, dv), k2);
    }, 'LayerNormalization_sqsum');
    const invStd = (oi: readonly Expr[]): Expr => div(constant(1, dtype), call('sqrt', [add(div(sq.at(...oi), count), eps)]));
    const y = compute(shape, (...idx) => {
      const oi = idx.slice(0, axis);
      let v = mul(sub(x!.at(...idx), mean.at(...oi)), invStd(oi));
      if (scale) v = mul(v, broadcastRead(scale, idx));
      if (bias) v = add(v, broadcastRead(bias, idx));
      return v;
    }, 'LayerNormalization');
    const statShape = outs[1]!.shape as number[];
    const statType = outs[1]!.dtype;
    const meanOut = compute(statShape, (...idx) => cast(mean.at(...idx.slice(0, axis)), statType), 'LayerNormalization_Mean');
    const invStdOut = compute(statShape, (...idx) => cast(invStd(idx.slice(0, axis)), statType), 'LayerNormalization_InvStdDev');
    return [y, meanOut, invStdOut];
  },
});

/**
 * Blocked activation layouts (TVM's NCHW[x]c): channels split into blocks of 4 stored
 * innermost, so a 4-channel vector is contiguous. `LayoutTransform` converts between
 * NCHW and NCHW4c at the boundaries ConvertLayout chooses; `ConvNCHWc` is a 2-D
 * convolution (group 1 or depthwise) on blocked input, blocked output and OHWI4o weights.
 */
import type { Attrs, Dim, TensorType } from '../graph/ir.js';
import { type Expr, type Var, add, constant, floordiv, floormod, int, lt, mul, select } from '../ir/expr.js';
import { type Tensor as TeTensor, compute, reduceAxis, sum } from '../te/tensor.js';
import { OpError, attrInt, attrString, registerOp } from './registry.js';
import { FLOAT_TYPES, checkArity, checkDType, checkSameDType, fmt } from './common.js';
import { KERNEL_BLOCK as C4, type Window, blockedWeightAt, inBounds, kernelAxes, windowAttrs, windowOut, windowPositions } from './nn.js';



/** [N, C, ...] → [N, C/4, ..., 4] */
export function blockedShape(shape: readonly Dim[]): Dim[] {
  const c = shape[1];
  if (typeof c !== 'number' || c % C4 !== 0) throw new OpError(`channels ${String(c)} do not divide into blocks of ${C4}`);
  return [shape[0]!, c / C4, ...shape.slice(2), C4];
}

registerOp({
  name: 'LayoutTransform',
  pattern: 'injective',
  inferTypes(inputs, attrs) {
    const [x] = checkArity(inputs, 1);
    const src = attrString(attrs, 'src_layout');
    const dst = attrString(attrs, 'dst_layout');
    if (src === 'NCHW' && dst === 'NCHW4c') {
      if (x!.shape.length < 3) throw new OpError(`input ${fmt(x!.shape)} has no spatial dims`);
      return [{ dtype: x!.dtype, shape: blockedShape(x!.shape) }];
    }
    if (src === 'NCHW4c' && dst === 'NCHW') {
      const s = x!.shape;
      if (s[s.length - 1] !== C4 || typeof s[1] !== 'number') throw new OpError(`input ${fmt(s)} is not NCHW4c`);
      return [{ dtype: x!.dtype, shape: [s[0]!, s[1] * C4, ...s.slice(2, -1)] }];
    }
    throw new OpError(`unsupported layout transform ${src} -> ${dst}`);
  },
  compute([x], attrs, [out]) {
    const toBlocked = attrString(attrs, 'src_layout') === 'NCHW';
    return [compute(out!.shape as number[], (...i) => {
      if (toBlocked) return x!.at(i[0]!, add(mul(i[1]!, int(C4)), i[i.length - 1]!), ...i.slice(2, -1));
      return x!.at(i[0]!, floordiv(i[1]!, int(C4)), ...i.slice(2), floormod(i[1]!, int(C4)));
    }, 'LayoutTransform')];
  },
});

/**
 * The output width a ConvNCHWc accumulates over. A width with no divisor from 2 to 6
 * (7, 11, 13, …) leaves the register tile one row wide at most positions (its rows must
 * divide the width); it is rounded up to a multiple of 4 when that adds at most 15% of
 * work, the extra columns computed from zero padding and dropped. Measured on
 * ResNet-18's 7x7 layers: 8/7 of the work at 1.4x the speed (13 -> 16 costs more than it gains).
 */
const MAX_EXTRA_WORK = 0.15;

export function tiledWidth(ow: number): number {
  const up = Math.ceil(ow / 4) * 4;
  return awkwardWidth(ow) && (up - ow) / ow <= MAX_EXTRA_WORK ? up : ow;
}

/** A width with no divisor from 2 to 6: a register tile's rows could not divide it. */
function awkwardWidth(ow: number): boolean {
  return ow > 6 && [2, 3, 4, 5, 6].every((d) => ow % d !== 0);
}

/** A 1x1 window with stride 1 and no padding: output position p reads input position p. */
function pointwise(win: Window): boolean {
  return win.kernel.every((k) => k === 1) && win.strides.every((st) => st === 1) && win.pads.every((p) => p === 0);
}

/**
 * A pointwise ConvNCHWc over an awkward width (13x13, 7x7) accumulated over the flattened
 * positions H·W rounded up to a multiple of 4 (169 -> 172 instead of a 13-wide row that a
 * tile can only cover one position at a time, or 13 -> 16 per row): a zero-padded copy of
 * the input holds the positions as one axis [N, C/4, 1, P, 4], the accumulator has the same
 * shape, and the output reads position h·W + w of it.
 */
function pointwiseFlat(x: TeTensor, w: TeTensor, b: TeTensor | null | undefined, outShape: number[], rk: ReturnType<typeof kernelAxes>): TeTensor {
  const [, , oh, ow] = outShape as [number, number, number, number];
  const positions = oh * ow;
  const tiled = Math.ceil(positions / 4) * 4;
  const flat = compute([x.shape[0]!, x.shape[1]!, 1, tiled, C4], (n, c, _h, p, ci) => {
    const read = x.at(n!, c!, floordiv(p!, int(ow)), floormod(p!, int(ow)), ci!);
    return tiled > positions ? select(lt(p!, int(positions)), read, constant(0, x.dtype)) : read;
  }, 'ConvNCHWc_pad');
  const rco = reduceAxis(x.shape[1] as number, 'rco');
  const rci = reduceAxis(C4, 'rci');
  const acc = compute([outShape[0]!, outShape[1]!, 1, tiled, C4], (n, oc, _h, p, oi) => {
    const ic = add(mul(rco.var, int(C4)), rci.var);
    return sum(mul(flat.at(n!, rco.var, int(0), p!, rci.var), blockedWeightAt(w, oc!, ic, rk.map((r) => r.var), oi!)), [rco, ...rk, rci]);
  }, 'ConvNCHWc_acc');
  return compute(outShape, (n, o, h, ww, oi) => {
    const v = acc.at(n!, o!, int(0), add(mul(h!, int(ow)), ww!), oi!);
    return b ? add(v, b.at(add(mul(o!, int(C4)), oi!))) : v;
  }, 'ConvNCHWc');
}

/** 2-D window attributes of a ConvNCHWc (validated like Conv's). */
function convWindow(attrs: Attrs, w: TensorType | TeTensor): Window {
  return windowAttrs(attrs, 2, w.shape.slice(1, 3), true);
}

/** Whether a ConvNCHWc reads a plain NCHW input (in_layout='NCHW': a first conv's 3 channels). */
function plainInput(attrs: Attrs): boolean {
  const layout = attrString(attrs, 'in_layout', 'NCHW4c');
  if (layout !== 'NCHW' && layout !== 'NCHW4c') throw new OpError(`unsupported in_layout ${layout}`);
  return layout === 'NCHW';
}

/**
 * ConvNCHWc: X[N, C/4, H, W, 4], W in OHWI4o [O/4, kh, kw, C/group, 4], optional B[O] →
 * Y[N, O/4, OH, OW, 4]; group 1, depthwise (group = C = O), or grouped with whole blocks per
 * group (C/group and O/group multiples of 4: a block of output channels reads the input
 * blocks of its group). With in_layout='NCHW' (group 1) X is a plain [N, C, H, W] of any
 * channel count and only the output is blocked.
 */
registerOp({
  name: 'ConvNCHWc',
  pattern: 'out-elemwise-fusable',
  inferTypes(inputs, attrs) {
    const [x, w, b] = checkArity(inputs, 2, 3);
    checkDType(x!, FLOAT_TYPES);
    checkSameDType([x!, w!, b ?? null]);
    const plain = plainInput(attrs);
    if (plain ? x!.shape.length !== 4 : x!.shape.length !== 5 || x!.shape[4] !== C4) throw new OpError(`input ${fmt(x!.shape)} is not ${plain ? 'NCHW' : 'NCHW4c'}`);
    if (w!.shape.length !== 5 || w!.shape[4] !== C4) throw new OpError(`weight ${fmt(w!.shape)} is not OHWI4o`);
    const group = attrInt(attrs, 'group', 1);
    if (plain && group !== 1) throw new OpError(`in_layout NCHW needs group 1, got ${group}`);
    const c = (x!.shape[1] as number) * (plain ? 1 : C4);
    const o = (w!.shape[0] as number) * C4;
    const depthwise = group !== 1 && group === c && o === c && w!.shape[3] === 1;
    if (group !== 1 && !depthwise && !((c / group) % C4 === 0 && (o / group) % C4 === 0)) {
      throw new OpError(`group ${group}: a blocked conv needs depthwise or whole blocks of ${C4} channels per group (${c} in, ${o} out)`);
    }
    if (!depthwise && w!.shape[3] !== c / group) throw new OpError(`input channels ${c} (group ${group}) do not match weight ${fmt(w!.shape)}`);
    if (b && (b.shape.length !== 1 || b.shape[0] !== o)) throw new OpError(`bias must be [${o}], got ${fmt(b.shape)}`);
    const win = convWindow(attrs, w!);
    const spatial = x!.shape.slice(2, 4).map((d, i) => windowOut(d, win, i));
    return [{ dtype: x!.dtype, shape: [x!.shape[0]!, o / C4, ...spatial, C4] }];
  },
  compute([x, w, b], attrs, [out]) {
    const win = convWindow(attrs, w!);
    const group = attrInt(attrs, 'group', 1);
    const depthwise = group !== 1 && w!.shape[3] === 1 && group === (x!.shape[1] as number) * C4;
    const plain = plainInput(attrs);
    /** Input blocks each group reads, and output blocks each group writes. */
    const groupBlocks = (x!.shape[1] as number) / group;
    const groupOutBlocks = (out!.shape[1] as number) / group;
    const lanes = plain ? [] : [C4];
    const outShape = out!.shape as number[];
    const inDims = x!.shape.slice(2, 4) as number[];
    const dtype = x!.dtype;
    const rk = kernelAxes(win, 'rk');
    if (group === 1 && !plain && pointwise(win) && awkwardWidth(outShape[3]!) && outShape[2]! * outShape[3]! > 1) {
      return [pointwiseFlat(x!, w!, b, outShape, rk)];
    }
    // The accumulation may run over a few more columns than the output has (tiledWidth).
    const accShape = [...outShape.slice(0, 3), tiledWidth(outShape[3]!), C4];
    const extra = accShape[3]! - outShape[3]!;
    // Zero-pad the blocked input once (a separate stage the schedule keeps), wide enough
    // for the extra columns.
    const pads = [win.pads[0]!, win.pads[1]!, win.pads[2]!, win.pads[3]! + extra * win.strides[1]!];
    const padded = pads.some((p) => p > 0)
      ? compute([x!.shape[0]!, x!.shape[1]!, inDims[0]! + pads[0]! + pads[2]!, inDims[1]! + pads[1]! + pads[3]!, ...lanes], (n, c, h, ww, ...ci) => {
        const pos = [add(h!, int(-pads[0]!)), add(ww!, int(-pads[1]!))];
        const ok = inBounds(pos, inDims, accShape.slice(2, 4), win);
        return select(ok, x!.at(n!, c!, pos[0]!, pos[1]!, ...ci), constant(0, dtype));
      }, 'ConvNCHWc_pad')
      : undefined;
    /** The input at channel (block c, lane ci) — or plain channel c — and position pos. */
    const read = (n: Expr, c: Expr, pos: Expr[], ci: Expr[]): Expr => (padded
      ? padded.at(n, c, add(pos[0]!, int(pads[0]!)), add(pos[1]!, int(pads[1]!)), ...ci)
      : x!.at(n, c, pos[0]!, pos[1]!, ...ci));
    // Blocked input channels as (block, lane): no division in the reduction's indices.
    const rco = reduceAxis(depthwise ? 1 : plain ? (x!.shape[1] as number) : groupBlocks, plain ? 'rc' : 'rco');
    const rci = reduceAxis(depthwise ? 1 : C4, 'rci');
    const acc = compute(accShape, (...idx) => {
      const [n, oc, oh, ow, oi] = idx as [Var, Var, Var, Var, Var];
      const pos = windowPositions([oh, ow], rk.map((r) => r.var), win);
      const ks = rk.map((r) => r.var);
      if (depthwise) return sum(mul(read(n, oc, pos, [oi]), blockedWeightAt(w!, oc, int(0), ks, oi)), [...rk]);
      if (plain) return sum(mul(read(n, rco.var, pos, []), blockedWeightAt(w!, oc, rco.var, ks, oi)), [rco, ...rk]);
      const ic = add(mul(rco.var, int(C4)), rci.var);
      // A group's input blocks start at its index times the blocks it reads.
      const inBlock = group === 1 ? rco.var : add(mul(floordiv(oc, int(groupOutBlocks)), int(groupBlocks)), rco.var);
      return sum(mul(read(n, inBlock, pos, [rci.var]), blockedWeightAt(w!, oc, ic, ks, oi)), [rco, ...rk, rci]);
    }, b || extra > 0 ? 'ConvNCHWc_acc' : 'ConvNCHWc');
    if (!b && extra === 0) return [acc];
    // Bias (and the drop of extra columns): reads of acc at the output's own indices.
    return [compute(outShape, (...i) => (b ? add(acc.at(...i), b.at(add(mul(i[1]!, int(C4)), i[4]!))) : acc.at(...i)), 'ConvNCHWc')];
  },
});

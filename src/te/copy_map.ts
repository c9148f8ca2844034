/**
 * Copy maps: a TE compute whose element is a read of one placeholder at indices affine
 * in its axes (a transpose, a blocked re-layout, a slice, a broadcast), optionally
 * guarded by bounds on the axes with a constant elsewhere (constant padding), read as
 * strides over the placeholder's row-major elements. An axis the indices use only as
 * `floordiv(i, k)` and `floormod(i, k)` with k dividing its extent (NCHW4c -> NCHW) is
 * split into two axes first, which keeps the output's row-major order.
 *
 * Constant folding runs such a compute as a strided copy of the constant's bytes (at
 * memory speed) instead of generating a kernel; the index mapping is the op's own
 * compute, read once, so no op states it twice.
 */
import { type DType, type TypedArray, allocArray, dtypeBytes, isFloat, viewArray } from '../runtime/dtype.js';
import { type Expr, type Var, constValue, int, mapExpr, variable } from '../ir/expr.js';
import { toLinear } from '../tir/arith.js';
import type { Tensor } from './tensor.js';

export interface CopyMap {
  /** The placeholder read. */
  readonly source: Tensor;
  /** Extents of the (split) output axes, row-major like the output. */
  readonly extents: readonly number[];
  /** Source elements per step of each axis (0: broadcast, negative: reversed). */
  readonly strides: readonly number[];
  /** Source element read at the first output element (of the box). */
  readonly offset: number;
  /** Per axis, the range [lo, hi) of indices where the element is read; `fill` elsewhere. */
  readonly lo: readonly number[];
  readonly hi: readonly number[];
  /** The constant outside the box (0 when the box is the whole output). */
  readonly fill: number;
}

/** Splits of an axis found in the indices: floordiv/floormod by k, with k dividing the extent. */
function splitAxes(axes: readonly Var[], extents: readonly number[], indices: readonly Expr[]): { axes: Var[]; extents: number[]; indices: Expr[] } | undefined {
  const divisor = new Map<number, number>();
  let ok = true;
  const find = (e: Expr): Expr | undefined => {
    if (e.kind === 'binary' && (e.op === 'floordiv' || e.op === 'floormod')) {
      const k = constValue(e.b);
      const d = axes.findIndex((v) => e.a.kind === 'var' && v.id === e.a.id);
      if (d < 0 || k === undefined || k <= 0 || extents[d]! % k !== 0 || (divisor.has(d) && divisor.get(d) !== k)) ok = false;
      else divisor.set(d, k);
      return e;
    }
    return undefined;
  };
  for (const e of indices) mapExpr(e, find);
  if (!ok) return undefined;
  if (divisor.size === 0) return { axes: [...axes], extents: [...extents], indices: [...indices] };
  const outAxes: Var[] = [];
  const outExtents: number[] = [];
  const parts = new Map<number, { outer: Var; inner: Var; k: number }>();
  axes.forEach((v, d) => {
    const k = divisor.get(d);
    if (k === undefined) {
      outAxes.push(v);
      outExtents.push(extents[d]!);
      return;
    }
    const outer = variable(`${v.name}_o`);
    const inner = variable(`${v.name}_i`);
    parts.set(v.id, { outer, inner, k });
    outAxes.push(outer, inner);
    outExtents.push(extents[d]! / k, k);
  });
  let plain = true;
  const rewritten = indices.map((e) => mapExpr(e, (x) => {
    if (x.kind === 'binary' && (x.op === 'floordiv' || x.op === 'floormod') && x.a.kind === 'var' && parts.has(x.a.id)) {
      const p = parts.get(x.a.id)!;
      return x.op === 'floordiv' ? p.outer : p.inner;
    }
    if (x.kind === 'var' && parts.has(x.id)) plain = false; // the split axis used whole
    return undefined;
  }));
  return plain ? { axes: outAxes, extents: outExtents, indices: rewritten } : undefined;
}

/** Coefficients of `e` over `axes` and its constant, or undefined when not affine in them. */
function affine(e: Expr, axes: readonly Var[]): { coef: number[]; constant: number } | undefined {
  const l = toLinear(e);
  if (!l) return undefined;
  const coef = axes.map(() => 0);
  for (const t of l.terms.values()) {
    const d = axes.findIndex((v) => v.id === t.v.id);
    if (d < 0) return undefined;
    coef[d] = t.c;
  }
  return { coef, constant: l.constant };
}

/** Narrows [lo, hi) by a conjunction of bounds on single axes; false when `cond` is not one. */
function applyBounds(cond: Expr, axes: readonly Var[], lo: number[], hi: number[]): boolean {
  if (cond.kind === 'and') return applyBounds(cond.a, axes, lo, hi) && applyBounds(cond.b, axes, lo, hi);
  if (cond.kind !== 'compare' || cond.a.dtype !== 'int32') return false;
  const a = affine(cond.a, axes);
  const b = affine(cond.b, axes);
  if (!a || !b) return false;
  // c·v + k (op) 0
  const coef = a.coef.map((c, d) => c - b.coef[d]!);
  const k = a.constant - b.constant;
  const used = coef.flatMap((c, d) => (c !== 0 ? [d] : []));
  if (used.length !== 1) return false;
  const d = used[0]!;
  const c = coef[d]!;
  // Normalize to v >= m or v < m (integers).
  const op = c > 0 ? cond.op : ({ lt: 'gt', le: 'ge', gt: 'lt', ge: 'le', eq: 'eq', ne: 'ne' } as const)[cond.op];
  const x = -k / Math.abs(c) * Math.sign(c); // v (op) x
  switch (op) {
    case 'ge': lo[d] = Math.max(lo[d]!, Math.ceil(x)); return true;
    case 'gt': lo[d] = Math.max(lo[d]!, Math.floor(x) + 1); return true;
    case 'lt': hi[d] = Math.min(hi[d]!, Math.ceil(x)); return true;
    case 'le': hi[d] = Math.min(hi[d]!, Math.floor(x) + 1); return true;
    default: return false;
  }
}

/** The copy map of a compute, or undefined when its element is not such a read. */
export function copyMapOf(t: Tensor): CopyMap | undefined {
  if (t.op.kind !== 'compute') return undefined;
  let body = t.op.body;
  let cond: Expr | undefined;
  let fill = 0;
  if (body.kind === 'select') {
    const f = constValue(body.f);
    if (f === undefined) return undefined;
    cond = body.cond;
    fill = f;
    body = body.t;
  }
  if (body.kind !== 'pload') return undefined;
  const source = body.producer as Tensor;
  if (source.op?.kind !== 'placeholder' || source.dtype !== t.dtype) return undefined;
  const split = splitAxes(t.op.axes, t.shape, cond ? [...body.indices, condIndices(cond)] : body.indices);
  if (!split) return undefined;
  const indices = cond ? split.indices.slice(0, -1) : split.indices;
  const srcStrides = rowMajorStrides(source.shape);
  const strides = split.axes.map(() => 0);
  let offset = 0;
  for (let k = 0; k < indices.length; k++) {
    const a = affine(indices[k]!, split.axes);
    if (!a) return undefined;
    a.coef.forEach((c, d) => { strides[d]! += c * srcStrides[k]!; });
    offset += a.constant * srcStrides[k]!;
  }
  const lo = split.axes.map(() => 0);
  const hi = [...split.extents];
  if (cond) {
    const splitCond = split.indices[split.indices.length - 1]!;
    if (!applyBounds(unpackCond(splitCond), split.axes, lo, hi)) return undefined;
  } else {
    fill = 0;
  }
  // Every read in the box must stay inside the source (else the compute is not a plain copy).
  let first = offset, last = offset;
  const empty = lo.some((l, d) => l >= hi[d]!);
  if (!empty) {
    strides.forEach((s, d) => {
      first += s * (s > 0 ? lo[d]! : hi[d]! - 1);
      last += s * (s > 0 ? hi[d]! - 1 : lo[d]!);
    });
    const size = source.shape.reduce((x, y) => x * y, 1);
    if (first < 0 || last >= size) return undefined;
  }
  return { source, extents: split.extents, strides, offset, lo, hi, fill };
}

// The guard travels through the axis split as an int32 carrier expression: select(cond, 1, 0).
function condIndices(cond: Expr): Expr {
  return { kind: 'select', dtype: 'int32', cond, t: int(1), f: int(0) };
}
function unpackCond(e: Expr): Expr {
  return e.kind === 'select' ? e.cond : e;
}

function rowMajorStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d]!;
  }
  return s;
}

/**
 * The copy map applied to a source's elements: a new array of the output's elements
 * (`dtype`). Elements are moved as bits (integer views of their width), so floats keep
 * their NaN payloads; a fill other than 0 is refused for float16/bfloat16 (undefined).
 */
export function runCopyMap(map: CopyMap, src: TypedArray, dtype: DType): TypedArray | undefined {
  const width = dtypeBytes(dtype);
  const total = map.extents.reduce((a, b) => a * b, 1);
  const out = allocArray(dtype, total);
  const empty = map.lo.some((l, d) => l >= map.hi[d]!);
  const full = map.lo.every((l, d) => l === 0 && map.hi[d] === map.extents[d]);
  if (!full && map.fill !== 0) {
    if (dtype === 'float16' || dtype === 'bfloat16') return undefined;
    const big = out instanceof BigInt64Array || out instanceof BigUint64Array;
    if (!isFloat(dtype) && !Number.isSafeInteger(map.fill)) return undefined;
    out.fill((big ? BigInt(map.fill) : map.fill) as never);
    // An integer fill the dtype cannot hold: the kernel's wrap-around is not this copy's to guess.
    if (!isFloat(dtype) && (big ? Number(out[0]) : out[0]) !== map.fill) return undefined;
  }
  if (empty || total === 0) return out;
  // Elements as words: 8-byte elements are two 32-bit words (an extra innermost axis).
  const wordBytes = Math.min(width, 4);
  const lanes = width / wordBytes;
  const words = (a: TypedArray): TypedArray => viewArray(wordBytes === 1 ? 'uint8' : wordBytes === 2 ? 'uint16' : 'uint32', a.buffer, a.byteOffset, a.length * lanes);
  const outStrides = rowMajorStrides(map.extents);
  const dims: { n: number; s: number; d: number }[] = [];
  let srcBase = map.offset * lanes;
  let dstBase = 0;
  map.extents.forEach((_, d) => {
    srcBase += map.lo[d]! * map.strides[d]! * lanes;
    dstBase += map.lo[d]! * outStrides[d]! * lanes;
    dims.push({ n: map.hi[d]! - map.lo[d]!, s: map.strides[d]! * lanes, d: outStrides[d]! * lanes });
  });
  if (lanes > 1) dims.push({ n: lanes, s: 1, d: 1 });
  copyStrided(words(out), words(src), collapse(dims), srcBase, dstBase);
  return out;
}

/** Drops unit axes and merges an axis into the next where both sides step through them as one. */
function collapse(dims: { n: number; s: number; d: number }[]): { n: number; s: number; d: number }[] {
  const out: { n: number; s: number; d: number }[] = [];
  for (const x of dims) {
    if (x.n === 1) continue;
    const prev = out[out.length - 1];
    if (prev && prev.s === x.s * x.n && prev.d === x.d * x.n) out[out.length - 1] = { n: prev.n * x.n, s: x.s, d: x.d };
    else out.push({ ...x });
  }
  return out.length ? out : [{ n: 1, s: 1, d: 1 }];
}

/** Tile of a blocked 2-D transpose: both sides' lines stay in cache. */
const TILE = 32;
/** Rows at least this long are copied with TypedArray.set (a memmove), shorter ones by a loop. */
const SET_MIN = 64;

function copyStrided(dst: TypedArray, src: TypedArray, dims: readonly { n: number; s: number; d: number }[], srcBase: number, dstBase: number): void {
  const last = dims.length - 1;
  const inner = dims[last]!;
  // A transpose: the innermost output axis steps the source far apart, another axis reads it contiguously.
  const t = inner.s !== 1 ? dims.findIndex((x, i) => i < last && x.s === 1) : -1;
  const outer = dims.filter((_, i) => i !== last && i !== t);
  const idx = outer.map(() => 0);
  let so = srcBase, dof = dstBase;
  for (;;) {
    if (t >= 0) transposeTile(dst, src, dims[t]!, inner, so, dof);
    else copyRow(dst, src, inner, so, dof);
    // Odometer over the outer axes.
    let k = outer.length - 1;
    for (; k >= 0; k--) {
      const x = outer[k]!;
      idx[k]!++;
      so += x.s;
      dof += x.d;
      if (idx[k]! < x.n) break;
      so -= x.s * x.n;
      dof -= x.d * x.n;
      idx[k] = 0;
    }
    if (k < 0) return;
  }
}

function copyRow(dst: TypedArray, src: TypedArray, x: { n: number; s: number; d: number }, so: number, dof: number): void {
  const { n, s, d } = x;
  if (s === 1 && d === 1 && n >= SET_MIN) {
    dst.set(src.subarray(so, so + n) as never, dof);
    return;
  }
  for (let i = 0; i < n; i++) dst[dof + i * d] = src[so + i * s]!;
}

/** a: the axis the source reads contiguously (s = 1); b: the innermost output axis. */
function transposeTile(dst: TypedArray, src: TypedArray, a: { n: number; s: number; d: number }, b: { n: number; s: number; d: number }, so: number, dof: number): void {
  for (let i0 = 0; i0 < a.n; i0 += TILE) {
    const i1 = Math.min(a.n, i0 + TILE);
    for (let j0 = 0; j0 < b.n; j0 += TILE) {
      const j1 = Math.min(b.n, j0 + TILE);
      for (let i = i0; i < i1; i++) {
        const sr = so + i, dr = dof + i * a.d;
        for (let j = j0; j < j1; j++) dst[dr + j * b.d] = src[sr + j * b.s]!;
      }
    }
  }
}

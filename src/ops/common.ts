/** Helpers shared by operator definitions: arity and dtype checks, broadcasting, axes. */
import type { DType } from '../runtime/dtype.js';
import type { Attrs, Dim, TensorType } from '../graph/ir.js';
import { type Expr, floordiv, floormod, int } from '../ir/expr.js';
import type { Tensor as TeTensor } from '../te/tensor.js';
import { OpError, attrInt } from './registry.js';

export const FLOAT_TYPES: readonly DType[] = ['float32', 'float64', 'float16'];
export const INT_TYPES: readonly DType[] = ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64'];
export const NUMERIC_TYPES: readonly DType[] = [...FLOAT_TYPES, ...INT_TYPES];

/** The inputs at positions [0, min) must be present; at most `max` may be given. */
export function checkArity(inputs: readonly (TensorType | null)[], min: number, max = min): TensorType[] {
  if (inputs.length < min || inputs.length > max) {
    throw new OpError(`expects ${min === max ? min : `${min} to ${max}`} inputs, got ${inputs.length}`);
  }
  for (let i = 0; i < min; i++) if (!inputs[i]) throw new OpError(`input ${i} is required`);
  return inputs as TensorType[];
}

export function checkDType(t: TensorType, allowed: readonly DType[], what = 'input'): void {
  if (!allowed.includes(t.dtype)) throw new OpError(`${what} has dtype ${t.dtype}; supported: ${allowed.join(', ')}`);
}

export function checkSameDType(types: readonly (TensorType | null)[]): DType {
  const present = types.filter((t): t is TensorType => t !== null);
  const d = present[0]!.dtype;
  for (const t of present) if (t.dtype !== d) throw new OpError(`inputs must share a dtype, got ${present.map((x) => x.dtype).join(' and ')}`);
  return d;
}

/** Numpy-style broadcast of two shapes (right-aligned). */
export function broadcastShapes(a: readonly Dim[], b: readonly Dim[]): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x === y || y === 1) out.push(x);
    else if (x === 1) out.push(y);
    else if (typeof x === 'string' && typeof y === 'number') out.push(y);
    else if (typeof y === 'string' && typeof x === 'number') out.push(x);
    else throw new OpError(`shapes [${a.join(', ')}] and [${b.join(', ')}] cannot be broadcast`);
  }
  return out;
}

/** The indices to read `t` at, for an element of a broadcast output indexed by `outIdx`. */
export function broadcastRead(t: TeTensor, outIdx: readonly Expr[]): Expr {
  const off = outIdx.length - t.rank;
  return t.at(...t.shape.map((d, i) => (d === 1 ? int(0) : outIdx[off + i]!)));
}

/** Normalizes a possibly negative axis into [0, rank). */
export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new OpError(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}

export function dimsProduct(dims: readonly Dim[]): Dim {
  let n = 1;
  for (const d of dims) {
    if (typeof d === 'string') return dims.join('*');
    n *= d;
  }
  return n;
}

/** Concrete (numeric) dims, or an OpError naming what is symbolic. */
export function concrete(shape: readonly Dim[], what: string): number[] {
  if (shape.some((d) => typeof d !== 'number')) throw new OpError(`${what} needs a concrete shape, got [${shape.join(', ')}]`);
  return shape as number[];
}

/** Row-major strides of a concrete shape. */
export function strides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = s;
    s *= shape[d]!;
  }
  return out;
}

/** The multi-index of flat (row-major) position `flat` in `shape`. */
export function unflatten(flat: Expr, shape: readonly number[]): Expr[] {
  const st = strides(shape);
  return shape.map((d, i) => (i === 0 ? floordiv(flat, int(st[0]!)) : floormod(floordiv(flat, int(st[i]!)), int(d))));
}

/** Whether two dims may be equal (a symbolic dim may equal anything). */
export function dimsCompatible(a: Dim, b: Dim): boolean {
  return typeof a !== 'number' || typeof b !== 'number' || a === b;
}

/** Reads a dim-list attribute (numbers and/or symbolic names). */
export function attrDims(attrs: Attrs, name: string): Dim[] {
  const v = attrs[name];
  if (v === undefined) throw new OpError(`missing attribute ${name}`);
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' && typeof x !== 'string')) {
    throw new OpError(`attribute ${name} must be a list of dims`);
  }
  return [...(v as readonly Dim[])];
}

/** A shape for error messages: `[1, 3, batch]`. */
export function fmt(shape: readonly (Dim | string)[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * The shape rule of ops normalizing along one axis (Softmax, LogSoftmax, Hardmax): a float
 * tensor of rank >= 1, a valid `axis` (default -1), output typed like the input.
 */
export function alongAxisType(inputs: readonly (TensorType | null)[], attrs: Attrs): TensorType[] {
  const [x] = checkArity(inputs, 1);
  checkDType(x!, FLOAT_TYPES);
  if (x!.shape.length === 0) throw new OpError('input must have rank >= 1');
  normAxis(attrInt(attrs, 'axis', -1), x!.shape.length);
  return [x!];
}

/**
 * The tensor-expression DSL: an operator says *what* each output element is, as a
 * scalar expression over index variables (TVM's te.compute / te.placeholder).
 * Lowering to loop IR happens in te/lower.ts.
 */
import type { DType } from '../runtime/dtype.js';
import {
  type Expr, type IterVar, type Combiner, type Var, int, pload, variable, visitExpr, isFloatDType,
} from '../ir/expr.js';

export interface PlaceholderOp { readonly kind: 'placeholder' }
export interface ComputeOp {
  readonly kind: 'compute';
  /** One index variable per output dimension. */
  readonly axes: readonly Var[];
  /** The element expression over `axes`; may be a Reduce at the top. */
  readonly body: Expr;
  /** Keep this stage in its own buffer: schedules must not inline it (a re-layout copy, a recurrence step). */
  readonly materialize?: boolean;
  /**
   * Axes whose loops a default schedule unrolls innermost, around the vector lanes (with
   * `factor`, the axis is split and its inner `factor` iterations unrolled): a body that
   * selects coefficients by these indices (or their remainders) then folds to constants in
   * each copy (a Winograd transform's rows), and the copies share their loads.
   */
  readonly unroll?: readonly UnrollAxis[];
}

/** An axis to unroll (ComputeOp.unroll): all of it, or its inner `factor` iterations. */
export interface UnrollAxis {
  readonly axis: number;
  readonly factor?: number;
}

export class Tensor {
  constructor(
    readonly name: string,
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly op: PlaceholderOp | ComputeOp,
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  /** An element read `T[i, j, ...]`; numbers become int32 constants. */
  at(...indices: (Expr | number)[]): Expr {
    return pload(this, indices.map((i) => (typeof i === 'number' ? int(i) : i)));
  }

  /** Tensors this one reads directly (empty for a placeholder). */
  inputs(): Tensor[] {
    if (this.op.kind === 'placeholder') return [];
    const seen = new Set<Tensor>();
    visitExpr(this.op.body, (e) => {
      if (e.kind === 'pload') {
        if (!(e.producer instanceof Tensor)) throw new TypeError(`compute ${this.name} reads a non-tensor producer ${e.producer.name}`);
        seen.add(e.producer);
      }
    });
    return [...seen];
  }

  isReduction(): boolean {
    return this.op.kind === 'compute' && this.op.body.kind === 'reduce';
  }
}

export function placeholder(shape: readonly number[], dtype: DType, name: string): Tensor {
  return new Tensor(name, [...shape], dtype, { kind: 'placeholder' });
}

/**
 * A tensor whose element at `(i0, i1, ...)` is `fn(i0, i1, ...)`.
 * The element dtype is that of the returned expression.
 */
export function compute(shape: readonly number[], fn: (...indices: Var[]) => Expr, name: string, opts: { readonly materialize?: boolean; readonly unroll?: readonly UnrollAxis[] } = {}): Tensor {
  const axes = shape.map((_, d) => variable(`${name}_i${d}`));
  const body = fn(...axes);
  if (body.kind === 'reduce') {
    for (const a of body.axes) {
      if (axes.some((v) => v.id === a.var.id)) throw new Error(`compute ${name}: a reduce axis is also a spatial axis`);
    }
  }
  for (const u of opts.unroll ?? []) {
    const ext = shape[u.axis];
    if (!Number.isInteger(u.axis) || ext === undefined || (u.factor !== undefined && (!Number.isInteger(u.factor) || u.factor < 1 || ext % u.factor !== 0))) {
      throw new Error(`compute ${name}: cannot unroll axis ${u.axis}${u.factor ? ` by ${u.factor}` : ''} of shape [${shape.join(', ')}]`);
    }
  }
  return new Tensor(name, [...shape], body.dtype, {
    kind: 'compute', axes, body, ...(opts.materialize ? { materialize: true } : {}), ...(opts.unroll?.length ? { unroll: [...opts.unroll] } : {}),
  });
}

/** A reduction axis of the given extent, for sum/max/min/prod. */
export function reduceAxis(extent: number, name: string): IterVar {
  if (!Number.isInteger(extent) || extent < 0) throw new RangeError(`reduce axis ${name}: invalid extent ${extent}`);
  return { var: variable(name), extent };
}

function reduce(combiner: Combiner, source: Expr, axes: readonly IterVar[]): Expr {
  if (source.kind === 'reduce') throw new Error('nested reductions are not supported; reduce over several axes at once');
  return { kind: 'reduce', dtype: source.dtype, combiner, source, axes: [...axes] };
}
export const sum = (source: Expr, axes: readonly IterVar[]): Expr => reduce('sum', source, axes);
export const prod = (source: Expr, axes: readonly IterVar[]): Expr => reduce('prod', source, axes);
export const maxReduce = (source: Expr, axes: readonly IterVar[]): Expr => reduce('max', source, axes);
export const minReduce = (source: Expr, axes: readonly IterVar[]): Expr => reduce('min', source, axes);

/** The identity element of a combiner at a dtype (what an empty reduction yields). */
export function reduceIdentity(combiner: Combiner, dtype: DType): number {
  switch (combiner) {
    case 'sum': return 0;
    case 'prod': return 1;
    case 'max': return isFloatDType(dtype) ? -Infinity : intLimit(dtype, 'min');
    case 'min': return isFloatDType(dtype) ? Infinity : intLimit(dtype, 'max');
  }
}

function intLimit(dtype: DType, which: 'min' | 'max'): number {
  const bits: Partial<Record<DType, [number, number]>> = {
    int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535],
    int32: [-2147483648, 2147483647], uint32: [0, 4294967295], bool: [0, 1],
    int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER], uint64: [0, Number.MAX_SAFE_INTEGER],
  };
  const r = bits[dtype];
  if (!r) throw new Error(`no integer limits for ${dtype}`);
  return which === 'min' ? r[0] : r[1];
}

/** All compute tensors reachable from `outputs`, producers before consumers. */
export function topoSort(outputs: readonly Tensor[]): Tensor[] {
  const order: Tensor[] = [];
  const state = new Map<Tensor, 1 | 2>();
  const visit = (t: Tensor): void => {
    const s = state.get(t);
    if (s === 2) return;
    if (s === 1) throw new Error(`cycle in tensor expressions at ${t.name}`);
    state.set(t, 1);
    for (const i of t.inputs()) visit(i);
    state.set(t, 2);
    order.push(t);
  };
  for (const o of outputs) visit(o);
  return order;
}

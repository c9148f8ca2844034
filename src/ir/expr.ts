/**
 * Scalar expressions: the atoms shared by the tensor-expression DSL (te/) and the
 * loop IR (tir/). Nodes are immutable plain objects with a `kind` tag; build them
 * with the constructor functions below, which fold constants on the way.
 */
import type { DType } from '../runtime/dtype.js';

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'floordiv' | 'floormod' | 'min' | 'max' | 'pow';
export type CompareOp = 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne';
/** Math intrinsics. Codegens implement each one; see ir/intrinsics.ts for their semantics. */
export type Intrinsic =
  | 'exp' | 'log' | 'sqrt' | 'tanh' | 'erf' | 'sigmoid' | 'abs' | 'neg' | 'floor' | 'ceil'
  | 'round' | 'sin' | 'cos' | 'tan' | 'asin' | 'acos' | 'atan' | 'sinh' | 'cosh' | 'asinh'
  | 'acosh' | 'atanh' | 'sign' | 'reciprocal' | 'isnan' | 'isinf' | 'trunc';

/** A memory region read and written by loop IR. Identity is the object (and `id`). */
export interface Buffer {
  readonly kind: 'buffer';
  readonly id: number;
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly scope: MemoryScope;
}

/**
 * Where a buffer lives: 'global', a kernel parameter or a scratch allocation in device
 * memory; 'shared', a GPU workgroup's memory (one copy per workgroup, visible to all its
 * invocations); 'local', a few elements in registers or on the stack (per thread).
 */
export type MemoryScope = 'global' | 'shared' | 'local';

/** Anything a TE compute can read from: a te.Tensor. Declared here so ir/ does not import te/. */
export interface Producer {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

export interface IntImm { readonly kind: 'int'; readonly dtype: DType; readonly value: number }
export interface FloatImm { readonly kind: 'float'; readonly dtype: DType; readonly value: number }
export interface Var { readonly kind: 'var'; readonly dtype: DType; readonly name: string; readonly id: number }
export interface Binary { readonly kind: 'binary'; readonly op: BinaryOp; readonly dtype: DType; readonly a: Expr; readonly b: Expr }
export interface Compare { readonly kind: 'compare'; readonly op: CompareOp; readonly dtype: 'bool'; readonly a: Expr; readonly b: Expr }
export interface Logical { readonly kind: 'and' | 'or'; readonly dtype: 'bool'; readonly a: Expr; readonly b: Expr }
export interface Not { readonly kind: 'not'; readonly dtype: 'bool'; readonly a: Expr }
export interface Select { readonly kind: 'select'; readonly dtype: DType; readonly cond: Expr; readonly t: Expr; readonly f: Expr }
export interface Cast { readonly kind: 'cast'; readonly dtype: DType; readonly value: Expr }
export interface Call { readonly kind: 'call'; readonly dtype: DType; readonly fn: Intrinsic; readonly args: readonly Expr[] }
export interface Load { readonly kind: 'load'; readonly dtype: DType; readonly buffer: Buffer; readonly indices: readonly Expr[] }
/** A read of a TE tensor; only exists before lowering to loop IR. */
export interface ProducerLoad { readonly kind: 'pload'; readonly dtype: DType; readonly producer: Producer; readonly indices: readonly Expr[] }
export type Combiner = 'sum' | 'prod' | 'max' | 'min';
export interface IterVar { readonly var: Var; readonly extent: number }
/** A reduction; only valid as the top-level body of a TE compute. */
export interface Reduce {
  readonly kind: 'reduce'; readonly dtype: DType; readonly combiner: Combiner;
  readonly source: Expr; readonly axes: readonly IterVar[];
}

export type Expr =
  | IntImm | FloatImm | Var | Binary | Compare | Logical | Not | Select | Cast | Call | Load | ProducerLoad | Reduce;

let nextId = 1;
/** A fresh id for vars and buffers (identity, not structure). */
export function freshId(): number {
  return nextId++;
}

// ---------------------------------------------------------------- constructors

export function int(value: number, dtype: DType = 'int32'): IntImm {
  return { kind: 'int', dtype, value };
}
export function float(value: number, dtype: DType = 'float32'): FloatImm {
  return { kind: 'float', dtype, value };
}
/** A constant of any dtype. */
export function constant(value: number, dtype: DType): Expr {
  if (dtype === 'bool') return int(value ? 1 : 0, 'bool');
  return isFloatDType(dtype) ? float(value, dtype) : int(value, dtype);
}
export function variable(name: string, dtype: DType = 'int32'): Var {
  return { kind: 'var', dtype, name, id: freshId() };
}
export function makeBuffer(name: string, dtype: DType, shape: readonly number[], scope: MemoryScope = 'global'): Buffer {
  return { kind: 'buffer', id: freshId(), name, dtype, shape: [...shape], scope };
}

export function isFloatDType(t: DType): boolean {
  return t === 'float32' || t === 'float64' || t === 'float16' || t === 'bfloat16';
}

export function isConst(e: Expr): e is IntImm | FloatImm {
  return e.kind === 'int' || e.kind === 'float';
}
export function constValue(e: Expr): number | undefined {
  return e.kind === 'int' || e.kind === 'float' ? e.value : undefined;
}

function foldBinary(op: BinaryOp, a: number, b: number, dtype: DType): number | undefined {
  const isInt = !isFloatDType(dtype);
  switch (op) {
    case 'add': return a + b;
    case 'sub': return a - b;
    case 'mul': return a * b;
    case 'div': return isInt ? (b === 0 ? undefined : Math.trunc(a / b)) : a / b;
    case 'floordiv': return b === 0 ? undefined : isInt ? Math.floor(a / b) : Math.floor(a / b);
    case 'floormod': return b === 0 ? undefined : a - Math.floor(a / b) * b;
    case 'min': return Math.min(a, b);
    case 'max': return Math.max(a, b);
    case 'pow': return Math.pow(a, b);
  }
}

/** A binary expression, simplified when an operand is a constant. */
export function binary(op: BinaryOp, a: Expr, b: Expr): Expr {
  if (a.dtype !== b.dtype) throw new TypeError(`binary ${op}: dtype mismatch ${a.dtype} vs ${b.dtype}`);
  const dtype = a.dtype;
  const ca = constValue(a);
  const cb = constValue(b);
  if (ca !== undefined && cb !== undefined) {
    const v = foldBinary(op, ca, cb, dtype);
    if (v !== undefined && (isFloatDType(dtype) || Number.isSafeInteger(v))) return constant(v, dtype);
  }
  const isInt = !isFloatDType(dtype);
  switch (op) {
    case 'add':
      if (ca === 0) return b;
      if (cb === 0) return a;
      // a + b·(-1) -> a - b (exact: negation is exact, a + (-b) rounds as a - b).
      if (b.kind === 'binary' && b.op === 'mul' && constValue(b.b) === -1) return binary('sub', a, b.a);
      if (a.kind === 'binary' && a.op === 'mul' && constValue(a.b) === -1) return binary('sub', b, a.a);
      // (x + c1) + c2 -> x + (c1 + c2)
      if (isInt && cb !== undefined && a.kind === 'binary' && a.op === 'add' && isConst(a.b)) return binary('add', a.a, int(a.b.value + cb, dtype));
      break;
    case 'sub':
      if (cb === 0) return a;
      if (isInt && cb !== undefined) return binary('add', a, int(-cb, dtype));
      break;
    case 'mul':
      if (ca === 1) return b;
      if (cb === 1) return a;
      // (x·(-1))·(-1) -> x (exact).
      if (cb === -1 && a.kind === 'binary' && a.op === 'mul' && constValue(a.b) === -1) return a.a;
      if (isInt && (ca === 0 || cb === 0)) return int(0, dtype);
      if (isInt && cb !== undefined && a.kind === 'binary' && a.op === 'mul' && isConst(a.b)) return binary('mul', a.a, int(a.b.value * cb, dtype));
      if (ca !== undefined && cb === undefined) return binary('mul', b, a); // constants on the right
      break;
    case 'div':
      if (cb === 1) return a;
      break;
    case 'floordiv':
      if (cb === 1) return a;
      break;
    case 'floormod':
      if (cb === 1) return int(0, dtype);
      break;
    default:
      break;
  }
  return { kind: 'binary', op, dtype, a, b };
}

export const add = (a: Expr, b: Expr): Expr => binary('add', a, b);
export const sub = (a: Expr, b: Expr): Expr => binary('sub', a, b);
export const mul = (a: Expr, b: Expr): Expr => binary('mul', a, b);
export const div = (a: Expr, b: Expr): Expr => binary('div', a, b);
export const floordiv = (a: Expr, b: Expr): Expr => binary('floordiv', a, b);
export const floormod = (a: Expr, b: Expr): Expr => binary('floormod', a, b);
export const min = (a: Expr, b: Expr): Expr => binary('min', a, b);
export const max = (a: Expr, b: Expr): Expr => binary('max', a, b);

export function compare(op: CompareOp, a: Expr, b: Expr): Expr {
  if (a.dtype !== b.dtype) throw new TypeError(`compare ${op}: dtype mismatch ${a.dtype} vs ${b.dtype}`);
  const ca = constValue(a);
  const cb = constValue(b);
  if (ca !== undefined && cb !== undefined) {
    const r = op === 'lt' ? ca < cb : op === 'le' ? ca <= cb : op === 'gt' ? ca > cb : op === 'ge' ? ca >= cb : op === 'eq' ? ca === cb : ca !== cb;
    return int(r ? 1 : 0, 'bool');
  }
  return { kind: 'compare', op, dtype: 'bool', a, b };
}
export const lt = (a: Expr, b: Expr): Expr => compare('lt', a, b);
export const le = (a: Expr, b: Expr): Expr => compare('le', a, b);
export const gt = (a: Expr, b: Expr): Expr => compare('gt', a, b);
export const ge = (a: Expr, b: Expr): Expr => compare('ge', a, b);
export const eq = (a: Expr, b: Expr): Expr => compare('eq', a, b);

export function and(a: Expr, b: Expr): Expr {
  const ca = constValue(a);
  const cb = constValue(b);
  if (ca !== undefined) return ca ? b : int(0, 'bool');
  if (cb !== undefined) return cb ? a : int(0, 'bool');
  return { kind: 'and', dtype: 'bool', a, b };
}
export function or(a: Expr, b: Expr): Expr {
  const ca = constValue(a);
  const cb = constValue(b);
  if (ca !== undefined) return ca ? int(1, 'bool') : b;
  if (cb !== undefined) return cb ? int(1, 'bool') : a;
  return { kind: 'or', dtype: 'bool', a, b };
}
export function not(a: Expr): Expr {
  const ca = constValue(a);
  if (ca !== undefined) return int(ca ? 0 : 1, 'bool');
  return { kind: 'not', dtype: 'bool', a };
}
export function select(cond: Expr, t: Expr, f: Expr): Expr {
  if (t.dtype !== f.dtype) throw new TypeError(`select: dtype mismatch ${t.dtype} vs ${f.dtype}`);
  const c = constValue(cond);
  if (c !== undefined) return c ? t : f;
  return { kind: 'select', dtype: t.dtype, cond, t, f };
}
export function cast(value: Expr, dtype: DType): Expr {
  if (value.dtype === dtype) return value;
  const c = constValue(value);
  if (c !== undefined) {
    if (dtype === 'bool') return int(c ? 1 : 0, 'bool');
    if (!isFloatDType(dtype)) return int(Math.trunc(c), dtype);
    return float(c, dtype);
  }
  return { kind: 'cast', dtype, value };
}
export function call(fn: Intrinsic, args: readonly Expr[], dtype: DType = args[0]!.dtype): Expr {
  return { kind: 'call', fn, dtype, args };
}
export function load(buffer: Buffer, indices: readonly Expr[]): Load {
  if (indices.length !== buffer.shape.length) {
    throw new RangeError(`load ${buffer.name}: ${indices.length} indices for rank ${buffer.shape.length}`);
  }
  return { kind: 'load', dtype: buffer.dtype, buffer, indices };
}
export function pload(producer: Producer, indices: readonly Expr[]): ProducerLoad {
  if (indices.length !== producer.shape.length) {
    throw new RangeError(`read of ${producer.name}: ${indices.length} indices for rank ${producer.shape.length}`);
  }
  return { kind: 'pload', dtype: producer.dtype, producer, indices };
}

// ---------------------------------------------------------------- traversal

/** Rebuilds `e` bottom-up, letting `f` replace any node (return undefined to keep recursing). */
export function mapExpr(e: Expr, f: (e: Expr) => Expr | undefined): Expr {
  const r = f(e);
  if (r !== undefined) return r;
  const m = (x: Expr): Expr => mapExpr(x, f);
  switch (e.kind) {
    case 'int': case 'float': case 'var': return e;
    case 'binary': {
      const a = m(e.a), b = m(e.b);
      return a === e.a && b === e.b ? e : binary(e.op, a, b);
    }
    case 'compare': {
      const a = m(e.a), b = m(e.b);
      return a === e.a && b === e.b ? e : compare(e.op, a, b);
    }
    case 'and': case 'or': {
      const a = m(e.a), b = m(e.b);
      return a === e.a && b === e.b ? e : e.kind === 'and' ? and(a, b) : or(a, b);
    }
    case 'not': {
      const a = m(e.a);
      return a === e.a ? e : not(a);
    }
    case 'select': {
      const c = m(e.cond), t = m(e.t), fl = m(e.f);
      return c === e.cond && t === e.t && fl === e.f ? e : select(c, t, fl);
    }
    case 'cast': {
      const v = m(e.value);
      return v === e.value ? e : cast(v, e.dtype);
    }
    case 'call': {
      const args = e.args.map(m);
      return args.every((a, i) => a === e.args[i]) ? e : call(e.fn, args, e.dtype);
    }
    case 'load': {
      const idx = e.indices.map(m);
      return idx.every((a, i) => a === e.indices[i]) ? e : load(e.buffer, idx);
    }
    case 'pload': {
      const idx = e.indices.map(m);
      return idx.every((a, i) => a === e.indices[i]) ? e : pload(e.producer, idx);
    }
    case 'reduce': {
      const s = m(e.source);
      return s === e.source ? e : { ...e, source: s };
    }
  }
}

/** Calls `f` on every node of `e`, parents before children. */
export function visitExpr(e: Expr, f: (e: Expr) => void): void {
  f(e);
  switch (e.kind) {
    case 'int': case 'float': case 'var': return;
    case 'binary': case 'compare': case 'and': case 'or': visitExpr(e.a, f); visitExpr(e.b, f); return;
    case 'not': visitExpr(e.a, f); return;
    case 'select': visitExpr(e.cond, f); visitExpr(e.t, f); visitExpr(e.f, f); return;
    case 'cast': visitExpr(e.value, f); return;
    case 'call': for (const a of e.args) visitExpr(a, f); return;
    case 'load': case 'pload': for (const a of e.indices) visitExpr(a, f); return;
    case 'reduce': visitExpr(e.source, f); return;
  }
}

/** The direct subexpressions of `e`. */
export function exprChildren(e: Expr): readonly Expr[] {
  switch (e.kind) {
    case 'int': case 'float': case 'var': return [];
    case 'binary': case 'compare': case 'and': case 'or': return [e.a, e.b];
    case 'not': return [e.a];
    case 'select': return [e.cond, e.t, e.f];
    case 'cast': return [e.value];
    case 'call': return e.args;
    case 'load': case 'pload': return e.indices;
    case 'reduce': return [e.source];
  }
}

/**
 * Whether some node of `e` satisfies `test`, remembering each node's answer in `memo`:
 * asked of every node of a deep expression (a fused chain), walking each subtree again
 * would take time quadratic in its depth.
 */
export function someNode(e: Expr, test: (x: Expr) => boolean, memo: Map<Expr, boolean>): boolean {
  const known = memo.get(e);
  if (known !== undefined) return known;
  let r = test(e);
  if (!r) for (const c of exprChildren(e)) if (someNode(c, test, memo)) { r = true; break; }
  memo.set(e, r);
  return r;
}

/** Replaces variables (by id) with expressions. */
export function substitute(e: Expr, map: ReadonlyMap<number, Expr>): Expr {
  if (map.size === 0) return e;
  return mapExpr(e, (x) => (x.kind === 'var' ? map.get(x.id) ?? x : undefined));
}

/** Whether `e` reads memory (a load or producer load) anywhere. */
export function hasLoad(e: Expr): boolean {
  let found = false;
  visitExpr(e, (x) => {
    if (x.kind === 'load' || x.kind === 'pload') found = true;
  });
  return found;
}

// ---------------------------------------------------------------- printing and structural keys

const BIN_SYM: Partial<Record<BinaryOp, string>> = { add: '+', sub: '-', mul: '*', div: '/', floordiv: '//', floormod: '%' };
const CMP_SYM: Record<CompareOp, string> = { lt: '<', le: '<=', gt: '>', ge: '>=', eq: '==', ne: '!=' };

/** Human-readable form, used by IR printers and error messages. */
export function exprToString(e: Expr): string {
  const s = exprToString;
  switch (e.kind) {
    case 'int': return e.dtype === 'int32' ? `${e.value}` : e.dtype === 'bool' ? (e.value ? 'true' : 'false') : `${e.dtype}(${e.value})`;
    case 'float': return e.dtype === 'float32' ? `${fmtFloat(e.value)}f` : `${e.dtype}(${fmtFloat(e.value)})`;
    case 'var': return e.name;
    case 'binary': {
      const sym = BIN_SYM[e.op];
      return sym ? `(${s(e.a)} ${sym} ${s(e.b)})` : `${e.op}(${s(e.a)}, ${s(e.b)})`;
    }
    case 'compare': return `(${s(e.a)} ${CMP_SYM[e.op]} ${s(e.b)})`;
    case 'and': return `(${s(e.a)} && ${s(e.b)})`;
    case 'or': return `(${s(e.a)} || ${s(e.b)})`;
    case 'not': return `!${s(e.a)}`;
    case 'select': return `select(${s(e.cond)}, ${s(e.t)}, ${s(e.f)})`;
    case 'cast': return `${e.dtype}(${s(e.value)})`;
    case 'call': return `${e.fn}(${e.args.map(s).join(', ')})`;
    case 'load': return `${e.buffer.name}[${e.indices.map(s).join(', ')}]`;
    case 'pload': return `${e.producer.name}[${e.indices.map(s).join(', ')}]`;
    case 'reduce': return `${e.combiner}(${s(e.source)}, axes=[${e.axes.map((a) => `${a.var.name}:${a.extent}`).join(', ')}])`;
  }
}

function fmtFloat(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return Number.isInteger(v) ? v.toFixed(1) : `${v}`;
}

/**
 * Register promotion for the wasm target: decides which `local`-scope buffers live in
 * wasm locals instead of memory (the register tiles that cache_write creates), and
 * which vectorized loops can be emitted as one SIMD128 step.
 *
 * A local buffer is promoted when every access uses a constant index (each element
 * becomes an f32/i32/... local), or when every access is inside a vectorized loop of
 * 4 lanes at index `c + lane` with c a multiple of 4 (each group of 4 becomes a v128
 * local). A vectorized loop of 4 lanes is emitted as SIMD when its body is stores of
 * float32 values built from +, -, *, /, min, max, sqrt/abs/neg/floor/ceil/trunc/round,
 * selects on a lane-invariant condition, float constants and loads that are
 * lane-invariant or lane-contiguous.
 */
import { type Buffer, type Expr, constValue, someNode, visitExpr } from '../../ir/expr.js';
import type { Stmt } from '../../tir/stmt.js';
import { coefficientOf } from '../../tir/arith.js';
import { VECTOR_MATH } from './mathlib.js';

export const LANES = 4;

export type Promotion = { readonly mode: 'scalar' } | { readonly mode: 'vector' };

interface Access { readonly index: Expr; readonly lane?: number }

/** How a local buffer allocated around `body` can live in locals, if at all. */
export function promotion(buf: Buffer, body: Stmt): Promotion | undefined {
  if (buf.scope !== 'local') return undefined;
  const accesses: Access[] = [];
  const walk = (s: Stmt, lane: number | undefined): void => {
    const exprs = (e: Expr): void => visitExpr(e, (x) => {
      if (x.kind === 'load' && x.buffer === buf) accesses.push({ index: x.indices[0]!, ...(lane !== undefined ? { lane } : {}) });
    });
    switch (s.kind) {
      case 'for': {
        const vec = s.forKind === 'vectorized' && s.extent === LANES ? s.loopVar.id : lane;
        walk(s.body, vec);
        return;
      }
      case 'seq': s.stmts.forEach((x) => walk(x, lane)); return;
      case 'store':
        if (s.buffer === buf) accesses.push({ index: s.indices[0]!, ...(lane !== undefined ? { lane } : {}) });
        s.indices.forEach(exprs);
        exprs(s.value);
        return;
      case 'if': exprs(s.cond); walk(s.then, lane); if (s.else) walk(s.else, lane); return;
      case 'allocate': walk(s.body, lane); return;
      case 'let': exprs(s.value); walk(s.body, lane); return;
      case 'block': return;
    }
  };
  walk(body, undefined);
  if (accesses.length === 0) return undefined;
  if (accesses.every((a) => constValue(a.index) !== undefined)) {
    return buf.shape[0]! <= 256 ? { mode: 'scalar' } : undefined;
  }
  if (buf.dtype !== 'float32' || buf.shape[0]! % LANES !== 0 || buf.shape[0]! > 256) return undefined;
  const vector = accesses.every((a) => {
    if (a.lane === undefined) return false;
    return coefficientOf(a.index, a.lane) === 1 && laneBase(a.index, a.lane) % LANES === 0;
  });
  return vector ? { mode: 'vector' } : undefined;
}

/** The constant part of `c + lane` (the index with the lane at 0); NaN when not constant. */
export function laneBase(index: Expr, lane: number): number {
  const c = coefficientOf(index, lane);
  if (c === undefined) return NaN;
  let other = false;
  visitExpr(index, (x) => { if (x.kind === 'var' && x.id !== lane) other = true; });
  if (other) return NaN;
  // index = lane + base: evaluate the constant by summing the non-lane constant terms.
  return constPart(index);
}

function constPart(e: Expr): number {
  switch (e.kind) {
    case 'int': return e.value;
    case 'var': return 0;
    case 'binary':
      if (e.op === 'add') return constPart(e.a) + constPart(e.b);
      if (e.op === 'sub') return constPart(e.a) - constPart(e.b);
      if (e.op === 'mul') {
        const a = constValue(e.a);
        const b = constValue(e.b);
        if (a !== undefined && b !== undefined) return a * b;
        return 0; // var * const: no constant part
      }
      return NaN;
    default:
      return NaN;
  }
}

export const VECTOR_CALLS: ReadonlySet<string> = new Set(['sqrt', 'abs', 'neg', 'floor', 'ceil', 'trunc', 'round']);
export const VECTOR_BINARY: ReadonlySet<string> = new Set(['add', 'sub', 'mul', 'div', 'min', 'max']);

/**
 * Whether a vectorized loop over `lane` can be emitted as one SIMD step:
 * `isVectorLocal(buf)` tells which buffers are promoted to v128 locals.
 */
export function vectorizable(body: Stmt, lane: number, isVectorLocal: (b: Buffer) => boolean, isScalarLocal: (b: Buffer) => boolean): boolean {
  const stores: Stmt[] = body.kind === 'seq' ? [...body.stmts] : [body];
  const memo = new Map<Expr, boolean>();
  const laneOk = (e: Expr): boolean => {
    // Lane-invariant subexpressions are computed as scalars and splatted.
    if (!mentionsLane(e, lane, isVectorLocal, memo)) return e.dtype === 'float32' || e.dtype === 'int32' || e.dtype === 'bool';
    if (e.dtype !== 'float32') return false;
    switch (e.kind) {
      case 'float': return true;
      case 'load':
        if (isVectorLocal(e.buffer)) return true;
        if (isScalarLocal(e.buffer)) return false;
        return coefficientOf(e.indices[0]!, lane) === 1;
      case 'binary': return VECTOR_BINARY.has(e.op) && laneOk(e.a) && laneOk(e.b);
      // A lane-invariant condition picks a whole vector (a padding stage's bounds check).
      case 'select': return !mentionsLane(e.cond, lane, isVectorLocal, memo) && laneOk(e.t) && laneOk(e.f);
      case 'call': return (VECTOR_CALLS.has(e.fn) || VECTOR_MATH.has(e.fn)) && e.args.length === 1 && laneOk(e.args[0]!);
      default: return false;
    }
  };
  return stores.every((s) => {
    if (s.kind !== 'store' || s.buffer.dtype !== 'float32') return false;
    if (isScalarLocal(s.buffer)) return false;
    if (!isVectorLocal(s.buffer) && coefficientOf(s.indices[0]!, lane) !== 1) return false;
    return laneOk(s.value);
  });
}

/**
 * Whether `e` depends on the lane (mentions its variable or reads a vector local). `memo`
 * (for one lane and one set of vector locals) keeps the answers for its subexpressions.
 */
export function mentionsLane(e: Expr, lane: number, isVectorLocal: (b: Buffer) => boolean, memo: Map<Expr, boolean> = new Map()): boolean {
  return someNode(e, (x) => (x.kind === 'var' && x.id === lane) || (x.kind === 'load' && isVectorLocal(x.buffer)), memo);
}

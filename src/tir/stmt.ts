/**
 * The loop IR (TensorIR-like). A PrimFunc holds buffers, loops, blocks and stores.
 * A Block names one computation with its own iteration domain (spatial and reduce
 * iterators bound to loop expressions), an optional init (reduction identity) and
 * the buffers it reads and writes; schedule primitives work on blocks and loops,
 * and tir/lower_blocks.ts turns blocks into plain loops before codegen.
 */
import type { Buffer, Expr, Var } from '../ir/expr.js';

/**
 * How a loop runs: in order ('serial'), split among CPU threads ('parallel'), as vector
 * lanes, unrolled, or bound to a GPU thread axis ('thread', with `thread` naming it).
 */
export type ForKind = 'serial' | 'parallel' | 'vectorized' | 'unrolled' | 'thread';

/**
 * GPU thread axes: blockIdx (a workgroup's id in the dispatch grid) and threadIdx (an
 * invocation's id within its workgroup), as in TVM. A loop bound to an axis has one
 * iteration per workgroup or invocation; statements between thread-bound loops run on
 * every invocation of the workgroup, so a sequence of threadIdx loops separated by
 * barriers means the same as running each loop in order (which CPU codegens do).
 */
export type ThreadAxis = 'blockIdx.x' | 'blockIdx.y' | 'blockIdx.z' | 'threadIdx.x' | 'threadIdx.y' | 'threadIdx.z';
export const THREAD_AXES: readonly ThreadAxis[] = ['blockIdx.x', 'blockIdx.y', 'blockIdx.z', 'threadIdx.x', 'threadIdx.y', 'threadIdx.z'];

export interface For {
  readonly kind: 'for';
  readonly loopVar: Var;
  readonly extent: number;
  readonly forKind: ForKind;
  readonly body: Stmt;
  /** The GPU thread axis of a 'thread' loop. */
  readonly thread?: ThreadAxis;
}
export interface Seq { readonly kind: 'seq'; readonly stmts: readonly Stmt[] }
export interface Store { readonly kind: 'store'; readonly buffer: Buffer; readonly indices: readonly Expr[]; readonly value: Expr }
export interface IfThenElse { readonly kind: 'if'; readonly cond: Expr; readonly then: Stmt; readonly else?: Stmt }
/** Scratch memory for `buffer` (in its scope), live during `body`. */
export interface Allocate { readonly kind: 'allocate'; readonly buffer: Buffer; readonly body: Stmt }
/**
 * A workgroup barrier: every invocation of the workgroup reaches it before any goes on,
 * and shared-memory writes made before it are visible after it. Placed between
 * thread-bound loops (tir/transform/barriers.ts), never inside one.
 */
export interface Barrier { readonly kind: 'barrier' }
/**
 * A value computed once and named: `var` holds `value` throughout `body`. Loop-IR passes
 * bind loop-invariant and repeated subexpressions this way (tir/transform/bind_values.ts);
 * schedules never see it.
 */
export interface Let { readonly kind: 'let'; readonly var: Var; readonly value: Expr; readonly body: Stmt }
export interface BlockIterVar { readonly var: Var; readonly extent: number; readonly type: 'spatial' | 'reduce' }
export interface Block {
  readonly kind: 'block';
  readonly name: string;
  readonly iterVars: readonly BlockIterVar[];
  /** One loop expression per iter var: the value it takes in the enclosing loops. */
  readonly bindings: readonly Expr[];
  readonly init?: Stmt;
  readonly body: Stmt;
  readonly reads: readonly Buffer[];
  readonly writes: readonly Buffer[];
  /** The stage asked to stay in its own buffer (schedules do not inline it). */
  readonly materialize?: boolean;
  /** Iterators a default schedule unrolls innermost, around the vector lanes (te ComputeOp.unroll). */
  readonly unroll?: readonly { readonly axis: number; readonly factor?: number }[];
}

export type Stmt = For | Seq | Store | IfThenElse | Allocate | Block | Barrier | Let;

export interface PrimFunc {
  readonly name: string;
  /** Parameters in call order: inputs first, then outputs. */
  readonly params: readonly Buffer[];
  readonly body: Stmt;
  /** Whether the buffers were flattened to one dimension (the form codegens take). */
  readonly flat: boolean;
}

export function seq(stmts: readonly Stmt[]): Stmt {
  const flat: Stmt[] = [];
  for (const s of stmts) {
    if (s.kind === 'seq') flat.push(...s.stmts);
    else flat.push(s);
  }
  return flat.length === 1 ? flat[0]! : { kind: 'seq', stmts: flat };
}

export function loop(loopVar: Var, extent: number, body: Stmt, forKind: ForKind = 'serial', thread?: ThreadAxis): For {
  if ((forKind === 'thread') !== (thread !== undefined)) throw new Error(`loop ${loopVar.name}: a thread axis goes with forKind 'thread' (and only with it)`);
  return { kind: 'for', loopVar, extent, forKind, body, ...(thread ? { thread } : {}) };
}

export const barrier: Barrier = { kind: 'barrier' };

export function store(buffer: Buffer, indices: readonly Expr[], value: Expr): Store {
  if (indices.length !== buffer.shape.length) {
    throw new RangeError(`store ${buffer.name}: ${indices.length} indices for rank ${buffer.shape.length}`);
  }
  if (value.dtype !== buffer.dtype) throw new TypeError(`store ${buffer.name}: value of ${value.dtype} into ${buffer.dtype} buffer`);
  return { kind: 'store', buffer, indices, value };
}

/** Rebuilds `s` bottom-up; `f` may replace a statement (return undefined to recurse). */
export function mapStmt(s: Stmt, f: (s: Stmt) => Stmt | undefined, fe?: (e: Expr) => Expr): Stmt {
  const r = f(s);
  if (r !== undefined) return r;
  const ms = (x: Stmt): Stmt => mapStmt(x, f, fe);
  const me = fe ?? ((e: Expr): Expr => e);
  switch (s.kind) {
    case 'for': {
      const body = ms(s.body);
      return body === s.body ? s : { ...s, body };
    }
    case 'seq': {
      const stmts = s.stmts.map(ms);
      return stmts.every((x, i) => x === s.stmts[i]) ? s : seq(stmts);
    }
    case 'store': {
      const indices = s.indices.map(me);
      const value = me(s.value);
      return value === s.value && indices.every((x, i) => x === s.indices[i]) ? s : { ...s, indices, value };
    }
    case 'if': {
      const cond = me(s.cond);
      const then = ms(s.then);
      const els = s.else && ms(s.else);
      return cond === s.cond && then === s.then && els === s.else ? s : { kind: 'if', cond, then, ...(els ? { else: els } : {}) };
    }
    case 'allocate': {
      const body = ms(s.body);
      return body === s.body ? s : { ...s, body };
    }
    case 'block': {
      const bindings = s.bindings.map(me);
      const init = s.init && ms(s.init);
      const body = ms(s.body);
      return body === s.body && init === s.init && bindings.every((x, i) => x === s.bindings[i])
        ? s : { ...s, bindings, body, ...(init ? { init } : {}) };
    }
    case 'barrier': return s;
    case 'let': {
      const value = me(s.value);
      const body = ms(s.body);
      return value === s.value && body === s.body ? s : { ...s, value, body };
    }
  }
}

/** Applies `fe` to every expression held directly by statements (indices, values, conditions, bindings). */
export function mapStmtExprs(s: Stmt, fe: (e: Expr) => Expr): Stmt {
  return mapStmt(s, () => undefined, fe);
}

/** Calls `f` on each statement, parents first. */
export function visitStmt(s: Stmt, f: (s: Stmt) => void): void {
  f(s);
  switch (s.kind) {
    case 'for': case 'allocate': case 'let': visitStmt(s.body, f); return;
    case 'seq': for (const x of s.stmts) visitStmt(x, f); return;
    case 'if': visitStmt(s.then, f); if (s.else) visitStmt(s.else, f); return;
    case 'block': if (s.init) visitStmt(s.init, f); visitStmt(s.body, f); return;
    case 'store': case 'barrier': return;
  }
}

/** Every expression held directly by a statement. */
export function stmtExprs(s: Stmt): Expr[] {
  switch (s.kind) {
    case 'store': return [...s.indices, s.value];
    case 'if': return [s.cond];
    case 'block': return [...s.bindings];
    case 'let': return [s.value];
    default: return [];
  }
}

/** All blocks in `s`, in program order. */
export function collectBlocks(s: Stmt): Block[] {
  const out: Block[] = [];
  visitStmt(s, (x) => {
    if (x.kind === 'block') out.push(x);
  });
  return out;
}

/**
 * Structural equality and hashing of loop IR, as TVM's StructuralEqual/StructuralHash: two
 * functions are equal when they differ only in how their variables and buffers are named
 * and numbered (alpha-equivalence), so one workload from two models, or from two lowerings,
 * hashes the same (what tuning records and kernel caches key on).
 *
 * One walker turns a PrimFunc (or a statement or an expression) into a stream of 32-bit
 * tokens: a hash mixes the stream, equality compares two streams. What the stream holds:
 *
 * - Variables and buffers by binding order, never by `id` or `name`: parameters in order,
 *   then each loop variable, block iterator, `let` variable, reduce axis and allocation
 *   numbered where it is bound, uses referring to the binding in scope. A variable or buffer
 *   used without a binding (free) is numbered where it first occurs. Rebinding one object in
 *   two places is two bindings, as if they were distinct objects.
 * - Everything else: dtypes (of constants, casts, calls, arithmetic and of each variable at
 *   its binding; those of loads, comparisons and selects follow from their operands), buffer
 *   shapes, dtypes and scopes, constants (integers by value, floats by their exact bits,
 *   so -0 differs from 0 and every NaN is one NaN), loop extents, kinds and thread axes,
 *   block iterators (type, extent, binding), `materialize` and `unroll` annotations, whether
 *   there is an init, reads and writes (in order), `flat`.
 * - Not: the function's name, variable and buffer names, block names (schedules address
 *   blocks by name, but a name is not structure) and the names of TE producers. A sequence
 *   counts in the canonical form `seq()` builds (nested sequences flattened, a sequence of
 *   one statement is that statement).
 *
 * Cost: linear in the size of the tree (a subexpression shared by two uses is walked twice,
 * as the codegens do); tens of microseconds for a typical kernel.
 */
import type { Buffer, Expr, Producer, Var } from '../ir/expr.js';
import type { PrimFunc, Stmt } from './stmt.js';

/** What structural equality and hashing take: a function, a statement or an expression. */
export type StructuralNode = PrimFunc | Stmt | Expr;

/** Where the walker's tokens (32-bit integers) go. */
interface Sink {
  put(word: number): void;
}

// Node tags. Their values are part of every hash: change them and stored hashes change.
const T = {
  func: 1, for: 2, seq: 3, store: 4, if: 5, allocate: 6, block: 7, barrier: 8, let: 9,
  int: 20, float: 21, var: 22, binary: 23, compare: 24, and: 25, or: 26, not: 27, select: 28,
  cast: 29, call: 30, load: 31, pload: 32, reduce: 33,
} as const;

/** A token's marker that a reference is to a variable, buffer or producer seen here first. */
const FIRST = -1;
/** A token that announces a number beyond int32 (its float64 bits follow). */
const WIDE = -0x8000_0000;

const scratch = new DataView(new ArrayBuffer(8));

// Names (dtypes, operators, intrinsics, loop kinds, scopes...) become the FNV-1a hash of
// their text: stable across processes and releases, whatever order they are declared in.
const nameWords = new Map<string, number>();
const wordNames = new Map<number, string>();
function nameWord(s: string): number {
  let w = nameWords.get(s);
  if (w !== undefined) return w;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  w = h | 0;
  // Two names with one word would make different nodes equal: refuse rather than alias.
  const other = wordNames.get(w);
  if (other !== undefined && other !== s) throw new Error(`structural hash: names '${s}' and '${other}' collide`);
  nameWords.set(s, w);
  wordNames.set(w, s);
  return w;
}

/** Emits the token stream of loop IR into a sink (see the file comment for what it holds). */
class Encoder {
  private readonly vars = new Map<number, number>();
  private readonly bufs = new Map<number, number>();
  private readonly producers = new Map<Producer, number>();
  private varCount = 0;
  private bufCount = 0;

  constructor(private readonly out: Sink) {}

  node(x: StructuralNode): void {
    if ('params' in x) this.func(x);
    else if (isStmt(x)) this.stmt(x);
    else this.expr(x);
  }

  private put(w: number): void {
    this.out.put(w);
  }

  /** An integer (or any number): itself when it is an int32 (so -0 is 0), else its float64 bits. */
  private num(x: number): void {
    if ((x | 0) === x && x !== WIDE) {
      this.put(x);
    } else {
      this.put(WIDE);
      this.bits(x);
    }
  }

  /** A float constant by its exact float64 bits (one NaN for all). */
  private bits(x: number): void {
    if (Number.isNaN(x)) {
      this.put(0);
      this.put(0x7ff8_0000);
      return;
    }
    scratch.setFloat64(0, x, true);
    this.put(scratch.getInt32(0, true));
    this.put(scratch.getInt32(4, true));
  }

  private name(s: string): void {
    this.put(nameWord(s));
  }

  /** Binds `v` to the next variable number; returns the binding it shadows (to restore). */
  private bindVar(v: Var): number | undefined {
    this.name(v.dtype);
    const prev = this.vars.get(v.id);
    this.vars.set(v.id, this.varCount++);
    return prev;
  }

  private unbindVar(v: Var, prev: number | undefined): void {
    if (prev === undefined) this.vars.delete(v.id);
    else this.vars.set(v.id, prev);
  }

  private bindBuffer(b: Buffer): number | undefined {
    this.name(b.dtype);
    this.name(b.scope);
    this.put(b.shape.length);
    for (const d of b.shape) this.num(d);
    const prev = this.bufs.get(b.id);
    this.bufs.set(b.id, this.bufCount++);
    return prev;
  }

  private unbindBuffer(b: Buffer, prev: number | undefined): void {
    if (prev === undefined) this.bufs.delete(b.id);
    else this.bufs.set(b.id, prev);
  }

  /** A use of a buffer: its number, or, if no binding is in scope, FIRST and its definition. */
  private buffer(b: Buffer): void {
    const i = this.bufs.get(b.id);
    if (i !== undefined) {
      this.put(i);
    } else {
      this.put(FIRST);
      this.bindBuffer(b);
    }
  }

  private exprs(es: readonly Expr[]): void {
    this.put(es.length);
    for (const e of es) this.expr(e);
  }

  func(f: PrimFunc): void {
    this.put(T.func);
    this.put(f.flat ? 1 : 0);
    this.put(f.params.length);
    for (const b of f.params) this.bindBuffer(b);
    this.stmt(f.body);
  }

  stmt(s: Stmt): void {
    switch (s.kind) {
      case 'for': {
        this.put(T.for);
        this.num(s.extent);
        this.name(s.forKind);
        this.name(s.thread ?? '');
        const prev = this.bindVar(s.loopVar);
        this.stmt(s.body);
        this.unbindVar(s.loopVar, prev);
        return;
      }
      case 'seq': {
        const stmts = flatSeq(s.stmts);
        if (stmts.length === 1) { this.stmt(stmts[0]!); return; }
        this.put(T.seq);
        this.put(stmts.length);
        for (const x of stmts) this.stmt(x);
        return;
      }
      case 'store':
        this.put(T.store);
        this.buffer(s.buffer);
        this.exprs(s.indices);
        this.expr(s.value);
        return;
      case 'if':
        this.put(T.if);
        this.expr(s.cond);
        this.stmt(s.then);
        this.put(s.else ? 1 : 0);
        if (s.else) this.stmt(s.else);
        return;
      case 'allocate': {
        this.put(T.allocate);
        const prev = this.bindBuffer(s.buffer);
        this.stmt(s.body);
        this.unbindBuffer(s.buffer, prev);
        return;
      }
      case 'barrier':
        this.put(T.barrier);
        return;
      case 'let': {
        this.put(T.let);
        this.expr(s.value);
        const prev = this.bindVar(s.var);
        this.stmt(s.body);
        this.unbindVar(s.var, prev);
        return;
      }
      case 'block': {
        this.put(T.block);
        // Bindings are loop expressions of the enclosing scope; the iterators bind inside.
        this.exprs(s.bindings);
        this.put(s.iterVars.length);
        const prev = s.iterVars.map((iv) => {
          this.name(iv.type);
          this.num(iv.extent);
          return this.bindVar(iv.var);
        });
        this.put(s.materialize ? 1 : 0);
        const unroll = s.unroll ?? [];
        this.put(unroll.length);
        for (const u of unroll) {
          this.num(u.axis);
          this.put(u.factor === undefined ? 0 : 1);
          if (u.factor !== undefined) this.num(u.factor);
        }
        this.put(s.reads.length);
        for (const b of s.reads) this.buffer(b);
        this.put(s.writes.length);
        for (const b of s.writes) this.buffer(b);
        this.put(s.init ? 1 : 0);
        if (s.init) this.stmt(s.init);
        this.stmt(s.body);
        for (let i = s.iterVars.length - 1; i >= 0; i--) this.unbindVar(s.iterVars[i]!.var, prev[i]);
        return;
      }
    }
  }

  expr(e: Expr): void {
    switch (e.kind) {
      case 'int':
        this.put(T.int);
        this.name(e.dtype);
        this.num(e.value);
        return;
      case 'float':
        this.put(T.float);
        this.name(e.dtype);
        this.bits(e.value);
        return;
      case 'var': {
        this.put(T.var);
        const i = this.vars.get(e.id);
        if (i !== undefined) {
          this.put(i);
        } else {
          this.put(FIRST);
          this.bindVar(e);
        }
        return;
      }
      case 'binary':
        this.put(T.binary);
        this.name(e.op);
        this.name(e.dtype);
        this.expr(e.a);
        this.expr(e.b);
        return;
      case 'compare':
        this.put(T.compare);
        this.name(e.op);
        this.expr(e.a);
        this.expr(e.b);
        return;
      case 'and': case 'or':
        this.put(T[e.kind]);
        this.expr(e.a);
        this.expr(e.b);
        return;
      case 'not':
        this.put(T.not);
        this.expr(e.a);
        return;
      case 'select':
        this.put(T.select);
        this.expr(e.cond);
        this.expr(e.t);
        this.expr(e.f);
        return;
      case 'cast':
        this.put(T.cast);
        this.name(e.dtype);
        this.expr(e.value);
        return;
      case 'call':
        this.put(T.call);
        this.name(e.fn);
        this.name(e.dtype);
        this.exprs(e.args);
        return;
      case 'load':
        this.put(T.load);
        this.buffer(e.buffer);
        this.exprs(e.indices);
        return;
      case 'pload': {
        this.put(T.pload);
        const p = this.producers.get(e.producer);
        if (p !== undefined) {
          this.put(p);
        } else {
          this.put(FIRST);
          this.name(e.producer.dtype);
          this.put(e.producer.shape.length);
          for (const d of e.producer.shape) this.num(d);
          this.producers.set(e.producer, this.producers.size);
        }
        this.exprs(e.indices);
        return;
      }
      case 'reduce': {
        this.put(T.reduce);
        this.name(e.combiner);
        this.name(e.dtype);
        this.put(e.axes.length);
        const prev = e.axes.map((a) => {
          this.num(a.extent);
          return this.bindVar(a.var);
        });
        this.expr(e.source);
        for (let i = e.axes.length - 1; i >= 0; i--) this.unbindVar(e.axes[i]!.var, prev[i]);
        return;
      }
    }
  }
}

const STMT_KINDS: ReadonlySet<string> = new Set<Stmt['kind']>(['for', 'seq', 'store', 'if', 'allocate', 'block', 'barrier', 'let']);
const isStmt = (x: Stmt | Expr): x is Stmt => STMT_KINDS.has(x.kind);

/** The statements of a sequence with nested sequences spliced in (as `seq()` builds them). */
function flatSeq(stmts: readonly Stmt[]): readonly Stmt[] {
  if (!stmts.some((s) => s.kind === 'seq')) return stmts;
  const out: Stmt[] = [];
  const add = (xs: readonly Stmt[]): void => {
    for (const s of xs) {
      if (s.kind === 'seq') add(s.stmts);
      else out.push(s);
    }
  };
  add(stmts);
  return out;
}

/**
 * A 64-bit hash of the token stream: two MurmurHash3-style lanes with their own constants,
 * finalized together with the stream's length.
 */
class HashSink implements Sink {
  private h1 = 0x6a09e667 | 0;
  private h2 = 0xbb67ae85 | 0;
  private n = 0;

  put(w: number): void {
    let k = Math.imul(w, 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    let h = this.h1 ^ k;
    h = (h << 13) | (h >>> 19);
    this.h1 = (Math.imul(h, 5) + 0xe6546b64) | 0;
    let j = Math.imul(w, 0x85ebca77);
    j = Math.imul((j << 17) | (j >>> 15), 0xc2b2ae3d);
    let g = this.h2 ^ j;
    g = (g << 11) | (g >>> 21);
    this.h2 = (Math.imul(g, 9) + 0x27d4eb2f) | 0;
    this.n++;
  }

  digest(): string {
    let a = this.h1 ^ this.n;
    let b = this.h2 ^ Math.imul(this.n, 0x9e3779b1);
    a = (a + b) | 0;
    b = (b + a) | 0;
    a = fmix32(a);
    b = fmix32(b);
    a = (a + b) | 0;
    b = (b + a) | 0;
    return hex32(a) + hex32(b);
  }
}

function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

const hex32 = (x: number): string => (x >>> 0).toString(16).padStart(8, '0');

class RecordSink implements Sink {
  readonly words: number[] = [];
  put(w: number): void {
    this.words.push(w);
  }
}

const MISMATCH = Symbol('structural mismatch');

/** Compares a stream with a recorded one, throwing MISMATCH at the first difference. */
class CompareSink implements Sink {
  private i = 0;
  constructor(private readonly words: readonly number[]) {}
  put(w: number): void {
    if (this.words[this.i++] !== w) throw MISMATCH;
  }
  done(): boolean {
    return this.i === this.words.length;
  }
}

/**
 * A stable hash of `x`'s structure, 16 hex digits: equal for structurally equal nodes
 * (`structuralEqual`), whatever their names and ids; the same in every process.
 */
export function structuralHash(x: StructuralNode): string {
  const sink = new HashSink();
  new Encoder(sink).node(x);
  return sink.digest();
}

/**
 * Whether `a` and `b` are the same up to the names and ids of their variables and buffers
 * (and the names of the function and its blocks); see the file comment.
 */
export function structuralEqual(a: StructuralNode, b: StructuralNode): boolean {
  if (a === b) return true;
  const rec = new RecordSink();
  new Encoder(rec).node(a);
  const cmp = new CompareSink(rec.words);
  try {
    new Encoder(cmp).node(b);
  } catch (e) {
    if (e === MISMATCH) return false;
    throw e;
  }
  return cmp.done();
}

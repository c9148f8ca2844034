/**
 * Wasm codegen: flattened PrimFuncs → one WebAssembly module (binary, encoded by
 * our own encoder). The module imports its linear memory as `env.memory` and the
 * math intrinsics wasm lacks from `math` (f64 → f64). Each kernel is exported
 * under its name and takes one i32 byte offset per buffer parameter, then the
 * offset of the workspace that holds its scratch buffers; a kernel with more
 * buffers than MAX_PARAM_ARGS (limits.ts) takes instead the offset of an argument
 * table holding them (one u32 each), then the workspace offset.
 */
import type { DType } from '../../runtime/dtype.js';
import type { KernelRegions, WasmKernelModule } from '../../runtime/devices/wasm.js';
import { registerCodegen } from '../registry.js';
import { type Buffer, type Expr, type Intrinsic, constValue, hasLoad, int, isFloatDType, substitute } from '../../ir/expr.js';
import { mapStmtExprs } from '../../tir/stmt.js';
import { NATIVE_MATH, VECTOR_MATH, addNativeMath, emitVectorMath } from './mathlib.js';
import { fromLinear, toLinear } from '../../tir/arith.js';
import { LANES, type Promotion, laneBase, mentionsLane, promotion, vectorizable } from './registers.js';
import { type Atom, accessKey, loopPointers, withAtoms } from './induction.js';
import type { Allocate, PrimFunc, Stmt } from '../../tir/stmt.js';
import { CodegenError } from '../error.js';
import { checkEngineLimit, usesArgTable } from './limits.js';
import { type FunctionBuilder, type LoadOp, type PlainOp, type StoreOp, type ValType, ModuleBuilder } from './encoder.js';

function valType(t: DType): ValType {
  switch (t) {
    case 'float32': case 'float16': case 'bfloat16': return 'f32'; // 16-bit floats are stored as 16 bits, computed in f32
    case 'float64': return 'f64';
    case 'int64': case 'uint64': return 'i64';
    default: return 'i32';
  }
}
const isUnsigned = (t: DType): boolean => t === 'uint8' || t === 'uint16' || t === 'uint32' || t === 'uint64' || t === 'bool';

const LOAD: Partial<Record<DType, LoadOp>> = {
  float32: 'f32.load', float64: 'f64.load', int32: 'i32.load', uint32: 'i32.load', int16: 'i32.load16_s',
  uint16: 'i32.load16_u', float16: 'i32.load16_u', bfloat16: 'i32.load16_u', int8: 'i32.load8_s', uint8: 'i32.load8_u', bool: 'i32.load8_u', int64: 'i64.load', uint64: 'i64.load',
};
const STORE: Partial<Record<DType, StoreOp>> = {
  float32: 'f32.store', float64: 'f64.store', int32: 'i32.store', uint32: 'i32.store', int16: 'i32.store16',
  uint16: 'i32.store16', float16: 'i32.store16', bfloat16: 'i32.store16', int8: 'i32.store8', uint8: 'i32.store8', bool: 'i32.store8', int64: 'i64.store', uint64: 'i64.store',
};
const SIZE_LOG2: Partial<Record<DType, number>> = {
  float32: 2, float64: 3, int32: 2, uint32: 2, int16: 1, uint16: 1, float16: 1, bfloat16: 1, int8: 0, uint8: 0, bool: 0, int64: 3, uint64: 3,
};

/** Float intrinsics with a native f32/f64 instruction. */
const NATIVE_FLOAT: Partial<Record<Intrinsic, string>> = {
  sqrt: 'sqrt', abs: 'abs', neg: 'neg', floor: 'floor', ceil: 'ceil', trunc: 'trunc', round: 'nearest',
};

/** 16-bit float storage: the imports converting its bits to and from f32. */
const HALF: Partial<Record<DType, { load: string; store: string }>> = {
  float16: { load: 'f16_to_f32', store: 'f32_to_f16' },
  bfloat16: { load: 'bf16_to_f32', store: 'f32_to_bf16' },
};

/** Imports whose signature is not f64 → f64. */
const SIGNATURES: Record<string, [ValType[], ValType[]]> = {
  pow: [['f64', 'f64'], ['f64']],
  f16_to_f32: [['i32'], ['f32']],
  f32_to_f16: [['f32'], ['i32']],
  bf16_to_f32: [['i32'], ['f32']],
  f32_to_bf16: [['f32'], ['i32']],
};

/** The math functions kernels call: compiled into the module (mathlib.ts) or imported from `math`. */
class Imports {
  readonly index = new Map<string, number>();
  constructor(mod: ModuleBuilder, needed: ReadonlySet<string>) {
    // Imports take the first function indices; the module's own math functions follow.
    for (const name of [...needed].sort()) {
      if (NATIVE_MATH.has(name)) continue;
      const [params, results] = SIGNATURES[name] ?? [['f64'], ['f64']];
      this.index.set(name, mod.importFunction('math', name, params, results));
    }
    for (const [name, i] of addNativeMath(mod, needed)) this.index.set(name, i);
  }
  get(name: string): number {
    const i = this.index.get(name);
    if (i === undefined) throw new Error(`math function ${name} was not collected`);
    return i;
  }
}

/** Intrinsics each function needs imported. */
function collectImports(funcs: readonly PrimFunc[]): Set<string> {
  const out = new Set<string>();
  const visit = (e: Expr): void => {
    switch (e.kind) {
      case 'call':
        if (!(isFloatDType(e.args[0]!.dtype) && NATIVE_FLOAT[e.fn])) out.add(e.fn);
        e.args.forEach(visit);
        return;
      case 'binary':
        if (e.op === 'pow') out.add('pow');
        visit(e.a); visit(e.b);
        return;
      case 'compare': case 'and': case 'or': visit(e.a); visit(e.b); return;
      case 'not': visit(e.a); return;
      case 'select': visit(e.cond); visit(e.t); visit(e.f); return;
      case 'cast':
        if (HALF[e.dtype]) { out.add(HALF[e.dtype]!.load); out.add(HALF[e.dtype]!.store); }
        visit(e.value);
        return;
      case 'load':
        if (HALF[e.dtype]) out.add(HALF[e.dtype]!.load);
        e.indices.forEach(visit);
        return;
      default: return;
    }
  };
  const stmt = (s: Stmt): void => {
    switch (s.kind) {
      case 'for': case 'allocate': stmt(s.body); return;
      case 'let': visit(s.value); stmt(s.body); return;
      case 'seq': s.stmts.forEach(stmt); return;
      case 'store':
        if (HALF[s.buffer.dtype]) out.add(HALF[s.buffer.dtype]!.store);
        s.indices.forEach(visit);
        visit(s.value);
        return;
      case 'if': visit(s.cond); stmt(s.then); if (s.else) stmt(s.else); return;
      case 'block': case 'barrier': return;
    }
  };
  for (const f of funcs) stmt(f.body);
  return out;
}

class KernelEmitter {
  private readonly vars = new Map<number, number>();
  private readonly bases = new Map<number, number>();
  private readonly temps = new Map<ValType, number[]>();
  private workspaceUsed = 0;
  /** The local holding the base of new scratch allocations (the workspace, or in a parallel region the thread's own). */
  private scratchBase: number;
  private readonly wsLocal: number;
  /** Local buffers promoted to wasm locals: element (scalar) or group of 4 (vector) → local index. */
  private readonly promoted = new Map<number, { mode: Promotion['mode']; buf: Buffer; locals: Map<number, number> }>();
  /** Address pointers of the innermost loop being emitted (induction.ts): access key → local. */
  private pointers = new Map<string, number>();
  /** Invariant index parts of that loop, computed before it (induction.ts). */
  private atoms = new Map<string, Atom>();
  /**
   * Loads already made in this stretch of straight-line code (lane-invariant broadcasts and
   * lane-contiguous vectors; buffer and index → v128 local): a register tile reads each
   * operand once per step, not once per use. Cleared at loops, branches and stores to memory.
   */
  private readonly splats = new Map<string, number>();
  /** The buffer each cached load reads (a store to it forgets them). */
  private readonly splatBuffers = new Map<string, number>();
  private readonly splatLocals: number[] = [];
  private splatsUsed = 0;
  /** Which subexpressions of the vector body being emitted depend on its lane (mentionsLane). */
  private laneMemo = new Map<Expr, boolean>();

  constructor(
    private readonly func: PrimFunc, private readonly f: FunctionBuilder, private readonly imports: Imports,
    /** Fuse vector multiply-adds with relaxed SIMD (f32x4.relaxed_madd). */
    private readonly fma = false,
  ) {
    if (usesArgTable(func.params.length)) {
      // Params (table, ws): each buffer's offset is loaded from the table once, at entry.
      func.params.forEach((b, i) => {
        const local = f.addLocal('i32');
        f.localGet(0).load('i32.load', { offset: 4 * i, align: 2 }).localSet(local);
        this.bases.set(b.id, local);
      });
      this.wsLocal = 1;
    } else {
      func.params.forEach((b, i) => this.bases.set(b.id, i));
      this.wsLocal = func.params.length;
    }
    this.scratchBase = this.wsLocal;
  }

  /**
   * A region function for threads: params (args..., ws, begin, end, tws). Scratch
   * buffers allocated at the top of the kernel (`shared`) keep their workspace offsets;
   * a parallel region runs iterations [begin, end) of its loop, with the scratch it
   * allocates inside in the calling thread's own workspace `tws`.
   */
  region(shared: readonly Allocate[], s: Stmt, parallel: boolean): { shared: number; perThread: number } {
    const f = this.f;
    for (const a of shared) this.bindScratch(a.buffer);
    const sharedBytes = this.workspaceUsed;
    if (!parallel || s.kind !== 'for') {
      this.stmt(s);
      return { shared: sharedBytes, perThread: 0 };
    }
    const begin = this.wsLocal + 1;
    const end = this.wsLocal + 2;
    this.scratchBase = this.wsLocal + 3;
    this.workspaceUsed = 0;
    const i = f.addLocal('i32');
    this.vars.set(s.loopVar.id, i);
    f.localGet(begin).localSet(i);
    f.block();
    f.localGet(i).localGet(end).op('i32.ge_s').brIf(0);
    f.loop();
    this.forgetSplats();
    this.stmt(s.body);
    f.localGet(i).i32Const(1).op('i32.add').localTee(i).localGet(end).op('i32.lt_s').brIf(0);
    f.end();
    f.end();
    return { shared: sharedBytes, perThread: this.workspaceUsed };
  }

  /** Places a scratch buffer at the next free offset of the current scratch area. */
  private bindScratch(buf: Buffer): void {
    const log2 = SIZE_LOG2[buf.dtype];
    if (log2 === undefined) this.fail(`dtype ${buf.dtype} is not supported by the wasm target yet`);
    const local = this.f.addLocal('i32');
    this.f.localGet(this.scratchBase).i32Const(this.workspaceUsed).op('i32.add').localSet(local);
    this.bases.set(buf.id, local);
    this.workspaceUsed += Math.ceil((buf.shape[0]! << log2) / 16) * 16;
  }

  get workspaceBytes(): number {
    return this.workspaceUsed;
  }

  private fail(reason: string): never {
    throw new CodegenError('wasm', this.func.name, reason);
  }

  /** A scratch local of a type, released by the returned function. */
  private temp(t: ValType): [number, () => void] {
    const pool = this.temps.get(t) ?? [];
    this.temps.set(t, pool);
    const idx = pool.pop() ?? this.f.addLocal(t);
    return [idx, () => pool.push(idx)];
  }

  private promotedLocal(b: Buffer, slot: number): number {
    const p = this.promoted.get(b.id)!;
    let l = p.locals.get(slot);
    if (l === undefined) {
      l = this.f.addLocal(p.mode === 'vector' ? 'v128' : valType(b.dtype));
      p.locals.set(slot, l);
    }
    return l;
  }

  private constIndex(b: Buffer, index: Expr): number {
    const c = constValue(index);
    if (c === undefined) this.fail(`register buffer ${b.name} accessed at a non-constant index`);
    return c;
  }

  private isVectorLocal = (b: Buffer): boolean => this.promoted.get(b.id)?.mode === 'vector';
  private isScalarLocal = (b: Buffer): boolean => this.promoted.get(b.id)?.mode === 'scalar';

  private address(b: Buffer, index: Expr): number {
    const base = this.bases.get(b.id);
    if (base === undefined) this.fail(`buffer ${b.name} is neither a parameter nor allocated`);
    const log2 = SIZE_LOG2[b.dtype];
    if (log2 === undefined) this.fail(`dtype ${b.dtype} is not supported by the wasm target yet`);
    const lin = toLinear(withAtoms(index, this.atoms));
    const ptr = lin && this.pointers.get(accessKey(b, { terms: lin.terms, constant: 0 }));
    if (lin && ptr !== undefined) {
      this.f.localGet(ptr);
      const off = lin.constant << log2;
      // As below: the instruction's offset only when the pointer cannot be "negative".
      if (off >= 0 && [...lin.terms.values()].every((t) => t.c > 0)) return off;
      if (off !== 0) this.f.i32Const(off).op('i32.add');
      return 0;
    }
    this.f.localGet(base);
    if (index.kind === 'int') return index.value << log2;
    // A positive constant term goes into the instruction's offset, so loads that differ
    // only by it (an unrolled tile) compute the same address expression. Only when the
    // rest cannot be negative (loop variables with positive coefficients): the address
    // operand is unsigned, so base + (negative rest) would wrap around.
    let offset = 0;
    if (lin && lin.constant > 0 && lin.terms.size > 0 && [...lin.terms.values()].every((t) => t.c > 0)) {
      offset = lin.constant << log2;
      index = fromLinear({ terms: lin.terms, constant: 0 });
    }
    this.expr(index);
    if (log2 > 0) this.f.i32Const(log2).op('i32.shl');
    this.f.op('i32.add');
    return offset;
  }

  expr(e: Expr): void {
    const f = this.f;
    switch (e.kind) {
      case 'int': {
        const vt = valType(e.dtype);
        if (vt === 'i64') f.i64Const(BigInt(e.value));
        else if (vt === 'i32') f.i32Const(e.value | 0);
        else if (vt === 'f32') f.f32Const(e.value);
        else f.f64Const(e.value);
        return;
      }
      case 'float':
        if (valType(e.dtype) === 'f32') f.f32Const(e.value);
        else f.f64Const(e.value);
        return;
      case 'var': {
        const l = this.vars.get(e.id);
        if (l === undefined) this.fail(`variable ${e.name} is not bound`);
        f.localGet(l);
        return;
      }
      case 'binary': return this.binary(e.op, e.dtype, e.a, e.b);
      case 'compare': {
        this.expr(e.a);
        this.expr(e.b);
        const vt = valType(e.a.dtype);
        const op = vt === 'f32' || vt === 'f64' || e.op === 'eq' || e.op === 'ne' ? e.op : `${e.op}_${isUnsigned(e.a.dtype) ? 'u' : 's'}`;
        f.op(`${vt}.${op}` as PlainOp);
        return;
      }
      case 'and': case 'or': {
        this.expr(e.a);
        if (hasLoad(e.b)) {
          // Short-circuit: the right side may read memory that the left side guards.
          f.if_('i32');
          if (e.kind === 'and') { this.expr(e.b); f.else_().i32Const(0); } else { f.i32Const(1).else_(); this.expr(e.b); }
          f.end();
        } else {
          this.expr(e.b);
          f.op(e.kind === 'and' ? 'i32.and' : 'i32.or');
        }
        return;
      }
      case 'not': this.expr(e.a); f.op('i32.eqz'); return;
      case 'select': {
        const vt = valType(e.dtype);
        if (hasLoad(e.t) || hasLoad(e.f)) {
          this.expr(e.cond);
          f.if_(vt);
          this.expr(e.t);
          f.else_();
          this.expr(e.f);
          f.end();
        } else {
          this.expr(e.t);
          this.expr(e.f);
          this.expr(e.cond);
          f.select();
        }
        return;
      }
      case 'cast': this.expr(e.value); this.cast(e.value.dtype, e.dtype); return;
      case 'call': return this.call(e.fn, e.args, e.dtype);
      case 'load': {
        const p = this.promoted.get(e.buffer.id);
        if (p) {
          const idx = this.constIndex(e.buffer, e.indices[0]!);
          if (p.mode === 'scalar') f.localGet(this.promotedLocal(e.buffer, idx));
          else f.localGet(this.promotedLocal(e.buffer, idx >> 2)).laneOp('f32x4.extract_lane', idx & 3);
          return;
        }
        const off = this.address(e.buffer, e.indices[0]!);
        f.load(LOAD[e.dtype]!, { offset: off });
        if (HALF[e.dtype]) f.call(this.imports.get(HALF[e.dtype]!.load));
        return;
      }
      case 'pload': case 'reduce':
        this.fail(`${e.kind} must be lowered before codegen`);
    }
  }

  private binary(op: string, dtype: DType, a: Expr, b: Expr): void {
    const f = this.f;
    const vt = valType(dtype);
    const float = vt === 'f32' || vt === 'f64';
    const u = isUnsigned(dtype);
    switch (op) {
      case 'add': case 'sub': case 'mul':
        this.expr(a); this.expr(b); f.op(`${vt}.${op}` as PlainOp); return;
      case 'div':
        this.expr(a); this.expr(b); f.op(`${vt}.${float ? 'div' : u ? 'div_u' : 'div_s'}` as PlainOp); return;
      case 'min': case 'max':
        this.expr(a); this.expr(b);
        if (float) { f.op(`${vt}.${op}` as PlainOp); return; }
        this.withTemps(vt, (ta, tb) => {
          f.localSet(tb).localTee(ta).localGet(tb).localGet(ta).localGet(tb);
          f.op(`${vt}.${op === 'min' ? 'lt' : 'gt'}_${u ? 'u' : 's'}` as PlainOp).select();
        });
        return;
      case 'pow':
        this.toF64(a); this.toF64(b); f.call(this.imports.get('pow')); this.fromF64(dtype); return;
      case 'floordiv':
        this.expr(a); this.expr(b);
        if (float) { f.op(`${vt}.div` as PlainOp).op(`${vt}.floor` as PlainOp); return; }
        if (u) { f.op(`${vt}.div_u` as PlainOp); return; }
        this.withTemps(vt, (ta, tb) => {
          // q = a / b (truncating); q - 1 when the remainder is nonzero and the signs differ.
          f.localSet(tb).localSet(ta);
          f.localGet(ta).localGet(tb).op(`${vt}.div_s` as PlainOp);
          f.localGet(ta).localGet(tb).op(`${vt}.rem_s` as PlainOp).op(`${vt}.eqz` as PlainOp).op('i32.eqz');
          f.localGet(ta).localGet(tb).op(`${vt}.xor` as PlainOp);
          this.zero(vt);
          f.op(`${vt}.lt_s` as PlainOp).op('i32.and');
          if (vt === 'i64') f.op('i64.extend_i32_u');
          f.op(`${vt}.sub` as PlainOp);
        });
        return;
      case 'floormod':
        this.expr(a); this.expr(b);
        if (float) {
          this.withTemps(vt, (ta, tb) => {
            f.localSet(tb).localSet(ta);
            f.localGet(ta).localGet(ta).localGet(tb).op(`${vt}.div` as PlainOp).op(`${vt}.floor` as PlainOp);
            f.localGet(tb).op(`${vt}.mul` as PlainOp).op(`${vt}.sub` as PlainOp);
          });
          return;
        }
        if (u) { f.op(`${vt}.rem_u` as PlainOp); return; }
        this.withTemps(vt, (r, tb) => {
          // r = a % b; r + b when r is nonzero and its sign differs from b's.
          f.localSet(tb).localGet(tb).op(`${vt}.rem_s` as PlainOp).localTee(r);
          f.localGet(tb);
          this.zero(vt);
          f.localGet(r).op(`${vt}.eqz` as PlainOp).op('i32.eqz');
          f.localGet(r).localGet(tb).op(`${vt}.xor` as PlainOp);
          this.zero(vt);
          f.op(`${vt}.lt_s` as PlainOp).op('i32.and');
          f.select().op(`${vt}.add` as PlainOp);
        });
        return;
    }
    this.fail(`binary op ${op} on ${dtype}`);
  }

  private zero(vt: ValType): void {
    if (vt === 'i64') this.f.i64Const(0n);
    else this.f.i32Const(0);
  }

  private withTemps(vt: ValType, body: (a: number, b: number) => void): void {
    const [ta, ra] = this.temp(vt);
    const [tb, rb] = this.temp(vt);
    body(ta, tb);
    ra();
    rb();
  }

  private toF64(e: Expr): void {
    this.expr(e);
    this.cast(e.dtype, 'float64');
  }

  private fromF64(to: DType): void {
    this.cast('float64', to);
  }

  private call(fn: Intrinsic, args: readonly Expr[], dtype: DType): void {
    const f = this.f;
    const argType = args[0]!.dtype;
    const vt = valType(argType);
    const native = NATIVE_FLOAT[fn];
    if (native && (vt === 'f32' || vt === 'f64')) {
      this.expr(args[0]!);
      f.op(`${vt}.${native}` as PlainOp);
      return;
    }
    if (!isFloatDType(argType) && fn !== 'abs' && fn !== 'neg') this.fail(`intrinsic ${fn} on ${argType}`);
    if (fn === 'abs' || fn === 'neg') {
      // Integer abs/neg.
      this.expr(args[0]!);
      this.withTemps(vt, (t) => {
        f.localSet(t);
        this.zero(vt);
        f.localGet(t).op(`${vt}.sub` as PlainOp);
        if (fn === 'abs') {
          f.localGet(t).localGet(t);
          this.zero(vt);
          f.op(`${vt}.lt_s` as PlainOp).select();
        }
      });
      return;
    }
    for (const a of args) this.toF64(a);
    f.call(this.imports.get(fn));
    if (dtype === 'bool') {
      f.f64Const(0).op('f64.ne');
      return;
    }
    this.fromF64(dtype);
  }

  /** One SIMD step for a vectorizable loop body over `lane` (4 float32 lanes). */
  private vectorBody(body: Stmt, lane: number): void {
    const f = this.f;
    this.laneMemo = new Map();
    const atLane0 = (e: Expr): Expr => substitute(e, new Map([[lane, int(0)]]));
    for (const s of body.kind === 'seq' ? body.stmts : [body]) {
      if (s.kind !== 'store') this.fail('vector body holds a non-store');
      if (this.isVectorLocal(s.buffer)) {
        this.vexpr(s.value, lane);
        f.localSet(this.promotedLocal(s.buffer, laneBase(s.indices[0]!, lane) >> 2));
      } else {
        const off = this.address(s.buffer, atLane0(s.indices[0]!));
        this.vexpr(s.value, lane);
        f.store('v128.store', { offset: off, align: 2 });
        this.forgetStoresTo(s.buffer.id);
      }
    }
  }

  /** A v128 local remembering the load `key` of `buffer` until the next forgetSplats. */
  private cacheLocal(key: string, buffer: number): number {
    if (this.splatsUsed === this.splatLocals.length) this.splatLocals.push(this.f.addLocal('v128'));
    const l = this.splatLocals[this.splatsUsed++]!;
    this.splats.set(key, l);
    this.splatBuffers.set(key, buffer);
    return l;
  }

  private forgetSplats(): void {
    this.splats.clear();
    this.splatBuffers.clear();
    this.splatsUsed = 0;
  }

  /**
   * After a store to buffer `id`: forgets the cached loads of that buffer only. Distinct
   * buffers never overlap in memory within a kernel (the memory plan gives a kernel's
   * inputs and outputs disjoint storage; scratch buffers have their own workspace offsets),
   * so the loads of other buffers stay valid: a Winograd tile's 16 outputs share its loads.
   */
  private forgetStoresTo(id: number): void {
    for (const [key, b] of this.splatBuffers) {
      if (b !== id) continue;
      this.splats.delete(key);
      this.splatBuffers.delete(key);
    }
  }

  /** Emits `e` as an f32x4 value across the lanes of `lane`. */
  private vexpr(e: Expr, lane: number): void {
    const f = this.f;
    if (!mentionsLane(e, lane, this.isVectorLocal, this.laneMemo)) {
      if (e.kind === 'load' && e.dtype === 'float32' && !this.promoted.has(e.buffer.id)) {
        const lin = toLinear(e.indices[0]!);
        const key = lin && `${accessKey(e.buffer, lin)}${lin.constant}`;
        const cached = key === undefined ? undefined : this.splats.get(key);
        if (cached !== undefined) {
          f.localGet(cached);
          return;
        }
        f.load('v128.load32_splat', { offset: this.address(e.buffer, e.indices[0]!) }); // load and broadcast in one
        if (key !== undefined) f.localTee(this.cacheLocal(key, e.buffer.id));
        return;
      }
      this.expr(e);
      f.op('f32x4.splat');
      return;
    }
    switch (e.kind) {
      case 'float': f.f32Const(e.value).op('f32x4.splat'); return;
      case 'load': {
        if (this.isVectorLocal(e.buffer)) {
          f.localGet(this.promotedLocal(e.buffer, laneBase(e.indices[0]!, lane) >> 2));
          return;
        }
        // Like broadcasts, a vector read once per straight-line stretch (a depthwise tile's
        // weight vector serves every row).
        const at0 = substitute(e.indices[0]!, new Map([[lane, int(0)]]));
        const lin = toLinear(withAtoms(at0, this.atoms));
        const key = lin && `v${accessKey(e.buffer, lin)}${lin.constant}`;
        const cached = key === undefined ? undefined : this.splats.get(key);
        if (cached !== undefined) {
          f.localGet(cached);
          return;
        }
        f.load('v128.load', { offset: this.address(e.buffer, at0), align: 2 });
        if (key !== undefined) f.localTee(this.cacheLocal(key, e.buffer.id));
        return;
      }
      case 'binary': {
        // a*b + c as one relaxed fused multiply-add when the module may use relaxed SIMD.
        const mulSide = e.op !== 'add' || !this.fma ? undefined
          : e.a.kind === 'binary' && e.a.op === 'mul' ? 'a' : e.b.kind === 'binary' && e.b.op === 'mul' ? 'b' : undefined;
        if (mulSide) {
          const m = (mulSide === 'a' ? e.a : e.b) as Extract<Expr, { kind: 'binary' }>;
          this.vexpr(m.a, lane);
          this.vexpr(m.b, lane);
          this.vexpr(mulSide === 'a' ? e.b : e.a, lane);
          f.op('f32x4.relaxed_madd');
          return;
        }
        // min/max of a vector against a lane-invariant bound (a ReLU's 0, a Clip's limits) as
        // one pseudo-min/max instruction, the vector first (x < c ? c : x): a NaN in x still
        // gives NaN; a zero result may have the other sign, and a NaN bound leaves x unchanged.
        // The full f32x4.min/max costs V8 seven x86 instructions for NaN and -0 semantics.
        const invariant = (x: Expr): boolean => !mentionsLane(x, lane, this.isVectorLocal, this.laneMemo) && !(x.kind === 'float' && Number.isNaN(x.value));
        const bound = e.op !== 'min' && e.op !== 'max' ? undefined
          : invariant(e.b) ? { x: e.a, c: e.b } : invariant(e.a) ? { x: e.b, c: e.a } : undefined;
        if (bound) {
          this.vexpr(bound.x, lane);
          this.vexpr(bound.c, lane);
          f.op(e.op === 'min' ? 'f32x4.pmin' : 'f32x4.pmax');
          return;
        }
        this.vexpr(e.a, lane);
        this.vexpr(e.b, lane);
        f.op(`f32x4.${e.op}` as PlainOp);
        return;
      }
      case 'select':
        // The condition is lane-invariant (vectorizable checked it); only the chosen side is
        // evaluated, so a guarded load never reads out of bounds.
        this.expr(e.cond);
        f.if_('v128');
        this.forgetSplats();
        this.vexpr(e.t, lane);
        f.else_();
        this.forgetSplats();
        this.vexpr(e.f, lane);
        f.end();
        this.forgetSplats();
        return;
      case 'call':
        this.vexpr(e.args[0]!, lane);
        if (VECTOR_MATH.has(e.fn)) {
          const t = f.addLocal('v128');
          f.localSet(t);
          emitVectorMath(f, e.fn, t);
        } else f.op(`f32x4.${e.fn === 'round' ? 'nearest' : e.fn}` as PlainOp);
        return;
      default:
        this.fail(`cannot vectorize ${e.kind}`);
    }
  }

  /** Converts the value on the stack from `from` to `to`. */
  cast(from: DType, to: DType): void {
    if (from === to) return;
    const f = this.f;
    const vf = valType(from);
    const vt = valType(to);
    if (to === 'bool') {
      if (vf === 'i64') f.i64Const(0n).op('i64.ne');
      else if (vf === 'i32') f.i32Const(0).op('i32.ne');
      else if (vf === 'f32') f.f32Const(0).op('f32.ne');
      else f.f64Const(0).op('f64.ne');
      return;
    }
    const fFloat = vf === 'f32' || vf === 'f64';
    const tFloat = vt === 'f32' || vt === 'f64';
    if (fFloat && tFloat) {
      if (vf !== vt) f.op(vt === 'f64' ? 'f64.promote_f32' : 'f32.demote_f64');
      if (HALF[to]) f.call(this.imports.get(HALF[to]!.store)).call(this.imports.get(HALF[to]!.load));
      return;
    }
    if (!fFloat && tFloat) {
      f.op(`${vt}.convert_${vf}_${isUnsigned(from) ? 'u' : 's'}` as PlainOp);
      if (HALF[to]) f.call(this.imports.get(HALF[to]!.store)).call(this.imports.get(HALF[to]!.load));
      return;
    }
    if (fFloat && !tFloat) {
      f.op(`${vt}.trunc_sat_${vf}_${isUnsigned(to) ? 'u' : 's'}` as PlainOp);
    } else if (vf === 'i32' && vt === 'i64') {
      f.op(isUnsigned(from) ? 'i64.extend_i32_u' : 'i64.extend_i32_s');
    } else if (vf === 'i64' && vt === 'i32') {
      f.op('i32.wrap_i64');
    }
    // Narrow integer results wrap to their width.
    switch (to) {
      case 'int8': f.op('i32.extend8_s'); break;
      case 'int16': f.op('i32.extend16_s'); break;
      case 'uint8': f.i32Const(0xff).op('i32.and'); break;
      case 'uint16': f.i32Const(0xffff).op('i32.and'); break;
      default: break;
    }
  }

  stmt(s: Stmt): void {
    const f = this.f;
    switch (s.kind) {
      case 'for': {
        if (s.forKind === 'vectorized' && s.extent === LANES) {
          const lane = s.loopVar.id;
          if (vectorizable(s.body, lane, this.isVectorLocal, this.isScalarLocal)) {
            this.vectorBody(s.body, lane);
          } else {
            // Not SIMD-able: emit the lanes one by one (constant lane indices).
            for (let l = 0; l < LANES; l++) this.stmt(mapStmtExprs(s.body, (e) => substitute(e, new Map([[lane, int(l)]]))));
          }
          return;
        }
        const i = f.addLocal('i32');
        this.vars.set(s.loopVar.id, i);
        this.forgetSplats();
        // Innermost loops address memory through induction pointers (induction.ts).
        const outer = this.pointers;
        const outerAtoms = this.atoms;
        const atoms = new Map<string, Atom>();
        const found = loopPointers(s, (b) => this.promoted.has(b.id), (id) => this.vars.has(id), atoms);
        for (const a of atoms.values()) {
          const local = f.addLocal('i32');
          this.expr(a.expr);
          f.localSet(local);
          this.vars.set(a.v.id, local);
        }
        const ptrs = found.map((p) => {
          const local = f.addLocal('i32');
          const log2 = SIZE_LOG2[p.buffer.dtype]!;
          this.address(p.buffer, p.init);
          f.localSet(local);
          return { ...p, local, log2 };
        });
        this.pointers = ptrs.length > 0 ? new Map(ptrs.map((p) => [p.key, p.local])) : outer;
        this.atoms = ptrs.length > 0 ? atoms : outerAtoms;
        f.i32Const(0).localSet(i);
        f.loop();
        this.stmt(s.body);
        this.forgetSplats();
        for (const p of ptrs) if (p.step !== 0) f.localGet(p.local).i32Const(p.step << p.log2).op('i32.add').localSet(p.local);
        f.localGet(i).i32Const(1).op('i32.add').localTee(i).i32Const(s.extent).op('i32.lt_s').brIf(0);
        f.end();
        this.pointers = outer;
        this.atoms = outerAtoms;
        return;
      }
      case 'seq': s.stmts.forEach((x) => this.stmt(x)); return;
      case 'store': {
        const p = this.promoted.get(s.buffer.id);
        if (p) {
          const idx = this.constIndex(s.buffer, s.indices[0]!);
          if (p.mode === 'scalar') {
            this.expr(s.value);
            f.localSet(this.promotedLocal(s.buffer, idx));
          } else {
            const group = this.promotedLocal(s.buffer, idx >> 2);
            f.localGet(group);
            this.expr(s.value);
            f.laneOp('f32x4.replace_lane', idx & 3).localSet(group);
          }
          return;
        }
        const op = STORE[s.buffer.dtype];
        if (!op) this.fail(`dtype ${s.buffer.dtype} is not supported by the wasm target yet`);
        const off = this.address(s.buffer, s.indices[0]!);
        this.expr(s.value);
        if (HALF[s.buffer.dtype]) f.call(this.imports.get(HALF[s.buffer.dtype]!.store));
        f.store(op, { offset: off });
        this.forgetSplats();
        return;
      }
      case 'if':
        this.expr(s.cond);
        f.if_();
        this.forgetSplats();
        this.stmt(s.then);
        if (s.else) {
          f.else_();
          this.forgetSplats();
          this.stmt(s.else);
        }
        f.end();
        this.forgetSplats();
        return;
      case 'allocate': {
        const promo = promotion(s.buffer, s.body);
        if (promo) {
          this.promoted.set(s.buffer.id, { mode: promo.mode, buf: s.buffer, locals: new Map() });
          this.stmt(s.body);
          return;
        }
        this.bindScratch(s.buffer);
        this.stmt(s.body);
        return;
      }
      case 'block':
        this.fail(`block ${s.name} must be lowered before codegen`);
      // One thread runs a workgroup's thread-bound loops one after another: a barrier between them holds.
      case 'barrier': return;
      case 'let': {
        this.expr(s.value);
        const local = f.addLocal(valType(s.value.dtype));
        f.localSet(local);
        this.vars.set(s.var.id, local);
        this.stmt(s.body);
        return;
      }
    }
  }
}

/** The top-level scratch allocations of a kernel and the statements inside them. */
function peel(body: Stmt): { shared: Allocate[]; stmts: Stmt[] } {
  const shared: Allocate[] = [];
  let s = body;
  while (s.kind === 'allocate' && s.buffer.scope === 'global') {
    shared.push(s);
    s = s.body;
  }
  return { shared, stmts: s.kind === 'seq' ? [...s.stmts] : [s] };
}

export interface WasmBuildOptions {
  /** Import the memory as shared (needed to run kernels on several threads). */
  readonly sharedMemory?: boolean;
  /**
   * Use relaxed SIMD's fused multiply-add for vector a*b + c. The module then needs an engine
   * with relaxed SIMD (Chrome 114+, Node 22+; Node 20 with --experimental-wasm-relaxed-simd).
   */
  readonly fma?: boolean;
  /** Filled with the milliseconds spent generating each kernel (its function and regions), by name. */
  readonly kernelMs?: Record<string, number>;
}

export function buildWasmModule(funcs: readonly PrimFunc[], opts: WasmBuildOptions = {}): WasmKernelModule {
  const mod = new ModuleBuilder();
  mod.importMemory('env', 'memory', opts.sharedMemory ? { initial: 1, maximum: 65536, shared: true } : { initial: 1 });
  const imports = new Imports(mod, collectImports(funcs));
  const workspace: Record<string, number> = {};
  const regions: Record<string, KernelRegions> = {};
  const argTables: string[] = [];
  const kernelMs = opts.kernelMs ?? {};
  /** Adds a function and checks what the engine limits of one function. */
  const define = (name: string, params: ValType[], build: (fb: FunctionBuilder) => void): number => {
    const index = mod.addFunction(params, [], (fb) => {
      build(fb);
      checkEngineLimit(`kernel ${name}`, 'locals', fb.localCount, 'locals');
    });
    checkEngineLimit(`kernel ${name}`, 'bytes of function body', mod.bodySize(index), 'functionBodyBytes');
    return index;
  };
  for (const func of funcs) {
    const t0 = performance.now();
    if (!func.flat) throw new CodegenError('wasm', func.name, 'the function must be flattened before codegen');
    if (func.name in workspace) throw new CodegenError('wasm', func.name, 'duplicate kernel name');
    const table = usesArgTable(func.params.length);
    if (table) argTables.push(func.name);
    const params: ValType[] = table ? ['i32', 'i32'] : [...func.params.map(() => 'i32' as const), 'i32'];
    let used = 0;
    const index = define(func.name, params, (fb) => {
      const em = new KernelEmitter(func, fb, imports, opts.fma);
      em.stmt(func.body);
      used = em.workspaceBytes;
    });
    mod.exportFunction(func.name, index);
    workspace[func.name] = used;
    // Kernels with a top-level parallel loop also get one function per region for threads.
    const { shared, stmts } = peel(func.body);
    if (!stmts.some((x) => x.kind === 'for' && x.forKind === 'parallel')) {
      kernelMs[func.name] = performance.now() - t0;
      continue;
    }
    const list: KernelRegions = { regions: [], sharedBytes: 0, threadBytes: 0 };
    stmts.forEach((st, r) => {
      const parallel = st.kind === 'for' && st.forKind === 'parallel';
      const name = `${func.name}$${r}`;
      const ri = define(name, [...params, 'i32', 'i32', 'i32'], (fb) => {
        const em = new KernelEmitter(func, fb, imports, opts.fma);
        const bytes = em.region(shared, st, parallel);
        list.sharedBytes = bytes.shared;
        list.threadBytes = Math.max(list.threadBytes, bytes.perThread);
      });
      mod.exportFunction(name, ri);
      list.regions.push({ fn: name, extent: parallel && st.kind === 'for' ? st.extent : 0 });
    });
    regions[func.name] = list;
    kernelMs[func.name] = performance.now() - t0;
  }
  checkEngineLimit('module', 'functions', mod.functionCount, 'functions');
  checkEngineLimit('module', 'exports', mod.exportCount, 'exports');
  const bytes = mod.build();
  checkEngineLimit('module', 'bytes', bytes.byteLength, 'moduleBytes');
  return {
    kind: 'wasm', bytes, workspace, regions, ...(argTables.length > 0 ? { argTables } : {}),
    sharedMemory: opts.sharedMemory ?? false, relaxedSimd: opts.fma ?? false,
  };
}

registerCodegen('wasm', (funcs, target) => {
  const threads = target.threads;
  const kernelMs: Record<string, number> = {};
  const module = buildWasmModule(funcs, { sharedMemory: threads > 1, fma: target.features.has('relaxed-simd'), kernelMs });
  // The workspace holds the largest kernel's scratch; a threaded kernel's shared part plus one part per thread.
  let workspaceBytes = 0;
  for (const b of Object.values(module.workspace)) workspaceBytes = Math.max(workspaceBytes, b);
  for (const r of Object.values(module.regions ?? {})) workspaceBytes = Math.max(workspaceBytes, r.sharedBytes + threads * r.threadBytes);
  return { module, workspaceBytes, argTableKernels: new Set(module.argTables), threads: module.sharedMemory ? threads : 1, kernelMs };
});

/**
 * Features of a scheduled PrimFunc for the tuner's cost model (tune/cost_model.ts), in the
 * manner of Ansor's and MetaSchedule's per-store features: every Store is described by what
 * it computes, the loops around it and the memory it touches; the function's fixed-length
 * vector aggregates them. The input is a scheduled, unflattened function (`Schedule.func`):
 * blocks are still there, and each store's indices are read through its blocks' bindings as
 * expressions of the enclosing loop variables.
 *
 * Per store (times its trip count, the product of the enclosing loops' extents; for the init
 * of an undecomposed reduction, of the loops a spatial iterator uses):
 * - arithmetic: float add/sub, mul, div (div, floordiv, floormod), min/max, math calls (and
 *   pow), float compares and selects, integer operations; flops as tir/analysis.ts counts
 *   them (float binaries and calls);
 * - loops: depth (loops of extent > 1), innermost extent, vector lanes (product of the
 *   vectorized extents) and whether the innermost loop is the vector one, the unrolled product,
 *   the parallel product, the blockIdx and threadIdx products (GPU);
 * - the straight-line body: the innermost run of unrolled and vectorized loops (emitted without
 *   a loop), its iterations and its flops per distinct non-local byte it touches (a register
 *   tile's operands loaded once serve all its multiply-adds); whether every local buffer is
 *   indexed only by unrolled or vectorized loops (so a codegen can keep it in registers);
 * - memory, per buffer (its accesses in the store grouped): for each loop level L (the loops
 *   from L inwards) the region the accesses touch, a bounding box per dimension from the
 *   affine index coefficients (tir/arith.ts toLinear; non-affine indices by evaluating them
 *   at sample points, indices that cannot be evaluated as spanning the loops' extents), its
 *   elements and its 64-byte cache lines (a contiguous run spans the trailing dimensions the
 *   box covers entirely); the flattened stride along the innermost loop (invariant,
 *   contiguous, strided, or unknown) and along the vector loop; reuse: the innermost loop the
 *   buffer's accesses do not depend on, its extent (reuse count), the iterations inside it
 *   (reuse distance) and the bytes the store touches inside it (reuse distance in bytes);
 * - cache model: for a capacity T, the outermost level whose non-local footprint (lines)
 *   fits in T is loaded once per iteration of the loops outside it, so the traffic is that
 *   footprint times their trip count; arithmetic intensity is flops / traffic. T is 1 KiB
 *   (about a register file), 32 KiB (L1) and 512 KiB (L2); `compulsory` is the footprint of
 *   the whole nest. Local buffers (register tiles) are left out of footprints and traffic.
 *
 * The function vector (FEATURE_NAMES, in this order):
 * - totals over stores: the counts above, store executions, bytes loaded and stored (global
 *   and shared), local accesses, static stores, blocks, top-level nests, parameter bytes,
 *   local and scratch allocation bytes, traffic at each capacity, and the arithmetic
 *   intensities of the totals;
 * - fractions of the work (each store weighted by trips × (1 + flops per execution)) in
 *   stores with a vector loop, with every access invariant or contiguous along the vector
 *   loop ("vector friendly"), under a parallel (or blockIdx) loop, with unrolled loops, the
 *   weighted mean fraction of accesses invariant or contiguous along the innermost loop, and
 *   in stores whose local buffers are register-indexed;
 * - the dominant store (largest weight): its share of the work, trips, flops per execution,
 *   the loop and straight-line body features, its footprint under its innermost 1..4 loops
 *   and the whole nest, and
 *   its arithmetic intensity at each capacity;
 * - four buffer slots of the dominant store, the written buffer first, then the three other
 *   buffers that touch the most bytes: local scope, innermost stride (log), contiguous,
 *   invariant, reuse count, reuse distance in iterations and in bytes, unique bytes, and
 *   the footprint of the innermost loop. An empty slot is all zeros (a present buffer has
 *   unique bytes ≥ 1 after scaling).
 * Counts and sizes are scaled by log2(1 + x); flags and fractions are in [0, 1]. The vector
 * depends only on the function's structure (deterministic), and one pass over a conv kernel
 * takes well under a millisecond.
 */
import { type Buffer, type Expr, int, isFloatDType, substitute, visitExpr } from '../ir/expr.js';
import { dtypeBytes } from '../runtime/dtype.js';
import { toLinear } from '../tir/arith.js';
import type { ForKind, PrimFunc, Stmt, ThreadAxis } from '../tir/stmt.js';

const LINE = 64;
/** Cache capacities of the traffic model, bytes. */
export const CACHE_LEVELS: readonly number[] = [1024, 32 * 1024, 512 * 1024];
const CACHE_TAGS = ['1k', '32k', '512k'] as const;
const SLOT_FIELDS = ['local', 'stride', 'contiguous', 'invariant', 'reuse_count', 'reuse_iters', 'reuse_bytes', 'unique_bytes', 'inner_bytes'] as const;
const SLOTS = ['w', 'r0', 'r1', 'r2'] as const;

export const FEATURE_NAMES: readonly string[] = [
  'flops', 'float_addsub', 'float_mul', 'float_div', 'float_minmax', 'float_math', 'float_select_cmp', 'int_ops',
  'store_execs', 'load_bytes', 'store_bytes', 'local_accesses',
  'static_stores', 'blocks', 'top_nests', 'param_bytes', 'local_alloc_bytes', 'scratch_alloc_bytes',
  ...CACHE_TAGS.map((t) => `traffic_${t}`), 'compulsory_bytes',
  ...CACHE_TAGS.map((t) => `ai_${t}`), 'ai_compulsory',
  'frac_vectorized', 'frac_vector_friendly', 'frac_parallel', 'frac_unrolled', 'frac_inner_contiguous', 'frac_local_regs',
  'dom_share', 'dom_trips', 'dom_flops', 'dom_depth', 'dom_inner_extent', 'dom_vector_lanes', 'dom_inner_vectorized',
  'dom_vector_friendly', 'dom_unroll', 'dom_parallel', 'dom_block_idx', 'dom_thread_idx',
  'dom_local_regs', 'dom_body_iters', 'dom_body_ai',
  'dom_fp_1', 'dom_fp_2', 'dom_fp_3', 'dom_fp_4', 'dom_fp_all',
  ...CACHE_TAGS.map((t) => `dom_ai_${t}`),
  ...SLOTS.flatMap((s) => SLOT_FIELDS.map((f) => `${s}_${f}`)),
];
export const NUM_FEATURES = FEATURE_NAMES.length;

const INDEX = new Map(FEATURE_NAMES.map((n, i) => [n, i]));
/** The position of a feature in the vector (throws for an unknown name). */
export function featureIndex(name: string): number {
  const i = INDEX.get(name);
  if (i === undefined) throw new RangeError(`no feature named ${name}`);
  return i;
}

/** Operation counts of one execution of a store. */
export interface OpCounts {
  addsub: number;
  mul: number;
  div: number;
  minmax: number;
  math: number;
  selectCmp: number;
  int: number;
  /** Float binaries and calls (tir/analysis.ts estimateFlops). */
  flops: number;
}

/** One buffer's accesses in a store. */
export interface BufferAccess {
  readonly buffer: Buffer;
  /** Whether the store writes it (it may also read it). */
  readonly written: boolean;
  readonly accesses: number;
  /** Flattened element stride along the innermost loop (NaN: unknown). */
  readonly innerStride: number;
  /** Flattened element stride along the innermost vectorized loop (0 without one; NaN: unknown). */
  readonly vectorStride: number;
  /** Extent of the innermost loop the accesses do not depend on (0: none). */
  readonly reuseCount: number;
  /** Iterations inside that loop. */
  readonly reuseIters: number;
  /** Bytes (lines) the store's non-local accesses touch inside that loop. */
  readonly reuseBytes: number;
  /** Elements of the touched region, per level 0..depth (level L: loops L.. inwards). */
  readonly elements: Float64Array;
  /** Its 64-byte lines, per level. */
  readonly lines: Float64Array;
  /** Every loop the accesses depend on is unrolled or vectorized (constant indices, or constant + lane). */
  readonly registerIndexed: boolean;
}

/** A store's analysis: raw values, per execution unless stated. */
export interface StoreAnalysis {
  readonly buffer: Buffer;
  readonly trips: number;
  readonly ops: OpCounts;
  /** Extents and kinds of the enclosing loops of extent > 1, outermost first. */
  readonly loops: readonly { readonly extent: number; readonly kind: ForKind; readonly thread?: ThreadAxis }[];
  readonly vectorLanes: number;
  readonly unroll: number;
  readonly parallel: number;
  readonly blockIdx: number;
  readonly threadIdx: number;
  readonly buffers: readonly BufferAccess[];
  /** Non-local footprint in bytes (lines × 64) per level 0..depth. */
  readonly footprint: Float64Array;
  /** Traffic at each CACHE_LEVELS capacity (bytes, all executions). */
  readonly traffic: Float64Array;
  /**
   * The straight-line body: the innermost run of unrolled and vectorized loops (a codegen
   * emits it without a loop). Its iterations, and the distinct non-local bytes it touches.
   */
  readonly bodyIters: number;
  readonly bodyBytes: number;
  /** The store accesses local buffers, each only through unrolled or vectorized loops (registers). */
  readonly localRegisters: boolean;
}

export interface FuncAnalysis {
  readonly stores: readonly StoreAnalysis[];
  /**
   * Flops of the function (stores and let values), as estimateFlops counts them, except that
   * an undecomposed init counts once per spatial point (inits store constants: no flops).
   */
  readonly flops: number;
  readonly blocks: number;
  readonly topNests: number;
  readonly paramBytes: number;
  readonly localAllocBytes: number;
  readonly scratchAllocBytes: number;
}

interface LoopCtx {
  readonly id: number;
  readonly extent: number;
  readonly kind: ForKind;
  readonly thread?: ThreadAxis;
}

const bufferBytes = (b: Buffer): number => b.shape.reduce((n, d) => n * d, 1) * dtypeBytes(b.dtype);

function countOps(e: Expr, c: OpCounts): void {
  visitExpr(e, (x) => {
    switch (x.kind) {
      case 'binary':
        if (!isFloatDType(x.dtype)) { c.int++; return; }
        c.flops++;
        if (x.op === 'add' || x.op === 'sub') c.addsub++;
        else if (x.op === 'mul') c.mul++;
        else if (x.op === 'div' || x.op === 'floordiv' || x.op === 'floormod') c.div++;
        else if (x.op === 'min' || x.op === 'max') c.minmax++;
        else c.math++; // pow
        return;
      case 'call':
        if (isFloatDType(x.dtype)) { c.flops++; c.math++; }
        return;
      case 'compare':
        if (isFloatDType(x.a.dtype)) c.selectCmp++;
        return;
      case 'select':
        if (isFloatDType(x.dtype)) c.selectCmp++;
        return;
      default:
        return;
    }
  });
}

/** The value of an integer expression with variables bound in `env`, or undefined. */
function evalInt(e: Expr, env: ReadonlyMap<number, number>): number | undefined {
  switch (e.kind) {
    case 'int': return e.value;
    case 'var': return env.get(e.id);
    case 'binary': {
      const a = evalInt(e.a, env), b = evalInt(e.b, env);
      if (a === undefined || b === undefined || isFloatDType(e.dtype)) return undefined;
      switch (e.op) {
        case 'add': return a + b;
        case 'sub': return a - b;
        case 'mul': return a * b;
        case 'div': return b === 0 ? undefined : Math.trunc(a / b);
        case 'floordiv': return b === 0 ? undefined : Math.floor(a / b);
        case 'floormod': return b === 0 ? undefined : a - Math.floor(a / b) * b;
        case 'min': return Math.min(a, b);
        case 'max': return Math.max(a, b);
        case 'pow': return undefined;
      }
      return undefined;
    }
    case 'compare': {
      const a = evalInt(e.a, env), b = evalInt(e.b, env);
      if (a === undefined || b === undefined) return undefined;
      switch (e.op) {
        case 'lt': return +(a < b);
        case 'le': return +(a <= b);
        case 'gt': return +(a > b);
        case 'ge': return +(a >= b);
        case 'eq': return +(a === b);
        case 'ne': return +(a !== b);
      }
      return undefined;
    }
    case 'and': case 'or': {
      const a = evalInt(e.a, env), b = evalInt(e.b, env);
      if (a === undefined || b === undefined) return undefined;
      return e.kind === 'and' ? +(a !== 0 && b !== 0) : +(a !== 0 || b !== 0);
    }
    case 'not': {
      const a = evalInt(e.a, env);
      return a === undefined ? undefined : +(a === 0);
    }
    case 'select': {
      const c = evalInt(e.cond, env);
      return c === undefined ? undefined : evalInt(c ? e.t : e.f, env);
    }
    case 'cast': return isFloatDType(e.dtype) ? undefined : evalInt(e.value, env);
    default: return undefined;
  }
}

/** How one index expression depends on each loop (n loops, outermost first). */
interface DimForm {
  /** Step of the index per step of loop l (NaN: unknown). */
  readonly coef: readonly number[];
  /** How far the index moves over loop l's range (max − min). */
  readonly range: readonly number[];
  /** Loops it depends on in a way that could not be evaluated. */
  readonly opaque: readonly boolean[];
  readonly offset: number;
}

const SAMPLES = 16;

function dimForm(e: Expr, loops: readonly LoopCtx[]): DimForm {
  const n = loops.length;
  const coef: number[] = new Array<number>(n).fill(0), range: number[] = new Array<number>(n).fill(0);
  const opaque: boolean[] = new Array<boolean>(n).fill(false);
  const lin = toLinear(e);
  if (lin) {
    for (let l = 0; l < n; l++) {
      const c = lin.terms.get(loops[l]!.id)?.c ?? 0;
      coef[l] = c;
      range[l] = Math.abs(c) * (loops[l]!.extent - 1);
    }
    return { coef, range, opaque, offset: lin.constant };
  }
  const mentioned = new Set<number>();
  visitExpr(e, (x) => { if (x.kind === 'var') mentioned.add(x.id); });
  const env = new Map<number, number>();
  for (const l of loops) env.set(l.id, 0);
  const at0 = evalInt(e, env);
  for (let l = 0; l < n; l++) {
    const lp = loops[l]!;
    if (!mentioned.has(lp.id)) continue;
    if (at0 === undefined) { coef[l] = NaN; opaque[l] = true; continue; }
    let lo = at0, hi = at0, ok = true;
    const steps = Math.min(lp.extent - 1, SAMPLES);
    for (let k = 1; k <= steps && ok; k++) {
      const t = k === 1 ? 1 : Math.round((k * (lp.extent - 1)) / steps);
      env.set(lp.id, t);
      const v = evalInt(e, env);
      if (v === undefined) { ok = false; break; }
      if (k === 1) coef[l] = v - at0;
      lo = Math.min(lo, v); hi = Math.max(hi, v);
    }
    env.set(lp.id, 0);
    if (!ok) { coef[l] = NaN; opaque[l] = true; continue; }
    range[l] = hi - lo;
  }
  return { coef, range, opaque, offset: at0 ?? 0 };
}

function log1p2(x: number): number {
  return Math.log2(1 + Math.max(0, x));
}

/** Analyses a buffer's accesses (indices over the loops) within one store. */
function analyzeBuffer(buffer: Buffer, written: boolean, accesses: readonly (readonly Expr[])[], loops: readonly LoopCtx[], vectorLoop: number): Omit<BufferAccess, 'reuseBytes'> & { readonly reuseLoop: number } {
  const n = loops.length;
  const shape = buffer.shape;
  const rank = shape.length;
  const bytes = dtypeBytes(buffer.dtype);
  const rowStride: number[] = new Array<number>(rank).fill(0);
  for (let d = rank - 1, s = 1; d >= 0; d--) { rowStride[d] = s; s *= shape[d]!; }
  const forms = accesses.map((idx) => idx.map((e) => dimForm(e, loops)));
  const flatStride = (form: readonly DimForm[], l: number): number => {
    let s = 0;
    for (let d = 0; d < rank; d++) s += form[d]!.coef[l]! * rowStride[d]!;
    return s;
  };
  const first = forms[0]!;
  const innerStride = n > 0 ? flatStride(first, n - 1) : 0;
  let vectorStride = 0; // the largest |stride| of the accesses (NaN if one is unknown)
  if (vectorLoop >= 0) for (const form of forms) vectorStride = Math.max(vectorStride, Math.abs(flatStride(form, vectorLoop)));
  // Regions per level: a box per dimension, the union of the accesses' boxes.
  const elements = new Float64Array(n + 1), lines = new Float64Array(n + 1);
  const span: number[] = new Array<number>(rank).fill(0);
  const lo: number[] = new Array<number>(rank).fill(Infinity), hi: number[] = new Array<number>(rank).fill(-Infinity);
  for (const form of forms) for (let d = 0; d < rank; d++) {
    lo[d] = Math.min(lo[d]!, form[d]!.offset);
    hi[d] = Math.max(hi[d]!, form[d]!.offset);
  }
  const sumRange = forms.map(() => new Array<number>(rank).fill(0));
  const opaqueProd = forms.map(() => new Array<number>(rank).fill(1));
  const totalLines = Math.ceil(bufferBytes(buffer) / LINE);
  for (let L = n; L >= 0; L--) {
    if (L < n) {
      for (let a = 0; a < forms.length; a++) for (let d = 0; d < rank; d++) {
        const f = forms[a]![d]!;
        if (f.opaque[L]) opaqueProd[a]![d] = opaqueProd[a]![d]! * loops[L]!.extent;
        else sumRange[a]![d] = sumRange[a]![d]! + f.range[L]!;
      }
    }
    let elems = 1;
    for (let d = 0; d < rank; d++) {
      let s = 0;
      for (let a = 0; a < forms.length; a++) s = Math.max(s, (1 + sumRange[a]![d]!) * opaqueProd[a]![d]!);
      span[d] = Math.min(shape[d]!, s + (hi[d]! - lo[d]!));
      elems *= span[d]!;
    }
    let run = 1;
    for (let d = rank - 1; d >= 0; d--) {
      run *= span[d]!;
      if (span[d] !== shape[d]) break;
    }
    elements[L] = elems;
    lines[L] = Math.min(totalLines, (elems / run) * Math.ceil((run * bytes) / LINE));
  }
  // Reuse: the innermost loop no access depends on.
  let reuseLoop = -1, reuseIters = 0;
  for (let l = n - 1, inside = 1; l >= 0; inside *= loops[l]!.extent, l--) {
    const dependent = forms.some((form) => form.some((f) => f.coef[l] !== 0 || f.range[l] !== 0 || f.opaque[l]));
    if (!dependent) { reuseLoop = l; reuseIters = inside; break; }
  }
  const reuseCount = reuseLoop >= 0 ? loops[reuseLoop]!.extent : 0;
  const registerIndexed = loops.every((lp, l) => lp.kind === 'unrolled' || lp.kind === 'vectorized'
    || forms.every((form) => form.every((f) => f.coef[l] === 0 && f.range[l] === 0 && !f.opaque[l])));
  return { buffer, written, accesses: accesses.length, innerStride, vectorStride, reuseLoop, reuseCount, reuseIters, elements, lines, registerIndexed };
}

function analyzeStore(s: Extract<Stmt, { kind: 'store' }>, enclosing: readonly LoopCtx[], env: ReadonlyMap<number, Expr>): StoreAnalysis {
  const loops = enclosing.filter((l) => l.extent > 1);
  const n = loops.length;
  let trips = 1, vectorLanes = 1, unroll = 1, parallel = 1, blockIdx = 1, threadIdx = 1;
  let vectorLoop = -1;
  loops.forEach((l, i) => {
    trips *= l.extent;
    if (l.kind === 'vectorized') { vectorLanes *= l.extent; vectorLoop = i; }
    else if (l.kind === 'unrolled') unroll *= l.extent;
    else if (l.kind === 'parallel') parallel *= l.extent;
    else if (l.kind === 'thread') {
      if (l.thread?.startsWith('blockIdx')) blockIdx *= l.extent;
      else threadIdx *= l.extent;
    }
  });
  const ops: OpCounts = { addsub: 0, mul: 0, div: 0, minmax: 0, math: 0, selectCmp: 0, int: 0, flops: 0 };
  countOps(s.value, ops);
  for (const i of s.indices) countOps(i, ops);
  // Accesses grouped by buffer, in order of first appearance (the written buffer first).
  const groups = new Map<Buffer, (readonly Expr[])[]>();
  // Indices over the loops: block iterators replaced by their bindings, then the variables
  // of loops of extent 1 by 0.
  const unit = new Map<number, Expr>();
  for (const l of enclosing) if (l.extent === 1) unit.set(l.id, int(0));
  const sub = (idx: readonly Expr[]): Expr[] => idx.map((e) => substitute(substitute(e, env), unit));
  groups.set(s.buffer, [sub(s.indices)]);
  visitExpr(s.value, (x) => {
    if (x.kind !== 'load') return;
    let list = groups.get(x.buffer);
    if (!list) groups.set(x.buffer, (list = []));
    list.push(sub(x.indices));
  });
  const partial = [...groups].map(([b, acc]) => analyzeBuffer(b, b === s.buffer, acc, loops, vectorLoop));
  const footprint = new Float64Array(n + 1);
  for (const p of partial) {
    if (p.buffer.scope === 'local') continue;
    for (let L = 0; L <= n; L++) footprint[L] = footprint[L]! + p.lines[L]! * LINE;
  }
  const buffers: BufferAccess[] = partial.map(({ reuseLoop, ...p }) => ({ ...p, reuseBytes: reuseLoop >= 0 ? footprint[reuseLoop + 1]! : 0 }));
  const traffic = new Float64Array(CACHE_LEVELS.length);
  CACHE_LEVELS.forEach((cap, c) => {
    let outside = 1, L = 0;
    while (L < n && footprint[L]! > cap) { outside *= loops[L]!.extent; L++; }
    traffic[c] = footprint[L]! * outside;
  });
  let U = n;
  while (U > 0 && (loops[U - 1]!.kind === 'unrolled' || loops[U - 1]!.kind === 'vectorized')) U--;
  let bodyIters = 1, bodyBytes = 0;
  for (let l = U; l < n; l++) bodyIters *= loops[l]!.extent;
  for (const b of buffers) if (b.buffer.scope !== 'local') bodyBytes += b.elements[U]! * dtypeBytes(b.buffer.dtype);
  const locals = buffers.filter((b) => b.buffer.scope === 'local');
  const localRegisters = locals.length > 0 && locals.every((b) => b.registerIndexed);
  return {
    bodyIters, bodyBytes, localRegisters,
    buffer: s.buffer, trips, ops, loops: loops.map((l) => ({ extent: l.extent, kind: l.kind, ...(l.thread ? { thread: l.thread } : {}) })),
    vectorLanes, unroll, parallel, blockIdx, threadIdx, buffers, footprint, traffic,
  };
}

/** Statements of the function's top level (through allocations) that are loop nests or blocks. */
function countTopNests(s: Stmt): number {
  switch (s.kind) {
    case 'seq': return s.stmts.reduce((t, x) => t + countTopNests(x), 0);
    case 'allocate': case 'let': return countTopNests(s.body);
    case 'for': case 'block': return 1;
    default: return 0;
  }
}

/** The ids of the variables `e` mentions. */
function varsOf(e: Expr, into: Set<number>): void {
  visitExpr(e, (x) => { if (x.kind === 'var') into.add(x.id); });
}

/** The raw analysis behind extractFeatures: every store, plus function-level facts. */
export function analyzeFunc(func: PrimFunc): FuncAnalysis {
  const stores: StoreAnalysis[] = [];
  let letFlops = 0, blocks = 0, localAllocBytes = 0, scratchAllocBytes = 0;
  const walk = (s: Stmt, env: Map<number, Expr>, loops: LoopCtx[]): void => {
    switch (s.kind) {
      case 'for':
        loops.push({ id: s.loopVar.id, extent: s.extent, kind: s.forKind, ...(s.thread ? { thread: s.thread } : {}) });
        walk(s.body, env, loops);
        loops.pop();
        return;
      case 'seq': for (const x of s.stmts) walk(x, env, loops); return;
      case 'store': stores.push(analyzeStore(s, loops, env)); return;
      case 'if': walk(s.then, env, loops); if (s.else) walk(s.else, env, loops); return;
      case 'allocate':
        if (s.buffer.scope === 'local') localAllocBytes += bufferBytes(s.buffer);
        else scratchAllocBytes += bufferBytes(s.buffer);
        walk(s.body, env, loops);
        return;
      case 'block': {
        blocks++;
        const inner = new Map(env);
        s.iterVars.forEach((iv, i) => inner.set(iv.var.id, substitute(s.bindings[i]!, env)));
        if (s.init) {
          // The init runs once per spatial point: loops that only reduce iterators use do
          // not repeat it.
          const spatial = new Set<number>(), reduce = new Set<number>();
          s.iterVars.forEach((iv, i) => varsOf(inner.get(iv.var.id)!, iv.type === 'spatial' ? spatial : reduce));
          walk(s.init, inner, loops.filter((l) => spatial.has(l.id) || !reduce.has(l.id)));
        }
        walk(s.body, inner, loops);
        return;
      }
      case 'let': {
        const c: OpCounts = { addsub: 0, mul: 0, div: 0, minmax: 0, math: 0, selectCmp: 0, int: 0, flops: 0 };
        countOps(s.value, c);
        letFlops += c.flops * loops.reduce((t, l) => t * l.extent, 1);
        const inner = new Map(env);
        inner.set(s.var.id, substitute(s.value, env));
        walk(s.body, inner, loops);
        return;
      }
      case 'barrier': return;
    }
  };
  walk(func.body, new Map(), []);
  const flops = stores.reduce((t, s) => t + s.trips * s.ops.flops, letFlops);
  const paramBytes = func.params.reduce((t, b) => t + bufferBytes(b), 0);
  return { stores, flops, blocks, topNests: countTopNests(func.body), paramBytes, localAllocBytes, scratchAllocBytes };
}

/** Whether a stride (|s|) is 0 or 1. */
const friendly = (s: number): boolean => Math.abs(s) <= 1;

/** The fixed-length feature vector of a scheduled function (FEATURE_NAMES order). */
export function extractFeatures(func: PrimFunc): Float64Array {
  return featuresOf(analyzeFunc(func));
}

/** The feature vector of an analysis (extractFeatures = featuresOf ∘ analyzeFunc). */
export function featuresOf(a: FuncAnalysis): Float64Array {
  const out = new Float64Array(NUM_FEATURES);
  let k = 0;
  const put = (x: number): void => { out[k++] = x; };
  const tot = { addsub: 0, mul: 0, div: 0, minmax: 0, math: 0, selectCmp: 0, int: 0 };
  let execs = 0, loadBytes = 0, storeBytes = 0, localAcc = 0, compulsory = 0;
  const traffic = new Float64Array(CACHE_LEVELS.length);
  let wsum = 0, wVec = 0, wFriendly = 0, wPar = 0, wUnroll = 0, wInner = 0, wRegs = 0;
  let dom: StoreAnalysis | undefined, domW = -1;
  for (const s of a.stores) {
    const t = s.trips;
    tot.addsub += t * s.ops.addsub; tot.mul += t * s.ops.mul; tot.div += t * s.ops.div; tot.minmax += t * s.ops.minmax;
    tot.math += t * s.ops.math; tot.selectCmp += t * s.ops.selectCmp; tot.int += t * s.ops.int;
    execs += t;
    let accesses = 0, inner = 0;
    for (const b of s.buffers) {
      const bytes = dtypeBytes(b.buffer.dtype);
      const loads = b.accesses - (b.written ? 1 : 0);
      if (b.buffer.scope === 'local') localAcc += t * b.accesses;
      else { loadBytes += t * loads * bytes; if (b.written) storeBytes += t * bytes; }
      accesses += b.accesses;
      if (friendly(b.innerStride)) inner += b.accesses;
    }
    compulsory += s.footprint[0]!;
    for (let c = 0; c < traffic.length; c++) traffic[c] = traffic[c]! + s.traffic[c]!;
    const w = t * (1 + s.ops.flops);
    wsum += w;
    if (s.vectorLanes > 1) wVec += w;
    if (vectorFriendly(s)) wFriendly += w;
    if (s.localRegisters) wRegs += w;
    if (s.parallel > 1 || s.blockIdx > 1) wPar += w;
    if (s.unroll > 1) wUnroll += w;
    wInner += w * (accesses > 0 ? inner / accesses : 1);
    if (w > domW) { domW = w; dom = s; }
  }
  put(log1p2(a.flops));
  for (const v of [tot.addsub, tot.mul, tot.div, tot.minmax, tot.math, tot.selectCmp, tot.int]) put(log1p2(v));
  for (const v of [execs, loadBytes, storeBytes, localAcc]) put(log1p2(v));
  for (const v of [a.stores.length, a.blocks, a.topNests, a.paramBytes, a.localAllocBytes, a.scratchAllocBytes]) put(log1p2(v));
  for (const v of traffic) put(log1p2(v));
  put(log1p2(compulsory));
  for (const v of traffic) put(log1p2(a.flops / Math.max(v, 1)));
  put(log1p2(a.flops / Math.max(compulsory, 1)));
  const frac = (x: number): number => (wsum > 0 ? x / wsum : 0);
  for (const v of [wVec, wFriendly, wPar, wUnroll, wInner, wRegs]) put(frac(v));
  if (!dom) return out; // no stores: the rest stays 0
  const n = dom.loops.length;
  const innermost = dom.loops[n - 1];
  put(frac(domW));
  put(log1p2(dom.trips));
  put(log1p2(dom.ops.flops));
  put(n);
  put(log1p2(innermost?.extent ?? 1));
  put(log1p2(dom.vectorLanes));
  put(innermost?.kind === 'vectorized' ? 1 : 0);
  put(vectorFriendly(dom) ? 1 : 0);
  for (const v of [dom.unroll, dom.parallel, dom.blockIdx, dom.threadIdx]) put(log1p2(v));
  put(dom.localRegisters ? 1 : 0);
  put(log1p2(dom.bodyIters));
  put(log1p2((dom.bodyIters * dom.ops.flops) / Math.max(dom.bodyBytes, 1)));
  for (let j = 1; j <= 4; j++) put(log1p2(dom.footprint[Math.max(0, n - j)]!));
  put(log1p2(dom.footprint[0]!));
  const domFlops = dom.trips * dom.ops.flops;
  for (const v of dom.traffic) put(log1p2(domFlops / Math.max(v, 1)));
  // Buffer slots: the written buffer, then the others by bytes touched.
  const written = dom.buffers.find((b) => b.written)!;
  const others = dom.buffers.filter((b) => b !== written)
    .map((b, i) => ({ b, i, bytes: b.elements[0]! * dtypeBytes(b.buffer.dtype) }))
    .sort((x, y) => y.bytes - x.bytes || x.i - y.i)
    .map((x) => x.b);
  for (const b of [written, ...others.slice(0, SLOTS.length - 1)]) {
    const s = b.innerStride;
    const elems = b.buffer.shape.reduce((t, d) => t * d, 1);
    put(b.buffer.scope === 'local' ? 1 : 0);
    put(Number.isNaN(s) ? log1p2(elems) : log1p2(Math.abs(s)));
    put(Math.abs(s) === 1 ? 1 : 0);
    put(s === 0 ? 1 : 0);
    put(log1p2(b.reuseCount));
    put(log1p2(b.reuseIters));
    put(log1p2(b.reuseBytes));
    put(log1p2(b.elements[0]! * dtypeBytes(b.buffer.dtype)));
    put(log1p2(b.lines[Math.max(0, n - 1)]! * LINE));
  }
  return out;
}

/** A store with a vector loop along which every access is invariant or contiguous. */
function vectorFriendly(s: StoreAnalysis): boolean {
  return s.vectorLanes > 1 && s.buffers.every((b) => friendly(b.vectorStride));
}

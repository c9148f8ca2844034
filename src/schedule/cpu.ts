/**
 * The default (untuned) schedule for CPU targets, chosen by rules on the workload's shape
 * (dlight in spirit), sized by the target's vector lanes and register budget:
 * - injective blocks writing scratch buffers are inlined into their readers, except
 *   stages marked `materialize` and a padding block (one that guards a load with a
 *   select) feeding a tiled reduction, which stays so the reduction reads without
 *   bounds checks;
 * - float32 reductions (matmul, conv, ...) get a register tile: the vector axis is a
 *   spatial axis along which every operand load is lane-invariant or contiguous; the row
 *   axis one that the lane-varying loads do not use (their loads then serve every row);
 *   a block axis one that only the lane-varying loads use (a conv's channel blocks). Tile
 *   sizes maximize multiply-adds per load with accumulators and operands within f.vregs registers. Accumulators
 *   live in a local tile (cache_write) under the tile's outer loops (column outside row,
 *   so a column panel stays in cache), the init is decomposed before the reduce loops,
 *   rows/blocks/vector groups are unrolled, lanes vectorized, and elementwise consumers
 *   are folded into the tile's write-back (reverse_compute_inline);
 * - a float32 reduction with no such axis but contiguous operands along its innermost
 *   reduce iterator (a row sum or max) is first split by rfactor into partial results
 *   that the register tile then vectorizes;
 * - other reductions get their init decomposed before their reduce loops;
 * - the innermost loop of elementwise and injective nests is vectorized;
 * - the outermost loop of each sizeable nest is marked parallel when it binds only
 *   spatial iterators.
 */
import { type Expr, visitExpr } from '../ir/expr.js';
import { coefficientOf, toLinear } from '../tir/arith.js';
import type { Block, PrimFunc, Stmt } from '../tir/stmt.js';
import { collectBlocks } from '../tir/stmt.js';
import { Schedule } from './schedule.js';
import { MAX_INLINE_COPY_NODES, decomposeAtFirstReduceLoop, foldConsumers, inlineCopies, isPadding, operandLoads, topNests } from './rules.js';
import type { Target } from '../target/index.js';
import { ScheduleError } from './state.js';
import { type Decider, divisors } from './decisions.js';

/**
 * The target facts the CPU rules use: `lanes` float32 lanes per vector; `vregs` vector
 * registers a tile's innermost loop body may keep live. A tile of r rows × c vector
 * columns holds r·c accumulators, and each round of its multiply-adds loads r + c
 * operands (splats and vectors): rounds·(r + c) + r·c must fit in vregs (the target says
 * why its budget is what it is).
 */
interface CpuFacts {
  readonly lanes: number;
  readonly vregs: number;
  /** Whether multiply-adds fuse (relaxed SIMD's madd); without, see tileRegisters. */
  readonly fma: boolean;
  /** First-level data cache bytes. */
  readonly l1: number;
}
/** Reduce loops this short are unrolled inside the tile's innermost reduce loop. */
const SHORT_REDUCE = 4;
/** At most this many rounds of a tile's multiply-adds per step of its innermost reduce loop. */
const UNROLL_REDUCE = 4;

interface TilePlan {
  readonly block: string;
}

/** The loop-variable id each iterator is bound to, when the nest is the plain TE nest (one loop per iterator). */
function plainBindings(sch: Schedule, b: Block): boolean {
  const loops = sch.getLoops(b.name);
  return loops.length === b.iterVars.length && b.bindings.every((e, i) => e.kind === 'var' && e.id === loops[i]!.loopVar.id);
}

function tileable(sch: Schedule, b: Block): boolean {
  if (!b.init || b.writes.length !== 1 || b.writes[0]!.dtype !== 'float32') return false;
  const spatial = b.iterVars.filter((v) => v.type === 'spatial');
  const reduce = b.iterVars.filter((v) => v.type === 'reduce');
  if (spatial.length < 1 || reduce.length < 1) return false;
  if (reduce.reduce((n, v) => n * v.extent, 1) < 4) return false;
  return plainBindings(sch, b);
}

/** The divisors of n from 1 to max. */
function divisorsUpTo(n: number, max: number): number[] {
  return divisors(n).filter((d) => d <= max);
}

/**
 * Vector registers a tile of `rows` × `cols` holds through `rounds` rounds of multiply-adds:
 * its accumulators and each round's operands, plus, without fused multiply-add, one for a
 * product when both operands live on after it (rows and cols both above 1: a product whose
 * splat or vector is at its last use takes that operand's register; measured on a batched
 * matmul, a 3x3 tile (16 this way) ran 2.4x slower than a 4x2 (15), while a 7x1 (15) is the
 * fastest tile of a Winograd conv's products).
 */
function tileRegisters(rows: number, cols: number, rounds: number, f: CpuFacts): number {
  return rows * cols + rounds * (rows + cols) + (!f.fma && rows > 1 && cols > 1 ? 1 : 0);
}

function pick(extent: number, options: readonly number[]): number {
  return options.find((o) => extent % o === 0) ?? 1;
}

/**
 * How the flattened index of a load moves when iterator `a` steps within an aligned
 * group of f.lanes: 0 (the load is lane-invariant), 1 (contiguous), another number
 * (strided), or undefined when the index is not analyzable.
 */
function laneStride(x: Extract<Expr, { kind: 'load' }>, a: number, f: CpuFacts): number | undefined {
  const shape = x.buffer.shape;
  let stride = 1;
  let total = 0;
  for (let d = shape.length - 1; d >= 0; d--) {
    const c = laneCoefficient(x.indices[d]!, a, f);
    if (c === undefined) return undefined;
    total += c * stride;
    stride *= shape[d]!;
  }
  return total;
}

/**
 * How index `e` moves per step of iterator `a` within an aligned group of f.lanes steps:
 * affine parts by their coefficient; x // m constant and x % m stepping by one, for x = a
 * plus multiples of f.lanes and m a multiple of f.lanes (a blocked layout's block, a
 * grouped conv's group), wherever they sit in the index; undefined when not analyzable.
 */
function laneCoefficient(e: Expr, a: number, f: CpuFacts): number | undefined {
  if (!mentions(e, a)) return 0;
  switch (e.kind) {
    case 'var': return 1;
    case 'binary': {
      if (e.op === 'add' || e.op === 'sub') {
        const x = laneCoefficient(e.a, a, f);
        const y = laneCoefficient(e.b, a, f);
        return x === undefined || y === undefined ? undefined : e.op === 'add' ? x + y : x - y;
      }
      if (e.op === 'mul') {
        const [k, rest] = e.b.kind === 'int' ? [e.b.value, e.a] : e.a.kind === 'int' ? [e.a.value, e.b] : [undefined, e];
        const x = k === undefined ? undefined : laneCoefficient(rest, a, f);
        return x === undefined || k === undefined ? undefined : x * k;
      }
      if ((e.op === 'floordiv' || e.op === 'floormod') && e.b.kind === 'int' && e.b.value % f.lanes === 0 && coefficientOf(e.a, a) === 1 && alignedRest(e.a, a, f)) {
        return e.op === 'floordiv' ? 0 : 1;
      }
      return coefficientOf(e, a);
    }
    default: return coefficientOf(e, a);
  }
}

/** Whether an affine index has, besides `a` itself, only terms that are multiples of f.lanes. */
function alignedRest(e: Expr, a: number, f: CpuFacts): boolean {
  const l = toLinear(e);
  if (!l || l.constant % f.lanes !== 0) return false;
  return [...l.terms.values()].every((t) => t.v.id === a || t.c % f.lanes === 0);
}

function mentions(e: Expr, id: number): boolean {
  let hit = false;
  visitExpr(e, (x) => { if (x.kind === 'var' && x.id === id) hit = true; });
  return hit;
}

/**
 * The spatial axis to vectorize: extent a multiple of f.lanes and every operand load
 * lane-invariant or contiguous along it; prefer the axis with the most contiguous loads,
 * then the innermost.
 */
function vectorAxis(b: Block, ns: number, f: CpuFacts): number | undefined {
  const loads = operandLoads(b);
  let best: { axis: number; contiguous: number } | undefined;
  for (let axis = ns - 1; axis >= 0; axis--) {
    const iv = b.iterVars[axis]!;
    if (iv.extent % f.lanes !== 0) continue;
    const strides = loads.map((x) => laneStride(x, iv.var.id, f));
    if (strides.some((st) => st !== 0 && st !== 1)) continue;
    const contiguous = strides.filter((st) => st === 1).length;
    if (!best || contiguous > best.contiguous) best = { axis, contiguous };
  }
  return best?.axis;
}

/** Applies the register-tile rule to reduction block `name`; returns the write-back block's name. */
function tileReduction(sch: Schedule, name: string, f: CpuFacts): string {
  const b = sch.getBlock(name);
  const loops = sch.getLoops(name);
  const ns = b.iterVars.filter((v) => v.type === 'spatial').length;
  const spatialLoops = loops.slice(0, ns).map((l) => l.loopVar.name);
  const reduceLoops = loops.slice(ns).map((l) => l.loopVar.name);
  const va = vectorAxis(b, ns, f);
  const col = va ?? ns - 1;
  const colExt = b.iterVars[col]!.extent;
  // Row axis: a spatial axis that the loads varying along the column axis do not use,
  // so each of those loads serves every row; prefer the innermost.
  const colVar = b.iterVars[col]!.var.id;
  const usedWithCol = new Set<number>();
  for (const x of operandLoads(b)) {
    const ids = new Set<number>();
    x.indices.forEach((e) => visitExpr(e, (y) => { if (y.kind === 'var') ids.add(y.id); }));
    if (ids.has(colVar)) ids.forEach((id) => usedWithCol.add(id));
  }
  // Tile sizes: rows × vector groups accumulators (v128 registers), accumulators plus one round of operands within f.vregs.
  // Failing that (every lane-varying load uses every axis, e.g. a depthwise conv's input),
  // an axis that some lane-varying load does not use (its weights): each row then reads
  // its own input vector, and the weight vector serves every row.
  const rowAxis = (() => {
    for (let i = ns - 1; i >= 0; i--) {
      const v = b.iterVars[i]!;
      if (i !== col && !usedWithCol.has(v.var.id) && v.extent > 1) return i;
    }
    if (va === undefined) return undefined;
    const laneLoads = operandLoads(b).filter((x) => laneStride(x, colVar, f) === 1);
    for (let i = ns - 1; i >= 0; i--) {
      const v = b.iterVars[i]!;
      const users = laneLoads.filter((x) => x.indices.some((e) => mentions(e, v.var.id)));
      if (i !== col && v.extent > 1 && users.length > 0 && users.length < laneLoads.length) return i;
    }
    // Failing that too (a pool: its one input load uses every axis), rows that each read
    // their own input: several independent accumulators per step instead of one.
    for (let i = ns - 1; i >= 0; i--) if (i !== col && b.iterVars[i]!.extent > 1) return i;
    return undefined;
  })();
  // Block axis: a further spatial axis that the lane-varying loads use but the row-varying
  // ones do not (a conv's output-channel blocks), or use only through a quotient that a tile
  // of it leaves constant (a grouped conv's group, oc // blocks-per-group): its tile
  // multiplies the columns, each row-varying (splatted) load then serving several vectors.
  const rowLoads = rowAxis === undefined ? [] : operandLoads(b).filter((x) => x.indices.some((e) => mentions(e, b.iterVars[rowAxis]!.var.id)));
  const blockTiles = (i: number): number[] => {
    const v = b.iterVars[i]!;
    return divisorsUpTo(v.extent, 4).filter((t) => rowLoads.every((x) => x.indices.every((e) => laneCoefficient(e, v.var.id, { ...f, lanes: t }) === 0)));
  };
  const blockAxis = va === undefined || rowAxis === undefined ? undefined : (() => {
    for (let i = ns - 1; i >= 0; i--) {
      const v = b.iterVars[i]!;
      if (i !== col && i !== rowAxis && v.extent > 1 && usedWithCol.has(v.var.id) && blockTiles(i).length > 1) return i;
    }
    return undefined;
  })();
  const rowOptions = rowAxis === undefined ? [1] : divisorsUpTo(b.iterVars[rowAxis]!.extent, f.vregs);
  const groupOptions = va !== undefined ? divisorsUpTo(colExt / f.lanes, 4) : [1];
  const blockOptions = blockAxis === undefined ? [1] : blockTiles(blockAxis);
  // Maximize multiply-adds per operand load: rows·cols / (rows + cols), cols = blocks·groups vectors.
  // The tiles that fit are the candidates of decision tile:<block>; the best score is its default.
  const candidates: { rows: number; groups: number; blocks: number }[] = [];
  for (const rows of rowOptions) {
    for (const groups of groupOptions) {
      for (const blocks of blockOptions) {
        const cols = groups * blocks;
        if (tileRegisters(rows, cols, 1, f) <= f.vregs) candidates.push({ rows, groups, blocks });
      }
    }
  }
  let bestIndex = 0;
  const score = (r: number, c: number): number => (r * c) / (r + c);
  candidates.forEach((c, i) => {
    const best = candidates[bestIndex]!;
    const better = score(c.rows, c.groups * c.blocks) - score(best.rows, best.groups * best.blocks);
    if (better > 1e-9 || (Math.abs(better) <= 1e-9 && c.rows * c.groups * c.blocks > best.rows * best.groups * best.blocks)) bestIndex = i;
  });
  const best = candidates[sch.sampleCategorical(`tile:${name}`, candidates.map((c) => `${c.rows}x${c.groups}x${c.blocks}`), bestIndex)]!;
  const row = rowAxis !== undefined && best.rows > 1 ? { i: rowAxis, tile: best.rows } : undefined;
  const rowTile = row?.tile ?? 1;
  const block = blockAxis !== undefined && best.blocks > 1 ? { i: blockAxis, tile: best.blocks } : undefined;
  const groups = va !== undefined ? best.groups : 0;
  const colTile = va !== undefined ? groups * f.lanes : pick(colExt, [4, 2, 1]);

  const order: string[] = [];
  let rowInner: string | undefined;
  let rowOuter: string | undefined;
  let blockInner: string | undefined;
  let colOuter = spatialLoops[col]!;
  let colGroups: string | undefined;
  let lanes: string | undefined;
  spatialLoops.forEach((l, i) => {
    if (row && i === row.i) {
      const [o, ri] = sch.split(l, [-1, rowTile]);
      order.push(o!);
      rowOuter = o;
      rowInner = ri;
    } else if (block && i === block.i) {
      const [o, bi] = sch.split(l, [-1, block.tile]);
      order.push(o!);
      blockInner = bi;
    } else if (i === col) {
      if (va !== undefined) {
        [colOuter, colGroups, lanes] = sch.split(l, [-1, groups, f.lanes]) as [string, string, string];
      } else if (colTile > 1) {
        [colOuter, colGroups] = sch.split(l, [-1, colTile]) as [string, string];
      }
      order.push(colOuter);
    } else {
      order.push(l);
    }
  });
  // The column tile's outer loop, then the row tile's, innermost among the spatial loops: the
  // operand panel that the column tile reads (e.g. a block of weight columns) stays in cache
  // while the rows advance. The accumulator tile is cached under the innermost of them.
  const rowInside = !rowOuter || sch.sampleCategorical(`tile-order:${name}`, ['column-outside-row', 'row-outside-column'], 0) === 0;
  const tileOuter = rowOuter ? (rowInside ? [colOuter, rowOuter] : [rowOuter, colOuter]) : [colOuter];
  const spatialOrder = [...order.filter((l) => !tileOuter.includes(l)), ...tileOuter];
  const inner = [rowInner, blockInner, colGroups, lanes].filter((l): l is string => l !== undefined);
  // The longest reduce loop innermost: the tile's loop that runs the most steps in a row
  // (codegen strength-reduces the innermost loop's addresses).
  // Short reduce loops (a blocked layout's 4 input channels, a kernel's 3 taps) are unrolled
  // inside it, as many rounds as registers allow (f.vregs, at most UNROLL_REDUCE), so each step of the innermost loop does several
  // rounds of the tile's multiply-adds.
  const reduceByName = loops.slice(ns);
  const longestDefault = reduceByName.reduce((a, l) => (l.extent > a.extent ? l : a));
  const longest = reduceByName.length === 1 ? longestDefault.loopVar.name
    : reduceByName[sch.sampleCategorical(`reduce-inner:${name}`, reduceByName.map((l) => l.loopVar.name), reduceByName.indexOf(longestDefault))]!.loopVar.name;
  const tileCols = va !== undefined ? groups * (block?.tile ?? 1) : 1;
  let roundsLimit = 1;
  while (tileRegisters(rowTile, tileCols, roundsLimit + 1, f) <= f.vregs) roundsLimit++;
  const roundsDefault = Math.min(UNROLL_REDUCE, roundsLimit);
  const roundsOptions = [...new Set([1, 2, 4, 8, roundsDefault].filter((r) => r <= Math.max(roundsLimit, roundsDefault)))].sort((a, b) => a - b);
  const maxRounds = roundsOptions[sch.sampleCategorical(`reduce-rounds:${name}`, roundsOptions.map(String), roundsOptions.indexOf(roundsDefault))]!;
  const short: string[] = [];
  // A short loop along the operands' contiguous innermost dim (a blocked layout's 4 input
  // channels) that the register budget leaves rolled runs inside the long loop when a pass
  // of the long loop reads more than half the L1 cache (a cache line per step for each of the
  // tile's rows and vector columns): outside it, each pass would use one element of every
  // line it loads, and the lines would be gone by the next pass.
  const contiguous: string[] = [];
  const longPassBytes = reduceByName.find((l) => l.loopVar.name === longest)!.extent * 64 * (rowTile + tileCols);
  let rounds = 1;
  for (const l of [...reduceByName].reverse()) {
    if (l.loopVar.name === longest || l.extent > SHORT_REDUCE) continue;
    if (rounds * l.extent > maxRounds) {
      if (longPassBytes <= f.l1 / 2) continue;
      const iv = b.iterVars[ns + reduceByName.indexOf(l)]!;
      if (operandLoads(b).some((x) => mentions(x.indices[x.indices.length - 1]!, iv.var.id))) contiguous.unshift(l.loopVar.name);
      continue;
    }
    short.unshift(l.loopVar.name);
    rounds *= l.extent;
  }
  // Optionally, part of the long loop unrolled too (more rounds per step, fewer loop branches).
  const longLoop = reduceByName.find((l) => l.loopVar.name === longest)!;
  const [, longUnroll] = longLoop.extent > 1 ? sch.samplePerfectTile(`reduce-unroll:${name}`, longest, 2, 8, [longLoop.extent, 1]) : [1, 1];
  const longParts = longUnroll! > 1 ? sch.split(longest, [-1, longUnroll!]) : [longest];
  if (longUnroll! > 1) short.unshift(longParts[1]!);
  const reduceOrder = [...reduceLoops.filter((l) => l !== longest && !short.includes(l) && !contiguous.includes(l)), longParts[0]!, ...contiguous, ...short];
  sch.reorder(...spatialOrder, ...reduceOrder, ...inner);
  for (const l of short) sch.unroll(l);
  const wb = sch.cacheWrite(name, tileOuter[tileOuter.length - 1]!);
  sch.decomposeReduction(name, reduceOrder[0]!);
  const annotateTile = (suffix: string): void => {
    if (rowInner) sch.unroll(rowInner + suffix);
    if (blockInner) sch.unroll(blockInner + suffix);
    if (colGroups) sch.unroll(colGroups + suffix);
    if (lanes) sch.vectorize(lanes + suffix);
  };
  annotateTile('');
  annotateTile('_init');
  return wb;
}

/**
 * A reduction with no spatial axis to vectorize whose operands are contiguous (or
 * invariant) along its innermost reduce iterator (a softmax's or layer norm's row
 * reduction) is split by rfactor into 16, 8 or 4 partial results along that iterator:
 * the partials are a spatial axis the register tile vectorizes (several vector
 * accumulators), and a short reduction over them follows.
 */
function rfactorPlan(sch: Schedule, b: Block, f: CpuFacts): { loop: string; factor: number } | undefined {
  const ns = b.iterVars.filter((v) => v.type === 'spatial').length;
  const k = b.iterVars[b.iterVars.length - 1]!;
  if (k.type !== 'reduce' || vectorAxis(b, ns, f) !== undefined || b.body.kind !== 'store') return undefined;
  const v = b.body.value;
  if (v.kind !== 'binary' || !['add', 'min', 'max'].includes(v.op)) return undefined;
  const strides = operandLoads(b).map((x) => laneStride(x, k.var.id, f));
  if (!strides.includes(1) || strides.some((st) => st !== 0 && st !== 1)) return undefined;
  const factors = [16, 8, f.lanes].filter((f) => k.extent % f === 0 && k.extent >= 2 * f);
  if (factors.length === 0) return undefined;
  const factor = factors.length === 1 ? factors[0]! : factors[sch.sampleCategorical(`rfactor:${b.name}`, factors.map(String), 0)]!;
  return { loop: sch.getLoops(b.name)[b.iterVars.length - 1]!.loopVar.name, factor };
}

/** Folds elementwise consumers into the write-back and vectorizes its tile loops. */
function fuseEpilogue(sch: Schedule, wb: string, f: CpuFacts): void {
  foldConsumers(sch, wb);
  const loops = sch.getLoops(wb).filter((l) => l.loopVar.name.startsWith(`${wb.replace(/_wb$/, '')}_wb`));
  const last = loops[loops.length - 1];
  for (const l of loops.slice(0, -1)) if (l.extent > 1 && l.extent <= 16) sch.unroll(l.loopVar.name);
  if (last && last.extent % f.lanes === 0 && last.extent > 1) {
    const [g, lane] = sch.split(last.loopVar.name, [-1, f.lanes]);
    sch.unroll(g!);
    sch.vectorize(lane!);
  }
}

/** Loop iterations below which threading costs more than it gains (multiply-adds, roughly). */
const PARALLEL_MIN_WORK = 1 << 16;

/**
 * Marks, in each top-level loop nest worth it, the outermost loop of extent > 1 (below
 * loops of extent 1, which vanish) as parallel when it binds only spatial iterators:
 * its iterations write disjoint outputs.
 */
function parallelizeOuterLoops(sch: Schedule): void {
  for (let nest of topNests(sch.func)) {
    while (nest.kind === 'for' && nest.extent === 1) nest = nest.body;
    if (nest.kind !== 'for' || nest.extent < 2 || estimateWork(nest) < PARALLEL_MIN_WORK) continue;
    const id = nest.loopVar.id;
    const reduceBound = collectBlocks(nest).some((b) => b.iterVars.some((iv, i) => iv.type === 'reduce' && mentions(b.bindings[i]!, id)));
    if (!reduceBound) sch.parallel(nest.loopVar.name);
  }
}

function estimateWork(s: Stmt): number {
  switch (s.kind) {
    case 'for': return s.extent * estimateWork(s.body);
    case 'seq': return s.stmts.reduce((n, x) => n + estimateWork(x), 0);
    case 'allocate': return estimateWork(s.body);
    case 'if': return estimateWork(s.then) + (s.else ? estimateWork(s.else) : 0);
    case 'block': return 1 + (s.init ? 1 : 0);
    case 'store': return 1;
    case 'barrier': return 0;
    case 'let': return estimateWork(s.body);
  }
}

/**
 * Vectorizes elementwise and injective nests: an innermost loop over the block's last
 * iterator, extent a multiple of 4 (a blocked layout's 4 lanes too), is split into 4 lanes; codegen emits one
 * SIMD step where the body allows, else the 4 lanes one after the other.
 */
function vectorizeInjective(sch: Schedule, f: CpuFacts): void {
  for (const name of sch.blockNames()) {
    const block = sch.getBlock(name);
    if (block.init || block.iterVars.some((v) => v.type !== 'spatial')) continue;
    const loops = sch.getLoops(name);
    const inner = loops[loops.length - 1];
    const last = block.bindings[block.bindings.length - 1];
    if (!inner || inner.body !== block || inner.forKind !== 'serial' || inner.extent % f.lanes !== 0) continue;
    if (!last || last.kind !== 'var' || last.id !== inner.loopVar.id) continue;
    // An index that divides the innermost iterator by c (a transpose back from heads, a
    // reshape) is split at c first: within each chunk the quotient is the outer loop and the
    // remainder the inner one, so the vector loads need no division per step.
    const c = Math.max(0, ...divisorsOf(block, block.iterVars[block.iterVars.length - 1]!.var.id).filter((d) => d > f.lanes && d % f.lanes === 0 && inner.extent % d === 0 && d < inner.extent));
    const loop = c > 0 ? sch.split(inner.loopVar.name, [-1, c])[1]! : inner.loopVar.name;
    const [, lanes] = sch.split(loop, [-1, f.lanes]);
    sch.vectorize(lanes!);
  }
}

/** Constants c of the floordiv/floormod by c applied to an index that holds iterator `id` with coefficient 1. */
function divisorsOf(b: Block, id: number): number[] {
  const out: number[] = [];
  const visit = (e: Expr): void => visitExpr(e, (x) => {
    if (x.kind === 'binary' && (x.op === 'floordiv' || x.op === 'floormod') && x.b.kind === 'int' && coefficientOf(x.a, id) === 1) out.push(x.b.value);
  });
  if (b.body.kind === 'store') {
    visit(b.body.value);
    b.body.indices.forEach(visit);
  }
  return out;
}

/**
 * Moves the loops of a block's `unroll` iterators (or, with a factor, their inner parts)
 * innermost, just outside its vector lanes, and unrolls them: each copy sees those indices
 * as constants, so coefficients selected by them fold (a Winograd transform becomes a few
 * adds per element).
 */
function unrollMarkedAxes(sch: Schedule): void {
  for (const name of sch.blockNames()) {
    const b = sch.getBlock(name);
    if (!b.unroll || b.init) continue;
    const marked: string[] = [];
    for (const u of b.unroll) {
      const binding = b.bindings[u.axis]!;
      const loop = binding.kind === 'var' ? sch.getLoops(name).find((l) => l.loopVar.id === binding.id) : undefined;
      if (!loop || loop.forKind !== 'serial' || loop.extent % (u.factor ?? loop.extent) !== 0) continue;
      marked.push(u.factor && u.factor < loop.extent ? sch.split(loop.loopVar.name, [-1, u.factor])[1]! : loop.loopVar.name);
    }
    if (marked.length === 0) continue;
    const loops = sch.getLoops(name);
    const inner = loops[loops.length - 1]!;
    const lanes = inner.forKind === 'vectorized' ? [inner.loopVar.name] : [];
    const rest = loops.map((l) => l.loopVar.name).filter((l) => !marked.includes(l) && !lanes.includes(l));
    sch.reorder(...rest, ...marked, ...lanes);
    for (const l of marked) sch.unroll(l);
  }
}

/** The CPU rules' schedule of `func` for a `cpu` target. */
export function cpuSchedule(func: PrimFunc, target: Target, decide?: Decider): Schedule {
  const f: CpuFacts = { lanes: target.vectorLanes('float32'), vregs: target.vectorRegisters, fma: target.features.has('relaxed-simd'), l1: target.l1DataBytes };
  if (f.lanes !== 4) throw new ScheduleError('default schedule', func.name, `the CPU schedule rules vectorize 4 float32 lanes (the blocked layouts' block); target '${target.kind}' has ${f.lanes}`);
  const sch = new Schedule(func, decide);
  const plans: TilePlan[] = collectBlocks(func.body).filter((b) => tileable(sch, b)).map((b) => ({ block: b.name }));
  const tiled = new Set(plans.map((p) => p.block));
  sch.computeInlineWhere((c) => {
    const { block, readers } = c;
    const writesScratch = block.writes.every((b) => !sch.func.params.includes(b));
    if (block.init || !writesScratch || block.materialize) return false;
    if (block.body.kind === 'store' && readers.some((x) => tiled.has(x.name)) && isPadding(c.value())) return false;
    return inlineCopies(c) <= MAX_INLINE_COPY_NODES;
  });
  for (const name of sch.blockNames()) {
    if (!sch.blockNames().includes(name)) continue; // folded into a tile's write-back
    const block = sch.getBlock(name);
    if (!block.init) continue;
    if (tiled.has(name)) {
      const plan = rfactorPlan(sch, block, f);
      if (plan) fuseEpilogue(sch, tileReduction(sch, sch.rfactor(name, plan.loop, plan.factor), f), f);
      fuseEpilogue(sch, tileReduction(sch, name, f), f);
      continue;
    }
    decomposeAtFirstReduceLoop(sch, name);
  }
  vectorizeInjective(sch, f);
  unrollMarkedAxes(sch);
  parallelizeOuterLoops(sch);
  return sch;
}

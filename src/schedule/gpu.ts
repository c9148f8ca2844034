/**
 * The default (untuned) schedule for GPU targets, by rule:
 * - injective stages are inlined into their readers as on CPUs (schedule/rules.ts),
 *   except `materialize` stages, which stay in their own nest (their own dispatch);
 * - a float32 reduction with a row axis and a column axis (a matmul's i and j, a conv's
 *   output channel and output column: the loads that vary along the column do not use the
 *   row; a row of one for a GEMV) computes a register tile of up to 4x4 outputs per invocation: each step of its
 *   reduce loops loads one row of operands and one column and does all their products,
 *   the accumulators in local memory (cache_write), the init decomposed, elementwise
 *   consumers folded into the tile's write-back (reverse_compute_inline);
 * - other reductions get their init decomposed before their first reduce loop, so it runs
 *   once per output rather than behind a test in the loop;
 * - in each top-level nest, the outer loops that bind only spatial iterators are fused
 *   and split into workgroups of up to the device's invocations per workgroup, one
 *   output per invocation (threadIdx.x), the workgroups over blockIdx.x (and blockIdx.y
 *   when there are more than a dimension holds); reduce loops run in each invocation.
 * A nest with no spatial loop (a reduction to one value) runs as one invocation.
 */
import { type Expr, visitExpr } from '../ir/expr.js';
import { type For, type PrimFunc, type Stmt, collectBlocks } from '../tir/stmt.js';
import type { Target } from '../target/index.js';
import { Schedule } from './schedule.js';
import { ScheduleError, usesVars } from './state.js';
import { MAX_INLINE_COPY_NODES, decomposeAtFirstReduceLoop, foldConsumers, inlineCopies, operandLoads, topNests } from './rules.js';
import type { Decider } from './decisions.js';

/** Threads per workgroup the rules aim for when the extent allows it. */
const PREFERRED_THREADS = 256;

/** The largest divisor of n that is at most `max`. */
function divisorAtMost(n: number, max: number): number {
  for (let d = Math.min(n, max); d > 1; d--) if (n % d === 0) return d;
  return 1;
}

/** The outer loops of a nest that bind only spatial iterators of the blocks inside (one chain). */
function spatialPrefix(nest: Stmt): For[] {
  const out: For[] = [];
  let s = nest;
  while (s.kind === 'for') {
    const id = new Set([s.loopVar.id]);
    const reduceBound = collectBlocks(s).some((b) => b.iterVars.some((iv, i) => iv.type === 'reduce' && usesVars(b.bindings[i]!, id)));
    if (reduceBound || s.forKind !== 'serial') break;
    out.push(s);
    s = s.body;
  }
  return out;
}

function varsOf(x: Extract<Expr, { kind: 'load' }>): Set<number> {
  const ids = new Set<number>();
  x.indices.forEach((e) => visitExpr(e, (y) => { if (y.kind === 'var') ids.add(y.id); }));
  return ids;
}

/**
 * Tile sizes per axis, largest first; 1 still gives the tile its local accumulator and the
 * fused epilogue (a GEMV's one row: no scratch round trip between the sum and its bias).
 */
const TILE = [4, 2, 1];
/** Invocations below which register tiles shrink (a GPU needs thousands in flight). */
const MIN_INVOCATIONS = 4096;

/**
 * The register-tile rule on reduction `name` (see the file comment), applied to `sch`;
 * false (nothing applied) when the block does not fit it.
 */
function registerTile(sch: Schedule, name: string): boolean {
  const b = sch.getBlock(name);
  if (!b.init || b.writes.length !== 1 || b.writes[0]!.dtype !== 'float32' || b.body.kind !== 'store') return false;
  const loops = sch.getLoops(name);
  // The plain TE nest: one loop per iterator, spatial ones outside.
  if (loops.length !== b.iterVars.length || !b.bindings.every((e, i) => e.kind === 'var' && e.id === loops[i]!.loopVar.id)) return false;
  const ns = b.iterVars.findIndex((v) => v.type === 'reduce');
  if (ns < 2 || b.iterVars.slice(ns).some((v) => v.type !== 'reduce')) return false;
  const loads = operandLoads(b);
  const uses = loads.map(varsOf);
  const fits = (i: number): boolean => TILE.some((t) => b.iterVars[i]!.extent % t === 0);
  let col: number | undefined;
  for (let i = ns - 1; i >= 0 && col === undefined; i--) if (fits(i) && uses.some((u) => u.has(b.iterVars[i]!.var.id))) col = i;
  if (col === undefined) return false;
  const withCol = new Set<number>();
  uses.forEach((u) => { if (u.has(b.iterVars[col!]!.var.id)) u.forEach((v) => withCol.add(v)); });
  let row: number | undefined;
  for (let i = ns - 1; i >= 0 && row === undefined; i--) if (i !== col && fits(i) && !withCol.has(b.iterVars[i]!.var.id)) row = i;
  if (row === undefined) return false;
  const tileOf = (i: number, max: number): number => TILE.find((t) => t <= max && b.iterVars[i]!.extent % t === 0)!;
  // Tiles shrink while they would leave fewer invocations than keep a GPU busy (a GEMV's
  // one row keeps one output per invocation).
  const outputs = b.iterVars.slice(0, ns).reduce((n, v) => n * v.extent, 1);
  let tr = tileOf(row, 4);
  let tc = tileOf(col, 4);
  while (tr * tc > 1 && outputs / (tr * tc) < MIN_INVOCATIONS) {
    if (tc >= tr) tc = tileOf(col, tc / 2);
    else tr = tileOf(row, tr / 2);
  }
  const names = loops.map((l) => l.loopVar.name);
  const [ro, ri] = sch.split(names[row]!, [-1, tr]) as [string, string];
  const [co, ci] = sch.split(names[col]!, [-1, tc]) as [string, string];
  const outer = names.slice(0, ns).map((n, i) => (i === row ? ro : i === col ? co : n));
  const reduce = names.slice(ns);
  sch.reorder(...outer, ...reduce, ri, ci);
  const wb = sch.cacheWrite(name, outer[outer.length - 1]!);
  sch.decomposeReduction(name, reduce[0]!);
  for (const l of [ri, ci, `${ri}_init`, `${ci}_init`]) sch.unroll(l);
  // Elementwise consumers (bias, activation, residual add) join the write-back.
  foldConsumers(sch, wb);
  for (const l of sch.getLoops(wb)) if (l.loopVar.name.startsWith(`${name}_wb`) && l.extent <= 16) sch.unroll(l.loopVar.name);
  return true;
}

export function gpuSchedule(func: PrimFunc, target: Target, decide?: Decider): Schedule {
  const limits = target.gpu;
  if (!limits) throw new ScheduleError('default schedule', func.name, `target '${target.kind}' has no GPU limits`);
  const sch = new Schedule(func, decide);
  sch.computeInlineWhere((c) => {
    const writesScratch = c.block.writes.every((b) => !sch.func.params.includes(b));
    return !c.block.init && writesScratch && !c.block.materialize && inlineCopies(c) <= MAX_INLINE_COPY_NODES;
  });
  for (const name of sch.blockNames()) {
    if (!sch.blockNames().includes(name)) continue; // folded into a tile's write-back
    const block = sch.getBlock(name);
    if (!block.init) continue;
    // Tried on a copy: a block the rule does not fit leaves the schedule as it was.
    const trial = new Schedule(sch.func, decide);
    let tiled = false;
    try {
      tiled = registerTile(trial, name);
    } catch (e) {
      if (!(e instanceof ScheduleError)) throw e;
    }
    if (tiled) {
      sch.replay(trial.trace);
      continue;
    }
    decomposeAtFirstReduceLoop(sch, name);
  }
  const maxThreads = Math.min(PREFERRED_THREADS, limits.maxThreadsPerWorkgroup, limits.maxWorkgroupSize[0]);
  for (const nest of topNests(sch.func)) {
    // Loops of extent 1 between them stay (fuse needs directly nested loops): all of the prefix fuses.
    const prefix = spatialPrefix(nest);
    if (prefix.length === 0) continue;
    const extent = prefix.reduce((n, l) => n * l.extent, 1);
    if (extent === 1) continue;
    const fused = prefix.length > 1 ? sch.fuse(...prefix.map((l) => l.loopVar.name)) : prefix[0]!.loopVar.name;
    const threads = divisorAtMost(extent, maxThreads);
    const [outer, inner] = threads > 1 && threads < extent ? sch.split(fused, [-1, threads]) : threads === extent ? [undefined, fused] : [fused, undefined];
    if (inner) sch.bind(inner, 'threadIdx.x');
    if (!outer) continue;
    const groups = extent / threads;
    if (groups <= limits.maxWorkgroupsPerDimension) {
      sch.bind(outer, 'blockIdx.x');
      continue;
    }
    // More workgroups than one dimension holds: blockIdx.y × blockIdx.x, or (no divisor
    // fits) a serial loop in each workgroup over the rest.
    const x = divisorAtMost(groups, limits.maxWorkgroupsPerDimension);
    const [gy, gx] = sch.split(outer, [-1, x]);
    sch.bind(gx!, 'blockIdx.x');
    if (groups / x <= limits.maxWorkgroupsPerDimension) sch.bind(gy!, 'blockIdx.y');
  }
  return sch;
}

/**
 * The default (untuned) schedule for GPU targets, by rule:
 * - injective stages are inlined into their readers as on CPUs (schedule/inline_rule.ts),
 *   except `materialize` stages, which stay in their own nest (their own dispatch);
 * - a reduction's init is decomposed before its first reduce loop, so it runs once per
 *   output rather than behind a test in the loop;
 * - in each top-level nest, the outer loops that bind only spatial iterators are fused
 *   and split into workgroups of up to the device's invocations per workgroup, one
 *   output per invocation (threadIdx.x), the workgroups over blockIdx.x (and blockIdx.y
 *   when there are more than a dimension holds); reduce loops run in each invocation.
 * A nest with no spatial loop (a reduction to one value) runs as one invocation.
 */
import { type For, type PrimFunc, type Stmt, collectBlocks } from '../tir/stmt.js';
import type { Target } from '../target/index.js';
import { Schedule } from './schedule.js';
import { ScheduleError, usesVars } from './state.js';
import { MAX_INLINE_COPY_NODES, inlineCopies } from './inline_rule.js';

/** Threads per workgroup the rules aim for when the extent allows it. */
const PREFERRED_THREADS = 256;

/** The largest divisor of n that is at most `max`. */
function divisorAtMost(n: number, max: number): number {
  for (let d = Math.min(n, max); d > 1; d--) if (n % d === 0) return d;
  return 1;
}

/** The top-level loop nests of the function (below its top-level allocations). */
function topNests(f: PrimFunc): Stmt[] {
  let body = f.body;
  while (body.kind === 'allocate') body = body.body;
  return body.kind === 'seq' ? [...body.stmts] : [body];
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

export function gpuSchedule(func: PrimFunc, target: Target): Schedule {
  const limits = target.gpu;
  if (!limits) throw new ScheduleError('default schedule', func.name, `target '${target.kind}' has no GPU limits`);
  const sch = new Schedule(func);
  sch.computeInlineWhere((c) => {
    const writesScratch = c.block.writes.every((b) => !sch.func.params.includes(b));
    return !c.block.init && writesScratch && !c.block.materialize && inlineCopies(c) <= MAX_INLINE_COPY_NODES;
  });
  for (const name of sch.blockNames()) {
    const block = sch.getBlock(name);
    if (!block.init) continue;
    const reduceLoop = sch.getLoops(name).find((l) => block.iterVars.some((iv, i) => iv.type === 'reduce' && usesVars(block.bindings[i]!, new Set([l.loopVar.id]))));
    if (reduceLoop) sch.decomposeReduction(name, reduceLoop.loopVar.name);
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

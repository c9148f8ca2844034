/**
 * Tuning tasks: the distinct workloads of a model. Each kernel's unscheduled function is
 * keyed by its structural hash (tir/structural.ts), so kernels that compute the same thing
 * on the same shapes (within a model, or across models) are one task, tuned once. A task
 * carries a one-kernel graph (its node, its constant inputs with their real data, the other
 * inputs as graph inputs) that builds and measures any schedule of it on its own.
 */
import { type Graph, type Node, type Value, NodeError } from '../graph/ir.js';
import type { Tensor } from '../runtime/tensor.js';
import type { Target } from '../target/index.js';
import { groupFunc, kernelGroups } from '../build/lower.js';
import type { PrimFunc } from '../tir/stmt.js';
import { structuralHash } from '../tir/structural.js';
import { estimateFlops } from '../tir/analysis.js';
import { defaultSchedule } from '../schedule/default.js';
import { decisionsOf } from '../schedule/decisions.js';

export interface TuneTask {
  /** The workload key: the structural hash of the unscheduled function. */
  readonly workload: string;
  /** The first kernel's name (for reports). */
  readonly name: string;
  /** The unscheduled function. */
  readonly func: PrimFunc;
  /** A graph of this one kernel (measuring builds it with a candidate schedule). */
  readonly graph: Graph;
  /** How many kernels of the model compute this workload. */
  readonly count: number;
  readonly flops: number;
  /** The open choices of its schedule rules (0: nothing to tune). */
  readonly decisions: number;
}

/** The graph of one kernel: `node` with its non-constant inputs as graph inputs. */
export function kernelGraph(g: Graph, node: Node, name: string): Graph {
  const inputs: Value[] = [];
  const constants = new Map<Value, Tensor>();
  for (const v of node.inputs) {
    if (!v || inputs.includes(v) || constants.has(v)) continue;
    const c = g.constants.get(v);
    if (c) constants.set(v, c);
    else inputs.push(v);
  }
  return { name, inputs, outputs: node.outputs, outputNames: node.outputs.map((o) => o.name), nodes: [node], constants };
}

/**
 * The tasks of an optimized graph for `target`, in order of first appearance. Kernels with
 * symbolic shapes are not tasks (a schedule is chosen per concrete shape).
 */
export function extractTasks(g: Graph, target: Target): TuneTask[] {
  const byKey = new Map<string, { task: TuneTask; count: number }>();
  kernelGroups(g).forEach((grp, i) => {
    if ([...grp.node.inputs, ...grp.outputs].some((v) => v && v.type.shape.some((d) => typeof d !== 'number'))) return;
    let func: PrimFunc;
    try {
      func = groupFunc(grp.nodes, i, grp.outputs).func;
    } catch (e) {
      if (e instanceof NodeError) return; // the build reports it
      throw e;
    }
    const workload = structuralHash(func);
    const seen = byKey.get(workload);
    if (seen) {
      seen.count++;
      return;
    }
    const decisions = decisionsOf(defaultSchedule(func, target).trace).size;
    byKey.set(workload, {
      count: 1,
      task: { workload, name: func.name, func, graph: kernelGraph(g, grp.node, func.name), count: 1, flops: estimateFlops(func), decisions },
    });
  });
  return [...byKey.values()].map(({ task, count }) => ({ ...task, count }));
}

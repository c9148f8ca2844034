/**
 * Pass infrastructure: a pass is a named, pure Graph → Graph function with the
 * lowest opt level that enables it. The pass manager runs a pipeline, times each
 * pass, can dump the IR after each one and verify it between passes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Graph, NodeError } from '../graph/ir.js';
import { printGraph } from '../graph/printer.js';
import { verifyGraph } from './verify.js';
import { DEFAULT_TARGET, type Target, parseTarget } from '../target/index.js';

/** What a pass may consult besides the graph: the target (layout and algorithm choices). */
export interface PassContext {
  readonly target: Target;
}

export interface Pass {
  readonly name: string;
  /** The pass runs at this opt level and above. */
  readonly optLevel: number;
  run(g: Graph, ctx: PassContext): Graph;
}

export interface PassOptions {
  readonly optLevel: number;
  /** The target the graph is optimized for (default: DEFAULT_TARGET, wasm). */
  readonly target?: Target;
  /** Write the IR after each pass to DIR/NN_<pass>.txt. */
  readonly dumpDir?: string;
  /** Check the IR (well-typed, no dangling values) after each pass. */
  readonly verify?: boolean;
}

export interface PassTiming {
  readonly pass: string;
  readonly ms: number;
  readonly nodesBefore: number;
  readonly nodesAfter: number;
}

export function runPasses(g: Graph, passes: readonly Pass[], opts: PassOptions): { graph: Graph; timings: PassTiming[] } {
  const timings: PassTiming[] = [];
  if (opts.dumpDir) {
    mkdirSync(opts.dumpDir, { recursive: true });
    writeFileSync(join(opts.dumpDir, '00_input.txt'), printGraph(g));
  }
  const ctx: PassContext = { target: opts.target ?? parseTarget(DEFAULT_TARGET) };
  let graph = g;
  let index = 1;
  for (const p of passes) {
    if (p.optLevel > opts.optLevel) continue;
    const before = graph.nodes.length;
    const t0 = performance.now();
    try {
      graph = p.run(graph, ctx);
    } catch (e) {
      if (e instanceof NodeError && !e.pass) throw new NodeError(e.origin, e.op, e.reason, p.name);
      throw e;
    }
    timings.push({ pass: p.name, ms: performance.now() - t0, nodesBefore: before, nodesAfter: graph.nodes.length });
    if (opts.verify) verifyGraph(graph, p.name);
    if (opts.dumpDir) writeFileSync(join(opts.dumpDir, `${String(index).padStart(2, '0')}_${p.name}.txt`), printGraph(graph));
    index++;
  }
  return { graph, timings };
}

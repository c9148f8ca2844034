/**
 * FoldConstant: a node whose inputs are all constants is evaluated at compile time,
 * with the compiler's own generated code (the node is built and run by the runtime),
 * and its outputs become constants. Shape subgraphs, weight arithmetic left by
 * SimplifyInference and weight re-layouts or transforms (Winograd) fold this way. Small
 * nodes run on the js target (exact int64, double-precision arithmetic); a float32 node
 * with a large output runs on wasm, tens of times faster, in float32 like the model.
 */
import { Tensor } from '../runtime/tensor.js';
import { Executor } from '../runtime/executor.js';
import { type Graph, type Node, type Value, FUSED_OP } from '../graph/ir.js';
import { rewriteGraph } from '../graph/rewrite.js';
import { getOp } from '../ops/registry.js';
import { build } from '../build/build.js';
import type { Pass } from './pass.js';

/** Ops that must not be evaluated at compile time (none yet: random ops will be listed here). */
const NOT_FOLDABLE = new Set<string>();

export function foldConstants(g: Graph): Graph {
  return rewriteGraph(g, (n, r) => {
    const consts = n.inputs.map((v) => (v ? r.constantOf(v) : null));
    const foldable = isFoldable(n) && consts.every((c) => c !== undefined);
    if (!foldable) {
      r.keep(n);
      return;
    }
    const out = evaluateNode(n, consts as (Tensor | null)[]);
    n.outputs.forEach((o, i) => r.replace(o, r.constant(out[i]!, o.name)));
  });
}

/**
 * Evaluates one node on constant inputs (null for omitted optional inputs) with the
 * compiler's own generated code: the node is built for the js target and run.
 */
export function evaluateNode(n: Node, inputs: readonly (Tensor | null)[]): Tensor[] {
  // A view of a constant is the same data with a new shape.
  if (getOp(n.op).view) return [reshaped(inputs[0]!, n.outputs[0]!)];
  const constants = new Map<Value, Tensor>();
  n.inputs.forEach((v, i) => { if (v) constants.set(v, inputs[i]!); });
  const sub: Graph = {
    name: `fold_${n.op}`, inputs: [], outputs: n.outputs, outputNames: n.outputs.map((o) => o.name),
    nodes: [n], constants,
  };
  const out = Executor.loadSync(build(sub, { target: foldTarget(n) }).executable).runSync({});
  return n.outputs.map((o) => out[o.name]!);
}

/** Output elements from which a float32 node is evaluated on the wasm target. */
const WASM_FOLD_ELEMENTS = 1 << 16;

/**
 * Constants are evaluated on this host whatever the model's target: small nodes on js
 * (no compile latency), large float32 ones on wasm, without relaxed SIMD so the folded
 * values do not depend on the engine compiling the model.
 */
function foldTarget(n: Node): string {
  const big = n.outputs.every((o) => o.type.dtype === 'float32') && n.outputs.some((o) => (o.type.shape as number[]).reduce((a, d) => a * d, 1) >= WASM_FOLD_ELEMENTS);
  return big ? 'wasm -threads=1 -no-fma' : 'js';
}

/** Whether a node may be evaluated at compile time once its inputs are constants. */
export function isFoldable(n: Node): boolean {
  return n.op !== FUSED_OP && !NOT_FOLDABLE.has(n.op);
}

function reshaped(t: Tensor, like: Value): Tensor {
  return new Tensor(t.type, t.data, like.type.shape as number[]);
}

export const FoldConstant: Pass = { name: 'FoldConstant', optLevel: 1, run: foldConstants };

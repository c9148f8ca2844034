/**
 * FoldConstant: a node whose inputs are all constants is evaluated at compile time,
 * with the compiler's own generated code (the node is built and run by the runtime),
 * and its outputs become constants. Shape subgraphs, weight arithmetic left by
 * SimplifyInference and weight re-layouts or transforms (Winograd) fold this way. Small
 * nodes run on the js target (exact int64, double-precision arithmetic); a float32 node
 * with a large output runs on wasm, tens of times faster, in float32 like the model.
 * A node whose compute only moves elements (a transpose, a blocked re-layout, a slice,
 * constant padding: te/copy_map.ts reads the mapping off the op's compute) runs as a
 * strided copy of its input's bytes instead, at memory speed and with no kernel.
 */
import { Tensor } from '../runtime/tensor.js';
import { Executor } from '../runtime/executor.js';
import { type Graph, type Node, FUSED_OP, Value } from '../graph/ir.js';
import { rewriteGraph } from '../graph/rewrite.js';
import { getOp } from '../ops/registry.js';
import { build } from '../build/build.js';
import { composeTe } from '../build/lower.js';
import { copyMapOf, runCopyMap } from '../te/copy_map.js';
import type { Pass } from './pass.js';

/** Ops that must not be evaluated at compile time (none yet: random ops will be listed here). */
const NOT_FOLDABLE = new Set<string>();

/** `kernels`: where the nodes' kernels are built and kept (one per pass run by default). */
export function foldConstants(g: Graph, kernels: FoldKernels = new FoldKernels()): Graph {
  return rewriteGraph(g, (n, r) => {
    const consts = n.inputs.map((v) => (v ? r.constantOf(v) : null));
    const foldable = isFoldable(n) && consts.every((c) => c !== undefined);
    if (!foldable) {
      r.keep(n);
      return;
    }
    const out = evaluateNode(n, consts as (Tensor | null)[], kernels);
    n.outputs.forEach((o, i) => r.replace(o, r.constant(out[i]!, o.name)));
  });
}

/**
 * Evaluates one node on constant inputs (null for omitted optional inputs): a view or a
 * copy map moves the data; any other node runs its generated kernel (`kernels`: those
 * built so far, reused by nodes of the same signature).
 */
export function evaluateNode(n: Node, inputs: readonly (Tensor | null)[], kernels: FoldKernels = new FoldKernels()): Tensor[] {
  // A view of a constant is the same data with a new shape.
  if (getOp(n.op).view) return [reshaped(inputs[0]!, n.outputs[0]!)];
  const copied = copyNode(n, inputs);
  if (copied) return [copied];
  return kernels.run(n, inputs);
}

/**
 * The kernels constant folding built, by node signature (op, attributes, input and output
 * types, fold target): a node is built once as a graph of its own whose inputs are fed
 * (not baked in as constants), so nodes alike (the weight transform of layers of one
 * shape) run the same loaded kernel on their own data.
 */
export class FoldKernels {
  private readonly loaded = new Map<string, Executor>();
  /** Kernels built so far (tests and inspection count them). */
  built = 0;

  /** The node's outputs from its generated kernel. */
  run(n: Node, inputs: readonly (Tensor | null)[]): Tensor[] {
    const target = foldTarget(n);
    const key = signature(n, target);
    let exe = key !== undefined ? this.loaded.get(key) : undefined;
    if (!exe) {
      exe = Executor.loadSync(build(foldGraph(n), { target }).executable);
      this.built++;
      if (key !== undefined) this.loaded.set(key, exe);
    }
    const feeds: Record<string, Tensor> = {};
    n.inputs.forEach((v, i) => { if (v) feeds[`in${i}`] = inputs[i]!; });
    const out = exe.runSync(feeds);
    return n.outputs.map((_, i) => out[`out${i}`]!);
  }
}

/** The node alone in a graph: its inputs graph inputs in0.. (by position), its outputs out0... */
function foldGraph(n: Node): Graph {
  const inputs: Value[] = [];
  const ins = n.inputs.map((v, i) => {
    if (!v) return null;
    const x = new Value(`in${i}`, v.type);
    inputs.push(x);
    return x;
  });
  return {
    name: `fold_${n.op}`, inputs, outputs: n.outputs, outputNames: n.outputs.map((_, i) => `out${i}`),
    nodes: [{ ...n, inputs: ins }], constants: new Map(),
  };
}

/** What a folded node's kernel depends on; undefined (not cached) for tensor-valued attributes. */
function signature(n: Node, target: string): string | undefined {
  const attrs = Object.entries(n.attrs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (attrs.some(([, v]) => v instanceof Tensor)) return undefined;
  const types = (vs: readonly (Value | null)[]): unknown[] => vs.map((v) => (v ? [v.type.dtype, v.type.shape] : null));
  return JSON.stringify([n.op, target, attrs, types(n.inputs), types(n.outputs)]);
}

/**
 * A single-output node whose compute is a copy map (te/copy_map.ts) of one input: its
 * output as a strided copy of that input (the same data when the map is the identity),
 * or undefined (evaluated by a kernel then, which also reports any error).
 */
export function copyNode(n: Node, inputs: readonly (Tensor | null)[]): Tensor | undefined {
  if (n.op === FUSED_OP || n.outputs.length !== 1 || !getOp(n.op).compute) return undefined;
  const out = n.outputs[0]!;
  let te;
  try {
    te = composeTe([n], 0, n.outputs, {});
  } catch {
    return undefined;
  }
  const map = copyMapOf(te.outputs[0]!);
  if (!map) return undefined;
  const src = inputs[n.inputs.indexOf(te.inputs[te.placeholders.indexOf(map.source)]!)];
  if (!src) return undefined;
  const shape = out.type.shape as number[];
  if (isIdentity(map, src.dims)) return new Tensor(out.type.dtype, src.data, shape);
  const data = runCopyMap(map, src.data, out.type.dtype);
  return data ? new Tensor(out.type.dtype, data, shape) : undefined;
}

/** A map that reads every source element in place: the output is the source's data. */
function isIdentity(map: ReturnType<typeof copyMapOf> & object, dims: readonly number[]): boolean {
  const size = dims.reduce((a, b) => a * b, 1);
  if (map.extents.reduce((a, b) => a * b, 1) !== size || map.offset !== 0) return false;
  let stride = 1;
  for (let d = map.extents.length - 1; d >= 0; d--) {
    if (map.lo[d] !== 0 || map.hi[d] !== map.extents[d] || (map.extents[d] !== 1 && map.strides[d] !== stride)) return false;
    stride *= map.extents[d]!;
  }
  return true;
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

export const FoldConstant: Pass = { name: 'FoldConstant', optLevel: 1, run: (g) => foldConstants(g) };

/**
 * Dynamic batch: compile once, run at any batch size. A graph whose only symbolic
 * dim is one name at axis 0 of the values that carry it (a batch) is built with its
 * kernels generated for one sample, provided each kernel is batch-separable: sample n
 * of every batched output is computed from sample n of the batched inputs only (plus
 * unbatched tensors such as weights). The runtime then runs such a kernel once per
 * sample on that sample's slices (runtime/batch.ts).
 *
 * Separability is proven on the kernel's unscheduled loop IR, lowered with the batch
 * dim standing at a large prime: that size may appear only as the extent of a block's
 * first spatial iterator, and that iterator only as the leading index of batched
 * buffers, in every read and write. A reduction over the batch, a gather along it, a
 * reshape that merges it, or any arithmetic on the batch index fails the proof, and the
 * build reports which node and why (InferenceSession then compiles per batch size).
 */
import { type Buffer, type Expr, type Var, visitExpr } from '../ir/expr.js';
import { type Graph, type Node, type Value, NodeError } from '../graph/ir.js';
import { type PrimFunc, type Stmt, collectBlocks, stmtExprs, visitStmt } from '../tir/stmt.js';
import { createPrimFunc } from '../te/lower.js';
import { composeTe, kernelName } from './lower.js';

/** A graph the build cannot compile with a run-time batch size; names the value or node and why. */
export class DynamicShapeError extends NodeError {
  constructor(node: Node | undefined, reason: string) {
    super(node?.origin, node?.op ?? 'graph', reason, 'dynamic batch');
    this.name = 'DynamicShapeError';
  }
}

/** The size the batch dim takes in the separability proof: prime, far above any real extent in index math. */
const STAND_IN = 1_000_003;

/**
 * The graph's dynamic batch dim: undefined when every shape is concrete. Throws
 * DynamicShapeError when symbolic dims are not one name, each at axis 0.
 */
export function dynamicBatchDim(g: Graph): string | undefined {
  let dim: string | undefined;
  const check = (v: Value, node: Node | undefined): void => {
    v.type.shape.forEach((d, axis) => {
      if (typeof d !== 'string') return;
      if (axis !== 0) throw new DynamicShapeError(node, `value %${v.name} [${v.type.shape.join(', ')}] has symbolic dim '${d}' at axis ${axis}; only a leading (batch) dim can stay symbolic in one compilation`);
      if (dim !== undefined && d !== dim) throw new DynamicShapeError(node, `symbolic dims '${dim}' and '${d}' (at %${v.name}); one compilation supports one dynamic batch dim`);
      dim = d;
    });
  };
  for (const v of g.inputs) check(v, undefined);
  const visit = (nodes: readonly Node[]): void => {
    for (const n of nodes) {
      for (const o of n.outputs) check(o, n);
      if (n.body) visit(n.body.nodes);
    }
  };
  visit(g.nodes);
  return dim;
}

/** Whether a value carries the batch dim (then at axis 0). */
export const isBatched = (v: Value, dim: string): boolean => v.type.shape[0] === dim;

/** Proves the group separable along `dim`, or throws DynamicShapeError naming the group's node and the reason. */
export function checkBatchSeparable(nodes: readonly Node[], index: number, outputs: readonly Value[], dim: string): void {
  const te = composeTe(nodes, index, outputs, { [dim]: STAND_IN });
  const problem = separabilityProblem(createPrimFunc(kernelName(nodes, index), te.placeholders, te.outputs));
  if (problem) {
    throw new DynamicShapeError(nodes[nodes.length - 1], `not separable along the dynamic dim '${dim}' (${nodes.map((n) => n.op).join(' + ')}): ${problem}`);
  }
}

function separabilityProblem(f: PrimFunc): string | undefined {
  const buffers = new Set<Buffer>(f.params);
  visitStmt(f.body, (s) => { if (s.kind === 'allocate') buffers.add(s.buffer); });
  const batched = new Set<Buffer>();
  for (const b of buffers) {
    const axis = b.shape.indexOf(STAND_IN, 1);
    if (axis > 0) return `tensor ${b.name} carries the batch at axis ${axis}`;
    if (b.shape[0] === STAND_IN) batched.add(b);
  }
  for (const block of collectBlocks(f.body)) {
    const over = block.iterVars.filter((iv) => iv.extent === STAND_IN);
    if (over.length > 1 || (over.length === 1 && (block.iterVars[0] !== over[0] || over[0]!.type !== 'spatial'))) {
      return `${block.name} ${over.some((iv) => iv.type === 'reduce') ? 'reduces over' : 'iterates over'} the batch other than as its leading output axis`;
    }
    const n: Var | undefined = over[0]?.var;
    let uses = 0;
    let leading = 0;
    let problem: string | undefined;
    const leadingIndex = (b: Buffer, indices: readonly Expr[], what: string): void => {
      if (!batched.has(b)) return;
      if (!n || indices[0] !== n) problem ??= `${block.name} ${what} ${b.name} at a batch index other than its own sample`;
      else leading++;
    };
    const scan = (e: Expr): void => visitExpr(e, (x) => {
      if (x.kind === 'var' && n && x.id === n.id) uses++;
      else if (x.kind === 'int' && Math.abs(x.value) >= STAND_IN / 2) problem ??= `${block.name} computes with the batch size (constant ${x.value})`;
      else if (x.kind === 'load') leadingIndex(x.buffer, x.indices, 'reads');
    });
    const scanStmt = (s: Stmt): void => visitStmt(s, (x) => {
      if (x.kind === 'store') leadingIndex(x.buffer, x.indices, 'writes');
      if (x.kind !== 'block') for (const e of stmtExprs(x)) scan(e);
    });
    if (block.init) scanStmt(block.init);
    scanStmt(block.body);
    if (problem) return problem;
    if (uses > leading) return `${block.name} uses its batch index in arithmetic, not only to address its own sample`;
  }
  return undefined;
}

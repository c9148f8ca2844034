/**
 * GraphBuilder: creates nodes through the operator registry, so that every value
 * gets its type from the op's one shape rule; errors carry the node's origin.
 */
import type { Tensor } from '../runtime/tensor.js';
import { OpError, getOp } from '../ops/registry.js';
import { type Attrs, type Graph, type Node, type Origin, type TensorType, NodeError, Value, originToString, typeToString } from './ir.js';
import { dtypeBytes } from '../runtime/dtype.js';
import { MAX_RANK, checkArenaBytes } from '../runtime/limits.js';
import { LimitError } from '../runtime/error.js';

/**
 * Every value's type is checked as it is made: at most MAX_RANK dims, each a size (a
 * non-negative safe integer) or symbolic, and the tensor within the arena Tessera supports (its numeric dims alone, when
 * some are symbolic), so nothing downstream allocates or generates code for an impossible shape.
 */
function checkType(t: TensorType, what: string, op: string, origin?: Origin): void {
  if (t.shape.length > MAX_RANK) {
    throw new LimitError(`${origin ? `${originToString(origin)}: ` : ''}${what} would have ${t.shape.length} dims; Tessera supports tensors of at most ${MAX_RANK}`);
  }
  let bytes = dtypeBytes(t.dtype);
  for (const d of t.shape) {
    if (typeof d === 'string') continue;
    if (!Number.isSafeInteger(d) || d < 0) throw new NodeError(origin, op, `${what} would have the invalid shape [${t.shape.join(', ')}]`);
    bytes *= d;
  }
  checkArenaBytes(bytes, `${origin ? `${originToString(origin)}: ` : ''}${what} (${typeToString(t)})`);
}

export class GraphBuilder {
  private readonly inputs: Value[] = [];
  private readonly inputSet = new Set<Value>();
  /** The node computing each value, kept as nodes come and go. */
  private readonly producer = new Map<Value, Node>();
  private readonly outputs: Value[] = [];
  private readonly outputNames: string[] = [];
  private readonly nodes: Node[] = [];
  private readonly constants = new Map<Value, Tensor>();
  private counter = 0;

  constructor(private readonly name: string) {}

  private fresh(hint: string): string {
    return `${hint || 'v'}_${this.counter++}`;
  }

  input(name: string, type: TensorType): Value {
    checkType(type, `graph input '${name}'`, 'graph');
    const v = new Value(name, type);
    this.addInput(v);
    return v;
  }

  /** Re-uses existing values (passes rebuilding a graph keep its inputs and constants). */
  addInput(v: Value): void {
    this.inputs.push(v);
    this.inputSet.add(v);
  }
  addConstant(v: Value, t: Tensor): void {
    this.constants.set(v, t);
  }

  constant(tensor: Tensor, name?: string): Value {
    const v = new Value(name ?? this.fresh('const'), { dtype: tensor.type, shape: tensor.dims });
    this.constants.set(v, tensor);
    return v;
  }

  /** Applies a registered op; returns its output values (typed by the op's shape rule). */
  op(op: string, inputs: readonly (Value | null)[], attrs: Attrs = {}, origin?: Origin, outNames?: readonly string[]): Value[] {
    let types: TensorType[];
    try {
      types = getOp(op).inferTypes(inputs.map((v) => v?.type ?? null), attrs);
    } catch (e) {
      if (e instanceof OpError) throw new NodeError(origin, op, e.message);
      throw e;
    }
    types.forEach((t, i) => checkType(t, `output ${i}`, op, origin));
    const outputs = types.map((t, i) => new Value(outNames?.[i] || this.fresh(origin?.name || op), t));
    this.addNode({ op, inputs: [...inputs], outputs, attrs, ...(origin ? { origin } : {}) });
    return outputs;
  }

  /** Adds a node whose outputs already exist (used by passes that rebuild graphs). */
  addNode(node: Node): void {
    this.nodes.push(node);
    for (const o of node.outputs) this.producer.set(o, node);
  }

  lastNode(): Node {
    const n = this.nodes[this.nodes.length - 1];
    if (!n) throw new Error('no node emitted yet');
    return n;
  }

  /** Drops the most recent node (an importer that folded it into constants). */
  removeLastNode(): void {
    const n = this.nodes.pop();
    if (n) for (const o of n.outputs) if (this.producer.get(o) === n) this.producer.delete(o);
  }

  output(v: Value, name: string = v.name): void {
    this.outputs.push(v);
    this.outputNames.push(name);
  }

  /** The graph inputs a value is computed from (empty for constants and for values of no input). */
  graphInputsBehind(v: Value): Value[] {
    // Iteratively (the chain behind a value may be as long as the graph), in depth-first preorder.
    const found: Value[] = [];
    const seen = new Set<Value>();
    const stack = [v];
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (seen.has(x)) continue;
      seen.add(x);
      if (this.inputSet.has(x)) found.push(x);
      const n = this.producer.get(x);
      if (!n) continue;
      for (let i = n.inputs.length - 1; i >= 0; i--) {
        const u = n.inputs[i];
        if (u && !seen.has(u)) stack.push(u);
      }
    }
    return found;
  }

  isInput(v: Value): boolean {
    return this.inputSet.has(v);
  }

  constantOf(v: Value): Tensor | undefined {
    return this.constants.get(v);
  }

  build(): Graph {
    return {
      name: this.name, inputs: [...this.inputs], outputs: [...this.outputs], outputNames: [...this.outputNames],
      nodes: [...this.nodes], constants: new Map(this.constants),
    };
  }
}

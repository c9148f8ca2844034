/**
 * GraphBuilder: creates nodes through the operator registry, so that every value
 * gets its type from the op's one shape rule; errors carry the node's origin.
 */
import type { Tensor } from '../runtime/tensor.js';
import { OpError, getOp } from '../ops/registry.js';
import { type Attrs, type Graph, type Node, type Origin, type TensorType, NodeError, Value, originToString, typeToString } from './ir.js';
import { dtypeBytes } from '../runtime/dtype.js';
import { checkArenaBytes } from '../runtime/limits.js';

/**
 * Every value's type is checked as it is made: each dim a size (a non-negative safe integer)
 * or symbolic, and the tensor within the arena Tessera supports (its numeric dims alone, when
 * some are symbolic), so nothing downstream allocates or generates code for an impossible shape.
 */
function checkType(t: TensorType, what: string, op: string, origin?: Origin): void {
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
    this.inputs.push(v);
    return v;
  }

  /** Re-uses existing values (passes rebuilding a graph keep its inputs and constants). */
  addInput(v: Value): void {
    this.inputs.push(v);
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
    this.nodes.push({ op, inputs: [...inputs], outputs, attrs, ...(origin ? { origin } : {}) });
    return outputs;
  }

  /** Adds a node whose outputs already exist (used by passes that rebuild graphs). */
  addNode(node: Node): void {
    this.nodes.push(node);
  }

  lastNode(): Node {
    const n = this.nodes[this.nodes.length - 1];
    if (!n) throw new Error('no node emitted yet');
    return n;
  }

  /** Drops the most recent node (an importer that folded it into constants). */
  removeLastNode(): void {
    this.nodes.pop();
  }

  output(v: Value, name: string = v.name): void {
    this.outputs.push(v);
    this.outputNames.push(name);
  }

  /** The graph inputs a value is computed from (empty for constants and for values of no input). */
  graphInputsBehind(v: Value): Value[] {
    const producer = new Map<Value, Node>();
    for (const n of this.nodes) for (const o of n.outputs) producer.set(o, n);
    const found: Value[] = [];
    const seen = new Set<Value>();
    const walk = (x: Value): void => {
      if (seen.has(x)) return;
      seen.add(x);
      if (this.inputs.includes(x)) found.push(x);
      const n = producer.get(x);
      if (n) for (const i of n.inputs) if (i) walk(i);
    };
    walk(v);
    return found;
  }

  isInput(v: Value): boolean {
    return this.inputs.includes(v);
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

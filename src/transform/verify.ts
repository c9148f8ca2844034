/** IR verification: every value is defined once before use, and every node's types match its op's shape rule. */
import { type Graph, type TensorType, type Value, FUSED_OP, NodeError, typeToString } from '../graph/ir.js';
import { getOp } from '../ops/registry.js';

function sameType(a: TensorType, b: TensorType): boolean {
  return a.dtype === b.dtype && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}

/** Values defined in a graph, and (for a fused body) in the graphs around it. */
class Scope {
  private readonly own: Set<Value>;
  constructor(values: Iterable<Value>, private readonly outer?: Scope) {
    this.own = new Set(values);
  }
  has(v: Value): boolean {
    return this.own.has(v) || (this.outer?.has(v) ?? false);
  }
  add(v: Value): void {
    this.own.add(v);
  }
}

export function verifyGraph(g: Graph, pass = 'verify'): void {
  verifyIn(g, pass, undefined);
}

function verifyIn(g: Graph, pass: string, outer: Scope | undefined): void {
  const defined = new Scope([...g.inputs, ...g.constants.keys()], outer);
  const fail = (node: Graph['nodes'][number] | undefined, reason: string): never => {
    throw new NodeError(node?.origin, node?.op ?? 'graph', `IR verification failed after ${pass}: ${reason}`);
  };
  for (const n of g.nodes) {
    for (const v of n.inputs) if (v && !defined.has(v)) fail(n, `input %${v.name} is used before it is defined`);
    if (n.op === FUSED_OP) {
      if (!n.body) fail(n, 'a fused node has no body');
      verifyIn(n.body!, pass, defined);
    } else {
      const want = getOp(n.op).inferTypes(n.inputs.map((v) => v?.type ?? null), n.attrs);
      if (want.length !== n.outputs.length) fail(n, `${n.outputs.length} outputs, the op defines ${want.length}`);
      n.outputs.forEach((o, i) => {
        if (!sameType(o.type, want[i]!)) fail(n, `output %${o.name} is typed ${typeToString(o.type)}, the shape rule says ${typeToString(want[i]!)}`);
      });
    }
    for (const o of n.outputs) {
      if (defined.has(o)) fail(n, `value %${o.name} is defined twice`);
      defined.add(o);
    }
  }
  g.outputs.forEach((v) => { if (!defined.has(v)) fail(undefined, `graph output %${v.name} is never defined`); });
  if (g.outputNames.length !== g.outputs.length) fail(undefined, 'output names and outputs differ in number');
}

/**
 * FuseOps, with TVM's rules on the ops' pattern kinds:
 * - chains of elementwise / broadcast / injective ops fuse together;
 * - an out-elemwise-fusable op (conv, matmul, ...) takes its elementwise/broadcast
 *   epilogue (bias, residual add, activation);
 * - a reduction takes its injective inputs (except a LayoutTransform into blocked
 *   channels, which exists so the reduction reads channel vectors), and an elementwise
 *   epilogue after it;
 * - opaque ops stay alone.
 * A producer joins its consumer only when the consumer is the producer's only reader
 * (and the value is not a graph output), so every group has one output and stays
 * convex. Each group of two or more nodes becomes one fused node whose body holds
 * the original nodes; the build lowers it as one kernel. A group holds at most
 * MAX_FUSED_OPS nodes.
 */
import { type Graph, type Node, type Value, FUSED_OP } from '../graph/ir.js';
import { useCounts } from '../graph/rewrite.js';
import { type OpPattern, getOp } from '../ops/registry.js';
import type { Pass } from './pass.js';

type GroupKind = 'injective' | 'out-elemwise-fusable' | 'reduce' | 'opaque';

interface Group {
  nodes: Node[];
  kind: GroupKind;
}

/**
 * The most nodes one fused group takes (TVM's max_fuse_depth). A fused kernel's loop
 * IR nests a stage per node until the schedule inlines them, and its expressions are
 * as deep as its longest chain; both are walked recursively by lowering and codegen,
 * so an unbounded group (a 10,000-node elementwise chain) would overflow the stack.
 * Past this size a chain is cut into kernels of this many nodes, which costs one
 * store and reload per cut.
 */
export const MAX_FUSED_OPS = 256;

function patternOf(n: Node): OpPattern {
  const def = getOp(n.op);
  return def.view ? 'injective' : def.pattern;
}

function kindOf(p: OpPattern): GroupKind {
  return p === 'elemwise' || p === 'broadcast' || p === 'injective' ? 'injective' : p;
}

/** The kind of the group made by `consumer` (pattern p) absorbing a producer group of kind `producer`, or undefined. */
function absorb(producer: GroupKind, p: OpPattern): GroupKind | undefined {
  const elemwise = p === 'elemwise' || p === 'broadcast';
  switch (producer) {
    case 'out-elemwise-fusable': return elemwise ? producer : undefined;
    case 'reduce': return elemwise ? producer : undefined;
    case 'injective':
      if (elemwise || p === 'injective') return 'injective';
      if (p === 'reduce') return 'reduce';
      return undefined;
    case 'opaque': return undefined;
  }
}

export function fuseOps(g: Graph): Graph {
  const uses = useCounts(g);
  const graphOutputs = new Set(g.outputs);
  const producer = new Map<Value, Node>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);
  const groupOf = new Map<Node, Group>();

  for (const n of g.nodes) {
    const p = patternOf(n);
    let group: Group = { nodes: [n], kind: kindOf(p) };
    if (n.outputs.length === 1 && n.op !== FUSED_OP && p !== 'opaque' && p !== 'out-elemwise-fusable') {
      const candidates = new Set<Group>();
      for (const v of n.inputs) {
        const m = v && producer.get(v);
        if (!m || uses.get(v!) !== 1 || graphOutputs.has(v!)) continue;
        const gm = groupOf.get(m)!;
        if (gm.nodes[gm.nodes.length - 1]!.outputs.length !== 1) continue;
        // A re-layout into blocked channels stays its own step before a reduction (a pool):
        // it is there so that the reduction reads whole channel vectors.
        if (p === 'reduce' && m.op === 'LayoutTransform' && m.attrs['dst_layout'] !== 'NCHW') continue;
        candidates.add(gm);
      }
      // Absorb producers one at a time; at most one non-injective master per group.
      let kind = group.kind;
      let size = 1;
      const merged: Group[] = [];
      for (const gm of candidates) {
        const k = absorb(gm.kind, p);
        if (!k) continue;
        if (kind !== 'injective' && k !== 'injective' && gm.kind !== 'injective') continue; // two masters
        if (size + gm.nodes.length > MAX_FUSED_OPS) continue;
        kind = k === 'injective' ? kind : k;
        size += gm.nodes.length;
        merged.push(gm);
      }
      if (merged.length > 0) {
        // The largest producer group grows in place: only the others' nodes move, so a
        // long chain is not copied again at every node.
        const largest = merged.reduce((a, b) => (b.nodes.length > a.nodes.length ? b : a));
        for (const gm of merged) {
          if (gm === largest) continue;
          for (const m of gm.nodes) {
            largest.nodes.push(m);
            groupOf.set(m, largest);
          }
        }
        largest.nodes.push(n);
        largest.kind = kind;
        group = largest;
      }
    }
    groupOf.set(n, group);
  }

  // Emit each group at the position of its last node.
  const nodes: Node[] = [];
  const emitted = new Set<Group>();
  const order = new Map(g.nodes.map((n, i) => [n, i]));
  for (const n of g.nodes) {
    const group = groupOf.get(n)!;
    if (group.nodes[group.nodes.length - 1] !== n || emitted.has(group)) continue;
    emitted.add(group);
    if (group.nodes.length === 1) {
      nodes.push(n);
      continue;
    }
    const members = [...group.nodes].sort((a, b) => order.get(a)! - order.get(b)!);
    const inside = new Set(members.flatMap((m) => m.outputs));
    const inputs = new Set<Value>();
    for (const m of members) for (const v of m.inputs) if (v && !inside.has(v)) inputs.add(v);
    const outputs = n.outputs;
    const body: Graph = {
      name: `fused_${members.map((m) => m.op).join('_')}`,
      inputs: [...inputs], outputs, outputNames: outputs.map((o) => o.name), nodes: members, constants: new Map(),
    };
    nodes.push({ op: FUSED_OP, inputs: body.inputs, outputs, attrs: {}, body, ...(n.origin ? { origin: n.origin } : {}) });
  }
  return { ...g, nodes };
}

export const FuseOps: Pass = { name: 'FuseOps', optLevel: 1, run: fuseOps };

/**
 * Large valid graphs for the scale benchmark (`npm run bench:scale`) and the scale tests:
 * a long elementwise chain, a wide Concat, many parallel branches, a chain with a constant
 * per node. Each comes with its feeds and a plain reference (the node list interpreted
 * in float32, one op at a time), so a test checks what a compiled graph computes.
 */
import { type NodeSpec, type ValueSpec, makeModel } from '../frontend/onnx/model_builder.js';
import { onnx, tensorToProto } from '../frontend/onnx/proto.js';
import { Tensor } from '../runtime/tensor.js';

export interface ScaleGraph {
  readonly name: string;
  readonly model: Uint8Array;
  /** Nodes in the ONNX graph. */
  readonly nodes: number;
  readonly feeds: Record<string, Tensor>;
  /** The outputs the graph computes for `feeds`, by output name. */
  reference(): Record<string, Float32Array>;
}

interface Spec {
  readonly nodes: NodeSpec[];
  readonly inputs: ValueSpec[];
  readonly outputs: ValueSpec[];
  readonly initializers: Record<string, Tensor>;
}

/** Deterministic values in [lo, hi) (a linear congruential generator). */
function values(n: number, seed: number, lo: number, hi: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((s >>> 8) / 2 ** 24) * (hi - lo);
  }
  return out;
}

/** A float32 [1, n] or [n] tensor of deterministic values. */
const tensor = (dims: number[], seed: number, lo = -1, hi = 1): Tensor =>
  new Tensor('float32', values(dims.reduce((a, b) => a * b, 1), seed, lo, hi), dims);

/**
 * Interprets the graph's nodes on float32 arrays. Elementwise ops broadcast a [n] or
 * [1, n] operand over the other (the graphs here use no other broadcast); Concat and Sum
 * are over [1, n] values.
 */
function interpret(spec: Spec, feeds: Record<string, Tensor>): Record<string, Float32Array> {
  const env = new Map<string, Float32Array>();
  for (const [k, t] of Object.entries(feeds)) env.set(k, t.data as Float32Array);
  for (const [k, t] of Object.entries(spec.initializers)) env.set(k, t.data as Float32Array);
  const get = (name: string): Float32Array => {
    const v = env.get(name);
    if (!v) throw new Error(`reference: value ${name} is not computed`);
    return v;
  };
  const map = (a: Float32Array, f: (x: number) => number): Float32Array => a.map((x) => Math.fround(f(x)));
  const zip = (a: Float32Array, b: Float32Array, f: (x: number, y: number) => number): Float32Array => {
    if (a.length !== b.length) throw new Error('reference: operands differ in size');
    return a.map((x, i) => Math.fround(f(x, b[i]!)));
  };
  for (const n of spec.nodes) {
    const ins = n.inputs.map(get);
    let out: Float32Array;
    switch (n.op) {
      case 'Add': out = zip(ins[0]!, ins[1]!, (x, y) => x + y); break;
      case 'Mul': out = zip(ins[0]!, ins[1]!, (x, y) => x * y); break;
      case 'Relu': out = map(ins[0]!, (x) => Math.max(0, x)); break;
      case 'Sigmoid': out = map(ins[0]!, (x) => 1 / (1 + Math.exp(-x))); break;
      case 'Tanh': out = map(ins[0]!, Math.tanh); break;
      case 'HardSwish': out = map(ins[0]!, (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5))); break;
      case 'Sum': out = ins.slice(1).reduce((acc, x) => zip(acc, x, (p, q) => p + q), ins[0]!); break;
      case 'Concat': {
        out = new Float32Array(ins.reduce((s, x) => s + x.length, 0));
        let off = 0;
        for (const x of ins) { out.set(x, off); off += x.length; }
        break;
      }
      default: throw new Error(`reference: op ${n.op} is not interpreted`);
    }
    env.set(n.outputs[0]!, out);
  }
  return Object.fromEntries(spec.outputs.map((o) => [o.name, get(o.name)]));
}

function graph(name: string, spec: Spec, feeds: Record<string, Tensor>): ScaleGraph {
  const model = makeModel({ ...spec, opset: 17 });
  return { name, model, nodes: spec.nodes.length, feeds, reference: () => interpret(spec, feeds) };
}

const f32 = (name: string, shape: number[]): ValueSpec => ({ name, dtype: 'float32', shape });

/**
 * A chain of `n` elementwise nodes on a [1, width] tensor: Add, Mul, Relu, Sigmoid in
 * turn. With `constantPerNode` every Add and Mul has its own constant; otherwise all share two.
 */
export function elementwiseChain(n: number, opts: { width?: number; constantPerNode?: boolean } = {}): ScaleGraph {
  const width = opts.width ?? 64;
  const nodes: NodeSpec[] = [];
  const initializers: Record<string, Tensor> = {};
  if (!opts.constantPerNode) {
    initializers['a'] = tensor([width], 1, -0.5, 0.5);
    initializers['m'] = tensor([width], 2, 0.5, 1.5);
  }
  let x = 'x';
  for (let i = 0; i < n; i++) {
    const y = i === n - 1 ? 'y' : `t${i}`;
    const op = (['Add', 'Mul', 'Relu', 'Sigmoid'] as const)[i % 4]!;
    if (op === 'Add' || op === 'Mul') {
      let c = op === 'Add' ? 'a' : 'm';
      if (opts.constantPerNode) {
        c = `c${i}`;
        initializers[c] = op === 'Add' ? tensor([width], 100 + i, -0.5, 0.5) : tensor([width], 100 + i, 0.5, 1.5);
      }
      nodes.push({ op, inputs: [x, c], outputs: [y] });
    } else {
      nodes.push({ op, inputs: [x], outputs: [y] });
    }
    x = y;
  }
  const name = `chain${n}${opts.constantPerNode ? '-consts' : ''}`;
  return graph(name, { nodes, inputs: [f32('x', [1, width])], outputs: [f32('y', [1, width])], initializers }, { x: tensor([1, width], 7) });
}

/**
 * A Concat (axis 1) of `n` [1, width] tensors: graph inputs, or (`computed`) each the
 * Add of one shared input and its own constant.
 */
export function wideConcat(n: number, opts: { width?: number; computed?: boolean } = {}): ScaleGraph {
  const width = opts.width ?? 4;
  const nodes: NodeSpec[] = [];
  const inputs: ValueSpec[] = [];
  const initializers: Record<string, Tensor> = {};
  const feeds: Record<string, Tensor> = {};
  const parts: string[] = [];
  if (opts.computed) {
    inputs.push(f32('x', [1, width]));
    feeds['x'] = tensor([1, width], 3);
  }
  for (let i = 0; i < n; i++) {
    if (opts.computed) {
      initializers[`c${i}`] = tensor([1, width], 1000 + i);
      nodes.push({ op: 'Add', inputs: ['x', `c${i}`], outputs: [`p${i}`] });
      parts.push(`p${i}`);
    } else {
      inputs.push(f32(`x${i}`, [1, width]));
      feeds[`x${i}`] = tensor([1, width], 1000 + i);
      parts.push(`x${i}`);
    }
  }
  nodes.push({ op: 'Concat', inputs: parts, outputs: ['y'], attrs: { axis: 1 } });
  const name = `concat${n}${opts.computed ? '-computed' : ''}`;
  return graph(name, { nodes, inputs, outputs: [f32('y', [1, n * width])], initializers }, feeds);
}

/** A chain of `n` HardSwish nodes (each reads its input twice) on a [1, width] tensor. */
export function hardSwishChain(n: number, opts: { width?: number } = {}): ScaleGraph {
  const width = opts.width ?? 64;
  const nodes: NodeSpec[] = Array.from({ length: n }, (_, i) => ({ op: 'HardSwish', inputs: [i === 0 ? 'x' : `t${i - 1}`], outputs: [i === n - 1 ? 'y' : `t${i}`] }));
  return graph(`hardswish${n}`, { nodes, inputs: [f32('x', [1, width])], outputs: [f32('y', [1, width])], initializers: {} }, { x: tensor([1, width], 9, -4, 4) });
}

/** `n` parallel branches on one [1, width] input, each Tanh(x * c_i), summed by one Sum. */
export function parallelBranches(n: number, opts: { width?: number } = {}): ScaleGraph {
  const width = opts.width ?? 64;
  const nodes: NodeSpec[] = [];
  const initializers: Record<string, Tensor> = {};
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    initializers[`c${i}`] = tensor([width], 5000 + i);
    nodes.push({ op: 'Mul', inputs: ['x', `c${i}`], outputs: [`m${i}`] });
    nodes.push({ op: 'Tanh', inputs: [`m${i}`], outputs: [`b${i}`] });
    parts.push(`b${i}`);
  }
  nodes.push({ op: 'Sum', inputs: parts, outputs: ['y'] });
  return graph(`branches${n}`, {
    nodes, inputs: [f32('x', [1, width])], outputs: [f32('y', [1, width])], initializers,
  }, { x: tensor([1, width], 11) });
}

const T = onnx.AttributeProto.AttributeType;

/** A float32 [1, n] value-info for hand-built ONNX graphs. */
const info = (name: string, n: number): onnx.IValueInfoProto => ({
  name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimValue: 1 }, { dimValue: n }] } } },
});

function encode(graph: onnx.IGraphProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph })).finish();
}

/**
 * If nested `depth` deep: each level's then-branch holds the next If and adds one to
 * its result (each else-branch is x - 1), all on the condition `cond` (true), so the
 * output is x + depth. Subgraphs read the outer scope (x, cond, one).
 */
export function nestedIf(depth: number, width = 8): ScaleGraph {
  const branch = (level: number, then: boolean): onnx.IGraphProto => {
    const out = `${then ? 't' : 'e'}${level}`;
    const inner = level === depth || !then
      ? [{ opType: 'Identity', input: ['x'], output: [`u${level}`], name: `${out}_id` }]
      : [ifNode(level + 1)];
    return {
      name: `${out}_graph`, output: [info(out, width)],
      node: [...inner, { opType: then ? 'Add' : 'Sub', input: [`u${level}`, 'one'], output: [out], name: `${out}_op` }],
    };
  };
  const ifNode = (level: number): onnx.INodeProto => ({
    opType: 'If', input: ['cond'], output: [`u${level - 1}`], name: `if${level}`,
    attribute: [
      { name: 'then_branch', type: T.GRAPH, g: branch(level, true) },
      { name: 'else_branch', type: T.GRAPH, g: branch(level, false) },
    ],
  });
  const model = encode({
    name: 'nested_if',
    input: [info('x', width)], output: [info('y', width)],
    initializer: [tensorToProto(new Tensor('bool', new Uint8Array([1]), []), 'cond'), tensorToProto(new Tensor('float32', new Float32Array(width).fill(1), [1, width]), 'one')],
    node: [ifNode(1), { opType: 'Identity', input: ['u0'], output: ['y'], name: 'out' }],
  });
  const x = tensor([1, width], 21);
  return { name: `if${depth}`, model, nodes: 2 * depth + 1, feeds: { x }, reference: () => ({ y: (x.data as Float32Array).map((v) => { let r = v; for (let i = 0; i < depth; i++) r = Math.fround(r + 1); return r; }) }) };
}

/**
 * Loops nested `depth` deep, each running `trips` iterations of its body: the innermost
 * body adds one to the carried value, so the output is x + trips^depth.
 */
export function nestedLoop(depth: number, trips: number, width = 8): ScaleGraph {
  const body = (level: number): onnx.IGraphProto => {
    const carried = `c${level}`;
    const out = `o${level}`;
    const scalar = (name: string, elemType: number): onnx.IValueInfoProto => ({ name, type: { tensorType: { elemType, shape: { dim: [] } } } });
    const node: onnx.INodeProto[] = level === depth
      ? [{ opType: 'Add', input: [carried, 'one'], output: [out], name: `add${level}` }]
      : [loopNode(level + 1, carried, out)];
    return {
      name: `body${level}`,
      input: [scalar(`i${level}`, onnx.TensorProto.DataType.INT64), scalar(`k${level}`, onnx.TensorProto.DataType.BOOL), info(carried, width)],
      output: [scalar(`k${level}`, onnx.TensorProto.DataType.BOOL), info(out, width)],
      node,
    };
  };
  const loopNode = (level: number, input: string, output: string): onnx.INodeProto => ({
    opType: 'Loop', input: ['trips', '', input], output: [output], name: `loop${level}`,
    attribute: [{ name: 'body', type: T.GRAPH, g: body(level) }],
  });
  const model = encode({
    name: 'nested_loop',
    input: [info('x', width)], output: [info('y', width)],
    initializer: [tensorToProto(new Tensor('int64', [BigInt(trips)], []), 'trips'), tensorToProto(new Tensor('float32', new Float32Array(width).fill(1), [1, width]), 'one')],
    node: [loopNode(1, 'x', 'y')],
  });
  const x = tensor([1, width], 22);
  const n = trips ** depth;
  return { name: `loop${trips}^${depth}`, model, nodes: depth, feeds: { x }, reference: () => ({ y: (x.data as Float32Array).map((v) => { let r = v; for (let i = 0; i < n; i++) r = Math.fround(r + 1); return r; }) }) };
}

/** The graphs `npm run bench:scale` measures, by name (each built when asked for). */
export const SCALE_GRAPHS: readonly { readonly name: string; readonly make: () => ScaleGraph }[] = [
  { name: 'chain10000', make: () => elementwiseChain(10_000) },
  { name: 'chain10000-consts', make: () => elementwiseChain(10_000, { constantPerNode: true }) },
  { name: 'concat1000', make: () => wideConcat(1000) },
  { name: 'concat1000-computed', make: () => wideConcat(1000, { computed: true }) },
  { name: 'branches1000', make: () => parallelBranches(1000) },
  { name: 'hardswish24', make: () => hardSwishChain(24) },
  { name: 'if200', make: () => nestedIf(200) },
  { name: 'loop10^3', make: () => nestedLoop(3, 10) },
];

/**
 * TE → loop IR (TVM's create_prim_func): every compute becomes one Block inside its
 * own loop nest (spatial loops outside, reduce loops inside), intermediates get
 * scratch buffers, and producer reads become buffer loads. Scheduling happens
 * afterwards, on the PrimFunc.
 */
import {
  type Buffer, type Expr, type Combiner, binary, constant, load, makeBuffer, mapExpr, max, min, variable,
} from '../ir/expr.js';
import { type Block, type PrimFunc, type Stmt, loop, seq, store } from '../tir/stmt.js';
import { type Tensor, reduceIdentity, topoSort } from './tensor.js';

function combine(c: Combiner, acc: Expr, x: Expr): Expr {
  switch (c) {
    case 'sum': return binary('add', acc, x);
    case 'prod': return binary('mul', acc, x);
    case 'max': return max(acc, x);
    case 'min': return min(acc, x);
  }
}

/**
 * Lowers the computation of `outputs` from `inputs` to a PrimFunc whose parameters
 * are the inputs then the outputs, in the given order.
 */
export function createPrimFunc(name: string, inputs: readonly Tensor[], outputs: readonly Tensor[]): PrimFunc {
  const buffers = new Map<Tensor, Buffer>();
  const params: Buffer[] = [];
  const bufferFor = (t: Tensor): Buffer => {
    let b = buffers.get(t);
    if (!b) {
      b = makeBuffer(t.name, t.dtype, t.shape);
      buffers.set(t, b);
    }
    return b;
  };
  for (const t of [...inputs, ...outputs]) {
    if (buffers.has(t)) throw new Error(`createPrimFunc ${name}: tensor ${t.name} is passed twice`);
    params.push(bufferFor(t));
  }
  for (const t of inputs) {
    if (t.op.kind !== 'placeholder') throw new Error(`createPrimFunc ${name}: input ${t.name} is not a placeholder`);
  }
  const inputSet = new Set(inputs);
  const paramSet = new Set(params);
  const order = topoSort(outputs);
  // Block names must be unique within a function (schedules address blocks by name).
  const used = new Map<string, number>();
  const blockName = (t: Tensor): string => {
    const k = used.get(t.name) ?? 0;
    used.set(t.name, k + 1);
    return k === 0 ? t.name : `${t.name}_${k}`;
  };
  const scratch: Buffer[] = [];
  const nests: Stmt[] = [];
  for (const t of order) {
    if (t.op.kind === 'placeholder') {
      if (!inputSet.has(t)) throw new Error(`createPrimFunc ${name}: placeholder ${t.name} is read but not passed as an input`);
      continue;
    }
    const out = bufferFor(t);
    if (!paramSet.has(out)) scratch.push(out);
    nests.push(lowerCompute(t, blockName(t), out, (p) => bufferFor(p)));
  }
  let body = seq(nests);
  for (const b of scratch.reverse()) body = { kind: 'allocate', buffer: b, body };
  return { name, params, body, flat: false };
}

function lowerCompute(t: Tensor, name: string, out: Buffer, bufferOf: (t: Tensor) => Buffer): Stmt {
  if (t.op.kind !== 'compute') throw new Error('unreachable');
  const { axes, body } = t.op;
  const toLoads = (e: Expr): Expr =>
    mapExpr(e, (x) => (x.kind === 'pload' ? load(bufferOf(x.producer as Tensor), x.indices.map(toLoads)) : undefined));
  const reads = new Set<Buffer>();
  for (const i of t.inputs()) reads.add(bufferOf(i));
  const outIdx: Expr[] = [...axes];
  const spatialLoops = axes.map((_, d) => variable(`${name}_ax${d}`));
  let block: Block;
  if (body.kind === 'reduce') {
    const reduceLoops = body.axes.map((_, d) => variable(`${name}_r${d}`));
    const init = store(out, outIdx, constant(reduceIdentity(body.combiner, body.dtype), body.dtype));
    const update = store(out, outIdx, combine(body.combiner, load(out, outIdx), toLoads(body.source)));
    block = {
      kind: 'block', name,
      iterVars: [
        ...axes.map((v, d) => ({ var: v, extent: t.shape[d]!, type: 'spatial' as const })),
        ...body.axes.map((a) => ({ var: a.var, extent: a.extent, type: 'reduce' as const })),
      ],
      bindings: [...spatialLoops, ...reduceLoops],
      init, body: update, reads: [...reads], writes: [out],
    };
    let s: Stmt = block;
    for (let d = body.axes.length - 1; d >= 0; d--) s = loop(reduceLoops[d]!, body.axes[d]!.extent, s);
    for (let d = axes.length - 1; d >= 0; d--) s = loop(spatialLoops[d]!, t.shape[d]!, s);
    return s;
  }
  block = {
    kind: 'block', name,
    iterVars: axes.map((v, d) => ({ var: v, extent: t.shape[d]!, type: 'spatial' as const })),
    bindings: [...spatialLoops],
    body: store(out, outIdx, toLoads(body)), reads: [...reads], writes: [out],
    ...(t.op.materialize ? { materialize: true } : {}),
    ...(t.op.unroll ? { unroll: t.op.unroll } : {}),
  };
  let s: Stmt = block;
  for (let d = axes.length - 1; d >= 0; d--) s = loop(spatialLoops[d]!, t.shape[d]!, s);
  return s;
}

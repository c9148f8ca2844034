/**
 * ConvertLayout: on targets whose layouts ask for it (Target.layouts.conv), runs 2-D
 * convolutions in the blocked activation layout NCHW4c (ConvNCHWc, or ConvWinograd for
 * 3x3 stride-1 convs with at least the target's winogradMinChannels), with layout
 * transforms only at the boundaries of the blocked region.
 * A convolution qualifies when its weights are already blocked (OHWI4o, by AlterOpLayout),
 * its input channels divide by 4 and it is a plain (group 1) or depthwise conv, or a grouped
 * conv with whole blocks of 4 channels per group, at most the target's blockedGroupMaxChannels.
 * Blocked values flow through ops that do not care about the layout: elementwise ops,
 * broadcast ops whose other operand is a scalar or also blocked, Concat on the channel
 * axis, and pools (layout='NCHW4c'; a windowed pool blocks a plain input too). Any other
 * reader gets an NCHW copy (one LayoutTransform per value).
 */
import type { Graph, Node, Value } from '../graph/ir.js';
import { Rewriter } from '../graph/rewrite.js';
import { getOp } from '../ops/registry.js';
import { KERNEL_BLOCK, MATMUL_BLOCK } from '../ops/nn.js';
import { winogradWeightTable } from '../ops/winograd.js';
import type { Pass, PassContext } from './pass.js';

const SAME_SHAPE_BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min']);
/** Pools that run on blocked values (attribute layout='NCHW4c'). */
const WINDOW_POOLS = new Set(['MaxPool', 'AveragePool']);
const POOLS = new Set([...WINDOW_POOLS, 'GlobalAveragePool', 'GlobalMaxPool']);

/** A group-1 conv with blocked weights on a plain input whose channels do not block (an image's 3): blocked output only. */
function plainInputConv(n: Node, r: Rewriter): boolean {
  if (n.op !== 'Conv' || n.attrs['kernel_layout'] !== 'OHWI4o' || !r.constantOf(n.inputs[1]!)) return false;
  const x = n.inputs[0]!;
  return x.type.shape.length === 4 && x.type.shape.every((d) => typeof d === 'number') && ((n.attrs['group'] as number | undefined) ?? 1) === 1
    && (x.type.shape[1] as number) % KERNEL_BLOCK !== 0;
}

function qualifies(n: Node, r: Rewriter, groupMax: number): boolean {
  if (n.op !== 'Conv' || n.attrs['kernel_layout'] !== 'OHWI4o' || !r.constantOf(n.inputs[1]!)) return false;
  const x = n.inputs[0]!;
  const c = x.type.shape[1];
  const group = (n.attrs['group'] as number | undefined) ?? 1;
  const w = n.inputs[1]!.type.shape;
  const o = (w[0] as number) * KERNEL_BLOCK;
  return x.type.shape.length === 4 && typeof c === 'number' && c % KERNEL_BLOCK === 0
    && (group === 1 || (group === c && w[w.length - 2] === 1 && o === c) || ((c / group) % KERNEL_BLOCK === 0 && (o / group) % KERNEL_BLOCK === 0 && c / group <= groupMax));
}

/**
 * Whether a qualifying conv runs as Winograd F(2x2, 3x3) (ops/winograd.ts): 3x3, stride
 * 1, no dilation, group 1, output channels in blocks of 16, float32, enough channels.
 */
function winogradFits(n: Node, minChannels: number | undefined): boolean {
  if (minChannels === undefined) return false;
  const w = n.inputs[1]!.type.shape; // OHWI4o [O/4, kh, kw, I, 4]
  const ones = (name: string): boolean => ((n.attrs[name] as readonly number[] | undefined) ?? [1, 1]).every((v) => v === 1);
  const pads = (n.attrs['pads'] as readonly number[] | undefined) ?? [0, 0, 0, 0];
  return w[1] === 3 && w[2] === 3 && ones('strides') && ones('dilations') && ((n.attrs['group'] as number | undefined) ?? 1) === 1
    && ((w[0] as number) * KERNEL_BLOCK) % MATMUL_BLOCK === 0 && (w[3] as number) >= minChannels
    && n.inputs[0]!.type.dtype === 'float32' && pads.every((p) => p >= 0 && p <= 2);
}

/** An NCHW value that LayoutTransform can block: rank 4, channels divisible by 4. */
function blockable(v: Value): boolean {
  const c = v.type.shape[1];
  return v.type.shape.length === 4 && typeof c === 'number' && c % KERNEL_BLOCK === 0 && v.type.shape.every((d) => typeof d === 'number');
}

function isScalarConst(v: Value, r: Rewriter): boolean {
  const t = r.constantOf(v);
  return !!t && t.size === 1 && v.type.shape.length <= 1;
}

export function convertLayout(g: Graph, ctx: PassContext): Graph {
  const { conv, winogradMinChannels, blockedGroupMaxChannels } = ctx.target.layouts;
  if (conv !== 'NCHW4c') return g;
  /** NCHW value → its blocked form; values in `blockedOnly` have no NCHW form yet. */
  const blocked = new Map<Value, Value>();
  const blockedOnly = new Set<Value>();
  const toBlocked = (v: Value, r: Rewriter, n: Node): Value => {
    let b = blocked.get(v);
    if (!b) {
      b = r.op('LayoutTransform', [v], { src_layout: 'NCHW', dst_layout: 'NCHW4c' }, n.origin)[0]!;
      blocked.set(v, b);
    }
    return b;
  };
  /** Gives a blocked-only value its NCHW form (for readers that need the plain layout). */
  const materialize = (v: Value, r: Rewriter, n: Node | undefined): void => {
    if (!blockedOnly.has(v)) return;
    blockedOnly.delete(v);
    const plain = r.op('LayoutTransform', [blocked.get(v)!], { src_layout: 'NCHW4c', dst_layout: 'NCHW' }, n?.origin)[0]!;
    r.replace(v, plain);
    blocked.set(plain, blocked.get(v)!);
  };
  const emitBlocked = (n: Node, r: Rewriter, inputs: (Value | null)[], attrs = n.attrs, op = n.op): void => {
    const [y] = r.op(op, inputs, attrs, n.origin);
    const out = n.outputs[0]!;
    blocked.set(out, y!);
    blockedOnly.add(out);
  };
  const r = new Rewriter(g);
  for (const n of g.nodes) {
    const ins = n.inputs.map((v) => (v ? r.use(v) : null));
    const isBlocked = (v: Value | null): boolean => !!v && blockedOnly.has(v);
    if (qualifies(n, r, blockedGroupMaxChannels ?? 0)) {
      const x = isBlocked(ins[0]!) ? blocked.get(ins[0]!)! : toBlocked(ins[0]!, r, n);
      if (winogradFits(n, winogradMinChannels)) {
        // The weight transform runs on the constant (FoldConstant folds it after this pass).
        const [u] = r.op('WinogradWeightTransform', [ins[1]!, r.constant(winogradWeightTable())], {}, n.origin);
        emitBlocked(n, r, [x, u!, ins[2] ?? null], { pads: n.attrs['pads']! }, 'ConvWinograd');
        continue;
      }
      const { kernel_layout: _k, ...attrs } = n.attrs;
      emitBlocked(n, r, [x, ins[1]!, ins[2] ?? null], attrs, 'ConvNCHWc');
      continue;
    }
    if (plainInputConv(n, r)) {
      const { kernel_layout: _k, ...attrs } = n.attrs;
      emitBlocked(n, r, [ins[0]!, ins[1]!, ins[2] ?? null], { ...attrs, in_layout: 'NCHW' }, 'ConvNCHWc');
      continue;
    }
    const def = getOp(n.op);
    if (n.outputs.length === 1 && ins.some(isBlocked)) {
      const elemwise = def.pattern === 'elemwise' && ins.length === 1 && !def.view;
      // A plain operand of the same shape as a blocked one is blocked too (once, cached):
      // a residual add whose other side comes from outside the blocked region.
      const sameShape = (a: Value, b2: Value): boolean => a.type.shape.join() === b2.type.shape.join();
      const binary = SAME_SHAPE_BINARY.has(n.op) && ins.length === 2
        && ins.every((v) => v && (isBlocked(v) || isScalarConst(v, r) || (blockable(v) && sameShape(v, ins[0]!) && sameShape(v, ins[1]!))));
      if (binary) {
        emitBlocked(n, r, ins.map((v) => (isBlocked(v) ? blocked.get(v!)! : isScalarConst(v!, r) ? v : toBlocked(v!, r, n))));
        continue;
      }
      if (POOLS.has(n.op) && isBlocked(ins[0]!) && (n.attrs['layout'] ?? 'NCHW') === 'NCHW') {
        emitBlocked(n, r, [blocked.get(ins[0]!)!], { ...n.attrs, layout: 'NCHW4c' });
        continue;
      }
      const clip = n.op === 'Clip' && isBlocked(ins[0]!) && ins.slice(1).every((v) => !v || isScalarConst(v, r));
      const concat = n.op === 'Concat' && n.attrs['axis'] === 1 && ins.every(isBlocked);
      if (elemwise || clip || concat) {
        emitBlocked(n, r, ins.map((v) => (v && isBlocked(v) ? blocked.get(v)! : v)));
        continue;
      }
    }
    // A windowed pool on a plain value is blocked too: its channels then vectorize (a
    // strided window does not), and convs after it read the blocked value.
    if (WINDOW_POOLS.has(n.op) && n.outputs.length === 1 && ins[0] && blockable(ins[0]) && (n.attrs['layout'] ?? 'NCHW') === 'NCHW') {
      emitBlocked(n, r, [toBlocked(ins[0], r, n)], { ...n.attrs, layout: 'NCHW4c' });
      continue;
    }
    for (const v of ins) if (v) materialize(v, r, n);
    r.keep(n);
  }
  // Graph outputs leave the blocked region.
  for (const v of g.outputs) materialize(r.use(v), r, undefined);
  return r.finish();
}

export const ConvertLayout: Pass = { name: 'ConvertLayout', optLevel: 3, run: convertLayout };

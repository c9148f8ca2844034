/**
 * AlterOpLayout: stores constant weights in the layouts the loop schedules vectorize
 * best, as far as the target asks for them (Target.layouts: conv for the conv weights,
 * matmulWeights for MatMul/Gemm); the re-layout is emitted as graph ops on the constant
 * (folded by FoldConstant).
 * - Conv with a constant OIHW weight whose output channels divide by 4 takes the
 *   blocked layout OHWI4o (W[O/4, k..., I, 4]): 4 output channels' taps are one vector,
 *   and the input channels of one tap are contiguous (the reduction's innermost walk).
 * - Gemm with a constant B and transB=1 gets B transposed (transB=0), so rows of B are
 *   contiguous along the output columns; with columns not a multiple of 4 (a 10-class
 *   head) the other way round (transB=1): each output is then a dot product along K of
 *   two contiguous rows, which the schedule vectorizes by rfactor.
 * - MatMul and Gemm (transB=0) with a constant 2-D B whose columns divide by 4 take the
 *   blocked layout NK16n (B[N/16, K, 16], the last block zero-padded when 16 does not divide
 *   N): the 16-column weight panel that a register tile reads along K is one contiguous
 *   stream instead of K rows a full B row apart.
 */
import type { Graph, Node, Value } from '../graph/ir.js';
import { type Rewriter, rewriteGraph } from '../graph/rewrite.js';
import { KERNEL_BLOCK, MATMUL_BLOCK } from '../ops/nn.js';
import type { Pass, PassContext } from './pass.js';

function blockConvWeight(n: Node, r: Rewriter): boolean {
  const [x, w, b] = n.inputs;
  if (!w || !r.constantOf(w) || (n.attrs['kernel_layout'] ?? 'OIHW') !== 'OIHW') return false;
  const shape = w.type.shape as number[];
  if (shape[0]! % KERNEL_BLOCK !== 0) return false;
  const [o, ...rest] = shape; // rest = [I, k...]
  const [split] = r.op('Reshape', [w], { shape: [o! / KERNEL_BLOCK, KERNEL_BLOCK, ...rest] }, n.origin);
  // [O/4, 4, I, k...] → [O/4, k..., I, 4]
  const perm = [0, ...rest.slice(1).map((_, i) => i + 3), 2, 1];
  const [blocked] = r.op('Transpose', [split!], { perm }, n.origin);
  const [y] = r.op('Conv', [x!, blocked!, b ?? null], { ...n.attrs, kernel_layout: 'OHWI4o' }, n.origin);
  r.replace(n.outputs[0]!, y!);
  return true;
}

/**
 * B [K, N] (or, `transposed`, B stored as [N, K]: Gemm's transB) re-laid out as NK16n
 * ([N/16, K, 16]) by graph ops on the constant, its last block zero-padded when N is a
 * multiple of 4 but not of 16 (`weight_columns` then keeps N); or undefined (N not a
 * multiple of 4: no vector tile would read it). A transposed B is blocked in one
 * transpose ([N/16, 16, K] -> [N/16, K, 16]), not transposed to [K, N] first.
 */
function blockedWeight(b: Value, transposed: boolean, origin: Node['origin'], r: Rewriter): { value: Value; attrs: Record<string, number | string> } | undefined {
  const [k, n] = transposed ? [b.type.shape[1], b.type.shape[0]] : b.type.shape;
  if (b.type.shape.length !== 2 || typeof k !== 'number' || typeof n !== 'number' || n % 4 !== 0) return undefined;
  const blocks = Math.ceil(n / MATMUL_BLOCK);
  const extra = blocks * MATMUL_BLOCK - n;
  const padded = extra === 0 ? b : r.op('Pad', [b], { pads: transposed ? [0, 0, extra, 0] : [0, 0, 0, extra], mode: 'constant' }, origin)[0]!;
  const [split] = r.op('Reshape', [padded], { shape: transposed ? [blocks, MATMUL_BLOCK, k] : [k, blocks, MATMUL_BLOCK] }, origin);
  const value = r.op('Transpose', [split!], { perm: transposed ? [0, 2, 1] : [1, 0, 2] }, origin)[0]!;
  return { value, attrs: { weight_layout: 'NK16n', ...(padded === b ? {} : { weight_columns: n }) } };
}

/** Gemm with a constant B: blocked (transB folded), or transposed to transB=0 if it cannot be. */
function layoutGemmWeight(n: Node, r: Rewriter): boolean {
  const [a, bw, c] = n.inputs;
  if (!bw || !r.constantOf(bw) || (n.attrs['weight_layout'] ?? 'KN') !== 'KN') return false;
  const transB = !!n.attrs['transB'];
  const cols = bw.type.shape[transB ? 0 : 1];
  if (typeof cols === 'number' && cols % 4 !== 0) {
    // Too few (or odd) columns for vector tiles: each output a dot product along K instead,
    // B stored transposed ([N, K], transB=1) so both operands are contiguous along K.
    if (transB || bw.type.shape.length !== 2) return false;
    const [bt] = r.op('Transpose', [bw], { perm: [1, 0] }, n.origin);
    const [y] = r.op('Gemm', [a!, bt!, c ?? null], { ...n.attrs, transB: 1 }, n.origin);
    r.replace(n.outputs[0]!, y!);
    return true;
  }
  const blocked = blockedWeight(bw, transB, n.origin, r);
  if (!blocked && !transB) return false;
  const weight = blocked?.value ?? r.op('Transpose', [bw], { perm: [1, 0] }, n.origin)[0]!;
  const attrs = { ...n.attrs, transB: 0, ...(blocked?.attrs ?? {}) };
  const [y] = r.op('Gemm', [a!, weight, c ?? null], attrs, n.origin);
  r.replace(n.outputs[0]!, y!);
  return true;
}

/** MatMul with a constant 2-D B: blocked. */
function layoutMatMulWeight(n: Node, r: Rewriter): boolean {
  const [a, bw] = n.inputs;
  if (!bw || !r.constantOf(bw) || (n.attrs['weight_layout'] ?? 'KN') !== 'KN' || a!.type.shape.length < 2) return false;
  const blocked = blockedWeight(bw, false, n.origin, r);
  if (!blocked) return false;
  const [y] = r.op('MatMul', [a!, blocked.value], { ...n.attrs, ...blocked.attrs }, n.origin);
  r.replace(n.outputs[0]!, y!);
  return true;
}

export function alterOpLayout(g: Graph, ctx: PassContext): Graph {
  const { conv, matmulWeights } = ctx.target.layouts;
  if (!conv && !matmulWeights) return g;
  return rewriteGraph(g, (n, r) => {
    if (conv && n.op === 'Conv' && blockConvWeight(n, r)) return;
    if (matmulWeights && n.op === 'Gemm' && layoutGemmWeight(n, r)) return;
    if (matmulWeights && n.op === 'MatMul' && layoutMatMulWeight(n, r)) return;
    r.keep(n);
  });
}

export const AlterOpLayout: Pass = { name: 'AlterOpLayout', optLevel: 3, run: alterOpLayout };

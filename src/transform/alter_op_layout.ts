/**
 * AlterOpLayout: stores constant weights in the layouts the loop schedules vectorize
 * best; the re-layout is emitted as graph ops on the constant (folded by FoldConstant).
 * - Conv with a constant OIHW weight whose output channels divide by 4 takes the
 *   blocked layout OHWI4o (W[O/4, k..., I, 4]): 4 output channels' taps are one vector,
 *   and the input channels of one tap are contiguous (the reduction's innermost walk).
 * - Gemm with a constant B and transB=1 gets B transposed (transB=0), so rows of B are
 *   contiguous along the output columns.
 * - MatMul and Gemm (transB=0) with a constant 2-D B whose columns divide by 16 take the
 *   blocked layout NK16n (B[N/16, K, 16]): the 16-column weight panel that a register tile
 *   reads along K is one contiguous stream instead of K rows a full B row apart.
 */
import type { Graph, Node, Value } from '../graph/ir.js';
import { type Rewriter, rewriteGraph } from '../graph/rewrite.js';
import { KERNEL_BLOCK, MATMUL_BLOCK } from '../ops/nn.js';
import type { Pass } from './pass.js';

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

/** B [K, N] re-laid out as NK16n ([N/16, K, 16]) by graph ops on the constant, or undefined when N does not divide. */
function blockedWeight(b: Value, origin: Node['origin'], r: Rewriter): Value | undefined {
  const [k, n] = b.type.shape;
  if (b.type.shape.length !== 2 || typeof k !== 'number' || typeof n !== 'number' || n % MATMUL_BLOCK !== 0) return undefined;
  const [split] = r.op('Reshape', [b], { shape: [k, n / MATMUL_BLOCK, MATMUL_BLOCK] }, origin);
  return r.op('Transpose', [split!], { perm: [1, 0, 2] }, origin)[0];
}

/** Gemm with a constant B: transposed to transB=0 if needed, then blocked. */
function layoutGemmWeight(n: Node, r: Rewriter): boolean {
  const [a, bw, c] = n.inputs;
  if (!bw || !r.constantOf(bw) || (n.attrs['weight_layout'] ?? 'KN') !== 'KN') return false;
  const kn = n.attrs['transB'] ? r.op('Transpose', [bw], { perm: [1, 0] }, n.origin)[0]! : bw;
  const blocked = blockedWeight(kn, n.origin, r);
  if (!blocked && kn === bw) return false;
  const attrs = { ...n.attrs, transB: 0, ...(blocked ? { weight_layout: 'NK16n' } : {}) };
  const [y] = r.op('Gemm', [a!, blocked ?? kn, c ?? null], attrs, n.origin);
  r.replace(n.outputs[0]!, y!);
  return true;
}

/** MatMul with a constant 2-D B: blocked. */
function layoutMatMulWeight(n: Node, r: Rewriter): boolean {
  const [a, bw] = n.inputs;
  if (!bw || !r.constantOf(bw) || (n.attrs['weight_layout'] ?? 'KN') !== 'KN' || a!.type.shape.length < 2) return false;
  const blocked = blockedWeight(bw, n.origin, r);
  if (!blocked) return false;
  const [y] = r.op('MatMul', [a!, blocked], { ...n.attrs, weight_layout: 'NK16n' }, n.origin);
  r.replace(n.outputs[0]!, y!);
  return true;
}

export function alterOpLayout(g: Graph): Graph {
  return rewriteGraph(g, (n, r) => {
    if (n.op === 'Conv' && blockConvWeight(n, r)) return;
    if (n.op === 'Gemm' && layoutGemmWeight(n, r)) return;
    if (n.op === 'MatMul' && layoutMatMulWeight(n, r)) return;
    r.keep(n);
  });
}

export const AlterOpLayout: Pass = { name: 'AlterOpLayout', optLevel: 3, run: alterOpLayout };

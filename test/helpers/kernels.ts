/** Test helper: small TE kernels the schedule tests share. */
import { type Tensor as TeTensor, compute, placeholder, reduceAxis, sum } from '../../src/te/tensor.js';
import { createPrimFunc } from '../../src/te/lower.js';
import { add, float, max, mul } from '../../src/ir/expr.js';
import type { PrimFunc } from '../../src/tir/stmt.js';

export const M = 8, K = 12, N = 16;

/** C = A @ B (a reduction into scratch), D = relu(C + 1). Loops C_ax0 (8), C_ax1 (16), C_r0 (12), D_ax0, D_ax1. */
export function matmulRelu(): PrimFunc {
  const A = placeholder([M, K], 'float32', 'A');
  const B = placeholder([K, N], 'float32', 'B');
  const k = reduceAxis(K, 'k');
  const C = compute([M, N], (i, j) => sum(mul(A.at(i, k.var), B.at(k.var, j)), [k]), 'C');
  const D = compute([M, N], (i, j) => max(add(C.at(i, j), float(1)), float(0)), 'D');
  return createPrimFunc('mm', [A, B] as TeTensor[], [D]);
}

/** matmulRelu with A first copied by an injective stage E (loops E_ax0 (8), E_ax1 (12)): a producer for compute_at. */
export function copiedMatmulRelu(): PrimFunc {
  const A = placeholder([M, K], 'float32', 'A');
  const B = placeholder([K, N], 'float32', 'B');
  const E = compute([M, K], (i, k) => A.at(i, k), 'E');
  const k = reduceAxis(K, 'k');
  const C = compute([M, N], (i, j) => sum(mul(E.at(i, k.var), B.at(k.var, j)), [k]), 'C');
  const D = compute([M, N], (i, j) => max(add(C.at(i, j), float(1)), float(0)), 'D');
  return createPrimFunc('mm', [A, B] as TeTensor[], [D]);
}

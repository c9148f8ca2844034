/**
 * DivToMul: x / c for a constant float scalar c becomes x * (1/c) (as TVM's pass of that
 * name): a multiplication costs a fraction of a division, and 1/c is rounded once at
 * compile time, so the result differs from the division by at most an ulp or so. Skipped
 * when 1/c is not a normal finite number (c zero, infinite, NaN or huge), where the two differ.
 */
import { Tensor } from '../runtime/tensor.js';
import type { Graph } from '../graph/ir.js';
import { rewriteGraph } from '../graph/rewrite.js';
import type { Pass } from './pass.js';

function reciprocal(t: Tensor | undefined): Tensor | undefined {
  if (!t || t.size !== 1 || (t.type !== 'float32' && t.type !== 'float64')) return undefined;
  const c = Number(t.data[0]);
  const r = t.type === 'float32' ? Math.fround(1 / c) : 1 / c;
  const minNormal = t.type === 'float32' ? 2 ** -126 : 2 ** -1022;
  if (!Number.isFinite(r) || Math.abs(r) < minNormal) return undefined;
  return new Tensor(t.type, t.type === 'float32' ? Float32Array.of(r) : Float64Array.of(r), t.dims);
}

export function divToMul(g: Graph): Graph {
  return rewriteGraph(g, (n, r) => {
    if (n.op === 'Div' && n.inputs.length === 2 && n.outputs.length === 1) {
      const inv = reciprocal(r.constantOf(n.inputs[1]!));
      if (inv) {
        const [y] = r.op('Mul', [r.use(n.inputs[0]!), r.constant(inv)], {}, n.origin);
        r.replace(n.outputs[0]!, y!);
        return;
      }
    }
    r.keep(n);
  });
}

export const DivToMul: Pass = { name: 'DivToMul', optLevel: 2, run: divToMul };

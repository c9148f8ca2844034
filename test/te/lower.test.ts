import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compute, placeholder, reduceAxis, sum } from '../../src/te/tensor.js';
import { createPrimFunc } from '../../src/te/lower.js';
import { defaultSchedule } from '../../src/schedule/default.js';
import { parseTarget } from '../../src/target/index.js';

const WASM = parseTarget('wasm -no-fma');
import { lowerForCodegen } from '../../src/tir/transform/pipeline.js';
import { buildJsModule } from '../../src/codegen/js/codegen.js';
import { printPrimFunc } from '../../src/tir/printer.js';
import { add, float, max, mul } from '../../src/ir/expr.js';
import { mathIntrinsics, int64Intrinsics } from '../../src/runtime/math.js';

function runJs(source: string): Record<string, (...a: unknown[]) => void> {
  return new Function('M', 'M64', source)(mathIntrinsics, int64Intrinsics) as Record<string, (...a: unknown[]) => void>;
}

test('matmul + bias + relu lowers to one reduction block and an inlined epilogue', () => {
  const A = placeholder([3, 4], 'float32', 'A');
  const B = placeholder([4, 5], 'float32', 'B');
  const k = reduceAxis(4, 'k');
  const C = compute([3, 5], (i, j) => sum(mul(A.at(i, k.var), B.at(k.var, j)), [k]), 'C');
  const D = compute([3, 5], (i, j) => add(C.at(i, j), float(1)), 'D');
  const E = compute([3, 5], (i, j) => max(D.at(i, j), float(0)), 'E');
  const f = createPrimFunc('mm', [A, B], [E]);
  const text = printPrimFunc(f);
  assert.match(text, /block C\(/);
  assert.match(text, /block D\(/);
  const sch = defaultSchedule(f, WASM);
  // D (bias) is inlined into E (relu); C accumulates in a register tile whose init is
  // decomposed, and E is folded into the tile's write-back.
  const prims = sch.trace.map((i) => i.prim);
  assert.equal(prims[0], 'compute_inline');
  for (const p of ['cache_write', 'decompose_reduction', 'reverse_compute_inline'] as const) assert.ok(prims.includes(p), `trace has ${p}`);
  assert.deepEqual(sch.blockNames().sort(), ['C', 'C_init', 'C_wb']);
  const low = lowerForCodegen(sch.func);
  const kernels = runJs(buildJsModule([low]));
  const a = Float32Array.from({ length: 12 }, (_, i) => i - 6);
  const b = Float32Array.from({ length: 20 }, (_, i) => (i % 7) - 3);
  const e = new Float32Array(15);
  kernels.mm!(a, b, e);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 5; j++) {
    let s = 0;
    for (let kk = 0; kk < 4; kk++) s += a[i * 4 + kk]! * b[kk * 5 + j]!;
    assert.equal(e[i * 5 + j], Math.max(s + 1, 0), `E[${i},${j}]`);
  }
});


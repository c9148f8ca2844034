/** BindValues: what each policy binds, where, and that the result computes the same. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { add, call, compare, div, float, int, load, makeBuffer, mul, select, variable } from '../../src/ir/expr.js';
import { type PrimFunc, type Stmt, loop, seq, store, visitStmt } from '../../src/tir/stmt.js';
import { bindValues } from '../../src/tir/transform/bind_values.js';
import { printPrimFunc } from '../../src/tir/printer.js';
import { runJsKernel } from '../helpers/run_op.js';

/** y[i, j] = x[i, j] / sqrt(s[i] + 1) + (x[i, j] > 0 ? 1 / x[i, j] : 0), over flat buffers. */
function layerScale(outer: 'serial' | 'parallel' = 'serial'): PrimFunc {
  const x = makeBuffer('x', 'float32', [32]);
  const s = makeBuffer('s', 'float32', [4]);
  const y = makeBuffer('y', 'float32', [32]);
  const i = variable('i');
  const j = variable('j');
  const at = add(mul(i, int(8)), j);
  const scale = div(float(1), call('sqrt', [add(load(s, [i]), float(1))]));
  const xv = load(x, [at]);
  const value = add(mul(xv, scale), select(compare('gt', xv, float(0)), div(float(1), xv), float(0)));
  return { name: 'k', params: [x, s, y], body: loop(i, 4, loop(j, 8, store(y, [at], value)), outer), flat: true };
}

const lets = (s: Stmt): string[] => {
  const out: string[] = [];
  visitStmt(s, (x) => { if (x.kind === 'let') out.push(x.var.name); });
  return out;
};

function run(f: PrimFunc): Float32Array {
  const x = Float32Array.from({ length: 32 }, (_, k) => (k % 5) - 2);
  const s = Float32Array.of(0, 1, 2, 3);
  const y = new Float32Array(32);
  runJsKernel(f, [x, s, y]);
  return y;
}

test("'hoist-expensive' binds the invariant 1/sqrt(s + 1) before the innermost loop, not the select's branch", () => {
  const f = layerScale();
  const b = bindValues(f, 'hoist-expensive');
  const text = printPrimFunc(b);
  assert.deepEqual(lets(b.body), ['t0'], text);
  assert.match(text, /for i in range\(4\):\n {4}let t0 = \(1\.0f? \/ sqrt\(\(s\[i\] \+ 1\.0f?\)\)\)\n {4}for j in range\(8\):/, text);
  assert.deepEqual([...run(b)], [...run(f)]);
  assert.deepEqual(lets(bindValues(layerScale('parallel'), 'hoist-expensive').body), ['t0'], 'inside a parallel loop, still per row');
});

test("'hoist-expensive' keeps loads of buffers the loop writes inside it", () => {
  const acc = makeBuffer('acc', 'float32', [4]);
  const i = variable('i');
  const j = variable('j');
  const body = loop(i, 4, loop(j, 8, store(acc, [i], add(load(acc, [i]), div(float(1), call('sqrt', [load(acc, [i])]))))));
  const f: PrimFunc = { name: 'k', params: [acc], body, flat: true };
  assert.deepEqual(lets(bindValues(f, 'hoist-expensive').body), []);
});

test("'bind-all' binds each subexpression once in the scope of its variables; memory reads stay with their statement", () => {
  const x = makeBuffer('x', 'float32', [32]);
  const y = makeBuffer('y', 'float32', [32]);
  const z = makeBuffer('z', 'float32', [32]);
  const i = variable('i');
  const j = variable('j');
  const at = add(mul(i, int(8)), j);
  const row = mul(i, int(8));
  // Two statements share the index (bound once, in j's scope) and the row offset (in i's).
  const body = loop(i, 4, loop(j, 8, seq([
    store(y, [at], mul(load(x, [at]), float(2))),
    store(z, [at], add(load(y, [at]), load(x, [row]))),
  ])));
  const f: PrimFunc = { name: 'k', params: [x, y, z], body, flat: true };
  const b = bindValues(f, 'bind-all');
  const text = printPrimFunc(b);
  const outerLets = text.split('for j')[0]!;
  assert.match(outerLets, /let t\d+ = \(i \* 8\)/, `the row offset in i's scope\n${text}`);
  assert.equal((text.match(/ = \(t\d+ \+ j\)/g) ?? []).length, 1, `the index once\n${text}`);
  assert.equal((text.match(/= x\[t\d+\]/g) ?? []).length, 2, `x is read at two places (one per statement)\n${text}`);
  assert.match(text, /y\[t\d+\] = t\d+\n\s+let t\d+ = y\[t\d+\]/, `y's read follows y's store\n${text}`);
  const xs = Float32Array.from({ length: 32 }, (_, k) => k - 10);
  const want = [new Float32Array(32), new Float32Array(32)];
  runJsKernel(f, [Float32Array.from(xs), want[0]!, want[1]!]);
  const got = [new Float32Array(32), new Float32Array(32)];
  runJsKernel(b, [Float32Array.from(xs), got[0]!, got[1]!]);
  assert.deepEqual(got.map((a) => [...a]), want.map((a) => [...a]));
});

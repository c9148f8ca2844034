import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compute, maxReduce, placeholder, reduceAxis, sum } from '../../src/te/tensor.js';
import { createPrimFunc } from '../../src/te/lower.js';
import { defaultSchedule } from '../../src/schedule/default.js';
import { parseTarget } from '../../src/target/index.js';

const WASM = parseTarget('wasm -no-fma');
import { add, eq, float, floordiv, floormod, int, mul, select, variable } from '../../src/ir/expr.js';
import { lowerForCodegen } from '../../src/tir/transform/pipeline.js';
import { printPrimFunc } from '../../src/tir/printer.js';
import { buildJsModule } from '../../src/codegen/js/codegen.js';
import { mathIntrinsics, int64Intrinsics } from '../../src/runtime/math.js';

/** A pointwise conv on blocked channels: X[C/4, P, 4] · W[O/4, C, 4] → Y[O/4, P, 4]. */
function pointwise(positions: number, outBlocks: number) {
  const x = placeholder([16, positions, 4], 'float32', 'X');
  const w = placeholder([outBlocks, 64, 4], 'float32', 'W');
  const rco = reduceAxis(16, 'rco');
  const rci = reduceAxis(4, 'rci');
  const y = compute([outBlocks, positions, 4], (o, p, oi) =>
    sum(mul(x.at(rco.var, p!, rci.var), w.at(o!, add(mul(rco.var, int(4)), rci.var), oi!)), [rco, rci]), 'Y');
  return defaultSchedule(createPrimFunc('pw', [x, w], [y]), WASM);
}

function factorsOf(sch: ReturnType<typeof pointwise>, loop: string): readonly number[] | undefined {
  for (const i of sch.trace) if (i.prim === 'split' && i.loop === loop) return i.factors;
  return undefined;
}

test('default schedule: a register tile and its unrolled rounds fit in the vector registers', () => {
  // 8 positions × 2 output blocks: a 4×2 tile (8 accumulators, 6 operand loads per round).
  // Unrolling the 4 blocked input channels inside would keep 4·6 + 8 = 32 values live
  // (V8 places a body's loads first): the rounds stay a loop outside the long reduce loop.
  const wide = pointwise(8, 2);
  assert.deepEqual(factorsOf(wide, 'Y_ax1'), [-1, 4]);
  assert.ok(!wide.trace.some((i) => i.prim === 'unroll' && i.loop === 'Y_r1'), 'rci is not unrolled in a 4x2 tile');
  // 13 positions (prime) × 2 blocks: a 1×2 tile, 3 loads per round: 4 rounds (4·3 + 2 = 14) fit.
  const narrow = pointwise(13, 2);
  assert.equal(factorsOf(narrow, 'Y_ax1'), undefined);
  assert.ok(narrow.trace.some((i) => i.prim === 'unroll' && i.loop === 'Y_r1'), 'rci is unrolled in a 1x2 tile');
});

test('default schedule: a max pool on blocked channels keeps several output positions in registers', () => {
  // MaxPool 3x3 stride 2 over X[C/4, 11, 11, 4] → [C/4, 5, 5, 4]: the one load uses every
  // axis, so rows each read their own window (5 positions per tile, not 1).
  const x = placeholder([2, 11, 11, 4], 'float32', 'X');
  const r0 = reduceAxis(3, 'r0');
  const r1 = reduceAxis(3, 'r1');
  const y = compute([2, 5, 5, 4], (c, h, w, ci) =>
    maxReduce(x.at(c!, add(mul(h!, int(2)), r0.var), add(mul(w!, int(2)), r1.var), ci!), [r0, r1]), 'Y');
  const sch = defaultSchedule(createPrimFunc('pool', [x], [y]), WASM);
  assert.deepEqual(factorsOf(sch, 'Y_ax2'), [-1, 5]);
});

test('default schedule: a compute\'s unroll axes go innermost around the vector lanes, unrolled (split by their factor)', () => {
  const x = placeholder([4, 6, 8], 'float32', 'X');
  // Coefficients chosen by e (a row sign) and by h % 2: constants in every unrolled copy.
  const y = compute([4, 6, 8], (e, h, c) => mul(x.at(e!, h!, c!), select(eq(add(e!, floormod(h!, int(2))), int(1)), float(-1), float(2))),
    'Y', { materialize: true, unroll: [{ axis: 0 }, { axis: 1, factor: 2 }] });
  const sch = defaultSchedule(createPrimFunc('u', [x], [y]), WASM);
  const loops = sch.getLoops('Y');
  assert.deepEqual(loops.map((l) => l.loopVar.name), ['Y_ax1_0', 'Y_ax2_0', 'Y_ax0', 'Y_ax1_1', 'Y_ax2_1']);
  assert.deepEqual(loops.slice(2).map((l) => l.forKind), ['unrolled', 'unrolled', 'vectorized']);
  const text = printPrimFunc(lowerForCodegen(sch.func));
  assert.ok(!text.includes('select('), text);
  const xs = Float32Array.from({ length: 192 }, (_, i) => i - 50);
  const out = new Float32Array(192);
  new Function('M', 'M64', buildJsModule([lowerForCodegen(sch.func)]))(mathIntrinsics, int64Intrinsics).u(xs, out);
  out.forEach((v, i) => {
    const e = Math.floor(i / 48), h = Math.floor(i / 8) % 6;
    assert.equal(v, xs[i]! * (e + (h % 2) === 1 ? -1 : 2), `Y[${i}]`);
  });
});

test('expression folding: a + b·(-1) is a - b and (x·(-1))·(-1) is x', () => {
  const a = variable('a', 'float32');
  const b = variable('b', 'float32');
  const d = add(a, mul(b, float(-1)));
  assert.ok(d.kind === 'binary' && d.op === 'sub' && d.a === a && d.b === b);
  assert.equal(mul(mul(a, float(-1)), float(-1)), a);
});

test('default schedule: an injective stage dividing its innermost index by c is split at c, so its vector loads need no division', () => {
  // Heads back to rows: Y[s, h·16 + d] = X[h, s, d] (a transpose + reshape of attention output).
  const x = placeholder([4, 8, 16], 'float32', 'X');
  const y = compute([8, 64], (s, j) => x.at(floordiv(j!, int(16)), s!, floormod(j!, int(16))), 'Y');
  const sch = defaultSchedule(createPrimFunc('heads', [x], [y]), WASM);
  assert.deepEqual(factorsOf(sch, 'Y_ax1'), [-1, 16]);
  const text = printPrimFunc(lowerForCodegen(sch.func));
  assert.ok(!text.includes('//') && !text.includes('%'), text);
  const xs = Float32Array.from({ length: 512 }, (_, i) => i);
  const out = new Float32Array(512);
  new Function('M', 'M64', buildJsModule([lowerForCodegen(sch.func)]))(mathIntrinsics, int64Intrinsics).heads(xs, out);
  out.forEach((v, i) => {
    const s = Math.floor(i / 64), j = i % 64;
    assert.equal(v, xs[(Math.floor(j / 16) * 8 + s) * 16 + (j % 16)], `Y[${s}, ${j}]`);
  });
});

test('default schedule: a rolled short reduce loop along the contiguous dim stays inside the long one', () => {
  // 128 input-channel blocks × 4 channels, 8 positions × 4 output blocks: a 2x4 tile leaves no
  // register room to unroll the 4 inner channels, so they stay a loop, inside the block loop
  // (outside it, each pass over the blocks would use one float of every cache line).
  const x = placeholder([128, 8, 4], 'float32', 'X');
  const w = placeholder([4, 512, 4], 'float32', 'W');
  const rco = reduceAxis(128, 'rco');
  const rci = reduceAxis(4, 'rci');
  const y = compute([4, 8, 4], (o, p, oi) =>
    sum(mul(x.at(rco.var, p!, rci.var), w.at(o!, add(mul(rco.var, int(4)), rci.var), oi!)), [rco, rci]), 'Y');
  const sch = defaultSchedule(createPrimFunc('pw', [x, w], [y]), WASM);
  const names = sch.getLoops('Y').map((l) => l.loopVar.name);
  assert.ok(!sch.trace.some((i) => i.prim === 'unroll' && i.loop === 'Y_r1'), 'the inner channels stay rolled');
  assert.ok(names.indexOf('Y_r1') > names.indexOf('Y_r0'), `inner channels inside the block loop: ${names.join(', ')}`);
});

test("default schedule: an epilogue reading an output that is written after the reduction is not folded into the reduction's write-back", () => {
  // D = A @ B + O with O = X · 2 another output, computed between the matmul and D.
  const a = placeholder([8, 16], 'float32', 'A');
  const b = placeholder([16, 16], 'float32', 'B');
  const x = placeholder([8, 16], 'float32', 'X');
  const k = reduceAxis(16, 'k');
  const c = compute([8, 16], (i, j) => sum(mul(a.at(i!, k.var), b.at(k.var, j!)), [k]), 'C');
  const o = compute([8, 16], (i, j) => mul(x.at(i!, j!), float(2)), 'O');
  const d = compute([8, 16], (i, j) => add(c.at(i!, j!), o.at(i!, j!)), 'D');
  const f = createPrimFunc('mmo', [a, b, x], [d, o]);
  const args = (): Float32Array[] => [
    Float32Array.from({ length: 128 }, (_, i) => (i % 5) - 2), Float32Array.from({ length: 256 }, (_, i) => (i % 3) - 1),
    Float32Array.from({ length: 128 }, (_, i) => i % 7), new Float32Array(128), new Float32Array(128),
  ];
  const run = (g: typeof f): Float32Array => {
    const xs = args();
    new Function('M', 'M64', buildJsModule([lowerForCodegen(g)]))(mathIntrinsics, int64Intrinsics).mmo(...xs);
    return xs[3]!;
  };
  const sch = defaultSchedule(f, WASM);
  assert.ok(sch.blockNames().includes('D'), 'D stays its own stage');
  assert.deepEqual([...run(sch.func)], [...run(f)]);
});

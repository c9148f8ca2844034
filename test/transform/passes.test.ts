import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../src/graph/builder.js';
import { FUSED_OP, type Graph, NodeError, Value } from '../../src/graph/ir.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { Executor } from '../../src/runtime/executor.js';
import { eliminateDeadCode } from '../../src/transform/dead_code.js';
import { eliminateCommonSubexpr } from '../../src/transform/cse.js';
import { foldConstants } from '../../src/transform/fold_constant.js';
import { fuseOps } from '../../src/transform/fuse_ops.js';
import { divToMul } from '../../src/transform/div_to_mul.js';
import { simplifyInference } from '../../src/transform/simplify_inference.js';
import { verifyGraph } from '../../src/transform/verify.js';
import { inferTypes } from '../../src/transform/infer_types.js';
import { optimize } from '../../src/transform/pipeline.js';
import { build } from '../../src/build/build.js';
import { printPrimFunc } from '../../src/tir/printer.js';
import '../../src/ops/index.js';

const f32 = (shape: number[]) => ({ dtype: 'float32' as const, shape });

function run(g: Graph, feeds: Record<string, Tensor>): Record<string, Tensor> {
  return Executor.loadSync(build(g, { target: 'js' }).executable).runSync(feeds);
}

async function runOn(g: Graph, feeds: Record<string, Tensor>, target: 'js' | 'wasm'): Promise<Record<string, Tensor>> {
  return (await Executor.load(build(g, { target }).executable)).run(feeds);
}

/** Runs `g` on both targets: every output of `want` has the same dims and |got - want| <= atol + rtol·|want|. */
async function matchesOnTargets(g: Graph, feeds: Record<string, Tensor>, want: Record<string, Tensor>, tol = { atol: 1e-5, rtol: 1e-4 }, what = ''): Promise<void> {
  for (const target of ['js', 'wasm'] as const) {
    const got = await runOn(g, feeds, target);
    for (const [name, w] of Object.entries(want)) {
      assert.deepEqual(got[name]!.dims, w.dims, `${target} ${what}${name} dims`);
      got[name]!.data.forEach((v, i) => assert.ok(Math.abs(Number(v) - Number(w.data[i])) <= tol.atol + tol.rtol * Math.abs(Number(w.data[i])), `${target} ${what}${name}[${i}]: ${v} vs ${w.data[i]}`));
    }
  }
}

test('DeadCodeElimination drops unused nodes and constants', () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', f32([4]));
  const c = b.constant(new Tensor('float32', [1, 2, 3, 4], [4]), 'c');
  b.constant(new Tensor('float32', [9], [1]), 'unused');
  const [dead] = b.op('Exp', [x]);
  b.op('Relu', [dead!]);
  const [y] = b.op('Add', [x, c]);
  b.output(y!, 'y');
  const g = eliminateDeadCode(b.build());
  assert.deepEqual(g.nodes.map((n) => n.op), ['Add']);
  assert.deepEqual([...g.constants.keys()].map((v) => v.name), ['c']);
  verifyGraph(g);
});

test('EliminateCommonSubexpr merges equal nodes and equal constants', () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', f32([3]));
  const c1 = b.constant(new Tensor('float32', [1, 2, 3], [3]));
  const c2 = b.constant(new Tensor('float32', [1, 2, 3], [3]));
  const [a1] = b.op('Add', [x, c1]);
  const [a2] = b.op('Add', [x, c2]);
  const [e1] = b.op('Exp', [a1!]);
  const [e2] = b.op('Exp', [a2!]);
  const [s] = b.op('Sub', [e1!, e2!]);
  const [m] = b.op('Mul', [e1!, e2!]);
  b.output(s!, 's');
  b.output(m!, 'm');
  const before = b.build();
  const after = eliminateDeadCode(eliminateCommonSubexpr(before));
  assert.deepEqual(after.nodes.map((n) => n.op), ['Add', 'Exp', 'Sub', 'Mul']);
  verifyGraph(after);
  const x0 = new Tensor('float32', [0.5, -1, 2], [3]);
  assert.deepEqual(run(after, { x: x0 }), run(before, { x: x0 }));
});

test('FoldConstant evaluates constant subgraphs with generated code', () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', f32([2]));
  const c = b.constant(new Tensor('float32', [4, 9], [2]));
  const [s] = b.op('Sqrt', [c]);
  const [k] = b.op('Add', [s!, c]);
  const [y] = b.op('Mul', [x, k!]);
  b.output(y!, 'y');
  const g = eliminateDeadCode(foldConstants(b.build()));
  assert.deepEqual(g.nodes.map((n) => n.op), ['Mul']);
  const folded = g.constants.get(g.nodes[0]!.inputs[1]!)!;
  assert.deepEqual([...folded.data], [6, 12]);
  assert.deepEqual([...run(g, { x: new Tensor('float32', [1, 2], [2]) }).y!.data], [6, 24]);
});

test('SimplifyInference removes Identity but keeps the output name', () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', f32([2]));
  const [r] = b.op('Relu', [x]);
  const [id] = b.op('Identity', [r!]);
  b.output(id!, 'final');
  const g = simplifyInference(b.build());
  assert.deepEqual(g.nodes.map((n) => n.op), ['Relu']);
  assert.deepEqual(g.outputNames, ['final']);
  assert.deepEqual(Object.keys(run(g, { x: new Tensor('float32', [-1, 1], [2]) })), ['final']);
});

test('FuseOps fuses elementwise chains but not across a value with two readers', () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', f32([8]));
  const [a] = b.op('Exp', [x]);
  const [c] = b.op('Neg', [a!]);
  const [d] = b.op('Relu', [c!]);     // d is read twice: a group ends here
  const [e] = b.op('Add', [d!, d!]);
  const [f] = b.op('Sigmoid', [d!]);
  const [g2] = b.op('Mul', [e!, f!]);
  b.output(g2!, 'out');
  const before = b.build();
  const after = fuseOps(before);
  verifyGraph(after);
  const shape = after.nodes.map((n) => (n.op === FUSED_OP ? `[${n.body!.nodes.map((m) => m.op).join(' ')}]` : n.op));
  assert.deepEqual(shape, ['[Exp Neg Relu]', '[Add Sigmoid Mul]']);
  const x0 = new Tensor('float32', Float32Array.from({ length: 8 }, (_, i) => i / 4 - 1), [8]);
  const want = run(before, { x: x0 }).out!;
  const got = run(after, { x: x0 }).out!;
  assert.equal(build(after, { target: 'js' }).kernels.length, 2);
  got.data.forEach((v, i) => assert.ok(Math.abs(Number(v) - Number(want.data[i])) < 1e-6));
});

test('verify catches a dangling value and a mistyped node', () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', f32([2]));
  const [r] = b.op('Relu', [x]);
  b.output(r!, 'r');
  const g = b.build();
  const ghost = new Value('ghost', f32([2]));
  const dangling: Graph = { ...g, nodes: [{ ...g.nodes[0]!, inputs: [ghost] }] };
  assert.throws(() => verifyGraph(dangling, 'Test'), (e: unknown) => e instanceof NodeError && /after Test: input %ghost is used before it is defined/.test(e.message));
  const mistyped: Graph = { ...g, nodes: [{ ...g.nodes[0]!, outputs: [new Value('r', f32([3]))] }] };
  assert.throws(() => verifyGraph({ ...mistyped, outputs: mistyped.nodes[0]!.outputs }), /typed float32\[3\], the shape rule says float32\[2\]/);
});

test('the pass manager times passes, dumps the IR after each and checks the opt level', () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', f32([2]));
  const [r] = b.op('Relu', [x]);
  const [e] = b.op('Exp', [r!]);
  b.output(e!, 'e');
  const dir = mkdtempSync(join(tmpdir(), 'tessera-dump-'));
  const { graph, timings } = optimize(b.build(), { optLevel: 3, dumpDir: dir, verify: true });
  assert.deepEqual(timings.map((t) => t.pass), ['InferTypes', 'SimplifyInference', 'FoldConstant', 'DivToMul', 'FoldScaleAxis', 'AlterOpLayout', 'FoldConstant', 'ConvertLayout', 'FoldConstant', 'EliminateCommonSubexpr', 'DeadCodeElimination', 'FuseOps']);
  assert.equal(graph.nodes.length, 1);
  const files = readdirSync(dir).sort();
  assert.equal(files[0], '00_input.txt');
  assert.equal(files[files.length - 1], '12_FuseOps.txt');
  assert.match(readFileSync(join(dir, '12_FuseOps.txt'), 'utf8'), /= fused\(%x\)/);
  assert.equal(optimize(b.build(), { optLevel: 0 }).timings.length, 0);
  assert.throws(() => optimize(b.build(), { optLevel: 7 }), /opt level must be an integer from 0 to 3/);
});

function rand(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff - 0.5;
  });
}

test('DivToMul turns a division by a constant float scalar into a multiplication by its reciprocal', async () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', f32([3]));
  const [q] = b.op('Div', [x, b.constant(new Tensor('float32', [Math.SQRT2], []))]);
  const [z] = b.op('Div', [q!, b.constant(new Tensor('float32', [0], []))]); // 1/0 is not finite: kept
  const [v] = b.op('Div', [z!, b.constant(new Tensor('float32', [2, 4, 8], [3]))]); // not a scalar: kept
  b.output(q!, 'q');
  b.output(v!, 'v');
  const before = b.build();
  const after = divToMul(before);
  assert.deepEqual(after.nodes.map((n) => n.op), ['Mul', 'Div', 'Div']);
  const feeds = { x: new Tensor('float32', [1, -2.5, 3e-3], [3]) };
  const want = run(before, feeds);
  for (const target of ['js', 'wasm'] as const) {
    const got = await runOn(after, feeds, target);
    got.q!.data.forEach((g, i) => assert.ok(Math.abs(Number(g) - Number(want.q!.data[i])) <= 2e-7 * Math.abs(Number(want.q!.data[i])), `${target} q[${i}]`));
    assert.deepEqual([...got.v!.data], [...want.v!.data]);
  }
});

test('SimplifyInference folds BatchNormalization (and a following scale) into the Conv weights', () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', f32([1, 3, 6, 6]));
  const w = b.constant(new Tensor('float32', rand(4 * 3 * 9, 1), [4, 3, 3, 3]));
  const bias = b.constant(new Tensor('float32', rand(4, 2), [4]));
  const bn = ['scale', 'shift', 'mean', 'var'].map((name, i) =>
    b.constant(new Tensor('float32', i === 3 ? rand(4, 7).map((v) => v + 1) : rand(4, 3 + i), [4]), name));
  const [y] = b.op('Conv', [x, w, bias], { pads: [1, 1, 1, 1], strides: [1, 1], dilations: [1, 1], group: 1, kernel_shape: [3, 3] });
  const [z] = b.op('BatchNormalization', [y!, ...bn], { epsilon: 1e-5 });
  const half = b.constant(new Tensor('float32', [0.5], [1]));
  const [s] = b.op('Mul', [z!, half]);
  const [r] = b.op('Relu', [s!]);
  b.output(r!, 'out');
  const before = b.build();
  const { graph } = optimize(before, { optLevel: 3, verify: true });
  assert.equal(graph.nodes.length, 1);
  assert.deepEqual(graph.nodes[0]!.body!.nodes.map((n) => n.op), ['Conv', 'Relu']);
  const x0 = new Tensor('float32', rand(108, 9), [1, 3, 6, 6]);
  const want = run(before, { x: x0 }).out!;
  const got = run(graph, { x: x0 }).out!;
  got.data.forEach((v, i) => assert.ok(Math.abs(Number(v) - Number(want.data[i])) <= 1e-5 + 1e-4 * Math.abs(Number(want.data[i])), `out[${i}]`));
});

test('AlterOpLayout + ConvertLayout run convs in NCHW4c with transforms only at the boundaries', () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', f32([1, 4, 6, 6]));
  const conv = (input: Value, cin: number, seed: number, group = 1): Value => {
    const w = b.constant(new Tensor('float32', rand(8 * (cin / group) * 9, seed), [8, cin / group, 3, 3]));
    const bias = b.constant(new Tensor('float32', rand(8, seed + 1), [8]));
    return b.op('Conv', [input, w, bias], { pads: [1, 1, 1, 1], strides: [1, 1], dilations: [1, 1], group, kernel_shape: [3, 3] })[0]!;
  };
  const [r1] = b.op('Relu', [conv(x, 4, 1)]);
  const c2 = conv(r1!, 8, 3);
  const [sum2] = b.op('Add', [c2, r1!]);            // residual add of two blocked values
  const dw = conv(sum2!, 8, 5, 8);                  // depthwise
  const [gap] = b.op('GlobalAveragePool', [dw]);    // needs NCHW: the blocked region ends here
  b.output(gap!, 'out');
  const before = b.build();
  const { graph } = optimize(before, { optLevel: 3, verify: true });
  const ops = graph.nodes.flatMap((n) => (n.body ? n.body.nodes : [n])).map((n) => n.op);
  assert.equal(ops.filter((o) => o === 'ConvNCHWc').length, 3);
  assert.equal(ops.filter((o) => o === 'Conv').length, 0);
  assert.equal(ops.filter((o) => o === 'LayoutTransform').length, 2, `transforms at the two boundaries: ${ops.join(' ')}`);
  const x0 = new Tensor('float32', rand(144, 11), [1, 4, 6, 6]);
  const want = run(before, { x: x0 }).out!;
  const got = run(graph, { x: x0 }).out!;
  got.data.forEach((v, i) => assert.ok(Math.abs(Number(v) - Number(want.data[i])) <= 1e-5 + 1e-4 * Math.abs(Number(want.data[i])), `out[${i}]`));
});

test('InferTypes re-derives types after an input type changes', () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', { dtype: 'float32', shape: ['batch', 4] });
  const [e] = b.op('Exp', [x]);
  const [s] = b.op('ReduceSum', [e!], { axes: [1], keepdims: 1 });
  b.output(s!, 's');
  const g = b.build();
  assert.deepEqual(g.outputs[0]!.type.shape, ['batch', 1]);
  // Bind the symbolic dim by replacing the input, then re-infer.
  const x2 = new Value('x', f32([3, 4]));
  const bound: Graph = { ...g, inputs: [x2], nodes: g.nodes.map((n) => (n.inputs[0] === x ? { ...n, inputs: [x2] } : n)) };
  const inferred = inferTypes(bound);
  verifyGraph(inferred);
  assert.deepEqual(inferred.outputs[0]!.type.shape, [3, 1]);
  assert.deepEqual(inferred.outputNames, ['s']);
  assert.deepEqual([...run(inferred, { x: new Tensor('float32', [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0], [3, 4]) }).s!.data].map((v) => +Number(v).toFixed(4)), [4, 10.8731, 4]);
});

test('AlterOpLayout stores constant matmul weights as 16-column panels (NK16n, padded), or transposed for few columns, on every target', async () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', f32([2, 3, 8]));
  const w = b.constant(new Tensor('float32', rand(8 * 32, 21), [8, 32]));
  const [mm] = b.op('MatMul', [x, w]);
  const a2 = b.input('a', f32([3, 8]));
  const wt = b.constant(new Tensor('float32', rand(48 * 8, 22), [48, 8]));       // Gemm transB=1: transposed, then blocked
  const [gemm] = b.op('Gemm', [a2, wt], { transB: 1, alpha: 1, beta: 1, transA: 0 });
  const wOdd = b.constant(new Tensor('float32', rand(8 * 20, 23), [8, 20]));     // 20 columns: the last panel zero-padded
  const [mmOdd] = b.op('MatMul', [x, wOdd]);
  const wNarrow = b.constant(new Tensor('float32', rand(8 * 10, 26), [8, 10]));  // 10 columns: stored [N, K] (transB=1)
  const [gemmNarrow] = b.op('Gemm', [a2, wNarrow], { transB: 0, alpha: 1, beta: 1, transA: 0 });
  b.output(mm!, 'mm');
  b.output(gemm!, 'gemm');
  b.output(mmOdd!, 'odd');
  b.output(gemmNarrow!, 'narrow');
  const before = b.build();
  const { graph } = optimize(before, { optLevel: 3, verify: true });
  const layouts = graph.nodes.flatMap((n) => (n.body ? n.body.nodes : [n])).filter((n) => n.op === 'MatMul' || n.op === 'Gemm')
    .map((n) => `${n.op}:${String(n.attrs['weight_layout'] ?? 'KN')}${n.attrs['weight_columns'] ? `/${String(n.attrs['weight_columns'])}` : ''}${n.attrs['transB'] ? ':T' : ''}`);
  assert.deepEqual(layouts.sort(), ['Gemm:KN:T', 'Gemm:NK16n', 'MatMul:NK16n', 'MatMul:NK16n/20']);
  const feeds = { x: new Tensor('float32', rand(48, 24), [2, 3, 8]), a: new Tensor('float32', rand(24, 25), [3, 8]) };
  await matchesOnTargets(graph, feeds, run(before, feeds));
});

test('ConvertLayout runs pools on blocked channels (layout NCHW4c), a windowed pool blocking a plain input too', async () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', f32([1, 8, 9, 9]));
  const [mp] = b.op('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], ceil_mode: 0 });
  const w = b.constant(new Tensor('float32', rand(8 * 8 * 9, 31), [8, 8, 3, 3]));
  const [conv] = b.op('Conv', [mp!, w], { pads: [1, 1, 1, 1], strides: [1, 1], dilations: [1, 1], group: 1, kernel_shape: [3, 3] });
  const [ap] = b.op('AveragePool', [conv!], { kernel_shape: [2, 2], strides: [1, 1], pads: [0, 0, 1, 1], dilations: [1, 1], ceil_mode: 0, count_include_pad: 0 });
  const [gmp] = b.op('GlobalMaxPool', [ap!]);
  const [gap] = b.op('GlobalAveragePool', [ap!]);
  b.output(gmp!, 'gmp');
  b.output(gap!, 'gap');
  const before = b.build();
  const { graph } = optimize(before, { optLevel: 3, verify: true });
  const pools = graph.nodes.flatMap((n) => (n.body ? n.body.nodes : [n])).filter((n) => n.op.includes('Pool'));
  assert.deepEqual(pools.map((n) => `${n.op}:${String(n.attrs['layout'])}`).sort(),
    ['AveragePool:NCHW4c', 'GlobalAveragePool:NCHW4c', 'GlobalMaxPool:NCHW4c', 'MaxPool:NCHW4c']);
  const feeds = { x: new Tensor('float32', rand(8 * 81, 32), [1, 8, 9, 9]) };
  await matchesOnTargets(graph, feeds, run(before, feeds));
});

test('blocked convs over a width with no small divisor (7) accumulate over 8 columns (3x3) or 52 flattened positions (1x1) and drop the extra ones', async () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', f32([1, 8, 7, 7]));
  const w1 = b.constant(new Tensor('float32', rand(8 * 8 * 9, 41), [8, 8, 3, 3]));
  const bias = b.constant(new Tensor('float32', rand(8, 42), [8]));
  const [c1] = b.op('Conv', [x, w1, bias], { pads: [1, 1, 1, 1], strides: [1, 1], dilations: [1, 1], group: 1, kernel_shape: [3, 3] });
  const [r] = b.op('Relu', [c1!]);
  const w2 = b.constant(new Tensor('float32', rand(8 * 8, 43), [8, 8, 1, 1]));
  const [c2] = b.op('Conv', [r!, w2], { pads: [0, 0, 0, 0], strides: [1, 1], dilations: [1, 1], group: 1, kernel_shape: [1, 1] }); // no bias, no pads
  b.output(c2!, 'out');
  const before = b.build();
  const { graph } = optimize(before, { optLevel: 3, verify: true });
  const feeds = { x: new Tensor('float32', rand(8 * 49, 44), [1, 8, 7, 7]) };
  const want = run(before, feeds);
  assert.deepEqual(want.out!.dims, [1, 8, 7, 7]);
  await matchesOnTargets(graph, feeds, want);
  const kernels = build(graph, { target: 'wasm' }).kernels;
  const accs = kernels.map((k) => /ConvNCHWc_acc = alloc_global\(float32, \[(\d+)\]\)/.exec(printPrimFunc(k.func))?.[1]).filter((a) => a !== undefined);
  assert.deepEqual(accs, ['448', '416'], 'the 3x3 conv accumulates [1, 2, 7, 8, 4], the 1x1 conv [1, 2, 1, 52, 4]');
});

test('a pointwise conv over 13x13 accumulates over 172 flattened positions in register tiles of several positions', async () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', f32([1, 8, 13, 13]));
  const w1 = b.constant(new Tensor('float32', rand(8 * 8, 45), [8, 8, 1, 1]));
  const [c0] = b.op('Conv', [x, w1], { pads: [0, 0, 0, 0], strides: [1, 1], dilations: [1, 1], group: 1, kernel_shape: [1, 1] });
  const w2 = b.constant(new Tensor('float32', rand(16 * 8, 46), [16, 8, 1, 1]));
  const bias = b.constant(new Tensor('float32', rand(16, 47), [16]));
  const [c1] = b.op('Conv', [c0!, w2, bias], { pads: [0, 0, 0, 0], strides: [1, 1], dilations: [1, 1], group: 1, kernel_shape: [1, 1] });
  const [r] = b.op('Relu', [c1!]);
  b.output(r!, 'out');
  const before = b.build();
  const { graph } = optimize(before, { optLevel: 3, verify: true });
  const feeds = { x: new Tensor('float32', rand(8 * 169, 48), [1, 8, 13, 13]) };
  const want = run(before, feeds);
  assert.deepEqual(want.out!.dims, [1, 16, 13, 13]);
  await matchesOnTargets(graph, feeds, want);
  const kernels = build(graph, { target: 'wasm' }).kernels.filter((k) => k.name.includes('ConvNCHWc'));
  assert.equal(kernels.length, 2);
  for (const k of kernels) {
    const text = printPrimFunc(k.func);
    assert.match(text, /ConvNCHWc_pad = alloc_global\(float32, \[1376\]\)/, 'the input as [1, 2, 1, 172, 4]');
    assert.match(k.trace.map((t) => JSON.stringify(t)).join(), /"loop":"ConvNCHWc_acc_ax3","factors":\[-1,[24]\]/, 'register tiles of several positions');
  }
});

test('ConvertLayout runs 3x3 stride-1 convs as Winograd F(2x2, 3x3), weights transformed at compile time', async () => {
  for (const [h, w, pads, bias] of [[7, 7, [1, 1, 1, 1], true], [9, 6, [0, 0, 0, 0], false], [8, 5, [1, 0, 0, 1], true]] as const) {
    const b = new GraphBuilder('g');
    const x = b.input('x', f32([1, 16, h, w]));
    const wt = b.constant(new Tensor('float32', rand(32 * 16 * 9, 51), [32, 16, 3, 3]));
    const inputs = [x, wt, ...(bias ? [b.constant(new Tensor('float32', rand(32, 52), [32]))] : [])];
    const [c] = b.op('Conv', inputs, { pads: [...pads], strides: [1, 1], dilations: [1, 1], group: 1, kernel_shape: [3, 3] });
    const [r] = b.op('Relu', [c!]);
    b.output(r!, 'out');
    const before = b.build();
    const { graph } = optimize(before, { optLevel: 3, verify: true });
    const ops = graph.nodes.flatMap((n) => (n.body ? n.body.nodes : [n])).map((n) => n.op);
    assert.ok(ops.includes('ConvWinograd'), ops.join(' '));
    assert.ok(!ops.includes('WinogradWeightTransform'), 'the weight transform is folded into a constant');
    const feeds = { x: new Tensor('float32', rand(16 * h * w, 53), [1, 16, h, w]) };
    // Winograd sums in another order than the direct conv: the whole-model tolerance.
    await matchesOnTargets(graph, feeds, run(before, feeds), { atol: 1e-4, rtol: 1e-3 }, `${h}x${w} `);
    // The transforms fold to adds and subtracts: 16 unrolled V stores per tile and channel
    // vector, 4 output stores per tile, none with a select or a table left.
    const kernel = build(graph, { target: 'wasm' }).kernels.find((k) => k.name.includes('ConvWinograd'))!;
    const lines = printPrimFunc(kernel.func).split('\n');
    const vStores = lines.filter((l) => /^\s*Winograd_V\[/.test(l));
    const yStores = lines.filter((l) => /^\s*ConvWinograd(_acc)?\[/.test(l));
    assert.equal(vStores.length, 16);
    assert.equal(yStores.length, 4);
    for (const l of [...vStores, ...yStores]) assert.ok(!l.includes('select('), l);
  }
});

test('a conv on a plain 3-channel input writes blocked output directly (ConvNCHWc with in_layout NCHW)', async () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', f32([1, 3, 11, 10]));
  const w = b.constant(new Tensor('float32', rand(8 * 3 * 9, 61), [8, 3, 3, 3]));
  const bias = b.constant(new Tensor('float32', rand(8, 62), [8]));
  const [c] = b.op('Conv', [x, w, bias], { pads: [1, 1, 1, 1], strides: [2, 2], dilations: [1, 1], group: 1, kernel_shape: [3, 3] });
  const [r] = b.op('Relu', [c!]);
  const [mp] = b.op('MaxPool', [r!], { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], ceil_mode: 0 });
  b.output(mp!, 'out');
  const before = b.build();
  const { graph } = optimize(before, { optLevel: 3, verify: true });
  const convs = graph.nodes.flatMap((n) => (n.body ? n.body.nodes : [n])).filter((n) => n.op.startsWith('Conv'));
  assert.deepEqual(convs.map((n) => `${n.op}:${String(n.attrs['in_layout'])}`), ['ConvNCHWc:NCHW']);
  const feeds = { x: new Tensor('float32', rand(3 * 110, 63), [1, 3, 11, 10]) };
  await matchesOnTargets(graph, feeds, run(before, feeds));
});

test('FoldConstant evaluates large float32 nodes on wasm with the same result as on js', () => {
  const b = new GraphBuilder('g');
  const w = b.constant(new Tensor('float32', rand(256 * 300, 71), [256, 300]));
  const [t] = b.op('Transpose', [w], { perm: [1, 0] });
  const [e] = b.op('Exp', [t!]);
  const x = b.input('x', f32([300, 256]));
  const [y] = b.op('Add', [x, e!]);
  b.output(y!, 'out');
  const g = b.build();
  const folded = foldConstants(foldConstants(g));
  assert.deepEqual(folded.nodes.map((n) => n.op), ['Add'], 'Transpose and Exp fold into one constant');
  const c = folded.constants.get(folded.nodes[0]!.inputs[1]!)!;
  const src = g.constants.get(w)!;
  for (const [i, j] of [[0, 0], [17, 201], [299, 255]] as const) {
    const want = Math.fround(Math.exp(Number(src.data[j * 300 + i])));
    assert.ok(Math.abs(Number(c.data[i * 256 + j]) - want) <= 1e-6 * want, `exp(W^T)[${i}, ${j}]`);
  }
});

test('ConvertLayout runs grouped convs with whole channel blocks per group blocked (up to the target\'s limit), with the same results', async () => {
  // [in, out, groups, stride]: 4 and 8 input channels per group blocked; 32 per group stays NCHW on CPU targets.
  for (const [ci, co, groups, stride, op] of [[16, 32, 4, 1, 'ConvNCHWc'], [32, 32, 4, 2, 'ConvNCHWc'], [24, 48, 3, 1, 'ConvNCHWc'], [64, 64, 2, 1, 'Conv']] as const) {
    const b = new GraphBuilder('g');
    const x = b.input('x', f32([1, ci, 9, 9]));
    const w = b.constant(new Tensor('float32', rand(co * (ci / groups) * 9, 81), [co, ci / groups, 3, 3]));
    const bias = b.constant(new Tensor('float32', rand(co, 82), [co]));
    const [c] = b.op('Conv', [x, w, bias], { pads: [1, 1, 1, 1], strides: [stride, stride], dilations: [1, 1], group: groups, kernel_shape: [3, 3] });
    const [r] = b.op('Relu', [c!]);
    b.output(r!, 'out');
    const before = b.build();
    const { graph } = optimize(before, { optLevel: 3, verify: true });
    const convs = graph.nodes.flatMap((n) => (n.body ? n.body.nodes : [n])).filter((n) => n.op.startsWith('Conv'));
    assert.deepEqual(convs.map((n) => n.op), [op], `${ci}->${co} in ${groups} groups`);
    const feeds = { x: new Tensor('float32', rand(ci * 81, 83), [1, ci, 9, 9]) };
    await matchesOnTargets(graph, feeds, run(before, feeds));
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { Attrs } from '../../src/graph/ir.js';
import { Tensor } from '../../src/runtime/tensor.js';
import type { DType } from '../../src/runtime/dtype.js';
import { FoldKernels, copyNode, foldConstants } from '../../src/transform/fold_constant.js';
import { alterOpLayout } from '../../src/transform/alter_op_layout.js';
import { convertLayout } from '../../src/transform/convert_layout.js';
import { eliminateCommonSubexpr } from '../../src/transform/cse.js';
import { eliminateDeadCode } from '../../src/transform/dead_code.js';
import { parseTarget } from '../../src/target/index.js';
import { rng } from '../helpers/random.js';
import '../../src/ops/index.js';

/**
 * Random data of a dtype (floats with fractions, ints of either sign, float16 bit patterns of
 * finite values: a kernel converts float16 through float32, which makes NaN payloads canonical,
 * where a copy keeps the bits).
 */
function randomTensor(dtype: DType, dims: number[], seed: number): Tensor {
  const r = rng(seed);
  const n = dims.reduce((a, b) => a * b, 1);
  const ints = Array.from({ length: n }, () => Math.floor(r(-100, 100)));
  switch (dtype) {
    case 'float32': return new Tensor(dtype, Float32Array.from({ length: n }, () => r()), dims);
    case 'float64': return new Tensor(dtype, Float64Array.from({ length: n }, () => r()), dims);
    case 'float16': return new Tensor(dtype, Uint16Array.from(ints, (v) => ((v + 100) * 150) | ((v & 1) << 15)), dims);
    case 'int64': return new Tensor(dtype, BigInt64Array.from(ints, (v) => BigInt(v) * 3000000000n), dims);
    case 'int32': return new Tensor(dtype, Int32Array.from(ints), dims);
    case 'bool': return new Tensor(dtype, Uint8Array.from(ints, (v) => (v > 0 ? 1 : 0)), dims);
    default: throw new Error(dtype);
  }
}

function bytes(t: Tensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** A node of `op` on constant inputs, with those inputs. */
function constantNode(op: string, inputs: Tensor[], attrs: Attrs) {
  const b = new GraphBuilder('g');
  b.op(op, inputs.map((t) => b.constant(t)), attrs);
  return b.build().nodes[0]!;
}

const RELAYOUTS: [string, DType, number[], Attrs][] = [
  // AlterOpLayout's conv weight OIHW -> OHWI4o, its NK16n panels of B[K, N] and of a transB [N, K].
  ['Transpose', 'float32', [8, 4, 6, 3, 3], { perm: [0, 3, 4, 2, 1] }],
  ['Transpose', 'float32', [40, 3, 16], { perm: [1, 0, 2] }],
  ['Transpose', 'float32', [3, 16, 40], { perm: [0, 2, 1] }],
  ['Transpose', 'float32', [70, 65], { perm: [1, 0] }],
  // Large float32 nodes fold on wasm (FoldConstant's target for them).
  ['Transpose', 'float32', [300, 256], { perm: [1, 0] }],
  ['Transpose', 'float32', [256, 16, 20], { perm: [0, 2, 1] }],
  ['Transpose', 'float64', [3, 4, 5], { perm: [2, 0, 1] }],
  ['Transpose', 'int64', [3, 4, 5], { perm: [1, 2, 0] }],
  ['Transpose', 'float16', [3, 4, 5], { perm: [2, 1, 0] }],
  ['Transpose', 'bool', [3, 4, 5], { perm: [1, 0, 2] }],
  ['LayoutTransform', 'float32', [2, 8, 5, 3], { src_layout: 'NCHW', dst_layout: 'NCHW4c' }],
  ['LayoutTransform', 'float32', [2, 2, 5, 3, 4], { src_layout: 'NCHW4c', dst_layout: 'NCHW' }],
  ['Pad', 'float32', [40, 12], { pads: [0, 0, 0, 4], mode: 'constant' }],
  ['Pad', 'float32', [5, 7], { pads: [1, 2, 3, 4], mode: 'constant', value: 1.5 }],
  ['Pad', 'int64', [5, 7], { pads: [2, -1, 0, 3], mode: 'constant', value: -7 }],
  ['Slice', 'float32', [10, 12], { starts: [1, 10], ends: [9, 0], axes: [0, 1], steps: [2, -3] }],
  ['Expand', 'int32', [3, 1], { shape: [2, 3, 4] }],
  ['Tile', 'float32', [2, 3], { repeats: [3, 2] }],
  ['DepthToSpace', 'float32', [1, 8, 2, 3], { blocksize: 2, mode: 'DCR' }],
  ['Identity', 'float32', [3, 7], {}],
];

test('constant re-layouts fold as strided copies, bit for bit what their generated kernels compute', () => {
  RELAYOUTS.forEach(([op, dtype, dims, attrs], i) => {
    const x = randomTensor(dtype, dims, 17 + i);
    const n = constantNode(op, [x], attrs);
    const direct = copyNode(n, [x]);
    assert.ok(direct, `${op} ${JSON.stringify(attrs)} folds as a copy`);
    const kernels = new FoldKernels();
    const [kernel] = kernels.run(n, [x]);
    assert.equal(kernels.built, 1);
    assert.deepEqual(direct.dims, kernel!.dims, `${op} dims`);
    assert.equal(direct.type, kernel!.type);
    assert.deepEqual(bytes(direct), bytes(kernel!), `${op} ${dtype} ${JSON.stringify(attrs)}: same bytes`);
  });
});

test('nodes that compute (or read through clamped or reflected indices) are not copies', () => {
  const x = randomTensor('float32', [4, 6], 3);
  for (const [op, attrs] of [['Pad', { pads: [1, 1, 1, 1], mode: 'reflect' }], ['Pad', { pads: [1, 1, 1, 1], mode: 'edge' }], ['Exp', {}], ['Cast', { to: 'float64' }]] as const) {
    assert.equal(copyNode(constantNode(op, [x], attrs), [x]), undefined, op);
  }
  const y = randomTensor('float32', [4, 6], 4);
  assert.equal(copyNode(constantNode('Concat', [x, y], { axis: 0 }), [x, y]), undefined, 'Concat');
});

test('FoldConstant re-lays constant conv and matmul weights without building a kernel', () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', { dtype: 'float32', shape: [1, 8, 6, 6] });
  const w = b.constant(randomTensor('float32', [16, 8, 3, 3], 1));
  const [c] = b.op('Conv', [x, w], { pads: [1, 1, 1, 1] });
  const [f] = b.op('Flatten', [c!], { axis: 1 });
  const fc = b.constant(randomTensor('float32', [20, 16 * 36], 2));
  const [y] = b.op('Gemm', [f!, fc], { transB: 1 });
  b.output(y!, 'y');
  const altered = alterOpLayout(b.build(), { target: parseTarget('wasm') });
  assert.ok(altered.nodes.some((n) => n.op === 'Transpose'), 'AlterOpLayout re-lays the weights with graph ops');
  const kernels = new FoldKernels();
  const folded = eliminateDeadCode(foldConstants(altered, kernels));
  assert.deepEqual(folded.nodes.map((n) => n.op), ['Conv', 'Flatten', 'Gemm']);
  assert.equal(kernels.built, 0, 'no kernel was generated to fold the re-layouts');
  // The Gemm's NK16n panel [N/16, K, 16] (N = 20 padded to 32) of the transB weight B[N, K].
  const gemm = folded.nodes[2]!;
  const panel = folded.constants.get(gemm.inputs[1]!)!;
  const src = folded.constants.get(fc) ?? altered.constants.get(fc)!;
  assert.deepEqual(panel.dims, [2, 576, 16]);
  for (const [nb, k, l] of [[0, 0, 0], [0, 575, 15], [1, 17, 3], [1, 300, 5]] as const) {
    const col = nb * 16 + l;
    assert.equal(panel.data[(nb * 576 + k) * 16 + l], col < 20 ? src.data[col * 576 + k] : 0, `panel[${nb}, ${k}, ${l}]`);
  }
});

test('FoldConstant builds one kernel per signature: the Winograd weight transforms of layers of one shape share it', () => {
  const b = new GraphBuilder('g');
  let v = b.input('x', { dtype: 'float32', shape: [1, 16, 8, 8] });
  for (let i = 0; i < 3; i++) v = b.op('Conv', [v, b.constant(randomTensor('float32', [16, 16, 3, 3], 10 + i))], { pads: [1, 1, 1, 1] })[0]!;
  b.output(v, 'y');
  const target = parseTarget('wasm');
  const blocked = convertLayout(eliminateDeadCode(foldConstants(alterOpLayout(b.build(), { target }))), { target });
  assert.equal(blocked.nodes.filter((n) => n.op === 'WinogradWeightTransform').length, 3);
  const kernels = new FoldKernels();
  const folded = eliminateDeadCode(foldConstants(blocked, kernels));
  assert.equal(folded.nodes.filter((n) => n.op === 'WinogradWeightTransform').length, 0);
  assert.equal(kernels.built, 1, 'three transforms of one signature, one kernel');
  // Each layer got its own weights' transform: the three constants differ.
  const us = folded.nodes.filter((n) => n.op === 'ConvWinograd').map((n) => bytes(folded.constants.get(n.inputs[1]!)!));
  assert.equal(us.length, 3);
  assert.notDeepEqual(us[0], us[1]);
  assert.notDeepEqual(us[1], us[2]);
  // And each is what a kernel built for that node alone computes.
  const alone = eliminateDeadCode(foldConstants(blocked));
  alone.nodes.filter((n) => n.op === 'ConvWinograd').forEach((n, i) => assert.deepEqual(bytes(alone.constants.get(n.inputs[1]!)!), us[i]));
});

test('EliminateCommonSubexpr merges equal large constants, not ones differing in one byte or in dims', () => {
  const b = new GraphBuilder('g');
  const x = b.input('x', { dtype: 'float32', shape: [256, 512] });
  const data = randomTensor('float32', [256, 512], 5);
  const same = new Tensor('float32', data.data.slice(), [256, 512]);
  const last = data.data.slice() as Float32Array;
  last[last.length - 1] = last[last.length - 1]! + 1;
  const offByOne = new Tensor('float32', last, [256, 512]);
  const otherDims = new Tensor('float32', data.data.slice(), [512, 256]);
  const consts = [data, same, offByOne].map((t) => b.constant(t));
  const outs = consts.map((c) => b.op('Add', [x, c])[0]!);
  const [r] = b.op('Reshape', [b.constant(otherDims)], { shape: [256, 512] });
  outs.push(b.op('Add', [x, r!])[0]!);
  outs.forEach((o, i) => b.output(o, `y${i}`));
  const g = eliminateDeadCode(eliminateCommonSubexpr(b.build()));
  const adds = g.nodes.filter((n) => n.op === 'Add');
  assert.equal(adds.length, 3, 'the two equal constants merged, so their Adds did too');
  assert.equal(g.outputs[0], g.outputs[1]);
  assert.notEqual(g.outputs[1], g.outputs[2]);
  assert.equal(g.constants.size, 3);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importOnnx } from '../../../src/frontend/onnx/importer.js';
import { printGraph } from '../../../src/graph/printer.js';
import { NodeError } from '../../../src/graph/ir.js';
import { Tensor } from '../../../src/runtime/tensor.js';
import { makeModel } from '../../../src/frontend/onnx/model_builder.js';

const f32 = (name: string, shape: (number | string)[]) => ({ name, dtype: 'float32' as const, shape });

test('imports initializers, Constant nodes and typed symbolic inputs', () => {
  const bytes = makeModel({
    nodes: [
      { op: 'Constant', inputs: [], outputs: ['c'], attrs: { value: new Tensor('float32', [2], []) } },
      { op: 'Mul', inputs: ['x', 'c'], outputs: ['y'] },
      { op: 'Add', inputs: ['y', 'bias'], outputs: ['z'] },
      { op: 'Relu', inputs: ['z'], outputs: ['out'] },
    ],
    inputs: [f32('x', ['batch', 4])],
    outputs: [f32('out', ['batch', 4])],
    initializers: { bias: new Tensor('float32', [1, 2, 3, 4], [4]) },
  });
  const g = importOnnx(bytes);
  assert.equal(g.nodes.length, 3);
  assert.deepEqual(g.inputs[0]!.type.shape, ['batch', 4]);
  assert.deepEqual(g.outputs[0]!.type, { dtype: 'float32', shape: ['batch', 4] });
  assert.equal(g.outputs[0]!.name, 'out');
  assert.equal(g.constants.size, 2);
  const text = printGraph(g);
  assert.match(text, /%out = Relu\(%z\) : float32\[batch, 4\]/);
  // dimValues binds symbolic dims at import.
  const g2 = importOnnx(bytes, { dimValues: { batch: 3 } });
  assert.deepEqual(g2.outputs[0]!.type.shape, [3, 4]);
});

function expectNodeError(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(() => importOnnx(bytes), (e: unknown) => {
    assert.ok(e instanceof NodeError, `expected NodeError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test('unsupported ops, attributes, opsets and bad shapes name the node', () => {
  expectNodeError(makeModel({
    nodes: [{ op: 'FancyOp', inputs: ['x'], outputs: ['y'], name: 'my_fancy' }],
    inputs: [f32('x', [2])], outputs: [f32('y', [2])],
  }), /node 'my_fancy' \(FancyOp, opset 17\): FancyOp is not an operator of domain ai.onnx/);
  expectNodeError(makeModel({
    nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'], name: 'r', attrs: { weird: 3 } }],
    inputs: [f32('x', [2])], outputs: [f32('y', [2])],
  }), /node 'r' \(Relu, opset 17\): Relu-14 has no attribute 'weird' \(it takes none\)/);
  expectNodeError(makeModel({
    nodes: [{ op: 'Add', inputs: ['x', 'w'], outputs: ['y'], name: 'add0' }],
    inputs: [f32('x', [2, 3]), f32('w', [4])], outputs: [f32('y', [2, 3])],
  }), /node 'add0' \(Add, opset 17\): shapes \[2, 3\] and \[4\] cannot be broadcast/);
  expectNodeError(makeModel({
    nodes: [{ op: 'Where', inputs: ['c', 'x', 'x'], outputs: ['y'], name: 'old' }],
    inputs: [{ name: 'c', dtype: 'bool', shape: [2] }, f32('x', [2])], outputs: [f32('y', [2])], opset: 8,
  }), /Where is defined from opset 9 of ai.onnx; the model imports opset 8/);
  expectNodeError(makeModel({
    nodes: [{ op: 'Relu', inputs: ['nowhere'], outputs: ['y'], name: 'r' }],
    inputs: [f32('x', [2])], outputs: [f32('y', [2])],
  }), /node 'r' \(Relu, opset 17\): input 0 'nowhere' is not defined \(not a graph input, an initializer or an output of an earlier node\)/);
  expectNodeError(makeModel({
    nodes: [{ op: 'Exp', inputs: ['x'], outputs: ['y'], name: 'e' }],
    inputs: [{ name: 'x', dtype: 'int32', shape: [2] }], outputs: [f32('y', [2])],
  }), /node 'e' \(Exp, opset 17\): input 0 \('input'\) is int32; Exp-13 allows T in \{bfloat16, float16, float, double\}/);
});

test('malformed bytes are a clear format error', () => {
  assert.throws(() => importOnnx(new Uint8Array([1, 2, 3, 255, 255, 255, 7])), /not a valid ONNX model/);
});

test('a model whose bytes the import owns keeps raw_data in place (aligned in place), with the same values as a copying import', async () => {
  const { decodeModel, tensorFromProto } = await import('../../../src/frontend/onnx/proto.js');
  const initializers: Record<string, Tensor> = {};
  // Sizes and names of several lengths put the payloads at every alignment.
  for (let i = 0; i < 12; i++) {
    initializers[`w${'x'.repeat(i)}`] = new Tensor('float32', Float32Array.from({ length: 3 + 37 * i }, (_, j) => j * 0.25 - i), [3 + 37 * i]);
    initializers[`d${'y'.repeat(i)}`] = new Tensor('float64', Float64Array.from({ length: 40 + i }, (_, j) => j / 3), [40 + i]);
    initializers[`b${'z'.repeat(i)}`] = new Tensor('bool', Uint8Array.from({ length: 5 + i }, (_, j) => j % 2), [5 + i]);
  }
  const names = Object.keys(initializers);
  const bytes = makeModel({
    nodes: names.map((n, i) => ({ op: 'Identity', inputs: [n], outputs: [`o${i}`] })),
    inputs: [],
    outputs: names.map((n, i) => ({ name: `o${i}`, dtype: initializers[n]!.type, shape: [...initializers[n]!.dims] })),
    initializers,
  });
  const copied = importOnnx(bytes);
  const owned = new Uint8Array(bytes);
  const inPlace = importOnnx(owned, { ownsBytes: true });
  const byName = (g: typeof copied) => new Map([...g.constants].map(([v, t]) => [v.name, t]));
  const a = byName(copied), b = byName(inPlace);
  for (const n of names) {
    assert.deepEqual([...b.get(n)!.data], [...initializers[n]!.data], `${n} in place`);
    assert.deepEqual([...a.get(n)!.data], [...initializers[n]!.data], `${n} copied`);
    assert.notEqual(a.get(n)!.data.buffer, bytes.buffer, 'a copying import does not view the caller\'s bytes');
    // A payload of 128 bytes or more has at least 3 bytes of tag and length before it: any
    // 4-byte element type moves into alignment (8-byte types only when 3 bytes suffice).
    const t = initializers[n]!;
    if (t.type === 'bool' || (t.type === 'float32' && t.size >= 32)) assert.equal(b.get(n)!.data.buffer, owned.buffer, `${n} stays in the owned bytes`);
  }
  // A payload moved into alignment is found there when its proto is converted again (an unrolled loop body).
  const model = decodeModel(new Uint8Array(bytes));
  for (const tp of model.graph!.initializer!) {
    const first = tensorFromProto(tp, { ownsBytes: true });
    const again = tensorFromProto(tp, { ownsBytes: true });
    assert.deepEqual([...again.data], [...first.data], `${tp.name} converted twice`);
    assert.deepEqual([...first.data], [...initializers[tp.name!]!.data], `${tp.name}`);
  }
});

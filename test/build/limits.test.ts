import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compile } from '../../src/driver.js';
import { Executor } from '../../src/runtime/executor.js';
import { makeModel } from '../helpers/onnx_model.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { LimitError } from '../../src/runtime/error.js';
import { NodeError } from '../../src/graph/ir.js';
import { bytesText } from '../../src/runtime/limits.js';
import { importOnnx } from '../../src/frontend/onnx/importer.js';
import { onnx } from '../../src/frontend/onnx/proto.js';

const f32 = (name: string, shape: (number | string)[]) => ({ name, dtype: 'float32' as const, shape });
const TARGETS = ['js', 'wasm'] as const;

function refuses(bytes: Uint8Array, cls: typeof LimitError | typeof NodeError, pattern: RegExp): void {
  for (const target of TARGETS) {
    assert.throws(() => compile(bytes, { target }), (e: unknown) => {
      assert.ok(e instanceof cls, `${target}: expected ${cls.name}, got ${String(e)}`);
      assert.match((e as Error).message, pattern);
      return true;
    });
  }
}

const relu = (dim: number): Uint8Array => makeModel({
  nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }], inputs: [f32('x', [dim])], outputs: [f32('y', [dim])],
});

const conv = (pads: number[]): Uint8Array => makeModel({
  nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], name: 'c', attrs: { pads } }],
  inputs: [f32('x', [1, 1, 4, 4])], outputs: [f32('y', [1, 1, 4, 4])],
  initializers: { w: new Tensor('float32', new Float32Array(9), [1, 1, 3, 3]) },
});

/** A model whose one int attribute carries an exact int64 (makeModel's numbers stop at 2^53). */
function withIntAttr(bytes: Uint8Array, name: string, value: bigint): Uint8Array {
  const m = onnx.ModelProto.decode(bytes);
  const a = m.graph!.node![0]!.attribute!.find((x) => x.name === name)!;
  a.i = BigInt.asIntN(64, value).toString() as unknown as number; // protobufjs takes decimal strings for int64
  return onnx.ModelProto.encode(m).finish();
}

describe('limits instead of crashes', () => {
  it('bytesText states sizes readably', () => {
    assert.equal(bytesText(2 ** 31), '2 GiB');
    assert.equal(bytesText(2.4e9), '2.24 GiB');
    assert.equal(bytesText(1234), '1,234 bytes');
  });

  it('graph input dims beyond what Tessera supports are a LimitError naming the input', () => {
    refuses(relu(2 ** 31), LimitError, /graph input 'x' \(float32\[2147483648\]\) needs 8 GiB; Tessera supports at most 2 GiB of memory per model/);
    refuses(relu(2 ** 40), LimitError, /graph input 'x': dim 1099511627776 at axis 0 is beyond any tensor Tessera supports \(at most 2 GiB per model\)/);
    const m = onnx.ModelProto.decode(relu(1));
    m.graph!.input![0]!.type!.tensorType!.shape!.dim![0]!.dimValue = (2n ** 62n).toString() as unknown as number;
    refuses(onnx.ModelProto.encode(m).finish(), LimitError, /dim 4611686018427387904 at axis 0 is beyond any tensor/);
  });

  it('tensors of up to 64 dims compile and run; more are a LimitError naming the value', async () => {
    const rank = (n: number): Uint8Array => makeModel({
      nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'], name: 'r' }], inputs: [f32('x', new Array<number>(n).fill(1))], outputs: [f32('y', new Array<number>(n).fill(1))],
    });
    for (const target of TARGETS) {
      const r = compile(rank(64), { target });
      const exec = await Executor.load(r.executable);
      const y = exec.runSync({ x: new Tensor('float32', Float32Array.of(-2), new Array<number>(64).fill(1)) })['y']!;
      assert.deepEqual([y.dims.length, y.data[0]], [64, 0]);
      await exec.dispose();
    }
    refuses(rank(65), LimitError, /graph input 'x' would have 65 dims; Tessera supports tensors of at most 64/);
  });

  it('node outputs beyond the arena, or with invalid shapes, name the node', () => {
    refuses(conv([2 ** 40, 0, 0, 0]), LimitError, /node 'c' \(Conv, opset 17\): output 0 \(float32\[1, 1, 1099511627778, 2\]\) needs [\d.]+ GiB; Tessera supports at most 2 GiB/);
    refuses(withIntAttr(makeModel({
      nodes: [{ op: 'Flatten', inputs: ['x'], outputs: ['y'], name: 'f', attrs: { axis: 1 } }], inputs: [f32('x', [2, 3])], outputs: [f32('y', [2, 3])],
    }), 'axis', 2n ** 63n - 1n), NodeError, /node 'f' \(Flatten, opset 17\): attribute 'axis' is 9223372036854775807, beyond the integers Tessera handles/);
  });

  it('attributes that would need index constants beyond 32 bits are refused, not compiled wrong', () => {
    const bytes = makeModel({
      nodes: [{ op: 'ConvTranspose', inputs: ['x', 'w'], outputs: ['y'], name: 'ct', attrs: { strides: [3, 2 ** 40], output_shape: [10, 8] } }],
      inputs: [f32('x', [1, 1, 3, 3])], outputs: [f32('y', [1, 2, 10, 8])],
      initializers: { w: new Tensor('float32', new Float32Array(18).fill(1), [1, 2, 3, 3]) },
    });
    refuses(bytes, LimitError, /node 'ct' \(ConvTranspose, opset 17\): its index arithmetic needs the constant \d+, beyond the 32-bit integers/);
  });

  it("the whole model's memory is checked before anything is allocated", () => {
    // Four live 480 MB activations: each tensor fits, the arena does not.
    const n = 120_000_000;
    const bytes = makeModel({
      nodes: [
        { op: 'Relu', inputs: ['x'], outputs: ['a'] }, { op: 'Neg', inputs: ['x'], outputs: ['b'] }, { op: 'Exp', inputs: ['x'], outputs: ['c'] },
        { op: 'Sum', inputs: ['a', 'b', 'c', 'x'], outputs: ['y'] },
      ],
      inputs: [f32('x', [n])], outputs: [f32('y', [n])],
    });
    for (const target of TARGETS) {
      assert.throws(() => compile(bytes, { target, optLevel: 0 }), (e: unknown) => {
        assert.ok(e instanceof LimitError, String(e));
        assert.match(e.message, /the model's memory \(constants 0 bytes, activations 2.24 GiB, kernel workspace 0 bytes\) needs 2.24 GiB; Tessera supports at most 2 GiB/);
        return true;
      });
    }
  });

  it('int64 attributes keep their exact value where an op takes it (Constant value_int)', () => {
    const bytes = withIntAttr(makeModel({
      nodes: [{ op: 'Constant', inputs: [], outputs: ['y'], attrs: { value_int: 1 } }], inputs: [], outputs: [{ name: 'y', dtype: 'int64', shape: [] }],
    }), 'value_int', 2n ** 63n - 1n);
    const g = importOnnx(bytes);
    assert.deepEqual([...g.constants.values()].map((t) => t.data[0]), [2n ** 63n - 1n]);
  });
});

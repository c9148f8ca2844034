/**
 * Dynamic batch (src/build/dynamic_batch.ts, src/runtime/batch.ts): a model with a
 * symbolic leading dim compiles once, with kernels for one sample, and runs at any
 * batch size; kernels that mix samples are refused with the node and the reason, and
 * InferenceSession then compiles per batch size instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InferenceSession, Tensor } from '../../src/index.js';
import { Executor, InputError } from '../../src/runtime/executor.js';
import { deserializeExecutable, serializeExecutable } from '../../src/runtime/artifact.js';
import { compile } from '../../src/driver.js';
import { DynamicShapeError } from '../../src/build/dynamic_batch.js';
import { makeModel } from '../../src/frontend/onnx/model_builder.js';

/** y = relu(x @ w) + z, x: [batch, 2], z: [batch, 3]. */
const separable = makeModel({
  nodes: [
    { op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] },
    { op: 'Relu', inputs: ['y'], outputs: ['r'] },
    { op: 'Add', inputs: ['r', 'z'], outputs: ['out'] },
  ],
  inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 2] }, { name: 'z', dtype: 'float32', shape: ['batch', 3] }],
  outputs: [{ name: 'out', dtype: 'float32', shape: ['batch', 3] }],
  initializers: { w: new Tensor('float32', [1, 0, -1, 0, 1, 1], [2, 3]) },
});

function reference(x: number[], z: number[]): number[] {
  const out: number[] = [];
  for (let n = 0; n < x.length / 2; n++) {
    const a = x[2 * n]!, b = x[2 * n + 1]!;
    [a, b, b - a].forEach((v, j) => out.push(Math.max(0, v) + z[3 * n + j]!));
  }
  return out;
}

const feedsAt = (n: number): { x: Tensor; z: Tensor; want: number[] } => {
  const x = Array.from({ length: 2 * n }, (_, i) => ((i * 7) % 5) - 2);
  const z = Array.from({ length: 3 * n }, (_, i) => i / 4);
  return { x: new Tensor('float32', x, [n, 2]), z: new Tensor('float32', z, [n, 3]), want: reference(x, z) };
};

for (const [target, threads] of [['js', 1], ['wasm', 1], ['wasm', 2]] as const) {
  test(`a dynamic batch compiles once and runs at sizes 1, 3, 2, 5 (${target}, ${threads} thread${threads > 1 ? 's' : ''})`, async () => {
    const s = await InferenceSession.create(separable, { target, threads });
    try {
      assert.equal(s.specializesShapes, false);
      const exe = s.compiled!.executable;
      assert.equal(exe.batch?.dim, 'batch');
      for (const n of [1, 3, 2, 5]) {
        const { x, z, want } = feedsAt(n);
        const r = await s.run({ x, z });
        assert.deepEqual(r.out!.dims, [n, 3]);
        assert.deepEqual([...r.out!.data], want);
      }
      assert.equal(s.compilations, 1);
    } finally {
      s.release();
    }
  });
}

test('a dynamic-batch artifact keeps its batch dim: the runtime alone runs it at any size', async () => {
  const exe = deserializeExecutable(serializeExecutable(compile(separable, { target: 'wasm' }).executable));
  assert.deepEqual(exe.batch && { dim: exe.batch.dim }, { dim: 'batch' });
  const ex = await Executor.load(exe);
  for (const n of [4, 1]) {
    const { x, z, want } = feedsAt(n);
    assert.deepEqual([...ex.runSync({ x, z }).out!.data], want);
  }
  assert.deepEqual(ex.inputs.map((i) => i.shape), [[1, 2], [1, 3]]);
});

test('inputs must agree on the batch size, and it must be at least 1', async () => {
  const ex = await Executor.load(compile(separable, { target: 'js' }).executable);
  const a = feedsAt(2), b = feedsAt(3);
  assert.throws(() => ex.runSync({ x: a.x, z: b.z }), (e: unknown) => e instanceof InputError && /dim 'batch' is 3 here but 2 in input 'x'/.test(e.message));
  assert.throws(() => ex.runSync({ x: new Tensor('float32', [], [0, 2]), z: new Tensor('float32', [], [0, 3]) }), /dim 'batch' must be at least 1, got 0/);
  assert.throws(() => ex.runSync({ x: new Tensor('float32', [1, 2, 3], [1, 3]), z: feedsAt(1).z }), /input 'x': expected shape \[batch, 2\], got \[1, 3\]/);
});

/** A reduction over the batch: sample n of the output depends on every sample. */
const mixing = makeModel({
  nodes: [
    { op: 'Relu', inputs: ['x'], outputs: ['r'] },
    { op: 'ReduceSum', inputs: ['r', 'axes'], outputs: ['s'], attrs: { keepdims: 1 } },
    { op: 'Sub', inputs: ['r', 's'], outputs: ['out'] },
  ],
  inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 2] }],
  outputs: [{ name: 'out', dtype: 'float32', shape: ['batch', 2] }],
  initializers: { axes: new Tensor('int64', [0n], [1]) },
});

test('a kernel that mixes samples is refused, naming the node and why', () => {
  assert.throws(() => compile(mixing, { target: 'wasm' }), (e: unknown) =>
    e instanceof DynamicShapeError && /ReduceSum/.test(e.message) && /not separable along the dynamic dim 'batch'/.test(e.message) && /reduces over the batch/.test(e.message));
});

test('symbolic dims other than one leading dim are refused with the value named', () => {
  const m = makeModel({
    nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['out'] }],
    inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 'seq'] }],
    outputs: [{ name: 'out', dtype: 'float32', shape: ['batch', 'seq'] }],
  });
  assert.throws(() => compile(m, { target: 'js' }), (e: unknown) => e instanceof DynamicShapeError && /%x \[batch, seq\] has symbolic dim 'seq' at axis 1/.test(e.message));
});

test('a model that cannot keep its batch symbolic is compiled per batch size instead', async () => {
  const s = await InferenceSession.create(mixing, { target: 'wasm' });
  assert.equal(s.specializesShapes, true);
  for (const [x, want] of [[[1, -2, 3, 4], [-3, -4, -1, 0]], [[1, 2], [0, 0]]] as const) {
    const r = await s.run({ x: new Tensor('float32', [...x], [x.length / 2, 2]) });
    assert.deepEqual([...r.out!.data], want);
  }
  assert.equal(s.compilations, 2);
});

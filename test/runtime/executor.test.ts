import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InferenceSession, Tensor } from '../../src/index.js';
import { Executor, InputError } from '../../src/runtime/executor.js';
import { deserializeExecutable, serializeExecutable } from '../../src/runtime/artifact.js';
import { compile } from '../../src/driver.js';
import { makeModel } from '../../src/frontend/onnx/model_builder.js';
import { isWasmModule } from '../../src/runtime/devices/wasm.js';

const model = makeModel({
  nodes: [
    { op: 'Add', inputs: ['x', 'b'], outputs: ['y'] },
    { op: 'Relu', inputs: ['y'], outputs: ['r'] },
    { op: 'Mul', inputs: ['r', 'r'], outputs: ['out'] },
  ],
  inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3] }],
  outputs: [{ name: 'out', dtype: 'float32', shape: [2, 3] }, { name: 'y', dtype: 'float32', shape: [2, 3] }],
  initializers: { b: new Tensor('float32', [1, -1, 0.5], [3]) },
});

const x = new Tensor('float32', [1, 2, 3, -4, -5, 6], [2, 3]);
const expectOut = [4, 1, 12.25, 0, 0, 42.25];
const expectY = [2, 1, 3.5, -3, -6, 6.5];

for (const target of ['js', 'wasm'] as const) {
  test(`InferenceSession runs on ${target} and returns named tensors`, async () => {
    const s = await InferenceSession.create(model, { target });
    assert.deepEqual(s.inputNames, ['x']);
    assert.deepEqual(s.outputNames, ['out', 'y']);
    const r = await s.run({ x });
    assert.deepEqual([...r.out!.data], expectOut);
    assert.deepEqual(r.out!.dims, [2, 3]);
    assert.equal(r.out!.type, 'float32');
    assert.deepEqual([...r.y!.data], expectY);
    // Running twice reuses the arena and gives the same answer.
    const r2 = await s.run({ x });
    assert.deepEqual([...r2.out!.data], expectOut);
  });

  test(`artifact round trip on ${target}`, async () => {
    const exe = compile(model, { target }).executable;
    const loaded = await Executor.load(deserializeExecutable(serializeExecutable(exe)));
    assert.deepEqual([...loaded.runSync({ x }).out!.data], expectOut);
  });
}

test('input validation names the input and what was expected', async () => {
  const s = await InferenceSession.create(model, { target: 'js' });
  await assert.rejects(s.run({}), (e: unknown) => e instanceof InputError && /input 'x' is missing in 'feeds'; the model's inputs are: x: float32\[2, 3\]/.test(e.message));
  await assert.rejects(s.run({ x, extra: x }), /unknown input 'extra' in 'feeds'; the model's inputs are: x: float32\[2, 3\]/);
  await assert.rejects(s.run({ x: new Tensor('float32', [1, 2, 3], [3]) }), /input 'x': expected shape \[2, 3\], got \[3\]/);
  await assert.rejects(s.run({ x: new Tensor('int32', [1, 2, 3, 4, 5, 6], [2, 3]) }), /input 'x': expected dtype float32, got int32/);
});

test('the memory plan reuses storage and reports its peak', () => {
  const r = compile(model, { target: 'wasm' });
  const exe = r.executable;
  // x, y (an output, kept), r, out: at most 4 live buffers of 24 bytes (aligned to 32).
  assert.ok(exe.activationBytes <= 4 * 32, `activation bytes ${exe.activationBytes}`);
  assert.ok(exe.activationBytes >= 3 * 32);
  assert.equal(exe.steps.length, 3);
  assert.ok(exe.constants.byteLength >= 12);
});

test('corrupt artifacts are rejected', () => {
  assert.throws(() => deserializeExecutable(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), /bad magic/);
});

test('a shape fed as a graph input is bound per run: one compilation per distinct value', async () => {
  const m = makeModel({
    nodes: [{ op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] }, { op: 'Relu', inputs: ['y'], outputs: ['out'] }],
    inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3] }, { name: 'shape', dtype: 'int64', shape: [2] }],
    outputs: [{ name: 'out', dtype: 'float32', shape: ['a', 'b'] }],
  });
  const s = await InferenceSession.create(m, { target: 'wasm' });
  assert.deepEqual(s.inputNames, ['x', 'shape']);
  assert.deepEqual(s.specializedInputs, ['shape']);
  const r1 = await s.run({ x, shape: new Tensor('int64', [3n, 2n], [2]) });
  assert.deepEqual(r1.out!.dims, [3, 2]);
  assert.deepEqual([...r1.out!.data], [1, 2, 3, 0, 0, 6]);
  const r2 = await s.run({ x, shape: new Tensor('int64', [6n, -1n], [2]) });
  assert.deepEqual(r2.out!.dims, [6, 1]);
  await assert.rejects(s.run({ x }), /input 'shape' is missing in 'feeds'; the model's inputs are: x: float32\[2, 3\], shape: int64\[2\]/);
});

test('symbolic input dims are bound from the feeds: a dynamic batch runs at several sizes', async () => {
  const m = makeModel({
    nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }, { op: 'Relu', inputs: ['y'], outputs: ['out'] }],
    inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 2] }],
    outputs: [{ name: 'out', dtype: 'float32', shape: ['batch', 3] }],
    initializers: { w: new Tensor('float32', [1, 0, -1, 0, 1, 1], [2, 3]) },
  });
  const s = await InferenceSession.create(m, { target: 'wasm' });
  const one = await s.run({ x: new Tensor('float32', [1, 2], [1, 2]) });
  assert.deepEqual(one.out!.dims, [1, 3]);
  assert.deepEqual([...one.out!.data], [1, 2, 1]);
  const three = await s.run({ x: new Tensor('float32', [1, 2, -1, 0, 0, 5], [3, 2]) });
  assert.deepEqual(three.out!.dims, [3, 3]);
  assert.deepEqual([...three.out!.data], [1, 2, 1, 0, 0, 1, 0, 5, 5]);
  await assert.rejects(s.run({ x: new Tensor('float32', [1, 2, 3], [3]) }), /input 'x': expected shape \[batch, 2\], got \[3\]/);
});

test('artifacts keep the wasm module\'s thread regions and flags', () => {
  const exe = compile(model, { target: 'wasm', threads: 2, fma: false }).executable;
  const back = deserializeExecutable(serializeExecutable(exe));
  assert.equal(back.module.kind, 'wasm');
  if (!isWasmModule(back.module) || !isWasmModule(exe.module)) return;
  assert.deepEqual(back.module.regions, exe.module.regions);
  assert.equal(back.module.sharedMemory, exe.module.sharedMemory);
  assert.equal(back.threads, 2);
});

test('wasm executables also load synchronously (one thread), as constant folding uses them', () => {
  const ex = Executor.loadSync(compile(model, { target: 'wasm', fma: false }).executable);
  const r = ex.runSync({ x });
  assert.deepEqual([...r.out!.data], expectOut);
  assert.deepEqual([...r.y!.data], expectY);
});

test('a threaded executable where SharedArrayBuffer is unavailable fails with what the page needs', async () => {
  const exe = compile(model, { target: 'wasm', threads: 2, fma: false }).executable;
  const g = globalThis as { SharedArrayBuffer?: unknown };
  const saved = g.SharedArrayBuffer;
  delete g.SharedArrayBuffer;
  try {
    await assert.rejects(Executor.load(exe, { threads: 2 }), /needs a shared memory, but SharedArrayBuffer is unavailable \(a browser page must be cross-origin isolated: Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy: require-corp\)/);
  } finally {
    g.SharedArrayBuffer = saved;
  }
  assert.equal(typeof SharedArrayBuffer, 'function');
});

test('runs are asynchronous and queued: started together they complete in order, each with its own feeds', async () => {
  const ex = await Executor.load(compile(model, { target: 'wasm', fma: false }).executable);
  const xs = [1, 2, 3].map((k) => new Tensor('float32', [1, 2, 3, -4, -5, 6].map((v) => v * k), [2, 3]));
  const order: number[] = [];
  const outs = await Promise.all(xs.map((t, i) => ex.run({ x: t }).then((r) => { order.push(i); return r; })));
  assert.deepEqual(order, [0, 1, 2]);
  outs.forEach((r, i) => assert.deepEqual([...r.y!.data], [...ex.runSync({ x: xs[i]! }).y!.data]));
  // A bad feed rejects its own run and leaves the queue running.
  const bad = ex.run({ x: new Tensor('float32', [1], [1]) });
  const good = ex.run({ x });
  await assert.rejects(bad, (e: unknown) => e instanceof InputError && /input 'x': expected shape \[2, 3\], got \[1\]/.test((e as Error).message));
  assert.deepEqual([...(await good).out!.data], expectOut);
  // The per-kernel profile awaits each step's work.
  const prof = await ex.profile({ x }, 2);
  assert.deepEqual(prof.map((p) => p.kernel), ex.executable.steps.map((s) => s.kernel));
  assert.ok(prof.every((p) => p.ms >= 0));
});

/**
 * The webgpu device in Node (Dawn over Vulkan; SwiftShader here): word storage of every
 * dtype, 64-bit integers refused beyond 32 bits, artifacts, profiles, device loss and
 * recreation. The models run in test/models; the ONNX suite in test/conformance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webgpuSkip } from '../helpers/gpu.js';
import { InferenceSession, Tensor } from '../../src/index.js';
import { compile } from '../../src/driver.js';
import { Executor } from '../../src/runtime/executor.js';
import { DeviceError, InputError, LimitError } from '../../src/runtime/error.js';
import { deserializeExecutable, serializeExecutable } from '../../src/runtime/artifact.js';
import { makeModel } from '../../src/frontend/onnx/model_builder.js';
import { isWebGpuModule } from '../../src/runtime/devices/webgpu.js';
import { fromWords, toWords } from '../../src/runtime/word_storage.js';
import type { DType, TypedArray } from '../../src/runtime/dtype.js';

const skip = await webgpuSkip();

test('word storage holds every dtype exactly, and refuses 64-bit integers beyond 32 bits', () => {
  const cases: [DType, TypedArray][] = [
    ['float32', Float32Array.of(1.5, -0, Infinity, NaN)],
    ['int8', Int8Array.of(-128, 127, -1)],
    ['uint8', Uint8Array.of(0, 255, 7)],
    ['int16', Int16Array.of(-32768, 32767)],
    ['uint16', Uint16Array.of(65535, 1)],
    ['int32', Int32Array.of(-2147483648, 2147483647)],
    ['uint32', Uint32Array.of(4294967295, 0)],
    ['int64', BigInt64Array.of(-2147483648n, 2147483647n, -1n)],
    ['uint64', BigUint64Array.of(4294967295n, 0n)],
    ['bool', Uint8Array.of(1, 0, 1)],
    ['float16', Uint16Array.of(0x3c00, 0xc000, 0x7c00)],
    ['bfloat16', Uint16Array.of(0x3f80, 0xc040)],
  ];
  for (const [dtype, data] of cases) {
    const back = fromWords(dtype, toWords(dtype, data));
    assert.deepEqual(Array.from(back as ArrayLike<number | bigint>, String), Array.from(data as ArrayLike<number | bigint>, String), dtype);
  }
  assert.deepEqual([...new Float32Array(toWords('float64', Float64Array.of(0.1)).buffer)], [Math.fround(0.1)], 'float64 is stored as the nearest f32');
  assert.throws(() => toWords('int64', BigInt64Array.of(0n, 2n ** 31n)), /element 1 \(2147483648\) of a int64 tensor is outside the 32-bit range/);
  assert.throws(() => toWords('uint64', BigUint64Array.of(2n ** 32n)), /outside the 32-bit range/);
});

/** Integer, bool and narrow types through gathers, reductions, casts and comparisons. */
const typed = makeModel({
  nodes: [
    { op: 'Gather', inputs: ['table', 'ids'], outputs: ['rows'], attrs: { axis: 0 } },
    { op: 'ArgMax', inputs: ['rows'], outputs: ['best'], attrs: { axis: 1, keepdims: 0 } },
    { op: 'Cast', inputs: ['rows'], outputs: ['bytes'], attrs: { to: 3 } },
    { op: 'Cast', inputs: ['bytes'], outputs: ['wide'], attrs: { to: 7 } },
    { op: 'Greater', inputs: ['rows', 'zero'], outputs: ['pos'] },
    { op: 'Cast', inputs: ['rows'], outputs: ['half'], attrs: { to: 10 } },
    { op: 'Add', inputs: ['ids', 'ids'], outputs: ['twice'] },
  ],
  inputs: [{ name: 'ids', dtype: 'int64', shape: [3] }],
  outputs: [
    { name: 'best', dtype: 'int64', shape: [3] }, { name: 'bytes', dtype: 'int8', shape: [3, 4] }, { name: 'wide', dtype: 'int64', shape: [3, 4] },
    { name: 'pos', dtype: 'bool', shape: [3, 4] }, { name: 'half', dtype: 'float16', shape: [3, 4] }, { name: 'twice', dtype: 'int64', shape: [3] },
  ],
  initializers: {
    table: new Tensor('float32', [1, 5, -3, 2, -7.5, 0.25, 100, 130, 200.5, -129, 3, 0.1], [3, 4]),
    zero: new Tensor('float32', [0], []),
  },
});

test('int64 ids, int8, bool and float16 results on webgpu match the js target exactly', { skip }, async () => {
  const feeds = { ids: new Tensor('int64', [2n, 0n, 1n], [3]) };
  const want = await (await InferenceSession.create(typed, { target: 'js' })).run(feeds);
  const s = await InferenceSession.create(typed, { target: 'webgpu' });
  const got = await s.run(feeds);
  for (const name of Object.keys(want)) {
    assert.equal(got[name]!.type, want[name]!.type, name);
    assert.deepEqual(got[name]!.dims, want[name]!.dims, name);
    assert.deepEqual(Array.from(got[name]!.data as ArrayLike<number | bigint>, String), Array.from(want[name]!.data as ArrayLike<number | bigint>, String), name);
  }
  await assert.rejects(s.run({ ids: new Tensor('int64', [2n ** 40n, 0n, 1n], [3]) }),
    (e: unknown) => e instanceof InputError && /\(1099511627776\) of a int64 tensor is outside the 32-bit range that word storage holds; the webgpu target computes 64-bit integers in 32 bits/.test((e as Error).message));
  await s.release();
});

test('a 64-bit constant beyond 32 bits is refused at build time, naming it', () => {
  const m = makeModel({
    nodes: [{ op: 'Add', inputs: ['x', 'big'], outputs: ['y'] }],
    inputs: [{ name: 'x', dtype: 'int64', shape: [2] }],
    outputs: [{ name: 'y', dtype: 'int64', shape: [2] }],
    initializers: { big: new Tensor('int64', [1n, 2n ** 35n], [2]) },
  });
  assert.throws(() => compile(m, { target: 'webgpu' }), (e: unknown) => e instanceof LimitError && /constant %big: element 1 \(34359738368\)/.test((e as Error).message));
});

const mlp = makeModel({
  nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['h'] }, { op: 'Relu', inputs: ['h'], outputs: ['y'] }],
  inputs: [{ name: 'x', dtype: 'float32', shape: [2, 8] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: [2, 4] }],
  initializers: { w: new Tensor('float32', Array.from({ length: 32 }, (_, i) => ((i * 7) % 11) / 10 - 0.5), [8, 4]) },
});
const x = new Tensor('float32', Array.from({ length: 16 }, (_, i) => i / 8 - 1), [2, 8]);

test('a webgpu artifact loads and runs; runs are asynchronous only; the profile times each kernel', { skip }, async () => {
  const exe = compile(mlp, { target: 'webgpu' }).executable;
  assert.ok(isWebGpuModule(exe.module) && exe.wordStorage);
  const want = await (await Executor.load(compile(mlp, { target: 'js' }).executable)).run({ x });
  const ex = await Executor.load(deserializeExecutable(serializeExecutable(exe)));
  const got = await ex.run({ x });
  got.y!.data.forEach((v, i) => assert.ok(Math.abs(Number(v) - Number(want.y!.data[i])) <= 1e-5, `y[${i}]`));
  assert.throws(() => ex.runSync({ x }), (e: unknown) => e instanceof InputError && /the webgpu device runs asynchronously: use run/.test((e as Error).message));
  const prof = await ex.profile({ x }, 2);
  assert.deepEqual(prof.map((p) => p.kernel), exe.steps.map((s) => s.kernel));
  // Runs started together queue and each gets its own result.
  const xs = [1, 2, 3].map((k) => new Tensor('float32', Array.from({ length: 16 }, (_, i) => (i / 8 - 1) * k), [2, 8]));
  const outs = await Promise.all(xs.map((t) => ex.run({ x: t })));
  for (const [i, t] of xs.entries()) {
    const one = await ex.run({ x: t });
    assert.deepEqual([...outs[i]!.y!.data], [...one.y!.data]);
  }
  await ex.dispose();
});

test('a lost GPU device fails the run with a DeviceError; a new session runs again', { skip }, async () => {
  const s = await InferenceSession.create(mlp, { target: 'webgpu' });
  const first = await s.run({ x });
  // The device is the program's; losing it is what a driver reset or a removed GPU does.
  const program = (s as unknown as { upFront: { executor: { program: { gpuDevice: GPUDevice } } } }).upFront.executor.program;
  program.gpuDevice.destroy();
  await new Promise((r) => setTimeout(r, 50));
  await assert.rejects(s.run({ x }), (e: unknown) => e instanceof DeviceError && /the GPU device was lost .*create the session again/.test((e as Error).message));
  await s.release();
  const again = await InferenceSession.create(mlp, { target: 'webgpu' });
  assert.deepEqual([...(await again.run({ x })).y!.data], [...first.y!.data]);
  await again.release();
});

test('GPU tensors: outputs stay on the GPU, feed another model there, and read back; misuse is refused', { skip }, async () => {
  const first = await Executor.load(compile(mlp, { target: 'webgpu' }).executable);
  const want = await first.run({ x });
  const onGpu = await first.run({ x }, { outputLocation: 'gpu-buffer' });
  const y = onGpu.y!;
  assert.equal(y.location, 'gpu-buffer');
  assert.deepEqual(y.dims, [2, 4]);
  assert.deepEqual([...(await y.getData())], [...want.y!.data]);
  // y feeds a second model (y * 2) without leaving the GPU.
  const double = makeModel({
    nodes: [{ op: 'Add', inputs: ['y', 'y'], outputs: ['z'] }],
    inputs: [{ name: 'y', dtype: 'float32', shape: [2, 4] }],
    outputs: [{ name: 'z', dtype: 'float32', shape: [2, 4] }],
  });
  const second = await InferenceSession.create(double, { target: 'webgpu' });
  const z = await second.run({ y });
  assert.deepEqual([...z.z!.data], [...want.y!.data].map((v) => 2 * Number(v)));
  const cpu = await InferenceSession.create(double, { target: 'wasm' });
  await assert.rejects(cpu.run({ y }), (e: unknown) => e instanceof InputError && /input 'y' is a GPU tensor, and this model does not run on the GPU; read it with getData\(\) first/.test((e as Error).message));
  await assert.rejects((await Executor.load(compile(double, { target: 'wasm' }).executable)).run({ y }, { outputLocation: 'gpu-buffer' }), /outputLocation 'gpu-buffer' needs a GPU device; this executable runs on wasm/);
  y.dispose();
  await assert.rejects(second.run({ y }), (e: unknown) => e instanceof InputError && /input 'y' is a GPU tensor that was disposed/.test((e as Error).message));
  await Promise.all([second.release(), cpu.release(), first.dispose()]);
});

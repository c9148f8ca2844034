/**
 * Feed validation on every path (Executor.run, InferenceSession.run compiled up front,
 * specializing by value and by shape, dynamic batch) and the Tensor constructor: each
 * mistake is an InputError (a TesseraError) whose message names the input and what was
 * expected; results are copies the caller owns.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { InferenceSession, Tensor } from '../../src/index.js';
import { Executor } from '../../src/runtime/executor.js';
import { MAX_ARENA_BYTES } from '../../src/runtime/limits.js';
import { InputError, LimitError, TesseraError } from '../../src/runtime/error.js';
import { compile } from '../../src/driver.js';
import { makeModel } from '../../src/frontend/onnx/model_builder.js';

/** Two inputs of different dtypes: y = relu(x), m = n + n. */
const two = makeModel({
  nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['y'] }, { op: 'Add', inputs: ['n', 'n'], outputs: ['m'] }],
  inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3] }, { name: 'n', dtype: 'int64', shape: [2] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: [2, 3] }, { name: 'm', dtype: 'int64', shape: [2] }],
});
const x = new Tensor('float32', [1, -2, 3, -4, 5, -6], [2, 3]);
const n = new Tensor('int64', [3n, -7n], [2]);

/** A dynamic batch over two inputs: out = x·w + z. */
const batched = makeModel({
  nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['h'] }, { op: 'Add', inputs: ['h', 'z'], outputs: ['out'] }],
  inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 2] }, { name: 'z', dtype: 'float32', shape: ['batch', 3] }],
  outputs: [{ name: 'out', dtype: 'float32', shape: ['batch', 3] }],
  initializers: { w: new Tensor('float32', [1, 0, -1, 0, 1, 1], [2, 3]) },
});
const f32 = (dims: number[], start = 0): Tensor => new Tensor('float32', Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => start + i), dims);

/** An InputError (so a TesseraError) whose message matches every pattern. */
function inputError(...patterns: RegExp[]): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    assert.ok(e instanceof TesseraError);
    for (const re of patterns) assert.match(e.message, re);
    return true;
  };
}
const rejectsWith = (p: Promise<unknown>, ...patterns: RegExp[]): Promise<void> => assert.rejects(p, inputError(...patterns));
const throwsWith = (f: () => unknown, ...patterns: RegExp[]): void => assert.throws(f, inputError(...patterns));

for (const target of ['js', 'wasm'] as const) {
  test(`feeds that are not an object of tensors are refused (${target})`, async () => {
    const s = await InferenceSession.create(two, { target });
    const list = /the model's inputs are: x: float32\[2, 3\], n: int64\[2\]/;
    const run = s.run.bind(s) as (f: unknown) => Promise<unknown>;
    await rejectsWith(run(undefined), /^'feeds' must be an object mapping input names to tensors like \{ x: new Tensor\(\.\.\.\) \}; got undefined/, list);
    await rejectsWith(run(null), /got null/, list);
    await rejectsWith(run(3), /got the number 3/);
    await rejectsWith(run([x, n]), /got an array \(2 elements\)/);
    await rejectsWith(run(x), /got a Tensor \(float32\[2, 3\]\) \(key the tensor by its input name\)/);
    await rejectsWith(run(new Map([['x', x], ['n', n]])), /got an object \(Map\) \(a Map: pass Object\.fromEntries\(map\)\)/);
  });

  test(`missing and unknown names list the model's inputs with dtype and shape (${target})`, async () => {
    const s = await InferenceSession.create(two, { target });
    const list = /; the model's inputs are: x: float32\[2, 3\], n: int64\[2\]$/;
    await rejectsWith(s.run({ x }), /^input 'n' is missing in 'feeds'/, list);
    await rejectsWith(s.run({}), /^inputs 'x', 'n' are missing in 'feeds'/, list);
    // A misspelt name: both the missing input and the stray key are named.
    await rejectsWith(s.run({ x, nn: n }), /^input 'n' is missing in 'feeds' \(it has 'nn', which the model does not have\)/, list);
    await rejectsWith(s.run({ x, n, extra: n }), /^unknown input 'extra' in 'feeds'/, list);
    await rejectsWith(s.run({ x, n, a: n, b: n }), /^unknown inputs 'a', 'b' in 'feeds'/);
    // An input given as undefined counts as missing.
    await rejectsWith(s.run({ x, n: undefined as unknown as Tensor }), /^input 'n' is missing/);
    // An input named like an Object.prototype member is not found by inheritance.
    const proto = makeModel({
      nodes: [{ op: 'Relu', inputs: ['constructor'], outputs: ['y'] }],
      inputs: [{ name: 'constructor', dtype: 'float32', shape: [2] }], outputs: [{ name: 'y', dtype: 'float32', shape: [2] }],
    });
    const p = await InferenceSession.create(proto, { target });
    await rejectsWith(p.run({}), /^input 'constructor' is missing in 'feeds'/);
    assert.deepEqual([...(await p.run({ constructor: new Tensor('float32', [-1, 2], [2]) })).y!.data], [0, 2]);
  });

  test(`a feed that is not a tensor, or of the wrong dtype or shape, is named with what was expected (${target})`, async () => {
    const s = await InferenceSession.create(two, { target });
    const bad = (v: unknown): Promise<unknown> => s.run({ x: v as Tensor, n });
    await rejectsWith(bad([1, 2, 3, 4, 5, 6]), /^input 'x': expected a Tensor \(type, data, dims\), got an array \(6 elements\)$/);
    await rejectsWith(bad(new Float32Array(6)), /^input 'x': expected a Tensor \(type, data, dims\), got Float32Array$/);
    await rejectsWith(bad(null), /^input 'x': expected a Tensor \(type, data, dims\), got null$/);
    await rejectsWith(bad({ data: new Float32Array(6), dims: [2, 3] }), /^input 'x': expected a Tensor/);
    await rejectsWith(bad(new Tensor('float64', new Float64Array(6), [2, 3])), /^input 'x': expected dtype float32, got float64 \(the model declares x: float32\[2, 3\]\)$/);
    await rejectsWith(s.run({ x, n: new Tensor('int32', [1, 2], [2]) }), /^input 'n': expected dtype int64, got int32/);
    await rejectsWith(bad(f32([6])), /^input 'x': expected shape \[2, 3\], got \[6\] \(rank 1 instead of 2\)$/);
    await rejectsWith(bad(f32([3, 2])), /^input 'x': expected shape \[2, 3\], got \[3, 2\] \(dim 0 is 3, expected 2; dim 1 is 2, expected 3\)$/);
    await rejectsWith(bad(f32([2, 4])), /^input 'x': expected shape \[2, 3\], got \[2, 4\] \(dim 1 is 4, expected 3\)$/);
    // Still fine after all that.
    const r = await s.run({ x, n });
    assert.deepEqual([...r.y!.data], [1, 0, 3, 0, 5, 0]);
    assert.deepEqual([...r.m!.data], [6n, -14n]);
  });

  test(`tensors from another library (type, data, dims) are accepted and checked alike (${target})`, async () => {
    const s = await InferenceSession.create(two, { target });
    const like = { type: 'float32', data: new Float32Array([1, -2, 3, -4, 5, -6]), dims: [2, 3] };
    assert.deepEqual([...(await s.run({ x: like, n })).y!.data], [1, 0, 3, 0, 5, 0]);
    const bad = (v: object): Promise<unknown> => s.run({ x: v as Tensor, n });
    await rejectsWith(bad({ ...like, data: new Float64Array(6) }), /^input 'x': a float32 tensor's data must be a Float32Array, got Float64Array$/);
    await rejectsWith(bad({ ...like, data: new Float32Array(5) }), /^input 'x': 5 elements do not fill dims \[2, 3\] \(6 elements\)$/);
    await rejectsWith(bad({ ...like, dims: [2, -3] }), /^input 'x': dims\[1\] must be a non-negative integer, got -3/);
    await rejectsWith(bad({ type: 'string', data: ['a'], dims: [1] }), /^input 'x': unsupported type 'string'; Tessera's types are float32, /);
    await rejectsWith(bad({ ...like, location: 'gpu-buffer' }), /^input 'x': the tensor's data is on 'gpu-buffer', not in CPU memory/);
  });

  test(`a tensor whose buffer was detached after it was made is refused, not read (${target})`, async () => {
    const s = await InferenceSession.create(two, { target });
    const t = f32([2, 3]);
    structuredClone(t.data.buffer, { transfer: [t.data.buffer as ArrayBuffer] });
    await rejectsWith(s.run({ x: t, n }), /^input 'x': its data holds 0 elements but dims \[2, 3\] need 6 \(was its buffer detached or resized/);
  });

  test(`results are copies: the next run does not change them, and they do not alias the feeds (${target})`, async () => {
    const m = makeModel({
      nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['same'] }, { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['flat'] }, { op: 'Neg', inputs: ['x'], outputs: ['neg'] }],
      inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3] }],
      outputs: [{ name: 'same', dtype: 'float32', shape: [2, 3] }, { name: 'flat', dtype: 'float32', shape: [6] }, { name: 'neg', dtype: 'float32', shape: [2, 3] }],
      initializers: { shape: new Tensor('int64', [6n], [1]) },
    });
    const s = await InferenceSession.create(m, { target });
    const a = f32([2, 3], 1);
    const r1 = await s.run({ x: a });
    const kept = [...r1.neg!.data];
    const r2 = await s.run({ x: f32([2, 3], 100) });
    assert.deepEqual([...r1.neg!.data], kept, 'a later run leaves earlier results alone');
    assert.deepEqual([...r1.same!.data], [1, 2, 3, 4, 5, 6]);
    assert.deepEqual([...r1.flat!.data], [1, 2, 3, 4, 5, 6]);
    assert.deepEqual([...r2.same!.data], [100, 101, 102, 103, 104, 105]);
    r1.same!.data[0] = 42;
    assert.equal(a.data[0], 1, 'an output equal to an input is not the feed\'s array');
    assert.equal(r1.flat!.data[0], 1, 'two outputs of one storage are separate copies');
    for (const t of [...Object.values(r1), ...Object.values(r2)]) {
      assert.equal(t.data.byteLength, t.data.buffer.byteLength, 'each result owns its whole buffer (not a view of the arena)');
    }
  });

  test(`a dynamic batch: dims named, agreeing across inputs, at least 1 (${target})`, async () => {
    const s = await InferenceSession.create(batched, { target });
    assert.ok(s.compiled!.executable.batch);
    await rejectsWith(s.run({ x: f32([2, 2]), z: f32([3, 3]) }), /^input 'z': dim 'batch' is 3 here but 2 in input 'x'$/);
    await rejectsWith(s.run({ x: f32([2, 3]), z: f32([2, 3]) }), /^input 'x': expected shape \[batch, 2\], got \[2, 3\] \(dim 1 is 3, expected 2\)$/);
    await rejectsWith(s.run({ x: f32([2]), z: f32([2, 3]) }), /^input 'x': expected shape \[batch, 2\], got \[2\] \(rank 1 instead of 2\)$/);
    await rejectsWith(s.run({ x: f32([0, 2]), z: f32([0, 3]) }), /^input 'x': dim 'batch' must be at least 1, got 0$/);
    await rejectsWith(s.run({ z: f32([2, 3]) }), /^input 'x' is missing in 'feeds'; the model's inputs are: x: float32\[batch, 2\], z: float32\[batch, 3\]$/);
    const r = await s.run({ x: f32([2, 2]), z: f32([2, 3]) });
    // [[0, 1], [2, 3]] · [[1, 0, -1], [0, 1, 1]] + [[0, 1, 2], [3, 4, 5]]
    assert.deepEqual([...r.out!.data], [0, 2, 3, 5, 7, 6]);
  });

  test(`a batch whose arena passes the 2 GiB limit is refused before anything is allocated (${target})`, async () => {
    const W = 16384;
    const wide = makeModel({
      nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['h'] }, { op: 'ReduceSum', inputs: ['h', 'axes'], outputs: ['out'], attrs: { keepdims: 1 } }],
      inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 4] }],
      outputs: [{ name: 'out', dtype: 'float32', shape: ['batch', 1] }],
      initializers: { w: new Tensor('float32', new Float32Array(4 * W).fill(1), [4, W]), axes: new Tensor('int64', [1n], [1]) },
    });
    const s = await InferenceSession.create(wide, { target });
    const b = s.compiled!.executable.batch!;
    assert.ok(b.sampleBytes >= 4 * W, 'each sample holds its 16384-wide row');
    const big = 100_000;
    assert.ok(b.base + big * b.sampleBytes > MAX_ARENA_BYTES);
    await assert.rejects(s.run({ x: new Tensor('float32', new Float32Array(4 * big), [big, 4]) }), (e: unknown) => {
      assert.ok(e instanceof LimitError, String(e));
      assert.match(e.message, /^input 'x': dim 'batch' = 100000 needs an arena of 6\.\d+ GiB \(\d+ bytes \+ 100000 × \d+ bytes per sample\), beyond the 2 GiB Tessera supports per model; the largest batch that fits is (\d+)$/);
      const most = Number(/fits is (\d+)$/.exec(e.message)![1]);
      assert.ok(b.base + most * b.sampleBytes <= MAX_ARENA_BYTES && b.base + (most + 1) * b.sampleBytes > MAX_ARENA_BYTES - 16);
      return true;
    });
    // The session is unharmed.
    const r = await s.run({ x: new Tensor('float32', [1, 2, 3, 4], [1, 4]) });
    assert.deepEqual([...r.out!.data], [10 * W]);
  });
}

test('a specializing session checks feeds against the declared inputs before it compiles', async () => {
  const bytes = makeModel({
    nodes: [{ op: 'Reshape', inputs: ['x', 'shape'], outputs: ['out'] }],
    inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3] }, { name: 'shape', dtype: 'int64', shape: [2] }],
    outputs: [{ name: 'out', dtype: 'float32', shape: ['a', 'b'] }],
  });
  const s = await InferenceSession.create(bytes, { target: 'wasm' });
  assert.deepEqual(s.specializedInputs, ['shape']);
  await rejectsWith(s.run({ x }), /^input 'shape' is missing in 'feeds'; the model's inputs are: x: float32\[2, 3\], shape: int64\[2\]$/);
  await rejectsWith(s.run({ x, shape: new Tensor('int32', [3, 2], [2]) }), /^input 'shape': expected dtype int64, got int32/);
  await rejectsWith(s.run({ x, shape: new Tensor('int64', [3n, 2n, 1n], [3]) }), /^input 'shape': expected shape \[2\], got \[3\]/);
  await rejectsWith(s.run({ x: f32([3, 2]), shape: new Tensor('int64', [3n, 2n], [2]) }), /^input 'x': expected shape \[2, 3\], got \[3, 2\]/);
  assert.equal(s.compilations, 0, 'nothing was compiled for bad feeds');
  const r = await s.run({ x, shape: new Tensor('int64', [3n, 2n], [2]) });
  assert.deepEqual(r.out!.dims, [3, 2]);
  assert.equal(s.compilations, 1);
});

test('a session specializing on shapes names symbolic dims and checks them across inputs before it compiles', async () => {
  const bytes = makeModel({
    nodes: [{ op: 'ReduceSum', inputs: ['x', 'axes'], outputs: ['s'], attrs: { keepdims: 0 } }, { op: 'Mul', inputs: ['x', 'y'], outputs: ['p'] }],
    inputs: [{ name: 'x', dtype: 'float32', shape: [2, 'len'] }, { name: 'y', dtype: 'float32', shape: [2, 'len'] }],
    outputs: [{ name: 's', dtype: 'float32', shape: [2] }, { name: 'p', dtype: 'float32', shape: [2, 'len'] }],
    initializers: { axes: new Tensor('int64', [1n], [1]) },
  });
  const s = await InferenceSession.create(bytes, { target: 'wasm' });
  assert.equal(s.specializesShapes, true);
  await rejectsWith(s.run({ x: f32([2, 3]), y: f32([2, 4]) }), /^input 'y': dim 'len' is 4 here but 3 in input 'x'$/);
  await rejectsWith(s.run({ x: f32([3, 3]), y: f32([3, 3]) }), /^input 'x': expected shape \[2, len\], got \[3, 3\] \(dim 0 is 3, expected 2\)$/);
  await rejectsWith(s.run({ x: f32([2, 3]) }), /^input 'y' is missing in 'feeds'; the model's inputs are: x: float32\[2, len\], y: float32\[2, len\]$/);
  assert.equal(s.compilations, 0);
  const r = await s.run({ x: f32([2, 3]), y: f32([2, 3]) });
  assert.deepEqual([...r.s!.data], [3, 12]);
});

test('Executor.run and runSync check feeds like the session does (an executable loaded without the compiler)', async () => {
  const ex = await Executor.load(compile(batched, { target: 'wasm' }).executable);
  assert.deepEqual(ex.inputSpecs.map((s) => s.dims), [['batch', 2], ['batch', 3]]);
  throwsWith(() => ex.runSync({ x: f32([1, 2]) }), /^input 'z' is missing in 'feeds'; the model's inputs are: x: float32\[batch, 2\], z: float32\[batch, 3\]$/);
  throwsWith(() => ex.runSync({ x: f32([1, 2]), z: new Tensor('int32', [1, 2, 3], [1, 3]) }), /^input 'z': expected dtype float32, got int32/);
  throwsWith(() => (ex.runSync as (f: unknown) => unknown)('x'), /^'feeds' must be an object .* got the string "x"/);
  await rejectsWith((ex.run as (f: unknown) => Promise<unknown>)('x'), /^'feeds' must be an object .* got the string "x"/);
  assert.deepEqual([...ex.runSync({ x: f32([1, 2]), z: f32([1, 3]) }).out!.data], [0, 2, 3]);
});

test('the Tensor constructor refuses data that does not match its type and dims', () => {
  const bad = (type: unknown, data: unknown, dims?: unknown): (() => unknown) => () => new (Tensor as unknown as new (...a: unknown[]) => Tensor)(type, data, dims);
  throwsWith(bad('float32', new Float32Array(10), [1, 784]), /^Tensor: 10 elements do not fill dims \[1, 784\] \(784 elements\)$/);
  throwsWith(bad('float32', new Float64Array(4), [4]), /^Tensor: a float32 tensor's data must be a Float32Array, got Float64Array$/);
  throwsWith(bad('int64', new Int32Array(3), [3]), /^Tensor: an int64 tensor's data must be a BigInt64Array \(64-bit integers are BigInts\), got Int32Array$/);
  throwsWith(bad('float16', new Float32Array(3), [3]), /^Tensor: a float16 tensor's data must be a Uint16Array \(holding the raw 16 bits\), got Float32Array$/);
  throwsWith(bad('bool', [true, 2, 'x'], [3]), /^Tensor: element 2 of the data is the string "x", not a number$/);
  throwsWith(bad('int64', [1, 1.5], [2]), /^Tensor: element 1 \(1\.5\) of the data is not an integer, which int64 needs$/);
  throwsWith(bad('float32', {}, [1]), /^Tensor: data must be a typed array \(Float32Array for float32\) or an array of numbers, got an object \(Object\)$/);
  throwsWith(bad('float32', new DataView(new ArrayBuffer(4)), [1]), /^Tensor: data must be a typed array .* got DataView$/);
  throwsWith(bad('float99', new Float32Array(1), [1]), /^Tensor: unsupported type 'float99'; Tessera's types are float32, uint8, /);
  throwsWith(bad(7, new Float32Array(1), [1]), /^Tensor: unsupported type the number 7/);
  throwsWith(bad('float32', new Float32Array(0), [-1, 0]), /^Tensor: dims\[0\] must be a non-negative integer, got -1 \(dims \[-1, 0\]\)$/);
  throwsWith(bad('float32', new Float32Array(0), [NaN]), /^Tensor: dims\[0\] must be a non-negative integer, got NaN/);
  throwsWith(bad('float32', new Float32Array(1), [1.5]), /^Tensor: dims\[0\] must be a non-negative integer, got 1\.5/);
  throwsWith(bad('float32', new Float32Array(1), ['1']), /^Tensor: dims\[0\] must be a non-negative integer, got the string "1"/);
  throwsWith(bad('float32', new Float32Array(1), 1), /^Tensor: dims must be an array of non-negative integers, got the number 1$/);
  // What it accepts: plain arrays converted (int64 from numbers or bigints), dims defaulting to the length.
  assert.deepEqual([...new Tensor('int64', [1, 2n, -3], [3]).data], [1n, 2n, -3n]);
  assert.deepEqual([...new Tensor('bool', [true, false, 1], [3]).data], [1, 0, 1]);
  assert.deepEqual(new Tensor('float32', new Float32Array(4)).dims, [4]);
  assert.deepEqual(new Tensor('uint8', new Uint8ClampedArray([1, 255]), [2]).data, new Uint8Array([1, 255]));
  assert.deepEqual(new Tensor('float32', [], [0, 5]).dims, [0, 5]);
  const t = new Tensor('float32', [1, 2], [2]);
  assert.throws(() => (t.dims as number[]).push(3), TypeError, 'dims are frozen');
});

const require = createRequire(import.meta.url);
let ort: typeof import('onnxruntime-node') | undefined;
try {
  ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
} catch {
  ort = undefined;
}

test('each mistake onnxruntime-node refuses is refused here too, naming at least what it names', { skip: ort ? false : 'onnxruntime-node is not installed' }, async () => {
  const o = ort!;
  const ours = await InferenceSession.create(two, { target: 'wasm' });
  const theirs = await o.InferenceSession.create(two);
  const ox = new o.Tensor('float32', x.data as Float32Array, [2, 3]);
  const on = new o.Tensor('int64', n.data as BigInt64Array, [2]);
  const cases: { what: string; ours: () => Promise<unknown>; theirs: () => Promise<unknown>; facts: RegExp[] }[] = [
    { what: 'feeds null', ours: () => (ours.run as (f: unknown) => Promise<unknown>)(null), theirs: () => (theirs.run as (f: unknown) => Promise<unknown>)(null), facts: [/feeds/] },
    { what: 'missing input', ours: () => ours.run({ x }), theirs: () => theirs.run({ x: ox }), facts: [/input 'n' is missing in 'feeds'/] },
    { what: 'wrong dtype', ours: () => ours.run({ x: new Tensor('int32', [1, 2, 3, 4, 5, 6], [2, 3]), n }), theirs: () => theirs.run({ x: new o.Tensor('int32', new Int32Array(6), [2, 3]), n: on }), facts: [/'x'/, /float32/, /int32/] },
    { what: 'wrong rank', ours: () => ours.run({ x: f32([6]), n }), theirs: () => theirs.run({ x: new o.Tensor('float32', new Float32Array(6), [6]), n: on }), facts: [/'x'/, /rank 1 instead of 2/] },
    { what: 'wrong dims', ours: () => ours.run({ x: f32([3, 2]), n }), theirs: () => theirs.run({ x: new o.Tensor('float32', new Float32Array(6), [3, 2]), n: on }), facts: [/'x'/, /dim 0 is 3, expected 2/, /dim 1 is 2, expected 3/] },
    { what: 'not a tensor', ours: () => ours.run({ x: null as unknown as Tensor, n }), theirs: () => theirs.run({ x: null as unknown as typeof ox, n: on }), facts: [/'x'/, /expected a Tensor/] },
  ];
  for (const c of cases) {
    await assert.rejects(c.theirs(), `onnxruntime-node refuses it too: ${c.what}`);
    await assert.rejects(c.ours(), (e: unknown) => {
      assert.ok(e instanceof InputError, `${c.what}: ${String(e)}`);
      for (const f of c.facts) assert.match(e.message, f, c.what);
      return true;
    });
  }
  // What both accept gives the same answer, an onnxruntime tensor fed straight to Tessera included.
  const want = await theirs.run({ x: ox, n: on });
  const got = await ours.run({ x: ox, n: on });
  assert.deepEqual([...got.y!.data], [...(want['y']!.data as Float32Array)]);
  assert.deepEqual([...got.m!.data], [...(want['m']!.data as BigInt64Array)]);
  await theirs.release();
});

/**
 * Runs started together (Promise.all, nothing awaited in between) on one session each
 * give the result of the same run made alone: sessions compiled up front on js, wasm and
 * wasm with 2 threads, a dynamic batch with batch sizes interleaved, sessions that
 * specialize per input value and per shape (compiling while other runs wait), and LRU
 * eviction of specializations while runs are queued.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { InferenceSession, Tensor } from '../../src/index.js';
import { makeModel } from '../../src/frontend/onnx/model_builder.js';
import { liveWorkers } from '../../src/runtime/devices/thread_pool.js';

/** Deterministic pseudo-random floats in [-1, 1). */
function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** Each of `feeds` run alone (awaited one by one), then all together: the same results, and the inputs told apart. */
async function sameAsAlone(s: InferenceSession, feeds: Record<string, Tensor>[]): Promise<void> {
  const alone: Record<string, Tensor>[] = [];
  for (const f of feeds) alone.push(await s.run(f));
  const together = await Promise.all(feeds.map((f) => s.run(f)));
  together.forEach((r, i) => {
    for (const name of s.outputNames) {
      assert.deepEqual(r[name]!.dims, alone[i]![name]!.dims, `run ${i}, output ${name}: dims`);
      assert.deepEqual([...r[name]!.data], [...alone[i]![name]!.data], `run ${i}, output ${name}`);
    }
  });
  const first = s.outputNames[0]!;
  const distinct = new Set(alone.map((r) => JSON.stringify([...r[first]!.data].map(String))));
  assert.ok(distinct.size > feeds.length / 2, 'different inputs give different results (so a mix-up would show)');
}

const MLP = join('models', 'mlp_784_512_10', 'model.onnx');
for (const [target, threads] of [['js', 1], ['wasm', 1], ['wasm', 2]] as const) {
  test(`8 runs started together on the mlp give each its own result (${target}, ${threads} thread${threads > 1 ? 's' : ''})`, async () => {
    const s = await InferenceSession.create(MLP, { target, threads });
    try {
      await sameAsAlone(s, Array.from({ length: 8 }, (_, i) => ({ input: new Tensor('float32', seeded(784, i + 1), [1, 784]) })));
    } finally {
      await s.release();
    }
  });
}

const CNN = join('test', 'data', 'models', 'cnn_dynamic_batch', 'model.onnx');
for (const [target, threads] of [['js', 1], ['wasm', 1], ['wasm', 2]] as const) {
  test(`a dynamic batch with batch sizes interleaved: runs started together match runs alone (${target}, ${threads} thread${threads > 1 ? 's' : ''})`, async () => {
    const s = await InferenceSession.create(CNN, { target, threads });
    try {
      assert.ok(s.compiled!.executable.batch, 'compiled once with a dynamic batch');
      const sizes = [1, 3, 2, 5, 1, 4, 2, 3];
      await sameAsAlone(s, sizes.map((b, i) => ({ input: new Tensor('float32', seeded(b * 3 * 16 * 16, 100 + i), [b, 3, 16, 16]) })));
      assert.equal(s.compilations, 1);
    } finally {
      await s.release();
    }
  });
}

/** A shape fed as an input: compiled per distinct value; out = yᵀ·y for y = reshape(x, shape). */
const byValue = makeModel({
  nodes: [{ op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] }, { op: 'Transpose', inputs: ['y'], outputs: ['t'] }, { op: 'MatMul', inputs: ['t', 'y'], outputs: ['out'] }],
  inputs: [{ name: 'x', dtype: 'float32', shape: [32, 32] }, { name: 'shape', dtype: 'int64', shape: [2] }],
  outputs: [{ name: 'out', dtype: 'float32', shape: ['b', 'b'] }],
});

for (const threads of [1, 2]) {
  test(`a session specializing per input value: runs started together, some needing the same new compilation (${threads} thread${threads > 1 ? 's' : ''})`, async () => {
    const before = liveWorkers().length;
    const s = await InferenceSession.create(byValue, { target: 'wasm', threads });
    try {
      const shapes: [bigint, bigint][] = [[16n, 64n], [8n, 128n], [16n, 64n], [4n, 256n], [8n, 128n], [32n, 32n], [16n, 64n], [4n, 256n]];
      const feeds = shapes.map((sh, i) => ({ x: new Tensor('float32', seeded(1024, 7 + i), [32, 32]), shape: new Tensor('int64', sh, [2]) }));
      // Together first: the first run of each shape compiles while the others wait in the queue.
      const together = await Promise.all(feeds.map((f) => s.run(f)));
      assert.equal(s.compilations, 4, 'one compilation per distinct shape, none duplicated by runs racing');
      for (const [i, f] of feeds.entries()) {
        const alone = await s.run(f);
        assert.deepEqual(together[i]!.out!.dims, [Number(shapes[i]![1]), Number(shapes[i]![1])]);
        assert.deepEqual([...together[i]!.out!.data], [...alone.out!.data], `run ${i}`);
      }
      assert.equal(s.compilations, 4);
      if (threads > 1) {
        // Each specialization whose kernels have parallel regions holds one worker; none leaked by racing compiles.
        const pooled = [8n, 16n, 4n].length; // shapes 16x64, 8x128, 4x256 get a parallel MatMul; 32x32 does not
        assert.equal(liveWorkers().length - before, pooled);
      }
    } finally {
      await s.release();
    }
    assert.equal(liveWorkers().length, before, 'release ends every specialization\'s workers');
  });
}

/** Symbolic dims that cannot stay symbolic (a reduction over the leading dim): compiled per shape. */
const byShape = makeModel({
  nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['h'] }, { op: 'ReduceSum', inputs: ['h', 'axes'], outputs: ['out'], attrs: { keepdims: 0 } }],
  inputs: [{ name: 'x', dtype: 'float32', shape: ['len', 64] }],
  outputs: [{ name: 'out', dtype: 'float32', shape: [64] }],
  initializers: { w: new Tensor('float32', seeded(64 * 64, 3), [64, 64]), axes: new Tensor('int64', [0n], [1]) },
});

test('a session specializing per shape: 8 runs of interleaved lengths started together match runs alone', async () => {
  const s = await InferenceSession.create(byShape, { target: 'wasm' });
  try {
    assert.equal(s.specializesShapes, true);
    const lens = [16, 20, 16, 24, 20, 17, 24, 16];
    await sameAsAlone(s, lens.map((len, i) => ({ x: new Tensor('float32', seeded(len * 64, 40 + i), [len, 64]) })));
    assert.equal(s.compilations, 4);
  } finally {
    await s.release();
  }
});

test('more distinct shapes than the cache holds, started together on 2 threads: right results, evicted workers end', async () => {
  const before = liveWorkers().length;
  const s = await InferenceSession.create(byShape, { target: 'wasm', threads: 2 });
  try {
    const lens = Array.from({ length: 20 }, (_, i) => 16 + i);
    const feeds = lens.map((len, i) => ({ x: new Tensor('float32', seeded(len * 64, 60 + i), [len, 64]) }));
    const together = await Promise.all(feeds.map((f) => s.run(f)));
    // The reference: the same sums computed here.
    const w = seeded(64 * 64, 3);
    together.forEach((r, i) => {
      const x = feeds[i]!.x.data as Float32Array;
      const want = Array.from({ length: 64 }, (_, j) => {
        let acc = 0;
        for (let row = 0; row < lens[i]!; row++) for (let k = 0; k < 64; k++) acc += x[row * 64 + k]! * w[k * 64 + j]!;
        return acc;
      });
      r.out!.data.forEach((v, j) => assert.ok(Math.abs(Number(v) - want[j]!) <= 1e-3 + 1e-4 * Math.abs(want[j]!), `len ${lens[i]}, out[${j}]: ${v} vs ${want[j]}`));
    });
    assert.equal(s.compilations, 16, 'the cache keeps 16 specializations');
    // Evicted specializations' workers exit (asynchronously, once terminated).
    for (let i = 0; i < 100 && liveWorkers().length - before > 16; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(liveWorkers().length - before, 16, 'one worker per cached specialization, none for the evicted');
  } finally {
    await s.release();
  }
  assert.equal(liveWorkers().length, before);
});

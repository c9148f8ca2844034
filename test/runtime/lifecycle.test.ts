/**
 * Lifecycle: release() then run() is a ReleasedError, release twice is fine, release
 * while runs are queued or compiling settles them (never a hang) and ends every worker;
 * a worker thread that dies gives a DeviceError naming it instead of a hang in
 * Atomics.wait; an error inside a worker's share of a kernel (a trap) is rethrown on the
 * main thread naming the worker and the kernel region. Each test that could hang has a
 * timeout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { InferenceSession, Tensor } from '../../src/index.js';
import { Executor } from '../../src/runtime/executor.js';
import { DeviceError, InternalError, ReleasedError, TesseraError } from '../../src/runtime/error.js';
import { compile } from '../../src/driver.js';
import { makeModel } from '../../src/frontend/onnx/model_builder.js';
import { STATUS, ThreadPool, liveWorkers } from '../../src/runtime/devices/thread_pool.js';
import type { Executable } from '../../src/runtime/executable.js';
import { isWasmModule } from '../../src/runtime/devices/wasm.js';

const MLP = join('models', 'mlp_784_512_10', 'model.onnx');
const feeds = { input: new Tensor('float32', Float32Array.from({ length: 784 }, (_, i) => Math.sin(i)), [1, 784]) };
const HANG_GUARD = { timeout: 60_000 };

const released = (e: unknown): boolean => e instanceof ReleasedError && e instanceof TesseraError && /this session was released; create a new InferenceSession/.test(e.message);

/** A shape fed as an input: compiled per distinct value. */
const byValue = makeModel({
  nodes: [{ op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] }, { op: 'Transpose', inputs: ['y'], outputs: ['t'] }, { op: 'MatMul', inputs: ['t', 'y'], outputs: ['out'] }],
  inputs: [{ name: 'x', dtype: 'float32', shape: [32, 32] }, { name: 'shape', dtype: 'int64', shape: [2] }],
  outputs: [{ name: 'out', dtype: 'float32', shape: ['b', 'b'] }],
});
const x = new Tensor('float32', Float32Array.from({ length: 1024 }, (_, i) => (i % 13) - 6), [32, 32]);
const shape = (a: bigint, b: bigint): Tensor => new Tensor('int64', [a, b], [2]);

for (const [target, threads] of [['js', 1], ['wasm', 1], ['wasm', 2]] as const) {
  test(`run after release is a ReleasedError; release twice is fine (${target}, ${threads} thread${threads > 1 ? 's' : ''})`, HANG_GUARD, async () => {
    const s = await InferenceSession.create(MLP, { target, threads });
    const before = await s.run(feeds);
    assert.equal(s.released, false);
    const p = s.release();
    assert.equal(s.released, true);
    await assert.rejects(s.run(feeds), released);
    assert.equal(s.release(), p, 'a second release returns the first one\'s promise');
    await p;
    await s.release();
    await assert.rejects(s.run(feeds), released);
    // Results taken before the release stay readable.
    assert.equal(before.logits!.dims[1], 10);
    assert.ok(before.logits!.data.every((v) => Number.isFinite(Number(v))));
  });
}

test('a specializing session: run after release is a ReleasedError, queued and compiling runs settle, workers end', HANG_GUARD, async () => {
  const base = liveWorkers().length;
  const s = await InferenceSession.create(byValue, { target: 'wasm', threads: 2 });
  const ok = await s.run({ x, shape: shape(16n, 64n) });
  assert.deepEqual(ok.out!.dims, [64, 64]);
  assert.equal(liveWorkers().length, base + 1);
  // One run compiling (a new shape), two waiting behind it; then release.
  const inFlight = [s.run({ x, shape: shape(8n, 128n) }), s.run({ x, shape: shape(16n, 64n) }), s.run({ x, shape: shape(4n, 256n) })];
  const settling = Promise.allSettled(inFlight);
  await s.release();
  const settled = await settling;
  for (const r of settled) {
    if (r.status === 'fulfilled') assert.equal(r.value.out!.dims.length, 2);
    else assert.ok(released(r.reason), String(r.reason));
  }
  assert.ok(settled.some((r) => r.status === 'rejected'), 'runs that had not started when the session was released fail');
  assert.equal(liveWorkers().length, base, 'every worker has exited once release() resolves, a run compiling at the time included');
  await assert.rejects(s.run({ x, shape: shape(16n, 64n) }), released);
});

test('Executor: run after dispose is a ReleasedError; dispose twice is fine', async () => {
  const ex = await Executor.load(compile(MLP, { target: 'wasm' }).executable);
  assert.equal(ex.runSync(feeds).logits!.dims[1], 10);
  const p = ex.dispose();
  assert.equal(ex.disposed, true);
  assert.equal(ex.dispose(), p);
  await p;
  assert.throws(() => ex.runSync(feeds), (e: unknown) => e instanceof ReleasedError && /this executor was disposed/.test(e.message));
});

test('every worker thread of a threaded session exits on release (counted by their exit events)', HANG_GUARD, async () => {
  const base = liveWorkers().length;
  const sessions = await Promise.all([1, 2, 3].map(() => InferenceSession.create(MLP, { target: 'wasm', threads: 2 })));
  const cnn = await InferenceSession.create(join('test', 'data', 'models', 'cnn_dynamic_batch', 'model.onnx'), { target: 'wasm', threads: 2 });
  const started = liveWorkers().length - base;
  assert.ok(started >= 3, `each threaded mlp session has its worker (got ${started})`);
  for (const s of sessions) await s.run(feeds);
  await Promise.all([...sessions, cnn].map((s) => s.release()));
  assert.equal(liveWorkers().length, base);
});

/** The workers `f` started (its sessions' pools). */
async function workersOf<T>(f: () => Promise<T>): Promise<{ value: T; workers: ReturnType<typeof liveWorkers> }> {
  const before = new Set(liveWorkers());
  const value = await f();
  return { value, workers: liveWorkers().filter((w) => !before.has(w)) };
}

test('a worker that died between runs: the next run is a DeviceError naming it, not a hang', HANG_GUARD, async () => {
  const { value: s, workers } = await workersOf(() => InferenceSession.create(MLP, { target: 'wasm', threads: 2 }));
  assert.equal(workers.length, 1);
  const good = await s.run(feeds);
  await workers[0]!.terminate();
  const lost = (e: unknown): boolean => e instanceof DeviceError
    && /^worker thread 1 of 2 exited \(exit code \d+\); the session's thread pool is lost: create a new session$/.test(e.message);
  await assert.rejects(s.run(feeds), lost);
  await assert.rejects(s.run(feeds), lost, 'and on every run after');
  await s.release();
  // A new session runs again.
  const s2 = await InferenceSession.create(MLP, { target: 'wasm', threads: 2 });
  assert.deepEqual([...(await s2.run(feeds)).logits!.data], [...good.logits!.data]);
  await s2.release();
});

test('a worker killed just before a run (its exit not yet seen): the run ends, by a result or a DeviceError, never a hang', HANG_GUARD, async () => {
  const exe = compile(MLP, { target: 'wasm', threads: 2 }).executable;
  const want = [...(await (await Executor.load(exe, { threads: 1 })).run(feeds)).logits!.data];
  const { value: ex, workers } = await workersOf(() => Executor.load(exe, { threads: 2, stallTimeoutMs: 300 }));
  assert.equal(workers.length, 1);
  const exited = workers[0]!.terminate();
  // Synchronously, in the same turn: the pool has not seen the exit event.
  try {
    assert.deepEqual([...ex.runSync(feeds).logits!.data], want, 'if the worker did its share before it died, the result is right');
  } catch (e) {
    assert.ok(e instanceof DeviceError, String(e));
    assert.match(e.message, /^worker thread 1 of 2 made no progress on kernel region '[^']+' for \d+ ms.*: taken as lost; the session's thread pool cannot run again: create a new session$/);
  }
  await exited;
  assert.throws(() => ex.runSync(feeds), (e: unknown) => e instanceof DeviceError && /worker thread 1 of 2 exited/.test(e.message));
  await ex.dispose();
});

/** The mlp's threaded executable, its one parallel kernel's region, and a pool over a fresh shared memory. */
async function mlpPool(): Promise<{ exe: Executable; pool: ThreadPool; region: string; nargs: number }> {
  const exe = compile(MLP, { target: 'wasm', threads: 2 }).executable;
  assert.ok(isWasmModule(exe.module) && exe.module.regions);
  const [kernel, split] = Object.entries(exe.module.regions)[0]!;
  const pages = Math.ceil(exe.arenaBytes / 65536);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const names = Object.values(exe.module.regions).flatMap((r) => r.regions.map((x) => x.fn));
  const step = exe.steps.find((s) => s.kernel === kernel)!;
  const pool = await ThreadPool.create(await WebAssembly.compile(exe.module.bytes as Uint8Array<ArrayBuffer>), memory, 2, names, step.args.length + 1);
  return { exe, pool, region: split.regions[0]!.fn, nargs: step.args.length + 1 };
}

test('a trap in a worker\'s share of a kernel is rethrown on the main thread, naming the worker and the region', HANG_GUARD, async () => {
  const { pool, region, nargs } = await mlpPool();
  try {
    // Offsets past the end of memory: the region traps on any chunk it runs.
    const outOfBounds = Array.from({ length: nargs }, () => 0x7fff0000);
    const status = (pool as unknown as { status: Int32Array }).status;
    // The main thread's chunks do nothing but wait until the worker has failed, so the worker runs some.
    const own = (): void => {
      const until = performance.now() + 20_000;
      while (Atomics.load(status, STATUS.failed) === 0 && performance.now() < until) { /* wait */ }
    };
    assert.throws(() => pool.run(0, outOfBounds, 32, 0, 0, own), (e: unknown) =>
      e instanceof WebAssembly.RuntimeError && new RegExp(`^worker thread 1 of 2, kernel region '${region.replace('$', '\\$')}': memory access out of bounds`).test(e.message));
    // The pool is still usable: a job whose chunks all succeed returns (no stale report).
    let chunks = 0;
    pool.run(0, outOfBounds, 0, 0, 0, () => { chunks++; });
    assert.equal(chunks, 0);
    // Both the worker and the main thread fail: the main thread's error is thrown, and the worker's report does not leak into the next job.
    assert.throws(() => pool.run(0, outOfBounds, 32, 0, 0, () => { own(); throw new Error('main share failed too'); }), /^Error: main share failed too$/);
    pool.run(0, outOfBounds, 0, 0, 0, () => { chunks++; });
  } finally {
    await pool.dispose();
  }
});

test('an error in the main thread\'s share is thrown after the workers finished theirs; the pool runs on', HANG_GUARD, async () => {
  const { pool, nargs } = await mlpPool();
  try {
    const { ctl, status } = pool as unknown as { ctl: Int32Array; status: Int32Array };
    const finished = (): number => Atomics.load(status, STATUS.perThread + 2 * 1 + 1);
    // Offsets 0: the region reads and writes inside the memory (garbage in, garbage out, no trap).
    const zeros = Array.from({ length: nargs }, () => 0);
    assert.throws(() => pool.run(0, zeros, 32, 0, 0, () => { throw new RangeError('own share failed'); }), (e: unknown) => {
      assert.ok(e instanceof RangeError && e.message === 'own share failed', String(e));
      assert.equal(finished(), Atomics.load(ctl, 0), 'the worker had finished this job when the error was thrown');
      return true;
    });
    let chunks = 0;
    pool.run(0, zeros, 32, 0, 0, () => { chunks++; });
    assert.equal(finished(), Atomics.load(ctl, 0), 'the next job ran to its end on both threads');
    assert.ok(chunks <= 8);
  } finally {
    await pool.dispose();
  }
});

test('a kernel trap on a threaded executor fails the run with the trap, and the next run fails the same way (no thread left mid-job)', HANG_GUARD, async () => {
  const exe = compile(MLP, { target: 'wasm', threads: 2 }).executable;
  // Point the threaded kernel's arguments past the end of memory.
  const broken: Executable = { ...exe, steps: exe.steps.map((s) => ({ ...s, args: s.args.map((a) => ({ ...a, offset: 0x7fff0000 })) })) };
  const ex = await Executor.load(broken, { threads: 2 });
  try {
    // An out-of-bounds access is a bug in a kernel, never the data's fault: an InternalError naming the kernel, the trap its cause.
    for (let i = 0; i < 2; i++) {
      assert.throws(() => ex.runSync(feeds), (e: unknown) => e instanceof InternalError && /while running kernel 'k0_Gemm_Relu': memory access out of bounds/.test(e.message)
        && e.cause instanceof WebAssembly.RuntimeError);
    }
  } finally {
    await ex.dispose();
  }
});

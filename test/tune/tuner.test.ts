import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeModel } from '../../src/frontend/onnx/model_builder.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { compile, optimizeModel } from '../../src/driver.js';
import { Executor } from '../../src/runtime/executor.js';
import { extractTasks } from '../../src/tune/task.js';
import { tune, sameOutputs } from '../../src/tune/tuner.js';
import { RecordsError, type TuningRecord, TuningDatabase } from '../../src/tune/records.js';
import { MeasureRunner } from '../../src/tune/runner.js';
import { seededRandom } from '../../src/schedule/decisions.js';

const TARGET = 'wasm -threads=1 -no-fma';

/** MatMul + bias + Relu, then a second MatMul: two tasks with open choices. */
function model(): Uint8Array {
  const rand = seededRandom(5);
  const t = (dims: number[]): Tensor => new Tensor('float32', Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rand() - 0.5), dims);
  return makeModel({
    nodes: [
      { op: 'MatMul', inputs: ['x', 'w1'], outputs: ['h'] },
      { op: 'Add', inputs: ['h', 'b1'], outputs: ['hb'] },
      { op: 'Relu', inputs: ['hb'], outputs: ['r'] },
      { op: 'MatMul', inputs: ['r', 'w2'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', dtype: 'float32', shape: [16, 64] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [16, 24] }],
    initializers: { w1: t([64, 48]), b1: t([48]), w2: t([48, 24]) },
  });
}

async function outputOf(records?: TuningDatabase): Promise<{ y: Float32Array; applied?: number; refused?: readonly string[] }> {
  const r = compile(model(), { target: TARGET, ...(records ? { records } : {}) });
  const ex = await Executor.load(r.executable);
  const x = new Tensor('float32', Float32Array.from({ length: 16 * 64 }, (_, i) => Math.sin(i)), [16, 64]);
  const y = (await ex.run({ x })).y!.data as Float32Array;
  await ex.dispose();
  return { y, ...(r.records ? { applied: r.records.applied, refused: r.records.refused } : {}) };
}

test('tune: measures the default and candidates of each task, appends records, and compile --records applies them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-tune-'));
  try {
    const file = join(dir, 'records.jsonl');
    const { graph, target } = optimizeModel(model(), { target: TARGET });
    const tasks = extractTasks(graph, target).filter((t) => t.decisions > 0);
    assert.equal(tasks.length, 2, 'two matmul workloads with open choices');
    const db = TuningDatabase.load(file);
    const progress: number[] = [];
    const r = await tune(graph, { target, trials: 14, batch: 4, db, measureMs: 2, onProgress: (p) => progress.push(p.trials) });
    assert.ok(r.trials >= 2 && r.trials <= 14, `trials ${r.trials}`);
    assert.deepEqual(progress, [...progress].sort((a, b) => a - b), 'progress counts up');
    for (const t of r.tasks) assert.ok(t.bestMs <= t.baselineMs && Number.isFinite(t.bestMs), `${t.name}: best ${t.bestMs} vs default ${t.baselineMs}`);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as TuningRecord);
    assert.ok(lines.length >= 2, 'every measurement is appended as it is made');
    assert.ok(lines.every((l) => tasks.some((t) => t.workload === l.workload) && l.target === target.toString() && l.ms > 0));
    // A fresh load of the file applies the best record of each workload, with the same result.
    const want = await outputOf();
    const got = await outputOf(TuningDatabase.load(file));
    assert.equal(got.applied, 2);
    assert.deepEqual(got.refused, []);
    assert.equal(sameOutputs([{ data: got.y }], [{ data: want.y }], [true]), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tune: records that no longer replay, or replay to another program, are refused and the default is used', async () => {
  const { graph, target } = optimizeModel(model(), { target: TARGET });
  const db = new TuningDatabase();
  await tune(graph, { target, trials: 2, db, measureMs: 1 });
  const [a, b] = db.all();
  assert.ok(a && b);
  const broken = new TuningDatabase();
  // A split of a loop that is not there, and a trace whose result hash is not the recorded one.
  broken.add({ ...a, trace: [...a.trace, { prim: 'split', loop: 'no_such_loop', factors: [-1, 2] }] });
  broken.add({ ...b, scheduled: '0000000000000000' });
  const r = await outputOf(broken);
  assert.equal(r.applied, 0);
  assert.equal(r.refused?.length, 2);
  assert.match(r.refused![0]!, /does not replay.*no_such_loop/);
  assert.match(r.refused![1]!, /replays to a different program/);
  assert.equal(sameOutputs([{ data: r.y }], [{ data: (await outputOf()).y }], [true]), undefined);
});

test('tune: an aborted run stops at once and keeps what it measured; a bad records file names its line', async () => {
  const { graph, target } = optimizeModel(model(), { target: TARGET });
  const abort = new AbortController();
  abort.abort();
  const db = new TuningDatabase();
  const r = await tune(graph, { target, trials: 100, db, signal: abort.signal });
  assert.equal(r.stopped, 'interrupted');
  assert.equal(r.trials, 0);
  const dir = mkdtempSync(join(tmpdir(), 'tessera-records-'));
  try {
    const file = join(dir, 'bad.jsonl');
    writeFileSync(file, '{"workload":"x"}\n');
    assert.throws(() => TuningDatabase.load(file), (e: unknown) => e instanceof RecordsError && e.message.includes(`${file}:1`) && /not a tuning record/.test(e.message));
    writeFileSync(file, '\nnot json\n');
    assert.throws(() => TuningDatabase.load(file), (e: unknown) => e instanceof RecordsError && e.message.includes(`${file}:2: not JSON`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tune: a candidate\'s outputs must match the default schedule\'s before its time counts', () => {
  const want = [{ data: Float32Array.from([1, 2, 3, NaN]) }];
  assert.equal(sameOutputs([{ data: Float32Array.from([1.0000001, 2, 3, NaN]) }], want, [true]), undefined);
  assert.match(sameOutputs([{ data: Float32Array.from([1, 2.01, 3, NaN]) }], want, [true])!, /element 1: 2.0099/);
  assert.match(sameOutputs([{ data: Float32Array.from([1, 2, 3, 4]) }], want, [true])!, /element 3/);
  assert.match(sameOutputs([{ data: Int32Array.from([1, 2]) }], [{ data: Int32Array.from([1, 3]) }], [false])!, /element 1: 2/);
  assert.match(sameOutputs([{ data: new Float32Array(3) }], want, [true])!, /3 elements, the default's 4/);
});

test('tune: the runner reports a measurement that overruns its time limit and replaces its worker', async () => {
  const runner = new MeasureRunner();
  try {
    const r = compile(model(), { target: TARGET });
    const { serializeExecutable } = await import('../../src/runtime/artifact.js');
    const artifact = serializeExecutable(r.executable);
    const feeds = [{ name: 'x', type: 'float32' as const, dims: [16, 64], data: new Float32Array(16 * 64) }];
    const slow = await runner.measure({ artifact, feeds, threads: 1, minMs: 60_000, maxRuns: 1e9 }, 300);
    assert.equal(slow.ok, false);
    assert.match(slow.ok ? '' : slow.error, /timed out after 0.3 s/);
    const ok = await runner.measure({ artifact, feeds, threads: 1, minMs: 1, maxRuns: 5 }, 60_000);
    assert.ok(ok.ok && ok.ms > 0 && ok.outputs.length === 1);
    const bad = await runner.measure({ artifact: new Uint8Array([1, 2, 3]), feeds, threads: 1, minMs: 1, maxRuns: 5 }, 60_000);
    assert.equal(bad.ok, false);
  } finally {
    await runner.close();
  }
});

test('tune: the best record of a workload is the program with the fastest median, repeated measurements first', () => {
  const db = new TuningDatabase();
  const base = { workload: 'w', target: 't', device: 'd', kernel: 'k', trace: [], baselineMs: 1, flops: 1, time: '' };
  db.add({ ...base, scheduled: 'lucky', ms: 0.5 }); // measured once, fast
  db.add({ ...base, scheduled: 'a', ms: 0.9 });
  db.add({ ...base, scheduled: 'a', ms: 0.7 });
  db.add({ ...base, scheduled: 'a', ms: 5 }); // one outlier: the median is 0.9
  db.add({ ...base, scheduled: 'b', ms: 0.8 });
  db.add({ ...base, scheduled: 'b', ms: 0.9 });
  assert.deepEqual(db.ranked('w', 't', 'd').map((r) => [r.scheduled, +r.ms.toFixed(3)]), [['b', 0.85], ['a', 0.9]]);
  assert.equal(db.best('w', 't', 'd')!.scheduled, 'b');
  assert.notEqual(db.best('w', 't', 'd')!.scheduled, 'lucky', 'a single measurement does not beat confirmed ones');
  // With nothing confirmed, the fastest single measurement; another device's records when this one has none.
  const one = new TuningDatabase();
  one.add({ ...base, scheduled: 'x', ms: 2 });
  one.add({ ...base, scheduled: 'y', ms: 1 });
  assert.equal(one.best('w', 't', 'other-device')!.scheduled, 'y');
  assert.equal(one.best('w', 'other-target', 'd'), undefined);
});

test('tune: records carry over to another model that shares a workload (same shapes, other weights)', async () => {
  const { graph, target } = optimizeModel(model(), { target: TARGET });
  const db = new TuningDatabase();
  await tune(graph, { target, trials: 4, db, measureMs: 1 });
  // The first layer's shapes again with other weights, then a second layer of another width.
  const rand = seededRandom(9);
  const t = (dims: number[]): Tensor => new Tensor('float32', Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rand() - 0.5), dims);
  const other = makeModel({
    nodes: [
      { op: 'MatMul', inputs: ['x', 'w1'], outputs: ['h'] },
      { op: 'Add', inputs: ['h', 'b1'], outputs: ['hb'] },
      { op: 'Relu', inputs: ['hb'], outputs: ['r'] },
      { op: 'MatMul', inputs: ['r', 'w2'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', dtype: 'float32', shape: [16, 64] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [16, 40] }],
    initializers: { w1: t([64, 48]), b1: t([48]), w2: t([48, 40]) },
  });
  const x = new Tensor('float32', Float32Array.from({ length: 16 * 64 }, (_, i) => Math.cos(i)), [16, 64]);
  const run = async (records?: TuningDatabase): Promise<{ y: Float32Array; applied?: number }> => {
    const r = compile(other, { target: TARGET, ...(records ? { records } : {}) });
    const ex = await Executor.load(r.executable);
    const y = (await ex.run({ x })).y!.data as Float32Array;
    await ex.dispose();
    return { y, ...(r.records ? { applied: r.records.applied } : {}) };
  };
  const tuned = await run(db);
  assert.equal(tuned.applied, 1, 'the shared first layer takes its record; the second layer has none');
  assert.equal(sameOutputs([{ data: tuned.y }], [{ data: (await run()).y }], [true]), undefined);
});

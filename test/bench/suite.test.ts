/** The peer benchmark's machinery (no timing is asserted: only that every peer ran and the table holds their medians and ratios). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runSuite } from '../../src/bench/suite.js';
import { peerMissing } from '../../src/bench/tasks.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');

test('runSuite runs tessera and both onnxruntime peers, each in its own process, and tabulates medians and ratios', { timeout: 120_000 }, () => {
  const progress: string[] = [];
  const lines = runSuite({
    tasks: [{ kind: 'model', name: 'mlp', dir: join(ROOT, 'models', 'mlp_784_512_10') }],
    passes: 1, threads: [1], warmupMs: 20, runs: 2, progress: (l) => progress.push(l),
  });
  assert.equal(progress.length, 3, progress.join('\n'));
  for (const peer of ['tessera-wasm', 'ort-web', 'ort-node']) assert.ok(progress.some((l) => new RegExp(`mlp x1 ${peer}: [0-9.]+ ms$`).test(l)), `${peer} ran: ${progress.join(' | ')}`);
  const row = lines.find((l) => l.startsWith('mlp'));
  assert.ok(row, lines.join('\n'));
  const cells = row.trim().split(/\s+/);
  // task, threads, tessera, ort-web, ort-node, jax-js (-: no ONNX importer), 3 ratios, GFLOP/s, %peak (-: no peak task)
  assert.equal(cells.length, 11, row);
  for (const i of [2, 3, 4, 6, 7, 9]) assert.ok(Number(cells[i]) > 0, `column ${i} of ${row}`);
  assert.equal(cells[5], '-');
});

test('a peer that is not installed is named with the reason it is skipped', () => {
  for (const pkg of ['onnxruntime-node', 'onnxruntime-web', '@jax-js/jax']) assert.equal(peerMissing(pkg), undefined, pkg);
  assert.match(peerMissing('tessera-no-such-peer') ?? '', /^tessera-no-such-peer is not installed \(a devDependency of tessera/);
});

test('tessera bench <model> --peers prints the peer table for that model; bad thread counts are refused', () => {
  const cli = join(ROOT, 'dist', 'src', 'cli', 'main.js');
  const model = join(ROOT, 'models', 'mlp_784_512_10');
  const r = spawnSync(process.execPath, [cli, 'bench', model, '--peers', '--passes', '1', '--peer-threads', '1', '--runs', '2', '--warmup-ms', '20'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const row = r.stdout.split('\n').find((l) => l.startsWith('mlp_784_512_10'));
  assert.ok(row, r.stdout);
  const cells = row.trim().split(/\s+/);
  for (const i of [2, 3, 4, 6, 7]) assert.ok(Number(cells[i]) > 0, `column ${i} of ${row}`);
  assert.match(r.stderr, /pass 1\/1 mlp_784_512_10 x1 ort-web: [0-9.]+ ms/);
  const bad = spawnSync(process.execPath, [cli, 'bench', model, '--peers', '--peer-threads', '0'], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--peer-threads 0: positive integers/);
});

test('with tuning records, runSuite also runs the model tuned and tabulates tuned against untuned and onnxruntime-web', { timeout: 180_000 }, async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { optimizeModel } = await import('../../src/driver.js');
  const { tune } = await import('../../src/tune/tuner.js');
  const { TuningDatabase } = await import('../../src/tune/records.js');
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-records-'));
  try {
    const file = join(dir, 'mlp.jsonl');
    const model = join(ROOT, 'models', 'mlp_784_512_10');
    const { graph, target } = optimizeModel(join(model, 'model.onnx'), { target: 'wasm -threads=1' });
    await tune(graph, { target, trials: 4, db: TuningDatabase.load(file), measureMs: 1 });
    const progress: string[] = [];
    const lines = runSuite({ tasks: [{ kind: 'model', name: 'mlp', dir: model }], passes: 1, threads: [1], warmupMs: 20, runs: 2, records: [file], progress: (l) => progress.push(l) });
    assert.ok(progress.some((l) => /mlp x1 tessera-tuned: [0-9.]+ ms$/.test(l)), progress.join(' | '));
    const at = lines.findIndex((l) => l.startsWith('tuned (tessera-tuned'));
    assert.ok(at > 0, lines.join('\n'));
    const row = lines.slice(at).find((l) => l.startsWith('mlp'))!;
    const cells = row.trim().split(/\s+/);
    assert.equal(cells.length, 7, row);
    for (const i of [2, 3, 4, 5, 6]) assert.ok(Number(cells[i]) > 0, `column ${i} of ${row}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a sweep kernel runs in its own process and reports its own kernel\'s time and flops', async () => {
  const { runWorker } = await import('../../src/bench/suite.js');
  const { sweepTasks } = await import('../../src/bench/sweep.js');
  assert.ok(sweepTasks().length >= 40);
  const conv = runWorker({ peer: 'tessera-wasm', task: { kind: 'conv', name: 'c', ci: 8, co: 8, hw: 8, k: 3, stride: 1, groups: 2 }, threads: 1, warmupMs: 10, runs: 2 });
  assert.ok(conv.kernelMs! > 0 && conv.kernelFlops! >= 2 * 8 * 64 * 4 * 9, JSON.stringify(conv));
  const bmm = runWorker({ peer: 'tessera-wasm', task: { kind: 'gemm', name: 'g', m: 4, n: 8, k: 16, batch: 2 }, threads: 1, warmupMs: 10, runs: 2 });
  assert.ok(bmm.kernelMs! > 0 && bmm.kernelFlops === 2 * 2 * 4 * 8 * 16, JSON.stringify(bmm));
});

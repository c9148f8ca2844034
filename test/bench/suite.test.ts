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

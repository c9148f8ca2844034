/** The peer benchmark's machinery (no timing is asserted: only that every peer ran and the table holds their medians and ratios). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { runSuite } from '../../src/bench/suite.js';

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

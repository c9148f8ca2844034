/** The command line's targets: `tessera targets` lists them, and a bad target string is refused before anything compiles. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const tessera = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT });

test('tessera targets lists every kind with its options and what it resolves to here', () => {
  const r = tessera('targets');
  assert.equal(r.status, 0, r.stderr);
  for (const kind of ['wasm', 'js', 'webgpu']) assert.match(r.stdout, new RegExp(`^${kind} `, 'm'));
  assert.match(r.stdout, /-threads=N +threads the kernels may run on/);
  assert.match(r.stdout, /-\[no-\]fma/);
  assert.match(r.stdout, /here: "wasm -threads=1 -(no-)?fma"/);
});

test('a bad --target is refused with what the kind takes; a good one names its canonical string', () => {
  const bad = tessera('run', join('models', 'mlp_784_512_10'), '-t', 'wasm -thread=2');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /unknown option -thread; target 'wasm' takes: -threads=N/);
  const good = tessera('run', join('models', 'mlp_784_512_10'), '-t', 'wasm -threads=2 -no-fma');
  assert.equal(good.status, 0, good.stderr);
  assert.match(good.stdout, /kernels for wasm -threads=2 -no-fma in/);
});

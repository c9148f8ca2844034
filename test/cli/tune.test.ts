/** `tessera tune` on the command line: records as it goes, Ctrl-C keeps them, and compile/bench apply them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const MODEL = join(ROOT, 'models', 'mlp_784_512_10');
const TARGET = 'wasm -threads=1 -no-fma';
const tessera = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT });
const lines = (file: string): number => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0);

test('tessera tune: Ctrl-C stops after the measurement in flight, keeps the records and exits 130; run --records applies them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-cli-tune-'));
  try {
    const records = join(dir, 'mlp.jsonl');
    const child = spawn(process.execPath, [CLI, 'tune', MODEL, '--records', records, '--trials', '100000', '--measure-ms', '2', '-t', TARGET], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    // Wait for a few records, then interrupt.
    for (let i = 0; i < 600 && lines(records) < 4; i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(lines(records) >= 4, `records appear as candidates are measured (stderr: ${stderr.slice(-500)})`);
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 130, stderr.slice(-500));
    assert.match(stderr, /interrupted: stopping after the measurement in flight/);
    assert.match(stdout, /stopped: interrupted/);
    assert.match(stdout, /task +kernels +MFLOP +default ms +best ms/);
    const kept = lines(records);
    assert.ok(kept >= 4);
    for (const line of readFileSync(records, 'utf8').split('\n').filter(Boolean)) JSON.parse(line); // every line whole
    const run = tessera('run', MODEL, '--records', records, '-t', TARGET);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /tuning records: [1-9]\d* of \d+ kernels scheduled by a record/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tessera tune needs --records; --records names a file that exists for compile', () => {
  const r = tessera('tune', MODEL, '--trials', '5');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /tune needs --records FILE/);
  const c = tessera('run', MODEL, '--records', join(tmpdir(), 'no-such-records-file.jsonl'));
  assert.notEqual(c.status, 0);
  assert.match(c.stderr, /--records .*no such file/);
});

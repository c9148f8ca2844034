/**
 * The runtime in a browser: headless Chromium loads a compiled .tsra artifact through the
 * runtime's ES modules (no compiler), runs it on 1 thread and on 2 (the second thread a
 * module Web Worker over a shared memory, the page cross-origin isolated) and must match
 * the model's reference output. Skipped, with a message, where no Chromium is installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { compile } from '../../src/driver.js';
import { serializeExecutable } from '../../src/runtime/artifact.js';
import { decodeTensor } from '../../src/frontend/onnx/proto.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const MODEL = join(ROOT, 'models', 'squeezenet1_1');
const browser = ['chromium', 'chromium-browser', 'google-chrome'].find((b) => spawnSync('which', [b]).status === 0);

const PAGE = `<!doctype html><script type="module">
const post = (o) => fetch('/result', { method: 'POST', body: JSON.stringify(o) });
const Base = globalThis.Worker;
let workers = 0;
globalThis.Worker = class extends Base { constructor(...a) { super(...a); workers++; } };
try {
  const { Executor } = await import('/dist/src/runtime/executor.js');
  const { deserializeExecutable } = await import('/dist/src/runtime/artifact.js');
  const { Tensor } = await import('/dist/src/runtime/tensor.js');
  const c = await (await fetch('/case.json')).json();
  const exe = deserializeExecutable(new Uint8Array(await (await fetch('/model.tsra')).arrayBuffer()));
  const x = new Float32Array(await (await fetch('/input.bin')).arrayBuffer());
  const runs = [];
  for (const threads of [1, 2]) {
    const before = workers;
    const ex = await Executor.load(exe, { threads });
    const out = await ex.run({ [c.input]: new Tensor('float32', x, c.shape) });
    runs.push({ threads, workers: workers - before, output: Array.from(out[c.output].data) });
    ex.dispose();
  }
  await post({ isolated: crossOriginIsolated, runs });
} catch (e) {
  await post({ error: String((e && e.stack) || e) });
}
</script>`;

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html', '.json': 'application/json' };

interface Result {
  error?: string;
  isolated?: boolean;
  runs?: { threads: number; workers: number; output: number[] }[];
}

test('the runtime runs a .tsra artifact in headless Chromium on 1 thread and on 2 (a module Web Worker)', {
  skip: browser ? false : 'no chromium on this machine (apt-get install chromium): the browser test is skipped',
  timeout: 120_000,
}, async () => {
  const exe = compile(join(MODEL, 'model.onnx'), { target: 'wasm', threads: 2, fma: false }).executable;
  const input = decodeTensor(readFileSync(join(MODEL, 'test_data_set_0', 'input_0.pb'))).tensor;
  const want = decodeTensor(readFileSync(join(MODEL, 'test_data_set_0', 'output_0.pb'))).tensor;
  const files: Record<string, { body: Uint8Array | string; type: string }> = {
    '/': { body: PAGE, type: 'text/html' },
    '/model.tsra': { body: serializeExecutable(exe), type: 'application/octet-stream' },
    '/input.bin': { body: new Uint8Array(input.data.buffer, input.data.byteOffset, input.data.byteLength), type: 'application/octet-stream' },
    '/case.json': { body: JSON.stringify({ input: exe.inputs[0]!.name, output: exe.outputs[0]!.name, shape: input.dims }), type: 'application/json' },
  };
  let settle: (r: Result) => void = () => {};
  const result = new Promise<Result>((res) => { settle = res; });
  const server = createServer((req, res) => {
    // Cross-origin isolation: SharedArrayBuffer (a shared wasm memory) needs both headers.
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'POST' && path === '/result') {
      let body = '';
      req.on('data', (d: Buffer) => { body += d.toString(); });
      req.on('end', () => { res.end('ok'); settle(JSON.parse(body) as Result); });
      return;
    }
    const file = files[path];
    if (file) {
      res.setHeader('Content-Type', file.type);
      res.end(file.body);
      return;
    }
    const local = normalize(join(ROOT, path));
    if (path.startsWith('/dist/src/runtime/') && local.startsWith(join(ROOT, 'dist', 'src', 'runtime'))) {
      try {
        res.setHeader('Content-Type', TYPES[extname(local)] ?? 'application/octet-stream');
        res.end(readFileSync(local));
        return;
      } catch { /* fall through to 404 */ }
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as AddressInfo).port;
  const profile = mkdtempSync(join(tmpdir(), 'tessera-chromium-'));
  const chrome = spawn(browser!, ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${profile}`, `http://127.0.0.1:${port}/`], { stdio: 'ignore', detached: true });
  const exited = new Promise<void>((res) => chrome.once('exit', () => res()));
  let timer: NodeJS.Timeout | undefined;
  try {
    const r = await Promise.race([result, new Promise<Result>((_, rej) => { timer = setTimeout(() => rej(new Error('no result from the page within 90 s')), 90_000); })]);
    assert.equal(r.error, undefined, r.error);
    assert.equal(r.isolated, true, 'the page is cross-origin isolated');
    assert.deepEqual(r.runs!.map((x) => [x.threads, x.workers]), [[1, 0], [2, 1]], 'one Web Worker joins the page for 2 threads');
    for (const run of r.runs!) {
      assert.equal(run.output.length, want.size);
      run.output.forEach((v, i) => {
        const w = Number(want.data[i]);
        assert.ok(Math.abs(v - w) <= 1e-4 + 1e-3 * Math.abs(w), `threads ${run.threads}: output[${i}] = ${v}, want ${w}`);
      });
    }
  } finally {
    clearTimeout(timer);
    // The whole process group: Chromium's renderer and GPU processes too.
    try { process.kill(-chrome.pid!, 'SIGKILL'); } catch { chrome.kill('SIGKILL'); }
    await exited;
    server.close();
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
});

/**
 * The runtime in a browser: headless Chromium loads a compiled .tsra artifact through the
 * runtime's ES modules (no compiler), runs it on 1 thread and on 2 (the second thread a
 * module Web Worker over a shared memory, the page cross-origin isolated) and must match
 * the model's reference output. Skipped, with a message, where no Chromium is installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile } from '../../src/driver.js';
import { serializeExecutable } from '../../src/runtime/artifact.js';
import { decodeTensor } from '../../src/frontend/onnx/proto.js';

import { ROOT, browser, runInChromium } from '../helpers/browser.js';

const MODEL = join(ROOT, 'models', 'squeezenet1_1');

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
  const r = await runInChromium<Result>({
    '/': { body: PAGE, type: 'text/html' },
    '/model.tsra': { body: serializeExecutable(exe), type: 'application/octet-stream' },
    '/input.bin': { body: new Uint8Array(input.data.buffer, input.data.byteOffset, input.data.byteLength), type: 'application/octet-stream' },
    '/case.json': { body: JSON.stringify({ input: exe.inputs[0]!.name, output: exe.outputs[0]!.name, shape: input.dims }), type: 'application/json' },
  }, ['--disable-gpu']);
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
});

/**
 * The webgpu target in a browser: headless Chromium (its SwiftShader adapter, with
 * --enable-unsafe-webgpu) loads webgpu artifacts through the runtime's ES modules (no
 * compiler) and runs them on navigator.gpu; the outputs must match the models' reference
 * outputs. Skipped, with a message, where no Chromium is installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { compile } from '../../src/driver.js';
import { serializeExecutable } from '../../src/runtime/artifact.js';
import { loadTestCase } from '../../src/frontend/onnx/testcase.js';
import { ROOT, browser, runInChromium, type PageFile } from '../helpers/browser.js';

/** The models the browser runs (the bundled ones a CPU emulation of a GPU gets through in seconds). */
const MODELS = [join('models', 'mlp_784_512_10'), join('models', 'squeezenet1_1'), join('test', 'data', 'models', 'gpt_decoder')];

const PAGE = `<!doctype html><script type="module">
const post = (o) => fetch('/result', { method: 'POST', body: JSON.stringify(o) });
const ARRAYS = { float32: Float32Array, int32: Int32Array, int64: BigInt64Array, uint8: Uint8Array, bool: Uint8Array };
try {
  if (!navigator.gpu) throw new Error('navigator.gpu is missing (secure context: ' + isSecureContext + ')');
  const { Executor } = await import('/dist/src/runtime/executor.js');
  const { deserializeExecutable } = await import('/dist/src/runtime/artifact.js');
  const { Tensor } = await import('/dist/src/runtime/tensor.js');
  const cases = await (await fetch('/cases.json')).json();
  const runs = [];
  for (const c of cases) {
    const exe = deserializeExecutable(new Uint8Array(await (await fetch('/' + c.id + '.tsra')).arrayBuffer()));
    const ex = await Executor.load(exe);
    const feeds = {};
    for (const inp of c.inputs) {
      const bytes = await (await fetch('/' + c.id + '/' + inp.name + '.bin')).arrayBuffer();
      feeds[inp.name] = new Tensor(inp.dtype, new ARRAYS[inp.dtype](bytes), inp.dims);
    }
    const out = await ex.run(feeds);
    runs.push({ id: c.id, outputs: Object.fromEntries(Object.entries(out).map(([k, t]) => [k, Array.from(t.data, Number)])) });
    await ex.dispose();
  }
  const adapter = await navigator.gpu.requestAdapter();
  await post({ runs, adapter: adapter ? adapter.info.architecture || adapter.info.vendor || 'unknown' : 'none' });
} catch (e) {
  await post({ error: String((e && e.stack) || e) });
}
</script>`;

interface Result {
  error?: string;
  adapter?: string;
  runs?: { id: string; outputs: Record<string, number[]> }[];
}

test('webgpu artifacts run in headless Chromium on navigator.gpu and match the references', {
  skip: browser ? false : 'no chromium on this machine (apt-get install chromium): the browser WebGPU test is skipped',
  timeout: 240_000,
}, async () => {
  const files: Record<string, PageFile> = { '/': { body: PAGE, type: 'text/html' } };
  const cases: { id: string; inputs: { name: string; dtype: string; dims: readonly number[] }[] }[] = [];
  const references = new Map<string, { name: string; data: ArrayLike<number | bigint> }[]>();
  for (const [i, dir] of MODELS.entries()) {
    const tc = loadTestCase(join(ROOT, dir));
    const exe = compile(tc.modelPath, { target: 'webgpu' }).executable;
    const id = `m${i}`;
    files[`/${id}.tsra`] = { body: serializeExecutable(exe), type: 'application/octet-stream' };
    const ds = tc.dataSets[0]!;
    cases.push({ id, inputs: exe.inputs.map((slot, k) => ({ name: slot.name, dtype: slot.dtype, dims: ds.inputs[k]!.dims })) });
    exe.inputs.forEach((slot, k) => {
      const t = ds.inputs[k]!;
      files[`/${id}/${slot.name}.bin`] = { body: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), type: 'application/octet-stream' };
    });
    references.set(id, exe.outputs.map((slot, k) => ({ name: slot.name, data: ds.outputs[k]!.data })));
  }
  files['/cases.json'] = { body: JSON.stringify(cases), type: 'application/json' };
  const r = await runInChromium<Result>(files, ['--enable-unsafe-webgpu'], 220_000);
  assert.equal(r.error, undefined, r.error);
  console.log(`chromium's WebGPU adapter: ${r.adapter}`);
  assert.equal(r.runs!.length, MODELS.length);
  for (const run of r.runs!) {
    for (const ref of references.get(run.id)!) {
      const got = run.outputs[ref.name]!;
      assert.equal(got.length, ref.data.length, `${run.id} ${ref.name}`);
      for (let i = 0; i < got.length; i++) {
        const w = Number(ref.data[i]);
        assert.ok(Math.abs(got[i]! - w) <= 1e-4 + 1e-3 * Math.abs(w), `${MODELS[Number(run.id.slice(1))]}: ${ref.name}[${i}] = ${got[i]}, want ${w}`);
      }
    }
  }
});

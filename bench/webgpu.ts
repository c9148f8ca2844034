/**
 * `npm run bench:webgpu`: Tessera's webgpu target against onnxruntime-web's WebGPU
 * execution provider, in the same headless Chromium, on the same models and inputs (each
 * model's test_data_set_0). Every configuration (peer × model) runs in a fresh browser;
 * peers alternate within each pass; a run's time includes reading the outputs back. The
 * table gives the median over passes of each page's median, and the ratio Tessera/ORT.
 *
 * Without a GPU, Chromium's adapter is SwiftShader, a CPU emulation of Vulkan: its
 * figures say how the two compare there, not how either does on a GPU (never tune on them).
 *
 *   npm run bench:webgpu -- [--models mlp_784_512_10,squeezenet1_1] [--passes 3] [--runs 5]
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { compile } from '../src/driver.js';
import { serializeExecutable } from '../src/runtime/artifact.js';
import { loadTestCase } from '../src/frontend/onnx/testcase.js';
import { median } from '../src/bench/measure.js';
import { ROOT, browser, runInChromium, type PageFile } from '../src/bench/chromium.js';

const MODEL_DIRS = [join(ROOT, 'models'), join(ROOT, 'test', 'data', 'models'), join(ROOT, '..', 'shared', 'models')];

type Peer = 'tessera-webgpu' | 'ort-web-webgpu';

const TIMING = `
const ARRAYS = { float32: Float32Array, int32: Int32Array, int64: BigInt64Array, uint8: Uint8Array, bool: Uint8Array };
const post = (o) => fetch('/result', { method: 'POST', body: JSON.stringify(o) });
const c = await (await fetch('/case.json')).json();
const inputs = [];
for (const inp of c.inputs) inputs.push({ ...inp, data: new ARRAYS[inp.dtype](await (await fetch('/' + inp.name + '.bin')).arrayBuffer()) });
async function time(run) {
  const t0 = performance.now();
  await run();
  const first = performance.now() - t0;
  for (let i = 1; i < c.warmup; i++) await run();
  const ms = [];
  for (let i = 0; i < c.runs; i++) { const t = performance.now(); await run(); ms.push(performance.now() - t); }
  ms.sort((a, b) => a - b);
  return { first, median: ms[ms.length >> 1] };
}
`;

const TESSERA_PAGE = `<!doctype html><script type="module">
${TIMING}
try {
  const { Executor } = await import('/dist/src/runtime/executor.js');
  const { deserializeExecutable } = await import('/dist/src/runtime/artifact.js');
  const { Tensor } = await import('/dist/src/runtime/tensor.js');
  const ex = await Executor.load(deserializeExecutable(new Uint8Array(await (await fetch('/model.tsra')).arrayBuffer())));
  const feeds = Object.fromEntries(inputs.map((i) => [i.name, new Tensor(i.dtype, i.data, i.dims)]));
  await post(await time(() => ex.run(feeds)));
} catch (e) { await post({ error: String((e && e.stack) || e) }); }
</script>`;

const ORT_PAGE = `<!doctype html><script type="module">
${TIMING}
try {
  const ort = await import('/ort/ort.webgpu.min.mjs');
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = 1;
  const model = new Uint8Array(await (await fetch('/model.onnx')).arrayBuffer());
  const session = await ort.InferenceSession.create(model, { executionProviders: ['webgpu'] });
  const feeds = Object.fromEntries(inputs.map((i) => [i.name, new ort.Tensor(i.dtype, i.data, i.dims)]));
  await post(await time(async () => { const out = await session.run(feeds); for (const t of Object.values(out)) await t.getData(); }));
} catch (e) { await post({ error: String((e && e.stack) || e) }); }
</script>`;

interface PageResult { first?: number; median?: number; error?: string }

function main(): Promise<void> | void {
  const opts = new Command()
    .option('--models <list>', 'models (from models/, test/data/models or ../shared/models)', 'mlp_784_512_10,squeezenet1_1,gpt_decoder,bert_encoder_4l_256h')
    .option('--passes <n>', 'passes over all configurations', (v) => Number(v), 3)
    .option('--runs <n>', 'timed runs per page', (v) => Number(v), 5)
    .option('--warmup <n>', 'untimed runs first', (v) => Number(v), 2)
    .parse(process.argv)
    .opts<{ models: string; passes: number; runs: number; warmup: number }>();
  if (!browser) {
    console.log('no chromium on this machine (apt-get install chromium): nothing to benchmark');
    return;
  }
  return (async () => {
    const results = new Map<string, PageResult[]>();
    const models = opts.models.split(',').filter(Boolean).map((name) => ({ name, dir: MODEL_DIRS.map((d) => join(d, name)).find((d) => existsSync(join(d, 'model.onnx'))) }));
    const prepared = new Map<string, Record<string, PageFile>>();
    for (const m of models) {
      if (!m.dir) { console.log(`(skipping ${m.name}: not found)`); continue; }
      const tc = loadTestCase(m.dir);
      const exe = compile(tc.modelPath, { target: 'webgpu' }).executable;
      const ds = tc.dataSets[0]!;
      const files: Record<string, PageFile> = {
        '/model.tsra': { body: serializeExecutable(exe), type: 'application/octet-stream' },
        '/model.onnx': { body: readFileSync(tc.modelPath), type: 'application/octet-stream' },
        '/case.json': { body: JSON.stringify({ runs: opts.runs, warmup: opts.warmup, inputs: exe.inputs.map((s, k) => ({ name: s.name, dtype: s.dtype, dims: ds.inputs[k]!.dims })) }), type: 'application/json' },
      };
      exe.inputs.forEach((s, k) => {
        const t = ds.inputs[k]!;
        files[`/${s.name}.bin`] = { body: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), type: 'application/octet-stream' };
      });
      prepared.set(m.name, files);
    }
    const peers: Peer[] = ['tessera-webgpu', 'ort-web-webgpu'];
    for (let pass = 0; pass < opts.passes; pass++) {
      for (const [name, files] of prepared) {
        for (const peer of pass % 2 === 0 ? peers : [...peers].reverse()) {
          const page = peer === 'tessera-webgpu' ? TESSERA_PAGE : ORT_PAGE;
          let r: PageResult;
          try {
            r = await runInChromium<PageResult>({ ...files, '/': { body: page, type: 'text/html' } }, ['--enable-unsafe-webgpu'], 900_000);
          } catch (e) {
            r = { error: (e as Error).message };
          }
          process.stderr.write(`pass ${pass + 1} ${name} ${peer}: ${r.error ? `failed: ${r.error.split('\n')[0]}` : `${r.median!.toFixed(2)} ms (first ${r.first!.toFixed(0)} ms)`}\n`);
          const key = `${name}\t${peer}`;
          results.set(key, [...(results.get(key) ?? []), r]);
        }
      }
    }
    console.log('Tessera webgpu vs onnxruntime-web WebGPU EP, headless Chromium (SwiftShader unless a GPU is present); median ms per run incl. read-back');
    console.log(`${'model'.padEnd(24)} ${'tessera'.padStart(10)} ${'ort-web'.padStart(10)} ${'ratio'.padStart(7)}`);
    for (const name of prepared.keys()) {
      const med = (peer: Peer): number | undefined => {
        const ok = (results.get(`${name}\t${peer}`) ?? []).filter((r) => r.median !== undefined).map((r) => r.median!);
        return ok.length ? median(ok) : undefined;
      };
      const t = med('tessera-webgpu');
      const o = med('ort-web-webgpu');
      const fmt = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(2));
      console.log(`${name.padEnd(24)} ${fmt(t).padStart(10)} ${fmt(o).padStart(10)} ${(t !== undefined && o !== undefined ? (t / o).toFixed(2) : '-').padStart(7)}`);
    }
  })();
}

void main();

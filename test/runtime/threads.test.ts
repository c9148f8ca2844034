import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { InferenceSession } from '../../src/index.js';
import { loadTestCase } from '../../src/frontend/onnx/testcase.js';
import { compareTensors } from '../../src/check.js';
import { compile } from '../../src/driver.js';
import { chunkSize, ctlSlots, runChunks } from '../../src/runtime/devices/thread_pool.js';
import { isWasmModule } from '../../src/runtime/devices/wasm.js';

test('kernels with parallel loops run on 2 threads with the same results', async () => {
  const tc = loadTestCase(join('models', 'squeezenet1_1'));
  const compiled = compile(tc.modelPath, { target: 'wasm', threads: 2 });
  const exe = compiled.executable;
  assert.equal(exe.threads, 2);
  assert.ok(isWasmModule(exe.module) && exe.module.sharedMemory, 'a threaded module imports a shared memory');
  const split = isWasmModule(exe.module) ? Object.values(exe.module.regions ?? {}) : [];
  assert.ok(split.length >= 20, `most kernels have parallel regions (got ${split.length})`);
  const s2 = await InferenceSession.create(tc.modelPath, { target: 'wasm', threads: 2 });
  const feeds = { [s2.inputNames[0]!]: tc.dataSets[0]!.inputs[0]! };
  try {
    for (let i = 0; i < 3; i++) {
      const out = await s2.run(feeds);
      const m = compareTensors(out[s2.outputNames[0]!]!, tc.dataSets[0]!.outputs[0]!, { rtol: 1e-3, atol: 1e-4 });
      assert.equal(m, undefined, `run ${i} on 2 threads matches the reference`);
    }
  } finally {
    s2.release();
  }
});

test('parallel loops are cut into chunks taken from a shared counter, each iteration exactly once', () => {
  const ctl = new Int32Array(new SharedArrayBuffer(ctlSlots(0) * 4));
  assert.equal(chunkSize(4, 2), 1);
  assert.equal(chunkSize(100, 2), 13);
  const seen: number[] = [];
  runChunks(ctl, 10, 3, (b, e) => { for (let i = b; i < e; i++) seen.push(i); });
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // The counter is spent: a late thread finds nothing left.
  runChunks(ctl, 10, 3, () => assert.fail('no chunk should remain'));
});

/** Relaxed-SIMD fused multiply-add: used where the engine has it, and results stay right. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { compile } from '../../src/driver.js';
import { relaxedSimdSupported } from '../../src/target/index.js';
import { isWasmModule } from '../../src/runtime/devices/wasm.js';

const driver = fileURLToPath(new URL('../../src/driver.js', import.meta.url));
const check = fileURLToPath(new URL('../../src/check.js', import.meta.url));

test('fma is off where the engine lacks relaxed SIMD, and can be turned off', () => {
  const off = compile('models/mlp_784_512_10/model.onnx', { target: 'wasm', fma: false });
  assert.ok(isWasmModule(off.executable.module) && !off.executable.module.relaxedSimd);
  const auto = compile('models/mlp_784_512_10/model.onnx', { target: 'wasm' });
  assert.ok(isWasmModule(auto.executable.module));
  assert.equal(auto.executable.module.relaxedSimd, relaxedSimdSupported(), 'by default fma follows what this engine supports');
});

test('with relaxed SIMD, matmul kernels use relaxed_madd and models still match their references', () => {
  // Node 20 has relaxed SIMD behind a flag: run the check in a child process that enables it.
  const script = `
    const { compile } = await import(${JSON.stringify(driver)});
    const { checkCase } = await import(${JSON.stringify(check)});
    const r = compile('models/squeezenet1_1/model.onnx', { target: 'wasm' });
    const bytes = r.executable.module.bytes;
    // relaxed_madd is 0xfd 0x85 0x02.
    let uses = false;
    for (let i = 0; i + 2 < bytes.length; i++) if (bytes[i] === 0xfd && bytes[i + 1] === 0x85 && bytes[i + 2] === 0x02) uses = true;
    const res = await checkCase('models/squeezenet1_1', { target: 'wasm' }, { rtol: 1e-3, atol: 1e-4 });
    console.log(JSON.stringify({ flag: r.executable.module.relaxedSimd, uses, status: res.status, reason: res.reason }));`;
  const out = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  const r = JSON.parse(out.stdout.trim().split('\n').pop()!) as { flag: boolean; uses: boolean; status: string; reason?: string };
  assert.equal(r.flag, true);
  assert.equal(r.uses, true, 'the module contains f32x4.relaxed_madd');
  assert.equal(r.status, 'pass', r.reason);
});

/**
 * Compiling one model twice gives byte-identical artifacts on every target: nothing of a
 * compilation's global state (the ids of variables and buffers, which keep counting across
 * compilations) reaches the generated code, and the kernels' loop IR is structurally the
 * same (tir/structural.ts). The webgpu target compiles without a GPU (codegen only).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { compile } from '../../src/driver.js';
import { serializeExecutable } from '../../src/runtime/artifact.js';
import { structuralEqual, structuralHash } from '../../src/tir/structural.js';

const MODELS = [
  join('models', 'mlp_784_512_10', 'model.onnx'),
  join('models', 'squeezenet1_1', 'model.onnx'),
  join('test', 'data', 'models', 'gpt_decoder', 'model.onnx'),
  join('test', 'data', 'models', 'cnn_dynamic_batch', 'model.onnx'),
];
const TARGETS = ['js', 'wasm', 'webgpu'];

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

for (const model of MODELS) {
  for (const target of TARGETS) {
    test(`${model} compiles to the same ${target} artifact twice`, () => {
      const [a, b] = [0, 1].map(() => compile(model, { target }));
      const bytesA = serializeExecutable(a!.executable);
      const bytesB = serializeExecutable(b!.executable);
      const at = firstDifference(bytesA, bytesB);
      assert.ok(at === bytesA.length && at === bytesB.length, `artifacts of ${bytesA.length} and ${bytesB.length} bytes differ from byte ${at}`);
      assert.equal(a!.kernels.length, b!.kernels.length);
      a!.kernels.forEach((k, i) => {
        const other = b!.kernels[i]!;
        assert.ok(structuralEqual(k.func, other.func), `${k.name}: the lowered loop IR is structurally equal`);
        assert.equal(structuralHash(k.scheduled), structuralHash(other.scheduled), `${k.name}: the scheduled loop IR hashes the same`);
      });
    });
  }
}

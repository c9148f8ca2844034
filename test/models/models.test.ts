/**
 * Whole-model checks against reference outputs (ONNX backend-test layout), on every
 * target, at the whole-model float32 tolerance rtol 1e-3 / atol 1e-4 (summation
 * order differs from the reference's; onnxruntime's own optimized run needs as much).
 * Default tier: the models bundled in models/. Extended tier: the bigger models in
 * ../shared/models, skipped with a message where ../shared is absent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkCase } from '../../src/check.js';
import { codegenKinds } from '../../src/codegen/index.js';
import { webgpuSkip } from '../helpers/gpu.js';

const TARGETS = codegenKinds();
const gpuSkip = await webgpuSkip();
const skipFor = (target: string): string | false => (target === 'webgpu' ? gpuSkip : false);

const TOL = { rtol: 1e-3, atol: 1e-4 };
/** Bundled: the default model directory, and small exported models (scripts/export_models.py). */
const BUNDLED = [
  join('models', 'mlp_784_512_10'), join('models', 'squeezenet1_1'), join('models', 'mobilenet_v2'),
  // A GPT-style decoder: causal mask (Where), fused qkv Split, tanh-GELU, LayerNormalization.
  join('test', 'data', 'models', 'gpt_decoder'),
  // A CNN exported with a dynamic batch axis; its two data sets have batch 1 and 3.
  join('test', 'data', 'models', 'cnn_dynamic_batch'),
];
const SHARED_DIR = join('..', 'shared', 'models');
const EXTENDED = ['resnet18', 'bert_encoder_4l_256h'];

for (const dir of BUNDLED) {
  for (const target of TARGETS) {
    test(`${dir} on ${target} matches the reference`, { skip: skipFor(target) }, async () => {
      const r = await checkCase(dir, { target }, TOL);
      assert.equal(r.status, 'pass', r.reason);
      // Every bundled model runs all its data sets from one compilation (the dynamic batch too).
      assert.equal(r.compilations, 1);
    });
  }
}

for (const name of EXTENDED) {
  const dir = join(SHARED_DIR, name);
  for (const target of TARGETS) {
    const skip = existsSync(dir) ? skipFor(target) : `extended tier: ${dir} is absent (needs ../shared beside the repo)`;
    test(`${name} on ${target} matches the reference (extended)`, { skip }, async () => {
      const r = await checkCase(dir, { target }, TOL);
      assert.equal(r.status, 'pass', r.reason);
    });
  }
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SUITES, knownFailures, runSuite } from './suite.js';
import { codegenKinds } from '../../src/codegen/index.js';
import { webgpuSkip } from '../helpers/gpu.js';

const TARGETS = codegenKinds();

for (const target of TARGETS) {
  const skip = target === 'webgpu' ? await webgpuSkip() : false;
  test(`ONNX backend suite on ${target}`, { skip }, async () => {
    const known = knownFailures(target);
    let passed = 0;
    let skipped = 0;
    const unexpected: string[] = [];
    const fixed: string[] = [];
    for (const suite of SUITES) {
      for (const { key, result } of await runSuite(suite, target)) {
        const reason = known[key];
        if (result.status === 'pass') {
          if (reason !== undefined) fixed.push(key);
          else passed++;
        } else if (reason !== undefined) {
          skipped++;
        } else {
          unexpected.push(`${key}: ${result.reason}`);
        }
      }
    }
    console.log(`onnx suite (${target}): ${passed} passed, ${unexpected.length} failed, ${skipped} skipped (known failures, see test/conformance/known_failures*.json)`);
    assert.deepEqual(unexpected, [], 'cases that are not listed as known failures must pass');
    assert.deepEqual(fixed, [], 'these cases pass now: remove them from known_failures.json (npm run conformance:update)');
  });
}

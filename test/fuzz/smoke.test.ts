/**
 * The fuzzer's smoke tier: a fixed-seed run over the small node cases, Tessera only, without
 * the onnx checker (CI need not have python3-onnx). Every mutant must end in a clean
 * TesseraError or run: a crash (any other error escaping compile or run), a hang or an
 * out-of-memory fails the test, with the report's groups and repro commands in the message.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFuzz } from '../../fuzz/run.js';
import { summarize } from '../../fuzz/report.js';

describe('fuzz smoke tier', () => {
  it('1000 mutants of the node cases (seed 1): no crash, hang or out-of-memory in Tessera', { timeout: 600_000 }, async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'tessera-fuzz-'));
    const r = await runFuzz({
      count: 1000, seed: 1, tier: 'smoke', engines: ['tessera'], outDir, jobs: 2, timeoutMs: 20_000, heapMb: 2048,
      truth: false, keepAll: false, log: () => undefined,
    });
    const s = summarize(r.records, 'tessera');
    assert.equal(s.mutants, 1000);
    // The mutants must reach the compiler, not only the protobuf decoder: some run.
    assert.ok(s.unknownAccepted > 10, `only ${s.unknownAccepted} mutants were accepted`);
    assert.equal(s.crash + s.hang + s.oom, 0, r.report);
    rmSync(outDir, { recursive: true, force: true }); // kept on failure: the report names its mutants
  });
});

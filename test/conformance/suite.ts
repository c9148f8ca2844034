/**
 * The ONNX backend conformance suite (test/data/onnx: node/, simple/, pytorch-converted/,
 * pytorch-operator/, ONNX 1.12, Apache-2.0), run through the same path as `tessera check`,
 * with the suite's own tolerance: rtol 1e-3, atol 1e-7.
 * known_failures.json lists every case expected not to pass, with the reason.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CaseResult, checkCase } from '../../src/check.js';

export const SUITES = ['node', 'simple', 'pytorch-converted', 'pytorch-operator'] as const;
export const DATA_DIR = join('test', 'data', 'onnx');
export const KNOWN_FAILURES_FILE = join('test', 'conformance', 'known_failures.json');
export const SUITE_TOLERANCE = { rtol: 1e-3, atol: 1e-7 };

/** Cases expected to fail on the webgpu target only (its f32 arithmetic for float64), with the reason. */
export const KNOWN_FAILURES_WEBGPU_FILE = join('test', 'conformance', 'known_failures_webgpu.json');

/** Case key → reason, for cases expected to fail on every target (and, for `target`, on that one). */
export function knownFailures(target?: string): Record<string, string> {
  const all = JSON.parse(readFileSync(KNOWN_FAILURES_FILE, 'utf8')) as Record<string, string>;
  if (target !== 'webgpu') return all;
  return { ...all, ...(JSON.parse(readFileSync(KNOWN_FAILURES_WEBGPU_FILE, 'utf8')) as Record<string, string>) };
}

export function suiteCases(suite: string): string[] {
  return readdirSync(join(DATA_DIR, suite)).filter((c) => c.startsWith('test_')).sort();
}

export async function runSuite(suite: string, target: string): Promise<{ key: string; result: CaseResult }[]> {
  const out: { key: string; result: CaseResult }[] = [];
  for (const c of suiteCases(suite)) {
    out.push({ key: `${suite}/${c}`, result: await checkCase(join(DATA_DIR, suite, c), { target }, SUITE_TOLERANCE) });
  }
  return out;
}

/**
 * The seeds the fuzzer mutates: ONNX models in the ONNX test layout (a directory holding
 * `model.onnx` and usually `test_data_set_0/input_*.pb`). The repo ships the node suite and
 * three public models; `../shared/models` adds the larger architectures when it is present.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface Seed {
  /** A short stable name: the directory relative to its corpus root (`node/test_abs`). */
  readonly name: string;
  /** The directory holding model.onnx (and test data). */
  readonly dir: string;
  readonly bytes: number;
}

export type Tier = 'smoke' | 'full';

/** Seeds above this size are public models: mutated less often (each compile takes seconds). */
export const LARGE_SEED_BYTES = 1 << 20;

/** The corpus roots of a tier, relative to the repository root (those absent are skipped). */
export function corpusRoots(tier: Tier, repoRoot: string): string[] {
  const repo = (p: string): string => resolve(repoRoot, p);
  const small = [repo('test/data/onnx/node'), repo('test/data/onnx/simple')];
  if (tier === 'smoke') return small;
  return [...small, repo('test/data/onnx/pytorch-operator'), repo('test/data/onnx/pytorch-converted'),
    repo('test/data/models'), repo('models'), resolve(repoRoot, '..', 'shared', 'models')];
}

/** Every seed under the tier's roots, sorted by name (stable across machines), duplicates by name dropped. */
export function loadCorpus(tier: Tier, repoRoot: string): Seed[] {
  const seen = new Map<string, Seed>();
  for (const root of corpusRoots(tier, repoRoot)) {
    if (!existsSync(root)) continue;
    const group = root.split(/[\\/]/).slice(-1)[0]!;
    for (const entry of readdirSync(root).sort()) {
      const dir = join(root, entry);
      const model = join(dir, 'model.onnx');
      if (!existsSync(model)) continue;
      const bytes = statSync(model).size;
      // The smoke tier keeps to cases that compile in well under a second.
      if (tier === 'smoke' && bytes > 64 * 1024) continue;
      // An architecture shipped twice (models/ and ../shared/models) is one seed.
      const name = `${group}/${entry}`;
      if (!seen.has(name)) seen.set(name, { name, dir, bytes });
    }
  }
  if (seen.size === 0) throw new Error(`fuzz: no seed models found under ${corpusRoots(tier, repoRoot).join(', ')}`);
  return [...seen.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

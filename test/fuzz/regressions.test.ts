/**
 * Every crash, hang or out-of-memory the fuzzer found, kept as a mutant file under
 * test/data/fuzz with what it did (manifest.json). Each must now end in the TesseraError
 * named there, or run; no other error may escape compile or run.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InferenceSession } from '../../src/api.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { TesseraError } from '../../src/runtime/error.js';
import { type FeedEdit, applyFeedEdit, planFeeds } from '../../fuzz/feeds.js';

interface Regression {
  /** The mutant file, in test/data/fuzz. */
  readonly file: string;
  /** What the mutation was, from the fuzz report. */
  readonly mutation: string;
  /** What Tessera did before the fix. */
  readonly found: string;
  /** The TesseraError subclass it ends in now, or "ran". */
  readonly expect: string;
  /** A pattern the error message must match. */
  readonly message?: string;
  /** For a feed-value mutant: the input element set (the other inputs are generated, seed 0). */
  readonly feedEdit?: FeedEdit;
}

const DIR = join('test', 'data', 'fuzz');
const cases = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as Regression[];

async function outcome(file: string, edit: FeedEdit | undefined): Promise<string> {
  const bytes = readFileSync(file);
  const plan = planFeeds(bytes, new Map(), 0);
  if ('feeds' in plan && edit) plan.feeds.splice(0, plan.feeds.length, ...applyFeedEdit(plan.feeds, edit));
  const session = await InferenceSession.create(file, { target: 'wasm' });
  try {
    if ('feeds' in plan) await session.run(Object.fromEntries(plan.feeds.map((f) => [f.name, new Tensor(f.dtype, f.data, f.dims)])));
  } finally {
    await session.release();
  }
  return 'ran';
}

describe('fuzz regressions', () => {
  for (const c of cases) {
    it(`${c.file}: ${c.mutation} (was: ${c.found})`, { timeout: 60_000 }, async () => {
      let got: string;
      let message = '';
      try {
        got = await outcome(join(DIR, c.file), c.feedEdit);
      } catch (e) {
        assert.ok(e instanceof TesseraError, `a non-Tessera error escaped: ${e instanceof Error ? e.stack : String(e)}`);
        got = e.name;
        message = e.message;
      }
      assert.equal(got, c.expect, message);
      if (c.message) assert.match(message, new RegExp(c.message));
    });
  }
});

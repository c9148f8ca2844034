/**
 * A fuzz worker: a child process that loads one engine and runs the mutants its parent sends
 * (over IPC), one at a time. It answers each with an EngineResult; a mutant that kills it, or
 * that it does not answer in time, is the parent's to classify (see pool.ts).
 */
import { readFileSync } from 'node:fs';
import { type EngineName, type EngineResult, loadEngine } from './engines.js';
import { type FeedEdit, applyFeedEdit, planFeeds, seedInputs } from './feeds.js';
import type { Tensor } from '../src/runtime/tensor.js';

export interface WorkerJob {
  readonly id: number;
  readonly file: string;
  readonly seedDir: string;
  readonly feedSeed: number;
  readonly feedEdit?: FeedEdit;
}

export type WorkerMessage = { readonly ready: true } | { readonly id: number; readonly result: EngineResult; readonly feedsSkipped?: string };

const engineName = process.argv[2] as EngineName;
const send = (m: WorkerMessage): void => {
  process.send!(m);
};

const seedCache = new Map<string, Map<string, Tensor>>();
function inputsOf(dir: string): Map<string, Tensor> {
  let m = seedCache.get(dir);
  if (!m) {
    if (seedCache.size > 64) seedCache.clear();
    m = seedInputs(dir);
    seedCache.set(dir, m);
  }
  return m;
}

let current: number | undefined;
// Anything escaping asynchronously (a rejected promise nobody awaited, an exception in a
// timer) is a crash of the mutant in flight.
const escaped = (e: unknown): void => {
  const err = e instanceof Error ? e : new Error(String(e));
  if (current === undefined) process.exit(70);
  // Exit only once the message is out: the parent would otherwise see a bare exit.
  process.send!({ id: current, result: { outcome: 'crash', errorName: `uncaught ${err.name}`, message: err.message, stack: err.stack ?? '', ms: 0 } }, () => process.exit(70));
};
process.on('uncaughtException', escaped);
process.on('unhandledRejection', escaped);

const run = await loadEngine(engineName);
process.on('message', (job: WorkerJob) => {
  current = job.id;
  const plan = planFeeds(readFileSync(job.file), inputsOf(job.seedDir), job.feedSeed);
  const feeds = 'feeds' in plan ? (job.feedEdit ? applyFeedEdit(plan.feeds, job.feedEdit) : plan.feeds) : undefined;
  void run({ file: job.file, feeds }).then(async (result) => {
    // Let the job's own stray timers and promise rejections fire while it is still current.
    await new Promise((res) => setTimeout(res, 0));
    current = undefined;
    send({ id: job.id, result, ...('skip' in plan ? { feedsSkipped: plan.skip } : {}) });
  });
});
send({ ready: true });

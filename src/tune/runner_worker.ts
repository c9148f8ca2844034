/**
 * The measuring worker (a worker thread the runner starts): loads a one-kernel executable,
 * runs it once for its outputs, then times its kernel step (the median of enough runs to
 * fill the time asked) and replies. Errors are replied, not thrown: the runner reports them.
 */
import { setFlagsFromString } from 'node:v8';
import { parentPort } from 'node:worker_threads';
import { deserializeExecutable } from '../runtime/artifact.js';
import { Executor } from '../runtime/executor.js';
import { Tensor } from '../runtime/tensor.js';
import type { MeasureReply, MeasureRequest } from './runner.js';

// V8 first compiles wasm with its baseline compiler and moves hot functions to optimized
// code later, in the background: a short measurement would time baseline code. Candidates
// are compiled optimized at once, as a warmed-up model runs.
setFlagsFromString('--no-liftoff');

async function measureOne(req: MeasureRequest): Promise<MeasureReply> {
  const exe = deserializeExecutable(req.artifact);
  const ex = await Executor.load(exe, { threads: req.threads });
  try {
    const feeds: Record<string, Tensor> = {};
    for (const f of req.feeds) feeds[f.name] = new Tensor(f.type, f.data, f.dims);
    const t0 = performance.now();
    const outs = await ex.run(feeds);
    const first = performance.now() - t0;
    const runs = Math.max(3, Math.min(req.maxRuns, Math.ceil(req.minMs / Math.max(first, 1e-3))));
    const steps = await ex.profile(feeds, runs);
    const ms = steps.reduce((s, p) => s + p.ms, 0);
    return { id: req.id, ms, runs, outputs: ex.outputNames.map((n) => ({ name: n, data: outs[n]!.data })) };
  } finally {
    await ex.dispose();
  }
}

parentPort!.on('message', (req: MeasureRequest) => {
  measureOne(req).then(
    (reply) => parentPort!.postMessage(reply),
    (e: unknown) => parentPort!.postMessage({ id: req.id, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) } satisfies MeasureReply),
  );
});

/**
 * A thread of the wasm thread pool (see thread_pool.ts): waits for jobs and runs its share.
 * Started by Node's worker_threads (init data in workerData) or as a browser module Web
 * Worker (init data in the first message).
 */
import { halfIntrinsics, mathIntrinsics } from '../math.js';
import { CTL, IN_NODE, SPIN_MS, type WorkerInit, chunkSize, runChunks } from './thread_pool.js';

async function start(): Promise<{ init: WorkerInit; ready: () => void }> {
  if (IN_NODE) {
    const { parentPort, workerData } = await import('node:worker_threads');
    return { init: workerData as WorkerInit, ready: () => parentPort!.postMessage('ready') };
  }
  const scope = globalThis as unknown as { onmessage: ((e: { data: WorkerInit }) => void) | null; postMessage(m: unknown): void };
  const init = await new Promise<WorkerInit>((resolve) => { scope.onmessage = (e) => resolve(e.data); });
  return { init, ready: () => scope.postMessage('ready') };
}

const { init, ready } = await start();
const { module, memory, ctl, tid, fns } = init;
const instance = new WebAssembly.Instance(module, { env: { memory }, math: { ...mathIntrinsics, ...halfIntrinsics } });
const regions = fns.map((name) => instance.exports[name] as (...a: number[]) => void);
// Read the generation before saying ready: a job posted right after would otherwise be missed.
let seen = Atomics.load(ctl, CTL.generation);
ready();
for (;;) {
  // Spin briefly before sleeping: waking a sleeping thread can take milliseconds on a
  // virtual machine, far longer than the gap between two kernels.
  const spinUntil = performance.now() + SPIN_MS;
  while (Atomics.load(ctl, CTL.generation) === seen && performance.now() < spinUntil) { /* spin */ }
  Atomics.wait(ctl, CTL.generation, seen);
  seen = Atomics.load(ctl, CTL.generation);
  const fn = ctl[CTL.fn]!;
  if (fn < 0) break;
  const n = ctl[CTL.threads]!;
  const extent = ctl[CTL.extent]!;
  const args = Array.from(ctl.subarray(CTL.args, CTL.args + ctl[CTL.nargs]!));
  const tws = ctl[CTL.twsBase]! + tid * ctl[CTL.twsStride]!;
  runChunks(ctl, extent, chunkSize(extent, n), (begin, end) => regions[fn]!(...args, begin, end, tws));
  Atomics.add(ctl, CTL.done, 1);
  Atomics.notify(ctl, CTL.done);
}

/**
 * A thread of the wasm thread pool (see thread_pool.ts): waits for jobs and runs its share.
 * Started by Node's worker_threads (init data in workerData) or as a browser module Web
 * Worker (init data in the first message).
 */
import { halfIntrinsics, mathIntrinsics } from '../math.js';
import { CTL, IN_NODE, SPIN_MS, STATUS, type WorkerInit, chunkSize, runChunks } from './thread_pool.js';

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
const { module, memory, ctl, status, text, tid, fns } = init;
const instance = new WebAssembly.Instance(module, { env: { memory }, math: { ...mathIntrinsics, ...halfIntrinsics } });
const regions = fns.map((name) => instance.exports[name] as (...a: number[]) => void);
const progress = STATUS.perThread + 2 * tid;

/** Reports an error in this thread's share (the first thread to fail in a job wins); the main thread rethrows it. */
function report(e: unknown): void {
  if (Atomics.compareExchange(status, STATUS.failed, 0, tid) !== 0) return;
  const err = e instanceof Error ? e : new Error(String(e));
  const bytes = new TextEncoder().encode(`${err.name}\n${err.message}`).slice(0, text.length);
  text.set(bytes);
  Atomics.store(status, STATUS.messageBytes, bytes.length);
}

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
  Atomics.add(status, progress, 1);
  try {
    const region = regions[fn];
    if (!region) throw new Error(`no kernel region ${fn} (the pool has ${regions.length})`);
    const n = ctl[CTL.threads]!;
    const extent = ctl[CTL.extent]!;
    const args = Array.from(ctl.subarray(CTL.args, CTL.args + ctl[CTL.nargs]!));
    const tws = ctl[CTL.twsBase]! + tid * ctl[CTL.twsStride]!;
    runChunks(ctl, extent, chunkSize(extent, n), (begin, end) => {
      region(...args, begin, end, tws);
      Atomics.add(status, progress, 1);
    });
  } catch (e) {
    report(e);
  }
  Atomics.store(status, progress + 1, seen);
  Atomics.add(ctl, CTL.done, 1);
  Atomics.notify(ctl, CTL.done);
}

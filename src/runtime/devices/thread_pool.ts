/**
 * A pool of worker threads running wasm kernel regions over one shared memory.
 * Each worker instantiates the same module on the same `SharedArrayBuffer`-backed
 * memory; a small shared control block carries the job (region function, arguments,
 * loop extent) and the main thread runs its own share, then waits for the others.
 * Workers are Node's worker_threads or, in a browser, module Web Workers (the page must
 * be cross-origin isolated for shared memory). A thread that may block (Node, a Web
 * Worker) sleeps in Atomics.wait; a browser's main thread, which may not, spins.
 */

/**
 * Control block layout (Int32 slots): the job, the counters the threads update while
 * they run it (on their own cache line, away from the `generation` the idle threads
 * poll), then the job's arguments, as many as the pool was created for.
 */
export const CTL = {
  generation: 0, fn: 1, extent: 2, nargs: 3, threads: 4, twsBase: 5, twsStride: 6,
  next: 16, done: 17, args: 32,
} as const;

/** Int32 slots of a control block for jobs of up to `maxArgs` arguments. */
export const ctlSlots = (maxArgs: number): number => CTL.args + maxArgs;

/** What a pool worker receives when it starts (wasm_worker.ts). */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctl: Int32Array;
  tid: number;
  fns: string[];
}

/** Whether this is Node (worker_threads) rather than a browser (Web Workers). */
export const IN_NODE = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** Whether this thread may block in Atomics.wait: not a browser window's main thread. */
const CAN_WAIT = IN_NODE || typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';

interface PoolWorker {
  terminate(): unknown;
}

/** Starts the worker script with its init data; resolves once it is ready for jobs. */
async function startWorker(url: URL, init: WorkerInit): Promise<PoolWorker> {
  if (IN_NODE) {
    const { Worker } = await import('node:worker_threads');
    return new Promise((resolve, reject) => {
      const w = new Worker(url, { workerData: init });
      w.once('message', () => {
        w.unref();
        resolve(w);
      });
      w.once('error', reject);
    });
  }
  return new Promise((resolve, reject) => {
    const w = new Worker(url, { type: 'module' });
    w.onmessage = () => resolve(w);
    w.onerror = (e) => reject(new Error(`the wasm worker ${url.href} failed to start: ${e.message}`));
    w.postMessage(init);
  });
}

/** Chunks per thread a loop is cut into: a thread that starts late leaves its chunks to the others. */
const CHUNKS_PER_THREAD = 4;

/** Iterations each grab of the shared counter takes. */
export function chunkSize(extent: number, threads: number): number {
  return Math.max(1, Math.ceil(extent / (threads * CHUNKS_PER_THREAD)));
}

/** Runs chunks of [0, extent), taken from the job's shared counter, until none are left. */
export function runChunks(ctl: Int32Array, extent: number, chunk: number, body: (begin: number, end: number) => void): void {
  for (;;) {
    const begin = Atomics.add(ctl, CTL.next, chunk);
    if (begin >= extent) return;
    body(begin, Math.min(extent, begin + chunk));
  }
}

/** How long an idle thread polls for work before it sleeps (ms). */
export const SPIN_MS = 2;

export class ThreadPool {
  private constructor(private readonly workers: PoolWorker[], private readonly ctl: Int32Array) {}

  /**
   * Starts `threads - 1` workers; `fns` are the region export names, addressed by index in
   * jobs, which pass at most `maxArgs` arguments.
   */
  static async create(module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number, fns: readonly string[], maxArgs: number): Promise<ThreadPool> {
    const ctl = new Int32Array(new SharedArrayBuffer(ctlSlots(maxArgs) * 4));
    ctl[CTL.threads] = threads;
    const url = new URL('./wasm_worker.js', import.meta.url);
    const workers = await Promise.all(Array.from({ length: threads - 1 }, (_, i) => startWorker(url, { module, memory, ctl, tid: i + 1, fns: [...fns] })));
    return new ThreadPool(workers, ctl);
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * Runs region `fn` (index into the pool's names) over iterations [0, extent), which
   * the threads take chunk by chunk from a shared counter (dynamic scheduling: a worker
   * woken late does less); `own` runs a chunk on the main thread (begin, end, tws).
   */
  run(fn: number, args: readonly number[], extent: number, twsBase: number, twsStride: number, own: (begin: number, end: number, tws: number) => void): void {
    const ctl = this.ctl;
    const n = this.threads;
    ctl[CTL.fn] = fn;
    ctl[CTL.extent] = extent;
    if (CTL.args + args.length > ctl.length) throw new Error(`thread pool: a job of ${args.length} arguments, but the pool was created for ${ctl.length - CTL.args}`);
    ctl[CTL.nargs] = args.length;
    args.forEach((a, i) => { ctl[CTL.args + i] = a; });
    ctl[CTL.twsBase] = twsBase;
    ctl[CTL.twsStride] = twsStride;
    Atomics.store(ctl, CTL.done, 0);
    Atomics.store(ctl, CTL.next, 0);
    Atomics.add(ctl, CTL.generation, 1);
    Atomics.notify(ctl, CTL.generation);
    runChunks(ctl, extent, chunkSize(extent, n), (b, e) => own(b, e, twsBase));
    const spinUntil = performance.now() + SPIN_MS;
    while (Atomics.load(ctl, CTL.done) < n - 1 && performance.now() < spinUntil) { /* spin */ }
    let d: number;
    while ((d = Atomics.load(ctl, CTL.done)) < n - 1) if (CAN_WAIT) Atomics.wait(ctl, CTL.done, d);
  }

  dispose(): void {
    this.ctl[CTL.fn] = -1;
    Atomics.add(this.ctl, CTL.generation, 1);
    Atomics.notify(this.ctl, CTL.generation);
    for (const w of this.workers) void w.terminate();
  }
}

/**
 * A pool of worker threads running wasm kernel regions over one shared memory.
 * Each worker instantiates the same module on the same `SharedArrayBuffer`-backed
 * memory; a small shared control block carries the job (region function, arguments,
 * loop extent) and the main thread runs its own share, then waits for the others.
 * Workers are Node's worker_threads or, in a browser, module Web Workers (the page must
 * be cross-origin isolated for shared memory). A thread that may block (Node, a Web
 * Worker) sleeps in Atomics.wait; a browser's main thread, which may not, spins.
 *
 * A lost worker never hangs the main thread: a worker that exits or fails between runs
 * is seen through its 'exit'/'error' events and the next run fails with a DeviceError
 * naming it; an error inside a worker's share (a kernel trap) is reported through a
 * shared status block and rethrown on the main thread after the job; and the main thread
 * waits in bounded slices, taking a worker that makes no progress for too long as lost
 * (a thread that dies in the middle of a run cannot send events while the main thread
 * is blocked).
 */
import { DeviceError } from '../error.js';

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

/**
 * Status block layout (Int32 slots): the first thread whose share of the current job
 * threw (its tid; 0: none) and its message's length in the text block; then, per thread
 * `tid`, at `perThread + 2 * tid`: a progress count (jobs taken plus chunks finished) and
 * the generation of the last job it finished.
 */
export const STATUS = { failed: 0, messageBytes: 1, perThread: 2 } as const;
const statusSlots = (threads: number): number => STATUS.perThread + 2 * threads;
/** Bytes of a failed thread's message kept in the text block. */
const TEXT_BYTES = 1024;

/** What a pool worker receives when it starts (wasm_worker.ts). */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctl: Int32Array;
  /** STATUS slots. */
  status: Int32Array;
  /** A failed thread's message (UTF-8), `status[STATUS.messageBytes]` bytes. */
  text: Uint8Array;
  tid: number;
  fns: string[];
}

/** Whether this is Node (worker_threads) rather than a browser (Web Workers). */
export const IN_NODE = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** Whether this thread may block in Atomics.wait: not a browser window's main thread. */
const CAN_WAIT = IN_NODE || typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';

/** One started worker thread of a pool. */
export interface PoolWorker {
  /** Its thread index in the pool (the main thread is 0). */
  readonly tid: number;
  /** Stops the thread; resolves once it has exited. */
  terminate(): Promise<void>;
}

/** Every pool worker started in this realm and not yet exited. */
const live = new Set<PoolWorker>();

/**
 * The pool workers alive in this realm (all pools): for diagnostics and tests (counting
 * threads after a release, simulating a lost worker).
 */
export function liveWorkers(): readonly PoolWorker[] {
  return [...live];
}

/** What the event handlers of a pool's workers record: the first worker lost, unless the pool is stopping. */
interface PoolState {
  stopping: boolean;
  lost: string | undefined;
}

function markLost(state: PoolState, tid: number, threads: number, what: string): void {
  if (!state.stopping && state.lost === undefined) state.lost = `worker thread ${tid} of ${threads} ${what}`;
}

/** Starts the worker script with its init data; resolves once it is ready for jobs. */
async function startWorker(url: URL, init: WorkerInit, threads: number, state: PoolState): Promise<PoolWorker> {
  const tid = init.tid;
  if (IN_NODE) {
    const { Worker } = await import('node:worker_threads');
    const w = new Worker(url, { workerData: init });
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    const handle: PoolWorker = { tid, terminate: () => w.terminate().then(() => exited) };
    live.add(handle);
    w.on('error', (e) => markLost(state, tid, threads, `failed: ${e.message}`));
    w.on('exit', (code) => {
      live.delete(handle);
      markLost(state, tid, threads, `exited (exit code ${code})`);
    });
    return new Promise((resolve, reject) => {
      w.once('message', () => {
        w.unref();
        resolve(handle);
      });
      w.once('error', (e) => reject(new DeviceError(`worker thread ${tid} of ${threads} failed to start: ${e.message}`)));
      w.once('exit', (code) => reject(new DeviceError(`worker thread ${tid} of ${threads} exited (exit code ${code}) before it was ready`)));
    });
  }
  const w = new Worker(url, { type: 'module' });
  const handle: PoolWorker = {
    tid,
    terminate: () => {
      w.terminate();
      live.delete(handle);
      markLost(state, tid, threads, 'was terminated');
      return Promise.resolve();
    },
  };
  live.add(handle);
  return new Promise((resolve, reject) => {
    let ready = false;
    w.onmessage = () => {
      ready = true;
      resolve(handle);
    };
    w.onerror = (e) => {
      if (ready) markLost(state, tid, threads, `failed: ${e.message}`);
      else reject(new DeviceError(`the wasm worker ${url.href} (thread ${tid} of ${threads}) failed to start: ${e.message}`));
    };
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

/** How long the main thread sleeps between checks on the workers it waits for (ms). */
const WAIT_SLICE_MS = 50;

/** How long a worker may make no progress before it is taken as lost (ms), unless the job is long (see `stallTimeoutMs`). */
export const DEFAULT_STALL_MS = 10_000;

/** Rebuilds an error reported by a worker: a trap stays a WebAssembly.RuntimeError, as on the main thread. */
function workerError(name: string, message: string): Error {
  const classes: Record<string, new (m: string) => Error> = { RuntimeError: WebAssembly.RuntimeError, TypeError, RangeError };
  return new (classes[name] ?? Error)(message);
}

export interface PoolOptions {
  /**
   * How long (ms) the main thread waits for a worker that finishes no chunk before it
   * takes it as lost: at least this, and at least 100 times the main thread's own share
   * of the job (default DEFAULT_STALL_MS).
   */
  readonly stallTimeoutMs?: number;
}

export class ThreadPool {
  /** Set when a worker stopped making progress in a run: the pool cannot run again. */
  private broken: string | undefined;
  private disposing: Promise<void> | undefined;

  private constructor(
    private readonly workers: PoolWorker[],
    private readonly ctl: Int32Array,
    private readonly status: Int32Array,
    private readonly text: Uint8Array,
    private readonly state: PoolState,
    private readonly fns: readonly string[],
    private readonly stallMs: number,
  ) {}

  /**
   * Starts `threads - 1` workers; `fns` are the region export names, addressed by index in
   * jobs, which pass at most `maxArgs` arguments.
   */
  static async create(module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number, fns: readonly string[], maxArgs: number, opts: PoolOptions = {}): Promise<ThreadPool> {
    const ctl = new Int32Array(new SharedArrayBuffer(ctlSlots(maxArgs) * 4));
    ctl[CTL.threads] = threads;
    const status = new Int32Array(new SharedArrayBuffer(statusSlots(threads) * 4));
    const text = new Uint8Array(new SharedArrayBuffer(TEXT_BYTES));
    const state: PoolState = { stopping: false, lost: undefined };
    const url = new URL('./wasm_worker.js', import.meta.url);
    const started = await Promise.allSettled(Array.from({ length: threads - 1 }, (_, i) =>
      startWorker(url, { module, memory, ctl, status, text, tid: i + 1, fns: [...fns] }, threads, state)));
    const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      // Do not leave the workers that did start behind.
      state.stopping = true;
      ctl[CTL.fn] = -1;
      Atomics.add(ctl, CTL.generation, 1);
      Atomics.notify(ctl, CTL.generation);
      await Promise.all(workers.map((w) => w.terminate()));
      throw failed.reason;
    }
    return new ThreadPool(workers, ctl, status, text, state, fns, opts.stallTimeoutMs ?? DEFAULT_STALL_MS);
  }

  get threads(): number {
    return this.workers.length + 1;
  }

  /** Throws when the pool cannot take a job: disposed, a worker lost, or stuck in an earlier run. */
  private checkUsable(): void {
    if (this.disposing) throw new DeviceError('the thread pool was disposed');
    const lost = this.state.lost ?? this.broken;
    if (lost !== undefined) throw new DeviceError(`${lost}; the session's thread pool is lost: create a new session`);
  }

  /**
   * Runs region `fn` (index into the pool's names) over iterations [0, extent), which
   * the threads take chunk by chunk from a shared counter (dynamic scheduling: a worker
   * woken late does less); `own` runs a chunk on the main thread (begin, end, tws).
   * Returns once every thread has finished its share; an error in any share is thrown
   * then (the workers' shares included: no thread still runs this job when it returns).
   */
  run(fn: number, args: readonly number[], extent: number, twsBase: number, twsStride: number, own: (begin: number, end: number, tws: number) => void): void {
    this.checkUsable();
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
    const generation = Atomics.add(ctl, CTL.generation, 1) + 1;
    Atomics.notify(ctl, CTL.generation);
    const t0 = performance.now();
    let ownError: { error: unknown } | undefined;
    try {
      runChunks(ctl, extent, chunkSize(extent, n), (b, e) => own(b, e, twsBase));
    } catch (error) {
      ownError = { error };
      // Hand out no more chunks; the workers finish the ones they hold.
      Atomics.store(ctl, CTL.next, extent);
    }
    this.awaitWorkers(fn, generation, performance.now() - t0);
    // Read and clear a worker's report before any throw, so it cannot leak into the next job.
    const failed = Atomics.load(this.status, STATUS.failed);
    const report = failed === 0 ? '' : new TextDecoder().decode(this.text.slice(0, Atomics.load(this.status, STATUS.messageBytes)));
    Atomics.store(this.status, STATUS.failed, 0);
    if (ownError) throw ownError.error;
    if (failed !== 0) {
      const [name, ...rest] = report.split('\n');
      throw workerError(name ?? 'Error', `worker thread ${failed} of ${n}, kernel region '${this.fns[fn]}': ${rest.join('\n')}`);
    }
  }

  /** Sum of the workers' progress counts (any change: some worker is alive and working). */
  private progress(): number {
    let p = 0;
    for (const w of this.workers) p += Atomics.load(this.status, STATUS.perThread + 2 * w.tid);
    return p;
  }

  /** Waits until every worker has finished the job, in bounded slices, watching that they progress. */
  private awaitWorkers(fn: number, generation: number, ownMs: number): void {
    const ctl = this.ctl;
    const n = this.threads;
    const spinUntil = performance.now() + SPIN_MS;
    while (Atomics.load(ctl, CTL.done) < n - 1 && performance.now() < spinUntil) { /* spin */ }
    if (Atomics.load(ctl, CTL.done) >= n - 1) return;
    const limit = Math.max(this.stallMs, 100 * ownMs);
    let seen = this.progress();
    let since = performance.now();
    let d: number;
    while ((d = Atomics.load(ctl, CTL.done)) < n - 1) {
      if (CAN_WAIT) Atomics.wait(ctl, CTL.done, d, WAIT_SLICE_MS);
      const p = this.progress();
      const now = performance.now();
      if (p !== seen) {
        seen = p;
        since = now;
      } else if (now - since > limit) {
        const stuck = this.workers.filter((w) => Atomics.load(this.status, STATUS.perThread + 2 * w.tid + 1) < generation).map((w) => w.tid);
        this.broken = `worker thread${stuck.length > 1 ? 's' : ''} ${stuck.join(', ')} of ${n} made no progress on kernel region '${this.fns[fn]}' `
          + `for ${Math.round(limit)} ms${this.state.lost ? ` (${this.state.lost})` : ''}: taken as lost`;
        throw new DeviceError(`${this.broken}; the session's thread pool cannot run again: create a new session`);
      }
    }
  }

  /** Stops the workers; resolves once they have exited. Disposing again returns the same promise. */
  dispose(): Promise<void> {
    if (!this.disposing) {
      this.state.stopping = true;
      this.ctl[CTL.fn] = -1;
      Atomics.add(this.ctl, CTL.generation, 1);
      Atomics.notify(this.ctl, CTL.generation);
      this.disposing = Promise.all(this.workers.map((w) => w.terminate())).then(() => undefined);
    }
    return this.disposing;
  }
}

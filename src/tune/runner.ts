/**
 * Measures candidate kernels in a worker thread, one at a time (measurements that ran
 * side by side would disturb each other), each under a time limit: a candidate that hangs
 * or crashes its worker is reported as such and the worker is replaced. The caller builds
 * candidates (on its own thread, while the worker measures the one before).
 */
import { Worker } from 'node:worker_threads';
import type { DType, TypedArray } from '../runtime/dtype.js';

export interface Feed {
  readonly name: string;
  readonly type: DType;
  readonly dims: readonly number[];
  readonly data: TypedArray;
}

export interface MeasureRequest {
  readonly id: number;
  /** A serialized one-kernel executable (runtime/artifact.ts). */
  readonly artifact: Uint8Array;
  readonly feeds: readonly Feed[];
  readonly threads: number;
  /** Time the runs should fill, in ms (at least 3 runs). */
  readonly minMs: number;
  readonly maxRuns: number;
}

export type MeasureReply =
  | { readonly id: number; readonly ms: number; readonly runs: number; readonly outputs: readonly { readonly name: string; readonly data: TypedArray }[] }
  | { readonly id: number; readonly error: string };

export type Measured =
  | { readonly ok: true; readonly ms: number; readonly runs: number; readonly outputs: readonly { readonly name: string; readonly data: TypedArray }[] }
  | { readonly ok: false; readonly error: string };

const WORKER = new URL('./runner_worker.js', import.meta.url);

export class MeasureRunner {
  private worker: Worker | undefined;
  private nextId = 1;
  private pending: { id: number; worker: Worker; resolve: (m: Measured) => void; timer: NodeJS.Timeout } | undefined;

  private spawn(): Worker {
    const w = new Worker(WORKER);
    w.on('message', (reply: MeasureReply) => {
      if (this.pending?.id !== reply.id) return;
      this.settle(w, 'ms' in reply ? { ok: true, ms: reply.ms, runs: reply.runs, outputs: reply.outputs } : { ok: false, error: reply.error });
    });
    w.on('error', (e) => {
      if (this.worker === w) this.worker = undefined;
      this.settle(w, { ok: false, error: `the measuring worker failed: ${e.message}` });
    });
    w.on('exit', (code) => {
      if (this.worker === w) this.worker = undefined;
      this.settle(w, { ok: false, error: `the measuring worker exited (code ${code})` });
    });
    return w;
  }

  /** Ends the pending measurement, if it is `w`'s. */
  private settle(w: Worker, m: Measured): void {
    const p = this.pending;
    if (!p || p.worker !== w) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    p.resolve(m);
  }

  /** Measures one executable; never rejects: failures and timeouts come back as `ok: false`. */
  measure(req: Omit<MeasureRequest, 'id'>, timeoutMs: number): Promise<Measured> {
    if (this.pending) return Promise.reject(new Error('MeasureRunner: one measurement at a time'));
    this.worker ??= this.spawn();
    const w = this.worker;
    const id = this.nextId++;
    return new Promise<Measured>((resolve) => {
      const timer = setTimeout(() => {
        this.worker = undefined;
        this.settle(w, { ok: false, error: `timed out after ${(timeoutMs / 1000).toFixed(1)} s` });
        void w.terminate();
      }, timeoutMs);
      this.pending = { id, worker: w, resolve, timer };
      w.postMessage({ ...req, id } satisfies MeasureRequest);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}

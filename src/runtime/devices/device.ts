/** A runtime device: turns an executable's kernel module into callable steps over an arena. */
import type { Executable } from '../executable.js';

export interface LoadedProgram {
  /** The arena's current backing buffer (replaced when the arena grows). */
  arena(): ArrayBuffer;
  /**
   * Step closures, in order, for a layout of the loaded module: the executable itself,
   * or its layout at one batch size (runtime/batch.ts). Grows the arena to the
   * layout's size first (the constants stay in place).
   */
  bind(layout: Executable): (() => void)[];
  /** Releases threads and other resources; resolves once worker threads have exited. */
  dispose?(): void | Promise<void>;
}

export interface DeviceOptions {
  /** Threads to run kernels on (at most what the executable was built for). */
  readonly threads?: number;
  /**
   * How long (ms) a run waits for a worker thread that finishes no chunk before taking it
   * as lost (at least 100 times the main thread's own share of the job; default 10 s).
   */
  readonly stallTimeoutMs?: number;
}

export type Device = (exe: Executable, opts?: DeviceOptions) => Promise<LoadedProgram>;

/**
 * Runtime devices: each turns an executable's kernel module into callable steps over an
 * arena. Devices register themselves by module kind at import (runtime/devices/index.ts
 * imports them all); a new target adds its own file here and one import line there.
 */
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

export interface Device {
  /** The KernelModule kind the device runs. */
  readonly kind: string;
  load(exe: Executable, opts?: DeviceOptions): Promise<LoadedProgram>;
  /** Loads without awaiting, on one thread, where the device can (the compiler's own constant folding). */
  loadSync?(exe: Executable): LoadedProgram;
}

const devices = new Map<string, Device>();

export function registerDevice(device: Device): void {
  if (devices.has(device.kind)) throw new Error(`device ${device.kind} registered twice`);
  devices.set(device.kind, device);
}

/** The device that runs modules of `kind`, or undefined. */
export function deviceFor(kind: string): Device | undefined {
  return devices.get(kind);
}

/** The kinds of module the registered devices run. */
export function deviceKinds(): string[] {
  return [...devices.keys()];
}

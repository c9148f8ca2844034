/**
 * Runtime devices: each turns an executable's kernel module into callable steps over an
 * arena. Devices register themselves by module kind at import (runtime/devices/index.ts
 * imports them all); a new target adds its own file here and one import line there.
 */
import { type TypedArray, viewArray } from '../dtype.js';
import type { Executable, TensorSlot } from '../executable.js';
import { shapeSize } from '../tensor.js';
import type { GpuTensor } from '../gpu_tensor.js';

/**
 * An executable loaded on a device. A run writes the feeds into their slots, calls the
 * bound steps in order and reads the outputs; on a host device (js, wasm) each step runs
 * its kernel, on a GPU it records a dispatch that `read` submits before reading back.
 */
export interface LoadedProgram {
  /** Whether writes, steps and reads complete synchronously (host memory): Executor.runSync needs it. */
  readonly sync: boolean;
  /**
   * Step closures, in order, for a layout of the loaded module: the executable itself,
   * or its layout at one batch size (runtime/batch.ts). Grows the arena to the
   * layout's size first (the constants stay in place).
   */
  bind(layout: Executable): (() => void)[];
  /** Copies a feed's elements into its slot. */
  write(slot: TensorSlot, data: TypedArray): void;
  /** Completes the work of the steps called so far and copies the slots' elements out (arrays the caller owns). */
  read(slots: readonly TensorSlot[]): TypedArray[] | Promise<TypedArray[]>;
  /** Releases threads and other resources; resolves once worker threads have exited. */
  dispose?(): void | Promise<void>;
  /** GPU devices: the device GPU tensors of this program live on. */
  readonly gpuDevice?: unknown;
  /** GPU devices: copies a GPU tensor into its slot, on the GPU. */
  writeGpu?(slot: TensorSlot, t: GpuTensor): void;
  /** GPU devices: completes the work and copies the slots into new GPU tensors (no read-back). */
  readGpu?(slots: readonly TensorSlot[]): Promise<GpuTensor[]>;
}

/** write/read for a device whose arena is host memory (`arena()`: its current buffer; growing replaces it). */
export function hostIO(arena: () => ArrayBufferLike): Pick<LoadedProgram, 'sync' | 'write' | 'read'> {
  return {
    sync: true,
    write: (slot, data) => {
      (viewArray(slot.dtype, arena(), slot.offset, data.length) as { set(a: ArrayLike<number | bigint>): void }).set(data as ArrayLike<number | bigint>);
    },
    read: (slots) => slots.map((s) => viewArray(s.dtype, arena(), s.offset, shapeSize(s.shape)).slice()),
  };
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

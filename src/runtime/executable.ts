/**
 * The compiled artifact the runtime executes: plain data, produced by the compiler's
 * build step and serializable to files (runtime/artifact.ts). Every tensor lives at
 * a fixed byte offset of one arena: constants first, then the activation region the
 * memory planner packed by liveness, then the kernels' shared workspace (and, where
 * a kernel needs one, the argument table), then a dynamic batch's batched region.
 */
import type { DType } from './dtype.js';

/**
 * Generated code for all kernels of a model. Each runtime device defines its own module
 * type (runtime/devices/<kind>.ts: JsKernelModule, WasmKernelModule, ...) with this `kind`,
 * and the executor loads a module on the device registered for its kind. Binary fields
 * (Uint8Array) are stored as binary sections of an artifact.
 */
export interface KernelModule {
  readonly kind: string;
}

/**
 * A tensor at a fixed place in the arena. In an executable with a dynamic batch, a
 * `batched` slot holds one sample (its shape[0] is 1) and its offset is per sample,
 * inside the batched region (see DynamicBatch).
 */
export interface TensorSlot {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly batched?: boolean;
}

/**
 * A leading dim left symbolic at compile time (a dynamic batch). Every kernel that
 * touches batched tensors was proven batch-separable (sample n of its outputs depends
 * only on sample n of its batched inputs), so one compiled kernel runs each sample.
 * Batched storages were planned per sample; at batch size N the region at `base`
 * holds N * sampleBytes, and a slot planned at per-sample offset o with per-sample
 * size s keeps sample n at base + N * o + n * s (runtime/batch.ts).
 */
export interface DynamicBatch {
  /** The symbolic dim's name in the model (e.g. "batch"). */
  readonly dim: string;
  readonly base: number;
  readonly sampleBytes: number;
}

export interface IOSlot extends TensorSlot {
  readonly name: string;
}

export interface Step {
  readonly kernel: string;
  /** Kernel arguments in PrimFunc parameter order: inputs, then outputs. */
  readonly args: readonly TensorSlot[];
}

export interface Executable {
  readonly format: 'tessera-executable';
  readonly version: 1;
  /** The target it was compiled for, as its canonical string (e.g. "wasm -threads=1 -no-fma"). */
  readonly target: string;
  readonly module: KernelModule;
  /** Total arena bytes (constants + activations + workspace). */
  readonly arenaBytes: number;
  /** Constant data, copied to arena offset 0 at load. */
  readonly constants: Uint8Array;
  /** Peak bytes of the activation region as planned (inputs, intermediates, outputs). */
  readonly activationBytes: number;
  readonly workspaceOffset: number;
  readonly workspaceBytes: number;
  /** Threads the executable was built for (its workspace holds that many per-thread parts). */
  readonly threads: number;
  readonly inputs: readonly IOSlot[];
  readonly outputs: readonly IOSlot[];
  readonly steps: readonly Step[];
  /** Every element takes one 32-bit word of the arena (runtime/word_storage.ts; GPU targets), not its own size. */
  readonly wordStorage?: boolean;
  /** Present when the leading dim of the batched slots is chosen at run time. */
  readonly batch?: DynamicBatch;
  /**
   * wasm, when some kernel reads its arguments from a table (KernelModule argTables): the
   * arena region, after the workspace, that holds the table of the step about to run
   * (`bytes`: 4 per argument of the widest such step). Steps run one at a time, so they
   * share it; each writes its own offsets there before its call, which also covers the
   * offsets a dynamic batch recomputes per batch size and sample.
   */
  readonly argTable?: { readonly offset: number; readonly bytes: number };
}

/** Tessera's public API. */
export { InferenceSession, type SessionOptions } from './api.js';
export { compile, type CompileOptions, type CompileResult } from './driver.js';
export { Tensor, type TensorLike } from './runtime/tensor.js';
export type { Feeds } from './runtime/feeds.js';
export type { DType, TypedArray } from './runtime/dtype.js';
export { Executor, InputError, type RunOptions } from './runtime/executor.js';
export { GpuTensor } from './runtime/gpu_tensor.js';
export type { Executable, KernelModule } from './runtime/executable.js';
export { type Target, type TargetKind, TargetError, parseTarget, targetKinds } from './target/index.js';
export { deserializeExecutable, serializeExecutable } from './runtime/artifact.js';
export { NodeError } from './graph/ir.js';
export { DeviceError, InternalError, KernelError, LimitError, ReleasedError, TesseraError } from './runtime/error.js';
export { printGraph } from './graph/printer.js';

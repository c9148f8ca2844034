/**
 * What a WebAssembly engine accepts, and how the wasm codegen stays inside it.
 *
 * The numbers are the implementation limits of the WebAssembly JavaScript API
 * (https://webassembly.github.io/spec/js-api/#limits), which V8, SpiderMonkey and
 * JavaScriptCore enforce when they compile a module: past them `WebAssembly.compile`
 * fails with a CompileError such as "param count of 1002 exceeds internal limit of 1000".
 * The codegen checks each one itself and raises a LimitError naming the kernel instead.
 * (Block nesting has no such limit; kernels nest a few blocks per loop, and loops as
 * deep as a tensor's rank.)
 */
import { LimitError } from '../../runtime/error.js';

export const ENGINE_LIMITS = {
  /** Parameters of one function. */
  params: 1000,
  /** Locals of one function, its parameters included. */
  locals: 50_000,
  /** Bytes of one function body (its local declarations included). */
  functionBodyBytes: 7_654_321,
  /** Functions in a module, imported and defined. */
  functions: 1_000_000,
  /** Exports of a module. */
  exports: 100_000,
  /** Bytes of a module. */
  moduleBytes: 1_073_741_824,
} as const;

/**
 * The most buffer arguments a kernel takes as parameters (one i32 byte offset each,
 * then the workspace offset; region functions add begin, end and the thread's
 * workspace). A kernel with more (a Concat of 1000 inputs, a Split into 1000 outputs,
 * a fused group with many constants) takes instead the offset of an argument table in
 * the arena, where the runtime writes the arguments' offsets before each call, and
 * loads each one once at entry. Well below ENGINE_LIMITS.params, and few enough that
 * the JS call that passes them (`kernel(...offsets)`) stays cheap.
 */
export const MAX_PARAM_ARGS = 128;

/** Whether a kernel with `args` buffer arguments reads them from an argument table. */
export const usesArgTable = (args: number): boolean => args > MAX_PARAM_ARGS;

/** Throws a LimitError when `size` of `what` exceeds ENGINE_LIMITS[limit]. */
export function checkEngineLimit(where: string, what: string, size: number, limit: keyof typeof ENGINE_LIMITS): void {
  const max = ENGINE_LIMITS[limit];
  if (size > max) {
    throw new LimitError(`codegen wasm: ${where}: ${size} ${what} exceed the WebAssembly engine limit of ${max}`);
  }
}

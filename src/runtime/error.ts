/**
 * The root of every error Tessera raises on purpose: bad input (a malformed model, a
 * wrong feed, a size beyond a limit, an unsupported feature) named with what and where.
 * Anything else escaping the compiler or the runtime (a RangeError, a TypeError, a broken
 * internal invariant) is a bug in Tessera; the fuzzer and the escape test count it as a crash.
 *
 * It lives in the runtime, the lowest layer, so the runtime's errors and the compiler's
 * share it without the runtime importing the compiler.
 */
export class TesseraError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TesseraError';
  }
}

/**
 * A broken invariant inside Tessera (a bug), with the context it happened in: what was being
 * compiled or run. Deliberately not a TesseraError: it is never the input's fault, and the
 * fuzzer and the escape tests count it as a crash. `cause` holds the original error.
 */
export class InternalError extends Error {
  constructor(context: string, cause: unknown) {
    super(`internal error in Tessera (a bug; please report it) while ${context}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'InternalError';
  }
}

/**
 * A size (a dim, an element count, a byte size, a parameter count) beyond what Tessera
 * supports: the message names the value, its size and the limit.
 */
export class LimitError extends TesseraError {
  constructor(message: string) {
    super(message);
    this.name = 'LimitError';
  }
}

/**
 * Bad data given to the runtime: a feed (missing, unknown, of the wrong dtype or shape)
 * or a Tensor whose data does not match its type and dims. The message names the input
 * and what was expected.
 */
export class InputError extends TesseraError {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** A session or executor used after `release()` / `dispose()`. */
export class ReleasedError extends TesseraError {
  constructor(message: string) {
    super(message);
    this.name = 'ReleasedError';
  }
}

/**
 * A device that can no longer run the model: a worker thread of the pool that exited,
 * failed to start, or stopped making progress. The message names the thread; the
 * session has to be created again.
 */
export class DeviceError extends TesseraError {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceError';
  }
}

/**
 * A kernel that stopped on its input data: an integer Div or Mod by zero, or INT_MIN / -1,
 * traps in WebAssembly (ONNX leaves both undefined). The message names the kernel.
 */
export class KernelError extends TesseraError {
  constructor(message: string) {
    super(message);
    this.name = 'KernelError';
  }
}

/** WebAssembly traps that input data can cause (as opposed to a bug in a kernel). */
const DATA_TRAPS = /divide by zero|remainder by zero|integer overflow|divide result unrepresentable/i;

/**
 * What an error thrown by a kernel becomes: Tessera's own errors pass; a trap the input data
 * caused is a KernelError naming the kernel; anything else (an out-of-bounds access, an
 * unreachable) is a bug in the kernel, an InternalError.
 */
export function kernelFailure(e: unknown, kernel: string): Error {
  if (e instanceof TesseraError) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof WebAssembly.RuntimeError && DATA_TRAPS.test(message)) {
    return new KernelError(`kernel '${kernel}' stopped: ${message} (an integer Div or Mod by zero, or the most negative integer divided by -1, in the data it was given; ONNX leaves the result undefined)`);
  }
  return new InternalError(`running kernel '${kernel}'`, e);
}

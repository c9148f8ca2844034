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

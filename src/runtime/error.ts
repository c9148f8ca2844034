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
 * A size (a dim, an element count, a byte size, a parameter count) beyond what Tessera
 * supports: the message names the value, its size and the limit.
 */
export class LimitError extends TesseraError {
  constructor(message: string) {
    super(message);
    this.name = 'LimitError';
  }
}

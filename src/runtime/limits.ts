/**
 * The sizes Tessera supports, in one place. An executable keeps every tensor in one arena
 * (constants, activations, workspace) that kernels address with signed 32-bit offsets and
 * indices (wasm32 memory is at most 4 GiB; Tessera's kernels stay below 2^31 so offsets and
 * index arithmetic never wrap). The compiler checks shapes against these limits before it
 * allocates or generates anything; the runtime checks them for shapes known only at run time
 * (a dynamic batch).
 */
import { LimitError } from './error.js';

/** Bytes of an executable's whole arena, and so of any one tensor: 2 GiB. */
export const MAX_ARENA_BYTES = 2 ** 31;

/**
 * Dims of a tensor: 64 (numpy's limit). Each dim is a loop of a kernel's nest; a shape of
 * thousands of dims (a shape input of thousands of elements) would nest that deep.
 */
export const MAX_RANK = 64;

/** `n` bytes as text: '2 GiB', '2.24 GiB', '12.5 MiB', '1,234 bytes'. */
export function bytesText(n: number): string {
  for (const [unit, size] of [['GiB', 2 ** 30], ['MiB', 2 ** 20]] as const) {
    if (n >= size) return `${n % size === 0 ? n / size : Number((n / size).toPrecision(3))} ${unit}`;
  }
  return `${n.toLocaleString('en-US')} bytes`;
}

/**
 * Throws a LimitError when `bytes` (of `what`, or of what it returns: a message made only
 * when needed) exceed the arena: the message states both sizes.
 */
export function checkArenaBytes(bytes: number, what: string | (() => string)): void {
  if (!(bytes <= MAX_ARENA_BYTES)) {
    throw new LimitError(`${typeof what === 'string' ? what : what()} needs ${bytesText(bytes)}; Tessera supports at most ${bytesText(MAX_ARENA_BYTES)} of memory per model (its kernels address memory with 32-bit offsets)`);
  }
}

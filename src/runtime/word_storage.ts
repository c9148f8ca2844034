/**
 * Word storage: every element one 32-bit word, the format of GPU storage buffers (WGSL
 * has no 8-, 16- or 64-bit storage types without extensions). Floats are stored as f32
 * (float64 rounded, float16 and bfloat16 widened exactly), signed integers as i32 and
 * unsigned ones and bool as u32 (8- and 16-bit ones widened exactly). 64-bit integers
 * are stored and computed as 32-bit ones: a value outside that range cannot be stored
 * and is refused (WordRangeError) rather than wrapped.
 */
import { type DType, type TypedArray, allocArray } from './dtype.js';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './math.js';

/** A value that 32-bit word storage cannot hold (an int64 beyond ±2^31, a uint64 beyond 2^32). */
export class WordRangeError extends RangeError {
  constructor(readonly index: number, readonly value: bigint, readonly dtype: DType) {
    super(`element ${index} (${value}) of a ${dtype} tensor is outside the 32-bit range that word storage holds`);
    this.name = 'WordRangeError';
  }
}

export type WordKind = 'f32' | 'i32' | 'u32';

/** How an element type is held in a 32-bit word. */
export function wordKind(t: DType): WordKind {
  switch (t) {
    case 'float32': case 'float64': case 'float16': case 'bfloat16': return 'f32';
    case 'int8': case 'int16': case 'int32': case 'int64': return 'i32';
    default: return 'u32';
  }
}

/** The words of `data` (elements of `dtype`). */
export function toWords(dtype: DType, data: TypedArray): Uint32Array {
  const n = data.length;
  const words = new Uint32Array(n);
  switch (dtype) {
    case 'float32': words.set(new Uint32Array(data.buffer, data.byteOffset, n)); return words;
    case 'float64': new Float32Array(words.buffer).set(data as Float64Array); return words;
    case 'float16': { const f = new Float32Array(words.buffer); for (let i = 0; i < n; i++) f[i] = f16ToF32((data as Uint16Array)[i]!); return words; }
    case 'bfloat16': { const f = new Float32Array(words.buffer); for (let i = 0; i < n; i++) f[i] = bf16ToF32((data as Uint16Array)[i]!); return words; }
    case 'int64': case 'uint64': {
      const lo = dtype === 'int64' ? -(1n << 31n) : 0n;
      const hi = dtype === 'int64' ? (1n << 31n) - 1n : (1n << 32n) - 1n;
      const src = data as BigInt64Array | BigUint64Array;
      for (let i = 0; i < n; i++) {
        const v = src[i]!;
        if (v < lo || v > hi) throw new WordRangeError(i, v, dtype);
        words[i] = Number(BigInt.asUintN(32, v));
      }
      return words;
    }
    default:
      // 8/16/32-bit integers and bool: the value, sign-extended for signed types, as a 32-bit pattern.
      for (let i = 0; i < n; i++) words[i] = (data as Int32Array)[i]! >>> 0;
      return words;
  }
}

/** The elements of `dtype` held in `words`. */
export function fromWords(dtype: DType, words: Uint32Array): TypedArray {
  const n = words.length;
  const out = allocArray(dtype, n);
  const f = new Float32Array(words.buffer, words.byteOffset, n);
  const s = new Int32Array(words.buffer, words.byteOffset, n);
  switch (dtype) {
    case 'float32': case 'float64': (out as Float32Array | Float64Array).set(f); return out;
    case 'float16': for (let i = 0; i < n; i++) (out as Uint16Array)[i] = f32ToF16(f[i]!); return out;
    case 'bfloat16': for (let i = 0; i < n; i++) (out as Uint16Array)[i] = f32ToBf16(f[i]!); return out;
    case 'int64': for (let i = 0; i < n; i++) (out as BigInt64Array)[i] = BigInt(s[i]!); return out;
    case 'uint64': for (let i = 0; i < n; i++) (out as BigUint64Array)[i] = BigInt(words[i]!); return out;
    case 'int8': case 'int16': case 'int32': (out as Int32Array).set(s); return out;
    default: (out as Uint32Array).set(words); return out;
  }
}

/**
 * Scalar math the generated kernels call at run time: the JS target calls these
 * directly, the wasm target imports them for the intrinsics WebAssembly lacks.
 * Keys are the intrinsic names of the compiler's expression IR.
 */

/** erf with relative error below 1.2e-7 (Chebyshev fit of erfc, Numerical Recipes 6.2). */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - r : r - 1;
}

/** Round half to even, as ONNX Round specifies. */
export function roundEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export const mathIntrinsics = {
  exp: Math.exp, log: Math.log, sqrt: Math.sqrt, tanh: Math.tanh, erf,
  sigmoid: (x: number): number => 1 / (1 + Math.exp(-x)),
  abs: Math.abs, neg: (x: number): number => -x, floor: Math.floor, ceil: Math.ceil, trunc: Math.trunc,
  round: roundEven, sin: Math.sin, cos: Math.cos, tan: Math.tan, asin: Math.asin, acos: Math.acos,
  atan: Math.atan, sinh: Math.sinh, cosh: Math.cosh, asinh: Math.asinh, acosh: Math.acosh, atanh: Math.atanh,
  sign: Math.sign, reciprocal: (x: number): number => 1 / x,
  isnan: (x: number): number => (Number.isNaN(x) ? 1 : 0),
  isinf: (x: number): number => (x === Infinity || x === -Infinity ? 1 : 0),
  pow: Math.pow,
  f16: (h: number): number => f16ToF32(h),
  tof16: (x: number): number => f32ToF16(x),
  roundf16: (x: number): number => roundF16(x),
  bf16: (h: number): number => bf16ToF32(h),
  tobf16: (x: number): number => f32ToBf16(x),
  roundbf16: (x: number): number => bf16ToF32(f32ToBf16(x)),
} as const;

export type MathIntrinsicName = keyof typeof mathIntrinsics;

/** BigInt helpers the JS target uses for 64-bit integer arithmetic. */
export const int64Intrinsics = {
  floordiv: (a: bigint, b: bigint): bigint => {
    const q = a / b;
    return (a % b !== 0n) && ((a < 0n) !== (b < 0n)) ? q - 1n : q;
  },
  floormod: (a: bigint, b: bigint): bigint => {
    const r = a % b;
    return r !== 0n && ((r < 0n) !== (b < 0n)) ? r + b : r;
  },
  min: (a: bigint, b: bigint): bigint => (a < b ? a : b),
  max: (a: bigint, b: bigint): bigint => (a > b ? a : b),
  abs: (a: bigint): bigint => (a < 0n ? -a : a),
  pow: (a: bigint, b: bigint): bigint => (b < 0n ? 0n : a ** b),
  /** A float to int64 as wasm's i64.trunc_sat does it: toward zero, NaN to 0, saturating at the ends. */
  fromFloat: (x: number): bigint => (Number.isNaN(x) ? 0n : x >= 2 ** 63 ? 2n ** 63n - 1n : x < -(2 ** 63) ? -(2n ** 63n) : BigInt(Math.trunc(x))),
  /** A float to uint64 as i64.trunc_sat_u does it: NaN and negatives to 0, saturating at 2^64 - 1. */
  fromFloatU: (x: number): bigint => (Number.isNaN(x) || x <= -1 ? 0n : x >= 2 ** 64 ? 2n ** 64n - 1n : BigInt(Math.trunc(x))),
} as const;

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** The float value of IEEE binary16 bits. */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** IEEE binary16 bits of a value, rounded to nearest even (via its float32 value, as the hardware does). */
export function f32ToF16(x: number): number {
  f32Scratch[0] = x;
  const b = u32Scratch[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf or NaN
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00; // overflow to infinity
  if (e <= 0) {
    // Subnormal half (or zero): shift the implicit-1 mantissa into place, rounding to nearest even.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rem = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rem > half || (rem === half && (m & 1))) m++;
    return sign | m;
  }
  const rem = mant & 0x1fff;
  let m = mant >>> 13;
  if (rem > 0x1000 || (rem === 0x1000 && (m & 1))) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 31) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

/** Rounds a value to the nearest float16 value (what storing it as float16 keeps). */
export function roundF16(x: number): number {
  return f16ToF32(f32ToF16(x));
}

/** The float value of bfloat16 bits (the upper half of a float32). */
export function bf16ToF32(h: number): number {
  u32Scratch[0] = (h & 0xffff) << 16;
  return f32Scratch[0]!;
}

/** bfloat16 bits of a value, rounded to nearest even (NaN stays a quiet NaN). */
export function f32ToBf16(x: number): number {
  f32Scratch[0] = x;
  const b = u32Scratch[0]!;
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return ((b >>> 16) | 0x40) & 0xffff;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Conversions the wasm target imports for 16-bit float storage. */
export const halfIntrinsics = { f16_to_f32: f16ToF32, f32_to_f16: f32ToF16, bf16_to_f32: bf16ToF32, f32_to_bf16: f32ToBf16 } as const;

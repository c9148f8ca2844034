/**
 * Math functions compiled into the wasm module itself (f64 → f64), so hot kernels do
 * not call out to JS for them: exp (range reduction to |r| <= ln2/2 and a degree-11
 * polynomial, relative error below 1e-14), and erf, tanh and sigmoid built on it. erf
 * uses the same approximation as runtime/math.ts (relative error below 1.2e-7), so the
 * js and wasm targets agree. Other intrinsics are imported from the runtime's table.
 */
import type { FunctionBuilder, ModuleBuilder } from './encoder.js';

export const NATIVE_MATH = new Set(['exp', 'erf', 'tanh', 'sigmoid']);

/** Adds the native math functions `names` needs (exp first: the others call it); returns their indices. */
export function addNativeMath(mod: ModuleBuilder, names: ReadonlySet<string>): Map<string, number> {
  const out = new Map<string, number>();
  const wanted = [...names].filter((n) => NATIVE_MATH.has(n));
  if (wanted.length === 0) return out;
  const exp = mod.addFunction(['f64'], ['f64'], emitExp);
  out.set('exp', exp);
  if (wanted.includes('erf')) out.set('erf', mod.addFunction(['f64'], ['f64'], (f) => emitErf(f, exp)));
  if (wanted.includes('tanh')) out.set('tanh', mod.addFunction(['f64'], ['f64'], (f) => emitTanh(f, exp)));
  if (wanted.includes('sigmoid')) out.set('sigmoid', mod.addFunction(['f64'], ['f64'], (f) => emitSigmoid(f, exp)));
  return out;
}

/** 2^j for an i64 j in the normal range, on the stack as f64. */
function pow2(f: FunctionBuilder, j: number): void {
  f.localGet(j).i64Const(1023n).op('i64.add').i64Const(52n).op('i64.shl').op('f64.reinterpret_i64');
}

function emitExp(f: FunctionBuilder): void {
  const x = 0;
  const k = f.addLocal('f64');
  const r = f.addLocal('f64');
  const k1 = f.addLocal('i64');
  const k2 = f.addLocal('i64');
  // Overflow and underflow first (NaN falls through both tests and stays NaN).
  f.localGet(x).f64Const(709.782712893384).op('f64.gt').if_().f64Const(Infinity).return_().end();
  f.localGet(x).f64Const(-745.1332191019412).op('f64.lt').if_().f64Const(0).return_().end();
  // k = round(x / ln2); r = x - k ln2 (ln2 split in a high and a low part for accuracy).
  f.localGet(x).f64Const(1.4426950408889634).op('f64.mul').op('f64.nearest').localSet(k);
  f.localGet(x).localGet(k).f64Const(0.6931471803691238).op('f64.mul').op('f64.sub');
  f.localGet(k).f64Const(1.9082149292705877e-10).op('f64.mul').op('f64.sub').localSet(r);
  // p(r) = Σ r^i / i!, Horner form, degree 11.
  const coeffs = Array.from({ length: 12 }, (_, i) => 1 / factorial(i));
  f.f64Const(coeffs[11]!);
  for (let i = 10; i >= 0; i--) f.localGet(r).op('f64.mul').f64Const(coeffs[i]!).op('f64.add');
  // p · 2^k1 · 2^k2 with k1 = k/2, k2 = k - k1 (each in the normal exponent range).
  f.localGet(k).op('i64.trunc_sat_f64_s').localTee(k1).i64Const(1n).op('i64.shr_s').localSet(k2);
  f.localGet(k1).localGet(k2).op('i64.sub').localSet(k1);
  pow2(f, k1);
  f.op('f64.mul');
  pow2(f, k2);
  f.op('f64.mul');
}

function factorial(n: number): number {
  let p = 1;
  for (let i = 2; i <= n; i++) p *= i;
  return p;
}

/** erf(x) = ±(1 - t·exp(-z² + P(t))), t = 1 / (1 + z/2), z = |x| (Numerical Recipes 6.2). */
function emitErf(f: FunctionBuilder, exp: number): void {
  const x = 0;
  const z = f.addLocal('f64');
  const t = f.addLocal('f64');
  const r = f.addLocal('f64');
  f.localGet(x).op('f64.abs').localSet(z);
  f.f64Const(1).f64Const(1).localGet(z).f64Const(0.5).op('f64.mul').op('f64.add').op('f64.div').localSet(t);
  const c = [-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277];
  f.f64Const(c[9]!);
  for (let i = 8; i >= 0; i--) f.localGet(t).op('f64.mul').f64Const(c[i]!).op('f64.add');
  f.localGet(z).localGet(z).op('f64.mul').op('f64.sub');
  f.call(exp).localGet(t).op('f64.mul').localSet(r);
  f.localGet(x).f64Const(0).op('f64.ge').if_('f64');
  f.f64Const(1).localGet(r).op('f64.sub');
  f.else_();
  f.localGet(r).f64Const(1).op('f64.sub');
  f.end();
}

/** tanh(x) = sign(x) · (1 - 2 / (exp(2|x|) + 1)); ±1 beyond |x| = 20. */
function emitTanh(f: FunctionBuilder, exp: number): void {
  const x = 0;
  const a = f.addLocal('f64');
  f.localGet(x).op('f64.abs').localSet(a);
  f.localGet(a).f64Const(20).op('f64.gt').if_('f64');
  f.f64Const(1);
  f.else_();
  f.f64Const(1).f64Const(2).localGet(a).f64Const(2).op('f64.mul').call(exp).f64Const(1).op('f64.add').op('f64.div').op('f64.sub');
  f.end();
  f.localGet(x).op('f64.copysign');
}

/** sigmoid(x) = 1 / (1 + exp(-x)). */
function emitSigmoid(f: FunctionBuilder, exp: number): void {
  f.f64Const(1).f64Const(1).localGet(0).op('f64.neg').call(exp).op('f64.add').op('f64.div');
}

// ----------------------------------------------------------------- 4-lane f32 versions

/** The f32x4 math functions vectorized loops may call (v128 → v128). */
export const VECTOR_MATH = new Set(['exp', 'erf', 'tanh', 'sigmoid']);

/** ln(2^-126): exp below this would be a subnormal float32. */
const LOG_MIN_NORMAL = -87.33654;
/**
 * The largest float32 below ln(FLT_MAX) = 88.7228391: exp above it overflows to +inf. At or
 * below it, k = round(x / ln 2) <= 128 comes with a reduced argument r < 0 when k = 128,
 * so p = e^r < 1 and adding k to p's exponent field stays below 255.
 */
const LOG_MAX = 88.72283;

const splat = (f: FunctionBuilder, x: number): void => {
  f.f32x4Const([x, x, x, x]);
};

/**
 * Emits f32x4 `name`(local `arg`) inline, leaving the result on the stack. Inline rather
 * than called: the engine can then keep the constants in registers across the loop (a
 * call re-materializes each one; measured: a GELU 0.15 -> 0.11 ms on BERT's 128x1024).
 * exp: range reduction to |r| <= ln2/2, degree-7 polynomial (relative error ~1e-8 before
 * float32 rounding), 2^k applied by adding k to the exponent field; overflow gives +inf, and results below the
 * smallest normal float32 (x < ln 2^-126) flush to 0: subnormal arithmetic is slow on x86
 * (a softmax row with masked -1e4 scores would take it for every masked element), and an
 * absolute error below 1.2e-38 is far inside any tolerance. erf is a rational approximation
 * (emitErf4); tanh and sigmoid are built on exp as in the f64 versions.
 */
export function emitVectorMath(f: FunctionBuilder, name: string, arg: number): void {
  switch (name) {
    case 'exp': emitExp4(f, arg); return;
    case 'erf': emitErf4(f, arg); return;
    case 'tanh': emitTanh4(f, arg); return;
    case 'sigmoid': emitSigmoid4(f, arg); return;
    default: throw new Error(`no f32x4 ${name}`);
  }
}

/** exp of the v128 on the stack, inline. */
function expOfStack(f: FunctionBuilder): void {
  const t = f.addLocal('v128');
  f.localSet(t);
  emitExp4(f, t);
}

function emitExp4(f: FunctionBuilder, x: number): void {
  const xc = f.addLocal('v128');
  const k = f.addLocal('v128');
  const r = f.addLocal('v128');
  // Clamp into the range the reduction handles (NaN passes through min/max).
  f.localGet(x);
  splat(f, LOG_MAX);
  f.op('f32x4.pmin');
  splat(f, LOG_MIN_NORMAL);
  f.op('f32x4.pmax').localSet(xc);
  f.localGet(xc);
  splat(f, 1.4426950408889634);
  f.op('f32x4.mul').op('f32x4.nearest').localSet(k);
  f.localGet(xc).localGet(k);
  splat(f, 0.693359375);
  f.op('f32x4.mul').op('f32x4.sub').localGet(k);
  splat(f, -2.12194440e-4);
  f.op('f32x4.mul').op('f32x4.sub').localSet(r);
  // Σ r^i / i! to i = 7 as (c0 + c1 r) + r²(c2 + c3 r) + r⁴((c4 + c5 r) + r²(c6 + c7 r)):
  // independent pairs, a dependency chain of 4 multiply-adds instead of Horner's 7.
  const c = Array.from({ length: 8 }, (_, i) => 1 / factorial(i));
  const r2 = f.addLocal('v128');
  f.localGet(r).localGet(r).op('f32x4.mul').localSet(r2);
  const pair = (i: number): void => {
    f.localGet(r);
    splat(f, c[i + 1]!);
    f.op('f32x4.mul');
    splat(f, c[i]!);
    f.op('f32x4.add');
  };
  pair(0);
  pair(2);
  f.localGet(r2).op('f32x4.mul').op('f32x4.add');
  pair(4);
  pair(6);
  f.localGet(r2).op('f32x4.mul').op('f32x4.add');
  f.localGet(r2).localGet(r2).op('f32x4.mul').op('f32x4.mul').op('f32x4.add');
  // p · 2^k: k added to p's exponent field (p in [0.7, 1.42], k in [-126, 128]; the result
  // exponent stays in 0..254, where 0 (k = -126, p just under 1) reads as the subnormal
  // it approximates).
  f.localGet(k).op('i32x4.trunc_sat_f32x4_s').i32Const(23).op('i32x4.shl').op('i32x4.add').localSet(r);
  // Beyond the float32 range: +inf above, 0 below (selected on the unclamped input).
  splat(f, Infinity);
  f.localGet(r).localGet(x);
  splat(f, LOG_MAX);
  f.op('f32x4.gt').op('v128.bitselect').localSet(r);
  splat(f, 0);
  f.localGet(r).localGet(x);
  splat(f, LOG_MIN_NORMAL);
  f.op('f32x4.lt').op('v128.bitselect');
}

/** Gives the value on the stack the sign of local `x` (flips it where x is negative). */
function withSignOf(f: FunctionBuilder, x: number): void {
  f.localGet(x).i32x4Const([0x80000000, 0x80000000, 0x80000000, 0x80000000]).op('v128.and').op('v128.xor');
}

/**
 * erf(x) ≈ x·P(x²)/Q(x²) on x clamped to [-4, 4] (erf(4) = 1 - 1.5e-8), P and Q of degree 5
 * in x². The coefficients were fitted for this project (least squares on the linearized
 * form x·P - erf·Q, reweighted by 1/Q); max absolute and relative error 3.8e-7 in float32
 * arithmetic. No exp and one division: several times cheaper than erfc-based forms.
 */
const ERF_P = [1.1283790461431837, 0.19230819361813706, 0.05298176303014654, 0.0038447062833543845, 0.00028618799735723524, 2.027286571004705e-06];
const ERF_Q = [1.0, 0.5037605984758945, 0.11487953586766433, 0.015124428900954669, 0.001181057415274911, 3.7928556046805395e-05];

function emitErf4(f: FunctionBuilder, arg: number): void {
  const x = f.addLocal('v128');
  const t = f.addLocal('v128');
  const t2 = f.addLocal('v128');
  f.localGet(arg);
  splat(f, 4);
  f.op('f32x4.pmin');
  splat(f, -4);
  f.op('f32x4.pmax').localTee(x).localGet(x).op('f32x4.mul').localTee(t).localGet(t).op('f32x4.mul').localSet(t2);
  // Degree 5 in t as (c0 + c1 t) + t²((c2 + c3 t) + t²(c4 + c5 t)): the pairs are
  // independent, so the dependency chain is 3 multiply-adds long instead of Horner's 5.
  const pair = (lo: number, hi: number): void => {
    f.localGet(t);
    splat(f, hi);
    f.op('f32x4.mul');
    splat(f, lo);
    f.op('f32x4.add');
  };
  const estrin = (c: readonly number[]): void => {
    pair(c[0]!, c[1]!);
    pair(c[2]!, c[3]!);
    pair(c[4]!, c[5]!);
    f.localGet(t2).op('f32x4.mul').op('f32x4.add').localGet(t2).op('f32x4.mul').op('f32x4.add');
  };
  f.localGet(x);
  estrin(ERF_P);
  f.op('f32x4.mul');
  estrin(ERF_Q);
  f.op('f32x4.div');
}

/**
 * tanh: 1 - 2 / (exp(2|x|) + 1) for |x| >= 0.3; below, where that cancels, the odd Taylor
 * series to x^9 (relative error below 1e-7 there).
 */
function emitTanh4(f: FunctionBuilder, x: number): void {
  const a = f.addLocal('v128');
  const e = f.addLocal('v128');
  const a2 = f.addLocal('v128');
  f.localGet(x).op('f32x4.abs').localSet(a);
  f.localGet(a);
  splat(f, 2);
  f.op('f32x4.mul');
  expOfStack(f);
  f.localSet(e);
  // Small |x|: a · (1 + a²(-1/3 + a²(2/15 + a²(-17/315 + a² · 62/2835)))).
  f.localGet(a).localGet(a).op('f32x4.mul').localSet(a2);
  splat(f, 62 / 2835);
  for (const c of [-17 / 315, 2 / 15, -1 / 3, 1]) {
    f.localGet(a2).op('f32x4.mul');
    splat(f, c);
    f.op('f32x4.add');
  }
  f.localGet(a).op('f32x4.mul');
  // Large |x|.
  splat(f, 1);
  splat(f, 2);
  f.localGet(e);
  splat(f, 1);
  f.op('f32x4.add').op('f32x4.div').op('f32x4.sub');
  f.localGet(a);
  splat(f, 0.3);
  f.op('f32x4.lt').op('v128.bitselect');
  withSignOf(f, x);
}

function emitSigmoid4(f: FunctionBuilder, x: number): void {
  splat(f, 1);
  splat(f, 1);
  f.localGet(x).op('f32x4.neg');
  expOfStack(f);
  f.op('f32x4.add').op('f32x4.div');
}

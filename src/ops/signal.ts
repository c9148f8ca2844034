/**
 * Signal processing and text-vector operators: the window functions HannWindow,
 * HammingWindow and BlackmanWindow, DFT, STFT, MelWeightMatrix, and TfIdfVectorizer.
 *
 * Attributes (normalized by the ONNX converters; constant inputs become attributes):
 *   HannWindow/HammingWindow/BlackmanWindow: size, periodic (default 1), dtype (default float32)
 *   DFT:             axis (in [0, rank - 1), not the last (complex) dim), inverse, onesided,
 *                    dft_length (default: the signal length along axis)
 *   STFT:            frame_step, frame_length (default: the window's length), onesided (default 1)
 *   MelWeightMatrix: num_mel_bins, dft_length, sample_rate, lower_edge_hertz, upper_edge_hertz, dtype
 *   TfIdfVectorizer: mode (TF|IDF|TFIDF), min_gram_length, max_gram_length, max_skip_count,
 *                    ngram_counts, ngram_indexes, pool_int64s, weights (default all 1)
 *
 * Precision: trigonometric angles are computed in float64, with the integer product
 * k * n reduced modulo N first (so the argument stays in [0, 2π)), and the DFT/STFT
 * sums accumulate in float64; results are cast to the output dtype at the end.
 *
 * DFT and STFT are O(n²) TE sum-reductions over the signal positions (the real and
 * imaginary output components select their term inside the reduction), followed by
 * an elementwise cast (and 1/n scale for the inverse DFT): pattern 'reduce'.
 * TfIdfVectorizer counts each output column's pooled n-gram (a constant sequence, known
 * from the attributes) with a sum-reduction over (start position, skip): pattern 'reduce'.
 * The windows and MelWeightMatrix take no tensor inputs: pattern 'injective'.
 */
import type { DType } from '../runtime/dtype.js';
import { isDType } from '../runtime/dtype.js';
import type { Attrs, Dim, TensorType } from '../graph/ir.js';
import {
  type Expr, add, and as andE, binary, call, cast, constant, div, eq, float, floormod, gt, int, le, lt, mul, select, sub,
} from '../ir/expr.js';
import { compute, reduceAxis, sum } from '../te/tensor.js';
import { OpError, attrFloat, attrInt, attrInts, attrString, registerOp } from './registry.js';
import { FLOAT_TYPES, NUMERIC_TYPES, checkArity, checkDType, fmt } from './common.js';

const f64 = (v: number): Expr => float(v, 'float64');
const TWO_PI = 2 * Math.PI;

function attrDType(attrs: Attrs, name: string, dflt: DType): DType {
  const s = attrString(attrs, name, dflt);
  if (!isDType(s)) throw new OpError(`attribute ${name}: unknown dtype '${s}'`);
  return s;
}

function positiveInt(v: number, what: string, allowZero = false): number {
  if (!Number.isInteger(v) || v < (allowZero ? 0 : 1)) throw new OpError(`${what} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${v}`);
  return v;
}

/** cos and sin of 2π * ((k * t) mod n) / n, in float64 (k, t int32 index expressions). */
function twiddle(k: Expr, t: Expr, n: number): [Expr, Expr] {
  const theta = mul(cast(floormod(mul(k, t), int(n)), 'float64'), f64(TWO_PI / n));
  return [call('cos', [theta]), call('sin', [theta])];
}

// ------------------------------------------------------------------ windows

/**
 * The generalized cosine windows w[n] = Σ_j (-1)^j a_j cos(2π j n / N), with N = size
 * (periodic) or size - 1 (symmetric). A symmetric window of size 1 is [1].
 */
const WINDOWS: Record<string, readonly number[]> = {
  HannWindow: [0.5, 0.5],
  HammingWindow: [25 / 46, 21 / 46],
  BlackmanWindow: [0.42, 0.5, 0.08],
};

for (const [name, coeffs] of Object.entries(WINDOWS)) {
  registerOp({
    name,
    pattern: 'injective',
    inferTypes(inputs, attrs) {
      checkArity(inputs, 0);
      const size = positiveInt(attrInt(attrs, 'size'), 'size', true);
      const dtype = attrDType(attrs, 'dtype', 'float32');
      if (!NUMERIC_TYPES.includes(dtype)) throw new OpError(`output dtype ${dtype} is not numeric`);
      return [{ dtype, shape: [size] }];
    },
    compute(_inputs, attrs, [out]) {
      const size = attrInt(attrs, 'size');
      const periodic = attrInt(attrs, 'periodic', 1) !== 0;
      const n = periodic ? size : size - 1;
      return [compute(out!.shape as number[], (i) => {
        if (n <= 0) return constant(1, out!.dtype);
        let v: Expr = f64(coeffs[0]!);
        coeffs.forEach((a, j) => {
          if (j === 0) return;
          const [cos] = twiddle(i!, int(j), n);
          v = j % 2 === 1 ? sub(v, mul(f64(a), cos)) : add(v, mul(f64(a), cos));
        });
        return cast(v, out!.dtype);
      }, name)];
    },
  });
}

// ------------------------------------------------------------------ DFT

interface DftSpec {
  readonly axis: number;
  readonly inverse: boolean;
  readonly onesided: boolean;
  /** The transform length n, or undefined: the (possibly symbolic) signal length. */
  readonly length: number | undefined;
}

function dftSpec(attrs: Attrs, rank: number): DftSpec {
  if (rank < 2) throw new OpError(`input must have rank >= 2 ([..., signal dims, 1 or 2]), got rank ${rank}`);
  const axis = attrInt(attrs, 'axis', 1);
  if (!Number.isInteger(axis) || axis < 0 || axis >= rank - 1) throw new OpError(`axis ${axis} must be in [0, ${rank - 1}) (the last dim holds the real/imaginary parts)`);
  const inverse = attrInt(attrs, 'inverse', 0) !== 0;
  const onesided = attrInt(attrs, 'onesided', 0) !== 0;
  if (inverse && onesided) throw new OpError('onesided with inverse is not supported');
  const len = attrs['dft_length'] === undefined ? undefined : positiveInt(attrInt(attrs, 'dft_length'), 'dft_length');
  return { axis, inverse, onesided, length: len };
}

function checkComplexDim(x: TensorType): void {
  const last = x.shape[x.shape.length - 1];
  if (last !== 1 && last !== 2) throw new OpError(`the last dim must be 1 (real) or 2 (complex), got ${fmt(x.shape)}`);
}

/**
 * The float64 sum over t in [0, count) of (xr + i xi) * e^{∓iθ}, θ = 2π k t / n, as
 * the component `c` (0 real, 1 imaginary) selects: forward (sign -1) gives
 * re = xr cos + xi sin, im = xi cos - xr sin; inverse (sign +1) the conjugate terms.
 */
function dftTerm(c: Expr, k: Expr, t: Expr, n: number, inverse: boolean, xr: Expr, xi: Expr | undefined): Expr {
  const [cos, sin] = twiddle(k, t, n);
  let re = mul(xr, cos);
  let im = sub(f64(0), mul(xr, sin));
  if (inverse) im = mul(xr, sin);
  if (xi) {
    re = inverse ? sub(re, mul(xi, sin)) : add(re, mul(xi, sin));
    im = add(im, mul(xi, cos));
  }
  return select(eq(c, int(0)), re, im);
}

registerOp({
  name: 'DFT',
  pattern: 'reduce',
  inferTypes(inputs, attrs) {
    const [x] = checkArity(inputs, 1);
    checkDType(x!, FLOAT_TYPES);
    checkComplexDim(x!);
    const spec = dftSpec(attrs, x!.shape.length);
    const n: Dim = spec.length ?? x!.shape[spec.axis]!;
    let outLen: Dim = n;
    if (spec.onesided) {
      if (typeof n !== 'number') throw new OpError(`onesided needs a concrete signal length, got ${fmt(x!.shape)}`);
      outLen = Math.floor(n / 2) + 1;
    }
    const shape = [...x!.shape];
    shape[spec.axis] = outLen;
    shape[shape.length - 1] = 2;
    return [{ dtype: x!.dtype, shape }];
  },
  compute([x], attrs, [out]) {
    const spec = dftSpec(attrs, x!.rank);
    const last = x!.rank - 1;
    const complex = x!.shape[last] === 2;
    const n = spec.length ?? x!.shape[spec.axis]!;
    const count = Math.min(n, x!.shape[spec.axis]!);
    const shape = out!.shape as number[];
    const acc = compute(shape, (...idx) => {
      const t = reduceAxis(count, 't');
      const at = (part: number): Expr => {
        const ii: Expr[] = [...idx];
        ii[spec.axis] = t.var;
        ii[last] = int(part);
        return cast(x!.at(...ii), 'float64');
      };
      return sum(dftTerm(idx[last]!, idx[spec.axis]!, t.var, n, spec.inverse, at(0), complex ? at(1) : undefined), [t]);
    }, 'DFT_acc');
    return [compute(shape, (...idx) => {
      const v = acc.at(...idx);
      return cast(spec.inverse ? div(v, f64(n)) : v, out!.dtype);
    }, 'DFT')];
  },
});

// ------------------------------------------------------------------ STFT

/** STFT: signal [B, L, 1|2], optional window [frame_length] → [B, frames, bins, 2]. */
registerOp({
  name: 'STFT',
  pattern: 'reduce',
  inferTypes(inputs, attrs) {
    const [x, w] = checkArity(inputs, 1, 2);
    checkDType(x!, FLOAT_TYPES);
    if (x!.shape.length !== 3) throw new OpError(`signal must be [batch, length, 1 or 2], got ${fmt(x!.shape)}`);
    checkComplexDim(x!);
    const step = positiveInt(attrInt(attrs, 'frame_step'), 'frame_step');
    let fl: number | undefined = attrs['frame_length'] === undefined ? undefined : positiveInt(attrInt(attrs, 'frame_length'), 'frame_length');
    if (w) {
      if (w.dtype !== x!.dtype) throw new OpError(`window dtype ${w.dtype} must match the signal's ${x!.dtype}`);
      if (w.shape.length !== 1) throw new OpError(`window must be 1-D, got ${fmt(w.shape)}`);
      const wl = w.shape[0]!;
      if (typeof wl !== 'number') throw new OpError(`window length must be concrete, got ${fmt(w.shape)}`);
      if (fl !== undefined && fl !== wl) throw new OpError(`frame_length ${fl} does not match the window length ${wl}`);
      fl = wl;
    }
    if (fl === undefined) throw new OpError('either a window or frame_length is required');
    const len = x!.shape[1]!;
    let frames: Dim;
    if (typeof len === 'number') {
      if (len < fl) throw new OpError(`signal length ${len} is shorter than frame_length ${fl}`);
      frames = Math.floor((len - fl) / step) + 1;
    } else {
      frames = `floor((${len}-${fl})/${step})+1`;
    }
    const onesided = attrInt(attrs, 'onesided', 1) !== 0;
    const bins = onesided ? Math.floor(fl / 2) + 1 : fl;
    return [{ dtype: x!.dtype, shape: [x!.shape[0]!, frames, bins, 2] }];
  },
  compute([x, w], attrs, [out]) {
    const step = attrInt(attrs, 'frame_step');
    const fl = w ? w.shape[0]! : attrInt(attrs, 'frame_length');
    const complex = x!.shape[2] === 2;
    const shape = out!.shape as number[];
    const acc = compute(shape, (b, f, k, c) => {
      const t = reduceAxis(fl, 't');
      const pos = add(mul(f!, int(step)), t.var);
      const win = w ? cast(w.at(t.var), 'float64') : undefined;
      const at = (part: number): Expr => {
        const v = cast(x!.at(b!, pos, int(part)), 'float64');
        return win ? mul(v, win) : v;
      };
      return sum(dftTerm(c!, k!, t.var, fl, false, at(0), complex ? at(1) : undefined), [t]);
    }, 'STFT_acc');
    return [compute(shape, (...idx) => cast(acc.at(...idx), out!.dtype), 'STFT')];
  },
});

// ------------------------------------------------------------------ MelWeightMatrix

interface MelSpec {
  readonly bins: number;
  readonly dftLength: number;
  readonly sampleRate: number;
  readonly lower: number;
  readonly upper: number;
}

function melSpec(attrs: Attrs): MelSpec {
  const bins = positiveInt(attrInt(attrs, 'num_mel_bins'), 'num_mel_bins');
  const dftLength = positiveInt(attrInt(attrs, 'dft_length'), 'dft_length');
  const sampleRate = attrFloat(attrs, 'sample_rate');
  if (!(sampleRate > 0)) throw new OpError(`sample_rate must be positive, got ${sampleRate}`);
  const lower = attrFloat(attrs, 'lower_edge_hertz');
  const upper = attrFloat(attrs, 'upper_edge_hertz');
  if (!(lower >= 0 && upper >= lower)) throw new OpError(`need 0 <= lower_edge_hertz (${lower}) <= upper_edge_hertz (${upper})`);
  return { bins, dftLength, sampleRate, lower, upper };
}

/**
 * MelWeightMatrix [dft_length / 2 + 1, num_mel_bins]: triangular filters between the
 * spectrogram bins edge(i), edge(i + 1), edge(i + 2) of num_mel_bins + 2 points evenly
 * spaced on the mel scale, mel(f) = 2595 log10(1 + f / 700); edge(m) =
 * floor((dft_length + 1) * hz(m) / sample_rate) (as the ONNX reference). The edges
 * and weights are computed per element in float64.
 */
registerOp({
  name: 'MelWeightMatrix',
  pattern: 'injective',
  inferTypes(inputs, attrs) {
    checkArity(inputs, 0);
    const s = melSpec(attrs);
    const dtype = attrDType(attrs, 'dtype', 'float32');
    if (!NUMERIC_TYPES.includes(dtype)) throw new OpError(`output dtype ${dtype} is not numeric`);
    return [{ dtype, shape: [Math.floor(s.dftLength / 2) + 1, s.bins] }];
  },
  compute(_inputs, attrs, [out]) {
    const s = melSpec(attrs);
    const lowMel = 2595 * Math.log10(1 + s.lower / 700);
    const highMel = 2595 * Math.log10(1 + s.upper / 700);
    const step = (highMel - lowMel) / (s.bins + 2);
    const edge = (m: Expr): Expr => {
      const mel = add(mul(cast(m, 'float64'), f64(step)), f64(lowMel));
      const hz = mul(f64(700), sub(binary('pow', f64(10), div(mel, f64(2595))), f64(1)));
      return cast(call('floor', [div(mul(f64(s.dftLength + 1), hz), f64(s.sampleRate))]), 'int32');
    };
    const dt = out!.dtype;
    return [compute(out!.shape as number[], (j, i) => {
      const lo = edge(i!), mid = edge(add(i!, int(1))), hi = edge(add(i!, int(2)));
      const jf = cast(j!, 'float64');
      const ratio = (num: Expr, den: Expr): Expr => div(num, cast(den, 'float64'));
      const falling = ratio(sub(cast(hi, 'float64'), jf), sub(hi, mid));
      const rising = ratio(sub(jf, cast(lo, 'float64')), sub(mid, lo));
      const v = select(andE(lt(mid, hi), andE(le(mid, j!), lt(j!, hi))), falling,
        select(andE(lt(lo, mid), andE(le(lo, j!), le(j!, mid))), rising,
          select(andE(eq(lo, mid), eq(j!, mid)), f64(1), f64(0))));
      return cast(v, dt);
    }, 'MelWeightMatrix')];
  },
});

// ------------------------------------------------------------------ TfIdfVectorizer

interface Gram {
  readonly values: readonly number[];
  readonly column: number;
  readonly weight: number;
}

interface TfIdfSpec {
  readonly mode: 'TF' | 'IDF' | 'TFIDF';
  readonly maxSkip: number;
  readonly columns: number;
  /** The pooled n-grams whose length is in [min_gram_length, max_gram_length]. */
  readonly grams: readonly Gram[];
}

function tfidfSpec(attrs: Attrs): TfIdfSpec {
  const mode = attrString(attrs, 'mode');
  if (mode !== 'TF' && mode !== 'IDF' && mode !== 'TFIDF') throw new OpError(`mode must be TF, IDF or TFIDF, got '${mode}'`);
  const minN = positiveInt(attrInt(attrs, 'min_gram_length'), 'min_gram_length');
  const maxN = positiveInt(attrInt(attrs, 'max_gram_length'), 'max_gram_length');
  if (maxN < minN) throw new OpError(`max_gram_length ${maxN} is below min_gram_length ${minN}`);
  const maxSkip = positiveInt(attrInt(attrs, 'max_skip_count', 0), 'max_skip_count', true);
  const counts = attrInts(attrs, 'ngram_counts');
  const indexes = attrInts(attrs, 'ngram_indexes');
  const pool = attrInts(attrs, 'pool_int64s');
  const weights = attrs['weights'] === undefined ? undefined : attrInts(attrs, 'weights');
  if (weights && weights.length !== indexes.length) throw new OpError(`weights has ${weights.length} entries, ngram_indexes ${indexes.length}`);
  if (indexes.some((i) => !Number.isInteger(i) || i < 0)) throw new OpError('ngram_indexes must be non-negative integers');
  const grams: Gram[] = [];
  let k = 0;
  counts.forEach((start, j) => {
    const n = j + 1;
    const end = j + 1 < counts.length ? counts[j + 1]! : pool.length;
    if (!Number.isInteger(start) || start < 0 || end < start || end > pool.length || (end - start) % n !== 0) {
      throw new OpError(`ngram_counts [${counts.join(', ')}] does not split pool_int64s (${pool.length} values) into ${n}-grams`);
    }
    for (let p = start; p < end; p += n, k++) {
      if (k >= indexes.length) throw new OpError(`ngram_indexes has ${indexes.length} entries, fewer than the pooled n-grams`);
      if (n >= minN && n <= maxN) grams.push({ values: pool.slice(p, p + n), column: indexes[k]!, weight: weights ? weights[k]! : 1 });
    }
  });
  if (k !== indexes.length) throw new OpError(`ngram_indexes has ${indexes.length} entries for ${k} pooled n-grams`);
  const columns = indexes.length ? Math.max(...indexes) + 1 : 0;
  return { mode, maxSkip, columns, grams };
}

registerOp({
  name: 'TfIdfVectorizer',
  pattern: 'reduce',
  inferTypes(inputs, attrs) {
    const [x] = checkArity(inputs, 1);
    checkDType(x!, ['int32', 'int64']);
    const spec = tfidfSpec(attrs);
    const r = x!.shape.length;
    if (r !== 1 && r !== 2) throw new OpError(`input must be [N] or [B, N], got ${fmt(x!.shape)}`);
    return [{ dtype: 'float32', shape: r === 1 ? [spec.columns] : [x!.shape[0]!, spec.columns] }];
  },
  compute([x], attrs, [out]) {
    const spec = tfidfSpec(attrs);
    const batched = x!.rank === 2;
    const len = x!.shape[x!.rank - 1]!;
    const shape = out!.shape as number[];
    // A gram of n >= 2 with skip s spans (n-1)(s+1)+1 <= len positions, so no skip beyond len-2 can match.
    const skips = Math.min(spec.maxSkip, Math.max(0, len - 2));
    const counts = compute(shape, (...idx) => {
      const col = idx[idx.length - 1]!;
      const p = reduceAxis(len, 'p');
      const s = reduceAxis(skips + 1, 's');
      const read = (pos: Expr): Expr => x!.at(...(batched ? [idx[0]!, pos] : [pos]));
      let hit: Expr = int(0, 'bool');
      for (let g = spec.grams.length - 1; g >= 0; g--) {
        const { values, column } = spec.grams[g]!;
        const n = values.length;
        const stride = add(s.var, int(1));
        // Unigrams are counted once per position, not once per skip.
        let ok: Expr = n === 1 ? eq(s.var, int(0)) : lt(add(p.var, mul(int(n - 1), stride)), int(len));
        let match: Expr = int(1, 'bool');
        values.forEach((v, j) => {
          match = andE(match, eq(read(add(p.var, mul(int(j), stride))), constant(v, x!.dtype)));
        });
        ok = n === 1 ? andE(ok, match) : select(ok, match, int(0, 'bool'));
        hit = select(eq(col, int(column)), ok, hit);
      }
      return sum(select(hit, float(1), float(0)), [p, s]);
    }, 'TfIdfVectorizer_count');
    return [compute(shape, (...idx) => {
      const v = counts.at(...idx);
      if (spec.mode === 'TF') return v;
      const col = idx[idx.length - 1]!;
      let w: Expr = float(0);
      for (const g of spec.grams) w = select(eq(col, int(g.column)), float(g.weight), w);
      return spec.mode === 'IDF' ? select(gt(v, float(0)), w, float(0)) : mul(v, w);
    }, 'TfIdfVectorizer')];
  },
});

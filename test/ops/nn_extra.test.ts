/**
 * The remaining NN operators (src/ops/nn_extra.ts) against naive references, through
 * the real compiler path (runOp: TE → loop IR → default schedule → JS codegen), plus
 * their ONNX converters (src/frontend/onnx/ops/nn_extra.ts) through import → compile
 * → run on both targets.
 *
 * Inputs are seeded random; references compute in double precision from the same
 * float32 inputs. Tolerance: |got - want| <= ATOL + RTOL * |want|.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runOp, inferOp, runModel } from '../helpers/run_op.js';
import { rng, randTensor } from '../helpers/random.js';
import { size, strides as stridesOf, forEachIndex } from '../helpers/shape.js';
import { assertClose as assertCloseTol, assertOpError, expectNodeError } from '../helpers/assert.js';
import { makeModel } from '../helpers/onnx_model.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { importOnnx } from '../../src/frontend/onnx/importer.js';

const RTOL = 1e-4;
const ATOL = 1e-5;

const assertClose = (got: Tensor, want: ArrayLike<number>, dims: readonly number[], what: string, rtol = RTOL, atol = ATOL): void =>
  assertCloseTol(got, want, dims, what, { rtol, atol });


function randInts(dims: number[], seed: number, lo: number, hi: number, dtype: 'int32' | 'int64' = 'int64'): Tensor {
  const r = rng(seed);
  const vals = Array.from({ length: size(dims) }, () => Math.floor(r(lo, hi)));
  return dtype === 'int64' ? new Tensor('int64', BigInt64Array.from(vals.map(BigInt)), dims) : new Tensor('int32', Int32Array.from(vals), dims);
}

/** Element reader of a tensor by multi-index. */
function reader(t: Tensor): (...idx: number[]) => number {
  const s = stridesOf(t.dims);
  return (...idx) => Number(t.data[idx.reduce((a, v, i) => a + v * s[i]!, 0)]);
}

const f32 = (name: string, shape: (number | string)[]) => ({ name, dtype: 'float32' as const, shape });
const i64 = (name: string, shape: (number | string)[]) => ({ name, dtype: 'int64' as const, shape });
const TARGETS: string[] = ['js', 'wasm'];

// ------------------------------------------------------------------ ConvTranspose

interface ConvTParams { strides: number[]; pads: number[]; dilations: number[]; group: number; outputPadding: number[] }

/** Scatter form of the transposed convolution (each input element adds kernel * x to the output). */
function refConvTranspose(x: Tensor, w: Tensor, b: Tensor | null, p: ConvTParams): { data: number[]; dims: number[] } {
  const [n, c, ...sp] = x.dims as number[];
  const [, mg, ...ks] = w.dims as number[];
  const nd = sp.length;
  const m = mg! * p.group;
  const cg = c! / p.group;
  const out = sp.map((d, i) => p.strides[i]! * (d - 1) + p.outputPadding[i]! + (ks[i]! - 1) * p.dilations[i]! + 1 - p.pads[i]! - p.pads[nd + i]!);
  const dims = [n!, m, ...out];
  const os = stridesOf(dims);
  const data = new Array<number>(size(dims)).fill(0);
  const X = reader(x), W = reader(w);
  forEachIndex(x.dims, ([ni, ci, ...i]) => {
    const g = Math.floor(ci! / cg);
    for (let mi = 0; mi < mg!; mi++) {
      forEachIndex(ks, (k) => {
        let off = ni! * os[0]! + (g * mg! + mi) * os[1]!;
        for (let d = 0; d < nd; d++) {
          const o = i[d]! * p.strides[d]! + k[d]! * p.dilations[d]! - p.pads[d]!;
          if (o < 0 || o >= out[d]!) return;
          off += o * os[2 + d]!;
        }
        data[off]! += X(ni!, ci!, ...i) * W(ci!, mi, ...k);
      });
    }
  });
  if (b) forEachIndex(dims, (idx) => { data[idx.reduce((a, v, d) => a + v * os[d]!, 0)]! += Number(b.data[idx[1]!]); });
  return { data, dims };
}

describe('ConvTranspose', () => {
  const cases: { name: string; x: number[]; w: number[]; bias: boolean; p: ConvTParams }[] = [
    { name: '1-D, stride 2, output_padding 1', x: [2, 3, 5], w: [3, 2, 3], bias: true, p: { strides: [2], pads: [0, 0], dilations: [1], group: 1, outputPadding: [1] } },
    { name: '2-D, group 2, strides, asymmetric pads, dilations, bias', x: [1, 4, 4, 5], w: [4, 3, 3, 2], bias: true, p: { strides: [3, 2], pads: [1, 0, 2, 1], dilations: [1, 2], group: 2, outputPadding: [0, 1] } },
    { name: '2-D, negative end pads (output past the full result)', x: [1, 1, 3, 3], w: [1, 2, 3, 3], bias: false, p: { strides: [3, 2], pads: [0, 0, -1, -1], dilations: [1, 1], group: 1, outputPadding: [0, 0] } },
    { name: '3-D, stride 1 (no divisibility check)', x: [1, 2, 3, 4, 2], w: [2, 2, 2, 3, 2], bias: false, p: { strides: [1, 1, 1], pads: [1, 0, 0, 0, 1, 0], dilations: [1, 1, 1], group: 1, outputPadding: [0, 0, 0] } },
  ];
  cases.forEach((tc, k) => {
    it(tc.name, () => {
      const x = randTensor(tc.x, 10 + k), w = randTensor(tc.w, 20 + k);
      const mOut = tc.w[1]! * tc.p.group;
      const b = tc.bias ? randTensor([mOut], 30 + k) : null;
      const attrs = { strides: tc.p.strides, pads: tc.p.pads, dilations: tc.p.dilations, group: tc.p.group, output_padding: tc.p.outputPadding };
      const [y] = runOp('ConvTranspose', b ? [x, w, b] : [x, w], attrs);
      const ref = refConvTranspose(x, w, b, tc.p);
      assertClose(y!, ref.data, ref.dims, tc.name);
    });
  });

  it('shape rule: symbolic batch flows, spatial sizes computed; errors', () => {
    const [t] = inferOp('ConvTranspose', [{ dtype: 'float32', shape: ['N', 2, 3, 3] }, { dtype: 'float32', shape: [2, 4, 3, 3] }], { strides: [2, 2], group: 2 });
    assert.deepEqual(t!.shape, ['N', 8, 7, 7]);
    assertOpError(() => inferOp('ConvTranspose', [{ dtype: 'float32', shape: [1, 3, 3, 3] }, { dtype: 'float32', shape: [2, 4, 3, 3] }]), /input channels 3 do not match/);
    assertOpError(() => inferOp('ConvTranspose', [{ dtype: 'float32', shape: [1, 2, 3, 3] }, { dtype: 'float32', shape: [2, 4, 3, 3] }], { pads: [5, 5, 5, 5] }), /output size along spatial dim 0 would be -5/);
  });
});

// ------------------------------------------------------------------ LpPool

function refLpPool(x: Tensor, kernel: number[], strides: number[], pads: number[], p: number, ceil = false): { data: number[]; dims: number[] } {
  const [n, c, ...sp] = x.dims as number[];
  const nd = sp.length;
  const out = sp.map((d, i) => {
    const span = d + pads[i]! + pads[nd + i]! - kernel[i]!;
    if (!ceil) return Math.floor(span / strides[i]!) + 1;
    let o = Math.ceil(span / strides[i]!) + 1;
    if ((o - 1) * strides[i]! >= d + pads[i]!) o--;
    return o;
  });
  const dims = [n!, c!, ...out];
  const X = reader(x);
  const data: number[] = [];
  forEachIndex(dims, ([ni, ci, ...o]) => {
    let acc = 0;
    forEachIndex(kernel, (k) => {
      const pos = o.map((oi, i) => oi * strides[i]! - pads[i]! + k[i]!);
      if (pos.some((q, i) => q < 0 || q >= sp[i]!)) return;
      acc += Math.abs(X(ni!, ci!, ...pos)) ** p;
    });
    data.push(acc ** (1 / p));
  });
  return { data, dims };
}

describe('LpPool', () => {
  for (const p of [1, 2, 3]) {
    it(`p=${p}, 2-D with pads and strides`, () => {
      const x = randTensor([2, 3, 6, 5], 40 + p);
      const [y] = runOp('LpPool', [x], { kernel_shape: [3, 2], strides: [2, 1], pads: [1, 0, 1, 1], p });
      const ref = refLpPool(x, [3, 2], [2, 1], [1, 0, 1, 1], p);
      assertClose(y!, ref.data, ref.dims, `LpPool p=${p}`);
    });
  }
  it('1-D with ceil_mode, and pads >= kernel rejected', () => {
    const x = randTensor([1, 2, 7], 45);
    const [y] = runOp('LpPool', [x], { kernel_shape: [3], strides: [2], pads: [0, 0], ceil_mode: 1, p: 2 });
    const ref = refLpPool(x, [3], [2], [0, 0], 2, true);
    assertClose(y!, ref.data, ref.dims, 'LpPool 1-D ceil');
    assertOpError(() => inferOp('LpPool', [{ dtype: 'float32', shape: [1, 1, 5] }], { kernel_shape: [2], pads: [2, 0] }), /must be smaller than the kernel/);
  });
});

// ------------------------------------------------------------------ MaxPoolWithIndices, MaxUnpool

function refMaxPoolIdx(x: Tensor, kernel: number[], strides: number[], pads: number[], dil: number[], colMajor: boolean): { y: number[]; idx: number[]; dims: number[] } {
  const [n, c, ...sp] = x.dims as number[];
  const nd = sp.length;
  const out = sp.map((d, i) => Math.floor((d + pads[i]! + pads[nd + i]! - ((kernel[i]! - 1) * dil[i]! + 1)) / strides[i]!) + 1);
  const dims = [n!, c!, ...out];
  const X = reader(x);
  const plane = size(sp);
  const y: number[] = [], idx: number[] = [];
  forEachIndex(dims, ([ni, ci, ...o]) => {
    let best = -Infinity, at = -1;
    forEachIndex(kernel, (k) => {
      const pos = o.map((oi, i) => oi * strides[i]! - pads[i]! + k[i]! * dil[i]!);
      if (pos.some((q, i) => q < 0 || q >= sp[i]!)) return;
      const v = X(ni!, ci!, ...pos);
      if (v > best) {
        best = v;
        let lin = 0;
        if (colMajor) for (let i = nd - 1; i >= 0; i--) lin = lin * sp[i]! + pos[i]!;
        else for (let i = 0; i < nd; i++) lin = lin * sp[i]! + pos[i]!;
        at = (ni! * c! + ci!) * plane + lin;
      }
    });
    y.push(best);
    idx.push(at);
  });
  return { y, idx, dims };
}

/** The ONNX reference MaxUnpool: scatter into the inferred shape, then place it at the start of output_shape. */
function refMaxUnpool(x: Tensor, ind: Tensor, kernel: number[], strides: number[], pads: number[], outputShape?: number[]): { data: number[]; dims: number[] } {
  const [n, c, ...sp] = x.dims as number[];
  const nd = sp.length;
  const inferred = sp.map((d, i) => (d - 1) * strides[i]! - pads[i]! - pads[nd + i]! + kernel[i]!);
  const infDims = [n!, c!, ...inferred];
  const flat = new Array<number>(size(infDims)).fill(0);
  for (let j = 0; j < x.size; j++) flat[Number(ind.data[j])] = Number(x.data[j]);
  const dims = outputShape ?? infDims;
  const is = stridesOf(infDims);
  const data: number[] = [];
  forEachIndex(dims, (idx) => {
    if (idx.some((v, i) => v >= infDims[i]!)) data.push(0);
    else data.push(flat[idx.reduce((a, v, i) => a + v * is[i]!, 0)]!);
  });
  return { data, dims };
}

describe('MaxPoolWithIndices / MaxUnpool', () => {
  for (const colMajor of [false, true]) {
    it(`2-D pads, strides, dilations, storage_order=${colMajor ? 1 : 0}`, () => {
      const x = randTensor([2, 3, 7, 6], 50);
      const attrs = { kernel_shape: [3, 2], strides: [2, 1], pads: [1, 0, 1, 1], dilations: [1, 2], ceil_mode: 0, storage_order: colMajor ? 1 : 0 };
      const [y, ind] = runOp('MaxPoolWithIndices', [x], attrs);
      const ref = refMaxPoolIdx(x, [3, 2], [2, 1], [1, 0, 1, 1], [1, 2], colMajor);
      assertClose(y!, ref.y, ref.dims, 'MaxPoolWithIndices Y');
      assert.equal(ind!.type, 'int64');
      assert.deepEqual(Array.from(ind!.data, Number), ref.idx);
    });
  }

  it('ties pick the first maximum of the window; 3-D', () => {
    const x = new Tensor('float32', Float32Array.from({ length: 2 * 4 * 4 * 3 }, (_, i) => Math.floor(i / 5) % 3), [1, 2, 4, 4, 3]);
    const [y, ind] = runOp('MaxPoolWithIndices', [x], { kernel_shape: [2, 2, 2], strides: [2, 2, 1] });
    const ref = refMaxPoolIdx(x, [2, 2, 2], [2, 2, 1], [0, 0, 0, 0, 0, 0], [1, 1, 1], false);
    assertClose(y!, ref.y, ref.dims, 'MaxPoolWithIndices 3-D Y');
    assert.deepEqual(Array.from(ind!.data, Number), ref.idx);
  });

  it('MaxUnpool inverts MaxPoolWithIndices (small: whole-input search), with a larger output_shape', () => {
    const x = randTensor([2, 3, 4, 6], 51);
    const [y, ind] = runOp('MaxPoolWithIndices', [x], { kernel_shape: [2, 2], strides: [2, 2] });
    const [u] = runOp('MaxUnpool', [y!, ind!], { kernel_shape: [2, 2], strides: [2, 2] });
    const ref = refMaxUnpool(y!, ind!, [2, 2], [2, 2], [0, 0, 0, 0]);
    assertClose(u!, ref.data, ref.dims, 'MaxUnpool');
    const [u2] = runOp('MaxUnpool', [y!, ind!], { kernel_shape: [2, 2], strides: [2, 2], output_shape: [2, 3, 5, 7] });
    const ref2 = refMaxUnpool(y!, ind!, [2, 2], [2, 2], [0, 0, 0, 0], [2, 3, 5, 7]);
    assertClose(u2!, ref2.data, ref2.dims, 'MaxUnpool output_shape');
  });

  it('MaxUnpool of arbitrary (non-window) indices: last write wins', () => {
    const x = randTensor([1, 2, 2, 2], 52);
    const ind = new Tensor('int64', BigInt64Array.from([0, 15, 15, 3, 16, 31, 20, 20].map(BigInt)), [1, 2, 2, 2]);
    const [u] = runOp('MaxUnpool', [x, ind], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 0, 0] });
    const ref = refMaxUnpool(x, ind, [3, 3], [2, 2], [1, 1, 0, 0]);
    assertClose(u!, ref.data, ref.dims, 'MaxUnpool arbitrary');
  });

  it('MaxUnpool of a large tensor (window search), pads and overlapping windows', () => {
    const x = randTensor([1, 4, 33, 33], 53);
    const pool = { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] };
    const [y, ind] = runOp('MaxPoolWithIndices', [x], pool);
    const [u] = runOp('MaxUnpool', [y!, ind!], pool);
    const ref = refMaxUnpool(y!, ind!, [3, 3], [2, 2], [1, 1, 1, 1]);
    assert.deepEqual(ref.dims, [1, 4, 33, 33]);
    assertClose(u!, ref.data, ref.dims, 'MaxUnpool large');
  });
});

// ------------------------------------------------------------------ RNN, GRU, LSTM

type Cell = 'RNN' | 'GRU' | 'LSTM';
interface Act { name: string; alpha?: number; beta?: number }
interface RnnCase {
  cell: Cell; direction: 'forward' | 'reverse' | 'bidirectional'; S: number; B: number; I: number; H: number;
  bias?: boolean; lens?: number[]; h0?: boolean; c0?: boolean; peep?: boolean; clip?: number; acts?: Act[];
  lbr?: boolean; inputForget?: boolean; layout?: 0 | 1;
}

function refAct(a: Act, x: number): number {
  switch (a.name) {
    case 'Tanh': return Math.tanh(x);
    case 'Sigmoid': return 1 / (1 + Math.exp(-x));
    case 'Relu': return Math.max(0, x);
    case 'LeakyRelu': return x >= 0 ? x : (a.alpha ?? 0.01) * x;
    case 'HardSigmoid': return Math.min(1, Math.max(0, (a.alpha ?? 0.2) * x + (a.beta ?? 0.5)));
    case 'ScaledTanh': return (a.alpha ?? 1) * Math.tanh((a.beta ?? 1) * x);
    case 'Affine': return (a.alpha ?? 1) * x + (a.beta ?? 0);
    case 'Elu': return x >= 0 ? x : (a.alpha ?? 1) * (Math.exp(x) - 1);
    case 'Softsign': return x / (1 + Math.abs(x));
    case 'Softplus': return Math.log(1 + Math.exp(x));
    case 'ThresholdedRelu': return x > (a.alpha ?? 1) ? x : 0;
    default: throw new Error(a.name);
  }
}

const GATES: Record<Cell, number> = { RNN: 1, GRU: 3, LSTM: 4 };
const DEFAULT_ACTS: Record<Cell, string[]> = { RNN: ['Tanh'], GRU: ['Sigmoid', 'Tanh'], LSTM: ['Sigmoid', 'Tanh', 'Tanh'] };

/** A direct per-sequence implementation of the ONNX equations (layout 0 tensors). */
function refRnn(tc: RnnCase, x: Tensor, w: Tensor, r: Tensor, b: Tensor | null, h0: Tensor | null, c0: Tensor | null, p: Tensor | null) {
  const { S, B, I, H } = tc;
  const D = tc.direction === 'bidirectional' ? 2 : 1;
  const G = GATES[tc.cell];
  const nf = DEFAULT_ACTS[tc.cell].length;
  const acts = tc.acts ?? new Array<string[]>(D).fill(DEFAULT_ACTS[tc.cell]).flat().map((name) => ({ name }));
  const X = reader(x), W = reader(w), R = reader(r);
  const Bv = b ? reader(b) : () => 0;
  const clip = (v: number): number => (tc.clip === undefined ? v : Math.min(tc.clip, Math.max(-tc.clip, v)));
  const y = new Array<number>(S * D * B * H).fill(0);
  const yh = new Array<number>(D * B * H).fill(0);
  const yc = new Array<number>(D * B * H).fill(0);
  for (let d = 0; d < D; d++) {
    const rev = tc.direction === 'reverse' || d === 1;
    const f = (k: number, v: number): number => refAct(acts[d * nf + k]!, v);
    for (let bb = 0; bb < B; bb++) {
      const L = tc.lens ? tc.lens[bb]! : S;
      let h = Array.from({ length: H }, (_, j) => (h0 ? reader(h0)(d, bb, j) : 0));
      let c = Array.from({ length: H }, (_, j) => (c0 ? reader(c0)(d, bb, j) : 0));
      for (let s = 0; s < L; s++) {
        const t = rev ? L - 1 - s : s;
        const xw = (g: number, j: number): number => {
          let v = Bv(d, g * H + j);
          for (let i = 0; i < I; i++) v += X(t, bb, i) * W(d, g * H + j, i);
          return v;
        };
        const hr = (g: number, j: number, hv: number[]): number => {
          let v = Bv(d, G * H + g * H + j);
          for (let k = 0; k < H; k++) v += hv[k]! * R(d, g * H + j, k);
          return v;
        };
        const hn = new Array<number>(H), cn = new Array<number>(H);
        if (tc.cell === 'RNN') {
          for (let j = 0; j < H; j++) hn[j] = f(0, clip(xw(0, j) + hr(0, j, h)));
        } else if (tc.cell === 'GRU') {
          const z = Array.from({ length: H }, (_, j) => f(0, clip(xw(0, j) + hr(0, j, h))));
          const rr = Array.from({ length: H }, (_, j) => f(0, clip(xw(1, j) + hr(1, j, h))));
          const rh = h.map((v, k) => v * rr[k]!);
          for (let j = 0; j < H; j++) {
            const ht = f(1, clip(xw(2, j) + (tc.lbr ? rr[j]! * hr(2, j, h) : hr(2, j, rh))));
            hn[j] = (1 - z[j]!) * ht + z[j]! * h[j]!;
          }
        } else {
          const P = p ? reader(p) : () => 0;
          for (let j = 0; j < H; j++) {
            const ig = f(0, clip(xw(0, j) + hr(0, j, h) + P(d, j) * c[j]!));
            const fg = tc.inputForget ? 1 - ig : f(0, clip(xw(2, j) + hr(2, j, h) + P(d, 2 * H + j) * c[j]!));
            const ct = f(1, clip(xw(3, j) + hr(3, j, h)));
            cn[j] = fg * c[j]! + ig * ct;
            const og = f(0, clip(xw(1, j) + hr(1, j, h) + P(d, H + j) * cn[j]!));
            hn[j] = og * f(2, cn[j]!);
          }
          c = cn;
        }
        h = hn;
        for (let j = 0; j < H; j++) y[((t * D + d) * B + bb) * H + j] = h[j]!;
      }
      for (let j = 0; j < H; j++) {
        yh[(d * B + bb) * H + j] = L > 0 ? h[j]! : 0;
        yc[(d * B + bb) * H + j] = L > 0 ? c[j]! : 0;
      }
    }
  }
  return { y, yh, yc };
}

/** Row-major transpose of a tensor's data by a permutation. */
function permute(t: Tensor, perm: number[]): Tensor {
  const dims = perm.map((p) => t.dims[p]!);
  const R = reader(t);
  const out: number[] = [];
  forEachIndex(dims, (idx) => {
    const src = new Array<number>(perm.length);
    perm.forEach((p, i) => { src[p] = idx[i]!; });
    out.push(R(...src));
  });
  return new Tensor('float32', Float32Array.from(out), dims);
}

function rnnInputs(tc: RnnCase, seed: number) {
  const D = tc.direction === 'bidirectional' ? 2 : 1;
  const G = GATES[tc.cell];
  const x = randTensor([tc.S, tc.B, tc.I], seed);
  const w = randTensor([D, G * tc.H, tc.I], seed + 1, -0.7, 0.7);
  const r = randTensor([D, G * tc.H, tc.H], seed + 2, -0.7, 0.7);
  const b = tc.bias ? randTensor([D, 2 * G * tc.H], seed + 3, -0.5, 0.5) : null;
  const h0 = tc.h0 ? randTensor([D, tc.B, tc.H], seed + 4) : null;
  const c0 = tc.c0 ? randTensor([D, tc.B, tc.H], seed + 5) : null;
  const p = tc.peep ? randTensor([D, 3 * tc.H], seed + 6, -0.5, 0.5) : null;
  const lens = tc.lens ? new Tensor('int32', Int32Array.from(tc.lens), [tc.B]) : null;
  return { D, x, w, r, b, h0, c0, p, lens };
}

function rnnAttrs(tc: RnnCase): Record<string, number | string | number[] | string[]> {
  const attrs: Record<string, number | string | number[] | string[]> = { hidden_size: tc.H, direction: tc.direction, layout: tc.layout ?? 0 };
  if (tc.acts) {
    attrs['activations'] = tc.acts.map((a) => a.name);
    attrs['activation_alpha'] = tc.acts.map((a) => a.alpha ?? 0);
    attrs['activation_beta'] = tc.acts.map((a) => a.beta ?? 0);
  }
  if (tc.clip !== undefined) attrs['clip'] = tc.clip;
  if (tc.lbr) attrs['linear_before_reset'] = 1;
  if (tc.inputForget) attrs['input_forget'] = 1;
  return attrs;
}

describe('RNN / GRU / LSTM', () => {
  const cases: (RnnCase & { name: string })[] = [
    { name: 'RNN forward, defaults', cell: 'RNN', direction: 'forward', S: 4, B: 2, I: 3, H: 5 },
    { name: 'RNN bidirectional, bias, initial_h, sequence_lens, per-direction activations', cell: 'RNN', direction: 'bidirectional', S: 5, B: 3, I: 2, H: 4, bias: true, h0: true, lens: [5, 2, 0], acts: [{ name: 'Relu' }, { name: 'LeakyRelu', alpha: 0.3 }] },
    { name: 'RNN reverse, clip', cell: 'RNN', direction: 'reverse', S: 3, B: 2, I: 3, H: 3, bias: true, clip: 0.4 },
    { name: 'GRU forward, linear_before_reset=0, bias, initial_h', cell: 'GRU', direction: 'forward', S: 4, B: 2, I: 3, H: 4, bias: true, h0: true },
    { name: 'GRU bidirectional, linear_before_reset=1, sequence_lens, HardSigmoid/ScaledTanh', cell: 'GRU', direction: 'bidirectional', S: 4, B: 3, I: 2, H: 3, bias: true, lbr: true, lens: [1, 4, 3], acts: [{ name: 'HardSigmoid', alpha: 0.3, beta: 0.4 }, { name: 'ScaledTanh', alpha: 1.5, beta: 0.7 }, { name: 'Sigmoid' }, { name: 'Tanh' }] },
    { name: 'GRU reverse, sequence_lens, no initial state, clip', cell: 'GRU', direction: 'reverse', S: 3, B: 2, I: 2, H: 3, lens: [2, 3], clip: 0.5 },
    { name: 'LSTM forward, defaults', cell: 'LSTM', direction: 'forward', S: 3, B: 2, I: 3, H: 4 },
    { name: 'LSTM bidirectional, bias, initial_h/c, peepholes, sequence_lens', cell: 'LSTM', direction: 'bidirectional', S: 5, B: 3, I: 2, H: 3, bias: true, h0: true, c0: true, peep: true, lens: [3, 5, 1] },
    { name: 'LSTM reverse, input_forget, clip, Elu/Softsign/Softplus', cell: 'LSTM', direction: 'reverse', S: 4, B: 2, I: 3, H: 2, bias: true, peep: true, inputForget: true, clip: 2, acts: [{ name: 'Sigmoid' }, { name: 'Softsign' }, { name: 'Elu', alpha: 0.5 }] },
    { name: 'LSTM layout=1 (batch first), forward', cell: 'LSTM', direction: 'forward', S: 3, B: 2, I: 2, H: 3, bias: true, h0: true, c0: true, layout: 1 },
  ];
  cases.forEach((tc, k) => {
    it(tc.name, () => {
      const inp = rnnInputs(tc, 100 + 10 * k);
      const ref = refRnn(tc, inp.x, inp.w, inp.r, inp.b, inp.h0, inp.c0, inp.p);
      const l1 = tc.layout === 1;
      const x = l1 ? permute(inp.x, [1, 0, 2]) : inp.x;
      const st = (t: Tensor | null): Tensor | null => (t && l1 ? permute(t, [1, 0, 2]) : t);
      const ins: (Tensor | null)[] = [x, inp.w, inp.r, inp.b, inp.lens, st(inp.h0)];
      if (tc.cell === 'LSTM') ins.push(st(inp.c0), inp.p);
      while (ins.length > 3 && ins[ins.length - 1] === null) ins.pop();
      const outs = runOp(tc.cell, ins, rnnAttrs(tc));
      const D = inp.D;
      let yRef = new Tensor('float32', Float32Array.from(ref.y), [tc.S, D, tc.B, tc.H]);
      let hRef = new Tensor('float32', Float32Array.from(ref.yh), [D, tc.B, tc.H]);
      let cRef = new Tensor('float32', Float32Array.from(ref.yc), [D, tc.B, tc.H]);
      if (l1) {
        yRef = permute(yRef, [2, 0, 1, 3]);
        hRef = permute(hRef, [1, 0, 2]);
        cRef = permute(cRef, [1, 0, 2]);
      }
      assertClose(outs[0]!, Array.from(yRef.data, Number), yRef.dims, `${tc.name}: Y`);
      assertClose(outs[1]!, Array.from(hRef.data, Number), hRef.dims, `${tc.name}: Y_h`);
      if (tc.cell === 'LSTM') assertClose(outs[2]!, Array.from(cRef.data, Number), cRef.dims, `${tc.name}: Y_c`);
    });
  });

  it('shape rule and errors', () => {
    const t = (shape: (number | string)[]) => ({ dtype: 'float32' as const, shape });
    const outs = inferOp('LSTM', [t([7, 'B', 3]), t([2, 16, 3]), t([2, 16, 4])], { hidden_size: 4, direction: 'bidirectional' });
    assert.deepEqual(outs.map((o) => o.shape), [[7, 2, 'B', 4], [2, 'B', 4], [2, 'B', 4]]);
    assertOpError(() => inferOp('GRU', [t([7, 2, 3]), t([1, 8, 3]), t([1, 12, 4])], { hidden_size: 4 }), /W must be \[1, 12, 3\], got \[1, 8, 3\]/);
    assertOpError(() => inferOp('RNN', [t([7, 2, 3]), t([1, 4, 3]), t([1, 4, 4])], { hidden_size: 4, activations: ['Tanh', 'Tanh'] }), /activations \[Tanh, Tanh\] must have 1 entries/);
    assertOpError(() => inferOp('RNN', [t([7, 2, 3]), t([1, 4, 3]), t([1, 4, 4])], { hidden_size: 4, activations: ['Gelu'] }), /unsupported activation 'Gelu'/);
  });
});

// ------------------------------------------------------------------ losses

interface LossCase { name: string; dims: number[]; reduction: 'none' | 'sum' | 'mean'; weight?: boolean; ii?: number; tdtype?: 'int32' | 'int64' }

function refNll(lp: (n: number, c: number, rest: number[]) => number, target: Tensor, weight: Tensor | null, reduction: string, ii: number | undefined, C: number): number[] {
  const losses: number[] = [];
  let wsum = 0;
  forEachIndex(target.dims, (idx) => {
    const t = Number(target.data[idx.reduce((a, v, i) => a + v * stridesOf(target.dims)[i]!, 0)]);
    if ((ii !== undefined && t === ii) || t < 0 || t >= C) {
      losses.push(0);
      return;
    }
    const wv = weight ? Number(weight.data[t]) : 1;
    wsum += wv;
    losses.push(-lp(idx[0]!, t, idx.slice(1)) * wv);
  });
  if (reduction === 'none') return losses;
  const total = losses.reduce((a, b) => a + b, 0);
  return [reduction === 'sum' ? total : total / wsum];
}

describe('NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss', () => {
  const cases: LossCase[] = [
    { name: 'NC, none', dims: [4, 5], reduction: 'none' },
    { name: 'NCd1d2, mean, weights, ignore_index', dims: [2, 4, 3, 2], reduction: 'mean', weight: true, ii: 1 },
    { name: 'NCd1, sum, negative ignore_index, int32 target', dims: [3, 5, 4], reduction: 'sum', ii: -1, tdtype: 'int32' },
    { name: 'NC, mean, no weight, no ignore', dims: [6, 3], reduction: 'mean' },
    { name: 'NCd1, mean, ignore_index outside the classes', dims: [2, 3, 5], reduction: 'mean', weight: true, ii: 7 },
  ];
  cases.forEach((tc, k) => {
    for (const op of ['NegativeLogLikelihoodLoss', 'SoftmaxCrossEntropyLoss'] as const) {
      it(`${op}: ${tc.name}`, () => {
        const C = tc.dims[1]!;
        const x = randTensor(tc.dims, 200 + k, -3, 3);
        const tDims = [tc.dims[0]!, ...tc.dims.slice(2)];
        const target = randInts(tDims, 210 + k, tc.ii === -1 ? -1 : 0, C, tc.tdtype ?? 'int64');
        const weight = tc.weight ? randTensor([C], 220 + k, 0.1, 2) : null;
        const attrs: Record<string, string | number> = { reduction: tc.reduction };
        if (tc.ii !== undefined) attrs['ignore_index'] = tc.ii;
        const outs = runOp(op, weight ? [x, target, weight] : [x, target], attrs);
        const X = reader(x);
        let lp = (n: number, c: number, rest: number[]): number => X(n, c, ...rest);
        if (op === 'SoftmaxCrossEntropyLoss') {
          const logProb: number[] = [];
          forEachIndex(tc.dims, ([n, c, ...rest]) => {
            let m = -Infinity;
            for (let cc = 0; cc < C; cc++) m = Math.max(m, X(n!, cc, ...rest));
            let se = 0;
            for (let cc = 0; cc < C; cc++) se += Math.exp(X(n!, cc, ...rest) - m);
            logProb.push(X(n!, c!, ...rest) - m - Math.log(se));
          });
          const lpT = new Tensor('float32', Float32Array.from(logProb), tc.dims);
          assertClose(outs[1]!, logProb, tc.dims, `${op} log_prob`);
          const L = reader(lpT);
          lp = (n, c, rest) => L(n, c, ...rest);
        }
        const want = refNll(lp, target, weight, tc.reduction, tc.ii, C);
        assertClose(outs[0]!, want, tc.reduction === 'none' ? tDims : [], `${op} loss`);
      });
    }
  });

  it('shape rule and errors', () => {
    const outs = inferOp('SoftmaxCrossEntropyLoss', [{ dtype: 'float32', shape: ['N', 5, 2] }, { dtype: 'int64', shape: ['N', 2] }], { reduction: 'none' });
    assert.deepEqual(outs.map((o) => o.shape), [['N', 2], ['N', 5, 2]]);
    assertOpError(() => inferOp('NegativeLogLikelihoodLoss', [{ dtype: 'float32', shape: [3, 5] }, { dtype: 'int64', shape: [4] }]), /target must be \[3\]/);
    assertOpError(() => inferOp('NegativeLogLikelihoodLoss', [{ dtype: 'float32', shape: [3, 5] }, { dtype: 'float32', shape: [3] }]), /target has dtype float32/);
  });
});

// ------------------------------------------------------------------ GridSample

/** A port of the ONNX reference GridSample (N-d, recursive interpolation). */
function refGridSample(x: Tensor, grid: Tensor, mode: string, pm: string, align: boolean): { data: number[]; dims: number[] } {
  const [N, C, ...dims] = x.dims as number[];
  const n = dims.length;
  const outSp = grid.dims.slice(1, n + 1) as number[];
  const outDims = [N!, C!, ...outSp];
  const G = reader(grid), X = reader(x);
  const lo = dims.map(() => (align ? 0 : -0.5));
  const hi = dims.map((d) => (align ? d - 1 : d - 0.5));
  const reflect = (v: number, a: number, b: number): number => {
    const rng = b - a;
    if (v < a) {
      const dx = a - v, k = Math.trunc(dx / rng), r = dx - k * rng;
      return k % 2 === 0 ? a + r : b - r;
    }
    if (v > b) {
      const dx = v - b, k = Math.trunc(dx / rng), r = dx - k * rng;
      return k % 2 === 0 ? b - r : a + r;
    }
    return v;
  };
  const rint = (v: number): number => {
    const f = Math.floor(v), d = v - f;
    if (d > 0.5) return f + 1;
    if (d < 0.5) return f;
    return f % 2 === 0 ? f : f + 1;
  };
  const pixel = (ni: number, ci: number, pos: number[]): number => {
    const p = pos.map((q, i) => {
      if (pm === 'zeros') return q;
      if (pm === 'border') return Math.min(Math.max(q, 0), dims[i]! - 1);
      return Math.trunc(reflect(q, lo[i]!, hi[i]!));
    });
    if (p.some((q, i) => q < 0 || q >= dims[i]!)) return 0;
    return X(ni, ci, ...p);
  };
  const cubic = (t: number): number[] => {
    const A = -0.75;
    const far = (u: number): number => ((A * u - 5 * A) * u + 8 * A) * u - 4 * A;
    const near = (u: number): number => ((A + 2) * u - (A + 3)) * u * u + 1;
    return [far(t + 1), near(t), near(1 - t), far(2 - t)];
  };
  const data: number[] = [];
  forEachIndex(outDims, ([ni, ci, ...o]) => {
    const xs = dims.map((d, i) => {
      const g = G(ni!, ...o, n - 1 - i);
      let v = align ? (g + 1) / 2 * (d - 1) : ((g + 1) * d - 1) / 2;
      if (mode === 'nearest') v = n === 3 ? (v >= 0 ? Math.floor(v + 0.5) : Math.ceil(v - 0.5)) : rint(v);
      if (v < lo[i]! || v > hi[i]!) {
        if (pm === 'border') v = Math.min(Math.max(v, 0), d - 1);
        else if (pm === 'reflection') v = reflect(v, lo[i]!, hi[i]!);
      }
      return v;
    });
    if (mode === 'nearest') {
      data.push(pixel(ni!, ci!, xs.map(Math.trunc)));
      return;
    }
    const offs = mode === 'linear' ? [0, 1] : [-1, 0, 1, 2];
    const base = xs.map(Math.floor);
    const coeffs = xs.map((v, i) => (mode === 'linear' ? [1 - (v - base[i]!), v - base[i]!] : cubic(v - base[i]!)));
    let acc = 0;
    forEachIndex(xs.map(() => offs.length), (pick) => {
      let wgt = 1;
      pick.forEach((t, i) => { wgt *= coeffs[i]![t]!; });
      acc += wgt * pixel(ni!, ci!, pick.map((t, i) => base[i]! + offs[t]!));
    });
    data.push(acc);
  });
  return { data, dims: outDims };
}

describe('GridSample', () => {
  let seed = 300;
  for (const mode of ['linear', 'nearest', 'cubic']) {
    for (const pm of ['zeros', 'border', 'reflection']) {
      for (const align of [0, 1]) {
        it(`2-D ${mode}, ${pm}, align_corners=${align}`, () => {
          const x = randTensor([2, 2, 4, 5], seed++);
          const grid = randTensor([2, 3, 4, 2], seed++, -1.6, 1.6);
          const [y] = runOp('GridSample', [x, grid], { mode, padding_mode: pm, align_corners: align });
          const ref = refGridSample(x, grid, mode, pm, align === 1);
          assertClose(y!, ref.data, ref.dims, `GridSample ${mode} ${pm} ${align}`);
        });
      }
    }
  }
  it('3-D linear / nearest (std::round) with reflection; 1-D cubic border', () => {
    const x = randTensor([1, 2, 3, 4, 5], 350);
    const grid = randTensor([1, 2, 3, 2, 3], 351, -1.5, 1.5);
    for (const mode of ['linear', 'nearest']) {
      const [y] = runOp('GridSample', [x, grid], { mode, padding_mode: 'reflection', align_corners: 0 });
      const ref = refGridSample(x, grid, mode, 'reflection', false);
      assertClose(y!, ref.data, ref.dims, `GridSample 3-D ${mode}`);
    }
    const x1 = randTensor([2, 1, 6], 352);
    const g1 = randTensor([2, 5, 1], 353, -1.4, 1.4);
    const [y1] = runOp('GridSample', [x1, g1], { mode: 'cubic', padding_mode: 'border', align_corners: 1 });
    const ref1 = refGridSample(x1, g1, 'cubic', 'border', true);
    assertClose(y1!, ref1.data, ref1.dims, 'GridSample 1-D cubic');
  });
  it('nearest rounds halves to even (2-D)', () => {
    // D = 4, align_corners=0: x = ((g + 1) * 4 - 1) / 2, so g = 0 → 1.5 → 2 and g = -0.5 → 0.5 → 0.
    const x = new Tensor('float32', Float32Array.from([10, 11, 12, 13]), [1, 1, 1, 4]);
    const grid = new Tensor('float32', Float32Array.from([0, 0, -0.5, 0]), [1, 1, 2, 2]);
    const [y] = runOp('GridSample', [x, grid], { mode: 'nearest', padding_mode: 'zeros', align_corners: 0 });
    assert.deepEqual(Array.from(y!.data, Number), [12, 10]);
  });
});

// ------------------------------------------------------------------ RoiAlign

function refRoiAlign(x: Tensor, rois: Tensor, bi: Tensor, a: { mode: string; oh: number; ow: number; sr: number; scale: number; halfPixel: boolean }): { data: number[]; dims: number[] } {
  const [, C, H, W] = x.dims as number[];
  const R = rois.dims[0]!;
  const X = reader(x), Ro = reader(rois);
  const off = a.halfPixel ? 0.5 : 0;
  const data: number[] = [];
  const bilinear = (b: number, c: number, y: number, xx: number): number[] => {
    if (y < -1 || y > H! || xx < -1 || xx > W!) return [0, 0, 0, 0];
    if (y <= 0) y = 0;
    if (xx <= 0) xx = 0;
    let yl = Math.trunc(y), xl = Math.trunc(xx), yh: number, xh: number;
    if (yl >= H! - 1) { yh = yl = H! - 1; y = yl; } else yh = yl + 1;
    if (xl >= W! - 1) { xh = xl = W! - 1; xx = xl; } else xh = xl + 1;
    const ly = y - yl, lx = xx - xl, hy = 1 - ly, hx = 1 - lx;
    return [hy * hx * X(b, c, yl, xl), hy * lx * X(b, c, yl, xh), ly * hx * X(b, c, yh, xl), ly * lx * X(b, c, yh, xh)];
  };
  forEachIndex([R, C!, a.oh, a.ow], ([r, c, ph, pw]) => {
    const b = Number(bi.data[r!]);
    const x0 = Ro(r!, 0) * a.scale - off, y0 = Ro(r!, 1) * a.scale - off;
    let rw = Ro(r!, 2) * a.scale - off - x0, rh = Ro(r!, 3) * a.scale - off - y0;
    if (!a.halfPixel) { rw = Math.max(rw, 1); rh = Math.max(rh, 1); }
    const bh = rh / a.oh, bw = rw / a.ow;
    const gh = a.sr > 0 ? a.sr : Math.ceil(rh / a.oh), gw = a.sr > 0 ? a.sr : Math.ceil(rw / a.ow);
    let acc = 0, best = -Infinity;
    for (let iy = 0; iy < gh; iy++) {
      const yy = y0 + ph! * bh + (iy + 0.5) * bh / gh;
      for (let ix = 0; ix < gw; ix++) {
        const xx = x0 + pw! * bw + (ix + 0.5) * bw / gw;
        const t = bilinear(b, c!, yy, xx);
        acc += t[0]! + t[1]! + t[2]! + t[3]!;
        best = Math.max(best, ...t);
      }
    }
    data.push(a.mode === 'avg' ? acc / Math.max(gh * gw, 1) : best);
  });
  return { data, dims: [R, C!, a.oh, a.ow] };
}

describe('RoiAlign', () => {
  const x = randTensor([2, 3, 8, 9], 400);
  const rois = new Tensor('float32', Float32Array.from([0.5, 1, 6.2, 7.5, 2, 2, 3, 2.5, -1, -2, 10, 9.5, 1.3, 0.2, 4.4, 5.1]), [4, 4]);
  const bi = new Tensor('int64', BigInt64Array.from([0n, 1n, 1n, 0n]), [4]);
  for (const mode of ['avg', 'max']) {
    for (const halfPixel of [true, false]) {
      it(`${mode}, ${halfPixel ? 'half_pixel' : 'output_half_pixel'}, sampling_ratio 2, spatial_scale 0.8`, () => {
        const attrs = { mode, output_height: 3, output_width: 4, sampling_ratio: 2, spatial_scale: 0.8, coordinate_transformation_mode: halfPixel ? 'half_pixel' : 'output_half_pixel' };
        const [y] = runOp('RoiAlign', [x, rois, bi], attrs);
        const ref = refRoiAlign(x, rois, bi, { mode, oh: 3, ow: 4, sr: 2, scale: 0.8, halfPixel });
        assertClose(y!, ref.data, ref.dims, `RoiAlign ${mode}`);
      });
    }
  }
  it('adaptive sampling (sampling_ratio 0) with max_sampling_grid', () => {
    const attrs = { mode: 'avg', output_height: 2, output_width: 3, sampling_ratio: 0, spatial_scale: 1, coordinate_transformation_mode: 'half_pixel', max_sampling_grid: [6, 4] };
    const [y] = runOp('RoiAlign', [x, rois, bi], attrs);
    const ref = refRoiAlign(x, rois, bi, { mode: 'avg', oh: 2, ow: 3, sr: 0, scale: 1, halfPixel: true });
    assertClose(y!, ref.data, ref.dims, 'RoiAlign adaptive');
    assertOpError(() => inferOp('RoiAlign', [{ dtype: 'float32', shape: [1, 1, 4, 4] }, { dtype: 'float32', shape: [2, 4] }, { dtype: 'int64', shape: [2] }], { sampling_ratio: 0 }), /needs the max_sampling_grid/);
  });
});

// ------------------------------------------------------------------ converters

describe('ONNX converters (nn_extra)', () => {
  for (const target of TARGETS) {
    it(`ConvTranspose: output_shape and auto_pad resolve to pads (${target})`, async () => {
      const x = randTensor([1, 2, 3, 3], 500), w = randTensor([2, 2, 3, 3], 501);
      const spec = (attrs: Record<string, number | number[] | string>, out: number[]) => makeModel({
        nodes: [{ op: 'ConvTranspose', inputs: ['x', 'w'], outputs: ['y'], attrs }],
        inputs: [f32('x', [1, 2, 3, 3])], outputs: [f32('y', [1, 2, ...out])], initializers: { w }, opset: 11,
      });
      // full size 3 * 2 + 3 = 9 (stride 3) / 7 (stride 2); output_shape [10, 8] → total padding -1 → pads [0, 0, -1, -1].
      const bytes = spec({ strides: [3, 2], output_shape: [10, 8] }, [10, 8]);
      assert.deepEqual(importOnnx(bytes).nodes.find((n) => n.op === 'ConvTranspose')!.attrs['pads'], [0, 0, -1, -1]);
      const ref = refConvTranspose(x, w, null, { strides: [3, 2], pads: [0, 0, -1, -1], dilations: [1, 1], group: 1, outputPadding: [0, 0] });
      assertClose((await runModel(bytes, { x }, target))['y']!, ref.data, ref.dims, 'ConvTranspose output_shape');
      // SAME_UPPER, stride 2: output 6 = full 7 - total 1 → pads [0, 0, 1, 1]; SAME_LOWER → [1, 1, 0, 0].
      for (const [autoPad, pads] of [['SAME_UPPER', [0, 0, 1, 1]], ['SAME_LOWER', [1, 1, 0, 0]]] as const) {
        const b2 = spec({ strides: [2, 2], auto_pad: autoPad }, [6, 6]);
        assert.deepEqual(importOnnx(b2).nodes.find((n) => n.op === 'ConvTranspose')!.attrs['pads'], pads);
        const r2 = refConvTranspose(x, w, null, { strides: [2, 2], pads: [...pads], dilations: [1, 1], group: 1, outputPadding: [0, 0] });
        assertClose((await runModel(b2, { x }, target))['y']!, r2.data, r2.dims, `ConvTranspose ${autoPad}`);
      }
    });
  }

  for (const target of TARGETS) {
    it(`LSTM: activation names are case-insensitive, alpha/beta go to the activations that take them (${target})`, async () => {
      const tc: RnnCase = {
        cell: 'LSTM', direction: 'forward', S: 3, B: 2, I: 2, H: 3, bias: true,
        acts: [{ name: 'HardSigmoid', alpha: 0.25, beta: 0.45 }, { name: 'LeakyRelu', alpha: 0.2 }, { name: 'Tanh' }],
      };
      const inp = rnnInputs(tc, 600);
      const bytes = makeModel({
        nodes: [{
          op: 'LSTM', inputs: ['x', 'w', 'r', 'b'], outputs: ['y', 'yh', 'yc'],
          attrs: { hidden_size: 3, activations: ['hardsigmoid', 'LEAKYRELU', 'Tanh'], activation_alpha: [0.25, 0.2], activation_beta: [0.45] },
        }],
        inputs: [f32('x', [3, 2, 2])], outputs: [f32('y', [3, 1, 2, 3]), f32('yh', [1, 2, 3]), f32('yc', [1, 2, 3])],
        initializers: { w: inp.w, r: inp.r, b: inp.b! }, opset: 14,
      });
      const node = importOnnx(bytes).nodes.find((n) => n.op === 'LSTM')!;
      assert.deepEqual(node.attrs['activations'], ['HardSigmoid', 'LeakyRelu', 'Tanh']);
      assert.deepEqual(node.attrs['activation_alpha'], [0.25, Math.fround(0.2), 0]);
      const out = await runModel(bytes, { x: inp.x }, target);
      const ref = refRnn(tc, inp.x, inp.w, inp.r, inp.b, null, null, null);
      assertClose(out['y']!, ref.y, [3, 1, 2, 3], 'LSTM Y');
      assertClose(out['yh']!, ref.yh, [1, 2, 3], 'LSTM Y_h');
      assertClose(out['yc']!, ref.yc, [1, 2, 3], 'LSTM Y_c');
    });
  }

  for (const target of TARGETS) {
    it(`GRU with graph-input sequence_lens and only Y_h requested (${target})`, async () => {
      const tc: RnnCase = { cell: 'GRU', direction: 'bidirectional', S: 4, B: 3, I: 2, H: 2, bias: true, lens: [4, 1, 2] };
      const inp = rnnInputs(tc, 650);
      const bytes = makeModel({
        nodes: [{ op: 'GRU', inputs: ['x', 'w', 'r', 'b', 'lens'], outputs: ['', 'yh'], attrs: { hidden_size: 2, direction: 'bidirectional' } }],
        inputs: [f32('x', [4, 3, 2]), { name: 'lens', dtype: 'int32', shape: [3] }], outputs: [f32('yh', [2, 3, 2])],
        initializers: { w: inp.w, r: inp.r, b: inp.b! }, opset: 14,
      });
      const out = await runModel(bytes, { x: inp.x, lens: inp.lens! }, target);
      const ref = refRnn(tc, inp.x, inp.w, inp.r, inp.b, null, null, null);
      assertClose(out['yh']!, ref.yh, [2, 3, 2], 'GRU Y_h');
    });
  }

  for (const target of TARGETS) {
    it(`MaxUnpool with a constant output_shape; LpPool (opset 18); SoftmaxCrossEntropyLoss with log_prob (${target})`, async () => {
      const xs = randTensor([1, 1, 2, 2], 700);
      const ind = new Tensor('int64', BigInt64Array.from([5n, 7n, 13n, 15n]), [1, 1, 2, 2]);
      const bytes = makeModel({
        nodes: [{ op: 'MaxUnpool', inputs: ['x', 'i', 'os'], outputs: ['y'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } }],
        inputs: [f32('x', [1, 1, 2, 2]), i64('i', [1, 1, 2, 2])], outputs: [f32('y', [1, 1, 5, 5])],
        initializers: { os: new Tensor('int64', BigInt64Array.from([1n, 1n, 5n, 5n]), [4]) }, opset: 11,
      });
      const ref = refMaxUnpool(xs, ind, [2, 2], [2, 2], [0, 0, 0, 0], [1, 1, 5, 5]);
      assertClose((await runModel(bytes, { x: xs, i: ind }, target))['y']!, ref.data, ref.dims, 'MaxUnpool');

      const xl = randTensor([1, 2, 5, 5], 701);
      const lp = makeModel({
        nodes: [{ op: 'LpPool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [2, 2], auto_pad: 'SAME_UPPER', p: 3 } }],
        inputs: [f32('x', [1, 2, 5, 5])], outputs: [f32('y', [1, 2, 5, 5])], opset: 18,
      });
      const lref = refLpPool(xl, [2, 2], [1, 1], [0, 0, 1, 1], 3);
      assertClose((await runModel(lp, { x: xl }, target))['y']!, lref.data, lref.dims, 'LpPool SAME_UPPER');

      const sx = randTensor([3, 4], 702, -2, 2);
      const labels = new Tensor('int64', BigInt64Array.from([1n, 3n, 0n]), [3]);
      const sce = makeModel({
        nodes: [{ op: 'SoftmaxCrossEntropyLoss', inputs: ['x', 'l'], outputs: ['z', 'lp'], attrs: { reduction: 'sum' } }],
        inputs: [f32('x', [3, 4]), i64('l', [3])], outputs: [f32('z', []), f32('lp', [3, 4])], opset: 13,
      });
      const out = await runModel(sce, { x: sx, l: labels }, target);
      const X = reader(sx);
      let want = 0;
      for (let n = 0; n < 3; n++) {
        const row = [0, 1, 2, 3].map((c) => X(n, c));
        const m = Math.max(...row);
        const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
        want -= row[Number(labels.data[n])]! - lse;
      }
      assertClose(out['z']!, [want], [], 'SoftmaxCrossEntropyLoss sum');
      assert.deepEqual(out['lp']!.dims, [3, 4]);
    });
  }

  it('RoiAlign: adaptive sampling needs constant rois; constant rois give max_sampling_grid', () => {
    const spec = (initializers: Record<string, Tensor>, inputs: { name: string; dtype: 'float32' | 'int64'; shape: (number | string)[] }[]) => makeModel({
      nodes: [{ op: 'RoiAlign', inputs: ['x', 'rois', 'bi'], outputs: ['y'], attrs: { output_height: 2, output_width: 2 } }],
      inputs: [f32('x', [1, 1, 8, 8]), ...inputs], outputs: [f32('y', [1, 1, 2, 2])], initializers, opset: 16,
    });
    const bi = new Tensor('int64', BigInt64Array.from([0n]), [1]);
    expectNodeError(() => importOnnx(spec({ bi }, [f32('rois', [1, 4])])), /sampling_ratio 0 \(adaptive\) needs constant rois/);
    const rois = new Tensor('float32', Float32Array.from([0, 0, 7.3, 3.1]), [1, 4]);
    const node = importOnnx(spec({ bi, rois }, [])).nodes.find((n) => n.op === 'RoiAlign')!;
    assert.deepEqual(node.attrs['max_sampling_grid'], [2, 4]);
  });

  it('GridSample opset 16 maps bilinear/bicubic to linear/cubic and needs a 4-D input', () => {
    const g = importOnnx(makeModel({
      nodes: [{ op: 'GridSample', inputs: ['x', 'g'], outputs: ['y'], attrs: { mode: 'bicubic' } }],
      inputs: [f32('x', [1, 1, 4, 4]), f32('g', [1, 2, 2, 2])], outputs: [f32('y', [1, 1, 2, 2])], opset: 16,
    }));
    assert.equal(g.nodes.find((n) => n.op === 'GridSample')!.attrs['mode'], 'cubic');
    expectNodeError(() => importOnnx(makeModel({
      nodes: [{ op: 'GridSample', inputs: ['x', 'g'], outputs: ['y'], attrs: { mode: 'linear' } }],
      inputs: [f32('x', [1, 1, 4, 4]), f32('g', [1, 2, 2, 2])], outputs: [f32('y', [1, 1, 2, 2])], opset: 16,
    })), /unsupported mode 'linear'/);
  });
});

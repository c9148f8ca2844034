/**
 * NN operators (src/ops/nn.ts) against naive loop references, through the real
 * compiler path (runOp: TE → loop IR → default schedule → JS codegen), plus the
 * ONNX converters (src/frontend/onnx/ops/nn.ts) through import → compile → run.
 *
 * Tolerance: |got - want| <= ATOL + RTOL * |want| with RTOL = 1e-5, ATOL = 1e-5.
 * References compute in double precision from the same float32 inputs; kernels
 * store float32 (reductions round their accumulator to float32 at each step).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runOp, inferOp, runModel } from '../helpers/run_op.js';
import { randTensor } from '../helpers/random.js';
import { size, strides, forEachIndex } from '../helpers/shape.js';
import { assertClose as assertCloseTol, assertOpError, expectNodeError } from '../helpers/assert.js';
import { makeModel } from '../../src/frontend/onnx/model_builder.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { importOnnx } from '../../src/frontend/onnx/importer.js';

const RTOL = 1e-5;
const ATOL = 1e-5;

const assertClose = (got: Tensor, want: ArrayLike<number>, dims: readonly number[], what: string): void =>
  assertCloseTol(got, want, dims, what, { rtol: RTOL, atol: ATOL });

// ------------------------------------------------------------------ references

interface ConvParams { strides: number[]; pads: number[]; dilations: number[]; group: number }

function refConv(x: Tensor, w: Tensor, b: Tensor | null, p: ConvParams): { data: number[]; dims: number[] } {
  const [n, c, ...sp] = x.dims;
  const [m, cg, ...ks] = w.dims;
  const nd = sp.length;
  const out = sp.map((d, i) => Math.floor((d + p.pads[i]! + p.pads[nd + i]! - (p.dilations[i]! * (ks[i]! - 1) + 1)) / p.strides[i]!) + 1);
  const dims = [n!, m!, ...out];
  const xs = strides(x.dims), ws = strides(w.dims);
  const data: number[] = [];
  const mg = m! / p.group;
  forEachIndex(dims, ([ni, mi, ...o]) => {
    const g = Math.floor(mi! / mg);
    let acc = 0;
    for (let rc = 0; rc < cg!; rc++) {
      forEachIndex(ks, (k) => {
        let xo = ni! * xs[0]! + (g * cg! + rc) * xs[1]!;
        for (let i = 0; i < nd; i++) {
          const pos = o[i]! * p.strides[i]! - p.pads[i]! + k[i]! * p.dilations[i]!;
          if (pos < 0 || pos >= sp[i]!) return;
          xo += pos * xs[2 + i]!;
        }
        let wo = mi! * ws[0]! + rc * ws[1]!;
        for (let i = 0; i < nd; i++) wo += k[i]! * ws[2 + i]!;
        acc += Number(x.data[xo]) * Number(w.data[wo]);
      });
    }
    data.push(acc + (b ? Number(b.data[mi!]) : 0));
  });
  void c;
  return { data, dims };
}

interface PoolParams { kernel: number[]; strides: number[]; pads: number[]; dilations?: number[]; ceil?: boolean; includePad?: boolean }

/** Pool output size per the ONNX spec (ceil_mode: the last window must start inside the input or left padding). */
function poolOut(d: number, k: number, s: number, dil: number, pb: number, pe: number, ceil: boolean): number {
  const span = d + pb + pe - ((k - 1) * dil + 1);
  if (!ceil) return Math.floor(span / s) + 1;
  let o = Math.ceil(span / s) + 1;
  if ((o - 1) * s >= d + pb) o--;
  return o;
}

function refPool(kind: 'max' | 'avg', x: Tensor, p: PoolParams): { data: number[]; dims: number[] } {
  const [n, c, ...sp] = x.dims;
  const nd = sp.length;
  const dil = p.dilations ?? sp.map(() => 1);
  const out = sp.map((d, i) => poolOut(d, p.kernel[i]!, p.strides[i]!, dil[i]!, p.pads[i]!, p.pads[nd + i]!, !!p.ceil));
  const dims = [n!, c!, ...out];
  const xs = strides(x.dims);
  const data: number[] = [];
  forEachIndex(dims, ([ni, ci, ...o]) => {
    let best = -Infinity, total = 0, inside = 0, padded = 0;
    forEachIndex(p.kernel, (k) => {
      let xo = ni! * xs[0]! + ci! * xs[1]!;
      let isInside = true, isPadded = true;
      for (let i = 0; i < nd; i++) {
        const pos = o[i]! * p.strides[i]! - p.pads[i]! + k[i]! * dil[i]!;
        if (pos < 0 || pos >= sp[i]!) isInside = false;
        if (pos < -p.pads[i]! || pos >= sp[i]! + p.pads[nd + i]!) isPadded = false;
        xo += pos * xs[2 + i]!;
      }
      if (isPadded) padded++;
      if (!isInside) return;
      inside++;
      const v = Number(x.data[xo]);
      best = Math.max(best, v);
      total += v;
    });
    data.push(kind === 'max' ? best : total / (p.includePad ? padded : inside));
  });
  return { data, dims };
}

function refMatMul2(a: number[], b: number[], m: number, k: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let kk = 0; kk < k; kk++) s += a[i * k + kk]! * b[kk * n + j]!;
    out.push(s);
  }
  return out;
}

// ------------------------------------------------------------------ Conv

describe('Conv', () => {
  const cases: { name: string; x: number[]; w: number[]; bias: boolean; p: ConvParams }[] = [
    { name: '2-D, groups=2, asymmetric pads, strides, dilations, bias', x: [2, 4, 7, 6], w: [6, 2, 3, 3], bias: true, p: { strides: [2, 1], pads: [1, 0, 2, 1], dilations: [1, 2], group: 2 } },
    { name: '2-D, plain 3x3 pad 1', x: [1, 3, 8, 8], w: [5, 3, 3, 3], bias: false, p: { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1 } },
    { name: '2-D depthwise (group = C) with bias', x: [1, 4, 6, 5], w: [4, 1, 3, 3], bias: true, p: { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 4 } },
    { name: '2-D depthwise with multiplier 2, stride 2', x: [2, 3, 7, 7], w: [6, 1, 3, 3], bias: true, p: { strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], group: 3 } },
    { name: '2-D 1x1 (pointwise)', x: [1, 8, 4, 4], w: [3, 8, 1, 1], bias: true, p: { strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 } },
    { name: '1-D, stride 2, pads, dilation 2', x: [2, 3, 11], w: [4, 3, 3], bias: false, p: { strides: [2], pads: [1, 2], dilations: [2], group: 1 } },
    { name: '1-D with bias', x: [1, 2, 9], w: [3, 2, 4], bias: true, p: { strides: [1], pads: [0, 0], dilations: [1], group: 1 } },
    { name: '3-D, stride 2, pad 1', x: [1, 2, 5, 4, 4], w: [3, 2, 2, 3, 2], bias: true, p: { strides: [2, 1, 2], pads: [1, 1, 0, 0, 1, 1], dilations: [1, 1, 1], group: 1 } },
  ];
  cases.forEach((tc, ci) => {
    it(tc.name, () => {
      const x = randTensor(tc.x, 100 + ci);
      const w = randTensor(tc.w, 200 + ci);
      const b = tc.bias ? randTensor([tc.w[0]!], 300 + ci) : null;
      const attrs = { strides: tc.p.strides, pads: tc.p.pads, dilations: tc.p.dilations, group: tc.p.group, kernel_shape: tc.w.slice(2) };
      const [y] = runOp('Conv', b ? [x, w, b] : [x, w], attrs);
      const ref = refConv(x, w, b, tc.p);
      assertClose(y!, ref.data, ref.dims, 'Conv');
    });
  });

  it('defaults: strides/dilations 1, no padding, kernel_shape from the weight', () => {
    const x = randTensor([1, 2, 5, 5], 7);
    const w = randTensor([2, 2, 3, 3], 8);
    const [y] = runOp('Conv', [x, w], {});
    const ref = refConv(x, w, null, { strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 });
    assertClose(y!, ref.data, ref.dims, 'Conv');
  });

  it('shape rule: symbolic batch flows, spatial sizes computed', () => {
    const [t] = inferOp('Conv', [{ dtype: 'float32', shape: ['N', 3, 224, 224] }, { dtype: 'float32', shape: [64, 3, 7, 7] }, { dtype: 'float32', shape: [64] }],
      { strides: [2, 2], pads: [3, 3, 3, 3] });
    assert.deepEqual(t, { dtype: 'float32', shape: ['N', 64, 112, 112] });
  });

  it('shape errors are OpErrors with clear messages', () => {
    const f = (shape: (number | string)[]) => ({ dtype: 'float32' as const, shape });
    assertOpError(() => inferOp('Conv', [f([1, 5, 8, 8]), f([4, 3, 3, 3])]), /input channels 5 do not match weight \[4, 3, 3, 3\]: weight channels 3 x group 1 = 3/);
    assertOpError(() => inferOp('Conv', [f([1, 6, 8, 8]), f([4, 3, 3, 3])], { group: 3 }), /input channels 6 do not match weight .* x group 3 = 9/);
    assertOpError(() => inferOp('Conv', [f([1, 6, 8, 8]), f([4, 2, 3, 3])], { group: 3 }), /output channels 4 are not divisible by group 3/);
    assertOpError(() => inferOp('Conv', [f([1, 3, 8, 8]), f([4, 3, 3])]), /weight \[4, 3, 3\] must have the input's rank 4/);
    assertOpError(() => inferOp('Conv', [f([1, 3, 8, 8]), f([4, 3, 3, 3]), f([3])]), /bias must be \[4\], got \[3\]/);
    assertOpError(() => inferOp('Conv', [f([1, 3, 2, 2]), f([4, 3, 3, 3])]), /larger than the padded input/);
    assertOpError(() => inferOp('Conv', [f([1, 3, 8, 8]), f([4, 3, 3, 3])], { pads: [1, 1] }), /pads \[1, 1\] must have 4 entries/);
    assertOpError(() => inferOp('Conv', [{ dtype: 'int32', shape: [1, 3, 8, 8] }, { dtype: 'int32', shape: [4, 3, 3, 3] }]), /dtype int32/);
  });
});

// ------------------------------------------------------------------ pooling

describe('MaxPool / AveragePool', () => {
  it('MaxPool 1x1x6x6, kernel 3, stride 2, ceil_mode=1 gives 3x3 (floor gives 2x2)', () => {
    const x = randTensor([1, 1, 6, 6], 11);
    const p: PoolParams = { kernel: [3, 3], strides: [2, 2], pads: [0, 0, 0, 0], ceil: true };
    const [y] = runOp('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 });
    const ref = refPool('max', x, p);
    assert.deepEqual(ref.dims, [1, 1, 3, 3]);
    assertClose(y!, ref.data, [1, 1, 3, 3], 'MaxPool ceil');
    // The last column/row of windows covers only input index 4..5 (clipped), e.g. y[0,0,2,2] = max(x[4:6, 4:6]).
    const xv = (i: number, j: number) => Number(x.data[i * 6 + j]);
    assert.equal(Number(y!.data[8]), Math.max(xv(4, 4), xv(4, 5), xv(5, 4), xv(5, 5)));
    assert.deepEqual(inferOp('MaxPool', [{ dtype: 'float32', shape: [1, 1, 6, 6] }], { kernel_shape: [3, 3], strides: [2, 2] })[0]!.shape, [1, 1, 2, 2]);
  });

  it('ceil_mode: the last window must start inside the input or its left padding', () => {
    // span = 5 + 1 + 1 - 2 = 5; ceil(5/3) + 1 = 3, but window 2 would start at 2*3 - 1 = 5 >= 5: dropped.
    assert.deepEqual(inferOp('MaxPool', [{ dtype: 'float32', shape: [1, 1, 5] }], { kernel_shape: [2], strides: [3], pads: [1, 1], ceil_mode: 1 })[0]!.shape, [1, 1, 2]);
    assert.deepEqual(inferOp('MaxPool', [{ dtype: 'float32', shape: [1, 1, 6] }], { kernel_shape: [2], strides: [3], pads: [1, 1], ceil_mode: 1 })[0]!.shape, [1, 1, 3]);
  });

  it('MaxPool with pads (pad is -inf), strides and dilations, 2-D', () => {
    const x = randTensor([2, 3, 7, 8], 12, -5, -1); // all negative: a zero pad would win
    const p: PoolParams = { kernel: [3, 2], strides: [2, 1], pads: [1, 1, 1, 0], dilations: [1, 2] };
    const [y] = runOp('MaxPool', [x], { kernel_shape: p.kernel, strides: p.strides, pads: p.pads, dilations: p.dilations! });
    const ref = refPool('max', x, p);
    assertClose(y!, ref.data, ref.dims, 'MaxPool');
    assert.ok([...y!.data].every((v) => v < 0));
  });

  it('MaxPool 1-D and 3-D', () => {
    const x1 = randTensor([2, 2, 9], 13);
    const p1: PoolParams = { kernel: [3], strides: [2], pads: [1, 1] };
    const ref1 = refPool('max', x1, p1);
    assertClose(runOp('MaxPool', [x1], { kernel_shape: [3], strides: [2], pads: [1, 1] })[0]!, ref1.data, ref1.dims, 'MaxPool 1-D');
    const x3 = randTensor([1, 2, 4, 5, 4], 14);
    const p3: PoolParams = { kernel: [2, 2, 2], strides: [2, 2, 2], pads: [0, 0, 0, 0, 0, 0], ceil: true };
    const ref3 = refPool('max', x3, p3);
    assertClose(runOp('MaxPool', [x3], { kernel_shape: [2, 2, 2], strides: [2, 2, 2], ceil_mode: 1 })[0]!, ref3.data, ref3.dims, 'MaxPool 3-D');
  });

  for (const includePad of [0, 1]) {
    it(`AveragePool count_include_pad=${includePad}, pads, ceil_mode (windows past the padding)`, () => {
      const x = randTensor([1, 2, 6, 6], 20 + includePad);
      // 6 + 1 + 1 - 3 = 5; ceil(5/2) + 1 = 4: the last window (start 5) covers 5 (input), 6 (pad), 7 (beyond the padding).
      const p: PoolParams = { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil: true, includePad: includePad === 1 };
      const [y] = runOp('AveragePool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1, count_include_pad: includePad });
      const ref = refPool('avg', x, p);
      assert.deepEqual(ref.dims, [1, 2, 4, 4]);
      assertClose(y!, ref.data, ref.dims, 'AveragePool');
    });
    it(`AveragePool count_include_pad=${includePad}, asymmetric pads, no ceil`, () => {
      const x = randTensor([2, 3, 7, 5], 30 + includePad);
      const p: PoolParams = { kernel: [3, 2], strides: [2, 1], pads: [2, 0, 1, 1], includePad: includePad === 1 };
      const [y] = runOp('AveragePool', [x], { kernel_shape: p.kernel, strides: p.strides, pads: p.pads, count_include_pad: includePad });
      const ref = refPool('avg', x, p);
      assertClose(y!, ref.data, ref.dims, 'AveragePool');
    });
  }

  it('AveragePool 1-D with dilations, and without padding (constant divisor)', () => {
    const x = randTensor([1, 2, 12], 40);
    const p: PoolParams = { kernel: [3], strides: [2], pads: [2, 1], dilations: [2] };
    const ref = refPool('avg', x, p);
    assertClose(runOp('AveragePool', [x], { kernel_shape: [3], strides: [2], pads: [2, 1], dilations: [2] })[0]!, ref.data, ref.dims, 'AveragePool dilated');
    const x2 = randTensor([1, 1, 4, 4], 41);
    const ref2 = refPool('avg', x2, { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] });
    assertClose(runOp('AveragePool', [x2], { kernel_shape: [2, 2], strides: [2, 2] })[0]!, ref2.data, ref2.dims, 'AveragePool 2x2');
  });

  it('pool shape rule and errors', () => {
    const f = (shape: (number | string)[]) => ({ dtype: 'float32' as const, shape });
    assert.deepEqual(inferOp('MaxPool', [f(['N', 64, 112, 112])], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })[0]!.shape, ['N', 64, 56, 56]);
    assertOpError(() => inferOp('MaxPool', [f([1, 1, 6, 6])], {}), /missing attribute kernel_shape/);
    assertOpError(() => inferOp('MaxPool', [f([1, 1, 6, 6])], { kernel_shape: [2, 2], pads: [2, 2, 2, 2] }), /pads \[2, 2, 2, 2\] must be smaller than the kernel/);
    assertOpError(() => inferOp('AveragePool', [f([1, 6, 6])], { kernel_shape: [2] , strides: [1, 1] }), /strides \[1, 1\] must have 1 entries/);
    assertOpError(() => inferOp('AveragePool', [f([6, 6])], { kernel_shape: [2] }), /rank >= 3/);
  });
});

describe('GlobalAveragePool / GlobalMaxPool', () => {
  it('reduce all spatial dims to 1', () => {
    const x = randTensor([2, 3, 4, 5], 50);
    const avg: number[] = [], mx: number[] = [];
    for (let nc = 0; nc < 6; nc++) {
      let s = 0, m = -Infinity;
      for (let i = 0; i < 20; i++) {
        s += Number(x.data[nc * 20 + i]);
        m = Math.max(m, Number(x.data[nc * 20 + i]));
      }
      avg.push(s / 20);
      mx.push(m);
    }
    assertClose(runOp('GlobalAveragePool', [x])[0]!, avg, [2, 3, 1, 1], 'GlobalAveragePool');
    assertClose(runOp('GlobalMaxPool', [x])[0]!, mx, [2, 3, 1, 1], 'GlobalMaxPool');
    assert.deepEqual(inferOp('GlobalAveragePool', [{ dtype: 'float32', shape: ['N', 3, 'H', 7, 7] }])[0]!.shape, ['N', 3, 1, 1, 1]);
  });
});

// ------------------------------------------------------------------ Gemm, MatMul

describe('Gemm', () => {
  const M = 3, K = 5, N = 4;
  const cShapes: (number[] | null)[] = [null, [N], [M, 1], [M, N], []];
  for (const transA of [0, 1]) for (const transB of [0, 1]) {
    it(`transA=${transA} transB=${transB}, alpha/beta, every C broadcast`, () => {
      const a = randTensor(transA ? [K, M] : [M, K], 60 + transA);
      const b = randTensor(transB ? [N, K] : [K, N], 62 + transB);
      const A = (i: number, k: number) => Number(a.data[transA ? k * M + i : i * K + k]);
      const B = (k: number, j: number) => Number(b.data[transB ? j * K + k : k * N + j]);
      cShapes.forEach((cs, ci) => {
        const c = cs ? randTensor(cs, 70 + ci) : null;
        const C = (i: number, j: number): number => {
          if (!cs) return 0;
          if (cs.length === 0) return Number(c!.data[0]);
          if (cs.length === 1) return Number(c!.data[j]);
          return Number(c!.data[cs[1] === 1 ? i : i * N + j]);
        };
        const alpha = 0.5, beta = cs ? -2 : 1;
        const want: number[] = [];
        for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += A(i, k) * B(k, j);
          want.push(alpha * s + beta * C(i, j));
        }
        const [y] = runOp('Gemm', c ? [a, b, c] : [a, b], { alpha, beta, transA, transB });
        assertClose(y!, want, [M, N], `Gemm C=${JSON.stringify(cs)}`);
      });
    });
  }

  it('defaults (alpha = beta = 1) and shape errors', () => {
    const a = randTensor([2, 3], 80), b = randTensor([3, 4], 81), c = randTensor([2, 4], 82);
    const want = refMatMul2(Array.from(a.data as Float32Array), Array.from(b.data as Float32Array), 2, 3, 4).map((v, i) => v + Number(c.data[i]));
    assertClose(runOp('Gemm', [a, b, c])[0]!, want, [2, 4], 'Gemm defaults');
    const f = (shape: (number | string)[]) => ({ dtype: 'float32' as const, shape });
    assert.deepEqual(inferOp('Gemm', [f(['batch', 512]), f([10, 512]), f([10])], { transB: 1 })[0]!.shape, ['batch', 10]);
    assertOpError(() => inferOp('Gemm', [f([2, 3]), f([4, 5])]), /inner dims differ: A is \[2, 3\], B is \[4, 5\]/);
    assertOpError(() => inferOp('Gemm', [f([2, 3]), f([3, 5]), f([3, 5])]), /C \[3, 5\] is not broadcastable to \[2, 5\]/);
    assertOpError(() => inferOp('Gemm', [f([2, 3, 1]), f([3, 5])]), /A and B must be 2-D/);
  });
});

describe('MatMul', () => {
  /** numpy matmul reference over explicit shapes. */
  function refMatMul(a: Tensor, b: Tensor): { data: number[]; dims: number[] } {
    const ad = a.dims.length === 1 ? [1, a.dims[0]!] : [...a.dims];
    const bd = b.dims.length === 1 ? [b.dims[0]!, 1] : [...b.dims];
    const m = ad[ad.length - 2]!, k = ad[ad.length - 1]!, n = bd[bd.length - 1]!;
    const ab = ad.slice(0, -2), bb = bd.slice(0, -2);
    const rank = Math.max(ab.length, bb.length);
    const batch: number[] = [];
    for (let i = 0; i < rank; i++) {
      const x = ab[ab.length - rank + i] ?? 1, y = bb[bb.length - rank + i] ?? 1;
      batch.push(Math.max(x, y));
    }
    const data: number[] = [];
    forEachIndex([...batch, m, n], (idx) => {
      const bi = idx.slice(0, rank), i = idx[rank]!, j = idx[rank + 1]!;
      const off = (dims: number[]) => {
        let o = 0;
        dims.forEach((d, t) => { o = o * d + (d === 1 ? 0 : bi[rank - dims.length + t]!); });
        return o;
      };
      const ao = off(ab) * m * k, bo = off(bb) * k * n;
      let s = 0;
      for (let kk = 0; kk < k; kk++) s += Number(a.data[ao + i * k + kk]) * Number(b.data[bo + kk * n + j]);
      data.push(s);
    });
    const dims = [...batch];
    if (a.dims.length > 1) dims.push(m);
    if (b.dims.length > 1) dims.push(n);
    return { data, dims };
  }

  const cases: [number[], number[]][] = [
    [[2, 1, 3, 4], [3, 4, 5]],
    [[3, 4], [4, 5]],
    [[2, 3, 4], [4, 6]],
    [[4, 6], [2, 6, 3]],
    [[4], [4, 5]],
    [[2, 3, 4], [4]],
    [[5], [5]],
    [[1, 2, 3, 4], [2, 1, 4, 2]],
  ];
  cases.forEach(([as, bs], i) => {
    it(`[${as}] x [${bs}]`, () => {
      const a = randTensor(as, 90 + i), b = randTensor(bs, 95 + i);
      const ref = refMatMul(a, b);
      const [y] = runOp('MatMul', [a, b]);
      assertClose(y!, ref.data, ref.dims, 'MatMul');
    });
  });

  it('[2,1,3,4] x [3,4,5] broadcasts to [2,3,3,5]; symbolic batch dims flow; errors', () => {
    const f = (shape: (number | string)[]) => ({ dtype: 'float32' as const, shape });
    assert.deepEqual(inferOp('MatMul', [f([2, 1, 3, 4]), f([3, 4, 5])])[0]!.shape, [2, 3, 3, 5]);
    assert.deepEqual(inferOp('MatMul', [f(['b', 'seq', 256]), f([256, 1024])])[0]!.shape, ['b', 'seq', 1024]);
    assert.deepEqual(inferOp('MatMul', [f(['b', 4, 'seq', 64]), f(['b', 4, 64, 'seq'])])[0]!.shape, ['b', 4, 'seq', 'seq']);
    assertOpError(() => inferOp('MatMul', [f([3, 4]), f([5, 6])]), /inner dims differ: \[3, 4\] @ \[5, 6\] \(4 vs 5\)/);
    assertOpError(() => inferOp('MatMul', [f([2, 3, 4]), f([3, 4, 5])]), /batch dims of \[2, 3, 4\] and \[3, 4, 5\] cannot be broadcast/);
    assertOpError(() => inferOp('MatMul', [f([]), f([3])]), /rank >= 1/);
    // A zero-padded NK16n weight: 2 blocks of 16 columns holding 20.
    assert.deepEqual(inferOp('MatMul', [f([3, 8]), f([2, 8, 16])], { weight_layout: 'NK16n', weight_columns: 20 })[0]!.shape, [3, 20]);
    assertOpError(() => inferOp('MatMul', [f([3, 8]), f([2, 8, 16])], { weight_layout: 'NK16n', weight_columns: 40 }), /weight_columns 40 does not fit the 2 column blocks of weight \[2, 8, 16\]/);
  });

  it('int32 MatMul is exact', () => {
    const a = new Tensor('int32', Int32Array.from({ length: 6 }, (_, i) => i - 2), [2, 3]);
    const b = new Tensor('int32', Int32Array.from({ length: 6 }, (_, i) => 3 - i), [3, 2]);
    const [y] = runOp('MatMul', [a, b]);
    assert.deepEqual([...y!.data], refMatMul2(Array.from(a.data as Int32Array), Array.from(b.data as Int32Array), 2, 3, 2));
  });
});

// ------------------------------------------------------------------ BatchNormalization

describe('BatchNormalization', () => {
  it('per-channel affine normalization on axis 1', () => {
    const x = randTensor([2, 3, 4, 5], 110);
    const scale = randTensor([3], 111), bias = randTensor([3], 112), mean = randTensor([3], 113);
    const variance = randTensor([3], 114, 0.1, 2);
    const eps = 1e-3;
    const want: number[] = [];
    forEachIndex(x.dims, ([n, c, h, w]) => {
      const v = Number(x.data[((n! * 3 + c!) * 4 + h!) * 5 + w!]);
      want.push((v - Number(mean.data[c!])) / Math.sqrt(Number(variance.data[c!]) + eps) * Number(scale.data[c!]) + Number(bias.data[c!]));
    });
    assertClose(runOp('BatchNormalization', [x, scale, bias, mean, variance], { epsilon: eps })[0]!, want, x.dims, 'BatchNormalization');
    const f = (shape: (number | string)[]) => ({ dtype: 'float32' as const, shape });
    assert.deepEqual(inferOp('BatchNormalization', [f(['N', 3, 8]), f([3]), f([3]), f([3]), f([3])])[0]!.shape, ['N', 3, 8]);
    assertOpError(() => inferOp('BatchNormalization', [f([1, 3, 8]), f([3]), f([4]), f([3]), f([3])]), /B must be \[3\], got \[4\]/);
  });
});

// ------------------------------------------------------------------ Softmax, LogSoftmax

describe('Softmax / LogSoftmax', () => {
  function refSoftmax(x: Tensor, axis: number, log: boolean): number[] {
    const dims = x.dims;
    const st = strides(dims);
    const out = new Array<number>(x.size);
    const outer = dims.map((d, i) => (i === axis ? 1 : d));
    forEachIndex(outer, (idx) => {
      const base = idx.reduce((o, v, i) => o + v * st[i]!, 0);
      const vals: number[] = [];
      for (let k = 0; k < dims[axis]!; k++) vals.push(Number(x.data[base + k * st[axis]!]));
      const m = Math.max(...vals);
      const s = vals.reduce((a, v) => a + Math.exp(v - m), 0);
      vals.forEach((v, k) => { out[base + k * st[axis]!] = log ? v - m - Math.log(s) : Math.exp(v - m) / s; });
    });
    return out;
  }

  it('rows sum to 1 and match the reference (last axis)', () => {
    const x = randTensor([5, 7], 120, -4, 4);
    const [y] = runOp('Softmax', [x], { axis: -1 });
    assertClose(y!, refSoftmax(x, 1, false), [5, 7], 'Softmax');
    for (let r = 0; r < 5; r++) {
      let s = 0;
      for (let k = 0; k < 7; k++) s += Number(y!.data[r * 7 + k]);
      assert.ok(Math.abs(s - 1) < 1e-6, `row ${r} sums to ${s}`);
    }
  });

  for (const axis of [0, 1, 2]) {
    it(`Softmax and LogSoftmax on axis ${axis} of a 3-D tensor`, () => {
      const x = randTensor([3, 4, 5], 130 + axis, -3, 3);
      assertClose(runOp('Softmax', [x], { axis })[0]!, refSoftmax(x, axis, false), x.dims, 'Softmax');
      assertClose(runOp('LogSoftmax', [x], { axis: axis - 3 })[0]!, refSoftmax(x, axis, true), x.dims, 'LogSoftmax');
    });
  }

  it('is stable for large inputs (max subtraction)', () => {
    const x = new Tensor('float32', Float32Array.from([1000, 1001, 1002, -1000, 0, 1000]), [2, 3]);
    const [y] = runOp('Softmax', [x]);
    assertClose(y!, refSoftmax(x, 1, false), [2, 3], 'Softmax large');
    const [l] = runOp('LogSoftmax', [x]);
    assertClose(l!, refSoftmax(x, 1, true), [2, 3], 'LogSoftmax large');
    assertOpError(() => inferOp('Softmax', [{ dtype: 'float32', shape: [2, 3] }], { axis: 2 }), /axis 2 is out of range for rank 2/);
  });
});

// ------------------------------------------------------------------ LayerNormalization

describe('LayerNormalization', () => {
  function refLayerNorm(x: Tensor, axis: number, eps: number, scale: Tensor | null, bias: Tensor | null) {
    const outer = size(x.dims.slice(0, axis)), inner = size(x.dims.slice(axis));
    const y: number[] = [], means: number[] = [], inv: number[] = [];
    for (let o = 0; o < outer; o++) {
      const v = Array.from({ length: inner }, (_, i) => Number(x.data[o * inner + i]));
      const m = v.reduce((a, b) => a + b, 0) / inner;
      const variance = v.reduce((a, b) => a + (b - m) ** 2, 0) / inner;
      const is = 1 / Math.sqrt(variance + eps);
      means.push(m);
      inv.push(is);
      // Scale/B are broadcast right-aligned against the normalized dims.
      v.forEach((xv, i) => {
        const s = scale ? Number(scale.data[i % scale.size]) : 1;
        const b = bias ? Number(bias.data[i % bias.size]) : 0;
        y.push((xv - m) * is * s + b);
      });
    }
    return { y, means, inv };
  }

  it('last axis with scale and bias; Mean and InvStdDev outputs', () => {
    const x = randTensor([2, 3, 8], 140, -2, 3);
    const scale = randTensor([8], 141), bias = randTensor([8], 142);
    const [y, mean, inv] = runOp('LayerNormalization', [x, scale, bias], { axis: -1, epsilon: 1e-5 });
    const ref = refLayerNorm(x, 2, 1e-5, scale, bias);
    assertClose(y!, ref.y, [2, 3, 8], 'LayerNormalization Y');
    assertClose(mean!, ref.means, [2, 3, 1], 'LayerNormalization Mean');
    assertClose(inv!, ref.inv, [2, 3, 1], 'LayerNormalization InvStdDev');
  });

  it('axis 1 (normalizes over [3, 8]), scale broadcast from [8], no bias', () => {
    const x = randTensor([2, 3, 8], 143);
    const scale = randTensor([8], 144);
    const [y] = runOp('LayerNormalization', [x, scale], { axis: 1, epsilon: 1e-3 });
    assertClose(y!, refLayerNorm(x, 1, 1e-3, scale, null).y, [2, 3, 8], 'LayerNormalization axis 1');
    assertOpError(() => inferOp('LayerNormalization', [{ dtype: 'float32', shape: [2, 3, 8] }, { dtype: 'float32', shape: [3] }], { axis: -1 }), /Scale \[3\] must broadcast to the normalized dims \[8\]/);
  });
});

// ------------------------------------------------------------------ converters

const f32 = (name: string, shape: (number | string)[]) => ({ name, dtype: 'float32' as const, shape });

describe('ONNX converters (nn)', () => {
  for (const autoPad of ['SAME_UPPER', 'SAME_LOWER'] as const) {
    it(`Conv auto_pad=${autoPad} → explicit pads, kernel_shape from the weight`, async () => {
      // D = 5, stride 2, kernel 2: out = 3, total pad = 2*2 + 2 - 5 = 1 → UPPER [0 | 1], LOWER [1 | 0].
      const w = randTensor([2, 1, 2, 2], 150);
      const bytes = makeModel({
        nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { auto_pad: autoPad, strides: [2, 2] } }],
        inputs: [f32('x', [1, 1, 5, 5])], outputs: [f32('y', [1, 2, 3, 3])], initializers: { w }, opset: 11,
      });
      const g = importOnnx(bytes);
      const node = g.nodes.find((n) => n.op === 'Conv')!;
      const pads = autoPad === 'SAME_UPPER' ? [0, 0, 1, 1] : [1, 1, 0, 0];
      assert.deepEqual(node.attrs['pads'], pads);
      assert.deepEqual(node.attrs['kernel_shape'], [2, 2]);
      const x = randTensor([1, 1, 5, 5], 151);
      const out = await runModel(bytes, { x });
      const ref = refConv(x, w, null, { strides: [2, 2], pads, dilations: [1, 1], group: 1 });
      assertClose(out['y']!, ref.data, ref.dims, `Conv ${autoPad}`);
    });
  }

  it('MaxPool: ceil_mode from opset 10, SAME_UPPER pads, Indices output routed to MaxPoolWithIndices', async () => {
    const x = randTensor([1, 1, 6, 6], 160);
    const bytes = makeModel({
      nodes: [{ op: 'MaxPool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 } }],
      inputs: [f32('x', [1, 1, 6, 6])], outputs: [f32('y', [1, 1, 3, 3])], opset: 12,
    });
    const ref = refPool('max', x, { kernel: [3, 3], strides: [2, 2], pads: [0, 0, 0, 0], ceil: true });
    assertClose((await runModel(bytes, { x }))['y']!, ref.data, ref.dims, 'MaxPool ceil via ONNX');
    const same = importOnnx(makeModel({
      nodes: [{ op: 'MaxPool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' } }],
      inputs: [f32('x', [1, 1, 6, 6])], outputs: [f32('y', [1, 1, 3, 3])], opset: 12,
    }));
    assert.deepEqual(same.nodes[0]!.attrs['pads'], [0, 0, 1, 1]);
    assert.deepEqual(same.outputs[0]!.type.shape, [1, 1, 3, 3]);
    // With its Indices output, MaxPool imports as MaxPoolWithIndices (values and int64 positions).
    const withIdx = importOnnx(makeModel({
      nodes: [{ op: 'MaxPool', inputs: ['x'], outputs: ['y', 'idx'], attrs: { kernel_shape: [2, 2] }, name: 'mp' }],
      inputs: [f32('x', [1, 1, 4, 4])], outputs: [f32('y', [1, 1, 3, 3]), { name: 'idx', dtype: 'int64', shape: [1, 1, 3, 3] }], opset: 12,
    }));
    assert.deepEqual(withIdx.nodes.map((n) => n.op), ['MaxPoolWithIndices']);
    assert.equal(withIdx.outputs[1]!.type.dtype, 'int64');
    expectNodeError(() => importOnnx(makeModel({
      nodes: [{ op: 'MaxPool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [2, 2], ceil_mode: 1 } }],
      inputs: [f32('x', [1, 1, 4, 4])], outputs: [f32('y', [1, 1, 3, 3])], opset: 9,
    })), /MaxPool-8 has no attribute 'ceil_mode'/);
  });

  it('Gemm: C required before opset 11, optional from 11', async () => {
    const spec = (opset: number) => makeModel({
      nodes: [{ op: 'Gemm', inputs: ['a', 'b'], outputs: ['y'], attrs: { transB: 1, alpha: 0.25 } }],
      inputs: [f32('a', [2, 3]), f32('b', [4, 3])], outputs: [f32('y', [2, 4])], opset,
    });
    expectNodeError(() => importOnnx(spec(9)), /it has 2 inputs; Gemm-9 takes 3 \(A, B, C\)/);
    const a = randTensor([2, 3], 170), b = randTensor([4, 3], 171);
    const want: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 4; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += Number(a.data[i * 3 + k]) * Number(b.data[j * 3 + k]);
      want.push(0.25 * s);
    }
    assertClose((await runModel(spec(13), { a, b }))['y']!, want, [2, 4], 'Gemm opset 13');
  });

  it('Softmax before opset 13 normalizes over the flattened dims from axis', async () => {
    const x = randTensor([2, 3, 4], 180, -2, 2);
    const bytes = makeModel({
      nodes: [{ op: 'Softmax', inputs: ['x'], outputs: ['y'], attrs: { axis: 1 } }],
      inputs: [f32('x', [2, 3, 4])], outputs: [f32('y', [2, 3, 4])], opset: 11,
    });
    const y = (await runModel(bytes, { x }))['y']!;
    assert.deepEqual(y.dims, [2, 3, 4]);
    const want: number[] = [];
    for (let n = 0; n < 2; n++) {
      const v = Array.from({ length: 12 }, (_, i) => Number(x.data[n * 12 + i]));
      const m = Math.max(...v);
      const s = v.reduce((a, b) => a + Math.exp(b - m), 0);
      want.push(...v.map((b) => Math.exp(b - m) / s));
    }
    assertClose(y, want, [2, 3, 4], 'Softmax opset 11');
    // At opset 13 the same node normalizes over axis 1 only.
    const g13 = importOnnx(makeModel({
      nodes: [{ op: 'Softmax', inputs: ['x'], outputs: ['y'], attrs: { axis: 1 } }],
      inputs: [f32('x', [2, 3, 4])], outputs: [f32('y', [2, 3, 4])], opset: 13,
    }));
    assert.deepEqual(g13.nodes.map((n) => n.op), ['Softmax']);
  });

  it('BatchNormalization with training_mode=1 uses batch statistics; LayerNormalization imports with stash_type', () => {
    const c = (v: number) => new Tensor('float32', [v, v], [2]);
    const bn = importOnnx(makeModel({
      nodes: [{ op: 'BatchNormalization', inputs: ['x', 's', 'b', 'm', 'v'], outputs: ['y'], attrs: { training_mode: 1 } }],
      inputs: [f32('x', [1, 2, 3])], outputs: [f32('y', [1, 2, 3])],
      initializers: { s: c(1), b: c(0), m: c(0), v: c(1) }, opset: 15,
    }));
    assert.deepEqual(bn.nodes.map((n) => n.op), ['BatchNormalizationTraining']);
    const g = importOnnx(makeModel({
      nodes: [{ op: 'LayerNormalization', inputs: ['x', 's'], outputs: ['y'], attrs: { axis: -1, epsilon: 1e-6 } }],
      inputs: [f32('x', ['batch', 4, 2])], outputs: [f32('y', ['batch', 4, 2])], initializers: { s: c(1) }, opset: 17,
    }));
    assert.deepEqual(g.outputs[0]!.type.shape, ['batch', 4, 2]);
  });
});

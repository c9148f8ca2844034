/**
 * Math operators (src/ops/math.ts, the composite reductions of src/ops/reduce.ts)
 * against naive loop references, through the real compiler path on BOTH targets:
 * runOp (TE → loop IR → default schedule → JS codegen) and the same PrimFunc on the
 * wasm codegen. Plus their ONNX converters (src/frontend/onnx/ops/math.ts and the
 * legacy pre-opset-7 forms in src/frontend/onnx/ops/elemwise.ts) through
 * import → compile → run, on both targets.
 *
 * Inputs are seeded (mulberry32). Tolerance for floats: |got - want| <= ATOL + RTOL * |want|
 * with RTOL = 1e-5, ATOL = 1e-5 (double-precision references from the same float32
 * inputs; kernels round to float32 at each stored step). Det uses RTOL = ATOL = 1e-4
 * (M elimination steps of float32 rounding). Integer and boolean results are exact.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runOp, inferOp, runOpWasm, runModel } from '../helpers/run_op.js';
import { rng, randTensor } from '../helpers/random.js';
import { size, forEachIndex } from '../helpers/shape.js';
import { assertClose as assertCloseTol, assertOpError, expectNodeError, type Tolerance } from '../helpers/assert.js';
import { makeModel } from '../helpers/onnx_model.js';
import { Tensor } from '../../src/runtime/tensor.js';
import type { DType } from '../../src/runtime/dtype.js';
import type { Attrs } from '../../src/graph/ir.js';
import { importOnnx } from '../../src/frontend/onnx/importer.js';
import { compile } from '../../src/driver.js';

const RTOL = 1e-5;
const ATOL = 1e-5;

const assertClose = (got: Tensor, want: ArrayLike<number>, dims: readonly number[], what: string, tol: Tolerance = { rtol: RTOL, atol: ATOL }): void =>
  assertCloseTol(got, want, dims, what, tol);


/** Integers uniform in [lo, hi] (inclusive). */
function randInts(dims: number[], seed: number, dtype: DType, lo: number, hi: number): Tensor {
  const r = rng(seed);
  const vals = Array.from({ length: size(dims) }, () => Math.min(hi, Math.floor(r(lo, hi + 1))));
  return new Tensor(dtype, dtype === 'int64' || dtype === 'uint64' ? vals.map((v) => BigInt(v)) : vals, dims);
}

const values = (t: Tensor): number[] => Array.from(t.data as ArrayLike<number | bigint>, Number);

const flat = (idx: readonly number[], dims: readonly number[]): number => idx.reduce((o, v, i) => o * dims[i]! + v, 0);

function assertExact(got: Tensor, want: ArrayLike<number | bigint>, dims: readonly number[], dtype: DType, what: string): void {
  assert.equal(got.type, dtype, `${what}: dtype`);
  assert.deepEqual(got.dims, [...dims], `${what}: shape`);
  const g = Array.from(got.data as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? v : v + 0));
  const w = Array.from(want, (v) => (typeof v === 'bigint' ? v : v + 0));
  assert.deepEqual(g, w, what);
}

/** Output 0 of the op on each target, labelled. */
async function bothTargets(op: string, inputs: readonly Tensor[], attrs: Attrs = {}): Promise<[string, Tensor][]> {
  const [js] = runOp(op, inputs, attrs);
  const [wasm] = await runOpWasm(op, inputs, attrs);
  return [['js', js!], ['wasm', wasm!]];
}

async function checkClose(op: string, inputs: readonly Tensor[], attrs: Attrs, want: ArrayLike<number>, dims: readonly number[], what: string, tol?: { rtol: number; atol: number }): Promise<void> {
  for (const [target, y] of await bothTargets(op, inputs, attrs)) assertClose(y, want, dims, `${what} (${target})`, tol);
}

async function checkExact(op: string, inputs: readonly Tensor[], attrs: Attrs, want: ArrayLike<number | bigint>, dims: readonly number[], dtype: DType, what: string): Promise<void> {
  for (const [target, y] of await bothTargets(op, inputs, attrs)) assertExact(y, want, dims, dtype, `${what} (${target})`);
}

/** Numpy-style broadcast of two shapes, and the flat index into each operand. */
function broadcast2(a: readonly number[], b: readonly number[]): { dims: number[]; ia: (i: number[]) => number; ib: (i: number[]) => number } {
  const r = Math.max(a.length, b.length);
  const pa = [...new Array<number>(r - a.length).fill(1), ...a];
  const pb = [...new Array<number>(r - b.length).fill(1), ...b];
  const dims = pa.map((d, i) => Math.max(d, pb[i]!));
  const at = (p: number[]) => (idx: number[]) => flat(idx.map((v, i) => (p[i] === 1 ? 0 : v)), p);
  return { dims, ia: at(pa), ib: at(pb) };
}

function refBinary(a: Tensor, b: Tensor, f: (x: number, y: number) => number): { data: number[]; dims: number[] } {
  const bc = broadcast2(a.dims, b.dims);
  const av = values(a), bv = values(b);
  const data: number[] = [];
  forEachIndex(bc.dims, (i) => data.push(f(av[bc.ia(i)]!, bv[bc.ib(i)]!)));
  return { data, dims: bc.dims };
}

// ------------------------------------------------------------------ Mod, BitShift

describe('Mod', () => {
  const pyMod = (x: number, y: number): number => x - Math.floor(x / y) * y;
  const cFmod = (x: number, y: number): number => x % y;

  it('integer floor modulo (fmod=0) takes the divisor sign; fmod=1 the dividend sign (int8, int32, int64)', async () => {
    for (const dtype of ['int8', 'int32', 'int64'] as const) {
      const x = randInts([4, 5], 1, dtype, -30, 30);
      const y = randInts([5], 2, dtype, 1, 7);
      const yNeg = new Tensor(dtype, dtype === 'int64' ? values(y).map((v, i) => BigInt(i % 2 ? -v : v)) : values(y).map((v, i) => (i % 2 ? -v : v)), [5]);
      for (const fmod of [0, 1]) {
        const ref = refBinary(x, yNeg, fmod ? cFmod : pyMod);
        const want = dtype === 'int64' ? ref.data.map((v) => BigInt(v)) : ref.data;
        await checkExact('Mod', [x, yNeg], { fmod }, want, ref.dims, dtype, `Mod ${dtype} fmod=${fmod}`);
      }
    }
  });

  it('unsigned (uint8, uint32) and broadcasting a scalar divisor', async () => {
    for (const dtype of ['uint8', 'uint32'] as const) {
      const x = randInts([3, 4], 3, dtype, 0, 250);
      const y = new Tensor(dtype, [7], []);
      const ref = refBinary(x, y, pyMod);
      await checkExact('Mod', [x, y], {}, ref.data, ref.dims, dtype, `Mod ${dtype}`);
    }
  });

  it('float fmod=1 matches C fmod (float32, float64), including large quotients and ±inf divisors', async () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const x = randTensor([6, 7], 4, -1000, 1000, dtype);
      const yv = randTensor([7], 5, -3, 3, dtype);
      const ydata = values(yv);
      ydata[0] = Infinity;
      ydata[1] = -Infinity;
      ydata[2] = 1e-3;
      const y = new Tensor(dtype, dtype === 'float64' ? Float64Array.from(ydata) : Float32Array.from(ydata), [7]);
      const ref = refBinary(x, y, cFmod);
      // The fmod of float32 values is a float32 value, computed exactly (in float64); float64
      // loses the rounding of trunc(a / b) * b (about 1e-13 here).
      const tol = dtype === 'float32' ? { rtol: 0, atol: 0 } : { rtol: 0, atol: 1e-12 };
      await checkClose('Mod', [x, y], { fmod: 1 }, ref.data, ref.dims, `Mod ${dtype} fmod=1`, tol);
    }
  });

  it('float fmod=0 is the floor modulo', async () => {
    const x = randTensor([10], 6, -10, 10);
    const y = randTensor([10], 7, -3, 3);
    const ref = refBinary(x, y, pyMod);
    await checkClose('Mod', [x, y], { fmod: 0 }, ref.data, ref.dims, 'Mod float32 fmod=0', { rtol: 1e-5, atol: 1e-5 });
  });

  it('rejects bad fmod and mixed dtypes', () => {
    const t = { dtype: 'int32' as const, shape: [2] };
    assertOpError(() => inferOp('Mod', [t, t], { fmod: 2 }), /fmod must be 0 or 1/);
    assertOpError(() => inferOp('Mod', [t, { dtype: 'int64', shape: [2] }]), /must share a dtype/);
    assert.deepEqual(inferOp('Mod', [{ dtype: 'int32', shape: ['n', 1] }, { dtype: 'int32', shape: [3] }])[0]!.shape, ['n', 3]);
  });
});

describe('BitShift', () => {
  for (const [dtype, bits] of [['uint8', 8], ['uint16', 16], ['uint32', 32], ['uint64', 64]] as const) {
    it(`${dtype}: LEFT wraps to the width, RIGHT floors; shifts >= ${bits} give 0`, async () => {
      const maxV = dtype === 'uint64' ? 2 ** 40 : 2 ** bits - 1;
      const x = randInts([12], 8 + bits, dtype, 0, maxV);
      const shifts = [0, 1, 2, 3, bits - 1, bits, bits + 1, 5, 7, 4, 1, 6];
      const y = new Tensor(dtype, dtype === 'uint64' ? shifts.map((v) => BigInt(v)) : shifts, [12]);
      const xb = values(x).map((v) => BigInt(v));
      const mask = (1n << BigInt(bits)) - 1n;
      const left = xb.map((v, i) => (shifts[i]! >= bits ? 0n : (v << BigInt(shifts[i]!)) & mask));
      const right = xb.map((v, i) => (shifts[i]! >= bits ? 0n : v >> BigInt(shifts[i]!)));
      const conv = (a: bigint[]) => (dtype === 'uint64' ? a : a.map(Number));
      await checkExact('BitShift', [x, y], { direction: 'LEFT' }, conv(left), [12], dtype, `BitShift LEFT ${dtype}`);
      await checkExact('BitShift', [x, y], { direction: 'RIGHT' }, conv(right), [12], dtype, `BitShift RIGHT ${dtype}`);
    });
  }

  it('broadcasts a scalar shift; rejects signed types and bad directions', async () => {
    const x = new Tensor('uint8', [1, 2, 3, 255], [2, 2]);
    const y = new Tensor('uint8', [1], []);
    await checkExact('BitShift', [x, y], { direction: 'LEFT' }, [2, 4, 6, 254], [2, 2], 'uint8', 'BitShift scalar');
    assertOpError(() => inferOp('BitShift', [{ dtype: 'int32', shape: [2] }, { dtype: 'int32', shape: [2] }], { direction: 'LEFT' }), /supported: uint8/);
    assertOpError(() => inferOp('BitShift', [{ dtype: 'uint8', shape: [2] }, { dtype: 'uint8', shape: [2] }], { direction: 'UP' }), /LEFT or RIGHT/);
  });
});

// ------------------------------------------------------------------ unary

describe('IsNaN, IsInf, Celu, Mish, Shrink', () => {
  const special = new Tensor('float32', [1.5, NaN, Infinity, -Infinity, 0, -2, NaN, 3e38], [2, 4]);

  it('IsNaN and IsInf (all detect_positive/detect_negative combinations) give bool', async () => {
    const v = values(special);
    await checkExact('IsNaN', [special], {}, v.map((x) => (Number.isNaN(x) ? 1 : 0)), [2, 4], 'bool', 'IsNaN');
    for (const [pos, neg] of [[1, 1], [1, 0], [0, 1], [0, 0]]) {
      const want = v.map((x) => ((pos && x === Infinity) || (neg && x === -Infinity) ? 1 : 0));
      await checkExact('IsInf', [special], { detect_positive: pos, detect_negative: neg }, want, [2, 4], 'bool', `IsInf pos=${pos} neg=${neg}`);
    }
    const f64 = new Tensor('float64', [NaN, -Infinity, 1], [3]);
    await checkExact('IsInf', [f64], {}, [0, 1, 0], [3], 'bool', 'IsInf float64');
  });

  it('Celu (alpha 1 and 2)', async () => {
    const x = randTensor([3, 5], 20, -4, 4);
    for (const alpha of [1, 2]) {
      const want = values(x).map((v) => Math.max(0, v) + Math.min(0, alpha * (Math.exp(v / alpha) - 1)));
      await checkClose('Celu', [x], { alpha }, want, [3, 5], `Celu alpha=${alpha}`);
    }
    assertOpError(() => inferOp('Celu', [{ dtype: 'float32', shape: [2] }], { alpha: 0 }), /alpha must be nonzero/);
  });

  it('Mish = x tanh(softplus(x)), also for large |x|', async () => {
    const x = new Tensor('float32', Float32Array.from([...values(randTensor([10], 21, -5, 5)), 50, -50, 100, -100]), [14]);
    const want = values(x).map((v) => v * Math.tanh(Math.log1p(Math.exp(v))));
    await checkClose('Mish', [x], {}, want, [14], 'Mish');
  });

  it('Shrink (float with bias/lambd, and int32)', async () => {
    const x = randTensor([12], 22, -3, 3);
    const shrink = (v: number, l: number, b: number) => (v < -l ? v + b : v > l ? v - b : 0);
    await checkClose('Shrink', [x], { lambd: 1.5, bias: 0.5 }, values(x).map((v) => shrink(v, 1.5, 0.5)), [12], 'Shrink soft');
    await checkClose('Shrink', [x], {}, values(x).map((v) => shrink(v, 0.5, 0)), [12], 'Shrink defaults');
    const xi = randInts([9], 23, 'int32', -5, 5);
    await checkExact('Shrink', [xi], { lambd: 2, bias: 1 }, values(xi).map((v) => shrink(v, 2, 1)), [9], 'int32', 'Shrink int32');
  });
});

// ------------------------------------------------------------------ Trilu

describe('Trilu', () => {
  const refTrilu = (x: Tensor, upper: boolean, k: number): number[] => {
    const r = x.dims.length;
    const v = values(x);
    const out: number[] = [];
    forEachIndex(x.dims, (idx) => {
      const d = idx[r - 1]! - idx[r - 2]!;
      out.push((upper ? d >= k : d <= k) ? v[flat(idx, x.dims)]! : 0);
    });
    return out;
  };
  for (const upper of [1, 0]) {
    for (const k of [0, 1, -1, 3, -4, 100, -100]) {
      it(`upper=${upper} k=${k} on [2, 4, 5] int64 and [5, 3] float32`, async () => {
        const xi = randInts([2, 4, 5], 30, 'int64', -9, 9);
        await checkExact('Trilu', [xi], { upper, k }, refTrilu(xi, upper === 1, k).map((v) => BigInt(v)), [2, 4, 5], 'int64', 'Trilu int64');
        const xf = randTensor([5, 3], 31);
        await checkClose('Trilu', [xf], { upper, k }, refTrilu(xf, upper === 1, k), [5, 3], 'Trilu float32');
      });
    }
  }
  it('rejects rank < 2', () => {
    assertOpError(() => inferOp('Trilu', [{ dtype: 'float32', shape: [4] }]), /rank >= 2/);
  });
});

// ------------------------------------------------------------------ ArgMax, ArgMin, Hardmax

function refArg(x: Tensor, axis: number, keep: boolean, which: 'max' | 'min', last: boolean): { data: number[]; dims: number[] } {
  const r = x.dims.length;
  const a = axis < 0 ? axis + r : axis;
  const v = values(x);
  const outFull = x.dims.map((d, i) => (i === a ? 1 : d));
  const data: number[] = [];
  forEachIndex(outFull, (o) => {
    let best = -1;
    let bv = 0;
    for (let k = 0; k < x.dims[a]!; k++) {
      const val = v[flat(o.map((x0, i) => (i === a ? k : x0)), x.dims)]!;
      if (best >= 0 && Number.isNaN(bv)) { if (last && Number.isNaN(val)) best = k; continue; }
      const better = best < 0 || Number.isNaN(val) || (which === 'max' ? val > bv : val < bv) || (last && val === bv);
      if (better) { best = k; bv = val; }
    }
    data.push(best);
  });
  return { data, dims: keep ? outFull : x.dims.filter((_, i) => i !== a) };
}

describe('ArgMax, ArgMin', () => {
  for (const op of ['ArgMax', 'ArgMin'] as const) {
    const which = op === 'ArgMax' ? 'max' : 'min';
    for (const axis of [0, 1, -1]) {
      for (const keepdims of [1, 0]) {
        for (const last of [0, 1]) {
          it(`${op} axis=${axis} keepdims=${keepdims} select_last_index=${last} (ties; float32 and int32)`, async () => {
            // Few distinct values so ties are frequent.
            const xi = randInts([3, 4, 5], 40 + axis, 'int32', -2, 2);
            const xf = new Tensor('float32', Float32Array.from(values(xi).map((v) => v / 2)), [3, 4, 5]);
            for (const x of [xi, xf]) {
              const ref = refArg(x, axis, keepdims === 1, which, last === 1);
              await checkExact(op, [x], { axis, keepdims, select_last_index: last }, ref.data.map((v) => BigInt(v)), ref.dims, 'int64', `${op} ${x.type}`);
            }
          });
        }
      }
    }
    it(`${op}: NaN wins (first / last NaN), int64 and uint8 inputs`, async () => {
      const x = new Tensor('float32', [1, NaN, 5, NaN, -3, 2, 7, 7], [2, 4]);
      for (const last of [0, 1]) {
        const ref = refArg(x, 1, false, which, last === 1);
        await checkExact(op, [x], { axis: 1, keepdims: 0, select_last_index: last }, ref.data.map((v) => BigInt(v)), ref.dims, 'int64', `${op} NaN`);
      }
      const x64 = randInts([4, 3], 45, 'int64', -1000, 1000);
      const ref = refArg(x64, 0, true, which, false);
      await checkExact(op, [x64], { axis: 0 }, ref.data.map((v) => BigInt(v)), ref.dims, 'int64', `${op} int64`);
      const xu = randInts([2, 6], 46, 'uint8', 0, 255);
      const refU = refArg(xu, -1, false, which, false);
      await checkExact(op, [xu], { axis: -1, keepdims: 0 }, refU.data.map((v) => BigInt(v)), refU.dims, 'int64', `${op} uint8`);
    });
  }
  it('rejects an empty axis and an out-of-range axis', () => {
    assertOpError(() => inferOp('ArgMax', [{ dtype: 'float32', shape: [2, 0] }], { axis: 1 }), /empty axis/);
    assertOpError(() => inferOp('ArgMin', [{ dtype: 'float32', shape: [2, 3] }], { axis: 2 }), /out of range/);
    assert.deepEqual(inferOp('ArgMax', [{ dtype: 'float32', shape: ['n', 3] }], { axis: 1, keepdims: 0 })[0], { dtype: 'int64', shape: ['n'] });
  });
});

describe('Hardmax', () => {
  for (const axis of [0, 1, 2, -1]) {
    it(`axis=${axis}: one-hot of the first maximum (with ties)`, async () => {
      const x = new Tensor('float32', Float32Array.from(values(randInts([3, 4, 5], 50, 'int32', 0, 3))), [3, 4, 5]);
      const arg = refArg(x, axis, true, 'max', false);
      const a = axis < 0 ? axis + 3 : axis;
      const want: number[] = [];
      forEachIndex(x.dims, (idx) => {
        const o = idx.map((v, i) => (i === a ? 0 : v));
        want.push(arg.data[flat(o, arg.dims)] === idx[a] ? 1 : 0);
      });
      await checkClose('Hardmax', [x], { axis }, want, [3, 4, 5], `Hardmax axis ${axis}`);
    });
  }
});

// ------------------------------------------------------------------ CumSum

describe('CumSum', () => {
  const refCumSum = (x: Tensor, axis: number, exclusive: boolean, reverse: boolean): number[] => {
    const a = axis < 0 ? axis + x.dims.length : axis;
    const v = values(x);
    const out: number[] = [];
    forEachIndex(x.dims, (idx) => {
      let s = 0;
      for (let j = 0; j < x.dims[a]!; j++) {
        const i = idx[a]!;
        const take = reverse ? (exclusive ? j > i : j >= i) : exclusive ? j < i : j <= i;
        if (take) s += v[flat(idx.map((x0, d) => (d === a ? j : x0)), x.dims)]!;
      }
      out.push(s);
    });
    return out;
  };
  for (const axis of [0, 1, -1]) {
    for (const [exclusive, reverse] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
      it(`axis=${axis} exclusive=${exclusive} reverse=${reverse} (float32, int32, int64)`, async () => {
        const xf = randTensor([3, 4, 5], 60);
        const attrs = { axis, exclusive, reverse };
        await checkClose('CumSum', [xf], attrs, refCumSum(xf, axis, exclusive === 1, reverse === 1), [3, 4, 5], 'CumSum float32');
        const xi = randInts([3, 4, 5], 61, 'int32', -100, 100);
        await checkExact('CumSum', [xi], attrs, refCumSum(xi, axis, exclusive === 1, reverse === 1), [3, 4, 5], 'int32', 'CumSum int32');
        const xl = randInts([3, 4, 5], 62, 'int64', -100, 100);
        await checkExact('CumSum', [xl], attrs, refCumSum(xl, axis, exclusive === 1, reverse === 1).map((v) => BigInt(v)), [3, 4, 5], 'int64', 'CumSum int64');
      });
    }
  }
});

// ------------------------------------------------------------------ composite reductions

type RKind = 'ReduceL1' | 'ReduceL2' | 'ReduceSumSquare' | 'ReduceLogSum' | 'ReduceLogSumExp';

function refReduce(kind: RKind, x: Tensor, axes: number[], keepdims: boolean, noop = false): { data: number[]; dims: number[] } {
  const r = x.dims.length;
  const v = values(x);
  const elem: Record<RKind, (a: number[]) => number> = {
    ReduceL1: (a) => a.reduce((s, y) => s + Math.abs(y), 0),
    ReduceL2: (a) => Math.sqrt(a.reduce((s, y) => s + y * y, 0)),
    ReduceSumSquare: (a) => a.reduce((s, y) => s + y * y, 0),
    ReduceLogSum: (a) => Math.log(a.reduce((s, y) => s + y, 0)),
    ReduceLogSumExp: (a) => {
      const m = Math.max(...a);
      const sh = Number.isFinite(m) ? m : 0;
      return Math.log(a.reduce((s, y) => s + Math.exp(y - sh), 0)) + sh;
    },
  };
  if (noop) return { data: v.map((y) => elem[kind]([y])), dims: [...x.dims] };
  const ax = (axes.length ? axes : x.dims.map((_, i) => i)).map((a) => (a < 0 ? a + r : a));
  const outFull = x.dims.map((d, i) => (ax.includes(i) ? 1 : d));
  const groups: number[][] = Array.from({ length: size(outFull) }, () => []);
  forEachIndex(x.dims, (idx) => groups[flat(idx.map((y, i) => (ax.includes(i) ? 0 : y)), outFull)]!.push(v[flat(idx, x.dims)]!));
  return { data: groups.map((g) => elem[kind](g)), dims: keepdims ? outFull : x.dims.filter((_, i) => !ax.includes(i)) };
}

describe('ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSum, ReduceLogSumExp', () => {
  const kinds: RKind[] = ['ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSum', 'ReduceLogSumExp'];
  for (const kind of kinds) {
    for (const axes of [[1], [0, 2], [-1], []]) {
      for (const keepdims of [1, 0]) {
        it(`${kind} axes [${axes}] keepdims=${keepdims}`, async () => {
          // LogSum needs a positive sum.
          const x = kind === 'ReduceLogSum' ? randTensor([3, 4, 5], 70, 0.1, 2) : randTensor([3, 4, 5], 70, -2, 2);
          const ref = refReduce(kind, x, axes, keepdims === 1);
          await checkClose(kind, [x], { axes, keepdims }, ref.data, ref.dims, kind);
        });
      }
    }
    it(`${kind} noop_with_empty_axes=1 applies the elementwise part only`, async () => {
      const x = randTensor([2, 3], 71, 0.1, 2);
      const ref = refReduce(kind, x, [], true, true);
      await checkClose(kind, [x], { axes: [], noop_with_empty_axes: 1 }, ref.data, ref.dims, `${kind} noop`);
    });
  }

  it('ReduceLogSumExp is stable for large inputs and handles all -inf', async () => {
    const x = new Tensor('float32', [100, 101, 99, 500, 499, 498, -Infinity, -Infinity, -Infinity], [3, 3]);
    const ref = refReduce('ReduceLogSumExp', x, [1], false);
    assert.equal(ref.data[2], -Infinity);
    await checkClose('ReduceLogSumExp', [x], { axes: [1], keepdims: 0 }, ref.data, ref.dims, 'LSE large');
  });

  it('ReduceL1 and ReduceSumSquare on int32 are exact; L2 rejects ints', async () => {
    const x = randInts([3, 4], 72, 'int32', -20, 20);
    for (const kind of ['ReduceL1', 'ReduceSumSquare'] as const) {
      const ref = refReduce(kind, x, [1], false);
      await checkExact(kind, [x], { axes: [1], keepdims: 0 }, ref.data, ref.dims, 'int32', `${kind} int32`);
    }
    assertOpError(() => inferOp('ReduceL2', [{ dtype: 'int32', shape: [2] }]), /supported: float32/);
  });
});

// ------------------------------------------------------------------ normalizations

describe('LpNormalization, MeanVarianceNormalization, InstanceNormalization, LRN', () => {
  it('LpNormalization p=1 and p=2 over several axes', async () => {
    const x = randTensor([3, 4, 5], 80);
    for (const p of [1, 2]) {
      for (const axis of [0, 1, -1]) {
        const a = axis < 0 ? axis + 3 : axis;
        const v = values(x);
        const want: number[] = [];
        forEachIndex(x.dims, (idx) => {
          let n = 0;
          for (let k = 0; k < x.dims[a]!; k++) {
            const y = v[flat(idx.map((q, i) => (i === a ? k : q)), x.dims)]!;
            n += p === 1 ? Math.abs(y) : y * y;
          }
          want.push(v[flat(idx, x.dims)]! / (p === 1 ? n : Math.sqrt(n)));
        });
        await checkClose('LpNormalization', [x], { axis, p }, want, [3, 4, 5], `LpNormalization p=${p} axis=${axis}`);
      }
    }
    assertOpError(() => inferOp('LpNormalization', [{ dtype: 'float32', shape: [2] }], { p: 3 }), /p must be 1 or 2/);
  });

  const refMeanVar = (x: Tensor, axes: number[]): { mean: (idx: number[]) => number; variance: (idx: number[]) => number } => {
    const key = (idx: number[]) => flat(idx.map((v, i) => (axes.includes(i) ? 0 : v)), x.dims);
    const sums = new Map<number, number[]>();
    const v = values(x);
    forEachIndex(x.dims, (idx) => (sums.get(key(idx)) ?? sums.set(key(idx), []).get(key(idx))!).push(v[flat(idx, x.dims)]!));
    const mean = (idx: number[]) => { const g = sums.get(key(idx))!; return g.reduce((a, b) => a + b, 0) / g.length; };
    const variance = (idx: number[]) => { const g = sums.get(key(idx))!; const m = mean(idx); return g.reduce((a, b) => a + (b - m) ** 2, 0) / g.length; };
    return { mean, variance };
  };

  for (const axes of [[0, 2, 3], [1], [2, 3], [0, 1, 2, 3]]) {
    it(`MeanVarianceNormalization axes [${axes}]`, async () => {
      const x = randTensor([2, 3, 4, 5], 81, -2, 3);
      const st = refMeanVar(x, axes);
      const v = values(x);
      const want: number[] = [];
      forEachIndex(x.dims, (idx) => want.push((v[flat(idx, x.dims)]! - st.mean(idx)) / (Math.sqrt(st.variance(idx)) + 1e-9)));
      const attrs: Attrs = axes.length === 3 && axes[0] === 0 && axes[1] === 2 ? {} : { axes };
      await checkClose('MeanVarianceNormalization', [x], attrs, want, [2, 3, 4, 5], `MVN [${axes}]`, { rtol: 1e-4, atol: 1e-5 });
    });
  }

  for (const dims of [[2, 3, 4, 5], [1, 2, 7], [2, 2, 2, 3, 2]]) {
    it(`InstanceNormalization [${dims}]`, async () => {
      const x = randTensor(dims, 82, -3, 3);
      const c = dims[1]!;
      const scale = randTensor([c], 83, 0.5, 2), bias = randTensor([c], 84);
      const eps = 1e-3;
      const st = refMeanVar(x, dims.map((_, i) => i).slice(2));
      const v = values(x), sv = values(scale), bv = values(bias);
      const want: number[] = [];
      forEachIndex(x.dims, (idx) => want.push((v[flat(idx, x.dims)]! - st.mean(idx)) / Math.sqrt(st.variance(idx) + eps) * sv[idx[1]!]! + bv[idx[1]!]!));
      await checkClose('InstanceNormalization', [x, scale, bias], { epsilon: eps }, want, dims, `InstanceNormalization [${dims}]`, { rtol: 1e-4, atol: 1e-5 });
    });
  }
  it('InstanceNormalization rejects a mis-sized scale', () => {
    const f = (n: number) => ({ dtype: 'float32' as const, shape: [n] });
    assertOpError(() => inferOp('InstanceNormalization', [{ dtype: 'float32', shape: [1, 3, 4] }, f(2), f(3)]), /scale must be \[3\]/);
  });

  for (const sizeW of [1, 3, 4, 5]) {
    it(`LRN size=${sizeW} (window clipped at the channel edges)`, async () => {
      const x = randTensor([2, 6, 3, 2], 85, -2, 2);
      const alpha = 1e-2, beta = 0.75, bias = 1.5;
      const v = values(x);
      const lo = Math.floor((sizeW - 1) / 2), hi = Math.ceil((sizeW - 1) / 2);
      const want: number[] = [];
      forEachIndex(x.dims, (idx) => {
        let s = 0;
        for (let cc = Math.max(0, idx[1]! - lo); cc <= Math.min(5, idx[1]! + hi); cc++) s += v[flat([idx[0]!, cc, idx[2]!, idx[3]!], x.dims)]! ** 2;
        want.push(v[flat(idx, x.dims)]! / (bias + alpha / sizeW * s) ** beta);
      });
      await checkClose('LRN', [x], { size: sizeW, alpha, beta, bias }, want, x.dims, `LRN size ${sizeW}`);
    });
  }
});

// ------------------------------------------------------------------ Einsum

/** Naive einsum: enumerate every assignment of every label. Independent of planEinsum. */
function refEinsum(eq: string, xs: Tensor[]): { data: number[]; dims: number[] } {
  const e = eq.replace(/\s/g, '');
  const [lhs, rhs] = e.includes('->') ? e.split('->') : [e, undefined];
  const terms = lhs!.split(',');
  let nEll = 0;
  const named = terms.map((t) => t.replace('...', '').length);
  terms.forEach((t, i) => { if (t.includes('...')) nEll = Math.max(nEll, xs[i]!.dims.length - named[i]!); });
  // Broadcast dims get the labels '0', '1', ... (right-aligned).
  const ell = Array.from({ length: nEll }, (_, i) => String(i));
  const labels = terms.map((t, i) => {
    if (!t.includes('...')) return [...t];
    const [a, b] = t.split('...');
    const k = xs[i]!.dims.length - named[i]!;
    return [...a!, ...ell.slice(nEll - k), ...b!];
  });
  const sizes = new Map<string, number>();
  labels.forEach((ls, i) => ls.forEach((l, d) => sizes.set(l, Math.max(sizes.get(l) ?? 1, xs[i]!.dims[d]!))));
  let out: string[];
  if (rhs === undefined) {
    const count = new Map<string, number>();
    for (const ls of labels) for (const l of ls) count.set(l, (count.get(l) ?? 0) + 1);
    out = [...ell, ...[...count].filter(([l, n]) => n === 1 && !ell.includes(l)).map(([l]) => l).sort()];
  } else {
    out = rhs.includes('...') ? [...rhs.split('...')[0]!, ...ell, ...rhs.split('...')[1]!] : [...rhs];
  }
  const all = [...sizes.keys()];
  const outDims = out.map((l) => sizes.get(l)!);
  const data = new Array<number>(size(outDims)).fill(0);
  const vals = xs.map(values);
  forEachIndex(all.map((l) => sizes.get(l)!), (asg) => {
    const at = (l: string) => asg[all.indexOf(l)]!;
    let p = 1;
    xs.forEach((x, i) => { p *= vals[i]![flat(labels[i]!.map((l, d) => (x.dims[d] === 1 ? 0 : at(l))), x.dims)]!; });
    data[flat(out.map(at), outDims)]! += p;
  });
  return { data, dims: outDims };
}

describe('Einsum', () => {
  const cases: [string, number[][]][] = [
    ['ij,jk->ik', [[3, 4], [4, 5]]],
    ['ij,jk', [[3, 4], [4, 5]]],
    ['bij, bjk -> bik', [[2, 3, 4], [2, 4, 3]]],
    ['i,i', [[6], [6]]],
    ['i,j->ij', [[3], [4]]],
    ['ij->ji', [[3, 4]]],
    ['ij->i', [[3, 4]]],
    ['ii->', [[4, 4]]],
    ['ii', [[4, 4]]],
    ['ii->i', [[4, 4]]],
    ['...ii ->...i', [[3, 5, 5]]],
    ['iij->j', [[3, 3, 2]]],
    ['...ij,...jk->...ik', [[2, 1, 3, 4], [5, 4, 2]]],
    ['...i,...i', [[2, 3], [3]]],
    ['b...,b...->b', [[2, 3, 4], [2, 3, 4]]],
    ['ij,jk,kl->il', [[2, 3], [3, 4], [4, 2]]],
    ['ab,cd->abcd', [[2, 1], [1, 3]]],
    ['Ab,bA->Ab', [[2, 3], [3, 2]]],
    ['i...->...', [[3, 2, 2]]],
    ['ij,ij->', [[3, 4], [1, 4]]],
  ];
  cases.forEach(([eq, shapes], n) => {
    it(`'${eq}' on ${shapes.map((s) => `[${s}]`).join(', ')}`, async () => {
      const xs = shapes.map((s, i) => randTensor(s, 90 + 10 * n + i));
      const ref = refEinsum(eq, xs);
      await checkClose('Einsum', xs, { equation: eq.replace(/\s/g, '') }, ref.data, ref.dims, `Einsum ${eq}`);
    });
  });

  it('int32 operands are exact; symbolic dims flow through inference', async () => {
    const a = randInts([3, 4], 95, 'int32', -5, 5), b = randInts([4, 2], 96, 'int32', -5, 5);
    const ref = refEinsum('ij,jk->ik', [a, b]);
    await checkExact('Einsum', [a, b], { equation: 'ij,jk->ik' }, ref.data, ref.dims, 'int32', 'Einsum int32');
    const t = inferOp('Einsum', [{ dtype: 'float32', shape: ['n', 4] }, { dtype: 'float32', shape: [4, 'm'] }], { equation: 'ij,jk->ki' });
    assert.deepEqual(t[0]!.shape, ['m', 'n']);
  });

  it('rejects malformed equations', () => {
    const f = (s: number[]) => ({ dtype: 'float32' as const, shape: s });
    assertOpError(() => inferOp('Einsum', [f([2, 3])], { equation: 'ijk->i' }), /has 3 labels, but the input has rank 2/);
    assertOpError(() => inferOp('Einsum', [f([2, 3]), f([4, 5])], { equation: 'ij,jk->ik' }), /label 'j' has sizes 3 and 4/);
    assertOpError(() => inferOp('Einsum', [f([2, 3])], { equation: 'ij->iz' }), /output label 'z' does not appear/);
    assertOpError(() => inferOp('Einsum', [f([2, 3])], { equation: 'ij->ii' }), /appears twice/);
    assertOpError(() => inferOp('Einsum', [f([2, 3])], { equation: 'ij,k->i' }), /2 operands, got 1 inputs/);
    assertOpError(() => inferOp('Einsum', [f([2, 3])], { equation: 'i1->i' }), /invalid label '1'/);
  });
});

// ------------------------------------------------------------------ Det

function refDet(m: number[][]): number {
  const n = m.length;
  if (n === 0) return 1;
  if (n === 1) return m[0]![0]!;
  let d = 0;
  for (let j = 0; j < n; j++) {
    const minor = m.slice(1).map((row) => row.filter((_, k) => k !== j));
    d += (j % 2 ? -1 : 1) * m[0]![j]! * refDet(minor);
  }
  return d;
}

describe('Det', () => {
  const detOf = (x: Tensor): number[] => {
    const r = x.dims.length;
    const n = x.dims[r - 1]!;
    const v = values(x);
    const out: number[] = [];
    for (let b = 0; b < v.length / (n * n); b++) {
      out.push(refDet(Array.from({ length: n }, (_, i) => v.slice(b * n * n + i * n, b * n * n + (i + 1) * n))));
    }
    return out;
  };
  const tol = { rtol: 1e-4, atol: 1e-4 };
  for (const dims of [[1, 1], [2, 2], [3, 3], [5, 5], [4, 3, 3], [2, 2, 4, 4]]) {
    it(`random [${dims}]`, async () => {
      const x = randTensor(dims, 100 + dims.length * 7 + dims[dims.length - 1]!, -2, 2);
      await checkClose('Det', [x], {}, detOf(x), dims.slice(0, -2), `Det [${dims}]`, tol);
    });
  }
  it('needs pivoting (zero leading entry), singular matrices give 0, float64', async () => {
    const x = new Tensor('float32', [
      0, 2, 1, 3, 1, 0, 4, 1, 5, // pivot needed at step 0
      1, 2, 3, 2, 4, 6, 7, 8, 9, // rows 0 and 1 dependent
      0, 0, 0, 1, 2, 3, 4, 5, 6, // zero column
      2, 0, 0, 0, 3, 0, 0, 0, 4, // diagonal
    ], [4, 3, 3]);
    const want = detOf(x);
    assert.deepEqual(want.map((v) => v + 0), [-31, 0, 0, 24]);
    await checkClose('Det', [x], {}, want, [4], 'Det special', tol);
    const x64 = randTensor([3, 4, 4], 120, -3, 3, 'float64');
    await checkClose('Det', [x64], {}, detOf(x64), [3], 'Det float64', { rtol: 1e-10, atol: 1e-10 });
  });
  it('rejects non-square input', () => {
    assertOpError(() => inferOp('Det', [{ dtype: 'float32', shape: [2, 3] }]), /square/);
    assert.deepEqual(inferOp('Det', [{ dtype: 'float32', shape: ['b', 3, 3] }])[0]!.shape, ['b']);
  });
});

// ------------------------------------------------------------------ converters

const runModelOn = (target: 'js' | 'wasm', bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> => runModel(bytes, feeds, target);

/** Runs a model on both targets and checks output `name` against `want`. */
async function checkModel(bytes: Uint8Array, feeds: Record<string, Tensor>, name: string, want: ArrayLike<number>, dims: number[], what: string): Promise<void> {
  for (const target of ['js', 'wasm'] as const) {
    const out = (await runModelOn(target, bytes, feeds))[name]!;
    assertClose(out, want, dims, `${what} (${target})`);
  }
}

const vi = (name: string, dtype: DType, shape: (number | string)[]) => ({ name, dtype, shape });
const f32 = (name: string, shape: (number | string)[]) => vi(name, 'float32', shape);
const i64 = (v: number[], dims?: number[]) => new Tensor('int64', v.map((x) => BigInt(x)), dims ?? [v.length]);

describe('ONNX converters (math)', () => {
  it('CumSum with a constant axis; a graph-input axis is rejected', async () => {
    const x = randTensor([2, 3], 130);
    const bytes = makeModel({
      nodes: [{ op: 'CumSum', inputs: ['x', 'axis'], outputs: ['y'], attrs: { reverse: 1 } }],
      inputs: [f32('x', [2, 3])], outputs: [f32('y', [2, 3])], initializers: { axis: i64([1], []) }, opset: 14,
    });
    const v = values(x);
    await checkModel(bytes, { x }, 'y', [v[0]! + v[1]! + v[2]!, v[1]! + v[2]!, v[2]!, v[3]! + v[4]! + v[5]!, v[4]! + v[5]!, v[5]!], [2, 3], 'CumSum');
    expectNodeError(() => importOnnx(makeModel({
      nodes: [{ op: 'CumSum', inputs: ['x', 'axis'], outputs: ['y'] }],
      inputs: [f32('x', [2, 3]), vi('axis', 'int64', [])], outputs: [f32('y', [2, 3])], opset: 14,
    })), /input 'axis' \(axis\) is needed as a constant/);
  });

  it('Trilu with a constant k and without', async () => {
    const x = randTensor([3, 4], 131);
    const v = values(x);
    for (const [k, upper] of [[undefined, 1], [-1, 0], [2, 1]] as const) {
      const bytes = makeModel({
        nodes: [{ op: 'Trilu', inputs: k === undefined ? ['x'] : ['x', 'k'], outputs: ['y'], attrs: { upper } }],
        inputs: [f32('x', [3, 4])], outputs: [f32('y', [3, 4])], initializers: k === undefined ? {} : { k: i64([k], []) }, opset: 14,
      });
      const want: number[] = [];
      forEachIndex([3, 4], ([i, j]) => want.push((upper ? j! - i! >= (k ?? 0) : j! - i! <= (k ?? 0)) ? v[i! * 4 + j!]! : 0));
      await checkModel(bytes, { x }, 'y', want, [3, 4], `Trilu k=${k} upper=${upper}`);
    }
  });

  it('CastLike casts to the second input dtype', async () => {
    const x = randTensor([4], 132, -5, 5);
    const bytes = makeModel({
      nodes: [{ op: 'CastLike', inputs: ['x', 'like'], outputs: ['y'] }],
      inputs: [f32('x', [4]), vi('like', 'int32', [1])], outputs: [vi('y', 'int32', [4])], opset: 15,
    });
    const g = importOnnx(bytes);
    assert.deepEqual(g.nodes.map((n) => [n.op, n.attrs['to']]), [['Cast', 'int32']]);
    await checkModel(bytes, { x, like: new Tensor('int32', [0], [1]) }, 'y', values(x).map(Math.trunc), [4], 'CastLike');
  });

  it('Hardmax before opset 13 takes the max over the dims flattened from axis', async () => {
    const x = randTensor([2, 3, 4], 133);
    const bytes = makeModel({
      nodes: [{ op: 'Hardmax', inputs: ['x'], outputs: ['y'], attrs: { axis: 1 } }],
      inputs: [f32('x', [2, 3, 4])], outputs: [f32('y', [2, 3, 4])], opset: 11,
    });
    const v = values(x);
    const want: number[] = [];
    for (let n = 0; n < 2; n++) {
      const row = v.slice(n * 12, n * 12 + 12);
      const m = row.indexOf(Math.max(...row));
      want.push(...row.map((_, i) => (i === m ? 1 : 0)));
    }
    await checkModel(bytes, { x }, 'y', want, [2, 3, 4], 'Hardmax opset 11');
  });

  it('ArgMax fuses with an injective producer and an elementwise consumer; select_last_index needs opset 12', async () => {
    const x = randTensor([3, 5], 134);
    const bytes = makeModel({
      nodes: [
        { op: 'Neg', inputs: ['x'], outputs: ['n'] },
        { op: 'ArgMax', inputs: ['n'], outputs: ['a'], attrs: { axis: 1, keepdims: 0 } },
        { op: 'Cast', inputs: ['a'], outputs: ['y'], attrs: { to: 1 } },
      ],
      inputs: [f32('x', [3, 5])], outputs: [f32('y', [3])], opset: 13,
    });
    const neg = new Tensor('float32', Float32Array.from(values(x).map((v) => -v)), [3, 5]);
    const fused = compile(bytes, { target: 'js' }).graph;
    assert.equal(fused.nodes.length, 1, 'Neg, ArgMax and Cast form one fused kernel');
    assert.deepEqual(fused.nodes[0]!.body?.nodes.map((n) => n.op), ['Neg', 'ArgMax', 'Cast']);
    await checkModel(bytes, { x }, 'y', refArg(neg, 1, false, 'max', false).data, [3], 'Neg → ArgMax → Cast');
    expectNodeError(() => importOnnx(makeModel({
      nodes: [{ op: 'ArgMax', inputs: ['x'], outputs: ['y'], attrs: { select_last_index: 1 } }],
      inputs: [f32('x', [3, 5])], outputs: [vi('y', 'int64', [1, 5])], opset: 11,
    })), /ArgMax-11 has no attribute 'select_last_index'/);
  });

  it('ReduceL2 / ReduceLogSumExp: axes attribute before opset 18, constant input from 18', async () => {
    const x = randTensor([2, 3, 4], 135);
    for (const op of ['ReduceL2', 'ReduceLogSumExp'] as const) {
      const ref = refReduce(op, x, [2], false);
      const old = makeModel({
        nodes: [{ op, inputs: ['x'], outputs: ['y'], attrs: { axes: [2], keepdims: 0 } }],
        inputs: [f32('x', [2, 3, 4])], outputs: [f32('y', [2, 3])], opset: 13,
      });
      await checkModel(old, { x }, 'y', ref.data, ref.dims, `${op} opset 13`);
      const v18 = makeModel({
        nodes: [{ op, inputs: ['x', 'axes'], outputs: ['y'], attrs: { keepdims: 0 } }],
        inputs: [f32('x', [2, 3, 4])], outputs: [f32('y', [2, 3])], initializers: { axes: i64([-1]) }, opset: 18,
      });
      await checkModel(v18, { x }, 'y', ref.data, ref.dims, `${op} opset 18`);
    }
  });

  it('Einsum strips blanks; Det, IsInf, Mod import with their attributes', () => {
    const g = importOnnx(makeModel({
      nodes: [
        { op: 'Einsum', inputs: ['x', 'x'], outputs: ['e'], attrs: { equation: 'ij, jk -> ik' } },
        { op: 'Det', inputs: ['e'], outputs: ['d'] },
      ],
      inputs: [f32('x', [3, 3])], outputs: [f32('d', [])], opset: 12,
    }));
    assert.deepEqual(g.nodes.map((n) => n.op), ['Einsum', 'Det']);
    assert.equal(g.nodes[0]!.attrs['equation'], 'ij,jk->ik');
    assert.deepEqual(g.outputs[0]!.type.shape, []);
    const m = importOnnx(makeModel({
      nodes: [{ op: 'Mod', inputs: ['a', 'b'], outputs: ['y'], attrs: { fmod: 1 } }],
      inputs: [f32('a', [2]), f32('b', [2])], outputs: [f32('y', [2])], opset: 13,
    }));
    assert.equal(m.nodes[0]!.attrs['fmod'], 1);
  });

  it('opset-6 Add/Mul with legacy broadcast=1 and axis', async () => {
    const a = randTensor([2, 3, 4], 140), b = randTensor([3], 141);
    const bytes = makeModel({
      nodes: [{ op: 'Add', inputs: ['a', 'b'], outputs: ['y'], attrs: { broadcast: 1, axis: 1 } }],
      inputs: [f32('a', [2, 3, 4]), f32('b', [3])], outputs: [f32('y', [2, 3, 4])], opset: 6,
    });
    const av = values(a), bv = values(b);
    const want: number[] = [];
    forEachIndex([2, 3, 4], (idx) => want.push(av[flat(idx, [2, 3, 4])]! + bv[idx[1]!]!));
    await checkModel(bytes, { a, b }, 'y', want, [2, 3, 4], 'Add-6 axis=1');
    // Default axis: B aligns with A's trailing dims.
    const c = randTensor([3, 4], 142);
    const mul = makeModel({
      nodes: [{ op: 'Mul', inputs: ['a', 'c'], outputs: ['y'], attrs: { broadcast: 1 } }],
      inputs: [f32('a', [2, 3, 4]), f32('c', [3, 4])], outputs: [f32('y', [2, 3, 4])], opset: 6,
    });
    const cv = values(c);
    await checkModel(mul, { a, c }, 'y', av.map((v, i) => v * cv[i % 12]!), [2, 3, 4], 'Mul-6 trailing');
    expectNodeError(() => importOnnx(makeModel({
      nodes: [{ op: 'Sub', inputs: ['a', 'b'], outputs: ['y'], attrs: { broadcast: 1, axis: 2 } }],
      inputs: [f32('a', [2, 3]), f32('b', [3])], outputs: [f32('y', [2, 3])], opset: 6,
    })), /does not fit A/);
  });

  it('opset-6 PRelu applies a per-channel slope on axis 1; Gemm-6 and Max-6 import', async () => {
    const x = randTensor([2, 3, 4], 143), s = randTensor([3], 144, 0.1, 0.5);
    const bytes = makeModel({
      nodes: [{ op: 'PRelu', inputs: ['x', 's'], outputs: ['y'] }],
      inputs: [f32('x', [2, 3, 4])], outputs: [f32('y', [2, 3, 4])], initializers: { s }, opset: 6,
    });
    const xv = values(x), sv = values(s);
    const want: number[] = [];
    forEachIndex([2, 3, 4], (idx) => { const v = xv[flat(idx, [2, 3, 4])]!; want.push(v < 0 ? v * sv[idx[1]!]! : v); });
    await checkModel(bytes, { x }, 'y', want, [2, 3, 4], 'PRelu-6');
    const a = randTensor([2, 3], 145), b = randTensor([4, 3], 146), c = randTensor([4], 147);
    const gemm = makeModel({
      nodes: [{ op: 'Gemm', inputs: ['a', 'b', 'c'], outputs: ['y'], attrs: { broadcast: 1, transB: 1, alpha: 0.5, beta: 2 } }],
      inputs: [f32('a', [2, 3]), f32('b', [4, 3]), f32('c', [4])], outputs: [f32('y', [2, 4])], opset: 6,
    });
    const ga = values(a), gb = values(b), gc = values(c);
    const gw: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 4; j++) {
      let acc = 0;
      for (let k = 0; k < 3; k++) acc += ga[i * 3 + k]! * gb[j * 3 + k]!;
      gw.push(0.5 * acc + 2 * gc[j]!);
    }
    await checkModel(gemm, { a, b, c }, 'y', gw, [2, 4], 'Gemm-6');
    const m = makeModel({
      nodes: [{ op: 'Max', inputs: ['a', 'a2', 'a3'], outputs: ['y'] }],
      inputs: [f32('a', [2, 3]), f32('a2', [2, 3]), f32('a3', [2, 3])], outputs: [f32('y', [2, 3])], opset: 6,
    });
    const a2 = randTensor([2, 3], 148), a3 = randTensor([2, 3], 149);
    const mv = values(a).map((v, i) => Math.max(v, values(a2)[i]!, values(a3)[i]!));
    await checkModel(m, { a, a2, a3 }, 'y', mv, [2, 3], 'Max-6');
  });

  it('Pow from opset 12 mixes base and exponent dtypes (output has the base dtype)', async () => {
    const base = new Tensor('int32', [1, 2, 3, -2], [4]);
    const expo = new Tensor('float32', [4, 5, 0.5, 3], [4]);
    const bytes = makeModel({
      nodes: [{ op: 'Pow', inputs: ['x', 'y'], outputs: ['z'] }],
      inputs: [vi('x', 'int32', [4]), f32('y', [4])], outputs: [vi('z', 'int32', [4])], opset: 15,
    });
    for (const target of ['js', 'wasm'] as const) {
      const z = (await runModelOn(target, bytes, { x: base, y: expo }))['z']!;
      assertExact(z, [1, 32, 1, -8], [4], 'int32', `Pow int32^float32 (${target})`);
    }
    const fb = randTensor([3], 150, 0.5, 2);
    const ie = new Tensor('int64', [2n, 3n, -1n], [3]);
    const fbytes = makeModel({
      nodes: [{ op: 'Pow', inputs: ['x', 'y'], outputs: ['z'] }],
      inputs: [f32('x', [3]), vi('y', 'int64', [3])], outputs: [f32('z', [3])], opset: 15,
    });
    const fv = values(fb);
    await checkModel(fbytes, { x: fb, y: ie }, 'z', [fv[0]! ** 2, fv[1]! ** 3, 1 / fv[2]!], [3], 'Pow float32^int64');
  });
});

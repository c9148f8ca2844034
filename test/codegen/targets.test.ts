/** Both codegens run the same loop IR and must agree with a plain-TS reference. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compute, placeholder, reduceAxis, sum, maxReduce } from '../../src/te/tensor.js';
import {
  add, cast, compare, constant, float, floordiv, floormod, int, max, min, mul, select, and, call, sub, div,
} from '../../src/ir/expr.js';
import type { TypedArray } from '../../src/runtime/dtype.js';
import type { PrimFunc } from '../../src/tir/stmt.js';
import { lowerTe, runJsKernel, runWasmKernel } from '../helpers/run_op.js';
import { printPrimFunc } from '../../src/tir/printer.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

async function onBoth(func: PrimFunc, make: () => TypedArray[], check: (args: TypedArray[], target: string) => void): Promise<void> {
  const a = make();
  runJsKernel(func, a);
  check(a, 'js');
  const b = make();
  await runWasmKernel(func, b);
  check(b, 'wasm');
}

test('matmul with fused bias+relu epilogue and padding select', async () => {
  const A = placeholder([5, 7], 'float32', 'A');
  const B = placeholder([7, 3], 'float32', 'B');
  const k = reduceAxis(7, 'k');
  // Read A through a zero-padded view (columns shifted by one): the select guards an out-of-range read.
  const Ap = compute([5, 8], (i, j) => select(and(compare('ge', j, int(1)), compare('lt', j, int(8))), A.at(i, sub(j, int(1))), float(0)), 'Ap');
  const C = compute([5, 3], (i, j) => sum(mul(Ap.at(i, add(k.var, int(1))), B.at(k.var, j)), [k]), 'C');
  const D = compute([5, 3], (i, j) => max(add(C.at(i, j), float(0.5)), float(0)), 'D');
  const f = lowerTe('mm', [A, B], [D]);
  const r = rng(1);
  const a = Float32Array.from({ length: 35 }, () => r() * 2 - 1);
  const b = Float32Array.from({ length: 21 }, () => r() * 2 - 1);
  await onBoth(f, () => [a.slice(), b.slice(), new Float32Array(15)], ([, , d], target) => {
    for (let i = 0; i < 5; i++) for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let kk = 0; kk < 7; kk++) s += a[i * 7 + kk]! * b[kk * 3 + j]!;
      const want = Math.max(s + 0.5, 0);
      assert.ok(Math.abs(Number(d![i * 3 + j]) - want) <= 1e-5 + 1e-5 * Math.abs(want), `${target} D[${i},${j}] = ${d![i * 3 + j]} vs ${want}`);
    }
  });
});

test('integer floordiv/floormod follow floor semantics for negative operands', async () => {
  const X = placeholder([8], 'int32', 'X');
  const Y = placeholder([8], 'int32', 'Y');
  const Q = compute([8], (i) => floordiv(X.at(i), Y.at(i)), 'Q');
  const R = compute([8], (i) => floormod(X.at(i), Y.at(i)), 'R');
  const f = lowerTe('divmod', [X, Y], [Q, R]);
  const x = Int32Array.from([7, -7, 7, -7, 0, 9, -9, 1]);
  const y = Int32Array.from([2, 2, -2, -2, 3, 3, 4, -5]);
  await onBoth(f, () => [x.slice(), y.slice(), new Int32Array(8), new Int32Array(8)], ([, , q, r], target) => {
    for (let i = 0; i < 8; i++) {
      assert.equal(q![i], Math.floor(x[i]! / y[i]!), `${target} q[${i}]`);
      assert.equal(r![i], x[i]! - Math.floor(x[i]! / y[i]!) * y[i]!, `${target} r[${i}]`);
    }
  });
});

test('casts: float→int truncates, int→uint8 wraps, int64 arithmetic is exact', async () => {
  const X = placeholder([6], 'float32', 'X');
  const L = placeholder([3], 'int64', 'L');
  const I = compute([6], (i) => cast(X.at(i), 'int32'), 'I');
  const U = compute([6], (i) => cast(cast(X.at(i), 'int32'), 'uint8'), 'U');
  const B = compute([6], (i) => cast(X.at(i), 'bool'), 'B');
  const S = compute([3], (i) => add(mul(L.at(i), constant(3, 'int64')), constant(1, 'int64')), 'S');
  const f = lowerTe('casts', [X, L], [I, U, B, S]);
  const x = Float32Array.from([1.7, -1.7, 300.5, -0.2, 0, 255.9]);
  const l = BigInt64Array.from([2n ** 60n, -(2n ** 61n) + 7n, 5n]);
  await onBoth(f, () => [x.slice(), l.slice(), new Int32Array(6), new Uint8Array(6), new Uint8Array(6), new BigInt64Array(3)], (args, target) => {
    const [, , i, u, b, s] = args;
    assert.deepEqual([...i!], [1, -1, 300, 0, 0, 255], `${target} int32`);
    assert.deepEqual([...u!], [1, 255, 44, 0, 0, 255], `${target} uint8`);
    assert.deepEqual([...b!], [1, 1, 1, 1, 0, 1], `${target} bool`);
    assert.deepEqual([...s!], [...l].map((v) => v * 3n + 1n), `${target} int64`);
  });
});

test('float→int64 casts saturate as wasm trunc_sat does: NaN to 0, ±Infinity and overflows to the ends', async () => {
  const X = placeholder([6], 'float64', 'X');
  const I = compute([6], (i) => cast(X.at(i), 'int64'), 'I');
  const U = compute([6], (i) => cast(X.at(i), 'uint64'), 'U');
  const f = lowerTe('cast64', [X], [I, U]);
  const x = Float64Array.from([NaN, Infinity, -Infinity, 1e30, -2.9, 2.9]);
  await onBoth(f, () => [x.slice(), new BigInt64Array(6), new BigUint64Array(6)], ([, i, u], target) => {
    assert.deepEqual([...i!], [0n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 63n - 1n, -2n, 2n], `${target} int64`);
    assert.deepEqual([...u!], [0n, 2n ** 64n - 1n, 0n, 2n ** 64n - 1n, 0n, 2n], `${target} uint64`);
  });
});

test('softmax: reductions through scratch buffers and math intrinsics', async () => {
  const n = 4;
  const m = 10;
  const X = placeholder([n, m], 'float32', 'X');
  const k1 = reduceAxis(m, 'k1');
  const k2 = reduceAxis(m, 'k2');
  const Mx = compute([n], (i) => maxReduce(X.at(i, k1.var), [k1]), 'Mx');
  const E = compute([n, m], (i, j) => call('exp', [sub(X.at(i, j), Mx.at(i))]), 'E');
  const S = compute([n], (i) => sum(E.at(i, k2.var), [k2]), 'S');
  const Y = compute([n, m], (i, j) => div(E.at(i, j), S.at(i)), 'Y');
  const f = lowerTe('softmax', [X], [Y]);
  const r = rng(7);
  const x = Float32Array.from({ length: n * m }, () => r() * 8 - 4);
  await onBoth(f, () => [x.slice(), new Float32Array(n * m)], ([, y], target) => {
    for (let i = 0; i < n; i++) {
      const row = [...x.subarray(i * m, i * m + m)];
      const mx = Math.max(...row);
      const z = row.reduce((acc, v) => acc + Math.exp(v - mx), 0);
      for (let j = 0; j < m; j++) {
        const want = Math.exp(row[j]! - mx) / z;
        assert.ok(Math.abs(Number(y![i * m + j]) - want) < 1e-6, `${target} y[${i},${j}]`);
      }
    }
  });
});


test('exp, erf, tanh and sigmoid compiled into the wasm module (f64 scalar and f32x4 vector) match the JS ones', async () => {
  const values = [-800, -30, -5, -1, -1e-3, 0, 1e-6, 0.5, 2, 10, 80, 700, -0.25, 0.29, 0.31, 3];
  // 16 elements run as 4-lane vectors; 15 (not a multiple of 4) stay scalar.
  for (const n of [16, 15]) {
    const X = placeholder([n], 'float32', 'X');
    const fns = ['exp', 'erf', 'tanh', 'sigmoid'] as const;
    const outs = fns.map((fn) => compute([n], (i) => call(fn, [X.at(i)]), fn));
    const f = lowerTe('math', [X], outs);
    assert.equal(printPrimFunc(f).includes('vectorized'), n === 16, 'the vector path is taken exactly when expected');
    const x = Float32Array.from(values.slice(0, n));
    const ref: Record<string, (v: number) => number> = {
      exp: Math.exp, tanh: Math.tanh, sigmoid: (v) => 1 / (1 + Math.exp(-v)),
      erf: (v) => { // Abramowitz-Stegun 7.1.26, an independent approximation (absolute error below 1.5e-7)
        const t = 1 / (1 + 0.3275911 * Math.abs(v));
        const y = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-v * v);
        return v >= 0 ? y : -y;
      },
    };
    const w = [x.slice(), ...fns.map(() => new Float32Array(n))];
    await runWasmKernel(f, w);
    fns.forEach((fn, k) => {
      w[k + 1]!.forEach((got, i) => {
        const want = Math.fround(ref[fn]!(x[i]!));
        // erf's reference (Abramowitz-Stegun 7.1.26) is itself good to 1.5e-7 absolute; the
        // others within a few float32 ulps (2e-7 relative) on both paths.
        const tol = fn === 'erf' ? 3e-7 : 2e-7 * Math.abs(want) + 1e-30;
        assert.ok(got === want || Math.abs(got - want) <= tol, `n=${n}: ${fn}(${x[i]}) = ${got}, want ${want}`);
      });
    });
  }
});

test('a blocked padding stage (select on a lane-invariant bound, load inside) runs as SIMD and never reads outside its input', async () => {
  const { vectorizable } = await import('../../src/codegen/wasm/registers.js');
  // X[C, H, 4] padded by one row on each side: the condition depends on the row, not the lane.
  const C = 3, H = 5;
  const X = placeholder([C, H, 4], 'float32', 'X');
  const P = compute([C, H + 2, 4], (c, h, l) => select(and(compare('ge', h!, int(1)), compare('lt', h!, int(H + 1))), X.at(c!, sub(h!, int(1)), l!), float(0)), 'P');
  const func = lowerTe('pad', [X], [P]);
  let vectorLoops = 0;
  const visit = (s: import('../../src/tir/stmt.js').Stmt): void => {
    if (s.kind === 'for') {
      if (s.forKind === 'vectorized' && vectorizable(s.body, s.loopVar.id, () => false, () => false)) vectorLoops++;
      visit(s.body);
    } else if (s.kind === 'seq') s.stmts.forEach(visit);
    else if (s.kind === 'allocate') visit(s.body);
  };
  visit(func.body);
  assert.equal(vectorLoops, 1, printPrimFunc(func));
  await onBoth(func, () => [Float32Array.from({ length: C * H * 4 }, (_, i) => i + 1), new Float32Array(C * (H + 2) * 4)], (args, target) => {
    const [x, p] = args as [Float32Array, Float32Array];
    for (let c = 0; c < C; c++) for (let h = 0; h < H + 2; h++) for (let l = 0; l < 4; l++) {
      const want = h >= 1 && h <= H ? x[(c * H + h - 1) * 4 + l]! : 0;
      assert.equal(p[(c * (H + 2) + h) * 4 + l], want, `${target} P[${c}, ${h}, ${l}]`);
    }
  });
});

test('the wasm f32x4 erf (a rational approximation) is within 4e-7 of erf over [-6, 6]', async () => {
  // Reference: the Maclaurin series in double precision (|x| < 3.5; its cancellation error
  // stays below 1e-9 there), and 1 - erfc by a continued fraction beyond.
  const erfRef = (x: number): number => {
    const a = Math.abs(x);
    let r: number;
    if (a < 3.5) {
      let term = a, sum = a;
      for (let n = 1; n < 200 && Math.abs(term) > 1e-17; n++) {
        term *= -a * a / n;
        sum += term / (2 * n + 1);
      }
      r = (2 / Math.sqrt(Math.PI)) * sum;
    } else {
      let f = 0;
      for (let k = 60; k >= 1; k--) f = (k / 2) / (a + f);
      r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f);
    }
    return x < 0 ? -r : r;
  };
  const n = 4800;
  const X = placeholder([n], 'float32', 'X');
  const f = lowerTe('erf', [X], [compute([n], (i) => call('erf', [X.at(i)]), 'erf')]);
  const x = Float32Array.from({ length: n }, (_, i) => -6 + (12 * i) / (n - 1));
  const y = new Float32Array(n);
  await runWasmKernel(f, [x, y]);
  let worst = 0;
  y.forEach((got, i) => { worst = Math.max(worst, Math.abs(got - erfRef(x[i]!))); });
  assert.ok(worst <= 4e-7, `max |erf error| ${worst}`);
  // NaN stays NaN (the clamp's min/max propagate it).
  const X4 = placeholder([4], 'float32', 'X');
  const z = new Float32Array(4);
  await runWasmKernel(lowerTe('erf4', [X4], [compute([4], (i) => call('erf', [X4.at(i)]), 'e')]), [Float32Array.of(NaN, 0, 10, -10), z]);
  assert.ok(Number.isNaN(z[0]!));
  assert.deepEqual([...z.slice(1)].map((v) => Math.round(v * 1e6) / 1e6), [0, 1, -1]);
});

test('vector min/max against a lane-invariant bound (ReLU, Clip) keep NaN and match on every other value', async () => {
  const X = placeholder([16], 'float32', 'X');
  const Lo = placeholder([1], 'float32', 'Lo');
  const Hi = placeholder([1], 'float32', 'Hi');
  const R = compute([16], (i) => max(X.at(i), float(0)), 'R');
  const C = compute([16], (i) => min(max(X.at(i), Lo.at(int(0))), Hi.at(int(0))), 'C');
  const L = compute([16], (i) => min(float(0.5), X.at(i)), 'L'); // the bound first
  const f = lowerTe('clamps', [X, Lo, Hi], [R, C, L]);
  assert.ok(printPrimFunc(f).includes('vectorized'));
  const x = Float32Array.from([NaN, -3, -0.5, 0, 0.25, 0.5, 0.75, 6, 7, -7, 1e30, -1e30, Infinity, -Infinity, 2, NaN]);
  await onBoth(f, () => [x.slice(), Float32Array.of(-1), Float32Array.of(6), new Float32Array(16), new Float32Array(16), new Float32Array(16)], (args, target) => {
    const [, , , r, c, l] = args as Float32Array[];
    x.forEach((v, i) => {
      const want = [Math.max(v, 0), Math.min(Math.max(v, -1), 6), Math.min(0.5, v)];
      [r!, c!, l!].forEach((out, k) => {
        const got = out[i]!;
        assert.ok(Number.isNaN(want[k]!) ? Number.isNaN(got) : got === want[k], `${target} ${['relu', 'clip', 'min'][k]}(${v}) = ${got}, want ${want[k]}`);
      });
    });
  });
});

test('the wasm f32x4 exp near the ends of the float32 range: finite up to ln(FLT_MAX), +inf beyond, never NaN', async () => {
  const values = [88.72283, 88.72284, 88.7228, 88.5, 88.376, 88.0, 89, 1e10, -87.3365, -87.33654, -87.3366, -87.0, -86.5, -103, -1e10, NaN];
  const X = placeholder([16], 'float32', 'X');
  const f = lowerTe('exp16', [X], [compute([16], (i) => call('exp', [X.at(i)]), 'E')]);
  const x = Float32Array.from(values);
  const out = new Float32Array(16);
  await runWasmKernel(f, [x, out]);
  x.forEach((v, i) => {
    const got = out[i]!;
    const want = Math.fround(Math.exp(v));
    if (Number.isNaN(v)) assert.ok(Number.isNaN(got), `exp(NaN) = ${got}`);
    else if (want === Infinity) assert.equal(got, Infinity, `exp(${v})`);
    // Below ln(2^-126) the result flushes to 0 (documented in mathlib); above, 2e-7 relative.
    else if (v < -87.33654) assert.ok(got === 0 || Math.abs(got - want) <= 1.2e-38, `exp(${v}) = ${got}`);
    else assert.ok(Math.abs(got - want) <= 2e-7 * want, `exp(${v}) = ${got}, want ${want}`);
  });
});

test('loop-invariant divisions and math calls are computed once per row and give the same results', async () => {
  // out[i, j] = (x[i, j] - m[i]) * (1 / sqrt(v[i] + eps)): the reciprocal square root is
  // invariant in the j loop (hoisted); a guarded division by a row value stays in place.
  const R = 5, C = 12;
  const X = placeholder([R, C], 'float32', 'X');
  const M = placeholder([R], 'float32', 'M');
  const V = placeholder([R], 'float32', 'V');
  const O = compute([R, C], (i, j) => mul(sub(X.at(i!, j!), M.at(i!)), div(float(1), call('sqrt', [add(V.at(i!), float(1e-5))]))), 'O');
  const G = compute([R, C], (i, j) => select(compare('gt', V.at(i!), float(0.5)), div(X.at(i!, j!), V.at(i!)), float(0)), 'G');
  const f = lowerTe('rows', [X, M, V], [O, G]);
  const r = rng(7);
  const x = Float32Array.from({ length: R * C }, () => r() * 4 - 2);
  const m = Float32Array.from({ length: R }, () => r() - 0.5);
  const v = Float32Array.from({ length: R }, () => r());
  await onBoth(f, () => [x.slice(), m.slice(), v.slice(), new Float32Array(R * C), new Float32Array(R * C)], (args, target) => {
    const [, , , o, g] = args as Float32Array[];
    for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) {
      const want = (x[i * C + j]! - m[i]!) * (1 / Math.sqrt(v[i]! + 1e-5));
      assert.ok(Math.abs(o![i * C + j]! - want) <= 1e-5 * Math.abs(want) + 1e-6, `${target} O[${i},${j}]`);
      const wantG = v[i]! > 0.5 ? x[i * C + j]! / v[i]! : 0;
      assert.ok(Math.abs(g![i * C + j]! - wantG) <= 1e-6 * Math.abs(wantG), `${target} G[${i},${j}]`);
    }
  });
});

/**
 * Reductions (src/ops/reduce.ts) against naive references through runOp, and their
 * ONNX converters (src/frontend/onnx/ops/reduce.ts) across the opset change of axes
 * from attribute to input.
 *
 * Tolerance for float32: |got - want| <= ATOL + RTOL * |want|, RTOL = 1e-5, ATOL = 1e-5
 * (double-precision reference; kernels accumulate in float32). Integer results are exact.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runOp, inferOp, runModel } from '../helpers/run_op.js';
import { rng, randTensor } from '../helpers/random.js';
import { size, forEachIndex } from '../helpers/shape.js';
import { assertOpError, expectNodeError } from '../helpers/assert.js';
import { makeModel } from '../../src/frontend/onnx/model_builder.js';
import { Tensor } from '../../src/runtime/tensor.js';
import type { DType } from '../../src/runtime/dtype.js';
import { importOnnx } from '../../src/frontend/onnx/importer.js';

const RTOL = 1e-5;
const ATOL = 1e-5;


function randInts(dims: number[], seed: number, dtype: DType, lo: number, hi: number): Tensor {
  const r = rng(seed);
  const vals = Array.from({ length: size(dims) }, () => Math.floor(r(lo, hi)));
  return new Tensor(dtype, dtype === 'int64' ? vals.map((v) => BigInt(v)) : vals, dims);
}

type Kind = 'ReduceSum' | 'ReduceMean' | 'ReduceMax' | 'ReduceMin' | 'ReduceProd';
const KINDS: Kind[] = ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd'];

/** Reference reduction; `axes` empty = all axes (noop handled by the caller). */
function refReduce(kind: Kind, x: Tensor, axes: number[], keepdims: boolean): { data: number[]; dims: number[] } {
  const r = x.dims.length;
  const ax = (axes.length ? axes : x.dims.map((_, i) => i)).map((a) => (a < 0 ? a + r : a));
  const outFull = x.dims.map((d, i) => (ax.includes(i) ? 1 : d));
  const acc = new Map<number, number[]>();
  const st: number[] = [];
  let s = 1;
  for (let i = r - 1; i >= 0; i--) { st[i] = s; s *= outFull[i]!; }
  forEachIndex(x.dims, (idx) => {
    const key = idx.reduce((o, v, i) => o + (ax.includes(i) ? 0 : v * st[i]!), 0);
    const flat = idx.reduce((o, v, i) => o * x.dims[i]! + v, 0);
    (acc.get(key) ?? acc.set(key, []).get(key)!).push(Number(x.data[flat]));
  });
  const data: number[] = [];
  for (let k = 0; k < size(outFull); k++) {
    const v = acc.get(k) ?? [];
    switch (kind) {
      case 'ReduceSum': data.push(v.reduce((a, b) => a + b, 0)); break;
      case 'ReduceMean': data.push(v.reduce((a, b) => a + b, 0) / v.length); break;
      case 'ReduceMax': data.push(Math.max(...v)); break;
      case 'ReduceMin': data.push(Math.min(...v)); break;
      case 'ReduceProd': data.push(v.reduce((a, b) => a * b, 1)); break;
    }
  }
  const dims = keepdims ? outFull : x.dims.filter((_, i) => !ax.includes(i));
  return { data, dims };
}

function assertClose(got: Tensor, want: ArrayLike<number>, dims: readonly number[], what: string, exact = false): void {
  assert.deepEqual(got.dims, [...dims], `${what}: shape`);
  assert.equal(got.size, want.length, `${what}: size`);
  for (let i = 0; i < want.length; i++) {
    const g = Number(got.data[i]), w = want[i]!;
    if (exact) assert.equal(g + 0, w + 0, `${what}[${i}]`); // + 0: -0 and 0 are the same integer
    else assert.ok(g === w || Math.abs(g - w) <= ATOL + RTOL * Math.abs(w), `${what}[${i}]: got ${g}, want ${w}`);
  }
}

const AXES: number[][] = [[1], [0, 2], [-1], [2, 0, 1], []];

for (const kind of KINDS) {
  describe(kind, () => {
    for (const axes of AXES) for (const keepdims of [1, 0]) {
      it(`float32 [3,4,5] axes [${axes}] keepdims=${keepdims}`, () => {
        // Prod: values near 1 keep the product well scaled.
        const x = kind === 'ReduceProd' ? randTensor([3, 4, 5], 7, 0.8, 1.25) : randTensor([3, 4, 5], 7);
        const ref = refReduce(kind, x, axes, keepdims === 1);
        const [y] = runOp(kind, [x], { axes, keepdims });
        assertClose(y!, ref.data, ref.dims, kind);
      });
    }

    it('integer dtypes are exact (int32, int64)', () => {
      for (const dtype of ['int32', 'int64'] as const) {
        const x = randInts([2, 3, 4], 11, dtype, -4, 5);
        const ref = refReduce(kind, x, [1], false);
        // ONNX integer ReduceMean truncates toward zero.
        const want = kind === 'ReduceMean' ? ref.data.map((v) => Math.trunc(v)) : ref.data;
        const [y] = runOp(kind, [x], { axes: [1], keepdims: 0 });
        assert.equal(y!.type, dtype);
        assertClose(y!, want, ref.dims, `${kind} ${dtype}`, true);
      }
    });

    it('noop_with_empty_axes=1 with empty axes is the identity', () => {
      const x = randTensor([2, 3], 13);
      const [y] = runOp(kind, [x], { axes: [], noop_with_empty_axes: 1 });
      assertClose(y!, Array.from(x.data as Float32Array), [2, 3], `${kind} noop`, true);
    });
  });
}

describe('reduce shape rule', () => {
  it('symbolic dims flow; axis errors', () => {
    const f = (shape: (number | string)[]) => ({ dtype: 'float32' as const, shape });
    assert.deepEqual(inferOp('ReduceMean', [f(['N', 3, 'S'])], { axes: [-1], keepdims: 1 })[0]!.shape, ['N', 3, 1]);
    assert.deepEqual(inferOp('ReduceSum', [f(['N', 3, 'S'])], { axes: [2], keepdims: 0 })[0]!.shape, ['N', 3]);
    assert.deepEqual(inferOp('ReduceMax', [f([2, 3])], { keepdims: 0 })[0]!.shape, []);
    assertOpError(() => inferOp('ReduceSum', [f([2, 3])], { axes: [2] }), /axis 2 is out of range for rank 2/);
    assertOpError(() => inferOp('ReduceSum', [f([2, 3])], { axes: [1, -1] }), /axes \[1, -1\] contains duplicates/);
    assertOpError(() => inferOp('ReduceMin', [{ dtype: 'bool', shape: [2] }], {}), /dtype bool/);
  });

  it('reduces a size-1 axis and a rank-1 tensor to a scalar', () => {
    const x = randTensor([4, 1], 21);
    assertClose(runOp('ReduceSum', [x], { axes: [1], keepdims: 0 })[0]!, Array.from(x.data as Float32Array), [4], 'size-1 axis');
    const v = randTensor([6], 22);
    const total = Array.from(v.data as Float32Array).reduce((a, b) => a + b, 0);
    assertClose(runOp('ReduceSum', [v], { keepdims: 0 })[0]!, [total], [], 'to scalar');
  });
});

// ------------------------------------------------------------------ converters

const f32 = (name: string, shape: (number | string)[]) => ({ name, dtype: 'float32' as const, shape });
const i64 = (vals: number[]) => new Tensor('int64', vals.map((v) => BigInt(v)), [vals.length]);

describe('ONNX converters (reduce)', () => {
  it('ReduceSum: axes attribute before 13, constant input from 13 (absent = all, or noop)', async () => {
    const x = randTensor([2, 3, 4], 30);
    const attrModel = makeModel({
      nodes: [{ op: 'ReduceSum', inputs: ['x'], outputs: ['y'], attrs: { axes: [1], keepdims: 0 } }],
      inputs: [f32('x', [2, 3, 4])], outputs: [f32('y', [2, 4])], opset: 11,
    });
    const inputModel = makeModel({
      nodes: [{ op: 'ReduceSum', inputs: ['x', 'a'], outputs: ['y'], attrs: { keepdims: 0 } }],
      inputs: [f32('x', [2, 3, 4])], outputs: [f32('y', [2, 4])], initializers: { a: i64([-2]) }, opset: 13,
    });
    const ref = refReduce('ReduceSum', x, [1], false);
    assertClose((await runModel(attrModel, { x }))['y']!, ref.data, ref.dims, 'ReduceSum opset 11');
    assertClose((await runModel(inputModel, { x }))['y']!, ref.data, ref.dims, 'ReduceSum opset 13');
    const all = importOnnx(makeModel({
      nodes: [{ op: 'ReduceSum', inputs: ['x'], outputs: ['y'] }],
      inputs: [f32('x', [2, 3, 4])], outputs: [f32('y', [1, 1, 1])], opset: 13,
    }));
    assert.deepEqual(all.outputs[0]!.type.shape, [1, 1, 1]);
    const noop = importOnnx(makeModel({
      nodes: [{ op: 'ReduceSum', inputs: ['x'], outputs: ['y'], attrs: { noop_with_empty_axes: 1 } }],
      inputs: [f32('x', [2, 3, 4])], outputs: [f32('y', [2, 3, 4])], opset: 13,
    }));
    assert.deepEqual(noop.outputs[0]!.type.shape, [2, 3, 4]);
    expectNodeError(() => importOnnx(makeModel({
      nodes: [{ op: 'ReduceSum', inputs: ['x', 'a'], outputs: ['y'], name: 'rsum' }],
      inputs: [f32('x', [2, 3]), { name: 'a', dtype: 'int64', shape: [1] }], outputs: [f32('y', [2, 1])], opset: 13,
    })), /node 'rsum' \(ReduceSum, opset 13\): input 'a' \(axes\) is needed as a constant/);
  });

  it('ReduceMean/Max/Min/Prod: axes attribute until 17, input from 18', () => {
    for (const op of ['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd']) {
      const g13 = importOnnx(makeModel({
        nodes: [{ op, inputs: ['x'], outputs: ['y'], attrs: { axes: [0, 2] } }],
        inputs: [f32('x', [2, 3, 4])], outputs: [f32('y', [1, 3, 1])], opset: 13,
      }));
      assert.deepEqual(g13.nodes[0]!.attrs, { axes: [0, 2], keepdims: 1, noop_with_empty_axes: 0 });
      const g18 = importOnnx(makeModel({
        nodes: [{ op, inputs: ['x', 'a'], outputs: ['y'], attrs: { keepdims: 0 } }],
        inputs: [f32('x', [2, 3, 4])], outputs: [f32('y', [3])], initializers: { a: i64([0, 2]) }, opset: 18,
      }));
      assert.deepEqual(g18.outputs[0]!.type.shape, [3]);
      expectNodeError(() => importOnnx(makeModel({
        nodes: [{ op, inputs: ['x'], outputs: ['y'], attrs: { axes: [0] } }],
        inputs: [f32('x', [2, 3])], outputs: [f32('y', [1, 3])], opset: 18,
      })), /Reduce\w+-18 has no attribute 'axes'/);
      expectNodeError(() => importOnnx(makeModel({
        nodes: [{ op, inputs: ['x', 'a'], outputs: ['y'] }],
        inputs: [f32('x', [2, 3])], outputs: [f32('y', [1, 3])], initializers: { a: i64([0]) }, opset: 13,
      })), /it has 2 inputs; Reduce\w+-13 takes 1 \(data\)/);
    }
  });
});

/**
 * Indexing, shape and resampling operators (src/ops/indexing.ts) against naive
 * references on seeded random inputs, through the real compiler path (runOp: TE →
 * loop IR → default schedule → JS codegen), plus their ONNX converters
 * (src/frontend/onnx/ops/indexing.ts) through import → compile → run on both targets.
 *
 * Resize is checked against a port of the ONNX reference implementation
 * (onnx/reference/ops/op_resize.py: per-dim 1-D interpolation, innermost dim first,
 * neighbors picked from an edge-padded row), so the coordinate transforms, rounding
 * modes and cubic coefficients are checked independently of the op's formulation.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runOp, inferOp, runModel as runModelOn } from '../helpers/run_op.js';
import { rng, randTensor } from '../helpers/random.js';
import { size, strides, forEachIndex, at } from '../helpers/shape.js';
import { assertClose as assertCloseTol, assertOpError, expectNodeError } from '../helpers/assert.js';
import { makeModel, type NodeSpec, type ValueSpec } from '../helpers/onnx_model.js';
import { Tensor } from '../../src/runtime/tensor.js';
import type { DType } from '../../src/runtime/dtype.js';
import type { Attrs } from '../../src/graph/ir.js';
import { importOnnx } from '../../src/frontend/onnx/importer.js';

const runModel = (bytes: Uint8Array, feeds: Record<string, Tensor>, target: string = 'js'): Promise<Record<string, Tensor>> => runModelOn(bytes, feeds, target, true);

const RTOL = 1e-5;
const ATOL = 1e-5;

const assertClose = (got: Tensor, want: ArrayLike<number>, dims: readonly number[], what: string, atol = ATOL, rtol = RTOL): void =>
  assertCloseTol(got, want, dims, what, { rtol, atol });

/** Random integers in [lo, hi] as a tensor of `dtype`. */
function randInts(dims: number[], seed: number, lo: number, hi: number, dtype: DType = 'int64'): Tensor {
  const r = rng(seed);
  const vals = Array.from({ length: size(dims) }, () => Math.min(hi, Math.floor(r(lo, hi + 1))));
  return new Tensor(dtype, dtype === 'int64' ? vals.map((v) => BigInt(v)) : vals, dims);
}

/** Runs a one-node model on both targets and returns the js outputs, checking wasm agrees exactly. */
async function runBoth(spec: Parameters<typeof makeModel>[0], feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const bytes = makeModel(spec);
  const js = await runModel(bytes, feeds, 'js');
  const wasm = await runModel(bytes, feeds, 'wasm');
  for (const [k, v] of Object.entries(js)) {
    assert.deepEqual(wasm[k]!.dims, v.dims, `${k}: wasm shape`);
    assert.deepEqual(Array.from(wasm[k]!.data as ArrayLike<number>, Number), Array.from(v.data as ArrayLike<number>, Number), `${k}: wasm vs js`);
  }
  return js;
}

const vs = (name: string, dtype: DType, shape: (number | string)[]): ValueSpec => ({ name, dtype, shape });
const f32 = (name: string, shape: (number | string)[]): ValueSpec => vs(name, 'float32', shape);
const i64 = (values: number[], dims = [values.length]): Tensor => new Tensor('int64', values.map((v) => BigInt(v)), dims);
const numbers = (t: Tensor): number[] => Array.from(t.data as ArrayLike<number | bigint>, Number);

// ------------------------------------------------------------------ Shape, Size, ConstantOfShape, Range, EyeLike

describe('Shape and Size', () => {
  it('Shape op: [start, end) of the input dims as int64', () => {
    const x = randTensor([2, 3, 4, 5], 1);
    for (const [s, e] of [[0, 4], [1, 3], [2, 2], [3, 4]] as const) {
      const [y] = runOp('Shape', [x], { start: s, end: e });
      assert.equal(y!.type, 'int64');
      assert.deepEqual(numbers(y!), [2, 3, 4, 5].slice(s, e));
    }
    assert.deepEqual(inferOp('Shape', [{ dtype: 'float32', shape: ['batch', 3] }], { start: 0, end: 2 }), [{ dtype: 'int64', shape: [2] }]);
    assertOpError(() => inferOp('Shape', [{ dtype: 'float32', shape: [1, 2] }], { start: 1, end: 3 }), /start 1 and end 3/);
  });

  it('Size op: the element count as an int64 scalar', () => {
    const [y] = runOp('Size', [randTensor([3, 4, 5], 2)]);
    assert.deepEqual(y!.dims, []);
    assert.deepEqual(numbers(y!), [60]);
  });

  it('converters: concrete shapes become constants (negative/clipped start and end), symbolic ones an op', async () => {
    const cases: [Record<string, number>, number[]][] = [
      [{}, [3, 4, 5]], [{ start: 1 }, [4, 5]], [{ end: -1 }, [3, 4]], [{ start: -10 }, [3, 4, 5]], [{ end: 10 }, [3, 4, 5]],
      [{ start: 1, end: -1 }, [4]], [{ start: 2, end: 1 }, []],
    ];
    for (const [attrs, want] of cases) {
      const bytes = makeModel({
        nodes: [{ op: 'Shape', inputs: ['x'], outputs: ['y'], attrs }],
        inputs: [f32('x', [3, 4, 5])], outputs: [vs('y', 'int64', [want.length])], opset: 15,
      });
      const g = importOnnx(bytes);
      assert.equal(g.nodes.length, 0, 'no Shape node: the value is a constant');
      const out = await runModel(bytes, { x: randTensor([3, 4, 5], 3) });
      assert.deepEqual(numbers(out['y']!), want, JSON.stringify(attrs));
    }
    const sym = importOnnx(makeModel({
      nodes: [{ op: 'Shape', inputs: ['x'], outputs: ['s'] }, { op: 'Size', inputs: ['x'], outputs: ['n'] }],
      inputs: [f32('x', ['batch', 4])], outputs: [vs('s', 'int64', [2]), vs('n', 'int64', [])], opset: 13,
    }));
    assert.deepEqual(sym.nodes.map((n) => n.op), ['Shape', 'Size']);
    const sizeBytes = makeModel({
      nodes: [{ op: 'Size', inputs: ['x'], outputs: ['n'] }], inputs: [f32('x', [2, 3])], outputs: [vs('n', 'int64', [])], opset: 13,
    });
    assert.deepEqual(numbers((await runModel(sizeBytes, { x: randTensor([2, 3], 4) }))['n']!), [6]);
  });
});

describe('ConstantOfShape, Range, EyeLike', () => {
  it('ConstantOfShape: op and converter (value tensor, default float zero, empty dims)', async () => {
    const [y] = runOp('ConstantOfShape', [], { shape: [2, 3], value: 7, dtype: 'int32' });
    assert.equal(y!.type, 'int32');
    assert.deepEqual(numbers(y!), [7, 7, 7, 7, 7, 7]);
    for (const [value, shape, dtype] of [[new Tensor('float32', [1.5], [1]), [2, 2], 'float32'], [undefined, [3], 'float32'], [new Tensor('int64', [3n], [1]), [0, 2], 'int64']] as const) {
      const bytes = makeModel({
        nodes: [{ op: 'ConstantOfShape', inputs: ['s'], outputs: ['y'], attrs: value ? { value } : {} }],
        inputs: [], outputs: [vs('y', dtype, [...shape])], initializers: { s: i64([...shape]) }, opset: 9,
      });
      const out = (await runModel(bytes, {}))['y']!;
      assert.equal(out.type, dtype);
      assert.deepEqual(out.dims, [...shape]);
      assert.ok(numbers(out).every((v) => v === (value ? Number(value.data[0]) : 0)));
    }
  });

  it('Range: start + i * delta in the output dtype (float, int, negative delta, empty)', async () => {
    for (const [start, limit, delta, dtype] of [[1, 5, 0.7, 'float32'], [10, -3, -3, 'int32'], [3, 3, 1, 'int64'], [0.5, 2.5, 0.25, 'float64']] as const) {
      const n = Math.max(Math.ceil((limit - start) / delta), 0);
      const [y] = runOp('Range', [], { start, limit, delta, dtype });
      const want = Array.from({ length: n }, (_, i) => (dtype === 'float32' ? Math.fround(start + Math.fround(i * delta)) : start + i * delta));
      assertClose(y!, want, [n], `Range ${start} ${limit} ${delta}`, 0, 1e-7);
    }
    const scalar = (dtype: DType, v: number): Tensor => new Tensor(dtype, dtype === 'int64' ? [BigInt(v)] : [v], []);
    const bytes = makeModel({
      nodes: [{ op: 'Range', inputs: ['a', 'b', 'c'], outputs: ['y'] }], inputs: [], outputs: [vs('y', 'int64', [4])],
      initializers: { a: scalar('int64', 10), b: scalar('int64', 2), c: scalar('int64', -2) }, opset: 11,
    });
    assert.deepEqual(numbers((await runModel(bytes, {}))['y']!), [10, 8, 6, 4]);
  });

  it('EyeLike: diagonal k, dtype from the attribute or the input', async () => {
    for (const [rows, cols, k] of [[4, 5, 1], [3, 3, 0], [5, 3, -2], [2, 4, 7]] as const) {
      const [y] = runOp('EyeLike', [randTensor([rows, cols], 5)], { k, dtype: 'float64' });
      const want: number[] = [];
      forEachIndex([rows, cols], ([i, j]) => want.push(j! - i! === k ? 1 : 0));
      assert.equal(y!.type, 'float64');
      assertClose(y!, want, [rows, cols], `EyeLike ${rows}x${cols} k=${k}`);
    }
    const out = await runBoth({
      nodes: [{ op: 'EyeLike', inputs: ['x'], outputs: ['y'], attrs: { k: -1 } }],
      inputs: [vs('x', 'int32', [3, 3])], outputs: [vs('y', 'int32', [3, 3])], opset: 9,
    }, { x: new Tensor('int32', new Int32Array(9), [3, 3]) });
    assert.deepEqual(numbers(out['y']!), [0, 0, 0, 1, 0, 0, 0, 1, 0]);
  });
});

// ------------------------------------------------------------------ gathers

function wrap(i: number, n: number): number {
  return i < 0 ? i + n : i;
}

describe('GatherElements and GatherND', () => {
  it('GatherElements: every axis, negative indices, indices smaller than data', () => {
    const data = randTensor([3, 4, 5], 10);
    for (const axis of [0, 1, 2, -1]) {
      const a = wrap(axis, 3);
      const idims = [2, 3, 4];
      const indices = randInts(idims, 11 + a, -data.dims[a]!, data.dims[a]! - 1);
      const [y] = runOp('GatherElements', [data, indices], { axis });
      const want: number[] = [];
      forEachIndex(idims, (o) => {
        const src = [...o];
        src[a] = wrap(at(indices, o), data.dims[a]!);
        want.push(at(data, src));
      });
      assertClose(y!, want, idims, `GatherElements axis ${axis}`);
    }
    assertOpError(() => inferOp('GatherElements', [{ dtype: 'float32', shape: [2, 2] }, { dtype: 'int64', shape: [2] }], {}), /rank/);
  });

  it('GatherND: batch_dims 0 and 1, partial and full index tuples', () => {
    const cases: { data: number[]; indices: number[]; b: number }[] = [
      { data: [4, 3, 5], indices: [2, 3, 2], b: 0 },
      { data: [4, 3, 5], indices: [6, 3], b: 0 },
      { data: [4, 3, 5], indices: [4, 2, 1], b: 1 },
      { data: [2, 3, 4, 2], indices: [2, 3, 2], b: 2 },
    ];
    cases.forEach(({ data: dd, indices: id, b }, ci) => {
      const data = randTensor(dd, 20 + ci);
      const m = id[id.length - 1]!;
      const r = rng(30 + ci);
      const vals: number[] = [];
      forEachIndex(id, (idx) => {
        const dim = dd[b + idx[idx.length - 1]!]!;
        vals.push(Math.floor(r(-dim, dim)));
      });
      const indices = i64(vals, id);
      const [y] = runOp('GatherND', [data, indices], { batch_dims: b });
      const outDims = [...id.slice(0, -1), ...dd.slice(b + m)];
      const want: number[] = [];
      forEachIndex(outDims, (o) => {
        const lead = o.slice(0, id.length - 1);
        const picked = Array.from({ length: m }, (_, j) => wrap(at(indices, [...lead, j]), dd[b + j]!));
        want.push(at(data, [...o.slice(0, b), ...picked, ...o.slice(id.length - 1)]));
      });
      assertClose(y!, want, outDims, `GatherND case ${ci}`);
    });
  });

  it('converters: GatherElements-11 and GatherND-12 on both targets', async () => {
    const data = randTensor([3, 3], 40);
    const indices = i64([1, 2, 0, 2, 0, -1], [2, 3]);
    const out = await runBoth({
      nodes: [{ op: 'GatherElements', inputs: ['d', 'i'], outputs: ['y'], attrs: { axis: 0 } }],
      inputs: [f32('d', [3, 3]), vs('i', 'int64', [2, 3])], outputs: [f32('y', [2, 3])], opset: 13,
    }, { d: data, i: indices });
    assertClose(out['y']!, [at(data, [1, 0]), at(data, [2, 1]), at(data, [0, 2]), at(data, [2, 0]), at(data, [0, 1]), at(data, [2, 2])], [2, 3], 'GatherElements via ONNX');
    const nd = await runBoth({
      nodes: [{ op: 'GatherND', inputs: ['d', 'i'], outputs: ['y'], attrs: { batch_dims: 1 } }],
      inputs: [f32('d', [3, 3]), vs('i', 'int64', [3, 1])], outputs: [f32('y', [3])], opset: 13,
    }, { d: data, i: i64([2, 0, 1], [3, 1]) });
    assertClose(nd['y']!, [at(data, [0, 2]), at(data, [1, 0]), at(data, [2, 1])], [3], 'GatherND via ONNX');
  });
});

// ------------------------------------------------------------------ scatters

type Red = 'none' | 'add' | 'mul' | 'max' | 'min';
function combine(red: Red, a: number, b: number): number {
  switch (red) {
    case 'none': return b;
    case 'add': return Math.fround(a + b);
    case 'mul': return Math.fround(a * b);
    case 'max': return Math.max(a, b);
    case 'min': return Math.min(a, b);
  }
}

function refScatterElements(data: Tensor, indices: Tensor, updates: Tensor, axis: number, red: Red): number[] {
  const out = numbers(data);
  const st = strides(data.dims);
  forEachIndex(indices.dims, (u) => {
    const dst = [...u];
    dst[axis] = wrap(at(indices, u), data.dims[axis]!);
    const k = dst.reduce((a, v, d) => a + v * st[d]!, 0);
    out[k] = combine(red, out[k]!, at(updates, u));
  });
  return out;
}

function refScatterND(data: Tensor, indices: Tensor, updates: Tensor, red: Red): number[] {
  const out = numbers(data);
  const st = strides(data.dims);
  const q = indices.dims.length;
  const k = indices.dims[q - 1]!;
  const rest = data.dims.slice(k);
  forEachIndex(indices.dims.slice(0, -1), (u) => {
    const p = Array.from({ length: k }, (_, j) => wrap(at(indices, [...u, j]), data.dims[j]!));
    forEachIndex(rest, (r) => {
      const dst = [...p, ...r];
      const off = dst.reduce((a, v, d) => a + v * st[d]!, 0);
      out[off] = combine(red, out[off]!, at(updates, [...u, ...r]));
    });
  });
  return out;
}

describe('ScatterElements and ScatterND', () => {
  it('ScatterElements: reductions none/add/mul/max/min with duplicate and negative indices, every axis', () => {
    const data = randTensor([4, 5, 3], 50, 0.5, 1.5);
    for (const axis of [0, 1, 2]) {
      const idims = [3, 4, 3];
      idims[axis] = 6; // more updates than the axis holds: duplicates
      const updates = randTensor(idims, 51 + axis, 0.5, 1.5);
      const n = data.dims[axis]!;
      for (const red of ['add', 'mul', 'max', 'min'] as const) {
        const indices = randInts(idims, 60 + axis, -n, n - 1);
        const [y] = runOp('ScatterElements', [data, indices, updates], { axis, reduction: red });
        assertClose(y!, refScatterElements(data, indices, updates, axis, red), data.dims, `ScatterElements axis ${axis} ${red}`, 1e-6, 1e-6);
      }
      // reduction none: the last write wins (the reference's order), also with duplicates
      const indices = randInts(idims, 70 + axis, -n, n - 1);
      const [y] = runOp('ScatterElements', [data, indices, updates], { axis });
      assertClose(y!, refScatterElements(data, indices, updates, axis, 'none'), data.dims, `ScatterElements axis ${axis} none`);
    }
    assertOpError(() => inferOp('ScatterElements', [{ dtype: 'float32', shape: [2] }, { dtype: 'int64', shape: [2] }, { dtype: 'float32', shape: [2] }], { reduction: 'xor' }), /reduction/);
  });

  it('ScatterND: full and partial index tuples, duplicates, all reductions', () => {
    const data = randTensor([4, 3, 5], 80, 0.5, 1.5);
    for (const [k, lead] of [[1, [5]], [2, [2, 4]], [3, [7]]] as const) {
      const idims = [...lead, k];
      const udims = [...lead, ...data.dims.slice(k)];
      const updates = randTensor(udims, 81 + k, 0.5, 1.5);
      const r = rng(90 + k);
      const vals: number[] = [];
      forEachIndex(idims, (idx) => {
        const dim = data.dims[idx[idx.length - 1]!]!;
        vals.push(Math.floor(r(-dim, dim)));
      });
      const indices = i64(vals, idims);
      for (const red of ['none', 'add', 'mul', 'max', 'min'] as const) {
        const [y] = runOp('ScatterND', [data, indices, updates], { reduction: red });
        assertClose(y!, refScatterND(data, indices, updates, red), data.dims, `ScatterND k=${k} ${red}`, 1e-6, 1e-6);
      }
    }
  });

  it('converters: Scatter-9, ScatterElements-16/18, ScatterND-16 on both targets; max needs opset 18', async () => {
    const data = randTensor([3, 3], 100);
    const indices = i64([1, 0, 2, 0, 2, 1], [2, 3]);
    const updates = randTensor([2, 3], 101);
    for (const [op, opset, attrs, red] of [
      ['Scatter', 9, { axis: 0 }, 'none'], ['ScatterElements', 16, { axis: 1, reduction: 'add' }, 'add'], ['ScatterElements', 18, { axis: 1, reduction: 'max' }, 'max'],
    ] as const) {
      const out = await runBoth({
        nodes: [{ op, inputs: ['d', 'i', 'u'], outputs: ['y'], attrs }],
        inputs: [f32('d', [3, 3]), vs('i', 'int64', [2, 3]), f32('u', [2, 3])], outputs: [f32('y', [3, 3])], opset,
      }, { d: data, i: indices, u: updates });
      assertClose(out['y']!, refScatterElements(data, indices, updates, attrs.axis, red), [3, 3], `${op}-${opset}`);
    }
    expectNodeError(() => importOnnx(makeModel({
      nodes: [{ op: 'ScatterElements', inputs: ['d', 'i', 'u'], outputs: ['y'], attrs: { reduction: 'max' } }],
      inputs: [f32('d', [3, 3]), vs('i', 'int64', [2, 3]), f32('u', [2, 3])], outputs: [f32('y', [3, 3])], opset: 16,
    })), /reduction 'max' at opset 16/);
    const nd = await runBoth({
      nodes: [{ op: 'ScatterND', inputs: ['d', 'i', 'u'], outputs: ['y'], attrs: { reduction: 'mul' } }],
      inputs: [f32('d', [3, 3]), vs('i', 'int64', [2, 1]), f32('u', [2, 3])], outputs: [f32('y', [3, 3])], opset: 16,
    }, { d: data, i: i64([2, 2], [2, 1]), u: updates });
    assertClose(nd['y']!, refScatterND(data, i64([2, 2], [2, 1]), updates, 'mul'), [3, 3], 'ScatterND-16 mul');
  });
});

// ------------------------------------------------------------------ Split, Tile, OneHot

describe('Split, Tile, OneHot', () => {
  it('Split op: consecutive slices along the axis (zero-size parts included)', () => {
    const x = randTensor([3, 7, 2], 110);
    for (const [axis, split] of [[1, [2, 0, 5]], [0, [1, 1, 1]], [-1, [2]]] as const) {
      const a = wrap(axis, 3);
      const outs = runOp('Split', [x], { axis, split: [...split] });
      let off = 0;
      outs.forEach((y, k) => {
        const dims = [...x.dims];
        dims[a] = split[k]!;
        const want: number[] = [];
        forEachIndex(dims, (o) => {
          const src = [...o];
          src[a] = o[a]! + off;
          want.push(at(x, src));
        });
        assertClose(y, want, dims, `Split axis ${axis} part ${k}`);
        off += split[k]!;
      });
    }
    assertOpError(() => inferOp('Split', [{ dtype: 'float32', shape: [6] }], { axis: 0, split: [2, 2] }), /sums to 4/);
  });

  it('Split converters: equal parts (opset 2, 13), split input (13), num_outputs with a smaller last part (18)', async () => {
    const x = randTensor([2, 7], 120);
    const run = async (opset: number, attrs: NodeSpec['attrs'], outDims: number[], init?: Record<string, Tensor>, extraIn: string[] = []): Promise<void> => {
      const outs = outDims.map((_, k) => `y${k}`);
      const res = await runBoth({
        nodes: [{ op: 'Split', inputs: ['x', ...extraIn], outputs: outs, attrs }],
        inputs: [f32('x', [2, 7])], outputs: outDims.map((d, k) => f32(`y${k}`, [2, d])), ...(init ? { initializers: init } : {}), opset,
      }, { x });
      let off = 0;
      outDims.forEach((d, k) => {
        const want: number[] = [];
        forEachIndex([2, d], ([i, j]) => want.push(at(x, [i!, j! + off])));
        assertClose(res[`y${k}`]!, want, [2, d], `Split-${opset} part ${k}`);
        off += d;
      });
    };
    await run(2, { axis: 1, split: [3, 4] }, [3, 4]);
    await run(13, { axis: 1 }, [4, 3], { s: i64([4, 3]) }, ['s']);
    await run(18, { axis: 1, num_outputs: 3 }, [3, 3, 1]);
    const seven = randTensor([2, 6], 121);
    const outs = await runBoth({
      nodes: [{ op: 'Split', inputs: ['x'], outputs: ['a', 'b', 'c'], attrs: { axis: -1 } }],
      inputs: [f32('x', [2, 6])], outputs: [f32('a', [2, 2]), f32('b', [2, 2]), f32('c', [2, 2])], opset: 13,
    }, { x: seven });
    assertClose(outs['c']!, [at(seven, [0, 4]), at(seven, [0, 5]), at(seven, [1, 4]), at(seven, [1, 5])], [2, 2], 'Split equal parts');
    expectNodeError(() => importOnnx(makeModel({
      nodes: [{ op: 'Split', inputs: ['x'], outputs: ['a', 'b'], attrs: { axis: 1 } }],
      inputs: [f32('x', [2, 7])], outputs: [f32('a', [2, 3]), f32('b', [2, 4])], opset: 13,
    })), /cannot be split into 2 equal parts/);
  });

  it('Tile: out[i] = x[i mod dims]; converter takes constant repeats', async () => {
    const x = randTensor([2, 3, 2], 130);
    const reps = [3, 1, 2];
    const [y] = runOp('Tile', [x], { repeats: reps });
    const dims = x.dims.map((d, i) => d * reps[i]!);
    const want: number[] = [];
    forEachIndex(dims, (o) => want.push(at(x, o.map((v, d) => v % x.dims[d]!))));
    assertClose(y!, want, dims, 'Tile');
    assert.deepEqual(inferOp('Tile', [{ dtype: 'float32', shape: ['n', 3] }], { repeats: [2, 1] })[0]!.shape, ['n*2', 3]);
    const out = await runBoth({
      nodes: [{ op: 'Tile', inputs: ['x', 'r'], outputs: ['y'] }],
      inputs: [f32('x', [2, 3, 2])], outputs: [f32('y', dims)], initializers: { r: i64(reps) }, opset: 13,
    }, { x });
    assertClose(out['y']!, want, dims, 'Tile via ONNX');
  });

  it('OneHot: every axis, negative and float indices, out-of-range indices give all off', async () => {
    const indices = new Tensor('float32', [0, 2.7, -1, 5, -3, 1, -6, 4], [2, 4]);
    const values = new Tensor('float32', [-2, 3.5], [2]);
    const depth = 5;
    for (const axis of [0, 1, 2, -1, -3]) {
      const a = wrap(axis, 3);
      const [y] = runOp('OneHot', [indices, values], { axis, depth });
      const dims = [2, 4];
      dims.splice(a, 0, depth);
      const want: number[] = [];
      forEachIndex(dims, (o) => {
        let i = Math.trunc(at(indices, o.filter((_, d) => d !== a)));
        if (i < 0) i += depth;
        want.push(i === o[a] ? 3.5 : -2);
      });
      assertClose(y!, want, dims, `OneHot axis ${axis}`);
    }
    const out = await runBoth({
      nodes: [{ op: 'OneHot', inputs: ['i', 'd', 'v'], outputs: ['y'], attrs: { axis: 0 } }],
      inputs: [vs('i', 'int64', [3]), vs('v', 'int32', [2])], outputs: [vs('y', 'int32', [4, 3])],
      initializers: { d: new Tensor('float32', [4.0], []) }, opset: 11,
    }, { i: i64([1, -1, 9]), v: new Tensor('int32', [0, 1], [2]) });
    assert.deepEqual(numbers(out['y']!), [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0]);
  });
});

// ------------------------------------------------------------------ DepthToSpace, SpaceToDepth, ReverseSequence, Compress

describe('DepthToSpace, SpaceToDepth, ReverseSequence, Compress', () => {
  it('DepthToSpace DCR/CRD and SpaceToDepth against the reshape-transpose definitions', async () => {
    const b = 2;
    const x = randTensor([2, 12, 3, 2], 140);
    const [n, ch, h, w] = x.dims as [number, number, number, number];
    const co = ch / (b * b);
    for (const mode of ['DCR', 'CRD'] as const) {
      const [y] = runOp('DepthToSpace', [x], { blocksize: b, mode });
      const want: number[] = [];
      // DCR: reshape [n, b, b, co, h, w] → transpose [0, 3, 4, 1, 5, 2]; CRD: reshape [n, co, b, b, h, w] → [0, 1, 4, 2, 5, 3]
      forEachIndex([n, co, h * b, w * b], ([ni, c, hh, ww]) => {
        const bh = hh! % b, bw = ww! % b;
        const src = mode === 'DCR' ? (bh * b + bw) * co + c! : c! * b * b + bh * b + bw;
        want.push(at(x, [ni!, src, Math.floor(hh! / b), Math.floor(ww! / b)]));
      });
      assertClose(y!, want, [n, co, h * b, w * b], `DepthToSpace ${mode}`);
      if (mode === 'DCR') {
        const [back] = runOp('SpaceToDepth', [y!], { blocksize: b });
        assertClose(back!, numbers(x), x.dims, 'SpaceToDepth inverts DepthToSpace DCR');
      }
    }
    const s = randTensor([1, 3, 4, 6], 141);
    const out = await runBoth({
      nodes: [{ op: 'SpaceToDepth', inputs: ['x'], outputs: ['y'], attrs: { blocksize: 2 } }],
      inputs: [f32('x', [1, 3, 4, 6])], outputs: [f32('y', [1, 12, 2, 3])], opset: 13,
    }, { x: s });
    const want: number[] = [];
    forEachIndex([1, 12, 2, 3], ([ni, c, hh, ww]) => {
      const blk = Math.floor(c! / 3);
      want.push(at(s, [ni!, c! % 3, hh! * 2 + Math.floor(blk / 2), ww! * 2 + (blk % 2)]));
    });
    assertClose(out['y']!, want, [1, 12, 2, 3], 'SpaceToDepth via ONNX');
    assertOpError(() => inferOp('DepthToSpace', [{ dtype: 'float32', shape: [1, 6, 2, 2] }], { blocksize: 2 }), /not divisible/);
  });

  it('ReverseSequence: batch/time axes either way, lengths 0..T', async () => {
    const x = randTensor([4, 5, 3], 150);
    for (const [ba, ta] of [[0, 1], [1, 0]] as const) {
      const B = x.dims[ba]!, T = x.dims[ta]!;
      const lens = randInts([B], 151 + ba, 0, T);
      const [y] = runOp('ReverseSequence', [x, lens], { batch_axis: ba, time_axis: ta });
      const want: number[] = [];
      forEachIndex(x.dims, (o) => {
        const len = at(lens, [o[ba]!]);
        const src = [...o];
        if (o[ta]! < len) src[ta] = len - 1 - o[ta]!;
        want.push(at(x, src));
      });
      assertClose(y!, want, x.dims, `ReverseSequence batch ${ba} time ${ta}`);
    }
    const out = await runBoth({
      nodes: [{ op: 'ReverseSequence', inputs: ['x', 'l'], outputs: ['y'], attrs: { batch_axis: 0, time_axis: 1 } }],
      inputs: [f32('x', [2, 3]), vs('l', 'int64', [2])], outputs: [f32('y', [2, 3])], opset: 10,
    }, { x: new Tensor('float32', [1, 2, 3, 4, 5, 6], [2, 3]), l: i64([3, 2]) });
    assert.deepEqual(numbers(out['y']!), [3, 2, 1, 5, 4, 6]);
  });

  it('Compress with a constant condition: a Gather of the selected positions (with and without axis)', async () => {
    const x = randTensor([3, 4], 160);
    const run = async (cond: number[], attrs: NodeSpec['attrs'], outDims: number[]): Promise<Tensor> => (await runBoth({
      nodes: [{ op: 'Compress', inputs: ['x', 'c'], outputs: ['y'], attrs }],
      inputs: [f32('x', [3, 4])], outputs: [f32('y', outDims)], initializers: { c: new Tensor('bool', cond, [cond.length]) }, opset: 11,
    }, { x }))['y']!;
    assertClose(await run([0, 1, 1], { axis: 0 }, [2, 4]), numbers(x).slice(4), [2, 4], 'Compress axis 0');
    assertClose(await run([1, 0, 0, 1], { axis: -1 }, [3, 2]), [0, 1, 2].flatMap((i) => [at(x, [i, 0]), at(x, [i, 3])]), [3, 2], 'Compress axis -1');
    assertClose(await run([0, 0, 1, 0, 1], {}, [2]), [at(x, [0, 2]), at(x, [1, 0])], [2], 'Compress flattened');
  });
});

// ------------------------------------------------------------------ TopK

describe('TopK', () => {
  it('largest/smallest along every axis, ties broken by the lower index, int64 indices', () => {
    const r = rng(170);
    // few distinct values, so there are many ties
    const x = new Tensor('float32', Float32Array.from({ length: 3 * 6 * 4 }, () => Math.floor(r(0, 4)) / 2), [3, 6, 4]);
    for (const axis of [0, 1, 2, -1]) {
      const a = wrap(axis, 3);
      const n = x.dims[a]!;
      for (const largest of [1, 0]) {
        for (const k of [1, Math.min(3, n), n]) {
          const [v, i] = runOp('TopK', [x], { axis, k, largest });
          assert.equal(i!.type, 'int64');
          const dims = x.dims.map((d, j) => (j === a ? k : d));
          const wantV: number[] = [], wantI: number[] = [];
          const rows = new Map<string, number[]>();
          forEachIndex(dims, (o) => {
            const key = o.filter((_, j) => j !== a).join(',');
            if (!rows.has(key)) {
              const order = Array.from({ length: n }, (_, j) => j);
              const val = (j: number): number => at(x, o.map((q, d) => (d === a ? j : q)));
              order.sort((p, q) => (largest ? val(q) - val(p) : val(p) - val(q)) || p - q);
              rows.set(key, order);
            }
            const j = rows.get(key)![o[a]!]!;
            wantI.push(j);
            wantV.push(at(x, o.map((q, d) => (d === a ? j : q))));
          });
          assertClose(v!, wantV, dims, `TopK values axis ${axis} largest ${largest} k ${k}`);
          assert.deepEqual(numbers(i!), wantI, `TopK indices axis ${axis} largest ${largest} k ${k}`);
        }
      }
    }
    assertOpError(() => inferOp('TopK', [{ dtype: 'float32', shape: [3, 4] }], { axis: 1, k: 5 }), /exceeds/);
  });

  it('converters: TopK-1 (k attribute), TopK-10/11 (constant k input) on both targets', async () => {
    const x = randTensor([3, 5], 180);
    for (const [opset, attrs, extra] of [[1, { k: 2, axis: 1 }, false], [10, { axis: -1 }, true], [11, { axis: 1, largest: 0, sorted: 1 }, true]] as const) {
      const out = await runBoth({
        nodes: [{ op: 'TopK', inputs: extra ? ['x', 'k'] : ['x'], outputs: ['v', 'i'], attrs }],
        inputs: [f32('x', [3, 5])], outputs: [f32('v', [3, 2]), vs('i', 'int64', [3, 2])],
        ...(extra ? { initializers: { k: i64([2]) } } : {}), opset,
      }, { x });
      const largest = !('largest' in attrs) || attrs.largest !== 0;
      const wantI: number[] = [];
      for (let row = 0; row < 3; row++) {
        const order = [0, 1, 2, 3, 4].sort((p, q) => (largest ? at(x, [row, q]) - at(x, [row, p]) : at(x, [row, p]) - at(x, [row, q])) || p - q);
        wantI.push(...order.slice(0, 2));
      }
      assert.deepEqual(numbers(out['i']!), wantI, `TopK-${opset} indices`);
      assertClose(out['v']!, wantI.map((j, p) => at(x, [Math.floor(p / 2), j])), [3, 2], `TopK-${opset} values`);
    }
  });
});

// ------------------------------------------------------------------ Resize (reference port)

interface ResizeCfg {
  mode: 'nearest' | 'linear' | 'cubic';
  coord: string;
  nearest?: string;
  a?: number;
  exclude?: boolean;
  extrapolation?: number;
  roi?: number[];
}

/** A port of onnx/reference/ops/op_resize.py's _interpolate_1d_with_x. */
function refInterp1d(data: number[], scale: number, x: number, cfg: ResizeCfg, roi: number[] | undefined): number {
  const inW = data.length;
  const outW = scale * inW;
  let xo: number;
  switch (cfg.coord) {
    case 'align_corners': xo = outW === 1 ? 0 : (x * (inW - 1)) / (outW - 1); break;
    case 'asymmetric': xo = x / scale; break;
    case 'tf_crop_and_resize':
      xo = outW === 1 ? ((roi![1]! - roi![0]!) * (inW - 1)) / 2 : (x * (roi![1]! - roi![0]!) * (inW - 1)) / (outW - 1);
      xo += roi![0]! * (inW - 1);
      if (xo < 0 || xo > inW - 1) return cfg.extrapolation ?? 0;
      break;
    case 'pytorch_half_pixel': xo = outW === 1 ? -0.5 : (x + 0.5) / scale - 0.5; break;
    case 'half_pixel': xo = (x + 0.5) / scale - 0.5; break;
    case 'tf_half_pixel_for_nn': xo = (x + 0.5) / scale; break;
    default: throw new Error(cfg.coord);
  }
  const xi = Math.floor(xo);
  const ratio = Number.isInteger(xo) ? 1 : xo - xi;
  let coeffs: number[];
  if (cfg.mode === 'linear') coeffs = [1 - ratio, ratio];
  else if (cfg.mode === 'cubic') {
    const A = cfg.a ?? -0.75;
    const r = ratio;
    coeffs = [
      ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A,
      ((A + 2) * r - (A + 3)) * r * r + 1,
      ((A + 2) * (1 - r) - (A + 3)) * (1 - r) * (1 - r) + 1,
      ((A * (1 - r + 1) - 5 * A) * (1 - r + 1) + 8 * A) * (1 - r + 1) - 4 * A,
    ];
  } else {
    const m = cfg.nearest ?? 'round_prefer_floor';
    if (Number.isInteger(ratio)) coeffs = [0, 1];
    else if (m === 'round_prefer_floor') coeffs = [ratio <= 0.5 ? 1 : 0, ratio > 0.5 ? 1 : 0];
    else if (m === 'round_prefer_ceil') coeffs = [ratio < 0.5 ? 1 : 0, ratio >= 0.5 ? 1 : 0];
    else if (m === 'floor') coeffs = [1, 0];
    else coeffs = [0, 1];
  }
  // _get_neighbor: edge-pad by ceil(n/2), take the n nearest indexes (ties: the smaller one)
  const n = coeffs.length;
  const pad = Math.ceil(n / 2);
  const padded = [...new Array<number>(pad).fill(data[0]!), ...data, ...new Array<number>(pad).fill(data[inW - 1]!)];
  const xp = xo + pad;
  const idxes = padded.map((_, i) => i).sort((p, q) => Math.abs(xp - p) - Math.abs(xp - q) || p - q).slice(0, n).sort((p, q) => p - q);
  const points = idxes.map((i) => padded[i]!);
  if (cfg.exclude) {
    idxes.forEach((i, t) => { if (i - pad < 0 || i - pad >= inW) coeffs[t] = 0; });
    const s = coeffs.reduce((acc, v) => acc + v, 0);
    coeffs = coeffs.map((v) => v / s);
  }
  return coeffs.reduce((acc, c, t) => acc + c * points[t]!, 0);
}

/** _interpolate_nd_with_x: the first dim is interpolated last. */
function refInterpNd(get: (idx: number[]) => number, shape: number[], scales: number[], x: number[], cfg: ResizeCfg, roi: number[] | undefined): number {
  const nd = shape.length;
  if (nd === 1) return refInterp1d(Array.from({ length: shape[0]! }, (_, i) => get([i])), scales[0]!, x[0]!, cfg, roi);
  const inner = roi ? [...roi.slice(1, nd), ...roi.slice(nd + 1)] : undefined;
  const res = Array.from({ length: shape[0]! }, (_, i) => refInterpNd((rest) => get([i, ...rest]), shape.slice(1), scales.slice(1), x.slice(1), cfg, inner));
  return refInterp1d(res, scales[0]!, x[0]!, cfg, roi ? [roi[0]!, roi[nd]!] : undefined);
}

function refResize(x: Tensor, scales: number[], sizes: number[], cfg: ResizeCfg): number[] {
  const out: number[] = [];
  forEachIndex(sizes, (o) => out.push(Math.fround(refInterpNd((idx) => at(x, idx), [...x.dims], scales, o, cfg, cfg.roi))));
  return out;
}

function resizeOpAttrs(cfg: ResizeCfg, scales: number[], sizes: number[]): Attrs {
  return {
    mode: cfg.mode, coordinate_transformation_mode: cfg.coord, nearest_mode: cfg.nearest ?? 'round_prefer_floor',
    cubic_coeff_a: cfg.a ?? -0.75, exclude_outside: cfg.exclude ? 1 : 0, extrapolation_value: cfg.extrapolation ?? 0,
    scales, sizes, ...(cfg.roi ? { roi: cfg.roi } : {}),
  };
}

describe('Resize', () => {
  const coords = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn'];
  const x = randTensor([1, 2, 5, 7], 200);
  /** [scales, sizes]: upsample, downsample, mixed, non-integer, and size-1 output dims. */
  const grids: [number[], number[]][] = [
    [[1, 1, 2, 3], [1, 2, 10, 21]],
    [[1, 1, 0.6, 0.45], [1, 2, 3, 3]],
    [[1, 1, 1.7, 0.8], [1, 2, 8, 5]],
    [[1, 1, 1 / 5, 3 / 7], [1, 2, 1, 3]],
  ];

  for (const mode of ['nearest', 'linear', 'cubic'] as const) {
    it(`${mode}: every coordinate transformation mode, up- and downsampling`, () => {
      for (const coord of coords) {
        for (const [scales, sizes] of grids) {
          const cfg: ResizeCfg = { mode, coord };
          const [y] = runOp('Resize', [x], resizeOpAttrs(cfg, scales, sizes));
          assertClose(y!, refResize(x, scales, sizes, cfg), sizes, `Resize ${mode} ${coord} scales ${scales.join(',')}`);
        }
      }
    });
  }

  it('nearest: every nearest_mode (ties at .5 included)', () => {
    for (const nearest of ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']) {
      for (const coord of ['half_pixel', 'asymmetric', 'align_corners']) {
        for (const [scales, sizes] of [...grids, [[1, 1, 0.5, 2 / 7], [1, 2, 2, 2]] as [number[], number[]]]) {
          const cfg: ResizeCfg = { mode: 'nearest', coord, nearest };
          const [y] = runOp('Resize', [x], resizeOpAttrs(cfg, scales, sizes));
          assertClose(y!, refResize(x, scales, sizes, cfg), sizes, `Resize nearest ${nearest} ${coord} ${scales.join(',')}`, 0, 0);
        }
      }
    }
  });

  it('cubic: cubic_coeff_a and exclude_outside', () => {
    for (const [a, exclude] of [[-0.5, true], [-0.75, true], [-0.5, false]] as const) {
      for (const [scales, sizes] of grids) {
        const cfg: ResizeCfg = { mode: 'cubic', coord: 'half_pixel', a, exclude };
        const [y] = runOp('Resize', [x], resizeOpAttrs(cfg, scales, sizes));
        assertClose(y!, refResize(x, scales, sizes, cfg), sizes, `Resize cubic A=${a} exclude=${exclude}`);
      }
    }
  });

  it('tf_crop_and_resize: roi and extrapolation_value (linear and nearest)', () => {
    const roi = [0, 0, 0.4, 0.6, 1, 1, 0.6, 1.2];
    for (const mode of ['linear', 'nearest'] as const) {
      for (const sizes of [[1, 2, 3, 3], [1, 2, 6, 1], [1, 2, 1, 4]]) {
        const scales = sizes.map((s, i) => s / x.dims[i]!);
        const cfg: ResizeCfg = { mode, coord: 'tf_crop_and_resize', roi, extrapolation: 10 };
        const [y] = runOp('Resize', [x], resizeOpAttrs(cfg, scales, sizes));
        assertClose(y!, refResize(x, scales, sizes, cfg), sizes, `Resize tf_crop_and_resize ${mode} ${sizes.join(',')}`);
      }
    }
  });

  it('linear N-d: trilinear over a 5-D input, and resizing the batch and channel dims', () => {
    const v = randTensor([2, 3, 3, 4, 2], 210);
    for (const [scales, sizes] of [[[1, 1, 1.5, 0.5, 2], [2, 3, 4, 2, 4]], [[1.5, 0.7, 1, 1, 1], [3, 2, 3, 4, 2]]] as [number[], number[]][]) {
      const cfg: ResizeCfg = { mode: 'linear', coord: 'half_pixel' };
      const [y] = runOp('Resize', [v], resizeOpAttrs(cfg, scales, sizes));
      assertClose(y!, refResize(v, scales, sizes, cfg), sizes, `Resize 5-D ${scales.join(',')}`);
    }
  });

  it('converters: scales, sizes (empty scales tensor), roi, axes and keep_aspect_ratio_policy (18), both targets', async () => {
    const xs = randTensor([1, 1, 4, 6], 220);
    const check = async (node: NodeSpec, init: Record<string, Tensor>, opset: number, scales: number[], sizes: number[], cfg: ResizeCfg): Promise<void> => {
      const out = await runBoth({ nodes: [node], inputs: [f32('x', [1, 1, 4, 6])], outputs: [f32('y', sizes)], initializers: init, opset }, { x: xs });
      assertClose(out['y']!, refResize(xs, scales, sizes, cfg), sizes, `Resize-${opset} ${JSON.stringify(node.attrs)}`);
    };
    const f = (v: number[]): Tensor => new Tensor('float32', v, [v.length]);
    await check({ op: 'Resize', inputs: ['x', '', 's'], outputs: ['y'], attrs: { mode: 'cubic' } }, { s: f([1, 1, 0.8, 1.5]) }, 13,
      [1, 1, Math.fround(0.8), 1.5], [1, 1, 3, 9], { mode: 'cubic', coord: 'half_pixel' });
    await check({ op: 'Resize', inputs: ['x', 'roi', 's', 'z'], outputs: ['y'], attrs: { mode: 'linear', coordinate_transformation_mode: 'align_corners' } },
      { roi: f([]), s: f([]), z: i64([1, 1, 7, 4]) }, 11, [1, 1, 7 / 4, 4 / 6], [1, 1, 7, 4], { mode: 'linear', coord: 'align_corners' });
    await check({ op: 'Resize', inputs: ['x', 'roi', '', 'z'], outputs: ['y'], attrs: { mode: 'linear', coordinate_transformation_mode: 'tf_crop_and_resize', extrapolation_value: 10 } },
      { roi: f([0, 0, 0.4, 0.6, 1, 1, 0.6, 0.8]), z: i64([1, 1, 3, 3]) }, 13, [1, 1, 3 / 4, 3 / 6], [1, 1, 3, 3],
      { mode: 'linear', coord: 'tf_crop_and_resize', extrapolation: 10, roi: [0, 0, Math.fround(0.4), Math.fround(0.6), 1, 1, Math.fround(0.6), Math.fround(0.8)] });
    await check({ op: 'Resize', inputs: ['x', '', '', 'z'], outputs: ['y'], attrs: { mode: 'nearest', axes: [3, 2], keep_aspect_ratio_policy: 'not_larger' } },
      { z: i64([9, 9]) }, 18, [1, 1, 1.5, 1.5], [1, 1, 6, 9], { mode: 'nearest', coord: 'half_pixel' });
    // Resize-10 and Upsample: asymmetric coordinates, floor when upsampling
    const up: ResizeCfg = { mode: 'nearest', coord: 'asymmetric', nearest: 'floor' };
    await check({ op: 'Resize', inputs: ['x', 's'], outputs: ['y'], attrs: { mode: 'nearest' } }, { s: f([1, 1, 2, 1.5]) }, 10, [1, 1, 2, 1.5], [1, 1, 8, 9], up);
    await check({ op: 'Upsample', inputs: ['x', 's'], outputs: ['y'], attrs: { mode: 'nearest' } }, { s: f([1, 1, 2, 3]) }, 9, [1, 1, 2, 3], [1, 1, 8, 18], up);
    await check({ op: 'Upsample', inputs: ['x'], outputs: ['y'], attrs: { mode: 'linear', scales: [1, 1, 2, 1.5] } }, {}, 7, [1, 1, 2, 1.5], [1, 1, 8, 9],
      { mode: 'linear', coord: 'asymmetric' });
  });

  it('rejects what it does not support', () => {
    expectNodeError(() => importOnnx(makeModel({
      nodes: [{ op: 'Resize', inputs: ['x', '', 's'], outputs: ['y'] }], inputs: [f32('x', [1, 1, 2, 2]), f32('s', [4])], outputs: [f32('y', [1, 1, 4, 4])], opset: 13,
    })), /input '\w+' \(scales\) is needed as a constant; its value is bound when the model runs/);
    expectNodeError(() => importOnnx(makeModel({
      nodes: [{ op: 'Resize', inputs: ['x', '', 's'], outputs: ['y'], attrs: { antialias: 1 } }], inputs: [f32('x', [1, 1, 2, 2])], outputs: [f32('y', [1, 1, 1, 1])],
      initializers: { s: new Tensor('float32', [1, 1, 0.5, 0.5], [4]) }, opset: 18,
    })), /antialias/);
    expectNodeError(() => importOnnx(makeModel({
      nodes: [{ op: 'Resize', inputs: ['x', '', 's'], outputs: ['y'] }], inputs: [f32('x', [1, 1, 'h', 2])], outputs: [f32('y', [1, 1, 'h2', 4])],
      initializers: { s: new Tensor('float32', [1, 1, 2, 2], [4]) }, opset: 13,
    })), /symbolic size 'h'/);
    assertOpError(() => inferOp('Resize', [{ dtype: 'float32', shape: [1, 2] }], { mode: 'area', scales: [1, 1], sizes: [1, 2] }), /unsupported mode 'area'/);
  });
});

/**
 * Large valid graphs compile and run with the right results: a 10,000-node chain, a
 * 1000-input Concat, a Split into 300, and kernels with more arguments than parameters
 * (an argument table on wasm, an array of views on js) with threads, a dynamic batch and
 * an artifact round trip. No timings here: `npm run bench:scale` measures them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InferenceSession } from '../../src/api.js';
import { compile } from '../../src/driver.js';
import { Executor } from '../../src/runtime/executor.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { LimitError } from '../../src/runtime/error.js';
import type { Executable } from '../../src/runtime/executable.js';
import { deserializeExecutable, serializeExecutable } from '../../src/runtime/artifact.js';
import { type ScaleGraph, elementwiseChain, wideConcat } from '../../src/bench/scale.js';
import { makeModel } from '../helpers/onnx_model.js';
import { assertClose } from '../helpers/assert.js';
import { MAX_PARAM_ARGS } from '../../src/codegen/wasm/limits.js';
import { MAX_JS_PARAMS } from '../../src/codegen/js/codegen.js';
import { buildWasmModule } from '../../src/codegen/wasm/codegen.js';
import { float, makeBuffer, int, variable } from '../../src/ir/expr.js';
import { type PrimFunc, loop, seq, store } from '../../src/tir/stmt.js';
import { isWasmModule } from '../../src/runtime/devices/wasm.js';
import { isJsModule } from '../../src/runtime/devices/js.js';

const TOL = { rtol: 1e-4, atol: 1e-5 };

async function runAndCheck(g: ScaleGraph, target: 'js' | 'wasm'): Promise<void> {
  const s = await InferenceSession.create(g.model, { target });
  try {
    const out = await s.run(g.feeds);
    for (const [name, want] of Object.entries(g.reference())) assertClose(out[name]!, want, out[name]!.dims, `${g.name} on ${target}: ${name}`, TOL);
  } finally {
    s.release();
  }
}

const wasmModule = (exe: Executable) => (isWasmModule(exe.module) ? exe.module : assert.fail('a wasm module'));

for (const target of ['wasm', 'js'] as const) {
  test(`a Concat of 1000 graph inputs compiles and runs on ${target}`, async () => {
    const g = wideConcat(1000);
    const exe = compile(g.model, { target }).executable;
    // 1001 arguments: past what a wasm function may take as parameters (1000).
    if (isWasmModule(exe.module)) assert.deepEqual(exe.module.argTables, [exe.steps[0]!.kernel]);
    else assert.deepEqual(isJsModule(exe.module) && exe.module.arrayArgs, [exe.steps[0]!.kernel]);
    await runAndCheck(g, target);
  });

  test(`a chain of 10,000 elementwise nodes compiles and runs on ${target}`, async () => {
    await runAndCheck(elementwiseChain(10_000), target);
  });

  test(`a Split into 300 outputs (a kernel with 301 arguments) runs on ${target}`, async () => {
    const n = 300;
    const outs = Array.from({ length: n }, (_, i) => `y${i}`);
    const model = makeModel({
      nodes: [{ op: 'Split', inputs: ['x'], outputs: outs, attrs: { axis: 1 } }],
      inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3 * n] }],
      outputs: outs.map((name) => ({ name, dtype: 'float32', shape: [2, 3] })),
      opset: 11,
    });
    const s = await InferenceSession.create(model, { target });
    const x = Float32Array.from({ length: 6 * n }, (_, i) => i);
    const r = await s.run({ x: new Tensor('float32', x, [2, 3 * n]) });
    outs.forEach((o, k) => assert.deepEqual([...r[o]!.data], [0, 1, 2, 3, 4, 5].map((j) => x[(j >= 3 ? 3 * n : 0) + 3 * k + (j % 3)]!), o));
  });
}

/** A Concat (axis 1) of `n` inputs of [batch, 3, h, h]; input i holds 1000 i + its flat index. */
function concatModel(n: number, batch: number | string, h: number): { model: Uint8Array; feeds: (b: number) => Record<string, Tensor>; check: (y: Tensor, b: number) => void } {
  const shape = [batch, 3, h, h];
  const inputs = Array.from({ length: n }, (_, i) => ({ name: `x${i}`, dtype: 'float32' as const, shape }));
  const model = makeModel({
    nodes: [{ op: 'Concat', inputs: inputs.map((i) => i.name), outputs: ['y'], attrs: { axis: 1 } }],
    inputs, outputs: [{ name: 'y', dtype: 'float32', shape: [batch, 3 * n, h, h] }],
  });
  const per = 3 * h * h;
  const feeds = (b: number): Record<string, Tensor> => Object.fromEntries(inputs.map((inp, i) =>
    [inp.name, new Tensor('float32', Float32Array.from({ length: b * per }, (_, j) => 1000 * i + j), [b, 3, h, h])]));
  const check = (y: Tensor, b: number): void => {
    assert.deepEqual(y.dims, [b, 3 * n, h, h]);
    for (let s = 0; s < b; s++) {
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < per; j++) {
          const got = y.data[(s * n + i) * per + j];
          if (got !== 1000 * i + s * per + j) assert.fail(`y at sample ${s}, input ${i}, element ${j}: got ${got}, want ${1000 * i + s * per + j}`);
        }
      }
    }
  };
  return { model, feeds, check };
}

test('a kernel with an argument table runs its parallel regions on 2 threads', async () => {
  const m = concatModel(200, 2, 16);
  const exe = compile(m.model, { target: 'wasm', threads: 2 }).executable;
  const kernel = exe.steps[0]!.kernel;
  assert.deepEqual(wasmModule(exe).argTables, [kernel]);
  assert.ok(wasmModule(exe).regions?.[kernel], 'the Concat kernel has parallel regions');
  assert.equal(exe.argTable?.bytes, 4 * 201);
  const ex = await Executor.load(exe, { threads: 2 });
  try {
    for (let i = 0; i < 2; i++) m.check(ex.runSync(m.feeds(2)).y!, 2);
  } finally {
    ex.dispose();
  }
});

test('a kernel with more arguments than the thread pool once carried (100 > 55) runs on 2 threads', async () => {
  assert.ok(100 <= MAX_PARAM_ARGS, 'a kernel with parameters, not a table');
  const m = concatModel(100, 2, 16);
  const exe = compile(m.model, { target: 'wasm', threads: 2 }).executable;
  assert.equal(wasmModule(exe).argTables, undefined);
  const ex = await Executor.load(exe, { threads: 2 });
  try {
    m.check(ex.runSync(m.feeds(2)).y!, 2);
  } finally {
    ex.dispose();
  }
});

test('a kernel with an argument table runs at every batch size of a dynamic batch, and after an artifact round trip', async () => {
  const m = concatModel(200, 'N', 4);
  const exe = compile(m.model, { target: 'wasm' }).executable;
  assert.ok(exe.batch, 'the batch dim stays symbolic');
  assert.deepEqual(wasmModule(exe).argTables, [exe.steps[0]!.kernel]);
  const loaded = deserializeExecutable(serializeExecutable(exe));
  assert.deepEqual(loaded.argTable, exe.argTable);
  for (const e of [exe, loaded]) {
    const ex = await Executor.load(e);
    // Offsets change with the batch size: each sample's step writes its own table.
    for (const b of [1, 3, 2, 3]) m.check(ex.runSync(m.feeds(b)).y!, b);
  }
});

test('a JS kernel with more than MAX_JS_PARAMS arguments takes one array and survives an artifact round trip', async () => {
  const m = concatModel(MAX_JS_PARAMS + 10, 1, 2);
  const exe = deserializeExecutable(serializeExecutable(compile(m.model, { target: 'js' }).executable));
  assert.deepEqual(isJsModule(exe.module) && exe.module.arrayArgs, [exe.steps[0]!.kernel]);
  const ex = await Executor.load(exe);
  m.check(ex.runSync(m.feeds(1)).y!, 1);
});

test('a wasm kernel past the engine limit of locals is refused with a LimitError naming the kernel', () => {
  // 50,001 loops, each with at least its own loop-variable local.
  const buf = makeBuffer('out', 'float32', [1]);
  const loops = Array.from({ length: 50_001 }, (_, i) => loop(variable(`i${i}`), 1, store(buf, [int(0)], float(i))));
  const func: PrimFunc = { name: 'wide', params: [buf], body: seq(loops), flat: true };
  assert.throws(() => buildWasmModule([func]), (e: unknown) => {
    assert.ok(e instanceof LimitError, `expected a LimitError, got ${String(e)}`);
    assert.match(e.message, /^codegen wasm: kernel wide: \d+ locals exceed the WebAssembly engine limit of 50000$/);
    return true;
  });
});

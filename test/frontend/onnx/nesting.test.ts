/** Deep subgraph nesting and long chains at import: converted, or refused with a LimitError, never a stack overflow. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InferenceSession } from '../../../src/api.js';
import { InputValueNeeded, importOnnx } from '../../../src/frontend/onnx/importer.js';
import { MAX_SUBGRAPH_DEPTH } from '../../../src/frontend/onnx/validate.js';
import { LimitError } from '../../../src/runtime/error.js';
import { type ScaleGraph, nestedIf, nestedLoop } from '../../../src/bench/scale.js';
import { makeModel } from '../../helpers/onnx_model.js';
import { assertClose } from '../../helpers/assert.js';

async function runAndCheck(g: ScaleGraph): Promise<void> {
  const s = await InferenceSession.create(g.model, { target: 'wasm' });
  const out = await s.run(g.feeds);
  for (const [name, want] of Object.entries(g.reference())) assertClose(out[name]!, want, out[name]!.dims, `${g.name}: ${name}`, { rtol: 0, atol: 0 });
}

test('If nested 200 deep imports, compiles and runs', async () => {
  await runAndCheck(nestedIf(200));
});

test(`If nested ${MAX_SUBGRAPH_DEPTH} deep imports; one level more is refused with a LimitError naming the node and the limit`, () => {
  assert.ok(importOnnx(nestedIf(MAX_SUBGRAPH_DEPTH).model).nodes.length > 0);
  for (const depth of [MAX_SUBGRAPH_DEPTH + 1, 2000]) {
    assert.throws(() => importOnnx(nestedIf(depth).model), (e: unknown) => {
      assert.ok(e instanceof LimitError, `depth ${depth}: expected a LimitError, got ${String(e)}`);
      assert.match(e.message, new RegExp(`^node 'if1/then_branch/.*/if${MAX_SUBGRAPH_DEPTH + 1}' \\(If, opset 17\\): its subgraph 'then_branch' would nest ${MAX_SUBGRAPH_DEPTH + 1} levels deep; at most ${MAX_SUBGRAPH_DEPTH} nested subgraphs are supported$`));
      assert.ok(e.message.length < 400, 'the node path is shortened');
      return true;
    });
  }
});

test('Loops nested three deep unroll into the right result', async () => {
  await runAndCheck(nestedLoop(3, 4));
});

test('a value computed from a graph input through a 20,000-node chain is traced back to that input iteratively', () => {
  // Reshape needs its shape at compile time; the shape comes from input 's' through a long chain.
  const n = 20_000;
  const nodes = Array.from({ length: n }, (_, i) => ({ op: 'Identity', inputs: [i === 0 ? 's' : `s${i - 1}`], outputs: [`s${i}`] }));
  const model = makeModel({
    nodes: [...nodes, { op: 'Reshape', inputs: ['x', `s${n - 1}`], outputs: ['y'] }],
    inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3] }, { name: 's', dtype: 'int64', shape: [2] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [3, 2] }],
  });
  assert.throws(() => importOnnx(model), (e: unknown) => e instanceof InputValueNeeded && e.input === 's');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { compile } from '../../src/driver.js';
import { composeTe } from '../../src/build/lower.js';
import { createPrimFunc } from '../../src/te/lower.js';
import { Schedule } from '../../src/schedule/schedule.js';
import { type InlineCandidate, computeInlineWhere } from '../../src/schedule/block_prims.js';
import { defaultSchedule } from '../../src/schedule/default.js';
import { parseTarget } from '../../src/target/index.js';

const WASM = parseTarget('wasm -no-fma');
import { type Expr, exprToString, visitExpr } from '../../src/ir/expr.js';
import { type PrimFunc, collectBlocks } from '../../src/tir/stmt.js';
import { printPrimFunc } from '../../src/tir/printer.js';
import { type NodeSpec, makeModel } from '../helpers/onnx_model.js';
import { Tensor } from '../../src/runtime/tensor.js';

/** Kernels as createPrimFunc makes them (before any schedule) for the fused groups of a model. */
function unscheduled(model: string | Uint8Array): PrimFunc[] {
  const r = compile(model, { target: 'js' });
  return r.kernels.map((k, i) => {
    const te = composeTe(k.nodes, i, k.outputs, {});
    return createPrimFunc(k.name, te.placeholders, te.outputs);
  });
}

const size = (e: Expr): number => {
  let n = 0;
  visitExpr(e, () => { n++; });
  return n;
};

/**
 * A choice like the default schedule's: injective stages writing scratch, those loaded
 * more than once only while small. `view` says when to ask for the candidate's value.
 */
function chooser(f: PrimFunc, seen: string[], view: 'always' | 'when-needed') {
  const params = new Set(f.params);
  return (c: InlineCandidate): boolean => {
    const out = c.block.writes[0];
    if (view === 'always') seen.push(`${c.block.name}: ${exprToString(c.value())}`);
    if (c.block.init || !out || params.has(out) || c.block.materialize || c.block.body.kind !== 'store') return false;
    let loads = 0;
    for (const r of c.readers) if (r.body.kind === 'store') visitExpr(r.body.value, (e) => { if (e.kind === 'load' && e.buffer === out) loads++; });
    return loads <= 1 || size(c.value()) <= 24;
  };
}

/** The same choice made the slow way: one compute_inline at a time, each block as the previous ones left it. */
function oneByOne(f: PrimFunc, seen: string[]): PrimFunc {
  const sch = new Schedule(f);
  const pick = chooser(f, seen, 'always');
  for (const name of sch.blockNames()) {
    const block = sch.getBlock(name);
    const out = block.writes[0];
    const readers = out ? collectBlocks(sch.func.body).filter((x) => x !== block && x.reads.includes(out)) : [];
    const value = (): Expr => (block.body.kind === 'store' ? block.body.value : assert.fail('not a store'));
    if (pick({ block, readers, value })) sch.computeInline(name);
  }
  return sch.func;
}

function checkSameAsOneByOne(funcs: readonly PrimFunc[]): number {
  let inlined = 0;
  for (const f of funcs) {
    const slowSeen: string[] = [];
    const slow = printPrimFunc(oneByOne(f, slowSeen));
    for (const view of ['always', 'when-needed'] as const) {
      const seen: string[] = [];
      const r = computeInlineWhere(f, chooser(f, seen, view));
      assert.ok(r, `kernel ${f.name}: a function as createPrimFunc makes it is inlined in one walk`);
      inlined += r.inlined.length;
      assert.equal(printPrimFunc(r.func), slow, `kernel ${f.name} (${view}): inlining in one walk differs from one compute_inline at a time`);
      if (view === 'always') assert.deepEqual(seen, slowSeen, `kernel ${f.name}: the candidates' values differ`);
      // The schedule records one compute_inline per block, and that trace replays to the same function.
      const sch = new Schedule(f);
      assert.deepEqual(sch.computeInlineWhere(chooser(f, [], view)), r.inlined);
      const again = new Schedule(f);
      again.replay(sch.trace);
      assert.equal(printPrimFunc(again.func), slow);
    }
  }
  return inlined;
}

test('compute_inline of many blocks in one walk equals one compute_inline at a time (MobileNetV2 kernels)', () => {
  const inlined = checkSameAsOneByOne(unscheduled(join('models', 'mobilenet_v2', 'model.onnx')));
  assert.ok(inlined > 50, `the kernels inline many stages (${inlined})`);
});

test('compute_inline in one walk equals one at a time where stages are loaded more than once (HardSwish, Pad, Resize)', () => {
  const nodes: NodeSpec[] = [
    { op: 'HardSwish', inputs: ['x'], outputs: ['h0'] },
    ...Array.from({ length: 5 }, (_, i) => ({ op: 'HardSwish', inputs: [`h${i}`], outputs: [`h${i + 1}`] })),
    { op: 'Pad', inputs: ['h5', 'pads'], outputs: ['p'] },
    { op: 'Resize', inputs: ['p', '', 'scales'], outputs: ['r'], attrs: { mode: 'linear' } },
    { op: 'Conv', inputs: ['r', 'w'], outputs: ['y'], attrs: { kernel_shape: [3, 3] } },
  ];
  const model = makeModel({
    nodes,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 4, 6, 6] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 4, 14, 14] }],
    initializers: {
      pads: new Tensor('int64', [0n, 0n, 1n, 1n, 0n, 0n, 1n, 1n], [8]),
      scales: new Tensor('float32', [1, 1, 2, 2], [4]),
      w: new Tensor('float32', Float32Array.from({ length: 144 }, (_, i) => (i % 7) / 7), [4, 4, 3, 3]),
    },
  });
  assert.ok(checkSameAsOneByOne(unscheduled(model)) > 0);
});

test('a stage loaded twice is inlined only while its copies stay small: a HardSwish chain does not grow exponentially', () => {
  const chain = (n: number): number => {
    const nodes = Array.from({ length: n }, (_, i) => ({ op: 'HardSwish', inputs: [i === 0 ? 'x' : `h${i - 1}`], outputs: [i === n - 1 ? 'y' : `h${i}`] }));
    const model = makeModel({ nodes, inputs: [{ name: 'x', dtype: 'float32', shape: [1, 64] }], outputs: [{ name: 'y', dtype: 'float32', shape: [1, 64] }] });
    const [f] = unscheduled(model);
    assert.equal(unscheduled(model).length, 1, 'the chain is one fused kernel');
    let nodesIn = 0;
    for (const b of collectBlocks(defaultSchedule(f!, WASM).func.body)) if (b.body.kind === 'store') nodesIn += size(b.body.value);
    return nodesIn;
  };
  const [a, b] = [chain(20), chain(40)];
  // Each HardSwish reads its input twice: fully inlined, 40 of them would hold ~2^40 nodes.
  assert.ok(b < 3 * a, `40 ops: ${b} expression nodes, 20 ops: ${a}`);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compute, maxReduce, placeholder, reduceAxis, sum } from '../../src/te/tensor.js';
import { createPrimFunc } from '../../src/te/lower.js';
import { add, float, int, max, mul } from '../../src/ir/expr.js';
import { Schedule, ScheduleError } from '../../src/schedule/schedule.js';
import { defaultSchedule } from '../../src/schedule/default.js';
import { checkDecision, decisionsOf, givenDecisions, randomDecisions, randomPerfectTile, seededRandom } from '../../src/schedule/decisions.js';
import { parseTarget } from '../../src/target/index.js';
import { lowerForCodegen } from '../../src/tir/transform/pipeline.js';
import { printPrimFunc } from '../../src/tir/printer.js';
import type { PrimFunc } from '../../src/tir/stmt.js';
import { runWasmKernel } from '../helpers/run_op.js';

const WASM = parseTarget('wasm -no-fma');

/** A blocked pointwise conv with bias and relu: X[C/4, P, 4] · W[O/4, C, 4] → Y[O/4, P, 4]. */
function pointwise(): PrimFunc {
  const x = placeholder([8, 12, 4], 'float32', 'X');
  const w = placeholder([4, 32, 4], 'float32', 'W');
  const b = placeholder([4, 4], 'float32', 'B');
  const rco = reduceAxis(8, 'rco');
  const rci = reduceAxis(4, 'rci');
  const acc = compute([4, 12, 4], (o, p, oi) => sum(mul(x.at(rco.var, p!, rci.var), w.at(o!, add(mul(rco.var, int(4)), rci.var), oi!)), [rco, rci]), 'acc');
  const y = compute([4, 12, 4], (o, p, oi) => max(add(acc.at(o!, p!, oi!), b.at(o!, oi!)), float(0)), 'Y');
  return createPrimFunc('pw', [x, w, b], [y]);
}

function matmul(): PrimFunc {
  const a = placeholder([6, 40], 'float32', 'A');
  const bm = placeholder([40, 16], 'float32', 'Bm');
  const k = reduceAxis(40, 'k');
  const c = compute([6, 16], (i, j) => sum(mul(a.at(i!, k.var), bm.at(k.var, j!)), [k]), 'C');
  return createPrimFunc('mm', [a, bm], [c]);
}

/** A row max (rfactor's case: no spatial axis to vectorize, contiguous along the reduce axis). */
function rowMax(): PrimFunc {
  const x = placeholder([3, 64], 'float32', 'X');
  const k = reduceAxis(64, 'k');
  const y = compute([3], (i) => maxReduce(x.at(i!, k.var), [k]), 'Y');
  return createPrimFunc('rowmax', [x], [y]);
}

async function run(f: PrimFunc, seed: number): Promise<Float32Array> {
  const rand = seededRandom(seed);
  const args = f.params.map((p) => Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, () => rand() - 0.5));
  await runWasmKernel(lowerForCodegen(f), args);
  return args[args.length - 1]!;
}

for (const [name, make] of [['pointwise conv + bias + relu', pointwise], ['matmul', matmul], ['row max (rfactor)', rowMax]] as const) {
  test(`decisions: random decisions of the CPU rules compute what the default does (${name})`, async () => {
    const want = await run(defaultSchedule(make(), WASM).func, 7);
    const seen = new Set<string>();
    for (let seed = 1; seed <= 16; seed++) {
      const sch = defaultSchedule(make(), WASM, randomDecisions(seededRandom(seed)));
      const decisions = decisionsOf(sch.trace);
      assert.ok(decisions.size > 0, 'the rules leave choices open');
      seen.add(JSON.stringify([...decisions]));
      const got = await run(sch.func, 7);
      got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) <= 1e-5 + 1e-4 * Math.abs(want[i]!), `seed ${seed} element ${i}: ${v} vs ${want[i]}`));
      // Its trace replays to the same program, and the decisions given back reproduce it.
      const replayed = new Schedule(make());
      replayed.replay(sch.trace);
      assert.equal(printPrimFunc(replayed.func), printPrimFunc(sch.func));
      assert.equal(printPrimFunc(defaultSchedule(make(), WASM, givenDecisions(decisions)).func), printPrimFunc(sch.func));
    }
    assert.ok(seen.size >= 4, `random decisions explore the space (${seen.size} distinct of 16)`);
  });
}

test('decisions: a decider that gives nothing keeps the defaults; the defaults are the untuned schedule', () => {
  const plain = defaultSchedule(pointwise(), WASM);
  const none = defaultSchedule(pointwise(), WASM, () => undefined);
  assert.deepEqual(none.trace, plain.trace);
  const tile = plain.trace.find((i) => i.prim === 'sample_categorical' && i.key === 'tile:acc');
  assert.ok(tile && tile.prim === 'sample_categorical' && tile.candidates.length > 1, 'the tile shape is a choice among several');
});

test('decisions: decisions that do not fit their instruction are refused', () => {
  const cat = { prim: 'sample_categorical', key: 'c', candidates: ['a', 'b'], decision: 0 } as const;
  assert.throws(() => checkDecision(cat, 2, 'f'), /not an index of its 2 candidates/);
  assert.throws(() => checkDecision(cat, 0.5, 'f'), /not an index/);
  const tile = { prim: 'sample_perfect_tile', key: 't', loop: 'i', extent: 12, n: 2, maxInnermost: 4, decision: [12, 1] } as const;
  assert.throws(() => checkDecision(tile, [4, 4], 'f'), /product is not the extent 12/);
  assert.throws(() => checkDecision(tile, [2, 6], 'f'), /innermost factor exceeds 4/);
  assert.throws(() => checkDecision(tile, [12], 'f'), /not 2 positive factors/);
  assert.throws(() => checkDecision(tile, [-12, -1], 'f'), /not 2 positive factors/);
  checkDecision(tile, [3, 4], 'f');
  // A decider's bad decision is refused by the schedule, naming the key.
  assert.throws(() => defaultSchedule(pointwise(), WASM, (i) => (i.key === 'tile:acc' ? 999 : undefined)), (e: unknown) => e instanceof ScheduleError && /tile:acc/.test(e.message));
});

test('decisions: a key sampled twice and a trace replayed on a loop of another extent are refused', () => {
  const sch = new Schedule(matmul());
  sch.sampleCategorical('k', ['x', 'y'], 0);
  assert.throws(() => sch.sampleCategorical('k', ['x', 'y'], 1), /sampled twice/);
  const loop = sch.getLoops('C')[2]!.loopVar.name;
  assert.throws(() => sch.samplePerfectTile('t', loop, 2, 4, [8, 5]), /innermost factor exceeds 4/);
  const f = sch.samplePerfectTile('t', loop, 2, 8, [8, 5]);
  assert.deepEqual(f, [8, 5]);
  const other = new Schedule(rowMax());
  const otherLoop = other.getLoops('Y')[1]!.loopVar.name;
  assert.throws(() => other.apply({ prim: 'sample_perfect_tile', key: 't', loop: otherLoop, extent: 40, n: 2, maxInnermost: 8, decision: [8, 5] }), /extent 64, the trace says 40/);
  assert.throws(() => sch.sampleComputeLocation('loc', 'nope', ['a'], 0), /no block named nope/);
  assert.equal(sch.sampleComputeLocation('loc', 'C', ['a', 'b'], 1), 'b');
});

test('decisions: random perfect tiles multiply to the extent and respect the innermost bound', () => {
  const rand = seededRandom(3);
  for (let i = 0; i < 200; i++) {
    const extent = [1, 7, 12, 64, 96, 360][i % 6]!;
    const n = 1 + (i % 4);
    const f = randomPerfectTile(extent, n, 8, rand);
    assert.equal(f.length, n);
    assert.equal(f.reduce((a, b) => a * b, 1), extent);
    if (n > 1) assert.ok(f[n - 1]! <= 8);
  }
});

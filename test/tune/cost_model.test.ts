/** Cost models: group-normalized online training, ranking quality, the random baseline, metrics. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GbtCostModel, type MeasuredSample, RandomCostModel, pairwiseAccuracy, topKRecall, topKScore } from '../../src/tune/cost_model.js';
import { GradientBoostedTrees } from '../../src/tune/gbt.js';
import { seededRandom } from '../../src/schedule/decisions.js';
import { compute, placeholder, reduceAxis, sum, type Tensor as TeTensor } from '../../src/te/tensor.js';
import { createPrimFunc } from '../../src/te/lower.js';
import { Schedule } from '../../src/schedule/schedule.js';
import { mul } from '../../src/ir/expr.js';
import { NUM_FEATURES, extractFeatures } from '../../src/tune/features.js';

/**
 * Synthetic measurements: group g runs at scale[g] · exp(q(x)), q a nonlinear function of
 * the first features; the rest are noise the model must ignore.
 */
function synthetic(n: number, seed: number): MeasuredSample[] {
  const r = seededRandom(seed);
  const scale: Record<string, number> = { a: 1, b: 50, c: 2000 };
  const groups = Object.keys(scale);
  const out: MeasuredSample[] = [];
  for (let i = 0; i < n; i++) {
    const x = Float64Array.from({ length: 12 }, () => r());
    const q = 2 * x[0]! - 3 * (x[1]! - 0.5) ** 2 + (x[2]! > 0.6 ? 1 : 0) + x[3]! * x[4]!;
    const group = groups[i % groups.length]!;
    out.push({ features: x, throughput: scale[group]! * Math.exp(q + 0.05 * (r() - 0.5)), group });
  }
  return out;
}

test('trained on several groups, the model ranks held-out samples well above chance; random does not', () => {
  const train = synthetic(300, 1), held = synthetic(150, 2);
  const model = new GbtCostModel({ gbt: { seed: 3 } });
  // Online: measurements arrive in batches.
  for (let i = 0; i < train.length; i += 50) model.update(train.slice(i, i + 50));
  assert.equal(model.size, 300);
  assert.ok(model.trained);
  const actual = held.map((s) => s.throughput);
  const groups = held.map((s) => s.group);
  const pred = model.predict(held.map((s) => s.features));
  const acc = pairwiseAccuracy(pred, actual, groups);
  assert.ok(acc > 0.8, `GBT pairwise accuracy ${acc}`);
  assert.ok(topKRecall(pred, actual, 10, groups) > 0.5);
  assert.ok(topKScore(pred, actual, 5, groups) > 0.9);
  const random = new RandomCostModel(4);
  random.update(train);
  assert.equal(random.size, 300);
  const racc = pairwiseAccuracy(random.predict(held.map((s) => s.features)), actual, groups);
  assert.ok(racc > 0.4 && racc < 0.6, `random pairwise accuracy ${racc}`);
  // Held-out ranking improves with data: a model of the first 30 samples ranks worse.
  const small = new GbtCostModel({ gbt: { seed: 3 } });
  small.update(train.slice(0, 30));
  assert.ok(pairwiseAccuracy(small.predict(held.map((s) => s.features)), actual, groups) < acc);
});

test('targets are throughput over the best of the group; every group weighs the same', () => {
  const f = (v: number): Float64Array => Float64Array.of(v, 0);
  const model = new GbtCostModel();
  model.update([
    { features: f(0), throughput: 10, group: 'small' },
    { features: f(1), throughput: 5, group: 'small' },
    ...Array.from({ length: 8 }, (_, i) => ({ features: f(i), throughput: 1000 * (i + 1), group: 'big' })),
  ]);
  const { y, w } = model.trainingSet();
  assert.deepEqual([...y.slice(0, 2)], [1, 0.5]);
  assert.deepEqual([...y.slice(2)], Array.from({ length: 8 }, (_, i) => (i + 1) / 8));
  const small = w[0]! + w[1]!, big = w.slice(2).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(small - big) < 1e-12);
  assert.ok(Math.abs((small + big) / w.length - 1) < 1e-12, 'mean weight 1');
  // A later, faster measurement lowers the group's earlier targets.
  model.update([{ features: f(2), throughput: 40, group: 'small' }]);
  assert.deepEqual([...model.trainingSet().y.slice(0, 2)], [0.25, 0.125]);
  // A failed candidate (throughput 0) is a valid measurement; NaN or negative ones are not.
  model.update([{ features: f(3), throughput: 0, group: 'small' }]);
  assert.throws(() => model.update([{ features: f(4), throughput: -1 }]), /non-negative/);
  assert.throws(() => model.update([{ features: f(4), throughput: NaN }]), /finite/);
  assert.throws(() => model.update([{ features: Float64Array.of(1), throughput: 1 }]), /1 features, earlier samples had 2/);
  assert.equal(model.size, 12);
  assert.throws(() => new GbtCostModel({ gbt: { maxDepth: -1 } }), /maxDepth/);
  assert.throws(() => new GbtCostModel({ minSamples: 0 }), /minSamples/);
});

test('before training the model predicts zeros; the pairwise objective works as well', () => {
  const model = new GbtCostModel({ minSamples: 10 });
  const held = synthetic(60, 5);
  model.update(synthetic(5, 6));
  assert.equal(model.trained, false);
  assert.deepEqual([...model.predict(held.map((s) => s.features))], new Array(60).fill(0));
  const ranker = new GbtCostModel({ gbt: { objective: 'pairwise', minChildWeight: 0.01, seed: 1 } });
  ranker.update(synthetic(300, 7));
  const acc = pairwiseAccuracy(ranker.predict(held.map((s) => s.features)), held.map((s) => s.throughput), held.map((s) => s.group));
  assert.ok(acc > 0.8, `pairwise-objective accuracy ${acc}`);
});

/** Matmul 64³ schedules differing in tile sizes, loop order, vectorization and unrolling. */
function matmulSchedules(): Schedule[] {
  const base = (): Schedule => {
    const A = placeholder([64, 64], 'float32', 'A');
    const B = placeholder([64, 64], 'float32', 'B');
    const k = reduceAxis(64, 'k');
    const C = compute([64, 64], (i, j) => sum(mul(A.at(i, k.var), B.at(k.var, j)), [k]), 'C');
    return new Schedule(createPrimFunc('mm', [A, B] as TeTensor[], [C]));
  };
  const out: Schedule[] = [];
  for (const ti of [1, 2, 4, 8, 16]) {
    for (const tj of [4, 8, 16]) {
      for (const variant of ['plain', 'vector', 'unroll-vector'] as const) {
        const sch = base();
        const [io, ii] = sch.split('C_ax0', [-1, ti]);
        const [jo, ji] = sch.split('C_ax1', [-1, tj]);
        sch.reorder(io!, jo!, 'C_r0', ii!, ji!);
        if (variant !== 'plain') {
          const [jv, jl] = sch.split(ji!, [-1, 4]);
          sch.vectorize(jl!);
          if (variant === 'unroll-vector') { sch.unroll(jv!); sch.unroll(ii!); }
        }
        out.push(sch);
      }
    }
  }
  return out;
}

test('real features of 45 matmul schedules: distinct, finite predictions, deterministic training', () => {
  const feats = matmulSchedules().map((s) => extractFeatures(s.func));
  assert.equal(feats.length, 45);
  assert.ok(feats.every((f) => f.length === NUM_FEATURES && f.every(Number.isFinite)));
  const distinct = new Set(feats.map((f) => f.join(',')));
  assert.ok(distinct.size >= 40, `${distinct.size} distinct feature vectors of 45 schedules`);
  // Arbitrary measurements (a seeded stream: nothing is learned from them but the mapping).
  const r = seededRandom(11);
  const samples = feats.slice(0, 30).map((features) => ({ features, throughput: 1 + 9 * r(), group: 'mm64' }));
  const a = new GbtCostModel({ gbt: { seed: 9 } }), b = new GbtCostModel({ gbt: { seed: 9 } });
  a.update(samples);
  b.update(samples);
  const pa = a.predict(feats.slice(30)), pb = b.predict(feats.slice(30));
  assert.ok(pa.every(Number.isFinite));
  assert.deepEqual(pa, pb);
  // Its trees as JSON predict the same.
  const trees = GradientBoostedTrees.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
  assert.deepEqual(trees.predictBatch(feats.slice(30)), pa);
  // The training data itself is fitted: better than chance on the measured schedules.
  const fit = pairwiseAccuracy(a.predict(feats.slice(0, 30)), samples.map((s) => s.throughput));
  assert.ok(fit > 0.7, `training-set pairwise accuracy ${fit}`);
});

test('ranking metrics on known cases', () => {
  assert.equal(pairwiseAccuracy([1, 2, 3], [10, 20, 30]), 1);
  assert.equal(pairwiseAccuracy([3, 2, 1], [10, 20, 30]), 0);
  assert.equal(pairwiseAccuracy([1, 1, 1], [10, 20, 30]), 0.5, 'ties count half');
  assert.equal(pairwiseAccuracy([1, 2, 3], [5, 5, 5]), NaN, 'no pair to order');
  // Pairs across groups do not count: within each group the order is right.
  assert.equal(pairwiseAccuracy([1, 2, 0, 5], [1, 2, 100, 200], ['x', 'x', 'y', 'y']), 1);
  assert.equal(pairwiseAccuracy([1, 2, 0, 5], [1, 2, 100, 200]), 4 / 6);
  // Top-k: the true best two are items 3 and 2; the predicted best two are 3 and 0.
  assert.equal(topKRecall([5, 0, 1, 9], [1, 2, 3, 4], 2), 0.5);
  assert.equal(topKRecall([5, 0, 1, 9], [1, 2, 3, 4], 4), 1);
  assert.equal(topKScore([5, 0, 1, 9], [1, 2, 3, 4], 1), 1);
  assert.equal(topKScore([9, 0, 1, 5], [1, 2, 3, 4], 1), 0.25);
  assert.equal(topKScore([9, 0, 1, 5], [1, 2, 3, 4], 1, ['a', 'a', 'b', 'b']), (0.5 + 1) / 2);
  assert.throws(() => topKRecall([1], [1, 2], 1), /1 predictions for 2 measurements/);
  assert.throws(() => topKScore([1], [1], 0), /positive integer/);
});

/** Gradient-boosted trees: fits known functions, honours weights, is deterministic, round-trips JSON. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GradientBoostedTrees } from '../../src/tune/gbt.js';
import { seededRandom } from '../../src/schedule/decisions.js';
import { pairwiseAccuracy } from '../../src/tune/cost_model.js';

interface Data { X: Float64Array[]; y: Float64Array }

/** n rows of d uniform features in [-1, 1) and targets f(x) + noise·u. */
function data(n: number, d: number, seed: number, f: (x: Float64Array) => number, noise = 0): Data {
  const r = seededRandom(seed);
  const X: Float64Array[] = [];
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = Float64Array.from({ length: d }, () => 2 * r() - 1);
    X.push(x);
    y[i] = f(x) + noise * (2 * r() - 1);
  }
  return { X, y };
}

function mse(pred: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (pred[i]! - y[i]!) ** 2;
  return s / y.length;
}
const mean = (y: Float64Array): number => y.reduce((a, b) => a + b, 0) / y.length;

test('fits y = x0·x1 + noise far better than a constant on held-out data', () => {
  const f = (x: Float64Array): number => x[0]! * x[1]!;
  const train = data(1500, 6, 1, f, 0.05);
  const held = data(500, 6, 2, f, 0.05);
  const m = new GradientBoostedTrees({ nTrees: 200, maxDepth: 4, learningRate: 0.1 });
  m.fit(train.X, train.y);
  assert.equal(m.numTrees, 200);
  assert.equal(m.numFeatures, 6);
  const constant = mse(new Float64Array(held.y.length).fill(mean(train.y)), held.y);
  const model = mse(m.predictBatch(held.X), held.y);
  assert.ok(model < 0.2 * constant, `held-out mse ${model} vs constant ${constant}`);
  // The features x0 and x1 carry (nearly) all the gain.
  const imp = m.featureImportance();
  assert.ok(imp[0]! + imp[1]! > 0.8, `importance ${[...imp].map((v) => v.toFixed(2))}`);
});

test('fits a step function exactly where a bin boundary can hold the step', () => {
  // x2 takes 41 values (so every distinct value gets its own bin); the step lies between two.
  const quantize = (d: Data): Data => {
    for (const x of d.X) x[2] = Math.round(x[2]! * 20) / 20;
    return { X: d.X, y: Float64Array.from(d.X, (x) => (x[2]! > 0.32 ? 1 : 0)) };
  };
  const train = quantize(data(1000, 4, 3, () => 0));
  const held = quantize(data(300, 4, 4, () => 0));
  const m = new GradientBoostedTrees({ nTrees: 60, maxDepth: 3, learningRate: 0.3 });
  m.fit(train.X, train.y);
  const pred = m.predictBatch(held.X);
  for (let i = 0; i < held.X.length; i++) {
    assert.ok(Math.abs(pred[i]! - held.y[i]!) < 0.01, `row ${i}: x2=${held.X[i]![2]} predicted ${pred[i]} for ${held.y[i]}`);
  }
  const imp = m.featureImportance();
  assert.ok(imp[2]! > 0.99, `importance ${[...imp]}`);
  // And a constant predictor is far worse on the same rows.
  assert.ok(mse(new Float64Array(held.y.length).fill(mean(train.y)), held.y) > 0.1);
});

test('sample weights change the fit: contradicting duplicates settle at their weighted mean', () => {
  // Every x appears twice, with target 0 and with target 1; no split can separate them.
  const r = seededRandom(5);
  const X: Float64Array[] = [];
  const y: number[] = [];
  const w: number[] = [];
  for (let i = 0; i < 200; i++) {
    const x = Float64Array.of(r(), r());
    X.push(x, x);
    y.push(0, 1);
    w.push(9, 1);
  }
  const probe = Float64Array.of(0.5, 0.5);
  const plain = new GradientBoostedTrees({ nTrees: 30, learningRate: 0.3, lambda: 0 });
  plain.fit(X, y);
  const weighted = new GradientBoostedTrees({ nTrees: 30, learningRate: 0.3, lambda: 0 });
  weighted.fit(X, y, w);
  assert.ok(Math.abs(plain.predict(probe) - 0.5) < 0.02, `unweighted ${plain.predict(probe)}`);
  assert.ok(Math.abs(weighted.predict(probe) - 0.1) < 0.02, `weighted ${weighted.predict(probe)}`);
});

test('zero-weight samples are ignored', () => {
  const f = (x: Float64Array): number => 2 * x[0]!;
  const clean = data(400, 3, 6, f);
  const X = [...clean.X];
  const y = [...clean.y];
  const w: number[] = y.map(() => 1);
  const r = seededRandom(7);
  for (let i = 0; i < 100; i++) { X.push(Float64Array.of(2 * r() - 1, 2 * r() - 1, 2 * r() - 1)); y.push(100); w.push(0); }
  const held = data(200, 3, 8, f);
  const m = new GradientBoostedTrees({ nTrees: 80, maxDepth: 3 });
  m.fit(X, y, w);
  assert.ok(mse(m.predictBatch(held.X), held.y) < 0.05);
  const unweighted = new GradientBoostedTrees({ nTrees: 80, maxDepth: 3 });
  unweighted.fit(X, y);
  assert.ok(mse(unweighted.predictBatch(held.X), held.y) > 10, 'the outliers do pull an unweighted fit');
});

test('the same seed gives the same trees; another seed (with subsampling) different ones', () => {
  const train = data(500, 8, 9, (x) => Math.sin(3 * x[0]!) + x[1]! * x[2]!, 0.1);
  const opts = { nTrees: 40, subsample: 0.7, colsample: 0.6, seed: 42 };
  const a = new GradientBoostedTrees(opts), b = new GradientBoostedTrees(opts), c = new GradientBoostedTrees({ ...opts, seed: 43 });
  a.fit(train.X, train.y);
  b.fit(train.X, train.y);
  c.fit(train.X, train.y);
  assert.deepEqual(a.toJSON(), b.toJSON());
  const held = data(50, 8, 10, () => 0);
  assert.deepEqual(a.predictBatch(held.X), b.predictBatch(held.X));
  assert.notDeepEqual(a.predictBatch(held.X), c.predictBatch(held.X));
});

test('a JSON round trip predicts identically', () => {
  const train = data(600, 5, 11, (x) => x[0]! * x[1]! - x[3]!, 0.1);
  const m = new GradientBoostedTrees({ nTrees: 50, subsample: 0.8 });
  m.fit(train.X, train.y);
  const back = GradientBoostedTrees.fromJSON(JSON.parse(JSON.stringify(m)));
  const held = data(200, 5, 12, () => 0);
  const p = m.predictBatch(held.X), q = back.predictBatch(held.X);
  for (let i = 0; i < p.length; i++) assert.equal(q[i], p[i]);
  assert.deepEqual(back.options, m.options);
  assert.throws(() => GradientBoostedTrees.fromJSON({ ...m.toJSON(), left: m.toJSON().left.map(() => 0) }), /malformed/);
});

test('the pairwise objective ranks within groups whose targets sit at different scales', () => {
  // Group g's targets are 10·g + f(x): ranks within a group follow f alone.
  const f = (x: Float64Array): number => x[0]! - x[1]! * x[1]!;
  const make = (n: number, seed: number): { X: Float64Array[]; y: Float64Array; g: Float64Array } => {
    const d = data(n, 4, seed, f, 0.02);
    const g = Float64Array.from({ length: n }, (_, i) => i % 3);
    return { X: d.X, y: d.y.map((v, i) => v + 10 * g[i]!), g };
  };
  const train = make(600, 13), held = make(300, 14);
  const m = new GradientBoostedTrees({ objective: 'pairwise', nTrees: 60, maxDepth: 4, minChildWeight: 0.01 });
  m.fit(train.X, train.y, undefined, train.g);
  const groups = [...held.g].map(String);
  const acc = pairwiseAccuracy(m.predictBatch(held.X), held.y, groups);
  assert.ok(acc > 0.85, `pairwise accuracy ${acc}`);
});

test('maxDepth 0 predicts the weighted mean; bad inputs and options are refused', () => {
  const X = [Float64Array.of(0), Float64Array.of(1), Float64Array.of(2)];
  const m = new GradientBoostedTrees({ maxDepth: 0, nTrees: 1, learningRate: 1, lambda: 0 });
  m.fit(X, [1, 2, 6], [1, 1, 2]);
  assert.ok(Math.abs(m.predict(Float64Array.of(5)) - 3.75) < 1e-12);
  assert.throws(() => m.fit(X, [1, 2]), /3 rows but 2 targets/);
  assert.throws(() => m.fit([Float64Array.of(0), Float64Array.of(1, 2)], [1, 2]), /row 1 has 2 features/);
  assert.throws(() => m.fit(X, [1, NaN, 2]), /target 1 is NaN/);
  assert.throws(() => m.fit(X, [1, 2, 3], [1, -1, 1]), /weight 1 is -1/);
  assert.throws(() => m.predict(Float64Array.of(1, 2)), /2 features, the model has 1/);
  assert.throws(() => new GradientBoostedTrees({ maxBins: 300 }), /maxBins/);
  assert.throws(() => new GradientBoostedTrees({ subsample: 0 }), /subsample/);
});

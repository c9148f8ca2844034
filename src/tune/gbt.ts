/**
 * Gradient-boosted regression trees (the learner of the tuner's cost model, tune/cost_model.ts),
 * written here rather than taken from npm: the packages measured were too slow for retraining
 * after every batch of measurements, or lacked per-sample weights.
 *
 * Design (LightGBM/XGBoost "hist" in miniature):
 * - Binning. `fit` cuts each feature at up to maxBins - 1 thresholds: between every pair of
 *   distinct values when there are few, else at quantiles of the training values. Each sample's
 *   features become bin numbers (one byte each, row-major), and a split "bin ≤ b" is the same
 *   test as "x ≤ cut[b]" on raw values, so trees keep raw thresholds and `predict` needs no bins.
 * - Trees grow depth-first to maxDepth. A node's histogram holds, per (feature, bin), the sums
 *   of gradients, hessians and the sample count; the smaller child's is built from its rows and
 *   the larger child's is the parent's minus it (in the parent's buffer, from a pool). A split
 *   maximizes the second-order gain G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ); it needs at least
 *   minSamplesLeaf samples and minChildWeight hessian on each side and a gain above
 *   minSplitGain. Leaves hold −G/(H+λ) times the learning rate (L2-regularized Newton steps).
 * - Objectives. 'squared': squared error, g = w·(pred − y), h = w, started from the weighted
 *   mean of y. 'pairwise': a RankNet-style logistic loss on score differences of pairs within a
 *   group (fit's `groups`; all samples form one group without), each sample paired with
 *   pairsPerSample random partners per tree; predictions are then scores, only their order
 *   within a group means anything.
 * - Weights multiply every sample's gradient and hessian (and a pair's, by the mean of its two).
 * - Row subsampling (per tree) and column subsampling (per tree) draw from a seededRandom
 *   stream seeded by `seed`: the same data and options always give the same trees.
 *
 * Inputs must be finite. At prediction a NaN feature goes to the right (the test x ≤ t fails).
 */

import { seededRandom } from '../schedule/decisions.js';

export type GbtObjective = 'squared' | 'pairwise';

export interface GbtOptions {
  /** Boosting rounds (trees). */
  readonly nTrees: number;
  /** Shrinkage applied to each tree's leaf values. */
  readonly learningRate: number;
  /** Depth of the deepest leaf (a root-only tree has depth 0). */
  readonly maxDepth: number;
  /** Bins per feature, 2..256. */
  readonly maxBins: number;
  /** Least sum of hessians in a child (the sum of weights for 'squared'). */
  readonly minChildWeight: number;
  /** Least number of samples in a child. */
  readonly minSamplesLeaf: number;
  /** L2 regularization of leaf values. */
  readonly lambda: number;
  /** Least gain a split must bring. */
  readonly minSplitGain: number;
  /** Fraction of rows each tree sees (0, 1]. */
  readonly subsample: number;
  /** Fraction of features each tree may split on (0, 1]. */
  readonly colsample: number;
  readonly seed: number;
  readonly objective: GbtObjective;
  /** 'pairwise': partners drawn per sample and tree. */
  readonly pairsPerSample: number;
}

export const DEFAULT_GBT_OPTIONS: GbtOptions = {
  nTrees: 100,
  learningRate: 0.1,
  maxDepth: 6,
  maxBins: 64,
  minChildWeight: 1,
  minSamplesLeaf: 1,
  lambda: 1,
  minSplitGain: 0,
  subsample: 1,
  colsample: 1,
  seed: 0,
  objective: 'squared',
  pairsPerSample: 8,
};

/** A trained model as plain JSON (toJSON / fromJSON); numbers round-trip exactly. */
export interface GbtJSON {
  readonly format: 'tessera-gbt';
  readonly version: 1;
  readonly options: GbtOptions;
  readonly nFeatures: number;
  readonly baseScore: number;
  /** Node arrays of all trees, concatenated; `roots` indexes each tree's root. */
  readonly roots: readonly number[];
  /** Split feature, or -1 at a leaf. */
  readonly feature: readonly number[];
  readonly threshold: readonly number[];
  readonly left: readonly number[];
  readonly right: readonly number[];
  /** A leaf's value (learning rate applied); 0 at splits. */
  readonly value: readonly number[];
  /** A split's gain; 0 at leaves. */
  readonly gain: readonly number[];
}

/** Options over the defaults, checked (a RangeError names the first bad one). */
export function resolveGbtOptions(options: Partial<GbtOptions> = {}): GbtOptions {
  const o = { ...DEFAULT_GBT_OPTIONS, ...options };
  checkOptions(o);
  return o;
}

function checkOptions(o: GbtOptions): void {
  const bad = (what: string): never => { throw new RangeError(`GradientBoostedTrees: ${what}`); };
  if (!Number.isInteger(o.nTrees) || o.nTrees < 0) bad(`nTrees must be a non-negative integer, got ${o.nTrees}`);
  if (!(o.learningRate > 0)) bad(`learningRate must be positive, got ${o.learningRate}`);
  if (!Number.isInteger(o.maxDepth) || o.maxDepth < 0) bad(`maxDepth must be a non-negative integer, got ${o.maxDepth}`);
  if (!Number.isInteger(o.maxBins) || o.maxBins < 2 || o.maxBins > 256) bad(`maxBins must be an integer in 2..256, got ${o.maxBins}`);
  if (!(o.minChildWeight >= 0)) bad(`minChildWeight must be non-negative, got ${o.minChildWeight}`);
  if (!Number.isInteger(o.minSamplesLeaf) || o.minSamplesLeaf < 1) bad(`minSamplesLeaf must be a positive integer, got ${o.minSamplesLeaf}`);
  if (!(o.lambda >= 0)) bad(`lambda must be non-negative, got ${o.lambda}`);
  if (!(o.minSplitGain >= 0)) bad(`minSplitGain must be non-negative, got ${o.minSplitGain}`);
  if (!(o.subsample > 0 && o.subsample <= 1)) bad(`subsample must be in (0, 1], got ${o.subsample}`);
  if (!(o.colsample > 0 && o.colsample <= 1)) bad(`colsample must be in (0, 1], got ${o.colsample}`);
  if (!Number.isInteger(o.pairsPerSample) || o.pairsPerSample < 1) bad(`pairsPerSample must be a positive integer, got ${o.pairsPerSample}`);
  if (o.objective !== 'squared' && o.objective !== 'pairwise') bad(`unknown objective '${String(o.objective)}'`);
}

/**
 * Cut points of one feature from its sorted values: x ≤ cuts[b] falls in bin b or lower.
 * Between each pair of distinct values when there are at most maxBins of them, else where the
 * running count passes each multiple of n / maxBins. A cut sits midway between the distinct
 * values it separates (or on the lower one, where the midpoint rounds up to the upper).
 */
function featureCuts(sorted: Float64Array, maxBins: number): Float64Array {
  const n = sorted.length;
  const uniq: number[] = [];
  const ends: number[] = []; // running count after each distinct value
  for (let i = 0; i < n; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) uniq.push(sorted[i]!);
    else ends.pop();
    ends.push(i + 1);
  }
  const cuts: number[] = [];
  const between = (k: number): number => {
    const a = uniq[k]!, b = uniq[k + 1]!;
    const mid = a + (b - a) / 2;
    return mid < b ? mid : a;
  };
  if (uniq.length <= maxBins) {
    for (let k = 0; k + 1 < uniq.length; k++) cuts.push(between(k));
  } else {
    let next = 1;
    for (let k = 0; k + 1 < uniq.length && next < maxBins; k++) {
      if (ends[k]! * maxBins >= next * n) {
        cuts.push(between(k));
        next = Math.floor((ends[k]! * maxBins) / n) + 1;
      }
    }
  }
  return Float64Array.from(cuts);
}

/** The bin of x: the first cut ≥ x (x ≤ that cut), or the last bin. */
function binOf(cuts: Float64Array, x: number): number {
  let lo = 0, hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cuts[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Split {
  readonly feature: number;
  readonly bin: number;
  readonly gain: number;
}

/** Growing tree nodes (arrays appended as nodes are made). */
class NodeArrays {
  readonly feature: number[] = [];
  readonly threshold: number[] = [];
  readonly left: number[] = [];
  readonly right: number[] = [];
  readonly value: number[] = [];
  readonly gain: number[] = [];
  /** The split bin, for updating the training predictions without raw values. */
  readonly bin: number[] = [];
  add(): number {
    this.feature.push(-1); this.threshold.push(0); this.left.push(-1); this.right.push(-1);
    this.value.push(0); this.gain.push(0); this.bin.push(0);
    return this.feature.length - 1;
  }
}

export class GradientBoostedTrees {
  readonly options: GbtOptions;
  private nFeatures = 0;
  private baseScore = 0;
  private roots = new Int32Array(0);
  private feature = new Int32Array(0);
  private threshold = new Float64Array(0);
  private left = new Int32Array(0);
  private right = new Int32Array(0);
  private value = new Float64Array(0);
  private gain = new Float64Array(0);

  constructor(options: Partial<GbtOptions> = {}) {
    this.options = resolveGbtOptions(options);
  }

  /** Trees in the model (0 before fit). */
  get numTrees(): number {
    return this.roots.length;
  }
  /** Feature count the model was fit on (0 before fit). */
  get numFeatures(): number {
    return this.nFeatures;
  }

  /**
   * Fits the model to rows X (all of one length) and targets y, replacing any earlier fit.
   * `w`: per-sample weights (non-negative; default 1). `groups`: per-sample group ids, used
   * by the 'pairwise' objective (pairs are drawn within a group).
   */
  fit(X: readonly Float64Array[], y: ArrayLike<number>, w?: ArrayLike<number>, groups?: ArrayLike<number>): void {
    const n = X.length;
    const o = this.options;
    if (y.length !== n) throw new RangeError(`GradientBoostedTrees.fit: ${n} rows but ${y.length} targets`);
    if (w && w.length !== n) throw new RangeError(`GradientBoostedTrees.fit: ${n} rows but ${w.length} weights`);
    if (groups && groups.length !== n) throw new RangeError(`GradientBoostedTrees.fit: ${n} rows but ${groups.length} group ids`);
    if (n === 0) throw new RangeError('GradientBoostedTrees.fit: no rows');
    const d = X[0]!.length;
    for (let i = 0; i < n; i++) {
      const row = X[i]!;
      if (row.length !== d) throw new RangeError(`GradientBoostedTrees.fit: row ${i} has ${row.length} features, row 0 has ${d}`);
      for (let f = 0; f < d; f++) if (!Number.isFinite(row[f]!)) throw new RangeError(`GradientBoostedTrees.fit: feature ${f} of row ${i} is ${row[f]}`);
      if (!Number.isFinite(y[i]!)) throw new RangeError(`GradientBoostedTrees.fit: target ${i} is ${y[i]}`);
      if (w && !(w[i]! >= 0 && Number.isFinite(w[i]!))) throw new RangeError(`GradientBoostedTrees.fit: weight ${i} is ${w[i]}`);
    }
    const weight = new Float64Array(n);
    for (let i = 0; i < n; i++) weight[i] = w ? w[i]! : 1;

    // Bins.
    const cuts: Float64Array[] = [];
    const column = new Float64Array(n);
    for (let f = 0; f < d; f++) {
      for (let i = 0; i < n; i++) column[i] = X[i]![f]!;
      cuts.push(featureCuts(column.slice().sort(), o.maxBins));
    }
    const binOffset = new Int32Array(d + 1);
    for (let f = 0; f < d; f++) binOffset[f + 1] = binOffset[f]! + cuts[f]!.length + 1;
    const totalBins = binOffset[d]!;
    const bins = new Uint8Array(n * d);
    for (let i = 0; i < n; i++) {
      const row = X[i]!;
      for (let f = 0; f < d; f++) bins[i * d + f] = binOf(cuts[f]!, row[f]!);
    }

    const rand = seededRandom(o.seed);
    const pairwise = o.objective === 'pairwise';
    let base = 0;
    if (!pairwise) {
      let sw = 0, swy = 0;
      for (let i = 0; i < n; i++) { sw += weight[i]!; swy += weight[i]! * y[i]!; }
      base = sw > 0 ? swy / sw : 0;
    }
    const groupRows = pairwise ? rowsByGroup(n, groups) : [];
    const pred = new Float64Array(n).fill(base);
    const g = new Float64Array(n);
    const h = new Float64Array(n);
    const nodes = new NodeArrays();
    const roots: number[] = [];
    const grower = new TreeGrower(o, n, d, bins, binOffset, totalBins, g, h);
    const allRows = new Int32Array(n);
    for (let i = 0; i < n; i++) allRows[i] = i;
    const allFeatures = Int32Array.from({ length: d }, (_, f) => f);

    for (let t = 0; t < o.nTrees; t++) {
      if (pairwise) pairGradients(groupRows, y, weight, pred, g, h, o.pairsPerSample, rand);
      else for (let i = 0; i < n; i++) { g[i] = weight[i]! * (pred[i]! - y[i]!); h[i] = weight[i]!; }
      let rows: Int32Array;
      if (o.subsample < 1) {
        const picked: number[] = [];
        for (let i = 0; i < n; i++) if (rand() < o.subsample) picked.push(i);
        if (picked.length === 0) picked.push(Math.floor(rand() * n));
        rows = Int32Array.from(picked);
      } else {
        rows = allRows.slice();
      }
      let features = allFeatures;
      if (o.colsample < 1) {
        const k = Math.max(1, Math.round(o.colsample * d));
        const perm = Array.from(allFeatures);
        for (let i = 0; i < k; i++) { // partial Fisher–Yates
          const j = i + Math.floor(rand() * (d - i));
          [perm[i], perm[j]] = [perm[j]!, perm[i]!];
        }
        features = Int32Array.from(perm.slice(0, k).sort((a, b) => a - b));
      }
      const root = grower.grow(rows, features, nodes);
      roots.push(root);
      // Update every row's prediction by walking the new tree on bins.
      for (let i = 0; i < n; i++) {
        let node = root;
        while (nodes.feature[node]! >= 0) node = bins[i * d + nodes.feature[node]!]! <= nodes.bin[node]! ? nodes.left[node]! : nodes.right[node]!;
        pred[i] = pred[i]! + nodes.value[node]!;
      }
    }

    // Raw thresholds from the split bins.
    for (let k = 0; k < nodes.feature.length; k++) {
      const f = nodes.feature[k]!;
      if (f >= 0) nodes.threshold[k] = cuts[f]![nodes.bin[k]!]!;
    }
    this.adopt({ nFeatures: d, baseScore: base, roots, ...nodes });
  }

  /** Takes a fitted or loaded model's trees (typed copies of the node arrays). */
  private adopt(t: Pick<GbtJSON, 'nFeatures' | 'baseScore' | 'roots' | 'feature' | 'threshold' | 'left' | 'right' | 'value' | 'gain'>): void {
    this.nFeatures = t.nFeatures;
    this.baseScore = t.baseScore;
    this.roots = Int32Array.from(t.roots);
    this.feature = Int32Array.from(t.feature);
    this.threshold = Float64Array.from(t.threshold);
    this.left = Int32Array.from(t.left);
    this.right = Int32Array.from(t.right);
    this.value = Float64Array.from(t.value);
    this.gain = Float64Array.from(t.gain);
  }

  /** The model's prediction for one row (the base score before fit). */
  predict(x: ArrayLike<number>): number {
    if (this.roots.length > 0 && x.length !== this.nFeatures) throw new RangeError(`GradientBoostedTrees.predict: ${x.length} features, the model has ${this.nFeatures}`);
    let s = this.baseScore;
    const { feature, threshold, left, right, value } = this;
    for (let t = 0; t < this.roots.length; t++) {
      let node = this.roots[t]!;
      for (let f = feature[node]!; f >= 0; f = feature[node]!) node = x[f]! <= threshold[node]! ? left[node]! : right[node]!;
      s += value[node]!;
    }
    return s;
  }

  predictBatch(X: readonly ArrayLike<number>[]): Float64Array {
    const out = new Float64Array(X.length);
    for (let i = 0; i < X.length; i++) out[i] = this.predict(X[i]!);
    return out;
  }

  /** Total split gain per feature, normalized to sum to 1 (all zero when no tree splits). */
  featureImportance(): Float64Array {
    const imp = new Float64Array(this.nFeatures);
    let total = 0;
    for (let k = 0; k < this.feature.length; k++) {
      const f = this.feature[k]!;
      if (f >= 0) { imp[f] = imp[f]! + this.gain[k]!; total += this.gain[k]!; }
    }
    if (total > 0) for (let f = 0; f < imp.length; f++) imp[f] = imp[f]! / total;
    return imp;
  }

  toJSON(): GbtJSON {
    return {
      format: 'tessera-gbt',
      version: 1,
      options: { ...this.options },
      nFeatures: this.nFeatures,
      baseScore: this.baseScore,
      roots: [...this.roots],
      feature: [...this.feature],
      threshold: [...this.threshold],
      left: [...this.left],
      right: [...this.right],
      value: [...this.value],
      gain: [...this.gain],
    };
  }

  static fromJSON(j: GbtJSON): GradientBoostedTrees {
    if (j.format !== 'tessera-gbt' || j.version !== 1) throw new RangeError(`GradientBoostedTrees.fromJSON: not a version-1 tessera-gbt model`);
    const m = j.feature.length;
    if ([j.threshold, j.left, j.right, j.value, j.gain].some((a) => a.length !== m)) throw new RangeError('GradientBoostedTrees.fromJSON: node arrays of different lengths');
    const node = (k: number): boolean => Number.isInteger(k) && k >= 0 && k < m;
    for (let k = 0; k < m; k++) {
      const f = j.feature[k]!;
      if (f === -1) continue;
      if (!Number.isInteger(f) || f < 0 || f >= j.nFeatures || !node(j.left[k]!) || !node(j.right[k]!) || j.left[k]! <= k || j.right[k]! <= k) {
        throw new RangeError(`GradientBoostedTrees.fromJSON: node ${k} is malformed`);
      }
    }
    if (!j.roots.every(node)) throw new RangeError('GradientBoostedTrees.fromJSON: a root is not a node');
    const model = new GradientBoostedTrees(j.options);
    model.adopt(j);
    return model;
  }
}

/** Rows of each group (group ids compared as numbers; all rows one group without ids). */
function rowsByGroup(n: number, groups: ArrayLike<number> | undefined): Int32Array[] {
  if (!groups) return [Int32Array.from({ length: n }, (_, i) => i)];
  const by = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const k = groups[i]!;
    let list = by.get(k);
    if (!list) by.set(k, (list = []));
    list.push(i);
  }
  return [...by.values()].map((l) => Int32Array.from(l));
}

/**
 * Gradients of the pairwise logistic loss log(1 + exp(−(s_hi − s_lo))) over pairs drawn
 * within each group (the better sample of a pair should score higher).
 */
function pairGradients(groupRows: readonly Int32Array[], y: ArrayLike<number>, w: Float64Array, pred: Float64Array,
  g: Float64Array, h: Float64Array, pairsPerSample: number, rand: () => number): void {
  g.fill(0);
  h.fill(0);
  for (const rows of groupRows) {
    const m = rows.length;
    if (m < 2) continue;
    for (let a = 0; a < m; a++) {
      const i = rows[a]!;
      for (let p = 0; p < pairsPerSample; p++) {
        const j = rows[Math.floor(rand() * m)]!;
        if (y[i] === y[j]) continue;
        const hi = y[i]! > y[j]! ? i : j;
        const lo = hi === i ? j : i;
        const rho = 1 / (1 + Math.exp(pred[hi]! - pred[lo]!));
        const wp = (w[i]! + w[j]!) / 2;
        g[hi] = g[hi]! - rho * wp;
        g[lo] = g[lo]! + rho * wp;
        const hh = Math.max(rho * (1 - rho), 1e-12) * wp;
        h[hi] = h[hi]! + hh;
        h[lo] = h[lo]! + hh;
      }
    }
  }
}

/** a -= b, elementwise. */
function subtractInto(a: Float64Array, b: Float64Array): void {
  const m = a.length;
  for (let k = 0; k < m; k++) a[k] = a[k]! - b[k]!;
}

/**
 * Grows one tree on binned data: histograms of (gradient, hessian, count) per (feature, bin),
 * the larger child's by subtraction, buffers recycled through a pool.
 */
class TreeGrower {
  private readonly pool: Float64Array[] = [];
  private readonly leftRows: Int32Array;

  constructor(
    private readonly o: GbtOptions,
    n: number,
    private readonly d: number,
    private readonly bins: Uint8Array,
    private readonly binOffset: Int32Array,
    private readonly totalBins: number,
    private readonly g: Float64Array,
    private readonly h: Float64Array,
  ) {
    this.leftRows = new Int32Array(n);
  }

  private take(): Float64Array {
    const b = this.pool.pop();
    if (b) { b.fill(0); return b; }
    return new Float64Array(this.totalBins * 3);
  }

  private build(hist: Float64Array, rows: Int32Array, start: number, end: number, features: Int32Array): void {
    const { bins, binOffset, g, h, d } = this;
    const nf = features.length;
    if (nf === d) {
      for (let k = start; k < end; k++) {
        const r = rows[k]!;
        const gi = g[r]!, hi = h[r]!;
        const base = r * d;
        for (let f = 0; f < d; f++) {
          const idx = (binOffset[f]! + bins[base + f]!) * 3;
          hist[idx] += gi; hist[idx + 1] += hi; hist[idx + 2] += 1;
        }
      }
    } else {
      for (let k = start; k < end; k++) {
        const r = rows[k]!;
        const gi = g[r]!, hi = h[r]!;
        const base = r * d;
        for (let q = 0; q < nf; q++) {
          const f = features[q]!;
          const idx = (binOffset[f]! + bins[base + f]!) * 3;
          hist[idx] += gi; hist[idx + 1] += hi; hist[idx + 2] += 1;
        }
      }
    }
  }

  private bestSplit(hist: Float64Array, features: Int32Array, G: number, H: number, C: number): Split | undefined {
    const { lambda, minChildWeight, minSamplesLeaf, minSplitGain } = this.o;
    const parent = (G * G) / (H + lambda);
    let best: Split | undefined;
    let bestGain = minSplitGain;
    for (let q = 0; q < features.length; q++) {
      const f = features[q]!;
      const lo = this.binOffset[f]!, nb = this.binOffset[f + 1]! - lo;
      let gl = 0, hl = 0, cl = 0;
      for (let b = 0; b + 1 < nb; b++) {
        const idx = (lo + b) * 3;
        gl += hist[idx]!; hl += hist[idx + 1]!; cl += hist[idx + 2]!;
        if (cl < minSamplesLeaf || hl < minChildWeight) continue;
        const cr = C - cl, hr = H - hl;
        if (cr < minSamplesLeaf) break;
        if (hr < minChildWeight) continue;
        const gr = G - gl;
        const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parent;
        if (gain > bestGain) { bestGain = gain; best = { feature: f, bin: b, gain }; }
      }
    }
    return best;
  }

  /** Grows a tree over `rows` (reordered in place); returns its root's index in `nodes`. */
  grow(rows: Int32Array, features: Int32Array, nodes: NodeArrays): number {
    const rootHist = this.take();
    this.build(rootHist, rows, 0, rows.length, features);
    let G = 0, H = 0;
    for (let k = 0; k < rows.length; k++) { G += this.g[rows[k]!]!; H += this.h[rows[k]!]!; }
    const root = nodes.add();
    if (!this.splittable(rows.length, 0)) { this.pool.push(rootHist); this.node(root, undefined, rows, 0, rows.length, 0, features, nodes, G, H); }
    else this.node(root, rootHist, rows, 0, rows.length, 0, features, nodes, G, H);
    return root;
  }

  private splittable(count: number, depth: number): boolean {
    return depth < this.o.maxDepth && count >= 2 * this.o.minSamplesLeaf;
  }

  /**
   * Makes node `id` a split or a leaf. `hist` is the node's histogram when it may split
   * (splittable), else undefined; it is handed on to a child or back to the pool.
   */
  private node(id: number, hist: Float64Array | undefined, rows: Int32Array, start: number, end: number, depth: number,
    features: Int32Array, nodes: NodeArrays, G: number, H: number): void {
    const o = this.o;
    const split = hist ? this.bestSplit(hist, features, G, H, end - start) : undefined;
    if (!split) {
      nodes.value[id] = H + o.lambda > 0 ? (-G / (H + o.lambda)) * o.learningRate : 0;
      if (hist) this.pool.push(hist);
      return;
    }
    // Partition rows[start, end): left rows first (stable on both sides).
    const { bins, d } = this;
    const f = split.feature, b = split.bin;
    let nl = 0, nr = 0;
    const tmp = this.leftRows;
    let gl = 0, hl = 0;
    for (let k = start; k < end; k++) {
      const r = rows[k]!;
      if (bins[r * d + f]! <= b) { rows[start + nl++] = r; gl += this.g[r]!; hl += this.h[r]!; }
      else tmp[nr++] = r;
    }
    rows.set(tmp.subarray(0, nr), start + nl);
    const mid = start + nl;
    // Children's histograms, only for children that may split: the smaller one's from its
    // rows; the larger one's as the parent's minus the smaller one's, or from its own rows
    // where they are fewer than the histogram's bins (deep nodes) or the smaller is not needed.
    const parent = hist!;
    const wantL = this.splittable(nl, depth + 1), wantR = this.splittable(nr, depth + 1);
    const leftSmaller = nl <= nr;
    const [s0, s1, l0, l1] = leftSmaller ? [start, mid, mid, end] : [mid, end, start, mid];
    const wantSmall = leftSmaller ? wantL : wantR, wantLarge = leftSmaller ? wantR : wantL;
    let small: Float64Array | undefined, large: Float64Array | undefined;
    const direct = (l1 - l0) * features.length < this.totalBins;
    if (wantSmall || (wantLarge && !direct)) {
      small = this.take();
      this.build(small, rows, s0, s1, features);
    }
    if (wantLarge) {
      large = parent;
      if (small) subtractInto(parent, small);
      else { parent.fill(0); this.build(parent, rows, l0, l1, features); }
    } else {
      this.pool.push(parent);
    }
    if (small && !wantSmall) { this.pool.push(small); small = undefined; }
    nodes.feature[id] = f;
    nodes.bin[id] = b;
    nodes.gain[id] = split.gain;
    const l = nodes.add();
    this.node(l, leftSmaller ? small : large, rows, start, mid, depth + 1, features, nodes, gl, hl);
    const r = nodes.add();
    nodes.left[id] = l;
    nodes.right[id] = r;
    this.node(r, leftSmaller ? large : small, rows, mid, end, depth + 1, features, nodes, G - gl, H - hl);
  }
}

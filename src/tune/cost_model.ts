/**
 * Cost models for the tuner's search: given feature vectors of candidate schedules
 * (tune/features.ts), predict which run faster, so that only the most promising candidates
 * are measured. Higher predictions mean faster; only their order within one workload
 * matters.
 *
 * - GbtCostModel (MetaSchedule's XGBModel in spirit): keeps every measurement it is given and
 *   refits gradient-boosted trees (tune/gbt.ts) on all of them at each update. The target of a
 *   measurement is its throughput divided by the best throughput seen for its workload group,
 *   so workloads of very different speeds share one model on a common [0, 1] scale; each
 *   group's samples together weigh as much as any other group's (a workload measured 1,000
 *   times does not drown one measured 50 times), with the mean weight kept at 1. A group's
 *   best may rise with later measurements, so all targets are recomputed at each refit.
 * - RandomCostModel: uniform random predictions from a seeded stream, learning nothing (the
 *   baseline of the model-guided vs random search ablation).
 * - Ranking metrics for held-out measurements: pairwiseAccuracy (correctly ordered pairs
 *   within a group), topKRecall (how many of the truly best k the predicted best k hold) and
 *   topKScore (the best measured throughput among the predicted top k, relative to the best).
 */
import { type GbtJSON, type GbtOptions, GradientBoostedTrees, resolveGbtOptions } from './gbt.js';
import { seededRandom } from '../schedule/decisions.js';

/** One measured candidate: its features, its throughput (higher is faster; 0 for a failure). */
export interface MeasuredSample {
  readonly features: Float64Array;
  readonly throughput: number;
  /** The workload it belongs to (targets are normalized per group); '' when absent. */
  readonly group?: string;
}

export interface CostModel {
  /** Adds measurements (and retrains, for a learning model). */
  update(samples: readonly MeasuredSample[]): void;
  /** Scores of candidates: higher = predicted faster. */
  predict(features: readonly Float64Array[]): Float64Array;
}

/**
 * The GBT settings the cost model uses unless told otherwise: shallow trees, a minimum leaf
 * weight that (with the mean sample weight 1) keeps leaves from fitting single measurements.
 */
export const COST_MODEL_GBT_OPTIONS: Partial<GbtOptions> = {
  nTrees: 100,
  learningRate: 0.1,
  maxDepth: 6,
  maxBins: 64,
  minChildWeight: 2,
  lambda: 1,
  subsample: 0.9,
  colsample: 0.9,
};

export interface GbtCostModelOptions {
  /** GBT options over COST_MODEL_GBT_OPTIONS (the seed included). */
  readonly gbt?: Partial<GbtOptions>;
  /** Fewest measurements before the model trains; until then predict returns zeros. */
  readonly minSamples?: number;
}

function checkSample(s: MeasuredSample, where: string): void {
  if (!Number.isFinite(s.throughput) || s.throughput < 0) throw new RangeError(`${where}: throughput must be finite and non-negative, got ${s.throughput}`);
}

export class GbtCostModel implements CostModel {
  private readonly features: Float64Array[] = [];
  private readonly throughputs: number[] = [];
  private readonly groups: string[] = [];
  private readonly gbtOptions: GbtOptions;
  private readonly minSamples: number;
  private model: GradientBoostedTrees | undefined;
  private nFeatures = -1;

  constructor(options: GbtCostModelOptions = {}) {
    this.gbtOptions = resolveGbtOptions({ ...COST_MODEL_GBT_OPTIONS, ...options.gbt });
    this.minSamples = options.minSamples ?? 2;
    if (!Number.isInteger(this.minSamples) || this.minSamples < 1) throw new RangeError(`GbtCostModel: minSamples must be a positive integer, got ${this.minSamples}`);
  }

  /** Measurements held. */
  get size(): number {
    return this.features.length;
  }
  /** Whether predictions come from a trained model. */
  get trained(): boolean {
    return this.model !== undefined;
  }

  update(samples: readonly MeasuredSample[]): void {
    for (const s of samples) {
      checkSample(s, 'GbtCostModel.update');
      if (this.nFeatures < 0) this.nFeatures = s.features.length;
      if (s.features.length !== this.nFeatures) throw new RangeError(`GbtCostModel.update: ${s.features.length} features, earlier samples had ${this.nFeatures}`);
    }
    for (const s of samples) {
      this.features.push(s.features);
      this.throughputs.push(s.throughput);
      this.groups.push(s.group ?? '');
    }
    if (samples.length > 0) this.retrain();
  }

  /** Normalized targets and group-balancing weights of the measurements held. */
  trainingSet(): { readonly y: Float64Array; readonly w: Float64Array } {
    const n = this.features.length;
    const best = new Map<string, number>();
    const count = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const g = this.groups[i]!;
      best.set(g, Math.max(best.get(g) ?? 0, this.throughputs[i]!));
      count.set(g, (count.get(g) ?? 0) + 1);
    }
    const y = new Float64Array(n), w = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const g = this.groups[i]!;
      const b = best.get(g)!;
      y[i] = b > 0 ? this.throughputs[i]! / b : 0;
      w[i] = n / (count.size * count.get(g)!);
    }
    return { y, w };
  }

  private retrain(): void {
    if (this.features.length < this.minSamples) return;
    const { y, w } = this.trainingSet();
    const model = new GradientBoostedTrees(this.gbtOptions);
    const ids = new Map<string, number>();
    const groupIds = Float64Array.from(this.groups, (g) => {
      let id = ids.get(g);
      if (id === undefined) ids.set(g, (id = ids.size));
      return id;
    });
    model.fit(this.features, y, w, groupIds);
    this.model = model;
  }

  predict(features: readonly Float64Array[]): Float64Array {
    if (!this.model) return new Float64Array(features.length);
    return this.model.predictBatch(features);
  }

  /** The trained trees (undefined before training), e.g. to inspect feature importance. */
  get trees(): GradientBoostedTrees | undefined {
    return this.model;
  }
  /** The trained trees as JSON (a GradientBoostedTrees.fromJSON predicts as this model does). */
  toJSON(): GbtJSON | undefined {
    return this.model?.toJSON();
  }
}

/** Uniform random scores from a seeded stream; updates are counted and otherwise ignored. */
export class RandomCostModel implements CostModel {
  private readonly rand: () => number;
  private seen = 0;

  constructor(seed = 0) {
    this.rand = seededRandom(seed);
  }
  get size(): number {
    return this.seen;
  }
  update(samples: readonly MeasuredSample[]): void {
    for (const s of samples) checkSample(s, 'RandomCostModel.update');
    this.seen += samples.length;
  }
  predict(features: readonly Float64Array[]): Float64Array {
    return Float64Array.from(features, () => this.rand());
  }
}

// ---------------------------------------------------------------- ranking metrics

function checkLengths(pred: ArrayLike<number>, actual: ArrayLike<number>, groups: readonly (string | undefined)[] | undefined, where: string): void {
  if (pred.length !== actual.length) throw new RangeError(`${where}: ${pred.length} predictions for ${actual.length} measurements`);
  if (groups && groups.length !== actual.length) throw new RangeError(`${where}: ${groups.length} groups for ${actual.length} measurements`);
}

/** Indices of each group (one group of all when `groups` is absent), in order of first appearance. */
function byGroup(n: number, groups: readonly (string | undefined)[] | undefined): number[][] {
  const m = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const g = groups?.[i] ?? '';
    let list = m.get(g);
    if (!list) m.set(g, (list = []));
    list.push(i);
  }
  return [...m.values()];
}

/**
 * The fraction of pairs in the same group with different measured values that the
 * predictions order the same way (a tied prediction counts half). NaN when there is no such pair.
 */
export function pairwiseAccuracy(pred: ArrayLike<number>, actual: ArrayLike<number>, groups?: readonly (string | undefined)[]): number {
  checkLengths(pred, actual, groups, 'pairwiseAccuracy');
  let pairs = 0, right = 0;
  for (const idx of byGroup(actual.length, groups)) {
    for (let a = 0; a < idx.length; a++) {
      for (let b = a + 1; b < idx.length; b++) {
        const i = idx[a]!, j = idx[b]!;
        const da = actual[i]! - actual[j]!;
        if (da === 0) continue;
        pairs++;
        const dp = pred[i]! - pred[j]!;
        if (dp === 0) right += 0.5;
        else if (dp > 0 === da > 0) right++;
      }
    }
  }
  return pairs > 0 ? right / pairs : NaN;
}

/** The first k indices of `idx` by decreasing `v` (ties by position: deterministic). */
function topK(idx: readonly number[], v: ArrayLike<number>, k: number): number[] {
  return [...idx].sort((a, b) => v[b]! - v[a]! || a - b).slice(0, k);
}

/**
 * Per group, the fraction of the k best measured samples that are among the k best
 * predicted ones (k capped at the group's size), averaged over groups.
 */
export function topKRecall(pred: ArrayLike<number>, actual: ArrayLike<number>, k: number, groups?: readonly (string | undefined)[]): number {
  checkLengths(pred, actual, groups, 'topKRecall');
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`topKRecall: k must be a positive integer, got ${k}`);
  const gs = byGroup(actual.length, groups);
  if (gs.length === 0) return NaN;
  let total = 0;
  for (const idx of gs) {
    const kk = Math.min(k, idx.length);
    const predicted = new Set(topK(idx, pred, kk));
    total += topK(idx, actual, kk).filter((i) => predicted.has(i)).length / kk;
  }
  return total / gs.length;
}

/**
 * Per group, the best measured value among the k best predicted samples divided by the
 * group's best measured value (1: the model's top k contain the best), averaged over groups.
 */
export function topKScore(pred: ArrayLike<number>, actual: ArrayLike<number>, k: number, groups?: readonly (string | undefined)[]): number {
  checkLengths(pred, actual, groups, 'topKScore');
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`topKScore: k must be a positive integer, got ${k}`);
  const gs = byGroup(actual.length, groups);
  if (gs.length === 0) return NaN;
  let total = 0;
  for (const idx of gs) {
    const best = idx.reduce((m, i) => Math.max(m, actual[i]!), -Infinity);
    const got = topK(idx, pred, k).reduce((m, i) => Math.max(m, actual[i]!), -Infinity);
    total += best > 0 ? got / best : 1;
  }
  return total / gs.length;
}

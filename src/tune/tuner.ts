/**
 * `tessera tune`: searches schedules for a model's tasks and appends what it measures to a
 * tuning database. Every task's default schedule is measured first; its outputs are the
 * reference every candidate's outputs must match before its time counts (tuning never
 * yields a wrong result). Then, round by round, the task scheduler gives the next batch of
 * trials to the task with the largest expected gain (kernel share of the model's latency
 * times its recent improvement, with optimism for tasks little explored, Ansor's gradient
 * scheduler in spirit), its search proposes candidates, the runner measures them, and the
 * cost model learns from every measurement. Stops at the trial budget, the time limit,
 * when every space is exhausted, or when aborted (Ctrl-C), keeping what was measured.
 */
import type { Graph } from '../graph/ir.js';
import { build } from '../build/build.js';
import type { Target } from '../target/index.js';
import { serializeExecutable } from '../runtime/artifact.js';
import { TesseraError } from '../runtime/error.js';
import type { TypedArray } from '../runtime/dtype.js';
import { isFloatDType } from '../ir/expr.js';
import { type Instruction, Schedule } from '../schedule/schedule.js';
import { decisionsOf, seededRandom } from '../schedule/decisions.js';
import { structuralHash } from '../tir/structural.js';
import { type TuneTask, extractTasks } from './task.js';
import { type Candidate, defaultCandidate } from './space.js';
import { DEFAULT_SEARCH, TaskSearch } from './search.js';
import { type Feed, MeasureRunner } from './runner.js';
import { type TuningDatabase, deviceFingerprint } from './records.js';
import { type CostModel, GbtCostModel, RandomCostModel } from './cost_model.js';

export interface TuneOptions {
  readonly target: Target;
  /** Measured candidates in all (the default schedules included). */
  readonly trials: number;
  readonly db: TuningDatabase;
  /** 'model': candidates ranked by the learned cost model (default); 'random': random picks (the ablation). */
  readonly search?: 'model' | 'random';
  /** Candidates per round (default 8). */
  readonly batch?: number;
  readonly seed?: number;
  /** Stop after this long, in ms. */
  readonly timeLimitMs?: number;
  /** Time each measurement's runs should fill, in ms (default 40). */
  readonly measureMs?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: TuneProgress) => void;
}

export interface TaskReport {
  readonly name: string;
  readonly workload: string;
  readonly count: number;
  readonly flops: number;
  readonly baselineMs: number;
  readonly bestMs: number;
  readonly trials: number;
  /** Candidates that failed to build or run, timed out, or gave other outputs. */
  readonly failures: number;
  /** Why the task was not tuned, if it was not. */
  readonly skipped?: string;
}

export interface TuneProgress {
  readonly trials: number;
  readonly totalTrials: number;
  readonly elapsedMs: number;
  readonly task: TaskReport;
  /** Σ count × best ms over the tasks measured, and the same for their defaults. */
  readonly bestTotalMs: number;
  readonly baselineTotalMs: number;
}

export interface TuneSummary {
  readonly tasks: readonly TaskReport[];
  readonly trials: number;
  readonly elapsedMs: number;
  readonly stopped: 'trials' | 'time' | 'interrupted' | 'exhausted';
  readonly baselineTotalMs: number;
  readonly bestTotalMs: number;
}

/** Schedules of a task measured again at the end (the default among them), and how many times each. */
const CONFIRM_SCHEDULES = 4;
const CONFIRM_ROUNDS = 2;

export class TuneError extends TesseraError {
  constructor(message: string) {
    super(message);
    this.name = 'TuneError';
  }
}

/** Seeded inputs of a task: floats uniform in [-0.5, 0.5), integers and booleans 0 (an index always in range). */
function feedsOf(g: Graph, seed: number): Feed[] {
  const rand = seededRandom(seed);
  return g.inputs.map((v) => {
    const dims = v.type.shape as number[];
    const n = dims.reduce((a, b) => a * b, 1);
    const dtype = v.type.dtype;
    let data: TypedArray;
    if (dtype === 'float32') data = Float32Array.from({ length: n }, () => rand() - 0.5);
    else if (dtype === 'float64') data = Float64Array.from({ length: n }, () => rand() - 0.5);
    else if (dtype === 'int64' || dtype === 'uint64') data = new BigInt64Array(n);
    else if (dtype === 'int32') data = new Int32Array(n);
    else if (dtype === 'bool' || dtype === 'uint8') data = new Uint8Array(n);
    else if (dtype === 'int8') data = new Int8Array(n);
    else throw new TuneError(`input %${v.name}: no seeded inputs for ${dtype}`);
    return { name: v.name, type: dtype, dims, data };
  });
}

/**
 * Whether a candidate's outputs match the default schedule's. Schedules reassociate
 * reductions (tiles, rfactor), so float results differ in the last bits: rtol 1e-3 and
 * atol 1e-4, the whole-model float32 tolerance (inputs are in [-0.5, 0.5)); integers exactly.
 */
export function sameOutputs(got: readonly { data: TypedArray }[], want: readonly { data: TypedArray }[], float: readonly boolean[]): string | undefined {
  for (let o = 0; o < want.length; o++) {
    const a = got[o]?.data;
    const b = want[o]!.data;
    if (!a || a.length !== b.length) return `output ${o} has ${a?.length ?? 0} elements, the default's ${b.length}`;
    for (let i = 0; i < b.length; i++) {
      const x = Number(a[i]!);
      const y = Number(b[i]!);
      if (float[o] ? (Number.isNaN(y) ? !Number.isNaN(x) : !(Math.abs(x - y) <= 1e-4 + 1e-3 * Math.abs(y))) : x !== y) {
        return `output ${o} element ${i}: ${x}, the default schedule's ${y}`;
      }
    }
  }
  return undefined;
}

interface TaskState {
  readonly task: TuneTask;
  readonly search: TaskSearch;
  readonly feeds: Feed[];
  readonly reference: { data: TypedArray }[];
  readonly float: boolean[];
  readonly baselineMs: number;
  /** Best ms after each round. */
  readonly history: number[];
  trials: number;
  failures: number;
  /** After confirmation: the best median, and the default schedule's. */
  confirmedMs?: number;
  confirmedBaselineMs?: number;
}

const baselineOf = (s: TaskState): number => s.confirmedBaselineMs ?? s.baselineMs;
const bestOf = (s: TaskState): number => Math.min(s.confirmedMs ?? s.search.best?.ms ?? s.baselineMs, baselineOf(s));

function report(s: TaskState): TaskReport {
  return {
    name: s.task.name, workload: s.task.workload, count: s.task.count, flops: s.task.flops,
    baselineMs: baselineOf(s), bestMs: bestOf(s), trials: s.trials, failures: s.failures,
  };
}

/** The one-kernel executable of a task with a schedule (its trace replayed on the build's function). */
function artifactOf(task: TuneTask, target: Target, trace: readonly Instruction[]): Uint8Array {
  const r = build(task.graph, {
    target,
    schedule: (func) => {
      const s = new Schedule(func);
      s.replay(trace);
      return s;
    },
  });
  return serializeExecutable(r.executable);
}

export async function tune(graph: Graph, opts: TuneOptions): Promise<TuneSummary> {
  const t0 = performance.now();
  const { target, db } = opts;
  const seed = opts.seed ?? 1;
  const rand = seededRandom(seed);
  const batch = Math.max(1, opts.batch ?? 8);
  const measureMs = opts.measureMs ?? 40;
  const threads = target.threads;
  const model: CostModel = opts.search === 'random' ? new RandomCostModel(seed) : new GbtCostModel();
  const runner = new MeasureRunner();
  const device = deviceFingerprint();
  const targetText = target.toString();
  const reports: TaskReport[] = [];
  const states: TaskState[] = [];
  let trials = 0;
  let stopped: TuneSummary['stopped'] | undefined;
  const shouldStop = (): boolean => {
    if (opts.signal?.aborted) stopped = 'interrupted';
    else if (trials >= opts.trials) stopped = 'trials';
    else if (opts.timeLimitMs !== undefined && performance.now() - t0 >= opts.timeLimitMs) stopped = 'time';
    return stopped !== undefined;
  };
  const totals = (): { best: number; base: number } => states.reduce((t, s) => ({
    best: t.best + s.task.count * bestOf(s), base: t.base + s.task.count * baselineOf(s),
  }), { best: 0, base: 0 });
  const progress = (s: TaskState): void => {
    const t = totals();
    opts.onProgress?.({ trials, totalTrials: opts.trials, elapsedMs: performance.now() - t0, task: report(s), bestTotalMs: t.best, baselineTotalMs: t.base });
  };
  const timeoutFor = (baselineMs: number): number => 20_000 + 50 * baselineMs;
  /** Measures a built candidate: its ms, or why it does not count. */
  const measureBuilt = async (s: Pick<TaskState, 'feeds' | 'reference' | 'float'>, artifact: Uint8Array, baselineMs: number): Promise<number | string> => {
    const m = await runner.measure({ artifact, feeds: s.feeds, threads, minMs: measureMs, maxRuns: 200 }, timeoutFor(baselineMs));
    if (!m.ok) return m.error;
    const wrong = s.reference.length ? sameOutputs(m.outputs, s.reference, s.float) : undefined;
    return wrong ?? m.ms;
  };
  const record = (task: TuneTask, trace: readonly Instruction[], scheduled: string, ms: number, baselineMs: number): void => {
    db.add({ workload: task.workload, target: targetText, device, kernel: task.name, trace, scheduled, ms, baselineMs, flops: task.flops, time: new Date().toISOString() });
  };
  const recordOf = (task: TuneTask, c: Candidate, ms: number, baselineMs: number): void => record(task, c.schedule.trace, structuralHash(c.schedule.func), ms, baselineMs);

  try {
    // The default schedule of every task with open choices: its time and reference outputs.
    for (const task of extractTasks(graph, target)) {
      if (task.decisions === 0) continue;
      if (shouldStop()) break;
      const seeds = db.all().filter((r) => r.workload === task.workload && r.target === targetText).sort((a, b) => a.ms - b.ms).slice(0, 4).map((r) => decisionsOf(r.trace));
      const search = new TaskSearch(task, target, model, rand, seeds, DEFAULT_SEARCH);
      const [base] = search.propose(1);
      const feeds = feedsOf(task.graph, seed);
      const float = task.graph.outputs.map((o) => isFloatDType(o.type.dtype));
      const m = await runner.measure({ artifact: artifactOf(task, target, base!.schedule.trace), feeds, threads, minMs: measureMs, maxRuns: 200 }, 120_000);
      trials++;
      if (!m.ok) {
        reports.push({ name: task.name, workload: task.workload, count: task.count, flops: task.flops, baselineMs: NaN, bestMs: NaN, trials: 1, failures: 1, skipped: `its default schedule does not run: ${m.error}` });
        continue;
      }
      search.observe(base!, m.ms);
      const s: TaskState = { task, search, feeds, reference: m.outputs.map((o) => ({ data: o.data })), float, baselineMs: m.ms, history: [m.ms], trials: 1, failures: 0 };
      states.push(s);
      recordOf(task, base!, m.ms, m.ms);
      model.update([{ features: search.featuresOf(base!), throughput: task.flops / m.ms, group: task.workload }]);
      progress(s);
    }
    // Rounds: the task with the largest expected gain gets the next batch.
    while (!shouldStop()) {
      const open = states.filter((s) => !s.search.exhausted);
      if (open.length === 0) {
        stopped = 'exhausted';
        break;
      }
      const gain = (s: TaskState): number => {
        const best = s.history[s.history.length - 1]!;
        const before = s.history[Math.max(0, s.history.length - 3)]!;
        const recent = (before - best) / best;
        return s.task.count * best * Math.max(recent, 1 / (2 + s.history.length));
      };
      const s = open.reduce((a, b) => (gain(b) > gain(a) ? b : a));
      const cands = s.search.propose(Math.min(batch, opts.trials - trials));
      if (cands.length === 0) continue; // exhausted now; the next round picks another
      const samples: { features: Float64Array; throughput: number; group: string }[] = [];
      let next: Uint8Array | string = buildOrWhy(s.task, target, cands[0]!);
      for (let i = 0; i < cands.length && !shouldStop(); i++) {
        const c = cands[i]!;
        const built = next;
        const pending = typeof built === 'string' ? Promise.resolve(built) : measureBuilt(s, built, s.baselineMs);
        if (i + 1 < cands.length) next = buildOrWhy(s.task, target, cands[i + 1]!); // while the worker measures
        const r = await pending;
        trials++;
        s.trials++;
        if (typeof r === 'string') {
          s.failures++;
          s.search.observe(c, undefined);
          samples.push({ features: s.search.featuresOf(c), throughput: 0, group: s.task.workload });
        } else {
          s.search.observe(c, r);
          recordOf(s.task, c, r, s.baselineMs);
          samples.push({ features: s.search.featuresOf(c), throughput: s.task.flops / r, group: s.task.workload });
        }
        progress(s);
      }
      s.history.push(s.search.best?.ms ?? s.baselineMs);
      model.update(samples);
    }
    // Confirmation: the default and the fastest few schedules of each task (this run's and
    // the database's) measured again, alternating, so a best is a repeated median, not one
    // lucky measurement on a noisy machine (TuningDatabase.best prefers confirmed ones).
    if (!opts.signal?.aborted) {
      for (const s of states) {
        const seen = new Set<string>();
        const picks: { trace: readonly Instruction[]; scheduled: string }[] = [];
        const add = (trace: readonly Instruction[], scheduled: string): void => {
          if (seen.has(scheduled) || picks.length >= CONFIRM_SCHEDULES) return;
          seen.add(scheduled);
          picks.push({ trace, scheduled });
        };
        const base = defaultCandidate(s.task.func, target);
        add(base.schedule.trace, structuralHash(base.schedule.func));
        for (const r of db.ranked(s.task.workload, targetText, device)) add(r.trace, r.scheduled);
        if (picks.length < 2) continue;
        for (let round = 0; round < CONFIRM_ROUNDS && !opts.signal?.aborted; round++) {
          for (const p of picks) {
            const r = await measureBuilt(s, artifactOf(s.task, target, p.trace), s.baselineMs);
            if (typeof r === 'number') record(s.task, p.trace, p.scheduled, r, s.baselineMs);
          }
        }
        const ranked = db.ranked(s.task.workload, targetText, device);
        s.confirmedMs = ranked[0]?.ms;
        s.confirmedBaselineMs = ranked.find((r) => r.scheduled === picks[0]!.scheduled)?.ms;
        progress(s);
      }
    }
  } finally {
    await runner.close();
  }
  const t = totals();
  return { tasks: [...states.map(report), ...reports], trials, elapsedMs: performance.now() - t0, stopped: stopped ?? 'trials', baselineTotalMs: t.base, bestTotalMs: t.best };
}

function buildOrWhy(task: TuneTask, target: Target, c: Candidate): Uint8Array | string {
  try {
    return artifactOf(task, target, c.schedule.trace);
  } catch (e) {
    if (e instanceof TesseraError) return `it does not build: ${e.message}`;
    throw e;
  }
}

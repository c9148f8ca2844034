/**
 * Tuning records: one JSON object per line, keyed by workload (the structural hash of the
 * unscheduled kernel), target (its canonical string) and device (a fingerprint of the
 * machine and engine that measured it). A record holds the schedule as a trace (its
 * sampling instructions carry the decisions) and the structural hash of the function the
 * trace produced. Applying a record replays its trace on the kernel and checks that hash:
 * a trace that no longer replays, or replays to another program (the primitives or the
 * workload changed), is not used; the default schedule is, and the compile says why.
 * Records are appended as they are measured, so an interrupted tuning run keeps them.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { arch, cpus } from 'node:os';
import { TesseraError } from '../runtime/error.js';
import type { Target } from '../target/index.js';
import type { PrimFunc } from '../tir/stmt.js';
import { structuralHash } from '../tir/structural.js';
import { type Instruction, Schedule, ScheduleError } from '../schedule/schedule.js';
import { defaultSchedule } from '../schedule/default.js';
import type { ScheduleProvider } from '../build/lower.js';

export interface TuningRecord {
  readonly workload: string;
  readonly target: string;
  readonly device: string;
  /** The kernel it was measured as (for reports; not part of the key). */
  readonly kernel: string;
  readonly trace: readonly Instruction[];
  /** Structural hash of the scheduled function the trace produces. */
  readonly scheduled: string;
  /** Median time of the kernel, in ms. */
  readonly ms: number;
  /** The default schedule's median time, measured in the same run, in ms. */
  readonly baselineMs: number;
  readonly flops: number;
  /** When it was measured (ISO 8601). */
  readonly time: string;
}

export class RecordsError extends TesseraError {
  constructor(message: string) {
    super(message);
    this.name = 'RecordsError';
  }
}

/** The machine and engine a measurement holds for: CPU model and count, architecture, V8. */
export function deviceFingerprint(): string {
  const c = cpus();
  return `${arch()} ${(c[0]?.model ?? 'unknown cpu').trim()} x${c.length} v8-${process.versions.v8}`;
}

function checkRecord(r: unknown, where: string): TuningRecord {
  const o = r as Partial<TuningRecord> | null;
  const str = (k: keyof TuningRecord): boolean => typeof o?.[k] === 'string';
  const num = (k: keyof TuningRecord): boolean => typeof o?.[k] === 'number' && Number.isFinite(o[k] as number);
  if (!o || typeof o !== 'object' || !str('workload') || !str('target') || !str('device') || !str('scheduled') || !Array.isArray(o.trace) || !num('ms')) {
    throw new RecordsError(`${where}: not a tuning record (it needs workload, target, device, trace, scheduled and ms)`);
  }
  return o as TuningRecord;
}

/** What applying records did in one build: kernels scheduled by a record, and records refused (with why). */
export interface ApplyReport {
  applied: number;
  readonly refused: string[];
}

export class TuningDatabase {
  private readonly records: TuningRecord[] = [];

  /** `file`: where `add` appends (and what `load` read), if anywhere. */
  constructor(readonly file?: string) {}

  /** Reads a records file (a missing file is an empty database that `add` creates). */
  static load(file: string): TuningDatabase {
    const db = new TuningDatabase(file);
    if (!existsSync(file)) return db;
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (e) {
        throw new RecordsError(`${file}:${i + 1}: not JSON (${e instanceof Error ? e.message : String(e)})`);
      }
      db.records.push(checkRecord(parsed, `${file}:${i + 1}`));
    });
    return db;
  }

  /** Several records files as one database (read-only: `add` appends nowhere). */
  static loadAll(files: readonly string[]): TuningDatabase {
    const db = new TuningDatabase();
    for (const f of files) db.records.push(...TuningDatabase.load(f).records);
    return db;
  }

  get size(): number {
    return this.records.length;
  }

  all(): readonly TuningRecord[] {
    return this.records;
  }

  /** Adds a record (and appends it to the file at once). */
  add(r: TuningRecord): void {
    this.records.push(r);
    if (this.file) appendFileSync(this.file, JSON.stringify(r) + '\n');
  }

  /**
   * The fastest schedule of a workload for a target, as a record whose `ms` is the median of
   * every measurement of that scheduled program: measured on this device when there is one,
   * else on any device (a record carries over, its time then only a guide). Programs
   * measured more than once (confirmed, tune's last phase) are preferred: one lucky
   * measurement of a noisy machine does not beat a repeated one.
   */
  best(workload: string, target: string, device: string = deviceFingerprint()): TuningRecord | undefined {
    return this.ranked(workload, target, device)[0];
  }

  /** Every scheduled program of a workload, fastest first by median time (confirmed ones first), as in best. */
  ranked(workload: string, target: string, device: string = deviceFingerprint()): TuningRecord[] {
    const mine = this.records.filter((r) => r.workload === workload && r.target === target);
    const here = mine.filter((r) => r.device === device);
    const groups = new Map<string, TuningRecord[]>();
    for (const r of here.length ? here : mine) groups.set(r.scheduled, [...(groups.get(r.scheduled) ?? []), r]);
    const median = (xs: readonly number[]): number => {
      const s = [...xs].sort((a, b) => a - b);
      return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
    };
    const all = [...groups.values()].map((rs) => ({ r: { ...rs[rs.length - 1]!, ms: median(rs.map((x) => x.ms)) }, n: rs.length }));
    const confirmed = all.some((g) => g.n > 1);
    return all.filter((g) => !confirmed || g.n > 1).sort((a, b) => a.r.ms - b.r.ms).map((g) => g.r);
  }

  /**
   * A ScheduleProvider for builds: the best record's trace for each workload (re-verified:
   * it must replay and produce the program it recorded), else the default rules. `report`
   * collects what happened.
   */
  provider(report: ApplyReport = { applied: 0, refused: [] }): ScheduleProvider {
    return (func: PrimFunc, target: Target): Schedule => {
      const rec = this.best(structuralHash(func), target.toString());
      if (!rec) return defaultSchedule(func, target);
      const sch = replayRecord(func, rec);
      if (typeof sch === 'string') {
        report.refused.push(`${func.name}: ${sch}`);
        return defaultSchedule(func, target);
      }
      report.applied++;
      return sch;
    };
  }
}

/** Replays a record's trace on `func`; a string says why it does not apply. */
export function replayRecord(func: PrimFunc, rec: TuningRecord): Schedule | string {
  const sch = new Schedule(func);
  try {
    sch.replay(rec.trace);
  } catch (e) {
    if (e instanceof ScheduleError) return `its record does not replay (${e.message})`;
    throw e;
  }
  if (structuralHash(sch.func) !== rec.scheduled) return 'its record replays to a different program than it measured';
  return sch;
}

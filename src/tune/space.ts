/**
 * A task's search space: the default rules of its target run with decisions given
 * (schedule/decisions.ts). A candidate is the schedule one decision map yields; its id is
 * the canonical text of the decisions it took. Mutators change one decision of a
 * candidate's trace, by kind: a categorical choice or a compute location takes another
 * candidate; a perfect tile moves a prime factor from one level to another (or, with no
 * such move, takes a random factorization). Decisions that no longer fit after another one
 * changed (their candidates changed) fall back to the rule's default.
 */
import type { Target } from '../target/index.js';
import type { PrimFunc } from '../tir/stmt.js';
import { type Schedule, ScheduleError } from '../schedule/schedule.js';
import { defaultSchedule } from '../schedule/default.js';
import { type Decider, type Decision, type SampleInstruction, checkDecision, decisionsOf, isSample, randomDecisions, randomPerfectTile } from '../schedule/decisions.js';

export interface Candidate {
  /** Canonical text of its decisions (equal schedules of one task have equal ids). */
  readonly id: string;
  readonly decisions: ReadonlyMap<string, Decision>;
  readonly schedule: Schedule;
}

export function decisionsId(d: ReadonlyMap<string, Decision>): string {
  return JSON.stringify([...d].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Given decisions where they fit their instruction, else the rule's default. */
function fitting(decisions: ReadonlyMap<string, Decision>, func: string): Decider {
  return (inst) => {
    const d = decisions.get(inst.key);
    if (d === undefined) return undefined;
    try {
      checkDecision(inst, d, func);
      return d;
    } catch (e) {
      if (e instanceof ScheduleError) return undefined;
      throw e;
    }
  };
}

/** The candidate a decider yields, or undefined where the rules refuse its choices (a primitive's precondition). */
export function candidateOf(func: PrimFunc, target: Target, decide?: Decider): Candidate | undefined {
  let schedule: Schedule;
  try {
    schedule = defaultSchedule(func, target, decide);
  } catch (e) {
    if (e instanceof ScheduleError) return undefined;
    throw e;
  }
  const decisions = decisionsOf(schedule.trace);
  return { id: decisionsId(decisions), decisions, schedule };
}

export function defaultCandidate(func: PrimFunc, target: Target): Candidate {
  const c = candidateOf(func, target);
  if (!c) throw new ScheduleError('default schedule', func.name, 'the default rules refuse their own defaults');
  return c;
}

export function withDecisions(func: PrimFunc, target: Target, decisions: ReadonlyMap<string, Decision>): Candidate | undefined {
  return candidateOf(func, target, fitting(decisions, func.name));
}

export function randomCandidate(func: PrimFunc, target: Target, rand: () => number): Candidate | undefined {
  return candidateOf(func, target, randomDecisions(rand));
}

/** Prime factors of n, ascending with repeats. */
function primeFactors(n: number): number[] {
  const out: number[] = [];
  for (let p = 2; p * p <= n; p++) while (n % p === 0) { out.push(p); n /= p; }
  if (n > 1) out.push(n);
  return out;
}

/** Another decision for one sampling instruction, or undefined when it has no other. */
export function mutateDecision(inst: SampleInstruction, rand: () => number): Decision | undefined {
  switch (inst.prim) {
    case 'sample_categorical': case 'sample_compute_location': {
      if (inst.candidates.length < 2) return undefined;
      const k = Math.floor(rand() * (inst.candidates.length - 1));
      return k >= inst.decision ? k + 1 : k;
    }
    case 'sample_perfect_tile': {
      const f = [...inst.decision];
      // Moves: a prime factor of level a to level b, keeping the innermost within bounds.
      const moves: [number, number, number][] = [];
      f.forEach((x, a) => {
        for (const p of new Set(primeFactors(x))) {
          f.forEach((y, b) => {
            if (a !== b && (b !== f.length - 1 || y * p <= inst.maxInnermost)) moves.push([a, b, p]);
          });
        }
      });
      if (moves.length) {
        const [a, b, p] = moves[Math.floor(rand() * moves.length)]!;
        f[a] = f[a]! / p;
        f[b] = f[b]! * p;
        return f;
      }
      const r = randomPerfectTile(inst.extent, inst.n, inst.maxInnermost, rand);
      return r.every((x, i) => x === f[i]) ? undefined : r;
    }
  }
}

/** A candidate with one of its decisions changed (a few tries), or undefined when none changes it. */
export function mutate(func: PrimFunc, target: Target, c: Candidate, rand: () => number): Candidate | undefined {
  const samples = c.schedule.trace.filter(isSample);
  for (let attempt = 0; attempt < 8 && samples.length; attempt++) {
    const inst = samples[Math.floor(rand() * samples.length)]!;
    const d = mutateDecision(inst, rand);
    if (d === undefined) continue;
    const next = withDecisions(func, target, new Map([...c.decisions, [inst.key, d]]));
    if (next && next.id !== c.id) return next;
  }
  return undefined;
}

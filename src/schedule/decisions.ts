/**
 * Decisions: the choices a schedule rule leaves open, made by sampling instructions
 * (MetaSchedule's sample_categorical, sample_perfect_tile, sample_compute_location) and
 * recorded in the trace with the choice taken. A rule states each choice with its
 * candidates and its default (the closed-form choice an untuned build takes); a `Decider`
 * picks: the default, a decision given per key (a tuning record, a mutated trace), or a
 * random one (the search's initial population). The space of a kernel is its rules; a
 * point in it is the map from decision keys to decisions.
 */
import { ScheduleError } from './state.js';

/**
 * A sampling instruction with the decision taken. `key` names the choice within its rule
 * set (e.g. "tile:conv"), stable across runs of the rules so a decision can be given back.
 * - categorical: the index of the chosen candidate;
 * - perfect tile: the split factors of `loop` (extent `extent`) into `n` levels, outermost
 *   first, whose product is the extent, the innermost at most `maxInnermost`;
 * - compute location: the index of the loop (among `candidates`, names) a block goes under.
 */
export type SampleInstruction =
  | { readonly prim: 'sample_categorical'; readonly key: string; readonly candidates: readonly string[]; readonly decision: number }
  | { readonly prim: 'sample_perfect_tile'; readonly key: string; readonly loop: string; readonly extent: number; readonly n: number; readonly maxInnermost: number; readonly decision: readonly number[] }
  | { readonly prim: 'sample_compute_location'; readonly key: string; readonly block: string; readonly candidates: readonly string[]; readonly decision: number };

export type Decision = SampleInstruction['decision'];

/**
 * Picks a decision for a sampling instruction, which carries the rule's default decision;
 * undefined keeps the default. Whatever it returns is checked against the instruction.
 */
export type Decider = (inst: SampleInstruction) => Decision | undefined;

/** The decisions given per key; other choices keep their defaults (e.g. a tuning record's). */
export function givenDecisions(decisions: ReadonlyMap<string, Decision>): Decider {
  return (inst) => decisions.get(inst.key);
}

/** A seeded generator of floats in [0, 1) (mulberry32; deterministic per seed): the one PRNG of search and cost model. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The divisors of n, ascending. */
export function divisors(n: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= n; d++) if (n % d === 0) out.push(d);
  return out;
}

/** A uniformly random perfect tile: level by level, a divisor of what is left (the innermost at most maxInnermost). */
export function randomPerfectTile(extent: number, n: number, maxInnermost: number, rand: () => number): number[] {
  const inner = divisors(extent).filter((d) => d <= maxInnermost);
  const factors: number[] = [inner[Math.floor(rand() * inner.length)]!];
  let rest = extent / factors[0]!;
  for (let level = n - 2; level >= 1; level--) {
    const ds = divisors(rest);
    const d = ds[Math.floor(rand() * ds.length)]!;
    factors.unshift(d);
    rest /= d;
  }
  factors.unshift(rest);
  return n === 1 ? [extent] : factors;
}

/** Random decisions for every choice, except where `keep` says to keep the default. */
export function randomDecisions(rand: () => number, keep: (inst: SampleInstruction) => boolean = () => false): Decider {
  return (inst) => {
    if (keep(inst)) return undefined;
    switch (inst.prim) {
      case 'sample_categorical': case 'sample_compute_location': return Math.floor(rand() * inst.candidates.length);
      case 'sample_perfect_tile': return randomPerfectTile(inst.extent, inst.n, inst.maxInnermost, rand);
    }
  };
}

/** Refuses a decision that does not fit its instruction (a record or a mutator gone wrong). */
export function checkDecision(inst: SampleInstruction, d: Decision, func: string): void {
  const fail = (why: string): never => { throw new ScheduleError(inst.prim, func, `decision ${JSON.stringify(d)} for ${inst.key}: ${why}`); };
  switch (inst.prim) {
    case 'sample_categorical': case 'sample_compute_location':
      if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d >= inst.candidates.length) fail(`not an index of its ${inst.candidates.length} candidates`);
      return;
    case 'sample_perfect_tile': {
      if (!Array.isArray(d) || d.length !== inst.n || d.some((x) => !Number.isInteger(x) || x < 1)) fail(`not ${inst.n} positive factors`);
      const f = d as readonly number[];
      if (f.reduce((a, b) => a * b, 1) !== inst.extent) fail(`the factors' product is not the extent ${inst.extent}`);
      if (f[f.length - 1]! > inst.maxInnermost) fail(`the innermost factor exceeds ${inst.maxInnermost}`);
      return;
    }
  }
}

/** The decisions a trace took, by key. */
export function decisionsOf(trace: readonly { readonly prim: string }[]): Map<string, Decision> {
  const out = new Map<string, Decision>();
  for (const inst of trace) if (isSample(inst)) out.set(inst.key, inst.decision);
  return out;
}

export function isSample(inst: { readonly prim: string }): inst is SampleInstruction {
  return inst.prim === 'sample_categorical' || inst.prim === 'sample_perfect_tile' || inst.prim === 'sample_compute_location';
}

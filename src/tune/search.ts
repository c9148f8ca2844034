/**
 * Evolutionary search over one task's decisions (MetaSchedule's EvolutionarySearch in
 * spirit). Each round proposes candidates nobody measured yet:
 * 1. seeds first: the default decisions, then those of the database's records;
 * 2. a population: mutations of the fastest measured candidates (the elite) and random
 *    samples of the space;
 * 3. a few generations evolved on the cost model's predictions alone (no measuring): the
 *    predicted best half survives, and its mutations refill the population;
 * 4. the predicted best, plus a share of random picks from the population (exploration:
 *    the model only knows what was measured).
 * With a RandomCostModel the same loop is random search (the ablation baseline).
 */
import type { Target } from '../target/index.js';
import { type Candidate, defaultCandidate, mutate, randomCandidate, withDecisions } from './space.js';
import type { TuneTask } from './task.js';
import type { CostModel } from './cost_model.js';
import { extractFeatures } from './features.js';
import type { Decision } from '../schedule/decisions.js';

export interface SearchOptions {
  /** Candidates per generation (default 48). */
  readonly population: number;
  /** Generations evolved on predictions per round (default 3). */
  readonly generations: number;
  /** Measured candidates mutations start from (default 8). */
  readonly elite: number;
  /** Share of each round picked at random from the population (default 0.2). */
  readonly epsilon: number;
}

export const DEFAULT_SEARCH: SearchOptions = { population: 48, generations: 3, elite: 8, epsilon: 0.2 };

export class TaskSearch {
  /** Median ms per measured candidate id (Infinity: it failed or gave a wrong result). */
  readonly measured = new Map<string, number>();
  private readonly measuredCandidates: { c: Candidate; ms: number }[] = [];
  private readonly seeds: Candidate[];
  private readonly features = new Map<string, Float64Array>();
  /** Whether the space has shown nothing new in a whole round. */
  exhausted = false;

  constructor(
    readonly task: TuneTask,
    private readonly target: Target,
    private readonly model: CostModel,
    private readonly rand: () => number,
    seedDecisions: readonly ReadonlyMap<string, Decision>[] = [],
    private readonly opts: SearchOptions = DEFAULT_SEARCH,
  ) {
    const seeds = [defaultCandidate(task.func, target)];
    for (const d of seedDecisions) {
      const c = withDecisions(task.func, target, d);
      if (c && !seeds.some((s) => s.id === c.id)) seeds.push(c);
    }
    this.seeds = seeds;
  }

  get best(): { c: Candidate; ms: number } | undefined {
    return this.measuredCandidates.reduce<{ c: Candidate; ms: number } | undefined>((b, m) => (!b || m.ms < b.ms ? m : b), undefined);
  }

  featuresOf(c: Candidate): Float64Array {
    const known = this.features.get(c.id);
    if (known) return known;
    const f = extractFeatures(c.schedule.func);
    this.features.set(c.id, f);
    return f;
  }

  observe(c: Candidate, ms: number | undefined): void {
    const t = ms ?? Infinity;
    this.measured.set(c.id, t);
    if (Number.isFinite(t)) this.measuredCandidates.push({ c, ms: t });
  }

  /** Up to `n` candidates to measure next. */
  propose(n: number): Candidate[] {
    const out: Candidate[] = [];
    const fresh = (c: Candidate | undefined): c is Candidate => c !== undefined && !this.measured.has(c.id) && !out.some((x) => x.id === c.id);
    while (out.length < n && this.seeds.length) {
      const s = this.seeds.shift()!;
      if (fresh(s)) out.push(s);
    }
    if (out.length >= n) return out;
    const { func } = this.task;
    const elite = [...this.measuredCandidates].sort((a, b) => a.ms - b.ms).slice(0, this.opts.elite).map((m) => m.c);
    const pool = new Map<string, Candidate>();
    const add = (c: Candidate | undefined): void => { if (fresh(c) && !pool.has(c.id)) pool.set(c.id, c); };
    for (let i = 0; i < this.opts.population * 2 && pool.size < this.opts.population; i++) {
      if (elite.length && this.rand() < 0.7) add(mutate(func, this.target, elite[Math.floor(this.rand() * elite.length)]!, this.rand));
      else add(randomCandidate(func, this.target, this.rand));
    }
    if (pool.size === 0) {
      this.exhausted = out.length === 0;
      return out;
    }
    const score = (cs: readonly Candidate[]): Map<string, number> => {
      const p = this.model.predict(cs.map((c) => this.featuresOf(c)));
      return new Map(cs.map((c, i) => [c.id, p[i]!]));
    };
    let population = [...pool.values()];
    let scores = score(population);
    for (let g = 0; g < this.opts.generations; g++) {
      const survivors = [...population].sort((a, b) => scores.get(b.id)! - scores.get(a.id)!).slice(0, Math.max(1, population.length >> 1));
      const next = new Map(survivors.map((c) => [c.id, c]));
      for (let i = 0; i < this.opts.population * 2 && next.size < this.opts.population; i++) {
        const m = mutate(func, this.target, survivors[Math.floor(this.rand() * survivors.length)]!, this.rand);
        if (fresh(m) && !next.has(m.id)) next.set(m.id, m);
      }
      population = [...next.values()];
      scores = new Map([...scores, ...score(population.filter((c) => !scores.has(c.id)))]);
    }
    const ranked = [...population].sort((a, b) => scores.get(b.id)! - scores.get(a.id)!);
    const want = n - out.length;
    const explore = Math.min(ranked.length, Math.round(want * this.opts.epsilon));
    const picked = ranked.slice(0, Math.min(ranked.length, want - explore));
    const rest = ranked.slice(picked.length);
    for (let i = 0; i < explore && rest.length; i++) picked.push(rest.splice(Math.floor(this.rand() * rest.length), 1)[0]!);
    return [...out, ...picked];
  }
}

/**
 * The fuzz report: per engine, how its mutants ended (the table of issue 10), the crash,
 * hang and out-of-memory groups with example mutants and a repro command, and the invalid
 * models each engine accepted, grouped by mutation kind.
 */
import type { EngineName, Outcome } from './engines.js';
import type { FeedEdit } from './feeds.js';
import type { JobResult } from './pool.js';

export interface MutantRecord {
  readonly id: number;
  readonly file: string;
  readonly seed: string;
  readonly seedDir: string;
  /** The seed of the generated feeds. */
  readonly feedSeed: number;
  /** For feed-value mutants: the input element changed (the model is the seed's). */
  readonly feedEdit?: FeedEdit;
  readonly kind: string;
  readonly description: string;
  truth?: 'valid' | 'invalid' | 'unknown';
  truthMessage?: string;
  readonly results: Partial<Record<EngineName, JobResult>>;
}

export interface EngineSummary {
  readonly mutants: number;
  /** Accepted and ran (or compiled) where the checker says the model is valid. */
  readonly ranValid: number;
  readonly error: number;
  readonly crash: number;
  readonly hang: number;
  readonly oom: number;
  /** Accepted where the checker rejects the model. */
  readonly invalidAccepted: number;
  /** Accepted where the checker could not judge (its seed fails the checker too), or no checker ran. */
  readonly unknownAccepted: number;
}

export function summarize(records: readonly MutantRecord[], engine: EngineName): EngineSummary {
  const s = { mutants: 0, ranValid: 0, error: 0, crash: 0, hang: 0, oom: 0, invalidAccepted: 0, unknownAccepted: 0 };
  for (const r of records) {
    const res = r.results[engine];
    if (!res) continue;
    s.mutants++;
    const o: Outcome = res.result.outcome;
    if (o === 'ran') {
      if (r.truth === 'valid') s.ranValid++;
      else if (r.truth === 'invalid') s.invalidAccepted++;
      else s.unknownAccepted++;
    } else s[o]++;
  }
  return s;
}

/** A crash's signature: its error class and message with numbers and quoted names blanked. */
export function signature(res: JobResult): string {
  const msg = (res.result.message ?? '').split('\n')[0]!
    .replace(/"[^"]*"|'[^']*'/g, '"…"')
    .replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/gi, 'N');
  return `${res.result.errorName ?? res.result.outcome}: ${msg}`.slice(0, 160);
}

const NAMES: Record<EngineName, string> = { 'tessera': 'Tessera (wasm)', 'tessera-webgpu': 'Tessera (webgpu)', 'ort': 'onnxruntime-node' };

export function summaryTable(records: readonly MutantRecord[], engines: readonly EngineName[]): string {
  const rows = engines.map((e) => {
    const s = summarize(records, e);
    return `| ${NAMES[e]} | ${s.mutants} | ${s.ranValid} | ${s.error} | ${s.crash} | ${s.hang} | ${s.oom} | ${s.invalidAccepted} | ${s.unknownAccepted} |`;
  });
  return [
    '| engine | mutants | valid, ran | clean error | crash | hang | out of memory | invalid model accepted | accepted, validity unknown |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): [string, T[]][] {
  const m = new Map<string, T[]>();
  for (const t of items) {
    const k = key(t);
    const list = m.get(k);
    if (list) list.push(t);
    else m.set(k, [t]);
  }
  return [...m.entries()].sort((a, b) => b[1].length - a[1].length);
}

export interface ReportInput {
  readonly records: readonly MutantRecord[];
  readonly engines: readonly EngineName[];
  readonly seed: number;
  readonly tier: string;
  readonly seeds: number;
  readonly seconds: number;
  readonly checker: string;
  readonly outDir: string;
}

export function renderReport(r: ReportInput): string {
  const lines: string[] = [
    `# Fuzz report`,
    '',
    `${r.records.length} mutants of ${r.seeds} seed models (tier ${r.tier}, seed ${r.seed}), ${r.seconds.toFixed(0)} s. Ground truth: ${r.checker}.`,
    '',
    summaryTable(r.records, r.engines),
    '',
  ];
  for (const e of r.engines) {
    const bad = r.records.filter((m) => ['crash', 'hang', 'oom'].includes(m.results[e]?.result.outcome ?? ''));
    lines.push(`## ${NAMES[e]}: crashes, hangs, out of memory (${bad.length})`, '');
    for (const [sig, ms] of groupBy(bad, (m) => `${m.results[e]!.result.outcome} ${signature(m.results[e]!)}`)) {
      lines.push(`- **${sig}** (${ms.length})`);
      for (const m of ms.slice(0, 4)) lines.push(`  - m${pad(m.id)} ${m.kind} on ${m.seed}: ${m.description}`);
      const ex = ms[0]!;
      lines.push(`  - repro: \`npm run fuzz -- repro ${ex.file} --engine ${e}\``);
      const stack = ex.results[e]!.result.stack;
      if (stack) lines.push('', '```', ...stack.split('\n').slice(0, 8), '```');
    }
    lines.push('');
    const accepted = r.records.filter((m) => m.truth === 'invalid' && m.results[e]?.result.outcome === 'ran');
    lines.push(`## ${NAMES[e]}: invalid models accepted (${accepted.length})`, '');
    for (const [kind, ms] of groupBy(accepted, (m) => m.kind)) {
      lines.push(`- ${kind} (${ms.length})`);
      for (const m of ms.slice(0, 3)) lines.push(`  - m${pad(m.id)} on ${m.seed}: ${m.description} — checker: ${(m.truthMessage ?? '').split('\n')[0]!.slice(0, 200)}`);
    }
    lines.push('');
  }
  if (r.engines.length > 1) {
    const [a, b] = r.engines as [EngineName, EngineName];
    const onlyA = r.records.filter((m) => m.truth === 'invalid' && m.results[a]?.result.outcome === 'ran' && m.results[b]?.result.outcome !== 'ran');
    lines.push(`## Invalid models ${NAMES[a]} accepts and ${NAMES[b]} rejects (${onlyA.length})`, '');
    for (const [kind, ms] of groupBy(onlyA, (m) => m.kind)) {
      lines.push(`- ${kind} (${ms.length}): ${ms.slice(0, 6).map((m) => `m${pad(m.id)}`).join(', ')}`);
      for (const m of ms.slice(0, 2)) lines.push(`  - ${m.description} — ${NAMES[b]}: ${(m.results[b]?.result.message ?? '').split('\n')[0]!.slice(0, 160)}`);
    }
    lines.push('');
  }
  lines.push(`Mutant files kept under ${r.outDir}/mutants (those some engine crashed, hung, ran out of memory on or wrongly accepted); results.json has every mutant.`);
  return `${lines.join('\n')}\n`;
}

export function pad(id: number): string {
  return String(id).padStart(4, '0');
}

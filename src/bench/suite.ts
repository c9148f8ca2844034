/**
 * The peer benchmark: Tessera and its peers side by side on the same inputs. Each
 * configuration (peer × task × threads) runs in a fresh process (worker.ts; thread pools
 * are set once per process); peers alternate within each pass so machine drift hits all
 * alike; the reported latency is the median over passes of each process's median. The
 * table gives ratios Tessera/peer, GFLOP/s, and the fraction of the measured SIMD128 peak.
 * Used by `npm run bench` (bench/run.ts) and `tessera bench <model> --peers`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median } from './measure.js';
import { type Peer, type Task, type WorkerConfig, type WorkerResult, peersFor } from './tasks.js';

export interface SuiteOptions {
  readonly tasks: readonly Task[];
  readonly passes: number;
  readonly threads: readonly number[];
  readonly warmupMs: number;
  readonly runs: number;
  /** Progress lines (one per configuration run). */
  readonly progress?: (line: string) => void;
  /** Tuning records: models also run tuned (peer tessera-tuned), next to untuned. */
  readonly records?: readonly string[];
}

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

export function runWorker(cfg: WorkerConfig): WorkerResult {
  const flags = cfg.task.kind === 'simd-peak' && cfg.task.fma ? ['--experimental-wasm-relaxed-simd'] : [];
  const r = spawnSync(process.execPath, [...flags, WORKER, JSON.stringify(cfg)], { encoding: 'utf8', timeout: 600_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) {
    return { peer: cfg.peer, task: cfg.task.name, threads: cfg.threads, skipped: `failed: ${(r.stderr || r.error?.message || 'no output').trim().split('\n')[0]}` };
  }
  return JSON.parse(line) as WorkerResult;
}

const fmt = (x: number | undefined, d = 2): string => (x === undefined ? '-' : x.toFixed(d));

/** Runs every configuration `passes` times and returns the table's lines. */
export function runSuite(opts: SuiteOptions): string[] {
  const results = new Map<string, WorkerResult[]>();
  const key = (task: string, t: number, p: Peer): string => `${task}|${t}|${p}`;
  for (let pass = 0; pass < opts.passes; pass++) {
    for (const task of opts.tasks) {
      for (const t of task.kind === 'simd-peak' ? [1] : opts.threads) {
        const peers = peersFor(task, !!opts.records?.length);
        const rotated = [...peers.slice(pass % peers.length), ...peers.slice(0, pass % peers.length)];
        for (const peer of rotated) {
          const r = runWorker({ peer, task, threads: t, warmupMs: opts.warmupMs, runs: opts.runs, ...(opts.records ? { records: opts.records } : {}) });
          const k = key(task.name, t, peer);
          results.set(k, [...(results.get(k) ?? []), r]);
          opts.progress?.(`pass ${pass + 1}/${opts.passes} ${task.name} x${t} ${peer}: ${r.medianMs !== undefined ? `${r.medianMs.toFixed(2)} ms` : r.skipped}`);
        }
      }
    }
  }
  const med = (task: string, t: number, p: Peer): number | undefined => {
    const ms = (results.get(key(task, t, p)) ?? []).map((r) => r.medianMs).filter((x): x is number => x !== undefined);
    return ms.length ? median(ms) : undefined;
  };
  const flopsOf = (task: string, t: number, p: Peer): number | undefined => results.get(key(task, t, p))?.find((r) => r.flops)?.flops;

  const out: string[] = [];
  const peak = med('simd128-peak', 1, 'tessera-wasm');
  const peakFlops = flopsOf('simd128-peak', 1, 'tessera-wasm');
  const peakGf = peak && peakFlops ? peakFlops / peak / 1e6 : undefined;
  const fma = med('simd128-peak-fma', 1, 'tessera-wasm');
  const fmaGf = fma && peakFlops ? peakFlops / fma / 1e6 : undefined;

  out.push('', `median latency in ms (median over ${opts.passes} passes of per-process medians); ratio = tessera-wasm / peer (lower is better)`, '');
  out.push(['task', 'thr', 'tessera-wasm', 'ort-web', 'ort-node', 'jax-js', 'T/ort-web', 'T/ort-node', 'T/jax-js', 'T GFLOP/s', 'T %peak*thr'].map((h, i) => (i === 0 ? h.padEnd(22) : h.padStart(i === 1 ? 5 : 14))).join(''));
  for (const task of opts.tasks) {
    if (task.kind === 'simd-peak') continue;
    for (const t of opts.threads) {
      const tw = med(task.name, t, 'tessera-wasm');
      const cols = (['ort-web', 'ort-node', 'jax-js'] as Peer[]).map((p) => med(task.name, t, p));
      const ratios = cols.map((c) => (tw !== undefined && c !== undefined ? tw / c : undefined));
      const flops = flopsOf(task.name, t, 'tessera-wasm');
      const gf = tw && flops ? flops / tw / 1e6 : undefined;
      // The limit at t threads is t times the one-thread SIMD peak.
      const row = [fmt(tw), ...cols.map((c) => fmt(c)), ...ratios.map((r) => fmt(r)), fmt(gf), gf && peakGf ? `${((100 * gf) / (peakGf * t)).toFixed(1)}%` : '-'];
      out.push(task.name.padEnd(22) + String(t).padStart(5) + row.map((c) => c.padStart(14)).join(''));
    }
  }
  if (peakGf) out.push('', `SIMD128 peak of this machine (best of 8-16 independent f32x4 chains): ${fmt(peakGf, 1)} GFLOP/s with mul+add, ${fmt(fmaGf, 1)} GFLOP/s with relaxed fma`);
  const seen = new Set<string>();
  if (opts.records?.length) {
    out.push('', `tuned (tessera-tuned: records ${opts.records.join(', ')}) against untuned and onnxruntime-web; lower is better`, '');
    out.push(['task', 'thr', 'untuned', 'tuned', 'tuned/untuned', 'untuned/ort-web', 'tuned/ort-web'].map((h, i) => (i === 0 ? h.padEnd(22) : h.padStart(i === 1 ? 5 : 16))).join(''));
    for (const task of opts.tasks) {
      if (task.kind !== 'model') continue;
      for (const t of opts.threads) {
        const [u, tu, w] = (['tessera-wasm', 'tessera-tuned', 'ort-web'] as Peer[]).map((p) => med(task.name, t, p));
        const ratio = (a: number | undefined, b: number | undefined): string => fmt(a !== undefined && b !== undefined ? a / b : undefined);
        out.push(task.name.padEnd(22) + String(t).padStart(5) + [fmt(u), fmt(tu), ratio(tu, u), ratio(u, w), ratio(tu, w)].map((c) => c.padStart(16)).join(''));
      }
    }
  }
  for (const s of [...results.values()].flat().filter((r) => r.skipped)) {
    const line = `skipped: ${s.peer} ${s.task} x${s.threads}: ${s.skipped}`;
    if (!seen.has(line)) out.push(line);
    seen.add(line);
  }
  return out;
}

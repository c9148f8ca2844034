/**
 * `tessera tune`: the progress bar and report around tune/tuner.ts. The records file is
 * appended as candidates are measured; Ctrl-C stops after the measurement in flight and
 * keeps everything measured (a second Ctrl-C exits at once).
 */
import { SingleBar } from 'cli-progress';
import type { CompileOptions } from '../driver.js';
import { optimizeModel } from '../driver.js';
import { TuningDatabase } from '../tune/records.js';
import { type TuneProgress, type TuneSummary, tune } from '../tune/tuner.js';

export interface TuneFlags {
  readonly trials: number;
  readonly records: string;
  readonly timeLimit?: number;
  readonly batch: number;
  readonly seed: number;
  readonly search: 'model' | 'random';
  readonly measureMs: number;
}

const gflops = (flops: number, ms: number): string => (Number.isFinite(ms) && ms > 0 ? (flops / ms / 1e6).toFixed(1) : '-');

function eta(p: TuneProgress, timeLimitMs: number | undefined): string {
  const byTrials = p.trials > 0 ? (p.elapsedMs / p.trials) * (p.totalTrials - p.trials) : Infinity;
  const left = Math.min(byTrials, timeLimitMs !== undefined ? timeLimitMs - p.elapsedMs : Infinity);
  if (!Number.isFinite(left)) return '?';
  const s = Math.max(0, Math.round(left / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export function printSummary(r: TuneSummary, log: (line: string) => void): void {
  log('');
  log(`${'task'.padEnd(44)}${'kernels'.padStart(8)}${'MFLOP'.padStart(10)}${'default ms'.padStart(12)}${'best ms'.padStart(10)}${'GFLOP/s'.padStart(9)}${'speedup'.padStart(9)}${'trials'.padStart(8)}`);
  for (const t of r.tasks) {
    if (t.skipped) {
      log(`${t.name.slice(0, 43).padEnd(44)} skipped: ${t.skipped}`);
      continue;
    }
    log(`${t.name.slice(0, 43).padEnd(44)}${String(t.count).padStart(8)}${(t.flops / 1e6).toFixed(1).padStart(10)}${t.baselineMs.toFixed(3).padStart(12)}${t.bestMs.toFixed(3).padStart(10)}`
      + `${gflops(t.flops, t.bestMs).padStart(9)}${(t.baselineMs / t.bestMs).toFixed(2).padStart(8)}x${String(t.trials).padStart(8)}`);
  }
  log('');
  log(`${r.trials} trials in ${(r.elapsedMs / 1000).toFixed(0)} s (stopped: ${r.stopped}); tuned kernels' time ${r.baselineTotalMs.toFixed(2)} ms -> ${r.bestTotalMs.toFixed(2)} ms`
    + ` (${(r.baselineTotalMs / Math.max(r.bestTotalMs, 1e-9)).toFixed(2)}x)`);
}

export async function runTune(model: string, compile: CompileOptions, flags: TuneFlags): Promise<TuneSummary> {
  const { graph, target } = optimizeModel(model, compile);
  const db = TuningDatabase.load(flags.records);
  const abort = new AbortController();
  const onSigint = (): void => {
    if (abort.signal.aborted) process.exit(130);
    abort.abort();
    process.stderr.write('\ninterrupted: stopping after the measurement in flight (records so far are kept; Ctrl-C again to quit now)\n');
  };
  process.on('SIGINT', onSigint);
  const bar = new SingleBar({
    format: 'tuning |{bar}| {value}/{total} trials | {task} {gflops} GFLOP/s ({speedup}x) | kernels {best} ms ({total_speedup}x) | ETA {eta_text}',
    hideCursor: true, stream: process.stderr, etaBuffer: 50, noTTYOutput: true, notTTYSchedule: 10_000,
  });
  bar.start(flags.trials, 0, { task: '', gflops: '-', speedup: '-', best: '-', total_speedup: '-', eta_text: '?' });
  try {
    const r = await tune(graph, {
      target, trials: flags.trials, db, search: flags.search, batch: flags.batch, seed: flags.seed, measureMs: flags.measureMs,
      ...(flags.timeLimit !== undefined ? { timeLimitMs: flags.timeLimit * 1000 } : {}), signal: abort.signal,
      onProgress: (p) => bar.update(p.trials, {
        task: p.task.name.slice(0, 32), gflops: gflops(p.task.flops, p.task.bestMs), speedup: (p.task.baselineMs / p.task.bestMs).toFixed(2),
        best: p.bestTotalMs.toFixed(2), total_speedup: (p.baselineTotalMs / Math.max(p.bestTotalMs, 1e-9)).toFixed(2), eta_text: eta(p, flags.timeLimit !== undefined ? flags.timeLimit * 1000 : undefined),
      }),
    });
    bar.stop();
    return r;
  } finally {
    bar.stop();
    process.off('SIGINT', onSigint);
  }
}

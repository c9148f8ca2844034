/**
 * The kernel sweep (`npm run bench -- --sweep`): single convs and matmuls over the shapes
 * models have and the five public ones lack (1x1 to 7x7, stride 1 and 2, depthwise and
 * grouped, 3 to 2048 channels, 7 to 224 pixels; matmul and GEMV with M, N, K from 1 to
 * 4096; attention's batched matmuls), each measured in a fresh process at one thread. It
 * prints each kernel's GFLOP/s on its nominal flops (2 per multiply-add of the direct
 * algorithm, so a Winograd kernel can pass 100%) and its share of the measured SIMD128
 * peak (the better of mul+add and relaxed fma), and lists the kernels of 10 MFLOP or more
 * below half the peak: where the default schedules fall off a cliff.
 */
import type { Task, WorkerResult } from './tasks.js';
import { runWorker } from './suite.js';
import { median } from './measure.js';

type ConvShape = [ci: number, co: number, hw: number, k: number, stride: number, groups: number];
type GemmShape = [m: number, n: number, k: number, batch: number];

const CONVS: readonly ConvShape[] = [
  // 1x1 (pointwise; bottleneck projections, the classifier conv)
  [64, 256, 56, 1, 1, 1], [256, 64, 56, 1, 1, 1], [512, 128, 28, 1, 1, 1], [1024, 256, 14, 1, 1, 1], [256, 1024, 14, 1, 1, 1],
  [2048, 512, 7, 1, 1, 1], [512, 2048, 7, 1, 1, 1], [1024, 2048, 14, 1, 2, 1], [512, 1000, 13, 1, 1, 1], [16, 96, 112, 1, 1, 1],
  // 3x3
  [3, 32, 224, 3, 2, 1], [64, 64, 56, 3, 1, 1], [128, 128, 28, 3, 1, 1], [256, 256, 14, 3, 1, 1], [512, 512, 7, 3, 1, 1],
  [64, 128, 56, 3, 2, 1], [256, 512, 14, 3, 2, 1], [3, 64, 224, 3, 1, 1],
  // 5x5 and 7x7 (inception branches, the stem)
  [32, 64, 28, 5, 1, 1], [48, 64, 35, 5, 1, 1], [3, 64, 224, 7, 2, 1], [128, 128, 17, 7, 1, 1],
  // depthwise
  [32, 32, 112, 3, 1, 32], [144, 144, 56, 3, 2, 144], [384, 384, 14, 3, 1, 384], [960, 960, 7, 3, 1, 960], [240, 240, 14, 5, 1, 240],
  // grouped (resnext 32x4d, regnet group width 8)
  [128, 128, 56, 3, 1, 32], [256, 256, 28, 3, 2, 32], [1024, 1024, 7, 3, 1, 32], [48, 48, 112, 3, 2, 6], [432, 432, 14, 3, 1, 54],
];

const GEMMS: readonly GemmShape[] = [
  // GEMV (batch-1 classifiers, decoding)
  [1, 1000, 2048, 0], [1, 4096, 4096, 0], [1, 512, 784, 0], [1, 32000, 512, 0],
  // transformer layers (sequence 128)
  [128, 768, 768, 0], [128, 3072, 768, 0], [128, 768, 3072, 0],
  // square and skinny
  [256, 256, 256, 0], [512, 512, 512, 0], [1024, 1024, 1024, 0], [4096, 64, 64, 0], [64, 4096, 64, 0], [64, 64, 4096, 0], [2048, 1, 2048, 0],
  // attention: QK^T and PV per head, and one decode step
  [128, 128, 64, 12], [128, 64, 128, 12], [1, 512, 64, 8], [384, 384, 64, 4],
];

/** A conv's or matmul's nominal flops: 2 per multiply-add of the direct algorithm. */
function nominalFlops(t: Task): number {
  if (t.kind === 'conv') {
    const pad = (t.k - 1) >> 1;
    const out = Math.floor((t.hw + 2 * pad - t.k) / t.stride) + 1;
    return 2 * t.co * out * out * (t.ci / t.groups) * t.k * t.k;
  }
  if (t.kind === 'gemm') return 2 * Math.max(1, t.batch) * t.m * t.n * t.k;
  return 0;
}

export function sweepTasks(): Task[] {
  return [
    ...CONVS.map(([ci, co, hw, k, stride, groups]): Task => ({
      kind: 'conv', name: `conv${k}x${k}${stride > 1 ? `s${stride}` : ''}${groups > 1 ? (groups === ci ? 'dw' : `g${groups}`) : ''} ${ci}->${co} @${hw}`, ci, co, hw, k, stride, groups,
    })),
    ...GEMMS.map(([m, n, k, batch]): Task => ({ kind: 'gemm', name: `${batch ? `bmm${batch}x` : m === 1 ? 'gemv ' : 'gemm '}${m}x${n}x${k}`, m, n, k, batch })),
  ];
}

export interface SweepOptions {
  readonly passes: number;
  readonly warmupMs: number;
  readonly runs: number;
  readonly progress?: (line: string) => void;
}

/** Runs the sweep and returns its table's lines. */
export function runSweep(opts: SweepOptions): string[] {
  const peakTasks: Task[] = [{ kind: 'simd-peak', name: 'simd128-peak', fma: false }, { kind: 'simd-peak', name: 'simd128-peak-fma', fma: true }];
  const peaks = peakTasks.map((task) => {
    const r = runWorker({ peer: 'tessera-wasm', task, threads: 1, warmupMs: opts.warmupMs, runs: opts.runs });
    return r.medianMs && r.flops ? r.flops / r.medianMs / 1e6 : 0;
  });
  const peak = Math.max(...peaks);
  const results = new Map<string, WorkerResult[]>();
  const tasks = sweepTasks();
  for (let pass = 0; pass < opts.passes; pass++) {
    for (const task of tasks) {
      const r = runWorker({ peer: 'tessera-wasm', task, threads: 1, warmupMs: opts.warmupMs, runs: opts.runs });
      results.set(task.name, [...(results.get(task.name) ?? []), r]);
      opts.progress?.(`pass ${pass + 1}/${opts.passes} ${task.name}: ${r.kernelMs !== undefined ? `${r.kernelMs.toFixed(3)} ms` : r.skipped}`);
    }
  }
  const out = ['', `kernel sweep, wasm, 1 thread: the op's kernel's median ms (median over ${opts.passes} passes), GFLOP/s on nominal flops, % of the SIMD128 peak (${peak.toFixed(1)} GFLOP/s)`, ''];
  out.push(`${'kernel'.padEnd(34)}${'MFLOP'.padStart(10)}${'ms'.padStart(10)}${'GFLOP/s'.padStart(10)}${'%peak'.padStart(8)}`);
  const cliffs: string[] = [];
  for (const task of tasks) {
    const rs = results.get(task.name) ?? [];
    const ms = rs.map((r) => r.kernelMs).filter((x): x is number => x !== undefined);
    const flops = nominalFlops(task);
    if (ms.length === 0) {
      out.push(`${task.name.padEnd(34)} ${rs.find((r) => r.skipped)?.skipped ?? 'no result'}`);
      continue;
    }
    const m = median(ms);
    const gf = flops / m / 1e6;
    const pct = (100 * gf) / peak;
    if (flops >= 10e6 && pct < 50) cliffs.push(task.name);
    out.push(`${task.name.padEnd(34)}${(flops / 1e6).toFixed(1).padStart(10)}${m.toFixed(3).padStart(10)}${gf.toFixed(1).padStart(10)}${`${pct.toFixed(0)}%`.padStart(8)}`);
  }
  out.push('', cliffs.length ? `below 50% of the peak (of those with 10 MFLOP or more): ${cliffs.length} of ${tasks.length}: ${cliffs.join(', ')}` : 'every kernel of 10 MFLOP or more reaches 50% of the peak');
  return out;
}

/**
 * `npm run bench`: Tessera and its peers side by side on the same inputs. Each
 * configuration (peer × task × threads) runs in a fresh process; peers alternate
 * within each pass so machine drift hits all alike; the reported latency is the
 * median over passes of each process's median. Prints ratios Tessera/peer, GFLOP/s,
 * and the matmul results as a fraction of the measured SIMD128 peak.
 *
 *   npm run bench -- [--passes 3] [--threads 1,2] [--models resnet18,mobilenet_v2] [--quick]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { median } from '../src/bench/measure.js';
import { type Peer, type Task, type WorkerConfig, type WorkerResult, peersFor } from './tasks.js';

const MODEL_DIRS = ['models', join('..', 'shared', 'models')];
const DEFAULT_MODELS = ['resnet18', 'mobilenet_v2', 'squeezenet1_1', 'bert_encoder_4l_256h', 'mlp_784_512_10'];

function findModel(name: string): string | undefined {
  return MODEL_DIRS.map((d) => join(d, name)).find((d) => existsSync(join(d, 'model.onnx')));
}

function runWorker(cfg: WorkerConfig): WorkerResult {
  const flags = cfg.task.kind === 'simd-peak' && cfg.task.fma ? ['--experimental-wasm-relaxed-simd'] : [];
  const r = spawnSync(process.execPath, [...flags, join('dist', 'bench', 'worker.js'), JSON.stringify(cfg)], { encoding: 'utf8', timeout: 600_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) {
    return { peer: cfg.peer, task: cfg.task.name, threads: cfg.threads, skipped: `failed: ${(r.stderr || r.error?.message || 'no output').trim().split('\n')[0]}` };
  }
  return JSON.parse(line) as WorkerResult;
}

const fmt = (x: number | undefined, d = 2): string => (x === undefined ? '-' : x.toFixed(d));

async function main(): Promise<void> {
  const opts = new Command()
    .option('--passes <n>', 'passes over all configurations', (v) => Number(v), 3)
    .option('--threads <list>', 'thread counts', '1,2')
    .option('--models <list>', 'models (from models/ or ../shared/models)', DEFAULT_MODELS.join(','))
    .option('--matmul <list>', 'matmul sizes', '256,512,1024')
    .option('--quick', 'short warm-up and few runs (a smoke run)')
    .parse(process.argv)
    .opts<{ passes: number; threads: string; models: string; matmul: string; quick?: boolean }>();
  const threads = opts.threads.split(',').map(Number);
  const warmupMs = opts.quick ? 200 : 1000;
  const runs = opts.quick ? 3 : 10;
  const tasks: Task[] = [];
  for (const name of opts.models.split(',').filter(Boolean)) {
    const dir = findModel(name);
    if (dir) tasks.push({ kind: 'model', name, dir });
    else console.log(`(skipping ${name}: not found in ${MODEL_DIRS.join(' or ')})`);
  }
  for (const n of opts.matmul.split(',').filter(Boolean).map(Number)) tasks.push({ kind: 'matmul', name: `matmul${n}`, n });
  tasks.push({ kind: 'simd-peak', name: 'simd128-peak', fma: false }, { kind: 'simd-peak', name: 'simd128-peak-fma', fma: true });

  const results = new Map<string, WorkerResult[]>();
  const key = (task: string, t: number, p: Peer): string => `${task}|${t}|${p}`;
  for (let pass = 0; pass < opts.passes; pass++) {
    for (const task of tasks) {
      for (const t of task.kind === 'simd-peak' ? [1] : threads) {
        const peers = peersFor(task);
        const rotated = [...peers.slice(pass % peers.length), ...peers.slice(0, pass % peers.length)];
        for (const peer of rotated) {
          const r = runWorker({ peer, task, threads: t, warmupMs, runs });
          const k = key(task.name, t, peer);
          results.set(k, [...(results.get(k) ?? []), r]);
          process.stderr.write(`pass ${pass + 1}/${opts.passes} ${task.name} x${t} ${peer}: ${r.medianMs !== undefined ? `${r.medianMs.toFixed(2)} ms` : r.skipped}\n`);
        }
      }
    }
  }
  const med = (task: string, t: number, p: Peer): number | undefined => {
    const ms = (results.get(key(task, t, p)) ?? []).map((r) => r.medianMs).filter((x): x is number => x !== undefined);
    return ms.length ? median(ms) : undefined;
  };
  const flopsOf = (task: string, t: number, p: Peer): number | undefined => results.get(key(task, t, p))?.find((r) => r.flops)?.flops;

  const peak = med('simd128-peak', 1, 'tessera-wasm');
  const peakFlops = flopsOf('simd128-peak', 1, 'tessera-wasm');
  const peakGf = peak && peakFlops ? peakFlops / peak / 1e6 : undefined;
  const fma = med('simd128-peak-fma', 1, 'tessera-wasm');
  const fmaGf = fma && peakFlops ? peakFlops / fma / 1e6 : undefined;

  console.log(`\nmedian latency in ms (median over ${opts.passes} passes of per-process medians); ratio = tessera-wasm / peer (lower is better)\n`);
  console.log(['task', 'thr', 'tessera-wasm', 'ort-web', 'ort-node', 'jax-js', 'T/ort-web', 'T/ort-node', 'T/jax-js', 'T GFLOP/s', 'T %peak*thr'].map((h, i) => (i === 0 ? h.padEnd(22) : h.padStart(i === 1 ? 5 : 14))).join(''));
  for (const task of tasks) {
    if (task.kind === 'simd-peak') continue;
    for (const t of threads) {
      const tw = med(task.name, t, 'tessera-wasm');
      const cols = (['ort-web', 'ort-node', 'jax-js'] as Peer[]).map((p) => med(task.name, t, p));
      const ratios = cols.map((c) => (tw !== undefined && c !== undefined ? tw / c : undefined));
      const flops = flopsOf(task.name, t, 'tessera-wasm');
      const gf = tw && flops ? flops / tw / 1e6 : undefined;
      // The limit at t threads is t times the one-thread SIMD peak.
      const row = [fmt(tw), ...cols.map((c) => fmt(c)), ...ratios.map((r) => fmt(r)), fmt(gf), gf && peakGf ? `${((100 * gf) / (peakGf * t)).toFixed(1)}%` : '-'];
      console.log(task.name.padEnd(22) + String(t).padStart(5) + row.map((c) => c.padStart(14)).join(''));
    }
  }
  console.log(`\nSIMD128 peak of this machine (best of 8-16 independent f32x4 chains): ${fmt(peakGf, 1)} GFLOP/s with mul+add, ${fmt(fmaGf, 1)} GFLOP/s with relaxed fma`);
  const skipped = [...results.values()].flat().filter((r) => r.skipped);
  const seen = new Set<string>();
  for (const s of skipped) {
    const line = `${s.peer} ${s.task} x${s.threads}: ${s.skipped}`;
    if (!seen.has(line)) console.log(`skipped: ${line}`);
    seen.add(line);
  }
}

void main();

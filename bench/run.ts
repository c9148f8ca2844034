/**
 * `npm run bench`: Tessera and its peers side by side on the same inputs. Each
 * configuration (peer × task × threads) runs in a fresh process; peers alternate
 * within each pass so machine drift hits all alike; the reported latency is the
 * median over passes of each process's median. Prints ratios Tessera/peer, GFLOP/s,
 * and the matmul results as a fraction of the measured SIMD128 peak.
 *
 *   npm run bench -- [--passes 3] [--threads 1,2] [--models resnet18,mobilenet_v2] [--quick]
 *   npm run bench -- --sweep [--passes 1] [--quick]   (single kernels: GFLOP/s and % of the SIMD128 peak)
 *   npm run bench -- --records a.jsonl,b.jsonl        (models also tuned: untuned vs tuned vs the peers)
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { runSuite } from '../src/bench/suite.js';
import { runSweep } from '../src/bench/sweep.js';
import type { Task } from '../src/bench/tasks.js';

const MODEL_DIRS = ['models', join('..', 'shared', 'models'), 'corpus'];
const DEFAULT_MODELS = ['resnet18', 'mobilenet_v2', 'squeezenet1_1', 'bert_encoder_4l_256h', 'mlp_784_512_10'];

function findModel(name: string): string | undefined {
  return MODEL_DIRS.map((d) => join(d, name)).find((d) => existsSync(join(d, 'model.onnx')));
}

function main(): void {
  const opts = new Command()
    .option('--passes <n>', 'passes over all configurations', (v) => Number(v), 3)
    .option('--threads <list>', 'thread counts', '1,2')
    .option('--models <list>', 'models (from models/ or ../shared/models)', DEFAULT_MODELS.join(','))
    .option('--matmul <list>', 'matmul sizes', '256,512,1024')
    .option('--quick', 'short warm-up and few runs (a smoke run)')
    .option('--sweep', 'the kernel sweep instead: single convs and matmuls at one thread, GFLOP/s and % of the SIMD128 peak')
    .option('--records <files>', 'tuning records (tessera tune), comma-separated: models also run tuned, next to untuned')
    .parse(process.argv)
    .opts<{ passes: number; threads: string; models: string; matmul: string; quick?: boolean; sweep?: boolean; records?: string }>();
  if (opts.sweep) {
    const lines = runSweep({ passes: opts.passes, warmupMs: opts.quick ? 200 : 500, runs: opts.quick ? 3 : 10, progress: (line) => process.stderr.write(`${line}\n`) });
    for (const line of lines) console.log(line);
    return;
  }
  const tasks: Task[] = [];
  for (const name of opts.models.split(',').filter(Boolean)) {
    const dir = findModel(name);
    if (dir) tasks.push({ kind: 'model', name, dir });
    else console.log(`(skipping ${name}: not found in ${MODEL_DIRS.join(' or ')})`);
  }
  for (const n of opts.matmul.split(',').filter(Boolean).map(Number)) tasks.push({ kind: 'matmul', name: `matmul${n}`, n });
  tasks.push({ kind: 'simd-peak', name: 'simd128-peak', fma: false }, { kind: 'simd-peak', name: 'simd128-peak-fma', fma: true });
  const lines = runSuite({
    tasks, passes: opts.passes, threads: opts.threads.split(',').map(Number),
    warmupMs: opts.quick ? 200 : 1000, runs: opts.quick ? 3 : 10,
    progress: (line) => process.stderr.write(`${line}\n`),
    ...(opts.records ? { records: opts.records.split(',').filter(Boolean) } : {}),
  });
  for (const line of lines) console.log(line);
}

main();

/**
 * `npm run bench:scale`: how long large valid graphs take to compile, load and run once
 * (src/bench/scale.ts: a 10,000-node chain, a 1000-input Concat, ...), per target and opt
 * level, each configuration in a fresh process with a time limit. Prints the phases
 * (import, graph passes, lower, codegen, plan, load, run; wall time) and the process's CPU
 * time over them, the slowest pass, and whether the outputs match the plain reference.
 *
 *   npm run bench:scale -- [--graphs chain10000,concat1000] [--configs wasm:3,wasm:0,js:3] [--timeout 60]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { SCALE_GRAPHS } from '../src/bench/scale.js';
import { compile } from '../src/driver.js';
import { Executor } from '../src/runtime/executor.js';
import { Tensor } from '../src/runtime/tensor.js';
import { compareTensors, describeMismatch } from '../src/check.js';

interface Result {
  readonly graph: string;
  readonly config: string;
  readonly phases?: Record<string, number>;
  readonly slowestPass?: string;
  readonly totalMs?: number;
  /** CPU time of the process over the same span (all its threads: V8 compiles and collects garbage on others too). */
  readonly cpuMs?: number;
  readonly check?: string;
  readonly error?: string;
}

/** One configuration, in this process: prints one Result JSON line. */
async function runOne(graphName: string, target: string, optLevel: number): Promise<Result> {
  const config = `${target}:O${optLevel}`;
  const entry = SCALE_GRAPHS.find((x) => x.name === graphName);
  if (!entry) throw new Error(`unknown graph ${graphName}; known: ${SCALE_GRAPHS.map((x) => x.name).join(', ')}`);
  const g = entry.make();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = compile(g.model, { target, optLevel });
  const t1 = performance.now();
  const exec = await Executor.load(r.executable);
  const t2 = performance.now();
  const out = await exec.run(g.feeds);
  const t3 = performance.now();
  const cpu = process.cpuUsage(c0);
  const ref = g.reference();
  const bad = Object.entries(ref).map(([name, data]) => {
    const m = compareTensors(out[name]!, new Tensor('float32', data, out[name]!.dims), { rtol: 1e-3, atol: 1e-4 });
    return m && `${name}: ${describeMismatch(m)}`;
  }).filter(Boolean);
  const slowest = [...r.passTimings].sort((a, b) => b.ms - a.ms)[0];
  return {
    graph: graphName, config,
    phases: { ...r.timings, load: t2 - t1, run: t3 - t2 },
    ...(slowest ? { slowestPass: `${slowest.pass} ${slowest.ms.toFixed(0)} ms` } : {}),
    totalMs: t3 - t0,
    cpuMs: (cpu.user + cpu.system) / 1000,
    check: bad.length === 0 ? 'ok' : bad.join('; '),
  };
}

function main(): void {
  const opts = new Command()
    .option('--graphs <list>', 'graphs (default: all)', SCALE_GRAPHS.map((g) => g.name).join(','))
    .option('--configs <list>', 'target:opt-level pairs', 'wasm:3,wasm:0,js:3')
    .option('--timeout <s>', 'seconds per configuration', (v) => Number(v), 60)
    .option('--one <graph:target:opt>', 'run one configuration in this process (internal)')
    .parse(process.argv)
    .opts<{ graphs: string; configs: string; timeout: number; one?: string }>();
  if (opts.one) {
    const [graph, target, opt] = opts.one.split(':');
    void runOne(graph!, target as string, Number(opt)).then((r) => console.log(JSON.stringify(r)));
    return;
  }
  const self = fileURLToPath(import.meta.url);
  const fmt = (ms: number | undefined): string => (ms === undefined ? '-' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
  for (const graph of opts.graphs.split(',').filter(Boolean)) {
    for (const config of opts.configs.split(',').filter(Boolean)) {
      const [target, opt] = config.split(':');
      const p = spawnSync(process.execPath, [self, '--one', `${graph}:${target}:${opt}`], { encoding: 'utf8', timeout: opts.timeout * 1000, maxBuffer: 1 << 26 });
      let r: Result;
      const line = p.stdout?.trim().split('\n').pop();
      if (p.status === 0 && line) r = JSON.parse(line) as Result;
      else if (p.signal) r = { graph, config, error: `did not finish in ${opts.timeout} s` };
      else {
        const lines = (p.stderr || p.stdout || '').split('\n');
        r = { graph, config, error: (lines.find((l) => /^\w*Error\b|Error:/.test(l)) ?? lines.filter(Boolean)[0] ?? `exit ${p.status}`).trim().slice(0, 300) };
      }
      const phases = r.phases ? Object.entries(r.phases).map(([k, v]) => `${k} ${fmt(v)}`).join(', ') : '';
      console.log(`${graph.padEnd(18)} ${config.padEnd(8)} ${r.error ? `FAILED: ${r.error}` : `total ${fmt(r.totalMs).padStart(8)} (cpu ${fmt(r.cpuMs)})  [${phases}]  slowest pass: ${r.slowestPass ?? '-'}  check: ${r.check}`}`);
    }
  }
}

main();

/**
 * `npm run bench:cost-model -- <model> --records FILE [--records FILE2 ...]`: the cost
 * model's ranking quality on real measurements. Each record of the model's tasks is replayed
 * to its scheduled function and featurized; the measurements are split in folds (records
 * shuffled with a seed, every workload in every fold), the model trained on the rest
 * predicts each fold, and the table gives pairwise accuracy (pairs within a workload ordered
 * right), top-5 recall and top-1 score (the best measured among the predicted best, over the
 * best) against the random model, plus leave-one-workload-out (the model predicting a kernel
 * it has never measured).
 */
import { Command } from 'commander';
import { optimizeModel } from '../src/driver.js';
import { extractTasks } from '../src/tune/task.js';
import { TuningDatabase, replayRecord } from '../src/tune/records.js';
import { extractFeatures } from '../src/tune/features.js';
import { type CostModel, GbtCostModel, RandomCostModel, pairwiseAccuracy, topKRecall, topKScore } from '../src/tune/cost_model.js';
import { seededRandom } from '../src/schedule/decisions.js';

interface Sample { features: Float64Array; throughput: number; group: string }

function evaluate(name: string, make: () => CostModel, train: readonly Sample[][], test: readonly Sample[][]): string {
  const pred: number[] = [];
  const actual: number[] = [];
  const groups: string[] = [];
  train.forEach((tr, i) => {
    const m = make();
    m.update(tr);
    const te = test[i]!;
    const p = m.predict(te.map((s) => s.features));
    te.forEach((s, j) => { pred.push(p[j]!); actual.push(s.throughput); groups.push(s.group); });
  });
  return `${name.padEnd(10)}${pairwiseAccuracy(pred, actual, groups).toFixed(3).padStart(12)}${topKRecall(pred, actual, 5, groups).toFixed(3).padStart(12)}${topKScore(pred, actual, 1, groups).toFixed(3).padStart(12)}`;
}

function main(): void {
  const opts = new Command()
    .argument('<model>', 'model.onnx the records were tuned for')
    .requiredOption('--records <file...>', 'records files')
    .option('--target <target>', 'target string of the records', 'wasm -threads=1')
    .option('--folds <n>', 'cross-validation folds', (v) => Number(v), 5)
    .parse(process.argv);
  const [model] = opts.args as [string];
  const o = opts.opts<{ records: string[]; target: string; folds: number }>();
  const { graph, target } = optimizeModel(model, { target: o.target });
  const tasks = new Map(extractTasks(graph, target).map((t) => [t.workload, t]));
  const samples: Sample[] = [];
  const seen = new Set<string>();
  for (const file of o.records) {
    for (const r of TuningDatabase.load(file).all()) {
      const task = tasks.get(r.workload);
      if (!task || r.target !== target.toString()) continue;
      const key = `${r.workload} ${r.scheduled}`;
      if (seen.has(key)) continue; // the same program measured twice: keep one
      seen.add(key);
      const sch = replayRecord(task.func, r);
      if (typeof sch === 'string') continue;
      samples.push({ features: extractFeatures(sch.func), throughput: r.flops / r.ms, group: r.workload });
    }
  }
  const byGroup = new Map<string, number>();
  for (const s of samples) byGroup.set(s.group, (byGroup.get(s.group) ?? 0) + 1);
  const groups = [...byGroup].filter(([, n]) => n >= 5).map(([g]) => g);
  const usable = samples.filter((s) => groups.includes(s.group));
  console.log(`${usable.length} distinct measured schedules of ${groups.length} kernels (5 or more each) from ${o.records.join(', ')}`);
  const rand = seededRandom(7);
  const fold = usable.map(() => Math.floor(rand() * o.folds));
  const kfold = { train: [] as Sample[][], test: [] as Sample[][] };
  for (let f = 0; f < o.folds; f++) {
    kfold.train.push(usable.filter((_, i) => fold[i] !== f));
    kfold.test.push(usable.filter((_, i) => fold[i] === f));
  }
  const lowo = { train: groups.map((g) => usable.filter((s) => s.group !== g)), test: groups.map((g) => usable.filter((s) => s.group === g)) };
  const header = `${'model'.padEnd(10)}${'pairwise'.padStart(12)}${'top-5 rec.'.padStart(12)}${'top-1 score'.padStart(12)}`;
  for (const [title, split] of [[`${o.folds}-fold cross-validation`, kfold], ['leave one kernel out', lowo]] as const) {
    for (const line of ['', title, header, evaluate('gbt', () => new GbtCostModel(), split.train, split.test), evaluate('random', () => new RandomCostModel(3), split.train, split.test)]) console.log(line);
  }
}

main();

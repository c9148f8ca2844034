/**
 * What the default schedules of every target share: when a stage is inlined into its
 * readers, a reduction's operand loads, decomposing its init, folding elementwise
 * consumers into a tile's write-back, and the top-level nests of a function.
 */
import { type Expr, visitExpr } from '../ir/expr.js';
import { type Block, type PrimFunc, type Stmt, collectBlocks } from '../tir/stmt.js';
import type { InlineCandidate } from './block_prims.js';
import type { Schedule } from './schedule.js';

/** Whether a block's value guards a load with a select (a padding or boundary block). */
export function isPadding(value: Expr): boolean {
  let pad = false;
  visitExpr(value, (x) => {
    if (x.kind === 'select') visitExpr(x.t, (y) => { if (y.kind === 'load') pad = true; });
  });
  return pad;
}

/**
 * Inlining a stage copies its expression into every load of its buffer. Where the readers
 * load it more than once (HardSwish reads its input twice, a Winograd transform reads a
 * padded tile four times) the copies compound along a chain: 2^n nodes after n such ops.
 * A stage is inlined only while its copies add at most this many expression nodes;
 * otherwise it stays in its scratch buffer and is computed once.
 */
export const MAX_INLINE_COPY_NODES = 64;

/** Expression nodes that inlining a block into its readers adds beyond its one computation. */
export function inlineCopies(c: InlineCandidate): number {
  const out = c.block.writes[0];
  if (c.block.body.kind !== 'store' || !out) return 0;
  let loads = 0;
  for (const r of c.readers) {
    if (r.body.kind !== 'store') continue;
    visitExpr(r.body.value, (e) => { if (e.kind === 'load' && e.buffer === out) loads++; });
  }
  if (loads <= 1) return 0;
  let size = 0;
  visitExpr(c.value(), () => { size++; });
  return (loads - 1) * size;
}


/** The loads of a reduction's value other than its accumulator. */
export function operandLoads(b: Block): Extract<Expr, { kind: 'load' }>[] {
  const out: Extract<Expr, { kind: 'load' }>[] = [];
  if (b.body.kind === 'store') visitExpr(b.body.value, (x) => { if (x.kind === 'load' && !b.writes.includes(x.buffer)) out.push(x); });
  return out;
}

/** Decomposes reduction `name`'s init before the first loop that binds one of its reduce iterators (if any). */
export function decomposeAtFirstReduceLoop(sch: Schedule, name: string): void {
  const block = sch.getBlock(name);
  const reduceLoopVars = new Set<number>();
  block.iterVars.forEach((iv, i) => {
    if (iv.type === 'reduce') visitExpr(block.bindings[i]!, (e) => { if (e.kind === 'var') reduceLoopVars.add(e.id); });
  });
  const first = sch.getLoops(name).find((l) => reduceLoopVars.has(l.loopVar.id));
  if (first) sch.decomposeReduction(name, first.loopVar.name);
}

/**
 * Folds the elementwise consumers of write-back block `wb`'s output (bias, activation,
 * residual add) into it (reverse_compute_inline), until the output is a parameter or its
 * reader is no elementwise consumer.
 */
export function foldConsumers(sch: Schedule, wb: string): void {
  for (;;) {
    const out = sch.getBlock(wb).writes[0]!;
    if (sch.func.params.includes(out)) return;
    const consumer = collectBlocks(sch.func.body).find((x) => x.name !== wb && x.reads.includes(out));
    if (!consumer) return;
    try {
      sch.reverseComputeInline(consumer.name);
    } catch {
      return; // not an elementwise consumer: the write-back stays a separate step
    }
  }
}

/** The top-level statements of a function below its top-level allocations (its loop nests). */
export function topNests(f: PrimFunc): Stmt[] {
  let body = f.body;
  while (body.kind === 'allocate') body = body.body;
  return body.kind === 'seq' ? [...body.stmts] : [body];
}

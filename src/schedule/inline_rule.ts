/** What the default schedules of every target share about inlining stages into their readers. */
import { type Expr, visitExpr } from '../ir/expr.js';
import type { InlineCandidate } from './block_prims.js';

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


/** Analyses of loop IR used for reports: arithmetic operation counts. */
import { type Expr, isFloatDType, visitExpr } from '../ir/expr.js';
import type { PrimFunc, Stmt } from './stmt.js';

/** Floating-point operations in one evaluation of `e` (arithmetic and intrinsics). */
function exprFlops(e: Expr): number {
  let n = 0;
  visitExpr(e, (x) => {
    if ((x.kind === 'binary' || x.kind === 'call') && isFloatDType(x.dtype)) n++;
  });
  return n;
}

/**
 * Floating-point operations a function performs: for each store, the float ops of its
 * value times the trip count of its enclosing loops (a multiply-add counts as 2).
 */
export function estimateFlops(f: PrimFunc): number {
  const walk = (s: Stmt, trips: number): number => {
    switch (s.kind) {
      case 'for': return walk(s.body, trips * s.extent);
      case 'seq': return s.stmts.reduce((acc, x) => acc + walk(x, trips), 0);
      case 'store': return trips * exprFlops(s.value);
      case 'if': return walk(s.then, trips) + (s.else ? walk(s.else, trips) : 0);
      case 'allocate': return walk(s.body, trips);
      case 'block': return (s.init ? walk(s.init, trips) : 0) + walk(s.body, trips);
      case 'barrier': return 0;
      case 'let': return trips * exprFlops(s.value) + walk(s.body, trips);
    }
  };
  return walk(f.body, 1);
}

/**
 * Simplify: re-folds every expression through the constant-folding constructors, puts
 * affine int32 index arithmetic in canonical form (so `(a + b) - a` becomes `b`), uses
 * loop bounds to resolve `floordiv`/`floormod` of affine indices (`(4i + l) // 4 = i` and
 * `(4i + l) // 16 = i // 4` when 0 <= l < 4), drops loops of extent 0, replaces loops of extent 1 by their body,
 * and resolves conditions that became constant.
 */
import { type Expr, type Var, binary, constValue, int, mapExpr, substitute } from '../../ir/expr.js';
import { type PrimFunc, type Stmt, mapStmt, mapStmtExprs, seq } from '../stmt.js';
import { type Linear, fromLinear, toLinear } from '../arith.js';

/** Loop variable id → extent (the variable ranges over [0, extent)). */
export type Ranges = ReadonlyMap<number, number>;

/** The [min, max] of an affine form given variable ranges, or undefined if a variable is unbounded. */
function bounds(l: Linear, ranges: Ranges): [number, number] | undefined {
  let lo = l.constant;
  let hi = l.constant;
  for (const { v, c } of l.terms.values()) {
    const ext = ranges.get(v.id);
    if (ext === undefined) return undefined;
    if (c > 0) hi += c * (ext - 1);
    else lo += c * (ext - 1);
  }
  return [lo, hi];
}

/** An affine form split as d·q + r: q from the terms whose coefficients d divides, r the rest. */
function splitBy(l: Linear, d: number): { q: Linear; r: Linear } {
  const qTerms = new Map<number, { v: Var; c: number }>();
  const rTerms = new Map<number, { v: Var; c: number }>();
  for (const [id, t] of l.terms) {
    if (t.c % d === 0) qTerms.set(id, { v: t.v, c: t.c / d });
    else rTerms.set(id, { v: t.v, c: t.c });
  }
  const q0 = Math.floor(l.constant / d);
  return { q: { terms: qTerms, constant: q0 }, r: { terms: rTerms, constant: l.constant - q0 * d } };
}

/**
 * floordiv / floormod of an affine form by a positive constant c, when loop bounds decide
 * it: with x = d·q + r, d dividing c and 0 <= r < d, x // c = q // (c/d) and
 * x % c = d·(q % (c/d)) + r (for d = c: q and r). So (4a + l) // 16 = a // 4 for l < 4.
 */
function divMod(op: 'floordiv' | 'floormod', l: Linear, c: number, ranges: Ranges): Expr | undefined {
  for (const d of divisorsAbove1(c)) {
    const { q, r } = splitBy(l, d);
    const b = bounds(r, ranges);
    if (!b || b[0] < 0 || b[1] >= d) continue;
    if (d === c) return op === 'floordiv' ? fromLinear(q) : fromLinear(r);
    const k = int(c / d);
    const inner = divMod(op, q, c / d, ranges) ?? binary(op, fromLinear(q), k);
    if (op === 'floordiv') return inner;
    return simplifyExpr(binary('add', binary('mul', inner, int(d)), fromLinear(r)), ranges);
  }
  return undefined;
}

/** The divisors of c greater than 1, largest first (trial division to sqrt(c): a huge c costs its square root, not c). */
function divisorsAbove1(c: number): number[] {
  const small: number[] = [];
  const large: number[] = [];
  for (let i = 1; i * i <= c; i++) {
    if (c % i !== 0) continue;
    if (i > 1) small.push(i);
    if (i * i !== c) large.push(c / i);
  }
  return [...large, ...small.reverse()];
}

export function simplifyExpr(e: Expr, ranges: Ranges = new Map()): Expr {
  // Children first, rebuilt through the folding constructors.
  const x = mapExpr(e, (y) => (y === e ? undefined : simplifyExpr(y, ranges)));
  if (x.kind !== 'binary' || x.dtype !== 'int32') return x;
  if (x.op === 'add' || x.op === 'sub' || x.op === 'mul') {
    const l = toLinear(x);
    return l ? fromLinear(l) : x;
  }
  if (x.op === 'floordiv' || x.op === 'floormod') {
    const c = constValue(x.b);
    const l = toLinear(x.a);
    // A divisor beyond int32 is no index arithmetic the kernels can do; codegen refuses it.
    if (c !== undefined && c > 0 && c <= 0x7fffffff && l) return divMod(x.op, l, c, ranges) ?? binary(x.op, fromLinear(l), x.b);
  }
  return x;
}

export function simplifyStmt(s: Stmt, ranges: Ranges = new Map()): Stmt {
  return mapStmt(s, (x) => {
    switch (x.kind) {
      case 'for': {
        if (x.extent === 0) return seq([]);
        if (x.extent === 1) return simplifyStmt(substituteStmt(x.body, x.loopVar.id, int(0)), ranges);
        const inner = new Map(ranges);
        inner.set(x.loopVar.id, x.extent);
        return { ...x, body: simplifyStmt(x.body, inner) };
      }
      case 'if': {
        const cond = simplifyExpr(x.cond, ranges);
        const c = constValue(cond);
        if (c === undefined) {
          const els = x.else && simplifyStmt(x.else, ranges);
          return { kind: 'if', cond, then: simplifyStmt(x.then, ranges), ...(els ? { else: els } : {}) };
        }
        return c ? simplifyStmt(x.then, ranges) : x.else ? simplifyStmt(x.else, ranges) : seq([]);
      }
      case 'store': case 'block':
        return mapStmtExprs(x, (e) => simplifyExpr(e, ranges));
      default:
        return undefined;
    }
  }, (e) => simplifyExpr(e, ranges));
}

function substituteStmt(s: Stmt, id: number, value: Expr): Stmt {
  const map = new Map([[id, value]]);
  return mapStmt(s, () => undefined, (e) => substitute(e, map));
}

export function simplify(f: PrimFunc): PrimFunc {
  return { ...f, body: simplifyStmt(f.body) };
}

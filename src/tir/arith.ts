/**
 * Integer arithmetic analysis: affine (linear) forms of index expressions. An
 * expression built from variables, constants, +, - and multiplication by constants
 * has a canonical form Σ coeff·var + const, which makes `(a + b) - a` simplify to `b`
 * and lets passes ask how an index depends on a loop variable.
 */
import { type Expr, type Var, add, int, mapExpr, mul, variable, visitExpr } from '../ir/expr.js';

export interface Linear {
  /** var id → (var, coefficient); no zero coefficients. */
  readonly terms: ReadonlyMap<number, { readonly v: Var; readonly c: number }>;
  readonly constant: number;
}

/** The affine form of an int32 expression, or undefined when it is not affine. */
export function toLinear(e: Expr): Linear | undefined {
  if (e.dtype !== 'int32') return undefined;
  switch (e.kind) {
    case 'int': return { terms: new Map(), constant: e.value };
    case 'var': return { terms: new Map([[e.id, { v: e, c: 1 }]]), constant: 0 };
    case 'binary': {
      if (e.op === 'add' || e.op === 'sub') {
        const a = toLinear(e.a);
        const b = toLinear(e.b);
        if (!a || !b) return undefined;
        return combine(a, b, e.op === 'add' ? 1 : -1);
      }
      if (e.op === 'mul') {
        const a = toLinear(e.a);
        const b = toLinear(e.b);
        if (!a || !b) return undefined;
        if (a.terms.size === 0) return scale(b, a.constant);
        if (b.terms.size === 0) return scale(a, b.constant);
        return undefined;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

function combine(a: Linear, b: Linear, sign: number): Linear {
  const terms = new Map(a.terms);
  for (const [id, t] of b.terms) {
    const c = (terms.get(id)?.c ?? 0) + sign * t.c;
    if (c === 0) terms.delete(id);
    else terms.set(id, { v: t.v, c });
  }
  return { terms, constant: a.constant + sign * b.constant };
}

function scale(a: Linear, k: number): Linear {
  if (k === 0) return { terms: new Map(), constant: 0 };
  const terms = new Map<number, { v: Var; c: number }>();
  for (const [id, t] of a.terms) terms.set(id, { v: t.v, c: t.c * k });
  return { terms, constant: a.constant * k };
}

/** a + b or a - b of affine int32 expressions, canonical (throws if either is not affine). */
export function affineCombine(a: Expr, b: Expr, op: 'add' | 'sub'): Expr {
  const la = toLinear(a), lb = toLinear(b);
  if (!la || !lb) throw new Error('affineCombine: operands must be affine');
  return fromLinear(combine(la, lb, op === 'add' ? 1 : -1));
}

/** Rebuilds a canonical expression: terms ordered by decreasing coefficient, then the constant. */
export function fromLinear(l: Linear): Expr {
  const terms = [...l.terms.values()].sort((x, y) => y.c - x.c || x.v.id - y.v.id);
  let e: Expr | undefined;
  for (const t of terms) {
    const term = mul(t.v, int(t.c));
    e = e ? add(e, term) : term;
  }
  if (!e) return int(l.constant);
  return l.constant === 0 ? e : add(e, int(l.constant));
}

/**
 * The coefficient of variable `varId` in `e` when `e` is affine in it, else undefined.
 * Parts that do not mention the variable need not be affine (`(j // 4) * 64 + i` has
 * coefficient 1 in i): they are held as opaque terms.
 */
export function coefficientOf(e: Expr, varId: number): number | undefined {
  const opaque = mapExpr(e, (x) => (x.kind !== 'int' && x.kind !== 'var' && x.dtype === 'int32' && !mentionsVar(x, varId) ? variable('opaque') : undefined));
  const l = toLinear(opaque);
  return l ? l.terms.get(varId)?.c ?? 0 : undefined;
}

function mentionsVar(e: Expr, id: number): boolean {
  let hit = false;
  visitExpr(e, (x) => { if (x.kind === 'var' && x.id === id) hit = true; });
  return hit;
}

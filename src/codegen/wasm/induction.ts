/**
 * Address induction for innermost loops (strength reduction). In a loop whose body
 * holds no other loop (the vectorized lanes of a SIMD step aside), every memory access
 * at an affine index Σ c·v + k over variables bound outside the loop gets a pointer:
 * a local set to base + size·Σ c·v (the loop variable at 0) before the loop and
 * advanced by size·c_i after each iteration. An access then costs one local read
 * plus its constant k, instead of recomputing the whole index. Accesses that share
 * their variable terms (the rows and columns of a register tile) share one pointer.
 * Non-affine parts of an index that do not change in the loop (a `c // 4` of an outer
 * variable) become atoms: computed once before the loop into a local, then terms like
 * any other variable.
 */
import type { Buffer, Expr, Var } from '../../ir/expr.js';
import { mapExpr, variable, visitExpr } from '../../ir/expr.js';
import { type Linear, fromLinear, toLinear } from '../../tir/arith.js';
import type { For, Stmt } from '../../tir/stmt.js';
import { LANES } from './registers.js';

export interface Pointer {
  readonly key: string;
  readonly buffer: Buffer;
  /** The index terms with the loop variable at 0 (no constant). */
  readonly init: Expr;
  /** Elements the pointer advances per iteration. */
  readonly step: number;
}

const isAtom = (v: Var, atoms: ReadonlyMap<string, Atom>): boolean => [...atoms.values()].some((a) => a.v === v);

/** At most this many pointers per loop (each occupies a register in the loop). */
const MAX_POINTERS = 10;

/** An invariant non-affine index part, standing in the loop as variable `v`. */
export interface Atom {
  readonly v: Var;
  readonly expr: Expr;
}

/** A structural key of an int expression (vars by id), or undefined for kinds atoms never hold. */
function exprKey(e: Expr): string | undefined {
  switch (e.kind) {
    case 'int': return `${e.value}`;
    case 'var': return `v${e.id}`;
    case 'binary': {
      const a = exprKey(e.a), b = exprKey(e.b);
      return a === undefined || b === undefined ? undefined : `(${e.op} ${a} ${b})`;
    }
    default: return undefined;
  }
}

/**
 * `e` with its invariant floordiv/floormod parts replaced by atom variables: existing
 * atoms of `atoms` are reused; new ones are added only where `invariant` allows (the
 * pre-scan before a loop), so uses inside the loop see exactly the atoms made for it.
 */
export function withAtoms(e: Expr, atoms: Map<string, Atom>, invariant?: (x: Expr) => boolean): Expr {
  if (atoms.size === 0 && !invariant) return e;
  return mapExpr(e, (x) => {
    if (x.kind !== 'binary' || (x.op !== 'floordiv' && x.op !== 'floormod') || x.dtype !== 'int32') return undefined;
    const key = exprKey(x);
    if (key === undefined) return undefined;
    const known = atoms.get(key);
    if (known) return known.v;
    if (!invariant || !invariant(x)) return undefined;
    const atom = { v: variable(`atom${atoms.size}`), expr: x };
    atoms.set(key, atom);
    return atom.v;
  });
}

/** The key of an access: its buffer and variable terms (the constant is left out). */
export function accessKey(buffer: Buffer, lin: Linear): string {
  const terms = [...lin.terms.entries()].sort((a, b) => a[0] - b[0]).map(([id, t]) => `${id}*${t.c}`);
  return `${buffer.id}:${terms.join('+')}`;
}

/**
 * The pointers for `loop`, or an empty list when it is not innermost. `promoted` tells
 * buffers that live in locals (no address); `bound` tells variables bound outside.
 */
export function loopPointers(loop: For, promoted: (b: Buffer) => boolean, bound: (varId: number) => boolean, atoms: Map<string, Atom>): Pointer[] {
  const lanes = new Set<number>();
  let innermost = true;
  const accesses: { buffer: Buffer; index: Expr }[] = [];
  const exprs = (e: Expr): void => visitExpr(e, (x) => {
    if (x.kind === 'load' && !promoted(x.buffer)) accesses.push({ buffer: x.buffer, index: x.indices[0]! });
  });
  const walk = (s: Stmt): void => {
    switch (s.kind) {
      case 'for':
        if (s.forKind === 'vectorized' && s.extent === LANES) {
          lanes.add(s.loopVar.id);
          walk(s.body);
        } else innermost = false;
        return;
      case 'seq': s.stmts.forEach(walk); return;
      case 'store':
        if (!promoted(s.buffer)) accesses.push({ buffer: s.buffer, index: s.indices[0]! });
        s.indices.forEach(exprs);
        exprs(s.value);
        return;
      case 'if': exprs(s.cond); walk(s.then); if (s.else) walk(s.else); return;
      case 'allocate': case 'block': case 'let': innermost = false; return;
    }
  };
  walk(loop.body);
  if (!innermost) return [];
  const out = new Map<string, Pointer>();
  const i = loop.loopVar.id;
  const invariant = (x: Expr): boolean => {
    let ok = true;
    visitExpr(x, (y) => { if (y.kind === 'var' && (y.id === i || lanes.has(y.id) || !bound(y.id))) ok = false; });
    return ok;
  };
  for (const a of accesses) {
    const lin = toLinear(withAtoms(a.index, atoms, invariant));
    if (!lin) continue;
    // Lanes of a SIMD step address lane 0 (the lane term is dropped).
    const terms = new Map([...lin.terms].filter(([id]) => !lanes.has(id)));
    if ([...terms.values()].some((t) => t.v.id !== i && !bound(t.v.id) && !isAtom(t.v, atoms))) continue;
    const key = accessKey(a.buffer, { terms, constant: 0 });
    if (out.has(key)) continue;
    const step = terms.get(i)?.c ?? 0;
    terms.delete(i);
    out.set(key, { key, buffer: a.buffer, init: fromLinear({ terms, constant: 0 }), step });
    if (out.size === MAX_POINTERS) break;
  }
  return [...out.values()];
}

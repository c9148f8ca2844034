/** Loop primitives: split, fuse, reorder, and the loop-kind annotations vectorize / unroll / parallel. */
import { type Expr, add, floordiv, floormod, int, mul, substitute, variable } from '../ir/expr.js';
import { type For, type ForKind, type PrimFunc, type Stmt, collectBlocks, loop, mapStmt, mapStmtExprs } from '../tir/stmt.js';
import { failer, findLoop, loopNames, replaceStmt, usesVars } from './state.js';

/**
 * split: loop `name` of extent E becomes nested loops with the given extents (their
 * product must be E; one factor may be -1 to be inferred). The outer loop keeps the
 * old position; the old variable becomes Σ l_i · stride_i. New loops are named
 * `${name}_0`, `${name}_1`, ...
 */
export function split(f: PrimFunc, name: string, factors: readonly number[]): { func: PrimFunc; loops: string[] } {
  const fail = failer('split', f);
  const target = findLoop(f, name, fail);
  if (target.forKind === 'thread') fail(`loop ${name} is bound to ${target.thread}; split it before binding`);
  if (factors.length < 2) fail('needs at least two factors');
  const unknown = factors.filter((x) => x === -1).length;
  if (unknown > 1) fail('at most one factor may be -1');
  const known = factors.filter((x) => x !== -1).reduce((a, b) => a * b, 1);
  if (factors.some((x) => x !== -1 && (!Number.isInteger(x) || x < 1))) fail(`factors must be positive integers, got [${factors.join(', ')}]`);
  const full = factors.map((x) => (x === -1 ? target.extent / known : x));
  if (full.some((x) => !Number.isInteger(x)) || full.reduce((a, b) => a * b, 1) !== target.extent) {
    fail(`factors [${factors.join(', ')}] do not divide loop ${name} of extent ${target.extent} exactly`);
  }
  const names = loopNames(f);
  const vars = full.map((_, i) => {
    const n = `${name}_${i}`;
    if (names.has(n)) fail(`loop name ${n} already exists`);
    return variable(n);
  });
  let value: Expr = int(0);
  vars.forEach((v, i) => { value = add(mul(value, int(full[i]!)), v); });
  const body = mapStmtExprs(target.body, (e) => substitute(e, new Map([[target.loopVar.id, value]])));
  let nest: Stmt = body;
  for (let i = vars.length - 1; i >= 0; i--) nest = loop(vars[i]!, full[i]!, nest, i === vars.length - 1 ? target.forKind : 'serial');
  return { func: { ...f, body: replaceStmt(f.body, target, nest) }, loops: vars.map((v) => v.name) };
}

/**
 * fuse: loops that are directly nested (each the whole body of the one before) become one
 * loop over the product of their extents, named by joining their names with `_`; each old
 * variable is recovered from the fused one by div/mod. All must be serial.
 */
export function fuse(f: PrimFunc, names: readonly string[]): { func: PrimFunc; loop: string } {
  const fail = failer('fuse', f);
  if (names.length < 2) fail('needs at least two loops');
  const loops = names.map((n) => findLoop(f, n, fail));
  loops.forEach((l, i) => {
    if (l.forKind !== 'serial') fail(`loop ${l.loopVar.name} is ${l.forKind}; only serial loops fuse`);
    if (i > 0 && loops[i - 1]!.body !== l) fail(`loop ${l.loopVar.name} is not the whole body of loop ${loops[i - 1]!.loopVar.name}`);
  });
  const name = names.join('_');
  if (loopNames(f).has(name)) fail(`loop name ${name} already exists`);
  const fused = variable(name);
  const extent = loops.reduce((n, l) => n * l.extent, 1);
  // Innermost varies fastest: v_i = (fused // Π_{j>i} E_j) % E_i.
  const map = new Map<number, Expr>();
  let stride = 1;
  for (let i = loops.length - 1; i >= 0; i--) {
    const l = loops[i]!;
    const q = stride === 1 ? fused : floordiv(fused, int(stride));
    map.set(l.loopVar.id, i === 0 ? q : floormod(q, int(l.extent)));
    stride *= l.extent;
  }
  const body = mapStmtExprs(loops[loops.length - 1]!.body, (e) => substitute(e, map));
  const outer = loops[0]!;
  return { func: { ...f, body: replaceStmt(f.body, outer, loop(fused, extent, body)) }, loop: name };
}

/**
 * reorder: permutes loops of one perfect nest. The named loops must lie on one chain
 * of directly nested loops (each loop's body is the next loop); they take each other's
 * positions in the order given, loops of the chain not named stay where they are.
 */
export function reorder(f: PrimFunc, names: readonly string[]): PrimFunc {
  const fail = failer('reorder', f);
  if (new Set(names).size !== names.length) fail('a loop is named twice');
  const loops = names.map((n) => findLoop(f, n, fail));
  // Find the outermost named loop: the one no other named loop encloses.
  const inside = (outer: For, inner: For): boolean => {
    let found = false;
    mapStmt(outer.body, (s) => { if (s === inner) found = true; return undefined; });
    return found;
  };
  const outermost = loops.find((l) => !loops.some((o) => o !== l && inside(o, l)));
  if (!outermost) fail('the loops are not nested in one another');
  const chain: For[] = [];
  let cur: Stmt = outermost!;
  const remaining = new Set(loops);
  while (remaining.size > 0) {
    if (cur.kind !== 'for') fail(`loops [${names.join(', ')}] are not one perfect nest (a statement other than a loop sits between them)`);
    const l = cur as For;
    chain.push(l);
    remaining.delete(l);
    cur = l.body;
  }
  const innermostBody = chain[chain.length - 1]!.body;
  const slots = chain.map((l) => loops.includes(l));
  let next = 0;
  const order = chain.map((l, i) => (slots[i] ? loops[next++]! : l));
  let nest: Stmt = innermostBody;
  for (let i = order.length - 1; i >= 0; i--) nest = { ...order[i]!, body: nest };
  return { ...f, body: replaceStmt(f.body, outermost!, nest) };
}

/**
 * Marks a loop serial / vectorized / unrolled / parallel; vectorize needs an innermost loop,
 * parallel one that binds no reduce iterator.
 */
export function annotate(f: PrimFunc, name: string, kind: ForKind): PrimFunc {
  const fail = failer(kind === 'vectorized' ? 'vectorize' : kind === 'unrolled' ? 'unroll' : kind, f);
  const target = findLoop(f, name, fail);
  if (target.forKind === 'thread') fail(`loop ${name} is bound to ${target.thread}; a bound loop keeps its binding`);
  if (kind === 'vectorized') {
    let inner = false;
    mapStmt(target.body, (s) => { if (s.kind === 'for') inner = true; return undefined; });
    if (inner) fail(`loop ${name} is not innermost`);
  }
  if (kind === 'unrolled' && target.extent > 64) fail(`loop ${name} has extent ${target.extent}; unrolling is limited to 64`);
  if (kind === 'parallel') {
    // Iterations on different threads must write disjoint outputs (as bind requires of thread axes).
    const id = new Set([target.loopVar.id]);
    for (const b of collectBlocks(target.body)) {
      b.iterVars.forEach((iv, i) => {
        if (iv.type === 'reduce' && usesVars(b.bindings[i]!, id)) {
          fail(`loop ${name} binds reduce iterator ${iv.var.name} of block ${b.name}; parallel iterations would race on its accumulator (rfactor the reduction first)`);
        }
      });
    }
  }
  return { ...f, body: replaceStmt(f.body, target, { ...target, forKind: kind }) };
}

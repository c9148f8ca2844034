/** Shared machinery of schedule primitives: errors and lookups of blocks and loops. */
import { TesseraError } from '../runtime/error.js';
import { type Expr, visitExpr } from '../ir/expr.js';
import { type Block, type For, type PrimFunc, type Stmt, mapStmt, seq } from '../tir/stmt.js';

export class ScheduleError extends TesseraError {
  constructor(prim: string, func: string, reason: string) {
    super(`schedule ${prim} on ${func}: ${reason}`);
    this.name = 'ScheduleError';
  }
}

/** A failure reporter for one primitive application. */
export type Fail = (reason: string) => never;

export function failer(prim: string, func: PrimFunc): Fail {
  return (reason: string): never => {
    throw new ScheduleError(prim, func.name, reason);
  };
}

/**
 * Lookups in a function body by top-level nest. A body is a chain of allocations
 * around a sequence of nests (or one nest); each nest's blocks, loops by name and
 * statements' parents are found in one walk of the nest and kept while it lives
 * (statements are immutable, and a primitive rebuilds only the nests it changes), so a
 * lookup costs a check per nest plus the walk of the nests that changed since. A walk of
 * the whole function per lookup made scheduling a function of many nests (an unrolled
 * recurrence: a nest per step) quadratic several times over.
 */
interface NestIndex {
  readonly blocks: readonly Block[];
  readonly blocksByName: ReadonlyMap<string, readonly Block[]>;
  readonly loopsByName: ReadonlyMap<string, readonly For[]>;
  /** The parent of each statement below the nest's root, or SHARED for one found at more than one place. */
  readonly parent: ReadonlyMap<Stmt, Stmt | typeof SHARED>;
}

const SHARED = Symbol('shared');

const nestIndexes = new WeakMap<Stmt, NestIndex>();

function nestIndex(root: Stmt): NestIndex {
  const known = nestIndexes.get(root);
  if (known) return known;
  const blocks: Block[] = [];
  const blocksByName = new Map<string, Block[]>();
  const loopsByName = new Map<string, For[]>();
  const parent = new Map<Stmt, Stmt | typeof SHARED>();
  const child = (p: Stmt, c: Stmt): void => {
    parent.set(c, parent.has(c) || c === root ? SHARED : p);
    walk(c);
  };
  // Parents first, in program order (visitStmt's order).
  const walk = (s: Stmt): void => {
    switch (s.kind) {
      case 'for': {
        const l = loopsByName.get(s.loopVar.name);
        if (l) l.push(s);
        else loopsByName.set(s.loopVar.name, [s]);
        child(s, s.body);
        return;
      }
      case 'allocate': case 'let': child(s, s.body); return;
      case 'seq': for (const x of s.stmts) child(s, x); return;
      case 'if': child(s, s.then); if (s.else) child(s, s.else); return;
      case 'block': {
        blocks.push(s);
        const b = blocksByName.get(s.name);
        if (b) b.push(s);
        else blocksByName.set(s.name, [s]);
        if (s.init) child(s, s.init);
        child(s, s.body);
        return;
      }
      case 'store': case 'barrier': return;
    }
  };
  walk(root);
  const index = { blocks, blocksByName, loopsByName, parent };
  nestIndexes.set(root, index);
  return index;
}

/** A body as its top: the allocations around the sequence, and the nests. */
interface BodyTop {
  readonly allocs: readonly Stmt[];
  readonly seq: Stmt | undefined;
  readonly nests: readonly Stmt[];
}

function topOf(root: Stmt): BodyTop {
  const allocs: Stmt[] = [];
  let s = root;
  while (s.kind === 'allocate') {
    allocs.push(s);
    s = s.body;
  }
  return s.kind === 'seq' ? { allocs, seq: s, nests: s.stmts } : { allocs, seq: undefined, nests: [s] };
}

/** The blocks of a function body, in program order (collectBlocks' list). */
export function bodyBlocks(root: Stmt): Block[] {
  return topOf(root).nests.flatMap((n) => nestIndex(n).blocks);
}

function blocksNamed(root: Stmt, name: string): readonly Block[] {
  let found: readonly Block[] = [];
  for (const n of topOf(root).nests) {
    const b = nestIndex(n).blocksByName.get(name);
    if (b) found = found.length ? [...found, ...b] : b;
  }
  return found;
}

function loopsNamed(root: Stmt, name: string): readonly For[] {
  let found: readonly For[] = [];
  for (const n of topOf(root).nests) {
    const l = nestIndex(n).loopsByName.get(name);
    if (l) found = found.length ? [...found, ...l] : l;
  }
  return found;
}

/** Where a statement sits: its nest and the path up to the body's root, or undefined (not at one place below a nest). */
function pathUp(root: Stmt, target: Stmt): Stmt[] | undefined {
  const top = topOf(root);
  const path = [target];
  let nest = -1;
  for (let i = 0; i < top.nests.length; i++) {
    const n = top.nests[i]!;
    if (n === target || nestIndex(n).parent.has(target)) {
      if (nest >= 0) return undefined; // in two nests
      nest = i;
    }
  }
  if (nest < 0) return undefined;
  const n = top.nests[nest]!;
  const { parent } = nestIndex(n);
  for (let s = target; s !== n;) {
    const p = parent.get(s)!;
    if (p === SHARED) return undefined;
    s = p;
    path.push(s);
  }
  if (top.seq) path.push(top.seq);
  for (let i = top.allocs.length - 1; i >= 0; i--) path.push(top.allocs[i]!);
  return path;
}

export function findBlock(f: PrimFunc, name: string, fail: Fail): Block {
  const found = blocksNamed(f.body, name);
  if (found.length !== 1) fail(found.length ? `block name ${name} is not unique` : `no block named ${name}`);
  return found[0]!;
}

/** The one block named `name` among `blocks` (a function's, collected once). */
export function uniqueBlock(blocks: readonly Block[], name: string, fail: Fail): Block {
  const found = blocks.filter((b) => b.name === name);
  if (found.length !== 1) fail(found.length ? `block name ${name} is not unique` : `no block named ${name}`);
  return found[0]!;
}

/** The loops enclosing a statement, outermost first (undefined when it is not in `root`). */
export function loopsAbove(root: Stmt, target: Stmt): For[] | undefined {
  const path = pathUp(root, target);
  if (path) return path.slice(1).filter((s): s is For => s.kind === 'for').reverse();
  // Elsewhere (the top, a shared statement, or not in the body): by a walk to its first place.
  const loops: For[] = [];
  let result: For[] | undefined;
  const walk = (s: Stmt): void => {
    if (result) return;
    if (s === target) {
      result = [...loops];
      return;
    }
    switch (s.kind) {
      case 'for': loops.push(s); walk(s.body); loops.pop(); return;
      case 'seq': for (const x of s.stmts) walk(x); return;
      case 'allocate': case 'let': walk(s.body); return;
      case 'if': walk(s.then); if (s.else) walk(s.else); return;
      case 'block': if (s.init) walk(s.init); walk(s.body); return;
      case 'store': case 'barrier': return;
    }
  };
  walk(root);
  return result;
}

/**
 * `root` with the statement `target` replaced by `replacement`: what
 * mapStmt(root, (s) => (s === target ? replacement : undefined)) makes, rebuilding only
 * the statements above `target` (a shared statement falls back to that walk).
 */
export function replaceStmt(root: Stmt, target: Stmt, replacement: Stmt): Stmt {
  if (replacement === target) return root;
  const path = pathUp(root, target);
  if (!path) return mapStmt(root, (s) => (s === target ? replacement : undefined));
  let node: Stmt = replacement;
  for (let i = 1; i < path.length; i++) node = withChild(path[i]!, path[i - 1]!, node);
  return node;
}

/**
 * `root` with each statement of `replacements` replaced: what one mapStmt walk makes, by
 * replaceStmt one after another when no target lies inside another (else by that walk).
 */
export function replaceStmts(root: Stmt, replacements: ReadonlyMap<Stmt, Stmt>): Stmt {
  const paths = [...replacements.keys()].map((t) => pathUp(root, t));
  const targets = new Set(replacements.keys());
  const disjoint = paths.every((p) => p && p.slice(1).every((s) => !targets.has(s)));
  if (!disjoint) return mapStmt(root, (s) => replacements.get(s));
  let body = root;
  for (const [t, r] of replacements) body = replaceStmt(body, t, r);
  return body;
}

/** `s` with its child `from` replaced by `to`, built as mapStmt builds it. */
function withChild(s: Stmt, from: Stmt, to: Stmt): Stmt {
  const c = (x: Stmt): Stmt => (x === from ? to : x);
  switch (s.kind) {
    case 'for': case 'allocate': return { ...s, body: c(s.body) };
    case 'let': return { ...s, body: c(s.body) };
    case 'seq': return seq(s.stmts.map(c));
    case 'if': {
      const els = s.else && c(s.else);
      return { kind: 'if', cond: s.cond, then: c(s.then), ...(els ? { else: els } : {}) };
    }
    case 'block': {
      const init = s.init && c(s.init);
      return { ...s, bindings: [...s.bindings], body: c(s.body), ...(init ? { init } : {}) };
    }
    case 'store': case 'barrier': return s;
  }
}

export function findLoop(f: PrimFunc, name: string, fail: Fail): For {
  const found = loopsNamed(f.body, name);
  if (found.length !== 1) fail(found.length ? `loop name ${name} is not unique` : `no loop named ${name}`);
  return found[0]!;
}

/** Whether `e` mentions any variable in `ids`. */
export function usesVars(e: Expr, ids: ReadonlySet<number>): boolean {
  let hit = false;
  visitExpr(e, (x) => { if (x.kind === 'var' && ids.has(x.id)) hit = true; });
  return hit;
}

/** Every loop-variable name in a function (new names must not collide). */
export function loopNames(f: PrimFunc): { has(name: string): boolean; add(name: string): void } {
  const added = new Set<string>();
  return {
    has: (name) => added.has(name) || loopsNamed(f.body, name).length > 0,
    add: (name) => { added.add(name); },
  };
}

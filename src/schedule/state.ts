/** Shared machinery of schedule primitives: errors and lookups of blocks and loops. */
import { TesseraError } from '../runtime/error.js';
import { type Expr, visitExpr } from '../ir/expr.js';
import { type Block, type For, type PrimFunc, type Stmt, collectBlocks, visitStmt } from '../tir/stmt.js';

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

export function findBlock(f: PrimFunc, name: string, fail: Fail): Block {
  return uniqueBlock(collectBlocks(f.body), name, fail);
}

/** The one block named `name` among `blocks` (a function's, collected once). */
export function uniqueBlock(blocks: readonly Block[], name: string, fail: Fail): Block {
  const found = blocks.filter((b) => b.name === name);
  if (found.length !== 1) fail(found.length ? `block name ${name} is not unique` : `no block named ${name}`);
  return found[0]!;
}

/** The loops enclosing a statement, outermost first (undefined when it is not in `root`). */
export function loopsAbove(root: Stmt, target: Stmt): For[] | undefined {
  const path: For[] = [];
  let result: For[] | undefined;
  const walk = (s: Stmt): void => {
    if (result) return;
    if (s === target) {
      result = [...path];
      return;
    }
    switch (s.kind) {
      case 'for': path.push(s); walk(s.body); path.pop(); return;
      case 'seq': for (const x of s.stmts) walk(x); return;
      case 'allocate': case 'let': walk(s.body); return;
      case 'if': walk(s.then); if (s.else) walk(s.else); return;
      case 'block': if (s.init) walk(s.init); walk(s.body); return;
      case 'store': return;
    }
  };
  walk(root);
  return result;
}

export function findLoop(f: PrimFunc, name: string, fail: Fail): For {
  const found: For[] = [];
  visitStmt(f.body, (s) => { if (s.kind === 'for' && s.loopVar.name === name) found.push(s); });
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
export function loopNames(f: PrimFunc): Set<string> {
  const names = new Set<string>();
  visitStmt(f.body, (s) => { if (s.kind === 'for') names.add(s.loopVar.name); });
  return names;
}

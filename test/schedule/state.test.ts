/** The schedule's lookups by nest answer as walks of the whole function do. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compute, placeholder, reduceAxis, sum, type Tensor as TeTensor } from '../../src/te/tensor.js';
import { createPrimFunc } from '../../src/te/lower.js';
import { defaultSchedule } from '../../src/schedule/default.js';
import { bodyBlocks, failer, findLoop, loopsAbove, replaceStmt } from '../../src/schedule/state.js';
import { add, float, mul } from '../../src/ir/expr.js';
import { type For, type Stmt, collectBlocks, mapStmt, seq, visitStmt } from '../../src/tir/stmt.js';
import { parseTarget } from '../../src/target/index.js';

/** A function of several top-level nests after the default schedule: matmuls with epilogues in a chain, scratch allocations on top. */
function manyNests() {
  const A = placeholder([8, 12], 'float32', 'A');
  const ws = Array.from({ length: 4 }, (_, s) => placeholder([12, 12], 'float32', `W${s}`));
  let x: TeTensor = A;
  for (let s = 0; s < 4; s++) {
    const W = ws[s]!;
    const k = reduceAxis(12, `k${s}`);
    const prev = x;
    const mm = compute([8, 12], (i, j) => sum(mul(prev.at(i, k.var), W.at(k.var, j)), [k]), `mm${s}`, { materialize: true });
    x = compute([8, 12], (i, j) => add(mm.at(i, j), float(s)), `ep${s}`, { materialize: true });
  }
  return defaultSchedule(createPrimFunc('chain', [A, ...ws], [x]), parseTarget('wasm')).func;
}

/** The loops above `target` by a walk of the whole body (what loopsAbove answered before nests were indexed). */
function walkLoops(root: Stmt, target: Stmt): For[] | undefined {
  const path: For[] = [];
  let found: For[] | undefined;
  const walk = (s: Stmt): void => {
    if (found) return;
    if (s === target) { found = [...path]; return; }
    if (s.kind === 'for') { path.push(s); walk(s.body); path.pop(); return; }
    if (s.kind === 'seq') { for (const c of s.stmts) walk(c); return; }
    if (s.kind === 'allocate' || s.kind === 'let') walk(s.body);
    else if (s.kind === 'if') { walk(s.then); if (s.else) walk(s.else); }
    else if (s.kind === 'block') { if (s.init) walk(s.init); walk(s.body); }
  };
  walk(root);
  return found;
}

test('lookups by nest and replaceStmt agree with walks of the whole function', () => {
  const f = manyNests();
  const stmts: Stmt[] = [];
  visitStmt(f.body, (s) => stmts.push(s));
  assert.ok(stmts.length > 40);
  assert.deepEqual(bodyBlocks(f.body), collectBlocks(f.body));
  const fail = failer('test', f);
  for (const s of stmts) {
    assert.deepEqual(loopsAbove(f.body, s), walkLoops(f.body, s));
    const rep = seq([]);
    assert.deepEqual(replaceStmt(f.body, s, rep), mapStmt(f.body, (x) => (x === s ? rep : undefined)));
    if (s.kind === 'for') assert.equal(findLoop(f, s.loopVar.name, fail), s);
  }
  assert.equal(loopsAbove(f.body, seq([])), undefined, 'a statement not in the body');
  assert.throws(() => findLoop(f, 'no_such_loop', fail), /no loop named no_such_loop/);
});

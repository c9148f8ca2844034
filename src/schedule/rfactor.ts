/**
 * rfactor: splits a reduction along one of its reduce iterators into partial results
 * (TensorIR's rfactor). For a block out[s] = out[s] ⊕ x(s, k) whose iterator k has an
 * extent divisible by F, an rf block computes rf[s, l] = ⊕ over k = ko·F + l of x (l a
 * new *spatial* iterator of extent F, ko the reduce iterator taking k's place) and the
 * block then reduces out[s] = ⊕ over l of rf[s, l]. The F partial results are
 * independent, so a schedule can vectorize them: a reduction along the contiguous
 * axis (a softmax's row sum) becomes F lanes of vector accumulators.
 */
import { type Binary, type Buffer, type Expr, type Var, add, binary, load, makeBuffer, mul, int, substitute, variable, visitExpr } from '../ir/expr.js';
import { type Block, type BlockIterVar, type Stmt, type Store, loop, seq, store } from '../tir/stmt.js';
import type { PrimFunc } from '../tir/stmt.js';
import { nestRoot } from './block_prims.js';
import { failer, findBlock, loopNames, loopsAbove, replaceStmt } from './state.js';

const COMBINERS = new Set(['add', 'mul', 'min', 'max']);

export function rfactor(f: PrimFunc, name: string, loopName: string, factor: number): { func: PrimFunc; rfBlock: string } {
  const fail = failer('rfactor', f);
  const block = findBlock(f, name, fail);
  if (!block.init) fail(`block ${name}: it is not a reduction`);
  if (!Number.isInteger(factor) || factor < 2) fail(`factor ${factor} must be an integer >= 2`);
  const loops = loopsAbove(f.body, block)!;
  const nest = loops.slice(loops.length - block.iterVars.length);
  if (nest.length !== block.iterVars.length || block.bindings.some((b, i) => b.kind !== 'var' || b.id !== nest[i]!.loopVar.id)) {
    fail(`block ${name}: rfactor needs its plain loop nest (one loop per iterator, in order)`);
  }
  const t = nest.findIndex((l) => l.loopVar.name === loopName);
  if (t < 0) fail(`loop ${loopName} is not one of block ${name}'s loops`);
  const k = block.iterVars[t]!;
  if (k.type !== 'reduce') fail(`loop ${loopName} binds a spatial iterator`);
  if (k.extent % factor !== 0) fail(`extent ${k.extent} of ${loopName} is not divisible by ${factor}`);
  const ns = block.iterVars.findIndex((iv) => iv.type === 'reduce');
  if (block.iterVars.slice(ns).some((iv) => iv.type !== 'reduce')) fail(`block ${name}: spatial iterators must come first`);
  const spatial = block.iterVars.slice(0, ns);
  // The update must be out[s] = out[s] ⊕ x with x free of out.
  if (block.body.kind !== 'store') fail(`block ${name}: its body is not a single store`);
  const st = block.body as Store;
  const out = st.buffer;
  const atOwn = (idx: readonly Expr[]): boolean => idx.length === ns && idx.every((e, i) => e.kind === 'var' && e.id === spatial[i]!.var.id);
  if (!atOwn(st.indices)) fail(`block ${name}: it does not store at its spatial iterators`);
  const v = st.value;
  if (v.kind !== 'binary' || !COMBINERS.has(v.op) || v.a.kind !== 'load' || v.a.buffer !== out || !atOwn(v.a.indices)) {
    fail(`block ${name}: its update is not out = out ⊕ x`);
  }
  const upd = v as Binary;
  visitExpr(upd.b, (x) => { if (x.kind === 'load' && x.buffer === out) fail(`block ${name}: its operand reads ${out.name}`); });
  const root = nestRoot(f, block, fail);

  const names = loopNames(f);
  const fresh = (base: string): string => {
    let n = base;
    for (let i = 1; names.has(n); i++) n = `${base}${i}`;
    names.add(n);
    return n;
  };
  const rf = makeBuffer(`${out.name}_rf`, out.dtype, [...spatial.map((s) => s.extent), factor]);
  // The rf block: fresh spatial iterators, l (spatial, F), the reduce iterators with k → ko.
  const sVars = spatial.map((s) => variable(`${s.var.name}_rf`));
  const lVar = variable(`${k.var.name}_l`);
  const koVar = variable(`${k.var.name}_o`);
  const map = new Map<number, Expr>(spatial.map((s, i) => [s.var.id, sVars[i]!]));
  map.set(k.var.id, add(mul(koVar, int(factor)), lVar));
  const rfIdx = [...sVars, lVar];
  const rfIters: BlockIterVar[] = [
    ...spatial.map((s, i) => ({ var: sVars[i]!, extent: s.extent, type: 'spatial' as const })),
    { var: lVar, extent: factor, type: 'spatial' },
    ...block.iterVars.slice(ns).map((iv) => (iv === k ? { var: koVar, extent: k.extent / factor, type: 'reduce' as const } : iv)),
  ];
  // Loop names: the original's with _rf; l and ko after the split loop's name.
  const loopNameOf = (iv: BlockIterVar, i: number): string => {
    if (i < ns) return `${nest[i]!.loopVar.name}_rf`;
    if (iv.var === lVar) return `${loopName}_l`;
    if (iv.var === koVar) return `${loopName}_o`;
    return `${nest[i - 1]!.loopVar.name}_rf`; // after l: one position later than in the original nest
  };
  const rfLoops: Var[] = rfIters.map((iv, i) => variable(fresh(loopNameOf(iv, i))));
  const identity = (block.init as Store).value;
  const rfBlock: Block = {
    kind: 'block', name: `${name}_rf`, iterVars: rfIters, bindings: rfLoops,
    init: store(rf, rfIdx, identity),
    body: store(rf, rfIdx, binary(upd.op, load(rf, rfIdx), substitute(upd.b, map))),
    reads: block.reads.filter((b: Buffer) => b !== out), writes: [rf],
  };
  let rfNest: Stmt = rfBlock;
  for (let i = rfIters.length - 1; i >= 0; i--) rfNest = loop(rfLoops[i]!, rfIters[i]!.extent, rfNest);
  // The block itself: out[s] = out[s] ⊕ rf[s, l2] over l2.
  const l2 = variable(`${k.var.name}_rf`);
  const l2Loop = variable(fresh(`${loopName}_rf`));
  const sIdx = spatial.map((s) => s.var);
  const finalBlock: Block = {
    ...block, iterVars: [...spatial, { var: l2, extent: factor, type: 'reduce' }], bindings: [...nest.slice(0, ns).map((l) => l.loopVar), l2Loop],
    body: store(out, sIdx, binary(upd.op, load(out, sIdx), load(rf, [...sIdx, l2]))),
    reads: [rf, ...(block.reads.includes(out) ? [out] : [])],
  };
  let finalNest: Stmt = loop(l2Loop, factor, finalBlock);
  for (let i = ns - 1; i >= 0; i--) finalNest = loop(nest[i]!.loopVar, nest[i]!.extent, finalNest, nest[i]!.forKind, nest[i]!.thread);
  // rf is allocated at the function's top, so both nests stay top-level (parallelizable).
  const body = replaceStmt(f.body, root, seq([rfNest, finalNest]));
  return { func: { ...f, body: { kind: 'allocate', buffer: rf, body } }, rfBlock: rfBlock.name };
}

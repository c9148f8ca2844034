/**
 * Block primitives: compute_inline, reverse_compute_inline, decompose_reduction and
 * cache_write (a local accumulator for a reduction under a loop).
 */
import { type Buffer, type Expr, type Var, load, makeBuffer, mapExpr, substitute, variable, visitExpr } from '../ir/expr.js';
import {
  type Block, type BlockIterVar, type For, type PrimFunc, type Stmt, type Store, collectBlocks, loop, mapStmt, mapStmtExprs, seq, store, visitStmt,
} from '../tir/stmt.js';
import { affineCombine, fromLinear, toLinear } from '../tir/arith.js';
import { type Fail, failer, findBlock, findLoop, loopNames, loopsAbove, uniqueBlock, usesVars } from './state.js';

/** The outermost statement of the loop nest that holds only `block` (the block itself if none). */
export function nestRoot(f: PrimFunc, block: Block, fail: Fail): Stmt {
  const loops = loopsAbove(f.body, block) ?? fail('block not found');
  let root: Stmt = block;
  for (let i = loops.length - 1; i >= 0; i--) {
    if (loops[i]!.body !== root) break;
    root = loops[i]!;
  }
  const inside = new Set<number>();
  visitStmt(root, (s) => { if (s.kind === 'for') inside.add(s.loopVar.id); });
  for (const b of block.bindings) {
    visitExpr(b, (e) => { if (e.kind === 'var' && !inside.has(e.id)) fail(`block ${block.name}: its loops are shared with other statements`); });
  }
  return root;
}

/** The block's body as a single store at exactly its iterators, or a failure. */
function simpleStore(block: Block, fail: Fail): Store {
  if (block.body.kind !== 'store') fail(`block ${block.name}: its body is not a single store`);
  const st = block.body as Store;
  if (st.indices.length !== block.iterVars.length || st.indices.some((e, i) => e.kind !== 'var' || e.id !== block.iterVars[i]!.var.id)) {
    fail(`block ${block.name}: it does not store at exactly its iterators`);
  }
  return st;
}

function readsBuffer(e: Expr, buf: Buffer): boolean {
  let hit = false;
  visitExpr(e, (x) => { if (x.kind === 'load' && x.buffer === buf) hit = true; });
  return hit;
}

function dropAllocation(body: Stmt, buf: Buffer): Stmt {
  return mapStmt(body, (s) => (s.kind === 'allocate' && s.buffer === buf ? s.body : undefined));
}

/**
 * compute_inline: removes an injective block that writes a scratch buffer and
 * substitutes its expression into every read of that buffer.
 */
export function computeInline(f: PrimFunc, name: string): PrimFunc {
  const fail = failer('compute_inline', f);
  const blocks = collectBlocks(f.body);
  const block = uniqueBlock(blocks, name, fail);
  if (block.init) fail(`block ${name}: it is a reduction`);
  if (block.iterVars.some((v) => v.type !== 'spatial')) fail(`block ${name}: it has reduce iterators`);
  const st = simpleStore(block, fail);
  const buf = st.buffer;
  if (f.params.includes(buf)) fail(`block ${name}: it writes the function parameter ${buf.name}`);
  if (readsBuffer(st.value, buf)) fail(`block ${name}: it reads the buffer it writes`);
  const writers = blocks.filter((b) => b.writes.includes(buf));
  if (writers.length !== 1) fail(`block ${name}: buffer ${buf.name} has ${writers.length} writers`);
  const root = nestRoot(f, block, fail);
  const params = block.iterVars.map((v) => v.var);
  const inline = (e: Expr): Expr =>
    mapExpr(e, (x) => {
      if (x.kind !== 'load' || x.buffer !== buf) return undefined;
      const map = new Map<number, Expr>();
      params.forEach((p: Var, i) => map.set(p.id, inline(x.indices[i]!)));
      return substitute(st.value, map);
    });
  // One walk: the nest goes, its allocation goes, and only the blocks that read the
  // buffer (their `reads` say which) are rewritten; the others are kept as they are.
  const rewrite = (s: Stmt): Stmt | undefined => {
    if (s === root) return seq([]);
    if (s.kind === 'allocate' && s.buffer === buf) return mapStmt(s.body, rewrite);
    if (s.kind !== 'block') return undefined;
    if (!s.reads.includes(buf)) return s;
    const b = mapStmtExprs(s, inline) as Block;
    return { ...b, reads: [...new Set([...b.reads.filter((x) => x !== buf), ...block.reads])] };
  };
  return { ...f, body: mapStmt(f.body, rewrite) };
}

/**
 * reverse_compute_inline: folds an elementwise consumer into the block that produces
 * what it reads. The consumer must read the producer's buffer only at its own
 * iterators; the producer must be the buffer's only writer, store at exactly its
 * iterators, and the consumer its only reader. The producer then stores the
 * consumer's value into the consumer's buffer (an epilogue fused into its producer).
 */
export function reverseComputeInline(f: PrimFunc, name: string): PrimFunc {
  const fail = failer('reverse_compute_inline', f);
  const consumer = findBlock(f, name, fail);
  if (consumer.init || consumer.iterVars.some((v) => v.type !== 'spatial')) fail(`block ${name}: it is a reduction`);
  const cst = simpleStore(consumer, fail);
  const candidates = consumer.reads.filter((b) => !f.params.includes(b));
  const producers = candidates.map((b) => ({ b, w: collectBlocks(f.body).filter((x) => x.writes.includes(b)) })).filter((x) => x.w.length > 0);
  if (producers.length !== 1) fail(`block ${name}: it must read exactly one buffer produced in this function, found ${producers.length}`);
  const { b: buf, w: writers } = producers[0]!;
  if (writers.length !== 1) fail(`block ${name}: buffer ${buf.name} has ${writers.length} writers`);
  const producer = writers[0]!;
  if (producer.init) fail(`block ${name}: its producer ${producer.name} is a reduction (cache_write or decompose it first)`);
  const pst = simpleStore(producer, fail);
  const readers = collectBlocks(f.body).filter((x) => x !== producer && x.reads.includes(buf));
  if (readers.length !== 1) fail(`block ${name}: buffer ${buf.name} has other readers`);
  if (buf.shape.length !== consumer.iterVars.length || consumer.iterVars.some((v, i) => v.extent !== buf.shape[i])) {
    fail(`block ${name}: its iteration space differs from ${buf.name}'s shape`);
  }
  // Every read of buf in the consumer must be at exactly the consumer's iterators.
  visitExpr(cst.value, (x) => {
    if (x.kind === 'load' && x.buffer === buf && x.indices.some((e, i) => e.kind !== 'var' || e.id !== consumer.iterVars[i]!.var.id)) {
      fail(`block ${name}: it reads ${buf.name} at other than its own iterators`);
    }
  });
  const map = new Map<number, Expr>();
  consumer.iterVars.forEach((v, i) => map.set(v.var.id, producer.iterVars[i]!.var));
  const value = mapExpr(substitute(cst.value, map), (x) => (x.kind === 'load' && x.buffer === buf ? pst.value : undefined));
  const fused: Block = {
    ...producer,
    name: producer.name,
    body: store(cst.buffer, producer.iterVars.map((v) => v.var), value),
    reads: [...new Set([...producer.reads, ...consumer.reads.filter((b) => b !== buf)])],
    writes: [cst.buffer],
  };
  const root = nestRoot(f, consumer, fail);
  let body = mapStmt(f.body, (s) => (s === root ? seq([]) : s === producer ? fused : undefined));
  body = dropAllocation(body, buf);
  return { ...f, body };
}

/**
 * decompose_reduction: moves a reduction block's init into its own block placed just
 * before loop `loopName`; loops inside that point which bind spatial iterators are
 * replicated around the init block. Loops outside must not bind reduce iterators.
 */
export function decomposeReduction(f: PrimFunc, name: string, loopName: string): PrimFunc {
  const fail = failer('decompose_reduction', f);
  const block = findBlock(f, name, fail);
  if (!block.init) fail(`block ${name}: it has no init`);
  const loops = loopsAbove(f.body, block)!;
  const target = findLoop(f, loopName, fail);
  const depth = loops.indexOf(target);
  if (depth < 0) fail(`loop ${loopName} does not enclose block ${name}`);
  const outer = new Set(loops.slice(0, depth).map((l) => l.loopVar.id));
  const innerLoops = loops.slice(depth);
  block.iterVars.forEach((iv, i) => {
    if (iv.type === 'reduce' && usesVars(block.bindings[i]!, outer)) fail(`reduce iterator ${iv.var.name} is bound outside loop ${loopName}`);
  });
  const spatial = block.iterVars.map((iv, i) => ({ iv, b: block.bindings[i]! })).filter((x) => x.iv.type === 'spatial');
  // Replicate the inner loops that spatial bindings use, with fresh variables.
  const used = innerLoops.filter((l) => spatial.some((s) => usesVars(s.b, new Set([l.loopVar.id]))));
  const names = loopNames(f);
  const fresh = new Map<number, Expr>();
  const initLoops = used.map((l) => {
    let n = `${l.loopVar.name}_init`;
    for (let k = 1; names.has(n); k++) n = `${l.loopVar.name}_init${k}`;
    const v = variable(n);
    fresh.set(l.loopVar.id, v);
    return { v, l };
  });
  const initBlock: Block = {
    kind: 'block', name: `${name}_init`,
    iterVars: spatial.map((x) => x.iv), bindings: spatial.map((x) => substitute(x.b, fresh)),
    body: block.init!, reads: [], writes: block.writes,
  };
  let initNest: Stmt = initBlock;
  for (let i = initLoops.length - 1; i >= 0; i--) {
    const { v, l } = initLoops[i]!;
    initNest = loop(v, l.extent, initNest, l.forKind);
  }
  const { init: _moved, ...update } = block;
  const body = mapStmt(f.body, (s) => {
    if (s !== target) return undefined;
    return seq([initNest, mapStmt(s, (x) => (x === block ? update : undefined))]);
  });
  return { ...f, body };
}

/**
 * cache_write: a reduction block accumulates, for each iteration of loop `loopName`,
 * into a local buffer covering the region of its output written under that loop,
 * copied back to the output after the loop's body (a register tile). Each spatial
 * binding must be affine: a part from loops outside plus a dense mixed-radix part from
 * loops inside; every reduce binding must use only loops inside.
 */
export function cacheWrite(f: PrimFunc, name: string, loopName: string): { func: PrimFunc; writeback: string } {
  const fail = failer('cache_write', f);
  const block = findBlock(f, name, fail);
  if (!block.init) fail(`block ${name}: cache_write expects a reduction block with its init (decompose after cache_write)`);
  if (block.writes.length !== 1) fail(`block ${name}: it writes ${block.writes.length} buffers`);
  const out = block.writes[0]!;
  const loops = loopsAbove(f.body, block)!;
  const target = findLoop(f, loopName, fail);
  const depth = loops.indexOf(target);
  if (depth < 0) fail(`loop ${loopName} does not enclose block ${name}`);
  const innerLoops = loops.slice(depth + 1);
  const innerIds = new Set(innerLoops.map((l) => l.loopVar.id));
  const outerIds = new Set(loops.slice(0, depth + 1).map((l) => l.loopVar.id));
  const extentOf = new Map(innerLoops.map((l) => [l.loopVar.id, l.extent]));
  const spatialIdx: number[] = [];
  const outerPart: Expr[] = [];
  const localExtent: number[] = [];
  /** Per spatial dim: the depth of its innermost loop under the target (-1 if none). */
  const depthOf: number[] = [];
  block.iterVars.forEach((iv, i) => {
    const b = block.bindings[i]!;
    if (iv.type === 'reduce') {
      if (usesVars(b, outerIds)) fail(`reduce iterator ${iv.var.name} is bound by a loop at or outside ${loopName}`);
      return;
    }
    const lin = toLinear(b) ?? fail(`binding of ${iv.var.name} is not affine`);
    depthOf.push(Math.max(-1, ...innerLoops.map((l, k) => (lin.terms.has(l.loopVar.id) ? k : -1))));
    const innerTerms = [...lin.terms.values()].filter((t) => innerIds.has(t.v.id)).sort((x, y) => x.c - y.c);
    let radix = 1;
    for (const t of innerTerms) {
      if (t.c !== radix) fail(`binding of ${iv.var.name} is not a dense tile under ${loopName}`);
      radix *= extentOf.get(t.v.id)!;
    }
    const outerTerms = new Map([...lin.terms].filter(([id]) => !innerIds.has(id)));
    spatialIdx.push(i);
    outerPart.push(fromLinear({ terms: outerTerms, constant: lin.constant }));
    localExtent.push(radix);
  });
  const st = simpleStoreOrUpdate(block, fail);
  if (st.indices.length !== spatialIdx.length) fail(`block ${name}: it does not store at its spatial iterators`);
  // The tile's dims are ordered like the loops that walk them (innermost loop last), so
  // the vectorized loop walks the tile contiguously.
  const perm = depthOf.map((_, d) => d).sort((a, b) => depthOf[a]! - depthOf[b]! || a - b);
  const local = makeBuffer(`${out.name}_local`, out.dtype, perm.map((d) => localExtent[d]!), 'local');
  // Inside the block: out[v] → local[v - outer(v)] (dims permuted).
  const localIdx = perm.map((d) => affineCombine(block.iterVars[spatialIdx[d]!]!.var, outerPart[d]!, 'sub'));
  const retarget = (s: Stmt): Stmt => mapStmtExprs(mapStmt(s, (x) => (x.kind === 'store' && x.buffer === out ? store(local, localIdx, rewriteLoads(x.value)) : undefined)), rewriteLoads);
  function rewriteLoads(e: Expr): Expr {
    return mapExpr(e, (x) => (x.kind === 'load' && x.buffer === out ? load(local, localIdx) : undefined));
  }
  const newBlock: Block = { ...block, init: retarget(block.init!), body: retarget(block.body), writes: [local], reads: block.reads.map((b) => (b === out ? local : b)) };
  // Write-back: loops over the tile, out[outer + w] = local[w].
  const names = loopNames(f);
  const wVars = localExtent.map((_, d) => {
    let n = `${name}_wb${d}`;
    for (let k = 1; names.has(n); k++) n = `${name}_wb${d}_${k}`;
    return variable(n);
  });
  const wIters: BlockIterVar[] = spatialIdx.map((i) => ({ var: variable(block.iterVars[i]!.var.name + '_wb'), extent: block.iterVars[i]!.extent, type: 'spatial' }));
  const wbName = `${name}_wb`;
  const wb: Block = {
    kind: 'block', name: wbName, iterVars: wIters,
    bindings: outerPart.map((o, d) => affineCombine(o, wVars[d]!, 'add')),
    body: store(out, wIters.map((w) => w.var), load(local, perm.map((d) => affineCombine(wIters[d]!.var, outerPart[d]!, 'sub')))),
    reads: [local], writes: [out],
  };
  let wbNest: Stmt = wb;
  for (let k = perm.length - 1; k >= 0; k--) wbNest = loop(wVars[perm[k]!]!, localExtent[perm[k]!]!, wbNest);
  const body = mapStmt(f.body, (s) => {
    if (s !== target) return undefined;
    const innerBody = mapStmt((s as For).body, (x) => (x === block ? newBlock : undefined));
    return { ...(s as For), body: { kind: 'allocate', buffer: local, body: seq([innerBody, wbNest]) } };
  });
  return { func: { ...f, body }, writeback: wbName };
}

function simpleStoreOrUpdate(block: Block, fail: Fail): Store {
  if (block.body.kind !== 'store') fail(`block ${block.name}: its body is not a single store`);
  return block.body as Store;
}

/**
 * Block primitives: compute_inline, reverse_compute_inline, decompose_reduction and
 * cache_write (a local accumulator for a reduction under a loop).
 */
import { type Buffer, type Expr, type Var, load, makeBuffer, mapExpr, substitute, variable, visitExpr } from '../ir/expr.js';
import {
  type Block, type BlockIterVar, type PrimFunc, type Stmt, type Store, collectBlocks, loop, mapStmt, mapStmtExprs, seq, stmtExprs, store, visitStmt,
} from '../tir/stmt.js';
import { affineCombine, fromLinear, toLinear } from '../tir/arith.js';
import { type Fail, failer, findBlock, findLoop, loopNames, loopsAbove, replaceStmt, replaceStmts, uniqueBlock, usesVars } from './state.js';

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
  const st = inlinableStore(f, (buf) => blocks.filter((b) => b.writes.includes(buf)).length, block, fail);
  const buf = st.buffer;
  const root = nestRoot(f, block, fail);
  const inline = inliner(new Map([[buf, { params: block.iterVars.map((v) => v.var), value: st.value }]]));
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

/** compute_inline's conditions on a block: its single store, or a failure. */
function inlinableStore(f: PrimFunc, writers: (buf: Buffer) => number, block: Block, fail: Fail): Store {
  const name = block.name;
  if (block.init) fail(`block ${name}: it is a reduction`);
  if (block.iterVars.some((v) => v.type !== 'spatial')) fail(`block ${name}: it has reduce iterators`);
  const st = simpleStore(block, fail);
  const buf = st.buffer;
  if (f.params.includes(buf)) fail(`block ${name}: it writes the function parameter ${buf.name}`);
  if (readsBuffer(st.value, buf)) fail(`block ${name}: it reads the buffer it writes`);
  const n = writers(buf);
  if (n !== 1) fail(`block ${name}: buffer ${buf.name} has ${n} writers`);
  return st;
}

/** Inlined stages: a buffer's value at its iterators. */
type Definitions = ReadonlyMap<Buffer, { readonly params: readonly Var[]; readonly value: Expr }>;

/** Substitutes each defined buffer's value for its loads (their indices first). */
function inliner(defs: Definitions): (e: Expr) => Expr {
  const inline = (e: Expr): Expr =>
    mapExpr(e, (x) => {
      if (x.kind !== 'load') return undefined;
      const d = defs.get(x.buffer);
      if (!d) return undefined;
      const map = new Map<number, Expr>();
      d.params.forEach((p, i) => map.set(p.id, inline(x.indices[i]!)));
      return substitute(d.value, map);
    });
  return inline;
}

/**
 * The top-level loop nest of each block when every block sits alone in its own perfect
 * nest at the top of the function, under its scratch allocations (a function as
 * createPrimFunc makes it), or undefined.
 */
function topLevelNests(f: PrimFunc, blocks: readonly Block[]): Map<Block, Stmt> | undefined {
  let s = f.body;
  while (s.kind === 'allocate') s = s.body;
  const roots = new Map<Block, Stmt>();
  for (const nest of s.kind === 'seq' ? s.stmts : [s]) {
    const vars = new Set<number>();
    let x = nest;
    while (x.kind === 'for') {
      vars.add(x.loopVar.id);
      x = x.body;
    }
    if (x.kind !== 'block') return undefined;
    for (const b of x.bindings) if (usesOther(b, vars)) return undefined;
    roots.set(x, nest);
  }
  return roots.size === blocks.length ? roots : undefined;
}

const usesOther = (e: Expr, vars: ReadonlySet<number>): boolean => {
  let other = false;
  visitExpr(e, (x) => { if (x.kind === 'var' && !vars.has(x.id)) other = true; });
  return other;
};

/** A block offered to computeInlineWhere's `pick`. */
export interface InlineCandidate {
  /** The block as it is in the function (its store, iterators and annotations are what inlining leaves them). */
  readonly block: Block;
  /** The blocks that read its buffer (their loads of it are what inlining leaves them). */
  readonly readers: readonly Block[];
  /** Its value with the blocks chosen before it substituted into it, built when asked. */
  value(): Expr;
}

/**
 * compute_inline of the blocks `pick` chooses, in one walk: what applying computeInline
 * to each chosen block, in program order, gives, in time linear in the function where
 * those calls take quadratic time (each walks the whole function, and materializes the
 * value of every stage of a chain: a fused chain of 256 ops has 256 blocks). `pick` sees
 * each block in program order. Blocks before a block cannot read its buffer, so inlining
 * them changes neither its store nor its readers' loads of it, only its value (the
 * candidate's value(), which a chain's block need not build). Works on functions whose
 * blocks each sit alone in a top-level nest (as createPrimFunc makes them); returns
 * undefined for others.
 */
export function computeInlineWhere(f: PrimFunc, pick: (c: InlineCandidate) => boolean): { func: PrimFunc; inlined: string[] } | undefined {
  const fail = failer('compute_inline', f);
  const blocks = collectBlocks(f.body);
  const roots = topLevelNests(f, blocks);
  if (!roots) return undefined;
  const writers = new Map<Buffer, number>();
  for (const b of blocks) for (const w of new Set(b.writes)) writers.set(w, (writers.get(w) ?? 0) + 1);
  const readersOf = new Map<Buffer, Block[]>();
  for (const b of blocks) {
    for (const r of new Set(b.reads)) {
      const list = readersOf.get(r);
      if (list) list.push(b);
      else readersOf.set(r, [b]);
    }
  }
  // A buffer loaded once is expanded where it is loaded (a chain's values are never built
  // stage by stage); one loaded more often is expanded once and that value substituted at
  // each load, as computeInline does.
  const defs = new Map<Buffer, { params: readonly Var[]; value: Expr; once: boolean; expanded?: Expr }>();
  const inline = (e: Expr): Expr =>
    mapExpr(e, (x) => {
      if (x.kind !== 'load') return undefined;
      const d = defs.get(x.buffer);
      if (!d) return undefined;
      const map = new Map<number, Expr>();
      d.params.forEach((p, i) => map.set(p.id, inline(x.indices[i]!)));
      if (d.once && d.expanded === undefined) return inline(substitute(d.value, map));
      d.expanded ??= inline(d.value);
      return substitute(d.expanded, map);
    });
  const valueOf = new Map<Block, Expr>();
  /** Each block's reads, as computeInline would have updated them, and the blocks whose reads hold each buffer. */
  const reads = new Map<Block, Buffer[]>(blocks.map((b) => [b, [...b.reads]]));
  const currentReaders = new Map<Buffer, Set<Block>>();
  for (const b of blocks) for (const r of b.reads) currentReaders.set(r, (currentReaders.get(r) ?? new Set()).add(b));
  const removed = new Set<Stmt>();
  const inlined: string[] = [];
  for (const block of blocks) {
    const out = block.writes[0];
    const readers = out ? (readersOf.get(out) ?? []).filter((r) => r !== block) : [];
    const value = (): Expr => {
      let v = valueOf.get(block);
      if (v === undefined) {
        v = block.body.kind === 'store' ? inline(block.body.value) : fail(`block ${block.name}: its body is not a single store`);
        valueOf.set(block, v);
      }
      return v;
    };
    if (!pick({ block, readers, value })) continue;
    const buf = inlinableStore(f, (x) => writers.get(x) ?? 0, block, fail).buffer;
    let loads = 0;
    for (const r of readers) {
      visitStmt(r, (x) => {
        for (const e of stmtExprs(x)) visitExpr(e, (y) => { if (y.kind === 'load' && y.buffer === buf) loads++; });
      });
    }
    const known = valueOf.get(block);
    defs.set(buf, { params: block.iterVars.map((v) => v.var), value: (block.body as Store).value, once: loads <= 1, ...(known ? { expanded: known } : {}) });
    removed.add(roots.get(block)!);
    inlined.push(block.name);
    // As computeInline updates its readers' reads.
    const own = reads.get(block)!;
    for (const r of currentReaders.get(buf) ?? []) {
      reads.set(r, [...new Set([...reads.get(r)!.filter((x) => x !== buf), ...own])]);
      for (const x of own) currentReaders.set(x, (currentReaders.get(x) ?? new Set()).add(r));
    }
    currentReaders.delete(buf);
  }
  if (inlined.length === 0) return { func: f, inlined };
  const rewrite = (s: Stmt): Stmt | undefined => {
    if (removed.has(s)) return seq([]);
    if (s.kind === 'allocate' && defs.has(s.buffer)) return mapStmt(s.body, rewrite);
    if (s.kind !== 'block') return undefined;
    const r = reads.get(s)!;
    const sameReads = r.length === s.reads.length && r.every((x, i) => x === s.reads[i]);
    if (sameReads) return s;
    return { ...(mapStmtExprs(s, inline) as Block), reads: r };
  };
  return { func: { ...f, body: mapStmt(f.body, rewrite) }, inlined };
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
  // The consumer moves up to its producer, above the blocks from the start of the
  // producer's outermost loop to the consumer: none may write what the consumer reads,
  // nor access what it writes.
  const all = collectBlocks(f.body);
  const first = collectBlocks(loopsAbove(f.body, producer)?.[0] ?? producer)[0]!;
  for (const b of all.slice(all.indexOf(first), all.indexOf(consumer))) {
    if (b === producer) continue;
    const x = b.writes.find((w) => w === cst.buffer || consumer.reads.includes(w)) ?? b.reads.find((r) => r === cst.buffer);
    if (x) fail(`block ${name}: folded into ${producer.name}, it would run before block ${b.name}, which ${b.writes.includes(x) ? 'writes' : 'reads'} ${x.name}`);
  }
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
  let body = replaceStmts(f.body, new Map<Stmt, Stmt>([[root, seq([])], [producer, fused]]));
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
    initNest = loop(v, l.extent, initNest, l.forKind, l.thread);
  }
  const { init: _moved, ...update } = block;
  const body = replaceStmt(f.body, target, seq([initNest, mapStmt(target, (x) => (x === block ? update : undefined))]));
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
  simpleStoreOrUpdate(block, fail);
  // Its accesses of out are retargeted to the tile at the spatial iterators, and the
  // write-back stores out at them: they must be out[s0, s1, ...] exactly (a re-laid-out
  // out, out[s1, s0], would be written back transposed).
  const own = spatialIdx.map((i) => block.iterVars[i]!.var.id);
  const atOwn = (idx: readonly Expr[]): boolean => idx.length === own.length && idx.every((e, d) => e.kind === 'var' && e.id === own[d]);
  for (const s of [block.init!, block.body]) {
    visitStmt(s, (x) => {
      if (x.kind === 'store' && x.buffer === out && !atOwn(x.indices)) fail(`block ${name}: it does not store at its spatial iterators`);
      for (const e of stmtExprs(x)) visitExpr(e, (y) => { if (y.kind === 'load' && y.buffer === out && !atOwn(y.indices)) fail(`block ${name}: it reads ${out.name} at other than its spatial iterators`); });
    });
  }
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
  const innerBody = mapStmt(target.body, (x) => (x === block ? newBlock : undefined));
  const body = replaceStmt(f.body, target, { ...target, body: { kind: 'allocate', buffer: local, body: seq([innerBody, wbNest]) } });
  return { func: { ...f, body }, writeback: wbName };
}

function simpleStoreOrUpdate(block: Block, fail: Fail): Store {
  if (block.body.kind !== 'store') fail(`block ${block.name}: its body is not a single store`);
  return block.body as Store;
}

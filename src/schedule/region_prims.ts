/**
 * Primitives that move data or computation under a loop, sized by the region the loop's
 * body touches: cache_read (copy the region of a buffer the body reads into a scratch
 * buffer first) and compute_at (compute, at the start of each iteration, just the region
 * of a producer's output the body reads). The region is the bounding box of the accesses,
 * per dimension an affine base over variables bound outside the loop's body plus an
 * extent from the ranges of the loops inside; both primitives refuse non-affine indices,
 * negative strides of inner loops and boxes that could leave the buffer.
 */
import { type Buffer, type Expr, type Var, load, makeBuffer, mapExpr, substitute, variable, visitExpr } from '../ir/expr.js';
import { type Block, type BlockIterVar, type For, type PrimFunc, type Stmt, collectBlocks, loop, mapStmt, seq, store, visitStmt } from '../tir/stmt.js';
import { affineCombine, fromLinear, toLinear } from '../tir/arith.js';
import { nestRoot } from './block_prims.js';
import { type Fail, failer, findBlock, findLoop, loopNames, loopsAbove, replaceStmt } from './state.js';

interface Region {
  /** Per dimension: the first index (over variables bound outside the loop's body). */
  readonly base: Expr[];
  readonly extent: number[];
}

/** Loads of `buf` in a block, with indices in terms of loop variables (iterators replaced by their bindings). */
function loadsOf(block: Block, buf: Buffer): Expr[][] {
  const bind = new Map<number, Expr>(block.iterVars.map((iv, i) => [iv.var.id, block.bindings[i]!]));
  const out: Expr[][] = [];
  const scan = (s: Stmt): void => visitStmt(s, (x) => {
    const exprs = x.kind === 'store' ? [...x.indices, x.value] : x.kind === 'if' ? [x.cond] : [];
    for (const e of exprs) visitExpr(e, (y) => { if (y.kind === 'load' && y.buffer === buf) out.push(y.indices.map((i) => substitute(i, bind))); });
  });
  if (block.init) scan(block.init);
  scan(block.body);
  return out;
}

/** The range [0, extent) of every loop variable in `f` (by id). */
function loopRanges(f: PrimFunc): Map<number, number> {
  const r = new Map<number, number>();
  visitStmt(f.body, (s) => { if (s.kind === 'for') r.set(s.loopVar.id, s.extent); });
  return r;
}

/** The bounding box of `accesses` (index lists over loop variables) per iteration of `at`. */
function regionOf(f: PrimFunc, at: For, buf: Buffer, accesses: readonly Expr[][], fail: Fail): Region {
  if (accesses.length === 0) fail(`nothing under loop ${at.loopVar.name} reads ${buf.name}`);
  const inner = new Map<number, number>();
  visitStmt(at.body, (s) => { if (s.kind === 'for') inner.set(s.loopVar.id, s.extent); });
  const ranges = loopRanges(f);
  const base: Expr[] = [];
  const extent: number[] = [];
  for (let d = 0; d < buf.shape.length; d++) {
    let outerKey: string | undefined;
    let outer = new Map<number, { v: Var; c: number }>();
    let lo = Infinity;
    let hi = -Infinity;
    for (const idx of accesses) {
      const lin = toLinear(idx[d]!) ?? fail(`index ${d} of ${buf.name} is not affine`);
      const outerTerms = new Map([...lin.terms].filter(([id]) => !inner.has(id)));
      let span = 0;
      for (const [id, t] of lin.terms) {
        if (!inner.has(id)) continue;
        if (t.c < 0) fail(`index ${d} of ${buf.name} runs backwards along an inner loop`);
        span += t.c * (inner.get(id)! - 1);
      }
      const key = [...outerTerms].sort((a, b) => a[0] - b[0]).map(([id, t]) => `${id}*${t.c}`).join('+');
      if (outerKey !== undefined && key !== outerKey) fail(`reads of ${buf.name} differ in how dimension ${d} depends on the outer loops`);
      outerKey = key;
      outer = outerTerms;
      lo = Math.min(lo, lin.constant);
      hi = Math.max(hi, lin.constant + span);
    }
    base.push(fromLinear({ terms: outer, constant: lo }));
    extent.push(hi - lo + 1);
    // The box must stay inside the buffer for every value of the outer variables.
    const b = toLinear(base[d]!)!;
    let min = b.constant, max = b.constant + extent[d]! - 1;
    for (const t of b.terms.values()) {
      const ext = ranges.get(t.v.id);
      if (ext === undefined) fail(`index ${d} of ${buf.name} depends on ${t.v.name}, which is not a loop variable`);
      if (t.c > 0) max += t.c * (ext - 1);
      else min += t.c * (ext - 1);
    }
    if (min < 0 || max >= buf.shape[d]!) fail(`the region of ${buf.name} read under loop ${at.loopVar.name} may leave the buffer along dimension ${d}`);
  }
  return { base, extent };
}

/** A nest of fresh loops over `extent` around `body(vars)`, loop names from `prefix`. */
function freshNest(f: PrimFunc, prefix: string, extent: readonly number[], body: (vars: Var[]) => Stmt): Stmt {
  const names = loopNames(f);
  const vars = extent.map((_, d) => {
    let n = `${prefix}${d}`;
    for (let k = 1; names.has(n); k++) n = `${prefix}${d}_${k}`;
    names.add(n);
    return variable(n);
  });
  let s = body(vars);
  for (let d = extent.length - 1; d >= 0; d--) s = loop(vars[d]!, extent[d]!, s);
  return s;
}

/**
 * cache_read: at the start of each iteration of loop `loopName`, copies the region of
 * `bufferName` that the blocks inside read into a new scratch buffer, and makes those
 * blocks read the copy. Nothing inside the loop may write the buffer. Returns the copy
 * block's name.
 */
export function cacheRead(f: PrimFunc, loopName: string, bufferName: string): { func: PrimFunc; block: string } {
  const fail = failer('cache_read', f);
  const at = findLoop(f, loopName, fail);
  const blocks = collectBlocks(at.body);
  const bufs = new Set<Buffer>();
  for (const b of blocks) for (const r of b.reads) if (r.name === bufferName) bufs.add(r);
  if (bufs.size !== 1) fail(bufs.size === 0 ? `no block under loop ${loopName} reads a buffer named ${bufferName}` : `buffer name ${bufferName} is ambiguous`);
  const buf = [...bufs][0]!;
  if (blocks.some((b) => b.writes.includes(buf))) fail(`buffer ${bufferName} is written inside loop ${loopName}`);
  const readers = blocks.filter((b) => b.reads.includes(buf));
  const region = regionOf(f, at, buf, readers.flatMap((b) => loadsOf(b, buf)), fail);
  const cache = makeBuffer(`${buf.name}_cache`, buf.dtype, region.extent);
  const name = `${buf.name}_cache`;
  if (collectBlocks(f.body).some((b) => b.name === name)) fail(`block name ${name} already exists`);
  const copy = freshNest(f, `${name}_ax`, region.extent, (vars) => {
    const iters: BlockIterVar[] = region.extent.map((e, d) => ({ var: variable(`${name}_v${d}`), extent: e, type: 'spatial' }));
    const src = iters.map((iv, d) => affineCombine(region.base[d]!, iv.var, 'add'));
    const block: Block = {
      kind: 'block', name, iterVars: iters, bindings: vars,
      body: store(cache, iters.map((iv) => iv.var), load(buf, src)), reads: [buf], writes: [cache],
    };
    return block;
  });
  // Readers: buf[idx] → cache[idx - base].
  const retarget = (e: Expr): Expr => mapExpr(e, (x) => (x.kind === 'load' && x.buffer === buf
    ? load(cache, x.indices.map((i, d) => affineCombine(retarget(i), region.base[d]!, 'sub')))
    : undefined));
  const rewritten = new Map<Block, Block>(readers.map((b) => [b, {
    ...b, reads: b.reads.map((r) => (r === buf ? cache : r)),
    ...(b.init ? { init: mapStmt(b.init, () => undefined, retarget) } : {}),
    body: mapStmt(b.body, () => undefined, retarget),
  }]));
  const withReaders = mapStmt(at.body, (s) => (s.kind === 'block' ? rewritten.get(s) : undefined));
  const body = replaceStmt(f.body, at, { ...at, body: { kind: 'allocate', buffer: cache, body: seq([copy, withReaders]) } });
  return { func: { ...f, body }, block: name };
}

/**
 * compute_at: moves an injective producer block (spatial iterators only, writing a scratch
 * buffer that only blocks under loop `loopName` read) to the start of that loop's body,
 * computing per iteration just the region those readers need (overlapping regions are
 * recomputed). The producer's nest must hold only it and come before the loop.
 */
export function computeAt(f: PrimFunc, blockName: string, loopName: string): PrimFunc {
  const fail = failer('compute_at', f);
  const producer = findBlock(f, blockName, fail);
  const at = findLoop(f, loopName, fail);
  if (producer.init || producer.iterVars.some((iv) => iv.type !== 'spatial')) fail(`block ${blockName} is a reduction`);
  if (producer.writes.length !== 1) fail(`block ${blockName} writes ${producer.writes.length} buffers`);
  const buf = producer.writes[0]!;
  if (f.params.includes(buf)) fail(`block ${blockName} writes the function parameter ${buf.name}`);
  if (producer.body.kind !== 'store' || producer.body.indices.some((e, i) => e.kind !== 'var' || e.id !== producer.iterVars[i]!.var.id)) {
    fail(`block ${blockName} does not store at exactly its iterators`);
  }
  if (loopsAbove(at.body, producer)) fail(`block ${blockName} is already inside loop ${loopName}`);
  const all = collectBlocks(f.body);
  if (all.filter((b) => b.writes.includes(buf)).length !== 1) fail(`buffer ${buf.name} has other writers`);
  const inside = new Set(collectBlocks(at.body));
  const readers = all.filter((b) => b.reads.includes(buf));
  if (readers.some((b) => !inside.has(b))) fail(`buffer ${buf.name} is read outside loop ${loopName}`);
  const order = all.indexOf(producer);
  if (readers.some((b) => all.indexOf(b) < order)) fail(`block ${blockName} comes after a reader`);
  const region = regionOf(f, at, buf, readers.flatMap((b) => loadsOf(b, buf)), fail);
  const root = nestRoot(f, producer, fail);
  const nest = freshNest(f, `${blockName}_at`, region.extent, (vars) => ({ ...producer, bindings: region.base.map((b, d) => affineCombine(b, vars[d]!, 'add')) }));
  const body = mapStmt(f.body, (s) => (s === root ? seq([]) : s === at ? { ...at, body: seq([nest, at.body]) } : undefined));
  return { ...f, body };
}

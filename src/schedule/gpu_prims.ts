/**
 * GPU primitives: bind (a loop to a thread axis) and set_scope (a scratch buffer to a
 * memory scope). Each refuses what would change the result or cannot be generated; the
 * target's limits (threads per workgroup, workgroup memory) are checked once the schedule
 * is complete, by tir/transform/verify_gpu.ts.
 */
import { type Buffer, type Expr, type MemoryScope, load, mapExpr } from '../ir/expr.js';
import { type For, type PrimFunc, type Stmt, type ThreadAxis, THREAD_AXES, collectBlocks, mapStmt, visitStmt } from '../tir/stmt.js';
import { failer, findLoop, loopsAbove, replaceStmt, usesVars } from './state.js';

const isBlockAxis = (a: ThreadAxis): boolean => a.startsWith('blockIdx');

/**
 * bind: loop `name` runs one iteration per workgroup (blockIdx.*) or per invocation
 * (threadIdx.*). The loop must be serial and bind only spatial iterators of the blocks
 * under it (its iterations then write disjoint outputs; a reduction across threads needs
 * rfactor first); an axis is bound at most once on any path of loops, and blockIdx loops
 * enclose threadIdx loops, never the other way round.
 */
export function bind(f: PrimFunc, name: string, axis: ThreadAxis): PrimFunc {
  const fail = failer('bind', f);
  if (!THREAD_AXES.includes(axis)) fail(`unknown thread axis '${String(axis)}'; axes: ${THREAD_AXES.join(', ')}`);
  const target = findLoop(f, name, fail);
  if (target.forKind !== 'serial') fail(`loop ${name} is ${target.forKind === 'thread' ? `already bound to ${target.thread}` : target.forKind}; only a serial loop can be bound`);
  const id = new Set([target.loopVar.id]);
  for (const b of collectBlocks(target.body)) {
    b.iterVars.forEach((iv, i) => {
      if (iv.type === 'reduce' && usesVars(b.bindings[i]!, id)) {
        fail(`loop ${name} binds reduce iterator ${iv.var.name} of block ${b.name}; threads would race on its accumulator (rfactor the reduction first)`);
      }
    });
  }
  const above = loopsAbove(f.body, target) ?? [];
  const below: For[] = [];
  visitStmt(target.body, (s) => { if (s.kind === 'for' && s.forKind === 'thread') below.push(s); });
  for (const l of [...above, ...below]) {
    if (l.forKind !== 'thread') continue;
    if (l.thread === axis) fail(`loop ${l.loopVar.name} ${above.includes(l) ? 'around' : 'inside'} loop ${name} is already bound to ${axis}`);
  }
  if (isBlockAxis(axis)) {
    const thread = above.find((l) => l.forKind === 'thread' && !isBlockAxis(l.thread!));
    if (thread) fail(`loop ${name} sits inside loop ${thread.loopVar.name} (bound to ${thread.thread}); workgroup axes (blockIdx) must enclose invocation axes (threadIdx)`);
  } else {
    const block = below.find((l) => isBlockAxis(l.thread!));
    if (block) fail(`loop ${name} encloses loop ${block.loopVar.name} (bound to ${block.thread}); workgroup axes (blockIdx) must enclose invocation axes (threadIdx)`);
  }
  const bound: For = { ...target, forKind: 'thread', thread: axis };
  return { ...f, body: replaceStmt(f.body, target, bound) };
}

/**
 * set_scope: the scratch buffer `bufferName` lives in `scope`. Only buffers a function
 * allocates qualify (parameters are device memory the caller passes).
 */
export function setScope(f: PrimFunc, bufferName: string, scope: MemoryScope): PrimFunc {
  const fail = failer('set_scope', f);
  if (!['global', 'shared', 'local'].includes(scope)) fail(`unknown memory scope '${String(scope)}'; scopes: global, shared, local`);
  if (f.params.some((p) => p.name === bufferName)) fail(`buffer ${bufferName} is a parameter of the function; only scratch buffers it allocates can change scope`);
  const allocs: Extract<Stmt, { kind: 'allocate' }>[] = [];
  visitStmt(f.body, (s) => { if (s.kind === 'allocate' && s.buffer.name === bufferName) allocs.push(s); });
  if (allocs.length !== 1) fail(allocs.length === 0 ? `no scratch buffer named ${bufferName}` : `buffer name ${bufferName} is ambiguous`);
  const old = allocs[0]!.buffer;
  if (old.scope === scope) return f;
  const buf = { ...old, scope };
  // The buffer object is shared by the allocation, the blocks' reads/writes and every access.
  const swap = <T>(b: T): T => ((b as unknown) === old ? (buf as unknown as T) : b);
  const retarget = (e: Expr): Expr => mapLoads(e, old, buf);
  const body = mapStmt(f.body, (s) => {
    if (s.kind === 'allocate' && s.buffer === old) return { ...s, buffer: buf, body: rewrite(s.body) };
    return undefined;
  });
  function rewrite(s: Stmt): Stmt {
    return mapStmt(s, (x) => {
      if (x.kind === 'store' && x.buffer === old) return { ...x, buffer: buf, indices: x.indices.map(retarget), value: retarget(x.value) };
      if (x.kind === 'block' && (x.reads.includes(old) || x.writes.includes(old))) {
        return { ...x, reads: x.reads.map(swap), writes: x.writes.map(swap), body: rewrite(x.body), ...(x.init ? { init: rewrite(x.init) } : {}), bindings: x.bindings.map(retarget) };
      }
      return undefined;
    }, retarget);
  }
  return { ...f, body };
}

/** `e` with its loads of `from` reading `to` instead. */
function mapLoads(e: Expr, from: Buffer, to: Buffer): Expr {
  return mapExpr(e, (x) => (x.kind === 'load' && x.buffer === from ? load(to, x.indices.map((i) => mapLoads(i, from, to))) : undefined));
}

/**
 * transform_layout: re-lays a buffer out in blocks (TensorIR's transform_layout, for the
 * blocked layouts this compiler uses): some axes are split into (outer, inner) parts of a
 * given factor, the inner parts appended as new axes, then all axes permuted. B[K, N] with
 * N split by 16 and order [1, 0, 2] is the 16-column panel layout NK16n B[N/16, K, 16];
 * W[O, I, kh, kw] with O split by 4 and order [0, 2, 3, 1, 4] is OHWI4o. Every access to
 * the buffer is rewritten through the map, so a scratch buffer's re-layout computes the
 * same values; a parameter's changes the function's signature, and the caller supplies
 * its data re-laid out (`relayout`, e.g. a constant weight, once at compile time).
 */
import { type Buffer, type Expr, floordiv, floormod, int, load, makeBuffer, mapExpr, visitExpr } from '../ir/expr.js';
import { type PrimFunc, type Stmt, collectBlocks, mapStmt, store, visitStmt } from '../tir/stmt.js';
import { failer } from './state.js';

/** A blocked layout: split axes (inner parts appended in this order), then a permutation of all axes. */
export interface LayoutMap {
  readonly splits: readonly { readonly axis: number; readonly factor: number }[];
  /** Source axis for each new axis: the buffer's axes (outer parts of split ones), then the inner parts. */
  readonly order: readonly number[];
}

/** The shape after `map`, or a reason it does not apply to `shape`. */
function mappedShape(shape: readonly number[], map: LayoutMap): number[] | string {
  const axes = [...shape];
  const seen = new Set<number>();
  for (const { axis, factor } of map.splits) {
    if (!Number.isInteger(axis) || axis < 0 || axis >= shape.length) return `split axis ${axis} is not an axis of [${shape.join(', ')}]`;
    if (seen.has(axis)) return `axis ${axis} is split twice`;
    seen.add(axis);
    if (!Number.isInteger(factor) || factor < 2 || shape[axis]! % factor !== 0) return `factor ${factor} does not divide axis ${axis} of extent ${shape[axis]}`;
    axes[axis] = shape[axis]! / factor;
    axes.push(factor);
  }
  const order = map.order;
  if (order.length !== axes.length || [...order].sort((a, b) => a - b).some((a, i) => a !== i)) {
    return `order [${order.join(', ')}] is not a permutation of the ${axes.length} axes`;
  }
  return order.map((a) => axes[a]!);
}

/** The new indices for an access at `idx` of the original layout. */
function mapIndices(idx: readonly Expr[], map: LayoutMap): Expr[] {
  const axes = [...idx];
  for (const { axis, factor } of map.splits) {
    axes[axis] = floordiv(idx[axis]!, int(factor));
    axes.push(floormod(idx[axis]!, int(factor)));
  }
  return map.order.map((a) => axes[a]!);
}

export function transformLayout(f: PrimFunc, bufferName: string, map: LayoutMap): { func: PrimFunc; buffer: Buffer } {
  const fail = failer('transform_layout', f);
  const candidates = new Set<Buffer>(f.params.filter((b) => b.name === bufferName));
  visitStmt(f.body, (s) => { if (s.kind === 'allocate' && s.buffer.name === bufferName) candidates.add(s.buffer); });
  if (candidates.size !== 1) fail(candidates.size ? `buffer name ${bufferName} is ambiguous` : `no parameter or allocation named ${bufferName}`);
  const buf = [...candidates][0]!;
  if (buf.scope !== 'global') fail(`buffer ${bufferName} is a local tile (re-lay out its global buffer instead)`);
  const shape = mappedShape(buf.shape, map);
  if (typeof shape === 'string') fail(shape);
  let bad: string | undefined;
  const check = (n: number): void => { if (n !== buf.shape.length) bad = `an access to ${bufferName} has ${n} indices, not ${buf.shape.length}`; };
  visitStmt(f.body, (s) => {
    if (s.kind === 'store' && s.buffer === buf) check(s.indices.length);
    const exprs = s.kind === 'store' ? [s.value, ...s.indices] : s.kind === 'if' ? [s.cond] : s.kind === 'block' ? s.bindings : [];
    for (const e of exprs) visitExpr(e, (x) => { if (x.kind === 'load' && x.buffer === buf) check(x.indices.length); });
  });
  if (bad) fail(bad);
  const to = makeBuffer(buf.name, buf.dtype, shape as number[], buf.scope);
  const retarget = (e: Expr): Expr => mapExpr(e, (x) => (x.kind === 'load' && x.buffer === buf ? load(to, mapIndices(x.indices.map(retarget), map)) : undefined));
  const swap = (list: readonly Buffer[]): Buffer[] => list.map((b) => (b === buf ? to : b));
  const rewrite = (s: Stmt): Stmt => mapStmt(s, (x) => {
    if (x.kind === 'store' && x.buffer === buf) return store(to, mapIndices(x.indices.map(retarget), map), retarget(x.value));
    if (x.kind === 'allocate' && x.buffer === buf) return { ...x, buffer: to, body: rewrite(x.body) };
    if (x.kind === 'block' && (x.reads.includes(buf) || x.writes.includes(buf))) {
      return {
        ...x, reads: swap(x.reads), writes: swap(x.writes), bindings: x.bindings.map(retarget),
        ...(x.init ? { init: rewrite(x.init) } : {}), body: rewrite(x.body),
      };
    }
    return undefined;
  }, retarget);
  const func = { ...f, params: swap(f.params), body: rewrite(f.body) };
  if (collectBlocks(func.body).some((b) => b.reads.includes(buf) || b.writes.includes(buf))) fail(`internal: ${bufferName} still referenced`);
  return { func, buffer: to };
}

/** Host data of a buffer of `shape`, re-laid out by `map` (what a parameter's caller passes after transform_layout). */
export function relayout<T extends { length: number; [i: number]: number | bigint }>(data: T, shape: readonly number[], map: LayoutMap, make: (n: number) => T): T {
  const newShape = mappedShape(shape, map);
  if (typeof newShape === 'string') throw new RangeError(`relayout: ${newShape}`);
  const out = make(data.length);
  const strides = newShape.map((_, d) => newShape.slice(d + 1).reduce((a, b) => a * b, 1));
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < data.length; i++) {
    let r = i;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = r % shape[d]!;
      r = Math.floor(r / shape[d]!);
    }
    const axes = [...idx];
    for (const { axis, factor } of map.splits) {
      axes[axis] = Math.floor(idx[axis]! / factor);
      axes.push(idx[axis]! % factor);
    }
    let o = 0;
    map.order.forEach((a, d) => { o += axes[a]! * strides[d]!; });
    out[o] = data[i]!;
  }
  return out;
}

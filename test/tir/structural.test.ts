import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compute, placeholder, reduceAxis, sum } from '../../src/te/tensor.js';
import { createPrimFunc } from '../../src/te/lower.js';
import { Schedule } from '../../src/schedule/schedule.js';
import { lowerForCodegen } from '../../src/tir/transform/pipeline.js';
import { type Expr, add, cast, float, int, load, makeBuffer, max, mul, variable } from '../../src/ir/expr.js';
import { type PrimFunc, type Stmt, loop, mapStmt, store } from '../../src/tir/stmt.js';
import { structuralEqual, structuralHash } from '../../src/tir/structural.js';
import type { DType } from '../../src/runtime/dtype.js';

interface DenseOptions {
  readonly names?: string;
  readonly n?: number;
  readonly k?: number;
  readonly dtype?: DType;
  readonly bias?: number;
  readonly materialize?: boolean;
  readonly unroll?: { readonly axis: number; readonly factor?: number };
}

/** relu(X·W + bias) as TE, lowered by createPrimFunc; `names` prefixes every name. */
function dense(o: DenseOptions = {}): PrimFunc {
  const p = o.names ?? '';
  const n = o.n ?? 8, k = o.k ?? 16, dtype = o.dtype ?? 'float32';
  const X = placeholder([4, k], dtype, `${p}X`);
  const W = placeholder([k, n], dtype, `${p}W`);
  const r = reduceAxis(k, `${p}r`);
  const M = compute([4, n], (i, j) => sum(mul(X.at(i, r.var), W.at(r.var, j)), [r]), `${p}M`);
  const Y = compute([4, n], (i, j) => max(add(M.at(i, j), float(o.bias ?? 1, dtype)), float(0, dtype)), `${p}Y`, {
    ...(o.materialize ? { materialize: true } : {}), ...(o.unroll ? { unroll: [o.unroll] } : {}),
  });
  return createPrimFunc(`${p}dense`, [X, W], [Y]);
}

function assertSame(a: PrimFunc | Stmt | Expr, b: PrimFunc | Stmt | Expr, what: string): void {
  assert.ok(structuralEqual(a, b), `${what}: structurally equal`);
  assert.ok(structuralEqual(b, a), `${what}: structurally equal (swapped)`);
  assert.equal(structuralHash(a), structuralHash(b), `${what}: same hash`);
}

function assertDiffer(a: PrimFunc | Stmt | Expr, b: PrimFunc | Stmt | Expr, what: string): void {
  assert.ok(!structuralEqual(a, b), `${what}: not structurally equal`);
  assert.ok(!structuralEqual(b, a), `${what}: not structurally equal (swapped)`);
  assert.notEqual(structuralHash(a), structuralHash(b), `${what}: different hashes`);
}

test('independent lowerings of one compute are equal, whatever the names and ids', () => {
  const a = dense();
  const b = dense();
  const renamed = dense({ names: 'other_' });
  assert.notEqual(a.params[0]!.id, b.params[0]!.id);
  assert.equal(renamed.name, 'other_dense');
  assertSame(a, a, 'itself');
  assertSame(a, b, 'a second createPrimFunc');
  assertSame(a, renamed, 'renamed function, buffers, variables and blocks');
  assert.match(structuralHash(a), /^[0-9a-f]{16}$/);
  // The lowered (flat) forms are equal too, and differ from the block form.
  assertSame(lowerForCodegen(a), lowerForCodegen(renamed), 'lowered');
  assertDiffer(a, lowerForCodegen(a), 'blocks vs lowered');
});

test('a change of extent, constant, dtype or annotation changes the structure', () => {
  const base = dense();
  const variants: [string, PrimFunc][] = [
    ['an output extent', dense({ n: 12 })],
    ['a reduce extent', dense({ k: 32 })],
    ['a constant', dense({ bias: 2 })],
    ['a dtype', dense({ dtype: 'float64' })],
    ['materialize', dense({ materialize: true })],
    ['unroll', dense({ unroll: { axis: 1 } })],
    ['unroll by a factor', dense({ unroll: { axis: 1, factor: 2 } })],
    ['unroll another axis', dense({ unroll: { axis: 0 } })],
  ];
  for (const [what, f] of variants) assertDiffer(base, f, what);
  // All variants differ pairwise, in equality and in hash.
  const all = [base, ...variants.map(([, f]) => f)];
  const hashes = new Set(all.map(structuralHash));
  assert.equal(hashes.size, all.length);
});

test('a schedule changes the structure, and the same trace replayed gives an equal function', () => {
  const f = dense();
  const sch = new Schedule(f);
  const [, j] = sch.getLoops('Y').map((l) => l.loopVar.name);
  sch.split(j!, [2, 4]);
  assertDiffer(f, sch.func, 'split');
  const again = new Schedule(dense({ names: 'z' }));
  again.replay(sch.trace.map((inst) => JSON.parse(JSON.stringify(inst).replaceAll('"Y', '"zY'))));
  assertSame(sch.func, again.func, 'the trace replayed on a renamed lowering');
  // A different split factor is a different function.
  const other = new Schedule(dense());
  other.split(j!, [4, 2]);
  assertDiffer(sch.func, other.func, 'split factors');
});

test('swapping the buffers of two loads, or the binding order of two variables, changes the structure', () => {
  const A = makeBuffer('A', 'float32', [4, 4]);
  const B = makeBuffer('B', 'float32', [4, 4]);
  const C = makeBuffer('C', 'float32', [4, 4]);
  const i = variable('i'), j = variable('j');
  const body = (x: Expr, y: Expr): Stmt => store(C, [i, j], add(x, y));
  const nest = (outer: typeof i, inner: typeof i, s: Stmt): Stmt => loop(outer, 4, loop(inner, 4, s));
  const fn = (body: Stmt, params = [A, B, C]): PrimFunc => ({ name: 'f', params, body, flat: false });
  const ab = fn(nest(i, j, body(load(A, [i, j]), load(B, [i, j]))));
  const ba = fn(nest(i, j, body(load(B, [i, j]), load(A, [i, j]))));
  assertDiffer(ab, ba, 'loads of A and B swapped');
  // The same with the parameters swapped too is the same function up to renaming.
  assertSame(ab, fn(nest(i, j, body(load(B, [i, j]), load(A, [i, j]))), [B, A, C]), 'buffers renamed');
  const ji = fn(nest(j, i, body(load(A, [i, j]), load(B, [i, j]))));
  assertDiffer(ab, ji, 'loops i and j bound in the other order');
  assertDiffer(ab, fn(nest(i, j, body(load(A, [j, i]), load(B, [i, j])))), 'indices swapped');
  // Fresh variables and buffers (new ids, new names) in the same places: equal.
  const [A2, B2, C2] = ['p', 'q', 'r'].map((n) => makeBuffer(n, 'float32', [4, 4])) as [typeof A, typeof A, typeof A];
  const i2 = variable('x'), j2 = variable('y');
  const fresh: PrimFunc = { name: 'g', params: [A2, B2, C2], body: loop(i2, 4, loop(j2, 4, store(C2, [i2, j2], add(load(A2, [i2, j2]), load(B2, [i2, j2]))))), flat: false };
  assertSame(ab, fresh, 'fresh ids and names');
  // A buffer's scope and a loop's kind or thread axis are structure.
  const shared = makeBuffer('A', 'float32', [4, 4], 'shared');
  assertDiffer(ab, fn(nest(i, j, body(load(shared, [i, j]), load(B, [i, j]))), [shared, B, C]), 'scope');
  assertDiffer(ab, fn(loop(i, 4, loop(j, 4, body(load(A, [i, j]), load(B, [i, j])), 'vectorized'))), 'loop kind');
  assertDiffer(
    fn(loop(i, 4, loop(j, 4, body(load(A, [i, j]), load(B, [i, j]))), 'thread', 'threadIdx.x')),
    fn(loop(i, 4, loop(j, 4, body(load(A, [i, j]), load(B, [i, j]))), 'thread', 'threadIdx.y')),
    'thread axis',
  );
});

test('names are not structure: function, buffer, variable and block names', () => {
  const f = dense();
  const renamedBlocks: PrimFunc = {
    ...f, name: 'elsewhere',
    body: mapStmt(f.body, (s) => (s.kind === 'block' ? { ...s, name: `${s.name}_renamed`, body: s.body } : undefined)),
  };
  assertSame(f, renamedBlocks, 'block and function names');
});

test('constants: floats by their bits (-0 is not 0, NaN is NaN), integers by value, dtype included', () => {
  const x = variable('x', 'float32');
  assertDiffer(mul(x, float(0)), mul(x, float(-0)), '0 vs -0');
  const payload = new DataView(new ArrayBuffer(8));
  payload.setUint32(0, 1, true);
  payload.setUint32(4, 0x7ff8_0000, true);
  assertSame(mul(x, float(Number.NaN)), mul(x, float(payload.getFloat64(0, true))), 'NaNs');
  assertDiffer(add(x, float(1)), add(x, float(1 + 2 ** -52)), 'a float by its last bit');
  assertDiffer(add(x, float(1)), add(variable('y', 'float64'), float(1, 'float64')), 'float32 vs float64');
  assertSame(int(-0), int(0), 'integer -0');
  assertDiffer(int(3), int(3, 'int64'), 'int32 vs int64');
  assertDiffer(int(2 ** 40, 'int64'), int(2 ** 40 + 1, 'int64'), 'wide integers');
  assertDiffer(cast(x, 'int32'), cast(x, 'int64'), 'cast target');
});

test('free variables are numbered by first occurrence; rebinding one variable is two bindings', () => {
  const x = variable('x'), y = variable('y'), z = variable('z');
  assertSame(add(x, y), add(z, x), 'x + y vs z + x');
  assertDiffer(add(x, y), add(x, x), 'x + y vs x + x');
  // Two sibling loops over one variable object vs over two variables.
  const out = makeBuffer('o', 'int32', [4]);
  const f = (a: typeof x, b: typeof x): PrimFunc => ({
    name: 'f', params: [out], flat: false,
    body: { kind: 'seq', stmts: [loop(a, 4, store(out, [a], a)), loop(b, 4, store(out, [b], add(b, int(1))))] },
  });
  assertSame(f(x, x), f(y, z), 'one var bound twice vs two vars');
  // A nested sequence counts as the flat sequence seq() builds.
  const s1 = store(out, [int(0)], int(1)), s2 = store(out, [int(1)], int(2)), s3 = store(out, [int(2)], int(3));
  assertSame({ kind: 'seq', stmts: [{ kind: 'seq', stmts: [s1, s2] }, s3] }, { kind: 'seq', stmts: [s1, s2, s3] }, 'nested seq');
  assertSame({ kind: 'seq', stmts: [s1] }, s1, 'a seq of one');
  assertDiffer({ kind: 'seq', stmts: [s1, s2] }, { kind: 'seq', stmts: [s2, s1] }, 'statement order');
});

test('the hash is stable across processes and releases (a golden value)', () => {
  // The token encoding is part of every stored hash (tuning records, caches): if this
  // changes on purpose, update the value here.
  assert.equal(structuralHash(dense()), structuralHash(dense({ names: 'q' })));
  assert.equal(structuralHash(dense()), GOLDEN);
});

const GOLDEN = '0635fdf0966dec19';

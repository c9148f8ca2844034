/**
 * Every refusal of every schedule primitive, one assertion each: each check in
 * src/schedule/*.ts that refuses with a ScheduleError is reached here (or in the other
 * schedule tests) and must name its reason, so a check that is removed or whose condition
 * breaks fails a test. The functions come from the TE API where a refusal can be reached
 * through the public Schedule API; a few refusals guard against IR that no TE function or
 * primitive makes, and are reached on IR edited by hand (withBlock, renameLoop, ...).
 */
import { K, M, N, copiedMatmulRelu, matmulRelu } from '../helpers/kernels.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compute, placeholder, reduceAxis, sum, type Tensor as TeTensor } from '../../src/te/tensor.js';
import { createPrimFunc } from '../../src/te/lower.js';
import { Schedule, ScheduleError } from '../../src/schedule/schedule.js';
import { defaultSchedule } from '../../src/schedule/default.js';
import { lowerForCodegen } from '../../src/tir/transform/pipeline.js';
import { type Expr, type Load, type Var, add, float, floormod, int, load, lt, makeBuffer, mul, select, sub, substitute, variable } from '../../src/ir/expr.js';
import { type Block, type PrimFunc, type Store, loop, mapStmt, mapStmtExprs, seq, store } from '../../src/tir/stmt.js';
import { type Target, parseTarget } from '../../src/target/index.js';


/** E = A · 2 (scratch), D = E + 1 (the output), both [8, 4]. */
function chain(): PrimFunc {
  const A = placeholder([8, 4], 'float32', 'A');
  const E = compute([8, 4], (i, j) => mul(A.at(i, j), float(2)), 'E');
  const D = compute([8, 4], (i, j) => add(E.at(i, j), float(1)), 'D');
  return createPrimFunc('chain', [A], [D]);
}

/** A one-stage function D[i] = value(A, i) over A[a] and D[d]. */
function oneStage(a: number, d: number, value: (A: TeTensor, i: Var) => ReturnType<TeTensor['at']>): PrimFunc {
  const A = placeholder([a], 'float32', 'A');
  const D = compute([d], (i) => value(A, i), 'D');
  return createPrimFunc('one', [A], [D]);
}

/** `f` with its one block named `name` replaced by `edit(block)` (IR no TE function makes). */
function withBlock(f: PrimFunc, name: string, edit: (b: Block) => Block): PrimFunc {
  let hits = 0;
  const body = mapStmt(f.body, (s) => {
    if (s.kind !== 'block' || s.name !== name) return undefined;
    hits++;
    return edit(s);
  });
  assert.equal(hits, 1, `one block named ${name}`);
  return { ...f, body };
}

/** `f` with loop `from` renamed `to` (a new variable of that name). */
function renameLoop(f: PrimFunc, from: string, to: string): PrimFunc {
  const body = mapStmt(f.body, (s) => {
    if (s.kind !== 'for' || s.loopVar.name !== from) return undefined;
    const v = variable(to);
    return { ...s, loopVar: v, body: mapStmtExprs(s.body, (e) => substitute(e, new Map([[s.loopVar.id, v]]))) };
  });
  return { ...f, body };
}

const storeOf = (b: Block): Store => {
  assert.equal(b.body.kind, 'store');
  return b.body as Store;
};

/**
 * `act` on `sch` is refused by primitive `prim` for `reason`, and leaves the schedule as
 * it was (no trace entry, the same function).
 */
function refuses(sch: Schedule, act: (s: Schedule) => unknown, prim: string, reason: RegExp): void {
  const trace = sch.trace.length;
  const func = sch.func;
  refusal(() => act(sch), prim, reason);
  assert.equal(sch.trace.length, trace, `a refused ${prim} leaves no trace`);
  assert.equal(sch.func, func, `a refused ${prim} leaves the function as it was`);
}

function refusal(act: () => unknown, prim: string, reason: RegExp): void {
  assert.throws(act, (e: unknown) => {
    assert.ok(e instanceof ScheduleError, `a ScheduleError, got ${String(e)}`);
    assert.ok(e.message.startsWith(`schedule ${prim} on `), `refused by ${prim}: ${e.message}`);
    assert.match(e.message, reason);
    return true;
  }, `${prim}: ${reason.source}`);
}

const fresh = (f: PrimFunc): Schedule => new Schedule(f);

test('lookups refuse block and loop names that are not unique', () => {
  // Two blocks named C (a function no TE lowering makes: createPrimFunc names blocks apart).
  const twoC = withBlock(matmulRelu(), 'D', (b) => ({ ...b, name: 'C' }));
  refuses(fresh(twoC), (s) => s.getBlock('C'), 'get_block', /block name C is not unique/);
  const twoLoops = renameLoop(matmulRelu(), 'D_ax0', 'C_ax0');
  refuses(fresh(twoLoops), (s) => s.split('C_ax0', [2, 4]), 'split', /loop name C_ax0 is not unique/);
});

test('a schedule refuses a flattened function', () => {
  refusal(() => new Schedule(lowerForCodegen(matmulRelu())), 'create', /cannot schedule a flattened function/);
});

test('split refuses too few factors, two inferred factors, factors that are not positive integers, and names in use', () => {
  refuses(fresh(matmulRelu()), (s) => s.split('C_ax0', [8]), 'split', /needs at least two factors/);
  refuses(fresh(matmulRelu()), (s) => s.split('C_ax0', [-1, -1]), 'split', /at most one factor may be -1/);
  refuses(fresh(matmulRelu()), (s) => s.split('C_ax0', [0, -1]), 'split', /factors must be positive integers, got \[0, -1\]/);
  refuses(fresh(matmulRelu()), (s) => s.split('C_ax0', [2.5, -1]), 'split', /factors must be positive integers, got \[2\.5, -1\]/);
  // A loop already named C_ax0_1, the name split gives C_ax0's inner part.
  const taken = renameLoop(matmulRelu(), 'D_ax0', 'C_ax0_1');
  refuses(fresh(taken), (s) => s.split('C_ax0', [2, 4]), 'split', /loop name C_ax0_1 already exists/);
});

test('fuse refuses a single loop and a fused name in use', () => {
  refuses(fresh(matmulRelu()), (s) => s.fuse('C_ax0'), 'fuse', /needs at least two loops/);
  // Stage P_ax0_P's loops are P_ax0_P_ax0 and P_ax0_P_ax1: fusing P_ax0 and P_ax1 would name a second P_ax0_P_ax1.
  const X = placeholder([4, 4], 'float32', 'X');
  const P = compute([4, 4], (i, j) => mul(X.at(i, j), float(2)), 'P');
  const Q = compute([4, 4], (i, j) => add(P.at(i, j), float(1)), 'P_ax0_P');
  refuses(fresh(createPrimFunc('names', [X], [Q])), (s) => s.fuse('P_ax0', 'P_ax1'), 'fuse', /loop name P_ax0_P_ax1 already exists/);
});

test('reorder refuses a loop named twice', () => {
  refuses(fresh(matmulRelu()), (s) => s.reorder('C_ax0', 'C_ax1', 'C_ax0'), 'reorder', /a loop is named twice/);
});

test('unroll refuses loops longer than 64', () => {
  const X = placeholder([64, 65], 'float32', 'X');
  const Y = compute([64, 65], (i, j) => mul(X.at(i, j), float(2)), 'Y');
  const sch = fresh(createPrimFunc('long', [X], [Y]));
  sch.unroll('Y_ax0');
  refuses(sch, (s) => s.unroll('Y_ax1'), 'unroll', /loop Y_ax1 has extent 65; unrolling is limited to 64/);
});

test('parallel refuses a loop that binds a reduce iterator', () => {
  const sch = fresh(matmulRelu());
  refuses(sch, (s) => s.parallel('C_r0'), 'parallel', /loop C_r0 binds reduce iterator k of block C; parallel iterations would race on its accumulator/);
  // A fused spatial and reduce loop binds k too.
  const fused = fresh(matmulRelu());
  const f = fused.fuse('C_ax1', 'C_r0');
  refuses(fused, (s) => s.parallel(f), 'parallel', /loop C_ax1_C_r0 binds reduce iterator k of block C/);
  // Loops over outputs run in parallel; once decomposed, the init block's copy of C_r0 binds no reduce iterator.
  sch.parallel('C_ax0');
  sch.parallel('D_ax0');
  const decomposed = fresh(matmulRelu());
  decomposed.decomposeReduction('C', 'C_ax1');
  decomposed.parallel('C_ax1_init');
});

test('compute_inline refuses blocks that are not one store at their iterators, reduce iterators, self-reads, other writers, shared loops', () => {
  const twoStores = withBlock(copiedMatmulRelu(), 'E', (b) => ({ ...b, body: seq([b.body, b.body]) }));
  refuses(fresh(twoStores), (s) => s.computeInline('E'), 'compute_inline', /block E: its body is not a single store/);
  // transform_layout leaves E's store at E[i0 // 4, i1 % 4... ], not at its iterators.
  const relaid = fresh(copiedMatmulRelu());
  relaid.transformLayout('E', { splits: [{ axis: 1, factor: 4 }], order: [0, 1, 2] });
  refuses(relaid, (s) => s.computeInline('E'), 'compute_inline', /block E: it does not store at exactly its iterators/);
  // A decomposed reduction has no init but still its reduce iterators; its init block is a second writer of C.
  const decomposed = fresh(matmulRelu());
  decomposed.decomposeReduction('C', 'C_r0');
  refuses(decomposed, (s) => s.computeInline('C'), 'compute_inline', /block C: it has reduce iterators/);
  refuses(decomposed, (s) => s.computeInline('C_init'), 'compute_inline', /block C_init: buffer C has 2 writers/);
  const selfRead = withBlock(copiedMatmulRelu(), 'E', (b) => {
    const st = storeOf(b);
    return { ...b, body: store(st.buffer, st.indices, add(load(st.buffer, st.indices), float(1))) };
  });
  refuses(fresh(selfRead), (s) => s.computeInline('E'), 'compute_inline', /block E: it reads the buffer it writes/);
  // After compute_at, E's loops sit in the tile loop with C's.
  const at = fresh(copiedMatmulRelu());
  const [io] = at.tile('C_ax0', 'C_ax1', [2, 4]);
  at.computeAt('E', io!);
  refuses(at, (s) => s.computeInline('E'), 'compute_inline', /block E: its loops are shared with other statements/);
});

test('compute_inline of the blocks a choice picks refuses to build the value of a block that is not one store', () => {
  const twoStores = withBlock(copiedMatmulRelu(), 'E', (b) => ({ ...b, body: seq([b.body, b.body]) }));
  const pickValue = (c: { value(): unknown }): boolean => {
    c.value();
    return false;
  };
  // Every block alone in a top-level nest: the one-walk path (block_prims.ts computeInlineWhere).
  refuses(fresh(twoStores), (s) => s.computeInlineWhere(pickValue), 'compute_inline', /block E: its body is not a single store/);
  // Under an outer loop the nests are not top-level: the block-by-block path (Schedule.computeInlineWhere).
  const nested: PrimFunc = { ...twoStores, body: loop(variable('outer'), 1, twoStores.body) };
  refuses(fresh(nested), (s) => s.computeInlineWhere(pickValue), 'compute_inline', /block E: its body is not a single store/);
});

test('reverse_compute_inline refuses reductions, stores off the iterators, other producers, writers and readers, other shapes and other reads', () => {
  refuses(fresh(matmulRelu()), (s) => s.reverseComputeInline('C'), 'reverse_compute_inline', /block C: it is a reduction/);
  const decomposed = fresh(matmulRelu());
  decomposed.decomposeReduction('C', 'C_r0');
  refuses(decomposed, (s) => s.reverseComputeInline('C'), 'reverse_compute_inline', /block C: it is a reduction/);
  refuses(decomposed, (s) => s.reverseComputeInline('D'), 'reverse_compute_inline', /block D: buffer C has 2 writers/);
  const consumerRelaid = fresh(chain());
  consumerRelaid.transformLayout('D', { splits: [{ axis: 0, factor: 4 }], order: [0, 1, 2] });
  refuses(consumerRelaid, (s) => s.reverseComputeInline('D'), 'reverse_compute_inline', /block D: it does not store at exactly its iterators/);
  const producerRelaid = fresh(chain());
  producerRelaid.transformLayout('E', { splits: [{ axis: 0, factor: 4 }], order: [0, 1, 2] });
  refuses(producerRelaid, (s) => s.reverseComputeInline('D'), 'reverse_compute_inline', /block E: it does not store at exactly its iterators/);
  // E reads only the parameter A; D2 reads two stages.
  refuses(fresh(chain()), (s) => s.reverseComputeInline('E'), 'reverse_compute_inline', /block E: it must read exactly one buffer produced in this function, found 0/);
  const A = placeholder([8], 'float32', 'A');
  const E1 = compute([8], (i) => mul(A.at(i), float(2)), 'E1');
  const E2 = compute([8], (i) => add(A.at(i), float(1)), 'E2');
  const D2 = compute([8], (i) => add(E1.at(i), E2.at(i)), 'D2');
  refuses(fresh(createPrimFunc('two', [A], [D2])), (s) => s.reverseComputeInline('D2'), 'reverse_compute_inline', /block D2: it must read exactly one buffer produced in this function, found 2/);
  const F1 = compute([8], (i) => add(E1.at(i), float(1)), 'F1');
  const F2 = compute([8], (i) => mul(E1.at(i), float(3)), 'F2');
  refuses(fresh(createPrimFunc('readers', [A], [F1, F2])), (s) => s.reverseComputeInline('F1'), 'reverse_compute_inline', /block F1: buffer E1 has other readers/);
  const short = compute([4], (i) => add(E1.at(i), float(1)), 'S');
  refuses(fresh(createPrimFunc('short', [A], [short])), (s) => s.reverseComputeInline('S'), 'reverse_compute_inline', /block S: its iteration space differs from E1's shape/);
  const X = placeholder([8, 2], 'float32', 'X');
  const W = compute([8, 2], (i, j) => mul(X.at(i, j), float(2)), 'W');
  const row = compute([8], (i) => add(W.at(i, 0), float(1)), 'R');
  refuses(fresh(createPrimFunc('rank', [X], [row])), (s) => s.reverseComputeInline('R'), 'reverse_compute_inline', /block R: its iteration space differs from W's shape/);
  const Y = placeholder([4, 4], 'float32', 'Y');
  const V = compute([4, 4], (i, j) => mul(Y.at(i, j), float(2)), 'V');
  const T = compute([4, 4], (i, j) => add(V.at(j, i), float(1)), 'T');
  refuses(fresh(createPrimFunc('transpose', [Y], [T])), (s) => s.reverseComputeInline('T'), 'reverse_compute_inline', /block T: it reads V at other than its own iterators/);
  // D reads the output O, which is written between D's producer C and D.
  const O = compute([8], (i) => mul(A.at(i), float(3)), 'O');
  const C = compute([8], (i) => add(A.at(i), float(1)), 'C');
  const D = compute([8], (i) => add(C.at(i), O.at(i)), 'D');
  const passes = fresh(createPrimFunc('passes', [A], [D, O]));
  assert.deepEqual(passes.blockNames(), ['C', 'O', 'D']);
  refuses(passes, (s) => s.reverseComputeInline('D'), 'reverse_compute_inline', /block D: folded into C, it would run before block O, which writes O/);
  // With O written before C, D folds into C.
  const before = fresh(createPrimFunc('before', [A], [O, D]));
  assert.deepEqual(before.blockNames(), ['O', 'C', 'D']);
  before.reverseComputeInline('D');
  assert.deepEqual(before.blockNames(), ['O', 'C']);
});

test('decompose_reduction refuses a loop inside one that binds a reduce iterator', () => {
  const sch = fresh(matmulRelu());
  sch.reorder('C_ax0', 'C_r0', 'C_ax1');
  refuses(sch, (s) => s.decomposeReduction('C', 'C_ax1'), 'decompose_reduction', /reduce iterator k is bound outside loop C_ax1/);
});

test('cache_write refuses several outputs, reduce loops at the tile, bindings that are not affine or not dense, stores off the iterators, and bodies that are not a store', () => {
  const twoOutputs = withBlock(matmulRelu(), 'C', (b) => ({ ...b, writes: [...b.writes, b.reads[0]!] }));
  refuses(fresh(twoOutputs), (s) => s.cacheWrite('C', 'C_ax0'), 'cache_write', /block C: it writes 2 buffers/);
  refuses(fresh(matmulRelu()), (s) => s.cacheWrite('C', 'C_r0'), 'cache_write', /reduce iterator k is bound by a loop at or outside C_r0/);
  const fused = fresh(matmulRelu());
  const f = fused.fuse('C_ax0', 'C_ax1');
  refuses(fused, (s) => s.cacheWrite('C', f), 'cache_write', /binding of C_i0 is not affine/);
  // j = C_ax1_0 * 4 + C_ax1_1 with C_ax1_1 outside: under it, C_ax1_0 walks j in steps of 4.
  const strided = fresh(matmulRelu());
  const [jo, ji] = strided.split('C_ax1', [4, 4]);
  strided.reorder(ji!, jo!);
  refuses(strided, (s) => s.cacheWrite('C', ji!), 'cache_write', /binding of C_i1 is not a dense tile under C_ax1_1/);
  const relaid = fresh(matmulRelu());
  relaid.transformLayout('C', { splits: [{ axis: 1, factor: 4 }], order: [0, 1, 2] });
  refuses(relaid, (s) => s.cacheWrite('C', 'C_ax0'), 'cache_write', /block C: it does not store at its spatial iterators/);
  const twoStores = withBlock(matmulRelu(), 'C', (b) => ({ ...b, body: seq([b.body, b.body]) }));
  refuses(fresh(twoStores), (s) => s.cacheWrite('C', 'C_ax0'), 'cache_write', /block C: its body is not a single store/);
  // C re-laid out as C[j, i]: the tile would be written back transposed.
  const transposed = fresh(matmulRelu());
  transposed.transformLayout('C', { splits: [], order: [1, 0] });
  refuses(transposed, (s) => s.cacheWrite('C', 'C_ax0'), 'cache_write', /block C: it does not store at its spatial iterators/);
  const readsElsewhere = withBlock(matmulRelu(), 'C', (b) => {
    const st = storeOf(b);
    assert.ok(st.value.kind === 'binary');
    return { ...b, body: store(st.buffer, st.indices, add(load(st.buffer, [st.indices[0]!, int(0)]), st.value.b)) };
  });
  refuses(fresh(readsElsewhere), (s) => s.cacheWrite('C', 'C_ax0'), 'cache_write', /block C: it reads C at other than its spatial iterators/);
});

/** C[i, j] = Σ_k A[i, k] with iterators (i, k, j): a reduce iterator before a spatial one. */
function reduceBeforeSpatial(): PrimFunc {
  const A = makeBuffer('A', 'float32', [4, 6]);
  const C = makeBuffer('C', 'float32', [4, 5]);
  const [li, lk, lj] = [variable('i'), variable('k'), variable('j')];
  const [vi, vk, vj] = [variable('vi'), variable('vk'), variable('vj')];
  const block: Block = {
    kind: 'block', name: 'C',
    iterVars: [{ var: vi, extent: 4, type: 'spatial' }, { var: vk, extent: 6, type: 'reduce' }, { var: vj, extent: 5, type: 'spatial' }],
    bindings: [li, lk, lj],
    init: store(C, [vi, vj], float(0)),
    body: store(C, [vi, vj], add(load(C, [vi, vj]), load(A, [vi, vk]))),
    reads: [A], writes: [C],
  };
  return { name: 'hand', params: [A, C], body: loop(li, 4, loop(lk, 6, loop(lj, 5, block))), flat: false };
}

test('rfactor refuses bad factors, split nests, other loops, iterator orders, bodies and updates it cannot factor', () => {
  refuses(fresh(matmulRelu()), (s) => s.rfactor('C', 'C_r0', 1), 'rfactor', /factor 1 must be an integer >= 2/);
  refuses(fresh(matmulRelu()), (s) => s.rfactor('C', 'C_r0', 2.5), 'rfactor', /factor 2\.5 must be an integer >= 2/);
  const split = fresh(matmulRelu());
  const [, ki] = split.split('C_r0', [3, 4]);
  refuses(split, (s) => s.rfactor('C', ki!, 2), 'rfactor', /block C: rfactor needs its plain loop nest/);
  refuses(fresh(matmulRelu()), (s) => s.rfactor('C', 'D_ax0', 2), 'rfactor', /loop D_ax0 is not one of block C's loops/);
  refuses(fresh(reduceBeforeSpatial()), (s) => s.rfactor('C', 'k', 2), 'rfactor', /block C: spatial iterators must come first/);
  const twoStores = withBlock(matmulRelu(), 'C', (b) => ({ ...b, body: seq([b.body, b.body]) }));
  refuses(fresh(twoStores), (s) => s.rfactor('C', 'C_r0', 2), 'rfactor', /block C: its body is not a single store/);
  const relaid = fresh(matmulRelu());
  relaid.transformLayout('C', { splits: [{ axis: 1, factor: 4 }], order: [0, 1, 2] });
  refuses(relaid, (s) => s.rfactor('C', 'C_r0', 2), 'rfactor', /block C: it does not store at its spatial iterators/);
  // A sum of zeros: its update folds to C[i] = C[i], no combiner.
  const k = reduceAxis(8, 'k');
  const Z = compute([3], () => sum(float(0), [k]), 'Z');
  refuses(fresh(createPrimFunc('zeros', [], [Z])), (s) => s.rfactor('Z', 'Z_r0', 2), 'rfactor', /block Z: its update is not out = out ⊕ x/);
  // out = out - x (no combiner), out = x + out (the accumulator second), out = out[other] + x.
  const update = (value: (acc: Load, x: Expr) => Expr): PrimFunc => withBlock(matmulRelu(), 'C', (b) => {
    const st = storeOf(b);
    assert.ok(st.value.kind === 'binary');
    return { ...b, body: store(st.buffer, st.indices, value(load(st.buffer, st.indices), st.value.b)) };
  });
  refuses(fresh(update((acc, x) => sub(acc, x))), (s) => s.rfactor('C', 'C_r0', 2), 'rfactor', /block C: its update is not out = out ⊕ x/);
  refuses(fresh(update((acc, x) => add(x, acc))), (s) => s.rfactor('C', 'C_r0', 2), 'rfactor', /block C: its update is not out = out ⊕ x/);
  refuses(fresh(update((acc, x) => add(load(acc.buffer, [acc.indices[1]!, acc.indices[0]!].map((e) => floormod(e, int(8)))), x))), (s) => s.rfactor('C', 'C_r0', 2), 'rfactor', /block C: its update is not out = out ⊕ x/);
  const selfOperand = withBlock(matmulRelu(), 'C', (b) => {
    const st = storeOf(b);
    const acc = load(st.buffer, st.indices);
    return { ...b, body: store(st.buffer, st.indices, add(acc, mul(acc, float(2)))) };
  });
  refuses(fresh(selfOperand), (s) => s.rfactor('C', 'C_r0', 2), 'rfactor', /block C: its operand reads C/);
});

test('cache_read refuses regions it cannot bound, ambiguous and written buffers, and a copy name in use', () => {
  // Y[i] = X[i] · i inlined into R[i] = Y[0] + i folds to R[i] = i: R still lists X among its reads.
  const X = placeholder([8], 'int32', 'X');
  const Y = compute([8], (i) => mul(X.at(i), i), 'Y');
  const R = compute([8], (i) => add(Y.at(0), i), 'R');
  const stale = fresh(createPrimFunc('stale', [X], [R]));
  stale.computeInline('Y');
  refuses(stale, (s) => s.cacheRead('R_ax0', 'X'), 'cache_read', /nothing under loop R_ax0 reads X/);
  refuses(fresh(oneStage(4, 8, (A, i) => A.at(floormod(i, int(4))))), (s) => s.cacheRead('D_ax0', 'A'), 'cache_read', /index 0 of A is not affine/);
  const P = placeholder([8, 8], 'float32', 'P');
  const rev = compute([8, 8], (i, j) => P.at(i, sub(int(7), j)), 'D');
  refuses(fresh(createPrimFunc('rev', [P], [rev])), (s) => s.cacheRead('D_ax0', 'P'), 'cache_read', /index 1 of P runs backwards along an inner loop/);
  const sym = compute([8, 8], (i, j) => add(P.at(i, j), P.at(j, i)), 'D');
  refuses(fresh(createPrimFunc('sym', [P], [sym])), (s) => s.cacheRead('D_ax0', 'P'), 'cache_read', /reads of P differ in how dimension 0 depends on the outer loops/);
  const n = variable('n');
  const offset = withBlock(oneStage(8, 8, (A, i) => A.at(i)), 'D', (b) => {
    const st = storeOf(b);
    const src = (st.value as Load).buffer;
    return { ...b, body: store(st.buffer, st.indices, load(src, [add(st.indices[0]!, n)])) };
  });
  refuses(fresh(offset), (s) => s.cacheRead('D_ax0', 'A'), 'cache_read', /index 0 of A depends on n, which is not a loop variable/);
  // A[i + 1] guarded by i < 7: the box of the access, for every i, reaches A[8].
  const guarded = oneStage(8, 8, (A, i) => select(lt(i, int(7)), A.at(add(i, int(1))), float(0)));
  refuses(fresh(guarded), (s) => s.cacheRead('D_ax0', 'A'), 'cache_read', /the region of A read under loop D_ax0 may leave the buffer along dimension 0/);
  // Two parameters both named A.
  const A1 = placeholder([8], 'float32', 'A');
  const A2 = placeholder([8], 'float32', 'A');
  const both = compute([8], (i) => add(A1.at(i), A2.at(i)), 'D');
  refuses(fresh(createPrimFunc('twins', [A1, A2], [both])), (s) => s.cacheRead('D_ax0', 'A'), 'cache_read', /buffer name A is ambiguous/);
  const at = fresh(copiedMatmulRelu());
  const [io, jo] = at.tile('C_ax0', 'C_ax1', [2, 4]);
  at.computeAt('E', io!);
  refuses(at, (s) => s.cacheRead(io!, 'E'), 'cache_read', /buffer E is written inside loop C_ax0_0/);
  // The copy block B_cache made under jo reads B under io too.
  at.cacheRead(jo!, 'B');
  refuses(at, (s) => s.cacheRead(io!, 'B'), 'cache_read', /block name B_cache already exists/);
  // A stage of that name elsewhere in the function.
  const A = placeholder([M, K], 'float32', 'A');
  const B = placeholder([K, N], 'float32', 'B');
  const k = reduceAxis(K, 'k');
  const C = compute([M, N], (i, j) => sum(mul(A.at(i, k.var), B.at(k.var, j)), [k]), 'C');
  const named = compute([K, N], (i, j) => mul(B.at(i, j), float(2)), 'B_cache');
  refuses(fresh(createPrimFunc('named', [A, B] as TeTensor[], [C, named])), (s) => s.cacheRead('C_ax0', 'B'), 'cache_read', /block name B_cache already exists/);
});

test('compute_at refuses reductions, several or parameter outputs, stores off the iterators, blocks already there, other writers, an empty region and blocks after their readers', () => {
  const decomposed = fresh(matmulRelu());
  decomposed.decomposeReduction('C', 'C_r0');
  refuses(decomposed, (s) => s.computeAt('C', 'D_ax0'), 'compute_at', /block C is a reduction/);
  // C_init is injective, but C has a second writer (the update).
  refuses(decomposed, (s) => s.computeAt('C_init', 'D_ax0'), 'compute_at', /buffer C has other writers/);
  const twoOutputs = withBlock(copiedMatmulRelu(), 'E', (b) => ({ ...b, writes: [...b.writes, b.reads[0]!] }));
  refuses(fresh(twoOutputs), (s) => s.computeAt('E', 'C_ax0'), 'compute_at', /block E writes 2 buffers/);
  refuses(fresh(matmulRelu()), (s) => s.computeAt('D', 'C_ax0'), 'compute_at', /block D writes the function parameter D/);
  const relaid = fresh(copiedMatmulRelu());
  relaid.transformLayout('E', { splits: [{ axis: 1, factor: 4 }], order: [0, 1, 2] });
  refuses(relaid, (s) => s.computeAt('E', 'C_ax0'), 'compute_at', /block E does not store at exactly its iterators/);
  const twoStores = withBlock(copiedMatmulRelu(), 'E', (b) => ({ ...b, body: seq([b.body, b.body]) }));
  refuses(fresh(twoStores), (s) => s.computeAt('E', 'C_ax0'), 'compute_at', /block E does not store at exactly its iterators/);
  const twice = fresh(copiedMatmulRelu());
  twice.computeAt('E', 'C_ax0');
  refuses(twice, (s) => s.computeAt('E', 'C_ax0'), 'compute_at', /block E is already inside loop C_ax0/);
  // R lists E among its reads but loads none of it (see cache_read's stale reads).
  const X = placeholder([8], 'int32', 'X');
  const E = compute([8], (i) => X.at(i), 'E');
  const Y = compute([8], (i) => mul(E.at(i), i), 'Y');
  const R = compute([8], (i) => add(Y.at(0), i), 'R');
  const stale = fresh(createPrimFunc('stale', [X], [R]));
  stale.computeInline('Y');
  refuses(stale, (s) => s.computeAt('E', 'R_ax0'), 'compute_at', /nothing under loop R_ax0 reads E/);
  // C's nest moved before E's (IR no TE function makes: a reader before its producer).
  const swapped = copiedMatmulRelu();
  const reordered: PrimFunc = {
    ...swapped,
    body: mapStmt(swapped.body, (s) => (s.kind === 'seq' ? seq([s.stmts[1]!, s.stmts[0]!, ...s.stmts.slice(2)]) : undefined)),
  };
  refuses(fresh(reordered), (s) => s.computeAt('E', 'C_ax0'), 'compute_at', /block E comes after a reader/);
});

test('transform_layout refuses ambiguous names, an axis split twice, factor 1 and accesses of another rank', () => {
  const A1 = placeholder([8], 'float32', 'A');
  const A2 = placeholder([8], 'float32', 'A');
  const both = compute([8], (i) => add(A1.at(i), A2.at(i)), 'D');
  refuses(fresh(createPrimFunc('twins', [A1, A2], [both])), (s) => s.transformLayout('A', { splits: [], order: [0] }), 'transform_layout', /buffer name A is ambiguous/);
  refuses(fresh(matmulRelu()), (s) => s.transformLayout('B', { splits: [{ axis: 1, factor: 4 }, { axis: 1, factor: 2 }], order: [0, 1, 2, 3] }), 'transform_layout', /axis 1 is split twice/);
  refuses(fresh(matmulRelu()), (s) => s.transformLayout('B', { splits: [{ axis: 1, factor: 1 }], order: [0, 1, 2] }), 'transform_layout', /factor 1 does not divide axis 1 of extent 16/);
  // A load of the 2-d A with one index (made without load(), which checks the rank).
  const oneIndex = withBlock(chain(), 'E', (b) => {
    const st = storeOf(b);
    const a = (st.value.kind === 'binary' ? st.value.a : st.value) as Load;
    const bad: Load = { kind: 'load', dtype: 'float32', buffer: a.buffer, indices: [st.indices[0]!] };
    return { ...b, body: store(st.buffer, st.indices, bad) };
  });
  refuses(fresh(oneIndex), (s) => s.transformLayout('A', { splits: [], order: [1, 0] }), 'transform_layout', /an access to A has 1 indices, not 2/);
});

test('set_scope refuses an ambiguous scratch buffer name', () => {
  const A = placeholder([8], 'float32', 'A');
  const E1 = compute([8], (i) => mul(A.at(i), float(2)), 'E');
  const E2 = compute([8], (i) => add(A.at(i), float(1)), 'E');
  const D = compute([8], (i) => add(E1.at(i), E2.at(i)), 'D');
  refuses(fresh(createPrimFunc('twins', [A], [D])), (s) => s.setScope('E', 'shared'), 'set_scope', /buffer name E is ambiguous/);
});

test('the default schedule refuses CPU targets of other vector widths and GPU targets without limits', () => {
  const wasm = parseTarget('wasm -no-fma');
  const wide: Target = { ...wasm, kind: 'wide-cpu', vectorBytes: 32, vectorLanes: () => 8 };
  refusal(() => defaultSchedule(matmulRelu(), wide), 'default schedule', /the CPU schedule rules vectorize 4 float32 lanes .*; target 'wide-cpu' has 8/);
  const noLimits: Target = { ...parseTarget('webgpu'), kind: 'bare-gpu', gpu: undefined };
  refusal(() => defaultSchedule(matmulRelu(), noLimits), 'default schedule', /target 'bare-gpu' has no GPU limits/);
});

/**
 * Schedules: primitives that rewrite a PrimFunc without changing what it computes,
 * each appended to a replayable, JSON-serializable trace (TensorIR's tir.Schedule).
 * Blocks are addressed by block name, loops by loop-variable name. Every primitive
 * checks its preconditions and refuses with a ScheduleError rather than emit wrong code.
 * Sampling instructions (decisions.ts) record the choices a rule made; a schedule built
 * with a Decider takes its choices from it.
 */
import { type Block, type For, type PrimFunc, type ThreadAxis, collectBlocks } from '../tir/stmt.js';
import type { Expr, MemoryScope } from '../ir/expr.js';
import { bind, setScope } from './gpu_prims.js';
import { type InlineCandidate, cacheWrite, computeInline, computeInlineWhere, decomposeReduction, reverseComputeInline } from './block_prims.js';
import { annotate, fuse, reorder, split } from './loop_prims.js';
import { cacheRead, computeAt } from './region_prims.js';
import { type LayoutMap, transformLayout } from './layout_prims.js';
import { rfactor } from './rfactor.js';
import { ScheduleError, bodyBlocks, failer, findBlock, findLoop, loopsAbove } from './state.js';
import { type Decider, type SampleInstruction, checkDecision } from './decisions.js';

export { ScheduleError };
export type { LayoutMap };

export type Instruction =
  | SampleInstruction
  | { readonly prim: 'compute_inline'; readonly block: string }
  | { readonly prim: 'reverse_compute_inline'; readonly block: string }
  | { readonly prim: 'decompose_reduction'; readonly block: string; readonly loop: string }
  | { readonly prim: 'cache_write'; readonly block: string; readonly loop: string }
  | { readonly prim: 'rfactor'; readonly block: string; readonly loop: string; readonly factor: number }
  | { readonly prim: 'cache_read'; readonly loop: string; readonly buffer: string }
  | { readonly prim: 'compute_at'; readonly block: string; readonly loop: string }
  | { readonly prim: 'transform_layout'; readonly buffer: string; readonly splits: LayoutMap['splits']; readonly order: LayoutMap['order'] }
  | { readonly prim: 'split'; readonly loop: string; readonly factors: readonly number[] }
  | { readonly prim: 'fuse'; readonly loops: readonly string[] }
  | { readonly prim: 'tile'; readonly loops: readonly [string, string]; readonly factors: readonly [number, number] }
  | { readonly prim: 'reorder'; readonly loops: readonly string[] }
  | { readonly prim: 'vectorize' | 'unroll' | 'parallel'; readonly loop: string }
  | { readonly prim: 'bind'; readonly loop: string; readonly thread: ThreadAxis }
  | { readonly prim: 'set_scope'; readonly buffer: string; readonly scope: MemoryScope };

export class Schedule {
  private current: PrimFunc;
  private readonly instructions: Instruction[] = [];
  private readonly sampled = new Set<string>();

  /** `decide` makes the choices of sampling instructions (by default, each rule's default). */
  constructor(func: PrimFunc, private readonly decide?: Decider) {
    if (func.flat) throw new ScheduleError('create', func.name, 'cannot schedule a flattened function');
    this.current = func;
  }

  get func(): PrimFunc {
    return this.current;
  }
  get trace(): readonly Instruction[] {
    return this.instructions;
  }

  blockNames(): string[] {
    return bodyBlocks(this.current.body).map((b) => b.name);
  }

  getBlock(name: string): Block {
    return findBlock(this.current, name, failer('get_block', this.current));
  }

  /** The loops enclosing a block, outermost first. */
  getLoops(block: string): For[] {
    return loopsAbove(this.current.body, this.getBlock(block))!;
  }

  private record(inst: Instruction, func: PrimFunc): void {
    this.current = func;
    this.instructions.push(inst);
  }

  /** A choice among named candidates; returns the chosen index (`fallback` unless the decider says otherwise). */
  sampleCategorical(key: string, candidates: readonly string[], fallback: number): number {
    return this.sample({ prim: 'sample_categorical', key, candidates: [...candidates], decision: fallback }) as number;
  }
  /**
   * Factors that split `loop` into `n` levels (outermost first, product its extent, the
   * innermost at most `maxInnermost`); the caller applies them (split).
   */
  samplePerfectTile(key: string, loop: string, n: number, maxInnermost: number, fallback: readonly number[]): number[] {
    const { extent } = findLoop(this.current, loop, failer('sample_perfect_tile', this.current));
    return [...(this.sample({ prim: 'sample_perfect_tile', key, loop, extent, n, maxInnermost, decision: [...fallback] }) as readonly number[])];
  }
  /** One of `candidates` (loop names) for `block` to go under; returns the chosen loop's name. */
  sampleComputeLocation(key: string, block: string, candidates: readonly string[], fallback: number): string {
    this.getBlock(block);
    return candidates[this.sample({ prim: 'sample_compute_location', key, block, candidates: [...candidates], decision: fallback }) as number]!;
  }
  private sample(inst: SampleInstruction, replaying = false): SampleInstruction['decision'] {
    if (this.sampled.has(inst.key)) throw new ScheduleError(inst.prim, this.current.name, `decision key ${inst.key} is sampled twice`);
    checkDecision(inst, inst.decision, this.current.name);
    const given = replaying ? undefined : this.decide?.(inst);
    if (given !== undefined) checkDecision(inst, given, this.current.name);
    const taken = { ...inst, decision: given ?? inst.decision } as SampleInstruction;
    this.sampled.add(inst.key);
    this.instructions.push(taken);
    return taken.decision;
  }

  computeInline(block: string): void {
    this.record({ prim: 'compute_inline', block }, computeInline(this.current, block));
  }
  /**
   * compute_inline of each block `pick` chooses, offered in program order (InlineCandidate:
   * the block, its readers, its value once the blocks chosen before it are inlined).
   * Records one compute_inline per inlined block and returns their names. In one walk
   * where every block sits alone in a top-level nest (computeInlineWhere), else block by block.
   */
  computeInlineWhere(pick: (c: InlineCandidate) => boolean): string[] {
    const r = computeInlineWhere(this.current, pick);
    if (r) {
      this.current = r.func;
      for (const block of r.inlined) this.instructions.push({ prim: 'compute_inline', block });
      return r.inlined;
    }
    const inlined: string[] = [];
    for (const name of this.blockNames()) {
      const block = this.getBlock(name);
      const out = block.writes[0];
      const readers = out ? collectBlocks(this.current.body).filter((x) => x !== block && x.reads.includes(out)) : [];
      const value = (): Expr => (block.body.kind === 'store' ? block.body.value : failer('compute_inline', this.current)(`block ${name}: its body is not a single store`));
      if (!pick({ block, readers, value })) continue;
      this.computeInline(name);
      inlined.push(name);
    }
    return inlined;
  }
  reverseComputeInline(block: string): void {
    this.record({ prim: 'reverse_compute_inline', block }, reverseComputeInline(this.current, block));
  }
  decomposeReduction(block: string, loop: string): void {
    this.record({ prim: 'decompose_reduction', block, loop }, decomposeReduction(this.current, block, loop));
  }
  /** Returns the name of the write-back block. */
  cacheWrite(block: string, loop: string): string {
    const r = cacheWrite(this.current, block, loop);
    this.record({ prim: 'cache_write', block, loop }, r.func);
    return r.writeback;
  }
  /** Returns the name of the rf block (the partial reductions). */
  rfactor(block: string, loop: string, factor: number): string {
    const r = rfactor(this.current, block, loop, factor);
    this.record({ prim: 'rfactor', block, loop, factor }, r.func);
    return r.rfBlock;
  }
  /** Returns the name of the copy block. */
  cacheRead(loop: string, buffer: string): string {
    const r = cacheRead(this.current, loop, buffer);
    this.record({ prim: 'cache_read', loop, buffer }, r.func);
    return r.block;
  }
  computeAt(block: string, loop: string): void {
    this.record({ prim: 'compute_at', block, loop }, computeAt(this.current, block, loop));
  }
  /**
   * Re-lays buffer `buffer` (a parameter or a scratch allocation) out in blocks; a
   * parameter's caller then passes its data through `relayout` (layout_prims.ts).
   */
  transformLayout(buffer: string, map: LayoutMap): void {
    const r = transformLayout(this.current, buffer, map);
    this.record({ prim: 'transform_layout', buffer, splits: map.splits.map((x) => ({ ...x })), order: [...map.order] }, r.func);
  }
  /** Returns the fused loop's name. */
  fuse(...loops: string[]): string {
    const r = fuse(this.current, loops);
    this.record({ prim: 'fuse', loops }, r.func);
    return r.loop;
  }
  /**
   * tile: splits two nested loops of one perfect nest by the given inner extents and
   * reorders them outer-outer-inner-inner; returns the four loops' names in that order.
   */
  tile(outer: string, inner: string, factors: readonly [number, number]): string[] {
    const s1 = split(this.current, outer, [-1, factors[0]]);
    const s2 = split(s1.func, inner, [-1, factors[1]]);
    const [a0, a1] = s1.loops as [string, string];
    const [b0, b1] = s2.loops as [string, string];
    this.record({ prim: 'tile', loops: [outer, inner], factors: [factors[0], factors[1]] }, reorder(s2.func, [a0, b0, a1, b1]));
    return [a0, b0, a1, b1];
  }
  /** Returns the new loops' names, outermost first. */
  split(loop: string, factors: readonly number[]): string[] {
    const r = split(this.current, loop, factors);
    this.record({ prim: 'split', loop, factors: [...factors] }, r.func);
    return r.loops;
  }
  reorder(...loops: string[]): void {
    this.record({ prim: 'reorder', loops }, reorder(this.current, loops));
  }
  vectorize(loop: string): void {
    this.record({ prim: 'vectorize', loop }, annotate(this.current, loop, 'vectorized'));
  }
  unroll(loop: string): void {
    this.record({ prim: 'unroll', loop }, annotate(this.current, loop, 'unrolled'));
  }
  parallel(loop: string): void {
    this.record({ prim: 'parallel', loop }, annotate(this.current, loop, 'parallel'));
  }

  /** Binds a loop to a GPU thread axis (gpu_prims.ts). */
  bind(loop: string, thread: ThreadAxis): void {
    this.record({ prim: 'bind', loop, thread }, bind(this.current, loop, thread));
  }
  /** Moves a scratch buffer to a memory scope (e.g. 'shared', a workgroup's memory). */
  setScope(buffer: string, scope: MemoryScope): void {
    this.record({ prim: 'set_scope', buffer, scope }, setScope(this.current, buffer, scope));
  }

  /** Applies one instruction as recorded (a sampling instruction keeps its recorded decision). */
  apply(inst: Instruction): void {
    switch (inst.prim) {
      case 'sample_categorical': case 'sample_compute_location': this.sample(inst, true); return;
      case 'sample_perfect_tile': {
        const { extent } = findLoop(this.current, inst.loop, failer('sample_perfect_tile', this.current));
        if (extent !== inst.extent) throw new ScheduleError('sample_perfect_tile', this.current.name, `loop ${inst.loop} has extent ${extent}, the trace says ${inst.extent}`);
        this.sample(inst, true);
        return;
      }
      case 'compute_inline': return this.computeInline(inst.block);
      case 'reverse_compute_inline': return this.reverseComputeInline(inst.block);
      case 'decompose_reduction': return this.decomposeReduction(inst.block, inst.loop);
      case 'cache_write': this.cacheWrite(inst.block, inst.loop); return;
      case 'rfactor': this.rfactor(inst.block, inst.loop, inst.factor); return;
      case 'cache_read': this.cacheRead(inst.loop, inst.buffer); return;
      case 'compute_at': return this.computeAt(inst.block, inst.loop);
      case 'transform_layout': return this.transformLayout(inst.buffer, { splits: inst.splits, order: inst.order });
      case 'split': this.split(inst.loop, inst.factors); return;
      case 'fuse': this.fuse(...inst.loops); return;
      case 'tile': this.tile(inst.loops[0], inst.loops[1], inst.factors); return;
      case 'reorder': return this.reorder(...inst.loops);
      case 'vectorize': return this.vectorize(inst.loop);
      case 'unroll': return this.unroll(inst.loop);
      case 'parallel': return this.parallel(inst.loop);
      case 'bind': return this.bind(inst.loop, inst.thread);
      case 'set_scope': return this.setScope(inst.buffer, inst.scope);
    }
  }

  /** Replays a trace (e.g. one loaded from JSON) on this schedule. */
  replay(trace: readonly Instruction[]): void {
    for (const inst of trace) this.apply(inst);
  }
}

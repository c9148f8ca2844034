/**
 * The build: graph IR → kernels → generated code → memory plan → Executable.
 */
import { WordRangeError, toWords } from '../runtime/word_storage.js';
import { LimitError } from '../runtime/error.js';
import { shapeSize, type Tensor } from '../runtime/tensor.js';
import type { Executable, IOSlot, Step, TensorSlot } from '../runtime/executable.js';
import { type Target, parseTarget } from '../target/index.js';
import { type Graph, type Value, FUSED_OP, NodeError } from '../graph/ir.js';
import { getOp } from '../ops/registry.js';
import { generateModule } from '../codegen/index.js';
import { type LoweredKernel, type ScheduleProvider, kernelGroups, lowerGroup } from './lower.js';
import { checkBatchSeparable, dynamicBatchDim, isBatched } from './dynamic_batch.js';
import { alignUp, planMemory } from './memory_plan.js';
import { bytesText, checkArenaBytes } from '../runtime/limits.js';

export interface BuildOptions {
  /** The target (an object, or a target string such as "wasm -threads=2"). */
  readonly target: Target | string;
  /** Each kernel's schedule (default: the target's default rules). */
  readonly schedule?: ScheduleProvider;
}

export interface BuildResult {
  readonly executable: Executable;
  readonly kernels: readonly LoweredKernel[];
  /** Wall time of each build phase, in milliseconds. */
  readonly timings: Readonly<Record<string, number>>;
}

/** The concrete shape of a value; a dynamic batch dim counts one sample. */
function shapeOf(v: Value, batchDim: string | undefined): number[] {
  return v.type.shape.map((d) => {
    if (typeof d === 'number') return d;
    if (d === batchDim) return 1;
    throw new NodeError(undefined, 'graph', `value %${v.name} has symbolic shape [${v.type.shape.join(', ')}]`);
  });
}

/** A constant in word storage (runtime/word_storage.ts); a value it cannot hold is refused, naming the constant. */
function wordBytes(v: Value, t: Tensor): Uint8Array {
  try {
    const w = toWords(t.type, t.data);
    return new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
  } catch (e) {
    if (!(e instanceof WordRangeError)) throw e;
    throw new LimitError(`constant %${v.name}: ${e.message}; this target computes 64-bit integers in 32 bits`);
  }
}

export function build(graph: Graph, opts: BuildOptions): BuildResult {
  const target = parseTarget(opts.target);
  const align = target.bufferAlignment;
  const timings: Record<string, number> = {};
  const time = <T>(phase: string, f: () => T): T => {
    const t0 = performance.now();
    const r = f();
    timings[phase] = (timings[phase] ?? 0) + performance.now() - t0;
    return r;
  };

  // Views alias their input's storage; find each value's storage root.
  const alias = new Map<Value, Value>();
  for (const n of graph.nodes) {
    if (n.op !== FUSED_OP && getOp(n.op).view) alias.set(n.outputs[0]!, n.inputs[0]!);
  }
  const root = (v: Value): Value => {
    let r = v;
    while (alias.has(r)) r = alias.get(r)!;
    return r;
  };

  // A symbolic batch dim stays symbolic: kernels are generated for one sample and
  // proven separable; batched storages are planned per sample (runtime/batch.ts).
  const batchDim = dynamicBatchDim(graph);
  const bind = batchDim ? { [batchDim]: 1 } : {};
  const lowered = time('lower', () => kernelGroups(graph).map((grp, i) => {
    if (batchDim && [...grp.nodes.flatMap((n) => n.inputs), ...grp.outputs].some((v) => v && isBatched(v, batchDim))) {
      checkBatchSeparable(grp.nodes, i, grp.outputs, batchDim);
    }
    return lowerGroup(grp.nodes, i, grp.outputs, target, bind, opts.schedule);
  }));
  const generated = time('codegen', () => generateModule(target, lowered.map((k) => k.func)));
  const { module, workspaceBytes } = generated;
  const codegenMs = generated.kernelMs;
  const kernels = codegenMs ? lowered.map((k) => (codegenMs[k.name] !== undefined ? { ...k, ms: { ...k.ms, codegen: codegenMs[k.name]! } } : k)) : lowered;

  return time('plan', () => {
    // Constants: packed at the start of the arena.
    const constOffset = new Map<Value, number>();
    let constBytes = 0;
    const usedRoots = new Set<Value>();
    for (const k of kernels) for (const v of [...k.inputs, ...k.outputs]) usedRoots.add(root(v));
    for (const v of graph.outputs) usedRoots.add(root(v));
    const constData: { off: number; bytes: Uint8Array }[] = [];
    for (const [v, t] of graph.constants) {
      if (!usedRoots.has(v)) continue;
      const bytes = target.wordStorage ? wordBytes(v, t) : new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      constOffset.set(v, constBytes);
      constData.push({ off: constBytes, bytes });
      constBytes = alignUp(constBytes + bytes.byteLength, align);
    }
    const constants = new Uint8Array(constBytes);
    for (const { off, bytes } of constData) constants.set(bytes, off);

    // Activations: lifetimes over kernel steps, then greedy packing.
    const start = new Map<Value, number>();
    const end = new Map<Value, number>();
    const touch = (v: Value, step: number): void => {
      const r = root(v);
      if (constOffset.has(r)) return;
      if (!start.has(r)) start.set(r, step);
      end.set(r, Math.max(end.get(r) ?? step, step));
    };
    for (const v of graph.inputs) touch(v, 0);
    kernels.forEach((k, i) => {
      for (const v of k.outputs) touch(v, i);
      for (const v of k.inputs) touch(v, i);
    });
    for (const v of graph.outputs) touch(v, kernels.length);
    // Two plans: fixed-size storages, and batched ones per sample.
    const ids = new Map<Value, number>();
    const batched = (v: Value): boolean => batchDim !== undefined && isBatched(v, batchDim);
    const roots = [...start.keys()];
    const lifetimes = roots.map((v, id) => {
      ids.set(v, id);
      return { id, bytes: shapeSize(shapeOf(v, batchDim)) * target.storageBytes(v.type.dtype), start: start.get(v)!, end: end.get(v)! };
    });
    const plan = planMemory(lifetimes.filter((l) => !batched(roots[l.id]!)), align);
    const samplePlan = planMemory(lifetimes.filter((l) => batched(roots[l.id]!)), align);
    const actBase = alignUp(constBytes, align);
    const offsetOf = (v: Value): number => {
      const r = root(v);
      const c = constOffset.get(r);
      if (c !== undefined) return c;
      const id = ids.get(r);
      if (id === undefined) throw new Error(`no storage planned for %${v.name}`);
      return batched(r) ? samplePlan.offsets.get(id)! : actBase + plan.offsets.get(id)!;
    };
    const slot = (v: Value): TensorSlot => ({
      dtype: v.type.dtype, shape: shapeOf(v, batchDim), offset: offsetOf(v), ...(batched(v) ? { batched: true } : {}),
    });
    const io = (v: Value, name: string): IOSlot => ({ name, ...slot(v) });
    const steps: Step[] = kernels.map((k) => ({ kernel: k.name, args: [...k.inputs, ...k.outputs].map(slot) }));
    // Loops, not Math.max(...spread): a graph may have more kernels than a call takes arguments.
    let tableBytes = 0;
    for (const s of steps) if (generated.argTableKernels.has(s.kernel)) tableBytes = Math.max(tableBytes, 4 * s.args.length);
    const workspaceOffset = actBase + alignUp(plan.peakBytes, align);
    const tableOffset = workspaceOffset + alignUp(workspaceBytes, align);
    const fixedEnd = tableOffset + alignUp(tableBytes, align);
    checkArenaBytes(fixedEnd + samplePlan.peakBytes, () => `the model's memory (constants ${bytesText(constBytes)}, activations ${bytesText(plan.peakBytes)}`
      + `${samplePlan.peakBytes ? ` + ${bytesText(samplePlan.peakBytes)} per sample` : ''}, kernel workspace ${bytesText(workspaceBytes)})`);
    const executable: Executable = {
      format: 'tessera-executable', version: 1, target: target.toString(), module,
      arenaBytes: fixedEnd + samplePlan.peakBytes,
      constants, activationBytes: plan.peakBytes, workspaceOffset, workspaceBytes, threads: generated.threads,
      inputs: graph.inputs.map((v) => io(v, v.name)), outputs: graph.outputs.map((v, i) => io(v, graph.outputNames[i]!)), steps,
      ...(target.wordStorage ? { wordStorage: true } : {}),
      ...(batchDim ? { batch: { dim: batchDim, base: fixedEnd, sampleBytes: samplePlan.peakBytes } } : {}),
      ...(tableBytes > 0 ? { argTable: { offset: tableOffset, bytes: tableBytes } } : {}),
    };
    return { executable, kernels, timings };
  });
}

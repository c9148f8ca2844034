/**
 * Lowering of the graph to kernels: each group of nodes (one fused group, or one
 * node) becomes one PrimFunc by composing the ops' TE computes, then gets its
 * default schedule and the loop-IR lowering passes. View ops (reshape-like) produce
 * no kernel: their outputs alias their inputs' storage.
 */
import type { DType } from '../runtime/dtype.js';
import { type Graph, type Node, type Value, FUSED_OP, NodeError, originToString } from '../graph/ir.js';
import { InternalError, LimitError, TesseraError } from '../runtime/error.js';
import { type Expr, add, floordiv, floormod, int, mul, visitExpr } from '../ir/expr.js';
import { OpError, getOp } from '../ops/registry.js';
import { strides } from '../ops/common.js';
import { type Tensor as TeTensor, compute, placeholder } from '../te/tensor.js';
import { createPrimFunc } from '../te/lower.js';
import { defaultSchedule } from '../schedule/default.js';
import type { Target } from '../target/index.js';
import type { Instruction, Schedule } from '../schedule/schedule.js';
import { lowerForCodegen } from '../tir/transform/pipeline.js';
import { bindValues } from '../tir/transform/bind_values.js';
import { type PrimFunc, stmtExprs, visitStmt } from '../tir/stmt.js';

export interface LoweredKernel {
  readonly name: string;
  /** Flattened, codegen-ready loop IR. */
  readonly func: PrimFunc;
  /** The scheduled (pre-lowering) function and its trace, for inspection and dumps. */
  readonly scheduled: PrimFunc;
  readonly trace: readonly Instruction[];
  readonly inputs: readonly Value[];
  readonly outputs: readonly Value[];
  readonly nodes: readonly Node[];
  /** Where the time to make it went: KernelTimes. */
  readonly ms: KernelTimes;
}

/**
 * Milliseconds a kernel took to make, by step: `te` composing its ops' TE computes and
 * lowering them to loop IR, `schedule` the default schedule, `tir` the loop-IR passes
 * for codegen, and `codegen` generating its code (set by the build where the target's
 * code generator measures it per kernel).
 */
export interface KernelTimes {
  readonly te: number;
  readonly schedule: number;
  readonly tir: number;
  readonly codegen?: number;
}

/**
 * Chooses each kernel's schedule from its unscheduled function: the default rules
 * (defaultSchedule), or e.g. a tuning database's best record for the workload.
 */
export type ScheduleProvider = (func: PrimFunc, target: Target) => Schedule;

/** Sizes that symbolic dims take while lowering (a dynamic batch's kernels are generated for one sample). */
export type DimBinding = Readonly<Record<string, number>>;

function concreteDims(v: Value, node: Node, bind: DimBinding): number[] {
  return v.type.shape.map((d) => {
    if (typeof d === 'number') return d;
    const b = bind[d];
    if (b === undefined) {
      throw new NodeError(node.origin, node.op, `value %${v.name} has symbolic shape [${v.type.shape.join(', ')}]; bind the symbolic dims (dimValues) before compiling`);
    }
    return b;
  });
}

function sanitize(s: string): string {
  return s.replace(/[^A-Za-z0-9_]/g, '_');
}

/**
 * A view op inside a kernel: the row-major reshape of its input (its data does not
 * move). Leading dims the two shapes share index straight through; the rest go
 * through the flat offset.
 */
function reshapeCompute(input: TeTensor, shape: readonly number[], name: string): TeTensor {
  let keep = 0;
  while (keep < shape.length && keep < input.rank && shape[keep] === input.shape[keep]) keep++;
  const inStrides = strides(input.shape.slice(keep));
  const outStrides = strides(shape.slice(keep));
  return compute(shape, (...idx) => {
    let flat: Expr = int(0);
    idx.slice(keep).forEach((v, d) => { flat = add(flat, mul(v, int(outStrides[d]!))); });
    const rest = input.shape.slice(keep).map((dim, d) => (d === 0 ? floordiv(flat, int(inStrides[0]!)) : floormod(floordiv(flat, int(inStrides[d]!)), int(dim))));
    return input.at(...idx.slice(0, keep), ...rest);
  }, name);
}

export interface ComposedTe {
  readonly inputs: Value[];
  readonly placeholders: TeTensor[];
  readonly outputs: TeTensor[];
}

/** The group's computation as TE: each node's compute applied to its producers' tensors. */
export function composeTe(nodes: readonly Node[], index: number, outputs: readonly Value[], bind: DimBinding): ComposedTe {
  const produced = new Map<Value, TeTensor>();
  const inputs: Value[] = [];
  const placeholders: TeTensor[] = [];
  const teOf = (v: Value, node: Node): TeTensor => {
    const t = produced.get(v);
    if (t) return t;
    const p = placeholder(concreteDims(v, node, bind), v.type.dtype, `in${inputs.length}`);
    produced.set(v, p);
    inputs.push(v);
    placeholders.push(p);
    return p;
  };
  for (const node of nodes) {
    const def = getOp(node.op);
    const ins = node.inputs.map((v) => (v ? teOf(v, node) : null));
    const outTypes = node.outputs.map((o) => ({ dtype: o.type.dtype, shape: concreteDims(o, node, bind) }));
    let outs: TeTensor[];
    try {
      if (def.view) outs = [reshapeCompute(ins[0]!, outTypes[0]!.shape, `${node.op}_view`)];
      else if (def.compute) outs = def.compute(ins, node.attrs, outTypes);
      else throw new OpError(`op ${node.op} has no compute`);
    } catch (e) {
      if (e instanceof OpError) throw new NodeError(node.origin, node.op, e.message, 'lower');
      throw e;
    }
    node.outputs.forEach((o, i) => {
      const t = outs[i]!;
      checkOutput(node, o, t.dtype, t.shape, bind);
      produced.set(o, t);
    });
  }
  const outTensors = outputs.map((o) => {
    const t = produced.get(o);
    if (!t) throw new Error(`kernel ${index}: output %${o.name} is not computed by its nodes`);
    return t;
  });
  return { inputs, placeholders, outputs: outTensors };
}

export const kernelName = (nodes: readonly Node[], index: number): string => `k${index}_${sanitize(nodes.map((n) => n.op).join('_')).slice(0, 48)}`;

/** A group's unscheduled function (the workload a schedule is chosen for) and its input values. */
export function groupFunc(nodes: readonly Node[], index: number, outputs: readonly Value[], bind: DimBinding = {}): { func: PrimFunc; inputs: Value[] } {
  const { inputs, placeholders, outputs: outTensors } = composeTe(nodes, index, outputs, bind);
  return { func: createPrimFunc(kernelName(nodes, index), placeholders, outTensors), inputs };
}

/** Lowers one group of nodes (in topological order) to a kernel computing `outputs`, scheduled for `target`. */
export function lowerGroup(nodes: readonly Node[], index: number, outputs: readonly Value[], target: Target, bind: DimBinding = {}, schedule: ScheduleProvider = defaultSchedule): LoweredKernel {
  const t0 = performance.now();
  const { func: unscheduled, inputs } = groupFunc(nodes, index, outputs, bind);
  const name = unscheduled.name;
  let lowered: Pick<LoweredKernel, 'func' | 'scheduled' | 'trace' | 'ms'>;
  try {
    const t1 = performance.now();
    const sch = schedule(unscheduled, target);
    const t2 = performance.now();
    const func = bindValues(lowerForCodegen(sch.func), target.valueBinding);
    lowered = { func, scheduled: sch.func, trace: sch.trace, ms: { te: t1 - t0, schedule: t2 - t1, tir: performance.now() - t2 } };
  } catch (e) {
    const n = nodes[nodes.length - 1]!;
    if (e instanceof NodeError) throw e;
    if (e instanceof TesseraError) throw new NodeError(n.origin, n.op, e.message, 'lower');
    throw new InternalError(`scheduling kernel ${name} (${originToString(n.origin) || n.op})`, e);
  }
  checkIndexConstants(lowered.func, nodes);
  return { name, ...lowered, inputs, outputs, nodes };
}

/**
 * Kernels index with 32-bit integers: an int32 constant beyond that range (from an attribute
 * such as a stride of 2^40) would wrap, so it is refused rather than compiled wrong.
 */
function checkIndexConstants(func: PrimFunc, nodes: readonly Node[]): void {
  visitStmt(func.body, (s) => {
    for (const e of stmtExprs(s)) {
      visitExpr(e, (x) => {
        if (x.kind === 'int' && x.dtype === 'int32' && (x.value > 0x7fffffff || x.value < -0x80000000)) {
          const n = nodes[nodes.length - 1]!;
          throw new LimitError(`${originToString(n.origin) || `op ${n.op}`}: its index arithmetic needs the constant ${x.value}, `
            + `beyond the 32-bit integers Tessera's kernels index with (check attributes such as strides, pads and dilations)`);
        }
      });
    }
  });
}

function checkOutput(node: Node, v: Value, dtype: DType, shape: readonly number[], bind: DimBinding): void {
  const want = concreteDims(v, node, bind);
  if (dtype !== v.type.dtype || shape.length !== want.length || shape.some((d, i) => d !== want[i])) {
    throw new NodeError(node.origin, node.op, `compute produced ${dtype}[${shape.join(', ')}] but the shape rule says ${v.type.dtype}[${want.join(', ')}]`, 'lower');
  }
}

export interface KernelGroup {
  /** The graph node the kernel computes (a fused node, or the op itself). */
  readonly node: Node;
  readonly nodes: readonly Node[];
  readonly outputs: readonly Value[];
}

/** The kernels a graph needs: one per fused node (its body) and one per other non-view node. */
export function kernelGroups(g: Graph): KernelGroup[] {
  const out: KernelGroup[] = [];
  for (const n of g.nodes) {
    if (n.op === FUSED_OP) out.push({ node: n, nodes: n.body!.nodes, outputs: n.outputs });
    else if (!getOp(n.op).view) out.push({ node: n, nodes: [n], outputs: n.outputs });
  }
  return out;
}

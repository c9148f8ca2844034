/**
 * Control flow, resolved at compile time: If, Loop and Scan convert their subgraphs
 * inline. If takes the branch its (constant) condition selects; Loop unrolls while its
 * trip count and condition are known constants (a graph input is bound per run by the
 * session); Scan unrolls over its (static) sequence axis. Anything whose control depends
 * on a value computed at run time is rejected with a clear error.
 */
import { Tensor } from '../../../runtime/tensor.js';
import type { Value } from '../../../graph/ir.js';
import { type ConvertContext, registerConverter } from '../converter.js';

/** Loops and scans unroll at most this many copies of their body. */
const MAX_UNROLL = 4096;

function truthy(ctx: ConvertContext, t: Tensor, what: string): boolean {
  if (t.size !== 1) ctx.fail(`${what} must hold one element, got ${t.size}`);
  return Number(t.data[0]) !== 0;
}

/** Converts the `body` subgraph and checks it returns `count` values (`what` says which). */
function body(ctx: ConvertContext, values: readonly Value[], count: number, what: string): Value[] {
  const outs = ctx.subgraph('body', values);
  if (outs.length !== count) ctx.fail(`the body returns ${outs.length} value${outs.length === 1 ? '' : 's'}; ${what} need ${count}`);
  return outs;
}

/**
 * The per-scan-input (or per-scan-output) list attribute `name`: `count` entries, each among
 * `allowed` (directions) or a valid axis (axes, given the rank of each value).
 */
function perScan(ctx: ConvertContext, name: string, count: number, check: (v: number, k: number) => boolean, what: string): readonly number[] {
  const list = ctx.ints(name, new Array<number>(count).fill(0));
  if (list.length !== count) ctx.fail(`${name} has ${list.length} entries; the node has ${count} ${what}`);
  list.forEach((v, k) => { if (!check(v, k)) ctx.fail(`${name}[${k}] = ${v} is out of range`); });
  return list;
}

/** num_scan_inputs, checked against the inputs there are. */
function scanInputCount(ctx: ConvertContext, inputs: number): number {
  const n = ctx.int('num_scan_inputs');
  if (n < 1 || n > inputs) ctx.fail(`num_scan_inputs is ${n}; the node has ${inputs} state and scan inputs`);
  return n;
}

/** Stacks values along a new axis (Unsqueeze each, then Concat). */
function stack(ctx: ConvertContext, values: readonly Value[], axis: number, what: string): Value {
  if (values.length === 0) ctx.fail(`${what}: zero iterations leave its shape unknown`);
  const parts = values.map((v) => ctx.op('Unsqueeze', [v], { axes: [axis] })[0]!);
  return parts.length === 1 ? ctx.op('Identity', [parts[0]!])[0]! : ctx.op('Concat', parts, { axis })[0]!;
}

function convertIf(ctx: ConvertContext): Value[] {
  const cond = ctx.requireConstInput(0, 'cond');
  const branch = truthy(ctx, cond, 'the condition') ? 'then_branch' : 'else_branch';
  const outs = ctx.subgraph(branch, []);
  if (outs.length !== ctx.outputNames.length) ctx.fail(`${branch} returns ${outs.length} values; the node has ${ctx.outputNames.length} outputs`);
  return outs;
}
for (const since of [1, 11, 13, 16]) registerConverter('If', since, ['then_branch', 'else_branch'], convertIf);

function convertLoop(ctx: ConvertContext): Value[] {
  const m = ctx.inputs[0] ? ctx.requireConstInput(0, 'M') : undefined;
  if (m && m.size !== 1) ctx.fail(`the trip count M must hold one element, got ${m.size}`);
  const tripCount = m ? Number(m.data[0]) : Infinity;
  let cond = ctx.inputs[1] ? truthy(ctx, ctx.requireConstInput(1, 'cond'), 'the condition') : true;
  if (tripCount === Infinity && !ctx.inputs[1]) ctx.fail('a loop with neither a trip count nor a condition never ends');
  let carried = ctx.inputs.slice(2).map((v, i) => v ?? ctx.fail(`loop-carried input ${i + 2} is missing`));
  const scanCount = ctx.outputNames.length - carried.length;
  if (scanCount < 0) ctx.fail(`the node has ${ctx.outputNames.length} outputs for ${carried.length} loop-carried values`);
  const scans: Value[][] = [];
  for (let i = 0; i < tripCount && cond; i++) {
    if (i >= MAX_UNROLL) ctx.fail(`the loop runs more than ${MAX_UNROLL} iterations; unrolling stops there`);
    const iter = ctx.builder.constant(new Tensor('int64', [BigInt(i)], []));
    const c = ctx.builder.constant(new Tensor('bool', new Uint8Array([1]), []));
    const outs = body(ctx, [iter, c, ...carried], 1 + ctx.outputNames.length, 'the condition, the loop-carried values and the scan outputs');
    const condOut = ctx.builder.constantOf(outs[0]!);
    if (!condOut) ctx.fail(`the loop condition of iteration ${i} is computed at run time; only loops whose control is known at compile time are supported`);
    cond = truthy(ctx, condOut!, 'the body\'s condition');
    carried = outs.slice(1, 1 + carried.length);
    outs.slice(1 + carried.length).forEach((v, k) => (scans[k] ??= []).push(v));
  }
  const stacked = Array.from({ length: scanCount }, (_, k) => stack(ctx, scans[k] ?? [], 0, `loop scan output ${k}`));
  return [...carried, ...stacked];
}
for (const since of [1, 11, 13, 16]) registerConverter('Loop', since, ['body'], convertLoop);

function convertScan(ctx: ConvertContext): Value[] {
  const inputs = ctx.inputs.map((v, i) => v ?? ctx.fail(`input ${i} is missing`));
  const nScan = scanInputCount(ctx, inputs.length);
  const nStates = inputs.length - nScan;
  const nOut = ctx.outputNames.length - nStates;
  if (nOut < 0) ctx.fail(`the node has ${ctx.outputNames.length} outputs for ${nStates} state values`);
  const direction = (v: number): boolean => v === 0 || v === 1;
  const rankIn = (k: number): number => inputs[nStates + k]!.type.shape.length;
  const inAxes = perScan(ctx, 'scan_input_axes', nScan, (v, k) => v >= -rankIn(k) && v < rankIn(k), 'scan inputs');
  const inDirs = perScan(ctx, 'scan_input_directions', nScan, direction, 'scan inputs');
  // An output axis is checked against the stacked rank once the body's outputs are known (stack()).
  const outAxes = perScan(ctx, 'scan_output_axes', nOut, (v) => Number.isSafeInteger(v), 'scan outputs');
  const outDirs = perScan(ctx, 'scan_output_directions', nOut, direction, 'scan outputs');
  return scanSteps(ctx, inputs.slice(0, nStates), inputs.slice(nStates), inAxes, inDirs, outAxes, outDirs);
}

/** The unrolled scan over states and scan inputs (shared by the opset-8 batched form). */
function scanSteps(
  ctx: ConvertContext, states0: readonly Value[], scanIns: readonly Value[],
  inAxes: readonly number[], inDirs: readonly number[], outAxes: readonly number[], outDirs: readonly number[],
): Value[] {
  const nStates = states0.length;
  const axisOf = (v: Value, a: number): number => (a < 0 ? a + v.type.shape.length : a);
  const lengths = scanIns.map((v, k) => v.type.shape[axisOf(v, inAxes[k]!)]);
  const T = lengths[0];
  if (typeof T !== 'number' || lengths.some((l) => l !== T)) ctx.fail(`scan inputs need one concrete sequence length, got [${lengths.join(', ')}]`);
  if ((T as number) > MAX_UNROLL) ctx.fail(`the scan runs its body ${T as number} times; unrolling stops at ${MAX_UNROLL}`);
  let states = states0;
  const outs: Value[][] = [];
  for (let t = 0; t < (T as number); t++) {
    const slices = scanIns.map((v, k) => {
      const idx = ctx.builder.constant(new Tensor('int64', [BigInt(inDirs[k] ? (T as number) - 1 - t : t)], []));
      return ctx.op('Gather', [v, idx], { axis: axisOf(v, inAxes[k]!) })[0]!;
    });
    const res = body(ctx, [...states, ...slices], nStates + outAxes.length, 'the states and the scan outputs');
    states = res.slice(0, nStates);
    res.slice(nStates).forEach((v, k) => (outs[k] ??= []).push(v));
  }
  const nOut = outAxes.length;
  const stacked = Array.from({ length: nOut }, (_, k) => {
    const seq = outDirs[k] ? [...(outs[k] ?? [])].reverse() : outs[k] ?? [];
    const rank = (seq[0]?.type.shape.length ?? 0) + 1;
    const a = outAxes[k]! < 0 ? outAxes[k]! + rank : outAxes[k]!;
    return stack(ctx, seq, a, `scan output ${k}`);
  });
  return [...states, ...stacked];
}
/** Scan-8: a leading batch axis on states and scan inputs (sequence on axis 1), optional sequence_lens. */
function convertScan8(ctx: ConvertContext): Value[] {
  const seqLens = ctx.inputs[0] ? ctx.requireConstInput(0, 'sequence_lens') : undefined;
  const inputs = ctx.inputs.slice(1).map((v, i) => v ?? ctx.fail(`input ${i + 1} is missing`));
  const nScan = scanInputCount(ctx, inputs.length);
  const nStates = inputs.length - nScan;
  if (inputs.some((v, i) => v.type.shape.length < (i < nStates ? 1 : 2))) ctx.fail('states need a batch axis, scan inputs a batch and a sequence axis');
  const batch = inputs[0]!.type.shape[0];
  if (typeof batch !== 'number') ctx.fail(`the batch axis must be concrete, got ${String(batch)}`);
  const seq = inputs[nStates]!.type.shape[1];
  if (seqLens && Array.from(seqLens.data as ArrayLike<number | bigint>, Number).some((l) => l !== seq)) {
    ctx.fail('sequence_lens shorter than the sequence axis are not supported');
  }
  const dirs = perScan(ctx, 'directions', nScan, (v) => v === 0 || v === 1, 'scan inputs');
  const nOut = ctx.outputNames.length - nStates;
  if (nOut < 0) ctx.fail(`the node has ${ctx.outputNames.length} outputs for ${nStates} state values`);
  const steps = (batch as number) * (typeof seq === 'number' ? seq : 1);
  if (steps > MAX_UNROLL) ctx.fail(`the scan runs its body ${steps} times (batch ${batch} × sequence ${String(seq)}); unrolling stops at ${MAX_UNROLL}`);
  const perBatch: Value[][] = [];
  for (let b = 0; b < (batch as number); b++) {
    const idx = ctx.builder.constant(new Tensor('int64', [BigInt(b)], []));
    const pick = (v: Value): Value => ctx.op('Gather', [v, idx], { axis: 0 })[0]!;
    const res = scanSteps(ctx, inputs.slice(0, nStates).map(pick), inputs.slice(nStates).map(pick),
      new Array<number>(nScan).fill(0), dirs, new Array<number>(nOut).fill(0), new Array<number>(nOut).fill(0));
    res.forEach((v, k) => (perBatch[k] ??= []).push(v));
  }
  return perBatch.map((vs, k) => stack(ctx, vs, 0, `scan output ${k}`));
}
registerConverter('Scan', 8, ['body', 'num_scan_inputs', 'directions'], convertScan8);

registerConverter('Scan', 9, ['body', 'num_scan_inputs', 'scan_input_axes', 'scan_input_directions', 'scan_output_axes', 'scan_output_directions'], convertScan);

/**
 * Converters for ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1,
 * ReduceL2, ReduceSumSquare, ReduceLogSum, ReduceLogSumExp. The axes
 * are an attribute before the opset where they became an (optional, here
 * constant-only) input: 13 for ReduceSum, 18 for the others. Graph attrs: axes,
 * keepdims, noop_with_empty_axes.
 */
import type { Value } from '../../../graph/ir.js';
import { registerConverter, type ConvertContext } from '../converter.js';
import { optionalConstInts } from './transform.js';

function reduce(op: string, ctx: ConvertContext, axes: readonly number[]): Value[] {
  const attrs = { axes: [...axes], keepdims: ctx.int('keepdims', 1), noop_with_empty_axes: ctx.int('noop_with_empty_axes', 0) };
  return ctx.op(op, [ctx.input(0)], attrs, true);
}

const AXES_INPUT_SINCE: Record<string, number> = {
  ReduceSum: 13, ReduceMean: 18, ReduceMax: 18, ReduceMin: 18, ReduceProd: 18,
  ReduceL1: 18, ReduceL2: 18, ReduceSumSquare: 18, ReduceLogSum: 18, ReduceLogSumExp: 18,
};

for (const [op, since] of Object.entries(AXES_INPUT_SINCE)) {
  // Before `since` the axes are an attribute (the schema refuses an axes input).
  registerConverter(op, 1, ['axes', 'keepdims'], (ctx) => reduce(op, ctx, ctx.ints('axes', [])));
  registerConverter(op, since, ['keepdims', 'noop_with_empty_axes'], (ctx) => reduce(op, ctx, optionalConstInts(ctx, 1, 'axes') ?? []));
}

/**
 * Converters for neural-network ONNX ops: Conv, MaxPool, AveragePool, global pools,
 * Gemm, MatMul, BatchNormalization, Softmax, LogSoftmax, LayerNormalization.
 * Windows get explicit `pads` (auto_pad resolved against the input shape),
 * `kernel_shape` (from the weight for Conv), and every default filled in.
 */
import type { Value } from '../../../graph/ir.js';
import { dimsAttr } from '../../../ops/transform.js';
import { registerConverter, type ConvertContext } from '../converter.js';

/** Fails when any output beyond the first is requested (e.g. MaxPool's Indices). */
function onlyFirstOutput(ctx: ConvertContext, what: string): void {
  if (ctx.outputNames.slice(1).some((n) => n !== '')) ctx.fail(`${what} is not supported`);
}

/**
 * Explicit [begin..., end...] pads from auto_pad: NOTSET uses the `pads` attribute;
 * VALID is no padding; SAME_UPPER/SAME_LOWER pad so the output is ceil(D / stride)
 * (the odd element at the end for UPPER, at the beginning for LOWER).
 */
export function resolvePads(ctx: ConvertContext, x: Value, kernel: readonly number[], strides: readonly number[], dilations: readonly number[]): number[] {
  const n = kernel.length;
  const autoPad = ctx.string('auto_pad', 'NOTSET') || 'NOTSET';
  switch (autoPad) {
    case 'NOTSET': {
      const pads = ctx.ints('pads', new Array<number>(2 * n).fill(0));
      if (pads.length !== 2 * n) ctx.fail(`pads [${pads.join(', ')}] must have ${2 * n} entries ([begin..., end...])`);
      return [...pads];
    }
    case 'VALID':
      return new Array<number>(2 * n).fill(0);
    case 'SAME_UPPER':
    case 'SAME_LOWER': {
      const spatial = concreteSpatial(ctx, x, `auto_pad ${autoPad}`);
      const begin: number[] = [];
      const end: number[] = [];
      spatial.forEach((d, i) => {
        const out = Math.ceil(d / strides[i]!);
        const total = Math.max(0, (out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - d);
        const small = Math.floor(total / 2);
        begin.push(autoPad === 'SAME_UPPER' ? small : total - small);
        end.push(autoPad === 'SAME_UPPER' ? total - small : small);
      });
      return [...begin, ...end];
    }
    default:
      return ctx.fail(`unsupported auto_pad '${autoPad}' (NOTSET, SAME_UPPER, SAME_LOWER or VALID)`);
  }
}

/** The input's spatial dims [2, rank), which `why` needs concrete. */
export function concreteSpatial(ctx: ConvertContext, x: Value, why: string): number[] {
  const spatial = x.type.shape.slice(2);
  if (spatial.some((d) => typeof d !== 'number')) ctx.fail(`${why} needs concrete spatial dims, got [${spatial.join(', ')}]; bind the symbolic dims`);
  return spatial as number[];
}

export function spatialRank(ctx: ConvertContext, x: Value): number {
  const n = x.type.shape.length - 2;
  if (n < 1) ctx.fail(`input must be [N, C, spatial...] (rank >= 3), got [${x.type.shape.join(', ')}]`);
  return n;
}

export function listAttr(ctx: ConvertContext, name: string, n: number, dflt: number): number[] {
  const v = ctx.ints(name, new Array<number>(n).fill(dflt));
  if (v.length !== n) ctx.fail(`${name} [${v.join(', ')}] must have ${n} entries (one per spatial dim)`);
  return [...v];
}

/** A conv's kernel_shape: the attribute, or the weight's spatial dims when absent. */
export function convKernel(ctx: ConvertContext, w: Value, n: number): number[] {
  if (ctx.has('kernel_shape')) return listAttr(ctx, 'kernel_shape', n, 1);
  const ws = w.type.shape.slice(2);
  if (ws.length !== n || ws.some((d) => typeof d !== 'number')) ctx.fail(`cannot take kernel_shape from weight shape [${w.type.shape.join(', ')}]`);
  return ws as number[];
}

/** Conv's attributes, normalized: kernel_shape (from the weight when absent), strides, dilations, pads, group. */
export function convAttrs(ctx: ConvertContext, x: Value, w: Value): Record<string, number | number[]> {
  const n = spatialRank(ctx, x);
  const kernel = convKernel(ctx, w, n);
  const strides = listAttr(ctx, 'strides', n, 1);
  const dilations = listAttr(ctx, 'dilations', n, 1);
  const pads = resolvePads(ctx, x, kernel, strides, dilations);
  return { kernel_shape: kernel, strides, dilations, pads, group: ctx.int('group', 1) };
}

/** A pooling window's attributes: kernel_shape (required), strides, dilations, explicit pads. */
export function poolWindow(ctx: ConvertContext, x: Value): { kernel_shape: number[]; strides: number[]; dilations: number[]; pads: number[] } {
  const n = spatialRank(ctx, x);
  if (!ctx.has('kernel_shape')) ctx.fail('missing required attribute \'kernel_shape\'');
  const kernel = listAttr(ctx, 'kernel_shape', n, 1);
  const strides = listAttr(ctx, 'strides', n, 1);
  const dilations = listAttr(ctx, 'dilations', n, 1);
  const pads = resolvePads(ctx, x, kernel, strides, dilations);
  return { kernel_shape: kernel, strides, dilations, pads };
}

// ------------------------------------------------------------------ Conv

registerConverter('Conv', 1, ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'], (ctx) => {
  const x = ctx.input(0);
  const w = ctx.input(1);
  const b = ctx.inputs[2] ?? null;
  return ctx.op('Conv', b ? [x, w, b] : [x, w], convAttrs(ctx, x, w), true);
});

// ------------------------------------------------------------------ pooling

function pool(op: 'MaxPool' | 'AveragePool', ctx: ConvertContext): Value[] {
  const x = ctx.input(0);
  const attrs: Record<string, number | number[]> = { ...poolWindow(ctx, x), ceil_mode: ctx.int('ceil_mode', 0) };
  if (op === 'AveragePool') attrs['count_include_pad'] = ctx.int('count_include_pad', 0);
  if (op === 'MaxPool' && ctx.outputNames[1]) {
    // The Indices output: a separate op computes values and flat argmax positions together.
    attrs['storage_order'] = ctx.int('storage_order', 0);
    return ctx.op('MaxPoolWithIndices', [x], attrs, true);
  }
  return ctx.op(op, [x], attrs, true);
}

const POOL_BASE = ['auto_pad', 'kernel_shape', 'pads', 'strides'];
registerConverter('MaxPool', 1, POOL_BASE, (ctx) => pool('MaxPool', ctx));
registerConverter('MaxPool', 8, [...POOL_BASE, 'storage_order'], (ctx) => pool('MaxPool', ctx));
registerConverter('MaxPool', 10, [...POOL_BASE, 'storage_order', 'ceil_mode', 'dilations'], (ctx) => pool('MaxPool', ctx));
registerConverter('AveragePool', 1, POOL_BASE, (ctx) => pool('AveragePool', ctx));
registerConverter('AveragePool', 7, [...POOL_BASE, 'count_include_pad'], (ctx) => pool('AveragePool', ctx));
registerConverter('AveragePool', 10, [...POOL_BASE, 'count_include_pad', 'ceil_mode'], (ctx) => pool('AveragePool', ctx));
registerConverter('AveragePool', 19, [...POOL_BASE, 'count_include_pad', 'ceil_mode', 'dilations'], (ctx) => pool('AveragePool', ctx));

registerConverter('GlobalAveragePool', 1, [], (ctx) => ctx.op('GlobalAveragePool', [ctx.input(0)], {}, true));
registerConverter('GlobalMaxPool', 1, [], (ctx) => ctx.op('GlobalMaxPool', [ctx.input(0)], {}, true));

// ------------------------------------------------------------------ Gemm, MatMul

/** Gemm; C is optional from opset 11 (the schema requires it before). */
function gemm(ctx: ConvertContext): Value[] {
  const c = ctx.inputs[2] ?? null;
  const attrs = {
    alpha: ctx.float('alpha', 1), beta: ctx.float('beta', 1),
    transA: ctx.int('transA', 0), transB: ctx.int('transB', 0),
  };
  return ctx.op('Gemm', c ? [ctx.input(0), ctx.input(1), c] : [ctx.input(0), ctx.input(1)], attrs, true);
}
registerConverter('Gemm', 7, ['alpha', 'beta', 'transA', 'transB'], gemm);

registerConverter('MatMul', 1, [], (ctx) => ctx.op('MatMul', [ctx.input(0), ctx.input(1)], {}, true));

// ------------------------------------------------------------------ BatchNormalization

function batchNorm(ctx: ConvertContext): Value[] {
  if (ctx.has('is_test') && ctx.int('is_test') === 0) ctx.fail('training mode (is_test=0) is not supported; only inference');
  if (ctx.has('spatial') && ctx.int('spatial') !== 1) ctx.fail('spatial=0 (per-activation statistics) is not supported');
  const ins = [0, 1, 2, 3, 4].map((i) => ctx.input(i));
  if (ctx.int('training_mode', 0) !== 0) {
    // Opset 14+: outputs Y, running_mean, running_var (batch statistics, momentum-blended).
    if (ctx.outputNames.length > 3) ctx.fail('training mode has at most 3 outputs (Y, running_mean, running_var)');
    return ctx.op('BatchNormalizationTraining', ins, { epsilon: ctx.float('epsilon', 1e-5), momentum: ctx.float('momentum', 0.9) }, true);
  }
  onlyFirstOutput(ctx, 'a training output (running or saved mean/var)');
  return ctx.op('BatchNormalization', ins, { epsilon: ctx.float('epsilon', 1e-5) }, true);
}
registerConverter('BatchNormalization', 6, ['epsilon', 'is_test', 'momentum', 'spatial'], batchNorm);
registerConverter('BatchNormalization', 7, ['epsilon', 'momentum', 'spatial'], batchNorm);
registerConverter('BatchNormalization', 9, ['epsilon', 'momentum'], batchNorm);
registerConverter('BatchNormalization', 14, ['epsilon', 'momentum', 'training_mode'], batchNorm);
registerConverter('BatchNormalization', 15, ['epsilon', 'momentum', 'training_mode'], batchNorm);

// ------------------------------------------------------------------ Softmax, LogSoftmax

/**
 * The opset 1-12 form of Softmax, LogSoftmax and Hardmax: the input is coerced to 2-D at
 * `axis` ([prod(before), prod(after)]) and normalized over the second dim: Flatten (a view),
 * the op over axis 1, and a Reshape back.
 */
export function coercedTo2d(op: string): (ctx: ConvertContext) => Value[] {
  return (ctx) => {
    const x = ctx.input(0);
    const shape = x.type.shape;
    const r = shape.length;
    const a0 = ctx.int('axis', 1);
    const axis = a0 < 0 ? a0 + r : a0;
    if (axis < 0 || axis >= r) ctx.fail(`axis ${a0} is out of range for rank ${r}`);
    if (axis === r - 1) return ctx.op(op, [x], { axis: -1 }, true);
    const flat = ctx.op('Flatten', [x], { axis })[0]!;
    const y = ctx.op(op, [flat], { axis: 1 })[0]!;
    return ctx.op('Reshape', [y], { shape: dimsAttr(shape) }, true);
  };
}

for (const op of ['Softmax', 'LogSoftmax'] as const) {
  registerConverter(op, 1, ['axis'], coercedTo2d(op));
  registerConverter(op, 13, ['axis'], (ctx) => ctx.op(op, [ctx.input(0)], { axis: ctx.int('axis', -1) }, true));
}

// ------------------------------------------------------------------ LayerNormalization

registerConverter('LayerNormalization', 17, ['axis', 'epsilon', 'stash_type'], (ctx) => {
  const ins = [ctx.input(0), ctx.input(1), ctx.inputs[2] ?? null];
  const attrs = { axis: ctx.int('axis', -1), epsilon: ctx.float('epsilon', 1e-5), stash_type: ctx.int('stash_type', 1) };
  return ctx.op('LayerNormalization', ins[2] ? ins : ins.slice(0, 2), attrs, true);
});

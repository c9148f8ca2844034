/** Converters for elementwise, broadcast and constant-producing ONNX ops. */
import { isDType, isFloat, dtypeFromOnnx } from '../../../runtime/dtype.js';
import { Tensor } from '../../../runtime/tensor.js';
import type { Value } from '../../../graph/ir.js';
import { registerConverter, type ConvertContext } from '../converter.js';

const UNARY_ATTRS: Record<string, readonly string[]> = {
  Relu: [], Neg: [], Abs: [], Sign: [], Exp: [], Log: [], Sqrt: [], Tanh: [], Erf: [], Sigmoid: [], Floor: [], Ceil: [],
  Round: [], Sin: [], Cos: [], Tan: [], Asin: [], Acos: [], Atan: [], Sinh: [], Cosh: [], Asinh: [], Acosh: [], Atanh: [],
  Reciprocal: [], Softplus: [], Softsign: [], Not: [], LeakyRelu: ['alpha'], Elu: ['alpha'], Selu: ['alpha', 'gamma'],
  HardSigmoid: ['alpha', 'beta'], HardSwish: [], ThresholdedRelu: ['alpha'],
};

/** Copies the node's float attributes (those it has) into graph attrs. */
function floatAttrs(ctx: ConvertContext, names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) if (ctx.has(n)) out[n] = ctx.float(n);
  return out;
}

for (const [op, attrs] of Object.entries(UNARY_ATTRS)) {
  registerConverter(op, 1, [...attrs, 'consumed_inputs'], (ctx) => ctx.op(op, [ctx.input(0)], floatAttrs(ctx, attrs), true));
}

for (const op of ['Add', 'Sub', 'Mul', 'Div']) {
  // Opset < 7 had explicit `broadcast`/`axis` attributes; opset 7+ is numpy broadcasting.
  registerConverter(op, 7, [], (ctx) => ctx.op(op, [ctx.input(0), ctx.input(1)], {}, true));
}
for (const op of ['Pow', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'PRelu']) {
  registerConverter(op, 7, [], (ctx) => ctx.op(op, [ctx.input(0), ctx.input(1)], {}, true));
}

/**
 * The second operand of a pre-opset-7 binary op with `broadcast=1`: its shape is a
 * contiguous run of the first operand's dims starting at `axis` (default: the
 * trailing dims). Trailing size-1 dims are appended so numpy broadcasting aligns it
 * there. With broadcast=0 the shapes must already be equal (numpy rules accept them).
 */
function legacyBroadcast(ctx: ConvertContext): [Value, Value] {
  const a = ctx.input(0);
  const b = ctx.input(1);
  if (ctx.int('broadcast', 0) === 0) {
    if (ctx.has('axis')) ctx.fail('axis is only valid with broadcast=1');
    return [a, b];
  }
  const ra = a.type.shape.length;
  const rb = b.type.shape.length;
  const axis0 = ctx.int('axis', ra - rb);
  const axis = axis0 < 0 ? axis0 + ra : axis0;
  if (axis < 0 || axis + rb > ra) ctx.fail(`B [${b.type.shape.join(', ')}] does not fit A [${a.type.shape.join(', ')}] at axis ${axis0}`);
  const pad = ra - axis - rb;
  if (pad === 0 || rb === 0) return [a, b];
  const shape = [...b.type.shape, ...new Array<number>(pad).fill(1)];
  return [a, ctx.op('Reshape', [b], { shape })[0]!];
}

for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Equal', 'Less', 'Greater', 'And', 'Or', 'Xor']) {
  // Opset 1-6 forms (Add/Sub/Mul/Div-1 also carry the ignored `consumed_inputs`).
  registerConverter(op, 1, ['broadcast', 'axis', 'consumed_inputs'], (ctx) => ctx.op(op, legacyBroadcast(ctx), {}, true));
}

/**
 * PRelu before opset 7: a 1-D slope of the channel count applies per channel
 * (axis 1), not to the last dim as numpy broadcasting would; it is reshaped to [C, 1, ...].
 */
registerConverter('PRelu', 1, ['consumed_inputs'], (ctx) => {
  const x = ctx.input(0);
  let slope = ctx.input(1);
  const xs = x.type.shape;
  const ss = slope.type.shape;
  if (ss.length === 1 && xs.length >= 2 && ss[0] !== 1 && ss[0] === xs[1]) {
    slope = ctx.op('Reshape', [slope], { shape: [ss[0]!, ...new Array<number>(xs.length - 2).fill(1)] })[0]!;
  }
  return ctx.op('PRelu', [x, slope], {}, true);
});

/**
 * Pow from opset 12: the exponent may have another dtype than the base (the output
 * has the base's). A float base takes the exponent cast to its dtype; an integer
 * base is raised in float64 and the result cast back (truncating, like the reference).
 */
registerConverter('Pow', 12, [], (ctx) => {
  const x = ctx.input(0);
  const y = ctx.input(1);
  const tx = x.type.dtype;
  const ty = y.type.dtype;
  if (tx === ty) return ctx.op('Pow', [x, y], {}, true);
  if (isFloat(tx)) return ctx.op('Pow', [x, ctx.op('Cast', [y], { to: tx })[0]!], {}, true);
  const xf = ctx.op('Cast', [x], { to: 'float64' })[0]!;
  const yf = ty === 'float64' ? y : ctx.op('Cast', [y], { to: 'float64' })[0]!;
  const p = ctx.op('Pow', [xf, yf])[0]!;
  return ctx.op('Cast', [p], { to: tx }, true);
});

/** Variadic Max/Min/Sum/Mean fold into a chain of binary ops. */
function variadic(op: 'Max' | 'Min' | 'Add', ctx: ConvertContext): Value {
  if (ctx.inputs.length === 0) ctx.fail('needs at least one input');
  let acc = ctx.input(0);
  if (ctx.inputs.length === 1) return ctx.op('Identity', [acc], {}, true)[0]!;
  for (let i = 1; i < ctx.inputs.length; i++) acc = ctx.op(op, [acc, ctx.input(i)], {}, i === ctx.inputs.length - 1)[0]!;
  return acc;
}
registerConverter('Max', 8, [], (ctx) => [variadic('Max', ctx)]);
registerConverter('Min', 8, [], (ctx) => [variadic('Min', ctx)]);
registerConverter('Sum', 8, [], (ctx) => [variadic('Add', ctx)]);
// Opset 1-7: the inputs must have equal shapes (numpy broadcasting accepts them);
// opset 1-5 also carry the ignored `consumed_inputs`.
registerConverter('Max', 1, ['consumed_inputs'], (ctx) => [variadic('Max', ctx)]);
registerConverter('Min', 1, ['consumed_inputs'], (ctx) => [variadic('Min', ctx)]);
registerConverter('Sum', 1, ['consumed_inputs'], (ctx) => [variadic('Add', ctx)]);
const mean = (ctx: ConvertContext): Value[] => {
  const n = ctx.inputs.length;
  if (n === 1) return ctx.op('Identity', [ctx.input(0)], {}, true);
  let acc = ctx.input(0);
  for (let i = 1; i < n; i++) acc = ctx.op('Add', [acc, ctx.input(i)])[0]!;
  const dtype = acc.type.dtype;
  const count = ctx.builder.constant(new Tensor(dtype, [n]));
  return ctx.op('Div', [acc, count], {}, true);
};
registerConverter('Mean', 8, [], mean);
registerConverter('Mean', 1, ['consumed_inputs'], mean);

registerConverter('Where', 9, [], (ctx) => ctx.op('Where', [ctx.input(0), ctx.input(1), ctx.input(2)], {}, true));

registerConverter('Clip', 11, [], (ctx) => ctx.op('Clip', [ctx.input(0), ctx.inputs[1] ?? null, ctx.inputs[2] ?? null], {}, true));
registerConverter('Clip', 6, ['min', 'max'], (ctx) => {
  const x = ctx.input(0);
  const bound = (name: string, dflt: number): Value => ctx.builder.constant(new Tensor(x.type.dtype, [ctx.float(name, dflt)], []));
  return ctx.op('Clip', [x, bound('min', -3.4028234663852886e38), bound('max', 3.4028234663852886e38)], {}, true);
});

registerConverter('Cast', 6, ['to', 'saturate'], (ctx) => {
  const to = dtypeFromOnnx(ctx.int('to'));
  if (!to || !isDType(to)) return ctx.fail(`unsupported target type ${ctx.int('to')}`);
  return ctx.op('Cast', [ctx.input(0)], { to }, true);
});

registerConverter('Identity', 1, [], (ctx) => ctx.op('Identity', [ctx.input(0)], {}, true));
/** Dropout in inference is the identity; its optional mask output is all true. */
function dropout(ctx: ConvertContext): (Value | null)[] {
  const training = ctx.inputs[2];
  if (training) {
    const t = ctx.requireConstInput(2, 'training_mode');
    // Training mode drops elements at random, except with ratio 0, where it is the identity too.
    const ratio = ctx.inputs[1] ? Number(ctx.requireConstInput(1, 'ratio').data[0]) : 0.5;
    if (Number(t.data[0]) !== 0 && ratio !== 0) ctx.fail('training mode with a nonzero ratio drops elements at random; it is not supported');
  }
  if (ctx.has('is_test') && ctx.int('is_test') === 0) ctx.fail('training mode (is_test=0) is not supported');
  const x = ctx.input(0);
  const [y] = ctx.op('Identity', [x], {}, true);
  const maskName = ctx.outputNames[1];
  if (!maskName) return [y!];
  const dims = x.type.shape;
  if (dims.some((d) => typeof d !== 'number')) ctx.fail('the mask output needs a concrete input shape');
  const n = (dims as number[]).reduce((a, b) => a * b, 1);
  return [y!, ctx.builder.constant(new Tensor('bool', new Uint8Array(n).fill(1), dims as number[]), maskName)];
}
registerConverter('Dropout', 1, ['ratio', 'is_test', 'consumed_inputs'], dropout);
registerConverter('Dropout', 7, ['ratio'], dropout);
registerConverter('Dropout', 12, ['seed'], dropout);

registerConverter('Constant', 1, ['value', 'value_float', 'value_floats', 'value_int', 'value_ints'], (ctx) => {
  let t: Tensor;
  if (ctx.has('value')) t = ctx.tensor('value');
  else if (ctx.has('value_float')) t = new Tensor('float32', [ctx.float('value_float')], []);
  else if (ctx.has('value_floats')) t = new Tensor('float32', [...ctx.floats('value_floats')]);
  else if (ctx.has('value_int')) t = new Tensor('int64', ctx.int64s('value_int'), []);
  else if (ctx.has('value_ints')) t = new Tensor('int64', ctx.int64s('value_ints'));
  else return ctx.fail('has no value attribute');
  return [ctx.constant(t)];
});

/** Builds small ONNX models in memory (tests, benchmarks, examples): nodes, typed inputs/outputs, initializers. */
import { onnx, tensorToProto } from './proto.js';
import { resolveSchema, schemaAttribute } from './schema.js';
import type { Tensor } from '../../runtime/tensor.js';
import { type DType, dtypeToOnnx } from '../../runtime/dtype.js';

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attrs?: Record<string, AttrSpec>;
}

/** An attribute value: numbers are typed as the op's schema says (int or float), strings and string lists as such. */
export type AttrSpec = number | number[] | string | string[] | Tensor;

export interface ValueSpec {
  name: string;
  dtype: DType;
  shape: (number | string)[];
}

/**
 * An attribute of `op`, typed as the op's schema defines it (so `alpha: 1` is a FLOAT where the
 * schema says float); attributes the schema lacks are typed by their value (integers as ints).
 */
function attribute(op: string, opset: number, name: string, v: AttrSpec): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  const schema = resolveSchema('', op, opset);
  const declared = 'reason' in schema ? undefined : schemaAttribute(schema, name)?.type;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) {
    if (v.some((x) => typeof x === 'string')) return { name, type: T.STRINGS, strings: v.map((x) => new TextEncoder().encode(String(x))) };
    const nums = v as number[];
    const floats = declared ? declared === 'floats' : !nums.every(Number.isInteger);
    return floats ? { name, type: T.FLOATS, floats: nums } : { name, type: T.INTS, ints: nums };
  }
  if (typeof v === 'number') {
    const float = declared ? declared === 'float' : !Number.isInteger(v);
    return float ? { name, type: T.FLOAT, f: v } : { name, type: T.INT, i: v };
  }
  return { name, type: T.TENSOR, t: tensorToProto(v) };
}

function valueInfo(v: ValueSpec): onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: dtypeToOnnx(v.dtype),
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export function makeModel(spec: {
  nodes: NodeSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  initializers?: Record<string, Tensor>;
  opset?: number;
}): Uint8Array {
  const opset = spec.opset ?? 17;
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: 'test',
      node: spec.nodes.map((n, i) => ({
        opType: n.op, input: n.inputs, output: n.outputs, name: n.name ?? `${n.op}_${i}`,
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(n.op, opset, k, v)),
      })),
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      initializer: Object.entries(spec.initializers ?? {}).map(([name, t]) => tensorToProto(t, name)),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

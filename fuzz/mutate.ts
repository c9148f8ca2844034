/**
 * Mutations of an ONNX model, at two levels:
 *
 * - byte level: bit flips, random bytes, truncation, inserted / deleted / duplicated chunks
 *   and overlong varints in the serialized bytes (what a damaged download or a bad writer
 *   produces; most stop being parseable protobuf, some parse into something strange);
 * - protobuf level: the model is decoded and one structural edit is made that a buggy
 *   exporter or a hostile file could make: dims and attribute values set to extremes
 *   (0, -1, 2^31, 2^40, 2^62, 2^63-1), attributes duplicated / removed / given the wrong
 *   payload field, node inputs and outputs added, removed or renamed onto other values,
 *   nodes removed or reordered, op types, domains, opsets and IR versions changed,
 *   initializer data and dims made inconsistent, declared types contradicted, graph inputs
 *   duplicated, external data pointed elsewhere; inside subgraph bodies as well.
 *
 * `mutate` is a pure function of the bytes and the Rng: a mutant is rebuilt from its seed.
 */
import { onnx } from '../src/frontend/onnx/proto.js';
import { Rng } from './rng.js';

export interface Mutant {
  readonly bytes: Uint8Array;
  /** What was changed, e.g. `proto:attr-int Conv "conv1" pads[2] = 1099511627776`. */
  readonly description: string;
  /** The mutation's kind (`byte:flip`, `proto:attr-int`, ...): what the report groups by. */
  readonly kind: string;
}

type AttrType = onnx.AttributeProto.AttributeType;
const A = onnx.AttributeProto.AttributeType;

/**
 * int64 fields: protobufjs encodes a decimal string exactly (a JS number loses bits past
 * 2^53), but its generated types only admit number | Long.
 */
function int64(v: bigint | number): number {
  return String(v) as unknown as number;
}

/** Extreme integers: the boundaries where 32-bit, 53-bit and 64-bit arithmetic breaks. */
const EXTREME_INTS: readonly bigint[] = [
  0n, -1n, 1n, -2n, 2n ** 15n, 2n ** 31n - 1n, 2n ** 31n, -(2n ** 31n), 2n ** 32n, 2n ** 40n,
  2n ** 53n + 1n, 2n ** 62n, 2n ** 63n - 1n, -(2n ** 63n),
];
const EXTREME_FLOATS: readonly number[] = [0, -0, NaN, Infinity, -Infinity, 1e38, -1e38, 1e-45, 3.4e38 * 10, -1];

function extremeInt(rng: Rng): bigint {
  return rng.chance(0.8) ? rng.pick(EXTREME_INTS) : BigInt(rng.range(-5, 300));
}

/** Op types a node may be switched to: common ones, ones with subgraphs, and ones that do not exist. */
const OP_TYPES: readonly string[] = [
  'Add', 'Relu', 'Conv', 'MatMul', 'Gemm', 'Reshape', 'Transpose', 'Concat', 'Split', 'Slice', 'Gather',
  'ReduceSum', 'Softmax', 'LSTM', 'Loop', 'If', 'Scan', 'Resize', 'Pad', 'Cast', 'Expand', 'Tile',
  'TopK', 'NonZero', 'Einsum', 'QuantizeLinear', 'ConvTranspose', 'MaxPool', 'BatchNormalization',
  'Identity', 'NotAnOp', '', 'relu', 'SequenceAt',
];
const DOMAINS: readonly string[] = ['', 'ai.onnx', 'ai.onnx.ml', 'com.microsoft', 'com.example.unknown'];
const ELEM_TYPES: readonly number[] = [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 17, 23, 99];

/** A graph of the model (the main graph or a subgraph body) with where it sits. */
interface GraphSite {
  readonly graph: onnx.IGraphProto;
  readonly path: string;
}

function graphsOf(g: onnx.IGraphProto, path: string, out: GraphSite[]): GraphSite[] {
  out.push({ graph: g, path });
  for (const n of g.node ?? []) {
    for (const a of n.attribute ?? []) {
      if (a.g) graphsOf(a.g, `${path}/${n.opType}.${a.name}`, out);
      (a.graphs ?? []).forEach((sg, i) => graphsOf(sg, `${path}/${n.opType}.${a.name}[${i}]`, out));
    }
  }
  return out;
}

function nodeName(n: onnx.INodeProto): string {
  return `${n.opType ?? '?'} "${n.name ?? ''}"`;
}

/** Every value name a graph defines (inputs, initializers, node outputs). */
function definedNames(g: onnx.IGraphProto): string[] {
  return [
    ...(g.input ?? []).map((v) => v.name ?? ''),
    ...(g.initializer ?? []).map((t) => t.name ?? ''),
    ...(g.node ?? []).flatMap((n) => n.output ?? []),
  ].filter((s) => s !== '');
}

function valueInfos(g: onnx.IGraphProto): onnx.IValueInfoProto[] {
  return [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])];
}

function tensorTypeOf(v: onnx.IValueInfoProto): onnx.TypeProto.ITensor | undefined {
  return v.type?.tensorType ?? undefined;
}

/** One protobuf-level mutation: a description, or undefined when it does not apply to this model. */
type ProtoMutator = (m: onnx.ModelProto, site: GraphSite, rng: Rng) => string | undefined;

const PROTO_MUTATORS: Record<string, ProtoMutator> = {
  'dim-value'(_m, { graph }, rng) {
    const shaped = (vs: onnx.IValueInfoProto[]): onnx.IValueInfoProto[] => vs.filter((v) => (tensorTypeOf(v)?.shape?.dim ?? []).length > 0);
    // Mostly a graph input: where a size enters the model.
    const inputs = shaped(graph.input ?? []);
    const infos = inputs.length > 0 && rng.chance(0.6) ? inputs : shaped(valueInfos(graph));
    if (infos.length === 0) return undefined;
    const v = rng.pick(infos);
    const dims = tensorTypeOf(v)!.shape!.dim!;
    const k = rng.int(dims.length);
    const value = extremeInt(rng);
    dims[k] = { dimValue: int64(value) };
    return `${v.name} dim[${k}] = ${value}`;
  },
  'dim-rank'(_m, { graph }, rng) {
    const infos = valueInfos(graph).filter((v) => tensorTypeOf(v)?.shape);
    if (infos.length === 0) return undefined;
    const v = rng.pick(infos);
    const shape = tensorTypeOf(v)!.shape!;
    const dims = shape.dim ?? [];
    const choice = rng.int(4);
    if (choice === 0) shape.dim = [...dims, { dimValue: int64(rng.range(1, 4)) }];
    else if (choice === 1) shape.dim = dims.slice(0, Math.max(0, dims.length - 1));
    else if (choice === 2) shape.dim = [...dims, ...dims, ...dims, ...dims, ...dims, ...dims, ...dims, ...dims];
    else shape.dim = dims.map(() => ({ dimParam: rng.chance(0.5) ? 'N' : '' }));
    return `${v.name} dims -> rank ${shape.dim.length} (${['added', 'dropped', 'repeated', 'symbolic'][choice]})`;
  },
  'elem-type'(_m, { graph }, rng) {
    const infos = valueInfos(graph).filter((v) => tensorTypeOf(v));
    if (infos.length === 0) return undefined;
    const v = rng.pick(infos);
    const t = rng.pick(ELEM_TYPES);
    tensorTypeOf(v)!.elemType = t;
    return `${v.name} elem_type = ${t}`;
  },
  'drop-type'(_m, { graph }, rng) {
    const infos = valueInfos(graph);
    if (infos.length === 0) return undefined;
    const v = rng.pick(infos);
    v.type = rng.chance(0.5) ? null : { sequenceType: { elemType: v.type ?? null } };
    return `${v.name} type ${v.type ? 'wrapped in a sequence' : 'removed'}`;
  },
  'attr-int'(_m, { graph }, rng) {
    const attrs = (graph.node ?? []).flatMap((n) => (n.attribute ?? []).filter((a) => a.type === A.INT || a.type === A.INTS).map((a) => ({ n, a })));
    if (attrs.length === 0) return undefined;
    const { n, a } = rng.pick(attrs);
    const value = extremeInt(rng);
    if (a.type === A.INT) {
      a.i = int64(value);
      return `${nodeName(n)} ${a.name} = ${value}`;
    }
    const ints = [...(a.ints ?? [])];
    if (ints.length === 0 || rng.chance(0.2)) {
      ints.push(int64(value));
      a.ints = ints;
      return `${nodeName(n)} ${a.name} += [${value}]`;
    }
    const k = rng.int(ints.length);
    ints[k] = int64(value);
    a.ints = ints;
    return `${nodeName(n)} ${a.name}[${k}] = ${value}`;
  },
  'attr-float'(_m, { graph }, rng) {
    const attrs = (graph.node ?? []).flatMap((n) => (n.attribute ?? []).filter((a) => a.type === A.FLOAT || a.type === A.FLOATS).map((a) => ({ n, a })));
    if (attrs.length === 0) return undefined;
    const { n, a } = rng.pick(attrs);
    const value = rng.pick(EXTREME_FLOATS);
    if (a.type === A.FLOAT) a.f = value;
    else a.floats = (a.floats?.length ? a.floats : [0]).map((x, i) => (i === 0 ? value : x));
    return `${nodeName(n)} ${a.name} = ${value}`;
  },
  'attr-duplicate'(_m, { graph }, rng) {
    const nodes = (graph.node ?? []).filter((n) => (n.attribute ?? []).length > 0);
    if (nodes.length === 0) return undefined;
    const n = rng.pick(nodes);
    const a = rng.pick(n.attribute!);
    n.attribute = [...n.attribute!, onnx.AttributeProto.decode(onnx.AttributeProto.encode(a).finish())];
    return `${nodeName(n)} attribute ${a.name} given twice`;
  },
  'attr-remove'(_m, { graph }, rng) {
    const nodes = (graph.node ?? []).filter((n) => (n.attribute ?? []).length > 0);
    if (nodes.length === 0) return undefined;
    const n = rng.pick(nodes);
    const k = rng.int(n.attribute!.length);
    const name = n.attribute![k]!.name;
    n.attribute = n.attribute!.filter((_, i) => i !== k);
    return `${nodeName(n)} attribute ${name} removed`;
  },
  'attr-field'(_m, { graph }, rng) {
    // The payload moved to another field, or the type tag changed under the payload.
    const nodes = (graph.node ?? []).filter((n) => (n.attribute ?? []).length > 0);
    if (nodes.length === 0) return undefined;
    const n = rng.pick(nodes);
    const a = rng.pick(n.attribute!);
    const types: AttrType[] = [A.UNDEFINED, A.FLOAT, A.INT, A.STRING, A.TENSOR, A.GRAPH, A.FLOATS, A.INTS, A.STRINGS, A.TENSORS, A.GRAPHS];
    const t = rng.pick(types);
    const before = a.type;
    a.type = t;
    if (rng.chance(0.5)) {
      // Fill the new field too, so the attribute carries two payloads.
      if (t === A.INT) a.i = int64(3);
      else if (t === A.FLOAT) a.f = 0.5;
      else if (t === A.INTS) a.ints = [int64(1), int64(2)];
      else if (t === A.STRING) a.s = new TextEncoder().encode('abc');
    }
    return `${nodeName(n)} attribute ${a.name} type ${before} -> ${t}`;
  },
  'attr-add'(_m, { graph }, rng) {
    const nodes = graph.node ?? [];
    if (nodes.length === 0) return undefined;
    const n = rng.pick(nodes);
    const name = rng.pick(['axis', 'axes', 'pads', 'perm', 'to', 'mode', 'bogus', 'keepdims', 'group', 'kernel_shape']);
    const ints = rng.chance(0.5);
    n.attribute = [...(n.attribute ?? []), ints ? { name, type: A.INTS, ints: [int64(extremeInt(rng))] } : { name, type: A.INT, i: int64(extremeInt(rng)) }];
    return `${nodeName(n)} attribute ${name} added`;
  },
  'node-input-add'(_m, { graph }, rng) {
    const nodes = graph.node ?? [];
    const names = definedNames(graph);
    if (nodes.length === 0) return undefined;
    const n = rng.pick(nodes);
    const name = rng.chance(0.2) || names.length === 0 ? rng.pick(['', 'undefined_value']) : rng.pick(names);
    n.input = [...(n.input ?? []), name];
    return `${nodeName(n)} input "${name}" appended`;
  },
  'node-input-remove'(_m, { graph }, rng) {
    const nodes = (graph.node ?? []).filter((n) => (n.input ?? []).length > 0);
    if (nodes.length === 0) return undefined;
    const n = rng.pick(nodes);
    const k = rng.int(n.input!.length);
    n.input = rng.chance(0.3) ? n.input!.map((x, i) => (i === k ? '' : x)) : n.input!.filter((_, i) => i !== k);
    return `${nodeName(n)} input ${k} removed`;
  },
  'node-input-rewire'(_m, { graph }, rng) {
    const nodes = (graph.node ?? []).filter((n) => (n.input ?? []).length > 0);
    const names = definedNames(graph);
    if (nodes.length === 0 || names.length === 0) return undefined;
    const n = rng.pick(nodes);
    const k = rng.int(n.input!.length);
    const name = rng.pick(names);
    n.input = n.input!.map((x, i) => (i === k ? name : x));
    return `${nodeName(n)} input ${k} = "${name}"`;
  },
  'node-output-add'(_m, { graph }, rng) {
    const nodes = graph.node ?? [];
    if (nodes.length === 0) return undefined;
    const n = rng.pick(nodes);
    n.output = [...(n.output ?? []), `extra_out_${rng.int(1000)}`];
    return `${nodeName(n)} output appended`;
  },
  'node-output-remove'(_m, { graph }, rng) {
    const nodes = (graph.node ?? []).filter((n) => (n.output ?? []).length > 0);
    if (nodes.length === 0) return undefined;
    const n = rng.pick(nodes);
    const all = rng.chance(0.3);
    n.output = all ? [] : n.output!.slice(0, -1);
    return `${nodeName(n)} ${all ? 'all outputs' : 'last output'} removed`;
  },
  'node-output-rename'(_m, { graph }, rng) {
    // A node output renamed onto an existing value: an initializer, a graph input, another output.
    const nodes = (graph.node ?? []).filter((n) => (n.output ?? []).length > 0);
    const names = definedNames(graph);
    if (nodes.length === 0 || names.length === 0) return undefined;
    const n = rng.pick(nodes);
    const k = rng.int(n.output!.length);
    const name = rng.chance(0.15) ? '' : rng.pick(names);
    n.output = n.output!.map((x, i) => (i === k ? name : x));
    return `${nodeName(n)} output ${k} renamed to "${name}"`;
  },
  'node-remove'(_m, { graph }, rng) {
    const nodes = graph.node ?? [];
    if (nodes.length === 0) return undefined;
    const k = rng.int(nodes.length);
    const n = nodes[k]!;
    graph.node = nodes.filter((_, i) => i !== k);
    return `${nodeName(n)} removed`;
  },
  'node-duplicate'(_m, { graph }, rng) {
    const nodes = graph.node ?? [];
    if (nodes.length === 0) return undefined;
    const k = rng.int(nodes.length);
    const copy = onnx.NodeProto.decode(onnx.NodeProto.encode(nodes[k]!).finish());
    graph.node = [...nodes.slice(0, k + 1), copy, ...nodes.slice(k + 1)];
    return `${nodeName(copy)} duplicated`;
  },
  'node-reorder'(_m, { graph }, rng) {
    const nodes = graph.node ?? [];
    if (nodes.length < 2) return undefined;
    const i = rng.int(nodes.length);
    const j = rng.int(nodes.length);
    if (i === j) return undefined;
    const copy = [...nodes];
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    graph.node = copy;
    return `nodes ${i} and ${j} swapped`;
  },
  'op-type'(_m, { graph }, rng) {
    const nodes = graph.node ?? [];
    if (nodes.length === 0) return undefined;
    const n = rng.pick(nodes);
    const before = nodeName(n);
    n.opType = rng.pick(OP_TYPES);
    return `${before} op_type -> ${n.opType}`;
  },
  'op-domain'(_m, { graph }, rng) {
    const nodes = graph.node ?? [];
    if (nodes.length === 0) return undefined;
    const n = rng.pick(nodes);
    n.domain = rng.pick(DOMAINS);
    return `${nodeName(n)} domain -> "${n.domain}"`;
  },
  opset(m, _site, rng) {
    const imports = m.opsetImport ?? [];
    const choice = rng.int(4);
    if (choice === 0 && imports.length > 0) {
      const value = rng.pick([0n, 1n, 6n, 9n, 13n, 18n, 30n, 1000n, 2n ** 40n, -1n]);
      imports[rng.int(imports.length)]!.version = int64(value);
      return `opset version -> ${value}`;
    }
    if (choice === 1) {
      m.opsetImport = [];
      return 'opset_import removed';
    }
    if (choice === 2 && imports.length > 0) {
      m.opsetImport = [...imports, { domain: imports[0]!.domain ?? '', version: int64(rng.range(1, 25)) }];
      return 'opset domain imported twice';
    }
    m.opsetImport = [...imports, { domain: rng.pick(DOMAINS), version: int64(rng.range(1, 25)) }];
    return 'opset import added';
  },
  'ir-version'(m, _site, rng) {
    const value = rng.pick([0n, 1n, 2n, 3n, 4n, 7n, 10n, 12n, 100n, 2n ** 40n, -1n]);
    m.irVersion = int64(value);
    return `ir_version -> ${value}`;
  },
  'initializer-data'(_m, { graph }, rng) {
    const inits = graph.initializer ?? [];
    if (inits.length === 0) return undefined;
    const t = rng.pick(inits);
    const choice = rng.int(6);
    if (choice === 0 && t.rawData && t.rawData.length > 0) {
      t.rawData = t.rawData.subarray(0, rng.int(t.rawData.length));
      return `initializer ${t.name} raw_data truncated`;
    }
    if (choice === 1) {
      t.dataType = rng.pick(ELEM_TYPES);
      return `initializer ${t.name} data_type -> ${t.dataType}`;
    }
    if (choice === 2) {
      t.floatData = [1, 2, 3];
      return `initializer ${t.name} float_data set beside its payload`;
    }
    if (choice === 3) {
      t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      t.externalData = [{ key: 'location', value: rng.pick(['missing.bin', '../../../../etc/passwd', '/dev/zero', '']) }, { key: 'length', value: String(extremeInt(rng)) }];
      return `initializer ${t.name} made external (${t.externalData[0]!.value})`;
    }
    const dims = [...(t.dims ?? [])];
    if (dims.length === 0 || choice === 4) dims.push(int64(rng.pick([2n, 0n, 2n ** 31n, 2n ** 40n])));
    else dims[rng.int(dims.length)] = int64(extremeInt(rng));
    t.dims = dims;
    return `initializer ${t.name} dims -> [${dims.map(String).join(', ')}]`;
  },
  'tensor-value'(_m, { graph }, rng) {
    // One element of a constant (an initializer or a Constant's value) set to an extreme:
    // the shapes, axes, pads, indices and counts that converters read at compile time.
    const tensors: { t: onnx.ITensorProto; where: string }[] = [
      ...(graph.initializer ?? []).map((t) => ({ t, where: `initializer ${t.name}` })),
      ...(graph.node ?? []).filter((n) => n.opType === 'Constant').flatMap((n) => (n.attribute ?? []).filter((a) => a.t).map((a) => ({ t: a.t!, where: `${nodeName(n)} value` }))),
    ].filter(({ t }) => [1, 6, 7, 11].includes(t.dataType ?? 0) && elementCount(t) > 0);
    if (tensors.length === 0) return undefined;
    // Small integer tensors (shapes, axes) first: they steer compilation.
    const ints = tensors.filter(({ t }) => (t.dataType === 6 || t.dataType === 7) && elementCount(t) <= 16);
    const { t, where } = ints.length > 0 && rng.chance(0.7) ? rng.pick(ints) : rng.pick(tensors);
    const k = rng.int(elementCount(t));
    const isInt = t.dataType === 6 || t.dataType === 7;
    const value = isInt ? extremeInt(rng) : rng.pick(EXTREME_FLOATS);
    setElement(t, k, value);
    return `${where}[${k}] = ${String(value)}`;
  },
  'initializer-duplicate'(_m, { graph }, rng) {
    const inits = graph.initializer ?? [];
    if (inits.length === 0) return undefined;
    const t = rng.pick(inits);
    graph.initializer = [...inits, onnx.TensorProto.decode(onnx.TensorProto.encode(t).finish())];
    return `initializer ${t.name} given twice`;
  },
  'constant-value'(_m, { graph }, rng) {
    const consts = (graph.node ?? []).filter((n) => n.opType === 'Constant' && (n.attribute ?? []).some((a) => a.t));
    if (consts.length === 0) return undefined;
    const n = rng.pick(consts);
    const t = n.attribute!.find((a) => a.t)!.t!;
    const dims = [...(t.dims ?? [])];
    if (dims.length === 0) dims.push(int64(2));
    else dims[rng.int(dims.length)] = int64(extremeInt(rng));
    t.dims = dims;
    return `${nodeName(n)} value dims -> [${dims.map(String).join(', ')}]`;
  },
  'graph-input-duplicate'(_m, { graph }, rng) {
    const inputs = graph.input ?? [];
    if (inputs.length === 0) return undefined;
    const v = rng.pick(inputs);
    graph.input = [...inputs, onnx.ValueInfoProto.decode(onnx.ValueInfoProto.encode(v).finish())];
    return `graph input ${v.name} given twice`;
  },
  'graph-input-remove'(_m, { graph }, rng) {
    const inputs = graph.input ?? [];
    if (inputs.length === 0) return undefined;
    const k = rng.int(inputs.length);
    const name = inputs[k]!.name;
    graph.input = inputs.filter((_, i) => i !== k);
    return `graph input ${name} removed`;
  },
  'graph-output'(_m, { graph }, rng) {
    const outputs = graph.output ?? [];
    const names = definedNames(graph);
    const choice = rng.int(3);
    if (choice === 0 && outputs.length > 0) {
      graph.output = outputs.slice(0, -1);
      return 'last graph output removed';
    }
    if (choice === 1 && outputs.length > 0) {
      const v = rng.pick(outputs);
      const before = v.name;
      v.name = rng.chance(0.3) || names.length === 0 ? 'no_such_value' : rng.pick(names);
      return `graph output ${before} renamed to ${v.name}`;
    }
    if (outputs.length === 0) return undefined;
    graph.output = [...outputs, onnx.ValueInfoProto.decode(onnx.ValueInfoProto.encode(rng.pick(outputs)).finish())];
    return 'a graph output given twice';
  },
  'value-info-conflict'(_m, { graph }, rng) {
    // A declared type for an intermediate value that contradicts what the node makes.
    const outs = (graph.node ?? []).flatMap((n) => n.output ?? []).filter((s) => s !== '');
    if (outs.length === 0) return undefined;
    const name = rng.pick(outs);
    const rank = rng.range(0, 5);
    graph.valueInfo = [...(graph.valueInfo ?? []), {
      name,
      type: { tensorType: { elemType: rng.pick([1, 6, 7, 9, 11]), shape: { dim: Array.from({ length: rank }, () => ({ dimValue: int64(rng.range(1, 7)) })) } } },
    }];
    return `value_info ${name} declared with rank ${rank}`;
  },
};

const PROTO_KINDS = Object.keys(PROTO_MUTATORS);

function elementCount(t: onnx.ITensorProto): number {
  const n = (t.dims ?? []).reduce<number>((a, d) => a * Number(String(d)), 1);
  return Number.isSafeInteger(n) && n >= 0 && n <= 1 << 24 ? n : 0;
}

/** Sets element k of a float32 / int32 / int64 / float64 tensor, in whichever field holds its data. */
function setElement(t: onnx.ITensorProto, k: number, value: bigint | number): void {
  const code = t.dataType ?? 0;
  const width = code === 7 || code === 11 ? 8 : 4;
  if (t.rawData && t.rawData.length >= (k + 1) * width) {
    const raw = Uint8Array.from(t.rawData);
    const view = new DataView(raw.buffer);
    if (code === 7) view.setBigInt64(k * 8, BigInt.asIntN(64, BigInt(value)), true);
    else if (code === 6) view.setInt32(k * 4, Number(BigInt.asIntN(32, BigInt(value))), true);
    else if (code === 11) view.setFloat64(k * 8, Number(value), true);
    else view.setFloat32(k * 4, Number(value), true);
    t.rawData = raw;
    return;
  }
  if (code === 7 && t.int64Data && t.int64Data.length > k) t.int64Data = t.int64Data.map((x, i) => (i === k ? int64(BigInt(value)) : x));
  else if (code === 6 && t.int32Data && t.int32Data.length > k) t.int32Data = t.int32Data.map((x, i) => (i === k ? Number(BigInt.asIntN(32, BigInt(value))) : x));
  else if (code === 11 && t.doubleData && t.doubleData.length > k) t.doubleData = t.doubleData.map((x, i) => (i === k ? Number(value) : x));
  else if (code === 1 && t.floatData && t.floatData.length > k) t.floatData = t.floatData.map((x, i) => (i === k ? Number(value) : x));
}

/** Mutations that change values (not structure): worth running past the declared shapes. */
const RELAXABLE = new Set(['dim-value', 'dim-rank', 'elem-type', 'attr-int', 'attr-float', 'attr-remove', 'attr-add', 'initializer-data', 'tensor-value', 'constant-value', 'op-type', 'node-input-rewire']);

/**
 * Forgets what the model declares about values other than its inputs: graph outputs keep
 * their elem type and rank but their sizes become unknown (onnx.checker wants a shape on the
 * main graph's outputs), value_info goes (in every subgraph too). Returns whether anything
 * was dropped.
 */
function forgetDeclaredSizes(g: onnx.IGraphProto): boolean {
  let dropped = (g.valueInfo ?? []).length > 0;
  g.valueInfo = [];
  for (const v of g.output ?? []) {
    const shape = v.type?.tensorType?.shape;
    if (shape?.dim?.some((d) => d.dimValue !== null && d.dimValue !== undefined)) {
      shape.dim = shape.dim.map(() => ({}));
      dropped = true;
    }
  }
  for (const n of g.node ?? []) {
    for (const a of n.attribute ?? []) {
      if (a.g) dropped = forgetDeclaredSizes(a.g) || dropped;
      for (const sg of a.graphs ?? []) dropped = forgetDeclaredSizes(sg) || dropped;
    }
  }
  return dropped;
}

/** One byte-level mutation of the serialized model. */
function byteMutation(src: Uint8Array, rng: Rng): { bytes: Uint8Array; kind: string; description: string } {
  const b = Uint8Array.from(src);
  const at = (): number => rng.int(Math.max(1, b.length));
  switch (rng.int(7)) {
    case 0: {
      const flips = rng.range(1, 8);
      for (let i = 0; i < flips; i++) b[at()]! ^= 1 << rng.int(8);
      return { bytes: b, kind: 'byte:flip', description: `${flips} bit flips` };
    }
    case 1: {
      const n = rng.range(1, 16);
      const p = at();
      for (let i = 0; i < n && p + i < b.length; i++) b[p + i] = rng.int(256);
      return { bytes: b, kind: 'byte:random', description: `${n} random bytes at ${p}` };
    }
    case 2: {
      const p = at();
      return { bytes: b.subarray(0, p), kind: 'byte:truncate', description: `truncated to ${p} of ${b.length} bytes` };
    }
    case 3: {
      const p = at();
      const n = rng.range(1, 64);
      const ins = Uint8Array.from({ length: n }, () => rng.int(256));
      return { bytes: concat(b.subarray(0, p), ins, b.subarray(p)), kind: 'byte:insert', description: `${n} bytes inserted at ${p}` };
    }
    case 4: {
      const p = at();
      const n = rng.range(1, 64);
      return { bytes: concat(b.subarray(0, p), b.subarray(p + n)), kind: 'byte:delete', description: `${n} bytes deleted at ${p}` };
    }
    case 5: {
      const p = at();
      const n = rng.range(1, 256);
      const chunk = b.subarray(p, p + n);
      return { bytes: concat(b.subarray(0, p + chunk.length), chunk, b.subarray(p + chunk.length)), kind: 'byte:duplicate', description: `${chunk.length} bytes at ${p} duplicated` };
    }
    default: {
      // An overlong varint (a length or an int64 far too large).
      const p = at();
      const ff = Uint8Array.from({ length: rng.range(5, 10) }, () => 0xff);
      return { bytes: concat(b.subarray(0, p), ff, Uint8Array.of(0x01), b.subarray(p + 1)), kind: 'byte:varint', description: `overlong varint at ${p}` };
    }
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The fraction of mutants made at the byte level. */
const BYTE_LEVEL = 0.25;

/** One mutant of `src` (a serialized ModelProto), chosen by `rng`. */
export function mutate(src: Uint8Array, rng: Rng): Mutant {
  if (rng.chance(BYTE_LEVEL)) return byteMutation(src, rng);
  const model = onnx.ModelProto.decode(src);
  const sites = model.graph ? graphsOf(model.graph, 'graph', []) : [];
  for (let attempt = 0; attempt < 20; attempt++) {
    const kind = rng.pick(PROTO_KINDS);
    // Subgraph bodies are mutated in a quarter of the mutants that have them.
    const site = sites.length > 1 && rng.chance(0.25) ? rng.pick(sites.slice(1)) : sites[0];
    if (!site && kind !== 'opset' && kind !== 'ir-version') continue;
    const description = PROTO_MUTATORS[kind]!(model, site ?? { graph: {}, path: 'graph' }, rng);
    if (description === undefined) continue;
    const where = site && site.path !== 'graph' ? ` (in ${site.path})` : '';
    // Half the value-changing mutants drop the declared shapes downstream, so that the model
    // stays consistent and the change reaches shape inference, lowering and codegen instead
    // of stopping at a declared shape that contradicts it.
    const relaxed = RELAXABLE.has(kind) && rng.chance(0.5) && model.graph ? forgetDeclaredSizes(model.graph) : false;
    return { bytes: onnx.ModelProto.encode(model).finish(), kind: `proto:${kind}${relaxed ? '+relaxed' : ''}`, description: `${description}${where}${relaxed ? ' (declared output sizes dropped)' : ''}` };
  }
  return byteMutation(src, rng);
}

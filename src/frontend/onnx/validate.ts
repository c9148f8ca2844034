/**
 * Model validation at import, as onnx.checker and onnxruntime do it, before any node is
 * converted: IR version and opset imports within bounds; graph names in SSA form (unique
 * across inputs, initializers and node outputs, each defined before it is used, outer
 * scopes visible inside subgraphs); every node against its operator's schema (arity,
 * required inputs and outputs, attribute names, types and well-formed payloads, required
 * attributes); tensors whose data agrees with their dims and dtype. Element types of node
 * inputs are checked against the schema's type constraints while converting (types of
 * intermediate values come from the op registry's shape rules), and the types a model
 * declares for its outputs and value_info against the inferred ones after converting.
 *
 * Node errors are `NodeError`s naming the node, op and opset; graph errors are
 * `OnnxFormatError`s naming the graph and the field.
 */
import { type DType, dtypeBytes, dtypeFromOnnx } from '../../runtime/dtype.js';
import { type Origin, type TensorType, NodeError, originToString } from '../../graph/ir.js';
import { LimitError } from '../../runtime/error.js';
import {
  type OnnxIAttributeProto, type OnnxIGraphProto, type OnnxIModelProto, type OnnxINodeProto, type OnnxITensorProto,
  type OnnxITypeProto, type OnnxIValueInfoProto, OnnxFormatError, int64ToBigInt, onnx, onnxDataTypeName,
} from './proto.js';
import {
  type OpSchema, type SchemaAttrType, allowedTypes, arityText, formalAt, maxKnownOpset, resolveSchema, schemaAttribute, schemaTypeName,
} from './schema.js';

/** The newest IR version Tessera reads (onnx 1.16/1.17; newer files add fields Tessera would ignore). */
export const MAX_IR_VERSION = 11;

/**
 * Subgraphs (If branches, Loop and Scan bodies) nest at most this deep: validation and
 * conversion recurse once per level (about 1 KiB of the engine's stack each; near 1000 levels
 * overflowed), so deeper models are refused with a LimitError naming the node.
 */
export const MAX_SUBGRAPH_DEPTH = 256;

/** The opset version a model imports for each domain ('' is ai.onnx; 'ai.onnx' is folded into it). */
export type Opsets = ReadonlyMap<string, number>;

/** Operator domains whose schemas Tessera knows (the ONNX spec's own). */
const SCHEMA_DOMAINS = new Set(['', 'ai.onnx.preview', 'ai.onnx.preview.training']);

const normalizeDomain = (d: string | null | undefined): string => (d === 'ai.onnx' ? '' : d ?? '');

function modelError(reason: string): OnnxFormatError {
  return new OnnxFormatError(`not a valid ONNX model: ${reason}`);
}

/** Validates a decoded model; returns the opsets it imports. */
export function validateModel(model: OnnxIModelProto): Opsets {
  const ir = int64ToBigInt(model.irVersion);
  if (ir < 1n) throw modelError('ir_version is not set');
  if (ir > BigInt(MAX_IR_VERSION)) throw modelError(`ir_version ${ir} is newer than Tessera reads (at most ${MAX_IR_VERSION})`);
  const opsets = new Map<string, number>();
  for (const o of model.opsetImport ?? []) {
    const domain = normalizeDomain(o.domain);
    const label = domain || 'ai.onnx';
    const v = int64ToBigInt(o.version);
    if (v < 1n) throw modelError(`opset_import: version ${v} of domain '${label}' is not a valid opset`);
    // Imported twice at one version is harmless (onnx.checker and onnxruntime accept it); at two, ambiguous.
    const before = opsets.get(domain);
    if (before !== undefined && BigInt(before) !== v) throw modelError(`opset_import lists domain '${label}' twice, at versions ${before} and ${v}`);
    const max = maxKnownOpset(domain);
    if (max !== undefined && v > BigInt(max)) {
      throw modelError(`opset_import: version ${v} of domain '${label}' is newer than any Tessera knows (at most ${max})`);
    }
    // Domains without schemas (ai.onnx.ml, vendors' domains) are fine to import; their nodes are refused when converted.
    opsets.set(domain, v > 1_000_000n ? 1_000_000 : Number(v));
  }
  if (ir < 3n && opsets.size > 0) throw modelError(`ir_version ${ir} predates opset_import (IR version 3), yet the model lists one`);
  if (opsets.size === 0) {
    if (ir >= 3n) throw modelError(`opset_import is empty; IR version ${ir} requires it`);
    opsets.set('', 1); // IR 1-2 models predate opset imports: opset 1
  }
  const g = model.graph;
  if (!g) throw modelError('it has no graph');
  const ctx: GraphContext = { opsets, ir: Number(ir), main: true, depth: 0 };
  checkGraph(g, g.name || 'main', new Scope(undefined), ctx);
  return opsets;
}

interface GraphContext {
  readonly opsets: Opsets;
  readonly ir: number;
  /** The main graph (its inputs and outputs need full types; a subgraph's may leave them out). */
  readonly main: boolean;
  /** Subgraphs around this graph. */
  readonly depth: number;
}

/** The names visible in a graph: its own (inputs, initializers, node outputs) and its ancestors'. */
class Scope {
  private readonly names = new Map<string, string>();
  constructor(readonly parent: Scope | undefined) {}
  /** What defines `name` here or in an enclosing graph. */
  lookup(name: string): string | undefined {
    return this.names.get(name) ?? this.parent?.lookup(name);
  }
  hasHere(name: string): boolean {
    return this.names.has(name);
  }
  define(name: string, what: string): void {
    this.names.set(name, what);
  }
}

function checkGraph(g: OnnxIGraphProto, path: string, scope: Scope, ctx: GraphContext): void {
  const fail = (reason: string): never => {
    throw modelError(`graph '${path}': ${reason}`);
  };
  const inputs = new Map<string, OnnxIValueInfoProto>();
  for (const vi of g.input ?? []) {
    const name = vi.name ?? '';
    if (!name) fail('a graph input has no name');
    if (scope.hasHere(name)) fail(`graph input '${name}' is listed twice`);
    checkValueType(vi.type, `graph input '${name}'`, ctx.main, fail);
    scope.define(name, 'a graph input');
    inputs.set(name, vi);
  }
  const initializers = new Set<string>();
  for (const init of g.initializer ?? []) {
    const name = init.name ?? '';
    if (!name) fail('an initializer has no name');
    if (initializers.has(name)) fail(`initializer '${name}' is listed twice`);
    initializers.add(name);
    checkTensor(init, `initializer '${name}'`, fail);
    const declared = inputs.get(name);
    if (declared) checkInitializerInput(init, declared, fail);
    if (ctx.ir <= 3 && !scope.hasHere(name)) fail(`initializer '${name}' is not a graph input (IR version ${ctx.ir} requires initializers to be graph inputs)`);
    if (!scope.hasHere(name)) scope.define(name, 'an initializer');
  }
  if ((g.sparseInitializer?.length ?? 0) > 0) fail('sparse initializers are not supported');
  const producers = new Map<string, string>();
  (g.node ?? []).forEach((node, index) => {
    for (const o of node.output ?? []) if (o && !producers.has(o)) producers.set(o, nodeLabel(node, index));
  });
  (g.node ?? []).forEach((node, index) => checkNode(node, index, path, scope, producers, ctx));
  for (const vo of g.output ?? []) {
    const name = vo.name ?? '';
    if (!name) fail('a graph output has no name');
    if (!scope.hasHere(name)) {
      fail(scope.lookup(name)
        ? `graph output '${name}' is a value of an enclosing graph; a graph's outputs must be its own values`
        : `graph output '${name}' is not produced by any node, graph input or initializer`);
    }
    checkValueType(vo.type, `graph output '${name}'`, ctx.main, fail);
  }
}

function nodeLabel(node: OnnxINodeProto, index: number): string {
  return `'${node.name || `${node.opType}_${index}`}' (${node.opType})`;
}

/** A graph input's or output's declared type: a tensor with an element type and a shape. */
/**
 * A graph input's or output's declared type. The main graph's need a tensor type with an
 * element type and a shape (its rank; sizes may be unknown), as onnx.checker requires.
 */
function checkValueType(t: OnnxITypeProto | null | undefined, what: string, main: boolean, fail: (r: string) => never): void {
  if (!t) {
    if (main) fail(`${what} has no type`);
    return;
  }
  if (t.sequenceType || t.mapType || t.optionalType || t.sparseTensorType) fail(`${what}: only tensor types are supported (it is a ${t.sequenceType ? 'sequence' : t.mapType ? 'map' : t.optionalType ? 'optional' : 'sparse tensor'})`);
  const tt = t.tensorType;
  if (!tt) {
    if (main) fail(`${what} has no tensor type`);
    return;
  }
  if (!tt.elemType) {
    if (main) fail(`${what} has no element type`);
    return;
  }
  if (!dtypeFromOnnx(tt.elemType)) fail(`${what}: element type ${onnxDataTypeName(tt.elemType)} is not supported`);
  if (!tt.shape) {
    if (main) fail(`${what} has no shape (a scalar has a shape with no dims; unknown sizes are dim_params)`);
    return;
  }
  (tt.shape.dim ?? []).forEach((d, i) => {
    if (d.dimValue !== undefined && d.dimValue !== null && int64ToBigInt(d.dimValue) < 0n) {
      fail(`${what}: dim ${int64ToBigInt(d.dimValue)} at axis ${i} is negative (an unknown size is a dim_param)`);
    }
  });
}

function checkNode(node: OnnxINodeProto, index: number, path: string, scope: Scope, producers: ReadonlyMap<string, string>, ctx: GraphContext): void {
  const opType = node.opType ?? '';
  const domain = normalizeDomain(node.domain);
  const opset = ctx.opsets.get(domain);
  const name = node.name || `${opType}_${index}`;
  const origin: Origin = { name: ctx.main ? name : `${path}/${name}`, opType, opset: opset ?? 0, ...(domain ? { domain } : {}) };
  const fail = (reason: string): never => {
    throw new NodeError(origin, opType, reason);
  };
  if (!opType) fail('op_type is empty');
  const inputs = node.input ?? [];
  const outputs = node.output ?? [];
  if (inputs.length === 0 && outputs.length === 0) fail('the node has no inputs and no outputs');
  if (opset === undefined) fail(`domain '${domain}' is not in the model's opset_import`);
  inputs.forEach((input, i) => {
    if (!input || scope.lookup(input)) return;
    const later = producers.get(input);
    fail(later
      ? `input ${i} '${input}' is produced by a later node ${later}: nodes must be in topological order`
      : `input ${i} '${input}' is not defined (not a graph input, an initializer or an output of an earlier node)`);
  });

  const schema = SCHEMA_DOMAINS.has(domain) ? resolveSchema(domain, opType, opset!) : undefined;
  if (schema && 'reason' in schema) fail(schema.reason);
  const attrs = node.attribute ?? [];
  const seen = new Set<string>();
  for (const a of attrs) {
    const an = a.name ?? '';
    if (!an) fail('an attribute has no name');
    if (seen.has(an)) fail(`attribute '${an}' is given twice`);
    seen.add(an);
    checkAttribute(a, schema as OpSchema | undefined, ctx, fail);
    for (const sub of a.g ? [a.g] : a.graphs ?? []) {
      if (ctx.depth >= MAX_SUBGRAPH_DEPTH) {
        // The node's name is its path through the subgraphs around it: shortened in the middle.
        const short = origin.name.length > 160 ? `${origin.name.slice(0, 60)}…${origin.name.slice(-80)}` : origin.name;
        throw new LimitError(`${originToString({ ...origin, name: short })}: its subgraph '${an}' would nest ${ctx.depth + 1} levels deep; `
          + `at most ${MAX_SUBGRAPH_DEPTH} nested subgraphs are supported`);
      }
      checkGraph(sub, `${origin.name}/${an}`, new Scope(scope), { ...ctx, main: false, depth: ctx.depth + 1 });
    }
  }
  if (schema) checkArity(schema as OpSchema, inputs, outputs, seen, fail);

  outputs.forEach((o, i) => {
    if (!o) return;
    if (outputs.indexOf(o) !== i) fail(`output '${o}' is listed twice`);
    const defined = scope.lookup(o);
    if (defined) fail(`output '${o}' is already defined (by ${defined}): a name is assigned once (SSA)`);
    scope.define(o, `node ${nodeLabel(node, index)}`);
  });
}

function checkArity(schema: OpSchema, inputs: readonly string[], outputs: readonly string[], attrs: ReadonlySet<string>, fail: (r: string) => never): void {
  const [inMin, inMax] = schema.inputs;
  if (inputs.length < inMin || (inMax >= 0 && inputs.length > inMax)) {
    fail(`it has ${inputs.length} input${inputs.length === 1 ? '' : 's'}; ${schema.label} takes ${arityText(schema.inputs)} (${formalList(schema.in)})`);
  }
  inputs.forEach((input, i) => {
    const f = formalAt(schema.in, i);
    if (!input && f && f[1] !== '?') fail(`input ${i} ('${f[0]}') of ${schema.label} is required but empty`);
  });
  const [outMin, outMax] = schema.outputs;
  if (outputs.length < outMin || (outMax >= 0 && outputs.length > outMax)) {
    fail(`it has ${outputs.length} output${outputs.length === 1 ? '' : 's'}; ${schema.label} produces ${arityText(schema.outputs)} (${formalList(schema.out)})`);
  }
  outputs.forEach((o, i) => {
    const f = formalAt(schema.out, i);
    if (!o && f && f[1] === '') fail(`output ${i} ('${f[0]}') of ${schema.label} is required but empty`);
  });
  for (const [an] of Object.entries(schema.attrs)) {
    if (schemaAttribute(schema, an)!.required && !attrs.has(an)) fail(`required attribute '${an}' of ${schema.label} is missing`);
  }
}

function formalList(formals: OpSchema['in']): string {
  if (formals.length === 0) return 'none';
  return formals.map(([n, o]) => (o === '?' ? `${n}?` : o ? `${n}...` : n)).join(', ');
}

const T = onnx.AttributeProto.AttributeType;

/** The attribute type code behind each schema type name. */
const ATTR_TYPE_CODE: Record<SchemaAttrType, number> = {
  float: T.FLOAT, int: T.INT, string: T.STRING, tensor: T.TENSOR, graph: T.GRAPH, sparse_tensor: T.SPARSE_TENSOR,
  type_proto: T.TYPE_PROTO, floats: T.FLOATS, ints: T.INTS, strings: T.STRINGS, tensors: T.TENSORS, graphs: T.GRAPHS,
  sparse_tensors: T.SPARSE_TENSORS, type_protos: T.TYPE_PROTOS,
};
const ATTR_TYPE_NAME = new Map(Object.entries(ATTR_TYPE_CODE).map(([k, v]) => [v, k.toUpperCase()]));

/** Each value field of AttributeProto and the type whose payload it is. */
const ATTR_FIELDS: readonly (readonly [keyof OnnxIAttributeProto, number, boolean])[] = [
  ['f', T.FLOAT, false], ['i', T.INT, false], ['s', T.STRING, false], ['t', T.TENSOR, false], ['g', T.GRAPH, false],
  ['sparseTensor', T.SPARSE_TENSOR, false], ['tp', T.TYPE_PROTO, false], ['floats', T.FLOATS, true], ['ints', T.INTS, true],
  ['strings', T.STRINGS, true], ['tensors', T.TENSORS, true], ['graphs', T.GRAPHS, true], ['sparseTensors', T.SPARSE_TENSORS, true],
  ['typeProtos', T.TYPE_PROTOS, true],
];

function checkAttribute(a: OnnxIAttributeProto, schema: OpSchema | undefined, ctx: GraphContext, fail: (r: string) => never): void {
  const name = a.name ?? '';
  const populated = ATTR_FIELDS.filter(([field, , repeated]) => {
    const v = a[field];
    if (repeated) return Array.isArray(v) && v.length > 0;
    return Object.prototype.hasOwnProperty.call(a, field) && v !== null && v !== undefined;
  });
  if (populated.length > 1) fail(`attribute '${name}' holds more than one value (${populated.map(([f]) => f).join(', ')})`);
  const declared = a.type ?? 0;
  if (declared === 0 && ctx.ir >= 2) fail(`attribute '${name}' has no type (IR version ${ctx.ir} requires it)`);
  if (declared !== 0 && !ATTR_TYPE_NAME.has(declared)) fail(`attribute '${name}' has an unknown type ${declared}`);
  const field = populated[0];
  if (declared !== 0 && field && field[1] !== declared) {
    fail(`attribute '${name}' is of type ${ATTR_TYPE_NAME.get(declared)} but holds its value in field '${field[0]}'`);
  }
  const type = declared || field?.[1];
  if (schema) {
    const s = schemaAttribute(schema, name);
    if (!s) {
      const known = Object.keys(schema.attrs);
      fail(`${schema.label} has no attribute '${name}' (${known.length ? `its attributes: ${known.join(', ')}` : 'it takes none'})`);
    }
    if (type !== undefined && type !== ATTR_TYPE_CODE[s!.type]) {
      fail(`attribute '${name}' is ${ATTR_TYPE_NAME.get(type)}, ${schema.label} defines it as ${s!.type.toUpperCase()}`);
    }
  }
  if (a.t) checkTensor(a.t, `attribute '${name}'`, fail);
  for (const t of a.tensors ?? []) checkTensor(t, `attribute '${name}'`, fail);
}

/** The typed field each dtype's data lives in (when raw_data is not used), as the spec assigns them. */
const TENSOR_FIELDS = ['floatData', 'int32Data', 'stringData', 'int64Data', 'rawData', 'doubleData', 'uint64Data'] as const;

/** A tensor's dtype is set, it holds its data in one field, and that data has as many elements as its dims. */
/** A graph input that an initializer gives a default: its declared type must describe the initializer. */
function checkInitializerInput(t: OnnxITensorProto, vi: OnnxIValueInfoProto, fail: (r: string) => never): void {
  const tt = vi.type?.tensorType;
  if (!tt) return; // a graph input without a tensor type was refused (main graph) or takes the initializer's
  const name = t.name ?? '';
  const code = t.dataType ?? 0;
  if ((tt.elemType ?? 0) !== 0 && tt.elemType !== code) {
    fail(`graph input '${name}' is declared ${onnxDataTypeName(tt.elemType ?? 0)}, but its initializer is ${onnxDataTypeName(code)}`);
  }
  const dims = tt.shape?.dim;
  if (!dims) return;
  const have = (t.dims ?? []).map((d) => int64ToBigInt(d));
  const text = (): string => `[${dims.map((d) => (d.dimParam ? d.dimParam : d.dimValue !== null && d.dimValue !== undefined ? String(int64ToBigInt(d.dimValue)) : '?')).join(', ')}]`;
  if (dims.length !== have.length) fail(`graph input '${name}' is declared with shape ${text()}, but its initializer has shape [${have.join(', ')}]`);
  dims.forEach((d, i) => {
    if (d.dimValue !== null && d.dimValue !== undefined && !d.dimParam && int64ToBigInt(d.dimValue) !== have[i]) {
      fail(`graph input '${name}' is declared with shape ${text()}, but its initializer has shape [${have.join(', ')}]`);
    }
  });
}

function checkTensor(t: OnnxITensorProto, what: string, fail: (r: string) => never): void {
  const code = t.dataType ?? 0;
  if (code === 0) fail(`${what}: data_type is not set`);
  const fields = TENSOR_FIELDS.filter((f) => (t[f]?.length ?? 0) > 0);
  if (fields.length > 1) fail(`${what}: data is given in more than one field (${fields.join(', ')})`);
  let count = 1n;
  (t.dims ?? []).forEach((d, i) => {
    const n = int64ToBigInt(d);
    if (n < 0n) fail(`${what}: dim ${n} at axis ${i} is negative`);
    count *= n;
  });
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) return; // sized against its file when read
  const dtype = dtypeFromOnnx(code);
  const field = fields[0];
  if (!dtype || !field) return; // unsupported dtypes are refused when converted; an empty tensor is checked below
  const have = field === 'rawData' ? BigInt(t.rawData!.length) : BigInt(t[field]!.length);
  const width = field === 'rawData' ? BigInt(dtypeBytes(dtype)) : 1n;
  if (have !== count * width) {
    fail(`${what}: ${field === 'rawData' ? 'raw_data has' : `${field} has`} ${have} ${field === 'rawData' ? 'bytes' : 'values'}, `
      + `but ${dtype}[${(t.dims ?? []).map((d) => int64ToBigInt(d)).join(', ')}] needs ${count * width}`);
  }
}

/**
 * Element types of a node's inputs against its schema's type constraints: each input's type
 * is one its formal allows, and inputs bound to one type parameter share it.
 */
export function checkInputTypes(schema: OpSchema, types: readonly (TensorType | null)[], fail: (r: string) => never): void {
  const bound = new Map<string, { dtype: DType; input: number }>();
  types.forEach((t, i) => {
    if (!t) return;
    const f = formalAt(schema.in, i);
    if (!f) return;
    const [formal, option, type] = f;
    const allowed = allowedTypes(schema, type);
    const name = schemaTypeName(t.dtype);
    if (allowed.length > 0 && !allowed.includes(name)) {
      fail(`input ${i} ('${formal}') is ${t.dtype}; ${schema.label} allows ${schema.types[type] !== undefined ? `${type} in ` : ''}{${allowed.join(', ')}}`);
    }
    if (option === '+' || schema.types[type] === undefined) return;
    const prev = bound.get(type);
    if (prev && prev.dtype !== t.dtype) {
      fail(`inputs ${prev.input} and ${i} must have the same type ${type}, but are ${prev.dtype} and ${t.dtype}`);
    }
    if (!prev) bound.set(type, { dtype: t.dtype, input: i });
  });
}

/**
 * A declared type (of a graph output or a value_info entry) against the inferred one: the
 * same element type and rank, and the same size wherever both are numbers.
 */
export function declaredTypeConflict(declared: OnnxITypeProto | null | undefined, inferred: TensorType): string | undefined {
  const tt = declared?.tensorType;
  if (!tt) return undefined;
  if (tt.elemType) {
    const dtype = dtypeFromOnnx(tt.elemType);
    if (dtype !== inferred.dtype) return `element type ${dtype ?? onnxDataTypeName(tt.elemType)}`;
  }
  if (!tt.shape) return undefined;
  const dims = tt.shape.dim ?? [];
  if (dims.length !== inferred.shape.length) return `rank ${dims.length}`;
  for (let i = 0; i < dims.length; i++) {
    const d = dims[i]!;
    if (d.dimParam || d.dimValue === undefined || d.dimValue === null) continue;
    const v = int64ToBigInt(d.dimValue);
    const have = inferred.shape[i];
    if (typeof have === 'number' && BigInt(have) !== v) return `size ${v} at axis ${i}`;
  }
  return undefined;
}

/** `float32[1, 10]` for a declared tensor type (for messages). */
export function declaredTypeText(t: OnnxITypeProto): string {
  const tt = t.tensorType!;
  const dtype = tt.elemType ? dtypeFromOnnx(tt.elemType) ?? onnxDataTypeName(tt.elemType) : '?';
  if (!tt.shape) return `${dtype}[?]`;
  return `${dtype}[${(tt.shape.dim ?? []).map((d) => d.dimParam || (d.dimValue !== undefined && d.dimValue !== null ? String(int64ToBigInt(d.dimValue)) : '?')).join(', ')}]`;
}

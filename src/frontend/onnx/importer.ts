/**
 * ONNX → graph IR. Decodes the model (proto.ts), binds initializers as constants,
 * types the graph inputs (symbolic dims stay symbolic), then converts node by node
 * through the opset-aware converter table. Errors name the node, op and opset.
 */
import { dirname } from 'node:path';
import { readFileSync } from 'node:fs';
import { type DType, dtypeFromOnnx } from '../../runtime/dtype.js';
import { GraphBuilder } from '../../graph/builder.js';
import { type Attrs, type Dim, type Graph, type Origin, type TensorType, NodeError, Value, typeToString } from '../../graph/ir.js';
import { OpError } from '../../ops/registry.js';
import type { Tensor } from '../../runtime/tensor.js';
import { evaluateNode, isFoldable } from '../../transform/fold_constant.js';
import '../../ops/index.js';
import './ops/index.js';
import { type ConvertContext, findConverter } from './converter.js';
import {
  type AttributeValue, type OnnxIGraphProto, type OnnxINodeProto, type OnnxITypeProto, type OnnxIValueInfoProto, OnnxFormatError,
  type TensorOptions, attributeValue, decodeModel, int64ToBigInt, onnxDataTypeName, tensorFromProto,
} from './proto.js';
import { LimitError } from '../../runtime/error.js';
import { MAX_ARENA_BYTES, bytesText } from '../../runtime/limits.js';
import { resolveSchema } from './schema.js';
import { type Opsets, checkInputTypes, declaredTypeConflict, declaredTypeText, validateModel } from './validate.js';

export interface ImportOptions {
  /** Directory for external tensor data (defaults to the model file's directory). */
  readonly modelDir?: string;
  /** Concrete sizes for symbolic dims, e.g. { batch: 4 }. */
  readonly dimValues?: Readonly<Record<string, number>>;
  /**
   * Values for graph inputs that a converter needs as constants (a Reshape shape, Slice
   * starts, ... fed at run time): these inputs become constants of the graph.
   */
  readonly inputValues?: Readonly<Record<string, Tensor>>;
  /**
   * The caller gives `bytes` up to the import: constants may stay in place in it as views
   * (raw_data aligned in place) instead of being copied. Importing a file does this.
   */
  readonly ownsBytes?: boolean;
}

/**
 * A converter needs the value of a graph input at compile time (a shape, axes, ...):
 * compile again with it in `inputValues` (InferenceSession does this per distinct value).
 */
export class InputValueNeeded extends NodeError {
  constructor(origin: Origin, op: string, readonly input: string, what: string) {
    super(origin, op, `input '${input}' (${what}) is needed as a constant; its value is bound when the model runs`);
    this.name = 'InputValueNeeded';
  }
}

export interface OnnxSignature {
  /** Graph inputs (initializers excluded), with their dims: numbers or symbolic names. */
  readonly inputs: readonly { readonly name: string; readonly dims: readonly Dim[]; readonly dtype?: DType }[];
  readonly outputs: readonly string[];
}

/** An ONNX model's graph inputs and outputs, read without converting it. */
export function onnxSignature(bytes: Uint8Array): OnnxSignature {
  const g = decodeModel(bytes).graph!;
  const inits = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  return {
    inputs: (g.input ?? []).filter((v) => !inits.has(v.name ?? '')).map((v) => ({
      name: v.name ?? '',
      ...(v.type?.tensorType?.elemType ? { dtype: dtypeFromOnnx(v.type.tensorType.elemType) } : {}),
      dims: (v.type?.tensorType?.shape?.dim ?? []).map((d, i) =>
        d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) >= 0 ? Number(d.dimValue) : `${v.name}_d${i}`),
    })),
    outputs: (g.output ?? []).map((v) => v.name ?? ''),
  };
}

export function importOnnxFile(path: string, opts: ImportOptions = {}): Graph {
  return importOnnx(readFileSync(path), { modelDir: dirname(path), ownsBytes: true, ...opts });
}

function tensorOptions(opts: ImportOptions): TensorOptions {
  return { ...(opts.modelDir !== undefined ? { modelDir: opts.modelDir } : {}), ...(opts.ownsBytes ? { ownsBytes: true } : {}) };
}

export interface ImportedModel {
  readonly graph: Graph;
  /** Nodes in the ONNX graph (Constant nodes included). */
  readonly onnxNodes: number;
  readonly opset: number;
  readonly producer: string;
}

export function importOnnx(bytes: Uint8Array, opts: ImportOptions = {}): Graph {
  return importOnnxModel(bytes, opts).graph;
}

export function importOnnxModel(bytes: Uint8Array, opts: ImportOptions = {}): ImportedModel {
  const model = decodeModel(bytes);
  const opsets = validateModel(model);
  const g = model.graph!;
  const producer = `${model.producerName ?? ''} ${model.producerVersion ?? ''}`.trim();
  return { graph: importGraph(g, opsets, opts), onnxNodes: g.node?.length ?? 0, opset: opsets.get('') ?? 0, producer };
}

function typeOf(t: OnnxITypeProto | null | undefined, what: string, dimValues: Readonly<Record<string, number>>): TensorType {
  const tt = t?.tensorType;
  if (!tt) throw new OnnxFormatError(`${what}: only tensor-typed graph inputs and outputs are supported`);
  const dtype = dtypeFromOnnx(tt.elemType ?? 0);
  if (!dtype) throw new OnnxFormatError(`${what}: unsupported element type ${onnxDataTypeName(tt.elemType ?? 0)}`);
  const shape: Dim[] = (tt.shape?.dim ?? []).map((d, i) => {
    if (d.dimParam) return dimValues[d.dimParam] ?? d.dimParam;
    if (d.dimValue !== undefined && d.dimValue !== null) {
      const v = int64ToBigInt(d.dimValue);
      if (v > BigInt(MAX_ARENA_BYTES)) throw new LimitError(`${what}: dim ${v} at axis ${i} is beyond any tensor Tessera supports (at most ${bytesText(MAX_ARENA_BYTES)} per model)`);
      if (v >= 0n) return Number(v);
    }
    return `${what}_d${i}`;
  });
  return { dtype, shape };
}

function importGraph(g: OnnxIGraphProto, opsets: Opsets, opts: ImportOptions): Graph {
  const b = new GraphBuilder(g.name || 'main');
  const env = new Map<string, Value>();
  const dims = opts.dimValues ?? {};
  for (const init of g.initializer ?? []) {
    const name = init.name ?? '';
    env.set(name, b.constant(tensorFromProto(init, tensorOptions(opts)), name));
  }
  for (const vi of g.input ?? []) {
    const name = vi.name ?? '';
    if (env.has(name)) continue; // an initializer with a default value: treated as a constant
    const type = typeOf(vi.type, `graph input '${name}'`, dims);
    const bound = opts.inputValues?.[name];
    if (bound) {
      if (bound.type !== type.dtype || bound.dims.length !== type.shape.length || bound.dims.some((d, i) => typeof type.shape[i] === 'number' && d !== type.shape[i])) {
        throw new OnnxFormatError(`value for graph input '${name}' is ${bound.type}[${bound.dims.join(', ')}], the model declares ${type.dtype}[${type.shape.join(', ')}]`);
      }
      env.set(name, b.constant(bound, name));
      continue;
    }
    env.set(name, b.input(name, type));
  }
  (g.node ?? []).forEach((node, index) => convertNode(node, index, opsets, env, b, opts));
  checkDeclaredTypes(g, g.name || 'main', env);
  for (const vo of g.output ?? []) {
    const name = vo.name ?? '';
    const v = env.get(name);
    if (!v) throw new OnnxFormatError(`graph output '${name}' is not produced by any node`);
    b.output(v, name);
  }
  return b.build();
}

/**
 * Shape-computing subgraphs resolve while importing: a node whose inputs are all
 * constants is evaluated at once (with the compiler's own generated code) and its
 * outputs become constants, so later converters that need a constant input (a Reshape
 * shape, Slice starts, ...) find one.
 */
function foldAtImport(b: GraphBuilder, outs: Value[]): Value[] {
  const node = b.lastNode();
  if (!isFoldable(node) || node.outputs !== outs) return outs;
  const inputs = node.inputs.map((v) => (v ? b.constantOf(v) : null));
  if (inputs.some((t) => t === undefined)) return outs;
  if (outs.some((o) => o.type.shape.some((d) => typeof d !== 'number'))) return outs;
  const values = evaluateNode(node, inputs as (Tensor | null)[]);
  b.removeLastNode();
  return outs.map((o, i) => b.constant(values[i]!, o.name));
}

/** The names a graph's nodes see. */
interface Env {
  get(name: string): Value | undefined;
  set(name: string, v: Value): void;
  has(name: string): boolean;
}

/** A subgraph's names, then (ONNX's outer scope) those of the graphs around it, without copying them. */
class SubgraphEnv implements Env {
  private readonly own = new Map<string, Value>();
  constructor(private readonly outer: Env) {}
  get(name: string): Value | undefined {
    return this.own.get(name) ?? this.outer.get(name);
  }
  set(name: string, v: Value): void {
    this.own.set(name, v);
  }
  has(name: string): boolean {
    return this.own.has(name) || this.outer.has(name);
  }
}

/**
 * Converts a subgraph (If branch, Loop/Scan body) inline into the enclosing graph: its
 * inputs are bound to `values`, outer-scope names stay visible, its nodes become nodes
 * of the builder's graph. Returns its outputs.
 */
function convertSubgraph(g: OnnxIGraphProto, values: readonly Value[], prefix: string, opsets: Opsets, outer: Env, b: GraphBuilder, opts: ImportOptions): Value[] {
  const env = new SubgraphEnv(outer);
  for (const init of g.initializer ?? []) env.set(init.name ?? '', b.constant(tensorFromProto(init, tensorOptions(opts))));
  const inputs = g.input ?? [];
  if (inputs.length !== values.length) throw new OnnxFormatError(`subgraph ${prefix} has ${inputs.length} inputs, given ${values.length}`);
  inputs.forEach((vi, i) => env.set(vi.name ?? '', values[i]!));
  (g.node ?? []).forEach((node, index) => convertNode({ ...node, name: `${prefix}/${node.name || `${node.opType}_${index}`}` }, index, opsets, env, b, opts));
  checkDeclaredTypes(g, prefix, env);
  return (g.output ?? []).map((vo) => {
    const v = env.get(vo.name ?? '');
    if (!v) throw new OnnxFormatError(`subgraph ${prefix}: output '${vo.name}' is not produced`);
    return v;
  });
}

/**
 * The declared types of a graph's outputs and value_info entries against the types
 * inferred while converting: a contradiction names both.
 */
function checkDeclaredTypes(g: OnnxIGraphProto, path: string, env: Env): void {
  const check = (vi: OnnxIValueInfoProto, what: string): void => {
    const v = env.get(vi.name ?? '');
    if (!v || !vi.type) return;
    const conflict = declaredTypeConflict(vi.type, v.type);
    if (conflict) {
      throw new OnnxFormatError(`not a valid ONNX model: graph '${path}': ${what} '${vi.name}' is declared ${declaredTypeText(vi.type)}, `
        + `but the model computes ${typeToString(v.type)} (the ${conflict} differs)`);
    }
  };
  for (const vo of g.output ?? []) check(vo, 'graph output');
  for (const vi of g.valueInfo ?? []) check(vi, 'value_info');
}

/** Operator domains besides ai.onnx that have converters (registered as `${domain}.${opType}`). */
const EXTRA_DOMAINS: ReadonlySet<string> = new Set(['ai.onnx.preview.training']);

function convertNode(node: OnnxINodeProto, index: number, opsets: Opsets, env: Env, b: GraphBuilder, opts: ImportOptions): void {
  const opType = node.opType ?? '';
  const domain = node.domain === 'ai.onnx' ? '' : node.domain ?? '';
  const opset = opsets.get(domain) ?? 0;
  const origin: Origin = { name: node.name || `${opType}_${index}`, opType, opset, ...(domain ? { domain } : {}) };
  if (domain !== '' && !EXTRA_DOMAINS.has(domain)) throw new NodeError(origin, opType, `operator domain '${domain}' is not supported`);
  const entry = findConverter(domain ? `${domain}.${opType}` : opType, opset, origin);
  const schema = resolveSchema(domain, opType, opset);
  if ('reason' in schema) throw new NodeError(origin, opType, schema.reason);
  const attrs = new Map<string, AttributeValue>();
  for (const a of node.attribute ?? []) {
    const name = a.name ?? '';
    if (!entry.attrs.has(name)) throw new NodeError(origin, opType, `attribute '${name}' of ${schema.label} is not supported by Tessera`);
    try {
      attrs.set(name, attributeValue(a, tensorOptions(opts)));
    } catch (e) {
      if (e instanceof OnnxFormatError) throw new NodeError(origin, opType, e.message);
      throw e;
    }
  }
  const inputs = (node.input ?? []).map((name) => {
    if (name === '') return null;
    const v = env.get(name);
    if (!v) throw new NodeError(origin, opType, `input '${name}' is not defined before this node`);
    return v;
  });
  const outputNames = node.output ?? [];
  const fail = (reason: string): never => { throw new NodeError(origin, opType, reason); };
  checkInputTypes(schema, inputs.map((v) => v?.type ?? null), fail);
  const get = (name: string): AttributeValue | undefined => attrs.get(name);
  const num = (name: string, kind: 'int' | 'float', dflt?: number): number => {
    const a = get(name);
    if (!a) return dflt ?? fail(`missing required attribute '${name}'`);
    if (a.kind === 'float') return a.value;
    if (a.kind === 'int') {
      // Beyond ±(2^53-1) an int arrives as ±Infinity: no scalar attribute means that.
      return Number.isFinite(a.value) ? a.value : fail(`attribute '${name}' is ${exactInts(name)[0]}, beyond the integers Tessera handles (±(2^53-1))`);
    }
    return fail(`attribute '${name}' must be ${kind === 'int' ? 'an int' : 'a float'}, got ${a.kind}`);
  };
  /** An int or ints attribute's exact int64 values (the decoded numbers saturate beyond 2^53). */
  const exactInts = (name: string): bigint[] => {
    const a = (node.attribute ?? []).find((x) => x.name === name);
    if (!a) return fail(`missing required attribute '${name}'`);
    return (attrs.get(name)?.kind === 'ints' ? a.ints ?? [] : [a.i]).map((v) => int64ToBigInt(v));
  };
  const list = (name: string, dflt?: readonly number[]): readonly number[] => {
    const a = get(name);
    if (!a) return dflt ?? fail(`missing required attribute '${name}'`);
    if (a.kind === 'ints' || a.kind === 'floats') return a.value;
    return fail(`attribute '${name}' must be a list, got ${a.kind}`);
  };
  const ctx: ConvertContext = {
    origin, opset, inputs, outputNames, builder: b,
    input: (i) => inputs[i] ?? fail(`required input ${i} is missing`),
    constInput: (i) => {
      const v = inputs[i];
      return v ? b.constantOf(v) : undefined;
    },
    requireConstInput: (i, what) => {
      const v = inputs[i];
      if (!v) return fail(`input ${i} (${what}) is required`);
      const t = b.constantOf(v);
      if (t) return t;
      if (b.isInput(v)) throw new InputValueNeeded(origin, opType, v.name, what);
      // Computed only from graph inputs and constants (a shape subgraph): bind those inputs.
      const behind = b.graphInputsBehind(v);
      if (behind.length > 0) throw new InputValueNeeded(origin, opType, behind[0]!.name, `${what}, computed from it`);
      return fail(`input ${i} (${what}) must be a constant (an initializer, a Constant node, a graph input, or computed from those); a value computed at run time is not supported`);
    },
    has: (name) => attrs.has(name),
    int: (name, dflt) => num(name, 'int', dflt),
    float: (name, dflt) => num(name, 'float', dflt),
    string: (name, dflt) => {
      const a = get(name);
      if (!a) return dflt ?? fail(`missing required attribute '${name}'`);
      return a.kind === 'string' ? a.value : fail(`attribute '${name}' must be a string, got ${a.kind}`);
    },
    ints: list,
    int64s: exactInts,
    floats: list,
    tensor: (name) => {
      const a = get(name);
      return a?.kind === 'tensor' ? a.value : fail(`attribute '${name}' must be a tensor`);
    },
    raw: get,
    subgraph: (attr, values) => {
      const a = get(attr);
      if (!a || a.kind !== 'graph') return fail(`attribute '${attr}' must be a graph`);
      return convertSubgraph(a.value, values, `${origin.name}/${attr}`, opsets, env, b, opts);
    },
    op: (op: string, ins: readonly (Value | null)[], at: Attrs = {}, final = false): Value[] => {
      try {
        const outs = b.op(op, ins, at, origin, final ? outputNames : undefined);
        return foldAtImport(b, outs);
      } catch (e) {
        if (e instanceof OpError) throw new NodeError(origin, op, e.message);
        throw e;
      }
    },
    constant: (t) => b.constant(t, outputNames[0] || undefined),
    fail,
  };
  const outs = entry.convert(ctx);
  outs.forEach((v, i) => {
    const name = outputNames[i];
    if (name && v) env.set(name, v);
  });
}

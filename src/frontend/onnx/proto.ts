/**
 * The ONNX protobuf boundary. This is the only file that imports `onnx-proto`
 * (protobufjs static code generated from onnx.proto); the rest of the frontend
 * uses the type aliases and the decoding helpers exported here.
 *
 * protobufjs uses camelCase field names (`rawData`, `dataType`, `int64Data`,
 * ...) and represents int64/uint64 fields as `Long` objects (or plain numbers
 * when a message was built by hand). Everything that leaves this file is
 * converted to plain numbers, bigints and `Tensor`s.
 */
import { TesseraError } from '../../runtime/error.js';
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import onnxProto from 'onnx-proto';
import { type DType, type TypedArray, allocArray, dtypeBytes, dtypeFromOnnx, dtypeToOnnx, viewArray } from '../../runtime/dtype.js';
import { Tensor, shapeSize } from '../../runtime/tensor.js';

/** The generated protobuf namespace (runtime value and types): `onnx.ModelProto.decode`, `onnx.TensorProto.DataType`, ... */
export import onnx = onnxProto.onnx;

export type OnnxModelProto = onnx.ModelProto;
export type OnnxGraphProto = onnx.GraphProto;
export type OnnxNodeProto = onnx.NodeProto;
export type OnnxAttributeProto = onnx.AttributeProto;
export type OnnxTensorProto = onnx.TensorProto;
export type OnnxValueInfoProto = onnx.ValueInfoProto;
export type OnnxTypeProto = onnx.TypeProto;
/** The "properties" interfaces: what nested fields of decoded messages are typed as, and what hand-built messages satisfy. */
export type OnnxIModelProto = onnx.IModelProto;
export type OnnxIGraphProto = onnx.IGraphProto;
export type OnnxINodeProto = onnx.INodeProto;
export type OnnxIAttributeProto = onnx.IAttributeProto;
export type OnnxITensorProto = onnx.ITensorProto;
export type OnnxIValueInfoProto = onnx.IValueInfoProto;
export type OnnxITypeProto = onnx.ITypeProto;

/** The input is not a well-formed ONNX model / tensor, or uses a feature this frontend does not support. */
export class OnnxFormatError extends TesseraError {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxFormatError';
  }
}

// ---------------------------------------------------------------------------
// int64 helpers

/** What protobufjs hands out for int64/uint64 fields: a `Long`, a number, or (from JSON-ish input) a decimal string. */
export type Int64Like = number | bigint | string | { low: number; high: number; unsigned?: boolean };

/**
 * The exact value of a protobuf int64/uint64 field as a bigint. A `Long` is
 * read through its `unsigned` flag; pass `unsigned` to force an interpretation
 * of the 64-bit pattern (true: 0..2^64-1, false: -2^63..2^63-1).
 */
export function int64ToBigInt(v: Int64Like | null | undefined, unsigned?: boolean): bigint {
  let b: bigint;
  if (v === null || v === undefined) b = 0n;
  else if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new OnnxFormatError(`not a valid ONNX model: non-integer value ${v} in an int64 field`);
    b = BigInt(v);
  } else if (typeof v === 'string') {
    try {
      b = BigInt(v);
    } catch {
      throw new OnnxFormatError(`not a valid ONNX model: '${v}' in an int64 field is not an integer`);
    }
  } else {
    const bits = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
    b = v.unsigned ? bits : BigInt.asIntN(64, bits);
  }
  if (unsigned === true) return BigInt.asUintN(64, b);
  if (unsigned === false) return BigInt.asIntN(64, b);
  return b;
}

/** An int64 field as a number when it is a safe integer; beyond ±(2^53-1) it becomes ±Infinity (keeps its sign). */
function int64ToNumberOrInf(v: Int64Like | null | undefined): number {
  const b = int64ToBigInt(v);
  if (b > BigInt(Number.MAX_SAFE_INTEGER)) return Infinity;
  if (b < BigInt(Number.MIN_SAFE_INTEGER)) return -Infinity;
  return Number(b);
}

/** An int64 field that must be an exact safe integer (dims, offsets, versions); throws otherwise. */
export function int64ToSafeNumber(v: Int64Like | null | undefined, what: string): number {
  const b = int64ToBigInt(v);
  if (b > BigInt(Number.MAX_SAFE_INTEGER) || b < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new OnnxFormatError(`${what}: value ${b} is too large`);
  }
  return Number(b);
}

// ---------------------------------------------------------------------------
// models

/**
 * Decodes an ONNX model. Throws `OnnxFormatError` ("not a valid ONNX model:
 * ...") when the bytes are not a protobuf ModelProto or have no graph.
 */
export function decodeModel(bytes: Uint8Array): onnx.ModelProto {
  if (!(bytes instanceof Uint8Array)) throw new OnnxFormatError('not a valid ONNX model: input is not a byte array');
  if (bytes.length === 0) throw new OnnxFormatError('not a valid ONNX model: the input is empty');
  let m: onnx.ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new OnnxFormatError(`not a valid ONNX model: protobuf decoding failed (${errorMessage(e)})`);
  }
  if (!m.graph) throw new OnnxFormatError('not a valid ONNX model: it has no graph');
  return m; // validate.ts checks the rest (versions, names, nodes against their schemas)
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// ---------------------------------------------------------------------------
// tensors

const DATA_TYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64',
  8: 'STRING', 9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64',
  15: 'COMPLEX128', 16: 'BFLOAT16', 17: 'FLOAT8E4M3FN', 18: 'FLOAT8E4M3FNUZ', 19: 'FLOAT8E5M2',
  20: 'FLOAT8E5M2FNUZ', 21: 'UINT4', 22: 'INT4', 23: 'FLOAT4E2M1', 24: 'FLOAT8E8M0', 25: 'UINT2', 26: 'INT2',
};

/** The onnx.proto name of a TensorProto.DataType code, e.g. 16 -> 'BFLOAT16'. */
export function onnxDataTypeName(code: number): string {
  return DATA_TYPE_NAMES[code] ?? `unknown type ${code}`;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reverses each `width`-byte group in place (little-endian <-> host order on a big-endian host). */
function swapBytes(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let i = 0; i < bytes.length; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

function tensorLabel(tp: onnx.ITensorProto): string {
  return tp.name ? `tensor '${tp.name}'` : 'unnamed tensor';
}

/** Builds a typed array of `count` elements of `type` from little-endian bytes (copied: the source may be unaligned). */
function fromLittleEndian(type: DType, bytes: Uint8Array, count: number): TypedArray {
  const width = dtypeBytes(type);
  const copy = new Uint8Array(count * width);
  copy.set(bytes.subarray(0, count * width));
  if (!LITTLE_ENDIAN_HOST) swapBytes(copy, width);
  const arr = viewArray(type, copy.buffer, 0, count);
  if (type === 'bool') {
    const u8 = arr as Uint8Array;
    for (let i = 0; i < u8.length; i++) if (u8[i] !== 0) u8[i] = 1;
  }
  return arr;
}

/** Bytes of a varint's encoding of `n`. */
function varintBytes(n: number): number {
  let b = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    b++;
  }
  return b;
}

/**
 * The elements of a TensorProto's raw_data, in place in a buffer the caller gave up
 * (`TensorOptions.ownsBytes`): a view when the payload is aligned to its element width;
 * otherwise the payload moves down to the aligned offset at most as many bytes as its own
 * field's tag and length take (they precede it and were decoded already, nothing else
 * views them), and `tp.rawData` then names the moved payload (a tensor converted again,
 * an unrolled loop body's, finds it there). Undefined when it cannot stay in place.
 */
function rawInPlace(tp: onnx.ITensorProto, type: DType, count: number): TypedArray | undefined {
  const raw = tp.rawData!;
  const width = dtypeBytes(type);
  if (!LITTLE_ENDIAN_HOST) return undefined;
  const shift = raw.byteOffset % width;
  // 1 byte of tag (field 9, length-delimited), then the length.
  if (shift > 1 + varintBytes(raw.length)) return undefined;
  let bytes = raw;
  if (shift > 0) {
    const at = raw.byteOffset - shift;
    new Uint8Array(raw.buffer, at, raw.length + shift).copyWithin(0, shift);
    bytes = new Uint8Array(raw.buffer, at, raw.length);
    tp.rawData = bytes;
  }
  const arr = viewArray(type, bytes.buffer, bytes.byteOffset, count);
  if (type === 'bool') {
    const u8 = arr as Uint8Array;
    for (let i = 0; i < u8.length; i++) if (u8[i] !== 0) u8[i] = 1;
  }
  return arr;
}

/** Little-endian bytes of a typed array (always a fresh copy). */
function toLittleEndian(t: Tensor): Uint8Array {
  const d = t.data;
  const copy = new Uint8Array(d.byteLength);
  copy.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  if (!LITTLE_ENDIAN_HOST) swapBytes(copy, dtypeBytes(t.type));
  return copy;
}

const INT32_FIELD_RANGE: Partial<Record<DType, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  // float16 bits: writers store the 16-bit pattern, some sign-extended.
  float16: [-32768, 65535],
  bfloat16: [-32768, 65535],
  bool: [-2147483648, 2147483647],
};

/** The spec's typed field for each dtype (when raw_data is not used). */
const TYPED_FIELD: Record<DType, 'floatData' | 'int32Data' | 'int64Data' | 'doubleData' | 'uint64Data'> = {
  float32: 'floatData',
  float64: 'doubleData',
  float16: 'int32Data',
  bfloat16: 'int32Data',
  int8: 'int32Data',
  int16: 'int32Data',
  int32: 'int32Data',
  uint8: 'int32Data',
  uint16: 'int32Data',
  bool: 'int32Data',
  int64: 'int64Data',
  uint32: 'uint64Data',
  uint64: 'uint64Data',
};
const FIELD_PROTO_NAME = {
  floatData: 'float_data', int32Data: 'int32_data', int64Data: 'int64_data', doubleData: 'double_data', uint64Data: 'uint64_data',
} as const;

/**
 * Converts a TensorProto to a `Tensor`. Handles raw_data (little-endian, may be
 * unaligned), every typed field of the spec (float_data, int32_data for the
 * small ints / bool / float16 bits, int64_data, double_data, uint64_data for
 * uint32 and uint64), and external data (`data_location == EXTERNAL`) resolved
 * relative to `modelDir`. Throws `OnnxFormatError` for unsupported dtypes
 * (string, bfloat16, complex, float8, ...) and for data that does not match the dims.
 */
export interface TensorOptions {
  /** Resolves external data. */
  readonly modelDir?: string;
  /**
   * The caller gives up the bytes the proto was decoded from: raw_data is then kept in
   * place (views, aligned in place) instead of copied. Compiling a model file does this.
   */
  readonly ownsBytes?: boolean;
}

export function tensorFromProto(tp: onnx.ITensorProto, options: string | TensorOptions = {}): Tensor {
  const { modelDir, ownsBytes } = typeof options === 'string' ? { modelDir: options, ownsBytes: false } : options;
  const label = tensorLabel(tp);
  const code = tp.dataType ?? 0;
  const type = dtypeFromOnnx(code);
  if (type === undefined) {
    throw new OnnxFormatError(
      code === 0
        ? `${label}: data_type is not set (UNDEFINED)`
        : `${label}: unsupported data type ${code} (${onnxDataTypeName(code)})`,
    );
  }
  if (tp.segment) throw new OnnxFormatError(`${label}: segmented tensors are not supported`);

  const dims = (tp.dims ?? []).map((d, i) => {
    const n = int64ToBigInt(d);
    if (n < 0n || n > BigInt(Number.MAX_SAFE_INTEGER)) throw new OnnxFormatError(`${label}: invalid dimension ${n} at axis ${i}`);
    return Number(n);
  });
  const count = shapeSize(dims);
  const width = dtypeBytes(type);
  const shapeText = `[${dims.join(', ')}]`;

  let data: TypedArray;
  if (tp.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    const bytes = readExternalData(tp, label, modelDir);
    if (bytes.length !== count * width) {
      throw new OnnxFormatError(`${label}: external data has ${bytes.length} bytes, but ${type} ${shapeText} needs ${count * width}`);
    }
    data = fromLittleEndian(type, bytes, count);
  } else if (tp.rawData && tp.rawData.length > 0) {
    if (tp.rawData.length !== count * width) {
      throw new OnnxFormatError(`${label}: raw_data has ${tp.rawData.length} bytes, but ${type} ${shapeText} needs ${count * width}`);
    }
    data = (ownsBytes ? rawInPlace(tp, type, count) : undefined) ?? fromLittleEndian(type, tp.rawData, count);
  } else {
    const field = TYPED_FIELD[type];
    const values = (tp[field] ?? []) as readonly Int64Like[];
    if (values.length !== count) {
      const others = (Object.keys(FIELD_PROTO_NAME) as (keyof typeof FIELD_PROTO_NAME)[])
        .filter((f) => f !== field && (tp[f]?.length ?? 0) > 0)
        .map((f) => `${FIELD_PROTO_NAME[f]} has ${tp[f]!.length}`);
      throw new OnnxFormatError(
        `${label}: ${FIELD_PROTO_NAME[field]} has ${values.length} values, but ${type} ${shapeText} needs ${count}` +
          (others.length ? ` (${others.join(', ')}; the spec stores ${type} in ${FIELD_PROTO_NAME[field]})` : ''),
      );
    }
    data = fromTypedField(type, values, label);
  }
  return new Tensor(type, data, dims);
}

function fromTypedField(type: DType, values: readonly Int64Like[], label: string): TypedArray {
  const n = values.length;
  const out = allocArray(type, n);
  switch (type) {
    case 'float32':
    case 'float64':
      for (let i = 0; i < n; i++) out[i] = Number(values[i]);
      return out;
    case 'int64':
    case 'uint64': {
      const unsigned = type === 'uint64';
      const big = out as BigInt64Array | BigUint64Array;
      for (let i = 0; i < n; i++) big[i] = int64ToBigInt(values[i], unsigned);
      return out;
    }
    case 'uint32':
      for (let i = 0; i < n; i++) {
        const b = int64ToBigInt(values[i], true);
        if (b > 0xffffffffn) throw new OnnxFormatError(`${label}: uint64_data value ${b} at index ${i} does not fit uint32`);
        out[i] = Number(b);
      }
      return out;
    default: {
      // int32_data: int8/int16/int32/uint8/uint16/bool/float16
      const [lo, hi] = INT32_FIELD_RANGE[type]!;
      for (let i = 0; i < n; i++) {
        const v = Number(values[i]);
        if (!Number.isInteger(v) || v < lo || v > hi) {
          throw new OnnxFormatError(`${label}: int32_data value ${v} at index ${i} is out of range for ${type}`);
        }
        out[i] = type === 'bool' ? (v !== 0 ? 1 : 0) : type === 'float16' || type === 'bfloat16' ? v & 0xffff : v;
      }
      return out;
    }
  }
}

function readExternalData(tp: onnx.ITensorProto, label: string, modelDir: string | undefined): Uint8Array {
  const info = new Map<string, string>();
  for (const kv of tp.externalData ?? []) if (kv.key) info.set(kv.key, kv.value ?? '');
  const location = info.get('location');
  if (!location) throw new OnnxFormatError(`${label}: external data has no 'location'`);
  if (modelDir === undefined) {
    throw new OnnxFormatError(`${label}: data is stored externally in '${location}', but no model directory was given to resolve it`);
  }
  if (path.isAbsolute(location) || path.posix.isAbsolute(location)) {
    throw new OnnxFormatError(`${label}: external data location '${location}' must be relative to the model directory`);
  }
  const root = path.resolve(modelDir);
  const file = path.resolve(root, location);
  const rel = path.relative(root, file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new OnnxFormatError(`${label}: external data location '${location}' points outside the model directory ${root}`);
  }
  const parseNum = (key: string): number | undefined => {
    const s = info.get(key);
    if (s === undefined || s === '') return undefined;
    if (!/^\d+$/.test(s.trim())) throw new OnnxFormatError(`${label}: external data '${key}' is not a non-negative integer: '${s}'`);
    return Number(s.trim());
  };
  const offset = parseNum('offset') ?? 0;
  const length = parseNum('length');
  let buf: Buffer;
  try {
    const size = statSync(file).size;
    if (offset > size || (length !== undefined && offset + length > size)) {
      throw new OnnxFormatError(
        `${label}: external data range offset ${offset}` + (length !== undefined ? `, length ${length}` : '') + ` exceeds the ${size} bytes of ${file}`,
      );
    }
    buf = readFileSync(file);
  } catch (e) {
    if (e instanceof OnnxFormatError) throw e;
    throw new OnnxFormatError(`${label}: cannot read external data file ${file}: ${errorMessage(e)}`);
  }
  const end = length !== undefined ? offset + length : buf.length;
  return new Uint8Array(buf.buffer, buf.byteOffset + offset, end - offset);
}

/** A TensorProto holding `t` (dims, data_type, little-endian raw_data). */
export function tensorToProto(t: Tensor, name?: string): onnx.TensorProto {
  return onnx.TensorProto.create({
    name: name ?? '',
    dims: [...t.dims],
    dataType: dtypeToOnnx(t.type),
    rawData: toLittleEndian(t),
  });
}

/** The serialized TensorProto of `t` (what `input_0.pb` files hold). */
export function encodeTensor(t: Tensor, name?: string): Uint8Array {
  return onnx.TensorProto.encode(tensorToProto(t, name)).finish();
}

/** Decodes a serialized TensorProto (e.g. a backend-test `.pb` file). `dir` resolves external data. */
export function decodeTensor(bytes: Uint8Array, dir?: string): { name: string; tensor: Tensor } {
  let tp: onnx.TensorProto;
  try {
    tp = onnx.TensorProto.decode(bytes);
  } catch (e) {
    throw new OnnxFormatError(`not a valid ONNX tensor: protobuf decoding failed (${errorMessage(e)})`);
  }
  return { name: tp.name ?? '', tensor: tensorFromProto(tp, dir) };
}

// ---------------------------------------------------------------------------
// attributes

/**
 * A decoded attribute. int64 attributes are numbers: exact when within
 * ±(2^53-1); beyond that they become ±Infinity with their sign (this is how
 * the conventional INT64_MAX / INT64_MIN "to the end" sentinels, e.g. of Slice,
 * arrive). Strings are decoded as UTF-8.
 */
export type AttributeValue =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: Tensor }
  | { kind: 'graph'; value: onnx.IGraphProto }
  | { kind: 'floats'; value: number[] }
  | { kind: 'ints'; value: number[] }
  | { kind: 'strings'; value: string[] }
  | { kind: 'tensors'; value: Tensor[] }
  | { kind: 'graphs'; value: onnx.IGraphProto[] };

export type AttributeKind = AttributeValue['kind'];

const utf8 = new TextDecoder('utf-8');

function has(a: onnx.IAttributeProto, key: keyof onnx.IAttributeProto): boolean {
  return Object.prototype.hasOwnProperty.call(a, key) && a[key] !== null && a[key] !== undefined;
}

/** The attribute type inferred from the populated field, for old models that leave `type` unset. */
function inferAttributeType(a: onnx.IAttributeProto): number {
  const T = onnx.AttributeProto.AttributeType;
  if ((a.floats?.length ?? 0) > 0) return T.FLOATS;
  if ((a.ints?.length ?? 0) > 0) return T.INTS;
  if ((a.strings?.length ?? 0) > 0) return T.STRINGS;
  if ((a.tensors?.length ?? 0) > 0) return T.TENSORS;
  if ((a.graphs?.length ?? 0) > 0) return T.GRAPHS;
  if (a.t) return T.TENSOR;
  if (a.g) return T.GRAPH;
  if (a.sparseTensor) return T.SPARSE_TENSOR;
  if (a.tp) return T.TYPE_PROTO;
  if (has(a, 's')) return T.STRING;
  if (has(a, 'f')) return T.FLOAT;
  if (has(a, 'i')) return T.INT;
  return T.UNDEFINED;
}

/** The value of an attribute, chosen by its `type` (or, when unset, by which field is populated). `modelDir` resolves external tensor data. */
export function attributeValue(a: onnx.IAttributeProto, modelDir?: string | TensorOptions): AttributeValue {
  const T = onnx.AttributeProto.AttributeType;
  const type = a.type ? a.type : inferAttributeType(a);
  const label = `attribute '${a.name ?? ''}'`;
  switch (type) {
    case T.FLOAT:
      return { kind: 'float', value: a.f ?? 0 };
    case T.INT:
      return { kind: 'int', value: int64ToNumberOrInf(a.i) };
    case T.STRING:
      return { kind: 'string', value: utf8.decode(a.s ?? new Uint8Array(0)) };
    case T.TENSOR:
      if (!a.t) throw new OnnxFormatError(`${label}: type TENSOR but no tensor`);
      return { kind: 'tensor', value: tensorFromProto(a.t, modelDir) };
    case T.GRAPH:
      if (!a.g) throw new OnnxFormatError(`${label}: type GRAPH but no graph`);
      return { kind: 'graph', value: a.g };
    case T.FLOATS:
      return { kind: 'floats', value: [...(a.floats ?? [])] };
    case T.INTS:
      return { kind: 'ints', value: (a.ints ?? []).map(int64ToNumberOrInf) };
    case T.STRINGS:
      return { kind: 'strings', value: (a.strings ?? []).map((s) => utf8.decode(s)) };
    case T.TENSORS:
      return { kind: 'tensors', value: (a.tensors ?? []).map((t) => tensorFromProto(t, modelDir)) };
    case T.GRAPHS:
      return { kind: 'graphs', value: [...(a.graphs ?? [])] };
    case T.UNDEFINED:
      throw new OnnxFormatError(`${label}: no type and no value`);
    case T.SPARSE_TENSOR:
    case T.SPARSE_TENSORS:
      throw new OnnxFormatError(`${label}: sparse tensor attributes are not supported`);
    case T.TYPE_PROTO:
    case T.TYPE_PROTOS:
      throw new OnnxFormatError(`${label}: type-proto attributes are not supported`);
    default:
      throw new OnnxFormatError(`${label}: unknown attribute type ${type}`);
  }
}

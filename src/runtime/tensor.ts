import { ALL_DTYPES, type DType, type TypedArray, allocArray, arrayMatchesDType, isDType } from './dtype.js';
import { InputError } from './error.js';

/**
 * What a tensor from another library (onnxruntime-web/node, another copy of Tessera's
 * runtime) looks like: `type`, `data`, `dims`. Feeds may be such objects; they are
 * checked like a Tensor and wrapped without copying their data.
 */
export interface TensorLike {
  readonly type: string;
  readonly data: unknown;
  readonly dims: readonly number[];
}

/**
 * A host tensor, shaped like onnxruntime's `Tensor`: `type`, `dims`, `data`.
 * Data is dense, row-major, held by the typed-array class of its type (Float32Array for
 * float32, BigInt64Array for int64, Uint16Array holding the raw bits for float16 and
 * bfloat16, Uint8Array for bool); a plain array is converted. The constructor throws an
 * `InputError` when type, data and dims do not agree; dims are frozen.
 */
export class Tensor {
  readonly type: DType;
  readonly dims: readonly number[];
  readonly data: TypedArray;

  constructor(type: DType, data: TypedArray | Uint8ClampedArray | readonly (number | bigint | boolean)[], dims?: readonly number[]) {
    const parts = tensorParts(type, data, dims);
    if (typeof parts === 'string') throw new InputError(`Tensor: ${parts}`);
    this.type = parts.type;
    this.dims = Object.freeze(parts.dims);
    this.data = parts.data;
  }

  get size(): number {
    return this.data.length;
  }

  static zeros(type: DType, dims: readonly number[]): Tensor {
    return new Tensor(type, allocArray(type, shapeSize(dims)), dims);
  }
}

export function shapeSize(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** A short description of a value of unknown kind, for error messages. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return `an array (${v.length} element${v.length === 1 ? '' : 's'})`;
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  if (v instanceof Tensor) return `a Tensor (${v.type}[${v.dims.join(', ')}])`;
  if (typeof v === 'object') return `an object (${v.constructor?.name ?? 'no prototype'})`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  return `the ${typeof v} ${String(v)}`;
}

/**
 * Checks that `type`, `data` and `dims` make a tensor (of values from JS, where anything
 * may come): the parts, or what is wrong with them. Plain arrays are converted to the
 * type's typed array; a typed array is kept as it is (no copy).
 */
export function tensorParts(type: unknown, data: unknown, dims: unknown): { type: DType; data: TypedArray; dims: number[] } | string {
  if (typeof type !== 'string' || !isDType(type)) {
    return `unsupported type ${typeof type === 'string' ? `'${type}'` : describeValue(type)}; Tessera's types are ${ALL_DTYPES.join(', ')}`;
  }
  let arr: TypedArray;
  if (Array.isArray(data)) {
    const converted = fromList(type, data);
    if (typeof converted === 'string') return converted;
    arr = converted;
  } else if (type === 'uint8' && data instanceof Uint8ClampedArray) {
    arr = new Uint8Array(data.buffer, data.byteOffset, data.length);
  } else if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
    arr = data as TypedArray;
    if (!arrayMatchesDType(arr, type)) return `${type.startsWith('int') ? 'an' : 'a'} ${type} tensor's data must be a ${arrayClass(type)}, got ${data.constructor.name}`;
  } else {
    return `data must be a typed array (${arrayClass(type)} for ${type}) or an array of numbers, got ${describeValue(data)}`;
  }
  if (dims === undefined) return { type, data: arr, dims: [arr.length] };
  if (!Array.isArray(dims)) return `dims must be an array of non-negative integers, got ${describeValue(dims)}`;
  const shape: number[] = [];
  for (let i = 0; i < dims.length; i++) {
    const d: unknown = dims[i];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      return `dims[${i}] must be a non-negative integer, got ${typeof d === 'number' ? d : describeValue(d)} (dims [${dims.map(String).join(', ')}])`;
    }
    shape.push(d);
  }
  const size = shapeSize(shape);
  if (size !== arr.length) return `${arr.length} elements do not fill dims [${shape.join(', ')}] (${size} elements)`;
  return { type, data: arr, dims: shape };
}

/** The typed-array class that holds `t` (with why, where it is not the obvious one). */
function arrayClass(t: DType): string {
  const name = allocArray(t, 0).constructor.name;
  if (t === 'int64' || t === 'uint64') return `${name} (64-bit integers are BigInts)`;
  if (t === 'float16' || t === 'bfloat16') return `${name} (holding the raw 16 bits)`;
  if (t === 'bool') return `${name} (0 or 1)`;
  return name;
}

function fromList(type: DType, list: readonly unknown[]): TypedArray | string {
  const out = allocArray(type, list.length);
  const big = out instanceof BigInt64Array || out instanceof BigUint64Array;
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (typeof v === 'bigint') {
      out[i] = (big ? v : Number(v)) as never;
    } else if (typeof v === 'number' || (typeof v === 'boolean' && type === 'bool')) {
      if (big && !Number.isInteger(v)) return `element ${i} (${v}) of the data is not an integer, which ${type} needs`;
      out[i] = (big ? BigInt(v as number) : Number(v)) as never;
    } else {
      return `element ${i} of the data is ${describeValue(v)}, not a number${big ? ' or a bigint' : ''}`;
    }
  }
  return out;
}

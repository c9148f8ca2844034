/**
 * Feed validation, shared by the Executor (against its executable's input slots) and
 * InferenceSession (against the model's declared inputs, before it specializes): the
 * feeds object, names, tensors, dtypes, dims (symbolic dims by name, bound from the
 * feeds and consistent across inputs) and data lengths, each mistake an InputError that
 * names the input and what was expected.
 */
import type { DType } from './dtype.js';
import { InputError } from './error.js';
import { Tensor, type TensorLike, describeValue, shapeSize, tensorParts } from './tensor.js';
import { GpuTensor } from './gpu_tensor.js';

/** What the model declares for one input: its dtype (where known) and dims (numbers, or symbolic names). */
export interface InputSpec {
  readonly name: string;
  readonly dtype?: DType | undefined;
  readonly dims: readonly (number | string)[];
}

/** What `session.run` / `executor.run` take: tensors keyed by input name (GPU tensors on the webgpu device). */
export type Feeds = Readonly<Record<string, Tensor | TensorLike | GpuTensor>>;

export interface CheckedFeeds {
  /** The feeds in CPU memory as Tensors (tensor-likes wrapped, their data not copied). */
  readonly tensors: Record<string, Tensor>;
  /** The feeds that are GPU tensors (only where `gpu` allows them). */
  readonly gpu: ReadonlyMap<string, GpuTensor>;
  /** The value of each symbolic dim, from the feeds' dims. */
  readonly dims: Record<string, number>;
}

/** One input as declared, e.g. `x: float32[batch, 3, 224, 224]`. */
export function describeInput(s: InputSpec): string {
  return `${s.name}: ${s.dtype ?? '(any type)'}[${s.dims.join(', ')}]`;
}

const inputList = (specs: readonly InputSpec[]): string =>
  (specs.length === 0 ? 'the model has no inputs' : `the model's inputs are: ${specs.map(describeInput).join(', ')}`);

const quoted = (names: readonly string[]): string => names.map((n) => `'${n}'`).join(', ');

/**
 * Checks `feeds` against the declared inputs; throws an InputError naming the first problem.
 * `gpu`: GPU tensors are taken, living on `gpu.device` (any device when that is undefined:
 * a session checking before it compiles); without it none is.
 */
export function checkFeeds(feeds: unknown, specs: readonly InputSpec[], gpu?: { readonly device?: unknown }): CheckedFeeds {
  if (feeds === null || typeof feeds !== 'object' || Array.isArray(feeds) || ArrayBuffer.isView(feeds) || feeds instanceof Map || isTensorLike(feeds)) {
    const hint = feeds instanceof Map ? ' (a Map: pass Object.fromEntries(map))' : isTensorLike(feeds) ? ' (key the tensor by its input name)' : '';
    const example = specs[0] ? ` like { ${specs[0].name}: new Tensor(...) }` : '';
    throw new InputError(`'feeds' must be an object mapping input names to tensors${example}; got ${describeValue(feeds)}${hint}; ${inputList(specs)}`);
  }
  const given = feeds as Record<string, unknown>;
  const names = new Set(specs.map((s) => s.name));
  const unknown = Object.keys(given).filter((k) => !names.has(k));
  // Own properties only: an input named like an Object.prototype member (constructor) is not there by inheritance.
  const has = (name: string): boolean => Object.prototype.hasOwnProperty.call(given, name) && given[name] !== undefined;
  const missing = specs.filter((s) => !has(s.name)).map((s) => s.name);
  if (missing.length > 0) {
    const what = missing.length === 1 ? `input ${quoted(missing)} is` : `inputs ${quoted(missing)} are`;
    const extra = unknown.length > 0 ? ` (it has ${quoted(unknown)}, which the model does not have)` : '';
    throw new InputError(`${what} missing in 'feeds'${extra}; ${inputList(specs)}`);
  }
  if (unknown.length > 0) {
    throw new InputError(`unknown input${unknown.length > 1 ? 's' : ''} ${quoted(unknown)} in 'feeds'; ${inputList(specs)}`);
  }
  const tensors: Record<string, Tensor> = {};
  const onGpu = new Map<string, GpuTensor>();
  const dims: Record<string, number> = {};
  const boundBy: Record<string, string> = {};
  for (const spec of specs) {
    const feed = given[spec.name];
    const t = feed instanceof GpuTensor ? gpuFeed(feed, spec.name, gpu) : asTensor(feed, spec.name);
    if (spec.dtype !== undefined && t.type !== spec.dtype) {
      throw new InputError(`input '${spec.name}': expected dtype ${spec.dtype}, got ${t.type} (the model declares ${describeInput(spec)})`);
    }
    const expected = `[${spec.dims.join(', ')}]`;
    const got = `[${t.dims.join(', ')}]`;
    if (t.dims.length !== spec.dims.length) {
      throw new InputError(`input '${spec.name}': expected shape ${expected}, got ${got} (rank ${t.dims.length} instead of ${spec.dims.length})`);
    }
    const wrong: string[] = [];
    spec.dims.forEach((d, i) => {
      const v = t.dims[i]!;
      if (typeof d === 'number') {
        if (v !== d) wrong.push(`dim ${i} is ${v}, expected ${d}`);
      } else if (dims[d] === undefined) {
        dims[d] = v;
        boundBy[d] = spec.name;
      } else if (dims[d] !== v) {
        throw new InputError(`input '${spec.name}': dim '${d}' is ${v} here but ${dims[d]} in input '${boundBy[d]}'`);
      }
    });
    if (wrong.length > 0) throw new InputError(`input '${spec.name}': expected shape ${expected}, got ${got} (${wrong.join('; ')})`);
    if (t instanceof GpuTensor) onGpu.set(spec.name, t);
    else tensors[spec.name] = t;
  }
  return { tensors, gpu: onGpu, dims };
}

/** A GPU tensor feed: live, and on the device that runs the model. */
function gpuFeed(t: GpuTensor, name: string, gpu: { readonly device?: unknown } | undefined): GpuTensor {
  if (!gpu) throw new InputError(`input '${name}' is a GPU tensor, and this model does not run on the GPU; read it with getData() first`);
  if (t.disposed) throw new InputError(`input '${name}' is a GPU tensor that was disposed`);
  if (gpu.device !== undefined && t.device !== gpu.device) throw new InputError(`input '${name}' is a GPU tensor of another GPU device than the one this model runs on`);
  return t;
}

function isTensorLike(v: unknown): v is TensorLike {
  // `type` a string: a feeds object whose inputs are named type, data and dims is not one.
  return typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string' && 'data' in v && 'dims' in v;
}

/**
 * A feed as a Tensor: a Tensor (its data length checked again, as its buffer may have been
 * detached or resized since), or a tensor-like from another library, checked and wrapped.
 */
function asTensor(v: unknown, name: string): Tensor {
  if (v instanceof Tensor) {
    const need = shapeSize(v.dims);
    if (v.data.length !== need) {
      throw new InputError(`input '${name}': its data holds ${v.data.length} elements but dims [${v.dims.join(', ')}] need ${need} (was its buffer detached or resized after the Tensor was made?)`);
    }
    return v;
  }
  if (!isTensorLike(v)) throw new InputError(`input '${name}': expected a Tensor (type, data, dims), got ${describeValue(v)}`);
  const location = (v as { location?: unknown }).location;
  if (location !== undefined && location !== 'cpu' && location !== 'cpu-pinned') {
    throw new InputError(`input '${name}': the tensor's data is on '${String(location)}', not in CPU memory; download it first (e.g. onnxruntime's tensor.getData())`);
  }
  const parts = tensorParts(v.type, v.data, v.dims);
  if (typeof parts === 'string') throw new InputError(`input '${name}': ${parts}`);
  return new Tensor(parts.type, parts.data, parts.dims);
}

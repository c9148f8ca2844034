/**
 * The inputs a mutant is run with, the same for every engine: the seed's own test inputs
 * where the mutant's declared input still matches them (name, dtype, rank, fixed dims),
 * otherwise seeded values of the declared type (floats in [-1, 1), integers in [0, 3) so that
 * index-like inputs stay in range). A mutant whose inputs cannot be built (an unknown or
 * string dtype, a dim that is negative or too large to allocate) is only compiled.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type DType, type TypedArray, allocArray, dtypeFromOnnx } from '../src/runtime/dtype.js';
import { onnx, tensorFromProto } from '../src/frontend/onnx/proto.js';
import type { Tensor } from '../src/runtime/tensor.js';
import { Rng } from './rng.js';

export interface Feed {
  readonly name: string;
  readonly dtype: DType;
  readonly dims: number[];
  readonly data: TypedArray;
}

/** Feeds for every graph input, or why they cannot be built. */
export type FeedPlan = { readonly feeds: Feed[] } | { readonly skip: string };

/** Inputs past this many elements are not built (the mutant is compiled, not run). */
const MAX_FEED_ELEMENTS = 1 << 24;

function decodeOrUndefined(bytes: Uint8Array): onnx.ModelProto | undefined {
  try {
    return onnx.ModelProto.decode(bytes);
  } catch {
    return undefined;
  }
}

/** The graph inputs a caller feeds: declared inputs that no initializer provides, first of each name. */
function fedInputs(g: onnx.IGraphProto): onnx.IValueInfoProto[] {
  const inits = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  const seen = new Set<string>();
  return (g.input ?? []).filter((v) => {
    const name = v.name ?? '';
    if (inits.has(name) || seen.has(name)) return false;
    seen.add(name);
    return true;
  });
}

/** The seed's test inputs (test_data_set_0/input_*.pb) by graph input name. */
export function seedInputs(seedDir: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const data = join(seedDir, 'test_data_set_0');
  const model = decodeOrUndefined(readFileSync(join(seedDir, 'model.onnx')));
  if (!model?.graph || !existsSync(data)) return out;
  const names = fedInputs(model.graph).map((v) => v.name ?? '');
  const files = readdirSync(data).filter((f) => /^input_\d+\.pb$/.test(f)).sort((a, b) => parseInt(a.slice(6), 10) - parseInt(b.slice(6), 10));
  files.forEach((f, i) => {
    try {
      const tp = onnx.TensorProto.decode(readFileSync(join(data, f)));
      out.set(tp.name || names[i] || `#${i}`, tensorFromProto(tp, data));
    } catch {
      // A seed input this runtime cannot represent (a string tensor): generated instead.
    }
  });
  return out;
}

function dimOf(d: onnx.TensorShapeProto.IDimension, seedDim: number | undefined): number | string {
  if (d.dimValue !== undefined && d.dimValue !== null && (d.dimParam ?? '') === '') {
    const v = Number(String(d.dimValue));
    if (!Number.isSafeInteger(v) || v < 0) return `dim ${String(d.dimValue)}`;
    return v;
  }
  return seedDim ?? 1;
}

export function planFeeds(bytes: Uint8Array, seeds: Map<string, Tensor>, seed: number): FeedPlan {
  const model = decodeOrUndefined(bytes);
  if (!model?.graph) return { feeds: [] };
  const rng = new Rng(seed);
  const feeds: Feed[] = [];
  for (const v of fedInputs(model.graph)) {
    const name = v.name ?? '';
    const tt = v.type?.tensorType;
    if (!tt) return { skip: `input "${name}" is not a tensor` };
    const dtype = dtypeFromOnnx(tt.elemType ?? 0);
    if (!dtype) return { skip: `input "${name}" has elem_type ${tt.elemType ?? 0}, which no feed is built for` };
    const given = seeds.get(name);
    const declared = tt.shape?.dim ?? (given ? given.dims.map((x) => ({ dimValue: x })) : []);
    const dims: number[] = [];
    for (const [k, d] of declared.entries()) {
      const x = dimOf(d, given && given.dims.length === declared.length ? given.dims[k] : undefined);
      if (typeof x === 'string') return { skip: `input "${name}" has ${x}` };
      dims.push(x);
    }
    const n = dims.reduce((a, b) => a * b, 1);
    if (n > MAX_FEED_ELEMENTS) return { skip: `input "${name}" has ${n} elements` };
    if (given && given.type === dtype && given.dims.length === dims.length && given.dims.every((x, k) => x === dims[k])) {
      feeds.push({ name, dtype, dims, data: given.data });
      continue;
    }
    const data = allocArray(dtype, n);
    for (let i = 0; i < n; i++) {
      if (data instanceof BigInt64Array || data instanceof BigUint64Array) data[i] = BigInt(rng.int(3));
      else if (dtype === 'float32' || dtype === 'float64') data[i] = rng.next() * 2 - 1;
      else if (dtype === 'float16' || dtype === 'bfloat16') data[i] = dtype === 'float16' ? 0x3c00 : 0x3f80; // 1.0
      else data[i] = rng.int(dtype === 'bool' ? 2 : 3);
    }
    feeds.push({ name, dtype, dims, data });
  }
  return { feeds };
}

/** A hostile input value: element `index` of input `input` set to `value` (the model unchanged). */
export interface FeedEdit {
  readonly input: string;
  readonly index: number;
  /** A decimal integer for integer inputs, a number's text for float ones. */
  readonly value: string;
}

/** The feeds with one element changed (a copy: the seed's cached data stay as they are). */
export function applyFeedEdit(feeds: readonly Feed[], edit: FeedEdit): Feed[] {
  return feeds.map((f) => {
    if (f.name !== edit.input || edit.index >= f.data.length) return f;
    const data = f.data.slice() as TypedArray;
    if (data instanceof BigInt64Array) data[edit.index] = BigInt.asIntN(64, BigInt(edit.value));
    else if (data instanceof BigUint64Array) data[edit.index] = BigInt.asUintN(64, BigInt(edit.value));
    else data[edit.index] = Number(edit.value);
    return { ...f, data };
  });
}

/** The seed inputs a feed edit can target: integer inputs of at most 16 elements (shapes, axes, counts) and small float ones (scales). */
export function editableInputs(inputs: ReadonlyMap<string, Tensor>): { name: string; size: number; int: boolean }[] {
  return [...inputs.entries()]
    .filter(([, t]) => t.data.length > 0 && t.data.length <= 16 && ['int32', 'int64', 'float32'].includes(t.type))
    .map(([name, t]) => ({ name, size: t.data.length, int: t.type !== 'float32' }));
}

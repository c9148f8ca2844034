/**
 * The user API, shaped like onnxruntime's so switching is one import line:
 *
 *   const session = await InferenceSession.create('model.onnx', { target: 'wasm' });
 *   const out = await session.run({ input: new Tensor('float32', data, [1, 3, 224, 224]) });
 *
 * A model with a dynamic batch (one symbolic leading dim, every kernel separable along
 * it) compiles once and runs at any batch size. A model whose converters need the value
 * of a graph input at compile time (a Reshape shape or Slice starts fed as an input), or
 * whose other symbolic dims cannot stay symbolic, is specialized when it runs: compiled
 * with those values and dims bound, once per distinct binding (cached). Symbolic dims
 * bound by `dimValues` compile up front.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Executor, InputError } from './runtime/executor.js';
import type { Tensor } from './runtime/tensor.js';
import { type CompileOptions, type CompileResult, compile } from './driver.js';
import { InputValueNeeded, type OnnxSignature, onnxSignature } from './frontend/onnx/importer.js';
import { DynamicShapeError } from './build/dynamic_batch.js';

export type SessionOptions = CompileOptions;

interface Compiled {
  readonly executor: Executor;
  readonly result: CompileResult;
}

/** At most this many specializations are kept per session. */
const MAX_SPECIALIZATIONS = 16;

export class InferenceSession {
  private readonly specializations = new Map<string, Compiled>();
  private last: Compiled | undefined;

  private constructor(
    private readonly bytes: Uint8Array,
    private readonly options: SessionOptions,
    /** Graph inputs bound as constants per run (empty: compiled once, up front). */
    private readonly bound: string[],
    private readonly signature: OnnxSignature,
    /** Whether input dims are bound from the feeds at each run (symbolic dims). */
    private readonly shapeSpecialized: boolean,
    first?: Compiled,
  ) {
    this.last = first;
  }

  /** Compiles an ONNX model (a path or its bytes) and loads it on the target's runtime device. */
  static async create(model: string | Uint8Array, options: SessionOptions = {}): Promise<InferenceSession> {
    const bytes = typeof model === 'string' ? readFileSync(model) : model;
    const opts: SessionOptions = typeof model === 'string' && !options.modelDir ? { ...options, modelDir: dirname(model) } : options;
    const signature = onnxSignature(bytes);
    const symbolic = signature.inputs.some((i) => i.dims.some((d) => typeof d === 'string' && opts.dimValues?.[d] === undefined));
    try {
      return new InferenceSession(bytes, opts, [], signature, false, await InferenceSession.load(bytes, opts));
    } catch (e) {
      // Symbolic dims that cannot stay symbolic (or that a converter needs as values): compile per shape.
      if (symbolic && (e instanceof DynamicShapeError || e instanceof InputValueNeeded)) return new InferenceSession(bytes, opts, [], signature, true);
      if (!(e instanceof InputValueNeeded)) throw e;
      return new InferenceSession(bytes, opts, [e.input], signature, false);
    }
  }

  private static async load(bytes: Uint8Array, options: SessionOptions): Promise<Compiled> {
    const result = compile(bytes, options);
    return { result, executor: await Executor.load(result.executable, options.threads ? { threads: options.threads } : {}) };
  }

  /** The model's graph inputs with their declared dims and dtypes. */
  get inputs(): OnnxSignature['inputs'] {
    return this.signature.inputs;
  }

  get inputNames(): readonly string[] {
    return this.signature.inputs.map((i) => i.name);
  }
  get outputNames(): readonly string[] {
    return this.signature.outputs;
  }
  /** The most recent compilation (undefined before the first run of a specializing session). */
  get compiled(): CompileResult | undefined {
    return this.last?.result;
  }
  /** Graph inputs whose values are compiled in (specialized per distinct value). */
  get specializedInputs(): readonly string[] {
    return this.bound;
  }
  /** Whether the session compiles per distinct input shape (symbolic dims that could not stay symbolic). */
  get specializesShapes(): boolean {
    return this.shapeSpecialized;
  }
  /** Compilations made so far (1 for a model compiled up front, dynamic batch included). */
  get compilations(): number {
    return this.specializations.size + (this.bound.length === 0 && !this.shapeSpecialized ? 1 : 0);
  }

  /** Stops worker threads (sessions created with threads > 1). */
  release(): void {
    for (const c of [this.last, ...this.specializations.values()]) c?.executor.dispose();
    this.specializations.clear();
  }

  /** Runs the model; feeds are keyed by input name, results by output name. */
  async run(feeds: Readonly<Record<string, Tensor>>): Promise<Record<string, Tensor>> {
    if (this.bound.length === 0 && !this.shapeSpecialized) return this.last!.executor.run(feeds);
    const c = await this.specialize(feeds);
    const rest: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) if (!this.bound.includes(k)) rest[k] = v;
    return c.executor.run(rest);
  }

  /** Symbolic input dims bound from the feeds' shapes (consistent across inputs). */
  private bindDims(feeds: Readonly<Record<string, Tensor>>): Record<string, number> {
    const dims: Record<string, number> = {};
    for (const input of this.signature.inputs) {
      const t = feeds[input.name];
      if (!t) throw new InputError(`missing input '${input.name}'; the model's inputs are: ${this.inputNames.join(', ')}`);
      if (t.dims.length !== input.dims.length) {
        throw new InputError(`input '${input.name}': expected rank ${input.dims.length} ([${input.dims.join(', ')}]), got [${t.dims.join(', ')}]`);
      }
      input.dims.forEach((d, i) => {
        if (typeof d !== 'string') return;
        const v = t.dims[i]!;
        if (dims[d] !== undefined && dims[d] !== v) throw new InputError(`input '${input.name}': dim '${d}' is ${v} here but ${dims[d]} in another input`);
        dims[d] = v;
      });
    }
    return dims;
  }

  private async specialize(feeds: Readonly<Record<string, Tensor>>): Promise<Compiled> {
    for (;;) {
      const values: Record<string, Tensor> = {};
      for (const name of this.bound) {
        const t = feeds[name];
        if (!t) throw new InputError(`missing input '${name}'; the model's inputs are: ${this.inputNames.join(', ')}`);
        values[name] = t;
      }
      const dimValues = this.shapeSpecialized ? this.bindDims(feeds) : undefined;
      const key = JSON.stringify([dimValues, this.bound.map((n) => [values[n]!.type, values[n]!.dims, Array.from(values[n]!.data as ArrayLike<number | bigint>, String)])]);
      const hit = this.specializations.get(key);
      if (hit) return (this.last = hit);
      try {
        const c = await InferenceSession.load(this.bytes, {
          ...this.options, inputValues: values, ...(dimValues ? { dimValues: { ...this.options.dimValues, ...dimValues } } : {}),
        });
        if (this.specializations.size >= MAX_SPECIALIZATIONS) {
          const [oldest] = this.specializations.keys();
          this.specializations.get(oldest!)!.executor.dispose();
          this.specializations.delete(oldest!);
        }
        this.specializations.set(key, c);
        return (this.last = c);
      } catch (e) {
        if (!(e instanceof InputValueNeeded) || this.bound.includes(e.input)) throw e;
        this.bound.push(e.input);
      }
    }
  }
}

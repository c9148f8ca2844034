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
 *
 * Concurrency: runs of a session compiled up front are synchronous underneath, so runs
 * started together (Promise.all) execute one after the other. A specializing session
 * awaits while it compiles, so its runs go through a queue: one at a time, in call order,
 * and no specialization is evicted (disposed) while a run still uses it.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Executor } from './runtime/executor.js';
import { ReleasedError } from './runtime/error.js';
import { type Feeds, type InputSpec, checkFeeds } from './runtime/feeds.js';
import type { Tensor } from './runtime/tensor.js';
import { GpuTensor } from './runtime/gpu_tensor.js';
import { InputError } from './runtime/error.js';
import type { RunOptions } from './runtime/executor.js';
import { type CompileOptions, type CompileResult, compile, resolveTarget } from './driver.js';
import { InputValueNeeded, type OnnxSignature, onnxSignature } from './frontend/onnx/importer.js';
import { DynamicShapeError } from './build/dynamic_batch.js';

export type SessionOptions = CompileOptions;

interface Compiled {
  readonly executor: Executor;
  readonly result: CompileResult;
}

/** At most this many specializations are kept per session (least recently used evicted). */
const MAX_SPECIALIZATIONS = 16;

const RELEASED = 'this session was released; create a new InferenceSession to run the model';

export class InferenceSession {
  private readonly specializations = new Map<string, Compiled>();
  /** The executor compiled up front (undefined for a specializing session, and after release). */
  private upFront: Compiled | undefined;
  private readonly compiledUpFront: boolean;
  private lastResult: CompileResult | undefined;
  /** The model's inputs as declared, `dimValues` substituted: what feeds are checked against. */
  private readonly specs: readonly InputSpec[];
  /** The tail of the specializing runs' queue (each waits for the one before). */
  private queue: Promise<unknown> = Promise.resolve();
  private releasing: Promise<void> | undefined;
  /** Whether the target is a GPU (its runs take GPU tensors). */
  private readonly onGpu: boolean;

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
    this.upFront = first;
    this.onGpu = resolveTarget(options).keys.includes('gpu');
    this.compiledUpFront = first !== undefined;
    this.lastResult = first?.result;
    this.specs = signature.inputs.map((i) => ({
      name: i.name, dtype: i.dtype, dims: i.dims.map((d) => (typeof d === 'string' ? options.dimValues?.[d] ?? d : d)),
    }));
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
    return this.lastResult;
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
    return this.specializations.size + (this.compiledUpFront ? 1 : 0);
  }
  /** Whether `release()` was called. */
  get released(): boolean {
    return this.releasing !== undefined;
  }

  /**
   * Stops worker threads (sessions created with threads > 1) and drops the compiled
   * kernels; resolves once every worker has exited (those of a run compiling now too). Later runs fail with a ReleasedError;
   * releasing again is harmless. A specializing run still waiting in the queue fails with
   * the same error; one in the middle of running completes.
   */
  release(): Promise<void> {
    if (!this.releasing) {
      const all = [this.upFront, ...this.specializations.values()].filter((c): c is Compiled => c !== undefined);
      this.specializations.clear();
      this.upFront = undefined;
      // The queue's tail too: a run compiling now disposes what it loaded before it settles.
      this.releasing = Promise.all([...all.map((c) => c.executor.dispose()), this.queue]).then(() => undefined);
    }
    return this.releasing;
  }

  /**
   * Runs the model; feeds are keyed by input name (GPU tensors too, on webgpu), results by
   * output name (copies the caller owns); `{ outputLocation: 'gpu-buffer' }` (webgpu) leaves
   * them on the GPU as GPU tensors.
   */
  async run(feeds: Feeds, options?: { readonly outputLocation?: 'cpu' }): Promise<Record<string, Tensor>>;
  async run(feeds: Feeds, options: { readonly outputLocation: 'gpu-buffer' }): Promise<Record<string, GpuTensor>>;
  async run(feeds: Feeds, options: RunOptions = {}): Promise<Record<string, Tensor | GpuTensor>> {
    if (this.releasing) throw new ReleasedError(RELEASED);
    if (this.upFront) return this.upFront.executor.run(feeds, options as { outputLocation: 'gpu-buffer' });
    // Checked against the declared inputs before anything is compiled for them.
    const checked = checkFeeds(feeds, this.specs, this.onGpu ? {} : undefined);
    const job = this.queue.then(() => this.runSpecialized({ ...checked.tensors, ...Object.fromEntries(checked.gpu) }, checked.dims, options));
    this.queue = job.catch(() => undefined);
    return job;
  }

  /** One queued run of a specializing session: find or compile its specialization, then run it. */
  private async runSpecialized(feeds: Record<string, Tensor | GpuTensor>, dims: Record<string, number>, options: RunOptions): Promise<Record<string, Tensor | GpuTensor>> {
    if (this.releasing) throw new ReleasedError(`${RELEASED} (it was released while this run waited for an earlier one)`);
    const c = await this.specialize(feeds, dims);
    const rest: Record<string, Tensor | GpuTensor> = {};
    for (const [k, v] of Object.entries(feeds)) if (!this.bound.includes(k)) rest[k] = v;
    return c.executor.run(rest, options as { outputLocation: 'gpu-buffer' });
  }

  private async specialize(feeds: Record<string, Tensor | GpuTensor>, dims: Record<string, number>): Promise<Compiled> {
    for (;;) {
      const values: Record<string, Tensor> = {};
      for (const name of this.bound) {
        const v = feeds[name]!;
        // A value compiled in is read on the CPU.
        if (v instanceof GpuTensor) throw new InputError(`input '${name}' is compiled into the model (its value shapes it), so it must be a CPU tensor, not a GPU tensor`);
        values[name] = v;
      }
      const dimValues = this.shapeSpecialized ? dims : undefined;
      const key = JSON.stringify([dimValues, this.bound.map((n) => [values[n]!.type, values[n]!.dims, Array.from(values[n]!.data as ArrayLike<number | bigint>, String)])]);
      const hit = this.specializations.get(key);
      if (hit) {
        // Most recently used last: eviction takes the first.
        this.specializations.delete(key);
        this.specializations.set(key, hit);
        this.lastResult = hit.result;
        return hit;
      }
      let c: Compiled;
      try {
        c = await InferenceSession.load(this.bytes, {
          ...this.options, inputValues: values, ...(dimValues ? { dimValues: { ...this.options.dimValues, ...dimValues } } : {}),
        });
      } catch (e) {
        if (!(e instanceof InputValueNeeded) || this.bound.includes(e.input)) throw e;
        this.bound.push(e.input);
        continue;
      }
      if (this.releasing) {
        await c.executor.dispose();
        throw new ReleasedError(`${RELEASED} (it was released while this run was compiling)`);
      }
      if (this.specializations.size >= MAX_SPECIALIZATIONS) {
        // Runs are queued, so no other run holds the evicted executor.
        const [oldest] = this.specializations.keys();
        void this.specializations.get(oldest!)!.executor.dispose();
        this.specializations.delete(oldest!);
      }
      this.specializations.set(key, c);
      this.lastResult = c.result;
      return c;
    }
  }
}

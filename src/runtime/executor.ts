/**
 * The executor: loads an Executable on its device and runs it. Validates feeds
 * (runtime/feeds.ts: names, dtypes, shapes, data lengths) with clear errors, copies
 * inputs into their planned arena slots, runs the steps in order and copies the outputs
 * out (results never alias the arena, so the next run cannot change them).
 *
 * Runs are asynchronous (a GPU reads its results back asynchronously) and queued: runs of
 * one executor never interleave (the bound batch layout and the arena belong to one run
 * at a time). Host devices (js, wasm) also run synchronously (runSync).
 */
import { MAX_ARENA_BYTES, bytesText } from './limits.js';
import { InputError, InternalError, LimitError, ReleasedError, kernelFailure } from './error.js';
import type { TypedArray } from './dtype.js';
import type { Executable, IOSlot } from './executable.js';
import { arenaBytesAt, layoutAtBatch } from './batch.js';
import { type Feeds, type InputSpec, checkFeeds } from './feeds.js';
import { Tensor } from './tensor.js';
import type { GpuTensor } from './gpu_tensor.js';

/** Options of one run. */
export interface RunOptions {
  /** Where outputs go: 'cpu' (Tensors; default) or 'gpu-buffer' (GPU tensors, webgpu only). */
  readonly outputLocation?: 'cpu' | 'gpu-buffer';
}
import { type Device, type DeviceOptions, type LoadedProgram, deviceFor, deviceKinds } from './devices/index.js';

export { InputError } from './error.js';

function device(exe: Executable): Device {
  if (exe.format !== 'tessera-executable' || exe.version !== 1) throw new InputError('not a tessera executable (format/version mismatch)');
  const d = deviceFor(exe.module?.kind);
  if (!d) throw new InputError(`no runtime device runs '${String(exe.module?.kind)}' kernel modules (target ${exe.target}); devices: ${deviceKinds().join(', ')}`);
  return d;
}

export class Executor {
  /** The layout the steps are bound for (the executable, or its layout at the last batch size). */
  private layout: Executable;
  private steps: (() => void)[];
  private batchSize = 1;
  /** The inputs as declared (a dynamic batch dim by its name), for feed checks. */
  private readonly specs: readonly InputSpec[];
  private disposing: Promise<void> | undefined;
  /** The tail of the runs' queue (each run waits for the one before). */
  private queue: Promise<unknown> = Promise.resolve();
  /** Runs queued and not yet settled. */
  private inFlight = 0;

  private constructor(readonly executable: Executable, private readonly program: LoadedProgram) {
    const b = executable.batch;
    this.specs = executable.inputs.map((s) => ({ name: s.name, dtype: s.dtype, dims: s.batched && b ? [b.dim, ...s.shape.slice(1)] : s.shape }));
    this.layout = layoutAtBatch(executable, 1);
    this.steps = program.bind(this.layout);
  }

  /** Loads an executable on its target's device; `threads` caps the threads it runs on. */
  static async load(exe: Executable, opts: DeviceOptions = {}): Promise<Executor> {
    return new Executor(exe, await device(exe).load(exe, opts));
  }

  /**
   * Stops the executor's worker threads (if any); resolves once they have exited. Runs
   * after it fail with a ReleasedError; disposing again is harmless.
   */
  dispose(): Promise<void> {
    this.disposing ??= Promise.resolve(this.program.dispose?.()).then(() => undefined, () => undefined);
    return this.disposing;
  }

  /** Whether `dispose` was called. */
  get disposed(): boolean {
    return this.disposing !== undefined;
  }

  /**
   * Loads an executable without awaiting, on one thread (used where the caller is
   * synchronous; wasm compiles synchronously, which browsers allow only for small modules).
   */
  static loadSync(exe: Executable): Executor {
    const d = device(exe);
    if (!d.loadSync) throw new InputError(`the ${d.kind} device loads only asynchronously: use Executor.load`);
    return new Executor(exe, d.loadSync(exe));
  }

  get inputNames(): string[] {
    return this.executable.inputs.map((i) => i.name);
  }
  get outputNames(): string[] {
    return this.executable.outputs.map((o) => o.name);
  }
  /** The inputs as declared: name, dtype and dims (a dynamic batch dim by its name). */
  get inputSpecs(): readonly InputSpec[] {
    return this.specs;
  }
  /** Input slots (for a dynamic batch: at the batch size of the last run, 1 before any). */
  get inputs(): readonly IOSlot[] {
    return this.layout.inputs;
  }
  get outputs(): readonly IOSlot[] {
    return this.layout.outputs;
  }

  /**
   * Binds the steps for batch size `n` (dynamic-batch executables), refusing a batch
   * whose arena would pass the limit before anything is allocated.
   */
  private bindBatch(n: number | undefined): void {
    const exe = this.executable;
    const b = exe.batch;
    if (!b || n === undefined || n === this.batchSize) return;
    const from = this.specs.find((s) => s.dims[0] === b.dim)?.name ?? '';
    if (n < 1) throw new InputError(`input '${from}': dim '${b.dim}' must be at least 1, got ${n}`);
    const bytes = arenaBytesAt(exe, n);
    if (bytes > MAX_ARENA_BYTES) {
      let most = Math.floor((MAX_ARENA_BYTES - b.base) / b.sampleBytes);
      while (most > 0 && arenaBytesAt(exe, most) > MAX_ARENA_BYTES) most--;
      throw new LimitError(`input '${from}': dim '${b.dim}' = ${n} needs an arena of ${bytesText(bytes)} (${b.base} bytes + ${n} × ${b.sampleBytes} bytes per sample), `
        + `beyond the ${bytesText(MAX_ARENA_BYTES)} Tessera supports per model; the largest ${b.dim} that fits is ${most}`);
    }
    const layout = layoutAtBatch(exe, n);
    this.steps = this.program.bind(layout);
    this.layout = layout;
    this.batchSize = n;
  }

  /**
   * Runs the model `runs` times and returns the median time of each step (kernel), in
   * ms, in step order: where the time goes. A step's time includes completing its work
   * (on a GPU, each step is submitted and awaited on its own).
   */
  async profile(feeds: Feeds, runs = 5): Promise<{ kernel: string; ms: number }[]> {
    await this.run(feeds);
    const times = this.steps.map(() => [] as number[]);
    const none: readonly IOSlot[] = [];
    for (let r = 0; r < runs; r++) {
      for (let i = 0; i < this.steps.length; i++) {
        const t0 = performance.now();
        this.steps[i]!();
        await this.program.read(none);
        times[i]!.push(performance.now() - t0);
      }
    }
    return this.layout.steps.map((s, i) => {
      const t = times[i]!.sort((a, b) => a - b);
      return { kernel: s.kernel, ms: t[t.length >> 1]! };
    });
  }

  /**
   * Runs the model on `feeds` (keyed by input name; GPU tensors too on the webgpu device);
   * results by output name, copies the caller owns: Tensors, or with `outputLocation:
   * 'gpu-buffer'` (webgpu) GPU tensors that stay on the device. Runs of one executor do not
   * interleave: each waits for the one before.
   */
  run(feeds: Feeds, options?: { readonly outputLocation?: 'cpu' }): Promise<Record<string, Tensor>>;
  run(feeds: Feeds, options: { readonly outputLocation: 'gpu-buffer' }): Promise<Record<string, GpuTensor>>;
  run(feeds: Feeds, options: RunOptions = {}): Promise<Record<string, Tensor | GpuTensor>> {
    const onGpu = options.outputLocation === 'gpu-buffer';
    if (onGpu && !this.program.readGpu) {
      return Promise.reject(new InputError(`outputLocation 'gpu-buffer' needs a GPU device; this executable runs on ${this.executable.module.kind}`));
    }
    // A host device with no run in flight runs now: a run then costs no trip through the queue.
    if (this.program.sync && this.inFlight === 0) {
      try {
        return Promise.resolve(this.runSync(feeds));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    this.inFlight++;
    const job = this.queue.then(async () => {
      const read = this.start(feeds);
      if (!onGpu) return read();
      const slots = this.layout.outputs;
      const out: Record<string, GpuTensor> = {};
      (await this.program.readGpu!(slots)).forEach((t, i) => { out[slots[i]!.name] = t; });
      return out;
    });
    this.queue = job.then(() => undefined, () => undefined).finally(() => { this.inFlight--; });
    return job;
  }

  /**
   * Runs the model synchronously, on a device whose memory is the host's (js, wasm): for
   * callers that cannot await (the compiler's constant folding).
   */
  runSync(feeds: Feeds): Record<string, Tensor> {
    if (!this.program.sync) throw new InputError(`the ${this.executable.module.kind} device runs asynchronously: use run`);
    const out = this.start(feeds)();
    if (out instanceof Promise) throw new InternalError('a synchronous device returned a pending read', undefined);
    return out;
  }

  /** Checks and writes the feeds and calls the steps; returns the read of the outputs. */
  private start(feeds: Feeds): () => Record<string, Tensor> | Promise<Record<string, Tensor>> {
    if (this.disposing) throw new ReleasedError('this executor was disposed; load the executable again to run it');
    const gpu = this.program.gpuDevice !== undefined ? { device: this.program.gpuDevice } : undefined;
    const { tensors, gpu: onGpu, dims } = checkFeeds(feeds, this.specs, gpu);
    if (this.executable.batch) this.bindBatch(dims[this.executable.batch.dim]);
    const exe = this.layout;
    for (const slot of exe.inputs) {
      const g = onGpu.get(slot.name);
      if (g) this.program.writeGpu!(slot, g);
      else this.program.write(slot, tensors[slot.name]!.data);
    }
    const steps = this.steps;
    for (let i = 0; i < steps.length; i++) {
      try {
        steps[i]!();
      } catch (e) {
        throw kernelFailure(e, exe.steps[i]!.kernel);
      }
    }
    const wrap = (data: readonly TypedArray[]): Record<string, Tensor> => {
      const out: Record<string, Tensor> = {};
      exe.outputs.forEach((slot, i) => { out[slot.name] = new Tensor(slot.dtype, data[i]!, slot.shape); });
      return out;
    };
    return () => {
      const data = this.program.read(exe.outputs);
      return data instanceof Promise ? data.then(wrap) : wrap(data);
    };
  }
}

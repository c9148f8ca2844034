/**
 * The executor: loads an Executable on its device and runs it. Validates feeds
 * (runtime/feeds.ts: names, dtypes, shapes, data lengths) with clear errors, copies
 * inputs into their planned arena slots, runs the steps in order and copies the outputs
 * out (results never alias the arena, so the next run cannot change them).
 *
 * A run is synchronous from the feed check to the output copy, so runs on one executor
 * never interleave (the bound batch layout and the arena belong to one run at a time).
 */
import { MAX_ARENA_BYTES, bytesText } from './limits.js';
import { InputError, LimitError, ReleasedError, kernelFailure } from './error.js';
import { viewArray } from './dtype.js';
import type { Executable, IOSlot } from './executable.js';
import { arenaBytesAt, layoutAtBatch } from './batch.js';
import { type Feeds, type InputSpec, checkFeeds } from './feeds.js';
import { Tensor, shapeSize } from './tensor.js';
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
   * ms, in step order: where the time goes.
   */
  profile(feeds: Feeds, runs = 5): { kernel: string; ms: number }[] {
    this.run(feeds);
    const times = this.steps.map(() => [] as number[]);
    for (let r = 0; r < runs; r++) {
      this.steps.forEach((step, i) => {
        const t0 = performance.now();
        step();
        times[i]!.push(performance.now() - t0);
      });
    }
    return this.layout.steps.map((s, i) => {
      const t = times[i]!.sort((a, b) => a - b);
      return { kernel: s.kernel, ms: t[t.length >> 1]! };
    });
  }

  /** Runs the model on `feeds` (keyed by input name); results by output name, copies the caller owns. */
  run(feeds: Feeds): Record<string, Tensor> {
    if (this.disposing) throw new ReleasedError('this executor was disposed; load the executable again to run it');
    const { tensors, dims } = checkFeeds(feeds, this.specs);
    if (this.executable.batch) this.bindBatch(dims[this.executable.batch.dim]);
    const exe = this.layout;
    const arena = this.program.arena();
    for (const slot of exe.inputs) {
      const t = tensors[slot.name]!;
      (viewArray(slot.dtype, arena, slot.offset, t.size) as { set(a: ArrayLike<number | bigint>): void }).set(t.data);
    }
    const steps = this.steps;
    for (let i = 0; i < steps.length; i++) {
      try {
        steps[i]!();
      } catch (e) {
        throw kernelFailure(e, exe.steps[i]!.kernel);
      }
    }
    const out: Record<string, Tensor> = {};
    const after = this.program.arena();
    for (const slot of exe.outputs) {
      const view = viewArray(slot.dtype, after, slot.offset, shapeSize(slot.shape));
      out[slot.name] = new Tensor(slot.dtype, view.slice(), slot.shape);
    }
    return out;
  }
}

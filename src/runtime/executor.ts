/**
 * The executor: loads an Executable on its device and runs it. Validates feeds
 * (names, dtypes, shapes) with clear errors, copies inputs into their planned arena
 * slots, runs the steps in order and copies the outputs out.
 */
import { TesseraError } from './error.js';
import { viewArray } from './dtype.js';
import type { Executable, IOSlot, TargetName } from './executable.js';
import { layoutAtBatch } from './batch.js';
import { Tensor, shapeSize } from './tensor.js';
import type { Device, DeviceOptions, LoadedProgram } from './devices/device.js';
import { jsDevice, loadJsProgram } from './devices/js.js';
import { loadWasmProgramSync, wasmDevice } from './devices/wasm.js';

const DEVICES: Record<TargetName, Device> = { js: jsDevice, wasm: wasmDevice };

export class InputError extends TesseraError {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

export class Executor {
  /** The layout the steps are bound for (the executable, or its layout at the last batch size). */
  private layout: Executable;
  private steps: (() => void)[];
  private batchSize = 1;

  private constructor(readonly executable: Executable, private readonly program: LoadedProgram) {
    this.layout = layoutAtBatch(executable, 1);
    this.steps = program.bind(this.layout);
  }

  /** Loads an executable on its target's device; `threads` caps the threads it runs on. */
  static async load(exe: Executable, opts: DeviceOptions = {}): Promise<Executor> {
    if (exe.format !== 'tessera-executable' || exe.version !== 1) throw new Error('not a tessera executable (format/version mismatch)');
    const device = DEVICES[exe.target];
    if (!device) throw new Error(`unknown target ${String(exe.target)}`);
    return new Executor(exe, await device(exe, opts));
  }

  /** Stops the executor's worker threads (if any). */
  dispose(): void {
    this.program.dispose?.();
  }

  /**
   * Loads an executable without awaiting, on one thread (used where the caller is
   * synchronous; wasm compiles synchronously, which browsers allow only for small modules).
   */
  static loadSync(exe: Executable): Executor {
    return new Executor(exe, exe.target === 'js' ? loadJsProgram(exe) : loadWasmProgramSync(exe));
  }

  get inputNames(): string[] {
    return this.executable.inputs.map((i) => i.name);
  }
  get outputNames(): string[] {
    return this.executable.outputs.map((o) => o.name);
  }
  /** Input slots (for a dynamic batch: at the batch size of the last run, 1 before any). */
  get inputs(): readonly IOSlot[] {
    return this.layout.inputs;
  }
  get outputs(): readonly IOSlot[] {
    return this.layout.outputs;
  }

  /** Binds the steps for the batch size of `feeds` (dynamic-batch executables). */
  private bindBatch(feeds: Readonly<Record<string, Tensor>>): void {
    const exe = this.executable;
    if (!exe.batch) return;
    let n: number | undefined;
    let from = '';
    for (const slot of exe.inputs) {
      const t = feeds[slot.name];
      if (!slot.batched || !(t instanceof Tensor) || t.dims.length !== slot.shape.length) continue;
      const d = t.dims[0]!;
      if (n !== undefined && d !== n) {
        throw new InputError(`input '${slot.name}': dim '${exe.batch.dim}' is ${d} here but ${n} in input '${from}'`);
      }
      n = d;
      from = slot.name;
    }
    if (n === undefined || n === this.batchSize) return;
    if (!Number.isInteger(n) || n < 1) throw new InputError(`input '${from}': dim '${exe.batch.dim}' must be at least 1, got ${n}`);
    this.layout = layoutAtBatch(exe, n);
    this.steps = this.program.bind(this.layout);
    this.batchSize = n;
  }

  /**
   * Runs the model `runs` times and returns the median time of each step (kernel), in
   * ms, in step order: where the time goes.
   */
  profile(feeds: Readonly<Record<string, Tensor>>, runs = 5): { kernel: string; ms: number }[] {
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

  run(feeds: Readonly<Record<string, Tensor>>): Record<string, Tensor> {
    this.bindBatch(feeds);
    const exe = this.layout;
    const expected = new Set(this.inputNames);
    for (const name of Object.keys(feeds)) {
      if (!expected.has(name)) throw new InputError(`unknown input '${name}'; the model's inputs are: ${this.inputNames.join(', ')}`);
    }
    const arena = this.program.arena();
    exe.inputs.forEach((slot, k) => {
      const t = feeds[slot.name];
      // As declared: a dynamic batch dim by its name.
      const declared = (): string => {
        const s = this.executable.inputs[k]!;
        return `[${(s.batched ? [this.executable.batch!.dim, ...s.shape.slice(1)] : s.shape).join(', ')}]`;
      };
      if (!t) throw new InputError(`missing input '${slot.name}' (${slot.dtype}${declared()})`);
      if (!(t instanceof Tensor)) throw new InputError(`input '${slot.name}' must be a Tensor`);
      if (t.type !== slot.dtype) throw new InputError(`input '${slot.name}': expected dtype ${slot.dtype}, got ${t.type}`);
      if (t.dims.length !== slot.shape.length || t.dims.some((d, i) => d !== slot.shape[i])) {
        throw new InputError(`input '${slot.name}': expected shape ${declared()}, got [${t.dims.join(', ')}]`);
      }
      (viewArray(slot.dtype, arena, slot.offset, t.size) as { set(a: ArrayLike<number | bigint>): void }).set(t.data);
    });
    for (const step of this.steps) step();
    const out: Record<string, Tensor> = {};
    const after = this.program.arena();
    for (const slot of exe.outputs) {
      const view = viewArray(slot.dtype, after, slot.offset, shapeSize(slot.shape));
      out[slot.name] = new Tensor(slot.dtype, view.slice(), slot.shape);
    }
    return out;
  }
}

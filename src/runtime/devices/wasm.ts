/**
 * The WebAssembly device: the arena is the module's imported linear memory
 * (`env.memory`); intrinsics wasm lacks are imported from `math`. Each kernel takes
 * the byte offsets of its arguments, then the offset of the shared workspace; a kernel
 * with very many arguments (module.argTables) takes the offset of the argument table,
 * into which its step writes the arguments' offsets just before the call. With
 * threads > 1 (a module built with a shared memory), kernels that have parallel
 * regions run them on a pool of workers.
 */
import { DeviceError, LimitError } from '../error.js';
import type { Executable, KernelModule } from '../executable.js';
import { halfIntrinsics, mathIntrinsics } from '../math.js';
import { type DeviceOptions, type LoadedProgram, hostIO, registerDevice } from './device.js';
import type { ThreadPool } from './thread_pool.js';

/** The wasm target's kernel module: one WebAssembly module over an imported memory. */
export interface WasmKernelModule extends KernelModule {
  readonly kind: 'wasm';
  readonly bytes: Uint8Array;
  /** Scratch bytes each kernel needs in the workspace region (kernels take its offset as a last argument). */
  readonly workspace: Readonly<Record<string, number>>;
  /**
   * Kernels with too many arguments for parameters: they take (table, workspace), where
   * `table` is the arena offset of the executable's argument table (Executable.argTable),
   * into which the runtime writes the arguments' byte offsets (u32, in argument order)
   * before each call. Their region functions take (table, workspace, begin, end, threadWorkspace).
   */
  readonly argTables?: readonly string[];
  /** Kernels that can run on several threads, split into regions (absent: none). */
  readonly regions?: Readonly<Record<string, KernelRegions>>;
  /** Whether the module imports a shared memory (required for threads). */
  readonly sharedMemory?: boolean;
  /** Whether the module uses relaxed SIMD instructions (the engine must support them). */
  readonly relaxedSimd?: boolean;
}

/**
 * A kernel split for threads: its regions run in order; a parallel region's loop
 * iterations [0, extent) are divided among the threads, a serial one (extent 0) runs
 * on one thread. Region functions take (args..., workspace, begin, end, threadWorkspace);
 * scratch allocated at the kernel's top is shared (`sharedBytes` of the workspace), scratch
 * inside a parallel loop is per thread (`threadBytes` each, after the shared part).
 */
export interface KernelRegions {
  regions: { fn: string; extent: number }[];
  sharedBytes: number;
  threadBytes: number;
}

const PAGE = 65536;
/** The wasm32 limit: 4 GiB. */
const MAX_PAGES = 65536;

interface Setup {
  readonly memory: WebAssembly.Memory;
  readonly bytes: Uint8Array;
}

function wasmModule(exe: Executable): WasmKernelModule {
  if (exe.module.kind !== 'wasm') throw new Error(`wasm device cannot run a ${exe.module.kind} module`);
  return exe.module as WasmKernelModule;
}

/** The arena memory (constants copied in) for an executable. */
function setup(exe: Executable): Setup {
  const mod = wasmModule(exe);
  const pages = Math.max(1, Math.ceil(exe.arenaBytes / PAGE));
  // A dynamic-batch arena grows with the batch size (a shared memory needs its maximum up front).
  const maximum = exe.batch ? MAX_PAGES : pages;
  if (mod.sharedMemory && typeof SharedArrayBuffer === 'undefined') {
    throw new DeviceError('this executable was built for threads and needs a shared memory, but SharedArrayBuffer is unavailable '
      + '(a browser page must be cross-origin isolated: Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy: require-corp)');
  }
  const memory = new WebAssembly.Memory(mod.sharedMemory ? { initial: pages, maximum, shared: true } : { initial: pages, maximum });
  new Uint8Array(memory.buffer).set(exe.constants, 0);
  return { memory, bytes: mod.bytes };
}

function compileError(exe: Executable, e: unknown): Error {
  return wasmModule(exe).relaxedSimd
    ? new DeviceError(`this engine cannot compile the kernels: they use relaxed SIMD (compile with fma: false for engines without it): ${(e as Error).message}`)
    : (e as Error);
}

const imports = (memory: WebAssembly.Memory): WebAssembly.Imports => ({ env: { memory }, math: { ...mathIntrinsics, ...halfIntrinsics } });

async function loadWasmProgram(exe: Executable, opts: DeviceOptions = {}): Promise<LoadedProgram> {
  const threads = Math.max(1, Math.min(opts.threads ?? exe.threads, exe.threads));
  const { memory, bytes } = setup(exe);
  let compiled: WebAssembly.Module;
  try {
    compiled = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw compileError(exe, e);
  }
  const instance = await WebAssembly.instantiate(compiled, imports(memory));
  const regions = wasmModule(exe).regions ?? {};
  const parallel = threads > 1 && Object.keys(regions).length > 0;
  const names = Object.values(regions).flatMap((r) => r.regions.map((x) => x.fn));
  const tables = new Set(wasmModule(exe).argTables);
  // The arguments a region call passes the pool: offsets (or the table), then the workspace.
  let maxArgs = 0;
  for (const s of exe.steps) if (regions[s.kernel]) maxArgs = Math.max(maxArgs, (tables.has(s.kernel) ? 1 : s.args.length) + 1);
  const pool = parallel ? await (await import('./thread_pool.js')).ThreadPool.create(compiled, memory, threads, names, maxArgs, opts) : undefined;
  return program(exe, memory, instance, pool, names);
}

/**
 * Loads a wasm executable synchronously, on one thread (for the compiler's own use in
 * Node, e.g. evaluating constants; browsers limit synchronous compilation).
 */
export function loadWasmProgramSync(exe: Executable): LoadedProgram {
  const { memory, bytes } = setup(exe);
  let compiled: WebAssembly.Module;
  try {
    compiled = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    throw compileError(exe, e);
  }
  return program(exe, memory, new WebAssembly.Instance(compiled, imports(memory)), undefined, []);
}

function program(exe: Executable, memory: WebAssembly.Memory, instance: WebAssembly.Instance, pool: ThreadPool | undefined, names: readonly string[]): LoadedProgram {
  const fn = (name: string): ((...a: number[]) => void) => {
    const f = instance.exports[name];
    if (typeof f !== 'function') throw new Error(`executable step calls kernel ${name}, which the module does not export`);
    return f as (...a: number[]) => void;
  };
  const regions = wasmModule(exe).regions ?? {};
  const tables = new Set(wasmModule(exe).argTables);
  const poolIndex = new Map(names.map((n, i) => [n, i]));
  const bind = (layout: Executable): (() => void)[] => {
    const need = Math.ceil(layout.arenaBytes / PAGE) - memory.buffer.byteLength / PAGE;
    if (need > 0) {
      try {
        memory.grow(need);
      } catch (e) {
        throw new LimitError(`could not grow the wasm memory to ${layout.arenaBytes} bytes for this run: ${(e as Error).message}`);
      }
    }
    // After growing: growing a memory detaches the buffer of earlier views.
    const words = new Uint32Array(memory.buffer);
    return layout.steps.map((s) => step(s, layout, words));
  };
  const step = (s: Executable['steps'][number], layout: Executable, words: Uint32Array): (() => void) => {
    const ws = layout.workspaceOffset;
    const argOffsets = s.args.map((a) => a.offset);
    let offsets: number[];
    let writeTable = (): void => {};
    if (tables.has(s.kernel)) {
      const table = layout.argTable;
      if (!table || table.offset % 4 !== 0 || 4 * argOffsets.length > table.bytes) {
        throw new Error(`executable step ${s.kernel} reads ${argOffsets.length} arguments from an argument table, but the executable's table does not hold them`);
      }
      const at = table.offset / 4;
      const values = Uint32Array.from(argOffsets);
      writeTable = () => words.set(values, at);
      offsets = [table.offset, ws];
    } else {
      offsets = [...argOffsets, ws];
    }
    const split = regions[s.kernel];
    if (!pool || !split) {
      const call = fn(s.kernel);
      return () => {
        writeTable();
        call(...offsets);
      };
    }
    const tws = ws + split.sharedBytes;
    const parts = split.regions.map((r) => ({ call: fn(r.fn), index: poolIndex.get(r.fn)!, extent: r.extent }));
    return () => {
      writeTable();
      for (const p of parts) {
        if (p.extent === 0) p.call(...offsets, 0, 0, tws);
        else pool.run(p.index, offsets, p.extent, tws, split.threadBytes, (b, e, t) => p.call(...offsets, b, e, t));
      }
    };
  };
  return { ...hostIO(() => memory.buffer), bind, dispose: () => pool?.dispose() };
}

registerDevice({ kind: 'wasm', load: loadWasmProgram, loadSync: loadWasmProgramSync });

/** Whether a kernel module is the wasm target's. */
export function isWasmModule(m: KernelModule): m is WasmKernelModule {
  return m.kind === 'wasm';
}

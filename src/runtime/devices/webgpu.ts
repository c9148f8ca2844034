/// <reference types="@webgpu/types" />
/**
 * The WebGPU device: the arena is one GPU storage buffer in word storage (each element a
 * 32-bit word: runtime/word_storage.ts), the kernels are WGSL compute shaders (one or more
 * dispatches each). A run writes the feeds with queue.writeBuffer, records every step's
 * dispatches in one compute pass of one command encoder, copies the outputs to a staging
 * buffer and maps it (the read is asynchronous).
 *
 * The GPU comes from `navigator.gpu` (browsers) or, in Node, from the `webgpu` package
 * (Dawn), which needs a Vulkan driver (docs/webgpu.md). A lost device or an allocation the
 * GPU refuses is a DeviceError; the session can then be created again.
 */
import { DeviceError, InputError, InternalError } from '../error.js';
import type { Executable, KernelModule, TensorSlot } from '../executable.js';
import { WordRangeError, fromWords, toWords } from '../word_storage.js';
import { shapeSize } from '../tensor.js';
import type { TypedArray } from '../dtype.js';
import { type LoadedProgram, registerDevice } from './device.js';
import { GpuTensor, mapWords } from '../gpu_tensor.js';

export interface WebGpuDispatch {
  /** Index into the module's shaders. */
  readonly shader: number;
  readonly workgroup: readonly [number, number, number];
  readonly grid: readonly [number, number, number];
}

export interface WebGpuKernel {
  readonly dispatches: readonly WebGpuDispatch[];
}

/** The webgpu target's kernel module: WGSL shaders (deduplicated) and each kernel's dispatches. */
export interface WebGpuKernelModule extends KernelModule {
  readonly kind: 'webgpu';
  readonly shaders: readonly string[];
  readonly kernels: Readonly<Record<string, WebGpuKernel>>;
}

export function isWebGpuModule(m: KernelModule): m is WebGpuKernelModule {
  return m.kind === 'webgpu';
}

// The numeric values of GPUBufferUsage (the globals are absent in Node).
const MAP_READ = 0x1;
const COPY_SRC = 0x4;
const COPY_DST = 0x8;
const UNIFORM = 0x40;
const STORAGE = 0x80;

/** Uniform-buffer offsets must be multiples of this (minUniformBufferOffsetAlignment on every adapter). */
const UNIFORM_ALIGN = 256;

/** The GPU: one per process (Dawn's instance must outlive every device made from it). */
let gpuPromise: Promise<GPU> | undefined;

async function findGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (typeof process === 'undefined' || !process.versions?.node) {
    throw new DeviceError('this JavaScript engine has no WebGPU (navigator.gpu is missing; browsers expose it in secure contexts, Chrome 113+)');
  }
  // A specifier bundlers leave alone: the package exists only for Node.
  const pkg = 'webgpu';
  let mod: { create(options: string[]): GPU };
  try {
    mod = (await import(pkg)) as { create(options: string[]): GPU };
  } catch (e) {
    throw new DeviceError(`the webgpu target in Node needs the npm package 'webgpu' (Dawn's bindings): npm install webgpu (${(e as Error).message})`);
  }
  return mod.create([]);
}

function gpu(): Promise<GPU> {
  gpuPromise ??= findGpu().catch((e: unknown) => {
    gpuPromise = undefined;
    throw e;
  });
  return gpuPromise;
}

const NO_ADAPTER = 'no WebGPU adapter is available (in Node, Dawn needs a Vulkan driver: install libvulkan1 and a driver, '
  + 'e.g. set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json for the SwiftShader one Debian\'s chromium ships; see docs/webgpu.md)';

/**
 * The device every webgpu program of this process (or page) shares, as GPU tensors flow
 * between them; it asks for the adapter's largest buffers. A lost device is replaced by
 * the next load.
 */
let sharedDevice: Promise<GPUDevice> | undefined;

function gpuDevice(): Promise<GPUDevice> {
  sharedDevice ??= (async () => {
    const adapter = await (await gpu()).requestAdapter();
    if (!adapter) throw new DeviceError(NO_ADAPTER);
    const l = adapter.limits;
    const device = await adapter.requestDevice({
      requiredLimits: { maxStorageBufferBindingSize: l.maxStorageBufferBindingSize, maxBufferSize: l.maxBufferSize },
    });
    void device.lost.then(() => { sharedDevice = undefined; });
    return device;
  })().catch((e: unknown) => {
    sharedDevice = undefined;
    throw e;
  });
  return sharedDevice;
}

/** The shared device, checked to hold an arena of `arenaBytes`. */
async function openDevice(arenaBytes: number): Promise<GPUDevice> {
  const device = await gpuDevice();
  const need = Math.max(4, Math.ceil(arenaBytes / 4) * 4);
  const l = device.limits;
  if (need > l.maxStorageBufferBindingSize || need > l.maxBufferSize) {
    throw new DeviceError(`the model needs a GPU buffer of ${need} bytes; this adapter binds at most ${Math.min(l.maxStorageBufferBindingSize, l.maxBufferSize)} bytes`);
  }
  return device;
}

function webgpuModule(exe: Executable): WebGpuKernelModule {
  if (!isWebGpuModule(exe.module)) throw new InputError(`the webgpu device cannot run a ${exe.module.kind} module`);
  if (!exe.wordStorage) throw new InputError('a webgpu executable keeps its tensors in word storage, and this one does not (it was not built for webgpu)');
  return exe.module;
}

interface DeviceCache {
  readonly layout: GPUBindGroupLayout;
  /** The pipeline of a shader, created once per device (programs with equal kernels share it). */
  pipeline(code: string): Promise<GPUComputePipeline>;
}

const caches = new WeakMap<GPUDevice, DeviceCache>();

/** Every shader binds the arena (storage) and its step's argument block (uniform, dynamic offset). */
function pipelinesOf(device: GPUDevice): DeviceCache {
  let c = caches.get(device);
  if (c) return c;
  const layout = device.createBindGroupLayout({
    entries: [
      { binding: 0, visibility: 4 /* COMPUTE */, buffer: { type: 'storage' } },
      { binding: 1, visibility: 4, buffer: { type: 'uniform', hasDynamicOffset: true } },
    ],
  });
  const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
  const made = new Map<string, Promise<GPUComputePipeline>>();
  const pipeline = (code: string): Promise<GPUComputePipeline> => {
    let p = made.get(code);
    if (!p) {
      const module = device.createShaderModule({ code });
      p = device.createComputePipelineAsync({ layout: pipelineLayout, compute: { module, entryPoint: 'main' } }).catch(async (e: unknown) => {
        made.delete(code);
        const info = await module.getCompilationInfo();
        const msgs = info.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos}: ${m.message}`).join('; ');
        throw new InternalError(`creating the pipeline of a generated WGSL shader (${msgs || (e as Error).message})`, e);
      });
      made.set(code, p);
    }
    return p;
  };
  c = { layout, pipeline };
  caches.set(device, c);
  return c;
}

async function loadWebGpuProgram(exe: Executable): Promise<LoadedProgram> {
  const mod = webgpuModule(exe);
  const device = await openDevice(exe.arenaBytes);
  let lost: string | undefined;
  // A driver reset, a removed GPU, a page destroying the device: every program on it is lost.
  void device.lost.then((info) => {
    lost = `the GPU device was lost (${info.message || info.reason}); create the session again`;
  });
  const { layout, pipeline } = pipelinesOf(device);
  const pipelines = await Promise.all(mod.shaders.map((code) => pipeline(code)));

  let arenaSize = 0;
  let arena: GPUBuffer | undefined;
  let args: GPUBuffer | undefined;
  let argBlock = UNIFORM_ALIGN;
  let bindGroup: GPUBindGroup | undefined;
  /** Dispatches recorded by the steps called since the last read. */
  let pending: { pipeline: GPUComputePipeline; grid: readonly [number, number, number]; argOffset: number }[] = [];
  /** Allocations whose out-of-memory scope is still open: each resolves to an error message or null. */
  let allocations: Promise<string | null>[] = [];

  const check = (): void => {
    if (lost) throw new DeviceError(lost);
  };

  /** A buffer; a refused allocation surfaces as a DeviceError at the next read. */
  const allocate = (size: number, usage: number, what: string): GPUBuffer => {
    device.pushErrorScope('out-of-memory');
    const b = device.createBuffer({ size, usage });
    allocations.push(device.popErrorScope().then((e) => (e ? `the GPU could not allocate ${size} bytes for the ${what}: ${e.message}` : null)));
    return b;
  };

  /** The arena at least `bytes` long: the constants copied in at first, the contents kept when it grows (a dynamic batch). */
  const ensureArena = (bytes: number): void => {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    if (arena && size <= arenaSize) return;
    const grown = allocate(size, STORAGE | COPY_DST | COPY_SRC, 'arena');
    if (arena) {
      const enc = device.createCommandEncoder();
      enc.copyBufferToBuffer(arena, 0, grown, 0, arenaSize);
      device.queue.submit([enc.finish()]);
      arena.destroy();
    } else if (exe.constants.byteLength > 0) {
      device.queue.writeBuffer(grown, 0, exe.constants as Uint8Array<ArrayBuffer>);
    }
    arena = grown;
    arenaSize = size;
    bindGroup = undefined;
  };
  ensureArena(exe.arenaBytes);

  /** Each step's argument block: its arguments' word offsets, then its workspace's. */
  const bind = (lay: Executable): (() => void)[] => {
    check();
    ensureArena(lay.arenaBytes);
    const stride = (n: number): number => Math.ceil(((n + 1) * 4) / UNIFORM_ALIGN) * UNIFORM_ALIGN;
    const offsets: number[] = [];
    let total = 0;
    for (const s of lay.steps) {
      offsets.push(total);
      total += stride(s.args.length);
      argBlock = Math.max(argBlock, stride(s.args.length));
    }
    const words = new Uint32Array(Math.max(total, UNIFORM_ALIGN) / 4);
    lay.steps.forEach((s, i) => {
      const base = offsets[i]! / 4;
      s.args.forEach((a, j) => { words[base + j] = a.offset / 4; });
      words[base + s.args.length] = lay.workspaceOffset / 4;
    });
    // The last block must span argBlock bytes from its offset.
    const size = Math.max(words.byteLength, (offsets.at(-1) ?? 0) + argBlock);
    args?.destroy();
    args = allocate(Math.ceil(size / 4) * 4, UNIFORM | COPY_DST, 'kernel arguments');
    device.queue.writeBuffer(args, 0, words);
    bindGroup = undefined;
    return lay.steps.map((s, i) => {
      const k = mod.kernels[s.kernel];
      if (!k) throw new InputError(`executable step calls kernel ${s.kernel}, which the module does not define`);
      const list = k.dispatches.map((d) => ({ pipeline: pipelines[d.shader]!, grid: d.grid, argOffset: offsets[i]! }));
      return () => { pending.push(...list); };
    });
  };

  const write = (slot: TensorSlot, data: TypedArray): void => {
    check();
    let w: Uint32Array;
    try {
      w = toWords(slot.dtype, data);
    } catch (e) {
      if (e instanceof WordRangeError) throw new InputError(`an input of dtype ${slot.dtype}: ${e.message}; the webgpu target computes 64-bit integers in 32 bits`);
      throw e;
    }
    device.queue.writeBuffer(arena!, slot.offset, w as Uint32Array<ArrayBuffer>);
  };

  const read = async (slots: readonly TensorSlot[]): Promise<TypedArray[]> => {
    const sizes = slots.map((s) => shapeSize(s.shape) * 4);
    const total = sizes.reduce((a, b) => a + b, 0);
    const staging = total > 0 ? device.createBuffer({ size: total, usage: MAP_READ | COPY_DST }) : undefined;
    await submit((enc) => {
      let at = 0;
      slots.forEach((s, i) => {
        if (sizes[i]! > 0) enc.copyBufferToBuffer(arena!, s.offset, staging!, at, sizes[i]!);
        at += sizes[i]!;
      });
    });
    if (!staging) {
      await device.queue.onSubmittedWorkDone();
      check();
      return slots.map((s) => fromWords(s.dtype, new Uint32Array(0)));
    }
    let all: Uint32Array;
    try {
      all = await mapWords(staging);
    } catch (e) {
      check();
      throw new DeviceError(`reading the results back from the GPU failed: ${(e as Error).message}`);
    }
    let at = 0;
    return slots.map((s, i) => {
      const n = sizes[i]! / 4;
      const out = fromWords(s.dtype, all.subarray(at, at + n));
      at += n;
      return out;
    });
  };

  /** Records the pending dispatches and `copies` in one submission; checks the errors it raises. */
  const submit = async (copies: (enc: GPUCommandEncoder) => void): Promise<void> => {
    check();
    const refused = (await Promise.all(allocations)).find((m) => m !== null);
    allocations = [];
    if (refused) throw new DeviceError(refused);
    bindGroup ??= device.createBindGroup({
      layout,
      entries: [{ binding: 0, resource: { buffer: arena! } }, { binding: 1, resource: { buffer: args!, size: argBlock } }],
    });
    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    const enc = device.createCommandEncoder();
    if (pending.length > 0) {
      const pass = enc.beginComputePass();
      for (const d of pending) {
        pass.setPipeline(d.pipeline);
        pass.setBindGroup(0, bindGroup, [d.argOffset]);
        pass.dispatchWorkgroups(d.grid[0], d.grid[1], d.grid[2]);
      }
      pass.end();
    }
    pending = [];
    copies(enc);
    device.queue.submit([enc.finish()]);
    const oom = await device.popErrorScope();
    const invalid = await device.popErrorScope();
    check();
    if (oom) throw new DeviceError(`the GPU ran out of memory running the model: ${oom.message}`);
    if (invalid) throw new InternalError('submitting the model\'s dispatches', invalid.message);
  };

  const writeGpu = (slot: TensorSlot, t: GpuTensor): void => {
    check();
    const bytes = shapeSize(slot.shape) * 4;
    if (bytes === 0) return;
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(t.gpuBuffer, 0, arena!, slot.offset, bytes);
    device.queue.submit([enc.finish()]);
  };

  const readGpu = async (slots: readonly TensorSlot[]): Promise<GpuTensor[]> => {
    const out = slots.map((s) => {
      const bytes = shapeSize(s.shape) * 4;
      return { s, bytes, buffer: allocate(Math.max(4, bytes), STORAGE | COPY_SRC | COPY_DST, `output of ${shapeSize(s.shape)} ${s.dtype} elements`) };
    });
    try {
      await submit((enc) => { for (const o of out) if (o.bytes > 0) enc.copyBufferToBuffer(arena!, o.s.offset, o.buffer, 0, o.bytes); });
    } catch (e) {
      for (const o of out) o.buffer.destroy();
      throw e;
    }
    return out.map((o) => new GpuTensor(o.s.dtype, o.s.shape, o.buffer, device));
  };

  return {
    sync: false,
    bind,
    write,
    read,
    gpuDevice: device,
    writeGpu,
    readGpu,
    // The device is shared with the process's other programs: only this program's buffers go.
    dispose: () => {
      arena?.destroy();
      args?.destroy();
    },
  };
}

registerDevice({ kind: 'webgpu', load: loadWebGpuProgram });

/// <reference types="@webgpu/types" />
/**
 * A tensor that stays in GPU memory, as onnxruntime-web's GPU tensors do: the webgpu
 * device returns outputs so when a run asks for them there (`run(feeds, { outputLocation:
 * 'gpu-buffer' })`), and takes them as feeds, copied on the GPU without a round trip
 * through the CPU (a decoder's state from one run to the next, one model's output into
 * another's input). Its buffer holds the elements in word storage (runtime/word_storage.ts:
 * one 32-bit word each) and belongs to the device that made it; runs on another device
 * refuse it. `getData()` reads it back; `dispose()` frees it (further use is refused).
 */
import type { DType, TypedArray } from './dtype.js';
import { ReleasedError } from './error.js';
import { fromWords } from './word_storage.js';

const MAP_READ = 0x1;
const COPY_DST = 0x8;

export class GpuTensor {
  readonly location = 'gpu-buffer' as const;
  private freed = false;

  constructor(
    readonly type: DType,
    readonly dims: readonly number[],
    private readonly buffer: GPUBuffer,
    /** The device the buffer belongs to. */
    readonly device: GPUDevice,
  ) {}

  /** Elements in the tensor. */
  get size(): number {
    return this.dims.reduce((a, d) => a * d, 1);
  }

  get disposed(): boolean {
    return this.freed;
  }

  /** The GPU buffer (word storage), for use with other WebGPU code on the same device. */
  get gpuBuffer(): GPUBuffer {
    if (this.freed) throw new ReleasedError('this GPU tensor was disposed');
    return this.buffer;
  }

  /** Copies the elements to the CPU. */
  async getData(): Promise<TypedArray> {
    const src = this.gpuBuffer;
    const bytes = this.size * 4;
    if (bytes === 0) return fromWords(this.type, new Uint32Array(0));
    const staging = this.device.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(src, 0, staging, 0, bytes);
    this.device.queue.submit([enc.finish()]);
    return fromWords(this.type, await mapWords(staging));
  }

  /** Frees the GPU memory; disposing again is harmless. */
  dispose(): void {
    if (this.freed) return;
    this.freed = true;
    this.buffer.destroy();
  }
}

/** The words of a MAP_READ staging buffer once the GPU has filled it (a copy; the buffer is destroyed). */
export async function mapWords(staging: GPUBuffer): Promise<Uint32Array> {
  try {
    await staging.mapAsync(MAP_READ);
    const words = new Uint32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    return words;
  } finally {
    staging.destroy();
  }
}

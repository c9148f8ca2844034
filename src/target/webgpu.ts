/**
 * The webgpu target: WGSL compute shaders over one storage buffer (the arena), run by
 * the runtime's webgpu device in browsers (navigator.gpu) and in Node (the `webgpu`
 * package, Dawn). Every element is stored as one 32-bit word (runtime/word_storage.ts):
 * WGSL has no 8-, 16- or 64-bit storage types, so narrow types are widened, float64 is
 * rounded to f32 and 64-bit integers are stored and computed as 32-bit ones (a feed or
 * constant outside that range is refused; arithmetic beyond it wraps at 32 bits).
 */
import { registerTargetKind } from './target.js';

registerTargetKind({
  name: 'webgpu',
  keys: ['gpu'],
  description: 'WGSL compute shaders (browsers with WebGPU; Node with the webgpu package)',
  options: [],
  facts: () => ({
    features: new Set(),
    threads: 1,
    // vec4<f32>: what a WGSL vector load moves.
    vectorBytes: 16,
    // GPU rules budget invocations and workgroup memory, not a register tile.
    vectorRegisters: 0,
    l1DataBytes: 0,
    memoryScopes: new Set(['global', 'shared', 'local']),
    bufferAlignment: 16,
    storageDtypes: new Set(['float32', 'int32', 'uint32']),
    wordStorage: true,
    valueBinding: 'bind-all',
    layouts: {},
    // The limits WebGPU guarantees on every adapter (the device may allow more).
    gpu: {
      maxThreadsPerWorkgroup: 256,
      maxWorkgroupSize: [256, 256, 64],
      maxWorkgroupsPerDimension: 65535,
      maxWorkgroupStorageBytes: 16384,
    },
  }),
});

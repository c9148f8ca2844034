/**
 * The wasm target: WebAssembly with SIMD128 (one module over an imported memory; with
 * threads, a shared memory and a worker pool). Options:
 *   -threads=N   threads the kernels may run on (a shared memory, regions per parallel loop)
 *   -[no-]fma    vector a*b + c as relaxed SIMD's fused multiply-add; default: on where this
 *                engine has relaxed SIMD (Chrome 114+, Node 22+), whose modules then need it
 */
import { ALL_DTYPES } from '../runtime/dtype.js';
import { type TargetFacts, registerTargetKind } from './target.js';

/**
 * A module of one function `() -> f32` computing f32x4.relaxed_madd on three splats and
 * extracting lane 0: it validates exactly where the engine has relaxed SIMD.
 */
const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7d, // type section: () -> f32
  0x03, 0x02, 0x01, 0x00, // function section
  0x0a, 0x1f, 0x01, 0x1d, 0x00, // code section, one body, no locals
  0x43, 0x00, 0x00, 0x80, 0x3f, 0xfd, 0x13, // f32.const 1, f32x4.splat
  0x43, 0x00, 0x00, 0x00, 0x40, 0xfd, 0x13, // f32.const 2, f32x4.splat
  0x43, 0x00, 0x00, 0x40, 0x40, 0xfd, 0x13, // f32.const 3, f32x4.splat
  0xfd, 0x85, 0x02, // f32x4.relaxed_madd
  0xfd, 0x1f, 0x00, // f32x4.extract_lane 0
  0x0b,
]);

let relaxedSimdCache: boolean | undefined;

/** Whether this JavaScript engine validates relaxed-SIMD code (cached). */
export function relaxedSimdSupported(): boolean {
  if (relaxedSimdCache === undefined) {
    try {
      relaxedSimdCache = typeof WebAssembly !== 'undefined' && WebAssembly.validate(RELAXED_SIMD_PROBE);
    } catch {
      relaxedSimdCache = false;
    }
  }
  return relaxedSimdCache;
}

/** Facts shared with targets that run the wasm target's loop IR (the js target). */
export const CPU_SIMD128_FACTS: Omit<TargetFacts, 'features' | 'threads'> = {
  vectorBytes: 16,
  /**
   * x86-64 has 16 vector registers and V8 reserves one (xmm15) as scratch. V8's optimizing
   * compiler keeps wasm loads in program order but places arithmetic late, so all loads of a
   * loop body are live at once: a register tile's rounds·(rows + cols) + rows·cols must fit
   * in 15, or accumulators spill to the stack in the hot loop (measured: a 4×2 tile with 4
   * rounds per step ran at 37 GFLOP/s, with 1 round at 66). The CPU rules add the register
   * a product needs without fused multiply-add (schedule/cpu.ts).
   */
  vectorRegisters: 15,
  /** 32 KiB: the L1 data cache of current x86-64 (and most Arm) cores a wasm engine runs on. */
  l1DataBytes: 32 * 1024,
  memoryScopes: new Set(['global', 'local']),
  /** A v128 load/store is fastest 16-byte aligned. */
  bufferAlignment: 16,
  storageDtypes: new Set(ALL_DTYPES),
  // Divisions and math calls out of innermost loops; the emitter reuses loads itself.
  valueBinding: 'hoist-expensive',
  layouts: {
    conv: 'NCHW4c',
    matmulWeights: 'NK16n',
    // Below 16 input channels a Winograd conv's transforms cost more than its products save.
    winogradMinChannels: 16,
    // Measured over 3x3 convs at 14-56 pixels: blocked wins 1.1-2.5x up to 16 channels per
    // group and loses 1.2-2.7x from 32 (the NCHW tile reads wider input rows).
    blockedGroupMaxChannels: 16,
  },
};

registerTargetKind({
  name: 'wasm',
  keys: ['cpu'],
  description: 'WebAssembly SIMD128 kernels (Node, browsers); threads over a shared memory',
  options: [
    { name: 'threads', type: 'int', default: 1, min: 1, max: 256, doc: 'threads the kernels may run on' },
    { name: 'fma', type: 'bool', default: relaxedSimdSupported, doc: "relaxed SIMD's fused multiply-add (default: where this engine has relaxed SIMD)" },
  ],
  facts: (o) => ({
    ...CPU_SIMD128_FACTS,
    threads: o['threads'] as number,
    features: new Set(['simd128', ...(o['fma'] ? ['relaxed-simd'] : [])]),
  }),
});

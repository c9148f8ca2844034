/**
 * The js target: plain JavaScript loops over typed arrays (one module of kernels; no
 * threads, no vector instructions: a vectorized loop runs as its lanes in order). It
 * compiles the wasm target's loop IR (the same layouts and register tiles), which keeps the
 * two targets' results comparable and the js kernels' loops short.
 */
import { CPU_SIMD128_FACTS } from './wasm.js';
import { registerTargetKind } from './target.js';

registerTargetKind({
  name: 'js',
  keys: ['cpu'],
  description: 'JavaScript kernels over typed arrays (any engine, one thread)',
  options: [],
  facts: () => ({ ...CPU_SIMD128_FACTS, threads: 1, features: new Set() }),
});

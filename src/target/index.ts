/** The target kinds (each registers itself at import) and the target API. */
import './wasm.js';
import './js.js';
import './webgpu.js';

export * from './target.js';
export { relaxedSimdSupported } from './wasm.js';

/** The target a compilation uses when none is given. */
export const DEFAULT_TARGET = 'wasm';

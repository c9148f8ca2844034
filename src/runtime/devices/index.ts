/** The runtime devices (each registers itself by module kind at import). */
import './js.js';
import './wasm.js';
import './webgpu.js';

export { deviceFor, deviceKinds } from './device.js';
export type { Device, DeviceOptions, LoadedProgram } from './device.js';

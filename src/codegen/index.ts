/** Codegen entry: one kernel module for a target from a set of codegen-ready PrimFuncs. */
import type { KernelModule, TargetName } from '../runtime/executable.js';
import type { PrimFunc } from '../tir/stmt.js';
import { jsKernelModule } from './js/codegen.js';
import { buildWasmModule } from './wasm/codegen.js';

export const TARGETS: readonly TargetName[] = ['js', 'wasm'];

export interface CodegenOptions {
  /** Threads the code may run on (wasm: > 1 imports a shared memory). */
  readonly threads?: number;
  /** wasm: fuse vector multiply-adds with relaxed SIMD (needs an engine that has it). */
  readonly fma?: boolean;
}

export function generateModule(target: TargetName, funcs: readonly PrimFunc[], opts: CodegenOptions = {}): KernelModule {
  switch (target) {
    case 'js': return jsKernelModule(funcs);
    case 'wasm': return buildWasmModule(funcs, { sharedMemory: (opts.threads ?? 1) > 1, fma: opts.fma ?? false });
    default: throw new Error(`unknown target '${String(target)}'; available: ${TARGETS.join(', ')}`);
  }
}

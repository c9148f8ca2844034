/**
 * Codegen entry: one kernel module for a target from a set of codegen-ready PrimFuncs.
 * Codegens register themselves by target kind at import (each target's folder has its
 * own; this file imports them all), so a new target adds a folder and one line here.
 */
import type { PrimFunc } from '../tir/stmt.js';
import type { Target } from '../target/index.js';
import { type Codegen, type GeneratedModule, codegenFor, codegenKinds } from './registry.js';
import { CodegenError } from './error.js';
import './js/codegen.js';
import './wasm/codegen.js';
import './wgsl/codegen.js';

export type { Codegen, GeneratedModule } from './registry.js';
export { codegenKinds } from './registry.js';

export function generateModule(target: Target, funcs: readonly PrimFunc[]): GeneratedModule {
  const cg: Codegen | undefined = codegenFor(target.kind);
  if (!cg) throw new CodegenError(target.kind, '(module)', `no code generator is registered for target '${target.kind}'; available: ${codegenKinds().join(', ')}`);
  return cg(funcs, target);
}

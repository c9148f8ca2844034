/** The codegen registry: target kind → code generator (filled at import by each target's codegen). */
import type { KernelModule } from '../runtime/executable.js';
import type { PrimFunc } from '../tir/stmt.js';
import type { Target } from '../target/target.js';

/** What a code generator hands the build: the module and the arena space its kernels need. */
export interface GeneratedModule {
  readonly module: KernelModule;
  /** Bytes of the arena's shared workspace the kernels need (scratch buffers; per-thread parts included). */
  readonly workspaceBytes: number;
  /** Kernels that read their arguments' offsets from the executable's argument table. */
  readonly argTableKernels: ReadonlySet<string>;
  /** Threads the module can run its kernels on (1 unless the code was built for threads). */
  readonly threads: number;
  /** Milliseconds spent generating each kernel, by name (where the code generator measures it). */
  readonly kernelMs?: Readonly<Record<string, number>>;
}

export type Codegen = (funcs: readonly PrimFunc[], target: Target) => GeneratedModule;

const codegens = new Map<string, Codegen>();

export function registerCodegen(kind: string, codegen: Codegen): void {
  if (codegens.has(kind)) throw new Error(`codegen for ${kind} registered twice`);
  codegens.set(kind, codegen);
}

export function codegenFor(kind: string): Codegen | undefined {
  return codegens.get(kind);
}

export function codegenKinds(): string[] {
  return [...codegens.keys()];
}

/** The JS device: the kernel module is JavaScript source; kernels take typed-array views of the arena. */
import { viewArray } from '../dtype.js';
import { LimitError } from '../error.js';
import type { Executable, KernelModule } from '../executable.js';
import { int64Intrinsics, mathIntrinsics } from '../math.js';
import { type LoadedProgram, hostIO, registerDevice } from './device.js';
import { shapeSize } from '../tensor.js';

/** The js target's kernel module: the body of a JavaScript function returning the kernels. */
export interface JsKernelModule extends KernelModule {
  readonly kind: 'js';
  readonly source: string;
  /** Kernels that take their arguments' views as one array rather than one parameter each (very many arguments). */
  readonly arrayArgs?: readonly string[];
}

/** A kernel takes one view per argument, or (module.arrayArgs) one array of them. */
type JsKernel = (...args: (ArrayBufferView | ArrayBufferView[])[]) => void;

/** Loads a JS-target executable synchronously (JS needs no async compilation). */
export function loadJsProgram(exe: Executable): LoadedProgram {
  if (exe.module.kind !== 'js') throw new Error(`js device cannot run a ${exe.module.kind} module`);
  const module = exe.module as JsKernelModule;
  let arena = new ArrayBuffer(exe.arenaBytes);
  new Uint8Array(arena).set(exe.constants, 0);
  const factory = new Function('M', 'M64', module.source) as (m: unknown, m64: unknown) => Record<string, JsKernel>;
  const kernels = factory(mathIntrinsics, int64Intrinsics);
  const arrayArgs = new Set(module.arrayArgs);
  const bind = (layout: Executable): (() => void)[] => {
    if (layout.arenaBytes > arena.byteLength) {
      let grown: ArrayBuffer;
      try {
        grown = new ArrayBuffer(layout.arenaBytes);
      } catch (e) {
        throw new LimitError(`could not allocate an arena of ${layout.arenaBytes} bytes for this run: ${(e as Error).message}`);
      }
      new Uint8Array(grown).set(new Uint8Array(arena));
      arena = grown;
    }
    return layout.steps.map((s) => {
      const fn = kernels[s.kernel];
      if (!fn) throw new Error(`executable step calls kernel ${s.kernel}, which the module does not define`);
      const views = s.args.map((a) => viewArray(a.dtype, arena, a.offset, shapeSize(a.shape)));
      if (arrayArgs.has(s.kernel)) return () => fn(views);
      return () => fn(...views);
    });
  };
  return { ...hostIO(() => arena), bind };
}

registerDevice({ kind: 'js', load: async (exe) => loadJsProgram(exe), loadSync: loadJsProgram });

/** Whether a kernel module is the js target's. */
export function isJsModule(m: KernelModule): m is JsKernelModule {
  return m.kind === 'js';
}

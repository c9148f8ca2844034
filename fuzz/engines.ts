/**
 * The engines a mutant is given to: Tessera (wasm target, the default; or webgpu, Dawn in
 * Node, over SwiftShader where no GPU is) and onnxruntime-node.
 * Each loads the model from its file, builds a session and, when feeds could be built, runs
 * it once. What comes back is the outcome as seen from inside the process; the pool adds
 * what only the parent can see (a hang, a process killed by its heap limit or a signal).
 */
import type { Feed } from './feeds.js';

export type EngineName = 'tessera' | 'tessera-webgpu' | 'ort';
export const ENGINES: readonly EngineName[] = ['tessera', 'tessera-webgpu', 'ort'];

/**
 * - ran: the model was accepted and ran (or, its feeds not buildable, accepted and compiled);
 * - error: rejected with a clean error (for Tessera: a TesseraError);
 * - crash: anything else escaped (for Tessera a RangeError, TypeError, InternalError, ...;
 *   for any engine a process that died);
 * - hang: no answer within the time limit; oom: the process ran out of memory.
 */
export type Outcome = 'ran' | 'error' | 'crash' | 'hang' | 'oom';

export interface EngineResult {
  readonly outcome: Outcome;
  /** The error's class name (`LimitError`, `RangeError`, ...) or how the process ended. */
  readonly errorName?: string;
  readonly message?: string;
  /** The top of the stack, for crashes. */
  readonly stack?: string;
  /** Whether it ran (false: accepted, but only compiled because no feeds could be built). */
  readonly executed?: boolean;
  readonly ms: number;
}

export interface EngineTask {
  readonly file: string;
  readonly feeds: Feed[] | undefined;
}

type Runner = (task: EngineTask) => Promise<void>;

async function tesseraRunner(target: 'wasm' | 'webgpu'): Promise<{ run: Runner; clean: (e: unknown) => boolean }> {
  if (target === 'webgpu') (await import('../src/bench/chromium.js')).selectSwiftShaderVulkan();
  const { InferenceSession } = await import('../src/api.js');
  const { Tensor } = await import('../src/runtime/tensor.js');
  const { TesseraError } = await import('../src/runtime/error.js');
  return {
    clean: (e) => e instanceof TesseraError,
    async run({ file, feeds }) {
      const session = await InferenceSession.create(file, { target });
      try {
        if (feeds) await session.run(Object.fromEntries(feeds.map((f) => [f.name, new Tensor(f.dtype, f.data, f.dims)])));
      } finally {
        await session.release();
      }
    },
  };
}

async function ortRunner(): Promise<{ run: Runner; clean: (e: unknown) => boolean }> {
  const ort = await import('onnxruntime-node');
  return {
    // onnxruntime reports every rejection as an Error; only a dead process is its crash.
    clean: () => true,
    async run({ file, feeds }) {
      const session = await ort.InferenceSession.create(file, { logSeverityLevel: 4 });
      try {
        if (feeds) {
          const inputs: Record<string, InstanceType<typeof ort.Tensor>> = {};
          for (const f of feeds) {
            if (f.dtype === 'bfloat16') throw new Error('onnxruntime-node has no bfloat16 tensors');
            inputs[f.name] = new ort.Tensor(f.dtype as 'float32', f.data as Float32Array, f.dims);
          }
          await session.run(inputs);
        }
      } finally {
        await session.release();
      }
    },
  };
}

export async function loadEngine(name: EngineName): Promise<(task: EngineTask) => Promise<EngineResult>> {
  const engine = name === 'ort' ? await ortRunner() : await tesseraRunner(name === 'tessera-webgpu' ? 'webgpu' : 'wasm');
  return async (task) => {
    const t0 = performance.now();
    try {
      await engine.run(task);
      return { outcome: 'ran', executed: task.feeds !== undefined, ms: performance.now() - t0 };
    } catch (e) {
      const ms = performance.now() - t0;
      const err = e instanceof Error ? e : new Error(String(e));
      const base = { errorName: err.name, message: err.message.slice(0, 2000), ms };
      if (engine.clean(e)) return { outcome: 'error', ...base };
      const oom = /allocation failed|out of memory|could not allocate/i.test(err.message);
      return { outcome: oom ? 'oom' : 'crash', ...base, stack: (err.stack ?? '').split('\n').slice(0, 12).join('\n') };
    }
  };
}

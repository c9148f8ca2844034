/** What the benchmark measures: whole models, a matmul microbenchmark, single kernels (the sweep), the machine's SIMD128 peak. */
/** tessera-tuned: the wasm target with the suite's tuning records applied. */
export type Peer = 'tessera-wasm' | 'tessera-tuned' | 'tessera-js' | 'ort-node' | 'ort-web' | 'jax-js';

export type Task =
  /** A model: `file` (default dir/model.onnx), inputs from dir/test_data_set_0. */
  | { readonly kind: 'model'; readonly name: string; readonly dir: string; readonly file?: string }
  | { readonly kind: 'matmul'; readonly name: string; readonly n: number }
  | { readonly kind: 'simd-peak'; readonly name: string; readonly fma: boolean }
  /** One Conv (NCHW, batch 1, constant weights and bias, 'same'-style padding (k - 1) / 2). */
  | { readonly kind: 'conv'; readonly name: string; readonly ci: number; readonly co: number; readonly hw: number; readonly k: number; readonly stride: number; readonly groups: number }
  /** One MatMul [batch..., m, k] x [k, n]: constant weights when batch is 0 (a layer), else two inputs (attention). */
  | { readonly kind: 'gemm'; readonly name: string; readonly m: number; readonly n: number; readonly k: number; readonly batch: number };

export interface WorkerConfig {
  readonly peer: Peer;
  readonly task: Task;
  readonly threads: number;
  readonly warmupMs: number;
  readonly runs: number;
  /** tessera-tuned: tuning records files (tessera tune), merged. */
  readonly records?: readonly string[];
}

export interface WorkerResult {
  readonly peer: Peer;
  readonly task: string;
  readonly threads: number;
  /** Median latency in ms, or absent when the peer cannot run this configuration. */
  readonly medianMs?: number;
  /** Floating-point operations of one run (for GFLOP/s). */
  readonly flops?: number;
  /** Sweep tasks: the median time of the op's own kernel (not the layout changes around it), and its flops. */
  readonly kernelMs?: number;
  readonly kernelFlops?: number;
  readonly skipped?: string;
}

/** Which peers can run a task (jax-js has no ONNX importer: matmul only); with records, tuned Tessera too. */
export function peersFor(task: Task, tuned = false): Peer[] {
  switch (task.kind) {
    case 'model': return ['tessera-wasm', ...(tuned ? ['tessera-tuned' as const] : []), 'ort-web', 'ort-node'];
    case 'matmul': return ['tessera-wasm', 'ort-web', 'ort-node', 'jax-js'];
    case 'simd-peak': case 'conv': case 'gemm': return ['tessera-wasm'];
  }
}

/** Why a peer package cannot run here (peers are devDependencies, absent from an installed tessera), or undefined when it resolves. */
export function peerMissing(pkg: string): string | undefined {
  try {
    import.meta.resolve(pkg);
    return undefined;
  } catch {
    return `${pkg} is not installed (a devDependency of tessera: run npm install in its checkout)`;
  }
}

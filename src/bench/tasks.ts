/** What the benchmark measures: whole models, a matmul microbenchmark, the machine's SIMD128 peak. */
export type Peer = 'tessera-wasm' | 'tessera-js' | 'ort-node' | 'ort-web' | 'jax-js';

export type Task =
  /** A model: `file` (default dir/model.onnx), inputs from dir/test_data_set_0. */
  | { readonly kind: 'model'; readonly name: string; readonly dir: string; readonly file?: string }
  | { readonly kind: 'matmul'; readonly name: string; readonly n: number }
  | { readonly kind: 'simd-peak'; readonly name: string; readonly fma: boolean };

export interface WorkerConfig {
  readonly peer: Peer;
  readonly task: Task;
  readonly threads: number;
  readonly warmupMs: number;
  readonly runs: number;
}

export interface WorkerResult {
  readonly peer: Peer;
  readonly task: string;
  readonly threads: number;
  /** Median latency in ms, or absent when the peer cannot run this configuration. */
  readonly medianMs?: number;
  /** Floating-point operations of one run (for GFLOP/s). */
  readonly flops?: number;
  readonly skipped?: string;
}

/** Which peers can run a task (jax-js has no ONNX importer: matmul only). */
export function peersFor(task: Task): Peer[] {
  switch (task.kind) {
    case 'model': return ['tessera-wasm', 'ort-web', 'ort-node'];
    case 'matmul': return ['tessera-wasm', 'ort-web', 'ort-node', 'jax-js'];
    case 'simd-peak': return ['tessera-wasm'];
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

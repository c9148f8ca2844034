/**
 * The compiler driver: ONNX bytes (or a file, or a graph) → Executable, through the
 * frontend, the graph passes and the build.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Executable } from './runtime/executable.js';
import type { Tensor } from './runtime/tensor.js';
import type { Graph } from './graph/ir.js';
import { importOnnxModel } from './frontend/onnx/importer.js';
import type { LoweredKernel } from './build/lower.js';
import { build } from './build/build.js';
import { DEFAULT_TARGET, type Target, parseTarget } from './target/index.js';
import { DEFAULT_OPT_LEVEL, optimize } from './transform/pipeline.js';
import type { PassTiming } from './transform/pass.js';
import type { ApplyReport, TuningDatabase } from './tune/records.js';

export interface CompileOptions {
  /**
   * Code generation target: a target string such as "wasm", "wasm -threads=2 -no-fma" or
   * "js" (see target/), or a parsed Target (default "wasm").
   */
  readonly target?: string | Target;
  /** Concrete sizes for symbolic input dims, e.g. { batch: 1 }. */
  readonly dimValues?: Readonly<Record<string, number>>;
  /** Directory for external tensor data when `model` is bytes. */
  readonly modelDir?: string;
  /** Graph optimization level 0..3 (default 3): 0 runs no pass, one kernel per op. */
  readonly optLevel?: number;
  /** Write the graph IR after each pass into this directory. */
  readonly dumpIr?: string;
  /** Verify the IR after each pass (tests turn this on). */
  readonly verify?: boolean;
  /** Threads to run kernels on: the target's -threads option (wasm; default 1). */
  readonly threads?: number;
  /**
   * wasm: the target's -fma option, relaxed SIMD's fused multiply-add. Default: when this
   * engine supports relaxed SIMD (the module then needs such an engine to run; pass false
   * for portable artifacts).
   */
  readonly fma?: boolean;
  /** Values for graph inputs a converter needs as constants (see InferenceSession). */
  readonly inputValues?: Readonly<Record<string, Tensor>>;
  /**
   * Tuning records (`tessera tune`): each kernel whose workload has a record for this target
   * takes the best one's schedule (re-verified as it is applied), the others the default rules.
   */
  readonly records?: TuningDatabase;
}

export interface CompileResult {
  /** The graph after optimization. */
  readonly graph: Graph;
  /** The graph as imported. */
  readonly imported: Graph;
  /** Nodes in the source model (ONNX nodes, Constant nodes included). */
  readonly sourceNodes: number;
  readonly passTimings: readonly PassTiming[];
  readonly executable: Executable;
  readonly kernels: readonly LoweredKernel[];
  /** Milliseconds per phase (import, lower, codegen, plan). */
  readonly timings: Readonly<Record<string, number>>;
  /** The target compiled for. */
  readonly target: Target;
  /** With `records`: how many kernels took a record's schedule, and the records refused (and why). */
  readonly records?: ApplyReport;
}

/**
 * The target of a compilation: `options.target` with the `threads` and `fma` options
 * applied (each only where the target kind has that option).
 */
export function resolveTarget(options: Pick<CompileOptions, 'target' | 'threads' | 'fma'>): Target {
  const base = parseTarget(options.target ?? DEFAULT_TARGET);
  const has = (name: string): boolean => name in base.options;
  return parseTarget(base, {
    ...(options.threads !== undefined && has('threads') ? { threads: Math.max(1, Math.floor(options.threads)) } : {}),
    ...(options.fma !== undefined && has('fma') ? { fma: options.fma } : {}),
  });
}

/** The optimized graph of a model, ready to build (what `compile` builds, and `tessera tune` tunes). */
export interface OptimizedModel {
  readonly graph: Graph;
  readonly imported: Graph;
  readonly sourceNodes: number;
  readonly passTimings: readonly PassTiming[];
  readonly target: Target;
  readonly timings: { readonly import: number; readonly optimize: number };
}

/** Imports and optimizes a model for its target (compile, up to the build). */
export function optimizeModel(model: string | Uint8Array | Graph, options: CompileOptions = {}): OptimizedModel {
  const target = resolveTarget(options);
  const t0 = performance.now();
  let graph: Graph;
  let sourceNodes: number;
  const dims = {
    ...(options.dimValues ? { dimValues: options.dimValues } : {}),
    ...(options.inputValues ? { inputValues: options.inputValues } : {}),
  };
  if (typeof model === 'string' || model instanceof Uint8Array) {
    const bytes = typeof model === 'string' ? readFileSync(model) : model;
    const modelDir = typeof model === 'string' ? dirname(model) : options.modelDir;
    // A file read here is this compilation's own: its constants stay in place in it.
    const imported = importOnnxModel(bytes, { ...(modelDir ? { modelDir } : {}), ...(typeof model === 'string' ? { ownsBytes: true } : {}), ...dims });
    graph = imported.graph;
    sourceNodes = imported.onnxNodes;
  } else {
    graph = model;
    sourceNodes = model.nodes.length;
  }
  const importMs = performance.now() - t0;
  const t1 = performance.now();
  const opt = optimize(graph, {
    optLevel: options.optLevel ?? DEFAULT_OPT_LEVEL,
    target,
    ...(options.dumpIr ? { dumpDir: options.dumpIr } : {}),
    ...(options.verify ? { verify: true } : {}),
  });
  const optMs = performance.now() - t1;
  return { graph: opt.graph, imported: graph, sourceNodes, passTimings: opt.timings, target, timings: { import: importMs, optimize: optMs } };
}

export function compile(model: string | Uint8Array | Graph, options: CompileOptions = {}): CompileResult {
  const { graph: optimized, imported, sourceNodes, passTimings, target, timings } = optimizeModel(model, options);
  const records: ApplyReport | undefined = options.records ? { applied: 0, refused: [] } : undefined;
  const r = build(optimized, { target, ...(options.records ? { schedule: options.records.provider(records) } : {}) });
  return {
    graph: optimized, imported, sourceNodes, passTimings, executable: r.executable, kernels: r.kernels,
    timings: { ...timings, ...r.timings }, target, ...(records ? { records } : {}),
  };
}

/** The graph optimization pipeline; `--opt-level` selects which passes run. */
import type { Graph } from '../graph/ir.js';
import { type Pass, type PassOptions, type PassTiming, runPasses } from './pass.js';
import { DeadCodeElimination } from './dead_code.js';
import { EliminateCommonSubexpr } from './cse.js';
import { FoldConstant } from './fold_constant.js';
import { FuseOps } from './fuse_ops.js';
import { SimplifyInference } from './simplify_inference.js';
import { InferTypes } from './infer_types.js';
import { FoldScaleAxis } from './fold_scale_axis.js';
import { AlterOpLayout } from './alter_op_layout.js';
import { ConvertLayout } from './convert_layout.js';
import { DivToMul } from './div_to_mul.js';

export const DEFAULT_OPT_LEVEL = 3;
export const MAX_OPT_LEVEL = 3;

/** All passes in pipeline order; each runs when the opt level reaches its own. */
export const PIPELINE: readonly Pass[] = [
  InferTypes,
  SimplifyInference,
  FoldConstant,
  DivToMul,
  FoldScaleAxis,
  AlterOpLayout,
  FoldConstant,
  ConvertLayout,
  FoldConstant,
  EliminateCommonSubexpr,
  DeadCodeElimination,
  FuseOps,
];

export function optimize(g: Graph, opts: PassOptions): { graph: Graph; timings: PassTiming[] } {
  if (!Number.isInteger(opts.optLevel) || opts.optLevel < 0 || opts.optLevel > MAX_OPT_LEVEL) {
    throw new RangeError(`opt level must be an integer from 0 to ${MAX_OPT_LEVEL}, got ${opts.optLevel}`);
  }
  return runPasses(g, PIPELINE, opts);
}

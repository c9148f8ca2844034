/**
 * The operator registry: for each op, ONE definition holding its attribute checks,
 * its type/shape rule, its fusion pattern kind and its tensor-expression compute.
 * Op modules register themselves at import (ops/index.ts imports them all).
 */
import { TesseraError } from '../runtime/error.js';
import type { Attrs, AttrValue, TensorType } from '../graph/ir.js';
import type { Tensor as TeTensor } from '../te/tensor.js';
import type { Tensor } from '../runtime/tensor.js';

/** TVM's fusion pattern kinds, from most to least fusable. */
export type OpPattern = 'elemwise' | 'broadcast' | 'injective' | 'reduce' | 'out-elemwise-fusable' | 'opaque';

export interface OpDef {
  readonly name: string;
  readonly pattern: OpPattern;
  /** Output types from input types (null: an omitted optional input). Throw OpError on invalid input. */
  inferTypes(inputs: readonly (TensorType | null)[], attrs: Attrs): TensorType[];
  /**
   * The TE compute of the outputs, given placeholders (or upstream computes) for the
   * inputs, with concrete shapes. Absent for `view` ops.
   */
  compute?(inputs: readonly (TeTensor | null)[], attrs: Attrs, outputs: readonly TensorType[]): TeTensor[];
  /** A view op: output 0 is input 0's data with a new shape (reshape-like); no kernel runs. */
  readonly view?: boolean;
}

/** An operator rejected its inputs or attributes; the graph layer adds the node's provenance. */
export class OpError extends TesseraError {
  constructor(reason: string) {
    super(reason);
    this.name = 'OpError';
  }
}

const registry = new Map<string, OpDef>();

export function registerOp(def: OpDef): void {
  if (registry.has(def.name)) throw new Error(`operator ${def.name} registered twice`);
  registry.set(def.name, def);
}

export function getOp(name: string): OpDef {
  const d = registry.get(name);
  if (!d) throw new OpError(`operator ${name} is not registered`);
  return d;
}

export function hasOp(name: string): boolean {
  return registry.has(name);
}

export function listOps(): string[] {
  return [...registry.keys()].sort();
}

// ------------------------------------------------------------ attribute accessors

function attr(attrs: Attrs, name: string): AttrValue | undefined {
  return attrs[name];
}

export function attrInt(attrs: Attrs, name: string, dflt?: number): number {
  const v = attr(attrs, name);
  if (v === undefined) {
    if (dflt === undefined) throw new OpError(`missing attribute ${name}`);
    return dflt;
  }
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'number') throw new OpError(`attribute ${name} must be a number`);
  return v;
}
export const attrFloat = attrInt;

export function attrInts(attrs: Attrs, name: string, dflt?: readonly number[]): readonly number[] {
  const v = attr(attrs, name);
  if (v === undefined) {
    if (dflt === undefined) throw new OpError(`missing attribute ${name}`);
    return dflt;
  }
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number')) throw new OpError(`attribute ${name} must be a list of numbers`);
  return v as readonly number[];
}

export function attrString(attrs: Attrs, name: string, dflt?: string): string {
  const v = attr(attrs, name);
  if (v === undefined) {
    if (dflt === undefined) throw new OpError(`missing attribute ${name}`);
    return dflt;
  }
  if (typeof v !== 'string') throw new OpError(`attribute ${name} must be a string`);
  return v;
}

export function attrTensor(attrs: Attrs, name: string): Tensor {
  const v = attr(attrs, name);
  if (v === undefined || typeof v !== 'object' || Array.isArray(v)) throw new OpError(`attribute ${name} must be a tensor`);
  return v as Tensor;
}

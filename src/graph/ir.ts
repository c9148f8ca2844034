/**
 * The graph IR: a typed dataflow function over tensors. Values are SSA names with a
 * tensor type whose dims may be symbolic (strings); nodes apply a registered
 * operator (ops/) to values. Everything is immutable: passes build new graphs.
 */
import { TesseraError } from '../runtime/error.js';
import type { DType } from '../runtime/dtype.js';
import type { Tensor } from '../runtime/tensor.js';

/** A dimension: a concrete size or a symbolic name such as "batch". */
export type Dim = number | string;

export interface TensorType {
  readonly dtype: DType;
  readonly shape: readonly Dim[];
}

let nextValueId = 1;

export class Value {
  readonly id = nextValueId++;
  constructor(readonly name: string, readonly type: TensorType) {}
  toString(): string {
    return `%${this.name}`;
  }
}

/** Attribute values; a mixed list holds dims (numbers and symbolic names). */
export type AttrValue = number | string | boolean | readonly number[] | readonly string[] | readonly Dim[] | Tensor;
export type Attrs = Readonly<Record<string, AttrValue>>;

/** Where a node came from, for error messages: the ONNX node's name, op type and opset. */
export interface Origin {
  readonly name: string;
  readonly opType: string;
  readonly opset: number;
  readonly domain?: string;
}

export interface Node {
  readonly op: string;
  /** Inputs; `null` is an omitted optional input. */
  readonly inputs: readonly (Value | null)[];
  readonly outputs: readonly Value[];
  readonly attrs: Attrs;
  readonly origin?: Origin;
  /**
   * For a fused node (op FUSED_OP): the subgraph it computes, whose inputs and outputs
   * are this node's own input and output values, so the inner nodes keep their values.
   */
  readonly body?: Graph;
}

/** The op name of a fused group made by FuseOps; lowered as one kernel. */
export const FUSED_OP = 'fused';

export interface Graph {
  readonly name: string;
  readonly inputs: readonly Value[];
  readonly outputs: readonly Value[];
  /** The public name of each output (a pass may replace an output value, never its name). */
  readonly outputNames: readonly string[];
  /** Nodes in a topological order. */
  readonly nodes: readonly Node[];
  /** Values bound to constant tensors (weights, folded constants). */
  readonly constants: ReadonlyMap<Value, Tensor>;
}

export function typeToString(t: TensorType): string {
  return `${t.dtype}[${t.shape.join(', ')}]`;
}

/** Concrete shape of a type, or undefined when a dim is symbolic. */
export function concreteShape(t: TensorType): number[] | undefined {
  return t.shape.every((d) => typeof d === 'number') ? (t.shape as number[]) : undefined;
}

export function originToString(o: Origin | undefined): string {
  if (!o) return '';
  return `node '${o.name}' (${o.domain ? o.domain + '.' : ''}${o.opType}, opset ${o.opset})`;
}

/** An error about a graph node; the message names the node, its op and the reason. */
export class NodeError extends TesseraError {
  constructor(readonly origin: Origin | undefined, readonly op: string, readonly reason: string, readonly pass?: string) {
    super(`${origin ? originToString(origin) : `op ${op}`}${pass ? ` in pass ${pass}` : ''}: ${reason}`);
    this.name = 'NodeError';
  }
}

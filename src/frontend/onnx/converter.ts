/**
 * The opset-aware converter table: for each ONNX op type, converters keyed by the
 * opset version they apply from. A converter maps one ONNX node onto graph-IR ops
 * (normalizing attributes and constant inputs) through a ConvertContext.
 */
import type { Tensor } from '../../runtime/tensor.js';
import type { GraphBuilder } from '../../graph/builder.js';
import { type Attrs, type Origin, NodeError, Value } from '../../graph/ir.js';
import type { AttributeValue } from './proto.js';

export interface ConvertContext {
  readonly origin: Origin;
  readonly opset: number;
  /** The node's inputs; null where an optional input is omitted. */
  readonly inputs: readonly (Value | null)[];
  readonly outputNames: readonly string[];
  readonly builder: GraphBuilder;
  /** A required input. */
  input(i: number): Value;
  /** The constant tensor behind an input, if it is one (initializer or Constant node). */
  constInput(i: number): Tensor | undefined;
  /**
   * The constant tensor behind an input the conversion needs at compile time (`what`
   * names it in errors). A graph input raises InputValueNeeded, so the caller can bind
   * its value and convert again.
   */
  requireConstInput(i: number, what: string): Tensor;
  /** Attribute accessors; absent attributes take the default, or fail when there is none. */
  has(name: string): boolean;
  /** An int attribute; one beyond ±(2^53-1) fails with its exact value (no scalar attribute uses sentinels). */
  int(name: string, dflt?: number): number;
  float(name: string, dflt?: number): number;
  string(name: string, dflt?: string): string;
  /** Int lists: exact within ±(2^53-1), ±Infinity beyond (the INT64_MAX/MIN "to the end" sentinels). */
  ints(name: string, dflt?: readonly number[]): readonly number[];
  /** An int or ints attribute's exact int64 values (a Constant's value_int, value_ints). */
  int64s(name: string): bigint[];
  floats(name: string, dflt?: readonly number[]): readonly number[];
  tensor(name: string): Tensor;
  raw(name: string): AttributeValue | undefined;
  /** Emits a graph op with this node's origin; the last op of a conversion gets the node's output names. */
  op(op: string, inputs: readonly (Value | null)[], attrs?: Attrs, final?: boolean): Value[];
  /**
   * Converts the graph attribute `attr` (an If branch, a Loop or Scan body) inline, its
   * inputs bound to `values`; outer-scope values stay visible. Returns its outputs.
   */
  subgraph(attr: string, values: readonly Value[]): Value[];
  /** Binds a constant tensor as a value named after the node's first output. */
  constant(t: Tensor): Value;
  fail(reason: string): never;
}

export type Converter = (ctx: ConvertContext) => readonly (Value | null)[];

interface Entry {
  readonly since: number;
  readonly attrs: ReadonlySet<string>;
  readonly convert: Converter;
}

const table = new Map<string, Entry[]>();

/**
 * Registers the converter for `opType` from opset `since` on; `attrs` lists every
 * attribute it understands (any other attribute on a node is an error).
 */
export function registerConverter(opType: string, since: number, attrs: readonly string[], convert: Converter): void {
  const list = table.get(opType) ?? [];
  if (list.some((e) => e.since === since)) throw new Error(`converter ${opType}-${since} registered twice`);
  list.push({ since, attrs: new Set(attrs), convert });
  list.sort((a, b) => b.since - a.since);
  table.set(opType, list);
}

/** The converter for `opType` at `opset`, or a NodeError naming what is unsupported. */
export function findConverter(opType: string, opset: number, origin: Origin): Entry {
  const list = table.get(opType);
  if (!list) throw new NodeError(origin, opType, `unsupported operator ${opType}`);
  const e = list.find((x) => x.since <= opset);
  if (!e) throw new NodeError(origin, opType, `operator ${opType} is supported from opset ${list[list.length - 1]!.since}, model uses opset ${opset}`);
  return e;
}

export function supportedOnnxOps(): string[] {
  return [...table.keys()].sort();
}

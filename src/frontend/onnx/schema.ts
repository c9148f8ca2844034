/**
 * ONNX operator schemas: for each operator version, its input and output arity, its
 * formal parameters with their type constraints, and its attributes with their types.
 * The data (schema_data.ts) is generated from the ONNX spec by scripts/gen-onnx-schemas.mjs;
 * this file resolves the version a node runs at and answers questions about it.
 */
import type { DType } from '../../runtime/dtype.js';
import { SCHEMA_DATA } from './schema_data.js';

/** An attribute's type as the schema names it; a leading '!' in the data marks a required one. */
export type SchemaAttrType =
  | 'float' | 'int' | 'string' | 'tensor' | 'graph' | 'sparse_tensor' | 'type_proto'
  | 'floats' | 'ints' | 'strings' | 'tensors' | 'graphs' | 'sparse_tensors' | 'type_protos';

/**
 * A formal input or output: [name, option, type]. Option '' is a single value, '?' optional,
 * '*' variadic of one type, '+' variadic of mixed types; type is a type parameter (T) or a
 * fixed tensor type such as `tensor(int64)`.
 */
export type Formal = readonly [name: string, option: '' | '?' | '*' | '+', type: string];

export interface SchemaVersion {
  readonly since: number;
  /** The opset from which this operator no longer exists. */
  readonly deprecated?: number;
  /** [min, max] inputs and outputs; max -1 is unbounded. */
  readonly inputs: readonly [number, number];
  readonly outputs: readonly [number, number];
  readonly in: readonly Formal[];
  readonly out: readonly Formal[];
  readonly attrs: Readonly<Record<string, string>>;
  /** Type parameter -> index into `typeSets` (the element types it allows). */
  readonly types: Readonly<Record<string, number>>;
}

export interface SchemaData {
  /** The newest opset the data knows, per domain ('' is ai.onnx). */
  readonly maxOpset: Readonly<Record<string, number>>;
  readonly typeSets: readonly (readonly string[])[];
  readonly domains: Readonly<Record<string, Readonly<Record<string, readonly SchemaVersion[]>>>>;
}

/** The schema's name of each element type (the ONNX `tensor(...)` spelling). */
const SCHEMA_TYPE_NAME: Record<DType, string> = {
  float32: 'float', float64: 'double', float16: 'float16', bfloat16: 'bfloat16', int8: 'int8', int16: 'int16', int32: 'int32',
  int64: 'int64', uint8: 'uint8', uint16: 'uint16', uint32: 'uint32', uint64: 'uint64', bool: 'bool',
};

export function schemaTypeName(t: DType): string {
  return SCHEMA_TYPE_NAME[t];
}

/** The newest opset of `domain` ('' for ai.onnx) the schemas describe, or undefined for an unknown domain. */
export function maxKnownOpset(domain: string): number | undefined {
  return SCHEMA_DATA.maxOpset[domain];
}

/** A resolved operator version: its schema and the names Tessera uses in messages. */
export interface OpSchema extends SchemaVersion {
  readonly domain: string;
  readonly op: string;
  /** E.g. 'Conv-11'. */
  readonly label: string;
}

/**
 * The schema of `op` in `domain` at `opset`: the newest version whose `since` is at most
 * `opset`. Returns a reason instead when the operator is unknown, not yet defined at that
 * opset, or deprecated by it.
 */
export function resolveSchema(domain: string, op: string, opset: number): OpSchema | { readonly reason: string } {
  const versions = SCHEMA_DATA.domains[domain]?.[op];
  const domainName = domain || 'ai.onnx';
  if (!versions) return { reason: `${op} is not an operator of domain ${domainName}` };
  let found: SchemaVersion | undefined;
  for (const v of versions) if (v.since <= opset) found = v;
  if (!found) return { reason: `${op} is defined from opset ${versions[0]!.since} of ${domainName}; the model imports opset ${opset}` };
  if (found.deprecated !== undefined) return { reason: `${op} was removed from ${domainName} in opset ${found.deprecated}; the model imports opset ${opset}` };
  return { ...found, domain, op, label: `${op}-${found.since}` };
}

/** The element types a formal's type allows (a type parameter's set, or the one fixed type). */
export function allowedTypes(schema: OpSchema, type: string): readonly string[] {
  const param = schema.types[type];
  if (param !== undefined) return SCHEMA_DATA.typeSets[param]!;
  const fixed = /^tensor\((\w+)\)$/.exec(type);
  return fixed ? [fixed[1]!] : [];
}

/** The formal that the input (or output) at position `i` binds to (variadic formals absorb the rest). */
export function formalAt(formals: readonly Formal[], i: number): Formal | undefined {
  if (i < formals.length) return formals[i];
  const last = formals[formals.length - 1];
  return last && (last[1] === '*' || last[1] === '+') ? last : undefined;
}

/** An attribute's schema type and whether it is required; undefined for an attribute the schema lacks. */
export function schemaAttribute(schema: OpSchema, name: string): { readonly type: SchemaAttrType; readonly required: boolean } | undefined {
  const t = schema.attrs[name];
  if (t === undefined) return undefined;
  return t.startsWith('!') ? { type: t.slice(1) as SchemaAttrType, required: true } : { type: t as SchemaAttrType, required: false };
}

/** `[min, max]` as text, e.g. '2 to 3' or 'at least 1'. */
export function arityText([min, max]: readonly [number, number]): string {
  if (max < 0) return `at least ${min}`;
  return min === max ? `${min}` : `${min} to ${max}`;
}

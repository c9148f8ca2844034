/**
 * Targets: one object per code-generation target, holding every fact about it that the
 * compiler's layers consult (graph passes choosing layouts and algorithms, schedule
 * rules, loop-IR passes, codegen, the memory plan). A target is written as a string in
 * TVM's style, its kind then options:
 *
 *   wasm                  wasm -threads=2 -no-fma          js
 *
 * `-name=value` sets an option, `-name` turns a boolean on and `-no-name` off. Each kind
 * declares its options (type, default, documentation); anything else is refused with the
 * list of what the kind takes. Kinds register themselves at import (target/index.ts).
 */
import { type DType, dtypeBytes } from '../runtime/dtype.js';
import { TesseraError } from '../runtime/error.js';

/** Broad families a target belongs to; schedule rules are chosen by key. */
export type TargetKey = 'cpu' | 'gpu';

import type { MemoryScope } from '../ir/expr.js';
import type { ValueBinding } from '../tir/transform/bind_values.js';

export type { MemoryScope } from '../ir/expr.js';

export type OptionValue = boolean | number;

export interface TargetOption {
  readonly name: string;
  readonly type: 'bool' | 'int';
  /** The value when the string does not set it (a function: probed on this host). */
  readonly default: OptionValue | (() => OptionValue);
  readonly doc: string;
  /** Bounds of an int option (inclusive). */
  readonly min?: number;
  readonly max?: number;
}

/**
 * Graph-level layout and algorithm choices a target's kernels do best with; absent
 * entries leave the plain layouts (NCHW convolutions, KN matmul weights).
 */
export interface LayoutPreferences {
  /** Run 2-D convolutions on channel-blocked activations (the block is the f32 vector). */
  readonly conv?: 'NCHW4c';
  /** Store constant MatMul/Gemm weights as column panels that a register tile reads as one stream. */
  readonly matmulWeights?: 'NK16n';
  /** Input channels from which a 3x3 stride-1 conv runs as Winograd F(2x2, 3x3) (absent: never). */
  readonly winogradMinChannels?: number;
  /**
   * A grouped conv runs on blocked activations while each group has at most this many input
   * channels (a multiple of the block; absent: grouped convs stay NCHW).
   */
  readonly blockedGroupMaxChannels?: number;
}

/** What a GPU target's device allows (WebGPU's adapter limits, or the defaults every adapter has). */
export interface GpuLimits {
  /** Invocations in one workgroup (the product of the threadIdx extents). */
  readonly maxThreadsPerWorkgroup: number;
  /** Per threadIdx axis x, y, z. */
  readonly maxWorkgroupSize: readonly [number, number, number];
  /** Per blockIdx axis. */
  readonly maxWorkgroupsPerDimension: number;
  /** Bytes of a workgroup's shared memory. */
  readonly maxWorkgroupStorageBytes: number;
}

/** The facts a target kind derives from its resolved options. */
export interface TargetFacts {
  /** Features on: e.g. 'simd128', 'relaxed-simd' (wasm), 'shader-f16', 'subgroups' (webgpu). */
  readonly features: ReadonlySet<string>;
  /** Threads the kernels may run on (1: serial). */
  readonly threads: number;
  /** Bytes of one vector register (0: no vector instructions). */
  readonly vectorBytes: number;
  /**
   * Vector registers a register tile's innermost loop body may keep live (accumulators plus
   * one round of operands), as the schedule rules budget them.
   */
  readonly vectorRegisters: number;
  /** Bytes of the per-core first-level data cache the schedule rules keep a loop's working set in (0: not a CPU). */
  readonly l1DataBytes: number;
  readonly memoryScopes: ReadonlySet<MemoryScope>;
  /** Byte alignment of every planned tensor (and of the arena's regions). */
  readonly bufferAlignment: number;
  /** Element types kernels can load and store natively (others are legalized or refused). */
  readonly storageDtypes: ReadonlySet<DType>;
  /**
   * Every element is stored as one 32-bit word (runtime/word_storage.ts), as GPU storage
   * buffers hold them; otherwise elements take their own size.
   */
  readonly wordStorage?: boolean;
  readonly layouts: LayoutPreferences;
  /** Which subexpressions the loop IR names with `let` for the codegen (tir/transform/bind_values.ts). */
  readonly valueBinding: ValueBinding;
  /** GPU targets: the device limits kernels are checked against (tir/transform/verify_gpu.ts). */
  readonly gpu?: GpuLimits;
}

export interface Target extends TargetFacts {
  readonly kind: string;
  readonly keys: readonly TargetKey[];
  /** Every option of the kind, resolved (defaults and host probes filled in). */
  readonly options: Readonly<Record<string, OptionValue>>;
  /** Lanes of one vector register for elements of `dtype` (1 where the target has no vectors). */
  vectorLanes(dtype: DType): number;
  /** Bytes one element of `dtype` takes in this target's memory. */
  storageBytes(dtype: DType): number;
  /** The canonical string: the kind and every option, in declaration order (a stable key). */
  toString(): string;
}

export interface TargetKind {
  readonly name: string;
  readonly keys: readonly TargetKey[];
  /** One line: what the target generates and where it runs. */
  readonly description: string;
  readonly options: readonly TargetOption[];
  facts(options: Readonly<Record<string, OptionValue>>): TargetFacts;
}

/** A target string that does not parse, names an unknown kind or option, or sets a bad value. */
export class TargetError extends TesseraError {
  constructor(message: string) {
    super(message);
    this.name = 'TargetError';
  }
}

const kinds = new Map<string, TargetKind>();

export function registerTargetKind(kind: TargetKind): void {
  if (kinds.has(kind.name)) throw new Error(`target kind ${kind.name} registered twice`);
  kinds.set(kind.name, kind);
}

/** The registered target kinds, in registration order. */
export function targetKinds(): readonly TargetKind[] {
  return [...kinds.values()];
}

function optionText(o: TargetOption, v: OptionValue): string {
  return o.type === 'bool' ? (v ? `-${o.name}` : `-no-${o.name}`) : `-${o.name}=${v}`;
}

function usage(kind: TargetKind): string {
  if (kind.options.length === 0) return `target '${kind.name}' takes no options`;
  return `target '${kind.name}' takes: ${kind.options.map((o) => `${o.type === 'bool' ? `-[no-]${o.name}` : `-${o.name}=N`} (${o.doc})`).join('; ')}`;
}

function parseValue(kind: TargetKind, o: TargetOption, raw: string | undefined, negated: boolean): OptionValue {
  if (o.type === 'bool') {
    if (raw === undefined) return !negated;
    if (negated) throw new TargetError(`target option -no-${o.name} takes no value (got '${raw}')`);
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    throw new TargetError(`target option -${o.name} of '${kind.name}' is a switch: write -${o.name} or -no-${o.name}, not -${o.name}=${raw}`);
  }
  if (negated || raw === undefined || !/^-?\d+$/.test(raw)) {
    throw new TargetError(`target option -${o.name} of '${kind.name}' needs an integer value (-${o.name}=N)`);
  }
  const v = Number(raw);
  if ((o.min !== undefined && v < o.min) || (o.max !== undefined && v > o.max)) {
    throw new TargetError(`target option -${o.name}=${raw} of '${kind.name}' is out of range [${o.min ?? '-inf'}, ${o.max ?? 'inf'}]`);
  }
  return v;
}

/**
 * Parses a target string (or returns a Target unchanged). `overrides` (option values by
 * name, e.g. from CLI flags) win over the string's.
 */
export function parseTarget(spec: string | Target, overrides: Readonly<Record<string, OptionValue | undefined>> = {}): Target {
  if (typeof spec !== 'string') {
    return Object.values(overrides).every((v) => v === undefined) ? spec : parseTarget(spec.toString(), overrides);
  }
  const words = spec.trim().split(/\s+/).filter(Boolean);
  const name = words[0];
  const known = [...kinds.keys()].join(', ');
  if (!name) throw new TargetError(`empty target string; available targets: ${known}`);
  const kind = kinds.get(name);
  if (!kind) throw new TargetError(`unknown target '${name}'; available targets: ${known}`);
  const given: Record<string, OptionValue> = {};
  for (const w of words.slice(1)) {
    const m = /^-(no-)?([a-z][a-z0-9-]*)(?:=(.*))?$/.exec(w);
    if (!m) throw new TargetError(`target '${spec}': '${w}' is not an option (options look like -name=value, -name or -no-name); ${usage(kind)}`);
    const negated = m[1] !== undefined;
    const o = kind.options.find((x) => x.name === m[2]);
    if (!o) throw new TargetError(`target '${spec}': unknown option -${m[2]}; ${usage(kind)}`);
    if (o.name in given) throw new TargetError(`target '${spec}': option -${o.name} is given twice`);
    given[o.name] = parseValue(kind, o, m[3], negated);
  }
  const options: Record<string, OptionValue> = {};
  for (const o of kind.options) {
    const v = overrides[o.name] ?? given[o.name] ?? (typeof o.default === 'function' ? o.default() : o.default);
    if (o.type === 'bool' ? typeof v !== 'boolean' : !Number.isInteger(v)) {
      throw new TargetError(`target option -${o.name} of '${kind.name}' must be ${o.type === 'bool' ? 'a boolean' : 'an integer'}, got ${String(v)}`);
    }
    if (o.type === 'int') parseValue(kind, o, String(v), false);
    options[o.name] = v;
  }
  const facts = kind.facts(options);
  const text = [kind.name, ...kind.options.map((o) => optionText(o, options[o.name]!))].join(' ');
  return {
    kind: kind.name, keys: kind.keys, options, ...facts,
    vectorLanes: (dtype: DType) => (facts.vectorBytes > 0 ? Math.max(1, Math.floor(facts.vectorBytes / dtypeBytes(dtype))) : 1),
    storageBytes: (dtype: DType) => (facts.wordStorage ? 4 : dtypeBytes(dtype)),
    toString: () => text,
  };
}

/**
 * Test helper: evaluates one registered op on host tensors through the real
 * compiler path (op compute → TE → PrimFunc → default schedule → tir passes → JS codegen).
 */
import type { Attrs, TensorType } from '../../src/graph/ir.js';
import { getOp } from '../../src/ops/registry.js';
import '../../src/ops/index.js';
import { placeholder } from '../../src/te/tensor.js';
import { createPrimFunc } from '../../src/te/lower.js';
import { defaultSchedule } from '../../src/schedule/default.js';
import { parseTarget } from '../../src/target/index.js';

const WASM = parseTarget('wasm -no-fma');
import { lowerForCodegen } from '../../src/tir/transform/pipeline.js';
import { buildJsModule } from '../../src/codegen/js/codegen.js';
import { halfIntrinsics, mathIntrinsics, int64Intrinsics } from '../../src/runtime/math.js';
import { Tensor } from '../../src/runtime/tensor.js';
import type { TypedArray } from '../../src/runtime/dtype.js';
import { compile } from '../../src/driver.js';
import { Executor } from '../../src/runtime/executor.js';

export function inferOp(op: string, inputs: readonly (TensorType | null)[], attrs: Attrs = {}): TensorType[] {
  return getOp(op).inferTypes(inputs, attrs);
}

export function runOp(op: string, inputs: readonly (Tensor | null)[], attrs: Attrs = {}): Tensor[] {
  const def = getOp(op);
  const outTypes = def.inferTypes(inputs.map((t) => (t ? { dtype: t.type, shape: t.dims } : null)), attrs);
  if (def.view) return [new Tensor(outTypes[0]!.dtype, inputs[0]!.data, outTypes[0]!.shape as number[])];
  const phs = inputs.map((t, i) => (t ? placeholder(t.dims, t.type, `in${i}`) : null));
  const outs = def.compute!(phs, attrs, outTypes);
  const f = lowerForCodegen(defaultSchedule(createPrimFunc(op, phs.filter((p) => p !== null), outs), WASM).func);
  const kernels = new Function('M', 'M64', buildJsModule([f]))(mathIntrinsics, int64Intrinsics) as Record<string, (...a: TypedArray[]) => void>;
  const results = outTypes.map((t) => Tensor.zeros(t.dtype, t.shape as number[]));
  kernels[op]!(...inputs.filter((t): t is Tensor => t !== null).map((t) => t.data), ...results.map((r) => r.data));
  return results;
}

/** Runs flattened PrimFuncs' first kernel on the wasm target: each argument array is copied into linear memory and back. */
export async function runWasmKernel(func: import('../../src/tir/stmt.js').PrimFunc, args: TypedArray[]): Promise<void> {
  const { buildWasmModule } = await import('../../src/codegen/wasm/codegen.js');
  const mod = buildWasmModule([func]);
  if (mod.kind !== 'wasm') throw new Error('expected a wasm module');
  const offsets: number[] = [];
  let off = 0;
  for (const a of args) {
    offsets.push(off);
    off += Math.ceil(a.byteLength / 16) * 16;
  }
  const ws = off;
  off += mod.workspace[func.name]!;
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(off / 65536)) });
  args.forEach((a, i) => new Uint8Array(memory.buffer, offsets[i], a.byteLength).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)));
  const inst = await WebAssembly.instantiate(await WebAssembly.compile(mod.bytes as Uint8Array<ArrayBuffer>), { env: { memory }, math: { ...mathIntrinsics, ...halfIntrinsics } });
  (inst.exports[func.name] as (...a: number[]) => void)(...offsets, ws);
  args.forEach((a, i) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).set(new Uint8Array(memory.buffer, offsets[i], a.byteLength)));
}

/** Compiles a TE computation to a codegen-ready PrimFunc with the default schedule. */
export function lowerTe(name: string, inputs: import('../../src/te/tensor.js').Tensor[], outputs: import('../../src/te/tensor.js').Tensor[]): import('../../src/tir/stmt.js').PrimFunc {
  return lowerForCodegen(defaultSchedule(createPrimFunc(name, inputs, outputs), WASM).func);
}

/** Runs a codegen-ready PrimFunc with the JS target. */
export function runJsKernel(func: import('../../src/tir/stmt.js').PrimFunc, args: TypedArray[]): void {
  const kernels = new Function('M', 'M64', buildJsModule([func]))(mathIntrinsics, int64Intrinsics) as Record<string, (...a: TypedArray[]) => void>;
  kernels[func.name]!(...args);
}

/** All outputs of the op on the wasm target: the same compute and schedule as runOp, wasm codegen. */
export async function runOpWasm(op: string, inputs: readonly (Tensor | null)[], attrs: Attrs = {}): Promise<Tensor[]> {
  const def = getOp(op);
  const outTypes = def.inferTypes(inputs.map((t) => (t ? { dtype: t.type, shape: t.dims } : null)), attrs);
  const phs = inputs.map((t, i) => (t ? placeholder(t.dims, t.type, `in${i}`) : null));
  const outs = def.compute!(phs, attrs, outTypes);
  const f = lowerTe(op, phs.filter((p) => p !== null), outs);
  const results = outTypes.map((t) => Tensor.zeros(t.dtype, t.shape as number[]));
  await runWasmKernel(f, [...inputs.filter((t): t is Tensor => t !== null).map((t) => t.data.slice()), ...results.map((r) => r.data)]);
  return results;
}

/** Imports, compiles (optionally with IR verification) and runs an ONNX model on `target`. */
export async function runModel(bytes: Uint8Array, feeds: Record<string, Tensor>, target: string = 'js', verify = false): Promise<Record<string, Tensor>> {
  const r = compile(bytes, verify ? { target, verify: true } : { target });
  const ex = await Executor.load(r.executable);
  return ex.run(feeds);
}

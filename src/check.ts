/**
 * Checking compiled models against reference data in the ONNX backend-test layout
 * (model.onnx, then test_data_set_N folders of input_i.pb / output_i.pb): the engine behind
 * `tessera check` and the model tests.
 */
import { Tensor } from './runtime/tensor.js';
import type { DType } from './runtime/dtype.js';
import { loadTestCase } from './frontend/onnx/testcase.js';
import type { CompileOptions } from './driver.js';
import { InferenceSession } from './api.js';

export interface Tolerance {
  readonly rtol: number;
  readonly atol: number;
}

export interface Mismatch {
  readonly count: number;
  readonly total: number;
  readonly worstIndex: number;
  readonly actual: number | bigint;
  readonly expected: number | bigint;
}

/**
 * Compares like numpy.allclose: |actual - expected| <= atol + rtol * |expected|,
 * NaN equals NaN, infinities must match exactly; 64-bit integers compare exactly.
 * Returns undefined when every element is close.
 */
export function compareTensors(actual: Tensor, expected: Tensor, tol: Tolerance): Mismatch | string | undefined {
  if (actual.type !== expected.type) return `dtype ${actual.type}, expected ${expected.type}`;
  if (actual.dims.length !== expected.dims.length || actual.dims.some((d, i) => d !== expected.dims[i])) {
    return `shape [${actual.dims.join(', ')}], expected [${expected.dims.join(', ')}]`;
  }
  let count = 0;
  let worst = -1;
  let worstErr = -1;
  const a = actual.data;
  const e = expected.data;
  for (let i = 0; i < e.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    let err: number;
    if (typeof x === 'bigint' || typeof y === 'bigint') {
      err = x === y ? 0 : Infinity;
    } else if (Number.isNaN(y) || Number.isNaN(x)) {
      err = Number.isNaN(x) && Number.isNaN(y) ? 0 : Infinity;
    } else if (!Number.isFinite(y) || !Number.isFinite(x)) {
      err = x === y ? 0 : Infinity;
    } else {
      const diff = Math.abs(x - y);
      err = diff <= tol.atol + tol.rtol * Math.abs(y) ? 0 : diff;
    }
    if (err > 0) {
      count++;
      if (err > worstErr) {
        worstErr = err;
        worst = i;
      }
    }
  }
  if (count === 0) return undefined;
  return { count, total: e.length, worstIndex: worst, actual: a[worst]!, expected: e[worst]! };
}

export function describeMismatch(m: Mismatch | string): string {
  if (typeof m === 'string') return m;
  return `${m.count}/${m.total} elements differ; worst at ${m.worstIndex}: got ${m.actual}, expected ${m.expected}`;
}

export interface CaseResult {
  readonly name: string;
  readonly dir: string;
  readonly status: 'pass' | 'fail' | 'error';
  readonly reason?: string;
  readonly compileMs?: number;
  readonly runMs?: number;
  readonly activationBytes?: number;
  /** Compilations the data sets needed (1 unless the session specializes per shape or input value). */
  readonly compilations?: number;
  /** Dynamic batch: activation bytes per sample, on top of `activationBytes`. */
  readonly sampleBytes?: number;
}

/**
 * The backend-test data stores bfloat16 tensors as their uint16 bit patterns (there is no
 * numpy bfloat16): read such a tensor as the dtype the other side declares.
 */
function asDeclared(t: Tensor, dtype: DType | undefined): Tensor {
  const bits = (a: DType | undefined): boolean => a === 'uint16' || a === 'bfloat16';
  return dtype && dtype !== t.type && bits(dtype) && bits(t.type) ? new Tensor(dtype, t.data, t.dims) : t;
}

/** Compiles a test case once and runs every data set against its reference outputs. */
export async function checkCase(dir: string, options: CompileOptions, tol: Tolerance): Promise<CaseResult> {
  let name = dir;
  try {
    const tc = loadTestCase(dir);
    name = tc.name;
    const t0 = performance.now();
    const session = await InferenceSession.create(tc.modelPath, options);
    const compileMs = performance.now() - t0;
    try {
      let runMs = 0;
      for (const ds of tc.dataSets) {
        if (ds.inputs.length !== session.inputNames.length) {
          return { name, dir, status: 'error', reason: `${ds.dir}: ${ds.inputs.length} inputs for a model with ${session.inputNames.length}` };
        }
        const feeds: Record<string, Tensor> = {};
        session.inputs.forEach((input, i) => { feeds[input.name] = asDeclared(ds.inputs[i]!, input.dtype); });
        const t1 = performance.now();
        const out = await session.run(feeds);
        runMs += performance.now() - t1;
        for (let i = 0; i < ds.outputs.length; i++) {
          const oname = session.outputNames[i];
          if (oname === undefined) return { name, dir, status: 'fail', reason: `reference has output ${i} but the model has ${session.outputNames.length}` };
          const m = compareTensors(asDeclared(out[oname]!, ds.outputs[i]!.type), ds.outputs[i]!, tol);
          if (m) return { name, dir, status: 'fail', reason: `output '${oname}' (${ds.dir}): ${describeMismatch(m)}` };
        }
      }
      return {
        name, dir, status: 'pass', compileMs, runMs: runMs / Math.max(1, tc.dataSets.length),
        activationBytes: session.compiled?.executable.activationBytes ?? 0, compilations: session.compilations,
        ...(session.compiled?.executable.batch ? { sampleBytes: session.compiled.executable.batch.sampleBytes } : {}),
      };
    } finally {
      session.release();
    }
  } catch (e) {
    return { name, dir, status: 'error', reason: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

/**
 * JS codegen: flattened PrimFuncs → the source text of one JavaScript module body.
 * The module takes the math table `M` (runtime/math.ts) and returns an object of
 * kernels; each kernel takes one typed array per PrimFunc parameter, or, past
 * MAX_JS_PARAMS of them, one array of them.
 * Scratch buffers become module-level typed arrays, allocated once per load.
 */
import { OrderedNames } from '../names.js';
import type { DType } from '../../runtime/dtype.js';
import { type Buffer, type Expr, type Var, isFloatDType } from '../../ir/expr.js';
import type { PrimFunc, Stmt } from '../../tir/stmt.js';
import type { JsKernelModule } from '../../runtime/devices/js.js';
import { registerCodegen } from '../registry.js';
import { CodegenError } from '../error.js';

/**
 * The most typed arrays a kernel takes as parameters. A JS call pushes its arguments
 * on the engine's stack, so `kernel(...views)` with tens of thousands of them fails with
 * a RangeError whose threshold depends on how deep the call is (V8 also refuses to
 * parse a function of 65,535 parameters); a kernel with more than this takes one
 * array of views and reads each into a local at entry.
 */
export const MAX_JS_PARAMS = 256;

const takesArray = (f: PrimFunc): boolean => f.params.length > MAX_JS_PARAMS;

type Repr = 'num' | 'big' | 'bool';

function reprOf(t: DType): Repr {
  if (t === 'int64' || t === 'uint64') return 'big';
  if (t === 'bool') return 'bool';
  return 'num';
}

const ARRAY_CLASS: Record<DType, string> = {
  float32: 'Float32Array', float64: 'Float64Array', float16: 'Uint16Array', bfloat16: 'Uint16Array', int8: 'Int8Array', int16: 'Int16Array',
  int32: 'Int32Array', int64: 'BigInt64Array', uint8: 'Uint8Array', uint16: 'Uint16Array', uint32: 'Uint32Array',
  uint64: 'BigUint64Array', bool: 'Uint8Array',
};

class FunctionEmitter {
  /** Buffer names by buffer id: parameters `p<i>`, scratch `k<kernel>_s<j>`. */
  private readonly names = new Map<number, string>();
  /**
   * Variable names by var id: `v<n>`, n counting the function's variables in the order they
   * are bound (not their global ids, so compiling the same model twice gives the same text).
   */
  private readonly varNames = new OrderedNames('v');
  readonly scratch: Buffer[] = [];
  private lines: string[] = [];

  constructor(private readonly func: PrimFunc, private readonly prefix: string) {
    func.params.forEach((b, i) => this.names.set(b.id, `p${i}`));
  }

  private fail(reason: string): never {
    throw new CodegenError('js', this.func.name, reason);
  }

  private bufName(b: Buffer): string {
    const n = this.names.get(b.id);
    if (n === undefined) this.fail(`buffer ${b.name} is neither a parameter nor allocated`);
    return n;
  }

  private varName(v: Var): string {
    return this.varNames.of(v.id);
  }

  /** Code for `e` in the JS representation of its dtype. */
  expr(e: Expr): string {
    switch (e.kind) {
      case 'int': {
        const r = reprOf(e.dtype);
        if (r === 'big') return `${BigInt(e.value)}n`;
        if (r === 'bool') return e.value ? 'true' : 'false';
        return e.value < 0 ? `(${e.value})` : `${e.value}`;
      }
      case 'float':
        if (Number.isNaN(e.value)) return 'NaN';
        if (!Number.isFinite(e.value)) return e.value > 0 ? 'Infinity' : '(-Infinity)';
        return e.value < 0 || Object.is(e.value, -0) ? `(${e.value === 0 ? '-0' : e.value})` : `${e.value}`;
      case 'var': return this.varName(e);
      case 'binary': return this.binary(e.op, e.dtype, this.expr(e.a), this.expr(e.b));
      case 'compare': {
        const sym = { lt: '<', le: '<=', gt: '>', ge: '>=', eq: '===', ne: '!==' }[e.op];
        return `(${this.expr(e.a)} ${sym} ${this.expr(e.b)})`;
      }
      case 'and': return `(${this.expr(e.a)} && ${this.expr(e.b)})`;
      case 'or': return `(${this.expr(e.a)} || ${this.expr(e.b)})`;
      case 'not': return `(!${this.expr(e.a)})`;
      case 'select': return `(${this.expr(e.cond)} ? ${this.expr(e.t)} : ${this.expr(e.f)})`;
      case 'cast': return this.cast(this.expr(e.value), e.value.dtype, e.dtype);
      case 'call': {
        if (reprOf(e.dtype) === 'big') {
          if (e.fn === 'abs') return `M64.abs(${this.expr(e.args[0]!)})`;
          if (e.fn === 'neg') return `(-${this.expr(e.args[0]!)})`;
          this.fail(`intrinsic ${e.fn} on ${e.dtype}`);
        }
        const r = `M.${e.fn}(${e.args.map((a) => this.expr(a)).join(', ')})`;
        return e.fn === 'isnan' || e.fn === 'isinf' ? `(${r} !== 0)` : r;
      }
      case 'load': {
        if (e.dtype === 'float16' || e.dtype === 'bfloat16') return `M.${e.dtype === 'float16' ? 'f16' : 'bf16'}(${this.bufName(e.buffer)}[${this.expr(e.indices[0]!)}])`;
        const ref = `${this.bufName(e.buffer)}[${this.expr(e.indices[0]!)}]`;
        return e.dtype === 'bool' ? `(${ref} !== 0)` : ref;
      }
      case 'pload': case 'reduce':
        this.fail(`${e.kind} must be lowered before codegen`);
    }
  }

  private binary(op: string, dtype: DType, a: string, b: string): string {
    const r = reprOf(dtype);
    if (r === 'big') {
      switch (op) {
        case 'add': return `(${a} + ${b})`;
        case 'sub': return `(${a} - ${b})`;
        case 'mul': return `(${a} * ${b})`;
        case 'div': return `(${a} / ${b})`;
        case 'floordiv': return `M64.floordiv(${a}, ${b})`;
        case 'floormod': return `M64.floormod(${a}, ${b})`;
        case 'min': return `M64.min(${a}, ${b})`;
        case 'max': return `M64.max(${a}, ${b})`;
        case 'pow': return `M64.pow(${a}, ${b})`;
      }
    }
    const isInt = !isFloatDType(dtype);
    switch (op) {
      case 'add': return `(${a} + ${b})`;
      case 'sub': return `(${a} - ${b})`;
      case 'mul': return `(${a} * ${b})`;
      case 'div': return isInt ? `Math.trunc(${a} / ${b})` : `(${a} / ${b})`;
      case 'floordiv': return `Math.floor(${a} / ${b})`;
      case 'floormod': return isInt ? `((${a} % ${b} + ${b}) % ${b})` : `(${a} - Math.floor(${a} / ${b}) * ${b})`;
      case 'min': return `Math.min(${a}, ${b})`;
      case 'max': return `Math.max(${a}, ${b})`;
      case 'pow': return `Math.pow(${a}, ${b})`;
    }
    this.fail(`binary op ${op}`);
  }

  private cast(code: string, from: DType, to: DType): string {
    const rf = reprOf(from);
    const rt = reprOf(to);
    if (rt === 'bool') return rf === 'big' ? `(${code} !== 0n)` : rf === 'bool' ? code : `(${code} !== 0)`;
    if (rf === 'bool') return rt === 'big' ? `(${code} ? 1n : 0n)` : `(${code} ? 1 : 0)`;
    if (rt === 'big') return rf === 'big' ? (to === 'uint64' ? `BigInt.asUintN(64, ${code})` : `BigInt.asIntN(64, ${code})`) : (to === 'uint64' ? `M64.fromFloatU(${code})` : `M64.fromFloat(${code})`);
    if (rf === 'big') return `Number(${code})`;
    if (!isFloatDType(to) && isFloatDType(from)) return `Math.trunc(${code})`;
    if (to === 'float16') return `M.roundf16(${code})`;
    if (to === 'bfloat16') return `M.roundbf16(${code})`;
    if (to === 'float32') return `Math.fround(${code})`;
    return code;
  }

  private emit(line: string, indent: string): void {
    this.lines.push(indent + line);
  }

  stmt(s: Stmt, indent: string): void {
    switch (s.kind) {
      case 'for': {
        const v = this.varName(s.loopVar);
        this.emit(`for (let ${v} = 0; ${v} < ${s.extent}; ${v}++) {`, indent);
        this.stmt(s.body, indent + '  ');
        this.emit('}', indent);
        return;
      }
      case 'seq': for (const x of s.stmts) this.stmt(x, indent); return;
      case 'store': {
        let v = this.expr(s.value);
        if (s.buffer.dtype === 'bool') v = `(${v} ? 1 : 0)`;
        if (s.buffer.dtype === 'float16') v = `M.tof16(${v})`;
        if (s.buffer.dtype === 'bfloat16') v = `M.tobf16(${v})`;
        this.emit(`${this.bufName(s.buffer)}[${this.expr(s.indices[0]!)}] = ${v};`, indent);
        return;
      }
      case 'if':
        this.emit(`if (${this.expr(s.cond)}) {`, indent);
        this.stmt(s.then, indent + '  ');
        if (s.else) {
          this.emit('} else {', indent);
          this.stmt(s.else, indent + '  ');
        }
        this.emit('}', indent);
        return;
      case 'allocate':
        this.names.set(s.buffer.id, `${this.prefix}_s${this.scratch.length}`);
        this.scratch.push(s.buffer);
        this.stmt(s.body, indent);
        return;
      case 'block':
        this.fail(`block ${s.name} must be lowered before codegen`);
      // One thread runs a workgroup's thread-bound loops one after another: a barrier between them holds.
      case 'barrier': return;
      case 'let':
        this.emit(`const ${this.varName(s.var)} = ${this.expr(s.value)};`, indent);
        this.stmt(s.body, indent);
        return;
    }
  }

  build(): { scratch: string; body: string } {
    if (!this.func.flat) this.fail('the function must be flattened before codegen');
    this.lines = [];
    this.stmt(this.func.body, '    ');
    const params = this.func.params.map((_, i) => `p${i}`);
    const scratch = this.scratch
      .map((b) => `  const ${this.names.get(b.id)} = new ${ARRAY_CLASS[b.dtype]}(${b.shape[0]});\n`).join('');
    const signature = takesArray(this.func)
      ? `function (P) {\n    const ${params.map((p, i) => `${p} = P[${i}]`).join(', ')};\n`
      : `function (${params.join(', ')}) {\n`;
    const body = `  ${JSON.stringify(this.func.name)}: ${signature}${this.lines.join('\n')}\n  },\n`;
    return { scratch, body };
  }
}

/** The JS module source for a set of kernels: `(M, M64) => ({ name: kernel, ... })` as a function body. */
export function buildJsModule(funcs: readonly PrimFunc[]): string {
  const names = new Set<string>();
  let scratch = '';
  let kernels = '';
  funcs.forEach((f, i) => {
    if (names.has(f.name)) throw new CodegenError('js', f.name, 'duplicate kernel name');
    names.add(f.name);
    const out = new FunctionEmitter(f, `k${i}`).build();
    scratch += out.scratch;
    kernels += out.body;
  });
  return `"use strict";\n${scratch}return {\n${kernels}};\n`;
}

/** The JS kernel module of a set of kernels: its source, and which kernels take one array of views. */
export function jsKernelModule(funcs: readonly PrimFunc[]): JsKernelModule {
  const arrayArgs = funcs.filter(takesArray).map((f) => f.name);
  return { kind: 'js', source: buildJsModule(funcs), ...(arrayArgs.length > 0 ? { arrayArgs } : {}) };
}

// Scratch buffers are module-level arrays: the js kernels need no workspace, table or threads.
registerCodegen('js', (funcs) => ({ module: jsKernelModule(funcs), workspaceBytes: 0, argTableKernels: new Set(), threads: 1 }));

/**
 * WGSL codegen: flattened, GPU-scheduled PrimFuncs → compute shaders for the webgpu device.
 *
 * Memory: every kernel reads and writes one storage buffer, the arena, as `array<u32>`
 * (binding 0): each element is one 32-bit word (runtime/word_storage.ts), f32 and i32 by
 * bitcast. A uniform block (binding 1, one dynamic offset per step) holds the word offset of
 * each parameter in call order, then that of the step's workspace, where the kernel's
 * top-level scratch buffers live. One arena binding means no limit on the buffers a kernel
 * takes and no aliasing rules between them.
 *
 * Dispatches: a kernel's top-level statements (below its global scratch allocations) are
 * one dispatch each (they may exchange data through global memory, which one dispatch
 * orders only within an invocation); each must pass VerifyGpu, which gives its workgroup
 * size and grid. A loop bound to threadIdx/blockIdx becomes the invocation's id on that
 * axis; shared buffers become `var<workgroup>` arrays, local ones function-scope arrays;
 * `let`s (BindValues) become WGSL lets.
 *
 * Types: WGSL computes in f32, i32, u32 and bool. float64 computes as f32; 64-bit integers
 * as 32-bit ones; 8- and 16-bit integers as i32/u32, wrapped to their width where they
 * are stored or cast to; float16/bfloat16 as f32, rounded to their precision likewise.
 */
import { OrderedNames } from '../names.js';
import type { DType } from '../../runtime/dtype.js';
import type { Buffer, Expr, Var } from '../../ir/expr.js';
import { wordKind } from '../../runtime/word_storage.js';
import type { PrimFunc, Stmt } from '../../tir/stmt.js';
import type { Target } from '../../target/target.js';
import type { WebGpuDispatch, WebGpuKernel, WebGpuKernelModule } from '../../runtime/devices/webgpu.js';
import { verifyGpu } from '../../tir/transform/verify_gpu.js';
import { CodegenError } from '../error.js';
import { registerCodegen } from '../registry.js';

type WType = 'f32' | 'i32' | 'u32' | 'bool';

/** The WGSL type a value of `t` computes in: its word's (runtime/word_storage.ts), bool as bool. */
const wtype = (t: DType): WType => (t === 'bool' ? 'bool' : wordKind(t));

/**
 * Whether an integer expression is never negative: loop variables (from 0), non-negative
 * constants, and sums, products, minima, maxima, floor divisions and remainders of such.
 */
function nonNegative(e: Expr): boolean {
  switch (e.kind) {
    case 'int': return e.value >= 0;
    case 'var': return true;
    case 'binary':
      if (e.op === 'add' || e.op === 'mul' || e.op === 'min' || e.op === 'max') return nonNegative(e.a) && nonNegative(e.b);
      if (e.op === 'floordiv' || e.op === 'floormod') return nonNegative(e.a) && e.b.kind === 'int' && e.b.value > 0;
      return false;
    default: return false;
  }
}

/** Helper functions a shader may call (emitted when used). */
const HELPERS: Record<string, string> = {
  nan: 'var<private> T_NAN_BITS: u32 = 0x7fc00000u;\nfn t_nan() -> f32 { return bitcast<f32>(T_NAN_BITS); }',
  inf: 'var<private> T_INF_BITS: u32 = 0x7f800000u;\nfn t_inf() -> f32 { return bitcast<f32>(T_INF_BITS); }',
  fdiv: 'fn t_fdiv(a: i32, b: i32) -> i32 { let q = a / b; return select(q, q - 1i, (a % b != 0i) && ((a < 0i) != (b < 0i))); }',
  fmod: 'fn t_fmod(a: i32, b: i32) -> i32 { let r = a % b; return select(r, r + b, (r != 0i) && ((r < 0i) != (b < 0i))); }',
  pow: `fn t_pow(x: f32, y: f32) -> f32 {
  if (y == 0.0f) { return 1.0f; }
  if (y == 1.0f) { return x; }
  if (y == 2.0f) { return x * x; }
  let r = exp2(y * log2(abs(x)));
  if (x >= 0.0f) { return r; }
  if (x != x || floor(y) != y) { return t_nan(); }
  return select(r, -r, abs(y) < 16777216.0f && fract(y * 0.5f) != 0.0f);
}`,
  ipow: `fn t_ipow(x: i32, y: i32) -> i32 {
  if (y < 0i) { return select(0i, select(-1i, 1i, (y & 1i) == 0i), x == -1i) + select(0i, 1i, x == 1i); }
  var r = 1i; var b = x; var e = y;
  loop { if (e == 0i) { break; } if ((e & 1i) != 0i) { r = r * b; } b = b * b; e = e >> 1u; }
  return r;
}`,
  upow: `fn t_upow(x: u32, y: u32) -> u32 {
  var r = 1u; var b = x; var e = y;
  loop { if (e == 0u) { break; } if ((e & 1u) != 0u) { r = r * b; } b = b * b; e = e >> 1u; }
  return r;
}`,
  erf: `fn t_erf(x: f32) -> f32 {
  let a = abs(x);
  if (a < 0.5f) {
    let z = x * x;
    return x * (1.1283791671f + z * (-0.3761263890f + z * (0.1128379167f + z * (-0.0268661706f + z * 0.0052239776f))));
  }
  let t = 1.0f / (1.0f + 0.3275911f * a);
  let y = 1.0f - (((((1.061405429f * t - 1.453152027f) * t) + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t * exp(-a * a);
  return select(-y, y, x >= 0.0f);
}`,
  // Cody-Waite reduction by pi/2 and Cephes' minimax polynomials: about 1 ulp up to |x| ~ 1e5
  // (WGSL only promises an absolute error of 2^-11 for sin and cos, on [-pi, pi]).
  trig: `fn t_sincos(x: f32) -> vec2<f32> {
  let q = round(x * 0.63661977236758134f);
  let r = (x - q * 1.5707963705062866f) - q * -4.37113900018624283e-8f;
  let z = r * r;
  let s = r + r * z * (-1.6666654611e-1f + z * (8.3321608736e-3f + z * -1.9515295891e-4f));
  let c = 1.0f - 0.5f * z + z * z * (4.166664568298827e-2f + z * (-1.388731625493765e-3f + z * 2.443315711809948e-5f));
  let k = i32(q) & 3i;
  if (k == 0i) { return vec2<f32>(s, c); }
  if (k == 1i) { return vec2<f32>(c, -s); }
  if (k == 2i) { return vec2<f32>(-s, -c); }
  return vec2<f32>(-c, s);
}`,
  f16: 'fn t_round_f16(x: f32) -> f32 {\n  if (abs(x) >= 65520.0f) { return select(-t_inf(), t_inf(), x > 0.0f); }\n  return unpack2x16float(pack2x16float(vec2<f32>(x, 0.0f))).x;\n}',
  bf16: 'fn t_round_bf16(x: f32) -> f32 {\n  let b = bitcast<u32>(x);\n  if ((b & 0x7f800000u) == 0x7f800000u) { return x; }\n  return bitcast<f32>((b + 0x7fffu + ((b >> 16u) & 1u)) & 0xffff0000u);\n}',
};
const HELPER_DEPS: Record<string, string[]> = { pow: ['nan'], f16: ['inf'] };

const CALLS: Partial<Record<string, string>> = {
  exp: 'exp', log: 'log', sqrt: 'sqrt', abs: 'abs', floor: 'floor', ceil: 'ceil', round: 'round', asin: 'asin', acos: 'acos', atan: 'atan', sinh: 'sinh', cosh: 'cosh', asinh: 'asinh', acosh: 'acosh', atanh: 'atanh',
  sign: 'sign', trunc: 'trunc',
};

/** A scope of the shader: its declarations (local arrays) first, then its statements and nested scopes. */
interface Scope {
  readonly lets: string[];
  readonly body: (string | { open: string; scope: Scope; close: string })[];
}

const newScope = (): Scope => ({ lets: [], body: [] });

function render(scope: Scope, indent: string, out: string[]): void {
  for (const l of scope.lets) out.push(indent + l);
  for (const b of scope.body) {
    if (typeof b === 'string') {
      out.push(indent + b);
    } else {
      out.push(indent + b.open);
      render(b.scope, `${indent}  `, out);
      out.push(indent + b.close);
    }
  }
}

class DispatchEmitter {
  private readonly root: Scope = newScope();
  private current: Scope = this.root;
  private readonly helpers = new Set<string>();
  private readonly workgroupVars: string[] = [];
  /**
   * Names of variables (`v<n>`) and of shared and local buffers (`s<n>`, `l<n>`) by id, n
   * counting them in the order the dispatch binds them: not their global ids, so the same
   * model compiles to the same shaders and identical dispatches share one shader.
   */
  private readonly varNames = new OrderedNames('v');
  private readonly bufNames = new OrderedNames('l');

  constructor(
    private readonly func: PrimFunc,
    private readonly paramIndex: ReadonlyMap<number, number>,
    private readonly scratchWords: ReadonlyMap<number, number>,
    private readonly argCount: number,
  ) {}

  private fail(reason: string): never {
    throw new CodegenError('webgpu', this.func.name, reason);
  }

  private use(h: string): void {
    if (this.helpers.has(h)) return;
    for (const d of HELPER_DEPS[h] ?? []) this.use(d);
    this.helpers.add(h);
  }

  private arg(i: number): string {
    return `args[${i >> 2}].${'xyzw'[i & 3]}`;
  }

  /** The word offset of a global buffer's first element (a parameter or a workspace scratch buffer). */
  private base(b: Buffer): string {
    const p = this.paramIndex.get(b.id);
    if (p !== undefined) return this.arg(p);
    const w = this.scratchWords.get(b.id);
    if (w === undefined) this.fail(`buffer ${b.name} is neither a parameter nor allocated`);
    return w === 0 ? this.arg(this.argCount - 1) : `(${this.arg(this.argCount - 1)} + ${w}u)`;
  }

  private name(b: Buffer): string {
    return this.bufNames.of(b.id, b.scope === 'shared' ? 's' : 'l');
  }

  private varName(v: Var): string {
    return this.varNames.of(v.id);
  }

  private literal(value: number, dtype: DType): string {
    const w = wtype(dtype);
    if (w === 'bool') return value ? 'true' : 'false';
    if (w === 'f32') {
      const f = Math.fround(value);
      if (Number.isNaN(f)) { this.use('nan'); return 't_nan()'; }
      if (!Number.isFinite(f)) { this.use('inf'); return f > 0 ? 't_inf()' : '(-t_inf())'; }
      if (f !== 0 && Math.abs(f) < 1.1754943508222875e-38) {
        const bits = new Uint32Array(Float32Array.of(f).buffer)[0]!;
        return `bitcast<f32>(0x${bits.toString(16)}u)`;
      }
      const s = String(Math.abs(f));
      const lit = `${s.includes('.') || s.includes('e') ? s : `${s}.0`}f`;
      return f < 0 || Object.is(f, -0) ? `(-${lit})` : lit;
    }
    if (!Number.isInteger(value)) this.fail(`integer constant ${value} is not an integer`);
    if (w === 'i32') {
      if (value < -0x80000000 || value > 0x7fffffff) this.fail(`the ${dtype} constant ${value} is beyond the 32-bit integers the webgpu target computes ${dtype} in`);
      return value === -0x80000000 ? 'i32(-2147483648)' : value < 0 ? `(${value}i)` : `${value}i`;
    }
    if (value < 0 || value > 0xffffffff) this.fail(`the ${dtype} constant ${value} is beyond the 32-bit integers the webgpu target computes ${dtype} in`);
    return `${value}u`;
  }

  /** The value of `code` (a WGSL value of `from`'s type) as `to`, wrapped or rounded to `to`'s width. */
  private convert(code: string, from: DType, to: DType): string {
    const wf = wtype(from);
    const wt = wtype(to);
    let c: string;
    if (wt === 'bool') c = wf === 'bool' ? code : wf === 'f32' ? `(${code} != 0.0f)` : `(${code} != 0${wf === 'i32' ? 'i' : 'u'})`;
    else if (wf === 'bool') c = `select(${wt === 'f32' ? '0.0f' : `0${wt[0]}`}, ${wt === 'f32' ? '1.0f' : `1${wt[0]}`}, ${code})`;
    else if (wf === wt) c = code;
    else if (wf !== 'f32' && wt !== 'f32') c = `bitcast<${wt}>(${code})`;
    else c = `${wt}(${code})`;
    return this.narrow(c, to, wf === wt && from === to);
  }

  /** `code` (in `t`'s WGSL type) wrapped or rounded to the width of `t`; `exact` when it already is. */
  private narrow(code: string, t: DType, exact = false): string {
    if (exact) return code;
    switch (t) {
      case 'int8': return `((${code} << 24u) >> 24u)`;
      case 'int16': return `((${code} << 16u) >> 16u)`;
      case 'uint8': return `(${code} & 0xffu)`;
      case 'uint16': return `(${code} & 0xffffu)`;
      case 'float16': this.use('f16'); return `t_round_f16(${code})`;
      case 'bfloat16': this.use('bf16'); return `t_round_bf16(${code})`;
      default: return code;
    }
  }

  /** The WGSL for `e` (its subexpressions arrive bound by tir/transform/bind_values.ts, 'bind-all'). */
  expr(e: Expr): string {
    switch (e.kind) {
      case 'int': case 'float': return this.literal(e.value, e.dtype);
      case 'var': return this.varName(e);
      case 'binary': {
        const natural = (e.op === 'floordiv' || e.op === 'floormod') && e.b.kind === 'int' && e.b.value > 0 && nonNegative(e.a);
        return this.binary(e.op, e.dtype, this.expr(e.a), this.expr(e.b), natural);
      }
      case 'compare': {
        const sym = { lt: '<', le: '<=', gt: '>', ge: '>=', eq: '==', ne: '!=' }[e.op];
        const a = this.expr(e.a);
        const b = this.expr(e.b);
        // x != x is how IsNaN is written; WGSL lets compilers assume no NaN (and fold it to
        // false), so the test reads the bits.
        if (a === b && wtype(e.a.dtype) === 'f32' && (e.op === 'ne' || e.op === 'eq')) {
          return `((bitcast<u32>(${a}) & 0x7fffffffu) ${e.op === 'ne' ? '>' : '<='} 0x7f800000u)`;
        }
        return `(${a} ${sym} ${b})`;
      }
      case 'and': return `(${this.expr(e.a)} && ${this.expr(e.b)})`;
      case 'or': return `(${this.expr(e.a)} || ${this.expr(e.b)})`;
      case 'not': return `(!${this.expr(e.a)})`;
      // Both sides are evaluated (WGSL's select does not branch); a guarded load that would
      // leave the arena reads some word of it instead (robust buffer access), then is dropped.
      case 'select': return `select(${this.expr(e.f)}, ${this.expr(e.t)}, ${this.expr(e.cond)})`;
      case 'cast': return this.convert(this.expr(e.value), e.value.dtype, e.dtype);
      case 'call': return this.call(e.fn, e.dtype, e.args);
      case 'load': {
        const b = e.buffer;
        const idx = this.expr(e.indices[0]!);
        if (b.scope !== 'global') {
          const v = `${this.name(b)}[${idx}]`;
          return wtype(b.dtype) === 'bool' && b.scope === 'shared' ? `(${v} != 0u)` : v;
        }
        const word = `mem[${this.base(b)} + u32(${idx})]`;
        switch (wtype(b.dtype)) {
          case 'f32': return `bitcast<f32>(${word})`;
          case 'i32': return `bitcast<i32>(${word})`;
          case 'u32': return word;
          case 'bool': return `(${word} != 0u)`;
        }
        break;
      }
      case 'pload': case 'reduce':
        this.fail(`${e.kind} must be lowered before codegen`);
    }
    this.fail(`expression ${(e as Expr).kind}`);
  }


  private call(fn: string, dtype: DType, args: readonly Expr[]): string {
    const a = args.map((x) => this.expr(x));
    const x = a[0]!;
    const argType = wtype(args[0]!.dtype);
    switch (fn) {
      case 'neg': return `(-${x})`;
      case 'reciprocal': return `(1.0f / ${x})`;
      case 'sigmoid': return `(1.0f / (1.0f + exp(-${x})))`;
      // Clamped: some implementations overflow exp inside tanh for large |x| (tanh(10) is 1 in f32).
      case 'tanh': return `tanh(clamp(${x}, -10.0f, 10.0f))`;
      case 'erf': this.use('erf'); return `t_erf(${x})`;
      case 'sin': this.use('trig'); return `t_sincos(${x}).x`;
      case 'cos': this.use('trig'); return `t_sincos(${x}).y`;
      case 'tan': { this.use('trig'); return `(t_sincos(${x}).x / t_sincos(${x}).y)`; }
      case 'isnan': return `((bitcast<u32>(${x}) & 0x7fffffffu) > 0x7f800000u)`;
      case 'isinf': return `((bitcast<u32>(${x}) & 0x7fffffffu) == 0x7f800000u)`;
      case 'abs': return argType === 'u32' ? x : `abs(${x})`;
      case 'sign': return argType === 'u32' ? `min(${x}, 1u)` : `sign(${x})`;
      default: {
        const name = CALLS[fn];
        if (!name) this.fail(`intrinsic ${fn} on ${dtype}`);
        if (argType !== 'f32') {
          // Rounding functions of integers are the integer itself.
          if (['floor', 'ceil', 'round', 'trunc'].includes(fn)) return x;
          this.fail(`intrinsic ${fn} on ${dtype}`);
        }
        return `${name}(${a.join(', ')})`;
      }
    }
  }

  /**
   * `natural`: the dividend is never negative and the divisor a positive constant (index
   * arithmetic over loop variables), where WGSL's truncating / and % are floor division.
   */
  private binary(op: string, dtype: DType, a: string, b: string, natural = false): string {
    const w = wtype(dtype);
    switch (op) {
      case 'add': return `(${a} + ${b})`;
      case 'sub': return `(${a} - ${b})`;
      case 'mul': return `(${a} * ${b})`;
      case 'div': return `(${a} / ${b})`;
      case 'min': return `min(${a}, ${b})`;
      case 'max': return `max(${a}, ${b})`;
      case 'floordiv':
        if (w === 'f32') return `floor(${a} / ${b})`;
        if (w === 'u32' || natural) return `(${a} / ${b})`;
        this.use('fdiv');
        return `t_fdiv(${a}, ${b})`;
      case 'floormod':
        if (w === 'f32') return `(${a} - floor(${a} / ${b}) * ${b})`;
        if (w === 'u32' || natural) return `(${a} % ${b})`;
        this.use('fmod');
        return `t_fmod(${a}, ${b})`;
      case 'pow':
        if (w === 'f32') { this.use('pow'); return `t_pow(${a}, ${b})`; }
        if (w === 'i32') { this.use('ipow'); return `t_ipow(${a}, ${b})`; }
        this.use('upow');
        return `t_upow(${a}, ${b})`;
    }
    this.fail(`binary op ${op} on ${dtype}`);
  }

  private emit(line: string): void {
    this.current.body.push(line);
  }

  /** Emits `inner` in a new scope opened by `open`. */
  private nested(open: string, inner: () => void, close = '}'): void {
    const scope = newScope();
    this.current.body.push({ open, scope, close });
    const outer = this.current;
    this.current = scope;
    inner();
    this.current = outer;
  }

  stmt(s: Stmt): void {
    switch (s.kind) {
      case 'for': {
        const v = this.varName(s.loopVar);
        if (s.forKind === 'thread') {
          const id = s.thread!.startsWith('threadIdx') ? 'lid' : 'wid';
          this.nested(`{ let ${v}: i32 = i32(${id}.${s.thread!.slice(-1)});`, () => this.stmt(s.body));
          return;
        }
        this.nested(`for (var ${v}: i32 = 0i; ${v} < ${s.extent}i; ${v}++) {`, () => this.stmt(s.body));
        return;
      }
      case 'seq': for (const x of s.stmts) this.stmt(x); return;
      case 'store': {
        const b = s.buffer;
        const value = this.narrow(this.expr(s.value), b.dtype);
        const idx = this.expr(s.indices[0]!);
        if (b.scope !== 'global') {
          const v = wtype(b.dtype) === 'bool' && b.scope === 'shared' ? `select(0u, 1u, ${value})` : value;
          this.emit(`${this.name(b)}[${idx}] = ${v};`);
          return;
        }
        const word = wtype(b.dtype) === 'u32' ? value : wtype(b.dtype) === 'bool' ? `select(0u, 1u, ${value})` : `bitcast<u32>(${value})`;
        this.emit(`mem[${this.base(b)} + u32(${idx})] = ${word};`);
        return;
      }
      case 'if': {
        const cond = this.expr(s.cond);
        this.nested(`if (${cond}) {`, () => this.stmt(s.then));
        if (s.else) this.nested('else {', () => this.stmt(s.else!));
        return;
      }
      case 'allocate': {
        const b = s.buffer;
        const n = b.shape.reduce((x, d) => x * d, 1);
        if (b.scope === 'shared') this.workgroupVars.push(`var<workgroup> ${this.name(b)}: array<${wordKind(b.dtype)}, ${n}>;`);
        else if (b.scope === 'local') this.current.lets.push(`var ${this.name(b)}: array<${wtype(b.dtype)}, ${n}>;`);
        else this.fail(`scratch buffer ${b.name} in global memory inside a dispatch`);
        this.stmt(s.body);
        return;
      }
      case 'barrier': this.emit('workgroupBarrier();'); return;
      case 'let':
        this.emit(`let ${this.varName(s.var)} = ${this.expr(s.value)};`);
        this.stmt(s.body);
        return;
      case 'block': this.fail(`block ${s.name} must be lowered before codegen`);
    }
  }

  shader(body: Stmt, workgroup: readonly number[]): string {
    this.stmt(body);
    const lines: string[] = [];
    render(this.root, '  ', lines);
    const words = Math.max(1, Math.ceil(this.argCount / 4));
    return [
      '@group(0) @binding(0) var<storage, read_write> mem: array<u32>;',
      `@group(0) @binding(1) var<uniform> args: array<vec4<u32>, ${words}>;`,
      ...this.workgroupVars,
      ...Object.keys(HELPERS).filter((h) => this.helpers.has(h)).map((h) => HELPERS[h]!),
      `@compute @workgroup_size(${workgroup.join(', ')})`,
      'fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {',
      ...lines,
      '}',
      '',
    ].join('\n');
  }
}

/** A kernel's top-level global scratch buffers (word offsets in its workspace) and its dispatches. */
function peel(f: PrimFunc): { scratch: Map<number, number>; words: number; dispatches: Stmt[] } {
  const scratch = new Map<number, number>();
  let words = 0;
  let body = f.body;
  while (body.kind === 'allocate' && body.buffer.scope === 'global') {
    scratch.set(body.buffer.id, words);
    // 16-byte aligned, as vector loads of the arena will want.
    words += Math.ceil(body.buffer.shape.reduce((x, d) => x * d, 1) / 4) * 4;
    body = body.body;
  }
  return { scratch, words, dispatches: body.kind === 'seq' ? [...body.stmts] : [body] };
}

export function buildWgslModule(funcs: readonly PrimFunc[], target: Target): { module: WebGpuKernelModule; workspaceBytes: number } {
  const shaders: string[] = [];
  const shaderIndex = new Map<string, number>();
  const kernels: Record<string, WebGpuKernel> = {};
  let workspaceBytes = 0;
  for (const f of funcs) {
    if (!f.flat) throw new CodegenError('webgpu', f.name, 'the function must be flattened before codegen');
    if (f.name in kernels) throw new CodegenError('webgpu', f.name, 'duplicate kernel name');
    const { scratch, words, dispatches } = peel(f);
    workspaceBytes = Math.max(workspaceBytes, words * 4);
    const paramIndex = new Map(f.params.map((b, i) => [b.id, i]));
    const list: WebGpuDispatch[] = [];
    for (const d of dispatches) {
      if (d.kind === 'seq' && d.stmts.length === 0) continue;
      const launch = verifyGpu({ ...f, body: d }, target);
      const code = new DispatchEmitter(f, paramIndex, scratch, f.params.length + 1).shader(d, launch.workgroup);
      let shader = shaderIndex.get(code);
      if (shader === undefined) {
        shader = shaders.length;
        shaders.push(code);
        shaderIndex.set(code, shader);
      }
      list.push({ shader, workgroup: launch.workgroup, grid: launch.grid });
    }
    kernels[f.name] = { dispatches: list };
  }
  return { module: { kind: 'webgpu', shaders, kernels }, workspaceBytes };
}

registerCodegen('webgpu', (funcs, target) => {
  const { module, workspaceBytes } = buildWgslModule(funcs, target);
  return { module, workspaceBytes, argTableKernels: new Set(), threads: 1 };
});

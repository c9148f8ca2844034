import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

import {
  CORE_OPCODES,
  LANE_OPCODES,
  LOAD_OPCODES,
  ModuleBuilder,
  PLAIN_OP_NAMES,
  SAT_OPCODES,
  SIMD_OPCODES,
  STORE_OPCODES,
  encodeSLEB128,
  encodeULEB128,
  simdSupported,
  type FunctionBuilder,
  type LaneOp,
  type PlainOp,
  type ValType,
} from '../../../src/codegen/wasm/encoder.js';
import { relaxedSimdSupported } from '../../../src/target/index.js';

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

type Scalar = number | bigint;
type WasmFn = (...args: Scalar[]) => unknown;

function instantiate(bytes: Uint8Array<ArrayBuffer>, imports: WebAssembly.Imports = {}): WebAssembly.Instance {
  assert.ok(WebAssembly.validate(bytes), 'module must validate');
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), imports);
}

function fn(inst: WebAssembly.Instance, name: string): WasmFn {
  const f = inst.exports[name];
  if (typeof f !== 'function') throw new Error(`export ${name} is not a function`);
  return f as WasmFn;
}

/** Independent LEB128 decoders used to cross-check the encoder. */
function readULEB(bytes: Uint8Array, pos: number): { value: bigint; next: number } {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const b = bytes[pos++];
    if (b === undefined) throw new Error('truncated LEB128');
    result |= BigInt(b & 0x7f) << shift;
    shift += 7n;
    if ((b & 0x80) === 0) return { value: result, next: pos };
  }
}

function readSLEB(bytes: Uint8Array, pos: number): { value: bigint; next: number } {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const b = bytes[pos++];
    if (b === undefined) throw new Error('truncated LEB128');
    result |= BigInt(b & 0x7f) << shift;
    shift += 7n;
    if ((b & 0x80) === 0) {
      if (b & 0x40) result -= 1n << shift;
      return { value: result, next: pos };
    }
  }
}

interface Section {
  id: number;
  start: number;
  size: number;
}

/** Splits a module into sections, checking the header and that sizes tile the file exactly. */
function sections(bytes: Uint8Array): Section[] {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const out: Section[] = [];
  let p = 8;
  while (p < bytes.length) {
    const id = bytes[p++]!;
    const { value, next } = readULEB(bytes, p);
    out.push({ id, start: next, size: Number(value) });
    p = next + Number(value);
  }
  assert.equal(p, bytes.length, 'section sizes must add up to the module length');
  return out;
}

function sectionBytes(bytes: Uint8Array, id: number): Uint8Array {
  const s = sections(bytes).find((x) => x.id === id);
  assert.ok(s, `section ${id} present`);
  return bytes.subarray(s.start, s.start + s.size);
}

/** Bodies (locals + code + end, without size prefix) from the code section. */
function functionBodies(bytes: Uint8Array): Uint8Array[] {
  const code = sectionBytes(bytes, 10);
  let { value: count, next: p } = readULEB(code, 0);
  const bodies: Uint8Array[] = [];
  while (count-- > 0n) {
    const { value: size, next } = readULEB(code, p);
    bodies.push(code.subarray(next, next + Number(size)));
    p = next + Number(size);
  }
  assert.equal(p, code.length);
  return bodies;
}

/** Builds a single-function module and returns its body bytes. */
function bodyOf(params: ValType[], results: ValType[], build: (f: FunctionBuilder) => void): number[] {
  const m = new ModuleBuilder();
  m.importMemory('env', 'mem', { initial: 1 });
  m.addFunction(params, results, build);
  return [...functionBodies(m.build())[0]!];
}

/** String form that distinguishes -0 from 0. */
const show = (x: unknown): string => (Object.is(x, -0) ? '-0' : String(x));

const hex = (bytes: Uint8Array): string => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');

const SIMD_SKIP = simdSupported() ? false : 'SIMD128 is not supported by this WebAssembly host';
const RELAXED_SKIP = relaxedSimdSupported() ? false : 'relaxed SIMD is not supported by this WebAssembly host (without flags)';

// ---------------------------------------------------------------------------
// LEB128
// ---------------------------------------------------------------------------

describe('LEB128', () => {
  test('unsigned encodings match known byte sequences', () => {
    const cases: Array<[number | bigint, string]> = [
      [0, '00'],
      [1, '01'],
      [127, '7f'],
      [128, '80 01'],
      [255, 'ff 01'],
      [300, 'ac 02'],
      [16383, 'ff 7f'],
      [16384, '80 80 01'],
      [624485, 'e5 8e 26'],
      [0xffffffff, 'ff ff ff ff 0f'],
      [2 ** 53 - 1, 'ff ff ff ff ff ff ff 0f'],
      [624485n, 'e5 8e 26'],
      [(1n << 64n) - 1n, 'ff ff ff ff ff ff ff ff ff 01'],
    ];
    for (const [v, expected] of cases) assert.equal(hex(encodeULEB128(v)), expected, `uleb(${v})`);
  });

  test('signed encodings match known byte sequences', () => {
    const cases: Array<[number | bigint, string]> = [
      [0, '00'],
      [1, '01'],
      [-1, '7f'],
      [63, '3f'],
      [64, 'c0 00'],
      [-64, '40'],
      [-65, 'bf 7f'],
      [127, 'ff 00'],
      [-128, '80 7f'],
      [-123456, 'c0 bb 78'],
      [2147483647, 'ff ff ff ff 07'],
      [-2147483648, '80 80 80 80 78'],
      [-(2 ** 53) + 1, '81 80 80 80 80 80 80 70'],
      [-123456n, 'c0 bb 78'],
      [(1n << 63n) - 1n, 'ff ff ff ff ff ff ff ff ff 00'],
      [-(1n << 63n), '80 80 80 80 80 80 80 80 80 7f'],
    ];
    for (const [v, expected] of cases) assert.equal(hex(encodeSLEB128(v)), expected, `sleb(${v})`);
  });

  test('number and bigint paths agree and round-trip through an independent decoder', () => {
    const values: number[] = [];
    for (let k = 0; k <= 53; k++) {
      const p = 2 ** k;
      values.push(p - 1, p, -p, -p + 1);
      if (k < 53) values.push(p + 1, -p - 1);
    }
    let seed = 12345;
    for (let i = 0; i < 500; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      values.push(Math.round((seed / 2 ** 32 - 0.5) * 2 ** (seed % 54)));
    }
    for (const v of values.filter(Number.isSafeInteger)) {
      const s = encodeSLEB128(v);
      assert.deepEqual(s, encodeSLEB128(BigInt(v)), `sleb number/bigint ${v}`);
      const ds = readSLEB(s, 0);
      assert.equal(ds.value, BigInt(v), `sleb round-trip ${v}`);
      assert.equal(ds.next, s.length);
      if (v >= 0) {
        const u = encodeULEB128(v);
        assert.deepEqual(u, encodeULEB128(BigInt(v)), `uleb number/bigint ${v}`);
        assert.equal(readULEB(u, 0).value, BigInt(v), `uleb round-trip ${v}`);
        assert.equal(u.length, Math.max(1, Math.ceil(v.toString(2).length / 7)), `uleb minimal length ${v}`);
      }
    }
  });

  test('rejects values it cannot encode', () => {
    assert.throws(() => encodeULEB128(-1), RangeError);
    assert.throws(() => encodeULEB128(-1n), RangeError);
    assert.throws(() => encodeULEB128(1.5), RangeError);
    assert.throws(() => encodeSLEB128(2 ** 60), RangeError);
    assert.throws(() => encodeSLEB128(NaN), RangeError);
  });
});

// ---------------------------------------------------------------------------
// module structure
// ---------------------------------------------------------------------------

describe('module structure', () => {
  test('empty module is just the header', () => {
    assert.deepEqual([...new ModuleBuilder().build()], [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  });

  test('sections are emitted in order with exact sizes; identical types are deduplicated', () => {
    const m = new ModuleBuilder();
    m.importMemory('env', 'mem', { initial: 1 });
    const imp = m.importFunction('env', 'f', ['i32', 'i32'], ['i32']);
    const a = m.addFunction(['i32', 'i32'], ['i32'], (f) => f.localGet(0).localGet(1).call(imp));
    const b = m.addFunction(['i32', 'i32'], ['i32'], (f) => f.localGet(0).localGet(1).op('i32.sub'));
    const c = m.addFunction(['f64'], [], (f) => f.localGet(0).drop());
    assert.deepEqual([imp, a, b, c], [0, 1, 2, 3]);
    m.exportFunction('a', a);
    m.exportFunction('c', c);
    const bytes = m.build();
    assert.deepEqual(sections(bytes).map((s) => s.id), [1, 2, 3, 7, 10]);
    // type section: 2 distinct types
    assert.deepEqual([...sectionBytes(bytes, 1)], [0x02, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7c, 0x00]);
    // function section: 3 defined functions with types 0, 0, 1
    assert.deepEqual([...sectionBytes(bytes, 3)], [0x03, 0x00, 0x00, 0x01]);
    // export section: "a" -> func 1, "c" -> func 3
    assert.deepEqual([...sectionBytes(bytes, 7)], [0x02, 0x01, 0x61, 0x00, 0x01, 0x01, 0x63, 0x00, 0x03]);
    assert.ok(WebAssembly.validate(bytes));
    assert.equal(functionBodies(bytes).length, 3);
  });

  test('consecutive locals of the same type are grouped', () => {
    const body = bodyOf(['i32'], [], (f) => {
      assert.equal(f.addLocal('i32'), 1);
      assert.equal(f.addLocal('i32'), 2);
      assert.equal(f.addLocal('f32'), 3);
      assert.equal(f.addLocal('i32'), 4);
      assert.equal(f.addLocal('v128'), 5);
      assert.equal(f.addLocal('v128'), 6);
      assert.equal(f.localType(3), 'f32');
      f.localGet(4).localSet(0);
    });
    // 4 groups: (2 x i32) (1 x f32) (1 x i32) (2 x v128), then local.get 4, local.set 0, end
    assert.deepEqual(body, [0x04, 0x02, 0x7f, 0x01, 0x7d, 0x01, 0x7f, 0x02, 0x7b, 0x20, 0x04, 0x21, 0x00, 0x0b]);
  });

  test('instruction encodings with immediates', () => {
    const body = bodyOf([], [], (f) => {
      f.block().loop('i32').i32Const(624485).brIf(1).i32Const(-123456).end().drop().end();
      f.i32Const(0).load('i32.load16_u', { align: 1, offset: 200 }).drop();
      f.i32Const(0).i64Const(-1n).store('i64.store32', { offset: 3 });
      f.i32Const(0).load('v128').drop();
      f.f32Const(1).op('f32x4.splat').op('f32x4.add').drop();
      f.op('i32.trunc_sat_f64_u');
      f.op('f32x4.relaxed_madd').op('f32x4.relaxed_nmadd');
      f.laneOp('f32x4.extract_lane', 3);
    });
    assert.deepEqual(body, [
      0x00, // no locals
      0x02, 0x40, 0x03, 0x7f, 0x41, 0xe5, 0x8e, 0x26, 0x0d, 0x01, 0x41, 0xc0, 0xbb, 0x78, 0x0b, 0x1a, 0x0b,
      0x41, 0x00, 0x2f, 0x01, 0xc8, 0x01, 0x1a,
      0x41, 0x00, 0x42, 0x7f, 0x3e, 0x02, 0x03,
      0x41, 0x00, 0xfd, 0x00, 0x04, 0x00, 0x1a,
      0x43, 0x00, 0x00, 0x80, 0x3f, 0xfd, 0x13, 0xfd, 0xe4, 0x01, 0x1a,
      0xfc, 0x03,
      0xfd, 0x85, 0x02, 0xfd, 0x86, 0x02,
      0xfd, 0x1f, 0x03,
      0x0b,
    ]);
  });

  test('opcode tables have no duplicate encodings', () => {
    const tables: Array<[string, Record<string, number>]> = [
      ['core', CORE_OPCODES],
      ['0xFC', SAT_OPCODES],
      ['0xFD', {
        ...SIMD_OPCODES,
        ...Object.fromEntries(Object.entries(LANE_OPCODES).map(([k, v]) => [k, v.code])),
        ...Object.fromEntries(Object.entries(LOAD_OPCODES).filter(([, v]) => 'prefix' in v).map(([k, v]) => [k, v.code])),
        ...Object.fromEntries(Object.entries(STORE_OPCODES).filter(([, v]) => 'prefix' in v).map(([k, v]) => [k, v.code])),
      }],
      ['core memory', Object.fromEntries(
        [...Object.entries(LOAD_OPCODES), ...Object.entries(STORE_OPCODES)].filter(([, v]) => !('prefix' in v)).map(([k, v]) => [k, v.code]),
      )],
    ];
    for (const [label, table] of tables) {
      const seen = new Map<number, string>();
      for (const [name, code] of Object.entries(table)) {
        assert.equal(seen.get(code), undefined, `${label}: ${name} and ${seen.get(code)} share opcode 0x${code.toString(16)}`);
        seen.set(code, name);
      }
    }
    // core memory opcodes must not collide with plain core opcodes either
    const core = new Set<number>(Object.values(CORE_OPCODES));
    for (const [name, v] of [...Object.entries(LOAD_OPCODES), ...Object.entries(STORE_OPCODES)]) {
      if (!('prefix' in v)) assert.ok(!core.has(v.code), `${name} collides with a core opcode`);
    }
  });

  test('function imports must precede defined functions', () => {
    const m = new ModuleBuilder();
    m.importFunction('env', 'a', [], []);
    m.addFunction([], [], () => {});
    assert.throws(() => m.importFunction('env', 'b', [], []), /before the first addFunction/);
    // memory imports do not take function indices and are still allowed
    m.importMemory('env', 'mem', { initial: 1 });
    assert.ok(WebAssembly.validate(m.build()));
  });

  test('structural errors are reported by the builder', () => {
    const m = new ModuleBuilder();
    assert.throws(() => m.addFunction([], [], (f) => f.block()), /unclosed block/);
    assert.throws(() => m.addFunction([], [], (f) => f.end()), /no open block/);
    assert.throws(() => m.addFunction([], [], (f) => f.else_()), /no open if_/);
    assert.throws(() => m.addFunction([], ['i32'], (f) => f.i32Const(1).if_('i32').i32Const(2).end()), /needs an else_/);
    assert.throws(() => m.addFunction([], [], (f) => f.block().br(2)), /depth 2 out of range 0\.\.1/);
    assert.throws(() => m.addFunction(['i32'], [], (f) => f.localGet(1)), /local index 1 out of range/);
    assert.throws(() => m.addFunction([], [], (f) => f.i32Const(2 ** 32)), RangeError);
    assert.throws(() => m.addFunction([], [], (f) => f.i32Const(1.5)), RangeError);
    assert.throws(() => m.addFunction([], [], (f) => f.i64Const(1n << 64n)), RangeError);
    assert.throws(() => m.addFunction([], [], (f) => f.laneOp('f32x4.extract_lane', 4)), /lane 4 out of range 0\.\.3/);
    assert.throws(() => m.addFunction([], [], (f) => f.i32Const(0).load('f32', { align: 3 })), /align 3/);
    assert.throws(() => m.addFunction([], [], (f) => f.v128Const([1, 2, 3])), /16 bytes/);
    assert.throws(() => m.addFunction([], [], (f) => f.op('i32.frobnicate' as PlainOp)), /unknown instruction/);
    assert.throws(() => m.exportFunction('x', 99), /out of range/);

    const m2 = new ModuleBuilder();
    m2.addFunction([], [], (f) => f.call(5));
    assert.throws(() => m2.build(), /calls function 5/);

    const m3 = new ModuleBuilder();
    m3.addFunction([], ['i32'], (f) => f.i32Const(0).load('i32'));
    assert.throws(() => m3.build(), /no memory was imported/);

    const m4 = new ModuleBuilder();
    const g = m4.addFunction([], [], () => {});
    m4.exportFunction('g', g);
    assert.throws(() => m4.exportFunction('g', g), /duplicate export/);

    let escaped: FunctionBuilder | undefined;
    new ModuleBuilder().addFunction([], [], (f) => { escaped = f; });
    assert.throws(() => escaped!.nop(), /already finished/);
  });
});

// ---------------------------------------------------------------------------
// execution
// ---------------------------------------------------------------------------

describe('execution', () => {
  test('adds two i32 parameters (with wrap-around)', () => {
    const m = new ModuleBuilder();
    const add = m.addFunction(['i32', 'i32'], ['i32'], (f) => f.localGet(0).localGet(1).op('i32.add'));
    m.exportFunction('add', add);
    const inst = instantiate(m.build());
    const f = fn(inst, 'add');
    assert.equal(f(2, 3), 5);
    assert.equal(f(-7, 3), -4);
    assert.equal(f(0x7fffffff, 1), -0x80000000);
  });

  test('loops over a float32 array in an imported memory', () => {
    const m = new ModuleBuilder();
    m.importMemory('env', 'mem', { initial: 1, maximum: 4 });
    // sum(ptr, n): f32 = sum of n floats starting at ptr
    const sum = m.addFunction(['i32', 'i32'], ['f32'], (f) => {
      const acc = f.addLocal('f32');
      const end = f.addLocal('i32');
      f.localGet(0).localGet(1).i32Const(2).op('i32.shl').op('i32.add').localSet(end);
      f.block().loop();
      f.localGet(0).localGet(end).op('i32.ge_u').brIf(1);
      f.localGet(acc).localGet(0).load('f32', { align: 2, offset: 0 }).op('f32.add').localSet(acc);
      f.localGet(0).i32Const(4).op('i32.add').localSet(0);
      f.br(0);
      f.end().end();
      f.localGet(acc);
    });
    // fourth(ptr): uses a non-zero memarg offset (12 bytes) to read element 3
    const fourth = m.addFunction(['i32'], ['f32'], (f) => f.localGet(0).load('f32', { offset: 12 }));
    m.exportFunction('sum', sum);
    m.exportFunction('fourth', fourth);

    const mem = new WebAssembly.Memory({ initial: 1, maximum: 4 });
    const inst = instantiate(m.build(), { env: { mem } });
    const base = 64;
    const n = 1000;
    const data = new Float32Array(mem.buffer, base, n);
    let expected = 0;
    for (let i = 0; i < n; i++) {
      data[i] = Math.fround(Math.sin(i) * 10 + i / 7);
      expected = Math.fround(expected + data[i]!);
    }
    assert.equal(fn(inst, 'sum')(base, n), expected);
    assert.equal(fn(inst, 'sum')(base, 0), 0);
    assert.equal(fn(inst, 'sum')(base + 4, 2), Math.fround(data[1]! + data[2]!));
    assert.equal(fn(inst, 'fourth')(base), data[3]);
  });

  test('i64 constants at the extremes and near LEB boundaries return as bigint', () => {
    const values: bigint[] = [
      0n, 1n, -1n, 63n, 64n, -64n, -65n, 127n, 128n, 8191n, 8192n, -8192n, -8193n,
      (1n << 31n) - 1n, 1n << 31n, -(1n << 31n), -(1n << 31n) - 1n, 1n << 32n,
      (1n << 55n) - 1n, 1n << 55n, -(1n << 55n), -(1n << 55n) - 1n,
      (1n << 62n) - 1n, 1n << 62n, -(1n << 62n), -(1n << 62n) - 1n,
      (1n << 63n) - 1n, -(1n << 63n), 0x0123456789abcdefn, -0x0fedcba987654321n,
    ];
    const m = new ModuleBuilder();
    values.forEach((v, i) => m.exportFunction(`c${i}`, m.addFunction([], ['i64'], (f) => f.i64Const(v))));
    // unsigned spelling of -1 and of -2^63
    m.exportFunction('u1', m.addFunction([], ['i64'], (f) => f.i64Const((1n << 64n) - 1n)));
    m.exportFunction('u2', m.addFunction([], ['i64'], (f) => f.i64Const(1n << 63n)));
    m.exportFunction('add', m.addFunction(['i64', 'i64'], ['i64'], (f) => f.localGet(0).localGet(1).op('i64.add')));
    const bytes = m.build();
    const inst = instantiate(bytes);
    values.forEach((v, i) => assert.equal(fn(inst, `c${i}`)(), v, `i64.const ${v}`));
    assert.equal(fn(inst, 'u1')(), -1n);
    assert.equal(fn(inst, 'u2')(), -(1n << 63n));
    assert.equal(fn(inst, 'add')((1n << 63n) - 1n, 1n), -(1n << 63n));
    // -2^63 is encoded as the full 10-byte signed LEB128
    assert.ok(hex(bytes).includes('42 80 80 80 80 80 80 80 80 80 7f'));
  });

  test('f32/f64 constants round-trip, including -0, NaN and infinities', () => {
    const f64s = [0, -0, NaN, Infinity, -Infinity, 5e-324, -Number.MAX_VALUE, Math.PI, 0.1, -123456.789e200];
    const f32s = [0, -0, NaN, Infinity, -Infinity, 2 ** -149, 3.4028234663852886e38, Math.PI, 0.1, -1.5];
    const m = new ModuleBuilder();
    f64s.forEach((x, i) => m.exportFunction(`d${i}`, m.addFunction([], ['f64'], (f) => f.f64Const(x))));
    f32s.forEach((x, i) => m.exportFunction(`s${i}`, m.addFunction([], ['f32'], (f) => f.f32Const(x))));
    // bit-level checks without crossing the JS boundary
    m.exportFunction('nanBits32', m.addFunction([], ['i32'], (f) => f.f32Const(NaN).op('i32.reinterpret_f32')));
    m.exportFunction('negZeroBits32', m.addFunction([], ['i32'], (f) => f.f32Const(-0).op('i32.reinterpret_f32')));
    m.exportFunction('payload32', m.addFunction([], ['i32'], (f) => f.f32ConstBits(0x7fa00001).op('i32.reinterpret_f32')));
    m.exportFunction('nanBits64', m.addFunction([], ['i64'], (f) => f.f64Const(NaN).op('i64.reinterpret_f64')));
    m.exportFunction('negZeroBits64', m.addFunction([], ['i64'], (f) => f.f64Const(-0).op('i64.reinterpret_f64')));
    m.exportFunction('payload64', m.addFunction([], ['i64'], (f) => f.f64ConstBits(0xfff0000000000123n).op('i64.reinterpret_f64')));
    const inst = instantiate(m.build());
    f64s.forEach((x, i) => assert.ok(Object.is(fn(inst, `d${i}`)(), x), `f64.const ${x}`));
    f32s.forEach((x, i) => assert.ok(Object.is(fn(inst, `s${i}`)(), Math.fround(x)), `f32.const ${x}`));
    assert.equal(fn(inst, 'nanBits32')(), 0x7fc00000);
    assert.equal(fn(inst, 'negZeroBits32')(), -0x80000000);
    assert.equal(fn(inst, 'payload32')(), 0x7fa00001);
    assert.equal(fn(inst, 'nanBits64')(), 0x7ff8000000000000n);
    assert.equal(fn(inst, 'negZeroBits64')(), -(1n << 63n));
    assert.equal(fn(inst, 'payload64')(), BigInt.asIntN(64, 0xfff0000000000123n));
  });

  test('calls imported JS functions and recursive defined functions', () => {
    const seen: number[] = [];
    const m = new ModuleBuilder();
    const triple = m.importFunction('env', 'triple', ['i32'], ['i32']);
    const log = m.importFunction('env', 'log', ['f64'], []);
    assert.deepEqual([triple, log], [0, 1]);
    const main = m.addFunction(['i32'], ['i32'], (f) => {
      f.localGet(0).call(triple).f64Const(2.5).call(log).i32Const(1).op('i32.add');
    });
    assert.equal(main, 2);
    // fact(n) = n <= 1 ? 1 : n * fact(n - 1)   (self call through f.index)
    const fact = m.addFunction(['i64'], ['i64'], (f) => {
      f.localGet(0).i64Const(1n).op('i64.le_s').if_('i64').i64Const(1n).else_();
      f.localGet(0).localGet(0).i64Const(1n).op('i64.sub').call(f.index).op('i64.mul').end();
    });
    m.exportFunction('main', main);
    m.exportFunction('fact', fact);
    const inst = instantiate(m.build(), {
      env: {
        triple: (x: number) => { seen.push(x); return x * 3; },
        log: (x: number) => { seen.push(x); },
      },
    });
    assert.equal(fn(inst, 'main')(14), 43);
    assert.deepEqual(seen, [14, 2.5]);
    assert.equal(fn(inst, 'fact')(20n), 2432902008176640000n);
  });

  test('control flow: br_table, select, typed select, loop results', () => {
    const m = new ModuleBuilder();
    // classify(x): 0 -> 100, 1 -> 200, otherwise 300
    m.exportFunction('classify', m.addFunction(['i32'], ['i32'], (f) => {
      f.block().block().block();
      f.localGet(0).brTable([0, 1], 2);
      f.end().i32Const(100).return_();
      f.end().i32Const(200).return_();
      f.end().i32Const(300);
    }));
    m.exportFunction('pick', m.addFunction(['f64', 'f64', 'i32'], ['f64'], (f) => f.localGet(0).localGet(1).localGet(2).select()));
    m.exportFunction('pickTyped', m.addFunction(['f32', 'f32', 'i32'], ['f32'], (f) => f.localGet(0).localGet(1).localGet(2).select('f32')));
    const inst = instantiate(m.build());
    assert.deepEqual([0, 1, 2, 7, -1].map((x) => fn(inst, 'classify')(x)), [100, 200, 300, 300, 300]);
    assert.equal(fn(inst, 'pick')(1.5, 2.5, 1), 1.5);
    assert.equal(fn(inst, 'pick')(1.5, 2.5, 0), 2.5);
    assert.equal(fn(inst, 'pickTyped')(1.5, 2.5, 0), 2.5);
  });

  test('integer traps surface as RuntimeError', () => {
    const m = new ModuleBuilder();
    m.exportFunction('div', m.addFunction(['i32', 'i32'], ['i32'], (f) => f.localGet(0).localGet(1).op('i32.div_s')));
    m.exportFunction('trunc', m.addFunction(['f64'], ['i32'], (f) => f.localGet(0).op('i32.trunc_f64_s')));
    m.exportFunction('trap', m.addFunction([], [], (f) => f.unreachable()));
    const inst = instantiate(m.build());
    assert.throws(() => fn(inst, 'div')(1, 0), WebAssembly.RuntimeError);
    assert.throws(() => fn(inst, 'div')(-0x80000000, -1), WebAssembly.RuntimeError);
    assert.throws(() => fn(inst, 'trunc')(NaN), WebAssembly.RuntimeError);
    assert.throws(() => fn(inst, 'trunc')(3e9), WebAssembly.RuntimeError);
    assert.throws(() => fn(inst, 'trap')(), WebAssembly.RuntimeError);
  });

  test('narrow loads and stores, memory.size / memory.grow', () => {
    const m = new ModuleBuilder();
    m.importMemory('env', 'mem', { initial: 1, maximum: 3 });
    const loads = [
      'i32.load8_s', 'i32.load8_u', 'i32.load16_s', 'i32.load16_u',
    ] as const;
    const loads64 = ['i64.load8_s', 'i64.load8_u', 'i64.load16_s', 'i64.load16_u', 'i64.load32_s', 'i64.load32_u', 'i64.load'] as const;
    for (const op of loads) m.exportFunction(op, m.addFunction(['i32'], ['i32'], (f) => f.localGet(0).load(op)));
    for (const op of loads64) m.exportFunction(op, m.addFunction(['i32'], ['i64'], (f) => f.localGet(0).load(op)));
    const stores = ['i32.store8', 'i32.store16', 'i32.store'] as const;
    for (const op of stores) m.exportFunction(op, m.addFunction(['i32', 'i32'], [], (f) => f.localGet(0).localGet(1).store(op)));
    const stores64 = ['i64.store8', 'i64.store16', 'i64.store32', 'i64.store'] as const;
    for (const op of stores64) m.exportFunction(op, m.addFunction(['i32', 'i64'], [], (f) => f.localGet(0).localGet(1).store(op)));
    m.exportFunction('f64.store', m.addFunction(['i32', 'f64'], [], (f) => f.localGet(0).localGet(1).store('f64', { align: 0, offset: 1 })));
    m.exportFunction('grow', m.addFunction(['i32'], ['i32'], (f) => f.localGet(0).memoryGrow()));
    m.exportFunction('size', m.addFunction([], ['i32'], (f) => f.memorySize()));
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 3 });
    const inst = instantiate(m.build(), { env: { mem } });
    const u8 = () => new Uint8Array(mem.buffer);
    u8().set([0xf0, 0xde, 0xbc, 0x9a, 0x78, 0x56, 0x34, 0x12], 0);
    assert.equal(fn(inst, 'i32.load8_s')(0), -16);
    assert.equal(fn(inst, 'i32.load8_u')(0), 0xf0);
    assert.equal(fn(inst, 'i32.load16_s')(0), -0x2110);
    assert.equal(fn(inst, 'i32.load16_u')(0), 0xdef0);
    assert.equal(fn(inst, 'i64.load8_s')(0), -16n);
    assert.equal(fn(inst, 'i64.load8_u')(0), 0xf0n);
    assert.equal(fn(inst, 'i64.load16_s')(0), -0x2110n);
    assert.equal(fn(inst, 'i64.load16_u')(0), 0xdef0n);
    assert.equal(fn(inst, 'i64.load32_s')(0), -0x65432110n);
    assert.equal(fn(inst, 'i64.load32_u')(0), 0x9abcdef0n);
    assert.equal(fn(inst, 'i64.load')(0), 0x123456789abcdef0n);
    u8().fill(0, 0, 32);
    fn(inst, 'i32.store8')(0, 0x1ff);
    fn(inst, 'i32.store16')(2, 0x12345);
    fn(inst, 'i32.store')(4, -2);
    fn(inst, 'i64.store8')(8, 0x1ffn);
    fn(inst, 'i64.store16')(10, -1n);
    fn(inst, 'i64.store32')(12, 0x1_2345_6789n);
    fn(inst, 'i64.store')(16, -(1n << 63n));
    assert.deepEqual([...u8().subarray(0, 24)], [
      0xff, 0, 0x45, 0x23, 0xfe, 0xff, 0xff, 0xff,
      0xff, 0, 0xff, 0xff, 0x89, 0x67, 0x45, 0x23,
      0, 0, 0, 0, 0, 0, 0, 0x80,
    ]);
    fn(inst, 'f64.store')(23, -1.25); // unaligned, offset 1 -> address 24
    assert.equal(new DataView(mem.buffer).getFloat64(24, true), -1.25);
    assert.equal(fn(inst, 'size')(), 1);
    assert.equal(fn(inst, 'grow')(1), 1);
    assert.equal(fn(inst, 'size')(), 2);
    assert.equal(fn(inst, 'grow')(5), -1);
  });

  test('shared memory import', () => {
    const m = new ModuleBuilder();
    assert.throws(() => m.importMemory('env', 'mem', { initial: 1, shared: true }), /requires a maximum/);
    m.importMemory('env', 'mem', { initial: 1, maximum: 10, shared: true });
    m.exportFunction('store', m.addFunction(['i32', 'i32'], [], (f) => f.localGet(0).localGet(1).store('i32')));
    m.exportFunction('load', m.addFunction(['i32'], ['i32'], (f) => f.localGet(0).load('i32')));
    m.exportFunction('grow', m.addFunction(['i32'], ['i32'], (f) => f.localGet(0).memoryGrow()));
    const bytes = m.build();
    // import entry: "env" "mem" memory, flags 0x03 (shared + max), min 1, max 10
    assert.ok(hex(sectionBytes(bytes, 2)).includes('03 65 6e 76 03 6d 65 6d 02 03 01 0a'));

    const mem = new WebAssembly.Memory({ initial: 1, maximum: 10, shared: true });
    const buffer: ArrayBufferLike = mem.buffer;
    assert.ok(buffer instanceof SharedArrayBuffer);
    const inst = instantiate(bytes, { env: { mem } });
    fn(inst, 'store')(40, 0x01020304);
    assert.equal(new Int32Array(mem.buffer)[10], 0x01020304);
    new Int32Array(mem.buffer)[11] = -99;
    assert.equal(fn(inst, 'load')(44), -99);
    assert.equal(fn(inst, 'grow')(2), 1);
    assert.equal(mem.buffer.byteLength, 3 * 65536);

    // the module really declares a shared memory: a non-shared one must not link
    const unshared = new WebAssembly.Memory({ initial: 1, maximum: 10 });
    assert.throws(() => new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem: unshared } }), WebAssembly.LinkError);
  });

  test('memory limit flags: min only and min+max', () => {
    const a = new ModuleBuilder();
    a.importMemory('m', 'x', { initial: 2 });
    assert.deepEqual([...sectionBytes(a.build(), 2)].slice(-3), [0x02, 0x00, 0x02]);
    const b = new ModuleBuilder();
    b.importMemory('m', 'x', { initial: 2, maximum: 300 });
    assert.deepEqual([...sectionBytes(b.build(), 2)].slice(-5), [0x02, 0x01, 0x02, 0xac, 0x02]);
    assert.throws(() => b.importMemory('m', 'y', { initial: 1 }), /only one memory/);
    assert.throws(() => new ModuleBuilder().importMemory('m', 'x', { initial: 3, maximum: 2 }), /maximum 2 < initial 3/);
  });
});

// ---------------------------------------------------------------------------
// scalar numeric instructions against JS reference semantics
// ---------------------------------------------------------------------------

interface OpCase {
  op: PlainOp;
  params: ValType[];
  result: ValType;
  ref: (args: Scalar[]) => Scalar;
  inputs: Scalar[][];
}

const I32_VALS = [0, 1, -1, 2, 7, -7, 31, 32, 33, 0x7fffffff, -0x80000000, 123456789, -987654321, 0x55555555];
const I64_VALS = [
  0n, 1n, -1n, 7n, -7n, 63n, 64n, 65n, 1n << 31n, -(1n << 31n), (1n << 63n) - 1n, -(1n << 63n),
  0x0123456789abcdefn, -0x0fedcba987654321n,
];
const F64_VALS = [0, -0, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 3.7, -3.7, 1e300, -1e-300, 5e-324, Infinity, -Infinity, NaN, Math.PI];
const F32_VALS = [0, -0, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 3.7, -3.7, 3e38, -1e-40, 2 ** -149, Infinity, -Infinity, NaN, Math.PI].map(Math.fround);

const VALS: Record<'i32' | 'i64' | 'f32' | 'f64', readonly Scalar[]> = { i32: I32_VALS, i64: I64_VALS, f32: F32_VALS, f64: F64_VALS };

const pairs = (xs: readonly Scalar[]): Scalar[][] => xs.flatMap((a) => xs.map((b) => [a, b]));
const singles = (xs: readonly Scalar[]): Scalar[][] => xs.map((a) => [a]);

const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);
const b2i = (b: boolean): number => (b ? 1 : 0);

function roundEven(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const r = Math.abs(x - Math.trunc(x)) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x);
  return r === 0 ? (x < 0 ? -0 : 0) : r;
}

function copysign(a: number, b: number): number {
  const neg = b < 0 || Object.is(b, -0);
  return neg ? -Math.abs(a) : Math.abs(a);
}

const clz64 = (x: bigint): bigint => (u64(x) === 0n ? 64n : BigInt(64 - u64(x).toString(2).length));
const ctz64 = (x: bigint): bigint => {
  const s = u64(x).toString(2);
  return u64(x) === 0n ? 64n : BigInt(s.length - 1 - s.lastIndexOf('1'));
};
const popcnt = (s: string): number => [...s].filter((c) => c === '1').length;
const ctz32 = (x: number): number => (x === 0 ? 32 : 31 - Math.clz32(x & -x));

function sat(x: number, lo: number, hi: number): number {
  if (Number.isNaN(x)) return 0;
  return x <= lo ? lo : x >= hi ? hi : Math.trunc(x) + 0; // + 0 turns -0 into 0
}
function sat64(x: number, signed: boolean): bigint {
  if (Number.isNaN(x)) return 0n;
  const lo = signed ? -(2 ** 63) : 0;
  const hi = signed ? 2 ** 63 : 2 ** 64;
  if (x <= lo) return BigInt(lo);
  if (x >= hi) return signed ? (1n << 63n) - 1n : -1n;
  return s64(BigInt(Math.trunc(x)));
}

function f32Bits(x: number): number {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setFloat32(0, x, true);
  return dv.getInt32(0, true);
}
function bitsF32(x: number): number {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setInt32(0, x, true);
  return dv.getFloat32(0, true);
}
function f64Bits(x: number): bigint {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x, true);
  return dv.getBigInt64(0, true);
}
function bitsF64(x: bigint): number {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigInt64(0, x, true);
  return dv.getFloat64(0, true);
}

function scalarCases(): OpCase[] {
  const cases: OpCase[] = [];
  const add = (op: PlainOp, params: ValType[], result: ValType, inputs: Scalar[][], ref: (args: Scalar[]) => Scalar): void => {
    cases.push({ op, params, result, inputs, ref });
  };
  const n = (x: Scalar): number => x as number;
  const b = (x: Scalar): bigint => x as bigint;

  // i32
  const i32bin: Array<[PlainOp, (a: number, b: number) => number]> = [
    ['i32.add', (x, y) => (x + y) | 0],
    ['i32.sub', (x, y) => (x - y) | 0],
    ['i32.mul', Math.imul],
    ['i32.div_s', (x, y) => (x / y) | 0],
    ['i32.div_u', (x, y) => ((x >>> 0) / (y >>> 0)) | 0],
    ['i32.rem_s', (x, y) => (x % y) | 0],
    ['i32.rem_u', (x, y) => ((x >>> 0) % (y >>> 0)) | 0],
    ['i32.and', (x, y) => x & y],
    ['i32.or', (x, y) => x | y],
    ['i32.xor', (x, y) => x ^ y],
    ['i32.shl', (x, y) => x << y],
    ['i32.shr_s', (x, y) => x >> y],
    ['i32.shr_u', (x, y) => (x >>> y) | 0],
    ['i32.rotl', (x, y) => ((x << (y & 31)) | (x >>> ((32 - (y & 31)) & 31))) | 0],
    ['i32.rotr', (x, y) => ((x >>> (y & 31)) | (x << ((32 - (y & 31)) & 31))) | 0],
    ['i32.eq', (x, y) => b2i(x === y)],
    ['i32.ne', (x, y) => b2i(x !== y)],
    ['i32.lt_s', (x, y) => b2i(x < y)],
    ['i32.lt_u', (x, y) => b2i(x >>> 0 < y >>> 0)],
    ['i32.gt_s', (x, y) => b2i(x > y)],
    ['i32.gt_u', (x, y) => b2i(x >>> 0 > y >>> 0)],
    ['i32.le_s', (x, y) => b2i(x <= y)],
    ['i32.le_u', (x, y) => b2i(x >>> 0 <= y >>> 0)],
    ['i32.ge_s', (x, y) => b2i(x >= y)],
    ['i32.ge_u', (x, y) => b2i(x >>> 0 >= y >>> 0)],
  ];
  for (const [op, ref] of i32bin) {
    const div = /div|rem/.test(op);
    const inputs = pairs(I32_VALS).filter(([x, y]) => !div || (y !== 0 && !(op === 'i32.div_s' && x === -0x80000000 && y === -1)));
    add(op, ['i32', 'i32'], 'i32', inputs, ([x, y]) => ref(n(x!), n(y!)));
  }
  const i32un: Array<[PlainOp, (a: number) => number]> = [
    ['i32.eqz', (x) => b2i(x === 0)],
    ['i32.clz', Math.clz32],
    ['i32.ctz', ctz32],
    ['i32.popcnt', (x) => popcnt((x >>> 0).toString(2))],
    ['i32.extend8_s', (x) => (x << 24) >> 24],
    ['i32.extend16_s', (x) => (x << 16) >> 16],
  ];
  for (const [op, ref] of i32un) add(op, ['i32'], 'i32', singles(I32_VALS), ([x]) => ref(n(x!)));

  // i64
  const i64bin: Array<[PlainOp, (a: bigint, b: bigint) => bigint]> = [
    ['i64.add', (x, y) => s64(x + y)],
    ['i64.sub', (x, y) => s64(x - y)],
    ['i64.mul', (x, y) => s64(x * y)],
    ['i64.div_s', (x, y) => s64(x / y)],
    ['i64.div_u', (x, y) => s64(u64(x) / u64(y))],
    ['i64.rem_s', (x, y) => x % y],
    ['i64.rem_u', (x, y) => s64(u64(x) % u64(y))],
    ['i64.and', (x, y) => x & y],
    ['i64.or', (x, y) => x | y],
    ['i64.xor', (x, y) => x ^ y],
    ['i64.shl', (x, y) => s64(x << (y & 63n))],
    ['i64.shr_s', (x, y) => x >> (y & 63n)],
    ['i64.shr_u', (x, y) => s64(u64(x) >> (y & 63n))],
    ['i64.rotl', (x, y) => s64((u64(x) << (y & 63n)) | (u64(x) >> ((64n - (y & 63n)) & 63n)))],
    ['i64.rotr', (x, y) => s64((u64(x) >> (y & 63n)) | (u64(x) << ((64n - (y & 63n)) & 63n)))],
  ];
  for (const [op, ref] of i64bin) {
    const div = /div|rem/.test(op);
    const inputs = pairs(I64_VALS).filter(([x, y]) => !div || (y !== 0n && !(op === 'i64.div_s' && x === -(1n << 63n) && y === -1n)));
    add(op, ['i64', 'i64'], 'i64', inputs, ([x, y]) => ref(b(x!), b(y!)));
  }
  const i64cmp: Array<[PlainOp, (a: bigint, b: bigint) => boolean]> = [
    ['i64.eq', (x, y) => x === y], ['i64.ne', (x, y) => x !== y],
    ['i64.lt_s', (x, y) => x < y], ['i64.lt_u', (x, y) => u64(x) < u64(y)],
    ['i64.gt_s', (x, y) => x > y], ['i64.gt_u', (x, y) => u64(x) > u64(y)],
    ['i64.le_s', (x, y) => x <= y], ['i64.le_u', (x, y) => u64(x) <= u64(y)],
    ['i64.ge_s', (x, y) => x >= y], ['i64.ge_u', (x, y) => u64(x) >= u64(y)],
  ];
  for (const [op, ref] of i64cmp) add(op, ['i64', 'i64'], 'i32', pairs(I64_VALS), ([x, y]) => b2i(ref(b(x!), b(y!))));
  add('i64.eqz', ['i64'], 'i32', singles(I64_VALS), ([x]) => b2i(x === 0n));
  const i64un: Array<[PlainOp, (a: bigint) => bigint]> = [
    ['i64.clz', clz64],
    ['i64.ctz', ctz64],
    ['i64.popcnt', (x) => BigInt(popcnt(u64(x).toString(2)))],
    ['i64.extend8_s', (x) => BigInt.asIntN(8, x)],
    ['i64.extend16_s', (x) => BigInt.asIntN(16, x)],
    ['i64.extend32_s', (x) => BigInt.asIntN(32, x)],
  ];
  for (const [op, ref] of i64un) add(op, ['i64'], 'i64', singles(I64_VALS), ([x]) => ref(b(x!)));

  // f32 / f64
  for (const t of ['f32', 'f64'] as const) {
    const r = t === 'f32' ? Math.fround : (x: number): number => x;
    const vals = VALS[t];
    const fbin: Array<[string, (a: number, b: number) => number]> = [
      ['add', (x, y) => x + y], ['sub', (x, y) => x - y], ['mul', (x, y) => x * y], ['div', (x, y) => x / y],
      ['min', Math.min], ['max', Math.max], ['copysign', copysign],
    ];
    for (const [name, ref] of fbin) {
      const inputs = pairs(vals).filter(([, y]) => name !== 'copysign' || !Number.isNaN(y));
      add(`${t}.${name}` as PlainOp, [t, t], t, inputs, ([x, y]) => r(ref(n(x!), n(y!))));
    }
    const fcmp: Array<[string, (a: number, b: number) => boolean]> = [
      ['eq', (x, y) => x === y], ['ne', (x, y) => x !== y], ['lt', (x, y) => x < y],
      ['gt', (x, y) => x > y], ['le', (x, y) => x <= y], ['ge', (x, y) => x >= y],
    ];
    for (const [name, ref] of fcmp) add(`${t}.${name}` as PlainOp, [t, t], 'i32', pairs(vals), ([x, y]) => b2i(ref(n(x!), n(y!))));
    const fun: Array<[string, (a: number) => number]> = [
      ['abs', Math.abs], ['neg', (x) => -x], ['ceil', Math.ceil], ['floor', Math.floor],
      ['trunc', Math.trunc], ['nearest', roundEven], ['sqrt', Math.sqrt],
    ];
    for (const [name, ref] of fun) add(`${t}.${name}` as PlainOp, [t], t, singles(vals), ([x]) => r(ref(n(x!))));
  }

  // conversions
  const fr = Math.fround;
  add('i32.wrap_i64', ['i64'], 'i32', singles(I64_VALS), ([x]) => Number(BigInt.asIntN(32, b(x!))));
  add('i64.extend_i32_s', ['i32'], 'i64', singles(I32_VALS), ([x]) => BigInt(n(x!)));
  add('i64.extend_i32_u', ['i32'], 'i64', singles(I32_VALS), ([x]) => BigInt(n(x!) >>> 0));
  const inRange32s = [0, -0.9, 1.5, -1.5, 2147483520, -2147483648, 123456.75];
  const inRange32u = [0, -0.9, 1.9, 4294967040, 3e9];
  add('i32.trunc_f32_s', ['f32'], 'i32', singles(inRange32s.map(fr)), ([x]) => Math.trunc(n(x!)) | 0);
  add('i32.trunc_f32_u', ['f32'], 'i32', singles(inRange32u.map(fr)), ([x]) => Math.trunc(n(x!)) | 0);
  add('i32.trunc_f64_s', ['f64'], 'i32', singles([...inRange32s, 2147483647.9]), ([x]) => Math.trunc(n(x!)) | 0);
  add('i32.trunc_f64_u', ['f64'], 'i32', singles([...inRange32u, 4294967295.5]), ([x]) => Math.trunc(n(x!)) | 0);
  const inRange64s = [0, -0.5, 1.5, -1.5, 1e18, -9.2e18, 2 ** 62];
  const inRange64u = [0, -0.5, 1.5, 1.8e19, 2 ** 63];
  add('i64.trunc_f32_s', ['f32'], 'i64', singles(inRange64s.map(fr)), ([x]) => BigInt(Math.trunc(n(x!))));
  add('i64.trunc_f32_u', ['f32'], 'i64', singles(inRange64u.map(fr)), ([x]) => s64(BigInt(Math.trunc(n(x!)))));
  add('i64.trunc_f64_s', ['f64'], 'i64', singles(inRange64s), ([x]) => BigInt(Math.trunc(n(x!))));
  add('i64.trunc_f64_u', ['f64'], 'i64', singles(inRange64u), ([x]) => s64(BigInt(Math.trunc(n(x!)))));
  const satInputs = [NaN, Infinity, -Infinity, 0, -0.5, 1.5, -1.5, 3e9, -3e9, 1e19, 2e19, -1e19, 2147483647.9, 9.2e18, 5e-324];
  for (const src of ['f32', 'f64'] as const) {
    const ins = singles(src === 'f32' ? satInputs.map(fr) : satInputs);
    add(`i32.trunc_sat_${src}_s`, [src], 'i32', ins, ([x]) => sat(n(x!), -(2 ** 31), 2 ** 31 - 1));
    add(`i32.trunc_sat_${src}_u`, [src], 'i32', ins, ([x]) => sat(n(x!), 0, 2 ** 32 - 1) | 0);
    add(`i64.trunc_sat_${src}_s`, [src], 'i64', ins, ([x]) => sat64(n(x!), true));
    add(`i64.trunc_sat_${src}_u`, [src], 'i64', ins, ([x]) => sat64(n(x!), false));
  }
  const convI64 = [0n, -1n, 123456789n, -(1n << 40n) - 3n, 1n << 53n, -(1n << 63n), (1n << 63n) - 1n];
  add('f32.convert_i32_s', ['i32'], 'f32', singles(I32_VALS), ([x]) => fr(n(x!)));
  add('f32.convert_i32_u', ['i32'], 'f32', singles(I32_VALS), ([x]) => fr(n(x!) >>> 0));
  add('f32.convert_i64_s', ['i64'], 'f32', singles(convI64), ([x]) => fr(Number(b(x!))));
  add('f32.convert_i64_u', ['i64'], 'f32', singles(convI64), ([x]) => fr(Number(u64(b(x!)))));
  add('f64.convert_i32_s', ['i32'], 'f64', singles(I32_VALS), ([x]) => n(x!));
  add('f64.convert_i32_u', ['i32'], 'f64', singles(I32_VALS), ([x]) => n(x!) >>> 0);
  add('f64.convert_i64_s', ['i64'], 'f64', singles(I64_VALS), ([x]) => Number(b(x!)));
  add('f64.convert_i64_u', ['i64'], 'f64', singles(I64_VALS), ([x]) => Number(u64(b(x!))));
  add('f32.demote_f64', ['f64'], 'f32', singles(F64_VALS), ([x]) => fr(n(x!)));
  add('f64.promote_f32', ['f32'], 'f64', singles(F32_VALS), ([x]) => n(x!));
  const nonNaN32 = F32_VALS.filter((x) => !Number.isNaN(x));
  const nonNaN64 = F64_VALS.filter((x) => !Number.isNaN(x));
  add('i32.reinterpret_f32', ['f32'], 'i32', singles(nonNaN32), ([x]) => f32Bits(n(x!)));
  add('f32.reinterpret_i32', ['i32'], 'f32', singles(I32_VALS.filter((x) => !Number.isNaN(bitsF32(x)))), ([x]) => bitsF32(n(x!)));
  add('i64.reinterpret_f64', ['f64'], 'i64', singles(nonNaN64), ([x]) => f64Bits(n(x!)));
  add('f64.reinterpret_i64', ['i64'], 'f64', singles(I64_VALS.filter((x) => !Number.isNaN(bitsF64(x)))), ([x]) => bitsF64(b(x!)));
  return cases;
}

describe('scalar numeric instructions', () => {
  const cases = scalarCases();

  test('cover every scalar numeric and conversion instruction in the tables', () => {
    const covered = new Set(cases.map((c) => c.op));
    const skip = new Set(['nop', 'unreachable', 'return', 'drop', 'select']);
    const scalarOps = [...Object.keys(CORE_OPCODES), ...Object.keys(SAT_OPCODES)].filter((k) => !skip.has(k));
    assert.deepEqual(scalarOps.filter((k) => !covered.has(k as PlainOp)), []);
  });

  test('match JS reference semantics', () => {
    const m = new ModuleBuilder();
    for (const c of cases) {
      m.exportFunction(c.op, m.addFunction(c.params, [c.result], (f) => {
        c.params.forEach((_, i) => f.localGet(i));
        f.op(c.op);
      }));
    }
    const inst = instantiate(m.build());
    let checked = 0;
    for (const c of cases) {
      const f = fn(inst, c.op);
      for (const args of c.inputs) {
        const expected = c.ref(args);
        const actual = f(...args);
        assert.ok(Object.is(actual, expected), `${c.op}(${args.map(show).join(', ')}) = ${show(actual)}, expected ${show(expected)}`);
        checked++;
      }
    }
    assert.ok(checked > 5000, `checked ${checked} cases`);
  });
});

// ---------------------------------------------------------------------------
// every table entry validates with the signature implied by its mnemonic
// ---------------------------------------------------------------------------

const SCALAR_TYPES = new Set<string>(['i32', 'i64', 'f32', 'f64']);
const LANE_TYPE: Record<string, ValType> = { i8x16: 'i32', i16x8: 'i32', i32x4: 'i32', i64x2: 'i64', f32x4: 'f32', f64x2: 'f64' };

/** Signature derived independently from the mnemonic (not from the encoder). */
function signatureOf(name: string): { params: ValType[]; results: ValType[] } {
  switch (name) {
    case 'nop': case 'unreachable': case 'return': return { params: [], results: [] };
    case 'drop': return { params: ['i32'], results: [] };
    case 'select': return { params: ['i64', 'i64', 'i32'], results: ['i64'] };
  }
  const dot = name.indexOf('.');
  const prefix = name.slice(0, dot);
  const rest = name.slice(dot + 1);
  if (SCALAR_TYPES.has(prefix)) {
    const t = prefix as ValType;
    if (rest === 'eqz') return { params: [t], results: ['i32'] };
    if (/^(eq|ne|lt|gt|le|ge)(_[su])?$/.test(rest)) return { params: [t, t], results: ['i32'] };
    if (/^(clz|ctz|popcnt|abs|neg|ceil|floor|trunc|nearest|sqrt|extend(8|16|32)_s)$/.test(rest)) return { params: [t], results: [t] };
    const conv = /_(i32|i64|f32|f64)(_[su])?$/.exec(rest);
    if (conv) return { params: [conv[1] as ValType], results: [t] };
    return { params: [t, t], results: [t] };
  }
  const v: ValType = 'v128';
  if (rest === 'splat') return { params: [LANE_TYPE[prefix]!], results: [v] };
  if (/^(any_true|all_true|bitmask)$/.test(rest)) return { params: [v], results: ['i32'] };
  if (/^(shl|shr_s|shr_u)$/.test(rest)) return { params: [v, 'i32'], results: [v] };
  if (/^(bitselect|relaxed_madd|relaxed_nmadd|relaxed_laneselect|relaxed_dot_i8x16_i7x16_add_s)$/.test(rest)) return { params: [v, v, v], results: [v] };
  if (/^(not|abs|neg|sqrt|ceil|floor|trunc|nearest|popcnt)$/.test(rest) || /^(extend_|extadd_pairwise|trunc_sat|convert|demote|promote|relaxed_trunc)/.test(rest)) {
    return { params: [v], results: [v] };
  }
  return { params: [v, v], results: [v] };
}

describe('validation of every instruction', () => {
  test('each op() mnemonic validates with its natural signature', (t) => {
    const simd = simdSupported();
    const relaxed = relaxedSimdSupported();
    const failures: string[] = [];
    let skipped = 0;
    for (const name of PLAIN_OP_NAMES) {
      const isSimd = Object.prototype.hasOwnProperty.call(SIMD_OPCODES, name);
      if ((isSimd && !simd) || (name.includes('relaxed_') && !relaxed)) { skipped++; continue; }
      const sig = signatureOf(name);
      const m = new ModuleBuilder();
      m.addFunction(sig.params, sig.results, (f) => {
        sig.params.forEach((_, i) => f.localGet(i));
        f.op(name);
      });
      if (!WebAssembly.validate(m.build())) failures.push(`${name} ${JSON.stringify(sig)}`);
    }
    assert.deepEqual(failures, []);
    if (skipped > 0) t.diagnostic(`${skipped} SIMD/relaxed-SIMD mnemonics not validated: unsupported by this host`);
    // a deliberately wrong signature must not validate (the check above can fail)
    const bad = new ModuleBuilder();
    bad.addFunction(['f32', 'f32'], ['f32'], (f) => f.localGet(0).localGet(1).op('i32.add'));
    assert.equal(WebAssembly.validate(bad.build()), false);
  });

  test('lane ops, loads and stores validate', { skip: SIMD_SKIP }, () => {
    for (const [name, info] of Object.entries(LANE_OPCODES) as Array<[LaneOp, { lanes: number }]>) {
      const shape = name.slice(0, 5);
      const scalar = LANE_TYPE[shape]!;
      const replace = name.includes('replace');
      const m = new ModuleBuilder();
      m.addFunction(replace ? ['v128', scalar] : ['v128'], [replace ? 'v128' : scalar], (f) => {
        f.localGet(0);
        if (replace) f.localGet(1);
        f.laneOp(name, info.lanes - 1);
      });
      assert.ok(WebAssembly.validate(m.build()), name);
    }
    for (const name of Object.keys(LOAD_OPCODES) as Array<keyof typeof LOAD_OPCODES>) {
      const result = name.slice(0, name.indexOf('.')) as ValType;
      const m = new ModuleBuilder();
      m.importMemory('e', 'm', { initial: 1 });
      m.addFunction(['i32'], [result], (f) => f.localGet(0).load(name, { offset: 7 }));
      assert.ok(WebAssembly.validate(m.build()), name);
    }
    for (const name of Object.keys(STORE_OPCODES) as Array<keyof typeof STORE_OPCODES>) {
      const value = name.slice(0, name.indexOf('.')) as ValType;
      const m = new ModuleBuilder();
      m.importMemory('e', 'm', { initial: 1 });
      m.addFunction(['i32', value], [], (f) => f.localGet(0).localGet(1).store(name, { align: 0 }));
      assert.ok(WebAssembly.validate(m.build()), name);
    }
  });
});

// ---------------------------------------------------------------------------
// SIMD execution
// ---------------------------------------------------------------------------

describe('SIMD', () => {
  test('feature detection reports SIMD on Node >= 16', () => {
    const major = Number(process.versions.node.split('.')[0]);
    if (major >= 16) assert.equal(simdSupported(), true);
    assert.equal(simdSupported(), simdSupported()); // cached, stable
    assert.equal(typeof relaxedSimdSupported(), 'boolean');
  });

  test('f32x4 vector add over memory', { skip: SIMD_SKIP }, () => {
    const m = new ModuleBuilder();
    m.importMemory('env', 'mem', { initial: 1 });
    // vadd(a, b, out, n): n floats, n a multiple of 4
    m.exportFunction('vadd', m.addFunction(['i32', 'i32', 'i32', 'i32'], [], (f) => {
      const i = f.addLocal('i32');
      const bytes = f.addLocal('i32');
      f.localGet(3).i32Const(2).op('i32.shl').localSet(bytes);
      f.block().loop();
      f.localGet(i).localGet(bytes).op('i32.ge_u').brIf(1);
      f.localGet(2).localGet(i).op('i32.add');
      f.localGet(0).localGet(i).op('i32.add').load('v128', { align: 4 });
      f.localGet(1).localGet(i).op('i32.add').load('v128');
      f.op('f32x4.add');
      f.store('v128');
      f.localGet(i).i32Const(16).op('i32.add').localSet(i);
      f.br(0).end().end();
    }));
    const mem = new WebAssembly.Memory({ initial: 1 });
    const inst = instantiate(m.build(), { env: { mem } });
    const n = 64;
    const a = new Float32Array(mem.buffer, 0, n);
    const b = new Float32Array(mem.buffer, n * 4, n);
    const out = new Float32Array(mem.buffer, n * 8, n);
    for (let k = 0; k < n; k++) {
      a[k] = Math.fround(k * 1.25 - 7);
      b[k] = Math.fround(Math.cos(k));
    }
    out.fill(-1);
    fn(inst, 'vadd')(0, n * 4, n * 8, n);
    for (let k = 0; k < n; k++) assert.equal(out[k], Math.fround(a[k]! + b[k]!), `lane ${k}`);
    // untouched memory after the output
    assert.equal(new Float32Array(mem.buffer, n * 12, 1)[0], 0);
  });

  test('f32x4 / i32x4 / v128 lane-wise ops match JS reference', { skip: SIMD_SKIP }, () => {
    type Lanes = number[];
    const fr = Math.fround;
    const F = 'f' as const;
    const I = 'i' as const;
    interface VCase { op: PlainOp; in: 'f' | 'i'; out: 'f' | 'i'; arity: 1 | 2 | 3; ref: (...xs: number[]) => number }
    const mask = (c: boolean): number => (c ? -1 : 0);
    const vcases: VCase[] = [
      { op: 'f32x4.add', in: F, out: F, arity: 2, ref: (x, y) => fr(x! + y!) },
      { op: 'f32x4.sub', in: F, out: F, arity: 2, ref: (x, y) => fr(x! - y!) },
      { op: 'f32x4.mul', in: F, out: F, arity: 2, ref: (x, y) => fr(x! * y!) },
      { op: 'f32x4.div', in: F, out: F, arity: 2, ref: (x, y) => fr(x! / y!) },
      { op: 'f32x4.min', in: F, out: F, arity: 2, ref: (x, y) => Math.min(x!, y!) },
      { op: 'f32x4.max', in: F, out: F, arity: 2, ref: (x, y) => Math.max(x!, y!) },
      { op: 'f32x4.pmin', in: F, out: F, arity: 2, ref: (x, y) => (y! < x! ? y! : x!) },
      { op: 'f32x4.pmax', in: F, out: F, arity: 2, ref: (x, y) => (x! < y! ? y! : x!) },
      { op: 'f32x4.eq', in: F, out: I, arity: 2, ref: (x, y) => mask(x === y) },
      { op: 'f32x4.ne', in: F, out: I, arity: 2, ref: (x, y) => mask(x !== y) },
      { op: 'f32x4.lt', in: F, out: I, arity: 2, ref: (x, y) => mask(x! < y!) },
      { op: 'f32x4.gt', in: F, out: I, arity: 2, ref: (x, y) => mask(x! > y!) },
      { op: 'f32x4.le', in: F, out: I, arity: 2, ref: (x, y) => mask(x! <= y!) },
      { op: 'f32x4.ge', in: F, out: I, arity: 2, ref: (x, y) => mask(x! >= y!) },
      { op: 'f32x4.abs', in: F, out: F, arity: 1, ref: (x) => Math.abs(x!) },
      { op: 'f32x4.neg', in: F, out: F, arity: 1, ref: (x) => -x! },
      { op: 'f32x4.sqrt', in: F, out: F, arity: 1, ref: (x) => fr(Math.sqrt(x!)) },
      { op: 'f32x4.ceil', in: F, out: F, arity: 1, ref: (x) => Math.ceil(x!) },
      { op: 'f32x4.floor', in: F, out: F, arity: 1, ref: (x) => Math.floor(x!) },
      { op: 'f32x4.trunc', in: F, out: F, arity: 1, ref: (x) => Math.trunc(x!) },
      { op: 'f32x4.nearest', in: F, out: F, arity: 1, ref: (x) => roundEven(x!) },
      { op: 'i32x4.trunc_sat_f32x4_s', in: F, out: I, arity: 1, ref: (x) => sat(x!, -(2 ** 31), 2 ** 31 - 1) },
      { op: 'f32x4.convert_i32x4_s', in: I, out: F, arity: 1, ref: (x) => fr(x!) },
      { op: 'i32x4.add', in: I, out: I, arity: 2, ref: (x, y) => (x! + y!) | 0 },
      { op: 'i32x4.sub', in: I, out: I, arity: 2, ref: (x, y) => (x! - y!) | 0 },
      { op: 'i32x4.mul', in: I, out: I, arity: 2, ref: (x, y) => Math.imul(x!, y!) },
      { op: 'i32x4.min_s', in: I, out: I, arity: 2, ref: (x, y) => Math.min(x!, y!) },
      { op: 'i32x4.min_u', in: I, out: I, arity: 2, ref: (x, y) => (x! >>> 0 < y! >>> 0 ? x! : y!) },
      { op: 'i32x4.max_s', in: I, out: I, arity: 2, ref: (x, y) => Math.max(x!, y!) },
      { op: 'i32x4.max_u', in: I, out: I, arity: 2, ref: (x, y) => (x! >>> 0 > y! >>> 0 ? x! : y!) },
      { op: 'i32x4.eq', in: I, out: I, arity: 2, ref: (x, y) => mask(x === y) },
      { op: 'i32x4.ne', in: I, out: I, arity: 2, ref: (x, y) => mask(x !== y) },
      { op: 'i32x4.lt_s', in: I, out: I, arity: 2, ref: (x, y) => mask(x! < y!) },
      { op: 'i32x4.gt_u', in: I, out: I, arity: 2, ref: (x, y) => mask(x! >>> 0 > y! >>> 0) },
      { op: 'i32x4.abs', in: I, out: I, arity: 1, ref: (x) => Math.abs(x!) | 0 },
      { op: 'i32x4.neg', in: I, out: I, arity: 1, ref: (x) => -x! | 0 },
      { op: 'v128.and', in: I, out: I, arity: 2, ref: (x, y) => x! & y! },
      { op: 'v128.or', in: I, out: I, arity: 2, ref: (x, y) => x! | y! },
      { op: 'v128.xor', in: I, out: I, arity: 2, ref: (x, y) => x! ^ y! },
      { op: 'v128.andnot', in: I, out: I, arity: 2, ref: (x, y) => x! & ~y! },
      { op: 'v128.not', in: I, out: I, arity: 1, ref: (x) => ~x! },
      { op: 'v128.bitselect', in: I, out: I, arity: 3, ref: (x, y, c) => (x! & c!) | (y! & ~c!) },
    ];
    const fA = [1.5, -2.25, 3e38, -0, NaN, 1, -Infinity, 7.5, 2.5, -3.5, 1e-45, 16];
    const fB = [0.5, 4, 3e38, 0, 2, NaN, 5, 7.5, -0, 0.25, 2, -16];
    const fC = [1, 2, 3, 4, -1, -2, -3, -4, 0, 0, 0, 0];
    const iA = [1, -1, 0x7fffffff, -0x80000000, 100, -100, 0, 12345678, 0x0f0f0f0f, -2, 3, 65536];
    const iB = [2, 3, 1, -1, -100, 100, 0, 87654321, 0x00ff00ff, 5, -3, 65536];
    const iC = [0, -1, 0x0000ffff, -0x10000, 0x55555555, 0x2aaaaaaa, 7, 8, 0, -1, 1, -2];

    const m = new ModuleBuilder();
    m.importMemory('env', 'mem', { initial: 1 });
    for (const c of vcases) {
      // f(a, b, c, out): out = op(v128 at a, v128 at b, v128 at c)
      m.exportFunction(c.op, m.addFunction(['i32', 'i32', 'i32', 'i32'], [], (f) => {
        f.localGet(3);
        for (let k = 0; k < c.arity; k++) f.localGet(k).load('v128');
        f.op(c.op).store('v128');
      }));
    }
    // shifts take a scalar count
    for (const op of ['i32x4.shl', 'i32x4.shr_s', 'i32x4.shr_u'] as const) {
      m.exportFunction(op, m.addFunction(['i32', 'i32', 'i32'], [], (f) => f.localGet(2).localGet(0).load('v128').localGet(1).op(op).store('v128')));
    }
    const mem = new WebAssembly.Memory({ initial: 1 });
    const inst = instantiate(m.build(), { env: { mem } });
    const f32 = new Float32Array(mem.buffer);
    const i32 = new Int32Array(mem.buffer);
    const OUT = 64; // byte offset of the output vector

    for (const c of vcases) {
      const srcs: Lanes[] = c.in === 'f' ? [fA, fB, fC] : [iA, iB, iC];
      for (let base = 0; base < fA.length; base += 4) {
        for (let k = 0; k < 3; k++) (c.in === 'f' ? f32 : i32).set(srcs[k]!.slice(base, base + 4), k * 4);
        fn(inst, c.op)(0, 16, 32, OUT);
        const got = [...(c.out === 'f' ? f32 : i32).subarray(OUT / 4, OUT / 4 + 4)];
        const inputs = srcs.map((s) => s.slice(base, base + 4).map((x) => (c.in === 'f' ? fr(x) : x)));
        const want = [0, 1, 2, 3].map((l) => c.ref(inputs[0]![l]!, inputs[1]![l]!, inputs[2]![l]!));
        want.forEach((w, l) => assert.ok(Object.is(got[l], w), `${c.op} lane ${base + l}: got ${show(got[l])}, want ${show(w)}`));
      }
    }
    i32.set([1, -8, 0x40000000, -1], 0);
    for (const [op, ref] of [
      ['i32x4.shl', (x: number, s: number) => x << s],
      ['i32x4.shr_s', (x: number, s: number) => x >> s],
      ['i32x4.shr_u', (x: number, s: number) => (x >>> s) | 0],
    ] as const) {
      for (const s of [0, 3, 31, 33]) {
        fn(inst, op)(0, s, OUT);
        assert.deepEqual([...i32.subarray(OUT / 4, OUT / 4 + 4)], [1, -8, 0x40000000, -1].map((x) => ref(x, s & 31)), `${op} by ${s}`);
      }
    }
  });

  test('splat, extract_lane, replace_lane, v128.const', { skip: SIMD_SKIP }, () => {
    const m = new ModuleBuilder();
    m.exportFunction('f', m.addFunction(['f32', 'i32'], ['f32'], (f) => {
      // splat x, replace lane 2 with 1.25, then pick lane by index via nested selects
      const v = f.addLocal('v128');
      f.localGet(0).op('f32x4.splat').f32Const(1.25).laneOp('f32x4.replace_lane', 2).localSet(v);
      f.localGet(v).laneOp('f32x4.extract_lane', 2);
      f.localGet(v).laneOp('f32x4.extract_lane', 3);
      f.localGet(1).i32Const(2).op('i32.eq').select();
    }));
    m.exportFunction('i', m.addFunction(['i32'], ['i32'], (f) => {
      f.localGet(0).op('i32x4.splat').i32x4Const([10, 20, 30, 0xffffffff]).op('i32x4.add');
      f.i32Const(-5).laneOp('i32x4.replace_lane', 0);
      f.laneOp('i32x4.extract_lane', 3);
    }));
    m.exportFunction('k', m.addFunction([], ['f32'], (f) => f.f32x4Const([1, 2, 3, -4.5]).laneOp('f32x4.extract_lane', 3)));
    m.exportFunction('l0', m.addFunction([], ['i32'], (f) => {
      f.i32x4Const([7, 8, 9, 10]).i32Const(100).op('i32x4.splat').op('i32x4.sub').laneOp('i32x4.extract_lane', 0);
    }));
    const inst = instantiate(m.build());
    assert.equal(fn(inst, 'f')(3.5, 2), 1.25);
    assert.equal(fn(inst, 'f')(3.5, 3), 3.5);
    assert.equal(fn(inst, 'i')(5), 4); // -1 + 5
    assert.equal(fn(inst, 'k')(), -4.5);
    assert.equal(fn(inst, 'l0')(), -93);
  });

  const relaxedBytes = (): Uint8Array<ArrayBuffer> => {
    // run(): out1 = madd(a, b, c) at 48, out2 = nmadd(a, b, c) at 64
    const m = new ModuleBuilder();
    m.importMemory('env', 'mem', { initial: 1 });
    m.exportFunction('run', m.addFunction([], [], (f) => {
      for (const [op, out] of [['f32x4.relaxed_madd', 48], ['f32x4.relaxed_nmadd', 64]] as const) {
        f.i32Const(out);
        f.i32Const(0).load('v128').i32Const(16).load('v128').i32Const(32).load('v128');
        f.op(op).store('v128');
      }
    }));
    return m.build();
  };
  const relaxedInput = [2, 3, -1.5, 0.5, 3, 4, 2, -8, 1, -20, 0.25, 0];
  const relaxedExpected = [7, -8, -2.75, -4, -5, -32, 3.25, 4];

  test('f32x4.relaxed_madd / relaxed_nmadd', { skip: RELAXED_SKIP }, () => {
    const mem = new WebAssembly.Memory({ initial: 1 });
    const inst = instantiate(relaxedBytes(), { env: { mem } });
    new Float32Array(mem.buffer).set(relaxedInput);
    fn(inst, 'run')();
    assert.deepEqual([...new Float32Array(mem.buffer, 48, 8)], relaxedExpected);
  });

  test('relaxed SIMD in a child process with --experimental-wasm-relaxed-simd', (t) => {
    if (!RELAXED_SKIP) return t.skip('relaxed SIMD already exercised in-process');
    // Modules are built here (building needs no host support); the child only validates and runs them.
    const relaxedOps = PLAIN_OP_NAMES.filter((name) => name.includes('relaxed_'));
    const validationModules = relaxedOps.map((name) => {
      const sig = signatureOf(name);
      const m = new ModuleBuilder();
      m.addFunction(sig.params, sig.results, (f) => {
        sig.params.forEach((_, i) => f.localGet(i));
        f.op(name);
      });
      return Buffer.from(m.build()).toString('base64');
    });
    const child = `
      const decode = (b64) => Buffer.from(b64, 'base64');
      const valid = JSON.parse(process.env.MODULES).map((b64) => WebAssembly.validate(decode(b64)));
      const bytes = decode(process.env.RUN_MODULE);
      let lanes = null;
      if (WebAssembly.validate(bytes)) {
        const mem = new WebAssembly.Memory({ initial: 1 });
        const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem } });
        new Float32Array(mem.buffer).set(JSON.parse(process.env.INPUT));
        inst.exports.run();
        lanes = Array.from(new Float32Array(mem.buffer, 48, 8));
      }
      console.log(JSON.stringify({ valid, lanes }));
    `;
    const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '-e', child], {
      encoding: 'utf8',
      env: {
        ...process.env,
        MODULES: JSON.stringify(validationModules),
        RUN_MODULE: Buffer.from(relaxedBytes()).toString('base64'),
        INPUT: JSON.stringify(relaxedInput),
      },
      timeout: 30_000,
    });
    if (r.status !== 0 && /bad option|unknown|unrecognized/i.test(r.stderr)) return t.skip(`V8 flag not available: ${r.stderr.trim()}`);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim()) as { valid: boolean[]; lanes: number[] | null };
    if (out.lanes === null) return t.skip('relaxed SIMD unsupported even with --experimental-wasm-relaxed-simd');
    assert.deepEqual(out.lanes, relaxedExpected);
    assert.equal(relaxedOps.length, 20);
    assert.deepEqual(relaxedOps.filter((_, i) => !out.valid[i]), [], 'relaxed mnemonics that failed validation');
  });
});

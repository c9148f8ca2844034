/** Targets: parsing, canonical strings, facts, and the layers that consult them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Target, TargetError, parseTarget, relaxedSimdSupported, targetKinds } from '../../src/target/index.js';
import { TesseraError } from '../../src/runtime/error.js';
import { ModuleBuilder } from '../../src/codegen/wasm/encoder.js';
import { GraphBuilder } from '../../src/graph/builder.js';
import type { Value } from '../../src/graph/ir.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { optimize } from '../../src/transform/pipeline.js';
import { generateModule } from '../../src/codegen/index.js';
import { CodegenError } from '../../src/codegen/error.js';
import { defaultSchedule } from '../../src/schedule/default.js';
import { ScheduleError } from '../../src/schedule/state.js';
import { compute, placeholder } from '../../src/te/tensor.js';
import { createPrimFunc } from '../../src/te/lower.js';
import { compile } from '../../src/driver.js';
import { Executor } from '../../src/runtime/executor.js';
import { InputError } from '../../src/runtime/error.js';
import { deserializeExecutable, serializeExecutable } from '../../src/runtime/artifact.js';
import '../../src/ops/index.js';

test('a target string parses into its kind, options and facts', () => {
  const t = parseTarget('wasm -threads=2 -no-fma');
  assert.equal(t.kind, 'wasm');
  assert.deepEqual(t.keys, ['cpu']);
  assert.deepEqual(t.options, { threads: 2, fma: false });
  assert.equal(t.threads, 2);
  assert.ok(t.features.has('simd128') && !t.features.has('relaxed-simd'));
  assert.equal(parseTarget('wasm -fma').features.has('relaxed-simd'), true);
  assert.equal(t.vectorLanes('float32'), 4);
  assert.equal(t.vectorLanes('int8'), 16);
  assert.equal(t.vectorLanes('float64'), 2);
  assert.equal(t.bufferAlignment, 16);
  assert.equal(parseTarget('  js  ').kind, 'js');
});

test('defaults fill in, host probes included, and the canonical string round-trips', () => {
  const t = parseTarget('wasm');
  assert.equal(t.options['threads'], 1);
  assert.equal(t.options['fma'], relaxedSimdSupported(), 'fma defaults to what this engine has');
  for (const s of ['wasm', 'wasm -threads=3', 'wasm -fma -threads=2', 'js']) {
    const canon = parseTarget(s).toString();
    assert.equal(parseTarget(canon).toString(), canon, s);
  }
  // Option order does not matter: one canonical string (a stable key for caches and records).
  assert.equal(parseTarget('wasm -no-fma -threads=2').toString(), parseTarget('wasm -threads=2 -no-fma').toString());
  assert.equal(parseTarget('wasm -threads=2 -no-fma').toString(), 'wasm -threads=2 -no-fma');
});

test('overrides win over the string; a Target passes through parseTarget unchanged', () => {
  const t = parseTarget('wasm -threads=2', { threads: 4 });
  assert.equal(t.threads, 4);
  const same = parseTarget(t);
  assert.equal(same, t);
  assert.equal(parseTarget(t, { fma: true }).options['fma'], true);
});

test('bad target strings are refused with what the kind takes', () => {
  const bad: [string, RegExp][] = [
    ['', /empty target string; available targets: wasm, js, webgpu/],
    ['gpu', /unknown target 'gpu'; available targets: .*wasm/],
    ['wasm -thread=2', /unknown option -thread; target 'wasm' takes: -threads=N .*-\[no-\]fma/],
    ['wasm -threads=0', /-threads=0 of 'wasm' is out of range \[1, 256\]/],
    ['wasm -threads=two', /-threads of 'wasm' needs an integer value/],
    ['wasm -threads', /-threads of 'wasm' needs an integer value/],
    ['wasm -no-threads', /-threads of 'wasm' needs an integer value/],
    ['wasm -fma=maybe', /-fma of 'wasm' is a switch/],
    ['wasm -no-fma=1', /-no-fma takes no value/],
    ['wasm -fma -no-fma', /option -fma is given twice/],
    ['wasm threads=2', /'threads=2' is not an option/],
    ['js -threads=2', /unknown option -threads; target 'js' takes no options/],
  ];
  for (const [s, re] of bad) {
    assert.throws(() => parseTarget(s), (e: unknown) => e instanceof TargetError && e instanceof TesseraError && re.test((e as Error).message), s);
  }
  assert.throws(() => parseTarget('wasm', { threads: 1.5 }), /must be an integer/);
  assert.throws(() => parseTarget('wasm', { threads: 0 }), /out of range/);
});

test('the registered kinds document every option', () => {
  const names = targetKinds().map((k) => k.name);
  assert.ok(names.includes('wasm') && names.includes('js'));
  for (const k of targetKinds()) {
    assert.ok(k.description.length > 10, k.name);
    for (const o of k.options) assert.ok(o.doc.length > 5, `${k.name} -${o.name}`);
  }
});

test("the wasm target's relaxed-SIMD probe is the module the encoder builds", () => {
  // The probe's bytes are written out in target/wasm.ts (the target layer sits below codegen).
  const m = new ModuleBuilder();
  m.addFunction([], ['f32'], (f) => {
    f.f32Const(1).op('f32x4.splat');
    f.f32Const(2).op('f32x4.splat');
    f.f32Const(3).op('f32x4.splat');
    f.op('f32x4.relaxed_madd').laneOp('f32x4.extract_lane', 0);
  });
  let validates: boolean;
  try {
    validates = WebAssembly.validate(m.build());
  } catch {
    validates = false;
  }
  assert.equal(relaxedSimdSupported(), validates);
});

const f32 = (shape: number[]) => ({ dtype: 'float32' as const, shape });
function rand(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5);
}

/** Two 3x3 convs (16 input channels for the second: Winograd-sized) and a MatMul head. */
function convNet() {
  const b = new GraphBuilder('g');
  const x = b.input('x', f32([1, 4, 8, 8]));
  const conv = (input: Value, cin: number, cout: number, seed: number): Value => {
    const w = b.constant(new Tensor('float32', rand(cout * cin * 9, seed), [cout, cin, 3, 3]));
    return b.op('Conv', [input, w], { pads: [1, 1, 1, 1], strides: [1, 1], dilations: [1, 1], group: 1, kernel_shape: [3, 3] })[0]!;
  };
  const [r] = b.op('Relu', [conv(conv(x, 4, 16, 1), 16, 16, 2)]);
  const [flat] = b.op('Reshape', [r!], { shape: [1, 1024] });
  const [y] = b.op('MatMul', [flat!, b.constant(new Tensor('float32', rand(1024 * 8, 3), [1024, 8]))]);
  b.output(y!, 'y');
  return b.build();
}

const opsOf = (target: Target): string[] => optimize(convNet(), { optLevel: 3, target, verify: true }).graph.nodes
  .flatMap((n) => (n.body ? n.body.nodes : [n])).map((n) => `${n.op}${n.attrs['weight_layout'] ? `:${String(n.attrs['weight_layout'])}` : ''}`);

test("the layout passes follow the target's layout preferences", () => {
  const wasm = parseTarget('wasm -no-fma');
  const blocked = opsOf(wasm);
  assert.ok(blocked.includes('ConvNCHWc') && blocked.includes('ConvWinograd') && blocked.includes('MatMul:NK16n'), blocked.join(' '));
  const plain = opsOf({ ...wasm, layouts: {} });
  assert.ok(!plain.some((o) => /NCHWc|Winograd|LayoutTransform|NK16n/.test(o)), plain.join(' '));
  assert.equal(plain.filter((o) => o === 'Conv').length, 2);
  const noWinograd = opsOf({ ...wasm, layouts: { ...wasm.layouts, winogradMinChannels: 1024 } });
  assert.ok(noWinograd.filter((o) => o === 'ConvNCHWc').length === 2 && !noWinograd.includes('ConvWinograd'), noWinograd.join(' '));
});

test('a target with no codegen or schedule rules is refused by name, not crashed on', () => {
  const alien: Target = { ...parseTarget('wasm'), kind: 'imaginary', keys: [] };
  assert.throws(() => generateModule(alien, []), (e: unknown) => e instanceof CodegenError && /no code generator is registered for target 'imaginary'; available: js, wasm, webgpu/.test((e as Error).message));
  const x = placeholder([8], 'float32', 'x');
  const y = compute([8], (i) => x.at(i), 'y');
  assert.throws(() => defaultSchedule(createPrimFunc('k', [x], [y]), alien), (e: unknown) => e instanceof ScheduleError && /no default schedule rules for target 'imaginary' \(keys: none\)/.test((e as Error).message));
});

test('an executable records its canonical target, through an artifact too; an unknown module kind is refused', async () => {
  const exe = compile(convNet(), { target: 'wasm -no-fma', threads: 2 }).executable;
  assert.equal(exe.target, 'wasm -threads=2 -no-fma');
  assert.equal(exe.threads, 2);
  const back = deserializeExecutable(serializeExecutable(exe));
  assert.equal(back.target, exe.target);
  assert.deepEqual(back.module, exe.module);
  await assert.rejects(Executor.load({ ...exe, module: { kind: 'tpu' } }), (e: unknown) => e instanceof InputError && /no runtime device runs 'tpu' kernel modules \(target wasm -threads=2 -no-fma\); devices: js, wasm, webgpu/.test((e as Error).message));
  assert.equal(compile(convNet(), { target: 'js', threads: 4 }).executable.target, 'js', 'threads applies only where the kind has it');
});

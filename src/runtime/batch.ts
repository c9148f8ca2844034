/**
 * Dynamic batch: the concrete layout of an executable whose batched slots take their
 * leading dim at run time (see DynamicBatch in executable.ts). The result is a plain
 * executable for one batch size: batched I/O slots get their full shape and offset,
 * and each step that touches batched tensors is repeated once per sample on that
 * sample's slices (its kernel was compiled for one sample and proven separable).
 */
import { dtypeBytes } from './dtype.js';
import type { Executable, IOSlot, Step, TensorSlot } from './executable.js';
import { shapeSize } from './tensor.js';

/** Bytes of a slot's elements in the executable's storage (one word each in word storage). */
const slotBytes = (exe: Executable, s: TensorSlot): number => shapeSize(s.shape) * (exe.wordStorage ? 4 : dtypeBytes(s.dtype));

/** Bytes of the arena at batch size `n` (16-byte aligned). */
export function arenaBytesAt(exe: Executable, n: number): number {
  return exe.batch ? exe.batch.base + Math.ceil((n * exe.batch.sampleBytes) / 16) * 16 : exe.arenaBytes;
}

export function layoutAtBatch(exe: Executable, n: number): Executable {
  const b = exe.batch;
  if (!b) return exe;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`batch size must be a positive integer, got ${n}`);
  const sample = (s: TensorSlot, i: number): TensorSlot =>
    (s.batched ? { dtype: s.dtype, shape: s.shape, offset: b.base + n * s.offset + i * slotBytes(exe, s) } : s);
  const whole = (s: IOSlot): IOSlot => {
    if (!s.batched) return s;
    return { name: s.name, dtype: s.dtype, shape: [n, ...s.shape.slice(1)], offset: b.base + n * s.offset };
  };
  const steps: Step[] = [];
  for (const step of exe.steps) {
    if (!step.args.some((a) => a.batched)) {
      steps.push(step);
      continue;
    }
    for (let i = 0; i < n; i++) steps.push({ kernel: step.kernel, args: step.args.map((a) => sample(a, i)) });
  }
  const { batch: _, ...rest } = exe;
  return {
    ...rest, steps, inputs: exe.inputs.map(whole), outputs: exe.outputs.map(whole),
    arenaBytes: arenaBytesAt(exe, n), activationBytes: exe.activationBytes + n * b.sampleBytes,
  };
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Lifetime, planMemory } from '../../src/build/memory_plan.js';

function overlaps(a: Lifetime, b: Lifetime, offA: number, offB: number): boolean {
  const timeOverlap = a.start <= b.end && b.start <= a.end;
  const memOverlap = offA < offB + b.bytes && offB < offA + a.bytes;
  return timeOverlap && memOverlap;
}

test('a chain reuses memory: peak is two buffers, not all of them', () => {
  // x0 -> x1 -> x2 -> x3, each 1000 bytes, each live for two consecutive steps.
  const ls: Lifetime[] = [0, 1, 2, 3].map((i) => ({ id: i, bytes: 1000, start: i, end: i + 1 }));
  const plan = planMemory(ls, 16);
  assert.equal(plan.peakBytes, 2 * 1008); // 1000 rounded up to 16-byte alignment
  assert.equal(plan.offsets.get(0), plan.offsets.get(2));
});

test('no two simultaneously live storages overlap; offsets are 16-byte aligned', () => {
  let s = 12345;
  const rnd = (n: number): number => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s % n;
  };
  const ls: Lifetime[] = Array.from({ length: 60 }, (_, id) => {
    const start = rnd(40);
    return { id, bytes: 1 + rnd(5000), start, end: start + rnd(8) };
  });
  const plan = planMemory(ls, 16);
  for (const a of ls) {
    assert.equal(plan.offsets.get(a.id)! % 16, 0);
    for (const b of ls) {
      if (a.id < b.id) assert.ok(!overlaps(a, b, plan.offsets.get(a.id)!, plan.offsets.get(b.id)!), `storages ${a.id} and ${b.id} overlap`);
    }
  }
  const total = ls.reduce((n, l) => n + Math.ceil(l.bytes / 16) * 16, 0);
  assert.ok(plan.peakBytes < total, `planned ${plan.peakBytes} should beat no reuse (${total})`);
  // The peak can never be below the largest set of storages live at one step.
  let liveMax = 0;
  for (let t = 0; t < 50; t++) liveMax = Math.max(liveMax, ls.filter((l) => l.start <= t && t <= l.end).reduce((n, l) => n + Math.ceil(l.bytes / 16) * 16, 0));
  assert.ok(plan.peakBytes >= liveMax);
});

test('rejects a lifetime that ends before it starts', () => {
  assert.throws(() => planMemory([{ id: 0, bytes: 4, start: 3, end: 1 }], 16), /ends \(1\) before it starts \(3\)/);
});

/** The greedy plan by its definition: each storage, largest first, at the lowest offset clear of every placed one it coexists with. */
function referencePlan(ls: readonly Lifetime[]): Map<number, number> {
  const order = [...ls].sort((a, b) => b.bytes - a.bytes || a.start - b.start || a.id - b.id);
  const placed: { l: Lifetime; off: number; size: number }[] = [];
  const out = new Map<number, number>();
  for (const l of order) {
    const size = Math.ceil(Math.max(l.bytes, 1) / 16) * 16;
    const conflicts = placed.filter((p) => p.l.start <= l.end && l.start <= p.l.end).sort((a, b) => a.off - b.off);
    let off = 0;
    for (const p of conflicts) {
      if (off + size <= p.off) break;
      off = Math.max(off, p.off + p.size);
    }
    placed.push({ l, off, size });
    out.set(l.id, off);
  }
  return out;
}

test('the indexed plan places every storage where the greedy definition does (long and short lifetimes mixed)', () => {
  let s = 777;
  const rnd = (n: number): number => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s % n;
  };
  const ls: Lifetime[] = Array.from({ length: 800 }, (_, id) => {
    const start = rnd(600);
    return { id, bytes: 1 + rnd(3) * rnd(4000), start, end: start + (rnd(10) === 0 ? rnd(600) : rnd(4)) };
  });
  const plan = planMemory(ls, 16);
  const ref = referencePlan(ls);
  for (const l of ls) assert.equal(plan.offsets.get(l.id), ref.get(l.id), `storage ${l.id}`);
});

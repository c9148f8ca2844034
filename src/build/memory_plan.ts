/**
 * Static memory planning: assigns each storage a byte offset so that storages whose
 * lifetimes overlap never overlap in memory, packing the rest on top of each other.
 * Greedy by size (as TFLite's arena planner): place the largest storages first, each
 * at the lowest offset that fits between the already placed ones it coexists with.
 */

export interface Lifetime {
  readonly id: number;
  readonly bytes: number;
  /** First and last step (inclusive) during which the storage holds live data. */
  readonly start: number;
  readonly end: number;
}

export interface MemoryPlan {
  readonly offsets: ReadonlyMap<number, number>;
  /** Bytes spanned by the plan: the peak of simultaneously live storage, packed. */
  readonly peakBytes: number;
}

export function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

/** Packs storages by lifetime; every offset and size is a multiple of `align` (the target's buffer alignment). */
export function planMemory(lifetimes: readonly Lifetime[], align: number): MemoryPlan {
  for (const l of lifetimes) {
    if (l.end < l.start) throw new Error(`memory plan: storage ${l.id} ends (${l.end}) before it starts (${l.start})`);
  }
  const order = [...lifetimes].sort((a, b) => b.bytes - a.bytes || a.start - b.start || a.id - b.id);
  const placed = new PlacedIndex(lifetimes);
  const offsets = new Map<number, number>();
  let peak = 0;
  for (const l of order) {
    const size = alignUp(Math.max(l.bytes, 1), align);
    const conflicts = placed.overlapping(l.start, l.end).sort((a, b) => a.off - b.off);
    let off = 0;
    for (const p of conflicts) {
      if (off + size <= p.off) break;
      off = Math.max(off, p.off + p.size);
    }
    placed.place(l, off, size);
    offsets.set(l.id, off);
    peak = Math.max(peak, off + size);
  }
  return { offsets, peakBytes: peak };
}

interface Placement {
  readonly off: number;
  readonly size: number;
}

/**
 * The storages placed so far, found by lifetime: the lifetimes sorted by start are the
 * leaves of a segment tree whose nodes hold the latest end among their placed leaves.
 * The placed storages live during [start, end] are the leaves with start <= end (a
 * prefix) whose end >= start: each is found in O(log n), so a plan costs
 * O(n log n + overlaps) where testing every placed storage cost O(n^2) (10,000 kernels).
 */
class PlacedIndex {
  private readonly starts: number[];
  private readonly leafOf = new Map<Lifetime, number>();
  private readonly width: number;
  /** Latest end of a placed leaf below each node (-1: none); node 1 is the root, leaves from `width`. */
  private readonly maxEnd: Int32Array;
  private readonly placement: (Placement | undefined)[];

  constructor(lifetimes: readonly Lifetime[]) {
    const sorted = [...lifetimes].sort((a, b) => a.start - b.start);
    this.starts = sorted.map((l) => l.start);
    sorted.forEach((l, i) => this.leafOf.set(l, i));
    let w = 1;
    while (w < sorted.length) w *= 2;
    this.width = w;
    this.maxEnd = new Int32Array(2 * w).fill(-1);
    this.placement = new Array<Placement | undefined>(w);
  }

  place(l: Lifetime, off: number, size: number): void {
    const leaf = this.leafOf.get(l)!;
    this.placement[leaf] = { off, size };
    for (let node = this.width + leaf; node >= 1; node >>= 1) this.maxEnd[node] = Math.max(this.maxEnd[node]!, l.end);
  }

  /** The placements of the placed storages live at some step of [start, end]. */
  overlapping(start: number, end: number): Placement[] {
    // Leaves [0, hi) start at or before `end`.
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]! <= end) lo = mid + 1;
      else hi = mid;
    }
    const out: Placement[] = [];
    const visit = (node: number, nodeLo: number, nodeHi: number): void => {
      if (nodeLo >= lo || this.maxEnd[node]! < start) return;
      if (node >= this.width) {
        out.push(this.placement[node - this.width]!);
        return;
      }
      const mid = (nodeLo + nodeHi) >> 1;
      visit(2 * node, nodeLo, mid);
      visit(2 * node + 1, mid, nodeHi);
    };
    visit(1, 0, this.width);
    return out;
  }
}

/**
 * EliminateCommonSubexpr: a node with the same op, attributes and inputs as an
 * earlier one is replaced by it. Constants with equal type, dims and bytes are merged
 * first, so nodes reading duplicated weights also match.
 */
import { Tensor } from '../runtime/tensor.js';
import type { AttrValue, Graph, Value } from '../graph/ir.js';
import { rewriteGraph } from '../graph/rewrite.js';
import type { Pass } from './pass.js';

function attrKey(v: AttrValue): unknown {
  if (v instanceof Tensor) return { t: v.type, d: v.dims, x: Array.from(v.data as ArrayLike<number | bigint>, String) };
  return v;
}

/** The bytes of a constant's data. */
function bytesOf(t: Tensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** The widest unsigned view of the bytes (words when aligned): hashing and comparing go by words. */
function wordsOf(b: Uint8Array): Uint8Array | Uint32Array {
  return b.byteOffset % 4 === 0 && b.byteLength % 4 === 0 ? new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4) : b;
}

/** FNV-1a over the words of the data. */
function dataHash(t: Tensor): number {
  const w = wordsOf(bytesOf(t));
  let h = 2166136261;
  for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w[i]!, 16777619);
  return h >>> 0;
}

function sameBytes(a: Tensor, b: Tensor): boolean {
  const x = bytesOf(a), y = bytesOf(b);
  if (x.length !== y.length) return false;
  const wx = wordsOf(x), wy = wordsOf(y);
  const [u, v] = wx.constructor === wy.constructor ? [wx, wy] : [x, y];
  for (let i = 0; i < u.length; i++) if (u[i] !== v[i]) return false;
  return true;
}

/**
 * Each constant equal (type, dims, bytes) to an earlier one → that one. Constants are
 * grouped by type and dims first; only groups of several are hashed, and bytes are
 * compared only on equal hashes, so each constant's data is read about once.
 */
function duplicateConstants(g: Graph): Map<Value, Value> {
  const byType = new Map<string, Value[]>();
  for (const [v, t] of g.constants) {
    const k = `${t.type}[${t.dims.join(',')}]`;
    const group = byType.get(k);
    if (group) group.push(v);
    else byType.set(k, [v]);
  }
  const alias = new Map<Value, Value>();
  for (const group of byType.values()) {
    if (group.length < 2) continue;
    const byHash = new Map<number, Value[]>();
    for (const v of group) {
      const t = g.constants.get(v)!;
      const h = dataHash(t);
      const same = byHash.get(h)?.find((u) => sameBytes(g.constants.get(u)!, t));
      if (same) alias.set(v, same);
      else byHash.set(h, [...(byHash.get(h) ?? []), v]);
    }
  }
  return alias;
}

export function eliminateCommonSubexpr(g: Graph): Graph {
  const constAlias = duplicateConstants(g);
  const seen = new Map<string, readonly Value[]>();
  const ids = new Map<Value, number>();
  const idOf = (v: Value | null): number => {
    if (!v) return -1;
    let i = ids.get(v);
    if (i === undefined) ids.set(v, (i = ids.size));
    return i;
  };
  return rewriteGraph(g, (n, r) => {
    for (const [from, to] of constAlias) r.replace(from, to);
    constAlias.clear();
    const inputs = n.inputs.map((v) => r.use(v));
    if (n.body) {
      r.keep(n);
      return;
    }
    const key = JSON.stringify([n.op, inputs.map(idOf), Object.entries(n.attrs).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, attrKey(v)])]);
    const prev = seen.get(key);
    if (prev && prev.length === n.outputs.length) {
      n.outputs.forEach((o, i) => r.replace(o, prev[i]!));
      return;
    }
    seen.set(key, n.outputs);
    r.keep(n);
  });
}

export const EliminateCommonSubexpr: Pass = { name: 'EliminateCommonSubexpr', optLevel: 2, run: eliminateCommonSubexpr };

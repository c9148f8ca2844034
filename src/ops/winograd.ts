/**
 * Winograd convolution F(2x2, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional
 * Neural Networks") on blocked activations. Each 2x2 block of outputs comes from a 4x4
 * tile d of the padded input: Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A, so a 3x3 conv needs 16
 * multiply-adds per 4 outputs and input channel instead of 36. The elementwise product
 * summed over input channels is 16 independent matrix products, one per tile position
 * e = (ξ, ν): M[e] = V[e] · U[e]. Two graph-level pieces:
 * - `WinogradWeightTransform`: U[e, K/16, C, 16] = Σ GG[e, ab] · W[k, c, a, b] from OHWI4o
 *   weights (a constant, folded at compile time), columns blocked by 16 like NK16n; GG
 *   (products of G rows, `winogradWeightTable`) is a graph constant;
 * - `ConvWinograd`: the input transform V = Bᵀ d B (P the zero-padded input, its own
 *   stage), the 16 products M = V · U (register-tiled like a matmul), and the output
 *   transform Y = Aᵀ M A (+ bias). Bᵀ and Aᵀ have entries 0 and ±1 only: both transforms
 *   are written out as sums of a few loads with signs chosen by the tile position, and the
 *   schedule unrolls the tile positions (compute option `unroll`) so that each copy is
 *   plain adds and subtracts (4 loads per V element, 9 per output).
 */
import type { Attrs, Dim } from '../graph/ir.js';
import { type Expr, add, and as andE, constant, eq, floordiv, floormod, ge, int, lt, mul, select, sub } from '../ir/expr.js';
import { Tensor } from '../runtime/tensor.js';
import { compute, reduceAxis, sum } from '../te/tensor.js';
import { OpError, attrInts, registerOp } from './registry.js';
import { FLOAT_TYPES, checkArity, checkDType, fmt } from './common.js';
import { KERNEL_BLOCK as C4, MATMUL_BLOCK, blockedWeightAt } from './nn.js';

/** Output positions per tile side (m) and input tile side (m + r - 1) of F(2x2, 3x3). */
const M_TILE = 2;
const ALPHA = 4;
const TAPS = ALPHA * ALPHA;

const G = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]];

/** The weight transform as a constant matrix over flattened tile positions: GG[e, a·3+b] = G[ξ][a]·G[ν][b], e = ξ·4 + ν. */
export function winogradWeightTable(): Tensor {
  const gg: number[] = [];
  for (let e = 0; e < TAPS; e++) {
    const xi = Math.floor(e / ALPHA), nu = e % ALPHA;
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) gg.push(G[xi]![a]! * G[nu]![b]!);
  }
  return new Tensor('float32', gg, [TAPS, 9]);
}

function checkShape(what: string, got: readonly Dim[], want: readonly Dim[]): void {
  if (got.length !== want.length || got.some((d, i) => d !== want[i])) throw new OpError(`${what} must be ${fmt(want)}, got ${fmt(got)}`);
}

registerOp({
  name: 'WinogradWeightTransform',
  pattern: 'opaque',
  inferTypes(inputs) {
    const [w, gg] = checkArity(inputs, 2);
    checkDType(w!, ['float32']);
    const [kb, kh, kw, c, l] = w!.shape;
    if (w!.shape.length !== 5 || kh !== 3 || kw !== 3 || l !== C4 || typeof kb !== 'number') throw new OpError(`weight ${fmt(w!.shape)} is not a 3x3 OHWI4o weight`);
    const k = kb * C4;
    if (k % MATMUL_BLOCK !== 0) throw new OpError(`output channels ${k} do not divide into blocks of ${MATMUL_BLOCK}`);
    checkShape('GG', gg!.shape, [TAPS, 9]);
    return [{ dtype: 'float32', shape: [TAPS, k / MATMUL_BLOCK, c!, MATMUL_BLOCK] }];
  },
  compute([w, gg], _attrs, [out]) {
    const a = reduceAxis(3, 'a');
    const b = reduceAxis(3, 'b');
    return [compute(out!.shape as number[], (e, kb, c, kl) => {
      const k = add(mul(kb!, int(MATMUL_BLOCK)), kl!);
      const g = blockedWeightAt(w!, floordiv(k, int(C4)), c!, [a.var, b.var], floormod(k, int(C4)));
      return sum(mul(gg!.at(e!, add(mul(a.var, int(3)), b.var)), g), [a, b]);
    }, 'WinogradWeightTransform')];
  },
});

/** ConvWinograd's pads [top, left, bottom, right] and output spatial size. */
function winogradGeometry(x: readonly Dim[], attrs: Attrs): { pads: readonly number[]; oh: number; ow: number } {
  const pads = attrInts(attrs, 'pads');
  if (pads.length !== 4 || pads.some((p) => p < 0 || p > 2)) throw new OpError(`pads must be 4 values in 0..2, got [${pads.join(', ')}]`);
  const [h, w] = [x[2], x[3]];
  if (typeof h !== 'number' || typeof w !== 'number') throw new OpError(`spatial dims must be concrete, got ${fmt(x)}`);
  const oh = h + pads[0]! + pads[2]! - 2;
  const ow = w + pads[1]! + pads[3]! - 2;
  if (oh < 1 || ow < 1) throw new OpError(`input ${fmt(x)} is smaller than the 3x3 kernel`);
  return { pads, oh, ow };
}

registerOp({
  name: 'ConvWinograd',
  pattern: 'out-elemwise-fusable',
  inferTypes(inputs, attrs) {
    const [x, u, bias] = checkArity(inputs, 2, 3);
    checkDType(x!, FLOAT_TYPES);
    if (x!.dtype !== 'float32') throw new OpError(`ConvWinograd computes in float32, got ${x!.dtype}`);
    if (x!.shape.length !== 5 || x!.shape[4] !== C4) throw new OpError(`input ${fmt(x!.shape)} is not NCHW4c`);
    const c = (x!.shape[1] as number) * C4;
    const [taps, kb, uc, kl] = u!.shape;
    if (u!.shape.length !== 4 || taps !== TAPS || uc !== c || kl !== MATMUL_BLOCK || typeof kb !== 'number') {
      throw new OpError(`transformed weight ${fmt(u!.shape)} does not match [${TAPS}, K/${MATMUL_BLOCK}, ${c}, ${MATMUL_BLOCK}]`);
    }
    const k = kb * MATMUL_BLOCK;
    if (bias) checkShape('bias', bias.shape, [k]);
    const { oh, ow } = winogradGeometry(x!.shape, attrs);
    return [{ dtype: 'float32', shape: [x!.shape[0]!, k / C4, oh, ow, C4] }];
  },
  compute([x, u, bias], attrs, [out]) {
    const outShape = out!.shape as number[];
    const { pads, oh, ow } = winogradGeometry(x!.shape, attrs);
    const [n, cb, h, w] = x!.shape as number[];
    const th = Math.ceil(oh / M_TILE), tw = Math.ceil(ow / M_TILE);
    const c = cb! * C4;
    const k = outShape[1]! * C4;
    // The input zero-padded to whole tiles, as its own stage. A channel block a multiple of
    // 4 KiB long gets one more column: reads of several blocks at such strides would all
    // land in the same L1 sets (14x14 inputs ran 3x slower).
    const ph = M_TILE * th + 2;
    let pw = M_TILE * tw + 2;
    if ((ph * pw * C4 * 4) % 4096 === 0) pw++;
    const padded = compute([n!, cb!, ph, pw, C4], (ni, ci, hi, wi, li) => {
      const y = sub(hi!, int(pads[0]!)), z = sub(wi!, int(pads[1]!));
      const ok = andE(andE(ge(y, int(0)), lt(y, int(h!))), andE(ge(z, int(0)), lt(z, int(w!))));
      return select(ok, x!.at(ni!, ci!, y, z, li!), constant(0, 'float32'));
    }, 'Winograd_pad', { materialize: true });
    // V = Bᵀ d B with the sparse Bᵀ written out: row ξ of Bᵀ is d[first(ξ)] ± d[second(ξ)]
    // (+ for ξ = 1), so each V element is 4 loads and 3 adds. The schedule unrolls the tile
    // position e (compute option `unroll`): ξ and ν are constants in each copy and the
    // selects below fold away.
    const first = (t: Expr): Expr => select(eq(t, int(3)), int(1), t);
    const second = (t: Expr): Expr => select(lt(t, int(2)), int(2), select(eq(t, int(2)), int(1), int(3)));
    const pm = (t: Expr, x: Expr, y: Expr): Expr => add(x, mul(y, select(eq(t, int(1)), constant(1, 'float32'), constant(-1, 'float32'))));
    const v = compute([TAPS, n!, th, tw, c], (e, ni, ti, tj, ci) => {
      const xi = floordiv(e!, int(ALPHA)), nu = floormod(e!, int(ALPHA));
      const at = (a: Expr, b: Expr): Expr => padded.at(ni!, floordiv(ci!, int(C4)), add(mul(ti!, int(M_TILE)), a), add(mul(tj!, int(M_TILE)), b), floormod(ci!, int(C4)));
      const row = (a: Expr): Expr => pm(nu, at(a, first(nu)), at(a, second(nu)));
      return pm(xi, row(first(xi)), row(second(xi)));
    }, 'Winograd_V', { materialize: true, unroll: [{ axis: 0 }] });
    const rc = reduceAxis(c, 'rc');
    const m = compute([TAPS, n!, th, tw, k], (e, ni, ti, tj, ki) => sum(mul(
      v.at(e!, ni!, ti!, tj!, rc.var),
      u!.at(e!, floordiv(ki!, int(MATMUL_BLOCK)), rc.var, floormod(ki!, int(MATMUL_BLOCK))),
    ), [rc]), 'Winograd_M');
    // Y = Aᵀ M A with the sparse Aᵀ written out: output row i of a tile sums M rows i..i+2
    // with signs (+, +, +) for i = 0 and (+, -, -) for i = 1; likewise for columns: 9 loads
    // and 8 adds per element instead of 16 multiply-adds with a table. Computed over whole
    // tiles (even sizes), the schedule unrolling each tile's 2x2 outputs so the signs and M
    // rows fold to constants; an odd output size drops the last row/column afterwards.
    const [eh, ew] = [M_TILE * th, M_TILE * tw];
    const full = eh === oh && ew === ow;
    const y = compute([n!, outShape[1]!, eh, ew, C4], (ni, kbi, hi, wi, li) => {
      const i = floormod(hi!, int(M_TILE)), j = floormod(wi!, int(M_TILE));
      const kk = add(mul(kbi!, int(C4)), li!);
      const at = (a: number, b: number): Expr => m.at(add(mul(add(i, int(a)), int(ALPHA)), add(j, int(b))), ni!, floordiv(hi!, int(M_TILE)), floordiv(wi!, int(M_TILE)), kk);
      // Term (a, b) times its sign: -1 for a row (column) offset > 0 in an odd row (column).
      const sign = (k: Expr, off: number): Expr => (off === 0 ? constant(1, 'float32') : select(eq(k, int(0)), constant(1, 'float32'), constant(-1, 'float32')));
      let acc: Expr | undefined;
      for (let a = 0; a < 3; a++) {
        for (let b = 0; b < 3; b++) {
          const t = mul(mul(at(a, b), sign(i, a)), sign(j, b));
          acc = acc ? add(acc, t) : t;
        }
      }
      return bias ? add(acc!, bias.at(kk)) : acc!;
    }, full ? 'ConvWinograd' : 'ConvWinograd_acc', { materialize: true, unroll: [{ axis: 2, factor: M_TILE }, { axis: 3, factor: M_TILE }] });
    if (full) return [y];
    return [compute(outShape, (...i) => y.at(...i), 'ConvWinograd')];
  },
});

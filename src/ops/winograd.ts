/**
 * Winograd convolution F(2x2, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional
 * Neural Networks") on blocked activations. Each 2x2 block of outputs comes from a 4x4
 * tile d of the padded input: Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A, so a 3x3 conv needs 16
 * multiply-adds per 4 outputs and input channel instead of 36. The elementwise product
 * summed over input channels is 16 independent matrix products, one per tile position
 * e = (ξ, ν): M[e] = V[e] · U[e]. Three graph-level pieces:
 * - `WinogradWeightTransform`: U[e, K/16, C, 16] = Σ GG[e, ab] · W[k, c, a, b] from OHWI4o
 *   weights (a constant, folded at compile time), columns blocked by 16 like NK16n;
 * - `ConvWinograd`: input transform V[e, n, th, tw, c] = Σ BB[e, ab] · P[n, c, 2th+a, 2tw+b]
 *   (P the zero-padded input, its own stage), the 16 products M = V · U, and the output
 *   transform Y[n, k, h, w] = Σ_e AA[(h%2, w%2), e] · M[e, n, h/2, w/2, k] (+ bias);
 * - `winogradTables`: the constant matrices BB, GG, AA (products of Bᵀ, G, Aᵀ rows),
 *   passed to the ops as graph constants.
 * Every stage is a reduction the default schedule register-tiles and vectorizes.
 */
import type { Attrs, Dim } from '../graph/ir.js';
import { type Expr, type Var, add, and as andE, constant, floordiv, floormod, ge, int, lt, mul, select, sub } from '../ir/expr.js';
import { Tensor } from '../runtime/tensor.js';
import { compute, reduceAxis, sum } from '../te/tensor.js';
import { OpError, attrInts, registerOp } from './registry.js';
import { FLOAT_TYPES, checkArity, checkDType, fmt } from './common.js';
import { KERNEL_BLOCK as C4, MATMUL_BLOCK, blockedWeightAt } from './nn.js';

/** Output positions per tile side (m) and input tile side (m + r - 1) of F(2x2, 3x3). */
const M_TILE = 2;
const ALPHA = 4;
const TAPS = ALPHA * ALPHA;

const BT = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]];
const G = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]];
const AT = [[1, 1, 1, 0], [0, 1, -1, -1]];

/**
 * The transforms as constant matrices over flattened tile positions: BB[e, a·4+b] =
 * Bᵀ[ξ][a]·Bᵀ[ν][b], GG[e, a·3+b] = G[ξ][a]·G[ν][b], AA[i·2+j, e] = Aᵀ[i][ξ]·Aᵀ[j][ν],
 * with e = ξ·4 + ν.
 */
export function winogradTables(): { bb: Tensor; gg: Tensor; aa: Tensor } {
  const bb: number[] = [], gg: number[] = [], aa: number[] = [];
  for (let e = 0; e < TAPS; e++) {
    const xi = Math.floor(e / ALPHA), nu = e % ALPHA;
    for (let a = 0; a < ALPHA; a++) for (let b = 0; b < ALPHA; b++) bb.push(BT[xi]![a]! * BT[nu]![b]!);
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) gg.push(G[xi]![a]! * G[nu]![b]!);
  }
  for (let i = 0; i < M_TILE; i++) {
    for (let j = 0; j < M_TILE; j++) for (let e = 0; e < TAPS; e++) aa.push(AT[i]![Math.floor(e / ALPHA)]! * AT[j]![e % ALPHA]!);
  }
  return {
    bb: new Tensor('float32', bb, [TAPS, TAPS]),
    gg: new Tensor('float32', gg, [TAPS, 9]),
    aa: new Tensor('float32', aa, [M_TILE * M_TILE, TAPS]),
  };
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
    const [x, u, bb, aa, bias] = checkArity(inputs, 4, 5);
    checkDType(x!, FLOAT_TYPES);
    if (x!.dtype !== 'float32') throw new OpError(`ConvWinograd computes in float32, got ${x!.dtype}`);
    if (x!.shape.length !== 5 || x!.shape[4] !== C4) throw new OpError(`input ${fmt(x!.shape)} is not NCHW4c`);
    const c = (x!.shape[1] as number) * C4;
    const [taps, kb, uc, kl] = u!.shape;
    if (u!.shape.length !== 4 || taps !== TAPS || uc !== c || kl !== MATMUL_BLOCK || typeof kb !== 'number') {
      throw new OpError(`transformed weight ${fmt(u!.shape)} does not match [${TAPS}, K/${MATMUL_BLOCK}, ${c}, ${MATMUL_BLOCK}]`);
    }
    checkShape('BB', bb!.shape, [TAPS, TAPS]);
    checkShape('AA', aa!.shape, [M_TILE * M_TILE, TAPS]);
    const k = kb * MATMUL_BLOCK;
    if (bias) checkShape('bias', bias.shape, [k]);
    const { oh, ow } = winogradGeometry(x!.shape, attrs);
    return [{ dtype: 'float32', shape: [x!.shape[0]!, k / C4, oh, ow, C4] }];
  },
  compute([x, u, bb, aa, bias], attrs, [out]) {
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
    const a = reduceAxis(ALPHA, 'a');
    const b = reduceAxis(ALPHA, 'b');
    const v = compute([TAPS, n!, th, tw, c], (e, ni, ti, tj, ci) => sum(mul(
      bb!.at(e!, add(mul(a.var, int(ALPHA)), b.var)),
      padded.at(ni!, floordiv(ci!, int(C4)), add(mul(ti!, int(M_TILE)), a.var), add(mul(tj!, int(M_TILE)), b.var), floormod(ci!, int(C4))),
    ), [a, b]), 'Winograd_V');
    const rc = reduceAxis(c, 'rc');
    const m = compute([TAPS, n!, th, tw, k], (e, ni, ti, tj, ki) => sum(mul(
      v.at(e!, ni!, ti!, tj!, rc.var),
      u!.at(e!, floordiv(ki!, int(MATMUL_BLOCK)), rc.var, floormod(ki!, int(MATMUL_BLOCK))),
    ), [rc]), 'Winograd_M');
    const re = reduceAxis(TAPS, 're');
    const y = compute(outShape, (...idx) => {
      const [ni, kbi, hi, wi, li] = idx as [Var, Var, Var, Var, Var];
      const parity: Expr = add(mul(floormod(hi, int(M_TILE)), int(M_TILE)), floormod(wi, int(M_TILE)));
      const kk = add(mul(kbi, int(C4)), li);
      return sum(mul(aa!.at(parity, re.var), m.at(re.var, ni, floordiv(hi, int(M_TILE)), floordiv(wi, int(M_TILE)), kk)), [re]);
    }, bias ? 'ConvWinograd_acc' : 'ConvWinograd');
    if (!bias) return [y];
    return [compute(outShape, (...i) => add(y.at(...i), bias.at(add(mul(i[1]!, int(C4)), i[4]!))), 'ConvWinograd')];
  },
});

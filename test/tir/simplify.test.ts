import { test } from 'node:test';
import assert from 'node:assert/strict';
import { add, floordiv, floormod, int, mul, variable, exprToString } from '../../src/ir/expr.js';
import { simplifyExpr } from '../../src/tir/transform/simplify.js';

test('floordiv/floormod resolve through the divisors of the constant, any size', () => {
  const i = variable('i');
  const l = variable('l');
  const ranges = new Map([[i.id, 1000], [l.id, 4]]);
  // (4i + l) // 16 = i // 4 and (4i + l) % 16 = 4 (i % 4) + l, for 0 <= l < 4.
  assert.equal(exprToString(simplifyExpr(floordiv(add(mul(i, int(4)), l), int(16)), ranges)), exprToString(floordiv(i, int(4))));
  assert.match(exprToString(simplifyExpr(floormod(add(mul(i, int(4)), l), int(16)), ranges)), /i % 4/);
  // A prime divisor near 2^31 (its divisors are found by trial division to its square root, not by counting down from it).
  const p = 2147483647;
  assert.equal(exprToString(simplifyExpr(floordiv(add(mul(i, int(p)), l), int(p)), ranges)), exprToString(i));
  assert.equal(exprToString(simplifyExpr(floormod(add(mul(i, int(p)), l), int(p)), ranges)), exprToString(l));
  // 2^30 = 2^28 * 4: (4i + l) // 2^30 = i // 2^28 (with i up to 2^29, so not 0).
  const wide = new Map([[i.id, 2 ** 29], [l.id, 4]]);
  assert.equal(exprToString(simplifyExpr(floordiv(add(mul(i, int(4)), l), int(2 ** 30)), wide)), exprToString(floordiv(i, int(2 ** 28))));
});

/** The loop-IR lowering pipeline that turns a scheduled PrimFunc into codegen input. */
import type { PrimFunc } from '../stmt.js';
import { flattenBuffers } from './flatten.js';
import { lowerBlocks } from './lower_blocks.js';
import { simplify } from './simplify.js';
import { unrollLoops } from './unroll.js';
import { insertBarriers } from './barriers.js';

/** lower blocks → barriers (where shared memory needs them) → unroll → simplify → flatten → simplify. */
export function lowerForCodegen(f: PrimFunc): PrimFunc {
  return simplify(flattenBuffers(simplify(unrollLoops(insertBarriers(lowerBlocks(f))))));
}

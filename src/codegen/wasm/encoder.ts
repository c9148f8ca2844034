/**
 * Hand-written WebAssembly binary module encoder.
 *
 * Produces modules in the core binary format (version 1) with the SIMD128,
 * relaxed-SIMD, non-trapping float-to-int, sign-extension and threads
 * (shared memory) extensions. The encoder is deliberately small:
 *
 *  - {@link ModuleBuilder} owns the module-level index spaces (types,
 *    imports, functions, exports) and serialises the sections in spec order.
 *  - {@link FunctionBuilder} appends instructions to one function body.
 *    Plain (immediate-free) instructions are emitted through the typed
 *    {@link FunctionBuilder.op} method, driven by the opcode tables below;
 *    instructions with immediates have dedicated methods.
 *
 * The builders check everything that is cheap to check structurally (balanced
 * blocks, index ranges, immediate ranges, lane indices, alignment) and throw
 * descriptive errors. They do not track operand types on the value stack: use
 * `WebAssembly.validate` / `new WebAssembly.Module` for full validation.
 */

// ---------------------------------------------------------------------------
// Value types
// ---------------------------------------------------------------------------

/** WebAssembly number and vector value types. */
export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128';

/** Binary encoding of each value type. */
const VALTYPE_CODE: Readonly<Record<ValType, number>> = Object.freeze({
  i32: 0x7f,
  i64: 0x7e,
  f32: 0x7d,
  f64: 0x7c,
  v128: 0x7b,
});

/** Block type byte meaning "no results" (`[] -> []`). */
const BLOCKTYPE_EMPTY = 0x40;

function assertValType(t: ValType, what: string): void {
  if (!Object.prototype.hasOwnProperty.call(VALTYPE_CODE, t)) {
    throw new TypeError(`${what}: unknown value type ${JSON.stringify(t)}`);
  }
}

// ---------------------------------------------------------------------------
// Opcode tables
// ---------------------------------------------------------------------------

/** Single-byte instructions without immediates. */
export const CORE_OPCODES = Object.freeze({
  // parametric / control without immediates
  'nop': 0x01,
  'unreachable': 0x00,
  'return': 0x0f,
  'drop': 0x1a,
  'select': 0x1b,

  // i32 comparisons
  'i32.eqz': 0x45, 'i32.eq': 0x46, 'i32.ne': 0x47,
  'i32.lt_s': 0x48, 'i32.lt_u': 0x49, 'i32.gt_s': 0x4a, 'i32.gt_u': 0x4b,
  'i32.le_s': 0x4c, 'i32.le_u': 0x4d, 'i32.ge_s': 0x4e, 'i32.ge_u': 0x4f,
  // i64 comparisons
  'i64.eqz': 0x50, 'i64.eq': 0x51, 'i64.ne': 0x52,
  'i64.lt_s': 0x53, 'i64.lt_u': 0x54, 'i64.gt_s': 0x55, 'i64.gt_u': 0x56,
  'i64.le_s': 0x57, 'i64.le_u': 0x58, 'i64.ge_s': 0x59, 'i64.ge_u': 0x5a,
  // f32 comparisons
  'f32.eq': 0x5b, 'f32.ne': 0x5c, 'f32.lt': 0x5d, 'f32.gt': 0x5e, 'f32.le': 0x5f, 'f32.ge': 0x60,
  // f64 comparisons
  'f64.eq': 0x61, 'f64.ne': 0x62, 'f64.lt': 0x63, 'f64.gt': 0x64, 'f64.le': 0x65, 'f64.ge': 0x66,

  // i32 arithmetic
  'i32.clz': 0x67, 'i32.ctz': 0x68, 'i32.popcnt': 0x69,
  'i32.add': 0x6a, 'i32.sub': 0x6b, 'i32.mul': 0x6c,
  'i32.div_s': 0x6d, 'i32.div_u': 0x6e, 'i32.rem_s': 0x6f, 'i32.rem_u': 0x70,
  'i32.and': 0x71, 'i32.or': 0x72, 'i32.xor': 0x73,
  'i32.shl': 0x74, 'i32.shr_s': 0x75, 'i32.shr_u': 0x76, 'i32.rotl': 0x77, 'i32.rotr': 0x78,
  // i64 arithmetic
  'i64.clz': 0x79, 'i64.ctz': 0x7a, 'i64.popcnt': 0x7b,
  'i64.add': 0x7c, 'i64.sub': 0x7d, 'i64.mul': 0x7e,
  'i64.div_s': 0x7f, 'i64.div_u': 0x80, 'i64.rem_s': 0x81, 'i64.rem_u': 0x82,
  'i64.and': 0x83, 'i64.or': 0x84, 'i64.xor': 0x85,
  'i64.shl': 0x86, 'i64.shr_s': 0x87, 'i64.shr_u': 0x88, 'i64.rotl': 0x89, 'i64.rotr': 0x8a,
  // f32 arithmetic
  'f32.abs': 0x8b, 'f32.neg': 0x8c, 'f32.ceil': 0x8d, 'f32.floor': 0x8e,
  'f32.trunc': 0x8f, 'f32.nearest': 0x90, 'f32.sqrt': 0x91,
  'f32.add': 0x92, 'f32.sub': 0x93, 'f32.mul': 0x94, 'f32.div': 0x95,
  'f32.min': 0x96, 'f32.max': 0x97, 'f32.copysign': 0x98,
  // f64 arithmetic
  'f64.abs': 0x99, 'f64.neg': 0x9a, 'f64.ceil': 0x9b, 'f64.floor': 0x9c,
  'f64.trunc': 0x9d, 'f64.nearest': 0x9e, 'f64.sqrt': 0x9f,
  'f64.add': 0xa0, 'f64.sub': 0xa1, 'f64.mul': 0xa2, 'f64.div': 0xa3,
  'f64.min': 0xa4, 'f64.max': 0xa5, 'f64.copysign': 0xa6,

  // conversions
  'i32.wrap_i64': 0xa7,
  'i32.trunc_f32_s': 0xa8, 'i32.trunc_f32_u': 0xa9, 'i32.trunc_f64_s': 0xaa, 'i32.trunc_f64_u': 0xab,
  'i64.extend_i32_s': 0xac, 'i64.extend_i32_u': 0xad,
  'i64.trunc_f32_s': 0xae, 'i64.trunc_f32_u': 0xaf, 'i64.trunc_f64_s': 0xb0, 'i64.trunc_f64_u': 0xb1,
  'f32.convert_i32_s': 0xb2, 'f32.convert_i32_u': 0xb3, 'f32.convert_i64_s': 0xb4, 'f32.convert_i64_u': 0xb5,
  'f32.demote_f64': 0xb6,
  'f64.convert_i32_s': 0xb7, 'f64.convert_i32_u': 0xb8, 'f64.convert_i64_s': 0xb9, 'f64.convert_i64_u': 0xba,
  'f64.promote_f32': 0xbb,
  'i32.reinterpret_f32': 0xbc, 'i64.reinterpret_f64': 0xbd,
  'f32.reinterpret_i32': 0xbe, 'f64.reinterpret_i64': 0xbf,
  // sign extension
  'i32.extend8_s': 0xc0, 'i32.extend16_s': 0xc1,
  'i64.extend8_s': 0xc2, 'i64.extend16_s': 0xc3, 'i64.extend32_s': 0xc4,
} as const);

/** Non-trapping float-to-int conversions: prefix 0xFC + u32 sub-opcode. */
export const SAT_OPCODES = Object.freeze({
  'i32.trunc_sat_f32_s': 0, 'i32.trunc_sat_f32_u': 1,
  'i32.trunc_sat_f64_s': 2, 'i32.trunc_sat_f64_u': 3,
  'i64.trunc_sat_f32_s': 4, 'i64.trunc_sat_f32_u': 5,
  'i64.trunc_sat_f64_s': 6, 'i64.trunc_sat_f64_u': 7,
} as const);

/**
 * SIMD128 and relaxed-SIMD instructions without immediates: prefix 0xFD +
 * u32 (LEB128) sub-opcode.
 */
export const SIMD_OPCODES = Object.freeze({
  'i8x16.swizzle': 0x0e,
  'i8x16.splat': 0x0f, 'i16x8.splat': 0x10, 'i32x4.splat': 0x11,
  'i64x2.splat': 0x12, 'f32x4.splat': 0x13, 'f64x2.splat': 0x14,

  'i8x16.eq': 0x23, 'i8x16.ne': 0x24, 'i8x16.lt_s': 0x25, 'i8x16.lt_u': 0x26,
  'i8x16.gt_s': 0x27, 'i8x16.gt_u': 0x28, 'i8x16.le_s': 0x29, 'i8x16.le_u': 0x2a,
  'i8x16.ge_s': 0x2b, 'i8x16.ge_u': 0x2c,
  'i16x8.eq': 0x2d, 'i16x8.ne': 0x2e, 'i16x8.lt_s': 0x2f, 'i16x8.lt_u': 0x30,
  'i16x8.gt_s': 0x31, 'i16x8.gt_u': 0x32, 'i16x8.le_s': 0x33, 'i16x8.le_u': 0x34,
  'i16x8.ge_s': 0x35, 'i16x8.ge_u': 0x36,
  'i32x4.eq': 0x37, 'i32x4.ne': 0x38, 'i32x4.lt_s': 0x39, 'i32x4.lt_u': 0x3a,
  'i32x4.gt_s': 0x3b, 'i32x4.gt_u': 0x3c, 'i32x4.le_s': 0x3d, 'i32x4.le_u': 0x3e,
  'i32x4.ge_s': 0x3f, 'i32x4.ge_u': 0x40,
  'f32x4.eq': 0x41, 'f32x4.ne': 0x42, 'f32x4.lt': 0x43, 'f32x4.gt': 0x44,
  'f32x4.le': 0x45, 'f32x4.ge': 0x46,
  'f64x2.eq': 0x47, 'f64x2.ne': 0x48, 'f64x2.lt': 0x49, 'f64x2.gt': 0x4a,
  'f64x2.le': 0x4b, 'f64x2.ge': 0x4c,

  'v128.not': 0x4d, 'v128.and': 0x4e, 'v128.andnot': 0x4f, 'v128.or': 0x50,
  'v128.xor': 0x51, 'v128.bitselect': 0x52, 'v128.any_true': 0x53,

  'f32x4.demote_f64x2_zero': 0x5e, 'f64x2.promote_low_f32x4': 0x5f,

  'i8x16.abs': 0x60, 'i8x16.neg': 0x61, 'i8x16.popcnt': 0x62, 'i8x16.all_true': 0x63,
  'i8x16.bitmask': 0x64, 'i8x16.narrow_i16x8_s': 0x65, 'i8x16.narrow_i16x8_u': 0x66,
  'f32x4.ceil': 0x67, 'f32x4.floor': 0x68, 'f32x4.trunc': 0x69, 'f32x4.nearest': 0x6a,
  'i8x16.shl': 0x6b, 'i8x16.shr_s': 0x6c, 'i8x16.shr_u': 0x6d,
  'i8x16.add': 0x6e, 'i8x16.add_sat_s': 0x6f, 'i8x16.add_sat_u': 0x70,
  'i8x16.sub': 0x71, 'i8x16.sub_sat_s': 0x72, 'i8x16.sub_sat_u': 0x73,
  'f64x2.ceil': 0x74, 'f64x2.floor': 0x75,
  'i8x16.min_s': 0x76, 'i8x16.min_u': 0x77, 'i8x16.max_s': 0x78, 'i8x16.max_u': 0x79,
  'f64x2.trunc': 0x7a, 'i8x16.avgr_u': 0x7b,
  'i16x8.extadd_pairwise_i8x16_s': 0x7c, 'i16x8.extadd_pairwise_i8x16_u': 0x7d,
  'i32x4.extadd_pairwise_i16x8_s': 0x7e, 'i32x4.extadd_pairwise_i16x8_u': 0x7f,

  'i16x8.abs': 0x80, 'i16x8.neg': 0x81, 'i16x8.q15mulr_sat_s': 0x82, 'i16x8.all_true': 0x83,
  'i16x8.bitmask': 0x84, 'i16x8.narrow_i32x4_s': 0x85, 'i16x8.narrow_i32x4_u': 0x86,
  'i16x8.extend_low_i8x16_s': 0x87, 'i16x8.extend_high_i8x16_s': 0x88,
  'i16x8.extend_low_i8x16_u': 0x89, 'i16x8.extend_high_i8x16_u': 0x8a,
  'i16x8.shl': 0x8b, 'i16x8.shr_s': 0x8c, 'i16x8.shr_u': 0x8d,
  'i16x8.add': 0x8e, 'i16x8.add_sat_s': 0x8f, 'i16x8.add_sat_u': 0x90,
  'i16x8.sub': 0x91, 'i16x8.sub_sat_s': 0x92, 'i16x8.sub_sat_u': 0x93,
  'f64x2.nearest': 0x94, 'i16x8.mul': 0x95,
  'i16x8.min_s': 0x96, 'i16x8.min_u': 0x97, 'i16x8.max_s': 0x98, 'i16x8.max_u': 0x99,
  'i16x8.avgr_u': 0x9b,
  'i16x8.extmul_low_i8x16_s': 0x9c, 'i16x8.extmul_high_i8x16_s': 0x9d,
  'i16x8.extmul_low_i8x16_u': 0x9e, 'i16x8.extmul_high_i8x16_u': 0x9f,

  'i32x4.abs': 0xa0, 'i32x4.neg': 0xa1, 'i32x4.all_true': 0xa3, 'i32x4.bitmask': 0xa4,
  'i32x4.extend_low_i16x8_s': 0xa7, 'i32x4.extend_high_i16x8_s': 0xa8,
  'i32x4.extend_low_i16x8_u': 0xa9, 'i32x4.extend_high_i16x8_u': 0xaa,
  'i32x4.shl': 0xab, 'i32x4.shr_s': 0xac, 'i32x4.shr_u': 0xad,
  'i32x4.add': 0xae, 'i32x4.sub': 0xb1, 'i32x4.mul': 0xb5,
  'i32x4.min_s': 0xb6, 'i32x4.min_u': 0xb7, 'i32x4.max_s': 0xb8, 'i32x4.max_u': 0xb9,
  'i32x4.dot_i16x8_s': 0xba,
  'i32x4.extmul_low_i16x8_s': 0xbc, 'i32x4.extmul_high_i16x8_s': 0xbd,
  'i32x4.extmul_low_i16x8_u': 0xbe, 'i32x4.extmul_high_i16x8_u': 0xbf,

  'i64x2.abs': 0xc0, 'i64x2.neg': 0xc1, 'i64x2.all_true': 0xc3, 'i64x2.bitmask': 0xc4,
  'i64x2.extend_low_i32x4_s': 0xc7, 'i64x2.extend_high_i32x4_s': 0xc8,
  'i64x2.extend_low_i32x4_u': 0xc9, 'i64x2.extend_high_i32x4_u': 0xca,
  'i64x2.shl': 0xcb, 'i64x2.shr_s': 0xcc, 'i64x2.shr_u': 0xcd,
  'i64x2.add': 0xce, 'i64x2.sub': 0xd1, 'i64x2.mul': 0xd5,
  'i64x2.eq': 0xd6, 'i64x2.ne': 0xd7, 'i64x2.lt_s': 0xd8, 'i64x2.gt_s': 0xd9,
  'i64x2.le_s': 0xda, 'i64x2.ge_s': 0xdb,
  'i64x2.extmul_low_i32x4_s': 0xdc, 'i64x2.extmul_high_i32x4_s': 0xdd,
  'i64x2.extmul_low_i32x4_u': 0xde, 'i64x2.extmul_high_i32x4_u': 0xdf,

  'f32x4.abs': 0xe0, 'f32x4.neg': 0xe1, 'f32x4.sqrt': 0xe3,
  'f32x4.add': 0xe4, 'f32x4.sub': 0xe5, 'f32x4.mul': 0xe6, 'f32x4.div': 0xe7,
  'f32x4.min': 0xe8, 'f32x4.max': 0xe9, 'f32x4.pmin': 0xea, 'f32x4.pmax': 0xeb,
  'f64x2.abs': 0xec, 'f64x2.neg': 0xed, 'f64x2.sqrt': 0xef,
  'f64x2.add': 0xf0, 'f64x2.sub': 0xf1, 'f64x2.mul': 0xf2, 'f64x2.div': 0xf3,
  'f64x2.min': 0xf4, 'f64x2.max': 0xf5, 'f64x2.pmin': 0xf6, 'f64x2.pmax': 0xf7,

  'i32x4.trunc_sat_f32x4_s': 0xf8, 'i32x4.trunc_sat_f32x4_u': 0xf9,
  'f32x4.convert_i32x4_s': 0xfa, 'f32x4.convert_i32x4_u': 0xfb,
  'i32x4.trunc_sat_f64x2_s_zero': 0xfc, 'i32x4.trunc_sat_f64x2_u_zero': 0xfd,
  'f64x2.convert_low_i32x4_s': 0xfe, 'f64x2.convert_low_i32x4_u': 0xff,

  // relaxed SIMD
  'i8x16.relaxed_swizzle': 0x100,
  'i32x4.relaxed_trunc_f32x4_s': 0x101, 'i32x4.relaxed_trunc_f32x4_u': 0x102,
  'i32x4.relaxed_trunc_f64x2_s_zero': 0x103, 'i32x4.relaxed_trunc_f64x2_u_zero': 0x104,
  'f32x4.relaxed_madd': 0x105, 'f32x4.relaxed_nmadd': 0x106,
  'f64x2.relaxed_madd': 0x107, 'f64x2.relaxed_nmadd': 0x108,
  'i8x16.relaxed_laneselect': 0x109, 'i16x8.relaxed_laneselect': 0x10a,
  'i32x4.relaxed_laneselect': 0x10b, 'i64x2.relaxed_laneselect': 0x10c,
  'f32x4.relaxed_min': 0x10d, 'f32x4.relaxed_max': 0x10e,
  'f64x2.relaxed_min': 0x10f, 'f64x2.relaxed_max': 0x110,
  'i16x8.relaxed_q15mulr_s': 0x111,
  'i16x8.relaxed_dot_i8x16_i7x16_s': 0x112,
  'i32x4.relaxed_dot_i8x16_i7x16_add_s': 0x113,
} as const);

/** SIMD lane access instructions (immediate: one lane-index byte). */
export const LANE_OPCODES = Object.freeze({
  'i8x16.extract_lane_s': { code: 0x15, lanes: 16 },
  'i8x16.extract_lane_u': { code: 0x16, lanes: 16 },
  'i8x16.replace_lane': { code: 0x17, lanes: 16 },
  'i16x8.extract_lane_s': { code: 0x18, lanes: 8 },
  'i16x8.extract_lane_u': { code: 0x19, lanes: 8 },
  'i16x8.replace_lane': { code: 0x1a, lanes: 8 },
  'i32x4.extract_lane': { code: 0x1b, lanes: 4 },
  'i32x4.replace_lane': { code: 0x1c, lanes: 4 },
  'i64x2.extract_lane': { code: 0x1d, lanes: 2 },
  'i64x2.replace_lane': { code: 0x1e, lanes: 2 },
  'f32x4.extract_lane': { code: 0x1f, lanes: 4 },
  'f32x4.replace_lane': { code: 0x20, lanes: 4 },
  'f64x2.extract_lane': { code: 0x21, lanes: 2 },
  'f64x2.replace_lane': { code: 0x22, lanes: 2 },
} as const);

/** Memory access opcode: optional prefix byte, sub-opcode and natural alignment (log2 bytes). */
interface MemOpInfo {
  readonly prefix?: number;
  readonly code: number;
  readonly naturalAlign: number;
}

/** Load instructions (immediate: memarg). */
export const LOAD_OPCODES = Object.freeze({
  'i32.load': { code: 0x28, naturalAlign: 2 },
  'i64.load': { code: 0x29, naturalAlign: 3 },
  'f32.load': { code: 0x2a, naturalAlign: 2 },
  'f64.load': { code: 0x2b, naturalAlign: 3 },
  'i32.load8_s': { code: 0x2c, naturalAlign: 0 },
  'i32.load8_u': { code: 0x2d, naturalAlign: 0 },
  'i32.load16_s': { code: 0x2e, naturalAlign: 1 },
  'i32.load16_u': { code: 0x2f, naturalAlign: 1 },
  'i64.load8_s': { code: 0x30, naturalAlign: 0 },
  'i64.load8_u': { code: 0x31, naturalAlign: 0 },
  'i64.load16_s': { code: 0x32, naturalAlign: 1 },
  'i64.load16_u': { code: 0x33, naturalAlign: 1 },
  'i64.load32_s': { code: 0x34, naturalAlign: 2 },
  'i64.load32_u': { code: 0x35, naturalAlign: 2 },
  'v128.load': { prefix: 0xfd, code: 0x00, naturalAlign: 4 },
  'v128.load8x8_s': { prefix: 0xfd, code: 0x01, naturalAlign: 3 },
  'v128.load8x8_u': { prefix: 0xfd, code: 0x02, naturalAlign: 3 },
  'v128.load16x4_s': { prefix: 0xfd, code: 0x03, naturalAlign: 3 },
  'v128.load16x4_u': { prefix: 0xfd, code: 0x04, naturalAlign: 3 },
  'v128.load32x2_s': { prefix: 0xfd, code: 0x05, naturalAlign: 3 },
  'v128.load32x2_u': { prefix: 0xfd, code: 0x06, naturalAlign: 3 },
  'v128.load8_splat': { prefix: 0xfd, code: 0x07, naturalAlign: 0 },
  'v128.load16_splat': { prefix: 0xfd, code: 0x08, naturalAlign: 1 },
  'v128.load32_splat': { prefix: 0xfd, code: 0x09, naturalAlign: 2 },
  'v128.load64_splat': { prefix: 0xfd, code: 0x0a, naturalAlign: 3 },
  'v128.load32_zero': { prefix: 0xfd, code: 0x5c, naturalAlign: 2 },
  'v128.load64_zero': { prefix: 0xfd, code: 0x5d, naturalAlign: 3 },
} as const satisfies Record<string, MemOpInfo>);

/** Store instructions (immediate: memarg). */
export const STORE_OPCODES = Object.freeze({
  'i32.store': { code: 0x36, naturalAlign: 2 },
  'i64.store': { code: 0x37, naturalAlign: 3 },
  'f32.store': { code: 0x38, naturalAlign: 2 },
  'f64.store': { code: 0x39, naturalAlign: 3 },
  'i32.store8': { code: 0x3a, naturalAlign: 0 },
  'i32.store16': { code: 0x3b, naturalAlign: 1 },
  'i64.store8': { code: 0x3c, naturalAlign: 0 },
  'i64.store16': { code: 0x3d, naturalAlign: 1 },
  'i64.store32': { code: 0x3e, naturalAlign: 2 },
  'v128.store': { prefix: 0xfd, code: 0x0b, naturalAlign: 4 },
} as const satisfies Record<string, MemOpInfo>);

/** Single-byte core instruction without immediates. */
export type CoreOp = keyof typeof CORE_OPCODES;
/** Saturating float-to-int conversion (0xFC prefix). */
export type SatOp = keyof typeof SAT_OPCODES;
/** SIMD / relaxed-SIMD instruction without immediates (0xFD prefix). */
export type SimdOp = keyof typeof SIMD_OPCODES;
/** Any instruction accepted by {@link FunctionBuilder.op}. */
export type PlainOp = CoreOp | SatOp | SimdOp;
/** SIMD lane extract / replace instruction. */
export type LaneOp = keyof typeof LANE_OPCODES;
/** Load instruction mnemonic. */
export type LoadOp = keyof typeof LOAD_OPCODES;
/** Store instruction mnemonic. */
export type StoreOp = keyof typeof STORE_OPCODES;

const PREFIX_FC = 0xfc;
const PREFIX_SIMD = 0xfd;

interface PlainOpInfo {
  readonly prefix: number | undefined;
  readonly code: number;
}

/** Merged lookup for {@link FunctionBuilder.op}: mnemonic -> encoding. */
const PLAIN_OPS: ReadonlyMap<PlainOp, PlainOpInfo> = (() => {
  const m = new Map<PlainOp, PlainOpInfo>();
  for (const [name, code] of Object.entries(CORE_OPCODES)) m.set(name as CoreOp, { prefix: undefined, code });
  for (const [name, code] of Object.entries(SAT_OPCODES)) m.set(name as SatOp, { prefix: PREFIX_FC, code });
  for (const [name, code] of Object.entries(SIMD_OPCODES)) m.set(name as SimdOp, { prefix: PREFIX_SIMD, code });
  return m;
})();

/** All mnemonics accepted by {@link FunctionBuilder.op}, in table order. */
export const PLAIN_OP_NAMES: readonly PlainOp[] = Object.freeze([...PLAIN_OPS.keys()]);

// ---------------------------------------------------------------------------
// Byte writer and LEB128
// ---------------------------------------------------------------------------

const TWO_POW_32 = 0x1_0000_0000;

/** Growable byte buffer with WebAssembly primitive encoders. */
class ByteWriter {
  private buf: Uint8Array<ArrayBuffer> = new Uint8Array(64);
  private len = 0;

  get length(): number {
    return this.len;
  }

  private reserve(n: number): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b & 0xff;
  }

  bytes(src: ArrayLike<number>): void {
    this.reserve(src.length);
    this.buf.set(src, this.len);
    this.len += src.length;
  }

  /** Unsigned LEB128 of any non-negative safe integer or bigint. */
  uleb(value: number | bigint): void {
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new RangeError(`unsigned LEB128: ${value} is not a non-negative safe integer`);
      }
      let v = value;
      do {
        let b = v % 128;
        v = Math.floor(v / 128);
        if (v !== 0) b |= 0x80;
        this.byte(b);
      } while (v !== 0);
    } else {
      if (value < 0n) throw new RangeError(`unsigned LEB128: ${value} is negative`);
      let v = value;
      do {
        let b = Number(v & 0x7fn);
        v >>= 7n;
        if (v !== 0n) b |= 0x80;
        this.byte(b);
      } while (v !== 0n);
    }
  }

  /** Signed LEB128 of any safe integer or bigint (minimal length). */
  sleb(value: number | bigint): void {
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) {
        throw new RangeError(`signed LEB128: ${value} is not a safe integer`);
      }
      let v = value;
      for (;;) {
        const q = Math.floor(v / 128); // arithmetic shift right by 7
        const b = (v - q * 128) | 0; // low 7 bits, 0..127 (also for negatives)
        v = q;
        const signBitSet = (b & 0x40) !== 0;
        if ((v === 0 && !signBitSet) || (v === -1 && signBitSet)) {
          this.byte(b);
          return;
        }
        this.byte(b | 0x80);
      }
    } else {
      let v = value;
      for (;;) {
        const b = Number(v & 0x7fn);
        v >>= 7n; // bigint >> is arithmetic
        const signBitSet = (b & 0x40) !== 0;
        if ((v === 0n && !signBitSet) || (v === -1n && signBitSet)) {
          this.byte(b);
          return;
        }
        this.byte(b | 0x80);
      }
    }
  }

  /** u32 as unsigned LEB128, range-checked. */
  u32(value: number, what = 'u32'): void {
    if (!Number.isInteger(value) || value < 0 || value >= TWO_POW_32) {
      throw new RangeError(`${what}: ${value} is not a u32`);
    }
    this.uleb(value);
  }

  f32(x: number): void {
    const dv = new DataView(new ArrayBuffer(4));
    if (Number.isNaN(x)) dv.setUint32(0, 0x7fc0_0000, true); // canonical quiet NaN
    else dv.setFloat32(0, x, true);
    this.bytes(new Uint8Array(dv.buffer));
  }

  f64(x: number): void {
    const dv = new DataView(new ArrayBuffer(8));
    if (Number.isNaN(x)) dv.setBigUint64(0, 0x7ff8_0000_0000_0000n, true); // canonical quiet NaN
    else dv.setFloat64(0, x, true);
    this.bytes(new Uint8Array(dv.buffer));
  }

  /** UTF-8 name with a u32 byte-length prefix. */
  name(s: string): void {
    const utf8 = new TextEncoder().encode(s);
    this.u32(utf8.length, 'name length');
    this.bytes(utf8);
  }

  /** Length-prefixed copy of another writer's contents or of raw bytes (sections, bodies). */
  sized(inner: ByteWriter | Uint8Array): void {
    const bytes = inner instanceof ByteWriter ? inner.view() : inner;
    this.u32(bytes.length, 'size');
    this.bytes(bytes);
  }

  /** Zero-copy view of the written bytes (valid until the next write). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  /** Copy of the written bytes. */
  toBytes(): Uint8Array<ArrayBuffer> {
    return this.buf.slice(0, this.len);
  }
}

/** Unsigned LEB128 encoding of a non-negative integer (number must be a safe integer). */
export function encodeULEB128(value: number | bigint): Uint8Array<ArrayBuffer> {
  const w = new ByteWriter();
  w.uleb(value);
  return w.toBytes();
}

/** Signed LEB128 encoding of an integer (number must be a safe integer). */
export function encodeSLEB128(value: number | bigint): Uint8Array<ArrayBuffer> {
  const w = new ByteWriter();
  w.sleb(value);
  return w.toBytes();
}

// ---------------------------------------------------------------------------
// Function builder
// ---------------------------------------------------------------------------

/** Memory operand: `align` is log2 of the byte alignment (defaults to natural), `offset` a u32. */
export interface MemArg {
  align?: number;
  offset?: number;
}

type ControlKind = 'block' | 'loop' | 'if' | 'else';

interface ControlFrame {
  readonly kind: ControlKind;
  readonly resultType: ValType | undefined;
}

const I32_MIN = -0x8000_0000;
const I32_UMAX = 0xffff_ffff;
const I64_MIN = -(1n << 63n);
const I64_UMAX = (1n << 64n) - 1n;

/**
 * Builds one function body. Obtained from {@link ModuleBuilder.addFunction};
 * every instruction emitter returns `this`, so calls can be chained:
 * `f.localGet(0).localGet(1).op('i32.add')`.
 *
 * Labels are raw relative depths, as in the binary format: `br(0)` targets the
 * innermost enclosing block/loop/if; the function body itself is the
 * outermost label. The function's final `end` is emitted automatically.
 */
export class FunctionBuilder {
  /** This function's index in the module's function index space. */
  readonly index: number;
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];

  private readonly locals: ValType[] = [];
  private readonly code = new ByteWriter();
  private readonly control: ControlFrame[] = [];
  private finished = false;
  /** Largest function index referenced by `call` (checked by the module at build time). */
  private maxCallee = -1;
  private memoryUse = false;

  /** @internal Created by {@link ModuleBuilder.addFunction}. */
  constructor(index: number, params: readonly ValType[], results: readonly ValType[]) {
    this.index = index;
    this.params = Object.freeze([...params]);
    this.results = Object.freeze([...results]);
  }

  /** Total number of locals including parameters. */
  get localCount(): number {
    return this.params.length + this.locals.length;
  }

  /** Type of local `index` (parameters first). */
  localType(index: number): ValType {
    this.checkLocal(index);
    return index < this.params.length ? this.params[index]! : this.locals[index - this.params.length]!;
  }

  /** Declares a new local (zero-initialised) and returns its index. Parameters occupy the first indices. */
  addLocal(type: ValType): number {
    this.assertOpen();
    assertValType(type, 'addLocal');
    this.locals.push(type);
    return this.localCount - 1;
  }

  // --- plain instructions --------------------------------------------------

  /** Emits an instruction that has no immediates (core, 0xFC saturating, 0xFD SIMD or relaxed SIMD). */
  op(name: PlainOp): this {
    this.assertOpen();
    const info = PLAIN_OPS.get(name);
    if (info === undefined) throw new TypeError(`op: unknown instruction ${JSON.stringify(name)}`);
    if (info.prefix !== undefined) {
      this.code.byte(info.prefix);
      this.code.uleb(info.code);
    } else {
      this.code.byte(info.code);
    }
    return this;
  }

  // --- control --------------------------------------------------------------

  unreachable(): this {
    return this.op('unreachable');
  }

  nop(): this {
    return this.op('nop');
  }

  /** `block` with no result, or one result of `resultType`. Close with {@link end}. */
  block(resultType?: ValType): this {
    return this.open('block', 0x02, resultType);
  }

  /** `loop`; `br` to it jumps back to the start. Close with {@link end}. */
  loop(resultType?: ValType): this {
    return this.open('loop', 0x03, resultType);
  }

  /** `if` consuming an i32 condition. Optionally {@link else_}, then {@link end}. */
  if_(resultType?: ValType): this {
    return this.open('if', 0x04, resultType);
  }

  else_(): this {
    this.assertOpen();
    const top = this.control[this.control.length - 1];
    if (top === undefined || top.kind !== 'if') {
      throw new Error(`else_(): no open if_() to attach to (innermost is ${top?.kind ?? 'the function body'})`);
    }
    this.control[this.control.length - 1] = { kind: 'else', resultType: top.resultType };
    this.code.byte(0x05);
    return this;
  }

  /** Closes the innermost block/loop/if. The function body's own `end` is automatic. */
  end(): this {
    this.assertOpen();
    const top = this.control.pop();
    if (top === undefined) {
      throw new Error('end(): no open block; the function body end is emitted automatically');
    }
    if (top.kind === 'if' && top.resultType !== undefined) {
      throw new Error(`end(): an if_('${top.resultType}') with a result needs an else_() branch`);
    }
    this.code.byte(0x0b);
    return this;
  }

  br(depth: number): this {
    return this.branch(0x0c, depth);
  }

  brIf(depth: number): this {
    return this.branch(0x0d, depth);
  }

  /** `br_table`: branches to `depths[i]` for operand i, else to `defaultDepth`. */
  brTable(depths: readonly number[], defaultDepth: number): this {
    this.assertOpen();
    for (const d of depths) this.checkDepth(d);
    this.checkDepth(defaultDepth);
    this.code.byte(0x0e);
    this.code.u32(depths.length, 'br_table length');
    for (const d of depths) this.code.u32(d);
    this.code.u32(defaultDepth);
    return this;
  }

  return_(): this {
    return this.op('return');
  }

  /** Calls function `funcIndex` (imported or defined; forward references are allowed). */
  call(funcIndex: number): this {
    this.assertOpen();
    this.code.byte(0x10);
    this.code.u32(funcIndex, 'call: function index');
    this.maxCallee = Math.max(this.maxCallee, funcIndex);
    return this;
  }

  // --- parametric -----------------------------------------------------------

  drop(): this {
    return this.op('drop');
  }

  /** `select`; with `type` emits the typed form (0x1C), otherwise the untyped one. */
  select(type?: ValType): this {
    if (type === undefined) return this.op('select');
    this.assertOpen();
    assertValType(type, 'select');
    this.code.byte(0x1c);
    this.code.u32(1);
    this.code.byte(VALTYPE_CODE[type]);
    return this;
  }

  // --- variables --------------------------------------------------------------

  localGet(index: number): this {
    return this.localOp(0x20, index);
  }

  localSet(index: number): this {
    return this.localOp(0x21, index);
  }

  localTee(index: number): this {
    return this.localOp(0x22, index);
  }

  // --- constants ----------------------------------------------------------------

  /**
   * `i32.const`. Accepts signed (-2^31..2^31-1) or unsigned (..2^32-1) 32-bit
   * values; unsigned values are reinterpreted as two's complement.
   */
  i32Const(n: number): this {
    this.assertOpen();
    if (!Number.isInteger(n) || n < I32_MIN || n > I32_UMAX) {
      throw new RangeError(`i32Const: ${n} is not a 32-bit integer`);
    }
    this.code.byte(0x41);
    this.code.sleb(n | 0);
    return this;
  }

  /** `i64.const`. Accepts -2^63..2^64-1; values >= 2^63 are reinterpreted as two's complement. */
  i64Const(n: bigint): this {
    this.assertOpen();
    if (typeof n !== 'bigint' || n < I64_MIN || n > I64_UMAX) {
      throw new RangeError(`i64Const: ${String(n)} is not a 64-bit integer`);
    }
    this.code.byte(0x42);
    this.code.sleb(BigInt.asIntN(64, n));
    return this;
  }

  /** `f32.const`; `x` is rounded to single precision. NaN is encoded as the canonical quiet NaN. */
  f32Const(x: number): this {
    this.assertOpen();
    this.code.byte(0x43);
    this.code.f32(x);
    return this;
  }

  /** `f64.const`. NaN is encoded as the canonical quiet NaN. */
  f64Const(x: number): this {
    this.assertOpen();
    this.code.byte(0x44);
    this.code.f64(x);
    return this;
  }

  /** `f32.const` from a raw IEEE-754 bit pattern (for NaN payloads). */
  f32ConstBits(bits: number): this {
    this.assertOpen();
    if (!Number.isInteger(bits) || bits < I32_MIN || bits > I32_UMAX) {
      throw new RangeError(`f32ConstBits: ${bits} is not a 32-bit pattern`);
    }
    const dv = new DataView(new ArrayBuffer(4));
    dv.setUint32(0, bits >>> 0, true);
    this.code.byte(0x43);
    this.code.bytes(new Uint8Array(dv.buffer));
    return this;
  }

  /** `f64.const` from a raw IEEE-754 bit pattern (for NaN payloads). */
  f64ConstBits(bits: bigint): this {
    this.assertOpen();
    if (bits < I64_MIN || bits > I64_UMAX) throw new RangeError(`f64ConstBits: ${bits} is not a 64-bit pattern`);
    const dv = new DataView(new ArrayBuffer(8));
    dv.setBigUint64(0, BigInt.asUintN(64, bits), true);
    this.code.byte(0x44);
    this.code.bytes(new Uint8Array(dv.buffer));
    return this;
  }

  /** `v128.const` from 16 raw bytes (lane 0 first, little-endian). */
  v128Const(bytes: ArrayLike<number>): this {
    this.assertOpen();
    if (bytes.length !== 16) throw new RangeError(`v128Const: expected 16 bytes, got ${bytes.length}`);
    for (let i = 0; i < 16; i++) {
      const b = bytes[i]!;
      if (!Number.isInteger(b) || b < 0 || b > 255) throw new RangeError(`v128Const: byte ${i} is ${b}`);
    }
    this.simdPrefix(0x0c);
    this.code.bytes(bytes);
    return this;
  }

  /** `v128.const` with four f32 lanes. */
  f32x4Const(lanes: readonly [number, number, number, number]): this {
    const f = new Float32Array(lanes);
    return this.v128Const(new Uint8Array(f.buffer));
  }

  /** `v128.const` with four i32 lanes (signed or unsigned 32-bit values). */
  i32x4Const(lanes: readonly [number, number, number, number]): this {
    for (const x of lanes) {
      if (!Number.isInteger(x) || x < I32_MIN || x > I32_UMAX) throw new RangeError(`i32x4Const: ${x} is not 32-bit`);
    }
    const a = new Int32Array(lanes.map((x) => x | 0));
    return this.v128Const(new Uint8Array(a.buffer));
  }

  /** SIMD lane extract / replace with a constant lane index. */
  laneOp(name: LaneOp, lane: number): this {
    this.assertOpen();
    const info = LANE_OPCODES[name];
    if (info === undefined) throw new TypeError(`laneOp: unknown instruction ${JSON.stringify(name)}`);
    if (!Number.isInteger(lane) || lane < 0 || lane >= info.lanes) {
      throw new RangeError(`laneOp(${name}): lane ${lane} out of range 0..${info.lanes - 1}`);
    }
    this.simdPrefix(info.code);
    this.code.byte(lane);
    return this;
  }

  /** `i8x16.shuffle` with 16 lane indices in 0..31. */
  i8x16Shuffle(lanes: readonly number[]): this {
    this.assertOpen();
    if (lanes.length !== 16) throw new RangeError(`i8x16Shuffle: expected 16 lane indices, got ${lanes.length}`);
    for (const l of lanes) {
      if (!Number.isInteger(l) || l < 0 || l > 31) throw new RangeError(`i8x16Shuffle: lane index ${l} out of range 0..31`);
    }
    this.simdPrefix(0x0d);
    this.code.bytes(lanes);
    return this;
  }

  // --- memory -----------------------------------------------------------------

  /**
   * Load. `kind` is a full mnemonic (`'i32.load8_u'`, `'v128.load32_splat'`, …)
   * or a value type as shorthand for its full-width load (`'f32'` = `f32.load`).
   */
  load(kind: LoadOp | ValType, memarg: MemArg = {}): this {
    const name: LoadOp = isValType(kind) ? (`${kind}.load` as LoadOp) : kind;
    const info: MemOpInfo | undefined = LOAD_OPCODES[name];
    if (info === undefined) throw new TypeError(`load: unknown instruction ${JSON.stringify(kind)}`);
    return this.memOp(name, info, memarg);
  }

  /** Store. `kind` is a full mnemonic (`'i64.store32'`, …) or a value type (`'v128'` = `v128.store`). */
  store(kind: StoreOp | ValType, memarg: MemArg = {}): this {
    const name: StoreOp = isValType(kind) ? (`${kind}.store` as StoreOp) : kind;
    const info: MemOpInfo | undefined = STORE_OPCODES[name];
    if (info === undefined) throw new TypeError(`store: unknown instruction ${JSON.stringify(kind)}`);
    return this.memOp(name, info, memarg);
  }

  /** `memory.size` (in 64 KiB pages). */
  memorySize(): this {
    this.assertOpen();
    this.memoryUse = true;
    this.code.byte(0x3f);
    this.code.byte(0x00);
    return this;
  }

  /** `memory.grow` by the i32 operand (pages); pushes the old size or -1. */
  memoryGrow(): this {
    this.assertOpen();
    this.memoryUse = true;
    this.code.byte(0x40);
    this.code.byte(0x00);
    return this;
  }

  // --- internals ----------------------------------------------------------------

  /** @internal Whether any instruction requires a linear memory. */
  get usesMemory(): boolean {
    return this.memoryUse;
  }

  /** @internal Largest function index passed to {@link call}, or -1. */
  get maxCalledIndex(): number {
    return this.maxCallee;
  }

  /** @internal Seals the body and returns its encoding (locals + code + end), without the size prefix. */
  finish(): Uint8Array {
    this.assertOpen();
    if (this.control.length > 0) {
      const open = this.control.map((c) => c.kind).join(', ');
      throw new Error(`function ${this.index}: ${this.control.length} unclosed block(s) (${open}); call end() for each`);
    }
    this.finished = true;
    const body = new ByteWriter();
    // Locals: run-length groups of consecutive locals with the same type.
    const groups: Array<{ count: number; type: ValType }> = [];
    for (const t of this.locals) {
      const last = groups[groups.length - 1];
      if (last !== undefined && last.type === t) last.count++;
      else groups.push({ count: 1, type: t });
    }
    body.u32(groups.length);
    for (const g of groups) {
      body.u32(g.count);
      body.byte(VALTYPE_CODE[g.type]);
    }
    body.bytes(this.code.view());
    body.byte(0x0b);
    return body.toBytes();
  }

  private assertOpen(): void {
    if (this.finished) throw new Error(`function ${this.index} is already finished; emit instructions inside the addFunction callback`);
  }

  private open(kind: ControlKind, opcode: number, resultType: ValType | undefined): this {
    this.assertOpen();
    this.code.byte(opcode);
    if (resultType === undefined) {
      this.code.byte(BLOCKTYPE_EMPTY);
    } else {
      assertValType(resultType, kind);
      this.code.byte(VALTYPE_CODE[resultType]);
    }
    this.control.push({ kind, resultType });
    return this;
  }

  private checkDepth(depth: number): void {
    // Valid label depths: the open blocks plus the function body itself.
    if (!Number.isInteger(depth) || depth < 0 || depth > this.control.length) {
      throw new RangeError(`branch depth ${depth} out of range 0..${this.control.length}`);
    }
  }

  private branch(opcode: number, depth: number): this {
    this.assertOpen();
    this.checkDepth(depth);
    this.code.byte(opcode);
    this.code.u32(depth);
    return this;
  }

  private checkLocal(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.localCount) {
      throw new RangeError(`local index ${index} out of range 0..${this.localCount - 1} (declare locals with addLocal first)`);
    }
  }

  private localOp(opcode: number, index: number): this {
    this.assertOpen();
    this.checkLocal(index);
    this.code.byte(opcode);
    this.code.u32(index);
    return this;
  }

  private simdPrefix(code: number): void {
    this.code.byte(PREFIX_SIMD);
    this.code.uleb(code);
  }

  private memOp(name: string, info: MemOpInfo, memarg: MemArg): this {
    this.assertOpen();
    const align = memarg.align ?? info.naturalAlign;
    const offset = memarg.offset ?? 0;
    if (!Number.isInteger(align) || align < 0 || align > info.naturalAlign) {
      throw new RangeError(`${name}: align ${align} (log2 bytes) must be in 0..${info.naturalAlign}`);
    }
    this.memoryUse = true;
    if (info.prefix !== undefined) {
      this.code.byte(info.prefix);
      this.code.uleb(info.code);
    } else {
      this.code.byte(info.code);
    }
    this.code.u32(align, `${name} align`);
    this.code.u32(offset, `${name} offset`);
    return this;
  }
}

function isValType(x: string): x is ValType {
  return Object.prototype.hasOwnProperty.call(VALTYPE_CODE, x);
}

// ---------------------------------------------------------------------------
// Module builder
// ---------------------------------------------------------------------------

/** Limits of an imported memory, in 64 KiB pages. A shared memory needs `maximum`. */
export interface MemoryLimits {
  initial: number;
  maximum?: number;
  shared?: boolean;
}

const MAX_PAGES = 65536;

const SECTION = {
  type: 1,
  import: 2,
  function: 3,
  export: 7,
  code: 10,
} as const;

const EXTERN_FUNC = 0x00;
const EXTERN_MEMORY = 0x02;

type ImportEntry =
  | { readonly kind: 'func'; readonly module: string; readonly name: string; readonly typeIndex: number }
  | { readonly kind: 'memory'; readonly module: string; readonly name: string; readonly limits: Readonly<MemoryLimits> };

interface DefinedFunction {
  readonly typeIndex: number;
  /** Encoded body (without size prefix); undefined while its builder callback is running. */
  body: Uint8Array | undefined;
  usesMemory: boolean;
  maxCallee: number;
}

/**
 * Builds a WebAssembly module. Function imports must all be declared before
 * the first {@link addFunction}: the function index space lists imports first,
 * and indices handed out earlier are baked into already-emitted `call`s.
 */
export class ModuleBuilder {
  private readonly types: Array<{ params: readonly ValType[]; results: readonly ValType[] }> = [];
  private readonly typeKeys = new Map<string, number>();
  private readonly imports: ImportEntry[] = [];
  private importedFuncCount = 0;
  private hasMemory = false;
  private readonly functions: DefinedFunction[] = [];
  private readonly exports = new Map<string, { kind: number; index: number }>();

  /** Number of entries in the function index space (imports + defined). */
  get functionCount(): number {
    return this.importedFuncCount + this.functions.length;
  }

  /** Imports the module's (single) linear memory. */
  importMemory(module: string, name: string, limits: MemoryLimits): void {
    if (this.hasMemory) throw new Error('importMemory: a module can have only one memory');
    const { initial, maximum, shared = false } = limits;
    const isPages = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= MAX_PAGES;
    if (!isPages(initial)) throw new RangeError(`importMemory: initial ${initial} must be 0..${MAX_PAGES} pages`);
    if (maximum !== undefined) {
      if (!isPages(maximum)) throw new RangeError(`importMemory: maximum ${maximum} must be 0..${MAX_PAGES} pages`);
      if (maximum < initial) throw new RangeError(`importMemory: maximum ${maximum} < initial ${initial}`);
    }
    if (shared && maximum === undefined) throw new Error('importMemory: a shared memory requires a maximum');
    this.hasMemory = true;
    this.imports.push({ kind: 'memory', module, name, limits: Object.freeze({ initial, maximum, shared }) });
  }

  /** Imports a host function and returns its function index. Must precede every {@link addFunction}. */
  importFunction(module: string, name: string, params: ValType[], results: ValType[]): number {
    if (this.functions.length > 0) {
      throw new Error(
        `importFunction(${module}.${name}): function imports must be declared before the first addFunction() ` +
          '(imports come first in the function index space)',
      );
    }
    const typeIndex = this.typeIndex(params, results);
    this.imports.push({ kind: 'func', module, name, typeIndex });
    return this.importedFuncCount++;
  }

  /**
   * Defines a function and returns its index. `build` emits the body; the
   * index is reserved before it runs (also available as `f.index`), so the
   * function can call itself.
   */
  addFunction(params: ValType[], results: ValType[], build: (f: FunctionBuilder) => void): number {
    const typeIndex = this.typeIndex(params, results);
    const index = this.functionCount;
    const entry: DefinedFunction = { typeIndex, body: undefined, usesMemory: false, maxCallee: -1 };
    this.functions.push(entry);
    const f = new FunctionBuilder(index, params, results);
    build(f);
    entry.body = f.finish();
    entry.usesMemory = f.usesMemory;
    entry.maxCallee = f.maxCalledIndex;
    return index;
  }

  /** Bytes of the encoded body of defined function `funcIndex` (once its addFunction returned). */
  bodySize(funcIndex: number): number {
    const fn = this.functions[funcIndex - this.importedFuncCount];
    if (!fn?.body) throw new RangeError(`bodySize: function ${funcIndex} is not a defined function with a body`);
    return fn.body.byteLength;
  }

  get exportCount(): number {
    return this.exports.size;
  }

  /** Exports function `funcIndex` under `name`. */
  exportFunction(name: string, funcIndex: number): void {
    if (this.exports.has(name)) throw new Error(`exportFunction: duplicate export name ${JSON.stringify(name)}`);
    if (!Number.isInteger(funcIndex) || funcIndex < 0 || funcIndex >= this.functionCount) {
      throw new RangeError(`exportFunction(${name}): function index ${funcIndex} out of range 0..${this.functionCount - 1}`);
    }
    this.exports.set(name, { kind: EXTERN_FUNC, index: funcIndex });
  }

  /** Serialises the module. Can be called repeatedly. */
  build(): Uint8Array<ArrayBuffer> {
    const total = this.functionCount;
    this.functions.forEach((fn, i) => {
      const index = this.importedFuncCount + i;
      if (fn.body === undefined) throw new Error(`function ${index} has no body (its addFunction callback did not complete)`);
      if (fn.maxCallee >= total) throw new RangeError(`function ${index} calls function ${fn.maxCallee}, but only ${total} exist`);
      if (fn.usesMemory && !this.hasMemory) throw new Error(`function ${index} accesses memory, but no memory was imported`);
    });

    const out = new ByteWriter();
    out.bytes([0x00, 0x61, 0x73, 0x6d]); // "\0asm"
    out.bytes([0x01, 0x00, 0x00, 0x00]); // version 1

    if (this.types.length > 0) {
      const s = new ByteWriter();
      s.u32(this.types.length);
      for (const t of this.types) {
        s.byte(0x60);
        s.u32(t.params.length);
        for (const p of t.params) s.byte(VALTYPE_CODE[p]);
        s.u32(t.results.length);
        for (const r of t.results) s.byte(VALTYPE_CODE[r]);
      }
      this.section(out, SECTION.type, s);
    }

    if (this.imports.length > 0) {
      const s = new ByteWriter();
      s.u32(this.imports.length);
      for (const im of this.imports) {
        s.name(im.module);
        s.name(im.name);
        if (im.kind === 'func') {
          s.byte(EXTERN_FUNC);
          s.u32(im.typeIndex);
        } else {
          s.byte(EXTERN_MEMORY);
          const { initial, maximum, shared } = im.limits;
          // limits flag: bit 0 = has maximum, bit 1 = shared (threads proposal)
          s.byte((maximum !== undefined ? 0x01 : 0x00) | (shared ? 0x02 : 0x00));
          s.u32(initial);
          if (maximum !== undefined) s.u32(maximum);
        }
      }
      this.section(out, SECTION.import, s);
    }

    if (this.functions.length > 0) {
      const s = new ByteWriter();
      s.u32(this.functions.length);
      for (const fn of this.functions) s.u32(fn.typeIndex);
      this.section(out, SECTION.function, s);
    }

    if (this.exports.size > 0) {
      const s = new ByteWriter();
      s.u32(this.exports.size);
      for (const [name, e] of this.exports) {
        s.name(name);
        s.byte(e.kind);
        s.u32(e.index);
      }
      this.section(out, SECTION.export, s);
    }

    if (this.functions.length > 0) {
      const s = new ByteWriter();
      s.u32(this.functions.length);
      for (const fn of this.functions) s.sized(fn.body!);
      this.section(out, SECTION.code, s);
    }

    return out.toBytes();
  }

  private section(out: ByteWriter, id: number, contents: ByteWriter): void {
    out.byte(id);
    out.sized(contents);
  }

  /** Index of the function type `params -> results`, adding it if new (types are deduplicated). */
  private typeIndex(params: readonly ValType[], results: readonly ValType[]): number {
    params.forEach((t) => assertValType(t, 'function parameter'));
    results.forEach((t) => assertValType(t, 'function result'));
    const key = `${params.join(',')}->${results.join(',')}`;
    let idx = this.typeKeys.get(key);
    if (idx === undefined) {
      idx = this.types.length;
      this.types.push({ params: Object.freeze([...params]), results: Object.freeze([...results]) });
      this.typeKeys.set(key, idx);
    }
    return idx;
  }
}

// ---------------------------------------------------------------------------
// Feature detection
// ---------------------------------------------------------------------------

function validates(build: (m: ModuleBuilder) => void): boolean {
  if (typeof WebAssembly === 'undefined' || typeof WebAssembly.validate !== 'function') return false;
  try {
    const m = new ModuleBuilder();
    build(m);
    return WebAssembly.validate(m.build());
  } catch {
    return false;
  }
}

let simdCache: boolean | undefined;

/** Whether the host validates SIMD128 code (cached). */
export function simdSupported(): boolean {
  simdCache ??= validates((m) => {
    m.addFunction([], ['i32'], (f) => {
      f.i32Const(1).op('i32x4.splat').i32x4Const([1, 2, 3, 4]).op('i32x4.add').laneOp('i32x4.extract_lane', 0);
    });
  });
  return simdCache;
}


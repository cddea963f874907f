//! Unit tests of FP decoding and arithmetic.

use super::decode::*;
use super::*;

#[test]
fn fp_immediates_expand_per_vfp_expand_imm() {
    // 0x70 = 1.0, 0xe0 = -0.5 (llvm-mc: fmov d0, #1.0 / fmov s1, #-0.5).
    assert_eq!(f64::from_bits(expand_fp_imm(0x70, FpTy::D)), 1.0);
    assert_eq!(f32::from_bits(expand_fp_imm(0xe0, FpTy::S) as u32), -0.5);
    assert_eq!(f64::from_bits(expand_fp_imm(0x00, FpTy::D)), 2.0);
    assert_eq!(f32::from_bits(expand_fp_imm(0x7f, FpTy::S) as u32), 1.9375);
}

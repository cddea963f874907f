//! Unit tests of FP decoding and arithmetic.

use super::decode::*;
use super::soft::*;
use super::*;

#[test]
fn fp_immediates_expand_per_vfp_expand_imm() {
    // 0x70 = 1.0, 0xe0 = -0.5 (llvm-mc: fmov d0, #1.0 / fmov s1, #-0.5).
    assert_eq!(f64::from_bits(expand_fp_imm(0x70, FpTy::D)), 1.0);
    assert_eq!(f32::from_bits(expand_fp_imm(0xe0, FpTy::S) as u32), -0.5);
    assert_eq!(f64::from_bits(expand_fp_imm(0x00, FpTy::D)), 2.0);
    assert_eq!(f32::from_bits(expand_fp_imm(0x7f, FpTy::S) as u32), 1.9375);
}

#[test]
fn rounding_to_integral() {
    let cases = [
        (2.5, Round::NearestEven, 2.0),
        (3.5, Round::NearestEven, 4.0),
        (-2.5, Round::NearestAway, -3.0),
        (2.5, Round::NearestAway, 3.0),
        (-0.5, Round::Plus, -0.0),
        (-0.5, Round::Minus, -1.0),
        (1.7, Round::Zero, 1.0),
        (-1.7, Round::Zero, -1.0),
        (1e300, Round::Minus, 1e300),
    ];
    for (x, mode, want) in cases {
        let got = f64_round(x, mode);
        assert_eq!(got.to_bits(), f64::to_bits(want), "{x} {mode:?}");
    }
}

#[test]
fn square_roots_are_correctly_rounded() {
    // Exact squares, and values whose roots are checked by squaring
    // the neighbours (the true root lies between).
    for (x, want) in [(4.0, 2.0), (2.25, 1.5), (0.0625, 0.25)] {
        assert_eq!(f64_sqrt_pos(x), want);
    }
    for x in [
        2.0f64,
        3.0,
        10.0,
        1e-310,
        5e-324,
        1.7976931348623157e308,
        0.1,
    ] {
        let r = f64_sqrt_pos(x);
        let up = f64::from_bits(r.to_bits() + 1);
        let down = f64::from_bits(r.to_bits() - 1);
        // r is the nearest: |r^2 - x| is at most the neighbours'.
        let err = |y: f64| fma_f64(y, y, -x).abs();
        assert!(err(r) <= err(up) && err(r) <= err(down), "sqrt({x}) = {r}");
    }
}

#[test]
fn fused_multiply_add_rounds_once() {
    // (1 + 2^-52)^2 - 1 = 2^-51 + 2^-104: an unfused a*a - 1 loses the
    // 2^-104 term, the fused one keeps it.
    let a = 1.0 + f64::EPSILON;
    let fused = fma_f64(a, a, -1.0);
    assert_eq!(fused, 2.0 * f64::EPSILON + f64::EPSILON * f64::EPSILON);
    assert_eq!(fma_f64(2.0, 3.0, 4.0), 10.0);
    assert_eq!(fma_f64(1e308, 10.0, -1e308), f64::INFINITY);
    assert_eq!(fma_f64(-1.5, 2.0, 3.0).to_bits(), 0.0f64.to_bits());
    assert_eq!(
        fma_f64(f64::MIN_POSITIVE, 0.5, 0.0),
        f64::MIN_POSITIVE / 2.0
    );
}

#[test]
fn single_precision_fma_rounds_once() {
    // a * b = 2^-24 - 2^-70 exactly; c = 1 + 2^-23. The exact sum lies
    // just below the tie between 1 + 2^-23 and 1 + 2^-22, so the fused
    // result is 1 + 2^-23; rounding through double first lands on the
    // tie and goes to 1 + 2^-22.
    let a = f32::from_bits(0x3980_0001); // 2^-12 (1 + 2^-23)
    let b = f32::from_bits(0x397f_fffe); // 2^-12 (1 - 2^-23)
    let c = f32::from_bits(0x3f80_0001); // 1 + 2^-23
    assert_eq!(fma_f32(a, b, c).to_bits(), 0x3f80_0001);
    let twice = (f64::from(a) * f64::from(b) + f64::from(c)) as f32;
    assert_eq!(
        twice.to_bits(),
        0x3f80_0002,
        "the case does need one rounding"
    );
    // Results in the single-precision subnormal range round there.
    let tiny = f32::from_bits(0x0080_0000); // least normal
    assert_eq!(fma_f32(tiny, 0.5, 0.0).to_bits(), 0x0040_0000);
}

#[test]
fn nans_follow_the_arm_rules() {
    let snan = 0x7ff0_0000_0000_0001u64;
    let qnan = 0x7ff8_0000_0000_0002u64;
    let one = 1.0f64.to_bits();
    // SNaN wins over an earlier QNaN and comes back quietened.
    assert_eq!(
        dp2_bits(FpTy::D, Fp2::Add, qnan, snan, false),
        snan | (1 << 51)
    );
    assert_eq!(dp2_bits(FpTy::D, Fp2::Add, qnan, one, false), qnan);
    assert_eq!(dp2_bits(FpTy::D, Fp2::Add, qnan, one, true), F64_QNAN);
    // Invalid operations give the positive default NaN.
    let inf = f64::INFINITY.to_bits();
    assert_eq!(dp2_bits(FpTy::D, Fp2::Sub, inf, inf, false), F64_QNAN);
    // FMAXNM prefers the number to a quiet NaN; FMAX does not.
    assert_eq!(dp2_bits(FpTy::D, Fp2::MaxNm, qnan, one, false), one);
    assert_eq!(dp2_bits(FpTy::D, Fp2::Max, qnan, one, false), qnan);
    // -0 < +0 for FMIN/FMAX.
    let nz = (-0.0f64).to_bits();
    assert_eq!(dp2_bits(FpTy::D, Fp2::Min, 0, nz, false), nz);
    assert_eq!(dp2_bits(FpTy::D, Fp2::Max, nz, 0, false), 0);
    // FNMUL negates NaN results too (checked against QEMU).
    assert_eq!(
        dp2_bits(FpTy::D, Fp2::Nmul, qnan, one, false),
        qnan | (1 << 63)
    );
    let zero = 0u64;
    assert_eq!(
        dp2_bits(FpTy::D, Fp2::Nmul, inf, zero, false),
        F64_QNAN | (1 << 63)
    );
}

//! Arm FP arithmetic on raw bits, shared by every execution tier: the NaN
//! rules (`FPProcessNaNs`), rounding to integral, exact square root and
//! fused multiply-add.

use super::*;

pub(crate) const F32_QNAN: u32 = 0x7fc0_0000;
pub(crate) const F64_QNAN: u64 = 0x7ff8_0000_0000_0000;
/// FPCR.DN: default NaN mode.
pub(crate) const FPCR_DN: u64 = 1 << 25;

/// A scalar value in its precision, as raw bits widened to u64.
pub(crate) trait Float {
    fn is_nan_bits(b: u64) -> bool;
    fn is_snan_bits(b: u64) -> bool;
    fn quiet(b: u64) -> u64;
    fn default_nan() -> u64;
}

pub(crate) struct S;
pub(crate) struct D;

impl Float for S {
    fn is_nan_bits(b: u64) -> bool {
        f32::from_bits(b as u32).is_nan()
    }
    fn is_snan_bits(b: u64) -> bool {
        Self::is_nan_bits(b) && b & 0x0040_0000 == 0
    }
    fn quiet(b: u64) -> u64 {
        (b & 0xffff_ffff) | 0x0040_0000
    }
    fn default_nan() -> u64 {
        u64::from(F32_QNAN)
    }
}

impl Float for D {
    fn is_nan_bits(b: u64) -> bool {
        f64::from_bits(b).is_nan()
    }
    fn is_snan_bits(b: u64) -> bool {
        Self::is_nan_bits(b) && b & 0x0008_0000_0000_0000 == 0
    }
    fn quiet(b: u64) -> u64 {
        b | 0x0008_0000_0000_0000
    }
    fn default_nan() -> u64 {
        F64_QNAN
    }
}

/// The NaN result for NaN operands (`FPProcessNaNs3`), or `None` if no
/// operand is a NaN.
pub(crate) fn process_nans<F: Float>(ops: &[u64], dn: bool) -> Option<u64> {
    let pick = ops
        .iter()
        .find(|&&b| F::is_snan_bits(b))
        .or_else(|| ops.iter().find(|&&b| F::is_nan_bits(b)))?;
    Some(if dn {
        F::default_nan()
    } else {
        F::quiet(*pick)
    })
}

/// A host result: NaNs the host produced from non-NaN operands become the
/// Arm default NaN (x86 produces a negative one).
pub(crate) fn canon<F: Float>(r: u64) -> u64 {
    if F::is_nan_bits(r) {
        F::default_nan()
    } else {
        r
    }
}

pub(crate) fn f64_trunc(x: f64) -> f64 {
    let b = x.to_bits();
    let exp = ((b >> 52) & 0x7ff) as i32 - 1023;
    if exp >= 52 {
        return x; // integral, infinite or NaN
    }
    if exp < 0 {
        return f64::from_bits(b & (1 << 63));
    }
    let frac_mask = (1u64 << (52 - exp)) - 1;
    f64::from_bits(b & !frac_mask)
}

/// Round to an integral value (FRINT*) in double precision.
pub fn f64_round(x: f64, mode: Round) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let t = f64_trunc(x);
    if t == x {
        return x;
    }
    let r = match mode {
        Round::Zero => t,
        Round::Minus => {
            if x < 0.0 {
                t - 1.0
            } else {
                t
            }
        }
        Round::Plus => {
            if x > 0.0 {
                t + 1.0
            } else {
                t
            }
        }
        Round::NearestAway => {
            let frac = x - t; // exact
            if frac >= 0.5 {
                t + 1.0
            } else if frac <= -0.5 {
                t - 1.0
            } else {
                t
            }
        }
        Round::NearestEven => {
            // |x| < 2^52 here; adding and removing 2^52 rounds to an integer
            // in the host's nearest-even mode.
            let big = 4_503_599_627_370_496.0f64;
            let a = if x < 0.0 { -x } else { x };
            let r = (a + big) - big;
            if x < 0.0 {
                -r
            } else {
                r
            }
        }
    };
    // Keep the sign of x on a zero result (e.g. -0.3 -> -0.0).
    if r == 0.0 {
        f64::from_bits(x.to_bits() & (1 << 63))
    } else {
        r
    }
}

/// Integer square root of a u128 (floor).
pub(crate) fn isqrt_u128(n: u128) -> u128 {
    let mut x: u128 = 0;
    let mut bitv: u128 = 1 << 126;
    let mut n = n;
    while bitv > n {
        bitv >>= 2;
    }
    while bitv != 0 {
        if n >= x + bitv {
            n -= x + bitv;
            x = (x >> 1) + bitv;
        } else {
            x >>= 1;
        }
        bitv >>= 2;
    }
    x
}

/// Correctly rounded square root of a positive, finite, non-zero double.
pub(crate) fn f64_sqrt_pos(x: f64) -> f64 {
    let b = x.to_bits();
    let mut exp = ((b >> 52) & 0x7ff) as i32;
    let mut mant = b & ((1u64 << 52) - 1);
    if exp == 0 {
        // Subnormal: normalise.
        let shift = mant.leading_zeros() - 11;
        mant <<= shift;
        exp = 1 - shift as i32;
    } else {
        mant |= 1 << 52;
    }
    // x = mant * 2^(exp - 1075)
    let mut e = exp - 1075;
    let mut m = u128::from(mant);
    if e & 1 != 0 {
        m <<= 1;
        e -= 1;
    }
    // sqrt(m * 2^64) has 58..59 bits: enough for a round and a sticky bit.
    let big = m << 64;
    let r = isqrt_u128(big);
    let sticky = u128::from(r * r != big);
    let approx = (r | sticky) as u64 as f64; // one rounding, nearest-even
    let k = e / 2 - 32;
    approx * f64::from_bits(((1023 + k) as u64) << 52)
}

/// Square root with the Arm special cases, on raw double bits.
pub(crate) fn sqrt_d(a: u64, dn: bool) -> u64 {
    if let Some(n) = process_nans::<D>(&[a], dn) {
        return n;
    }
    let x = f64::from_bits(a);
    if x == 0.0 || x == f64::INFINITY {
        return a;
    }
    if x < 0.0 {
        return F64_QNAN;
    }
    f64_sqrt_pos(x).to_bits()
}

/// Decompose a finite double into (sign, exponent, 53-bit integer
/// significand) with value = sig * 2^exp.
pub(crate) fn unpack(x: f64) -> (bool, i32, u64) {
    let b = x.to_bits();
    let sign = b >> 63 != 0;
    let e = ((b >> 52) & 0x7ff) as i32;
    let m = b & ((1u64 << 52) - 1);
    if e == 0 {
        (sign, -1074, m)
    } else {
        (sign, e - 1075, m | (1 << 52))
    }
}

/// A binary floating-point format for [`pack_round`]: significand bits
/// (with the hidden bit) and minimum normal exponent.
#[derive(Clone, Copy)]
pub(crate) struct Fmt {
    prec: i32,
    emin: i32,
}

pub(crate) const F64_FMT: Fmt = Fmt {
    prec: 53,
    emin: -1022,
};
pub(crate) const F32_FMT: Fmt = Fmt {
    prec: 24,
    emin: -126,
};

/// 2^k as a double, for -1074 <= k <= 1023.
pub(crate) fn pow2(k: i32) -> f64 {
    if k >= -1022 {
        f64::from_bits(((1023 + k) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (k + 1074))
    }
}

/// Round `sign * sig * 2^exp` (sig != 0) to nearest-even in format `fmt`;
/// `sticky` means there are non-zero bits below `sig`. The result is a
/// double holding a value representable in `fmt` (or infinite on
/// overflow), so converting it to `fmt` is exact.
pub(crate) fn pack_round(sign: bool, sig: u128, exp: i32, sticky: bool, fmt: Fmt) -> f64 {
    let top = 127 - sig.leading_zeros() as i32; // index of the highest set bit
    let e = exp + top; // the value is in [2^e, 2^(e+1))
    let prec = if e < fmt.emin {
        fmt.prec - (fmt.emin - e)
    } else {
        fmt.prec
    };
    let min_sub = fmt.emin - (fmt.prec - 1); // exponent of the least subnormal
    if prec <= 0 {
        // Below the least subnormal: 0, or the least subnormal when above
        // half of it (exactly half ties to the even zero).
        let up = e == min_sub - 1 && (sig.count_ones() > 1 || sticky);
        let v = if up { pow2(min_sub) } else { 0.0 };
        return if sign { -v } else { v };
    }
    let drop = top + 1 - prec; // bits to drop from sig
    let (mut kept, round_up) = if drop > 0 {
        let d = drop as u32;
        let kept = sig >> d;
        let rem = sig & ((1u128 << d) - 1);
        let half = 1u128 << (d - 1);
        let up = rem > half || (rem == half && (sticky || kept & 1 == 1));
        (kept, up)
    } else {
        (sig << (-drop) as u32, false)
    };
    if round_up {
        kept += 1;
    }
    // kept * 2^(exp + drop), exactly: kept has at most 54 bits and the
    // scaling steps stay in the normal range until the last.
    let mut v = kept as u64 as f64;
    let mut s = exp + drop;
    while s > 0 {
        let step = s.min(1000);
        v *= pow2(step);
        s -= step;
    }
    while s < 0 {
        let step = (-s).min(1000);
        v *= pow2(-step);
        s += step;
    }
    if sign {
        -v
    } else {
        v
    }
}

/// Fused multiply-add `a * b + c` of doubles with a single rounding.
pub(crate) fn fma_f64(a: f64, b: f64, c: f64) -> f64 {
    fma_core(a, b, c, F64_FMT)
}

/// Fused multiply-add of singles (given exactly as doubles) with a single
/// rounding to single precision.
pub(crate) fn fma_f32(a: f32, b: f32, c: f32) -> f32 {
    // The result is representable in single precision, so `as` is exact
    // (or overflows to infinity, as the rounding requires).
    fma_core(f64::from(a), f64::from(b), f64::from(c), F32_FMT) as f32
}

/// `a * b + c` rounded once to `fmt`; the operands are exact doubles.
pub(crate) fn fma_core(a: f64, b: f64, c: f64, fmt: Fmt) -> f64 {
    if !a.is_finite() || !b.is_finite() || !c.is_finite() || a == 0.0 || b == 0.0 {
        // Infinities, NaNs and exact-zero products: the host's unfused
        // result is exact here (the product is exact or non-finite).
        return a * b + c;
    }
    let (sa, ea, ma) = unpack(a);
    let (sb, eb, mb) = unpack(b);
    let ps = sa != sb;
    let pm = u128::from(ma) * u128::from(mb); // exact, <= 106 bits
    let pe = ea + eb;
    if c == 0.0 {
        return pack_round(ps, pm, pe, false, fmt);
    }
    let (sc, ec, mc) = unpack(c);
    let mc = u128::from(mc);
    // Align both to the smaller exponent, keeping the total within 128 bits
    // by letting far-away bits collapse into a sticky flag.
    let (mut hi_s, mut hi_m, mut hi_e, mut lo_s, mut lo_m, mut lo_e) = (ps, pm, pe, sc, mc, ec);
    let hi_top = hi_e + (127 - hi_m.leading_zeros() as i32);
    let lo_top = lo_e + (127 - lo_m.leading_zeros() as i32);
    if lo_top > hi_top {
        core::mem::swap(&mut hi_s, &mut lo_s);
        core::mem::swap(&mut hi_m, &mut lo_m);
        core::mem::swap(&mut hi_e, &mut lo_e);
    }
    // Put the larger operand's top bit at position 124.
    let hi_shift = 124 - (127 - hi_m.leading_zeros() as i32);
    let hm = hi_m << hi_shift as u32;
    let base_e = hi_e - hi_shift;
    let d = lo_e - base_e; // lo value = lo_m * 2^lo_e = (lo_m << d) * 2^base_e
    let (lm, sticky) = if d >= 0 {
        (lo_m << d as u32, false)
    } else if -d >= 128 {
        (0, lo_m != 0)
    } else {
        let s = (-d) as u32;
        (lo_m >> s, lo_m & ((1u128 << s) - 1) != 0)
    };
    let (sign, mag, sticky_sub) = if hi_s == lo_s {
        (hi_s, hm + lm, false)
    } else if lm > hm {
        // Same top bit position: the aligned low operand can be the larger
        // (no bits were shifted out in that case).
        (lo_s, lm - hm, false)
    } else {
        // hm >= lm; a sticky remainder means the true lm is slightly larger,
        // so borrow one unit and keep the sticky bit.
        let m = hm - lm - u128::from(sticky);
        (hi_s, m, sticky)
    };
    let sticky = sticky || sticky_sub;
    if mag == 0 && !sticky {
        // Exact cancellation: +0 in round-to-nearest.
        return 0.0;
    }
    if mag == 0 {
        return pack_round(sign, 1, base_e - 1, false, fmt);
    }
    pack_round(sign, mag, base_e, sticky, fmt)
}

pub(crate) fn to_f64(ty: FpTy, b: u64) -> f64 {
    match ty {
        FpTy::S => f64::from(f32::from_bits(b as u32)),
        FpTy::D => f64::from_bits(b),
    }
}

/// Apply a two-source operation on raw bits.
pub(crate) fn dp2_bits(ty: FpTy, op: Fp2, a: u64, b: u64, dn: bool) -> u64 {
    if op == Fp2::Nmul {
        // FNMUL negates the product, NaN results included.
        let sign = match ty {
            FpTy::S => 1u64 << 31,
            FpTy::D => 1u64 << 63,
        };
        return dp2_bits(ty, Fp2::Mul, a, b, dn) ^ sign;
    }
    macro_rules! arith {
        ($F:ty, $fl:ty, $to:expr, $from:expr) => {{
            let is_minmax = matches!(op, Fp2::MaxNm | Fp2::MinNm);
            if is_minmax {
                // A single quiet NaN loses against a number.
                let qa = <$F>::is_nan_bits(a) && !<$F>::is_snan_bits(a);
                let qb = <$F>::is_nan_bits(b) && !<$F>::is_snan_bits(b);
                if qa && !<$F>::is_nan_bits(b) {
                    return b;
                }
                if qb && !<$F>::is_nan_bits(a) {
                    return a;
                }
            }
            if let Some(n) = process_nans::<$F>(&[a, b], dn) {
                return n;
            }
            let x: $fl = $to(a);
            let y: $fl = $to(b);
            let r: $fl = match op {
                Fp2::Mul => x * y,
                Fp2::Div => x / y,
                Fp2::Add => x + y,
                Fp2::Sub => x - y,
                Fp2::Nmul => -(x * y), // not reached: handled above
                Fp2::Max | Fp2::MaxNm => {
                    if x == y {
                        // +0 > -0
                        if x.is_sign_negative() {
                            y
                        } else {
                            x
                        }
                    } else if x > y {
                        x
                    } else {
                        y
                    }
                }
                Fp2::Min | Fp2::MinNm => {
                    if x == y {
                        if x.is_sign_negative() {
                            x
                        } else {
                            y
                        }
                    } else if x < y {
                        x
                    } else {
                        y
                    }
                }
            };
            canon::<$F>($from(r))
        }};
    }
    match ty {
        FpTy::S => arith!(S, f32, |v: u64| f32::from_bits(v as u32), |r: f32| {
            u64::from(r.to_bits())
        }),
        FpTy::D => arith!(D, f64, f64::from_bits, |r: f64| r.to_bits()),
    }
}

/// FCMP result in NZCV layout.
pub(crate) fn compare(ty: FpTy, a: u64, b: u64) -> u32 {
    let (x, y) = (to_f64(ty, a), to_f64(ty, b));
    if x.is_nan() || y.is_nan() {
        0b0011 << 28
    } else if x == y {
        0b0110 << 28
    } else if x < y {
        0b1000 << 28
    } else {
        0b0010 << 28
    }
}

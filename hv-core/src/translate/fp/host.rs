//! The host's floating point for the common case of [`super::soft`]'s
//! add, subtract and multiply: both operands normal, round to nearest
//! even, and a result far enough from the format's limits that neither
//! overflow nor underflow (tininess before rounding) can arise. There the
//! Arm result is the IEEE result the host computes, and the only flag is
//! IXC, which an error-free transformation decides exactly:
//!
//! * single precision is computed in double, where the exact sum (operand
//!   exponents at most 24 apart) and the exact product fit, then rounded
//!   once to single: inexact iff that rounding changed the value;
//! * double precision: TwoSum (Knuth) for the sum's rounding error and
//!   Dekker's TwoProduct (Veltkamp splitting) for the product's, inexact
//!   iff the error is not zero.
//!
//! Anything else returns `None` and goes the exact soft way. The guards
//! keep every intermediate of the transformations finite and normal, so
//! they are exact.

use super::soft::{Env, Fmt, Rm, IXC};

/// The unbiased exponent of a normal `x` of `fmt`, or `None` for zeros,
/// subnormals, infinities and NaNs.
#[inline]
fn normal_exp(fmt: Fmt, x: u64) -> Option<i32> {
    let e = ((x >> fmt.fbits()) & ((1 << fmt.ebits()) - 1)) as i32;
    let bias = (1 << (fmt.ebits() - 1)) - 1;
    (e != 0 && e != (1 << fmt.ebits()) - 1).then_some(e - bias)
}

/// Whether the host may compute in `env` at all.
#[inline]
fn usable(env: &Env) -> bool {
    env.rmode() == Rm::TieEven
}

/// FPAdd (FPSub with `negate`) of normal operands, if the host can.
#[inline]
pub fn add(fmt: Fmt, a: u64, b: u64, negate: bool, env: &mut Env) -> Option<u64> {
    if !usable(env) {
        return None;
    }
    let (ea, eb) = (normal_exp(fmt, a)?, normal_exp(fmt, b)?);
    match fmt {
        Fmt::S => {
            // Exact in double when the exponents are close.
            if (ea - eb).abs() > 24 {
                return None;
            }
            let x = f64::from(f32::from_bits(a as u32));
            let y = f64::from(f32::from_bits(b as u32));
            let exact = if negate { x - y } else { x + y };
            single(exact, env)
        }
        Fmt::D => {
            // No overflow in TwoSum's steps.
            if ea > 1000 || eb > 1000 {
                return None;
            }
            let x = f64::from_bits(a);
            let y = f64::from_bits(b);
            let y = if negate { -y } else { y };
            let s = x + y;
            if !safe_double(s) {
                return None;
            }
            let bv = s - x;
            let err = (x - (s - bv)) + (y - bv);
            if err != 0.0 {
                env.flags |= IXC;
            }
            Some(s.to_bits())
        }
        Fmt::H => None,
    }
}

/// FPMul of normal operands, if the host can.
#[inline]
pub fn mul(fmt: Fmt, a: u64, b: u64, env: &mut Env) -> Option<u64> {
    if !usable(env) {
        return None;
    }
    let (ea, eb) = (normal_exp(fmt, a)?, normal_exp(fmt, b)?);
    match fmt {
        Fmt::S => {
            // 24 x 24 significand bits: exact in double.
            let x = f64::from(f32::from_bits(a as u32));
            let y = f64::from(f32::from_bits(b as u32));
            single(x * y, env)
        }
        Fmt::D => {
            // Splitting and every partial product stay normal and finite.
            if ea.abs() > 450 || eb.abs() > 450 {
                return None;
            }
            let x = f64::from_bits(a);
            let y = f64::from_bits(b);
            let p = x * y;
            if !safe_double(p) {
                return None;
            }
            let (xh, xl) = split(x);
            let (yh, yl) = split(y);
            let err = xl * yl - (((p - xh * yh) - xl * yh) - xh * yl);
            if err != 0.0 {
                env.flags |= IXC;
            }
            Some(p.to_bits())
        }
        Fmt::H => None,
    }
}

/// Veltkamp's split of `x` into a high half of 26 significant bits and
/// the exact rest.
#[inline]
fn split(x: f64) -> (f64, f64) {
    const FACTOR: f64 = 134_217_729.0; // 2^27 + 1
    let c = FACTOR * x;
    let hi = c - (c - x);
    (hi, x - hi)
}

/// Whether a double result is normal with room to spare: at least twice
/// the smallest normal (so it was not tiny before rounding) and at most
/// half the largest finite value.
#[inline]
fn safe_double(r: f64) -> bool {
    let e = (r.to_bits() >> 52) & 0x7ff;
    (2..=0x7fd).contains(&e)
}

/// Round the exact double `exact` to single precision, if the result is
/// normal with room to spare; IXC if the rounding changed it.
#[inline]
fn single(exact: f64, env: &mut Env) -> Option<u64> {
    let r = exact as f32;
    let e = (r.to_bits() >> 23) & 0xff;
    if !(2..=0xfd).contains(&e) {
        return None;
    }
    if f64::from(r) != exact {
        env.flags |= IXC;
    }
    Some(u64::from(r.to_bits()))
}

#[cfg(test)]
mod tests {
    use super::super::soft;
    use super::*;
    use proptest::prelude::*;

    /// Operand bits biased to what matters: exponents near each other,
    /// near the guards and the format's limits, short and full
    /// significands.
    fn operand(fmt: Fmt) -> impl Strategy<Value = u64> {
        let (fbits, ebits) = (fmt.fbits(), fmt.ebits());
        let emax = (1u64 << ebits) - 1;
        (
            any::<bool>(),
            prop_oneof![
                0..=emax,
                (1u64 << (ebits - 1)) - 40..(1u64 << (ebits - 1)) + 40,
                0..8u64,
                emax - 8..=emax
            ],
            prop_oneof![any::<u64>(), 0..16u64, Just(0u64)],
        )
            .prop_map(move |(s, e, f)| {
                (u64::from(s) << (fbits + ebits))
                    | (e.min(emax) << fbits)
                    | (f & ((1 << fbits) - 1))
            })
    }

    fn fmt_and_operands() -> impl Strategy<Value = (Fmt, u64, u64)> {
        prop_oneof![Just(Fmt::S), Just(Fmt::D)].prop_flat_map(|f| (Just(f), operand(f), operand(f)))
    }

    /// The soft result with the host path switched off.
    fn soft_only(op: u8, fmt: Fmt, a: u64, b: u64, fpcr: u64) -> (u64, u32) {
        let mut env = Env::new(fpcr);
        let r = match op {
            0 => soft::add_exact_path(fmt, a, b, false, &mut env),
            1 => soft::add_exact_path(fmt, a, b, true, &mut env),
            _ => soft::mul_exact_path(fmt, a, b, false, &mut env),
        };
        (r, env.flags)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn host_results_and_flags_equal_the_soft_ones(
            (fmt, a, b) in fmt_and_operands(),
            op in 0u8..3,
            fz in any::<bool>(),
            dn in any::<bool>(),
        ) {
            let fpcr = (u64::from(fz) << 24) | (u64::from(dn) << 25);
            let mut env = Env::new(fpcr);
            let host = match op {
                0 => add(fmt, a, b, false, &mut env),
                1 => add(fmt, a, b, true, &mut env),
                _ => mul(fmt, a, b, &mut env),
            };
            if let Some(r) = host {
                prop_assert_eq!((r, env.flags), soft_only(op, fmt, a, b, fpcr),
                    "op {} {:?} {:#x} {:#x}", op, fmt, a, b);
            }
        }
    }

    #[test]
    fn the_host_path_takes_the_common_cases_and_leaves_the_rest() {
        let mut env = Env::new(0);
        let one = 1.0f64.to_bits();
        let third = (1.0f64 / 3.0).to_bits();
        assert_eq!(
            add(Fmt::D, one, one, false, &mut env),
            Some(2.0f64.to_bits())
        );
        assert_eq!(env.flags, 0, "1 + 1 is exact");
        assert!(add(Fmt::D, one, third, false, &mut env).is_some());
        assert_eq!(env.flags, IXC, "1 + 1/3 is not");
        // Not for: other rounding modes, zeros, exact cancellation.
        assert_eq!(add(Fmt::D, one, one, false, &mut Env::new(1 << 22)), None);
        assert_eq!(add(Fmt::D, 0, one, false, &mut Env::new(0)), None);
        assert_eq!(add(Fmt::D, one, one, true, &mut Env::new(0)), None);
        let mut env = Env::new(0);
        let x = 1.5f32.to_bits() as u64;
        assert_eq!(
            mul(Fmt::S, x, x, &mut env),
            Some(u64::from(2.25f32.to_bits()))
        );
        assert_eq!(env.flags, 0);
    }
}

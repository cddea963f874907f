//! Arm FP arithmetic on raw bits, shared by every execution tier: a direct
//! transcription of the Arm ARM pseudocode (`FPUnpack`, `FPRoundBase`,
//! `FPProcessNaNs`, `FPAdd` ... `FPRecipEstimate`) for half, single and
//! double precision, honouring FPCR (RMode, FZ, DN, AHP) and accumulating
//! the FPSR cumulative flags in an [`Env`].
//!
//! Why not `rustc_apfloat` (the port of LLVM's APFloat): it detects
//! tininess after rounding (its `normalize` reports UNDERFLOW only for a
//! denormal *result*), while the Arm ARM's `FPRoundBase` detects it before
//! rounding, and flush-to-zero needs the unrounded exponent, which APFloat
//! does not expose. Every Arm operation would need its own fix-ups around
//! it; one exact round-and-pack over a u128 significand is smaller.
//!
//! Values are exact `sign * mant * 2^exp` with an integer significand; every
//! operation computes its exact result (or the result truncated with a
//! sticky bit) and rounds it once in [`round`].

/// FPSR.IOC: invalid operation.
pub const IOC: u32 = 1;
/// FPSR.DZC: division by zero.
pub const DZC: u32 = 1 << 1;
/// FPSR.OFC: overflow.
pub const OFC: u32 = 1 << 2;
/// FPSR.UFC: underflow.
pub const UFC: u32 = 1 << 3;
/// FPSR.IXC: inexact.
pub const IXC: u32 = 1 << 4;
/// FPSR.IDC: input denormal.
pub const IDC: u32 = 1 << 7;

/// An IEEE binary format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fmt {
    /// Half precision (only converted to and from in ARMv8.0).
    H,
    /// Single precision.
    S,
    /// Double precision.
    D,
}

impl Fmt {
    /// Exponent bits.
    #[inline]
    pub const fn ebits(self) -> u32 {
        match self {
            Fmt::H => 5,
            Fmt::S => 8,
            Fmt::D => 11,
        }
    }
    /// Fraction bits.
    #[inline]
    pub const fn fbits(self) -> u32 {
        match self {
            Fmt::H => 10,
            Fmt::S => 23,
            Fmt::D => 52,
        }
    }
    /// Width in bits.
    #[inline]
    pub const fn width(self) -> u32 {
        1 + self.ebits() + self.fbits()
    }
    #[inline]
    const fn emask(self) -> u64 {
        (1 << self.ebits()) - 1
    }
    #[inline]
    const fn fmask(self) -> u64 {
        (1 << self.fbits()) - 1
    }
    /// The sign bit.
    #[inline]
    pub const fn sign_bit(self) -> u64 {
        1 << (self.width() - 1)
    }
    #[inline]
    const fn bias(self) -> i32 {
        (1 << (self.ebits() - 1)) - 1
    }
    /// Minimum normal exponent.
    #[inline]
    const fn emin(self) -> i32 {
        1 - self.bias()
    }
    #[inline]
    fn sgn(self, sign: bool) -> u64 {
        if sign {
            self.sign_bit()
        } else {
            0
        }
    }
    /// FPDefaultNaN.
    #[inline]
    pub const fn default_nan(self) -> u64 {
        (self.emask() << self.fbits()) | (1 << (self.fbits() - 1))
    }
    /// FPInfinity.
    #[inline]
    pub fn inf(self, sign: bool) -> u64 {
        self.sgn(sign) | (self.emask() << self.fbits())
    }
    /// FPZero.
    #[inline]
    pub fn zero(self, sign: bool) -> u64 {
        self.sgn(sign)
    }
    /// FPMaxNormal.
    #[inline]
    pub fn max_normal(self, sign: bool) -> u64 {
        self.sgn(sign) | ((self.emask() - 1) << self.fbits()) | self.fmask()
    }
    /// The value `2^k * 1.0` (k in the normal range).
    #[inline]
    fn pow2(self, sign: bool, k: i32) -> u64 {
        self.sgn(sign) | (((k + self.bias()) as u64) << self.fbits())
    }
    /// FPNeg (also of NaNs).
    #[inline]
    pub fn neg(self, x: u64) -> u64 {
        x ^ self.sign_bit()
    }
    /// FPAbs (also of NaNs).
    #[inline]
    pub fn abs(self, x: u64) -> u64 {
        x & !self.sign_bit()
    }
}

/// A rounding mode (`FPRounding`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rm {
    /// To nearest, ties to even.
    TieEven,
    /// Towards +infinity.
    PosInf,
    /// Towards -infinity.
    NegInf,
    /// Towards zero.
    Zero,
    /// To nearest, ties away from zero (FRINTA, FCVTA*).
    TieAway,
    /// Von Neumann rounding to odd (FCVTXN).
    Odd,
}

/// FPCR and the FPSR cumulative flags an operation raised.
#[derive(Clone, Copy, Debug)]
pub struct Env {
    /// FPCR.
    pub fpcr: u32,
    /// Cumulative flags raised (FPSR layout: IOC .. IXC, IDC).
    pub flags: u32,
}

/// FPCR.AHP.
pub const FPCR_AHP: u32 = 1 << 26;
/// FPCR.DN.
pub const FPCR_DN: u32 = 1 << 25;
/// FPCR.FZ.
pub const FPCR_FZ: u32 = 1 << 24;

impl Env {
    /// An environment with FPCR `fpcr` and no flags raised.
    #[inline]
    pub fn new(fpcr: u64) -> Env {
        Env {
            fpcr: fpcr as u32,
            flags: 0,
        }
    }
    #[inline]
    fn dn(&self) -> bool {
        self.fpcr & FPCR_DN != 0
    }
    #[inline]
    fn fz(&self) -> bool {
        self.fpcr & FPCR_FZ != 0
    }
    #[inline]
    fn ahp(&self) -> bool {
        self.fpcr & FPCR_AHP != 0
    }
    /// FPRoundingMode(FPCR).
    #[inline]
    pub fn rmode(&self) -> Rm {
        match (self.fpcr >> 22) & 3 {
            0 => Rm::TieEven,
            1 => Rm::PosInf,
            2 => Rm::NegInf,
            _ => Rm::Zero,
        }
    }
    #[inline]
    fn raise(&mut self, f: u32) {
        self.flags |= f;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Zero,
    Num,
    Inf,
    QNaN,
    SNaN,
}

/// An unpacked operand: `sign * mant * 2^exp` for `Num` (mant != 0).
#[derive(Clone, Copy, Debug)]
struct Unp {
    ty: Ty,
    sign: bool,
    exp: i32,
    mant: u64,
}

impl Unp {
    #[inline]
    fn is_nan(&self) -> bool {
        matches!(self.ty, Ty::QNaN | Ty::SNaN)
    }
}

/// FPUnpackBase: `flush` is FZ applied to this format, `ahp` the
/// alternative half-precision format (no infinities or NaNs).
#[inline]
fn unpack_base(fmt: Fmt, x: u64, env: &mut Env, flush: bool, ahp: bool) -> Unp {
    let f = fmt.fbits();
    let sign = (x >> (fmt.width() - 1)) & 1 != 0;
    let e = (x >> f) & fmt.emask();
    let frac = x & fmt.fmask();
    let mut u = Unp {
        ty: Ty::Num,
        sign,
        exp: 0,
        mant: 0,
    };
    if e == 0 {
        if frac == 0 || flush {
            if frac != 0 {
                env.raise(IDC);
            }
            u.ty = Ty::Zero;
        } else {
            u.exp = fmt.emin() - f as i32;
            u.mant = frac;
        }
    } else if e == fmt.emask() && !ahp {
        u.ty = if frac == 0 {
            Ty::Inf
        } else if frac >> (f - 1) != 0 {
            Ty::QNaN
        } else {
            Ty::SNaN
        };
    } else {
        u.exp = e as i32 - fmt.bias() - f as i32;
        u.mant = frac | (1 << f);
    }
    u
}

/// FPUnpack: FZ flushes single and double denormals (raising IDC).
#[inline]
fn unpack(fmt: Fmt, x: u64, env: &mut Env) -> Unp {
    let fz = env.fz() && fmt != Fmt::H;
    unpack_base(fmt, x, env, fz, false)
}

/// FPProcessNaN.
#[inline]
fn process_nan(fmt: Fmt, u: &Unp, x: u64, env: &mut Env) -> u64 {
    let mut r = x;
    if u.ty == Ty::SNaN {
        r |= 1 << (fmt.fbits() - 1);
        env.raise(IOC);
    }
    if env.dn() {
        fmt.default_nan()
    } else {
        r
    }
}

/// FPProcessNaNs: the first signalling NaN, else the first quiet NaN.
#[inline]
fn process_nans(fmt: Fmt, ops: &[(Unp, u64)], env: &mut Env) -> Option<u64> {
    for (u, x) in ops {
        if u.ty == Ty::SNaN {
            return Some(process_nan(fmt, u, *x, env));
        }
    }
    for (u, x) in ops {
        if u.ty == Ty::QNaN {
            return Some(process_nan(fmt, u, *x, env));
        }
    }
    None
}

/// The part of a value below the rounding point, relative to half a unit.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Frac {
    Zero,
    Below,
    Half,
    Above,
}

/// Split `mant` (plus a sticky fraction below it) at bit `shift`:
/// the integer part and the fraction's class.
#[inline]
fn split(mant: u128, shift: i32, sticky: bool) -> (u128, Frac) {
    if shift <= 0 {
        let err = if sticky { Frac::Below } else { Frac::Zero };
        return (mant << (-shift) as u32, err);
    }
    if shift > 128 {
        let err = if mant != 0 || sticky {
            Frac::Below
        } else {
            Frac::Zero
        };
        return (0, err);
    }
    let s = shift as u32;
    let (int, rem) = if s == 128 {
        (0, mant)
    } else {
        (mant >> s, mant & ((1u128 << s) - 1))
    };
    let half = 1u128 << (s - 1);
    let err = if rem == 0 && !sticky {
        Frac::Zero
    } else if rem < half {
        Frac::Below
    } else if rem == half && !sticky {
        Frac::Half
    } else {
        Frac::Above
    };
    (int, err)
}

/// Whether rounding `int + frac` in mode `rm` (sign `neg`) goes up in
/// magnitude.
#[inline]
fn round_up(rm: Rm, neg: bool, int_odd: bool, err: Frac) -> bool {
    match rm {
        Rm::TieEven => err == Frac::Above || (err == Frac::Half && int_odd),
        Rm::TieAway => err == Frac::Above || err == Frac::Half,
        Rm::PosInf => err != Frac::Zero && !neg,
        Rm::NegInf => err != Frac::Zero && neg,
        Rm::Zero | Rm::Odd => false,
    }
}

/// An exact value `sign * (mant + sticky) * 2^exp`, where `sticky` means
/// a non-zero fraction below `mant`'s last bit.
#[derive(Clone, Copy)]
struct Exact {
    sign: bool,
    mant: u128,
    exp: i32,
    sticky: bool,
}

/// FPRoundBase: round `sign * (mant + sticky) * 2^exp` (mant != 0) to
/// `fmt`. `ahp`: the destination is the alternative half-precision format.
fn round_base(fmt: Fmt, x: Exact, env: &mut Env, rm: Rm, ahp: bool) -> u64 {
    let Exact {
        sign,
        mant,
        exp,
        sticky,
    } = x;
    debug_assert!(mant != 0);
    let f = fmt.fbits() as i32;
    let top = 127 - mant.leading_zeros() as i32;
    let e = exp + top; // the value lies in [2^e, 2^(e+1))
    let emin = fmt.emin();
    if env.fz() && fmt != Fmt::H && e < emin {
        env.raise(UFC);
        return fmt.zero(sign);
    }
    let mut biased = (e - emin + 1).max(0);
    let lsb = if biased > 0 { e - f } else { emin - f };
    let (int, err) = split(mant, lsb - exp, sticky);
    let mut int = int as u64;
    if biased == 0 && err != Frac::Zero {
        env.raise(UFC);
    }
    let overflow_to_inf = match rm {
        Rm::TieEven | Rm::TieAway => true,
        Rm::PosInf => !sign,
        Rm::NegInf => sign,
        Rm::Zero | Rm::Odd => false,
    };
    if round_up(rm, sign, int & 1 != 0, err) {
        int += 1;
        if int == 1 << f {
            biased = 1;
        }
        if int == 1 << (f + 1) {
            biased += 1;
            int >>= 1;
        }
    }
    if err != Frac::Zero && rm == Rm::Odd {
        int |= 1;
    }
    let mut inexact = err != Frac::Zero;
    let result;
    if !ahp {
        if biased >= fmt.emask() as i32 {
            result = if overflow_to_inf {
                fmt.inf(sign)
            } else {
                fmt.max_normal(sign)
            };
            env.raise(OFC);
            inexact = true;
        } else {
            result = fmt.sgn(sign) | ((biased as u64) << f) | (int & fmt.fmask());
        }
    } else if biased > fmt.emask() as i32 {
        result = fmt.sgn(sign) | (fmt.sign_bit() - 1);
        env.raise(IOC);
        inexact = false;
    } else {
        result = fmt.sgn(sign) | ((biased as u64) << f) | (int & fmt.fmask());
    }
    if inexact {
        env.raise(IXC);
    }
    result
}

/// FPRound with the FPCR rounding mode.
#[inline]
fn round(fmt: Fmt, sign: bool, mant: u128, exp: i32, sticky: bool, env: &mut Env) -> u64 {
    let rm = env.rmode();
    round_base(
        fmt,
        Exact {
            sign,
            mant,
            exp,
            sticky,
        },
        env,
        rm,
        false,
    )
}

/// The exact zero of an exact cancellation: -0 only when rounding down.
#[inline]
fn exact_zero(fmt: Fmt, env: &Env) -> u64 {
    fmt.zero(env.rmode() == Rm::NegInf)
}

/// `(s1 * m1 * 2^e1) + (s2 * m2 * 2^e2)` with m1, m2 < 2^107: the sum as
/// (sign, mant, exp, sticky), or `None` if exactly zero.
fn add_exact(
    s1: bool,
    e1: i32,
    m1: u128,
    s2: bool,
    e2: i32,
    m2: u128,
) -> Option<(bool, u128, i32, bool)> {
    if m1 == 0 {
        return if m2 == 0 {
            None
        } else {
            Some((s2, m2, e2, false))
        };
    }
    if m2 == 0 {
        return Some((s1, m1, e1, false));
    }
    let top = |e: i32, m: u128| e + 127 - m.leading_zeros() as i32;
    let ((hs, he, hm), (ls, le, lm)) = if top(e1, m1) >= top(e2, m2) {
        ((s1, e1, m1), (s2, e2, m2))
    } else {
        ((s2, e2, m2), (s1, e1, m1))
    };
    // The larger operand's top bit at 125 leaves room for the carry.
    let hshift = 125 - (127 - hm.leading_zeros() as i32);
    let hm = hm << hshift as u32;
    let base = he - hshift;
    let d = le - base;
    let (lm, sticky) = if d >= 0 {
        (lm << d as u32, false)
    } else if -d >= 128 {
        (0, true)
    } else {
        let s = (-d) as u32;
        (lm >> s, lm & ((1u128 << s) - 1) != 0)
    };
    if hs == ls {
        return Some((hs, hm + lm, base, sticky));
    }
    if lm > hm {
        // Only with no bits shifted out (equal top bits).
        return Some((ls, lm - hm, base, false));
    }
    if hm == lm && !sticky {
        return None;
    }
    // The true low operand is lm + a fraction: borrow one unit.
    Some((hs, hm - lm - u128::from(sticky), base, sticky))
}

/// FPAdd (`negate`: FPSub, negating op2 after NaN processing).
pub fn add(fmt: Fmt, a: u64, b: u64, negate: bool, env: &mut Env) -> u64 {
    match super::host::add(fmt, a, b, negate, env) {
        Some(r) => r,
        None => add_exact_path(fmt, a, b, negate, env),
    }
}

/// [`add`] the exact way, the Arm ARM's pseudocode.
pub(super) fn add_exact_path(fmt: Fmt, a: u64, b: u64, negate: bool, env: &mut Env) -> u64 {
    let ua = unpack(fmt, a, env);
    let mut ub = unpack(fmt, b, env);
    if let Some(n) = process_nans(fmt, &[(ua, a), (ub, b)], env) {
        return n;
    }
    ub.sign ^= negate;
    let (ia, ib) = (ua.ty == Ty::Inf, ub.ty == Ty::Inf);
    if ia && ib && ua.sign != ub.sign {
        env.raise(IOC);
        return fmt.default_nan();
    }
    if ia {
        return fmt.inf(ua.sign);
    }
    if ib {
        return fmt.inf(ub.sign);
    }
    if ua.ty == Ty::Zero && ub.ty == Ty::Zero && ua.sign == ub.sign {
        return fmt.zero(ua.sign);
    }
    match add_exact(
        ua.sign,
        ua.exp,
        u128::from(ua.mant),
        ub.sign,
        ub.exp,
        u128::from(ub.mant),
    ) {
        None => exact_zero(fmt, env),
        Some((s, m, e, st)) => round(fmt, s, m, e, st, env),
    }
}

/// FPMul (`mulx`: FPMulX, where infinity times zero is 2.0).
pub fn mul(fmt: Fmt, a: u64, b: u64, mulx: bool, env: &mut Env) -> u64 {
    // FPMulX differs only for infinities, which the host path leaves alone.
    match super::host::mul(fmt, a, b, env) {
        Some(r) => r,
        None => mul_exact_path(fmt, a, b, mulx, env),
    }
}

/// [`mul`] the exact way, the Arm ARM's pseudocode.
pub(super) fn mul_exact_path(fmt: Fmt, a: u64, b: u64, mulx: bool, env: &mut Env) -> u64 {
    let ua = unpack(fmt, a, env);
    let ub = unpack(fmt, b, env);
    if let Some(n) = process_nans(fmt, &[(ua, a), (ub, b)], env) {
        return n;
    }
    let sign = ua.sign != ub.sign;
    let (ia, ib) = (ua.ty == Ty::Inf, ub.ty == Ty::Inf);
    let (za, zb) = (ua.ty == Ty::Zero, ub.ty == Ty::Zero);
    if (ia && zb) || (za && ib) {
        if mulx {
            return fmt.pow2(sign, 1);
        }
        env.raise(IOC);
        return fmt.default_nan();
    }
    if ia || ib {
        return fmt.inf(sign);
    }
    if za || zb {
        return fmt.zero(sign);
    }
    let m = u128::from(ua.mant) * u128::from(ub.mant);
    round(fmt, sign, m, ua.exp + ub.exp, false, env)
}

/// FPDiv.
pub fn div(fmt: Fmt, a: u64, b: u64, env: &mut Env) -> u64 {
    let ua = unpack(fmt, a, env);
    let ub = unpack(fmt, b, env);
    if let Some(n) = process_nans(fmt, &[(ua, a), (ub, b)], env) {
        return n;
    }
    let sign = ua.sign != ub.sign;
    let (ia, ib) = (ua.ty == Ty::Inf, ub.ty == Ty::Inf);
    let (za, zb) = (ua.ty == Ty::Zero, ub.ty == Ty::Zero);
    if (ia && ib) || (za && zb) {
        env.raise(IOC);
        return fmt.default_nan();
    }
    if ia || zb {
        if !ia {
            env.raise(DZC);
        }
        return fmt.inf(sign);
    }
    if za || ib {
        return fmt.zero(sign);
    }
    let n = u128::from(ua.mant) << (120 - (63 - ua.mant.leading_zeros()));
    let shift = 120 - (63 - ua.mant.leading_zeros()) as i32;
    let d = u128::from(ub.mant);
    let (q, r) = (n / d, n % d);
    round(fmt, sign, q, ua.exp - shift - ub.exp, r != 0, env)
}

/// Integer square root (floor) of a u128.
fn isqrt_u128(n: u128) -> u128 {
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

/// FPSqrt.
pub fn sqrt(fmt: Fmt, a: u64, env: &mut Env) -> u64 {
    let u = unpack(fmt, a, env);
    match u.ty {
        Ty::QNaN | Ty::SNaN => return process_nan(fmt, &u, a, env),
        Ty::Zero => return fmt.zero(u.sign),
        Ty::Inf if !u.sign => return fmt.inf(false),
        _ => {}
    }
    if u.sign {
        env.raise(IOC);
        return fmt.default_nan();
    }
    // mant * 2^exp with an even exponent and the significand near 2^124.
    let lz = u.mant.leading_zeros() as i32;
    let mut sh = 124 - (63 - lz);
    if (u.exp - sh) & 1 != 0 {
        sh -= 1;
    }
    let m = u128::from(u.mant) << sh as u32;
    let r = isqrt_u128(m);
    round(fmt, false, r, (u.exp - sh) / 2, r * r != m, env)
}

/// FPMulAdd: `addend + op1 * op2` with one rounding.
pub fn mul_add(fmt: Fmt, addend: u64, op1: u64, op2: u64, env: &mut Env) -> u64 {
    let ua = unpack(fmt, addend, env);
    let u1 = unpack(fmt, op1, env);
    let u2 = unpack(fmt, op2, env);
    let (i1, i2) = (u1.ty == Ty::Inf, u2.ty == Ty::Inf);
    let (z1, z2) = (u1.ty == Ty::Zero, u2.ty == Ty::Zero);
    let nan = process_nans(fmt, &[(ua, addend), (u1, op1), (u2, op2)], env);
    if ua.ty == Ty::QNaN && ((i1 && z2) || (z1 && i2)) {
        env.raise(IOC);
        return fmt.default_nan();
    }
    if let Some(n) = nan {
        return n;
    }
    let ia = ua.ty == Ty::Inf;
    let sp = u1.sign != u2.sign;
    let ip = i1 || i2;
    let zp = z1 || z2;
    if (i1 && z2) || (z1 && i2) || (ia && ip && ua.sign != sp) {
        env.raise(IOC);
        return fmt.default_nan();
    }
    if (ia && !ua.sign) || (ip && !sp) {
        return fmt.inf(false);
    }
    if (ia && ua.sign) || (ip && sp) {
        return fmt.inf(true);
    }
    if ua.ty == Ty::Zero && zp && ua.sign == sp {
        return fmt.zero(ua.sign);
    }
    let pm = u128::from(u1.mant) * u128::from(u2.mant);
    match add_exact(
        ua.sign,
        ua.exp,
        u128::from(ua.mant),
        sp,
        u1.exp + u2.exp,
        pm,
    ) {
        None => exact_zero(fmt, env),
        Some((s, m, e, st)) => round(fmt, s, m, e, st, env),
    }
}

/// FPRecipStepFused (`rsqrt` false: 2 - op1*op2) and FPRSqrtStepFused
/// (`rsqrt`: (3 - op1*op2) / 2).
pub fn step(fmt: Fmt, op1: u64, op2: u64, rsqrt: bool, env: &mut Env) -> u64 {
    let op1 = fmt.neg(op1);
    let u1 = unpack(fmt, op1, env);
    let u2 = unpack(fmt, op2, env);
    if let Some(n) = process_nans(fmt, &[(u1, op1), (u2, op2)], env) {
        return n;
    }
    let (i1, i2) = (u1.ty == Ty::Inf, u2.ty == Ty::Inf);
    let (z1, z2) = (u1.ty == Ty::Zero, u2.ty == Ty::Zero);
    if (i1 && z2) || (z1 && i2) {
        // FPTwo / FPOnePointFive.
        return if rsqrt {
            fmt.pow2(false, 0) | (1 << (fmt.fbits() - 1))
        } else {
            fmt.pow2(false, 1)
        };
    }
    if i1 || i2 {
        return fmt.inf(u1.sign != u2.sign);
    }
    let sp = u1.sign != u2.sign;
    let pm = u128::from(u1.mant) * u128::from(u2.mant);
    let pe = if z1 || z2 { 0 } else { u1.exp + u2.exp };
    let pm = if z1 || z2 { 0 } else { pm };
    let (c, ce) = if rsqrt { (3u128, -1) } else { (1u128, 1) };
    // rsqrt: (3 + p) / 2 = 3 * 2^-1 + p * 2^-1.
    let pe = if rsqrt { pe - 1 } else { pe };
    match add_exact(false, ce, c, sp, pe, pm) {
        None => fmt.zero(env.rmode() == Rm::NegInf),
        Some((s, m, e, st)) => round(fmt, s, m, e, st, env),
    }
}

/// FPMax / FPMin (`max`), or FPMaxNum / FPMinNum (`num`).
pub fn max_min(fmt: Fmt, a: u64, b: u64, max: bool, num: bool, env: &mut Env) -> u64 {
    let (mut a, mut b) = (a, b);
    if num {
        let ta = unpack(fmt, a, env).ty;
        let tb = unpack(fmt, b, env).ty;
        // A single quiet NaN loses against anything else.
        let lose = fmt.inf(max);
        if ta == Ty::QNaN && tb != Ty::QNaN {
            a = lose;
        } else if ta != Ty::QNaN && tb == Ty::QNaN {
            b = lose;
        }
    }
    let ua = unpack(fmt, a, env);
    let ub = unpack(fmt, b, env);
    if let Some(n) = process_nans(fmt, &[(ua, a), (ub, b)], env) {
        return n;
    }
    let ord = cmp_values(&ua, &ub);
    let pick_a = if max {
        ord == core::cmp::Ordering::Greater
    } else {
        ord == core::cmp::Ordering::Less
    };
    let (u, x) = if pick_a { (ua, a) } else { (ub, b) };
    match u.ty {
        Ty::Inf => fmt.inf(u.sign),
        Ty::Zero => {
            let s = if max {
                ua.sign && ub.sign
            } else {
                ua.sign || ub.sign
            };
            fmt.zero(s)
        }
        _ => x,
    }
}

/// Order of two non-NaN unpacked values.
fn cmp_values(a: &Unp, b: &Unp) -> core::cmp::Ordering {
    use core::cmp::Ordering::*;
    // Map each to (sign class, magnitude key) with zeros equal.
    let key = |u: &Unp| -> (i8, i32, u128) {
        match u.ty {
            Ty::Zero => (0, 0, 0),
            Ty::Inf => (if u.sign { -1 } else { 1 }, i32::MAX, 0),
            _ => {
                // Normalise the significand to bit 63.
                let lz = u.mant.leading_zeros();
                let m = u128::from(u.mant << lz);
                (if u.sign { -1 } else { 1 }, u.exp - lz as i32, m)
            }
        }
    };
    let (ka, kb) = (key(a), key(b));
    if ka.0 != kb.0 {
        return ka.0.cmp(&kb.0);
    }
    let mag = (ka.1, ka.2).cmp(&(kb.1, kb.2));
    match ka.0 {
        0 => Equal,
        1 => mag,
        _ => mag.reverse(),
    }
}

/// FPCompare: NZCV in bits 31:28. `signal`: FCMPE (IOC for quiet NaNs too).
pub fn compare(fmt: Fmt, a: u64, b: u64, signal: bool, env: &mut Env) -> u32 {
    let ua = unpack(fmt, a, env);
    let ub = unpack(fmt, b, env);
    if ua.is_nan() || ub.is_nan() {
        if signal || ua.ty == Ty::SNaN || ub.ty == Ty::SNaN {
            env.raise(IOC);
        }
        return 0b0011 << 28;
    }
    match cmp_values(&ua, &ub) {
        core::cmp::Ordering::Equal => 0b0110 << 28,
        core::cmp::Ordering::Less => 0b1000 << 28,
        core::cmp::Ordering::Greater => 0b0010 << 28,
    }
}

/// A vector compare (FPCompareEQ/GE/GT).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// Equal: IOC only for signalling NaNs.
    Eq,
    /// Greater or equal: IOC for any NaN.
    Ge,
    /// Greater: IOC for any NaN.
    Gt,
}

/// FPCompareEQ / FPCompareGE / FPCompareGT.
pub fn compare_bool(fmt: Fmt, a: u64, b: u64, op: Cmp, env: &mut Env) -> bool {
    let ua = unpack(fmt, a, env);
    let ub = unpack(fmt, b, env);
    if ua.is_nan() || ub.is_nan() {
        if op != Cmp::Eq || ua.ty == Ty::SNaN || ub.ty == Ty::SNaN {
            env.raise(IOC);
        }
        return false;
    }
    let o = cmp_values(&ua, &ub);
    match op {
        Cmp::Eq => o == core::cmp::Ordering::Equal,
        Cmp::Ge => o != core::cmp::Ordering::Less,
        Cmp::Gt => o == core::cmp::Ordering::Greater,
    }
}

/// FPRoundInt (`exact`: FRINTX raises IXC when the value changes).
pub fn round_int(fmt: Fmt, a: u64, rm: Rm, exact: bool, env: &mut Env) -> u64 {
    let u = unpack(fmt, a, env);
    match u.ty {
        Ty::QNaN | Ty::SNaN => return process_nan(fmt, &u, a, env),
        Ty::Inf => return fmt.inf(u.sign),
        Ty::Zero => return fmt.zero(u.sign),
        Ty::Num => {}
    }
    if u.exp >= 0 {
        return a; // already integral
    }
    let (int, err) = split(u128::from(u.mant), -u.exp, false);
    let mut int = int as u64;
    // RoundDown works on the signed value: model it on the magnitude.
    let up = match rm {
        Rm::Zero | Rm::Odd => false,
        _ => round_up(rm, u.sign, int & 1 != 0, err),
    };
    if up {
        int += 1;
    }
    if err != Frac::Zero && exact {
        env.raise(IXC);
    }
    if int == 0 {
        return fmt.zero(u.sign);
    }
    // An integer no larger than the operand: exact in `fmt`.
    let mut inner = Env { flags: 0, ..*env };
    round_base(
        fmt,
        Exact {
            sign: u.sign,
            mant: u128::from(int),
            exp: 0,
            sticky: false,
        },
        &mut inner,
        Rm::Zero,
        false,
    )
}

/// FPToFixed: FP to a `width`-bit (32 or 64) integer with `fbits`
/// fraction bits, saturating; returns the integer zero-extended to u64.
pub fn to_fixed(
    fmt: Fmt,
    a: u64,
    fbits: u32,
    unsigned: bool,
    width: u32,
    rm: Rm,
    env: &mut Env,
) -> u64 {
    let u = unpack(fmt, a, env);
    let (max, min): (i128, i128) = if unsigned {
        ((1i128 << width) - 1, 0)
    } else {
        ((1i128 << (width - 1)) - 1, -(1i128 << (width - 1)))
    };
    let mask = if width == 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    };
    let sat = |v: i128, env: &mut Env, err: Frac| -> u64 {
        if v > max {
            env.raise(IOC);
            max as u64 & mask
        } else if v < min {
            env.raise(IOC);
            min as u64 & mask
        } else {
            if err != Frac::Zero {
                env.raise(IXC);
            }
            v as u64 & mask
        }
    };
    match u.ty {
        Ty::QNaN | Ty::SNaN => {
            env.raise(IOC);
            return 0;
        }
        Ty::Zero => return 0,
        Ty::Inf => {
            return sat(if u.sign { i128::MIN } else { i128::MAX }, env, Frac::Zero);
        }
        Ty::Num => {}
    }
    let e = u.exp + fbits as i32;
    if e > 70 {
        return sat(if u.sign { i128::MIN } else { i128::MAX }, env, Frac::Zero);
    }
    let (int, err) = split(u128::from(u.mant), -e, false);
    let mut int = int;
    // RoundDown of a negative value rounds its magnitude up: the modes
    // on the magnitude follow the sign.
    if round_up(rm, u.sign, int & 1 != 0, err) {
        int += 1;
    }
    let v = if u.sign { -(int as i128) } else { int as i128 };
    sat(v, env, err)
}

/// FixedToFP: a `width`-bit integer with `fbits` fraction bits to `fmt`.
pub fn from_fixed(
    fmt: Fmt,
    x: u64,
    signed: bool,
    width: u32,
    fbits: u32,
    rm: Rm,
    env: &mut Env,
) -> u64 {
    let x = if width == 32 { x & 0xffff_ffff } else { x };
    let (sign, mag) = if signed && (x >> (width - 1)) & 1 != 0 {
        let v = if width == 32 {
            x | 0xffff_ffff_0000_0000
        } else {
            x
        };
        (true, (v as i64).unsigned_abs())
    } else {
        (false, x)
    };
    if mag == 0 {
        return fmt.zero(false);
    }
    round_base(
        fmt,
        Exact {
            sign,
            mant: u128::from(mag),
            exp: -(fbits as i32),
            sticky: false,
        },
        env,
        rm,
        false,
    )
}

/// FPConvert between formats with rounding `rm` (the FPCR mode for FCVT,
/// odd for FCVTXN); AHP applies to half precision.
pub fn convert(from: Fmt, to: Fmt, a: u64, rm: Rm, env: &mut Env) -> u64 {
    let fz = env.fz() && from != Fmt::H;
    let ahp_in = from == Fmt::H && env.ahp();
    let u = unpack_base(from, a, env, fz, ahp_in);
    let alt = to == Fmt::H && env.ahp();
    match u.ty {
        Ty::QNaN | Ty::SNaN => {
            let r = if alt {
                to.zero(u.sign)
            } else if env.dn() {
                to.default_nan()
            } else {
                // FPConvertNaN: the sign and the top fraction bits, quietened.
                let frac = a & from.fmask();
                let f = if to.fbits() >= from.fbits() {
                    frac << (to.fbits() - from.fbits())
                } else {
                    frac >> (from.fbits() - to.fbits())
                };
                to.sgn(u.sign) | (to.emask() << to.fbits()) | f | (1 << (to.fbits() - 1))
            };
            if u.ty == Ty::SNaN || alt {
                env.raise(IOC);
            }
            r
        }
        Ty::Inf => {
            if alt {
                env.raise(IOC);
                to.sgn(u.sign) | (to.sign_bit() - 1)
            } else {
                to.inf(u.sign)
            }
        }
        Ty::Zero => to.zero(u.sign),
        Ty::Num => round_base(
            to,
            Exact {
                sign: u.sign,
                mant: u128::from(u.mant),
                exp: u.exp,
                sticky: false,
            },
            env,
            rm,
            alt,
        ),
    }
}

/// RecipEstimate (ARMv8.0): 256 <= a < 512 -> 256..511.
fn recip_estimate(a: u64) -> u64 {
    let a = a * 2 + 1;
    let b = (1u64 << 19) / a;
    b.div_ceil(2) // round to nearest
}

/// RecipSqrtEstimate (ARMv8.0): 128 <= a < 512 -> 256..511.
fn recip_sqrt_estimate(a: u64) -> u64 {
    let a = if a < 256 {
        a * 2 + 1 // in units of 1/512, rounded to nearest
    } else {
        (((a >> 1) << 1) + 1) * 2 // in units of 1/256, rounded to nearest
    };
    let mut b = 512u64;
    while a * (b + 1) * (b + 1) < 1 << 28 {
        b += 1;
    }
    b.div_ceil(2) // round to nearest
}

/// FPRecipEstimate.
pub fn recip_estimate_fp(fmt: Fmt, a: u64, env: &mut Env) -> u64 {
    let u = unpack(fmt, a, env);
    match u.ty {
        Ty::QNaN | Ty::SNaN => return process_nan(fmt, &u, a, env),
        Ty::Inf => return fmt.zero(u.sign),
        Ty::Zero => {
            env.raise(DZC);
            return fmt.inf(u.sign);
        }
        Ty::Num => {}
    }
    // |value| = mant * 2^exp; its exponent (floor log2).
    let e = u.exp + 63 - u.mant.leading_zeros() as i32;
    let tiny = match fmt {
        Fmt::S => -128,
        _ => -1024,
    };
    if e < tiny {
        let inf = match env.rmode() {
            Rm::PosInf => !u.sign,
            Rm::NegInf => u.sign,
            Rm::Zero => false,
            _ => true,
        };
        env.raise(OFC | IXC);
        return if inf {
            fmt.inf(u.sign)
        } else {
            fmt.max_normal(u.sign)
        };
    }
    if env.fz() && e >= fmt.bias() - 1 {
        env.raise(UFC);
        return fmt.zero(u.sign);
    }
    let (mut exp, mut fraction) = match fmt {
        Fmt::S => ((a >> 23) as i64 & 0xff, (a & 0x7f_ffff) << 29),
        _ => ((a >> 52) as i64 & 0x7ff, a & ((1 << 52) - 1)),
    };
    if exp == 0 {
        if fraction >> 51 & 1 == 0 {
            exp = -1;
            fraction = (fraction << 2) & ((1 << 52) - 1);
        } else {
            fraction = (fraction << 1) & ((1 << 52) - 1);
        }
    }
    let scaled = 256 | (fraction >> 44);
    let mut result_exp = match fmt {
        Fmt::S => 253 - exp,
        _ => 2045 - exp,
    };
    let estimate = recip_estimate(scaled);
    let mut fraction = (estimate & 0xff) << 44;
    if result_exp == 0 {
        fraction = (1 << 51) | (fraction >> 1);
    } else if result_exp == -1 {
        fraction = (1 << 50) | (fraction >> 2);
        result_exp = 0;
    }
    match fmt {
        Fmt::S => fmt.sgn(u.sign) | ((result_exp as u64) << 23) | (fraction >> 29),
        _ => fmt.sgn(u.sign) | ((result_exp as u64) << 52) | fraction,
    }
}

/// FPRSqrtEstimate.
pub fn rsqrt_estimate_fp(fmt: Fmt, a: u64, env: &mut Env) -> u64 {
    let u = unpack(fmt, a, env);
    match u.ty {
        Ty::QNaN | Ty::SNaN => return process_nan(fmt, &u, a, env),
        Ty::Zero => {
            env.raise(DZC);
            return fmt.inf(u.sign);
        }
        _ if u.sign => {
            env.raise(IOC);
            return fmt.default_nan();
        }
        Ty::Inf => return fmt.zero(false),
        Ty::Num => {}
    }
    let (mut exp, mut fraction) = match fmt {
        Fmt::S => ((a >> 23) as i64 & 0xff, (a & 0x7f_ffff) << 29),
        _ => ((a >> 52) as i64 & 0x7ff, a & ((1 << 52) - 1)),
    };
    if exp == 0 {
        while fraction >> 51 & 1 == 0 {
            fraction = (fraction << 1) & ((1 << 52) - 1);
            exp -= 1;
        }
        fraction = (fraction << 1) & ((1 << 52) - 1);
    }
    // An odd biased exponent is an even unbiased one: scale into
    // [0.25, 0.5), else into [0.5, 1).
    let scaled = if exp & 1 != 0 {
        0x80 | (fraction >> 45)
    } else {
        0x100 | (fraction >> 44)
    };
    let result_exp = match fmt {
        Fmt::S => (380 - exp) / 2,
        _ => (3068 - exp) / 2,
    };
    let estimate = recip_sqrt_estimate(scaled);
    match fmt {
        Fmt::S => ((result_exp as u64 & 0xff) << 23) | ((estimate & 0xff) << 15),
        _ => ((result_exp as u64 & 0x7ff) << 52) | ((estimate & 0xff) << 44),
    }
}

/// FPRecpX.
pub fn recpx(fmt: Fmt, a: u64, env: &mut Env) -> u64 {
    let u = unpack(fmt, a, env);
    if u.is_nan() {
        return process_nan(fmt, &u, a, env);
    }
    let exp = (a >> fmt.fbits()) & fmt.emask();
    let e = if exp == 0 {
        fmt.emask() - 1
    } else {
        !exp & fmt.emask()
    };
    fmt.sgn(u.sign) | (e << fmt.fbits())
}

/// UnsignedRecipEstimate (URECPE) of a 32-bit lane.
pub fn urecpe(x: u32) -> u32 {
    if x >> 31 == 0 {
        return u32::MAX;
    }
    let est = recip_estimate(u64::from(x >> 23));
    ((est & 0x1ff) as u32) << 23
}

/// UnsignedRSqrtEstimate (URSQRTE) of a 32-bit lane.
pub fn ursqrte(x: u32) -> u32 {
    if x >> 30 == 0 {
        return u32::MAX;
    }
    let est = recip_sqrt_estimate(u64::from(x >> 23));
    ((est & 0x1ff) as u32) << 23
}

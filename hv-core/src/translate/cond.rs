//! Condition codes: the `cond` field of B.cond, CSEL, CCMP, FCSEL and
//! friends, and the one test of NZCV against it that every tier uses.

/// A condition code (`cond` field, 0..=15: EQ NE CS CC MI PL VS VC HI LS GE
/// LT GT LE AL NV).
pub type Cond = u8;

/// Whether condition `cond` holds for `nzcv` (PSTATE layout).
#[inline]
pub fn cond_holds(cond: Cond, nzcv: u32) -> bool {
    let n = nzcv & (1 << 31) != 0;
    let z = nzcv & (1 << 30) != 0;
    let c = nzcv & (1 << 29) != 0;
    let v = nzcv & (1 << 28) != 0;
    let r = match (cond >> 1) & 7 {
        0 => z,
        1 => c,
        2 => n,
        3 => v,
        4 => c && !z,
        5 => n == v,
        6 => n == v && !z,
        _ => true,
    };
    if cond & 1 != 0 && cond != 15 {
        !r
    } else {
        r
    }
}

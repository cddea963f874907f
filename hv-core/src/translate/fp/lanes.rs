//! Vector lane access on a 128-bit register value.

/// Low `esize` bits of lane `i` of `v`.
#[inline]
pub(super) fn lane(v: u128, esize: u32, i: u32) -> u64 {
    let m = if esize >= 64 {
        u64::MAX
    } else {
        (1u64 << esize) - 1
    };
    ((v >> (i * esize)) as u64) & m
}

#[inline]
pub(super) fn set_lane(v: &mut u128, esize: u32, i: u32, x: u64) {
    let m: u128 = if esize >= 64 {
        u128::from(u64::MAX)
    } else {
        (1u128 << esize) - 1
    };
    let sh = i * esize;
    *v = (*v & !(m << sh)) | ((u128::from(x) & m) << sh);
}

#[inline]
pub(super) fn sext(x: u64, bits: u32) -> i64 {
    let sh = 64 - bits;
    ((x << sh) as i64) >> sh
}

#[inline]
pub(super) fn qmask(q: bool, v: u128) -> u128 {
    if q {
        v
    } else {
        v & u128::from(u64::MAX)
    }
}

//! Address newtypes that carry their unit, so a guest-physical address is
//! never confused with a host pointer or an offset.

use core::fmt;

/// A guest-physical address (an IPA on AArch64).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct GuestAddress(pub u64);

impl GuestAddress {
    /// The raw address value.
    #[inline]
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// `self + offset`, or `None` on overflow.
    #[inline]
    pub const fn checked_add(self, offset: u64) -> Option<GuestAddress> {
        match self.0.checked_add(offset) {
            Some(a) => Some(GuestAddress(a)),
            None => None,
        }
    }

    /// The distance from `base` to `self`, or `None` if `self < base`.
    #[inline]
    pub const fn checked_offset_from(self, base: GuestAddress) -> Option<u64> {
        self.0.checked_sub(base.0)
    }

    /// Whether the address is a multiple of `align` (a power of two).
    #[inline]
    pub const fn is_aligned(self, align: u64) -> bool {
        debug_assert!(align.is_power_of_two());
        self.0 & (align - 1) == 0
    }
}

impl fmt::Display for GuestAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

impl fmt::Debug for GuestAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GuestAddress({:#x})", self.0)
    }
}

impl fmt::LowerHex for GuestAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn checked_add_reports_overflow() {
        assert_eq!(GuestAddress(u64::MAX).checked_add(1), None);
        assert_eq!(GuestAddress(1).checked_add(2), Some(GuestAddress(3)));
    }

    #[test]
    fn offset_from_below_base_is_none() {
        assert_eq!(GuestAddress(5).checked_offset_from(GuestAddress(6)), None);
        assert_eq!(
            GuestAddress(6).checked_offset_from(GuestAddress(5)),
            Some(1)
        );
    }

    #[test]
    fn displays_as_hex() {
        assert_eq!(format!("{}", GuestAddress(0x4000_0000)), "0x40000000");
    }
}

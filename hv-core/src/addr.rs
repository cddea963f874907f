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
        self.0 & align.wrapping_sub(1) == 0
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

/// An address in some address space, as a raw `u64` underneath. Lets the
/// page-table code stay generic over which space it translates from and to.
pub trait Address: Copy + Eq + Ord + fmt::Debug + fmt::LowerHex {
    /// Wrap a raw value.
    fn from_raw(raw: u64) -> Self;
    /// The raw value.
    fn to_raw(self) -> u64;
}

impl Address for GuestAddress {
    #[inline]
    fn from_raw(raw: u64) -> Self {
        GuestAddress(raw)
    }
    #[inline]
    fn to_raw(self) -> u64 {
        self.0
    }
}

macro_rules! addr_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub u64);

        impl $name {
            /// The raw address value.
            #[inline]
            pub const fn raw(self) -> u64 {
                self.0
            }

            /// `self + offset`, or `None` on overflow.
            #[inline]
            pub const fn checked_add(self, offset: u64) -> Option<$name> {
                match self.0.checked_add(offset) {
                    Some(a) => Some($name(a)),
                    None => None,
                }
            }

            /// Whether the address is a multiple of `align` (a power of two).
            #[inline]
            pub const fn is_aligned(self, align: u64) -> bool {
                self.0 & align.wrapping_sub(1) == 0
            }
        }

        impl Address for $name {
            #[inline]
            fn from_raw(raw: u64) -> Self {
                $name(raw)
            }
            #[inline]
            fn to_raw(self) -> u64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:#x}", self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:#x})"), self.0)
            }
        }

        impl fmt::LowerHex for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::LowerHex::fmt(&self.0, f)
            }
        }
    };
}

addr_newtype!(
    /// A host-physical address: where frames and stage-2 page tables live,
    /// and what a stage-2 (or NPT/EPT) translation produces.
    PhysAddr
);
addr_newtype!(
    /// A guest-virtual address: the input of a guest's stage-1 translation.
    VirtAddr
);

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
        assert_eq!(format!("{:?}", PhysAddr(0x1000)), "PhysAddr(0x1000)");
        assert_eq!(format!("{}", VirtAddr(0xff)), "0xff");
    }

    #[test]
    fn newtypes_check_overflow_and_alignment() {
        assert_eq!(PhysAddr(u64::MAX).checked_add(1), None);
        assert!(PhysAddr(0x20_0000).is_aligned(0x20_0000));
        assert!(!VirtAddr(0x20_1000).is_aligned(0x20_0000));
        assert_eq!(<PhysAddr as Address>::from_raw(7).to_raw(), 7);
    }
}

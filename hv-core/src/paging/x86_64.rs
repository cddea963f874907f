//! x86_64 nested paging, 4 levels (PML4, PDPT, PD, PT): AMD NPT (the
//! ordinary long-mode entry format) and Intel EPT.

use super::{Attrs, Desc, Format, MapError};
use crate::addr::{GuestAddress, PhysAddr};

/// Address bits of an entry: `[51:12]`.
const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

bitflags::bitflags! {
    /// Long-mode page-table entry bits, as AMD NPT uses them.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct NptEntry: u64 {
        /// Present.
        const PRESENT = 1 << 0;
        /// Writable.
        const WRITABLE = 1 << 1;
        /// User: NPT walks are user accesses, so every entry sets it.
        const USER = 1 << 2;
        /// Write-through.
        const PWT = 1 << 3;
        /// Cache disable.
        const PCD = 1 << 4;
        /// Accessed.
        const ACCESSED = 1 << 5;
        /// Dirty (leaves).
        const DIRTY = 1 << 6;
        /// Page size: a 2 MiB / 1 GiB leaf in a PD / PDPT.
        const HUGE = 1 << 7;
        /// No execute.
        const NX = 1 << 63;
    }
}

bitflags::bitflags! {
    /// Intel EPT entry bits (SDM vol. 3, 29.3.2).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct EptEntry: u64 {
        /// Read access.
        const READ = 1 << 0;
        /// Write access.
        const WRITE = 1 << 1;
        /// Execute access.
        const EXEC = 1 << 2;
        /// EPT memory type = 6 (write-back), bits [5:3] of a leaf.
        const MT_WB = 6 << 3;
        /// Ignore the guest PAT.
        const IGNORE_PAT = 1 << 6;
        /// A 2 MiB / 1 GiB leaf.
        const HUGE = 1 << 7;
        /// Accessed (with EPTP A/D enabled).
        const ACCESSED = 1 << 8;
        /// Dirty.
        const DIRTY = 1 << 9;
    }
}

fn leaf_size_bits(level: u8) -> u64 {
    if level == 3 {
        0
    } else {
        1 << 7
    }
}

fn leaf_base(raw: u64, level: u8) -> u64 {
    raw & ADDR_MASK & !(super::level_size(level) - 1)
}

/// AMD nested page tables (guest-physical -> host-physical).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Npt {}

impl Format for Npt {
    type In = GuestAddress;
    type Out = PhysAddr;
    const OA_BITS: u32 = 52;

    fn supports_levels(levels: u8) -> bool {
        levels == 4
    }

    #[inline]
    fn table(next: u64) -> u64 {
        (next & ADDR_MASK) | (NptEntry::PRESENT | NptEntry::WRITABLE | NptEntry::USER).bits()
    }

    #[inline]
    fn leaf(oa: u64, attrs: Attrs, level: u8) -> Result<u64, MapError> {
        // Present means readable: there is no write- or execute-only entry.
        if !attrs.contains(Attrs::READ) {
            return Err(MapError::UnsupportedAttrs(attrs));
        }
        let mut e = NptEntry::PRESENT | NptEntry::USER | NptEntry::ACCESSED | NptEntry::DIRTY;
        if attrs.contains(Attrs::WRITE) {
            e |= NptEntry::WRITABLE;
        }
        if !attrs.contains(Attrs::EXEC) {
            e |= NptEntry::NX;
        }
        if attrs.contains(Attrs::DEVICE) {
            e |= NptEntry::PCD | NptEntry::PWT;
        }
        Ok((oa & ADDR_MASK) | e.bits() | leaf_size_bits(level))
    }

    #[inline]
    fn decode(raw: u64, level: u8) -> Desc {
        let e = NptEntry::from_bits_retain(raw);
        if !e.contains(NptEntry::PRESENT) {
            return Desc::Invalid;
        }
        match (level, e.contains(NptEntry::HUGE)) {
            (0..=2, false) => return Desc::Table(raw & ADDR_MASK),
            (1 | 2, true) | (3, _) => {}
            // PS in a PML4 entry is reserved: a fault.
            _ => return Desc::Invalid,
        }
        let mut attrs = Attrs::READ;
        if e.contains(NptEntry::WRITABLE) {
            attrs |= Attrs::WRITE;
        }
        if !e.contains(NptEntry::NX) {
            attrs |= Attrs::EXEC;
        }
        if e.contains(NptEntry::PCD) {
            attrs |= Attrs::DEVICE;
        }
        Desc::Leaf(leaf_base(raw, level), attrs)
    }
}

/// Intel extended page tables (guest-physical -> host-physical).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ept {}

impl Format for Ept {
    type In = GuestAddress;
    type Out = PhysAddr;
    const OA_BITS: u32 = 52;

    fn supports_levels(levels: u8) -> bool {
        levels == 4
    }

    #[inline]
    fn table(next: u64) -> u64 {
        (next & ADDR_MASK) | (EptEntry::READ | EptEntry::WRITE | EptEntry::EXEC).bits()
    }

    #[inline]
    fn leaf(oa: u64, attrs: Attrs, level: u8) -> Result<u64, MapError> {
        // Write without read is an EPT misconfiguration; require READ like
        // the other formats.
        if !attrs.contains(Attrs::READ) {
            return Err(MapError::UnsupportedAttrs(attrs));
        }
        let mut e = EptEntry::READ | EptEntry::IGNORE_PAT;
        if attrs.contains(Attrs::WRITE) {
            e |= EptEntry::WRITE;
        }
        if attrs.contains(Attrs::EXEC) {
            e |= EptEntry::EXEC;
        }
        // Memory type 0 (uncacheable) for device memory, else write-back.
        if !attrs.contains(Attrs::DEVICE) {
            e |= EptEntry::MT_WB;
        }
        Ok((oa & ADDR_MASK) | e.bits() | leaf_size_bits(level))
    }

    #[inline]
    fn decode(raw: u64, level: u8) -> Desc {
        let e = EptEntry::from_bits_retain(raw);
        if raw & 0b111 == 0 {
            return Desc::Invalid;
        }
        match (level, e.contains(EptEntry::HUGE)) {
            (0..=2, false) => return Desc::Table(raw & ADDR_MASK),
            (1 | 2, true) | (3, _) => {}
            _ => return Desc::Invalid,
        }
        // Write-only and execute-only-without-support are
        // misconfigurations; treat anything without read as a fault.
        if !e.contains(EptEntry::READ) {
            return Desc::Invalid;
        }
        let mut attrs = Attrs::READ;
        if e.contains(EptEntry::WRITE) {
            attrs |= Attrs::WRITE;
        }
        if e.contains(EptEntry::EXEC) {
            attrs |= Attrs::EXEC;
        }
        if (raw >> 3) & 0b111 != 6 {
            attrs |= Attrs::DEVICE;
        }
        Desc::Leaf(leaf_base(raw, level), attrs)
    }
}

/// The EPT pointer for a 4-level table at `root`: write-back walks, page
/// walk length 4, accessed/dirty flags off.
pub const fn eptp(root: PhysAddr) -> Result<u64, MapError> {
    if root.raw() & 0xfff != 0 {
        return Err(MapError::Misaligned { addr: root.raw() });
    }
    if root.raw() & !ADDR_MASK != 0 {
        return Err(MapError::OutOfRange { addr: root.raw() });
    }
    Ok(root.raw() | (3 << 3) | 6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npt_entries() {
        let pt = Npt::leaf(0x1_2345_6000, Attrs::RW, 3).unwrap();
        assert_eq!(pt, 0x8000_0001_2345_6067);
        let pd = Npt::leaf(0x4000_0000, Attrs::RWX, 2).unwrap();
        assert_eq!(pd & NptEntry::HUGE.bits(), NptEntry::HUGE.bits());
        assert_eq!(Npt::decode(pd, 2), Desc::Leaf(0x4000_0000, Attrs::RWX));
        assert_eq!(Npt::decode(Npt::table(0x5000), 0), Desc::Table(0x5000));
        // PS set in a PML4 entry is reserved.
        assert_eq!(Npt::decode(pd, 0), Desc::Invalid);
    }

    #[test]
    fn ept_entries() {
        let pt = Ept::leaf(0x7000, Attrs::RWX, 3).unwrap();
        assert_eq!(pt, 0x7077);
        let dev = Ept::leaf(0x20_0000, Attrs::READ | Attrs::DEVICE, 2).unwrap();
        assert_eq!(dev, 0x20_00c1);
        assert_eq!(
            Ept::decode(dev, 2),
            Desc::Leaf(0x20_0000, Attrs::READ | Attrs::DEVICE)
        );
        // Write-only is a misconfiguration, not a mapping.
        assert_eq!(Ept::decode(0x7002, 3), Desc::Invalid);
        assert_eq!(eptp(PhysAddr(0x10_0000)), Ok(0x10_001e));
    }
}

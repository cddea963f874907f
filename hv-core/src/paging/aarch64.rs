//! AArch64 VMSAv8-64 descriptors, 4 KiB granule: stage 2 (IPA -> PA) and
//! stage 1 EL1&0 (VA -> IPA), plus the register values that go with them.
//!
//! Only values are computed here; writing `VTTBR_EL2` / `VTCR_EL2` and the
//! `TLBI` that must follow a change are hv-kernel's arch code.

use super::{Asid, Attrs, Desc, Format, MapError, Vmid};
use crate::addr::{GuestAddress, PhysAddr, VirtAddr};

/// Output address bits of a descriptor: `[47:12]` (no FEAT_LPA).
const OA_MASK: u64 = 0x0000_ffff_ffff_f000;

bitflags::bitflags! {
    /// Stage-2 block/page/table descriptor bits (ARM DDI 0487, D8.3).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct S2Desc: u64 {
        /// Valid.
        const VALID = 1 << 0;
        /// Table (levels 0-2) or page (level 3); clear for a block.
        const TABLE_OR_PAGE = 1 << 1;
        /// MemAttr[3:0] = 0b1111: Normal, inner and outer write-back.
        const MEMATTR_NORMAL_WB = 0b1111 << 2;
        /// MemAttr[3:0] = 0b0001: Device-nGnRE.
        const MEMATTR_DEVICE_NGNRE = 0b0001 << 2;
        /// S2AP[0]: stage-2 read access.
        const S2AP_R = 1 << 6;
        /// S2AP[1]: stage-2 write access.
        const S2AP_W = 1 << 7;
        /// SH = 0b11: inner shareable.
        const SH_INNER = 0b11 << 8;
        /// Access flag (set: no access-flag fault).
        const AF = 1 << 10;
        /// XN[1] (bit 54): execute never at EL1 and EL0.
        const XN = 1 << 54;
    }
}

bitflags::bitflags! {
    /// Stage-1 block/page/table descriptor bits.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct S1Desc: u64 {
        /// Valid.
        const VALID = 1 << 0;
        /// Table (levels 0-2) or page (level 3); clear for a block.
        const TABLE_OR_PAGE = 1 << 1;
        /// AttrIndx = 1: MAIR slot 1, Device-nGnRE (slot 0 is normal WB).
        const ATTR_DEVICE = 1 << 2;
        /// AP[1]: accessible from EL0.
        const AP_EL0 = 1 << 6;
        /// AP[2]: read-only.
        const AP_RO = 1 << 7;
        /// SH = 0b11: inner shareable.
        const SH_INNER = 0b11 << 8;
        /// Access flag.
        const AF = 1 << 10;
        /// Not global: tagged with the current ASID.
        const NG = 1 << 11;
        /// Privileged execute never.
        const PXN = 1 << 53;
        /// Unprivileged execute never.
        const UXN = 1 << 54;
    }
}

/// `MAIR_EL1` for [`Stage1`] tables: slot 0 normal write-back
/// read/write-allocate, slot 1 Device-nGnRE.
pub const MAIR_EL1: u64 = 0x04_ff;

/// AArch64 stage-2 translation (IPA -> PA), 3 or 4 levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage2 {}

impl Format for Stage2 {
    type In = GuestAddress;
    type Out = PhysAddr;
    const OA_BITS: u32 = 48;

    fn supports_levels(levels: u8) -> bool {
        levels == 3 || levels == 4
    }

    #[inline]
    fn table(next: u64) -> u64 {
        (next & OA_MASK) | (S2Desc::VALID | S2Desc::TABLE_OR_PAGE).bits()
    }

    #[inline]
    fn leaf(oa: u64, attrs: Attrs, level: u8) -> Result<u64, MapError> {
        if !attrs.contains(Attrs::READ) {
            return Err(MapError::UnsupportedAttrs(attrs));
        }
        let mut d = S2Desc::VALID | S2Desc::AF | S2Desc::S2AP_R;
        if level == 3 {
            d |= S2Desc::TABLE_OR_PAGE;
        }
        if attrs.contains(Attrs::WRITE) {
            d |= S2Desc::S2AP_W;
        }
        if !attrs.contains(Attrs::EXEC) {
            d |= S2Desc::XN;
        }
        if attrs.contains(Attrs::DEVICE) {
            d |= S2Desc::MEMATTR_DEVICE_NGNRE;
        } else {
            d |= S2Desc::MEMATTR_NORMAL_WB | S2Desc::SH_INNER;
        }
        Ok((oa & OA_MASK) | d.bits())
    }

    #[inline]
    fn decode(raw: u64, level: u8) -> Desc {
        let d = S2Desc::from_bits_retain(raw);
        if !d.contains(S2Desc::VALID) {
            return Desc::Invalid;
        }
        let page_bit = d.contains(S2Desc::TABLE_OR_PAGE);
        match (level, page_bit) {
            (0..=2, true) => return Desc::Table(raw & OA_MASK),
            (1 | 2, false) | (3, true) => {}
            // Level-0 blocks (no LPA2) and 0b01 at level 3 are reserved:
            // they fault like an invalid descriptor.
            _ => return Desc::Invalid,
        }
        let mut attrs = Attrs::empty();
        if d.contains(S2Desc::S2AP_R) {
            attrs |= Attrs::READ;
        }
        if d.contains(S2Desc::S2AP_W) {
            attrs |= Attrs::WRITE;
        }
        if !d.contains(S2Desc::XN) {
            attrs |= Attrs::EXEC;
        }
        if (raw >> 2) & 0b1111 != 0b1111 {
            attrs |= Attrs::DEVICE;
        }
        Desc::Leaf(raw & OA_MASK & !(super::level_size(level) - 1), attrs)
    }
}

/// A stage-1 table descriptor (the same in every stage-1 regime).
#[inline]
fn s1_table(next: u64) -> u64 {
    (next & OA_MASK) | (S1Desc::VALID | S1Desc::TABLE_OR_PAGE).bits()
}

/// The bits of a stage-1 block or page descriptor found at `level`, or what
/// the descriptor is when it is not one (invalid, or a table).
#[inline]
fn s1_leaf_bits(raw: u64, level: u8) -> Result<S1Desc, Desc> {
    let d = S1Desc::from_bits_retain(raw);
    if !d.contains(S1Desc::VALID) {
        return Err(Desc::Invalid);
    }
    match (level, d.contains(S1Desc::TABLE_OR_PAGE)) {
        (0..=2, true) => Err(Desc::Table(raw & OA_MASK)),
        (1 | 2, false) | (3, true) => Ok(d),
        _ => Err(Desc::Invalid),
    }
}

/// AArch64 stage-1 EL1&0 translation (VA -> IPA), 2 to 4 levels (TxSZ 16
/// to 39 with the 4 KiB granule), as a guest's own tables describe it (the
/// soft MMU walks these).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage1 {}

impl Format for Stage1 {
    type In = VirtAddr;
    type Out = GuestAddress;
    const OA_BITS: u32 = 48;

    fn supports_levels(levels: u8) -> bool {
        (2..=4).contains(&levels)
    }

    #[inline]
    fn table(next: u64) -> u64 {
        s1_table(next)
    }

    #[inline]
    fn leaf(oa: u64, attrs: Attrs, level: u8) -> Result<u64, MapError> {
        // Every valid stage-1 mapping is readable at EL1.
        if !attrs.contains(Attrs::READ) {
            return Err(MapError::UnsupportedAttrs(attrs));
        }
        let mut d = S1Desc::VALID | S1Desc::AF | S1Desc::SH_INNER;
        if level == 3 {
            d |= S1Desc::TABLE_OR_PAGE;
        }
        if !attrs.contains(Attrs::WRITE) {
            d |= S1Desc::AP_RO;
        }
        if attrs.contains(Attrs::USER) {
            // User pages are never executable at EL1 (PAN-style hygiene).
            d |= S1Desc::AP_EL0 | S1Desc::PXN;
            if !attrs.contains(Attrs::EXEC) {
                d |= S1Desc::UXN;
            }
        } else {
            d |= S1Desc::UXN;
            if !attrs.contains(Attrs::EXEC) {
                d |= S1Desc::PXN;
            }
        }
        if attrs.contains(Attrs::DEVICE) {
            d |= S1Desc::ATTR_DEVICE;
        }
        if !attrs.contains(Attrs::GLOBAL) {
            d |= S1Desc::NG;
        }
        Ok((oa & OA_MASK) | d.bits())
    }

    #[inline]
    fn decode(raw: u64, level: u8) -> Desc {
        let d = match s1_leaf_bits(raw, level) {
            Ok(d) => d,
            Err(desc) => return desc,
        };
        let mut attrs = Attrs::READ;
        if !d.contains(S1Desc::AP_RO) {
            attrs |= Attrs::WRITE;
        }
        let user = d.contains(S1Desc::AP_EL0);
        if user {
            attrs |= Attrs::USER;
        }
        let xn = if user { S1Desc::UXN } else { S1Desc::PXN };
        if !d.contains(xn) {
            attrs |= Attrs::EXEC;
        }
        // AttrIndx[2:0]: slot 0 is normal memory, anything else device.
        if (raw >> 2) & 0b111 != 0 {
            attrs |= Attrs::DEVICE;
        }
        if !d.contains(S1Desc::NG) {
            attrs |= Attrs::GLOBAL;
        }
        Desc::Leaf(raw & OA_MASK & !(super::level_size(level) - 1), attrs)
    }
}

/// AArch64 stage-1 translation of the EL2 regime (non-VHE: one privilege
/// level), VA -> PA: the hypervisor's own identity map. AP[1] is RES1, bit 54
/// is XN, there are no ASIDs (every entry is global) and no EL0 access, so
/// [`Attrs::USER`] is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum El2 {}

impl Format for El2 {
    type In = VirtAddr;
    type Out = PhysAddr;
    const OA_BITS: u32 = 48;

    fn supports_levels(levels: u8) -> bool {
        levels == 3 || levels == 4
    }

    #[inline]
    fn table(next: u64) -> u64 {
        s1_table(next)
    }

    #[inline]
    fn leaf(oa: u64, attrs: Attrs, level: u8) -> Result<u64, MapError> {
        if !attrs.contains(Attrs::READ) || attrs.contains(Attrs::USER) {
            return Err(MapError::UnsupportedAttrs(attrs));
        }
        // AP_EL0 is AP[1], RES1 in a one-privilege regime.
        let mut d = S1Desc::VALID | S1Desc::AF | S1Desc::SH_INNER | S1Desc::AP_EL0;
        if level == 3 {
            d |= S1Desc::TABLE_OR_PAGE;
        }
        if !attrs.contains(Attrs::WRITE) {
            d |= S1Desc::AP_RO;
        }
        if !attrs.contains(Attrs::EXEC) {
            // Bit 54 is XN in this regime.
            d |= S1Desc::UXN;
        }
        if attrs.contains(Attrs::DEVICE) {
            d |= S1Desc::ATTR_DEVICE;
        }
        Ok((oa & OA_MASK) | d.bits())
    }

    #[inline]
    fn decode(raw: u64, level: u8) -> Desc {
        let d = match s1_leaf_bits(raw, level) {
            Ok(d) => d,
            Err(desc) => return desc,
        };
        let mut attrs = Attrs::READ | Attrs::GLOBAL;
        if !d.contains(S1Desc::AP_RO) {
            attrs |= Attrs::WRITE;
        }
        if !d.contains(S1Desc::UXN) {
            attrs |= Attrs::EXEC;
        }
        if (raw >> 2) & 0b111 != 0 {
            attrs |= Attrs::DEVICE;
        }
        Desc::Leaf(raw & OA_MASK & !(super::level_size(level) - 1), attrs)
    }
}

/// `MAIR_EL2` for [`El2`] tables (the same slots as [`MAIR_EL1`]).
pub const MAIR_EL2: u64 = MAIR_EL1;

/// `TCR_EL2` (non-VHE) for an [`El2`] table of 3 levels (39-bit VA,
/// starting at level 1) on a CPU with `pa_bits`-bit physical addresses:
/// 4 KiB granule, write-back inner-shareable table walks.
pub const fn tcr_el2(pa_bits: u32) -> Result<u64, MapError> {
    let ps = match pa_bits {
        32 => 0b000,
        36 => 0b001,
        40 => 0b010,
        42 => 0b011,
        44 => 0b100,
        48 => 0b101,
        _ => return Err(MapError::Unsupported),
    };
    const RES1: u64 = (1 << 31) | (1 << 23);
    const SH0_INNER: u64 = 0b11 << 12;
    const ORGN0_WBWA: u64 = 0b01 << 10;
    const IRGN0_WBWA: u64 = 0b01 << 8;
    const T0SZ_39: u64 = 25;
    Ok(RES1 | (ps << 16) | SH0_INNER | ORGN0_WBWA | IRGN0_WBWA | T0SZ_39)
}

/// `VTCR_EL2` for a [`Stage2`] table of `levels` levels (3: 39-bit IPA
/// starting at level 1; 4: 48-bit IPA starting at level 0) on a CPU whose
/// physical addresses have `pa_bits` bits (`ID_AA64MMFR0_EL1.PARange`).
/// Normal write-back inner-shareable table walks, 4 KiB granule, 16-bit
/// VMIDs.
pub const fn vtcr_el2(levels: u8, pa_bits: u32) -> Result<u64, MapError> {
    let ps = match pa_bits {
        32 => 0b000,
        36 => 0b001,
        40 => 0b010,
        42 => 0b011,
        44 => 0b100,
        48 => 0b101,
        _ => return Err(MapError::Unsupported),
    };
    let (t0sz, sl0, ia_bits) = match levels {
        3 => (25u64, 0b01u64, 39),
        4 => (16, 0b10, 48),
        _ => return Err(MapError::Unsupported),
    };
    // The IPA space cannot be larger than the PA space.
    if ia_bits > pa_bits {
        return Err(MapError::Unsupported);
    }
    const RES1: u64 = 1 << 31;
    const VS_16BIT: u64 = 1 << 19;
    const SH0_INNER: u64 = 0b11 << 12;
    const ORGN0_WBWA: u64 = 0b01 << 10;
    const IRGN0_WBWA: u64 = 0b01 << 8;
    // TG0 = 0b00: 4 KiB granule.
    Ok(RES1 | VS_16BIT | (ps << 16) | SH0_INNER | ORGN0_WBWA | IRGN0_WBWA | (sl0 << 6) | t0sz)
}

/// `VTTBR_EL2` for a stage-2 table at `root` used by `vmid`.
pub const fn vttbr_el2(root: PhysAddr, vmid: Vmid) -> Result<u64, MapError> {
    if root.raw() & 0xfff != 0 {
        return Err(MapError::Misaligned { addr: root.raw() });
    }
    if root.raw() & !OA_MASK != 0 {
        return Err(MapError::OutOfRange { addr: root.raw() });
    }
    Ok(((vmid.0 as u64) << 48) | root.raw())
}

/// `TTBR0_EL1` for a stage-1 table at `root` (a guest-physical address)
/// with `asid`.
pub const fn ttbr0_el1(root: GuestAddress, asid: Asid) -> Result<u64, MapError> {
    if root.raw() & 0xfff != 0 {
        return Err(MapError::Misaligned { addr: root.raw() });
    }
    if root.raw() & !OA_MASK != 0 {
        return Err(MapError::OutOfRange { addr: root.raw() });
    }
    Ok(((asid.0 as u64) << 48) | root.raw())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn el2_descriptors_have_ap1_set_and_xn_at_bit_54() {
        let code = El2::leaf(0x4020_0000, Attrs::RWX | Attrs::GLOBAL, 2).unwrap();
        assert_eq!(code & (1 << 6), 1 << 6, "AP[1] is RES1");
        assert_eq!(code & (1 << 54), 0, "executable");
        assert_eq!(code & 0b11, 0b01, "a block at level 2");
        let dev = El2::leaf(0x0900_0000, Attrs::RW | Attrs::DEVICE, 3).unwrap();
        assert_ne!(dev & (1 << 54), 0, "device memory is XN");
        assert_eq!((dev >> 2) & 0b111, 1, "MAIR slot 1");
        assert_eq!(
            El2::decode(dev, 3),
            Desc::Leaf(0x0900_0000, Attrs::RW | Attrs::DEVICE | Attrs::GLOBAL)
        );
        assert_eq!(
            El2::leaf(0, Attrs::RW | Attrs::USER, 3),
            Err(MapError::UnsupportedAttrs(Attrs::RW | Attrs::USER))
        );
        assert_eq!(
            tcr_el2(40),
            Ok((1 << 31) | (1 << 23) | (0b010 << 16) | (0b11 << 12) | (1 << 10) | (1 << 8) | 25)
        );
        assert_eq!(tcr_el2(52), Err(MapError::Unsupported));
    }

    #[test]
    fn stage2_page_descriptor_bits() {
        let d = Stage2::leaf(0x8000_1000, Attrs::RW, 3).unwrap();
        // Valid page, normal WB, S2AP=RW, inner shareable, AF, XN.
        assert_eq!(d, 0x0040_0000_8000_17ff);
        assert_eq!(Stage2::decode(d, 3), Desc::Leaf(0x8000_1000, Attrs::RW));
        let dev = Stage2::leaf(0x0900_0000, Attrs::READ | Attrs::DEVICE, 2).unwrap();
        assert_eq!(dev & 0b11, 0b01, "a level-2 leaf is a block");
        assert_eq!((dev >> 2) & 0xf, 0b0001, "Device-nGnRE");
        assert_eq!((dev >> 6) & 0b11, 0b01, "S2AP read-only");
        assert_eq!(
            Stage2::decode(dev, 2),
            Desc::Leaf(0x0900_0000 & !0x1f_ffff, Attrs::READ | Attrs::DEVICE)
        );
    }

    #[test]
    fn reserved_encodings_decode_as_faults() {
        // A block at level 0 and 0b01 at level 3 are translation faults.
        assert_eq!(Stage2::decode(0x4000_0401, 0), Desc::Invalid);
        assert_eq!(Stage2::decode(0x4000_0401, 3), Desc::Invalid);
        assert_eq!(Stage1::decode(0x4000_0401, 3), Desc::Invalid);
        assert_eq!(Stage2::decode(0x4000_0003, 1), Desc::Table(0x4000_0000));
    }

    #[test]
    fn stage1_attributes_round_trip() {
        for bits in 0..64u8 {
            let attrs = Attrs::from_bits_truncate(bits) | Attrs::READ;
            let d = Stage1::leaf(0x1234_5000, attrs, 3).unwrap();
            assert_eq!(Stage1::decode(d, 3), Desc::Leaf(0x1234_5000, attrs));
        }
        assert_eq!(
            Stage1::leaf(0, Attrs::WRITE, 3),
            Err(MapError::UnsupportedAttrs(Attrs::WRITE))
        );
    }

    #[test]
    fn vtcr_values_match_the_architecture() {
        // 39-bit IPA: T0SZ=25, SL0=1 (start at level 1), PS=40 bits.
        assert_eq!(vtcr_el2(3, 40), Ok(0x800a_3559));
        // 48-bit IPA: T0SZ=16, SL0=2 (start at level 0), PS=48 bits.
        assert_eq!(vtcr_el2(4, 48), Ok(0x800d_3590));
        assert_eq!(vtcr_el2(4, 40), Err(MapError::Unsupported));
        assert_eq!(vtcr_el2(5, 48), Err(MapError::Unsupported));
    }

    #[test]
    fn vttbr_carries_the_vmid() {
        assert_eq!(
            vttbr_el2(PhysAddr(0x4008_0000), Vmid(0x2a)),
            Ok(0x002a_0000_4008_0000)
        );
        assert_eq!(
            vttbr_el2(PhysAddr(0x4008_0010), Vmid(1)),
            Err(MapError::Misaligned { addr: 0x4008_0010 })
        );
        assert_eq!(
            ttbr0_el1(GuestAddress(0x4000_0000), Asid(7)),
            Ok(0x0007_0000_4000_0000)
        );
    }
}

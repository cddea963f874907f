//! The soft MMU: EL1&0 stage-1 translation of the guest's own tables (4 KiB
//! granule, 2 to 4 levels by TxSZ) with hv-core's walker, and hv-core's
//! direct-mapped software TLB ([`MicroTlb`]) in front of it.
//!
//! Scope: TTBR0/TTBR1 selected by VA bit 55, top-byte-ignore (TBI0/1),
//! EPD0/1, AP and UXN/PXN permissions. Not modelled: the access flag and
//! dirty state (descriptors are used as they are; Linux handles the
//! permission faults of clean pages itself), PAN, WXN, 16/64 KiB granules,
//! ASIDs (every TTBR write and every TLBI drops the whole TLB).

use hv_core::mem::GuestRam;
use hv_core::paging::aarch64::Stage1;
use hv_core::paging::{self, Asid, Attrs, PageSize, Vmid};
use hv_core::tlb::micro::MicroTlb;
use hv_core::tlb::{Invalidate, Tlb, TlbEntry, TlbKey};
use hv_core::translate::sysreg::{self, SysRegEnc};
use hv_core::translate::{AccessKind, Fault, FaultKind};
use hv_core::PhysAddr;

/// TLB entries (a power of two).
const TLB_SIZE: usize = 1024;
/// BADDR of TTBRn_EL1 (ASID and CnP masked off).
const TTBR_BADDR: u64 = 0x0000_ffff_ffff_fffe;
/// TCR_EL1 fields.
const TCR_EPD0: u64 = 1 << 7;
const TCR_EPD1: u64 = 1 << 23;
const TCR_TBI0: u64 = 1 << 37;
const TCR_TBI1: u64 = 1 << 38;
/// TG0 = 0b00 and TG1 = 0b10 select the 4 KiB granule.
const TG0_4K: u64 = 0b00;
const TG1_4K: u64 = 0b10;

/// Translation state and TLB.
#[derive(Debug, Default)]
pub struct Mmu {
    sctlr: u64,
    tcr: u64,
    ttbr0: u64,
    ttbr1: u64,
    /// Translations by virtual page. One address space: hv-sim drops all of
    /// them on any TLBI or TTBR write, so VMID and ASID are always 0.
    tlb: Box<MicroTlb<TLB_SIZE>>,
    /// Walks done (TLB misses), for statistics.
    pub walks: u64,
}

fn fault(kind: FaultKind, level: u8) -> Fault {
    Fault { kind, level }
}

impl Mmu {
    /// Whether stage 1 is on (SCTLR_EL1.M).
    #[inline]
    pub fn enabled(&self) -> bool {
        self.sctlr & sysreg::SCTLR_M != 0
    }

    /// The guest wrote SCTLR/TCR/TTBRn: keep the value, drop the TLB.
    pub fn set(&mut self, reg: SysRegEnc, value: u64) {
        match reg {
            sysreg::SCTLR_EL1 => self.sctlr = value,
            sysreg::TCR_EL1 => self.tcr = value,
            sysreg::TTBR0_EL1 => self.ttbr0 = value,
            sysreg::TTBR1_EL1 => self.ttbr1 = value,
            _ => return,
        }
        self.flush();
    }

    /// Drop every cached translation.
    pub fn flush(&mut self) {
        self.tlb.invalidate(Invalidate::All);
    }

    /// Translate `va` for an access of `kind` at `el` into a physical
    /// address, or the fault the guest must see.
    #[inline]
    pub fn translate(
        &mut self,
        ram: &GuestRam,
        va: u64,
        kind: AccessKind,
        el: u8,
    ) -> Result<u64, Fault> {
        if !self.enabled() {
            return Ok(va);
        }
        let upper = va & (1 << 55) != 0;
        let tbi = self.tcr & if upper { TCR_TBI1 } else { TCR_TBI0 } != 0;
        // With TBI the top byte is replaced by the sign (bit 55).
        let va_t = if tbi {
            let top = if upper { 0xff00_0000_0000_0000 } else { 0 };
            (va & 0x00ff_ffff_ffff_ffff) | top
        } else {
            va
        };
        let key = TlbKey {
            vmid: Vmid(0),
            asid: Asid(0),
            va: va_t,
        };
        let (pa, attrs, size) = match self.tlb.lookup(key) {
            Some(hit) => (hit.pa, hit.attrs, hit.size),
            None => {
                let entry = self.walk(ram, va_t, upper)?;
                self.tlb.insert(entry);
                let offset = va_t & (entry.size.bytes() - 1);
                (entry.pa + offset, entry.attrs, entry.size)
            }
        };
        check(attrs, kind, el).map_err(|()| fault(FaultKind::Permission, leaf_level(size)))?;
        Ok(pa)
    }

    fn walk(&mut self, ram: &GuestRam, va: u64, upper: bool) -> Result<TlbEntry, Fault> {
        self.walks += 1;
        let translation = fault(FaultKind::Translation, 0);
        let (tsz, epd, tg_ok, ttbr) = if upper {
            (
                (self.tcr >> 16) & 0x3f,
                self.tcr & TCR_EPD1 != 0,
                (self.tcr >> 30) & 3 == TG1_4K,
                self.ttbr1,
            )
        } else {
            (
                self.tcr & 0x3f,
                self.tcr & TCR_EPD0 != 0,
                (self.tcr >> 14) & 3 == TG0_4K,
                self.ttbr0,
            )
        };
        // 4 KiB granule only: TxSZ 16..=39, input sizes 25..=48 bits. A
        // TxSZ outside that range is CONSTRAINED UNPREDICTABLE; like QEMU,
        // use the nearest supported value.
        let ia_bits = 64 - tsz.clamp(16, 39) as u32;
        if epd || !tg_ok {
            return Err(translation);
        }
        // The bits above the input size must all equal bit 55's half.
        let high = va >> ia_bits;
        let want = if upper { u64::MAX >> ia_bits } else { 0 };
        if high != want {
            return Err(translation);
        }
        let ia = va & ((1u64 << ia_bits) - 1);
        // The start level the Arm ARM gives for the 4 KiB granule: level 0
        // above 39 bits, level 1 above 30, else level 2.
        let levels: u8 = match ia_bits {
            40.. => 4,
            31..=39 => 3,
            _ => 2,
        };
        let start = 4 - levels;
        let w = paging::walk::<Stage1, _>(ram, PhysAddr(ttbr & TTBR_BADDR), levels, ia)
            .map_err(|_| Fault::EXTERNAL)?;
        let level = start + w.steps.saturating_sub(1);
        let leaf = w.leaf.ok_or(fault(FaultKind::Translation, level))?;
        Ok(TlbEntry {
            vmid: Vmid(0),
            asid: Asid(0),
            va: va & !(leaf.size.bytes() - 1),
            pa: leaf.oa_base,
            size: leaf.size,
            attrs: leaf.attrs,
        })
    }
}

/// The table level of a leaf of `size` (for fault status codes).
fn leaf_level(size: PageSize) -> u8 {
    match size {
        PageSize::Size1G => 1,
        PageSize::Size2M => 2,
        _ => 3,
    }
}

/// Whether a leaf with `attrs` allows `kind` at `el`.
#[inline]
fn check(attrs: Attrs, kind: AccessKind, el: u8) -> Result<(), ()> {
    let user = attrs.contains(Attrs::USER);
    let ok = match (kind, el) {
        (AccessKind::Read, 0) => user,
        (AccessKind::Write, 0) => user && attrs.contains(Attrs::WRITE),
        (AccessKind::Exec, 0) => user && attrs.contains(Attrs::EXEC),
        (AccessKind::Read, _) => true,
        (AccessKind::Write, _) => attrs.contains(Attrs::WRITE),
        // The walker's EXEC for a user page means UXN clear; EL1 never
        // runs user pages (Linux sets PXN on them anyway).
        (AccessKind::Exec, _) => !user && attrs.contains(Attrs::EXEC),
    };
    if ok {
        Ok(())
    } else {
        Err(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hv_core::mem::GuestMemory;
    use hv_core::GuestAddress;

    const RAM: u64 = 0x4000_0000;
    const KPAGE: u64 = 0x4008_0000;
    const UPAGE: u64 = 0x4009_0000;
    /// A 48-bit upper-half VA: L0 0, L1 0, L2 1, L3 0.
    const VA: u64 = 0xffff_0000_0020_0000;
    const AF: u64 = 1 << 10;
    const AP_EL0: u64 = 1 << 6;
    const AP_RO: u64 = 1 << 7;
    const UXN: u64 = 1 << 54;
    const PXN: u64 = 1 << 53;
    /// T0SZ = T1SZ = 16 (48 bits), EPD0, TG1 = 4 KiB.
    const TCR: u64 = 16 | (16 << 16) | TCR_EPD0 | (TG1_4K << 30);

    /// Tables at RAM + 0..0x4000 mapping VA -> KPAGE (EL1 RWX) and
    /// VA + 4K -> UPAGE (EL0 read-only, executable at EL0).
    fn setup() -> (GuestRam, Mmu) {
        let ram = GuestRam::with_size(GuestAddress(RAM), 1 << 20).unwrap();
        let w = |a: u64, v: u64| ram.write_u64(GuestAddress(a), v).unwrap();
        w(RAM, (RAM + 0x1000) | 3);
        w(RAM + 0x1000, (RAM + 0x2000) | 3);
        w(RAM + 0x2000 + 8, (RAM + 0x3000) | 3);
        w(RAM + 0x3000, KPAGE | 3 | AF | UXN);
        w(RAM + 0x3008, UPAGE | 3 | AF | AP_EL0 | AP_RO | PXN);
        let mut mmu = Mmu::default();
        mmu.set(sysreg::TCR_EL1, TCR | TCR_TBI1);
        mmu.set(sysreg::TTBR1_EL1, RAM | (5 << 48)); // ASID 5
        mmu.set(sysreg::SCTLR_EL1, sysreg::SCTLR_M);
        (ram, mmu)
    }

    fn perm(level: u8) -> Fault {
        fault(FaultKind::Permission, level)
    }

    #[test]
    fn off_is_identity() {
        let (ram, mut mmu) = setup();
        mmu.set(sysreg::SCTLR_EL1, 0);
        assert_eq!(mmu.translate(&ram, VA, AccessKind::Read, 1), Ok(VA));
    }

    #[test]
    fn upper_half_four_levels() {
        let (ram, mut mmu) = setup();
        let t = |m: &mut Mmu, va, k, el| m.translate(&ram, va, k, el);
        assert_eq!(
            t(&mut mmu, VA + 0x123, AccessKind::Read, 1),
            Ok(KPAGE + 0x123)
        );
        assert_eq!(t(&mut mmu, VA, AccessKind::Write, 1), Ok(KPAGE));
        assert_eq!(t(&mut mmu, VA, AccessKind::Exec, 1), Ok(KPAGE));
        // Kernel page: nothing at EL0.
        assert_eq!(t(&mut mmu, VA, AccessKind::Read, 0), Err(perm(3)));
        // User page: EL0 may read and run it, not write; EL1 may not run it.
        let u = VA + 0x1008;
        assert_eq!(t(&mut mmu, u, AccessKind::Read, 0), Ok(UPAGE + 8));
        assert_eq!(t(&mut mmu, u, AccessKind::Exec, 0), Ok(UPAGE + 8));
        assert_eq!(t(&mut mmu, u, AccessKind::Write, 0), Err(perm(3)));
        assert_eq!(t(&mut mmu, u, AccessKind::Write, 1), Err(perm(3)));
        assert_eq!(t(&mut mmu, u, AccessKind::Exec, 1), Err(perm(3)));
        // Unmapped page next to them: translation fault at level 3.
        assert_eq!(
            t(&mut mmu, VA + 0x2000, AccessKind::Read, 1),
            Err(fault(FaultKind::Translation, 3))
        );
    }

    #[test]
    fn top_byte_ignore_and_disabled_halves() {
        let (ram, mut mmu) = setup();
        let tagged = (VA & 0x00ff_ffff_ffff_ffff) | (0xa5 << 56);
        assert_eq!(mmu.translate(&ram, tagged, AccessKind::Read, 1), Ok(KPAGE));
        mmu.set(sysreg::TCR_EL1, TCR);
        assert_eq!(
            mmu.translate(&ram, tagged, AccessKind::Read, 1),
            Err(fault(FaultKind::Translation, 0)),
            "without TBI1 the tag makes the address non-canonical"
        );
        // TTBR0's half is disabled by EPD0.
        assert_eq!(
            mmu.translate(&ram, 0x20_0000, AccessKind::Read, 1),
            Err(fault(FaultKind::Translation, 0))
        );
    }

    /// T0SZ 34..=39 (25 to 30 input bits) starts the walk at level 2, with
    /// the level-2 table at TTBR0; T0SZ 25..=33 at level 1.
    #[test]
    fn small_input_sizes_start_at_level_2_or_1() {
        let ram = GuestRam::with_size(GuestAddress(RAM), 1 << 20).unwrap();
        let w = |a: u64, v: u64| ram.write_u64(GuestAddress(a), v).unwrap();
        // Level 2 at RAM: entry 1 -> level 3 at RAM + 0x1000, entry 0
        // mapping KPAGE.
        w(RAM + 8, (RAM + 0x1000) | 3);
        w(RAM + 0x1000, KPAGE | 3 | AF);
        let mut mmu = Mmu::default();
        mmu.set(sysreg::SCTLR_EL1, sysreg::SCTLR_M);
        mmu.set(sysreg::TTBR0_EL1, RAM);
        for t0sz in [34u64, 39] {
            mmu.set(sysreg::TCR_EL1, t0sz | TCR_EPD1);
            assert_eq!(
                mmu.translate(&ram, 0x20_0456, AccessKind::Read, 1),
                Ok(KPAGE + 0x456),
                "T0SZ {t0sz}"
            );
        }
        // Bits above the 25-bit input size: translation fault at level 0.
        mmu.set(sysreg::TCR_EL1, 39 | TCR_EPD1);
        assert_eq!(
            mmu.translate(&ram, 1 << 25, AccessKind::Read, 1),
            Err(fault(FaultKind::Translation, 0))
        );
        // T0SZ 33 (31 bits): the same tables one level up, so the level-1
        // entry 0 is invalid and the walk faults at level 1.
        mmu.set(sysreg::TCR_EL1, 33 | TCR_EPD1);
        assert_eq!(
            mmu.translate(&ram, 0x20_0456, AccessKind::Read, 1),
            Err(fault(FaultKind::Translation, 1))
        );
        // T0SZ past 39 is used as 39.
        mmu.set(sysreg::TCR_EL1, 45 | TCR_EPD1);
        assert_eq!(
            mmu.translate(&ram, 0x20_0456, AccessKind::Read, 1),
            Ok(KPAGE + 0x456)
        );
    }

    #[test]
    fn tlb_hits_until_flushed() {
        let (ram, mut mmu) = setup();
        mmu.translate(&ram, VA, AccessKind::Read, 1).unwrap();
        let walks = mmu.walks;
        mmu.translate(&ram, VA + 8, AccessKind::Read, 1).unwrap();
        assert_eq!(mmu.walks, walks, "same page: a TLB hit");
        // The guest remaps the page; without a TLBI the old entry is used,
        // after it the new one.
        ram.write_u64(GuestAddress(RAM + 0x3000), UPAGE | 3 | AF)
            .unwrap();
        assert_eq!(mmu.translate(&ram, VA, AccessKind::Read, 1), Ok(KPAGE));
        mmu.flush();
        assert_eq!(mmu.translate(&ram, VA, AccessKind::Read, 1), Ok(UPAGE));
        assert_eq!(mmu.walks, walks + 1);
    }

    #[test]
    fn tables_outside_ram_are_external_aborts() {
        let (ram, mut mmu) = setup();
        mmu.set(sysreg::TTBR1_EL1, 0x1_0000_0000);
        assert_eq!(
            mmu.translate(&ram, VA, AccessKind::Read, 1),
            Err(Fault::EXTERNAL)
        );
    }
}

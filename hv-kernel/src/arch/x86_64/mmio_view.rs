//! The guest's memory as hv's x86 MMIO instruction emulator sees it: the
//! faulting access on the MMIO bus (or the vCPU's own local APIC), and
//! for MOVS the guest's linear addresses through its segments and page
//! tables, to RAM or a device.

use super::guest::SharedLapic;
use alloc::format;
use alloc::string::String;
use hv_core::arch::x86_64::mmio_insn::{MmioAccess, Segment};
use hv_core::mem::{GuestMemory, GuestRam};
use hv_core::mmio::{AccessWidth, BusError, MmioBus, MmioDevice};
use hv_core::paging;
use hv_core::paging::x86_64::Npt;
use hv_core::{GuestAddress, PhysAddr};

/// CR0.PG and EFER.LMA.
const CR0_PG: u64 = 1 << 31;
pub const EFER_LMA: u64 = 1 << 10;
/// Where the local APIC is (xAPIC default base) and its size.
pub const LAPIC_BASE: u64 = 0xfee0_0000;
pub const LAPIC_SIZE: u64 = 0x1000;

/// How a guest translates linear addresses: CR0, CR3 and EFER.
#[derive(Clone, Copy, Debug)]
pub struct Paging {
    pub cr0: u64,
    pub cr3: u64,
    pub efer: u64,
}

impl Paging {
    /// The guest-physical address of linear `va`: `va` itself (32 bits)
    /// with paging off, else through the guest's own 4-level tables (long
    /// mode; 32-bit paging is not walked yet).
    pub fn linear_to_gpa(&self, ram: &GuestRam, va: u64) -> Result<u64, String> {
        if self.cr0 & CR0_PG == 0 {
            return Ok(va & 0xffff_ffff);
        }
        if self.efer & EFER_LMA == 0 {
            return Err("MMIO from a guest with 32-bit paging is not emulated".into());
        }
        // Canonical addresses: bits 63:47 all equal; the walk takes 48 bits.
        let top = va >> 47;
        if top != 0 && top != 0x1_ffff {
            return Err(format!("address {va:#x} is not canonical"));
        }
        let root = PhysAddr(self.cr3 & 0x000f_ffff_ffff_f000);
        let walk = paging::walk::<Npt, _>(ram, root, 4, va & 0xffff_ffff_ffff)
            .map_err(|e| format!("walking the guest's tables for {va:#x}: {e:?}"))?;
        let leaf = walk
            .leaf
            .ok_or_else(|| format!("the guest's tables do not map {va:#x}"))?;
        Ok(leaf.oa_base + ((va & 0xffff_ffff_ffff) - leaf.ia_base))
    }
}

/// The faulting access, on the MMIO bus, for the instruction emulator,
/// and (for MOVS) the guest's view of memory: RAM or the bus, through its
/// segments and page tables.
pub struct OnBus<'a> {
    pub bus: &'a mut MmioBus,
    /// The vCPU's own local APIC, in front of the bus at its base.
    pub lapic: Option<&'a SharedLapic>,
    pub gpa: u64,
    pub ram: &'a GuestRam,
    pub ram_size: u64,
    pub paging: Paging,
    /// ES, CS, SS, DS, FS, GS bases.
    pub bases: [u64; 6],
}

impl OnBus<'_> {
    /// The guest-physical address of `seg:va` for an access of `w` that
    /// must not cross a page (string elements are at most 8 bytes; one
    /// that straddles pages is refused rather than split).
    fn gpa_of(&self, seg: Segment, va: u64, w: AccessWidth) -> Result<u64, String> {
        let base = self.bases[seg as usize];
        let linear = base.wrapping_add(va);
        if (linear & 0xfff) + w.bytes() > 0x1000 {
            return Err(format!("a string element at {linear:#x} straddles pages"));
        }
        self.paging.linear_to_gpa(self.ram, linear)
    }

    /// The vCPU's APIC and the offset in it, if the access is there.
    fn at_lapic(&self) -> Option<(&SharedLapic, u64)> {
        let offset = self.gpa.checked_sub(LAPIC_BASE)?;
        (offset < LAPIC_SIZE).then_some(())?;
        self.lapic.map(|l| (l, offset))
    }

    fn in_ram(&self, gpa: u64, w: AccessWidth) -> bool {
        gpa.checked_add(w.bytes())
            .is_some_and(|end| end <= self.ram_size)
    }
}

impl MmioAccess for OnBus<'_> {
    type Error = String;

    /// Addresses no device decodes read as 0, as on QEMU's microvm (the
    /// reference machine; ports that nothing decodes float to all ones,
    /// as there too: `PioBus`).
    fn read(&mut self, w: AccessWidth) -> Result<u64, String> {
        if let Some((lapic, offset)) = self.at_lapic() {
            return Ok(lapic.lock().read(offset, w));
        }
        match self.bus.read(GuestAddress(self.gpa), w) {
            Err(BusError::Unmapped(_)) => {
                log::debug!("x86 guest: read of unmapped {:#x}", self.gpa);
                Ok(0)
            }
            r => r.map_err(|e| format!("{e}")),
        }
    }

    /// Writes to addresses no device decodes go nowhere.
    fn write(&mut self, w: AccessWidth, v: u64) -> Result<(), String> {
        if let Some((lapic, offset)) = self.at_lapic() {
            lapic.lock().write(offset, w, v);
            return Ok(());
        }
        match self.bus.write(GuestAddress(self.gpa), w, v) {
            Err(BusError::Unmapped(_)) => {
                log::debug!("x86 guest: write of unmapped {:#x}", self.gpa);
                Ok(())
            }
            r => r.map_err(|e| format!("{e}")),
        }
    }

    /// MOVS's source: RAM, or a device (either side may be the one that
    /// faulted).
    fn read_virt(&mut self, seg: Segment, va: u64, w: AccessWidth) -> Result<u64, String> {
        let gpa = self.gpa_of(seg, va, w)?;
        if self.in_ram(gpa, w) {
            let mut b = [0u8; 8];
            let n = w.bytes() as usize;
            self.ram
                .read(GuestAddress(gpa), &mut b[..n])
                .map_err(|e| format!("{e:?}"))?;
            return Ok(u64::from_le_bytes(b));
        }
        OnBus {
            gpa,
            ..self.rebind()
        }
        .read(w)
    }

    /// MOVS's destination (always ES).
    fn write_virt(&mut self, va: u64, w: AccessWidth, v: u64) -> Result<(), String> {
        let gpa = self.gpa_of(Segment::Es, va, w)?;
        if self.in_ram(gpa, w) {
            let n = w.bytes() as usize;
            return self
                .ram
                .write(GuestAddress(gpa), &v.to_le_bytes()[..n])
                .map_err(|e| format!("{e:?}"));
        }
        OnBus {
            gpa,
            ..self.rebind()
        }
        .write(w, v)
    }
}

impl<'a> OnBus<'a> {
    /// The same view, borrowed again (to aim it at another address).
    fn rebind(&mut self) -> OnBus<'_> {
        OnBus {
            bus: &mut *self.bus,
            lapic: self.lapic,
            gpa: self.gpa,
            ram: self.ram,
            ram_size: self.ram_size,
            paging: self.paging,
            bases: self.bases,
        }
    }
}

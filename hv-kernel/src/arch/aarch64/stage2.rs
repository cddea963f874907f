//! The guest's stage-2 translation: hv-core's page-table code writing into
//! the guest table pool, and the VTTBR/VTCR values that activate it.

use crate::arch::tables::{PoolKind, TablePool};
use hv_core::frame::FrameError;
use hv_core::paging::aarch64::{vtcr_el2, vttbr_el2, Stage2};
use hv_core::paging::{Attrs, MapError, PageTable, Vmid};
use hv_core::{GuestAddress, PhysAddr};

/// Stage-2 levels: a 39-bit IPA space, starting at level 1.
pub const LEVELS: u8 = 3;
/// The VMID of hv's one guest.
pub const VMID: Vmid = Vmid(1);

/// A guest's stage-2 map.
#[derive(Debug)]
pub struct GuestMap {
    table: PageTable<Stage2, TablePool>,
}

impl GuestMap {
    /// An empty map using the table pool.
    pub fn new() -> Result<Self, MapError> {
        let pool =
            TablePool::take(PoolKind::Guest).ok_or(MapError::Frame(FrameError::OutOfFrames))?;
        Ok(GuestMap {
            table: PageTable::new(LEVELS, pool)?,
        })
    }

    /// Map guest RAM `[ipa, ipa + size)` onto host memory at `pa`.
    pub fn map_ram(&mut self, ipa: GuestAddress, pa: u64, size: u64) -> Result<(), MapError> {
        self.table.map(ipa, PhysAddr(pa), size, Attrs::RWX)
    }

    /// Map a device frame `[ipa, ipa + size)` onto the host's `pa` as
    /// device memory (the guest's accesses go to the hardware, no exit).
    pub fn map_device(&mut self, ipa: GuestAddress, pa: u64, size: u64) -> Result<(), MapError> {
        self.table
            .map(ipa, PhysAddr(pa), size, Attrs::RW | Attrs::DEVICE)
    }

    /// (VTTBR_EL2, VTCR_EL2) for this map on a CPU with `pa_bits`.
    pub fn registers(&self, pa_bits: u32) -> Result<(u64, u64), MapError> {
        // 39-bit IPAs need at least a 40-bit PA range for VTCR's PS field.
        let ps = pa_bits.max(40);
        Ok((vttbr_el2(self.table.root(), VMID)?, vtcr_el2(LEVELS, ps)?))
    }
}

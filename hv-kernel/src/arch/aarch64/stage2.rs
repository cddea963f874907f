//! The guest's stage-2 translation: hv-core's page-table code writing into
//! a pool of hypervisor frames, and the VTTBR/VTCR values that activate it.

use alloc::vec;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::ptr::NonNull;
use hv_core::frame::FrameError;
use hv_core::mem::{GuestMemory, GuestRam, RamRegion};
use hv_core::paging::aarch64::{vtcr_el2, vttbr_el2, Stage2};
use hv_core::paging::{Attrs, MapError, PageTable, TableProvider, Vmid};
use hv_core::{GuestAddress, PhysAddr};

/// Table frames for all stage-2 tables (3 levels: a guest of up to a few
/// GiB mapped with 2 MiB blocks needs a handful).
const POOL_FRAMES: usize = 64;
const FRAME: usize = 4096;
/// Stage-2 levels: a 39-bit IPA space, starting at level 1.
pub const LEVELS: u8 = 3;
/// The VMID of hv's one guest.
pub const VMID: Vmid = Vmid(1);

#[repr(C, align(4096))]
struct Pool {
    frames: UnsafeCell<[u8; FRAME * POOL_FRAMES]>,
    taken: spin::Once<()>,
}

// SAFETY: a pool is handed to exactly one TablePool (guarded by `taken`)
// and accessed only through it.
unsafe impl Sync for Pool {}

impl Pool {
    const fn new() -> Self {
        Pool {
            frames: UnsafeCell::new([0; FRAME * POOL_FRAMES]),
            taken: spin::Once::new(),
        }
    }
}

/// Frames for the guest's stage-2 tables.
static STAGE2_POOL: Pool = Pool::new();
/// Frames for hv's own EL2 stage-1 tables.
static EL2_POOL: Pool = Pool::new();

/// Which table pool.
#[derive(Clone, Copy, Debug)]
pub enum PoolKind {
    /// The guest's stage 2.
    Stage2,
    /// hv's own EL2 map.
    El2,
}

/// Frames for page tables, from the static pool, seen through a
/// [`GuestRam`] whose addresses are the frames' physical addresses (the MMU
/// is off, so a pointer is a physical address).
#[derive(Debug)]
pub struct TablePool {
    mem: GuestRam,
    base: u64,
    next: usize,
    free: Vec<u64>,
}

impl TablePool {
    /// The pool of `kind`; None if it was already taken.
    pub fn take(kind: PoolKind) -> Option<Self> {
        let pool = match kind {
            PoolKind::Stage2 => &STAGE2_POOL,
            PoolKind::El2 => &EL2_POOL,
        };
        let mut first = false;
        pool.taken.call_once(|| first = true);
        if !first {
            return None;
        }
        let base = pool.frames.get() as u64;
        let host = NonNull::new(pool.frames.get().cast::<u8>())?;
        // SAFETY: the pool is static, FRAME * POOL_FRAMES bytes, page
        // aligned, and from here on only reached through this GuestRam
        // (the Once above makes this the only TablePool).
        let region =
            unsafe { RamRegion::from_host(GuestAddress(base), (FRAME * POOL_FRAMES) as u64, host) }
                .ok()?;
        Some(TablePool {
            mem: GuestRam::new(vec![region]).ok()?,
            base,
            next: 0,
            free: Vec::new(),
        })
    }
}

impl TableProvider for TablePool {
    type Mem = GuestRam;

    fn mem(&self) -> &GuestRam {
        &self.mem
    }

    fn alloc_table(&mut self) -> Result<PhysAddr, MapError> {
        let frame = match self.free.pop() {
            Some(f) => f,
            None if self.next < POOL_FRAMES => {
                self.next += 1;
                self.base + ((self.next - 1) * FRAME) as u64
            }
            None => return Err(MapError::Frame(FrameError::OutOfFrames)),
        };
        self.mem.fill(GuestAddress(frame), 0, FRAME as u64)?;
        Ok(PhysAddr(frame))
    }

    fn free_table(&mut self, table: PhysAddr) -> Result<(), MapError> {
        self.free.push(table.raw());
        Ok(())
    }
}

/// A guest's stage-2 map.
#[derive(Debug)]
pub struct GuestMap {
    table: PageTable<Stage2, TablePool>,
}

impl GuestMap {
    /// An empty map using the table pool.
    pub fn new() -> Result<Self, MapError> {
        let pool =
            TablePool::take(PoolKind::Stage2).ok_or(MapError::Frame(FrameError::OutOfFrames))?;
        Ok(GuestMap {
            table: PageTable::new(LEVELS, pool)?,
        })
    }

    /// Map guest RAM `[ipa, ipa + size)` onto host memory at `pa`.
    pub fn map_ram(&mut self, ipa: GuestAddress, pa: u64, size: u64) -> Result<(), MapError> {
        self.table.map(ipa, PhysAddr(pa), size, Attrs::RWX)
    }

    /// (VTTBR_EL2, VTCR_EL2) for this map on a CPU with `pa_bits`.
    pub fn registers(&self, pa_bits: u32) -> Result<(u64, u64), MapError> {
        // 39-bit IPAs need at least a 40-bit PA range for VTCR's PS field.
        let ps = pa_bits.max(40);
        Ok((vttbr_el2(self.table.root(), VMID)?, vtcr_el2(LEVELS, ps)?))
    }
}

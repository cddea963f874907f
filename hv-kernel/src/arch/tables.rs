//! Frames for page tables built with hv-core's mapper: the guest's nested
//! translation (AArch64 stage 2, x86 NPT) and hv's own map, each from a
//! static pool, seen through a [`GuestRam`] whose addresses are the
//! frames' physical addresses (hv runs identity-mapped, so a pointer is a
//! physical address).

use alloc::vec;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};
use hv_core::frame::FrameError;
use hv_core::mem::{GuestMemory, GuestRam, RamRegion};
use hv_core::paging::{MapError, TableProvider};
use hv_core::{GuestAddress, PhysAddr};

/// Table frames per pool (a guest of up to a few GiB mapped with 2 MiB
/// blocks needs a handful).
const POOL_FRAMES: usize = 64;
const FRAME: usize = 4096;

#[repr(C, align(4096))]
struct Pool {
    frames: UnsafeCell<[u8; FRAME * POOL_FRAMES]>,
    taken: AtomicBool,
}

// SAFETY: a pool is handed to at most one TablePool at a time (guarded by
// `taken`) and accessed only through it.
unsafe impl Sync for Pool {}

impl Pool {
    const fn new() -> Self {
        Pool {
            frames: UnsafeCell::new([0; FRAME * POOL_FRAMES]),
            taken: AtomicBool::new(false),
        }
    }
}

/// Frames for the guest's nested tables.
static GUEST_POOL: Pool = Pool::new();
/// Frames for hv's own map (AArch64 EL2 stage 1).
#[cfg(target_arch = "aarch64")]
static HYPERVISOR_POOL: Pool = Pool::new();

/// Which table pool.
#[derive(Clone, Copy, Debug)]
pub enum PoolKind {
    /// The guest's stage 2 / NPT.
    Guest,
    /// hv's own EL2 map.
    #[cfg(target_arch = "aarch64")]
    Hypervisor,
}

/// The frames of one pool; dropping it gives the pool back (a guest that
/// ended leaves its tables unreferenced, and a new one starts afresh).
#[derive(Debug)]
pub struct TablePool {
    mem: GuestRam,
    base: u64,
    next: usize,
    free: Vec<u64>,
    taken: &'static AtomicBool,
}

impl Drop for TablePool {
    fn drop(&mut self) {
        self.taken.store(false, Ordering::Release);
    }
}

impl TablePool {
    /// The pool of `kind`; None while another TablePool has it.
    pub fn take(kind: PoolKind) -> Option<Self> {
        let pool: &'static Pool = match kind {
            PoolKind::Guest => &GUEST_POOL,
            #[cfg(target_arch = "aarch64")]
            PoolKind::Hypervisor => &HYPERVISOR_POOL,
        };
        if pool.taken.swap(true, Ordering::AcqRel) {
            return None;
        }
        let base = pool.frames.get() as u64;
        let region = NonNull::new(pool.frames.get().cast::<u8>()).and_then(|host| {
            // SAFETY: the pool is static, FRAME * POOL_FRAMES bytes, page
            // aligned, and until this TablePool is dropped only reached
            // through this GuestRam (`taken` makes it the only one).
            unsafe { RamRegion::from_host(GuestAddress(base), (FRAME * POOL_FRAMES) as u64, host) }
                .ok()
        });
        let mem = region.and_then(|r| GuestRam::new(vec![r]).ok());
        let Some(mem) = mem else {
            pool.taken.store(false, Ordering::Release);
            return None;
        };
        Some(TablePool {
            mem,
            base,
            next: 0,
            free: Vec::new(),
            taken: &pool.taken,
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

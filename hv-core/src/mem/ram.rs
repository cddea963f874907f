//! Guest RAM backed by host memory: the only module of the memory layer that
//! touches raw pointers.

use super::{GuestMemory, MemError};
use crate::addr::GuestAddress;
use alloc::alloc::{alloc_zeroed, dealloc, Layout};
use alloc::vec::Vec;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, Ordering};

/// Alignment of host memory allocated for a region: a page, so that guest
/// pages map onto host pages and every natural alignment up to 4 KiB carries
/// over from guest to host addresses.
const HOST_ALIGN: usize = 4096;

/// One contiguous range of guest-physical RAM and the host memory behind it.
#[derive(Debug)]
pub struct RamRegion {
    base: GuestAddress,
    size: u64,
    host: NonNull<u8>,
    /// Set when this region allocated `host` itself and must free it.
    owned: Option<Layout>,
}

// SAFETY: the region owns (or was promised exclusive use of) its host memory,
// and all access to that memory goes through raw-pointer copies and atomics,
// never through shared Rust references, so moving or sharing the handle
// between threads is sound.
unsafe impl Send for RamRegion {}
// SAFETY: as above.
unsafe impl Sync for RamRegion {}

impl RamRegion {
    /// A zero-filled region of `size` bytes at `base`, allocated from the heap.
    pub fn new(base: GuestAddress, size: u64) -> Result<Self, MemError> {
        if size == 0 || base.checked_add(size - 1).is_none() {
            return Err(MemError::BadRegion);
        }
        let len = usize::try_from(size).map_err(|_| MemError::BadRegion)?;
        let layout = Layout::from_size_align(len, HOST_ALIGN).map_err(|_| MemError::BadRegion)?;
        // SAFETY: `layout` has a non-zero size (checked above).
        let ptr = unsafe { alloc_zeroed(layout) };
        let host = NonNull::new(ptr).ok_or(MemError::NoHostMemory)?;
        Ok(RamRegion {
            base,
            size,
            host,
            owned: Some(layout),
        })
    }

    /// A region over host memory the caller already owns (hv-kernel hands
    /// the guest a range of physical RAM this way).
    ///
    /// # Safety
    ///
    /// `host` must be valid for reads and writes of `size` bytes for the
    /// lifetime of the region, aligned to 8 bytes, and not accessed through
    /// any other path except the guest itself.
    pub unsafe fn from_host(
        base: GuestAddress,
        size: u64,
        host: NonNull<u8>,
    ) -> Result<Self, MemError> {
        if size == 0 || base.checked_add(size - 1).is_none() || (host.as_ptr() as usize) % 8 != 0 {
            return Err(MemError::BadRegion);
        }
        Ok(RamRegion {
            base,
            size,
            host,
            owned: None,
        })
    }

    /// First guest address of the region.
    pub fn base(&self) -> GuestAddress {
        self.base
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Last guest address of the region (inclusive; cannot overflow).
    fn last(&self) -> u64 {
        self.base.0 + (self.size - 1)
    }
}

impl Drop for RamRegion {
    fn drop(&mut self) {
        if let Some(layout) = self.owned {
            // SAFETY: `host` was allocated in `new` with exactly this layout
            // and is freed only here.
            unsafe { dealloc(self.host.as_ptr(), layout) };
        }
    }
}

/// Guest RAM made of one or more non-overlapping regions.
///
/// Lookup is O(1) when there is one region (the common case) and a binary
/// search otherwise.
#[derive(Debug)]
pub struct GuestRam {
    /// Sorted by base address, non-overlapping, never empty.
    regions: Vec<RamRegion>,
}

impl GuestRam {
    /// Guest RAM made of `regions` (any order).
    pub fn new(mut regions: Vec<RamRegion>) -> Result<Self, MemError> {
        if regions.is_empty() {
            return Err(MemError::BadRegion);
        }
        regions.sort_by_key(|r| r.base);
        if regions.windows(2).any(|w| w[0].last() >= w[1].base.0) {
            return Err(MemError::BadRegion);
        }
        Ok(GuestRam { regions })
    }

    /// One zero-filled heap-backed region of `size` bytes at `base`.
    pub fn with_size(base: GuestAddress, size: u64) -> Result<Self, MemError> {
        Self::new(alloc::vec![RamRegion::new(base, size)?])
    }

    /// The regions, sorted by address.
    pub fn regions(&self) -> &[RamRegion] {
        &self.regions
    }

    /// Host pointer for `[addr, addr + len)` if it lies in one region.
    #[inline]
    fn host_range(&self, addr: GuestAddress, len: u64) -> Result<*mut u8, MemError> {
        let region = match self.regions.as_slice() {
            [only] => only,
            many => {
                let i = many.partition_point(|r| r.base <= addr);
                // `i == 0` means every region starts above `addr`.
                match i.checked_sub(1).and_then(|i| many.get(i)) {
                    Some(r) => r,
                    None => return Err(MemError::OutOfRange { addr, len }),
                }
            }
        };
        let offset = addr
            .checked_offset_from(region.base)
            .ok_or(MemError::OutOfRange { addr, len })?;
        let end = offset.checked_add(len).ok_or(MemError::Overflow { addr })?;
        if end > region.size {
            return Err(if addr.checked_add(len).is_none() {
                MemError::Overflow { addr }
            } else {
                MemError::OutOfRange { addr, len }
            });
        }
        // `offset < size`, and `size` fitted in usize when the region was
        // made, so the cast is lossless and the pointer stays in bounds.
        // SAFETY: `offset + len <= size`, within the region's allocation.
        Ok(unsafe { region.host.as_ptr().add(offset as usize) })
    }

    #[inline]
    fn aligned_ptr<T>(&self, addr: GuestAddress) -> Result<*mut T, MemError> {
        let align = core::mem::align_of::<T>() as u64;
        if !addr.is_aligned(align) {
            return Err(MemError::Misaligned { addr, align });
        }
        // Regions start on host pages and `addr` is aligned relative to the
        // region base only if the base is; check the host pointer itself.
        let p = self.host_range(addr, core::mem::size_of::<T>() as u64)?;
        if (p as usize) % core::mem::align_of::<T>() != 0 {
            return Err(MemError::Misaligned { addr, align });
        }
        Ok(p.cast())
    }
}

macro_rules! atomic_load_store {
    ($load:ident, $store:ident, $int:ty, $atomic:ty) => {
        #[inline]
        fn $load(&self, addr: GuestAddress, order: Ordering) -> Result<$int, MemError> {
            let p = self.aligned_ptr::<$atomic>(addr)?;
            // SAFETY: `p` is in bounds and aligned for the atomic type, and
            // guest memory is only ever accessed atomically or by raw copies.
            Ok(unsafe { (*p).load(order) })
        }

        #[inline]
        fn $store(&self, addr: GuestAddress, value: $int, order: Ordering) -> Result<(), MemError> {
            let p = self.aligned_ptr::<$atomic>(addr)?;
            // SAFETY: as for the load.
            unsafe { (*p).store(value, order) };
            Ok(())
        }
    };
}

macro_rules! atomic_compare_exchange {
    ($cas:ident, $int:ty, $atomic:ty) => {
        #[inline]
        fn $cas(
            &self,
            addr: GuestAddress,
            current: $int,
            new: $int,
            success: Ordering,
            failure: Ordering,
        ) -> Result<Result<$int, $int>, MemError> {
            let p = self.aligned_ptr::<$atomic>(addr)?;
            // SAFETY: `p` is in bounds and aligned for the atomic type, and
            // guest memory is only ever accessed atomically or by raw copies.
            Ok(unsafe { (*p).compare_exchange(current, new, success, failure) })
        }
    };
}

impl GuestMemory for GuestRam {
    #[inline]
    fn read(&self, addr: GuestAddress, buf: &mut [u8]) -> Result<(), MemError> {
        let p = self.host_range(addr, buf.len() as u64)?;
        // SAFETY: `p..p+len` is inside the region (checked by host_range);
        // `buf` is a distinct host buffer, so the ranges do not overlap.
        unsafe { core::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    #[inline]
    fn write(&self, addr: GuestAddress, data: &[u8]) -> Result<(), MemError> {
        let p = self.host_range(addr, data.len() as u64)?;
        // SAFETY: as in `read`, with the copy going the other way.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
        Ok(())
    }

    fn fill(&self, addr: GuestAddress, value: u8, len: u64) -> Result<(), MemError> {
        let p = self.host_range(addr, len)?;
        // SAFETY: in bounds as checked; `len` fits the region, hence usize.
        unsafe { core::ptr::write_bytes(p, value, len as usize) };
        Ok(())
    }

    fn check_range(&self, addr: GuestAddress, len: u64) -> Result<(), MemError> {
        self.host_range(addr, len).map(|_| ())
    }

    atomic_load_store!(load_u16, store_u16, u16, AtomicU16);
    atomic_load_store!(load_u32, store_u32, u32, AtomicU32);
    atomic_load_store!(load_u64, store_u64, u64, AtomicU64);
    atomic_compare_exchange!(compare_exchange_u32, u32, AtomicU32);
    atomic_compare_exchange!(compare_exchange_u64, u64, AtomicU64);
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const BASE: GuestAddress = GuestAddress(0x4000_0000);

    #[test]
    fn read_back_what_was_written() {
        let ram = GuestRam::with_size(BASE, 0x1000).unwrap();
        ram.write_u64(GuestAddress(0x4000_0ff8), 0x1122_3344_5566_7788)
            .unwrap();
        assert_eq!(
            ram.read_u64(GuestAddress(0x4000_0ff8)),
            Ok(0x1122_3344_5566_7788)
        );
        assert_eq!(ram.read_u8(GuestAddress(0x4000_0ff8)), Ok(0x88));
    }

    #[test]
    fn access_past_the_end_is_out_of_range() {
        let ram = GuestRam::with_size(BASE, 0x1000).unwrap();
        assert_eq!(
            ram.read_u32(GuestAddress(0x4000_0ffd)),
            Err(MemError::OutOfRange {
                addr: GuestAddress(0x4000_0ffd),
                len: 4
            })
        );
        assert!(ram.read_u8(GuestAddress(0x3fff_ffff)).is_err());
    }

    #[test]
    fn overflowing_access_is_reported() {
        let ram = GuestRam::with_size(BASE, 0x1000).unwrap();
        let mut buf = [0u8; 512];
        assert_eq!(
            ram.read(GuestAddress(0xffff_ffff_ffff_ff00), &mut buf),
            Err(MemError::Overflow {
                addr: GuestAddress(0xffff_ffff_ffff_ff00)
            })
        );
    }

    #[test]
    fn zero_length_access_at_end_is_fine() {
        let ram = GuestRam::with_size(BASE, 0x1000).unwrap();
        assert_eq!(ram.read(GuestAddress(0x4000_1000), &mut []), Ok(()));
    }

    #[test]
    fn misaligned_atomic_is_refused() {
        let ram = GuestRam::with_size(BASE, 0x1000).unwrap();
        assert_eq!(
            ram.load_u32(GuestAddress(0x4000_0002), Ordering::Acquire),
            Err(MemError::Misaligned {
                addr: GuestAddress(0x4000_0002),
                align: 4
            })
        );
        ram.store_u16(GuestAddress(0x4000_0002), 7, Ordering::Release)
            .unwrap();
        assert_eq!(
            ram.load_u16(GuestAddress(0x4000_0002), Ordering::Acquire),
            Ok(7)
        );
    }

    #[test]
    fn overlapping_regions_are_refused() {
        let a = RamRegion::new(GuestAddress(0), 0x2000).unwrap();
        let b = RamRegion::new(GuestAddress(0x1000), 0x1000).unwrap();
        assert_eq!(GuestRam::new(vec![a, b]).unwrap_err(), MemError::BadRegion);
    }

    #[test]
    fn lookup_finds_the_right_region_among_many() {
        let regions = vec![
            RamRegion::new(GuestAddress(0x3000), 0x1000).unwrap(),
            RamRegion::new(GuestAddress(0x0), 0x1000).unwrap(),
        ];
        let ram = GuestRam::new(regions).unwrap();
        ram.write_u8(GuestAddress(0x3fff), 9).unwrap();
        assert_eq!(ram.read_u8(GuestAddress(0x3fff)), Ok(9));
        assert!(ram.read_u8(GuestAddress(0x1000)).is_err());
        // An access may not straddle two regions, even adjacent ones.
        assert!(ram.read_u16(GuestAddress(0xfff)).is_err());
    }
}

//! Guest RAM backed by host memory: the only module of the memory layer that
//! touches raw pointers.

use super::{ByteValued, GuestMemory, MemError};
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
    /// Set when this region allocated its host memory itself and must free
    /// it: the allocation's start and layout (`host` is inside it).
    owned: Option<(NonNull<u8>, Layout)>,
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
        // The allocation asks for the allocator's usual alignment and one
        // page more, aligned up by hand: with a page alignment, a hosted
        // allocator (glibc's) fills the whole region with zeros up front,
        // touching every page (2.7 s and 1 GiB resident for a 1 GiB guest
        // before it ran an instruction), while a plain zeroed allocation
        // of this size is fresh, lazily zeroed pages.
        let padded = len.checked_add(HOST_ALIGN).ok_or(MemError::BadRegion)?;
        let layout = Layout::from_size_align(padded, 16).map_err(|_| MemError::BadRegion)?;
        // SAFETY: `layout` has a non-zero size.
        let ptr = unsafe { alloc_zeroed(layout) };
        let start = NonNull::new(ptr).ok_or(MemError::NoHostMemory)?;
        let skip = ptr.align_offset(HOST_ALIGN);
        if skip > HOST_ALIGN {
            // Cannot happen for a real pointer; free rather than overrun.
            // SAFETY: allocated just above with this layout.
            unsafe { dealloc(ptr, layout) };
            return Err(MemError::NoHostMemory);
        }
        // SAFETY: `skip <= HOST_ALIGN`, so `[ptr + skip, ptr + skip + len)`
        // lies inside the `len + HOST_ALIGN` bytes allocated.
        let host = unsafe { NonNull::new_unchecked(ptr.add(skip)) };
        Ok(RamRegion {
            base,
            size,
            host,
            owned: Some((start, layout)),
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
        if size == 0
            || base.checked_add(size - 1).is_none()
            || usize::try_from(size).is_err()
            || (host.as_ptr() as usize) % 8 != 0
        {
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
        if let Some((start, layout)) = self.owned {
            // SAFETY: `start` was allocated in `new` with exactly this
            // layout and is freed only here.
            unsafe { dealloc(start.as_ptr(), layout) };
        }
    }
}

/// Guest RAM made of one or more non-overlapping regions.
///
/// Lookup is O(1) when the access falls in the lowest region (always, with
/// one region: the common case) and a binary search otherwise. The lowest
/// region's bounds and host pointer are copied into the struct itself so
/// the fast path is two compares and an add, with no indirection.
#[derive(Debug)]
pub struct GuestRam {
    /// Base of `regions[0]`.
    base0: u64,
    /// Size of `regions[0]`.
    size0: u64,
    /// Host memory of `regions[0]`.
    host0: NonNull<u8>,
    /// Sorted by base address, non-overlapping, never empty.
    regions: Vec<RamRegion>,
}

// SAFETY: `host0` is a copy of `regions[0].host`; `RamRegion` is Send and
// Sync (see above) and the copy is used the same way, by raw copies and
// atomics only.
unsafe impl Send for GuestRam {}
// SAFETY: as above.
unsafe impl Sync for GuestRam {}

impl GuestRam {
    /// Guest RAM made of `regions` (any order).
    pub fn new(mut regions: Vec<RamRegion>) -> Result<Self, MemError> {
        regions.sort_by_key(|r| r.base);
        if regions.windows(2).any(|w| w[0].last() >= w[1].base.0) {
            return Err(MemError::BadRegion);
        }
        let first = regions.first().ok_or(MemError::BadRegion)?;
        Ok(GuestRam {
            base0: first.base.0,
            size0: first.size,
            host0: first.host,
            regions,
        })
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
    #[inline(always)]
    fn host_range(&self, addr: GuestAddress, len: u64) -> Result<*mut u8, MemError> {
        let off = addr.0.wrapping_sub(self.base0);
        if off < self.size0 && len <= self.size0 - off {
            // `off < size0` and `size0` fitted in usize when the region was
            // made, so the cast is lossless.
            // SAFETY: `off + len <= size0`: the pointer stays inside the
            // first region's allocation.
            return Ok(unsafe { self.host0.as_ptr().add(off as usize) });
        }
        self.host_range_slow(addr, len)
    }

    /// Everything but the in-first-region case: other regions, zero-length
    /// accesses at a region's end, and the errors.
    #[cold]
    #[inline(never)]
    fn host_range_slow(&self, addr: GuestAddress, len: u64) -> Result<*mut u8, MemError> {
        // The access covers `[addr, addr + len)`; it overflows when its last
        // byte lies beyond 2^64 - 1 (a region may end exactly at 2^64).
        if len > 0 && addr.checked_add(len - 1).is_none() {
            return Err(MemError::Overflow { addr });
        }
        let i = self.regions.partition_point(|r| r.base <= addr);
        // `i == 0` means every region starts above `addr`.
        let region = i
            .checked_sub(1)
            .and_then(|i| self.regions.get(i))
            .ok_or(MemError::OutOfRange { addr, len })?;
        let offset = addr
            .checked_offset_from(region.base)
            .ok_or(MemError::OutOfRange { addr, len })?;
        match offset.checked_add(len) {
            Some(end) if end <= region.size => {}
            _ => return Err(MemError::OutOfRange { addr, len }),
        }
        // `offset <= size`, which fitted in usize when the region was made.
        // SAFETY: `offset + len <= size`, so the pointer is within the
        // region's allocation or one past its end (only when `len == 0`).
        Ok(unsafe { region.host.as_ptr().add(offset as usize) })
    }

    #[inline(always)]
    fn aligned_ptr<T>(&self, addr: GuestAddress) -> Result<*mut T, MemError> {
        let align = core::mem::align_of::<T>() as u64;
        if !addr.is_aligned(align) {
            return Err(MemError::Misaligned { addr, align });
        }
        // `addr` is aligned, but the host pointer is aligned only if the
        // region's host base is (always true for `new`, checked to 8 bytes
        // for `from_host`); check the pointer itself rather than trust it.
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

macro_rules! typed_access {
    ($read:ident, $write:ident, $int:ty) => {
        #[inline(always)]
        fn $read(&self, addr: GuestAddress) -> Result<$int, MemError> {
            let p = self.host_range(addr, core::mem::size_of::<$int>() as u64)?;
            // SAFETY: the range is inside a region (host_range); the read
            // is unaligned-tolerant and every bit pattern is a valid int.
            Ok(<$int>::from_le(unsafe {
                p.cast::<$int>().read_unaligned()
            }))
        }

        #[inline(always)]
        fn $write(&self, addr: GuestAddress, value: $int) -> Result<(), MemError> {
            let p = self.host_range(addr, core::mem::size_of::<$int>() as u64)?;
            // SAFETY: as for the read.
            unsafe { p.cast::<$int>().write_unaligned(value.to_le()) };
            Ok(())
        }
    };
}

impl GuestMemory for GuestRam {
    fn host_address(&self, addr: GuestAddress, len: u64) -> Option<u64> {
        self.host_range(addr, len).ok().map(|p| p as u64)
    }

    #[inline]
    fn read(&self, addr: GuestAddress, buf: &mut [u8]) -> Result<(), MemError> {
        let p = self.host_range(addr, buf.len() as u64)?;
        // SAFETY: `p..p+len` is inside the region (checked by host_range);
        // `buf` is a distinct host buffer (guest memory is never lent out as
        // a Rust reference), so the ranges do not overlap.
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

    #[inline(always)]
    fn read_obj<T: ByteValued>(&self, addr: GuestAddress) -> Result<T, MemError> {
        let p = self.host_range(addr, core::mem::size_of::<T>() as u64)?;
        // SAFETY: in bounds (host_range); `T: ByteValued` accepts any bit
        // pattern, and the read tolerates any alignment.
        Ok(unsafe { p.cast::<T>().read_unaligned() })
    }

    #[inline(always)]
    fn write_obj<T: ByteValued>(&self, addr: GuestAddress, value: T) -> Result<(), MemError> {
        let p = self.host_range(addr, core::mem::size_of::<T>() as u64)?;
        // SAFETY: in bounds (host_range); `T: ByteValued` has no padding, so
        // every byte written is initialised.
        unsafe { p.cast::<T>().write_unaligned(value) };
        Ok(())
    }

    typed_access!(read_u8, write_u8, u8);
    typed_access!(read_u16, write_u16, u16);
    typed_access!(read_u32, write_u32, u32);
    typed_access!(read_u64, write_u64, u64);

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
    fn regions_are_page_aligned_and_zeroed() {
        for size in [1u64, 0x1000, 0x1_2345, 64 << 20] {
            let r = RamRegion::new(BASE, size).unwrap();
            assert_eq!(r.host.as_ptr() as usize % HOST_ALIGN, 0, "size {size:#x}");
            let ram = GuestRam::new(vec![r]).unwrap();
            for at in [0, size / 2, size - 1] {
                let mut b = [0xffu8];
                ram.read(GuestAddress(BASE.0 + at), &mut b).unwrap();
                assert_eq!(b, [0], "size {size:#x} at {at:#x}");
            }
            ram.write(GuestAddress(BASE.0 + size - 1), &[0xa5]).unwrap();
        }
    }

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

/// The memory layer against a model: guest RAM as plain `Vec<u8>`s.
#[cfg(test)]
mod model_tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    /// Regions of the model machine: a low one, a separate one (so the
    /// binary-search path runs), and one ending at 2^64 (overflow edges).
    const REGIONS: [(u64, u64); 3] = [
        (0x1000, 0x2000),
        (0x8000, 0x1000),
        (u64::MAX - 0xfff, 0x1000),
    ];

    struct Model {
        regions: Vec<(u64, Vec<u8>)>,
    }

    impl Model {
        fn new() -> Self {
            Model {
                regions: REGIONS
                    .iter()
                    .map(|&(b, s)| (b, vec![0u8; s as usize]))
                    .collect(),
            }
        }

        /// Which region and offset hold `[addr, addr + len)`, or the error
        /// the real memory must give.
        fn locate(&self, addr: u64, len: u64) -> Result<(usize, usize), MemError> {
            for (i, (base, bytes)) in self.regions.iter().enumerate() {
                let size = bytes.len() as u64;
                if addr >= *base && (addr - base) <= size && len <= size - (addr - base) {
                    return Ok((i, (addr - base) as usize));
                }
            }
            if len > 0 && addr.checked_add(len - 1).is_none() {
                Err(MemError::Overflow {
                    addr: GuestAddress(addr),
                })
            } else {
                Err(MemError::OutOfRange {
                    addr: GuestAddress(addr),
                    len,
                })
            }
        }

        fn read(&self, addr: u64, len: usize) -> Result<Vec<u8>, MemError> {
            let (i, off) = self.locate(addr, len as u64)?;
            Ok(self.regions[i].1[off..off + len].to_vec())
        }

        fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), MemError> {
            let (i, off) = self.locate(addr, data.len() as u64)?;
            self.regions[i].1[off..off + data.len()].copy_from_slice(data);
            Ok(())
        }

        fn aligned(&self, addr: u64, width: u64) -> Result<(), MemError> {
            if addr % width != 0 {
                return Err(MemError::Misaligned {
                    addr: GuestAddress(addr),
                    align: width,
                });
            }
            self.locate(addr, width).map(|_| ())
        }
    }

    fn ram() -> GuestRam {
        GuestRam::new(
            REGIONS
                .iter()
                .map(|&(b, s)| RamRegion::new(GuestAddress(b), s).unwrap())
                .collect(),
        )
        .unwrap()
    }

    #[derive(Clone, Debug)]
    enum Op {
        Read(u64, usize),
        Write(u64, Vec<u8>),
        ReadSlice(u64, usize),
        WriteSlice(u64, Vec<u8>),
        Fill(u64, u8, u64),
        ReadInt(u64, u8),
        WriteInt(u64, u8, u64),
        Load(u64, u8),
        Store(u64, u8, u64),
        Cas(u64, u8, u64, u64),
    }

    /// Addresses near region edges, inside regions, and anywhere at all.
    fn addr() -> impl Strategy<Value = u64> {
        prop_oneof![
            4 => (0..REGIONS.len(), -16i64..0x2010).prop_map(|(r, d)| {
                REGIONS[r].0.wrapping_add_signed(d)
            }),
            1 => any::<u64>(),
        ]
    }

    fn width() -> impl Strategy<Value = u8> {
        prop_oneof![Just(1u8), Just(2), Just(4), Just(8)]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (addr(), 0usize..40).prop_map(|(a, l)| Op::Read(a, l)),
            (addr(), proptest::collection::vec(any::<u8>(), 0..40))
                .prop_map(|(a, d)| Op::Write(a, d)),
            (addr(), 0usize..8).prop_map(|(a, l)| Op::ReadSlice(a, l)),
            (addr(), proptest::collection::vec(any::<u8>(), 0..8))
                .prop_map(|(a, d)| Op::WriteSlice(a, d)),
            (addr(), any::<u8>(), 0u64..100).prop_map(|(a, v, l)| Op::Fill(a, v, l)),
            (addr(), width()).prop_map(|(a, w)| Op::ReadInt(a, w)),
            (addr(), width(), any::<u64>()).prop_map(|(a, w, v)| Op::WriteInt(a, w, v)),
            (addr(), width().prop_filter("atomic", |w| *w > 1)).prop_map(|(a, w)| Op::Load(a, w)),
            (
                addr(),
                width().prop_filter("atomic", |w| *w > 1),
                any::<u64>()
            )
                .prop_map(|(a, w, v)| Op::Store(a, w, v)),
            (
                addr(),
                prop_oneof![Just(4u8), Just(8)],
                any::<u64>(),
                any::<u64>()
            )
                .prop_map(|(a, w, c, n)| Op::Cas(a, w, c, n)),
        ]
    }

    fn le(bytes: &[u8]) -> u64 {
        bytes
            .iter()
            .rev()
            .fold(0, |acc, b| (acc << 8) | u64::from(*b))
    }

    fn mask(width: u8) -> u64 {
        if width == 8 {
            u64::MAX
        } else {
            (1u64 << (width * 8)) - 1
        }
    }

    fn read_int(ram: &GuestRam, a: GuestAddress, w: u8) -> Result<u64, MemError> {
        match w {
            1 => ram.read_u8(a).map(u64::from),
            2 => ram.read_u16(a).map(u64::from),
            4 => ram.read_u32(a).map(u64::from),
            _ => ram.read_u64(a),
        }
    }

    fn write_int(ram: &GuestRam, a: GuestAddress, w: u8, v: u64) -> Result<(), MemError> {
        match w {
            1 => ram.write_u8(a, v as u8),
            2 => ram.write_u16(a, v as u16),
            4 => ram.write_u32(a, v as u32),
            _ => ram.write_u64(a, v),
        }
    }

    fn apply(ram: &GuestRam, model: &mut Model, op: Op) -> Result<(), TestCaseError> {
        use Ordering::SeqCst;
        match op {
            Op::Read(a, l) => {
                let mut buf = vec![0u8; l];
                let got = ram.read(GuestAddress(a), &mut buf).map(|()| buf);
                prop_assert_eq!(got, model.read(a, l));
            }
            Op::Write(a, d) => {
                prop_assert_eq!(ram.write(GuestAddress(a), &d), model.write(a, &d));
            }
            Op::ReadSlice(a, l) => {
                let mut buf = vec![0u8; l];
                let got = ram.read_slice(GuestAddress(a), &mut buf).map(|()| buf);
                let want = if l == 0 {
                    Err(MemError::ZeroLength {
                        addr: GuestAddress(a),
                    })
                } else {
                    model.read(a, l)
                };
                prop_assert_eq!(got, want);
            }
            Op::WriteSlice(a, d) => {
                let want = if d.is_empty() {
                    Err(MemError::ZeroLength {
                        addr: GuestAddress(a),
                    })
                } else {
                    model.write(a, &d)
                };
                prop_assert_eq!(ram.write_slice(GuestAddress(a), &d), want);
            }
            Op::Fill(a, v, l) => {
                let want = model.write(a, &vec![v; l as usize]);
                prop_assert_eq!(ram.fill(GuestAddress(a), v, l), want);
            }
            Op::ReadInt(a, w) => {
                let want = model.read(a, w as usize).map(|b| le(&b));
                prop_assert_eq!(read_int(ram, GuestAddress(a), w), want);
            }
            Op::WriteInt(a, w, v) => {
                let want = model.write(a, &v.to_le_bytes()[..w as usize]);
                prop_assert_eq!(write_int(ram, GuestAddress(a), w, v), want);
            }
            Op::Load(a, w) => {
                let want = model
                    .aligned(a, u64::from(w))
                    .and_then(|()| model.read(a, w as usize))
                    .map(|b| le(&b));
                let g = GuestAddress(a);
                let got = match w {
                    2 => ram.load_u16(g, SeqCst).map(u64::from),
                    4 => ram.load_u32(g, SeqCst).map(u64::from),
                    _ => ram.load_u64(g, SeqCst),
                };
                prop_assert_eq!(got, want);
            }
            Op::Store(a, w, v) => {
                let want = model
                    .aligned(a, u64::from(w))
                    .and_then(|()| model.write(a, &v.to_le_bytes()[..w as usize]));
                let g = GuestAddress(a);
                let got = match w {
                    2 => ram.store_u16(g, v as u16, SeqCst),
                    4 => ram.store_u32(g, v as u32, SeqCst),
                    _ => ram.store_u64(g, v, SeqCst),
                };
                prop_assert_eq!(got, want);
            }
            Op::Cas(a, w, cur, new) => {
                let (cur, new) = (cur & mask(w), new & mask(w));
                let g = GuestAddress(a);
                let want = match model.aligned(a, u64::from(w)) {
                    Err(e) => Err(e),
                    Ok(()) => {
                        let old = le(&model.read(a, w as usize).unwrap());
                        if old == cur {
                            model.write(a, &new.to_le_bytes()[..w as usize]).unwrap();
                            Ok(Ok(old))
                        } else {
                            Ok(Err(old))
                        }
                    }
                };
                let got = match w {
                    4 => ram
                        .compare_exchange_u32(g, cur as u32, new as u32, SeqCst, SeqCst)
                        .map(|r| r.map(u64::from).map_err(u64::from)),
                    _ => ram.compare_exchange_u64(g, cur, new, SeqCst, SeqCst),
                };
                prop_assert_eq!(got, want);
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn guest_ram_matches_a_vec_model(ops in proptest::collection::vec(op(), 1..64)) {
            let ram = ram();
            let mut model = Model::new();
            for op in ops {
                apply(&ram, &mut model, op)?;
            }
            // Whatever happened, the final contents agree byte for byte.
            for (base, bytes) in &model.regions {
                let mut buf = vec![0u8; bytes.len()];
                ram.read(GuestAddress(*base), &mut buf).unwrap();
                prop_assert_eq!(&buf, bytes);
            }
        }
    }

    #[test]
    fn access_ending_exactly_at_the_top_of_the_address_space_is_allowed() {
        let ram = ram();
        let a = GuestAddress(u64::MAX - 7);
        ram.write_u64(a, 0xdead_beef).unwrap();
        assert_eq!(ram.read_u64(a), Ok(0xdead_beef));
        assert_eq!(
            ram.read_u64(GuestAddress(u64::MAX - 6)),
            Err(MemError::Overflow {
                addr: GuestAddress(u64::MAX - 6)
            })
        );
    }

    #[test]
    fn zero_length_slices_are_refused_with_their_own_error() {
        let ram = ram();
        let a = GuestAddress(0x1000);
        assert_eq!(
            ram.read_slice(a, &mut []),
            Err(MemError::ZeroLength { addr: a })
        );
        assert_eq!(
            ram.write_slice(a, &[]),
            Err(MemError::ZeroLength { addr: a })
        );
    }

    #[derive(Clone, Copy, Default, Debug, PartialEq)]
    #[repr(C)]
    struct Header {
        kind: u32,
        reserved: u32,
        sector: u64,
    }
    // SAFETY: `repr(C)` of u32, u32, u64: no padding, any bits valid.
    unsafe impl ByteValued for Header {}

    #[test]
    fn plain_data_structs_round_trip_little_endian() {
        let ram = ram();
        let h = Header {
            kind: 1,
            reserved: 0,
            sector: 0x0102_0304_0506_0708,
        };
        let a = GuestAddress(0x1003);
        ram.write_obj(a, h).unwrap();
        assert_eq!(ram.read_obj::<Header>(a), Ok(h));
        assert_eq!(ram.read_u8(GuestAddress(0x1003 + 8)), Ok(0x08));
    }
}

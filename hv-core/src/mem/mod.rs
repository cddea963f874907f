//! Guest-physical memory.
//!
//! [`GuestMemory`] is the one interface through which the core, the device
//! models and both homes touch guest RAM. Every access is bounds- and
//! overflow-checked and returns a [`MemError`]; nothing here panics on a
//! guest-supplied address.
//!
//! Accesses take `&self`: guest RAM is shared with running vCPUs, so the
//! implementations copy through raw pointers and never hand out `&[u8]` into
//! guest memory.
//!
//! Concurrency: a plain copy ([`GuestMemory::read`], `read_u32`, ...) that
//! races with a vCPU writing the same bytes may see a torn value, as on
//! hardware. Anything the hypervisor and a running guest both update (ring
//! indices, flags, locks) goes through the atomic methods with an explicit
//! [`Ordering`]; between host threads (hv-sim's vCPU threads) only the
//! atomic methods are race-free in Rust's memory model.

mod ram;

pub use ram::{GuestRam, RamRegion};

use crate::addr::GuestAddress;
use core::fmt;
use core::sync::atomic::Ordering;

/// Why a guest memory access failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemError {
    /// No RAM region holds `[addr, addr + len)`.
    OutOfRange {
        /// First byte of the access.
        addr: GuestAddress,
        /// Length of the access in bytes.
        len: u64,
    },
    /// `addr + len` overflows the 64-bit address space.
    Overflow {
        /// First byte of the access.
        addr: GuestAddress,
    },
    /// An atomic access that is not naturally aligned.
    Misaligned {
        /// Address of the access.
        addr: GuestAddress,
        /// Required alignment in bytes.
        align: u64,
    },
    /// An exact-length slice access ([`GuestMemory::read_slice`],
    /// [`GuestMemory::write_slice`]) was given an empty slice.
    ZeroLength {
        /// Address of the access.
        addr: GuestAddress,
    },
    /// Regions overlap, or a region is empty or too large (construction only).
    BadRegion,
    /// The host could not provide memory for a region.
    NoHostMemory,
}

impl fmt::Display for MemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            MemError::OutOfRange { addr, len } => {
                write!(f, "guest access {addr}+{len:#x} is outside guest RAM")
            }
            MemError::Overflow { addr } => write!(f, "guest access at {addr} overflows"),
            MemError::Misaligned { addr, align } => {
                write!(
                    f,
                    "atomic guest access at {addr} is not {align}-byte aligned"
                )
            }
            MemError::ZeroLength { addr } => write!(f, "zero-length slice access at {addr}"),
            MemError::BadRegion => write!(f, "RAM regions are empty, too large or overlap"),
            MemError::NoHostMemory => write!(f, "out of host memory for guest RAM"),
        }
    }
}

/// Little-endian plain-old-data that can be copied to and from guest memory.
///
/// # Safety
///
/// Every bit pattern of `size_of::<Self>()` bytes must be a valid `Self`, and
/// `Self` must have no padding bytes.
pub unsafe trait ByteValued: Copy + Default + Send + Sync + 'static {}

// SAFETY: integers have no padding and every bit pattern is valid.
unsafe impl ByteValued for u8 {}
// SAFETY: as above.
unsafe impl ByteValued for u16 {}
// SAFETY: as above.
unsafe impl ByteValued for u32 {}
// SAFETY: as above.
unsafe impl ByteValued for u64 {}
// SAFETY: as above.
unsafe impl ByteValued for u128 {}
// SAFETY: as above.
unsafe impl ByteValued for i8 {}
// SAFETY: as above.
unsafe impl ByteValued for i16 {}
// SAFETY: as above.
unsafe impl ByteValued for i32 {}
// SAFETY: as above.
unsafe impl ByteValued for i64 {}

/// Access to guest-physical memory.
///
/// Implementors provide byte copies and naturally aligned atomics; typed
/// little-endian helpers are provided on top.
pub trait GuestMemory {
    /// Fill `buf` from guest memory at `addr`. An empty `buf` succeeds if
    /// `addr` is in range or one past a region's end.
    fn read(&self, addr: GuestAddress, buf: &mut [u8]) -> Result<(), MemError>;

    /// Copy `data` into guest memory at `addr`.
    fn write(&self, addr: GuestAddress, data: &[u8]) -> Result<(), MemError>;

    /// Set `len` bytes at `addr` to `value`.
    fn fill(&self, addr: GuestAddress, value: u8, len: u64) -> Result<(), MemError>;

    /// Whether `[addr, addr + len)` lies inside guest RAM.
    fn check_range(&self, addr: GuestAddress, len: u64) -> Result<(), MemError>;

    /// The host address behind guest `[addr, addr + len)`, if this memory
    /// is host memory and the range lies in one piece of it: for generated
    /// code that accesses guest RAM directly (the JIT's load/store fast
    /// path). The address stays valid as long as the memory; accesses
    /// through it must follow this module's rules (no Rust references into
    /// guest memory). The default: none.
    fn host_address(&self, _addr: GuestAddress, _len: u64) -> Option<u64> {
        None
    }

    /// Atomic load of a naturally aligned u16.
    fn load_u16(&self, addr: GuestAddress, order: Ordering) -> Result<u16, MemError>;
    /// Atomic store of a naturally aligned u16.
    fn store_u16(&self, addr: GuestAddress, value: u16, order: Ordering) -> Result<(), MemError>;
    /// Atomic load of a naturally aligned u32.
    fn load_u32(&self, addr: GuestAddress, order: Ordering) -> Result<u32, MemError>;
    /// Atomic store of a naturally aligned u32.
    fn store_u32(&self, addr: GuestAddress, value: u32, order: Ordering) -> Result<(), MemError>;
    /// Atomic load of a naturally aligned u64.
    fn load_u64(&self, addr: GuestAddress, order: Ordering) -> Result<u64, MemError>;
    /// Atomic store of a naturally aligned u64.
    fn store_u64(&self, addr: GuestAddress, value: u64, order: Ordering) -> Result<(), MemError>;
    /// Atomic compare-exchange of a naturally aligned u32; `Ok(Err(actual))`
    /// when the comparison failed.
    fn compare_exchange_u32(
        &self,
        addr: GuestAddress,
        current: u32,
        new: u32,
        success: Ordering,
        failure: Ordering,
    ) -> Result<Result<u32, u32>, MemError>;
    /// Atomic compare-exchange of a naturally aligned u64.
    fn compare_exchange_u64(
        &self,
        addr: GuestAddress,
        current: u64,
        new: u64,
        success: Ordering,
        failure: Ordering,
    ) -> Result<Result<u64, u64>, MemError>;

    /// Fill `buf` exactly from guest memory at `addr`; unlike [`read`], an
    /// empty `buf` is refused with [`MemError::ZeroLength`] (a zero-length
    /// guest request is a bug in whoever built it).
    ///
    /// [`read`]: GuestMemory::read
    #[inline]
    fn read_slice(&self, addr: GuestAddress, buf: &mut [u8]) -> Result<(), MemError> {
        if buf.is_empty() {
            return Err(MemError::ZeroLength { addr });
        }
        self.read(addr, buf)
    }

    /// Write all of `data` at `addr`; an empty `data` is refused with
    /// [`MemError::ZeroLength`].
    #[inline]
    fn write_slice(&self, addr: GuestAddress, data: &[u8]) -> Result<(), MemError> {
        if data.is_empty() {
            return Err(MemError::ZeroLength { addr });
        }
        self.write(addr, data)
    }

    /// Read a plain-data value stored little-endian (as the guest machine is).
    #[inline]
    fn read_obj<T: ByteValued>(&self, addr: GuestAddress) -> Result<T, MemError> {
        let mut value = T::default();
        // SAFETY: `T: ByteValued` has no padding and accepts any bit pattern,
        // so viewing it as bytes and overwriting them is sound.
        let bytes = unsafe {
            core::slice::from_raw_parts_mut(
                (&mut value as *mut T).cast::<u8>(),
                core::mem::size_of::<T>(),
            )
        };
        self.read(addr, bytes)?;
        Ok(value)
    }

    /// Write a plain-data value.
    #[inline]
    fn write_obj<T: ByteValued>(&self, addr: GuestAddress, value: T) -> Result<(), MemError> {
        // SAFETY: `T: ByteValued` has no padding, so all its bytes are
        // initialised.
        let bytes = unsafe {
            core::slice::from_raw_parts(
                (&value as *const T).cast::<u8>(),
                core::mem::size_of::<T>(),
            )
        };
        self.write(addr, bytes)
    }

    /// Read a little-endian u8.
    #[inline]
    fn read_u8(&self, addr: GuestAddress) -> Result<u8, MemError> {
        self.read_obj::<u8>(addr)
    }
    /// Read a little-endian u16 (any alignment).
    #[inline]
    fn read_u16(&self, addr: GuestAddress) -> Result<u16, MemError> {
        self.read_obj::<u16>(addr).map(u16::from_le)
    }
    /// Read a little-endian u32 (any alignment).
    #[inline]
    fn read_u32(&self, addr: GuestAddress) -> Result<u32, MemError> {
        self.read_obj::<u32>(addr).map(u32::from_le)
    }
    /// Read a little-endian u64 (any alignment).
    #[inline]
    fn read_u64(&self, addr: GuestAddress) -> Result<u64, MemError> {
        self.read_obj::<u64>(addr).map(u64::from_le)
    }
    /// Write a u8.
    #[inline]
    fn write_u8(&self, addr: GuestAddress, value: u8) -> Result<(), MemError> {
        self.write_obj(addr, value)
    }
    /// Write a little-endian u16 (any alignment).
    #[inline]
    fn write_u16(&self, addr: GuestAddress, value: u16) -> Result<(), MemError> {
        self.write_obj(addr, value.to_le())
    }
    /// Write a little-endian u32 (any alignment).
    #[inline]
    fn write_u32(&self, addr: GuestAddress, value: u32) -> Result<(), MemError> {
        self.write_obj(addr, value.to_le())
    }
    /// Write a little-endian u64 (any alignment).
    #[inline]
    fn write_u64(&self, addr: GuestAddress, value: u64) -> Result<(), MemError> {
        self.write_obj(addr, value.to_le())
    }
}

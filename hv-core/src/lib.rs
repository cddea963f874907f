//! The `no_std` core of hv, shared by the bare-metal hypervisor (`hv-kernel`)
//! and the simulator (`hv-sim`).
//!
//! * [`addr`]: guest address newtypes.
//! * [`mem`]: the [`mem::GuestMemory`] trait and guest RAM backed by host memory.
//! * [`mmio`]: the [`mmio::MmioDevice`] trait and the bus that routes guest
//!   MMIO accesses to devices.
//! * [`machine`]: the guest machine contract (addresses and interrupts).
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

// Guest memory is little-endian and atomics on it use host byte order.
#[cfg(target_endian = "big")]
compile_error!("hv supports little-endian hosts only");

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod addr;
pub mod machine;
pub mod mem;
pub mod mmio;
pub mod translate;

pub use addr::GuestAddress;

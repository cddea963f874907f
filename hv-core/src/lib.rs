//! The `no_std` core of hv, shared by the bare-metal hypervisor (`hv-kernel`)
//! and the simulator (`hv-sim`).
//!
//! * [`addr`]: guest address newtypes.
//! * [`frame`]: the [`frame::FrameAllocator`] trait and a NUMA-aware bitmap
//!   allocator of 4 KiB frames and 2 MiB / 1 GiB blocks.
//! * [`mem`]: the [`mem::GuestMemory`] trait and guest RAM backed by host memory.
//! * [`paging`]: one mapper API over AArch64 stage-1/stage-2 and x86_64
//!   NPT/EPT descriptors, with the walker shared by every home.
//! * [`tlb`]: software TLBs tagged by VMID/ASID, two-level arrangement, and
//!   lock-free per-vCPU shootdown.
//! * [`mmio`]: the [`mmio::MmioDevice`] trait and the bus that routes guest
//!   MMIO accesses to devices.
//! * [`pio`]: the x86 port-I/O bus (the MMIO bus addressed by port).
//! * [`machine`]: the guest machine contract (addresses and interrupts).
//! * [`devices`]: device models every home presents (the PL011 and 16550
//!   consoles, the GICv3).
//! * [`dtb`]: reading the device tree firmware hands hv (FDT_NOP,
//!   `ranges`), never panicking on a malformed one.
//! * [`vm`]: what a guest is given and asks for (bundle, DTB, PSCI).
//! * [`arch`]: pure decoding of architecture state (ESR_EL2 exits, ID
//!   registers, the x86 instructions a guest uses on MMIO).
//! * [`translate`]: the A64 decoder, block IR and cache, and the reference
//!   interpreter with the EL0/EL1 exception model (hv-sim's CPU).
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
// Unsafe code has one home, `mem` (the host memory behind guest RAM); the
// compiler holds every other module to that.
#![deny(unsafe_code)]

// Guest memory is little-endian and atomics on it use host byte order.
#[cfg(target_endian = "big")]
compile_error!("hv supports little-endian hosts only");

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod addr;
pub mod arch;
pub mod devices;
pub mod dtb;
pub mod frame;
pub mod machine;
#[allow(unsafe_code)]
pub mod mem;
pub mod mmio;
pub mod paging;
pub mod pio;
pub mod tlb;
pub mod translate;
pub mod vm;

pub use addr::{GuestAddress, PhysAddr, VirtAddr};

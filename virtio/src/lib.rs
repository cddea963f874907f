//! virtio for hv: split virtqueues over [`hv_core::mem::GuestMemory`], the
//! virtio-mmio transport and the VirtioBlock device model.
//!
//! Pure logic over guest memory: no unsafe code.
//!
//! How a home (hv-kernel or hv-sim) puts a disk on the guest machine: wrap
//! a [`BlockBackend`] in a [`VirtioBlock`], the device in an
//! [`MmioTransport`] that shares guest memory (any `Deref` to a
//! [`hv_core::mem::GuestMemory`], e.g. `Arc<GuestRam>`), and the transport on
//! the MMIO bus at a virtio-mmio slot. Queue work runs inside the guest's
//! QueueNotify write, at most a budget of requests per queue (see
//! [`mmio`]); after each access the home samples
//! [`hv_core::mmio::MmioDevice::interrupt_level`] and raises the slot's
//! interrupt (INTID 48 + n, edge) when the level goes up. Work left at the
//! budget is continued by [`MmioTransport::poll`], which the home calls
//! after every exit while [`MmioTransport::has_deferred_work`]; for disks
//! put on the bus by [`slots::attach_disks`], through the
//! [`slots::VirtioDisks`] it returns.
//!
//! ```
//! use std::sync::Arc;
//! use hv_core::machine::{virtio_mmio_intid, virtio_mmio_slot, RAM_BASE};
//! use hv_core::mem::GuestRam;
//! use hv_core::mmio::{AccessWidth, MmioBus};
//! use virtio::{mmio, BlockConfig, MemoryBackend, MmioTransport, VirtioBlock};
//!
//! let ram = Arc::new(GuestRam::with_size(RAM_BASE, 16 << 20).unwrap());
//! let disk = MemoryBackend::new(400 << 20); // allocates nothing yet
//! let blk = VirtioBlock::new(disk, BlockConfig::default()).unwrap();
//! let dev = MmioTransport::new(blk, Arc::clone(&ram));
//!
//! let mut bus = MmioBus::new();
//! let base = virtio_mmio_slot(0).unwrap();
//! bus.insert(base, mmio::WINDOW_SIZE, Box::new(dev)).unwrap();
//! assert_eq!(bus.read(base, AccessWidth::Word), Ok(u64::from(mmio::MAGIC)));
//!
//! // After each guest access (and after each poll of deferred work):
//! for (dev_base, level) in bus.interrupt_levels() {
//!     if level && dev_base == base {
//!         let _intid = virtio_mmio_intid(0); // inject this SPI on a rising edge
//!     }
//! }
//! ```
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

pub mod blk;
pub mod device;
pub mod empty_slot;
pub mod mmio;
pub mod queue;
pub mod slots;
#[cfg(any(test, feature = "test-utils"))]
pub mod testing;

pub use blk::{BlockBackend, BlockConfig, MemoryBackend, VirtioBlock};
pub use device::VirtioDevice;
pub use empty_slot::EmptySlot;
pub use mmio::MmioTransport;
pub use queue::{DescriptorChain, Queue};
#[cfg(test)]
mod tests;

//! virtio for hv: split virtqueues over [`hv_core::mem::GuestMemory`], the
//! virtio-mmio transport and the VirtioBlock device model.
//!
//! Pure logic over guest memory: no unsafe code.
//!
//! A home builds a device like this:
//!
//! ```ignore
//! let disk = MemoryBackend::new(64 << 20);
//! let blk = VirtioBlock::new(disk, BlockConfig::default())?;
//! let dev = MmioTransport::new(blk, Arc::clone(&guest_ram));
//! bus.insert(slot_base, mmio::WINDOW_SIZE, Box::new(dev))?;
//! // after every access: if bus device interrupt_level() rose, inject SPI 16 + n
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
#[cfg(any(test, feature = "test-utils"))]
pub mod testing;

pub use blk::{BlockBackend, BlockConfig, MemoryBackend, VirtioBlock};
pub use device::VirtioDevice;
pub use empty_slot::EmptySlot;
pub use mmio::MmioTransport;
pub use queue::{DescriptorChain, Queue};
#[cfg(test)]
mod tests;

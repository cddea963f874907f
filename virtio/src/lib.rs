//! virtio for hv: split virtqueues over [`hv_core::mem::GuestMemory`], the
//! virtio-mmio transport and the VirtioBlock device model.
//!
//! Pure logic over guest memory: no unsafe code.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

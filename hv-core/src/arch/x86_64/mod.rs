//! x86_64: what an SVM exit leaves hv to work out for itself.
//!
//! QEMU's SVM (and older AMD parts) offers no decode assists: a nested page
//! fault on MMIO reports the guest-physical address and nothing about the
//! instruction. [`mmio_insn`] decodes the instruction bytes hv fetched at
//! the guest's RIP and emulates the access.

pub mod mmio_insn;

//! x86_64: what an SVM exit reports, and what hv must work out itself.
//!
//! * [`svm`]: the VMCB's layout and the decoding of #VMEXIT codes.
//! * [`mmio_insn`]: QEMU's SVM (and older AMD parts) offers no decode
//!   assists, so a nested page fault on MMIO reports the guest-physical
//!   address and nothing about the instruction: hv decodes the bytes it
//!   fetched at the guest's RIP and emulates the access.

pub mod mmio_insn;
pub mod svm;

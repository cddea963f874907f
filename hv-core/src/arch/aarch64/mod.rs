//! AArch64: exception syndromes as hv-kernel receives them at EL2.

pub mod esr;
pub mod idregs;
pub mod sgi;

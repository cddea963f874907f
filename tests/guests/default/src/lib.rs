//! Runtime for hv's test guests: boot code, a PL011 console, PSCI, the EL1
//! exception hook ([`rt`], AArch64) and the DMA glue for `virtio-drivers`
//! ([`dma`], which the x86 test guest uses too). The guests run with
//! the MMU off, or (guest-topva) with an identity map of RAM and devices, so
//! the runtime's physical and virtual addresses are the same.
//!
//! Only the bare-metal build has content; on the host the crate is empty so
//! workspace-wide host builds stay simple.
#![cfg_attr(target_os = "none", no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
// The guests have no heap, so a failure message lives in a fixed buffer
// (`rt::report::Msg`) returned by value; no error path is hot.
#![allow(clippy::result_large_err)]

#[cfg(target_os = "none")]
pub mod dma;
#[cfg(all(target_os = "none", target_arch = "aarch64"))]
pub mod rt;

/// The pattern the default guest writes: byte `i` of disk sector `sector`.
/// The host-side check in xtask computes the same formula.
pub fn pattern_byte(sector: u64, i: usize) -> u8 {
    ((sector.wrapping_mul(131) as usize).wrapping_add(i.wrapping_mul(7)) ^ 0x5a) as u8
}

#[cfg(test)]
mod tests {
    #[test]
    fn pattern_differs_between_sectors_and_bytes() {
        assert_ne!(super::pattern_byte(0, 0), super::pattern_byte(1, 0));
        assert_ne!(super::pattern_byte(0, 0), super::pattern_byte(0, 1));
        assert_eq!(super::pattern_byte(0, 0), 0x5a);
    }
}

//! Everything that names a register, runs an instruction by hand or touches
//! memory through a raw pointer lives under `arch/`.

pub mod heap;
pub mod host_disk;
pub mod tables;

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
pub use aarch64::{fatal, prepare_guest_image};

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use self::x86_64::fatal;

//! Architecture-specific logic that is still pure (no instructions, no
//! registers touched): decoding what the hardware reports, so both homes and
//! host tests share it.

pub mod aarch64;
pub mod x86_64;

//! The x86_64 back end of the JIT.

pub mod enc;
#[cfg(test)]
mod enc_tests;

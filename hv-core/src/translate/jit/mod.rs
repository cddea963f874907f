//! The JIT tier (work in progress).

pub mod x86_64;

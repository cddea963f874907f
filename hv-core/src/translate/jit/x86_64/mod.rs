//! The x86_64 back end: an encoder ([`enc`]) and instruction selection
//! ([`lower`]). Both are plain Rust writing bytes, so they build and are
//! tested on every host; only running the code needs an x86_64 host.

pub mod enc;
#[cfg(test)]
mod enc_tests;
pub mod lower;

pub use lower::{compile, entry_stub, CompileError, Env, Stub};

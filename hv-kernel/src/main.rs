//! hv-kernel: the bare-metal hv hypervisor image.
//!
//! Built for `aarch64-unknown-none` (entered at EL2 through the Linux arm64
//! Image header) and `x86_64-unknown-none` (entered through PVH). On the host
//! this crate builds to a stub that says how to build the real image, so that
//! workspace-wide host commands (tests, clippy) cover its portable modules.
#![cfg_attr(target_os = "none", no_std, no_main)]
#![deny(unsafe_op_in_unsafe_fn)]
// Unsafe code lives under `arch` (registers, boot, exception entry, the
// heap); the guest machine builder, console and configuration are safe
// Rust, and the compiler keeps them so.
#![deny(unsafe_code)]

#[cfg(target_os = "none")]
extern crate alloc;

#[cfg(target_os = "none")]
#[allow(unsafe_code)]
mod arch;
// On the host only the tests use these.
#[cfg_attr(not(target_os = "none"), allow(dead_code))]
mod config;
#[cfg(target_os = "none")]
mod console;
// The guest machine builder; so far only the AArch64 image runs guests.
#[cfg(all(target_os = "none", target_arch = "aarch64"))]
mod vm;

#[cfg(not(target_os = "none"))]
fn main() {
    eprintln!(
        "hv-kernel is a bare-metal image; build and boot it with \
         `cargo xtask run --target aarch64` (or `--target x86_64`)"
    );
    std::process::exit(2);
}

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    arch::fatal(format_args!("hv-kernel panic: {info}"))
}

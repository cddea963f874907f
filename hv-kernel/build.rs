//! Passes the target's linker script (from the top-level `linker/` directory)
//! to the bare-metal image. Host builds (the hv-kernel stub) use none.

use std::env;
use std::path::PathBuf;

fn main() {
    let target = env::var("TARGET").unwrap_or_default();
    let arch = match target.as_str() {
        "aarch64-unknown-none-softfloat" | "aarch64-unknown-none" => "aarch64",
        "x86_64-unknown-none" => "x86_64",
        _ => return,
    };
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets this"));
    let script = manifest
        .join("..")
        .join("linker")
        .join(format!("{arch}.ld"));
    println!("cargo:rerun-if-changed={}", script.display());
    println!("cargo:rustc-link-arg-bins=-T{}", script.display());
    if arch == "aarch64" {
        // Position-independent: the image relocates itself at entry, so any
        // 2 MiB-aligned load address works (QEMU, U-Boot booti, Pi firmware).
        println!("cargo:rustc-link-arg-bins=-pie");
        println!("cargo:rustc-link-arg-bins=--no-dynamic-linker");
        println!("cargo:rustc-link-arg-bins=-znotext");
    }
}

//! Building hv-kernel images.

use crate::{Arch, BuildArgs};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (xtask lives one level below it).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits inside the workspace")
        .to_path_buf()
}

/// Run `cmd`, echoing it, and fail with a message naming it if it fails.
pub fn run_checked(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}").replace('"', "");
    println!("xtask: $ {shown}");
    let status = cmd
        .status()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

/// Build hv-kernel for `args.target`; returns the bootable image: the flat
/// arm64 Image for AArch64, the PVH ELF for x86_64.
pub fn build(args: &BuildArgs) -> Result<PathBuf, String> {
    let root = workspace_root();
    println!(
        "xtask: building hv-kernel for {} ({})",
        args.target.name(),
        if args.release { "release" } else { "debug" }
    );
    let mut cmd = Command::new(cargo());
    cmd.current_dir(&root)
        .args(["build", "-p", "hv-kernel", "--target", args.target.triple()]);
    if args.release {
        cmd.arg("--release");
    }
    if let Some(features) = &args.features {
        cmd.args(["--features", features]);
    }
    run_checked(&mut cmd)?;
    let elf = root
        .join("target")
        .join(args.target.triple())
        .join(if args.release { "release" } else { "debug" })
        .join("hv-kernel");
    if !elf.is_file() {
        return Err(format!("cargo succeeded but {} is missing", elf.display()));
    }
    if args.target == Arch::Aarch64 {
        // The flat Image (what QEMU -kernel, U-Boot and the Pi firmware load).
        let img = elf.with_extension("img");
        run_checked(
            Command::new(crate::prereq::llvm_objcopy()?)
                .args(["-O", "binary"])
                .arg(&elf)
                .arg(&img),
        )?;
        return Ok(img);
    }
    Ok(elf)
}

/// The cargo that started us (so the toolchain matches).
pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

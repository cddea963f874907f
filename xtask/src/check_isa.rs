//! `cargo xtask check-isa`: hv-core's interpreter against QEMU user mode,
//! instruction by instruction.
//!
//! The tester itself is hv-sim's `check-isa` binary (it needs hv-core, and
//! xtask depends on nothing in the workspace); xtask makes sure its
//! references are installed (`qemu-aarch64` from Debian's `qemu-user`,
//! `llvm-objdump` from rustup's llvm-tools), builds it (release) and runs
//! it.

use crate::image::{cargo, run_checked, workspace_root};
use crate::{prereq, CheckIsaArgs};
use std::process::Command;

/// Sequences per class in the sample `cargo xtask test` runs.
pub const TEST_SAMPLE_COUNT: u32 = 1000;

/// `cargo xtask check-isa`.
pub fn run(args: &CheckIsaArgs) -> Result<(), String> {
    let mut cmd = command()?;
    cmd.args(["--count", &args.count.to_string()]);
    cmd.args(["--seed", &args.seed.to_string()]);
    for c in &args.class {
        cmd.args(["--class", c]);
    }
    cmd.args(["--show", &args.show.to_string()]);
    if args.strict {
        cmd.arg("--strict");
    }
    if args.list {
        cmd.arg("--list");
    }
    if args.fpcr_zero {
        cmd.arg("--fpcr-zero");
    }
    if let Some(mask) = &args.fpcr_mask {
        cmd.args(["--fpcr-mask", mask]);
    }
    run_checked(&mut cmd)
}

/// The sample of `cargo xtask test`: every class, [`TEST_SAMPLE_COUNT`]
/// sequences each, a fixed seed (so a failure reproduces with
/// `cargo xtask check-isa --count 1000 --seed 1`). Fails when a class
/// listed as implemented mismatches.
pub fn test_sample() -> Result<(), String> {
    let mut cmd = command()?;
    cmd.args(["--count", &TEST_SAMPLE_COUNT.to_string(), "--seed", "1"]);
    cmd.args(["--show", "1"]);
    run_checked(&mut cmd)
}

/// `cargo run --release --bin check-isa --` with the reference tools.
fn command() -> Result<Command, String> {
    let qemu = prereq::for_qemu_user()?;
    let objdump = prereq::llvm_objdump()?;
    let work = workspace_root().join("target/xtask/check-isa");
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let mut cmd = Command::new(cargo());
    cmd.current_dir(workspace_root()).args([
        "run",
        "--release",
        "-q",
        "-p",
        "hv-sim",
        "--bin",
        "check-isa",
        "--",
    ]);
    cmd.arg("--qemu").arg(&qemu);
    cmd.arg("--objdump").arg(&objdump);
    cmd.arg("--work-dir").arg(&work);
    Ok(cmd)
}

//! QEMU boot tests of the hv-kernel images: each boots an image through
//! qemu-runner.sh and checks what it printed and how QEMU exited.

use crate::guest;
use crate::image::{self, workspace_root};
use crate::{Arch, BuildArgs};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// Seconds a boot test may take before qemu-runner.sh stops QEMU.
const TIMEOUT_S: u32 = 60;

/// How a boot must end.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Exit {
    /// qemu-runner.sh exits 0 (clean power-off).
    Clean,
    /// qemu-runner.sh exits with a failure status, not a timeout.
    Failure,
}

struct BootTest {
    name: &'static str,
    arch: Arch,
    /// Build with the fault-test feature.
    fault: bool,
    smp: u32,
    /// Enter at EL1 instead of EL2 (AArch64 only).
    el1: bool,
    expect: &'static [&'static str],
    exit: Exit,
}

const TESTS: &[BootTest] = &[
    BootTest {
        name: "aarch64: banner and 4 CPUs at EL2, clean PSCI SYSTEM_OFF",
        arch: Arch::Aarch64,
        fault: false,
        smp: 4,
        el1: false,
        expect: &[
            "hv-kernel ",
            "(aarch64)",
            "exception level: EL2",
            "MIDR_EL1: 0x",
            "RAM total: 512 MiB",
            "CPUs: 4",
            "PSCI 1.",
            "4 of 4 CPUs online",
            "all done, powering off",
        ],
        exit: Exit::Clean,
    },
    BootTest {
        name: "aarch64: one CPU",
        arch: Arch::Aarch64,
        fault: false,
        smp: 1,
        el1: false,
        expect: &["CPUs: 1", "1 of 1 CPUs online", "all done, powering off"],
        exit: Exit::Clean,
    },
    BootTest {
        name: "aarch64: a fault at EL2 prints the dump",
        arch: Arch::Aarch64,
        fault: true,
        smp: 1,
        el1: false,
        expect: &[
            "unexpected exception: synchronous from current EL, SP_ELx",
            "ESR_EL2  0x0000000096000000",
            "data abort, same EL",
            "FAR_EL2  0xdeadbeef00000000",
            "ELR_EL2  0x",
            "x30 0x",
        ],
        exit: Exit::Failure,
    },
    BootTest {
        name: "aarch64: entered at EL1, refuses with a clear message",
        arch: Arch::Aarch64,
        fault: false,
        smp: 1,
        el1: true,
        expect: &["hv-kernel must be entered at EL2 but runs at EL1"],
        exit: Exit::Failure,
    },
    BootTest {
        name: "x86_64: banner with CPU features and memory, clean exit",
        arch: Arch::X86_64,
        fault: false,
        smp: 1,
        el1: false,
        expect: &[
            "hv-kernel ",
            "(x86_64)",
            "CPU vendor: ",
            "VMX: ",
            "SVM: ",
            "RAM total: ",
            "all done, powering off",
        ],
        exit: Exit::Clean,
    },
    BootTest {
        name: "x86_64: a page fault prints the dump",
        arch: Arch::X86_64,
        fault: true,
        smp: 1,
        el1: false,
        expect: &[
            "unexpected exception: #14 page fault",
            "CR2 0x00000deadbeef000",
            "RIP 0x",
        ],
        exit: Exit::Failure,
    },
];

/// Build an image and keep a copy under target/xtask/, since the next build
/// with other features overwrites cargo's output.
fn build_image(arch: Arch, fault: bool) -> Result<PathBuf, String> {
    let img = image::build(&BuildArgs {
        target: arch,
        release: false,
        features: fault.then(|| "fault-test".to_string()),
    })?;
    let dir = workspace_root().join("target/xtask");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let name = format!(
        "{}{}.bin",
        arch.name(),
        if fault { "-fault-test" } else { "" }
    );
    let copy = dir.join(name);
    std::fs::copy(&img, &copy).map_err(|e| format!("copying {}: {e}", img.display()))?;
    Ok(copy)
}

fn run_one(test: &BootTest, image: &PathBuf) -> Result<(), String> {
    let start = Instant::now();
    let out = Command::new(workspace_root().join("qemu-runner.sh"))
        .arg(image)
        .env("HV_SMP", test.smp.to_string())
        .env("HV_MEM", "512M")
        .env("HV_TIMEOUT", TIMEOUT_S.to_string())
        .env("HV_QEMU_EL1", if test.el1 { "1" } else { "0" })
        .output()
        .map_err(|e| format!("could not start qemu-runner.sh: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let code = out.status.code();
    let mut problems = Vec::new();
    match (test.exit, code) {
        (_, Some(124)) => problems.push(format!("timed out after {TIMEOUT_S} s")),
        (Exit::Clean, Some(0)) => {}
        (Exit::Clean, _) => problems.push(format!("expected a clean exit, got {}", out.status)),
        (Exit::Failure, Some(0)) => problems.push("expected a failure status, got 0".into()),
        (Exit::Failure, _) => {}
    }
    for want in test.expect {
        if !text.contains(want) {
            problems.push(format!("output lacks {want:?}"));
        }
    }
    println!(
        "xtask: boot test {:?}: {} in {:.1} s",
        test.name,
        if problems.is_empty() { "ok" } else { "FAILED" },
        start.elapsed().as_secs_f64()
    );
    if problems.is_empty() {
        Ok(())
    } else {
        println!(
            "----- output -----\n{}\n------------------",
            text.trim_end()
        );
        Err(problems.join("; "))
    }
}

/// The default guest directly on QEMU `virt` at EL1, no hypervisor: the
/// reference half of the differential check. Then the host checks that the
/// disk image holds what the guest says it wrote.
fn default_guest_on_plain_qemu() -> Result<(), String> {
    let start = Instant::now();
    let image = guest::build_default_guest()?;
    let dir = workspace_root().join("target/xtask");
    let disk = dir.join("plain-qemu-disk.img");
    let ro = dir.join("plain-qemu-ro.img");
    guest::create_disk(&disk, 8 << 20)?;
    guest::create_disk(&ro, 1 << 20)?;
    let drive = |path: &PathBuf, id: &str, extra: &str| {
        format!("file={},if=none,id={id},format=raw{extra}", path.display())
    };
    let out = Command::new(workspace_root().join("qemu-runner.sh"))
        .arg(&image)
        .args(["-no-reboot", "-global", "virtio-mmio.force-legacy=false"])
        .args([
            "-drive",
            &drive(&disk, "d0", ""),
            "-device",
            "virtio-blk-device,drive=d0",
        ])
        .args([
            "-drive",
            &drive(&ro, "d1", ",readonly=on"),
            "-device",
            "virtio-blk-device,drive=d1",
        ])
        .env("HV_SMP", "1")
        .env("HV_MEM", "256M")
        .env("HV_TIMEOUT", TIMEOUT_S.to_string())
        .env("HV_QEMU_EL1", "1")
        .output()
        .map_err(|e| format!("could not start qemu-runner.sh: {e}"))?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let verdict = if !text.lines().any(|l| l.trim() == "PASS") {
        Err("the guest did not print PASS".to_string())
    } else if out.status.code() != Some(0) {
        Err(format!("QEMU exited with {}", out.status))
    } else {
        guest::written_sectors(&text).and_then(|s| guest::check_pattern(&disk, &s))
    };
    println!(
        "xtask: boot test \"default guest on plain QEMU\": {} in {:.1} s",
        if verdict.is_ok() { "ok" } else { "FAILED" },
        start.elapsed().as_secs_f64()
    );
    if verdict.is_err() {
        println!(
            "----- output -----\n{}\n------------------",
            text.trim_end()
        );
    }
    verdict
}

/// Build the images and run every boot test; one result per test.
pub fn run_all() -> Vec<(String, Result<(), String>)> {
    let mut results = vec![(
        "boot: default guest on plain QEMU writes and checks its disk".to_string(),
        default_guest_on_plain_qemu(),
    )];
    for arch in Arch::ALL {
        for fault in [false, true] {
            let tests: Vec<&BootTest> = TESTS
                .iter()
                .filter(|t| t.arch == arch && t.fault == fault)
                .collect();
            if tests.is_empty() {
                continue;
            }
            match build_image(arch, fault) {
                Ok(image) => {
                    for t in tests {
                        results.push((format!("boot: {}", t.name), run_one(t, &image)));
                    }
                }
                Err(e) => {
                    for t in tests {
                        results.push((
                            format!("boot: {}", t.name),
                            Err(format!("build failed: {e}")),
                        ));
                    }
                }
            }
        }
    }
    results
}

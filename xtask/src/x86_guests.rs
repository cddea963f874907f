//! The x86 test guest (tests/guests/x86) on plain QEMU `-M microvm` and
//! under the x86_64 hv-kernel (SVM), which boots it from `-initrd`: its
//! lines must be the same on both, and both must end with its power-off
//! through ACPI S5 (found through each machine's own tables). On QEMU its disk is a 128 KiB file the host checks for the
//! pattern afterwards; under hv it is hv's 128 KiB RAM disk (the guest
//! reads back what it wrote).

use crate::boot_tests::{build_image, report};
use crate::guest;
use crate::image::workspace_root;
use crate::Arch;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Seconds one boot may take.
const TIMEOUT_S: u32 = 120;
/// The disk's size: the same as hv's RAM disk, so the guest prints the
/// same capacity on both.
const DISK_BYTES: u64 = 128 << 10;
/// The sectors the guest writes (its first, eighth and last).
const WRITTEN: [u64; 3] = [0, 7, DISK_BYTES / guest::SECTOR - 1];

/// The guest's line about an MSR no CPU has. It differs by machine:
/// QEMU TCG returns 0 for unknown MSRs where the SDM (and KVM) raise #GP,
/// which hv does; so it is left out of the comparison and checked on hv.
const MSR_LINE: &str = "x86 guest: RDMSR of missing MSR";
/// What hv must make of it.
const MSR_GP: &str = "x86 guest: RDMSR of missing MSR 0x12345678: #GP";
/// The guest's last line before it writes the sleep control register its
/// machine's FADT names (a memory register on microvm, a port on hv).
const ACPI_OFF: &str = "x86 guest: powering off through ACPI S5";

/// The guest's own lines (`x86 guest: ...`), in order.
pub fn guest_lines(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|l| l.find("x86 guest: ").map(|i| l[i..].trim_end().to_string()))
        .collect()
}

/// [`guest_lines`] without the machine-specific MSR line.
fn common_lines(output: &str) -> Vec<String> {
    guest_lines(output)
        .into_iter()
        .filter(|l| !l.starts_with(MSR_LINE))
        .collect()
}

/// Boot `image` (hv-kernel, or the guest itself with `microvm`) through
/// qemu-runner.sh with extra QEMU arguments.
fn boot(image: &Path, microvm: bool, extra: &[String]) -> Result<(String, Option<i32>), String> {
    let out = Command::new(workspace_root().join("qemu-runner.sh"))
        .arg(image)
        .args(extra)
        .env("HV_SMP", "1")
        .env("HV_MEM", if microvm { "64M" } else { "512M" })
        .env("HV_TIMEOUT", TIMEOUT_S.to_string())
        .env("HV_QEMU_MICROVM", if microvm { "1" } else { "0" })
        .output()
        .map_err(|e| format!("could not start qemu-runner.sh: {e}"))?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Ok((text, out.status.code()))
}

/// The guest on plain QEMU microvm: it must print PASS and exit through
/// debug-exit with the pass code. Returns its lines.
fn on_plain_qemu(guest_elf: &Path) -> Result<Vec<String>, String> {
    let start = Instant::now();
    let disk = workspace_root().join("target/xtask/x86-guest-disk.img");
    guest::create_disk(&disk, DISK_BYTES)?;
    let (text, code) = boot(guest_elf, true, &guest::disk_args(&disk, None))?;
    let lines = common_lines(&text);
    let verdict = if code != Some(0) {
        Err(format!("QEMU exited with {code:?}"))
    } else if !lines.iter().any(|l| l == "x86 guest: PASS") {
        Err("the guest did not print PASS".into())
    } else if lines.last().map(String::as_str) != Some(ACPI_OFF) {
        Err("the guest did not power off through ACPI".into())
    } else {
        guest::check_pattern(&disk, &WRITTEN)
    };
    report(
        "x86 test guest on plain QEMU microvm",
        start,
        &text,
        &verdict,
    );
    verdict.map(|()| lines)
}

/// The guest under hv-kernel (release or debug): the same lines as on
/// plain QEMU, hv's power-off report, and a clean exit.
fn under_hv(guest_elf: &Path, release: bool, reference: &[String]) -> Result<(), String> {
    let start = Instant::now();
    let hv = build_image(Arch::X86_64, false, release)?;
    let (text, code) = boot(
        &hv,
        false,
        &["-initrd".into(), guest_elf.display().to_string()],
    )?;
    let lines = common_lines(&text);
    let verdict = if code != Some(0) {
        Err(format!("QEMU exited with {code:?}"))
    } else if !guest_lines(&text).iter().any(|l| l == MSR_GP) {
        Err(format!(
            "hv did not give the guest #GP for a missing MSR ({MSR_GP:?})"
        ))
    } else if lines != reference {
        Err(format!(
            "the guest printed differently under hv-kernel:\n  plain QEMU: {reference:?}\n  hv-kernel:  {lines:?}"
        ))
    } else if !text.contains("svm: the guest powered off through ACPI S5") {
        Err("hv did not report the guest's ACPI power-off".into())
    } else {
        Ok(())
    };
    let name = format!(
        "x86 test guest under the {} x86_64 hv-kernel",
        if release { "release" } else { "debug" }
    );
    report(&name, start, &text, &verdict);
    verdict
}

/// The line /init printed (kernel version, CPUs), if it did.
fn linux_marker_line(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        l.find(crate::linux_x86::MARKER)
            .map(|i| l[i..].trim_end().to_string())
    })
}

/// Debian's amd64 kernel with the busybox initramfs, on plain QEMU
/// microvm (the reference) and under the release hv-kernel from a bundle:
/// user space must print the same line and the guest power off through
/// ACPI S5.
fn linux() -> Result<(), String> {
    let start = Instant::now();
    let (vmlinux, initramfs) = crate::linux_x86::prepare()?;
    let (plain_text, plain_code) = boot(
        &vmlinux,
        true,
        &[
            "-initrd".into(),
            initramfs.display().to_string(),
            "-append".into(),
            crate::linux_x86::CMDLINE.into(),
            "-m".into(),
            "512M".into(),
        ],
    )?;
    let reference = linux_marker_line(&plain_text);
    let bundle = crate::linux_x86::bundle()?;
    let hv = build_image(Arch::X86_64, false, true)?;
    let (text, code) = boot(
        &hv,
        false,
        &["-initrd".into(), bundle.display().to_string()],
    )?;
    let verdict = match (&reference, linux_marker_line(&text)) {
        (None, _) => Err(format!(
            "no reference: Linux on plain microvm printed no {:?} (exit {plain_code:?})",
            crate::linux_x86::MARKER
        )),
        (Some(_), None) => Err("Linux under hv-kernel did not reach user space".into()),
        (Some(r), Some(here)) if *r != here => Err(format!(
            "user space printed differently:\n  plain QEMU: {r}\n  hv-kernel:  {here}"
        )),
        _ if !text.contains("svm: the guest powered off through ACPI S5") => {
            Err("hv did not report the guest's ACPI power-off".into())
        }
        _ if code != Some(0) => Err(format!("QEMU exited with {code:?}")),
        _ => Ok(()),
    };
    if verdict.is_err() {
        println!(
            "----- plain QEMU output -----\n{}\n-----------------------------",
            plain_text.trim_end()
        );
    }
    report(
        "Debian's amd64 Linux under the x86_64 hv-kernel",
        start,
        &text,
        &verdict,
    );
    verdict
}

/// The checks, named for `cargo xtask test`.
pub fn run_all() -> Vec<(String, Result<(), String>)> {
    let guest_elf = match guest::build_x86_guest(true) {
        Ok(p) => p,
        Err(e) => return vec![("boot: build the x86 test guest".into(), Err(e))],
    };
    let plain = on_plain_qemu(&guest_elf);
    let reference = plain.as_ref().ok().cloned().unwrap_or_default();
    let hv_release = if plain.is_ok() {
        under_hv(&guest_elf, true, &reference)
    } else {
        Err("no plain-QEMU reference to compare with".into())
    };
    let hv_debug = if plain.is_ok() {
        under_hv(&guest_elf, false, &reference)
    } else {
        Err("no plain-QEMU reference to compare with".into())
    };
    vec![
        (
            "boot: x86 test guest on plain QEMU microvm (COM1, APIC, virtio-blk, ACPI power-off), disk written"
                .into(),
            plain.map(|_| ()),
        ),
        (
            "boot: x86 test guest under the x86_64 hv-kernel (SVM, NPT): same output, powered off"
                .into(),
            hv_release,
        ),
        (
            "boot: x86 test guest under the debug x86_64 hv-kernel (overflow checks on)".into(),
            hv_debug,
        ),
        (
            "boot: Debian's amd64 Linux under the x86_64 hv-kernel (PVH, busybox /init): same user-space line as on plain microvm, ACPI power-off"
                .into(),
            linux(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_lines_are_found_behind_firmware_noise() {
        let out = "SeaBIOS\nBooting from ROM..x86 guest: hello\r\nsvm: x\nx86 guest: PASS\n";
        assert_eq!(guest_lines(out), ["x86 guest: hello", "x86 guest: PASS"]);
        let with_msr = "x86 guest: RDMSR of missing MSR 0x12345678: no fault\nx86 guest: PASS\n";
        assert_eq!(guest_lines(with_msr).len(), 2);
        assert_eq!(common_lines(with_msr), ["x86 guest: PASS"]);
    }
}

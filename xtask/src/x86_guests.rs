//! The x86 test guest (tests/guests/x86) on plain QEMU `-M microvm` and
//! under the x86_64 hv-kernel (SVM), which boots it from `-initrd`: its
//! lines must be the same on both, and both must end with its power-off
//! through ACPI S5 (found through each machine's own tables). Its disk is
//! a 128 KiB file on both: a virtio-mmio device on microvm; under hv a
//! virtio-blk-pci device of q35 that hv drives and serves to the guest on
//! its own virtio-mmio transport. The host checks the pattern afterwards.

use crate::boot_tests::{build_image, read_output, report, Typing};
use crate::image::workspace_root;
use crate::Arch;
use crate::{guest, linux};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Seconds one boot may take.
const TIMEOUT_S: u32 = 120;
/// The disk's size, the same on both machines (the guest prints it).
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

/// What one boot printed, how QEMU ended, and when (seconds after QEMU
/// started) Linux's user space printed its marker, if it did.
struct Boot {
    text: String,
    code: Option<i32>,
    to_marker: Option<f64>,
}

/// Boot `image` (hv-kernel, or the guest itself with `microvm`) through
/// qemu-runner.sh with extra QEMU arguments, reading its output as it comes.
fn boot(image: &Path, microvm: bool, extra: &[String]) -> Result<Boot, String> {
    boot_smp(image, microvm, 1, extra, None)
}

/// [`boot`] with `smp` CPUs, typing on the console when `typing` says.
fn boot_smp(
    image: &Path,
    microvm: bool,
    smp: u32,
    extra: &[String],
    typing: Option<Typing>,
) -> Result<Boot, String> {
    use std::io::{Read, Write};
    let start = Instant::now();
    let mut child = Command::new(workspace_root().join("qemu-runner.sh"))
        .arg(image)
        .args(extra)
        .env("HV_SMP", smp.to_string())
        .env("HV_MEM", if microvm { "64M" } else { "512M" })
        .env("HV_TIMEOUT", TIMEOUT_S.to_string())
        .env("HV_QEMU_MICROVM", if microvm { "1" } else { "0" })
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start qemu-runner.sh: {e}"))?;
    let mut stdin = child.stdin.take();
    let mut typing = typing;
    let (mut text, to_marker) = read_output(child.stdout.take(), start, |line| {
        if let Some(t) = typing.take_if(|t| line.contains(t.after)) {
            if let Some(input) = stdin.as_mut() {
                // A failed write shows up as a missing answer.
                let _ = input
                    .write_all(t.text.as_bytes())
                    .and_then(|()| input.flush());
            }
        }
    });
    if let Some(mut err) = child.stderr.take() {
        // qemu-runner's own messages are short: reading them after stdout
        // cannot block QEMU.
        let _ = err.read_to_string(&mut text);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    Ok(Boot {
        text,
        code: status.code(),
        to_marker,
    })
}

/// The guest on plain QEMU microvm: it must print PASS and exit through
/// debug-exit with the pass code. Returns its lines.
fn on_plain_qemu(guest_elf: &Path) -> Result<Vec<String>, String> {
    let start = Instant::now();
    let disk = workspace_root().join("target/xtask/x86-guest-disk.img");
    guest::create_disk(&disk, DISK_BYTES)?;
    let Boot { text, code, .. } = boot(guest_elf, true, &guest::disk_args(&disk, None))?;
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
    let disk = workspace_root().join("target/xtask/x86-guest-hv-disk.img");
    guest::create_disk(&disk, DISK_BYTES)?;
    let mut extra = vec!["-initrd".into(), guest_elf.display().to_string()];
    extra.extend(guest::pci_disk_args(&disk));
    // A smaller guest RAM than the default, through hv's command line.
    extra.extend(["-append".into(), "hv.guest_mem=64M".into()]);
    let Boot { text, code, .. } = boot(&hv, false, &extra)?;
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
    } else if !text.contains("guest RAM: 64 MiB at host") {
        Err("hv did not give the guest the 64 MiB hv.guest_mem asked for".into())
    } else {
        guest::check_pattern(&disk, &WRITTEN)
    };
    let name = format!(
        "x86 test guest under the {} x86_64 hv-kernel",
        if release { "release" } else { "debug" }
    );
    report(&name, start, &text, &verdict);
    verdict
}

/// hv.guest_mem that is not a multiple of 2 MiB: one clear error line
/// and hv's failure status, no guest started.
fn bad_guest_mem(guest_elf: &Path) -> Result<(), String> {
    let start = Instant::now();
    let hv = build_image(Arch::X86_64, false, true)?;
    let args = [
        "-initrd".into(),
        guest_elf.display().to_string(),
        "-append".into(),
        "hv.guest_mem=101M".into(),
    ];
    let Boot { text, code, .. } = boot(&hv, false, &args)?;
    let verdict = if !text.contains("a multiple of 2 MiB, at least 16 MiB, is needed") {
        Err("hv did not say what is wrong with hv.guest_mem=101M".into())
    } else if text.contains("x86 guest: hello") {
        Err("the guest ran anyway".into())
    } else if code != Some(3) {
        Err(format!(
            "QEMU exited with {code:?}, not hv's failure status 3"
        ))
    } else {
        Ok(())
    };
    report(
        "x86 hv-kernel refuses hv.guest_mem=101M",
        start,
        &text,
        &verdict,
    );
    verdict
}

/// The lines the test guest prints in hostile mode under hv, in order.
const HOSTILE_LINES: [&str; 4] = [
    "x86 guest: hostile: ADD on a device register: #UD",
    "x86 guest: hostile: jump to 0xc0000000, outside RAM: #UD",
    "x86 guest: hostile: store and load at 0xc0000000: reads 0x0",
    "x86 guest: hostile: triple fault next",
];
/// QEMU's status when hv ends the run because the guest reset.
const GUEST_RESET_STATUS: i32 = 5;

/// The test guest in hostile mode (a bundle with `hostile` on its command
/// line) under hv-kernel: #UD for the MMIO form hv does not emulate and
/// for a jump outside RAM, nothing where nothing is mapped, and after its
/// triple fault hv reports the reset and ends the run itself.
fn hostile_under_hv(guest_elf: &Path, release: bool) -> Result<(), String> {
    let start = Instant::now();
    let bundle = workspace_root().join("target/xtask/x86-hostile.bundle");
    guest::write_bundle(guest_elf, None, "hostile", &bundle)?;
    let hv = build_image(Arch::X86_64, false, release)?;
    let Boot { text, code, .. } = boot(
        &hv,
        false,
        &["-initrd".into(), bundle.display().to_string()],
    )?;
    let lines: Vec<String> = guest_lines(&text)
        .into_iter()
        .filter(|l| l.starts_with("x86 guest: hostile"))
        .collect();
    let verdict = if lines != HOSTILE_LINES {
        Err(format!(
            "the hostile guest printed {lines:?}, not {HOSTILE_LINES:?}"
        ))
    } else if !text.contains("svm: the guest triple-faulted at RIP") {
        Err("hv did not report the guest's triple fault".into())
    } else if code != Some(GUEST_RESET_STATUS) {
        Err(format!(
            "QEMU exited with {code:?}, not hv's guest-reset status {GUEST_RESET_STATUS}"
        ))
    } else {
        Ok(())
    };
    let name = format!(
        "hostile x86 guest under the {} x86_64 hv-kernel",
        if release { "release" } else { "debug" }
    );
    report(&name, start, &text, &verdict);
    verdict
}

/// The init script's own lines (`HV-LINUX: ...`) but its dd timings, which
/// differ by machine.
fn linux_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.find("HV-LINUX: ").map(|i| l[i..].trim_end().to_string()))
        .filter(|l| !l.starts_with("HV-LINUX: dd "))
        .collect()
}

/// Debian's amd64 kernel with the busybox initramfs and `smp` CPUs, on
/// plain QEMU microvm (the reference, its disk on virtio-mmio) and under
/// the release hv-kernel from a bundle (its disk on virtio-pci, served by
/// hv; a vCPU per host CPU): user space must print the same lines (the
/// online CPUs among them), pass its disk check, and power off through
/// ACPI S5; the host then finds the pattern on both disks.
fn linux(smp: u32) -> Result<(), String> {
    let start = Instant::now();
    let (vmlinux, initramfs) = crate::linux_x86::prepare()?;
    let dir = workspace_root().join("target/xtask");
    let plain_disk = dir.join(format!("x86-linux-plain-disk-{smp}.img"));
    guest::create_disk(&plain_disk, crate::linux_x86::DISK_BYTES)?;
    let mut plain_args: Vec<String> = vec![
        "-initrd".into(),
        initramfs.display().to_string(),
        "-append".into(),
        crate::linux_x86::CMDLINE.into(),
        "-m".into(),
        "512M".into(),
    ];
    plain_args.extend(guest::disk_args(&plain_disk, None));
    let plain = boot_smp(&vmlinux, true, smp, &plain_args, None)?;
    let reference = linux_lines(&plain.text);
    let bundle = crate::linux_x86::bundle(false)?;
    let hv = build_image(Arch::X86_64, false, true)?;
    let disk = dir.join(format!("x86-linux-disk-{smp}.img"));
    guest::create_disk(&disk, crate::linux_x86::DISK_BYTES)?;
    let mut args = vec!["-initrd".into(), bundle.display().to_string()];
    args.extend(guest::pci_disk_args(&disk));
    let under_hv = boot_smp(&hv, false, smp, &args, None)?;
    let (text, code) = (&under_hv.text, under_hv.code);
    let here = linux_lines(text);
    let verdict = if !reference.iter().any(|l| l == linux::VERDICT_PASS) {
        Err(format!(
            "no reference: Linux on plain microvm did not pass its disk check (exit {:?})",
            plain.code
        ))
    } else if let Err(e) = linux::check_disk(&plain_disk) {
        Err(format!("no reference: {e}"))
    } else if !here.iter().any(|l| l == linux::MARKER) {
        Err("Linux under hv-kernel did not reach user space".into())
    } else if here != reference {
        Err(format!(
            "user space printed differently:\n  plain QEMU: {reference:?}\n  hv-kernel:  {here:?}"
        ))
    } else if !text.contains("svm: the guest powered off through ACPI S5") {
        Err("hv did not report the guest's ACPI power-off".into())
    } else if code != Some(0) {
        Err(format!("QEMU exited with {code:?}"))
    } else {
        linux::check_disk(&disk)
    };
    if verdict.is_err() {
        println!(
            "----- plain QEMU output -----\n{}\n-----------------------------",
            plain.text.trim_end()
        );
    }
    if let (Some(t), Some(r)) = (under_hv.to_marker, plain.to_marker) {
        println!(
            "xtask: x86 Linux reached user space in {t:.1} s under hv-kernel ({smp} vCPUs) vs {r:.1} s on plain QEMU microvm ({smp} CPUs): {:.2}x",
            t / r
        );
    }
    for l in text
        .lines()
        .filter(|l| l.contains("exits/s") || l.contains("HV-LINUX: dd"))
    {
        println!(
            "xtask: x86 Linux under hv-kernel ({smp} vCPUs): {}",
            l.trim()
        );
    }
    if let Some(l) = plain.text.lines().find(|l| l.contains("HV-LINUX: dd")) {
        println!(
            "xtask: x86 Linux on plain QEMU microvm ({smp} CPUs): {}",
            l.trim()
        );
    }
    report(
        &format!(
            "Debian's amd64 Linux under the x86_64 hv-kernel, {smp} vCPU(s), its disk served by hv"
        ),
        start,
        text,
        &verdict,
    );
    verdict
}

/// Debian's amd64 Linux under the release hv-kernel with a shell on the
/// console: a command typed on QEMU's serial line reaches the guest
/// through hv (host COM1, then the guest's 16550 model and its interrupt)
/// and its answer comes back; `poweroff -f` typed the same way ends it.
fn linux_shell() -> Result<(), String> {
    let start = Instant::now();
    let bundle = crate::linux_x86::bundle(true)?;
    let hv = build_image(Arch::X86_64, false, true)?;
    let disk = workspace_root().join("target/xtask/x86-linux-shell-disk.img");
    guest::create_disk(&disk, crate::linux_x86::DISK_BYTES)?;
    let mut args = vec!["-initrd".into(), bundle.display().to_string()];
    args.extend(guest::pci_disk_args(&disk));
    let typing = Typing {
        after: "HV-LINUX: shell",
        text: "echo hv-shell-$((6*7))\npoweroff -f\n",
    };
    let Boot { text, code, .. } = boot_smp(&hv, false, 1, &args, Some(typing))?;
    // The answer, not the echo of the typed line (which has no "42").
    let verdict = if !text.contains("HV-LINUX: shell") {
        Err("Linux did not reach its shell".into())
    } else if !text.lines().any(|l| l.trim() == "hv-shell-42") {
        Err("the shell did not answer the typed command".into())
    } else if !text.contains("svm: the guest powered off through ACPI S5") {
        Err("the typed poweroff did not power the guest off".into())
    } else if code != Some(0) {
        Err(format!("QEMU exited with {code:?}"))
    } else {
        Ok(())
    };
    report(
        "x86 Linux shell under hv-kernel answers console input",
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
            "boot: x86 test guest under the x86_64 hv-kernel (SVM, NPT): same output, host disk written through hv, powered off"
                .into(),
            hv_release,
        ),
        (
            "boot: x86 test guest under the debug x86_64 hv-kernel (overflow checks on)".into(),
            hv_debug,
        ),
        (
            "boot: x86 hv-kernel refuses a guest RAM size that is not a multiple of 2 MiB, with one clear error"
                .into(),
            bad_guest_mem(&guest_elf),
        ),
        (
            "boot: hostile x86 guest under the x86_64 hv-kernel (release and debug): #UD for an unemulated MMIO form and a jump outside RAM, triple fault reported, hv ends the run"
                .into(),
            hostile_under_hv(&guest_elf, true).and_then(|()| hostile_under_hv(&guest_elf, false)),
        ),
        (
            "boot: Debian's amd64 Linux under the x86_64 hv-kernel, 1 vCPU (PVH, busybox /init): same user-space lines as on plain microvm, disk written through hv and checked on the host, ACPI power-off"
                .into(),
            linux(1),
        ),
        (
            "boot: Debian's amd64 Linux under the x86_64 hv-kernel, 2 vCPUs (INIT/SIPI, IPIs): CPUs 0-1 online as on plain microvm, disk written through hv, ACPI power-off"
                .into(),
            linux(2),
        ),
        (
            "boot: x86 Linux shell under hv-kernel answers console input (host COM1 to the guest's 16550)"
                .into(),
            linux_shell(),
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

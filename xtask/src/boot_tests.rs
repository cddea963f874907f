//! QEMU boot tests of the hv-kernel images: each boots an image through
//! qemu-runner.sh and checks what it printed and how QEMU exited.

use crate::boards::Board;
use crate::image::{self, workspace_root};
use crate::{cprogs, guest, linux, sim_tests};
use crate::{Arch, BuildArgs};
use std::path::{Path, PathBuf};
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
    /// The machine (AArch64).
    board: Board,
    /// Hand hv the default test guest (as a bundle; no disks).
    guest: bool,
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
        board: Board::Virt,
        guest: false,
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
        board: Board::Virt,
        guest: false,
        expect: &["CPUs: 1", "1 of 1 CPUs online", "all done, powering off"],
        exit: Exit::Clean,
    },
    BootTest {
        name: "aarch64: a fault at EL2 prints the dump",
        arch: Arch::Aarch64,
        fault: true,
        smp: 1,
        el1: false,
        board: Board::Virt,
        guest: false,
        expect: &[
            "unexpected exception: synchronous from current EL, SP_ELx",
            "ESR_EL2  0x0000000096000004", // translation fault, level 0
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
        board: Board::Virt,
        guest: false,
        expect: &["hv-kernel must be entered at EL2 but runs at EL1"],
        exit: Exit::Failure,
    },
    BootTest {
        name: "x86_64: banner, 4 CPUs through INIT-SIPI-SIPI with SVM on each, then the SVM test guest (NPT, I/O and MMIO exits), clean exit",
        arch: Arch::X86_64,
        fault: false,
        smp: 4,
        el1: false,
        board: Board::Virt,
        guest: false,
        expect: &[
            "hv-kernel ",
            "(x86_64)",
            "CPU vendor: ",
            "VMX: ",
            "SVM: yes, NPT: yes",
            "RAM total: ",
            "smp: 4 CPU(s) online, SVM on 3 of the 3 other(s)",
            // The guest's own output, then what it read back from the
            // device register hv emulates (store, load, OR, 16-bit load
            // at an offset: each through hv-core's x86 decoder).
            "hello from an SVM guest",
            "svm: the guest read back 0x1234abcd",
            "svm: the guest read back 0x5234",
            // MOVS into the device register and back out into RAM.
            "svm: the guest read back 0xcafef00d",
            "svm: the test guest halted after 60 exits (53 I/O, 6 MMIO)",
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
        board: Board::Virt,
        guest: false,
        expect: &[
            "unexpected exception: #14 page fault",
            "CR2 0x00000deadbeef000",
            "RIP 0x",
        ],
        exit: Exit::Failure,
    },
    BootTest {
        name: "aarch64 on raspi4b with the Pi 4's own device tree: 4 CPUs through the spin table, power-off through the watchdog",
        arch: Arch::Aarch64,
        fault: false,
        smp: 4,
        el1: false,
        board: Board::Raspi4b,
        guest: false,
        expect: &[
            "exception level: EL2",
            "CPUs: 4",
            // The console its DTB names (stdout-path = serial1), not the
            // PL011 QEMU virt would use.
            "console: BCM2835 mini UART at 0xfe215040",
            "PSCI: none (no /psci node); power-off through the BCM2835 watchdog",
            "4 of 4 CPUs online",
            "all done, powering off",
        ],
        exit: Exit::Clean,
    },
];

/// hv's options for the test runs: a guest's reset (the test guests' FAIL
/// verdict) ends the run with status 2 instead of rebooting it.
const HV_TEST_OPTIONS: &str = "hv.no_reboot";

/// Build an image and keep a copy under target/xtask/, since the next build
/// with other features overwrites cargo's output. The boot tests use the
/// release build (what users run); one debug boot keeps overflow checks.
pub(crate) fn build_image(arch: Arch, fault: bool, release: bool) -> Result<PathBuf, String> {
    let img = image::build(&BuildArgs {
        target: arch,
        release,
        features: fault.then(|| "fault-test".to_string()),
    })?;
    let dir = workspace_root().join("target/xtask");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let name = format!(
        "{}{}-{}.bin",
        arch.name(),
        if fault { "-fault-test" } else { "" },
        if release { "release" } else { "debug" }
    );
    let copy = dir.join(name);
    std::fs::copy(&img, &copy).map_err(|e| format!("copying {}: {e}", img.display()))?;
    Ok(copy)
}

fn run_one(test: &BootTest, image: &PathBuf) -> Result<(), String> {
    let start = Instant::now();
    let mut cmd = Command::new(workspace_root().join("qemu-runner.sh"));
    cmd.arg(image);
    if let Some(dtb) = test.board.dtb()? {
        cmd.env("HV_BOARD", test.board.qemu_machine())
            .env("HV_DTB", dtb);
    }
    if test.guest {
        let guest_image = guest::build_test_guest(guest::DEFAULT_GUEST)?;
        cmd.args(hv_guest_args(&guest_image, "board-guest")?);
    }
    let out = cmd
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

/// What the default guest reported, with hv's marks removed: its test
/// lines and its summary, the part that must match between homes.
pub fn guest_verdict_lines(output: &str) -> Vec<String> {
    verdict_lines(output, "guest-default")
}

/// What test guest `guest` reported, with hv's marks removed: its `test`
/// lines, its `GUEST: N passed, M failed` summary and PASS/FAIL.
pub fn verdict_lines(output: &str, guest: &str) -> Vec<String> {
    let summary = format!("{guest}: ");
    output
        .lines()
        .map(guest_line)
        .filter(|l| {
            l.starts_with("test ")
                || (l.starts_with(&summary) && l.ends_with(" failed"))
                || *l == "PASS"
                || *l == "FAIL"
        })
        .map(str::to_string)
        .collect()
}

/// A console line without surrounding space and hv's `[guest] ` mark.
pub fn guest_line(line: &str) -> &str {
    line.trim().trim_start_matches("[guest] ")
}

/// What a guest boot printed and how it ended.
pub(crate) struct GuestRun {
    /// Standard output and error.
    pub text: String,
    /// qemu-runner.sh's exit code (124: timed out).
    pub code: Option<i32>,
    /// Wall-clock seconds.
    pub secs: f64,
}

/// Boot `image` through qemu-runner.sh (no disks, `-no-reboot`) on `smp`
/// CPUs, at EL1 on plain QEMU (`el1`) or at EL2, with extra QEMU
/// arguments, stopping QEMU after `timeout_s` seconds.
pub(crate) fn boot_guest(
    image: &Path,
    el1: bool,
    smp: u32,
    extra: &[String],
    timeout_s: u32,
) -> Result<GuestRun, String> {
    let start = Instant::now();
    let out = Command::new(workspace_root().join("qemu-runner.sh"))
        .arg(image)
        .arg("-no-reboot")
        .args(extra)
        .env("HV_SMP", smp.to_string())
        .env("HV_MEM", "512M")
        .env("HV_TIMEOUT", timeout_s.to_string())
        .env("HV_QEMU_EL1", if el1 { "1" } else { "0" })
        .output()
        .map_err(|e| format!("could not start qemu-runner.sh: {e}"))?;
    Ok(GuestRun {
        text: String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr),
        code: out.status.code(),
        secs: start.elapsed().as_secs_f64(),
    })
}

/// QEMU arguments that hand hv-kernel `guest_image` as its guest: a
/// bundle (written to target/xtask/NAME.bundle) passed as the initrd.
pub(crate) fn hv_guest_args(guest_image: &Path, name: &str) -> Result<Vec<String>, String> {
    hv_guest_args_with(guest_image, name, "")
}

/// [`hv_guest_args`] with `cmdline` as the guest's command line (its DTB's
/// /chosen/bootargs).
pub(crate) fn hv_guest_args_with(
    guest_image: &Path,
    name: &str,
    cmdline: &str,
) -> Result<Vec<String>, String> {
    let bundle = workspace_root().join(format!("target/xtask/{name}.bundle"));
    guest::write_bundle(guest_image, None, cmdline, &bundle)?;
    Ok(vec![
        "-initrd".to_string(),
        bundle.display().to_string(),
        "-append".to_string(),
        HV_TEST_OPTIONS.to_string(),
    ])
}

/// The guest's measured disk throughput (write, read) in KiB/s.
fn throughput(output: &str) -> Option<(u64, u64)> {
    let line = output
        .lines()
        .find_map(|l| l.split("disk throughput: write ").nth(1))?;
    let (write, rest) = line.split_once(" KiB/s, read ")?;
    let read = rest.split_once(" KiB/s")?.0;
    Some((write.parse().ok()?, read.parse().ok()?))
}

/// Boot `image` through qemu-runner.sh with fresh disks and extra QEMU
/// arguments; returns the output, the exit code and the writable disk.
fn boot_with_disks(
    name: &str,
    image: &Path,
    el1: bool,
    extra: &[String],
) -> Result<(String, Option<i32>, PathBuf), String> {
    let dir = workspace_root().join("target/xtask");
    let disk = dir.join(format!("{name}-disk.img"));
    let ro = dir.join(format!("{name}-ro.img"));
    guest::create_disk(&disk, 8 << 20)?;
    guest::create_disk(&ro, 1 << 20)?;
    let out = Command::new(workspace_root().join("qemu-runner.sh"))
        .arg(image)
        .arg("-no-reboot")
        .args(guest::disk_args(&disk, Some(&ro)))
        .args(extra)
        .env("HV_SMP", "1")
        .env("HV_MEM", "512M")
        .env("HV_TIMEOUT", TIMEOUT_S.to_string())
        .env("HV_QEMU_EL1", if el1 { "1" } else { "0" })
        .output()
        .map_err(|e| format!("could not start qemu-runner.sh: {e}"))?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Ok((text, out.status.code(), disk))
}

/// Report one guest boot test and show the output when it failed.
pub(crate) fn report(name: &str, start: Instant, text: &str, verdict: &Result<(), String>) {
    println!(
        "xtask: boot test \"{name}\": {} in {:.1} s",
        if verdict.is_ok() { "ok" } else { "FAILED" },
        start.elapsed().as_secs_f64()
    );
    if verdict.is_err() {
        println!(
            "----- output -----\n{}\n------------------",
            text.trim_end()
        );
    }
}

/// The guest passed, QEMU exited 0, and the disk holds what it wrote.
fn check_guest_run(text: &str, code: Option<i32>, disk: &Path) -> Result<(), String> {
    if !guest_verdict_lines(text).iter().any(|l| l == "PASS") {
        return Err("the guest did not print PASS".into());
    }
    if code != Some(0) {
        return Err(format!("QEMU exited with {code:?}"));
    }
    guest::written_sectors(text).and_then(|s| guest::check_pattern(disk, &s))
}

/// The default guest directly on QEMU `virt` at EL1, no hypervisor: the
/// reference half of the differential check. Returns its verdict lines and
/// its disk throughput.
fn default_guest_on_plain_qemu(guest_image: &Path) -> Result<Reference, String> {
    let start = Instant::now();
    let (text, code, disk) = boot_with_disks("plain-qemu", guest_image, true, &[])?;
    let verdict = check_guest_run(&text, code, &disk);
    report("default guest on plain QEMU", start, &text, &verdict);
    verdict.map(|()| Reference {
        lines: guest_verdict_lines(&text),
        throughput: throughput(&text),
    })
}

/// What the default guest reported on plain QEMU.
struct Reference {
    lines: Vec<String>,
    throughput: Option<(u64, u64)>,
}

/// Which build of hv-kernel a boot test runs, and with which device tree.
#[derive(Clone, Copy, PartialEq, Eq)]
enum HvRun {
    Release,
    Debug,
    /// The release build, handed QEMU's own device tree with an FDT_NOP
    /// before every token, as firmware leaves them.
    ReleaseNoppedDtb,
    /// The release build on `virt` with a GICv2 (`gic-version=2`): the
    /// guest gets a GICv2 and the host's virtual CPU interface.
    ReleaseGicV2,
}

/// The same guest under hv-kernel, its disk served by hv from QEMU's
/// virtio-blk device; it must report exactly what it reported on plain
/// QEMU.
fn default_guest_under_hv(
    guest_image: &Path,
    reference: Option<&Reference>,
    run: HvRun,
) -> Result<(), String> {
    let start = Instant::now();
    let hv = build_image(Arch::Aarch64, false, run != HvRun::Debug)?;
    let bundle = workspace_root().join("target/xtask/default-guest.bundle");
    guest::write_bundle(guest_image, None, "", &bundle)?;
    let mut extra = vec![
        "-initrd".to_string(),
        bundle.display().to_string(),
        "-append".to_string(),
        HV_TEST_OPTIONS.to_string(),
    ];
    let name = match run {
        HvRun::Release => "under-hv",
        HvRun::Debug => "under-hv-debug",
        HvRun::ReleaseNoppedDtb => "under-hv-nopped-dtb",
        HvRun::ReleaseGicV2 => "under-hv-gicv2",
    };
    if run == HvRun::ReleaseGicV2 {
        // Overrides qemu-runner.sh's gic-version=3 (the last -machine wins).
        extra.push("-machine".into());
        extra.push("gic-version=2".into());
    }
    if run == HvRun::ReleaseNoppedDtb {
        let dumped = workspace_root().join("target/xtask/virt.dtb");
        let _ = std::fs::remove_file(&dumped);
        let mut dump = extra.clone();
        dump.push("-machine".into());
        dump.push(format!("dumpdtb={}", dumped.display()));
        boot_with_disks(name, &hv, false, &dump)?;
        let blob = std::fs::read(&dumped)
            .map_err(|e| format!("QEMU did not dump its device tree: {e}"))?;
        let (nopped, nops) = crate::fdt_nop::insert_nops(&blob)?;
        let path = workspace_root().join("target/xtask/virt-nopped.dtb");
        std::fs::write(&path, nopped).map_err(|e| format!("{}: {e}", path.display()))?;
        println!(
            "xtask: QEMU's device tree with {nops} FDT_NOP tokens: {}",
            path.display()
        );
        extra.push("-dtb".into());
        extra.push(path.display().to_string());
    }
    let (text, code, disk) = boot_with_disks(name, &hv, false, &extra)?;
    let mut verdict = check_guest_run(&text, code, &disk);
    if verdict.is_ok() && !text.contains("hv-kernel: guest powered off") {
        verdict = Err("hv-kernel did not report the guest's power-off".into());
    }
    if verdict.is_ok() && run == HvRun::ReleaseGicV2 && !text.contains("GIC: GICv2") {
        verdict = Err("hv-kernel did not run on a GICv2".into());
    }
    if let (Ok(()), Some(reference)) = (&verdict, reference) {
        let here = guest_verdict_lines(&text);
        if here != reference.lines {
            verdict = Err(format!(
                "the guest reported differently under hv-kernel:\n  plain QEMU: {:?}\n  hv-kernel:  {here:?}",
                reference.lines
            ));
        }
    }
    if let Some(line) = text.lines().find(|l| l.contains("exits/s")) {
        println!("xtask: {}", line.trim());
    }
    if let (Some((w, r)), Some((pw, pr))) =
        (throughput(&text), reference.and_then(|r| r.throughput))
    {
        println!(
            "xtask: guest disk throughput, hv-kernel vs plain QEMU: write {w} vs {pw} KiB/s ({:.2}x), read {r} vs {pr} KiB/s ({:.2}x)",
            w as f64 / pw.max(1) as f64,
            r as f64 / pr.max(1) as f64
        );
    }
    let name = match run {
        HvRun::Release => "default guest under hv-kernel",
        HvRun::Debug => "default guest under hv-kernel (debug build)",
        HvRun::ReleaseNoppedDtb => "default guest under hv-kernel, device tree full of FDT_NOPs",
        HvRun::ReleaseGicV2 => "default guest under hv-kernel on a GICv2 host",
    };
    report(name, start, &text, &verdict);
    verdict
}

/// The default guest under the release hv-kernel on a board model with the
/// board's own device tree and no virtio: its disks (as large as on
/// plain QEMU) travel in the bundle and hv serves them from RAM. It must
/// report what it reported on plain QEMU.
fn default_guest_on_board(
    guest_image: &Path,
    reference: Option<&Reference>,
    board: Board,
) -> Result<(), String> {
    let start = Instant::now();
    let hv = build_image(Arch::Aarch64, false, true)?;
    let dtb = board
        .dtb()?
        .ok_or_else(|| format!("{board:?} has no device tree of its own"))?;
    let dir = workspace_root().join("target/xtask");
    let (disk, ro) = (dir.join("board-disk.img"), dir.join("board-ro.img"));
    guest::create_disk(&disk, 8 << 20)?;
    guest::create_disk(&ro, 1 << 20)?;
    let bundle = dir.join("board-default-guest.bundle");
    guest::write_bundle_with_disks(guest_image, None, "", [Some(&disk), Some(&ro)], &bundle)?;
    let out = Command::new(workspace_root().join("qemu-runner.sh"))
        .arg(&hv)
        .args(["-initrd", &bundle.display().to_string()])
        .args(["-append", HV_TEST_OPTIONS])
        .env("HV_BOARD", board.qemu_machine())
        .env("HV_DTB", &dtb)
        .env("HV_TIMEOUT", TIMEOUT_S.to_string())
        .output()
        .map_err(|e| format!("could not start qemu-runner.sh: {e}"))?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let lines = guest_verdict_lines(&text);
    let verdict = if !lines.iter().any(|l| l == "PASS") {
        Err("the guest did not print PASS".to_string())
    } else if !text.contains("RAM disk of 8 MiB from the guest bundle") {
        Err("hv-kernel did not serve the bundle's disk".to_string())
    } else if !text.contains("hv-kernel: guest powered off") || out.status.code() != Some(0) {
        Err(format!("no clean power-off ({})", out.status))
    } else {
        match reference {
            Some(r) if r.lines != lines => Err(format!(
                "the guest reported differently on {}:\n  plain QEMU: {:?}\n  hv-kernel:  {lines:?}",
                board.qemu_machine(),
                r.lines
            )),
            _ => Ok(()),
        }
    };
    report(
        &format!("default guest under hv-kernel on {}", board.qemu_machine()),
        start,
        &text,
        &verdict,
    );
    verdict
}

/// The faults guest under hv-kernel: three accesses outside its machine and
/// one trapped system register must come back as injected exceptions (the
/// guest checks their classes and addresses), and both guest and hv go on
/// to a clean power-off.
fn faults_guest_under_hv() -> Result<(), String> {
    let start = Instant::now();
    let guest_image = guest::build_test_guest(guest::FAULTS_GUEST)?;
    let hv = build_image(Arch::Aarch64, false, true)?;
    let bundle = workspace_root().join("target/xtask/faults-guest.bundle");
    guest::write_bundle(&guest_image, None, "", &bundle)?;
    let extra = [
        "-initrd".to_string(),
        bundle.display().to_string(),
        "-append".to_string(),
        HV_TEST_OPTIONS.to_string(),
    ];
    let (text, code, _) = boot_with_disks("faults", &hv, false, &extra)?;
    let verdict = if !guest_verdict_lines(&text).iter().any(|l| l == "PASS") {
        Err("the guest did not print PASS".to_string())
    } else if !text.contains("hv-kernel: guest powered off") || !text.contains(" 4 injected") {
        Err("hv-kernel did not report 4 injected exceptions and a power-off".to_string())
    } else if code != Some(0) {
        Err(format!("QEMU exited with {code:?}"))
    } else {
        Ok(())
    };
    report("faulting guest under hv-kernel", start, &text, &verdict);
    verdict
}

/// The reboot guest, which counts its boots on its disk: on plain QEMU
/// (which resets the machine on PSCI SYSTEM_RESET) or under hv-kernel (which
/// reboots the guest: no `hv.no_reboot` here), it must boot twice, find its
/// first boot's count on the disk and its image placed again, and power
/// off.
fn reboot_guest(under_hv: bool) -> Result<(), String> {
    let start = Instant::now();
    let guest_image = guest::build_test_guest(guest::REBOOT_GUEST)?;
    let dir = workspace_root().join("target/xtask");
    let name = if under_hv {
        "reboot-hv"
    } else {
        "reboot-plain"
    };
    let disk = dir.join(format!("{name}-disk.img"));
    guest::create_disk(&disk, 1 << 20)?;
    let mut cmd = Command::new(workspace_root().join("qemu-runner.sh"));
    if under_hv {
        let hv = build_image(Arch::Aarch64, false, true)?;
        let bundle = dir.join("reboot-guest.bundle");
        guest::write_bundle(&guest_image, None, "", &bundle)?;
        cmd.arg(hv)
            .args(["-initrd", &bundle.display().to_string()])
            .env("HV_QEMU_EL1", "0");
    } else {
        cmd.arg(&guest_image).env("HV_QEMU_EL1", "1");
    }
    let out = cmd
        .args(guest::disk_args(&disk, None))
        .env("HV_SMP", "2")
        .env("HV_MEM", "512M")
        .env("HV_TIMEOUT", TIMEOUT_S.to_string())
        .output()
        .map_err(|e| format!("could not start qemu-runner.sh: {e}"))?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let verdict = if !text.contains("guest-reboot: boot 2") {
        Err("the guest did not boot a second time".to_string())
    } else if !guest_verdict_lines(&text).iter().any(|l| l == "PASS") {
        Err("the guest did not print PASS".to_string())
    } else if under_hv && !text.contains("and 2 boots") {
        Err("hv-kernel did not report 2 boots".to_string())
    } else if out.status.code() != Some(0) {
        Err(format!("QEMU exited with {}", out.status))
    } else {
        Ok(())
    };
    let what = if under_hv {
        "reboot guest under hv-kernel"
    } else {
        "reboot guest on plain QEMU"
    };
    report(what, start, &text, &verdict);
    verdict
}

/// What a Linux boot printed and how long it took to reach the marker.
struct LinuxRun {
    text: String,
    code: Option<i32>,
    disk: PathBuf,
    /// Seconds from QEMU start to the marker line (measured on the host).
    to_marker: Option<f64>,
}

/// Console input for a boot: once a line containing `after` appears, type
/// `text`.
pub(crate) struct Typing<'a> {
    pub after: &'a str,
    pub text: &'a str,
}

/// Read a guest's output line by line as it comes (so `on_line` can
/// answer it), until QEMU closes it; returns the text and when, in
/// seconds after `start`, Linux's user space printed its marker.
pub(crate) fn read_output(
    out: Option<impl std::io::Read>,
    start: Instant,
    mut on_line: impl FnMut(&str),
) -> (String, Option<f64>) {
    use std::io::{BufRead, BufReader};
    let mut text = String::new();
    let mut to_marker = None;
    if let Some(out) = out {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if to_marker.is_none() && line.contains(linux::MARKER) {
                to_marker = Some(start.elapsed().as_secs_f64());
            }
            on_line(&line);
            text.push_str(&line);
            text.push('\n');
        }
    }
    (text, to_marker)
}

/// Boot `image` with `extra` QEMU arguments and a fresh 64 MiB disk,
/// streaming the console to find when the marker appears.
fn boot_linux(
    name: &str,
    image: &Path,
    el1: bool,
    smp: u32,
    extra: &[String],
    typing: Option<Typing>,
) -> Result<LinuxRun, String> {
    use std::io::Write;
    let dir = workspace_root().join("target/xtask");
    let disk = dir.join(format!("{name}-disk.img"));
    guest::create_disk(&disk, 64 << 20)?;
    let start = Instant::now();
    let mut child = Command::new(workspace_root().join("qemu-runner.sh"))
        .arg(image)
        .arg("-no-reboot")
        .args(guest::disk_args(&disk, None))
        .args(extra)
        .env("HV_SMP", smp.to_string())
        .env("HV_MEM", "1G")
        .env("HV_TIMEOUT", LINUX_TIMEOUT_S.to_string())
        .env("HV_QEMU_EL1", if el1 { "1" } else { "0" })
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .map_err(|e| format!("could not start qemu-runner.sh: {e}"))?;
    let mut stdin = child.stdin.take();
    let mut typing = typing;
    let (text, to_marker) = read_output(child.stdout.take(), start, |line| {
        if let Some(t) = typing.take_if(|t| line.contains(t.after)) {
            if let Some(input) = stdin.as_mut() {
                // A failed write shows up as a missing answer below.
                let _ = input
                    .write_all(t.text.as_bytes())
                    .and_then(|()| input.flush());
            }
        }
    });
    let status = child.wait().map_err(|e| e.to_string())?;
    Ok(LinuxRun {
        text,
        code: status.code(),
        disk,
        to_marker,
    })
}

/// Seconds a Linux boot test may take.
const LINUX_TIMEOUT_S: u32 = 240;

/// The Linux run reached the marker, passed its disk check, powered off
/// cleanly, and the disk image holds the pattern.
fn check_linux_run(run: &LinuxRun) -> Result<(), String> {
    if run.to_marker.is_none() {
        return Err(format!("no {:?} on the console", linux::MARKER));
    }
    if !run.text.contains(linux::VERDICT_PASS) {
        return Err("the guest's disk check did not pass".into());
    }
    if run.code != Some(0) {
        return Err(format!("QEMU exited with {:?}", run.code));
    }
    linux::check_disk(&run.disk)
}

/// Debian's kernel directly on QEMU virt at EL1: the reference for the
/// same kernel under hv-kernel.
fn linux_on_plain_qemu(smp: u32) -> Result<LinuxRun, String> {
    let start = Instant::now();
    let (kernel, initrd) = linux::prepare(None, None)?;
    let extra = [
        "-initrd".to_string(),
        initrd.display().to_string(),
        "-append".to_string(),
        linux::cmdline(false),
    ];
    let run = boot_linux(
        &format!("linux-plain-{smp}"),
        &kernel,
        true,
        smp,
        &extra,
        None,
    )?;
    let verdict = check_linux_run(&run);
    if let Some(t) = run.to_marker {
        println!("xtask: Linux on plain QEMU ({smp} CPUs) reached userspace in {t:.1} s");
    }
    if let Some(l) = run.text.lines().find(|l| l.contains("HV-LINUX: dd ")) {
        println!("xtask: Linux on plain QEMU ({smp} CPUs): {}", l.trim());
    }
    report(
        &format!("Linux on plain QEMU, {smp} CPU(s)"),
        start,
        &run.text,
        &verdict,
    );
    verdict.map(|()| run)
}

/// The same kernel and initramfs under hv-kernel with `smp` vCPUs; prints
/// boot-to-marker time and dd throughput beside the plain-QEMU figures.
fn linux_under_hv(smp: u32, reference: Option<&LinuxRun>) -> Result<(), String> {
    let start = Instant::now();
    let (kernel, initrd) = linux::prepare(None, None)?;
    let hv = build_image(Arch::Aarch64, false, true)?;
    let bundle = workspace_root().join(format!("target/xtask/linux-{smp}.bundle"));
    guest::write_bundle(&kernel, Some(&initrd), &linux::cmdline(false), &bundle)?;
    let extra = [
        "-initrd".to_string(),
        bundle.display().to_string(),
        "-append".to_string(),
        format!("hv.guest_mem=256M {HV_TEST_OPTIONS}"),
    ];
    let run = boot_linux(&format!("linux-hv-{smp}"), &hv, false, smp, &extra, None)?;
    let mut verdict = check_linux_run(&run);
    let online = format!(
        "HV-LINUX: online CPUs {}",
        if smp == 1 {
            "0".to_string()
        } else {
            format!("0-{}", smp - 1)
        }
    );
    if verdict.is_ok() && !run.text.contains(&online) {
        verdict = Err(format!("Linux did not report {online:?}"));
    }
    if let (Some(t), Some(r)) = (run.to_marker, reference.and_then(|r| r.to_marker)) {
        println!("xtask: Linux reached userspace in {t:.1} s under hv-kernel ({smp} vCPUs) vs {r:.1} s on plain QEMU ({smp} CPUs): {:.2}x", t / r);
    }
    let dd = |text: &str| {
        text.lines()
            .find(|l| l.contains("HV-LINUX: dd "))
            .map(|l| l.trim().trim_start_matches("[guest] ").to_string())
    };
    if let Some(here) = dd(&run.text) {
        let there = reference.and_then(|r| dd(&r.text)).unwrap_or_default();
        println!("xtask: Linux dd under hv-kernel: {here}; on plain QEMU: {there}");
    }
    if let Some(line) = run.text.lines().find(|l| l.contains("exits/s")) {
        println!("xtask: {}", line.trim());
    }
    report(
        &format!("Linux under hv-kernel, {smp} vCPU(s)"),
        start,
        &run.text,
        &verdict,
    );
    verdict
}

/// Debian's Linux under the release hv-kernel on a board model, with the
/// board's own device tree, one vCPU per CPU (4) and its disk in the
/// bundle: it must reach userspace, pass its disk check, see all vCPUs
/// online and power off cleanly.
fn linux_on_board(board: Board) -> Result<(), String> {
    let start = Instant::now();
    let (kernel, initrd) = linux::prepare(None, None)?;
    let hv = build_image(Arch::Aarch64, false, true)?;
    let dtb = board
        .dtb()?
        .ok_or_else(|| format!("{board:?} has no device tree of its own"))?;
    let dir = workspace_root().join("target/xtask");
    let disk = dir.join(format!("linux-{}-disk.img", board.qemu_machine()));
    // The init script writes a pattern, then 4 MiB from 4 MiB on.
    guest::create_disk(&disk, 8 << 20)?;
    let bundle = dir.join(format!("linux-{}.bundle", board.qemu_machine()));
    guest::write_bundle_with_disks(
        &kernel,
        Some(&initrd),
        &linux::cmdline(false),
        [Some(&disk), None],
        &bundle,
    )?;
    let out = Command::new(workspace_root().join("qemu-runner.sh"))
        .arg(&hv)
        .args(["-initrd", &bundle.display().to_string()])
        .args(["-append", &format!("hv.guest_mem=256M {HV_TEST_OPTIONS}")])
        .env("HV_BOARD", board.qemu_machine())
        .env("HV_DTB", &dtb)
        .env("HV_TIMEOUT", LINUX_TIMEOUT_S.to_string())
        .output()
        .map_err(|e| format!("could not start qemu-runner.sh: {e}"))?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let verdict = [
        "GIC: GICv2",
        "HV-LINUX: disk check PASS",
        "HV-LINUX: online CPUs 0-3",
        "hv-kernel: guest powered off",
    ]
    .iter()
    .find(|want| !text.contains(*want))
    .map_or(Ok(()), |want| Err(format!("output lacks {want:?}")))
    .and_then(|()| match out.status.code() {
        Some(0) => Ok(()),
        _ => Err(format!("QEMU exited with {}", out.status)),
    });
    report(
        &format!("Linux under hv-kernel on {}, 4 vCPUs", board.qemu_machine()),
        start,
        &text,
        &verdict,
    );
    verdict
}

/// The interactive shell under hv-kernel: type a command on the console and
/// expect its answer, then power off from the shell.
/// With `gicv2`, on `virt` with a GICv2 and 2 CPUs: console input then
/// reaches the guest through the SPI hv routes by ITARGETSR (once sent
/// nowhere).
fn linux_shell_under_hv(gicv2: bool) -> Result<(), String> {
    let start = Instant::now();
    let (kernel, initrd) = linux::prepare(None, None)?;
    let hv = build_image(Arch::Aarch64, false, true)?;
    let bundle = workspace_root().join("target/xtask/linux-shell.bundle");
    guest::write_bundle(&kernel, Some(&initrd), &linux::cmdline(true), &bundle)?;
    let mut extra = vec![
        "-initrd".to_string(),
        bundle.display().to_string(),
        "-append".to_string(),
        format!("hv.guest_mem=256M {HV_TEST_OPTIONS}"),
    ];
    if gicv2 {
        extra.extend(["-machine".to_string(), "gic-version=2".to_string()]);
    }
    let typing = Typing {
        after: "HV-LINUX: shell",
        text: "echo hv-shell-$((6*7))\npoweroff -f\n",
    };
    let name = if gicv2 {
        "linux-shell-gicv2"
    } else {
        "linux-shell"
    };
    // Two CPUs: with one, QEMU's GICv2 ignores ITARGETSR (every SPI goes
    // to CPU 0), which would hide a wrong target.
    let cpus = if gicv2 { 2 } else { 1 };
    let run = boot_linux(name, &hv, false, cpus, &extra, Some(typing))?;
    let verdict = if !run.text.contains("hv-shell-42") {
        Err("the shell did not answer the typed command".to_string())
    } else if gicv2 && !run.text.contains("GIC: GICv2") {
        Err("hv-kernel did not run on a GICv2".to_string())
    } else if run.code != Some(0) {
        Err(format!("QEMU exited with {:?}", run.code))
    } else {
        Ok(())
    };
    let what = if gicv2 {
        "Linux shell under hv-kernel on a GICv2 host"
    } else {
        "Linux shell under hv-kernel"
    };
    report(what, start, &run.text, &verdict);
    verdict
}

/// Build the images and run every boot test; one result per test.
pub fn run_all() -> Vec<(String, Result<(), String>)> {
    let mut results = Vec::new();
    match guest::build_test_guest(guest::DEFAULT_GUEST) {
        Ok(guest_image) => {
            let plain = default_guest_on_plain_qemu(&guest_image);
            let reference = plain.as_ref().ok();
            let under_hv = default_guest_under_hv(&guest_image, reference, HvRun::Release);
            let under_hv_debug = default_guest_under_hv(&guest_image, reference, HvRun::Debug);
            let nopped_dtb =
                default_guest_under_hv(&guest_image, reference, HvRun::ReleaseNoppedDtb);
            let on_imx8mp = default_guest_on_board(&guest_image, reference, Board::Imx8mp);
            let on_raspi = default_guest_on_board(&guest_image, reference, Board::Raspi4b);
            let gicv2 = default_guest_under_hv(&guest_image, reference, HvRun::ReleaseGicV2);
            let sim_reference = plain.as_ref().ok().map(|r| r.lines.as_slice());
            let on_sim = sim_tests::build()
                .and_then(|sim| sim_tests::default_guest(&sim, &guest_image, sim_reference, false));
            let on_sim_bundled = sim_tests::build()
                .and_then(|sim| sim_tests::default_guest(&sim, &guest_image, sim_reference, true));
            results.push((
                "boot: default guest on plain QEMU writes and checks its disk".to_string(),
                plain.map(|_| ()),
            ));
            results.push((
                "boot: default guest under hv-kernel: same verdict, disk written through hv"
                    .to_string(),
                under_hv,
            ));
            results.push((
                "boot: default guest under the debug hv-kernel (overflow checks on)".to_string(),
                under_hv_debug,
            ));
            results.push((
                "boot: default guest under hv-kernel given a device tree full of FDT_NOPs (as firmware leaves them)"
                    .to_string(),
                nopped_dtb,
            ));
            results.push((
                "boot: default guest under hv-kernel on imx8mp-evk (its own device tree, disks in the bundle): same verdict"
                    .to_string(),
                on_imx8mp,
            ));
            results.push((
                "boot: default guest under hv-kernel on raspi4b (the Pi 4's device tree, GIC-400, disks in the bundle): same verdict"
                    .to_string(),
                on_raspi,
            ));
            results.push((
                "boot: default guest under hv-kernel on virt with a GICv2: same verdict, disk written through hv"
                    .to_string(),
                gicv2,
            ));
            results.push((
                "boot: default guest on hv-sim: same verdict, disk written".to_string(),
                on_sim,
            ));
            results.push((
                "boot: default guest on hv-sim with its disks in the bundle: same verdict"
                    .to_string(),
                on_sim_bundled,
            ));
        }
        Err(e) => results.push(("boot: build the default guest".to_string(), Err(e))),
    }
    results.push((
        "boot: benchmark guests print the same on hv-sim as on QEMU (each engine, and in lockstep)"
            .to_string(),
        sim_tests::build().and_then(|sim| sim_tests::bench_differential(&sim)),
    ));
    results.push((
        "boot: faulting guest on hv-sim gets its exceptions".to_string(),
        guest::build_test_guest(guest::FAULTS_GUEST)
            .and_then(|img| sim_tests::faults_guest(&sim_tests::build()?, &img)),
    ));
    match sim_tests::build() {
        Ok(sim) => results.extend(cprogs::checks(&sim)),
        Err(e) => results.push(("C corpus: build hv-sim".to_string(), Err(e))),
    }
    results.push((
        "boot: faulting guest under hv-kernel gets its exceptions, hv stays up".to_string(),
        faults_guest_under_hv(),
    ));
    results.push((
        "boot: reboot guest on plain QEMU boots twice, disk kept (reference)".to_string(),
        reboot_guest(false),
    ));
    results.push((
        "boot: reboot guest under hv-kernel: SYSTEM_RESET reboots it, disk kept".to_string(),
        reboot_guest(true),
    ));
    results.extend(crate::smp_guests::run_all());
    results.extend(crate::x86_guests::run_all());
    // Each hv run right after its plain-QEMU reference with as many CPUs,
    // so the boot-time ratio compares runs under the same host load.
    let plain_linux = linux_on_plain_qemu(1);
    let under_hv = linux_under_hv(1, plain_linux.as_ref().ok());
    let plain_linux_smp = linux_on_plain_qemu(2);
    let under_hv_smp = linux_under_hv(2, plain_linux_smp.as_ref().ok());
    results.push((
        "boot: Debian's Linux on plain QEMU writes its disk (reference)".to_string(),
        plain_linux.map(|_| ()),
    ));
    results.push((
        "boot: Debian's Linux on plain QEMU with 2 CPUs (reference)".to_string(),
        plain_linux_smp.map(|_| ()),
    ));
    results.push((
        "boot: Debian's Linux under hv-kernel, 1 vCPU: shell script ran, disk written through hv"
            .to_string(),
        under_hv,
    ));
    results.push((
        "boot: Debian's Linux under hv-kernel, 2 vCPUs online".to_string(),
        under_hv_smp,
    ));
    results.push((
        "boot: exit-cost guest completes on plain QEMU and under hv-kernel (table above)"
            .to_string(),
        crate::exitbench::measure_and_report(60),
    ));
    results.push((
        "boot: Linux shell under hv-kernel answers console input".to_string(),
        linux_shell_under_hv(false),
    ));
    results.push((
        "boot: Linux shell under hv-kernel on a GICv2 host answers console input".to_string(),
        linux_shell_under_hv(true),
    ));
    results.push((
        "boot: Debian's Linux under hv-kernel on raspi4b (GIC-400, spin table, 4 vCPUs, disk in the bundle)"
            .to_string(),
        linux_on_board(Board::Raspi4b),
    ));
    results.push((
        "boot: Debian's Linux on hv-sim writes its disk (engines in lockstep, then the JIT)"
            .to_string(),
        sim_tests::build().and_then(|sim| sim_tests::linux(&sim)),
    ));
    for arch in Arch::ALL {
        for fault in [false, true] {
            let tests: Vec<&BootTest> = TESTS
                .iter()
                .filter(|t| t.arch == arch && t.fault == fault)
                .collect();
            if tests.is_empty() {
                continue;
            }
            match build_image(arch, fault, true) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_guest_throughput_line() {
        let out = "[guest] disk throughput: write 52500 KiB/s, read 48871 KiB/s (1024 KiB in 64 KiB requests)\n";
        assert_eq!(throughput(out), Some((52500, 48871)));
        assert_eq!(throughput("disk throughput: request failed"), None);
    }

    #[test]
    fn verdict_lines_ignore_hv_marks_and_other_output() {
        let out = "hv-kernel 0.1.0\n[guest] test a: ok\n[guest] wrote sectors: 1\n[guest] guest-default: 1 passed, 0 failed\n[guest] PASS\n";
        assert_eq!(
            guest_verdict_lines(out),
            ["test a: ok", "guest-default: 1 passed, 0 failed", "PASS"]
        );
    }
}

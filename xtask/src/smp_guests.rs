//! The conformance guests (tests/guests/default): the SMP and interrupt
//! guests (guest-sgi, guest-timers, guest-psci), guest-topva (trapped
//! instructions at the top of the address space) and guest-vflood (floods
//! a virtqueue from one vCPU while another sits in QUEUE_NOTIFY). Each runs
//! directly on QEMU `virt` at EL1 (the reference, which must pass) and
//! under hv-kernel with as many vCPUs, where it must pass too and print
//! the same test lines.
//!
//! hv-kernel is the release build for the SMP guests: the SGI guest's round
//! trips cost about 400 us each under a debug hv and 30 us under a release
//! one, so its 147,456 of them would need minutes. guest-topva runs under
//! the debug build, whose overflow checks are its point (hv once stepped the
//! PC past a trapped instruction at 0xffff_ffff_ffff_fffc with `+ 4`).

use crate::boot_tests::{
    boot_guest, build_image, guest_line, hv_guest_args, report, verdict_lines, GuestRun,
};
use crate::image::workspace_root;
use crate::{guest, Arch};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Seconds one run may take before QEMU is stopped.
const TIMEOUT_S: u32 = 60;

/// One conformance guest.
struct Conformance {
    bin: &'static str,
    /// CPUs on plain QEMU, vCPUs under hv.
    smp: u32,
    /// What it checks, for the test names.
    what: &'static str,
    /// Prefixes of its informational lines (timings, counts) to show.
    info: &'static [&'static str],
    /// Lines hv-kernel's run must print (stricter than the reference).
    hv_must_print: &'static [&'static str],
    /// Run it under the release hv-kernel (else the debug build, with
    /// overflow checks).
    hv_release: bool,
    /// Give it fresh virtio-blk disks (a writable and a read-only one).
    disks: bool,
}

const GUESTS: &[Conformance] = &[
    Conformance {
        bin: "guest-sgi",
        smp: 2,
        what: "SGI ping-pong between 2 CPUs, busy and idle receivers",
        info: &["sgi "],
        hv_must_print: &[],
        hv_release: true,
        disks: false,
    },
    Conformance {
        bin: "guest-timers",
        smp: 2,
        what: "EL1 timers, WFI wake-up, PPI pending and SGI active state",
        info: &["wfi: "],
        hv_must_print: &[],
        hv_release: true,
        disks: false,
    },
    Conformance {
        bin: "guest-psci",
        smp: 4,
        what: "concurrent CPU_OFF/CPU_ON on 4 CPUs",
        info: &["psci: "],
        // QEMU's PSCI gives every early CPU_ON SUCCESS; PSCI (and hv) must
        // give exactly one.
        hv_must_print: &["psci: rounds with more than one CPU_ON SUCCESS: 0 of"],
        hv_release: true,
        disks: false,
    },
    Conformance {
        bin: "guest-topva",
        smp: 1,
        what: "trapped instructions at 0xffff_ffff_ffff_fffc wrap the PC to 0",
        info: &[],
        hv_must_print: &[],
        hv_release: false,
        disks: false,
    },
    Conformance {
        bin: "guest-vflood",
        smp: 2,
        what: "a virtqueue flood from one CPU while the other sits in QUEUE_NOTIFY",
        // How long the notifies took and how many requests completed during
        // them. On plain QEMU at most the reads available when it started
        // complete during a notify (they finish in QEMU's main loop, after the
        // notify returns); under hv a notify that CPU 1 keeps busy sees one to
        // three queues' worth complete (a budget in the notify, the rest
        // served at exits). Whether CPU 1 keeps one busy at all depends on the
        // host's load, so it is not required here; the guest fails a notify
        // that sees more than six.
        info: &["vflood: "],
        hv_must_print: &[],
        disks: true,
        hv_release: true,
    },
];

/// QEMU arguments attaching fresh disks for `c`'s run at `place`, if it
/// wants them: a 4 MiB writable disk and a 1 MiB read-only one.
fn disks_for(c: &Conformance, place: &str) -> Result<Vec<String>, String> {
    if !c.disks {
        return Ok(Vec::new());
    }
    let dir = workspace_root().join("target/xtask");
    let disk = dir.join(format!("{}-{place}-disk.img", c.bin));
    let ro = dir.join(format!("{}-{place}-ro.img", c.bin));
    guest::create_disk(&disk, 4 << 20)?;
    guest::create_disk(&ro, 1 << 20)?;
    Ok(guest::disk_args(&disk, Some(&ro)))
}

/// The guest printed PASS and QEMU ended cleanly (not by the time limit).
fn check_pass(run: &GuestRun, bin: &str) -> Result<(), String> {
    let lines = verdict_lines(&run.text, bin);
    let failed: Vec<&str> = lines
        .iter()
        .filter(|l| l.contains(": FAIL"))
        .map(String::as_str)
        .collect();
    if run.code == Some(124) {
        let last = run
            .text
            .lines()
            .rev()
            .find(|l| l.contains("[guest]") || l.starts_with("test "))
            .unwrap_or("(nothing)");
        return Err(format!(
            "timed out after {TIMEOUT_S} s (hung); last guest line: {}",
            guest_line(last)
        ));
    }
    if !failed.is_empty() {
        return Err(format!("failed: {}", failed.join(" | ")));
    }
    if !lines.iter().any(|l| l == "PASS") {
        return Err(format!(
            "the guest did not print PASS (QEMU exit {:?})",
            run.code
        ));
    }
    if run.code != Some(0) {
        return Err(format!("QEMU exited with {:?}", run.code));
    }
    Ok(())
}

/// Show the guest's informational lines (timings, counts).
fn show_info(c: &Conformance, place: &str, run: &GuestRun) {
    for line in run.text.lines().map(guest_line) {
        if c.info.iter().any(|p| line.starts_with(p)) {
            println!("xtask: {} {place}: {line}", c.bin);
        }
    }
}

fn on_plain_qemu(c: &Conformance, image: &Path) -> Result<Vec<String>, String> {
    let start = Instant::now();
    let run = boot_guest(image, true, c.smp, &disks_for(c, "plain")?, TIMEOUT_S)?;
    let verdict = check_pass(&run, c.bin);
    show_info(c, "on plain QEMU", &run);
    report(
        &format!("{} on plain QEMU ({} CPUs)", c.bin, c.smp),
        start,
        &run.text,
        &verdict,
    );
    verdict.map(|()| verdict_lines(&run.text, c.bin))
}

fn under_hv(
    c: &Conformance,
    image: &Path,
    hv: &Path,
    reference: Option<&[String]>,
) -> Result<(), String> {
    let start = Instant::now();
    let mut extra = hv_guest_args(image, c.bin)?;
    extra.extend(disks_for(c, "hv")?);
    let run = boot_guest(hv, false, c.smp, &extra, TIMEOUT_S)?;
    let mut verdict = check_pass(&run, c.bin);
    if verdict.is_ok() && !run.text.contains("hv-kernel: guest powered off") {
        verdict = Err("hv-kernel did not report the guest's power-off".into());
    }
    if verdict.is_ok() {
        if let Some(missing) = c.hv_must_print.iter().find(|m| !run.text.contains(*m)) {
            verdict = Err(format!("the guest did not print {missing:?}"));
        }
    }
    if let (Ok(()), Some(reference)) = (&verdict, reference) {
        let here = verdict_lines(&run.text, c.bin);
        if here != reference {
            verdict = Err(format!(
                "the guest reported differently under hv-kernel:\n  plain QEMU: {reference:?}\n  hv-kernel:  {here:?}"
            ));
        }
    }
    show_info(c, "under hv-kernel", &run);
    if let Some(line) = run.text.lines().find(|l| l.contains("exits/s")) {
        println!("xtask: {}", line.trim());
    }
    report(
        &format!(
            "{} under hv-kernel ({} vCPUs{})",
            c.bin,
            c.smp,
            build_note(c)
        ),
        start,
        &run.text,
        &verdict,
    );
    verdict
}

/// How the hv-kernel build a guest runs under is named in results.
fn build_note(c: &Conformance) -> &'static str {
    if c.hv_release {
        ""
    } else {
        ", debug build"
    }
}

/// Build the guests and hv-kernel (release, and debug if a guest asks for
/// it) and run every conformance guest on plain QEMU, then under hv-kernel;
/// one result per run.
pub fn run_all() -> Vec<(String, Result<(), String>)> {
    let mut results = Vec::new();
    let mut hv_release: Option<Result<PathBuf, String>> = None;
    let mut hv_debug: Option<Result<PathBuf, String>> = None;
    for c in GUESTS {
        let plain_name = format!(
            "boot: {} on plain QEMU, {} CPUs: {} (reference)",
            c.bin, c.smp, c.what
        );
        let hv_name = format!(
            "boot: {} under hv-kernel, {} vCPUs{}: passes, same test lines",
            c.bin,
            c.smp,
            build_note(c)
        );
        let image = match guest::build_test_guest(c.bin) {
            Ok(image) => image,
            Err(e) => {
                results.push((format!("boot: build {}", c.bin), Err(e)));
                continue;
            }
        };
        let plain = on_plain_qemu(c, &image);
        let hv = if c.hv_release {
            &mut hv_release
        } else {
            &mut hv_debug
        };
        let hv_image = hv
            .get_or_insert_with(|| build_image(Arch::Aarch64, false, c.hv_release))
            .clone();
        let under = hv_image.and_then(|hv| under_hv(c, &image, &hv, plain.as_deref().ok()));
        results.push((plain_name, plain.map(|_| ())));
        results.push((hv_name, under));
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, code: i32) -> GuestRun {
        GuestRun {
            text: text.to_string(),
            code: Some(code),
            secs: 0.0,
        }
    }

    #[test]
    fn a_pass_needs_pass_and_a_clean_exit() {
        let ok = "[guest] test a: ok\n[guest] guest-sgi: 1 passed, 0 failed\n[guest] PASS\n";
        assert!(check_pass(&run(ok, 0), "guest-sgi").is_ok());
        assert!(check_pass(&run(ok, 2), "guest-sgi").is_err());
        let failed = "test a: FAIL (SGI lost at round 3)\nguest-sgi: 0 passed, 1 failed\nFAIL\n";
        let e = check_pass(&run(failed, 0), "guest-sgi").unwrap_err();
        assert!(e.contains("SGI lost at round 3"), "{e}");
        let hung = "[guest] test a: ok\n[guest] test b: FAIL (x)\nqemu-runner: timed out\n";
        let e = check_pass(&run(hung, 124), "guest-sgi").unwrap_err();
        assert!(
            e.contains("timed out") && e.contains("test b: FAIL (x)"),
            "{e}"
        );
    }
}

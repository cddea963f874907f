//! The same guests on hv-sim, the simulator: no QEMU, no virtualization.
//! The test guests must report exactly what they reported on QEMU, and the
//! disks must hold what they wrote.

use crate::image::{cargo, run_checked, workspace_root};
use crate::{guest, linux};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Wall-clock limit for one hv-sim run (Linux is about 1e9 instructions).
const SIM_TIMEOUT: Duration = Duration::from_secs(300);

/// Build hv-sim (release: the interpreter is ~10x slower unoptimised).
pub fn build() -> Result<PathBuf, String> {
    println!("xtask: building hv-sim (release)");
    run_checked(Command::new(cargo()).current_dir(workspace_root()).args([
        "build",
        "--release",
        "-p",
        "hv-sim",
    ]))?;
    Ok(workspace_root().join("target/release/hv-sim"))
}

/// Run hv-sim with `args`; returns (stdout + stderr, exit code).
fn run(sim: &Path, args: &[String]) -> Result<(String, Option<i32>), String> {
    let mut child = Command::new(sim)
        .arg("run")
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", sim.display()))?;
    let start = Instant::now();
    while child.try_wait().map_err(|e| e.to_string())?.is_none() {
        if start.elapsed() > SIM_TIMEOUT {
            let _ = child.kill();
            return Err(format!(
                "hv-sim did not finish within {} s",
                SIM_TIMEOUT.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Ok((text, out.status.code()))
}

fn report(name: &str, start: Instant, text: &str, verdict: &Result<(), String>) {
    println!(
        "xtask: boot test \"{name}\": {} in {:.1} s",
        if verdict.is_ok() { "ok" } else { "FAILED" },
        start.elapsed().as_secs_f64()
    );
    if let Some(line) = text.lines().find(|l| l.contains("instructions in")) {
        println!("xtask: {}", line.trim());
    }
    if verdict.is_err() {
        println!(
            "----- output -----\n{}\n------------------",
            text.trim_end()
        );
    }
}

/// The default guest on hv-sim: PASS, the same verdict lines as on plain
/// QEMU (`reference`), and the pattern on its disk.
pub fn default_guest(sim: &Path, image: &Path, reference: Option<&[String]>) -> Result<(), String> {
    let start = Instant::now();
    let dir = workspace_root().join("target/xtask");
    let (disk, ro) = (dir.join("sim-disk.img"), dir.join("sim-ro.img"));
    guest::create_disk(&disk, 8 << 20)?;
    guest::create_disk(&ro, 1 << 20)?;
    let args = [
        image.display().to_string(),
        "--disk".into(),
        disk.display().to_string(),
        "--ro-disk".into(),
        ro.display().to_string(),
    ];
    let (text, code) = run(sim, &args)?;
    let lines = crate::boot_tests::guest_verdict_lines(&text);
    let verdict = if !lines.iter().any(|l| l == "PASS") {
        Err("the guest did not print PASS".to_string())
    } else if code != Some(0) {
        Err(format!("hv-sim exited with {code:?}"))
    } else if reference.is_some_and(|r| r != lines) {
        Err(format!("the guest reported differently on hv-sim:\n  plain QEMU: {reference:?}\n  hv-sim:     {lines:?}"))
    } else {
        guest::written_sectors(&text).and_then(|s| guest::check_pattern(&disk, &s))
    };
    report("default guest on hv-sim", start, &text, &verdict);
    verdict
}

/// The faults guest on hv-sim: every fault arrives as the architectural
/// exception, then a clean power-off.
pub fn faults_guest(sim: &Path, image: &Path) -> Result<(), String> {
    let start = Instant::now();
    let (text, code) = run(sim, &[image.display().to_string()])?;
    let verdict = if !crate::boot_tests::guest_verdict_lines(&text)
        .iter()
        .any(|l| l == "PASS")
    {
        Err("the guest did not print PASS".to_string())
    } else if code != Some(0) {
        Err(format!("hv-sim exited with {code:?}"))
    } else {
        Ok(())
    };
    report("faulting guest on hv-sim", start, &text, &verdict);
    verdict
}

/// Debian's Linux on hv-sim: userspace, disk check, power-off, and the
/// pattern in the disk image.
pub fn linux(sim: &Path) -> Result<(), String> {
    let start = Instant::now();
    let (kernel, initrd) = linux::prepare(None, None)?;
    let disk = workspace_root().join("target/xtask/sim-linux-disk.img");
    guest::create_disk(&disk, 64 << 20)?;
    let args = [
        kernel.display().to_string(),
        "--initrd".into(),
        initrd.display().to_string(),
        "--cmdline".into(),
        linux::cmdline(false),
        "--mem".into(),
        "512M".into(),
        "--disk".into(),
        disk.display().to_string(),
    ];
    let (text, code) = run(sim, &args)?;
    let verdict = if !text.contains(linux::MARKER) {
        Err(format!("no {:?} on the console", linux::MARKER))
    } else if !text.contains(linux::VERDICT_PASS) {
        Err("the guest's disk check did not pass".to_string())
    } else if code != Some(0) {
        Err(format!("hv-sim exited with {code:?}"))
    } else {
        linux::check_disk(&disk)
    };
    report("Linux on hv-sim", start, &text, &verdict);
    verdict
}

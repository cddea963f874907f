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

/// Run hv-sim with `args`; returns (stdout + stderr, exit code). Output is
/// drained while it runs (a full pipe would stall the guest).
fn run(sim: &Path, args: &[String]) -> Result<(String, Option<i32>), String> {
    use std::io::Read;
    let mut child = Command::new(sim)
        .arg("run")
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", sim.display()))?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut p) = pipe {
                let mut bytes = Vec::new();
                let _ = p.read_to_end(&mut bytes);
                text = String::from_utf8_lossy(&bytes).into_owned();
            }
            text
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if start.elapsed() > SIM_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "hv-sim did not finish within {} s",
                SIM_TIMEOUT.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = out.join().unwrap_or_default() + &err.join().unwrap_or_default();
    Ok((text, status.code()))
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

/// The compute workloads of the benchmark guest.
pub const WORKLOADS: [&str; 6] = ["sieve", "crc32", "sha256", "matmul", "qsort", "printf"];

/// What a benchmark run printed that must agree between QEMU and hv-sim.
fn results(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| {
            l.starts_with("bench ") || l.starts_with("line ") || *l == "PASS" || *l == "FAIL"
        })
        .collect()
}

/// Guest MIPS from hv-sim's closing line.
fn mips(text: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.contains("instructions in"))?;
    line.rsplit_once('(')?
        .1
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Each benchmark workload on plain QEMU and on hv-sim: identical output,
/// and a table of hv-sim's guest MIPS and both wall times.
pub fn bench_differential(sim: &Path) -> Result<(), String> {
    let image = guest::build_guest(guest::BENCH_GUEST, true)?;
    let mut problems = Vec::new();
    println!("xtask: workload   hv-sim MIPS   hv-sim s   QEMU s   hv-sim/QEMU time");
    for w in WORKLOADS {
        let arg = format!("bench={w}");
        let qemu_start = Instant::now();
        let out = Command::new(workspace_root().join("qemu-runner.sh"))
            .arg(&image)
            .args(["-append", &arg])
            .env("HV_SMP", "1")
            .env("HV_MEM", "256M")
            .env("HV_TIMEOUT", "120")
            .env("HV_QEMU_EL1", "1")
            .output()
            .map_err(|e| format!("could not start qemu-runner.sh: {e}"))?;
        let qemu_s = qemu_start.elapsed().as_secs_f64();
        let qemu_text = String::from_utf8_lossy(&out.stdout).into_owned();
        let sim_start = Instant::now();
        let (sim_text, code) = run(
            sim,
            &[image.display().to_string(), "--cmdline".into(), arg.clone()],
        )?;
        let sim_s = sim_start.elapsed().as_secs_f64();
        let (want, got) = (results(&qemu_text), results(&sim_text));
        if want.last() != Some(&"PASS") || out.status.code() != Some(0) {
            problems.push(format!("{w}: did not pass on plain QEMU"));
        } else if got != want || code != Some(0) {
            let first = got
                .iter()
                .zip(&want)
                .position(|(a, b)| a != b)
                .unwrap_or(got.len().min(want.len()));
            problems.push(format!(
                "{w}: hv-sim differs from QEMU at result line {first}: {:?} vs {:?} (exit {code:?})",
                got.get(first),
                want.get(first)
            ));
        }
        println!(
            "xtask: {w:<8} {:>12} {:>10.2} {:>8.2} {:>10.2}x",
            mips(&sim_text).map_or("?".to_string(), |m| format!("{m:.1}")),
            sim_s,
            qemu_s,
            sim_s / qemu_s.max(1e-3)
        );
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_only_what_must_agree() {
        let out = "hv-sim: guest powered off\nbench sieve: 1 primes\nline 1: x\nPASS\nhv-sim: 5 instructions in 0.1 s (50.0 MIPS)\n";
        assert_eq!(results(out), ["bench sieve: 1 primes", "line 1: x", "PASS"]);
        assert_eq!(mips(out), Some(50.0));
        assert_eq!(mips("nothing"), None);
    }
}

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

/// The engine to run hv-sim's differential tests with: `check` (the
/// interpreter and the JIT in lockstep, stopping at the first difference)
/// where hv-sim has a JIT (x86_64 Linux), else the interpreter.
pub const LOCKSTEP_ENGINE: &str = if cfg!(all(target_arch = "x86_64", target_os = "linux")) {
    "check"
} else {
    "interp"
};

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

/// Wall-clock limit for one run of the benchmark guest on hv-sim:
/// `--vs-qemu` lengthens workloads to several seconds of QEMU's time, which
/// hv-sim's interpreter may take ten times longer for.
const BENCH_TIMEOUT: Duration = Duration::from_secs(900);

/// Run hv-sim with `args`; returns (stdout + stderr, exit code). Output is
/// drained while it runs (a full pipe would stall the guest).
fn run(sim: &Path, args: &[String]) -> Result<(String, Option<i32>), String> {
    run_limited(sim, args, SIM_TIMEOUT)
}

/// [`run`] with a time limit of `limit`.
fn run_limited(
    sim: &Path,
    args: &[String],
    limit: Duration,
) -> Result<(String, Option<i32>), String> {
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
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "hv-sim did not finish within {} s",
                limit.as_secs()
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
/// With `in_bundle` the disks travel in a guest bundle (as on boards
/// without virtio) instead of `--disk`/`--ro-disk`; hv-sim serves copies,
/// so only the guest's own read-back checks the writes.
pub fn default_guest(
    sim: &Path,
    image: &Path,
    reference: Option<&[String]>,
    in_bundle: bool,
) -> Result<(), String> {
    let start = Instant::now();
    let dir = workspace_root().join("target/xtask");
    let (disk, ro) = (dir.join("sim-disk.img"), dir.join("sim-ro.img"));
    guest::create_disk(&disk, 8 << 20)?;
    guest::create_disk(&ro, 1 << 20)?;
    let args = if in_bundle {
        let bundle = dir.join("sim-bundled-disks.bundle");
        guest::write_bundle_with_disks(image, None, "", [Some(&disk), Some(&ro)], &bundle)?;
        vec![bundle.display().to_string()]
    } else {
        vec![
            image.display().to_string(),
            "--disk".into(),
            disk.display().to_string(),
            "--ro-disk".into(),
            ro.display().to_string(),
        ]
    };
    let (text, code) = run(sim, &args)?;
    let lines = crate::boot_tests::guest_verdict_lines(&text);
    let verdict = if !lines.iter().any(|l| l == "PASS") {
        Err("the guest did not print PASS".to_string())
    } else if code != Some(0) {
        Err(format!("hv-sim exited with {code:?}"))
    } else if reference.is_some_and(|r| r != lines) {
        Err(format!("the guest reported differently on hv-sim:\n  plain QEMU: {reference:?}\n  hv-sim:     {lines:?}"))
    } else if in_bundle {
        Ok(())
    } else {
        guest::written_sectors(&text).and_then(|s| guest::check_pattern(&disk, &s))
    };
    let name = if in_bundle {
        "default guest on hv-sim, disks in its bundle"
    } else {
        "default guest on hv-sim"
    };
    report(name, start, &text, &verdict);
    verdict
}

/// The faults guest on hv-sim, both engines in lockstep where there is a
/// JIT: every fault arrives as the architectural exception, then a clean
/// power-off.
pub fn faults_guest(sim: &Path, image: &Path) -> Result<(), String> {
    let start = Instant::now();
    let (text, code) = run(
        sim,
        &[
            image.display().to_string(),
            "--engine".into(),
            LOCKSTEP_ENGINE.into(),
        ],
    )?;
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
    report(
        &format!("faulting guest on hv-sim ({LOCKSTEP_ENGINE})"),
        start,
        &text,
        &verdict,
    );
    verdict
}

/// Debian's Linux on hv-sim: userspace, disk check, power-off. Run with
/// [`LOCKSTEP_ENGINE`] (where that is `check`, the interpreter and the JIT
/// agree at every slice, and on RAM and disks) and then, where hv-sim has
/// a JIT, on the JIT alone, whose disk image must hold the guest's pattern
/// (a checked run writes temporary copies).
pub fn linux(sim: &Path) -> Result<(), String> {
    let mut result = linux_on(sim, LOCKSTEP_ENGINE);
    if LOCKSTEP_ENGINE == "check" {
        result = result.and(linux_on(sim, "jit"));
    }
    for engine in HOST_ENGINES {
        time_linux_to_marker(sim, engine)?;
    }
    result
}

/// Print how long Linux takes on hv-sim under `engine` to reach its
/// userspace marker (wall time, for the log beside plain QEMU's "reached
/// userspace in"; not a test: timings here are noisy).
fn time_linux_to_marker(sim: &Path, engine: &str) -> Result<(), String> {
    let disk = workspace_root().join("target/xtask/sim-linux-timing-disk.img");
    let mut args = linux_args(engine, &disk)?;
    args.extend(["--stop-at".into(), linux::MARKER.into()]);
    let start = Instant::now();
    let (text, code) = run(sim, &args)?;
    if code != Some(0) || !text.contains(linux::MARKER) {
        return Err(format!(
            "Linux on hv-sim ({engine}) did not reach {:?} (exit {code:?})",
            linux::MARKER
        ));
    }
    println!(
        "xtask: Linux on hv-sim ({engine}) reached userspace in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// hv-sim's arguments for Linux under `engine` with a fresh 64 MiB disk
/// at `disk`.
fn linux_args(engine: &str, disk: &Path) -> Result<Vec<String>, String> {
    let (kernel, initrd) = linux::prepare(None, None)?;
    guest::create_disk(disk, 64 << 20)?;
    Ok(vec![
        kernel.display().to_string(),
        "--engine".into(),
        engine.into(),
        "--initrd".into(),
        initrd.display().to_string(),
        "--cmdline".into(),
        linux::cmdline(false),
        "--mem".into(),
        "512M".into(),
        "--disk".into(),
        disk.display().to_string(),
    ])
}

fn linux_on(sim: &Path, engine: &str) -> Result<(), String> {
    let start = Instant::now();
    let disk = workspace_root().join(format!("target/xtask/sim-linux-disk-{engine}.img"));
    let (text, code) = run(sim, &linux_args(engine, &disk)?)?;
    let verdict = if !text.contains(linux::MARKER) {
        Err(format!("no {:?} on the console", linux::MARKER))
    } else if !text.contains(linux::VERDICT_PASS) {
        Err("the guest's disk check did not pass".to_string())
    } else if code != Some(0) {
        Err(format!("hv-sim exited with {code:?}"))
    } else if engine == "check" {
        Ok(())
    } else {
        linux::check_disk(&disk)
    };
    report(
        &format!("Linux on hv-sim ({engine})"),
        start,
        &text,
        &verdict,
    );
    verdict
}

/// The compute workloads of the benchmark guest.
pub const WORKLOADS: [&str; 7] = [
    "sieve", "crc32", "sha256", "matmul", "qsort", "mandel", "printf",
];

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

/// The benchmark guest's wall time on one engine, start-up told apart.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timing {
    /// The whole run with the workload, seconds.
    pub total: f64,
    /// The same guest with `reps=0` (boot, read the command line, power
    /// off), seconds: the median of [`STARTUP_RUNS`] runs.
    pub startup: f64,
}

impl Timing {
    /// The workload's own time: the run without its start-up.
    pub fn work(&self) -> f64 {
        (self.total - self.startup).max(0.0)
    }

    /// Start-up as a fraction of the whole run.
    pub fn startup_share(&self) -> f64 {
        if self.total > 0.0 {
            (self.startup / self.total).min(1.0)
        } else {
            1.0
        }
    }
}

/// Runs of `reps=0` whose median is taken as the start-up time.
pub const STARTUP_RUNS: usize = 3;

/// Issue #15: QEMU's start-up must stay under 5% of a compared run.
pub const MAX_STARTUP_SHARE: f64 = 0.05;

/// The share `--vs-qemu` aims for, below [`MAX_STARTUP_SHARE`] so that run
/// to run noise does not push the measured share over it.
pub const AIM_STARTUP_SHARE: f64 = 0.035;

/// Upper bound on repetitions (a workload faster than expected on QEMU must
/// not turn the hv-sim side into an hour).
pub const MAX_REPS: u32 = 500;

/// The fewest repetitions of a workload taking `per_rep` s after a start-up
/// of `startup` s for the start-up to be below `share` of the whole run:
/// `startup / (startup + reps * per_rep) < share`.
pub fn reps_for(startup: f64, per_rep: f64, share: f64) -> u32 {
    if startup <= 0.0 {
        return 1;
    }
    if per_rep <= 0.0 {
        return MAX_REPS;
    }
    let share_at = |reps: f64| startup / (startup + reps * per_rep);
    // From the closed form, then settled exactly (rounding).
    let mut reps = (startup * (1.0 - share) / (share * per_rep))
        .ceil()
        .clamp(1.0, f64::from(MAX_REPS));
    while share_at(reps) >= share && reps < f64::from(MAX_REPS) {
        reps += 1.0;
    }
    while reps > 1.0 && share_at(reps - 1.0) < share {
        reps -= 1.0;
    }
    reps as u32
}

/// The median of `xs` (not empty).
fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// One run of the benchmark guest: wall seconds, output, exit code.
struct Run {
    secs: f64,
    text: String,
    code: Option<i32>,
}

/// The benchmark guest on plain QEMU (1 CPU, 256 MiB, EL1) with `cmdline`.
fn run_qemu(image: &Path, cmdline: &str) -> Result<Run, String> {
    let start = Instant::now();
    let out = Command::new(workspace_root().join("qemu-runner.sh"))
        .arg(image)
        .args(["-append", cmdline])
        .env("HV_SMP", "1")
        .env("HV_MEM", "256M")
        .env("HV_TIMEOUT", "600")
        .env("HV_QEMU_EL1", "1")
        .output()
        .map_err(|e| format!("could not start qemu-runner.sh: {e}"))?;
    Ok(Run {
        secs: start.elapsed().as_secs_f64(),
        text: String::from_utf8_lossy(&out.stdout).into_owned(),
        code: out.status.code(),
    })
}

/// The benchmark guest on hv-sim with `cmdline` under `engine`.
fn run_sim(sim: &Path, image: &Path, cmdline: &str, engine: &str) -> Result<Run, String> {
    let start = Instant::now();
    let (text, code) = run_limited(
        sim,
        &[
            image.display().to_string(),
            "--engine".into(),
            engine.into(),
            "--cmdline".into(),
            cmdline.to_string(),
        ],
        BENCH_TIMEOUT,
    )?;
    Ok(Run {
        secs: start.elapsed().as_secs_f64(),
        text,
        code,
    })
}

/// Median wall time of [`STARTUP_RUNS`] runs of `reps=0`, each of which
/// must pass.
fn startup(what: &str, mut one: impl FnMut() -> Result<Run, String>) -> Result<f64, String> {
    let mut times = Vec::new();
    for _ in 0..STARTUP_RUNS {
        let r = one()?;
        if r.code != Some(0) || results(&r.text).last() != Some(&"PASS") {
            return Err(format!(
                "the benchmark guest with reps=0 did not pass on {what}:\n{}",
                r.text.trim_end()
            ));
        }
        times.push(r.secs);
    }
    Ok(median(times))
}

/// What differs between QEMU's and hv-sim's results of one workload, if
/// anything.
fn compare(w: &str, qemu: &Run, sim: &Run) -> Option<String> {
    let (want, got) = (results(&qemu.text), results(&sim.text));
    if want.last() != Some(&"PASS") || qemu.code != Some(0) {
        return Some(format!("{w}: did not pass on plain QEMU"));
    }
    if got != want || sim.code != Some(0) {
        let first = got
            .iter()
            .zip(&want)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(want.len()));
        return Some(format!(
            "{w}: hv-sim differs from QEMU at result line {first}: {:?} vs {:?} (exit {:?})",
            got.get(first),
            want.get(first),
            sim.code
        ));
    }
    None
}

/// hv-sim's engines on this host: the interpreter everywhere, the JIT
/// where hv-sim has one (x86_64 Linux, like the CI machines that keep the
/// performance baseline).
pub const HOST_ENGINES: &[&str] = if cfg!(all(target_arch = "x86_64", target_os = "linux")) {
    &["interp", "jit"]
} else {
    &["interp"]
};

/// One workload's runs: QEMU's and one per [`HOST_ENGINES`] entry.
struct Row {
    workload: &'static str,
    reps: u32,
    qemu: Timing,
    sims: Vec<(Run, Timing)>,
}

/// One row of the comparison table.
fn row(r: &Row) {
    let share = r.qemu.startup_share();
    let mut line = format!("xtask: {:<8} {:>5}", r.workload, r.reps);
    for (run, t) in &r.sims {
        line.push_str(&format!(
            " {:>9} {:>8.2}",
            mips(&run.text).map_or("?".to_string(), |m| format!("{m:.1}")),
            t.total
        ));
    }
    line.push_str(&format!(
        " {:>8.2} {:>7.1}%{}",
        r.qemu.total,
        100.0 * share,
        if share < MAX_STARTUP_SHARE { " " } else { "!" },
    ));
    for (_, t) in &r.sims {
        line.push_str(&format!(" {:>9.2}x", t.work() / r.qemu.work().max(1e-3)));
    }
    println!("{line}");
}

fn header() {
    let mut line = "xtask: workload  reps".to_string();
    for e in HOST_ENGINES {
        line.push_str(&format!(
            " {:>9} {:>8}",
            format!("{e} MIPS"),
            format!("{e} s")
        ));
    }
    line.push_str("   QEMU s  QEMU start-up");
    for e in HOST_ENGINES {
        line.push_str(&format!(" {:>10}", format!("{e}/QEMU")));
    }
    println!("{line}  (ratios with start-up subtracted)");
}

/// Start-up of QEMU and of each timed engine: the benchmark guest with
/// `reps=0`.
fn startups(sim: &Path, image: &Path) -> Result<(f64, Vec<f64>), String> {
    let q = startup("plain QEMU", || run_qemu(image, "bench=sieve reps=0"))?;
    let mut sims = Vec::new();
    for e in HOST_ENGINES {
        sims.push(startup(&format!("hv-sim ({e})"), || {
            run_sim(sim, image, "bench=sieve reps=0", e)
        })?);
    }
    let list: Vec<String> = HOST_ENGINES
        .iter()
        .zip(&sims)
        .map(|(e, t)| format!("hv-sim {e} {t:.3} s"))
        .collect();
    println!(
        "xtask: start-up (reps=0, median of {STARTUP_RUNS}): QEMU {q:.3} s, {}",
        list.join(", ")
    );
    Ok((q, sims))
}

/// Run `w` with `reps` on each timed engine: the rows' runs, and what
/// differs from QEMU's `qemu` run.
fn timed_runs(
    sim: &Path,
    image: &Path,
    w: &str,
    reps: u32,
    qemu: &Run,
    startups: &[f64],
    problems: &mut Vec<String>,
) -> Result<Vec<(Run, Timing)>, String> {
    let mut sims = Vec::new();
    for (e, s0) in HOST_ENGINES.iter().zip(startups) {
        let simr = run_sim(sim, image, &format!("bench={w} reps={reps}"), e)?;
        problems.extend(compare(&format!("{w} ({e})"), qemu, &simr));
        let t = Timing {
            total: simr.secs,
            startup: *s0,
        };
        sims.push((simr, t));
    }
    Ok(sims)
}

/// Each benchmark workload once on plain QEMU and on hv-sim: identical
/// output, first with the engines in lockstep ([`LOCKSTEP_ENGINE`]: the
/// interpreter and the JIT agree at every slice), then on each engine
/// alone for a table of hv-sim's guest MIPS, the wall times, QEMU's
/// start-up share and the time ratios with each one's start-up (measured
/// with `reps=0`) subtracted. One repetition keeps `cargo xtask test`
/// short, so QEMU's start-up is most of its time and the ratio is only
/// indicative (a `!` marks a share of 5% or more); `cargo xtask bench
/// --vs-qemu` lengthens the workloads until it is below 5%.
pub fn bench_differential(sim: &Path) -> Result<(), String> {
    let image = guest::build_guest(guest::BENCH_GUEST, true)?;
    let (q0, s0) = startups(sim, &image)?;
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    for w in WORKLOADS {
        let arg = format!("bench={w}");
        let qemu = run_qemu(&image, &arg)?;
        let checked = run_sim(sim, &image, &arg, LOCKSTEP_ENGINE)?;
        problems.extend(compare(
            &format!("{w} ({LOCKSTEP_ENGINE})"),
            &qemu,
            &checked,
        ));
        let sims = timed_runs(sim, &image, w, 1, &qemu, &s0, &mut problems)?;
        let qemu = Timing {
            total: qemu.secs,
            startup: q0,
        };
        rows.push(Row {
            workload: w,
            reps: 1,
            qemu,
            sims,
        });
    }
    header();
    rows.iter().for_each(row);
    println!(
        "xtask: one repetition each: QEMU's start-up dominates its times; `cargo xtask bench --vs-qemu` runs workloads long enough to compare"
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// The next repetition count to try on QEMU after `reps` repetitions took
/// `total` s with a start-up of `startup` s: once the work is at least the
/// start-up, its per-repetition time is trusted and extrapolated to
/// [`AIM_STARTUP_SHARE`] (at least doubling); before that, four times as
/// many.
pub fn next_reps(reps: u32, total: f64, startup: f64) -> u32 {
    let work = total - startup;
    let next = if work >= startup {
        reps_for(startup, work / f64::from(reps), AIM_STARTUP_SHARE).max(reps.saturating_mul(2))
    } else {
        reps.saturating_mul(4)
    };
    next.min(MAX_REPS)
}

/// `cargo xtask bench --vs-qemu`: each workload repeated on plain QEMU until
/// its start-up (`reps=0`, measured again before each workload, as the
/// machine's load drifts) is under 5% of the run, then the same repetitions
/// on hv-sim; same output required. Fails if a workload cannot get there
/// within [`MAX_REPS`].
pub fn vs_qemu(sim: &Path) -> Result<(), String> {
    let image = guest::build_guest(guest::BENCH_GUEST, true)?;
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    for w in WORKLOADS {
        let (q0, s0) = startups(sim, &image)?;
        let mut reps = 1;
        let qemu = loop {
            let run = run_qemu(&image, &format!("bench={w} reps={reps}"))?;
            let share = q0 / run.secs;
            println!(
                "xtask: {w}: {reps} reps on QEMU in {:.2} s, start-up {:.1}%",
                run.secs,
                100.0 * share
            );
            if share < MAX_STARTUP_SHARE || reps >= MAX_REPS || run.code != Some(0) {
                break run;
            }
            reps = next_reps(reps, run.secs, q0);
        };
        let sims = timed_runs(sim, &image, w, reps, &qemu, &s0, &mut problems)?;
        let qemu = Timing {
            total: qemu.secs,
            startup: q0,
        };
        if qemu.startup_share() >= MAX_STARTUP_SHARE {
            problems.push(format!(
                "{w}: QEMU's start-up is still {:.1}% of a {reps}-repetition run",
                100.0 * qemu.startup_share()
            ));
        }
        rows.push(Row {
            workload: w,
            reps,
            qemu,
            sims,
        });
    }
    header();
    rows.iter().for_each(row);
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

    #[test]
    fn reps_put_startup_below_the_share() {
        // 0.1 s start-up, 0.05 s per repetition, under 5%: 0.1 / (0.1 +
        // r * 0.05) < 0.05 needs r > 38, so 39.
        assert_eq!(reps_for(0.1, 0.05, 0.05), 39);
        let share = |r: u32| 0.1 / (0.1 + f64::from(r) * 0.05);
        assert!(share(39) < 0.05 && share(38) >= 0.05);
        // A long workload needs one repetition.
        assert_eq!(reps_for(0.1, 10.0, 0.05), 1);
        // No start-up, nothing to dilute; no measurable work, the cap.
        assert_eq!(reps_for(0.0, 0.05, 0.05), 1);
        assert_eq!(reps_for(0.1, 0.0, 0.05), MAX_REPS);
        assert_eq!(reps_for(10.0, 0.001, 0.05), MAX_REPS);
    }

    #[test]
    fn repetitions_grow_until_start_up_can_be_diluted() {
        // Work (0.05 s) below the start-up (0.2 s): four times as many.
        assert_eq!(next_reps(1, 0.25, 0.2), 4);
        // Work 0.4 s for 4 repetitions (0.1 s each), start-up 0.2 s: under
        // 3.5% needs 0.2 / (0.2 + r * 0.1) < 0.035, r > 55.1: 56.
        assert_eq!(next_reps(4, 0.6, 0.2), 56);
        // At least double, even when the estimate says fewer (noise).
        assert_eq!(next_reps(56, 100.0, 0.2), 112);
        assert_eq!(next_reps(MAX_REPS, 0.3, 0.2), MAX_REPS);
    }

    #[test]
    fn timing_subtracts_startup() {
        let t = Timing {
            total: 2.0,
            startup: 0.5,
        };
        assert_eq!(t.work(), 1.5);
        assert_eq!(t.startup_share(), 0.25);
        // A run faster than the measured start-up (noise): no negative work.
        let t = Timing {
            total: 0.4,
            startup: 0.5,
        };
        assert_eq!(t.work(), 0.0);
        assert_eq!(t.startup_share(), 1.0);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}

//! Guest-level metrics of the performance gate.
//!
//! * `sim-<engine>/<workload>`: a whole guest on hv-sim under callgrind, as
//!   host instructions per guest instruction. Callgrind counts hv-sim's run
//!   loop alone (`--toggle-collect=hv_sim::run::run`: not the process
//!   start-up or the building of the machine); hv-sim reports the guest
//!   instructions the run retired (`--stats`). Both counts are the same on
//!   every run: the guest's counter ticks with its instructions, not with
//!   host time.
//! * `hv-exit/<operation>`: hv-kernel's own instructions per exit, as the
//!   guest's PMU sees them. guest-exitbench in `exitbench=insns` mode reads
//!   INST_RETIRED (counting EL1 and EL2) around 1000 iterations of each
//!   operation, on QEMU with `-icount shift=0,sleep=off` (QEMU's PMU counts
//!   instructions only with precise icount, and then deterministically),
//!   once on plain QEMU (no hv: QEMU itself answers PSCI and emulates the
//!   devices, so only the guest's own instructions count) and once under
//!   hv-kernel. The difference per iteration is what hv executes.

use crate::boot_tests::{boot_guest, build_image, guest_line, hv_guest_args_with, GuestRun};
use crate::image::workspace_root;
use crate::perf::Metric;
use crate::perf_host::{callgrind_total, per_op};
use crate::{exitbench, guest, linux, prereq, sim_tests, Arch};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// hv-sim's CPU engines (`hv-sim run --engine NAME`); every workload runs
/// on each, as `sim-NAME/WORKLOAD`.
pub use crate::sim_tests::HOST_ENGINES as ENGINES;

/// A guest hv-sim runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimGuest {
    /// guest-default (the debug build the boot tests run) with fresh disks:
    /// its virtio-blk, exception and GIC tests.
    Default,
    /// guest-bench's workload `bench=NAME size=small`.
    Bench(&'static str),
    /// Debian's Linux and the test initramfs, up to the console marker
    /// [`linux::MARKER`] (`hv-sim run --stop-at`).
    Linux,
}

/// One whole-guest workload.
pub struct SimWorkload {
    /// The metric's name after `sim-<engine>/`.
    pub name: &'static str,
    pub guest: SimGuest,
    /// Only in the full gate (`cargo xtask perf`), not in `--fast`.
    pub full_only: bool,
    /// Guest instructions after which the run counts as hung (a bound, not
    /// a measurement: the workloads take far fewer).
    pub max_insns: u64,
}

const fn bench(name: &'static str, workload: &'static str) -> SimWorkload {
    SimWorkload {
        name,
        guest: SimGuest::Bench(workload),
        full_only: false,
        max_insns: 100_000_000,
    }
}

/// The whole-guest workloads, longest first (they run two at a time).
pub const SIM_WORKLOADS: &[SimWorkload] = &[
    SimWorkload {
        name: "linux-boot",
        guest: SimGuest::Linux,
        full_only: true,
        max_insns: 10_000_000_000,
    },
    SimWorkload {
        name: "default-guest",
        guest: SimGuest::Default,
        full_only: false,
        max_insns: 100_000_000,
    },
    bench("bench-sieve", "sieve"),
    bench("bench-sha256", "sha256"),
    bench("bench-qsort", "qsort"),
    bench("bench-crc32", "crc32"),
    bench("bench-matmul", "matmul"),
    bench("bench-mandel", "mandel"),
    bench("bench-printf", "printf"),
];

/// What `sim-*` metrics count per.
pub const SIM_UNIT: &str = "host-instr/guest-instr";

/// The exitbench operations measured, with what one iteration is. The
/// guest's `ram-load` ([`REFERENCE_OP`]) is not among them: it makes no
/// exit and serves as a check.
pub const EXIT_OPS: &[(&str, &str)] = &[
    ("hvc", "instr/exit"),
    ("mmio-uart", "instr/exit"),
    ("mmio-gicd", "instr/exit"),
    ("mmio-gicr", "instr/exit"),
    ("self-ipi", "instr/ipi"),
    ("sgi-pingpong", "instr/round-trip"),
];

/// The operation without an exit: hv must add no instruction to it (if it
/// does, something besides the operations is being counted).
pub const REFERENCE_OP: &str = "ram-load";

/// QEMU's options for deterministic instruction counts: one instruction per
/// virtual nanosecond, and idle time skipped instead of slept through (with
/// sleep, the virtual clock follows the host's when all vCPUs wait).
pub const ICOUNT: [&str; 2] = ["-icount", "shift=0,sleep=off"];

/// The guest command line that makes guest-exitbench count instructions.
pub const EXITBENCH_INSNS: &str = "exitbench=insns";

/// Seconds each QEMU run of the exit counts may take (they take 1-3 s).
const QEMU_TIMEOUT_S: u32 = 300;

/// The guest metrics; `full` adds the workloads too slow for every test
/// run (Linux on hv-sim).
pub fn collect(full: bool) -> Result<Vec<Metric>, String> {
    let start = Instant::now();
    let mut metrics = sim_metrics(full)?;
    println!(
        "xtask: perf: the hv-sim workloads took {:.0} s",
        start.elapsed().as_secs_f64()
    );
    let start = Instant::now();
    metrics.extend(exit_metrics()?);
    println!(
        "xtask: perf: hv-kernel's exit counts took {:.0} s",
        start.elapsed().as_secs_f64()
    );
    Ok(metrics)
}

fn perf_dir() -> Result<PathBuf, String> {
    let dir = workspace_root().join("target/xtask/perf/guests");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// What the workloads boot.
struct Images {
    sim: PathBuf,
    default: PathBuf,
    bench: PathBuf,
    /// (kernel Image, initramfs), when Linux is measured.
    linux: Option<(PathBuf, PathBuf)>,
}

/// hv-sim's arguments for `w` (disks are created afresh under `dir`).
fn sim_args(
    w: &SimWorkload,
    engine: &str,
    images: &Images,
    dir: &Path,
) -> Result<Vec<String>, String> {
    let path = |p: &Path| p.display().to_string();
    let disk = |suffix: &str, bytes: u64| -> Result<String, String> {
        let p = dir.join(format!("sim-{engine}-{}-{suffix}.img", w.name));
        guest::create_disk(&p, bytes)?;
        Ok(path(&p))
    };
    let mut args = match w.guest {
        SimGuest::Default => vec![
            path(&images.default),
            "--disk".into(),
            disk("disk", 8 << 20)?,
            "--ro-disk".into(),
            disk("ro", 1 << 20)?,
        ],
        SimGuest::Bench(name) => vec![
            path(&images.bench),
            "--cmdline".into(),
            format!("bench={name} size=small"),
        ],
        SimGuest::Linux => {
            let (kernel, initrd) = images
                .linux
                .as_ref()
                .ok_or("the Linux guest was not prepared")?;
            vec![
                path(kernel),
                "--initrd".into(),
                path(initrd),
                "--cmdline".into(),
                linux::cmdline(false),
                "--mem".into(),
                "512M".into(),
                "--disk".into(),
                disk("disk", 64 << 20)?,
                "--stop-at".into(),
                linux::MARKER.into(),
            ]
        }
    };
    args.extend([
        "--engine".into(),
        engine.into(),
        "--max-insns".into(),
        w.max_insns.to_string(),
    ]);
    Ok(args)
}

/// What `hv-sim run --stats` wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimStats {
    pub outcome: String,
    pub guest_insns: u64,
}

/// Parse `hv-sim run --stats` output (one line of JSON).
pub fn parse_stats(text: &str) -> Result<SimStats, String> {
    let v: serde_json::Value =
        serde_json::from_str(text.trim()).map_err(|e| format!("stats: {e}"))?;
    Ok(SimStats {
        outcome: v["outcome"]
            .as_str()
            .ok_or("stats: no `outcome`")?
            .to_string(),
        guest_insns: v["guest_insns"].as_u64().ok_or("stats: no `guest_insns`")?,
    })
}

/// Check a finished run: the outcome `w` must end with, and for the test
/// guests their PASS.
pub fn check_sim_run(w: &SimWorkload, stats: &SimStats, console: &str) -> Result<(), String> {
    let want = match w.guest {
        SimGuest::Linux => "marker",
        SimGuest::Default | SimGuest::Bench(_) => "power-off",
    };
    if stats.outcome != want {
        return Err(format!(
            "the run ended with {:?}, not {want:?}",
            stats.outcome
        ));
    }
    if w.guest != SimGuest::Linux && !console.lines().any(|l| guest_line(l) == "PASS") {
        return Err("the guest did not print PASS".into());
    }
    if stats.guest_insns == 0 {
        return Err("hv-sim retired no guest instruction".into());
    }
    Ok(())
}

/// One workload on one engine under callgrind: host instructions of the
/// run loop per guest instruction.
fn count_sim(w: &SimWorkload, engine: &str, images: &Images, dir: &Path) -> Result<Metric, String> {
    let name = format!("sim-{engine}/{}", w.name);
    let start = Instant::now();
    let out_file = dir.join(format!("sim-{engine}-{}.callgrind", w.name));
    let stats_file = dir.join(format!("sim-{engine}-{}.json", w.name));
    let _ = std::fs::remove_file(&stats_file);
    let mut cmd = Command::new("valgrind");
    cmd.arg("--tool=callgrind");
    if engine == "jit" {
        // The JIT patches its code through a second mapping of the arena
        // (chaining, unchaining); valgrind only sees such changes when it
        // checks all code, else it runs stale translations.
        cmd.arg("--smc-check=all");
    }
    cmd.arg("--collect-atstart=no")
        .arg("--toggle-collect=hv_sim::run::run")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(&images.sim)
        .arg("run")
        .args(sim_args(w, engine, images, dir)?)
        .arg("--stats")
        .arg(&stats_file)
        .stdin(std::process::Stdio::null());
    let shown = format!("{cmd:?}").replace('"', "");
    let out = cmd
        .output()
        .map_err(|e| format!("could not start valgrind: {e}"))?;
    let console = String::from_utf8_lossy(&out.stdout).into_owned();
    let fail = |why: String| {
        let tail: Vec<&str> = console.lines().rev().take(15).collect();
        format!(
            "{name}: {why}\n  {shown}\n  exit {:?}; the console's last lines:\n{}\n{}",
            out.status.code(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .filter(|l| !l.starts_with("=="))
                .collect::<Vec<_>>()
                .join("\n")
        )
    };
    let stats = std::fs::read_to_string(&stats_file)
        .map_err(|e| format!("{}: {e}", stats_file.display()))
        .and_then(|t| parse_stats(&t))
        .map_err(fail)?;
    check_sim_run(w, &stats, &console).map_err(fail)?;
    let text =
        std::fs::read_to_string(&out_file).map_err(|e| format!("{}: {e}", out_file.display()))?;
    let host = callgrind_total(&text)
        .filter(|&t| t > 0)
        .ok_or_else(|| fail(format!("{} counted nothing", out_file.display())))?;
    let value = per_op(host, stats.guest_insns);
    println!(
        "xtask: {name}: {host} host instructions for {} guest instructions: {value:.2} each \
         ({:.0} s)",
        stats.guest_insns,
        start.elapsed().as_secs_f64()
    );
    Ok(Metric {
        name,
        value,
        unit: SIM_UNIT,
    })
}

/// `f` on every item, `threads` at a time; results in the items' order.
fn parallel<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, items.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                results.lock().expect("no panics while locked")[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .expect("no panics while locked")
        .into_iter()
        .map(|r| r.expect("every item ran"))
        .collect()
}

/// Every whole-guest workload (of the fast part unless `full`) on every
/// engine, two at a time (callgrind's counts do not depend on the load).
fn sim_metrics(full: bool) -> Result<Vec<Metric>, String> {
    prereq::for_valgrind()?;
    prereq::rust_target(guest::GUEST_TRIPLE)?;
    let workloads: Vec<&SimWorkload> = SIM_WORKLOADS
        .iter()
        .filter(|w| full || !w.full_only)
        .collect();
    let images = Images {
        sim: sim_tests::build()?,
        default: guest::build_test_guest(guest::DEFAULT_GUEST)?,
        bench: guest::build_guest(guest::BENCH_GUEST, true)?,
        linux: if workloads.iter().any(|w| w.guest == SimGuest::Linux) {
            Some(linux::prepare(None, None)?)
        } else {
            None
        },
    };
    let dir = perf_dir()?;
    let jobs: Vec<(&str, &SimWorkload)> = ENGINES
        .iter()
        .flat_map(|e| workloads.iter().map(move |w| (*e, *w)))
        .collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
    println!(
        "xtask: {} whole-guest runs on hv-sim under callgrind, {threads} at a time",
        jobs.len()
    );
    parallel(&jobs, threads, |(engine, w)| {
        count_sim(w, engine, &images, &dir)
    })
    .into_iter()
    .collect()
}

/// One `exitbench-insns` figure: instructions over iterations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InsnCount {
    pub total: u64,
    pub iterations: u64,
}

/// The `exitbench-insns NAME: N instructions in I iterations` lines:
/// (name, count or the failure text), in order. A line without a name
/// (`exitbench-insns: FAIL (...)`: the PMU cannot count) comes back with
/// the name "".
pub fn parse_insns(output: &str) -> Vec<(String, Result<InsnCount, String>)> {
    output
        .lines()
        .map(guest_line)
        .filter_map(|l| {
            let rest = l.strip_prefix("exitbench-insns")?;
            if let Some(why) = rest.strip_prefix(": ") {
                return Some((String::new(), Err(why.to_string())));
            }
            let (name, value) = rest.strip_prefix(' ')?.split_once(": ")?;
            let count = value
                .strip_suffix(" iterations")
                .and_then(|v| v.split_once(" instructions in "))
                .and_then(|(n, i)| {
                    Some(InsnCount {
                        total: n.parse().ok()?,
                        iterations: i.parse().ok()?,
                    })
                })
                .ok_or_else(|| value.to_string());
            Some((name.to_string(), count))
        })
        .collect()
}

/// The counts of one run by operation, or why the run is unusable.
fn run_counts(place: &str, run: &GuestRun) -> Result<Vec<(String, InsnCount)>, String> {
    if run.code == Some(124) {
        return Err(format!("{place}: timed out"));
    }
    let mut counts = Vec::new();
    for (name, count) in parse_insns(&run.text) {
        match count {
            Ok(c) => counts.push((name, c)),
            Err(why) if name.is_empty() => return Err(format!("{place}: {why}")),
            Err(why) => return Err(format!("{place}: {name}: {why}")),
        }
    }
    if !run.text.lines().any(|l| guest_line(l) == "PASS") {
        return Err(format!("{place}: no PASS (exit {:?})", run.code));
    }
    Ok(counts)
}

/// One row of the exit table: (operation, plain QEMU per iteration, under
/// hv per iteration).
pub type ExitRow = (String, f64, f64);

/// hv's own instructions per operation from the plain QEMU and hv-kernel
/// runs, and the table rows; an error if either run failed, an operation
/// is missing, or the reference operation differs (something besides the
/// operations was counted).
pub fn hv_exit_metrics(
    plain: &GuestRun,
    hv: &GuestRun,
) -> Result<(Vec<Metric>, Vec<ExitRow>), String> {
    let plain = run_counts("plain QEMU", plain)?;
    let hv = run_counts("hv-kernel", hv)?;
    let find = |counts: &[(String, InsnCount)], place: &str, op: &str| {
        counts
            .iter()
            .find(|(n, _)| n == op)
            .map(|(_, c)| *c)
            .ok_or_else(|| format!("{place}: no count for {op}"))
    };
    let mut metrics = Vec::new();
    let mut rows = Vec::new();
    for (op, unit) in std::iter::once(&(REFERENCE_OP, "")).chain(EXIT_OPS) {
        let (p, h) = (find(&plain, "plain QEMU", op)?, find(&hv, "hv-kernel", op)?);
        if p.iterations != h.iterations || p.iterations == 0 {
            return Err(format!(
                "{op}: {} iterations on plain QEMU, {} under hv-kernel",
                p.iterations, h.iterations
            ));
        }
        rows.push((
            op.to_string(),
            per_op(p.total, p.iterations),
            per_op(h.total, h.iterations),
        ));
        if *op == REFERENCE_OP {
            if p.total != h.total {
                return Err(format!(
                    "{op} (no exit) counted {} instructions under hv-kernel and {} on plain \
                     QEMU: something besides the operations is counted",
                    h.total, p.total
                ));
            }
            continue;
        }
        let own = h.total.checked_sub(p.total).ok_or_else(|| {
            format!(
                "{op}: fewer instructions under hv-kernel ({}) than on plain QEMU ({})",
                h.total, p.total
            )
        })?;
        metrics.push(Metric {
            name: format!("hv-exit/{op}"),
            value: per_op(own, h.iterations),
            unit,
        });
    }
    Ok((metrics, rows))
}

/// The exit table: operation | plain QEMU | hv-kernel | hv's own.
pub fn exit_table(rows: &[ExitRow]) -> String {
    let mut out = String::from(
        "| operation | plain QEMU instr/op | under hv-kernel instr/op | hv's own |\n\
         |---|---:|---:|---:|\n",
    );
    for (op, plain, hv) in rows {
        out += &format!("| {op} | {plain:.2} | {hv:.2} | {:.2} |\n", hv - plain);
    }
    out
}

/// guest-exitbench in `exitbench=insns` mode on plain QEMU and under the
/// release hv-kernel, both with `-icount`: hv's instructions per exit.
fn exit_metrics() -> Result<Vec<Metric>, String> {
    prereq::for_build(Arch::Aarch64)?;
    prereq::for_qemu(&[Arch::Aarch64])?;
    let image = guest::build_guest(exitbench::GUEST, true)?;
    let hv = build_image(Arch::Aarch64, false, true)?;
    let icount: Vec<String> = ICOUNT.iter().map(|s| s.to_string()).collect();
    let append = ["-append".to_string(), EXITBENCH_INSNS.to_string()];
    println!(
        "xtask: {} ({EXITBENCH_INSNS}) on plain QEMU (EL1, 2 CPUs, {})",
        exitbench::GUEST,
        ICOUNT.join(" ")
    );
    let plain = boot_guest(
        &image,
        true,
        2,
        &[&icount[..], &append].concat(),
        QEMU_TIMEOUT_S,
    )?;
    println!("xtask: ... {:.1} s", plain.secs);
    println!("xtask: the same under hv-kernel (release, 2 vCPUs)");
    let guest_args = hv_guest_args_with(&image, "exitbench-insns", EXITBENCH_INSNS)?;
    let under_hv = boot_guest(
        &hv,
        false,
        2,
        &[icount, guest_args].concat(),
        QEMU_TIMEOUT_S,
    )?;
    println!("xtask: ... {:.1} s", under_hv.secs);
    let (metrics, rows) = hv_exit_metrics(&plain, &under_hv).map_err(|e| {
        format!(
            "{e}\n----- plain QEMU -----\n{}\n----- hv-kernel -----\n{}",
            plain.text.trim_end(),
            under_hv.text.trim_end()
        )
    })?;
    println!("\n{}", exit_table(&rows));
    Ok(metrics)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> GuestRun {
        GuestRun {
            text: text.to_string(),
            code: Some(0),
            secs: 0.0,
        }
    }

    #[test]
    fn stats_are_read() {
        let json = "{\"engine\": \"interp\", \"outcome\": \"power-off\", \"exit_code\": 0, \
                    \"guest_insns\": 2557832, \"host_seconds\": 0.300000}\n";
        assert_eq!(
            parse_stats(json),
            Ok(SimStats {
                outcome: "power-off".into(),
                guest_insns: 2_557_832
            })
        );
        assert!(parse_stats("{\"outcome\": \"marker\"}").is_err());
        assert!(parse_stats("hv-sim: 5 instructions").is_err());
    }

    #[test]
    fn sim_runs_must_end_as_their_workload_does() {
        let stats = |outcome: &str, n| SimStats {
            outcome: outcome.into(),
            guest_insns: n,
        };
        let default = &SIM_WORKLOADS[1];
        let linux = &SIM_WORKLOADS[0];
        assert_eq!(default.guest, SimGuest::Default);
        assert_eq!(linux.guest, SimGuest::Linux);
        assert_eq!(
            check_sim_run(default, &stats("power-off", 9), "x\nPASS\n"),
            Ok(())
        );
        assert!(check_sim_run(default, &stats("power-off", 9), "FAIL\n").is_err());
        assert!(check_sim_run(default, &stats("reset", 9), "PASS\n").is_err());
        assert!(check_sim_run(default, &stats("power-off", 0), "PASS\n").is_err());
        assert_eq!(
            check_sim_run(linux, &stats("marker", 9), "HV-LINUX"),
            Ok(())
        );
        assert!(check_sim_run(linux, &stats("insn-limit", 9), "").is_err());
    }

    #[test]
    fn every_benchmark_workload_is_measured_and_names_are_unique() {
        for w in sim_tests::WORKLOADS {
            assert!(
                SIM_WORKLOADS
                    .iter()
                    .any(|s| s.guest == SimGuest::Bench(w) && s.name == format!("bench-{w}")),
                "{w}"
            );
        }
        for (i, w) in SIM_WORKLOADS.iter().enumerate() {
            assert!(
                SIM_WORKLOADS[..i].iter().all(|o| o.name != w.name),
                "{}",
                w.name
            );
        }
        // Only Linux is too slow for the fast part.
        assert!(SIM_WORKLOADS
            .iter()
            .all(|w| w.full_only == (w.guest == SimGuest::Linux)));
    }

    #[test]
    fn sim_arguments_select_engine_size_and_marker() {
        let dir = std::env::temp_dir().join(format!("xtask-perf-guests-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let images = Images {
            sim: "hv-sim".into(),
            default: "default.img".into(),
            bench: "bench.img".into(),
            linux: Some(("Image".into(), "initramfs.cpio".into())),
        };
        let sieve = SIM_WORKLOADS
            .iter()
            .find(|w| w.name == "bench-sieve")
            .unwrap();
        let args = sim_args(sieve, "interp", &images, &dir).unwrap();
        assert_eq!(
            args,
            [
                "bench.img",
                "--cmdline",
                "bench=sieve size=small",
                "--engine",
                "interp",
                "--max-insns",
                "100000000"
            ]
        );
        let args = sim_args(&SIM_WORKLOADS[0], "interp", &images, &dir).unwrap();
        let marker = args.iter().position(|a| a == "--stop-at").unwrap();
        assert_eq!(args[marker + 1], linux::MARKER);
        let disk = args.iter().position(|a| a == "--disk").unwrap();
        assert_eq!(std::fs::metadata(&args[disk + 1]).unwrap().len(), 64 << 20);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn parallel_keeps_the_order() {
        let items: Vec<u32> = (0..20).collect();
        assert_eq!(
            parallel(&items, 3, |x| x * 2),
            (0..20).map(|x| x * 2).collect::<Vec<_>>()
        );
        assert_eq!(parallel(&[] as &[u32], 2, |x| *x), Vec::<u32>::new());
    }

    #[test]
    fn insn_lines_are_parsed() {
        let out = "exitbench: counter 62500000 Hz\n\
                   [guest] exitbench-insns hvc: 166006 instructions in 1000 iterations\n\
                   exitbench hvc: 1234 ns/op (1000 iterations)\n\
                   exitbench-insns self-ipi: FAIL (SGI to CPU 0 lost)\n\
                   exitbench-insns: FAIL (the PMU does not count INST_RETIRED)\n";
        assert_eq!(
            parse_insns(out),
            vec![
                (
                    "hvc".to_string(),
                    Ok(InsnCount {
                        total: 166_006,
                        iterations: 1000
                    })
                ),
                (
                    "self-ipi".to_string(),
                    Err("FAIL (SGI to CPU 0 lost)".to_string())
                ),
                (
                    String::new(),
                    Err("FAIL (the PMU does not count INST_RETIRED)".to_string())
                ),
            ]
        );
    }

    /// Output of a run with `per_op[i]` instructions per iteration for
    /// [`REFERENCE_OP`] then [`EXIT_OPS`].
    fn insns_output(per_op: &[u64], mark: &str) -> String {
        let mut out = String::new();
        for ((op, _), n) in std::iter::once(&(REFERENCE_OP, ""))
            .chain(EXIT_OPS)
            .zip(per_op)
        {
            out += &format!(
                "{mark}exitbench-insns {op}: {} instructions in 1000 iterations\n",
                n * 1000 + 6
            );
        }
        out + mark + "PASS\n"
    }

    #[test]
    fn hv_own_instructions_are_the_difference() {
        let plain = run(&insns_output(&[14, 37, 15, 15, 15, 166, 319], ""));
        let hv = run(&insns_output(
            &[14, 166, 333, 242, 274, 1236, 3989],
            "[guest] ",
        ));
        let (metrics, rows) = hv_exit_metrics(&plain, &hv).unwrap();
        let got: Vec<(&str, f64, &str)> = metrics
            .iter()
            .map(|m| (m.name.as_str(), m.value, m.unit))
            .collect();
        assert_eq!(
            got,
            [
                ("hv-exit/hvc", 129.0, "instr/exit"),
                ("hv-exit/mmio-uart", 318.0, "instr/exit"),
                ("hv-exit/mmio-gicd", 227.0, "instr/exit"),
                ("hv-exit/mmio-gicr", 259.0, "instr/exit"),
                ("hv-exit/self-ipi", 1070.0, "instr/ipi"),
                ("hv-exit/sgi-pingpong", 3670.0, "instr/round-trip"),
            ]
        );
        assert_eq!(rows[0], ("ram-load".to_string(), 14.01, 14.01));
        let table = exit_table(&rows);
        assert!(
            table.contains("| hvc | 37.01 | 166.01 | 129.00 |"),
            "{table}"
        );
    }

    #[test]
    fn unusable_exit_runs_are_errors() {
        let plain = run(&insns_output(&[14, 37, 15, 15, 15, 166, 319], ""));
        let good = insns_output(&[14, 166, 333, 242, 274, 1236, 3989], "");
        // The reference operation moved: something else was counted.
        let noisy = run(&insns_output(&[15, 166, 333, 242, 274, 1236, 3989], ""));
        assert!(hv_exit_metrics(&plain, &noisy)
            .unwrap_err()
            .contains("ram-load"));
        // No PASS, a timeout, a failed operation, a missing one.
        let no_pass = run(good.trim_end_matches("PASS\n"));
        assert!(hv_exit_metrics(&plain, &no_pass)
            .unwrap_err()
            .contains("no PASS"));
        let mut timed_out = run(&good);
        timed_out.code = Some(124);
        assert!(hv_exit_metrics(&plain, &timed_out)
            .unwrap_err()
            .contains("timed out"));
        let failed = run(&good.replace(
            "exitbench-insns hvc: 166006 instructions in 1000 iterations",
            "exitbench-insns hvc: FAIL (PSCI_VERSION returned 0x0)",
        ));
        assert!(hv_exit_metrics(&plain, &failed)
            .unwrap_err()
            .contains("hvc: FAIL"));
        let missing = run(&good.replace("exitbench-insns mmio-gicr", "exitbench-other mmio-gicr"));
        assert!(hv_exit_metrics(&plain, &missing)
            .unwrap_err()
            .contains("no count for mmio-gicr"));
        let no_pmu = run("exitbench-insns: FAIL (no PMUv3)\nFAIL\n");
        assert!(hv_exit_metrics(&no_pmu, &run(&good))
            .unwrap_err()
            .contains("no PMUv3"));
    }
}

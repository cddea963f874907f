//! `cargo xtask perf`: the deterministic performance gate.
//!
//! Every metric is a count of instructions (callgrind for the host
//! operations and for hv-sim running whole guests, QEMU's `-icount` PMU
//! for hv-kernel's exits), which is the same on every run of the same
//! binary whatever else the machine does, so the counts are compared with
//! a committed baseline (`benches/baseline.json`) and a regression fails
//! the gate. Metrics come from a list of sources ([`SOURCES`]);
//! [`collect_all`] gathers them.

use crate::image::workspace_root;
use crate::perf_host::{self, Build};
use crate::PerfArgs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// One measured figure: a deterministic count per operation.
#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    /// `group/name`, e.g. `tlb/hit`.
    pub name: String,
    /// The count (instructions per operation, to 2 decimals).
    pub value: f64,
    /// What the count is per, e.g. `instr/lookup`.
    pub unit: &'static str,
}

/// The committed baseline, relative to the workspace root.
pub const BASELINE: &str = "benches/baseline.json";

/// A count that grows by more than this (percent) is reported as a warning.
///
/// Callgrind counts were identical in every repeated run on the
/// development machine (loaded or idle, different environments and working
/// directories): the run-to-run variation is zero, so the thresholds need
/// no room for noise. Any change is a change of the code (or of the
/// toolchain, see [`Toolchain`]); 5% is one or two instructions on the
/// shortest paths (a 14-instruction guest read, a 30-instruction TLB hit).
pub const WARN_PCT: f64 = 5.0;
/// A count that grows by more than this (percent) fails the gate.
pub const FAIL_PCT: f64 = 10.0;

/// A source of metrics: a key (`cargo xtask perf --only KEY`), a name for
/// messages and what collects them. The argument is `full`: false for the
/// fast part of the gate (what `cargo xtask test` runs), true for all of
/// it.
pub struct Source {
    pub key: &'static str,
    pub name: &'static str,
    pub collect: fn(bool) -> Result<Vec<Metric>, String>,
}

/// Every metric source of the gate, in report order.
pub const SOURCES: &[Source] = &[
    Source {
        key: "host",
        name: "host operations (callgrind)",
        collect: host_metrics,
    },
    Source {
        key: "guests",
        name: "guests (hv-sim under callgrind; hv-kernel's exits under QEMU -icount)",
        collect: crate::perf_guests::collect,
    },
];

fn host_metrics(_full: bool) -> Result<Vec<Metric>, String> {
    perf_host::collect(Build::Normal)
}

/// The metrics of every source (`full`: the whole gate, not only its fast
/// part).
pub fn collect_all(full: bool) -> Result<Vec<Metric>, String> {
    collect(full, None)
}

/// The metrics of every source, or of the one whose key is `only`.
fn collect(full: bool, only: Option<&str>) -> Result<Vec<Metric>, String> {
    if let Some(key) = only {
        if SOURCES.iter().all(|s| s.key != key) {
            let keys: Vec<&str> = SOURCES.iter().map(|s| s.key).collect();
            return Err(format!(
                "no metric source {key:?} (sources: {})",
                keys.join(", ")
            ));
        }
    }
    let mut all = Vec::new();
    for source in SOURCES.iter().filter(|s| only.is_none_or(|k| k == s.key)) {
        println!("\nxtask: perf: {}", source.name);
        let metrics = (source.collect)(full).map_err(|e| format!("{}: {e}", source.name))?;
        all.extend(metrics);
    }
    Ok(all)
}

/// What a count depends on besides the code: a different compiler, valgrind
/// or CPU model changes counts (glibc picks its memcpy by CPU features,
/// which moves the copy-heavy counts), and so may another QEMU (the exit
/// counts run on its `-cpu max`, whose features steer hv's and the guest's
/// code), so a mismatch with the baseline turns failures into warnings: CI
/// on another machine kind must not go red for a reason that is not a code
/// change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toolchain {
    pub rustc: String,
    pub valgrind: String,
    pub cpu: String,
    /// `qemu-system-aarch64 --version`'s first line ("" in baselines from
    /// before the exit counts).
    pub qemu: String,
}

impl Toolchain {
    /// What this machine has.
    pub fn current() -> Result<Toolchain, String> {
        Ok(Toolchain {
            rustc: first_line_of("rustc", &["-V"])?,
            valgrind: first_line_of("valgrind", &["--version"])
                .unwrap_or_else(|_| "valgrind not installed".into()),
            cpu: std::fs::read_to_string("/proc/cpuinfo")
                .ok()
                .and_then(|t| {
                    t.lines()
                        .find_map(|l| l.strip_prefix("model name"))
                        .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_string())
                })
                .unwrap_or_else(|| "unknown".into()),
            qemu: first_line_of("qemu-system-aarch64", &["--version"])
                .unwrap_or_else(|_| "qemu-system-aarch64 not installed".into()),
        })
    }

    /// Whether counts taken with `self` and `other` may be compared strictly.
    pub fn comparable(&self, other: &Toolchain) -> bool {
        self.rustc == other.rustc
            && self.valgrind == other.valgrind
            && self.cpu == other.cpu
            && self.qemu == other.qemu
    }
}

fn first_line_of(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .current_dir(workspace_root())
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if !out.status.success() {
        return Err(format!("`{program} {}` failed", args.join(" ")));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string())
}

/// A metric as the baseline records it.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    pub name: String,
    pub value: f64,
    pub unit: String,
}

impl From<&Metric> for Recorded {
    fn from(m: &Metric) -> Self {
        Recorded {
            name: m.name.clone(),
            value: m.value,
            unit: m.unit.to_string(),
        }
    }
}

/// The contents of `benches/baseline.json`.
#[derive(Clone, Debug, PartialEq)]
pub struct Baseline {
    /// When it was taken (UTC, YYYY-MM-DD).
    pub date: String,
    pub toolchain: Toolchain,
    pub metrics: Vec<Recorded>,
}

const ABOUT: &str = "Instruction counts per operation of `cargo xtask perf` (see README, \
                     Performance gate). Rewrite with `cargo xtask perf --update`; the commit \
                     that changes this file says why.";

impl Baseline {
    /// JSON with one metric per line, so a commit's diff shows exactly
    /// which counts moved.
    pub fn to_json(&self) -> String {
        let s = |v: &str| serde_json::Value::from(v).to_string();
        let mut out = String::from("{\n");
        out += &format!("  \"about\": {},\n", s(ABOUT));
        out += &format!("  \"date\": {},\n", s(&self.date));
        out += &format!("  \"rustc\": {},\n", s(&self.toolchain.rustc));
        out += &format!("  \"valgrind\": {},\n", s(&self.toolchain.valgrind));
        out += &format!("  \"cpu\": {},\n", s(&self.toolchain.cpu));
        out += &format!("  \"qemu\": {},\n", s(&self.toolchain.qemu));
        out += "  \"metrics\": [\n";
        for (i, m) in self.metrics.iter().enumerate() {
            out += &format!(
                "    {{\"name\": {}, \"value\": {}, \"unit\": {}}}{}\n",
                s(&m.name),
                serde_json::Value::from(m.value),
                s(&m.unit),
                if i + 1 < self.metrics.len() { "," } else { "" }
            );
        }
        out += "  ]\n}\n";
        out
    }

    pub fn from_json(text: &str) -> Result<Baseline, String> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let field = |name: &str| -> Result<String, String> {
            v[name]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("no string `{name}`"))
        };
        let metrics = v["metrics"]
            .as_array()
            .ok_or("no `metrics` list")?
            .iter()
            .map(|m| {
                Ok(Recorded {
                    name: m["name"].as_str().ok_or("a metric without a name")?.into(),
                    value: m["value"].as_f64().ok_or("a metric without a value")?,
                    unit: m["unit"].as_str().unwrap_or("").into(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Baseline {
            date: field("date")?,
            toolchain: Toolchain {
                rustc: field("rustc")?,
                valgrind: field("valgrind")?,
                cpu: field("cpu").unwrap_or_default(),
                qemu: field("qemu").unwrap_or_default(),
            },
            metrics,
        })
    }
}

fn baseline_path() -> PathBuf {
    workspace_root().join(BASELINE)
}

/// The committed baseline, None if there is none yet.
pub fn read_baseline(path: &Path) -> Result<Option<Baseline>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Baseline::from_json(&text)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// How a metric compares with its baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Exactly the baseline's count.
    Same,
    /// Changed by at most [`WARN_PCT`] either way.
    Within,
    /// Dropped by more than [`WARN_PCT`]: worth recording with `--update`.
    Improved,
    /// Grew by more than [`WARN_PCT`], at most [`FAIL_PCT`].
    Warn,
    /// Grew by more than [`FAIL_PCT`].
    Fail,
    /// Measured, but not in the baseline.
    New,
    /// In the baseline, but not measured by this run.
    NotRun,
}

/// One line of the comparison table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub name: String,
    pub unit: String,
    pub baseline: Option<f64>,
    pub now: Option<f64>,
    pub verdict: Verdict,
}

impl Row {
    /// The change from the baseline, in percent.
    pub fn change_pct(&self) -> Option<f64> {
        change_pct(self.baseline?, self.now?)
    }
}

fn change_pct(base: f64, now: f64) -> Option<f64> {
    (base != 0.0).then(|| (now - base) / base * 100.0)
}

/// The verdict on a count that went from `base` to `now`.
pub fn judge(base: f64, now: f64) -> Verdict {
    if base == now {
        return Verdict::Same;
    }
    match change_pct(base, now) {
        None => Verdict::Fail, // from zero to something
        Some(p) if p > FAIL_PCT => Verdict::Fail,
        Some(p) if p > WARN_PCT => Verdict::Warn,
        Some(p) if p < -WARN_PCT => Verdict::Improved,
        Some(_) => Verdict::Within,
    }
}

/// Compare `now` with `baseline`: one row per measured metric in its
/// order, then the baseline's metrics this run did not measure.
pub fn compare(baseline: &[Recorded], now: &[Metric]) -> Vec<Row> {
    let mut rows: Vec<Row> = now
        .iter()
        .map(|m| {
            let base = baseline.iter().find(|b| b.name == m.name);
            Row {
                name: m.name.clone(),
                unit: m.unit.to_string(),
                baseline: base.map(|b| b.value),
                now: Some(m.value),
                verdict: base.map_or(Verdict::New, |b| judge(b.value, m.value)),
            }
        })
        .collect();
    rows.extend(
        baseline
            .iter()
            .filter(|b| now.iter().all(|m| m.name != b.name))
            .map(|b| Row {
                name: b.name.clone(),
                unit: b.unit.clone(),
                baseline: Some(b.value),
                now: None,
                verdict: Verdict::NotRun,
            }),
    );
    rows
}

/// The comparison as a Markdown table (metric | baseline | now | change %).
pub fn table(rows: &[Row]) -> String {
    let num = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.2}"));
    let lines: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            let change = match (r.verdict, r.change_pct()) {
                (Verdict::Same, _) => "0.00%".to_string(),
                (_, Some(p)) => format!("{p:+.2}%"),
                (_, None) => "–".to_string(),
            };
            let verdict = match r.verdict {
                Verdict::Same | Verdict::Within => "ok",
                Verdict::Improved => "improved",
                Verdict::Warn => "WARN",
                Verdict::Fail => "FAIL",
                Verdict::New => "new",
                Verdict::NotRun => "not run",
            };
            [
                format!("{} ({})", r.name, r.unit),
                num(r.baseline),
                num(r.now),
                change,
                verdict.to_string(),
            ]
        })
        .collect();
    let head = [
        "metric".to_string(),
        "baseline".into(),
        "now".into(),
        "change".into(),
        "verdict".into(),
    ];
    let width = |i: usize| {
        lines
            .iter()
            .chain(std::iter::once(&head))
            .map(|l| l[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let w: Vec<usize> = (0..5).map(width).collect();
    let fmt = |l: &[String; 5]| {
        format!(
            "| {:<a$} | {:>b$} | {:>c$} | {:>d$} | {:<e$} |",
            l[0],
            l[1],
            l[2],
            l[3],
            l[4],
            a = w[0],
            b = w[1],
            c = w[2],
            d = w[3],
            e = w[4]
        )
    };
    let mut out = vec![
        fmt(&head),
        format!(
            "|{}|{}:|{}:|{}:|{}|",
            "-".repeat(w[0] + 2),
            "-".repeat(w[1] + 1),
            "-".repeat(w[2] + 1),
            "-".repeat(w[3] + 1),
            "-".repeat(w[4] + 2)
        ),
    ];
    out.extend(lines.iter().map(fmt));
    out.join("\n")
}

fn names(rows: &[Row], verdict: Verdict) -> Vec<String> {
    rows.iter()
        .filter(|r| r.verdict == verdict)
        .map(|r| match r.change_pct() {
            Some(p) => format!("{} ({p:+.1}%)", r.name),
            None => r.name.clone(),
        })
        .collect()
}

/// The gate's decision on `rows` (compared with `against`), printing what
/// needs saying. `strict`: the toolchain is the baseline's, so a regression
/// above [`FAIL_PCT`] fails; otherwise it is a loud warning. `full`: every
/// source ran, so a baseline metric that was not measured is worth a note.
pub fn decide(rows: &[Row], against: &str, strict: bool, full: bool) -> Result<(), String> {
    let failed = names(rows, Verdict::Fail);
    let warned = names(rows, Verdict::Warn);
    let improved = names(rows, Verdict::Improved);
    let new = names(rows, Verdict::New);
    let not_run = names(rows, Verdict::NotRun);
    if !warned.is_empty() {
        println!(
            "xtask: warning: grew by more than {WARN_PCT}%: {}",
            warned.join(", ")
        );
    }
    if !improved.is_empty() {
        println!(
            "xtask: improved by more than {WARN_PCT}%: {}; record it with \
             `cargo xtask perf --update` (and say why in the commit)",
            improved.join(", ")
        );
    }
    if !new.is_empty() {
        println!(
            "xtask: not in the baseline yet: {}; add them with `cargo xtask perf --update`",
            new.join(", ")
        );
    }
    if !not_run.is_empty() {
        if full {
            println!(
                "xtask: in the baseline but no longer measured: {}; drop them with \
                 `cargo xtask perf --update`",
                not_run.join(", ")
            );
        } else {
            println!(
                "xtask: {} baseline metrics are not part of this run (the fast gate or one \
                 source; `cargo xtask perf` runs them all)",
                not_run.len()
            );
        }
    }
    if failed.is_empty() {
        return Ok(());
    }
    let what = format!(
        "grew by more than {FAIL_PCT}% over {against}: {}",
        failed.join(", ")
    );
    if strict {
        Err(format!(
            "performance regression: {what} (if intended, `cargo xtask perf --update` \
             and say why in the commit)"
        ))
    } else {
        println!("xtask: WARNING: {what}; not failing, the toolchain differs from the baseline's");
        Ok(())
    }
}

/// Compare `metrics` with the committed baseline, print the table and
/// decide. `full`: `metrics` come from every source.
pub fn check(metrics: &[Metric], full: bool) -> Result<(), String> {
    let path = baseline_path();
    let baseline = read_baseline(&path)?.ok_or_else(|| {
        format!(
            "{BASELINE} does not exist: take one with `cargo xtask perf --update` and commit it"
        )
    })?;
    let now = Toolchain::current()?;
    let rows = compare(&baseline.metrics, metrics);
    println!(
        "\nxtask: instruction counts against {BASELINE} (taken {}):\n{}",
        baseline.date,
        table(&rows)
    );
    let strict = baseline.toolchain.comparable(&now);
    if !strict {
        println!(
            "\nxtask: WARNING: THE BASELINE WAS TAKEN WITH A DIFFERENT TOOLCHAIN OR CPU\n\
             xtask:   baseline: {}, {}, {}, {}\n\
             xtask:   this run: {}, {}, {}, {}\n\
             xtask: instruction counts change with the compiler, valgrind, QEMU and (through \
             glibc's memcpy) the CPU, so regressions are only warnings until the baseline is \
             retaken here (`cargo xtask perf --update`, saying why in the commit).\n",
            baseline.toolchain.rustc,
            baseline.toolchain.valgrind,
            baseline.toolchain.cpu,
            baseline.toolchain.qemu,
            now.rustc,
            now.valgrind,
            now.cpu,
            now.qemu
        );
    }
    decide(&rows, BASELINE, strict, full)
}

/// Write the baseline from `metrics` (a full run) and the current toolchain.
fn update(metrics: &[Metric]) -> Result<(), String> {
    let path = baseline_path();
    if let Some(old) = read_baseline(&path)? {
        let rows = compare(&old.metrics, metrics);
        println!(
            "\nxtask: the baseline (taken {}) and this run:\n{}",
            old.date,
            table(&rows)
        );
    }
    let baseline = Baseline {
        date: today_utc(),
        toolchain: Toolchain::current()?,
        metrics: metrics.iter().map(Recorded::from).collect(),
    };
    std::fs::write(&path, baseline.to_json()).map_err(|e| format!("{}: {e}", path.display()))?;
    println!(
        "xtask: wrote {} ({} metrics, {}, {}); commit it saying why the counts changed",
        path.display(),
        baseline.metrics.len(),
        baseline.toolchain.rustc,
        baseline.toolchain.valgrind
    );
    Ok(())
}

/// The metric the injected slowdown (hv-core `perf-slowdown-test`) is on.
pub const SLOWED_METRIC: &str = "tlb/hit";

/// Prove the gate catches a slowdown: build the drivers with hv-core's
/// `perf-slowdown-test` feature (extra work on every TLB hit), count again
/// and compare with `reference` (the normal build's counts from this run,
/// measured now if None): the gate must fail on exactly [`SLOWED_METRIC`].
pub fn inject_slowdown(reference: Option<&[Metric]>) -> Result<(), String> {
    let measured;
    let reference = match reference {
        Some(r) => r,
        None => {
            measured = perf_host::collect(Build::Normal)?;
            &measured
        }
    };
    println!("\nxtask: perf: the drivers again, built with hv-core/perf-slowdown-test");
    let slowed = perf_host::collect(Build::Slowdown)?;
    let reference: Vec<Recorded> = reference
        .iter()
        .filter(|m| slowed.iter().any(|s| s.name == m.name))
        .map(Recorded::from)
        .collect();
    let rows = compare(&reference, &slowed);
    println!(
        "\nxtask: the slowdown build against the normal build:\n{}",
        table(&rows)
    );
    match decide(&rows, "the normal build", true, true) {
        Ok(()) => Err("the gate passed a build with an injected TLB slowdown".into()),
        Err(e) => {
            let failed: Vec<&str> = rows
                .iter()
                .filter(|r| r.verdict == Verdict::Fail)
                .map(|r| r.name.as_str())
                .collect();
            if failed == [SLOWED_METRIC] {
                println!("xtask: the gate failed as it must, on {SLOWED_METRIC} alone: {e}");
                Ok(())
            } else {
                Err(format!(
                    "the injected slowdown failed the gate on {failed:?}, not on \
                     [{SLOWED_METRIC}] alone"
                ))
            }
        }
    }
}

/// `cargo xtask perf`.
pub fn run(args: &PerfArgs) -> Result<(), String> {
    if args.history {
        return crate::perf_history::run();
    }
    if args.inject_slowdown {
        return inject_slowdown(None);
    }
    let start = Instant::now();
    let full = !args.fast;
    let metrics = collect(full, args.only.as_deref())?;
    println!(
        "xtask: measured {} metrics in {:.0} s",
        metrics.len(),
        start.elapsed().as_secs_f64()
    );
    if args.update {
        update(&metrics)
    } else {
        // A run of one source compares like the fast part: the other
        // sources' baseline metrics are expected to be missing.
        check(&metrics, full && args.only.is_none())
    }
}

/// Today's date (UTC) as YYYY-MM-DD.
fn today_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil_date(secs / 86_400)
}

/// The calendar date `days` days after 1970-01-01.
fn civil_date(mut days: u64) -> String {
    let leap = |y: u64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mut year = 1970;
    loop {
        let len = if leap(year) { 366 } else { 365 };
        if days < len {
            break;
        }
        days -= len;
        year += 1;
    }
    let months = [
        31,
        if leap(year) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let mut month = 1;
    for len in months {
        if days < len {
            break;
        }
        days -= len;
        month += 1;
    }
    format!("{year:04}-{month:02}-{:02}", days + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metric(name: &str, value: f64) -> Metric {
        Metric {
            name: name.into(),
            value,
            unit: "instr/op",
        }
    }

    fn recorded(name: &str, value: f64) -> Recorded {
        Recorded::from(&metric(name, value))
    }

    #[test]
    fn verdicts_follow_the_thresholds() {
        assert_eq!(judge(100.0, 100.0), Verdict::Same);
        assert_eq!(judge(100.0, 104.99), Verdict::Within);
        assert_eq!(judge(100.0, 95.5), Verdict::Within);
        assert_eq!(judge(100.0, 105.01), Verdict::Warn);
        assert_eq!(judge(100.0, 110.0), Verdict::Warn);
        assert_eq!(judge(100.0, 110.01), Verdict::Fail);
        assert_eq!(judge(100.0, 94.0), Verdict::Improved);
        assert_eq!(judge(0.0, 1.0), Verdict::Fail);
    }

    #[test]
    fn comparison_names_new_and_unmeasured_metrics() {
        let base = [recorded("a", 10.0), recorded("gone", 5.0)];
        let now = [metric("a", 10.0), metric("b", 7.0)];
        let rows = compare(&base, &now);
        let got: Vec<(&str, Verdict)> = rows.iter().map(|r| (r.name.as_str(), r.verdict)).collect();
        assert_eq!(
            got,
            [
                ("a", Verdict::Same),
                ("b", Verdict::New),
                ("gone", Verdict::NotRun)
            ]
        );
        assert_eq!(decide(&rows, BASELINE, true, true), Ok(()));
    }

    #[test]
    fn a_regression_fails_naming_the_metric_only_when_strict() {
        let base = [recorded("tlb/hit", 30.0), recorded("mem/read_u64", 14.0)];
        let now = [metric("tlb/hit", 93.0), metric("mem/read_u64", 14.0)];
        let rows = compare(&base, &now);
        assert_eq!(rows[0].verdict, Verdict::Fail);
        assert_eq!(rows[0].change_pct(), Some(210.0));
        let err = decide(&rows, BASELINE, true, true).unwrap_err();
        assert!(err.contains("tlb/hit (+210.0%)"), "{err}");
        assert!(!err.contains("mem/read_u64"), "{err}");
        // Another toolchain: the same regression only warns.
        assert_eq!(decide(&rows, BASELINE, false, true), Ok(()));
        // Warnings and improvements never fail.
        let rows = compare(
            &base,
            &[metric("tlb/hit", 32.0), metric("mem/read_u64", 10.0)],
        );
        assert_eq!(rows[0].verdict, Verdict::Warn);
        assert_eq!(rows[1].verdict, Verdict::Improved);
        assert_eq!(decide(&rows, BASELINE, true, true), Ok(()));
    }

    #[test]
    fn table_lists_baseline_now_and_change() {
        let rows = compare(
            &[recorded("tlb/hit", 30.0), recorded("x", 2.0)],
            &[metric("tlb/hit", 93.0)],
        );
        let t = table(&rows);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4, "{t}");
        assert!(lines[0].starts_with("| metric"), "{t}");
        assert!(
            lines[2].contains("| tlb/hit (instr/op) |")
                && lines[2].contains("30.00")
                && lines[2].contains("93.00")
                && lines[2].contains("+210.00%")
                && lines[2].contains("FAIL"),
            "{t}"
        );
        assert!(lines[3].contains("not run"), "{t}");
        // Every line is as wide as the header.
        assert!(lines
            .iter()
            .all(|l| l.chars().count() == lines[0].chars().count()));
    }

    #[test]
    fn baseline_round_trips_through_json() {
        let b = Baseline {
            date: "2026-05-01".into(),
            toolchain: Toolchain {
                rustc: "rustc 1.95.0 (59807616e 2026-04-14)".into(),
                valgrind: "valgrind-3.19.0".into(),
                cpu: "Some \"quoted\" CPU".into(),
                qemu: "QEMU emulator version 10.0.2".into(),
            },
            metrics: vec![
                recorded("tlb/hit", 30.0),
                recorded("frame/alloc_single", 45.05),
            ],
        };
        let json = b.to_json();
        assert_eq!(Baseline::from_json(&json), Ok(b));
        // One metric per line.
        assert!(json
            .contains("\n    {\"name\": \"tlb/hit\", \"value\": 30.0, \"unit\": \"instr/op\"},\n"));
    }

    #[test]
    fn committed_baseline_parses_and_covers_the_host_workloads() {
        let b = read_baseline(&baseline_path()).unwrap().expect("committed");
        for w in perf_host::WORKLOADS {
            assert!(b.metrics.iter().any(|m| m.name == w.metric), "{}", w.metric);
        }
    }

    #[test]
    fn committed_baseline_covers_the_guest_metrics() {
        use crate::perf_guests::{ENGINES, EXIT_OPS, SIM_WORKLOADS};
        let b = read_baseline(&baseline_path()).unwrap().expect("committed");
        let has = |name: String| {
            assert!(b.metrics.iter().any(|m| m.name == name), "{name}");
        };
        for e in ENGINES {
            for w in SIM_WORKLOADS {
                has(format!("sim-{e}/{}", w.name));
            }
        }
        for (op, _) in EXIT_OPS {
            has(format!("hv-exit/{op}"));
        }
    }

    #[test]
    fn toolchains_differ_by_compiler_valgrind_cpu_or_qemu() {
        let a = Toolchain {
            rustc: "rustc 1.95.0".into(),
            valgrind: "valgrind-3.19.0".into(),
            cpu: "A".into(),
            qemu: "QEMU emulator version 10.0.2".into(),
        };
        let other_qemu = Toolchain {
            qemu: "QEMU emulator version 9.2.0".into(),
            ..a.clone()
        };
        let other_cpu = Toolchain {
            cpu: "B".into(),
            ..a.clone()
        };
        let other_rustc = Toolchain {
            rustc: "rustc 1.96.0".into(),
            ..a.clone()
        };
        assert!(a.comparable(&a.clone()));
        assert!(!a.comparable(&other_cpu));
        assert!(!a.comparable(&other_rustc));
        assert!(!a.comparable(&other_qemu));
    }

    #[test]
    fn baselines_without_qemu_still_parse() {
        let old = "{\"date\": \"2026-12-01\", \"rustc\": \"r\", \"valgrind\": \"v\", \
                   \"cpu\": \"c\", \"metrics\": []}";
        let b = Baseline::from_json(old).unwrap();
        assert_eq!(b.toolchain.qemu, "");
    }

    #[test]
    fn sources_have_distinct_keys_and_only_names_one() {
        for (i, s) in SOURCES.iter().enumerate() {
            assert!(SOURCES[..i].iter().all(|o| o.key != s.key), "{}", s.key);
        }
        let err = collect(false, Some("nonsense")).unwrap_err();
        assert!(err.contains("host, guests"), "{err}");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(59), "1970-03-01");
        assert_eq!(civil_date(11_016), "2000-02-29");
        assert_eq!(civil_date(20_454), "2026-01-01");
        assert_eq!(civil_date(20_513), "2026-03-01");
    }
}

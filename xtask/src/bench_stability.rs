//! `cargo xtask bench --stability`: how steady each Criterion benchmark is.
//!
//! Criterion keeps every benchmark's raw samples in
//! `target/criterion/<id>/new/sample.json` (`iters[i]` iterations took
//! `times[i]` ns) and its estimates beside them (`estimates.json`). From
//! the per-iteration times `times[i] / iters[i]` this reports, per benchmark
//! and per group:
//!
//! * the outlier fraction, with Criterion's own classification (Tukey's
//!   fences: a sample below `Q1 - 1.5 IQR` or above `Q3 + 1.5 IQR` is an
//!   outlier, mild, or severe beyond `3 IQR`; quartiles interpolated as
//!   Criterion does);
//! * the coefficient of variation, sample standard deviation over mean;
//! * P99 over the mean.
//!
//! A benchmark meets [`TARGETS`] when all three are below their limits.

use crate::image::workspace_root;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The limits a steady benchmark stays below.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Targets {
    /// Outliers (mild + severe) as a fraction of the samples.
    pub outliers: f64,
    /// Standard deviation over mean of the per-iteration times.
    pub cv: f64,
    /// 99th percentile over mean of the per-iteration times.
    pub p99_over_mean: f64,
}

/// Issue #15's targets: outliers < 2% of samples, CV < 0.1, P99 < 5x mean.
pub const TARGETS: Targets = Targets {
    outliers: 0.02,
    cv: 0.1,
    p99_over_mean: 5.0,
};

/// Fewer samples than this cannot say anything about outliers or P99
/// (Criterion's `--quick` keeps 2).
pub const MIN_SAMPLES: usize = 10;

/// The `p`th percentile (0..=100) of ascending `sorted`, interpolated
/// linearly between ranks as Criterion does: rank `p / 100 * (n - 1)`.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    assert!(!sorted.is_empty(), "percentile of an empty sample");
    assert!((0.0..=100.0).contains(&p), "percentile {p} out of 0..=100");
    let last = sorted.len() - 1;
    let rank = p / 100.0 * last as f64;
    let lo = rank.floor() as usize;
    if lo >= last {
        return sorted[last];
    }
    let frac = rank - lo as f64;
    sorted[lo] + (sorted[lo + 1] - sorted[lo]) * frac
}

/// Arithmetic mean.
pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Sample standard deviation (divides by n - 1, as Criterion does).
pub fn std_dev(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let m = mean(xs);
    let ss: f64 = xs.iter().map(|x| (x - m) * (x - m)).sum();
    (ss / (xs.len() - 1) as f64).sqrt()
}

/// Tukey's classification: (mild, severe) outliers. Mild: outside the
/// 1.5 IQR fences but inside the 3 IQR ones; severe: outside those.
/// Comparisons are strict, as in Criterion (a sample on a fence is normal).
pub fn tukey_outliers(xs: &[f64]) -> (usize, usize) {
    let mut sorted = xs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (q1, q3) = (percentile(&sorted, 25.0), percentile(&sorted, 75.0));
    let iqr = q3 - q1;
    let (mild_lo, mild_hi) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
    let (severe_lo, severe_hi) = (q1 - 3.0 * iqr, q3 + 3.0 * iqr);
    let mut counts = (0, 0);
    for &x in xs {
        if x < severe_lo || x > severe_hi {
            counts.1 += 1;
        } else if x < mild_lo || x > mild_hi {
            counts.0 += 1;
        }
    }
    counts
}

/// The stability figures of one benchmark's samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Stability {
    pub samples: usize,
    /// Mean per-iteration time, ns.
    pub mean_ns: f64,
    pub mild: usize,
    pub severe: usize,
    pub cv: f64,
    pub p99_over_mean: f64,
}

impl Stability {
    /// From Criterion's raw samples: `times[i]` ns for `iters[i]` iterations.
    pub fn from_samples(iters: &[f64], times: &[f64]) -> Result<Stability, String> {
        if iters.len() != times.len() {
            return Err(format!(
                "{} iteration counts but {} times",
                iters.len(),
                times.len()
            ));
        }
        if iters.is_empty() {
            return Err("no samples".to_string());
        }
        if iters.iter().any(|&n| n.is_nan() || n <= 0.0) || times.iter().any(|t| !t.is_finite()) {
            return Err("an iteration count is not positive or a time not finite".to_string());
        }
        let per_iter: Vec<f64> = times.iter().zip(iters).map(|(t, n)| t / n).collect();
        let mean_ns = mean(&per_iter);
        let mut sorted = per_iter.clone();
        sorted.sort_by(f64::total_cmp);
        let (mild, severe) = tukey_outliers(&per_iter);
        Ok(Stability {
            samples: per_iter.len(),
            mean_ns,
            mild,
            severe,
            cv: std_dev(&per_iter) / mean_ns,
            p99_over_mean: percentile(&sorted, 99.0) / mean_ns,
        })
    }

    /// Outliers (mild + severe) as a fraction of the samples.
    pub fn outlier_fraction(&self) -> f64 {
        (self.mild + self.severe) as f64 / self.samples as f64
    }

    /// What misses `t`, in words; empty when the benchmark meets it.
    pub fn misses(&self, t: &Targets) -> Vec<String> {
        let mut out = Vec::new();
        if self.samples < MIN_SAMPLES {
            out.push(format!(
                "only {} samples (--quick?), at least {MIN_SAMPLES} needed",
                self.samples
            ));
        }
        if self.outlier_fraction() >= t.outliers {
            out.push(format!(
                "outliers {:.1}% >= {:.0}%",
                100.0 * self.outlier_fraction(),
                100.0 * t.outliers
            ));
        }
        if self.cv >= t.cv {
            out.push(format!("CV {:.3} >= {}", self.cv, t.cv));
        }
        if self.p99_over_mean >= t.p99_over_mean {
            out.push(format!(
                "P99/mean {:.2} >= {}",
                self.p99_over_mean, t.p99_over_mean
            ));
        }
        out
    }
}

/// One benchmark as Criterion left it.
#[derive(Clone, Debug)]
pub struct Bench {
    /// Criterion's full id, e.g. `memory_read/8`.
    pub id: String,
    /// Its group, e.g. `memory_read`.
    pub group: String,
    /// Criterion's typical estimate (slope, or mean for flat sampling), ns.
    pub estimate_ns: Option<f64>,
    pub stability: Stability,
}

/// Where Criterion writes: `$CRITERION_HOME`, else
/// `$CARGO_TARGET_DIR/criterion`, else the workspace's `target/criterion`.
pub fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    workspace_root().join("target/criterion")
}

fn read_json(path: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn numbers(v: &serde_json::Value, key: &str, path: &Path) -> Result<Vec<f64>, String> {
    v[key]
        .as_array()
        .and_then(|a| a.iter().map(serde_json::Value::as_f64).collect())
        .ok_or_else(|| format!("{}: no numeric array `{key}`", path.display()))
}

/// Every `new/` directory under `dir` holding a `sample.json`.
fn new_dirs(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "new") {
            if path.join("sample.json").is_file() {
                out.push(path);
            }
        } else {
            new_dirs(&path, out)?;
        }
    }
    Ok(())
}

/// One benchmark from its `new/` directory.
fn read_bench(new: &Path) -> Result<Bench, String> {
    let id_path = new.join("benchmark.json");
    let id = read_json(&id_path)?;
    let group = id["group_id"]
        .as_str()
        .ok_or_else(|| format!("{}: no group_id", id_path.display()))?
        .to_string();
    let full = id["full_id"].as_str().unwrap_or(&group).to_string();
    let sample_path = new.join("sample.json");
    let sample = read_json(&sample_path)?;
    let iters = numbers(&sample, "iters", &sample_path)?;
    let times = numbers(&sample, "times", &sample_path)?;
    let stability = Stability::from_samples(&iters, &times)
        .map_err(|e| format!("{}: {e}", sample_path.display()))?;
    // The figure Criterion prints: the slope of a linear sampling, else
    // the mean.
    let estimate_ns = read_json(&new.join("estimates.json")).ok().and_then(|e| {
        e["slope"]["point_estimate"]
            .as_f64()
            .or_else(|| e["mean"]["point_estimate"].as_f64())
    });
    Ok(Bench {
        id: full,
        group,
        estimate_ns,
        stability,
    })
}

/// Every benchmark under `dir` whose `sample.json` was written at or after
/// `since` (all of them with `None`), sorted by id.
pub fn collect(dir: &Path, since: Option<SystemTime>) -> Result<Vec<Bench>, String> {
    if !dir.is_dir() {
        return Err(format!(
            "{} does not exist: run the benchmarks first (cargo xtask bench)",
            dir.display()
        ));
    }
    let mut dirs = Vec::new();
    new_dirs(dir, &mut dirs)?;
    let mut benches = Vec::new();
    for new in dirs {
        if let Some(since) = since {
            let written = std::fs::metadata(new.join("sample.json"))
                .and_then(|m| m.modified())
                .map_err(|e| format!("{}: {e}", new.display()))?;
            if written < since {
                continue;
            }
        }
        benches.push(read_bench(&new)?);
    }
    benches.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(benches)
}

/// A time in ns, in a readable unit.
fn fmt_time(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.2} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// The worst of each figure over a group.
#[derive(Debug, Default, PartialEq)]
pub struct GroupSummary {
    pub benches: usize,
    pub missing: usize,
    pub worst_outliers: f64,
    pub worst_cv: f64,
    pub worst_p99: f64,
}

/// Per group (sorted by name): how many benchmarks, how many miss `t`, and
/// the worst figures.
pub fn groups(benches: &[Bench], t: &Targets) -> BTreeMap<String, GroupSummary> {
    let mut out: BTreeMap<String, GroupSummary> = BTreeMap::new();
    for b in benches {
        let g = out.entry(b.group.clone()).or_default();
        let s = &b.stability;
        g.benches += 1;
        g.missing += usize::from(!s.misses(t).is_empty());
        g.worst_outliers = g.worst_outliers.max(s.outlier_fraction());
        g.worst_cv = g.worst_cv.max(s.cv);
        g.worst_p99 = g.worst_p99.max(s.p99_over_mean);
    }
    out
}

/// Print the per-benchmark and per-group tables and the misses; returns the
/// number of benchmarks that miss.
pub fn report(benches: &[Bench], t: &Targets) -> usize {
    let width = benches
        .iter()
        .map(|b| b.id.chars().count())
        .max()
        .unwrap_or(9)
        .max(9);
    println!(
        "\nxtask: stability of {} benchmark(s); targets: outliers < {:.0}%, CV < {}, P99 < {}x mean",
        benches.len(),
        100.0 * t.outliers,
        t.cv,
        t.p99_over_mean
    );
    println!(
        "{:<width$}  {:>7}  {:>11}  {:>13}  {:>6}  {:>8}  ok",
        "benchmark", "samples", "time", "outliers m+s", "CV", "P99/mean"
    );
    let mut missing = Vec::new();
    for b in benches {
        let s = &b.stability;
        let misses = s.misses(t);
        println!(
            "{:<width$}  {:>7}  {:>11}  {:>6.1}% {:>2}+{:<2}  {:>6.3}  {:>8.2}  {}",
            b.id,
            s.samples,
            fmt_time(b.estimate_ns.unwrap_or(s.mean_ns)),
            100.0 * s.outlier_fraction(),
            s.mild,
            s.severe,
            s.cv,
            s.p99_over_mean,
            if misses.is_empty() { "yes" } else { "MISS" }
        );
        if !misses.is_empty() {
            missing.push((b.id.as_str(), misses));
        }
    }
    let summary = groups(benches, t);
    let gwidth = summary
        .keys()
        .map(|g| g.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    println!(
        "\n{:<gwidth$}  {:>7}  {:>6}  {:>13}  {:>8}  {:>13}",
        "group", "benches", "missed", "max outliers", "max CV", "max P99/mean"
    );
    for (name, g) in &summary {
        println!(
            "{:<gwidth$}  {:>7}  {:>6}  {:>12.1}%  {:>8.3}  {:>13.2}",
            name,
            g.benches,
            g.missing,
            100.0 * g.worst_outliers,
            g.worst_cv,
            g.worst_p99
        );
    }
    if missing.is_empty() {
        println!(
            "\nxtask: all {} benchmark(s) meet the targets",
            benches.len()
        );
    } else {
        println!(
            "\nxtask: {} of {} benchmark(s) miss the targets:",
            missing.len(),
            benches.len()
        );
        for (id, why) in &missing {
            println!("  {id}: {}", why.join(", "));
        }
    }
    missing.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn percentiles_interpolate_between_ranks() {
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        // rank = p/100 * 4
        assert!(close(percentile(&xs, 0.0), 1.0));
        assert!(close(percentile(&xs, 25.0), 2.0));
        assert!(close(percentile(&xs, 50.0), 3.0));
        assert!(close(percentile(&xs, 100.0), 5.0));
        // rank 0.99 * 4 = 3.96: 4 + 0.96 * (5 - 4)
        assert!(close(percentile(&xs, 99.0), 4.96));
        // rank 0.1 * 4 = 0.4 between 1 and 2
        assert!(close(percentile(&xs, 10.0), 1.4));
        assert!(close(percentile(&[7.0], 99.0), 7.0));
    }

    #[test]
    fn mean_and_sample_std_dev() {
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert!(close(mean(&xs), 5.0));
        // Sum of squared deviations 32, n - 1 = 7.
        assert!(close(std_dev(&xs), (32.0f64 / 7.0).sqrt()));
        assert_eq!(std_dev(&[3.0]), 0.0);
    }

    #[test]
    fn tukey_fences_split_mild_and_severe() {
        // 1..=9: Q1 = 3, Q3 = 7, IQR 4; mild fences -3 and 13, severe -9
        // and 19.
        let mut xs: Vec<f64> = (1..=9).map(f64::from).collect();
        assert_eq!(tukey_outliers(&xs), (0, 0));
        // With 14 and 20 added (11 values): Q1 = rank 2.5 = 3.5, Q3 = rank
        // 7.5 = 8.5, IQR 5; mild above 16, severe above 23.5.
        xs.extend([14.0, 20.0]);
        assert_eq!(tukey_outliers(&xs), (1, 0));
        xs.push(100.0);
        // 12 values (1..=9, 14, 20, 100): Q1 = rank 2.75 = 3.75, Q3 = rank
        // 8.25 = 9 + 0.25 * (14 - 9) = 10.25, IQR 6.5: mild above 20 (20
        // itself is on the fence: normal), severe above 29.75.
        assert_eq!(tukey_outliers(&xs), (0, 1));
        // Low side, -20 and 1..=9: Q1 = rank 2.25 = 2.25, Q3 = rank 6.75 =
        // 6.75, IQR 4.5: severe below -11.25.
        let mut low: Vec<f64> = (1..=9).map(f64::from).collect();
        low.push(-20.0);
        assert_eq!(tukey_outliers(&low), (0, 1));
    }

    #[test]
    fn stability_uses_per_iteration_times() {
        // Linear sampling: n iterations take 10n ns, except the 4th sample
        // (40 iterations) which took twice as long.
        let iters: Vec<f64> = (1..=20).map(|i| f64::from(i) * 10.0).collect();
        let mut times: Vec<f64> = iters.iter().map(|n| n * 10.0).collect();
        times[3] *= 2.0;
        let s = Stability::from_samples(&iters, &times).unwrap();
        assert_eq!(s.samples, 20);
        // Per iteration: nineteen 10 ns and one 20 ns.
        assert!(close(s.mean_ns, 10.5));
        assert_eq!((s.mild, s.severe), (0, 1));
        assert!(close(s.outlier_fraction(), 0.05));
        // std dev: sqrt((19 * 0.25 + 90.25) / 19) = sqrt(5)
        assert!(close(s.cv, 5f64.sqrt() / 10.5));
        // P99: rank 0.99 * 19 = 18.81 between 10 (index 18) and 20: 18.1
        assert!(close(s.p99_over_mean, 18.1 / 10.5));
        let misses = s.misses(&TARGETS);
        assert_eq!(misses.len(), 2, "{misses:?}");
        assert!(misses[0].starts_with("outliers 5.0%"));
        assert!(misses[1].starts_with("CV 0.213"));
    }

    #[test]
    fn a_steady_benchmark_meets_the_targets() {
        let iters = vec![1.0; 100];
        let times: Vec<f64> = (0..100).map(|i| 100.0 + f64::from(i % 5)).collect();
        let s = Stability::from_samples(&iters, &times).unwrap();
        assert_eq!((s.mild, s.severe), (0, 0));
        assert!(s.cv < 0.02);
        assert!(s.misses(&TARGETS).is_empty());
        // Criterion's --quick keeps 2 samples: not enough to judge.
        let quick = Stability::from_samples(&[1.0, 2.0], &[10.0, 20.0]).unwrap();
        assert!(quick.misses(&TARGETS)[0].starts_with("only 2 samples"));
    }

    #[test]
    fn bad_samples_are_refused() {
        assert!(Stability::from_samples(&[], &[]).is_err());
        assert!(Stability::from_samples(&[1.0], &[1.0, 2.0]).is_err());
        assert!(Stability::from_samples(&[0.0, 1.0], &[1.0, 2.0]).is_err());
        assert!(Stability::from_samples(&[1.0, 1.0], &[f64::NAN, 2.0]).is_err());
    }

    /// A Criterion-like tree in a temporary directory.
    fn write_bench(root: &Path, dir: &str, group: &str, full: &str, times: &[f64]) {
        let new = root.join(dir).join("new");
        std::fs::create_dir_all(&new).unwrap();
        let iters = vec![1.0; times.len()];
        std::fs::write(
            new.join("sample.json"),
            serde_json::json!({"sampling_mode": "Flat", "iters": iters, "times": times})
                .to_string(),
        )
        .unwrap();
        std::fs::write(
            new.join("benchmark.json"),
            serde_json::json!({"group_id": group, "function_id": null, "value_str": null,
                "throughput": null, "full_id": full, "directory_name": dir, "title": full})
            .to_string(),
        )
        .unwrap();
        std::fs::write(
            new.join("estimates.json"),
            serde_json::json!({"mean": {"point_estimate": 123.0}, "slope": null}).to_string(),
        )
        .unwrap();
    }

    #[test]
    fn reads_criterion_output_and_groups_it() {
        let root = std::env::temp_dir().join(format!("xtask-stability-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let steady: Vec<f64> = (0..50).map(|i| 100.0 + f64::from(i % 3)).collect();
        let mut noisy = steady.clone();
        noisy[0] = 10_000.0;
        write_bench(&root, "g/a", "g", "g/a", &steady);
        write_bench(&root, "g/b", "g", "g/b", &noisy);
        write_bench(&root, "h", "h", "h", &steady);
        // A saved baseline beside `new` is not read.
        std::fs::create_dir_all(root.join("h/main")).unwrap();
        let benches = collect(&root, None).unwrap();
        let ids: Vec<&str> = benches.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(ids, ["g/a", "g/b", "h"]);
        assert_eq!(benches[0].estimate_ns, Some(123.0));
        let g = groups(&benches, &TARGETS);
        assert_eq!(g["g"].benches, 2);
        assert_eq!(g["g"].missing, 1);
        assert!(close(g["g"].worst_outliers, 0.02));
        assert_eq!(g["h"].missing, 0);
        assert_eq!(report(&benches, &TARGETS), 1);
        // Nothing was written after a moment in the future.
        let later = SystemTime::now() + std::time::Duration::from_secs(3600);
        assert!(collect(&root, Some(later)).unwrap().is_empty());
        std::fs::remove_dir_all(&root).unwrap();
        assert!(collect(&root, None).is_err());
    }
}

//! Host-side metrics of the performance gate: hv-core's and virtio's hot
//! operations, each run a fixed number of times by `hv-sim`'s
//! `perf_drivers` example under `valgrind --tool=callgrind`, which counts
//! the instructions of the measured function alone
//! (`--toggle-collect=perf_drivers::measure_*`).

use crate::image::{cargo, workspace_root};
use crate::perf::Metric;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One workload of `hv-sim/examples/perf_drivers.rs`.
pub struct Workload {
    /// The metric's name.
    pub metric: &'static str,
    /// The driver's name for it (`perf_drivers WORKLOAD ITERATIONS`).
    pub driver: &'static str,
    /// The `#[inline(never)]` function holding the measured loop.
    pub function: &'static str,
    /// Iterations of the loop (fixed: the per-operation count includes the
    /// loop's own instructions and its set-up amortised over them).
    pub iterations: u64,
    /// What one iteration is.
    pub unit: &'static str,
}

/// The host workloads, in report order. Each takes about 0.5 s under
/// callgrind on the development machine, most of it valgrind's start-up.
pub const WORKLOADS: &[Workload] = &[
    Workload {
        metric: "mem/read_u64",
        driver: "mem-read",
        function: "measure_mem_read",
        iterations: 100_000,
        unit: "instr/read",
    },
    Workload {
        metric: "mem/write_u64",
        driver: "mem-write",
        function: "measure_mem_write",
        iterations: 100_000,
        unit: "instr/write",
    },
    Workload {
        metric: "mem/bulk_read_4k",
        driver: "bulk-read-4k",
        function: "measure_bulk_read",
        iterations: 10_000,
        unit: "instr/copy",
    },
    Workload {
        metric: "mem/bulk_write_4k",
        driver: "bulk-write-4k",
        function: "measure_bulk_write",
        iterations: 10_000,
        unit: "instr/copy",
    },
    Workload {
        metric: "tlb/hit",
        driver: "tlb-hit",
        function: "measure_tlb_hit",
        iterations: 100_000,
        unit: "instr/lookup",
    },
    Workload {
        metric: "tlb/miss_walk",
        driver: "tlb-miss-walk",
        function: "measure_tlb_miss_walk",
        iterations: 20_000,
        unit: "instr/lookup",
    },
    Workload {
        metric: "frame/alloc_single",
        driver: "frame-single",
        function: "measure_frame_single",
        iterations: 20_000,
        unit: "instr/frame",
    },
    Workload {
        metric: "frame/alloc_batch_100",
        driver: "frame-batch-100",
        function: "measure_frame_batch",
        iterations: 1_000,
        unit: "instr/batch",
    },
    Workload {
        metric: "virtio/blk_read_4k",
        driver: "blk-read-4k",
        function: "measure_blk_request",
        iterations: 5_000,
        unit: "instr/request",
    },
    Workload {
        metric: "virtio/blk_write_4k",
        driver: "blk-write-4k",
        function: "measure_blk_request",
        iterations: 5_000,
        unit: "instr/request",
    },
    Workload {
        metric: "translate/decode_ir_64",
        driver: "decode-ir-64",
        function: "measure_decode_ir",
        iterations: 2_000,
        unit: "instr/block",
    },
];

/// The drivers built normally, or with hv-core's `perf-slowdown-test`
/// feature (extra work on the TLB hit path).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Build {
    Normal,
    Slowdown,
}

/// The host metrics: build the drivers, run every workload under callgrind.
pub fn collect(build: Build) -> Result<Vec<Metric>, String> {
    crate::prereq::for_valgrind()?;
    let drivers = build_drivers(build)?;
    let out = drivers.parent().unwrap_or(&drivers).to_path_buf();
    println!(
        "xtask: counting instructions of {} workloads under callgrind",
        WORKLOADS.len()
    );
    WORKLOADS
        .iter()
        .map(|w| {
            let total = count(&drivers, w, &out)?;
            Ok(Metric {
                name: w.metric.to_string(),
                value: per_op(total, w.iterations),
                unit: w.unit,
            })
        })
        .collect()
}

/// `total / iterations`, to 2 decimals.
pub fn per_op(total: u64, iterations: u64) -> f64 {
    (total as f64 / iterations as f64 * 100.0).round() / 100.0
}

/// Build `perf_drivers` (release, with line tables: the workspace's release
/// profile) and copy it under target/xtask/perf/<build>/, so the normal and
/// the slowdown builds never overwrite each other.
fn build_drivers(build: Build) -> Result<PathBuf, String> {
    let root = workspace_root();
    let mut cmd = Command::new(cargo());
    cmd.current_dir(&root).args([
        "build",
        "--release",
        "-p",
        "hv-sim",
        "--example",
        "perf_drivers",
        "--message-format=json-render-diagnostics",
    ]);
    if build == Build::Slowdown {
        cmd.args(["--features", "hv-core/perf-slowdown-test"]);
    }
    println!("xtask: $ {}", format!("{cmd:?}").replace('"', ""));
    let out = cmd
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("could not run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!("building perf_drivers failed ({})", out.status));
    }
    let built = executable(&String::from_utf8_lossy(&out.stdout), "perf_drivers")
        .ok_or("cargo built perf_drivers but named no executable")?;
    let dir = root.join("target/xtask/perf").join(match build {
        Build::Normal => "normal",
        Build::Slowdown => "slowdown",
    });
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let dest = dir.join("perf_drivers");
    std::fs::copy(&built, &dest)
        .map_err(|e| format!("copying {} to {}: {e}", built.display(), dest.display()))?;
    Ok(dest)
}

/// The executable cargo's JSON messages (`--message-format=json`) name for
/// the target `name`.
pub fn executable(messages: &str, name: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .next_back()
}

/// Instructions `w`'s measured function executes, from one callgrind run.
fn count(drivers: &Path, w: &Workload, out_dir: &Path) -> Result<u64, String> {
    let out_file = out_dir.join(format!("{}.callgrind", w.driver));
    let mut cmd = Command::new("valgrind");
    cmd.arg("--tool=callgrind")
        .arg("--collect-atstart=no")
        .arg(format!("--toggle-collect=perf_drivers::{}", w.function))
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(drivers)
        .arg(w.driver)
        .arg(w.iterations.to_string());
    let shown = format!("{cmd:?}").replace('"', "");
    let out = cmd
        .output()
        .map_err(|e| format!("could not start valgrind: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}):\n{}",
            shown,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text =
        std::fs::read_to_string(&out_file).map_err(|e| format!("{}: {e}", out_file.display()))?;
    let total = callgrind_total(&text)
        .ok_or_else(|| format!("{} has no `totals:` line", out_file.display()))?;
    if total == 0 {
        return Err(format!(
            "{}: callgrind counted nothing: is perf_drivers::{} still a function \
             of its own (#[inline(never)])?",
            w.metric, w.function
        ));
    }
    Ok(total)
}

/// The `totals:` line of a callgrind output file (its first event, Ir).
pub fn callgrind_total(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("totals:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_line_is_read() {
        let text = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\n\
                    fn=(1) perf_drivers::measure_tlb_hit\n16 3\nsummary: 3000025\n\
                    totals: 3000025\n";
        assert_eq!(callgrind_total(text), Some(3_000_025));
        assert_eq!(callgrind_total("events: Ir\n"), None);
    }

    #[test]
    fn per_op_keeps_two_decimals() {
        assert_eq!(per_op(3_000_025, 100_000), 30.0);
        assert_eq!(per_op(13_447_739, 20_000), 672.39);
        assert_eq!(per_op(901_003, 20_000), 45.05);
    }

    #[test]
    fn cargo_messages_name_the_executable() {
        let msgs = r#"{"reason":"compiler-artifact","target":{"name":"hv_core"},"executable":null}
{"reason":"compiler-artifact","target":{"name":"perf_drivers"},"executable":"/t/release/examples/perf_drivers"}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            executable(msgs, "perf_drivers"),
            Some(PathBuf::from("/t/release/examples/perf_drivers"))
        );
        assert_eq!(executable(msgs, "other"), None);
    }

    #[test]
    fn workloads_are_unique_and_named_for_the_drivers() {
        let src = std::fs::read_to_string(workspace_root().join("hv-sim/examples/perf_drivers.rs"))
            .unwrap();
        for (i, w) in WORKLOADS.iter().enumerate() {
            assert!(
                WORKLOADS[..i]
                    .iter()
                    .all(|o| o.metric != w.metric && o.driver != w.driver),
                "{} twice",
                w.metric
            );
            assert!(
                src.contains(&format!("(\"{}\", ", w.driver)),
                "{}",
                w.driver
            );
            assert!(
                src.contains(&format!("#[inline(never)]\nfn {}(", w.function)),
                "{} is not an #[inline(never)] fn",
                w.function
            );
        }
    }
}

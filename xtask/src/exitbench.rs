//! `cargo xtask exitbench`: the exit-cost micro-benchmark guest
//! (tests/guests/default, guest-exitbench) on plain QEMU at EL1 and under
//! hv-kernel, both optimised, side by side.

use crate::boot_tests::{boot_guest, build_image, guest_line, hv_guest_args, GuestRun};
use crate::{guest, prereq, Arch, ExitbenchArgs};

/// The guest binary.
pub const GUEST: &str = "guest-exitbench";

/// One operation's cost in both places (None: not measured or failed).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Operation name as the guest prints it (`hvc`, `mmio-uart`, ...).
    pub op: String,
    /// ns per operation on plain QEMU.
    pub plain_ns: Option<u64>,
    /// ns per operation under hv-kernel.
    pub hv_ns: Option<u64>,
}

impl Row {
    /// hv-kernel's cost relative to plain QEMU.
    pub fn ratio(&self) -> Option<f64> {
        Some(self.hv_ns? as f64 / self.plain_ns?.max(1) as f64)
    }
}

/// The benchmark's results and whatever went wrong in either run.
#[derive(Debug, Default)]
pub struct Bench {
    /// One row per operation, in the guest's order.
    pub rows: Vec<Row>,
    /// Failed operations and runs (empty when both runs passed).
    pub problems: Vec<String>,
}

/// `exitbench NAME: NS ns/op (N iterations)` lines: (name, ns or the
/// failure text), in order.
pub fn parse(output: &str) -> Vec<(String, Result<u64, String>)> {
    output
        .lines()
        .map(guest_line)
        .filter_map(|l| {
            let rest = l.strip_prefix("exitbench ")?;
            let (name, value) = rest.split_once(": ")?;
            if name.contains(' ') {
                return None;
            }
            let result = match value.split_once(" ns/op") {
                Some((ns, _)) => ns.parse().map_err(|_| format!("bad figure {ns:?}")),
                None => Err(value.to_string()),
            };
            Some((name.to_string(), result))
        })
        .collect()
}

/// Merge both runs' figures into rows and collect the problems.
fn merge(plain: &GuestRun, hv: &GuestRun) -> Bench {
    let mut bench = Bench::default();
    for (place, run) in [("plain QEMU", plain), ("hv-kernel", hv)] {
        if run.code == Some(124) {
            bench.problems.push(format!("{place}: timed out"));
        } else if !run.text.lines().any(|l| guest_line(l) == "PASS") {
            bench
                .problems
                .push(format!("{place}: no PASS (exit {:?})", run.code));
        }
        for (op, result) in parse(&run.text) {
            let ns = match result {
                Ok(ns) => Some(ns),
                Err(why) => {
                    bench.problems.push(format!("{place}: {op}: {why}"));
                    None
                }
            };
            let row = match bench.rows.iter_mut().position(|r| r.op == op) {
                Some(i) => &mut bench.rows[i],
                None => {
                    bench.rows.push(Row {
                        op: op.clone(),
                        plain_ns: None,
                        hv_ns: None,
                    });
                    bench.rows.last_mut().expect("just pushed")
                }
            };
            if place == "plain QEMU" {
                row.plain_ns = ns;
            } else {
                row.hv_ns = ns;
            }
        }
    }
    bench
}

/// Build the guest and hv-kernel (both release), run the guest on plain
/// QEMU (EL1, 2 CPUs) and under hv-kernel (2 vCPUs); the rows for a table.
/// `cargo xtask test` can call this too.
pub fn measure(timeout_s: u32) -> Result<Bench, String> {
    let image = guest::build_guest(GUEST, true)?;
    let hv = build_image(Arch::Aarch64, false, true)?;
    println!("xtask: {GUEST} on plain QEMU (EL1, 2 CPUs)");
    let plain = boot_guest(&image, true, 2, &[], timeout_s)?;
    println!("xtask: ... {:.1} s", plain.secs);
    println!("xtask: {GUEST} under hv-kernel (release, 2 vCPUs)");
    let hv_run = boot_guest(&hv, false, 2, &hv_guest_args(&image, GUEST)?, timeout_s)?;
    println!("xtask: ... {:.1} s", hv_run.secs);
    if let Some(line) = hv_run.text.lines().find(|l| l.contains("exits/s")) {
        println!("xtask: {}", line.trim());
    }
    Ok(merge(&plain, &hv_run))
}

/// The table: operation | plain QEMU ns | hv-kernel ns | ratio.
pub fn table(rows: &[Row]) -> String {
    let ns = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    let mut out = String::from(
        "| operation | plain QEMU ns | hv-kernel ns | ratio |\n|---|---:|---:|---:|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.op,
            ns(r.plain_ns),
            ns(r.hv_ns),
            r.ratio().map_or("-".to_string(), |x| format!("{x:.1}x"))
        ));
    }
    out
}

/// `cargo xtask exitbench`.
pub fn run(args: &ExitbenchArgs) -> Result<(), String> {
    prereq::for_build(Arch::Aarch64)?;
    prereq::for_qemu(&[Arch::Aarch64])?;
    measure_and_report(args.timeout)
}

/// Measure, print the table, and fail if either run did not complete every
/// operation (what `cargo xtask test` checks too, so its output carries
/// the table of the same run as its Linux boot ratios).
pub fn measure_and_report(timeout_s: u32) -> Result<(), String> {
    let bench = measure(timeout_s)?;
    println!("\n{}", table(&bench.rows));
    if bench.problems.is_empty() {
        Ok(())
    } else {
        for p in &bench.problems {
            println!("xtask: exitbench: {p}");
        }
        Err(format!("{} problem(s), listed above", bench.problems.len()))
    }
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
    fn parses_figures_and_failures() {
        let out = "exitbench: counter 1000000000 Hz\n[guest] exitbench hvc: 1234 ns/op (1000 iterations)\nexitbench sgi-roundtrip: FAIL (SGI to CPU 1 lost)\nPASS\n";
        assert_eq!(
            parse(out),
            vec![
                ("hvc".to_string(), Ok(1234)),
                (
                    "sgi-roundtrip".to_string(),
                    Err("FAIL (SGI to CPU 1 lost)".to_string())
                ),
            ]
        );
    }

    #[test]
    fn rows_pair_both_runs_and_compute_ratios() {
        let plain = run("exitbench hvc: 100 ns/op (10 iterations)\nexitbench mmio-uart: 200 ns/op (5 iterations)\nPASS\n");
        let hv = run("[guest] exitbench hvc: 1000 ns/op (10 iterations)\n[guest] exitbench mmio-uart: FAIL (x)\n[guest] FAIL\n");
        let bench = merge(&plain, &hv);
        assert_eq!(bench.rows.len(), 2);
        assert_eq!(bench.rows[0].ratio(), Some(10.0));
        assert_eq!(bench.rows[1].hv_ns, None);
        assert_eq!(bench.problems.len(), 2, "{:?}", bench.problems);
        let t = table(&bench.rows);
        assert!(t.contains("| hvc | 100 | 1000 | 10.0x |"), "{t}");
        assert!(t.contains("| mmio-uart | 200 | - | - |"), "{t}");
    }
}

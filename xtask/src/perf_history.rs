//! `cargo xtask perf --history`: the counts recorded in
//! `benches/baseline.json` at every commit that changed it, one line per
//! metric normalised to its first recorded value, drawn as an SVG chart.

use crate::image::workspace_root;
use crate::perf::{Baseline, BASELINE};
use plotters::prelude::*;
use std::path::Path;
use std::process::Command;

/// The baseline as one commit recorded it.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// Abbreviated commit hash.
    pub commit: String,
    /// Commit date, YYYY-MM-DD.
    pub date: String,
    pub subject: String,
    /// (metric, count).
    pub values: Vec<(String, f64)>,
}

/// Field separator of the `git log` format below (ASCII unit separator:
/// never in a subject line).
const SEP: char = '\u{1f}';

/// Parse `git log --format=%h%x1f%cs%x1f%s` output: (commit, date, subject)
/// per line, in the log's order.
pub fn parse_log(text: &str) -> Vec<(String, String, String)> {
    text.lines()
        .filter_map(|line| {
            let mut f = line.splitn(3, SEP);
            let commit = f.next()?.trim();
            let date = f.next()?;
            let subject = f.next().unwrap_or("");
            (!commit.is_empty()).then(|| (commit.into(), date.into(), subject.into()))
        })
        .collect()
}

fn git(repo: &Path, args: &[&str]) -> Result<std::process::Output, String> {
    Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))
}

/// Every version of `file` in `repo`'s history (oldest first), from `git
/// log` and `git show COMMIT:FILE`. Commits where the file does not parse
/// (deleted, or not yet in this format) are skipped.
pub fn snapshots(repo: &Path, file: &str) -> Result<Vec<Snapshot>, String> {
    let format = "--format=%h%x1f%cs%x1f%s";
    let out = git(repo, &["log", "--reverse", format, "--", file])?;
    if !out.status.success() {
        return Err(format!(
            "git log failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let mut snaps = Vec::new();
    for (commit, date, subject) in parse_log(&String::from_utf8_lossy(&out.stdout)) {
        let shown = git(repo, &["show", &format!("{commit}:{file}")])?;
        if !shown.status.success() {
            continue;
        }
        let Ok(b) = Baseline::from_json(&String::from_utf8_lossy(&shown.stdout)) else {
            continue;
        };
        snaps.push(Snapshot {
            commit,
            date,
            subject,
            values: b.metrics.into_iter().map(|m| (m.name, m.value)).collect(),
        });
    }
    Ok(snaps)
}

/// A point of a line: (snapshot index, normalised count).
pub type Point = (usize, f64);

/// One line per metric, in order of first appearance: (snapshot index,
/// count / the metric's first recorded count) where the snapshot has it.
pub fn normalised(snaps: &[Snapshot]) -> Vec<(String, Vec<Point>)> {
    // (metric, first value, points)
    let mut lines: Vec<(String, f64, Vec<Point>)> = Vec::new();
    for (i, s) in snaps.iter().enumerate() {
        for (name, value) in &s.values {
            match lines.iter_mut().find(|(n, _, _)| n == name) {
                Some((_, first, points)) => points.push((i, value / *first)),
                None if *value != 0.0 => lines.push((name.clone(), *value, vec![(i, 1.0)])),
                None => {}
            }
        }
    }
    lines.into_iter().map(|(n, _, p)| (n, p)).collect()
}

/// Draw the chart of `snaps` into the SVG file `path`.
pub fn draw(path: &Path, snaps: &[Snapshot]) -> Result<(), String> {
    let lines = normalised(snaps);
    let err = |e: &dyn std::fmt::Display| format!("drawing {}: {e}", path.display());
    let (lo, hi) = lines
        .iter()
        .flat_map(|(_, p)| p.iter().map(|&(_, r)| r))
        .fold((1.0f64, 1.0f64), |(lo, hi), r| (lo.min(r), hi.max(r)));
    let pad = ((hi - lo) * 0.1).max(0.05);
    let n = snaps.len().max(1);
    let root = SVGBackend::new(path, (1200, 700)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("hv: instruction counts per commit of {BASELINE}"),
            ("sans-serif", 26),
        )
        .margin(15)
        .x_label_area_size(70)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), (lo - pad)..(hi + pad))
        .map_err(|e| err(&e))?;
    let label = |x: &f64| {
        let i = x.round();
        if (x - i).abs() > 1e-6 || i < 0.0 {
            return String::new();
        }
        snaps
            .get(i as usize)
            .map_or(String::new(), |s| format!("{} {}", s.commit, s.date))
    };
    chart
        .configure_mesh()
        .x_labels(n.min(20))
        .x_label_formatter(&label)
        .x_desc("commit that changed the baseline")
        .y_desc("count / first recorded count")
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 17))
        .draw()
        .map_err(|e| err(&e))?;
    for (i, (name, points)) in lines.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let xy: Vec<(f64, f64)> = points.iter().map(|&(x, r)| (x as f64, r)).collect();
        chart
            .draw_series(LineSeries::new(xy.clone(), color.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label(name.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart
            .draw_series(xy.into_iter().map(|p| Circle::new(p, 3, color.filled())))
            .map_err(|e| err(&e))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 15))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

/// `cargo xtask perf --history`.
pub fn run() -> Result<(), String> {
    let root = workspace_root();
    let snaps = snapshots(&root, BASELINE)?;
    if snaps.is_empty() {
        return Err(format!("no commit has a {BASELINE} yet"));
    }
    println!(
        "xtask: {} commits changed {BASELINE} (uncommitted changes are not drawn):",
        snaps.len()
    );
    for s in &snaps {
        println!("  {} {} {}", s.commit, s.date, s.subject);
    }
    let dir = root.join("target/xtask");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join("perf-history.svg");
    draw(&path, &snaps)?;
    println!("xtask: chart written to {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::perf::{Recorded, Toolchain};

    fn baseline(values: &[(&str, f64)]) -> String {
        Baseline {
            date: "2026-01-01".into(),
            toolchain: Toolchain {
                rustc: "rustc 1.95.0".into(),
                valgrind: "valgrind-3.19.0".into(),
                cpu: "test".into(),
                qemu: "QEMU emulator version 10.0.2".into(),
            },
            metrics: values
                .iter()
                .map(|&(n, v)| Recorded {
                    name: n.into(),
                    value: v,
                    unit: "instr/op".into(),
                })
                .collect(),
        }
        .to_json()
    }

    #[test]
    fn log_lines_split_into_commit_date_subject() {
        let log = "abc1234\u{1f}2026-01-02\u{1f}perf: baseline: a | b\n\
                   def5678\u{1f}2026-01-03\u{1f}\n\n";
        assert_eq!(
            parse_log(log),
            [
                (
                    "abc1234".into(),
                    "2026-01-02".into(),
                    "perf: baseline: a | b".into()
                ),
                ("def5678".into(), "2026-01-03".into(), String::new()),
            ]
        );
    }

    #[test]
    fn lines_are_normalised_to_each_metrics_first_value() {
        let snap = |values: &[(&str, f64)]| Snapshot {
            commit: "c".into(),
            date: "d".into(),
            subject: "s".into(),
            values: values.iter().map(|&(n, v)| (n.into(), v)).collect(),
        };
        let lines = normalised(&[
            snap(&[("a", 10.0)]),
            snap(&[("a", 12.0), ("b", 4.0)]),
            snap(&[("b", 2.0)]),
        ]);
        assert_eq!(
            lines,
            [
                ("a".to_string(), vec![(0, 1.0), (1, 1.2)]),
                ("b".to_string(), vec![(1, 1.0), (2, 0.5)]),
            ]
        );
    }

    /// A synthetic history in a scratch git repository: three versions of
    /// the baseline, an unrelated commit, a version that does not parse.
    #[test]
    fn history_is_read_from_git_and_drawn() {
        let dir = std::env::temp_dir().join(format!("hv-perf-history-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("benches")).unwrap();
        let git = |args: &[&str]| {
            let out = Command::new("git")
                .arg("-C")
                .arg(&dir)
                .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
                .args(args)
                .output()
                .unwrap();
            assert!(out.status.success(), "git {args:?}: {out:?}");
        };
        git(&["init", "-q"]);
        let file = dir.join(BASELINE);
        let commit = |text: &str, msg: &str| {
            std::fs::write(&file, text).unwrap();
            git(&["add", "-A"]);
            git(&["commit", "-q", "-m", msg]);
        };
        commit(&baseline(&[("tlb/hit", 30.0)]), "first baseline");
        commit(
            &baseline(&[("tlb/hit", 33.0), ("mem/read_u64", 14.0)]),
            "perf: baseline: a slower hit",
        );
        std::fs::write(dir.join("other.txt"), "x").unwrap();
        git(&["add", "-A"]);
        git(&["commit", "-q", "-m", "unrelated"]);
        commit("not json", "broken");
        commit(
            &baseline(&[("tlb/hit", 15.0), ("mem/read_u64", 7.0)]),
            "perf: baseline: twice as fast",
        );

        let snaps = snapshots(&dir, BASELINE).unwrap();
        let subjects: Vec<&str> = snaps.iter().map(|s| s.subject.as_str()).collect();
        assert_eq!(
            subjects,
            [
                "first baseline",
                "perf: baseline: a slower hit",
                "perf: baseline: twice as fast"
            ]
        );
        assert!(snaps
            .iter()
            .all(|s| s.date.len() == 10 && s.commit.len() >= 7));
        assert_eq!(
            normalised(&snaps),
            [
                ("tlb/hit".to_string(), vec![(0, 1.0), (1, 1.1), (2, 0.5)]),
                ("mem/read_u64".to_string(), vec![(1, 1.0), (2, 0.5)]),
            ]
        );

        let svg = dir.join("history.svg");
        draw(&svg, &snaps).unwrap();
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.starts_with("<svg"), "{}", &text[..text.len().min(80)]);
        assert!(text.contains("tlb/hit") && text.contains("mem/read_u64"));
        assert!(text.contains(&snaps[2].commit));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

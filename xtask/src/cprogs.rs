//! The C corpus (tests/cprogs): small C programs compiled by Debian's gcc
//! and clang at -O2 and -O3 (auto-vectorized), and once for ARMv8.1-A with
//! CRC and crypto, run on plain QEMU and on hv-sim; their output must be
//! identical. The compilers and QEMU are the oracles: nobody here wrote the
//! code the programs run.

use crate::image::workspace_root;
use crate::CprogsArgs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The programs, by file stem under tests/cprogs.
pub const PROGRAMS: &[&str] = &[
    "sha256",
    "checksums",
    "compress",
    "sort",
    "strings",
    "matrix",
    "fpmath",
    "atomics",
    "printf",
];

/// A compiler of the corpus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compiler {
    /// Debian's aarch64-linux-gnu-gcc.
    Gcc,
    /// Debian's clang, targeting aarch64-linux-gnu.
    Clang,
}

/// One way of compiling the corpus.
#[derive(Clone, Copy, Debug)]
pub struct Variant {
    /// Short name, e.g. `gcc-O3`; also the output directory.
    pub name: &'static str,
    pub compiler: Compiler,
    pub flags: &'static [&'static str],
}

/// Every variant: both compilers at -O2 and -O3 (vectorizing), and both at
/// -O3 for ARMv8.1-A with CRC and crypto (LSE atomics, CRC32).
pub const VARIANTS: &[Variant] = &[
    Variant {
        name: "gcc-O2",
        compiler: Compiler::Gcc,
        flags: &["-O2"],
    },
    Variant {
        name: "gcc-O3",
        compiler: Compiler::Gcc,
        flags: &["-O3"],
    },
    Variant {
        name: "clang-O2",
        compiler: Compiler::Clang,
        flags: &["-O2"],
    },
    Variant {
        name: "clang-O3",
        compiler: Compiler::Clang,
        flags: &["-O3"],
    },
    Variant {
        name: "gcc-O3-v8.1",
        compiler: Compiler::Gcc,
        flags: &["-O3", "-march=armv8.1-a+crc+crypto"],
    },
    Variant {
        name: "clang-O3-v8.1",
        compiler: Compiler::Clang,
        flags: &["-O3", "-march=armv8.1-a+crc+crypto"],
    },
];

/// Flags every compile gets: a freestanding image, no calls the runtime
/// does not provide (outlined atomics, errno-setting sqrt, stack
/// protector), no unwind tables.
const COMMON_FLAGS: &[&str] = &[
    "-ffreestanding",
    "-nostdlib",
    "-fno-pic",
    "-fno-pie",
    "-mno-outline-atomics",
    "-fno-stack-protector",
    "-fno-math-errno",
    "-fno-asynchronous-unwind-tables",
    "-std=gnu11",
    "-Wall",
    "-Wextra",
    "-Werror",
];

/// The runtime's string functions must not be compiled into calls to
/// themselves.
const RUNTIME_FLAGS: &[&str] = &["-fno-builtin"];

/// Most guest instructions a program may run on hv-sim (the largest runs
/// about 10^8): a bound, so a wrong branch cannot loop for ever.
const MAX_INSNS: &str = "5000000000";

/// What one program did on both machines.
#[derive(Debug)]
pub struct Outcome {
    pub program: &'static str,
    pub same: bool,
    pub qemu_ok: bool,
    pub detail: String,
}

fn corpus_dir() -> PathBuf {
    workspace_root().join("tests/cprogs")
}

fn out_dir(variant: &Variant) -> PathBuf {
    workspace_root()
        .join("target/xtask/cprogs")
        .join(variant.name)
}

fn compiler_command(compiler: Compiler) -> Command {
    match compiler {
        Compiler::Gcc => Command::new("aarch64-linux-gnu-gcc"),
        Compiler::Clang => {
            let mut c = Command::new("clang");
            c.arg("--target=aarch64-linux-gnu");
            c
        }
    }
}

fn run_tool(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}").replace('"', "");
    let out = cmd
        .output()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{shown}` failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn compile(variant: &Variant, src: &Path, obj: &Path, extra: &[&str]) -> Result<(), String> {
    let mut cmd = compiler_command(variant.compiler);
    cmd.args(COMMON_FLAGS)
        .args(variant.flags)
        .args(extra)
        .arg("-I")
        .arg(corpus_dir().join("rt"))
        .arg("-c")
        .arg(src)
        .arg("-o")
        .arg(obj);
    run_tool(&mut cmd)
}

/// libgcc for the helpers both compilers may call (128-bit division).
fn libgcc() -> Result<PathBuf, String> {
    let out = Command::new("aarch64-linux-gnu-gcc")
        .arg("-print-libgcc-file-name")
        .output()
        .map_err(|e| format!("cannot run aarch64-linux-gnu-gcc: {e}"))?;
    Ok(PathBuf::from(
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    ))
}

/// Build every program of `variant`; returns the flat Images by program.
pub fn build(
    variant: &Variant,
    only: Option<&str>,
) -> Result<Vec<(&'static str, PathBuf)>, String> {
    let dir = out_dir(variant);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let rt = corpus_dir().join("rt");
    let start_o = dir.join("start.o");
    let rt_o = dir.join("rt.o");
    compile(variant, &rt.join("start.S"), &start_o, &[])?;
    compile(variant, &rt.join("rt.c"), &rt_o, RUNTIME_FLAGS)?;
    let libgcc = libgcc()?;
    let mut images = Vec::new();
    for &program in PROGRAMS.iter().filter(|p| only.is_none_or(|o| o == **p)) {
        let obj = dir.join(format!("{program}.o"));
        let elf = dir.join(format!("{program}.elf"));
        let img = dir.join(format!("{program}.img"));
        compile(
            variant,
            &corpus_dir().join(format!("{program}.c")),
            &obj,
            &[],
        )?;
        run_tool(
            Command::new("aarch64-linux-gnu-ld")
                .args(["-static", "-nostdlib", "--no-warn-rwx-segments", "-T"])
                .arg(rt.join("link.ld"))
                .arg(&start_o)
                .arg(&rt_o)
                .arg(&obj)
                .arg(&libgcc)
                .arg("-o")
                .arg(&elf),
        )?;
        run_tool(
            Command::new("aarch64-linux-gnu-objcopy")
                .args(["-O", "binary"])
                .arg(&elf)
                .arg(&img),
        )?;
        images.push((program, img));
    }
    Ok(images)
}

/// Run `image` on plain QEMU (EL1, one CPU); returns (console, success).
fn on_qemu(image: &Path) -> Result<(String, bool), String> {
    let out = Command::new(workspace_root().join("qemu-runner.sh"))
        .arg(image)
        .env("HV_SMP", "1")
        .env("HV_MEM", "256M")
        .env("HV_TIMEOUT", "120")
        .env("HV_QEMU_EL1", "1")
        .output()
        .map_err(|e| format!("could not start qemu-runner.sh: {e}"))?;
    Ok((
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.success(),
    ))
}

/// Run `image` on hv-sim (both engines in lockstep where the JIT runs);
/// returns (console, the closing lines on stderr).
fn on_sim(sim: &Path, image: &Path) -> Result<(String, String), String> {
    let engine = crate::sim_tests::LOCKSTEP_ENGINE;
    let out = Command::new(sim)
        .args(["run", "--engine", engine, "--max-insns", MAX_INSNS])
        .arg(image)
        .output()
        .map_err(|e| format!("could not start {}: {e}", sim.display()))?;
    Ok((
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    ))
}

/// The first line where `a` and `b` differ, shown side by side.
fn first_difference(a: &str, b: &str) -> String {
    let (al, bl): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let n = al.len().max(bl.len());
    for i in 0..n {
        let (x, y) = (al.get(i), bl.get(i));
        if x != y {
            return format!(
                "line {}: QEMU {:?}, hv-sim {:?}",
                i + 1,
                x.unwrap_or(&"<end>"),
                y.unwrap_or(&"<end>")
            );
        }
    }
    "identical".into()
}

/// Build `variant` and run each program on both machines.
pub fn check_variant(
    sim: &Path,
    variant: &Variant,
    only: Option<&str>,
) -> Result<Vec<Outcome>, String> {
    let images = build(variant, only)?;
    let mut outcomes = Vec::new();
    for (program, image) in images {
        let (qemu, sim_result) = std::thread::scope(|s| {
            let q = s.spawn(|| on_qemu(&image));
            let h = on_sim(sim, &image);
            (
                q.join()
                    .unwrap_or_else(|_| Err("QEMU thread panicked".into())),
                h,
            )
        });
        let (qemu_text, qemu_ok) = qemu?;
        let (sim_text, sim_err) = sim_result?;
        let qemu_ok = qemu_ok && qemu_text.ends_with("exit 0\n");
        let same = qemu_text == sim_text;
        let detail = if same {
            sim_err.lines().last().unwrap_or("").to_string()
        } else {
            // A check report (the engines differ) is several lines.
            let why = match sim_err.find("hv-sim: check: the interpreter and the JIT differ") {
                Some(at) => &sim_err[at..],
                None => sim_err.lines().next().unwrap_or(""),
            };
            format!("{}; hv-sim: {why}", first_difference(&qemu_text, &sim_text))
        };
        outcomes.push(Outcome {
            program,
            same,
            qemu_ok,
            detail,
        });
    }
    Ok(outcomes)
}

/// Print `outcomes` of `variant`; Err names the programs that failed.
pub fn verdict(variant: &Variant, outcomes: &[Outcome]) -> Result<(), String> {
    let mut bad = Vec::new();
    for o in outcomes {
        let status = match (o.qemu_ok, o.same) {
            (false, _) => "QEMU FAILED",
            (true, true) => "same",
            (true, false) => "DIFFERS",
        };
        println!(
            "xtask: {:<14} {:<10} {:<11} {}",
            variant.name, o.program, status, o.detail
        );
        if !(o.qemu_ok && o.same) {
            bad.push(o.program);
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}: {} on hv-sim differ from QEMU or failed",
            variant.name,
            bad.join(", ")
        ))
    }
}

/// `cargo xtask cprogs`.
pub fn run(args: &CprogsArgs) -> Result<(), String> {
    crate::prereq::for_c_corpus()?;
    crate::prereq::for_qemu(&[crate::Arch::Aarch64])?;
    if let Some(v) = &args.variant {
        if !VARIANTS.iter().any(|x| x.name == v) {
            let names: Vec<&str> = VARIANTS.iter().map(|x| x.name).collect();
            return Err(format!(
                "no variant {v:?}; the variants are {}",
                names.join(", ")
            ));
        }
    }
    if let Some(p) = &args.program {
        if !PROGRAMS.contains(&p.as_str()) {
            return Err(format!(
                "no program {p:?}; the programs are {}",
                PROGRAMS.join(", ")
            ));
        }
    }
    let sim = crate::sim_tests::build()?;
    let start = Instant::now();
    let mut failures = Vec::new();
    for variant in VARIANTS
        .iter()
        .filter(|v| args.variant.as_ref().is_none_or(|n| n == v.name))
    {
        println!("xtask: C corpus, {}", variant.name);
        let outcomes = check_variant(&sim, variant, args.program.as_deref())?;
        if let Err(e) = verdict(variant, &outcomes) {
            failures.push(e);
        }
    }
    println!(
        "xtask: C corpus finished in {:.0} s",
        start.elapsed().as_secs_f64()
    );
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

/// The corpus as checks of `cargo xtask test`: one per variant.
pub fn checks(sim: &Path) -> Vec<(String, Result<(), String>)> {
    if let Err(e) = crate::prereq::for_c_corpus() {
        return vec![("C corpus compilers".into(), Err(e))];
    }
    VARIANTS
        .iter()
        .map(|v| {
            let name = format!(
                "C corpus ({}) on hv-sim ({}) = plain QEMU",
                v.name,
                crate::sim_tests::LOCKSTEP_ENGINE
            );
            let result = check_variant(sim, v, None).and_then(|o| verdict(v, &o));
            (name, result)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_program_exists_and_variant_names_are_unique() {
        for p in PROGRAMS {
            assert!(corpus_dir().join(format!("{p}.c")).is_file(), "{p}.c");
        }
        let mut names: Vec<_> = VARIANTS.iter().map(|v| v.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), VARIANTS.len());
    }

    #[test]
    fn differences_name_the_first_line() {
        assert_eq!(first_difference("a\nb\n", "a\nb\n"), "identical");
        assert_eq!(
            first_difference("a\nb\n", "a\nc\n"),
            "line 2: QEMU \"b\", hv-sim \"c\""
        );
        assert_eq!(
            first_difference("a\n", "a\nx\n"),
            "line 2: QEMU \"<end>\", hv-sim \"x\""
        );
    }
}

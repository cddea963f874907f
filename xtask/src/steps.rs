//! The `run`, `test` and `bench` subcommands.

use crate::boards::Board;
use crate::image::{self, cargo, run_checked, workspace_root};
use crate::{
    boot_tests, check_isa, guest, linux, perf, prereq, Arch, BenchArgs, RunArgs, TestArgs,
};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// `cargo xtask run`: build, then boot under QEMU through qemu-runner.sh.
pub fn run(args: &RunArgs) -> Result<(), String> {
    prereq::for_build(args.build.target)?;
    prereq::for_qemu(&[args.build.target])?;
    let board = args.board;
    if board != Board::Virt && args.build.target != Arch::Aarch64 {
        return Err(format!(
            "--board {board:?} is an AArch64 board: add --target aarch64"
        ));
    }
    if args.plain_qemu {
        if board != Board::Virt {
            return Err("--plain-qemu runs guests on `virt` only".into());
        }
        return run_plain(args);
    }
    let dtb = board.dtb()?;
    let x86_guest = match args.build.target {
        Arch::X86_64 => Some(x86_guest(args)?),
        Arch::Aarch64 => None,
    };
    let img = image::build(&args.build)?;
    let machine = match board {
        Board::Virt => format!("{} CPUs, {} RAM", args.smp, args.mem),
        // The boards' CPUs and RAM are set by qemu-runner.sh.
        _ => format!("QEMU -M {}, 4 CPUs, 2 GiB RAM", board.qemu_machine()),
    };
    println!(
        "xtask: booting the {} build {} under QEMU ({machine}{})",
        if args.build.release {
            "release"
        } else {
            "debug"
        },
        img.display(),
        if args.gdb {
            ", waiting for gdb on :1234"
        } else {
            ""
        }
    );
    let mut cmd = Command::new(workspace_root().join("qemu-runner.sh"));
    cmd.arg(&img);
    match &x86_guest {
        None => {
            cmd.args(guest_args(args, board.has_virtio())?);
        }
        Some(elf) => {
            cmd.arg("-initrd").arg(elf);
            cmd.args(guest::pci_disk_args(&x86_disk(args)?));
            if let Some(size) = &args.guest_mem {
                cmd.arg("-append").arg(format!("hv.guest_mem={size}"));
            }
        }
    }
    cmd.env("HV_SMP", args.smp.to_string())
        .env("HV_MEM", &args.mem)
        .env("HV_TIMEOUT", timeout(args).to_string());
    if args.gdb {
        cmd.env("HV_GDB", "1");
    }
    if let Some(dtb) = &dtb {
        println!("xtask: the board's device tree: {}", dtb.display());
        cmd.env("HV_BOARD", board.qemu_machine()).env("HV_DTB", dtb);
    }
    let status = cmd
        .status()
        .map_err(|e| format!("could not start qemu-runner.sh: {e}"))?;
    match status.code() {
        Some(0) => Ok(()),
        Some(124) => Err(format!("QEMU did not finish within {} s", timeout(args))),
        Some(2) if args.build.target == Arch::Aarch64 => Err(
            "the guest asked for a reset with --no-reboot (the test guests' FAIL verdict)".into(),
        ),
        _ => Err(format!("the image failed under QEMU ({status})")),
    }
}

/// The x86 guest of `cargo xtask run --target x86_64`: the test guest
/// (`default`) or an ELF path.
fn x86_guest(args: &RunArgs) -> Result<PathBuf, String> {
    match args.guest.as_str() {
        "default" => guest::build_x86_guest(args.build.release),
        "linux" => crate::linux_x86::bundle(args.shell),
        path => {
            let p = PathBuf::from(path);
            if p.is_file() {
                Ok(p)
            } else {
                Err(format!(
                    "--guest {path}: on x86_64, `default` (tests/guests/x86), `linux` or the path of a PVH ELF or a bundle"
                ))
            }
        }
    }
}

/// The x86 guest's disk: `--disk`, else one under target/xtask created
/// if missing (128 KiB for the test guest, as its boot test uses; 64 MiB
/// for Linux, whose init writes at 1 MiB and times 4 MiB runs).
fn x86_disk(args: &RunArgs) -> Result<PathBuf, String> {
    if let Some(d) = &args.disk {
        return Ok(d.clone());
    }
    let (name, bytes) = if args.guest == "linux" {
        ("x86-linux-disk.img", crate::linux_x86::DISK_BYTES)
    } else {
        ("x86-disk.img", 128 << 10)
    };
    let d = workspace_root().join("target/xtask").join(name);
    if !d.exists() {
        println!(
            "xtask: creating a {} KiB guest disk at {}",
            bytes >> 10,
            d.display()
        );
        guest::create_disk(&d, bytes)?;
    }
    Ok(d)
}

/// `cargo xtask run --plain-qemu`: the guest directly on QEMU `virt` at
/// EL1, no hv-kernel, with the same disks (and, for Linux, initramfs and
/// command line) hv would give it.
fn run_plain(args: &RunArgs) -> Result<(), String> {
    if args.build.target == Arch::X86_64 {
        // microvm boots the kernel ELF itself, not hv's bundle of it.
        let (elf, linux_args) = if args.guest == "linux" {
            let (vmlinux, initramfs) = crate::linux_x86::prepare()?;
            let extra = [
                "-initrd".into(),
                initramfs.display().to_string(),
                "-append".into(),
                crate::linux_x86::cmdline(args.shell),
            ];
            (vmlinux, extra.to_vec())
        } else {
            (x86_guest(args)?, Vec::new())
        };
        let disk = x86_disk(args)?;
        println!(
            "xtask: booting {} directly on QEMU microvm (no hv-kernel), disk {}",
            elf.display(),
            disk.display()
        );
        let status = Command::new(workspace_root().join("qemu-runner.sh"))
            .arg(&elf)
            .args(linux_args)
            .args(guest::disk_args(&disk, None))
            .env("HV_SMP", args.smp.to_string())
            .env("HV_MEM", &args.mem)
            .env("HV_TIMEOUT", timeout(args).to_string())
            .env("HV_QEMU_MICROVM", "1")
            .env("HV_GDB", if args.gdb { "1" } else { "0" })
            .status()
            .map_err(|e| format!("could not start qemu-runner.sh: {e}"))?;
        return match status.code() {
            Some(0) => Ok(()),
            _ => Err(format!("the guest failed on plain QEMU ({status})")),
        };
    }
    let dir = workspace_root().join("target/xtask");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut qemu_args: Vec<String> = vec!["-no-reboot".into()];
    let kernel = match args.guest.as_str() {
        name if guest::named_guest(name).is_some() => {
            let bin = guest::named_guest(name).unwrap_or_default();
            guest::build_guest(&bin, args.build.release || name == "exitbench")?
        }
        "linux" => {
            let (k, rd) =
                linux::prepare(args.linux.kernel.as_deref(), args.linux.initrd.as_deref())?;
            let cmdline = format!("{} {}", linux::cmdline(args.shell), args.cmdline);
            qemu_args.extend([
                "-initrd".into(),
                rd.display().to_string(),
                "-append".into(),
                cmdline.trim().to_string(),
            ]);
            k
        }
        path => {
            let k = PathBuf::from(path);
            if !k.is_file() {
                return Err(format!("--guest {}: no such file", k.display()));
            }
            k
        }
    };
    if args.guest != "linux" && !args.cmdline.is_empty() {
        qemu_args.extend(["-append".into(), args.cmdline.clone()]);
    }
    let disk = args.disk.clone().unwrap_or_else(|| dir.join("disk.img"));
    if !disk.exists() {
        guest::create_disk(&disk, 64 << 20)?;
    }
    let ro = dir.join("ro-disk.img");
    if !ro.exists() {
        guest::create_disk(&ro, 1 << 20)?;
    }
    qemu_args.extend(guest::disk_args(&disk, Some(&ro)));
    println!(
        "xtask: booting {} directly on QEMU at EL1 ({} CPUs, {} RAM, no hv-kernel)",
        kernel.display(),
        args.smp,
        args.mem
    );
    let status = Command::new(workspace_root().join("qemu-runner.sh"))
        .arg(&kernel)
        .args(&qemu_args)
        .env("HV_SMP", args.smp.to_string())
        .env("HV_MEM", &args.mem)
        .env("HV_TIMEOUT", timeout(args).to_string())
        .env("HV_QEMU_EL1", "1")
        .env("HV_GDB", if args.gdb { "1" } else { "0" })
        .status()
        .map_err(|e| format!("could not start qemu-runner.sh: {e}"))?;
    // QEMU with -no-reboot exits 0 on a reset too: the guest's own PASS or
    // FAIL line is the verdict.
    match status.code() {
        Some(0) => Ok(()),
        Some(124) => Err(format!("QEMU did not finish within {} s", timeout(args))),
        _ => Err(format!("QEMU failed ({status})")),
    }
}

/// Seconds before QEMU is stopped: as asked, else 120 (never for a shell).
fn timeout(args: &RunArgs) -> u64 {
    args.timeout.unwrap_or(if args.shell { 0 } else { 120 })
}

/// QEMU arguments that hand hv-kernel its guest: the bundle as the initrd,
/// hv's options on the command line, the disks as virtio-blk devices.
/// QEMU arguments for hv's guest: the bundle, hv's options and the guest's
/// disks, as virtio devices where the machine has virtio-mmio (`virtio`),
/// otherwise carried in the bundle for hv to serve from RAM.
fn guest_args(args: &RunArgs, virtio: bool) -> Result<Vec<String>, String> {
    let dir = workspace_root().join("target/xtask");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let bundle = dir.join("run.bundle");
    let mut guest_mem = "128M";
    let mut cmdline = args.cmdline.clone();
    let (kernel, initrd) = match args.guest.as_str() {
        name if guest::named_guest(name).is_some() => {
            let bin = guest::named_guest(name).unwrap_or_default();
            let k = guest::build_guest(&bin, args.build.release || name == "exitbench")?;
            (k, None)
        }
        "linux" => {
            let (k, rd) =
                linux::prepare(args.linux.kernel.as_deref(), args.linux.initrd.as_deref())?;
            cmdline = format!("{} {}", linux::cmdline(args.shell), args.cmdline)
                .trim()
                .to_string();
            guest_mem = "256M";
            (k, Some(rd))
        }
        path => {
            let k = PathBuf::from(path);
            if !k.is_file() {
                return Err(format!("--guest {}: no such file", k.display()));
            }
            (k, None)
        }
    };
    let guest_mem = args.guest_mem.as_deref().unwrap_or(guest_mem);
    let mut hv_options = format!("hv.guest_mem={guest_mem}");
    if args.no_reboot {
        hv_options.push_str(" hv.no_reboot");
    }
    // A disk in the bundle costs its size in the bundle and in the host's
    // RAM, so the default one there is smaller.
    let (default_name, default_size) = if virtio {
        ("disk.img", 64 << 20)
    } else {
        ("bundle-disk.img", 8 << 20)
    };
    let disk = args.disk.clone().unwrap_or_else(|| dir.join(default_name));
    if !disk.exists() {
        println!(
            "xtask: creating a {} MiB guest disk at {}",
            default_size >> 20,
            disk.display()
        );
        guest::create_disk(&disk, default_size)?;
    }
    // A small read-only second disk (the default guest checks that writes
    // to it fail).
    let ro = dir.join("ro-disk.img");
    if !ro.exists() {
        guest::create_disk(&ro, 1 << 20)?;
    }
    let mut out: Vec<String> = vec![
        "-no-reboot".into(),
        "-initrd".into(),
        bundle.display().to_string(),
        "-append".into(),
        hv_options,
    ];
    if virtio {
        guest::write_bundle(&kernel, initrd.as_deref(), &cmdline, &bundle)?;
        out.extend(guest::disk_args(&disk, Some(&ro)));
    } else {
        guest::write_bundle_with_disks(
            &kernel,
            initrd.as_deref(),
            &cmdline,
            [Some(&disk), Some(&ro)],
            &bundle,
        )?;
    }
    println!(
        "xtask: guest {} with {guest_mem} RAM, disk {}{}",
        kernel.display(),
        disk.display(),
        if virtio {
            ""
        } else {
            " (carried in the bundle: the machine has no virtio, so hv serves it from RAM \
             and guest writes do not reach the file)"
        }
    );
    Ok(out)
}

/// One named check of `cargo xtask test`.
struct Step {
    name: String,
    ok: bool,
}

/// `cargo xtask test`: everything CI runs. Keeps going after a failure so
/// one run reports every problem, then fails if anything failed.
pub fn test(args: &TestArgs) -> Result<(), String> {
    let start = Instant::now();
    let root = workspace_root();
    let mut steps = Vec::new();
    let mut step = |name: &str, result: Result<(), String>| {
        match &result {
            Ok(()) => println!("xtask: ok: {name}"),
            Err(e) => println!("xtask: FAILED: {name}: {e}"),
        }
        steps.push(Step {
            name: name.to_string(),
            ok: result.is_ok(),
        });
    };
    let cargo_in_root = |args: &[&str]| {
        let mut cmd = Command::new(cargo());
        cmd.current_dir(&root).args(args);
        run_checked(&mut cmd)
    };

    for arch in Arch::ALL {
        prereq::for_build(arch)?;
    }
    // The guests' target too: their lints below run before anything
    // builds a guest (a toolchain installed without the targets of
    // rust-toolchain.toml has none of them).
    prereq::rust_target(guest::GUEST_TRIPLE)?;
    // hv-sim's ACPI test disassembles hv's DSDT with ACPICA.
    prereq::for_iasl()?;
    println!("\n==> formatting");
    step(
        "cargo fmt --check",
        cargo_in_root(&["fmt", "--all", "--check"]),
    );
    println!("\n==> lints (host)");
    step(
        "clippy (host, all targets)",
        cargo_in_root(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    );
    for arch in Arch::ALL {
        println!("\n==> lints ({})", arch.name());
        let mut args = vec!["clippy", "-p", "hv-kernel", "-p", "hv-core", "-p", "virtio"];
        args.extend(["--target", arch.triple(), "--", "-D", "warnings"]);
        step(&format!("clippy ({})", arch.triple()), cargo_in_root(&args));
    }
    step(
        &format!("clippy (test guests, {})", guest::GUEST_TRIPLE),
        cargo_in_root(&[
            "clippy",
            "-p",
            "guest-default",
            "--target",
            guest::GUEST_TRIPLE,
            "--",
            "-D",
            "warnings",
        ]),
    );
    step(
        &format!("clippy (x86 test guest, {})", guest::X86_GUEST_TRIPLE),
        cargo_in_root(&[
            "clippy",
            "-p",
            "guest-x86",
            "--target",
            guest::X86_GUEST_TRIPLE,
            "--",
            "-D",
            "warnings",
        ]),
    );
    println!("\n==> unsafe policy");
    step("virtio forbids unsafe code", check_forbid_unsafe(&root));
    for policy in UNSAFE_POLICY {
        step(
            &format!(
                "{} denies unsafe code outside {}",
                policy.krate,
                policy.allowed.join(", ")
            ),
            check_unsafe_policy(&root, policy),
        );
    }
    println!("\n==> host tests");
    step(
        "cargo test --workspace",
        cargo_in_root(&["test", "--workspace"]),
    );

    println!("\n==> performance gate");
    let perf_start = Instant::now();
    let gate = "perf gate (instruction counts vs benches/baseline.json)";
    match perf::collect_all(false) {
        Ok(metrics) => {
            step(gate, perf::check(&metrics, false));
            step(
                "perf gate fails on an injected TLB slowdown (hv-core/perf-slowdown-test)",
                perf::inject_slowdown(Some(&metrics)),
            );
        }
        Err(e) => step(gate, Err(e)),
    }
    println!(
        "xtask: the performance gate took {:.0} s",
        perf_start.elapsed().as_secs_f64()
    );

    println!("\n==> instruction set against QEMU user mode (check-isa sample)");
    let isa_start = Instant::now();
    step(
        &format!(
            "check-isa: {} sequences per class vs qemu-aarch64, implemented classes match",
            check_isa::TEST_SAMPLE_COUNT
        ),
        check_isa::test_sample(),
    );
    println!(
        "xtask: the check-isa sample took {:.0} s",
        isa_start.elapsed().as_secs_f64()
    );

    if args.no_boot {
        println!("\n==> QEMU boot tests skipped (--no-boot)");
    } else {
        println!("\n==> QEMU boot tests");
        match prereq::for_qemu(&Arch::ALL) {
            Ok(()) => {
                for (name, result) in boot_tests::run_all() {
                    step(&name, result);
                }
            }
            Err(e) => step("QEMU available", Err(e)),
        }
    }

    let failed: Vec<&Step> = steps.iter().filter(|s| !s.ok).collect();
    println!(
        "\nxtask test finished in {:.0} s",
        start.elapsed().as_secs_f64()
    );
    for s in &failed {
        println!("  failed: {}", s.name);
    }
    println!(
        "summary: {} passed, {} failed",
        steps.len() - failed.len(),
        failed.len()
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("{} of {} checks failed", failed.len(), steps.len()))
    }
}

/// The crates above the arch layer keep `#![forbid(unsafe_code)]`.
fn check_forbid_unsafe(root: &std::path::Path) -> Result<(), String> {
    let lib = root.join("virtio/src/lib.rs");
    let text = std::fs::read_to_string(&lib).map_err(|e| format!("{}: {e}", lib.display()))?;
    if text.lines().any(|l| l.trim() == "#![forbid(unsafe_code)]") {
        Ok(())
    } else {
        Err(format!("{} lacks #![forbid(unsafe_code)]", lib.display()))
    }
}

/// Where a crate allows unsafe code: its root denies `unsafe_code`, and only
/// the named modules (declared in the root) carry `#[allow(unsafe_code)]`.
struct UnsafePolicy {
    krate: &'static str,
    root: &'static str,
    allowed: &'static [&'static str],
}

const UNSAFE_POLICY: &[UnsafePolicy] = &[
    UnsafePolicy {
        krate: "hv-core",
        root: "hv-core/src/lib.rs",
        allowed: &["mem", "translate/jit/native"],
    },
    UnsafePolicy {
        krate: "hv-kernel",
        root: "hv-kernel/src/main.rs",
        allowed: &["arch"],
    },
    UnsafePolicy {
        krate: "hv-sim",
        root: "hv-sim/src/lib.rs",
        allowed: &["code_arena"],
    },
];

fn check_unsafe_policy(root: &std::path::Path, policy: &UnsafePolicy) -> Result<(), String> {
    let lib = root.join(policy.root);
    let src = lib.parent().unwrap_or(root);
    let mut files = Vec::new();
    collect_rs_files(src, &mut files)?;
    let texts = files
        .iter()
        .map(|f| {
            std::fs::read_to_string(f)
                .map(|t| (f.strip_prefix(root).unwrap_or(f).display().to_string(), t))
                .map_err(|e| format!("{}: {e}", f.display()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let root_name = policy.root.to_string();
    let problems = unsafe_policy_problems(&root_name, &texts, policy.allowed);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn collect_rs_files(dir: &std::path::Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            collect_rs_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// What breaks the policy in `files` (path, text): the root lacks
/// `#![deny(unsafe_code)]`, or `allow(unsafe_code)` appears anywhere but on
/// the declaration of an allowed module, in the file that declares it.
/// Allowed modules are paths from the crate root: `mem` is `mod mem;` in
/// the root, `a/b/c` is `mod c;` in `a/b/mod.rs` or `a/b.rs`.
fn unsafe_policy_problems(root: &str, files: &[(String, String)], allowed: &[&str]) -> Vec<String> {
    let src = root.rsplit_once('/').map_or("", |(dir, _)| dir);
    let in_src = |rel: &str| {
        if src.is_empty() {
            rel.to_string()
        } else {
            format!("{src}/{rel}")
        }
    };
    // (declaring file, module name) for each allowed module.
    let declarations: Vec<(Vec<String>, &str)> = allowed
        .iter()
        .map(|m| match m.rsplit_once('/') {
            None => (vec![root.to_string()], *m),
            Some((parent, name)) => (
                vec![
                    in_src(&format!("{parent}/mod.rs")),
                    in_src(&format!("{parent}.rs")),
                ],
                name,
            ),
        })
        .collect();
    let mut problems = Vec::new();
    for (path, text) in files {
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        if path == root && !lines.contains(&"#![deny(unsafe_code)]") {
            problems.push(format!("{path} lacks #![deny(unsafe_code)]"));
        }
        for (i, line) in lines.iter().enumerate() {
            if !line.contains("allow(unsafe_code)") {
                continue;
            }
            // The next line that is not an attribute is what it applies to.
            let target = lines[i + 1..].iter().find(|l| !l.starts_with("#["));
            let on_allowed_module = target.is_some_and(|t| {
                declarations.iter().any(|(declared_in, name)| {
                    declared_in.iter().any(|f| f == path)
                        && (*t == format!("mod {name};") || *t == format!("pub mod {name};"))
                })
            });
            if !on_allowed_module {
                problems.push(format!("{path}:{}: unsafe code allowed here", i + 1));
            }
        }
    }
    problems
}

/// `cargo xtask bench`: the Criterion benchmarks of hv-sim.
pub fn bench(args: &BenchArgs) -> Result<(), String> {
    if args.vs_qemu {
        prereq::for_qemu(&[Arch::Aarch64])?;
        let sim = crate::sim_tests::build()?;
        return crate::sim_tests::vs_qemu(&sim);
    }
    let stability = args.stability || args.report_only || args.strict;
    // Results written by this run only (a little slack for coarse mtimes).
    let mut since = None;
    if !args.report_only {
        let mut cmd = Command::new(cargo());
        cmd.current_dir(workspace_root())
            .args(["bench", "-p", "hv-sim"]);
        for b in &args.benches {
            cmd.args(["--bench", b]);
        }
        if !args.args.is_empty() {
            cmd.arg("--").args(&args.args);
        }
        println!("xtask: running benchmarks (this takes minutes)");
        since = Some(std::time::SystemTime::now() - std::time::Duration::from_secs(2));
        run_checked(&mut cmd)?;
    }
    if !stability {
        return Ok(());
    }
    let dir = crate::bench_stability::criterion_dir();
    let benches = crate::bench_stability::collect(&dir, since)?;
    if benches.is_empty() {
        return Err(format!(
            "no benchmark results {} under {}",
            if since.is_some() {
                "written by this run (--load-baseline and --discard-baseline write none)"
            } else {
                "found"
            },
            dir.display()
        ));
    }
    println!(
        "xtask: stability of Criterion's results under {}{}",
        dir.display(),
        if since.is_some() {
            " from this run"
        } else {
            ""
        }
    );
    let targets = crate::bench_stability::TARGETS;
    let missed = crate::bench_stability::report(&benches, &targets);
    if missed > 0 && args.strict {
        return Err(format!(
            "{missed} benchmark(s) miss the stability targets (--strict)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::unsafe_policy_problems;

    fn files(root: &str, other: &str) -> Vec<(String, String)> {
        vec![
            ("src/lib.rs".to_string(), root.to_string()),
            ("src/other.rs".to_string(), other.to_string()),
        ]
    }

    #[test]
    fn unsafe_allowed_only_on_the_named_module() {
        let root = "#![deny(unsafe_code)]\n#[allow(unsafe_code)]\npub mod mem;\nmod other;\n";
        assert!(unsafe_policy_problems("src/lib.rs", &files(root, ""), &["mem"]).is_empty());
    }

    #[test]
    fn missing_deny_and_stray_allows_are_reported() {
        let root = "#[allow(unsafe_code)]\nmod other;\n";
        let other = "#[allow(unsafe_code)]\nfn f() {}\n";
        let p = unsafe_policy_problems("src/lib.rs", &files(root, other), &["mem"]);
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(p[0].contains("lacks"), "{p:?}");
    }

    #[test]
    fn nested_modules_are_allowed_only_in_their_parent() {
        let root = "#![deny(unsafe_code)]\nmod a;\n";
        let parent = "#[allow(unsafe_code)]\nmod native;\n";
        let files = |parent_path: &str| {
            vec![
                ("src/lib.rs".to_string(), root.to_string()),
                (parent_path.to_string(), parent.to_string()),
            ]
        };
        for ok in ["src/a/b/mod.rs", "src/a/b.rs"] {
            let p = unsafe_policy_problems("src/lib.rs", &files(ok), &["a/b/native"]);
            assert!(p.is_empty(), "{ok}: {p:?}");
        }
        let p = unsafe_policy_problems("src/lib.rs", &files("src/a/mod.rs"), &["a/b/native"]);
        assert_eq!(p.len(), 1, "{p:?}");
        let p = unsafe_policy_problems("src/lib.rs", &files("src/a/b/mod.rs"), &["native"]);
        assert_eq!(p.len(), 1, "{p:?}");
    }
}

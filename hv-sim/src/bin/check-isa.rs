//! `check-isa`: hv-core's interpreter against QEMU user mode, instruction by
//! instruction (see `hv_sim::isacheck`). Usually run as `cargo xtask
//! check-isa`, which installs qemu-aarch64 first.
#![forbid(unsafe_code)]

use clap::Parser;
use hv_sim::isacheck::{self, forms, gen::GenOptions, qemu::Qemu, report, Runner};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "check-isa",
    about = "Check hv-core's interpreter against qemu-aarch64, instruction class by class"
)]
struct Args {
    /// Sequences per class.
    #[arg(long, default_value_t = 2000)]
    count: usize,
    /// Generator seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Only these classes (repeat, or comma separated).
    #[arg(long, value_delimiter = ',')]
    class: Vec<String>,
    /// Mismatches shown in full per class.
    #[arg(long, default_value_t = 3)]
    show: usize,
    /// Fail on any class that mismatches, not only the implemented ones.
    #[arg(long)]
    strict: bool,
    /// List the classes and stop.
    #[arg(long)]
    list: bool,
    /// FPCR = 0 in every sequence (default: random rounding mode, FZ, DN, AHP).
    #[arg(long, conflicts_with = "fpcr_mask")]
    fpcr_zero: bool,
    /// Draw only these FPCR bits at random, e.g. 0x06000000 for DN and AHP
    /// (default 0x07c00000: AHP, DN, FZ, RMode).
    #[arg(long, value_parser = parse_hex)]
    fpcr_mask: Option<u64>,
    /// Mismatching sequences cut down to their first bad instruction, per class.
    #[arg(long, default_value_t = 200)]
    minimize: usize,
    /// The qemu-aarch64 binary.
    #[arg(long, default_value = "qemu-aarch64")]
    qemu: PathBuf,
    /// QEMU's CPU model.
    #[arg(long, default_value = "max")]
    qemu_cpu: String,
    /// llvm-objdump (default: rustup's llvm-tools).
    #[arg(long)]
    objdump: Option<PathBuf>,
    /// Directory for the generated programs (default: a temporary one).
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

fn parse_hex(s: &str) -> Result<u64, String> {
    let t = s.trim_start_matches("0x");
    u64::from_str_radix(t, 16).map_err(|e| format!("`{s}`: {e}"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.list {
        for c in forms::classes() {
            let listed = if forms::IMPLEMENTED.contains(&c.name) {
                "implemented"
            } else {
                "not listed"
            };
            println!("{:<18} {:<12} {}", c.name, listed, c.about);
        }
        return ExitCode::SUCCESS;
    }
    let dir = args.work_dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("hv-check-isa-{}", std::process::id()))
    });
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("check-isa: {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let objdump = args.objdump.clone().or_else(isacheck::disasm::find_objdump);
    if objdump.is_none() {
        eprintln!(
            "check-isa: llvm-objdump not found (rustup component add llvm-tools): no disassembly"
        );
    }
    let version = std::process::Command::new(&args.qemu)
        .arg("--version")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .unwrap_or_else(|e| format!("cannot run: {e}"));
    let fpcr_mask = if args.fpcr_zero {
        0
    } else {
        args.fpcr_mask.unwrap_or(isacheck::gen::FPCR_BITS) & isacheck::gen::FPCR_BITS
    };
    println!(
        "check-isa: seed {}, {} sequences per class, {} -cpu {} ({version}), FPCR bits {fpcr_mask:#010x} random",
        args.seed,
        args.count,
        args.qemu.display(),
        args.qemu_cpu,
    );
    let opts = report::Options {
        count: args.count,
        seed: args.seed,
        classes: args.class.clone(),
        show: args.show,
        strict: args.strict,
        gen: GenOptions { fpcr_mask },
        minimize: args.minimize,
        objdump,
    };
    let qemu = Qemu {
        binary: args.qemu.clone(),
        cpu: args.qemu_cpu.clone(),
        dir: dir.clone(),
    };
    let mut runner = Runner::new(qemu, args.seed);
    let result = report::run(&mut runner, &opts, &dir);
    if args.work_dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("check-isa: error: {e}");
            ExitCode::FAILURE
        }
    }
}

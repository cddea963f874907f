//! `cargo xtask`: build, run, test and benchmark hv.
//!
//! Every subcommand has `--help`. Prerequisites (QEMU, the rustup targets and
//! llvm-tools) are checked before any work starts.

mod bench_stability;
mod boards;
mod boot_tests;
mod check_isa;
mod cpio;
mod cprogs;
mod deccov;
mod exitbench;
mod fdt_nop;
mod guest;
mod image;
mod linux;
mod linux_x86;
mod perf;
mod perf_guests;
mod perf_history;
mod perf_host;
mod prereq;
mod sim_tests;
mod smp_guests;
mod steps;
mod stress;
mod x86_guests;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Build, run, test and benchmark the hv hypervisor"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the hv-kernel image for a target.
    Build(BuildArgs),
    /// Build hv-kernel and boot it under QEMU (serial console on stdio).
    Run(RunArgs),
    /// Run everything CI runs: format and lint checks, host tests, QEMU boot tests.
    Test(TestArgs),
    /// Run the Criterion benchmarks (`cargo bench -p hv-sim`); extra arguments go to Criterion.
    #[command(
        long_about = "Run the Criterion benchmarks (`cargo bench -p hv-sim`, the sources in \
benches/); arguments after the options go to Criterion, e.g. \
`cargo xtask bench -- --save-baseline main` then, on another branch, \
`cargo xtask bench -- --baseline main`, or a filter and shorter runs: \
`cargo xtask bench --bench tlb -- lookup --warm-up-time 1 --measurement-time 2`.\n\n\
--stability then reads what Criterion wrote (target/criterion/*/new/sample.json, \
estimates.json) and reports, per benchmark and per group, the outlier fraction (Tukey's \
fences on the per-iteration times, as Criterion classifies them: mild beyond 1.5 IQR, severe \
beyond 3 IQR), the coefficient of variation (std dev / mean) and P99 / mean, against the \
targets outliers < 2% of samples, CV < 0.1, P99 < 5x mean. Misses are listed; --strict makes \
them an error. --report-only reads the existing results without running anything.\n\n\
--vs-qemu runs no Criterion bench: it times the benchmark guest (tests/guests/default/src/bin/\
bench.rs) on plain QEMU and on hv-sim, each workload repeated (reps=N on its command line) \
until QEMU's start-up, measured with reps=0, is under 5% of the run."
    )]
    Bench(BenchArgs),
    /// Prepare a guest (download and build it) without running it.
    Guest(GuestArgs),
    /// Boot Debian's Linux under the release hv-kernel many times (2 and 4
    /// vCPUs) with the host loaded by a second QEMU guest; hangs are kept
    /// with the CPUs' registers under target/xtask/stress/.
    Stress(StressArgs),
    /// Measure the cost of guest exits (HVC, emulated MMIO, SGIs, self-IPI,
    /// WFI): the exit-benchmark guest on plain QEMU at EL1 and under
    /// hv-kernel (both release builds, 2 CPUs), printed as a table.
    Exitbench(ExitbenchArgs),
    /// The performance gate: count the instructions of fixed workloads
    /// (callgrind, QEMU -icount; deterministic), compare them with
    /// benches/baseline.json and fail on a regression.
    #[command(
        long_about = "The performance gate: count the instructions of fixed workloads under \
valgrind's callgrind (and hv-kernel's exits with the guest's PMU under QEMU -icount), compare \
them with the committed benches/baseline.json and print a table (metric | baseline | now | \
change). A count more than 5% above the baseline warns, more than 10% fails (the counts do not \
vary from run to run). If the baseline was taken with another rustc, valgrind, QEMU or CPU, \
failures are reported as warnings. Improvements beyond 5% are reported too (record them with \
--update).\n\n\
Host workloads (hv-sim/examples/perf_drivers.rs): guest memory read/write, 4 KiB bulk copies, \
TLB hit and miss+walk, frame allocation (single, batch of 100), a 4 KiB virtio-blk read and \
write through the whole queue path, decode + IR of a 64-instruction block.\n\n\
Guest workloads: hv-sim's host instructions per guest instruction (sim-interp/...) running the \
default guest, the benchmark guest's workloads (size=small) and, in the full gate only, Linux \
up to its userspace marker; hv-kernel's own instructions per exit (hv-exit/...: HVC, MMIO to \
the PL011, GICD and GICR, a self-IPI, an SGI ping-pong), guest-exitbench's PMU count under hv \
minus the same on plain QEMU."
    )]
    Perf(PerfArgs),
    /// The C corpus (tests/cprogs): C programs compiled by Debian's gcc and
    /// clang (-O2, -O3, and -O3 for ARMv8.1-A+crc+crypto) run on plain QEMU
    /// and on hv-sim; their output must be identical.
    Cprogs(CprogsArgs),
    /// Check hv-core's interpreter instruction by instruction against QEMU
    /// user mode (qemu-aarch64): random valid encodings per instruction
    /// class, the same inputs on both, every register, flag and the
    /// scratch memory compared.
    #[command(
        long_about = "Check hv-core's interpreter instruction by instruction against QEMU user mode \
(qemu-aarch64 from Debian's qemu-user, installed if missing). For each instruction class a \
generator draws random valid encodings (every operand field random: registers, sizes, lanes, \
shifts, immediates; FPCR rounding mode, FZ, DN and AHP random per sequence) into short \
sequences. Each sequence runs from the same inputs (X0-X30, SP, NZCV, V0-V31, FPCR, a 256-byte \
scratch buffer the load/store bases point into) in a generated static AArch64 Linux ELF under \
qemu-aarch64 and on hv-core's interpreter at EL0; X0-X30, SP, NZCV, V0-V31, FPSR and the \
scratch memory must match.\n\n\
The report gives per class the sequences compared, matched, mismatched and undefined-in-hv \
(the interpreter raised UNDEF where QEMU executed the sequence), and the first mismatches with \
their disassembly (llvm-objdump), inputs and both outputs. Fails if a class listed as \
implemented mismatches or is undefined; other classes fail only with --strict."
    )]
    CheckIsa(CheckIsaArgs),
    /// Count the words of Debian's arm64 kernel text and busybox's .text
    /// that LLVM's disassembler decodes and hv's decoder calls Undefined,
    /// by mnemonic and architecture feature; fails if any is ARMv8.0 or an
    /// advertised extension (CRC32, LSE, AES/PMULL, SHA1, SHA256).
    #[command(
        long_about = "Count the words of Debian's arm64 kernel text and busybox's .text \
that LLVM's disassembler decodes and hv's decoder calls Undefined, by mnemonic and architecture \
feature.\n\n\
Every 32-bit word of the kernel's _text.._etext (from --system-map, or _stext from the Image's \
PE header to an estimated _etext, since Debian ships a placeholder System.map) and of busybox's \
.text goes through hv's decoder (hv-sim's decode_undefined example) and through rustup's \
llvm-objdump twice: with --mattr=+all, and with ARMv8.0 plus the extensions hv is to advertise \
(+v8a,+fp-armv8,+neon,+crc,+lse,+aes,+sha2). Words LLVM decodes in the restricted run must \
decode in hv (HINT-space words such as PACIASP decode there as hints); words only the +all run \
decodes belong to extensions hv does not advertise and are listed separately. UDF words are \
counted apart (Undefined is right for them). --binutils also runs aarch64-linux-gnu-objdump \
and reports the words it and LLVM disagree on.\n\n\
Exit status: non-zero if any ARMv8.0/advertised word is Undefined (with --strict, any word)."
    )]
    DecodeCoverage(deccov::DecodeCoverageArgs),
}

#[derive(Args, Debug)]
pub struct CprogsArgs {
    /// Only this variant (gcc-O2, gcc-O3, clang-O2, clang-O3, gcc-O3-v8.1,
    /// clang-O3-v8.1).
    #[arg(long)]
    pub variant: Option<String>,
    /// Only this program (a file stem under tests/cprogs, e.g. sha256).
    #[arg(long)]
    pub program: Option<String>,
}

#[derive(Args, Debug)]
pub struct CheckIsaArgs {
    /// Sequences per class.
    #[arg(long, default_value_t = 2000)]
    pub count: u32,
    /// Seed of the generator (the same seed draws the same sequences).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Only these classes (repeat the option, or comma separated); see --list.
    #[arg(long, value_delimiter = ',')]
    pub class: Vec<String>,
    /// Mismatches shown in full per class.
    #[arg(long, default_value_t = 3)]
    pub show: u32,
    /// Fail on mismatches in any class, not only those listed as implemented.
    #[arg(long)]
    pub strict: bool,
    /// List the classes (and whether each is listed as implemented) and stop.
    #[arg(long)]
    pub list: bool,
    /// FPCR = 0 in every sequence (default: random rounding mode, FZ, DN
    /// and AHP per sequence).
    #[arg(long, conflicts_with = "fpcr_mask")]
    pub fpcr_zero: bool,
    /// Draw only these FPCR bits at random (hex, e.g. 0x06000000 for DN and
    /// AHP; default 0x07c00000: AHP, DN, FZ and RMode).
    #[arg(long)]
    pub fpcr_mask: Option<String>,
}

#[derive(Args, Debug)]
pub struct PerfArgs {
    /// Only the fast part of the gate (what `cargo xtask test` runs).
    #[arg(long, conflicts_with = "update")]
    pub fast: bool,
    /// Rewrite benches/baseline.json from this run (all metrics, this
    /// toolchain); commit it saying why the counts changed.
    #[arg(long)]
    pub update: bool,
    /// Draw the counts recorded at every commit of benches/baseline.json,
    /// normalised to each metric's first value, to
    /// target/xtask/perf-history.svg.
    #[arg(long, conflicts_with_all = ["fast", "update", "inject_slowdown"])]
    pub history: bool,
    /// Prove the gate works: build the workloads with hv-core's
    /// perf-slowdown-test feature (extra work on every TLB hit) and check
    /// the gate fails on exactly tlb/hit.
    #[arg(long, conflicts_with_all = ["fast", "update"])]
    pub inject_slowdown: bool,
    /// Measure one metric source only: `host` (hv-core's and virtio's
    /// operations) or `guests` (whole guests on hv-sim, hv-kernel's exits).
    #[arg(long, value_name = "SOURCE", conflicts_with_all = ["update", "history", "inject_slowdown"])]
    pub only: Option<String>,
}

#[derive(Args, Debug)]
pub struct StressArgs {
    /// Which hv image boots Linux: aarch64 (Debian's arm64 kernel on QEMU
    /// virt) or x86_64 (Debian's amd64 kernel on q35, a vCPU per host CPU).
    #[arg(long, value_enum, default_value = "aarch64")]
    pub target: Arch,
    /// Boots per vCPU count.
    #[arg(long, default_value_t = 20)]
    pub boots: u32,
    /// vCPU counts to boot with (comma separated).
    #[arg(long, value_delimiter = ',', default_values_t = [2, 4])]
    pub smp: Vec<u32>,
    /// Do not load the host with a second QEMU guest.
    #[arg(long)]
    pub no_load: bool,
    /// Boot to the shell, type a command and power off from it.
    #[arg(long)]
    pub shell: bool,
    /// Use the debug build of hv-kernel.
    #[arg(long)]
    pub debug: bool,
    /// Seconds without console output before a boot counts as hung.
    #[arg(long, default_value_t = 40)]
    pub quiet: u64,
    /// Seconds a boot may take at most.
    #[arg(long, default_value_t = 180)]
    pub limit: u64,
}

#[derive(Args, Debug)]
pub struct ExitbenchArgs {
    /// Stop each QEMU run after this many seconds.
    #[arg(long, default_value_t = 60)]
    pub timeout: u32,
}

#[derive(Args, Debug)]
pub struct GuestArgs {
    #[command(subcommand)]
    pub which: GuestKind,
}

#[derive(Subcommand, Debug)]
pub enum GuestKind {
    /// Debian's arm64 cloud kernel with a busybox initramfs: downloaded with
    /// apt-get (adding the arm64 architecture to dpkg) and cached under
    /// target/guest-linux.
    Linux(LinuxArgs),
}

#[derive(Args, Debug, Clone, Default)]
pub struct LinuxArgs {
    /// Use this kernel Image (plain or gzip) instead of Debian's.
    #[arg(long)]
    pub kernel: Option<std::path::PathBuf>,
    /// Use this initramfs instead of the generated one.
    #[arg(long)]
    pub initrd: Option<std::path::PathBuf>,
}

/// The machine hv-kernel is built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Arch {
    /// AArch64, booted at EL2 (QEMU virt with virtualization=on).
    Aarch64,
    /// x86_64, booted through PVH (QEMU q35).
    #[value(name = "x86_64", alias = "x86-64")]
    X86_64,
}

impl Arch {
    /// All architectures, in test order.
    pub const ALL: [Arch; 2] = [Arch::Aarch64, Arch::X86_64];

    /// The Rust target triple of hv-kernel. On AArch64 it is the soft-float
    /// target: hv never touches the FP/SIMD registers, so the guest's stay
    /// live in them across exits and are never saved.
    pub fn triple(self) -> &'static str {
        match self {
            Arch::Aarch64 => "aarch64-unknown-none-softfloat",
            Arch::X86_64 => "x86_64-unknown-none",
        }
    }

    /// Short name used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Arch::Aarch64 => "aarch64",
            Arch::X86_64 => "x86_64",
        }
    }
}

#[derive(Args, Clone, Debug)]
pub struct BuildArgs {
    /// Target architecture.
    #[arg(long, value_enum, default_value = "aarch64")]
    pub target: Arch,
    /// Build with optimisations.
    #[arg(long)]
    pub release: bool,
    /// Extra hv-kernel cargo features (comma separated), e.g. fault-test.
    #[arg(long)]
    pub features: Option<String>,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub build: BuildArgs,
    /// Start QEMU's gdbstub on localhost:1234 and wait for a debugger.
    #[arg(long)]
    pub gdb: bool,
    /// AArch64: the machine QEMU models. `virt` (GICv3, PSCI, virtio);
    /// `imx8mp`, NXP's i.MX 8M Plus EVK, or `raspi4b`, a Raspberry Pi 4,
    /// each with the board's own device tree from Debian's arm64 kernel
    /// package (downloaded once). Those boards have no virtio: the guest's
    /// disks travel in its bundle and hv serves them from RAM. On the Pi hv
    /// starts its CPUs through the spin table and powers off through the
    /// watchdog; guests there need GICv2 support, which hv lacks so far.
    #[arg(long, value_enum, default_value = "virt")]
    pub board: boards::Board,
    /// Number of CPUs.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=8))]
    pub smp: u32,
    /// RAM of the machine QEMU emulates (e.g. 512M, 2G).
    #[arg(long, default_value = "512M", value_parser = parse_mem)]
    pub mem: String,
    /// Stop QEMU after this many seconds (0: never; default 120, or never
    /// with --shell).
    #[arg(long)]
    pub timeout: Option<u64>,
    /// The guest hv runs. AArch64: `default` (the test guest in
    /// tests/guests/default), another test guest of that crate by name
    /// (`sgi`, `timers`, `psci`, `exitbench`, `faults`, `bench`, `reboot`, `topva`,
    /// `vflood`), `linux`
    /// (Debian's kernel with a busybox initramfs, see `cargo xtask guest
    /// linux`) or the path of an arm64 Image, ELF or raw binary. x86_64:
    /// `default` (the test guest in tests/guests/x86), `linux` (Debian's
    /// amd64 kernel with a busybox initramfs, booted through PVH) or the
    /// path of an x86_64 ELF with a PVH entry note, or of a guest bundle.
    #[arg(long, default_value = "default")]
    pub guest: String,
    /// Boot the guest directly on QEMU, without hv-kernel (the reference
    /// run of the differential tests): AArch64 `virt` at EL1, x86_64
    /// `microvm`.
    #[arg(long)]
    pub plain_qemu: bool,
    /// With `--guest linux`: leave a busybox shell on the console
    /// (`poweroff -f` ends the run).
    #[arg(long)]
    pub shell: bool,
    #[command(flatten)]
    pub linux: LinuxArgs,
    /// The guest's disk image (raw); created (64 MiB) if missing. Default:
    /// target/xtask/disk.img. x86_64: QEMU gives it to hv as virtio-blk-pci
    /// and hv serves it to the guest (with --plain-qemu, microvm's
    /// virtio-mmio); default target/xtask/x86-disk.img (128 KiB) or, for
    /// Linux, x86-linux-disk.img (64 MiB).
    #[arg(long)]
    pub disk: Option<std::path::PathBuf>,
    /// RAM hv gives the guest (a multiple of 2M). AArch64: default 128M,
    /// 256M for Linux; x86_64: default 256M.
    #[arg(long, value_parser = parse_mem)]
    pub guest_mem: Option<String>,
    /// AArch64: the guest's kernel command line.
    #[arg(long, default_value = "")]
    pub cmdline: String,
    /// AArch64: when the guest asks for a reset (PSCI SYSTEM_RESET), end the
    /// run with status 2 instead of rebooting the guest (what the tests use:
    /// the test guests' FAIL verdict is a reset).
    #[arg(long)]
    pub no_reboot: bool,
}

#[derive(Args, Debug)]
pub struct TestArgs {
    /// Skip the QEMU boot tests (host checks only).
    #[arg(long)]
    pub no_boot: bool,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// After the run, report each benchmark's stability (outliers, CV,
    /// P99/mean) from Criterion's samples under target/criterion.
    #[arg(long)]
    pub stability: bool,
    /// Run nothing: report the stability of the results already under
    /// target/criterion (implies --stability).
    #[arg(long, conflicts_with_all = ["benches", "args"])]
    pub report_only: bool,
    /// Exit with an error when a benchmark misses a stability target
    /// (implies --stability).
    #[arg(long)]
    pub strict: bool,
    /// Instead of Criterion: the benchmark guest's workloads on plain QEMU
    /// and on hv-sim, each repeated until QEMU's start-up (measured with
    /// reps=0) is under 5% of its run; prints times, the start-up share and
    /// the hv-sim/QEMU ratio with start-up subtracted.
    #[arg(long, conflicts_with_all = ["stability", "report_only", "strict", "benches", "args"])]
    pub vs_qemu: bool,
    /// Only this bench target: block, memory, allocation, tlb, translate or
    /// sim (repeatable).
    #[arg(long = "bench", value_name = "NAME")]
    pub benches: Vec<String>,
    /// Arguments passed to Criterion after `--` (e.g. a filter,
    /// --save-baseline NAME, --baseline NAME, --measurement-time S).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// Accept QEMU memory sizes: a number with an optional K/M/G/T suffix.
fn parse_mem(s: &str) -> Result<String, String> {
    let digits = s.trim_end_matches(['K', 'M', 'G', 'T', 'k', 'm', 'g', 't']);
    let suffix_len = s.len() - digits.len();
    if digits.is_empty() || suffix_len > 1 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{s}` is not a size like 512M or 2G"));
    }
    match digits.parse::<u64>() {
        Ok(0) | Err(_) => Err(format!("`{s}` is not a usable memory size")),
        Ok(_) => Ok(s.to_string()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build(args) => prereq::for_build(args.target)
            .and_then(|()| image::build(&args))
            .map(|img| println!("xtask: image at {}", img.display())),
        Command::Run(args) => steps::run(&args),
        Command::Test(args) => steps::test(&args),
        Command::Bench(args) => steps::bench(&args),
        Command::Stress(args) => stress::run(&args),
        Command::Exitbench(args) => exitbench::run(&args),
        Command::Perf(args) => perf::run(&args),
        Command::Cprogs(args) => cprogs::run(&args),
        Command::CheckIsa(args) => check_isa::run(&args),
        Command::DecodeCoverage(args) => deccov::run(&args),
        Command::Guest(GuestArgs {
            which: GuestKind::Linux(args),
        }) => linux::prepare(args.kernel.as_deref(), args.initrd.as_deref()).map(|_| ()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes_are_checked() {
        assert_eq!(parse_mem("512M"), Ok("512M".to_string()));
        assert_eq!(parse_mem("2G"), Ok("2G".to_string()));
        assert_eq!(parse_mem("1048576"), Ok("1048576".to_string()));
        assert!(parse_mem("0M").is_err());
        assert!(parse_mem("M").is_err());
        assert!(parse_mem("12MB").is_err());
        assert!(parse_mem("-1G").is_err());
    }

    #[test]
    fn cli_parses_run_options() {
        let cli = Cli::try_parse_from([
            "xtask",
            "run",
            "--target",
            "x86_64",
            "--smp",
            "4",
            "--mem",
            "1G",
            "--release",
        ])
        .unwrap();
        let Command::Run(run) = cli.command else {
            panic!("expected run")
        };
        assert_eq!(run.build.target, Arch::X86_64);
        assert_eq!(run.smp, 4);
        assert_eq!(run.mem, "1G");
        assert!(run.build.release);
        assert!(Cli::try_parse_from(["xtask", "run", "--smp", "0"]).is_err());
        assert!(Cli::try_parse_from(["xtask", "run", "--target", "riscv"]).is_err());
    }

    #[test]
    fn cli_parses_check_isa_options() {
        let cli = Cli::try_parse_from([
            "xtask",
            "check-isa",
            "--count",
            "20000",
            "--class",
            "lse,simd-tbl",
            "--class",
            "crc32",
            "--strict",
        ])
        .unwrap();
        let Command::CheckIsa(a) = cli.command else {
            panic!("expected check-isa")
        };
        assert_eq!(a.count, 20000);
        assert_eq!(a.class, ["lse", "simd-tbl", "crc32"]);
        assert!(a.strict && !a.list && !a.fpcr_zero);
        assert_eq!(a.seed, 1);
        assert!(Cli::try_parse_from(["xtask", "check-isa", "--count", "x"]).is_err());
    }

    #[test]
    fn cli_parses_bench_options() {
        let bench = |args: &[&str]| {
            Cli::try_parse_from(["xtask", "bench"].iter().chain(args)).map(|c| match c.command {
                Command::Bench(b) => b,
                _ => panic!("expected bench"),
            })
        };
        // Criterion's own flags pass through, with or without `--`.
        let b = bench(&["--save-baseline", "main"]).unwrap();
        assert_eq!(b.args, ["--save-baseline", "main"]);
        assert!(!b.stability);
        let b = bench(&["--", "--baseline", "main"]).unwrap();
        assert_eq!(b.args, ["--baseline", "main"]);
        let b = bench(&[
            "--stability",
            "--strict",
            "--bench",
            "tlb",
            "--bench",
            "sim",
            "--",
            "lookup",
            "--measurement-time",
            "2",
        ])
        .unwrap();
        assert!(b.stability && b.strict && !b.report_only);
        assert_eq!(b.benches, ["tlb", "sim"]);
        assert_eq!(b.args, ["lookup", "--measurement-time", "2"]);
        let b = bench(&["--report-only"]).unwrap();
        assert!(b.report_only && b.args.is_empty());
        // Reading old results runs nothing, so it takes nothing for a run.
        assert!(bench(&["--report-only", "--bench", "tlb"]).is_err());
        assert!(bench(&["--report-only", "--", "--quick"]).is_err());
        assert!(bench(&["--vs-qemu"]).unwrap().vs_qemu);
        assert!(bench(&["--vs-qemu", "--stability"]).is_err());
        assert!(bench(&["--vs-qemu", "--", "--quick"]).is_err());
    }

    #[test]
    fn cli_parses_perf_options() {
        let perf = |args: &[&str]| {
            Cli::try_parse_from(["xtask", "perf"].iter().chain(args)).map(|c| match c.command {
                Command::Perf(p) => (p.fast, p.update, p.inject_slowdown),
                _ => panic!("expected perf"),
            })
        };
        assert_eq!(perf(&[]).unwrap(), (false, false, false));
        assert_eq!(perf(&["--fast"]).unwrap(), (true, false, false));
        assert_eq!(perf(&["--update"]).unwrap(), (false, true, false));
        assert_eq!(perf(&["--inject-slowdown"]).unwrap(), (false, false, true));
        // --update records a full run, never the fast part alone.
        assert!(perf(&["--fast", "--update"]).is_err());
        assert!(perf(&["--inject-slowdown", "--update"]).is_err());
        assert!(perf(&["--history", "--update"]).is_err());
        let cli = Cli::try_parse_from(["xtask", "perf", "--history"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Perf(PerfArgs { history: true, .. })
        ));
        let cli = Cli::try_parse_from(["xtask", "perf", "--fast", "--only", "guests"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Perf(PerfArgs { fast: true, only: Some(ref o), .. }) if o == "guests"
        ));
        // --update records every source.
        assert!(perf(&["--only", "host", "--update"]).is_err());
    }
}

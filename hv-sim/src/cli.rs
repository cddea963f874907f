//! The `hv-sim` command line.

use crate::check::{self, CheckOutcome};
use crate::console::{Stdout, Watch};
use crate::machine::{DiskSpec, Machine, MachineConfig, Software};
use crate::run::{self, RunConfig};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// hv's simulator: runs an AArch64 guest on an emulated QEMU-virt-compatible
/// machine (the hv guest machine contract) with the hv core's translator.
///
/// Exit status: 0 when the guest powers off (PSCI SYSTEM_OFF) or printed
/// the --stop-at marker, 2 when it resets (SYSTEM_RESET; the test guests'
/// FAIL), 3 when --max-insns ran out, 4 when it waits in WFI with nothing
/// that could wake it, 5 when an exception vector faults again with no
/// progress (a fault loop), 6 when `--engine check` found the interpreter
/// and the JIT to differ, 1 on errors (bad image, missing file).
#[derive(Debug, Parser)]
#[command(name = "hv-sim", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// hv-sim's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Boot a guest image and run it until it powers off or resets.
    Run(RunArgs),
}

/// The CPU engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// The translator's block interpreter (the default where hv-sim has no
    /// JIT).
    Interp,
    /// hv-core's JIT (x86_64 Linux hosts, where it is the default): blocks
    /// run as generated code from their first run (see --jit-threshold);
    /// the instructions the JIT does not compile are interpreted one by
    /// one.
    Jit,
    /// Both, in lockstep on two machines, stopping at the first difference
    /// (state after each slice of up to 16,384 instructions, RAM every 67
    /// million instructions, console, disks at the end); on a difference
    /// it runs again block by block and names the block, what differs and
    /// the instruction that wrote it. The disks are copied: the images
    /// given are not written.
    Check,
}

/// `hv-sim run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Guest image: an arm64 Linux Image, an AArch64 ELF, a raw binary
    /// (loaded 2 MiB into RAM), or an hv guest bundle (kernel, initrd and
    /// command line).
    pub image: PathBuf,
    /// A read-write disk image (virtio-blk, 512-byte sectors); repeatable.
    /// Without any --disk/--ro-disk, the disks a guest bundle carries are
    /// used (temporary copies: writes do not outlive the run).
    /// Disks take virtio-mmio slots 0, 1, ... in order, read-write first.
    #[arg(long, value_name = "PATH")]
    pub disk: Vec<PathBuf>,
    /// A read-only disk image; repeatable.
    #[arg(long = "ro-disk", value_name = "PATH")]
    pub ro_disk: Vec<PathBuf>,
    /// Guest RAM size, in bytes or with a K, M or G suffix.
    #[arg(long, value_name = "SIZE", default_value = "128M", value_parser = parse_size)]
    pub mem: u64,
    /// Initial RAM disk (replaces a bundle's).
    #[arg(long, value_name = "PATH")]
    pub initrd: Option<PathBuf>,
    /// Kernel command line (replaces a bundle's).
    #[arg(long, value_name = "TEXT")]
    pub cmdline: Option<String>,
    /// CPU engine.
    #[arg(long, value_enum, default_value_t = Engine::DEFAULT)]
    pub engine: Engine,
    /// With the JIT: runs of a block in the interpreter before it is
    /// compiled (0 and 1: at its first run).
    #[arg(long, value_name = "N", default_value_t = hv_core::translate::jit::DEFAULT_THRESHOLD)]
    pub jit_threshold: u32,
    /// Print every guest exception, PSCI call and WFI wait to stderr.
    #[arg(long)]
    pub trace: bool,
    /// Stop after N guest instructions (exit status 3).
    #[arg(long, value_name = "N")]
    pub max_insns: Option<u64>,
    /// Stop once the guest's console output contains TEXT (exit status 0),
    /// at the end of the slice of at most 16384 instructions that printed
    /// it.
    #[arg(long, value_name = "TEXT", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub stop_at: Option<String>,
    /// Write the run's figures to FILE as one line of JSON: engine,
    /// outcome, exit_code, guest_insns (instructions the guest retired,
    /// the same on every run) and host_seconds; with the JIT also
    /// jit_blocks_compiled, jit_blocks_declined (blocks the back end could
    /// not compile, which run interpreted), jit_blocks_invalidated
    /// (compiled blocks dropped because the guest or a device wrote their
    /// instructions), jit_links (jumps between blocks patched to go
    /// straight to the next block's code), jit_code_entries (times the
    /// run loop entered
    /// compiled code; chained blocks follow each other without it) and
    /// jit_interpreted_insns (instructions compiled code handed to the
    /// interpreter).
    #[arg(long, value_name = "FILE")]
    pub stats: Option<PathBuf>,
}

impl Engine {
    /// The JIT where hv-sim has one (x86_64 Linux: an x86_64 back end and
    /// executable memory), the interpreter elsewhere.
    pub const DEFAULT: Engine = if cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        Engine::Jit
    } else {
        Engine::Interp
    };

    /// The engine's name on the command line and in the stats.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Interp => "interp",
            Engine::Jit => "jit",
            Engine::Check => "check",
        }
    }
}

/// `"128M"` -> 134217728; plain numbers are bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (digits, shift) = match s.char_indices().last() {
        Some((i, 'k' | 'K')) => (&s[..i], 10),
        Some((i, 'm' | 'M')) => (&s[..i], 20),
        Some((i, 'g' | 'G')) => (&s[..i], 30),
        _ => (s, 0),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a size (e.g. 134217728, 512K, 128M, 1G)"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("`{s}` is too large"))
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Run `hv-sim run` and return the process exit status.
pub fn run_command(args: &RunArgs) -> ExitCode {
    match try_run(args) {
        Ok(code) => ExitCode::from(code),
        Err(msg) => {
            eprintln!("hv-sim: error: {msg}");
            ExitCode::from(1)
        }
    }
}

fn try_run(args: &RunArgs) -> Result<u8, String> {
    let image = read(&args.image)?;
    let initrd = args.initrd.as_deref().map(read).transpose()?;
    let mut sw = Software::from_image(&image).map_err(|e| e.to_string())?;
    if let Some(rd) = &initrd {
        sw.initrd = Some(rd);
    }
    if let Some(c) = &args.cmdline {
        sw.cmdline = c;
    }
    let mut disks: Vec<DiskSpec> = args
        .disk
        .iter()
        .map(|p| DiskSpec {
            path: p.clone(),
            read_only: false,
        })
        .chain(args.ro_disk.iter().map(|p| DiskSpec {
            path: p.clone(),
            read_only: true,
        }))
        .collect();
    // Disks the bundle carries, as hv-kernel serves them on boards without
    // virtio: used when no --disk/--ro-disk is given, from temporary
    // copies (removed at the end), so guest writes do not outlive the run.
    let _bundle_disks = if disks.is_empty() {
        let copies = BundleDisks::write(&image)?;
        disks.extend(copies.specs());
        Some(copies)
    } else {
        None
    };
    let threshold = args.jit_threshold;
    let config = MachineConfig {
        ram_size: args.mem,
        disks,
        trace: args.trace,
        jit: (args.engine == Engine::Jit).then_some(threshold),
    };
    let run_config = RunConfig {
        max_insns: args.max_insns,
        trace: args.trace,
        stop: None,
    };
    if args.engine == Engine::Check {
        let outcome = check::check(
            &config,
            &sw,
            &run_config,
            args.stop_at.as_deref(),
            threshold,
        )?;
        return match outcome {
            CheckOutcome::Agree(report) => finish(args, &report),
            CheckOutcome::Differ(text) => {
                eprintln!("hv-sim: check: {text}");
                Ok(CHECK_DIFFERS)
            }
        };
    }
    let (machine, stop) = match &args.stop_at {
        Some(marker) => {
            let (sink, seen) = Watch::new(Stdout, marker);
            (Machine::new(&config, &sw, sink), Some(seen))
        }
        None => (Machine::new(&config, &sw, Stdout), None),
    };
    let mut machine = machine.map_err(|e| e.to_string())?;
    if args.trace {
        eprintln!(
            "hv-sim: trace: {:?} kernel, entry {}, DTB at {}",
            machine.format, machine.entry, machine.dtb
        );
    }
    let report = run::run(&mut machine, RunConfig { stop, ..run_config });
    finish(args, &report)
}

/// Temporary files holding the disks a guest bundle carries; removed when
/// dropped.
struct BundleDisks(Vec<DiskSpec>);

impl BundleDisks {
    /// Copies of `image`'s bundle disks (none if it is not a bundle or
    /// carries none).
    fn write(image: &[u8]) -> Result<BundleDisks, String> {
        let mut out = BundleDisks(Vec::new());
        if !hv_core::vm::bundle::is_bundle(image) {
            return Ok(out);
        }
        let b = hv_core::vm::bundle::parse(image).map_err(|e| e.to_string())?;
        for (contents, read_only) in [(b.disk, false), (b.read_only_disk, true)] {
            let Some(contents) = contents else { continue };
            let path = std::env::temp_dir().join(format!(
                "hv-sim-{}-bundle-{}.img",
                std::process::id(),
                if read_only { "ro" } else { "rw" }
            ));
            std::fs::write(&path, contents).map_err(|e| format!("{}: {e}", path.display()))?;
            out.0.push(DiskSpec { path, read_only });
        }
        Ok(out)
    }

    fn specs(&self) -> Vec<DiskSpec> {
        self.0.clone()
    }
}

impl Drop for BundleDisks {
    fn drop(&mut self) {
        for d in &self.0 {
            let _ = std::fs::remove_file(&d.path);
        }
    }
}

/// Exit status of `--engine check` when the engines differ.
pub const CHECK_DIFFERS: u8 = 6;

/// Print the run's outcome and figures, write the stats file; the exit
/// status.
fn finish(args: &RunArgs, report: &run::RunReport) -> Result<u8, String> {
    eprintln!("hv-sim: {}", report.outcome);
    eprintln!("hv-sim: {report}");
    if let Some(path) = &args.stats {
        std::fs::write(path, report.to_json(args.engine.name()))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(report.outcome.exit_code())
}

/// Parse the process arguments and run.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Command::Run(args) => run_command(args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("512K"), Ok(512 << 10));
        assert_eq!(parse_size("128M"), Ok(128 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert!(parse_size("M").is_err());
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("99999999999G").is_err());
    }

    #[test]
    fn command_line_is_consistent() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from([
            "hv-sim",
            "run",
            "g.img",
            "--disk",
            "a",
            "--ro-disk",
            "b",
            "--mem",
            "64M",
            "--max-insns",
            "1000",
            "--stop-at",
            "up",
            "--stats",
            "s.json",
        ])
        .expect("parses");
        let Command::Run(a) = cli.command;
        assert_eq!(a.disk, [PathBuf::from("a")]);
        assert_eq!(a.ro_disk, [PathBuf::from("b")]);
        assert_eq!(a.mem, 64 << 20);
        assert_eq!(a.max_insns, Some(1000));
        assert_eq!(a.engine, Engine::DEFAULT);
        assert_eq!(
            Engine::DEFAULT == Engine::Jit,
            cfg!(all(target_arch = "x86_64", target_os = "linux"))
        );
        assert_eq!(a.stop_at.as_deref(), Some("up"));
        assert_eq!(a.stats, Some(PathBuf::from("s.json")));
        assert!(Cli::try_parse_from(["hv-sim", "run", "g.img", "--stop-at", ""]).is_err());
    }
}

//! Checking (and where we may, installing) what the build and QEMU runs need.

use crate::image::run_checked;
use crate::Arch;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The apt source file whose `Suites:` line gets bookworm-backports.
const DEBIAN_SOURCES: &str = "/etc/apt/sources.list.d/debian.sources";

fn rustc_sysroot() -> Result<PathBuf, String> {
    let out = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("cannot run rustc: {e}; install Rust with rustup"))?;
    if !out.status.success() {
        return Err("`rustc --print sysroot` failed".into());
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// The rustup target for `arch` (from rust-toolchain.toml), installed if missing.
pub fn for_build(arch: Arch) -> Result<(), String> {
    rust_target(arch.triple())?;
    if arch == Arch::Aarch64 {
        llvm_objcopy()?;
    }
    Ok(())
}

/// The rustup target `triple`, installed if missing.
pub fn rust_target(triple: &str) -> Result<(), String> {
    let sysroot = rustc_sysroot()?;
    if !sysroot.join("lib/rustlib").join(triple).is_dir() {
        println!("xtask: installing the Rust target {triple} (rustup)");
        run_checked(Command::new("rustup").args(["target", "add", triple]))
            .map_err(|e| format!("{e}; run `rustup target add {triple}`"))?;
    }
    Ok(())
}

/// Path of llvm-objcopy from rustup's llvm-tools component, installed if missing.
pub fn llvm_objcopy() -> Result<PathBuf, String> {
    llvm_tool("llvm-objcopy")
}

/// Path of llvm-objdump from rustup's llvm-tools component, installed if
/// missing (`cargo xtask check-isa` disassembles with it).
pub fn llvm_objdump() -> Result<PathBuf, String> {
    llvm_tool("llvm-objdump")
}

/// Path of `tool` from rustup's llvm-tools component, installed if missing.
fn llvm_tool(tool: &str) -> Result<PathBuf, String> {
    let find = || -> Result<Option<PathBuf>, String> {
        let lib = rustc_sysroot()?.join("lib/rustlib");
        let found = std::fs::read_dir(&lib)
            .map_err(|e| format!("cannot read {}: {e}", lib.display()))?
            .filter_map(Result::ok)
            .map(|d| d.path().join("bin").join(tool))
            .find(|p| p.is_file());
        Ok(found)
    };
    if let Some(p) = find()? {
        return Ok(p);
    }
    println!("xtask: installing rustup's llvm-tools (for {tool})");
    run_checked(Command::new("rustup").args(["component", "add", "llvm-tools"]))
        .map_err(|e| format!("{e}; run `rustup component add llvm-tools`"))?;
    find()?.ok_or_else(|| format!("{tool} still missing after installing llvm-tools"))
}

fn on_path(program: &str) -> bool {
    find_on_path(program).is_some()
}

/// Where `program` is on PATH.
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

fn qemu_binary(arch: Arch) -> &'static str {
    match arch {
        Arch::Aarch64 => "qemu-system-aarch64",
        Arch::X86_64 => "qemu-system-x86_64",
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn os_release_codename() -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("VERSION_CODENAME="))
        .map(|v| v.trim_matches('"').to_string())
}

/// Add `extra` to the `Suites:` line of the stanza that lists `base` (and is
/// not the security archive). Returns the new text, or None if nothing to do.
pub fn add_suite(sources: &str, base: &str, extra: &str) -> Option<String> {
    let mut changed = false;
    let lines: Vec<String> = sources
        .lines()
        .map(|line| {
            let Some(rest) = line.strip_prefix("Suites:") else {
                return line.to_string();
            };
            let suites: Vec<&str> = rest.split_whitespace().collect();
            if !changed && suites.contains(&base) && !suites.contains(&extra) {
                changed = true;
                format!("{line} {extra}")
            } else {
                line.to_string()
            }
        })
        .collect();
    if changed {
        let mut text = lines.join("\n");
        if sources.ends_with('\n') {
            text.push('\n');
        }
        Some(text)
    } else {
        None
    }
}

/// QEMU for `archs` is present; installed from Debian's packages when we are
/// root on Debian, otherwise a one-line request to install it.
pub fn for_qemu(archs: &[Arch]) -> Result<(), String> {
    let missing: Vec<&str> = archs
        .iter()
        .map(|&a| qemu_binary(a))
        .filter(|b| !on_path(b))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let request = "QEMU is missing: install qemu-system-arm and qemu-system-x86 \
                   (on Debian bookworm from bookworm-backports: \
                   apt-get install -t bookworm-backports qemu-system-arm qemu-system-x86)";
    install_packages(
        "QEMU",
        &missing,
        &["qemu-system-arm", "qemu-system-x86"],
        request,
    )?;
    match archs.iter().map(|&a| qemu_binary(a)).find(|b| !on_path(b)) {
        Some(b) => Err(format!("{b} still missing after apt-get. {request}")),
        None => Ok(()),
    }
}

/// QEMU's AArch64 user-mode emulator (`qemu-aarch64`, Debian's `qemu-user`),
/// the reference `cargo xtask check-isa` compares hv's interpreter with:
/// installed like [`for_qemu`] (from bookworm-backports, QEMU 10, on
/// bookworm), otherwise a one-line request. Returns its path.
pub fn for_qemu_user() -> Result<PathBuf, String> {
    const BIN: &str = "qemu-aarch64";
    let request = "qemu-aarch64 is missing: install Debian's qemu-user \
                   (on Debian bookworm from bookworm-backports: \
                   apt-get install --no-install-recommends -t bookworm-backports qemu-user)";
    if !on_path(BIN) {
        install_packages("QEMU", &[BIN], &["qemu-user"], request)?;
    }
    find_on_path(BIN).ok_or_else(|| format!("{BIN} still missing after apt-get. {request}"))
}

/// ACPICA's `iasl` (Debian's acpica-tools), which hv-sim's ACPI test
/// disassembles hv's DSDT with: installed like [`for_qemu`], otherwise a
/// one-line request.
pub fn for_iasl() -> Result<(), String> {
    const BIN: &str = "iasl";
    let request = "iasl is missing: install Debian's acpica-tools                    (apt-get install --no-install-recommends acpica-tools)";
    if !on_path(BIN) {
        install_packages("acpica-tools", &[BIN], &["acpica-tools"], request)?;
    }
    find_on_path(BIN)
        .map(|_| ())
        .ok_or_else(|| format!("{BIN} still missing after apt-get. {request}"))
}

/// Install Debian's `packages` (`what`, for the log) because `missing`
/// were not found: as root on Debian (from bookworm-backports on
/// bookworm: bookworm's own QEMU conflicts with the newer qemu-utils these
/// machines carry, and the backports suite has a matching QEMU 10; other
/// packages come from bookworm itself), otherwise fail with `request`.
fn install_packages(
    what: &str,
    missing: &[&str],
    packages: &[&str],
    request: &str,
) -> Result<(), String> {
    if !Path::new("/etc/debian_version").exists() || !is_root() {
        return Err(format!("{} not found. {request}", missing.join(", ")));
    }
    println!(
        "xtask: {} not found; installing {what} with apt-get",
        missing.join(", ")
    );
    let codename = os_release_codename().unwrap_or_default();
    let mut install = Command::new("apt-get");
    install
        .env("DEBIAN_FRONTEND", "noninteractive")
        // Recommends would pull in ~180 packages (GPU drivers, firmware for
        // other machines); the emulators need none of them.
        .args(["install", "-y", "-q", "--no-install-recommends"]);
    if codename == "bookworm" {
        let text = std::fs::read_to_string(DEBIAN_SOURCES)
            .map_err(|e| format!("cannot read {DEBIAN_SOURCES}: {e}. {request}"))?;
        if let Some(new) = add_suite(&text, "bookworm", "bookworm-backports") {
            println!("xtask: adding bookworm-backports to {DEBIAN_SOURCES}");
            std::fs::write(DEBIAN_SOURCES, new)
                .map_err(|e| format!("cannot write {DEBIAN_SOURCES}: {e}"))?;
        }
        install.args(["-t", "bookworm-backports"]);
    }
    apt_get(Command::new("apt-get").args(["update", "-q"]))?;
    apt_get(install.args(packages))
}

/// Run an apt-get command; when another apt-get or dpkg holds its lock
/// (other jobs on the machine may be installing too), wait and retry, for
/// up to about 5 minutes.
fn apt_get(cmd: &mut Command) -> Result<(), String> {
    // Newer apt waits for the dpkg frontend lock itself with this option.
    cmd.args(["-o", "DPkg::Lock::Timeout=120"]);
    let shown = format!("{cmd:?}").replace('"', "");
    for attempt in 1..=30 {
        println!("xtask: $ {shown}");
        let out = cmd
            .output()
            .map_err(|e| format!("could not start `{shown}`: {e}"))?;
        print!("{}", String::from_utf8_lossy(&out.stdout));
        let err = String::from_utf8_lossy(&out.stderr);
        eprint!("{err}");
        if out.status.success() {
            return Ok(());
        }
        if !is_lock_error(&err) || attempt == 30 {
            return Err(format!("`{shown}` failed ({})", out.status));
        }
        println!("xtask: another apt-get or dpkg holds the lock; retrying in 10 s");
        std::thread::sleep(std::time::Duration::from_secs(10));
    }
    Err(format!("`{shown}` kept finding the apt lock held"))
}

/// Whether apt-get's error output says a lock is held by another process.
fn is_lock_error(stderr: &str) -> bool {
    stderr.contains("Could not get lock") || stderr.contains("Unable to acquire the dpkg")
}

/// `programs` are on PATH; if not, `packages` are installed from Debian's
/// packages when we are root on Debian, otherwise the error is `request`.
fn debian_packages(programs: &[&str], packages: &[&str], request: &str) -> Result<(), String> {
    let missing: Vec<&str> = programs.iter().copied().filter(|p| !on_path(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !Path::new("/etc/debian_version").exists() || !is_root() {
        return Err(format!("{} not found. {request}", missing.join(", ")));
    }
    println!(
        "xtask: {} not found; installing {} with apt-get",
        missing.join(", "),
        packages.join(" ")
    );
    apt_get(Command::new("apt-get").args(["update", "-q"]))?;
    apt_get(
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(packages),
    )?;
    match programs.iter().find(|p| !on_path(p)) {
        Some(p) => Err(format!("{p} still not found after apt-get. {request}")),
        None => Ok(()),
    }
}

/// valgrind (for the performance gate's callgrind counts) is present;
/// installed from Debian's packages when we are root on Debian, otherwise a
/// one-line request to install it.
pub fn for_valgrind() -> Result<(), String> {
    debian_packages(
        &["valgrind"],
        &["valgrind"],
        "the performance gate counts instructions with valgrind's callgrind; \
         install it (Debian: apt-get install valgrind)",
    )
}

/// The C corpus's compilers: Debian's AArch64 gcc (with binutils) and clang.
pub fn for_c_corpus() -> Result<(), String> {
    debian_packages(
        &[
            "aarch64-linux-gnu-gcc",
            "aarch64-linux-gnu-ld",
            "aarch64-linux-gnu-objcopy",
            "clang",
        ],
        &[
            "gcc-aarch64-linux-gnu",
            "binutils-aarch64-linux-gnu",
            "clang",
        ],
        "the C corpus is compiled by Debian's cross gcc and clang; install them \
         (Debian: apt-get install gcc-aarch64-linux-gnu clang)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCES: &str = "Types: deb\nURIs: http://example.invalid/debian\n\
        Suites: bookworm bookworm-updates\nComponents: main\n\n\
        Types: deb\nURIs: http://example.invalid/debian-security\n\
        Suites: bookworm-security\nComponents: main\n";

    #[test]
    fn backports_go_on_the_main_archive_line_only() {
        let new = add_suite(SOURCES, "bookworm", "bookworm-backports").unwrap();
        assert!(new.contains("Suites: bookworm bookworm-updates bookworm-backports\n"));
        assert!(new.contains("Suites: bookworm-security\n"));
        assert_eq!(new.len(), SOURCES.len() + " bookworm-backports".len());
    }

    #[test]
    fn apt_lock_errors_are_recognised() {
        assert!(is_lock_error(
            "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)"
        ));
        assert!(is_lock_error(
            "E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend)"
        ));
        assert!(!is_lock_error("E: Unable to locate package qemu-usr"));
    }

    #[test]
    fn adding_backports_twice_changes_nothing() {
        let once = add_suite(SOURCES, "bookworm", "bookworm-backports").unwrap();
        assert_eq!(add_suite(&once, "bookworm", "bookworm-backports"), None);
    }
}

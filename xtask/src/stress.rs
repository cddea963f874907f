//! `cargo xtask stress`: boot Debian's Linux under the release hv-kernel
//! (AArch64, or x86_64 with `--target x86_64`) many times in a row, with 2
//! and 4 vCPUs, while a second QEMU guest loads the host, and count how
//! many boots reach power-off. Races show up only
//! when repeated, and often only when the host is busy.
//!
//! A boot that stops making progress is not just killed: the CPU registers
//! of every emulated CPU are read through QEMU's monitor first and kept
//! with the console log under `target/xtask/stress/`, so a hang can be
//! looked at afterwards.

use crate::image::{self, workspace_root};
use crate::{guest, linux, prereq, Arch, BuildArgs, StressArgs};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// How one boot ended.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// Reached the marker, passed the disk check, powered off.
    Passed,
    /// No console output for the allowed time, or over the time limit.
    Hung(String),
    /// QEMU ended without a clean power-off.
    Failed(String),
}

/// What a successful boot must print, in order of appearance.
fn boot_verdict(text: &str, code: Option<i32>, smp: u32, shell: bool) -> Verdict {
    if !text.contains(linux::MARKER) {
        return Verdict::Failed("no userspace marker".into());
    }
    if !text.contains(linux::VERDICT_PASS) {
        return Verdict::Failed("disk check did not pass".into());
    }
    let online = if smp == 1 {
        "HV-LINUX: online CPUs 0".to_string()
    } else {
        format!("HV-LINUX: online CPUs 0-{}", smp - 1)
    };
    if !text.contains(&online) {
        return Verdict::Failed(format!("no {online:?}"));
    }
    if shell && !text.contains("hv-shell-42") {
        return Verdict::Failed("the shell did not answer".into());
    }
    if code != Some(0) {
        return Verdict::Failed(format!("QEMU exited with {code:?}"));
    }
    Verdict::Passed
}

/// The monitor's answer to `command` (QEMU's human monitor on a socket),
/// read until the next prompt or for at most 20 s: a QEMU busy with an
/// interrupt storm answers slowly.
fn monitor(socket: &Path, command: &str) -> Result<String, String> {
    let mut s = UnixStream::connect(socket).map_err(|e| format!("monitor: {e}"))?;
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .map_err(|e| e.to_string())?;
    // Read until `prompts` monitor prompts have arrived, or the deadline.
    let read_until = |s: &mut UnixStream, prompts: usize, deadline: Instant| {
        let mut out = Vec::new();
        let mut buf = [0u8; 65536];
        while Instant::now() < deadline {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(_) => {}
            }
            let text = String::from_utf8_lossy(&out);
            if text.matches("(qemu)").count() >= prompts {
                break;
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    read_until(&mut s, 1, deadline);
    s.write_all(format!("{command}\n").as_bytes())
        .map_err(|e| e.to_string())?;
    Ok(read_until(&mut s, 1, deadline))
}

/// A QEMU run of `cmd` streaming its console: stops it when the console is
/// quiet for `quiet` or the run exceeds `limit`, after saving the CPUs'
/// registers. Returns the console text, the exit code and whether it hung.
fn watch(
    mut child: Child,
    socket: &Path,
    quiet: Duration,
    limit: Duration,
    typing: Option<&str>,
) -> (String, Option<i32>, Option<String>) {
    let (tx, rx) = mpsc::channel::<String>();
    let out = child.stdout.take();
    let reader = std::thread::spawn(move || {
        if let Some(out) = out {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        }
    });
    let mut stdin = child.stdin.take();
    let start = Instant::now();
    let mut last_output = start;
    let mut text = String::new();
    let mut hang = None;
    let mut typed = false;
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                last_output = Instant::now();
                if let (Some(t), false, Some(input)) = (typing, typed, stdin.as_mut()) {
                    if line.contains("HV-LINUX: shell") {
                        // A failed write shows up as a missing answer.
                        let _ = input.write_all(t.as_bytes()).and_then(|()| input.flush());
                        typed = true;
                    }
                }
                text.push_str(&line);
                text.push('\n');
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if start.elapsed() > limit || last_output.elapsed() > quiet {
            let regs = monitor(socket, "info registers -a").unwrap_or_else(|e| e);
            hang = Some(format!(
                "no progress after {:.0} s\n----- CPU registers -----\n{regs}",
                start.elapsed().as_secs_f64()
            ));
            let _ = child.kill();
            break;
        }
    }
    let status = child.wait().ok().and_then(|s| s.code());
    let _ = reader.join();
    (text, status, hang)
}

/// The load beside the runs: Debian's Linux on plain QEMU, booted again and
/// again until dropped.
struct Load {
    stop: Arc<AtomicBool>,
    /// Process id of the QEMU run going on now (0: none).
    pid: Arc<AtomicU32>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(kernel: PathBuf, initrd: PathBuf) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let pid = Arc::new(AtomicU32::new(0));
        let (flag, current) = (stop.clone(), pid.clone());
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Acquire) {
                let child = Command::new(workspace_root().join("qemu-runner.sh"))
                    .arg(&kernel)
                    .args(["-initrd", &initrd.display().to_string()])
                    .args(["-append", &linux::cmdline(false)])
                    .env("HV_SMP", "2")
                    .env("HV_MEM", "1G")
                    .env("HV_TIMEOUT", "120")
                    .env("HV_QEMU_EL1", "1")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn();
                let Ok(mut child) = child else {
                    break;
                };
                current.store(child.id(), Ordering::Release);
                let _ = child.wait();
                current.store(0, Ordering::Release);
            }
        });
        Load {
            stop,
            pid,
            thread: Some(thread),
        }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let pid = self.pid.load(Ordering::Acquire);
        if pid != 0 {
            // qemu-runner.sh's process group holds QEMU: stop them all.
            let _ = Command::new("pkill")
                .args(["-TERM", "-P", &pid.to_string()])
                .status();
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `cargo xtask stress`.
pub fn run(args: &StressArgs) -> Result<(), String> {
    let x86 = args.target == Arch::X86_64;
    if x86 && args.shell {
        return Err("--shell is for the AArch64 Linux guest only".into());
    }
    prereq::for_build(args.target)?;
    prereq::for_qemu(&[Arch::Aarch64, args.target])?;
    let hv = image::build(&BuildArgs {
        target: args.target,
        release: !args.debug,
        features: None,
    })?;
    // The load is the arm64 guest on plain QEMU in either case.
    let (kernel, initrd) = linux::prepare(None, None)?;
    let dir = workspace_root().join("target/xtask/stress");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let bundle = if x86 {
        crate::linux_x86::bundle(false)?
    } else {
        let b = dir.join("linux.bundle");
        guest::write_bundle(&kernel, Some(&initrd), &linux::cmdline(args.shell), &b)?;
        b
    };
    // x86: the disk on q35's PCI bus, and no hv command line.
    let machine_args: Vec<String> = if x86 {
        Vec::new()
    } else {
        ["-append", "hv.guest_mem=256M hv.no_reboot"]
            .map(String::from)
            .to_vec()
    };
    let _load = (!args.no_load).then(|| {
        println!("xtask: loading the host with Debian's Linux on plain QEMU, in a loop");
        Load::start(kernel.clone(), initrd.clone())
    });
    let typing = args
        .shell
        .then_some("echo hv-shell-$((6*7))\npoweroff -f\n");
    let mut failures = Vec::new();
    let total = args.boots * args.smp.len() as u32;
    let mut n = 0;
    for &smp in &args.smp {
        for boot in 1..=args.boots {
            n += 1;
            let disk = dir.join(format!("disk-{smp}.img"));
            guest::create_disk(&disk, 64 << 20)?;
            let socket = dir.join(format!("monitor-{smp}.sock"));
            let _ = std::fs::remove_file(&socket);
            let start = Instant::now();
            let disk_args = if x86 {
                guest::pci_disk_args(&disk)
            } else {
                guest::disk_args(&disk, None)
            };
            let child = Command::new(workspace_root().join("qemu-runner.sh"))
                .arg(&hv)
                .arg("-no-reboot")
                .args(disk_args)
                .args(["-initrd", &bundle.display().to_string()])
                .args(&machine_args)
                .args([
                    "-monitor",
                    &format!("unix:{},server,nowait", socket.display()),
                ])
                .env("HV_SMP", smp.to_string())
                .env("HV_MEM", "1G")
                // qemu-runner's own limit, beyond ours: a QEMU whose xtask
                // died must not run on for ever.
                .env("HV_TIMEOUT", (args.limit + 60).to_string())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .map_err(|e| format!("could not start qemu-runner.sh: {e}"))?;
            let (text, code, hang) = watch(
                child,
                &socket,
                Duration::from_secs(args.quiet),
                Duration::from_secs(args.limit),
                typing,
            );
            let verdict = match hang {
                Some(h) => Verdict::Hung(h),
                None => boot_verdict(&text, code, smp, args.shell),
            };
            let secs = start.elapsed().as_secs_f64();
            match &verdict {
                Verdict::Passed => {
                    println!(
                        "xtask: stress {n}/{total}: {smp} vCPUs, boot {boot}: ok in {secs:.1} s"
                    )
                }
                Verdict::Hung(why) | Verdict::Failed(why) => {
                    let log = dir.join(format!("fail-{smp}-{boot}.log"));
                    let kind = if matches!(verdict, Verdict::Hung(_)) {
                        "HUNG"
                    } else {
                        "FAILED"
                    };
                    let _ = std::fs::write(&log, format!("{text}\n{why}\n"));
                    println!(
                        "xtask: stress {n}/{total}: {smp} vCPUs, boot {boot}: {kind} after {secs:.1} s ({}); log in {}",
                        why.lines().next().unwrap_or(""),
                        log.display()
                    );
                    failures.push(format!("{smp} vCPUs boot {boot}: {kind}"));
                }
            }
        }
    }
    println!(
        "xtask: stress: {} of {total} boots reached power-off",
        total - failures.len() as u32
    );
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} boots failed: {}",
            failures.len(),
            failures.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str =
        "HV-LINUX: userspace up\nHV-LINUX: disk check PASS\nHV-LINUX: online CPUs 0-1\n";

    #[test]
    fn a_boot_passes_only_with_every_line_and_a_clean_exit() {
        assert_eq!(boot_verdict(GOOD, Some(0), 2, false), Verdict::Passed);
        assert!(matches!(
            boot_verdict(GOOD, Some(0), 4, false),
            Verdict::Failed(_)
        ));
        assert!(matches!(
            boot_verdict(GOOD, Some(1), 2, false),
            Verdict::Failed(_)
        ));
        assert!(matches!(
            boot_verdict(GOOD, Some(0), 2, true),
            Verdict::Failed(_)
        ));
        assert!(matches!(
            boot_verdict("HV-LINUX: userspace up\n", Some(0), 1, false),
            Verdict::Failed(_)
        ));
    }
}

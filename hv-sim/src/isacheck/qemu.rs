//! Running a harness under `qemu-aarch64` and reading its records back.

use super::gen::State;
use super::layout::{read_record, RECORD};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How QEMU is run.
#[derive(Clone, Debug)]
pub struct Qemu {
    /// The `qemu-aarch64` binary.
    pub binary: PathBuf,
    /// Its `-cpu` model.
    pub cpu: String,
    /// Where the ELF and its output go.
    pub dir: PathBuf,
}

/// A QEMU run in progress.
#[derive(Debug)]
pub struct Running {
    child: Child,
    out: PathBuf,
    err: PathBuf,
    started: Instant,
}

/// What a QEMU run produced.
#[derive(Debug)]
pub struct Finished {
    /// The records of the cases that completed, in order.
    pub states: Vec<State>,
    /// Exit status and stderr when the run did not end with status 0.
    pub failure: Option<String>,
}

/// Longest a batch may take under QEMU.
const TIME_LIMIT: Duration = Duration::from_secs(300);

impl Qemu {
    /// Start QEMU on `elf` (the bytes are written to `name` in the work
    /// directory).
    pub fn start(&self, name: &str, elf: &[u8]) -> Result<Running, String> {
        let path = self.dir.join(format!("{name}.elf"));
        std::fs::write(&path, elf).map_err(|e| format!("{}: {e}", path.display()))?;
        // qemu-aarch64 refuses (silently, with status 1) to run a file
        // without execute permission.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let out = self.dir.join(format!("{name}.out"));
        let err = self.dir.join(format!("{name}.err"));
        let file = |p: &Path| std::fs::File::create(p).map_err(|e| format!("{}: {e}", p.display()));
        let child = Command::new(&self.binary)
            .args(["-cpu", &self.cpu])
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(file(&out)?)
            .stderr(file(&err)?)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.binary.display()))?;
        Ok(Running {
            child,
            out,
            err,
            started: Instant::now(),
        })
    }
}

impl Running {
    /// Wait for the run and parse its output.
    pub fn finish(mut self) -> Result<Finished, String> {
        let status = loop {
            if let Some(s) = self.child.try_wait().map_err(|e| e.to_string())? {
                break s;
            }
            if self.started.elapsed() > TIME_LIMIT {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Err(format!(
                    "qemu-aarch64 ran for more than {} s",
                    TIME_LIMIT.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let bytes = std::fs::read(&self.out).map_err(|e| format!("{}: {e}", self.out.display()))?;
        let states = bytes.chunks_exact(RECORD).map(read_record).collect();
        let failure = if status.success() {
            None
        } else {
            let err = std::fs::read_to_string(&self.err).unwrap_or_default();
            Some(format!("{status}: {}", err.trim()))
        };
        Ok(Finished { states, failure })
    }
}

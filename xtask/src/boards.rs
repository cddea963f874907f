//! The boards `cargo xtask run --board` boots hv-kernel on under QEMU, and
//! their device trees: the ones Debian ships for the real boards (in its
//! arm64 kernel package), so hv reads what firmware hands a real board,
//! not a tree QEMU wrote for itself.

use crate::image::{run_checked, workspace_root};
use std::path::PathBuf;
use std::process::Command;

/// A machine hv-kernel boots on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Board {
    /// QEMU `virt` (GICv3, PSCI, virtio-mmio): hv's reference machine.
    Virt,
    /// QEMU `raspi4b`, a Raspberry Pi 4 Model B (BCM2711: GIC-400, spin
    /// tables, no PSCI without TF-A), with Debian's
    /// `broadcom/bcm2711-rpi-4-b.dtb`.
    Raspi4b,
}

impl Board {
    /// QEMU's machine name.
    pub fn qemu_machine(self) -> &'static str {
        match self {
            Board::Virt => "virt",
            Board::Raspi4b => "raspi4b",
        }
    }

    /// The board's device tree in Debian's kernel package, if QEMU's own
    /// is not used.
    fn debian_dtb(self) -> Option<&'static str> {
        match self {
            Board::Virt => None,
            Board::Raspi4b => Some("broadcom/bcm2711-rpi-4-b.dtb"),
        }
    }

    /// The device tree to give QEMU (`-dtb`), fetched once from Debian's
    /// arm64 kernel package; None where QEMU builds its own.
    pub fn dtb(self) -> Result<Option<PathBuf>, String> {
        let Some(name) = self.debian_dtb() else {
            return Ok(None);
        };
        let dir = workspace_root().join("target/boards");
        let out = dir.join(name.rsplit('/').next().unwrap_or(name));
        if out.is_file() {
            return Ok(Some(out));
        }
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let package = crate::linux::arm64_kernel_package("linux-image-arm64", &dir)?;
        println!("xtask: downloading {package} for {name} (apt-get download, about 60 MB, once)");
        run_checked(
            Command::new("apt-get")
                .args(["download", "-q", &package])
                .current_dir(&dir),
        )?;
        let deb = std::fs::read_dir(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "deb"))
            .ok_or("apt-get download left no .deb")?;
        let unpacked = dir.join("unpacked");
        run_checked(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&unpacked))?;
        let found = std::fs::read_dir(unpacked.join("usr/lib"))
            .map_err(|e| format!("{}: {e}", unpacked.display()))?
            .flatten()
            .map(|e| e.path().join(name))
            .find(|p| p.is_file())
            .ok_or_else(|| format!("{} has no {name}", deb.display()))?;
        std::fs::copy(&found, &out).map_err(|e| format!("{}: {e}", out.display()))?;
        // Keep only the tree: the package is 60 MB, unpacked 400.
        let _ = std::fs::remove_dir_all(&unpacked);
        let _ = std::fs::remove_file(&deb);
        Ok(Some(out))
    }
}

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
    /// QEMU `imx8mp-evk`, NXP's i.MX 8M Plus EVK (Cortex-A53, GICv3, PSCI,
    /// i.MX UART, no virtio), with Debian's `freescale/imx8mp-evk.dtb`.
    Imx8mp,
}

/// Every board, for fetching their trees together.
const ALL: [Board; 3] = [Board::Virt, Board::Raspi4b, Board::Imx8mp];

impl Board {
    /// QEMU's machine name.
    pub fn qemu_machine(self) -> &'static str {
        match self {
            Board::Virt => "virt",
            Board::Raspi4b => "raspi4b",
            Board::Imx8mp => "imx8mp-evk",
        }
    }

    /// Whether the machine has virtio-mmio for the guest's disks; where it
    /// has not, the disks travel in the guest bundle.
    pub fn has_virtio(self) -> bool {
        self == Board::Virt
    }

    /// The board's device tree in Debian's kernel package, if QEMU's own
    /// is not used.
    fn debian_dtb(self) -> Option<&'static str> {
        match self {
            Board::Virt => None,
            Board::Raspi4b => Some("broadcom/bcm2711-rpi-4-b.dtb"),
            Board::Imx8mp => Some("freescale/imx8mp-evk.dtb"),
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
        // Keep every board's tree (one download serves all boards), then
        // drop the package: 60 MB, unpacked 400.
        let lib = unpacked.join("usr/lib");
        let trees: Vec<PathBuf> = std::fs::read_dir(&lib)
            .map_err(|e| format!("{}: {e}", lib.display()))?
            .flatten()
            .map(|e| e.path())
            .collect();
        for board_tree in ALL.iter().filter_map(|b| b.debian_dtb()) {
            let file = board_tree.rsplit('/').next().unwrap_or(board_tree);
            if let Some(found) = trees
                .iter()
                .map(|t| t.join(board_tree))
                .find(|p| p.is_file())
            {
                std::fs::copy(&found, dir.join(file))
                    .map_err(|e| format!("{}: {e}", dir.join(file).display()))?;
            }
        }
        let _ = std::fs::remove_dir_all(&unpacked);
        let _ = std::fs::remove_file(&deb);
        if out.is_file() {
            Ok(Some(out))
        } else {
            Err(format!("{} has no {name}", deb.display()))
        }
    }
}

//! The x86 Linux test guest: Debian's unmodified amd64 cloud kernel and a
//! busybox initramfs, fetched with apt and cached under
//! target/guest-linux-x86. hv boots x86 guests through PVH: the kernel's
//! bzImage carries, as its LZ4 payload, the vmlinux ELF with the PVH note
//! (Debian builds with CONFIG_PVH=y), so that ELF is what the bundle holds.

use crate::image::{run_checked, workspace_root};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The kernel command line: COM1 as console, initramfs /init, and the TSC
/// frequency, since the machine has no PIT to calibrate it against.
pub const CMDLINE: &str = "console=ttyS0 panic=-1 tsc_early_khz=2000000 rdinit=/init";

/// The command line, with `hv.shell` when init is to leave a shell.
pub fn cmdline(shell: bool) -> String {
    if shell {
        format!("{CMDLINE} hv.shell")
    } else {
        CMDLINE.to_string()
    }
}

/// The guest's disk size: room for the init script's pattern and its 4 MiB
/// timing runs, small enough to create in a moment.
pub const DISK_BYTES: u64 = 64 << 20;

/// The LZ4 "legacy" frame magic the kernel's compressor writes.
const LZ4_LEGACY_MAGIC: u32 = 0x184c_2102;
/// Every legacy-frame block decompresses to at most 8 MiB.
const LZ4_LEGACY_BLOCK: usize = 8 << 20;

/// The vmlinux ELF inside a bzImage whose payload is LZ4 (legacy frame):
/// the payload sits `payload_offset` (setup header, 0x248) bytes into the
/// protected-mode code, which starts after (setup_sects + 1) sectors.
pub fn vmlinux_from_bzimage(bz: &[u8]) -> Result<Vec<u8>, String> {
    let u32_at = |at: usize| {
        bz.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    if bz.get(0x202..0x206) != Some(b"HdrS") {
        return Err("not a bzImage (no HdrS setup header)".into());
    }
    let setup_sects = match bz[0x1f1] {
        0 => 4,
        n => usize::from(n),
    };
    let (offset, length) = (
        u32_at(0x248).ok_or("truncated setup header")? as usize,
        u32_at(0x24c).ok_or("truncated setup header")? as usize,
    );
    let start = (setup_sects + 1) * 512 + offset;
    let payload = bz
        .get(start..start + length)
        .ok_or("the payload lies outside the bzImage")?;
    if payload
        .get(..4)
        .map(|m| u32::from_le_bytes([m[0], m[1], m[2], m[3]]))
        != Some(LZ4_LEGACY_MAGIC)
    {
        return Err("the bzImage payload is not LZ4 (legacy frame)".into());
    }
    let mut out = Vec::new();
    let mut at = 4;
    // Blocks of [u32 size][data]; the kernel appends the uncompressed
    // size (4 bytes) after the last one, which reads as a block size
    // larger than what is left.
    while at + 4 <= payload.len() {
        let size = u32::from_le_bytes([
            payload[at],
            payload[at + 1],
            payload[at + 2],
            payload[at + 3],
        ]) as usize;
        let Some(block) = payload.get(at + 4..at + 4 + size) else {
            break;
        };
        let data = lz4_flex::block::decompress(block, LZ4_LEGACY_BLOCK)
            .map_err(|e| format!("LZ4 block at {at:#x}: {e}"))?;
        out.extend_from_slice(&data);
        at += 4 + size;
    }
    if !out.starts_with(b"\x7fELF") {
        return Err("the bzImage payload is not an ELF once decompressed".into());
    }
    Ok(out)
}

fn cache_dir() -> PathBuf {
    workspace_root().join("target/guest-linux-x86")
}

/// Download (once) Debian's amd64 cloud kernel and busybox-static and
/// unpack them; returns the unpacked tree.
fn fetch() -> Result<PathBuf, String> {
    let dir = cache_dir();
    let root = dir.join("root");
    let have_kernel = |root: &Path| {
        std::fs::read_dir(root.join("boot")).is_ok_and(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with("vmlinuz-"))
        })
    };
    if root.join("bin/busybox").is_file() && have_kernel(&root) {
        return Ok(root);
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let deps = Command::new("apt-cache")
        .args(["depends", "linux-image-cloud-amd64"])
        .output()
        .map_err(|e| format!("apt-cache: {e} (a Debian host is needed)"))?;
    let kernel = String::from_utf8_lossy(&deps.stdout)
        .lines()
        .find_map(|l| l.trim().strip_prefix("Depends: "))
        .filter(|p| p.starts_with("linux-image-"))
        .map(|p| format!("{p}-unsigned"))
        .ok_or("apt knows no linux-image-cloud-amd64 (run apt-get update)")?;
    println!("xtask: downloading {kernel} and busybox-static (apt-get download)");
    run_checked(
        Command::new("apt-get")
            .args(["download", "-q", &kernel, "busybox-static"])
            .current_dir(&dir),
    )?;
    for deb in std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .flatten()
    {
        let path = deb.path();
        if path.extension().is_some_and(|e| e == "deb") {
            run_checked(Command::new("dpkg-deb").arg("-x").arg(&path).arg(&root))?;
        }
    }
    if !root.join("bin/busybox").is_file() || !have_kernel(&root) {
        return Err(format!("{} lacks the kernel or busybox", root.display()));
    }
    Ok(root)
}

/// (vmlinux ELF, initramfs) of the x86 Linux guest, built once.
pub fn prepare() -> Result<(PathBuf, PathBuf), String> {
    let root = fetch()?;
    let dir = cache_dir();
    let (vmlinux, initramfs) = (dir.join("vmlinux"), dir.join("initramfs.cpio"));
    if !vmlinux.is_file() {
        let bz = std::fs::read_dir(root.join("boot"))
            .map_err(|e| e.to_string())?
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
            })
            .ok_or("no vmlinuz in the kernel package")?;
        let bytes = std::fs::read(&bz).map_err(|e| format!("{}: {e}", bz.display()))?;
        std::fs::write(&vmlinux, vmlinux_from_bzimage(&bytes)?)
            .map_err(|e| format!("{}: {e}", vmlinux.display()))?;
    }
    let modules = std::fs::read_dir(root.join("lib/modules"))
        .map_err(|e| format!("{}: {e}", root.join("lib/modules").display()))?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .ok_or("no lib/modules/VERSION in the kernel package")?;
    let cpio = crate::linux::initramfs(&root.join("bin/busybox"), &modules)?;
    std::fs::write(&initramfs, cpio).map_err(|e| format!("{}: {e}", initramfs.display()))?;
    Ok((vmlinux, initramfs))
}

/// The x86 Linux guest as an hv bundle (vmlinux, initramfs, command
/// line), written to target/xtask/linux-x86.bundle; with `shell`, init
/// leaves a shell on the console (linux-x86-shell.bundle).
pub fn bundle(shell: bool) -> Result<PathBuf, String> {
    let (vmlinux, initramfs) = prepare()?;
    let name = if shell {
        "linux-x86-shell.bundle"
    } else {
        "linux-x86.bundle"
    };
    let out = workspace_root().join("target/xtask").join(name);
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    crate::guest::write_bundle(&vmlinux, Some(&initramfs), &cmdline(shell), &out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bzImage-shaped blob: setup header with HdrS, one setup sector,
    /// and an LZ4 legacy payload holding `elf`, then the size trailer.
    fn fake_bzimage(elf: &[u8]) -> Vec<u8> {
        let mut bz = vec![0u8; 2 * 512];
        bz[0x1f1] = 1;
        bz[0x202..0x206].copy_from_slice(b"HdrS");
        let block = lz4_flex::block::compress(elf);
        let mut payload = LZ4_LEGACY_MAGIC.to_le_bytes().to_vec();
        payload.extend_from_slice(&(block.len() as u32).to_le_bytes());
        payload.extend_from_slice(&block);
        payload.extend_from_slice(&(elf.len() as u32).to_le_bytes());
        bz[0x248..0x24c].copy_from_slice(&16u32.to_le_bytes());
        bz[0x24c..0x250].copy_from_slice(&(payload.len() as u32).to_le_bytes());
        bz.extend_from_slice(&[0u8; 16]);
        bz.extend_from_slice(&payload);
        bz
    }

    #[test]
    fn extracts_the_elf_from_an_lz4_legacy_payload() {
        let elf: Vec<u8> = b"\x7fELF"
            .iter()
            .copied()
            .chain((0..100_000u32).map(|i| (i % 251) as u8))
            .collect();
        assert_eq!(vmlinux_from_bzimage(&fake_bzimage(&elf)).unwrap(), elf);
    }

    #[test]
    fn refuses_what_is_not_a_bzimage_with_an_lz4_elf() {
        assert!(vmlinux_from_bzimage(&[0u8; 4096])
            .unwrap_err()
            .contains("HdrS"));
        let mut bz = fake_bzimage(b"\x7fELF....");
        let start = 2 * 512 + 16;
        bz[start] ^= 0xff; // the magic
        assert!(vmlinux_from_bzimage(&bz).unwrap_err().contains("LZ4"));
        let not_elf = fake_bzimage(b"MZ......");
        assert!(vmlinux_from_bzimage(&not_elf)
            .unwrap_err()
            .contains("not an ELF"));
        // A payload length past the end.
        let mut bz = fake_bzimage(b"\x7fELF");
        bz[0x24c..0x250].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(vmlinux_from_bzimage(&bz).unwrap_err().contains("outside"));
    }
}

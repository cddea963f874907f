//! Test guests: building them and the disk images they use, and checking on
//! the host what a guest wrote.

use crate::image::{cargo, run_checked, workspace_root};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Rust target of the AArch64 test guests (hard-float: they use
/// FP/SIMD, unlike hv-kernel).
pub const GUEST_TRIPLE: &str = "aarch64-unknown-none";

/// The Rust target of the x86 test guest (tests/guests/x86).
pub const X86_GUEST_TRIPLE: &str = "x86_64-unknown-none";

/// Sector size of virtio-blk requests.
pub const SECTOR: u64 = 512;

/// The test guests of tests/guests/default, by binary name.
pub const DEFAULT_GUEST: &str = "guest-default";
/// The guest that provokes faults hv must inject.
pub const FAULTS_GUEST: &str = "guest-faults";
/// The guest that counts its boots on its disk across a reset.
pub const REBOOT_GUEST: &str = "guest-reboot";
/// The compute-benchmark guest (built optimised).
pub const BENCH_GUEST: &str = "guest-bench";

/// The test guests `cargo xtask run --guest NAME` knows, by short name.
pub const NAMED_GUESTS: &[&str] = &[
    "sgi",
    "timers",
    "psci",
    "exitbench",
    "faults",
    "bench",
    "reboot",
    "topva",
    "vflood",
];

/// The binary of test guest `name` (`default` or one of
/// [`NAMED_GUESTS`]), if it is one.
pub fn named_guest(name: &str) -> Option<String> {
    if name == "default" {
        Some(DEFAULT_GUEST.to_string())
    } else {
        NAMED_GUESTS
            .contains(&name)
            .then(|| format!("guest-{name}"))
    }
}

/// Build test guest `bin`; returns its flat arm64 Image.
pub fn build_test_guest(bin: &str) -> Result<PathBuf, String> {
    build_guest(bin, false)
}

/// Build test guest `bin`, optimised or not; returns its flat arm64 Image.
pub fn build_guest(bin: &str, release: bool) -> Result<PathBuf, String> {
    let root = workspace_root();
    crate::prereq::rust_target(GUEST_TRIPLE)?;
    println!("xtask: building the test guest {bin} (aarch64, EL1)");
    let mut cmd = Command::new(cargo());
    cmd.current_dir(&root).args([
        "build",
        "-p",
        "guest-default",
        "--bin",
        bin,
        "--target",
        GUEST_TRIPLE,
    ]);
    if release {
        cmd.arg("--release");
    }
    run_checked(&mut cmd)?;
    let profile = if release { "release" } else { "debug" };
    let elf = root
        .join("target")
        .join(GUEST_TRIPLE)
        .join(profile)
        .join(bin);
    let img = elf.with_extension("img");
    run_checked(
        Command::new(crate::prereq::llvm_objcopy()?)
            .args(["-O", "binary"])
            .arg(&elf)
            .arg(&img),
    )?;
    Ok(img)
}

/// Build the x86 test guest (tests/guests/x86), optimised or not; returns
/// its ELF, which QEMU's `-kernel` and hv-kernel boot through PVH.
pub fn build_x86_guest(release: bool) -> Result<PathBuf, String> {
    let root = workspace_root();
    crate::prereq::rust_target(X86_GUEST_TRIPLE)?;
    println!("xtask: building the x86 test guest (PVH ELF)");
    let mut cmd = Command::new(cargo());
    cmd.current_dir(&root)
        .args(["build", "-p", "guest-x86", "--target", X86_GUEST_TRIPLE]);
    if release {
        cmd.arg("--release");
    }
    run_checked(&mut cmd)?;
    let profile = if release { "release" } else { "debug" };
    Ok(root
        .join("target")
        .join(X86_GUEST_TRIPLE)
        .join(profile)
        .join("guest-x86"))
}

/// A guest bundle for hv-kernel (format: hv-core's `vm::bundle`): magic,
/// version 1, entry count, then (kind, 0, offset, size) entries and the
/// payloads. Kinds: 1 kernel, 2 initrd, 3 command line.
pub fn bundle(kernel: &[u8], initrd: Option<&[u8]>, cmdline: &str) -> Vec<u8> {
    bundle_with_disks(kernel, initrd, cmdline, [None, None])
}

/// [`bundle`] that also carries disks: `[writable, read-only]` contents,
/// each whole 512-byte sectors (hv serves them from RAM where the host has
/// no disk to give).
pub fn bundle_with_disks(
    kernel: &[u8],
    initrd: Option<&[u8]>,
    cmdline: &str,
    disks: [Option<&[u8]>; 2],
) -> Vec<u8> {
    let mut entries: Vec<(u32, &[u8])> = vec![(1, kernel)];
    if let Some(rd) = initrd {
        entries.push((2, rd));
    }
    if !cmdline.is_empty() {
        entries.push((3, cmdline.as_bytes()));
    }
    for (kind, disk) in [4u32, 5].into_iter().zip(disks) {
        if let Some(d) = disk {
            entries.push((kind, d));
        }
    }
    let mut out = Vec::new();
    out.extend_from_slice(b"HVGUEST\0");
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    let mut offset = (16 + 24 * entries.len()) as u64;
    for (kind, data) in &entries {
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
        offset += data.len() as u64;
    }
    for (_, data) in &entries {
        out.extend_from_slice(data);
    }
    out
}

/// Write a bundle of the kernel at `kernel` to `out`.
pub fn write_bundle(
    kernel: &Path,
    initrd: Option<&Path>,
    cmdline: &str,
    out: &Path,
) -> Result<(), String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let k = read(kernel)?;
    let rd = initrd.map(read).transpose()?;
    std::fs::write(out, bundle(&k, rd.as_deref(), cmdline))
        .map_err(|e| format!("{}: {e}", out.display()))
}

/// Write a bundle of the kernel at `kernel` that carries the disk images
/// `disks` (`[writable, read-only]`) to `out`.
pub fn write_bundle_with_disks(
    kernel: &Path,
    initrd: Option<&Path>,
    cmdline: &str,
    disks: [Option<&Path>; 2],
    out: &Path,
) -> Result<(), String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let k = read(kernel)?;
    let rd = initrd.map(read).transpose()?;
    let [rw, ro] = disks.map(|d| d.map(read).transpose());
    let (rw, ro) = (rw?, ro?);
    for (d, path) in [(&rw, disks[0]), (&ro, disks[1])] {
        if let (Some(d), Some(path)) = (d, path) {
            if d.is_empty() || d.len() % 512 != 0 {
                return Err(format!(
                    "{}: a disk carried in the bundle must be whole 512-byte sectors",
                    path.display()
                ));
            }
        }
    }
    let b = bundle_with_disks(&k, rd.as_deref(), cmdline, [rw.as_deref(), ro.as_deref()]);
    std::fs::write(out, b).map_err(|e| format!("{}: {e}", out.display()))
}

/// QEMU arguments attaching `disk` (read-write) and `ro_disk` (read-only)
/// as virtio-blk devices on the modern virtio-mmio transport.
pub fn disk_args(disk: &Path, ro_disk: Option<&Path>) -> Vec<String> {
    let mut args: Vec<String> = ["-global", "virtio-mmio.force-legacy=false"]
        .map(String::from)
        .into();
    args.extend([
        "-drive".into(),
        format!("file={},if=none,id=hd0,format=raw", disk.display()),
        "-device".into(),
        "virtio-blk-device,drive=hd0".into(),
    ]);
    if let Some(ro) = ro_disk {
        args.extend([
            "-drive".into(),
            format!(
                "file={},if=none,id=hd1,format=raw,readonly=on",
                ro.display()
            ),
            "-device".into(),
            "virtio-blk-device,drive=hd1".into(),
        ]);
    }
    args
}

/// QEMU arguments giving the x86 hv-kernel (on q35, which has no
/// virtio-mmio) `disk` as a virtio-blk-pci device; hv serves it to its
/// guest.
pub fn pci_disk_args(disk: &Path) -> Vec<String> {
    vec![
        "-drive".into(),
        format!("file={},if=none,id=hd0,format=raw", disk.display()),
        "-device".into(),
        "virtio-blk-pci,drive=hd0".into(),
    ]
}

/// Create (or truncate to zeros) a sparse raw disk image of `bytes` bytes.
pub fn create_disk(path: &Path, bytes: u64) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let f = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    f.set_len(bytes)
        .map_err(|e| format!("sizing {}: {e}", path.display()))
}

/// Byte `i` of sector `sector` of the default guest's pattern; the same
/// formula as `guest_default::pattern_byte` (xtask depends on no workspace
/// crate, so it is written twice; the boot test fails if they disagree).
pub fn pattern_byte(sector: u64, i: usize) -> u8 {
    ((sector.wrapping_mul(131) as usize).wrapping_add(i.wrapping_mul(7)) ^ 0x5a) as u8
}

/// Sectors listed on the guest's `wrote sectors:` line (`a`, or `a-b`).
pub fn written_sectors(output: &str) -> Result<Vec<u64>, String> {
    let line = output
        .lines()
        // hv-kernel marks guest console lines with "[guest] ".
        .find_map(|l| {
            l.trim()
                .trim_start_matches("[guest] ")
                .strip_prefix("wrote sectors:")
        })
        .ok_or("the guest printed no `wrote sectors:` line")?;
    let mut sectors = Vec::new();
    for item in line.split_whitespace() {
        let bad = || format!("bad sector item {item:?}");
        match item.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u64, u64) =
                    (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
                if b < a || b - a > 1024 {
                    return Err(bad());
                }
                sectors.extend(a..=b);
            }
            None => sectors.push(item.parse().map_err(|_| bad())?),
        }
    }
    Ok(sectors)
}

/// Check that each of `sectors` of the disk image holds the pattern.
pub fn check_pattern(disk: &Path, sectors: &[u64]) -> Result<(), String> {
    let mut f = File::open(disk).map_err(|e| format!("{}: {e}", disk.display()))?;
    let mut buf = vec![0u8; SECTOR as usize];
    for &s in sectors {
        f.seek(SeekFrom::Start(s * SECTOR))
            .and_then(|_| f.read_exact(&mut buf))
            .map_err(|e| format!("reading sector {s} of {}: {e}", disk.display()))?;
        if let Some(i) = (0..buf.len()).find(|&i| buf[i] != pattern_byte(s, i)) {
            return Err(format!(
                "{}: sector {s} byte {i} is {:#04x}, the guest wrote {:#04x}",
                disk.display(),
                buf[i],
                pattern_byte(s, i)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_guests_have_short_names() {
        assert_eq!(named_guest("default").as_deref(), Some("guest-default"));
        assert_eq!(named_guest("sgi").as_deref(), Some("guest-sgi"));
        assert_eq!(named_guest("linux"), None);
        assert_eq!(named_guest("./guest.img"), None);
    }

    #[test]
    fn bundle_carries_disks_as_kinds_4_and_5() {
        let (rw, ro) = ([1u8; 512], [2u8; 1024]);
        let b = bundle_with_disks(b"K", None, "", [Some(&rw), Some(&ro)]);
        assert_eq!(u32::from_le_bytes(b[12..16].try_into().unwrap()), 3);
        let kind = |i: usize| u32::from_le_bytes(b[16 + 24 * i..20 + 24 * i].try_into().unwrap());
        let size = |i: usize| u64::from_le_bytes(b[32 + 24 * i..40 + 24 * i].try_into().unwrap());
        assert_eq!((kind(1), size(1)), (4, 512));
        assert_eq!((kind(2), size(2)), (5, 1024));
        assert_eq!(&b[b.len() - 1024..], &ro[..]);
    }

    #[test]
    fn bundle_layout_matches_the_format() {
        let b = bundle(b"KERNEL", Some(b"RD"), "x=1");
        assert_eq!(&b[..8], b"HVGUEST\0");
        assert_eq!(u32::from_le_bytes(b[12..16].try_into().unwrap()), 3);
        // First entry: kind 1 at offset 16 + 3 * 24 = 88, size 6.
        assert_eq!(u32::from_le_bytes(b[16..20].try_into().unwrap()), 1);
        assert_eq!(u64::from_le_bytes(b[24..32].try_into().unwrap()), 88);
        assert_eq!(u64::from_le_bytes(b[32..40].try_into().unwrap()), 6);
        assert_eq!(&b[88..94], b"KERNEL");
        assert_eq!(&b[94..96], b"RD");
        assert_eq!(&b[96..], b"x=1");
        assert_eq!(bundle(b"K", None, "").len(), 16 + 24 + 1);
    }

    #[test]
    fn parses_the_written_sectors_line() {
        let out = "test x: ok\nwrote sectors: 0 1 7 200-203 8192\nPASS\n";
        assert_eq!(
            written_sectors(out),
            Ok(vec![0, 1, 7, 200, 201, 202, 203, 8192])
        );
        assert!(written_sectors("PASS").is_err());
        assert_eq!(written_sectors("[guest] wrote sectors: 3"), Ok(vec![3]));
        assert!(written_sectors("wrote sectors: 5-2").is_err());
        assert!(written_sectors("wrote sectors: x").is_err());
    }

    #[test]
    fn pattern_check_finds_a_wrong_byte() {
        let dir = std::env::temp_dir().join(format!("xtask-pattern-{}", std::process::id()));
        let disk = dir.join("d.img");
        create_disk(&disk, 4 * SECTOR).unwrap();
        let mut data = vec![0u8; 4 * SECTOR as usize];
        for s in 0..4u64 {
            for i in 0..SECTOR as usize {
                data[(s * SECTOR) as usize + i] = pattern_byte(s, i);
            }
        }
        data[2 * SECTOR as usize + 9] ^= 1;
        std::fs::write(&disk, &data).unwrap();
        assert_eq!(check_pattern(&disk, &[0, 1, 3]), Ok(()));
        let err = check_pattern(&disk, &[2]).unwrap_err();
        assert!(err.contains("sector 2 byte 9"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}

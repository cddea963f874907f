//! Test guests: building them and the disk images they use, and checking on
//! the host what a guest wrote.

use crate::image::{cargo, run_checked, workspace_root};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Sector size of virtio-blk requests.
pub const SECTOR: u64 = 512;

/// Build the default test guest; returns its flat arm64 Image.
pub fn build_default_guest() -> Result<PathBuf, String> {
    let root = workspace_root();
    println!("xtask: building the default test guest (aarch64, EL1)");
    run_checked(Command::new(cargo()).current_dir(&root).args([
        "build",
        "-p",
        "guest-default",
        "--target",
        "aarch64-unknown-none",
    ]))?;
    let elf = root.join("target/aarch64-unknown-none/debug/guest-default");
    let img = elf.with_extension("img");
    run_checked(
        Command::new(crate::prereq::llvm_objcopy()?)
            .args(["-O", "binary"])
            .arg(&elf)
            .arg(&img),
    )?;
    Ok(img)
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
        .find_map(|l| l.trim().strip_prefix("wrote sectors:"))
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
    fn parses_the_written_sectors_line() {
        let out = "test x: ok\nwrote sectors: 0 1 7 200-203 8192\nPASS\n";
        assert_eq!(
            written_sectors(out),
            Ok(vec![0, 1, 7, 200, 201, 202, 203, 8192])
        );
        assert!(written_sectors("PASS").is_err());
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

//! The Linux test guest: Debian's unmodified arm64 cloud kernel and a
//! busybox initramfs, fetched with apt and cached under target/guest-linux.

use crate::cpio::Cpio;
use crate::image::{run_checked, workspace_root};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The modules the init script loads, in dependency order.
const MODULES: [&str; 4] = [
    "kernel/drivers/virtio/virtio_ring.ko",
    "kernel/drivers/virtio/virtio.ko",
    "kernel/drivers/virtio/virtio_mmio.ko",
    "kernel/drivers/block/virtio_blk.ko",
];

/// The kernel command line for the Linux guest; `shell` leaves a shell.
pub fn cmdline(shell: bool) -> String {
    let mut c = String::from("console=ttyAMA0 earlycon=pl011,0x9000000 rdinit=/init panic=-1");
    if shell {
        c.push_str(" hv.shell");
    }
    c
}

/// The marker, verdict and pattern the init script prints and writes; the
/// boot test checks the same strings and the host reads the pattern back.
pub const MARKER: &str = "HV-LINUX: userspace up";
/// Printed by init when the disk check passed.
pub const VERDICT_PASS: &str = "HV-LINUX: disk check PASS";
/// Sector where init writes the pattern.
pub const PATTERN_SECTOR: u64 = 2048;
/// Lines of the pattern (32 bytes each: 8 sectors).
pub const PATTERN_LINES: usize = 128;

/// Line `i` of the pattern, exactly as init's `printf` writes it.
pub fn pattern_line(i: usize) -> String {
    format!("hv-linux-pattern-line {i:05}  ok\n")
}

/// Check on the host that `disk` holds the pattern init wrote.
pub fn check_disk(disk: &Path) -> Result<(), String> {
    use std::io::{Read, Seek, SeekFrom};
    let want: String = (0..PATTERN_LINES).map(pattern_line).collect();
    let mut got = vec![0u8; want.len()];
    let mut f = std::fs::File::open(disk).map_err(|e| format!("{}: {e}", disk.display()))?;
    f.seek(SeekFrom::Start(PATTERN_SECTOR * 512))
        .and_then(|_| f.read_exact(&mut got))
        .map_err(|e| format!("reading {}: {e}", disk.display()))?;
    if got == want.as_bytes() {
        Ok(())
    } else {
        Err(format!(
            "{} does not hold the pattern Linux wrote at sector {PATTERN_SECTOR}",
            disk.display()
        ))
    }
}

fn init_script() -> String {
    format!(
        r#"#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in {modules}; do insmod /lib/modules/$m || echo "HV-LINUX: insmod $m failed"; done
echo "{MARKER}"
i=0
while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
if [ -b /dev/vda ]; then
  i=0
  while [ $i -lt {PATTERN_LINES} ]; do printf 'hv-linux-pattern-line %05d  ok\n' $i; i=$((i+1)); done > /tmp/pattern
  dd if=/tmp/pattern of=/dev/vda bs=512 seek={PATTERN_SECTOR} conv=fsync 2>/dev/null
  sync
  echo 3 > /proc/sys/vm/drop_caches
  dd if=/dev/vda of=/tmp/back bs=512 skip={PATTERN_SECTOR} count=8 2>/dev/null
  if cmp -s /tmp/pattern /tmp/back; then echo "{VERDICT_PASS}"; else echo "HV-LINUX: disk check FAIL"; fi
  # 4 MiB each way, timed with /proc/uptime (centiseconds).
  t0=$(cut -d' ' -f1 /proc/uptime | tr -d .)
  dd if=/dev/zero of=/dev/vda bs=64k count=64 seek=64 conv=fsync 2>/dev/null
  t1=$(cut -d' ' -f1 /proc/uptime | tr -d .)
  echo 3 > /proc/sys/vm/drop_caches
  dd if=/dev/vda of=/dev/null bs=64k count=64 skip=64 2>/dev/null
  t2=$(cut -d' ' -f1 /proc/uptime | tr -d .)
  echo "HV-LINUX: dd write $((4096 * 100 / (t1 - t0 + 1))) KiB/s, read $((4096 * 100 / (t2 - t1 + 1))) KiB/s"
else
  echo "HV-LINUX: no /dev/vda: disk check FAIL"
fi
echo "HV-LINUX: online CPUs $(cat /sys/devices/system/cpu/online)"
if grep -q hv.shell /proc/cmdline; then
  echo "HV-LINUX: shell (poweroff -f to leave)"
  setsid cttyhack /bin/sh
fi
poweroff -f
"#,
        modules = MODULES
            .iter()
            .map(|m| m.rsplit('/').next().unwrap_or(m))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

fn cache_dir() -> PathBuf {
    workspace_root().join("target/guest-linux")
}

fn have(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok()
}

fn apt(args: &[&str], dir: &Path) -> Result<String, String> {
    let out = Command::new("apt-cache")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("apt-cache: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Debian's unpacked kernel and busybox packages (downloaded once, see
/// [`prepare`]).
pub fn debian_root() -> Result<PathBuf, String> {
    fetch_debian(&cache_dir())
}

/// Download (once) Debian's arm64 cloud kernel and busybox-static; returns
/// the unpacked tree.
fn fetch_debian(dir: &Path) -> Result<PathBuf, String> {
    let root = dir.join("root");
    if root.join("bin/busybox").is_file() && find_kernel(&root).is_some() {
        return Ok(root);
    }
    if !have("apt-get") || !have("dpkg-deb") {
        return Err("apt-get/dpkg-deb not available: pass --kernel and --initrd instead".into());
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let kernel_pkg = arm64_kernel_package("linux-image-cloud-arm64", dir)?;
    println!("xtask: downloading {kernel_pkg} and busybox-static:arm64 (apt-get download)");
    run_checked(
        Command::new("apt-get")
            .args(["download", "-q", &kernel_pkg, "busybox-static:arm64"])
            .current_dir(dir),
    )?;
    for deb in std::fs::read_dir(dir).map_err(|e| e.to_string())?.flatten() {
        let path = deb.path();
        if path.extension().is_some_and(|e| e == "deb") {
            run_checked(Command::new("dpkg-deb").arg("-x").arg(&path).arg(&root))?;
        }
    }
    if !root.join("bin/busybox").is_file() || find_kernel(&root).is_none() {
        return Err(format!(
            "{} lacks the kernel or busybox after unpacking",
            root.display()
        ));
    }
    Ok(root)
}

/// Let apt-get download arm64 packages on this (x86_64) host: add the
/// architecture to dpkg once.
fn ensure_arm64_architecture() -> Result<(), String> {
    let archs = Command::new("dpkg")
        .arg("--print-foreign-architectures")
        .output()
        .map_err(|e| format!("dpkg: {e}"))?;
    if !String::from_utf8_lossy(&archs.stdout).contains("arm64") {
        println!("xtask: adding the arm64 architecture to dpkg (for apt-get download)");
        run_checked(Command::new("dpkg").args(["--add-architecture", "arm64"]))?;
        run_checked(Command::new("apt-get").args(["update", "-q"]))?;
    }
    Ok(())
}

/// The unsigned arm64 kernel package the metapackage `meta` (e.g.
/// `linux-image-cloud-arm64`) points at, for `apt-get download`.
pub(crate) fn arm64_kernel_package(meta: &str, dir: &Path) -> Result<String, String> {
    if !have("apt-get") || !have("dpkg-deb") {
        return Err("apt-get/dpkg-deb not available (a Debian host is needed to fetch Debian's kernel packages)".into());
    }
    ensure_arm64_architecture()?;
    let lookup = || -> Result<Option<String>, String> {
        let deps = apt(&["depends", &format!("{meta}:arm64")], dir)?;
        Ok(deps
            .lines()
            .find_map(|l| l.trim().strip_prefix("Depends: "))
            .filter(|p| p.starts_with("linux-image-"))
            .map(|p| format!("{}-unsigned:arm64", p.trim_end_matches(":arm64"))))
    };
    match lookup()? {
        Some(p) => Ok(p),
        None => {
            // Package lists missing or stale: refresh them once.
            run_checked(Command::new("apt-get").args(["update", "-q"]))?;
            lookup()?.ok_or_else(|| format!("apt knows no {meta}:arm64 even after apt-get update"))
        }
    }
}

/// (Image, modules directory) in an unpacked kernel package.
pub fn find_kernel(root: &Path) -> Option<(PathBuf, PathBuf)> {
    let boot = std::fs::read_dir(root.join("boot")).ok()?;
    let image = boot.flatten().map(|e| e.path()).find(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
    })?;
    let version = image
        .file_name()?
        .to_string_lossy()
        .trim_start_matches("vmlinuz-")
        .to_string();
    Some((image, root.join("lib/modules").join(version)))
}

/// The kernel as a plain arm64 Image (gzip-compressed ones are inflated).
pub fn plain_image(path: &Path) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out)
            .map_err(|e| format!("{}: bad gzip: {e}", path.display()))?;
        return Ok(out);
    }
    Ok(bytes)
}

/// The test guest's initramfs (newc cpio): busybox, the virtio modules
/// from `modules` (a kernel's lib/modules/VERSION) and the init script.
/// Debian's arm64 and amd64 kernels both build virtio as modules, at the
/// same paths, so both architectures' guests use this.
pub fn initramfs(busybox: &Path, modules: &Path) -> Result<Vec<u8>, String> {
    let mut c = Cpio::new();
    for d in [
        "bin",
        "sbin",
        "dev",
        "proc",
        "sys",
        "tmp",
        "lib",
        "lib/modules",
        "usr",
        "usr/bin",
        "usr/sbin",
    ] {
        c.dir(d);
    }
    c.char_dev("dev/console", 5, 1);
    let busybox = std::fs::read(busybox).map_err(|e| format!("{}: {e}", busybox.display()))?;
    c.file("bin/busybox", 0o755, &busybox);
    c.symlink("bin/sh", "busybox");
    for m in MODULES {
        let path = modules.join(m);
        let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = m.rsplit('/').next().unwrap_or(m);
        c.file(&format!("lib/modules/{name}"), 0o644, &data);
    }
    c.file("init", 0o755, init_script().as_bytes());
    Ok(c.finish())
}

/// Build (or reuse) the Linux guest; returns (kernel Image, initramfs).
/// `kernel`/`initrd` replace the downloaded ones when given.
pub fn prepare(kernel: Option<&Path>, initrd: Option<&Path>) -> Result<(PathBuf, PathBuf), String> {
    let dir = cache_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let image_out = dir.join("Image");
    let initrd_out = dir.join("initramfs.cpio");
    let root = if kernel.is_none() || initrd.is_none() {
        Some(fetch_debian(&dir)?)
    } else {
        None
    };
    let found = root.as_deref().and_then(find_kernel);
    let kernel_src = match (kernel, &found) {
        (Some(k), _) => k.to_path_buf(),
        (None, Some((image, _))) => image.clone(),
        (None, None) => return Err("no kernel found in the Debian package".into()),
    };
    std::fs::write(&image_out, plain_image(&kernel_src)?)
        .map_err(|e| format!("{}: {e}", image_out.display()))?;
    match (initrd, &root, &found) {
        (Some(rd), _, _) => {
            std::fs::copy(rd, &initrd_out).map_err(|e| format!("{}: {e}", rd.display()))?;
        }
        (None, Some(root), Some((_, modules))) => {
            let cpio = initramfs(&root.join("bin/busybox"), modules)?;
            std::fs::write(&initrd_out, cpio)
                .map_err(|e| format!("{}: {e}", initrd_out.display()))?;
        }
        _ => return Err("no initramfs: pass --initrd".into()),
    }
    println!(
        "xtask: Linux guest: {} and {}",
        image_out.display(),
        initrd_out.display()
    );
    Ok((image_out, initrd_out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_is_eight_sectors_of_32_byte_lines() {
        assert_eq!(pattern_line(7), "hv-linux-pattern-line 00007  ok\n");
        let total: usize = (0..PATTERN_LINES).map(|i| pattern_line(i).len()).sum();
        assert_eq!(total, 8 * 512);
    }

    #[test]
    fn init_loads_virtio_ring_before_virtio() {
        let script = init_script();
        let ring = script.find("virtio_ring.ko").unwrap();
        let core = script.find(" virtio.ko").unwrap();
        assert!(ring < core, "virtio.ko needs symbols from virtio_ring.ko");
        assert!(script.contains(MARKER) && script.contains(VERDICT_PASS));
    }

    #[test]
    fn disk_check_finds_the_pattern() {
        let dir = std::env::temp_dir().join(format!("xtask-linux-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let disk = dir.join("d.img");
        let mut data = vec![0u8; (PATTERN_SECTOR as usize + 16) * 512];
        assert!(check_disk_bytes(&mut data, &disk).is_err());
        let pattern: String = (0..PATTERN_LINES).map(pattern_line).collect();
        let at = PATTERN_SECTOR as usize * 512;
        data[at..at + pattern.len()].copy_from_slice(pattern.as_bytes());
        assert_eq!(check_disk_bytes(&mut data, &disk), Ok(()));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn gzip_kernels_are_inflated_and_plain_ones_kept() {
        use std::io::Write;
        let dir = std::env::temp_dir().join(format!("xtask-gz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let image = b"plain arm64 Image bytes".repeat(100);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&image).unwrap();
        let (gz_path, plain_path) = (dir.join("vmlinuz.gz"), dir.join("Image"));
        std::fs::write(&gz_path, gz.finish().unwrap()).unwrap();
        std::fs::write(&plain_path, &image).unwrap();
        assert_eq!(plain_image(&gz_path).unwrap(), image);
        assert_eq!(plain_image(&plain_path).unwrap(), image);
        std::fs::write(&gz_path, [0x1f, 0x8b, 0, 1, 2]).unwrap();
        assert!(plain_image(&gz_path).unwrap_err().contains("bad gzip"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn check_disk_bytes(data: &mut [u8], disk: &Path) -> Result<(), String> {
        std::fs::write(disk, &*data).unwrap();
        check_disk(disk)
    }
}

//! The guest bundle: how a guest (kernel, optional initrd, command line)
//! reaches hv-kernel. The loader (QEMU `-initrd`, U-Boot) places the bundle
//! in RAM and names it in the host DTB's `/chosen` `linux,initrd-*`
//! properties; hv-kernel parses it with [`parse`].
//!
//! Format, all integers little-endian:
//!
//! ```text
//! 0   magic "HVGUEST\0"
//! 8   u32 version = 1
//! 12  u32 entry count (at most MAX_ENTRIES)
//! 16  entries, 24 bytes each: u32 kind, u32 reserved (0), u64 offset, u64 size
//! ```
//!
//! Kinds: 1 kernel (arm64 Image or raw binary), 2 initrd, 3 command line
//! (UTF-8, no NUL), 4 a disk, 5 a read-only disk (each the disk's initial
//! contents, a non-zero multiple of 512 bytes: for machines whose host has
//! no disk to give the guest, hv serves them from RAM). Offsets are from the bundle start; each payload must lie
//! after the entry table and inside the bundle. `cargo xtask` writes bundles.

use core::fmt;

/// Bundle magic.
pub const MAGIC: [u8; 8] = *b"HVGUEST\0";
/// The format version this parser reads.
pub const VERSION: u32 = 1;
/// Most entries a bundle may have.
pub const MAX_ENTRIES: u32 = 8;
const HEADER: usize = 16;
const ENTRY: usize = 24;

/// Entry kinds.
pub mod kind {
    /// The guest kernel.
    pub const KERNEL: u32 = 1;
    /// The initial ramdisk.
    pub const INITRD: u32 = 2;
    /// The kernel command line.
    pub const CMDLINE: u32 = 3;
    /// A disk's initial contents.
    pub const DISK: u32 = 4;
    /// A read-only disk's contents.
    pub const READ_ONLY_DISK: u32 = 5;
}

/// Sector size: disk payloads are whole sectors.
pub const SECTOR: usize = 512;

/// Why a bundle was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BundleError {
    /// Shorter than its header or entry table.
    Truncated,
    /// Wrong magic: not a bundle.
    BadMagic,
    /// A version this parser does not read.
    Version(u32),
    /// More than [`MAX_ENTRIES`] entries.
    TooManyEntries(u32),
    /// An entry of an unknown kind, or with a non-zero reserved field.
    BadEntry(u32),
    /// An entry's payload is outside the bundle or overlaps the table.
    OutOfBounds(u32),
    /// A kind appears twice.
    Duplicate(u32),
    /// No kernel entry.
    NoKernel,
    /// The command line is not UTF-8.
    BadCmdline,
    /// A disk payload is empty or not whole sectors.
    BadDisk(u32),
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BundleError::Truncated => write!(f, "guest bundle is truncated"),
            BundleError::BadMagic => write!(f, "not a guest bundle (bad magic)"),
            BundleError::Version(v) => write!(f, "guest bundle version {v} is not supported"),
            BundleError::TooManyEntries(n) => write!(f, "guest bundle has {n} entries"),
            BundleError::BadEntry(k) => write!(f, "guest bundle entry of unknown kind {k}"),
            BundleError::OutOfBounds(k) => write!(f, "guest bundle entry {k} lies outside it"),
            BundleError::Duplicate(k) => write!(f, "guest bundle has entry kind {k} twice"),
            BundleError::NoKernel => write!(f, "guest bundle has no kernel"),
            BundleError::BadCmdline => write!(f, "guest command line is not UTF-8"),
            BundleError::BadDisk(k) => write!(
                f,
                "guest bundle disk (entry kind {k}) is empty or not a multiple of {SECTOR} bytes"
            ),
        }
    }
}

/// The parts of a bundle, borrowed from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bundle<'a> {
    /// The kernel image.
    pub kernel: &'a [u8],
    /// The initrd, if any.
    pub initrd: Option<&'a [u8]>,
    /// The command line (empty if none).
    pub cmdline: &'a str,
    /// A disk's initial contents, if the bundle carries one.
    pub disk: Option<&'a [u8]>,
    /// A read-only disk, if the bundle carries one.
    pub read_only_disk: Option<&'a [u8]>,
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// Whether `bytes` starts like a bundle (for a clear message otherwise).
pub fn is_bundle(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// Parse and validate a bundle.
pub fn parse(b: &[u8]) -> Result<Bundle<'_>, BundleError> {
    if b.len() < HEADER {
        return Err(BundleError::Truncated);
    }
    if !is_bundle(b) {
        return Err(BundleError::BadMagic);
    }
    let version = u32_at(b, 8).ok_or(BundleError::Truncated)?;
    if version != VERSION {
        return Err(BundleError::Version(version));
    }
    let count = u32_at(b, 12).ok_or(BundleError::Truncated)?;
    if count > MAX_ENTRIES {
        return Err(BundleError::TooManyEntries(count));
    }
    // count <= 8, so this cannot overflow.
    let table_end = HEADER + count as usize * ENTRY;
    if b.len() < table_end {
        return Err(BundleError::Truncated);
    }
    let (mut kernel, mut initrd, mut cmdline) = (None, None, None);
    let (mut disk, mut read_only_disk) = (None, None);
    for i in 0..count as usize {
        let at = HEADER + i * ENTRY;
        let k = u32_at(b, at).ok_or(BundleError::Truncated)?;
        let reserved = u32_at(b, at + 4).ok_or(BundleError::Truncated)?;
        let offset = u64_at(b, at + 8).ok_or(BundleError::Truncated)?;
        let size = u64_at(b, at + 16).ok_or(BundleError::Truncated)?;
        if reserved != 0 {
            return Err(BundleError::BadEntry(k));
        }
        let start = usize::try_from(offset).map_err(|_| BundleError::OutOfBounds(k))?;
        let len = usize::try_from(size).map_err(|_| BundleError::OutOfBounds(k))?;
        let end = start.checked_add(len).ok_or(BundleError::OutOfBounds(k))?;
        if start < table_end {
            return Err(BundleError::OutOfBounds(k));
        }
        let payload = b.get(start..end).ok_or(BundleError::OutOfBounds(k))?;
        let slot = match k {
            kind::KERNEL => &mut kernel,
            kind::INITRD => &mut initrd,
            kind::CMDLINE => &mut cmdline,
            kind::DISK => &mut disk,
            kind::READ_ONLY_DISK => &mut read_only_disk,
            _ => return Err(BundleError::BadEntry(k)),
        };
        if matches!(k, kind::DISK | kind::READ_ONLY_DISK)
            && (payload.is_empty() || payload.len() % SECTOR != 0)
        {
            return Err(BundleError::BadDisk(k));
        }
        if slot.replace(payload).is_some() {
            return Err(BundleError::Duplicate(k));
        }
    }
    let cmdline = match cmdline {
        Some(c) => core::str::from_utf8(c).map_err(|_| BundleError::BadCmdline)?,
        None => "",
    };
    Ok(Bundle {
        kernel: kernel.ok_or(BundleError::NoKernel)?,
        initrd,
        cmdline,
        disk,
        read_only_disk,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// Build a bundle the way xtask does.
    fn build(entries: &[(u32, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
        let mut offset = (HEADER + entries.len() * ENTRY) as u64;
        for (k, data) in entries {
            out.extend_from_slice(&k.to_le_bytes());
            out.extend_from_slice(&0u32.to_le_bytes());
            out.extend_from_slice(&offset.to_le_bytes());
            out.extend_from_slice(&(data.len() as u64).to_le_bytes());
            offset += data.len() as u64;
        }
        for (_, data) in entries {
            out.extend_from_slice(data);
        }
        out
    }

    #[test]
    fn parses_kernel_initrd_and_cmdline() {
        let b = build(&[
            (kind::KERNEL, b"KERNEL"),
            (kind::INITRD, b"RD"),
            (kind::CMDLINE, b"console=ttyAMA0"),
        ]);
        assert_eq!(
            parse(&b),
            Ok(Bundle {
                kernel: b"KERNEL",
                initrd: Some(b"RD"),
                cmdline: "console=ttyAMA0",
                disk: None,
                read_only_disk: None,
            })
        );
    }

    #[test]
    fn carries_disks_of_whole_sectors() {
        let (rw, ro) = ([7u8; 1024], [9u8; 512]);
        let b = build(&[
            (kind::KERNEL, b"K"),
            (kind::DISK, &rw),
            (kind::READ_ONLY_DISK, &ro),
        ]);
        let p = parse(&b).unwrap();
        assert_eq!(p.disk, Some(&rw[..]));
        assert_eq!(p.read_only_disk, Some(&ro[..]));
        for (k, bad) in [
            (kind::DISK, &[0u8; 0][..]),
            (kind::DISK, &[0u8; 511][..]),
            (kind::READ_ONLY_DISK, &[0u8; 513][..]),
        ] {
            assert_eq!(
                parse(&build(&[(kind::KERNEL, b"K"), (k, bad)])),
                Err(BundleError::BadDisk(k))
            );
        }
        assert_eq!(
            parse(&build(&[
                (kind::KERNEL, b"K"),
                (kind::DISK, &rw),
                (kind::DISK, &rw)
            ])),
            Err(BundleError::Duplicate(kind::DISK))
        );
    }

    #[test]
    fn kernel_alone_is_enough() {
        let b = build(&[(kind::KERNEL, b"K")]);
        assert_eq!(parse(&b).unwrap().initrd, None);
        assert_eq!(parse(&b).unwrap().cmdline, "");
    }

    #[test]
    fn refuses_bad_headers() {
        let good = build(&[(kind::KERNEL, b"K")]);
        assert_eq!(parse(&good[..10]), Err(BundleError::Truncated));
        let mut bad = good.clone();
        bad[0] = b'X';
        assert_eq!(parse(&bad), Err(BundleError::BadMagic));
        let mut bad = good.clone();
        bad[8] = 2;
        assert_eq!(parse(&bad), Err(BundleError::Version(2)));
        let mut bad = good.clone();
        bad[12] = 9;
        assert_eq!(parse(&bad), Err(BundleError::TooManyEntries(9)));
        let mut bad = good.clone();
        bad[12] = 2;
        assert_eq!(parse(&bad), Err(BundleError::Truncated));
    }

    #[test]
    fn refuses_entries_outside_the_bundle() {
        let good = build(&[(kind::KERNEL, b"KERNEL")]);
        // Size one past the end.
        let mut bad = good.clone();
        bad[32] = 7;
        assert_eq!(parse(&bad), Err(BundleError::OutOfBounds(kind::KERNEL)));
        // Offset + size overflowing.
        let mut bad = good.clone();
        bad[24..32].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(parse(&bad), Err(BundleError::OutOfBounds(kind::KERNEL)));
        // A size near the top of u64, alone and with a valid offset.
        for size in [u64::MAX, u64::MAX - 39, 1 << 63] {
            let mut bad = good.clone();
            bad[32..40].copy_from_slice(&size.to_le_bytes());
            assert_eq!(parse(&bad), Err(BundleError::OutOfBounds(kind::KERNEL)));
        }
        // An offset at the very end of the address space, size 0.
        let mut bad = good.clone();
        bad[24..32].copy_from_slice(&u64::MAX.to_le_bytes());
        bad[32..40].copy_from_slice(&0u64.to_le_bytes());
        assert_eq!(parse(&bad), Err(BundleError::OutOfBounds(kind::KERNEL)));
        // Payload overlapping the entry table.
        let mut bad = good.clone();
        bad[24..32].copy_from_slice(&8u64.to_le_bytes());
        assert_eq!(parse(&bad), Err(BundleError::OutOfBounds(kind::KERNEL)));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 1024,
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// A bundle with header and entry fields overwritten by edge values
        /// parses or is refused, never panics, and what it returns lies in
        /// the bundle.
        #[test]
        fn parse_never_panics_on_mutated_bundles(
            pokes in proptest::collection::vec(
                (0usize..80, proptest::prop_oneof![
                    proptest::prelude::Just(0u64),
                    proptest::prelude::Just(1),
                    proptest::prelude::Just(8),
                    proptest::prelude::Just(64),
                    proptest::prelude::Just(u64::MAX),
                    proptest::prelude::Just(u64::MAX - 1),
                    proptest::prelude::any::<u64>(),
                ]),
                0..6,
            ),
            cut in 0usize..120,
        ) {
            let mut b = build(&[(kind::KERNEL, b"KERNEL"), (kind::CMDLINE, b"console=x")]);
            for (at, v) in pokes {
                if let Some(dst) = b.get_mut(at..at + 8) {
                    dst.copy_from_slice(&v.to_le_bytes());
                }
            }
            b.truncate(cut);
            if let Ok(p) = parse(&b) {
                let inside = |s: &[u8]| {
                    let (start, end) = (b.as_ptr() as usize, b.as_ptr() as usize + b.len());
                    s.as_ptr() as usize >= start && s.as_ptr() as usize + s.len() <= end
                };
                proptest::prop_assert!(inside(p.kernel));
                proptest::prop_assert!(inside(p.cmdline.as_bytes()));
            }
        }
    }

    #[test]
    fn refuses_unknown_duplicate_and_missing_entries() {
        assert_eq!(parse(&build(&[(7, b"x")])), Err(BundleError::BadEntry(7)));
        assert_eq!(
            parse(&build(&[(kind::KERNEL, b"a"), (kind::KERNEL, b"b")])),
            Err(BundleError::Duplicate(kind::KERNEL))
        );
        assert_eq!(
            parse(&build(&[(kind::INITRD, b"a")])),
            Err(BundleError::NoKernel)
        );
        assert_eq!(
            parse(&build(&[(kind::KERNEL, b"a"), (kind::CMDLINE, &[0xff])])),
            Err(BundleError::BadCmdline)
        );
        let mut bad = build(&[(kind::KERNEL, b"K")]);
        bad[20] = 1;
        assert_eq!(parse(&bad), Err(BundleError::BadEntry(kind::KERNEL)));
    }
}

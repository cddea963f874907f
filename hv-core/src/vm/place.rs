//! Putting a guest in its RAM, the same way in every home: the kernel where
//! [`loader::layout`] says, the initrd just below the DTB area, and the DTB
//! (describing the machine) at the top of RAM.

use super::fdt::{self, FdtError, GuestFdt};
use super::loader::{self, Format, LoadError};
use crate::addr::GuestAddress;
use crate::machine;
use crate::mem::{GuestMemory, MemError};
use core::fmt;

/// Room at the top of guest RAM for the DTB (Linux wants it within 2 MiB).
pub const DTB_AREA: u64 = 2 << 20;
const PAGE: u64 = 4096;

/// What the guest runs.
#[derive(Clone, Copy, Debug)]
pub struct GuestSoftware<'a> {
    /// Kernel image (arm64 Image, ELF or raw).
    pub kernel: &'a [u8],
    /// Initial RAM disk.
    pub initrd: Option<&'a [u8]>,
    /// Kernel command line.
    pub cmdline: &'a str,
}

/// Where things went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placed {
    /// Entry point.
    pub entry: GuestAddress,
    /// The DTB (x0 at entry).
    pub dtb: GuestAddress,
    /// Where the kernel's first segment starts.
    pub kernel_at: GuestAddress,
    /// The initrd's [start, end), if any.
    pub initrd: Option<(u64, u64)>,
    /// How the kernel was recognised.
    pub format: Format,
    /// End of the kernel's footprint (its last segment and BSS).
    pub kernel_end: GuestAddress,
    /// Bytes of DTB written at `dtb`.
    pub dtb_len: u64,
}

impl Placed {
    /// Every range of guest RAM `place` wrote, as [start, end): kernel
    /// (with its zeroed BSS), initrd (empty if none), DTB. A home whose
    /// writes go through caches the guest does not look in (its MMU and
    /// caches are off at entry) cleans exactly these.
    pub fn written(&self) -> [(GuestAddress, GuestAddress); 3] {
        let initrd = self.initrd.map_or((self.dtb, self.dtb), |(s, e)| {
            (GuestAddress(s), GuestAddress(e))
        });
        [
            (self.kernel_at, self.kernel_end),
            initrd,
            (self.dtb, GuestAddress(self.dtb.raw() + self.dtb_len)),
        ]
    }
}

/// Why the guest could not be placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlaceError {
    /// The kernel cannot be laid out.
    Load(LoadError),
    /// Guest RAM refused a copy.
    Mem(MemError),
    /// The device tree could not be written.
    Fdt(FdtError),
    /// Initrd and DTB do not fit above the kernel.
    NoRoom,
}

impl fmt::Display for PlaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlaceError::Load(e) => write!(f, "{e}"),
            PlaceError::Mem(e) => write!(f, "loading the guest: {e}"),
            PlaceError::Fdt(e) => write!(f, "guest device tree: {e}"),
            PlaceError::NoRoom => write!(f, "the initrd and device tree do not fit in guest RAM"),
        }
    }
}

impl From<LoadError> for PlaceError {
    fn from(e: LoadError) -> Self {
        PlaceError::Load(e)
    }
}

impl From<MemError> for PlaceError {
    fn from(e: MemError) -> Self {
        PlaceError::Mem(e)
    }
}

impl From<FdtError> for PlaceError {
    fn from(e: FdtError) -> Self {
        PlaceError::Fdt(e)
    }
}

/// Put `sw` into `ram` (`ram_size` bytes at the contract's RAM base) for a
/// machine of `vcpus` vCPUs with interrupt controller `gic`, whose
/// virtio-mmio devices sit in `virtio_slots`.
pub fn place<M: GuestMemory + ?Sized>(
    ram: &M,
    sw: &GuestSoftware,
    ram_size: u64,
    vcpus: u32,
    virtio_slots: &[u32],
    gic: machine::GicModel,
) -> Result<Placed, PlaceError> {
    let layout = loader::layout(sw.kernel, ram_size)?;
    // The layout guarantees data.len() <= mem_size and that every segment
    // ends inside RAM; checked here all the same, so a layout bug is an
    // error rather than an overflow.
    for seg in &layout.segments {
        ram.write(seg.addr, seg.data)?;
        let copied = u64::try_from(seg.data.len()).map_err(|_| LoadError::DoesNotFit)?;
        let tail = seg
            .mem_size
            .checked_sub(copied)
            .ok_or(LoadError::Truncated)?;
        if tail > 0 {
            let bss = seg.addr.checked_add(copied).ok_or(LoadError::DoesNotFit)?;
            ram.fill(bss, 0, tail)?;
        }
    }
    let ram_end = machine::RAM_BASE
        .raw()
        .checked_add(ram_size)
        .ok_or(LoadError::DoesNotFit)?;
    let dtb = ram_end
        .checked_sub(DTB_AREA)
        .filter(|&d| d >= layout.end.raw())
        .ok_or(PlaceError::NoRoom)?;
    let initrd = match sw.initrd {
        Some(rd) => {
            let len = u64::try_from(rd.len()).map_err(|_| PlaceError::NoRoom)?;
            let start = dtb
                .checked_sub(len)
                .map(|s| s & !(PAGE - 1))
                .filter(|&s| s >= layout.end.raw())
                .ok_or(PlaceError::NoRoom)?;
            ram.write(GuestAddress(start), rd)?;
            // start <= dtb - len, so the end is at most dtb.
            let end = start.checked_add(len).ok_or(PlaceError::NoRoom)?;
            Some((start, end))
        }
        None => None,
    };
    let blob = fdt::build(&GuestFdt {
        ram_size,
        cpus: vcpus,
        bootargs: sw.cmdline,
        initrd,
        virtio_slots,
        gic,
    })?;
    if blob.len() as u64 > DTB_AREA {
        return Err(PlaceError::NoRoom);
    }
    ram.write(GuestAddress(dtb), &blob)?;
    Ok(Placed {
        entry: layout.entry,
        dtb: GuestAddress(dtb),
        kernel_at: layout.segments.first().map_or(layout.entry, |s| s.addr),
        initrd,
        format: layout.format,
        kernel_end: layout.end,
        dtb_len: blob.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::GuestRam;

    const MIB: u64 = 1 << 20;

    fn image(len: usize) -> alloc::vec::Vec<u8> {
        let mut k = alloc::vec![0xaau8; len];
        k[8..16].copy_from_slice(&0x20_0000u64.to_le_bytes());
        k[16..24].copy_from_slice(&(len as u64 + 4096).to_le_bytes());
        k[56..60].copy_from_slice(b"ARM\x64");
        k
    }

    #[test]
    fn kernel_initrd_and_dtb_land_where_expected() {
        let ram = GuestRam::with_size(machine::RAM_BASE, 64 * MIB).unwrap();
        let kernel = image(8192);
        let sw = GuestSoftware {
            kernel: &kernel,
            initrd: Some(b"INITRD"),
            cmdline: "console=ttyAMA0",
        };
        let p = place(&ram, &sw, 64 * MIB, 2, &[0], machine::GicModel::V3).unwrap();
        assert_eq!(p.entry, GuestAddress(0x4020_0000));
        assert_eq!(p.dtb, GuestAddress(0x4000_0000 + 62 * MIB));
        let (start, end) = p.initrd.unwrap();
        assert_eq!(end - start, 6);
        assert!(start < p.dtb.raw() && start % 4096 == 0);
        let mut got = [0u8; 6];
        ram.read(GuestAddress(start), &mut got).unwrap();
        assert_eq!(&got, b"INITRD");
        assert_eq!(
            ram.read_u32(p.dtb).unwrap(),
            0xedfe_0dd0,
            "FDT magic, big-endian"
        );
        // The BSS the header promises beyond the file is zeroed.
        assert_eq!(ram.read_u8(GuestAddress(0x4020_0000 + 8192)).unwrap(), 0);
    }

    #[test]
    fn written_ranges_cover_exactly_what_was_written() {
        // Fill RAM with a marker, place, and compare every page: the ones
        // that changed must lie inside `written()`, and each range must
        // start and end where something was written.
        let size = 64 * MIB;
        let ram = GuestRam::with_size(machine::RAM_BASE, size).unwrap();
        ram.fill(machine::RAM_BASE, 0x5a, size).unwrap();
        let kernel = image(8192);
        let sw = GuestSoftware {
            kernel: &kernel,
            initrd: Some(&[0x11; 5000]),
            cmdline: "x",
        };
        let p = place(&ram, &sw, size, 1, &[], machine::GicModel::V3).unwrap();
        let w = p.written();
        let inside = |a: u64| w.iter().any(|&(s, e)| s.raw() <= a && a < e.raw());
        let mut byte = [0u8; 1];
        for a in (machine::RAM_BASE.raw()..machine::RAM_BASE.raw() + size).step_by(512) {
            ram.read(GuestAddress(a), &mut byte).unwrap();
            if byte[0] != 0x5a {
                assert!(inside(a), "{a:#x} changed outside the written ranges");
            }
        }
        assert_eq!(
            w[0],
            (
                GuestAddress(0x4020_0000),
                GuestAddress(0x4020_0000 + 8192 + 4096)
            )
        );
        assert_eq!(w[1].1.raw() - w[1].0.raw(), 5000);
        assert_eq!(w[2].0, p.dtb);
        assert!(w[2].1.raw() > p.dtb.raw() && w[2].1.raw() <= p.dtb.raw() + DTB_AREA);
    }

    #[test]
    fn too_small_a_ram_is_no_room() {
        let ram = GuestRam::with_size(machine::RAM_BASE, 4 * MIB).unwrap();
        let kernel = image(3 * MIB as usize / 2);
        let sw = GuestSoftware {
            kernel: &kernel,
            initrd: Some(&[0; 4096]),
            cmdline: "",
        };
        assert_eq!(
            place(&ram, &sw, 4 * MIB, 1, &[], machine::GicModel::V3),
            Err(PlaceError::NoRoom)
        );
    }

    #[test]
    fn ram_size_overflowing_the_address_space_is_an_error_not_a_panic() {
        let ram = GuestRam::with_size(machine::RAM_BASE, 8 * MIB).unwrap();
        let kernel = image(8192);
        let sw = GuestSoftware {
            kernel: &kernel,
            initrd: Some(b"INITRD"),
            cmdline: "",
        };
        assert_eq!(
            place(&ram, &sw, u64::MAX, 1, &[], machine::GicModel::V3),
            Err(PlaceError::Load(LoadError::DoesNotFit))
        );
        // A size that reaches exactly the top of the address space: the
        // layout accepts it, the DTB and initrd land beyond the real RAM,
        // and the copy is refused.
        let top = u64::MAX - machine::RAM_BASE.raw();
        assert!(matches!(
            place(&ram, &sw, top, 1, &[], machine::GicModel::V3),
            Err(PlaceError::Mem(_) | PlaceError::Fdt(_))
        ));
    }
}

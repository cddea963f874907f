//! Where a guest kernel goes in guest RAM: the Linux arm64 `Image` header
//! rules, ELF64 program headers, or a raw binary. Pure parsing; the home
//! copies the segments.

use crate::addr::GuestAddress;
use crate::machine;
use alloc::vec::Vec;
use core::fmt;

/// Where a kernel with text_offset 0 (or a raw binary) is placed: the start
/// of RAM plus 2 MiB, as QEMU and Linux's booting rules do.
pub const DEFAULT_TEXT_OFFSET: u64 = 0x20_0000;
const ARM64_MAGIC: &[u8; 4] = b"ARM\x64";
const ELF_MAGIC: &[u8; 4] = b"\x7fELF";
const EM_AARCH64: u16 = 183;
const PT_LOAD: u32 = 1;

/// One piece of the kernel to copy into guest RAM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment<'a> {
    /// Where it goes.
    pub addr: GuestAddress,
    /// Bytes to copy.
    pub data: &'a [u8],
    /// Bytes reserved from `addr` (>= data.len(); the rest is zeroed).
    pub mem_size: u64,
}

/// A kernel laid out for loading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout<'a> {
    /// What to copy where.
    pub segments: Vec<Segment<'a>>,
    /// Entry point.
    pub entry: GuestAddress,
    /// First guest address past everything the kernel occupies (BSS
    /// included): where the loader may put other things.
    pub end: GuestAddress,
    /// Which format was recognised.
    pub format: Format,
}

/// Kernel formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Linux arm64 Image.
    Image,
    /// ELF64 for AArch64.
    Elf,
    /// Anything else: copied to RAM base + 2 MiB and entered at its start.
    Raw,
}

/// Why a kernel cannot be loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// Empty file.
    Empty,
    /// A header field points outside the file or overflows.
    Truncated,
    /// An ELF for another machine or class.
    WrongMachine,
    /// The kernel does not fit in guest RAM (or has no loadable segment).
    DoesNotFit,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Empty => write!(f, "the guest kernel is empty"),
            LoadError::Truncated => write!(f, "the guest kernel's headers point outside the file"),
            LoadError::WrongMachine => write!(f, "the guest ELF is not a 64-bit AArch64 ELF"),
            LoadError::DoesNotFit => write!(f, "the guest kernel does not fit in guest RAM"),
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> Result<u16, LoadError> {
    let bytes = b.get(at..at + 2).ok_or(LoadError::Truncated)?;
    Ok(u16::from_le_bytes([bytes[0], bytes[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, LoadError> {
    let bytes = b.get(at..at + 4).ok_or(LoadError::Truncated)?;
    Ok(u32::from_le_bytes(
        bytes.try_into().map_err(|_| LoadError::Truncated)?,
    ))
}

fn u64_at(b: &[u8], at: usize) -> Result<u64, LoadError> {
    let bytes = b.get(at..at + 8).ok_or(LoadError::Truncated)?;
    Ok(u64::from_le_bytes(
        bytes.try_into().map_err(|_| LoadError::Truncated)?,
    ))
}

/// Lay out `kernel` for a guest with `ram_size` bytes of RAM at the
/// contract's RAM base.
pub fn layout(kernel: &[u8], ram_size: u64) -> Result<Layout<'_>, LoadError> {
    if kernel.is_empty() {
        return Err(LoadError::Empty);
    }
    let l = if kernel.get(56..60) == Some(&ARM64_MAGIC[..]) {
        image(kernel)?
    } else if kernel.starts_with(ELF_MAGIC) {
        elf(kernel)?
    } else {
        let addr = machine::RAM_BASE.raw() + DEFAULT_TEXT_OFFSET;
        Layout {
            segments: alloc::vec![Segment {
                addr: GuestAddress(addr),
                data: kernel,
                mem_size: kernel.len() as u64,
            }],
            entry: GuestAddress(addr),
            end: GuestAddress(addr + kernel.len() as u64),
            format: Format::Raw,
        }
    };
    let ram_end = machine::RAM_BASE
        .raw()
        .checked_add(ram_size)
        .ok_or(LoadError::DoesNotFit)?;
    let fits = |s: &Segment| {
        s.addr >= machine::RAM_BASE
            && s.addr
                .raw()
                .checked_add(s.mem_size)
                .is_some_and(|e| e <= ram_end)
    };
    if l.segments.is_empty() || !l.segments.iter().all(fits) || l.end.raw() > ram_end {
        return Err(LoadError::DoesNotFit);
    }
    Ok(l)
}

fn image(kernel: &[u8]) -> Result<Layout<'_>, LoadError> {
    let text_offset = u64_at(kernel, 8)?;
    let image_size = u64_at(kernel, 16)?;
    // image_size 0 is an old kernel (before 3.17): text_offset 0x80000.
    let (offset, size) = if image_size == 0 {
        (0x8_0000, kernel.len() as u64)
    } else {
        (text_offset, image_size.max(kernel.len() as u64))
    };
    // A 2 MiB-aligned base: RAM base itself, plus text_offset; a zero offset
    // goes 2 MiB in, as QEMU does, keeping room below for firmware tables.
    let offset = if offset == 0 {
        DEFAULT_TEXT_OFFSET
    } else {
        offset
    };
    let addr = machine::RAM_BASE
        .raw()
        .checked_add(offset)
        .ok_or(LoadError::DoesNotFit)?;
    let end = addr.checked_add(size).ok_or(LoadError::DoesNotFit)?;
    Ok(Layout {
        segments: alloc::vec![Segment {
            addr: GuestAddress(addr),
            data: kernel,
            mem_size: size,
        }],
        entry: GuestAddress(addr),
        end: GuestAddress(end),
        format: Format::Image,
    })
}

fn elf(b: &[u8]) -> Result<Layout<'_>, LoadError> {
    // e_ident: class 2 (64-bit), data 1 (little-endian).
    if b.get(4) != Some(&2) || b.get(5) != Some(&1) || u16_at(b, 18)? != EM_AARCH64 {
        return Err(LoadError::WrongMachine);
    }
    let entry = u64_at(b, 24)?;
    let phoff = usize::try_from(u64_at(b, 32)?).map_err(|_| LoadError::Truncated)?;
    let phentsize = usize::from(u16_at(b, 54)?);
    let phnum = usize::from(u16_at(b, 56)?);
    if phentsize < 56 {
        return Err(LoadError::Truncated);
    }
    let mut segments = Vec::new();
    let mut end = 0u64;
    for i in 0..phnum {
        let ph = phoff
            .checked_add(i.checked_mul(phentsize).ok_or(LoadError::Truncated)?)
            .ok_or(LoadError::Truncated)?;
        if u32_at(b, ph)? != PT_LOAD {
            continue;
        }
        let offset = usize::try_from(u64_at(b, ph + 8)?).map_err(|_| LoadError::Truncated)?;
        let paddr = u64_at(b, ph + 24)?;
        let filesz = usize::try_from(u64_at(b, ph + 32)?).map_err(|_| LoadError::Truncated)?;
        let memsz = u64_at(b, ph + 40)?;
        if (filesz as u64) > memsz {
            return Err(LoadError::Truncated);
        }
        let data = b
            .get(offset..offset.checked_add(filesz).ok_or(LoadError::Truncated)?)
            .ok_or(LoadError::Truncated)?;
        end = end.max(paddr.checked_add(memsz).ok_or(LoadError::DoesNotFit)?);
        segments.push(Segment {
            addr: GuestAddress(paddr),
            data,
            mem_size: memsz,
        });
    }
    Ok(Layout {
        segments,
        entry: GuestAddress(entry),
        end: GuestAddress(end),
        format: Format::Elf,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn image_with(text_offset: u64, image_size: u64, len: usize) -> Vec<u8> {
        let mut k = alloc::vec![0u8; len.max(64)];
        k[8..16].copy_from_slice(&text_offset.to_le_bytes());
        k[16..24].copy_from_slice(&image_size.to_le_bytes());
        k[56..60].copy_from_slice(ARM64_MAGIC);
        k
    }

    #[test]
    fn image_goes_to_ram_base_plus_text_offset() {
        let k = image_with(0x20_0000, 3 * MIB, 4096);
        let l = layout(&k, 128 * MIB).unwrap();
        assert_eq!(l.format, Format::Image);
        assert_eq!(l.entry, GuestAddress(0x4020_0000));
        assert_eq!(l.end, GuestAddress(0x4050_0000), "image_size counts BSS");
        assert_eq!(l.segments[0].data.len(), 4096);
    }

    #[test]
    fn zero_text_offset_goes_two_mib_in() {
        let k = image_with(0, 2 * MIB, 4096);
        assert_eq!(
            layout(&k, 128 * MIB).unwrap().entry,
            GuestAddress(0x4020_0000)
        );
    }

    #[test]
    fn image_larger_than_ram_is_refused() {
        let k = image_with(0x20_0000, 200 * MIB, 4096);
        assert_eq!(layout(&k, 128 * MIB), Err(LoadError::DoesNotFit));
        let k = image_with(u64::MAX - 10, 4096, 4096);
        assert_eq!(layout(&k, 128 * MIB), Err(LoadError::DoesNotFit));
    }

    #[test]
    fn raw_binary_goes_two_mib_in() {
        let l = layout(&[1, 2, 3], MIB * 4).unwrap();
        assert_eq!(l.format, Format::Raw);
        assert_eq!(l.entry, GuestAddress(0x4020_0000));
        assert_eq!(layout(&[], MIB * 4), Err(LoadError::Empty));
        assert_eq!(layout(&[1], MIB), Err(LoadError::DoesNotFit));
    }

    fn elf_with(entry: u64, paddr: u64, filesz: u64, memsz: u64, machine: u16) -> Vec<u8> {
        let mut b = alloc::vec![0u8; 0x200];
        b[..4].copy_from_slice(ELF_MAGIC);
        b[4] = 2;
        b[5] = 1;
        b[18..20].copy_from_slice(&machine.to_le_bytes());
        b[24..32].copy_from_slice(&entry.to_le_bytes());
        b[32..40].copy_from_slice(&64u64.to_le_bytes());
        b[54..56].copy_from_slice(&56u16.to_le_bytes());
        b[56..58].copy_from_slice(&1u16.to_le_bytes());
        let ph = 64;
        b[ph..ph + 4].copy_from_slice(&PT_LOAD.to_le_bytes());
        b[ph + 8..ph + 16].copy_from_slice(&0x100u64.to_le_bytes());
        b[ph + 24..ph + 32].copy_from_slice(&paddr.to_le_bytes());
        b[ph + 32..ph + 40].copy_from_slice(&filesz.to_le_bytes());
        b[ph + 40..ph + 48].copy_from_slice(&memsz.to_le_bytes());
        b
    }

    #[test]
    fn elf_segments_go_to_their_physical_addresses() {
        let b = elf_with(0x4008_0000, 0x4008_0000, 0x80, 0x1000, EM_AARCH64);
        let l = layout(&b, 16 * MIB).unwrap();
        assert_eq!(l.format, Format::Elf);
        assert_eq!(l.entry, GuestAddress(0x4008_0000));
        assert_eq!(l.segments.len(), 1);
        assert_eq!(l.segments[0].data.len(), 0x80);
        assert_eq!(l.end, GuestAddress(0x4008_1000));
    }

    #[test]
    fn bad_elves_are_refused() {
        let wrong = elf_with(0, 0x4008_0000, 0x80, 0x1000, 62);
        assert_eq!(layout(&wrong, 16 * MIB), Err(LoadError::WrongMachine));
        let past_file = elf_with(0, 0x4008_0000, 0x1000, 0x1000, EM_AARCH64);
        assert_eq!(layout(&past_file, 16 * MIB), Err(LoadError::Truncated));
        let below_ram = elf_with(0, 0x1000, 0x80, 0x80, EM_AARCH64);
        assert_eq!(layout(&below_ram, 16 * MIB), Err(LoadError::DoesNotFit));
        let filesz_over_memsz = elf_with(0, 0x4008_0000, 0x80, 0x10, EM_AARCH64);
        assert_eq!(
            layout(&filesz_over_memsz, 16 * MIB),
            Err(LoadError::Truncated)
        );
        let mut no_load = elf_with(0, 0x4008_0000, 0x80, 0x80, EM_AARCH64);
        no_load[64] = 6;
        assert_eq!(layout(&no_load, 16 * MIB), Err(LoadError::DoesNotFit));
        assert_eq!(layout(&no_load[..40], 16 * MIB), Err(LoadError::Truncated));
    }
}

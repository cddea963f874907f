//! Where a guest kernel goes in guest RAM: the Linux arm64 `Image` header
//! rules, ELF64 program headers, or a raw binary; on x86, an ELF64 with a
//! PVH entry note ([`layout_pvh`]). Pure parsing; the home copies the
//! segments.

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
const EM_X86_64: u16 = 62;
const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;
/// The Xen ELF note that gives a PVH kernel's 32-bit entry point.
const XEN_ELFNOTE_PHYS32_ENTRY: u32 = 18;

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
    /// ELF64 for x86_64 with a PVH entry note.
    PvhElf,
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
    /// An x86 ELF without the PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY).
    NoPvhEntry,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Empty => write!(f, "the guest kernel is empty"),
            LoadError::Truncated => write!(f, "the guest kernel's headers point outside the file"),
            LoadError::WrongMachine => {
                write!(
                    f,
                    "the guest ELF is not a little-endian 64-bit ELF for this machine"
                )
            }
            LoadError::DoesNotFit => write!(f, "the guest kernel does not fit in guest RAM"),
            LoadError::NoPvhEntry => {
                write!(
                    f,
                    "the guest ELF has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)"
                )
            }
        }
    }
}

/// Size of an ELF64 program header, the least `e_phentsize` we accept.
const PHDR_SIZE: usize = 56;

/// `len` bytes of `b` from `at`, which may come from a header: the end is
/// computed with a checked addition.
fn bytes_at(b: &[u8], at: usize, len: usize) -> Result<&[u8], LoadError> {
    let end = at.checked_add(len).ok_or(LoadError::Truncated)?;
    b.get(at..end).ok_or(LoadError::Truncated)
}

fn array_at<const N: usize>(b: &[u8], at: usize) -> Result<[u8; N], LoadError> {
    bytes_at(b, at, N)?
        .try_into()
        .map_err(|_| LoadError::Truncated)
}

fn u16_at(b: &[u8], at: usize) -> Result<u16, LoadError> {
    array_at(b, at).map(u16::from_le_bytes)
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, LoadError> {
    array_at(b, at).map(u32::from_le_bytes)
}

fn u64_at(b: &[u8], at: usize) -> Result<u64, LoadError> {
    array_at(b, at).map(u64::from_le_bytes)
}

/// A header value used as an offset into the file.
fn file_offset(v: u64) -> Result<usize, LoadError> {
    usize::try_from(v).map_err(|_| LoadError::Truncated)
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
        elf(kernel, EM_AARCH64)?
    } else {
        raw(kernel)?
    };
    fit(l, machine::RAM_BASE.raw(), ram_size)
}

/// Lay out an x86_64 PVH kernel (an ELF64 with the PVH entry note, as
/// QEMU's `-kernel` boots it) for a guest with `ram_size` bytes of RAM
/// at guest-physical 0. The entry is the note's 32-bit one, entered in
/// protected mode with paging off.
pub fn layout_pvh(kernel: &[u8], ram_size: u64) -> Result<Layout<'_>, LoadError> {
    if kernel.is_empty() {
        return Err(LoadError::Empty);
    }
    if !kernel.starts_with(ELF_MAGIC) {
        return Err(LoadError::WrongMachine);
    }
    let mut l = elf(kernel, EM_X86_64)?;
    let entry = pvh_entry(kernel)?.ok_or(LoadError::NoPvhEntry)?;
    l.entry = GuestAddress(u64::from(entry));
    l.format = Format::PvhElf;
    fit(l, 0, ram_size)
}

/// `l` if every segment, and its end, lie in RAM `[base, base + size)`.
fn fit(l: Layout<'_>, base: u64, size: u64) -> Result<Layout<'_>, LoadError> {
    let ram_end = base.checked_add(size).ok_or(LoadError::DoesNotFit)?;
    let fits = |s: &Segment| {
        s.addr.raw() >= base
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

/// The program headers of an ELF64 whose header the caller checked:
/// each `(type, offset, paddr, filesz, memsz)`, the table bounds-checked.
fn program_headers(b: &[u8]) -> Result<Vec<[u64; 5]>, LoadError> {
    let phoff = file_offset(u64_at(b, 32)?)?;
    let phentsize = usize::from(u16_at(b, 54)?);
    let phnum = usize::from(u16_at(b, 56)?);
    if phentsize < PHDR_SIZE {
        return Err(LoadError::Truncated);
    }
    // The whole table must be in the file: e_phoff + e_phnum * e_phentsize,
    // each step checked (e_phoff is any u64 the file says).
    let table_len = phnum.checked_mul(phentsize).ok_or(LoadError::Truncated)?;
    bytes_at(b, phoff, table_len)?;
    let mut out = Vec::new();
    for i in 0..phnum {
        // i < phnum, so i * phentsize <= table_len and phoff + that is
        // inside the table checked above; checked all the same.
        let ph = i
            .checked_mul(phentsize)
            .and_then(|o| phoff.checked_add(o))
            .ok_or(LoadError::Truncated)?;
        // Field offsets are small constants within this one header.
        let ph = bytes_at(b, ph, PHDR_SIZE)?;
        out.push([
            u64::from(u32_at(ph, 0)?),
            u64_at(ph, 8)?,
            u64_at(ph, 24)?,
            u64_at(ph, 32)?,
            u64_at(ph, 40)?,
        ]);
    }
    Ok(out)
}

/// The PVH entry from the ELF's notes, if it has one: the first
/// XEN_ELFNOTE_PHYS32_ENTRY note named "Xen" with a 4-byte or longer
/// descriptor (its low 32 bits).
fn pvh_entry(b: &[u8]) -> Result<Option<u32>, LoadError> {
    for [kind, offset, _, filesz, _] in program_headers(b)? {
        if kind != u64::from(PT_NOTE) {
            continue;
        }
        let notes = bytes_at(b, file_offset(offset)?, file_offset(filesz)?)?;
        let mut at = 0usize;
        // Each note: namesz, descsz, type, then name and descriptor, each
        // padded to 4 bytes. Every step moves forward or stops.
        while let (Ok(namesz), Ok(descsz), Ok(kind)) = (
            u32_at(notes, at),
            u32_at(notes, at + 4),
            u32_at(notes, at + 8),
        ) {
            let pad = |n: u32| (n as usize).checked_add(3).map(|v| v & !3);
            let (Some(name_len), Some(desc_len)) = (pad(namesz), pad(descsz)) else {
                return Err(LoadError::Truncated);
            };
            let name_at = at + 12;
            let desc_at = name_at.checked_add(name_len).ok_or(LoadError::Truncated)?;
            let name = bytes_at(notes, name_at, namesz as usize)?;
            if kind == XEN_ELFNOTE_PHYS32_ENTRY && name == b"Xen\0" && descsz >= 4 {
                return Ok(Some(u32_at(notes, desc_at)?));
            }
            at = desc_at.checked_add(desc_len).ok_or(LoadError::Truncated)?;
        }
    }
    Ok(None)
}

fn raw(kernel: &[u8]) -> Result<Layout<'_>, LoadError> {
    let addr = machine::RAM_BASE
        .raw()
        .checked_add(DEFAULT_TEXT_OFFSET)
        .ok_or(LoadError::DoesNotFit)?;
    let size = u64::try_from(kernel.len()).map_err(|_| LoadError::DoesNotFit)?;
    let end = addr.checked_add(size).ok_or(LoadError::DoesNotFit)?;
    Ok(Layout {
        segments: alloc::vec![Segment {
            addr: GuestAddress(addr),
            data: kernel,
            mem_size: size,
        }],
        entry: GuestAddress(addr),
        end: GuestAddress(end),
        format: Format::Raw,
    })
}

fn image(kernel: &[u8]) -> Result<Layout<'_>, LoadError> {
    let text_offset = u64_at(kernel, 8)?;
    let image_size = u64_at(kernel, 16)?;
    let file_size = u64::try_from(kernel.len()).map_err(|_| LoadError::DoesNotFit)?;
    // image_size 0 is an old kernel (before 3.17): text_offset 0x80000.
    let (offset, size) = if image_size == 0 {
        (0x8_0000, file_size)
    } else {
        (text_offset, image_size.max(file_size))
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

fn elf(b: &[u8], machine: u16) -> Result<Layout<'_>, LoadError> {
    // e_ident: class 2 (64-bit), data 1 (little-endian).
    if b.get(4) != Some(&2) || b.get(5) != Some(&1) || u16_at(b, 18)? != machine {
        return Err(LoadError::WrongMachine);
    }
    let entry = u64_at(b, 24)?;
    let mut segments = Vec::new();
    let mut end = 0u64;
    for [kind, offset, paddr, filesz, memsz] in program_headers(b)? {
        if kind != u64::from(PT_LOAD) {
            continue;
        }
        if filesz > memsz {
            return Err(LoadError::Truncated);
        }
        let data = bytes_at(b, file_offset(offset)?, file_offset(filesz)?)?;
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
    use alloc::vec;
    use proptest::prelude::{any, prop, prop_oneof, Just, Strategy};

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

    /// An x86_64 ELF (one PT_LOAD at 1 MiB) whose second program header
    /// is a PT_NOTE at file offset 0x180 holding `notes`.
    fn pvh_elf(notes: &[u8]) -> Vec<u8> {
        let mut b = elf_with(0x10_0000, 0x10_0000, 0x80, 0x1000, EM_X86_64);
        b[56..58].copy_from_slice(&2u16.to_le_bytes());
        let ph = 64 + 56;
        b[ph..ph + 4].copy_from_slice(&PT_NOTE.to_le_bytes());
        b[ph + 8..ph + 16].copy_from_slice(&0x180u64.to_le_bytes());
        b[ph + 32..ph + 40].copy_from_slice(&(notes.len() as u64).to_le_bytes());
        b[0x180..0x180 + notes.len()].copy_from_slice(notes);
        b
    }

    /// One note: name (NUL included), type, descriptor.
    fn note(name: &[u8], kind: u32, desc: &[u8]) -> Vec<u8> {
        let mut n = Vec::new();
        n.extend_from_slice(&(name.len() as u32).to_le_bytes());
        n.extend_from_slice(&(desc.len() as u32).to_le_bytes());
        n.extend_from_slice(&kind.to_le_bytes());
        n.extend_from_slice(name);
        n.resize(n.len().next_multiple_of(4), 0);
        n.extend_from_slice(desc);
        n.resize(n.len().next_multiple_of(4), 0);
        n
    }

    #[test]
    fn pvh_elf_enters_at_the_note_entry() {
        // Another Xen note first, then a note of another owner with the
        // same type, then the entry.
        let mut notes = note(b"Xen\0", 6, b"xen-3.0\0");
        notes.extend(note(b"GNU\0", 18, &0xdeadu32.to_le_bytes()));
        notes.extend(note(b"Xen\0", 18, &0x10_0010u32.to_le_bytes()));
        let b = pvh_elf(&notes);
        let l = layout_pvh(&b, 16 * MIB).unwrap();
        assert_eq!(l.entry, GuestAddress(0x10_0010));
        assert_eq!(l.format, Format::PvhElf);
        assert_eq!(l.segments[0].addr, GuestAddress(0x10_0000));
        assert_eq!(l.end, GuestAddress(0x10_1000));
    }

    #[test]
    fn bad_pvh_elves_are_refused() {
        let no_entry = pvh_elf(&note(b"Xen\0", 6, b"xen"));
        assert_eq!(layout_pvh(&no_entry, 16 * MIB), Err(LoadError::NoPvhEntry));
        let short_desc = pvh_elf(&note(b"Xen\0", 18, &[1, 2]));
        assert_eq!(
            layout_pvh(&short_desc, 16 * MIB),
            Err(LoadError::NoPvhEntry)
        );
        // A name size that runs past the notes, and one that overflows.
        let mut past = note(b"Xen\0", 18, &[0; 4]);
        past[0..4].copy_from_slice(&0x100u32.to_le_bytes());
        assert_eq!(
            layout_pvh(&pvh_elf(&past), 16 * MIB),
            Err(LoadError::Truncated)
        );
        past[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            layout_pvh(&pvh_elf(&past), 16 * MIB),
            Err(LoadError::Truncated)
        );
        let arm = elf_with(0x4008_0000, 0x4008_0000, 0x80, 0x1000, EM_AARCH64);
        assert_eq!(layout_pvh(&arm, 1 << 31), Err(LoadError::WrongMachine));
        assert_eq!(layout_pvh(b"MZ..", 16 * MIB), Err(LoadError::WrongMachine));
        assert_eq!(layout_pvh(&[], 16 * MIB), Err(LoadError::Empty));
        // Past the end of RAM.
        let entry = note(b"Xen\0", 18, &0x10_0000u32.to_le_bytes());
        assert_eq!(
            layout_pvh(&pvh_elf(&entry), MIB),
            Err(LoadError::DoesNotFit)
        );
    }

    // Header values that overflow when added or multiplied: errors, not
    // panics (these run in debug builds, where overflow panics).

    fn good_elf() -> Vec<u8> {
        elf_with(0x4008_0000, 0x4008_0000, 0x80, 0x1000, EM_AARCH64)
    }

    fn put_u16(b: &mut [u8], at: usize, v: u16) {
        b[at..at + 2].copy_from_slice(&v.to_le_bytes());
    }

    fn put_u64(b: &mut [u8], at: usize, v: u64) {
        b[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }

    /// Offsets of the fields of the one program header `elf_with` writes.
    const P_OFFSET: usize = 64 + 8;
    const P_PADDR: usize = 64 + 24;
    const P_FILESZ: usize = 64 + 32;
    const P_MEMSZ: usize = 64 + 40;

    #[test]
    fn e_phoff_near_the_top_of_u64_is_truncated() {
        for phoff in [
            u64::MAX,
            u64::MAX - 1,
            u64::MAX - 55,
            u64::MAX - 56,
            1 << 63,
        ] {
            let mut b = good_elf();
            put_u64(&mut b, 32, phoff);
            assert_eq!(
                layout(&b, 16 * MIB),
                Err(LoadError::Truncated),
                "{phoff:#x}"
            );
        }
        // Just past the file, and with no program headers at all.
        let mut b = good_elf();
        let past = b.len() as u64 - 55;
        put_u64(&mut b, 32, past);
        assert_eq!(layout(&b, 16 * MIB), Err(LoadError::Truncated));
        put_u16(&mut b, 56, 0);
        put_u64(&mut b, 32, u64::MAX - 1);
        assert_eq!(layout(&b, 16 * MIB), Err(LoadError::Truncated));
    }

    #[test]
    fn e_phnum_times_e_phentsize_beyond_the_file_or_overflowing_is_truncated() {
        let mut b = good_elf();
        put_u16(&mut b, 54, u16::MAX);
        put_u16(&mut b, 56, u16::MAX);
        assert_eq!(layout(&b, 16 * MIB), Err(LoadError::Truncated));
        // e_phoff + e_phnum * e_phentsize wraps around.
        put_u64(&mut b, 32, u64::MAX - 0x1000);
        assert_eq!(layout(&b, 16 * MIB), Err(LoadError::Truncated));
        // A too-small e_phentsize is refused before any multiplication.
        let mut b = good_elf();
        put_u16(&mut b, 54, 55);
        assert_eq!(layout(&b, 16 * MIB), Err(LoadError::Truncated));
    }

    #[test]
    fn p_offset_plus_p_filesz_overflowing_is_truncated() {
        for (offset, filesz) in [
            (u64::MAX - 10, 0x80),
            (u64::MAX, 0),
            (0x100, u64::MAX),
            (u64::MAX, u64::MAX),
            (1 << 63, 1 << 63),
        ] {
            let mut b = good_elf();
            put_u64(&mut b, P_OFFSET, offset);
            put_u64(&mut b, P_FILESZ, filesz);
            put_u64(&mut b, P_MEMSZ, u64::MAX);
            assert_eq!(
                layout(&b, 16 * MIB),
                Err(LoadError::Truncated),
                "{offset:#x} + {filesz:#x}"
            );
        }
    }

    #[test]
    fn p_paddr_plus_p_memsz_overflowing_does_not_fit() {
        for (paddr, memsz) in [
            (u64::MAX - 0x10, 0x1000),
            (u64::MAX, 0x80),
            (0x4008_0000, u64::MAX),
            (1 << 63, 1 << 63),
        ] {
            let mut b = good_elf();
            put_u64(&mut b, P_PADDR, paddr);
            put_u64(&mut b, P_MEMSZ, memsz);
            assert_eq!(
                layout(&b, 16 * MIB),
                Err(LoadError::DoesNotFit),
                "{paddr:#x} + {memsz:#x}"
            );
        }
    }

    #[test]
    fn image_with_huge_text_offset_or_image_size_does_not_fit() {
        let top = u64::MAX - machine::RAM_BASE.raw();
        for (text_offset, image_size) in [
            (u64::MAX, 4096),
            (top, 4096),
            (top - 10, 4096),
            (0x20_0000, u64::MAX),
            (0x20_0000, u64::MAX - 0x4000_0000),
            (u64::MAX, u64::MAX),
            (0, u64::MAX),
        ] {
            let k = image_with(text_offset, image_size, 4096);
            assert_eq!(
                layout(&k, 128 * MIB),
                Err(LoadError::DoesNotFit),
                "text_offset {text_offset:#x}, image_size {image_size:#x}"
            );
        }
    }

    #[test]
    fn ram_size_overflowing_the_address_space_does_not_fit() {
        let raw = [1u8, 2, 3];
        let image = image_with(0x20_0000, MIB, 4096);
        for k in [&raw[..], &image[..], &good_elf()[..]] {
            assert_eq!(layout(k, u64::MAX), Err(LoadError::DoesNotFit));
            assert_eq!(
                layout(k, u64::MAX - machine::RAM_BASE.raw() + 1),
                Err(LoadError::DoesNotFit)
            );
        }
    }

    /// Interesting values for a header field: edges of u64 and of the file.
    fn field_value() -> impl Strategy<Value = u64> {
        prop_oneof![
            Just(0u64),
            Just(1),
            Just(55),
            Just(56),
            Just(64),
            Just(0x100),
            Just(0x200),
            Just(0x8_0000),
            Just(0x4000_0000),
            Just(0x4008_0000),
            Just(1 << 63),
            Just(u64::MAX - machine::RAM_BASE.raw()),
            Just(u64::MAX - 1),
            Just(u64::MAX),
            any::<u64>(),
        ]
    }

    /// A valid ELF or Image with fields overwritten (as u16, u32 or u64 at
    /// any offset, biased to the header), or random bytes.
    fn kernel() -> impl Strategy<Value = Vec<u8>> {
        let base = prop_oneof![
            Just(good_elf()),
            Just(image_with(0x20_0000, 3 * MIB, 4096)),
            Just(image_with(0, 0, 128)),
            prop::collection::vec(any::<u8>(), 1..300),
        ];
        // (offset, width) of the fields the loader reads: ELF e_machine,
        // e_entry, e_phoff, e_phentsize, e_phnum; p_type, p_offset,
        // p_paddr, p_filesz, p_memsz; Image text_offset, image_size.
        let field = prop::sample::select(vec![
            (18usize, 2usize),
            (24, 8),
            (32, 8),
            (54, 2),
            (56, 2),
            (64, 4),
            (P_OFFSET, 8),
            (P_PADDR, 8),
            (P_FILESZ, 8),
            (P_MEMSZ, 8),
            (8, 8),
            (16, 8),
        ]);
        let anywhere = (0usize..0x200, prop_oneof![Just(2usize), Just(4), Just(8)]);
        let pokes = prop::collection::vec(
            (prop_oneof![3 => field, 1 => anywhere], field_value()),
            0..6,
        );
        (base, pokes).prop_map(|(mut k, pokes)| {
            for ((at, width), v) in pokes {
                if let Some(dst) = k.get_mut(at..at + width) {
                    dst.copy_from_slice(&v.to_le_bytes()[..width]);
                }
            }
            k
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 2048,
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// `layout` never panics (overflow checks are on in tests), and
        /// what it accepts fits in RAM.
        #[test]
        fn layout_never_panics_on_mutated_headers(
            k in kernel(),
            ram_size in prop_oneof![Just(128 * MIB), Just(u64::MAX), field_value()],
        ) {
            if let Ok(l) = layout(&k, ram_size) {
                let ram_end = machine::RAM_BASE.raw().checked_add(ram_size).unwrap();
                proptest::prop_assert!(!l.segments.is_empty());
                for s in &l.segments {
                    proptest::prop_assert!(s.data.len() as u64 <= s.mem_size);
                    proptest::prop_assert!(s.addr >= machine::RAM_BASE);
                    proptest::prop_assert!(s.addr.raw().checked_add(s.mem_size).unwrap() <= ram_end);
                }
                proptest::prop_assert!(l.end.raw() <= ram_end);
            }
        }
    }
}

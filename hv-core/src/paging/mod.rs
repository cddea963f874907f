//! Page tables: one mapper API over several descriptor formats.
//!
//! [`PageTable`] maps, unmaps, re-protects and translates ranges of a
//! 4 KiB-granule, 512-entry-per-table radix tree of 3 or 4 levels, using
//! 2 MiB and 1 GiB block mappings wherever the input address, the output
//! address and the remaining length are all aligned. What a descriptor looks
//! like is a [`Format`]:
//!
//! * [`aarch64::Stage2`]: AArch64 stage 2 (IPA -> PA), with the matching
//!   `VTCR_EL2` / `VTTBR_EL2` values as pure functions;
//! * [`aarch64::Stage1`]: AArch64 stage 1 EL1&0 (VA -> IPA), for the
//!   simulator's soft MMU;
//! * [`x86_64::Npt`] and [`x86_64::Ept`]: AMD nested and Intel extended page
//!   tables, 4 levels.
//!
//! Tables live in memory reached through [`GuestMemory`] (in hv-kernel an
//! identity-mapped pool of host frames, in hv-sim and host tests a
//! [`crate::mem::GuestRam`]) and come from a [`TableProvider`], so the same
//! walker runs everywhere. Loading the root into the MMU and invalidating
//! the hardware TLB is hv-kernel's arch code.
//!
//! Levels are numbered as on AArch64: the leaf (4 KiB) level is 3, 2 MiB
//! blocks sit at level 2, 1 GiB blocks at level 1, and a 4-level table
//! starts at level 0 (x86's PML4).

pub mod aarch64;
pub mod x86_64;

use crate::addr::{Address, GuestAddress, PhysAddr};
use crate::frame::{FrameAllocator, FrameError, FrameSize};
use crate::mem::{GuestMemory, MemError};
use core::fmt;
use core::marker::PhantomData;
use core::sync::atomic::Ordering;

/// Page and block sizes: the same three as frame sizes.
pub type PageSize = FrameSize;

/// Entries per table.
pub const ENTRIES: usize = 512;
const PAGE: u64 = 4096;

bitflags::bitflags! {
    /// What a mapping allows, independent of the descriptor format. Every
    /// format needs `READ`; formats ignore the bits they have no field for
    /// (and [`Format::decode`] then never reports them).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct Attrs: u8 {
        /// Reads allowed.
        const READ = 1 << 0;
        /// Writes allowed.
        const WRITE = 1 << 1;
        /// Instruction fetches allowed.
        const EXEC = 1 << 2;
        /// Unprivileged (EL0 / user) access allowed (stage 1 only).
        const USER = 1 << 3;
        /// Device memory (uncached, no speculation) instead of normal
        /// write-back memory.
        const DEVICE = 1 << 4;
        /// Global: not tagged with an ASID (stage 1 only).
        const GLOBAL = 1 << 5;
    }
}

impl Attrs {
    /// Normal read/write memory.
    pub const RW: Attrs = Attrs::READ.union(Attrs::WRITE);
    /// Normal read/write/execute memory.
    pub const RWX: Attrs = Attrs::RW.union(Attrs::EXEC);
}

/// A VMID (tags stage-2 translations; 16 bits with `VTCR_EL2.VS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Vmid(pub u16);

/// An ASID (tags non-global stage-1 translations).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Asid(pub u16);

/// Why a page-table operation failed. Addresses are raw input or output
/// addresses of the table's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// A map/unmap/protect of zero bytes.
    ZeroSize,
    /// An address or length is not a multiple of 4 KiB.
    Misaligned {
        /// The offending value.
        addr: u64,
    },
    /// An input address beyond the table's input size, or an output address
    /// beyond the format's output size.
    OutOfRange {
        /// The first address out of range.
        addr: u64,
    },
    /// The range overlaps an existing mapping.
    AlreadyMapped {
        /// The lowest mapped input address in the range.
        ia: u64,
    },
    /// The range (or address) is not mapped.
    NotMapped {
        /// The lowest unmapped input address.
        ia: u64,
    },
    /// The format cannot express these attributes (e.g. no `READ`).
    UnsupportedAttrs(Attrs),
    /// The format does not support this number of levels / sizes.
    Unsupported,
    /// No frame for a new table.
    Frame(FrameError),
    /// Table memory could not be accessed.
    Mem(MemError),
}

impl From<FrameError> for MapError {
    fn from(e: FrameError) -> Self {
        MapError::Frame(e)
    }
}

impl From<MemError> for MapError {
    fn from(e: MemError) -> Self {
        MapError::Mem(e)
    }
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapError::ZeroSize => write!(f, "zero-sized range"),
            MapError::Misaligned { addr } => write!(f, "{addr:#x} is not 4 KiB aligned"),
            MapError::OutOfRange { addr } => write!(f, "{addr:#x} is beyond the address size"),
            MapError::AlreadyMapped { ia } => write!(f, "{ia:#x} is already mapped"),
            MapError::NotMapped { ia } => write!(f, "{ia:#x} is not mapped"),
            MapError::UnsupportedAttrs(a) => write!(f, "attributes {a:?} not expressible"),
            MapError::Unsupported => write!(f, "unsupported table geometry"),
            MapError::Frame(e) => write!(f, "table frame: {e}"),
            MapError::Mem(e) => write!(f, "table memory: {e}"),
        }
    }
}

/// A descriptor, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Desc {
    /// Not valid: translation fault.
    Invalid,
    /// Points at the next-level table.
    Table(u64),
    /// A block or page: output address of its first byte, and attributes.
    Leaf(u64, Attrs),
}

/// A descriptor format.
pub trait Format: Copy + fmt::Debug + Eq + 'static {
    /// The address space translated from.
    type In: Address;
    /// The address space translated to.
    type Out: Address;
    /// Whether tables of `levels` levels (3 or 4) are supported.
    fn supports_levels(levels: u8) -> bool;
    /// Output addresses must be below `1 << OA_BITS`.
    const OA_BITS: u32;
    /// A table descriptor pointing at `next`.
    fn table(next: u64) -> u64;
    /// A leaf at `level` (3: page; 2 or 1: block) mapping `oa` (aligned to
    /// the leaf's size) with `attrs`.
    fn leaf(oa: u64, attrs: Attrs, level: u8) -> Result<u64, MapError>;
    /// Decode a descriptor found at `level`.
    fn decode(raw: u64, level: u8) -> Desc;
}

/// Bytes one entry at `level` covers.
#[inline]
pub const fn level_size(level: u8) -> u64 {
    1 << (12 + 9 * (3 - level as u32))
}

#[inline]
const fn level_index(ia: u64, level: u8) -> usize {
    ((ia >> (12 + 9 * (3 - level as u32))) & 511) as usize
}

const fn level_page_size(level: u8) -> Option<PageSize> {
    match level {
        1 => Some(PageSize::Size1G),
        2 => Some(PageSize::Size2M),
        3 => Some(PageSize::Size4K),
        _ => None,
    }
}

/// Where page-table frames come from and the memory they live in.
pub trait TableProvider {
    /// The memory holding the tables, addressed by table physical address.
    type Mem: GuestMemory;
    /// The table memory.
    fn mem(&self) -> &Self::Mem;
    /// A zero-filled 4 KiB frame for a new table (all entries invalid).
    fn alloc_table(&mut self) -> Result<PhysAddr, MapError>;
    /// Return a table frame. Only after the TLBs no longer hold anything
    /// reached through it.
    fn free_table(&mut self, table: PhysAddr) -> Result<(), MapError>;
}

/// A [`TableProvider`] made of a memory and a frame allocator.
#[derive(Debug)]
pub struct FramePool<M, A> {
    /// Memory the frames live in.
    pub mem: M,
    /// Where frames come from.
    pub alloc: A,
}

impl<M: GuestMemory, A: FrameAllocator> TableProvider for FramePool<M, A> {
    type Mem = M;
    #[inline]
    fn mem(&self) -> &M {
        &self.mem
    }
    fn alloc_table(&mut self) -> Result<PhysAddr, MapError> {
        Ok(self.alloc.alloc_zeroed(FrameSize::Size4K, &self.mem)?)
    }
    fn free_table(&mut self, table: PhysAddr) -> Result<(), MapError> {
        Ok(self.alloc.free(table, FrameSize::Size4K)?)
    }
}

/// The leaf a walk ended on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leaf {
    /// Input address of the leaf's first byte.
    pub ia_base: u64,
    /// Output address of the leaf's first byte.
    pub oa_base: u64,
    /// What the leaf allows.
    pub attrs: Attrs,
    /// Page or block size.
    pub size: PageSize,
}

/// Everything a walk read: one descriptor per level visited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Walk {
    /// Descriptors read, from the root level down.
    pub descriptors: [u64; 4],
    /// How many entries of `descriptors` are meaningful.
    pub steps: u8,
    /// The leaf, if the walk reached one (else a translation fault).
    pub leaf: Option<Leaf>,
}

/// Walk the tables rooted at `root` for input address `ia` with format `F`.
/// Reads only; used by [`PageTable::translate`] and by soft MMUs walking
/// tables they do not own (a guest's stage 1, whose descriptors are
/// untrusted: a malformed one is a fault, never a panic).
#[inline]
pub fn walk<F: Format, M: GuestMemory + ?Sized>(
    mem: &M,
    root: PhysAddr,
    levels: u8,
    ia: u64,
) -> Result<Walk, MapError> {
    let ia_bits = 12 + 9 * u32::from(levels);
    if !F::supports_levels(levels) {
        return Err(MapError::Unsupported);
    }
    if ia >> ia_bits != 0 {
        return Err(MapError::OutOfRange { addr: ia });
    }
    // Locals, not fields of the result: keeps the loop in registers.
    let start = 4 - levels;
    let mut descriptors = [0u64; 4];
    let mut table = root.raw();
    let mut level = start;
    loop {
        let at = table.wrapping_add(8 * level_index(ia, level) as u64);
        let raw = mem.load_u64(GuestAddress(at), Ordering::Acquire)?;
        // `level - start < levels <= 4`; the mask spares a bounds check.
        descriptors[usize::from(level - start) & 3] = raw;
        let steps = level - start + 1;
        match F::decode(raw, level) {
            Desc::Table(next) if level < 3 => {
                table = next;
                level += 1;
            }
            Desc::Leaf(oa, attrs) => {
                let size = level_size(level);
                let leaf = level_page_size(level).map(|ps| Leaf {
                    ia_base: ia & !(size - 1),
                    oa_base: oa,
                    attrs,
                    size: ps,
                });
                return Ok(Walk {
                    descriptors,
                    steps,
                    leaf,
                });
            }
            _ => {
                return Ok(Walk {
                    descriptors,
                    steps,
                    leaf: None,
                })
            }
        }
    }
}

/// A translation: where one input address goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Translation<F: Format> {
    /// The output address of the translated byte.
    pub oa: F::Out,
    /// The leaf the translation came from.
    pub leaf: Leaf,
}

/// What a range update does to each leaf it covers.
#[derive(Clone, Copy)]
enum Update {
    Unmap,
    Protect(Attrs),
}

/// A page table of format `F` whose frames come from `P`.
#[derive(Debug)]
pub struct PageTable<F: Format, P: TableProvider> {
    root: PhysAddr,
    levels: u8,
    provider: P,
    _format: PhantomData<F>,
}

impl<F: Format, P: TableProvider> PageTable<F, P> {
    /// An empty table of `levels` levels (3: 39-bit input, 4: 48-bit).
    pub fn new(levels: u8, mut provider: P) -> Result<Self, MapError> {
        if !F::supports_levels(levels) {
            return Err(MapError::Unsupported);
        }
        let root = provider.alloc_table()?;
        Ok(PageTable {
            root,
            levels,
            provider,
            _format: PhantomData,
        })
    }

    /// Physical address of the root table.
    pub fn root(&self) -> PhysAddr {
        self.root
    }

    /// Number of levels.
    pub fn levels(&self) -> u8 {
        self.levels
    }

    /// Input address bits (39 or 48).
    pub fn ia_bits(&self) -> u32 {
        12 + 9 * u32::from(self.levels)
    }

    /// The table memory and frame source.
    pub fn provider(&self) -> &P {
        &self.provider
    }

    fn start_level(&self) -> u8 {
        4 - self.levels
    }

    #[inline]
    fn read(&self, table: u64, index: usize) -> Result<u64, MapError> {
        let at = GuestAddress(table + 8 * index as u64);
        Ok(self.provider.mem().load_u64(at, Ordering::Acquire)?)
    }

    #[inline]
    fn write(&self, table: u64, index: usize, raw: u64) -> Result<(), MapError> {
        let at = GuestAddress(table + 8 * index as u64);
        Ok(self.provider.mem().store_u64(at, raw, Ordering::Release)?)
    }

    /// Check an input range: non-empty, aligned, inside the input size.
    fn check_input(&self, ia: u64, size: u64) -> Result<u64, MapError> {
        if size == 0 {
            return Err(MapError::ZeroSize);
        }
        if ia % PAGE != 0 {
            return Err(MapError::Misaligned { addr: ia });
        }
        if size % PAGE != 0 {
            return Err(MapError::Misaligned { addr: size });
        }
        let limit = 1u64 << self.ia_bits();
        match ia.checked_add(size) {
            Some(end) if end <= limit => Ok(end),
            _ => Err(MapError::OutOfRange {
                addr: ia.max(limit),
            }),
        }
    }

    /// Map `[ia, ia + size)` to `[oa, oa + size)`. Refuses (and changes
    /// nothing) if any page in the range is already mapped.
    pub fn map(&mut self, ia: F::In, oa: F::Out, size: u64, attrs: Attrs) -> Result<(), MapError> {
        let (ia, oa) = (ia.to_raw(), oa.to_raw());
        let end = self.check_input(ia, size)?;
        if oa % PAGE != 0 {
            return Err(MapError::Misaligned { addr: oa });
        }
        let oa_limit = 1u64 << F::OA_BITS;
        match oa.checked_add(size) {
            Some(e) if e <= oa_limit => {}
            _ => {
                return Err(MapError::OutOfRange {
                    addr: oa.max(oa_limit),
                })
            }
        }
        F::leaf(0, attrs, 3)?;
        if let Some(at) = self.find(self.root.raw(), self.start_level(), ia, end, true)? {
            return Err(MapError::AlreadyMapped { ia: at });
        }
        let mut cur = ia;
        while cur < end {
            let out = oa + (cur - ia);
            let level = [1u8, 2]
                .into_iter()
                .filter(|&l| l >= self.start_level())
                .find(|&l| {
                    let s = level_size(l);
                    cur % s == 0 && out % s == 0 && end - cur >= s
                })
                .unwrap_or(3);
            if let Err(e) = self.set_leaf(cur, level, F::leaf(out, attrs, level)?) {
                if cur > ia {
                    // Undo the part already mapped; it was all ours.
                    let _ = self.update(ia, cur, Update::Unmap);
                }
                return Err(e);
            }
            cur += level_size(level);
        }
        Ok(())
    }

    /// Unmap `[ia, ia + size)`, splitting blocks that straddle its ends.
    /// Refuses (and changes nothing) if any page in it is unmapped.
    pub fn unmap(&mut self, ia: F::In, size: u64) -> Result<(), MapError> {
        let ia = ia.to_raw();
        let end = self.check_input(ia, size)?;
        if let Some(at) = self.find(self.root.raw(), self.start_level(), ia, end, false)? {
            return Err(MapError::NotMapped { ia: at });
        }
        self.update(ia, end, Update::Unmap)
    }

    /// Change the attributes of `[ia, ia + size)`, splitting blocks that
    /// straddle its ends. Refuses if any page in it is unmapped.
    pub fn protect(&mut self, ia: F::In, size: u64, attrs: Attrs) -> Result<(), MapError> {
        let ia = ia.to_raw();
        let end = self.check_input(ia, size)?;
        F::leaf(0, attrs, 3)?;
        if let Some(at) = self.find(self.root.raw(), self.start_level(), ia, end, false)? {
            return Err(MapError::NotMapped { ia: at });
        }
        self.update(ia, end, Update::Protect(attrs))
    }

    /// Walk for `ia`, returning every descriptor read.
    #[inline]
    pub fn walk(&self, ia: F::In) -> Result<Walk, MapError> {
        walk::<F, P::Mem>(self.provider.mem(), self.root, self.levels, ia.to_raw())
    }

    /// Translate `ia`.
    #[inline]
    pub fn translate(&self, ia: F::In) -> Result<Translation<F>, MapError> {
        let raw = ia.to_raw();
        let leaf = self.walk(ia)?.leaf.ok_or(MapError::NotMapped { ia: raw })?;
        Ok(Translation {
            oa: F::Out::from_raw(leaf.oa_base + (raw - leaf.ia_base)),
            leaf,
        })
    }

    /// The lowest address in `[lo, hi)` that is mapped (`want_mapped`) or
    /// unmapped (`!want_mapped`), searching the table at `table`/`level`.
    fn find(
        &self,
        table: u64,
        level: u8,
        lo: u64,
        hi: u64,
        want_mapped: bool,
    ) -> Result<Option<u64>, MapError> {
        let size = level_size(level);
        let mut cur = lo;
        while cur < hi {
            let entry_end = (cur & !(size - 1)).saturating_add(size).min(hi);
            match F::decode(self.read(table, level_index(cur, level))?, level) {
                Desc::Leaf(..) if want_mapped => return Ok(Some(cur)),
                Desc::Invalid if !want_mapped => return Ok(Some(cur)),
                Desc::Table(next) if level < 3 => {
                    if let Some(a) = self.find(next, level + 1, cur, entry_end, want_mapped)? {
                        return Ok(Some(a));
                    }
                }
                // A table descriptor at the leaf level is a fault: unmapped.
                Desc::Table(_) if !want_mapped => return Ok(Some(cur)),
                _ => {}
            }
            cur = entry_end;
        }
        Ok(None)
    }

    /// Write leaf `raw` for `ia` at `level`, creating tables on the way.
    fn set_leaf(&mut self, ia: u64, level: u8, raw: u64) -> Result<(), MapError> {
        let mut table = self.root.raw();
        for l in self.start_level()..level {
            let i = level_index(ia, l);
            table = match F::decode(self.read(table, i)?, l) {
                Desc::Table(next) => next,
                // `map` checked the range is unmapped, so this is Invalid.
                _ => {
                    let next = self.provider.alloc_table()?.raw();
                    self.write(table, i, F::table(next))?;
                    next
                }
            };
        }
        self.write(table, level_index(ia, level), raw)
    }

    /// Replace the block at `table[i]` (a leaf at `level`) with a table of
    /// 512 leaves one level down that map the same range the same way.
    fn split(
        &mut self,
        table: u64,
        i: usize,
        level: u8,
        oa: u64,
        attrs: Attrs,
    ) -> Result<u64, MapError> {
        let next = self.provider.alloc_table()?.raw();
        let sub = level_size(level + 1);
        for j in 0..ENTRIES {
            self.write(next, j, F::leaf(oa + j as u64 * sub, attrs, level + 1)?)?;
        }
        self.write(table, i, F::table(next))?;
        Ok(next)
    }

    fn update(&mut self, lo: u64, hi: u64, op: Update) -> Result<(), MapError> {
        self.update_in(self.root.raw(), self.start_level(), lo, hi, op)
    }

    fn update_in(
        &mut self,
        table: u64,
        level: u8,
        lo: u64,
        hi: u64,
        op: Update,
    ) -> Result<(), MapError> {
        let size = level_size(level);
        let mut cur = lo;
        while cur < hi {
            let entry_start = cur & !(size - 1);
            let entry_end = entry_start.saturating_add(size).min(hi);
            let i = level_index(cur, level);
            match F::decode(self.read(table, i)?, level) {
                Desc::Leaf(oa, attrs) => {
                    if cur == entry_start && entry_end - entry_start == size {
                        let raw = match op {
                            Update::Unmap => 0,
                            Update::Protect(new) => F::leaf(oa, new, level)?,
                        };
                        self.write(table, i, raw)?;
                    } else {
                        let next = self.split(table, i, level, oa, attrs)?;
                        self.update_in(next, level + 1, cur, entry_end, op)?;
                    }
                }
                Desc::Table(next) if level < 3 => {
                    self.update_in(next, level + 1, cur, entry_end, op)?;
                }
                _ => {}
            }
            cur = entry_end;
        }
        Ok(())
    }

    /// Free every table frame (the caller has flushed the TLBs) and return
    /// the provider.
    pub fn destroy(mut self) -> Result<P, MapError> {
        let (root, start) = (self.root.raw(), self.start_level());
        self.free_tree(root, start)?;
        Ok(self.provider)
    }

    fn free_tree(&mut self, table: u64, level: u8) -> Result<(), MapError> {
        if level < 3 {
            for i in 0..ENTRIES {
                if let Desc::Table(next) = F::decode(self.read(table, i)?, level) {
                    self.free_tree(next, level + 1)?;
                }
            }
        }
        self.provider.free_table(PhysAddr(table))
    }
}

#[cfg(test)]
pub(crate) mod tests;

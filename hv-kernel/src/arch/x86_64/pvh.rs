//! The PVH boot information (`hvm_start_info`) QEMU passes in %ebx.

use core::fmt;

const START_INFO_MAGIC: u32 = 0x336e_c578;
/// RAM in the PVH memory map (E820 type 1).
const E820_RAM: u32 = 1;
/// More entries than this are ignored (QEMU passes a handful).
const MAX_ENTRIES: u32 = 128;

#[repr(C)]
struct StartInfo {
    magic: u32,
    version: u32,
    flags: u32,
    nr_modules: u32,
    modlist_paddr: u64,
    cmdline_paddr: u64,
    rsdp_paddr: u64,
    memmap_paddr: u64,
    memmap_entries: u32,
    reserved: u32,
}

/// One entry of the PVH memory map.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MemmapEntry {
    /// Start address.
    pub addr: u64,
    /// Length in bytes.
    pub size: u64,
    /// E820 type.
    pub kind: u32,
    reserved: u32,
}

impl MemmapEntry {
    /// Usable RAM.
    pub fn is_ram(&self) -> bool {
        self.kind == E820_RAM
    }
}

/// Why the boot information could not be read.
#[derive(Clone, Copy, Debug)]
pub enum PvhError {
    /// The structure's magic is wrong (not booted through PVH).
    BadMagic(u32),
    /// Version 0 has no memory map.
    NoMemoryMap,
}

impl fmt::Display for PvhError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PvhError::BadMagic(m) => write!(f, "PVH start_info magic is {m:#x}, not booted by PVH"),
            PvhError::NoMemoryMap => write!(f, "PVH start_info version 0 has no memory map"),
        }
    }
}

/// The memory map from the start_info at physical address `addr`.
pub fn memory_map(addr: u64) -> Result<&'static [MemmapEntry], PvhError> {
    // SAFETY: PVH guarantees %ebx held the address of a start_info in RAM,
    // which the boot page tables identity-map and nothing overwrites.
    let info = unsafe { &*(addr as *const StartInfo) };
    if info.magic != START_INFO_MAGIC {
        return Err(PvhError::BadMagic(info.magic));
    }
    if info.version < 1 || info.memmap_paddr == 0 {
        return Err(PvhError::NoMemoryMap);
    }
    let entries = info.memmap_entries.min(MAX_ENTRIES) as usize;
    // SAFETY: version >= 1 start_info points at `memmap_entries` entries in
    // identity-mapped RAM that stay untouched.
    Ok(unsafe { core::slice::from_raw_parts(info.memmap_paddr as *const MemmapEntry, entries) })
}

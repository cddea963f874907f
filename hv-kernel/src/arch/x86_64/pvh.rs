//! The PVH boot information (`hvm_start_info`, layout in hv-core
//! `vm::pvh`) QEMU passes in %ebx: the memory map and the modules
//! (`-initrd`).

use core::fmt;
use hv_core::vm::pvh::{MemmapEntry, Module, StartInfo, START_INFO_MAGIC};

/// More entries than this are ignored (QEMU passes a handful).
const MAX_ENTRIES: u32 = 128;

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

fn start_info(addr: u64) -> Result<&'static StartInfo, PvhError> {
    // SAFETY: PVH guarantees %ebx held the address of a start_info in RAM,
    // which the boot page tables identity-map and nothing overwrites.
    let info = unsafe { &*(addr as *const StartInfo) };
    if info.magic != START_INFO_MAGIC {
        return Err(PvhError::BadMagic(info.magic));
    }
    Ok(info)
}

/// The memory map from the start_info at physical address `addr`.
pub fn memory_map(addr: u64) -> Result<&'static [MemmapEntry], PvhError> {
    let info = start_info(addr)?;
    if info.version < 1 || info.memmap_paddr == 0 {
        return Err(PvhError::NoMemoryMap);
    }
    let entries = info.memmap_entries.min(MAX_ENTRIES) as usize;
    // SAFETY: version >= 1 start_info points at `memmap_entries` entries in
    // identity-mapped RAM that stay untouched.
    Ok(unsafe { core::slice::from_raw_parts(info.memmap_paddr as *const MemmapEntry, entries) })
}

/// The modules (QEMU's `-initrd` is module 0) from the start_info at
/// `addr`.
pub fn modules(addr: u64) -> Result<&'static [Module], PvhError> {
    let info = start_info(addr)?;
    if info.nr_modules == 0 || info.modlist_paddr == 0 {
        return Ok(&[]);
    }
    let n = info.nr_modules.min(MAX_ENTRIES) as usize;
    // SAFETY: the start_info's module list is `nr_modules` entries in
    // identity-mapped RAM that stay untouched.
    Ok(unsafe { core::slice::from_raw_parts(info.modlist_paddr as *const Module, n) })
}

/// hv's own command line (QEMU's `-append`), if the loader gave one.
pub fn cmdline(addr: u64) -> Option<&'static str> {
    let at = start_info(addr).ok()?.cmdline_paddr;
    if at == 0 {
        return None;
    }
    // SAFETY: the loader put a NUL-terminated command line at `at`, in
    // identity-mapped RAM that stays untouched; at most 4 KiB is read.
    let bytes = unsafe { core::slice::from_raw_parts(at as *const u8, 4096) };
    let len = bytes.iter().position(|&b| b == 0)?;
    core::str::from_utf8(&bytes[..len]).ok()
}

/// The bytes of `module`, which stay untouched in identity-mapped RAM.
pub fn module_bytes(module: &Module) -> &'static [u8] {
    // SAFETY: QEMU loaded the module at `paddr`, `size` bytes, in RAM the
    // boot page tables identity-map (below 4 GiB), and reported the range
    // as not usable for hv (hv allocates nothing there: guest RAM is
    // carved around it).
    unsafe { core::slice::from_raw_parts(module.paddr as *const u8, module.size as usize) }
}

/// The memory the loader's data occupies, as (start, end) ranges: the
/// start_info and what it points at (memory map, module list, modules,
/// command line, up to a page each where the size is not known), so hv
/// can keep clear of it.
pub fn loader_ranges(addr: u64) -> [(u64, u64); 5] {
    const PAGE: u64 = 0x1000;
    let Ok(info) = start_info(addr) else {
        return [(addr, addr + PAGE); 5];
    };
    let module = modules(addr)
        .ok()
        .and_then(|m| m.first().copied())
        .map_or((0, 0), |m| (m.paddr, m.paddr.saturating_add(m.size)));
    let cmdline = match info.cmdline_paddr {
        0 => (0, 0),
        at => (at, at + PAGE),
    };
    [
        (addr, addr + PAGE),
        (info.memmap_paddr, info.memmap_paddr + PAGE),
        (info.modlist_paddr, info.modlist_paddr + PAGE),
        module,
        cmdline,
    ]
}

//! The x86 PVH boot protocol's `hvm_start_info` (Xen's
//! `arch/x86/hvm/start_info.h`, which QEMU's `-kernel` follows): the
//! layout hv-kernel reads from QEMU at its own boot, and the structure hv
//! writes for an x86 guest it boots the same way.

use alloc::vec::Vec;

/// `hvm_start_info.magic`.
pub const START_INFO_MAGIC: u32 = 0x336e_c578;
/// E820 type of usable RAM.
pub const E820_RAM: u32 = 1;
/// E820 type of reserved ranges.
pub const E820_RESERVED: u32 = 2;

/// `hvm_start_info`, version 1.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StartInfo {
    /// [`START_INFO_MAGIC`].
    pub magic: u32,
    /// 1: the memory map fields are valid.
    pub version: u32,
    /// Flags (none used).
    pub flags: u32,
    /// Entries of the module list.
    pub nr_modules: u32,
    /// Physical address of the module list ([`Module`] entries).
    pub modlist_paddr: u64,
    /// Physical address of the NUL-terminated command line, or 0.
    pub cmdline_paddr: u64,
    /// Physical address of the ACPI RSDP, or 0.
    pub rsdp_paddr: u64,
    /// Physical address of the memory map ([`MemmapEntry`] entries).
    pub memmap_paddr: u64,
    /// Entries of the memory map.
    pub memmap_entries: u32,
    /// Must be 0.
    pub reserved: u32,
}

/// One module (QEMU passes `-initrd` as module 0).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Module {
    /// Physical address.
    pub paddr: u64,
    /// Size in bytes.
    pub size: u64,
    /// Physical address of its command line, or 0.
    pub cmdline_paddr: u64,
    /// Must be 0.
    pub reserved: u64,
}

/// One entry of the memory map (E820 layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemmapEntry {
    /// Start address.
    pub addr: u64,
    /// Length in bytes.
    pub size: u64,
    /// E820 type ([`E820_RAM`], [`E820_RESERVED`], ...).
    pub kind: u32,
    /// Must be 0.
    pub reserved: u32,
}

impl MemmapEntry {
    /// Usable RAM.
    pub fn is_ram(&self) -> bool {
        self.kind == E820_RAM
    }
}

/// Size of [`StartInfo`] in guest memory.
pub const START_INFO_SIZE: usize = 56;
/// Size of one [`MemmapEntry`].
pub const MEMMAP_ENTRY_SIZE: usize = 24;

/// Size of one [`Module`].
pub const MODULE_SIZE: usize = 32;

/// The bytes to place at guest-physical `at` for a guest booted through
/// PVH: a version-1 start_info with the ACPI RSDP at `rsdp` (0: none),
/// then its memory map, then the module list (`modules` as (address,
/// size); Linux takes module 0 as its initrd), then the command line
/// (NUL-terminated) if there is one. The guest gets the address `at` in
/// EBX.
pub fn start_info(
    at: u64,
    memmap: &[MemmapEntry],
    modules: &[(u64, u64)],
    cmdline: Option<&[u8]>,
    rsdp: u64,
) -> Vec<u8> {
    let memmap_at = at + START_INFO_SIZE as u64;
    let modlist_at = memmap_at + (memmap.len() * MEMMAP_ENTRY_SIZE) as u64;
    let cmdline_at = modlist_at + (modules.len() * MODULE_SIZE) as u64;
    let mut b = Vec::new();
    let put32 = |b: &mut Vec<u8>, v: u32| b.extend_from_slice(&v.to_le_bytes());
    let put64 = |b: &mut Vec<u8>, v: u64| b.extend_from_slice(&v.to_le_bytes());
    put32(&mut b, START_INFO_MAGIC);
    put32(&mut b, 1);
    put32(&mut b, 0);
    put32(&mut b, modules.len() as u32);
    put64(&mut b, if modules.is_empty() { 0 } else { modlist_at });
    put64(&mut b, if cmdline.is_some() { cmdline_at } else { 0 });
    put64(&mut b, rsdp);
    put64(&mut b, memmap_at);
    put32(&mut b, memmap.len() as u32);
    put32(&mut b, 0);
    for e in memmap {
        put64(&mut b, e.addr);
        put64(&mut b, e.size);
        put32(&mut b, e.kind);
        put32(&mut b, 0);
    }
    for &(paddr, size) in modules {
        put64(&mut b, paddr);
        put64(&mut b, size);
        put64(&mut b, 0);
        put64(&mut b, 0);
    }
    if let Some(c) = cmdline {
        b.extend_from_slice(c);
        b.push(0);
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_the_c_structures() {
        assert_eq!(core::mem::size_of::<StartInfo>(), START_INFO_SIZE);
        assert_eq!(core::mem::size_of::<MemmapEntry>(), MEMMAP_ENTRY_SIZE);
        assert_eq!(core::mem::size_of::<Module>(), 32);
        assert_eq!(core::mem::offset_of!(StartInfo, memmap_paddr), 40);
        assert_eq!(core::mem::offset_of!(StartInfo, memmap_entries), 48);
    }

    #[test]
    fn written_start_info_reads_back() {
        let map = [
            MemmapEntry {
                addr: 0,
                size: 0x9fc00,
                kind: E820_RAM,
                reserved: 0,
            },
            MemmapEntry {
                addr: 0x10_0000,
                size: 0x3f0_0000,
                kind: E820_RAM,
                reserved: 0,
            },
        ];
        let b = start_info(0x6000, &map, &[], Some(b"console=ttyS0"), 0xe_0000);
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
        assert_eq!(u32_at(0), START_INFO_MAGIC);
        assert_eq!(u32_at(4), 1);
        assert_eq!(u64_at(40), 0x6000 + 56);
        assert_eq!(u64_at(32), 0xe_0000, "rsdp_paddr");
        assert_eq!(u32_at(48), 2);
        // Entry 1 at 56 + 24, then the command line after both entries.
        assert_eq!(u64_at(56 + 24), 0x10_0000);
        assert_eq!(u32_at(56 + 24 + 16), E820_RAM);
        let cmdline = u64_at(24) - 0x6000;
        assert_eq!(cmdline, 56 + 48);
        assert_eq!(&b[cmdline as usize..], b"console=ttyS0\0");
        assert_eq!(u64_at(24), 0x6000 + 104);
        assert_eq!(start_info(0, &map, &[], None, 0)[24..40], [0; 16]);
        assert_eq!(u32_at(12), 0, "no modules");
        assert_eq!(u64_at(16), 0);
    }

    #[test]
    fn modules_come_between_memory_map_and_command_line() {
        let map = [MemmapEntry {
            addr: 0,
            size: 0x9_fc00,
            kind: E820_RAM,
            reserved: 0,
        }];
        let b = start_info(0x6000, &map, &[(0x0800_0000, 0x12_3456)], Some(b"x"), 0);
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        let u64_at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
        assert_eq!(u32_at(12), 1, "nr_modules");
        let modlist = (u64_at(16) - 0x6000) as usize;
        assert_eq!(modlist, 56 + 24);
        assert_eq!(u64_at(modlist), 0x0800_0000);
        assert_eq!(u64_at(modlist + 8), 0x12_3456);
        assert_eq!(u64_at(modlist + 16), 0, "no module command line");
        assert_eq!(u64_at(24) - 0x6000, (56 + 24 + 32) as u64);
        assert_eq!(&b[56 + 24 + 32..], b"x\0");
        // The structures QEMU hands hv read the same way back.
        assert_eq!(core::mem::size_of::<Module>(), MODULE_SIZE);
    }
}

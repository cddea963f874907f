//! hv's own EL2 stage-1 MMU: an identity map of the machine (RAM as normal
//! write-back memory, everything else below 4 GiB as device memory), so that
//! hv's exclusives (spin locks) and its view of guest RAM are cacheable and
//! coherent with the guest, as real hardware requires. Built once by the
//! boot CPU from the DTB's memory map, switched on by every CPU.

use super::dtb::BootInfo;
use crate::arch::tables::{PoolKind, TablePool};
use alloc::vec::Vec;
use core::arch::asm;
use core::sync::atomic::{AtomicU64, Ordering};
use hv_core::frame::FrameError;
use hv_core::paging::aarch64::{tcr_el2, El2, MAIR_EL2};
use hv_core::paging::{Attrs, MapError, PageTable};
use hv_core::{PhysAddr, VirtAddr};

const PAGE: u64 = 4096;
/// Device space is mapped up to here at least (the QEMU virt and most
/// boards' peripherals live below 4 GiB).
const DEVICE_SPAN: u64 = 4 << 30;
/// 3 levels: 39-bit addresses.
const LEVELS: u8 = 3;
const VA_LIMIT: u64 = 1 << 39;

/// TTBR0_EL2, TCR_EL2, MAIR_EL2 and SCTLR_EL2 for the other CPUs, written
/// once by the boot CPU before it releases them (TTBR0 0: not built yet).
/// `secondary_entry` (boot.s) loads them with its MMU still off, so hv's
/// whole image, this included, is cleaned to the PoC before any release;
/// the secondary then never touches memory (not even its stack) with its
/// MMU off, and no stale cache line can hide what it wrote.
#[no_mangle]
static secondary_mmu_registers: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
/// Keeps the tables alive (and owned) for the life of hv.
static TABLES: spin::Once<spin::Mutex<PageTable<El2, TablePool>>> = spin::Once::new();

/// [start, end) pieces of `[0, limit)` not covered by `ram` (sorted).
fn gaps(ram: &[(u64, u64)], limit: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut at = 0;
    for &(start, end) in ram {
        if start > at {
            out.push((at, start.min(limit)));
        }
        at = at.max(end);
    }
    if at < limit {
        out.push((at, limit));
    }
    out.retain(|&(s, e)| e > s);
    out
}

/// Build the identity map from the DTB's RAM and switch this (the boot)
/// CPU's MMU on.
pub fn enable_boot_cpu(info: &BootInfo, pa_bits: u32) -> Result<(), MapError> {
    let mut ram: Vec<(u64, u64)> = info
        .ram
        .iter()
        .map(|&(base, size)| (base & !(PAGE - 1), (base + size + PAGE - 1) & !(PAGE - 1)))
        .collect();
    ram.sort_unstable();
    let top = ram
        .iter()
        .map(|&(_, e)| e)
        .max()
        .unwrap_or(0)
        .max(DEVICE_SPAN);
    if top > VA_LIMIT {
        return Err(MapError::OutOfRange { addr: top });
    }
    let pool =
        TablePool::take(PoolKind::Hypervisor).ok_or(MapError::Frame(FrameError::OutOfFrames))?;
    let mut table = PageTable::<El2, TablePool>::new(LEVELS, pool)?;
    for &(start, end) in &ram {
        table.map(
            VirtAddr(start),
            PhysAddr(start),
            end - start,
            Attrs::RWX | Attrs::GLOBAL,
        )?;
    }
    for (start, end) in gaps(&ram, top) {
        let attrs = Attrs::RW | Attrs::DEVICE | Attrs::GLOBAL;
        table.map(VirtAddr(start), PhysAddr(start), end - start, attrs)?;
    }
    let regs = (table.root().raw(), tcr_el2(pa_bits)?);
    TABLES.call_once(|| spin::Mutex::new(table));
    let published = [regs.0, regs.1, MAIR_EL2, SCTLR_EL2_ON];
    for (slot, value) in secondary_mmu_registers.iter().zip(published) {
        slot.store(value, Ordering::Release);
    }
    // Everything hv wrote so far (relocations, BSS, heap, these tables)
    // went straight to memory with the MMU off. Once it is on, reads and
    // table walks go through the caches: drop any line firmware left for
    // hv's image, which would hide those writes.
    let (start, end) = super::image_range();
    super::cache::invalidate_to_poc(start, end - start);
    switch_on(regs);
    Ok(())
}

/// Whether this (secondary) CPU runs with its MMU on: `secondary_entry`
/// switched it on from the boot CPU's registers before any Rust code ran.
pub fn is_on() -> bool {
    let sctlr: u64;
    // SAFETY: reading SCTLR_EL2 has no side effects.
    unsafe { asm!("mrs {}, sctlr_el2", out(reg) sctlr, options(nomem, nostack)) };
    sctlr & SCTLR_M != 0
}

/// SCTLR_EL2 (non-VHE) RES1 bits, and M, C, I.
const SCTLR_EL2_RES1: u64 = 0x30c5_0830;
const SCTLR_M: u64 = 1 << 0;
const SCTLR_C: u64 = 1 << 2;
const SCTLR_I: u64 = 1 << 12;
/// SCTLR_EL2 with translation and both caches on.
const SCTLR_EL2_ON: u64 = SCTLR_EL2_RES1 | SCTLR_M | SCTLR_C | SCTLR_I;

fn switch_on((ttbr, tcr): (u64, u64)) {
    // SAFETY: the tables identity-map all RAM (where hv's code, data, stacks
    // and heap live) and the device space, so every address hv uses keeps
    // its meaning once translation is on; the TLB is invalidated first and
    // the ISBs order the register writes before the next instruction fetch.
    unsafe {
        asm!(
            "msr mair_el2, {mair}",
            "msr tcr_el2, {tcr}",
            "msr ttbr0_el2, {ttbr}",
            "isb",
            "tlbi alle2",
            "dsb ish",
            "isb",
            "msr sctlr_el2, {sctlr}",
            "isb",
            mair = in(reg) MAIR_EL2,
            tcr = in(reg) tcr,
            ttbr = in(reg) ttbr,
            sctlr = in(reg) SCTLR_EL2_ON,
            options(nostack),
        );
    }
}

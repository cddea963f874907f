//! Data-cache maintenance by address, to the point of coherency (PoC).
//!
//! Needed wherever memory written through hv's cacheable map is read by an
//! agent that does not look in the caches: a CPU whose MMU is still off
//! (its accesses are Non-cacheable, Arm ARM B2.7.2), firmware waiting in a
//! spin table, a guest that starts with its MMU off. QEMU models no
//! caches, so only real hardware shows a missing clean.

use core::arch::asm;

/// Smallest data-cache line of any cache this CPU's maintenance reaches:
/// CTR_EL0.DminLine is log2 of the number of 4-byte words.
fn dcache_line() -> u64 {
    let ctr: u64;
    // SAFETY: reading CTR_EL0 has no side effects; EL2 may always read it.
    unsafe { asm!("mrs {}, ctr_el0", out(reg) ctr, options(nomem, nostack, preserves_flags)) };
    4 << ((ctr >> 16) & 0xf)
}

/// Run `op` on the address of every data-cache line that [start, start +
/// len) touches, then wait for the maintenance to complete (DSB SY).
fn by_line(start: u64, len: u64, op: impl Fn(u64)) {
    let line = dcache_line();
    let mut at = start & !(line - 1);
    let end = start.saturating_add(len);
    while at < end {
        op(at);
        at += line;
    }
    // SAFETY: a barrier; no memory or register effects beyond ordering.
    unsafe { asm!("dsb sy", options(nostack, preserves_flags)) };
}

/// Clean and invalidate [start, start + len) to the PoC, so a non-caching
/// observer sees the data and later cacheable reads fetch it again. hv's
/// map is an identity map, so `start` is both the virtual and the
/// physical address.
pub fn clean_invalidate_to_poc(start: u64, len: u64) {
    by_line(start, len, |at| {
        // SAFETY: DC CIVAC writes back and drops one line; it never changes
        // the memory's contents as seen by a coherent observer, and it
        // faults only on an unmapped address, which hv's own map covers
        // for everything passed here (its image, RAM of the DTB).
        unsafe { asm!("dc civac, {}", in(reg) at, options(nostack, preserves_flags)) };
    });
}

/// Invalidate [start, start + len) in the data caches to the PoC without
/// writing anything back (DC IVAC). For memory written with the MMU off
/// (straight to memory) before it is read through a cacheable mapping: a
/// stale line left by firmware would otherwise hide the new contents, and
/// cleaning it would overwrite them.
pub fn invalidate_to_poc(start: u64, len: u64) {
    by_line(start, len, |at| {
        // SAFETY: DC IVAC drops one line. The callers pass only memory they
        // wrote with the MMU off, so memory already holds what the line
        // would have written back; nothing live is lost.
        unsafe { asm!("dc ivac, {}", in(reg) at, options(nostack, preserves_flags)) };
    });
}

/// Invalidate all instruction caches to the PoU in the Inner Shareable
/// domain (IC IALLUIS), then wait for it and resynchronise this CPU's
/// fetch: code hv wrote for a guest is then fetched afresh by every CPU.
pub fn invalidate_instruction_caches() {
    // SAFETY: cache maintenance and barriers; no memory contents change.
    unsafe {
        asm!(
            "ic ialluis",
            "dsb ish",
            "isb",
            options(nostack, preserves_flags)
        )
    };
}

//! A minimal EL1 stage-1 MMU: 4 KiB granule, 39-bit virtual addresses in
//! both halves (T0SZ = T1SZ = 25), so TTBR0 covers 0..2^39 and TTBR1 the
//! top 2^39 bytes (0xffff_ff80_0000_0000 up). Tables come from a small
//! static pool; [`map`] picks 1 GiB and 2 MiB blocks where alignment allows
//! and 4 KiB pages elsewhere. The runtime keeps working once [`enable`] ran
//! as long as RAM and the devices it touches are identity-mapped.
//!
//! [`CodePage`] is a page of instructions a test writes at run time and
//! executes at another virtual address, with the cache maintenance the
//! architecture asks for between the two.

use super::report::Msg;
use crate::{ensure, msg};
use core::arch::asm;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// Bytes in a page (the translation granule).
pub const PAGE_SIZE: u64 = 4096;
/// Virtual address bits in each half (64 - T0SZ, 64 - T1SZ).
pub const VA_BITS: u32 = 39;
/// The lowest address of the upper (TTBR1) half.
pub const HIGH_BASE: u64 = !0 << VA_BITS;

/// What a mapping maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Memory {
    /// Normal memory, write-back cacheable, inner shareable, executable at
    /// EL1 (RAM: code, data, stacks, page tables).
    Normal,
    /// Device-nGnRE, never executable (the GIC, UART, virtio).
    Device,
}

/// Descriptor bits (VMSAv8-64, 4 KiB granule).
mod desc {
    /// Valid.
    pub const VALID: u64 = 1 << 0;
    /// Table (levels 0-2) or page (level 3), with VALID; clear: a block.
    pub const TABLE_OR_PAGE: u64 = 1 << 1;
    /// AttrIndx[2:0]: index into MAIR_EL1.
    pub const ATTR_SHIFT: u32 = 2;
    /// SH = inner shareable.
    pub const INNER_SHAREABLE: u64 = 3 << 8;
    /// Access flag (set: no access-flag fault on first use).
    pub const AF: u64 = 1 << 10;
    /// Privileged execute-never.
    pub const PXN: u64 = 1 << 53;
    /// Unprivileged execute-never.
    pub const UXN: u64 = 1 << 54;
    /// Output address bits [47:12].
    pub const ADDRESS: u64 = 0x0000_ffff_ffff_f000;
}

/// MAIR_EL1 attribute indices and values.
const ATTR_DEVICE: u64 = 0; // Device-nGnRE
const ATTR_NORMAL: u64 = 1; // Normal, inner/outer write-back, read/write-allocate
const MAIR: u64 = 0x04 | (0xff << 8);

impl Memory {
    fn leaf_bits(self) -> u64 {
        match self {
            Memory::Normal => {
                (ATTR_NORMAL << desc::ATTR_SHIFT) | desc::INNER_SHAREABLE | desc::AF | desc::UXN
            }
            Memory::Device => (ATTR_DEVICE << desc::ATTR_SHIFT) | desc::AF | desc::PXN | desc::UXN,
        }
    }
}

/// One translation table: 512 descriptors.
#[repr(C, align(4096))]
struct Table([AtomicU64; 512]);

impl Table {
    const fn new() -> Self {
        Table([const { AtomicU64::new(0) }; 512])
    }

    fn address(&self) -> u64 {
        self as *const Table as u64
    }
}

/// Tables available: the two roots (TTBR0, TTBR1) and what they point to.
const POOL_TABLES: usize = 8;
/// Pool entries 0 and 1 are the roots of TTBR0 and TTBR1.
static POOL: [Table; POOL_TABLES] = [const { Table::new() }; POOL_TABLES];
/// Tables handed out below the roots.
static USED: AtomicUsize = AtomicUsize::new(0);
/// Set once [`enable`] switched the MMU on.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Bytes one entry maps at `level` (1: 1 GiB, 2: 2 MiB, 3: 4 KiB).
const fn level_size(level: u32) -> u64 {
    PAGE_SIZE << (9 * (3 - level))
}

/// Index of `va`'s entry in its table at `level`.
fn index(va: u64, level: u32) -> usize {
    ((va >> (12 + 9 * (3 - level))) & 511) as usize
}

/// The pool table at physical (= identity) address `addr`.
fn table_at(addr: u64) -> Option<&'static Table> {
    let base = POOL[0].address();
    let i = usize::try_from(addr.checked_sub(base)? / PAGE_SIZE).ok()?;
    POOL.get(i).filter(|t| t.address() == addr)
}

fn new_table() -> Result<&'static Table, Msg> {
    let i = USED.fetch_add(1, Ordering::Relaxed) + 2;
    POOL.get(i)
        .ok_or_else(|| msg!("mmu: all {POOL_TABLES} translation tables are in use"))
}

/// Map `size` bytes at virtual address `va` to physical address `pa` as
/// `memory`. Addresses and size are page-aligned; `va..va+size` lies in
/// one half (below 2^39, or at [`HIGH_BASE`] and above) and is not mapped
/// yet. Only before [`enable`].
pub fn map(va: u64, pa: u64, size: u64, memory: Memory) -> Result<(), Msg> {
    ensure!(
        !ENABLED.load(Ordering::Relaxed),
        "mmu: map({va:#x}) after the MMU was switched on"
    );
    ensure!(
        (va | pa | size) % PAGE_SIZE == 0 && size != 0,
        "mmu: map({va:#x}, {pa:#x}, {size:#x}): not page-aligned"
    );
    let last = va
        .checked_add(size - 1)
        .ok_or_else(|| msg!("mmu: map({va:#x}, size {size:#x}) wraps"))?;
    ensure!(
        pa.checked_add(size - 1)
            .is_some_and(|end| end <= desc::ADDRESS | 0xfff),
        "mmu: physical range at {pa:#x} (size {size:#x}) beyond 48 bits"
    );
    let root = if last < 1 << VA_BITS {
        &POOL[0]
    } else if va >= HIGH_BASE {
        &POOL[1]
    } else {
        return Err(msg!(
            "mmu: {va:#x}..={last:#x} is not inside one {VA_BITS}-bit half"
        ));
    };
    let (mut va, mut pa, mut left) = (va, pa, size);
    while left != 0 {
        // The largest block that fits here; level 1 and 2 blocks need
        // both addresses aligned to their size.
        let level = (1..=3)
            .find(|&l| {
                let s = level_size(l);
                (va | pa) % s == 0 && left >= s
            })
            .unwrap_or(3);
        let mut table = root;
        for l in 1..level {
            let slot = &table.0[index(va, l)];
            let entry = slot.load(Ordering::Relaxed);
            table = if entry == 0 {
                let next = new_table()?;
                slot.store(
                    next.address() | desc::TABLE_OR_PAGE | desc::VALID,
                    Ordering::Relaxed,
                );
                next
            } else if entry & (desc::TABLE_OR_PAGE | desc::VALID)
                == desc::TABLE_OR_PAGE | desc::VALID
            {
                table_at(entry & desc::ADDRESS)
                    .ok_or_else(|| msg!("mmu: level {l} entry {entry:#x} names no pool table"))?
            } else {
                return Err(msg!(
                    "mmu: {va:#x} already lies in a level-{l} block ({entry:#x})"
                ));
            };
        }
        let slot = &table.0[index(va, level)];
        let old = slot.load(Ordering::Relaxed);
        ensure!(old == 0, "mmu: {va:#x} is already mapped ({old:#x})");
        let kind = if level == 3 { desc::TABLE_OR_PAGE } else { 0 };
        slot.store(
            pa | memory.leaf_bits() | kind | desc::VALID,
            Ordering::Relaxed,
        );
        let step = level_size(level);
        va = va.wrapping_add(step);
        pa += step;
        left -= step;
    }
    Ok(())
}

/// Whether [`enable`] switched the MMU on.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Data and instruction cache line sizes in bytes (CTR_EL0).
fn cache_lines() -> (u64, u64) {
    let ctr: u64;
    // SAFETY: reading CTR_EL0 has no side effects.
    unsafe { asm!("mrs {}, ctr_el0", out(reg) ctr, options(nomem, nostack)) };
    (4 << ((ctr >> 16) & 0xf), 4 << (ctr & 0xf))
}

/// Switch the EL1 MMU on with the tables [`map`] built: MAIR (device,
/// normal write-back), TCR (4 KiB granule, 39-bit halves, walks cacheable
/// and inner shareable, IPS from ID_AA64MMFR0_EL1), TTBR0/TTBR1, then
/// SCTLR_EL1.M, C and I (WXN clear). The caller's code, stack and data
/// must be identity-mapped.
pub fn enable() -> Result<(), Msg> {
    ensure!(!enabled(), "mmu: already on");
    let mmfr0: u64;
    // SAFETY: reading an ID register has no side effects.
    unsafe { asm!("mrs {}, id_aa64mmfr0_el1", out(reg) mmfr0, options(nomem, nostack)) };
    ensure!(
        (mmfr0 >> 28) & 0xf != 0xf,
        "mmu: no 4 KiB granule (ID_AA64MMFR0_EL1 {mmfr0:#x})"
    );
    // PARange, capped at 48 bits (52 would change the descriptor format).
    let ips = (mmfr0 & 0xf).min(5);
    let tsz = u64::from(64 - VA_BITS);
    let walk = (1 << 8) | (1 << 10) | (3 << 12); // IRGN/ORGN write-back, inner shareable
    let tcr = tsz | walk | (tsz << 16) | (walk << 16) | (0b10 << 30) | (ips << 32);
    // The tables were written with the MMU off (non-cacheable): drop any
    // line a speculative access may have cached, so the walker, whose
    // accesses are cacheable, reads what was written.
    let (dline, _) = cache_lines();
    let start = POOL[0].address();
    let end = start + (POOL_TABLES as u64) * PAGE_SIZE;
    for line in (start..end).step_by(dline as usize) {
        // SAFETY: invalidates a cache line of the table pool, whose memory
        // holds exactly what was written to it (the MMU is off, so those
        // writes did not go through the cache).
        unsafe { asm!("dc ivac, {}", in(reg) line, options(nostack)) };
    }
    let sctlr: u64;
    // SAFETY: programs this CPU's EL1 translation regime with complete
    // tables that identity-map the running code, its stack and data
    // (the caller's promise), so execution continues at the next
    // instruction; the TLB is invalidated before the MMU comes on.
    unsafe {
        asm!(
            "dsb sy",
            "msr mair_el1, {mair}",
            "msr tcr_el1, {tcr}",
            "msr ttbr0_el1, {ttbr0}",
            "msr ttbr1_el1, {ttbr1}",
            "isb",
            "tlbi vmalle1",
            "dsb nsh",
            "isb",
            "mrs {sctlr}, sctlr_el1",
            "bic {sctlr}, {sctlr}, #(1 << 19)", // WXN
            "orr {sctlr}, {sctlr}, #(1 << 0)",  // M
            "orr {sctlr}, {sctlr}, #(1 << 2)",  // C
            "orr {sctlr}, {sctlr}, #(1 << 12)", // I
            "msr sctlr_el1, {sctlr}",
            "isb",
            "ic iallu",
            "dsb nsh",
            "isb",
            mair = in(reg) MAIR,
            tcr = in(reg) tcr,
            ttbr0 = in(reg) POOL[0].address(),
            ttbr1 = in(reg) POOL[1].address(),
            sctlr = out(reg) sctlr,
            options(nostack),
        );
    }
    ensure!(
        sctlr & 1 != 0,
        "mmu: SCTLR_EL1 {sctlr:#x} after switching on"
    );
    ENABLED.store(true, Ordering::Relaxed);
    Ok(())
}

/// Translate `va` as an EL1 read would (AT S1E1R): the physical address
/// (under a hypervisor: the intermediate physical address), or PAR_EL1
/// when the translation faults.
pub fn translate(va: u64) -> Result<u64, u64> {
    let par: u64;
    // SAFETY: AT only writes PAR_EL1, read right after the ISB.
    unsafe {
        asm!("at s1e1r, {va}", "isb", "mrs {par}, par_el1",
             va = in(reg) va, par = out(reg) par, options(nostack))
    };
    if par & 1 != 0 {
        Err(par)
    } else {
        Ok((par & desc::ADDRESS) | (va & (PAGE_SIZE - 1)))
    }
}

/// A page of instructions, written at run time through its identity
/// address and executed at whatever virtual address maps it. Zeroed, every
/// word is `udf #0`.
#[repr(C, align(4096))]
pub struct CodePage([AtomicU32; 1024]);

impl CodePage {
    /// A page of `udf #0`.
    pub const fn new() -> Self {
        CodePage([const { AtomicU32::new(0) }; 1024])
    }

    /// Its identity (= physical) address.
    pub fn address(&self) -> u64 {
        self as *const CodePage as u64
    }

    /// Write `insns` from word `index` on, then make them visible to
    /// instruction fetches at `exec_va` (the virtual address the page is
    /// executed at): DC CVAU of the written lines, DSB, IC IVAU of the
    /// lines at `exec_va`, DSB, ISB.
    pub fn write(&self, index: usize, insns: &[u32], exec_va: u64) -> Result<(), Msg> {
        let words = self
            .0
            .get(index..index + insns.len())
            .ok_or_else(|| msg!("code page: words {index}+{} out of range", insns.len()))?;
        for (w, &i) in words.iter().zip(insns) {
            w.store(i, Ordering::Relaxed);
        }
        let offset = index as u64 * 4;
        let len = insns.len() as u64 * 4;
        let (dline, iline) = cache_lines();
        let data = self.address() + offset;
        let first = data & !(dline - 1);
        for line in (first..data + len).step_by(dline as usize) {
            // SAFETY: cleans a line of this page to the point of
            // unification; memory contents do not change.
            unsafe { asm!("dc cvau, {}", in(reg) line, options(nostack)) };
        }
        // SAFETY: a barrier only.
        unsafe { asm!("dsb ish", options(nostack)) };
        let exec = exec_va.wrapping_add(offset);
        let first = exec & !(iline - 1);
        let mut line = first;
        while line.wrapping_sub(first) < exec.wrapping_sub(first) + len {
            // SAFETY: invalidates instruction cache lines of this page at
            // the address it is executed from; memory does not change.
            unsafe { asm!("ic ivau, {}", in(reg) line, options(nostack)) };
            line = line.wrapping_add(iline);
        }
        // SAFETY: barriers only: the invalidation completes, then later
        // instructions are fetched again.
        unsafe { asm!("dsb ish", "isb", options(nostack)) };
        Ok(())
    }
}

impl core::fmt::Debug for CodePage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "CodePage({:#x})", self.address())
    }
}

impl Default for CodePage {
    fn default() -> Self {
        CodePage::new()
    }
}

//! A small GICv3 driver for EL1: the distributor, this CPU's redistributor
//! (SGIs and PPIs) and the ICC system-register CPU interface.
//!
//! The guest machine contract puts the distributor at 0x0800_0000 and the
//! redistributors at 0x080A_0000, 128 KiB apart. GIC system registers are
//! named by encoding (S<op0>_<op1>_C<n>_C<m>_<op2>): the assembler may not
//! know the GIC names. Everything goes to group 1 (non-secure), which
//! arrives as IRQ at EL1.

use super::report::Msg;
use super::smp::{cpu_index, MAX_CPUS};
use super::time::wait_for;
use crate::msg;
use core::arch::asm;
use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The distributor's base address.
pub const GICD_BASE: usize = 0x0800_0000;
/// The first redistributor's base address.
pub const GICR_BASE: usize = 0x080a_0000;
/// Distance between two CPUs' redistributors (RD_base + SGI_base frames).
pub const GICR_STRIDE: usize = 0x2_0000;

/// Distributor registers.
pub mod gicd {
    /// GICD_CTLR.
    pub const CTLR: usize = 0x0000;
    /// GICD_TYPER.
    pub const TYPER: usize = 0x0004;
    /// GICD_CTLR.EnableGrp1 (EnableGrp1A/NS in the non-secure view).
    pub const CTLR_ENABLE_G1: u32 = 1 << 1;
    /// GICD_CTLR.ARE (ARE_NS in the non-secure view).
    pub const CTLR_ARE: u32 = 1 << 4;
    /// GICD_CTLR.RWP: a register write is still taking effect.
    pub const CTLR_RWP: u32 = 1 << 31;
}

/// Redistributor registers: RD_base frame, then SGI_base (+ 64 KiB).
pub mod gicr {
    /// GICR_CTLR.
    pub const CTLR: usize = 0x0000;
    /// GICR_TYPER (64 bits; affinity in [63:32], Last in bit 4).
    pub const TYPER: usize = 0x0008;
    /// GICR_WAKER.
    pub const WAKER: usize = 0x0014;
    /// GICR_CTLR.RWP.
    pub const CTLR_RWP: u32 = 1 << 3;
    /// GICR_WAKER.ProcessorSleep.
    pub const WAKER_PROCESSOR_SLEEP: u32 = 1 << 1;
    /// GICR_WAKER.ChildrenAsleep.
    pub const WAKER_CHILDREN_ASLEEP: u32 = 1 << 2;
    /// Offset of the SGI_base frame.
    pub const SGI: usize = 0x1_0000;
    /// GICR_IGROUPR0.
    pub const IGROUPR0: usize = SGI + 0x0080;
    /// GICR_ISENABLER0.
    pub const ISENABLER0: usize = SGI + 0x0100;
    /// GICR_ICENABLER0.
    pub const ICENABLER0: usize = SGI + 0x0180;
    /// GICR_ISPENDR0.
    pub const ISPENDR0: usize = SGI + 0x0200;
    /// GICR_ICPENDR0.
    pub const ICPENDR0: usize = SGI + 0x0280;
    /// GICR_ISACTIVER0.
    pub const ISACTIVER0: usize = SGI + 0x0300;
    /// GICR_ICACTIVER0.
    pub const ICACTIVER0: usize = SGI + 0x0380;
    /// GICR_IPRIORITYR0 (eight registers, one byte per INTID).
    pub const IPRIORITYR: usize = SGI + 0x0400;
}

/// INTID the CPU interface returns when nothing is pending.
pub const SPURIOUS: u32 = 1023;
/// The SGI the runtime wakes a CPU idling in WFI with (see [`kick`]);
/// [`init_cpu`] enables it with a handler that does nothing.
pub const KICK_SGI: u32 = 0;
/// Priority the driver gives SGIs and PPIs.
pub const DEFAULT_PRIORITY: u8 = 0xa0;

macro_rules! sysreg_read {
    ($name:literal) => {{
        let v: u64;
        // SAFETY: reads a GIC CPU-interface system register of this CPU;
        // the only side effect (IAR acknowledges) is what callers intend.
        unsafe { asm!(concat!("mrs {}, ", $name), out(reg) v, options(nostack)) };
        v
    }};
}

macro_rules! sysreg_write {
    ($name:literal, $v:expr) => {{
        let v: u64 = $v;
        // SAFETY: writes a GIC CPU-interface system register of this CPU;
        // the ISB makes the effect visible to the next instruction.
        unsafe { asm!(concat!("msr ", $name, ", {}"), "isb", in(reg) v, options(nostack)) };
    }};
}

/// Read a 32-bit GIC register at `addr`.
pub fn read32(addr: usize) -> u32 {
    // SAFETY: callers pass addresses in the GIC frames of the guest machine
    // contract, 32-bit device registers; the MMU is off (identity map).
    unsafe { read_volatile(addr as *const u32) }
}

/// Write a 32-bit GIC register at `addr`.
pub fn write32(addr: usize, v: u32) {
    // SAFETY: as for read32.
    unsafe { write_volatile(addr as *mut u32, v) }
}

/// Read a 64-bit GIC register at `addr` (GICR_TYPER).
pub fn read64(addr: usize) -> u64 {
    // SAFETY: as for read32; the register is 64 bits wide.
    unsafe { read_volatile(addr as *const u64) }
}

/// GICD_TYPER.
pub fn gicd_typer() -> u32 {
    read32(GICD_BASE + gicd::TYPER)
}

/// Enable affinity routing and group 1 in the distributor. Once, on one CPU.
pub fn init_distributor() -> Result<(), Msg> {
    let ctlr = read32(GICD_BASE + gicd::CTLR);
    write32(
        GICD_BASE + gicd::CTLR,
        ctlr | gicd::CTLR_ARE | gicd::CTLR_ENABLE_G1,
    );
    wait_for(100, "GICD_CTLR.RWP to clear", || {
        read32(GICD_BASE + gicd::CTLR) & gicd::CTLR_RWP == 0
    })?;
    let ctlr = read32(GICD_BASE + gicd::CTLR);
    if ctlr & gicd::CTLR_ENABLE_G1 == 0 {
        return Err(msg!("GICD_CTLR {ctlr:#x}: EnableGrp1 did not stick"));
    }
    Ok(())
}

static RD_FRAME: [AtomicUsize; MAX_CPUS] = [const { AtomicUsize::new(0) }; MAX_CPUS];
static SPLIT_EOI: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(false) }; MAX_CPUS];
/// CPUs whose CPU interface [`init_cpu`] set up since they last started.
static READY: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(false) }; MAX_CPUS];

/// Whether `cpu` has set up its GIC CPU interface since it last started
/// (and so takes [`KICK_SGI`]).
pub fn ready(cpu: usize) -> bool {
    READY.get(cpu).is_some_and(|r| r.load(Ordering::Acquire))
}

/// `cpu` (re)starts: its CPU interface is in reset state.
pub fn forget(cpu: usize) {
    if let Some(r) = READY.get(cpu) {
        r.store(false, Ordering::Release);
    }
}

/// Wake `cpu` from WFI with [`KICK_SGI`], if it takes interrupts.
pub fn kick(cpu: usize) {
    if ready(cpu) {
        send_sgi(KICK_SGI, cpu);
    }
}

fn on_kick(_cpu: usize, _intid: u32) -> super::irq::Eoi {
    super::irq::Eoi::Complete
}

/// Find the redistributor whose GICR_TYPER carries MPIDR affinity `aff0`
/// (the guest machine's CPUs differ in Aff0 only).
fn find_redistributor(aff0: usize) -> Option<usize> {
    let mut frame = GICR_BASE;
    for _ in 0..64 {
        let typer = read64(frame + gicr::TYPER);
        if typer >> 32 == aff0 as u64 {
            return Some(frame);
        }
        if typer & (1 << 4) != 0 {
            return None;
        }
        frame += GICR_STRIDE;
    }
    None
}

/// This CPU's redistributor (RD_base); [`init_cpu`] must have found it.
pub fn rd() -> usize {
    rd_of(cpu_index())
}

/// CPU `cpu`'s redistributor (RD_base), as its [`init_cpu`] found it (or
/// where the guest machine contract puts it).
pub fn rd_of(cpu: usize) -> usize {
    RD_FRAME
        .get(cpu)
        .map(|f| f.load(Ordering::Relaxed))
        .filter(|&f| f != 0)
        .unwrap_or(GICR_BASE + cpu * GICR_STRIDE)
}

/// Prepare this CPU's redistributor and CPU interface: wake the
/// redistributor, put SGIs and PPIs in group 1 with [`DEFAULT_PRIORITY`],
/// disabled, not pending, not active; then ICC_SRE_EL1.SRE, PMR (all
/// priorities), BPR 0, EOImode 0, and group 1 enabled. IRQs stay masked in
/// PSTATE until the caller unmasks them. [`KICK_SGI`] is enabled.
pub fn init_cpu() -> Result<(), Msg> {
    let cpu = cpu_index();
    let rd = find_redistributor(cpu).ok_or_else(|| {
        msg!("no redistributor with affinity {cpu} (GICR_TYPER scan from {GICR_BASE:#x})")
    })?;
    if let Some(slot) = RD_FRAME.get(cpu) {
        slot.store(rd, Ordering::Relaxed);
    }
    let waker = read32(rd + gicr::WAKER);
    write32(rd + gicr::WAKER, waker & !gicr::WAKER_PROCESSOR_SLEEP);
    wait_for(100, "GICR_WAKER.ChildrenAsleep to clear", || {
        read32(rd + gicr::WAKER) & gicr::WAKER_CHILDREN_ASLEEP == 0
    })?;
    write32(rd + gicr::ICENABLER0, u32::MAX);
    wait_rwp()?;
    write32(rd + gicr::ICPENDR0, u32::MAX);
    write32(rd + gicr::ICACTIVER0, u32::MAX);
    write32(rd + gicr::IGROUPR0, u32::MAX);
    let p = u32::from(DEFAULT_PRIORITY) * 0x0101_0101;
    for i in 0..8 {
        write32(rd + gicr::IPRIORITYR + 4 * i, p);
    }

    sysreg_write!("S3_0_C12_C12_5", 0x7); // ICC_SRE_EL1: SRE, DFB, DIB
    let sre = sysreg_read!("S3_0_C12_C12_5");
    if sre & 1 == 0 {
        return Err(msg!("ICC_SRE_EL1.SRE reads 0 ({sre:#x})"));
    }
    sysreg_write!("S3_0_C4_C6_0", 0xff); // ICC_PMR_EL1
    sysreg_write!("S3_0_C12_C12_3", 0); // ICC_BPR1_EL1
    set_eoi_mode(false);
    sysreg_write!("S3_0_C12_C12_7", 1); // ICC_IGRPEN1_EL1
    super::irq::register(KICK_SGI, on_kick);
    enable(KICK_SGI);
    if let Some(r) = READY.get(cpu) {
        r.store(true, Ordering::Release);
    }
    Ok(())
}

/// Wait until this CPU's redistributor has applied an ICENABLER0 write.
pub fn wait_rwp() -> Result<(), Msg> {
    let rd = rd();
    wait_for(100, "GICR_CTLR.RWP to clear", || {
        read32(rd + gicr::CTLR) & gicr::CTLR_RWP == 0
    })?;
    Ok(())
}

/// ICC_CTLR_EL1.EOImode: `split` (1) makes EOIR a priority drop only and
/// DIR the deactivation; otherwise (0) EOIR does both.
pub fn set_eoi_mode(split: bool) {
    let ctlr = sysreg_read!("S3_0_C12_C12_4");
    let ctlr = if split { ctlr | 2 } else { ctlr & !2 };
    sysreg_write!("S3_0_C12_C12_4", ctlr);
    if let Some(s) = SPLIT_EOI.get(cpu_index()) {
        s.store(split, Ordering::Relaxed);
    }
}

/// Whether this CPU runs with EOImode 1.
pub fn split_eoi() -> bool {
    SPLIT_EOI
        .get(cpu_index())
        .is_some_and(|s| s.load(Ordering::Relaxed))
}

fn sgi_reg_bit(reg: usize, intid: u32) {
    write32(rd() + reg, 1 << (intid & 31));
}

fn sgi_reg_test(reg: usize, intid: u32) -> bool {
    read32(rd() + reg) & (1 << (intid & 31)) != 0
}

/// Enable SGI/PPI `intid` (< 32) at this CPU's redistributor.
pub fn enable(intid: u32) {
    sgi_reg_bit(gicr::ISENABLER0, intid);
}

/// Disable SGI/PPI `intid` at this CPU's redistributor and wait for it.
pub fn disable(intid: u32) -> Result<(), Msg> {
    sgi_reg_bit(gicr::ICENABLER0, intid);
    wait_rwp()
}

/// Whether SGI/PPI `intid` is enabled (GICR_ISENABLER0).
pub fn is_enabled(intid: u32) -> bool {
    sgi_reg_test(gicr::ISENABLER0, intid)
}

/// Make SGI/PPI `intid` pending (GICR_ISPENDR0).
pub fn set_pending(intid: u32) {
    sgi_reg_bit(gicr::ISPENDR0, intid);
}

/// Clear the pending state of SGI/PPI `intid` (GICR_ICPENDR0).
pub fn clear_pending(intid: u32) {
    sgi_reg_bit(gicr::ICPENDR0, intid);
}

/// Whether SGI/PPI `intid` reads as pending (GICR_ISPENDR0).
pub fn is_pending(intid: u32) -> bool {
    sgi_reg_test(gicr::ISPENDR0, intid)
}

/// Make SGI/PPI `intid` active (GICR_ISACTIVER0).
pub fn set_active(intid: u32) {
    sgi_reg_bit(gicr::ISACTIVER0, intid);
}

/// Clear the active state of SGI/PPI `intid` (GICR_ICACTIVER0).
pub fn clear_active(intid: u32) {
    sgi_reg_bit(gicr::ICACTIVER0, intid);
}

/// Whether SGI/PPI `intid` reads as active (GICR_ISACTIVER0).
pub fn is_active(intid: u32) -> bool {
    sgi_reg_test(gicr::ISACTIVER0, intid)
}

/// Set the priority of SGI/PPI `intid` (lower is more urgent).
pub fn set_priority(intid: u32, priority: u8) {
    let at = rd() + gicr::IPRIORITYR + (intid as usize & 31 & !3);
    let shift = 8 * (intid % 4);
    write32(
        at,
        (read32(at) & !(0xff << shift)) | (u32::from(priority) << shift),
    );
}

/// Acknowledge the highest-priority pending group-1 interrupt
/// (ICC_IAR1_EL1); [`SPURIOUS`] if none.
pub fn acknowledge() -> u32 {
    (sysreg_read!("S3_0_C12_C12_0") & 0xff_ffff) as u32
}

/// ICC_EOIR1_EL1: priority drop (and deactivation with EOImode 0).
pub fn end_of_interrupt(intid: u32) {
    sysreg_write!("S3_0_C12_C12_1", u64::from(intid));
}

/// ICC_DIR_EL1: deactivation (EOImode 1).
pub fn deactivate(intid: u32) {
    sysreg_write!("S3_0_C12_C11_1", u64::from(intid));
}

/// ICC_RPR_EL1: the running priority (0xff when idle).
pub fn running_priority() -> u64 {
    sysreg_read!("S3_0_C12_C11_3")
}

/// ICC_HPPIR1_EL1: the highest-priority pending group-1 INTID.
pub fn highest_pending() -> u32 {
    (sysreg_read!("S3_0_C12_C12_2") & 0xff_ffff) as u32
}

/// Send SGI `intid` (0-15) to CPU `cpu` (MPIDR Aff0 = `cpu`) through
/// ICC_SGI1R_EL1. Earlier stores are visible to the target first.
pub fn send_sgi(intid: u32, cpu: usize) {
    let aff1 = (cpu as u64 >> 4) & 0xff;
    let value = (u64::from(intid & 0xf) << 24) | (aff1 << 16) | (1 << (cpu & 0xf));
    // SAFETY: orders this CPU's earlier stores before the SGI.
    unsafe { asm!("dsb ishst", options(nostack, preserves_flags)) };
    sysreg_write!("S3_0_C12_C11_5", value);
}

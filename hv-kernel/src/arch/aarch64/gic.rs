//! The physical GICv3 as hv uses it at EL2, and the virtual CPU interface
//! (ICH_* registers) through which the guest's interrupts are delivered.
//!
//! Physical interrupts hv takes itself:
//! * the guest's two EL1 timers, PPI 27 (virtual) and PPI 30 (physical):
//!   the guest programs its timers directly, and hv forwards their
//!   interrupts with the list register's HW bit, so the guest's
//!   deactivation deactivates the physical interrupt. Each is enabled at
//!   the physical redistributor exactly when the guest enables it at its
//!   own (virtual) redistributor, so hv never touches the guest's timer
//!   control registers;
//! * the vGIC maintenance interrupt (PPI 25): list registers ran low
//!   (underflow), or a level-sensitive interrupt was deactivated (EOI
//!   maintenance, so its line is sampled again);
//! * its own EL2 physical timer (PPI 26), which bounds a trapped WFI at the
//!   guest's earliest timer deadline;
//! * the kick SGI from another CPU (its vCPU's interrupts changed).
//!
//! EOImode = 1: hv drops priority itself and leaves deactivation of the
//! forwarded timers to the guest.
//!
//! A GICv2 host (the Pi 4's GIC-400) works the same way through memory-
//! mapped frames instead of system registers: the CPU interface (GICC) for
//! acknowledge, priority drop and deactivate, GICD_SGIR for kicks, the
//! virtual interface control frame (GICH) for the list registers, whose
//! 32-bit GICv2 layout is converted to and from the ICH_LR_EL2 layout at
//! the register access, so the logic below is one for both. The guest's
//! own CPU interface is the hardware's GICV frame, mapped by stage 2.

use core::arch::asm;
use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicUsize, Ordering};
use hv_core::devices::gicv3::{intids, LrEntry, LrWork, Vgic};
use hv_core::machine;

/// PPI of the EL1 virtual timer.
pub const VTIMER_INTID: u32 = machine::TIMER_EL1_VIRT_INTID;
/// PPI of the EL1 physical timer.
pub const PTIMER_INTID: u32 = machine::TIMER_EL1_PHYS_INTID;
/// PPI of the EL2 physical timer (hv's own, for WFI deadlines).
pub const HYP_TIMER_INTID: u32 = machine::TIMER_EL2_PHYS_INTID;
/// PPI of the GIC maintenance interrupt.
pub const MAINTENANCE_INTID: u32 = 25;
/// The guest timer PPIs hv forwards from hardware.
pub const FORWARDED: [u32; 2] = [VTIMER_INTID, PTIMER_INTID];
/// INTID the CPU interface returns when nothing is pending.
pub const SPURIOUS: u32 = 1023;
const MAX_LRS: usize = 16;

macro_rules! sysreg_read {
    ($name:literal) => {{
        let v: u64;
        // SAFETY: reading a GIC CPU-interface register at EL2 with the
        // system-register interface enabled (ICC_SRE_EL2.SRE) has no effect
        // beyond the read (IAR reads acknowledge, which callers intend).
        unsafe { asm!(concat!("mrs {}, ", $name), out(reg) v, options(nostack)) };
        v
    }};
}

macro_rules! sysreg_write {
    ($name:literal, $v:expr) => {{
        let v: u64 = $v;
        // SAFETY: writes a GIC CPU-interface or virtualization control
        // register at EL2; callers keep the values architecturally valid.
        unsafe { asm!(concat!("msr ", $name, ", {}"), in(reg) v, options(nostack)) };
    }};
}

// GIC registers are named by encoding (S<op0>_<op1>_C<n>_C<m>_<op2>):
// the assembler may not know the GIC names.

fn write_lr(n: usize, value: u64) {
    if let Some(v2) = V2::get() {
        v2.gich_write(GICH_LR0 + 4 * n, lr_to_v2(value));
        return;
    }
    match n {
        0 => sysreg_write!("S3_4_C12_C12_0", value),
        1 => sysreg_write!("S3_4_C12_C12_1", value),
        2 => sysreg_write!("S3_4_C12_C12_2", value),
        3 => sysreg_write!("S3_4_C12_C12_3", value),
        4 => sysreg_write!("S3_4_C12_C12_4", value),
        5 => sysreg_write!("S3_4_C12_C12_5", value),
        6 => sysreg_write!("S3_4_C12_C12_6", value),
        7 => sysreg_write!("S3_4_C12_C12_7", value),
        8 => sysreg_write!("S3_4_C12_C13_0", value),
        9 => sysreg_write!("S3_4_C12_C13_1", value),
        10 => sysreg_write!("S3_4_C12_C13_2", value),
        11 => sysreg_write!("S3_4_C12_C13_3", value),
        12 => sysreg_write!("S3_4_C12_C13_4", value),
        13 => sysreg_write!("S3_4_C12_C13_5", value),
        14 => sysreg_write!("S3_4_C12_C13_6", value),
        15 => sysreg_write!("S3_4_C12_C13_7", value),
        _ => {}
    }
}

fn read_lr(n: usize) -> u64 {
    if let Some(v2) = V2::get() {
        return lr_from_v2(v2.gich_read(GICH_LR0 + 4 * n));
    }
    match n {
        0 => sysreg_read!("S3_4_C12_C12_0"),
        1 => sysreg_read!("S3_4_C12_C12_1"),
        2 => sysreg_read!("S3_4_C12_C12_2"),
        3 => sysreg_read!("S3_4_C12_C12_3"),
        4 => sysreg_read!("S3_4_C12_C12_4"),
        5 => sysreg_read!("S3_4_C12_C12_5"),
        6 => sysreg_read!("S3_4_C12_C12_6"),
        7 => sysreg_read!("S3_4_C12_C12_7"),
        8 => sysreg_read!("S3_4_C12_C13_0"),
        9 => sysreg_read!("S3_4_C12_C13_1"),
        10 => sysreg_read!("S3_4_C12_C13_2"),
        11 => sysreg_read!("S3_4_C12_C13_3"),
        12 => sysreg_read!("S3_4_C12_C13_4"),
        13 => sysreg_read!("S3_4_C12_C13_5"),
        14 => sysreg_read!("S3_4_C12_C13_6"),
        15 => sysreg_read!("S3_4_C12_C13_7"),
        _ => 0,
    }
}

/// ICH_LR<n>_EL2 fields.
const LR_ACTIVE: u64 = 1 << 63;
const LR_PENDING: u64 = 1 << 62;
const LR_STATE: u64 = LR_ACTIVE | LR_PENDING;
const LR_HW: u64 = 1 << 61;
const LR_GROUP1: u64 = 1 << 60;
/// With HW = 0: raise an EOI maintenance interrupt when deactivated.
const LR_EOI: u64 = 1 << 41;
const LR_PINTID_SHIFT: u32 = 32;

fn lr_value(e: &LrEntry) -> u64 {
    let eoi = if e.level { LR_EOI } else { 0 };
    LR_PENDING
        | eoi
        | (u64::from(e.group1) * LR_GROUP1)
        | (u64::from(e.priority) << 48)
        | u64::from(e.intid)
}

/// ICH_HCR_EL2 bits (GICH_HCR has them at the same positions).
const ICH_HCR_EN: u64 = 1 << 0;
const ICH_HCR_UIE: u64 = 1 << 1;

/// GICv2 GICH_LR<n> fields (IHI 0048B 5.3.9).
const V2_LR_HW: u32 = 1 << 31;
const V2_LR_GROUP1: u32 = 1 << 30;
const V2_LR_STATE_SHIFT: u32 = 28;
const V2_LR_PRIORITY_SHIFT: u32 = 23;
const V2_LR_PINTID_SHIFT: u32 = 10;
/// With HW = 0: EOI maintenance.
const V2_LR_EOI: u32 = 1 << 19;

/// An ICH_LR_EL2 value in the GICv2 list register layout: 10-bit IDs, a
/// 5-bit priority (the top bits of the 8-bit one).
fn lr_to_v2(v: u64) -> u32 {
    let hw = v & LR_HW != 0;
    let mut l = (v & 0x3ff) as u32
        | (((v >> 62) & 3) as u32) << V2_LR_STATE_SHIFT
        | (((v >> 48) & 0xff) as u32 >> 3) << V2_LR_PRIORITY_SHIFT;
    if v & LR_GROUP1 != 0 {
        l |= V2_LR_GROUP1;
    }
    if hw {
        l |= V2_LR_HW | (((v >> LR_PINTID_SHIFT) & 0x3ff) as u32) << V2_LR_PINTID_SHIFT;
    } else if v & LR_EOI != 0 {
        l |= V2_LR_EOI;
    }
    l
}

/// A GICv2 list register value in the ICH_LR_EL2 layout.
fn lr_from_v2(l: u32) -> u64 {
    let mut v = u64::from(l & 0x3ff)
        | u64::from((l >> V2_LR_STATE_SHIFT) & 3) << 62
        | u64::from(((l >> V2_LR_PRIORITY_SHIFT) & 0x1f) << 3) << 48;
    if l & V2_LR_GROUP1 != 0 {
        v |= LR_GROUP1;
    }
    if l & V2_LR_HW != 0 {
        v |= LR_HW | u64::from((l >> V2_LR_PINTID_SHIFT) & 0x3ff) << LR_PINTID_SHIFT;
    } else if l & V2_LR_EOI != 0 {
        v |= LR_EOI;
    }
    v
}

/// ICH_HCR_EL2, or GICH_HCR on a GICv2 host.
fn write_hcr(value: u64) {
    match V2::get() {
        Some(v2) => v2.gich_write(GICH_HCR, value as u32),
        None => sysreg_write!("S3_4_C12_C11_0", value),
    }
}

/// (HCR, MISR, ELRSR, EISR) of the virtual interface, for diagnostics.
fn control_registers() -> [u64; 4] {
    match V2::get() {
        Some(v2) => {
            [GICH_HCR, GICH_MISR, GICH_ELRSR0, GICH_EISR0].map(|r| u64::from(v2.gich_read(r)))
        }
        None => [
            sysreg_read!("S3_4_C12_C11_0"),
            sysreg_read!("S3_4_C12_C11_2"),
            sysreg_read!("S3_4_C12_C11_5"),
            sysreg_read!("S3_4_C12_C11_3"),
        ],
    }
}

/// List registers that hold nothing (ELRSR) and, when `eoi`, those whose
/// EOI maintenance is pending (EISR).
fn empty_and_eoi(eoi: bool) -> u32 {
    match V2::get() {
        Some(v2) => {
            let mut done = v2.gich_read(GICH_ELRSR0);
            if eoi {
                done |= v2.gich_read(GICH_EISR0);
            }
            done
        }
        None => {
            let mut done = sysreg_read!("S3_4_C12_C11_5") as u32; // ICH_ELRSR_EL2
            if eoi {
                done |= sysreg_read!("S3_4_C12_C11_3") as u32; // ICH_EISR_EL2
            }
            done
        }
    }
}

/// GICv2 frame offsets (IHI 0048B 4.3, 4.4, 5.3).
const GICD_ISENABLER0: usize = 0x100;
const GICD_ICENABLER0: usize = 0x180;
const GICD_ICPENDR0: usize = 0x280;
const GICD_ICACTIVER0: usize = 0x380;
const GICD_IPRIORITYR: usize = 0x400;
const GICD_ITARGETSR: usize = 0x800;
const GICD_SGIR: usize = 0xf00;
const GICC_CTLR: usize = 0x00;
const GICC_PMR: usize = 0x04;
const GICC_IAR: usize = 0x0c;
const GICC_EOIR: usize = 0x10;
const GICC_DIR: usize = 0x1000;
const GICH_HCR: usize = 0x00;
const GICH_VTR: usize = 0x04;
const GICH_VMCR: usize = 0x08;
const GICH_MISR: usize = 0x10;
const GICH_EISR0: usize = 0x20;
const GICH_ELRSR0: usize = 0x30;
const GICH_APR: usize = 0xf0;
const GICH_LR0: usize = 0x100;
/// GICC_CTLR: EnableGrp0, EnableGrp1 and EOImode (bit 9: EOImodeS without
/// the security extensions, EOImodeNS in the Non-secure view; bit 10:
/// EOImodeNS without them).
const GICC_CTLR_HV: u32 = (1 << 0) | (1 << 1) | (1 << 9) | (1 << 10);

/// The GICv2 host's frames (set once by the boot CPU).
static V2_GICC: AtomicUsize = AtomicUsize::new(0);
static V2_GICH: AtomicUsize = AtomicUsize::new(0);
/// GICv2 CPU-interface mask of each physical CPU, by MPIDR Aff0 (read from
/// its banked GICD_ITARGETSR0 when it starts): GICD_SGIR addresses CPUs by
/// interface, not by affinity.
static V2_INTERFACE: [AtomicUsize; super::MAX_CPUS] =
    [const { AtomicUsize::new(0) }; super::MAX_CPUS];
/// Full GICC_IAR value of the interrupt each CPU (by Aff0) acknowledged
/// last: an SGI's EOI and deactivation must name its source CPU too.
static V2_LAST_IAR: [AtomicUsize; super::MAX_CPUS] =
    [const { AtomicUsize::new(0) }; super::MAX_CPUS];

/// A GICv2 host's frames.
#[derive(Clone, Copy)]
struct V2 {
    gicd: usize,
    gicc: usize,
    gich: usize,
}

impl V2 {
    /// The frames, if the host GIC is a GICv2.
    fn get() -> Option<V2> {
        let gicc = V2_GICC.load(Ordering::Acquire);
        (gicc != 0).then(|| V2 {
            gicd: GICD.load(Ordering::Acquire),
            gicc,
            gich: V2_GICH.load(Ordering::Acquire),
        })
    }

    fn gich_read(&self, offset: usize) -> u32 {
        // SAFETY: GICH is this CPU's (banked) virtual interface control
        // frame from the DTB, mapped as device memory; `offset` is one of
        // its 32-bit registers.
        unsafe { mmio_read32(self.gich + offset) }
    }

    fn gich_write(&self, offset: usize, value: u32) {
        // SAFETY: as for gich_read; every value written is one the GICv2
        // specification allows for that register.
        unsafe { mmio_write32(self.gich + offset, value) }
    }

    fn gicc_read(&self, offset: usize) -> u32 {
        // SAFETY: GICC is this CPU's (banked) CPU interface from the DTB,
        // mapped as device memory; `offset` is one of its registers.
        unsafe { mmio_read32(self.gicc + offset) }
    }

    fn gicc_write(&self, offset: usize, value: u32) {
        // SAFETY: as for gicc_read.
        unsafe { mmio_write32(self.gicc + offset, value) }
    }

    fn gicd_write(&self, offset: usize, value: u32) {
        // SAFETY: the distributor frame from the DTB, mapped as device
        // memory; `offset` is a register below its 4 KiB.
        unsafe { mmio_write32(self.gicd + offset, value) }
    }

    fn gicd_read(&self, offset: usize) -> u32 {
        // SAFETY: as for gicd_write.
        unsafe { mmio_read32(self.gicd + offset) }
    }
}

/// This CPU's slot in the per-CPU GICv2 tables (MPIDR Aff0: the GICv2
/// machines hv meets have one cluster).
fn this_cpu_slot() -> usize {
    (super::mpidr() & 0xff) as usize % super::MAX_CPUS
}

/// The GICv2 CPU-interface mask of the CPU `mpidr`: read from this CPU's
/// banked GICD_ITARGETSR0 (and remembered) when it is the caller, else as
/// that CPU recorded it when it set up its GIC (0 before that).
fn v2_interface(v2: &V2, mpidr: u64) -> u32 {
    if mpidr == super::mpidr() {
        let own = v2.gicd_read(GICD_ITARGETSR) & 0xff;
        V2_INTERFACE[this_cpu_slot()].store(own as usize, Ordering::Release);
        return own;
    }
    V2_INTERFACE[(mpidr & 0xff) as usize % super::MAX_CPUS].load(Ordering::Acquire) as u32
}

/// GICR offsets.
const GICR_TYPER: usize = 0x0008;
const GICR_WAKER: usize = 0x0014;
const GICR_SGI: usize = 0x1_0000;
const GICR_FRAME: usize = 0x2_0000;
const GICR_IGROUPR0: usize = GICR_SGI + 0x0080;
const GICR_ISENABLER0: usize = GICR_SGI + 0x0100;
const GICR_ICENABLER0: usize = GICR_SGI + 0x0180;
const GICR_ICPENDR0: usize = GICR_SGI + 0x0280;
const GICR_ICACTIVER0: usize = GICR_SGI + 0x0380;
const GICR_IPRIORITYR: usize = GICR_SGI + 0x0400;
const GICD_CTLR: usize = 0x0000;
/// Priority of every physical interrupt hv takes.
const PRIORITY: u32 = 0xa0;

/// Physical GIC frames, from the DTB (set once by the boot CPU).
static GICD: AtomicUsize = AtomicUsize::new(0);
static GICR: AtomicUsize = AtomicUsize::new(0);
/// The physical redistributor of the CPU that runs vCPU n (0: not yet
/// known), so any CPU can mirror the guest's timer enables there.
static REDISTRIBUTORS: [AtomicUsize; super::MAX_CPUS] =
    [const { AtomicUsize::new(0) }; super::MAX_CPUS];

/// Record where the machine's GIC is.
pub fn configure(gic: super::dtb::HostGic) {
    match gic {
        super::dtb::HostGic::V3 { gicd, gicr } => {
            GICD.store(gicd, Ordering::Release);
            GICR.store(gicr, Ordering::Release);
        }
        super::dtb::HostGic::V2 {
            gicd, gicc, gich, ..
        } => {
            GICD.store(gicd, Ordering::Release);
            V2_GICH.store(gich, Ordering::Release);
            V2_GICC.store(gicc, Ordering::Release);
        }
    }
}

/// Send physical SGI `intid` (group 1) to the CPU with MPIDR `mpidr`.
pub fn send_sgi(mpidr: u64, intid: u32) {
    if let Some(v2) = V2::get() {
        let mask = v2_interface(&v2, mpidr);
        // SAFETY: orders earlier memory writes before the SGI, as below.
        unsafe { asm!("dsb ish", options(nostack)) };
        // Filter 0: the CPUs in the target list.
        v2.gicd_write(GICD_SGIR, (mask << 16) | (intid & 0xf));
        return;
    }
    let aff0 = mpidr & 0xf;
    let aff1 = (mpidr >> 8) & 0xff;
    let aff2 = (mpidr >> 16) & 0xff;
    let aff3 = (mpidr >> 32) & 0xff;
    let value =
        (aff3 << 48) | (aff2 << 32) | (u64::from(intid & 0xf) << 24) | (aff1 << 16) | (1 << aff0);
    // SAFETY: orders earlier memory writes (e.g. a vCPU start request)
    // before the SGI that tells the other CPU to look at them.
    unsafe { asm!("dsb ish", options(nostack)) };
    sysreg_write!("S3_0_C12_C11_5", value); // ICC_SGI1R_EL1
                                            // SAFETY: synchronises the SGI generation.
    unsafe { asm!("isb", options(nostack)) };
}

/// Route SPI `intid` of the machine to the CPU with MPIDR `mpidr` as a
/// group-1 interrupt, and enable it.
pub fn enable_spi(intid: u32, mpidr: u64) {
    let gicd = GICD.load(Ordering::Acquire);
    if gicd == 0 || !(32..1020).contains(&intid) {
        return;
    }
    if let Some(v2) = V2::get() {
        let n = intid as usize;
        let mask = v2_interface(&v2, mpidr);
        let word = n & !3;
        let shift = 8 * (n % 4);
        let targets = v2.gicd_read(GICD_ITARGETSR + word) & !(0xff << shift);
        v2.gicd_write(GICD_ITARGETSR + word, targets | (mask << shift));
        // SAFETY: IPRIORITYR of an SPI below 1020 lies in the distributor.
        unsafe { set_priority(gicd + GICD_IPRIORITYR, intid) };
        v2.gicd_write(GICD_ISENABLER0 + 4 * (n / 32), 1 << (n % 32));
        return;
    }
    let n = intid as usize;
    let bit = 1u32 << (intid % 32);
    let word = 4 * (n / 32);
    // SAFETY: `gicd` is the distributor frame from the DTB, mapped as
    // device memory by hv's EL2 map; IGROUPR<n>, IPRIORITYR<n>, IROUTER<n>
    // and ISENABLER<n> of an SPI below 1020 lie inside it.
    unsafe {
        mmio_write32(gicd + 0x80 + word, mmio_read32(gicd + 0x80 + word) | bit); // IGROUPR
        set_priority(gicd + 0x400, intid);
        // IROUTER has MPIDR's affinity layout (Aff3 at [39:32]), minus bit 31.
        write_volatile((gicd + 0x6000 + 8 * n) as *mut u64, mpidr & 0xff_00ff_ffff);
        mmio_write32(gicd + 0x100 + word, bit); // ISENABLER
    }
}

/// Set the priority byte of `intid` in the IPRIORITYR array at `base` to
/// hv's [`PRIORITY`].
///
/// # Safety
/// `base` must be a mapped IPRIORITYR array (distributor or SGI_base
/// frame) that covers `intid`.
unsafe fn set_priority(base: usize, intid: u32) {
    let at = base + (intid as usize & !3);
    let shift = 8 * (intid % 4);
    // SAFETY: the caller guarantees `at` is inside the priority array.
    unsafe {
        let v = mmio_read32(at) & !(0xff << shift);
        mmio_write32(at, v | (PRIORITY << shift));
    }
}

/// Read a 32-bit GIC register.
///
/// # Safety
/// `addr` must be a 32-bit register of a GIC frame the DTB names, mapped as
/// device memory in hv's EL2 map; reading it must have no side effect the
/// caller does not intend.
unsafe fn mmio_read32(addr: usize) -> u32 {
    // SAFETY: the caller guarantees a mapped, aligned device register.
    unsafe { read_volatile(addr as *const u32) }
}

/// Write a 32-bit GIC register.
///
/// # Safety
/// As for [`mmio_read32`], and the value must be one the GIC specification
/// allows for that register.
unsafe fn mmio_write32(addr: usize, v: u32) {
    // SAFETY: the caller guarantees a mapped, aligned device register.
    unsafe { write_volatile(addr as *mut u32, v) }
}

/// Read a 64-bit GIC register.
///
/// # Safety
/// As for [`mmio_read32`], for a 64-bit register (e.g. GICR_TYPER).
unsafe fn mmio_read64(addr: usize) -> u64 {
    // SAFETY: the caller guarantees a mapped, aligned device register.
    unsafe { read_volatile(addr as *const u64) }
}

/// Enable or disable forwarded PPI `intid` at the physical redistributor of
/// the CPU that runs vCPU `vcpu`, following the guest's own enable. A
/// vCPU that has not started yet gets its enables when it does.
pub fn mirror_enable(vcpu: usize, intid: u32, enabled: bool) {
    if let Some(v2) = V2::get() {
        // GICv2 banks a CPU's PPIs in the distributor: this reaches the
        // calling CPU's, so callers call it on the vCPU's own CPU (a GICv2
        // guest's enables are banked per vCPU too).
        if FORWARDED.contains(&intid) {
            let reg = if enabled {
                GICD_ISENABLER0
            } else {
                GICD_ICENABLER0
            };
            v2.gicd_write(reg, 1 << intid);
        }
        let _ = vcpu;
        return;
    }
    let Some(rd) = REDISTRIBUTORS
        .get(vcpu)
        .map(|r| r.load(Ordering::Acquire))
        .filter(|&r| r != 0)
    else {
        return;
    };
    if !FORWARDED.contains(&intid) {
        return;
    }
    let reg = if enabled {
        GICR_ISENABLER0
    } else {
        GICR_ICENABLER0
    };
    // SAFETY: `rd` is a redistributor frame found by CpuGic::init; the
    // SGI_base enable registers are write-1-to-act, touching only `intid`.
    unsafe { mmio_write32(rd + reg, 1 << intid) };
}

/// The forwarded guest timer PPIs, as a mask of INTIDs 0-31.
fn forwarded_mask() -> u32 {
    FORWARDED.iter().fold(0, |m, &i| m | (1 << i))
}

/// The private interrupts hv takes for itself on every CPU: maintenance,
/// its EL2 timer, the kick SGI.
fn own_private_mask() -> u32 {
    (1 << MAINTENANCE_INTID) | (1 << HYP_TIMER_INTID) | (1 << super::guest::KICK_SGI)
}

/// This CPU's view of the GIC: its list registers and what they hold.
#[derive(Debug)]
pub struct CpuGic {
    lrs: usize,
    /// INTID held by each list register.
    owner: [u32; MAX_LRS],
    /// List registers in use, as a bit mask.
    used: u32,
    /// In-use list registers that raise EOI maintenance (level-sensitive).
    eoi: u32,
    /// In-use list registers linked to a physical interrupt (HW bit).
    hw: u32,
    /// Forwarded timer PPIs acknowledged (still active physically) that
    /// wait for a free list register.
    hw_waiting: u32,
    /// ICH_HCR_EL2 as last written.
    hcr: u64,
    /// A maintenance interrupt or a forwarded timer asks for a sync.
    wants_sync: bool,
}

/// Why the GIC could not be prepared.
#[derive(Clone, Copy, Debug)]
pub enum GicError {
    /// No redistributor frame carries this CPU's affinity.
    NoRedistributor,
}

impl core::fmt::Display for GicError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            GicError::NoRedistributor => write!(f, "no GIC redistributor for this CPU"),
        }
    }
}

/// Find the redistributor frame of the CPU with affinity `mpidr`.
///
/// # Safety
/// `gicr` must be the first redistributor frame the DTB names, with the
/// frames mapped as device memory in hv's EL2 map.
unsafe fn find_redistributor(gicr: usize, mpidr: u64) -> Result<usize, GicError> {
    // GICR_TYPER.Affinity is Aff3.Aff2.Aff1.Aff0; MPIDR keeps Aff3 at [39:32].
    let aff = ((mpidr >> 8) & 0xff00_0000) | (mpidr & 0xff_ffff);
    let mut frame = gicr;
    loop {
        // SAFETY: frames are walked only until the one marked Last.
        let typer = unsafe { mmio_read64(frame + GICR_TYPER) };
        if typer >> 32 == aff & 0xffff_ffff {
            return Ok(frame);
        }
        if typer & (1 << 4) != 0 {
            return Err(GicError::NoRedistributor);
        }
        frame += GICR_FRAME;
    }
}

impl CpuGic {
    /// Prepare the physical GIC and this CPU's virtual interface for vCPU
    /// `vcpu` with the frames recorded by [`configure`]: wake this CPU's
    /// redistributor; put the PPIs hv takes in group 1 and enable the
    /// maintenance, hyp-timer and kick interrupts (the guest's timer PPIs
    /// follow the guest's enables, see [`mirror_enable`], and start
    /// disabled and inactive); enable group 1 in the distributor; turn on
    /// the system-register CPU interface with EOImode 1; clear and switch
    /// on the virtual CPU interface.
    pub fn init_cpu(vcpu: usize, mpidr: u64) -> Result<Self, GicError> {
        if let Some(v2) = V2::get() {
            return Ok(Self::init_cpu_v2(v2));
        }
        let (gicd, gicr) = (GICD.load(Ordering::Acquire), GICR.load(Ordering::Acquire));
        if gicd == 0 || gicr == 0 {
            return Err(GicError::NoRedistributor);
        }
        // SAFETY: `gicr` came from the DTB through `configure`.
        let rd = unsafe { find_redistributor(gicr, mpidr)? };
        let (timers, mine) = (forwarded_mask(), own_private_mask());
        // SAFETY: `rd` is this CPU's redistributor and `gicd` the
        // distributor, both mapped device frames; every register written
        // is in them and every value is one the GICv3 specification allows.
        unsafe {
            let waker = mmio_read32(rd + GICR_WAKER);
            mmio_write32(rd + GICR_WAKER, waker & !(1 << 1));
            while mmio_read32(rd + GICR_WAKER) & (1 << 2) != 0 {
                core::hint::spin_loop();
            }
            // The guest's timers: disabled, neither pending nor active
            // (a previous run of this vCPU may have left one active).
            mmio_write32(rd + GICR_ICENABLER0, timers);
            mmio_write32(rd + GICR_ICACTIVER0, timers);
            mmio_write32(rd + GICR_ICPENDR0, timers);
            let group = mmio_read32(rd + GICR_IGROUPR0);
            mmio_write32(rd + GICR_IGROUPR0, group | mine | timers);
            for intid in intids(u128::from(mine | timers)) {
                set_priority(rd + GICR_IPRIORITYR, intid);
            }
            mmio_write32(rd + GICR_ISENABLER0, mine);
            // ARE and EnableGrp1 (bit positions agree in both security views).
            let ctlr = mmio_read32(gicd + GICD_CTLR);
            mmio_write32(gicd + GICD_CTLR, ctlr | (1 << 4) | (1 << 1));
            while mmio_read32(gicd + GICD_CTLR) & (1 << 31) != 0 {
                core::hint::spin_loop();
            }
        }
        if let Some(slot) = REDISTRIBUTORS.get(vcpu) {
            slot.store(rd, Ordering::Release);
        }

        // ICC_SRE_EL2: SRE, DFB, DIB, and Enable (lets EL1 use SRE too).
        sysreg_write!("S3_4_C12_C9_5", 0xf);
        // SAFETY: synchronises the SRE change before further GIC accesses.
        unsafe { asm!("isb", options(nostack)) };
        sysreg_write!("S3_0_C4_C6_0", 0xff); // ICC_PMR_EL1: all priorities
        let ctlr = sysreg_read!("S3_0_C12_C12_4"); // ICC_CTLR_EL1
        sysreg_write!("S3_0_C12_C12_4", ctlr | (1 << 1)); // EOImode = 1
        sysreg_write!("S3_0_C12_C12_7", 1); // ICC_IGRPEN1_EL1

        let lrs = ((sysreg_read!("S3_4_C12_C11_1") & 0x1f) + 1) as usize; // ICH_VTR_EL2
        let lrs = lrs.min(MAX_LRS);
        for n in 0..lrs {
            write_lr(n, 0);
        }
        sysreg_write!("S3_4_C12_C8_0", 0); // ICH_AP0R0_EL2
        sysreg_write!("S3_4_C12_C9_0", 0); // ICH_AP1R0_EL2
        sysreg_write!("S3_4_C12_C11_7", 0); // ICH_VMCR_EL2
        sysreg_write!("S3_4_C12_C11_0", ICH_HCR_EN); // ICH_HCR_EL2
                                                     // SAFETY: makes the GIC configuration visible before the guest runs.
        unsafe { asm!("isb", options(nostack)) };
        Ok(Self::fresh(lrs))
    }

    /// The state of a CPU interface just set up with `lrs` empty list
    /// registers and the virtual interface on.
    fn fresh(lrs: usize) -> Self {
        CpuGic {
            lrs,
            owner: [0; MAX_LRS],
            used: 0,
            eoi: 0,
            hw: 0,
            hw_waiting: 0,
            hcr: ICH_HCR_EN,
            wants_sync: true,
        }
    }

    /// [`CpuGic::init_cpu`] on a GICv2 host: this CPU's banked private
    /// interrupts in the distributor, its CPU interface (GICC) and its
    /// virtual interface control (GICH).
    fn init_cpu_v2(v2: V2) -> Self {
        let (timers, mine) = (forwarded_mask(), own_private_mask());
        v2.gicd_write(GICD_ICENABLER0, timers);
        v2.gicd_write(GICD_ICACTIVER0, timers);
        v2.gicd_write(GICD_ICPENDR0, timers);
        for intid in intids(u128::from(mine | timers)) {
            // SAFETY: the banked IPRIORITYR bytes of INTIDs below 32.
            unsafe { set_priority(v2.gicd + GICD_IPRIORITYR, intid) };
        }
        v2.gicd_write(GICD_ISENABLER0, mine);
        // Enable both groups: without the security extensions everything
        // is group 0; with them, firmware made it Non-secure group 1.
        let ctlr = v2.gicd_read(0);
        v2.gicd_write(0, ctlr | 3);
        // This CPU's interface, for kicks and SPI targets.
        v2_interface(&v2, super::mpidr());

        v2.gicc_write(GICC_PMR, 0xff);
        v2.gicc_write(GICC_CTLR, GICC_CTLR_HV);

        let lrs = ((v2.gich_read(GICH_VTR) & 0x3f) + 1) as usize;
        let lrs = lrs.min(MAX_LRS);
        for n in 0..lrs {
            v2.gich_write(GICH_LR0 + 4 * n, 0);
        }
        v2.gich_write(GICH_APR, 0);
        v2.gich_write(GICH_VMCR, 0);
        v2.gich_write(GICH_HCR, ICH_HCR_EN as u32);
        Self::fresh(lrs)
    }

    /// Whether this CPU must reconcile its list registers before the next
    /// entry even if nobody changed its vCPU's interrupts.
    pub fn wants_sync(&self) -> bool {
        self.wants_sync
    }

    /// A maintenance interrupt arrived: list registers drained or ran low.
    pub fn maintenance(&mut self) {
        self.wants_sync = true;
    }

    fn free_lr(&self) -> Option<usize> {
        let free = !self.used & ((1u32 << self.lrs) - 1);
        (free != 0).then(|| free.trailing_zeros() as usize)
    }

    fn take_lr(&mut self, n: usize, intid: u32, value: u64) {
        write_lr(n, value);
        self.owner[n] = intid;
        self.used |= 1 << n;
        let bit = 1 << n;
        self.eoi = if value & (LR_EOI | LR_HW) == LR_EOI {
            self.eoi | bit
        } else {
            self.eoi & !bit
        };
        self.hw = if value & LR_HW != 0 {
            self.hw | bit
        } else {
            self.hw & !bit
        };
    }

    fn release_lr(&mut self, n: usize) {
        write_lr(n, 0);
        let bit = !(1u32 << n);
        self.used &= bit;
        self.eoi &= bit;
        self.hw &= bit;
    }

    /// Give drained list registers back to the model: those the guest
    /// finished with (empty, or empty with EOI maintenance pending).
    fn release_drained(&mut self, vgic: &mut Vgic, vcpu: usize) {
        for n in intids(u128::from(self.drained())) {
            let n = n as usize;
            vgic.lr_drained(vcpu, self.owner[n]);
            self.release_lr(n);
        }
    }

    /// Apply the model's requests to the list registers that hold the
    /// interrupts named in `work`.
    fn apply(&mut self, work: LrWork, vgic: &mut Vgic, vcpu: usize) {
        let all = work.all();
        for n in intids(u128::from(self.used)) {
            let n = n as usize;
            let intid = self.owner[n];
            let bit = 1u128 << intid;
            if all & bit == 0 {
                continue;
            }
            let value = read_lr(n);
            let hw = value & LR_HW != 0;
            let mut state = value & LR_STATE;
            // A hardware-linked entry's pending state belongs to the
            // hardware: only its active state is the guest's to clear.
            if work.add_pending & bit != 0 && !hw {
                state |= LR_PENDING;
            }
            if work.clear_pending & bit != 0 && !hw {
                state &= !LR_PENDING;
            }
            if work.set_active & bit != 0 && !hw {
                state |= LR_ACTIVE;
            }
            if work.clear_active & bit != 0 {
                state &= !LR_ACTIVE;
            }
            if state == 0 {
                if hw {
                    // The guest deactivated it by register: so must we.
                    deactivate(((value >> LR_PINTID_SHIFT) & 0x3ff) as u32);
                }
                vgic.lr_drained(vcpu, intid);
                self.release_lr(n);
            } else {
                write_lr(n, (value & !LR_STATE) | state);
                vgic.lr_state(vcpu, intid, state & LR_PENDING != 0, state & LR_ACTIVE != 0);
            }
        }
    }

    /// Record the live state of this CPU's list registers in the model, so
    /// a guest read of the pending/active registers sees it.
    pub fn snapshot(&self, vgic: &mut Vgic, vcpu: usize) {
        for n in intids(u128::from(self.used)) {
            let value = read_lr(n as usize);
            vgic.lr_state(
                vcpu,
                self.owner[n as usize],
                value & LR_PENDING != 0,
                value & LR_ACTIVE != 0,
            );
        }
    }

    fn place_hw(&mut self, vgic: &mut Vgic, vcpu: usize, intid: u32) -> bool {
        let Some(n) = self.free_lr() else {
            return false;
        };
        let entry = LrEntry {
            intid,
            priority: vgic.priority(vcpu, intid),
            // The group the guest gave it: a GICv2 guest that enabled only
            // group 0 would never see a group-1 timer.
            group1: vgic.is_group1(vcpu, intid),
            level: false,
        };
        let value = lr_value(&entry) | LR_HW | (u64::from(intid) << LR_PINTID_SHIFT);
        self.take_lr(n, intid, value);
        vgic.list_hw(vcpu, intid);
        true
    }

    /// Reconcile the list registers with the vGIC: drained ones release
    /// their interrupt, the model's requests and latched edges are applied
    /// to the interrupts still listed, free ones take the most urgent
    /// pending interrupts, and if some still wait, ask for a maintenance
    /// interrupt when the list registers run low.
    pub fn sync(&mut self, vgic: &mut Vgic, vcpu: usize) {
        self.wants_sync = false;
        self.release_drained(vgic, vcpu);
        let work = vgic.take_lr_work(vcpu);
        if !work.is_empty() {
            self.apply(work, vgic, vcpu);
        }
        for intid in FORWARDED {
            if self.hw_waiting & (1 << intid) != 0 && self.place_hw(vgic, vcpu, intid) {
                self.hw_waiting &= !(1 << intid);
            }
        }
        let free = self.lrs - self.used.count_ones() as usize;
        if free > 0 {
            for entry in vgic.take_pending(vcpu, free) {
                if let Some(n) = self.free_lr() {
                    self.take_lr(n, entry.intid, lr_value(&entry));
                }
            }
        }
        let hcr = if self.hw_waiting != 0 || vgic.has_pending(vcpu) {
            ICH_HCR_EN | ICH_HCR_UIE
        } else {
            ICH_HCR_EN
        };
        if hcr != self.hcr {
            write_hcr(hcr);
            self.hcr = hcr;
        }
    }

    /// List registers the guest finished with (empty, or empty with EOI
    /// maintenance pending) that the model does not know about yet.
    fn drained(&self) -> u32 {
        if self.used == 0 {
            return 0;
        }
        empty_and_eoi(self.eoi != 0) & self.used
    }

    /// Whether list registers drained since the last sync.
    pub fn has_drained(&self) -> bool {
        self.drained() != 0
    }

    /// Whether the guest has an interrupt to take: a list register in the
    /// pending state, or a forwarded timer waiting for one.
    pub fn guest_has_interrupt(&self) -> bool {
        self.hw_waiting != 0
            || intids(u128::from(self.used & !self.drained()))
                .any(|n| read_lr(n as usize) & LR_PENDING != 0)
    }

    /// A forwarded timer PPI fired (acknowledged and priority-dropped):
    /// list it with the HW bit, so the guest's deactivation deactivates it,
    /// or keep it active until a list register frees up.
    pub fn forward(&mut self, vgic: &mut Vgic, vcpu: usize, intid: u32) {
        // The guest may have finished with its previous activation without
        // an exit since: its list register is free again.
        self.release_drained(vgic, vcpu);
        if !vgic.is_enabled(vcpu, intid) || vgic.is_listed(vcpu, intid) {
            // The guest disabled it as it fired (its physical enable is
            // being turned off too), or it is still listed: let it go.
            deactivate(intid);
            return;
        }
        if !self.place_hw(vgic, vcpu, intid) {
            self.hw_waiting |= 1 << intid;
            self.wants_sync = true;
        }
    }

    /// The vCPU is going away (CPU_OFF, reset): hand everything listed
    /// back to the model with the state it had, and deactivate the
    /// forwarded timers.
    pub fn evict_all(&mut self, vgic: &mut Vgic, vcpu: usize) {
        for n in intids(u128::from(self.used)) {
            let n = n as usize;
            let value = read_lr(n);
            let hw = value & LR_HW != 0;
            if hw {
                deactivate(self.owner[n]);
            }
            vgic.unlist(
                vcpu,
                self.owner[n],
                value & LR_PENDING != 0 && !hw,
                value & LR_ACTIVE != 0 && !hw,
            );
            self.release_lr(n);
        }
        for intid in intids(u128::from(self.hw_waiting)) {
            deactivate(intid);
        }
        self.hw_waiting = 0;
        write_hcr(0);
        self.hcr = 0;
    }
}

/// A snapshot of this CPU's list registers and maintenance state, for
/// diagnostics.
#[derive(Debug)]
// Read through Debug, in interrupt-storm reports.
#[allow(dead_code)]
pub struct LrReport {
    /// INTIDs held, by list register.
    pub owner: [u32; MAX_LRS],
    /// List registers in use / with EOI maintenance / hardware-linked.
    pub used: u32,
    /// See `used`.
    pub eoi: u32,
    /// See `used`.
    pub hw: u32,
    /// Forwarded timers waiting for a list register.
    pub hw_waiting: u32,
    /// ICH_HCR_EL2, ICH_MISR_EL2, ICH_ELRSR_EL2, ICH_EISR_EL2.
    pub hcr: u64,
    /// See `hcr`.
    pub misr: u64,
    /// See `hcr`.
    pub elrsr: u64,
    /// See `hcr`.
    pub eisr: u64,
    /// The list registers' values.
    pub lrs: [u64; MAX_LRS],
}

impl CpuGic {
    /// What this CPU's list registers hold now.
    pub fn report(&self) -> LrReport {
        let mut lrs = [0; MAX_LRS];
        for (n, v) in lrs.iter_mut().enumerate().take(self.lrs) {
            *v = read_lr(n);
        }
        let control = control_registers();
        LrReport {
            owner: self.owner,
            used: self.used,
            eoi: self.eoi,
            hw: self.hw,
            hw_waiting: self.hw_waiting,
            hcr: control[0],
            misr: control[1],
            elrsr: control[2],
            eisr: control[3],
            lrs,
        }
    }
}

/// Acknowledge the highest-priority physical interrupt (group 1; on a
/// GICv2 host whichever group the host uses).
pub fn acknowledge() -> u32 {
    if let Some(v2) = V2::get() {
        let iar = v2.gicc_read(GICC_IAR);
        V2_LAST_IAR[this_cpu_slot()].store(iar as usize, Ordering::Relaxed);
        return iar & 0x3ff;
    }
    (sysreg_read!("S3_0_C12_C12_0") & 0xff_ffff) as u32 // ICC_IAR1_EL1
}

/// The value a GICv2 EOIR/DIR write for `intid` needs: an SGI this CPU
/// just acknowledged keeps its source CPU field.
fn v2_id(intid: u32) -> u32 {
    let last = V2_LAST_IAR[this_cpu_slot()].load(Ordering::Relaxed) as u32;
    if intid < 16 && last & 0x3ff == intid {
        last & 0x1fff
    } else {
        intid
    }
}

/// Priority drop (EOImode 1: not a deactivation).
pub fn end_of_interrupt(intid: u32) {
    if let Some(v2) = V2::get() {
        v2.gicc_write(GICC_EOIR, v2_id(intid));
        return;
    }
    sysreg_write!("S3_0_C12_C12_1", u64::from(intid)); // ICC_EOIR1_EL1
}

/// Deactivate a physical interrupt of this CPU.
pub fn deactivate(intid: u32) {
    if let Some(v2) = V2::get() {
        v2.gicc_write(GICC_DIR, v2_id(intid));
        return;
    }
    sysreg_write!("S3_0_C12_C11_1", u64::from(intid)); // ICC_DIR_EL1
}

//! The physical GICv3 as hv uses it at EL2, and the virtual CPU interface
//! (ICH_* registers) through which the guest's interrupts are delivered.
//!
//! hv takes two physical interrupts itself: the EL1 virtual timer (PPI 27,
//! forwarded to the guest with the list register's HW bit, so the guest's
//! deactivation deactivates the physical interrupt) and the vGIC
//! maintenance interrupt (PPI 25). Everything else the guest sees is purely
//! virtual. EOImode = 1: hv drops priority itself and leaves deactivation
//! of the forwarded timer to the guest.

use core::arch::asm;
use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{AtomicUsize, Ordering};
use hv_core::devices::gicv3::{LrEntry, Vgic};

/// PPI of the EL1 virtual timer.
pub const VTIMER_INTID: u32 = 27;
/// PPI of the GIC maintenance interrupt.
pub const MAINTENANCE_INTID: u32 = 25;
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

/// ICH_LR state bits.
const LR_PENDING: u64 = 1 << 62;
const LR_HW: u64 = 1 << 61;
const LR_GROUP1: u64 = 1 << 60;

fn lr_value(e: &LrEntry) -> u64 {
    LR_PENDING
        | (u64::from(e.group1) * LR_GROUP1)
        | (u64::from(e.priority) << 48)
        | u64::from(e.intid)
}

/// ICH_HCR_EL2 bits.
const ICH_HCR_EN: u64 = 1 << 0;
const ICH_HCR_UIE: u64 = 1 << 1;

/// GICR offsets.
const GICR_TYPER: usize = 0x0008;
const GICR_WAKER: usize = 0x0014;
const GICR_SGI: usize = 0x1_0000;
const GICR_FRAME: usize = 0x2_0000;
const GICR_IGROUPR0: usize = GICR_SGI + 0x0080;
const GICR_ISENABLER0: usize = GICR_SGI + 0x0100;
const GICR_IPRIORITYR: usize = GICR_SGI + 0x0400;
const GICD_CTLR: usize = 0x0000;

/// Physical GIC frames, from the DTB (set once by the boot CPU).
static GICD: AtomicUsize = AtomicUsize::new(0);
static GICR: AtomicUsize = AtomicUsize::new(0);

/// Record where the machine's GIC is.
pub fn configure(gicd: usize, gicr: usize) {
    GICD.store(gicd, Ordering::Release);
    GICR.store(gicr, Ordering::Release);
}

/// Send physical SGI `intid` (group 1) to the CPU with MPIDR `mpidr`.
pub fn send_sgi(mpidr: u64, intid: u32) {
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
    let n = intid as usize;
    let bit = 1u32 << (intid % 32);
    let word = 4 * (n / 32);
    mmio_write32(gicd + 0x80 + word, mmio_read32(gicd + 0x80 + word) | bit); // IGROUPR
    let prio = gicd + 0x400 + (n & !3);
    let shift = 8 * (intid % 4);
    mmio_write32(
        prio,
        (mmio_read32(prio) & !(0xff << shift)) | (0xa0 << shift),
    ); // IPRIORITYR
       // IROUTER has MPIDR's affinity layout (Aff3 at [39:32]), minus bit 31.
    let route = mpidr & 0xff_00ff_ffff;
    // SAFETY: GICD_IROUTER<n> is a 64-bit register of the distributor frame.
    unsafe { write_volatile((gicd + 0x6000 + 8 * n) as *mut u64, route) };
    mmio_write32(gicd + 0x100 + word, bit); // ISENABLER
}

/// This CPU's view of the GIC: its list registers and who holds them.
#[derive(Debug)]
pub struct CpuGic {
    lrs: usize,
    owner: [Option<u32>; MAX_LRS],
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

fn mmio_read32(addr: usize) -> u32 {
    // SAFETY: callers pass addresses inside the GIC frames named by the DTB,
    // which are 32-bit device registers (MMU off: device memory).
    unsafe { read_volatile(addr as *const u32) }
}

fn mmio_write32(addr: usize, v: u32) {
    // SAFETY: as for mmio_read32.
    unsafe { write_volatile(addr as *mut u32, v) }
}

fn mmio_read64(addr: usize) -> u64 {
    // SAFETY: as for mmio_read32; GICR_TYPER is a 64-bit register.
    unsafe { read_volatile(addr as *const u64) }
}

impl CpuGic {
    /// [`CpuGic::init`] with the frames recorded by [`configure`].
    pub fn init_cpu(mpidr: u64) -> Result<Self, GicError> {
        let (gicd, gicr) = (GICD.load(Ordering::Acquire), GICR.load(Ordering::Acquire));
        if gicd == 0 || gicr == 0 {
            return Err(GicError::NoRedistributor);
        }
        Self::init(gicd, gicr, mpidr)
    }

    /// Prepare the physical GIC and this CPU's virtual interface: wake our
    /// redistributor, enable the timer and maintenance PPIs and the kick SGI in group 1,
    /// enable group 1 in the distributor, turn on the system-register CPU
    /// interface with EOImode 1, and switch on the virtual CPU interface.
    pub fn init(gicd: usize, gicr: usize, mpidr: u64) -> Result<Self, GicError> {
        // GICR_TYPER.Affinity is Aff3.Aff2.Aff1.Aff0; MPIDR keeps Aff3 at [39:32].
        let aff = ((mpidr >> 8) & 0xff00_0000) | (mpidr & 0xff_ffff);
        let mut frame = gicr;
        let rd = loop {
            let typer = mmio_read64(frame + GICR_TYPER);
            if typer >> 32 == aff & 0xffff_ffff {
                break frame;
            }
            if typer & (1 << 4) != 0 {
                return Err(GicError::NoRedistributor);
            }
            frame += GICR_FRAME;
        };
        let waker = mmio_read32(rd + GICR_WAKER);
        mmio_write32(rd + GICR_WAKER, waker & !(1 << 1));
        while mmio_read32(rd + GICR_WAKER) & (1 << 2) != 0 {
            core::hint::spin_loop();
        }
        let mine = (1 << VTIMER_INTID) | (1 << MAINTENANCE_INTID) | (1 << super::guest::KICK_SGI);
        mmio_write32(rd + GICR_IGROUPR0, mmio_read32(rd + GICR_IGROUPR0) | mine);
        for intid in [VTIMER_INTID, MAINTENANCE_INTID, super::guest::KICK_SGI] {
            let at = rd + GICR_IPRIORITYR + (intid as usize & !3);
            let shift = 8 * (intid % 4);
            let v = mmio_read32(at) & !(0xff << shift);
            mmio_write32(at, v | (0xa0 << shift));
        }
        mmio_write32(rd + GICR_ISENABLER0, mine);
        // ARE and EnableGrp1 (bit positions agree in both security views).
        let ctlr = mmio_read32(gicd + GICD_CTLR);
        mmio_write32(gicd + GICD_CTLR, ctlr | (1 << 4) | (1 << 1));
        while mmio_read32(gicd + GICD_CTLR) & (1 << 31) != 0 {
            core::hint::spin_loop();
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
        Ok(CpuGic {
            lrs,
            owner: [None; MAX_LRS],
        })
    }

    /// Reconcile the list registers with the vGIC: drained ones release
    /// their interrupt, free ones take the most urgent pending interrupts,
    /// and if some still wait, ask for a maintenance interrupt when the list
    /// registers run empty.
    pub fn sync(&mut self, vgic: &mut Vgic, vcpu: usize) {
        let empty = sysreg_read!("S3_4_C12_C11_5"); // ICH_ELRSR_EL2
        for n in 0..self.lrs {
            if empty & (1 << n) != 0 {
                if let Some(intid) = self.owner[n].take() {
                    vgic.lr_drained(vcpu, intid);
                }
            }
        }
        let free = self.owner[..self.lrs]
            .iter()
            .filter(|o| o.is_none())
            .count();
        for entry in vgic.take_pending(vcpu, free) {
            if let Some(n) = self.owner[..self.lrs].iter().position(Option::is_none) {
                write_lr(n, lr_value(&entry));
                self.owner[n] = Some(entry.intid);
            }
        }
        let hcr = if vgic.has_pending(vcpu) {
            ICH_HCR_EN | ICH_HCR_UIE
        } else {
            ICH_HCR_EN
        };
        sysreg_write!("S3_4_C12_C11_0", hcr);
    }

    /// Whether a list register holds something for the guest.
    pub fn guest_has_interrupt(&self) -> bool {
        self.owner[..self.lrs].iter().any(Option::is_some)
    }

    /// Forward the physical virtual-timer interrupt (already acknowledged
    /// and priority-dropped) to the guest with the HW bit, so the guest's
    /// deactivation deactivates it. Returns false if no list register is
    /// free (the caller deactivates it and it fires again later).
    pub fn forward_timer(&mut self, vgic: &mut Vgic, vcpu: usize) -> bool {
        let Some(n) = self.owner[..self.lrs].iter().position(Option::is_none) else {
            return false;
        };
        let entry = LrEntry {
            intid: VTIMER_INTID,
            priority: vgic.priority(vcpu, VTIMER_INTID),
            group1: true,
        };
        write_lr(
            n,
            lr_value(&entry) | LR_HW | (u64::from(VTIMER_INTID) << 32),
        );
        self.owner[n] = Some(VTIMER_INTID);
        vgic.set_in_lr(vcpu, VTIMER_INTID);
        true
    }
}

/// Acknowledge the highest-priority physical group-1 interrupt.
pub fn acknowledge() -> u32 {
    (sysreg_read!("S3_0_C12_C12_0") & 0xff_ffff) as u32 // ICC_IAR1_EL1
}

/// Priority drop (EOImode 1: not a deactivation).
pub fn end_of_interrupt(intid: u32) {
    sysreg_write!("S3_0_C12_C12_1", u64::from(intid)); // ICC_EOIR1_EL1
}

/// Deactivate a physical interrupt hv handled itself.
pub fn deactivate(intid: u32) {
    sysreg_write!("S3_0_C12_C11_1", u64::from(intid)); // ICC_DIR_EL1
}

/// Mask the EL1 virtual timer's output (CNTV_CTL_EL0.IMASK), for a guest
/// that armed the timer without enabling its interrupt.
pub fn mask_vtimer() {
    let ctl: u64;
    // SAFETY: the EL1 virtual timer control belongs to the guest on this
    // CPU; setting IMASK only silences its interrupt output.
    unsafe {
        asm!("mrs {}, cntv_ctl_el0", out(reg) ctl, options(nomem, nostack));
        asm!("msr cntv_ctl_el0, {}", in(reg) ctl | 0b10, options(nomem, nostack));
    }
}

//! An emulated GICv3 CPU interface (the `ICC_*_EL1` system registers) on top
//! of the [`Vgic`] distributor/redistributor model, for homes without a
//! hardware virtual CPU interface (hv-sim's interpreter reaches it through
//! `CpuBus::sysreg_read`/`sysreg_write`).
//!
//! The [`Vgic`] was built for list registers: an interrupt "in a list
//! register" is, for this model, one the guest has acknowledged and not yet
//! deactivated. Acknowledge ([`ICC_IAR1_EL1`]) marks the interrupt with
//! [`Vgic::set_in_lr`]; deactivation (EOIR with EOImode 0, or DIR with
//! EOImode 1) calls [`Vgic::lr_drained`].
//!
//! Scope: group 1 only (what Linux and the test guests use; group 0
//! registers read as "nothing pending"), one security state, 5 priority bits
//! (as QEMU's GICv3), no LPIs, the binary point honoured for preemption.

use super::gicv3::Vgic;
use crate::arch::aarch64::sgi;
use crate::translate::sysreg::SysRegEnc;
use alloc::vec::Vec;

/// `ICC_PMR_EL1`.
pub const ICC_PMR_EL1: SysRegEnc = SysRegEnc::new(3, 0, 4, 6, 0);
/// `ICC_IAR0_EL1`.
pub const ICC_IAR0_EL1: SysRegEnc = SysRegEnc::new(3, 0, 12, 8, 0);
/// `ICC_EOIR0_EL1`.
pub const ICC_EOIR0_EL1: SysRegEnc = SysRegEnc::new(3, 0, 12, 8, 1);
/// `ICC_HPPIR0_EL1`.
pub const ICC_HPPIR0_EL1: SysRegEnc = SysRegEnc::new(3, 0, 12, 8, 2);
/// `ICC_BPR0_EL1`.
pub const ICC_BPR0_EL1: SysRegEnc = SysRegEnc::new(3, 0, 12, 8, 3);
/// `ICC_AP0R0_EL1`.
pub const ICC_AP0R0_EL1: SysRegEnc = SysRegEnc::new(3, 0, 12, 8, 4);
/// `ICC_AP1R0_EL1`.
pub const ICC_AP1R0_EL1: SysRegEnc = SysRegEnc::new(3, 0, 12, 9, 0);
/// `ICC_DIR_EL1`.
pub const ICC_DIR_EL1: SysRegEnc = SysRegEnc::new(3, 0, 12, 11, 1);
/// `ICC_RPR_EL1`.
pub const ICC_RPR_EL1: SysRegEnc = SysRegEnc::new(3, 0, 12, 11, 3);
/// `ICC_SGI1R_EL1`.
pub const ICC_SGI1R_EL1: SysRegEnc = SysRegEnc::new(3, 0, 12, 11, 5);
/// `ICC_ASGI1R_EL1`.
pub const ICC_ASGI1R_EL1: SysRegEnc = SysRegEnc::new(3, 0, 12, 11, 6);
/// `ICC_SGI0R_EL1`.
pub const ICC_SGI0R_EL1: SysRegEnc = SysRegEnc::new(3, 0, 12, 11, 7);
/// `ICC_IAR1_EL1`.
pub const ICC_IAR1_EL1: SysRegEnc = SysRegEnc::new(3, 0, 12, 12, 0);
/// `ICC_EOIR1_EL1`.
pub const ICC_EOIR1_EL1: SysRegEnc = SysRegEnc::new(3, 0, 12, 12, 1);
/// `ICC_HPPIR1_EL1`.
pub const ICC_HPPIR1_EL1: SysRegEnc = SysRegEnc::new(3, 0, 12, 12, 2);
/// `ICC_BPR1_EL1`.
pub const ICC_BPR1_EL1: SysRegEnc = SysRegEnc::new(3, 0, 12, 12, 3);
/// `ICC_CTLR_EL1`.
pub const ICC_CTLR_EL1: SysRegEnc = SysRegEnc::new(3, 0, 12, 12, 4);
/// `ICC_SRE_EL1`.
pub const ICC_SRE_EL1: SysRegEnc = SysRegEnc::new(3, 0, 12, 12, 5);
/// `ICC_IGRPEN0_EL1`.
pub const ICC_IGRPEN0_EL1: SysRegEnc = SysRegEnc::new(3, 0, 12, 12, 6);
/// `ICC_IGRPEN1_EL1`.
pub const ICC_IGRPEN1_EL1: SysRegEnc = SysRegEnc::new(3, 0, 12, 12, 7);

/// The INTID that means "no interrupt".
pub const SPURIOUS: u32 = 1023;
/// Implemented priority bits (PRIbits + 1).
const PRI_BITS: u32 = 5;
/// Mask of the implemented priority bits.
const PRI_MASK: u8 = !((1u8 << (8 - PRI_BITS)) - 1);
/// Smallest ICC_BPR1_EL1 value (BPR0's minimum, 7 - PRI_BITS, plus one).
const BPR1_MIN: u8 = 8 - PRI_BITS as u8;
/// Idle running priority.
const IDLE: u8 = 0xff;
/// ICC_CTLR_EL1: CBPR, EOImode (the writable bits).
const CTLR_CBPR: u64 = 1 << 0;
const CTLR_EOIMODE: u64 = 1 << 1;
/// ICC_CTLR_EL1 read-only part: PRIbits = 4, IDbits = 0 (16-bit), A3V = 0.
const CTLR_RO: u64 = ((PRI_BITS as u64) - 1) << 8;
/// ICC_SRE_EL1: SRE, DFB, DIB, all RAO/WI (system registers only).
const SRE: u64 = 0b111;
/// Most nested active interrupts (one per priority level).
const MAX_ACTIVE: usize = 1 << PRI_BITS;

/// One vCPU's CPU interface.
#[derive(Clone, Debug)]
pub struct CpuInterface {
    vcpu: usize,
    pmr: u8,
    bpr1: u8,
    ctlr: u64,
    igrpen1: bool,
    /// Acknowledged interrupts whose priority has not been dropped yet
    /// (INTID, priority), oldest first.
    active: Vec<(u32, u8)>,
}

impl CpuInterface {
    /// The CPU interface of `vcpu`, in reset state: everything masked
    /// (PMR 0), group 1 disabled.
    pub fn new(vcpu: usize) -> Self {
        CpuInterface {
            vcpu,
            pmr: 0,
            bpr1: BPR1_MIN,
            ctlr: 0,
            igrpen1: false,
            active: Vec::new(),
        }
    }

    /// Whether `reg` belongs to the CPU interface.
    pub fn owns(reg: SysRegEnc) -> bool {
        reg == ICC_PMR_EL1
            || (reg.op0() == 3 && reg.op1() == 0 && reg.crn() == 12 && reg.crm() >= 8)
    }

    /// The mask of the group-priority bits for preemption: ICC_BPR1_EL1
    /// value n makes priority[7:n] the group priority (with CBPR, BPR0 + 1,
    /// which is the same minimum).
    fn group_mask(&self) -> u8 {
        let bpr = if self.ctlr & CTLR_CBPR != 0 {
            BPR1_MIN
        } else {
            self.bpr1
        };
        (0xffu16 << bpr) as u8
    }

    /// The running priority: that of the most urgent active interrupt.
    pub fn running_priority(&self) -> u8 {
        self.active.iter().map(|&(_, p)| p).min().unwrap_or(IDLE)
    }

    /// The most urgent enabled, pending group-1 interrupt for this vCPU
    /// (INTID, priority), ignoring PMR and the running priority.
    pub fn highest_pending(&self, vgic: &Vgic) -> Option<(u32, u8)> {
        vgic.highest_pending_group1(self.vcpu, PRI_MASK)
    }

    /// The interrupt the CPU would take now, if any: group 1 enabled, more
    /// urgent than PMR and than the running group priority.
    fn signalled(&self, vgic: &mut Vgic) -> Option<(u32, u8)> {
        if !self.igrpen1 {
            return None;
        }
        let (intid, prio) = self.highest_pending(vgic)?;
        let mask = self.group_mask();
        let running = self.running_priority();
        let preempts = running == IDLE || (prio & mask) < (running & mask);
        (prio < self.pmr && preempts).then_some((intid, prio))
    }

    /// The level of the vCPU's IRQ input.
    pub fn irq_line(&self, vgic: &mut Vgic) -> bool {
        self.signalled(vgic).is_some()
    }

    /// Acknowledge: the signalled interrupt becomes active, or [`SPURIOUS`].
    fn acknowledge(&mut self, vgic: &mut Vgic) -> u32 {
        match self.signalled(vgic) {
            Some((intid, prio)) if self.active.len() < MAX_ACTIVE => {
                vgic.acknowledge(self.vcpu, intid);
                self.active.push((intid, prio));
                intid
            }
            _ => SPURIOUS,
        }
    }

    /// End of interrupt: priority drop, and deactivation unless EOImode.
    fn end_of_interrupt(&mut self, vgic: &mut Vgic, intid: u32) {
        if intid >= SPURIOUS - 3 {
            return;
        }
        // The EOI should name the most recent acknowledge; a mismatched
        // one is UNPREDICTABLE, and this model drops the named entry.
        if let Some(i) = self.active.iter().rposition(|&(n, _)| n == intid) {
            self.active.remove(i);
            if self.ctlr & CTLR_EOIMODE == 0 {
                vgic.deactivate(self.vcpu, intid);
            }
        }
    }

    /// Generate SGIs from an ICC_SGI1R_EL1 value.
    fn send_sgi(&self, vgic: &mut Vgic, value: u64) {
        let request = sgi::decode(value, self.vcpu, vgic.vcpus());
        for vcpu in request.vcpus() {
            vgic.pulse(vcpu, request.intid);
        }
    }

    /// MRS of a CPU-interface register; `None` for registers that are not
    /// readable (the access is then undefined in the guest).
    pub fn read(&mut self, vgic: &mut Vgic, reg: SysRegEnc) -> Option<u64> {
        Some(match reg {
            ICC_PMR_EL1 => u64::from(self.pmr),
            ICC_IAR1_EL1 => u64::from(self.acknowledge(vgic)),
            ICC_HPPIR1_EL1 => u64::from(self.highest_pending(vgic).map_or(SPURIOUS, |(i, _)| i)),
            ICC_RPR_EL1 => u64::from(self.running_priority()),
            ICC_BPR1_EL1 => {
                if self.ctlr & CTLR_CBPR != 0 {
                    u64::from(BPR1_MIN)
                } else {
                    u64::from(self.bpr1)
                }
            }
            ICC_BPR0_EL1 => u64::from(8 - PRI_BITS - 1),
            ICC_CTLR_EL1 => self.ctlr | CTLR_RO,
            ICC_SRE_EL1 => SRE,
            ICC_IGRPEN1_EL1 => u64::from(self.igrpen1),
            ICC_IGRPEN0_EL1 => 0,
            // Group 0 is not implemented: nothing is ever pending there.
            ICC_IAR0_EL1 | ICC_HPPIR0_EL1 => u64::from(SPURIOUS),
            // Active-priority bitmap: one bit per group priority.
            ICC_AP1R0_EL1 => self
                .active
                .iter()
                .fold(0u64, |acc, &(_, p)| acc | 1 << (p >> (8 - PRI_BITS))),
            ICC_AP0R0_EL1 => 0,
            _ => return None,
        })
    }

    /// MSR to a CPU-interface register; `false` for registers that are not
    /// writable (the access is then undefined in the guest).
    pub fn write(&mut self, vgic: &mut Vgic, reg: SysRegEnc, value: u64) -> bool {
        match reg {
            ICC_PMR_EL1 => self.pmr = value as u8 & PRI_MASK,
            ICC_EOIR1_EL1 => self.end_of_interrupt(vgic, value as u32 & 0xff_ffff),
            ICC_DIR_EL1 => {
                let intid = value as u32 & 0xff_ffff;
                if intid < SPURIOUS - 3 {
                    vgic.deactivate(self.vcpu, intid);
                }
            }
            ICC_SGI1R_EL1 | ICC_ASGI1R_EL1 => self.send_sgi(vgic, value),
            ICC_BPR1_EL1 => {
                if self.ctlr & CTLR_CBPR == 0 {
                    self.bpr1 = (value as u8 & 7).max(BPR1_MIN);
                }
            }
            ICC_CTLR_EL1 => self.ctlr = value & (CTLR_CBPR | CTLR_EOIMODE),
            ICC_IGRPEN1_EL1 => self.igrpen1 = value & 1 != 0,
            // Writes that the model accepts and ignores.
            ICC_SRE_EL1 | ICC_IGRPEN0_EL1 | ICC_BPR0_EL1 | ICC_EOIR0_EL1 | ICC_SGI0R_EL1 => {}
            // Writing zero clears the active priorities (Linux does this
            // at boot); other values are not modelled.
            ICC_AP1R0_EL1 => {
                if value == 0 {
                    self.active.clear();
                }
            }
            ICC_AP0R0_EL1 => {}
            _ => return false,
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::gicv3::SPI_END;
    use super::*;
    use crate::mmio::AccessWidth;
    use AccessWidth::Word;

    /// Distributor and redistributor register offsets the tests write.
    const GICD_CTLR: u64 = 0x0000;
    const IGROUPR: u64 = 0x0080;
    const SGI_BASE: u64 = 0x1_0000;

    const TIMER: u32 = 27;
    const UART: u32 = 33;

    /// Distributor on, redistributor awake, the given interrupts enabled
    /// in group 1 with the given priorities.
    fn gic(irqs: &[(u32, u8)]) -> Vgic {
        let mut v = Vgic::new(1);
        v.dist_write(GICD_CTLR, Word, 0b10);
        v.redist_write(0x14, Word, 0);
        v.redist_write(SGI_BASE + IGROUPR, Word, 0xffff_ffff);
        for w in 1..SPI_END / 32 {
            v.dist_write(IGROUPR + u64::from(w) * 4, Word, 0xffff_ffff);
        }
        for &(intid, prio) in irqs {
            let (en, pr) = (0x100 + u64::from(intid / 32) * 4, 0x400 + u64::from(intid));
            if intid < 32 {
                v.redist_write(SGI_BASE + en, Word, 1 << (intid % 32));
                v.redist_write(SGI_BASE + pr, AccessWidth::Byte, u64::from(prio));
            } else {
                v.dist_write(en, Word, 1 << (intid % 32));
                v.dist_write(pr, AccessWidth::Byte, u64::from(prio));
            }
        }
        v
    }

    fn enabled_cpuif(vgic: &mut Vgic) -> CpuInterface {
        let mut c = CpuInterface::new(0);
        assert!(c.write(vgic, ICC_PMR_EL1, 0xf0));
        assert!(c.write(vgic, ICC_IGRPEN1_EL1, 1));
        c
    }

    #[test]
    fn level_interrupt_is_acknowledged_and_completed() {
        let mut v = gic(&[(TIMER, 0xa0)]);
        let mut c = enabled_cpuif(&mut v);
        assert!(!c.irq_line(&mut v));
        v.set_level(0, TIMER, true);
        assert!(c.irq_line(&mut v));
        assert_eq!(c.read(&mut v, ICC_HPPIR1_EL1), Some(u64::from(TIMER)));
        assert_eq!(c.read(&mut v, ICC_IAR1_EL1), Some(u64::from(TIMER)));
        // Active now: not signalled again, running priority is its own.
        assert!(!c.irq_line(&mut v));
        assert_eq!(c.read(&mut v, ICC_RPR_EL1), Some(0xa0));
        assert_eq!(c.read(&mut v, ICC_IAR1_EL1), Some(u64::from(SPURIOUS)));
        // The handler quiets the device, then EOIs.
        v.set_level(0, TIMER, false);
        assert!(c.write(&mut v, ICC_EOIR1_EL1, u64::from(TIMER)));
        assert_eq!(c.read(&mut v, ICC_RPR_EL1), Some(0xff));
        assert!(!c.irq_line(&mut v));
    }

    #[test]
    fn level_still_high_after_eoi_fires_again() {
        let mut v = gic(&[(TIMER, 0xa0)]);
        let mut c = enabled_cpuif(&mut v);
        v.set_level(0, TIMER, true);
        assert_eq!(c.read(&mut v, ICC_IAR1_EL1), Some(u64::from(TIMER)));
        c.write(&mut v, ICC_EOIR1_EL1, u64::from(TIMER));
        assert!(c.irq_line(&mut v));
    }

    #[test]
    fn pmr_and_group_enable_mask() {
        let mut v = gic(&[(UART, 0xa0)]);
        let mut c = CpuInterface::new(0);
        v.set_level(0, UART, true);
        assert!(!c.irq_line(&mut v), "reset state masks everything");
        c.write(&mut v, ICC_IGRPEN1_EL1, 1);
        assert!(!c.irq_line(&mut v), "PMR 0 masks everything");
        c.write(&mut v, ICC_PMR_EL1, 0xa0);
        assert!(!c.irq_line(&mut v), "priority must be below PMR");
        c.write(&mut v, ICC_PMR_EL1, 0xa8);
        assert!(c.irq_line(&mut v));
        c.write(&mut v, ICC_IGRPEN1_EL1, 0);
        assert!(!c.irq_line(&mut v));
        assert_eq!(c.read(&mut v, ICC_IAR1_EL1), Some(u64::from(SPURIOUS)));
    }

    #[test]
    fn more_urgent_interrupt_preempts_and_nests() {
        let mut v = gic(&[(TIMER, 0xa0), (UART, 0x80), (48, 0xc0)]);
        let mut c = enabled_cpuif(&mut v);
        v.set_level(0, TIMER, true);
        assert_eq!(c.read(&mut v, ICC_IAR1_EL1), Some(u64::from(TIMER)));
        // Less urgent: waits.
        v.pulse(0, 48);
        assert!(!c.irq_line(&mut v));
        // More urgent: preempts.
        v.set_level(0, UART, true);
        assert!(c.irq_line(&mut v));
        assert_eq!(c.read(&mut v, ICC_IAR1_EL1), Some(u64::from(UART)));
        assert_eq!(c.read(&mut v, ICC_RPR_EL1), Some(0x80));
        v.set_level(0, UART, false);
        c.write(&mut v, ICC_EOIR1_EL1, u64::from(UART));
        assert_eq!(c.read(&mut v, ICC_RPR_EL1), Some(0xa0));
        v.set_level(0, TIMER, false);
        c.write(&mut v, ICC_EOIR1_EL1, u64::from(TIMER));
        // Now the edge interrupt gets its turn, once.
        assert_eq!(c.read(&mut v, ICC_IAR1_EL1), Some(48));
        c.write(&mut v, ICC_EOIR1_EL1, 48);
        assert!(!c.irq_line(&mut v));
    }

    #[test]
    fn eoimode_splits_priority_drop_and_deactivation() {
        let mut v = gic(&[(TIMER, 0xa0)]);
        let mut c = enabled_cpuif(&mut v);
        c.write(&mut v, ICC_CTLR_EL1, CTLR_EOIMODE);
        v.set_level(0, TIMER, true);
        assert_eq!(c.read(&mut v, ICC_IAR1_EL1), Some(u64::from(TIMER)));
        c.write(&mut v, ICC_EOIR1_EL1, u64::from(TIMER));
        assert_eq!(c.read(&mut v, ICC_RPR_EL1), Some(0xff));
        // Priority dropped but still active: not offered again.
        assert!(!c.irq_line(&mut v));
        c.write(&mut v, ICC_DIR_EL1, u64::from(TIMER));
        assert!(c.irq_line(&mut v), "line still high after deactivation");
    }

    #[test]
    fn sgi_to_self() {
        let mut v = gic(&[(3, 0x10)]);
        let mut c = enabled_cpuif(&mut v);
        // Target list bit 0 (vCPU 0), INTID 3.
        c.write(&mut v, ICC_SGI1R_EL1, (3 << 24) | 1);
        assert_eq!(c.read(&mut v, ICC_IAR1_EL1), Some(3));
        c.write(&mut v, ICC_EOIR1_EL1, 3);
        assert!(!c.irq_line(&mut v));
        // Other affinity or "all but self" reaches nobody on one vCPU.
        c.write(&mut v, ICC_SGI1R_EL1, (3 << 24) | (1 << 16) | 1);
        c.write(&mut v, ICC_SGI1R_EL1, (3 << 24) | (1 << 40));
        assert!(!c.irq_line(&mut v));
        // RS = 1 names vCPUs 16-31, not vCPU 0 (hv-sim delivered it to
        // vCPU 0 before).
        c.write(&mut v, ICC_SGI1R_EL1, (1 << 44) | (3 << 24) | 1);
        assert!(!c.irq_line(&mut v));
    }

    #[test]
    fn register_access_rules() {
        let mut v = gic(&[]);
        let mut c = CpuInterface::new(0);
        assert_eq!(c.read(&mut v, ICC_SRE_EL1), Some(SRE));
        assert!(c.write(&mut v, ICC_SRE_EL1, 0));
        assert_eq!(c.read(&mut v, ICC_SRE_EL1), Some(SRE));
        assert_eq!(c.read(&mut v, ICC_EOIR1_EL1), None, "write-only");
        assert_eq!(c.read(&mut v, ICC_SGI1R_EL1), None, "write-only");
        assert!(!c.write(&mut v, ICC_IAR1_EL1, 0), "read-only");
        assert!(!c.write(&mut v, ICC_RPR_EL1, 0), "read-only");
        c.write(&mut v, ICC_PMR_EL1, 0xff);
        assert_eq!(c.read(&mut v, ICC_PMR_EL1), Some(0xf8), "5 priority bits");
        c.write(&mut v, ICC_CTLR_EL1, u64::MAX);
        assert_eq!(c.read(&mut v, ICC_CTLR_EL1), Some(0b11 | (4 << 8)));
        assert!(CpuInterface::owns(ICC_IAR1_EL1));
        assert!(CpuInterface::owns(ICC_PMR_EL1));
        assert!(!CpuInterface::owns(SysRegEnc::new(3, 0, 1, 0, 1)));
    }

    #[test]
    fn disabled_or_unrouted_interrupts_are_not_signalled() {
        let mut v = gic(&[(TIMER, 0xa0)]);
        let c = enabled_cpuif(&mut v);
        v.set_level(0, 28, true); // never enabled
        assert!(!c.irq_line(&mut v));
        v.dist_write(GICD_CTLR, Word, 0); // distributor group 1 off
        v.set_level(0, TIMER, true);
        assert!(!c.irq_line(&mut v));
    }
}

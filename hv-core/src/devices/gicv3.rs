//! The guest's GICv3: distributor and redistributors emulated through
//! trapped MMIO, and the bookkeeping that decides which interrupts go into
//! the hardware's list registers. The CPU interface itself is the hardware's
//! virtual CPU interface (ICV_* registers), so this model never sees
//! acknowledge or EOI: it learns an interrupt is finished when its list
//! register drains ([`Vgic::lr_drained`]).
//!
//! One security state (GICD_CTLR.DS = 1), affinity routing always on, no
//! LPIs/ITS. SGIs and PPIs (INTIDs 0-31) are banked per vCPU; SPIs 32..
//! [`SPI_END`] are shared.

use crate::mmio::AccessWidth;
use heapless::Vec as HVec;

/// Number of INTIDs implemented: SGIs, PPIs and 64 SPIs.
pub const SPI_END: u32 = 96;
/// Most vCPUs the model supports.
pub const MAX_VCPUS: usize = 8;
/// Size of one redistributor (RD_base + SGI_base frames).
pub const GICR_FRAME_SIZE: u64 = 0x2_0000;
const SGI_BASE: u64 = 0x1_0000;
const NR_PRIVATE: u32 = 32;

/// Registers shared by distributor and redistributor layouts.
mod reg {
    pub const CTLR: u64 = 0x0000;
    pub const GICD_TYPER: u64 = 0x0004;
    pub const GICD_IIDR: u64 = 0x0008;
    pub const GICR_IIDR: u64 = 0x0004;
    pub const GICR_TYPER: u64 = 0x0008;
    pub const GICR_WAKER: u64 = 0x0014;
    pub const IGROUPR: u64 = 0x0080;
    pub const ISENABLER: u64 = 0x0100;
    pub const ICENABLER: u64 = 0x0180;
    pub const ISPENDR: u64 = 0x0200;
    pub const ICPENDR: u64 = 0x0280;
    pub const ISACTIVER: u64 = 0x0300;
    pub const ICACTIVER: u64 = 0x0380;
    pub const IPRIORITYR: u64 = 0x0400;
    pub const ICFGR: u64 = 0x0c00;
    pub const IROUTER: u64 = 0x6000;
    pub const PIDR2: u64 = 0xffe8;
}

/// GICD_CTLR: EnableGrp0, EnableGrp1, ARE (RAO with DS), DS.
const GICD_CTLR_ENABLE_G0: u32 = 1 << 0;
const GICD_CTLR_ENABLE_G1: u32 = 1 << 1;
const GICD_CTLR_ARE: u32 = 1 << 4;
const GICD_CTLR_DS: u32 = 1 << 6;
/// PIDR2.ArchRev = GICv3.
const PIDR2_GICV3: u32 = 0x3b;
/// Implementer "hv" (JEP106-style value, made up and stable).
const IIDR: u32 = 0x0000_6876;
/// GICR_WAKER bits.
const WAKER_PROCESSOR_SLEEP: u32 = 1 << 1;
const WAKER_CHILDREN_ASLEEP: u32 = 1 << 2;

/// One interrupt's state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Irq {
    enabled: bool,
    pending: bool,
    /// Sitting in a list register (pending or active there).
    in_lr: bool,
    /// Group 1 (Linux puts everything in group 1).
    group1: bool,
    /// Edge-triggered (ICFGR bit set); level otherwise.
    edge: bool,
    /// Input line level, for level-sensitive interrupts.
    level: bool,
    priority: u8,
}

impl Irq {
    /// What the guest sees as "pending" (a level interrupt whose line is
    /// high is pending until it is taken).
    fn is_pending(&self) -> bool {
        self.pending || (!self.edge && self.level)
    }
}

/// An interrupt to place in a list register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LrEntry {
    /// Virtual INTID.
    pub intid: u32,
    /// Priority (GIC encoding, lower is more urgent).
    pub priority: u8,
    /// Group 1 (otherwise group 0).
    pub group1: bool,
}

/// The guest's GICv3.
#[derive(Debug)]
pub struct Vgic {
    vcpus: usize,
    ctlr: u32,
    /// SPIs 32..SPI_END, index intid - 32.
    spis: [Irq; (SPI_END - NR_PRIVATE) as usize],
    /// IROUTER of each SPI (Aff3.Aff2.Aff1.Aff0 / IRM).
    routes: [u64; (SPI_END - NR_PRIVATE) as usize],
    /// SGIs and PPIs per vCPU.
    private: [[Irq; NR_PRIVATE as usize]; MAX_VCPUS],
    /// GICR_WAKER.ProcessorSleep per vCPU.
    asleep: [bool; MAX_VCPUS],
}

impl Vgic {
    /// A GIC for `vcpus` vCPUs (clamped to 1..=MAX_VCPUS), in reset state:
    /// everything disabled, SGIs edge-triggered, PPIs level.
    pub fn new(vcpus: usize) -> Self {
        let mut private = [[Irq::default(); NR_PRIVATE as usize]; MAX_VCPUS];
        for cpu in private.iter_mut() {
            for (i, irq) in cpu.iter_mut().enumerate() {
                irq.edge = i < 16;
            }
        }
        Vgic {
            vcpus: vcpus.clamp(1, MAX_VCPUS),
            ctlr: GICD_CTLR_ARE | GICD_CTLR_DS,
            spis: [Irq::default(); (SPI_END - NR_PRIVATE) as usize],
            routes: [0; (SPI_END - NR_PRIVATE) as usize],
            private,
            asleep: [true; MAX_VCPUS],
        }
    }

    /// Number of vCPUs.
    pub fn vcpus(&self) -> usize {
        self.vcpus
    }

    fn irq(&self, vcpu: usize, intid: u32) -> Option<&Irq> {
        if intid < NR_PRIVATE {
            self.private.get(vcpu)?.get(intid as usize)
        } else {
            self.spis.get(intid.checked_sub(NR_PRIVATE)? as usize)
        }
    }

    fn irq_mut(&mut self, vcpu: usize, intid: u32) -> Option<&mut Irq> {
        if intid < NR_PRIVATE {
            self.private.get_mut(vcpu)?.get_mut(intid as usize)
        } else {
            self.spis.get_mut(intid.checked_sub(NR_PRIVATE)? as usize)
        }
    }

    /// The vCPU an SPI is routed to (only vCPU 0 when routing names none).
    pub fn spi_target(&self, intid: u32) -> usize {
        let route = intid
            .checked_sub(NR_PRIVATE)
            .and_then(|i| self.routes.get(i as usize))
            .copied()
            .unwrap_or(0);
        // Aff0 is the vCPU number in hv's MPIDR scheme.
        let aff0 = (route & 0xff) as usize;
        if aff0 < self.vcpus {
            aff0
        } else {
            0
        }
    }

    /// An edge on `intid` (an SPI, or a PPI/SGI of `vcpu`): it becomes pending.
    pub fn pulse(&mut self, vcpu: usize, intid: u32) {
        if let Some(irq) = self.irq_mut(vcpu, intid) {
            irq.pending = true;
        }
    }

    /// The line of a level-sensitive interrupt changed.
    pub fn set_level(&mut self, vcpu: usize, intid: u32, level: bool) {
        if let Some(irq) = self.irq_mut(vcpu, intid) {
            irq.level = level;
        }
    }

    /// Whether `intid` is enabled for `vcpu`.
    pub fn is_enabled(&self, vcpu: usize, intid: u32) -> bool {
        self.irq(vcpu, intid).is_some_and(|i| i.enabled)
    }

    /// Priority of `intid` as the guest configured it.
    pub fn priority(&self, vcpu: usize, intid: u32) -> u8 {
        self.irq(vcpu, intid).map_or(0xff, |i| i.priority)
    }

    /// Mark `intid` as held in a list register outside this model's
    /// planning (e.g. a hardware-forwarded timer interrupt).
    pub fn set_in_lr(&mut self, vcpu: usize, intid: u32) {
        if let Some(irq) = self.irq_mut(vcpu, intid) {
            irq.in_lr = true;
            irq.pending = false;
        }
    }

    fn group_enabled(&self, irq: &Irq) -> bool {
        if irq.group1 {
            self.ctlr & GICD_CTLR_ENABLE_G1 != 0
        } else {
            self.ctlr & GICD_CTLR_ENABLE_G0 != 0
        }
    }

    /// Up to `free` interrupts for `vcpu`'s list registers, most urgent
    /// first; each is marked as in a list register and no longer pending.
    pub fn take_pending(&mut self, vcpu: usize, free: usize) -> HVec<LrEntry, 16> {
        let mut out: HVec<LrEntry, 16> = HVec::new();
        if vcpu >= self.vcpus {
            return out;
        }
        for _ in 0..free.min(16) {
            let mut best: Option<(u32, u8)> = None;
            for intid in 0..SPI_END {
                if intid >= NR_PRIVATE && self.spi_target(intid) != vcpu {
                    continue;
                }
                let Some(irq) = self.irq(vcpu, intid) else {
                    continue;
                };
                let ready =
                    irq.enabled && irq.is_pending() && !irq.in_lr && self.group_enabled(irq);
                if ready && best.is_none_or(|(_, p)| irq.priority < p) {
                    best = Some((intid, irq.priority));
                }
            }
            let Some((intid, priority)) = best else {
                break;
            };
            let group1 = self.irq(vcpu, intid).is_some_and(|i| i.group1);
            self.set_in_lr(vcpu, intid);
            // Capacity 16 and at most 16 iterations: the push cannot fail.
            let _ = out.push(LrEntry {
                intid,
                priority,
                group1,
            });
        }
        out
    }

    /// Whether anything is waiting for `vcpu` that is not in a list register.
    pub fn has_pending(&self, vcpu: usize) -> bool {
        (0..SPI_END).any(|intid| {
            (intid < NR_PRIVATE || self.spi_target(intid) == vcpu)
                && self.irq(vcpu, intid).is_some_and(|i| {
                    i.enabled && i.is_pending() && !i.in_lr && self.group_enabled(i)
                })
        })
    }

    /// The list register holding `intid` for `vcpu` drained: the guest
    /// handled it. A level interrupt whose line is still high will be
    /// offered again.
    pub fn lr_drained(&mut self, vcpu: usize, intid: u32) {
        if let Some(irq) = self.irq_mut(vcpu, intid) {
            irq.in_lr = false;
        }
    }

    // ---- register files ------------------------------------------------

    /// Bit-per-interrupt register access (enable/pending/active/group).
    fn bits_read(&self, vcpu: usize, first: u32, base: u64) -> u32 {
        let mut v = 0;
        for bit in 0..32 {
            let Some(irq) = self.irq(vcpu, first + bit) else {
                break;
            };
            let set = match base {
                reg::IGROUPR => irq.group1,
                reg::ISENABLER | reg::ICENABLER => irq.enabled,
                reg::ISPENDR | reg::ICPENDR => irq.is_pending() && !irq.in_lr,
                reg::ISACTIVER | reg::ICACTIVER => irq.in_lr,
                _ => false,
            };
            v |= u32::from(set) << bit;
        }
        v
    }

    fn bits_write(&mut self, vcpu: usize, first: u32, base: u64, value: u32) {
        for bit in 0..32 {
            let on = value & (1 << bit) != 0;
            let Some(irq) = self.irq_mut(vcpu, first + bit) else {
                break;
            };
            match base {
                reg::IGROUPR => irq.group1 = on,
                reg::ISENABLER if on => irq.enabled = true,
                reg::ICENABLER if on => irq.enabled = false,
                reg::ISPENDR if on => irq.pending = true,
                reg::ICPENDR if on => irq.pending = false,
                // Active state lives in the list registers; writes ignored.
                _ => {}
            }
        }
    }

    /// Read of the register block shared by GICD (SPIs) and GICR SGI_base
    /// (private interrupts). `first_word` is the INTID/32 of word 0.
    fn irq_regs_read(&self, vcpu: usize, offset: u64, width: AccessWidth, private: bool) -> u64 {
        let base = offset & !0x7f;
        match base {
            reg::IGROUPR
            | reg::ISENABLER
            | reg::ICENABLER
            | reg::ISPENDR
            | reg::ICPENDR
            | reg::ISACTIVER
            | reg::ICACTIVER => {
                if width != AccessWidth::Word {
                    return 0;
                }
                let word = ((offset - base) / 4) as u32;
                if private && word != 0 || !private && word == 0 {
                    return 0; // the other block owns these INTIDs
                }
                u64::from(self.bits_read(vcpu, word * 32, base))
            }
            _ if (reg::IPRIORITYR..reg::IPRIORITYR + 0x400).contains(&offset) => {
                let first = (offset - reg::IPRIORITYR) as u32;
                let mut v = 0u64;
                for i in 0..width.bytes() as u32 {
                    let intid = first + i;
                    if (intid < NR_PRIVATE) == private {
                        v |= u64::from(self.irq(vcpu, intid).map_or(0, |q| q.priority)) << (8 * i);
                    }
                }
                v
            }
            _ if (reg::ICFGR..reg::ICFGR + 0x100).contains(&offset)
                && width == AccessWidth::Word =>
            {
                let first = ((offset - reg::ICFGR) / 4) as u32 * 16;
                let mut v = 0u32;
                for i in 0..16 {
                    let intid = first + i;
                    if (intid < NR_PRIVATE) != private {
                        continue;
                    }
                    if self.irq(vcpu, intid).is_some_and(|q| q.edge) {
                        v |= 2 << (2 * i);
                    }
                }
                u64::from(v)
            }
            _ => 0,
        }
    }

    fn irq_regs_write(
        &mut self,
        vcpu: usize,
        offset: u64,
        width: AccessWidth,
        value: u64,
        private: bool,
    ) {
        let base = offset & !0x7f;
        match base {
            reg::IGROUPR
            | reg::ISENABLER
            | reg::ICENABLER
            | reg::ISPENDR
            | reg::ICPENDR
            | reg::ISACTIVER
            | reg::ICACTIVER => {
                let word = ((offset - base) / 4) as u32;
                if width != AccessWidth::Word || (private && word != 0) || (!private && word == 0) {
                    return;
                }
                self.bits_write(vcpu, word * 32, base, value as u32);
            }
            _ if (reg::IPRIORITYR..reg::IPRIORITYR + 0x400).contains(&offset) => {
                let first = (offset - reg::IPRIORITYR) as u32;
                for i in 0..width.bytes() as u32 {
                    let intid = first + i;
                    if (intid < NR_PRIVATE) == private {
                        if let Some(q) = self.irq_mut(vcpu, intid) {
                            q.priority = (value >> (8 * i)) as u8;
                        }
                    }
                }
            }
            _ if (reg::ICFGR..reg::ICFGR + 0x100).contains(&offset)
                && width == AccessWidth::Word =>
            {
                let first = ((offset - reg::ICFGR) / 4) as u32 * 16;
                for i in 0..16 {
                    let intid = first + i;
                    // SGIs are always edge; only PPIs and SPIs are configurable.
                    if intid < 16 || (intid < NR_PRIVATE) != private {
                        continue;
                    }
                    if let Some(q) = self.irq_mut(vcpu, intid) {
                        q.edge = (value >> (2 * i)) & 2 != 0;
                    }
                }
            }
            _ => {}
        }
    }

    /// A distributor read at `offset` (from GICD_BASE).
    pub fn dist_read(&mut self, offset: u64, width: AccessWidth) -> u64 {
        match offset {
            reg::CTLR if width == AccessWidth::Word => u64::from(self.ctlr),
            reg::GICD_TYPER if width == AccessWidth::Word => {
                // ITLinesNumber = SPI_END/32 - 1; IDbits = 9 (10-bit INTIDs).
                u64::from((SPI_END / 32 - 1) | (9 << 19))
            }
            reg::GICD_IIDR if width == AccessWidth::Word => u64::from(IIDR),
            reg::PIDR2 if width == AccessWidth::Word => u64::from(PIDR2_GICV3),
            o if (reg::IROUTER..reg::IROUTER + 8 * u64::from(SPI_END)).contains(&o) => {
                let n = ((o - reg::IROUTER) / 8) as u32;
                if n < NR_PRIVATE || o % 8 != 0 && width == AccessWidth::Double {
                    return 0;
                }
                let r = self
                    .routes
                    .get((n - NR_PRIVATE) as usize)
                    .copied()
                    .unwrap_or(0);
                match (width, o % 8) {
                    (AccessWidth::Double, 0) => r,
                    (AccessWidth::Word, 0) => r & 0xffff_ffff,
                    (AccessWidth::Word, 4) => r >> 32,
                    _ => 0,
                }
            }
            o if o < 0x1000 => self.irq_regs_read(0, o, width, false),
            _ => 0,
        }
    }

    /// A distributor write.
    pub fn dist_write(&mut self, offset: u64, width: AccessWidth, value: u64) {
        match offset {
            reg::CTLR if width == AccessWidth::Word => {
                // ARE and DS stay set; only the group enables are writable.
                let enables = value as u32 & (GICD_CTLR_ENABLE_G0 | GICD_CTLR_ENABLE_G1);
                self.ctlr = GICD_CTLR_ARE | GICD_CTLR_DS | enables;
            }
            o if (reg::IROUTER..reg::IROUTER + 8 * u64::from(SPI_END)).contains(&o) => {
                let n = ((o - reg::IROUTER) / 8) as u32;
                let Some(r) = n
                    .checked_sub(NR_PRIVATE)
                    .and_then(|i| self.routes.get_mut(i as usize))
                else {
                    return;
                };
                match (width, o % 8) {
                    (AccessWidth::Double, 0) => *r = value,
                    (AccessWidth::Word, 0) => *r = (*r & !0xffff_ffff) | (value & 0xffff_ffff),
                    (AccessWidth::Word, 4) => *r = (*r & 0xffff_ffff) | (value << 32),
                    _ => {}
                }
            }
            o if o < 0x1000 => self.irq_regs_write(0, o, width, value, false),
            _ => {}
        }
    }

    /// A redistributor read at `offset` from GICR_BASE (all vCPUs' frames).
    pub fn redist_read(&mut self, offset: u64, width: AccessWidth) -> u64 {
        let vcpu = (offset / GICR_FRAME_SIZE) as usize;
        if vcpu >= self.vcpus {
            return 0;
        }
        let o = offset % GICR_FRAME_SIZE;
        if o >= SGI_BASE {
            return self.irq_regs_read(vcpu, o - SGI_BASE, width, true);
        }
        match (o, width) {
            (reg::CTLR, AccessWidth::Word) => 0,
            (reg::GICR_IIDR, AccessWidth::Word) => u64::from(IIDR),
            (reg::GICR_TYPER, AccessWidth::Double) | (reg::GICR_TYPER, AccessWidth::Word) => {
                // Affinity = vCPU number in Aff0; Processor_Number; Last.
                let last = u64::from(vcpu + 1 == self.vcpus) << 4;
                let typer = ((vcpu as u64) << 32) | ((vcpu as u64) << 8) | last;
                if width == AccessWidth::Word {
                    typer & 0xffff_ffff
                } else {
                    typer
                }
            }
            (o, AccessWidth::Word) if o == reg::GICR_TYPER + 4 => vcpu as u64,
            (reg::GICR_WAKER, AccessWidth::Word) if self.asleep[vcpu] => {
                u64::from(WAKER_PROCESSOR_SLEEP | WAKER_CHILDREN_ASLEEP)
            }
            (reg::PIDR2, AccessWidth::Word) => u64::from(PIDR2_GICV3),
            _ => 0,
        }
    }

    /// A redistributor write.
    pub fn redist_write(&mut self, offset: u64, width: AccessWidth, value: u64) {
        let vcpu = (offset / GICR_FRAME_SIZE) as usize;
        if vcpu >= self.vcpus {
            return;
        }
        let o = offset % GICR_FRAME_SIZE;
        if o >= SGI_BASE {
            self.irq_regs_write(vcpu, o - SGI_BASE, width, value, true);
        } else if o == reg::GICR_WAKER && width == AccessWidth::Word {
            self.asleep[vcpu] = value as u32 & WAKER_PROCESSOR_SLEEP != 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AccessWidth::{Byte, Double, Word};

    /// Linux's bring-up, reduced: enable the distributor, wake the
    /// redistributor, put everything in group 1.
    fn linux_like(v: &mut Vgic) {
        v.dist_write(reg::CTLR, Word, 0x12);
        v.redist_write(reg::GICR_WAKER, Word, 0);
        v.redist_write(SGI_BASE + reg::IGROUPR, Word, u64::from(u32::MAX));
        for w in 1..3 {
            v.dist_write(reg::IGROUPR + 4 * w, Word, u64::from(u32::MAX));
        }
    }

    #[test]
    fn identifies_as_gicv3_with_96_intids() {
        let mut v = Vgic::new(2);
        assert_eq!(v.dist_read(reg::PIDR2, Word) >> 4 & 0xf, 3);
        assert_eq!(v.dist_read(reg::GICD_TYPER, Word) & 0x1f, 2);
        assert_eq!(
            v.dist_read(reg::CTLR, Word) as u32 & GICD_CTLR_ARE,
            GICD_CTLR_ARE
        );
        assert_eq!(v.redist_read(reg::PIDR2, Word) >> 4 & 0xf, 3);
        // GICR_TYPER: vCPU 1's frame is the last; affinity 1.
        assert_eq!(v.redist_read(reg::GICR_TYPER, Double) & (1 << 4), 0);
        let t1 = v.redist_read(GICR_FRAME_SIZE + reg::GICR_TYPER, Double);
        assert_eq!(t1 >> 32, 1);
        assert_ne!(t1 & (1 << 4), 0);
        assert_eq!(
            v.redist_read(2 * GICR_FRAME_SIZE + reg::GICR_TYPER, Double),
            0
        );
    }

    #[test]
    fn waker_handshake() {
        let mut v = Vgic::new(1);
        assert_eq!(v.redist_read(reg::GICR_WAKER, Word), 6);
        v.redist_write(reg::GICR_WAKER, Word, 0);
        assert_eq!(v.redist_read(reg::GICR_WAKER, Word), 0);
    }

    #[test]
    fn enabled_pending_spi_is_offered_once_by_priority() {
        let mut v = Vgic::new(1);
        linux_like(&mut v);
        v.dist_write(reg::IPRIORITYR + 48, Byte, 0xa0);
        v.dist_write(reg::IPRIORITYR + 33, Byte, 0x80);
        v.dist_write(reg::ISENABLER + 4, Word, (1 << 16) | (1 << 1)); // 48, 33
        v.pulse(0, 48);
        v.set_level(0, 33, true);
        assert!(v.has_pending(0));
        let lrs = v.take_pending(0, 4);
        assert_eq!(
            lrs.iter().map(|e| e.intid).collect::<std::vec::Vec<_>>(),
            [33, 48]
        );
        assert!(lrs.iter().all(|e| e.group1));
        assert!(v.take_pending(0, 4).is_empty(), "already in list registers");
        // 48 (edge) is done after its LR drains; 33 (level, still high) comes back.
        v.lr_drained(0, 48);
        v.lr_drained(0, 33);
        let again = v.take_pending(0, 4);
        assert_eq!(
            again.iter().map(|e| e.intid).collect::<std::vec::Vec<_>>(),
            [33]
        );
    }

    #[test]
    fn disabled_or_group_disabled_interrupts_wait() {
        let mut v = Vgic::new(1);
        v.pulse(0, 50);
        assert!(v.take_pending(0, 4).is_empty(), "not enabled");
        v.dist_write(reg::ISENABLER + 4, Word, 1 << 18);
        v.dist_write(reg::IGROUPR + 4, Word, 1 << 18);
        assert!(
            v.take_pending(0, 4).is_empty(),
            "group 1 disabled in GICD_CTLR"
        );
        v.dist_write(reg::CTLR, Word, 0x2);
        assert_eq!(v.take_pending(0, 4)[0].intid, 50);
        // Once in a list register it reads as active, not pending.
        assert_eq!(v.dist_read(reg::ISACTIVER + 4, Word), 1 << 18);
    }

    #[test]
    fn private_interrupts_are_banked_per_vcpu() {
        let mut v = Vgic::new(2);
        linux_like(&mut v);
        v.redist_write(
            GICR_FRAME_SIZE + SGI_BASE + reg::IGROUPR,
            Word,
            u64::from(u32::MAX),
        );
        v.redist_write(GICR_FRAME_SIZE + SGI_BASE + reg::ISENABLER, Word, 1 << 27);
        assert_eq!(v.redist_read(SGI_BASE + reg::ISENABLER, Word), 0);
        assert_eq!(
            v.redist_read(GICR_FRAME_SIZE + SGI_BASE + reg::ISENABLER, Word),
            1 << 27
        );
        v.set_level(1, 27, true);
        assert!(v.take_pending(0, 4).is_empty());
        assert_eq!(v.take_pending(1, 4)[0].intid, 27);
        // The distributor's word 0 (private INTIDs) is RAZ/WI.
        v.dist_write(reg::ISENABLER, Word, u64::from(u32::MAX));
        assert_eq!(v.dist_read(reg::ISENABLER, Word), 0);
    }

    #[test]
    fn spis_follow_irouter() {
        let mut v = Vgic::new(2);
        linux_like(&mut v);
        v.dist_write(reg::ISENABLER + 4, Word, 1 << 17);
        v.dist_write(reg::IROUTER + 8 * 49, Double, 1);
        v.pulse(0, 49);
        assert!(v.take_pending(0, 4).is_empty());
        assert_eq!(v.take_pending(1, 4)[0].intid, 49);
        assert_eq!(v.dist_read(reg::IROUTER + 8 * 49, Double), 1);
    }

    #[test]
    fn config_bits_and_bad_accesses() {
        let mut v = Vgic::new(1);
        v.dist_write(reg::ICFGR + 12, Word, 0b10 << 2); // INTID 49 edge
        assert_eq!(v.dist_read(reg::ICFGR + 12, Word), 0b10 << 2);
        // SGIs stay edge whatever is written.
        v.redist_write(SGI_BASE + reg::ICFGR, Word, 0);
        assert_eq!(v.redist_read(SGI_BASE + reg::ICFGR, Word), 0xaaaa_aaaa);
        assert_eq!(
            v.dist_read(reg::ISENABLER + 4, Byte),
            0,
            "bit registers are 32-bit only"
        );
        assert_eq!(v.dist_read(0x8000, Word), 0);
        v.dist_write(reg::IROUTER + 8 * 5, Double, 3); // private INTID: ignored
        v.pulse(0, 1000); // beyond the implemented INTIDs: ignored
        assert_eq!(v.redist_read(9 * GICR_FRAME_SIZE, Word), 0);
    }
}

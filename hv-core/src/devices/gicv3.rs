//! The guest's GICv3: distributor and redistributors emulated through
//! trapped MMIO, and the state that decides what each vCPU's CPU interface
//! is offered.
//!
//! Two homes drive it:
//! * hv-kernel delivers through the hardware's list registers. An interrupt
//!   placed in a list register ([`Vgic::take_pending`]) is *listed*: its
//!   pending and active state then live in the list register, and the model
//!   keeps only a snapshot for register reads. A new edge that arrives while
//!   the interrupt is listed stays latched here and is merged into the list
//!   register by the CPU that owns it ([`Vgic::take_lr_work`]), so an SGI
//!   sent again while its previous activation is still in a list register
//!   is never lost. Guest writes to the pending/active registers of a
//!   listed interrupt become requests for that same CPU.
//! * hv-sim emulates the CPU interface itself and calls
//!   [`Vgic::acknowledge`] and [`Vgic::deactivate`].
//!
//! Every change that may alter what a vCPU should be offered sets that
//! vCPU's bit in a dirty mask ([`Vgic::take_dirty`]), so a home looks at a
//! vCPU's interrupts only when something changed.
//!
//! State is kept as bitmaps over INTIDs 0..[`SPI_END`] (one `u128` per
//! property), so "what is deliverable" is a handful of AND/OR operations.
//! One security state (GICD_CTLR.DS = 1), affinity routing always on, no
//! LPIs/ITS. The same state also has a GICv2 distributor view ([`v2`]) for
//! hosts whose GIC is a GICv2. SGIs and PPIs (INTIDs 0-31) are banked per vCPU; SPIs 32..
//! [`SPI_END`] are shared.

use crate::mmio::AccessWidth;
use heapless::Vec as HVec;

pub mod v2;

/// Number of INTIDs implemented: SGIs, PPIs and 64 SPIs.
pub const SPI_END: u32 = 96;
/// Most vCPUs the model supports.
pub const MAX_VCPUS: usize = 8;
/// Size of one redistributor (RD_base + SGI_base frames).
pub const GICR_FRAME_SIZE: u64 = 0x2_0000;
const SGI_BASE: u64 = 0x1_0000;
const NR_PRIVATE: u32 = 32;
const NR_SPI: usize = (SPI_END - NR_PRIVATE) as usize;

/// A set of INTIDs below [`SPI_END`], bit n for INTID n.
pub type IrqSet = u128;
/// The banked INTIDs (SGIs and PPIs).
const PRIVATE: IrqSet = 0xffff_ffff;
/// Every implemented INTID.
const ALL: IrqSet = (1 << SPI_END) - 1;
/// The shared INTIDs.
const SPIS: IrqSet = ALL & !PRIVATE;

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

/// One property of every interrupt of a bank, as bitmaps.
#[derive(Clone, Copy, Debug, Default)]
struct Bits {
    enabled: IrqSet,
    /// Group 1 (Linux puts everything in group 1).
    group1: IrqSet,
    /// Edge-triggered (ICFGR bit set); level otherwise.
    edge: IrqSet,
    /// Input line level, for level-sensitive interrupts.
    level: IrqSet,
    /// Pending latch: an edge, or a write to ISPENDR.
    pending: IrqSet,
    /// Active (acknowledged, not yet deactivated) outside list registers.
    active: IrqSet,
    /// Held in a list register.
    listed: IrqSet,
    /// Last known list-register state of listed interrupts.
    lr_pending: IrqSet,
    lr_active: IrqSet,
    /// Delivered by the home from hardware (a forwarded timer PPI): the
    /// line level is kept for register reads but never offered by the model.
    hw: IrqSet,
}

/// Work for the CPU that holds a vCPU's list registers, on interrupts that
/// are listed there (see [`Vgic::take_lr_work`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LrWork {
    /// Make pending again (a new edge arrived while listed).
    pub add_pending: IrqSet,
    /// The guest cleared the pending state (ICPENDR).
    pub clear_pending: IrqSet,
    /// The guest set the active state (ISACTIVER).
    pub set_active: IrqSet,
    /// The guest cleared the active state (ICACTIVER).
    pub clear_active: IrqSet,
}

impl LrWork {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        (self.add_pending | self.clear_pending | self.set_active | self.clear_active) == 0
    }

    /// Every INTID named.
    pub fn all(&self) -> IrqSet {
        self.add_pending | self.clear_pending | self.set_active | self.clear_active
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
    /// Level-sensitive: the list register should raise a maintenance
    /// interrupt at deactivation so the line is sampled again.
    pub level: bool,
}

/// The guest's GICv3.
#[derive(Debug)]
pub struct Vgic {
    vcpus: usize,
    ctlr: u32,
    /// SGIs and PPIs of each vCPU (bits 0..32 used).
    private: [Bits; MAX_VCPUS],
    /// SPIs (bits 32..SPI_END used).
    spi: Bits,
    private_priority: [[u8; NR_PRIVATE as usize]; MAX_VCPUS],
    spi_priority: [u8; NR_SPI],
    /// IROUTER of each SPI (Aff3.Aff2.Aff1.Aff0 / IRM).
    routes: [u64; NR_SPI],
    /// GICv2 view: ITARGETSR CPU mask of each SPI (see [`v2`]).
    v2_targets: [u8; NR_SPI],
    /// SPIs routed to each vCPU.
    routed: [IrqSet; MAX_VCPUS],
    /// SPIs listed in each vCPU's list registers.
    spi_listed_by: [IrqSet; MAX_VCPUS],
    /// Requests on listed interrupts, per vCPU that lists them.
    requests: [LrWork; MAX_VCPUS],
    /// GICR_WAKER.ProcessorSleep per vCPU.
    asleep: [bool; MAX_VCPUS],
    /// vCPUs whose deliverable set may have changed.
    dirty: u32,
}

/// Iterate over the INTIDs in `set`, lowest first.
pub fn intids(mut set: IrqSet) -> impl Iterator<Item = u32> {
    core::iter::from_fn(move || {
        if set == 0 {
            return None;
        }
        let i = set.trailing_zeros();
        set &= set - 1;
        Some(i)
    })
}

fn bit(intid: u32) -> IrqSet {
    if intid < SPI_END {
        1 << intid
    } else {
        0
    }
}

impl Vgic {
    /// A GIC for `vcpus` vCPUs (clamped to 1..=MAX_VCPUS), in reset state:
    /// everything disabled, SGIs edge-triggered, PPIs level, SPIs routed to
    /// vCPU 0.
    pub fn new(vcpus: usize) -> Self {
        let private = Bits {
            edge: 0xffff,
            ..Bits::default()
        };
        let mut routed = [0; MAX_VCPUS];
        routed[0] = SPIS;
        Vgic {
            vcpus: vcpus.clamp(1, MAX_VCPUS),
            ctlr: GICD_CTLR_ARE | GICD_CTLR_DS,
            private: [private; MAX_VCPUS],
            spi: Bits::default(),
            private_priority: [[0; NR_PRIVATE as usize]; MAX_VCPUS],
            spi_priority: [0; NR_SPI],
            routes: [0; NR_SPI],
            v2_targets: [0; NR_SPI],
            routed,
            spi_listed_by: [0; MAX_VCPUS],
            requests: [LrWork::default(); MAX_VCPUS],
            asleep: [true; MAX_VCPUS],
            dirty: 0,
        }
    }

    /// Number of vCPUs.
    pub fn vcpus(&self) -> usize {
        self.vcpus
    }

    fn valid(&self, vcpu: usize) -> bool {
        vcpu < self.vcpus
    }

    /// The bank holding `intid` for `vcpu` (its private bank for SGIs/PPIs).
    fn bank_mut(&mut self, vcpu: usize, intid: u32) -> Option<&mut Bits> {
        if intid < NR_PRIVATE {
            self.private.get_mut(vcpu).filter(|_| vcpu < self.vcpus)
        } else if intid < SPI_END {
            Some(&mut self.spi)
        } else {
            None
        }
    }

    /// One property of everything `vcpu` sees: its private bank and the
    /// SPIs in `spis`.
    fn view(&self, vcpu: usize, spis: IrqSet, f: fn(&Bits) -> IrqSet) -> IrqSet {
        (f(&self.private[vcpu]) & PRIVATE) | (f(&self.spi) & spis & SPIS)
    }

    /// The vCPUs that must look again when `set` changes for `vcpu`: `vcpu`
    /// itself for private INTIDs, each SPI's target and the vCPU that lists
    /// it.
    fn concerned(&self, vcpu: usize, set: IrqSet) -> u32 {
        let mut mask = 0;
        if set & PRIVATE != 0 && vcpu < self.vcpus {
            mask |= 1 << vcpu;
        }
        let spis = set & SPIS;
        if spis != 0 {
            for v in 0..self.vcpus {
                if (self.routed[v] | self.spi_listed_by[v]) & spis != 0 {
                    mask |= 1 << v;
                }
            }
        }
        mask
    }

    fn mark(&mut self, vcpu: usize, set: IrqSet) {
        self.dirty |= self.concerned(vcpu, set);
    }

    /// vCPUs whose interrupts changed since the last call (bit n: vCPU n),
    /// and forget them.
    pub fn take_dirty(&mut self) -> u32 {
        core::mem::take(&mut self.dirty)
    }

    /// Recompute which vCPU each SPI goes to (Aff0 = vCPU number in hv's
    /// MPIDR scheme; anything else, or IRM, goes to vCPU 0).
    fn reroute(&mut self) {
        let mut routed = [0; MAX_VCPUS];
        for (i, &route) in self.routes.iter().enumerate() {
            let aff0 = (route & 0xff) as usize;
            let target = if route & !0xff == 0 && aff0 < self.vcpus {
                aff0
            } else {
                0
            };
            routed[target] |= 1 << (i as u32 + NR_PRIVATE);
        }
        self.routed = routed;
    }

    /// The vCPU an SPI is routed to.
    pub fn spi_target(&self, intid: u32) -> usize {
        let b = bit(intid) & SPIS;
        (0..self.vcpus)
            .find(|&v| self.routed[v] & b != 0)
            .unwrap_or(0)
    }

    /// An edge on `intid` (an SPI, or a PPI/SGI of `vcpu`): it becomes pending.
    pub fn pulse(&mut self, vcpu: usize, intid: u32) {
        let b = bit(intid);
        if let Some(bank) = self.bank_mut(vcpu, intid) {
            bank.pending |= b;
            self.mark(vcpu, b);
        }
    }

    /// The line of a level-sensitive interrupt changed.
    pub fn set_level(&mut self, vcpu: usize, intid: u32, level: bool) {
        let b = bit(intid);
        let Some(bank) = self.bank_mut(vcpu, intid) else {
            return;
        };
        let old = bank.level & b != 0;
        if level {
            bank.level |= b;
        } else {
            bank.level &= !b;
        }
        let hw = bank.hw & b != 0;
        if old != level && !hw {
            self.mark(vcpu, b);
        }
    }

    /// Declare `intid` of `vcpu` delivered from hardware by the home (or no
    /// longer so): the model keeps its level for register reads but never
    /// offers it from its level.
    pub fn set_hw(&mut self, vcpu: usize, intid: u32, hw: bool) {
        let b = bit(intid) & PRIVATE;
        if let Some(bank) = self.bank_mut(vcpu, intid) {
            if hw {
                bank.hw |= b;
            } else {
                bank.hw &= !b;
            }
        }
    }

    /// Whether `intid` is enabled for `vcpu`.
    pub fn is_enabled(&self, vcpu: usize, intid: u32) -> bool {
        self.valid(vcpu) && self.view(vcpu, SPIS, |b| b.enabled) & bit(intid) != 0
    }

    /// Whether `intid` is in group 1 for `vcpu` (a GICv3 guest puts
    /// everything there; a GICv2 guest usually leaves everything in 0).
    pub fn is_group1(&self, vcpu: usize, intid: u32) -> bool {
        self.valid(vcpu) && self.view(vcpu, SPIS, |b| b.group1) & bit(intid) != 0
    }

    /// Priority of `intid` as the guest configured it.
    pub fn priority(&self, vcpu: usize, intid: u32) -> u8 {
        if intid < NR_PRIVATE {
            self.private_priority
                .get(vcpu)
                .map_or(0xff, |p| p[intid as usize])
        } else {
            self.spi_priority
                .get((intid - NR_PRIVATE) as usize)
                .copied()
                .unwrap_or(0xff)
        }
    }

    fn enabled_groups(&self, group1: IrqSet) -> IrqSet {
        let mut g = 0;
        if self.ctlr & GICD_CTLR_ENABLE_G1 != 0 {
            g |= group1;
        }
        if self.ctlr & GICD_CTLR_ENABLE_G0 != 0 {
            g |= !group1;
        }
        g
    }

    /// What `vcpu` should be offered: enabled, group enabled, routed here,
    /// pending, neither active nor listed.
    pub fn deliverable(&self, vcpu: usize) -> IrqSet {
        if !self.valid(vcpu) {
            return 0;
        }
        let spis = self.routed[vcpu];
        let v = |f: fn(&Bits) -> IrqSet| self.view(vcpu, spis, f);
        let pending = v(|b| b.pending) | (v(|b| b.level) & !v(|b| b.edge) & !v(|b| b.hw));
        pending
            & v(|b| b.enabled)
            & self.enabled_groups(v(|b| b.group1))
            & !v(|b| b.active)
            & !(v(|b| b.listed) | (self.spi.listed & SPIS))
    }

    /// Whether anything is waiting for `vcpu` outside its list registers.
    pub fn has_pending(&self, vcpu: usize) -> bool {
        self.deliverable(vcpu) != 0
    }

    /// The most urgent interrupt in `set` for `vcpu`, comparing priorities
    /// under `mask` (the implemented priority bits); ties go to the lowest
    /// INTID.
    fn most_urgent(&self, vcpu: usize, set: IrqSet, mask: u8) -> Option<(u32, u8)> {
        let mut best: Option<(u32, u8)> = None;
        for intid in intids(set) {
            let p = self.priority(vcpu, intid) & mask;
            if best.is_none_or(|(_, bp)| p < bp) {
                best = Some((intid, p));
            }
        }
        best
    }

    /// The most urgent deliverable group-1 interrupt of `vcpu` (INTID,
    /// priority under `mask`).
    pub fn highest_pending_group1(&self, vcpu: usize, mask: u8) -> Option<(u32, u8)> {
        let group1 = self.view(vcpu, SPIS, |b| b.group1);
        self.most_urgent(vcpu, self.deliverable(vcpu) & group1, mask)
    }

    /// Up to `free` interrupts for `vcpu`'s list registers, most urgent
    /// first; each becomes listed (pending in its list register) and its
    /// pending latch moves there.
    pub fn take_pending(&mut self, vcpu: usize, free: usize) -> HVec<LrEntry, 16> {
        let mut out: HVec<LrEntry, 16> = HVec::new();
        let mut ready = self.deliverable(vcpu);
        for _ in 0..free.min(16) {
            let Some((intid, priority)) = self.most_urgent(vcpu, ready, 0xff) else {
                break;
            };
            let b = bit(intid);
            ready &= !b;
            let spis = self.routed[vcpu];
            let group1 = self.view(vcpu, spis, |x| x.group1) & b != 0;
            let level = self.view(vcpu, spis, |x| x.edge) & b == 0;
            self.list(vcpu, intid);
            // Capacity 16 and at most 16 iterations: the push cannot fail.
            let _ = out.push(LrEntry {
                intid,
                priority,
                group1,
                level,
            });
        }
        out
    }

    /// Mark `intid` as listed (pending) in `vcpu`'s list registers; its
    /// pending latch moves there.
    fn list(&mut self, vcpu: usize, intid: u32) {
        let b = bit(intid);
        if (NR_PRIVATE..SPI_END).contains(&intid) && vcpu < self.vcpus {
            self.spi_listed_by[vcpu] |= b;
        }
        if let Some(bank) = self.bank_mut(vcpu, intid) {
            bank.listed |= b;
            bank.lr_pending |= b;
            bank.lr_active &= !b;
            bank.pending &= !b;
        }
    }

    /// The home placed hardware-forwarded `intid` in a list register of
    /// `vcpu` itself.
    pub fn list_hw(&mut self, vcpu: usize, intid: u32) {
        self.list(vcpu, intid);
    }

    /// Whether `intid` is listed for `vcpu`.
    pub fn is_listed(&self, vcpu: usize, intid: u32) -> bool {
        self.valid(vcpu)
            && (self.view(vcpu, SPIS, |b| b.listed) & bit(intid)) != 0
            && (intid < NR_PRIVATE || self.spi_listed_by[vcpu] & bit(intid) != 0)
    }

    /// Record the state a list register of `vcpu` holds for listed `intid`
    /// (read back by the home), for register reads.
    pub fn lr_state(&mut self, vcpu: usize, intid: u32, pending: bool, active: bool) {
        let b = bit(intid);
        if let Some(bank) = self.bank_mut(vcpu, intid) {
            if bank.listed & b == 0 {
                return;
            }
            bank.lr_pending = if pending {
                bank.lr_pending | b
            } else {
                bank.lr_pending & !b
            };
            bank.lr_active = if active {
                bank.lr_active | b
            } else {
                bank.lr_active & !b
            };
        }
    }

    /// `intid` left `vcpu`'s list registers holding `pending`/`active`
    /// (both false when the guest finished with it): that state comes back
    /// to the model. A level interrupt whose line is still high, or a
    /// latched edge, will be offered again.
    pub fn unlist(&mut self, vcpu: usize, intid: u32, pending: bool, active: bool) {
        let b = bit(intid);
        if intid >= NR_PRIVATE && vcpu < self.vcpus {
            self.spi_listed_by[vcpu] &= !b;
        }
        if let Some(r) = self.requests.get_mut(vcpu) {
            r.add_pending &= !b;
            r.clear_pending &= !b;
            r.set_active &= !b;
            r.clear_active &= !b;
        }
        if let Some(bank) = self.bank_mut(vcpu, intid) {
            bank.listed &= !b;
            bank.lr_pending &= !b;
            bank.lr_active &= !b;
            if pending {
                bank.pending |= b;
            }
            if active {
                bank.active |= b;
            }
            self.mark(vcpu, b);
        }
    }

    /// The list register holding `intid` for `vcpu` drained: the guest
    /// deactivated it.
    pub fn lr_drained(&mut self, vcpu: usize, intid: u32) {
        self.unlist(vcpu, intid, false, false);
    }

    /// What the CPU holding `vcpu`'s list registers must change in them:
    /// edges latched while listed, and the guest's writes to the pending and
    /// active registers of listed interrupts. Taking it moves the latched
    /// edges into the list registers' care.
    pub fn take_lr_work(&mut self, vcpu: usize) -> LrWork {
        if !self.valid(vcpu) {
            return LrWork::default();
        }
        let mine = (self.private[vcpu].listed & PRIVATE) | (self.spi_listed_by[vcpu] & SPIS);
        let latched = self.view(vcpu, SPIS, |b| b.pending) & mine;
        self.private[vcpu].pending &= !(latched & PRIVATE);
        self.spi.pending &= !(latched & SPIS);
        let mut work = core::mem::take(&mut self.requests[vcpu]);
        work.add_pending |= latched;
        work
    }

    /// hv-sim's emulated CPU interface acknowledged `intid`: it becomes
    /// active and its pending latch is consumed.
    pub fn acknowledge(&mut self, vcpu: usize, intid: u32) {
        let b = bit(intid);
        if let Some(bank) = self.bank_mut(vcpu, intid) {
            bank.pending &= !b;
            bank.active |= b;
            self.mark(vcpu, b);
        }
    }

    /// `intid` was deactivated (EOI in EOImode 0, or DIR) by an emulated
    /// CPU interface.
    pub fn deactivate(&mut self, vcpu: usize, intid: u32) {
        let b = bit(intid);
        if let Some(bank) = self.bank_mut(vcpu, intid) {
            bank.active &= !b;
            self.mark(vcpu, b);
        }
    }

    // ---- register files ------------------------------------------------

    /// Bit-per-interrupt register read of the 32 INTIDs from `first`.
    fn bits_read(&self, vcpu: usize, first: u32, base: u64) -> u32 {
        let v = |f: fn(&Bits) -> IrqSet| self.view(vcpu, SPIS, f);
        let set = match base {
            reg::IGROUPR => v(|b| b.group1),
            reg::ISENABLER | reg::ICENABLER => v(|b| b.enabled),
            reg::ISPENDR | reg::ICPENDR => {
                v(|b| b.pending) | (v(|b| b.level) & !v(|b| b.edge)) | v(|b| b.lr_pending)
            }
            reg::ISACTIVER | reg::ICACTIVER => v(|b| b.active) | v(|b| b.lr_active),
            _ => 0,
        };
        (set >> first) as u32
    }

    fn bits_write(&mut self, vcpu: usize, first: u32, base: u64, value: u32) {
        let bank_mask = if first < NR_PRIVATE { PRIVATE } else { SPIS };
        let word = (0xffff_ffff as IrqSet) << first;
        let set = (IrqSet::from(value) << first) & bank_mask & ALL;
        let Some(bank) = self.bank_mut(vcpu, first) else {
            return;
        };
        let listed = bank.listed & set;
        let unlisted = set & !listed;
        match base {
            reg::IGROUPR => bank.group1 = (bank.group1 & !word) | set,
            reg::ISENABLER => bank.enabled |= set,
            reg::ICENABLER => bank.enabled &= !set,
            reg::ISPENDR => bank.pending |= set,
            reg::ICPENDR => bank.pending &= !set,
            reg::ISACTIVER => bank.active |= unlisted,
            reg::ICACTIVER => bank.active &= !unlisted,
            _ => return,
        }
        // Listed interrupts: their state is in a list register, which only
        // the CPU holding it can change.
        if listed != 0 {
            for v in 0..self.vcpus {
                let theirs = if first < NR_PRIVATE {
                    if v == vcpu {
                        listed
                    } else {
                        0
                    }
                } else {
                    listed & self.spi_listed_by[v]
                };
                if theirs == 0 {
                    continue;
                }
                let r = &mut self.requests[v];
                match base {
                    reg::ICPENDR => r.clear_pending |= theirs,
                    reg::ISACTIVER => r.set_active |= theirs,
                    reg::ICACTIVER => r.clear_active |= theirs,
                    _ => {}
                }
            }
        }
        let changed = if base == reg::IGROUPR {
            word & bank_mask
        } else {
            set
        };
        self.mark(vcpu, changed);
    }

    /// Read of the register block shared by GICD (SPIs) and GICR SGI_base
    /// (private interrupts).
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
                if private && word != 0 || !private && word == 0 || word >= SPI_END / 32 {
                    return 0; // the other block owns these INTIDs, or none
                }
                u64::from(self.bits_read(vcpu, word * 32, base))
            }
            _ if (reg::IPRIORITYR..reg::IPRIORITYR + 0x400).contains(&offset) => {
                let first = (offset - reg::IPRIORITYR) as u32;
                let mut v = 0u64;
                for i in 0..width.bytes() as u32 {
                    let intid = first + i;
                    if (intid < NR_PRIVATE) == private && intid < SPI_END {
                        v |= u64::from(self.priority(vcpu, intid)) << (8 * i);
                    }
                }
                v
            }
            _ if (reg::ICFGR..reg::ICFGR + 0x100).contains(&offset)
                && width == AccessWidth::Word =>
            {
                let first = ((offset - reg::ICFGR) / 4) as u32 * 16;
                let edge = self.view(vcpu, SPIS, |b| b.edge);
                let mut v = 0u32;
                for i in 0..16 {
                    let intid = first + i;
                    if (intid < NR_PRIVATE) == private && edge & bit(intid) != 0 {
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
                if width != AccessWidth::Word
                    || (private && word != 0)
                    || (!private && word == 0)
                    || word >= SPI_END / 32
                {
                    return;
                }
                self.bits_write(vcpu, word * 32, base, value as u32);
            }
            _ if (reg::IPRIORITYR..reg::IPRIORITYR + 0x400).contains(&offset) => {
                let first = (offset - reg::IPRIORITYR) as u32;
                for i in 0..width.bytes() as u32 {
                    let intid = first + i;
                    if (intid < NR_PRIVATE) != private || intid >= SPI_END {
                        continue;
                    }
                    let p = (value >> (8 * i)) as u8;
                    if intid < NR_PRIVATE {
                        self.private_priority[vcpu][intid as usize] = p;
                    } else {
                        self.spi_priority[(intid - NR_PRIVATE) as usize] = p;
                    }
                    self.mark(vcpu, bit(intid));
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
                    let edge = (value >> (2 * i)) & 2 != 0;
                    let b = bit(intid);
                    if let Some(bank) = self.bank_mut(vcpu, intid) {
                        bank.edge = if edge { bank.edge | b } else { bank.edge & !b };
                        self.mark(vcpu, b);
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
                self.dirty |= (1u32 << self.vcpus) - 1;
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
                    _ => return,
                }
                // Both the old and the new target must look again.
                self.mark(0, bit(n));
                self.reroute();
                self.mark(0, bit(n));
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

/// Which vCPU's redistributor frame `offset` (from GICR_BASE) falls in, and
/// whether it is the SGI_base frame's pending/active block: the registers
/// whose reads depend on live list-register or timer state.
pub fn redist_state_register(offset: u64) -> Option<usize> {
    let o = offset % GICR_FRAME_SIZE;
    let in_block = (SGI_BASE + reg::ISPENDR..SGI_BASE + reg::IPRIORITYR).contains(&o);
    in_block.then_some((offset / GICR_FRAME_SIZE) as usize)
}

/// Whether a distributor `offset` is in the pending/active block.
pub fn dist_state_register(offset: u64) -> bool {
    (reg::ISPENDR..reg::IPRIORITYR).contains(&offset)
}

/// Whether a redistributor write at `offset` may change the enable state of
/// a private interrupt; returns the vCPU whose frame it is.
pub fn redist_enable_register(offset: u64) -> Option<usize> {
    let o = offset % GICR_FRAME_SIZE;
    let hit = o == SGI_BASE + reg::ISENABLER || o == SGI_BASE + reg::ICENABLER;
    hit.then_some((offset / GICR_FRAME_SIZE) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use AccessWidth::{Byte, Double, Word};

    /// Linux's bring-up, reduced: enable the distributor, wake the
    /// redistributor, put everything in group 1.
    fn linux_like(v: &mut Vgic) {
        v.dist_write(reg::CTLR, Word, 0x12);
        for cpu in 0..v.vcpus() as u64 {
            v.redist_write(cpu * GICR_FRAME_SIZE + reg::GICR_WAKER, Word, 0);
            v.redist_write(
                cpu * GICR_FRAME_SIZE + SGI_BASE + reg::IGROUPR,
                Word,
                u64::from(u32::MAX),
            );
        }
        for w in 1..3 {
            v.dist_write(reg::IGROUPR + 4 * w, Word, u64::from(u32::MAX));
        }
    }

    fn enable_private(v: &mut Vgic, cpu: u64, intid: u32) {
        v.redist_write(
            cpu * GICR_FRAME_SIZE + SGI_BASE + reg::ISENABLER,
            Word,
            1 << intid,
        );
    }

    fn redist(v: &mut Vgic, cpu: u64, r: u64) -> u64 {
        v.redist_read(cpu * GICR_FRAME_SIZE + SGI_BASE + r, Word)
    }

    fn ids(e: &[LrEntry]) -> std::vec::Vec<u32> {
        e.iter().map(|e| e.intid).collect()
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
        v.dist_write(reg::ICFGR + 12, Word, 0b10); // 48 edge, as virtio's are
        v.pulse(0, 48);
        v.set_level(0, 33, true);
        assert!(v.has_pending(0));
        let lrs = v.take_pending(0, 4);
        assert_eq!(ids(&lrs), [33, 48]);
        assert!(lrs.iter().all(|e| e.group1));
        assert!(lrs[0].level, "33 is level: needs EOI maintenance");
        assert!(!lrs[1].level);
        assert!(v.take_pending(0, 4).is_empty(), "already listed");
        // 48 (edge) is done after its LR drains; 33 (level, still high) comes back.
        v.lr_drained(0, 48);
        v.lr_drained(0, 33);
        assert_eq!(ids(&v.take_pending(0, 4)), [33]);
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
        // Listed (pending in the list register): reads as pending.
        assert_eq!(v.dist_read(reg::ISPENDR + 4, Word), 1 << 18);
        // The guest acknowledged it: the home reads the list register back.
        v.lr_state(0, 50, false, true);
        assert_eq!(v.dist_read(reg::ISPENDR + 4, Word), 0);
        assert_eq!(v.dist_read(reg::ISACTIVER + 4, Word), 1 << 18);
    }

    #[test]
    fn private_interrupts_are_banked_per_vcpu() {
        let mut v = Vgic::new(2);
        linux_like(&mut v);
        enable_private(&mut v, 1, 27);
        assert_eq!(redist(&mut v, 0, reg::ISENABLER), 0);
        assert_eq!(redist(&mut v, 1, reg::ISENABLER), 1 << 27);
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
        assert_eq!(v.spi_target(49), 1);
        v.pulse(0, 49);
        assert!(v.take_pending(0, 4).is_empty());
        assert_eq!(v.take_pending(1, 4)[0].intid, 49);
        assert_eq!(v.dist_read(reg::IROUTER + 8 * 49, Double), 1);
        // A route to a vCPU that does not exist falls back to vCPU 0.
        v.dist_write(reg::IROUTER + 8 * 50, Double, 7);
        assert_eq!(v.spi_target(50), 0);
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
        // Words past the implemented INTIDs are RAZ/WI.
        v.dist_write(reg::ISENABLER + 12, Word, u64::from(u32::MAX));
        assert_eq!(v.dist_read(reg::ISENABLER + 12, Word), 0);
        v.dist_write(reg::IROUTER + 8 * 5, Double, 3); // private INTID: ignored
        v.pulse(0, 1000); // beyond the implemented INTIDs: ignored
        v.pulse(5, 3); // a vCPU that does not exist: ignored
        v.set_level(0, 1000, true);
        assert!(!v.has_pending(0));
        assert_eq!(v.redist_read(9 * GICR_FRAME_SIZE, Word), 0);
    }

    /// The lost-SGI scenario: an SGI becomes pending again while its
    /// previous activation is still in a list register. The new edge must
    /// stay latched and reach the CPU that holds the list register.
    #[test]
    fn edge_while_listed_is_handed_to_the_list_register_owner() {
        let mut v = Vgic::new(2);
        linux_like(&mut v);
        enable_private(&mut v, 1, 1);
        v.take_dirty();
        v.pulse(1, 1);
        assert_eq!(v.take_dirty(), 0b10, "vCPU 1 must look");
        assert_eq!(ids(&v.take_pending(1, 4)), [1]);
        // The guest acknowledged it; a second SGI arrives.
        v.lr_state(1, 1, false, true);
        v.pulse(1, 1);
        assert_eq!(v.take_dirty(), 0b10);
        assert!(!v.has_pending(1), "listed: not offered a second time");
        assert_eq!(redist(&mut v, 1, reg::ISPENDR), 1 << 1, "reads pending");
        let work = v.take_lr_work(1);
        assert_eq!(work.add_pending, 1 << 1);
        // Handed over once: the latch is now the list register's business.
        assert!(v.take_lr_work(1).is_empty());
        // If instead the list register had drained before the owner looked,
        // the latched edge is an ordinary pending interrupt again.
        v.pulse(1, 1);
        v.lr_drained(1, 1);
        assert_eq!(ids(&v.take_pending(1, 4)), [1]);
    }

    #[test]
    fn pending_reads_show_a_disabled_level_interrupt_whose_line_is_high() {
        let mut v = Vgic::new(1);
        linux_like(&mut v);
        v.set_hw(0, 27, true);
        v.set_level(0, 27, true);
        assert_eq!(redist(&mut v, 0, reg::ISPENDR), 1 << 27);
        assert!(!v.has_pending(0), "disabled");
        enable_private(&mut v, 0, 27);
        assert!(
            !v.has_pending(0),
            "hardware-forwarded: the home delivers it, not the model"
        );
        // A software-delivered PPI with its line high is offered.
        v.set_level(0, 28, true);
        enable_private(&mut v, 0, 28);
        assert_eq!(ids(&v.take_pending(0, 4)), [28]);
    }

    #[test]
    fn active_state_is_honoured() {
        let mut v = Vgic::new(1);
        linux_like(&mut v);
        enable_private(&mut v, 0, 5);
        // Made active by the guest while not pending: a new SGI waits.
        v.redist_write(SGI_BASE + reg::ISACTIVER, Word, 1 << 5);
        assert_eq!(redist(&mut v, 0, reg::ISACTIVER), 1 << 5);
        v.pulse(0, 5);
        assert!(!v.has_pending(0), "active blocks it");
        assert_eq!(redist(&mut v, 0, reg::ISPENDR), 1 << 5);
        v.redist_write(SGI_BASE + reg::ICACTIVER, Word, 1 << 5);
        assert_eq!(redist(&mut v, 0, reg::ISACTIVER), 0);
        assert_eq!(ids(&v.take_pending(0, 4)), [5]);
        // Listed now: active writes become requests for the owner.
        v.lr_state(0, 5, false, true);
        assert_eq!(redist(&mut v, 0, reg::ISACTIVER), 1 << 5);
        v.redist_write(SGI_BASE + reg::ICACTIVER, Word, 1 << 5);
        v.redist_write(SGI_BASE + reg::ICPENDR, Word, 1 << 5);
        let work = v.take_lr_work(0);
        assert_eq!(work.clear_active, 1 << 5);
        assert_eq!(work.clear_pending, 1 << 5);
        // The owner evicts it with the state it had: pending comes back.
        v.unlist(0, 5, true, false);
        assert_eq!(ids(&v.take_pending(0, 4)), [5]);
    }

    #[test]
    fn emulated_cpu_interface_acknowledges_and_deactivates() {
        let mut v = Vgic::new(1);
        linux_like(&mut v);
        enable_private(&mut v, 0, 27);
        v.set_level(0, 27, true);
        assert_eq!(v.highest_pending_group1(0, 0xf8), Some((27, 0)));
        v.acknowledge(0, 27);
        assert_eq!(v.highest_pending_group1(0, 0xf8), None, "active");
        assert_eq!(redist(&mut v, 0, reg::ISACTIVER), 1 << 27);
        v.deactivate(0, 27);
        assert_eq!(
            v.highest_pending_group1(0, 0xf8),
            Some((27, 0)),
            "line still high"
        );
    }

    #[test]
    fn dirty_mask_names_only_the_vcpus_concerned() {
        let mut v = Vgic::new(3);
        linux_like(&mut v);
        v.take_dirty();
        v.pulse(2, 3);
        assert_eq!(v.take_dirty(), 0b100);
        v.dist_write(reg::IROUTER + 8 * 40, Double, 1);
        assert_eq!(v.take_dirty(), 0b011, "old and new target");
        v.pulse(0, 40);
        assert_eq!(v.take_dirty(), 0b010);
        // An unchanged level is no news.
        v.set_level(1, 33, false);
        assert_eq!(v.take_dirty(), 0);
        v.dist_write(reg::CTLR, Word, 0x2);
        assert_eq!(v.take_dirty(), 0b111);
    }

    #[test]
    fn register_class_helpers() {
        assert_eq!(
            redist_state_register(GICR_FRAME_SIZE + SGI_BASE + reg::ISPENDR),
            Some(1)
        );
        assert_eq!(redist_state_register(SGI_BASE + reg::ISENABLER), None);
        assert!(dist_state_register(reg::ISACTIVER + 4));
        assert!(!dist_state_register(reg::ISENABLER + 4));
        assert_eq!(
            redist_enable_register(2 * GICR_FRAME_SIZE + SGI_BASE + reg::ICENABLER),
            Some(2)
        );
        assert_eq!(redist_enable_register(reg::GICR_WAKER), None);
    }
}

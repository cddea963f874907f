//! An emulated local APIC in xAPIC mode (Intel SDM vol. 3, chapter 11;
//! MMIO at 0xfee00000): the x86 guest's timer, its interrupt priority
//! logic and its IPIs.
//!
//! The home owns time and delivery: it tells the APIC the time with
//! [`Lapic::advance_to`] (nanoseconds), arms its own timer for
//! [`Lapic::next_deadline`], takes [`Lapic::pending_vector`] when the
//! guest can take an interrupt and confirms it with [`Lapic::acknowledge`]
//! (IRR to ISR, as the CPU does when it vectors), routes the IPIs that
//! [`Lapic::take_ipi`] hands out, delivers external interrupts (from
//! the IOAPIC) with [`Lapic::raise`], and passes the EOIs of
//! level-triggered ones back with [`Lapic::take_level_eoi`]. The timer
//! counts at 1 GHz before the
//! divider (one tick per nanosecond, as KVM's APIC bus clock); TSC-deadline
//! mode is not offered (CPUID hides it), so its mode encoding acts as
//! one-shot. Registers are 32 bits wide at 16-byte offsets: other widths
//! and unknown offsets read as 0 and ignore writes, and writes to
//! read-only registers are ignored, so a guest cannot make the model
//! panic.

use crate::mmio::{AccessWidth, MmioDevice};
use heapless::Deque;

/// Register offsets.
mod reg {
    pub const ID: u64 = 0x20;
    pub const VERSION: u64 = 0x30;
    pub const TPR: u64 = 0x80;
    pub const APR: u64 = 0x90;
    pub const PPR: u64 = 0xa0;
    pub const EOI: u64 = 0xb0;
    pub const LDR: u64 = 0xd0;
    pub const DFR: u64 = 0xe0;
    pub const SVR: u64 = 0xf0;
    pub const ISR: u64 = 0x100;
    pub const TMR: u64 = 0x180;
    pub const IRR: u64 = 0x200;
    pub const ESR: u64 = 0x280;
    pub const ICR_LOW: u64 = 0x300;
    pub const ICR_HIGH: u64 = 0x310;
    /// LVT timer; thermal, performance, LINT0 and LINT1 follow at 0x10
    /// steps up to LVT error.
    pub const LVT_TIMER: u64 = 0x320;
    pub const LVT_ERROR: u64 = 0x370;
    pub const TIMER_INITIAL: u64 = 0x380;
    pub const TIMER_CURRENT: u64 = 0x390;
    pub const TIMER_DIVIDE: u64 = 0x3e0;
}

/// Version register: version 0x14 (an integrated APIC), 6 LVT entries.
const VERSION: u32 = 0x0005_0014;
/// LVT mask bit, and the timer's mode field.
const LVT_MASKED: u32 = 1 << 16;
const LVT_TIMER_PERIODIC: u32 = 1 << 17;
/// SVR: APIC software enable.
const SVR_ENABLED: u32 = 1 << 8;
/// ESR: a vector below 16 was sent or received ("illegal vector").
const ESR_SEND_ILLEGAL: u32 = 1 << 5;
const ESR_RECEIVE_ILLEGAL: u32 = 1 << 6;
/// IPIs queued for the home at most (more are dropped with a send error).
const IPI_QUEUE: usize = 8;

/// How an IPI names its targets (ICR destination shorthand).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpiDest {
    /// The APIC(s) the destination field names (physical or logical per
    /// `logical`).
    Field {
        /// Bits 63:56 of the ICR.
        dest: u8,
        /// Logical (else physical) destination mode.
        logical: bool,
    },
    /// Every APIC, this one included.
    AllIncludingSelf,
    /// Every other APIC.
    AllExcludingSelf,
}

/// An IPI for the home to route (a self-IPI is delivered here instead).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipi {
    /// Delivery mode (ICR bits 10:8): 0 fixed, 1 lowest priority, 2 SMI,
    /// 4 NMI, 5 INIT, 6 start-up.
    pub mode: u8,
    /// Vector (the start-up page for SIPIs).
    pub vector: u8,
    /// Targets.
    pub dest: IpiDest,
    /// Level assert (ICR bit 14): an INIT with it clear is the
    /// "INIT level de-assert" that changes nothing.
    pub assert: bool,
}

/// The APIC model.
#[derive(Debug)]
pub struct Lapic {
    id: u8,
    tpr: u32,
    ldr: u32,
    dfr: u32,
    svr: u32,
    irr: [u32; 8],
    isr: [u32; 8],
    tmr: [u32; 8],
    /// Errors latched since the last ESR write, and what ESR reads.
    esr_pending: u32,
    esr: u32,
    icr_low: u32,
    icr_high: u32,
    /// Timer, thermal, perf, LINT0, LINT1, error.
    lvt: [u32; 6],
    timer_initial: u32,
    timer_divide: u32,
    /// When the current count was last loaded (ns), if counting.
    timer_start: Option<u64>,
    now: u64,
    ipis: Deque<Ipi, IPI_QUEUE>,
    /// Level-triggered vectors the guest ended (EOI), for the home to
    /// pass to the I/O APIC.
    level_eois: Deque<u8, IPI_QUEUE>,
}

impl Lapic {
    /// An APIC with `id` in its reset state (software-disabled, every LVT
    /// masked), at time 0.
    pub fn new(id: u8) -> Lapic {
        Lapic {
            id,
            tpr: 0,
            ldr: 0,
            dfr: 0xffff_ffff,
            svr: 0xff,
            irr: [0; 8],
            isr: [0; 8],
            tmr: [0; 8],
            esr_pending: 0,
            esr: 0,
            icr_low: 0,
            icr_high: 0,
            lvt: [LVT_MASKED; 6],
            timer_initial: 0,
            timer_divide: 0,
            timer_start: None,
            now: 0,
            ipis: Deque::new(),
            level_eois: Deque::new(),
        }
    }

    fn enabled(&self) -> bool {
        self.svr & SVR_ENABLED != 0
    }

    /// Nanoseconds per timer tick (the divide configuration: bits 0, 1, 3).
    fn divisor(&self) -> u64 {
        let d = ((self.timer_divide & 8) >> 1) | (self.timer_divide & 3);
        if d == 7 {
            1
        } else {
            2 << d
        }
    }

    /// Nanoseconds from a (re)load of the count to its expiry.
    fn period(&self) -> u64 {
        u64::from(self.timer_initial) * self.divisor()
    }

    fn set_bit(bits: &mut [u32; 8], vector: u8) {
        bits[usize::from(vector >> 5)] |= 1 << (vector & 31);
    }

    fn clear_bit(bits: &mut [u32; 8], vector: u8) {
        bits[usize::from(vector >> 5)] &= !(1 << (vector & 31));
    }

    fn highest(bits: &[u32; 8]) -> Option<u8> {
        (0..8usize)
            .rev()
            .find(|&i| bits[i] != 0)
            .map(|i| (i as u8) * 32 + (31 - bits[i].leading_zeros() as u8))
    }

    /// Processor priority: the higher of TPR and the class of the
    /// highest in-service vector.
    fn ppr(&self) -> u32 {
        let isr_class = Self::highest(&self.isr).map_or(0, |v| u32::from(v) & 0xf0);
        if self.tpr & 0xf0 >= isr_class {
            self.tpr & 0xff
        } else {
            isr_class
        }
    }

    /// An interrupt arrives with `vector` (from an LVT, the IOAPIC or an
    /// IPI). Vectors below 16 are illegal: recorded in ESR, dropped.
    /// `level`: level-triggered (TMR), so its EOI goes back to the IOAPIC.
    pub fn raise(&mut self, vector: u8, level: bool) {
        if vector < 16 {
            self.esr_pending |= ESR_RECEIVE_ILLEGAL;
            return;
        }
        Self::set_bit(&mut self.irr, vector);
        if level {
            Self::set_bit(&mut self.tmr, vector);
        } else {
            Self::clear_bit(&mut self.tmr, vector);
        }
    }

    /// The vector the guest should take now, if any: the highest
    /// requested one above the processor priority (none while the APIC is
    /// software-disabled).
    pub fn pending_vector(&self) -> Option<u8> {
        if !self.enabled() {
            return None;
        }
        let v = Self::highest(&self.irr)?;
        (u32::from(v) & 0xf0 > self.ppr() & 0xf0).then_some(v)
    }

    /// The guest took `vector`: from requested to in service.
    pub fn acknowledge(&mut self, vector: u8) {
        Self::clear_bit(&mut self.irr, vector);
        Self::set_bit(&mut self.isr, vector);
    }

    /// The time is `now` (ns, never going back): a timer that expired
    /// requests its vector (once, however many periods passed: the guest
    /// sees lost ticks, as on a busy host) and a periodic one reloads.
    pub fn advance_to(&mut self, now: u64) {
        self.now = self.now.max(now);
        let Some(start) = self.timer_start else {
            return;
        };
        let period = self.period();
        if period == 0 || self.now < start.saturating_add(period) {
            return;
        }
        let lvt = self.lvt[0];
        if lvt & LVT_MASKED == 0 {
            self.raise(lvt as u8, false);
        }
        self.timer_start = if lvt & LVT_TIMER_PERIODIC != 0 {
            // The reload that follows the last expiry before now.
            let periods = (self.now - start) / period;
            Some(start + periods * period)
        } else {
            None
        };
    }

    /// When the timer next expires (ns), for the home's own timer.
    pub fn next_deadline(&self) -> Option<u64> {
        let start = self.timer_start?;
        let period = self.period();
        (period != 0).then(|| start.saturating_add(period))
    }

    /// The next level-triggered vector the guest ended, for the I/O APIC
    /// ([`super::ioapic::IoApic::eoi`]).
    pub fn take_level_eoi(&mut self) -> Option<u8> {
        self.level_eois.pop_front()
    }

    /// The next IPI for the home to route.
    pub fn take_ipi(&mut self) -> Option<Ipi> {
        self.ipis.pop_front()
    }

    /// Whether this APIC is a target of an interrupt sent to `dest` in
    /// physical or logical destination mode (SDM vol. 3, 11.6.2):
    /// physical names the APIC ID (0xff: all); logical compares `dest`
    /// with LDR's logical ID, as a bit mask in the flat model (DFR model
    /// 0xf) and as cluster (high nibble) plus member mask (low nibble) in
    /// the cluster model (0x0); logical 0xff is everyone.
    pub fn accepts(&self, dest: u8, logical: bool) -> bool {
        if !logical {
            return dest == 0xff || dest == self.id;
        }
        if dest == 0xff {
            return true;
        }
        let mine = (self.ldr >> 24) as u8;
        if self.dfr >> 28 == 0xf {
            mine & dest != 0
        } else {
            mine >> 4 == dest >> 4 && mine & dest & 0xf != 0
        }
    }

    fn current_count(&self) -> u32 {
        let Some(start) = self.timer_start else {
            return 0;
        };
        let ticks = (self.now - start) / self.divisor();
        u64::from(self.timer_initial).saturating_sub(ticks) as u32
    }

    fn send_ipi(&mut self) {
        let low = self.icr_low;
        let mode = ((low >> 8) & 7) as u8;
        let vector = low as u8;
        let dest = match (low >> 18) & 3 {
            0 => IpiDest::Field {
                dest: (self.icr_high >> 24) as u8,
                logical: low & (1 << 11) != 0,
            },
            1 => {
                // Self: delivered here, never routed.
                if mode == 0 {
                    if vector < 16 {
                        self.esr_pending |= ESR_SEND_ILLEGAL;
                    } else {
                        self.raise(vector, false);
                    }
                }
                return;
            }
            2 => IpiDest::AllIncludingSelf,
            _ => IpiDest::AllExcludingSelf,
        };
        if mode == 0 && vector < 16 {
            self.esr_pending |= ESR_SEND_ILLEGAL;
            return;
        }
        let ipi = Ipi {
            mode,
            vector,
            dest,
            assert: low & (1 << 14) != 0,
        };
        if self.ipis.push_back(ipi).is_err() {
            // The home did not drain the queue: report a send error.
            self.esr_pending |= ESR_SEND_ILLEGAL;
        }
    }

    fn read_reg(&self, offset: u64) -> u32 {
        let bank = |bits: &[u32; 8], base: u64| bits[((offset - base) >> 4) as usize & 7];
        match offset {
            reg::ID => u32::from(self.id) << 24,
            reg::VERSION => VERSION,
            reg::TPR => self.tpr,
            reg::APR => 0,
            reg::PPR => self.ppr(),
            reg::LDR => self.ldr,
            reg::DFR => self.dfr,
            reg::SVR => self.svr,
            o if (reg::ISR..reg::ISR + 0x80).contains(&o) => bank(&self.isr, reg::ISR),
            o if (reg::TMR..reg::TMR + 0x80).contains(&o) => bank(&self.tmr, reg::TMR),
            o if (reg::IRR..reg::IRR + 0x80).contains(&o) => bank(&self.irr, reg::IRR),
            reg::ESR => self.esr,
            reg::ICR_LOW => self.icr_low,
            reg::ICR_HIGH => self.icr_high,
            o if (reg::LVT_TIMER..=reg::LVT_ERROR).contains(&o) => {
                self.lvt[((o - reg::LVT_TIMER) >> 4) as usize % 6]
            }
            reg::TIMER_INITIAL => self.timer_initial,
            reg::TIMER_CURRENT => self.current_count(),
            reg::TIMER_DIVIDE => self.timer_divide,
            _ => 0,
        }
    }

    fn write_reg(&mut self, offset: u64, v: u32) {
        match offset {
            reg::ID => self.id = (v >> 24) as u8,
            reg::TPR => self.tpr = v & 0xff,
            reg::EOI => {
                if let Some(vector) = Self::highest(&self.isr) {
                    Self::clear_bit(&mut self.isr, vector);
                    // A level-triggered one is broadcast to the I/O APIC.
                    if self.tmr[usize::from(vector >> 5)] & (1 << (vector & 31)) != 0 {
                        Self::clear_bit(&mut self.tmr, vector);
                        let _ = self.level_eois.push_back(vector);
                    }
                }
            }
            reg::LDR => self.ldr = v & 0xff00_0000,
            reg::DFR => self.dfr = v | 0x0fff_ffff,
            reg::SVR => {
                self.svr = v & 0x13ff;
                if !self.enabled() {
                    // Software disable masks every LVT.
                    for l in &mut self.lvt {
                        *l |= LVT_MASKED;
                    }
                }
            }
            reg::ESR => self.esr = core::mem::take(&mut self.esr_pending),
            reg::ICR_LOW => {
                // Delivery status (bit 12) always reads idle.
                self.icr_low = v & !(1 << 12);
                self.send_ipi();
            }
            reg::ICR_HIGH => self.icr_high = v & 0xff00_0000,
            o if (reg::LVT_TIMER..=reg::LVT_ERROR).contains(&o) => {
                let i = ((o - reg::LVT_TIMER) >> 4) as usize % 6;
                // Vector, delivery mode, polarity, trigger, mask, timer
                // mode; a software-disabled APIC keeps them masked.
                let mut val = v & 0x0007_a7ff;
                if !self.enabled() {
                    val |= LVT_MASKED;
                }
                if let Some(l) = self.lvt.get_mut(i) {
                    *l = val;
                }
            }
            reg::TIMER_INITIAL => {
                self.timer_initial = v;
                self.timer_start = (v != 0).then_some(self.now);
            }
            reg::TIMER_DIVIDE => self.timer_divide = v & 0xb,
            _ => {}
        }
    }
}

impl MmioDevice for Lapic {
    fn read(&mut self, offset: u64, width: AccessWidth) -> u64 {
        if width != AccessWidth::Word || offset & 0xf != 0 {
            return 0;
        }
        u64::from(self.read_reg(offset))
    }

    fn write(&mut self, offset: u64, width: AccessWidth, value: u64) {
        if width == AccessWidth::Word && offset & 0xf == 0 {
            self.write_reg(offset, value as u32);
        }
    }

    fn interrupt_level(&self) -> bool {
        self.pending_vector().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    const W: AccessWidth = AccessWidth::Word;

    #[test]
    fn destinations_are_matched_as_the_sdm_says() {
        let mut a = Lapic::new(3);
        // Physical: its own ID and the broadcast 0xff only.
        assert!(a.accepts(3, false));
        assert!(a.accepts(0xff, false));
        assert!(!a.accepts(2, false));
        // Logical, flat model (DFR's reset value): LDR bit 2 set.
        a.write(reg::LDR, W, 0x0400_0000);
        assert!(a.accepts(0x04, true));
        assert!(a.accepts(0x0c, true));
        assert!(!a.accepts(0x03, true));
        assert!(a.accepts(0xff, true));
        // Cluster model: cluster 2, member bit 1.
        a.write(reg::DFR, W, 0x0fff_ffff);
        a.write(reg::LDR, W, 0x2200_0000);
        assert!(a.accepts(0x22, true));
        assert!(a.accepts(0x23, true));
        assert!(!a.accepts(0x12, true), "another cluster");
        assert!(!a.accepts(0x21, true), "another member");
    }

    fn enabled() -> Lapic {
        let mut a = Lapic::new(0);
        a.write(reg::SVR, W, u64::from(SVR_ENABLED | 0xff));
        a
    }

    #[test]
    fn reset_state_and_identification() {
        let mut a = Lapic::new(3);
        assert_eq!(a.read(reg::ID, W), 3 << 24);
        assert_eq!(a.read(reg::VERSION, W), 0x5_0014);
        assert_eq!(a.read(reg::SVR, W), 0xff);
        assert_eq!(a.read(reg::DFR, W), 0xffff_ffff);
        assert_eq!(a.read(reg::LVT_TIMER, W) as u32 & LVT_MASKED, LVT_MASKED);
        // Software-disabled: nothing is delivered, LVT writes stay masked.
        a.raise(0x40, false);
        assert_eq!(a.pending_vector(), None);
        a.write(reg::LVT_TIMER, W, 0x30);
        assert_eq!(a.read(reg::LVT_TIMER, W), u64::from(LVT_MASKED | 0x30));
    }

    #[test]
    fn lvt_entries_keep_their_fields_and_disable_masks_them() {
        let mut a = enabled();
        let lvts: Vec<u64> = (0..6).map(|i| reg::LVT_TIMER + 0x10 * i).collect();
        assert_eq!(lvts[5], reg::LVT_ERROR);
        let lint0 = lvts[3];
        for (i, &r) in lvts.iter().enumerate() {
            // Delivery status (12, read-only) and bits above 18 are dropped.
            a.write(r, W, 0xfff8_1000 | (0x40 + i as u64));
            assert_eq!(a.read(r, W), 0x40 + i as u64, "LVT {r:#x}");
        }
        a.write(lint0, W, 0x700);
        assert_eq!(a.read(lint0, W), 0x700, "ExtINT delivery mode");
        a.write(reg::SVR, W, 0xff);
        for &r in &lvts {
            assert_ne!(a.read(r, W) as u32 & LVT_MASKED, 0, "LVT {r:#x} masked");
        }
    }

    #[test]
    fn priority_tpr_isr_and_eoi() {
        let mut a = enabled();
        a.raise(0x31, false);
        a.raise(0x52, false);
        assert_eq!(a.pending_vector(), Some(0x52));
        a.acknowledge(0x52);
        assert_eq!(a.read(reg::PPR, W), 0x50);
        // The same class as the one in service waits too.
        a.raise(0x55, false);
        assert_eq!(a.pending_vector(), None);
        // PPR is the whole TPR when its class is at least the ISR's.
        a.write(reg::TPR, W, 0x57);
        assert_eq!(a.read(reg::PPR, W), 0x57);
        a.write(reg::TPR, W, 0);
        a.write(reg::EOI, W, 0);
        assert_eq!(a.pending_vector(), Some(0x55));
        a.acknowledge(0x52);
        Lapic::clear_bit(&mut a.irr, 0x55);
        // 0x31's class (3) is below the in-service class (5): it waits.
        assert_eq!(a.pending_vector(), None);
        a.raise(0x61, false);
        assert_eq!(a.pending_vector(), Some(0x61), "a higher class nests");
        a.acknowledge(0x61);
        a.write(reg::EOI, W, 0);
        assert_eq!(a.read(reg::ISR + 0x20, W), 1 << (0x52 - 0x40));
        a.write(reg::EOI, W, 0);
        assert_eq!(a.pending_vector(), Some(0x31));
        // TPR holds a class back; PPR follows TPR when nothing is in service.
        a.write(reg::TPR, W, 0x40);
        assert_eq!(a.read(reg::PPR, W), 0x40);
        assert_eq!(a.pending_vector(), None);
        a.write(reg::TPR, W, 0x20);
        assert_eq!(a.pending_vector(), Some(0x31));
        // IRR reads back by bank of 32 vectors.
        assert_eq!(a.read(reg::IRR + 0x10, W), 1 << (0x31 - 0x20));
    }

    #[test]
    fn one_shot_timer_counts_down_and_fires_once() {
        let mut a = enabled();
        a.write(reg::TIMER_DIVIDE, W, 0x3); // divide by 16
        a.write(reg::LVT_TIMER, W, 0x40);
        a.advance_to(1_000);
        a.write(reg::TIMER_INITIAL, W, 100); // 1,600 ns
        assert_eq!(a.next_deadline(), Some(2_600));
        a.advance_to(1_800);
        assert_eq!(a.read(reg::TIMER_CURRENT, W), 50);
        assert_eq!(a.pending_vector(), None);
        a.advance_to(2_600);
        assert_eq!(a.pending_vector(), Some(0x40));
        assert_eq!(a.read(reg::TIMER_CURRENT, W), 0);
        assert_eq!(a.next_deadline(), None);
        a.acknowledge(0x40);
        a.write(reg::EOI, W, 0);
        a.advance_to(10_000);
        assert_eq!(a.pending_vector(), None, "one-shot fires once");
    }

    #[test]
    fn periodic_timer_reloads_and_masked_timer_is_silent() {
        let mut a = enabled();
        a.write(reg::TIMER_DIVIDE, W, 0xb); // divide by 1
        a.write(reg::LVT_TIMER, W, u64::from(LVT_TIMER_PERIODIC | 0x50));
        a.write(reg::TIMER_INITIAL, W, 1_000);
        a.advance_to(3_500);
        assert_eq!(a.pending_vector(), Some(0x50));
        // Three periods passed: reloaded at 3,000, next at 4,000.
        assert_eq!(a.next_deadline(), Some(4_000));
        assert_eq!(a.read(reg::TIMER_CURRENT, W), 500);
        a.acknowledge(0x50);
        a.write(reg::EOI, W, 0);
        a.write(
            reg::LVT_TIMER,
            W,
            u64::from(LVT_TIMER_PERIODIC | LVT_MASKED | 0x50),
        );
        a.advance_to(4_000);
        assert_eq!(a.pending_vector(), None);
        assert_eq!(
            a.next_deadline(),
            Some(5_000),
            "a masked timer still counts"
        );
        // Writing 0 stops it.
        a.write(reg::TIMER_INITIAL, W, 0);
        assert_eq!(a.next_deadline(), None);
    }

    #[test]
    fn ipis_self_and_routed() {
        let mut a = enabled();
        // Self-IPI (shorthand 01), fixed vector 0x70.
        a.write(reg::ICR_LOW, W, (1 << 18) | 0x70);
        assert_eq!(a.pending_vector(), Some(0x70));
        assert_eq!(a.take_ipi(), None);
        // INIT assert to APIC 2, then a SIPI for page 0x9a.
        a.write(reg::ICR_HIGH, W, 2 << 24);
        a.write(reg::ICR_LOW, W, (1 << 14) | (5 << 8));
        a.write(reg::ICR_LOW, W, (6 << 8) | 0x9a);
        let dest = IpiDest::Field {
            dest: 2,
            logical: false,
        };
        assert_eq!(
            a.take_ipi(),
            Some(Ipi {
                mode: 5,
                vector: 0,
                dest,
                assert: true
            })
        );
        assert_eq!(a.take_ipi().map(|i| (i.mode, i.vector)), Some((6, 0x9a)));
        assert_eq!(a.read(reg::ICR_LOW, W) as u32 & (1 << 12), 0, "idle");
        // A broadcast, and an illegal fixed vector (ESR reads it after a
        // write, as the SDM says).
        a.write(reg::ICR_LOW, W, (3 << 18) | 0x80);
        assert_eq!(
            a.take_ipi().map(|i| i.dest),
            Some(IpiDest::AllExcludingSelf)
        );
        a.write(reg::ICR_LOW, W, 0x05);
        assert_eq!(a.take_ipi(), None);
        assert_eq!(a.read(reg::ESR, W), 0);
        a.write(reg::ESR, W, 0);
        assert_eq!(a.read(reg::ESR, W), u64::from(ESR_SEND_ILLEGAL));
        a.write(reg::ESR, W, 0);
        assert_eq!(a.read(reg::ESR, W), 0, "reported once");
        // A full queue drops the IPI and reports it.
        for _ in 0..IPI_QUEUE + 1 {
            a.write(reg::ICR_LOW, W, (2 << 18) | 0x90);
        }
        a.write(reg::ESR, W, 0);
        assert_eq!(a.read(reg::ESR, W), u64::from(ESR_SEND_ILLEGAL));
    }

    #[test]
    fn eoi_of_a_level_triggered_vector_is_reported_once() {
        let mut a = enabled();
        a.raise(0x50, true);
        a.raise(0x40, false);
        for _ in 0..2 {
            let v = a.pending_vector().unwrap();
            a.acknowledge(v);
            a.write(reg::EOI, W, 0);
        }
        assert_eq!(a.take_level_eoi(), Some(0x50));
        assert_eq!(a.take_level_eoi(), None, "the edge one is not");
        assert_eq!(a.read(reg::TMR + 0x20, W), 0);
    }

    #[test]
    fn bad_accesses_are_ignored() {
        let mut a = enabled();
        a.write(reg::TPR, AccessWidth::Byte, 0xff);
        a.write(reg::TPR + 4, W, 0xff);
        assert_eq!(a.read(reg::TPR, W), 0);
        assert_eq!(a.read(reg::TPR, AccessWidth::Double), 0);
        assert_eq!(a.read(0xff0, W), 0);
        a.write(reg::VERSION, W, 0);
        a.write(reg::IRR, W, u64::MAX);
        a.write(reg::TIMER_CURRENT, W, 5);
        assert_eq!(a.read(reg::VERSION, W), 0x5_0014);
        assert_eq!(a.pending_vector(), None);
        assert_eq!(a.read(reg::TIMER_CURRENT, W), 0);
        // A received illegal vector is recorded, not delivered.
        a.raise(3, false);
        assert_eq!(a.pending_vector(), None);
        a.write(reg::ESR, W, 0);
        assert_eq!(a.read(reg::ESR, W), u64::from(ESR_RECEIVE_ILLEGAL));
    }
}

//! An emulated I/O APIC (Intel 82093AA datasheet; version 0x20, with the
//! EOI register): routes device interrupt lines (GSIs) to local APIC
//! vectors.
//!
//! Registers are reached through IOREGSEL (offset 0x00) and IOWIN (0x10),
//! plus the EOI register (0x40); all are 32 bits (other widths and offsets
//! read as 0 and ignore writes). The home drives the input lines with
//! [`IoApic::set_level`], routes what [`IoApic::take_delivery`] hands out
//! to the local APIC(s), and reports a level-triggered vector's EOI with
//! [`IoApic::eoi`] (the local APIC's EOI broadcast), which clears the
//! entry's remote IRR and delivers again if the line is still up.

use crate::mmio::{AccessWidth, MmioDevice};
use heapless::Deque;

/// Register offsets.
const IOREGSEL: u64 = 0x00;
const IOWIN: u64 = 0x10;
const EOI: u64 = 0x40;
/// Indexed registers.
const ID: u32 = 0x00;
const VERSION: u32 = 0x01;
const ARBITRATION: u32 = 0x02;
const REDIRECTION: u32 = 0x10;
/// Redirection entry bits.
const DELIVERY_STATUS: u64 = 1 << 12;
const REMOTE_IRR: u64 = 1 << 14;
const LEVEL: u64 = 1 << 15;
const MASKED: u64 = 1 << 16;
/// Bits the guest may write: vector, delivery mode, destination mode,
/// polarity, trigger mode, mask, destination.
const WRITABLE: u64 = 0xff00_0000_0001_afff;
/// Deliveries queued for the home at most (one per input is enough: an
/// edge that arrives while the queue is full is lost, as a real line
/// would coalesce it).
const QUEUE: usize = 16;

/// An interrupt for the home to deliver to local APIC(s).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The vector.
    pub vector: u8,
    /// Delivery mode (entry bits 10:8): 0 fixed, 1 lowest priority, 2 SMI,
    /// 4 NMI, 5 INIT, 7 ExtINT.
    pub mode: u8,
    /// Destination APIC ID (physical) or logical destination.
    pub dest: u8,
    /// Logical destination mode.
    pub logical: bool,
    /// Level-triggered (the local APIC sets TMR; its EOI comes back here).
    pub level: bool,
}

/// The I/O APIC model with `N` inputs (the 82093AA has 24; QEMU's
/// microvm has two such, for GSIs 0-23 and 24-47).
#[derive(Debug)]
pub struct IoApic<const N: usize> {
    id: u8,
    select: u32,
    entries: [u64; N],
    /// Current level of each input (after polarity: true is asserted).
    lines: [bool; N],
    out: Deque<Delivery, QUEUE>,
}

impl<const N: usize> IoApic<N> {
    /// An I/O APIC with `id`, every entry masked (its reset state).
    pub fn new(id: u8) -> Self {
        IoApic {
            id,
            select: 0,
            entries: [MASKED; N],
            lines: [false; N],
            out: Deque::new(),
        }
    }

    fn deliver(&mut self, pin: usize) {
        let Some(&e) = self.entries.get(pin) else {
            return;
        };
        if e & MASKED != 0 {
            return;
        }
        if e & LEVEL != 0 {
            if e & REMOTE_IRR != 0 {
                return;
            }
            if let Some(entry) = self.entries.get_mut(pin) {
                *entry |= REMOTE_IRR;
            }
        }
        let _ = self.out.push_back(Delivery {
            vector: e as u8,
            mode: ((e >> 8) & 7) as u8,
            dest: (e >> 56) as u8,
            logical: e & (1 << 11) != 0,
            level: e & LEVEL != 0,
        });
    }

    /// Input `pin` is now asserted (`true`) or not: an edge-triggered
    /// entry delivers on assertion, a level-triggered one while asserted
    /// and not already being served (remote IRR clear). Pins past `N` are
    /// ignored.
    pub fn set_level(&mut self, pin: usize, asserted: bool) {
        let Some(line) = self.lines.get_mut(pin) else {
            return;
        };
        let rising = asserted && !*line;
        *line = asserted;
        let level = self.entries.get(pin).is_some_and(|e| e & LEVEL != 0);
        if (level && asserted) || (!level && rising) {
            self.deliver(pin);
        }
    }

    /// The local APIC ended a level-triggered `vector`: clear the remote
    /// IRR of every entry with it and deliver again those still asserted.
    pub fn eoi(&mut self, vector: u8) {
        for pin in 0..N {
            let hit = self.entries[pin] as u8 == vector && self.entries[pin] & REMOTE_IRR != 0;
            if hit {
                self.entries[pin] &= !REMOTE_IRR;
                if self.lines[pin] && self.entries[pin] & LEVEL != 0 {
                    self.deliver(pin);
                }
            }
        }
    }

    /// The next interrupt to deliver.
    pub fn take_delivery(&mut self) -> Option<Delivery> {
        self.out.pop_front()
    }

    fn read_indexed(&self) -> u32 {
        match self.select {
            ID => u32::from(self.id & 0xf) << 24,
            // Version 0x20, maximum redirection entry N - 1.
            VERSION => 0x20 | (((N as u32).saturating_sub(1) & 0xff) << 16),
            ARBITRATION => u32::from(self.id & 0xf) << 24,
            r if r >= REDIRECTION => {
                let pin = ((r - REDIRECTION) / 2) as usize;
                let Some(&e) = self.entries.get(pin) else {
                    return 0;
                };
                if r % 2 == 0 {
                    e as u32
                } else {
                    (e >> 32) as u32
                }
            }
            _ => 0,
        }
    }

    fn write_indexed(&mut self, v: u32) {
        match self.select {
            ID => self.id = ((v >> 24) & 0xf) as u8,
            r if r >= REDIRECTION => {
                let pin = ((r - REDIRECTION) / 2) as usize;
                let Some(e) = self.entries.get_mut(pin) else {
                    return;
                };
                let new = if r % 2 == 0 {
                    (*e & !0xffff_ffff) | u64::from(v)
                } else {
                    (*e & 0xffff_ffff) | (u64::from(v) << 32)
                };
                // Remote IRR and delivery status are the chip's.
                *e = (new & WRITABLE) | (*e & (REMOTE_IRR | DELIVERY_STATUS));
                if *e & LEVEL == 0 {
                    *e &= !REMOTE_IRR;
                }
                // An unmasked level-triggered entry with its line up
                // delivers now (as the chip does when unmasked).
                if self.lines[pin] && *e & LEVEL != 0 {
                    self.deliver(pin);
                }
            }
            _ => {}
        }
    }
}

impl<const N: usize> MmioDevice for IoApic<N> {
    fn read(&mut self, offset: u64, width: AccessWidth) -> u64 {
        if width != AccessWidth::Word {
            return 0;
        }
        match offset {
            IOREGSEL => u64::from(self.select),
            IOWIN => u64::from(self.read_indexed()),
            _ => 0,
        }
    }

    fn write(&mut self, offset: u64, width: AccessWidth, value: u64) {
        if width != AccessWidth::Word {
            return;
        }
        match offset {
            IOREGSEL => self.select = value as u32 & 0xff,
            IOWIN => self.write_indexed(value as u32),
            EOI => self.eoi(value as u8),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: AccessWidth = AccessWidth::Word;

    fn write_entry(a: &mut IoApic<24>, pin: u32, v: u64) {
        a.write(IOREGSEL, W, u64::from(REDIRECTION + 2 * pin + 1));
        a.write(IOWIN, W, v >> 32);
        a.write(IOREGSEL, W, u64::from(REDIRECTION + 2 * pin));
        a.write(IOWIN, W, v & 0xffff_ffff);
    }

    fn read_entry(a: &mut IoApic<24>, pin: u32) -> u64 {
        a.write(IOREGSEL, W, u64::from(REDIRECTION + 2 * pin));
        let lo = a.read(IOWIN, W);
        a.write(IOREGSEL, W, u64::from(REDIRECTION + 2 * pin + 1));
        lo | (a.read(IOWIN, W) << 32)
    }

    #[test]
    fn identification_and_reset_state() {
        let mut a = IoApic::<24>::new(2);
        a.write(IOREGSEL, W, u64::from(VERSION));
        assert_eq!(a.read(IOWIN, W), 0x0017_0020, "version 0x20, 24 entries");
        a.write(IOREGSEL, W, u64::from(ID));
        assert_eq!(a.read(IOWIN, W), 2 << 24);
        assert_eq!(read_entry(&mut a, 5), MASKED);
        assert_eq!(IoApic::<48>::new(0).read_indexed(), 0);
        let mut b = IoApic::<48>::new(0);
        b.write(IOREGSEL, W, u64::from(VERSION));
        assert_eq!(b.read(IOWIN, W) >> 16, 47);
    }

    #[test]
    fn edge_entries_deliver_on_rising_edges_only() {
        let mut a = IoApic::<24>::new(0);
        write_entry(&mut a, 4, (3 << 56) | 0x34);
        a.set_level(4, true);
        assert_eq!(
            a.take_delivery(),
            Some(Delivery {
                vector: 0x34,
                mode: 0,
                dest: 3,
                logical: false,
                level: false
            })
        );
        a.set_level(4, true);
        assert_eq!(a.take_delivery(), None, "no new edge");
        a.set_level(4, false);
        a.set_level(4, true);
        assert!(a.take_delivery().is_some());
        // Masked: nothing.
        write_entry(&mut a, 4, MASKED | 0x34);
        a.set_level(4, false);
        a.set_level(4, true);
        assert_eq!(a.take_delivery(), None);
    }

    #[test]
    fn level_entries_wait_for_the_eoi_and_redeliver_while_asserted() {
        let mut a = IoApic::<24>::new(0);
        write_entry(&mut a, 16, LEVEL | 0x50);
        a.set_level(16, true);
        assert_eq!(
            a.take_delivery().map(|d| (d.vector, d.level)),
            Some((0x50, true))
        );
        assert_ne!(read_entry(&mut a, 16) & REMOTE_IRR, 0);
        a.set_level(16, true);
        assert_eq!(a.take_delivery(), None, "remote IRR holds it");
        // EOI while still asserted: delivered again.
        a.eoi(0x50);
        assert!(a.take_delivery().is_some());
        // The line drops; the EOI clears remote IRR, nothing more.
        a.set_level(16, false);
        a.write(EOI, W, 0x50);
        assert_eq!(a.take_delivery(), None);
        assert_eq!(read_entry(&mut a, 16) & REMOTE_IRR, 0);
        // The guest cannot set remote IRR or delivery status itself.
        write_entry(&mut a, 16, LEVEL | REMOTE_IRR | DELIVERY_STATUS | 0x50);
        assert_eq!(read_entry(&mut a, 16), LEVEL | 0x50);
    }

    #[test]
    fn unmasking_an_asserted_level_line_delivers() {
        let mut a = IoApic::<24>::new(0);
        write_entry(&mut a, 7, LEVEL | MASKED | 0x60);
        a.set_level(7, true);
        assert_eq!(a.take_delivery(), None);
        write_entry(&mut a, 7, LEVEL | 0x60);
        assert_eq!(a.take_delivery().map(|d| d.vector), Some(0x60));
    }

    #[test]
    fn bad_accesses_and_pins_are_ignored() {
        let mut a = IoApic::<24>::new(0);
        a.set_level(24, true);
        a.set_level(usize::MAX, true);
        a.write(IOREGSEL, W, u64::from(REDIRECTION + 2 * 24));
        a.write(IOWIN, W, 0x40);
        assert_eq!(a.read(IOWIN, W), 0);
        a.write(IOWIN, AccessWidth::Byte, 0x40);
        assert_eq!(a.read(IOWIN, AccessWidth::Byte), 0);
        assert_eq!(a.read(0x20, W), 0);
        assert_eq!(a.take_delivery(), None);
    }
}

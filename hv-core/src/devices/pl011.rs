//! An emulated PL011 UART: the guest's console.
//!
//! Transmit is immediate (every byte goes to the [`CharSink`] at once), so
//! the TX FIFO is always empty; receive has a 32-byte FIFO fed by the home
//! with [`Pl011::receive`]. Linux's amba-pl011 driver uses 16-bit accesses by
//! default, so 8-, 16- and 32-bit accesses are all served; 64-bit ones read
//! as 0 and are ignored, like unknown offsets.

use crate::mmio::{AccessWidth, MmioDevice};
use heapless::Deque;

/// Where the guest's output goes.
pub trait CharSink: Send {
    /// One byte the guest transmitted.
    fn put(&mut self, byte: u8);
}

/// A boxed sink is a sink, so a home can pick its console at run time.
impl<T: CharSink + ?Sized> CharSink for alloc::boxed::Box<T> {
    fn put(&mut self, byte: u8) {
        (**self).put(byte);
    }
}

mod reg {
    pub const DR: u64 = 0x000;
    pub const RSR_ECR: u64 = 0x004;
    pub const FR: u64 = 0x018;
    pub const ILPR: u64 = 0x020;
    pub const IBRD: u64 = 0x024;
    pub const FBRD: u64 = 0x028;
    pub const LCR_H: u64 = 0x02c;
    pub const CR: u64 = 0x030;
    pub const IFLS: u64 = 0x034;
    pub const IMSC: u64 = 0x038;
    pub const RIS: u64 = 0x03c;
    pub const MIS: u64 = 0x040;
    pub const ICR: u64 = 0x044;
    pub const DMACR: u64 = 0x048;
    pub const ID_BASE: u64 = 0xfe0;
}

/// FR bits.
const FR_RXFE: u32 = 1 << 4;
const FR_RXFF: u32 = 1 << 6;
const FR_TXFE: u32 = 1 << 7;
/// Interrupt bits (RIS/MIS/IMSC/ICR).
const INT_RX: u32 = 1 << 4;
const INT_TX: u32 = 1 << 5;
const INT_ALL: u32 = 0x7ff;
/// PeriphID0-3 then CellID0-3 (a PL011 r1p5, as QEMU reports).
const ID: [u32; 8] = [0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1];

const RX_FIFO: usize = 32;

/// The UART model.
pub struct Pl011<S: CharSink> {
    sink: S,
    rx: Deque<u8, RX_FIFO>,
    ilpr: u32,
    ibrd: u32,
    fbrd: u32,
    lcr_h: u32,
    cr: u32,
    ifls: u32,
    imsc: u32,
    ris: u32,
    dmacr: u32,
}

impl<S: CharSink> core::fmt::Debug for Pl011<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pl011")
            .field("rx_queued", &self.rx.len())
            .field("imsc", &self.imsc)
            .field("ris", &self.ris)
            .finish()
    }
}

impl<S: CharSink> Pl011<S> {
    /// A UART in its reset state, writing to `sink`.
    pub fn new(sink: S) -> Self {
        Pl011 {
            sink,
            rx: Deque::new(),
            ilpr: 0,
            ibrd: 0,
            fbrd: 0,
            lcr_h: 0,
            // Reset value: TXE and RXE set, UART disabled.
            cr: 0x300,
            ifls: 0x12,
            imsc: 0,
            ris: 0,
            dmacr: 0,
        }
    }

    /// Queue a byte typed on the console; returns false (byte dropped) when
    /// the FIFO is full, as a real UART would overrun.
    pub fn receive(&mut self, byte: u8) -> bool {
        let queued = self.rx.push_back(byte).is_ok();
        if queued {
            self.ris |= INT_RX;
        }
        queued
    }

    fn flags(&self) -> u32 {
        let mut fr = FR_TXFE;
        if self.rx.is_empty() {
            fr |= FR_RXFE;
        }
        if self.rx.is_full() {
            fr |= FR_RXFF;
        }
        fr
    }

    fn read_reg(&mut self, offset: u64) -> u32 {
        match offset {
            reg::DR => {
                let byte = self.rx.pop_front().map_or(0, u32::from);
                if self.rx.is_empty() {
                    self.ris &= !INT_RX;
                }
                byte
            }
            reg::RSR_ECR => 0,
            reg::FR => self.flags(),
            reg::ILPR => self.ilpr,
            reg::IBRD => self.ibrd,
            reg::FBRD => self.fbrd,
            reg::LCR_H => self.lcr_h,
            reg::CR => self.cr,
            reg::IFLS => self.ifls,
            reg::IMSC => self.imsc,
            reg::RIS => self.ris,
            reg::MIS => self.ris & self.imsc,
            reg::DMACR => self.dmacr,
            o if (reg::ID_BASE..reg::ID_BASE + 0x20).contains(&o) && o % 4 == 0 => {
                // The range check makes the index 0..=7.
                ID[((o - reg::ID_BASE) / 4) as usize]
            }
            _ => 0,
        }
    }

    fn write_reg(&mut self, offset: u64, value: u32) {
        match offset {
            reg::DR => {
                self.sink.put(value as u8);
                // The byte left at once: the TX FIFO is below any level.
                self.ris |= INT_TX;
            }
            reg::RSR_ECR => {}
            reg::ILPR => self.ilpr = value & 0xff,
            reg::IBRD => self.ibrd = value & 0xffff,
            reg::FBRD => self.fbrd = value & 0x3f,
            reg::LCR_H => self.lcr_h = value & 0xff,
            reg::CR => self.cr = value & 0xff87,
            reg::IFLS => self.ifls = value & 0x3f,
            reg::IMSC => self.imsc = value & INT_ALL,
            reg::ICR => self.ris &= !value,
            reg::DMACR => self.dmacr = value & 0x7,
            _ => {}
        }
    }
}

impl<S: CharSink> MmioDevice for Pl011<S> {
    fn read(&mut self, offset: u64, width: AccessWidth) -> u64 {
        match width {
            AccessWidth::Double => 0,
            _ => u64::from(self.read_reg(offset)),
        }
    }

    fn write(&mut self, offset: u64, width: AccessWidth, value: u64) {
        if width != AccessWidth::Double {
            self.write_reg(offset, value as u32);
        }
    }

    fn interrupt_level(&self) -> bool {
        self.ris & self.imsc != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[derive(Default)]
    struct Capture(Vec<u8>);
    impl CharSink for &mut Capture {
        fn put(&mut self, byte: u8) {
            self.0.push(byte);
        }
    }

    #[test]
    fn transmitted_bytes_reach_the_sink() {
        let mut out = Capture::default();
        let mut uart = Pl011::new(&mut out);
        for b in b"hi\n" {
            assert_eq!(
                uart.read(reg::FR, AccessWidth::Word) as u32 & (1 << 5),
                0,
                "TXFF"
            );
            uart.write(reg::DR, AccessWidth::Word, u64::from(*b));
        }
        drop(uart);
        assert_eq!(out.0, b"hi\n");
    }

    #[test]
    fn receive_fifo_sets_flags_and_interrupt() {
        let mut out = Capture::default();
        let mut uart = Pl011::new(&mut out);
        assert_ne!(uart.read(reg::FR, AccessWidth::Half) as u32 & FR_RXFE, 0);
        uart.write(reg::IMSC, AccessWidth::Half, u64::from(INT_RX));
        assert!(!uart.interrupt_level());
        assert!(uart.receive(b'x'));
        assert!(uart.interrupt_level());
        assert_eq!(uart.read(reg::FR, AccessWidth::Word) as u32 & FR_RXFE, 0);
        assert_eq!(uart.read(reg::DR, AccessWidth::Word), u64::from(b'x'));
        assert!(!uart.interrupt_level(), "drained FIFO clears RX");
        for i in 0..RX_FIFO {
            assert!(uart.receive(i as u8));
        }
        assert!(!uart.receive(0xff), "overrun drops the byte");
        assert_ne!(uart.read(reg::FR, AccessWidth::Word) as u32 & FR_RXFF, 0);
    }

    #[test]
    fn tx_interrupt_is_cleared_by_icr() {
        let mut out = Capture::default();
        let mut uart = Pl011::new(&mut out);
        uart.write(reg::IMSC, AccessWidth::Word, u64::from(INT_TX));
        uart.write(reg::DR, AccessWidth::Byte, u64::from(b'a'));
        assert!(uart.interrupt_level());
        assert_eq!(uart.read(reg::MIS, AccessWidth::Word) as u32, INT_TX);
        uart.write(reg::ICR, AccessWidth::Word, u64::from(INT_TX));
        assert!(!uart.interrupt_level());
    }

    #[test]
    fn identifies_as_a_pl011_and_ignores_bad_accesses() {
        let mut out = Capture::default();
        let mut uart = Pl011::new(&mut out);
        let ids: Vec<u64> = (0..8)
            .map(|i| uart.read(0xfe0 + 4 * i, AccessWidth::Word))
            .collect();
        assert_eq!(ids, [0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1]);
        assert_eq!(
            uart.read(0xfe2, AccessWidth::Word),
            0,
            "unaligned ID offset"
        );
        assert_eq!(uart.read(0x800, AccessWidth::Word), 0);
        uart.write(reg::DR, AccessWidth::Double, 0x41);
        assert_eq!(uart.read(reg::CR, AccessWidth::Double), 0);
        drop(uart);
        assert!(out.0.is_empty(), "64-bit DR write ignored");
    }
}

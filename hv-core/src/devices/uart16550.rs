//! An emulated 16550A UART: the x86 guest's console (COM1, ports
//! 0x3f8-0x3ff, IRQ 4), reached through the port-I/O bus.
//!
//! Transmit is immediate (each byte goes to the [`CharSink`] at once, so
//! THR is always empty again and the THRE interrupt pends after every
//! write); receive has a 16-byte FIFO (1 byte while FIFOs are off) fed by
//! the home with [`Uart16550::receive`]. The register set is the
//! datasheet's: DLAB-switched divisor latch, IER, IIR/FCR, LCR, MCR with
//! loopback (what Linux's 8250 driver probes with), LSR, MSR, scratch.
//! Registers are bytes: a wider access reaches the register at its first
//! port, the rest reads as 0.

use super::pl011::CharSink;
use crate::mmio::{AccessWidth, MmioDevice};
use heapless::Deque;

/// Ports from the base.
mod reg {
    /// RBR (read) / THR (write) / DLL (DLAB).
    pub const DATA: u64 = 0;
    /// IER / DLM (DLAB).
    pub const IER: u64 = 1;
    /// IIR (read) / FCR (write).
    pub const IIR_FCR: u64 = 2;
    pub const LCR: u64 = 3;
    pub const MCR: u64 = 4;
    pub const LSR: u64 = 5;
    pub const MSR: u64 = 6;
    pub const SCR: u64 = 7;
}

/// IER bits.
const IER_RDI: u8 = 1 << 0;
const IER_THRI: u8 = 1 << 1;
const IER_RLSI: u8 = 1 << 2;
const IER_MSI: u8 = 1 << 3;
/// IIR values (bit 0 set: nothing pending; bits 7:6 set with FIFOs on).
const IIR_NONE: u8 = 0x01;
const IIR_MSI: u8 = 0x00;
const IIR_THRI: u8 = 0x02;
const IIR_RDI: u8 = 0x04;
const IIR_RLSI: u8 = 0x06;
const IIR_FIFOS: u8 = 0xc0;
/// FCR bits.
const FCR_ENABLE: u8 = 1 << 0;
const FCR_CLEAR_RX: u8 = 1 << 1;
/// LCR: divisor latch access.
const LCR_DLAB: u8 = 1 << 7;
/// MCR bits: DTR, RTS, OUT1, OUT2, loopback.
const MCR_LOOP: u8 = 1 << 4;
const MCR_MASK: u8 = 0x1f;
/// LSR bits.
const LSR_DR: u8 = 1 << 0;
const LSR_OE: u8 = 1 << 1;
const LSR_THRE: u8 = 1 << 5;
const LSR_TEMT: u8 = 1 << 6;
/// MSR outside loopback: carrier, data set ready and clear to send up.
const MSR_LINES_UP: u8 = 0xb0;

const RX_FIFO: usize = 16;

/// The UART model.
pub struct Uart16550<S: CharSink> {
    sink: S,
    rx: Deque<u8, RX_FIFO>,
    ier: u8,
    lcr: u8,
    mcr: u8,
    fcr: u8,
    scr: u8,
    dll: u8,
    dlm: u8,
    /// Overrun, latched until LSR is read.
    overrun: bool,
    /// THRE interrupt pending (set when THR empties, cleared by reading
    /// IIR while it is the reported source, or by writing THR).
    thr_pending: bool,
    /// MSR delta bits (3:0), set by loopback changes, cleared on read.
    msr_delta: u8,
}

impl<S: CharSink> core::fmt::Debug for Uart16550<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Uart16550")
            .field("rx_queued", &self.rx.len())
            .field("ier", &self.ier)
            .field("lcr", &self.lcr)
            .field("mcr", &self.mcr)
            .finish()
    }
}

impl<S: CharSink> Uart16550<S> {
    /// A UART in its reset state (FIFOs off, no interrupts enabled),
    /// writing to `sink`.
    pub fn new(sink: S) -> Self {
        Uart16550 {
            sink,
            rx: Deque::new(),
            ier: 0,
            lcr: 0,
            mcr: 0,
            fcr: 0,
            scr: 0,
            dll: 0,
            dlm: 0,
            overrun: false,
            thr_pending: false,
            msr_delta: 0,
        }
    }

    /// Bytes the receiver holds at most now.
    fn rx_depth(&self) -> usize {
        if self.fcr & FCR_ENABLE != 0 {
            RX_FIFO
        } else {
            1
        }
    }

    /// Queue a byte typed on the console; returns false (byte dropped,
    /// overrun flagged) when the receiver is full, as the chip does.
    pub fn receive(&mut self, byte: u8) -> bool {
        if self.rx.len() >= self.rx_depth() || self.rx.push_back(byte).is_err() {
            self.overrun = true;
            return false;
        }
        true
    }

    /// The highest-priority pending interrupt, as IIR reports it.
    fn iir(&self) -> u8 {
        let id = if self.overrun && self.ier & IER_RLSI != 0 {
            IIR_RLSI
        } else if !self.rx.is_empty() && self.ier & IER_RDI != 0 {
            IIR_RDI
        } else if self.thr_pending && self.ier & IER_THRI != 0 {
            IIR_THRI
        } else if self.msr_delta != 0 && self.ier & IER_MSI != 0 {
            IIR_MSI
        } else {
            IIR_NONE
        };
        if self.fcr & FCR_ENABLE != 0 {
            id | IIR_FIFOS
        } else {
            id
        }
    }

    /// MSR's status bits (7:4): in loopback, MCR's DTR, RTS, OUT1, OUT2
    /// as DSR, CTS, RI, DCD.
    fn msr_lines(mcr: u8) -> u8 {
        if mcr & MCR_LOOP == 0 {
            return MSR_LINES_UP;
        }
        let bit = |m: u8, s: u8| if mcr & m != 0 { s } else { 0 };
        bit(1 << 0, 1 << 5) | bit(1 << 1, 1 << 4) | bit(1 << 2, 1 << 6) | bit(1 << 3, 1 << 7)
    }

    fn read_reg(&mut self, offset: u64) -> u8 {
        let dlab = self.lcr & LCR_DLAB != 0;
        match offset {
            reg::DATA if dlab => self.dll,
            reg::DATA => self.rx.pop_front().unwrap_or(0),
            reg::IER if dlab => self.dlm,
            reg::IER => self.ier,
            reg::IIR_FCR => {
                let iir = self.iir();
                if iir & 0x0f == IIR_THRI {
                    self.thr_pending = false;
                }
                iir
            }
            reg::LCR => self.lcr,
            reg::MCR => self.mcr,
            reg::LSR => {
                let mut lsr = LSR_THRE | LSR_TEMT;
                if !self.rx.is_empty() {
                    lsr |= LSR_DR;
                }
                if core::mem::take(&mut self.overrun) {
                    lsr |= LSR_OE;
                }
                lsr
            }
            reg::MSR => Self::msr_lines(self.mcr) | core::mem::take(&mut self.msr_delta),
            reg::SCR => self.scr,
            _ => 0,
        }
    }

    fn write_reg(&mut self, offset: u64, v: u8) {
        let dlab = self.lcr & LCR_DLAB != 0;
        match offset {
            reg::DATA if dlab => self.dll = v,
            reg::DATA => {
                if self.mcr & MCR_LOOP != 0 {
                    self.receive(v);
                } else {
                    self.sink.put(v);
                }
                // Sent at once: THR is empty again.
                self.thr_pending = true;
            }
            reg::IER if dlab => self.dlm = v,
            reg::IER => {
                self.ier = v & 0x0f;
                // THR is always empty: enabling THRI raises it.
                self.thr_pending = true;
            }
            reg::IIR_FCR => {
                if (v ^ self.fcr) & FCR_ENABLE != 0 || v & FCR_CLEAR_RX != 0 {
                    self.rx.clear();
                }
                // Enable, DMA mode and trigger level stick; the clear
                // bits do not.
                self.fcr = v & 0xc9;
            }
            reg::LCR => self.lcr = v,
            reg::MCR => {
                let v = v & MCR_MASK;
                // Loopback line changes show as MSR deltas: DCTS, DDSR,
                // TERI (RI falling), DDCD.
                let before = Self::msr_lines(self.mcr);
                let after = Self::msr_lines(v);
                let changed = before ^ after;
                let mut delta = (changed >> 4) & 0b1011;
                if before & !after & (1 << 6) != 0 {
                    delta |= 1 << 2;
                }
                self.msr_delta |= delta;
                self.mcr = v;
            }
            reg::SCR => self.scr = v,
            // LSR and MSR writes are factory tests: ignored.
            _ => {}
        }
    }
}

impl<S: CharSink> MmioDevice for Uart16550<S> {
    fn read(&mut self, offset: u64, _width: AccessWidth) -> u64 {
        u64::from(self.read_reg(offset))
    }

    fn write(&mut self, offset: u64, _width: AccessWidth, value: u64) {
        self.write_reg(offset, value as u8);
    }

    fn interrupt_level(&self) -> bool {
        self.iir() & IIR_NONE == 0
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

    const B: AccessWidth = AccessWidth::Byte;

    #[test]
    fn a_polling_driver_sends_bytes() {
        // What uart_16550 and Linux's early console do: program the
        // divisor with DLAB, 8N1, FIFOs on, then wait for THRE per byte.
        let mut out = Capture::default();
        let mut u = Uart16550::new(&mut out);
        u.write(reg::IER, B, 0);
        u.write(reg::LCR, B, 0x80);
        u.write(reg::DATA, B, 0x03);
        u.write(reg::IER, B, 0x00);
        assert_eq!((u.read(reg::DATA, B), u.read(reg::IER, B)), (3, 0));
        u.write(reg::LCR, B, 0x03);
        u.write(reg::IIR_FCR, B, 0xc7);
        u.write(reg::MCR, B, 0x0b);
        for &b in b"ok\n" {
            assert_ne!(u.read(reg::LSR, B) as u8 & LSR_THRE, 0);
            u.write(reg::DATA, B, u64::from(b));
        }
        assert_eq!(u.read(reg::IIR_FCR, B) as u8, IIR_NONE | IIR_FIFOS);
        drop(u);
        assert_eq!(out.0, b"ok\n");
    }

    #[test]
    fn received_bytes_raise_data_ready_and_the_interrupt() {
        let mut out = Capture::default();
        let mut u = Uart16550::new(&mut out);
        u.write(reg::IIR_FCR, B, 0x01);
        u.write(reg::IER, B, u64::from(IER_RDI));
        assert!(!u.interrupt_level());
        assert!(u.receive(b'a') && u.receive(b'b'));
        assert!(u.interrupt_level());
        assert_eq!(u.read(reg::IIR_FCR, B) as u8, IIR_RDI | IIR_FIFOS);
        assert_eq!(u.read(reg::LSR, B) as u8 & LSR_DR, LSR_DR);
        assert_eq!(u.read(reg::DATA, B), u64::from(b'a'));
        assert_eq!(u.read(reg::DATA, B), u64::from(b'b'));
        assert!(!u.interrupt_level());
        assert_eq!(u.read(reg::LSR, B) as u8 & LSR_DR, 0);
        // Sixteen fit; the seventeenth overruns, reported once by LSR.
        for i in 0..16 {
            assert!(u.receive(i));
        }
        assert!(!u.receive(16));
        assert_ne!(u.read(reg::LSR, B) as u8 & LSR_OE, 0);
        assert_eq!(u.read(reg::LSR, B) as u8 & LSR_OE, 0);
        // With FIFOs off the receiver holds one byte.
        u.write(reg::IIR_FCR, B, 0x00);
        assert!(u.receive(1));
        assert!(!u.receive(2));
    }

    #[test]
    fn thre_interrupt_pends_after_writes_and_clears_on_iir_read() {
        let mut out = Capture::default();
        let mut u = Uart16550::new(&mut out);
        u.write(reg::IER, B, u64::from(IER_THRI));
        assert!(u.interrupt_level(), "enabling THRI with THR empty");
        assert_eq!(u.read(reg::IIR_FCR, B) as u8, IIR_THRI);
        assert!(!u.interrupt_level(), "reading IIR acknowledged it");
        u.write(reg::DATA, B, u64::from(b'x'));
        assert!(u.interrupt_level());
        // Received data outranks THRE; THRE stays pending behind it.
        u.receive(b'y');
        u.write(reg::IER, B, u64::from(IER_THRI | IER_RDI));
        assert_eq!(u.read(reg::IIR_FCR, B) as u8, IIR_RDI);
        u.read(reg::DATA, B);
        assert_eq!(u.read(reg::IIR_FCR, B) as u8, IIR_THRI);
        assert_eq!(u.read(reg::IIR_FCR, B) as u8, IIR_NONE);
    }

    #[test]
    fn loopback_as_linux_probes_it() {
        // 8250 autoconfig: MCR = LOOP | OUT2 | RTS (0x1a) must read back
        // as MSR status 0x90 (DCD from OUT2, CTS from RTS).
        let mut out = Capture::default();
        let mut u = Uart16550::new(&mut out);
        u.write(reg::MCR, B, 0x1a);
        assert_eq!(u.read(reg::MSR, B) as u8 & 0xf0, 0x90);
        // Bytes sent in loopback come back instead of going out.
        u.write(reg::DATA, B, u64::from(b'z'));
        assert_eq!(u.read(reg::DATA, B), u64::from(b'z'));
        u.write(reg::MCR, B, 0x00);
        drop(u);
        assert!(out.0.is_empty());
    }

    #[test]
    fn scratch_and_unknown_ports() {
        let mut out = Capture::default();
        let mut u = Uart16550::new(&mut out);
        u.write(reg::SCR, B, 0xa5);
        assert_eq!(u.read(reg::SCR, B), 0xa5);
        u.write(reg::LSR, B, 0);
        assert_eq!(u.read(reg::LSR, B) as u8, LSR_THRE | LSR_TEMT);
        assert_eq!(u.read(8, AccessWidth::Word), 0);
        u.write(8, AccessWidth::Word, 0xffff_ffff);
    }
}

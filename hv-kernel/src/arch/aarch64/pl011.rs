//! PL011 UART driver for hv's console (and the guest's console input).

use core::fmt;
use core::ptr::NonNull;
use volatile::VolatilePtr;

const DR: usize = 0x00;
const FR: usize = 0x18;
const IMSC: usize = 0x38;
/// FR.RXFE: receive FIFO empty.
const FR_RXFE: u32 = 1 << 4;
/// FR.TXFF: transmit FIFO full.
const FR_TXFF: u32 = 1 << 5;
/// Polls of a full transmit FIFO before a byte is dropped: far longer than
/// a working UART takes to drain one (115200 baud: ~87 µs per byte).
const TX_WAIT_POLLS: u32 = 1 << 22;
/// IMSC: receive and receive-timeout interrupts.
const IMSC_RX: u32 = (1 << 4) | (1 << 6);

/// A PL011 whose registers sit at a fixed physical address (used before the
/// EL2 MMU is on, and after it through the identity map's device memory).
#[derive(Debug)]
pub struct Pl011 {
    base: usize,
}

impl Pl011 {
    /// A driver for the PL011 at `base`.
    ///
    /// # Safety
    ///
    /// `base` must be the address of a PL011 register block that is safe to
    /// access with 32-bit volatile reads and writes (firmware has set up its
    /// baud rate; the boot UART always is).
    pub unsafe fn new(base: usize) -> Self {
        Pl011 { base }
    }

    fn reg(&self, offset: usize) -> VolatilePtr<'_, u32> {
        // SAFETY: `new`'s contract makes base + offset a valid 32-bit device
        // register for the life of `self`; the address is never null.
        unsafe { VolatilePtr::new(NonNull::new_unchecked((self.base + offset) as *mut u32)) }
    }

    /// A received byte, if any.
    pub fn read_byte(&mut self) -> Option<u8> {
        if self.reg(FR).read() & FR_RXFE != 0 {
            None
        } else {
            Some(self.reg(DR).read() as u8)
        }
    }

    /// Raise the UART's interrupt while received bytes wait.
    pub fn enable_rx_interrupt(&mut self) {
        let imsc = self.reg(IMSC).read();
        self.reg(IMSC).write(imsc | IMSC_RX);
    }

    /// Send `byte`, waiting while the transmit FIFO is full, but not for
    /// ever: a UART whose other end stopped reading (a closed terminal, a
    /// wedged host pipe) loses bytes instead of stopping hv.
    fn put(&mut self, byte: u8) {
        for _ in 0..TX_WAIT_POLLS {
            if self.reg(FR).read() & FR_TXFF == 0 {
                self.reg(DR).write(u32::from(byte));
                return;
            }
            core::hint::spin_loop();
        }
    }
}

impl fmt::Write for Pl011 {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                self.put(b'\r');
            }
            self.put(b);
        }
        Ok(())
    }
}

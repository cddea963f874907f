//! hv's console UARTs. One driver per kind of board UART, each implementing
//! `embedded_io::{Write, Read, ReadReady}`; [`Uart`] is the one the DTB's
//! `/chosen/stdout-path` names, and the console takes it through those
//! traits alone, so a new board needs a new driver here and nothing else.

pub mod bcm2835_aux;
pub mod imx;
pub mod pl011;

use core::convert::Infallible;
use core::ptr::NonNull;
use volatile::VolatilePtr;

/// Polls of a full transmit FIFO before a byte is dropped: far longer than
/// a working UART takes to drain one (115200 baud: ~87 µs per byte), so a
/// UART whose other end stopped reading loses bytes instead of stopping hv.
const TX_WAIT_POLLS: u32 = 1 << 22;

/// A UART's register block at a fixed physical address (used before the
/// EL2 MMU is on, and after it through the identity map's device memory).
#[derive(Clone, Copy, Debug)]
pub struct Regs {
    base: usize,
}

impl Regs {
    /// The 32-bit register at `offset`.
    pub fn reg(&self, offset: usize) -> VolatilePtr<'static, u32> {
        // SAFETY: `Uart::new`'s contract makes base + offset one of the
        // UART's 32-bit registers for the rest of hv's life; never null.
        unsafe { VolatilePtr::new(NonNull::new_unchecked((self.base + offset) as *mut u32)) }
    }
}

/// What a driver does, as plain functions of the registers.
#[derive(Debug)]
pub struct Driver {
    /// Its name in messages.
    pub name: &'static str,
    /// The transmitter has room for a byte.
    pub tx_ready: fn(Regs) -> bool,
    /// Hand it a byte (after `tx_ready`).
    pub send: fn(Regs, u8),
    /// A received byte waits.
    pub rx_ready: fn(Regs) -> bool,
    /// Take a received byte (after `rx_ready`).
    pub receive: fn(Regs) -> u8,
    /// Raise the UART's interrupt while received bytes wait.
    pub enable_rx_interrupt: fn(Regs),
}

/// The drivers, by the `compatible` strings that name their UARTs.
pub const DRIVERS: [(&str, &Driver); 3] = [
    ("arm,pl011", &pl011::DRIVER),
    ("brcm,bcm2835-aux-uart", &bcm2835_aux::DRIVER),
    ("fsl,imx6q-uart", &imx::DRIVER),
];

/// A console UART: a driver and the address of its registers.
#[derive(Clone, Copy, Debug)]
pub struct Uart {
    driver: &'static Driver,
    regs: Regs,
}

impl Uart {
    /// `driver` for the UART at `base`.
    ///
    /// # Safety
    ///
    /// `base` must be the address of a register block of the kind `driver`
    /// drives, safe to access with 32-bit volatile reads and writes for the
    /// rest of hv's life, and firmware must have set its line up (the boot
    /// console always is).
    pub unsafe fn new(driver: &'static Driver, base: usize) -> Self {
        Uart {
            driver,
            regs: Regs { base },
        }
    }

    /// Send `byte`, waiting a bounded time for room.
    fn put(&mut self, byte: u8) {
        for _ in 0..TX_WAIT_POLLS {
            if (self.driver.tx_ready)(self.regs) {
                (self.driver.send)(self.regs, byte);
                return;
            }
            core::hint::spin_loop();
        }
    }

    /// A received byte, if one waits.
    pub fn read_byte(&mut self) -> Option<u8> {
        (self.driver.rx_ready)(self.regs).then(|| (self.driver.receive)(self.regs))
    }

    /// Raise the UART's interrupt while received bytes wait.
    pub fn enable_rx_interrupt(&mut self) {
        (self.driver.enable_rx_interrupt)(self.regs)
    }
}

impl embedded_io::ErrorType for Uart {
    type Error = Infallible;
}

impl embedded_io::Write for Uart {
    /// Sends all of `buf`; bytes a stuck UART cannot take are dropped.
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        for &b in buf {
            self.put(b);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

impl embedded_io::ReadReady for Uart {
    fn read_ready(&mut self) -> Result<bool, Infallible> {
        Ok((self.driver.rx_ready)(self.regs))
    }
}

impl embedded_io::Read for Uart {
    /// Blocks until a byte arrives (the trait's contract); hv itself reads
    /// only after `read_ready`.
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(b) = self.read_byte() {
                buf[0] = b;
                return Ok(1);
            }
            core::hint::spin_loop();
        }
    }
}

/// Any `embedded_io::Write` as a console for `core::fmt`: `\n` goes out as
/// `\r\n`, as serial terminals want.
#[derive(Debug)]
pub struct Crlf<W>(pub W);

impl<W: embedded_io::Write> core::fmt::Write for Crlf<W> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for (i, line) in s.split('\n').enumerate() {
            if i > 0 {
                self.0.write_all(b"\r\n").map_err(|_| core::fmt::Error)?;
            }
            self.0
                .write_all(line.as_bytes())
                .map_err(|_| core::fmt::Error)?;
        }
        Ok(())
    }
}

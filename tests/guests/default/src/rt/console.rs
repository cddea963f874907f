//! Output on the guest machine's PL011 (guest machine contract: 0x0900_0000).

use super::sync::IrqLock;
use core::fmt::{self, Write};

/// The PL011's data register.
pub const UART_DR: usize = 0x0900_0000;
/// The PL011's flag register (also the exit benchmark's emulated register).
pub const UART_FR: usize = 0x0900_0018;
const FR_TXFF: u32 = 1 << 5;

struct Uart;

impl Write for Uart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            // SAFETY: the guest machine contract puts a PL011 at 0x0900_0000;
            // FR and DR are 32-bit registers and the MMU is off (identity).
            unsafe {
                while core::ptr::read_volatile(UART_FR as *const u32) & FR_TXFF != 0 {}
                core::ptr::write_volatile(UART_DR as *mut u32, u32::from(b));
            }
        }
        Ok(())
    }
}

static UART: IrqLock<Uart> = IrqLock::new(Uart);

/// Print formatted text; one call's text is not interleaved with another
/// CPU's.
pub fn print(args: fmt::Arguments) {
    UART.with(|uart| {
        let _ = uart.write_fmt(args);
    });
}

/// Print without taking the lock (for the panic handler, which may run
/// while this CPU holds it).
pub fn print_unlocked(args: fmt::Arguments) {
    let _ = Uart.write_fmt(args);
}

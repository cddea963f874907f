//! Output on the guest machine's PL011 (guest machine contract: 0x0900_0000).

use core::fmt::{self, Write};

const UART_DR: *mut u32 = 0x0900_0000 as *mut u32;
const UART_FR: *const u32 = 0x0900_0018 as *const u32;
const FR_TXFF: u32 = 1 << 5;

struct Uart;

impl Write for Uart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            // SAFETY: the guest machine contract puts a PL011 at 0x0900_0000;
            // FR and DR are 32-bit registers and the MMU is off (identity).
            unsafe {
                while core::ptr::read_volatile(UART_FR) & FR_TXFF != 0 {}
                core::ptr::write_volatile(UART_DR, u32::from(b));
            }
        }
        Ok(())
    }
}

/// Print formatted text (one CPU, so no lock).
pub fn print(args: fmt::Arguments) {
    let _ = Uart.write_fmt(args);
}

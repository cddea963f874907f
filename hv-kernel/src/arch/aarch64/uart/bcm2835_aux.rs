//! The BCM2835 auxiliary "mini UART" (BCM2835 ARM Peripherals, section
//! 2.2), the Raspberry Pi's default console: the DTB's `reg` points at its
//! AUX_MU_IO register, so offsets here are from there.

use super::{Driver, Regs};

const IO: usize = 0x00;
const IER: usize = 0x04;
const LSR: usize = 0x14;
/// LSR: a received byte waits.
const LSR_DATA_READY: u32 = 1 << 0;
/// LSR: the transmit FIFO can take a byte.
const LSR_TX_EMPTY: u32 = 1 << 5;
/// IER: interrupt while the receive FIFO holds a byte (the datasheet has
/// the receive and transmit enables swapped; Linux and U-Boot use bit 0
/// for receive, as here).
const IER_RX: u32 = 1 << 0;

pub const DRIVER: Driver = Driver {
    name: "BCM2835 mini UART",
    tx_ready: |r: Regs| r.reg(LSR).read() & LSR_TX_EMPTY != 0,
    send: |r: Regs, b: u8| r.reg(IO).write(u32::from(b)),
    rx_ready: |r: Regs| r.reg(LSR).read() & LSR_DATA_READY != 0,
    receive: |r: Regs| r.reg(IO).read() as u8,
    enable_rx_interrupt: |r: Regs| {
        let ier = r.reg(IER).read();
        r.reg(IER).write(ier | IER_RX);
    },
};

//! The Arm PL011 (PrimeCell UART, Arm DDI 0183).

use super::{Driver, Regs};

const DR: usize = 0x00;
const FR: usize = 0x18;
const IMSC: usize = 0x38;
/// FR.RXFE: receive FIFO empty.
const FR_RXFE: u32 = 1 << 4;
/// FR.TXFF: transmit FIFO full.
const FR_TXFF: u32 = 1 << 5;
/// IMSC: receive and receive-timeout interrupts.
const IMSC_RX: u32 = (1 << 4) | (1 << 6);

pub const DRIVER: Driver = Driver {
    name: "PL011",
    tx_ready: |r: Regs| r.reg(FR).read() & FR_TXFF == 0,
    send: |r: Regs, b: u8| r.reg(DR).write(u32::from(b)),
    rx_ready: |r: Regs| r.reg(FR).read() & FR_RXFE == 0,
    receive: |r: Regs| r.reg(DR).read() as u8,
    enable_rx_interrupt: |r: Regs| {
        let imsc = r.reg(IMSC).read();
        r.reg(IMSC).write(imsc | IMSC_RX);
    },
};

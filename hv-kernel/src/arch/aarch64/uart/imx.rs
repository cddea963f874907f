//! The i.MX UART (i.MX 6/7/8 reference manuals, "UART"): i.MX 8M boards'
//! console.

use super::{Driver, Regs};

/// Receiver register: the byte in bits 7:0.
const URXD: usize = 0x00;
/// Transmitter register.
const UTXD: usize = 0x40;
/// Control register 1.
const UCR1: usize = 0x80;
/// Test register: FIFO states.
const UTS: usize = 0xb4;
/// UTS.TXFULL: the transmit FIFO is full.
const UTS_TXFULL: u32 = 1 << 4;
/// UTS.RXEMPTY: the receive FIFO is empty.
const UTS_RXEMPTY: u32 = 1 << 5;
/// UCR1.RRDYEN: interrupt when the receiver has data.
const UCR1_RRDYEN: u32 = 1 << 9;

pub const DRIVER: Driver = Driver {
    name: "i.MX UART",
    tx_ready: |r: Regs| r.reg(UTS).read() & UTS_TXFULL == 0,
    send: |r: Regs, b: u8| r.reg(UTXD).write(u32::from(b)),
    rx_ready: |r: Regs| r.reg(UTS).read() & UTS_RXEMPTY == 0,
    receive: |r: Regs| r.reg(URXD).read() as u8,
    enable_rx_interrupt: |r: Regs| {
        let ucr1 = r.reg(UCR1).read();
        r.reg(UCR1).write(ucr1 | UCR1_RRDYEN);
    },
};

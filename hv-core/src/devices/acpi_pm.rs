//! The hardware-reduced ACPI sleep and reset registers of the x86 guest
//! machine (ACPI 6.5 sections 4.8.3.7 and 4.8.3.6), three byte ports the
//! FADT names (`vm::acpi`): sleep control at +0, sleep status at +1, reset
//! at +2. A guest powers off by writing SLP_EN with the `\_S5` sleep type
//! to the control register (QEMU's microvm uses the same encoding: type 5
//! in bits 4:2, SLP_EN bit 5), and resets by writing the reset value.
//! The home polls [`AcpiSleep::take_request`] after port writes.

use crate::mmio::{AccessWidth, MmioDevice};
use crate::vm::acpi::{S5_SLEEP_TYPE, SLP_EN, SLP_TYP_SHIFT};

/// What the guest asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowerRequest {
    /// S5: power off.
    Off,
    /// The reset register was written with the reset value.
    Reset,
}

/// The three registers.
#[derive(Debug)]
pub struct AcpiSleep {
    reset_value: u8,
    request: Option<PowerRequest>,
}

impl AcpiSleep {
    /// The registers, resetting on `reset_value` (the FADT's).
    pub fn new(reset_value: u8) -> Self {
        AcpiSleep {
            reset_value,
            request: None,
        }
    }

    /// The guest's request since the last call, if any.
    pub fn take_request(&mut self) -> Option<PowerRequest> {
        self.request.take()
    }
}

impl MmioDevice for AcpiSleep {
    /// Control and reset read as 0; status as 0 (no wake event: a guest
    /// that sleeps never wakes here).
    fn read(&mut self, _offset: u64, _width: AccessWidth) -> u64 {
        0
    }

    fn write(&mut self, offset: u64, width: AccessWidth, value: u64) {
        if width != AccessWidth::Byte {
            return;
        }
        let v = value as u8;
        match offset {
            0 if v & SLP_EN != 0 && (v >> SLP_TYP_SHIFT) & 7 == S5_SLEEP_TYPE => {
                self.request = Some(PowerRequest::Off)
            }
            2 if v == self.reset_value => self.request = Some(PowerRequest::Reset),
            // Other sleep states (S1-S4) are not offered: ignored.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: AccessWidth = AccessWidth::Byte;

    #[test]
    fn s5_with_slp_en_powers_off_and_the_reset_value_resets() {
        let mut pm = AcpiSleep::new(1);
        assert_eq!(pm.take_request(), None);
        // Type 5 without SLP_EN, and SLP_EN with another type: nothing.
        pm.write(0, B, 5 << 2);
        pm.write(0, B, u64::from(SLP_EN) | (3 << 2));
        assert_eq!(pm.take_request(), None);
        pm.write(0, B, u64::from(SLP_EN) | (5 << 2));
        assert_eq!(pm.take_request(), Some(PowerRequest::Off));
        assert_eq!(pm.take_request(), None, "taken once");
        pm.write(2, B, 2);
        assert_eq!(pm.take_request(), None);
        pm.write(2, B, 1);
        assert_eq!(pm.take_request(), Some(PowerRequest::Reset));
        // Wider accesses and other ports are ignored.
        pm.write(0, AccessWidth::Word, u64::from(SLP_EN) | (5 << 2));
        pm.write(1, B, 0xff);
        assert_eq!(pm.take_request(), None);
        assert_eq!(pm.read(1, B), 0);
    }
}

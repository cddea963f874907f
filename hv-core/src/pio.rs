//! The x86 port-I/O space: devices by port range, reached by IN/OUT exits.
//!
//! It is the MMIO bus ([`MmioBus`]: the same range lookup and the same
//! [`MmioDevice`] trait, so one UART or debug-port model serves either
//! space) addressed by port number, plus the PC's rule for ports nothing
//! decodes: reads float to all ones, writes go nowhere.

use crate::addr::GuestAddress;
use crate::mmio::{AccessWidth, BusError, MmioBus, MmioDevice};
use alloc::boxed::Box;
use core::fmt;

/// Devices by port range.
#[derive(Default)]
pub struct PioBus {
    bus: MmioBus,
}

impl fmt::Debug for PioBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PioBus").field("bus", &self.bus).finish()
    }
}

impl PioBus {
    /// An empty bus.
    pub fn new() -> Self {
        Self::default()
    }

    /// Attach `device` at ports `[first, first + count)` (its offsets are
    /// port - `first`).
    pub fn insert(
        &mut self,
        first: u16,
        count: u16,
        device: Box<dyn MmioDevice>,
    ) -> Result<(), BusError> {
        if u32::from(first) + u32::from(count) > 0x1_0000 {
            return Err(BusError::Overlap(GuestAddress(u64::from(first))));
        }
        self.bus
            .insert(GuestAddress(u64::from(first)), u64::from(count), device)
    }

    /// IN of `width` (1, 2 or 4 bytes) from `port`: the device's value,
    /// or all ones where no device answers.
    pub fn read(&mut self, port: u16, width: AccessWidth) -> u64 {
        self.bus
            .read(GuestAddress(u64::from(port)), width)
            .unwrap_or(width.mask())
    }

    /// OUT of the low `width` bytes of `value` to `port`; returns whether
    /// a device took it.
    pub fn write(&mut self, port: u16, width: AccessWidth, value: u64) -> bool {
        self.bus
            .write(GuestAddress(u64::from(port)), width, value)
            .is_ok()
    }

    /// The interrupt level of the device at `port`, if one is there.
    pub fn interrupt_level_at(&self, port: u16) -> Option<bool> {
        self.bus
            .interrupt_level_at(GuestAddress(u64::from(port)))
            .map(|(_, level)| level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One byte register per port.
    struct Regs([u8; 8]);
    impl MmioDevice for Regs {
        fn read(&mut self, offset: u64, _w: AccessWidth) -> u64 {
            self.0.get(offset as usize).map_or(0, |&b| u64::from(b))
        }
        fn write(&mut self, offset: u64, _w: AccessWidth, value: u64) {
            if let Some(r) = self.0.get_mut(offset as usize) {
                *r = value as u8;
            }
        }
    }

    #[test]
    fn ports_route_to_devices_and_unclaimed_ports_float() {
        let mut bus = PioBus::new();
        bus.insert(0x3f8, 8, Box::new(Regs([0; 8]))).unwrap();
        assert!(bus.write(0x3ff, AccessWidth::Byte, 0x5a));
        assert_eq!(bus.read(0x3ff, AccessWidth::Byte), 0x5a);
        assert_eq!(bus.read(0x3f7, AccessWidth::Byte), 0xff);
        assert_eq!(bus.read(0x400, AccessWidth::Word), 0xffff_ffff);
        assert!(!bus.write(0x80, AccessWidth::Byte, 0));
        assert_eq!(bus.interrupt_level_at(0x3f8), Some(false));
        assert_eq!(bus.interrupt_level_at(0x2f8), None);
    }

    #[test]
    fn ranges_past_the_last_port_or_overlapping_are_refused() {
        let mut bus = PioBus::new();
        assert!(bus.insert(0xfff8, 8, Box::new(Regs([0; 8]))).is_ok());
        assert!(bus.insert(0xfffc, 8, Box::new(Regs([0; 8]))).is_err());
        assert!(bus.insert(0x3f8, 8, Box::new(Regs([0; 8]))).is_ok());
        assert!(bus.insert(0x3fc, 2, Box::new(Regs([0; 8]))).is_err());
        assert!(bus.insert(0x100, 0, Box::new(Regs([0; 8]))).is_err());
    }
}

//! Memory-mapped devices and the bus that routes guest accesses to them.
//!
//! In hv-kernel an access arrives as a stage-2 data abort; in hv-sim as the
//! soft MMU's slow path. Both end in [`MmioBus::read`] / [`MmioBus::write`].

use crate::addr::GuestAddress;
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

/// Width of one MMIO access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessWidth {
    /// 8 bits.
    Byte = 1,
    /// 16 bits.
    Half = 2,
    /// 32 bits.
    Word = 4,
    /// 64 bits.
    Double = 8,
}

impl AccessWidth {
    /// The width for an access of `bytes` bytes, if it is 1, 2, 4 or 8.
    pub const fn from_bytes(bytes: u64) -> Option<Self> {
        match bytes {
            1 => Some(AccessWidth::Byte),
            2 => Some(AccessWidth::Half),
            4 => Some(AccessWidth::Word),
            8 => Some(AccessWidth::Double),
            _ => None,
        }
    }

    /// Size in bytes.
    pub const fn bytes(self) -> u64 {
        self as u64
    }

    /// Mask of the value bits an access of this width carries.
    pub const fn mask(self) -> u64 {
        match self {
            AccessWidth::Double => u64::MAX,
            w => (1u64 << (w.bytes() * 8)) - 1,
        }
    }
}

/// A device register file reached through guest MMIO.
///
/// Offsets are relative to the device's base. A device never panics on an
/// access: a width or offset it does not support reads as 0 and ignores
/// writes (logging at `debug` is fine).
pub trait MmioDevice: Send {
    /// Read `width` bytes at `offset`; the result is zero-extended.
    fn read(&mut self, offset: u64, width: AccessWidth) -> u64;
    /// Write the low `width` bytes of `value` at `offset`.
    fn write(&mut self, offset: u64, width: AccessWidth, value: u64);
    /// Level of the device's interrupt line now. Homes sample this after
    /// each access and after device work completes.
    fn interrupt_level(&self) -> bool {
        false
    }
}

/// Why the bus did not complete an access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusError {
    /// No device covers the address (the home injects an abort).
    Unmapped(GuestAddress),
    /// A device range would overlap another or wrap the address space.
    Overlap(GuestAddress),
}

impl fmt::Display for BusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BusError::Unmapped(a) => write!(f, "no MMIO device at {a}"),
            BusError::Overlap(a) => write!(f, "MMIO range at {a} overlaps another device"),
        }
    }
}

struct Slot {
    base: GuestAddress,
    size: u64,
    device: Box<dyn MmioDevice>,
}

/// Devices by guest address range, sorted; lookup is a binary search.
#[derive(Default)]
pub struct MmioBus {
    slots: Vec<Slot>,
}

impl fmt::Debug for MmioBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.slots.iter().map(|s| (s.base, s.size)))
            .finish()
    }
}

impl MmioBus {
    /// An empty bus.
    pub fn new() -> Self {
        Self::default()
    }

    /// Attach `device` at `[base, base + size)`.
    pub fn insert(
        &mut self,
        base: GuestAddress,
        size: u64,
        device: Box<dyn MmioDevice>,
    ) -> Result<(), BusError> {
        let end = base
            .checked_add(size)
            .filter(|_| size > 0)
            .ok_or(BusError::Overlap(base))?;
        let i = self.slots.partition_point(|s| s.base < base);
        let clashes_prev = i
            .checked_sub(1)
            .and_then(|p| self.slots.get(p))
            .is_some_and(|p| p.base.0 + p.size > base.0);
        let clashes_next = self.slots.get(i).is_some_and(|n| n.base < end);
        if clashes_prev || clashes_next {
            return Err(BusError::Overlap(base));
        }
        self.slots.insert(i, Slot { base, size, device });
        Ok(())
    }

    fn find(&mut self, addr: GuestAddress) -> Result<(&mut Slot, u64), BusError> {
        let i = self.slots.partition_point(|s| s.base <= addr);
        let slot = i
            .checked_sub(1)
            .and_then(|i| self.slots.get_mut(i))
            .ok_or(BusError::Unmapped(addr))?;
        match addr.checked_offset_from(slot.base) {
            Some(off) if off < slot.size => Ok((slot, off)),
            _ => Err(BusError::Unmapped(addr)),
        }
    }

    /// Read from whichever device covers `addr`.
    pub fn read(&mut self, addr: GuestAddress, width: AccessWidth) -> Result<u64, BusError> {
        let (slot, off) = self.find(addr)?;
        Ok(slot.device.read(off, width) & width.mask())
    }

    /// Write to whichever device covers `addr`.
    pub fn write(
        &mut self,
        addr: GuestAddress,
        width: AccessWidth,
        value: u64,
    ) -> Result<(), BusError> {
        let (slot, off) = self.find(addr)?;
        slot.device.write(off, width, value & width.mask());
        Ok(())
    }

    /// The interrupt level of the device covering `addr`, with its base
    /// address: what a home samples after an access to that device.
    pub fn interrupt_level_at(&self, addr: GuestAddress) -> Option<(GuestAddress, bool)> {
        let i = self.slots.partition_point(|s| s.base <= addr);
        let slot = self.slots.get(i.checked_sub(1)?)?;
        let inside = addr
            .checked_offset_from(slot.base)
            .is_some_and(|off| off < slot.size);
        inside.then(|| (slot.base, slot.device.interrupt_level()))
    }

    /// Interrupt levels of all devices, with each device's base address.
    pub fn interrupt_levels(&self) -> impl Iterator<Item = (GuestAddress, bool)> + '_ {
        self.slots
            .iter()
            .map(|s| (s.base, s.device.interrupt_level()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A device with one 32-bit register at offset 0.
    struct Reg(u64);
    impl MmioDevice for Reg {
        fn read(&mut self, offset: u64, _w: AccessWidth) -> u64 {
            if offset == 0 {
                self.0
            } else {
                0
            }
        }
        fn write(&mut self, offset: u64, _w: AccessWidth, value: u64) {
            if offset == 0 {
                self.0 = value;
            }
        }
    }

    #[test]
    fn routes_by_address_and_masks_width() {
        let mut bus = MmioBus::new();
        bus.insert(GuestAddress(0x1000), 0x100, Box::new(Reg(0)))
            .unwrap();
        bus.insert(GuestAddress(0x2000), 0x100, Box::new(Reg(0)))
            .unwrap();
        bus.write(GuestAddress(0x2000), AccessWidth::Word, 0x1_2345_6789)
            .unwrap();
        assert_eq!(
            bus.read(GuestAddress(0x2000), AccessWidth::Double),
            Ok(0x2345_6789)
        );
        assert_eq!(bus.read(GuestAddress(0x1000), AccessWidth::Word), Ok(0));
        assert_eq!(bus.read(GuestAddress(0x2000), AccessWidth::Byte), Ok(0x89));
    }

    /// A device whose line follows its register's low bit.
    struct Line(u64);
    impl MmioDevice for Line {
        fn read(&mut self, _offset: u64, _w: AccessWidth) -> u64 {
            self.0
        }
        fn write(&mut self, _offset: u64, _w: AccessWidth, value: u64) {
            self.0 = value;
        }
        fn interrupt_level(&self) -> bool {
            self.0 & 1 != 0
        }
    }

    #[test]
    fn interrupt_level_of_the_device_at_an_address() {
        let mut bus = MmioBus::new();
        bus.insert(GuestAddress(0x1000), 0x100, Box::new(Line(0)))
            .unwrap();
        bus.insert(GuestAddress(0x2000), 0x100, Box::new(Line(1)))
            .unwrap();
        assert_eq!(
            bus.interrupt_level_at(GuestAddress(0x1010)),
            Some((GuestAddress(0x1000), false))
        );
        bus.write(GuestAddress(0x1010), AccessWidth::Word, 1)
            .unwrap();
        assert_eq!(
            bus.interrupt_level_at(GuestAddress(0x10ff)),
            Some((GuestAddress(0x1000), true))
        );
        assert_eq!(
            bus.interrupt_level_at(GuestAddress(0x20ff)),
            Some((GuestAddress(0x2000), true))
        );
        assert_eq!(bus.interrupt_level_at(GuestAddress(0x1100)), None);
        assert_eq!(bus.interrupt_level_at(GuestAddress(0xfff)), None);
    }

    #[test]
    fn unmapped_addresses_are_errors() {
        let mut bus = MmioBus::new();
        bus.insert(GuestAddress(0x1000), 0x100, Box::new(Reg(0)))
            .unwrap();
        assert_eq!(
            bus.read(GuestAddress(0x1100), AccessWidth::Word),
            Err(BusError::Unmapped(GuestAddress(0x1100)))
        );
        assert!(bus.read(GuestAddress(0xfff), AccessWidth::Word).is_err());
    }

    #[test]
    fn overlapping_and_wrapping_ranges_are_refused() {
        let mut bus = MmioBus::new();
        bus.insert(GuestAddress(0x1000), 0x100, Box::new(Reg(0)))
            .unwrap();
        assert!(bus
            .insert(GuestAddress(0x10ff), 0x10, Box::new(Reg(0)))
            .is_err());
        assert!(bus
            .insert(GuestAddress(0xf01), 0x100, Box::new(Reg(0)))
            .is_err());
        assert!(bus
            .insert(GuestAddress(u64::MAX), 2, Box::new(Reg(0)))
            .is_err());
        assert!(bus
            .insert(GuestAddress(0x2000), 0, Box::new(Reg(0)))
            .is_err());
        bus.insert(GuestAddress(0x1100), 0x100, Box::new(Reg(0)))
            .unwrap();
    }
}

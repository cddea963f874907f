//! A virtio-mmio slot with no device behind it. The guest machine contract
//! has 32 slots; drivers probe them all (as on QEMU `virt`), so an unused
//! slot must answer as a transport with device ID 0, not fault.

use crate::mmio::{DEVICE_ID, MAGIC, MAGIC_VALUE, VENDOR, VENDOR_ID, VERSION};
use hv_core::mmio::{AccessWidth, MmioDevice};

/// An empty virtio-mmio transport (version 2, device ID 0).
#[derive(Clone, Copy, Debug, Default)]
pub struct EmptySlot;

impl MmioDevice for EmptySlot {
    fn read(&mut self, offset: u64, width: AccessWidth) -> u64 {
        if width != AccessWidth::Word {
            return 0;
        }
        match offset {
            MAGIC_VALUE => u64::from(MAGIC),
            VERSION => 2,
            VENDOR => u64::from(VENDOR_ID),
            // DEVICE_ID reads 0 ("no device"), as does everything else.
            DEVICE_ID => 0,
            _ => 0,
        }
    }

    fn write(&mut self, _offset: u64, _width: AccessWidth, _value: u64) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_as_a_transport_without_a_device() {
        let mut slot = EmptySlot;
        assert_eq!(slot.read(MAGIC_VALUE, AccessWidth::Word), 0x7472_6976);
        assert_eq!(slot.read(VERSION, AccessWidth::Word), 2);
        assert_eq!(slot.read(DEVICE_ID, AccessWidth::Word), 0);
        assert_eq!(
            slot.read(MAGIC_VALUE, AccessWidth::Byte),
            0,
            "M1: not 32-bit"
        );
        slot.write(0x070, AccessWidth::Word, 0xf);
        assert_eq!(slot.read(0x070, AccessWidth::Word), 0, "status stays 0");
        assert!(!slot.interrupt_level());
    }
}

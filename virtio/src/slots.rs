//! Block devices on the guest machine's virtio-mmio slots (the machine
//! contract in `hv_core::machine`): each disk gets the next slot, the rest
//! answer as empty transports. Both homes build their guest's disks this way.

use crate::blk::{BlockBackend, BlockConfig, ConfigError, VirtioBlock};
use crate::empty_slot::EmptySlot;
use crate::mmio::MmioTransport;
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ops::Deref;
use hv_core::machine;
use hv_core::mem::GuestMemory;
use hv_core::mmio::{BusError, MmioBus};
use hv_core::GuestAddress;

/// A disk the guest gets.
#[derive(Debug)]
pub struct Disk<B> {
    /// Its storage.
    pub backend: B,
    /// Offer VIRTIO_BLK_F_RO and refuse writes.
    pub read_only: bool,
}

/// Where a disk went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttachedSlot {
    /// Slot number (0..32).
    pub slot: u32,
    /// Guest address of its registers.
    pub base: GuestAddress,
    /// Its interrupt (edge-triggered SPI).
    pub intid: u32,
}

/// Why the disks could not be attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttachError {
    /// More disks than slots.
    TooMany,
    /// Disk `index` has a configuration VirtioBlock refuses.
    Config {
        /// Position in the list given.
        index: usize,
        /// What was wrong.
        error: ConfigError,
    },
    /// A slot clashes with a device already on the bus.
    Bus(BusError),
}

impl From<BusError> for AttachError {
    fn from(e: BusError) -> Self {
        AttachError::Bus(e)
    }
}

/// Put `disks` on slots 0, 1, … of `bus` (512-byte logical blocks, over
/// guest memory `mem`) and fill every other slot with an [`EmptySlot`].
pub fn attach_block_devices<B, M>(
    bus: &mut MmioBus,
    mem: &M,
    disks: Vec<Disk<B>>,
) -> Result<Vec<AttachedSlot>, AttachError>
where
    B: BlockBackend + 'static,
    M: Deref + Clone + Send + 'static,
    M::Target: GuestMemory,
{
    if disks.len() > machine::VIRTIO_MMIO_SLOTS as usize {
        return Err(AttachError::TooMany);
    }
    let mut attached = Vec::new();
    for (index, (slot, disk)) in (0u32..).zip(disks).enumerate() {
        let config = BlockConfig {
            read_only: disk.read_only,
            logical_block_size: 512,
            ..BlockConfig::default()
        };
        let blk = VirtioBlock::new(disk.backend, config)
            .map_err(|error| AttachError::Config { index, error })?;
        // slot < VIRTIO_MMIO_SLOTS (checked above), so both lookups succeed.
        let (Some(base), Some(intid)) = (
            machine::virtio_mmio_slot(slot),
            machine::virtio_mmio_intid(slot),
        ) else {
            return Err(AttachError::TooMany);
        };
        bus.insert(
            base,
            machine::VIRTIO_MMIO_SLOT_SIZE,
            Box::new(MmioTransport::new(blk, mem.clone())),
        )?;
        attached.push(AttachedSlot { slot, base, intid });
    }
    for slot in attached.len() as u32..machine::VIRTIO_MMIO_SLOTS {
        if let Some(base) = machine::virtio_mmio_slot(slot) {
            bus.insert(base, machine::VIRTIO_MMIO_SLOT_SIZE, Box::new(EmptySlot))?;
        }
    }
    Ok(attached)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blk::{BackendError, MemoryBackend};
    use crate::mmio::{DEVICE_ID, MAGIC_VALUE};
    use alloc::sync::Arc;
    use hv_core::mem::GuestRam;
    use hv_core::mmio::AccessWidth;

    fn ram() -> Arc<GuestRam> {
        Arc::new(GuestRam::with_size(machine::RAM_BASE, 1 << 20).unwrap())
    }

    #[test]
    fn disks_take_slots_in_order_and_the_rest_are_empty() {
        let mut bus = MmioBus::new();
        let disks = alloc::vec![
            Disk {
                backend: MemoryBackend::new(1 << 20),
                read_only: false
            },
            Disk {
                backend: MemoryBackend::new(1 << 20),
                read_only: true
            },
        ];
        let slots = attach_block_devices(&mut bus, &ram(), disks).unwrap();
        assert_eq!(slots.len(), 2);
        assert_eq!(
            slots[1],
            AttachedSlot {
                slot: 1,
                base: GuestAddress(0x0a00_0200),
                intid: 49
            }
        );
        let id = |bus: &mut MmioBus, slot: u32| {
            let base = machine::virtio_mmio_slot(slot).unwrap().raw();
            bus.read(GuestAddress(base + DEVICE_ID), AccessWidth::Word)
                .unwrap()
        };
        assert_eq!(id(&mut bus, 0), 2, "virtio-blk");
        assert_eq!(id(&mut bus, 1), 2);
        assert_eq!(id(&mut bus, 2), 0, "empty");
        assert_eq!(id(&mut bus, 31), 0);
        let magic = bus
            .read(GuestAddress(0x0a00_3e00 + MAGIC_VALUE), AccessWidth::Word)
            .unwrap();
        assert_eq!(magic, 0x7472_6976);
    }

    /// A disk whose size is not a whole number of sectors.
    struct OddDisk;
    impl BlockBackend for OddDisk {
        fn capacity(&self) -> u64 {
            1000
        }
        fn read_at(&mut self, _: u64, _: &mut [u8]) -> Result<(), BackendError> {
            Err(BackendError::OutOfRange)
        }
        fn write_at(&mut self, _: u64, _: &[u8]) -> Result<(), BackendError> {
            Err(BackendError::OutOfRange)
        }
        fn flush(&mut self) -> Result<(), BackendError> {
            Ok(())
        }
        fn discard(&mut self, _: u64, _: u64) -> Result<(), BackendError> {
            Err(BackendError::OutOfRange)
        }
        fn write_zeroes(&mut self, _: u64, _: u64) -> Result<(), BackendError> {
            Err(BackendError::OutOfRange)
        }
    }

    #[test]
    fn bad_disks_and_too_many_are_refused() {
        let mut bus = MmioBus::new();
        let odd = alloc::vec![Disk {
            backend: OddDisk,
            read_only: false
        }];
        assert_eq!(
            attach_block_devices(&mut bus, &ram(), odd),
            Err(AttachError::Config {
                index: 0,
                error: ConfigError::Capacity(1000)
            })
        );
        let many: Vec<Disk<MemoryBackend>> = (0..33)
            .map(|_| Disk {
                backend: MemoryBackend::new(4096),
                read_only: false,
            })
            .collect();
        assert_eq!(
            attach_block_devices(&mut MmioBus::new(), &ram(), many),
            Err(AttachError::TooMany)
        );
    }
}

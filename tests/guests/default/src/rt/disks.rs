//! The guest's virtio-blk disks, found on the virtio-mmio slots of the
//! guest machine contract with `virtio-drivers`.

use crate::dma::GuestHal;
use crate::println;
use core::ptr::NonNull;
use virtio_drivers::device::blk::VirtIOBlk;
use virtio_drivers::transport::mmio::{MmioTransport, VirtIOHeader};
use virtio_drivers::transport::{DeviceType, Transport};

/// virtio-mmio slots of the guest machine contract.
const VIRTIO_MMIO_BASE: usize = 0x0a00_0000;
const VIRTIO_MMIO_SIZE: usize = 0x200;
const VIRTIO_MMIO_SLOTS: usize = 32;

/// A virtio-blk disk.
pub type Disk = VirtIOBlk<GuestHal, MmioTransport<'static>>;

/// The first read-write and the first read-only block device on the
/// virtio-mmio slots (slot order differs between QEMU and hv).
pub fn probe() -> (Option<Disk>, Option<Disk>) {
    let (mut rw, mut ro): (Option<Disk>, Option<Disk>) = (None, None);
    for slot in 0..VIRTIO_MMIO_SLOTS {
        let addr = VIRTIO_MMIO_BASE + slot * VIRTIO_MMIO_SIZE;
        let header = NonNull::new(addr as *mut VirtIOHeader).expect("slot address is not 0");
        // SAFETY: the contract puts a virtio-mmio register block (with
        // config space) of 0x200 bytes at every slot address, which this
        // guest uses through this transport only.
        let Ok(transport) = (unsafe { MmioTransport::new(header, VIRTIO_MMIO_SIZE) }) else {
            continue; // empty slot (device id 0) or not virtio
        };
        if transport.device_type() != DeviceType::Block {
            continue;
        }
        match VirtIOBlk::<GuestHal, _>::new(transport) {
            Ok(disk) => {
                let readonly = disk.readonly();
                println!(
                    "virtio-blk: {} sectors, {}",
                    disk.capacity(),
                    if readonly { "read-only" } else { "read-write" }
                );
                let place = if readonly { &mut ro } else { &mut rw };
                if place.is_none() {
                    *place = Some(disk);
                }
            }
            Err(e) => println!("virtio-blk: init failed: {e:?}"),
        }
    }
    (rw, ro)
}

//! Block devices on the guest machine's virtio-mmio slots (the machine
//! contract in `hv_core::machine`): each disk gets the next slot, the rest
//! answer as empty transports. Both homes build their guest's disks this way.
//!
//! The MMIO bus owns its devices, so [`attach_disks`] puts each transport on
//! the bus behind a lock it shares with the [`VirtioDisks`] it returns: the
//! home keeps that and calls [`VirtioDisks::poll`] to continue queue work a
//! QueueNotify left at its budget (see [`crate::mmio`]). Every access takes
//! the transport's lock; a home that runs devices under its VM lock never
//! finds it contended.

use crate::blk::{BlockBackend, BlockConfig, ConfigError, VirtioBlock};
use crate::empty_slot::EmptySlot;
use crate::mmio::{DeferredWork, MmioTransport};
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::ops::Deref;
use hv_core::machine;
use hv_core::mem::GuestMemory;
use hv_core::mmio::{AccessWidth, BusError, MmioBus, MmioDevice};
use hv_core::vm::devices::DeviceWork;
use hv_core::GuestAddress;
use spin::Mutex;

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

/// A transport as both the bus and [`VirtioDisks`] reach it.
trait SlotDevice: MmioDevice + DeferredWork {}
impl<T: MmioDevice + DeferredWork> SlotDevice for T {}

type SharedSlot = Arc<Mutex<dyn SlotDevice>>;

/// What the bus holds for a disk: the shared transport, locked per access.
struct OnBus(SharedSlot);

impl MmioDevice for OnBus {
    fn read(&mut self, offset: u64, width: AccessWidth) -> u64 {
        self.0.lock().read(offset, width)
    }
    fn write(&mut self, offset: u64, width: AccessWidth, value: u64) {
        self.0.lock().write(offset, width, value);
    }
    fn interrupt_level(&self) -> bool {
        self.0.lock().interrupt_level()
    }
}

/// The guest's disks as [`attach_disks`] put them on the bus: where each
/// went, and the way to continue the queue work their notifies left.
///
/// When to poll: after every guest exit the home handles (an MMIO access, a
/// hypercall, a WFI, an interrupt), call [`VirtioDisks::poll`] if
/// [`VirtioDisks::has_deferred_work`], then sample the bus's interrupt
/// levels as after an access. A vCPU must not sleep in WFI while work is
/// deferred (poll instead, and let the WFI complete), and a home whose
/// vCPUs may run long without exits should bound that time (e.g. a short
/// timer) while work is deferred: with work deferred, the device suppresses
/// EVENT_IDX kicks, so no QueueNotify will come to do it.
pub struct VirtioDisks {
    slots: Vec<AttachedSlot>,
    devices: Vec<SharedSlot>,
}

impl fmt::Debug for VirtioDisks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VirtioDisks")
            .field("slots", &self.slots)
            .finish_non_exhaustive()
    }
}

impl VirtioDisks {
    /// Where each disk went, in the order given.
    pub fn slots(&self) -> &[AttachedSlot] {
        &self.slots
    }

    /// Whether any disk has queue work left for a poll. Touches no guest
    /// memory.
    pub fn has_deferred_work(&self) -> bool {
        self.devices.iter().any(|d| d.lock().has_deferred_work())
    }

    /// Set the chain budget of every disk's transport
    /// ([`MmioTransport::set_chain_budget`]; the default, `None`, is the
    /// queue size).
    pub fn set_chain_budget(&self, chains: Option<usize>) {
        for d in &self.devices {
            d.lock().set_chain_budget(chains);
        }
    }

    /// Serve one more budget of every queue with work left, on every disk
    /// ([`MmioTransport::poll`]); returns whether work is still left.
    /// Interrupts are raised as by a notify: sample the bus's
    /// `interrupt_levels` afterwards.
    pub fn poll(&self) -> bool {
        let mut left = false;
        for d in &self.devices {
            left |= d.lock().poll();
        }
        left
    }
}

/// The guest machine's devices (hv-core `vm::devices`) continue the
/// disks' left-over queue work through this.
impl DeviceWork for VirtioDisks {
    fn has_deferred_work(&self) -> bool {
        VirtioDisks::has_deferred_work(self)
    }

    fn poll(&self) -> bool {
        VirtioDisks::poll(self)
    }
}

/// Where a machine has its virtio-mmio transports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotLayout {
    /// Guest address of slot 0.
    pub base: GuestAddress,
    /// Size of (and distance between) slots.
    pub stride: u64,
    /// Number of slots.
    pub count: u32,
    /// Interrupt of slot 0; slot n has this + n.
    pub intid_base: u32,
}

impl SlotLayout {
    /// The AArch64 guest machine contract's (QEMU `virt`'s) slots.
    pub const VIRT: SlotLayout = SlotLayout {
        base: machine::VIRTIO_MMIO_BASE,
        stride: machine::VIRTIO_MMIO_SLOT_SIZE,
        count: machine::VIRTIO_MMIO_SLOTS,
        intid_base: machine::VIRTIO_MMIO_INTID_BASE,
    };

    /// Guest address and interrupt of slot `n`, or `None` past the last
    /// slot (or if the address would overflow).
    pub fn slot(&self, n: u32) -> Option<(GuestAddress, u32)> {
        if n >= self.count {
            return None;
        }
        let off = u64::from(n).checked_mul(self.stride)?;
        Some((self.base.checked_add(off)?, self.intid_base.checked_add(n)?))
    }
}

/// Put `disks` on slots 0, 1, … of `bus` (512-byte logical blocks, over
/// guest memory `mem`) and fill every other slot with an [`EmptySlot`].
///
/// Each notify serves at most a budget of requests (the queue size); keep
/// the returned [`VirtioDisks`] and poll it as its documentation says, or
/// requests a notify left may wait for the guest's next one.
pub fn attach_disks<B, M>(
    bus: &mut MmioBus,
    mem: &M,
    disks: Vec<Disk<B>>,
) -> Result<VirtioDisks, AttachError>
where
    B: BlockBackend + 'static,
    M: Deref + Clone + Send + 'static,
    M::Target: GuestMemory,
{
    attach(bus, mem, disks, None, SlotLayout::VIRT)
}

/// [`attach_disks`] for homes that do not poll yet: the transports keep no
/// budget (a notify serves until the driver stops publishing, however long
/// that takes), since without a poll, requests left at a budget could wait
/// forever. Only for the transition; a home that can poll should use
/// [`attach_disks`].
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
    attach(bus, mem, disks, Some(usize::MAX), SlotLayout::VIRT).map(|d| d.slots)
}

/// [`attach_block_devices`] on the slots of `layout` (another machine's:
/// the x86 guests' microvm layout).
pub fn attach_block_devices_at<B, M>(
    layout: SlotLayout,
    bus: &mut MmioBus,
    mem: &M,
    disks: Vec<Disk<B>>,
) -> Result<Vec<AttachedSlot>, AttachError>
where
    B: BlockBackend + 'static,
    M: Deref + Clone + Send + 'static,
    M::Target: GuestMemory,
{
    attach(bus, mem, disks, Some(usize::MAX), layout).map(|d| d.slots)
}

fn attach<B, M>(
    bus: &mut MmioBus,
    mem: &M,
    disks: Vec<Disk<B>>,
    chain_budget: Option<usize>,
    layout: SlotLayout,
) -> Result<VirtioDisks, AttachError>
where
    B: BlockBackend + 'static,
    M: Deref + Clone + Send + 'static,
    M::Target: GuestMemory,
{
    if disks.len() > layout.count as usize {
        return Err(AttachError::TooMany);
    }
    let mut slots = Vec::new();
    let mut devices = Vec::new();
    for (index, (slot, disk)) in (0u32..).zip(disks).enumerate() {
        let config = BlockConfig {
            read_only: disk.read_only,
            logical_block_size: 512,
            ..BlockConfig::default()
        };
        let blk = VirtioBlock::new(disk.backend, config)
            .map_err(|error| AttachError::Config { index, error })?;
        // slot < layout.count (checked above), so the lookup succeeds
        // unless the layout's addresses overflow.
        let Some((base, intid)) = layout.slot(slot) else {
            return Err(AttachError::TooMany);
        };
        let mut transport = MmioTransport::new(blk, mem.clone());
        transport.set_chain_budget(chain_budget);
        let shared: SharedSlot = Arc::new(Mutex::new(transport));
        bus.insert(base, layout.stride, Box::new(OnBus(Arc::clone(&shared))))?;
        slots.push(AttachedSlot { slot, base, intid });
        devices.push(shared);
    }
    for slot in slots.len() as u32..layout.count {
        if let Some((base, _)) = layout.slot(slot) {
            bus.insert(base, layout.stride, Box::new(EmptySlot))?;
        }
    }
    Ok(VirtioDisks { slots, devices })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blk::{BackendError, MemoryBackend, VIRTIO_BLK_T_IN};
    use crate::device::VIRTIO_F_VERSION_1;
    use crate::mmio::{self, DEVICE_ID, MAGIC_VALUE};
    use crate::testing::{
        mmio_init, rd, wr, write_blk_header, Buf, DriverQueue, Publisher, PublishingMemory,
    };
    use hv_core::mem::GuestRam;

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

    #[test]
    fn another_machines_layout_places_disks_and_empty_slots_there() {
        let layout = SlotLayout {
            base: GuestAddress(0xfeb0_0000),
            stride: 0x200,
            count: 4,
            intid_base: 5,
        };
        let mut bus = MmioBus::new();
        let disks = alloc::vec![Disk {
            backend: MemoryBackend::new(64 << 10),
            read_only: false
        }];
        let slots = attach_block_devices_at(layout, &mut bus, &ram(), disks).unwrap();
        assert_eq!(
            slots,
            [AttachedSlot {
                slot: 0,
                base: GuestAddress(0xfeb0_0000),
                intid: 5
            }]
        );
        let id =
            |bus: &mut MmioBus, at: u64| bus.read(GuestAddress(at + DEVICE_ID), AccessWidth::Word);
        assert_eq!(id(&mut bus, 0xfeb0_0000), Ok(2));
        assert_eq!(id(&mut bus, 0xfeb0_0600), Ok(0), "the last slot is empty");
        assert!(id(&mut bus, 0xfeb0_0800).is_err(), "no fifth slot");
        assert!(
            id(&mut bus, 0x0a00_0000).is_err(),
            "nothing at virt's slots"
        );
        // More disks than slots, and slot addresses that overflow.
        let five = (0..5)
            .map(|_| Disk {
                backend: MemoryBackend::new(4096),
                read_only: false,
            })
            .collect();
        assert_eq!(
            attach_block_devices_at(layout, &mut MmioBus::new(), &ram(), five),
            Err(AttachError::TooMany)
        );
        let top = SlotLayout {
            base: GuestAddress(u64::MAX - 0x100),
            ..layout
        };
        assert_eq!(top.slot(1), None);
    }

    /// The bus window of one slot, as a device (for the driver helpers).
    struct SlotOnBus<'a> {
        bus: &'a mut MmioBus,
        base: GuestAddress,
    }

    impl MmioDevice for SlotOnBus<'_> {
        fn read(&mut self, offset: u64, width: AccessWidth) -> u64 {
            let addr = self.base.checked_add(offset).unwrap();
            self.bus.read(addr, width).unwrap()
        }
        fn write(&mut self, offset: u64, width: AccessWidth, value: u64) {
            let addr = self.base.checked_add(offset).unwrap();
            self.bus.write(addr, width, value).unwrap();
        }
    }

    const HEADER: GuestAddress = GuestAddress(machine::RAM_BASE.0 + 0x1_0000);
    const DATA: GuestAddress = GuestAddress(machine::RAM_BASE.0 + 0x1_1000);
    const STATUS_BYTE: GuestAddress = GuestAddress(machine::RAM_BASE.0 + 0x1_2000);

    /// Guest RAM with a driver that will publish `total` reads on a queue
    /// of `qsize` once the device is initialised through `bus` at `base`.
    fn busy_guest(
        bus: &mut MmioBus,
        base: GuestAddress,
        mem: &Arc<PublishingMemory<GuestRam>>,
        qsize: u16,
        total: u64,
    ) {
        write_blk_header(mem.inner(), HEADER, VIRTIO_BLK_T_IN, 0);
        let q = DriverQueue::new(mem.inner(), machine::RAM_BASE, qsize);
        let mut dev = SlotOnBus { bus, base };
        mmio_init(&mut dev, VIRTIO_F_VERSION_1, core::slice::from_ref(&q)).unwrap();
        let req = alloc::vec![
            Buf::r(HEADER, 16),
            Buf::w(DATA, 512),
            Buf::w(STATUS_BYTE, 1)
        ];
        mem.set_driver(Publisher::new(q, req, total, false));
        mem.driver_step();
    }

    fn publishing_ram() -> Arc<PublishingMemory<GuestRam>> {
        let ram = GuestRam::with_size(machine::RAM_BASE, 1 << 20).unwrap();
        Arc::new(PublishingMemory::new(ram))
    }

    fn one_disk() -> Vec<Disk<MemoryBackend>> {
        alloc::vec![Disk {
            backend: MemoryBackend::new(1 << 20),
            read_only: false
        }]
    }

    #[test]
    fn virtio_disks_poll_continues_what_a_notify_left() {
        let mem = publishing_ram();
        let mut bus = MmioBus::new();
        let disks = attach_disks(&mut bus, &mem, one_disk()).unwrap();
        let base = disks.slots()[0].base;
        assert!(!disks.has_deferred_work());
        busy_guest(&mut bus, base, &mem, 4, 40);
        let level = |bus: &MmioBus| {
            bus.interrupt_levels()
                .find(|&(b, _)| b == base)
                .is_some_and(|(_, l)| l)
        };
        let ack = |bus: &mut MmioBus| {
            let mut dev = SlotOnBus { bus, base };
            let s = rd(&mut dev, mmio::INTERRUPT_STATUS);
            wr(&mut dev, mmio::INTERRUPT_ACK, s);
        };
        SlotOnBus {
            bus: &mut bus,
            base,
        }
        .write(mmio::QUEUE_NOTIFY, AccessWidth::Word, 0);
        assert!(disks.has_deferred_work(), "a queue-size budget of 4");
        assert!(level(&bus));
        let mut polls = 0;
        while disks.has_deferred_work() {
            ack(&mut bus);
            assert!(!level(&bus));
            disks.poll();
            assert!(level(&bus), "a poll raises the interrupt as a notify does");
            polls += 1;
            assert!(polls < 100);
        }
        assert!(polls >= 9, "40 requests, at most 4 per call: {polls} polls");
        assert!(!disks.poll());
        mem.driver_step();
        mem.driver(|p, _| {
            assert_eq!(p.reaped.len(), 40);
            assert!(p.reaped_in_order());
        });
    }

    #[test]
    fn attach_block_devices_keeps_serving_until_the_driver_stops() {
        let mem = publishing_ram();
        let mut bus = MmioBus::new();
        let slots = attach_block_devices(&mut bus, &mem, one_disk()).unwrap();
        let base = slots[0].base;
        busy_guest(&mut bus, base, &mem, 4, 40);
        SlotOnBus {
            bus: &mut bus,
            base,
        }
        .write(mmio::QUEUE_NOTIFY, AccessWidth::Word, 0);
        mem.driver_step();
        assert_eq!(mem.driver(|p, _| p.reaped.len()), 40, "all in one notify");
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

//! The virtio-mmio transport, version 2 (VIRTIO 1.2 §4.2).
//!
//! [`MmioTransport`] implements [`hv_core::mmio::MmioDevice`], so a home puts
//! it on its `MmioBus` at a virtio-mmio slot and samples
//! [`MmioDevice::interrupt_level`] after each access: the line is up while
//! InterruptStatus is non-zero (the driver lowers it with InterruptACK).
//!
//! Queue work runs synchronously inside the QueueNotify write, but bounded:
//! one notify serves at most a budget of chains of that queue (by default
//! the queue size, see [`MmioTransport::set_chain_budget`]). A driver that
//! keeps publishing from another vCPU while the device drains would
//! otherwise keep the hypervisor in that write for as long as it likes,
//! with the VM's lock held and interrupts masked. When the budget runs out
//! with requests still available, the transport remembers the queue
//! ([`MmioTransport::has_deferred_work`]) and the home continues it with
//! [`MmioTransport::poll`] (one more budget per queue) after the exit, and
//! before it lets a vCPU sleep in WFI. While work is deferred the device
//! keeps EVENT_IDX kicks suppressed, so it must not wait for one.

use crate::device::{
    Drained, VirtioDevice, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_VERSION_1,
};
use crate::queue::Queue;
use alloc::vec::Vec;
use core::ops::Deref;
use hv_core::mem::GuestMemory;
use hv_core::mmio::{AccessWidth, MmioDevice};
use hv_core::GuestAddress;

/// "virt" in little-endian.
pub const MAGIC: u32 = 0x7472_6976;
/// Vendor ID reported by hv devices ("hv" in ASCII).
pub const VENDOR_ID: u32 = 0x0000_6876;

/// Register offsets.
pub const MAGIC_VALUE: u64 = 0x000;
/// Device version (2).
pub const VERSION: u64 = 0x004;
/// Virtio device ID.
pub const DEVICE_ID: u64 = 0x008;
/// Vendor ID.
pub const VENDOR: u64 = 0x00c;
/// Device features, word `DEVICE_FEATURES_SEL`.
pub const DEVICE_FEATURES: u64 = 0x010;
/// Which device feature word to read.
pub const DEVICE_FEATURES_SEL: u64 = 0x014;
/// Driver features, word `DRIVER_FEATURES_SEL`.
pub const DRIVER_FEATURES: u64 = 0x020;
/// Which driver feature word to write.
pub const DRIVER_FEATURES_SEL: u64 = 0x024;
/// Queue the queue registers refer to.
pub const QUEUE_SEL: u64 = 0x030;
/// Largest size of the selected queue (0: no such queue).
pub const QUEUE_NUM_MAX: u64 = 0x034;
/// Size of the selected queue.
pub const QUEUE_NUM: u64 = 0x038;
/// The selected queue is live.
pub const QUEUE_READY: u64 = 0x044;
/// Write a queue index to notify it.
pub const QUEUE_NOTIFY: u64 = 0x050;
/// Pending interrupt causes.
pub const INTERRUPT_STATUS: u64 = 0x060;
/// Acknowledge interrupt causes.
pub const INTERRUPT_ACK: u64 = 0x064;
/// Device status.
pub const STATUS: u64 = 0x070;
/// Descriptor table, low word.
pub const QUEUE_DESC_LOW: u64 = 0x080;
/// Descriptor table, high word.
pub const QUEUE_DESC_HIGH: u64 = 0x084;
/// Available ring, low word.
pub const QUEUE_DRIVER_LOW: u64 = 0x090;
/// Available ring, high word.
pub const QUEUE_DRIVER_HIGH: u64 = 0x094;
/// Used ring, low word.
pub const QUEUE_DEVICE_LOW: u64 = 0x0a0;
/// Used ring, high word.
pub const QUEUE_DEVICE_HIGH: u64 = 0x0a4;
/// Shared memory region select.
pub const SHM_SEL: u64 = 0x0ac;
/// Shared memory length, low word (all ones: no such region).
pub const SHM_LEN_LOW: u64 = 0x0b0;
/// Shared memory length, high word.
pub const SHM_LEN_HIGH: u64 = 0x0b4;
/// Shared memory base, low word.
pub const SHM_BASE_LOW: u64 = 0x0b8;
/// Shared memory base, high word.
pub const SHM_BASE_HIGH: u64 = 0x0bc;
/// Configuration atomicity value.
pub const CONFIG_GENERATION: u64 = 0x0fc;
/// Start of device configuration space.
pub const CONFIG: u64 = 0x100;
/// Size of the register window a home should map.
pub const WINDOW_SIZE: u64 = 0x200;

/// Status bits.
pub const STATUS_ACKNOWLEDGE: u32 = 1;
/// The guest has a driver for the device.
pub const STATUS_DRIVER: u32 = 2;
/// The driver is ready.
pub const STATUS_DRIVER_OK: u32 = 4;
/// Feature negotiation is complete.
pub const STATUS_FEATURES_OK: u32 = 8;
/// The device hit an error it cannot recover from without a reset.
pub const STATUS_DEVICE_NEEDS_RESET: u32 = 0x40;
/// The driver gave up on the device.
pub const STATUS_FAILED: u32 = 0x80;

/// InterruptStatus: a queue has new used buffers.
pub const INT_USED_BUFFER: u32 = 1;
/// InterruptStatus: the configuration (or NEEDS_RESET) changed.
pub const INT_CONFIG_CHANGE: u32 = 2;

/// A virtio device on the virtio-mmio transport, over guest memory `M`
/// (any pointer to a [`GuestMemory`], e.g. `Arc<GuestRam>`).
#[derive(Debug)]
pub struct MmioTransport<D, M> {
    device: D,
    mem: M,
    status: u32,
    device_features_sel: u32,
    driver_features_sel: u32,
    driver_features: u64,
    queue_sel: u32,
    queues: Vec<Queue>,
    /// Per queue: the last notify or poll stopped with requests left.
    deferred: Vec<bool>,
    /// Chains per notify or poll and queue; `None`: the queue size.
    chain_budget: Option<usize>,
    interrupt_status: u32,
    config_generation: u32,
    shm_sel: u32,
}

/// Queue work a transport can leave for later: what a home needs to keep a
/// guest's requests moving after a notification stopped at its budget.
pub trait DeferredWork {
    /// Whether a queue still has requests a notify or poll left for later.
    /// Cheap (no guest memory access); a home must not let a vCPU sleep in
    /// WFI, nor stop polling, while this is true.
    fn has_deferred_work(&self) -> bool;
    /// Serve one more budget of each queue with deferred work, raising the
    /// used-buffer interrupt as a notify does; returns
    /// [`DeferredWork::has_deferred_work`] afterwards.
    fn poll(&mut self) -> bool;
    /// Chains per notify or poll and queue (`None`: the queue size; see
    /// [`MmioTransport::set_chain_budget`]).
    fn set_chain_budget(&mut self, chains: Option<usize>);
}

impl<D, M> MmioTransport<D, M>
where
    D: VirtioDevice,
    M: Deref + Send,
    M::Target: GuestMemory,
{
    /// `device` behind a fresh (reset) transport using guest memory `mem`.
    pub fn new(device: D, mem: M) -> Self {
        let queues: Vec<Queue> = device
            .queue_max_sizes()
            .iter()
            .map(|&n| Queue::new(n))
            .collect();
        let deferred = alloc::vec![false; queues.len()];
        MmioTransport {
            device,
            mem,
            status: 0,
            device_features_sel: 0,
            driver_features_sel: 0,
            driver_features: 0,
            queue_sel: 0,
            queues,
            deferred,
            chain_budget: None,
            interrupt_status: 0,
            config_generation: 0,
            shm_sel: 0,
        }
    }

    /// The device model.
    pub fn device(&self) -> &D {
        &self.device
    }
    /// The device model, mutably.
    pub fn device_mut(&mut self) -> &mut D {
        &mut self.device
    }
    /// The guest memory handle.
    pub fn memory(&self) -> &M {
        &self.mem
    }
    /// Device status register.
    pub fn status(&self) -> u32 {
        self.status
    }
    /// InterruptStatus register.
    pub fn interrupt_status(&self) -> u32 {
        self.interrupt_status
    }
    /// The queues (for inspection).
    pub fn queues(&self) -> &[Queue] {
        &self.queues
    }
    /// How many chains one notify or poll serves of one queue: by default
    /// (`None`) the queue size the driver chose. That is as many requests
    /// as a driver can have available at once, so a driver that publishes
    /// and then notifies gets all of them served in that notify; only a
    /// driver that keeps publishing while the device drains (another vCPU)
    /// has work deferred. The worst case per notify stays bounded by
    /// QueueNumMax, which the device model chooses (256 for VirtioBlock),
    /// not by the guest. `Some(n)` sets a fixed budget (at least 1).
    pub fn set_chain_budget(&mut self, chains: Option<usize>) {
        self.chain_budget = chains.map(|n| n.max(1));
    }
    /// The budget [`MmioTransport::set_chain_budget`] set.
    pub fn chain_budget(&self) -> Option<usize> {
        self.chain_budget
    }
    /// Features the driver wrote (accepted or not).
    pub fn driver_features(&self) -> u64 {
        self.driver_features
    }

    /// The home changed the device configuration (e.g. resized the disk):
    /// bump ConfigGeneration and raise a configuration-change interrupt.
    pub fn config_changed(&mut self) {
        self.config_generation = self.config_generation.wrapping_add(1);
        if self.status & STATUS_DRIVER_OK != 0 {
            self.interrupt_status |= INT_CONFIG_CHANGE;
        }
    }

    /// Full device reset (Status = 0, rule M3).
    pub fn reset(&mut self) {
        self.status = 0;
        self.device_features_sel = 0;
        self.driver_features_sel = 0;
        self.driver_features = 0;
        self.queue_sel = 0;
        self.interrupt_status = 0;
        self.shm_sel = 0;
        for q in &mut self.queues {
            q.reset();
        }
        self.deferred.fill(false);
        self.device.reset();
    }

    fn selected_queue(&mut self) -> Option<&mut Queue> {
        self.queues.get_mut(usize::try_from(self.queue_sel).ok()?)
    }

    /// Queue registers may change only between FEATURES_OK and DRIVER_OK,
    /// and only while the queue is not ready (rule M2).
    fn queue_config_allowed(&self) -> bool {
        self.status & STATUS_FEATURES_OK != 0
            && self.status & (STATUS_DRIVER_OK | STATUS_FAILED) == 0
    }

    fn write_status(&mut self, value: u32) {
        if value == 0 {
            self.reset();
            return;
        }
        let old = self.status;
        // NEEDS_RESET belongs to the device; the driver cannot set or clear it.
        let new = (value & 0xff & !STATUS_DEVICE_NEEDS_RESET) | (old & STATUS_DEVICE_NEEDS_RESET);
        let known = STATUS_ACKNOWLEDGE
            | STATUS_DRIVER
            | STATUS_FEATURES_OK
            | STATUS_DRIVER_OK
            | STATUS_DEVICE_NEEDS_RESET
            | STATUS_FAILED;
        // Only a reset clears bits; unknown bits are refused.
        if new & old != old || new & !known != 0 {
            log::debug!("virtio-mmio: status {old:#x} -> {value:#x} refused");
            return;
        }
        let added = new & !old;
        let has = |bit: u32| new & bit != 0;
        // Each step needs the one before (§3.1.1).
        if (has(STATUS_DRIVER) && !has(STATUS_ACKNOWLEDGE))
            || (has(STATUS_FEATURES_OK) && !has(STATUS_DRIVER))
            || (added & STATUS_DRIVER_OK != 0 && old & STATUS_FEATURES_OK == 0)
        {
            log::debug!("virtio-mmio: status {old:#x} -> {value:#x} out of order");
            return;
        }
        let mut new = new;
        if added & STATUS_FEATURES_OK != 0 {
            let offered = self.device.device_features();
            let extra = self.driver_features & !offered;
            if extra != 0 || self.driver_features & VIRTIO_F_VERSION_1 == 0 {
                log::debug!(
                    "virtio-mmio: FEATURES_OK refused for {:#x}",
                    self.driver_features
                );
                new &= !STATUS_FEATURES_OK;
            } else {
                self.device.ack_features(self.driver_features);
                let event_idx = self.driver_features & VIRTIO_F_EVENT_IDX != 0;
                let indirect = self.driver_features & VIRTIO_F_INDIRECT_DESC != 0;
                for q in &mut self.queues {
                    q.set_features(event_idx, indirect);
                }
            }
        }
        self.status = new;
        if !self.queue_work_allowed() {
            // FAILED: the driver gave up; no queue work from now on.
            self.deferred.fill(false);
        }
    }

    /// Rule M4: no queue work before DRIVER_OK, nor once broken or failed.
    fn queue_work_allowed(&self) -> bool {
        self.status & STATUS_DRIVER_OK != 0
            && self.status & (STATUS_DEVICE_NEEDS_RESET | STATUS_FAILED) == 0
    }

    fn notify(&mut self, index: u32) {
        if !self.queue_work_allowed() {
            return;
        }
        if let Ok(i) = usize::try_from(index) {
            self.run_queue(i);
        }
    }

    /// One budget of queue `i`; remembers whether work is left.
    fn run_queue(&mut self, i: usize) {
        let Some(queue) = self.queues.get_mut(i) else {
            return;
        };
        let left = if queue.ready() {
            let budget = self
                .chain_budget
                .unwrap_or_else(|| usize::from(queue.size()));
            match self.device.process_queue(i, queue, &*self.mem, budget) {
                Ok(Drained {
                    notify, work_left, ..
                }) => {
                    if notify {
                        self.interrupt_status |= INT_USED_BUFFER;
                    }
                    work_left
                }
                Err(e) => {
                    log::warn!("virtio-mmio: queue {i} needs reset: {e:?}");
                    self.status |= STATUS_DEVICE_NEEDS_RESET;
                    self.interrupt_status |= INT_CONFIG_CHANGE;
                    // NEEDS_RESET stops all queue work until a reset.
                    self.deferred.fill(false);
                    false
                }
            }
        } else {
            false
        };
        if let Some(d) = self.deferred.get_mut(i) {
            *d = left;
        }
    }

    /// Whether a queue still has requests that a notify or poll left for
    /// later (see the module documentation). Touches no guest memory.
    pub fn has_deferred_work(&self) -> bool {
        self.deferred.contains(&true)
    }

    /// Whether queue `index` has requests left for a poll.
    pub fn queue_has_deferred_work(&self, index: usize) -> bool {
        self.deferred.get(index) == Some(&true)
    }

    /// Serve one more budget of every queue whose last notify or poll
    /// stopped with requests left, in queue order, raising the used-buffer
    /// interrupt as a notify does (sample [`MmioDevice::interrupt_level`]
    /// afterwards). Returns whether work is still left. Does nothing when
    /// nothing is deferred.
    pub fn poll(&mut self) -> bool {
        if !self.queue_work_allowed() {
            self.deferred.fill(false);
            return false;
        }
        for i in 0..self.deferred.len() {
            if self.deferred.get(i) == Some(&true) {
                self.run_queue(i);
            }
        }
        self.has_deferred_work()
    }

    fn read_reg(&mut self, offset: u64) -> u32 {
        match offset {
            MAGIC_VALUE => MAGIC,
            VERSION => 2,
            DEVICE_ID => self.device.device_id(),
            VENDOR => VENDOR_ID,
            DEVICE_FEATURES => match self.device_features_sel {
                0 => self.device.device_features() as u32,
                1 => (self.device.device_features() >> 32) as u32,
                _ => 0,
            },
            QUEUE_NUM_MAX => self.selected_queue().map_or(0, |q| u32::from(q.max_size())),
            QUEUE_READY => self.selected_queue().map_or(0, |q| u32::from(q.ready())),
            INTERRUPT_STATUS => self.interrupt_status,
            STATUS => self.status,
            SHM_LEN_LOW | SHM_LEN_HIGH | SHM_BASE_LOW | SHM_BASE_HIGH => u32::MAX,
            CONFIG_GENERATION => self.config_generation,
            // Write-only registers, reserved and unknown offsets.
            _ => 0,
        }
    }

    fn write_reg(&mut self, offset: u64, value: u32) {
        match offset {
            DEVICE_FEATURES_SEL => self.device_features_sel = value,
            DRIVER_FEATURES_SEL => self.driver_features_sel = value,
            DRIVER_FEATURES => {
                // Only while negotiating (rule M2).
                let negotiating = self.status & STATUS_DRIVER != 0
                    && self.status & (STATUS_FEATURES_OK | STATUS_FAILED) == 0;
                if !negotiating {
                    return;
                }
                let v = u64::from(value);
                match self.driver_features_sel {
                    0 => self.driver_features = (self.driver_features & !0xffff_ffff) | v,
                    1 => self.driver_features = (self.driver_features & 0xffff_ffff) | (v << 32),
                    _ => {}
                }
            }
            QUEUE_SEL => self.queue_sel = value,
            QUEUE_NUM | QUEUE_READY | QUEUE_DESC_LOW | QUEUE_DESC_HIGH | QUEUE_DRIVER_LOW
            | QUEUE_DRIVER_HIGH | QUEUE_DEVICE_LOW | QUEUE_DEVICE_HIGH => {
                self.write_queue_reg(offset, value);
            }
            QUEUE_NOTIFY => self.notify(value),
            INTERRUPT_ACK => self.interrupt_status &= !value,
            STATUS => self.write_status(value),
            SHM_SEL => self.shm_sel = value,
            // Read-only registers, reserved and unknown offsets.
            _ => {}
        }
    }

    fn write_queue_reg(&mut self, offset: u64, value: u32) {
        // Stopping a queue is allowed at any time once features are agreed:
        // "to stop using the queue the driver MUST write zero to QueueReady
        // and read the value back" (virtio-mmio, 4.2.2.2). Drivers do this on
        // teardown (virtio-drivers spins until it reads 0 back).
        if offset == QUEUE_READY && value == 0 && self.status & STATUS_FEATURES_OK != 0 {
            let i = usize::try_from(self.queue_sel).unwrap_or(usize::MAX);
            if let Some(q) = self.queues.get_mut(i) {
                q.set_not_ready();
            }
            // Requests left for a poll go with the queue.
            if let Some(d) = self.deferred.get_mut(i) {
                *d = false;
            }
            return;
        }
        if !self.queue_config_allowed() {
            return;
        }
        let mem = &*self.mem;
        let Some(q) = self
            .queues
            .get_mut(usize::try_from(self.queue_sel).unwrap_or(usize::MAX))
        else {
            return;
        };
        if offset == QUEUE_READY {
            if value == 1 {
                if let Err(e) = q.set_ready(mem) {
                    log::debug!("virtio-mmio: queue not usable: {e:?}");
                }
            }
            return;
        }
        if q.ready() {
            return;
        }
        let set_low = |a: GuestAddress| GuestAddress((a.0 & !0xffff_ffff) | u64::from(value));
        let set_high =
            |a: GuestAddress| GuestAddress((a.0 & 0xffff_ffff) | (u64::from(value) << 32));
        match offset {
            // Sizes above u16::MAX are never valid; 0 is refused at ready.
            QUEUE_NUM => q.set_size(u16::try_from(value).unwrap_or(0)),
            QUEUE_DESC_LOW => q.set_desc_table(set_low(q.desc_table())),
            QUEUE_DESC_HIGH => q.set_desc_table(set_high(q.desc_table())),
            QUEUE_DRIVER_LOW => q.set_avail_ring(set_low(q.avail_ring())),
            QUEUE_DRIVER_HIGH => q.set_avail_ring(set_high(q.avail_ring())),
            QUEUE_DEVICE_LOW => q.set_used_ring(set_low(q.used_ring())),
            QUEUE_DEVICE_HIGH => q.set_used_ring(set_high(q.used_ring())),
            _ => {}
        }
    }
}

impl<D, M> MmioDevice for MmioTransport<D, M>
where
    D: VirtioDevice,
    M: Deref + Send,
    M::Target: GuestMemory,
{
    fn read(&mut self, offset: u64, width: AccessWidth) -> u64 {
        if offset >= CONFIG {
            let mut buf = [0u8; 8];
            // width.bytes() <= 8.
            let data = &mut buf[..width.bytes() as usize];
            self.device.read_config(offset - CONFIG, data);
            return u64::from_le_bytes(buf);
        }
        // Rule M1: registers are 32 bits wide and 32-bit aligned.
        if width != AccessWidth::Word || offset % 4 != 0 {
            return 0;
        }
        u64::from(self.read_reg(offset))
    }

    fn write(&mut self, offset: u64, width: AccessWidth, value: u64) {
        if offset >= CONFIG {
            let bytes = value.to_le_bytes();
            // width.bytes() <= 8 == bytes.len().
            self.device
                .write_config(offset - CONFIG, &bytes[..width.bytes() as usize]);
            return;
        }
        if width != AccessWidth::Word || offset % 4 != 0 {
            return;
        }
        // A Word access carries 32 bits.
        self.write_reg(offset, value as u32);
    }

    fn interrupt_level(&self) -> bool {
        self.interrupt_status != 0
    }
}

impl<D, M> DeferredWork for MmioTransport<D, M>
where
    D: VirtioDevice,
    M: Deref + Send,
    M::Target: GuestMemory,
{
    fn has_deferred_work(&self) -> bool {
        MmioTransport::has_deferred_work(self)
    }
    fn poll(&mut self) -> bool {
        MmioTransport::poll(self)
    }
    fn set_chain_budget(&mut self, chains: Option<usize>) {
        MmioTransport::set_chain_budget(self, chains);
    }
}

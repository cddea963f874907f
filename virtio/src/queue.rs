//! Split virtqueues (VIRTIO 1.2 §2.7) over [`GuestMemory`].
//!
//! The device side of one queue: the three rings in guest memory, the
//! [`DescriptorChain`] walker that refuses every malformed chain a hostile
//! guest can build, the used ring, and VIRTIO_F_EVENT_IDX notification
//! suppression.
//!
//! Two kinds of failure are kept apart:
//!
//! * a [`ChainError`] concerns one chain: the device completes that chain
//!   with used length 0 and goes on with the next one;
//! * a [`QueueError`] concerns the whole queue (its configuration, or an
//!   available index the driver corrupted): the queue is marked broken and
//!   the transport asks the driver for a reset instead of spinning on it.
//!
//! Memory ordering (§2.7.13, Linux `virtio_ring`): the available index is
//! loaded with `Acquire` before the ring entry and descriptors it publishes
//! are read; a used element is written before the used index is stored with
//! `Release`; and a `SeqCst` fence separates "publish used index / avail
//! event" from "read the driver's suppression field / available index" so
//! that neither side can miss the other's update.

use alloc::vec::Vec;
use core::sync::atomic::{fence, Ordering};
use hv_core::mem::{GuestMemory, MemError};
use hv_core::GuestAddress;

/// The buffer continues in the descriptor named by `next`.
pub const VIRTQ_DESC_F_NEXT: u16 = 1;
/// The buffer is device-writable (otherwise device-readable).
pub const VIRTQ_DESC_F_WRITE: u16 = 2;
/// The buffer holds a table of indirect descriptors.
pub const VIRTQ_DESC_F_INDIRECT: u16 = 4;
/// In `avail.flags`: the driver does not want used-buffer notifications.
pub const VIRTQ_AVAIL_F_NO_INTERRUPT: u16 = 1;

/// Size of one descriptor in bytes.
pub const DESC_SIZE: u64 = 16;
/// The largest queue size the split ring format allows.
pub const MAX_QUEUE_SIZE: u16 = 32768;

/// Why a whole queue cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueError {
    /// The queue has not been made ready.
    NotReady,
    /// The queue was marked broken earlier; only a reset helps.
    Broken,
    /// Queue size 0, not a power of two, or above the maximum.
    BadSize(u16),
    /// A ring address does not have the alignment the spec requires.
    Misaligned(GuestAddress),
    /// A ring does not lie inside guest RAM (or its end overflows).
    RingOutOfRange(GuestAddress),
    /// The driver's available index is more than a queue size ahead of what
    /// the device has consumed: the queue is broken.
    AvailIndexTooFarAhead {
        /// The next entry the device expected to consume.
        next_avail: u16,
        /// The index the driver published.
        avail_idx: u16,
    },
    /// The driver offered a head that is still in flight; the entry was
    /// consumed and ignored (completing it would complete the first use).
    HeadInFlight(u16),
    /// A ring access failed although the rings were checked at setup.
    Memory(MemError),
}

impl From<MemError> for QueueError {
    fn from(e: MemError) -> Self {
        QueueError::Memory(e)
    }
}

/// Why one descriptor chain was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainError {
    /// The head index is not below the queue size.
    HeadOutOfRange(u16),
    /// A `next` index is not below the size of its table.
    NextOutOfRange(u16),
    /// More descriptors than the queue size (a cycle, or an overlong chain).
    TooLong,
    /// `addr + len` overflows the address space.
    AddressOverflow,
    /// A buffer lies (partly) outside guest RAM.
    OutOfRam,
    /// The lengths of the chain add up to more than `u32::MAX`.
    LengthOverflow,
    /// An indirect descriptor inside an indirect table.
    NestedIndirect,
    /// An indirect table whose length is 0 or not a multiple of 16, or that
    /// holds more entries than the queue size.
    BadIndirectLength,
    /// VIRTIO_F_INDIRECT_DESC was not negotiated.
    IndirectNotNegotiated,
    /// An indirect descriptor that also has `NEXT` set, or that is not the
    /// head of its chain.
    MisplacedIndirect,
    /// A device-readable descriptor follows a device-writable one.
    ReadableAfterWritable,
    /// Reading a descriptor failed.
    Memory(MemError),
}

/// One validated buffer of a chain. `addr..addr + len` is inside guest RAM.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Descriptor {
    /// Guest address of the buffer.
    pub addr: GuestAddress,
    /// Length in bytes.
    pub len: u32,
    /// `VIRTQ_DESC_F_*` flags as the driver wrote them.
    pub flags: u16,
}

impl Descriptor {
    /// Whether the device may write the buffer (otherwise it may only read).
    #[inline]
    pub fn is_write_only(&self) -> bool {
        self.flags & VIRTQ_DESC_F_WRITE != 0
    }
}

/// Walks one descriptor chain, validating as it goes.
///
/// Every item is either a descriptor whose buffer lies in guest RAM or the
/// first error; after an error the iterator is fused. The walk stops after at
/// most `queue size` descriptors, so a cycle cannot make it spin, and it reads
/// each descriptor once, so a guest changing the table while the walk runs
/// cannot make an earlier check stale.
#[derive(Debug)]
pub struct DescriptorChain<'a, M: ?Sized> {
    mem: &'a M,
    queue_size: u16,
    /// Table being walked: the descriptor table or one indirect table.
    table: GuestAddress,
    /// Entries in `table`.
    table_len: u32,
    index: u32,
    /// Data descriptors yielded so far.
    count: u32,
    total_len: u64,
    indirect_allowed: bool,
    in_indirect: bool,
    at_head: bool,
    seen_write: bool,
    done: bool,
}

impl<'a, M: GuestMemory + ?Sized> DescriptorChain<'a, M> {
    /// A walker over the chain starting at `head` in the descriptor table
    /// `table` of a queue of `queue_size` entries.
    pub fn new(
        mem: &'a M,
        table: GuestAddress,
        queue_size: u16,
        head: u16,
        indirect_allowed: bool,
    ) -> Self {
        DescriptorChain {
            mem,
            queue_size,
            table,
            table_len: u32::from(queue_size),
            index: u32::from(head),
            count: 0,
            total_len: 0,
            indirect_allowed,
            in_indirect: false,
            at_head: true,
            seen_write: false,
            done: false,
        }
    }

    /// Sum of the lengths yielded so far.
    pub fn total_len(&self) -> u64 {
        self.total_len
    }

    fn step(&mut self) -> Result<Descriptor, ChainError> {
        loop {
            if self.index >= self.table_len {
                // Indices are u16 in the ring format and tables hold at most
                // MAX_QUEUE_SIZE entries, so the truncation is lossless.
                let i = self.index as u16;
                return Err(if self.at_head {
                    ChainError::HeadOutOfRange(i)
                } else {
                    ChainError::NextOutOfRange(i)
                });
            }
            // index < table_len <= 2^16, so the product fits easily; the sum
            // is checked because a hostile indirect table may sit anywhere.
            let at = self
                .table
                .checked_add(u64::from(self.index) * DESC_SIZE)
                .ok_or(ChainError::AddressOverflow)?;
            let mut raw = [0u8; 16];
            self.mem.read(at, &mut raw).map_err(ChainError::Memory)?;
            let addr = u64::from_le_bytes([
                raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7],
            ]);
            let len = u32::from_le_bytes([raw[8], raw[9], raw[10], raw[11]]);
            let flags = u16::from_le_bytes([raw[12], raw[13]]);
            let next = u16::from_le_bytes([raw[14], raw[15]]);

            if flags & VIRTQ_DESC_F_INDIRECT != 0 {
                if !self.indirect_allowed {
                    return Err(ChainError::IndirectNotNegotiated);
                }
                if self.in_indirect {
                    return Err(ChainError::NestedIndirect);
                }
                if !self.at_head || flags & VIRTQ_DESC_F_NEXT != 0 {
                    return Err(ChainError::MisplacedIndirect);
                }
                let entries = u64::from(len) / DESC_SIZE;
                if len == 0
                    || u64::from(len) % DESC_SIZE != 0
                    || entries > u64::from(self.queue_size)
                {
                    return Err(ChainError::BadIndirectLength);
                }
                let table = GuestAddress(addr);
                check_buffer(self.mem, table, len)?;
                // No alignment demanded: real drivers do not align the table.
                self.table = table;
                // entries <= queue_size <= 2^15 (checked above).
                self.table_len = entries as u32;
                self.index = 0;
                self.in_indirect = true;
                self.at_head = false;
                continue;
            }

            self.count += 1;
            if self.count > u32::from(self.queue_size) {
                return Err(ChainError::TooLong);
            }
            let buf = GuestAddress(addr);
            check_buffer(self.mem, buf, len)?;
            self.total_len += u64::from(len);
            if self.total_len > u64::from(u32::MAX) {
                return Err(ChainError::LengthOverflow);
            }
            let write = flags & VIRTQ_DESC_F_WRITE != 0;
            if self.seen_write && !write {
                return Err(ChainError::ReadableAfterWritable);
            }
            self.seen_write |= write;
            self.at_head = false;
            if flags & VIRTQ_DESC_F_NEXT != 0 {
                self.index = u32::from(next);
            } else {
                self.done = true;
            }
            return Ok(Descriptor {
                addr: buf,
                len,
                flags,
            });
        }
    }
}

/// `[addr, addr + len)` must not overflow and must lie in guest RAM.
fn check_buffer<M: GuestMemory + ?Sized>(
    mem: &M,
    addr: GuestAddress,
    len: u32,
) -> Result<(), ChainError> {
    if addr.checked_add(u64::from(len)).is_none() {
        return Err(ChainError::AddressOverflow);
    }
    mem.check_range(addr, u64::from(len))
        .map_err(|_| ChainError::OutOfRam)
}

impl<M: GuestMemory + ?Sized> Iterator for DescriptorChain<'_, M> {
    type Item = Result<Descriptor, ChainError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.step() {
            Ok(d) => Some(Ok(d)),
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Device side of one split virtqueue.
#[derive(Debug, Clone)]
pub struct Queue {
    max_size: u16,
    size: u16,
    ready: bool,
    desc_table: GuestAddress,
    avail_ring: GuestAddress,
    used_ring: GuestAddress,
    next_avail: u16,
    next_used: u16,
    /// `next_used` when the driver was last considered for a notification.
    signalled_used: u16,
    event_idx: bool,
    indirect: bool,
    broken: bool,
    /// One bit per head that was popped and not yet completed.
    in_flight: Vec<u64>,
}

impl Queue {
    /// A queue that can hold up to `max_size` entries (clamped to 1..=32768;
    /// the transport reports it as QueueNumMax). Not ready.
    pub fn new(max_size: u16) -> Self {
        let max_size = max_size.clamp(1, MAX_QUEUE_SIZE);
        Queue {
            max_size,
            size: max_size,
            ready: false,
            desc_table: GuestAddress(0),
            avail_ring: GuestAddress(0),
            used_ring: GuestAddress(0),
            next_avail: 0,
            next_used: 0,
            signalled_used: 0,
            event_idx: false,
            indirect: false,
            broken: false,
            in_flight: Vec::new(),
        }
    }

    /// Back to the state after [`Queue::new`] (keeps the bitmap allocation).
    pub fn reset(&mut self) {
        let mut in_flight = core::mem::take(&mut self.in_flight);
        in_flight.clear();
        *self = Queue {
            in_flight,
            ..Queue::new(self.max_size)
        };
    }

    /// The largest size the driver may choose.
    pub fn max_size(&self) -> u16 {
        self.max_size
    }
    /// The size the driver chose.
    pub fn size(&self) -> u16 {
        self.size
    }
    /// Whether the queue is live.
    pub fn ready(&self) -> bool {
        self.ready
    }
    /// Whether the driver corrupted the queue; only a reset helps.
    pub fn is_broken(&self) -> bool {
        self.broken
    }
    /// Next available-ring entry the device will consume.
    pub fn next_avail(&self) -> u16 {
        self.next_avail
    }
    /// Next used-ring entry the device will fill.
    pub fn next_used(&self) -> u16 {
        self.next_used
    }
    /// Descriptor table address.
    pub fn desc_table(&self) -> GuestAddress {
        self.desc_table
    }
    /// Available (driver) ring address.
    pub fn avail_ring(&self) -> GuestAddress {
        self.avail_ring
    }
    /// Used (device) ring address.
    pub fn used_ring(&self) -> GuestAddress {
        self.used_ring
    }

    /// Set the size; ignored while the queue is ready. Checked at
    /// [`Queue::set_ready`].
    pub fn set_size(&mut self, size: u16) {
        if !self.ready {
            self.size = size;
        }
    }
    /// Set the descriptor table address; ignored while ready.
    pub fn set_desc_table(&mut self, addr: GuestAddress) {
        if !self.ready {
            self.desc_table = addr;
        }
    }
    /// Set the available ring address; ignored while ready.
    pub fn set_avail_ring(&mut self, addr: GuestAddress) {
        if !self.ready {
            self.avail_ring = addr;
        }
    }
    /// Set the used ring address; ignored while ready.
    pub fn set_used_ring(&mut self, addr: GuestAddress) {
        if !self.ready {
            self.used_ring = addr;
        }
    }
    /// Which negotiated features the queue honours; ignored while ready.
    pub fn set_features(&mut self, event_idx: bool, indirect: bool) {
        if !self.ready {
            self.event_idx = event_idx;
            self.indirect = indirect;
        }
    }

    /// Check the configuration and make the queue live. On error the queue
    /// stays not ready (rules Q1, Q2).
    pub fn set_ready<M: GuestMemory + ?Sized>(&mut self, mem: &M) -> Result<(), QueueError> {
        if self.ready {
            return Ok(());
        }
        let size = self.size;
        if size == 0 || !size.is_power_of_two() || size > self.max_size {
            return Err(QueueError::BadSize(size));
        }
        let n = u64::from(size);
        for (addr, align, len) in [
            (self.desc_table, 16, DESC_SIZE * n),
            (self.avail_ring, 2, 6 + 2 * n),
            (self.used_ring, 4, 6 + 8 * n),
        ] {
            if !addr.is_aligned(align) {
                return Err(QueueError::Misaligned(addr));
            }
            mem.check_range(addr, len)
                .map_err(|_| QueueError::RingOutOfRange(addr))?;
        }
        self.in_flight.clear();
        self.in_flight.resize(usize::from(size).div_ceil(64), 0);
        self.next_avail = 0;
        self.next_used = 0;
        self.signalled_used = 0;
        self.broken = false;
        self.ready = true;
        Ok(())
    }

    /// Take the queue down (the driver wrote QueueReady = 0 before
    /// DRIVER_OK); the configuration is kept.
    pub fn set_not_ready(&mut self) {
        self.ready = false;
    }

    fn live(&self) -> Result<(), QueueError> {
        if self.broken {
            Err(QueueError::Broken)
        } else if !self.ready {
            Err(QueueError::NotReady)
        } else {
            Ok(())
        }
    }

    fn mark_broken(&mut self, e: QueueError) -> QueueError {
        log::warn!("virtqueue broken: {e:?}");
        self.broken = true;
        e
    }

    /// Offset of ring slot `idx` (size is a power of two, so the mask is the
    /// modulo; `size >= 1` while ready).
    #[inline]
    fn slot(&self, idx: u16) -> u64 {
        u64::from(idx & (self.size - 1))
    }

    /// The driver's available index now.
    pub fn avail_idx<M: GuestMemory + ?Sized>(
        &self,
        mem: &M,
        order: Ordering,
    ) -> Result<u16, QueueError> {
        self.live()?;
        // avail_ring is 2-aligned and in range (checked in set_ready).
        Ok(mem.load_u16(GuestAddress(self.avail_ring.0 + 2), order)?)
    }

    /// The available index (Acquire); a failing ring access breaks the queue.
    fn load_avail_idx<M: GuestMemory + ?Sized>(&mut self, mem: &M) -> Result<u16, QueueError> {
        self.avail_idx(mem, Ordering::Acquire).map_err(|e| match e {
            QueueError::Memory(_) => self.mark_broken(e),
            e => e,
        })
    }

    /// Whether the driver has published entries the device has not consumed
    /// yet. Moves nothing and writes nothing.
    pub fn has_available<M: GuestMemory + ?Sized>(&mut self, mem: &M) -> Result<bool, QueueError> {
        Ok(self.load_avail_idx(mem)? != self.next_avail)
    }

    /// Consume the next available-ring entry and return its head index.
    ///
    /// `Ok(None)` when the ring is empty. The head is not range-checked here:
    /// [`Queue::chain`] reports a bad head, so the caller completes it with
    /// length 0 (rule Q4). `Err(HeadInFlight)` consumed a duplicate head
    /// (rule Q11); call again. Any other error broke the queue (rule Q3).
    pub fn pop_avail<M: GuestMemory + ?Sized>(
        &mut self,
        mem: &M,
    ) -> Result<Option<u16>, QueueError> {
        let avail_idx = self.load_avail_idx(mem)?;
        let pending = avail_idx.wrapping_sub(self.next_avail);
        if pending == 0 {
            return Ok(None);
        }
        if pending > self.size {
            let e = QueueError::AvailIndexTooFarAhead {
                next_avail: self.next_avail,
                avail_idx,
            };
            return Err(self.mark_broken(e));
        }
        // In range: the ring holds `size` u16 entries after 4 header bytes.
        let at = GuestAddress(self.avail_ring.0 + 4 + 2 * self.slot(self.next_avail));
        let head = match mem.load_u16(at, Ordering::Relaxed) {
            Ok(h) => h,
            Err(e) => return Err(self.mark_broken(e.into())),
        };
        self.next_avail = self.next_avail.wrapping_add(1);
        if head < self.size {
            let (word, bit) = (usize::from(head / 64), head % 64);
            // `in_flight` has size.div_ceil(64) words and head < size.
            if let Some(w) = self.in_flight.get_mut(word) {
                if *w & (1 << bit) != 0 {
                    log::debug!("virtqueue: head {head} offered while in flight");
                    return Err(QueueError::HeadInFlight(head));
                }
                *w |= 1 << bit;
            }
        }
        Ok(Some(head))
    }

    /// A walker over the chain that starts at `head`.
    pub fn chain<'a, M: GuestMemory + ?Sized>(
        &self,
        mem: &'a M,
        head: u16,
    ) -> DescriptorChain<'a, M> {
        DescriptorChain::new(mem, self.desc_table, self.size, head, self.indirect)
    }

    /// Put `(head, len)` on the used ring and publish it.
    pub fn add_used<M: GuestMemory + ?Sized>(
        &mut self,
        mem: &M,
        head: u16,
        len: u32,
    ) -> Result<(), QueueError> {
        self.live()?;
        let at = GuestAddress(self.used_ring.0 + 4 + 8 * self.slot(self.next_used));
        let elem = u64::from(head) | (u64::from(len) << 32);
        if let Err(e) = mem.write_u64(at, elem) {
            return Err(self.mark_broken(e.into()));
        }
        self.next_used = self.next_used.wrapping_add(1);
        // The element above must be visible before the index that covers it.
        if let Err(e) = mem.store_u16(
            GuestAddress(self.used_ring.0 + 2),
            self.next_used,
            Ordering::Release,
        ) {
            return Err(self.mark_broken(e.into()));
        }
        if head < self.size {
            if let Some(w) = self.in_flight.get_mut(usize::from(head / 64)) {
                *w &= !(1 << (head % 64));
            }
        }
        Ok(())
    }

    /// Tell the driver which available index the device wants to be
    /// notified about (EVENT_IDX) and report whether more entries arrived
    /// meanwhile, in which case the caller must process again.
    pub fn enable_notification<M: GuestMemory + ?Sized>(
        &mut self,
        mem: &M,
    ) -> Result<bool, QueueError> {
        self.live()?;
        if self.event_idx {
            // avail_event follows the `size` used elements; 2-aligned.
            let at = GuestAddress(self.used_ring.0 + 4 + 8 * u64::from(self.size));
            if let Err(e) = mem.store_u16(at, self.next_avail, Ordering::Relaxed) {
                return Err(self.mark_broken(e.into()));
            }
            // The avail_event store must be visible before we look at the
            // available index again, or a driver that checked avail_event
            // just before our store would not notify and we would not see
            // its entry.
            fence(Ordering::SeqCst);
        }
        let avail_idx = self.avail_idx(mem, Ordering::Acquire)?;
        Ok(avail_idx != self.next_avail)
    }

    /// Whether the driver wants an interrupt for the used entries added
    /// since the last call (VIRTIO_F_EVENT_IDX or `avail.flags`).
    pub fn needs_notification<M: GuestMemory + ?Sized>(
        &mut self,
        mem: &M,
    ) -> Result<bool, QueueError> {
        self.live()?;
        let old = self.signalled_used;
        let new = self.next_used;
        if old == new {
            return Ok(false);
        }
        self.signalled_used = new;
        // The used index store must be visible before we read the driver's
        // suppression field, or both sides could decide not to act.
        fence(Ordering::SeqCst);
        if self.event_idx {
            let at = GuestAddress(self.avail_ring.0 + 4 + 2 * u64::from(self.size));
            let used_event = mem.load_u16(at, Ordering::Relaxed)?;
            // vring_need_event: notify if used_event lies in [old, new).
            Ok(new.wrapping_sub(used_event).wrapping_sub(1) < new.wrapping_sub(old))
        } else {
            let flags = mem.load_u16(self.avail_ring, Ordering::Relaxed)?;
            Ok(flags & VIRTQ_AVAIL_F_NO_INTERRUPT == 0)
        }
    }
}

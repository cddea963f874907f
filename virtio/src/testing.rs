//! The driver side, for tests: a mock that lays out split rings in guest
//! memory, builds (valid or hostile) descriptor chains, drives a virtio-mmio
//! transport through initialisation, and submits block requests.
//!
//! Behind the `test-utils` feature so hv-sim and hv-kernel tests can use it.
//! Helpers here may panic (they are test code); the device paths they drive
//! may not.

use crate::blk::{
    BlockBackend, BlockConfig, VirtioBlock, VIRTIO_BLK_S_OK, VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_IN,
};
use crate::mmio::{self, MmioTransport};
use crate::queue::{DESC_SIZE, VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::Ordering;
use hv_core::mem::{GuestMemory, GuestRam, MemError};
use hv_core::mmio::{AccessWidth, MmioDevice};
use hv_core::GuestAddress;

/// Where test RAM starts (as on the guest machine).
pub const RAM_BASE: GuestAddress = GuestAddress(0x4000_0000);

/// `base + off`, panicking on overflow (test helper).
pub fn at(base: GuestAddress, off: u64) -> GuestAddress {
    base.checked_add(off).expect("test address overflow")
}

/// One buffer of a chain as the driver describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Buf {
    /// Guest address.
    pub addr: GuestAddress,
    /// Length in bytes.
    pub len: u32,
    /// Device-writable.
    pub write: bool,
}

impl Buf {
    /// A device-readable buffer.
    pub fn r(addr: GuestAddress, len: u32) -> Self {
        Buf {
            addr,
            len,
            write: false,
        }
    }
    /// A device-writable buffer.
    pub fn w(addr: GuestAddress, len: u32) -> Self {
        Buf {
            addr,
            len,
            write: true,
        }
    }
}

/// A split virtqueue as the driver sees it.
#[derive(Clone, Debug)]
pub struct DriverQueue {
    /// Queue size.
    pub size: u16,
    /// Descriptor table (16-aligned).
    pub desc: GuestAddress,
    /// Available ring (2-aligned).
    pub avail: GuestAddress,
    /// Used ring (4-aligned).
    pub used: GuestAddress,
    avail_idx: u16,
    used_seen: u16,
    next_desc: u16,
}

impl DriverQueue {
    /// Bytes the three rings of a queue of `size` take from `base`.
    pub fn footprint(size: u16) -> u64 {
        let n = u64::from(size);
        let used = (16 * n + 6 + 2 * n).next_multiple_of(4);
        used + 6 + 8 * n
    }

    /// Rings laid out back to back from `base` (16-aligned), zeroed in `mem`.
    pub fn new<M: GuestMemory + ?Sized>(mem: &M, base: GuestAddress, size: u16) -> Self {
        assert!(base.is_aligned(16));
        let n = u64::from(size);
        let avail = at(base, 16 * n);
        let used = at(base, (16 * n + 6 + 2 * n).next_multiple_of(4));
        mem.fill(base, 0, Self::footprint(size))
            .expect("rings in RAM");
        DriverQueue {
            size,
            desc: base,
            avail,
            used,
            avail_idx: 0,
            used_seen: 0,
            next_desc: 0,
        }
    }

    /// Write descriptor `index` verbatim (for hostile chains).
    pub fn write_desc<M: GuestMemory + ?Sized>(
        &self,
        mem: &M,
        index: u16,
        addr: u64,
        len: u32,
        flags: u16,
        next: u16,
    ) {
        write_desc_at(
            mem,
            at(self.desc, u64::from(index) * DESC_SIZE),
            addr,
            len,
            flags,
            next,
        );
    }

    /// Write `bufs` as a linked chain into free descriptors (wrapping round
    /// the table) and return the head; does not publish it.
    pub fn write_chain<M: GuestMemory + ?Sized>(&mut self, mem: &M, bufs: &[Buf]) -> u16 {
        assert!(!bufs.is_empty() && bufs.len() <= usize::from(self.size));
        let head = self.next_desc;
        for (i, b) in bufs.iter().enumerate() {
            let idx = self.next_desc;
            let next = (idx + 1) % self.size;
            let mut flags = if b.write { VIRTQ_DESC_F_WRITE } else { 0 };
            if i + 1 < bufs.len() {
                flags |= VIRTQ_DESC_F_NEXT;
            }
            self.write_desc(mem, idx, b.addr.0, b.len, flags, next);
            self.next_desc = next;
        }
        head
    }

    /// Write `bufs` as an indirect table at `table` and one head descriptor
    /// pointing at it; returns the head (not published).
    pub fn write_indirect<M: GuestMemory + ?Sized>(
        &mut self,
        mem: &M,
        table: GuestAddress,
        bufs: &[Buf],
    ) -> u16 {
        for (i, b) in bufs.iter().enumerate() {
            let mut flags = if b.write { VIRTQ_DESC_F_WRITE } else { 0 };
            let next = u16::try_from(i + 1).expect("table too long");
            if i + 1 < bufs.len() {
                flags |= VIRTQ_DESC_F_NEXT;
            }
            write_desc_at(
                mem,
                at(table, i as u64 * DESC_SIZE),
                b.addr.0,
                b.len,
                flags,
                next,
            );
        }
        let head = self.next_desc;
        let len = u32::try_from(bufs.len() as u64 * DESC_SIZE).expect("table too long");
        self.write_desc(mem, head, table.0, len, VIRTQ_DESC_F_INDIRECT, 0);
        self.next_desc = (head + 1) % self.size;
        head
    }

    /// Put `head` on the available ring and publish it (Release).
    pub fn publish<M: GuestMemory + ?Sized>(&mut self, mem: &M, head: u16) {
        let slot = u64::from(self.avail_idx % self.size);
        mem.store_u16(at(self.avail, 4 + 2 * slot), head, Ordering::Relaxed)
            .expect("avail ring");
        self.avail_idx = self.avail_idx.wrapping_add(1);
        mem.store_u16(at(self.avail, 2), self.avail_idx, Ordering::Release)
            .expect("avail idx");
    }

    /// Write a chain and publish it; returns the head.
    pub fn add_chain<M: GuestMemory + ?Sized>(&mut self, mem: &M, bufs: &[Buf]) -> u16 {
        let head = self.write_chain(mem, bufs);
        self.publish(mem, head);
        head
    }

    /// Write an arbitrary available index (for hostile drivers).
    pub fn set_avail_idx<M: GuestMemory + ?Sized>(&mut self, mem: &M, idx: u16) {
        self.avail_idx = idx;
        mem.store_u16(at(self.avail, 2), idx, Ordering::Release)
            .expect("avail idx");
    }

    /// The index the driver published last.
    pub fn avail_idx(&self) -> u16 {
        self.avail_idx
    }

    /// How far the driver has reaped the used ring.
    pub fn used_seen(&self) -> u16 {
        self.used_seen
    }

    /// Write `avail.flags`.
    pub fn set_avail_flags<M: GuestMemory + ?Sized>(&self, mem: &M, flags: u16) {
        mem.store_u16(self.avail, flags, Ordering::Relaxed)
            .expect("avail flags");
    }

    /// Write `used_event` (EVENT_IDX).
    pub fn set_used_event<M: GuestMemory + ?Sized>(&self, mem: &M, idx: u16) {
        let off = 4 + 2 * u64::from(self.size);
        mem.store_u16(at(self.avail, off), idx, Ordering::Relaxed)
            .expect("used_event");
    }

    /// The device's `avail_event` (EVENT_IDX).
    pub fn avail_event<M: GuestMemory + ?Sized>(&self, mem: &M) -> u16 {
        let off = 4 + 8 * u64::from(self.size);
        mem.load_u16(at(self.used, off), Ordering::Acquire)
            .expect("avail_event")
    }

    /// The device's used index.
    pub fn used_idx<M: GuestMemory + ?Sized>(&self, mem: &M) -> u16 {
        mem.load_u16(at(self.used, 2), Ordering::Acquire)
            .expect("used idx")
    }

    /// The next used element `(id, len)` not yet seen, if any.
    pub fn pop_used<M: GuestMemory + ?Sized>(&mut self, mem: &M) -> Option<(u32, u32)> {
        if self.used_idx(mem) == self.used_seen {
            return None;
        }
        let slot = u64::from(self.used_seen % self.size);
        let e = at(self.used, 4 + 8 * slot);
        let id = mem.read_u32(e).expect("used elem");
        let len = mem.read_u32(at(e, 4)).expect("used elem");
        self.used_seen = self.used_seen.wrapping_add(1);
        Some((id, len))
    }
}

/// Write one raw descriptor at `addr`.
pub fn write_desc_at<M: GuestMemory + ?Sized>(
    mem: &M,
    addr: GuestAddress,
    buf: u64,
    len: u32,
    flags: u16,
    next: u16,
) {
    let mut raw = [0u8; 16];
    raw[..8].copy_from_slice(&buf.to_le_bytes());
    raw[8..12].copy_from_slice(&len.to_le_bytes());
    raw[12..14].copy_from_slice(&flags.to_le_bytes());
    raw[14..].copy_from_slice(&next.to_le_bytes());
    mem.write(addr, &raw).expect("descriptor in RAM");
}

/// 32-bit MMIO read.
pub fn rd<D: MmioDevice + ?Sized>(dev: &mut D, offset: u64) -> u32 {
    // A Word access yields at most 32 bits.
    dev.read(offset, AccessWidth::Word) as u32
}

/// 32-bit MMIO write.
pub fn wr<D: MmioDevice + ?Sized>(dev: &mut D, offset: u64, value: u32) {
    dev.write(offset, AccessWidth::Word, u64::from(value));
}

/// Why [`mmio_init`] stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitError {
    /// Magic or version wrong.
    NotVirtioMmio,
    /// The device refused FEATURES_OK.
    FeaturesRefused,
    /// QueueReady did not read back as 1 for this queue.
    QueueRefused(u32),
}

/// Initialise a virtio-mmio device like a driver (§3.1.1): reset,
/// ACKNOWLEDGE, DRIVER, negotiate `wanted & offered`, FEATURES_OK, set up
/// `queues` (index = position), DRIVER_OK. Returns the negotiated features.
pub fn mmio_init<D: MmioDevice + ?Sized>(
    dev: &mut D,
    wanted: u64,
    queues: &[DriverQueue],
) -> Result<u64, InitError> {
    if rd(dev, mmio::MAGIC_VALUE) != mmio::MAGIC || rd(dev, mmio::VERSION) != 2 {
        return Err(InitError::NotVirtioMmio);
    }
    wr(dev, mmio::STATUS, 0);
    wr(dev, mmio::STATUS, mmio::STATUS_ACKNOWLEDGE);
    wr(
        dev,
        mmio::STATUS,
        mmio::STATUS_ACKNOWLEDGE | mmio::STATUS_DRIVER,
    );
    let mut offered = 0u64;
    for sel in 0..2u32 {
        wr(dev, mmio::DEVICE_FEATURES_SEL, sel);
        offered |= u64::from(rd(dev, mmio::DEVICE_FEATURES)) << (32 * sel);
    }
    let features = offered & wanted;
    for sel in 0..2u32 {
        wr(dev, mmio::DRIVER_FEATURES_SEL, sel);
        wr(dev, mmio::DRIVER_FEATURES, (features >> (32 * sel)) as u32);
    }
    let s = mmio::STATUS_ACKNOWLEDGE | mmio::STATUS_DRIVER | mmio::STATUS_FEATURES_OK;
    wr(dev, mmio::STATUS, s);
    if rd(dev, mmio::STATUS) & mmio::STATUS_FEATURES_OK == 0 {
        return Err(InitError::FeaturesRefused);
    }
    for (i, q) in queues.iter().enumerate() {
        let i = u32::try_from(i).expect("queue index");
        setup_queue(dev, i, q);
        if rd(dev, mmio::QUEUE_READY) != 1 {
            return Err(InitError::QueueRefused(i));
        }
    }
    wr(dev, mmio::STATUS, s | mmio::STATUS_DRIVER_OK);
    Ok(features)
}

/// Program queue `index` with `q`'s layout and set QueueReady = 1.
pub fn setup_queue<D: MmioDevice + ?Sized>(dev: &mut D, index: u32, q: &DriverQueue) {
    wr(dev, mmio::QUEUE_SEL, index);
    wr(dev, mmio::QUEUE_NUM, u32::from(q.size));
    for (lo, addr) in [
        (mmio::QUEUE_DESC_LOW, q.desc),
        (mmio::QUEUE_DRIVER_LOW, q.avail),
        (mmio::QUEUE_DEVICE_LOW, q.used),
    ] {
        wr(dev, lo, addr.0 as u32);
        wr(dev, lo + 4, (addr.0 >> 32) as u32);
    }
    wr(dev, mmio::QUEUE_READY, 1);
}

/// Write a virtio-blk request header at `addr`.
pub fn write_blk_header<M: GuestMemory + ?Sized>(
    mem: &M,
    addr: GuestAddress,
    ty: u32,
    sector: u64,
) {
    let mut h = [0u8; 16];
    h[..4].copy_from_slice(&ty.to_le_bytes());
    h[8..].copy_from_slice(&sector.to_le_bytes());
    mem.write(addr, &h).expect("header in RAM");
}

/// Write a discard / write-zeroes segment at `addr`.
pub fn write_blk_segment<M: GuestMemory + ?Sized>(
    mem: &M,
    addr: GuestAddress,
    sector: u64,
    num_sectors: u32,
    flags: u32,
) {
    let mut s = [0u8; 16];
    s[..8].copy_from_slice(&sector.to_le_bytes());
    s[8..12].copy_from_slice(&num_sectors.to_le_bytes());
    s[12..].copy_from_slice(&flags.to_le_bytes());
    mem.write(addr, &s).expect("segment in RAM");
}

/// The answer to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    /// Used length the device reported.
    pub used_len: u32,
    /// Status byte in guest memory (0xff if the device did not write it).
    pub status: u8,
}

/// A guest with one virtio-blk device on a virtio-mmio transport: RAM, the
/// transport, queue 0, and a scratch area for requests.
///
/// Layout: rings at `RAM_BASE`, headers/segments at `RAM_BASE + 64 KiB`,
/// the status byte at `RAM_BASE + 68 KiB`, data from `RAM_BASE + 128 KiB`.
#[derive(Debug)]
pub struct BlkRig<B: BlockBackend> {
    /// Guest RAM, shared with the transport.
    pub mem: Arc<GuestRam>,
    /// The device under test.
    pub dev: MmioTransport<VirtioBlock<B>, Arc<GuestRam>>,
    /// The driver's view of queue 0.
    pub q: DriverQueue,
    /// Negotiated features.
    pub features: u64,
}

impl<B: BlockBackend> BlkRig<B> {
    /// Address of the request header.
    pub const HEADER: GuestAddress = GuestAddress(RAM_BASE.0 + 0x1_0000);
    /// Address of the status byte.
    pub const STATUS: GuestAddress = GuestAddress(RAM_BASE.0 + 0x1_1000);
    /// Address of an indirect table.
    pub const TABLE: GuestAddress = GuestAddress(RAM_BASE.0 + 0x1_2000);
    /// First byte of the data area.
    pub const DATA: GuestAddress = GuestAddress(RAM_BASE.0 + 0x2_0000);

    /// A rig with `ram_size` bytes of RAM (at least 256 KiB), queue size
    /// `queue_size`, negotiating `wanted` features.
    pub fn new(
        backend: B,
        config: BlockConfig,
        ram_size: u64,
        queue_size: u16,
        wanted: u64,
    ) -> Self {
        let mem = Arc::new(GuestRam::with_size(RAM_BASE, ram_size).expect("test RAM"));
        let blk = VirtioBlock::new(backend, config).expect("valid block config");
        let mut dev = MmioTransport::new(blk, Arc::clone(&mem));
        let q = DriverQueue::new(&*mem, RAM_BASE, queue_size);
        let features = mmio_init(&mut dev, wanted, core::slice::from_ref(&q)).expect("init");
        BlkRig {
            mem,
            dev,
            q,
            features,
        }
    }

    /// Publish `head`, notify queue 0 and return the completions that came
    /// back.
    pub fn kick(&mut self, head: Option<u16>) -> Vec<(u32, u32)> {
        if let Some(h) = head {
            self.q.publish(&*self.mem, h);
        }
        wr(&mut self.dev, mmio::QUEUE_NOTIFY, 0);
        let mut out = Vec::new();
        while let Some(c) = self.q.pop_used(&*self.mem) {
            out.push(c);
        }
        out
    }

    /// Submit a chain of `bufs` and return its completion, reading the
    /// status byte at `status_at`.
    pub fn submit(&mut self, bufs: &[Buf], status_at: GuestAddress) -> Completion {
        self.mem.write_u8(status_at, 0xff).expect("status in RAM");
        let head = self.q.write_chain(&*self.mem, bufs);
        let done = self.kick(Some(head));
        assert_eq!(done.len(), 1, "one request, one completion");
        assert_eq!(done[0].0, u32::from(head));
        Completion {
            used_len: done[0].1,
            status: self.mem.read_u8(status_at).expect("status in RAM"),
        }
    }

    /// Header + data buffers + status, with the header at [`Self::HEADER`].
    pub fn request(&mut self, ty: u32, sector: u64, data: &[Buf]) -> Completion {
        write_blk_header(&*self.mem, Self::HEADER, ty, sector);
        let mut bufs = Vec::with_capacity(data.len() + 2);
        bufs.push(Buf::r(Self::HEADER, 16));
        bufs.extend_from_slice(data);
        bufs.push(Buf::w(Self::STATUS, 1));
        self.submit(&bufs, Self::STATUS)
    }

    /// Read `len` bytes at `sector` into the data area; returns the
    /// completion and the bytes.
    pub fn read(&mut self, sector: u64, len: u32) -> (Completion, Vec<u8>) {
        let c = self.request(VIRTIO_BLK_T_IN, sector, &[Buf::w(Self::DATA, len)]);
        let mut data = alloc::vec![0u8; len as usize];
        self.mem.read(Self::DATA, &mut data).expect("data in RAM");
        (c, data)
    }

    /// Write `data` at `sector` from the data area.
    pub fn write(&mut self, sector: u64, data: &[u8]) -> Completion {
        self.mem.write(Self::DATA, data).expect("data in RAM");
        let len = u32::try_from(data.len()).expect("test data size");
        self.request(
            crate::blk::VIRTIO_BLK_T_OUT,
            sector,
            &[Buf::r(Self::DATA, len)],
        )
    }

    /// GET_ID into a 20-byte buffer.
    pub fn get_id(&mut self) -> (Completion, [u8; 20]) {
        let c = self.request(VIRTIO_BLK_T_GET_ID, 0, &[Buf::w(Self::DATA, 20)]);
        let mut id = [0u8; 20];
        self.mem.read(Self::DATA, &mut id).expect("id in RAM");
        (c, id)
    }

    /// Whether the device's interrupt line is up.
    pub fn irq(&self) -> bool {
        self.dev.interrupt_level()
    }

    /// Acknowledge all pending interrupts.
    pub fn ack(&mut self) {
        let s = rd(&mut self.dev, mmio::INTERRUPT_STATUS);
        wr(&mut self.dev, mmio::INTERRUPT_ACK, s);
    }
}

/// Whether `c` is a successful completion with `data_len` bytes written.
pub fn ok_with(c: Completion, data_len: u32) -> bool {
    c.status == VIRTIO_BLK_S_OK && c.used_len == data_len + 1
}

/// Guest memory that records every access, to prove what a device touched.
#[derive(Debug)]
pub struct RecordingMemory<M> {
    inner: M,
    log: spin_log::Log,
}

mod spin_log {
    use alloc::vec::Vec;
    use core::cell::RefCell;

    /// What happened to guest memory.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Access {
        /// A read (or atomic load) of `len` bytes at `addr`; `ok` is its result.
        Read { addr: u64, len: u64, ok: bool },
        /// A write (or fill, or atomic store) of `len` bytes at `addr`.
        Write { addr: u64, len: u64, ok: bool },
    }

    /// Interior-mutable access log (tests are single-threaded).
    #[derive(Debug, Default)]
    pub struct Log(pub RefCell<Vec<Access>>);
}

pub use spin_log::Access;

impl<M: GuestMemory> RecordingMemory<M> {
    /// Record accesses to `inner`.
    pub fn new(inner: M) -> Self {
        RecordingMemory {
            inner,
            log: spin_log::Log::default(),
        }
    }
    /// Take the log so far.
    pub fn take(&self) -> Vec<Access> {
        core::mem::take(&mut *self.log.0.borrow_mut())
    }
    /// The wrapped memory.
    pub fn inner(&self) -> &M {
        &self.inner
    }
    fn rec<T>(
        &self,
        write: bool,
        addr: GuestAddress,
        len: u64,
        r: Result<T, MemError>,
    ) -> Result<T, MemError> {
        let ok = r.is_ok();
        let a = if write {
            Access::Write {
                addr: addr.0,
                len,
                ok,
            }
        } else {
            Access::Read {
                addr: addr.0,
                len,
                ok,
            }
        };
        self.log.0.borrow_mut().push(a);
        r
    }
}

impl<M: GuestMemory> GuestMemory for RecordingMemory<M> {
    fn read(&self, addr: GuestAddress, buf: &mut [u8]) -> Result<(), MemError> {
        let len = buf.len() as u64;
        let r = self.inner.read(addr, buf);
        self.rec(false, addr, len, r)
    }
    fn write(&self, addr: GuestAddress, data: &[u8]) -> Result<(), MemError> {
        let r = self.inner.write(addr, data);
        self.rec(true, addr, data.len() as u64, r)
    }
    fn fill(&self, addr: GuestAddress, value: u8, len: u64) -> Result<(), MemError> {
        let r = self.inner.fill(addr, value, len);
        self.rec(true, addr, len, r)
    }
    fn check_range(&self, addr: GuestAddress, len: u64) -> Result<(), MemError> {
        // A check touches nothing; not recorded.
        self.inner.check_range(addr, len)
    }
    fn load_u16(&self, addr: GuestAddress, order: Ordering) -> Result<u16, MemError> {
        let r = self.inner.load_u16(addr, order);
        self.rec(false, addr, 2, r)
    }
    fn store_u16(&self, addr: GuestAddress, value: u16, order: Ordering) -> Result<(), MemError> {
        let r = self.inner.store_u16(addr, value, order);
        self.rec(true, addr, 2, r)
    }
    fn load_u32(&self, addr: GuestAddress, order: Ordering) -> Result<u32, MemError> {
        let r = self.inner.load_u32(addr, order);
        self.rec(false, addr, 4, r)
    }
    fn store_u32(&self, addr: GuestAddress, value: u32, order: Ordering) -> Result<(), MemError> {
        let r = self.inner.store_u32(addr, value, order);
        self.rec(true, addr, 4, r)
    }
    fn load_u64(&self, addr: GuestAddress, order: Ordering) -> Result<u64, MemError> {
        let r = self.inner.load_u64(addr, order);
        self.rec(false, addr, 8, r)
    }
    fn store_u64(&self, addr: GuestAddress, value: u64, order: Ordering) -> Result<(), MemError> {
        let r = self.inner.store_u64(addr, value, order);
        self.rec(true, addr, 8, r)
    }
    fn compare_exchange_u32(
        &self,
        addr: GuestAddress,
        current: u32,
        new: u32,
        success: Ordering,
        failure: Ordering,
    ) -> Result<Result<u32, u32>, MemError> {
        let r = self
            .inner
            .compare_exchange_u32(addr, current, new, success, failure);
        self.rec(true, addr, 4, r)
    }
    fn compare_exchange_u64(
        &self,
        addr: GuestAddress,
        current: u64,
        new: u64,
        success: Ordering,
        failure: Ordering,
    ) -> Result<Result<u64, u64>, MemError> {
        let r = self
            .inner
            .compare_exchange_u64(addr, current, new, success, failure);
        self.rec(true, addr, 8, r)
    }
}

/// vring_need_event (VIRTIO 1.2 §2.7.10): whether moving an index from
/// `old` to `new` crosses `event`.
pub fn need_event(event: u16, new: u16, old: u16) -> bool {
    new.wrapping_sub(event).wrapping_sub(1) < new.wrapping_sub(old)
}

/// The driver side of [`PublishingMemory`]: one queue, one request shape,
/// and what happened to each request.
#[derive(Debug)]
pub struct Publisher {
    /// The driver's view of the queue.
    pub q: DriverQueue,
    /// The request every publish repeats (a chain of these buffers).
    pub bufs: Vec<Buf>,
    /// Requests still to publish (`u64::MAX`: forever).
    pub to_publish: u64,
    /// Whether loads of the available index make the driver run.
    pub active: bool,
    /// The driver runs on every `period`-th such load (1: on each; 0 counts
    /// as 1), a slower or faster vCPU.
    pub period: u32,
    /// Loads of the available index seen so far.
    pub loads: u32,
    /// The driver negotiated EVENT_IDX: it kicks only when `avail_event`
    /// asks for it, and after each reap it asks for an interrupt on the next
    /// completion (`used_event` = what it has reaped).
    pub event_idx: bool,
    /// Heads in the order they were published.
    pub published: Vec<u16>,
    /// Used elements `(id, len)` in the order they were reaped.
    pub reaped: Vec<(u32, u32)>,
    /// QueueNotify writes the driver made and nobody delivered yet.
    pub kicks: u32,
}

impl Publisher {
    /// A driver for `q` that will publish `total` copies of `bufs`.
    pub fn new(q: DriverQueue, bufs: Vec<Buf>, total: u64, event_idx: bool) -> Self {
        assert!(!bufs.is_empty() && bufs.len() <= usize::from(q.size));
        Publisher {
            q,
            bufs,
            to_publish: total,
            active: true,
            period: 1,
            loads: 0,
            event_idx,
            published: Vec::new(),
            reaped: Vec::new(),
            kicks: 0,
        }
    }

    /// Requests published and not reaped yet.
    pub fn outstanding(&self) -> usize {
        self.published.len() - self.reaped.len()
    }

    /// What a driver vCPU does between two looks of the device: reap the
    /// used ring, then publish while descriptors are free, then kick if the
    /// device asks for it (always without EVENT_IDX; this device never sets
    /// `used.flags`).
    pub fn step<M: GuestMemory + ?Sized>(&mut self, mem: &M) {
        while let Some(u) = self.q.pop_used(mem) {
            self.reaped.push(u);
        }
        if self.event_idx {
            self.q.set_used_event(mem, self.q.used_seen());
        }
        let room = usize::from(self.q.size) / self.bufs.len();
        let old = self.q.avail_idx();
        while self.to_publish > 0 && self.outstanding() < room {
            let head = self.q.add_chain(mem, &self.bufs);
            self.published.push(head);
            self.to_publish -= 1;
        }
        let new = self.q.avail_idx();
        if new == old {
            return;
        }
        // Publish before reading avail_event (virtqueue_kick_prepare).
        core::sync::atomic::fence(Ordering::SeqCst);
        if !self.event_idx || need_event(self.q.avail_event(mem), new, old) {
            self.kicks += 1;
        }
    }

    /// Whether every used element so far answers the request published in
    /// the same position (served in order, none twice, none invented).
    pub fn reaped_in_order(&self) -> bool {
        self.reaped.len() <= self.published.len()
            && self
                .reaped
                .iter()
                .zip(&self.published)
                .all(|(&(id, _), &head)| id == u32::from(head))
    }
}

/// Guest memory with a busy driver on another vCPU: each time the device
/// loads the available index (starting a pass, between two chains, and in
/// its re-check after re-arming notifications), the driver first runs one
/// [`Publisher::step`]: it reaps what the device completed and publishes
/// more. This is the guest that keeps a device draining for as long as it
/// likes, played deterministically. Shareable (`Sync`), so a transport can
/// own it through an `Arc`.
#[derive(Debug)]
pub struct PublishingMemory<M> {
    inner: M,
    driver: spin::Mutex<Option<Publisher>>,
}

impl<M: GuestMemory> PublishingMemory<M> {
    /// `inner` with no driver yet (see [`PublishingMemory::set_driver`]).
    pub fn new(inner: M) -> Self {
        PublishingMemory {
            inner,
            driver: spin::Mutex::new(None),
        }
    }
    /// The memory without the driver (for setting up and checking).
    pub fn inner(&self) -> &M {
        &self.inner
    }
    /// Install the driver.
    pub fn set_driver(&self, p: Publisher) {
        *self.driver.lock() = Some(p);
    }
    /// Look at or change the driver (panics if there is none).
    pub fn driver<R>(&self, f: impl FnOnce(&mut Publisher, &M) -> R) -> R {
        let mut d = self.driver.lock();
        f(d.as_mut().expect("driver installed"), &self.inner)
    }
    /// Let the driver run once, as its vCPU does between exits.
    pub fn driver_step(&self) {
        self.driver(|p, mem| p.step(mem));
    }
}

impl<M: GuestMemory> GuestMemory for PublishingMemory<M> {
    fn read(&self, addr: GuestAddress, buf: &mut [u8]) -> Result<(), MemError> {
        self.inner.read(addr, buf)
    }
    fn write(&self, addr: GuestAddress, data: &[u8]) -> Result<(), MemError> {
        self.inner.write(addr, data)
    }
    fn fill(&self, addr: GuestAddress, value: u8, len: u64) -> Result<(), MemError> {
        self.inner.fill(addr, value, len)
    }
    fn check_range(&self, addr: GuestAddress, len: u64) -> Result<(), MemError> {
        self.inner.check_range(addr, len)
    }
    fn load_u16(&self, addr: GuestAddress, order: Ordering) -> Result<u16, MemError> {
        if let Some(p) = self.driver.lock().as_mut() {
            if p.active && Some(addr) == p.q.avail.checked_add(2) {
                p.loads = p.loads.wrapping_add(1);
                if p.loads % p.period.max(1) == 0 {
                    p.step(&self.inner);
                }
            }
        }
        self.inner.load_u16(addr, order)
    }
    fn store_u16(&self, addr: GuestAddress, value: u16, order: Ordering) -> Result<(), MemError> {
        self.inner.store_u16(addr, value, order)
    }
    fn load_u32(&self, addr: GuestAddress, order: Ordering) -> Result<u32, MemError> {
        self.inner.load_u32(addr, order)
    }
    fn store_u32(&self, addr: GuestAddress, value: u32, order: Ordering) -> Result<(), MemError> {
        self.inner.store_u32(addr, value, order)
    }
    fn load_u64(&self, addr: GuestAddress, order: Ordering) -> Result<u64, MemError> {
        self.inner.load_u64(addr, order)
    }
    fn store_u64(&self, addr: GuestAddress, value: u64, order: Ordering) -> Result<(), MemError> {
        self.inner.store_u64(addr, value, order)
    }
    fn compare_exchange_u32(
        &self,
        addr: GuestAddress,
        current: u32,
        new: u32,
        success: Ordering,
        failure: Ordering,
    ) -> Result<Result<u32, u32>, MemError> {
        self.inner
            .compare_exchange_u32(addr, current, new, success, failure)
    }
    fn compare_exchange_u64(
        &self,
        addr: GuestAddress,
        current: u64,
        new: u64,
        success: Ordering,
        failure: Ordering,
    ) -> Result<Result<u64, u64>, MemError> {
        self.inner
            .compare_exchange_u64(addr, current, new, success, failure)
    }
}

/// Check the transport invariants a driver may rely on; panics on a
/// violation (that is what a fuzzer reports).
pub fn check_transport_invariants<D, M>(dev: &MmioTransport<D, M>)
where
    D: crate::device::VirtioDevice,
    M: core::ops::Deref + Send,
    M::Target: GuestMemory,
{
    let s = dev.status();
    assert_eq!(dev.interrupt_level(), dev.interrupt_status() != 0);
    if s & mmio::STATUS_DRIVER_OK != 0 {
        assert_ne!(
            s & mmio::STATUS_FEATURES_OK,
            0,
            "DRIVER_OK without FEATURES_OK: {s:#x}"
        );
    }
    if s & mmio::STATUS_FEATURES_OK != 0 {
        assert_ne!(
            s & mmio::STATUS_DRIVER,
            0,
            "FEATURES_OK without DRIVER: {s:#x}"
        );
        let offered = dev.device().device_features();
        assert_eq!(
            dev.driver_features() & !offered,
            0,
            "accepted a feature never offered"
        );
    }
    if s & mmio::STATUS_DRIVER != 0 {
        assert_ne!(
            s & mmio::STATUS_ACKNOWLEDGE,
            0,
            "DRIVER without ACKNOWLEDGE: {s:#x}"
        );
    }
    for (i, q) in dev.queues().iter().enumerate() {
        if q.ready() {
            assert!(q.size().is_power_of_two() && q.size() <= q.max_size());
            assert!(q.desc_table().is_aligned(16));
            assert!(q.avail_ring().is_aligned(2));
            assert!(q.used_ring().is_aligned(4));
        }
        if dev.queue_has_deferred_work(i) {
            assert!(q.ready(), "work deferred on queue {i}, which is not ready");
        }
    }
    if dev.has_deferred_work() {
        assert_ne!(
            s & mmio::STATUS_DRIVER_OK,
            0,
            "work deferred before DRIVER_OK"
        );
        assert_eq!(
            s & (mmio::STATUS_DEVICE_NEEDS_RESET | mmio::STATUS_FAILED),
            0,
            "work deferred on a broken or failed device: {s:#x}"
        );
    }
}

/// One fuzz input against a VirtioBlock on virtio-mmio with 64 KiB of RAM:
/// a configuration byte, a guest memory image, then a program of 8-byte
/// steps (MMIO reads and writes, descriptor and memory pokes, publishing
/// heads, notifies and the home's polls, acks). Configuration bit 7 gives
/// the transport a chain budget of 2, so notifies leave work for polls; at
/// the end the home polls until nothing is deferred, which must take no
/// more polls than a full ring needs. Used by the cargo-fuzz target in `fuzz/` and by a
/// bounded proptest in the normal test suite. Panics only when the device
/// breaks an invariant (or panics itself). Returns what the run reached, so
/// tests can check that inputs get past the transport into the queue.
pub fn fuzz_one(data: &[u8]) -> FuzzStats {
    let mut stats = FuzzStats::default();
    const RAM: u64 = 64 << 10;
    const QSIZE: u16 = 16;
    const BUFS: u64 = 0x1000;
    let Some((&cfg, rest)) = data.split_first() else {
        return stats;
    };
    let mem = Arc::new(GuestRam::with_size(RAM_BASE, RAM).expect("fuzz RAM"));
    let config = BlockConfig {
        read_only: cfg & 1 != 0,
        logical_block_size: if cfg & 2 != 0 { 512 } else { 4096 },
        queue_size: QSIZE,
        flush: cfg & 8 == 0,
        discard: cfg & 16 == 0,
        write_zeroes: cfg & 32 == 0,
        max_discard_seg: 4,
        max_write_zeroes_seg: 4,
        max_discard_sectors: 64,
        max_write_zeroes_sectors: 64,
        ..BlockConfig::default()
    };
    let blk = VirtioBlock::new(crate::blk::MemoryBackend::new(RAM), config).expect("fuzz config");
    let mut dev = MmioTransport::new(blk, Arc::clone(&mem));
    if cfg & 128 != 0 {
        dev.set_chain_budget(Some(2));
    }
    let mut q = DriverQueue::new(&*mem, RAM_BASE, QSIZE);
    // The next byte says how much of the rest is the memory image (in
    // 8-byte units); what follows is the program.
    let Some((&image_units, rest)) = rest.split_first() else {
        return stats;
    };
    let (image, program) = rest.split_at(rest.len().min(usize::from(image_units) * 8));
    // The image lands in the request area; descriptors start zeroed.
    mem.write(at(RAM_BASE, BUFS), image).expect("image fits");
    if cfg & 4 != 0 {
        let wanted = if cfg & 64 != 0 {
            u64::MAX
        } else {
            crate::device::VIRTIO_F_VERSION_1
        };
        let _ = mmio_init(&mut dev, wanted, core::slice::from_ref(&q));
    }
    check_transport_invariants(&dev);
    for step in program.chunks_exact(8) {
        let u16_at = |i: usize| u16::from_le_bytes([step[i], step[i + 1]]);
        let u32_at =
            |i: usize| u32::from_le_bytes([step[i], step[i + 1], step[i + 2], step[i + 3]]);
        match step[0] % 8 {
            0 => {
                let width = [
                    AccessWidth::Byte,
                    AccessWidth::Half,
                    AccessWidth::Word,
                    AccessWidth::Double,
                ][usize::from(step[3] % 4)];
                let offset = u64::from(u16_at(1) % 0x200);
                dev.write(offset, width, u64::from(u32_at(4)));
            }
            1 => {
                let _ = dev.read(u64::from(u16_at(1) % 0x200), AccessWidth::Word);
            }
            2 => q.publish(&*mem, u16_at(1) % (QSIZE + 2)),
            3 if step[2] % 4 == 3 => {
                dev.poll();
            }
            3 => wr(&mut dev, mmio::QUEUE_NOTIFY, u32::from(step[1] % 2)),
            4 => {
                // Poke guest memory anywhere in the first 8 KiB (rings too).
                let addr = at(RAM_BASE, u64::from(u16_at(1) % 0x2000));
                mem.write(addr, &step[4..8]).expect("in RAM");
            }
            5 => {
                let addr = match step[2] % 4 {
                    0 => RAM_BASE.0 + BUFS + u64::from(step[3]) * 16,
                    1 => RAM_BASE.0 + RAM - u64::from(step[3]),
                    2 => 0xffff_ffff_ffff_ff00,
                    _ => u64::from(u32_at(2)),
                };
                let len = u32::from(u16_at(4)) % 0x1100;
                q.write_desc(
                    &*mem,
                    u16::from(step[1]) % QSIZE,
                    addr,
                    len,
                    u16::from(step[6] % 8),
                    u16::from(step[7] % 20),
                );
            }
            6 => {
                let s = rd(&mut dev, mmio::INTERRUPT_STATUS);
                wr(&mut dev, mmio::INTERRUPT_ACK, s);
            }
            _ => {
                let addr = at(RAM_BASE, BUFS + u64::from(step[1]) * 16);
                let ty = [0u32, 1, 4, 8, 11, 13, 2, u32_at(4)][usize::from(step[2] % 8)];
                write_blk_header(&*mem, addr, ty, u64::from(step[3]));
            }
        }
        check_transport_invariants(&dev);
        while let Some((_, len)) = q.pop_used(&*mem) {
            stats.completions += 1;
            stats.used_bytes += u64::from(len);
        }
    }
    // Nothing publishes any more: each poll serves at least one of the at
    // most QSIZE entries available (more breaks the queue), so the work
    // left must run out.
    for _ in 0..=QSIZE {
        if !dev.has_deferred_work() {
            break;
        }
        stats.polls += 1;
        dev.poll();
        check_transport_invariants(&dev);
    }
    assert!(!dev.has_deferred_work(), "deferred work never runs out");
    while let Some((_, len)) = q.pop_used(&*mem) {
        stats.completions += 1;
        stats.used_bytes += u64::from(len);
    }
    stats.driver_ok = dev.status() & mmio::STATUS_DRIVER_OK != 0;
    stats
}

/// What one [`fuzz_one`] run reached.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FuzzStats {
    /// Used-ring entries the driver reaped.
    pub completions: u32,
    /// Sum of their used lengths.
    pub used_bytes: u64,
    /// The device ended in DRIVER_OK.
    pub driver_ok: bool,
    /// Polls the home needed at the end for work notifies left.
    pub polls: u32,
}

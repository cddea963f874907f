//! A minimal virtio-blk driver over virtio-mmio version 2 with one raw
//! split virtqueue (VIRTIO 1.2 §2.7, §4.2.2, §5.2), for tests that need
//! what `virtio-drivers` cannot do: publish requests into the available
//! ring without notifying, from one CPU, while another CPU notifies.
//!
//! The driver negotiates VIRTIO_F_VERSION_1 and nothing else, sets up
//! queue 0 with at most [`MAX_QUEUE`] entries, and asks for no used-buffer
//! interrupts (VIRTQ_AVAIL_F_NO_INTERRUPT); completions are polled. Each
//! request is a *chain* of three descriptors: the request header (device
//! reads), the data buffer (device writes for a read, reads for a write)
//! and the status byte (device writes). Chain `c` always uses descriptors
//! `3c..3c+3`, so its head is `3c`; each chain has its own header, status
//! byte and one-sector data buffer here, and a write may take its data
//! from the driver's bulk buffer instead.
//!
//! The guests run with the MMU off, so RAM is Device-nGnRnE memory to
//! them and addresses are physical: ring updates are ordered with explicit
//! barriers (`dmb sy` between a ring entry and the index that publishes
//! it, and between reading the used index and the entries it covers;
//! `dsb sy` before the QueueNotify write).
//!
//! The ring memory is one static area, so there is at most one driver
//! ([`Blk::probe`] claims it). [`Blk`] is owned by one CPU at a time;
//! [`Notifier`] and [`RingIndices`] are copies another CPU may use meanwhile.

use super::report::Msg;
use super::time::wait_for;
use core::arch::asm;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

/// Bytes in a sector.
pub const SECTOR: usize = 512;
/// Largest queue size the driver sets up.
pub const MAX_QUEUE: u16 = 256;
/// Descriptors per chain.
const CHAIN_DESCS: u16 = 3;
/// Most chains (a queue of [`MAX_QUEUE`] holds this many 3-descriptor
/// chains).
pub const MAX_CHAINS: usize = (MAX_QUEUE / CHAIN_DESCS) as usize;
/// The bulk buffer: source of multi-sector writes.
pub const BULK_SECTORS: usize = 64;

/// virtio-mmio slots of the guest machine contract.
const MMIO_BASE: usize = 0x0a00_0000;
const MMIO_STRIDE: usize = 0x200;
const MMIO_SLOTS: usize = 32;

/// virtio-mmio registers (VIRTIO 1.2 §4.2.2).
mod reg {
    pub const MAGIC: usize = 0x000;
    pub const VERSION: usize = 0x004;
    pub const DEVICE_ID: usize = 0x008;
    pub const DEVICE_FEATURES: usize = 0x010;
    pub const DEVICE_FEATURES_SEL: usize = 0x014;
    pub const DRIVER_FEATURES: usize = 0x020;
    pub const DRIVER_FEATURES_SEL: usize = 0x024;
    pub const QUEUE_SEL: usize = 0x030;
    pub const QUEUE_NUM_MAX: usize = 0x034;
    pub const QUEUE_NUM: usize = 0x038;
    pub const QUEUE_READY: usize = 0x044;
    pub const QUEUE_NOTIFY: usize = 0x050;
    pub const STATUS: usize = 0x070;
    pub const QUEUE_DESC_LOW: usize = 0x080;
    pub const QUEUE_DESC_HIGH: usize = 0x084;
    pub const QUEUE_DRIVER_LOW: usize = 0x090;
    pub const QUEUE_DRIVER_HIGH: usize = 0x094;
    pub const QUEUE_DEVICE_LOW: usize = 0x0a0;
    pub const QUEUE_DEVICE_HIGH: usize = 0x0a4;
    pub const CONFIG_GENERATION: usize = 0x0fc;
    pub const CONFIG: usize = 0x100;
}

/// "virt" in little-endian.
const MAGIC: u32 = 0x7472_6976;
/// Device ID of a block device.
const DEVICE_BLOCK: u32 = 2;

/// Device status bits.
const ACKNOWLEDGE: u32 = 1;
const DRIVER: u32 = 2;
const DRIVER_OK: u32 = 4;
const FEATURES_OK: u32 = 8;
const FAILED: u32 = 128;

/// VIRTIO_F_VERSION_1: bit 0 of feature word 1.
const F_VERSION_1_WORD1: u32 = 1;
/// VIRTIO_BLK_F_RO: bit 5 of feature word 0.
const BLK_F_RO: u32 = 1 << 5;

/// Descriptor flags.
const DESC_NEXT: u16 = 1;
const DESC_WRITE: u16 = 2;
/// Available ring flag: no used-buffer interrupts, please.
const AVAIL_NO_INTERRUPT: u16 = 1;

/// Request types.
const T_IN: u32 = 0;
const T_OUT: u32 = 1;
/// The status byte the device writes for a request that worked.
pub const S_OK: u8 = 0;
/// What the driver puts in a status byte before it publishes the chain.
pub const STATUS_UNSET: u8 = 0xff;
/// What the driver fills a read's data buffer with before it publishes
/// the chain.
pub const POISON: u64 = 0xdead_beef_0bad_f00d;

/// Bound on the status register's reset handshake.
const RESET_MS: u64 = 1000;

// The driver's memory: one page each for the descriptor table, the
// available ring and the used ring, then the headers and status bytes,
// the per-chain data buffers and the bulk buffer.
const PAGE: usize = 4096;
const DESC_OFF: usize = 0;
const AVAIL_OFF: usize = PAGE;
const USED_OFF: usize = 2 * PAGE;
const HEADER_OFF: usize = 3 * PAGE;
const HEADER_SIZE: usize = 16;
const STATUS_OFF: usize = HEADER_OFF + MAX_CHAINS * HEADER_SIZE;
const DATA_OFF: usize = 4 * PAGE;
const BULK_OFF: usize = DATA_OFF + MAX_CHAINS * SECTOR;
const AREA_SIZE: usize = BULK_OFF + BULK_SECTORS * SECTOR;

// Each part fits where it is put.
const _: () = assert!(MAX_QUEUE as usize * 16 <= PAGE);
const _: () = assert!(6 + 2 * MAX_QUEUE as usize <= PAGE);
const _: () = assert!(6 + 8 * MAX_QUEUE as usize <= PAGE);
const _: () = assert!(STATUS_OFF + MAX_CHAINS <= DATA_OFF);

#[repr(C, align(4096))]
struct Area(UnsafeCell<[u8; AREA_SIZE]>);

// SAFETY: the area is only reached through the one `Blk` that claimed it
// (TAKEN), which one CPU owns at a time, and through the device.
unsafe impl Sync for Area {}

static AREA: Area = Area(UnsafeCell::new([0; AREA_SIZE]));
static TAKEN: AtomicBool = AtomicBool::new(false);

fn area() -> usize {
    AREA.0.get() as usize
}

/// Order earlier memory accesses before later ones, as every observer
/// (another CPU, the device) sees them.
fn dmb() {
    // SAFETY: a barrier only orders memory accesses.
    unsafe { asm!("dmb sy", options(nostack, preserves_flags)) };
}

/// Complete earlier memory accesses before the next instruction.
fn dsb() {
    // SAFETY: a barrier only orders memory accesses.
    unsafe { asm!("dsb sy", options(nostack, preserves_flags)) };
}

/// Volatile accesses at `offset` into the driver's area (checked to be
/// inside it). Every caller passes a layout offset plus an index bounded by
/// the queue size or the chain count, a multiple of the access size, so the
/// access is aligned for its type.
fn load<T: Copy>(offset: usize) -> T {
    assert!(offset + core::mem::size_of::<T>() <= AREA_SIZE);
    // SAFETY: inside the static area and aligned (see above); the device
    // may write it at any time, hence volatile.
    unsafe { core::ptr::read_volatile((area() + offset) as *const T) }
}

fn store<T: Copy>(offset: usize, value: T) {
    assert!(offset + core::mem::size_of::<T>() <= AREA_SIZE);
    // SAFETY: as in `load`; the driver owns what it writes here (the
    // device only writes used ring entries, data of reads and status bytes
    // of published chains, which the driver does not write meanwhile).
    unsafe { core::ptr::write_volatile((area() + offset) as *mut T, value) }
}

/// A virtio-mmio register block.
#[derive(Clone, Copy, Debug)]
struct Regs {
    base: usize,
}

// The accesses are single `ldr`/`str` instructions without writeback
// (inline asm): a hypervisor emulates a trapped MMIO access from the
// syndrome the CPU gives only for such plain loads and stores, and the
// compiler may otherwise pick forms that give none (e.g. pre-index).
impl Regs {
    fn read(&self, offset: usize) -> u32 {
        let value: u32;
        // SAFETY: `base` is a virtio-mmio slot of the guest machine
        // contract (0x200 bytes of 32-bit registers) and `offset` one of
        // its register offsets; the MMU is off, so the address is physical.
        unsafe {
            asm!(
                "ldr {v:w}, [{a}]",
                v = out(reg) value,
                a = in(reg) self.base + offset,
                options(nostack, preserves_flags),
            );
        }
        value
    }

    fn write(&self, offset: usize, value: u32) {
        // SAFETY: as in `read`.
        unsafe {
            asm!(
                "str {v:w}, [{a}]",
                v = in(reg) value,
                a = in(reg) self.base + offset,
                options(nostack, preserves_flags),
            );
        }
    }

    fn write_addr(&self, low: usize, high: usize, addr: usize) {
        self.write(low, addr as u32);
        self.write(high, (addr as u64 >> 32) as u32);
    }
}

/// Writes QueueNotify of a disk's queue 0; usable from any CPU.
#[derive(Clone, Copy, Debug)]
pub struct Notifier {
    regs: Regs,
}

impl Notifier {
    /// Notify queue 0: everything published before is visible first.
    pub fn notify(&self) {
        dsb();
        self.regs.write(reg::QUEUE_NOTIFY, 0);
    }
}

/// Reads the ring indices; usable from any CPU.
#[derive(Clone, Copy, Debug)]
pub struct RingIndices;

impl RingIndices {
    /// The driver's available index now.
    pub fn avail(&self) -> u16 {
        load::<u16>(AVAIL_OFF + 2)
    }

    /// The device's used index now.
    pub fn used(&self) -> u16 {
        load::<u16>(USED_OFF + 2)
    }
}

/// What a request does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Read one sector into the chain's own data buffer.
    Read,
    /// Write `sectors` sectors from the start of the bulk buffer.
    Write {
        /// Sectors (at most [`BULK_SECTORS`]).
        sectors: usize,
    },
}

/// A used ring entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Used {
    /// The head the device returned.
    pub id: u32,
    /// Bytes it says it wrote.
    pub len: u32,
}

/// The driver of one virtio-blk device with queue 0 set up.
#[derive(Debug)]
pub struct Blk {
    regs: Regs,
    slot: usize,
    capacity: u64,
    queue_size: u16,
    /// The available index the driver publishes next.
    avail_idx: u16,
    /// The used index the driver has consumed up to.
    used_seen: u16,
}

impl Blk {
    /// Find the first writable virtio-blk device on the virtio-mmio slots
    /// and set it up (reset, ACKNOWLEDGE, DRIVER, VERSION_1 only,
    /// FEATURES_OK, queue 0 with `queue` entries or as many as the device
    /// takes if fewer, at most [`MAX_QUEUE`], DRIVER_OK). Read-only devices
    /// are reset and skipped.
    pub fn probe(queue: u16) -> Result<Blk, Msg> {
        if TAKEN.swap(true, Ordering::AcqRel) {
            return Err(crate::msg!("the raw virtio-blk driver is already in use"));
        }
        let mut read_only = 0;
        for slot in 0..MMIO_SLOTS {
            let regs = Regs {
                base: MMIO_BASE + slot * MMIO_STRIDE,
            };
            if regs.read(reg::MAGIC) != MAGIC || regs.read(reg::DEVICE_ID) != DEVICE_BLOCK {
                continue;
            }
            let version = regs.read(reg::VERSION);
            if version != 2 {
                return Err(crate::msg!(
                    "slot {slot}: virtio-mmio version {version}, the driver needs 2 (QEMU: -global virtio-mmio.force-legacy=false)"
                ));
            }
            match Self::init(regs, slot, queue) {
                Ok(Some(blk)) => return Ok(blk),
                Ok(None) => read_only += 1,
                Err(e) => {
                    regs.write(reg::STATUS, FAILED);
                    return Err(e);
                }
            }
        }
        TAKEN.store(false, Ordering::Release);
        Err(crate::msg!(
            "no writable virtio-blk device ({read_only} read-only)"
        ))
    }

    /// Write 0 to Status and wait until it reads 0.
    fn reset(regs: Regs, slot: usize) -> Result<(), Msg> {
        regs.write(reg::STATUS, 0);
        wait_for(RESET_MS, "the device reset", || regs.read(reg::STATUS) == 0)
            .map_err(|t| crate::msg!("slot {slot}: {t}"))?;
        Ok(())
    }

    /// Set up the device at `slot`; `None` if it is read-only (left reset).
    fn init(regs: Regs, slot: usize, queue: u16) -> Result<Option<Blk>, Msg> {
        Self::reset(regs, slot)?;
        regs.write(reg::STATUS, ACKNOWLEDGE);
        regs.write(reg::STATUS, ACKNOWLEDGE | DRIVER);
        regs.write(reg::DEVICE_FEATURES_SEL, 0);
        let low = regs.read(reg::DEVICE_FEATURES);
        regs.write(reg::DEVICE_FEATURES_SEL, 1);
        let high = regs.read(reg::DEVICE_FEATURES);
        if low & BLK_F_RO != 0 {
            Self::reset(regs, slot)?;
            return Ok(None);
        }
        if high & F_VERSION_1_WORD1 == 0 {
            return Err(crate::msg!(
                "slot {slot}: the device does not offer VIRTIO_F_VERSION_1"
            ));
        }
        regs.write(reg::DRIVER_FEATURES_SEL, 0);
        regs.write(reg::DRIVER_FEATURES, 0);
        regs.write(reg::DRIVER_FEATURES_SEL, 1);
        regs.write(reg::DRIVER_FEATURES, F_VERSION_1_WORD1);
        regs.write(reg::STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK);
        let status = regs.read(reg::STATUS);
        if status & FEATURES_OK == 0 {
            return Err(crate::msg!(
                "slot {slot}: the device refused VERSION_1 alone (status {status:#x})"
            ));
        }

        regs.write(reg::QUEUE_SEL, 0);
        if regs.read(reg::QUEUE_READY) != 0 {
            return Err(crate::msg!("slot {slot}: queue 0 is ready after a reset"));
        }
        let max = regs.read(reg::QUEUE_NUM_MAX);
        if max < u32::from(CHAIN_DESCS) {
            return Err(crate::msg!(
                "slot {slot}: queue 0 holds {max} entries, fewer than a 3-descriptor request"
            ));
        }
        let queue_size = queue
            .clamp(CHAIN_DESCS, MAX_QUEUE)
            .min(max.min(u32::from(MAX_QUEUE)) as u16);
        // The ring starts clean: no flags, indices 0.
        for i in 0..usize::from(MAX_QUEUE) {
            store::<u64>(DESC_OFF + 16 * i, 0);
            store::<u64>(DESC_OFF + 16 * i + 8, 0);
        }
        store::<u16>(AVAIL_OFF, AVAIL_NO_INTERRUPT);
        store::<u16>(AVAIL_OFF + 2, 0);
        store::<u16>(USED_OFF, 0);
        store::<u16>(USED_OFF + 2, 0);
        dsb();
        regs.write(reg::QUEUE_NUM, u32::from(queue_size));
        regs.write_addr(reg::QUEUE_DESC_LOW, reg::QUEUE_DESC_HIGH, area() + DESC_OFF);
        regs.write_addr(
            reg::QUEUE_DRIVER_LOW,
            reg::QUEUE_DRIVER_HIGH,
            area() + AVAIL_OFF,
        );
        regs.write_addr(
            reg::QUEUE_DEVICE_LOW,
            reg::QUEUE_DEVICE_HIGH,
            area() + USED_OFF,
        );
        regs.write(reg::QUEUE_READY, 1);
        if regs.read(reg::QUEUE_READY) != 1 {
            return Err(crate::msg!("slot {slot}: queue 0 did not become ready"));
        }
        regs.write(reg::STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);

        let capacity = Self::read_capacity(regs);
        Ok(Some(Blk {
            regs,
            slot,
            capacity,
            queue_size,
            avail_idx: 0,
            used_seen: 0,
        }))
    }

    /// The capacity field (config offset 0, 64 bits), read as two 32-bit
    /// words under an unchanged config generation.
    fn read_capacity(regs: Regs) -> u64 {
        let mut capacity = 0;
        for _ in 0..8 {
            let before = regs.read(reg::CONFIG_GENERATION);
            let low = regs.read(reg::CONFIG);
            let high = regs.read(reg::CONFIG + 4);
            capacity = u64::from(low) | u64::from(high) << 32;
            if regs.read(reg::CONFIG_GENERATION) == before {
                break;
            }
        }
        capacity
    }

    /// The device's virtio-mmio slot.
    pub fn slot(&self) -> usize {
        self.slot
    }

    /// The disk's size in sectors.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Entries of queue 0.
    pub fn queue_size(&self) -> u16 {
        self.queue_size
    }

    /// Chains that fit in the queue at once.
    pub fn chains(&self) -> usize {
        usize::from(self.queue_size / CHAIN_DESCS).min(MAX_CHAINS)
    }

    /// A QueueNotify writer for any CPU.
    pub fn notifier(&self) -> Notifier {
        Notifier { regs: self.regs }
    }

    /// A ring-index reader for any CPU.
    pub fn indices(&self) -> RingIndices {
        RingIndices
    }

    /// Requests published so far (the available index, mod 2^16).
    pub fn avail_idx(&self) -> u16 {
        self.avail_idx
    }

    /// The head of chain `chain`.
    pub fn head(chain: usize) -> u32 {
        chain as u32 * u32::from(CHAIN_DESCS)
    }

    /// The chain whose head is `id`, if `id` is one.
    pub fn chain_of(&self, id: u32) -> Option<usize> {
        let chain = usize::try_from(id / u32::from(CHAIN_DESCS)).ok()?;
        (id % u32::from(CHAIN_DESCS) == 0 && chain < self.chains()).then_some(chain)
    }

    /// Fill the first `sectors` sectors of the bulk buffer, 64-bit word
    /// `w` of sector `s` with `word(s, w)`.
    pub fn fill_bulk(&mut self, sectors: usize, word: impl Fn(usize, usize) -> u64) {
        for s in 0..sectors.min(BULK_SECTORS) {
            for w in 0..SECTOR / 8 {
                store::<u64>(BULK_OFF + s * SECTOR + 8 * w, word(s, w));
            }
        }
    }

    /// Write the descriptors, header and status byte of chain `chain` (<
    /// [`Blk::chains`]) for a `kind` request at `sector`; a read's data
    /// buffer is filled with [`POISON`]. Does not publish it.
    pub fn prepare(&mut self, chain: usize, kind: Kind, sector: u64) {
        let chain = chain.min(self.chains().saturating_sub(1));
        let header = HEADER_OFF + chain * HEADER_SIZE;
        let status = STATUS_OFF + chain;
        let (ty, data, len, data_flags) = match kind {
            Kind::Read => {
                let data = DATA_OFF + chain * SECTOR;
                for w in 0..SECTOR / 8 {
                    store::<u64>(data + 8 * w, POISON);
                }
                (T_IN, data, SECTOR, DESC_NEXT | DESC_WRITE)
            }
            Kind::Write { sectors } => (
                T_OUT,
                BULK_OFF,
                sectors.clamp(1, BULK_SECTORS) * SECTOR,
                DESC_NEXT,
            ),
        };
        store::<u32>(header, ty);
        store::<u32>(header + 4, 0);
        store::<u64>(header + 8, sector);
        store::<u8>(status, STATUS_UNSET);
        let first = usize::from(CHAIN_DESCS) * chain;
        let descs = [
            (header, HEADER_SIZE, DESC_NEXT),
            (data, len, data_flags),
            (status, 1, DESC_WRITE),
        ];
        for (k, (offset, len, flags)) in descs.into_iter().enumerate() {
            let d = DESC_OFF + 16 * (first + k);
            store::<u64>(d, (area() + offset) as u64);
            store::<u32>(d + 8, len as u32);
            store::<u16>(d + 12, flags);
            store::<u16>(
                d + 14,
                if flags & DESC_NEXT != 0 {
                    (first + k + 1) as u16
                } else {
                    0
                },
            );
        }
    }

    /// Put chain `chain`'s head in the available ring and advance the
    /// available index (the entry is visible before the index). No notify.
    pub fn publish(&mut self, chain: usize) {
        let slot = usize::from(self.avail_idx % self.queue_size);
        store::<u16>(AVAIL_OFF + 4 + 2 * slot, Self::head(chain) as u16);
        dmb();
        self.avail_idx = self.avail_idx.wrapping_add(1);
        store::<u16>(AVAIL_OFF + 2, self.avail_idx);
    }

    /// The next used entry the device returned, if any (its contents and
    /// the buffers it covers are read after the index).
    pub fn pop_used(&mut self) -> Option<Used> {
        if load::<u16>(USED_OFF + 2) == self.used_seen {
            return None;
        }
        dmb();
        let slot = usize::from(self.used_seen % self.queue_size);
        let id = load::<u32>(USED_OFF + 4 + 8 * slot);
        let len = load::<u32>(USED_OFF + 8 + 8 * slot);
        self.used_seen = self.used_seen.wrapping_add(1);
        Some(Used { id, len })
    }

    /// The status byte of chain `chain`.
    pub fn status(&self, chain: usize) -> u8 {
        load::<u8>(STATUS_OFF + chain.min(MAX_CHAINS - 1))
    }

    /// The first 64-bit word of chain `chain`'s data buffer that differs
    /// from `word(w)`: (index, found, expected).
    pub fn check_data(
        &self,
        chain: usize,
        word: impl Fn(usize) -> u64,
    ) -> Option<(usize, u64, u64)> {
        let data = DATA_OFF + chain.min(MAX_CHAINS - 1) * SECTOR;
        (0..SECTOR / 8).find_map(|w| {
            let (found, expected) = (load::<u64>(data + 8 * w), word(w));
            (found != expected).then_some((w, found, expected))
        })
    }
}

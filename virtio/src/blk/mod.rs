//! The virtio block device (VIRTIO 1.2 §5.2).
//!
//! Read-only devices: OUT, DISCARD and WRITE_ZEROES fail with IOERR and
//! nothing is written (rule B6). FLUSH and GET_ID are allowed on a read-only
//! device: neither changes the disk (FLUSH makes earlier writes durable, and
//! there are none it could add; GET_ID writes only guest memory), and Linux
//! issues both on read-only disks.

mod backend;
#[cfg(all(feature = "std", unix))]
mod file;
pub mod request;
mod slice;

pub use backend::{BackendError, BlockBackend, MemoryBackend, CHUNK};
#[cfg(all(feature = "std", unix))]
pub use file::FileBackend;
pub use request::{BlkError, Header, Layout, Segment, SECTOR_SIZE};
pub use slice::SliceBackend;

use crate::device::{
    drain_queue, Drained, VirtioDevice, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC,
    VIRTIO_F_VERSION_1,
};
use crate::queue::{Descriptor, Queue, QueueError};
use alloc::vec::Vec;
use hv_core::mem::GuestMemory;
use hv_core::GuestAddress;
use request::{byte_range, read_stream, SEGMENT_LEN};

/// Virtio device ID of a block device.
pub const VIRTIO_ID_BLOCK: u32 = 2;

/// Maximum size of any single segment is in `size_max`.
pub const VIRTIO_BLK_F_SIZE_MAX: u64 = 1 << 1;
/// Maximum number of segments in a request is in `seg_max`.
pub const VIRTIO_BLK_F_SEG_MAX: u64 = 1 << 2;
/// The device is read-only.
pub const VIRTIO_BLK_F_RO: u64 = 1 << 5;
/// The logical block size is in `blk_size`.
pub const VIRTIO_BLK_F_BLK_SIZE: u64 = 1 << 6;
/// FLUSH is supported.
pub const VIRTIO_BLK_F_FLUSH: u64 = 1 << 9;
/// DISCARD is supported.
pub const VIRTIO_BLK_F_DISCARD: u64 = 1 << 13;
/// WRITE_ZEROES is supported.
pub const VIRTIO_BLK_F_WRITE_ZEROES: u64 = 1 << 14;

/// Read.
pub const VIRTIO_BLK_T_IN: u32 = 0;
/// Write.
pub const VIRTIO_BLK_T_OUT: u32 = 1;
/// Flush.
pub const VIRTIO_BLK_T_FLUSH: u32 = 4;
/// Device ID string.
pub const VIRTIO_BLK_T_GET_ID: u32 = 8;
/// Discard.
pub const VIRTIO_BLK_T_DISCARD: u32 = 11;
/// Write zeroes.
pub const VIRTIO_BLK_T_WRITE_ZEROES: u32 = 13;

/// Success.
pub const VIRTIO_BLK_S_OK: u8 = 0;
/// Request failed.
pub const VIRTIO_BLK_S_IOERR: u8 = 1;
/// Request not supported.
pub const VIRTIO_BLK_S_UNSUPP: u8 = 2;

/// The only defined segment flag: unmap (write zeroes only).
pub const VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP: u32 = 1;

/// Length of the GET_ID string.
pub const ID_LEN: usize = 20;
/// Most discard / write-zeroes segments a device will accept per request.
pub const MAX_SEGMENTS: u32 = 16;
/// Bytes of configuration space exposed (up to `write_zeroes_may_unmap`).
pub const CONFIG_LEN: usize = 0x3c;

/// How a block device presents itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockConfig {
    /// Refuse writes (offers VIRTIO_BLK_F_RO).
    pub read_only: bool,
    /// Logical block size (`blk_size`): 512 or 4096.
    pub logical_block_size: u32,
    /// GET_ID answer (NUL-padded).
    pub id: [u8; ID_LEN],
    /// QueueNumMax of the one request queue (power of two, 2..=32768).
    pub queue_size: u16,
    /// Bytes per data segment the driver should not exceed (`size_max`).
    pub size_max: u32,
    /// Offer FLUSH.
    pub flush: bool,
    /// Offer DISCARD.
    pub discard: bool,
    /// Offer WRITE_ZEROES.
    pub write_zeroes: bool,
    /// Most sectors per discard segment.
    pub max_discard_sectors: u32,
    /// Most segments per discard request (1..=MAX_SEGMENTS).
    pub max_discard_seg: u32,
    /// Most sectors per write-zeroes segment.
    pub max_write_zeroes_sectors: u32,
    /// Most segments per write-zeroes request (1..=MAX_SEGMENTS).
    pub max_write_zeroes_seg: u32,
}

impl Default for BlockConfig {
    /// A writable disk with 4096-byte logical blocks and every feature.
    fn default() -> Self {
        let mut id = [0u8; ID_LEN];
        let name = b"hv-virtio-blk";
        id[..name.len()].copy_from_slice(name);
        BlockConfig {
            read_only: false,
            logical_block_size: 4096,
            id,
            queue_size: 256,
            size_max: 1 << 20,
            flush: true,
            discard: true,
            write_zeroes: true,
            max_discard_sectors: 1 << 13,
            max_discard_seg: MAX_SEGMENTS,
            max_write_zeroes_sectors: 1 << 13,
            max_write_zeroes_seg: MAX_SEGMENTS,
        }
    }
}

/// Why a block device could not be created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// Logical block size other than 512 or 4096.
    BlockSize(u32),
    /// Capacity not a multiple of the logical block size.
    Capacity(u64),
    /// Queue size not a power of two in 2..=32768.
    QueueSize(u16),
    /// Segment limits outside 1..=MAX_SEGMENTS.
    Segments,
}

/// A virtio-blk device over a [`BlockBackend`].
#[derive(Debug)]
pub struct VirtioBlock<B> {
    backend: B,
    config: BlockConfig,
    /// Cached backend capacity in bytes (the backend size is fixed).
    capacity: u64,
    features: u64,
    driver_features: u64,
    queue_sizes: [u16; 1],
    /// Descriptors of the chain being served (at most queue_size entries).
    scratch: Vec<Descriptor>,
}

impl<B: BlockBackend> VirtioBlock<B> {
    /// A device serving `backend` as described by `config`.
    pub fn new(backend: B, config: BlockConfig) -> Result<Self, ConfigError> {
        if config.logical_block_size != 512 && config.logical_block_size != 4096 {
            return Err(ConfigError::BlockSize(config.logical_block_size));
        }
        let capacity = backend.capacity();
        if capacity % u64::from(config.logical_block_size) != 0 {
            return Err(ConfigError::Capacity(capacity));
        }
        if config.queue_size < 2 || !config.queue_size.is_power_of_two() {
            return Err(ConfigError::QueueSize(config.queue_size));
        }
        let segs = 1..=MAX_SEGMENTS;
        if !segs.contains(&config.max_discard_seg) || !segs.contains(&config.max_write_zeroes_seg) {
            return Err(ConfigError::Segments);
        }
        let mut features = VIRTIO_F_VERSION_1
            | VIRTIO_F_EVENT_IDX
            | VIRTIO_F_INDIRECT_DESC
            | VIRTIO_BLK_F_BLK_SIZE
            | VIRTIO_BLK_F_SEG_MAX
            | VIRTIO_BLK_F_SIZE_MAX;
        for (on, bit) in [
            (config.read_only, VIRTIO_BLK_F_RO),
            (config.flush, VIRTIO_BLK_F_FLUSH),
            (config.discard, VIRTIO_BLK_F_DISCARD),
            (config.write_zeroes, VIRTIO_BLK_F_WRITE_ZEROES),
        ] {
            if on {
                features |= bit;
            }
        }
        Ok(VirtioBlock {
            backend,
            config,
            capacity,
            features,
            driver_features: 0,
            queue_sizes: [config.queue_size],
            scratch: Vec::new(),
        })
    }

    /// Capacity in 512-byte sectors.
    #[inline]
    pub fn capacity(&self) -> u64 {
        self.capacity / SECTOR_SIZE
    }
    /// Capacity in bytes.
    #[inline]
    pub fn capacity_bytes(&self) -> u64 {
        self.capacity
    }
    /// Logical block size in bytes (512 or 4096).
    #[inline]
    pub fn logical_block_size(&self) -> u32 {
        self.config.logical_block_size
    }
    /// Whether the device refuses writes.
    #[inline]
    pub fn is_read_only(&self) -> bool {
        self.config.read_only
    }
    /// The configuration the device was made with.
    pub fn config(&self) -> &BlockConfig {
        &self.config
    }
    /// Features the driver accepted.
    pub fn driver_features(&self) -> u64 {
        self.driver_features
    }
    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }
    /// The backend, mutably (e.g. to inspect a test disk).
    pub fn backend_mut(&mut self) -> &mut B {
        &mut self.backend
    }

    fn negotiated(&self, bit: u64) -> bool {
        self.driver_features & bit != 0
    }

    /// `seg_max`: leave room for header and status in a direct chain.
    fn seg_max(&self) -> u32 {
        u32::from(self.config.queue_size).saturating_sub(2).max(1)
    }

    /// Serve one request whose chain has been validated; returns the used
    /// length (bytes written into guest memory, status byte included).
    pub fn serve<M: GuestMemory + ?Sized>(&mut self, mem: &M, descs: &[Descriptor]) -> u32 {
        let layout = match Layout::parse(descs) {
            Ok(l) => l,
            Err(e) => {
                log::debug!("virtio-blk: request without header/status: {e:?}");
                return 0;
            }
        };
        let mut written = 0u32;
        let result = self.execute(mem, &layout, &mut written);
        let status = match result {
            Ok(()) => VIRTIO_BLK_S_OK,
            Err(e) => {
                log::debug!("virtio-blk: request failed: {e:?}");
                // Errors after Layout::parse always have a status.
                e.status().unwrap_or(VIRTIO_BLK_S_IOERR)
            }
        };
        if mem.write_u8(layout.status, status).is_err() {
            // Checked to be in RAM when the chain was walked.
            return written;
        }
        written.saturating_add(1)
    }

    fn execute<M: GuestMemory + ?Sized>(
        &mut self,
        mem: &M,
        layout: &Layout<'_>,
        written: &mut u32,
    ) -> Result<(), BlkError> {
        let h = layout.header(mem)?;
        match h.ty {
            VIRTIO_BLK_T_IN => self.read(mem, layout, h.sector, written),
            VIRTIO_BLK_T_OUT => self.write(mem, layout, h.sector),
            VIRTIO_BLK_T_FLUSH => {
                if !self.negotiated(VIRTIO_BLK_F_FLUSH) {
                    return Err(BlkError::Unsupported(h.ty));
                }
                if layout.out_len() != 0 || layout.in_len() != 0 {
                    return Err(BlkError::WrongDirection);
                }
                if h.sector != 0 {
                    return Err(BlkError::FlushSector);
                }
                Ok(self.backend.flush()?)
            }
            VIRTIO_BLK_T_GET_ID => {
                if layout.out_len() != 0 || layout.in_len() != ID_LEN as u64 {
                    return Err(BlkError::IdLength);
                }
                let id = self.config.id;
                let mut done = 0usize;
                layout.for_each_in(|addr, n| {
                    // The pieces add up to ID_LEN bytes.
                    let n = n as usize;
                    let part = id.get(done..done + n).ok_or(BlkError::IdLength)?;
                    mem.write(addr, part)?;
                    done += n;
                    *written += n as u32;
                    Ok::<(), BlkError>(())
                })
            }
            VIRTIO_BLK_T_DISCARD if self.negotiated(VIRTIO_BLK_F_DISCARD) => {
                self.segments(mem, layout, false)
            }
            VIRTIO_BLK_T_WRITE_ZEROES if self.negotiated(VIRTIO_BLK_F_WRITE_ZEROES) => {
                self.segments(mem, layout, true)
            }
            other => Err(BlkError::Unsupported(other)),
        }
    }

    fn read<M: GuestMemory + ?Sized>(
        &mut self,
        mem: &M,
        layout: &Layout<'_>,
        sector: u64,
        written: &mut u32,
    ) -> Result<(), BlkError> {
        if layout.out_len() != 0 {
            return Err(BlkError::WrongDirection);
        }
        let len = layout.in_len();
        if len % SECTOR_SIZE != 0 {
            return Err(BlkError::BadLength);
        }
        let mut offset = byte_range(sector, len, self.capacity)?;
        let backend = &mut self.backend;
        layout.for_each_in(|addr, n| {
            let mut at = addr;
            backend.read_to(offset, n, &mut |chunk| {
                mem.write(at, chunk).map_err(|_| BackendError::Guest)?;
                // Chunks add up to n <= u32::MAX, inside the buffer.
                at = GuestAddress(at.0 + chunk.len() as u64);
                *written += chunk.len() as u32;
                Ok(())
            })?;
            offset += n;
            Ok::<(), BlkError>(())
        })
    }

    fn write<M: GuestMemory + ?Sized>(
        &mut self,
        mem: &M,
        layout: &Layout<'_>,
        sector: u64,
    ) -> Result<(), BlkError> {
        if layout.in_len() != 0 {
            return Err(BlkError::WrongDirection);
        }
        if self.config.read_only {
            return Err(BlkError::ReadOnly);
        }
        let len = layout.out_len();
        if len % SECTOR_SIZE != 0 {
            return Err(BlkError::BadLength);
        }
        let mut offset = byte_range(sector, len, self.capacity)?;
        let backend = &mut self.backend;
        layout.for_each_out(|addr, n| {
            let mut at = addr;
            backend.write_from(offset, n, &mut |chunk| {
                mem.read(at, chunk).map_err(|_| BackendError::Guest)?;
                at = GuestAddress(at.0 + chunk.len() as u64);
                Ok(())
            })?;
            offset += n;
            Ok::<(), BlkError>(())
        })
    }

    /// DISCARD (`zeroes == false`) or WRITE_ZEROES: all segments are read
    /// and checked before any is executed, so a bad request changes nothing.
    fn segments<M: GuestMemory + ?Sized>(
        &mut self,
        mem: &M,
        layout: &Layout<'_>,
        zeroes: bool,
    ) -> Result<(), BlkError> {
        let (max_seg, max_sectors) = if zeroes {
            (
                self.config.max_write_zeroes_seg,
                self.config.max_write_zeroes_sectors,
            )
        } else {
            (self.config.max_discard_seg, self.config.max_discard_sectors)
        };
        if layout.in_len() != 0 {
            return Err(BlkError::WrongDirection);
        }
        if self.config.read_only {
            return Err(BlkError::ReadOnly);
        }
        let len = layout.out_len();
        if len % SEGMENT_LEN != 0 {
            return Err(BlkError::BadLength);
        }
        let count = len / SEGMENT_LEN;
        if count > u64::from(max_seg) {
            return Err(BlkError::TooManySegments);
        }
        let mut segs = [Segment::default(); MAX_SEGMENTS as usize];
        // count <= max_seg <= MAX_SEGMENTS, so the slice is in bounds.
        let segs = segs
            .get_mut(..count as usize)
            .ok_or(BlkError::TooManySegments)?;
        for (i, seg) in segs.iter_mut().enumerate() {
            let mut raw = [0u8; 16];
            read_stream(mem, layout.readable, 16 + i as u64 * SEGMENT_LEN, &mut raw)?;
            *seg = Segment::from_bytes(&raw);
            let allowed = if zeroes {
                VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP
            } else {
                0
            };
            if seg.flags & !allowed != 0 {
                return Err(BlkError::UnsupportedFlags(seg.flags));
            }
            if seg.num_sectors > max_sectors {
                return Err(BlkError::SegmentTooLarge);
            }
            byte_range(
                seg.sector,
                u64::from(seg.num_sectors) * SECTOR_SIZE,
                self.capacity,
            )?;
        }
        for seg in segs.iter() {
            // Checked above.
            let offset = seg.sector * SECTOR_SIZE;
            let len = u64::from(seg.num_sectors) * SECTOR_SIZE;
            if zeroes {
                self.backend.write_zeroes(offset, len)?;
            } else {
                self.backend.discard(offset, len)?;
            }
        }
        Ok(())
    }

    /// The configuration space as bytes (struct virtio_blk_config).
    fn config_bytes(&self) -> [u8; CONFIG_LEN] {
        let mut c = [0u8; CONFIG_LEN];
        let mut put = |off: usize, bytes: &[u8]| {
            if let Some(dst) = c.get_mut(off..off + bytes.len()) {
                dst.copy_from_slice(bytes);
            }
        };
        put(0x00, &self.capacity().to_le_bytes());
        put(0x08, &self.config.size_max.to_le_bytes());
        put(0x0c, &self.seg_max().to_le_bytes());
        put(0x14, &self.config.logical_block_size.to_le_bytes());
        put(0x24, &self.config.max_discard_sectors.to_le_bytes());
        put(0x28, &self.config.max_discard_seg.to_le_bytes());
        let align = self.config.logical_block_size / 512;
        put(0x2c, &align.to_le_bytes());
        put(0x30, &self.config.max_write_zeroes_sectors.to_le_bytes());
        put(0x34, &self.config.max_write_zeroes_seg.to_le_bytes());
        put(0x38, &[1]);
        c
    }
}

impl<B: BlockBackend> VirtioDevice for VirtioBlock<B> {
    fn device_id(&self) -> u32 {
        VIRTIO_ID_BLOCK
    }
    fn device_features(&self) -> u64 {
        self.features
    }
    fn queue_max_sizes(&self) -> &[u16] {
        &self.queue_sizes
    }
    fn read_config(&self, offset: u64, data: &mut [u8]) {
        let c = self.config_bytes();
        let src = usize::try_from(offset)
            .ok()
            .and_then(|o| c.get(o..o.checked_add(data.len())?));
        match src {
            Some(src) => data.copy_from_slice(src),
            None => data.fill(0),
        }
    }
    fn ack_features(&mut self, features: u64) {
        self.driver_features = features & self.features;
    }
    fn process_queue<M: GuestMemory + ?Sized>(
        &mut self,
        index: usize,
        queue: &mut Queue,
        mem: &M,
        budget: usize,
    ) -> Result<Drained, QueueError> {
        if index != 0 {
            return Ok(Drained::default());
        }
        let mut scratch = core::mem::take(&mut self.scratch);
        let r = drain_queue(queue, mem, &mut scratch, budget, |mem, descs| {
            self.serve(mem, descs)
        });
        self.scratch = scratch;
        r
    }
    fn reset(&mut self) {
        self.driver_features = 0;
    }
}

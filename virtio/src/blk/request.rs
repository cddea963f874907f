//! Parsing and validating virtio-blk requests (VIRTIO 1.2 §5.2.6).
//!
//! A request is a chain whose device-readable bytes start with the 16-byte
//! header and whose last descriptor is device-writable and ends in the status
//! byte. The split of the remaining bytes into descriptors is free (§2.6.4
//! message framing): the header may share a descriptor with OUT data, and IN
//! data may share the last descriptor with the status byte.

use super::backend::BackendError;
use super::{VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_UNSUPP};
use crate::queue::Descriptor;
use hv_core::mem::{GuestMemory, MemError};
use hv_core::GuestAddress;

/// Bytes in a request header.
pub const HEADER_LEN: u64 = 16;
/// Bytes in a discard / write-zeroes segment.
pub const SEGMENT_LEN: u64 = 16;
/// Request sectors are always 512 bytes, whatever the logical block size.
pub const SECTOR_SIZE: u64 = 512;

/// Why a request failed. [`BlkError::status`] is the one place that turns
/// this into the status byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlkError {
    /// Fewer than 16 device-readable bytes: no header (no status written).
    NoHeader,
    /// The last descriptor is not device-writable or has length 0: nowhere
    /// to put the status (no status written).
    NoStatus,
    /// Unknown request type, or one whose feature was not negotiated.
    Unsupported(u32),
    /// A discard / write-zeroes segment with flags the device does not know,
    /// or a discard with the unmap flag.
    UnsupportedFlags(u32),
    /// Data length not a multiple of 512 (IN/OUT) or 16 (segments).
    BadLength,
    /// The data has the wrong direction (IN with device-readable data, OUT,
    /// FLUSH or DISCARD with device-writable data, FLUSH with data).
    WrongDirection,
    /// Sector range beyond the capacity, or overflowing.
    OutOfRange,
    /// A write-type request on a read-only device.
    ReadOnly,
    /// FLUSH with a sector other than 0.
    FlushSector,
    /// GET_ID buffer not exactly 20 device-writable bytes.
    IdLength,
    /// More segments than max_discard_seg / max_write_zeroes_seg.
    TooManySegments,
    /// A segment larger than max_discard_sectors / max_write_zeroes_sectors.
    SegmentTooLarge,
    /// The backend failed.
    Backend(BackendError),
    /// A guest memory access failed.
    Memory(MemError),
}

impl From<BackendError> for BlkError {
    fn from(e: BackendError) -> Self {
        BlkError::Backend(e)
    }
}

impl From<MemError> for BlkError {
    fn from(e: MemError) -> Self {
        BlkError::Memory(e)
    }
}

impl BlkError {
    /// The status byte for this error, or `None` when the request has no
    /// usable status byte (it is then completed with used length 0).
    pub fn status(self) -> Option<u8> {
        match self {
            BlkError::NoHeader | BlkError::NoStatus => None,
            BlkError::Unsupported(_) | BlkError::UnsupportedFlags(_) => Some(VIRTIO_BLK_S_UNSUPP),
            BlkError::BadLength
            | BlkError::WrongDirection
            | BlkError::OutOfRange
            | BlkError::ReadOnly
            | BlkError::FlushSector
            | BlkError::IdLength
            | BlkError::TooManySegments
            | BlkError::SegmentTooLarge
            | BlkError::Backend(_)
            | BlkError::Memory(_) => Some(VIRTIO_BLK_S_IOERR),
        }
    }
}

/// The request header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// `VIRTIO_BLK_T_*`.
    pub ty: u32,
    /// First 512-byte sector.
    pub sector: u64,
}

/// Where the parts of a request are.
#[derive(Debug)]
pub struct Layout<'a> {
    /// Device-readable descriptors (they come first, rule Q9).
    pub readable: &'a [Descriptor],
    /// Device-writable descriptors; the last one holds the status byte.
    pub writable: &'a [Descriptor],
    /// Total device-readable bytes (>= 16).
    pub readable_len: u64,
    /// Total device-writable bytes (>= 1).
    pub writable_len: u64,
    /// Address of the status byte.
    pub status: GuestAddress,
}

impl<'a> Layout<'a> {
    /// Split a validated chain (readable before writable, lengths summing to
    /// at most 2^32 - 1, buffers in RAM) into its parts (rule B1).
    pub fn parse(descs: &'a [Descriptor]) -> Result<Self, BlkError> {
        let split = descs
            .iter()
            .position(Descriptor::is_write_only)
            .unwrap_or(descs.len());
        let (readable, writable) = descs.split_at(split);
        let readable_len: u64 = readable.iter().map(|d| u64::from(d.len)).sum();
        let writable_len: u64 = writable.iter().map(|d| u64::from(d.len)).sum();
        if readable_len < HEADER_LEN {
            return Err(BlkError::NoHeader);
        }
        let last = match descs.last() {
            Some(d) if d.is_write_only() && d.len > 0 => d,
            _ => return Err(BlkError::NoStatus),
        };
        // len >= 1 and the buffer is in RAM, so this cannot overflow.
        let status = last
            .addr
            .checked_add(u64::from(last.len) - 1)
            .ok_or(BlkError::NoStatus)?;
        Ok(Layout {
            readable,
            writable,
            readable_len,
            writable_len,
            status,
        })
    }

    /// Read the header (it may span descriptors).
    pub fn header<M: GuestMemory + ?Sized>(&self, mem: &M) -> Result<Header, BlkError> {
        let mut h = [0u8; 16];
        read_stream(mem, self.readable, 0, &mut h)?;
        Ok(Header {
            ty: u32::from_le_bytes([h[0], h[1], h[2], h[3]]),
            sector: u64::from_le_bytes([h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]]),
        })
    }

    /// Device-readable bytes after the header (OUT data, segments).
    pub fn out_len(&self) -> u64 {
        self.readable_len - HEADER_LEN
    }

    /// Device-writable bytes before the status byte (IN data, GET_ID).
    pub fn in_len(&self) -> u64 {
        self.writable_len - 1
    }

    /// Call `f(addr, len)` for each piece of the OUT data, in order.
    pub fn for_each_out<E>(
        &self,
        f: impl FnMut(GuestAddress, u64) -> Result<(), E>,
    ) -> Result<(), E> {
        for_each_piece(self.readable, HEADER_LEN, self.out_len(), f)
    }

    /// Call `f(addr, len)` for each piece of the IN data, in order.
    pub fn for_each_in<E>(
        &self,
        f: impl FnMut(GuestAddress, u64) -> Result<(), E>,
    ) -> Result<(), E> {
        for_each_piece(self.writable, 0, self.in_len(), f)
    }
}

/// Call `f` on the pieces of bytes `[skip, skip + take)` of the byte stream
/// formed by `descs`.
fn for_each_piece<E>(
    descs: &[Descriptor],
    mut skip: u64,
    mut take: u64,
    mut f: impl FnMut(GuestAddress, u64) -> Result<(), E>,
) -> Result<(), E> {
    for d in descs {
        if take == 0 {
            break;
        }
        let len = u64::from(d.len);
        if skip >= len {
            skip -= len;
            continue;
        }
        let n = (len - skip).min(take);
        // skip < len and the buffer is in RAM, so addr + skip cannot overflow.
        f(GuestAddress(d.addr.0 + skip), n)?;
        take -= n;
        skip = 0;
    }
    Ok(())
}

/// Fill `buf` from bytes starting at `offset` of the stream of `descs`.
pub fn read_stream<M: GuestMemory + ?Sized>(
    mem: &M,
    descs: &[Descriptor],
    offset: u64,
    buf: &mut [u8],
) -> Result<(), BlkError> {
    let mut done = 0usize;
    for_each_piece(descs, offset, buf.len() as u64, |addr, n| {
        // Pieces add up to at most buf.len(), so n fits in usize.
        let n = n as usize;
        let dst = buf.get_mut(done..done + n).ok_or(BlkError::BadLength)?;
        mem.read(addr, dst)?;
        done += n;
        Ok::<(), BlkError>(())
    })?;
    if done == buf.len() {
        Ok(())
    } else {
        Err(BlkError::BadLength)
    }
}

/// `[sector * 512, + len)` as a byte range within `capacity`, with checked
/// arithmetic (rule B4).
pub fn byte_range(sector: u64, len: u64, capacity: u64) -> Result<u64, BlkError> {
    let offset = sector
        .checked_mul(SECTOR_SIZE)
        .ok_or(BlkError::OutOfRange)?;
    match offset.checked_add(len) {
        Some(end) if end <= capacity => Ok(offset),
        _ => Err(BlkError::OutOfRange),
    }
}

/// One discard / write-zeroes segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    /// First sector.
    pub sector: u64,
    /// Number of sectors.
    pub num_sectors: u32,
    /// `VIRTIO_BLK_WRITE_ZEROES_FLAG_*`.
    pub flags: u32,
}

impl Segment {
    /// Decode 16 little-endian bytes.
    pub fn from_bytes(b: &[u8; 16]) -> Self {
        Segment {
            sector: u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
            num_sectors: u32::from_le_bytes([b[8], b[9], b[10], b[11]]),
            flags: u32::from_le_bytes([b[12], b[13], b[14], b[15]]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::VIRTQ_DESC_F_WRITE;

    fn d(addr: u64, len: u32, write: bool) -> Descriptor {
        Descriptor {
            addr: GuestAddress(addr),
            len,
            flags: if write { VIRTQ_DESC_F_WRITE } else { 0 },
        }
    }

    #[test]
    fn pieces_skip_and_take_across_descriptors() {
        let descs = [
            d(0x100, 10, false),
            d(0x200, 10, false),
            d(0x300, 10, false),
        ];
        let mut got = alloc::vec::Vec::new();
        for_each_piece(&descs, 15, 12, |a, n| {
            got.push((a.0, n));
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(got, [(0x205, 5), (0x300, 7)]);
    }

    #[test]
    fn layout_with_header_and_data_in_one_descriptor() {
        let descs = [d(0x1000, 16 + 512, false), d(0x2000, 1, true)];
        let l = Layout::parse(&descs).unwrap();
        assert_eq!((l.out_len(), l.in_len()), (512, 0));
        assert_eq!(l.status, GuestAddress(0x2000));
    }

    #[test]
    fn layout_with_data_and_status_in_one_descriptor() {
        let descs = [d(0x1000, 16, false), d(0x2000, 513, true)];
        let l = Layout::parse(&descs).unwrap();
        assert_eq!(l.in_len(), 512);
        assert_eq!(l.status, GuestAddress(0x2200));
    }

    #[test]
    fn byte_range_is_checked() {
        assert_eq!(byte_range(u64::MAX, 0, u64::MAX), Err(BlkError::OutOfRange));
        assert_eq!(
            byte_range(1 << 55, 512, u64::MAX),
            Err(BlkError::OutOfRange)
        );
        assert_eq!(byte_range(7, 512, 4096), Ok(3584));
        assert_eq!(byte_range(8, 0, 4096), Ok(4096));
        assert_eq!(byte_range(8, 512, 4096), Err(BlkError::OutOfRange));
    }
}

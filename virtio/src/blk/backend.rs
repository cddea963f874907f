//! Storage behind a VirtioBlock: the [`BlockBackend`] trait and the lazily
//! allocated [`MemoryBackend`].

use alloc::boxed::Box;
use alloc::vec::Vec;

/// Why a backend operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendError {
    /// `offset + len` is beyond the capacity (or overflows).
    OutOfRange,
    /// The host could not provide memory.
    NoMemory,
    /// The host I/O failed (the OS error code when there is one).
    Io(i32),
    /// Copying to or from guest memory failed while streaming.
    Guest,
}

/// A disk: a byte array of `capacity()` bytes with positional I/O.
///
/// Offsets and lengths are bytes. The device has already checked that every
/// range lies within the capacity; implementations check again and return
/// [`BackendError::OutOfRange`] rather than panic.
pub trait BlockBackend: Send {
    /// Size in bytes (a multiple of 512). Must be cheap: it is called for
    /// every request.
    fn capacity(&self) -> u64;

    /// Fill `buf` from `offset`.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BackendError>;

    /// Store `data` at `offset`.
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), BackendError>;

    /// Make everything written so far durable.
    fn flush(&mut self) -> Result<(), BackendError>;

    /// The driver no longer needs `[offset, offset + len)`; its contents are
    /// unspecified afterwards (both backends here read it back as zeroes).
    fn discard(&mut self, offset: u64, len: u64) -> Result<(), BackendError>;

    /// `[offset, offset + len)` must read back as zeroes.
    fn write_zeroes(&mut self, offset: u64, len: u64) -> Result<(), BackendError>;

    /// Hand `[offset, offset + len)` to `sink` in order, in pieces of the
    /// backend's choosing. Lets a backend that holds the data in memory copy
    /// it straight into guest memory; the default goes through a bounded
    /// stack buffer and [`BlockBackend::read_at`].
    fn read_to(
        &mut self,
        offset: u64,
        len: u64,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), BackendError>,
    ) -> Result<(), BackendError> {
        let mut buf = [0u8; CHUNK];
        let mut done = 0u64;
        while done < len {
            // n <= CHUNK == buf.len(), so the slice below is in bounds.
            let n = (len - done).min(CHUNK as u64) as usize;
            let piece = &mut buf[..n];
            let at = offset.checked_add(done).ok_or(BackendError::OutOfRange)?;
            self.read_at(at, piece)?;
            sink(piece)?;
            done += n as u64;
        }
        Ok(())
    }

    /// Store `len` bytes at `offset`, asking `source` to fill each piece in
    /// order. The default uses a bounded stack buffer and
    /// [`BlockBackend::write_at`].
    fn write_from(
        &mut self,
        offset: u64,
        len: u64,
        source: &mut dyn FnMut(&mut [u8]) -> Result<(), BackendError>,
    ) -> Result<(), BackendError> {
        let mut buf = [0u8; CHUNK];
        let mut done = 0u64;
        while done < len {
            // n <= CHUNK == buf.len(), so the slice below is in bounds.
            let n = (len - done).min(CHUNK as u64) as usize;
            let piece = &mut buf[..n];
            source(piece)?;
            let at = offset.checked_add(done).ok_or(BackendError::OutOfRange)?;
            self.write_at(at, piece)?;
            done += n as u64;
        }
        Ok(())
    }
}

/// A boxed backend is a backend, so a home can pick memory or file at run
/// time (`VirtioBlock<Box<dyn BlockBackend>>`); the fast paths forward too.
impl<B: BlockBackend + ?Sized> BlockBackend for Box<B> {
    fn capacity(&self) -> u64 {
        (**self).capacity()
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BackendError> {
        (**self).read_at(offset, buf)
    }
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), BackendError> {
        (**self).write_at(offset, data)
    }
    fn flush(&mut self) -> Result<(), BackendError> {
        (**self).flush()
    }
    fn discard(&mut self, offset: u64, len: u64) -> Result<(), BackendError> {
        (**self).discard(offset, len)
    }
    fn write_zeroes(&mut self, offset: u64, len: u64) -> Result<(), BackendError> {
        (**self).write_zeroes(offset, len)
    }
    fn read_to(
        &mut self,
        offset: u64,
        len: u64,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), BackendError>,
    ) -> Result<(), BackendError> {
        (**self).read_to(offset, len, sink)
    }
    fn write_from(
        &mut self,
        offset: u64,
        len: u64,
        source: &mut dyn FnMut(&mut [u8]) -> Result<(), BackendError>,
    ) -> Result<(), BackendError> {
        (**self).write_from(offset, len, source)
    }
}

/// `[offset, offset + len)` within `capacity`, with checked arithmetic.
pub fn check_range(capacity: u64, offset: u64, len: u64) -> Result<(), BackendError> {
    match offset.checked_add(len) {
        Some(end) if end <= capacity => Ok(()),
        _ => Err(BackendError::OutOfRange),
    }
}

/// Allocation unit of [`MemoryBackend`] and bounce-buffer size.
pub const CHUNK: usize = 4096;
const CHUNK_U64: u64 = CHUNK as u64;
/// Chunks per second-level table (a table covers 2 MiB).
const TABLE_LEN: usize = 512;
const TABLE_BYTES: u64 = CHUNK_U64 * TABLE_LEN as u64;

/// One allocation unit, cache-line aligned so every chunk copies at the
/// same speed whatever its place on the disk (malloc alone only promises 16).
#[repr(C, align(64))]
struct Chunk([u8; CHUNK]);

impl core::fmt::Debug for Chunk {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Chunk")
    }
}

/// A boxed slice of exactly one chunk (allocated fallibly through `Vec`).
type ChunkBox = Box<[Chunk]>;
type Table = Box<[Option<ChunkBox>]>;

static ZEROES: [u8; CHUNK] = [0; CHUNK];

/// A RAM disk that allocates on first write.
///
/// A two-level table of 4 KiB chunks: creating a disk of any size allocates
/// nothing; chunks never written read as zeroes; discard and write-zeroes
/// free whole chunks. The top level grows only as far as the highest chunk
/// ever written, so memory use is bounded by what the guest stored (plus
/// 8 bytes per 2 MiB of the disk below the highest write).
#[derive(Debug)]
pub struct MemoryBackend {
    capacity: u64,
    tables: Vec<Option<Table>>,
    allocated_chunks: u64,
}

impl MemoryBackend {
    /// A zero-filled disk of `capacity` bytes (rounded down to 512).
    pub fn new(capacity: u64) -> Self {
        MemoryBackend {
            capacity: capacity & !511,
            tables: Vec::new(),
            allocated_chunks: 0,
        }
    }

    /// Bytes of host memory currently holding disk data.
    pub fn allocated_bytes(&self) -> u64 {
        self.allocated_chunks * CHUNK_U64
    }

    /// (table index, chunk index in table, offset in chunk) for `offset`.
    #[inline]
    fn locate(offset: u64) -> (usize, usize, usize) {
        // The quotient fits in usize because `offset < capacity` and the
        // tables Vec could not be indexed otherwise anyway (checked by get()).
        let t = (offset / TABLE_BYTES) as usize;
        let c = ((offset % TABLE_BYTES) / CHUNK_U64) as usize;
        let o = (offset % CHUNK_U64) as usize;
        (t, c, o)
    }

    fn chunk(&self, offset: u64) -> Option<&[u8]> {
        let (t, c, _) = Self::locate(offset);
        let chunk = self.tables.get(t)?.as_ref()?.get(c)?.as_deref()?;
        chunk.first().map(|c| &c.0[..])
    }

    fn chunk_mut(&mut self, offset: u64) -> Result<&mut [u8], BackendError> {
        let (t, c, _) = Self::locate(offset);
        if t >= self.tables.len() {
            self.tables
                .try_reserve(t + 1 - self.tables.len())
                .map_err(|_| BackendError::NoMemory)?;
            self.tables.resize_with(t + 1, || None);
        }
        let slot = self.tables.get_mut(t).ok_or(BackendError::OutOfRange)?;
        let table = match slot {
            Some(table) => table,
            None => slot.insert(empty_table()?),
        };
        let chunk = table.get_mut(c).ok_or(BackendError::OutOfRange)?;
        if chunk.is_none() {
            *chunk = Some(zeroed_chunk()?);
            self.allocated_chunks += 1;
        }
        chunk
            .as_deref_mut()
            .and_then(<[Chunk]>::first_mut)
            .map(|c| &mut c.0[..])
            .ok_or(BackendError::NoMemory)
    }

    /// Zero `[offset, offset + len)`, freeing whole chunks.
    fn zero_range(&mut self, offset: u64, len: u64) -> Result<(), BackendError> {
        check_range(self.capacity, offset, len)?;
        let end = offset + len;
        let mut pos = offset;
        while pos < end {
            let (t, c, o) = Self::locate(pos);
            let Some(Some(table)) = self.tables.get_mut(t) else {
                // Nothing stored in this 2 MiB: skip to the next table.
                pos = (pos / TABLE_BYTES + 1).saturating_mul(TABLE_BYTES).min(end);
                continue;
            };
            let n = (end - pos).min(CHUNK_U64 - o as u64);
            let mut freed = false;
            if let Some(slot) = table.get_mut(c) {
                if n == CHUNK_U64 {
                    freed = slot.take().is_some();
                } else if let Some(chunk) = slot.as_deref_mut().and_then(<[Chunk]>::first_mut) {
                    // o + n <= CHUNK by construction of n.
                    if let Some(part) = chunk.0.get_mut(o..o + n as usize) {
                        part.fill(0);
                    }
                }
            }
            if freed {
                self.allocated_chunks -= 1;
                if table.iter().all(Option::is_none) {
                    if let Some(t) = self.tables.get_mut(t) {
                        *t = None;
                    }
                }
            }
            pos += n;
        }
        Ok(())
    }
}

fn zeroed_chunk() -> Result<ChunkBox, BackendError> {
    let mut v = Vec::new();
    v.try_reserve_exact(1).map_err(|_| BackendError::NoMemory)?;
    v.push(Chunk([0; CHUNK]));
    Ok(v.into_boxed_slice())
}

fn empty_table() -> Result<Table, BackendError> {
    let mut v: Vec<Option<ChunkBox>> = Vec::new();
    v.try_reserve_exact(TABLE_LEN)
        .map_err(|_| BackendError::NoMemory)?;
    v.resize_with(TABLE_LEN, || None);
    Ok(v.into_boxed_slice())
}

impl BlockBackend for MemoryBackend {
    #[inline]
    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BackendError> {
        let mut pos = 0usize;
        self.read_to(offset, buf.len() as u64, &mut |piece| {
            // read_to hands out exactly buf.len() bytes in total.
            let dst = buf
                .get_mut(pos..pos + piece.len())
                .ok_or(BackendError::OutOfRange)?;
            dst.copy_from_slice(piece);
            pos += piece.len();
            Ok(())
        })
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), BackendError> {
        let mut pos = 0usize;
        self.write_from(offset, data.len() as u64, &mut |piece| {
            let src = data
                .get(pos..pos + piece.len())
                .ok_or(BackendError::OutOfRange)?;
            piece.copy_from_slice(src);
            pos += piece.len();
            Ok(())
        })
    }

    fn flush(&mut self) -> Result<(), BackendError> {
        Ok(())
    }

    fn discard(&mut self, offset: u64, len: u64) -> Result<(), BackendError> {
        self.zero_range(offset, len)
    }

    fn write_zeroes(&mut self, offset: u64, len: u64) -> Result<(), BackendError> {
        self.zero_range(offset, len)
    }

    fn read_to(
        &mut self,
        offset: u64,
        len: u64,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), BackendError>,
    ) -> Result<(), BackendError> {
        check_range(self.capacity, offset, len)?;
        let end = offset + len;
        let mut pos = offset;
        while pos < end {
            let o = (pos % CHUNK_U64) as usize;
            let n = (end - pos).min((CHUNK - o) as u64) as usize;
            match self.chunk(pos) {
                // o + n <= CHUNK == chunk.len().
                Some(chunk) => sink(chunk.get(o..o + n).ok_or(BackendError::OutOfRange)?)?,
                None => sink(ZEROES.get(..n).ok_or(BackendError::OutOfRange)?)?,
            }
            pos += n as u64;
        }
        Ok(())
    }

    fn write_from(
        &mut self,
        offset: u64,
        len: u64,
        source: &mut dyn FnMut(&mut [u8]) -> Result<(), BackendError>,
    ) -> Result<(), BackendError> {
        check_range(self.capacity, offset, len)?;
        let end = offset + len;
        let mut pos = offset;
        while pos < end {
            let o = (pos % CHUNK_U64) as usize;
            let n = (end - pos).min((CHUNK - o) as u64) as usize;
            let chunk = self.chunk_mut(pos)?;
            source(chunk.get_mut(o..o + n).ok_or(BackendError::OutOfRange)?)?;
            pos += n as u64;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_disk_allocates_nothing_and_reads_zero() {
        let mut d = MemoryBackend::new(400 << 20);
        assert_eq!(d.capacity(), 400 << 20);
        assert_eq!(d.allocated_bytes(), 0);
        let mut buf = [0xaau8; 8192];
        d.read_at((400 << 20) - 8192, &mut buf).unwrap();
        assert!(buf.iter().all(|&b| b == 0));
        assert_eq!(d.allocated_bytes(), 0);
    }

    #[test]
    fn write_read_across_chunks_and_tables() {
        let mut d = MemoryBackend::new(8 << 20);
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let at = TABLE_BYTES - 5000;
        d.write_at(at, &data).unwrap();
        let mut back = alloc::vec![0u8; data.len()];
        d.read_at(at, &mut back).unwrap();
        assert_eq!(back, data);
        assert_eq!(d.allocated_bytes(), 4 * CHUNK_U64);
    }

    #[test]
    fn discard_frees_whole_chunks_and_zeroes_partial_ones() {
        let mut d = MemoryBackend::new(1 << 20);
        d.write_at(0, &[7u8; 3 * CHUNK]).unwrap();
        assert_eq!(d.allocated_bytes(), 3 * CHUNK_U64);
        d.discard(512, 2 * CHUNK_U64).unwrap();
        // Chunk 1 is wholly inside the range and freed; 0 and 2 are kept.
        assert_eq!(d.allocated_bytes(), 2 * CHUNK_U64);
        let mut buf = [0u8; 3 * CHUNK];
        d.read_at(0, &mut buf).unwrap();
        assert!(buf[..512].iter().all(|&b| b == 7));
        assert!(buf[512..512 + 2 * CHUNK].iter().all(|&b| b == 0));
        assert!(buf[512 + 2 * CHUNK..].iter().all(|&b| b == 7));
        d.discard(0, 1 << 20).unwrap();
        assert_eq!(d.allocated_bytes(), 0);
    }

    #[test]
    fn boxed_backend_forwards() {
        let mut d: Box<dyn BlockBackend> = Box::new(MemoryBackend::new(8192));
        d.write_at(512, &[9u8; 512]).unwrap();
        let mut got = alloc::vec::Vec::new();
        d.read_to(0, 1024, &mut |c| {
            got.extend_from_slice(c);
            Ok(())
        })
        .unwrap();
        assert_eq!(got.len(), 1024);
        assert!(got[..512].iter().all(|&b| b == 0));
        assert!(got[512..].iter().all(|&b| b == 9));
        assert_eq!(d.capacity(), 8192);
    }

    #[test]
    fn out_of_range_is_an_error_not_a_panic() {
        let mut d = MemoryBackend::new(4096);
        let mut b = [0u8; 512];
        assert_eq!(d.read_at(4096, &mut b), Err(BackendError::OutOfRange));
        assert_eq!(d.write_at(u64::MAX - 10, &b), Err(BackendError::OutOfRange));
        assert_eq!(d.discard(4000, 512), Err(BackendError::OutOfRange));
        assert_eq!(d.write_zeroes(u64::MAX, 2), Err(BackendError::OutOfRange));
    }
}

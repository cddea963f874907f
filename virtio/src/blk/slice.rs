//! [`SliceBackend`]: a disk held in a byte slice the home lends the device,
//! e.g. host memory hv-kernel set aside for a RAM disk the guest bundle
//! carried (machines whose host has no disk to give).

use super::backend::{check_range, BackendError, BlockBackend};

/// A disk whose contents are `data` (its length rounded down to a sector).
#[derive(Debug)]
pub struct SliceBackend<'a> {
    data: &'a mut [u8],
}

impl<'a> SliceBackend<'a> {
    /// A disk over `data`; a tail shorter than a sector is not part of it.
    pub fn new(data: &'a mut [u8]) -> Self {
        let len = data.len() & !511;
        SliceBackend {
            data: &mut data[..len],
        }
    }

    /// `[offset, offset + len)` of the disk, checked against its capacity.
    fn range(&mut self, offset: u64, len: u64) -> Result<&mut [u8], BackendError> {
        check_range(self.capacity(), offset, len)?;
        // Both fit in usize: they are within data.len().
        let (start, len) = (offset as usize, len as usize);
        self.data
            .get_mut(start..start + len)
            .ok_or(BackendError::OutOfRange)
    }
}

impl BlockBackend for SliceBackend<'_> {
    fn capacity(&self) -> u64 {
        self.data.len() as u64
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BackendError> {
        buf.copy_from_slice(self.range(offset, buf.len() as u64)?);
        Ok(())
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), BackendError> {
        self.range(offset, data.len() as u64)?.copy_from_slice(data);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), BackendError> {
        Ok(())
    }

    fn discard(&mut self, offset: u64, len: u64) -> Result<(), BackendError> {
        self.write_zeroes(offset, len)
    }

    fn write_zeroes(&mut self, offset: u64, len: u64) -> Result<(), BackendError> {
        self.range(offset, len)?.fill(0);
        Ok(())
    }

    /// One piece: straight from the slice into the guest's memory.
    fn read_to(
        &mut self,
        offset: u64,
        len: u64,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), BackendError>,
    ) -> Result<(), BackendError> {
        sink(self.range(offset, len)?)
    }

    /// One piece: straight from the guest's memory into the slice.
    fn write_from(
        &mut self,
        offset: u64,
        len: u64,
        source: &mut dyn FnMut(&mut [u8]) -> Result<(), BackendError>,
    ) -> Result<(), BackendError> {
        source(self.range(offset, len)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn reads_back_what_was_written_and_starts_with_its_contents() {
        let mut mem = vec![0x11u8; 4096 + 100];
        let mut d = SliceBackend::new(&mut mem);
        assert_eq!(d.capacity(), 4096, "the partial sector is not disk");
        let mut buf = [0u8; 512];
        d.read_at(512, &mut buf).unwrap();
        assert!(buf.iter().all(|&b| b == 0x11));
        d.write_at(1000, &[1, 2, 3]).unwrap();
        let mut back = [0u8; 3];
        d.read_at(1000, &mut back).unwrap();
        assert_eq!(back, [1, 2, 3]);
        d.write_zeroes(0, 1024).unwrap();
        d.read_at(1000, &mut back).unwrap();
        assert_eq!(back, [0, 0, 0]);
    }

    #[test]
    fn refuses_ranges_past_the_end_and_changes_nothing() {
        let mut mem = vec![0x22u8; 1024];
        let mut buf = [0u8; 512];
        {
            let mut d = SliceBackend::new(&mut mem);
            assert_eq!(
                d.read_at(1024 - 511, &mut buf),
                Err(BackendError::OutOfRange)
            );
            assert_eq!(d.write_at(1023, &[0; 2]), Err(BackendError::OutOfRange));
            assert_eq!(d.write_zeroes(u64::MAX, 2), Err(BackendError::OutOfRange));
            assert_eq!(d.discard(512, 513), Err(BackendError::OutOfRange));
            assert!(
                d.read_to(u64::MAX - 1, 4, &mut |_| Ok(())).is_err(),
                "offset + len overflowing"
            );
        }
        assert!(mem.iter().all(|&b| b == 0x22));
    }
}

//! A [`BlockBackend`] over a host file (std, unix): positional I/O, so no
//! shared file offset, and FLUSH = `fdatasync`, so data written and flushed
//! survives a crash of the process (and of the host, as far as the storage
//! honours it).

use super::backend::{check_range, BackendError, BlockBackend, CHUNK};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// A disk image file.
#[derive(Debug)]
pub struct FileBackend {
    file: File,
    capacity: u64,
}

fn io_err(e: io::Error) -> BackendError {
    BackendError::Io(e.raw_os_error().unwrap_or(-1))
}

impl FileBackend {
    /// Open `path`; its size (rounded down to 512) is the capacity.
    pub fn open(path: &Path, read_only: bool) -> io::Result<Self> {
        let file = OpenOptions::new().read(true).write(!read_only).open(path)?;
        Self::from_file(file)
    }

    /// Create (or truncate) `path` as a zero-filled image of `capacity`
    /// bytes (rounded down to 512); sparse where the filesystem allows.
    pub fn create(path: &Path, capacity: u64) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        file.set_len(capacity & !511)?;
        Self::from_file(file)
    }

    /// Use an open file; its size (rounded down to 512) is the capacity.
    pub fn from_file(file: File) -> io::Result<Self> {
        let capacity = file.metadata()?.len() & !511;
        Ok(FileBackend { file, capacity })
    }

    /// Write zeroes in bounded chunks (no hole punching without unsafe FFI).
    fn zero(&mut self, offset: u64, len: u64) -> Result<(), BackendError> {
        check_range(self.capacity, offset, len)?;
        let zeroes = [0u8; CHUNK];
        let mut done = 0u64;
        while done < len {
            let n = (len - done).min(CHUNK as u64) as usize;
            self.file
                .write_all_at(&zeroes[..n], offset + done)
                .map_err(io_err)?;
            done += n as u64;
        }
        Ok(())
    }
}

impl BlockBackend for FileBackend {
    #[inline]
    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BackendError> {
        check_range(self.capacity, offset, buf.len() as u64)?;
        self.file.read_exact_at(buf, offset).map_err(io_err)
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), BackendError> {
        check_range(self.capacity, offset, data.len() as u64)?;
        self.file.write_all_at(data, offset).map_err(io_err)
    }

    fn flush(&mut self) -> Result<(), BackendError> {
        self.file.sync_data().map_err(io_err)
    }

    fn discard(&mut self, offset: u64, len: u64) -> Result<(), BackendError> {
        self.zero(offset, len)
    }

    fn write_zeroes(&mut self, offset: u64, len: u64) -> Result<(), BackendError> {
        self.zero(offset, len)
    }
}

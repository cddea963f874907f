//! Executable memory for hv-core's JIT on Linux: one `memfd` mapped twice,
//! writable at one address and executable at another, so no page is ever
//! writable and executable at once (W^X) and emitting a block costs a
//! `memcpy`, not a system call. x86_64 keeps instruction fetch coherent
//! with stores, so nothing needs flushing after a write.
//!
//! This module and hv-core's `translate::jit::native` are the only places
//! the JIT uses `unsafe`.

use std::io;

use hv_core::translate::jit::{ArenaFull, CodeArena};

/// A dual-mapped code arena.
#[derive(Debug)]
pub struct DualMappedArena {
    rw: *mut u8,
    rx: *mut u8,
    len: usize,
}

// SAFETY: the arena owns both mappings exclusively; nothing in it is tied
// to the creating thread.
unsafe impl Send for DualMappedArena {}

impl DualMappedArena {
    /// An arena of `len` bytes (rounded up to whole pages).
    pub fn new(len: usize) -> io::Result<DualMappedArena> {
        let len = len.max(1).div_ceil(4096) * 4096;
        // SAFETY: a plain system call with a NUL-terminated name.
        let fd = unsafe { libc::memfd_create(c"hv-jit".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let result = Self::map(fd, len);
        // SAFETY: `fd` is ours; the mappings keep the memory alive.
        unsafe { libc::close(fd) };
        result
    }

    fn map(fd: libc::c_int, len: usize) -> io::Result<DualMappedArena> {
        let size = libc::off_t::try_from(len)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "arena too large"))?;
        // SAFETY: `fd` is a valid memfd.
        if unsafe { libc::ftruncate(fd, size) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let map = |prot| {
            // SAFETY: a fresh shared mapping of the whole memfd; the
            // result is checked.
            let p = unsafe { libc::mmap(std::ptr::null_mut(), len, prot, libc::MAP_SHARED, fd, 0) };
            if p == libc::MAP_FAILED {
                Err(io::Error::last_os_error())
            } else {
                Ok(p.cast::<u8>())
            }
        };
        let rw = map(libc::PROT_READ | libc::PROT_WRITE)?;
        let rx = match map(libc::PROT_READ | libc::PROT_EXEC) {
            Ok(p) => p,
            Err(e) => {
                // SAFETY: `rw` was mapped above with this length.
                unsafe { libc::munmap(rw.cast(), len) };
                return Err(e);
            }
        };
        Ok(DualMappedArena { rw, rx, len })
    }
}

// SAFETY: `rx..rx + len` is mapped read+execute only and stays mapped
// until drop; `write` stores through the separate writable mapping of the
// same memory, and x86_64 needs no instruction-cache maintenance after it.
unsafe impl CodeArena for DualMappedArena {
    fn capacity(&self) -> usize {
        self.len
    }

    fn exec_base(&self) -> u64 {
        self.rx as u64
    }

    fn write(&mut self, offset: usize, bytes: &[u8]) -> Result<(), ArenaFull> {
        let end = offset.checked_add(bytes.len()).ok_or(ArenaFull)?;
        if end > self.len {
            return Err(ArenaFull);
        }
        // SAFETY: `offset..end` is inside the writable mapping (checked
        // above), which nothing else aliases as a Rust reference.
        let dst = unsafe { std::slice::from_raw_parts_mut(self.rw.add(offset), bytes.len()) };
        dst.copy_from_slice(bytes);
        Ok(())
    }
}

impl Drop for DualMappedArena {
    fn drop(&mut self) {
        // SAFETY: both mappings were created with `len` and are not used
        // after this.
        unsafe {
            libc::munmap(self.rw.cast(), self.len);
            libc::munmap(self.rx.cast(), self.len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_land_at_the_executable_address_and_bounds_are_checked() {
        let mut a = DualMappedArena::new(5000).expect("memfd arena");
        assert_eq!(a.capacity(), 8192);
        a.write(8190, &[0xc3, 0x90]).expect("fits");
        assert_eq!(a.write(8191, &[1, 2]), Err(ArenaFull));
        assert_eq!(a.write(usize::MAX, &[1]), Err(ArenaFull));
        // Read back through the executable (read-only) view.
        let at = (a.exec_base() + 8190) as *const u8;
        // SAFETY: inside the live read+exec mapping.
        assert_eq!(unsafe { at.read() }, 0xc3);
    }
}

//! Guest RAM as the devices see it: every write a device makes (virtio
//! DMA) is recorded, so the run loop can drop translated code it overwrote
//! before the guest runs that memory (a kernel reading a program from a
//! virtio disk straight into the page it will execute).

use hv_core::mem::{GuestMemory, GuestRam, MemError};
use hv_core::GuestAddress;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

/// Most ranges kept before they are merged into one covering range (the
/// run loop drains them every slice, so this bounds memory, not work).
const MAX_RANGES: usize = 1024;

/// [`GuestRam`] plus a log of the ranges devices wrote.
#[derive(Debug)]
pub struct DmaRam {
    ram: Arc<GuestRam>,
    written: Mutex<Vec<(u64, u64)>>,
}

impl DmaRam {
    /// Devices' view of `ram`.
    pub fn new(ram: Arc<GuestRam>) -> Self {
        DmaRam {
            ram,
            written: Mutex::new(Vec::new()),
        }
    }

    /// The ranges `(guest address, length)` written since the last call.
    pub fn take_written(&self) -> Vec<(u64, u64)> {
        match self.written.lock() {
            Ok(mut w) if !w.is_empty() => std::mem::take(&mut *w),
            _ => Vec::new(),
        }
    }

    fn note(&self, addr: GuestAddress, len: u64) {
        if let Ok(mut w) = self.written.lock() {
            if w.len() >= MAX_RANGES {
                // Merge everything into one covering range.
                let lo = w.iter().map(|r| r.0).chain([addr.raw()]).min().unwrap_or(0);
                let hi = w
                    .iter()
                    .map(|r| r.0.saturating_add(r.1))
                    .chain([addr.raw().saturating_add(len)])
                    .max()
                    .unwrap_or(0);
                w.clear();
                w.push((lo, hi - lo));
            } else {
                w.push((addr.raw(), len));
            }
        }
    }
}

impl GuestMemory for DmaRam {
    fn read(&self, addr: GuestAddress, buf: &mut [u8]) -> Result<(), MemError> {
        self.ram.read(addr, buf)
    }

    fn write(&self, addr: GuestAddress, data: &[u8]) -> Result<(), MemError> {
        self.ram.write(addr, data)?;
        self.note(addr, data.len() as u64);
        Ok(())
    }

    fn fill(&self, addr: GuestAddress, value: u8, len: u64) -> Result<(), MemError> {
        self.ram.fill(addr, value, len)?;
        self.note(addr, len);
        Ok(())
    }

    fn check_range(&self, addr: GuestAddress, len: u64) -> Result<(), MemError> {
        self.ram.check_range(addr, len)
    }

    fn load_u16(&self, addr: GuestAddress, order: Ordering) -> Result<u16, MemError> {
        self.ram.load_u16(addr, order)
    }

    fn store_u16(&self, addr: GuestAddress, value: u16, order: Ordering) -> Result<(), MemError> {
        self.ram.store_u16(addr, value, order)?;
        self.note(addr, 2);
        Ok(())
    }

    fn load_u32(&self, addr: GuestAddress, order: Ordering) -> Result<u32, MemError> {
        self.ram.load_u32(addr, order)
    }

    fn store_u32(&self, addr: GuestAddress, value: u32, order: Ordering) -> Result<(), MemError> {
        self.ram.store_u32(addr, value, order)?;
        self.note(addr, 4);
        Ok(())
    }

    fn load_u64(&self, addr: GuestAddress, order: Ordering) -> Result<u64, MemError> {
        self.ram.load_u64(addr, order)
    }

    fn store_u64(&self, addr: GuestAddress, value: u64, order: Ordering) -> Result<(), MemError> {
        self.ram.store_u64(addr, value, order)?;
        self.note(addr, 8);
        Ok(())
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
            .ram
            .compare_exchange_u32(addr, current, new, success, failure)?;
        if r.is_ok() {
            self.note(addr, 4);
        }
        Ok(r)
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
            .ram
            .compare_exchange_u64(addr, current, new, success, failure)?;
        if r.is_ok() {
            self.note(addr, 8);
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_writes_are_logged_and_drained() {
        let ram = Arc::new(GuestRam::with_size(GuestAddress(0x4000_0000), 0x10000).unwrap());
        let dma = DmaRam::new(Arc::clone(&ram));
        dma.write(GuestAddress(0x4000_1000), &[1, 2, 3]).unwrap();
        dma.store_u16(GuestAddress(0x4000_2000), 7, Ordering::Release)
            .unwrap();
        let mut b = [0u8; 3];
        dma.read(GuestAddress(0x4000_1000), &mut b).unwrap();
        assert_eq!(b, [1, 2, 3]);
        assert_eq!(dma.take_written(), [(0x4000_1000, 3), (0x4000_2000, 2)]);
        assert!(dma.take_written().is_empty());
        // A refused write is not logged.
        assert!(dma.write(GuestAddress(0x5000_0000), &[1]).is_err());
        assert!(dma.take_written().is_empty());
    }

    #[test]
    fn many_writes_merge_into_one_covering_range() {
        let ram = Arc::new(GuestRam::with_size(GuestAddress(0x4000_0000), 0x10000).unwrap());
        let dma = DmaRam::new(ram);
        for i in 0..(MAX_RANGES as u64 + 1) {
            dma.write(GuestAddress(0x4000_0000 + 8 * i), &[0]).unwrap();
        }
        let w = dma.take_written();
        assert!(w.len() <= 2, "{}", w.len());
        let covered = |a: u64| w.iter().any(|&(s, l)| s <= a && a < s + l);
        assert!((0..=MAX_RANGES as u64).all(|i| covered(0x4000_0000 + 8 * i)));
    }
}

//! The machine's own virtio-blk disks (QEMU's `-device virtio-blk-device`
//! on AArch64 `virt`, `virtio-blk-pci` on x86 `q35`), driven by hv with the
//! `virtio-drivers` crate over either transport and offered to the guest as
//! a [`BlockBackend`]: what the guest writes and flushes reaches the disk
//! image. The same code on both architectures; only finding the devices
//! differs (DTB windows here, a PCI scan in `x86_64/pci.rs`).

use alloc::alloc::{alloc_zeroed, dealloc, Layout};
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ptr::NonNull;
use virtio::blk::BackendError;
use virtio::slots::Disk;
use virtio::BlockBackend;
use virtio_drivers::device::blk::{VirtIOBlk, SECTOR_SIZE};
#[cfg(target_arch = "aarch64")]
use virtio_drivers::transport::mmio::{MmioTransport, VirtIOHeader};
use virtio_drivers::transport::{DeviceType, SomeTransport, Transport};
use virtio_drivers::{BufferDirection, Hal, PhysAddr};

const PAGE: usize = 4096;
/// Size of a virtio-mmio register window.
#[cfg(target_arch = "aarch64")]
const MMIO_WINDOW: usize = 0x200;
/// errno values reported as the backend's I/O error.
const EIO: i32 = 5;
const EINVAL: i32 = 22;

/// DMA for virtio-drivers: heap pages, whose addresses are physical (hv's
/// map is an identity map on both architectures).
#[derive(Debug)]
pub struct KernelHal;

// SAFETY: dma_alloc returns zeroed, page-aligned heap memory owned by the
// caller until dma_dealloc; hv's map is an identity map (aarch64/mmu.rs,
// x86_64/boot.s: the low 4 GiB, which hold hv, its heap and the PCI
// windows), so
// virtual and physical addresses are the same and share/mmio_phys_to_virt
// are identities.
unsafe impl Hal for KernelHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let layout = Layout::from_size_align(pages.max(1) * PAGE, PAGE).expect("DMA layout");
        // SAFETY: the layout has a non-zero size.
        let ptr = NonNull::new(unsafe { alloc_zeroed(layout) })
            .unwrap_or_else(|| crate::arch::fatal(format_args!("out of heap for virtio DMA")));
        (ptr.as_ptr() as PhysAddr, ptr)
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, vaddr: NonNull<u8>, pages: usize) -> i32 {
        let layout = Layout::from_size_align(pages.max(1) * PAGE, PAGE).expect("DMA layout");
        // SAFETY: the caller returns memory from dma_alloc with the same
        // page count, hence the same layout.
        unsafe { dealloc(vaddr.as_ptr(), layout) };
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, _size: usize) -> NonNull<u8> {
        NonNull::new(paddr as *mut u8).expect("MMIO at address 0")
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        buffer.cast::<u8>().as_ptr() as PhysAddr
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}

/// Largest piece moved per request to the machine's disk: guest requests
/// up to this size cost one host request instead of one per 4 KiB.
const BOUNCE: usize = 256 << 10;

/// One of the machine's block devices.
pub struct HostDisk {
    blk: VirtIOBlk<KernelHal, SomeTransport<'static>>,
    capacity: u64,
    read_only: bool,
    /// Staging buffer between guest memory and the device (allocated on
    /// first use, at most BOUNCE bytes).
    bounce: Vec<u8>,
}

impl core::fmt::Debug for HostDisk {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HostDisk")
            .field("capacity", &self.capacity)
            .field("read_only", &self.read_only)
            .finish()
    }
}

impl HostDisk {
    /// Whether the device refuses writes (VIRTIO_BLK_F_RO).
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    fn check_range(&self, offset: u64, len: u64) -> Result<(), BackendError> {
        match offset.checked_add(len) {
            Some(end) if end <= self.capacity => Ok(()),
            _ => Err(BackendError::OutOfRange),
        }
    }

    fn sector_range(&self, offset: u64, len: usize) -> Result<usize, BackendError> {
        self.check_range(offset, len as u64)?;
        if offset % SECTOR_SIZE as u64 != 0 || len % SECTOR_SIZE != 0 {
            return Err(BackendError::Io(EINVAL));
        }
        usize::try_from(offset / SECTOR_SIZE as u64).map_err(|_| BackendError::OutOfRange)
    }
}

impl BlockBackend for HostDisk {
    fn capacity(&self) -> u64 {
        self.capacity
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BackendError> {
        let sector = self.sector_range(offset, buf.len())?;
        if buf.is_empty() {
            return Ok(());
        }
        self.blk
            .read_blocks(sector, buf)
            .map_err(|_| BackendError::Io(EIO))
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), BackendError> {
        let sector = self.sector_range(offset, data.len())?;
        if data.is_empty() {
            return Ok(());
        }
        self.blk
            .write_blocks(sector, data)
            .map_err(|_| BackendError::Io(EIO))
    }

    fn flush(&mut self) -> Result<(), BackendError> {
        self.blk.flush().map_err(|_| BackendError::Io(EIO))
    }

    fn read_to(
        &mut self,
        offset: u64,
        len: u64,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), BackendError>,
    ) -> Result<(), BackendError> {
        self.check_range(offset, len)?;
        let mut done = 0;
        while done < len {
            // min(.., BOUNCE) fits in usize.
            let n = (len - done).min(BOUNCE as u64) as usize;
            let sector = self.sector_range(offset + done, n)?;
            let piece = staging(&mut self.bounce, n)?;
            self.blk
                .read_blocks(sector, piece)
                .map_err(|_| BackendError::Io(EIO))?;
            sink(piece)?;
            done += n as u64;
        }
        Ok(())
    }

    fn write_from(
        &mut self,
        offset: u64,
        len: u64,
        source: &mut dyn FnMut(&mut [u8]) -> Result<(), BackendError>,
    ) -> Result<(), BackendError> {
        self.check_range(offset, len)?;
        let mut done = 0;
        while done < len {
            let n = (len - done).min(BOUNCE as u64) as usize;
            let sector = self.sector_range(offset + done, n)?;
            let piece = staging(&mut self.bounce, n)?;
            source(piece)?;
            self.blk
                .write_blocks(sector, piece)
                .map_err(|_| BackendError::Io(EIO))?;
            done += n as u64;
        }
        Ok(())
    }

    fn discard(&mut self, offset: u64, len: u64) -> Result<(), BackendError> {
        // Reads after a discard are unspecified; zeroes are the safe answer.
        self.write_zeroes(offset, len)
    }

    fn write_zeroes(&mut self, offset: u64, len: u64) -> Result<(), BackendError> {
        self.check_range(offset, len)?;
        let zeroes = [0u8; PAGE];
        let mut done = 0;
        while done < len {
            // min(.., PAGE) fits in usize.
            let n = (len - done).min(PAGE as u64) as usize;
            self.write_at(offset + done, &zeroes[..n])?;
            done += n as u64;
        }
        Ok(())
    }
}

/// The first `len` bytes of the staging buffer, grown as needed (callers
/// keep `len` at most BOUNCE).
fn staging(buf: &mut Vec<u8>, len: usize) -> Result<&mut [u8], BackendError> {
    if buf.len() < len {
        buf.try_reserve_exact(len - buf.len())
            .map_err(|_| BackendError::NoMemory)?;
        buf.resize(len, 0);
    }
    Ok(&mut buf[..len])
}

/// Every virtio-blk device among the virtio-mmio windows at `windows`
/// (physical addresses from the DTB).
#[cfg(target_arch = "aarch64")]
pub fn probe_mmio(windows: &[usize]) -> Vec<HostDisk> {
    let mut disks = Vec::new();
    for &base in windows {
        let Some(header) = NonNull::new(base as *mut VirtIOHeader) else {
            continue;
        };
        // SAFETY: the DTB names this a virtio-mmio window of MMIO_WINDOW
        // bytes; hv drives each window through this one transport only.
        let Ok(transport) = (unsafe { MmioTransport::new(header, MMIO_WINDOW) }) else {
            continue; // no device behind this window
        };
        disks.extend(start(transport.into(), format_args!("{base:#x}")));
    }
    disks
}

/// Start the block device behind `transport` (found at `at`, for the log);
/// None if it is another kind of device or fails to start.
pub fn start(transport: SomeTransport<'static>, at: core::fmt::Arguments) -> Option<HostDisk> {
    if transport.device_type() != DeviceType::Block {
        return None;
    }
    match VirtIOBlk::<KernelHal, _>::new(transport) {
        Ok(blk) => {
            let capacity = blk.capacity() * SECTOR_SIZE as u64;
            let read_only = blk.readonly();
            log::info!(
                "host disk at {at}: {} sectors{}",
                blk.capacity(),
                if read_only { ", read-only" } else { "" }
            );
            Some(HostDisk {
                blk,
                capacity,
                read_only,
                bounce: Vec::new(),
            })
        }
        Err(e) => {
            log::warn!("virtio-blk at {at} failed to start: {e:?}");
            None
        }
    }
}

/// The guest's disks from the host's: its first writable disk, then its
/// first read-only one (the guest machine's two slots).
pub fn guest_disks(mut found: Vec<HostDisk>) -> Vec<Disk<Box<dyn BlockBackend>>> {
    let mut disks: Vec<Disk<Box<dyn BlockBackend>>> = Vec::new();
    for wanted_read_only in [false, true] {
        if let Some(i) = found.iter().position(|d| d.read_only() == wanted_read_only) {
            let disk = found.swap_remove(i);
            disks.push(Disk {
                read_only: disk.read_only(),
                backend: Box::new(disk),
            });
        }
    }
    disks
}

//! `virtio_drivers::Hal` for a guest whose addresses are physical (MMU off,
//! or an identity map): DMA memory comes from a
//! static pool and addresses are physical.

use core::cell::UnsafeCell;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};
use virtio_drivers::{BufferDirection, Hal, PhysAddr};

const PAGE: usize = 4096;
const POOL_PAGES: usize = 64;

#[repr(C, align(4096))]
struct Pool(UnsafeCell<[u8; PAGE * POOL_PAGES]>);

// SAFETY: pages are handed out once each (the bump index only grows), so no
// two users share a page.
unsafe impl Sync for Pool {}

static POOL: Pool = Pool(UnsafeCell::new([0; PAGE * POOL_PAGES]));
static NEXT_PAGE: AtomicUsize = AtomicUsize::new(0);

/// The DMA glue.
#[derive(Debug)]
pub struct GuestHal;

// SAFETY: dma_alloc returns zeroed, page-aligned memory that nobody else
// uses; with the MMU off the virtual address is the physical one, so
// share/mmio_phys_to_virt are identities.
unsafe impl Hal for GuestHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let first = NEXT_PAGE.fetch_add(pages, Ordering::SeqCst);
        assert!(first + pages <= POOL_PAGES, "guest DMA pool exhausted");
        // SAFETY: `first + pages <= POOL_PAGES`, so the range is in the pool;
        // the pool is zero-initialised BSS and each page is handed out once.
        let ptr = unsafe { POOL.0.get().cast::<u8>().add(first * PAGE) };
        let ptr = NonNull::new(ptr).expect("pool is not at address 0");
        (ptr.as_ptr() as PhysAddr, ptr)
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, _vaddr: NonNull<u8>, _pages: usize) -> i32 {
        // The guest runs one test and powers off; pages are not reused.
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, _size: usize) -> NonNull<u8> {
        NonNull::new(paddr as *mut u8).expect("MMIO is not at address 0")
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        buffer.cast::<u8>().as_ptr() as PhysAddr
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}

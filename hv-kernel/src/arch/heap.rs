//! The kernel heap: a fixed area in BSS handed to `linked_list_allocator`.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};
use linked_list_allocator::LockedHeap;

/// Heap size. The hypervisor's own allocations are small; guest RAM does not
/// come from here.
pub const HEAP_SIZE: usize = 1 << 20;

#[global_allocator]
static ALLOCATOR: LockedHeap = LockedHeap::empty();

#[repr(C, align(4096))]
struct HeapArea(UnsafeCell<[u8; HEAP_SIZE]>);

// SAFETY: the area is handed to the allocator exactly once (guarded by
// `INITIALISED`) and never touched directly afterwards; the allocator
// serialises all access with its lock.
unsafe impl Sync for HeapArea {}

static HEAP_AREA: HeapArea = HeapArea(UnsafeCell::new([0; HEAP_SIZE]));
static INITIALISED: AtomicBool = AtomicBool::new(false);

/// Give the heap area to the allocator; later calls do nothing.
pub fn init() {
    if INITIALISED.swap(true, Ordering::AcqRel) {
        return;
    }
    // SAFETY: the area is static, HEAP_SIZE bytes long, used for nothing else,
    // and this runs once (the swap above).
    unsafe { ALLOCATOR.lock().init(HEAP_AREA.0.get().cast(), HEAP_SIZE) };
}

/// Bytes of the heap in use now.
pub fn used() -> usize {
    ALLOCATOR.lock().used()
}

//! Guest memory contents plus MMIO register writes and driver actions against
//! a VirtioBlock on the virtio-mmio transport. The logic lives in
//! `virtio::testing::fuzz_one` so the normal test suite runs it too (a
//! bounded proptest in virtio's tests).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = virtio::testing::fuzz_one(data);
});

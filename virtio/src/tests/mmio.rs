//! Rules M1-M4 and the status state machine of the virtio-mmio transport.

use crate::blk::*;
use crate::device::VIRTIO_F_VERSION_1;
use crate::mmio::*;
use crate::testing::{
    mmio_init, rd, setup_queue, wr, BlkRig, Buf, DriverQueue, InitError, RAM_BASE,
};
use alloc::sync::Arc;
use hv_core::mem::GuestRam;
use hv_core::mmio::{AccessWidth, MmioDevice};

type Dev = MmioTransport<VirtioBlock<MemoryBackend>, Arc<GuestRam>>;

fn fresh() -> (Arc<GuestRam>, Dev) {
    let mem = Arc::new(GuestRam::with_size(RAM_BASE, 1 << 20).unwrap());
    let blk = VirtioBlock::new(MemoryBackend::new(1 << 20), BlockConfig::default()).unwrap();
    let dev = MmioTransport::new(blk, Arc::clone(&mem));
    (mem, dev)
}

const A: u32 = STATUS_ACKNOWLEDGE;
const AD: u32 = STATUS_ACKNOWLEDGE | STATUS_DRIVER;
const ADF: u32 = AD | STATUS_FEATURES_OK;
const ADFO: u32 = ADF | STATUS_DRIVER_OK;

/// Reset, ACK, DRIVER, accept VERSION_1 only, FEATURES_OK.
fn to_features_ok(dev: &mut Dev) {
    wr(dev, STATUS, 0);
    wr(dev, STATUS, A);
    wr(dev, STATUS, AD);
    wr(dev, DRIVER_FEATURES_SEL, 1);
    wr(dev, DRIVER_FEATURES, 1);
    wr(dev, STATUS, ADF);
    assert_eq!(rd(dev, STATUS), ADF);
}

#[test]
fn identification_registers() {
    let (_, mut dev) = fresh();
    assert_eq!(rd(&mut dev, MAGIC_VALUE), 0x7472_6976);
    assert_eq!(rd(&mut dev, VERSION), 2);
    assert_eq!(rd(&mut dev, DEVICE_ID), VIRTIO_ID_BLOCK);
    assert_eq!(rd(&mut dev, VENDOR), VENDOR_ID);
    wr(&mut dev, DEVICE_FEATURES_SEL, 1);
    assert_eq!(rd(&mut dev, DEVICE_FEATURES), 1, "VERSION_1 is bit 32");
    wr(&mut dev, DEVICE_FEATURES_SEL, 0);
    let lo = rd(&mut dev, DEVICE_FEATURES);
    assert_ne!(lo & VIRTIO_BLK_F_FLUSH as u32, 0);
    assert_eq!(lo & VIRTIO_BLK_F_RO as u32, 0);
    wr(&mut dev, DEVICE_FEATURES_SEL, 2);
    assert_eq!(rd(&mut dev, DEVICE_FEATURES), 0);
    wr(&mut dev, QUEUE_SEL, 0);
    assert_eq!(rd(&mut dev, QUEUE_NUM_MAX), 256);
    wr(&mut dev, QUEUE_SEL, 1);
    assert_eq!(rd(&mut dev, QUEUE_NUM_MAX), 0, "no queue 1");
    assert_eq!(
        rd(&mut dev, SHM_LEN_LOW),
        u32::MAX,
        "no shared memory regions"
    );
}

#[test]
fn config_space_at_0x100() {
    let (_, mut dev) = fresh();
    assert_eq!(dev.read(CONFIG, AccessWidth::Double), (1 << 20) / 512);
    assert_eq!(dev.read(CONFIG, AccessWidth::Word), 2048);
    assert_eq!(dev.read(CONFIG + 4, AccessWidth::Word), 0);
    assert_eq!(dev.read(CONFIG + 0x14, AccessWidth::Word), 4096, "blk_size");
    assert_eq!(dev.read(CONFIG + 0x0c, AccessWidth::Word), 254, "seg_max");
    assert_eq!(dev.read(CONFIG + 0x14, AccessWidth::Half), 4096);
    assert_eq!(dev.read(CONFIG + 0x15, AccessWidth::Byte), 0x10);
    assert_eq!(
        dev.read(CONFIG + 0x100, AccessWidth::Word),
        0,
        "beyond config"
    );
    assert_eq!(dev.read(u64::MAX - 3, AccessWidth::Double), 0);
    dev.write(CONFIG, AccessWidth::Double, 7);
    assert_eq!(
        dev.read(CONFIG, AccessWidth::Double),
        2048,
        "config is read-only"
    );
    assert_eq!(rd(&mut dev, CONFIG_GENERATION), 0);
    dev.config_changed();
    assert_eq!(rd(&mut dev, CONFIG_GENERATION), 1);
}

#[test]
fn m1_bad_widths_read_only_write_only_and_unknown_registers() {
    let (_, mut dev) = fresh();
    // Non-32-bit accesses to registers.
    assert_eq!(dev.read(MAGIC_VALUE, AccessWidth::Byte), 0);
    assert_eq!(dev.read(MAGIC_VALUE, AccessWidth::Half), 0);
    assert_eq!(dev.read(MAGIC_VALUE, AccessWidth::Double), 0);
    dev.write(STATUS, AccessWidth::Byte, u64::from(A));
    dev.write(STATUS, AccessWidth::Double, u64::from(A));
    assert_eq!(rd(&mut dev, STATUS), 0);
    // Misaligned word.
    assert_eq!(dev.read(MAGIC_VALUE + 1, AccessWidth::Word), 0);
    // Writes to read-only registers.
    for reg in [
        MAGIC_VALUE,
        VERSION,
        DEVICE_ID,
        VENDOR,
        DEVICE_FEATURES,
        QUEUE_NUM_MAX,
        INTERRUPT_STATUS,
        CONFIG_GENERATION,
    ] {
        let before = rd(&mut dev, reg);
        wr(&mut dev, reg, 0xdead_beef);
        assert_eq!(rd(&mut dev, reg), before, "{reg:#x}");
    }
    // Reads of write-only registers.
    to_features_ok(&mut dev);
    wr(&mut dev, QUEUE_DESC_LOW, 0x4000_0000);
    wr(&mut dev, QUEUE_NUM, 16);
    for reg in [
        DEVICE_FEATURES_SEL,
        DRIVER_FEATURES,
        DRIVER_FEATURES_SEL,
        QUEUE_SEL,
        QUEUE_NUM,
        QUEUE_NOTIFY,
        INTERRUPT_ACK,
        QUEUE_DESC_LOW,
        QUEUE_DESC_HIGH,
    ] {
        assert_eq!(rd(&mut dev, reg), 0, "{reg:#x}");
    }
    // Unknown offsets.
    for reg in [0x018, 0x040, 0x0c0, 0x0f0, 0x0f8] {
        wr(&mut dev, reg, 0xffff_ffff);
        assert_eq!(rd(&mut dev, reg), 0, "{reg:#x}");
    }
    assert_eq!(
        rd(&mut dev, STATUS),
        ADF,
        "nothing above changed the status"
    );
}

#[test]
fn m2_queue_configuration_while_ready_or_after_driver_ok_is_ignored() {
    let (mem, mut dev) = fresh();
    let q = DriverQueue::new(&*mem, RAM_BASE, 16);
    // Before FEATURES_OK the queue cannot be configured.
    wr(&mut dev, STATUS, A);
    wr(&mut dev, STATUS, AD);
    setup_queue(&mut dev, 0, &q);
    assert_eq!(rd(&mut dev, QUEUE_READY), 0);
    to_features_ok(&mut dev);
    setup_queue(&mut dev, 0, &q);
    assert_eq!(rd(&mut dev, QUEUE_READY), 1);
    // While ready: size and addresses are frozen.
    wr(&mut dev, QUEUE_NUM, 8);
    wr(&mut dev, QUEUE_DESC_LOW, 0x1234_0000);
    assert_eq!(dev.queues()[0].size(), 16);
    assert_eq!(dev.queues()[0].desc_table(), q.desc);
    wr(&mut dev, STATUS, ADFO);
    // After DRIVER_OK the configuration stays frozen...
    wr(&mut dev, QUEUE_NUM, 8);
    assert_eq!(dev.queues()[0].size(), 16);
    // ...but the driver may stop the queue (virtio-mmio 4.2.2.2: write 0 to
    // QueueReady and read it back), and not start it again.
    wr(&mut dev, QUEUE_READY, 0);
    assert_eq!(rd(&mut dev, QUEUE_READY), 0);
    wr(&mut dev, QUEUE_READY, 1);
    assert_eq!(rd(&mut dev, QUEUE_READY), 0);
}

#[test]
fn m2_queue_ready_refuses_bad_size_and_alignment() {
    let (mem, mut dev) = fresh();
    let q = DriverQueue::new(&*mem, RAM_BASE, 16);
    to_features_ok(&mut dev);
    for (num, desc_off) in [(0u32, 0u64), (3, 0), (512, 0), (1 << 16, 0), (16, 8)] {
        setup_queue(&mut dev, 0, &q);
        wr(&mut dev, QUEUE_READY, 0);
        wr(&mut dev, QUEUE_NUM, num);
        wr(&mut dev, QUEUE_DESC_LOW, (q.desc.0 + desc_off) as u32);
        wr(&mut dev, QUEUE_READY, 1);
        assert_eq!(rd(&mut dev, QUEUE_READY), 0, "num {num} desc +{desc_off}");
    }
    // Rings beyond RAM.
    setup_queue(&mut dev, 0, &q);
    wr(&mut dev, QUEUE_READY, 0);
    wr(&mut dev, QUEUE_DEVICE_HIGH, 1);
    wr(&mut dev, QUEUE_READY, 1);
    assert_eq!(rd(&mut dev, QUEUE_READY), 0);
}

#[test]
fn m2_driver_features_only_during_negotiation_and_only_offered_ones() {
    let (_, mut dev) = fresh();
    // Before DRIVER: ignored.
    wr(&mut dev, STATUS, A);
    wr(&mut dev, DRIVER_FEATURES_SEL, 1);
    wr(&mut dev, DRIVER_FEATURES, 1);
    assert_eq!(dev.driver_features(), 0);
    wr(&mut dev, STATUS, AD);
    // A feature never offered (bit 0 of block: BARRIER): FEATURES_OK refused.
    wr(&mut dev, DRIVER_FEATURES, 1);
    wr(&mut dev, DRIVER_FEATURES_SEL, 0);
    wr(&mut dev, DRIVER_FEATURES, 1);
    wr(&mut dev, STATUS, ADF);
    assert_eq!(rd(&mut dev, STATUS), AD);
    // Without VERSION_1: refused as well.
    wr(&mut dev, DRIVER_FEATURES, VIRTIO_BLK_F_FLUSH as u32);
    wr(&mut dev, DRIVER_FEATURES_SEL, 1);
    wr(&mut dev, DRIVER_FEATURES, 0);
    wr(&mut dev, STATUS, ADF);
    assert_eq!(rd(&mut dev, STATUS), AD);
    // Offered features with VERSION_1: accepted.
    wr(&mut dev, DRIVER_FEATURES, 1);
    wr(&mut dev, STATUS, ADF);
    assert_eq!(rd(&mut dev, STATUS), ADF);
    assert_eq!(
        dev.device().driver_features(),
        VIRTIO_F_VERSION_1 | VIRTIO_BLK_F_FLUSH
    );
    // After FEATURES_OK: ignored.
    wr(&mut dev, DRIVER_FEATURES_SEL, 0);
    wr(&mut dev, DRIVER_FEATURES, 0);
    assert_eq!(
        dev.driver_features(),
        VIRTIO_F_VERSION_1 | VIRTIO_BLK_F_FLUSH
    );
}

#[test]
fn status_state_machine_enforces_order() {
    let (_, mut dev) = fresh();
    // DRIVER without ACKNOWLEDGE, FEATURES_OK without DRIVER, DRIVER_OK
    // without FEATURES_OK: refused.
    wr(&mut dev, STATUS, STATUS_DRIVER);
    assert_eq!(rd(&mut dev, STATUS), 0);
    wr(&mut dev, STATUS, A | STATUS_FEATURES_OK);
    assert_eq!(rd(&mut dev, STATUS), 0);
    wr(&mut dev, STATUS, A);
    wr(&mut dev, STATUS, AD | STATUS_DRIVER_OK);
    assert_eq!(rd(&mut dev, STATUS), A);
    wr(&mut dev, STATUS, AD);
    // Clearing a bit without reset: refused.
    wr(&mut dev, STATUS, STATUS_DRIVER);
    assert_eq!(rd(&mut dev, STATUS), AD);
    // The driver cannot set NEEDS_RESET.
    wr(&mut dev, STATUS, AD | STATUS_DEVICE_NEEDS_RESET);
    assert_eq!(rd(&mut dev, STATUS) & STATUS_DEVICE_NEEDS_RESET, 0);
    // FAILED is accepted at any point, and then nothing goes on.
    wr(&mut dev, STATUS, AD | STATUS_FAILED);
    assert_eq!(rd(&mut dev, STATUS), AD | STATUS_FAILED);
    // Full, correct sequence.
    let (mem, mut dev) = fresh();
    let q = DriverQueue::new(&*mem, RAM_BASE, 16);
    assert!(mmio_init(&mut dev, u64::MAX, core::slice::from_ref(&q)).is_ok());
    assert_eq!(rd(&mut dev, STATUS), ADFO);
}

#[test]
fn m3_status_zero_resets_queues_features_and_interrupts() {
    let mut r = BlkRig::new(
        MemoryBackend::new(1 << 20),
        BlockConfig::default(),
        1 << 20,
        16,
        u64::MAX,
    );
    let (c, _) = r.read(0, 512);
    assert_eq!(c.status, VIRTIO_BLK_S_OK);
    assert!(r.irq());
    assert_ne!(rd(&mut r.dev, INTERRUPT_STATUS), 0);
    wr(&mut r.dev, STATUS, 0);
    assert!(!r.irq());
    assert_eq!(rd(&mut r.dev, INTERRUPT_STATUS), 0);
    assert_eq!(rd(&mut r.dev, STATUS), 0);
    assert_eq!(rd(&mut r.dev, QUEUE_READY), 0);
    assert_eq!(r.dev.driver_features(), 0);
    assert_eq!(r.dev.device().driver_features(), 0);
    assert_eq!(r.dev.queues()[0].next_avail(), 0);
    // And the device can be brought up again.
    let q = DriverQueue::new(&*r.mem, RAM_BASE, 16);
    r.q = q.clone();
    assert!(mmio_init(&mut r.dev, u64::MAX, &[q]).is_ok());
    let (c, _) = r.read(0, 512);
    assert_eq!(c.status, VIRTIO_BLK_S_OK);
}

#[test]
fn m4_queue_notify_before_driver_ok_is_ignored() {
    let (mem, mut dev) = fresh();
    let mut q = DriverQueue::new(&*mem, RAM_BASE, 16);
    to_features_ok(&mut dev);
    setup_queue(&mut dev, 0, &q);
    let h = BlkRig::<MemoryBackend>::HEADER;
    crate::testing::write_blk_header(&*mem, h, VIRTIO_BLK_T_IN, 0);
    q.add_chain(
        &*mem,
        &[Buf::r(h, 16), Buf::w(BlkRig::<MemoryBackend>::STATUS, 1)],
    );
    wr(&mut dev, QUEUE_NOTIFY, 0);
    assert_eq!(q.pop_used(&*mem), None);
    assert!(!dev.interrupt_level());
    wr(&mut dev, STATUS, ADFO);
    wr(&mut dev, QUEUE_NOTIFY, 7); // no such queue
    assert_eq!(q.pop_used(&*mem), None);
    wr(&mut dev, QUEUE_NOTIFY, 0);
    assert_eq!(q.pop_used(&*mem), Some((0, 1)));
    assert!(dev.interrupt_level());
}

#[test]
fn interrupt_ack_lowers_the_line() {
    let mut r = BlkRig::new(
        MemoryBackend::new(1 << 20),
        BlockConfig::default(),
        1 << 20,
        16,
        u64::MAX,
    );
    r.read(0, 512);
    assert_eq!(rd(&mut r.dev, INTERRUPT_STATUS), INT_USED_BUFFER);
    wr(&mut r.dev, INTERRUPT_ACK, INT_CONFIG_CHANGE);
    assert!(r.irq(), "acking another cause leaves it up");
    r.ack();
    assert!(!r.irq());
}

#[test]
fn q3_corrupt_avail_index_sets_needs_reset_and_stops_serving() {
    let mut r = BlkRig::new(
        MemoryBackend::new(1 << 20),
        BlockConfig::default(),
        1 << 20,
        16,
        u64::MAX,
    );
    let idx = r.q.avail_idx();
    r.q.set_avail_idx(&*r.mem, idx.wrapping_add(17));
    wr(&mut r.dev, QUEUE_NOTIFY, 0);
    assert_ne!(rd(&mut r.dev, STATUS) & STATUS_DEVICE_NEEDS_RESET, 0);
    assert_eq!(rd(&mut r.dev, INTERRUPT_STATUS), INT_CONFIG_CHANGE);
    assert_eq!(r.q.used_idx(&*r.mem), 0, "nothing was completed");
    // Further notifies are ignored until the driver resets the device.
    r.q.set_avail_idx(&*r.mem, idx.wrapping_add(1));
    wr(&mut r.dev, QUEUE_NOTIFY, 0);
    assert_eq!(r.q.used_idx(&*r.mem), 0);
    wr(&mut r.dev, STATUS, 0);
    let q = DriverQueue::new(&*r.mem, RAM_BASE, 16);
    r.q = q.clone();
    assert_eq!(
        mmio_init(&mut r.dev, u64::MAX, &[q]).map(|_| ()),
        Ok::<(), InitError>(())
    );
    assert_eq!(r.read(0, 512).0.status, VIRTIO_BLK_S_OK);
}

//! Rules B1-B11: every request gets the exact status and used length.

use crate::blk::*;
use crate::device::{VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_VERSION_1};
use crate::testing::{at, ok_with, write_blk_header, write_blk_segment, BlkRig, Buf, Completion};
use alloc::vec;
use alloc::vec::Vec;
use hv_core::mem::GuestMemory;

type Rig = BlkRig<MemoryBackend>;

const ALL: u64 = u64::MAX;
const CAP: u64 = 1 << 20; // 2048 sectors
const IOERR: Completion = Completion {
    used_len: 1,
    status: VIRTIO_BLK_S_IOERR,
};
const UNSUPP: Completion = Completion {
    used_len: 1,
    status: VIRTIO_BLK_S_UNSUPP,
};
const OK: Completion = Completion {
    used_len: 1,
    status: VIRTIO_BLK_S_OK,
};
const NO_STATUS: Completion = Completion {
    used_len: 0,
    status: 0xff,
};

fn rig_with(config: BlockConfig, wanted: u64) -> Rig {
    BlkRig::new(MemoryBackend::new(CAP), config, 2 << 20, 16, wanted)
}

fn rig() -> Rig {
    rig_with(BlockConfig::default(), ALL)
}

fn ro_rig() -> Rig {
    let mut r = rig();
    r.write(0, &[0x5a; 512]);
    let disk = core::mem::replace(r.dev.device_mut().backend_mut(), MemoryBackend::new(0));
    let config = BlockConfig {
        read_only: true,
        ..BlockConfig::default()
    };
    BlkRig::new(disk, config, 2 << 20, 16, ALL)
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn disk_bytes(r: &mut Rig, offset: u64, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    r.dev
        .device_mut()
        .backend_mut()
        .read_at(offset, &mut v)
        .unwrap();
    v
}

#[test]
fn write_then_read_round_trips() {
    let mut r = rig();
    let data = pattern(4096, 1);
    assert_eq!(r.write(8, &data), OK);
    let (c, back) = r.read(8, 4096);
    assert!(ok_with(c, 4096), "{c:?}");
    assert_eq!(back, data);
    assert!(r.irq());
}

#[test]
fn b1_header_shorter_than_16_bytes_gets_no_status() {
    let mut r = rig();
    let c = r.submit(
        &[Buf::r(Rig::HEADER, 15), Buf::w(Rig::STATUS, 1)],
        Rig::STATUS,
    );
    assert_eq!(c, NO_STATUS);
}

#[test]
fn b1_header_not_device_readable_gets_no_status() {
    let mut r = rig();
    write_blk_header(&*r.mem, Rig::HEADER, VIRTIO_BLK_T_IN, 0);
    let c = r.submit(
        &[
            Buf::w(Rig::HEADER, 16),
            Buf::w(Rig::DATA, 512),
            Buf::w(Rig::STATUS, 1),
        ],
        Rig::STATUS,
    );
    assert_eq!(c, NO_STATUS);
}

#[test]
fn b1_missing_readonly_or_empty_status_gets_no_status() {
    let mut r = rig();
    write_blk_header(&*r.mem, Rig::HEADER, VIRTIO_BLK_T_FLUSH, 0);
    // No status descriptor at all.
    assert_eq!(r.submit(&[Buf::r(Rig::HEADER, 16)], Rig::STATUS), NO_STATUS);
    // Status device-readable.
    let c = r.submit(
        &[Buf::r(Rig::HEADER, 16), Buf::r(Rig::STATUS, 1)],
        Rig::STATUS,
    );
    assert_eq!(c, NO_STATUS);
    // Status 0 bytes long (even after a writable data buffer).
    let c = r.submit(
        &[
            Buf::r(Rig::HEADER, 16),
            Buf::w(Rig::DATA, 512),
            Buf::w(Rig::STATUS, 0),
        ],
        Rig::STATUS,
    );
    assert_eq!(c, NO_STATUS);
    assert_eq!(
        r.mem.read_u8(Rig::DATA).unwrap(),
        0,
        "no data written either"
    );
    // The device keeps serving.
    assert_eq!(r.request(VIRTIO_BLK_T_FLUSH, 0, &[]), OK);
}

#[test]
fn b2_unknown_request_types_are_unsupp() {
    let mut r = rig();
    for ty in [2u32, 3, 5, 10, 14, 0x8000_0000, u32::MAX] {
        assert_eq!(r.request(ty, 0, &[]), UNSUPP, "type {ty:#x}");
    }
}

#[test]
fn b2_types_whose_feature_was_not_negotiated_are_unsupp() {
    let wanted = ALL & !(VIRTIO_BLK_F_DISCARD | VIRTIO_BLK_F_WRITE_ZEROES | VIRTIO_BLK_F_FLUSH);
    let mut r = rig_with(BlockConfig::default(), wanted);
    write_blk_segment(&*r.mem, Rig::DATA, 0, 8, 0);
    let seg = [Buf::r(Rig::DATA, 16)];
    assert_eq!(r.request(VIRTIO_BLK_T_DISCARD, 0, &seg), UNSUPP);
    assert_eq!(r.request(VIRTIO_BLK_T_WRITE_ZEROES, 0, &seg), UNSUPP);
    assert_eq!(r.request(VIRTIO_BLK_T_FLUSH, 0, &[]), UNSUPP);
}

#[test]
fn b3_data_length_not_multiple_of_512_is_ioerr() {
    let mut r = rig();
    r.mem.fill(Rig::DATA, 0xee, 1024).unwrap();
    let c = r.request(VIRTIO_BLK_T_IN, 0, &[Buf::w(Rig::DATA, 513)]);
    assert_eq!(c, IOERR);
    assert_eq!(
        r.mem.read_u8(Rig::DATA).unwrap(),
        0xee,
        "nothing read into the guest"
    );
    let c = r.request(VIRTIO_BLK_T_OUT, 0, &[Buf::r(Rig::DATA, 511)]);
    assert_eq!(c, IOERR);
    assert_eq!(
        r.dev.device().backend().allocated_bytes(),
        0,
        "nothing written"
    );
    // Split over descriptors, a multiple of 512 in total is fine.
    let c = r.request(
        VIRTIO_BLK_T_IN,
        0,
        &[Buf::w(Rig::DATA, 100), Buf::w(at(Rig::DATA, 100), 412)],
    );
    assert!(ok_with(c, 512), "{c:?}");
}

#[test]
fn b4_sector_out_of_range_or_overflowing_is_ioerr_and_last_sector_works() {
    let mut r = rig();
    let sectors = CAP / 512;
    for (sector, len) in [
        (u64::MAX, 512u32),
        (u64::MAX / 512 + 1, 512), // sector * 512 overflows
        (1 << 55, 512),
        (sectors, 512),
        (sectors - 1, 1024), // sector + count > capacity
    ] {
        assert_eq!(r.read(sector, len).0, IOERR, "read {sector} {len}");
        let c = r.request(VIRTIO_BLK_T_OUT, sector, &[Buf::r(Rig::DATA, len)]);
        assert_eq!(c, IOERR, "write {sector} {len}");
    }
    assert_eq!(
        r.dev.device().backend().allocated_bytes(),
        0,
        "no I/O happened"
    );
    let last = pattern(512, 9);
    assert_eq!(r.write(sectors - 1, &last), OK);
    let (c, back) = r.read(sectors - 1, 512);
    assert!(ok_with(c, 512));
    assert_eq!(back, last);
}

#[test]
fn b5_in_with_readable_data_is_ioerr() {
    let mut r = rig();
    let c = r.request(VIRTIO_BLK_T_IN, 0, &[Buf::r(Rig::DATA, 512)]);
    assert_eq!(c, IOERR);
}

#[test]
fn b5_out_with_writable_data_is_ioerr() {
    let mut r = rig();
    r.mem.fill(Rig::DATA, 0xee, 512).unwrap();
    let c = r.request(VIRTIO_BLK_T_OUT, 0, &[Buf::w(Rig::DATA, 512)]);
    assert_eq!(c, IOERR);
    assert_eq!(r.dev.device().backend().allocated_bytes(), 0);
    assert_eq!(r.mem.read_u8(Rig::DATA).unwrap(), 0xee);
}

#[test]
fn b6_write_discard_write_zeroes_on_read_only_device_are_ioerr() {
    let mut r = ro_rig();
    assert!(r.dev.device().is_read_only());
    assert_ne!(r.features & VIRTIO_BLK_F_RO, 0);
    r.mem.fill(Rig::DATA, 0x11, 512).unwrap();
    assert_eq!(
        r.request(VIRTIO_BLK_T_OUT, 0, &[Buf::r(Rig::DATA, 512)]),
        IOERR
    );
    write_blk_segment(&*r.mem, Rig::DATA, 0, 1, 0);
    assert_eq!(
        r.request(VIRTIO_BLK_T_DISCARD, 0, &[Buf::r(Rig::DATA, 16)]),
        IOERR
    );
    write_blk_segment(&*r.mem, Rig::DATA, 0, 1, 1);
    assert_eq!(
        r.request(VIRTIO_BLK_T_WRITE_ZEROES, 0, &[Buf::r(Rig::DATA, 16)]),
        IOERR
    );
    assert_eq!(
        disk_bytes(&mut r, 0, 512),
        vec![0x5a; 512],
        "disk unchanged"
    );
}

#[test]
fn b6_flush_and_get_id_work_on_read_only_device() {
    let mut r = ro_rig();
    assert_eq!(r.request(VIRTIO_BLK_T_FLUSH, 0, &[]), OK);
    let (c, id) = r.get_id();
    assert!(ok_with(c, 20));
    assert_eq!(&id[..13], b"hv-virtio-blk");
    let (c, data) = r.read(0, 512);
    assert!(ok_with(c, 512));
    assert_eq!(data, vec![0x5a; 512]);
}

#[test]
fn b7_flush_not_negotiated_is_unsupp() {
    let mut r = rig_with(BlockConfig::default(), ALL & !VIRTIO_BLK_F_FLUSH);
    assert_eq!(r.request(VIRTIO_BLK_T_FLUSH, 0, &[]), UNSUPP);
}

#[test]
fn b7_flush_with_nonzero_sector_or_data_is_ioerr() {
    let mut r = rig();
    assert_eq!(r.request(VIRTIO_BLK_T_FLUSH, 1, &[]), IOERR);
    assert_eq!(
        r.request(VIRTIO_BLK_T_FLUSH, 0, &[Buf::r(Rig::DATA, 512)]),
        IOERR
    );
    assert_eq!(
        r.request(VIRTIO_BLK_T_FLUSH, 0, &[Buf::w(Rig::DATA, 512)]),
        IOERR
    );
    assert_eq!(r.request(VIRTIO_BLK_T_FLUSH, 0, &[]), OK);
}

#[test]
fn b8_get_id_needs_exactly_20_writable_bytes() {
    let mut r = rig();
    for len in [0u32, 19, 21, 512] {
        assert_eq!(
            r.request(VIRTIO_BLK_T_GET_ID, 0, &[Buf::w(Rig::DATA, len)]),
            IOERR,
            "{len}"
        );
    }
    assert_eq!(
        r.request(VIRTIO_BLK_T_GET_ID, 0, &[Buf::r(Rig::DATA, 20)]),
        IOERR
    );
    // 20 bytes split over two descriptors is still 20 bytes.
    let c = r.request(
        VIRTIO_BLK_T_GET_ID,
        0,
        &[Buf::w(Rig::DATA, 7), Buf::w(at(Rig::DATA, 100), 13)],
    );
    assert!(ok_with(c, 20), "{c:?}");
    let mut a = [0u8; 7];
    r.mem.read(Rig::DATA, &mut a).unwrap();
    assert_eq!(&a, b"hv-virt");
    let (c, id) = r.get_id();
    assert_eq!(
        c,
        Completion {
            used_len: 21,
            status: VIRTIO_BLK_S_OK
        }
    );
    assert_eq!(id, BlockConfig::default().id);
}

fn segments<B: BlockBackend>(r: &mut BlkRig<B>, ty: u32, segs: &[(u64, u32, u32)]) -> Completion {
    for (i, &(s, n, f)) in segs.iter().enumerate() {
        write_blk_segment(&*r.mem, at(Rig::DATA, i as u64 * 16), s, n, f);
    }
    let len = (segs.len() * 16) as u32;
    r.request(ty, 0, &[Buf::r(Rig::DATA, len)])
}

/// For both DISCARD and WRITE_ZEROES: a rig with 8 KiB of data at sector 0,
/// `check(rig, ty)` for each type, then the disk must be unchanged.
fn b9_case(check: impl Fn(&mut Rig, u32)) {
    let mut r = rig();
    let data = pattern(8192, 3);
    assert_eq!(r.write(0, &data), OK);
    for ty in [VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES] {
        check(&mut r, ty);
        assert_eq!(disk_bytes(&mut r, 0, 8192), data, "disk untouched by {ty}");
    }
    assert_eq!(r.request(VIRTIO_BLK_T_FLUSH, 0, &[]), OK, "still serving");
}

#[test]
fn b9_segment_payload_not_multiple_of_16_is_ioerr() {
    b9_case(|r, ty| {
        write_blk_segment(&*r.mem, Rig::DATA, 0, 1, 0);
        assert_eq!(r.request(ty, 0, &[Buf::r(Rig::DATA, 17)]), IOERR);
        assert_eq!(r.request(ty, 0, &[Buf::r(Rig::DATA, 8)]), IOERR);
    });
}

#[test]
fn b9_more_segments_than_max_seg_is_ioerr() {
    b9_case(|r, ty| {
        let many: Vec<_> = (0..17).map(|i| (i, 1, 0)).collect();
        assert_eq!(segments(r, ty, &many), IOERR);
    });
}

#[test]
fn b9_unknown_flags_are_unsupp() {
    b9_case(|r, ty| {
        assert_eq!(segments(r, ty, &[(0, 1, 2)]), UNSUPP);
        assert_eq!(segments(r, ty, &[(0, 1, 0x8000_0000)]), UNSUPP);
        // Unmap is only defined for write zeroes.
        if ty == VIRTIO_BLK_T_DISCARD {
            assert_eq!(segments(r, ty, &[(0, 1, 1)]), UNSUPP);
        }
    });
}

#[test]
fn b9_segment_beyond_capacity_or_overflowing_is_ioerr() {
    let sectors = CAP / 512;
    b9_case(|r, ty| {
        assert_eq!(segments(r, ty, &[(sectors - 1, 2, 0)]), IOERR);
        assert_eq!(segments(r, ty, &[(u64::MAX, 1, 0)]), IOERR);
        assert_eq!(segments(r, ty, &[(u64::MAX / 512, 2, 0)]), IOERR);
        // A good segment before a bad one: nothing at all is done.
        assert_eq!(segments(r, ty, &[(0, 1, 0), (sectors, 1, 0)]), IOERR);
    });
}

#[test]
fn b9_segment_above_max_sectors_is_ioerr() {
    b9_case(|r, ty| {
        assert_eq!(segments(r, ty, &[(0, (1 << 13) + 1, 0)]), IOERR);
    });
}

#[test]
fn b9_device_writable_segments_are_ioerr() {
    b9_case(|r, ty| {
        write_blk_segment(&*r.mem, Rig::DATA, 0, 1, 0);
        assert_eq!(r.request(ty, 0, &[Buf::w(Rig::DATA, 16)]), IOERR);
    });
}

#[test]
fn b9_not_negotiated_is_unsupp() {
    let wanted = ALL & !(VIRTIO_BLK_F_DISCARD | VIRTIO_BLK_F_WRITE_ZEROES);
    let mut r = rig_with(BlockConfig::default(), wanted);
    for ty in [VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES] {
        assert_eq!(segments(&mut r, ty, &[(0, 1, 0)]), UNSUPP);
    }
}

#[test]
fn b9_valid_segments_zero_the_range_and_discard_frees_memory() {
    let mut r = rig();
    let data = pattern(8192, 3);
    assert_eq!(r.write(0, &data), OK);
    // Write zeroes, with and without unmap, two segments.
    assert_eq!(
        segments(&mut r, VIRTIO_BLK_T_WRITE_ZEROES, &[(1, 2, 1), (8, 8, 0)]),
        OK
    );
    let mut expect = data.clone();
    expect[512..1536].fill(0);
    expect[4096..8192].fill(0);
    assert_eq!(disk_bytes(&mut r, 0, 8192), expect);
    // Discard frees memory and reads back zeroes.
    let before = r.dev.device().backend().allocated_bytes();
    assert_eq!(segments(&mut r, VIRTIO_BLK_T_DISCARD, &[(0, 16, 0)]), OK);
    assert!(r.dev.device().backend().allocated_bytes() < before);
    let (c, back) = r.read(0, 8192);
    assert!(ok_with(c, 8192));
    assert!(back.iter().all(|&b| b == 0));
}

#[test]
fn b10_zero_length_requests_complete_cleanly() {
    let mut r = rig();
    assert_eq!(r.request(VIRTIO_BLK_T_IN, 0, &[]), OK);
    assert_eq!(r.request(VIRTIO_BLK_T_OUT, 0, &[]), OK);
    assert_eq!(r.request(VIRTIO_BLK_T_IN, 5, &[Buf::w(Rig::DATA, 0)]), OK);
    assert_eq!(r.request(VIRTIO_BLK_T_DISCARD, 0, &[]), OK);
    assert_eq!(r.request(VIRTIO_BLK_T_WRITE_ZEROES, 0, &[]), OK);
    assert_eq!(segments(&mut r, VIRTIO_BLK_T_DISCARD, &[(3, 0, 0)]), OK);
    // A zero-length read still has to start inside the disk.
    assert_eq!(r.request(VIRTIO_BLK_T_IN, CAP / 512 + 1, &[]), IOERR);
}

/// A disk whose reads fail from byte `fail_at` on.
#[derive(Debug)]
struct FailingDisk {
    inner: MemoryBackend,
    fail_at: u64,
}

impl BlockBackend for FailingDisk {
    fn capacity(&self) -> u64 {
        self.inner.capacity()
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), BackendError> {
        if offset + buf.len() as u64 > self.fail_at {
            return Err(BackendError::Io(5));
        }
        self.inner.read_at(offset, buf)
    }
    fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<(), BackendError> {
        self.inner.write_at(offset, data)
    }
    fn flush(&mut self) -> Result<(), BackendError> {
        Err(BackendError::Io(5))
    }
    fn discard(&mut self, offset: u64, len: u64) -> Result<(), BackendError> {
        self.inner.discard(offset, len)
    }
    fn write_zeroes(&mut self, offset: u64, len: u64) -> Result<(), BackendError> {
        self.inner.write_zeroes(offset, len)
    }
}

#[test]
fn b11_used_length_is_bytes_written_plus_status() {
    let mut r = rig();
    let (c, _) = r.read(0, 1024);
    assert_eq!(
        c,
        Completion {
            used_len: 1025,
            status: VIRTIO_BLK_S_OK
        }
    );
    // Data and status sharing the last descriptor.
    write_blk_header(&*r.mem, Rig::HEADER, VIRTIO_BLK_T_IN, 0);
    let c = r.submit(
        &[Buf::r(Rig::HEADER, 16), Buf::w(Rig::DATA, 513)],
        at(Rig::DATA, 512),
    );
    assert_eq!(
        c,
        Completion {
            used_len: 513,
            status: VIRTIO_BLK_S_OK
        }
    );
    // Writes put nothing into guest memory but the status.
    assert_eq!(r.write(0, &[1; 2048]), OK);
}

#[test]
fn b11_partial_read_reports_only_what_was_written() {
    let disk = FailingDisk {
        inner: MemoryBackend::new(CAP),
        fail_at: 8192,
    };
    let mut r = BlkRig::new(disk, BlockConfig::default(), 2 << 20, 16, ALL);
    // Three 4 KiB chunks: two succeed, the third fails.
    let (c, _) = r.read(0, 12288);
    assert_eq!(
        c,
        Completion {
            used_len: 8193,
            status: VIRTIO_BLK_S_IOERR
        }
    );
    assert_eq!(r.request(VIRTIO_BLK_T_FLUSH, 0, &[]), IOERR);
    // And the device keeps serving.
    let (c, _) = r.read(0, 4096);
    assert!(ok_with(c, 4096));
}

#[test]
fn requests_through_indirect_tables_and_event_idx() {
    let mut r = rig();
    assert_ne!(r.features & VIRTIO_F_INDIRECT_DESC, 0);
    assert_ne!(r.features & VIRTIO_F_EVENT_IDX, 0);
    assert_ne!(r.features & VIRTIO_F_VERSION_1, 0);
    let data = pattern(2048, 5);
    r.mem.write(Rig::DATA, &data).unwrap();
    write_blk_header(&*r.mem, Rig::HEADER, VIRTIO_BLK_T_OUT, 4);
    let bufs = [
        Buf::r(Rig::HEADER, 16),
        Buf::r(Rig::DATA, 1024),
        Buf::r(at(Rig::DATA, 1024), 1024),
        Buf::w(Rig::STATUS, 1),
    ];
    let head = r.q.write_indirect(&*r.mem, Rig::TABLE, &bufs);
    let done = r.kick(Some(head));
    assert_eq!(done, vec![(u32::from(head), 1)]);
    assert_eq!(r.mem.read_u8(Rig::STATUS).unwrap(), VIRTIO_BLK_S_OK);
    assert_eq!(disk_bytes(&mut r, 2048, 2048), data);
}

#[test]
fn sector_size_512_and_4096_both_serve_512_byte_sectors() {
    for bs in [512u32, 4096] {
        let config = BlockConfig {
            logical_block_size: bs,
            ..BlockConfig::default()
        };
        let mut r = rig_with(config, ALL);
        assert_eq!(r.dev.device().logical_block_size(), bs);
        let data = pattern(1536, 7);
        assert_eq!(r.write(3, &data), OK);
        let (c, back) = r.read(3, 1536);
        assert!(ok_with(c, 1536));
        assert_eq!(back, data);
        let mut cfg = [0u8; 4];
        crate::device::VirtioDevice::read_config(r.dev.device(), 0x14, &mut cfg);
        assert_eq!(u32::from_le_bytes(cfg), bs);
    }
}

#[test]
fn device_creation_checks_its_config() {
    let bad = |c: BlockConfig, cap: u64| VirtioBlock::new(MemoryBackend::new(cap), c).err();
    let d = BlockConfig::default();
    assert_eq!(
        bad(
            BlockConfig {
                logical_block_size: 1024,
                ..d
            },
            4096
        ),
        Some(ConfigError::BlockSize(1024))
    );
    assert_eq!(bad(d, 4096 + 512), Some(ConfigError::Capacity(4608)));
    assert_eq!(
        bad(BlockConfig { queue_size: 3, ..d }, 4096),
        Some(ConfigError::QueueSize(3))
    );
    assert_eq!(
        bad(
            BlockConfig {
                max_discard_seg: 0,
                ..d
            },
            4096
        ),
        Some(ConfigError::Segments)
    );
    let dev = VirtioBlock::new(MemoryBackend::new(400 << 20), d).unwrap();
    assert_eq!(dev.capacity(), (400 << 20) / 512);
    assert_eq!(dev.capacity_bytes(), 400 << 20);
    assert!(!dev.is_read_only());
    assert_eq!(dev.backend().allocated_bytes(), 0);
}

#[cfg(all(feature = "std", unix))]
mod file {
    use super::*;
    use std::format;
    use std::path::PathBuf;

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("hv-virtio-{}-{name}", std::process::id()))
    }

    #[test]
    fn file_backend_serves_requests_and_flushes() {
        let path = temp("serve.img");
        let disk = FileBackend::create(&path, CAP).unwrap();
        let mut r = BlkRig::new(disk, BlockConfig::default(), 2 << 20, 16, ALL);
        let data = pattern(8192, 11);
        assert_eq!(r.write(16, &data), OK);
        assert_eq!(r.request(VIRTIO_BLK_T_FLUSH, 0, &[]), OK);
        let (c, back) = r.read(16, 8192);
        assert!(ok_with(c, 8192));
        assert_eq!(back, data);
        assert_eq!(
            segments(&mut r, VIRTIO_BLK_T_WRITE_ZEROES, &[(16, 8, 0)]),
            OK
        );
        let (_, back) = r.read(16, 8192);
        assert!(back[..4096].iter().all(|&b| b == 0));
        assert_eq!(&back[4096..], &data[4096..]);
        drop(r);
        let on_disk = std::fs::read(&path).unwrap();
        assert_eq!(&on_disk[16 * 512 + 4096..16 * 512 + 8192], &data[4096..]);
        std::fs::remove_file(&path).unwrap();
    }

    /// The child half of the crash test: write, flush, then die without
    /// any cleanup. Ignored in normal runs; the parent runs it with
    /// `--ignored` in a separate process.
    #[test]
    #[ignore = "child process of file_backend_flushed_data_survives_process_crash"]
    fn file_backend_crash_child() {
        let path = std::env::var("HV_VIRTIO_CRASH_IMAGE").expect("spawned by the parent test");
        let disk = FileBackend::open(std::path::Path::new(&path), false).unwrap();
        let mut r = BlkRig::new(disk, BlockConfig::default(), 2 << 20, 16, ALL);
        assert_eq!(r.write(8, &pattern(4096, 42)), OK);
        assert_eq!(r.request(VIRTIO_BLK_T_FLUSH, 0, &[]), OK);
        std::process::abort();
    }

    #[test]
    fn file_backend_flushed_data_survives_process_crash() {
        let path = temp("crash.img");
        drop(FileBackend::create(&path, CAP).unwrap());
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "tests::blk::file::file_backend_crash_child",
                "--ignored",
                "--nocapture",
            ])
            .env("HV_VIRTIO_CRASH_IMAGE", &path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        // SIGABRT from the child's abort(), not a failed assertion.
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(6), "child: {status:?}");
        let on_disk = std::fs::read(&path).unwrap();
        assert_eq!(&on_disk[8 * 512..8 * 512 + 4096], &pattern(4096, 42)[..]);
        std::fs::remove_file(&path).unwrap();
    }
}

#[test]
fn slice_backed_disk_serves_its_contents_and_takes_writes() {
    let mut mem = pattern(CAP as usize, 9);
    {
        let disk = SliceBackend::new(&mut mem);
        let mut r = BlkRig::new(disk, BlockConfig::default(), 2 << 20, 16, ALL);
        // Its initial contents come back, a write lands, a read past the
        // end is IOERR.
        let (c, back) = r.read(2, 1024);
        assert!(ok_with(c, 1024), "{c:?}");
        assert_eq!(back, pattern(CAP as usize, 9)[1024..2048]);
        assert_eq!(r.write(4, &[0xa5; 512]), OK);
        let (c, _) = r.read(CAP / 512, 512);
        assert_eq!(c.status, VIRTIO_BLK_S_IOERR);
    }
    assert!(mem[2048..2560].iter().all(|&b| b == 0xa5));
    assert_eq!(mem[..2048], pattern(CAP as usize, 9)[..2048]);
}

//! VirtioBlock benchmarks: requests go through the whole path a guest
//! request takes (available ring, descriptor walk, validation, copy between
//! guest RAM and the disk, used ring, MMIO notify), and every throughput
//! group also measures a plain memcpy of the same size as its reference.
//!
//! `cargo bench -p hv-sim --bench block`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hv_core::mem::{GuestMemory, GuestRam};
use hv_core::mmio::{AccessWidth, MmioDevice};
use hv_core::GuestAddress;
use std::hint::black_box;

mod common;
use common::BenchClock;
use std::sync::Arc;
use virtio::blk::{
    BlockBackend, BlockConfig, MemoryBackend, VirtioBlock, VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_OK,
    VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_WRITE_ZEROES,
};
use virtio::mmio::{MmioTransport, QUEUE_NOTIFY};
use virtio::testing::{
    at, mmio_init, write_blk_header, write_blk_segment, Buf, DriverQueue, RAM_BASE,
};

const RAM: u64 = 4 << 20;
const DISK: u64 = 8 << 20;
const HEADER: GuestAddress = GuestAddress(RAM_BASE.0 + 0x1_0000);
const STATUS: GuestAddress = GuestAddress(RAM_BASE.0 + 0x1_1000);
const DATA: GuestAddress = GuestAddress(RAM_BASE.0 + 0x10_0000);

type Dev = MmioTransport<VirtioBlock<MemoryBackend>, Arc<GuestRam>>;

/// A guest with one block device and one prepared request chain that each
/// iteration re-publishes.
struct Guest {
    mem: Arc<GuestRam>,
    dev: Dev,
    q: DriverQueue,
    head: u16,
}

impl Guest {
    fn new(config: BlockConfig) -> Self {
        let mut disk = MemoryBackend::new(DISK);
        // Touch the whole disk so reads copy real data, not the zero page.
        let fill: Vec<u8> = (0..1 << 20).map(|i: u32| i as u8).collect();
        for off in (0..DISK).step_by(fill.len()) {
            disk.write_at(off, &fill).expect("fill disk");
        }
        let mem = Arc::new(GuestRam::with_size(RAM_BASE, RAM).expect("RAM"));
        let blk = VirtioBlock::new(disk, config).expect("config");
        let mut dev = MmioTransport::new(blk, Arc::clone(&mem));
        let q = DriverQueue::new(&*mem, RAM_BASE, 256);
        mmio_init(&mut dev, u64::MAX, std::slice::from_ref(&q)).expect("init");
        Guest {
            mem,
            dev,
            q,
            head: 0,
        }
    }

    /// Prepare `header + data + status` as the chain every iteration sends.
    fn prepare(&mut self, ty: u32, sector: u64, data: &[Buf]) {
        write_blk_header(&*self.mem, HEADER, ty, sector);
        let mut bufs = vec![Buf::r(HEADER, 16)];
        bufs.extend_from_slice(data);
        bufs.push(Buf::w(STATUS, 1));
        self.head = self.q.write_chain(&*self.mem, &bufs);
    }

    /// One request: publish, notify (the device serves it), reap.
    #[inline]
    fn run(&mut self) -> u32 {
        self.q.publish(&*self.mem, self.head);
        self.dev.write(QUEUE_NOTIFY, AccessWidth::Word, 0);
        let (_, len) = self.q.pop_used(&*self.mem).expect("completed");
        len
    }

    fn check(&mut self, status: u8, used: u32) {
        assert_eq!(self.run(), used);
        assert_eq!(self.mem.read_u8(STATUS).unwrap(), status);
    }

    fn read(sectors: u32, sector: u64) -> Self {
        let mut g = Guest::new(BlockConfig::default());
        g.prepare(VIRTIO_BLK_T_IN, sector, &[Buf::w(DATA, sectors * 512)]);
        g.check(VIRTIO_BLK_S_OK, sectors * 512 + 1);
        g
    }

    fn write(sectors: u32, sector: u64) -> Self {
        let mut g = Guest::new(BlockConfig::default());
        g.prepare(VIRTIO_BLK_T_OUT, sector, &[Buf::r(DATA, sectors * 512)]);
        g.check(VIRTIO_BLK_S_OK, 1);
        g
    }
}

fn memcpy_ref(c: &mut common::Group<'_>, len: usize) {
    let src = vec![0x5au8; len];
    let mut dst = vec![0u8; len];
    c.bench_with_input(BenchmarkId::new("memcpy", len), &len, |b, _| {
        b.iter(|| {
            dst.copy_from_slice(black_box(&src));
            black_box(&mut dst);
        })
    });
}

fn throughput(c: &mut Criterion<BenchClock>) {
    for (name, write) in [("block_read", false), ("block_write", true)] {
        let mut g = common::group(c, name);
        for sectors in [1u32, 10, 100, 1000] {
            let bytes = u64::from(sectors) * 512;
            g.throughput(Throughput::Bytes(bytes));
            let mut guest = if write {
                Guest::write(sectors, 0)
            } else {
                Guest::read(sectors, 0)
            };
            g.bench_with_input(BenchmarkId::new("sectors", sectors), &sectors, |b, _| {
                b.iter(|| black_box(guest.run()))
            });
            memcpy_ref(&mut g, bytes as usize);
        }
        g.throughput(Throughput::Bytes(4096));
        for offset in [0u64, 100, 1000, 5000] {
            let mut guest = if write {
                Guest::write(8, offset)
            } else {
                Guest::read(8, offset)
            };
            g.bench_with_input(BenchmarkId::new("offset", offset), &offset, |b, _| {
                b.iter(|| black_box(guest.run()))
            });
        }
        g.finish();
    }
}

fn requests(c: &mut Criterion<BenchClock>) {
    let mut g = common::group(c, "block_request");
    // Flush moves no data: measured before the group gets a throughput.
    let mut flush = Guest::new(BlockConfig::default());
    flush.prepare(VIRTIO_BLK_T_FLUSH, 0, &[]);
    flush.check(VIRTIO_BLK_S_OK, 1);
    g.bench_function("flush", |b| b.iter(|| black_box(flush.run())));
    g.throughput(Throughput::Bytes(4096));
    let mut read = Guest::read(8, 64);
    g.bench_function("read", |b| b.iter(|| black_box(read.run())));
    let mut write = Guest::write(8, 64);
    g.bench_function("write", |b| b.iter(|| black_box(write.run())));
    memcpy_ref(&mut g, 4096);
    g.finish();
}

fn validation(c: &mut Criterion<BenchClock>) {
    let mut g = common::group(c, "block_validation");
    let sectors = DISK / 512;
    let mut cases: Vec<(&str, Guest)> = Vec::new();
    let mut add = |name, config: BlockConfig, ty, sector, data: &[Buf], status, used| {
        let mut guest = Guest::new(config);
        guest.prepare(ty, sector, data);
        guest.check(status, used);
        cases.push((name, guest));
    };
    let d = BlockConfig::default();
    let ro = BlockConfig {
        read_only: true,
        ..d
    };
    add(
        "valid",
        d,
        VIRTIO_BLK_T_IN,
        0,
        &[Buf::w(DATA, 4096)],
        VIRTIO_BLK_S_OK,
        4097,
    );
    add(
        "boundary",
        d,
        VIRTIO_BLK_T_IN,
        sectors - 8,
        &[Buf::w(DATA, 4096)],
        VIRTIO_BLK_S_OK,
        4097,
    );
    add(
        "out_of_range",
        d,
        VIRTIO_BLK_T_IN,
        sectors - 7,
        &[Buf::w(DATA, 4096)],
        VIRTIO_BLK_S_IOERR,
        1,
    );
    add(
        "readonly",
        ro,
        VIRTIO_BLK_T_OUT,
        0,
        &[Buf::r(DATA, 4096)],
        VIRTIO_BLK_S_IOERR,
        1,
    );
    add("empty_data", d, VIRTIO_BLK_T_IN, 0, &[], VIRTIO_BLK_S_OK, 1);
    add(
        "invalid_size",
        d,
        VIRTIO_BLK_T_IN,
        0,
        &[Buf::w(DATA, 513)],
        VIRTIO_BLK_S_IOERR,
        1,
    );
    // A write-zeroes segment of 0 sectors: valid, nothing to do.
    let seg = at(DATA, 0x1000);
    let mut zero = Guest::new(d);
    write_blk_segment(&*zero.mem, seg, 0, 0, 0);
    zero.prepare(VIRTIO_BLK_T_WRITE_ZEROES, 0, &[Buf::r(seg, 16)]);
    zero.check(VIRTIO_BLK_S_OK, 1);
    cases.push(("zero_count", zero));
    for (name, mut guest) in cases {
        g.bench_function(name, |b| b.iter(|| black_box(guest.run())));
    }
    g.finish();
}

fn sector_size(c: &mut Criterion<BenchClock>) {
    let mut g = common::group(c, "block_sector_size");
    g.throughput(Throughput::Bytes(4096));
    for bs in [512u32, 4096] {
        let mut guest = Guest::new(BlockConfig {
            logical_block_size: bs,
            ..BlockConfig::default()
        });
        guest.prepare(VIRTIO_BLK_T_IN, 8, &[Buf::w(DATA, 4096)]);
        guest.check(VIRTIO_BLK_S_OK, 4097);
        g.bench_with_input(BenchmarkId::new("read_4k", bs), &bs, |b, _| {
            b.iter(|| black_box(guest.run()))
        });
    }
    g.finish();
}

fn creation(c: &mut Criterion<BenchClock>) {
    let mut g = common::group(c, "block_create");
    for (name, size) in [
        ("basic", 1u64 << 20),
        ("memory_5mb", 5 << 20),
        ("large_400mb", 400 << 20),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let dev =
                    VirtioBlock::new(MemoryBackend::new(black_box(size)), BlockConfig::default());
                black_box(dev.map(|d| d.capacity()).unwrap_or(0))
            })
        });
    }
    g.finish();
}

fn getters(c: &mut Criterion<BenchClock>) {
    let mut g = common::group(c, "block_getters");
    let dev =
        VirtioBlock::new(MemoryBackend::new(400 << 20), BlockConfig::default()).expect("config");
    let dev = black_box(&dev);
    g.bench_function("capacity", |b| b.iter(|| black_box(dev).capacity()));
    g.bench_function("sector_size", |b| {
        b.iter(|| black_box(dev).logical_block_size())
    });
    g.bench_function("read_only", |b| b.iter(|| black_box(dev).is_read_only()));
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = requests, throughput, validation, sector_size, creation, getters
}
criterion_main!(benches);

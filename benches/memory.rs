//! Guest memory access: typed reads/writes, bulk copies against a plain
//! `copy_from_slice` of the same size measured in the same run.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hv_core::mem::{GuestMemory, GuestRam};
use hv_core::GuestAddress;
use std::hint::black_box;

mod common;
use common::BenchClock;

const BASE: u64 = 0x4000_0000;
const SIZE: u64 = 16 << 20;

fn ram() -> GuestRam {
    GuestRam::with_size(GuestAddress(BASE), SIZE).expect("guest RAM")
}

fn typed(c: &mut Criterion<BenchClock>) {
    let ram = ram();
    // An address in the middle of RAM, not naturally aligned for 8 bytes
    // so the unaligned path is what gets measured.
    let at = GuestAddress(BASE + 0x12_3454);
    let mut g = common::group(c, "memory_read");
    g.bench_function("1", |b| {
        b.iter(|| ram.read_u8(black_box(at)).map_or(u64::MAX, u64::from))
    });
    g.bench_function("2", |b| {
        b.iter(|| ram.read_u16(black_box(at)).map_or(u64::MAX, u64::from))
    });
    g.bench_function("4", |b| {
        b.iter(|| ram.read_u32(black_box(at)).map_or(u64::MAX, u64::from))
    });
    g.bench_function("8", |b| {
        b.iter(|| ram.read_u64(black_box(at)).map_or(u64::MAX, u64::from))
    });
    g.finish();
    let mut g = common::group(c, "memory_write");
    g.bench_function("1", |b| {
        b.iter(|| ram.write_u8(black_box(at), black_box(0x5a)).is_ok())
    });
    g.bench_function("2", |b| {
        b.iter(|| ram.write_u16(black_box(at), black_box(0x5a5a)).is_ok())
    });
    g.bench_function("4", |b| {
        b.iter(|| ram.write_u32(black_box(at), black_box(0x5a5a_5a5a)).is_ok())
    });
    g.bench_function("8", |b| {
        b.iter(|| {
            ram.write_u64(black_box(at), black_box(0x5a5a_5a5a_5a5a_5a5a))
                .is_ok()
        })
    });
    g.finish();
}

const BULK: [usize; 4] = [64, 256, 4096, 65536];

/// A page-aligned host buffer of `len` bytes (guest RAM is page-aligned
/// too, so guest copy and reference copy see the same alignment).
struct Aligned {
    buf: Vec<u8>,
    off: usize,
    len: usize,
}

impl Aligned {
    fn new(len: usize, fill: u8) -> Self {
        let buf = vec![fill; len + 4096];
        let off = buf.as_ptr().align_offset(4096).min(4096);
        Aligned { buf, off, len }
    }
    fn get(&self) -> &[u8] {
        &self.buf[self.off..self.off + self.len]
    }
    fn get_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.off..self.off + self.len]
    }
}

fn bulk(c: &mut Criterion<BenchClock>) {
    let ram = ram();
    let at = GuestAddress(BASE + 0x10_0000);
    // The reference copies between two page-aligned host buffers of the
    // same size, one of them the very buffer the guest copy uses.
    let mut g = common::group(c, "bulk_memory_read");
    for size in BULK {
        let mut buf = Aligned::new(size, 0);
        let src = Aligned::new(size, 0xa5);
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, _| {
            b.iter(|| ram.read(black_box(at), black_box(buf.get_mut())).is_ok())
        });
        g.bench_with_input(BenchmarkId::new("reference", size), &size, |b, _| {
            b.iter(|| black_box(buf.get_mut()).copy_from_slice(black_box(src.get())))
        });
    }
    g.finish();
    let mut g = common::group(c, "bulk_memory_write");
    for size in BULK {
        let data = Aligned::new(size, 0x3c);
        let mut dst = Aligned::new(size, 0);
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, _| {
            b.iter(|| ram.write(black_box(at), black_box(data.get())).is_ok())
        });
        g.bench_with_input(BenchmarkId::new("reference", size), &size, |b, _| {
            b.iter(|| black_box(dst.get_mut()).copy_from_slice(black_box(data.get())))
        });
    }
    g.finish();
}

// Results are folded into plain values (as a caller handling the error
// would) so the benchmark does not measure Criterion's `black_box` of a
// 32-byte `Result`, whose narrow payload store and wide reload stall store
// forwarding.

/// A device-model-like mix: header read, descriptor walk, payload copy,
/// status write.
fn mixed(c: &mut Criterion<BenchClock>) {
    let ram = ram();
    let mut payload = vec![0u8; 512];
    let mut host = vec![0u8; 512];
    let src = vec![1u8; 512];
    let mut g = common::group(c, "bulk_mixed_ops");
    g.throughput(Throughput::Bytes(16 + 4 * 16 + 512 + 512 + 1));
    g.bench_function("guest", |b| {
        b.iter(|| {
            let base = black_box(GuestAddress(BASE + 0x20_0000));
            let mut acc = ram.read_u64(base).unwrap_or(0)
                ^ ram.read_u64(GuestAddress(base.0 + 8)).unwrap_or(0);
            for i in 0..4u64 {
                let d = GuestAddress(base.0 + 0x100 + 16 * i);
                acc ^= ram.read_u64(d).unwrap_or(0)
                    ^ u64::from(ram.read_u32(GuestAddress(d.0 + 8)).unwrap_or(0));
            }
            let _ = ram.read(GuestAddress(base.0 + 0x1000), &mut payload);
            let _ = ram.write(GuestAddress(base.0 + 0x2000), &src);
            let _ = ram.write_u8(GuestAddress(base.0 + 0x3000), acc as u8);
            acc
        })
    });
    g.bench_function("reference", |b| {
        let mem = vec![0u8; 0x4000];
        b.iter(|| {
            let m = black_box(&mem[..]);
            let rd = |o: usize| u64::from_le_bytes(m[o..o + 8].try_into().unwrap_or([0; 8]));
            let mut acc = rd(0) ^ rd(8);
            for i in 0..4 {
                let d = 0x100 + 16 * i;
                acc ^= rd(d)
                    ^ u64::from(u32::from_le_bytes(
                        m[d + 8..d + 12].try_into().unwrap_or([0; 4]),
                    ));
            }
            host.copy_from_slice(&m[0x1000..0x1200]);
            black_box(&mut host[..]).copy_from_slice(&src);
            acc
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = typed, bulk, mixed
}
criterion_main!(benches);

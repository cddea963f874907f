//! TLB and page walk: a hit, a miss that walks and refills, a batch of
//! 1000 lookups, bare walks of 3- and 4-level stage-2 tables, and lookups
//! from 1 and 2 threads each with its own TLB in one shootdown domain.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hv_core::frame::{BitmapFrameAllocator, MemoryRange, NodeId, NumaPolicy};
use hv_core::mem::GuestRam;
use hv_core::paging::aarch64::Stage2;
use hv_core::paging::{Asid, Attrs, FramePool, PageTable, Vmid};
use hv_core::tlb::shootdown::{Shootdown, VcpuTlb};
use hv_core::tlb::{MicroTlb, Replacement, SetAssocTlb, Tlb, TlbEntry, TlbKey, TwoLevelTlb};
use hv_core::{GuestAddress, PhysAddr};
use std::hint::black_box;

mod common;
use common::BenchClock;
use std::sync::Barrier;
use std::time::Duration;

type Table = PageTable<Stage2, FramePool<GuestRam, BitmapFrameAllocator>>;

const POOL: u64 = 0x8000_0000;
const PAGE: u64 = 4096;
/// Pages mapped for the miss benchmark: far more than the TLB holds.
const MISS_PAGES: u64 = 1 << 16;

fn table(levels: u8) -> Table {
    let size = 4 << 20;
    let mem = GuestRam::with_size(GuestAddress(POOL), size).expect("table memory");
    let alloc = BitmapFrameAllocator::new(
        &[MemoryRange {
            base: PhysAddr(POOL),
            size_bytes: size,
            node: NodeId(0),
        }],
        NumaPolicy::Local,
    )
    .expect("allocator");
    let mut pt = PageTable::new(levels, FramePool { mem, alloc }).expect("table");
    // 256 MiB of 4 KiB pages, output misaligned for blocks so every page
    // has its own descriptor and every walk goes to the last level.
    pt.map(
        GuestAddress(0x4000_0000),
        PhysAddr(0x1_0000_1000),
        MISS_PAGES * PAGE,
        Attrs::RW,
    )
    .expect("map");
    pt
}

/// The vCPU TLB: a 64-entry direct-mapped micro-TLB in front of a
/// 1024-entry 4-way LRU L2.
type VcpuL12 = TwoLevelTlb<MicroTlb<64>, SetAssocTlb>;

fn tlb() -> VcpuL12 {
    TwoLevelTlb::new(
        MicroTlb::new(),
        SetAssocTlb::new(256, 4, Replacement::Lru).expect("l2"),
    )
}

fn key(va: u64) -> TlbKey {
    TlbKey {
        vmid: Vmid(1),
        asid: Asid(1),
        va,
    }
}

/// Lookup; on a miss walk `pt` and refill. Returns the output address.
#[inline]
fn translate(t: &mut impl Tlb, pt: &Table, va: u64) -> Option<u64> {
    if let Some(hit) = t.lookup(key(va)) {
        return Some(hit.pa);
    }
    let tr = pt.translate(GuestAddress(va)).ok()?;
    t.insert(TlbEntry {
        vmid: Vmid(1),
        asid: Asid(1),
        va: tr.leaf.ia_base,
        pa: tr.leaf.oa_base,
        size: tr.leaf.size,
        attrs: tr.leaf.attrs,
    });
    Some(tr.oa.raw())
}

fn lookups(c: &mut Criterion<BenchClock>) {
    let pt = table(3);
    let mut g = common::group(c, "tlb");
    let mut t = tlb();
    let va = 0x4000_0000 + 42 * PAGE + 8;
    translate(&mut t, &pt, va);
    // Only the address is opaque: a `black_box`ed key struct (and a returned
    // `Option<TlbHit>`) would measure store-forwarding stalls instead.
    g.bench_function("lookup_hit", |b| {
        b.iter(|| t.lookup(key(black_box(va))).map_or(0, |h| h.pa))
    });

    let mut t = tlb();
    let mut i = 0u64;
    g.bench_function("lookup_miss_walk", |b| {
        b.iter(|| {
            // Stride through 64 Ki pages: nothing is still cached when a
            // page comes round again.
            i = (i + 1) % MISS_PAGES;
            translate(&mut t, &pt, black_box(0x4000_0000 + i * PAGE))
        })
    });

    // 1000 lookups over a 64-page working set (a hot loop: L1 hits), then
    // over 512 pages (beyond L1: L2 hits promoted into L1).
    for (name, pages) in [("batch_1000", 64u64), ("batch_1000_l2", 512)] {
        let mut t = tlb();
        let addrs: Vec<u64> = (0..1000u64)
            .map(|n| 0x4000_0000 + ((n * 97) % pages) * PAGE + (n % 64) * 8)
            .collect();
        for &a in &addrs {
            translate(&mut t, &pt, a);
        }
        g.throughput(Throughput::Elements(1000));
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut acc = 0u64;
                for &a in &addrs {
                    acc ^= translate(&mut t, &pt, black_box(a)).unwrap_or(0);
                }
                acc
            })
        });
    }

    // Reference for the hit: the floor a soft TLB can reach, a direct-mapped
    // array of (page, host page) pairs with one compare (QEMU's fast path),
    // measured in the same run.
    let table: Vec<(u64, u64)> = (0..64u64).map(|i| (0x4_0000 + i, 0x10_0001 + i)).collect();
    g.throughput(Throughput::Elements(1));
    g.bench_function("reference/direct_mapped_hit", |b| {
        b.iter(|| {
            let va = black_box(va);
            let page = va >> 12;
            let (tag, host) = table[(page & 63) as usize];
            if tag == page {
                (host << 12) | (va & 0xfff)
            } else {
                0
            }
        })
    });
    g.finish();
}

fn walks(c: &mut Criterion<BenchClock>) {
    let mut g = common::group(c, "page_walk");
    for levels in [3u8, 4] {
        let pt = table(levels);
        let va = GuestAddress(0x4000_0000 + 1234 * PAGE);
        g.bench_function(format!("{levels}_level"), |b| {
            b.iter(|| pt.walk(black_box(va)))
        });
    }
    g.finish();
}

fn concurrent(c: &mut Criterion<BenchClock>) {
    let pt = table(3);
    let mut g = common::group(c, "tlb/concurrent_lookup");
    for threads in [1usize, 2] {
        let domain = Shootdown::new(threads);
        let mut vcpus: Vec<VcpuTlb<VcpuL12>> = (0..threads)
            .map(|cpu| VcpuTlb::new(tlb(), domain.clone(), cpu).expect("vcpu"))
            .collect();
        // Warm each TLB with a 64-page working set.
        for v in &mut vcpus {
            for p in 0..64u64 {
                let va = 0x4000_0000 + p * PAGE;
                let tr = pt.translate(GuestAddress(va)).expect("mapped");
                v.insert(TlbEntry {
                    vmid: Vmid(1),
                    asid: Asid(1),
                    va,
                    pa: tr.leaf.oa_base,
                    size: tr.leaf.size,
                    attrs: tr.leaf.attrs,
                });
            }
        }
        g.throughput(Throughput::Elements(threads as u64));
        g.bench_function(format!("{threads}_threads"), |b| {
            b.iter_custom(|iters| {
                let barrier = Barrier::new(threads);
                std::thread::scope(|s| {
                    let handles: Vec<_> = vcpus
                        .iter_mut()
                        .map(|v| {
                            let barrier = &barrier;
                            s.spawn(move || {
                                barrier.wait();
                                let start = common::now();
                                let mut acc = 0u64;
                                for n in 0..iters {
                                    let va = 0x4000_0000 + (n % 64) * PAGE;
                                    acc ^= v.lookup(key(black_box(va))).map_or(0, |h| h.pa);
                                }
                                black_box(acc);
                                common::now() - start
                            })
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| h.join().expect("thread"))
                        .max()
                        .unwrap_or(Duration::ZERO)
                })
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = lookups, walks, concurrent
}
criterion_main!(benches);

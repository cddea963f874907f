//! Frame allocation: one 4 KiB frame, and a batch of 100. Frees happen
//! outside the timed region so only allocation is measured.

use criterion::{criterion_group, criterion_main, Criterion};
use hv_core::frame::{
    BitmapFrameAllocator, FrameAllocator, FrameSize, MemoryRange, NodeId, NumaPolicy,
};
use hv_core::PhysAddr;
use std::hint::black_box;

mod common;
use common::BenchClock;
use std::time::Duration;

/// 4 GiB of frames: room for any chunk below.
fn allocator() -> BitmapFrameAllocator {
    let map = [MemoryRange {
        base: PhysAddr(0x1_0000_0000),
        size_bytes: 4 << 30,
        node: NodeId(0),
    }];
    BitmapFrameAllocator::new(&map, NumaPolicy::Local).expect("allocator")
}

/// Time `iters` rounds of `per_round` allocations, freeing between chunks.
fn timed(a: &mut BitmapFrameAllocator, iters: u64, per_round: u64) -> Duration {
    const CHUNK: u64 = 100_000;
    let mut held = Vec::with_capacity(CHUNK as usize);
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let rounds = left.min(CHUNK / per_round);
        let start = common::now();
        for _ in 0..rounds {
            for _ in 0..per_round {
                held.push(black_box(a.alloc(FrameSize::Size4K).expect("frame")));
            }
        }
        total += common::now() - start;
        for f in held.drain(..) {
            a.free(f, FrameSize::Size4K).expect("free");
        }
        left -= rounds;
    }
    total
}

fn allocation(c: &mut Criterion<BenchClock>) {
    let mut a = allocator();
    let mut g = common::group(c, "allocation");
    g.bench_function("single", |b| b.iter_custom(|iters| timed(&mut a, iters, 1)));
    g.bench_function("batch_100", |b| {
        b.iter_custom(|iters| timed(&mut a, iters, 100))
    });
    g.bench_function("single_alloc_free", |b| {
        b.iter(|| {
            let f = a.alloc(FrameSize::Size4K).expect("frame");
            a.free(black_box(f), FrameSize::Size4K)
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = allocation
}
criterion_main!(benches);

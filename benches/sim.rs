//! The whole simulated machine (hv-sim's `Machine` + run loop, not only the
//! interpreter): a guest boots, sums a 64 KiB buffer in a loop and powers
//! off through PSCI. Throughput is in guest instructions, so Melem/s =
//! guest MIPS including machine construction, the run loop's interrupt
//! bookkeeping and PSCI. The reference (`sim/sum_loop/native`) is the same
//! sum in native Rust with the same element count, so the two read as a
//! ratio.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use hv_core::machine::RAM_BASE;
use hv_core::translate::asm::*;
use hv_sim::console::Captured;
use hv_sim::machine::{Machine, MachineConfig, Software};
use hv_sim::run::{run, Outcome, RunConfig};
use std::hint::black_box;

mod common;
use common::BenchClock;

/// Words summed per pass, passes per run.
const WORDS: u64 = 8192;
const PASSES: u64 = 16;
/// Where the buffer is (the image is loaded at RAM + 2 MiB).
const BUF: u64 = RAM_BASE.raw() + 0x40_0000;
const SYSTEM_OFF: u64 = 0x8400_0008;

/// x4 = sum of WORDS u64 at BUF, PASSES times; then SYSTEM_OFF.
fn guest() -> (Vec<u8>, u64) {
    let mut c = vec![movz(true, 5, PASSES as u32, 0)];
    // outer:
    c.extend(mov64(1, BUF));
    c.push(movz(true, 2, WORDS as u32, 0));
    // inner: ldr x3,[x1]; add x1,x1,#8; add x4,x4,x3; subs x2,x2,#1; b.ne inner
    c.push(ldr_imm(true, 3, 1, 0));
    c.push(add_imm(true, 1, 1, 8));
    c.push(addsub_reg(true, 0, false, 0, 3, 0, 4, 4));
    c.push(subs_imm(true, 2, 2, 1));
    c.push(b_cond(NE, -16));
    c.push(subs_imm(true, 5, 5, 1));
    c.push(b_cond(NE, -4 * 11));
    c.extend(mov64(0, SYSTEM_OFF));
    c.push(hvc(0));
    let insns = 1 + PASSES * (4 + 1 + 5 * WORDS + 2) + 5;
    (c.iter().flat_map(|w| w.to_le_bytes()).collect(), insns)
}

fn sim(c: &mut Criterion<BenchClock>) {
    let (image, insns) = guest();
    let config = MachineConfig {
        ram_size: 16 << 20,
        ..MachineConfig::default()
    };
    let sw = Software {
        kernel: &image,
        initrd: None,
        cmdline: "",
    };
    let mut g = common::group(c, "sim/sum_loop");
    g.throughput(Throughput::Elements(insns));
    g.bench_function("interp", |b| {
        b.iter_batched(
            || Machine::new(&config, &sw, Captured::new()).expect("machine"),
            |mut m| {
                let r = run(&mut m, RunConfig::default());
                assert_eq!(r.outcome, Outcome::PowerOff);
                assert_eq!(r.insns, insns);
                m
            },
            BatchSize::LargeInput,
        )
    });
    let buf: Vec<u64> = (0..WORDS).collect();
    g.bench_function("native", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for _ in 0..PASSES {
                for w in black_box(&buf) {
                    sum = sum.wrapping_add(*w);
                }
            }
            black_box(sum)
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = sim
}
criterion_main!(benches);

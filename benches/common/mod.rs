//! What every bench binary shares: the clock Criterion measures with.
//!
//! By default a sample is the **CPU time of the measuring thread**
//! (`CLOCK_THREAD_CPUTIME_ID`), not wall time. On a shared machine a
//! wall-clock sample also counts the time the thread sat preempted behind
//! other processes. On the 2-core development machine with 6-12 runnable
//! tasks, the memory bench run twice back to back (`--warm-up-time 1
//! --measurement-time 2`) gave CVs of 0.24-2.45 and P99/mean up to 5.9 with
//! wall time, 0.01-0.31 and at most 1.74 with thread CPU time, and
//! per-operation times that match a quiet machine's (0.65 ns guest reads
//! against 1.3-1.9 ns of wall time). Thread CPU time leaves out only the
//! time the thread did not run: what other tenants do to the caches, the
//! memory bus and the core's clock still shows (outliers stayed at 0-22%
//! of samples with either clock).
//!
//! `HV_BENCH_CLOCK=wall` measures wall time instead (Criterion's default
//! `WallTime`), e.g. on a quiet machine or for code that waits. Results of
//! the two clocks are not comparable: save and compare baselines with the
//! same clock.

#![allow(dead_code)] // each bench binary uses its own part of this module

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{BenchmarkGroup, Criterion};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What a sample's time is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// CPU time consumed by the measuring thread.
    ThreadCpu,
    /// Elapsed (monotonic) time.
    Wall,
}

/// The clock of this run: `HV_BENCH_CLOCK` (`cpu`, the default, or `wall`).
pub fn clock() -> Clock {
    static CLOCK: OnceLock<Clock> = OnceLock::new();
    *CLOCK.get_or_init(|| {
        let clock = match std::env::var("HV_BENCH_CLOCK").as_deref() {
            Ok("wall") => Clock::Wall,
            Ok("cpu") | Err(_) => Clock::ThreadCpu,
            Ok(other) => panic!("HV_BENCH_CLOCK={other}: use cpu or wall"),
        };
        eprintln!(
            "benches: measuring {} (HV_BENCH_CLOCK=cpu|wall)",
            match clock {
                Clock::ThreadCpu => "the thread's CPU time",
                Clock::Wall => "wall-clock time",
            }
        );
        clock
    })
}

/// CPU time the calling thread has consumed.
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the
    // call, and CLOCK_THREAD_CPUTIME_ID is a clock every Linux provides.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The current reading of this run's clock, for `iter_custom` timers: the
/// difference of two readings on one thread is what a sample measures.
pub fn now() -> Duration {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    match clock() {
        Clock::ThreadCpu => thread_cpu_time(),
        Clock::Wall => EPOCH.get_or_init(Instant::now).elapsed(),
    }
}

/// Criterion's measurement over [`now`]. Values are nanoseconds, formatted
/// as Criterion formats wall time.
pub struct BenchClock {
    wall: WallTime,
}

impl std::fmt::Debug for BenchClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BenchClock({:?})", clock())
    }
}

impl Measurement for BenchClock {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        now()
    }
    fn end(&self, start: Duration) -> Duration {
        now().saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        self.wall.formatter()
    }
}

/// Criterion with this run's clock; `criterion_group!` applies the command
/// line on top.
pub fn criterion() -> Criterion<BenchClock> {
    clock();
    Criterion::default().with_measurement(BenchClock { wall: WallTime })
}

/// A benchmark group measured with [`BenchClock`].
pub type Group<'a> = BenchmarkGroup<'a, BenchClock>;

/// A benchmark group with flat sampling: every sample runs the same number
/// of iterations, so every sample is equally long (measurement time / sample
/// count, 20 ms with `--measurement-time 2`). Criterion's default linear
/// sampling makes the first samples 1/100 of the last: those short samples
/// catch a preemption's cache refill or a slow phase of the machine whole
/// (with thread CPU time, `bulk_memory_write/64`'s first sample came out
/// 23% above the median, the next three 9%). Interleaved runs of the `memory_read`/`memory_write` benches
/// (three of each mode, load 9-12) put 8.5% of the samples outside the
/// fences with linear sampling and 5.0% with flat. Criterion then reports
/// the mean per iteration instead of a regression slope; with samples of
/// milliseconds the per-sample overhead (two clock reads) is below 0.01%.
pub fn group<'a>(c: &'a mut Criterion<BenchClock>, name: &str) -> Group<'a> {
    let mut g = c.benchmark_group(name);
    g.sampling_mode(criterion::SamplingMode::Flat);
    g
}

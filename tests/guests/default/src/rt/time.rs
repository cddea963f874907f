//! Time from the generic timer's virtual counter, and bounded waits: every
//! wait in the test guests has a deadline and reports what it waited for
//! instead of hanging.

use core::arch::asm;
use core::fmt;

/// CNTVCT_EL0, ordered after earlier instructions.
pub fn counter() -> u64 {
    let t: u64;
    // SAFETY: ISB and a counter read have no side effects.
    unsafe { asm!("isb", "mrs {}, cntvct_el0", out(reg) t, options(nomem, nostack)) };
    t
}

/// CNTPCT_EL0, ordered after earlier instructions.
pub fn physical_counter() -> u64 {
    let t: u64;
    // SAFETY: ISB and a counter read have no side effects.
    unsafe { asm!("isb", "mrs {}, cntpct_el0", out(reg) t, options(nomem, nostack)) };
    t
}

/// CNTFRQ_EL0: counter ticks per second.
pub fn frequency() -> u64 {
    let f: u64;
    // SAFETY: reading CNTFRQ_EL0 has no side effects.
    unsafe { asm!("mrs {}, cntfrq_el0", out(reg) f, options(nomem, nostack)) };
    f.max(1)
}

/// Counter ticks in `us` microseconds.
pub fn ticks_from_us(us: u64) -> u64 {
    (u128::from(frequency()) * u128::from(us) / 1_000_000) as u64
}

/// Counter ticks in `ms` milliseconds.
pub fn ticks_from_ms(ms: u64) -> u64 {
    ticks_from_us(ms.saturating_mul(1000))
}

/// Nanoseconds in `ticks` counter ticks.
pub fn ticks_to_ns(ticks: u64) -> u64 {
    (u128::from(ticks) * 1_000_000_000 / u128::from(frequency())) as u64
}

/// Milliseconds in `ticks` counter ticks.
pub fn ticks_to_ms(ticks: u64) -> u64 {
    ticks_to_ns(ticks) / 1_000_000
}

/// A point in counter time.
#[derive(Clone, Copy, Debug)]
pub struct Deadline(u64);

impl Deadline {
    /// `ms` milliseconds from now.
    pub fn after_ms(ms: u64) -> Self {
        Deadline(counter().saturating_add(ticks_from_ms(ms)))
    }

    /// `us` microseconds from now.
    pub fn after_us(us: u64) -> Self {
        Deadline(counter().saturating_add(ticks_from_us(us)))
    }

    /// Whether the deadline has passed.
    pub fn expired(&self) -> bool {
        counter() >= self.0
    }
}

/// A wait that ran out.
#[derive(Clone, Copy, Debug)]
pub struct Timeout {
    /// What was awaited.
    pub what: &'static str,
    /// How long it was awaited.
    pub ms: u64,
}

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "timed out after {} ms waiting for {}",
            self.ms, self.what
        )
    }
}

/// Spin until `done()` holds, at most `ms` milliseconds; returns the ticks
/// it took.
pub fn wait_for(
    ms: u64,
    what: &'static str,
    mut done: impl FnMut() -> bool,
) -> Result<u64, Timeout> {
    let start = counter();
    let end = start.saturating_add(ticks_from_ms(ms));
    loop {
        if done() {
            return Ok(counter() - start);
        }
        if counter() >= end {
            // One last look, in case this CPU was descheduled past the end.
            return if done() {
                Ok(counter() - start)
            } else {
                Err(Timeout { what, ms })
            };
        }
        core::hint::spin_loop();
    }
}

/// Busy-wait `us` microseconds.
pub fn delay_us(us: u64) {
    let d = Deadline::after_us(us);
    while !d.expired() {
        core::hint::spin_loop();
    }
}

/// Busy-wait `ms` milliseconds.
pub fn delay_ms(ms: u64) {
    delay_us(ms.saturating_mul(1000));
}

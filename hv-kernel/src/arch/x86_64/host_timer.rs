//! The host CPU's local APIC timer, one-shot, so that a guest that runs
//! without exits still stops when its own timer is due: the interrupt
//! arrives while the guest runs, SVM's INTR intercept makes it exit, and
//! hv takes the interrupt (its handler only acknowledges it) before it
//! injects the guest's. Its tick rate is measured against the HPET once.

use super::host_apic::{read, write, CURRENT_COUNT, DIVIDE, INITIAL_COUNT, LVT_TIMER, SVR};
use super::hpet::Hpet;
use core::fmt;

/// The vector of the host timer (vectors.s has its handler).
pub const HOST_TIMER_VECTOR: u8 = 0xef;
/// The APIC's spurious vector (vectors.s has its handler).
pub const SPURIOUS_VECTOR: u8 = 0xff;
/// How long the calibration counts (ns).
const CALIBRATION_NS: u64 = 1_000_000;

/// Why there is no host timer.
#[derive(Clone, Copy, Debug)]
pub struct NoHostTimer;

impl fmt::Display for NoHostTimer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the host APIC timer did not count")
    }
}

/// The host's one-shot APIC timer.
#[derive(Clone, Copy, Debug)]
pub struct HostTimer {
    /// Timer ticks per 2^20 ns.
    ticks_per_mi_ns: u64,
}

impl HostTimer {
    /// Enable this CPU's APIC and measure its timer (divide by 1) against
    /// the HPET.
    pub fn start(clock: &Hpet) -> Result<HostTimer, NoHostTimer> {
        write(SVR, 0x100 | u32::from(SPURIOUS_VECTOR));
        write(DIVIDE, 0xb);
        // Masked while measuring.
        write(LVT_TIMER, (1 << 16) | u32::from(HOST_TIMER_VECTOR));
        write(INITIAL_COUNT, u32::MAX);
        let start = clock.now_ns();
        while clock.now_ns() - start < CALIBRATION_NS {
            core::hint::spin_loop();
        }
        let elapsed = clock.now_ns() - start;
        let ticks = u64::from(u32::MAX - read(CURRENT_COUNT));
        write(INITIAL_COUNT, 0);
        if ticks == 0 || elapsed == 0 {
            return Err(NoHostTimer);
        }
        write(LVT_TIMER, u32::from(HOST_TIMER_VECTOR));
        Ok(HostTimer {
            ticks_per_mi_ns: (ticks << 20) / elapsed,
        })
    }

    /// Interrupt this CPU in `ns` nanoseconds (at least one tick; at
    /// most the counter's range).
    pub fn arm_in(&self, ns: u64) {
        let ticks = (u128::from(ns) * u128::from(self.ticks_per_mi_ns)) >> 20;
        write(INITIAL_COUNT, ticks.clamp(1, u128::from(u32::MAX)) as u32);
    }

    /// No interrupt.
    pub fn disarm(&self) {
        write(INITIAL_COUNT, 0);
    }
}

/// Let a pending host interrupt in (its handler acknowledges it): after
/// an INTR exit it is still pending with interrupts off, and would stop
/// the guest again at once.
pub fn take_pending_interrupts() {
    // SAFETY: one instruction with interrupts on (STI's shadow covers only
    // the NOP's start): a pending interrupt is taken by its IDT handler
    // (the host timer's or the spurious vector's, the only sources hv
    // leaves unmasked), which acknowledges it and returns.
    unsafe { core::arch::asm!("sti", "nop", "cli", options(nomem, nostack)) };
}

//! The generic timers as hv sees them at EL2: the guest's two EL1 timers
//! (which the guest programs directly; hv only reads them) and hv's own EL2
//! physical timer, which bounds a trapped WFI.
//!
//! CNTVOFF_EL2 is 0, so the virtual and physical counters agree and one
//! deadline compares against both.

use aarch64_cpu::registers::{Readable, CNTFRQ_EL0, CNTPCT_EL0};
use core::arch::asm;

/// CNTx_CTL bits.
const ENABLE: u64 = 1 << 0;
const IMASK: u64 = 1 << 1;
const ISTATUS: u64 = 1 << 2;

fn asserted(ctl: u64) -> bool {
    ctl & (ENABLE | IMASK | ISTATUS) == ENABLE | ISTATUS
}

/// Whether the guest's EL1 virtual and physical timers drive their
/// interrupt lines now (enabled, condition met, not masked).
pub fn guest_lines() -> (bool, bool) {
    let (v, p): (u64, u64);
    // SAFETY: reads the guest's timer control registers on this CPU; no
    // side effects.
    unsafe {
        asm!("mrs {}, cntv_ctl_el0", out(reg) v, options(nomem, nostack));
        asm!("mrs {}, cntp_ctl_el0", out(reg) p, options(nomem, nostack));
    }
    (asserted(v), asserted(p))
}

/// The earliest compare value of the guest's enabled EL1 timers, whatever
/// their mask and whatever the guest enabled at its interrupt controller:
/// a WFI may always wake early, and must not sleep past a deadline.
pub fn earliest_guest_deadline() -> Option<u64> {
    let (vctl, vcval, pctl, pcval): (u64, u64, u64, u64);
    // SAFETY: reads the guest's timer registers on this CPU; no side
    // effects.
    unsafe {
        asm!("mrs {}, cntv_ctl_el0", out(reg) vctl, options(nomem, nostack));
        asm!("mrs {}, cntv_cval_el0", out(reg) vcval, options(nomem, nostack));
        asm!("mrs {}, cntp_ctl_el0", out(reg) pctl, options(nomem, nostack));
        asm!("mrs {}, cntp_cval_el0", out(reg) pcval, options(nomem, nostack));
    }
    let v = (vctl & ENABLE != 0).then_some(vcval);
    let p = (pctl & ENABLE != 0).then_some(pcval);
    match (v, p) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Arm hv's EL2 physical timer to fire at `deadline` (physical count).
pub fn arm_hyp_timer(deadline: u64) {
    // SAFETY: the EL2 physical timer is hv's own; its interrupt (PPI 26)
    // only wakes this CPU.
    unsafe {
        asm!(
            "msr cnthp_cval_el2, {d}",
            "msr cnthp_ctl_el2, {on}",
            "isb",
            d = in(reg) deadline,
            on = in(reg) ENABLE,
            options(nomem, nostack),
        );
    }
}

/// Switch hv's EL2 physical timer off (its interrupt line drops).
pub fn disarm_hyp_timer() {
    // SAFETY: as for arm_hyp_timer.
    unsafe { asm!("msr cnthp_ctl_el2, xzr", "isb", options(nomem, nostack)) };
}

/// Put the guest's EL1 timers in their reset state (disabled) before a
/// vCPU starts, so a timer left armed by an earlier run cannot fire into
/// a new one.
pub fn reset_guest_timers() {
    // SAFETY: the EL1 timers belong to the guest, which is not running on
    // this CPU now.
    unsafe {
        asm!(
            "msr cntv_ctl_el0, xzr",
            "msr cntp_ctl_el0, xzr",
            "isb",
            options(nomem, nostack)
        );
    }
}

/// Busy-wait delays on the generic timer's physical counter, for board
/// drivers (embedded-hal's `DelayNs`): a wait never ends early, and lasts
/// at most one counter tick longer than asked.
#[derive(Clone, Copy, Debug, Default)]
pub struct CounterDelay;

impl embedded_hal::delay::DelayNs for CounterDelay {
    fn delay_ns(&mut self, ns: u32) {
        let freq = CNTFRQ_EL0.get().max(1);
        // u32 nanoseconds times a frequency below 2^32 fits in u64.
        let ticks = (u64::from(ns) * freq).div_ceil(1_000_000_000);
        let start = CNTPCT_EL0.get();
        while CNTPCT_EL0.get().wrapping_sub(start) < ticks {
            core::hint::spin_loop();
        }
    }
}

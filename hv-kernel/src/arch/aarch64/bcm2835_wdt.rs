//! The BCM2835 power-management watchdog (Raspberry Pi 1-4): hv's way to
//! power the machine off when the firmware offers no PSCI.
//!
//! The Pi has no power switch hv can reach. Its firmware instead reads the
//! "boot partition" field of PM_RSTS after a watchdog reset and halts when
//! it is 63; so power-off is: set partition 63, then let the watchdog reset
//! the chip at once. QEMU's model resets the machine (`-no-reboot` turns
//! that into an exit).

use super::timer::CounterDelay;
use core::ptr::NonNull;
use embedded_hal::delay::DelayNs;
use volatile::VolatilePtr;

/// Reset control: WRCFG (bits 5:4) selects what a watchdog expiry does.
const PM_RSTC: usize = 0x1c;
/// Reset status; the boot partition is spread over its even bits 0-10.
const PM_RSTS: usize = 0x20;
/// Watchdog counter, in ticks of 2^-16 s.
const PM_WDOG: usize = 0x24;
/// Writes are ignored unless bits 31:24 hold this.
const PASSWORD: u32 = 0x5a00_0000;
const RSTC_WRCFG_MASK: u32 = 0x30;
const RSTC_WRCFG_FULL_RESET: u32 = 0x20;
/// Partition 63 in RSTS's interleaved encoding (bits 0, 2, 4, 6, 8, 10).
const RSTS_PARTITION_HALT: u32 = 0x555;
/// Expire after 10 ticks (about 150 µs).
const WDOG_SOON: u32 = 10;

fn reg(base: usize, offset: usize) -> VolatilePtr<'static, u32> {
    // SAFETY: callers pass the PM block's base from the DTB; base + offset
    // is one of its 32-bit registers, mapped as device memory by hv's EL2
    // map (and never null).
    unsafe { VolatilePtr::new(NonNull::new_unchecked((base + offset) as *mut u32)) }
}

/// Mark the next boot as "halt" and reset through the watchdog at `base`.
/// Returns if the reset has not happened after a while (no such device).
pub fn power_off(base: usize) {
    let rsts = reg(base, PM_RSTS).read() & !0xff00_0000;
    reg(base, PM_RSTS).write(PASSWORD | rsts | RSTS_PARTITION_HALT);
    reg(base, PM_WDOG).write(PASSWORD | WDOG_SOON);
    let rstc = reg(base, PM_RSTC).read() & !(RSTC_WRCFG_MASK | 0xff00_0000);
    reg(base, PM_RSTC).write(PASSWORD | rstc | RSTC_WRCFG_FULL_RESET);
    // The reset comes within microseconds; wait a second before the caller
    // reports that it did not.
    CounterDelay.delay_ms(1000);
}

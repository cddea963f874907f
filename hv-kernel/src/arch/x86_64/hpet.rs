//! The host's HPET as hv's clock for guest timers: a free-running counter
//! whose period (in femtoseconds) the hardware states, so no calibration
//! is needed. PCs and QEMU's q35 have it at 0xfed00000 (ACPI's HPET
//! table would say so; hv reads no ACPI yet and checks what it finds).

use core::fmt;

/// Where PCs put the HPET.
const HPET_BASE: u64 = 0xfed0_0000;
/// General capabilities (period in bits 63:32), configuration, main
/// counter.
const CAPABILITIES: u64 = 0x000;
const CONFIG: u64 = 0x010;
const COUNTER: u64 = 0x0f0;
const CONFIG_ENABLE: u64 = 1 << 0;
/// The specification's longest period: 100 ns.
const MAX_PERIOD_FS: u64 = 100_000_000;

/// Why there is no clock.
#[derive(Clone, Copy, Debug)]
pub struct NoHpet(u64);

impl fmt::Display for NoHpet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no HPET at {HPET_BASE:#x} (its capabilities read {:#x})",
            self.0
        )
    }
}

/// The HPET's main counter, enabled.
#[derive(Clone, Copy, Debug)]
pub struct Hpet {
    period_fs: u64,
}

fn read(offset: u64) -> u64 {
    // SAFETY: the boot page tables identity-map the low 4 GiB, the HPET's
    // registers are 64-bit and reads have no side effect.
    unsafe { core::ptr::read_volatile((HPET_BASE + offset) as *const u64) }
}

impl Hpet {
    /// Find the HPET and start its counter.
    pub fn start() -> Result<Hpet, NoHpet> {
        let caps = read(CAPABILITIES);
        let period_fs = caps >> 32;
        if period_fs == 0 || period_fs > MAX_PERIOD_FS {
            return Err(NoHpet(caps));
        }
        let config = read(CONFIG);
        if config & CONFIG_ENABLE == 0 {
            // SAFETY: as in `read`; setting ENABLE_CNF starts the main
            // counter and changes nothing else (legacy routing stays off).
            unsafe {
                core::ptr::write_volatile((HPET_BASE + CONFIG) as *mut u64, config | CONFIG_ENABLE)
            };
        }
        Ok(Hpet { period_fs })
    }

    /// Nanoseconds since the counter started.
    pub fn now_ns(&self) -> u64 {
        let ticks = u128::from(read(COUNTER));
        (ticks * u128::from(self.period_fs) / 1_000_000) as u64
    }
}

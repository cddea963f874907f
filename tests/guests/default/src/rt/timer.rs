//! The EL1 generic timers: virtual (CNTV_*, PPI 27) and physical (CNTP_*,
//! PPI 30), as the guest machine contract wires them.

use core::arch::asm;

/// CNTx_CTL_EL0.ENABLE.
pub const CTL_ENABLE: u64 = 1 << 0;
/// CNTx_CTL_EL0.IMASK.
pub const CTL_IMASK: u64 = 1 << 1;
/// CNTx_CTL_EL0.ISTATUS (read-only): the timer condition is met.
pub const CTL_ISTATUS: u64 = 1 << 2;

/// One of the two EL1 timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// The virtual timer (CNTV_*, counts CNTVCT_EL0), PPI 27.
    Virtual,
    /// The EL1 physical timer (CNTP_*, counts CNTPCT_EL0), PPI 30.
    Physical,
}

macro_rules! rd {
    ($name:literal) => {{
        let v: u64;
        // SAFETY: reading an EL1 timer register has no side effects.
        unsafe { asm!("isb", concat!("mrs {}, ", $name), out(reg) v, options(nomem, nostack)) };
        v
    }};
}

macro_rules! wr {
    ($name:literal, $v:expr) => {{
        let v: u64 = $v;
        // SAFETY: programs this CPU's EL1 timer; the ISB makes it take effect.
        unsafe { asm!(concat!("msr ", $name, ", {}"), "isb", in(reg) v, options(nomem, nostack)) };
    }};
}

impl Timer {
    /// Its PPI.
    pub const fn intid(self) -> u32 {
        match self {
            Timer::Virtual => 27,
            Timer::Physical => 30,
        }
    }

    /// Its name in messages.
    pub const fn name(self) -> &'static str {
        match self {
            Timer::Virtual => "virtual",
            Timer::Physical => "physical",
        }
    }

    /// The counter it compares against (CNTVCT_EL0 or CNTPCT_EL0).
    pub fn count(self) -> u64 {
        match self {
            Timer::Virtual => rd!("cntvct_el0"),
            Timer::Physical => rd!("cntpct_el0"),
        }
    }

    /// CNTx_CTL_EL0.
    pub fn ctl(self) -> u64 {
        match self {
            Timer::Virtual => rd!("cntv_ctl_el0"),
            Timer::Physical => rd!("cntp_ctl_el0"),
        }
    }

    /// Write CNTx_CTL_EL0.
    pub fn set_ctl(self, v: u64) {
        match self {
            Timer::Virtual => wr!("cntv_ctl_el0", v),
            Timer::Physical => wr!("cntp_ctl_el0", v),
        }
    }

    /// CNTx_CVAL_EL0.
    pub fn cval(self) -> u64 {
        match self {
            Timer::Virtual => rd!("cntv_cval_el0"),
            Timer::Physical => rd!("cntp_cval_el0"),
        }
    }

    /// Write CNTx_CVAL_EL0.
    pub fn set_cval(self, v: u64) {
        match self {
            Timer::Virtual => wr!("cntv_cval_el0", v),
            Timer::Physical => wr!("cntp_cval_el0", v),
        }
    }

    /// CNTx_TVAL_EL0 (signed ticks to go).
    pub fn tval(self) -> i32 {
        let v = match self {
            Timer::Virtual => rd!("cntv_tval_el0"),
            Timer::Physical => rd!("cntp_tval_el0"),
        };
        v as u32 as i32
    }

    /// Write CNTx_TVAL_EL0: fire `ticks` from now.
    pub fn set_tval(self, ticks: i32) {
        let v = ticks as u32 as u64;
        match self {
            Timer::Virtual => wr!("cntv_tval_el0", v),
            Timer::Physical => wr!("cntp_tval_el0", v),
        }
    }

    /// Fire `ticks` from now with the interrupt unmasked (TVAL, then
    /// ENABLE with IMASK clear).
    pub fn arm(self, ticks: i32) {
        self.set_tval(ticks);
        self.set_ctl(CTL_ENABLE);
    }

    /// Switch the timer off (ENABLE = 0: its interrupt output goes low).
    pub fn stop(self) {
        self.set_ctl(0);
    }
}

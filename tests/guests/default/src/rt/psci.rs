//! PSCI through HVC, the conduit of the guest machine contract (plain QEMU
//! without EL2/EL3 also uses HVC, and says so in its DTB).

use core::arch::asm;

/// PSCI function IDs (SMC64 where there is a choice).
pub mod function {
    /// PSCI_VERSION.
    pub const VERSION: u64 = 0x8400_0000;
    /// CPU_OFF.
    pub const CPU_OFF: u64 = 0x8400_0002;
    /// CPU_ON (SMC64).
    pub const CPU_ON: u64 = 0xc400_0003;
    /// AFFINITY_INFO (SMC64).
    pub const AFFINITY_INFO: u64 = 0xc400_0004;
    /// SYSTEM_OFF.
    pub const SYSTEM_OFF: u64 = 0x8400_0008;
    /// SYSTEM_RESET.
    pub const SYSTEM_RESET: u64 = 0x8400_0009;
}

/// PSCI return codes.
pub mod status {
    /// SUCCESS.
    pub const SUCCESS: i64 = 0;
    /// NOT_SUPPORTED.
    pub const NOT_SUPPORTED: i64 = -1;
    /// INVALID_PARAMETERS.
    pub const INVALID_PARAMETERS: i64 = -2;
    /// DENIED.
    pub const DENIED: i64 = -3;
    /// ALREADY_ON.
    pub const ALREADY_ON: i64 = -4;
    /// ON_PENDING.
    pub const ON_PENDING: i64 = -5;
}

/// AFFINITY_INFO answers.
pub mod affinity {
    /// The CPU is on.
    pub const ON: i64 = 0;
    /// The CPU is off.
    pub const OFF: i64 = 1;
    /// The CPU is being turned on.
    pub const ON_PENDING: i64 = 2;
}

/// An SMCCC call through HVC with three arguments; returns x0.
pub fn raw_call(function: u64, a1: u64, a2: u64, a3: u64) -> u64 {
    let mut x0 = function;
    // SAFETY: an SMCCC call through HVC; the hypervisor (or QEMU's PSCI) may
    // clobber x0-x17 and touches none of our memory.
    unsafe {
        asm!("hvc #0", inout("x0") x0, inout("x1") a1 => _, inout("x2") a2 => _,
             inout("x3") a3 => _, clobber_abi("C"), options(nostack))
    };
    x0
}

/// PSCI_VERSION (major << 16 | minor).
pub fn version() -> u64 {
    raw_call(function::VERSION, 0, 0, 0)
}

/// CPU_ON of the CPU with MPIDR `mpidr` at `entry` with x0 = `context`.
pub fn cpu_on(mpidr: u64, entry: u64, context: u64) -> i64 {
    raw_call(function::CPU_ON, mpidr, entry, context) as i64
}

/// CPU_OFF of the calling CPU; returns only if it was refused.
pub fn cpu_off() -> i64 {
    raw_call(function::CPU_OFF, 0, 0, 0) as i64
}

/// AFFINITY_INFO of the CPU with MPIDR `mpidr` (level 0).
pub fn affinity_info(mpidr: u64) -> i64 {
    raw_call(function::AFFINITY_INFO, mpidr, 0, 0) as i64
}

/// Power off: the guest's PASS verdict.
pub fn system_off() -> ! {
    raw_call(function::SYSTEM_OFF, 0, 0, 0);
    halt()
}

/// Reset: the guest's FAIL verdict (hv-kernel and `qemu -no-reboot` turn it
/// into a failing exit).
pub fn system_reset() -> ! {
    raw_call(function::SYSTEM_RESET, 0, 0, 0);
    halt()
}

/// Wait forever.
pub fn halt() -> ! {
    loop {
        // SAFETY: WFE only waits.
        unsafe { asm!("wfe", options(nomem, nostack)) };
    }
}

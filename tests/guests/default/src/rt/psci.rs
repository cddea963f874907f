//! PSCI through HVC, the conduit of the guest machine contract.

use core::arch::asm;

const SYSTEM_OFF: u64 = 0x8400_0008;
const SYSTEM_RESET: u64 = 0x8400_0009;

fn call(function: u64) {
    raw_call(function, 0, 0, 0);
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

/// Power off: the guest's PASS verdict.
pub fn system_off() -> ! {
    call(SYSTEM_OFF);
    halt()
}

/// Reset: the guest's FAIL verdict (hv-kernel and `qemu -no-reboot` turn it
/// into a failing exit).
pub fn system_reset() -> ! {
    call(SYSTEM_RESET);
    halt()
}

fn halt() -> ! {
    loop {
        // SAFETY: WFE only waits.
        unsafe { asm!("wfe", options(nomem, nostack)) };
    }
}

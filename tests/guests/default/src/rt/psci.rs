//! PSCI through HVC, the conduit of the guest machine contract.

use core::arch::asm;

const SYSTEM_OFF: u64 = 0x8400_0008;
const SYSTEM_RESET: u64 = 0x8400_0009;

fn call(function: u64) {
    // SAFETY: an SMCCC call through HVC; the hypervisor (or QEMU's PSCI) may
    // clobber x0-x17 and touches none of our memory.
    unsafe { asm!("hvc #0", inout("x0") function => _, clobber_abi("C"), options(nostack)) };
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

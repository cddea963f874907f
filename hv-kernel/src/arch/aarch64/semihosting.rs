//! Arm semihosting exit, used to end a QEMU run with a failure status (PSCI
//! SYSTEM_OFF always exits QEMU with 0). QEMU needs `-semihosting`; the
//! runner passes it. Without a debugger or QEMU, HLT is an undefined
//! instruction, so callers fall back to halting.

use core::arch::asm;

const SYS_EXIT: u64 = 0x18;
const ADP_STOPPED_APPLICATION_EXIT: u64 = 0x20026;

/// Ask the semihosting host to exit with `code`; returns if nobody listens.
pub fn exit(code: u32) {
    let block = [ADP_STOPPED_APPLICATION_EXIT, u64::from(code)];
    // SAFETY: the semihosting call reads the two-word parameter block, which
    // lives on our stack for the duration of the call, and writes only x0.
    unsafe {
        asm!("hlt #0xf000", inout("x0") SYS_EXIT => _, in("x1") block.as_ptr(),
             options(nostack, readonly))
    };
}

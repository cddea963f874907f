//! EL2 exception entry (vectors.s) and the fault dump for exceptions hv does
//! not expect.

use aarch64_cpu::registers::{Readable, ELR_EL2, ESR_EL2, FAR_EL2, SPSR_EL2};
use core::fmt::{self, Write};

/// General registers as saved by `exception_common` in vectors.s.
#[repr(C)]
#[derive(Debug)]
pub struct ExceptionFrame {
    /// x0..x30.
    pub x: [u64; 31],
    /// The stack pointer at the time of the exception.
    pub sp: u64,
}

const KINDS: [&str; 4] = ["synchronous", "IRQ", "FIQ", "SError"];
const ORIGINS: [&str; 4] = [
    "current EL, SP_EL0",
    "current EL, SP_ELx",
    "lower EL, AArch64",
    "lower EL, AArch32",
];

/// Name of an ESR exception class.
fn exception_class_name(ec: u64) -> &'static str {
    match ec {
        0x00 => "unknown reason (undefined instruction)",
        0x01 => "WFI/WFE",
        0x07 => "FP/SIMD access",
        0x15 => "SVC (AArch64)",
        0x16 => "HVC (AArch64)",
        0x17 => "SMC (AArch64)",
        0x18 => "MSR/MRS/system instruction",
        0x20 => "instruction abort, lower EL",
        0x21 => "instruction abort, same EL",
        0x22 => "PC alignment fault",
        0x24 => "data abort, lower EL",
        0x25 => "data abort, same EL",
        0x26 => "SP alignment fault",
        0x2f => "SError",
        0x3c => "BRK",
        _ => "other",
    }
}

/// Print everything known about an exception hv did not expect.
pub fn dump(out: &mut dyn Write, frame: &ExceptionFrame, kind: u64) -> fmt::Result {
    let esr = ESR_EL2.get();
    let ec = (esr >> 26) & 0x3f;
    // `kind` comes from the vector table: 0..=15.
    let k = (kind & 3) as usize;
    let o = ((kind >> 2) & 3) as usize;
    writeln!(
        out,
        "\n*** hv-kernel: unexpected exception: {} from {} ***",
        KINDS[k], ORIGINS[o]
    )?;
    writeln!(
        out,
        "ESR_EL2  {esr:#018x}  (EC {ec:#04x}: {}, ISS {:#x})",
        exception_class_name(ec),
        esr & 0x1ff_ffff
    )?;
    writeln!(out, "ELR_EL2  {:#018x}", ELR_EL2.get())?;
    writeln!(out, "FAR_EL2  {:#018x}", FAR_EL2.get())?;
    writeln!(out, "SPSR_EL2 {:#018x}", SPSR_EL2.get())?;
    for (i, pair) in frame.x.chunks(2).enumerate() {
        match pair {
            [a, b] => writeln!(out, "x{:<2} {a:#018x}  x{:<2} {b:#018x}", 2 * i, 2 * i + 1)?,
            [a] => writeln!(out, "x{:<2} {a:#018x}  sp  {:#018x}", 2 * i, frame.sp)?,
            _ => {}
        }
    }
    Ok(())
}

/// Called by vectors.s for every exception taken to EL2.
#[no_mangle]
extern "C" fn aarch64_exception(frame: &mut ExceptionFrame, kind: u64) {
    super::fatal_exception(frame, kind)
}

//! PSCI calls to the firmware (QEMU's built-in PSCI, or TF-A on boards).

use core::arch::asm;

/// How PSCI is reached, from the DTB's `/psci` `method` property.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conduit {
    /// `smc #0` (the usual case at EL2).
    Smc,
    /// `hvc #0` (only meaningful below EL2).
    Hvc,
}

const PSCI_VERSION: u32 = 0x8400_0000;
const CPU_ON_64: u32 = 0xc400_0003;
const SYSTEM_OFF: u32 = 0x8400_0008;

/// A PSCI return code other than SUCCESS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PsciError(pub i32);

impl core::fmt::Display for PsciError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let name = match self.0 {
            -1 => "NOT_SUPPORTED",
            -2 => "INVALID_PARAMETERS",
            -3 => "DENIED",
            -4 => "ALREADY_ON",
            -5 => "ON_PENDING",
            -6 => "INTERNAL_FAILURE",
            -9 => "INVALID_ADDRESS",
            _ => "unknown error",
        };
        write!(f, "PSCI {name} ({})", self.0)
    }
}

fn call(conduit: Conduit, function: u32, a1: u64, a2: u64, a3: u64) -> u64 {
    let mut x0 = u64::from(function);
    match conduit {
        // SAFETY: an SMCCC call; the firmware may clobber x0-x17 (SMCCC 1.0)
        // and touches no memory of ours, which `clobber_abi("C")` covers.
        Conduit::Smc => unsafe {
            asm!("smc #0", inout("x0") x0, inout("x1") a1 => _, inout("x2") a2 => _,
                 inout("x3") a3 => _, clobber_abi("C"), options(nostack))
        },
        // SAFETY: as for SMC.
        Conduit::Hvc => unsafe {
            asm!("hvc #0", inout("x0") x0, inout("x1") a1 => _, inout("x2") a2 => _,
                 inout("x3") a3 => _, clobber_abi("C"), options(nostack))
        },
    }
    x0
}

fn status(ret: u64) -> Result<(), PsciError> {
    // PSCI status codes are 32-bit signed values in w0.
    match ret as u32 as i32 {
        0 => Ok(()),
        e => Err(PsciError(e)),
    }
}

/// PSCI version as (major, minor).
pub fn version(conduit: Conduit) -> (u16, u16) {
    let v = call(conduit, PSCI_VERSION, 0, 0, 0) as u32;
    ((v >> 16) as u16, v as u16)
}

/// Start the CPU `mpidr` at physical address `entry` with `context` in x0.
pub fn cpu_on(conduit: Conduit, mpidr: u64, entry: u64, context: u64) -> Result<(), PsciError> {
    status(call(conduit, CPU_ON_64, mpidr, entry, context))
}

/// Power the machine off; returns only on failure.
pub fn system_off(conduit: Conduit) -> PsciError {
    PsciError(call(conduit, SYSTEM_OFF, 0, 0, 0) as u32 as i32)
}

//! The EL0/EL1 exception model: PSTATE as saved in SPSR_EL1, exception
//! classes and syndromes, the vector table offsets.
//!
//! Exception entry itself is [`super::Cpu::take_exception`]; this module
//! holds the architectural encodings it uses.

use bitflags::bitflags;

bitflags! {
    /// PSTATE in the SPSR_ELx layout (AArch64 state).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Spsr: u64 {
        /// Negative.
        const N = 1 << 31;
        /// Zero.
        const Z = 1 << 30;
        /// Carry.
        const C = 1 << 29;
        /// Overflow.
        const V = 1 << 28;
        /// Software step.
        const SS = 1 << 21;
        /// Illegal execution state.
        const IL = 1 << 20;
        /// Debug mask.
        const D = 1 << 9;
        /// SError mask.
        const A = 1 << 8;
        /// IRQ mask.
        const I = 1 << 7;
        /// FIQ mask.
        const F = 1 << 6;
        /// Execution state: set for AArch32 (not supported here).
        const M4 = 1 << 4;
        /// M[3:2]: exception level, high bit.
        const EL_HI = 1 << 3;
        /// M[3:2]: exception level, low bit.
        const EL_LO = 1 << 2;
        /// M[0]: SP_ELx selected (vs SP_EL0).
        const SP = 1 << 0;
    }
}

/// The NZCV bits of PSTATE.
pub const NZCV_MASK: u64 = 0xf000_0000;
/// The DAIF bits of PSTATE.
pub const DAIF_MASK: u64 = 0x3c0;

impl Spsr {
    /// Exception level in `M[3:2]`.
    pub fn el(self) -> u8 {
        ((self.bits() >> 2) & 3) as u8
    }
}

/// Exception classes (ESR_ELx.EC) this CPU raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ExceptionClass {
    /// Unknown reason: undefined or unimplemented instruction.
    Unknown = 0x00,
    /// WFI/WFE trapped (not raised by this tier; for homes).
    Wf = 0x01,
    /// SIMD/FP access trapped by CPACR_EL1.FPEN.
    FpAccess = 0x07,
    /// MSR, MRS or system instruction trapped (EL0 access disabled by
    /// SCTLR_EL1/CNTKCTL_EL1).
    SysRegTrap = 0x18,
    /// Illegal execution state (PSTATE.IL set by a bad ERET).
    IllegalState = 0x0e,
    /// SVC in AArch64.
    Svc64 = 0x15,
    /// HVC in AArch64 (seen by the home as an exit, not by the guest).
    Hvc64 = 0x16,
    /// SMC in AArch64 (idem).
    Smc64 = 0x17,
    /// Instruction abort from a lower EL.
    InstAbortLower = 0x20,
    /// Instruction abort from the current EL.
    InstAbortSame = 0x21,
    /// PC alignment fault.
    PcAlignment = 0x22,
    /// Data abort from a lower EL.
    DataAbortLower = 0x24,
    /// Data abort from the current EL.
    DataAbortSame = 0x25,
    /// SP alignment fault (not raised: SCTLR_EL1.SA is not modelled).
    SpAlignment = 0x26,
    /// BRK in AArch64.
    Brk64 = 0x3c,
}

/// `ESR_ELx.IL`: the trapped instruction was 32 bits wide.
pub const ESR_IL: u64 = 1 << 25;
/// Data abort ISS: WnR (the access was a write).
pub const ISS_WNR: u32 = 1 << 6;

/// Build an ESR_ELx value.
pub const fn esr(ec: ExceptionClass, iss: u32) -> u64 {
    ((ec as u64) << 26) | ESR_IL | (iss as u64 & 0x1ff_ffff)
}

/// The kind of exception, which selects the vector within a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VectorKind {
    /// Synchronous exception.
    Sync = 0,
    /// IRQ.
    Irq = 1,
    /// FIQ.
    Fiq = 2,
    /// SError.
    SError = 3,
}

/// Offset of the vector from VBAR_EL1 for an exception taken to EL1 from
/// `from_el` with `spsel` (PSTATE.SP at the time).
pub const fn vector_offset(kind: VectorKind, from_el: u8, spsel: bool) -> u64 {
    let group = if from_el == 0 {
        0x400
    } else if spsel {
        0x200
    } else {
        0
    };
    group + (kind as u64) * 0x80
}

/// A synchronous exception the interpreter is about to take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncException {
    /// ESR_EL1 value.
    pub esr: u64,
    /// FAR_EL1 value, for aborts.
    pub far: Option<u64>,
    /// Preferred return address (ELR_EL1).
    pub elr: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_offsets_follow_the_arm_arm_table() {
        assert_eq!(vector_offset(VectorKind::Sync, 1, false), 0x000);
        assert_eq!(vector_offset(VectorKind::Irq, 1, false), 0x080);
        assert_eq!(vector_offset(VectorKind::Sync, 1, true), 0x200);
        assert_eq!(vector_offset(VectorKind::SError, 1, true), 0x380);
        assert_eq!(vector_offset(VectorKind::Sync, 0, true), 0x400);
        assert_eq!(vector_offset(VectorKind::Fiq, 0, false), 0x500);
    }

    #[test]
    fn esr_packs_class_il_and_iss() {
        assert_eq!(esr(ExceptionClass::Svc64, 0x1234), 0x5600_1234);
        assert_eq!(esr(ExceptionClass::Unknown, 0), 0x0200_0000);
        assert_eq!(esr(ExceptionClass::Brk64, 0xffff_ffff), 0xf3ff_ffff);
    }
}

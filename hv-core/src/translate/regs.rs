//! The general-purpose register file in a fixed `#[repr(C)]` layout: the
//! part of the CPU state that translated code reads and writes through one
//! pinned base register, at offsets taken from this struct
//! ([`ArchRegs::offset_x`] and friends), so the interpreter and the JIT
//! share one copy of the state and never copy it back and forth.

use core::mem::offset_of;

/// X0..X30, SP_EL0/SP_EL1, PC, NZCV and the instruction counter.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArchRegs {
    /// X0..X30.
    pub x: [u64; 31],
    /// SP_EL0 and SP_EL1.
    pub sp: [u64; 2],
    /// The program counter.
    pub pc: u64,
    /// Instructions retired plus exceptions entered.
    pub icount: u64,
    /// NZCV in PSTATE layout (bits 31:28).
    pub nzcv: u32,
}

impl ArchRegs {
    /// Byte offset of X`n` (`n` < 31).
    pub const fn offset_x(n: u8) -> i32 {
        (offset_of!(ArchRegs, x) + 8 * n as usize) as i32
    }

    /// Byte offset of SP_EL0 (`el` 0) or SP_EL1 (`el` 1).
    pub const fn offset_sp(el: u8) -> i32 {
        (offset_of!(ArchRegs, sp) + 8 * (el & 1) as usize) as i32
    }

    /// Byte offset of the PC.
    pub const OFFSET_PC: i32 = offset_of!(ArchRegs, pc) as i32;
    /// Byte offset of the instruction counter.
    pub const OFFSET_ICOUNT: i32 = offset_of!(ArchRegs, icount) as i32;
    /// Byte offset of NZCV (a 32-bit field).
    pub const OFFSET_NZCV: i32 = offset_of!(ArchRegs, nzcv) as i32;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_the_declared_layout() {
        assert_eq!(ArchRegs::offset_x(0), 0);
        assert_eq!(ArchRegs::offset_x(30), 240);
        assert_eq!(ArchRegs::offset_sp(0), 248);
        assert_eq!(ArchRegs::offset_sp(1), 256);
        assert_eq!(ArchRegs::OFFSET_PC, 264);
        assert_eq!(ArchRegs::OFFSET_ICOUNT, 272);
        assert_eq!(ArchRegs::OFFSET_NZCV, 280);
    }
}

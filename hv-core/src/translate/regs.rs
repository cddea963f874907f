//! The general-purpose register file in a fixed `#[repr(C)]` layout: the
//! part of the CPU state that translated code reads and writes through one
//! pinned base register, at offsets taken from this struct
//! ([`ArchRegs::offset_x`] and friends), so the interpreter and the JIT
//! share one copy of the state and never copy it back and forth.

use core::mem::offset_of;

/// Entries per exception level in [`HostTlb`].
pub const HOST_TLB_ENTRIES: usize = 256;

/// One entry of the host TLB: a guest virtual page that is plain RAM, the
/// offset from its virtual addresses to the host addresses behind them,
/// and the tags under which loads and stores may use it.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostTlbEntry {
    /// The virtual page (`va & !0xfff`) loads may use, or [`HostTlbEntry::NONE`].
    pub read_tag: u64,
    /// The virtual page stores may use, or [`HostTlbEntry::NONE`] (also
    /// while the page holds translated code, so those stores take the slow
    /// path, which drops the code).
    pub write_tag: u64,
    /// Host address minus guest virtual address.
    pub addend: u64,
    /// The guest physical page behind it.
    pub pa_page: u64,
}

impl HostTlbEntry {
    /// A tag no access matches (its low 12 bits are not those of a page
    /// start).
    pub const NONE: u64 = u64::MAX;
    /// An empty entry.
    pub const EMPTY: HostTlbEntry = HostTlbEntry {
        read_tag: Self::NONE,
        write_tag: Self::NONE,
        addend: 0,
        pa_page: Self::NONE,
    };
}

/// Direct-mapped host TLBs for EL0 and EL1 accesses, indexed by virtual
/// page number: the JIT's inline fast path for guest loads and stores.
/// Filled by the slow path, emptied whenever the guest's translation may
/// have changed (see [`crate::translate::Cpu::flush_jump_cache`]).
pub type HostTlb = [[HostTlbEntry; HOST_TLB_ENTRIES]; 2];

/// Entries of the [`JumpTable`].
pub const JUMP_TABLE_ENTRIES: usize = 1024;

/// One entry of the [`JumpTable`]: compiled code for a guest virtual
/// address at one exception level and SPSel.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JumpTableEntry {
    /// [`JumpTableEntry::tag`] of the block's address, EL and SPSel, or
    /// [`JumpTableEntry::NONE`].
    pub tag: u64,
    /// The block's code.
    pub code: u64,
}

impl JumpTableEntry {
    /// A tag no block has: EL0 with SPSel 1 (the SP bit is always 0 at
    /// EL0) at address 0.
    pub const NONE: u64 = 2;
    /// An empty entry.
    pub const EMPTY: JumpTableEntry = JumpTableEntry {
        tag: Self::NONE,
        code: 0,
    };

    /// The tag of the block at `va` (4-byte aligned) run at `el` (0 or 1)
    /// with SPSel `spsel`: the address with EL and SPSel in its two low
    /// bits.
    pub const fn tag(va: u64, el: u8, spsel: bool) -> u64 {
        va | (el & 1) as u64 | ((spsel as u64) << 1)
    }

    /// The slot of `va`.
    pub const fn index(va: u64) -> usize {
        ((va >> 2) as usize) & (JUMP_TABLE_ENTRIES - 1)
    }
}

/// Direct-mapped table from guest virtual address (with EL and SPSel) to
/// compiled code: translated code's inline lookup for branches it cannot
/// chain (indirect branches, other pages), so they go straight to the
/// next block instead of through the run loop. Filled by the run loop,
/// emptied whenever code is dropped or the virtual-to-block associations
/// may have changed (with [`crate::translate::Cpu::flush_jump_cache`]).
pub type JumpTable = [JumpTableEntry; JUMP_TABLE_ENTRIES];

/// X0..X30, SP_EL0/SP_EL1, PC, NZCV and the instruction counter, the host
/// TLB of translated code's loads and stores and its jump table, and
/// V0..V31.
#[repr(C)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchRegs {
    /// X0..X30.
    pub x: [u64; 31],
    /// SP_EL0 and SP_EL1.
    pub sp: [u64; 2],
    /// The program counter.
    pub pc: u64,
    /// Instructions retired plus exceptions entered.
    pub icount: u64,
    /// Translated code may jump from one block straight into the next
    /// while `icount` is below this (the run loop sets it from its budget,
    /// or to 0 when it must see every block boundary).
    pub chain_limit: u64,
    /// NZCV in PSTATE layout (bits 31:28).
    pub nzcv: u32,
    /// What the JIT's inline floating-point paths may assume now
    /// ([`ArchRegs::FP_ENABLED`] and the bits after it); derived
    /// from EL, CPACR, FPCR and FPSR, recomputed whenever generated code is
    /// entered and after every instruction it runs in the interpreter (the
    /// only ways those can change under it). Unused by the interpreter.
    pub fp_fast: u32,
    /// The JIT's host TLB (unused by the interpreter).
    pub tlb: HostTlb,
    /// The JIT's jump table (unused by the interpreter).
    pub jumps: JumpTable,
    /// The SIMD&FP registers V0..V31 (here so that generated code can
    /// reach them from the same base register).
    pub v: [u128; 32],
    /// Constant tables with which generated code stores NZCV without
    /// touching the host's flags (so a compare's consumer can still test
    /// them): N, Z and C in PSTATE layout by LAHF's AH, after an addition
    /// (`[0]`) or a subtraction (`[1]`, C inverted)...
    pub nzcv_from_ah: [[u32; 256]; 2],
    /// ... and V by SETO's result (0 or 1).
    pub nzcv_from_of: [u32; 2],
}

/// [`ArchRegs::nzcv_from_ah`]`[sub]`.
const fn nzcv_from_ah(sub: bool) -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut ah = 0;
    while ah < 256 {
        // AH = SF:ZF:0:AF:0:PF:1:CF.
        let (sf, zf, cf) = ((ah >> 7) & 1, (ah >> 6) & 1, ah & 1);
        let c = if sub { cf ^ 1 } else { cf };
        t[ah as usize] = ((sf << 31) | (zf << 30) | (c << 29)) as u32;
        ah += 1;
    }
    t
}

impl Default for ArchRegs {
    fn default() -> Self {
        ArchRegs {
            x: [0; 31],
            sp: [0; 2],
            pc: 0,
            icount: 0,
            chain_limit: 0,
            nzcv: 0,
            fp_fast: 0,
            tlb: [[HostTlbEntry::EMPTY; HOST_TLB_ENTRIES]; 2],
            jumps: [JumpTableEntry::EMPTY; JUMP_TABLE_ENTRIES],
            v: [0; 32],
            nzcv_from_ah: [nzcv_from_ah(false), nzcv_from_ah(true)],
            nzcv_from_of: [0, 1 << 28],
        }
    }
}

impl ArchRegs {
    /// Byte offset of X`n` (`n` < 31).
    pub const fn offset_x(n: u8) -> i32 {
        (offset_of!(ArchRegs, x) + 8 * n as usize) as i32
    }

    /// Byte offset of V`n` (`n` < 32).
    pub const fn offset_v(n: u8) -> i32 {
        (offset_of!(ArchRegs, v) + 16 * (n & 31) as usize) as i32
    }

    /// Byte offset of SP_EL0 (`el` 0) or SP_EL1 (`el` 1).
    pub const fn offset_sp(el: u8) -> i32 {
        (offset_of!(ArchRegs, sp) + 8 * (el & 1) as usize) as i32
    }

    /// Byte offset of the PC.
    pub const OFFSET_PC: i32 = offset_of!(ArchRegs, pc) as i32;
    /// Byte offset of the instruction counter.
    pub const OFFSET_ICOUNT: i32 = offset_of!(ArchRegs, icount) as i32;
    /// Byte offset of [`ArchRegs::nzcv_from_ah`]`[sub]`.
    pub const fn offset_nzcv_from_ah(sub: bool) -> i32 {
        (offset_of!(ArchRegs, nzcv_from_ah) + 1024 * sub as usize) as i32
    }
    /// Byte offset of [`ArchRegs::nzcv_from_of`].
    pub const OFFSET_NZCV_FROM_OF: i32 = offset_of!(ArchRegs, nzcv_from_of) as i32;
    /// Byte offset of [`ArchRegs::fp_fast`].
    pub const OFFSET_FP_FAST: i32 = offset_of!(ArchRegs, fp_fast) as i32;
    /// `fp_fast` bit: SIMD&FP instructions are enabled at the current EL
    /// (CPACR_EL1.FPEN), so they do not trap.
    pub const FP_ENABLED: u32 = 1;
    /// `fp_fast` bit: [`ArchRegs::FP_ENABLED`] and FPCR.FZ clear, so a host
    /// compare of two ordered values gives Arm's NZCV and no exception
    /// flags.
    pub const FP_FAST_CMP: u32 = 2;
    /// `fp_fast` bit: [`ArchRegs::FP_FAST_CMP`], round to nearest even, and
    /// FPSR.IXC already set, so a host add, subtract, multiply or divide
    /// whose result is normal and finite is Arm's result and raises no flag
    /// that is not already raised.
    pub const FP_FAST_ARITH: u32 = 4;
    /// Byte offset of the chaining limit.
    pub const OFFSET_CHAIN_LIMIT: i32 = offset_of!(ArchRegs, chain_limit) as i32;
    /// Byte offset of NZCV (a 32-bit field).
    pub const OFFSET_NZCV: i32 = offset_of!(ArchRegs, nzcv) as i32;

    /// Byte offset of the host TLB of exception level `el` (0 or 1).
    pub const fn offset_tlb(el: u8) -> i32 {
        (offset_of!(ArchRegs, tlb)
            + (el & 1) as usize * HOST_TLB_ENTRIES * core::mem::size_of::<HostTlbEntry>())
            as i32
    }

    /// The host TLB slot of virtual address `va`.
    pub const fn tlb_index(va: u64) -> usize {
        ((va >> 12) as usize) & (HOST_TLB_ENTRIES - 1)
    }

    /// Byte offsets of the fields of a [`HostTlbEntry`].
    pub const OFFSET_TLB_READ: i32 = offset_of!(HostTlbEntry, read_tag) as i32;
    /// See [`ArchRegs::OFFSET_TLB_READ`].
    pub const OFFSET_TLB_WRITE: i32 = offset_of!(HostTlbEntry, write_tag) as i32;
    /// See [`ArchRegs::OFFSET_TLB_READ`].
    pub const OFFSET_TLB_ADDEND: i32 = offset_of!(HostTlbEntry, addend) as i32;

    /// Byte offset of the jump table.
    pub const OFFSET_JUMPS: i32 = offset_of!(ArchRegs, jumps) as i32;
    /// Byte offsets of the fields of a [`JumpTableEntry`].
    pub const OFFSET_JUMP_TAG: i32 = offset_of!(JumpTableEntry, tag) as i32;
    /// See [`ArchRegs::OFFSET_JUMP_TAG`].
    pub const OFFSET_JUMP_CODE: i32 = offset_of!(JumpTableEntry, code) as i32;
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
        assert_eq!(ArchRegs::OFFSET_CHAIN_LIMIT, 280);
        assert_eq!(ArchRegs::OFFSET_NZCV, 288);
        assert_eq!(ArchRegs::offset_tlb(0), 296);
        assert_eq!(ArchRegs::offset_tlb(1), 296 + 256 * 32);
        assert_eq!(core::mem::size_of::<HostTlbEntry>(), 32);
        assert_eq!(ArchRegs::OFFSET_JUMPS, 296 + 2 * 256 * 32);
        assert_eq!(core::mem::size_of::<JumpTableEntry>(), 16);
        assert_eq!(ArchRegs::OFFSET_JUMP_CODE, 8);
        // After the jump table, padded by 8 bytes to u128's alignment.
        assert_eq!(ArchRegs::offset_v(0), 296 + 2 * 256 * 32 + 1024 * 16 + 8);
        assert_eq!(ArchRegs::offset_v(31) - ArchRegs::offset_v(0), 31 * 16);
        assert_eq!(ArchRegs::offset_v(0) % 16, 0, "V registers 16-byte aligned");
    }

    #[test]
    fn jump_tags_tell_el_and_spsel_apart_and_never_match_empty() {
        let va = 0xffff_0000_1234_5678;
        let tags = [
            JumpTableEntry::tag(va, 0, false),
            JumpTableEntry::tag(va, 1, false),
            JumpTableEntry::tag(va, 1, true),
        ];
        assert_eq!(tags, [va, va | 1, va | 3]);
        // EL0 runs with SPSel 0, so no block's tag is NONE.
        for el in 0..2u8 {
            for spsel in [el == 1, false] {
                assert_ne!(JumpTableEntry::tag(0, el, spsel), JumpTableEntry::NONE);
            }
        }
        assert_eq!(JumpTableEntry::index(va), (0x5678 >> 2) & 1023);
    }
}

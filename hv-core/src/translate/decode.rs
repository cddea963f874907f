//! The A64 decoder: one 32-bit instruction word to one [`Insn`].
//!
//! Coverage: the base integer ISA (data processing immediate and register,
//! shifts, extends, conditional compare/select, bitfield, multiply/divide,
//! CRC32, PC-relative addressing, all branches, the load/store addressing
//! modes incl. pairs, exclusives and acquire/release, the LSE atomics of
//! [`super::atomics`]), the system
//! instructions of a kernel guest, and the FP/SIMD subset of [`super::fp`]
//! and the interpreter. Anything else, including every reserved or
//! unallocated encoding the decoder recognises as such, is
//! [`Insn::Undefined`]: decoding never panics.
//!
//! Register fields: a register number is a 5-bit field, so it is 0..=31.
//! The decoder resolves the encoding's meaning of 31: it keeps 31 ([`ZR`])
//! where the instruction reads the zero register and turns it into [`SP`]
//! (32) where it means the stack pointer. FP/SIMD register numbers are
//! 0..=31.

/// Register number of the zero register (XZR/WZR).
pub const ZR: u8 = 31;
/// Register number the decoder uses for the stack pointer.
pub const SP: u8 = 32;

pub use super::cond::Cond;

/// Shift of a shifted-register operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shift {
    /// Logical shift left.
    Lsl,
    /// Logical shift right.
    Lsr,
    /// Arithmetic shift right.
    Asr,
    /// Rotate right (logical instructions only).
    Ror,
}

/// Extension of an extended-register operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extend {
    /// Zero-extend the low byte.
    Uxtb,
    /// Zero-extend the low halfword.
    Uxth,
    /// Zero-extend the low word.
    Uxtw,
    /// The whole register.
    Uxtx,
    /// Sign-extend the low byte.
    Sxtb,
    /// Sign-extend the low halfword.
    Sxth,
    /// Sign-extend the low word.
    Sxtw,
    /// The whole register.
    Sxtx,
}

impl Extend {
    /// From the 3-bit `option` field.
    pub const fn from_option(option: u32) -> Extend {
        match option & 7 {
            0 => Extend::Uxtb,
            1 => Extend::Uxth,
            2 => Extend::Uxtw,
            3 => Extend::Uxtx,
            4 => Extend::Sxtb,
            5 => Extend::Sxth,
            6 => Extend::Sxtw,
            _ => Extend::Sxtx,
        }
    }

    /// Apply the extension to `v`.
    pub const fn apply(self, v: u64) -> u64 {
        match self {
            Extend::Uxtb => v as u8 as u64,
            Extend::Uxth => v as u16 as u64,
            Extend::Uxtw => v as u32 as u64,
            Extend::Uxtx | Extend::Sxtx => v,
            Extend::Sxtb => v as i8 as i64 as u64,
            Extend::Sxth => v as i16 as i64 as u64,
            Extend::Sxtw => v as i32 as i64 as u64,
        }
    }
}

/// Bitwise operation of the logical instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogicOp {
    /// AND.
    And,
    /// ORR.
    Orr,
    /// EOR.
    Eor,
    /// ANDS (sets flags).
    Ands,
}

/// Move-wide variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MovWide {
    /// MOVN: NOT of the shifted immediate.
    N,
    /// MOVZ: the shifted immediate.
    Z,
    /// MOVK: insert the immediate, keep the other bits.
    K,
}

/// Bitfield-move variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bitfield {
    /// SBFM (SBFX, SBFIZ, ASR, SXTB...).
    Sbfm,
    /// BFM (BFI, BFXIL).
    Bfm,
    /// UBFM (UBFX, UBFIZ, LSL, LSR, UXTB...).
    Ubfm,
}

/// Conditional-select variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Csel {
    /// Rn if cond else Rm.
    Csel,
    /// Rn if cond else Rm + 1.
    Csinc,
    /// Rn if cond else !Rm.
    Csinv,
    /// Rn if cond else -Rm.
    Csneg,
}

/// Two-source data processing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dp2 {
    /// Unsigned divide (x/0 = 0).
    Udiv,
    /// Signed divide (x/0 = 0, MIN/-1 = MIN).
    Sdiv,
    /// Shift left by register.
    Lslv,
    /// Logical shift right by register.
    Lsrv,
    /// Arithmetic shift right by register.
    Asrv,
    /// Rotate right by register.
    Rorv,
    /// CRC32 (`castagnoli`: CRC32C) over 1 << `size_log2` bytes of Rm.
    Crc32 {
        /// log2 of the number of bytes of Rm consumed.
        size_log2: u8,
        /// CRC-32C polynomial instead of CRC-32.
        castagnoli: bool,
    },
}

/// One-source data processing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dp1 {
    /// Bit reverse.
    Rbit,
    /// Reverse bytes in each halfword.
    Rev16,
    /// Reverse bytes in each word (64-bit only).
    Rev32,
    /// Reverse bytes.
    Rev,
    /// Count leading zeros.
    Clz,
    /// Count leading sign bits.
    Cls,
}

/// Three-source (multiply) data processing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dp3 {
    /// Ra + Rn * Rm.
    Madd,
    /// Ra - Rn * Rm.
    Msub,
    /// Ra + sext(Wn) * sext(Wm).
    Smaddl,
    /// Ra - sext(Wn) * sext(Wm).
    Smsubl,
    /// Ra + zext(Wn) * zext(Wm).
    Umaddl,
    /// Ra - zext(Wn) * zext(Wm).
    Umsubl,
    /// High 64 bits of the signed 128-bit product.
    Smulh,
    /// High 64 bits of the unsigned 128-bit product.
    Umulh,
}

/// Branch-to-register variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BranchReg {
    /// BR.
    Br,
    /// BLR.
    Blr,
    /// RET.
    Ret,
}

/// Barrier and monitor instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Barrier {
    /// Data synchronization barrier.
    Dsb,
    /// Data memory barrier.
    Dmb,
    /// Instruction synchronization barrier (ends the block).
    Isb,
    /// Clear the exclusive monitor.
    Clrex,
}

/// PSTATE field written by MSR (immediate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PstateField {
    /// SPSel.
    SpSel,
    /// Set DAIF bits.
    DaifSet,
    /// Clear DAIF bits.
    DaifClr,
}

/// Address computation of a load or store. Offsets are already scaled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddrMode {
    /// `[Rn, #off]`.
    Offset(i64),
    /// `[Rn, #off]!` (write back before the access).
    Pre(i64),
    /// `[Rn], #off` (write back after the access).
    Post(i64),
    /// `[Rn, Rm, ext #shift]`.
    Reg {
        /// Index register (31 = XZR).
        rm: u8,
        /// Extension of the index.
        ext: Extend,
        /// Left shift after the extension.
        shift: u8,
    },
    /// PC-relative literal: `[PC + off]`.
    Literal(i64),
}

/// What a single-register load/store does with its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemKind {
    /// Store Rt.
    Store,
    /// Load, zero-extended.
    Load,
    /// Load, sign-extended to 64 bits.
    LoadSx64,
    /// Load, sign-extended to 32 bits (upper 32 bits zero).
    LoadSx32,
    /// Prefetch (no access).
    Prefetch,
}

/// Load/store data description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemOp {
    /// log2 of the access size in bytes (0..=4; 4 only for SIMD&FP Q).
    pub size_log2: u8,
    /// Store, load and its extension.
    pub kind: MemKind,
    /// Rt is a SIMD&FP register (B/H/S/D/Q).
    pub fp: bool,
    /// LDTR/STTR: EL0 permissions even at EL1.
    pub unpriv: bool,
}

/// Exclusive and ordered (acquire/release) accesses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExclKind {
    /// LDXR/LDAXR (and LDXP/LDAXP with `pair`).
    LoadExcl,
    /// STXR/STLXR (and STXP/STLXP); status in Rs.
    StoreExcl,
    /// LDAR/LDLAR.
    LoadAcquire,
    /// STLR/STLLR.
    StoreRelease,
}

/// A decoded instruction: the unit of the block IR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // fields follow the Arm ARM operand names
pub enum Insn {
    /// Unallocated, reserved or unimplemented: raises Undefined Instruction.
    Undefined,
    /// A hint that does nothing here (NOP, YIELD, SEV, SEVL, PAC hints...).
    Nop,
    /// Wait for interrupt.
    Wfi,
    /// Wait for event.
    Wfe,
    /// ADR (`page`: ADRP) — `imm` is the byte (or page-scaled) offset.
    Adr { rd: u8, imm: i64, page: bool },
    /// ADD/SUB (immediate) and the flag-setting forms.
    AddSubImm {
        sf: bool,
        sub: bool,
        s: bool,
        rd: u8,
        rn: u8,
        imm: u64,
    },
    /// AND/ORR/EOR/ANDS (immediate); `imm` is the decoded bitmask.
    LogicImm {
        sf: bool,
        op: LogicOp,
        rd: u8,
        rn: u8,
        imm: u64,
    },
    /// MOVN/MOVZ/MOVK.
    MovWide {
        sf: bool,
        op: MovWide,
        rd: u8,
        imm16: u16,
        shift: u8,
    },
    /// SBFM/BFM/UBFM.
    Bitfield {
        sf: bool,
        op: Bitfield,
        rd: u8,
        rn: u8,
        immr: u8,
        imms: u8,
    },
    /// EXTR.
    Extr {
        sf: bool,
        rd: u8,
        rn: u8,
        rm: u8,
        lsb: u8,
    },
    /// Logical (shifted register); `invert` is the N bit (BIC, ORN, EON, BICS).
    LogicReg {
        sf: bool,
        op: LogicOp,
        invert: bool,
        shift: Shift,
        amount: u8,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    /// ADD/SUB (shifted register).
    AddSubReg {
        sf: bool,
        sub: bool,
        s: bool,
        shift: Shift,
        amount: u8,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    /// ADD/SUB (extended register).
    AddSubExt {
        sf: bool,
        sub: bool,
        s: bool,
        ext: Extend,
        amount: u8,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    /// ADC/ADCS/SBC/SBCS.
    AddSubCarry {
        sf: bool,
        sub: bool,
        s: bool,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    /// CCMN/CCMP; `imm` selects `rm_imm` as a 5-bit immediate.
    CondCmp {
        sf: bool,
        sub: bool,
        imm: bool,
        rn: u8,
        rm_imm: u8,
        cond: Cond,
        nzcv: u8,
    },
    /// CSEL/CSINC/CSINV/CSNEG.
    CondSel {
        sf: bool,
        op: Csel,
        rd: u8,
        rn: u8,
        rm: u8,
        cond: Cond,
    },
    /// Two-source data processing.
    Dp2 {
        sf: bool,
        op: Dp2,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    /// One-source data processing.
    Dp1 { sf: bool, op: Dp1, rd: u8, rn: u8 },
    /// Multiply-add family.
    Dp3 {
        sf: bool,
        op: Dp3,
        rd: u8,
        rn: u8,
        rm: u8,
        ra: u8,
    },
    /// B / BL to PC + `off`.
    B { off: i64, link: bool },
    /// B.cond to PC + `off`.
    BCond { cond: Cond, off: i64 },
    /// CBZ/CBNZ.
    Cbz {
        sf: bool,
        nz: bool,
        rt: u8,
        off: i64,
    },
    /// TBZ/TBNZ.
    Tbz { nz: bool, bit: u8, rt: u8, off: i64 },
    /// BR/BLR/RET.
    BrReg { op: BranchReg, rn: u8 },
    /// ERET.
    Eret,
    /// SVC #imm.
    Svc { imm: u16 },
    /// HVC #imm.
    Hvc { imm: u16 },
    /// SMC #imm.
    Smc { imm: u16 },
    /// BRK #imm.
    Brk { imm: u16 },
    /// DSB/DMB/ISB/CLREX.
    Barrier(Barrier),
    /// MSR (immediate) to a PSTATE field.
    MsrImm { field: PstateField, imm: u8 },
    /// SYS: DC, IC, AT and TLBI (`op1:CRn:CRm:op2`).
    Sys {
        op1: u8,
        crn: u8,
        crm: u8,
        op2: u8,
        rt: u8,
    },
    /// MRS Xt, `<reg>`.
    Mrs {
        reg: super::sysreg::SysRegEnc,
        rt: u8,
    },
    /// MSR `<reg>`, Xt.
    Msr {
        reg: super::sysreg::SysRegEnc,
        rt: u8,
    },
    /// Single-register load/store (all addressing modes, incl. literal).
    Mem {
        op: MemOp,
        rt: u8,
        rn: u8,
        mode: AddrMode,
    },
    /// Load/store pair (LDP/STP/LDNP/STNP/LDPSW and the FP forms).
    Pair {
        op: MemOp,
        rt: u8,
        rt2: u8,
        rn: u8,
        mode: AddrMode,
    },
    /// Exclusive, acquire and release accesses.
    Excl {
        kind: ExclKind,
        size_log2: u8,
        pair: bool,
        rs: u8,
        rt: u8,
        rt2: u8,
        rn: u8,
    },
    /// A floating-point or SIMD instruction (see [`super::fp`]).
    Fp(super::fp::FpInsn),
    /// An LSE atomic: CAS, CASP, SWP, `LD<op>` (see [`super::atomics`]).
    Atomic(super::atomics::AtomicOp),
}

impl Insn {
    /// Whether the instruction ends a translated block: it may change the
    /// PC other than by falling through, change the exception level, the
    /// interrupt masks or the system state the next block is translated
    /// under, or always raise an exception.
    pub fn ends_block(&self) -> bool {
        matches!(
            self,
            Insn::Undefined
                | Insn::Wfi
                | Insn::Wfe
                | Insn::B { .. }
                | Insn::BCond { .. }
                | Insn::Cbz { .. }
                | Insn::Tbz { .. }
                | Insn::BrReg { .. }
                | Insn::Eret
                | Insn::Svc { .. }
                | Insn::Hvc { .. }
                | Insn::Smc { .. }
                | Insn::Brk { .. }
                | Insn::Barrier(Barrier::Isb)
                | Insn::MsrImm { .. }
                | Insn::Msr { .. }
                | Insn::Sys { .. }
        )
    }

    /// Whether the instruction writes NZCV (when its flags are live).
    pub fn writes_flags(&self) -> bool {
        match *self {
            Insn::AddSubImm { s, .. }
            | Insn::AddSubReg { s, .. }
            | Insn::AddSubExt { s, .. }
            | Insn::AddSubCarry { s, .. } => s,
            Insn::LogicImm { op, .. } | Insn::LogicReg { op, .. } => op == LogicOp::Ands,
            Insn::CondCmp { .. } => true,
            Insn::Fp(f) => f.writes_flags(),
            _ => false,
        }
    }

    /// Whether the instruction reads NZCV (explicitly, or because it can
    /// leave the block or raise an exception, which saves PSTATE).
    pub fn reads_flags(&self) -> bool {
        match *self {
            Insn::AddSubCarry { .. }
            | Insn::CondCmp { .. }
            | Insn::CondSel { .. }
            | Insn::BCond { .. }
            | Insn::Mrs { .. } => true,
            Insn::Mem { .. } | Insn::Pair { .. } | Insn::Excl { .. } | Insn::Atomic(_) => true,
            Insn::Fp(f) => f.reads_flags(),
            other => other.ends_block(),
        }
    }
}

/// Bits `hi..=lo` of `w`.
#[inline]
const fn bits(w: u32, hi: u32, lo: u32) -> u32 {
    (w >> lo) & ((1u32 << (hi - lo + 1)) - 1)
}

/// Bit `b` of `w`.
#[inline]
const fn bit(w: u32, b: u32) -> bool {
    (w >> b) & 1 != 0
}

/// Sign-extend the low `n` bits of `v`.
#[inline]
const fn sext(v: u32, n: u32) -> i64 {
    let shift = 64 - n;
    ((v as u64) << shift) as i64 >> shift
}

/// A register field where 31 means the zero register.
#[inline]
const fn rz(w: u32, lo: u32) -> u8 {
    bits(w, lo + 4, lo) as u8
}

/// A register field where 31 means SP.
#[inline]
const fn rs(w: u32, lo: u32) -> u8 {
    let r = bits(w, lo + 4, lo) as u8;
    if r == 31 {
        SP
    } else {
        r
    }
}

/// `DecodeBitMasks(N, imms, immr, immediate=TRUE)` of the Arm ARM: the
/// bitmask of a logical immediate, replicated to 64 bits (the caller
/// truncates for 32-bit operations). `None` for reserved encodings.
pub fn decode_bit_masks(n: bool, imms: u32, immr: u32, sf: bool) -> Option<u64> {
    let combined = (u32::from(n) << 6) | (!imms & 0x3f);
    if combined == 0 {
        return None;
    }
    let len = 31 - combined.leading_zeros(); // index of the highest set bit
    if len < 1 || (!sf && len > 5) {
        return None;
    }
    let esize = 1u32 << len;
    let levels = esize - 1;
    let s = imms & levels;
    let r = immr & levels;
    if s == levels {
        return None;
    }
    let emask = if esize == 64 {
        u64::MAX
    } else {
        (1u64 << esize) - 1
    };
    let welem = (1u64 << (s + 1)) - 1; // s + 1 <= 63 here
    let rotated = if r == 0 {
        welem
    } else {
        ((welem >> r) | (welem << (esize - r))) & emask
    };
    let mut out = 0u64;
    let mut pos = 0;
    while pos < 64 {
        out |= rotated << pos;
        pos += esize;
    }
    Some(out)
}

/// Decode one instruction word.
pub fn decode(w: u32) -> Insn {
    match bits(w, 28, 25) {
        0b1000 | 0b1001 => decode_dp_imm(w),
        0b1010 | 0b1011 => decode_branch_sys(w),
        0b0100 | 0b0110 | 0b1100 | 0b1110 => decode_ldst(w),
        0b0101 | 0b1101 => decode_dp_reg(w),
        0b0111 | 0b1111 => super::fp::decode(w).map_or(Insn::Undefined, Insn::Fp),
        _ => Insn::Undefined,
    }
}

fn decode_dp_imm(w: u32) -> Insn {
    let sf = bit(w, 31);
    let rd = rz(w, 0);
    let rn = rz(w, 5);
    match bits(w, 25, 23) {
        0b000 | 0b001 => {
            let imm = sext((bits(w, 23, 5) << 2) | bits(w, 30, 29), 21);
            let page = bit(w, 31);
            Insn::Adr {
                rd,
                imm: if page { imm << 12 } else { imm },
                page,
            }
        }
        0b010 => {
            let s = bit(w, 29);
            let imm = u64::from(bits(w, 21, 10)) << if bit(w, 22) { 12 } else { 0 };
            Insn::AddSubImm {
                sf,
                sub: bit(w, 30),
                s,
                rd: if s { rd } else { rs(w, 0) },
                rn: rs(w, 5),
                imm,
            }
        }
        0b100 => {
            let op = logic_op(bits(w, 30, 29));
            let Some(mut imm) = decode_bit_masks(bit(w, 22), bits(w, 15, 10), bits(w, 21, 16), sf)
            else {
                return Insn::Undefined;
            };
            if !sf {
                imm &= 0xffff_ffff;
            }
            Insn::LogicImm {
                sf,
                op,
                rd: if op == LogicOp::Ands { rd } else { rs(w, 0) },
                rn,
                imm,
            }
        }
        0b101 => {
            let hw = bits(w, 22, 21);
            if !sf && hw >= 2 {
                return Insn::Undefined;
            }
            let op = match bits(w, 30, 29) {
                0b00 => MovWide::N,
                0b10 => MovWide::Z,
                0b11 => MovWide::K,
                _ => return Insn::Undefined,
            };
            Insn::MovWide {
                sf,
                op,
                rd,
                imm16: bits(w, 20, 5) as u16,
                shift: (hw * 16) as u8,
            }
        }
        0b110 => {
            let n = bit(w, 22);
            let immr = bits(w, 21, 16);
            let imms = bits(w, 15, 10);
            if sf != n || (!sf && (immr >= 32 || imms >= 32)) {
                return Insn::Undefined;
            }
            let op = match bits(w, 30, 29) {
                0b00 => Bitfield::Sbfm,
                0b01 => Bitfield::Bfm,
                0b10 => Bitfield::Ubfm,
                _ => return Insn::Undefined,
            };
            Insn::Bitfield {
                sf,
                op,
                rd,
                rn,
                immr: immr as u8,
                imms: imms as u8,
            }
        }
        0b111 => {
            let imms = bits(w, 15, 10);
            if bits(w, 30, 29) != 0 || bit(w, 21) || sf != bit(w, 22) || (!sf && imms >= 32) {
                return Insn::Undefined;
            }
            Insn::Extr {
                sf,
                rd,
                rn,
                rm: rz(w, 16),
                lsb: imms as u8,
            }
        }
        _ => Insn::Undefined,
    }
}

fn logic_op(opc: u32) -> LogicOp {
    match opc & 3 {
        0 => LogicOp::And,
        1 => LogicOp::Orr,
        2 => LogicOp::Eor,
        _ => LogicOp::Ands,
    }
}

fn decode_branch_sys(w: u32) -> Insn {
    if bits(w, 30, 26) == 0b00101 {
        return Insn::B {
            off: sext(bits(w, 25, 0), 26) << 2,
            link: bit(w, 31),
        };
    }
    if bits(w, 31, 24) == 0b0101_0100 {
        if bit(w, 4) {
            return Insn::Undefined;
        }
        return Insn::BCond {
            cond: bits(w, 3, 0) as u8,
            off: sext(bits(w, 23, 5), 19) << 2,
        };
    }
    match bits(w, 30, 25) {
        0b011010 => {
            return Insn::Cbz {
                sf: bit(w, 31),
                nz: bit(w, 24),
                rt: rz(w, 0),
                off: sext(bits(w, 23, 5), 19) << 2,
            }
        }
        0b011011 => {
            return Insn::Tbz {
                nz: bit(w, 24),
                bit: ((bits(w, 31, 31) << 5) | bits(w, 23, 19)) as u8,
                rt: rz(w, 0),
                off: sext(bits(w, 18, 5), 14) << 2,
            }
        }
        _ => {}
    }
    if bits(w, 31, 24) == 0b1101_0100 {
        let imm = bits(w, 20, 5) as u16;
        return match (bits(w, 23, 21), bits(w, 4, 2), bits(w, 1, 0)) {
            (0b000, 0, 0b01) => Insn::Svc { imm },
            (0b000, 0, 0b10) => Insn::Hvc { imm },
            (0b000, 0, 0b11) => Insn::Smc { imm },
            (0b001, 0, 0b00) => Insn::Brk { imm },
            _ => Insn::Undefined,
        };
    }
    if bits(w, 31, 22) == 0b11_0101_0100 {
        return decode_system(w);
    }
    if bits(w, 31, 25) == 0b110_1011 {
        let rn = rz(w, 5);
        // op2 must be 11111, op3 and op4 zero for the non-PAC forms.
        if bits(w, 20, 16) != 0b11111 || bits(w, 15, 10) != 0 || bits(w, 4, 0) != 0 {
            return Insn::Undefined;
        }
        return match bits(w, 24, 21) {
            0b0000 => Insn::BrReg {
                op: BranchReg::Br,
                rn,
            },
            0b0001 => Insn::BrReg {
                op: BranchReg::Blr,
                rn,
            },
            0b0010 => Insn::BrReg {
                op: BranchReg::Ret,
                rn,
            },
            0b0100 if rn == 31 => Insn::Eret,
            _ => Insn::Undefined,
        };
    }
    Insn::Undefined
}

fn decode_system(w: u32) -> Insn {
    let l = bit(w, 21);
    let op0 = bits(w, 20, 19) as u8;
    let op1 = bits(w, 18, 16) as u8;
    let crn = bits(w, 15, 12) as u8;
    let crm = bits(w, 11, 8) as u8;
    let op2 = bits(w, 7, 5) as u8;
    let rt = rz(w, 0);
    match (l, op0) {
        (false, 0) => {
            // Hints and barriers have op1 = 011; other op1 values are
            // unallocated (LLVM prints them as `msr S0_<op1>_...`).
            if crn == 0b0010 && rt == 31 && op1 == 0b011 {
                // Hints: everything not listed executes as NOP.
                return match (crm, op2) {
                    (0, 2) => Insn::Wfe,
                    (0, 3) => Insn::Wfi,
                    _ => Insn::Nop,
                };
            }
            if crn == 0b0011 && rt == 31 && op1 == 0b011 {
                return match op2 {
                    0b010 => Insn::Barrier(Barrier::Clrex),
                    // CRm = 0000 and 0100 are SSBB and PSSBB, DSB encodings
                    // every ARMv8.0 CPU has (a DSB here).
                    0b100 => Insn::Barrier(Barrier::Dsb),
                    0b101 => Insn::Barrier(Barrier::Dmb),
                    0b110 => Insn::Barrier(Barrier::Isb),
                    _ => Insn::Undefined,
                };
            }
            if crn == 0b0100 && rt == 31 {
                let field = match (op1, op2) {
                    (0b000, 0b101) => PstateField::SpSel,
                    (0b011, 0b110) => PstateField::DaifSet,
                    (0b011, 0b111) => PstateField::DaifClr,
                    _ => return Insn::Undefined,
                };
                return Insn::MsrImm { field, imm: crm };
            }
            Insn::Undefined
        }
        (false, 1) if sys_allocated(op1, crn, crm, op2) => Insn::Sys {
            op1,
            crn,
            crm,
            op2,
            rt,
        },
        (_, 2) | (_, 3) => {
            let reg = super::sysreg::SysRegEnc::new(op0, op1, crn, crm, op2);
            if l {
                Insn::Mrs { reg, rt }
            } else {
                Insn::Msr { reg, rt }
            }
        }
        _ => Insn::Undefined,
    }
}

/// The SYS operations of ARMv8.0 at EL0/EL1 (`op1:CRn:CRm:op2`): IC
/// IALLUIS/IALLU/IVAU, DC IVAC/ISW/CSW/CISW/ZVA/CVAC/CVAU/CIVAC, AT
/// S1E1R/S1E1W/S1E0R/S1E0W and the TLBI ...E1 operations. Everything else
/// is UNDEFINED here: EL2/EL3 operations (op1 = 4 or 6; this CPU has no
/// EL2/EL3), later extensions' (DC CVAP, AT S1E1RP, TLBI ranges and
/// outer-shareable forms, none advertised) and the unallocated slots.
fn sys_allocated(op1: u8, crn: u8, crm: u8, op2: u8) -> bool {
    matches!(
        (op1, crn, crm, op2),
        (0, 7, 1 | 5, 0)
            | (3, 7, 5, 1)
            | (0, 7, 6, 1 | 2)
            | (0, 7, 10 | 14, 2)
            | (3, 7, 4 | 10 | 11 | 14, 1)
            | (0, 7, 8, 0..=3)
            | (0, 8, 3 | 7, 0 | 1 | 2 | 3 | 5 | 7)
    )
}

fn decode_ldst(w: u32) -> Insn {
    let size = bits(w, 31, 30);
    let v = bit(w, 26);
    let rt = rz(w, 0);
    match bits(w, 29, 27) {
        0b001 if !v && bits(w, 25, 24) == 0 => decode_excl(w),
        0b001 if v => super::fp::decode_ldst_simd(w).map_or(Insn::Undefined, Insn::Fp),
        0b011 if bits(w, 25, 24) == 0 => {
            let off = sext(bits(w, 23, 5), 19) << 2;
            let op = if v {
                let size_log2 = match size {
                    0 => 2,
                    1 => 3,
                    2 => 4,
                    _ => return Insn::Undefined,
                };
                MemOp {
                    size_log2,
                    kind: MemKind::Load,
                    fp: true,
                    unpriv: false,
                }
            } else {
                let (size_log2, kind) = match size {
                    0 => (2, MemKind::Load),
                    1 => (3, MemKind::Load),
                    2 => (2, MemKind::LoadSx64),
                    _ => (3, MemKind::Prefetch),
                };
                MemOp {
                    size_log2,
                    kind,
                    fp: false,
                    unpriv: false,
                }
            };
            Insn::Mem {
                op,
                rt,
                rn: ZR,
                mode: AddrMode::Literal(off),
            }
        }
        0b101 => decode_pair(w),
        0b111 => decode_ldst_reg(w),
        _ => Insn::Undefined,
    }
}

fn decode_excl(w: u32) -> Insn {
    let size_log2 = bits(w, 31, 30) as u8;
    let o2 = bit(w, 23);
    let l = bit(w, 22);
    let o1 = bit(w, 21);
    let o0 = bit(w, 15);
    let rs_field = rz(w, 16);
    let rt2 = rz(w, 10);
    let rt = rz(w, 0);
    let rn = rs(w, 5);
    // CAS (o2 = o1 = 1) and CASP (o2 = 0, o1 = 1, size 0x): FEAT_LSE.
    if o1 && (o2 || size_log2 < 2) {
        return super::atomics::decode_cas(w);
    }
    let (kind, pair) = match (o2, o1, l) {
        (false, false, false) => (ExclKind::StoreExcl, false),
        (false, false, true) => (ExclKind::LoadExcl, false),
        (false, true, false) if size_log2 >= 2 => (ExclKind::StoreExcl, true),
        (false, true, true) if size_log2 >= 2 => (ExclKind::LoadExcl, true),
        // STLR/LDAR; o0 = 0 is STLLR/LDLAR (FEAT_LOR, not implemented).
        (true, false, false) if o0 => (ExclKind::StoreRelease, false),
        (true, false, true) if o0 => (ExclKind::LoadAcquire, false),
        _ => return Insn::Undefined,
    };
    // o0 (acquire/release) of the exclusives needs no action on one CPU:
    // accesses are performed in program order. Rs and Rt2 where the form has none are
    // should-be-one fields; other values are CONSTRAINED UNPREDICTABLE and
    // this CPU executes them as if they were all ones (as LLVM decodes them).
    Insn::Excl {
        kind,
        size_log2: if pair { size_log2 & 1 | 2 } else { size_log2 },
        pair,
        rs: rs_field,
        rt,
        rt2,
        rn,
    }
}

fn decode_pair(w: u32) -> Insn {
    let opc = bits(w, 31, 30);
    let v = bit(w, 26);
    let l = bit(w, 22);
    let (size_log2, kind) = if v {
        let s = match opc {
            0 => 2,
            1 => 3,
            2 => 4,
            _ => return Insn::Undefined,
        };
        (s, if l { MemKind::Load } else { MemKind::Store })
    } else {
        match (opc, l) {
            (0, false) => (2, MemKind::Store),
            (0, true) => (2, MemKind::Load),
            (1, true) => (2, MemKind::LoadSx64),
            (2, false) => (3, MemKind::Store),
            (2, true) => (3, MemKind::Load),
            _ => return Insn::Undefined,
        }
    };
    let off = sext(bits(w, 21, 15), 7) << size_log2;
    let mode = match bits(w, 25, 23) {
        0b000 if kind != MemKind::LoadSx64 => AddrMode::Offset(off),
        0b001 => AddrMode::Post(off),
        0b010 => AddrMode::Offset(off),
        0b011 => AddrMode::Pre(off),
        _ => return Insn::Undefined,
    };
    Insn::Pair {
        op: MemOp {
            size_log2,
            kind,
            fp: v,
            unpriv: false,
        },
        rt: rz(w, 0),
        rt2: rz(w, 10),
        rn: rs(w, 5),
        mode,
    }
}

/// The data part of a single-register load/store from `size`, `V`, `opc`.
fn single_op(size: u32, v: bool, opc: u32) -> Option<MemOp> {
    if v {
        let size_log2 = match (size, opc >> 1) {
            (s, 0) => s as u8,
            (0, 1) => 4,
            _ => return None,
        };
        let kind = if opc & 1 != 0 {
            MemKind::Load
        } else {
            MemKind::Store
        };
        return Some(MemOp {
            size_log2,
            kind,
            fp: true,
            unpriv: false,
        });
    }
    let kind = match (size, opc) {
        (_, 0) => MemKind::Store,
        (_, 1) => MemKind::Load,
        (3, 2) => MemKind::Prefetch,
        (3, 3) | (2, 3) => return None,
        (_, 2) => MemKind::LoadSx64,
        _ => MemKind::LoadSx32,
    };
    Some(MemOp {
        size_log2: size as u8,
        kind,
        fp: false,
        unpriv: false,
    })
}

fn decode_ldst_reg(w: u32) -> Insn {
    let size = bits(w, 31, 30);
    let v = bit(w, 26);
    let opc = bits(w, 23, 22);
    let rt = rz(w, 0);
    let rn = rs(w, 5);
    if bits(w, 25, 24) == 0 && bit(w, 21) && bits(w, 11, 10) == 0 {
        // Atomic memory operations (FEAT_LSE).
        return super::atomics::decode_amo(w);
    }
    let Some(mut op) = single_op(size, v, opc) else {
        return Insn::Undefined;
    };
    let mode = if bit(w, 24) {
        AddrMode::Offset(i64::from(bits(w, 21, 10)) << op.size_log2)
    } else if bits(w, 25, 24) != 0 {
        return Insn::Undefined;
    } else if !bit(w, 21) {
        let imm = sext(bits(w, 20, 12), 9);
        match bits(w, 11, 10) {
            0b00 => AddrMode::Offset(imm),
            0b01 => AddrMode::Post(imm),
            0b10 => {
                if v {
                    return Insn::Undefined;
                }
                op.unpriv = true;
                AddrMode::Offset(imm)
            }
            _ => AddrMode::Pre(imm),
        }
    } else if bits(w, 11, 10) == 0b10 {
        let option = bits(w, 15, 13);
        if option & 0b010 == 0 {
            return Insn::Undefined;
        }
        AddrMode::Reg {
            rm: rz(w, 16),
            ext: Extend::from_option(option),
            shift: if bit(w, 12) { op.size_log2 } else { 0 },
        }
    } else {
        // PAC loads (LDRAA/LDRAB, FEAT_PAuth): not implemented.
        return Insn::Undefined;
    };
    if op.kind == MemKind::Prefetch
        && (op.unpriv || matches!(mode, AddrMode::Pre(_) | AddrMode::Post(_)))
    {
        return Insn::Undefined;
    }
    Insn::Mem { op, rt, rn, mode }
}

fn decode_dp_reg(w: u32) -> Insn {
    let sf = bit(w, 31);
    let rd = rz(w, 0);
    let rn = rz(w, 5);
    let rm = rz(w, 16);
    let s = bit(w, 29);
    if !bit(w, 28) {
        let shift = match bits(w, 23, 22) {
            0 => Shift::Lsl,
            1 => Shift::Lsr,
            2 => Shift::Asr,
            _ => Shift::Ror,
        };
        let amount = bits(w, 15, 10);
        if !bit(w, 24) {
            if !sf && amount >= 32 {
                return Insn::Undefined;
            }
            return Insn::LogicReg {
                sf,
                op: logic_op(bits(w, 30, 29)),
                invert: bit(w, 21),
                shift,
                amount: amount as u8,
                rd,
                rn,
                rm,
            };
        }
        if !bit(w, 21) {
            if shift == Shift::Ror || (!sf && amount >= 32) {
                return Insn::Undefined;
            }
            return Insn::AddSubReg {
                sf,
                sub: bit(w, 30),
                s,
                shift,
                amount: amount as u8,
                rd,
                rn,
                rm,
            };
        }
        let imm3 = bits(w, 12, 10);
        if bits(w, 23, 22) != 0 || imm3 > 4 {
            return Insn::Undefined;
        }
        return Insn::AddSubExt {
            sf,
            sub: bit(w, 30),
            s,
            ext: Extend::from_option(bits(w, 15, 13)),
            amount: imm3 as u8,
            rd: if s { rd } else { rs(w, 0) },
            rn: rs(w, 5),
            rm,
        };
    }
    if bit(w, 24) {
        // Three-source.
        if bits(w, 30, 29) != 0 {
            return Insn::Undefined;
        }
        let o0 = bit(w, 15);
        let op = match (bits(w, 23, 21), o0) {
            (0b000, false) => Dp3::Madd,
            (0b000, true) => Dp3::Msub,
            (0b001, false) if sf => Dp3::Smaddl,
            (0b001, true) if sf => Dp3::Smsubl,
            (0b010, false) if sf => Dp3::Smulh,
            (0b101, false) if sf => Dp3::Umaddl,
            (0b101, true) if sf => Dp3::Umsubl,
            (0b110, false) if sf => Dp3::Umulh,
            _ => return Insn::Undefined,
        };
        return Insn::Dp3 {
            sf,
            op,
            rd,
            rn,
            rm,
            ra: rz(w, 10),
        };
    }
    match bits(w, 23, 21) {
        0b000 => {
            if bits(w, 15, 10) != 0 {
                return Insn::Undefined;
            }
            Insn::AddSubCarry {
                sf,
                sub: bit(w, 30),
                s,
                rd,
                rn,
                rm,
            }
        }
        0b010 => {
            if !s || bit(w, 10) || bit(w, 4) {
                return Insn::Undefined;
            }
            Insn::CondCmp {
                sf,
                sub: bit(w, 30),
                imm: bit(w, 11),
                rn,
                rm_imm: rm,
                cond: bits(w, 15, 12) as u8,
                nzcv: bits(w, 3, 0) as u8,
            }
        }
        0b100 => {
            if s || bit(w, 11) {
                return Insn::Undefined;
            }
            let op = match (bit(w, 30), bit(w, 10)) {
                (false, false) => Csel::Csel,
                (false, true) => Csel::Csinc,
                (true, false) => Csel::Csinv,
                (true, true) => Csel::Csneg,
            };
            Insn::CondSel {
                sf,
                op,
                rd,
                rn,
                rm,
                cond: bits(w, 15, 12) as u8,
            }
        }
        0b110 if !bit(w, 30) => {
            if s {
                return Insn::Undefined;
            }
            let op = match bits(w, 15, 10) {
                0b000010 => Dp2::Udiv,
                0b000011 => Dp2::Sdiv,
                0b001000 => Dp2::Lslv,
                0b001001 => Dp2::Lsrv,
                0b001010 => Dp2::Asrv,
                0b001011 => Dp2::Rorv,
                o @ 0b010000..=0b010111 => {
                    let size_log2 = (o & 3) as u8;
                    // The X forms need sf = 1, the others sf = 0.
                    if (size_log2 == 3) != sf {
                        return Insn::Undefined;
                    }
                    Dp2::Crc32 {
                        size_log2,
                        castagnoli: o & 4 != 0,
                    }
                }
                _ => return Insn::Undefined,
            };
            Insn::Dp2 { sf, op, rd, rn, rm }
        }
        0b110 => {
            if s || bits(w, 20, 16) != 0 {
                return Insn::Undefined;
            }
            let op = match (bits(w, 15, 10), sf) {
                (0b000000, _) => Dp1::Rbit,
                (0b000001, _) => Dp1::Rev16,
                (0b000010, false) => Dp1::Rev,
                (0b000010, true) => Dp1::Rev32,
                (0b000011, true) => Dp1::Rev,
                (0b000100, _) => Dp1::Clz,
                (0b000101, _) => Dp1::Cls,
                _ => return Insn::Undefined,
            };
            Insn::Dp1 { sf, op, rd, rn }
        }
        _ => Insn::Undefined,
    }
}

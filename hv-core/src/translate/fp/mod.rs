//! Floating-point and Advanced SIMD: scalar and vector FP arithmetic
//! ([`arith`], on the Arm FP model of [`soft`]: every FPCR rounding mode,
//! FZ, DN and AHP, and the FPSR cumulative flags); complete for ARMv8.0-A,
//! the structure loads/stores (LD1-LD4/ST1-ST4 multiple, single lane and
//! replicate), TBL/TBX, UZP/TRN/ZIP, EXT, REV16/32/64 and the copies (DUP,
//! INS, UMOV, SMOV); all integer AdvSIMD ([`simd_int`]: arithmetic,
//! saturating and rounding forms, shifts, long/wide/narrow, pairwise, across
//! lanes, by element, polynomial multiply; vector and scalar); the crypto
//! instructions ([`crypto`]); and the vector moves and logic. Half precision is only converted
//! to and from (FEAT_FP16 is not advertised).
//!
//! * [`decode`]: A64 words to [`FpInsn`].
//! * [`exec`]: [`FpInsn`] on a [`Cpu`](super::interp::Cpu).
//! * [`arith`]: the FP arithmetic instructions, decoded and executed.
//! * `host`: the host's floating point for the common case of `soft`'s
//!   add, subtract and multiply (normal operands, round to nearest even,
//!   a result far from the limits), with IXC decided exactly.
//! * [`soft`]: the Arm FP arithmetic both tiers call (FPCR, FPSR flags,
//!   NaN rules, one exact rounding for H, S and D).
//! * [`lanes`]: vector lane access.
//! * [`simd_mem`]: LD1-LD4/ST1-ST4 (multiple, single lane, replicate).
//! * [`permute`]: TBL/TBX, UZP/TRN/ZIP.
//! * [`simd_int`]: integer Advanced SIMD (vector and scalar).

use super::cond::Cond;

pub mod arith;
pub mod crypto;
mod decode;
mod exec;
mod host;
mod lanes;
#[cfg(test)]
mod llvm_fp;
#[cfg(test)]
mod llvm_simd;
mod permute;
#[cfg(test)]
mod qemu_vectors;
pub mod simd_int;
#[cfg(test)]
mod simd_int_cases;
#[cfg(test)]
mod simd_int_tests;
mod simd_mem;
#[cfg(test)]
mod simd_qemu_tests;
pub mod soft;
#[cfg(test)]
mod tests;

pub use decode::{decode, expand_fp_imm};
pub use exec::execute;
pub use simd_int::SimdInt;
pub use simd_mem::decode as decode_ldst_simd;

/// Precision of a scalar FP operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FpTy {
    /// Single precision (S registers).
    S,
    /// Double precision (D registers).
    D,
}

/// Vector bitwise operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VLogic {
    /// AND.
    And,
    /// BIC.
    Bic,
    /// ORR.
    Orr,
    /// ORN.
    Orn,
    /// EOR.
    Eor,
    /// BSL: Vd selects between Vn (1) and Vm (0).
    Bsl,
    /// BIT: insert Vn where Vm is 1.
    Bit,
    /// BIF: insert Vn where Vm is 0.
    Bif,
}

/// A decoded FP/SIMD instruction. Register fields are 0..=31 (V registers,
/// or general registers as named; 31 in a general-register field is ZR).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // fields follow the Arm ARM operand names
pub enum FpInsn {
    /// FP arithmetic, scalar and vector (see [`arith`]).
    Arith(arith::Arith),
    /// FCSEL.
    Csel {
        ty: FpTy,
        rd: u8,
        rn: u8,
        rm: u8,
        cond: Cond,
    },
    /// FMOV (scalar immediate); `bits` is the expanded value.
    Imm { ty: FpTy, rd: u8, bits: u64 },
    /// FMOV to a general register: `bits` 32 (Wd, Sn), 64 (Xd, Dn) or 128
    /// (Xd, Vn.D\[1\]).
    MovToGp { bits: u8, rd: u8, rn: u8 },
    /// FMOV from a general register (idem).
    MovFromGp { bits: u8, rd: u8, rn: u8 },
    /// AND/BIC/ORR/ORN/EOR/BSL/BIT/BIF (vector).
    Logic {
        q: bool,
        op: VLogic,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    /// DUP (element).
    DupElem {
        q: bool,
        size: u8,
        index: u8,
        rd: u8,
        rn: u8,
    },
    /// DUP (element), scalar form (`mov h1, v0.h[3]`): Vd = Vn.T\[index\],
    /// zero-extended to the whole register.
    DupScalar { size: u8, index: u8, rd: u8, rn: u8 },
    /// DUP (general).
    DupGp { q: bool, size: u8, rd: u8, rn: u8 },
    /// INS (general): Vd.T\[index\] = Rn.
    InsGp { size: u8, index: u8, rd: u8, rn: u8 },
    /// INS (element): Vd.T\[dst\] = Vn.T\[src\].
    InsElem {
        size: u8,
        dst: u8,
        src: u8,
        rd: u8,
        rn: u8,
    },
    /// UMOV/SMOV to a general register (`x`: 64-bit destination).
    Mov {
        size: u8,
        index: u8,
        rd: u8,
        rn: u8,
        signed: bool,
        x: bool,
    },
    /// MOVI/MVNI/ORR/BIC/FMOV (vector, immediate); `imm` is the expanded
    /// 64-bit pattern, applied to both halves when `q`.
    ModImm {
        q: bool,
        op: ModOp,
        imm: u64,
        rd: u8,
    },
    /// EXT: bytes `index..` of Vm:Vn.
    Ext {
        q: bool,
        index: u8,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    /// Integer AdvSIMD (three same/different, two-register misc, across
    /// lanes, pairwise, shifts by immediate, by element; vector and scalar).
    Int(SimdInt),
    // --- structure loads/stores (simd_mem.rs) and permutes (permute.rs) ---
    /// LD1-LD4/ST1-ST4 (multiple structures): `rpt` repetitions of
    /// `selem`-register interleaved structures (LD1 with 2 registers is
    /// `rpt` 2, `selem` 1; LD2 is `rpt` 1, `selem` 2).
    LdStMulti {
        q: bool,
        load: bool,
        rpt: u8,
        selem: u8,
        /// Element size (log2 bytes).
        size: u8,
        rt: u8,
        /// Base register; 32 is SP.
        rn: u8,
        post: Post,
    },
    /// LD1-LD4/ST1-ST4 (single structure) to/from lane `index` of `selem`
    /// consecutive registers, or LD1R-LD4R (`replicate`).
    LdStSingle {
        q: bool,
        load: bool,
        replicate: bool,
        selem: u8,
        /// Element size (log2 bytes).
        size: u8,
        index: u8,
        rt: u8,
        /// Base register; 32 is SP.
        rn: u8,
        post: Post,
    },
    /// TBL/TBX with `regs` (1-4) table registers from Vn.
    Tbl {
        q: bool,
        tbx: bool,
        regs: u8,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    /// UZP1/UZP2/TRN1/TRN2/ZIP1/ZIP2.
    Perm {
        q: bool,
        size: u8,
        op: PermOp,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    /// AES, SHA1 and SHA256 (see [`crypto`]).
    Crypto(crypto::Crypto),
}

/// What a vector modified-immediate instruction does with the immediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModOp {
    /// MOVI / FMOV (vector): Vd = imm.
    Movi,
    /// MVNI: Vd = NOT imm.
    Mvni,
    /// ORR (immediate): Vd |= imm.
    Orr,
    /// BIC (immediate): Vd &= NOT imm.
    Bic,
}

/// UZP/TRN/ZIP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PermOp {
    /// UZP1: even elements of Vn:Vm.
    Uzp1,
    /// UZP2: odd elements.
    Uzp2,
    /// TRN1.
    Trn1,
    /// TRN2.
    Trn2,
    /// ZIP1: interleave the low halves.
    Zip1,
    /// ZIP2: interleave the high halves.
    Zip2,
}

/// Post-index of the structure loads/stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Post {
    /// No write-back.
    None,
    /// Add the transfer size (`Rm` = 31).
    Imm,
    /// Add Xm.
    Reg(u8),
}

impl FpInsn {
    /// Whether the instruction writes NZCV.
    pub fn writes_flags(&self) -> bool {
        matches!(self, FpInsn::Arith(a) if a.writes_flags())
    }
    /// Whether the instruction reads NZCV (explicitly, or because it may
    /// raise an exception: all of them may, through the CPACR trap).
    pub fn reads_flags(&self) -> bool {
        true
    }
}

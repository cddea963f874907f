//! Floating-point and Advanced SIMD: scalar FP arithmetic, compares,
//! conversions and moves; vector moves and logic; and all of the integer
//! AdvSIMD of ARMv8.0 ([`simd_int`]: arithmetic, saturating and rounding
//! forms, shifts, long/wide/narrow, pairwise, across lanes, by element,
//! polynomial multiply; vector and scalar).
//!
//! Scalar arithmetic runs on the host FPU (round to nearest even) with the
//! Arm NaN rules applied explicitly: the first signalling NaN operand,
//! quietened, else the first quiet NaN, else the default NaN for invalid
//! operations (and always the default NaN with FPCR.DN). Not modelled:
//! FPCR rounding modes other than nearest-even, flush-to-zero, and the FPSR
//! cumulative exception flags. Half precision is only moved, never
//! computed on (FEAT_FP16 is not advertised).

//!
//! * [`decode`]: A64 words to [`FpInsn`].
//! * [`exec`]: [`FpInsn`] on a [`Cpu`](super::interp::Cpu).
//! * [`soft`]: the Arm FP arithmetic both tiers call (NaN rules, rounding,
//!   exact square root and fused multiply-add).
//! * [`lanes`]: vector lane access.
//! * [`simd_int`]: integer Advanced SIMD (vector and scalar).

use super::cond::Cond;

mod decode;
mod exec;
mod lanes;
pub mod simd_int;
#[cfg(test)]
mod simd_int_cases;
#[cfg(test)]
mod simd_int_tests;
pub mod soft;
#[cfg(test)]
mod tests;

pub use decode::{decode, decode_ldst_multi, expand_fp_imm};
pub use exec::execute;
pub use simd_int::SimdInt;

/// Precision of a scalar FP operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FpTy {
    /// Single precision (S registers).
    S,
    /// Double precision (D registers).
    D,
}

/// Rounding of FRINT* and FCVT*.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Round {
    /// To nearest, ties to even.
    NearestEven,
    /// Towards +infinity.
    Plus,
    /// Towards -infinity.
    Minus,
    /// Towards zero.
    Zero,
    /// To nearest, ties away from zero.
    NearestAway,
}

/// FP data processing, one source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fp1 {
    /// FMOV (register).
    Mov,
    /// FABS.
    Abs,
    /// FNEG.
    Neg,
    /// FSQRT.
    Sqrt,
    /// FCVT to the other precision.
    Cvt(FpTy),
    /// FRINT* with this rounding.
    Rint(Round),
}

/// FP data processing, two sources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fp2 {
    /// FMUL.
    Mul,
    /// FDIV.
    Div,
    /// FADD.
    Add,
    /// FSUB.
    Sub,
    /// FMAX.
    Max,
    /// FMIN.
    Min,
    /// FMAXNM.
    MaxNm,
    /// FMINNM.
    MinNm,
    /// FNMUL.
    Nmul,
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
    /// FMOV/FABS/FNEG/FSQRT/FCVT/FRINT*.
    Dp1 { ty: FpTy, op: Fp1, rd: u8, rn: u8 },
    /// FMUL/FDIV/FADD/FSUB/FMAX/FMIN/FMAXNM/FMINNM/FNMUL.
    Dp2 {
        ty: FpTy,
        op: Fp2,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    /// FMADD (`neg` false, `sub` false), FMSUB, FNMADD, FNMSUB.
    Dp3 {
        ty: FpTy,
        neg: bool,
        sub: bool,
        rd: u8,
        rn: u8,
        rm: u8,
        ra: u8,
    },
    /// FCMP/FCMPE (`zero`: against +0.0).
    Cmp {
        ty: FpTy,
        rn: u8,
        rm: u8,
        zero: bool,
    },
    /// FCCMP/FCCMPE.
    CondCmp {
        ty: FpTy,
        rn: u8,
        rm: u8,
        cond: Cond,
        nzcv: u8,
    },
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
    /// FCVT{N,P,M,Z,A}{S,U}: FP to integer in Rd (W or X per `sf`).
    ToInt {
        sf: bool,
        ty: FpTy,
        rd: u8,
        rn: u8,
        round: Round,
        unsigned: bool,
    },
    /// SCVTF/UCVTF: integer in Rn to FP.
    FromInt {
        sf: bool,
        ty: FpTy,
        rd: u8,
        rn: u8,
        unsigned: bool,
    },
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
    /// FP three-same (vector FADD/FSUB/FMUL/FDIV/FMAX/FMIN/FMAXNM/FMINNM);
    /// `dbl`: 2D lanes, else 2S/4S.
    FThree {
        q: bool,
        dbl: bool,
        op: Fp2,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    /// Vector FABS (`neg` false) / FNEG.
    FTwo {
        q: bool,
        dbl: bool,
        neg: bool,
        rd: u8,
        rn: u8,
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
    /// LD1/ST1 (multiple structures, 1 to 4 consecutive registers).
    LdSt1 {
        q: bool,
        load: bool,
        regs: u8,
        /// Element size (log2 bytes), for alignment checks.
        esize_log2: u8,
        rt: u8,
        rn: u8,
        post: Post,
    },
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

/// Post-index of LD1/ST1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Post {
    /// No write-back.
    None,
    /// Add the transfer size.
    Imm,
    /// Add Xm.
    Reg(u8),
}

impl FpInsn {
    /// Whether the instruction writes NZCV.
    pub fn writes_flags(&self) -> bool {
        matches!(self, FpInsn::Cmp { .. } | FpInsn::CondCmp { .. })
    }
    /// Whether the instruction reads NZCV (explicitly, or because it may
    /// raise an exception: all of them may, through the CPACR trap).
    pub fn reads_flags(&self) -> bool {
        true
    }
}

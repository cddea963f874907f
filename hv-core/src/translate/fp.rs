//! Floating-point and Advanced SIMD: the subset compilers emit for ordinary
//! code — scalar FP arithmetic, compares, conversions and moves, and the
//! vector moves, logic, compares and reductions of memcpy/memset/strlen and
//! `count_ones`.
//!
//! Scalar arithmetic runs on the host FPU (round to nearest even) with the
//! Arm NaN rules applied explicitly: the first signalling NaN operand,
//! quietened, else the first quiet NaN, else the default NaN for invalid
//! operations (and always the default NaN with FPCR.DN). Not modelled:
//! FPCR rounding modes other than nearest-even, flush-to-zero, and the FPSR
//! cumulative exception flags. Half precision is only moved, never
//! computed on (FEAT_FP16 is not advertised).

use super::decode::Cond;
use super::interp::{cond_holds, Cpu};

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

/// Vector three-same integer operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum V3 {
    /// ADD.
    Add,
    /// SUB.
    Sub,
    /// CMEQ.
    Cmeq,
    /// CMTST.
    Cmtst,
    /// CMHI (unsigned >).
    Cmhi,
    /// CMHS (unsigned >=).
    Cmhs,
    /// CMGT (signed >).
    Cmgt,
    /// CMGE (signed >=).
    Cmge,
    /// UMAX.
    Umax,
    /// UMIN.
    Umin,
    /// SMAX.
    Smax,
    /// SMIN.
    Smin,
    /// ADDP (pairwise).
    Addp,
    /// UMAXP.
    Umaxp,
    /// UMINP.
    Uminp,
    /// MUL.
    Mul,
}

/// Vector compare against zero and other two-register operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum V2 {
    /// CMEQ #0.
    Cmeq0,
    /// CMGT #0.
    Cmgt0,
    /// CMGE #0.
    Cmge0,
    /// CMLE #0.
    Cmle0,
    /// CMLT #0.
    Cmlt0,
    /// CNT (bytes).
    Cnt,
    /// NOT (MVN).
    Not,
    /// XTN: narrow each element to half its size.
    Xtn,
    /// REV64: reverse elements in each doubleword.
    Rev64,
    /// REV32: reverse elements in each word.
    Rev32,
    /// REV16: reverse bytes in each halfword.
    Rev16,
}

/// Across-lanes reductions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduce {
    /// ADDV.
    Addv,
    /// UMAXV.
    Umaxv,
    /// UMINV.
    Uminv,
    /// SMAXV.
    Smaxv,
    /// SMINV.
    Sminv,
    /// UADDLV (the sum is twice the element width).
    Uaddlv,
}

/// Vector shift by immediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VShift {
    /// USHR.
    Ushr,
    /// SSHR.
    Sshr,
    /// SHL.
    Shl,
    /// SHRN (narrowing; the "2" form writes the upper half).
    Shrn,
    /// USHLL (widening; UXTL with shift 0).
    Ushll,
    /// SSHLL.
    Sshll,
    /// SLI: shift left and insert (keeps the destination's low bits).
    Sli,
    /// SRI: shift right and insert (keeps the destination's high bits).
    Sri,
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
    /// Integer three-same.
    Three {
        q: bool,
        size: u8,
        op: V3,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    /// Integer two-register misc.
    Two {
        q: bool,
        size: u8,
        op: V2,
        rd: u8,
        rn: u8,
    },
    /// Across lanes.
    Across {
        q: bool,
        size: u8,
        op: Reduce,
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
    /// Shift by immediate; `size` is the (source) element size.
    Shift {
        q: bool,
        size: u8,
        op: VShift,
        shift: u8,
        rd: u8,
        rn: u8,
    },
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

#[inline]
const fn bits(w: u32, hi: u32, lo: u32) -> u32 {
    (w >> lo) & ((1u32 << (hi - lo + 1)) - 1)
}
#[inline]
const fn bit(w: u32, b: u32) -> bool {
    (w >> b) & 1 != 0
}
#[inline]
const fn reg(w: u32, lo: u32) -> u8 {
    bits(w, lo + 4, lo) as u8
}

/// `VFPExpandImm`: the 8-bit FMOV immediate as an S (32-bit) or D value.
pub fn expand_fp_imm(imm8: u32, ty: FpTy) -> u64 {
    let sign = u64::from((imm8 >> 7) & 1);
    let b6 = u64::from((imm8 >> 6) & 1);
    let exp_lo = u64::from((imm8 >> 4) & 3);
    let frac = u64::from(imm8 & 15);
    match ty {
        FpTy::S => {
            // exp = NOT(b6) : Replicate(b6, 5) : imm8<5:4>
            let exp = ((b6 ^ 1) << 7) | (if b6 != 0 { 0x1f << 2 } else { 0 }) | exp_lo;
            (sign << 31) | (exp << 23) | (frac << 19)
        }
        FpTy::D => {
            let exp = ((b6 ^ 1) << 10) | (if b6 != 0 { 0xff << 2 } else { 0 }) | exp_lo;
            (sign << 63) | (exp << 52) | (frac << 48)
        }
    }
}

/// `AdvSIMDExpandImm(op, cmode, imm8)`; `None` for unallocated forms.
fn expand_simd_imm(op: bool, cmode: u32, imm8: u32) -> Option<u64> {
    let i = u64::from(imm8);
    let rep32 = |v: u64| v | (v << 32);
    let rep16 = |v: u64| v | (v << 16) | (v << 32) | (v << 48);
    Some(match cmode >> 1 {
        0 => rep32(i),
        1 => rep32(i << 8),
        2 => rep32(i << 16),
        3 => rep32(i << 24),
        4 => rep16(i),
        5 => rep16(i << 8),
        6 => {
            if cmode & 1 == 0 {
                rep32((i << 8) | 0xff)
            } else {
                rep32((i << 16) | 0xffff)
            }
        }
        _ => match (cmode & 1, op) {
            (0, false) => i * 0x0101_0101_0101_0101,
            (0, true) => {
                let mut v = 0u64;
                for b in 0..8 {
                    if i & (1 << b) != 0 {
                        v |= 0xff << (8 * b);
                    }
                }
                v
            }
            (1, false) => rep32(expand_fp_imm(imm8, FpTy::S)),
            (1, true) => expand_fp_imm(imm8, FpTy::D),
            _ => return None,
        },
    })
}

fn fp_ty(ftype: u32) -> Option<FpTy> {
    match ftype {
        0 => Some(FpTy::S),
        1 => Some(FpTy::D),
        _ => None,
    }
}

/// Decode a word of the "data processing — scalar FP and Advanced SIMD"
/// group (bits 28:25 = x111).
pub fn decode(w: u32) -> Option<FpInsn> {
    if bits(w, 28, 24) == 0b11110 && !bit(w, 30) {
        return decode_scalar(w);
    }
    if bits(w, 28, 24) == 0b11111 && !bit(w, 30) && !bit(w, 29) && !bit(w, 31) {
        let ty = fp_ty(bits(w, 23, 22))?;
        return Some(FpInsn::Dp3 {
            ty,
            neg: bit(w, 21),
            sub: bit(w, 15),
            rd: reg(w, 0),
            rn: reg(w, 5),
            rm: reg(w, 16),
            ra: reg(w, 10),
        });
    }
    // Advanced SIMD scalar copy: 01 0 11110000 imm5 0 0000 1 Rn Rd (DUP).
    if w & 0xffe0_fc00 == 0x5e00_0400 {
        let imm5 = bits(w, 20, 16);
        let size = imm5.trailing_zeros();
        if size > 3 {
            return None;
        }
        return Some(FpInsn::DupScalar {
            size: size as u8,
            index: (imm5 >> (size + 1)) as u8,
            rd: reg(w, 0),
            rn: reg(w, 5),
        });
    }
    if bit(w, 31) || (bits(w, 28, 24) != 0b01110 && bits(w, 28, 23) != 0b011110) {
        return None;
    }
    decode_simd(w)
}

fn decode_scalar(w: u32) -> Option<FpInsn> {
    let sf = bit(w, 31);
    let ftype = bits(w, 23, 22);
    let rd = reg(w, 0);
    let rn = reg(w, 5);
    let rm = reg(w, 16);
    if !bit(w, 21) || bit(w, 29) {
        return None; // fixed-point conversions: not implemented
    }
    if bits(w, 15, 10) == 0 {
        let rmode = bits(w, 20, 19);
        let opcode = bits(w, 18, 16);
        return match (opcode, rmode) {
            (0b110, _) | (0b111, _) => {
                let to_gp = opcode == 0b110;
                let width = match (sf, ftype, rmode) {
                    (false, 0, 0) => 32,
                    (true, 1, 0) => 64,
                    (true, 2, 1) => 128,
                    _ => return None,
                };
                Some(if to_gp {
                    FpInsn::MovToGp {
                        bits: width,
                        rd,
                        rn,
                    }
                } else {
                    FpInsn::MovFromGp {
                        bits: width,
                        rd,
                        rn,
                    }
                })
            }
            (0b010, 0) | (0b011, 0) => Some(FpInsn::FromInt {
                sf,
                ty: fp_ty(ftype)?,
                rd,
                rn,
                unsigned: opcode == 0b011,
            }),
            (0b000, _) | (0b001, _) | (0b100, 0) | (0b101, 0) => {
                let round = match (opcode >> 2, rmode) {
                    (1, _) => Round::NearestAway,
                    (_, 0) => Round::NearestEven,
                    (_, 1) => Round::Plus,
                    (_, 2) => Round::Minus,
                    _ => Round::Zero,
                };
                Some(FpInsn::ToInt {
                    sf,
                    ty: fp_ty(ftype)?,
                    rd,
                    rn,
                    round,
                    unsigned: opcode & 1 != 0,
                })
            }
            _ => None,
        };
    }
    if sf {
        return None;
    }
    let ty = fp_ty(ftype)?;
    match bits(w, 11, 10) {
        0b01 => {
            return Some(FpInsn::CondCmp {
                ty,
                rn,
                rm,
                cond: bits(w, 15, 12) as u8,
                nzcv: bits(w, 3, 0) as u8,
            })
        }
        0b10 => {
            let op = match bits(w, 15, 12) {
                0 => Fp2::Mul,
                1 => Fp2::Div,
                2 => Fp2::Add,
                3 => Fp2::Sub,
                4 => Fp2::Max,
                5 => Fp2::Min,
                6 => Fp2::MaxNm,
                7 => Fp2::MinNm,
                8 => Fp2::Nmul,
                _ => return None,
            };
            return Some(FpInsn::Dp2 { ty, op, rd, rn, rm });
        }
        0b11 => {
            return Some(FpInsn::Csel {
                ty,
                rd,
                rn,
                rm,
                cond: bits(w, 15, 12) as u8,
            })
        }
        _ => {}
    }
    if bits(w, 12, 10) == 0b100 {
        if bits(w, 9, 5) != 0 {
            return None;
        }
        return Some(FpInsn::Imm {
            ty,
            rd,
            bits: expand_fp_imm(bits(w, 20, 13), ty),
        });
    }
    if bits(w, 13, 10) == 0b1000 {
        if bits(w, 15, 14) != 0 || bits(w, 2, 0) != 0 {
            return None;
        }
        return Some(FpInsn::Cmp {
            ty,
            rn,
            rm,
            zero: bit(w, 3),
        });
    }
    if bits(w, 14, 10) == 0b10000 {
        let op = match bits(w, 20, 15) {
            0b000000 => Fp1::Mov,
            0b000001 => Fp1::Abs,
            0b000010 => Fp1::Neg,
            0b000011 => Fp1::Sqrt,
            0b000100 if ty == FpTy::D => Fp1::Cvt(FpTy::S),
            0b000101 if ty == FpTy::S => Fp1::Cvt(FpTy::D),
            0b001000 => Fp1::Rint(Round::NearestEven),
            0b001001 => Fp1::Rint(Round::Plus),
            0b001010 => Fp1::Rint(Round::Minus),
            0b001011 => Fp1::Rint(Round::Zero),
            0b001100 => Fp1::Rint(Round::NearestAway),
            // FRINTX/FRINTI use FPCR.RMode, which is always nearest-even here.
            0b001110 | 0b001111 => Fp1::Rint(Round::NearestEven),
            _ => return None,
        };
        return Some(FpInsn::Dp1 { ty, op, rd, rn });
    }
    None
}

fn decode_simd(w: u32) -> Option<FpInsn> {
    let q = bit(w, 30);
    let u = bit(w, 29);
    let size = bits(w, 23, 22) as u8;
    let rd = reg(w, 0);
    let rn = reg(w, 5);
    let rm = reg(w, 16);
    // Modified immediate: 0 Q op 0111100000 abc cmode o2 1 defgh Rd.
    if bits(w, 28, 19) == 0b01_1110_0000 && bit(w, 10) {
        if bit(w, 11) {
            return None;
        }
        let cmode = bits(w, 15, 12);
        let imm8 = (bits(w, 18, 16) << 5) | bits(w, 9, 5);
        if cmode == 0b1111 && u && !q {
            return None;
        }
        let imm = expand_simd_imm(u, cmode, imm8)?;
        // ORR/BIC: cmode 0xx1 and 10x1; MVNI: op = 1 below 1110.
        let op = match (u, cmode) {
            (_, 0b1110) | (_, 0b1111) => ModOp::Movi,
            (false, c) if c & 1 == 1 && c < 0b1100 => ModOp::Orr,
            (true, c) if c & 1 == 1 && c < 0b1100 => ModOp::Bic,
            (false, _) => ModOp::Movi,
            (true, _) => ModOp::Mvni,
        };
        return Some(FpInsn::ModImm { q, op, imm, rd });
    }
    // Shift by immediate: 0 Q U 011110 immh immb opcode 1 Rn Rd.
    if bits(w, 28, 23) == 0b011110 && bit(w, 10) {
        let immh = bits(w, 22, 19);
        if immh == 0 {
            return None;
        }
        let esize_log2 = 31 - immh.leading_zeros(); // 0..=3 -> B H S D
        let immhb = bits(w, 22, 16);
        let esize = 8u32 << esize_log2;
        let (op, shift, size) = match (bits(w, 15, 11), u) {
            (0b00000, false) => (VShift::Sshr, 2 * esize - immhb, esize_log2),
            (0b00000, true) => (VShift::Ushr, 2 * esize - immhb, esize_log2),
            (0b01010, false) => (VShift::Shl, immhb - esize, esize_log2),
            (0b01010, true) => (VShift::Sli, immhb - esize, esize_log2),
            (0b01000, true) => (VShift::Sri, 2 * esize - immhb, esize_log2),
            (0b10000, false) if esize_log2 < 3 => (VShift::Shrn, 2 * esize - immhb, esize_log2 + 1),
            (0b10100, false) if esize_log2 < 3 => (VShift::Sshll, immhb - esize, esize_log2),
            (0b10100, true) if esize_log2 < 3 => (VShift::Ushll, immhb - esize, esize_log2),
            _ => return None,
        };
        if esize_log2 == 3 && !q {
            return None;
        }
        return Some(FpInsn::Shift {
            q,
            size: size as u8,
            op,
            shift: shift as u8,
            rd,
            rn,
        });
    }
    if bits(w, 28, 24) != 0b01110 {
        return None;
    }
    // Copy: 0 Q op 01110000 imm5 0 imm4 1 Rn Rd.
    if bits(w, 28, 21) == 0b0111_0000 && !bit(w, 15) && bit(w, 10) {
        let imm5 = bits(w, 20, 16);
        let imm4 = bits(w, 14, 11);
        let sz = imm5.trailing_zeros();
        if sz > 3 {
            return None;
        }
        let index = (imm5 >> (sz + 1)) as u8;
        let size = sz as u8;
        return match (u, imm4) {
            (false, 0b0000) if size != 3 || q => Some(FpInsn::DupElem {
                q,
                size,
                index,
                rd,
                rn,
            }),
            (false, 0b0001) if size != 3 || q => Some(FpInsn::DupGp { q, size, rd, rn }),
            (false, 0b0011) if q => Some(FpInsn::InsGp {
                size,
                index,
                rd,
                rn,
            }),
            (false, 0b0101) if size < 3 && (q || size < 2) => Some(FpInsn::Mov {
                size,
                index,
                rd,
                rn,
                signed: true,
                x: q,
            }),
            (false, 0b0111) if (size == 3) == q => Some(FpInsn::Mov {
                size,
                index,
                rd,
                rn,
                signed: false,
                x: q,
            }),
            (true, _) if q => Some(FpInsn::InsElem {
                size,
                dst: index,
                src: (imm4 >> sz) as u8,
                rd,
                rn,
            }),
            _ => None,
        };
    }
    // EXT: 0 Q 101110 00 0 Rm 0 imm4 0 Rn Rd.
    if bits(w, 29, 21) == 0b1_0111_0000 && !bit(w, 15) && !bit(w, 10) {
        let index = bits(w, 14, 11) as u8;
        if !q && index >= 8 {
            return None;
        }
        return Some(FpInsn::Ext {
            q,
            index,
            rd,
            rn,
            rm,
        });
    }
    if !bit(w, 21) {
        return None;
    }
    // Three same: bit 10 set.
    if bit(w, 10) {
        let opcode = bits(w, 15, 11);
        if opcode == 0b00011 {
            let op = match (u, size) {
                (false, 0) => VLogic::And,
                (false, 1) => VLogic::Bic,
                (false, 2) => VLogic::Orr,
                (false, _) => VLogic::Orn,
                (true, 0) => VLogic::Eor,
                (true, 1) => VLogic::Bsl,
                (true, 2) => VLogic::Bit,
                (true, _) => VLogic::Bif,
            };
            return Some(FpInsn::Logic { q, op, rd, rn, rm });
        }
        let fop = match (opcode, u, bit(w, 23)) {
            (0b11010, false, false) => Some(Fp2::Add),
            (0b11010, false, true) => Some(Fp2::Sub),
            (0b11011, true, false) => Some(Fp2::Mul),
            (0b11111, true, false) => Some(Fp2::Div),
            (0b11110, false, false) => Some(Fp2::Max),
            (0b11110, false, true) => Some(Fp2::Min),
            (0b11000, false, false) => Some(Fp2::MaxNm),
            (0b11000, false, true) => Some(Fp2::MinNm),
            _ => None,
        };
        if let Some(op) = fop {
            let dbl = bit(w, 22);
            if dbl && !q {
                return None;
            }
            return Some(FpInsn::FThree {
                q,
                dbl,
                op,
                rd,
                rn,
                rm,
            });
        }
        let op = match (opcode, u) {
            (0b10011, false) if size < 3 => V3::Mul,
            (0b10000, false) => V3::Add,
            (0b10000, true) => V3::Sub,
            (0b10001, false) => V3::Cmtst,
            (0b10001, true) => V3::Cmeq,
            (0b00110, false) => V3::Cmgt,
            (0b00110, true) => V3::Cmhi,
            (0b00111, false) => V3::Cmge,
            (0b00111, true) => V3::Cmhs,
            (0b01100, false) => V3::Smax,
            (0b01100, true) => V3::Umax,
            (0b01101, false) => V3::Smin,
            (0b01101, true) => V3::Umin,
            (0b10111, false) => V3::Addp,
            (0b10100, true) => V3::Umaxp,
            (0b10101, true) => V3::Uminp,
            _ => return None,
        };
        let wide_ok = matches!(
            op,
            V3::Add
                | V3::Sub
                | V3::Cmeq
                | V3::Cmtst
                | V3::Cmhi
                | V3::Cmhs
                | V3::Cmgt
                | V3::Cmge
                | V3::Addp
        );
        if size == 3 && (!q || !wide_ok) {
            return None;
        }
        return Some(FpInsn::Three {
            q,
            size,
            op,
            rd,
            rn,
            rm,
        });
    }
    if bits(w, 11, 10) != 0b10 {
        return None;
    }
    let opcode = bits(w, 16, 12);
    match bits(w, 20, 17) {
        0b0000 if opcode == 0b01111 && bit(w, 23) => {
            let dbl = bit(w, 22);
            if dbl && !q {
                return None;
            }
            Some(FpInsn::FTwo {
                q,
                dbl,
                neg: u,
                rd,
                rn,
            })
        }
        0b0000 => {
            let op = match (opcode, u) {
                (0b01001, false) => V2::Cmeq0,
                (0b01001, true) => V2::Cmle0,
                (0b01000, false) => V2::Cmgt0,
                (0b01000, true) => V2::Cmge0,
                (0b01010, false) => V2::Cmlt0,
                (0b00101, false) if size == 0 => V2::Cnt,
                (0b00101, true) if size == 0 => V2::Not,
                (0b10010, false) if size < 3 => V2::Xtn,
                (0b00000, false) if size < 3 => V2::Rev64,
                (0b00000, true) if size < 2 => V2::Rev32,
                (0b00001, false) if size == 0 => V2::Rev16,
                _ => return None,
            };
            if size == 3 && !q {
                return None;
            }
            Some(FpInsn::Two {
                q,
                size,
                op,
                rd,
                rn,
            })
        }
        0b1000 => {
            let op = match (opcode, u) {
                (0b11011, false) => Reduce::Addv,
                (0b01010, true) => Reduce::Umaxv,
                (0b11010, true) => Reduce::Uminv,
                (0b01010, false) => Reduce::Smaxv,
                (0b11010, false) => Reduce::Sminv,
                (0b00011, true) => Reduce::Uaddlv,
                _ => return None,
            };
            if size == 3 || (size == 2 && !q) {
                return None;
            }
            Some(FpInsn::Across {
                q,
                size,
                op,
                rd,
                rn,
            })
        }
        _ => None,
    }
}

/// Decode LD1/ST1 (multiple structures); the caller has checked bits
/// 29:27 = 001 and V = 1 of the load/store group.
pub fn decode_ldst_multi(w: u32) -> Option<FpInsn> {
    if bit(w, 31) || bits(w, 29, 24) != 0b001100 || bit(w, 21) {
        return None;
    }
    let post = bit(w, 23);
    if !post && bits(w, 20, 16) != 0 {
        return None;
    }
    let regs = match bits(w, 15, 12) {
        0b0111 => 1,
        0b1010 => 2,
        0b0110 => 3,
        0b0010 => 4,
        _ => return None, // LD2/LD3/LD4 (interleaving): not implemented
    };
    let q = bit(w, 30);
    let rm = reg(w, 16);
    Some(FpInsn::LdSt1 {
        q,
        load: bit(w, 22),
        regs,
        esize_log2: bits(w, 11, 10) as u8,
        rt: reg(w, 0),
        rn: reg(w, 5),
        post: match (post, rm) {
            (false, _) => Post::None,
            (true, 31) => Post::Imm,
            (true, m) => Post::Reg(m),
        },
    })
}

// ---------------------------------------------------------------------------
// Scalar arithmetic with the Arm NaN rules.

const F32_QNAN: u32 = 0x7fc0_0000;
const F64_QNAN: u64 = 0x7ff8_0000_0000_0000;
/// FPCR.DN: default NaN mode.
const FPCR_DN: u64 = 1 << 25;

/// A scalar value in its precision, as raw bits widened to u64.
trait Float {
    fn is_nan_bits(b: u64) -> bool;
    fn is_snan_bits(b: u64) -> bool;
    fn quiet(b: u64) -> u64;
    fn default_nan() -> u64;
}

struct S;
struct D;

impl Float for S {
    fn is_nan_bits(b: u64) -> bool {
        f32::from_bits(b as u32).is_nan()
    }
    fn is_snan_bits(b: u64) -> bool {
        Self::is_nan_bits(b) && b & 0x0040_0000 == 0
    }
    fn quiet(b: u64) -> u64 {
        (b & 0xffff_ffff) | 0x0040_0000
    }
    fn default_nan() -> u64 {
        u64::from(F32_QNAN)
    }
}

impl Float for D {
    fn is_nan_bits(b: u64) -> bool {
        f64::from_bits(b).is_nan()
    }
    fn is_snan_bits(b: u64) -> bool {
        Self::is_nan_bits(b) && b & 0x0008_0000_0000_0000 == 0
    }
    fn quiet(b: u64) -> u64 {
        b | 0x0008_0000_0000_0000
    }
    fn default_nan() -> u64 {
        F64_QNAN
    }
}

/// The NaN result for NaN operands (`FPProcessNaNs3`), or `None` if no
/// operand is a NaN.
fn process_nans<F: Float>(ops: &[u64], dn: bool) -> Option<u64> {
    let pick = ops
        .iter()
        .find(|&&b| F::is_snan_bits(b))
        .or_else(|| ops.iter().find(|&&b| F::is_nan_bits(b)))?;
    Some(if dn {
        F::default_nan()
    } else {
        F::quiet(*pick)
    })
}

/// A host result: NaNs the host produced from non-NaN operands become the
/// Arm default NaN (x86 produces a negative one).
fn canon<F: Float>(r: u64) -> u64 {
    if F::is_nan_bits(r) {
        F::default_nan()
    } else {
        r
    }
}

fn f64_trunc(x: f64) -> f64 {
    let b = x.to_bits();
    let exp = ((b >> 52) & 0x7ff) as i32 - 1023;
    if exp >= 52 {
        return x; // integral, infinite or NaN
    }
    if exp < 0 {
        return f64::from_bits(b & (1 << 63));
    }
    let frac_mask = (1u64 << (52 - exp)) - 1;
    f64::from_bits(b & !frac_mask)
}

/// Round to an integral value (FRINT*) in double precision.
pub fn f64_round(x: f64, mode: Round) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let t = f64_trunc(x);
    if t == x {
        return x;
    }
    let r = match mode {
        Round::Zero => t,
        Round::Minus => {
            if x < 0.0 {
                t - 1.0
            } else {
                t
            }
        }
        Round::Plus => {
            if x > 0.0 {
                t + 1.0
            } else {
                t
            }
        }
        Round::NearestAway => {
            let frac = x - t; // exact
            if frac >= 0.5 {
                t + 1.0
            } else if frac <= -0.5 {
                t - 1.0
            } else {
                t
            }
        }
        Round::NearestEven => {
            // |x| < 2^52 here; adding and removing 2^52 rounds to an integer
            // in the host's nearest-even mode.
            let big = 4_503_599_627_370_496.0f64;
            let a = if x < 0.0 { -x } else { x };
            let r = (a + big) - big;
            if x < 0.0 {
                -r
            } else {
                r
            }
        }
    };
    // Keep the sign of x on a zero result (e.g. -0.3 -> -0.0).
    if r == 0.0 {
        f64::from_bits(x.to_bits() & (1 << 63))
    } else {
        r
    }
}

/// Integer square root of a u128 (floor).
fn isqrt_u128(n: u128) -> u128 {
    let mut x: u128 = 0;
    let mut bitv: u128 = 1 << 126;
    let mut n = n;
    while bitv > n {
        bitv >>= 2;
    }
    while bitv != 0 {
        if n >= x + bitv {
            n -= x + bitv;
            x = (x >> 1) + bitv;
        } else {
            x >>= 1;
        }
        bitv >>= 2;
    }
    x
}

/// Correctly rounded square root of a positive, finite, non-zero double.
fn f64_sqrt_pos(x: f64) -> f64 {
    let b = x.to_bits();
    let mut exp = ((b >> 52) & 0x7ff) as i32;
    let mut mant = b & ((1u64 << 52) - 1);
    if exp == 0 {
        // Subnormal: normalise.
        let shift = mant.leading_zeros() - 11;
        mant <<= shift;
        exp = 1 - shift as i32;
    } else {
        mant |= 1 << 52;
    }
    // x = mant * 2^(exp - 1075)
    let mut e = exp - 1075;
    let mut m = u128::from(mant);
    if e & 1 != 0 {
        m <<= 1;
        e -= 1;
    }
    // sqrt(m * 2^64) has 58..59 bits: enough for a round and a sticky bit.
    let big = m << 64;
    let r = isqrt_u128(big);
    let sticky = u128::from(r * r != big);
    let approx = (r | sticky) as u64 as f64; // one rounding, nearest-even
    let k = e / 2 - 32;
    approx * f64::from_bits(((1023 + k) as u64) << 52)
}

/// Square root with the Arm special cases, on raw double bits.
fn sqrt_d(a: u64, dn: bool) -> u64 {
    if let Some(n) = process_nans::<D>(&[a], dn) {
        return n;
    }
    let x = f64::from_bits(a);
    if x == 0.0 || x == f64::INFINITY {
        return a;
    }
    if x < 0.0 {
        return F64_QNAN;
    }
    f64_sqrt_pos(x).to_bits()
}

/// Decompose a finite double into (sign, exponent, 53-bit integer
/// significand) with value = sig * 2^exp.
fn unpack(x: f64) -> (bool, i32, u64) {
    let b = x.to_bits();
    let sign = b >> 63 != 0;
    let e = ((b >> 52) & 0x7ff) as i32;
    let m = b & ((1u64 << 52) - 1);
    if e == 0 {
        (sign, -1074, m)
    } else {
        (sign, e - 1075, m | (1 << 52))
    }
}

/// A binary floating-point format for [`pack_round`]: significand bits
/// (with the hidden bit) and minimum normal exponent.
#[derive(Clone, Copy)]
struct Fmt {
    prec: i32,
    emin: i32,
}

const F64_FMT: Fmt = Fmt {
    prec: 53,
    emin: -1022,
};
const F32_FMT: Fmt = Fmt {
    prec: 24,
    emin: -126,
};

/// 2^k as a double, for -1074 <= k <= 1023.
fn pow2(k: i32) -> f64 {
    if k >= -1022 {
        f64::from_bits(((1023 + k) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (k + 1074))
    }
}

/// Round `sign * sig * 2^exp` (sig != 0) to nearest-even in format `fmt`;
/// `sticky` means there are non-zero bits below `sig`. The result is a
/// double holding a value representable in `fmt` (or infinite on
/// overflow), so converting it to `fmt` is exact.
fn pack_round(sign: bool, sig: u128, exp: i32, sticky: bool, fmt: Fmt) -> f64 {
    let top = 127 - sig.leading_zeros() as i32; // index of the highest set bit
    let e = exp + top; // the value is in [2^e, 2^(e+1))
    let prec = if e < fmt.emin {
        fmt.prec - (fmt.emin - e)
    } else {
        fmt.prec
    };
    let min_sub = fmt.emin - (fmt.prec - 1); // exponent of the least subnormal
    if prec <= 0 {
        // Below the least subnormal: 0, or the least subnormal when above
        // half of it (exactly half ties to the even zero).
        let up = e == min_sub - 1 && (sig.count_ones() > 1 || sticky);
        let v = if up { pow2(min_sub) } else { 0.0 };
        return if sign { -v } else { v };
    }
    let drop = top + 1 - prec; // bits to drop from sig
    let (mut kept, round_up) = if drop > 0 {
        let d = drop as u32;
        let kept = sig >> d;
        let rem = sig & ((1u128 << d) - 1);
        let half = 1u128 << (d - 1);
        let up = rem > half || (rem == half && (sticky || kept & 1 == 1));
        (kept, up)
    } else {
        (sig << (-drop) as u32, false)
    };
    if round_up {
        kept += 1;
    }
    // kept * 2^(exp + drop), exactly: kept has at most 54 bits and the
    // scaling steps stay in the normal range until the last.
    let mut v = kept as u64 as f64;
    let mut s = exp + drop;
    while s > 0 {
        let step = s.min(1000);
        v *= pow2(step);
        s -= step;
    }
    while s < 0 {
        let step = (-s).min(1000);
        v *= pow2(-step);
        s += step;
    }
    if sign {
        -v
    } else {
        v
    }
}

/// Fused multiply-add `a * b + c` of doubles with a single rounding.
fn fma_f64(a: f64, b: f64, c: f64) -> f64 {
    fma_core(a, b, c, F64_FMT)
}

/// Fused multiply-add of singles (given exactly as doubles) with a single
/// rounding to single precision.
fn fma_f32(a: f32, b: f32, c: f32) -> f32 {
    // The result is representable in single precision, so `as` is exact
    // (or overflows to infinity, as the rounding requires).
    fma_core(f64::from(a), f64::from(b), f64::from(c), F32_FMT) as f32
}

/// `a * b + c` rounded once to `fmt`; the operands are exact doubles.
fn fma_core(a: f64, b: f64, c: f64, fmt: Fmt) -> f64 {
    if !a.is_finite() || !b.is_finite() || !c.is_finite() || a == 0.0 || b == 0.0 {
        // Infinities, NaNs and exact-zero products: the host's unfused
        // result is exact here (the product is exact or non-finite).
        return a * b + c;
    }
    let (sa, ea, ma) = unpack(a);
    let (sb, eb, mb) = unpack(b);
    let ps = sa != sb;
    let pm = u128::from(ma) * u128::from(mb); // exact, <= 106 bits
    let pe = ea + eb;
    if c == 0.0 {
        return pack_round(ps, pm, pe, false, fmt);
    }
    let (sc, ec, mc) = unpack(c);
    let mc = u128::from(mc);
    // Align both to the smaller exponent, keeping the total within 128 bits
    // by letting far-away bits collapse into a sticky flag.
    let (mut hi_s, mut hi_m, mut hi_e, mut lo_s, mut lo_m, mut lo_e) = (ps, pm, pe, sc, mc, ec);
    let hi_top = hi_e + (127 - hi_m.leading_zeros() as i32);
    let lo_top = lo_e + (127 - lo_m.leading_zeros() as i32);
    if lo_top > hi_top {
        core::mem::swap(&mut hi_s, &mut lo_s);
        core::mem::swap(&mut hi_m, &mut lo_m);
        core::mem::swap(&mut hi_e, &mut lo_e);
    }
    // Put the larger operand's top bit at position 124.
    let hi_shift = 124 - (127 - hi_m.leading_zeros() as i32);
    let hm = hi_m << hi_shift as u32;
    let base_e = hi_e - hi_shift;
    let d = lo_e - base_e; // lo value = lo_m * 2^lo_e = (lo_m << d) * 2^base_e
    let (lm, sticky) = if d >= 0 {
        (lo_m << d as u32, false)
    } else if -d >= 128 {
        (0, lo_m != 0)
    } else {
        let s = (-d) as u32;
        (lo_m >> s, lo_m & ((1u128 << s) - 1) != 0)
    };
    let (sign, mag, sticky_sub) = if hi_s == lo_s {
        (hi_s, hm + lm, false)
    } else if lm > hm {
        // Same top bit position: the aligned low operand can be the larger
        // (no bits were shifted out in that case).
        (lo_s, lm - hm, false)
    } else {
        // hm >= lm; a sticky remainder means the true lm is slightly larger,
        // so borrow one unit and keep the sticky bit.
        let m = hm - lm - u128::from(sticky);
        (hi_s, m, sticky)
    };
    let sticky = sticky || sticky_sub;
    if mag == 0 && !sticky {
        // Exact cancellation: +0 in round-to-nearest.
        return 0.0;
    }
    if mag == 0 {
        return pack_round(sign, 1, base_e - 1, false, fmt);
    }
    pack_round(sign, mag, base_e, sticky, fmt)
}

fn to_f64(ty: FpTy, b: u64) -> f64 {
    match ty {
        FpTy::S => f64::from(f32::from_bits(b as u32)),
        FpTy::D => f64::from_bits(b),
    }
}

/// Apply a two-source operation on raw bits.
fn dp2_bits(ty: FpTy, op: Fp2, a: u64, b: u64, dn: bool) -> u64 {
    if op == Fp2::Nmul {
        // FNMUL negates the product, NaN results included.
        let sign = match ty {
            FpTy::S => 1u64 << 31,
            FpTy::D => 1u64 << 63,
        };
        return dp2_bits(ty, Fp2::Mul, a, b, dn) ^ sign;
    }
    macro_rules! arith {
        ($F:ty, $fl:ty, $to:expr, $from:expr) => {{
            let is_minmax = matches!(op, Fp2::MaxNm | Fp2::MinNm);
            if is_minmax {
                // A single quiet NaN loses against a number.
                let qa = <$F>::is_nan_bits(a) && !<$F>::is_snan_bits(a);
                let qb = <$F>::is_nan_bits(b) && !<$F>::is_snan_bits(b);
                if qa && !<$F>::is_nan_bits(b) {
                    return b;
                }
                if qb && !<$F>::is_nan_bits(a) {
                    return a;
                }
            }
            if let Some(n) = process_nans::<$F>(&[a, b], dn) {
                return n;
            }
            let x: $fl = $to(a);
            let y: $fl = $to(b);
            let r: $fl = match op {
                Fp2::Mul => x * y,
                Fp2::Div => x / y,
                Fp2::Add => x + y,
                Fp2::Sub => x - y,
                Fp2::Nmul => -(x * y), // not reached: handled above
                Fp2::Max | Fp2::MaxNm => {
                    if x == y {
                        // +0 > -0
                        if x.is_sign_negative() {
                            y
                        } else {
                            x
                        }
                    } else if x > y {
                        x
                    } else {
                        y
                    }
                }
                Fp2::Min | Fp2::MinNm => {
                    if x == y {
                        if x.is_sign_negative() {
                            x
                        } else {
                            y
                        }
                    } else if x < y {
                        x
                    } else {
                        y
                    }
                }
            };
            canon::<$F>($from(r))
        }};
    }
    match ty {
        FpTy::S => arith!(S, f32, |v: u64| f32::from_bits(v as u32), |r: f32| {
            u64::from(r.to_bits())
        }),
        FpTy::D => arith!(D, f64, f64::from_bits, |r: f64| r.to_bits()),
    }
}

/// FCMP result in NZCV layout.
fn compare(ty: FpTy, a: u64, b: u64) -> u32 {
    let (x, y) = (to_f64(ty, a), to_f64(ty, b));
    if x.is_nan() || y.is_nan() {
        0b0011 << 28
    } else if x == y {
        0b0110 << 28
    } else if x < y {
        0b1000 << 28
    } else {
        0b0010 << 28
    }
}

/// Low `esize` bits of lane `i` of `v`.
#[inline]
fn lane(v: u128, esize: u32, i: u32) -> u64 {
    let m = if esize >= 64 {
        u64::MAX
    } else {
        (1u64 << esize) - 1
    };
    ((v >> (i * esize)) as u64) & m
}

#[inline]
fn set_lane(v: &mut u128, esize: u32, i: u32, x: u64) {
    let m: u128 = if esize >= 64 {
        u128::from(u64::MAX)
    } else {
        (1u128 << esize) - 1
    };
    let sh = i * esize;
    *v = (*v & !(m << sh)) | ((u128::from(x) & m) << sh);
}

#[inline]
fn sext(x: u64, bits: u32) -> i64 {
    let sh = 64 - bits;
    ((x << sh) as i64) >> sh
}

#[inline]
fn qmask(q: bool, v: u128) -> u128 {
    if q {
        v
    } else {
        v & u128::from(u64::MAX)
    }
}

/// Execute a non-memory FP/SIMD instruction on `cpu`. The caller has done
/// the CPACR check. Returns `false` if the instruction is unallocated after
/// all (the caller raises Undefined).
pub fn execute(cpu: &mut Cpu, f: &FpInsn, flags_live: bool) -> bool {
    let dn = cpu.sys.fpcr & FPCR_DN != 0;
    let sbits = |ty: FpTy, v: u128| -> u64 {
        match ty {
            FpTy::S => v as u32 as u64,
            FpTy::D => v as u64,
        }
    };
    match *f {
        FpInsn::Dp1 { ty, op, rd, rn } => {
            let a = sbits(ty, cpu.v(rn));
            let r: u128 = match (op, ty) {
                (Fp1::Mov, _) => u128::from(a),
                (Fp1::Abs, FpTy::S) => u128::from(a & 0x7fff_ffff),
                (Fp1::Abs, FpTy::D) => u128::from(a & !(1 << 63)),
                (Fp1::Neg, FpTy::S) => u128::from(a ^ 0x8000_0000),
                (Fp1::Neg, FpTy::D) => u128::from(a ^ (1 << 63)),
                (Fp1::Sqrt, FpTy::D) => u128::from(sqrt_d(a, dn)),
                (Fp1::Sqrt, FpTy::S) => {
                    if let Some(n) = process_nans::<S>(&[a], dn) {
                        u128::from(n)
                    } else {
                        let d = f64::from(f32::from_bits(a as u32)).to_bits();
                        // sqrt in double then to single is correctly rounded
                        // (53 >= 2 * 24 + 2).
                        let r = f64::from_bits(sqrt_d(d, dn));
                        if r.is_nan() {
                            u128::from(F32_QNAN)
                        } else {
                            u128::from((r as f32).to_bits())
                        }
                    }
                }
                (Fp1::Cvt(FpTy::D), FpTy::S) => {
                    if S::is_nan_bits(a) {
                        let q = if dn {
                            F64_QNAN
                        } else {
                            ((a >> 31) << 63) | 0x7ff8_0000_0000_0000 | ((a & 0x3f_ffff) << 29)
                        };
                        u128::from(q)
                    } else {
                        u128::from(f64::from(f32::from_bits(a as u32)).to_bits())
                    }
                }
                (Fp1::Cvt(FpTy::S), FpTy::D) => {
                    if D::is_nan_bits(a) {
                        let q = if dn {
                            u64::from(F32_QNAN)
                        } else {
                            ((a >> 63) << 31) | 0x7fc0_0000 | ((a >> 29) & 0x3f_ffff)
                        };
                        u128::from(q)
                    } else {
                        u128::from((f64::from_bits(a) as f32).to_bits())
                    }
                }
                (Fp1::Cvt(_), _) => return false,
                (Fp1::Rint(mode), _) => {
                    let n = match ty {
                        FpTy::S => process_nans::<S>(&[a], dn),
                        FpTy::D => process_nans::<D>(&[a], dn),
                    };
                    match (n, ty) {
                        (Some(n), _) => u128::from(n),
                        (None, FpTy::S) => {
                            let x = f64::from(f32::from_bits(a as u32));
                            u128::from((f64_round(x, mode) as f32).to_bits())
                        }
                        (None, FpTy::D) => u128::from(f64_round(f64::from_bits(a), mode).to_bits()),
                    }
                }
            };
            cpu.set_v(rd, r);
        }
        FpInsn::Dp2 { ty, op, rd, rn, rm } => {
            let r = dp2_bits(ty, op, sbits(ty, cpu.v(rn)), sbits(ty, cpu.v(rm)), dn);
            cpu.set_v(rd, u128::from(r));
        }
        FpInsn::Dp3 {
            ty,
            neg,
            sub,
            rd,
            rn,
            rm,
            ra,
        } => {
            // FMSUB/FNMADD negate the multiplicand, FNMADD/FNMSUB the
            // addend, before NaN processing (as the Arm pseudocode does).
            let sign = match ty {
                FpTy::S => 1u64 << 31,
                FpTy::D => 1u64 << 63,
            };
            let n = sbits(ty, cpu.v(rn)) ^ if sub != neg { sign } else { 0 };
            let a = sbits(ty, cpu.v(ra)) ^ if neg { sign } else { 0 };
            let m = sbits(ty, cpu.v(rm));
            // A quiet-NaN addend with an infinity-times-zero product gives
            // the default NaN (FPMulAdd), not the addend.
            let (xn, xm) = (to_f64(ty, n), to_f64(ty, m));
            let inf_times_zero = (xn.is_infinite() && xm == 0.0) || (xn == 0.0 && xm.is_infinite());
            let quiet_addend = match ty {
                FpTy::S => S::is_nan_bits(a) && !S::is_snan_bits(a),
                FpTy::D => D::is_nan_bits(a) && !D::is_snan_bits(a),
            };
            let r = match ty {
                _ if quiet_addend && inf_times_zero => match ty {
                    FpTy::S => S::default_nan(),
                    FpTy::D => D::default_nan(),
                },
                FpTy::D => match process_nans::<D>(&[a, n, m], dn) {
                    Some(x) => x,
                    None => canon::<D>(
                        fma_f64(f64::from_bits(n), f64::from_bits(m), f64::from_bits(a)).to_bits(),
                    ),
                },
                FpTy::S => match process_nans::<S>(&[a, n, m], dn) {
                    Some(x) => x,
                    None => {
                        let f = |b: u64| f32::from_bits(b as u32);
                        canon::<S>(u64::from(fma_f32(f(n), f(m), f(a)).to_bits()))
                    }
                },
            };
            cpu.set_v(rd, u128::from(r));
        }
        FpInsn::Cmp { ty, rn, rm, zero } => {
            if flags_live {
                let b = if zero { 0 } else { sbits(ty, cpu.v(rm)) };
                let nzcv = compare(ty, sbits(ty, cpu.v(rn)), b);
                cpu.set_nzcv(nzcv);
            }
        }
        FpInsn::CondCmp {
            ty,
            rn,
            rm,
            cond,
            nzcv,
        } => {
            if flags_live {
                let r = if cond_holds(cond, cpu.nzcv()) {
                    compare(ty, sbits(ty, cpu.v(rn)), sbits(ty, cpu.v(rm)))
                } else {
                    u32::from(nzcv) << 28
                };
                cpu.set_nzcv(r);
            }
        }
        FpInsn::Csel {
            ty,
            rd,
            rn,
            rm,
            cond,
        } => {
            let src = if cond_holds(cond, cpu.nzcv()) { rn } else { rm };
            let v = sbits(ty, cpu.v(src));
            cpu.set_v(rd, u128::from(v));
        }
        FpInsn::Imm { rd, bits, .. } => cpu.set_v(rd, u128::from(bits)),
        FpInsn::ToInt {
            sf,
            ty,
            rd,
            rn,
            round,
            unsigned,
        } => {
            let x = to_f64(ty, sbits(ty, cpu.v(rn)));
            let r = f64_round(x, round); // NaN stays NaN; `as` maps it to 0
            let v = match (sf, unsigned) {
                (false, false) => u64::from(r as i32 as u32),
                (false, true) => u64::from(r as u32),
                (true, false) => r as i64 as u64,
                (true, true) => r as u64,
            };
            cpu.set_x(rd, v);
        }
        FpInsn::FromInt {
            sf,
            ty,
            rd,
            rn,
            unsigned,
        } => {
            let x = cpu.x(rn);
            let r: u64 = match (ty, sf, unsigned) {
                (FpTy::S, false, false) => u64::from((x as i32 as f32).to_bits()),
                (FpTy::S, false, true) => u64::from((x as u32 as f32).to_bits()),
                (FpTy::S, true, false) => u64::from((x as i64 as f32).to_bits()),
                (FpTy::S, true, true) => u64::from((x as f32).to_bits()),
                (FpTy::D, false, false) => f64::from(x as i32).to_bits(),
                (FpTy::D, false, true) => f64::from(x as u32).to_bits(),
                (FpTy::D, true, false) => (x as i64 as f64).to_bits(),
                (FpTy::D, true, true) => (x as f64).to_bits(),
            };
            cpu.set_v(rd, u128::from(r));
        }
        FpInsn::MovToGp { bits, rd, rn } => {
            let v = cpu.v(rn);
            let r = match bits {
                32 => u64::from(v as u32),
                64 => v as u64,
                _ => (v >> 64) as u64,
            };
            cpu.set_x(rd, r);
        }
        FpInsn::MovFromGp { bits, rd, rn } => {
            let x = cpu.x(rn);
            let r = match bits {
                32 => u128::from(x as u32),
                64 => u128::from(x),
                _ => (cpu.v(rd) & u128::from(u64::MAX)) | (u128::from(x) << 64),
            };
            cpu.set_v(rd, r);
        }
        FpInsn::Logic { q, op, rd, rn, rm } => {
            let (d, n, m) = (cpu.v(rd), cpu.v(rn), cpu.v(rm));
            let r = match op {
                VLogic::And => n & m,
                VLogic::Bic => n & !m,
                VLogic::Orr => n | m,
                VLogic::Orn => n | !m,
                VLogic::Eor => n ^ m,
                VLogic::Bsl => (d & n) | (!d & m),
                VLogic::Bit => (n & m) | (d & !m),
                VLogic::Bif => (n & !m) | (d & m),
            };
            cpu.set_v(rd, qmask(q, r));
        }
        FpInsn::ModImm { q, op, imm, rd } => {
            let imm128 = u128::from(imm) | (u128::from(imm) << 64);
            let d = cpu.v(rd);
            let r = match op {
                ModOp::Movi => imm128,
                ModOp::Mvni => !imm128,
                ModOp::Orr => d | imm128,
                ModOp::Bic => d & !imm128,
            };
            cpu.set_v(rd, qmask(q, r));
        }
        FpInsn::Three {
            q,
            size,
            op,
            rd,
            rn,
            rm,
        } => {
            let es = 8u32 << size;
            let lanes = if q { 128 / es } else { 64 / es };
            let (n, m) = (cpu.v(rn), cpu.v(rm));
            let mut r = 0u128;
            let ones = if es == 64 { u64::MAX } else { (1u64 << es) - 1 };
            for i in 0..lanes {
                let (a, b) = if matches!(op, V3::Addp | V3::Umaxp | V3::Uminp) {
                    // Pairwise over the concatenation Vm:Vn.
                    let src = |j: u32| {
                        if j < lanes {
                            lane(n, es, j)
                        } else {
                            lane(m, es, j - lanes)
                        }
                    };
                    (src(2 * i), src(2 * i + 1))
                } else {
                    (lane(n, es, i), lane(m, es, i))
                };
                let (sa, sb) = (sext(a, es), sext(b, es));
                let t = |c: bool| if c { ones } else { 0 };
                let x = match op {
                    V3::Add | V3::Addp => a.wrapping_add(b),
                    V3::Sub => a.wrapping_sub(b),
                    V3::Cmeq => t(a == b),
                    V3::Cmtst => t(a & b != 0),
                    V3::Cmhi => t(a > b),
                    V3::Cmhs => t(a >= b),
                    V3::Cmgt => t(sa > sb),
                    V3::Cmge => t(sa >= sb),
                    V3::Umax | V3::Umaxp => a.max(b),
                    V3::Umin | V3::Uminp => a.min(b),
                    V3::Smax => sa.max(sb) as u64,
                    V3::Smin => sa.min(sb) as u64,
                    V3::Mul => a.wrapping_mul(b),
                };
                set_lane(&mut r, es, i, x);
            }
            cpu.set_v(rd, r);
        }
        FpInsn::FThree {
            q,
            dbl,
            op,
            rd,
            rn,
            rm,
        } => {
            let (es, ty) = if dbl { (64, FpTy::D) } else { (32, FpTy::S) };
            let lanes = if q { 128 / es } else { 64 / es };
            let (n, m) = (cpu.v(rn), cpu.v(rm));
            let mut r = 0u128;
            for i in 0..lanes {
                let x = dp2_bits(ty, op, lane(n, es, i), lane(m, es, i), dn);
                set_lane(&mut r, es, i, x);
            }
            cpu.set_v(rd, r);
        }
        FpInsn::FTwo {
            q,
            dbl,
            neg,
            rd,
            rn,
        } => {
            let es = if dbl { 64 } else { 32 };
            let lanes = if q { 128 / es } else { 64 / es };
            let n = cpu.v(rn);
            let sign = 1u64 << (es - 1);
            let mut r = 0u128;
            for i in 0..lanes {
                let a = lane(n, es, i);
                set_lane(&mut r, es, i, if neg { a ^ sign } else { a & !sign });
            }
            cpu.set_v(rd, r);
        }
        FpInsn::Two {
            q,
            size,
            op,
            rd,
            rn,
        } => {
            let es = 8u32 << size;
            let lanes = if q { 128 / es } else { 64 / es };
            let n = cpu.v(rn);
            let ones = if es == 64 { u64::MAX } else { (1u64 << es) - 1 };
            let mut r = 0u128;
            match op {
                V2::Not => r = qmask(q, !n),
                V2::Xtn => {
                    // Narrow 2*es -> es... here `size` is the destination size.
                    let src_es = es * 2;
                    let count = 64 / es;
                    let mut lo = 0u128;
                    for i in 0..count {
                        set_lane(&mut lo, es, i, lane(n, src_es, i));
                    }
                    r = if q {
                        (cpu.v(rd) & u128::from(u64::MAX)) | (lo << 64)
                    } else {
                        lo
                    };
                }
                V2::Rev64 | V2::Rev32 | V2::Rev16 => {
                    let container = match op {
                        V2::Rev64 => 64,
                        V2::Rev32 => 32,
                        _ => 16,
                    };
                    // Decoding keeps es below the container size.
                    let per = container / es;
                    for i in 0..lanes {
                        let base = (i / per) * per;
                        let j = base + (per - 1 - (i - base));
                        set_lane(&mut r, es, i, lane(n, es, j));
                    }
                }
                _ => {
                    for i in 0..lanes {
                        let a = lane(n, es, i);
                        let s = sext(a, es);
                        let t = |c: bool| if c { ones } else { 0 };
                        let x = match op {
                            V2::Cmeq0 => t(a == 0),
                            V2::Cmgt0 => t(s > 0),
                            V2::Cmge0 => t(s >= 0),
                            V2::Cmle0 => t(s <= 0),
                            V2::Cmlt0 => t(s < 0),
                            _ => u64::from(a.count_ones()), // CNT (bytes)
                        };
                        set_lane(&mut r, es, i, x);
                    }
                }
            }
            cpu.set_v(rd, r);
        }
        FpInsn::Across {
            q,
            size,
            op,
            rd,
            rn,
        } => {
            let es = 8u32 << size;
            let lanes = if q { 128 / es } else { 64 / es };
            let n = cpu.v(rn);
            let mut acc: i128 = match op {
                Reduce::Addv | Reduce::Uaddlv => 0,
                Reduce::Umaxv => 0,
                Reduce::Uminv => i128::from(u64::MAX),
                Reduce::Smaxv => i128::from(i64::MIN),
                Reduce::Sminv => i128::from(i64::MAX),
            };
            for i in 0..lanes {
                let a = lane(n, es, i);
                let s = i128::from(sext(a, es));
                let u = i128::from(a);
                acc = match op {
                    Reduce::Addv | Reduce::Uaddlv => acc + u,
                    Reduce::Umaxv => acc.max(u),
                    Reduce::Uminv => acc.min(u),
                    Reduce::Smaxv => acc.max(s),
                    Reduce::Sminv => acc.min(s),
                };
            }
            let out_es = if op == Reduce::Uaddlv { es * 2 } else { es };
            let mut r = 0u128;
            set_lane(&mut r, out_es, 0, acc as u64);
            cpu.set_v(rd, r);
        }
        FpInsn::DupScalar {
            size,
            index,
            rd,
            rn,
        } => {
            let es = 8u32 << size;
            cpu.set_v(rd, u128::from(lane(cpu.v(rn), es, u32::from(index))));
        }
        FpInsn::DupElem {
            q,
            size,
            index,
            rd,
            rn,
        } => {
            let es = 8u32 << size;
            let x = lane(cpu.v(rn), es, u32::from(index));
            let mut r = 0u128;
            for i in 0..(if q { 128 } else { 64 }) / es {
                set_lane(&mut r, es, i, x);
            }
            cpu.set_v(rd, r);
        }
        FpInsn::DupGp { q, size, rd, rn } => {
            let es = 8u32 << size;
            let x = cpu.x(rn);
            let mut r = 0u128;
            for i in 0..(if q { 128 } else { 64 }) / es {
                set_lane(&mut r, es, i, x);
            }
            cpu.set_v(rd, r);
        }
        FpInsn::InsGp {
            size,
            index,
            rd,
            rn,
        } => {
            let mut r = cpu.v(rd);
            set_lane(&mut r, 8 << size, u32::from(index), cpu.x(rn));
            cpu.set_v(rd, r);
        }
        FpInsn::InsElem {
            size,
            dst,
            src,
            rd,
            rn,
        } => {
            let es = 8u32 << size;
            let x = lane(cpu.v(rn), es, u32::from(src));
            let mut r = cpu.v(rd);
            set_lane(&mut r, es, u32::from(dst), x);
            cpu.set_v(rd, r);
        }
        FpInsn::Mov {
            size,
            index,
            rd,
            rn,
            signed,
            x,
        } => {
            let es = 8u32 << size;
            let a = lane(cpu.v(rn), es, u32::from(index));
            let v = if signed { sext(a, es) as u64 } else { a };
            cpu.set_x(rd, if x { v } else { v & 0xffff_ffff });
        }
        FpInsn::Ext {
            q,
            index,
            rd,
            rn,
            rm,
        } => {
            let (n, m) = (cpu.v(rn), cpu.v(rm));
            let r = if q {
                let i = u32::from(index) * 8;
                if i == 0 {
                    n
                } else {
                    (n >> i) | (m << (128 - i))
                }
            } else {
                let cat = (n & u128::from(u64::MAX)) | ((m & u128::from(u64::MAX)) << 64);
                (cat >> (u32::from(index) * 8)) & u128::from(u64::MAX)
            };
            cpu.set_v(rd, r);
        }
        FpInsn::Shift {
            q,
            size,
            op,
            shift,
            rd,
            rn,
        } => {
            let n = cpu.v(rn);
            let sh = u32::from(shift);
            let mut r = 0u128;
            match op {
                VShift::Ushr | VShift::Sshr | VShift::Shl | VShift::Sli | VShift::Sri => {
                    let es = 8u32 << size;
                    let lanes = if q { 128 / es } else { 64 / es };
                    let ones = u64::MAX >> (64 - es);
                    let d = cpu.v(rd);
                    for i in 0..lanes {
                        let a = lane(n, es, i);
                        let old = lane(d, es, i);
                        let x = match op {
                            VShift::Ushr => a.checked_shr(sh).unwrap_or(0),
                            VShift::Sshr => (sext(a, es) >> sh.min(63)) as u64,
                            VShift::Sli => {
                                let kept = old & !(ones.checked_shl(sh).unwrap_or(0));
                                a.checked_shl(sh).unwrap_or(0) | kept
                            }
                            VShift::Sri => {
                                let kept = old & !(ones.checked_shr(sh).unwrap_or(0));
                                a.checked_shr(sh).unwrap_or(0) | kept
                            }
                            _ => a.checked_shl(sh).unwrap_or(0),
                        };
                        set_lane(&mut r, es, i, x);
                    }
                    r = qmask(q, r);
                }
                VShift::Shrn => {
                    // `size` is the source element size (2x the result).
                    let src = 8u32 << size;
                    let es = src / 2;
                    let mut lo = 0u128;
                    for i in 0..64 / es {
                        set_lane(&mut lo, es, i, lane(n, src, i) >> sh);
                    }
                    r = if q {
                        (cpu.v(rd) & u128::from(u64::MAX)) | (lo << 64)
                    } else {
                        lo
                    };
                }
                VShift::Ushll | VShift::Sshll => {
                    let es = 8u32 << size;
                    let half = if q { n >> 64 } else { n };
                    for i in 0..64 / es {
                        let a = lane(half, es, i);
                        let v = if op == VShift::Sshll {
                            sext(a, es) as u64
                        } else {
                            a
                        };
                        set_lane(&mut r, es * 2, i, v << sh);
                    }
                }
            }
            cpu.set_v(rd, r);
        }
        FpInsn::LdSt1 { .. } => return false, // handled by the interpreter
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fp_immediates_expand_per_vfp_expand_imm() {
        // 0x70 = 1.0, 0xe0 = -0.5 (llvm-mc: fmov d0, #1.0 / fmov s1, #-0.5).
        assert_eq!(f64::from_bits(expand_fp_imm(0x70, FpTy::D)), 1.0);
        assert_eq!(f32::from_bits(expand_fp_imm(0xe0, FpTy::S) as u32), -0.5);
        assert_eq!(f64::from_bits(expand_fp_imm(0x00, FpTy::D)), 2.0);
        assert_eq!(f32::from_bits(expand_fp_imm(0x7f, FpTy::S) as u32), 1.9375);
    }

    #[test]
    fn rounding_to_integral() {
        let cases = [
            (2.5, Round::NearestEven, 2.0),
            (3.5, Round::NearestEven, 4.0),
            (-2.5, Round::NearestAway, -3.0),
            (2.5, Round::NearestAway, 3.0),
            (-0.5, Round::Plus, -0.0),
            (-0.5, Round::Minus, -1.0),
            (1.7, Round::Zero, 1.0),
            (-1.7, Round::Zero, -1.0),
            (1e300, Round::Minus, 1e300),
        ];
        for (x, mode, want) in cases {
            let got = f64_round(x, mode);
            assert_eq!(got.to_bits(), f64::to_bits(want), "{x} {mode:?}");
        }
    }

    #[test]
    fn square_roots_are_correctly_rounded() {
        // Exact squares, and values whose roots are checked by squaring
        // the neighbours (the true root lies between).
        for (x, want) in [(4.0, 2.0), (2.25, 1.5), (0.0625, 0.25)] {
            assert_eq!(f64_sqrt_pos(x), want);
        }
        for x in [
            2.0f64,
            3.0,
            10.0,
            1e-310,
            5e-324,
            1.7976931348623157e308,
            0.1,
        ] {
            let r = f64_sqrt_pos(x);
            let up = f64::from_bits(r.to_bits() + 1);
            let down = f64::from_bits(r.to_bits() - 1);
            // r is the nearest: |r^2 - x| is at most the neighbours'.
            let err = |y: f64| fma_f64(y, y, -x).abs();
            assert!(err(r) <= err(up) && err(r) <= err(down), "sqrt({x}) = {r}");
        }
    }

    #[test]
    fn fused_multiply_add_rounds_once() {
        // (1 + 2^-52)^2 - 1 = 2^-51 + 2^-104: an unfused a*a - 1 loses the
        // 2^-104 term, the fused one keeps it.
        let a = 1.0 + f64::EPSILON;
        let fused = fma_f64(a, a, -1.0);
        assert_eq!(fused, 2.0 * f64::EPSILON + f64::EPSILON * f64::EPSILON);
        assert_eq!(fma_f64(2.0, 3.0, 4.0), 10.0);
        assert_eq!(fma_f64(1e308, 10.0, -1e308), f64::INFINITY);
        assert_eq!(fma_f64(-1.5, 2.0, 3.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(
            fma_f64(f64::MIN_POSITIVE, 0.5, 0.0),
            f64::MIN_POSITIVE / 2.0
        );
    }

    #[test]
    fn single_precision_fma_rounds_once() {
        // a * b = 2^-24 - 2^-70 exactly; c = 1 + 2^-23. The exact sum lies
        // just below the tie between 1 + 2^-23 and 1 + 2^-22, so the fused
        // result is 1 + 2^-23; rounding through double first lands on the
        // tie and goes to 1 + 2^-22.
        let a = f32::from_bits(0x3980_0001); // 2^-12 (1 + 2^-23)
        let b = f32::from_bits(0x397f_fffe); // 2^-12 (1 - 2^-23)
        let c = f32::from_bits(0x3f80_0001); // 1 + 2^-23
        assert_eq!(fma_f32(a, b, c).to_bits(), 0x3f80_0001);
        let twice = (f64::from(a) * f64::from(b) + f64::from(c)) as f32;
        assert_eq!(
            twice.to_bits(),
            0x3f80_0002,
            "the case does need one rounding"
        );
        // Results in the single-precision subnormal range round there.
        let tiny = f32::from_bits(0x0080_0000); // least normal
        assert_eq!(fma_f32(tiny, 0.5, 0.0).to_bits(), 0x0040_0000);
    }

    #[test]
    fn nans_follow_the_arm_rules() {
        let snan = 0x7ff0_0000_0000_0001u64;
        let qnan = 0x7ff8_0000_0000_0002u64;
        let one = 1.0f64.to_bits();
        // SNaN wins over an earlier QNaN and comes back quietened.
        assert_eq!(
            dp2_bits(FpTy::D, Fp2::Add, qnan, snan, false),
            snan | (1 << 51)
        );
        assert_eq!(dp2_bits(FpTy::D, Fp2::Add, qnan, one, false), qnan);
        assert_eq!(dp2_bits(FpTy::D, Fp2::Add, qnan, one, true), F64_QNAN);
        // Invalid operations give the positive default NaN.
        let inf = f64::INFINITY.to_bits();
        assert_eq!(dp2_bits(FpTy::D, Fp2::Sub, inf, inf, false), F64_QNAN);
        // FMAXNM prefers the number to a quiet NaN; FMAX does not.
        assert_eq!(dp2_bits(FpTy::D, Fp2::MaxNm, qnan, one, false), one);
        assert_eq!(dp2_bits(FpTy::D, Fp2::Max, qnan, one, false), qnan);
        // -0 < +0 for FMIN/FMAX.
        let nz = (-0.0f64).to_bits();
        assert_eq!(dp2_bits(FpTy::D, Fp2::Min, 0, nz, false), nz);
        assert_eq!(dp2_bits(FpTy::D, Fp2::Max, nz, 0, false), 0);
        // FNMUL negates NaN results too (checked against QEMU).
        assert_eq!(
            dp2_bits(FpTy::D, Fp2::Nmul, qnan, one, false),
            qnan | (1 << 63)
        );
        let zero = 0u64;
        assert_eq!(
            dp2_bits(FpTy::D, Fp2::Nmul, inf, zero, false),
            F64_QNAN | (1 << 63)
        );
    }
}

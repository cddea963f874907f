//! ARMv8.0 floating-point arithmetic instructions, scalar and vector:
//! decoding into the compact [`Arith`] form and execution on [`soft`],
//! which honours FPCR (rounding mode, FZ, DN, AHP) and raises the FPSR
//! cumulative flags.
//!
//! Covered: FP data processing (1, 2 and 3 sources), compares and
//! conditional compares, conversions to and from general registers
//! (including fixed point), and the Advanced SIMD FP forms: scalar and
//! vector three-same, two-register misc, pairwise, across lanes, by
//! element and the fixed-point shift-immediate conversions. Half precision
//! is only converted to and from (FEAT_FP16 arithmetic encodings stay
//! Undefined).

use super::lanes::{lane, set_lane};
use super::soft::{self, Cmp, Env, Fmt, Rm};
use super::FpInsn;
use crate::translate::cond::cond_holds;
use crate::translate::interp::Cpu;

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

/// Element type and count: a scalar in the low bits of a V register (the
/// rest zeroed), or a vector arrangement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Scalar single.
    S,
    /// Scalar double.
    D,
    /// 2S (the upper 64 bits are zeroed).
    V2S,
    /// 4S.
    V4S,
    /// 2D.
    V2D,
}

impl Shape {
    #[inline]
    fn fmt(self) -> Fmt {
        match self {
            Shape::S | Shape::V2S | Shape::V4S => Fmt::S,
            Shape::D | Shape::V2D => Fmt::D,
        }
    }
    #[inline]
    fn lanes(self) -> u32 {
        match self {
            Shape::S | Shape::D => 1,
            Shape::V2S | Shape::V2D => 2,
            Shape::V4S => 4,
        }
    }
    #[inline]
    fn esize(self) -> u32 {
        self.fmt().width()
    }
    /// Scalar `sz`, or vector `q`/`sz`; `None` for the reserved 1D form.
    fn vector(q: bool, sz: bool) -> Option<Shape> {
        Some(match (q, sz) {
            (false, false) => Shape::V2S,
            (true, false) => Shape::V4S,
            (true, true) => Shape::V2D,
            (false, true) => return None,
        })
    }
    fn scalar(sz: bool) -> Shape {
        if sz {
            Shape::D
        } else {
            Shape::S
        }
    }
}

/// Two-operand element operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bin {
    Add,
    Sub,
    Mul,
    Div,
    Max,
    Min,
    MaxNm,
    MinNm,
    /// FNMUL: the negated product (NaN results included).
    Nmul,
    /// FABD: |a - b|.
    Abd,
    Mulx,
    Recps,
    Rsqrts,
    /// FCMEQ (register).
    Eq,
    /// FCMGE (register).
    Ge,
    /// FCMGT (register).
    Gt,
    /// FACGE.
    AcGe,
    /// FACGT.
    AcGt,
}

/// Rounding of FRINT* and FCVT*.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rnd {
    /// The FPCR mode (FRINTX, FRINTI).
    Fpcr,
    /// A fixed mode.
    Fixed(Rm),
}

/// Compares against zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpZ {
    Eq,
    Ge,
    Gt,
    Le,
    Lt,
}

/// One-operand element operations (same size in and out).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Un {
    Mov,
    Abs,
    Neg,
    Sqrt,
    /// FRINT*; `exact`: FRINTX.
    Rint {
        rnd: Rnd,
        exact: bool,
    },
    Recpe,
    Rsqrte,
    Recpx,
    CmpZ(CmpZ),
    /// FCVT{N,P,M,Z,A}{S,U} (vector/scalar SIMD form), fixed point with
    /// `fbits`.
    ToInt {
        rm: Rm,
        unsigned: bool,
        fbits: u8,
    },
    /// SCVTF/UCVTF (vector/scalar SIMD form).
    FromInt {
        unsigned: bool,
        fbits: u8,
    },
    /// URECPE (32-bit lanes).
    URecpe,
    /// URSQRTE (32-bit lanes).
    URsqrte,
}

/// By-element operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElemOp {
    Mul,
    Mulx,
    Mla,
    Mls,
}

/// A decoded FP arithmetic instruction. Registers are V registers except
/// where named (`ToGp`'s rd, `FromGp`'s rn: general registers, 31 = ZR).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Arith {
    /// Element-wise two-operand operation.
    Bin {
        op: Bin,
        sh: Shape,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    /// Vector pairwise over Vm:Vn (FADDP, FMAXP, ...).
    Pair {
        op: Bin,
        sh: Shape,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    /// Scalar pairwise: op(Vn\[0\], Vn\[1\]).
    PairScalar { op: Bin, sh: Shape, rd: u8, rn: u8 },
    /// Across lanes of a 4S vector (FMAXV, ...).
    Across { op: Bin, rd: u8, rn: u8 },
    /// FPMulAdd(±Va, ±Vn, Vm): scalar FMADD family (`ra` the addend) and
    /// vector FMLA/FMLS (`ra` = `rd`).
    Fma {
        sh: Shape,
        neg_n: bool,
        neg_a: bool,
        rd: u8,
        rn: u8,
        rm: u8,
        ra: u8,
    },
    /// By element: Vm.T\[index\] is the second operand.
    Elem {
        op: ElemOp,
        sh: Shape,
        rd: u8,
        rn: u8,
        rm: u8,
        index: u8,
    },
    /// Element-wise one-operand operation.
    Un { op: Un, sh: Shape, rd: u8, rn: u8 },
    /// Scalar FCVT between precisions (`odd`: FCVTXN).
    Cvt {
        from: Fmt,
        to: Fmt,
        odd: bool,
        rd: u8,
        rn: u8,
    },
    /// FCVTL(2): `from` is H (to 4S) or S (to 2D); `hi`: the upper half.
    Long { from: Fmt, hi: bool, rd: u8, rn: u8 },
    /// FCVTN(2)/FCVTXN(2): `to` is H (from 4S) or S (from 2D).
    Narrow {
        to: Fmt,
        odd: bool,
        hi: bool,
        rd: u8,
        rn: u8,
    },
    /// FP to a general register (W or X per `sf`).
    ToGp {
        sf: bool,
        fmt: Fmt,
        rm: Rm,
        unsigned: bool,
        fbits: u8,
        rd: u8,
        rn: u8,
    },
    /// General register to FP.
    FromGp {
        sf: bool,
        fmt: Fmt,
        unsigned: bool,
        fbits: u8,
        rd: u8,
        rn: u8,
    },
    /// FCMP/FCMPE (`zero`: against +0.0; `signal`: FCMPE).
    Cmp {
        fmt: Fmt,
        rn: u8,
        rm: u8,
        zero: bool,
        signal: bool,
    },
    /// FCCMP/FCCMPE.
    CondCmp {
        fmt: Fmt,
        rn: u8,
        rm: u8,
        cond: u8,
        nzcv: u8,
        signal: bool,
    },
}

impl Arith {
    /// Whether the instruction writes NZCV.
    pub fn writes_flags(&self) -> bool {
        matches!(self, Arith::Cmp { .. } | Arith::CondCmp { .. })
    }
}

fn ftype(t: u32) -> Option<Fmt> {
    match t {
        0 => Some(Fmt::S),
        1 => Some(Fmt::D),
        _ => None, // 11: FEAT_FP16; 10: reserved
    }
}

/// The rounding of FCVT{N,P,M,Z}* by rmode.
fn rmode_rm(rmode: u32) -> Rm {
    match rmode {
        0 => Rm::TieEven,
        1 => Rm::PosInf,
        2 => Rm::NegInf,
        _ => Rm::Zero,
    }
}

/// Decode the FP arithmetic encodings; `None` for everything else (and for
/// the unallocated encodings of these classes).
pub fn decode(w: u32) -> Option<FpInsn> {
    let r = if bits(w, 28, 24) == 0b11110 && !bit(w, 30) {
        decode_fp_scalar(w)
    } else if bits(w, 28, 24) == 0b11111 && !bit(w, 30) {
        decode_fp_dp3(w)
    } else if bits(w, 31, 30) == 0b01 && bits(w, 28, 24) == 0b11110 {
        decode_simd_scalar(w)
    } else if bits(w, 31, 30) == 0b01 && bits(w, 28, 23) == 0b111110 && bit(w, 10) {
        decode_shift_imm(w, true)
    } else if bits(w, 31, 30) == 0b01 && bits(w, 28, 24) == 0b11111 && !bit(w, 10) {
        decode_by_elem(w, true)
    } else if !bit(w, 31) && bits(w, 28, 24) == 0b01110 {
        decode_simd_vector(w)
    } else if !bit(w, 31) && bits(w, 28, 23) == 0b011110 && bit(w, 10) {
        decode_shift_imm(w, false)
    } else if !bit(w, 31) && bits(w, 28, 24) == 0b01111 && !bit(w, 10) {
        decode_by_elem(w, false)
    } else {
        None
    };
    r.map(FpInsn::Arith)
}

fn decode_fp_scalar(w: u32) -> Option<Arith> {
    let sf = bit(w, 31);
    if bit(w, 29) {
        return None;
    }
    let t = bits(w, 23, 22);
    let rd = reg(w, 0);
    let rn = reg(w, 5);
    let rm = reg(w, 16);
    if !bit(w, 21) {
        // Conversion between FP and fixed point.
        let fmt = ftype(t)?;
        let scale = bits(w, 15, 10);
        if !sf && scale < 32 {
            return None;
        }
        let fbits = (64 - scale) as u8;
        return match (bits(w, 20, 19), bits(w, 18, 16)) {
            (0b11, op @ (0b000 | 0b001)) => Some(Arith::ToGp {
                sf,
                fmt,
                rm: Rm::Zero,
                unsigned: op == 1,
                fbits,
                rd,
                rn,
            }),
            (0b00, op @ (0b010 | 0b011)) => Some(Arith::FromGp {
                sf,
                fmt,
                unsigned: op == 0b011,
                fbits,
                rd,
                rn,
            }),
            _ => None,
        };
    }
    if bits(w, 15, 10) == 0 {
        // Conversion between FP and integer (FMOV is not ours).
        let rmode = bits(w, 20, 19);
        let opcode = bits(w, 18, 16);
        let fmt = ftype(t)?;
        return match (opcode, rmode) {
            (0b000 | 0b001, _) | (0b100 | 0b101, 0) => Some(Arith::ToGp {
                sf,
                fmt,
                rm: if opcode & 0b100 != 0 {
                    Rm::TieAway
                } else {
                    rmode_rm(rmode)
                },
                unsigned: opcode & 1 != 0,
                fbits: 0,
                rd,
                rn,
            }),
            (0b010 | 0b011, 0) => Some(Arith::FromGp {
                sf,
                fmt,
                unsigned: opcode == 0b011,
                fbits: 0,
                rd,
                rn,
            }),
            _ => None,
        };
    }
    if sf {
        return None;
    }
    match bits(w, 11, 10) {
        0b01 => {
            return Some(Arith::CondCmp {
                fmt: ftype(t)?,
                rn,
                rm,
                cond: bits(w, 15, 12) as u8,
                nzcv: bits(w, 3, 0) as u8,
                signal: bit(w, 4),
            })
        }
        0b10 => {
            let fmt = ftype(t)?;
            let op = match bits(w, 15, 12) {
                0 => Bin::Mul,
                1 => Bin::Div,
                2 => Bin::Add,
                3 => Bin::Sub,
                4 => Bin::Max,
                5 => Bin::Min,
                6 => Bin::MaxNm,
                7 => Bin::MinNm,
                8 => Bin::Nmul,
                _ => return None,
            };
            let sh = if fmt == Fmt::D { Shape::D } else { Shape::S };
            return Some(Arith::Bin { op, sh, rd, rn, rm });
        }
        0b11 => return None, // FCSEL
        _ => {}
    }
    if bits(w, 12, 10) == 0b100 {
        return None; // FMOV (immediate)
    }
    if bits(w, 13, 10) == 0b1000 {
        if bits(w, 15, 14) != 0 || bits(w, 2, 0) != 0 {
            return None;
        }
        return Some(Arith::Cmp {
            fmt: ftype(t)?,
            rn,
            rm,
            zero: bit(w, 3),
            signal: bit(w, 4),
        });
    }
    if bits(w, 14, 10) != 0b10000 {
        return None;
    }
    let opcode = bits(w, 20, 15);
    if opcode >> 2 == 0b0001 {
        // FCVT between H, S and D.
        let from = match t {
            0 => Fmt::S,
            1 => Fmt::D,
            3 => Fmt::H,
            _ => return None,
        };
        let to = match opcode & 3 {
            0 => Fmt::S,
            1 => Fmt::D,
            3 => Fmt::H,
            _ => return None,
        };
        if from == to {
            return None;
        }
        return Some(Arith::Cvt {
            from,
            to,
            odd: false,
            rd,
            rn,
        });
    }
    let sh = match ftype(t)? {
        Fmt::D => Shape::D,
        _ => Shape::S,
    };
    let fixed = |rm| Un::Rint {
        rnd: Rnd::Fixed(rm),
        exact: false,
    };
    let op = match opcode {
        0b000000 => Un::Mov,
        0b000001 => Un::Abs,
        0b000010 => Un::Neg,
        0b000011 => Un::Sqrt,
        0b001000 => fixed(Rm::TieEven),
        0b001001 => fixed(Rm::PosInf),
        0b001010 => fixed(Rm::NegInf),
        0b001011 => fixed(Rm::Zero),
        0b001100 => fixed(Rm::TieAway),
        0b001110 => Un::Rint {
            rnd: Rnd::Fpcr,
            exact: true,
        },
        0b001111 => Un::Rint {
            rnd: Rnd::Fpcr,
            exact: false,
        },
        _ => return None,
    };
    Some(Arith::Un { op, sh, rd, rn })
}

fn decode_fp_dp3(w: u32) -> Option<Arith> {
    if bit(w, 31) || bit(w, 29) {
        return None;
    }
    let sh = match ftype(bits(w, 23, 22))? {
        Fmt::D => Shape::D,
        _ => Shape::S,
    };
    let (o1, o0) = (bit(w, 21), bit(w, 15));
    Some(Arith::Fma {
        sh,
        // FMSUB and FNMADD negate the multiplicand, FNMADD and FNMSUB the
        // addend.
        neg_n: o1 != o0,
        neg_a: o1,
        rd: reg(w, 0),
        rn: reg(w, 5),
        rm: reg(w, 16),
        ra: reg(w, 10),
    })
}

/// Three-same FP opcodes (bits 15:11 with U and size<1>), shared by the
/// scalar and vector forms; `vector` admits the vector-only ones.
fn three_same_op(opcode: u32, u: bool, a: bool, vector: bool) -> Option<(Bin, bool)> {
    // The bool: pairwise.
    Some(match (opcode, u, a) {
        (0b11011, false, false) => (Bin::Mulx, false),
        (0b11100, false, false) => (Bin::Eq, false),
        (0b11111, false, false) => (Bin::Recps, false),
        (0b11111, false, true) => (Bin::Rsqrts, false),
        (0b11010, true, true) => (Bin::Abd, false),
        (0b11100, true, false) => (Bin::Ge, false),
        (0b11100, true, true) => (Bin::Gt, false),
        (0b11101, true, false) => (Bin::AcGe, false),
        (0b11101, true, true) => (Bin::AcGt, false),
        _ if !vector => return None,
        (0b11000, false, false) => (Bin::MaxNm, false),
        (0b11000, false, true) => (Bin::MinNm, false),
        (0b11010, false, false) => (Bin::Add, false),
        (0b11010, false, true) => (Bin::Sub, false),
        (0b11110, false, false) => (Bin::Max, false),
        (0b11110, false, true) => (Bin::Min, false),
        (0b11000, true, false) => (Bin::MaxNm, true),
        (0b11000, true, true) => (Bin::MinNm, true),
        (0b11010, true, false) => (Bin::Add, true),
        (0b11011, true, false) => (Bin::Mul, false),
        (0b11110, true, false) => (Bin::Max, true),
        (0b11110, true, true) => (Bin::Min, true),
        (0b11111, true, false) => (Bin::Div, false),
        _ => return None,
    })
}

/// Two-register misc FP opcodes (bits 16:12 with U and size<1>).
fn two_misc_op(opcode: u32, u: bool, a: bool, vector: bool) -> Option<Un> {
    let to_int = |rm, unsigned| Un::ToInt {
        rm,
        unsigned,
        fbits: 0,
    };
    let rint = |rm| Un::Rint {
        rnd: Rnd::Fixed(rm),
        exact: false,
    };
    Some(match (opcode, u, a) {
        (0b11010, _, false) => to_int(Rm::TieEven, u),
        (0b11010, _, true) => to_int(Rm::PosInf, u),
        (0b11011, _, false) => to_int(Rm::NegInf, u),
        (0b11011, _, true) => to_int(Rm::Zero, u),
        (0b11100, _, false) => to_int(Rm::TieAway, u),
        (0b11101, _, false) => Un::FromInt {
            unsigned: u,
            fbits: 0,
        },
        (0b11101, false, true) => Un::Recpe,
        (0b11101, true, true) => Un::Rsqrte,
        (0b01100, false, true) => Un::CmpZ(CmpZ::Gt),
        (0b01101, false, true) => Un::CmpZ(CmpZ::Eq),
        (0b01110, false, true) => Un::CmpZ(CmpZ::Lt),
        (0b01100, true, true) => Un::CmpZ(CmpZ::Ge),
        (0b01101, true, true) => Un::CmpZ(CmpZ::Le),
        (0b11111, false, true) if !vector => Un::Recpx,
        _ if !vector => return None,
        (0b01111, false, true) => Un::Abs,
        (0b01111, true, true) => Un::Neg,
        (0b11111, true, true) => Un::Sqrt,
        (0b11000, false, false) => rint(Rm::TieEven),
        (0b11000, false, true) => rint(Rm::PosInf),
        (0b11001, false, false) => rint(Rm::NegInf),
        (0b11001, false, true) => rint(Rm::Zero),
        (0b11000, true, false) => rint(Rm::TieAway),
        (0b11001, true, false) => Un::Rint {
            rnd: Rnd::Fpcr,
            exact: true,
        },
        (0b11001, true, true) => Un::Rint {
            rnd: Rnd::Fpcr,
            exact: false,
        },
        (0b11100, false, true) => Un::URecpe,
        (0b11100, true, true) => Un::URsqrte,
        _ => return None,
    })
}

fn decode_simd_scalar(w: u32) -> Option<Arith> {
    let u = bit(w, 29);
    let a = bit(w, 23);
    let sz = bit(w, 22);
    let rd = reg(w, 0);
    let rn = reg(w, 5);
    let sh = Shape::scalar(sz);
    if !bit(w, 21) {
        return None;
    }
    if bit(w, 10) {
        let (op, pair) = three_same_op(bits(w, 15, 11), u, a, false)?;
        debug_assert!(!pair);
        return Some(Arith::Bin {
            op,
            sh,
            rd,
            rn,
            rm: reg(w, 16),
        });
    }
    if bits(w, 11, 10) != 0b10 {
        return None;
    }
    let opcode = bits(w, 16, 12);
    match bits(w, 20, 17) {
        0b0000 => {
            if (opcode, u, a) == (0b10110, true, false) {
                // FCVTXN (scalar): double to single, rounding to odd.
                return if sz {
                    Some(Arith::Cvt {
                        from: Fmt::D,
                        to: Fmt::S,
                        odd: true,
                        rd,
                        rn,
                    })
                } else {
                    None
                };
            }
            if opcode < 0b01100 || (0b10000..0b11010).contains(&opcode) {
                return None; // integer forms
            }
            let op = two_misc_op(opcode, u, a, false)?;
            Some(Arith::Un { op, sh, rd, rn })
        }
        0b1000 => {
            if !u {
                return None; // ADDP (integer) or FEAT_FP16 forms
            }
            let op = match (opcode, a) {
                (0b01100, false) => Bin::MaxNm,
                (0b01100, true) => Bin::MinNm,
                (0b01101, false) => Bin::Add,
                (0b01111, false) => Bin::Max,
                (0b01111, true) => Bin::Min,
                _ => return None,
            };
            Some(Arith::PairScalar { op, sh, rd, rn })
        }
        _ => None,
    }
}

fn decode_simd_vector(w: u32) -> Option<Arith> {
    let q = bit(w, 30);
    let u = bit(w, 29);
    let a = bit(w, 23);
    let sz = bit(w, 22);
    let rd = reg(w, 0);
    let rn = reg(w, 5);
    if !bit(w, 21) {
        return None;
    }
    if bit(w, 10) {
        let opcode = bits(w, 15, 11);
        if opcode < 0b11000 {
            return None; // integer three-same
        }
        let sh = Shape::vector(q, sz)?;
        let rm = reg(w, 16);
        if (opcode, u) == (0b11001, false) {
            // FMLA/FMLS (vector).
            return Some(Arith::Fma {
                sh,
                neg_n: a,
                neg_a: false,
                rd,
                rn,
                rm,
                ra: rd,
            });
        }
        let (op, pair) = three_same_op(opcode, u, a, true)?;
        return Some(if pair {
            Arith::Pair { op, sh, rd, rn, rm }
        } else {
            Arith::Bin { op, sh, rd, rn, rm }
        });
    }
    if bits(w, 11, 10) != 0b10 {
        return None;
    }
    let opcode = bits(w, 16, 12);
    match bits(w, 20, 17) {
        0b0000 => {
            if opcode < 0b01100 || (0b10000..0b10110).contains(&opcode) {
                return None; // integer forms
            }
            match (opcode, u, a) {
                (0b10110, _, false) => {
                    // FCVTN(2) / FCVTXN(2).
                    if u && !sz {
                        return None;
                    }
                    return Some(Arith::Narrow {
                        to: if sz { Fmt::S } else { Fmt::H },
                        odd: u,
                        hi: q,
                        rd,
                        rn,
                    });
                }
                (0b10111, false, false) => {
                    return Some(Arith::Long {
                        from: if sz { Fmt::S } else { Fmt::H },
                        hi: q,
                        rd,
                        rn,
                    });
                }
                _ => {}
            }
            let op = two_misc_op(opcode, u, a, true)?;
            if matches!(op, Un::URecpe | Un::URsqrte) && sz {
                return None;
            }
            let sh = Shape::vector(q, sz)?;
            Some(Arith::Un { op, sh, rd, rn })
        }
        0b1000 => {
            if !u || !matches!(opcode, 0b01100 | 0b01111) {
                return None; // integer, or FEAT_FP16
            }
            if !q || sz {
                return None;
            }
            let op = match (opcode, a) {
                (0b01100, false) => Bin::MaxNm,
                (0b01100, true) => Bin::MinNm,
                (0b01111, false) => Bin::Max,
                _ => Bin::Min,
            };
            Some(Arith::Across { op, rd, rn })
        }
        _ => None,
    }
}

fn decode_shift_imm(w: u32, scalar: bool) -> Option<Arith> {
    let q = bit(w, 30);
    let u = bit(w, 29);
    let immh = bits(w, 22, 19);
    let immhb = bits(w, 22, 16);
    let opcode = bits(w, 15, 11);
    if opcode != 0b11100 && opcode != 0b11111 {
        return None;
    }
    let (sz, fbits) = if immh & 0b1000 != 0 {
        (true, 128 - immhb)
    } else if immh & 0b0100 != 0 {
        (false, 64 - immhb)
    } else {
        return None; // FEAT_FP16 or unallocated
    };
    let sh = if scalar {
        Shape::scalar(sz)
    } else {
        Shape::vector(q, sz)?
    };
    let fbits = fbits as u8;
    let op = if opcode == 0b11100 {
        Un::FromInt { unsigned: u, fbits }
    } else {
        Un::ToInt {
            rm: Rm::Zero,
            unsigned: u,
            fbits,
        }
    };
    Some(Arith::Un {
        op,
        sh,
        rd: reg(w, 0),
        rn: reg(w, 5),
    })
}

fn decode_by_elem(w: u32, scalar: bool) -> Option<Arith> {
    let q = bit(w, 30);
    let u = bit(w, 29);
    if !bit(w, 23) {
        return None; // integer, or FEAT_FP16 (size 00)
    }
    let sz = bit(w, 22);
    let op = match (bits(w, 15, 12), u) {
        (0b0001, false) => ElemOp::Mla,
        (0b0101, false) => ElemOp::Mls,
        (0b1001, false) => ElemOp::Mul,
        (0b1001, true) => ElemOp::Mulx,
        _ => return None,
    };
    let (l, h) = (bit(w, 21), bit(w, 11));
    let index = if sz {
        if l {
            return None;
        }
        u8::from(h)
    } else {
        (u8::from(h) << 1) | u8::from(l)
    };
    let sh = if scalar {
        Shape::scalar(sz)
    } else {
        Shape::vector(q, sz)?
    };
    Some(Arith::Elem {
        op,
        sh,
        rd: reg(w, 0),
        rn: reg(w, 5),
        rm: reg(w, 16),
        index,
    })
}

// ---------------------------------------------------------------------------
// Execution.

/// One two-operand element operation.
fn bin(op: Bin, f: Fmt, a: u64, b: u64, env: &mut Env) -> u64 {
    let ones = if f.width() == 64 {
        u64::MAX
    } else {
        (1u64 << f.width()) - 1
    };
    let mask = |c: bool| if c { ones } else { 0 };
    match op {
        Bin::Add => soft::add(f, a, b, false, env),
        Bin::Sub => soft::add(f, a, b, true, env),
        Bin::Mul => soft::mul(f, a, b, false, env),
        Bin::Mulx => soft::mul(f, a, b, true, env),
        Bin::Nmul => f.neg(soft::mul(f, a, b, false, env)),
        Bin::Div => soft::div(f, a, b, env),
        Bin::Max => soft::max_min(f, a, b, true, false, env),
        Bin::Min => soft::max_min(f, a, b, false, false, env),
        Bin::MaxNm => soft::max_min(f, a, b, true, true, env),
        Bin::MinNm => soft::max_min(f, a, b, false, true, env),
        Bin::Abd => f.abs(soft::add(f, a, b, true, env)),
        Bin::Recps => soft::step(f, a, b, false, env),
        Bin::Rsqrts => soft::step(f, a, b, true, env),
        Bin::Eq => mask(soft::compare_bool(f, a, b, Cmp::Eq, env)),
        Bin::Ge => mask(soft::compare_bool(f, a, b, Cmp::Ge, env)),
        Bin::Gt => mask(soft::compare_bool(f, a, b, Cmp::Gt, env)),
        Bin::AcGe => mask(soft::compare_bool(f, f.abs(a), f.abs(b), Cmp::Ge, env)),
        Bin::AcGt => mask(soft::compare_bool(f, f.abs(a), f.abs(b), Cmp::Gt, env)),
    }
}

/// One one-operand element operation.
fn un(op: Un, f: Fmt, a: u64, env: &mut Env) -> u64 {
    let ones = if f.width() == 64 {
        u64::MAX
    } else {
        (1u64 << f.width()) - 1
    };
    let mask = |c: bool| if c { ones } else { 0 };
    match op {
        Un::Mov => a,
        Un::Abs => f.abs(a),
        Un::Neg => f.neg(a),
        Un::Sqrt => soft::sqrt(f, a, env),
        Un::Rint { rnd, exact } => {
            let rm = match rnd {
                Rnd::Fpcr => env.rmode(),
                Rnd::Fixed(rm) => rm,
            };
            soft::round_int(f, a, rm, exact, env)
        }
        Un::Recpe => soft::recip_estimate_fp(f, a, env),
        Un::Rsqrte => soft::rsqrt_estimate_fp(f, a, env),
        Un::Recpx => soft::recpx(f, a, env),
        Un::CmpZ(c) => mask(match c {
            CmpZ::Eq => soft::compare_bool(f, a, 0, Cmp::Eq, env),
            CmpZ::Ge => soft::compare_bool(f, a, 0, Cmp::Ge, env),
            CmpZ::Gt => soft::compare_bool(f, a, 0, Cmp::Gt, env),
            CmpZ::Le => soft::compare_bool(f, 0, a, Cmp::Ge, env),
            CmpZ::Lt => soft::compare_bool(f, 0, a, Cmp::Gt, env),
        }),
        Un::ToInt {
            rm,
            unsigned,
            fbits,
        } => soft::to_fixed(f, a, u32::from(fbits), unsigned, f.width(), rm, env),
        Un::FromInt { unsigned, fbits } => {
            let rm = env.rmode();
            soft::from_fixed(f, a, !unsigned, f.width(), u32::from(fbits), rm, env)
        }
        Un::URecpe => u64::from(soft::urecpe(a as u32)),
        Un::URsqrte => u64::from(soft::ursqrte(a as u32)),
    }
}

/// The lanes of `v` (64-bit vectors: the low half) mapped through `f`,
/// the rest of the register zeroed.
#[inline]
fn map_lanes(sh: Shape, mut f: impl FnMut(u32) -> u64) -> u128 {
    let es = sh.esize();
    let mut r = 0u128;
    for i in 0..sh.lanes() {
        set_lane(&mut r, es, i, f(i));
    }
    r
}

/// Execute `a` on `cpu` (the caller has done the CPACR check); the FPSR
/// cumulative flags it raises are accumulated.
pub fn execute(cpu: &mut Cpu, a: &Arith, flags_live: bool) {
    let mut env = Env::new(cpu.sys.fpcr);
    match *a {
        Arith::Bin { op, sh, rd, rn, rm } => {
            let (n, m) = (cpu.v(rn), cpu.v(rm));
            let (f, es) = (sh.fmt(), sh.esize());
            let r = map_lanes(sh, |i| bin(op, f, lane(n, es, i), lane(m, es, i), &mut env));
            cpu.set_v(rd, r);
        }
        Arith::Pair { op, sh, rd, rn, rm } => {
            let (n, m) = (cpu.v(rn), cpu.v(rm));
            let (f, es, lanes) = (sh.fmt(), sh.esize(), sh.lanes());
            let src = |j: u32| {
                if j < lanes {
                    lane(n, es, j)
                } else {
                    lane(m, es, j - lanes)
                }
            };
            let r = map_lanes(sh, |i| bin(op, f, src(2 * i), src(2 * i + 1), &mut env));
            cpu.set_v(rd, r);
        }
        Arith::PairScalar { op, sh, rd, rn } => {
            let n = cpu.v(rn);
            let (f, es) = (sh.fmt(), sh.esize());
            let r = bin(op, f, lane(n, es, 0), lane(n, es, 1), &mut env);
            cpu.set_v(rd, u128::from(r));
        }
        Arith::Across { op, rd, rn } => {
            let n = cpu.v(rn);
            let e = |i| lane(n, 32, i);
            let lo = bin(op, Fmt::S, e(0), e(1), &mut env);
            let hi = bin(op, Fmt::S, e(2), e(3), &mut env);
            let r = bin(op, Fmt::S, lo, hi, &mut env);
            cpu.set_v(rd, u128::from(r));
        }
        Arith::Fma {
            sh,
            neg_n,
            neg_a,
            rd,
            rn,
            rm,
            ra,
        } => {
            let (n, m, acc) = (cpu.v(rn), cpu.v(rm), cpu.v(ra));
            let (f, es) = (sh.fmt(), sh.esize());
            let r = map_lanes(sh, |i| {
                let x = lane(n, es, i);
                let x = if neg_n { f.neg(x) } else { x };
                let c = lane(acc, es, i);
                let c = if neg_a { f.neg(c) } else { c };
                soft::mul_add(f, c, x, lane(m, es, i), &mut env)
            });
            cpu.set_v(rd, r);
        }
        Arith::Elem {
            op,
            sh,
            rd,
            rn,
            rm,
            index,
        } => {
            let (n, d) = (cpu.v(rn), cpu.v(rd));
            let (f, es) = (sh.fmt(), sh.esize());
            let y = lane(cpu.v(rm), es, u32::from(index));
            let r = map_lanes(sh, |i| {
                let x = lane(n, es, i);
                match op {
                    ElemOp::Mul => soft::mul(f, x, y, false, &mut env),
                    ElemOp::Mulx => soft::mul(f, x, y, true, &mut env),
                    ElemOp::Mla => soft::mul_add(f, lane(d, es, i), x, y, &mut env),
                    ElemOp::Mls => soft::mul_add(f, lane(d, es, i), f.neg(x), y, &mut env),
                }
            });
            cpu.set_v(rd, r);
        }
        Arith::Un { op, sh, rd, rn } => {
            let n = cpu.v(rn);
            let (f, es) = (sh.fmt(), sh.esize());
            let r = map_lanes(sh, |i| un(op, f, lane(n, es, i), &mut env));
            cpu.set_v(rd, r);
        }
        Arith::Cvt {
            from,
            to,
            odd,
            rd,
            rn,
        } => {
            let x = lane(cpu.v(rn), from.width(), 0);
            let rm = if odd { Rm::Odd } else { env.rmode() };
            let r = soft::convert(from, to, x, rm, &mut env);
            cpu.set_v(rd, u128::from(r));
        }
        Arith::Long { from, hi, rd, rn } => {
            let n = cpu.v(rn);
            let half = if hi { n >> 64 } else { n };
            let (ew, to) = (from.width(), if from == Fmt::H { Fmt::S } else { Fmt::D });
            let rm = env.rmode();
            let mut r = 0u128;
            for i in 0..64 / ew {
                let x = soft::convert(from, to, lane(half, ew, i), rm, &mut env);
                set_lane(&mut r, 2 * ew, i, x);
            }
            cpu.set_v(rd, r);
        }
        Arith::Narrow {
            to,
            odd,
            hi,
            rd,
            rn,
        } => {
            let n = cpu.v(rn);
            let ew = to.width();
            let from = if to == Fmt::H { Fmt::S } else { Fmt::D };
            let rm = if odd { Rm::Odd } else { env.rmode() };
            let mut lo = 0u128;
            for i in 0..64 / ew {
                let x = soft::convert(from, to, lane(n, 2 * ew, i), rm, &mut env);
                set_lane(&mut lo, ew, i, x);
            }
            let r = if hi {
                (cpu.v(rd) & u128::from(u64::MAX)) | (lo << 64)
            } else {
                lo
            };
            cpu.set_v(rd, r);
        }
        Arith::ToGp {
            sf,
            fmt,
            rm,
            unsigned,
            fbits,
            rd,
            rn,
        } => {
            let x = lane(cpu.v(rn), fmt.width(), 0);
            let width = if sf { 64 } else { 32 };
            let r = soft::to_fixed(fmt, x, u32::from(fbits), unsigned, width, rm, &mut env);
            cpu.set_x(rd, r);
        }
        Arith::FromGp {
            sf,
            fmt,
            unsigned,
            fbits,
            rd,
            rn,
        } => {
            let x = cpu.x(rn);
            let width = if sf { 64 } else { 32 };
            let rm = env.rmode();
            let r = soft::from_fixed(fmt, x, !unsigned, width, u32::from(fbits), rm, &mut env);
            cpu.set_v(rd, u128::from(r));
        }
        Arith::Cmp {
            fmt,
            rn,
            rm,
            zero,
            signal,
        } => {
            let a = lane(cpu.v(rn), fmt.width(), 0);
            let b = if zero {
                0
            } else {
                lane(cpu.v(rm), fmt.width(), 0)
            };
            let nzcv = soft::compare(fmt, a, b, signal, &mut env);
            if flags_live {
                cpu.set_nzcv(nzcv);
            }
        }
        Arith::CondCmp {
            fmt,
            rn,
            rm,
            cond,
            nzcv,
            signal,
        } => {
            let r = if cond_holds(cond, cpu.nzcv()) {
                let a = lane(cpu.v(rn), fmt.width(), 0);
                let b = lane(cpu.v(rm), fmt.width(), 0);
                soft::compare(fmt, a, b, signal, &mut env)
            } else {
                u32::from(nzcv) << 28
            };
            if flags_live {
                cpu.set_nzcv(r);
            }
        }
    }
    cpu.sys.fpsr |= u64::from(env.flags);
}

//! Integer Advanced SIMD of ARMv8.0-A (plus FEAT_PMULL's 64x64 PMULL):
//! the vector and scalar forms of three same, three different, two-register
//! misc, across lanes, pairwise, shift by immediate and by element.
//!
//! Decoding yields one compact [`SimdInt`] (8 bytes); execution works on
//! 64-bit lanes with `i128` intermediates, so no operation can overflow
//! before the architectural saturation or truncation, and sets FPSR.QC
//! exactly when a saturating operation saturates (the Arm ARM's `SatQ`).
//!
//! Field naming follows the Arm ARM: `size` is `esize` as the pseudocode
//! uses it (for long, wide and narrowing forms the narrow element size; for
//! narrowing shifts the destination element size).

use super::lanes::sext;
use super::FpInsn;
use crate::translate::interp::Cpu;

/// FPSR.QC, the cumulative saturation flag.
pub const FPSR_QC: u64 = 1 << 27;

/// The integer AdvSIMD operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
#[allow(missing_docs)] // the Arm mnemonics
pub enum IntOp {
    // Elementwise, same width (three same, by element, unary, shifts).
    Add,
    Sub,
    Mul,
    Mla,
    Mls,
    Pmul,
    Shadd,
    Uhadd,
    Srhadd,
    Urhadd,
    Shsub,
    Uhsub,
    Sqadd,
    Uqadd,
    Sqsub,
    Uqsub,
    Sshl,
    Ushl,
    Srshl,
    Urshl,
    Sqshl,
    Uqshl,
    Sqrshl,
    Uqrshl,
    Smax,
    Umax,
    Smin,
    Umin,
    Sabd,
    Uabd,
    Saba,
    Uaba,
    Cmgt,
    Cmhi,
    Cmge,
    Cmhs,
    Cmeq,
    Cmtst,
    Sqdmulh,
    Sqrdmulh,
    // Unary (two-register misc), same width.
    Cls,
    Clz,
    Cnt,
    Not,
    Rbit,
    Suqadd,
    Usqadd,
    Sqabs,
    Sqneg,
    Abs,
    Neg,
    Cmgt0,
    Cmge0,
    Cmeq0,
    Cmle0,
    Cmlt0,
    // Shift by immediate, same width (`imm` is the shift).
    Sshr,
    Ushr,
    Ssra,
    Usra,
    Srshr,
    Urshr,
    Srsra,
    Ursra,
    Sri,
    Shl,
    Sli,
    SqshlImm,
    UqshlImm,
    Sqshlu,
    // Pairwise (ADDP scalar too).
    Addp,
    Smaxp,
    Umaxp,
    Sminp,
    Uminp,
    // REV*.
    Rev64,
    Rev32,
    Rev16,
    // Pairwise long.
    Saddlp,
    Uaddlp,
    Sadalp,
    Uadalp,
    // Long and wide (result 2 * esize).
    Saddl,
    Uaddl,
    Ssubl,
    Usubl,
    Saddw,
    Uaddw,
    Ssubw,
    Usubw,
    Sabal,
    Uabal,
    Sabdl,
    Uabdl,
    Smlal,
    Umlal,
    Smlsl,
    Umlsl,
    Smull,
    Umull,
    Sqdmlal,
    Sqdmlsl,
    Sqdmull,
    Pmull,
    Shll,
    Sshll,
    Ushll,
    // Narrowing (sources 2 * esize).
    Addhn,
    Raddhn,
    Subhn,
    Rsubhn,
    Xtn,
    Sqxtn,
    Uqxtn,
    Sqxtun,
    Shrn,
    Rshrn,
    Sqshrn,
    Uqshrn,
    Sqrshrn,
    Uqrshrn,
    Sqshrun,
    Sqrshrun,
    // Across lanes.
    Addv,
    Saddlv,
    Uaddlv,
    Smaxv,
    Umaxv,
    Sminv,
    Uminv,
    /// PMULL/PMULL2 of 64-bit lanes (FEAT_PMULL), 128-bit result.
    Pmull64,
}

/// A decoded integer AdvSIMD instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimdInt {
    /// The operation.
    pub op: IntOp,
    /// log2 of the element size in bytes (`esize` = 8 << size).
    pub size: u8,
    /// [`Q`], [`SCALAR`], [`ELEM`].
    pub flags: u8,
    /// Destination register.
    pub rd: u8,
    /// First source.
    pub rn: u8,
    /// Second source (the element's register for [`ELEM`]).
    pub rm: u8,
    /// Shift amount, or element index for [`ELEM`].
    pub imm: u8,
}

/// 128-bit vector (or the upper half, for long/narrowing "2" forms).
pub const Q: u8 = 1;
/// Scalar form: one element, the rest of Vd zeroed.
pub const SCALAR: u8 = 2;
/// By element: the second operand is Vm\[imm\] for every lane.
pub const ELEM: u8 = 4;

#[inline]
const fn bits(w: u32, hi: u32, lo: u32) -> u32 {
    (w >> lo) & ((1u32 << (hi - lo + 1)) - 1)
}
#[inline]
const fn bit(w: u32, b: u32) -> bool {
    (w >> b) & 1 != 0
}

/// Decode `w` if it is an integer AdvSIMD instruction of the classes this
/// module covers; `None` otherwise (another decoder, or Undefined).
pub fn decode(w: u32) -> Option<FpInsn> {
    decode_int(w).map(FpInsn::Int)
}

fn decode_int(w: u32) -> Option<SimdInt> {
    if bit(w, 31) {
        return None;
    }
    let q = bit(w, 30);
    let u = bit(w, 29);
    let size = bits(w, 23, 22) as u8;
    let mk = |op: IntOp, size: u8, flags: u8, imm: u8| SimdInt {
        op,
        size,
        flags,
        rd: bits(w, 4, 0) as u8,
        rn: bits(w, 9, 5) as u8,
        rm: bits(w, 20, 16) as u8,
        imm,
    };
    let qf = if q { Q } else { 0 };
    match bits(w, 28, 24) {
        0b01110 => {
            if bit(w, 21) && bit(w, 10) {
                let op = three_same_vec(bits(w, 15, 11), u, size, q)?;
                return Some(mk(op, size, qf, 0));
            }
            if bit(w, 21) && bits(w, 11, 10) == 0 {
                let op = three_diff(bits(w, 15, 12), u, size, false)?;
                let sz = if op == IntOp::Pmull64 { 3 } else { size };
                return Some(mk(op, sz, qf, 0));
            }
            if bits(w, 21, 17) == 0b10000 && bits(w, 11, 10) == 0b10 {
                let op = misc_vec(bits(w, 16, 12), u, size, q)?;
                // RBIT is size 01 but works on bytes.
                let sz = if op == IntOp::Rbit { 0 } else { size };
                return Some(mk(op, sz, qf, 0));
            }
            if bits(w, 21, 17) == 0b11000 && bits(w, 11, 10) == 0b10 {
                let op = match (bits(w, 16, 12), u) {
                    (0b00011, false) => IntOp::Saddlv,
                    (0b00011, true) => IntOp::Uaddlv,
                    (0b01010, false) => IntOp::Smaxv,
                    (0b01010, true) => IntOp::Umaxv,
                    (0b11010, false) => IntOp::Sminv,
                    (0b11010, true) => IntOp::Uminv,
                    (0b11011, false) => IntOp::Addv,
                    _ => return None,
                };
                if size == 3 || (size == 2 && !q) {
                    return None;
                }
                return Some(mk(op, size, qf, 0));
            }
            None
        }
        0b01111 if bit(w, 10) => {
            if bit(w, 23) || bits(w, 22, 19) == 0 {
                return None; // modified immediate (fp::decode) or unallocated
            }
            let (op, sz, sh) = shift_imm(w, u, false)?;
            if sz == 3 && !q && !is_narrow_or_long(op) {
                return None;
            }
            Some(mk(op, sz, qf, sh))
        }
        0b01111 => {
            let op = by_elem(bits(w, 15, 12), u, false)?;
            let (rm, idx) = elem_index(w, size)?;
            let mut s = mk(op, size, qf | ELEM, idx);
            s.rm = rm;
            Some(s)
        }
        0b11110 if q => {
            if bit(w, 21) && bit(w, 10) {
                let op = three_same_scalar(bits(w, 15, 11), u, size)?;
                return Some(mk(op, size, SCALAR, 0));
            }
            if bit(w, 21) && bits(w, 11, 10) == 0 {
                let op = three_diff(bits(w, 15, 12), u, size, true)?;
                return Some(mk(op, size, SCALAR, 0));
            }
            if bits(w, 21, 17) == 0b10000 && bits(w, 11, 10) == 0b10 {
                let op = misc_scalar(bits(w, 16, 12), u, size)?;
                return Some(mk(op, size, SCALAR, 0));
            }
            if bits(w, 21, 17) == 0b11000
                && bits(w, 11, 10) == 0b10
                && bits(w, 16, 12) == 0b11011
                && !u
                && size == 3
            {
                return Some(mk(IntOp::Addp, 3, SCALAR, 0));
            }
            None
        }
        0b11111 if q => {
            if bit(w, 10) {
                if bit(w, 23) || bits(w, 22, 19) == 0 {
                    return None;
                }
                let (op, sz, sh) = shift_imm(w, u, true)?;
                return Some(mk(op, sz, SCALAR, sh));
            }
            let op = by_elem(bits(w, 15, 12), u, true)?;
            let (rm, idx) = elem_index(w, size)?;
            let mut s = mk(op, size, SCALAR | ELEM, idx);
            s.rm = rm;
            Some(s)
        }
        _ => None,
    }
}

fn is_narrow_or_long(op: IntOp) -> bool {
    use IntOp::*;
    matches!(
        op,
        Shrn | Rshrn | Sqshrn | Uqshrn | Sqrshrn | Uqrshrn | Sqshrun | Sqrshrun | Sshll | Ushll
    )
}

/// Vector three same (integer opcodes; logic and FP are elsewhere).
fn three_same_vec(opcode: u32, u: bool, size: u8, q: bool) -> Option<IntOp> {
    use IntOp::*;
    let s3 = size == 3;
    // Operations defined for 64-bit lanes (2D only).
    let wide = |op: IntOp| if s3 && !q { None } else { Some(op) };
    let narrow = |op: IntOp| if s3 { None } else { Some(op) };
    match (opcode, u) {
        (0b00000, false) => narrow(Shadd),
        (0b00000, true) => narrow(Uhadd),
        (0b00001, false) => wide(Sqadd),
        (0b00001, true) => wide(Uqadd),
        (0b00010, false) => narrow(Srhadd),
        (0b00010, true) => narrow(Urhadd),
        (0b00100, false) => narrow(Shsub),
        (0b00100, true) => narrow(Uhsub),
        (0b00101, false) => wide(Sqsub),
        (0b00101, true) => wide(Uqsub),
        (0b00110, false) => wide(Cmgt),
        (0b00110, true) => wide(Cmhi),
        (0b00111, false) => wide(Cmge),
        (0b00111, true) => wide(Cmhs),
        (0b01000, false) => wide(Sshl),
        (0b01000, true) => wide(Ushl),
        (0b01001, false) => wide(Sqshl),
        (0b01001, true) => wide(Uqshl),
        (0b01010, false) => wide(Srshl),
        (0b01010, true) => wide(Urshl),
        (0b01011, false) => wide(Sqrshl),
        (0b01011, true) => wide(Uqrshl),
        (0b01100, false) => narrow(Smax),
        (0b01100, true) => narrow(Umax),
        (0b01101, false) => narrow(Smin),
        (0b01101, true) => narrow(Umin),
        (0b01110, false) => narrow(Sabd),
        (0b01110, true) => narrow(Uabd),
        (0b01111, false) => narrow(Saba),
        (0b01111, true) => narrow(Uaba),
        (0b10000, false) => wide(Add),
        (0b10000, true) => wide(Sub),
        (0b10001, false) => wide(Cmtst),
        (0b10001, true) => wide(Cmeq),
        (0b10010, false) => narrow(Mla),
        (0b10010, true) => narrow(Mls),
        (0b10011, false) => narrow(Mul),
        (0b10011, true) if size == 0 => Some(Pmul),
        (0b10100, false) => narrow(Smaxp),
        (0b10100, true) => narrow(Umaxp),
        (0b10101, false) => narrow(Sminp),
        (0b10101, true) => narrow(Uminp),
        (0b10110, _) if size == 1 || size == 2 => Some(if u { Sqrdmulh } else { Sqdmulh }),
        (0b10111, false) => wide(Addp),
        _ => None,
    }
}

/// Scalar three same.
fn three_same_scalar(opcode: u32, u: bool, size: u8) -> Option<IntOp> {
    use IntOp::*;
    let d = |op: IntOp| if size == 3 { Some(op) } else { None };
    match (opcode, u) {
        (0b00001, false) => Some(Sqadd),
        (0b00001, true) => Some(Uqadd),
        (0b00101, false) => Some(Sqsub),
        (0b00101, true) => Some(Uqsub),
        (0b00110, false) => d(Cmgt),
        (0b00110, true) => d(Cmhi),
        (0b00111, false) => d(Cmge),
        (0b00111, true) => d(Cmhs),
        (0b01000, false) => d(Sshl),
        (0b01000, true) => d(Ushl),
        (0b01001, false) => Some(Sqshl),
        (0b01001, true) => Some(Uqshl),
        (0b01010, false) => d(Srshl),
        (0b01010, true) => d(Urshl),
        (0b01011, false) => Some(Sqrshl),
        (0b01011, true) => Some(Uqrshl),
        (0b10000, false) => d(Add),
        (0b10000, true) => d(Sub),
        (0b10001, false) => d(Cmtst),
        (0b10001, true) => d(Cmeq),
        (0b10110, _) if size == 1 || size == 2 => Some(if u { Sqrdmulh } else { Sqdmulh }),
        _ => None,
    }
}

/// Three different (vector, or `scalar`: only the SQDM* forms).
fn three_diff(opcode: u32, u: bool, size: u8, scalar: bool) -> Option<IntOp> {
    use IntOp::*;
    if scalar {
        return match (opcode, u) {
            (0b1001, false) if size == 1 || size == 2 => Some(Sqdmlal),
            (0b1011, false) if size == 1 || size == 2 => Some(Sqdmlsl),
            (0b1101, false) if size == 1 || size == 2 => Some(Sqdmull),
            _ => None,
        };
    }
    if opcode == 0b1110 && !u {
        return match size {
            0 => Some(Pmull),
            3 => Some(Pmull64),
            _ => None,
        };
    }
    if size == 3 {
        return None;
    }
    let sqd = |op: IntOp| if size == 0 { None } else { Some(op) };
    match (opcode, u) {
        (0b0000, false) => Some(Saddl),
        (0b0000, true) => Some(Uaddl),
        (0b0001, false) => Some(Saddw),
        (0b0001, true) => Some(Uaddw),
        (0b0010, false) => Some(Ssubl),
        (0b0010, true) => Some(Usubl),
        (0b0011, false) => Some(Ssubw),
        (0b0011, true) => Some(Usubw),
        (0b0100, false) => Some(Addhn),
        (0b0100, true) => Some(Raddhn),
        (0b0101, false) => Some(Sabal),
        (0b0101, true) => Some(Uabal),
        (0b0110, false) => Some(Subhn),
        (0b0110, true) => Some(Rsubhn),
        (0b0111, false) => Some(Sabdl),
        (0b0111, true) => Some(Uabdl),
        (0b1000, false) => Some(Smlal),
        (0b1000, true) => Some(Umlal),
        (0b1001, false) => sqd(Sqdmlal),
        (0b1010, false) => Some(Smlsl),
        (0b1010, true) => Some(Umlsl),
        (0b1011, false) => sqd(Sqdmlsl),
        (0b1100, false) => Some(Smull),
        (0b1100, true) => Some(Umull),
        (0b1101, false) => sqd(Sqdmull),
        _ => None,
    }
}

/// Vector two-register misc (integer opcodes).
fn misc_vec(opcode: u32, u: bool, size: u8, q: bool) -> Option<IntOp> {
    use IntOp::*;
    let wide = |op: IntOp| if size == 3 && !q { None } else { Some(op) };
    let narrow = |op: IntOp| if size == 3 { None } else { Some(op) };
    match (opcode, u) {
        (0b00000, false) => narrow(Rev64),
        (0b00000, true) if size < 2 => Some(Rev32),
        (0b00001, false) if size == 0 => Some(Rev16),
        (0b00010, false) => narrow(Saddlp),
        (0b00010, true) => narrow(Uaddlp),
        (0b00011, false) => wide(Suqadd),
        (0b00011, true) => wide(Usqadd),
        (0b00100, false) => narrow(Cls),
        (0b00100, true) => narrow(Clz),
        (0b00101, false) if size == 0 => Some(Cnt),
        (0b00101, true) if size == 0 => Some(Not),
        (0b00101, true) if size == 1 => Some(Rbit),
        (0b00110, false) => narrow(Sadalp),
        (0b00110, true) => narrow(Uadalp),
        (0b00111, false) => wide(Sqabs),
        (0b00111, true) => wide(Sqneg),
        (0b01000, false) => wide(Cmgt0),
        (0b01000, true) => wide(Cmge0),
        (0b01001, false) => wide(Cmeq0),
        (0b01001, true) => wide(Cmle0),
        (0b01010, false) => wide(Cmlt0),
        (0b01011, false) => wide(Abs),
        (0b01011, true) => wide(Neg),
        (0b10010, false) => narrow(Xtn),
        (0b10010, true) => narrow(Sqxtun),
        (0b10011, true) => narrow(Shll),
        (0b10100, false) => narrow(Sqxtn),
        (0b10100, true) => narrow(Uqxtn),
        _ => None,
    }
}

/// Scalar two-register misc (integer opcodes).
fn misc_scalar(opcode: u32, u: bool, size: u8) -> Option<IntOp> {
    use IntOp::*;
    let d = |op: IntOp| if size == 3 { Some(op) } else { None };
    let narrow = |op: IntOp| if size == 3 { None } else { Some(op) };
    match (opcode, u) {
        (0b00011, false) => Some(Suqadd),
        (0b00011, true) => Some(Usqadd),
        (0b00111, false) => Some(Sqabs),
        (0b00111, true) => Some(Sqneg),
        (0b01000, false) => d(Cmgt0),
        (0b01000, true) => d(Cmge0),
        (0b01001, false) => d(Cmeq0),
        (0b01001, true) => d(Cmle0),
        (0b01010, false) => d(Cmlt0),
        (0b01011, false) => d(Abs),
        (0b01011, true) => d(Neg),
        (0b10010, true) => narrow(Sqxtun),
        (0b10100, false) => narrow(Sqxtn),
        (0b10100, true) => narrow(Uqxtn),
        _ => None,
    }
}

/// Shift by immediate (immh != 0): (op, size as `esize`, shift).
fn shift_imm(w: u32, u: bool, scalar: bool) -> Option<(IntOp, u8, u8)> {
    use IntOp::*;
    let immh = bits(w, 22, 19);
    let immhb = bits(w, 22, 16);
    let sz = 31 - immh.leading_zeros(); // highest set bit of immh
    let es = 8u32 << sz;
    let right = 2 * es - immhb; // 1..=esize
    let left = immhb - es; // 0..esize-1
    let opcode = bits(w, 15, 11);
    // Scalar forms other than the saturating left shifts and the
    // narrowing ones exist only for 64-bit lanes.
    let d_only = scalar && sz != 3;
    let (op, sh) = match (opcode, u) {
        (0b00000, false) if !d_only => (Sshr, right),
        (0b00000, true) if !d_only => (Ushr, right),
        (0b00010, false) if !d_only => (Ssra, right),
        (0b00010, true) if !d_only => (Usra, right),
        (0b00100, false) if !d_only => (Srshr, right),
        (0b00100, true) if !d_only => (Urshr, right),
        (0b00110, false) if !d_only => (Srsra, right),
        (0b00110, true) if !d_only => (Ursra, right),
        (0b01000, true) if !d_only => (Sri, right),
        (0b01010, false) if !d_only => (Shl, left),
        (0b01010, true) if !d_only => (Sli, left),
        (0b01100, true) => (Sqshlu, left),
        (0b01110, false) => (SqshlImm, left),
        (0b01110, true) => (UqshlImm, left),
        (0b10000, false) if !scalar => (Shrn, right),
        (0b10001, false) if !scalar => (Rshrn, right),
        (0b10000, true) => (Sqshrun, right),
        (0b10001, true) => (Sqrshrun, right),
        (0b10010, false) => (Sqshrn, right),
        (0b10010, true) => (Uqshrn, right),
        (0b10011, false) => (Sqrshrn, right),
        (0b10011, true) => (Uqrshrn, right),
        (0b10100, false) if !scalar => (Sshll, left),
        (0b10100, true) if !scalar => (Ushll, left),
        _ => return None,
    };
    if is_narrow_or_long(op) && sz == 3 {
        return None;
    }
    Some((op, sz as u8, sh as u8))
}

/// By element (integer opcodes); scalar: only the SQDM* forms.
fn by_elem(opcode: u32, u: bool, scalar: bool) -> Option<IntOp> {
    use IntOp::*;
    let op = match (opcode, u) {
        (0b0000, true) => Mla,
        (0b0100, true) => Mls,
        (0b1000, false) => Mul,
        (0b0010, false) => Smlal,
        (0b0010, true) => Umlal,
        (0b0110, false) => Smlsl,
        (0b0110, true) => Umlsl,
        (0b1010, false) => Smull,
        (0b1010, true) => Umull,
        (0b0011, false) => Sqdmlal,
        (0b0111, false) => Sqdmlsl,
        (0b1011, false) => Sqdmull,
        (0b1100, false) => Sqdmulh,
        (0b1101, false) => Sqrdmulh,
        _ => return None,
    };
    if scalar && !matches!(op, Sqdmlal | Sqdmlsl | Sqdmull | Sqdmulh | Sqrdmulh) {
        return None;
    }
    Some(op)
}

/// (Rm, index) of an integer by-element encoding; sizes H and S only.
fn elem_index(w: u32, size: u8) -> Option<(u8, u8)> {
    let (h, l, m) = (bit(w, 11) as u8, bit(w, 21) as u8, bit(w, 20) as u8);
    match size {
        1 => Some((bits(w, 19, 16) as u8, (h << 2) | (l << 1) | m)),
        2 => Some((bits(w, 20, 16) as u8, (h << 1) | l)),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Execution.

#[inline(always)]
fn ones(es: u32) -> u64 {
    u64::MAX >> (64 - es)
}

/// Signed saturation of `v` to `es` bits (`SignedSatQ`).
#[inline]
fn ssat(v: i128, es: u32, sat: &mut bool) -> u64 {
    let max = (1i128 << (es - 1)) - 1;
    let min = -(1i128 << (es - 1));
    if v > max {
        *sat = true;
        max as u64
    } else if v < min {
        *sat = true;
        min as u64
    } else {
        v as u64
    }
}

/// Unsigned saturation of `v` to `es` bits (`UnsignedSatQ`).
#[inline]
fn usat(v: i128, es: u32, sat: &mut bool) -> u64 {
    let max = (1i128 << es) - 1;
    if v > max {
        *sat = true;
        max as u64
    } else if v < 0 {
        *sat = true;
        0
    } else {
        v as u64
    }
}

/// `v << shift` for a shift of either sign (right shifts floor, and add
/// the rounding constant `1 << (-shift - 1)` when `round`), exact for
/// |v| < 2^64; left shifts of 64 or more give a value with the sign of `v`
/// whose low 64 bits are zero (so it truncates to 0 and saturates).
#[inline]
fn shift(v: i128, sh: i32, round: bool) -> i128 {
    if sh >= 0 {
        if v == 0 {
            0
        } else if sh >= 64 {
            if v > 0 {
                1 << 126
            } else {
                -(1 << 126)
            }
        } else {
            v << sh
        }
    } else {
        let r = (-sh).min(65) as u32;
        let v = if round { v + (1i128 << (r - 1)) } else { v };
        v >> r
    }
}

/// Carry-less multiply of the low `es` bits of `a` and `b`.
#[inline]
fn clmul(a: u64, b: u64, es: u32) -> u128 {
    let mut r = 0u128;
    for i in 0..es {
        if (b >> i) & 1 != 0 {
            r ^= u128::from(a) << i;
        }
    }
    r
}

#[inline]
fn cmp(c: bool, es: u32) -> u64 {
    if c {
        ones(es)
    } else {
        0
    }
}

/// One lane of an elementwise same-width operation: `a` from Vn, `b` from
/// Vm (or the shift amount of an immediate shift), `d` the old Vd lane.
#[inline(always)]
fn same(op: IntOp, es: u32, a: u64, b: u64, d: u64, sat: &mut bool) -> u64 {
    use IntOp::*;
    let sa = i128::from(sext(a, es));
    let sb = i128::from(sext(b, es));
    let (ua, ub) = (i128::from(a), i128::from(b));
    let shreg = || i32::from(b as u8 as i8);
    let imm = b as i32;
    match op {
        Add => a.wrapping_add(b),
        Sub => a.wrapping_sub(b),
        Mul => a.wrapping_mul(b),
        Mla => d.wrapping_add(a.wrapping_mul(b)),
        Mls => d.wrapping_sub(a.wrapping_mul(b)),
        Pmul => clmul(a, b, es) as u64,
        Shadd => ((sa + sb) >> 1) as u64,
        Uhadd => ((ua + ub) >> 1) as u64,
        Srhadd => ((sa + sb + 1) >> 1) as u64,
        Urhadd => ((ua + ub + 1) >> 1) as u64,
        Shsub => ((sa - sb) >> 1) as u64,
        Uhsub => ((ua - ub) >> 1) as u64,
        Sqadd => ssat(sa + sb, es, sat),
        Uqadd => usat(ua + ub, es, sat),
        Sqsub => ssat(sa - sb, es, sat),
        Uqsub => usat(ua - ub, es, sat),
        Sshl => shift(sa, shreg(), false) as u64,
        Ushl => shift(ua, shreg(), false) as u64,
        Srshl => shift(sa, shreg(), true) as u64,
        Urshl => shift(ua, shreg(), true) as u64,
        Sqshl => ssat(shift(sa, shreg(), false), es, sat),
        Uqshl => usat(shift(ua, shreg(), false), es, sat),
        Sqrshl => ssat(shift(sa, shreg(), true), es, sat),
        Uqrshl => usat(shift(ua, shreg(), true), es, sat),
        Smax => sa.max(sb) as u64,
        Umax => a.max(b),
        Smin => sa.min(sb) as u64,
        Umin => a.min(b),
        Sabd => (sa - sb).unsigned_abs() as u64,
        Uabd => (ua - ub).unsigned_abs() as u64,
        Saba => d.wrapping_add((sa - sb).unsigned_abs() as u64),
        Uaba => d.wrapping_add((ua - ub).unsigned_abs() as u64),
        Cmgt => cmp(sa > sb, es),
        Cmhi => cmp(a > b, es),
        Cmge => cmp(sa >= sb, es),
        Cmhs => cmp(a >= b, es),
        Cmeq => cmp(a == b, es),
        Cmtst => cmp(a & b != 0, es),
        Sqdmulh => ssat((2 * sa * sb) >> es, es, sat),
        Sqrdmulh => ssat((2 * sa * sb + (1 << (es - 1))) >> es, es, sat),
        Cls => {
            // CountLeadingZeroBits(x<es-1:1> EOR x<es-2:0>), es - 1 bits.
            let t = ((a >> 1) ^ a) & (ones(es) >> 1);
            u64::from(t.leading_zeros() + es - 65)
        }
        Clz => u64::from((a << (64 - es)).leading_zeros().min(es)),
        Cnt => u64::from(a.count_ones()),
        Not => !a,
        Rbit => u64::from((a as u8).reverse_bits()),
        // Vn is the unsigned (SUQADD) or signed (USQADD) addend, Vd the
        // accumulator.
        Suqadd => ssat(ua + i128::from(sext(d, es)), es, sat),
        Usqadd => usat(sa + i128::from(d), es, sat),
        Sqabs => ssat(sa.abs(), es, sat),
        Sqneg => ssat(-sa, es, sat),
        Abs => sa.unsigned_abs() as u64,
        Neg => 0u64.wrapping_sub(a),
        Cmgt0 => cmp(sa > 0, es),
        Cmge0 => cmp(sa >= 0, es),
        Cmeq0 => cmp(a == 0, es),
        Cmle0 => cmp(sa <= 0, es),
        Cmlt0 => cmp(sa < 0, es),
        Sshr => (sa >> imm) as u64,
        Ushr => (ua >> imm) as u64,
        Ssra => d.wrapping_add((sa >> imm) as u64),
        Usra => d.wrapping_add((ua >> imm) as u64),
        Srshr => shift(sa, -imm, true) as u64,
        Urshr => shift(ua, -imm, true) as u64,
        Srsra => d.wrapping_add(shift(sa, -imm, true) as u64),
        Ursra => d.wrapping_add(shift(ua, -imm, true) as u64),
        Sri => {
            let m = ((ones(es) as u128) >> imm) as u64;
            (d & !m) | ((ua >> imm) as u64)
        }
        Shl => a << imm,
        Sli => {
            let m = ones(es) << imm;
            (d & !m) | (a << imm)
        }
        SqshlImm => ssat(sa << imm, es, sat),
        UqshlImm => usat(ua << imm, es, sat),
        Sqshlu => usat(sa << imm, es, sat),
        _ => 0,
    }
}

/// One lane of a long or wide operation: `a`, `b` narrow lanes (`a` wide
/// for the W forms), `d` the old wide Vd lane; the result is 2 * `es` bits.
#[inline(always)]
fn long(op: IntOp, es: u32, a: u64, b: u64, d: u64, sat: &mut bool) -> u64 {
    use IntOp::*;
    let w = 2 * es;
    let sa = i128::from(sext(a, es));
    let sb = i128::from(sext(b, es));
    let (ua, ub) = (i128::from(a), i128::from(b));
    let sd = i128::from(sext(d, w));
    let r: i128 = match op {
        Saddl => sa + sb,
        Uaddl => ua + ub,
        Ssubl => sa - sb,
        Usubl => ua - ub,
        Saddw => i128::from(sext(a, w)) + sb,
        Uaddw => ua + ub,
        Ssubw => i128::from(sext(a, w)) - sb,
        Usubw => ua - ub,
        Sabal => sd + (sa - sb).abs(),
        Uabal => sd + (ua - ub).abs(),
        Sabdl => (sa - sb).abs(),
        Uabdl => (ua - ub).abs(),
        Smlal => sd + sa * sb,
        Umlal => sd + ua * ub,
        Smlsl => sd - sa * sb,
        Umlsl => sd - ua * ub,
        Smull => sa * sb,
        Umull => ua * ub,
        Sqdmull => return ssat(2 * sa * sb, w, sat),
        Sqdmlal | Sqdmlsl => {
            let p = i128::from(sext(ssat(2 * sa * sb, w, sat), w));
            let acc = if op == Sqdmlal { sd + p } else { sd - p };
            return ssat(acc, w, sat);
        }
        Pmull => return clmul(a, b, es) as u64,
        Shll => ua << es,
        Sshll => sa << b,
        Ushll => ua << b,
        _ => 0,
    };
    r as u64
}

/// One lane of a narrowing operation: `a`, `b` wide (2 * `es`) lanes, or
/// `b` the shift amount; the result is `es` bits.
#[inline(always)]
fn narrow(op: IntOp, es: u32, a: u64, b: u64, sat: &mut bool) -> u64 {
    use IntOp::*;
    let w = 2 * es;
    let (ua, ub) = (i128::from(a), i128::from(b));
    let sa = i128::from(sext(a, w));
    let half = 1i128 << (es - 1);
    let sh = (b as i32).wrapping_neg(); // the shift, for the shifting forms
    match op {
        Addhn => ((ua + ub) >> es) as u64,
        Raddhn => ((ua + ub + half) >> es) as u64,
        Subhn => ((ua - ub) >> es) as u64,
        Rsubhn => ((ua - ub + half) >> es) as u64,
        Xtn => a,
        Sqxtn => ssat(sa, es, sat),
        Uqxtn => usat(ua, es, sat),
        Sqxtun => usat(sa, es, sat),
        Shrn => shift(ua, sh, false) as u64,
        Rshrn => shift(ua, sh, true) as u64,
        Sqshrn => ssat(shift(sa, sh, false), es, sat),
        Uqshrn => usat(shift(ua, sh, false), es, sat),
        Sqrshrn => ssat(shift(sa, sh, true), es, sat),
        Uqrshrn => usat(shift(ua, sh, true), es, sat),
        Sqshrun => usat(shift(sa, sh, false), es, sat),
        Sqrshrun => usat(shift(sa, sh, true), es, sat),
        _ => 0,
    }
}

/// Lane `i` of `v` (`es` bits), through the 64-bit halves: cheaper than
/// a variable 128-bit shift.
#[inline(always)]
fn lane(v: u128, es: u32, i: u32) -> u64 {
    let bit = i * es;
    let half = if bit >= 64 {
        (v >> 64) as u64
    } else {
        v as u64
    };
    (half >> (bit & 63)) & ones(es)
}

/// OR lane `i` (`es` bits of `x`) into `r`, which is zero there.
#[inline(always)]
fn put(r: &mut u128, es: u32, i: u32, x: u64) {
    let bit = i * es;
    let x = u128::from((x & ones(es)) << (bit & 63));
    *r |= if bit >= 64 { x << 64 } else { x };
}

/// The commonest vector operations on all lanes at once (SWAR on the
/// 128-bit value): `None` for the others.
#[inline]
fn swar(op: IntOp, es: u32, n: u128, m: u128) -> Option<u128> {
    use IntOp::*;
    // Bit 0 and the top bit of every lane.
    let low: u128 = match es {
        8 => 0x0101_0101_0101_0101_0101_0101_0101_0101,
        16 => 0x0001_0001_0001_0001_0001_0001_0001_0001,
        32 => 0x0000_0001_0000_0001_0000_0001_0000_0001,
        _ => 0x0000_0000_0000_0001_0000_0000_0000_0001,
    };
    let high = low << (es - 1);
    // All-ones in each lane where `x`'s lane is zero.
    let zero_lanes = |x: u128| {
        let nonzero = (((x & !high).wrapping_add(!high)) | x) & high;
        ((!nonzero & high) >> (es - 1)).wrapping_mul(u128::from(ones(es)))
    };
    Some(match op {
        Add => ((n & !high).wrapping_add(m & !high)) ^ ((n ^ m) & high),
        Sub => ((n | high).wrapping_sub(m & !high)) ^ ((n ^ !m) & high),
        Cmeq => zero_lanes(n ^ m),
        Cmeq0 => zero_lanes(n),
        Cmtst => !zero_lanes(n & m),
        _ => return None,
    })
}

/// Execute `s` on `cpu` (the caller has done the CPACR check).
pub fn execute(cpu: &mut Cpu, s: &SimdInt) {
    use IntOp::*;
    let es = 8u32 << s.size;
    let q = s.flags & Q != 0;
    let scalar = s.flags & SCALAR != 0;
    let elem = s.flags & ELEM != 0;
    let n = cpu.v(s.rn);
    let m = cpu.v(s.rm);
    let d = cpu.v(s.rd);
    let bits = if q && !scalar { 128 } else { 64 };
    let mut sat = false;
    let mut r = 0u128;
    let op = s.op;
    match op {
        Add | Sub | Mul | Mla | Mls | Pmul | Shadd | Uhadd | Srhadd | Urhadd | Shsub | Uhsub
        | Sqadd | Uqadd | Sqsub | Uqsub | Sshl | Ushl | Srshl | Urshl | Sqshl | Uqshl | Sqrshl
        | Uqrshl | Smax | Umax | Smin | Umin | Sabd | Uabd | Saba | Uaba | Cmgt | Cmhi | Cmge
        | Cmhs | Cmeq | Cmtst | Sqdmulh | Sqrdmulh | Cls | Clz | Cnt | Not | Rbit | Suqadd
        | Usqadd | Sqabs | Sqneg | Abs | Neg | Cmgt0 | Cmge0 | Cmeq0 | Cmle0 | Cmlt0 | Sshr
        | Ushr | Ssra | Usra | Srshr | Urshr | Srsra | Ursra | Sri | Shl | Sli | SqshlImm
        | UqshlImm | Sqshlu => {
            let lanes = if scalar { 1 } else { bits / es };
            let sh = u64::from(s.imm);
            // One loop per operation (`same` is inlined with a constant
            // `op`), so the per-lane work is the operation alone.
            macro_rules! each {
                ($b:expr; $($o:ident)*) => {
                    match op {
                        $($o => {
                            for i in 0..lanes {
                                let b = $b(i);
                                let x = same($o, es, lane(n, es, i), b, lane(d, es, i), &mut sat);
                                put(&mut r, es, i, x);
                            }
                        })*
                        _ => {}
                    }
                };
            }
            if elem {
                let b = lane(m, es, u32::from(s.imm));
                each!(|_| b; Mul Mla Mls Sqdmulh Sqrdmulh);
            } else if let Some(x) = swar(op, es, n, m).filter(|_| !scalar) {
                r = if bits == 64 {
                    x & u128::from(u64::MAX)
                } else {
                    x
                };
            } else {
                each!(|i| lane(m, es, i);
                    Add Sub Mul Mla Mls Pmul Shadd Uhadd Srhadd Urhadd Shsub Uhsub Sqadd Uqadd
                    Sqsub Uqsub Sshl Ushl Srshl Urshl Sqshl Uqshl Sqrshl Uqrshl Smax Umax Smin
                    Umin Sabd Uabd Saba Uaba Cmgt Cmhi Cmge Cmhs Cmeq Cmtst Sqdmulh Sqrdmulh);
                each!(|_| 0; Cls Clz Cnt Not Rbit Suqadd Usqadd Sqabs Sqneg Abs Neg Cmgt0 Cmge0
                    Cmeq0 Cmle0 Cmlt0);
                each!(|_| sh; Sshr Ushr Ssra Usra Srshr Urshr Srsra Ursra Sri Shl Sli SqshlImm
                    UqshlImm Sqshlu);
            }
        }
        Addp | Smaxp | Umaxp | Sminp | Uminp => {
            if scalar {
                r = u128::from(lane(n, 64, 0).wrapping_add(lane(n, 64, 1)));
            } else {
                let lanes = bits / es;
                let cat = |j: u32| {
                    if j < lanes {
                        lane(n, es, j)
                    } else {
                        lane(m, es, j - lanes)
                    }
                };
                let inner = match op {
                    Addp => Add,
                    Smaxp => Smax,
                    Umaxp => Umax,
                    Sminp => Smin,
                    _ => Umin,
                };
                for i in 0..lanes {
                    let x = same(inner, es, cat(2 * i), cat(2 * i + 1), 0, &mut sat);
                    put(&mut r, es, i, x);
                }
            }
        }
        Rev64 | Rev32 | Rev16 => {
            let container = match op {
                Rev64 => 64,
                Rev32 => 32,
                _ => 16,
            };
            let per = container / es;
            for i in 0..bits / es {
                let j = i ^ (per - 1);
                put(&mut r, es, i, lane(n, es, j));
            }
        }
        Saddlp | Uaddlp | Sadalp | Uadalp => {
            let signed = matches!(op, Saddlp | Sadalp);
            let acc = matches!(op, Sadalp | Uadalp);
            let ext = |x: u64| {
                if signed {
                    i128::from(sext(x, es))
                } else {
                    i128::from(x)
                }
            };
            for i in 0..bits / (2 * es) {
                let mut x = ext(lane(n, es, 2 * i)) + ext(lane(n, es, 2 * i + 1));
                if acc {
                    x += i128::from(lane(d, 2 * es, i));
                }
                put(&mut r, 2 * es, i, x as u64);
            }
        }
        Saddl | Uaddl | Ssubl | Usubl | Saddw | Uaddw | Ssubw | Usubw | Sabal | Uabal | Sabdl
        | Uabdl | Smlal | Umlal | Smlsl | Umlsl | Smull | Umull | Sqdmlal | Sqdmlsl | Sqdmull
        | Pmull | Shll | Sshll | Ushll => {
            let part = q && !scalar;
            let hn = if part { n >> 64 } else { n };
            let hm = if part && !elem { m >> 64 } else { m };
            let lanes = if scalar { 1 } else { 64 / es };
            let sh = u64::from(s.imm);
            macro_rules! each {
                ($a:expr, $b:expr; $($o:ident)*) => {
                    match op {
                        $($o => {
                            for i in 0..lanes {
                                let (a, b) = ($a(i), $b(i));
                                let x = long($o, es, a, b, lane(d, 2 * es, i), &mut sat);
                                put(&mut r, 2 * es, i, x);
                            }
                        })*
                        _ => {}
                    }
                };
            }
            let half = |i| lane(hn, es, i);
            if elem {
                let eb = lane(m, es, u32::from(s.imm));
                each!(half, |_| eb; Smlal Umlal Smlsl Umlsl Smull Umull Sqdmlal Sqdmlsl Sqdmull);
            } else {
                each!(half, |i| lane(hm, es, i);
                    Saddl Uaddl Ssubl Usubl Sabal Uabal Sabdl Uabdl Smlal Umlal Smlsl Umlsl Smull
                    Umull Sqdmlal Sqdmlsl Sqdmull Pmull);
                each!(|i| lane(n, 2 * es, i), |i| lane(hm, es, i); Saddw Uaddw Ssubw Usubw);
                each!(half, |_| sh; Shll Sshll Ushll);
            }
        }
        Addhn | Raddhn | Subhn | Rsubhn | Xtn | Sqxtn | Uqxtn | Sqxtun | Shrn | Rshrn | Sqshrn
        | Uqshrn | Sqrshrn | Uqrshrn | Sqshrun | Sqrshrun => {
            let lanes = if scalar { 1 } else { 64 / es };
            let sh = u64::from(s.imm);
            macro_rules! each {
                ($b:expr; $($o:ident)*) => {
                    match op {
                        $($o => {
                            for i in 0..lanes {
                                let x = narrow($o, es, lane(n, 2 * es, i), $b(i), &mut sat);
                                put(&mut r, es, i, x);
                            }
                        })*
                        _ => {}
                    }
                };
            }
            each!(|i| lane(m, 2 * es, i); Addhn Raddhn Subhn Rsubhn);
            each!(|_| sh; Xtn Sqxtn Uqxtn Sqxtun Shrn Rshrn Sqshrn Uqshrn Sqrshrn Uqrshrn Sqshrun
                Sqrshrun);
            if q && !scalar {
                r = (d & u128::from(u64::MAX)) | (r << 64);
            }
        }
        Addv | Saddlv | Uaddlv | Smaxv | Umaxv | Sminv | Uminv => {
            let lanes = bits / es;
            let first = lane(n, es, 0);
            let mut acc: i128 = match op {
                Saddlv | Smaxv | Sminv => i128::from(sext(first, es)),
                _ => i128::from(first),
            };
            macro_rules! fold {
                ($($o:ident: $f:expr),*) => {
                    match op {
                        $($o => {
                            for i in 1..lanes {
                                let a = lane(n, es, i);
                                acc = $f(acc, i128::from(sext(a, es)), i128::from(a));
                            }
                        })*
                        _ => {}
                    }
                };
            }
            fold!(
                Addv: |x, _, u| x + u,
                Uaddlv: |x, _, u| x + u,
                Saddlv: |x, s, _| x + s,
                Smaxv: |x: i128, s, _| x.max(s),
                Umaxv: |x: i128, _, u| x.max(u),
                Sminv: |x: i128, s, _| x.min(s),
                Uminv: |x: i128, _, u| x.min(u)
            );
            let out = if matches!(op, Saddlv | Uaddlv) {
                2 * es
            } else {
                es
            };
            put(&mut r, out, 0, acc as u64);
        }
        Pmull64 => {
            let sel = if q { 1 } else { 0 };
            r = clmul(lane(n, 64, sel), lane(m, 64, sel), 64);
        }
    }
    if sat {
        cpu.sys.fpsr |= FPSR_QC;
    }
    cpu.set_v(s.rd, r);
}

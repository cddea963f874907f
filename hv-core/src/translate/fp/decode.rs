//! FP/SIMD decoding: A64 words to [`FpInsn`].

use super::*;

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
    if let Some(c) = super::crypto::decode(w) {
        return Some(c);
    }
    if let Some(f) = arith::decode(w) {
        return Some(f);
    }
    if bits(w, 28, 24) == 0b11110 && !bit(w, 30) {
        return decode_scalar(w);
    }
    if w & permute::GROUP_MASK == permute::GROUP_VALUE {
        return permute::decode(w);
    }
    // Integer AdvSIMD, vector and scalar.
    if let Some(i) = super::simd_int::decode(w) {
        return Some(i);
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

/// The scalar FP encodings that are not arithmetic (FMOV to and from
/// general registers, FMOV immediate, FCSEL); [`arith`] has the rest.
fn decode_scalar(w: u32) -> Option<FpInsn> {
    let sf = bit(w, 31);
    let ftype = bits(w, 23, 22);
    let rd = reg(w, 0);
    let rn = reg(w, 5);
    let rm = reg(w, 16);
    if !bit(w, 21) || bit(w, 29) {
        return None;
    }
    if bits(w, 15, 10) == 0 {
        let rmode = bits(w, 20, 19);
        let opcode = bits(w, 18, 16);
        if opcode < 0b110 {
            return None;
        }
        let width = match (sf, ftype, rmode) {
            (false, 0, 0) => 32,
            (true, 1, 0) => 64,
            (true, 2, 1) => 128,
            _ => return None,
        };
        return Some(if opcode == 0b110 {
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
        });
    }
    if sf {
        return None;
    }
    let ty = fp_ty(ftype)?;
    if bits(w, 11, 10) == 0b11 {
        return Some(FpInsn::Csel {
            ty,
            rd,
            rn,
            rm,
            cond: bits(w, 15, 12) as u8,
        });
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
    // Shift by immediate: simd_int.
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
        return None; // integer three same: simd_int
    }
    // Two-register misc and across lanes: simd_int (integer) and arith (FP).
    None
}

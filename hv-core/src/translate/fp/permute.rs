//! Advanced SIMD table lookup (TBL/TBX) and permute (UZP1/UZP2, TRN1/TRN2,
//! ZIP1/ZIP2), after the Arm ARM pseudocode.
//!
//! The other permute-like instructions live with the copies they share
//! decoding with in `decode.rs`/`exec.rs`: EXT, REV16/REV32/REV64 (two
//! registers, miscellaneous), DUP/INS/UMOV/SMOV (copy) and DUP (scalar
//! copy); their tests are in this module too.

use super::lanes::{lane, qmask, set_lane};
use super::{FpInsn, PermOp};
use crate::translate::interp::Cpu;

#[inline]
const fn bits(w: u32, hi: u32, lo: u32) -> u32 {
    (w >> lo) & ((1u32 << (hi - lo + 1)) - 1)
}

/// Mask and value of the words [`decode`] handles: `0 Q 001110 xx 0 Rm 0
/// xxx x0 Rn Rd` (TBL/TBX with bits 11:10 = 00, permute with 10).
pub const GROUP_MASK: u32 = 0xbf20_8400;
/// See [`GROUP_MASK`].
pub const GROUP_VALUE: u32 = 0x0e00_0000;

/// Decode a word of [`GROUP_MASK`]/[`GROUP_VALUE`].
pub fn decode(w: u32) -> Option<FpInsn> {
    let q = bits(w, 30, 30) != 0;
    let size = bits(w, 23, 22) as u8;
    let rd = bits(w, 4, 0) as u8;
    let rn = bits(w, 9, 5) as u8;
    let rm = bits(w, 20, 16) as u8;
    if bits(w, 11, 11) == 0 {
        // TBL/TBX: 0 Q 001110 00 0 Rm 0 len op 00 Rn Rd.
        if size != 0 {
            return None;
        }
        return Some(FpInsn::Tbl {
            q,
            tbx: bits(w, 12, 12) != 0,
            regs: bits(w, 14, 13) as u8 + 1,
            rd,
            rn,
            rm,
        });
    }
    // Permute: 0 Q 001110 size 0 Rm 0 opcode 10 Rn Rd.
    let op = match bits(w, 14, 12) {
        0b001 => PermOp::Uzp1,
        0b010 => PermOp::Trn1,
        0b011 => PermOp::Zip1,
        0b101 => PermOp::Uzp2,
        0b110 => PermOp::Trn2,
        0b111 => PermOp::Zip2,
        _ => return None,
    };
    if size == 3 && !q {
        return None;
    }
    Some(FpInsn::Perm {
        q,
        size,
        op,
        rd,
        rn,
        rm,
    })
}

/// Execute [`FpInsn::Tbl`] or [`FpInsn::Perm`]; `false` for anything else.
pub fn execute(cpu: &mut Cpu, f: &FpInsn) -> bool {
    match *f {
        FpInsn::Tbl {
            q,
            tbx,
            regs,
            rd,
            rn,
            rm,
        } => {
            let idx = cpu.v(rm);
            let mut table = [0u128; 4];
            for (i, t) in table.iter_mut().enumerate().take(usize::from(regs)) {
                *t = cpu.v((rn + i as u8) % 32);
            }
            let limit = 16 * u32::from(regs);
            let mut r = if tbx { cpu.v(rd) } else { 0 };
            for i in 0..if q { 16 } else { 8 } {
                let x = lane(idx, 8, i) as u32;
                if x < limit {
                    let b = lane(table[(x / 16) as usize], 8, x % 16);
                    set_lane(&mut r, 8, i, b);
                }
            }
            cpu.set_v(rd, qmask(q, r));
        }
        FpInsn::Perm {
            q,
            size,
            op,
            rd,
            rn,
            rm,
        } => {
            let es = 8u32 << size;
            let elements = if q { 128 / es } else { 64 / es };
            let pairs = elements / 2;
            let (n, m) = (cpu.v(rn), cpu.v(rm));
            let mut r = 0u128;
            match op {
                PermOp::Uzp1 | PermOp::Uzp2 => {
                    let part = u32::from(op == PermOp::Uzp2);
                    for e in 0..elements {
                        // Element 2e+part of Vm:Vn (each `elements` wide).
                        let j = 2 * e + part;
                        let x = if j < elements {
                            lane(n, es, j)
                        } else {
                            lane(m, es, j - elements)
                        };
                        set_lane(&mut r, es, e, x);
                    }
                }
                PermOp::Trn1 | PermOp::Trn2 => {
                    let part = u32::from(op == PermOp::Trn2);
                    for p in 0..pairs {
                        set_lane(&mut r, es, 2 * p, lane(n, es, 2 * p + part));
                        set_lane(&mut r, es, 2 * p + 1, lane(m, es, 2 * p + part));
                    }
                }
                PermOp::Zip1 | PermOp::Zip2 => {
                    let base = if op == PermOp::Zip2 { pairs } else { 0 };
                    for p in 0..pairs {
                        set_lane(&mut r, es, 2 * p, lane(n, es, base + p));
                        set_lane(&mut r, es, 2 * p + 1, lane(m, es, base + p));
                    }
                }
            }
            cpu.set_v(rd, r);
        }
        _ => return false,
    }
    true
}

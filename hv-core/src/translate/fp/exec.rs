//! FP/SIMD execution.

use super::lanes::*;
use super::*;
use crate::translate::cond::cond_holds;
use crate::translate::interp::Cpu;

/// Execute a non-memory FP/SIMD instruction on `cpu`. The caller has done
/// the CPACR check. Returns `false` if the instruction is unallocated after
/// all (the caller raises Undefined).
pub fn execute(cpu: &mut Cpu, f: &FpInsn, flags_live: bool) -> bool {
    let sbits = |ty: FpTy, v: u128| -> u64 {
        match ty {
            FpTy::S => v as u32 as u64,
            FpTy::D => v as u64,
        }
    };
    match *f {
        FpInsn::Arith(ref a) => arith::execute(cpu, a, flags_live),
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
        FpInsn::Tbl { .. } | FpInsn::Perm { .. } => return super::permute::execute(cpu, f),
        // Handled by the interpreter (Cpu::simd_ldst).
        FpInsn::LdStMulti { .. } | FpInsn::LdStSingle { .. } => return false,
        FpInsn::Crypto(c) => super::crypto::execute(cpu, &c),
    }
    true
}

//! FP/SIMD execution.

use super::lanes::*;
use super::soft::*;
use super::*;
use crate::translate::cond::cond_holds;
use crate::translate::interp::Cpu;

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
        FpInsn::Int(ref s) => super::simd_int::execute(cpu, s),
        FpInsn::LdSt1 { .. } => return false, // handled by the interpreter
    }
    true
}

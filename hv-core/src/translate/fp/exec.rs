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
        FpInsn::Int(ref s) => super::simd_int::execute(cpu, s),
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
        FpInsn::Tbl { .. } | FpInsn::Perm { .. } => return super::permute::execute(cpu, f),
        // Handled by the interpreter (Cpu::simd_ldst).
        FpInsn::LdStMulti { .. } | FpInsn::LdStSingle { .. } => return false,
        FpInsn::Crypto(c) => super::crypto::execute(cpu, &c),
    }
    true
}

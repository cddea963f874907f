//! Lifting: a decoded block ([`crate::translate::ir::Block`]) to the JIT's
//! IR ([`super::ir::IrBlock`]). Integer data processing, loads, stores and
//! branches become IR, scalar FP arithmetic and compares [`IrOp::Fp`]
//! (host code with the interpreter as its slow path); every other
//! instruction becomes an [`IrOp::Interp`] call, so
//! every block compiles and the interpreter's semantics stay the single
//! definition of what is not lifted.
//!
//! The lifter is naive on purpose (each instruction reads its source
//! registers and writes its result); [`super::opt`] removes the redundant
//! reads and writes and folds constants.

use crate::translate::decode::{
    AddrMode, Bitfield, BranchReg, Csel, Dp1, Dp2, Dp3, Extend, Insn, LogicOp, MemKind, MemOp,
    MovWide, Shift, SP, ZR,
};
use crate::translate::fp::arith::{Arith, Bin, Shape, Un};
use crate::translate::fp::simd_int::{self, IntOp, SimdInt};
use crate::translate::fp::soft::{Fmt, Rm};
use crate::translate::fp::{FpInsn, FpTy, ModOp, VLogic};
use crate::translate::ir::Block;

use super::ir::{
    BinOp, FlagOp, FpArith, FpBits, FpOp, GReg, IrBlock, IrOp, LoadExt, Test, Tmp, UnOp, Val,
    VecImm, VecLane, VecLogic, VecShift, Width,
};

/// Lift `block`, whose first instruction is at virtual address `va`.
pub fn lift(block: &Block, va: u64) -> IrBlock {
    let mut l = Lifter {
        ir: IrBlock::default(),
    };
    let n = block.ops.len();
    l.ir.insns = n as u16;
    let mut last_native = true;
    for (i, op) in block.ops.iter().enumerate() {
        let pc = va.wrapping_add(4 * i as u64);
        l.ir.push(IrOp::Insn { index: i as u16 });
        let before = l.ir.ops.len();
        if l.insn(i, op.insn, op.flags, pc) == End::Block {
            return l.ir;
        }
        last_native = !l.ir.ops[before..]
            .iter()
            .any(|o| matches!(o, IrOp::Interp { .. }));
    }
    let next = va.wrapping_add(4 * n as u64);
    l.ir.push(IrOp::Exit {
        pc: Val::Imm(next),
        chain: last_native,
    });
    l.ir
}

/// Whether lifting an instruction ended the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// Continue with the next instruction.
    Next,
    /// The instruction left the block on every path (an exit was emitted).
    Block,
}

struct Lifter {
    ir: IrBlock,
}

/// Low `width` bits set (1..=64).
const fn ones(width: u32) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

impl Lifter {
    fn tmp(&mut self) -> Tmp {
        self.ir.tmp()
    }

    /// Read register `n` (31 = XZR, 32 = SP).
    fn get(&mut self, n: u8) -> Val {
        let reg = match n {
            ZR => return Val::Imm(0),
            SP => GReg::Sp,
            _ => GReg::X(n),
        };
        let dst = self.tmp();
        self.ir.push(IrOp::Get { dst, reg });
        Val::T(dst)
    }

    /// Write register `n` (31 discards, 32 = SP).
    fn set(&mut self, n: u8, val: Val) {
        let reg = match n {
            ZR => return,
            SP => GReg::Sp,
            _ => GReg::X(n),
        };
        self.ir.push(IrOp::Set { reg, val });
    }

    fn bin(&mut self, op: BinOp, w: Width, a: Val, b: Val) -> Val {
        let dst = self.tmp();
        self.ir.push(IrOp::Bin { op, w, dst, a, b });
        Val::T(dst)
    }

    fn un(&mut self, op: UnOp, w: Width, a: Val) -> Val {
        let dst = self.tmp();
        self.ir.push(IrOp::Un { op, w, dst, a });
        Val::T(dst)
    }

    /// A flag-setting op; `want` says whether NZCV is live (else a plain
    /// op without flags is emitted, as the interpreter skips them too).
    fn flags(&mut self, op: FlagOp, w: Width, a: Val, b: Val, want: bool) -> Val {
        if want {
            let dst = self.tmp();
            self.ir.push(IrOp::Flags {
                op,
                w,
                dst: Some(dst),
                a,
                b,
            });
            return Val::T(dst);
        }
        match op {
            FlagOp::Add => self.bin(BinOp::Add, w, a, b),
            FlagOp::Sub => self.bin(BinOp::Sub, w, a, b),
            FlagOp::And => self.bin(BinOp::And, w, a, b),
            FlagOp::Adc | FlagOp::Sbc => {
                let b = if op == FlagOp::Sbc {
                    self.un(UnOp::Not, w, b)
                } else {
                    b
                };
                let c = self.tmp();
                self.ir.push(IrOp::GetCarry { dst: c });
                let s = self.bin(BinOp::Add, w, a, b);
                self.bin(BinOp::Add, w, s, Val::T(c))
            }
        }
    }

    /// `v` shifted as a shifted-register operand (amount < width).
    fn shifted(&mut self, w: Width, v: Val, shift: Shift, amount: u8) -> Val {
        if amount == 0 {
            return self.trunc(w, v);
        }
        let op = match shift {
            Shift::Lsl => BinOp::Shl,
            Shift::Lsr => BinOp::Lshr,
            Shift::Asr => BinOp::Ashr,
            Shift::Ror => BinOp::Ror,
        };
        self.bin(op, w, v, Val::Imm(u64::from(amount)))
    }

    /// `v` truncated to `w` (a no-op for W64).
    fn trunc(&mut self, w: Width, v: Val) -> Val {
        match (w, v) {
            (Width::W64, _) => v,
            (Width::W32, Val::Imm(i)) => Val::Imm(i & 0xffff_ffff),
            (Width::W32, _) => self.un(UnOp::Zext(32), Width::W64, v),
        }
    }

    fn exit(&mut self, pc: Val) -> End {
        self.ir.push(IrOp::Exit { pc, chain: true });
        End::Block
    }

    fn branch_if(&mut self, test: Test, taken: u64, pc: u64) -> End {
        self.ir.push(IrOp::ExitIf { test, pc: taken });
        self.exit(Val::Imm(pc.wrapping_add(4)))
    }

    fn interp(&mut self, index: usize) -> End {
        self.ir.push(IrOp::Interp {
            index: index as u16,
        });
        End::Next
    }

    /// Lift instruction `index` of the block, at `pc`, whose NZCV result
    /// is live if `live`.
    fn insn(&mut self, index: usize, insn: Insn, live: bool, pc: u64) -> End {
        match insn {
            Insn::Nop => End::Next,
            Insn::Adr { rd, imm, page } => {
                let base = if page { pc & !0xfff } else { pc };
                self.set(rd, Val::Imm(base.wrapping_add(imm as u64)));
                End::Next
            }
            Insn::AddSubImm {
                sf,
                sub,
                s,
                rd,
                rn,
                imm,
            } => {
                let w = Width::of_sf(sf);
                let a = self.get(rn);
                let op = if sub { FlagOp::Sub } else { FlagOp::Add };
                let r = self.flags(op, w, a, Val::Imm(imm), s && live);
                self.set(rd, r);
                End::Next
            }
            Insn::LogicImm {
                sf,
                op,
                rd,
                rn,
                imm,
            } => {
                let w = Width::of_sf(sf);
                let a = self.get(rn);
                let r = self.logic(w, op, a, Val::Imm(w.trunc(imm)), live);
                self.set(rd, r);
                End::Next
            }
            Insn::LogicReg {
                sf,
                op,
                invert,
                shift,
                amount,
                rd,
                rn,
                rm,
            } => {
                let w = Width::of_sf(sf);
                let m = self.get(rm);
                let mut b = self.shifted(w, m, shift, amount);
                if invert {
                    b = self.un(UnOp::Not, w, b);
                }
                let a = self.get(rn);
                let r = self.logic(w, op, a, b, live);
                self.set(rd, r);
                End::Next
            }
            Insn::MovWide {
                sf,
                op,
                rd,
                imm16,
                shift,
            } => {
                let w = Width::of_sf(sf);
                let v = u64::from(imm16) << (shift & 63);
                let r = match op {
                    MovWide::Z => Val::Imm(w.trunc(v)),
                    MovWide::N => Val::Imm(w.trunc(!v)),
                    MovWide::K => {
                        let old = self.get(rd);
                        let keep = self.bin(
                            BinOp::And,
                            w,
                            old,
                            Val::Imm(w.trunc(!(0xffffu64 << (shift & 63)))),
                        );
                        self.bin(BinOp::Or, w, keep, Val::Imm(w.trunc(v)))
                    }
                };
                self.set(rd, r);
                End::Next
            }
            Insn::AddSubReg {
                sf,
                sub,
                s,
                shift,
                amount,
                rd,
                rn,
                rm,
            } => {
                let w = Width::of_sf(sf);
                let m = self.get(rm);
                let b = self.shifted(w, m, shift, amount);
                let a = self.get(rn);
                let op = if sub { FlagOp::Sub } else { FlagOp::Add };
                let r = self.flags(op, w, a, b, s && live);
                self.set(rd, r);
                End::Next
            }
            Insn::AddSubExt {
                sf,
                sub,
                s,
                ext,
                amount,
                rd,
                rn,
                rm,
            } => {
                let w = Width::of_sf(sf);
                let m = self.get(rm);
                let e = self.extend(ext, m);
                let b = if amount == 0 {
                    e
                } else {
                    self.bin(BinOp::Shl, Width::W64, e, Val::Imm(u64::from(amount)))
                };
                let a = self.get(rn);
                let op = if sub { FlagOp::Sub } else { FlagOp::Add };
                let r = self.flags(op, w, a, b, s && live);
                self.set(rd, r);
                End::Next
            }
            Insn::AddSubCarry {
                sf,
                sub,
                s,
                rd,
                rn,
                rm,
            } => {
                let w = Width::of_sf(sf);
                let b = self.get(rm);
                let a = self.get(rn);
                let op = if sub { FlagOp::Sbc } else { FlagOp::Adc };
                let r = self.flags(op, w, a, b, s && live);
                self.set(rd, r);
                End::Next
            }
            Insn::CondCmp {
                sf,
                sub,
                imm,
                rn,
                rm_imm,
                cond,
                nzcv,
            } => {
                if live {
                    let b = if imm {
                        Val::Imm(u64::from(rm_imm))
                    } else {
                        self.get(rm_imm)
                    };
                    let a = self.get(rn);
                    self.ir.push(IrOp::CondFlags {
                        cond,
                        sub,
                        w: Width::of_sf(sf),
                        a,
                        b,
                        nzcv,
                    });
                }
                End::Next
            }
            Insn::CondSel {
                sf,
                op,
                rd,
                rn,
                rm,
                cond,
            } => {
                let w = Width::of_sf(sf);
                let m = self.get(rm);
                let b = match op {
                    Csel::Csel => m,
                    Csel::Csinc => self.bin(BinOp::Add, w, m, Val::Imm(1)),
                    Csel::Csinv => self.un(UnOp::Not, w, m),
                    Csel::Csneg => self.bin(BinOp::Sub, w, Val::Imm(0), m),
                };
                let a = self.get(rn);
                let dst = self.tmp();
                self.ir.push(IrOp::Select {
                    dst,
                    test: Test::Nzcv(cond),
                    a,
                    b,
                });
                let r = self.trunc(w, Val::T(dst));
                self.set(rd, r);
                End::Next
            }
            Insn::Bitfield {
                sf,
                op,
                rd,
                rn,
                immr,
                imms,
            } => {
                let w = Width::of_sf(sf);
                let src = self.get(rn);
                let r = self.bitfield(w, op, rd, src, u32::from(immr), u32::from(imms));
                self.set(rd, r);
                End::Next
            }
            Insn::Extr {
                sf,
                rd,
                rn,
                rm,
                lsb,
            } => {
                let w = Width::of_sf(sf);
                let lo = self.get(rm);
                let r = if lsb == 0 {
                    self.trunc(w, lo)
                } else {
                    let hi = self.get(rn);
                    let l = self.bin(BinOp::Lshr, w, lo, Val::Imm(u64::from(lsb)));
                    let up = u64::from(w.bits()) - u64::from(lsb);
                    let h = self.bin(BinOp::Shl, w, hi, Val::Imm(up));
                    self.bin(BinOp::Or, w, l, h)
                };
                self.set(rd, r);
                End::Next
            }
            Insn::Dp2 { sf, op, rd, rn, rm } => {
                let w = Width::of_sf(sf);
                let bop = match op {
                    Dp2::Udiv => BinOp::UDiv,
                    Dp2::Sdiv => BinOp::SDiv,
                    Dp2::Lslv => BinOp::Shl,
                    Dp2::Lsrv => BinOp::Lshr,
                    Dp2::Asrv => BinOp::Ashr,
                    Dp2::Rorv => BinOp::Ror,
                    Dp2::Crc32 { .. } => return self.interp(index),
                };
                let a = self.get(rn);
                let b = self.get(rm);
                let r = self.bin(bop, w, a, b);
                self.set(rd, r);
                End::Next
            }
            Insn::Dp1 { sf, op, rd, rn } => {
                let w = Width::of_sf(sf);
                let uop = match op {
                    Dp1::Clz => UnOp::Clz,
                    Dp1::Rev => UnOp::Rev,
                    _ => return self.interp(index),
                };
                let a = self.get(rn);
                let r = self.un(uop, w, a);
                self.set(rd, r);
                End::Next
            }
            Insn::Dp3 {
                sf,
                op,
                rd,
                rn,
                rm,
                ra,
            } => {
                let w = Width::of_sf(sf);
                let n = self.get(rn);
                let m = self.get(rm);
                let r = match op {
                    Dp3::Madd | Dp3::Msub => {
                        let p = self.bin(BinOp::Mul, w, n, m);
                        let a = self.get(ra);
                        let op = if op == Dp3::Madd {
                            BinOp::Add
                        } else {
                            BinOp::Sub
                        };
                        self.bin(op, w, a, p)
                    }
                    Dp3::Smaddl | Dp3::Smsubl | Dp3::Umaddl | Dp3::Umsubl => {
                        let ext = if matches!(op, Dp3::Smaddl | Dp3::Smsubl) {
                            UnOp::Sext(32)
                        } else {
                            UnOp::Zext(32)
                        };
                        let n = self.un(ext, Width::W64, n);
                        let m = self.un(ext, Width::W64, m);
                        let p = self.bin(BinOp::Mul, Width::W64, n, m);
                        let a = self.get(ra);
                        let op = if matches!(op, Dp3::Smaddl | Dp3::Umaddl) {
                            BinOp::Add
                        } else {
                            BinOp::Sub
                        };
                        self.bin(op, Width::W64, a, p)
                    }
                    Dp3::Smulh => self.bin(BinOp::SMulHi, Width::W64, n, m),
                    Dp3::Umulh => self.bin(BinOp::UMulHi, Width::W64, n, m),
                };
                self.set(rd, r);
                End::Next
            }
            Insn::B { off, link } => {
                if link {
                    self.set(30, Val::Imm(pc.wrapping_add(4)));
                }
                self.exit(Val::Imm(pc.wrapping_add(off as u64)))
            }
            Insn::BCond { cond, off } => {
                let taken = pc.wrapping_add(off as u64);
                if cond >= 14 {
                    // AL and NV: always.
                    return self.exit(Val::Imm(taken));
                }
                self.branch_if(Test::Nzcv(cond), taken, pc)
            }
            Insn::Cbz { sf, nz, rt, off } => {
                let v = self.get(rt);
                let test = Test::Zero {
                    v,
                    w: Width::of_sf(sf),
                    nz,
                };
                self.branch_if(test, pc.wrapping_add(off as u64), pc)
            }
            Insn::Tbz { nz, bit, rt, off } => {
                let v = self.get(rt);
                let test = Test::Bit {
                    v,
                    bit: bit & 63,
                    set: nz,
                };
                self.branch_if(test, pc.wrapping_add(off as u64), pc)
            }
            Insn::BrReg { op, rn } => {
                let target = self.get(rn);
                if op == BranchReg::Blr {
                    self.set(30, Val::Imm(pc.wrapping_add(4)));
                }
                self.exit(target)
            }
            Insn::Mem { op, rt, rn, mode } if Self::native_mem(op) => {
                self.mem(op, rt, rn, mode, pc);
                End::Next
            }
            Insn::Pair {
                op,
                rt,
                rt2,
                rn,
                mode,
            } if Self::native_mem(op) && op.kind != MemKind::Prefetch => {
                self.pair(op, rt, rt2, rn, mode, pc);
                End::Next
            }
            Insn::Mem { op, rt, rn, mode } if Self::fp_mem_op(op) => {
                self.fp_mem(index, op, rt, None, rn, mode, pc);
                End::Next
            }
            Insn::Pair {
                op,
                rt,
                rt2,
                rn,
                mode,
            } if Self::fp_mem_op(op) => {
                self.fp_mem(index, op, rt, Some(rt2), rn, mode, pc);
                End::Next
            }
            Insn::Fp(f) => match self.fp_op(f) {
                Some(op) => {
                    self.ir.push(IrOp::Fp {
                        index: index as u16,
                        op,
                    });
                    if let FpOp::ToGp { dst, xd, .. } | FpOp::ToInt { dst, xd, .. } = op {
                        self.set(xd, Val::T(dst));
                    }
                    End::Next
                }
                None => self.interp(index),
            },
            _ => self.interp(index),
        }
    }

    /// SIMD&FP instructions with an inline host path; a move to a general
    /// register also gets its register write here.
    fn fp_op(&mut self, f: FpInsn) -> Option<FpOp> {
        let q_of = |s: &SimdInt| s.flags == simd_int::Q;
        Some(match f {
            FpInsn::Logic { q, op, rd, rn, rm } => FpOp::Logic {
                op: match op {
                    VLogic::And => VecLogic::And,
                    VLogic::Bic => VecLogic::Bic,
                    VLogic::Orr => VecLogic::Orr,
                    VLogic::Orn => VecLogic::Orn,
                    VLogic::Eor => VecLogic::Eor,
                    _ => return None,
                },
                q,
                rd,
                rn,
                rm,
            },
            FpInsn::Int(s) if s.flags & !simd_int::Q == 0 => {
                let q = q_of(&s);
                let (rd, rn, size) = (s.rd, s.rn, s.size);
                let shift = |op| FpOp::Shift {
                    op,
                    size,
                    q,
                    rd,
                    rn,
                    amount: s.imm,
                };
                let rev = |container| FpOp::Rev {
                    size,
                    container,
                    q,
                    rd,
                    rn,
                };
                let widen = |signed| FpOp::Widen {
                    signed,
                    size,
                    upper: q,
                    rd,
                    rn,
                    shift: s.imm,
                };
                let lanes = |op| FpOp::Lanes {
                    op,
                    size,
                    q,
                    rd,
                    rn,
                    rm: s.rm,
                };
                match (s.op, size) {
                    (IntOp::Add, _) => lanes(VecLane::Add),
                    (IntOp::Sub, _) => lanes(VecLane::Sub),
                    (IntOp::Cmeq, 0..=2) => lanes(VecLane::Cmeq),
                    (IntOp::Cmeq0, 0..=2) => lanes(VecLane::Cmeq0),
                    // SSE2 has no byte shifts and no 64-bit arithmetic one.
                    (IntOp::Shl, 1..=3) => shift(VecShift::Shl),
                    (IntOp::Ushr, 1..=3) => shift(VecShift::Ushr),
                    (IntOp::Sshr, 1..=2) => shift(VecShift::Sshr),
                    (IntOp::Sli, 1..=3) => shift(VecShift::Sli),
                    (IntOp::Ushll, 0..=2) => widen(false),
                    (IntOp::Sshll, 0..=2) => widen(true),
                    (IntOp::Rev16, 0) => rev(1),
                    (IntOp::Rev32, 0..=1) => rev(2),
                    (IntOp::Rev64, 0..=2) => rev(3),
                    _ => return None,
                }
            }
            FpInsn::Ext {
                q,
                index,
                rd,
                rn,
                rm,
            } if q || index < 8 => FpOp::Ext {
                q,
                index,
                rd,
                rn,
                rm,
            },
            FpInsn::ModImm { q, op, imm, rd } => {
                let (op, pattern) = match op {
                    ModOp::Movi => (VecImm::Mov, imm),
                    ModOp::Mvni => (VecImm::Mov, !imm),
                    ModOp::Orr => (VecImm::Or, imm),
                    ModOp::Bic => (VecImm::And, !imm),
                };
                FpOp::Imm { op, q, pattern, rd }
            }
            FpInsn::DupGp { q, size, rd, rn } => FpOp::DupGp {
                q,
                size,
                rd,
                val: self.get(rn),
            },
            FpInsn::MovFromGp { bits, rd, rn } => FpOp::FromGp {
                bits,
                rd,
                val: self.get(rn),
            },
            FpInsn::InsElem {
                size,
                dst,
                src,
                rd,
                rn,
            } => FpOp::Elem {
                size_log2: size,
                rd,
                dst: dst << size,
                rn,
                src: src << size,
                scalar: false,
            },
            FpInsn::DupScalar {
                size,
                index,
                rd,
                rn,
            } => FpOp::Elem {
                size_log2: size,
                rd,
                dst: 0,
                rn,
                src: index << size,
                scalar: true,
            },
            FpInsn::DupElem {
                q,
                size,
                index,
                rd,
                rn,
            } => FpOp::DupElem {
                q,
                size,
                rd,
                rn,
                src: index << size,
            },
            FpInsn::InsGp {
                size,
                index,
                rd,
                rn,
            } => FpOp::InsGp {
                size_log2: size,
                rd,
                dst: index << size,
                val: self.get(rn),
            },
            FpInsn::MovToGp { bits, rd, rn } => FpOp::ToGp {
                dst: self.tmp(),
                xd: rd,
                rn,
                offset: if bits == 128 { 8 } else { 0 },
                size_log2: if bits == 32 { 2 } else { 3 },
                ext: LoadExt::Zero,
            },
            FpInsn::Mov {
                size,
                index,
                rd,
                rn,
                signed,
                x,
            } => FpOp::ToGp {
                dst: self.tmp(),
                xd: rd,
                rn,
                offset: index << size,
                size_log2: size,
                ext: match (signed, x) {
                    (false, _) => LoadExt::Zero,
                    (true, true) => LoadExt::Sx64,
                    (true, false) => LoadExt::Sx32,
                },
            },
            FpInsn::Arith(Arith::FromGp {
                sf,
                fmt: fmt @ (Fmt::S | Fmt::D),
                unsigned,
                fbits: 0,
                rd,
                rn,
            }) => FpOp::FromInt {
                double: fmt == Fmt::D,
                sf,
                unsigned,
                rd,
                val: self.get(rn),
            },
            FpInsn::Arith(Arith::ToGp {
                sf,
                fmt: fmt @ (Fmt::S | Fmt::D),
                rm: Rm::Zero,
                unsigned: false,
                fbits: 0,
                rd,
                rn,
            }) => FpOp::ToInt {
                double: fmt == Fmt::D,
                sf,
                dst: self.tmp(),
                xd: rd,
                rn,
            },
            _ => return Self::fp_arith(f),
        })
    }

    /// Scalar FP arithmetic and compares.
    fn fp_arith(f: FpInsn) -> Option<FpOp> {
        match f {
            FpInsn::Arith(Arith::Bin {
                op: op @ (Bin::Add | Bin::Sub | Bin::Mul | Bin::Div),
                sh: sh @ (Shape::V2S | Shape::V4S | Shape::V2D),
                rd,
                rn,
                rm,
            }) => Some(FpOp::VArith {
                op: match op {
                    Bin::Add => FpArith::Add,
                    Bin::Sub => FpArith::Sub,
                    Bin::Mul => FpArith::Mul,
                    _ => FpArith::Div,
                },
                double: sh == Shape::V2D,
                q: sh != Shape::V2S,
                rd,
                rn,
                rm,
            }),
            FpInsn::Arith(Arith::Bin {
                op,
                sh: sh @ (Shape::S | Shape::D),
                rd,
                rn,
                rm,
            }) => {
                let op = match op {
                    Bin::Add => FpArith::Add,
                    Bin::Sub => FpArith::Sub,
                    Bin::Mul => FpArith::Mul,
                    Bin::Div => FpArith::Div,
                    Bin::Max | Bin::MaxNm => FpArith::Max,
                    Bin::Min | Bin::MinNm => FpArith::Min,
                    _ => return None,
                };
                Some(FpOp::Arith {
                    op,
                    double: sh == Shape::D,
                    rd,
                    rn,
                    rm,
                })
            }
            FpInsn::Arith(Arith::Un {
                op: Un::Sqrt,
                sh: sh @ (Shape::S | Shape::D),
                rd,
                rn,
            }) => Some(FpOp::Arith {
                op: FpArith::Sqrt,
                double: sh == Shape::D,
                rd,
                rn,
                rm: rn,
            }),
            FpInsn::Arith(Arith::Cvt {
                from: from @ (Fmt::S | Fmt::D),
                to: to @ (Fmt::S | Fmt::D),
                odd: false,
                rd,
                rn,
            }) if from != to => Some(FpOp::Cvt {
                narrow: from == Fmt::D,
                rd,
                rn,
            }),
            FpInsn::Arith(Arith::Un {
                op: op @ (Un::Mov | Un::Abs | Un::Neg),
                sh,
                rd,
                rn,
            }) => Some(FpOp::Bits {
                op: match op {
                    Un::Mov => FpBits::Mov,
                    Un::Abs => FpBits::Abs,
                    _ => FpBits::Neg,
                },
                double: matches!(sh, Shape::D | Shape::V2D),
                scalar: matches!(sh, Shape::S | Shape::D),
                q: matches!(sh, Shape::V4S | Shape::V2D),
                rd,
                rn,
            }),
            FpInsn::Csel {
                ty,
                rd,
                rn,
                rm,
                cond,
            } => Some(FpOp::Csel {
                double: ty == FpTy::D,
                cond,
                rd,
                rn,
                rm,
            }),
            FpInsn::Imm { rd, bits, .. } => Some(FpOp::Imm {
                op: VecImm::Mov,
                q: false,
                pattern: bits,
                rd,
            }),
            FpInsn::Arith(Arith::Cmp {
                fmt: fmt @ (Fmt::S | Fmt::D),
                rn,
                rm,
                zero,
                signal: _,
            }) => Some(FpOp::Cmp {
                double: fmt == Fmt::D,
                rn,
                rm: (!zero).then_some(rm),
            }),
            _ => None,
        }
    }

    /// SIMD&FP loads and stores (B, H, S, D and Q registers).
    fn fp_mem_op(op: MemOp) -> bool {
        op.fp && matches!(op.kind, MemKind::Load | MemKind::Store)
    }

    /// A SIMD&FP load or store (pair): the access as one
    /// [`FpOp::Mem`], then the write-back.
    #[allow(clippy::too_many_arguments)]
    fn fp_mem(
        &mut self,
        index: usize,
        op: MemOp,
        rt: u8,
        rt2: Option<u8>,
        rn: u8,
        mode: AddrMode,
        pc: u64,
    ) {
        let (addr, wb) = self.address(rn, mode, pc);
        self.ir.push(IrOp::Fp {
            index: index as u16,
            op: FpOp::Mem {
                load: op.kind == MemKind::Load,
                size_log2: op.size_log2,
                rt,
                rt2,
                addr,
            },
        });
        if let Some(w) = wb {
            self.set(rn, w);
        }
    }

    /// Integer loads and stores of 1..=8 bytes (SIMD&FP ones:
    /// [`Lifter::fp_mem_op`]).
    fn native_mem(op: MemOp) -> bool {
        !op.fp && op.size_log2 <= 3
    }

    /// Effective address and write-back value, as the interpreter's
    /// `address`.
    fn address(&mut self, rn: u8, mode: AddrMode, pc: u64) -> (Val, Option<Val>) {
        let imm = |o: i64| Val::Imm(o as u64);
        match mode {
            AddrMode::Offset(o) => {
                let base = self.get(rn);
                if o == 0 {
                    (base, None)
                } else {
                    (self.bin(BinOp::Add, Width::W64, base, imm(o)), None)
                }
            }
            AddrMode::Pre(o) => {
                let base = self.get(rn);
                let a = self.bin(BinOp::Add, Width::W64, base, imm(o));
                (a, Some(a))
            }
            AddrMode::Post(o) => {
                let base = self.get(rn);
                let w = self.bin(BinOp::Add, Width::W64, base, imm(o));
                (base, Some(w))
            }
            AddrMode::Reg { rm, ext, shift } => {
                let base = self.get(rn);
                let m = self.get(rm);
                let e = self.extend(ext, m);
                let off = if shift & 7 == 0 {
                    e
                } else {
                    self.bin(BinOp::Shl, Width::W64, e, Val::Imm(u64::from(shift & 7)))
                };
                (self.bin(BinOp::Add, Width::W64, base, off), None)
            }
            AddrMode::Literal(o) => (Val::Imm(pc.wrapping_add(o as u64)), None),
        }
    }

    fn extend(&mut self, ext: Extend, m: Val) -> Val {
        match ext {
            Extend::Uxtb => self.un(UnOp::Zext(8), Width::W64, m),
            Extend::Uxth => self.un(UnOp::Zext(16), Width::W64, m),
            Extend::Uxtw => self.un(UnOp::Zext(32), Width::W64, m),
            Extend::Sxtb => self.un(UnOp::Sext(8), Width::W64, m),
            Extend::Sxth => self.un(UnOp::Sext(16), Width::W64, m),
            Extend::Sxtw => self.un(UnOp::Sext(32), Width::W64, m),
            Extend::Uxtx | Extend::Sxtx => m,
        }
    }

    fn load(&mut self, op: MemOp, addr: Val) -> Val {
        let dst = self.tmp();
        let ext = match op.kind {
            MemKind::LoadSx64 => LoadExt::Sx64,
            MemKind::LoadSx32 => LoadExt::Sx32,
            _ => LoadExt::Zero,
        };
        self.ir.push(IrOp::Load {
            dst,
            addr,
            size_log2: op.size_log2,
            ext,
            unpriv: op.unpriv,
        });
        Val::T(dst)
    }

    fn store(&mut self, op: MemOp, addr: Val, val: Val) {
        self.ir.push(IrOp::Store {
            addr,
            val,
            size_log2: op.size_log2,
            unpriv: op.unpriv,
        });
    }

    /// LDR/STR and friends, in the interpreter's order: the access, then
    /// the write-back, then the loaded register.
    fn mem(&mut self, op: MemOp, rt: u8, rn: u8, mode: AddrMode, pc: u64) {
        if op.kind == MemKind::Prefetch {
            return;
        }
        let (addr, wb) = self.address(rn, mode, pc);
        if op.kind == MemKind::Store {
            let v = self.get(rt);
            self.store(op, addr, v);
            if let Some(w) = wb {
                self.set(rn, w);
            }
        } else {
            let v = self.load(op, addr);
            if let Some(w) = wb {
                self.set(rn, w);
            }
            self.set(rt, v);
        }
    }

    /// LDP/STP/LDPSW: both accesses, then the write-back, then the
    /// registers (a fault on the second access leaves the registers
    /// unchanged; a store pair may have written its first half).
    fn pair(&mut self, op: MemOp, rt: u8, rt2: u8, rn: u8, mode: AddrMode, pc: u64) {
        let (addr, wb) = self.address(rn, mode, pc);
        let addr2 = self.bin(BinOp::Add, Width::W64, addr, Val::Imm(1 << op.size_log2));
        if op.kind == MemKind::Store {
            let a = self.get(rt);
            let b = self.get(rt2);
            self.store(op, addr, a);
            self.store(op, addr2, b);
            if let Some(w) = wb {
                self.set(rn, w);
            }
        } else {
            let a = self.load(op, addr);
            let b = self.load(op, addr2);
            if let Some(w) = wb {
                self.set(rn, w);
            }
            self.set(rt, a);
            self.set(rt2, b);
        }
    }

    fn logic(&mut self, w: Width, op: LogicOp, a: Val, b: Val, live: bool) -> Val {
        match op {
            LogicOp::And => self.bin(BinOp::And, w, a, b),
            LogicOp::Orr => self.bin(BinOp::Or, w, a, b),
            LogicOp::Eor => self.bin(BinOp::Xor, w, a, b),
            LogicOp::Ands => self.flags(FlagOp::And, w, a, b, live),
        }
    }

    /// UBFM/SBFM/BFM with the interpreter's field/width/position split.
    fn bitfield(&mut self, w: Width, op: Bitfield, rd: u8, src: Val, r: u32, s: u32) -> Val {
        let size = w.bits();
        let (width, pos) = if s >= r {
            (s - r + 1, 0)
        } else {
            (s + 1, size - r)
        };
        let imm = |v: u32| Val::Imm(u64::from(v));
        match op {
            Bitfield::Ubfm | Bitfield::Bfm => {
                // The field at bit 0, then moved to `pos`.
                let field = if s >= r {
                    let sh = if r == 0 {
                        self.trunc(w, src)
                    } else {
                        self.bin(BinOp::Lshr, w, src, imm(r))
                    };
                    self.bin(BinOp::And, w, sh, Val::Imm(ones(width)))
                } else {
                    self.bin(BinOp::And, w, src, Val::Imm(ones(width)))
                };
                let placed = if pos == 0 {
                    field
                } else {
                    self.bin(BinOp::Shl, w, field, imm(pos))
                };
                if op == Bitfield::Ubfm {
                    return placed;
                }
                let old = self.get(rd);
                let hole = w.trunc(!(ones(width) << pos));
                let kept = self.bin(BinOp::And, w, old, Val::Imm(hole));
                self.bin(BinOp::Or, w, kept, placed)
            }
            Bitfield::Sbfm => {
                // Bit `s` to the top, sign-extend the field down to bit 0,
                // then move it to `pos`.
                let up = self.bin(BinOp::Shl, w, src, imm(size - 1 - s));
                let down = if s >= r {
                    self.bin(BinOp::Ashr, w, up, imm(size - width))
                } else {
                    self.bin(BinOp::Ashr, w, up, imm(size - 1 - s))
                };
                if pos == 0 {
                    down
                } else {
                    self.bin(BinOp::Shl, w, down, imm(pos))
                }
            }
        }
    }
}

//! The cheap IR passes, run on every block before code generation:
//!
//! 1. [`forward`]: guest-register forwarding (a read of a register the
//!    block already holds in a temporary or a constant uses that value:
//!    "get elimination"), copy propagation and constant folding (MOVZ/MOVK
//!    chains, ADRP+ADD and friends become one constant).
//! 2. [`dead_sets`]: a register write overwritten later in the block,
//!    with no exit or interpreter call between, is dropped.
//! 3. [`dead_code`]: pure ops whose result nobody reads are dropped.
//!
//! Flags that nothing reads were already left out by the lifter, from the
//! block's NZCV liveness ([`crate::translate::ir::compute_flag_liveness`]).
//! An [`IrOp::Interp`] call is a barrier for all three: the interpreter
//! reads and writes the register file in memory.

use alloc::vec;
use alloc::vec::Vec;

use super::ir::{BinOp, GReg, IrBlock, IrOp, LoadExt, Test, Tmp, UnOp, Val, Width};

/// Run all passes.
pub fn optimize(b: &mut IrBlock) {
    forward(b);
    dead_sets(b);
    dead_code(b);
}

/// Index of a guest register in the pass tables (X0..X30, then SP).
fn slot(r: GReg) -> usize {
    match r {
        GReg::X(n) => usize::from(n.min(30)),
        GReg::Sp => 31,
    }
}

/// Evaluate a binary op on constants, as the back ends must.
pub fn eval_bin(op: BinOp, w: Width, a: u64, b: u64) -> u64 {
    let (a, b) = (w.trunc(a), w.trunc(b));
    let bits = u64::from(w.bits());
    let sh = (b % bits) as u32;
    let r = match (op, w) {
        (BinOp::Add, _) => a.wrapping_add(b),
        (BinOp::Sub, _) => a.wrapping_sub(b),
        (BinOp::And, _) => a & b,
        (BinOp::Or, _) => a | b,
        (BinOp::Xor, _) => a ^ b,
        (BinOp::Shl, _) => a << sh,
        (BinOp::Lshr, _) => a >> sh,
        (BinOp::Ashr, Width::W64) => ((a as i64) >> sh) as u64,
        (BinOp::Ashr, Width::W32) => u64::from(((a as u32 as i32) >> sh) as u32),
        (BinOp::Ror, Width::W64) => a.rotate_right(sh),
        (BinOp::Ror, Width::W32) => u64::from((a as u32).rotate_right(sh)),
        (BinOp::Mul, _) => a.wrapping_mul(b),
        (BinOp::UMulHi, _) => ((u128::from(a) * u128::from(b)) >> 64) as u64,
        (BinOp::SMulHi, _) => ((i128::from(a as i64) * i128::from(b as i64)) >> 64) as u64,
        (BinOp::UDiv, _) => a.checked_div(b).unwrap_or(0),
        (BinOp::SDiv, Width::W64) => {
            if b == 0 {
                0
            } else {
                (a as i64).wrapping_div(b as i64) as u64
            }
        }
        (BinOp::SDiv, Width::W32) => {
            if b == 0 {
                0
            } else {
                u64::from((a as u32 as i32).wrapping_div(b as u32 as i32) as u32)
            }
        }
    };
    w.trunc(r)
}

/// Evaluate a unary op on a constant.
pub fn eval_un(op: UnOp, w: Width, a: u64) -> u64 {
    let a = w.trunc(a);
    let r = match (op, w) {
        (UnOp::Not, _) => !a,
        (UnOp::Sext(8), _) => a as i8 as i64 as u64,
        (UnOp::Sext(16), _) => a as i16 as i64 as u64,
        (UnOp::Sext(_), _) => a as i32 as i64 as u64,
        (UnOp::Zext(8), _) => a & 0xff,
        (UnOp::Zext(16), _) => a & 0xffff,
        (UnOp::Zext(_), _) => a & 0xffff_ffff,
        (UnOp::Clz, Width::W64) => u64::from(a.leading_zeros()),
        (UnOp::Clz, Width::W32) => u64::from((a as u32).leading_zeros()),
        (UnOp::Rev, Width::W64) => a.swap_bytes(),
        (UnOp::Rev, Width::W32) => u64::from((a as u32).swap_bytes()),
    };
    w.trunc(r)
}

/// Forwarding, copy propagation and constant folding (one forward pass).
pub fn forward(b: &mut IrBlock) {
    // Replacement of each temporary, once known.
    let mut subst: Vec<Option<Val>> = vec![None; b.temps as usize];
    // What each guest register holds since the last barrier, if known.
    let mut regs: [Option<Val>; 32] = [None; 32];
    let mut widths = Widths::new(b.temps as usize);
    let mut out = Vec::with_capacity(b.ops.len());
    for mut op in b.ops.drain(..) {
        op.map_uses(|v| match v {
            Val::T(t) => subst.get(t.0 as usize).copied().flatten().unwrap_or(v),
            Val::Imm(_) => v,
        });
        widths.narrow_operands(&mut op);
        let op = match widths.simplify(op) {
            Simple::Op(op) => op,
            Simple::Is(dst, v) => {
                if let Some(s) = subst.get_mut(dst.0 as usize) {
                    *s = Some(v);
                }
                continue;
            }
        };
        widths.define(&op);
        let replace = |subst: &mut Vec<Option<Val>>, t: Tmp, v: Val| {
            if let Some(s) = subst.get_mut(t.0 as usize) {
                *s = Some(v);
            }
        };
        match op {
            IrOp::Get { dst, reg } => match regs[slot(reg)] {
                Some(v) => {
                    replace(&mut subst, dst, v);
                    continue;
                }
                None => regs[slot(reg)] = Some(Val::T(dst)),
            },
            IrOp::Set { reg, val } => regs[slot(reg)] = Some(val),
            IrOp::Mov { dst, val } => {
                replace(&mut subst, dst, val);
                continue;
            }
            IrOp::Bin {
                op: bop,
                w,
                dst,
                a: Val::Imm(x),
                b: Val::Imm(y),
            } => {
                replace(&mut subst, dst, Val::Imm(eval_bin(bop, w, x, y)));
                continue;
            }
            IrOp::Un {
                op: uop,
                w,
                dst,
                a: Val::Imm(x),
            } => {
                replace(&mut subst, dst, Val::Imm(eval_un(uop, w, x)));
                continue;
            }
            IrOp::Select {
                dst,
                test:
                    Test::Zero {
                        v: Val::Imm(x),
                        w,
                        nz,
                    },
                a,
                b: other,
            } => {
                let holds = (w.trunc(x) != 0) == nz;
                replace(&mut subst, dst, if holds { a } else { other });
                continue;
            }
            IrOp::Interp { .. } => regs = [None; 32],
            _ => {}
        }
        out.push(op);
    }
    b.ops = out;
}

/// What [`Widths::simplify`] made of an op.
enum Simple {
    /// Still an op (maybe another one).
    Op(IrOp),
    /// The op's result is this value: drop the op.
    Is(Tmp, Val),
}

/// What the forward pass knows of 32-bit values: which temporaries have
/// their upper half zero (results of W32 operations, narrow loads and
/// zero extensions) and which are a zero extension of another value. A64
/// W-register code is full of both (`mov w2, w20` is `orr w2, wzr, w20`,
/// every W operand is read through a zero extension), and an operation
/// that only reads the low 32 bits needs neither.
struct Widths {
    upper_zero: Vec<bool>,
    zext_of: Vec<Option<Val>>,
}

impl Widths {
    fn new(temps: usize) -> Widths {
        Widths {
            upper_zero: vec![false; temps],
            zext_of: vec![None; temps],
        }
    }

    fn upper_zero(&self, v: Val) -> bool {
        match v {
            Val::Imm(i) => i >> 32 == 0,
            Val::T(t) => self.upper_zero.get(t.0 as usize).copied().unwrap_or(false),
        }
    }

    /// Operands of ops that read only their low 32 bits skip a zero
    /// extension.
    fn narrow_operands(&self, op: &mut IrOp) {
        let low_only = match *op {
            IrOp::Bin { w, .. } | IrOp::Flags { w, .. } | IrOp::CondFlags { w, .. } => {
                w == Width::W32
            }
            IrOp::Un { op: u, w, .. } => {
                w == Width::W32 || matches!(u, UnOp::Zext(_) | UnOp::Sext(_))
            }
            _ => false,
        };
        if low_only {
            op.map_uses(|v| match v {
                Val::T(t) => self
                    .zext_of
                    .get(t.0 as usize)
                    .copied()
                    .flatten()
                    .unwrap_or(v),
                Val::Imm(_) => v,
            });
        }
    }

    /// `v` as the result of an op of width `w` that passes it through:
    /// itself at W64, or at W32 if its upper half is already zero.
    fn passed(&self, w: Width, v: Val) -> Option<Val> {
        match v {
            Val::Imm(i) => Some(Val::Imm(w.trunc(i))),
            _ if w == Width::W64 || self.upper_zero(v) => Some(v),
            _ => None,
        }
    }

    /// Identities: x | 0, x ^ 0, x + 0, x - 0, shifts by 0, x & ones, and
    /// zero extensions of values whose upper half is zero.
    fn simplify(&self, op: IrOp) -> Simple {
        let (dst, w, v) = match op {
            IrOp::Bin {
                op: bop,
                w,
                dst,
                a,
                b,
            } => {
                let ones = Val::Imm(w.trunc(u64::MAX));
                let low32 = Val::Imm(0xffff_ffff);
                let (w, v) = match (bop, a, b) {
                    (
                        BinOp::Or
                        | BinOp::Xor
                        | BinOp::Add
                        | BinOp::Sub
                        | BinOp::Shl
                        | BinOp::Lshr
                        | BinOp::Ashr
                        | BinOp::Ror,
                        x,
                        Val::Imm(0),
                    )
                    | (BinOp::Or | BinOp::Xor | BinOp::Add, Val::Imm(0), x) => (w, x),
                    (BinOp::And, x, m) | (BinOp::And, m, x) if m == ones && x != m => (w, x),
                    // x & 0xffff_ffff at W64 is a zero extension.
                    (BinOp::And, x, m) | (BinOp::And, m, x) if m == low32 && x != m => {
                        (Width::W32, x)
                    }
                    _ => return Simple::Op(op),
                };
                (dst, w, v)
            }
            IrOp::Un {
                op: UnOp::Zext(32),
                dst,
                a,
                ..
            } if self.upper_zero(a) => (dst, Width::W64, a),
            _ => return Simple::Op(op),
        };
        match self.passed(w, v) {
            Some(v) => Simple::Is(dst, v),
            None => Simple::Op(IrOp::Un {
                op: UnOp::Zext(32),
                w: Width::W64,
                dst,
                a: v,
            }),
        }
    }

    /// Record what `op` defines.
    fn define(&mut self, op: &IrOp) {
        let Some(dst) = op.def() else { return };
        let zero = match *op {
            // Masks and right shifts that clear the upper half.
            IrOp::Bin {
                op: BinOp::And,
                a: Val::Imm(m),
                ..
            }
            | IrOp::Bin {
                op: BinOp::And,
                b: Val::Imm(m),
                ..
            } if m >> 32 == 0 => true,
            IrOp::Bin {
                op: BinOp::Lshr,
                b: Val::Imm(k),
                ..
            } if k % 64 >= 32 => true,
            IrOp::Bin { w, .. } | IrOp::Flags { w, .. } => w == Width::W32,
            IrOp::Un { op: u, w, .. } => w == Width::W32 || matches!(u, UnOp::Zext(_)),
            IrOp::Load { size_log2, ext, .. } => size_log2 <= 2 && ext != LoadExt::Sx64,
            IrOp::GetCarry { .. } => true,
            IrOp::Select { a, b, .. } => self.upper_zero(a) && self.upper_zero(b),
            _ => false,
        };
        let k = dst.0 as usize;
        if let Some(z) = self.upper_zero.get_mut(k) {
            *z = zero;
        }
        if let (
            IrOp::Un {
                op: UnOp::Zext(32),
                a,
                ..
            },
            Some(z),
        ) = (*op, self.zext_of.get_mut(k))
        {
            *z = Some(a);
        }
    }
}

/// Drop register writes that a later write to the same register makes
/// unobservable (no exit, conditional exit or interpreter call between).
pub fn dead_sets(b: &mut IrBlock) {
    // Which SIMD&FP ops may leave the block, in program order.
    let mut fp_known = false;
    let fp_leaves: Vec<bool> = b
        .ops
        .iter()
        .map(|op| match op {
            IrOp::Fp { op, .. } => {
                let leaves = op.may_leave(fp_known);
                fp_known = true;
                leaves
            }
            IrOp::Interp { .. } => {
                fp_known = false;
                false
            }
            _ => false,
        })
        .collect();
    let mut overwritten = [false; 32];
    let mut keep = vec![true; b.ops.len()];
    for (i, op) in b.ops.iter().enumerate().rev() {
        match *op {
            // Exits, and accesses and SIMD&FP instructions that may fault:
            // the register file must be exact there.
            IrOp::Exit { .. }
            | IrOp::ExitIf { .. }
            | IrOp::Interp { .. }
            | IrOp::Load { .. }
            | IrOp::Store { .. } => {
                overwritten = [false; 32];
            }
            IrOp::Fp { .. } if fp_leaves[i] => overwritten = [false; 32],
            IrOp::Set { reg, .. } => {
                if overwritten[slot(reg)] {
                    keep[i] = false;
                }
                overwritten[slot(reg)] = true;
            }
            IrOp::Get { reg, .. } => overwritten[slot(reg)] = false,
            _ => {}
        }
    }
    let mut k = keep.into_iter();
    b.ops.retain(|_| k.next().unwrap_or(true));
}

/// Drop pure ops whose results are never read; a flag-setting op whose
/// result is unused keeps its flags and loses its destination.
pub fn dead_code(b: &mut IrBlock) {
    let mut used = vec![false; b.temps as usize];
    let mut keep = vec![true; b.ops.len()];
    for (i, op) in b.ops.iter_mut().enumerate().rev() {
        let pure = matches!(
            op,
            IrOp::Get { .. }
                | IrOp::GetCarry { .. }
                | IrOp::Mov { .. }
                | IrOp::Bin { .. }
                | IrOp::Un { .. }
                | IrOp::Select { .. }
        );
        if let Some(d) = op.def() {
            let live = used.get(d.0 as usize).copied().unwrap_or(true);
            if !live {
                if pure {
                    keep[i] = false;
                    continue;
                }
                if let IrOp::Flags { dst, .. } = op {
                    *dst = None;
                }
            }
        }
        op.for_each_use(|v| {
            if let Val::T(t) = v {
                if let Some(u) = used.get_mut(t.0 as usize) {
                    *u = true;
                }
            }
        });
    }
    let mut k = keep.into_iter();
    b.ops.retain(|_| k.next().unwrap_or(true));
}

#[cfg(test)]
mod tests {
    use super::super::lift::lift;
    use super::*;
    use crate::translate::asm;
    use crate::translate::ir::Block;

    fn lifted(words: &[u32]) -> IrBlock {
        let block = Block::from_words(0x4000_0000, words, 64);
        let mut ir = lift(&block, 0x4000_0000);
        optimize(&mut ir);
        ir
    }

    #[test]
    fn movz_movk_chains_fold_to_one_constant_write() {
        let ir = lifted(&[
            asm::movz(true, 0, 0x1234, 0),
            asm::movk(true, 0, 0x5678, 1),
            asm::movk(true, 0, 0x9abc, 2),
            asm::RET,
        ]);
        let sets: Vec<&IrOp> = ir
            .ops
            .iter()
            .filter(|o| matches!(o, IrOp::Set { .. }))
            .collect();
        assert_eq!(
            sets,
            [&IrOp::Set {
                reg: GReg::X(0),
                val: Val::Imm(0x9abc_5678_1234)
            }]
        );
        assert!(!ir.ops.iter().any(|o| matches!(o, IrOp::Bin { .. })));
    }

    #[test]
    fn adrp_add_folds_and_reads_of_written_registers_are_forwarded() {
        let ir = lifted(&[
            asm::adrp(1, 2),
            asm::add_imm(true, 1, 1, 0x10),
            asm::add_imm(true, 2, 1, 1),
            asm::RET,
        ]);
        assert!(ir.ops.contains(&IrOp::Set {
            reg: GReg::X(1),
            val: Val::Imm(0x4000_2010)
        }));
        assert!(ir.ops.contains(&IrOp::Set {
            reg: GReg::X(2),
            val: Val::Imm(0x4000_2011)
        }));
        // X30 is read once for the RET; nothing else reads the file.
        let gets = ir
            .ops
            .iter()
            .filter(|o| matches!(o, IrOp::Get { .. }))
            .count();
        assert_eq!(gets, 1);
    }

    #[test]
    fn register_moves_and_w_operands_need_no_arithmetic() {
        // mov x1, x2 (orr x1, xzr, x2); mov w3, w4 (orr w3, wzr, w4);
        // add w5, w3, w6: W3 is already zero-extended, and the 32-bit add
        // reads W6 without its zero extension.
        let ir = lifted(&[
            asm::logic_reg(true, 1, false, 0, 2, 0, 31, 1),
            asm::logic_reg(false, 1, false, 0, 4, 0, 31, 3),
            asm::addsub_reg(false, 0, false, 0, 6, 0, 3, 5),
            asm::RET,
        ]);
        let bins: Vec<&IrOp> = ir
            .ops
            .iter()
            .filter(|o| matches!(o, IrOp::Bin { .. } | IrOp::Un { .. }))
            .collect();
        // Only W4's zero extension and the add are left.
        assert_eq!(bins.len(), 2, "{:#?}", ir.ops);
        assert!(matches!(
            bins[0],
            IrOp::Un {
                op: UnOp::Zext(32),
                ..
            }
        ));
        let IrOp::Bin {
            op: BinOp::Add,
            w: Width::W32,
            a,
            b: Val::T(b),
            ..
        } = *bins[1]
        else {
            panic!("{:#?}", ir.ops);
        };
        let get = |t: Tmp| {
            ir.ops.iter().find_map(|o| match *o {
                IrOp::Get { dst, reg } if dst == t => Some(reg),
                _ => None,
            })
        };
        assert_eq!(get(b), Some(GReg::X(6)));
        assert!(matches!(a, Val::T(_)));
        assert!(ir.ops.contains(&IrOp::Set {
            reg: GReg::X(1),
            val: Val::T(
                ir.ops
                    .iter()
                    .find_map(|o| match *o {
                        IrOp::Get {
                            dst,
                            reg: GReg::X(2),
                        } => Some(dst),
                        _ => None,
                    })
                    .unwrap()
            )
        }));
    }

    #[test]
    fn an_interpreter_call_is_a_barrier() {
        // x0 = 1; CRC32X w3, w0, x0 (interpreted: reads x0, writes x3);
        // x0 = 2
        let ir = lifted(&[
            asm::movz(true, 0, 1, 0),
            asm::dp2(true, 0b01_0011, 0, 0, 3),
            asm::movz(true, 0, 2, 0),
            asm::add_imm(true, 4, 3, 1),
            asm::RET,
        ]);
        let x0_sets = ir
            .ops
            .iter()
            .filter(|o| {
                matches!(
                    o,
                    IrOp::Set {
                        reg: GReg::X(0),
                        ..
                    }
                )
            })
            .count();
        assert_eq!(x0_sets, 2, "the write before the call must stay");
        // x3 is read again after the call (the load wrote it).
        assert!(ir.ops.iter().any(|o| matches!(
            o,
            IrOp::Get {
                reg: GReg::X(3),
                ..
            }
        )));
    }

    #[test]
    fn a_possibly_faulting_access_keeps_earlier_register_writes() {
        // x0 = 1; ldr x3, [x1]; x0 = 2: if the load faults, the handler
        // must see x0 = 1.
        let ir = lifted(&[
            asm::movz(true, 0, 1, 0),
            asm::ldr_imm(true, 3, 1, 0),
            asm::movz(true, 0, 2, 0),
            asm::RET,
        ]);
        assert!(ir.ops.iter().any(|o| matches!(o, IrOp::Load { .. })));
        let x0_sets = ir
            .ops
            .iter()
            .filter(|o| {
                matches!(
                    o,
                    IrOp::Set {
                        reg: GReg::X(0),
                        ..
                    }
                )
            })
            .count();
        assert_eq!(x0_sets, 2);
    }

    #[test]
    fn constant_evaluation_follows_the_arm_rules() {
        assert_eq!(eval_bin(BinOp::UDiv, Width::W64, 7, 0), 0);
        assert_eq!(
            eval_bin(BinOp::SDiv, Width::W64, 1 << 63, u64::MAX),
            1 << 63
        );
        assert_eq!(
            eval_bin(BinOp::SDiv, Width::W32, 0x8000_0000, 0xffff_ffff),
            0x8000_0000
        );
        assert_eq!(eval_bin(BinOp::Shl, Width::W32, 1, 33), 2);
        assert_eq!(eval_bin(BinOp::Ror, Width::W32, 1, 1), 0x8000_0000);
        assert_eq!(
            eval_bin(BinOp::Ashr, Width::W32, 0x8000_0000, 31),
            0xffff_ffff
        );
        assert_eq!(eval_un(UnOp::Not, Width::W32, 0), 0xffff_ffff);
        assert_eq!(eval_un(UnOp::Clz, Width::W32, 1), 31);
        assert_eq!(
            eval_un(UnOp::Sext(8), Width::W64, 0x80),
            0xffff_ffff_ffff_ff80
        );
    }
}

//! The JIT's intermediate representation: what one translated block does,
//! as a straight-line list of host-neutral operations on temporaries.
//!
//! A back end only needs to know how to load and store a guest register,
//! do width-aware integer arithmetic, produce NZCV from an add, subtract or
//! logical operation, test a condition, call the interpreter for one guest
//! instruction, and leave the block. Guest registers live in
//! [`crate::translate::regs::ArchRegs`]; [`IrOp::Get`] and [`IrOp::Set`] are
//! its reads and writes, and the passes in [`super::opt`] remove the ones
//! a block does not need, which is what keeps guest registers in host
//! registers within a block.
//!
//! Temporaries are defined once (SSA within the block) and never live
//! across an [`IrOp::Interp`] call: the interpreter reads and writes the
//! register file, so every pass treats the call as a barrier.

use alloc::vec::Vec;

use crate::translate::cond::Cond;

/// A temporary: a value computed inside the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tmp(pub u32);

/// An operand: a temporary or a constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Val {
    /// A temporary.
    T(Tmp),
    /// A constant (for 32-bit operations only the low 32 bits count).
    Imm(u64),
}

/// Operation width: W32 results are zero-extended to 64 bits, as A64
/// writes W registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    /// 32 bits.
    W32,
    /// 64 bits.
    W64,
}

impl Width {
    /// The width of an A64 `sf` bit.
    pub const fn of_sf(sf: bool) -> Width {
        if sf {
            Width::W64
        } else {
            Width::W32
        }
    }

    /// Bits in the width.
    pub const fn bits(self) -> u32 {
        match self {
            Width::W32 => 32,
            Width::W64 => 64,
        }
    }

    /// `v` truncated to the width.
    pub const fn trunc(self, v: u64) -> u64 {
        match self {
            Width::W32 => v & 0xffff_ffff,
            Width::W64 => v,
        }
    }
}

/// A guest general-purpose register as the block sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum GReg {
    /// X0..X30.
    X(u8),
    /// The stack pointer selected by the block's EL and SPSel (fixed for a
    /// block: only block-ending instructions change them).
    Sp,
}

/// Two-operand integer operations. Results are truncated to the width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// a + b.
    Add,
    /// a - b.
    Sub,
    /// a & b.
    And,
    /// a | b.
    Or,
    /// a ^ b.
    Xor,
    /// a << (b mod width).
    Shl,
    /// a >> (b mod width), logical.
    Lshr,
    /// a >> (b mod width), arithmetic.
    Ashr,
    /// a rotated right by (b mod width).
    Ror,
    /// Low half of a * b.
    Mul,
    /// High 64 bits of the unsigned 128-bit product (W64 only).
    UMulHi,
    /// High 64 bits of the signed 128-bit product (W64 only).
    SMulHi,
    /// a / b unsigned; 0 when b = 0 (A64 UDIV).
    UDiv,
    /// a / b signed, rounding to zero; 0 when b = 0, MIN when MIN / -1
    /// (A64 SDIV).
    SDiv,
}

/// One-operand integer operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// Bitwise NOT (truncated to the width).
    Not,
    /// Sign-extend the low 8, 16 or 32 bits to the width.
    Sext(u8),
    /// Zero-extend the low 8, 16 or 32 bits.
    Zext(u8),
    /// Count leading zeros (A64 CLZ).
    Clz,
    /// Reverse the bytes (A64 REV of the whole width).
    Rev,
}

/// How a flag-setting operation computes NZCV, as the Arm ARM defines it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagOp {
    /// `AddWithCarry(a, b, 0)`: ADDS/CMN.
    Add,
    /// `AddWithCarry(a, NOT b, 1)`: SUBS/CMP.
    Sub,
    /// `AddWithCarry(a, b, C)`: ADCS.
    Adc,
    /// `AddWithCarry(a, NOT b, C)`: SBCS.
    Sbc,
    /// N and Z from `a & b`, C = V = 0: ANDS/TST.
    And,
}

/// A condition a block can branch or select on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Test {
    /// An A64 condition on the current NZCV.
    Nzcv(Cond),
    /// `v` (at the width) is zero (`nz` false) or non-zero (`nz` true).
    Zero {
        /// The value tested.
        v: Val,
        /// The width.
        w: Width,
        /// Test for non-zero instead.
        nz: bool,
    },
    /// Bit `bit` of `v` is clear (`set` false) or set (`set` true).
    Bit {
        /// The value tested.
        v: Val,
        /// Bit number (0..=63).
        bit: u8,
        /// Test for a set bit instead.
        set: bool,
    },
}

/// How a loaded value becomes a register value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadExt {
    /// Zero-extended (LDR, LDRB, LDRH).
    Zero,
    /// Sign-extended to 64 bits (LDRSB/LDRSH/LDRSW Xt).
    Sx64,
    /// Sign-extended to 32 bits, upper half zero (LDRSB/LDRSH Wt).
    Sx32,
}

/// The scalar floating-point operations with an inline host path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FpArith {
    /// FADD.
    Add,
    /// FSUB.
    Sub,
    /// FMUL.
    Mul,
    /// FDIV.
    Div,
    /// FSQRT (of Vn; `rm` unused).
    Sqrt,
    /// FMAX and FMAXNM (the same for numbers).
    Max,
    /// FMIN and FMINNM.
    Min,
}

/// Bitwise operations on whole vectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VecLogic {
    /// AND.
    And,
    /// BIC: n & !m.
    Bic,
    /// ORR.
    Orr,
    /// ORN: n | !m.
    Orn,
    /// EOR.
    Eor,
}

/// Lane-wise integer vector operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VecLane {
    /// ADD.
    Add,
    /// SUB.
    Sub,
    /// CMEQ (register): all ones where the lanes are equal.
    Cmeq,
    /// CMEQ #0: all ones where Vn's lane is zero (`rm` unused).
    Cmeq0,
}

/// Sign-bit operations on FP values (bitwise: no flags, NaNs unchanged).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FpBits {
    /// FMOV (register).
    Mov,
    /// FABS.
    Abs,
    /// FNEG.
    Neg,
}

/// Lane shifts by an immediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VecShift {
    /// SHL.
    Shl,
    /// USHR (an amount of the lane size gives 0).
    Ushr,
    /// SSHR (an amount of the lane size gives the sign).
    Sshr,
    /// SLI: shift left, keeping Vd's low `amount` bits of each lane.
    Sli,
}

/// Immediate operations on a whole vector (MOVI, MVNI, ORR/BIC
/// immediate) with the 64-bit pattern each half gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VecImm {
    /// Vd = pattern.
    Mov,
    /// Vd |= pattern.
    Or,
    /// Vd &= pattern.
    And,
}

/// An instruction on the SIMD&FP registers in the register file: scalar
/// floating point (single precision when `double` is false) and the
/// common integer and bitwise vector operations. `q` false: 64-bit
/// vectors, the upper half of Vd zeroed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FpOp {
    /// `Vd = Vn op Vm`, the rest of Vd zeroed.
    Arith {
        /// Operation.
        op: FpArith,
        /// Double rather than single precision.
        double: bool,
        /// Destination.
        rd: u8,
        /// First operand.
        rn: u8,
        /// Second operand.
        rm: u8,
    },
    /// FADD/FSUB/FMUL/FDIV (vector): every lane of Vd = Vn op Vm.
    VArith {
        /// Operation (not Sqrt, Max or Min).
        op: FpArith,
        /// Double-precision lanes (2D) rather than single (2S/4S).
        double: bool,
        /// 128-bit vectors.
        q: bool,
        /// Destination.
        rd: u8,
        /// First operand.
        rn: u8,
        /// Second operand.
        rm: u8,
    },
    /// FCMP/FCMPE: NZCV from comparing Vn with Vm (with +0.0 if `rm` is
    /// `None`).
    Cmp {
        /// Double rather than single precision.
        double: bool,
        /// First operand.
        rn: u8,
        /// Second operand.
        rm: Option<u8>,
    },
    /// FMOV (register), FABS, FNEG: scalar (the rest of Vd zeroed) or on
    /// every lane.
    Bits {
        /// Operation.
        op: FpBits,
        /// Double rather than single precision.
        double: bool,
        /// Scalar rather than vector.
        scalar: bool,
        /// 128-bit vectors.
        q: bool,
        /// Destination.
        rd: u8,
        /// Source.
        rn: u8,
    },
    /// FCSEL: Vd = `cond` holds ? Vn : Vm (low 4 or 8 bytes, the rest of
    /// Vd zeroed).
    Csel {
        /// Double rather than single precision.
        double: bool,
        /// The A64 condition on NZCV.
        cond: Cond,
        /// Destination.
        rd: u8,
        /// Taken when the condition holds.
        rn: u8,
        /// Taken otherwise.
        rm: u8,
    },
    /// FCVT between single and double precision: Vd = Vn converted, the
    /// rest of Vd zeroed.
    Cvt {
        /// Double to single (else single to double).
        narrow: bool,
        /// Destination.
        rd: u8,
        /// Source.
        rn: u8,
    },
    /// SCVTF/UCVTF (scalar, from a general register, no fraction bits):
    /// Vd = the integer in `val` (64-bit if `sf`, else its low 32 bits)
    /// rounded to FP, the rest of Vd zeroed.
    FromInt {
        /// Double rather than single precision.
        double: bool,
        /// A 64-bit source.
        sf: bool,
        /// UCVTF.
        unsigned: bool,
        /// Destination.
        rd: u8,
        /// The general register's value.
        val: Val,
    },
    /// FCVTZS (scalar, to a general register, no fraction bits): `dst` =
    /// Vn truncated to a signed 32- or 64-bit (`sf`) integer, which is
    /// written to X`xd` (the slow path reads it back from there).
    ToInt {
        /// Double rather than single precision.
        double: bool,
        /// A 64-bit result.
        sf: bool,
        /// The result.
        dst: Tmp,
        /// The general register written.
        xd: u8,
        /// Source.
        rn: u8,
    },
    /// `Vd = Vn op Vm`, bitwise.
    Logic {
        /// Operation.
        op: VecLogic,
        /// 128-bit vectors.
        q: bool,
        /// Destination.
        rd: u8,
        /// First operand.
        rn: u8,
        /// Second operand.
        rm: u8,
    },
    /// `Vd = Vn op Vm` lane by lane.
    Lanes {
        /// Operation.
        op: VecLane,
        /// log2 of the lane size in bytes.
        size: u8,
        /// 128-bit vectors.
        q: bool,
        /// Destination.
        rd: u8,
        /// First operand.
        rn: u8,
        /// Second operand.
        rm: u8,
    },
    /// EXT: bytes `index..` of the concatenation Vm:Vn.
    Ext {
        /// 128-bit vectors.
        q: bool,
        /// First byte taken from Vn.
        index: u8,
        /// Destination.
        rd: u8,
        /// Low source.
        rn: u8,
        /// High source.
        rm: u8,
    },
    /// MOVI/MVNI/ORR/BIC (vector, immediate).
    Imm {
        /// Operation.
        op: VecImm,
        /// 128-bit vectors.
        q: bool,
        /// Each half's pattern (already inverted for MVNI and BIC).
        pattern: u64,
        /// Destination.
        rd: u8,
    },
    /// DUP (general): every lane of Vd = the low lane bits of `val`.
    DupGp {
        /// 128-bit vectors.
        q: bool,
        /// log2 of the lane size in bytes.
        size: u8,
        /// Destination.
        rd: u8,
        /// The general register's value.
        val: Val,
    },
    /// FMOV from a general register: `bits` 32 or 64 (Vd = the zero-
    /// extended value), or 128 (Vd's upper half = `val`, the rest kept).
    FromGp {
        /// 32, 64, or 128 for the upper half.
        bits: u8,
        /// Destination.
        rd: u8,
        /// The general register's value.
        val: Val,
    },
    /// Every lane shifted by `amount` (lanes of 2, 4 or 8 bytes).
    Shift {
        /// Operation.
        op: VecShift,
        /// log2 of the lane size in bytes (1..=3).
        size: u8,
        /// 128-bit vectors.
        q: bool,
        /// Destination.
        rd: u8,
        /// Source.
        rn: u8,
        /// Shift amount (0..=lane bits).
        amount: u8,
    },
    /// USHLL/SSHLL(2): the lanes of Vn's lower (`upper`: upper) half
    /// widened to twice their size and shifted left by `shift`.
    Widen {
        /// Sign- rather than zero-extend.
        signed: bool,
        /// log2 of the source lane size in bytes (0..=2).
        size: u8,
        /// From the upper half (the "2" forms).
        upper: bool,
        /// Destination.
        rd: u8,
        /// Source.
        rn: u8,
        /// Shift amount.
        shift: u8,
    },
    /// REV16/REV32/REV64: reverse the order of `1 << size`-byte lanes
    /// within each `1 << container`-byte container.
    Rev {
        /// log2 of the lane size in bytes.
        size: u8,
        /// log2 of the container size in bytes (1..=3).
        container: u8,
        /// 128-bit vectors.
        q: bool,
        /// Destination.
        rd: u8,
        /// Source.
        rn: u8,
    },
    /// INS (element): the `1 << size_log2` bytes at byte `src` of Vn to
    /// byte `dst` of Vd, the rest of Vd kept; or (`scalar`, DUP scalar)
    /// Vd = that element, zero-extended.
    Elem {
        /// log2 of the element size (0..=3).
        size_log2: u8,
        /// Destination.
        rd: u8,
        /// Byte offset in Vd.
        dst: u8,
        /// Source.
        rn: u8,
        /// Byte offset in Vn.
        src: u8,
        /// DUP (scalar) rather than INS.
        scalar: bool,
    },
    /// DUP (element): every lane of Vd = the lane at byte `src` of Vn.
    DupElem {
        /// 128-bit vectors.
        q: bool,
        /// log2 of the lane size in bytes.
        size: u8,
        /// Destination.
        rd: u8,
        /// Source.
        rn: u8,
        /// Byte offset in Vn.
        src: u8,
    },
    /// INS (general): the `1 << size_log2` bytes at byte `dst` of Vd =
    /// the low bytes of `val`, the rest kept.
    InsGp {
        /// log2 of the element size (0..=3).
        size_log2: u8,
        /// Destination.
        rd: u8,
        /// Byte offset in Vd.
        dst: u8,
        /// The general register's value.
        val: Val,
    },
    /// LDR/STR (and LDP/STP with `rt2`) of SIMD&FP registers: `1 <<
    /// size_log2` bytes (1..=16) of Vt at `addr` (and of Vt2 right after);
    /// a load zeroes the rest of the register.
    Mem {
        /// Load rather than store.
        load: bool,
        /// log2 of the access size (0..=4).
        size_log2: u8,
        /// The register.
        rt: u8,
        /// The pair's second register.
        rt2: Option<u8>,
        /// Virtual address.
        addr: Val,
    },
    /// FMOV/UMOV/SMOV to a general register: `dst` = the `1 << size_log2`
    /// bytes at byte `offset` of Vn, extended per `ext`. `xd` is the
    /// general register the instruction writes (the slow path reads the
    /// result back from it; 31 discards).
    ToGp {
        /// The result.
        dst: Tmp,
        /// The general register written.
        xd: u8,
        /// Source.
        rn: u8,
        /// Byte offset in Vn.
        offset: u8,
        /// log2 of the size (0..=3).
        size_log2: u8,
        /// Extension.
        ext: LoadExt,
    },
}

impl FpOp {
    /// Whether the instruction may take its slow path (the interpreter),
    /// and so leave the block with an exception, given whether SIMD&FP is
    /// already known to be enabled (an earlier SIMD&FP instruction of the
    /// block, with no interpreted instruction since). Those with a slow path
    /// for values or FP state (arithmetic, compares, conversions, memory
    /// accesses) may always, and their slow path (the interpreter) reads
    /// the register file, so it must be exact there; the rest only to
    /// raise the trap.
    /// The passes and the back ends share this rule.
    pub fn may_leave(&self, enabled_known: bool) -> bool {
        !enabled_known
            || matches!(
                self,
                FpOp::Arith { .. }
                    | FpOp::VArith { .. }
                    | FpOp::Cmp { .. }
                    | FpOp::Mem { .. }
                    | FpOp::FromInt { .. }
                    | FpOp::ToInt { .. }
                    | FpOp::Cvt { .. }
            )
    }

    /// The temporary the op defines, if any.
    pub fn def(&self) -> Option<Tmp> {
        match *self {
            FpOp::ToGp { dst, .. } | FpOp::ToInt { dst, .. } => Some(dst),
            _ => None,
        }
    }

    /// The value the op reads from a general register, if any.
    pub fn gp_use(&self) -> Option<Val> {
        match *self {
            FpOp::DupGp { val, .. }
            | FpOp::FromGp { val, .. }
            | FpOp::InsGp { val, .. }
            | FpOp::FromInt { val, .. } => Some(val),
            FpOp::Mem { addr, .. } => Some(addr),
            _ => None,
        }
    }

    fn gp_use_mut(&mut self) -> Option<&mut Val> {
        match self {
            FpOp::DupGp { val, .. }
            | FpOp::FromGp { val, .. }
            | FpOp::InsGp { val, .. }
            | FpOp::FromInt { val, .. } => Some(val),
            FpOp::Mem { addr, .. } => Some(addr),
            _ => None,
        }
    }
}

/// One IR operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrOp {
    /// Start of the block's guest instruction `index` (at byte offset
    /// `4 * index`): instruction accounting for exits after it.
    Insn {
        /// Index of the instruction in the block.
        index: u16,
    },
    /// `dst = reg`.
    Get {
        /// Destination.
        dst: Tmp,
        /// Guest register.
        reg: GReg,
    },
    /// `reg = val` (64 bits).
    Set {
        /// Guest register.
        reg: GReg,
        /// Value.
        val: Val,
    },
    /// `dst` = the C flag of NZCV (0 or 1), for ADC/SBC without flags.
    GetCarry {
        /// Destination.
        dst: Tmp,
    },
    /// `dst = val` (a copy; the passes fold most of them away).
    Mov {
        /// Destination.
        dst: Tmp,
        /// Value.
        val: Val,
    },
    /// `dst = a op b` at width `w`.
    Bin {
        /// Operation.
        op: BinOp,
        /// Width.
        w: Width,
        /// Destination.
        dst: Tmp,
        /// First operand.
        a: Val,
        /// Second operand.
        b: Val,
    },
    /// `dst = op a` at width `w`.
    Un {
        /// Operation.
        op: UnOp,
        /// Width.
        w: Width,
        /// Destination.
        dst: Tmp,
        /// Operand.
        a: Val,
    },
    /// A flag-setting operation: writes NZCV and, if `dst` is given, the
    /// result (the sum, difference or AND at width `w`).
    Flags {
        /// How NZCV is computed.
        op: FlagOp,
        /// Width.
        w: Width,
        /// Destination of the result, if used.
        dst: Option<Tmp>,
        /// First operand.
        a: Val,
        /// Second operand.
        b: Val,
    },
    /// CCMP/CCMN: if `cond` holds, NZCV from `a - b` (`sub`) or `a + b`,
    /// else NZCV = `nzcv << 28`.
    CondFlags {
        /// Condition on the incoming NZCV.
        cond: Cond,
        /// Subtract (CCMP) rather than add (CCMN).
        sub: bool,
        /// Width.
        w: Width,
        /// First operand.
        a: Val,
        /// Second operand.
        b: Val,
        /// NZCV (4 bits) when the condition fails.
        nzcv: u8,
    },
    /// `dst = test ? a : b` (64-bit values).
    Select {
        /// Destination.
        dst: Tmp,
        /// Condition.
        test: Test,
        /// Value when it holds.
        a: Val,
        /// Value otherwise.
        b: Val,
    },
    /// `dst` = the `1 << size_log2` bytes (1..=8) at virtual address
    /// `addr`, extended per `ext`. May fault (a data abort taken at the
    /// current instruction) or reach a device.
    Load {
        /// Destination.
        dst: Tmp,
        /// Virtual address.
        addr: Val,
        /// log2 of the size (0..=3).
        size_log2: u8,
        /// Extension.
        ext: LoadExt,
        /// With EL0 permissions even at EL1 (LDTR*).
        unpriv: bool,
    },
    /// Store the low `1 << size_log2` bytes of `val` at `addr`. May fault.
    Store {
        /// Virtual address.
        addr: Val,
        /// Value.
        val: Val,
        /// log2 of the size (0..=3).
        size_log2: u8,
        /// With EL0 permissions even at EL1 (STTR*).
        unpriv: bool,
    },
    /// Execute the block's guest instruction `index` with the interpreter
    /// (an instruction this back end does not compile). The instruction
    /// may leave the block (a branch, an exception, an exit to the home);
    /// otherwise execution continues with the next op.
    Interp {
        /// Index of the instruction in the block.
        index: u16,
    },
    /// The block's guest instruction `index`, a SIMD&FP instruction
    /// described by `op`: computed on the host where the FP state and the
    /// values allow it, else by the interpreter (as [`IrOp::Interp`], which
    /// may leave the block with an exception). Touches only V registers,
    /// FPSR, (a compare) NZCV and (a move to a general register) its
    /// result.
    Fp {
        /// Index of the instruction in the block.
        index: u16,
        /// What it computes.
        op: FpOp,
    },
    /// Leave the block to `pc` if `test` holds.
    ExitIf {
        /// Condition.
        test: Test,
        /// Next PC when it holds.
        pc: u64,
    },
    /// Leave the block to `pc` (the last op of every block).
    Exit {
        /// Next PC.
        pc: Val,
        /// Whether a back end may jump straight to the next block's code
        /// (false after an interpreted instruction: it may have changed
        /// the exception level, masks or translation, which the run loop
        /// must see).
        chain: bool,
    },
}

impl IrOp {
    /// The temporary this op defines, if any.
    pub fn def(&self) -> Option<Tmp> {
        match *self {
            IrOp::Get { dst, .. }
            | IrOp::Load { dst, .. }
            | IrOp::GetCarry { dst }
            | IrOp::Mov { dst, .. }
            | IrOp::Bin { dst, .. }
            | IrOp::Un { dst, .. }
            | IrOp::Select { dst, .. } => Some(dst),
            IrOp::Flags { dst, .. } => dst,
            IrOp::Fp { op, .. } => op.def(),
            _ => None,
        }
    }

    /// Call `f` on every operand the op reads.
    pub fn for_each_use(&self, mut f: impl FnMut(Val)) {
        let test_use = |t: &Test, f: &mut dyn FnMut(Val)| match *t {
            Test::Nzcv(_) => {}
            Test::Zero { v, .. } | Test::Bit { v, .. } => f(v),
        };
        match self {
            IrOp::Set { val, .. } | IrOp::Mov { val, .. } => f(*val),
            IrOp::Bin { a, b, .. } | IrOp::Flags { a, b, .. } | IrOp::CondFlags { a, b, .. } => {
                f(*a);
                f(*b);
            }
            IrOp::Load { addr, .. } => f(*addr),
            IrOp::Store { addr, val, .. } => {
                f(*addr);
                f(*val);
            }
            IrOp::Un { a, .. } => f(*a),
            IrOp::Select { test, a, b, .. } => {
                test_use(test, &mut f);
                f(*a);
                f(*b);
            }
            IrOp::ExitIf { test, .. } => test_use(test, &mut f),
            IrOp::Exit { pc, .. } => f(*pc),
            IrOp::Fp { op, .. } => {
                if let Some(v) = op.gp_use() {
                    f(v);
                }
            }
            IrOp::Insn { .. } | IrOp::Get { .. } | IrOp::GetCarry { .. } | IrOp::Interp { .. } => {}
        }
    }

    /// Rewrite every operand the op reads with `f`.
    pub fn map_uses(&mut self, mut f: impl FnMut(Val) -> Val) {
        let map_test = |t: &mut Test, f: &mut dyn FnMut(Val) -> Val| match t {
            Test::Nzcv(_) => {}
            Test::Zero { v, .. } | Test::Bit { v, .. } => *v = f(*v),
        };
        match self {
            IrOp::Set { val, .. } | IrOp::Mov { val, .. } => *val = f(*val),
            IrOp::Bin { a, b, .. } | IrOp::Flags { a, b, .. } | IrOp::CondFlags { a, b, .. } => {
                *a = f(*a);
                *b = f(*b);
            }
            IrOp::Load { addr, .. } => *addr = f(*addr),
            IrOp::Store { addr, val, .. } => {
                *addr = f(*addr);
                *val = f(*val);
            }
            IrOp::Un { a, .. } => *a = f(*a),
            IrOp::Select { test, a, b, .. } => {
                map_test(test, &mut f);
                *a = f(*a);
                *b = f(*b);
            }
            IrOp::ExitIf { test, .. } => map_test(test, &mut f),
            IrOp::Exit { pc, .. } => *pc = f(*pc),
            IrOp::Fp { op, .. } => {
                if let Some(v) = op.gp_use_mut() {
                    *v = f(*v);
                }
            }
            IrOp::Insn { .. } | IrOp::Get { .. } | IrOp::GetCarry { .. } | IrOp::Interp { .. } => {}
        }
    }

    /// Whether the op reads NZCV.
    pub fn reads_nzcv(&self) -> bool {
        match self {
            IrOp::Flags { op, .. } => matches!(op, FlagOp::Adc | FlagOp::Sbc),
            IrOp::CondFlags { .. }
            | IrOp::Interp { .. }
            | IrOp::GetCarry { .. }
            | IrOp::Fp {
                op: FpOp::Csel { .. },
                ..
            } => true,
            IrOp::Select { test, .. } | IrOp::ExitIf { test, .. } => {
                matches!(test, Test::Nzcv(_))
            }
            _ => false,
        }
    }
}

/// A block in IR form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IrBlock {
    /// The operations; the last is an [`IrOp::Exit`].
    pub ops: Vec<IrOp>,
    /// Number of temporaries (`Tmp(0)..Tmp(temps)`).
    pub temps: u32,
    /// Guest instructions in the block.
    pub insns: u16,
}

impl IrBlock {
    /// A fresh temporary.
    pub fn tmp(&mut self) -> Tmp {
        let t = Tmp(self.temps);
        self.temps += 1;
        t
    }

    /// Append an op.
    pub fn push(&mut self, op: IrOp) {
        self.ops.push(op);
    }
}

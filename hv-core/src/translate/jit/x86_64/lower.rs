//! Instruction selection for x86_64: IR blocks to machine code.
//!
//! Conventions of generated code (System V):
//! * RBX holds the register file ([`ArchRegs`]), R12 the callback context;
//!   both are callee-saved, so they survive calls into the interpreter.
//! * RAX, RCX, RDX and R11 are scratch within one IR op.
//! * Temporaries live in RSI, RDI, R8-R10, RBP, R13-R15, or in spill slots
//!   in the entry stub's frame. None lives across an interpreter call (the
//!   passes guarantee it; [`compile`] declines the block otherwise); the
//!   load/store slow paths save the caller-saved ones that are live.
//! * Loads and stores first try the host TLB in the register file: the
//!   virtual page and the access's alignment bits against the entry's tag,
//!   then one host access at the entry's offset; a miss, a misaligned
//!   access or a page that is not plain RAM calls the slow path (out of
//!   line, at the block's end), which runs the interpreter's access.
//! * A block leaves through the shared epilogue with RAX = 0 (the PC is
//!   stored), 1 (an interpreted instruction left the block) or the
//!   address of a chaining site (the PC is stored; the run loop may patch
//!   the site's jump to the next block's code). Only exits to constant
//!   targets in the block's own page are chained (the page's mapping is
//!   the one the chain was entered by); the JIT records each link with
//!   its target and unpatches it when the target is dropped.
//! * SIMD&FP instructions ([`IrOp::Fp`]) run on SSE2 when
//!   `ArchRegs::fp_fast` says the FP state allows and the values are ones
//!   where the host and Arm agree; their slow path runs the instruction
//!   in the interpreter, like the load/store slow paths. XMM0 and XMM1
//!   are scratch within one op; XMM2-XMM15 cache V registers within the
//!   block, written back to the register file at exits, before
//!   interpreted instructions and in slow paths (which reload them after
//!   their call: XMM registers are caller-saved).
//! * NZCV is stored in PSTATE layout whenever a flag-setting op's flags
//!   are live; x86's CF is Arm's C for additions and its inverse for
//!   subtractions.

use alloc::vec;
use alloc::vec::Vec;

use super::enc::{
    Alu, Asm, Cc, EncError, Label, Mem, Reg, Shift as XShift, Sse, SseShift, SseShuffle, Xmm, W,
};
use crate::translate::cond::cond_holds;
use crate::translate::jit::ir::{
    BinOp, FlagOp, FpArith, FpBits, FpOp, GReg, IrBlock, IrOp, LoadExt, Test, Tmp, UnOp, Val,
    VecImm, VecLane, VecLogic, VecShift, Width,
};
use crate::translate::regs::{ArchRegs, JumpTableEntry, HOST_TLB_ENTRIES, JUMP_TABLE_ENTRIES};

/// What a block's code depends on besides its IR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Env {
    /// Exception level the block runs at.
    pub el: u8,
    /// PSTATE.SPSel the block runs with.
    pub spsel: bool,
    /// Virtual address of the block's first instruction.
    pub va: u64,
    /// Address of the block's first decoded op (the interpreter callback's
    /// argument for instruction `i` is `ops + i * op_size`).
    pub ops: u64,
    /// Size of one decoded op in bytes.
    pub op_size: u64,
    /// The interpreter callback.
    pub interp: u64,
    /// The load slow path.
    pub load: u64,
    /// The store slow path.
    pub store: u64,
    /// The shared epilogue.
    pub epilogue: u64,
}

/// Why a block was not compiled (it stays interpreted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompileError {
    /// More simultaneously live temporaries than registers and spill
    /// slots.
    TooManyTemps,
    /// A temporary would live across an interpreter call.
    LiveAcrossCall,
    /// The encoder failed (a bug; reported, not hidden).
    Encode(EncError),
}

impl From<EncError> for CompileError {
    fn from(e: EncError) -> Self {
        CompileError::Encode(e)
    }
}

/// The entry stub and epilogue, see [`entry_stub`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stub {
    /// The code, for placement at the arena's start.
    pub bytes: Vec<u8>,
    /// Offset of the shared epilogue.
    pub epilogue: usize,
}

const BASE: Reg = Reg::Rbx;
const CTX: Reg = Reg::R12;
const RAX: Reg = Reg::Rax;
const RCX: Reg = Reg::Rcx;
const RDX: Reg = Reg::Rdx;
const R11: Reg = Reg::R11;
/// Registers for temporaries; the first five are caller-saved.
const POOL: [Reg; 9] = [
    Reg::Rsi,
    Reg::Rdi,
    Reg::R8,
    Reg::R9,
    Reg::R10,
    Reg::Rbp,
    Reg::R13,
    Reg::R14,
    Reg::R15,
];
const CALLER_SAVED_IN_POOL: usize = 5;

fn is_caller_saved(r: Reg) -> bool {
    POOL[..CALLER_SAVED_IN_POOL].contains(&r)
}
const SPILL_SLOTS: usize = 32;
/// XMM registers caching V registers: XMM2..XMM15 (XMM0 and XMM1 are
/// scratch within one op).
const VCACHE_FIRST: u8 = 2;
const VCACHE_SIZE: usize = 14;
/// Stack space below the saved registers: spill slots plus 8 bytes that
/// keep RSP 16-byte aligned at calls (return address + 6 pushes = 56).
const FRAME: i32 = 8 + 8 * SPILL_SLOTS as i32;

/// The entry stub `fn(regs, ctx, code) -> u64` and the epilogue blocks
/// jump to with the result in RAX, for placement at `base`.
pub fn entry_stub(base: u64) -> Result<Stub, CompileError> {
    let mut a = Asm::new();
    for r in [Reg::Rbx, Reg::Rbp, Reg::R12, Reg::R13, Reg::R14, Reg::R15] {
        a.push(r);
    }
    a.alu_ri(Alu::Sub, W::B64, Reg::Rsp, FRAME);
    a.mov_rr(W::B64, BASE, Reg::Rdi);
    a.mov_rr(W::B64, CTX, Reg::Rsi);
    a.jmp_r(Reg::Rdx);
    let epilogue = a.len();
    a.alu_ri(Alu::Add, W::B64, Reg::Rsp, FRAME);
    for r in [Reg::R15, Reg::R14, Reg::R13, Reg::R12, Reg::Rbp, Reg::Rbx] {
        a.pop(r);
    }
    a.ret();
    Ok(Stub {
        bytes: a.finish(base)?,
        epilogue,
    })
}

/// Where a temporary lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Loc {
    R(Reg),
    /// Offset from RSP.
    Slot(i32),
}

fn xw(w: Width) -> W {
    match w {
        Width::W32 => W::B32,
        Width::W64 => W::B64,
    }
}

/// `v` as an x86 immediate for an operation of width `w`, if it is one.
fn imm32(w: Width, v: Val) -> Option<i32> {
    match (w, v) {
        (Width::W32, Val::Imm(i)) => Some(i as u32 as i32),
        (Width::W64, Val::Imm(i)) if i as i64 == i64::from(i as i32) => Some(i as i32),
        _ => None,
    }
}

/// For each of the 16 NZCV values, whether `cond` holds: bit `nzcv`.
fn cond_mask(cond: u8) -> u32 {
    (0..16u32)
        .filter(|&i| cond_holds(cond, i << 28))
        .fold(0, |m, i| m | (1 << i))
}

/// Caller-saved registers a slow path saves (at most the pool's five);
/// fixed-size, as every load, store and SIMD&FP op has a slow path and
/// heap allocations were a tenth of the compile time.
type SavedRegs = heapless::Vec<Reg, CALLER_SAVED_IN_POOL>;
/// Cached V registers (XMM register, V register) a slow path writes back
/// or reloads.
type CachedV = heapless::Vec<(Xmm, u8), VCACHE_SIZE>;

/// What an out-of-line slow path does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ColdKind {
    /// The interpreter's load (address in RAX; value back in RAX).
    Load,
    /// The interpreter's store (address in RAX, value in RDX).
    Store,
    /// The interpreter runs the whole instruction (its decoded op here).
    Interp {
        /// Address of the decoded op.
        op: u64,
        /// A general register the instruction wrote, read back into RAX
        /// for the fast path's continuation.
        reload: Option<u8>,
    },
}

/// An out-of-line slow path, emitted after the block's code.
struct Cold {
    entry: Label,
    back: Label,
    kind: ColdKind,
    /// For loads and stores: `size_log2 | el << 8`.
    info: u64,
    pc: u64,
    /// Instructions to add to the counter while the slow path runs (the
    /// access's own instruction counts if it faults).
    delta: u16,
    /// Caller-saved registers holding live temporaries.
    save: SavedRegs,
    /// Loads and stores: where the fast path has the address, the value
    /// to store and wants the loaded value (the calls take and give them
    /// in RAX and RDX).
    addr: Reg,
    val: Reg,
    dst: Reg,
    /// Cached V registers newer than the register file when the slow path
    /// is entered (written back before the call, which may leave the
    /// block), and the ones cached where it rejoins (reloaded after the
    /// call, which clobbers XMM registers and may write V registers).
    vdirty: CachedV,
    vafter: CachedV,
}

struct Lower<'a> {
    a: Asm,
    env: &'a Env,
    loc: Vec<Option<Loc>>,
    /// The temporaries that are in a register now (at most the pool's
    /// size: what calls must save, found without scanning every temporary).
    in_regs: Vec<(Tmp, Reg)>,
    last_use: Vec<usize>,
    free_regs: Vec<Reg>,
    free_slots: Vec<i32>,
    /// Guest instructions already added to the instruction counter.
    added: u16,
    /// The guest instruction being lowered.
    cur: u16,
    leave: Option<Label>,
    cold: Vec<Cold>,
    /// The kind of flag-setting op whose flags the host's EFLAGS hold now
    /// (set by that op, kept only across ops that leave EFLAGS alone).
    eflags: Option<FlagOp>,
    /// What `eflags` becomes after the current op.
    eflags_next: Option<FlagOp>,
    /// V registers cached in XMM2..XMM15 within the block: (V register,
    /// dirty) by XMM register; the register file is written when a value
    /// must be seen (exits, slow paths, interpreted instructions).
    vcache: [Option<(u8, bool)>; VCACHE_SIZE],
    /// Last use of each cache register, for eviction.
    vlru: [u64; VCACHE_SIZE],
    vclock: u64,
    /// Temporaries defined as another value plus a constant (how the
    /// lifter computes a pair's second address).
    add_of: Vec<Option<(Val, u64)>>,
    /// SIMD&FP is known to be enabled: an earlier SIMD&FP instruction of
    /// the block got past its check, or trapped and left the block, and
    /// no interpreted instruction (which may write CPACR) ran since.
    fp_enabled_known: bool,
    /// Where the code will be placed.
    at: u64,
}

/// Compile `ir` for placement at `at`.
pub fn compile(ir: &IrBlock, env: &Env, at: u64) -> Result<Vec<u8>, CompileError> {
    let n = ir.temps as usize;
    let mut last_use = vec![usize::MAX; n];
    for (i, op) in ir.ops.iter().enumerate() {
        op.for_each_use(|v| {
            if let Val::T(t) = v {
                if let Some(u) = last_use.get_mut(t.0 as usize) {
                    *u = i;
                }
            }
        });
    }
    let mut l = Lower {
        // Room for the usual size (20-60 bytes of code per IR op) without
        // growing the buffer again and again.
        a: Asm::with_capacity(64 * ir.ops.len()),
        env,
        loc: vec![None; n],
        in_regs: Vec::with_capacity(POOL.len()),
        last_use,
        // Popped from the end: hand out caller-saved registers first.
        free_regs: POOL.iter().rev().copied().collect(),
        free_slots: (0..SPILL_SLOTS as i32).rev().map(|k| 8 * k).collect(),
        added: 0,
        cur: 0,
        leave: None,
        cold: Vec::new(),
        eflags: None,
        eflags_next: None,
        vcache: [None; VCACHE_SIZE],
        vlru: [0; VCACHE_SIZE],
        vclock: 0,
        fp_enabled_known: false,
        add_of: vec![None; n],
        at,
    };
    let mut paired = false;
    for (i, op) in ir.ops.iter().enumerate() {
        if core::mem::take(&mut paired) {
            // The second access of a pair, lowered with the first.
            l.release(i, op);
            l.eflags = None;
            continue;
        }
        if let Some(t) = op.def() {
            l.alloc(i, t)?;
        }
        l.eflags_next = None;
        match ir.ops.get(i + 1).filter(|next| l.is_pair(op, next)) {
            Some(next) => {
                if let Some(t) = next.def() {
                    l.alloc(i + 1, t)?;
                }
                l.pair(i, op, next)?;
                paired = true;
            }
            None => l.op(i, op)?,
        }
        l.release(i, op);
        if let IrOp::Bin {
            op: BinOp::Add,
            w: Width::W64,
            dst,
            a,
            b: Val::Imm(k),
        } = *op
        {
            if let Some(e) = l.add_of.get_mut(dst.0 as usize) {
                *e = Some((a, k));
            }
        }
        // Register reads and writes and instruction markers are moves or
        // nothing: the flags survive them. Anything else may clobber them.
        l.eflags = match op {
            IrOp::Insn { .. } | IrOp::Get { .. } | IrOp::Set { .. } => l.eflags,
            _ => l.eflags_next,
        };
    }
    for c in core::mem::take(&mut l.cold) {
        l.slow_path(c)?;
    }
    if let Some(leave) = l.leave {
        l.a.bind(leave)?;
        l.a.mov_ri(RAX, 1);
        l.a.jmp_abs(env.epilogue);
    }
    Ok(l.a.finish(at)?)
}

impl Lower<'_> {
    /// A home for `t`, defined by op `i`: a free register; else the
    /// register of the temporary used furthest ahead, if that is further
    /// than `t`'s last use (it moves to a spill slot); else a spill slot.
    fn alloc(&mut self, i: usize, t: Tmp) -> Result<(), CompileError> {
        let last = |l: &Self, t: Tmp| l.last_use.get(t.0 as usize).copied().unwrap_or(0);
        let loc = if let Some(r) = self.free_regs.pop() {
            self.in_regs.push((t, r));
            Loc::R(r)
        } else {
            let slot = self.free_slots.pop().ok_or(CompileError::TooManyTemps)?;
            let victim = self
                .in_regs
                .iter()
                .enumerate()
                .filter(|&(_, &(held, _))| last(self, held) != usize::MAX)
                .max_by_key(|&(_, &(held, _))| last(self, held))
                .map(|(k, &(held, r))| (k, held, r));
            match victim {
                Some((k, held, r)) if last(self, held) > last(self, t) && last(self, held) > i => {
                    self.a.store(W::B64, Mem::base(Reg::Rsp, slot), r);
                    if let Some(l) = self.loc.get_mut(held.0 as usize) {
                        *l = Some(Loc::Slot(slot));
                    }
                    self.in_regs[k] = (t, r);
                    Loc::R(r)
                }
                _ => Loc::Slot(slot),
            }
        };
        if let Some(l) = self.loc.get_mut(t.0 as usize) {
            *l = Some(loc);
        }
        Ok(())
    }

    /// Free the temporaries whose last use is op `i` (and a definition
    /// nobody reads).
    fn release(&mut self, i: usize, op: &IrOp) {
        op.for_each_use(|v| {
            if let Val::T(t) = v {
                self.release_if_done(i, op, t);
            }
        });
        if let Some(t) = op.def() {
            self.release_if_done(i, op, t);
        }
    }

    /// Free `t`'s place if op `i` was its last use (or it is defined by
    /// `op` and never used). Idempotent: a second call finds no place.
    fn release_if_done(&mut self, i: usize, op: &IrOp, t: Tmp) {
        let k = t.0 as usize;
        let last = self.last_use.get(k).copied().unwrap_or(usize::MAX);
        let done = last == i || (last == usize::MAX && op.def() == Some(t));
        if !done {
            return;
        }
        match self.loc.get_mut(k).and_then(Option::take) {
            Some(Loc::R(r)) => {
                self.in_regs.retain(|&(held, _)| held != t);
                self.free_regs.push(r);
            }
            Some(Loc::Slot(s)) => self.free_slots.push(s),
            None => {}
        }
    }

    fn loc_of(&self, t: Tmp) -> Loc {
        // Every used temporary was allocated at its definition; a missing
        // one would be an IR bug, read as slot 0 rather than panicking.
        self.loc
            .get(t.0 as usize)
            .copied()
            .flatten()
            .unwrap_or(Loc::Slot(0))
    }

    fn reg_mem(&self, r: GReg) -> Mem {
        let off = match r {
            GReg::X(n) => ArchRegs::offset_x(n.min(30)),
            GReg::Sp => ArchRegs::offset_sp(u8::from(self.env.el != 0 && self.env.spsel)),
        };
        Mem::base(BASE, off)
    }

    fn field(off: i32) -> Mem {
        Mem::base(BASE, off)
    }

    /// Load `v` into `dst` (may clobber flags).
    fn val_into(&mut self, dst: Reg, v: Val) {
        match v {
            Val::Imm(i) => self.a.mov_ri(dst, i),
            Val::T(t) => self.tmp_into(dst, t),
        }
    }

    /// Load `v` into `dst` without touching the flags.
    fn val_into_keep(&mut self, dst: Reg, v: Val) {
        match v {
            Val::Imm(i) => self.a.mov_ri_keep_flags(dst, i),
            Val::T(t) => self.tmp_into(dst, t),
        }
    }

    fn tmp_into(&mut self, dst: Reg, t: Tmp) {
        match self.loc_of(t) {
            Loc::R(r) if r == dst => {}
            Loc::R(r) => self.a.mov_rr(W::B64, dst, r),
            Loc::Slot(s) => self.a.load(W::B64, dst, Mem::base(Reg::Rsp, s)),
        }
    }

    /// `v` in some register: its own if it has one, else `scratch`.
    fn val_reg(&mut self, v: Val, scratch: Reg) -> Reg {
        if let Val::T(t) = v {
            if let Loc::R(r) = self.loc_of(t) {
                return r;
            }
        }
        self.val_into(scratch, v);
        scratch
    }

    /// Write `src` to temporary `t`'s home (flags are kept).
    fn def_from(&mut self, t: Tmp, src: Reg) {
        match self.loc_of(t) {
            Loc::R(r) if r == src => {}
            Loc::R(r) => self.a.mov_rr(W::B64, r, src),
            Loc::Slot(s) => self.a.store(W::B64, Mem::base(Reg::Rsp, s), src),
        }
    }

    /// The register `t` lives in, or RAX if it lives in a spill slot.
    fn dst_reg(&self, t: Tmp) -> Reg {
        match self.loc_of(t) {
            Loc::R(r) => r,
            Loc::Slot(_) => RAX,
        }
    }

    /// `RAX op= b` at width `w`, with `b` as an immediate when it is one.
    fn alu_b(&mut self, op: Alu, w: Width, b: Val) {
        self.alu_b_into(RAX, op, w, b);
    }

    /// `dst op= b` at width `w` (`dst` is not RCX), with `b` as an
    /// immediate when it is one.
    fn alu_b_into(&mut self, dst: Reg, op: Alu, w: Width, b: Val) {
        match imm32(w, b) {
            Some(i) => self.a.alu_ri(op, xw(w), dst, i),
            None => {
                let rb = self.val_reg(b, RCX);
                self.a.alu_rr(op, xw(w), dst, rb);
            }
        }
    }

    /// Store NZCV from the flags of the last x86 ALU op (`sub`: its CF is
    /// a borrow, the inverse of Arm's C), leaving the host's flags as they
    /// are so the next op may still test them: two table lookups in the
    /// register file instead of arithmetic. Clobbers RAX and RCX.
    fn store_nzcv(&mut self, sub: bool) {
        self.a.lahf();
        self.a.setcc(Cc::O, RAX);
        self.a.movzx_ah(RCX);
        self.a.movzx_rr(W::B8, RAX, RAX);
        self.a.load(
            W::B32,
            RCX,
            Mem::indexed(BASE, RCX, 4, ArchRegs::offset_nzcv_from_ah(sub)),
        );
        self.a.load(
            W::B32,
            RAX,
            Mem::indexed(BASE, RAX, 4, ArchRegs::OFFSET_NZCV_FROM_OF),
        );
        // N, Z, C and V do not overlap: LEA adds without touching flags.
        self.a.lea(W::B32, RCX, Mem::indexed(RCX, RAX, 1, 0));
        self.a
            .store(W::B32, Self::field(ArchRegs::OFFSET_NZCV), RCX);
    }

    /// The x86 condition equal to A64 condition `cond` right after the x86
    /// op that implemented a flag-setting op of kind `kind`, if there is
    /// one (after an addition, HI and LS have none; after a logical op,
    /// nothing that reads C).
    fn x86_cond(kind: FlagOp, cond: u8) -> Option<Cc> {
        let sub = matches!(kind, FlagOp::Sub | FlagOp::Sbc);
        let add = matches!(kind, FlagOp::Add | FlagOp::Adc);
        Some(match cond {
            0 => Cc::E,
            1 => Cc::Ne,
            // CS/CC: x86's CF is Arm's C after an addition, its inverse
            // after a subtraction.
            2 if sub => Cc::Ae,
            3 if sub => Cc::B,
            2 if add => Cc::B,
            3 if add => Cc::Ae,
            4 => Cc::S,
            5 => Cc::Ns,
            6 => Cc::O,
            7 => Cc::No,
            // HI/LS: C set and Z clear.
            8 if sub => Cc::A,
            9 if sub => Cc::Be,
            10 => Cc::Ge,
            11 => Cc::L,
            12 => Cc::G,
            13 => Cc::Le,
            _ => return None,
        })
    }

    /// Set CF to whether `cond` holds for the stored NZCV. Clobbers RAX
    /// and RCX.
    fn cond_to_cf(&mut self, cond: u8) {
        self.a.load(W::B32, RAX, Self::field(ArchRegs::OFFSET_NZCV));
        self.a.shift_ri(XShift::Shr, W::B32, RAX, 28);
        self.a.mov_ri(RCX, u64::from(cond_mask(cond)));
        self.a.bt_rr(W::B32, RCX, RAX);
    }

    /// Emit `test` and return the x86 condition that means "holds".
    fn test_cc(&mut self, test: Test) -> Cc {
        // Straight from the host's flags when the previous op set them.
        if let (Test::Nzcv(c), Some(kind)) = (test, self.eflags) {
            if let Some(cc) = Self::x86_cond(kind, c) {
                return cc;
            }
        }
        match test {
            // A condition on one flag (EQ/NE, CS/CC, MI/PL, VS/VC): one
            // test of its bit in the stored NZCV.
            Test::Nzcv(c) if c < 8 => {
                let bit = match c >> 1 {
                    0 => 1u32 << 30, // Z
                    1 => 1 << 29,    // C
                    2 => 1 << 31,    // N
                    _ => 1 << 28,    // V
                };
                self.a
                    .test_mi(W::B32, Self::field(ArchRegs::OFFSET_NZCV), bit);
                // Even conditions hold when the flag is set.
                if c & 1 == 0 {
                    Cc::Ne
                } else {
                    Cc::E
                }
            }
            Test::Nzcv(c) => {
                self.cond_to_cf(c);
                Cc::B
            }
            Test::Zero { v, w, nz } => {
                let r = self.val_reg(v, RAX);
                self.a.test_rr(xw(w), r, r);
                if nz {
                    Cc::Ne
                } else {
                    Cc::E
                }
            }
            Test::Bit { v, bit, set } => {
                let r = self.val_reg(v, RAX);
                self.a.bt_ri(W::B64, r, bit & 63);
                if set {
                    Cc::B
                } else {
                    Cc::Ae
                }
            }
        }
    }

    /// Add the instructions up to and including the current one to the
    /// counter, once.
    fn count_to(&mut self, upto: u16) {
        let delta = upto.saturating_sub(self.added);
        if delta > 0 {
            self.a.alu_mi(
                Alu::Add,
                W::B64,
                Self::field(ArchRegs::OFFSET_ICOUNT),
                i32::from(delta),
            );
        }
    }

    /// Leave the block for `pc`. A constant target in the block's own
    /// page may later be chained: while the counter is below the chaining
    /// limit, a patchable jump (first to the next instruction) goes
    /// straight to the target's code; the run loop patches it, finding
    /// the site's address in RAX.
    fn exit(&mut self, pc: Val, chain: bool) -> Result<(), CompileError> {
        self.count_to(self.cur + 1);
        // The next block reads V registers from the register file.
        let dirty = self.vdirty();
        self.v_store_all(&dirty);
        let same_page = matches!(pc, Val::Imm(t) if t >> 12 == self.env.va >> 12);
        let mut site = 0;
        if chain && same_page {
            let unchained = self.a.new_label();
            self.a
                .load(W::B64, RAX, Self::field(ArchRegs::OFFSET_CHAIN_LIMIT));
            self.a
                .alu_mr(Alu::Cmp, W::B64, Self::field(ArchRegs::OFFSET_ICOUNT), RAX);
            self.a.jcc(Cc::Ae, unchained);
            let patch = self.a.new_label();
            self.a.jmp(patch);
            // The jump's rel32 is its last four bytes.
            site = self.at + self.a.len() as u64 - 4;
            self.a.bind(patch)?;
            self.a.bind(unchained)?;
        }
        let m = Self::field(ArchRegs::OFFSET_PC);
        if site == 0 && chain {
            // Not chained here (a computed target, or another page), but
            // nothing interpreted may have changed the state the next
            // block was compiled for: store the PC, then try the jump
            // table.
            self.val_into(RAX, pc);
            self.a.store(W::B64, m, RAX);
            self.jump_table_probe()?;
            self.a.alu_rr(Alu::Xor, W::B32, RAX, RAX);
        } else {
            match imm32(Width::W64, pc) {
                Some(i) => self.a.store_i(W::B64, m, i),
                None => {
                    let r = self.val_reg(pc, RAX);
                    self.a.store(W::B64, m, r);
                }
            }
            if site == 0 {
                // After an interpreted instruction (which may have
                // changed SPSel, EL or masks): back to the run loop.
                self.a.alu_rr(Alu::Xor, W::B32, RAX, RAX);
            } else {
                self.a.mov_ri(RAX, site);
            }
        }
        self.a.jmp_abs(self.env.epilogue);
        Ok(())
    }

    /// With the next PC in RAX (and stored): jump straight to the next
    /// block's code if the jump table has it for this EL and SPSel and the
    /// run loop allows chaining (`icount < chain_limit`); else fall
    /// through. Clobbers RAX and RCX.
    fn jump_table_probe(&mut self) -> Result<(), CompileError> {
        let miss = self.a.new_label();
        // RCX = slot * 16: bits 11:2 of the PC, moved to 13:4.
        self.a.mov_rr(W::B64, RCX, RAX);
        self.a.shift_ri(XShift::Shl, W::B32, RCX, 2);
        self.a.alu_ri(
            Alu::And,
            W::B32,
            RCX,
            ((JUMP_TABLE_ENTRIES - 1) << 4) as i32,
        );
        let bits = JumpTableEntry::tag(0, self.env.el, self.env.spsel);
        if bits != 0 {
            self.a.alu_ri(Alu::Or, W::B64, RAX, bits as i32);
        }
        let entry = |field: i32| Mem::indexed(BASE, RCX, 1, ArchRegs::OFFSET_JUMPS + field);
        self.a
            .alu_rm(Alu::Cmp, W::B64, RAX, entry(ArchRegs::OFFSET_JUMP_TAG));
        self.a.jcc(Cc::Ne, miss);
        self.a
            .load(W::B64, RAX, Self::field(ArchRegs::OFFSET_CHAIN_LIMIT));
        self.a
            .alu_mr(Alu::Cmp, W::B64, Self::field(ArchRegs::OFFSET_ICOUNT), RAX);
        self.a.jcc(Cc::Ae, miss);
        self.a.jmp_m(entry(ArchRegs::OFFSET_JUMP_CODE));
        self.a.bind(miss)?;
        Ok(())
    }

    fn op(&mut self, i: usize, op: &IrOp) -> Result<(), CompileError> {
        // Only the consumers below read the host's flags before changing
        // them (and moves leave them alone); for everything else they
        // are gone, even before the op's own test (FCSEL's comes after
        // its enable check).
        if !matches!(
            op,
            IrOp::Select { .. }
                | IrOp::ExitIf { .. }
                | IrOp::Insn { .. }
                | IrOp::Get { .. }
                | IrOp::Set { .. }
        ) {
            self.eflags = None;
        }
        match *op {
            IrOp::Insn { index } => self.cur = index,
            IrOp::Get { dst, reg } => {
                let m = self.reg_mem(reg);
                match self.loc_of(dst) {
                    Loc::R(r) => self.a.load(W::B64, r, m),
                    Loc::Slot(_) => {
                        self.a.load(W::B64, RAX, m);
                        self.def_from(dst, RAX);
                    }
                }
            }
            IrOp::Set { reg, val } => {
                let m = self.reg_mem(reg);
                match imm32(Width::W64, val) {
                    Some(imm) => self.a.store_i(W::B64, m, imm),
                    None => {
                        let r = self.val_reg(val, RAX);
                        self.a.store(W::B64, m, r);
                    }
                }
            }
            IrOp::GetCarry { dst } => {
                self.a.load(W::B32, RAX, Self::field(ArchRegs::OFFSET_NZCV));
                self.a.shift_ri(XShift::Shr, W::B32, RAX, 29);
                self.a.alu_ri(Alu::And, W::B32, RAX, 1);
                self.def_from(dst, RAX);
            }
            IrOp::Mov { dst, val } => {
                self.val_into(RAX, val);
                self.def_from(dst, RAX);
            }
            IrOp::Bin { op, w, dst, a, b } => self.bin(op, w, dst, a, b)?,
            IrOp::Un { op, w, dst, a } => self.un(op, w, dst, a),
            IrOp::Flags { op, w, dst, a, b } => {
                self.val_into(RAX, a);
                match op {
                    FlagOp::Add => self.alu_b(Alu::Add, w, b),
                    FlagOp::Sub => self.alu_b(Alu::Sub, w, b),
                    FlagOp::And => self.alu_b(Alu::And, w, b),
                    FlagOp::Adc | FlagOp::Sbc => {
                        let rb = self.val_reg(b, RCX);
                        self.a.load(W::B32, RDX, Self::field(ArchRegs::OFFSET_NZCV));
                        self.a.bt_ri(W::B32, RDX, 29);
                        if op == FlagOp::Adc {
                            self.a.alu_rr(Alu::Adc, xw(w), RAX, rb);
                        } else {
                            self.a.cmc();
                            self.a.alu_rr(Alu::Sbb, xw(w), RAX, rb);
                        }
                    }
                }
                if let Some(d) = dst {
                    self.def_from(d, RAX);
                }
                self.store_nzcv(matches!(op, FlagOp::Sub | FlagOp::Sbc));
                self.eflags_next = Some(op);
            }
            IrOp::CondFlags {
                cond,
                sub,
                w,
                a,
                b,
                nzcv,
            } => {
                let other = self.a.new_label();
                let done = self.a.new_label();
                self.cond_to_cf(cond);
                self.a.jcc(Cc::Ae, other);
                self.val_into(RAX, a);
                self.alu_b(if sub { Alu::Sub } else { Alu::Add }, w, b);
                self.store_nzcv(sub);
                self.a.jmp(done);
                self.a.bind(other)?;
                self.a.store_i(
                    W::B32,
                    Self::field(ArchRegs::OFFSET_NZCV),
                    (u32::from(nzcv & 15) << 28) as i32,
                );
                self.a.bind(done)?;
            }
            IrOp::Select { dst, test, a, b } => {
                // No XOR for a zero: the test may be the host's flags.
                self.val_into_keep(RDX, b);
                let cc = self.test_cc(test);
                self.val_into_keep(RCX, a);
                self.a.cmov(W::B64, cc, RDX, RCX);
                self.def_from(dst, RDX);
            }
            IrOp::Load {
                dst,
                addr,
                size_log2,
                ext,
                unpriv,
            } => self.load(i, dst, addr, size_log2, ext, unpriv)?,
            IrOp::Store {
                addr,
                val,
                size_log2,
                unpriv,
            } => self.store(i, addr, val, size_log2, unpriv)?,
            IrOp::Interp { index } => {
                self.fp_enabled_known = false;
                self.v_drop_all();
                self.check_nothing_live_in_caller_saved(i)?;
                self.count_to(index + 1);
                self.added = index + 1;
                self.a.mov_rr(W::B64, Reg::Rdi, CTX);
                let op_addr = self.op_addr(index);
                self.a.mov_ri(Reg::Rsi, op_addr);
                let pc = self.env.va.wrapping_add(4 * u64::from(index));
                self.a.mov_ri(RDX, pc);
                self.a.mov_ri(RAX, self.env.interp);
                self.a.call_r(RAX);
                self.a.test_rr(W::B64, RAX, RAX);
                let leave = self.leave_label();
                self.a.jcc(Cc::Ne, leave);
            }
            IrOp::Fp { index, op } => self.fp(i, index, op)?,
            IrOp::ExitIf { test, pc } => {
                let skip = self.a.new_label();
                let cc = self.test_cc(test);
                self.a.jcc(cc.invert(), skip);
                let added = self.added;
                self.exit(Val::Imm(pc), true)?;
                // The fall-through path has counted nothing more.
                self.added = added;
                self.a.bind(skip)?;
            }
            IrOp::Exit { pc, chain } => {
                self.exit(pc, chain)?;
                self.added = self.cur + 1;
            }
        }
        Ok(())
    }

    /// Address of the decoded op of the block's instruction `index`.
    fn op_addr(&self, index: u16) -> u64 {
        self.env
            .ops
            .wrapping_add(u64::from(index).wrapping_mul(self.env.op_size))
    }

    /// A SIMD&FP instruction: on the host (SSE2 on V registers cached in
    /// XMM registers, or plain moves on the register file) when `fp_fast`
    /// allows and the values are ones where the host and Arm agree
    /// exactly, else (out of line) in the interpreter. Nothing is written
    /// before that choice is made, so the interpreter starts from the
    /// instruction's own inputs.
    fn fp(&mut self, i: usize, index: u16, op: FpOp) -> Result<(), CompileError> {
        let (reads, writes) = Self::fp_regs(&op);
        if Self::fp_in_xmm(&op) {
            for r in reads.iter().flatten() {
                self.v_read(*r);
            }
        } else {
            // Computed on the register file: it must be current for what
            // the op reads, and what it writes is no longer cached.
            for r in reads.iter().chain(&writes).flatten() {
                self.v_sync(*r);
            }
            for r in writes.iter().flatten() {
                self.v_forget(*r);
            }
        }
        let reload = match op {
            FpOp::ToGp { xd, .. } | FpOp::ToInt { xd, .. } if xd < 31 => Some(xd),
            _ => None,
        };
        let kind = ColdKind::Interp {
            op: self.op_addr(index),
            reload,
        };
        let mut cold = self.cold_path(i, kind, 0, 0, op.def());
        let x0 = Xmm(0);
        let x1 = Xmm(1);
        let v = |n: u8| Self::field(ArchRegs::offset_v(n));
        let v_hi = |n: u8| Self::field(ArchRegs::offset_v(n) + 8);
        let needs = match op {
            // Conversions round per FPCR and raise IXC (and FCVTZS reads
            // subnormals per FZ): as arithmetic.
            FpOp::Arith { .. }
            | FpOp::VArith { .. }
            | FpOp::FromInt { .. }
            | FpOp::ToInt { .. } => ArchRegs::FP_FAST_ARITH,
            // Widening is exact (only FZ matters); narrowing rounds.
            FpOp::Cvt { narrow: false, .. } => ArchRegs::FP_FAST_CMP,
            FpOp::Cvt { narrow: true, .. } => ArchRegs::FP_FAST_ARITH,
            FpOp::Cmp { .. } => ArchRegs::FP_FAST_CMP,
            _ => ArchRegs::FP_ENABLED,
        };
        let check = needs != ArchRegs::FP_ENABLED || !self.fp_enabled_known;
        let slow = op.may_leave(self.fp_enabled_known);
        // Past this op, FP is enabled: its check passed, or it trapped.
        self.fp_enabled_known = true;
        if check {
            self.a
                .test_mi(W::B32, Self::field(ArchRegs::OFFSET_FP_FAST), needs);
            self.a.jcc(Cc::E, cold.entry);
        }
        let xr = |l: &Self, n: u8| l.vx(n).unwrap_or(x1);
        match op {
            FpOp::Arith {
                op,
                double,
                rd,
                rn,
                rm,
            } => {
                let sse = Self::sse_arith(op, double, false);
                if op == FpArith::Sqrt {
                    self.a.sse_rr(sse, x0, xr(self, rn));
                } else if matches!(op, FpArith::Max | FpArith::Min) {
                    // MAXSD/MINSD answer Arm only for two different
                    // numbers: equal operands (+0 and -0 among them) and
                    // NaNs (unordered, which also sets ZF) take the slow
                    // path.
                    let ucomis = if double { Sse::Ucomisd } else { Sse::Ucomiss };
                    self.a.sse_rr(ucomis, xr(self, rn), xr(self, rm));
                    self.a.jcc(Cc::E, cold.entry);
                    self.a.sse_rr(Sse::Movups, x0, xr(self, rn));
                    self.a.sse_rr(sse, x0, xr(self, rm));
                } else {
                    self.a.sse_rr(Sse::Movups, x0, xr(self, rn));
                    self.a.sse_rr(sse, x0, xr(self, rm));
                }
                self.fp_result_check(double, x0, cold.entry);
                self.v_scalar_result(double, rd, x0);
            }
            FpOp::VArith {
                op,
                double,
                q,
                rd,
                rn,
                rm,
            } => {
                let sse = Self::sse_arith(op, double, true);
                self.a.sse_rr(Sse::Movups, x0, xr(self, rn));
                self.a.sse_rr(sse, x0, xr(self, rm));
                // Every lane the instruction writes must pass the scalar
                // result check (the upper lanes of a 2S are computed on
                // whatever is there and then cleared).
                let lanes: &[u8] = match (double, q) {
                    (true, _) => &[0x44, 0xEE],
                    (false, true) => &[0x00, 0x55, 0xAA, 0xFF],
                    (false, false) => &[0x00, 0x55],
                };
                for &sel in lanes {
                    // XMM1 = the lane in its low bits.
                    self.a.sse_shuffle(SseShuffle::Pshufd, x1, x0, sel);
                    self.fp_result_check(double, x1, cold.entry);
                }
                self.v_result(q, rd, x0);
            }
            FpOp::Cvt { narrow, rd, rn } => {
                let xn = xr(self, rn);
                if narrow {
                    // Rounded: as single-precision arithmetic, a normal
                    // result not near the limits.
                    self.a.sse_rr(Sse::Cvtsd2ss, x0, xn);
                    self.fp_result_check(false, x0, cold.entry);
                    self.v_scalar_result(false, rd, x0);
                } else {
                    // Exact, no flags, zeros and subnormals included; only
                    // NaNs (quieted per FPCR.DN) and infinities go slow.
                    self.a.sse_rr(Sse::Cvtss2sd, x0, xn);
                    self.fp_exponent(true, x0);
                    self.a.alu_ri(Alu::Cmp, W::B32, RAX, 0x7ff);
                    self.a.jcc(Cc::E, cold.entry);
                    self.v_scalar_result(true, rd, x0);
                }
            }
            FpOp::FromInt {
                double,
                sf,
                unsigned,
                rd,
                val,
            } => {
                self.val_into(RAX, val);
                match (sf, unsigned) {
                    (false, false) => self.a.movsx_rr(W::B32, W::B64, RAX, RAX),
                    (false, true) => self.a.mov_rr(W::B32, RAX, RAX),
                    (true, false) => {}
                    (true, true) => {
                        // No unsigned 64-bit conversion in SSE2.
                        self.a.test_rr(W::B64, RAX, RAX);
                        self.a.jcc(Cc::S, cold.entry);
                    }
                }
                let xd = self.v_write(rd);
                self.a.sse_rr(Sse::Xorps, xd, xd);
                self.a.cvt_from_int(double, W::B64, xd, RAX);
            }
            FpOp::ToInt { double, sf, rn, .. } => {
                let w = if sf { W::B64 } else { W::B32 };
                self.a.cvt_to_int(double, w, RAX, xr(self, rn));
                // The "integer indefinite" (out of range, NaN; also an
                // exact INT_MIN) is the interpreter's to saturate and flag.
                if sf {
                    self.a.mov_ri(RCX, 1 << 63);
                    self.a.alu_rr(Alu::Cmp, W::B64, RAX, RCX);
                } else {
                    self.a.alu_ri(Alu::Cmp, W::B32, RAX, i32::MIN);
                }
                self.a.jcc(Cc::E, cold.entry);
            }
            FpOp::Cmp { double, rn, rm } => {
                let ucomis = if double { Sse::Ucomisd } else { Sse::Ucomiss };
                let xn = xr(self, rn);
                match rm {
                    Some(m) => {
                        let xm = xr(self, m);
                        self.a.sse_rr(ucomis, xn, xm);
                    }
                    None => {
                        self.a.sse_rr(Sse::Xorps, x0, x0);
                        self.a.sse_rr(ucomis, xn, x0);
                    }
                }
                // Unordered (a NaN: maybe an Invalid Operation flag) is
                // the interpreter's. Otherwise ZF = equal, CF = less, and
                // Arm's NZCV is 0110, 1000 or 0010.
                self.a.jcc(Cc::P, cold.entry);
                self.a.mov_ri_keep_flags(RAX, 0x2000_0000);
                self.a.mov_ri_keep_flags(RCX, 0x6000_0000);
                self.a.cmov(W::B32, Cc::E, RAX, RCX);
                self.a.mov_ri_keep_flags(RCX, 0x8000_0000);
                self.a.cmov(W::B32, Cc::B, RAX, RCX);
                self.a
                    .store(W::B32, Self::field(ArchRegs::OFFSET_NZCV), RAX);
            }
            FpOp::Bits {
                op,
                double,
                scalar,
                q,
                rd,
                rn,
            } => {
                self.a.sse_rr(Sse::Movups, x0, xr(self, rn));
                if op != FpBits::Mov {
                    // The sign bit of each lane as a mask: all ones shifted.
                    self.a.sse_rr(Sse::Pcmpeqd, x1, x1);
                    let (right, left, sign) = if double {
                        (SseShift::Psrlq, SseShift::Psllq, 63)
                    } else {
                        (SseShift::Psrld, SseShift::Pslld, 31)
                    };
                    if op == FpBits::Abs {
                        self.a.sse_shift(right, x1, 1);
                        self.a.sse_rr(Sse::Pand, x0, x1);
                    } else {
                        self.a.sse_shift(left, x1, sign);
                        self.a.sse_rr(Sse::Pxor, x0, x1);
                    }
                }
                if scalar {
                    self.v_scalar_result(double, rd, x0);
                } else {
                    self.v_result(q, rd, x0);
                }
            }
            FpOp::Csel {
                double,
                cond,
                rd,
                rn,
                rm,
            } => {
                let w = if double { W::B64 } else { W::B32 };
                let (xn, xm) = (xr(self, rn), xr(self, rm));
                // The test may use RAX and RCX; moves keep its flags.
                let cc = self.test_cc(Test::Nzcv(cond));
                self.a.mov_from_xmm(w, RAX, xn);
                self.a.mov_from_xmm(w, RDX, xm);
                self.a.cmov(W::B64, cc.invert(), RAX, RDX);
                let xd = self.v_write(rd);
                self.a.mov_to_xmm(w, xd, RAX);
            }
            FpOp::Logic { op, q, rd, rn, rm } => {
                let (xn, xm) = (xr(self, rn), xr(self, rm));
                match op {
                    // PANDN complements its destination: !m & n.
                    VecLogic::Bic => {
                        self.a.sse_rr(Sse::Movups, x0, xm);
                        self.a.sse_rr(Sse::Pandn, x0, xn);
                    }
                    VecLogic::Orn => {
                        self.a.sse_rr(Sse::Movups, x1, xm);
                        self.a.sse_rr(Sse::Pcmpeqd, x0, x0);
                        self.a.sse_rr(Sse::Pxor, x1, x0);
                        self.a.sse_rr(Sse::Movups, x0, xn);
                        self.a.sse_rr(Sse::Por, x0, x1);
                    }
                    _ => {
                        let sse = match op {
                            VecLogic::And => Sse::Pand,
                            VecLogic::Orr => Sse::Por,
                            _ => Sse::Pxor,
                        };
                        self.a.sse_rr(Sse::Movups, x0, xn);
                        self.a.sse_rr(sse, x0, xm);
                    }
                }
                self.v_result(q, rd, x0);
            }
            FpOp::Lanes {
                op,
                size,
                q,
                rd,
                rn,
                rm,
            } => {
                let sse = match (op, size) {
                    (VecLane::Add, 0) => Sse::Paddb,
                    (VecLane::Add, 1) => Sse::Paddw,
                    (VecLane::Add, 2) => Sse::Paddd,
                    (VecLane::Add, _) => Sse::Paddq,
                    (VecLane::Sub, 0) => Sse::Psubb,
                    (VecLane::Sub, 1) => Sse::Psubw,
                    (VecLane::Sub, 2) => Sse::Psubd,
                    (VecLane::Sub, _) => Sse::Psubq,
                    // The lifter passes no 64-bit compares (SSE4.1).
                    (_, 0) => Sse::Pcmpeqb,
                    (_, 1) => Sse::Pcmpeqw,
                    _ => Sse::Pcmpeqd,
                };
                self.a.sse_rr(Sse::Movups, x0, xr(self, rn));
                if op == VecLane::Cmeq0 {
                    self.a.sse_rr(Sse::Pxor, x1, x1);
                    self.a.sse_rr(sse, x0, x1);
                } else {
                    self.a.sse_rr(sse, x0, xr(self, rm));
                }
                self.v_result(q, rd, x0);
            }
            FpOp::Ext {
                q,
                index,
                rd,
                rn,
                rm,
            } => {
                if q {
                    self.a.sse_rr(Sse::Movups, x0, xr(self, rn));
                    if index != 0 {
                        self.a.sse_shift(SseShift::Psrldq, x0, index);
                        self.a.sse_rr(Sse::Movups, x1, xr(self, rm));
                        self.a.sse_shift(SseShift::Pslldq, x1, 16 - index);
                        self.a.sse_rr(Sse::Por, x0, x1);
                    }
                    self.v_result(true, rd, x0);
                } else {
                    self.a.load(W::B64, RAX, v(rn));
                    if index != 0 {
                        self.a.load(W::B64, RDX, v(rm));
                        self.a.shrd_ri(W::B64, RAX, RDX, 8 * index);
                    }
                    self.store_halves(rd, RAX, q);
                }
            }
            FpOp::Imm { op, q, pattern, rd } => {
                self.a.mov_ri(RAX, pattern);
                match op {
                    VecImm::Mov => self.v_from_rax(rd, q),
                    VecImm::Or | VecImm::And => {
                        let alu = if op == VecImm::Or { Alu::Or } else { Alu::And };
                        self.a.alu_mr(alu, W::B64, v(rd), RAX);
                        if q {
                            self.a.alu_mr(alu, W::B64, v_hi(rd), RAX);
                        } else {
                            self.a.store_i(W::B64, v_hi(rd), 0);
                        }
                    }
                }
            }
            FpOp::DupGp { q, size, rd, val } => {
                self.val_into(RAX, val);
                self.replicate_rax(size);
                self.v_from_rax(rd, q);
            }
            FpOp::Shift {
                op,
                size,
                q,
                rd,
                rn,
                amount,
            } => {
                let pick = |w: SseShift, d: SseShift, q: SseShift| match size {
                    1 => w,
                    2 => d,
                    _ => q,
                };
                let left = pick(SseShift::Psllw, SseShift::Pslld, SseShift::Psllq);
                let right = pick(SseShift::Psrlw, SseShift::Psrld, SseShift::Psrlq);
                self.a.sse_rr(Sse::Movups, x0, xr(self, rn));
                match op {
                    VecShift::Shl => self.a.sse_shift(left, x0, amount),
                    VecShift::Ushr => self.a.sse_shift(right, x0, amount),
                    // The lifter passes no 64-bit lanes.
                    VecShift::Sshr => {
                        let sra = if size == 1 {
                            SseShift::Psraw
                        } else {
                            SseShift::Psrad
                        };
                        self.a.sse_shift(sra, x0, amount);
                    }
                    VecShift::Sli => {
                        // Keep Vd's low `amount` bits: ones >> (bits - amount).
                        let bits = 8u8 << size;
                        self.a.sse_rr(Sse::Pcmpeqd, x1, x1);
                        self.a.sse_shift(right, x1, bits - amount);
                        self.a.sse_rr(Sse::Pand, x1, xr(self, rd));
                        self.a.sse_shift(left, x0, amount);
                        self.a.sse_rr(Sse::Por, x0, x1);
                    }
                }
                self.v_result(q, rd, x0);
            }
            FpOp::Widen {
                signed,
                size,
                upper,
                rd,
                rn,
                shift,
            } => {
                self.a.sse_rr(Sse::Movups, x0, xr(self, rn));
                if upper {
                    self.a.sse_shift(SseShift::Psrldq, x0, 8);
                }
                // XMM1: the high halves of the wide lanes.
                self.a.sse_rr(Sse::Pxor, x1, x1);
                let (gt, unpack, left) = match size {
                    0 => (Sse::Pcmpgtb, Sse::Punpcklbw, SseShift::Psllw),
                    1 => (Sse::Pcmpgtw, Sse::Punpcklwd, SseShift::Pslld),
                    _ => (Sse::Pcmpgtd, Sse::Punpckldq, SseShift::Psllq),
                };
                if signed {
                    // 0 > lane: all ones for negative lanes.
                    self.a.sse_rr(gt, x1, x0);
                }
                self.a.sse_rr(unpack, x0, x1);
                if shift != 0 {
                    self.a.sse_shift(left, x0, shift);
                }
                self.v_result(true, rd, x0);
            }
            FpOp::Rev {
                size,
                container,
                q,
                rd,
                rn,
            } => {
                self.a.sse_rr(Sse::Movups, x0, xr(self, rn));
                if size == 0 {
                    // Swap the bytes of each 16-bit word.
                    self.a.sse_rr(Sse::Movups, x1, x0);
                    self.a.sse_shift(SseShift::Psllw, x0, 8);
                    self.a.sse_shift(SseShift::Psrlw, x1, 8);
                    self.a.sse_rr(Sse::Por, x0, x1);
                }
                // Then reverse the words (or dwords) within each container.
                let words = match (size, container) {
                    (0, 1) => None,
                    (_, 2) => Some(0xB1),
                    _ => Some(0x1B),
                };
                match (size, words) {
                    (2, _) => self.a.sse_shuffle(SseShuffle::Pshufd, x0, x0, 0xB1),
                    (_, Some(imm)) => {
                        self.a.sse_shuffle(SseShuffle::Pshuflw, x0, x0, imm);
                        self.a.sse_shuffle(SseShuffle::Pshufhw, x0, x0, imm);
                    }
                    _ => {}
                }
                self.v_result(q, rd, x0);
            }
            FpOp::DupElem {
                q,
                size,
                rd,
                rn,
                src,
            } => {
                let m = Self::field(ArchRegs::offset_v(rn) + i32::from(src));
                self.a.load(Self::size_w(size), RAX, m);
                self.replicate_rax(size);
                self.store_halves(rd, RAX, q);
            }
            FpOp::Elem {
                size_log2,
                rd,
                dst,
                rn,
                src,
                scalar,
            } => {
                let w = Self::size_w(size_log2);
                let from = Self::field(ArchRegs::offset_v(rn) + i32::from(src));
                self.a.load(w, RAX, from);
                if scalar {
                    self.store_halves(rd, RAX, false);
                } else {
                    let to = Self::field(ArchRegs::offset_v(rd) + i32::from(dst));
                    self.a.store(w, to, RAX);
                }
            }
            FpOp::InsGp {
                size_log2,
                rd,
                dst,
                val,
            } => {
                self.val_into(RAX, val);
                let to = Self::field(ArchRegs::offset_v(rd) + i32::from(dst));
                self.a.store(Self::size_w(size_log2), to, RAX);
            }
            FpOp::Mem {
                load,
                size_log2,
                rt,
                rt2,
                addr,
            } => self.fp_mem(load, size_log2, rt, rt2, addr, cold.entry),
            FpOp::FromGp { bits, rd, val } => {
                self.val_into(RAX, val);
                match bits {
                    128 => self.a.store(W::B64, v_hi(rd), RAX),
                    _ => {
                        if bits == 32 {
                            self.a.mov_rr(W::B32, RAX, RAX);
                        }
                        self.v_from_rax(rd, false);
                    }
                }
            }
            FpOp::ToGp {
                rn,
                offset,
                size_log2,
                ext,
                ..
            } => {
                let m = Self::field(ArchRegs::offset_v(rn) + i32::from(offset));
                let from = Self::size_w(size_log2);
                if let (0, Some(x)) = (offset, self.vx(rn).filter(|_| size_log2 >= 2)) {
                    // The low 4 or 8 bytes of the cached register.
                    self.a.mov_from_xmm(from, RAX, x);
                    if (ext, from) == (LoadExt::Sx64, W::B32) {
                        self.a.movsx_rr(W::B32, W::B64, RAX, RAX);
                    }
                } else {
                    match (ext, from) {
                        (LoadExt::Zero, _) | (_, W::B64) => self.a.load(from, RAX, m),
                        (LoadExt::Sx64, _) => self.a.load_sx(from, W::B64, RAX, m),
                        (LoadExt::Sx32, W::B32) => self.a.load(W::B32, RAX, m),
                        (LoadExt::Sx32, _) => self.a.load_sx(from, W::B32, RAX, m),
                    }
                }
            }
        }
        cold.vafter = self.vcached();
        self.a.bind(cold.back)?;
        if let Some(dst) = op.def() {
            self.def_from(dst, RAX);
        }
        if slow {
            self.cold.push(cold);
        }
        Ok(())
    }

    /// The V registers an op reads and writes.
    fn fp_regs(op: &FpOp) -> ([Option<u8>; 3], [Option<u8>; 2]) {
        match *op {
            FpOp::Arith { rd, rn, rm, .. }
            | FpOp::VArith { rd, rn, rm, .. }
            | FpOp::Logic { rd, rn, rm, .. }
            | FpOp::Ext { rd, rn, rm, .. } => ([Some(rn), Some(rm), None], [Some(rd), None]),
            FpOp::Lanes { op, rd, rn, rm, .. } => {
                let m = (op != VecLane::Cmeq0).then_some(rm);
                ([Some(rn), m, None], [Some(rd), None])
            }
            FpOp::Cmp { rn, rm, .. } => ([Some(rn), rm, None], [None, None]),
            FpOp::Bits { rd, rn, .. } => ([Some(rn), None, None], [Some(rd), None]),
            FpOp::FromInt { rd, .. } => ([None, None, None], [Some(rd), None]),
            FpOp::Cvt { rd, rn, .. } => ([Some(rn), None, None], [Some(rd), None]),
            FpOp::ToInt { rn, .. } => ([Some(rn), None, None], [None, None]),
            FpOp::Csel { rd, rn, rm, .. } => ([Some(rn), Some(rm), None], [Some(rd), None]),
            FpOp::Shift { op, rd, rn, .. } => {
                let d = (op == VecShift::Sli).then_some(rd);
                ([Some(rn), d, None], [Some(rd), None])
            }
            FpOp::Widen { rd, rn, .. }
            | FpOp::Rev { rd, rn, .. }
            | FpOp::DupElem { rd, rn, .. } => ([Some(rn), None, None], [Some(rd), None]),
            // Partial writes read the rest of Vd.
            FpOp::Elem { rd, rn, scalar, .. } => {
                ([Some(rn), (!scalar).then_some(rd), None], [Some(rd), None])
            }
            FpOp::InsGp { rd, .. } | FpOp::Imm { rd, .. } => {
                ([Some(rd), None, None], [Some(rd), None])
            }
            FpOp::FromGp { bits, rd, .. } => {
                ([(bits == 128).then_some(rd), None, None], [Some(rd), None])
            }
            FpOp::DupGp { rd, .. } => ([None, None, None], [Some(rd), None]),
            FpOp::ToGp { rn, .. } => ([Some(rn), None, None], [None, None]),
            FpOp::Mem { load, rt, rt2, .. } => {
                if load {
                    ([None, None, None], [Some(rt), rt2])
                } else {
                    ([Some(rt), rt2, None], [None, None])
                }
            }
        }
    }

    /// Whether the op computes on V registers cached in XMM registers
    /// (else on the register file).
    fn fp_in_xmm(op: &FpOp) -> bool {
        matches!(
            op,
            FpOp::Arith { .. }
                | FpOp::VArith { .. }
                | FpOp::Cmp { .. }
                | FpOp::Bits { .. }
                | FpOp::Csel { .. }
                | FpOp::FromInt { .. }
                | FpOp::ToInt { .. }
                | FpOp::Cvt { .. }
                | FpOp::Logic { .. }
                | FpOp::Lanes { .. }
                | FpOp::Ext { q: true, .. }
                | FpOp::Shift { .. }
                | FpOp::Widen { .. }
                | FpOp::Rev { .. }
                | FpOp::DupGp { .. }
                | FpOp::Imm {
                    op: VecImm::Mov,
                    ..
                }
                | FpOp::FromGp { bits: 32 | 64, .. }
                | FpOp::ToGp {
                    offset: 0,
                    size_log2: 2 | 3,
                    ..
                }
        )
    }

    /// The XMM register caching V`n`, if any.
    fn vx(&self, n: u8) -> Option<Xmm> {
        self.vcache
            .iter()
            .position(|c| c.is_some_and(|(r, _)| r == n))
            .map(|k| Xmm(k as u8 + VCACHE_FIRST))
    }

    /// An XMM register for V`n`: a free one, else the least recently
    /// used (written back first if dirty).
    fn v_slot(&mut self, n: u8) -> Xmm {
        if let Some(x) = self.vx(n) {
            self.vtouch(x);
            return x;
        }
        let k = match self.vcache.iter().position(Option::is_none) {
            Some(k) => k,
            None => {
                let k = self
                    .vlru
                    .iter()
                    .enumerate()
                    .min_by_key(|&(_, &t)| t)
                    .map_or(0, |(k, _)| k);
                if let Some((old, true)) = self.vcache[k] {
                    let x = Xmm(k as u8 + VCACHE_FIRST);
                    self.a.movups_store(Self::field(ArchRegs::offset_v(old)), x);
                }
                self.vcache[k] = None;
                k
            }
        };
        self.vcache[k] = Some((n, false));
        let x = Xmm(k as u8 + VCACHE_FIRST);
        self.vtouch(x);
        x
    }

    fn vtouch(&mut self, x: Xmm) {
        self.vclock += 1;
        if let Some(t) = self.vlru.get_mut(usize::from(x.0 - VCACHE_FIRST)) {
            *t = self.vclock;
        }
    }

    /// V`n` in an XMM register, loaded if it was not cached.
    fn v_read(&mut self, n: u8) -> Xmm {
        let cached = self.vx(n).is_some();
        let x = self.v_slot(n);
        if !cached {
            self.a
                .sse_rm(Sse::Movups, x, Self::field(ArchRegs::offset_v(n)));
        }
        x
    }

    /// An XMM register that will hold V`n`'s new value (marked dirty).
    fn v_write(&mut self, n: u8) -> Xmm {
        let x = self.v_slot(n);
        if let Some(c) = self.vcache.get_mut(usize::from(x.0 - VCACHE_FIRST)) {
            *c = Some((n, true));
        }
        x
    }

    /// The SSE instruction of an FP operation: scalar or `packed`, on
    /// doubles or singles (no packed SQRT, MAX or MIN: the lifter passes
    /// none).
    fn sse_arith(op: FpArith, double: bool, packed: bool) -> Sse {
        match (op, double, packed) {
            (FpArith::Add, true, false) => Sse::Addsd,
            (FpArith::Add, false, false) => Sse::Addss,
            (FpArith::Add, true, true) => Sse::Addpd,
            (FpArith::Add, false, true) => Sse::Addps,
            (FpArith::Sub, true, false) => Sse::Subsd,
            (FpArith::Sub, false, false) => Sse::Subss,
            (FpArith::Sub, true, true) => Sse::Subpd,
            (FpArith::Sub, false, true) => Sse::Subps,
            (FpArith::Mul, true, false) => Sse::Mulsd,
            (FpArith::Mul, false, false) => Sse::Mulss,
            (FpArith::Mul, true, true) => Sse::Mulpd,
            (FpArith::Mul, false, true) => Sse::Mulps,
            (FpArith::Div, true, false) => Sse::Divsd,
            (FpArith::Div, false, false) => Sse::Divss,
            (FpArith::Div, true, true) => Sse::Divpd,
            (FpArith::Div, false, true) => Sse::Divps,
            (FpArith::Sqrt, true, _) => Sse::Sqrtsd,
            (FpArith::Sqrt, false, _) => Sse::Sqrtss,
            (FpArith::Max, true, _) => Sse::Maxsd,
            (FpArith::Max, false, _) => Sse::Maxss,
            (FpArith::Min, true, _) => Sse::Minsd,
            (FpArith::Min, false, _) => Sse::Minss,
        }
    }

    /// RAX = the biased exponent of the low lane of `x` (a double, or a
    /// single).
    fn fp_exponent(&mut self, double: bool, x: Xmm) {
        let (w, exp_bits, bits) = if double {
            (W::B64, 11, 64)
        } else {
            (W::B32, 8, 32)
        };
        self.a.mov_from_xmm(w, RAX, x);
        self.a.shift_ri(XShift::Shl, w, RAX, 1);
        self.a.shift_ri(XShift::Shr, w, RAX, bits - exp_bits);
    }

    /// To `slow` unless the low lane of `x`, an FP result computed on the
    /// host, has a biased exponent in 2..=max-1: not a zero, subnormal,
    /// infinity or NaN, and not within a factor of two of the smallest
    /// normal, so that it was not tiny before rounding either (Arm's
    /// underflow test). Clobbers RAX.
    fn fp_result_check(&mut self, double: bool, x: Xmm, slow: Label) {
        let max: i32 = if double { 0x7ff } else { 0xff };
        self.fp_exponent(double, x);
        self.a.alu_ri(Alu::Sub, W::B32, RAX, 2);
        self.a.alu_ri(Alu::Cmp, W::B32, RAX, max - 3);
        self.a.jcc(Cc::A, slow);
    }

    /// Vd = the low 8 (`double`) or 4 bytes of `x`, the rest zeroed.
    fn v_scalar_result(&mut self, double: bool, rd: u8, x: Xmm) {
        let xd = self.v_write(rd);
        if double {
            self.a.sse_rr(Sse::Movq, xd, x);
        } else {
            self.a.sse_rr(Sse::Xorps, xd, xd);
            self.a.sse_rr(Sse::Movss, xd, x);
        }
    }

    /// Vd = RAX in the low half, and in the upper half too if `q` (else
    /// zeros).
    fn v_from_rax(&mut self, rd: u8, q: bool) {
        let xd = self.v_write(rd);
        self.a.mov_to_xmm(W::B64, xd, RAX);
        if q {
            // Dwords 0, 1, 0, 1.
            self.a.sse_shuffle(SseShuffle::Pshufd, xd, xd, 0x44);
        }
    }

    /// Vd = `x` (its low half and zeros if not `q`).
    fn v_result(&mut self, q: bool, rd: u8, x: Xmm) {
        if !q {
            self.a.sse_rr(Sse::Movq, x, x);
        }
        let xd = self.v_write(rd);
        self.a.sse_rr(Sse::Movups, xd, x);
    }

    /// Write V`n` back if its cached copy is newer.
    fn v_sync(&mut self, n: u8) {
        if let Some(x) = self.vx(n) {
            let k = usize::from(x.0 - VCACHE_FIRST);
            if let Some((_, true)) = self.vcache[k] {
                self.a.movups_store(Self::field(ArchRegs::offset_v(n)), x);
                self.vcache[k] = Some((n, false));
            }
        }
    }

    /// Write V`n` back if needed and stop caching it.
    fn v_forget(&mut self, n: u8) {
        self.v_sync(n);
        if let Some(x) = self.vx(n) {
            self.vcache[usize::from(x.0 - VCACHE_FIRST)] = None;
        }
    }

    /// The dirty cached V registers, to write back before leaving.
    fn vdirty(&self) -> CachedV {
        self.vcache
            .iter()
            .enumerate()
            .filter_map(|(k, c)| match *c {
                Some((n, true)) => Some((Xmm(k as u8 + VCACHE_FIRST), n)),
                _ => None,
            })
            .collect()
    }

    /// Every cached V register.
    fn vcached(&self) -> CachedV {
        self.vcache
            .iter()
            .enumerate()
            .filter_map(|(k, c)| c.map(|(n, _)| (Xmm(k as u8 + VCACHE_FIRST), n)))
            .collect()
    }

    /// Store `list`'s registers to the register file (no state change).
    fn v_store_all(&mut self, list: &[(Xmm, u8)]) {
        for &(x, n) in list {
            self.a.movups_store(Self::field(ArchRegs::offset_v(n)), x);
        }
    }

    /// Load `list`'s registers from the register file (after a call).
    fn v_load_all(&mut self, list: &[(Xmm, u8)]) {
        for &(x, n) in list {
            self.a
                .sse_rm(Sse::Movups, x, Self::field(ArchRegs::offset_v(n)));
        }
    }

    /// Write back every dirty V register and empty the cache (before an
    /// interpreted instruction, which reads and writes the register file).
    fn v_drop_all(&mut self) {
        let dirty = self.vdirty();
        self.v_store_all(&dirty);
        self.vcache = [None; VCACHE_SIZE];
    }

    /// The operand width of an access of `1 << size_log2` bytes (0..=3).
    fn size_w(size_log2: u8) -> W {
        match size_log2 {
            0 => W::B8,
            1 => W::B16,
            2 => W::B32,
            _ => W::B64,
        }
    }

    /// Replicate the low lane (`1 << size` bytes) of RAX across its 64
    /// bits. Clobbers RCX.
    fn replicate_rax(&mut self, size: u8) {
        match size {
            0 | 1 => {
                let (from, ones) = if size == 0 {
                    (W::B8, 0x0101_0101_0101_0101u64)
                } else {
                    (W::B16, 0x0001_0001_0001_0001)
                };
                self.a.movzx_rr(from, RAX, RAX);
                self.a.mov_ri(RCX, ones);
                self.a.imul_rr(W::B64, RAX, RCX);
            }
            2 => {
                self.a.mov_rr(W::B32, RAX, RAX);
                self.a.mov_rr(W::B64, RCX, RAX);
                self.a.shift_ri(XShift::Shl, W::B64, RCX, 32);
                self.a.alu_rr(Alu::Or, W::B64, RAX, RCX);
            }
            _ => {}
        }
    }

    /// SIMD&FP loads and stores through the host TLB. Both halves of a
    /// pair must hit and lie in one page before anything moves, so the
    /// slow path (the whole instruction in the interpreter) starts from
    /// scratch; accesses not aligned to their size take it too.
    fn fp_mem(
        &mut self,
        load: bool,
        size_log2: u8,
        rt: u8,
        rt2: Option<u8>,
        addr: Val,
        slow: Label,
    ) {
        let a = self.val_reg(addr, RAX);
        let bytes = 1i32 << size_log2;
        if rt2.is_some() {
            // The pair's second half in the same page as the first.
            self.a.mov_rr(W::B32, RCX, a);
            self.a.alu_ri(Alu::And, W::B32, RCX, 0xfff);
            self.a.alu_ri(Alu::Cmp, W::B32, RCX, 0x1000 - 2 * bytes);
            self.a.jcc(Cc::A, slow);
        }
        let m = self.tlb_probe(a, size_log2.min(4), self.env.el, !load, slow);
        let at = |k: i32| Mem {
            disp: m.disp + k * bytes,
            ..m
        };
        let v = |n: u8| Self::field(ArchRegs::offset_v(n));
        for (k, r) in [(0, Some(rt)), (1, rt2)] {
            let Some(r) = r else { continue };
            match (load, size_log2) {
                (true, 4) => {
                    self.a.sse_rm(Sse::Movups, Xmm(0), at(k));
                    self.a.movups_store(v(r), Xmm(0));
                }
                (true, _) => {
                    self.a.load(Self::size_w(size_log2), RCX, at(k));
                    self.store_halves(r, RCX, false);
                }
                (false, 4) => {
                    self.a.sse_rm(Sse::Movups, Xmm(0), v(r));
                    self.a.movups_store(at(k), Xmm(0));
                }
                (false, _) => {
                    let w = Self::size_w(size_log2);
                    self.a.load(w, RCX, v(r));
                    self.a.store(w, at(k), RCX);
                }
            }
        }
    }

    /// Vd = `r` in both halves (`q`), or in the low half with the upper
    /// half zeroed.
    fn store_halves(&mut self, rd: u8, r: Reg, q: bool) {
        let lo = Self::field(ArchRegs::offset_v(rd));
        let hi = Self::field(ArchRegs::offset_v(rd) + 8);
        self.a.store(W::B64, lo, r);
        if q {
            self.a.store(W::B64, hi, r);
        } else {
            self.a.store_i(W::B64, hi, 0);
        }
    }

    fn leave_label(&mut self) -> Label {
        match self.leave {
            Some(l) => l,
            None => {
                let l = self.a.new_label();
                self.leave = Some(l);
                l
            }
        }
    }

    /// Caller-saved registers holding temporaries still read after op
    /// `i` (other than `except`, which op `i` defines).
    fn live_caller_saved(&self, i: usize, except: Option<Tmp>) -> SavedRegs {
        self.in_regs
            .iter()
            .filter(|&&(t, r)| Some(t) != except && self.live_after(t, i) && is_caller_saved(r))
            .map(|&(_, r)| r)
            .collect()
    }

    /// Whether `t` is used after IR op `i`.
    fn live_after(&self, t: Tmp, i: usize) -> bool {
        self.last_use
            .get(t.0 as usize)
            .is_some_and(|&u| u > i && u != usize::MAX)
    }

    /// The host-TLB probe for the address in `addr`: on a hit, returns the
    /// host location (RAX holds the entry's addend, or the host address if
    /// `addr` is RAX); on a miss (or a misaligned access) control goes to
    /// `miss` with `addr` unchanged. Clobbers RAX, RCX and R11.
    fn tlb_probe(&mut self, addr: Reg, size_log2: u8, el: u8, write: bool, miss: Label) -> Mem {
        let tlb = ArchRegs::offset_tlb(el);
        let tag = if write {
            ArchRegs::OFFSET_TLB_WRITE
        } else {
            ArchRegs::OFFSET_TLB_READ
        };
        // RCX = slot * 32: bits 19:12 of the address, moved to 12:5 (the
        // low 32 bits hold them).
        self.a.mov_rr(W::B32, RCX, addr);
        self.a.shift_ri(XShift::Shr, W::B32, RCX, 7);
        self.a
            .alu_ri(Alu::And, W::B32, RCX, ((HOST_TLB_ENTRIES as i32) - 1) << 5);
        // The page plus the address's low bits an aligned access has
        // clear: a misaligned access cannot match.
        let mask = !0xfffi32 | ((1i32 << size_log2) - 1);
        self.a.mov_rr(W::B64, R11, addr);
        self.a.alu_ri(Alu::And, W::B64, R11, mask);
        self.a
            .alu_rm(Alu::Cmp, W::B64, R11, Mem::indexed(BASE, RCX, 1, tlb + tag));
        self.a.jcc(Cc::Ne, miss);
        let addend = Mem::indexed(BASE, RCX, 1, tlb + ArchRegs::OFFSET_TLB_ADDEND);
        if addr == RAX {
            self.a.alu_rm(Alu::Add, W::B64, RAX, addend);
            Mem::base(RAX, 0)
        } else {
            self.a.load(W::B64, RAX, addend);
            Mem::indexed(RAX, addr, 1, 0)
        }
    }

    fn access_el(&self, unpriv: bool) -> u8 {
        if unpriv {
            0
        } else {
            self.env.el
        }
    }

    fn cold_path(
        &mut self,
        i: usize,
        kind: ColdKind,
        size_log2: u8,
        el: u8,
        except: Option<Tmp>,
    ) -> Cold {
        Cold {
            entry: self.a.new_label(),
            back: self.a.new_label(),
            kind,
            info: u64::from(size_log2 & 3) | (u64::from(el) << 8),
            pc: self.env.va.wrapping_add(4 * u64::from(self.cur)),
            delta: (self.cur + 1).saturating_sub(self.added),
            save: self.live_caller_saved(i, except),
            addr: RAX,
            val: RDX,
            dst: RAX,
            vdirty: self.vdirty(),
            vafter: self.vcached(),
        }
    }

    /// Whether `a` and `b` are the two accesses of one integer LDP/STP:
    /// adjacent (no instruction marker between), alike, and `b`'s address
    /// is `a`'s plus the access size.
    fn is_pair(&self, a: &IrOp, b: &IrOp) -> bool {
        let next_to = |a1: Val, a2: Val, size_log2: u8| {
            let size = 1u64 << size_log2;
            match (a1, a2) {
                (Val::Imm(x), Val::Imm(y)) => y == x.wrapping_add(size),
                (_, Val::T(t)) => {
                    self.add_of.get(t.0 as usize).copied().flatten() == Some((a1, size))
                }
                _ => false,
            }
        };
        match (*a, *b) {
            (
                IrOp::Load {
                    addr,
                    size_log2,
                    ext,
                    unpriv,
                    ..
                },
                IrOp::Load {
                    addr: addr2,
                    size_log2: s2,
                    ext: e2,
                    unpriv: u2,
                    ..
                },
            ) => (size_log2, ext, unpriv) == (s2, e2, u2) && next_to(addr, addr2, size_log2),
            (
                IrOp::Store {
                    addr,
                    size_log2,
                    unpriv,
                    ..
                },
                IrOp::Store {
                    addr: addr2,
                    size_log2: s2,
                    unpriv: u2,
                    ..
                },
            ) => (size_log2, unpriv) == (s2, u2) && next_to(addr, addr2, size_log2),
            _ => false,
        }
    }

    /// An integer LDP/STP: when both halves are aligned, in one page and
    /// the page hits the host TLB, one probe and two host accesses; else
    /// (out of line) the two accesses one after the other as usual, with
    /// their own slow paths.
    fn pair(&mut self, i: usize, first: &IrOp, second: &IrOp) -> Result<(), CompileError> {
        let separate = self.a.new_label();
        let done = self.a.new_label();
        self.pair_fast(first, second, separate)?;
        self.a.jmp(done);
        self.a.bind(separate)?;
        self.op(i, first)?;
        self.op(i + 1, second)?;
        self.a.bind(done)?;
        Ok(())
    }

    fn pair_fast(&mut self, first: &IrOp, second: &IrOp, slow: Label) -> Result<(), CompileError> {
        let (addr, size_log2, unpriv, write) = match *first {
            IrOp::Load {
                addr,
                size_log2,
                unpriv,
                ..
            } => (addr, size_log2, unpriv, false),
            IrOp::Store {
                addr,
                size_log2,
                unpriv,
                ..
            } => (addr, size_log2, unpriv, true),
            _ => return Ok(()),
        };
        let el = self.access_el(unpriv);
        let bytes = 1i32 << size_log2;
        let w = Self::size_w(size_log2);
        // Store values first: the probe needs RAX, RCX and R11.
        let vals = match (*first, *second) {
            (IrOp::Store { val: v1, .. }, IrOp::Store { val: v2, .. }) => {
                Some((self.val_reg(v1, RDX), v2))
            }
            _ => None,
        };
        let a = self.val_reg(addr, RAX);
        // Both halves in one page.
        self.a.mov_rr(W::B32, RCX, a);
        self.a.alu_ri(Alu::And, W::B32, RCX, 0xfff);
        self.a.alu_ri(Alu::Cmp, W::B32, RCX, 0x1000 - 2 * bytes);
        self.a.jcc(Cc::A, slow);
        let m = self.tlb_probe(a, size_log2, el, write, slow);
        let at = |k: i32| Mem {
            disp: m.disp + k * bytes,
            ..m
        };
        match vals {
            Some((r1, v2)) => {
                self.a.store(w, at(0), r1);
                // RCX is free again after the probe.
                let r2 = self.val_reg_keep_rax(v2);
                self.a.store(w, at(1), r2);
            }
            None => {
                for (k, op) in [(0, first), (1, second)] {
                    if let IrOp::Load { dst, ext, .. } = *op {
                        self.a.load(w, RCX, at(k));
                        match (ext, w) {
                            (LoadExt::Zero, _) | (_, W::B64) | (LoadExt::Sx32, W::B32) => {}
                            (LoadExt::Sx64, _) => self.a.movsx_rr(w, W::B64, RCX, RCX),
                            (LoadExt::Sx32, _) => self.a.movsx_rr(w, W::B32, RCX, RCX),
                        }
                        self.def_from(dst, RCX);
                    }
                }
            }
        }
        Ok(())
    }

    /// `v` in a register other than RAX (its own, or RCX).
    fn val_reg_keep_rax(&mut self, v: Val) -> Reg {
        if let Val::T(t) = v {
            if let Loc::R(r) = self.loc_of(t) {
                return r;
            }
        }
        self.val_into(RCX, v);
        RCX
    }

    fn load(
        &mut self,
        i: usize,
        dst: Tmp,
        addr: Val,
        size_log2: u8,
        ext: LoadExt,
        unpriv: bool,
    ) -> Result<(), CompileError> {
        let el = self.access_el(unpriv);
        let mut cold = self.cold_path(i, ColdKind::Load, size_log2, el, Some(dst));
        cold.addr = self.val_reg(addr, RAX);
        // Straight into the result's register when it has one.
        cold.dst = match self.loc_of(dst) {
            Loc::R(r) => r,
            Loc::Slot(_) => RAX,
        };
        let m = self.tlb_probe(cold.addr, size_log2, el, false, cold.entry);
        let from = match size_log2 {
            0 => W::B8,
            1 => W::B16,
            2 => W::B32,
            _ => W::B64,
        };
        let d = cold.dst;
        self.a.load(from, d, m);
        self.a.bind(cold.back)?;
        match (ext, from) {
            (LoadExt::Zero, _) | (_, W::B64) | (LoadExt::Sx32, W::B32) => {}
            (LoadExt::Sx64, _) => self.a.movsx_rr(from, W::B64, d, d),
            (LoadExt::Sx32, _) => self.a.movsx_rr(from, W::B32, d, d),
        }
        self.def_from(dst, d);
        self.cold.push(cold);
        Ok(())
    }

    fn store(
        &mut self,
        i: usize,
        addr: Val,
        val: Val,
        size_log2: u8,
        unpriv: bool,
    ) -> Result<(), CompileError> {
        let el = self.access_el(unpriv);
        let mut cold = self.cold_path(i, ColdKind::Store, size_log2, el, None);
        cold.val = self.val_reg(val, RDX);
        cold.addr = self.val_reg(addr, RAX);
        let m = self.tlb_probe(cold.addr, size_log2, el, true, cold.entry);
        let w = match size_log2 {
            0 => W::B8,
            1 => W::B16,
            2 => W::B32,
            _ => W::B64,
        };
        self.a.store(w, m, cold.val);
        self.a.bind(cold.back)?;
        self.cold.push(cold);
        Ok(())
    }

    /// A slow path: the interpreter's load, store or whole instruction,
    /// with the live caller-saved registers saved around the call.
    fn slow_path(&mut self, c: Cold) -> Result<(), CompileError> {
        self.a.bind(c.entry)?;
        if matches!(c.kind, ColdKind::Load | ColdKind::Store) {
            // Value first: the address is never in RDX, the value never in
            // RAX.
            if c.val != RDX {
                self.a.mov_rr(W::B64, RDX, c.val);
            }
            if c.addr != RAX {
                self.a.mov_rr(W::B64, RAX, c.addr);
            }
        }
        // The call may leave the block, and reads the register file.
        self.v_store_all(&c.vdirty);
        let icount = Self::field(ArchRegs::OFFSET_ICOUNT);
        if c.delta > 0 {
            self.a.alu_mi(Alu::Add, W::B64, icount, i32::from(c.delta));
        }
        let pad = c.save.len() % 2 == 1;
        for r in &c.save {
            self.a.push(*r);
        }
        if pad {
            self.a.alu_ri(Alu::Sub, W::B64, Reg::Rsp, 8);
        }
        let callee = match c.kind {
            ColdKind::Load | ColdKind::Store => {
                if c.kind == ColdKind::Store {
                    self.a.mov_rr(W::B64, Reg::R8, RDX);
                }
                self.a.mov_rr(W::B64, Reg::Rsi, RAX);
                self.a.mov_rr(W::B64, Reg::Rdi, CTX);
                self.a.mov_ri(RDX, c.info);
                self.a.mov_ri(RCX, c.pc);
                if c.kind == ColdKind::Store {
                    self.env.store
                } else {
                    self.env.load
                }
            }
            ColdKind::Interp { op, .. } => {
                self.a.mov_rr(W::B64, Reg::Rdi, CTX);
                self.a.mov_ri(Reg::Rsi, op);
                self.a.mov_ri(RDX, c.pc);
                self.env.interp
            }
        };
        self.a.mov_ri(RAX, callee);
        self.a.call_r(RAX);
        if pad {
            self.a.alu_ri(Alu::Add, W::B64, Reg::Rsp, 8);
        }
        for r in c.save.iter().rev() {
            self.a.pop(*r);
        }
        // A load returns "left" in RDX, the others in RAX.
        let left = if c.kind == ColdKind::Load { RDX } else { RAX };
        self.a.test_rr(W::B64, left, left);
        let leave = self.leave_label();
        self.a.jcc(Cc::Ne, leave);
        if c.delta > 0 {
            self.a.alu_mi(Alu::Sub, W::B64, icount, i32::from(c.delta));
        }
        if let ColdKind::Interp {
            reload: Some(x), ..
        } = c.kind
        {
            self.a.load(W::B64, RAX, Self::field(ArchRegs::offset_x(x)));
        }
        if c.kind == ColdKind::Load && c.dst != RAX {
            self.a.mov_rr(W::B64, c.dst, RAX);
        }
        // The call clobbered the XMM registers (and may have written V
        // registers): the cache as the fast path leaves it, from memory.
        self.v_load_all(&c.vafter);
        self.a.jmp(c.back);
        Ok(())
    }

    fn check_nothing_live_in_caller_saved(&self, i: usize) -> Result<(), CompileError> {
        if self.live_caller_saved(i, None).is_empty() {
            Ok(())
        } else {
            Err(CompileError::LiveAcrossCall)
        }
    }

    fn bin(&mut self, op: BinOp, w: Width, dst: Tmp, a: Val, b: Val) -> Result<(), CompileError> {
        let xw = xw(w);
        match op {
            BinOp::Add | BinOp::Sub | BinOp::And | BinOp::Or | BinOp::Xor => {
                let alu = match op {
                    BinOp::Add => Alu::Add,
                    BinOp::Sub => Alu::Sub,
                    BinOp::And => Alu::And,
                    BinOp::Or => Alu::Or,
                    _ => Alu::Xor,
                };
                // Straight into the result's register when it has one
                // (a fresh register: neither operand is in it).
                let r = self.dst_reg(dst);
                self.val_into(r, a);
                self.alu_b_into(r, alu, w, b);
                self.def_from(dst, r);
            }
            BinOp::Shl | BinOp::Lshr | BinOp::Ashr | BinOp::Ror => {
                let sh = match op {
                    BinOp::Shl => XShift::Shl,
                    BinOp::Lshr => XShift::Shr,
                    BinOp::Ashr => XShift::Sar,
                    _ => XShift::Ror,
                };
                // Straight into the result's register when it has one (a
                // fresh register: neither operand nor RCX).
                let r = self.dst_reg(dst);
                match b {
                    Val::Imm(i) => {
                        self.val_into(r, a);
                        let amount = (i % u64::from(w.bits())) as u8;
                        if amount == 0 {
                            self.a.mov_rr(xw, r, r);
                        } else {
                            self.a.shift_ri(sh, xw, r, amount);
                        }
                    }
                    Val::T(_) => {
                        // x86 masks the count to 5 or 6 bits: A64's
                        // "modulo the data size".
                        self.val_into(RCX, b);
                        self.val_into(r, a);
                        self.a.shift_cl(sh, xw, r);
                        if w == Width::W32 {
                            // A count of 0 may leave the top half.
                            self.a.mov_rr(W::B32, r, r);
                        }
                    }
                }
                self.def_from(dst, r);
            }
            BinOp::Mul => {
                let r = self.dst_reg(dst);
                self.val_into(r, a);
                let rb = self.val_reg(b, RCX);
                self.a.imul_rr(xw, r, rb);
                self.def_from(dst, r);
            }
            BinOp::UMulHi | BinOp::SMulHi => {
                self.val_into(RAX, a);
                let rb = self.val_reg(b, RCX);
                if op == BinOp::UMulHi {
                    self.a.mul_r(W::B64, rb);
                } else {
                    self.a.imul_r(W::B64, rb);
                }
                self.def_from(dst, RDX);
            }
            BinOp::UDiv | BinOp::SDiv => {
                let zero = self.a.new_label();
                let done = self.a.new_label();
                self.val_into(RCX, b);
                self.val_into(RAX, a);
                self.a.test_rr(xw, RCX, RCX);
                self.a.jcc(Cc::E, zero);
                if op == BinOp::UDiv {
                    self.a.alu_rr(Alu::Xor, W::B32, RDX, RDX);
                    self.a.div_r(xw, RCX);
                } else {
                    // MIN / -1 overflows on x86; A64 gives MIN, which is
                    // what negation gives for every x / -1.
                    let normal = self.a.new_label();
                    self.a.alu_ri(Alu::Cmp, xw, RCX, -1);
                    self.a.jcc(Cc::Ne, normal);
                    self.a.neg(xw, RAX);
                    self.a.jmp(done);
                    self.a.bind(normal)?;
                    self.a.cdq_cqo(xw);
                    self.a.idiv_r(xw, RCX);
                }
                self.a.jmp(done);
                self.a.bind(zero)?;
                self.a.alu_rr(Alu::Xor, W::B32, RAX, RAX);
                self.a.bind(done)?;
                self.def_from(dst, RAX);
            }
        }
        Ok(())
    }

    fn un(&mut self, op: UnOp, w: Width, dst: Tmp, a: Val) {
        let xw = xw(w);
        // Straight into the result's register when it has one (a fresh
        // register, not the operand's).
        let r = self.dst_reg(dst);
        match op {
            UnOp::Not => {
                self.val_into(r, a);
                self.a.not(xw, r);
            }
            UnOp::Rev => {
                self.val_into(r, a);
                self.a.bswap(xw, r);
            }
            UnOp::Sext(bits) | UnOp::Zext(bits) => {
                let src = self.val_reg(a, RAX);
                let from = match bits {
                    8 => W::B8,
                    16 => W::B16,
                    _ => W::B32,
                };
                match (op, from, w) {
                    (UnOp::Zext(_), W::B32, _) | (UnOp::Sext(_), W::B32, Width::W32) => {
                        self.a.mov_rr(W::B32, r, src)
                    }
                    (UnOp::Zext(_), _, _) => self.a.movzx_rr(from, r, src),
                    _ => self.a.movsx_rr(from, xw, r, src),
                }
            }
            UnOp::Clz => {
                // CLZ = (bits - 1) - BSR, with BSR of 0 taken as -1.
                let src = self.val_reg(a, RAX);
                self.a.bsr(xw, RCX, src);
                self.a.mov_ri_keep_flags(RAX, u64::MAX);
                self.a.cmov(xw, Cc::E, RCX, RAX);
                self.a.mov_ri_keep_flags(r, u64::from(w.bits() - 1));
                self.a.alu_rr(Alu::Sub, xw, r, RCX);
            }
        }
        self.def_from(dst, r);
    }
}

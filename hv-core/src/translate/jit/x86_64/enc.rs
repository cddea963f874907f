//! An x86_64 machine-code encoder for the JIT back end.
//!
//! [`Asm`] appends instructions to a byte buffer; [`Asm::finish`] resolves
//! label and absolute-address branches once the code's final address is
//! known. The encoder is pure safe Rust and never panics.
//!
//! ```
//! use hv_core::translate::jit::x86_64::enc::{Alu, Asm, Cc, Mem, Reg, W};
//!
//! // rax = [rdi + 8]; if rax == 0 goto done; rax += 1; done: ret
//! let mut a = Asm::new();
//! let done = a.new_label();
//! a.load(W::B64, Reg::Rax, Mem::base(Reg::Rdi, 8));
//! a.test_rr(W::B64, Reg::Rax, Reg::Rax);
//! a.jcc(Cc::E, done);
//! a.alu_ri(Alu::Add, W::B64, Reg::Rax, 1);
//! a.bind(done).unwrap();
//! a.ret();
//! let code = a.finish(0x1000).unwrap();
//! assert_eq!(code[..4], [0x48, 0x8B, 0x47, 0x08]); // mov rax, [rdi+8]
//! assert_eq!(code.last(), Some(&0xC3));
//! ```
//!
//! # Errors
//!
//! Emitting methods return nothing: an operand combination that x86 cannot
//! encode (e.g. `Rsp` as an index, a scale of 3, `lea` of a byte, an
//! immediate that does not fit the width) is recorded in the [`Asm`] and the
//! first such error is returned by [`Asm::finish`]. This keeps JIT call sites
//! free of `?` on every instruction while still making a bad buffer
//! impossible to use. [`Asm::error`] shows the recorded error early.
//!
//! # Encoding choices
//!
//! * Memory operands always have a base register (no RIP-relative or
//!   absolute forms); `[rbp]`/`[r13]` get a zero disp8, `[rsp]`/`[r12]` a SIB
//!   byte, and the displacement is disp8 when it fits, else disp32.
//! * Byte registers 4..=7 are always `spl`/`bpl`/`sil`/`dil` (a REX prefix is
//!   emitted for them); `ah`/`ch`/`dh`/`bh` are never produced.
//! * A label branch is rel8 only when the label is already bound (a backward
//!   branch) and in range; forward branches are rel32 so no relaxation pass
//!   is needed.

use alloc::vec::Vec;
use core::fmt;

/// x86_64 general-purpose registers by hardware number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Reg {
    /// Register 0 (accumulator; implicit in `mul`/`div`/`cdq`).
    Rax = 0,
    /// Register 1 (implicit shift count `cl`).
    Rcx,
    /// Register 2 (implicit high half in `mul`/`div`).
    Rdx,
    /// Register 3.
    Rbx,
    /// Register 4 (stack pointer; needs a SIB byte as a base).
    Rsp,
    /// Register 5 (needs a displacement as a base).
    Rbp,
    /// Register 6.
    Rsi,
    /// Register 7.
    Rdi,
    /// Register 8.
    R8,
    /// Register 9.
    R9,
    /// Register 10.
    R10,
    /// Register 11.
    R11,
    /// Register 12 (needs a SIB byte as a base, like `Rsp`).
    R12,
    /// Register 13 (needs a displacement as a base, like `Rbp`).
    R13,
    /// Register 14.
    R14,
    /// Register 15.
    R15,
}

impl Reg {
    /// All sixteen registers in hardware order.
    pub const ALL: [Reg; 16] = [
        Reg::Rax,
        Reg::Rcx,
        Reg::Rdx,
        Reg::Rbx,
        Reg::Rsp,
        Reg::Rbp,
        Reg::Rsi,
        Reg::Rdi,
        Reg::R8,
        Reg::R9,
        Reg::R10,
        Reg::R11,
        Reg::R12,
        Reg::R13,
        Reg::R14,
        Reg::R15,
    ];

    /// The 4-bit hardware number.
    pub const fn num(self) -> u8 {
        self as u8
    }

    /// The low three bits (the ModRM/SIB/opcode field).
    const fn low(self) -> u8 {
        self as u8 & 7
    }

    /// The high bit (the REX.R/X/B extension).
    const fn high(self) -> u8 {
        (self as u8 >> 3) & 1
    }

    /// Whether this register as a byte operand needs a REX prefix so that it
    /// means `spl`/`bpl`/`sil`/`dil` rather than `ah`/`ch`/`dh`/`bh`.
    const fn byte_needs_rex(self) -> bool {
        matches!(self as u8, 4..=7)
    }
}

/// Operand width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum W {
    /// 8 bits.
    B8,
    /// 16 bits (0x66 operand-size prefix).
    B16,
    /// 32 bits (writes zero-extend to 64 bits).
    B32,
    /// 64 bits (REX.W).
    B64,
}

impl W {
    /// All widths, narrowest first.
    pub const ALL: [W; 4] = [W::B8, W::B16, W::B32, W::B64];

    /// The width in bits.
    pub const fn bits(self) -> u32 {
        match self {
            W::B8 => 8,
            W::B16 => 16,
            W::B32 => 32,
            W::B64 => 64,
        }
    }
}

/// Condition codes (the x86 `cc` nibble).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Cc {
    /// Overflow (OF=1).
    O = 0,
    /// No overflow (OF=0).
    No,
    /// Below, unsigned (CF=1).
    B,
    /// Above or equal, unsigned (CF=0).
    Ae,
    /// Equal (ZF=1).
    E,
    /// Not equal (ZF=0).
    Ne,
    /// Below or equal, unsigned (CF=1 or ZF=1).
    Be,
    /// Above, unsigned (CF=0 and ZF=0).
    A,
    /// Sign (SF=1).
    S,
    /// No sign (SF=0).
    Ns,
    /// Parity even (PF=1).
    P,
    /// Parity odd (PF=0).
    Np,
    /// Less, signed (SF!=OF).
    L,
    /// Greater or equal, signed (SF=OF).
    Ge,
    /// Less or equal, signed (ZF=1 or SF!=OF).
    Le,
    /// Greater, signed (ZF=0 and SF=OF).
    G,
}

impl Cc {
    /// All sixteen condition codes in encoding order.
    pub const ALL: [Cc; 16] = [
        Cc::O,
        Cc::No,
        Cc::B,
        Cc::Ae,
        Cc::E,
        Cc::Ne,
        Cc::Be,
        Cc::A,
        Cc::S,
        Cc::Ns,
        Cc::P,
        Cc::Np,
        Cc::L,
        Cc::Ge,
        Cc::Le,
        Cc::G,
    ];

    /// The opposite condition (x86 pairs them by the low bit of the nibble).
    pub fn invert(self) -> Cc {
        Cc::ALL[usize::from((self as u8) ^ 1)]
    }
}

/// Two-operand ALU ops in x86 order (the /digit of 0x81/0x83).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alu {
    /// `add`.
    Add,
    /// `or`.
    Or,
    /// `adc` (add with carry).
    Adc,
    /// `sbb` (subtract with borrow).
    Sbb,
    /// `and`.
    And,
    /// `sub`.
    Sub,
    /// `xor`.
    Xor,
    /// `cmp` (a `sub` that only sets flags).
    Cmp,
}

impl Alu {
    /// All ALU ops in encoding order.
    pub const ALL: [Alu; 8] = [
        Alu::Add,
        Alu::Or,
        Alu::Adc,
        Alu::Sbb,
        Alu::And,
        Alu::Sub,
        Alu::Xor,
        Alu::Cmp,
    ];

    /// The /digit, which is also the op's row in the 0x00..0x3F opcode block.
    const fn digit(self) -> u8 {
        self as u8
    }
}

/// Shift/rotate ops (the /digit of 0xC1/0xD3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shift {
    /// Rotate left.
    Rol,
    /// Rotate right.
    Ror,
    /// Shift left.
    Shl,
    /// Logical shift right.
    Shr,
    /// Arithmetic shift right.
    Sar,
}

impl Shift {
    /// All shift ops.
    pub const ALL: [Shift; 5] = [Shift::Rol, Shift::Ror, Shift::Shl, Shift::Shr, Shift::Sar];

    const fn digit(self) -> u8 {
        match self {
            Shift::Rol => 0,
            Shift::Ror => 1,
            Shift::Shl => 4,
            Shift::Shr => 5,
            Shift::Sar => 7,
        }
    }
}

/// A memory operand: `[base + index*scale + disp]`. `index` must not be
/// `Rsp` and the scale must be 1, 2, 4 or 8 (else the instruction records
/// [`EncError::BadOperand`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mem {
    /// The base register.
    pub base: Reg,
    /// The index register and its scale (1, 2, 4 or 8).
    pub index: Option<(Reg, u8)>,
    /// The signed displacement.
    pub disp: i32,
}

impl Mem {
    /// `[base + disp]`.
    pub fn base(base: Reg, disp: i32) -> Mem {
        Mem {
            base,
            index: None,
            disp,
        }
    }

    /// `[base + index*scale + disp]`.
    pub fn indexed(base: Reg, index: Reg, scale: u8, disp: i32) -> Mem {
        Mem {
            base,
            index: Some((index, scale)),
            disp,
        }
    }
}

/// A forward/backward jump target inside one [`Asm`] buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label(u32);

/// Why an [`Asm`] could not produce code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncError {
    /// An operand combination x86 cannot encode (bad width for the
    /// instruction, `Rsp` as index, bad scale, immediate out of range, a
    /// label from another `Asm`).
    BadOperand,
    /// A branch targets a label that was never bound.
    UnboundLabel,
    /// A rel32 cannot reach its target from where the code is placed.
    OutOfRange,
    /// A label was bound twice.
    AlreadyBound,
}

impl fmt::Display for EncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EncError::BadOperand => "operand combination cannot be encoded",
            EncError::UnboundLabel => "branch to an unbound label",
            EncError::OutOfRange => "branch target out of rel32 range",
            EncError::AlreadyBound => "label bound twice",
        })
    }
}

/// What a rel32 field left for [`Asm::finish`] points at.
#[derive(Clone, Copy, Debug)]
enum Target {
    Label(u32),
    Abs(u64),
}

/// A rel32 field to fill in at `finish`.
#[derive(Clone, Copy, Debug)]
struct Fixup {
    /// Offset of the 4-byte field.
    at: usize,
    /// Offset of the end of the instruction (rel32 is relative to it).
    end: usize,
    target: Target,
}

/// Prefix information for one instruction.
#[derive(Clone, Copy, Debug, Default)]
struct Pfx {
    /// 0x66 operand-size prefix.
    p66: bool,
    /// REX.W.
    w: bool,
    /// Emit a REX prefix even when no bit is set (byte registers 4..=7).
    rex: bool,
    /// A byte-sized operation (so register operands are byte registers).
    byte: bool,
    /// A mandatory 0xF2 or 0xF3 prefix of an SSE instruction (0: none).
    rep: u8,
}

impl Pfx {
    /// The prefixes for an operation of width `w`.
    fn of(w: W) -> Pfx {
        Pfx {
            p66: w == W::B16,
            w: w == W::B64,
            rex: false,
            byte: w == W::B8,
            rep: 0,
        }
    }

    /// Marks that `r` is a register operand: for a byte operation,
    /// registers 4..=7 need a bare REX.
    fn byte_reg(mut self, r: Reg) -> Pfx {
        self.rex |= self.byte && r.byte_needs_rex();
        self
    }

    /// Keeps the byte-register REX decided so far but takes the operand
    /// size of `w` (for `movzx`/`movsx` from a byte register).
    fn with_width(self, w: W) -> Pfx {
        Pfx {
            rex: self.rex,
            ..Pfx::of(w)
        }
    }
}

/// An x86_64 assembler buffer.
#[derive(Debug, Default)]
pub struct Asm {
    buf: Vec<u8>,
    /// Bound offset of each label, by label number.
    labels: Vec<Option<usize>>,
    fixups: Vec<Fixup>,
    /// The first error recorded by an emitting method.
    err: Option<EncError>,
}

impl Asm {
    /// An empty buffer.
    pub fn new() -> Asm {
        Asm::default()
    }

    /// An assembler whose buffer starts with room for `bytes` (a block's
    /// code grows by many small pushes).
    pub fn with_capacity(bytes: usize) -> Asm {
        Asm {
            buf: Vec::with_capacity(bytes),
            ..Asm::default()
        }
    }

    /// Bytes emitted so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing has been emitted.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Raw bytes, for tests (label and absolute rel32 fields are still zero).
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The first error recorded so far, which `finish` will return.
    pub fn error(&self) -> Option<EncError> {
        self.err
    }

    fn fail(&mut self, e: EncError) {
        // Keep the first error: later ones are often consequences.
        if self.err.is_none() {
            self.err = Some(e);
        }
    }

    // ---- labels and branches ----

    /// A new, unbound label.
    pub fn new_label(&mut self) -> Label {
        let Ok(n) = u32::try_from(self.labels.len()) else {
            // 4 billion labels: not reachable in practice, but never panic.
            self.fail(EncError::BadOperand);
            return Label(u32::MAX);
        };
        self.labels.push(None);
        Label(n)
    }

    /// Binds `l` to the current offset. Binding twice returns (and records)
    /// [`EncError::AlreadyBound`]; a label of another `Asm` is
    /// [`EncError::BadOperand`].
    pub fn bind(&mut self, l: Label) -> Result<(), EncError> {
        let here = self.buf.len();
        let r = match self.labels.get_mut(l.0 as usize) {
            None => Err(EncError::BadOperand),
            Some(Some(_)) => Err(EncError::AlreadyBound),
            Some(slot @ None) => {
                *slot = Some(here);
                Ok(())
            }
        };
        if let Err(e) = r {
            self.fail(e);
        }
        r
    }

    /// The bound offset of `l`, if any.
    pub fn label_offset(&self, l: Label) -> Option<usize> {
        self.labels.get(l.0 as usize).copied().flatten()
    }

    /// If `l` is bound and within rel8 of an instruction of `len` bytes
    /// starting here, the rel8.
    fn short_rel(&mut self, l: Label, len: usize) -> Option<i8> {
        let Some(slot) = self.labels.get(l.0 as usize) else {
            self.fail(EncError::BadOperand);
            return None;
        };
        let target = (*slot)?;
        let end = self.buf.len() + len;
        let rel = i64::try_from(target).ok()? - i64::try_from(end).ok()?;
        i8::try_from(rel).ok()
    }

    /// Emits a zero rel32 to be filled in by `finish`.
    fn rel32(&mut self, target: Target) {
        let at = self.buf.len();
        self.buf.extend_from_slice(&[0; 4]);
        self.fixups.push(Fixup {
            at,
            end: at + 4,
            target,
        });
    }

    /// `jmp l`: rel8 for a close backward label, else rel32.
    pub fn jmp(&mut self, l: Label) {
        if let Some(rel) = self.short_rel(l, 2) {
            self.buf.extend_from_slice(&[0xEB, rel as u8]);
        } else {
            self.buf.push(0xE9);
            self.rel32(Target::Label(l.0));
        }
    }

    /// `jcc l`: rel8 for a close backward label, else rel32.
    pub fn jcc(&mut self, cc: Cc, l: Label) {
        if let Some(rel) = self.short_rel(l, 2) {
            self.buf.extend_from_slice(&[0x70 | cc as u8, rel as u8]);
        } else {
            self.buf.extend_from_slice(&[0x0F, 0x80 | cc as u8]);
            self.rel32(Target::Label(l.0));
        }
    }

    /// `jmp` to an absolute address outside the buffer (another block, a
    /// shared epilogue); the rel32 is resolved by `finish`.
    pub fn jmp_abs(&mut self, target: u64) {
        self.buf.push(0xE9);
        self.rel32(Target::Abs(target));
    }

    /// `jcc` to an absolute address outside the buffer; rel32 resolved by
    /// `finish`.
    pub fn jcc_abs(&mut self, cc: Cc, target: u64) {
        self.buf.extend_from_slice(&[0x0F, 0x80 | cc as u8]);
        self.rel32(Target::Abs(target));
    }

    /// `call` to an absolute address outside the buffer; rel32 resolved by
    /// `finish`.
    pub fn call_abs(&mut self, target: u64) {
        self.buf.push(0xE8);
        self.rel32(Target::Abs(target));
    }

    /// Resolves labels and absolute targets for code placed at `base` and
    /// returns the code. Fails with the first recorded error, with
    /// [`EncError::UnboundLabel`] for a branch to an unbound label, or with
    /// [`EncError::OutOfRange`] if a rel32 cannot reach its target.
    pub fn finish(mut self, base: u64) -> Result<Vec<u8>, EncError> {
        if let Some(e) = self.err {
            return Err(e);
        }
        for f in &self.fixups {
            // i128 so neither the buffer offset nor the address can overflow.
            let end = i128::from(base) + f.end as i128;
            let target = match f.target {
                Target::Label(n) => match self.labels.get(n as usize).copied().flatten() {
                    Some(off) => i128::from(base) + off as i128,
                    None => return Err(EncError::UnboundLabel),
                },
                Target::Abs(a) => i128::from(a),
            };
            let rel = i32::try_from(target - end).map_err(|_| EncError::OutOfRange)?;
            let field = self
                .buf
                .get_mut(f.at..f.at + 4)
                .ok_or(EncError::OutOfRange)?;
            field.copy_from_slice(&rel.to_le_bytes());
        }
        Ok(self.buf)
    }

    // ---- encoding core ----

    /// Prefixes and opcode; `reg`/`x`/`b` are the REX.R/X/B bits.
    fn head(&mut self, p: Pfx, r: u8, x: u8, b: u8, opc: &[u8]) {
        if p.rep != 0 {
            self.buf.push(p.rep);
        }
        if p.p66 {
            // The operand-size prefix must come before REX.
            self.buf.push(0x66);
        }
        let rex = 0x40 | (u8::from(p.w) << 3) | (r << 2) | (x << 1) | b;
        if rex != 0x40 || p.rex {
            self.buf.push(rex);
        }
        // Byte by byte: a copy of an unknown (1..3 byte) length is a call.
        for &b in opc {
            self.buf.push(b);
        }
    }

    /// `opc` with a register-direct ModRM: `reg` is a register number or a
    /// /digit (0..=15), `rm` the register operand.
    fn op_rr(&mut self, p: Pfx, opc: &[u8], reg: u8, rm: Reg) {
        self.head(p, (reg >> 3) & 1, 0, rm.high(), opc);
        self.buf.push(0xC0 | ((reg & 7) << 3) | rm.low());
    }

    /// `opc` with a memory ModRM (+SIB, +disp).
    fn op_rm(&mut self, p: Pfx, opc: &[u8], reg: u8, m: Mem) {
        let index = match m.index {
            None => None,
            Some((Reg::Rsp, _)) => {
                // SIB index 100 means "no index": rsp cannot be one.
                self.fail(EncError::BadOperand);
                return;
            }
            Some((i, s)) => {
                let ss = match s {
                    1 => 0,
                    2 => 1,
                    4 => 2,
                    8 => 3,
                    _ => {
                        self.fail(EncError::BadOperand);
                        return;
                    }
                };
                Some((i, ss))
            }
        };
        let x = index.map_or(0, |(i, _)| i.high());
        self.head(p, (reg >> 3) & 1, x, m.base.high(), opc);
        // mod 00 with base rbp/r13 means RIP-relative / disp32-only, so
        // those bases always carry a displacement.
        let (md, disp8) = if m.disp == 0 && m.base.low() != 5 {
            (0u8, false)
        } else if i8::try_from(m.disp).is_ok() {
            (1, true)
        } else {
            (2, false)
        };
        let reg = (reg & 7) << 3;
        if index.is_some() || m.base.low() == 4 {
            // rsp/r12 as rm means "SIB follows", so they need a SIB byte.
            self.buf.push((md << 6) | reg | 4);
            let (ix, ss) = index.map_or((4, 0), |(i, ss)| (i.low(), ss));
            self.buf.push((ss << 6) | (ix << 3) | m.base.low());
        } else {
            self.buf.push((md << 6) | reg | m.base.low());
        }
        match md {
            0 => {}
            1 if disp8 => self.buf.push(m.disp as u8),
            _ => self.buf.extend_from_slice(&m.disp.to_le_bytes()),
        }
    }

    /// Appends an immediate of width `w` (imm16 for B16, imm32 for B32/B64),
    /// recording `BadOperand` if `imm` does not fit (either signed or
    /// unsigned) in the field.
    fn imm(&mut self, w: W, imm: i64) {
        match w {
            W::B8 if (-0x80..=0xFF).contains(&imm) => self.buf.push(imm as u8),
            W::B16 if (-0x8000..=0xFFFF).contains(&imm) => {
                self.buf.extend_from_slice(&(imm as u16).to_le_bytes())
            }
            W::B32 | W::B64 if i32::try_from(imm).is_ok() || u32::try_from(imm).is_ok() => {
                self.buf.extend_from_slice(&(imm as u32).to_le_bytes())
            }
            _ => self.fail(EncError::BadOperand),
        }
    }

    /// Records `BadOperand` unless `ok`; returns `ok`.
    fn check(&mut self, ok: bool) -> bool {
        if !ok {
            self.fail(EncError::BadOperand);
        }
        ok
    }

    /// The opcode for width `w` where the byte form is `byte_opc` and the
    /// wider forms are `byte_opc + 1` (most of the one-byte map).
    fn sized_opc(w: W, byte_opc: u8) -> u8 {
        if w == W::B8 {
            byte_opc
        } else {
            byte_opc | 1
        }
    }

    // ---- moves ----

    /// `mov dst, src`. `W::B32` zero-extends into the 64-bit register.
    pub fn mov_rr(&mut self, w: W, dst: Reg, src: Reg) {
        let p = Pfx::of(w).byte_reg(dst).byte_reg(src);
        self.op_rr(p, &[Self::sized_opc(w, 0x88)], src.num(), dst);
    }

    /// `dst = imm` in the shortest form: `xor r32, r32` for 0 (clobbers the
    /// flags; see [`Asm::mov_ri_keep_flags`]), `mov r32, imm32` when it fits
    /// `u32`, `mov r64, simm32` when it fits sign-extended, else `movabs`.
    pub fn mov_ri(&mut self, dst: Reg, imm: u64) {
        if imm == 0 {
            self.op_rr(Pfx::default(), &[0x31], dst.num(), dst);
        } else {
            self.mov_ri_keep_flags(dst, imm);
        }
    }

    /// `dst = imm` without touching the flags (never `xor`).
    pub fn mov_ri_keep_flags(&mut self, dst: Reg, imm: u64) {
        if let Ok(v) = u32::try_from(imm) {
            self.head(Pfx::default(), 0, 0, dst.high(), &[0xB8 | dst.low()]);
            self.buf.extend_from_slice(&v.to_le_bytes());
        } else if let Ok(v) = i32::try_from(imm as i64) {
            self.op_rr(Pfx::of(W::B64), &[0xC7], 0, dst);
            self.buf.extend_from_slice(&v.to_le_bytes());
        } else {
            self.head(Pfx::of(W::B64), 0, 0, dst.high(), &[0xB8 | dst.low()]);
            self.buf.extend_from_slice(&imm.to_le_bytes());
        }
    }

    /// Load: B8/B16 zero-extend (`movzx r32`), B32 `mov r32` (zero-extends
    /// to 64), B64 `mov r64`.
    pub fn load(&mut self, w: W, dst: Reg, m: Mem) {
        match w {
            W::B8 => self.op_rm(Pfx::default(), &[0x0F, 0xB6], dst.num(), m),
            W::B16 => self.op_rm(Pfx::default(), &[0x0F, 0xB7], dst.num(), m),
            W::B32 | W::B64 => self.op_rm(Pfx::of(w), &[0x8B], dst.num(), m),
        }
    }

    /// Sign-extending load (`movsx`/`movsxd`) of `from` bits into a `to`
    /// register; `to` must be B32 or B64 and wider than `from`.
    pub fn load_sx(&mut self, from: W, to: W, dst: Reg, m: Mem) {
        let Some(opc) = Self::movsx_opc(from, to) else {
            self.fail(EncError::BadOperand);
            return;
        };
        self.op_rm(Pfx::of(to), opc, dst.num(), m);
    }

    fn movsx_opc(from: W, to: W) -> Option<&'static [u8]> {
        match (from, to) {
            (W::B8, W::B32 | W::B64) => Some(&[0x0F, 0xBE]),
            (W::B16, W::B32 | W::B64) => Some(&[0x0F, 0xBF]),
            (W::B32, W::B64) => Some(&[0x63]),
            _ => None,
        }
    }

    /// Store the low `w` bits of `src` to `m`.
    pub fn store(&mut self, w: W, m: Mem, src: Reg) {
        let p = Pfx::of(w).byte_reg(src);
        self.op_rm(p, &[Self::sized_opc(w, 0x88)], src.num(), m);
    }

    /// `mov m, imm`: imm8/imm16/imm32 by width (B64 sign-extends the imm32).
    /// B8 and B16 accept `imm` in the signed or unsigned range of the width.
    pub fn store_i(&mut self, w: W, m: Mem, imm: i32) {
        self.op_rm(Pfx::of(w), &[Self::sized_opc(w, 0xC6)], 0, m);
        self.imm(w, i64::from(imm));
    }

    /// Zero-extends the low `from` bits of `src` into `dst`: `movzx r32` for
    /// B8/B16, and (as a convenience) `mov r32, r32` for B32. B64 is
    /// `BadOperand`.
    pub fn movzx_rr(&mut self, from: W, dst: Reg, src: Reg) {
        match from {
            W::B8 => self.op_rr(
                Pfx::of(W::B8).byte_reg(src).with_width(W::B32),
                &[0x0F, 0xB6],
                dst.num(),
                src,
            ),
            W::B16 => self.op_rr(Pfx::default(), &[0x0F, 0xB7], dst.num(), src),
            W::B32 => self.mov_rr(W::B32, dst, src),
            W::B64 => self.fail(EncError::BadOperand),
        }
    }

    /// `movzx dst32, ah` (bits 15:8 of RAX; `dst` must be one of the
    /// first four registers, as AH cannot be encoded with a REX prefix).
    pub fn movzx_ah(&mut self, dst: Reg) {
        if self.check(dst.num() < 4) {
            self.buf
                .extend_from_slice(&[0x0F, 0xB6, 0xC0 | (dst.low() << 3) | 4]);
        }
    }

    /// Sign-extends B8/B16/B32 `src` into a B32/B64 `dst` (`movsx`,
    /// `movsxd` for B32 -> B64); `to` must be wider than `from`.
    pub fn movsx_rr(&mut self, from: W, to: W, dst: Reg, src: Reg) {
        let Some(opc) = Self::movsx_opc(from, to) else {
            self.fail(EncError::BadOperand);
            return;
        };
        let p = Pfx::of(from).byte_reg(src).with_width(to);
        self.op_rr(p, opc, dst.num(), src);
    }

    /// `lea dst, [m]` (B32 or B64).
    pub fn lea(&mut self, w: W, dst: Reg, m: Mem) {
        if self.check(matches!(w, W::B32 | W::B64)) {
            self.op_rm(Pfx::of(w), &[0x8D], dst.num(), m);
        }
    }

    /// `cmovcc dst, src` (B16, B32 or B64).
    pub fn cmov(&mut self, w: W, cc: Cc, dst: Reg, src: Reg) {
        if self.check(w != W::B8) {
            self.op_rr(Pfx::of(w), &[0x0F, 0x40 | cc as u8], dst.num(), src);
        }
    }

    /// `setcc dst8` (writes only the low byte of `dst`).
    pub fn setcc(&mut self, cc: Cc, dst: Reg) {
        self.op_rr(
            Pfx::of(W::B8).byte_reg(dst),
            &[0x0F, 0x90 | cc as u8],
            0,
            dst,
        );
    }

    // ---- ALU (all widths) ----

    /// `op dst, src` at any width.
    pub fn alu_rr(&mut self, op: Alu, w: W, dst: Reg, src: Reg) {
        let p = Pfx::of(w).byte_reg(dst).byte_reg(src);
        let opc = Self::sized_opc(w, op.digit() << 3);
        self.op_rr(p, &[opc], src.num(), dst);
    }

    /// The opcode and immediate width of the group-1 immediate form: imm8
    /// (0x83) when `imm` fits sign-extended, else the full width.
    fn alu_imm_form(w: W, imm: i32) -> (u8, W) {
        if w == W::B8 {
            (0x80, W::B8)
        } else if i8::try_from(imm).is_ok() {
            (0x83, W::B8)
        } else {
            (0x81, w)
        }
    }

    /// `op dst, imm` at any width; imm8 form when it fits. B8/B16 accept the
    /// signed or unsigned range of the width; B64 sign-extends the imm32.
    pub fn alu_ri(&mut self, op: Alu, w: W, dst: Reg, imm: i32) {
        let (opc, iw) = Self::alu_imm_form(w, imm);
        self.op_rr(Pfx::of(w).byte_reg(dst), &[opc], op.digit(), dst);
        self.imm(iw, i64::from(imm));
    }

    /// `op dst, [m]` at any width.
    pub fn alu_rm(&mut self, op: Alu, w: W, dst: Reg, m: Mem) {
        let p = Pfx::of(w).byte_reg(dst);
        let opc = Self::sized_opc(w, (op.digit() << 3) | 2);
        self.op_rm(p, &[opc], dst.num(), m);
    }

    /// `op [m], src` at any width.
    pub fn alu_mr(&mut self, op: Alu, w: W, m: Mem, src: Reg) {
        let p = Pfx::of(w).byte_reg(src);
        let opc = Self::sized_opc(w, op.digit() << 3);
        self.op_rm(p, &[opc], src.num(), m);
    }

    /// `op [m], imm` at any width; imm8 form when it fits.
    pub fn alu_mi(&mut self, op: Alu, w: W, m: Mem, imm: i32) {
        let (opc, iw) = Self::alu_imm_form(w, imm);
        self.op_rm(Pfx::of(w), &[opc], op.digit(), m);
        self.imm(iw, i64::from(imm));
    }

    /// `test a, b` at any width.
    pub fn test_rr(&mut self, w: W, a: Reg, b: Reg) {
        let p = Pfx::of(w).byte_reg(a).byte_reg(b);
        self.op_rr(p, &[Self::sized_opc(w, 0x84)], b.num(), a);
    }

    /// The immediate of `test` at width `w`: B64 sign-extends an imm32, so
    /// a mask above `i32::MAX` cannot be encoded there (`BadOperand`).
    fn test_imm(&mut self, w: W, imm: u32) {
        let ok = match w {
            W::B8 => imm <= 0xFF,
            W::B16 => imm <= 0xFFFF,
            W::B32 => true,
            W::B64 => imm <= i32::MAX as u32,
        };
        if self.check(ok) {
            self.imm(w, i64::from(imm));
        }
    }

    /// `test a, imm` (the mask must fit the width; B64 takes at most
    /// `i32::MAX` because the imm32 is sign-extended).
    pub fn test_ri(&mut self, w: W, a: Reg, imm: u32) {
        self.op_rr(Pfx::of(w).byte_reg(a), &[Self::sized_opc(w, 0xF6)], 0, a);
        self.test_imm(w, imm);
    }

    /// `test [m], imm` (same immediate rules as [`Asm::test_ri`]).
    pub fn test_mi(&mut self, w: W, m: Mem, imm: u32) {
        self.op_rm(Pfx::of(w), &[Self::sized_opc(w, 0xF6)], 0, m);
        self.test_imm(w, imm);
    }

    /// `op dst, amount` at any width (the hardware masks the amount; 1 uses
    /// the short 0xD0/0xD1 form).
    pub fn shift_ri(&mut self, op: Shift, w: W, dst: Reg, amount: u8) {
        let p = Pfx::of(w).byte_reg(dst);
        if amount == 1 {
            self.op_rr(p, &[Self::sized_opc(w, 0xD0)], op.digit(), dst);
        } else {
            self.op_rr(p, &[Self::sized_opc(w, 0xC0)], op.digit(), dst);
            self.buf.push(amount);
        }
    }

    /// `op dst, cl` at any width.
    pub fn shift_cl(&mut self, op: Shift, w: W, dst: Reg) {
        let p = Pfx::of(w).byte_reg(dst);
        self.op_rr(p, &[Self::sized_opc(w, 0xD2)], op.digit(), dst);
    }

    /// `shld dst, src, amount` (B16, B32 or B64).
    pub fn shld_ri(&mut self, w: W, dst: Reg, src: Reg, amount: u8) {
        if self.check(w != W::B8) {
            self.op_rr(Pfx::of(w), &[0x0F, 0xA4], src.num(), dst);
            self.buf.push(amount);
        }
    }

    /// `shrd dst, src, amount` (B16, B32 or B64).
    pub fn shrd_ri(&mut self, w: W, dst: Reg, src: Reg, amount: u8) {
        if self.check(w != W::B8) {
            self.op_rr(Pfx::of(w), &[0x0F, 0xAC], src.num(), dst);
            self.buf.push(amount);
        }
    }

    /// A group-3 (0xF6/0xF7) single-register op.
    fn grp3(&mut self, digit: u8, w: W, r: Reg) {
        self.op_rr(
            Pfx::of(w).byte_reg(r),
            &[Self::sized_opc(w, 0xF6)],
            digit,
            r,
        );
    }

    /// `not r` at any width.
    pub fn not(&mut self, w: W, r: Reg) {
        self.grp3(2, w, r);
    }

    /// `neg r` at any width.
    pub fn neg(&mut self, w: W, r: Reg) {
        self.grp3(3, w, r);
    }

    /// Two-operand `imul dst, src` (B16, B32 or B64).
    pub fn imul_rr(&mut self, w: W, dst: Reg, src: Reg) {
        if self.check(w != W::B8) {
            self.op_rr(Pfx::of(w), &[0x0F, 0xAF], dst.num(), src);
        }
    }

    /// One-operand unsigned `mul src` (rdx:rax = rax * src; B8: ax = al * src).
    pub fn mul_r(&mut self, w: W, src: Reg) {
        self.grp3(4, w, src);
    }

    /// One-operand signed `imul src` (rdx:rax = rax * src).
    pub fn imul_r(&mut self, w: W, src: Reg) {
        self.grp3(5, w, src);
    }

    /// Unsigned `div src` (rax = rdx:rax / src, rdx = remainder).
    pub fn div_r(&mut self, w: W, src: Reg) {
        self.grp3(6, w, src);
    }

    /// Signed `idiv src` (rax = rdx:rax / src, rdx = remainder).
    pub fn idiv_r(&mut self, w: W, src: Reg) {
        self.grp3(7, w, src);
    }

    /// Sign-extends rax into rdx: `cwd` (B16), `cdq` (B32), `cqo` (B64).
    /// B8 is `BadOperand`.
    pub fn cdq_cqo(&mut self, w: W) {
        if self.check(w != W::B8) {
            self.head(Pfx::of(w), 0, 0, 0, &[0x99]);
        }
    }

    /// `bswap r` (B32 or B64; 16-bit bswap is undefined).
    pub fn bswap(&mut self, w: W, r: Reg) {
        if self.check(matches!(w, W::B32 | W::B64)) {
            self.head(Pfx::of(w), 0, 0, r.high(), &[0x0F, 0xC8 | r.low()]);
        }
    }

    /// `bsr dst, src` (B16, B32 or B64; dst is undefined when src is 0).
    pub fn bsr(&mut self, w: W, dst: Reg, src: Reg) {
        if self.check(w != W::B8) {
            self.op_rr(Pfx::of(w), &[0x0F, 0xBD], dst.num(), src);
        }
    }

    /// `bsf dst, src` (B16, B32 or B64; dst is undefined when src is 0).
    pub fn bsf(&mut self, w: W, dst: Reg, src: Reg) {
        if self.check(w != W::B8) {
            self.op_rr(Pfx::of(w), &[0x0F, 0xBC], dst.num(), src);
        }
    }

    /// `bt r, bit` (B16, B32 or B64): CF = that bit.
    pub fn bt_ri(&mut self, w: W, r: Reg, bit: u8) {
        if self.check(w != W::B8) {
            self.op_rr(Pfx::of(w), &[0x0F, 0xBA], 4, r);
            self.buf.push(bit);
        }
    }

    /// `bt r, bit` with the bit number in a register (B16, B32 or B64).
    pub fn bt_rr(&mut self, w: W, r: Reg, bit: Reg) {
        if self.check(w != W::B8) {
            self.op_rr(Pfx::of(w), &[0x0F, 0xA3], bit.num(), r);
        }
    }

    /// `xchg a, b` at any width (always the ModRM form, so `xchg eax, eax`
    /// really zero-extends instead of being `nop`).
    pub fn xchg_rr(&mut self, w: W, a: Reg, b: Reg) {
        let p = Pfx::of(w).byte_reg(a).byte_reg(b);
        self.op_rr(p, &[Self::sized_opc(w, 0x86)], b.num(), a);
    }

    // ---- stack and control ----

    /// `push r` (64-bit).
    pub fn push(&mut self, r: Reg) {
        self.head(Pfx::default(), 0, 0, r.high(), &[0x50 | r.low()]);
    }

    /// `pop r` (64-bit).
    pub fn pop(&mut self, r: Reg) {
        self.head(Pfx::default(), 0, 0, r.high(), &[0x58 | r.low()]);
    }

    /// `call r` (64-bit indirect).
    pub fn call_r(&mut self, r: Reg) {
        self.op_rr(Pfx::default(), &[0xFF], 2, r);
    }

    /// `jmp r` (64-bit indirect).
    pub fn jmp_r(&mut self, r: Reg) {
        self.op_rr(Pfx::default(), &[0xFF], 4, r);
    }

    /// `jmp qword [m]` (64-bit indirect through memory).
    pub fn jmp_m(&mut self, m: Mem) {
        self.op_rm(Pfx::default(), &[0xFF], 4, m);
    }

    /// `ret`.
    pub fn ret(&mut self) {
        self.buf.push(0xC3);
    }

    /// `lahf` (ah = SF:ZF:0:AF:0:PF:1:CF).
    pub fn lahf(&mut self) {
        self.buf.push(0x9F);
    }

    /// `sahf` (flags from ah).
    pub fn sahf(&mut self) {
        self.buf.push(0x9E);
    }

    /// `cmc` (complement CF).
    pub fn cmc(&mut self) {
        self.buf.push(0xF5);
    }

    /// `stc` (set CF).
    pub fn stc(&mut self) {
        self.buf.push(0xF9);
    }

    /// `clc` (clear CF).
    pub fn clc(&mut self) {
        self.buf.push(0xF8);
    }

    /// `ud2` (guaranteed invalid opcode).
    pub fn ud2(&mut self) {
        self.buf.extend_from_slice(&[0x0F, 0x0B]);
    }

    /// `int3` (breakpoint).
    pub fn int3(&mut self) {
        self.buf.push(0xCC);
    }

    /// One-byte `nop`.
    pub fn nop(&mut self) {
        self.buf.push(0x90);
    }

    // ---- SSE ----

    /// `op dst, src` with both operands SSE registers.
    pub fn sse_rr(&mut self, op: Sse, dst: Xmm, src: Xmm) {
        let (p, opc) = op.encoding();
        self.head(p, dst.high(), 0, src.high(), opc);
        self.buf.push(0xC0 | (dst.low() << 3) | src.low());
    }

    /// `op dst, m` (the memory operand's size is the operation's).
    pub fn sse_rm(&mut self, op: Sse, dst: Xmm, m: Mem) {
        let (p, opc) = op.encoding();
        self.op_rm(p, opc, dst.0 & 15, m);
    }

    /// `movups m, src`: store 16 bytes (no alignment needed).
    pub fn movups_store(&mut self, m: Mem, src: Xmm) {
        self.op_rm(Pfx::default(), &[0x0F, 0x11], src.0 & 15, m);
    }

    /// `movq m, src`: store the low 8 bytes.
    pub fn movq_store(&mut self, m: Mem, src: Xmm) {
        let p = Pfx {
            p66: true,
            ..Pfx::default()
        };
        self.op_rm(p, &[0x0F, 0xD6], src.0 & 15, m);
    }

    /// `op x, amount`: a shift of every lane (or of the whole register, in
    /// bytes, for `Psrldq`/`Pslldq`) by an immediate.
    pub fn sse_shift(&mut self, op: SseShift, x: Xmm, amount: u8) {
        let p = Pfx {
            p66: true,
            ..Pfx::default()
        };
        let (opc, digit) = op.encoding();
        self.head(p, 0, 0, x.high(), &[0x0F, opc]);
        self.buf.push(0xC0 | (digit << 3) | x.low());
        self.buf.push(amount);
    }

    /// `op dst, src, imm`: `pshufd`, `pshuflw` or `pshufhw`.
    pub fn sse_shuffle(&mut self, op: SseShuffle, dst: Xmm, src: Xmm, imm: u8) {
        let rep = match op {
            SseShuffle::Pshufd => 0,
            SseShuffle::Pshuflw => 0xF2,
            SseShuffle::Pshufhw => 0xF3,
        };
        let p = Pfx {
            p66: op == SseShuffle::Pshufd,
            rep,
            ..Pfx::default()
        };
        self.head(p, dst.high(), 0, src.high(), &[0x0F, 0x70]);
        self.buf.push(0xC0 | (dst.low() << 3) | src.low());
        self.buf.push(imm);
    }

    /// `movd`/`movq dst, src`: the low 32 (`W::B32`) or 64 bits of an SSE
    /// register to a general register (zero-extended to 64).
    pub fn mov_from_xmm(&mut self, w: W, dst: Reg, src: Xmm) {
        self.movd_movq(w, 0x7E, src, dst);
    }

    /// `movd`/`movq dst, src`: a general register's low 32 (`W::B32`) or
    /// 64 bits to an SSE register, the rest of it zeroed.
    pub fn mov_to_xmm(&mut self, w: W, dst: Xmm, src: Reg) {
        self.movd_movq(w, 0x6E, dst, src);
    }

    /// `cvtsi2sd`/`cvtsi2ss dst, src` (`double`): the signed 32- or 64-bit
    /// integer in `src` to FP in the low lane of `dst` (the rest kept),
    /// rounded per MXCSR.
    pub fn cvt_from_int(&mut self, double: bool, w: W, dst: Xmm, src: Reg) {
        self.cvt(double, w, 0x2A, dst.0, src);
    }

    /// `cvttsd2si`/`cvttss2si dst, src` (`double`): the low lane of `src`
    /// to a signed 32- or 64-bit integer, truncated; out of range and NaN
    /// give the "integer indefinite" (only the sign bit set).
    pub fn cvt_to_int(&mut self, double: bool, w: W, dst: Reg, src: Xmm) {
        self.cvt(
            double,
            w,
            0x2C,
            dst.num(),
            Reg::ALL[usize::from(src.0 & 15)],
        );
    }

    /// F2/F3 [REX.W] 0F `opc` /r, register to register: `reg` is the
    /// ModRM.reg number (an SSE or general register), `rm` the other.
    fn cvt(&mut self, double: bool, w: W, opc: u8, reg: u8, rm: Reg) {
        if !self.check(matches!(w, W::B32 | W::B64)) {
            return;
        }
        let p = Pfx {
            rep: if double { 0xF2 } else { 0xF3 },
            w: w == W::B64,
            ..Pfx::default()
        };
        self.op_rr(p, &[0x0F, opc], reg & 15, rm);
    }

    /// 66 [REX.W] 0F `opc` /r with the SSE register in ModRM.reg and the
    /// general register in ModRM.rm.
    fn movd_movq(&mut self, w: W, opc: u8, x: Xmm, r: Reg) {
        if !self.check(matches!(w, W::B32 | W::B64)) {
            return;
        }
        let p = Pfx {
            p66: true,
            w: w == W::B64,
            ..Pfx::default()
        };
        self.head(p, x.high(), 0, r.high(), &[0x0F, opc]);
        self.buf.push(0xC0 | (x.low() << 3) | r.low());
    }
}

/// An SSE register, `xmm0`..`xmm15`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Xmm(pub u8);

impl Xmm {
    const fn low(self) -> u8 {
        self.0 & 7
    }

    const fn high(self) -> u8 {
        (self.0 >> 3) & 1
    }
}

/// SSE2 shifts by an immediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SseShift {
    /// `psrlw`.
    Psrlw,
    /// `psraw`.
    Psraw,
    /// `psllw`.
    Psllw,
    /// `psrld`.
    Psrld,
    /// `psrad`.
    Psrad,
    /// `pslld`.
    Pslld,
    /// `psrlq`.
    Psrlq,
    /// `psllq`.
    Psllq,
    /// `psrldq`: the whole register right, in bytes.
    Psrldq,
    /// `pslldq`: the whole register left, in bytes.
    Pslldq,
}

impl SseShift {
    /// Every shift.
    pub const ALL: [SseShift; 10] = [
        SseShift::Psrlw,
        SseShift::Psraw,
        SseShift::Psllw,
        SseShift::Psrld,
        SseShift::Psrad,
        SseShift::Pslld,
        SseShift::Psrlq,
        SseShift::Psllq,
        SseShift::Psrldq,
        SseShift::Pslldq,
    ];

    /// The opcode (after 66 0F) and the /digit.
    fn encoding(self) -> (u8, u8) {
        match self {
            SseShift::Psrlw => (0x71, 2),
            SseShift::Psraw => (0x71, 4),
            SseShift::Psllw => (0x71, 6),
            SseShift::Psrld => (0x72, 2),
            SseShift::Psrad => (0x72, 4),
            SseShift::Pslld => (0x72, 6),
            SseShift::Psrlq => (0x73, 2),
            SseShift::Psllq => (0x73, 6),
            SseShift::Psrldq => (0x73, 3),
            SseShift::Pslldq => (0x73, 7),
        }
    }
}

/// SSE2 shuffles with an immediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SseShuffle {
    /// `pshufd`: dwords.
    Pshufd,
    /// `pshuflw`: the low four words.
    Pshuflw,
    /// `pshufhw`: the high four words.
    Pshufhw,
}

/// SSE/SSE2 operations of the form `op xmm, xmm/m`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sse {
    /// `movq`: 64 bits in, the upper half zeroed.
    Movq,
    /// `movd`: 32 bits in, the rest zeroed.
    Movd,
    /// `movups`: 16 bytes in.
    Movups,
    /// `movss`: the low 4 bytes (from memory: the rest zeroed; from a
    /// register: the rest kept).
    Movss,
    /// `addsd`.
    Addsd,
    /// `subsd`.
    Subsd,
    /// `mulsd`.
    Mulsd,
    /// `divsd`.
    Divsd,
    /// `addss`.
    Addss,
    /// `subss`.
    Subss,
    /// `mulss`.
    Mulss,
    /// `divss`.
    Divss,
    /// `ucomisd`: unordered compare of doubles into ZF, PF, CF.
    Ucomisd,
    /// `ucomiss`: the same for singles.
    Ucomiss,
    /// `xorps`.
    Xorps,
    /// `pand`.
    Pand,
    /// `pandn`: dst = !dst & src.
    Pandn,
    /// `por`.
    Por,
    /// `pxor`.
    Pxor,
    /// `pcmpeqb`.
    Pcmpeqb,
    /// `pcmpeqw`.
    Pcmpeqw,
    /// `pcmpeqd`.
    Pcmpeqd,
    /// `paddb`.
    Paddb,
    /// `paddw`.
    Paddw,
    /// `paddd`.
    Paddd,
    /// `paddq`.
    Paddq,
    /// `psubb`.
    Psubb,
    /// `psubw`.
    Psubw,
    /// `psubd`.
    Psubd,
    /// `psubq`.
    Psubq,
    /// `punpcklbw`.
    Punpcklbw,
    /// `punpcklwd`.
    Punpcklwd,
    /// `punpckldq`.
    Punpckldq,
    /// `pcmpgtb`.
    Pcmpgtb,
    /// `pcmpgtw`.
    Pcmpgtw,
    /// `pcmpgtd`.
    Pcmpgtd,
    /// `sqrtsd`.
    Sqrtsd,
    /// `sqrtss`.
    Sqrtss,
    /// `cvtss2sd`: single to double.
    Cvtss2sd,
    /// `cvtsd2ss`: double to single, rounded per MXCSR.
    Cvtsd2ss,
    /// `maxsd`.
    Maxsd,
    /// `maxss`.
    Maxss,
    /// `minsd`.
    Minsd,
    /// `minss`.
    Minss,
    /// `addps`.
    Addps,
    /// `addpd`.
    Addpd,
    /// `subps`.
    Subps,
    /// `subpd`.
    Subpd,
    /// `mulps`.
    Mulps,
    /// `mulpd`.
    Mulpd,
    /// `divps`.
    Divps,
    /// `divpd`.
    Divpd,
}

impl Sse {
    /// Every operation.
    pub const ALL: [Sse; 52] = [
        Sse::Movq,
        Sse::Movd,
        Sse::Movups,
        Sse::Movss,
        Sse::Addsd,
        Sse::Subsd,
        Sse::Mulsd,
        Sse::Divsd,
        Sse::Addss,
        Sse::Subss,
        Sse::Mulss,
        Sse::Divss,
        Sse::Ucomisd,
        Sse::Ucomiss,
        Sse::Xorps,
        Sse::Pand,
        Sse::Pandn,
        Sse::Por,
        Sse::Pxor,
        Sse::Pcmpeqb,
        Sse::Pcmpeqw,
        Sse::Pcmpeqd,
        Sse::Paddb,
        Sse::Paddw,
        Sse::Paddd,
        Sse::Paddq,
        Sse::Psubb,
        Sse::Psubw,
        Sse::Psubd,
        Sse::Psubq,
        Sse::Punpcklbw,
        Sse::Punpcklwd,
        Sse::Punpckldq,
        Sse::Pcmpgtb,
        Sse::Pcmpgtw,
        Sse::Pcmpgtd,
        Sse::Sqrtsd,
        Sse::Sqrtss,
        Sse::Cvtss2sd,
        Sse::Cvtsd2ss,
        Sse::Maxsd,
        Sse::Maxss,
        Sse::Minsd,
        Sse::Minss,
        Sse::Addps,
        Sse::Addpd,
        Sse::Subps,
        Sse::Subpd,
        Sse::Mulps,
        Sse::Mulpd,
        Sse::Divps,
        Sse::Divpd,
    ];

    /// The mandatory prefix and the opcode.
    fn encoding(self) -> (Pfx, &'static [u8]) {
        let rep = |rep| Pfx {
            rep,
            ..Pfx::default()
        };
        let p66 = Pfx {
            p66: true,
            ..Pfx::default()
        };
        match self {
            Sse::Movq => (rep(0xF3), &[0x0F, 0x7E]),
            Sse::Movd => (p66, &[0x0F, 0x6E]),
            Sse::Movups => (Pfx::default(), &[0x0F, 0x10]),
            Sse::Movss => (rep(0xF3), &[0x0F, 0x10]),
            Sse::Addsd => (rep(0xF2), &[0x0F, 0x58]),
            Sse::Subsd => (rep(0xF2), &[0x0F, 0x5C]),
            Sse::Mulsd => (rep(0xF2), &[0x0F, 0x59]),
            Sse::Divsd => (rep(0xF2), &[0x0F, 0x5E]),
            Sse::Addss => (rep(0xF3), &[0x0F, 0x58]),
            Sse::Subss => (rep(0xF3), &[0x0F, 0x5C]),
            Sse::Mulss => (rep(0xF3), &[0x0F, 0x59]),
            Sse::Divss => (rep(0xF3), &[0x0F, 0x5E]),
            Sse::Ucomisd => (p66, &[0x0F, 0x2E]),
            Sse::Ucomiss => (Pfx::default(), &[0x0F, 0x2E]),
            Sse::Xorps => (Pfx::default(), &[0x0F, 0x57]),
            Sse::Pand => (p66, &[0x0F, 0xDB]),
            Sse::Pandn => (p66, &[0x0F, 0xDF]),
            Sse::Por => (p66, &[0x0F, 0xEB]),
            Sse::Pxor => (p66, &[0x0F, 0xEF]),
            Sse::Pcmpeqb => (p66, &[0x0F, 0x74]),
            Sse::Pcmpeqw => (p66, &[0x0F, 0x75]),
            Sse::Pcmpeqd => (p66, &[0x0F, 0x76]),
            Sse::Paddb => (p66, &[0x0F, 0xFC]),
            Sse::Paddw => (p66, &[0x0F, 0xFD]),
            Sse::Paddd => (p66, &[0x0F, 0xFE]),
            Sse::Paddq => (p66, &[0x0F, 0xD4]),
            Sse::Psubb => (p66, &[0x0F, 0xF8]),
            Sse::Psubw => (p66, &[0x0F, 0xF9]),
            Sse::Psubd => (p66, &[0x0F, 0xFA]),
            Sse::Psubq => (p66, &[0x0F, 0xFB]),
            Sse::Punpcklbw => (p66, &[0x0F, 0x60]),
            Sse::Punpcklwd => (p66, &[0x0F, 0x61]),
            Sse::Punpckldq => (p66, &[0x0F, 0x62]),
            Sse::Pcmpgtb => (p66, &[0x0F, 0x64]),
            Sse::Pcmpgtw => (p66, &[0x0F, 0x65]),
            Sse::Pcmpgtd => (p66, &[0x0F, 0x66]),
            Sse::Sqrtsd => (rep(0xF2), &[0x0F, 0x51]),
            Sse::Sqrtss => (rep(0xF3), &[0x0F, 0x51]),
            Sse::Cvtss2sd => (rep(0xF3), &[0x0F, 0x5A]),
            Sse::Cvtsd2ss => (rep(0xF2), &[0x0F, 0x5A]),
            Sse::Maxsd => (rep(0xF2), &[0x0F, 0x5F]),
            Sse::Maxss => (rep(0xF3), &[0x0F, 0x5F]),
            Sse::Minsd => (rep(0xF2), &[0x0F, 0x5D]),
            Sse::Minss => (rep(0xF3), &[0x0F, 0x5D]),
            Sse::Addps => (Pfx::default(), &[0x0F, 0x58]),
            Sse::Addpd => (p66, &[0x0F, 0x58]),
            Sse::Subps => (Pfx::default(), &[0x0F, 0x5C]),
            Sse::Subpd => (p66, &[0x0F, 0x5C]),
            Sse::Mulps => (Pfx::default(), &[0x0F, 0x59]),
            Sse::Mulpd => (p66, &[0x0F, 0x59]),
            Sse::Divps => (Pfx::default(), &[0x0F, 0x5E]),
            Sse::Divpd => (p66, &[0x0F, 0x5E]),
        }
    }
}

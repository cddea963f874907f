//! The x86 instructions a guest uses on MMIO, decoded from their bytes and
//! emulated against a register file and the faulting access.
//!
//! Without decode assists a nested page fault tells hv the guest-physical
//! address and whether it was a write, and nothing else: hv fetches the
//! bytes at RIP and decodes them here. The forms are the ones Linux and
//! small guests use on device registers (`readl`/`writel` and friends,
//! bit set/clear, string fills):
//!
//! | form | opcodes |
//! |---|---|
//! | MOV m, r / MOV r, m | 88, 89, 8A, 8B |
//! | MOV m, imm | C6 /0, C7 /0 |
//! | MOVZX / MOVSX r, m | 0F B6, 0F B7, 0F BE, 0F BF |
//! | MOVSXD r, m (64-bit mode) | 63 |
//! | AND / OR / XOR / CMP with a register | 20-23, 08-0B, 30-33, 38-3B |
//! | AND / OR / XOR / CMP with an immediate | 80, 81, 83 (and 82 outside 64-bit mode) /1 /4 /6 /7 |
//! | TEST m, r / TEST m, imm | 84, 85, F6 /0 /1, F7 /0 /1 |
//! | STOS, MOVS (with REP) | AA, AB, A4, A5 |
//!
//! Everything else, register-only forms, and encodings the CPU itself
//! rejects (LOCK where it is not allowed, REX outside 64-bit mode, more
//! than 15 bytes) are a [`DecodeError`]: hv reports them instead of
//! guessing. The decoder is pure and checked against an independent one
//! (`iced-x86`) on random encodings; the emulation's flags against the
//! host CPU (hv-sim's tests).

use crate::mmio::AccessWidth;
use core::fmt;

/// The longest x86 instruction: a longer one raises #GP.
pub const MAX_LEN: usize = 15;

/// The guest's execution mode (its default operand and address sizes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuMode {
    /// 64-bit mode (EFER.LMA and CS.L).
    Long64,
    /// 32-bit protected mode or compatibility mode (CS.D set).
    Protected32,
}

/// Address size of an instruction (string instructions count and step
/// RCX/RSI/RDI at this size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddrSize {
    /// 16-bit.
    A16,
    /// 32-bit.
    A32,
    /// 64-bit.
    A64,
}

impl AddrSize {
    /// Bits of an address register that take part.
    pub const fn mask(self) -> u64 {
        match self {
            AddrSize::A16 => 0xffff,
            AddrSize::A32 => 0xffff_ffff,
            AddrSize::A64 => u64::MAX,
        }
    }
}

/// A segment register (the source of MOVS may be overridden).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment {
    /// ES.
    Es,
    /// CS.
    Cs,
    /// SS.
    Ss,
    /// DS.
    Ds,
    /// FS.
    Fs,
    /// GS.
    Gs,
}

/// A general register operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gpr {
    /// 0..=15: RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15.
    pub num: u8,
    /// AH, CH, DH or BH (bits 15:8 of register `num - 4`): byte operands
    /// 4..=7 without a REX prefix.
    pub high_byte: bool,
}

/// The operand an instruction pairs with its memory operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    /// A register, at the access's width.
    Reg(Gpr),
    /// An immediate, sign-extended to 64 bits (only the access's width
    /// counts).
    Imm(u64),
}

/// ALU operations on a memory operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AluOp {
    /// AND (writes the destination).
    And,
    /// OR (writes the destination).
    Or,
    /// XOR (writes the destination).
    Xor,
    /// CMP (flags only, of first - second).
    Cmp,
    /// TEST (flags only, of first & second).
    Test,
}

/// What an instruction does with its memory operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// MOV, MOVZX, MOVSX, MOVSXD: read memory into `dst`, a register of
    /// `size` bytes (extended from the access's width: by sign if `sign`).
    Load {
        /// Destination register.
        dst: Gpr,
        /// Destination size in bytes (1, 2, 4 or 8).
        size: u8,
        /// Sign extension (MOVSX/MOVSXD) instead of zero extension.
        sign: bool,
    },
    /// MOV m, r / MOV m, imm.
    Store {
        /// The value stored.
        src: Operand,
    },
    /// AND/OR/XOR/CMP/TEST between memory and `other`; `mem_first`: the
    /// memory operand is the first (destination) operand, else the
    /// register is (AND/OR/XOR then write the register).
    Alu {
        /// The operation.
        op: AluOp,
        /// The other operand.
        other: Operand,
        /// Whether memory is the first operand.
        mem_first: bool,
    },
    /// STOS: store AL/AX/EAX/RAX at ES:rDI, then step rDI.
    Stos,
    /// MOVS: copy from seg:rSI to ES:rDI, then step both.
    Movs,
}

/// A decoded MMIO instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MmioInsn {
    /// Length in bytes (RIP advances by this much).
    pub len: u8,
    /// What it does.
    pub op: Op,
    /// Width of each memory access.
    pub width: AccessWidth,
    /// Address size (string instructions).
    pub addr_size: AddrSize,
    /// REP/REPE/REPNE prefix (repeats string instructions rCX times).
    pub rep: bool,
    /// The segment of MOVS's source (DS unless overridden).
    pub src_segment: Segment,
    /// The mode it was decoded for.
    pub mode: CpuMode,
}

/// Why bytes are not an MMIO instruction hv emulates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The bytes end before the instruction does (fetch more).
    Truncated,
    /// More than [`MAX_LEN`] bytes: the CPU raises #GP.
    TooLong,
    /// An instruction hv does not emulate on MMIO (the opcode, with 0x0F00
    /// added for the two-byte map).
    Unsupported(u16),
    /// The form has no memory operand, so it cannot have faulted on MMIO.
    NoMemoryOperand,
    /// An encoding the CPU rejects (#UD): LOCK on an instruction that may
    /// not have it.
    Invalid,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated => write!(f, "instruction bytes end too early"),
            DecodeError::TooLong => write!(f, "instruction longer than {MAX_LEN} bytes"),
            DecodeError::Unsupported(op) => {
                write!(f, "opcode {op:#x} is not emulated on MMIO")
            }
            DecodeError::NoMemoryOperand => write!(f, "instruction has no memory operand"),
            DecodeError::Invalid => write!(f, "invalid encoding (#UD)"),
        }
    }
}

/// Reads the instruction's bytes, refusing past the end or past 15.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn next(&mut self) -> Result<u8, DecodeError> {
        if self.at >= MAX_LEN {
            return Err(DecodeError::TooLong);
        }
        let b = *self.bytes.get(self.at).ok_or(DecodeError::Truncated)?;
        self.at += 1;
        Ok(b)
    }

    /// A little-endian value of `n` (1, 2, 4 or 8) bytes, sign-extended.
    fn signed(&mut self, n: u32) -> Result<u64, DecodeError> {
        let mut v = 0u64;
        for k in 0..n {
            v |= u64::from(self.next()?) << (8 * k);
        }
        let shift = 64 - 8 * n;
        Ok((((v << shift) as i64) >> shift) as u64)
    }

    fn skip(&mut self, n: u32) -> Result<(), DecodeError> {
        for _ in 0..n {
            self.next()?;
        }
        Ok(())
    }
}

/// Legacy prefixes and REX.
#[derive(Default)]
struct Prefixes {
    opsize: bool,
    addrsize: bool,
    rep: bool,
    lock: bool,
    segment: Option<Segment>,
    rex: u8,
}

impl Prefixes {
    fn rex_w(&self) -> bool {
        self.rex & 8 != 0
    }
    fn rex_r(&self) -> u8 {
        (self.rex >> 2) & 1
    }
}

/// Decodes the instruction at the start of `bytes` (up to [`MAX_LEN`]
/// of them; fewer are fine when the instruction is shorter).
pub fn decode(bytes: &[u8], mode: CpuMode) -> Result<MmioInsn, DecodeError> {
    let mut c = Cursor { bytes, at: 0 };
    let mut p = Prefixes::default();
    let opcode = loop {
        let b = c.next()?;
        match b {
            0x66 => p.opsize = true,
            0x67 => p.addrsize = true,
            0xF2 | 0xF3 => p.rep = true,
            0xF0 => p.lock = true,
            0x26 => p.segment = Some(Segment::Es),
            0x2E => p.segment = Some(Segment::Cs),
            0x36 => p.segment = Some(Segment::Ss),
            0x3E => p.segment = Some(Segment::Ds),
            0x64 => p.segment = Some(Segment::Fs),
            0x65 => p.segment = Some(Segment::Gs),
            0x40..=0x4F if mode == CpuMode::Long64 => {
                // Only a REX right before the opcode counts.
                p.rex = b;
                continue;
            }
            _ => break b,
        }
        p.rex = 0;
    };
    let two_byte = opcode == 0x0F;
    let opcode = if two_byte {
        0x0F00 | u16::from(c.next()?)
    } else {
        u16::from(opcode)
    };
    let opsize: u8 = if p.rex_w() {
        8
    } else if p.opsize {
        2
    } else {
        4
    };
    let addr_size = match (mode, p.addrsize) {
        (CpuMode::Long64, false) => AddrSize::A64,
        (CpuMode::Long64, true) | (CpuMode::Protected32, false) => AddrSize::A32,
        (CpuMode::Protected32, true) => AddrSize::A16,
    };
    let width = |bytes: u8| AccessWidth::from_bytes(u64::from(bytes)).unwrap_or(AccessWidth::Word);
    // The operand width of a byte/full-size opcode pair (low bit clear:
    // byte).
    let sized = |opc: u16| if opc & 1 == 0 { 1 } else { opsize };
    let reg_operand = |reg: u8, size: u8| -> Gpr {
        let num = reg | (p.rex_r() << 3);
        Gpr {
            num,
            high_byte: size == 1 && p.rex == 0 && (4..=7).contains(&num),
        }
    };
    let mut lock_ok = false;
    let (op, size) = match opcode {
        // MOV m, r / MOV r, m.
        0x88..=0x8B => {
            let size = sized(opcode);
            let modrm = mem_modrm(&mut c, addr_size)?;
            let reg = reg_operand((modrm >> 3) & 7, size);
            let op = if opcode & 2 == 0 {
                Op::Store {
                    src: Operand::Reg(reg),
                }
            } else {
                Op::Load {
                    dst: reg,
                    size,
                    sign: false,
                }
            };
            (op, size)
        }
        // MOV m, imm.
        0xC6 | 0xC7 => {
            let size = sized(opcode);
            let modrm = peek_modrm(&c)?;
            if (modrm >> 3) & 7 != 0 {
                return Err(DecodeError::Unsupported(opcode));
            }
            mem_modrm(&mut c, addr_size)?;
            let imm = c.signed(u32::from(size.min(4)))?;
            (
                Op::Store {
                    src: Operand::Imm(imm),
                },
                size,
            )
        }
        // MOVZX / MOVSX: the memory operand is a byte or a word.
        0x0FB6 | 0x0FB7 | 0x0FBE | 0x0FBF => {
            let modrm = mem_modrm(&mut c, addr_size)?;
            let dst = reg_operand((modrm >> 3) & 7, opsize);
            let from = if opcode & 1 == 0 { 1 } else { 2 };
            (
                Op::Load {
                    dst,
                    size: opsize,
                    sign: opcode & 8 != 0,
                },
                from,
            )
        }
        // MOVSXD (ARPL outside 64-bit mode).
        0x63 if mode == CpuMode::Long64 => {
            let modrm = mem_modrm(&mut c, addr_size)?;
            let dst = reg_operand((modrm >> 3) & 7, opsize);
            (
                Op::Load {
                    dst,
                    size: opsize,
                    sign: true,
                },
                opsize.min(4),
            )
        }
        // AND/OR/XOR/CMP with a register, either way round.
        0x08..=0x0B | 0x20..=0x23 | 0x30..=0x33 | 0x38..=0x3B => {
            let alu = match opcode >> 3 {
                0x01 => AluOp::Or,
                0x04 => AluOp::And,
                0x06 => AluOp::Xor,
                _ => AluOp::Cmp,
            };
            let size = sized(opcode);
            let modrm = mem_modrm(&mut c, addr_size)?;
            let mem_first = opcode & 2 == 0;
            lock_ok = mem_first && alu != AluOp::Cmp;
            (
                Op::Alu {
                    op: alu,
                    other: Operand::Reg(reg_operand((modrm >> 3) & 7, size)),
                    mem_first,
                },
                size,
            )
        }
        // TEST m, r.
        0x84 | 0x85 => {
            let size = sized(opcode);
            let modrm = mem_modrm(&mut c, addr_size)?;
            (
                Op::Alu {
                    op: AluOp::Test,
                    other: Operand::Reg(reg_operand((modrm >> 3) & 7, size)),
                    mem_first: true,
                },
                size,
            )
        }
        // Group 1 with an immediate (0x82 is 0x80's alias outside 64-bit
        // mode).
        0x80 | 0x81 | 0x83 => group1(&mut c, &mut lock_ok, opcode, opsize, addr_size)?,
        0x82 if mode != CpuMode::Long64 => group1(&mut c, &mut lock_ok, opcode, opsize, addr_size)?,
        // TEST m, imm (/1 is an undocumented alias the CPU accepts).
        0xF6 | 0xF7 => {
            let size = sized(opcode);
            let modrm = peek_modrm(&c)?;
            if (modrm >> 3) & 7 > 1 {
                return Err(DecodeError::Unsupported(opcode));
            }
            mem_modrm(&mut c, addr_size)?;
            let imm = c.signed(u32::from(size.min(4)))?;
            (
                Op::Alu {
                    op: AluOp::Test,
                    other: Operand::Imm(imm),
                    mem_first: true,
                },
                size,
            )
        }
        0xAA | 0xAB => (Op::Stos, sized(opcode)),
        0xA4 | 0xA5 => (Op::Movs, sized(opcode)),
        _ => return Err(DecodeError::Unsupported(opcode)),
    };
    if p.lock && !lock_ok {
        return Err(DecodeError::Invalid);
    }
    Ok(MmioInsn {
        len: c.at as u8,
        op,
        width: width(size),
        addr_size,
        rep: p.rep && matches!(op, Op::Stos | Op::Movs),
        src_segment: p.segment.unwrap_or(Segment::Ds),
        mode,
    })
}

/// OR/AND/XOR/CMP m, imm (80, 81, 82, 83 by the ModRM reg field).
fn group1(
    c: &mut Cursor<'_>,
    lock_ok: &mut bool,
    opcode: u16,
    opsize: u8,
    addr_size: AddrSize,
) -> Result<(Op, u8), DecodeError> {
    let size = if opcode & 1 == 0 { 1 } else { opsize };
    let modrm = peek_modrm(c)?;
    let alu = match (modrm >> 3) & 7 {
        1 => AluOp::Or,
        4 => AluOp::And,
        6 => AluOp::Xor,
        7 => AluOp::Cmp,
        _ => return Err(DecodeError::Unsupported(opcode)),
    };
    mem_modrm(c, addr_size)?;
    // 0x83: a byte sign-extended to the operand size.
    let imm_bytes = if opcode == 0x81 { size.min(4) } else { 1 };
    let imm = c.signed(u32::from(imm_bytes))?;
    *lock_ok = alu != AluOp::Cmp;
    Ok((
        Op::Alu {
            op: alu,
            other: Operand::Imm(imm),
            mem_first: true,
        },
        size,
    ))
}

/// The ModRM byte about to be read.
fn peek_modrm(c: &Cursor<'_>) -> Result<u8, DecodeError> {
    if c.at >= MAX_LEN {
        return Err(DecodeError::TooLong);
    }
    c.bytes.get(c.at).copied().ok_or(DecodeError::Truncated)
}

/// Reads a ModRM byte that must name memory, and the SIB and
/// displacement that follow it; returns the ModRM byte.
fn mem_modrm(c: &mut Cursor<'_>, addr_size: AddrSize) -> Result<u8, DecodeError> {
    let modrm = c.next()?;
    let (md, rm) = (modrm >> 6, modrm & 7);
    if md == 3 {
        return Err(DecodeError::NoMemoryOperand);
    }
    let disp = if addr_size == AddrSize::A16 {
        // [BX+SI] .. [BX]; mod 00 r/m 110 is a bare disp16.
        match md {
            0 if rm == 6 => 2,
            0 => 0,
            1 => 1,
            _ => 2,
        }
    } else {
        let mut bare_disp32 = md == 0 && rm == 5; // RIP- or disp32-relative
        if rm == 4 {
            let sib = c.next()?;
            // SIB base 101 with mod 00: no base, a disp32.
            bare_disp32 = md == 0 && sib & 7 == 5;
        }
        match md {
            0 if bare_disp32 => 4,
            0 => 0,
            1 => 1,
            _ => 4,
        }
    };
    c.skip(disp)?;
    Ok(modrm)
}

/// The guest state an emulated instruction reads and writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Regs {
    /// RAX..R15.
    pub gpr: [u64; 16],
    /// The instruction pointer.
    pub rip: u64,
    /// RFLAGS.
    pub rflags: u64,
}

/// RFLAGS bits the emulated instructions change or read.
pub mod flags {
    /// Carry.
    pub const CF: u64 = 1 << 0;
    /// Parity (of the result's low byte).
    pub const PF: u64 = 1 << 2;
    /// Auxiliary carry (bit 3 to 4).
    pub const AF: u64 = 1 << 4;
    /// Zero.
    pub const ZF: u64 = 1 << 6;
    /// Sign.
    pub const SF: u64 = 1 << 7;
    /// Direction (string instructions step down when set).
    pub const DF: u64 = 1 << 10;
    /// Overflow.
    pub const OF: u64 = 1 << 11;
    /// The arithmetic flags.
    pub const STATUS: u64 = CF | PF | AF | ZF | SF | OF;
}

/// The memory an emulated instruction accesses.
pub trait MmioAccess {
    /// What a failed access reports.
    type Error;
    /// Read the faulting operand (the guest-physical address of the exit).
    fn read(&mut self, width: AccessWidth) -> Result<u64, Self::Error>;
    /// Write the faulting operand.
    fn write(&mut self, width: AccessWidth, value: u64) -> Result<(), Self::Error>;
    /// Read guest-virtual `seg:va` (MOVS's source, which need not be the
    /// faulting operand).
    fn read_virt(&mut self, seg: Segment, va: u64, width: AccessWidth) -> Result<u64, Self::Error>;
    /// Write guest-virtual `ES:va` (MOVS's destination).
    fn write_virt(&mut self, va: u64, width: AccessWidth, value: u64) -> Result<(), Self::Error>;
}

impl MmioInsn {
    /// Carry the instruction out: memory through `mem`, registers and
    /// flags in `regs`, and RIP past it (a REP string instruction does
    /// one iteration per call and leaves RIP on itself until rCX runs
    /// out, as the CPU does when interrupted, so every iteration exits
    /// again). A failed access changes nothing after it.
    pub fn emulate<M: MmioAccess>(&self, regs: &mut Regs, mem: &mut M) -> Result<(), M::Error> {
        let w = self.width;
        let mask = w.mask();
        let mut done = true;
        match self.op {
            Op::Load { dst, size, sign } => {
                let raw = mem.read(w)? & mask;
                let v = if sign { sign_extend(raw, w) } else { raw };
                write_gpr(regs, dst, size, v);
            }
            Op::Store { src } => {
                let v = self.operand(regs, src);
                mem.write(w, v & mask)?;
            }
            Op::Alu {
                op,
                other,
                mem_first,
            } => {
                let m = mem.read(w)? & mask;
                let o = self.operand(regs, other) & mask;
                let (a, b) = if mem_first { (m, o) } else { (o, m) };
                let (r, status) = alu(op, w, a, b);
                match (op, mem_first, other) {
                    (AluOp::Cmp | AluOp::Test, _, _) => {}
                    (_, true, _) => mem.write(w, r)?,
                    (_, false, Operand::Reg(g)) => write_gpr(regs, g, w.bytes() as u8, r),
                    // Not produced by the decoder: memory is first with
                    // an immediate.
                    (_, false, Operand::Imm(_)) => {}
                }
                regs.rflags = (regs.rflags & !flags::STATUS) | status;
            }
            Op::Stos | Op::Movs => {
                let a = self.addr_size.mask();
                if self.rep && regs.gpr[1] & a == 0 {
                    self.step_rip(regs);
                    return Ok(());
                }
                let rdi = regs.gpr[7] & a;
                if self.op == Op::Stos {
                    mem.write(w, regs.gpr[0] & mask)?;
                } else {
                    let rsi = regs.gpr[6] & a;
                    let v = mem.read_virt(self.src_segment, rsi, w)?;
                    mem.write_virt(rdi, w, v & mask)?;
                    let next = self.step(rsi, regs.rflags);
                    write_addr(regs, 6, self.addr_size, next);
                }
                let next = self.step(rdi, regs.rflags);
                write_addr(regs, 7, self.addr_size, next);
                if self.rep {
                    let left = (regs.gpr[1] & a).wrapping_sub(1);
                    write_addr(regs, 1, self.addr_size, left);
                    done = left & a == 0;
                }
            }
        }
        if done {
            self.step_rip(regs);
        }
        Ok(())
    }

    /// The value of `o` (a register read at the access's width).
    fn operand(&self, regs: &Regs, o: Operand) -> u64 {
        match o {
            Operand::Imm(v) => v,
            Operand::Reg(g) => read_gpr(regs, g),
        }
    }

    /// An address register after one element, up or down per DF.
    fn step(&self, v: u64, rflags: u64) -> u64 {
        if rflags & flags::DF != 0 {
            v.wrapping_sub(self.width.bytes())
        } else {
            v.wrapping_add(self.width.bytes())
        }
    }

    fn step_rip(&self, regs: &mut Regs) {
        let next = regs.rip.wrapping_add(u64::from(self.len));
        regs.rip = match self.mode {
            CpuMode::Long64 => next,
            CpuMode::Protected32 => next & 0xffff_ffff,
        };
    }
}

/// `raw` (of width `w`) sign-extended to 64 bits.
fn sign_extend(raw: u64, w: AccessWidth) -> u64 {
    let shift = 64 - 8 * w.bytes();
    (((raw << shift) as i64) >> shift) as u64
}

/// A register operand's value (AH..BH are bits 15:8).
fn read_gpr(regs: &Regs, g: Gpr) -> u64 {
    if g.high_byte {
        (regs.gpr[usize::from(g.num & 3)] >> 8) & 0xff
    } else {
        regs.gpr[usize::from(g.num & 15)]
    }
}

/// Writes `v` to a register operand of `size` bytes as the CPU does: a
/// 32-bit write zero-extends to 64 bits, 8- and 16-bit writes keep the
/// rest.
fn write_gpr(regs: &mut Regs, g: Gpr, size: u8, v: u64) {
    if g.high_byte {
        let r = &mut regs.gpr[usize::from(g.num & 3)];
        *r = (*r & !0xff00) | ((v & 0xff) << 8);
        return;
    }
    let r = &mut regs.gpr[usize::from(g.num & 15)];
    *r = match size {
        1 => (*r & !0xff) | (v & 0xff),
        2 => (*r & !0xffff) | (v & 0xffff),
        4 => v & 0xffff_ffff,
        _ => v,
    };
}

/// Writes an address register (rCX, rSI, rDI) at the address size.
fn write_addr(regs: &mut Regs, num: usize, size: AddrSize, v: u64) {
    let bytes = match size {
        AddrSize::A16 => 2,
        AddrSize::A32 => 4,
        AddrSize::A64 => 8,
    };
    write_gpr(
        regs,
        Gpr {
            num: num as u8,
            high_byte: false,
        },
        bytes,
        v,
    );
}

/// The result (at width `w`) and the status flags of `a op b`. AND, OR,
/// XOR and TEST clear CF, OF and AF (AF is architecturally undefined
/// there; hardware clears it).
fn alu(op: AluOp, w: AccessWidth, a: u64, b: u64) -> (u64, u64) {
    let mask = w.mask();
    let sign = 1u64 << (8 * w.bytes() - 1);
    let (r, mut f) = match op {
        AluOp::And | AluOp::Test => (a & b, 0),
        AluOp::Or => (a | b, 0),
        AluOp::Xor => (a ^ b, 0),
        AluOp::Cmp => {
            let r = a.wrapping_sub(b) & mask;
            let mut f = 0;
            if a < b {
                f |= flags::CF;
            }
            if (a ^ b) & (a ^ r) & sign != 0 {
                f |= flags::OF;
            }
            if (a ^ b ^ r) & 0x10 != 0 {
                f |= flags::AF;
            }
            (r, f)
        }
    };
    let r = r & mask;
    if r == 0 {
        f |= flags::ZF;
    }
    if r & sign != 0 {
        f |= flags::SF;
    }
    if (r as u8).count_ones() % 2 == 0 {
        f |= flags::PF;
    }
    (r, f)
}

#[cfg(test)]
mod tests;

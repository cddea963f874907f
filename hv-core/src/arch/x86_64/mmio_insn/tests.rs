use super::*;
use iced_x86::{Decoder, DecoderOptions, Instruction, Mnemonic, OpKind, Register};
use std::format;
use std::string::String;
use std::vec::Vec;

const RAX: Gpr = Gpr {
    num: 0,
    high_byte: false,
};

fn gpr(num: u8) -> Gpr {
    Gpr {
        num,
        high_byte: false,
    }
}

fn d64(bytes: &[u8]) -> MmioInsn {
    decode(bytes, CpuMode::Long64).unwrap_or_else(|e| panic!("{bytes:02x?}: {e}"))
}

#[test]
fn linux_accessors_decode() {
    // readl: mov eax, [rdi]
    let i = d64(&[0x8b, 0x07]);
    assert_eq!((i.len, i.width), (2, AccessWidth::Word));
    assert_eq!(
        i.op,
        Op::Load {
            dst: RAX,
            size: 4,
            sign: false
        }
    );
    // writeq: mov [rdi+0x10], rsi
    let i = d64(&[0x48, 0x89, 0x77, 0x10]);
    assert_eq!((i.len, i.width), (4, AccessWidth::Double));
    assert_eq!(
        i.op,
        Op::Store {
            src: Operand::Reg(gpr(6))
        }
    );
    // readb into a REX register: movzx r9d, byte [rdi+rcx*4+0x1234]
    let i = d64(&[0x44, 0x0f, 0xb6, 0x8c, 0x8f, 0x34, 0x12, 0, 0]);
    assert_eq!((i.len, i.width), (9, AccessWidth::Byte));
    assert_eq!(
        i.op,
        Op::Load {
            dst: gpr(9),
            size: 4,
            sign: false
        }
    );
    // writew of an immediate: mov word [rip+0], 0xbeef
    let i = d64(&[0x66, 0xc7, 0x05, 0, 0, 0, 0, 0xef, 0xbe]);
    assert_eq!((i.len, i.width), (9, AccessWidth::Half));
    assert_eq!(
        i.op,
        Op::Store {
            src: Operand::Imm(0xffff_ffff_ffff_beef)
        }
    );
    // AH without REX, SPL with it.
    let i = d64(&[0x88, 0x27]);
    assert_eq!(
        i.op,
        Op::Store {
            src: Operand::Reg(Gpr {
                num: 4,
                high_byte: true
            })
        }
    );
    let i = d64(&[0x40, 0x88, 0x27]);
    assert_eq!(
        i.op,
        Op::Store {
            src: Operand::Reg(gpr(4))
        }
    );
    // lock or dword [rdi], 1; rep stosd (32-bit addresses with 0x67).
    let i = d64(&[0xf0, 0x83, 0x0f, 0x01]);
    assert_eq!(
        i.op,
        Op::Alu {
            op: AluOp::Or,
            other: Operand::Imm(1),
            mem_first: true
        }
    );
    let i = d64(&[0x67, 0xf3, 0xab]);
    assert_eq!((i.op, i.rep, i.addr_size), (Op::Stos, true, AddrSize::A32));
}

#[test]
fn bad_bytes_are_errors() {
    let e = |b: &[u8], m| decode(b, m).unwrap_err();
    let long = CpuMode::Long64;
    assert_eq!(e(&[], long), DecodeError::Truncated);
    assert_eq!(e(&[0x8b], long), DecodeError::Truncated);
    assert_eq!(e(&[0x8b, 0x87, 0, 0], long), DecodeError::Truncated);
    assert_eq!(e(&[0x8b, 0xc0], long), DecodeError::NoMemoryOperand);
    assert_eq!(e(&[0xf0, 0x8b, 0x07], long), DecodeError::Invalid);
    assert_eq!(e(&[0xf0, 0x39, 0x07], long), DecodeError::Invalid);
    assert_eq!(e(&[0x01, 0x07], long), DecodeError::Unsupported(0x01));
    assert_eq!(e(&[0x0f, 0x05], long), DecodeError::Unsupported(0x0f05));
    assert_eq!(e(&[0x80, 0x07, 1], long), DecodeError::Unsupported(0x80));
    // Fourteen prefixes and the opcode: the ModRM is the 16th byte.
    let mut b = [0x66u8; 20];
    b[14] = 0x8b;
    assert_eq!(e(&b, long), DecodeError::TooLong);
    // REX is INC/DEC outside 64-bit mode; MOVSXD is ARPL there.
    assert_eq!(
        e(&[0x48, 0x89, 0x07], CpuMode::Protected32),
        DecodeError::Unsupported(0x48)
    );
    assert_eq!(
        e(&[0x63, 0x07], CpuMode::Protected32),
        DecodeError::Unsupported(0x63)
    );
}

/// What both decoders must agree on, from iced's side.
#[derive(Debug, PartialEq)]
struct Seen {
    len: u8,
    kind: String,
    width: u64,
    reg: Option<Gpr>,
    reg_size: u64,
    imm: Option<u64>,
    mem_first: bool,
    rep: bool,
}

/// A register's number and size in bytes, from iced's register order
/// (AL..BL, AH..BH, SPL..DIL, R8L..R15L, then 16 each of the word,
/// dword and qword registers).
fn iced_gpr(r: Register) -> (Gpr, u64) {
    let k = r as u32 - Register::AL as u32;
    let byte = |num: u32, high_byte| {
        (
            Gpr {
                num: num as u8,
                high_byte,
            },
            1,
        )
    };
    match k {
        0..=3 => byte(k, false),
        4..=7 => byte(k, true),
        8..=19 => byte(k - 4, false),
        _ => {
            let w = k - 20;
            (gpr((w % 16) as u8), 2 << (w / 16))
        }
    }
}

/// A memory operand's size in bytes, from iced's name for it.
fn iced_mem_size(i: &Instruction) -> u64 {
    let name = format!("{:?}", i.memory_size());
    if name.contains("8") {
        1
    } else if name.contains("16") || name.starts_with("Word") {
        2
    } else if name.contains("32") || name.starts_with("Dword") {
        4
    } else if name.contains("64") || name.starts_with("Qword") {
        8
    } else {
        panic!("memory size {name}")
    }
}

/// iced's view of an instruction in our set, or `None` if it is not one
/// (or has no memory operand).
fn iced_view(i: &Instruction) -> Option<Seen> {
    let m = i.mnemonic();
    let kind = match m {
        Mnemonic::Mov | Mnemonic::Movzx | Mnemonic::Movsx | Mnemonic::Movsxd => "mov",
        Mnemonic::And => "and",
        Mnemonic::Or => "or",
        Mnemonic::Xor => "xor",
        Mnemonic::Cmp => "cmp",
        Mnemonic::Test => "test",
        Mnemonic::Stosb | Mnemonic::Stosw | Mnemonic::Stosd | Mnemonic::Stosq => "stos",
        Mnemonic::Movsb | Mnemonic::Movsw | Mnemonic::Movsd | Mnemonic::Movsq => "movs",
        _ => return None,
    };
    let code = format!("{:?}", i.code());
    // Not in the set: absolute moffs forms, segment registers, and
    // MOVSD the SSE2 instruction (same mnemonic as the string one).
    if code.contains("moffs") || code.contains("Sreg") || code.contains("xmm") {
        return None;
    }
    let is_mem = |k: OpKind| {
        matches!(
            k,
            OpKind::Memory
                | OpKind::MemoryESDI
                | OpKind::MemoryESEDI
                | OpKind::MemoryESRDI
                | OpKind::MemorySegSI
                | OpKind::MemorySegESI
                | OpKind::MemorySegRSI
        )
    };
    let kinds: Vec<OpKind> = (0..i.op_count()).map(|k| i.op_kind(k)).collect();
    if !kinds.iter().any(|&k| is_mem(k)) {
        return None;
    }
    let mut reg = None;
    let mut reg_size = 0;
    let mut imm = None;
    if kind != "stos" && kind != "movs" {
        for (k, &ok) in kinds.iter().enumerate() {
            match ok {
                OpKind::Register => {
                    let (g, size) = iced_gpr(i.op_register(k as u32));
                    reg = Some(g);
                    reg_size = size;
                }
                OpKind::Memory => {}
                _ => imm = Some(i.immediate(k as u32)),
            }
        }
    }
    let width = iced_mem_size(i);
    let mask = AccessWidth::from_bytes(width).map_or(0, AccessWidth::mask);
    Some(Seen {
        len: i.len() as u8,
        kind: kind.into(),
        width,
        reg,
        reg_size,
        imm: imm.map(|v| v & mask),
        mem_first: is_mem(kinds[0]),
        rep: (kind == "stos" || kind == "movs") && (i.has_rep_prefix() || i.has_repne_prefix()),
    })
}

/// Ours, in the same terms.
fn our_view(i: &MmioInsn) -> Seen {
    let (kind, reg, reg_size, imm, mem_first) = match i.op {
        Op::Load { dst, size, .. } => ("mov", Some(dst), u64::from(size), None, false),
        Op::Store { src } => match src {
            Operand::Reg(g) => ("mov", Some(g), i.width.bytes(), None, true),
            Operand::Imm(v) => ("mov", None, 0, Some(v), true),
        },
        Op::Alu {
            op,
            other,
            mem_first,
        } => {
            let k = match op {
                AluOp::And => "and",
                AluOp::Or => "or",
                AluOp::Xor => "xor",
                AluOp::Cmp => "cmp",
                AluOp::Test => "test",
            };
            match other {
                Operand::Reg(g) => (k, Some(g), i.width.bytes(), None, mem_first),
                Operand::Imm(v) => (k, None, 0, Some(v), mem_first),
            }
        }
        Op::Stos => ("stos", None, 0, None, true),
        Op::Movs => ("movs", None, 0, None, true),
    };
    Seen {
        len: i.len,
        kind: kind.into(),
        width: i.width.bytes(),
        reg,
        reg_size,
        imm: imm.map(|v| v & i.width.mask()),
        mem_first,
        rep: i.rep,
    }
}

/// Random bytes shaped like the instructions in question: prefixes
/// (REX among them, not always last), an opcode from the set or near it,
/// then random ModRM, SIB, displacement and immediate bytes.
fn shaped(rng: &mut u64) -> [u8; 15] {
    // SplitMix64 (xorshift's low bytes are too alike from one call to
    // the next: a ModRM/SIB pair never had SIB base 101 with mod 00).
    let mut next = || {
        *rng = rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    const PREFIXES: [u8; 12] = [
        0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x3e, 0x26, 0x64, 0x65, 0x36, 0x48,
    ];
    const OPCODES: [u8; 40] = [
        0x88, 0x89, 0x8a, 0x8b, 0xc6, 0xc7, 0x63, 0x08, 0x09, 0x0a, 0x0b, 0x20, 0x21, 0x22, 0x23,
        0x30, 0x31, 0x32, 0x33, 0x38, 0x39, 0x3a, 0x3b, 0x84, 0x85, 0x80, 0x81, 0x82, 0x83, 0xf6,
        0xf7, 0xaa, 0xab, 0xa4, 0xa5, 0xa1, 0x8c, 0x01, 0x86, 0x0f,
    ];
    const TWO_BYTE: [u8; 8] = [0xb6, 0xb7, 0xbe, 0xbf, 0xaf, 0x10, 0xb0, 0x05];
    let mut b = [0u8; 15];
    let mut n = 0;
    for _ in 0..next() % 4 {
        b[n] = PREFIXES[(next() % 12) as usize];
        n += 1;
    }
    if next() % 2 == 0 {
        b[n] = 0x40 | (next() % 16) as u8;
        n += 1;
    }
    let op = OPCODES[(next() % 40) as usize];
    b[n] = if next() % 16 == 0 { next() as u8 } else { op };
    n += 1;
    if b[n - 1] == 0x0f {
        b[n] = TWO_BYTE[(next() % 8) as usize];
        n += 1;
    }
    for x in &mut b[n..] {
        *x = next() as u8;
    }
    b
}

/// Every shaped encoding, in both modes: when iced decodes one of the
/// forms with a memory operand, ours decodes the same length, operation,
/// width, register, immediate, operand order and REP; when iced decodes
/// anything else (or nothing valid), ours refuses it.
#[test]
fn agrees_with_iced_on_random_encodings() {
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut matched = 0;
    for n in 0..60_000 {
        let bytes = shaped(&mut rng);
        for (mode, bitness) in [(CpuMode::Long64, 64), (CpuMode::Protected32, 32)] {
            let mut d = Decoder::new(bitness, &bytes, DecoderOptions::NONE);
            let i = d.decode();
            let want = if i.is_invalid() { None } else { iced_view(&i) };
            let got = decode(&bytes, mode);
            match (&want, &got) {
                (Some(w), Ok(g)) => {
                    assert_eq!(
                        &our_view(g),
                        w,
                        "case {n}, {bitness}-bit: {bytes:02x?} ({i})"
                    );
                    if matches!(g.op, Op::Stos | Op::Movs) {
                        let a = match i.op_kind(0) {
                            OpKind::MemoryESDI => AddrSize::A16,
                            OpKind::MemoryESEDI => AddrSize::A32,
                            _ => AddrSize::A64,
                        };
                        assert_eq!(g.addr_size, a, "{bytes:02x?} ({i})");
                    }
                    matched += 1;
                }
                (None, Err(_)) => {}
                _ => panic!(
                    "case {n}, {bitness}-bit: {bytes:02x?}: iced {i} ({:?}), ours {got:?}",
                    i.code()
                ),
            }
        }
    }
    // The generator must mostly produce forms in the set.
    assert!(matched > 30_000, "only {matched} matched");
}

/// A register file and one device register, for the emulation tests.
struct Dev {
    reg: u64,
    log: Vec<(char, AccessWidth, u64)>,
    ram: [u8; 64],
}

impl MmioAccess for Dev {
    type Error = ();
    fn read(&mut self, w: AccessWidth) -> Result<u64, ()> {
        self.log.push(('r', w, self.reg));
        Ok(self.reg & w.mask())
    }
    fn write(&mut self, w: AccessWidth, v: u64) -> Result<(), ()> {
        self.log.push(('w', w, v));
        self.reg = v;
        Ok(())
    }
    fn read_virt(&mut self, _seg: Segment, va: u64, w: AccessWidth) -> Result<u64, ()> {
        let at = va as usize;
        let bytes = self.ram.get(at..at + w.bytes() as usize).ok_or(())?;
        let mut v = 0;
        for (k, b) in bytes.iter().enumerate() {
            v |= u64::from(*b) << (8 * k);
        }
        Ok(v)
    }
    fn write_virt(&mut self, va: u64, w: AccessWidth, v: u64) -> Result<(), ()> {
        self.write(w, v)?;
        let _ = va;
        Ok(())
    }
}

fn dev(reg: u64) -> Dev {
    Dev {
        reg,
        log: Vec::new(),
        ram: core::array::from_fn(|i| i as u8),
    }
}

#[test]
fn loads_write_registers_as_the_cpu_does() {
    let mut r = Regs {
        gpr: [u64::MAX; 16],
        rip: 0x1000,
        ..Regs::default()
    };
    let mut m = dev(0x8899_aabb_ccdd_eeff);
    // mov eax, [rdi]: zero-extends into RAX.
    d64(&[0x8b, 0x07]).emulate(&mut r, &mut m).unwrap();
    assert_eq!((r.gpr[0], r.rip), (0xccdd_eeff, 0x1002));
    // mov ah, [rdi]: bits 15:8 only.
    r.gpr[0] = u64::MAX;
    d64(&[0x8a, 0x27]).emulate(&mut r, &mut m).unwrap();
    assert_eq!(r.gpr[0], u64::MAX);
    m.reg = 0x80;
    d64(&[0x8a, 0x27]).emulate(&mut r, &mut m).unwrap();
    assert_eq!(r.gpr[0], 0xffff_ffff_ffff_80ff);
    // movsx rcx, word [rdi]; movzx ecx, word [rdi]; mov cx, [rdi].
    m.reg = 0x8001;
    d64(&[0x48, 0x0f, 0xbf, 0x0f])
        .emulate(&mut r, &mut m)
        .unwrap();
    assert_eq!(r.gpr[1], 0xffff_ffff_ffff_8001);
    d64(&[0x0f, 0xb7, 0x0f]).emulate(&mut r, &mut m).unwrap();
    assert_eq!(r.gpr[1], 0x8001);
    r.gpr[1] = u64::MAX;
    d64(&[0x66, 0x8b, 0x0f]).emulate(&mut r, &mut m).unwrap();
    assert_eq!(r.gpr[1], 0xffff_ffff_ffff_8001);
    // movsxd rdx, dword [rdi].
    m.reg = 0x8000_0000;
    d64(&[0x48, 0x63, 0x17]).emulate(&mut r, &mut m).unwrap();
    assert_eq!(r.gpr[2], 0xffff_ffff_8000_0000);
}

#[test]
fn stores_and_read_modify_writes() {
    let mut r = Regs::default();
    r.gpr[6] = 0x1122_3344_5566_7788;
    let mut m = dev(0xf0f0);
    // mov word [rdi], si.
    d64(&[0x66, 0x89, 0x37]).emulate(&mut r, &mut m).unwrap();
    assert_eq!(m.log.last(), Some(&('w', AccessWidth::Half, 0x7788)));
    // and dword [rdi], 0xff: read, then write.
    m.reg = 0x1234;
    m.log.clear();
    d64(&[0x81, 0x27, 0xff, 0, 0, 0])
        .emulate(&mut r, &mut m)
        .unwrap();
    assert_eq!(
        m.log,
        [
            ('r', AccessWidth::Word, 0x1234),
            ('w', AccessWidth::Word, 0x34)
        ]
    );
    // or esi, [rdi]: the register is written, memory only read.
    m.log.clear();
    d64(&[0x0b, 0x37]).emulate(&mut r, &mut m).unwrap();
    assert_eq!(r.gpr[6], 0x5566_77bc);
    assert_eq!(m.log.len(), 1);
    // test byte [rdi], 0x80 and cmp dword [rdi], 0x35: flags, no write.
    m.log.clear();
    d64(&[0xf6, 0x07, 0x80]).emulate(&mut r, &mut m).unwrap();
    assert_eq!(r.rflags & flags::STATUS, flags::ZF | flags::PF);
    d64(&[0x83, 0x3f, 0x35]).emulate(&mut r, &mut m).unwrap();
    assert_eq!(
        r.rflags & flags::STATUS,
        flags::CF | flags::SF | flags::PF | flags::AF
    );
    assert!(m.log.iter().all(|e| e.0 == 'r'));
}

#[test]
fn rep_stos_does_one_element_per_exit() {
    let mut r = Regs {
        rip: 0x2000,
        ..Regs::default()
    };
    r.gpr[0] = 0xabcd;
    r.gpr[1] = 3;
    r.gpr[7] = 0x100;
    let mut m = dev(0);
    let i = d64(&[0xf3, 0x66, 0xab]); // rep stosw
    for left in [2, 1] {
        i.emulate(&mut r, &mut m).unwrap();
        assert_eq!(
            (r.gpr[1], r.rip),
            (left, 0x2000),
            "RIP stays until the last"
        );
    }
    i.emulate(&mut r, &mut m).unwrap();
    assert_eq!((r.gpr[1], r.gpr[7], r.rip), (0, 0x106, 0x2003));
    assert_eq!(m.log.len(), 3);
    // With rCX already 0 nothing is stored; DF steps down.
    i.emulate(&mut r, &mut m).unwrap();
    assert_eq!((m.log.len(), r.rip), (3, 0x2006));
    r.rflags |= flags::DF;
    d64(&[0x48, 0xab]).emulate(&mut r, &mut m).unwrap();
    assert_eq!(r.gpr[7], 0xfe);
    // 32-bit addresses in 64-bit mode: EDI wraps and zero-extends.
    r.rflags = 0;
    r.gpr[7] = 0x1_ffff_fffe;
    d64(&[0x67, 0xaa]).emulate(&mut r, &mut m).unwrap();
    assert_eq!(r.gpr[7], 0xffff_ffff);
}

#[test]
fn movs_copies_from_the_source_segment() {
    let mut r = Regs::default();
    r.gpr[6] = 8;
    r.gpr[7] = 0x40;
    let mut m = dev(0);
    d64(&[0x65, 0xa5]).emulate(&mut r, &mut m).unwrap(); // movsd with a GS source
    assert_eq!(m.log, [('w', AccessWidth::Word, 0x0b0a_0908)]);
    assert_eq!((r.gpr[6], r.gpr[7]), (12, 0x44));
    // A source outside memory fails before anything is written.
    r.gpr[6] = 1000;
    assert!(d64(&[0xa5]).emulate(&mut r, &mut m).is_err());
    assert_eq!((m.log.len(), r.gpr[6], r.gpr[7]), (1, 1000, 0x44));
}

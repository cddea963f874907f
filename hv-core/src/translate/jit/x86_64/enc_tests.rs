//! Tests of the x86_64 encoder against an independent decoder (iced-x86):
//! every emitted instruction must decode to exactly one instruction of the
//! buffer's length, and its Intel-syntax text must equal a string built here
//! from the operands, independently of the encoder.

extern crate std;

use super::enc::*;
use iced_x86::{
    Code, Decoder, DecoderError, DecoderOptions, Formatter, Instruction, IntelFormatter,
    MemorySizeOptions,
};
use std::format;
use std::string::String;
use std::vec;
use std::vec::Vec;

// ---- the reference side: names and operand text, built without the encoder ----

const R64: [&str; 16] = [
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
    "r14", "r15",
];
const R32: [&str; 16] = [
    "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d",
    "r13d", "r14d", "r15d",
];
const R16: [&str; 16] = [
    "ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w",
    "r14w", "r15w",
];
// Registers 4..=7 must come out as spl/bpl/sil/dil, never ah/ch/dh/bh.
const R8: [&str; 16] = [
    "al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b",
    "r13b", "r14b", "r15b",
];
const CC: [&str; 16] = [
    "o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g",
];
const ALU: [&str; 8] = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"];

fn rn(w: W, r: Reg) -> &'static str {
    let i = r as usize;
    match w {
        W::B8 => R8[i],
        W::B16 => R16[i],
        W::B32 => R32[i],
        W::B64 => R64[i],
    }
}

fn ptr(w: W) -> &'static str {
    match w {
        W::B8 => "byte ptr ",
        W::B16 => "word ptr ",
        W::B32 => "dword ptr ",
        W::B64 => "qword ptr ",
    }
}

fn mask(w: W) -> u64 {
    match w {
        W::B8 => 0xFF,
        W::B16 => 0xFFFF,
        W::B32 => 0xFFFF_FFFF,
        W::B64 => u64::MAX,
    }
}

/// An immediate as iced prints it for width `w` (sign-extended, then
/// truncated to the width, in hex).
fn imm_s(w: W, imm: i64) -> String {
    format!("0x{:x}", (imm as u64) & mask(w))
}

fn mem_s(m: Mem) -> String {
    let mut s = format!("[{}", R64[m.base as usize]);
    if let Some((i, sc)) = m.index {
        s += "+";
        s += R64[i as usize];
        if sc != 1 {
            s += &format!("*{sc}");
        }
    }
    let d = i64::from(m.disp);
    if d > 0 {
        s += &format!("+0x{d:x}");
    } else if d < 0 {
        s += &format!("-0x{:x}", -d);
    }
    s + "]"
}

/// Bytes a ModRM memory operand takes (ModRM + SIB + displacement): the
/// shortest legal form.
fn mem_len(m: Mem) -> usize {
    let b = m.base as u8 & 7;
    let sib = usize::from(m.index.is_some() || b == 4);
    let disp = if m.disp == 0 && b != 5 {
        0
    } else if i8::try_from(m.disp).is_ok() {
        1
    } else {
        4
    };
    1 + sib + disp
}

const DISPS: [i32; 10] = [
    0,
    1,
    -1,
    127,
    -128,
    128,
    -129,
    0x1234_5678,
    i32::MIN,
    i32::MAX,
];

/// Every base, with no index and with every legal index and scale, and
/// every displacement class.
fn all_mems() -> Vec<Mem> {
    let mut v = Vec::new();
    for base in Reg::ALL {
        for disp in DISPS {
            v.push(Mem::base(base, disp));
            for index in Reg::ALL.into_iter().filter(|&r| r != Reg::Rsp) {
                for sc in [1, 2, 4, 8] {
                    v.push(Mem::indexed(base, index, sc, disp));
                }
            }
        }
    }
    v
}

/// A smaller set for instructions tested at many widths and ops: every base
/// (incl. rsp/rbp/r12/r13), a few indexes (low and high, incl. rbp/r12/r13)
/// and every displacement class.
fn some_mems() -> Vec<Mem> {
    let mut v = Vec::new();
    for (k, base) in Reg::ALL.into_iter().enumerate() {
        for disp in [0, -1, 127, 128, -129, i32::MIN] {
            v.push(Mem::base(base, disp));
            for (j, index) in [Reg::Rax, Reg::Rbp, Reg::R8, Reg::R12, Reg::R13, Reg::R15]
                .into_iter()
                .enumerate()
            {
                v.push(Mem::indexed(base, index, [1, 2, 4, 8][(j + k) % 4], disp));
            }
        }
    }
    v
}

// ---- the checking side ----

fn formatter() -> IntelFormatter {
    let mut f = IntelFormatter::new();
    let o = f.options_mut();
    o.set_hex_prefix("0x");
    o.set_hex_suffix("");
    o.set_uppercase_hex(false);
    o.set_small_hex_numbers_in_decimal(false);
    o.set_space_after_operand_separator(true);
    o.set_memory_size_options(MemorySizeOptions::Always);
    f
}

/// Decodes `bytes` at `ip`, requiring exactly one valid instruction that
/// spans the whole buffer.
fn decode_one(bytes: &[u8], ip: u64) -> Instruction {
    let mut d = Decoder::with_ip(64, bytes, ip, DecoderOptions::NONE);
    let i = d.decode();
    assert_eq!(d.last_error(), DecoderError::None, "{bytes:02x?}");
    assert_ne!(i.code(), Code::INVALID, "{bytes:02x?}");
    assert_eq!(i.len(), bytes.len(), "not one instruction: {bytes:02x?}");
    i
}

struct Chk {
    f: IntelFormatter,
    n: usize,
}

impl Chk {
    fn new() -> Chk {
        Chk {
            f: formatter(),
            n: 0,
        }
    }

    /// Emits with `emit` into a fresh Asm and checks the text; returns the
    /// bytes.
    fn one(&mut self, want: &str, emit: impl FnOnce(&mut Asm)) -> Vec<u8> {
        let mut a = Asm::new();
        emit(&mut a);
        assert_eq!(a.error(), None, "{want}");
        let bytes = a.finish(0).unwrap();
        let i = decode_one(&bytes, 0);
        let mut s = String::new();
        self.f.format(&i, &mut s);
        assert_eq!(s, want, "{bytes:02x?}");
        // A bare REX (0x40) is only ever needed for spl/bpl/sil/dil.
        let rex_at = usize::from(bytes.first() == Some(&0x66));
        if bytes.get(rex_at) == Some(&0x40) {
            assert!(
                ["spl", "bpl", "sil", "dil"]
                    .iter()
                    .any(|b| want.contains(b)),
                "needless REX: {want} {bytes:02x?}"
            );
        }
        self.n += 1;
        bytes
    }
}

fn bad(emit: impl FnOnce(&mut Asm)) {
    let mut a = Asm::new();
    emit(&mut a);
    assert_eq!(a.error(), Some(EncError::BadOperand));
    assert_eq!(a.finish(0), Err(EncError::BadOperand));
}

// ---- register-register forms ----

#[test]
fn mov_rr_all() {
    let mut c = Chk::new();
    for w in W::ALL {
        for d in Reg::ALL {
            for s in Reg::ALL {
                c.one(&format!("mov {}, {}", rn(w, d), rn(w, s)), |a| {
                    a.mov_rr(w, d, s)
                });
            }
        }
    }
    assert_eq!(c.n, 4 * 256);
}

#[test]
fn alu_rr_all() {
    let mut c = Chk::new();
    for (op, name) in Alu::ALL.into_iter().zip(ALU) {
        for w in W::ALL {
            for d in Reg::ALL {
                for s in Reg::ALL {
                    let want = format!("{name} {}, {}", rn(w, d), rn(w, s));
                    c.one(&want, |a| a.alu_rr(op, w, d, s));
                }
            }
        }
    }
}

#[test]
fn rr_misc_all() {
    let mut c = Chk::new();
    for w in W::ALL {
        for d in Reg::ALL {
            for s in Reg::ALL {
                let (dn, sn) = (rn(w, d), rn(w, s));
                c.one(&format!("test {dn}, {sn}"), |a| a.test_rr(w, d, s));
                c.one(&format!("xchg {dn}, {sn}"), |a| a.xchg_rr(w, d, s));
                if w == W::B8 {
                    continue;
                }
                c.one(&format!("imul {dn}, {sn}"), |a| a.imul_rr(w, d, s));
                c.one(&format!("bsr {dn}, {sn}"), |a| a.bsr(w, d, s));
                c.one(&format!("bsf {dn}, {sn}"), |a| a.bsf(w, d, s));
                c.one(&format!("bt {dn}, {sn}"), |a| a.bt_rr(w, d, s));
                for amt in [0u8, 1, 7, 63] {
                    let i = imm_s(W::B8, i64::from(amt));
                    c.one(&format!("shld {dn}, {sn}, {i}"), |a| {
                        a.shld_ri(w, d, s, amt)
                    });
                    c.one(&format!("shrd {dn}, {sn}, {i}"), |a| {
                        a.shrd_ri(w, d, s, amt)
                    });
                }
                for (cc, ccn) in Cc::ALL.into_iter().zip(CC) {
                    c.one(&format!("cmov{ccn} {dn}, {sn}"), |a| a.cmov(w, cc, d, s));
                }
            }
        }
    }
}

#[test]
fn extend_rr_all() {
    let mut c = Chk::new();
    for d in Reg::ALL {
        for s in Reg::ALL {
            c.one(
                &format!("movzx {}, {}", R32[d as usize], R8[s as usize]),
                |a| a.movzx_rr(W::B8, d, s),
            );
            c.one(
                &format!("movzx {}, {}", R32[d as usize], R16[s as usize]),
                |a| a.movzx_rr(W::B16, d, s),
            );
            c.one(
                &format!("mov {}, {}", R32[d as usize], R32[s as usize]),
                |a| a.movzx_rr(W::B32, d, s),
            );
            for (from, to) in [
                (W::B8, W::B32),
                (W::B8, W::B64),
                (W::B16, W::B32),
                (W::B16, W::B64),
                (W::B32, W::B64),
            ] {
                let m = if from == W::B32 { "movsxd" } else { "movsx" };
                c.one(&format!("{m} {}, {}", rn(to, d), rn(from, s)), |a| {
                    a.movsx_rr(from, to, d, s)
                });
            }
        }
    }
}

#[test]
fn one_reg_all() {
    let mut c = Chk::new();
    for r in Reg::ALL {
        for w in W::ALL {
            let n = rn(w, r);
            c.one(&format!("not {n}"), |a| a.not(w, r));
            c.one(&format!("neg {n}"), |a| a.neg(w, r));
            c.one(&format!("mul {n}"), |a| a.mul_r(w, r));
            c.one(&format!("imul {n}"), |a| a.imul_r(w, r));
            c.one(&format!("div {n}"), |a| a.div_r(w, r));
            c.one(&format!("idiv {n}"), |a| a.idiv_r(w, r));
            for (op, on) in Shift::ALL
                .into_iter()
                .zip(["rol", "ror", "shl", "shr", "sar"])
            {
                c.one(&format!("{on} {n}, cl"), |a| a.shift_cl(op, w, r));
                for amt in [0u8, 1, 2, 31, 63, 255] {
                    let b = c.one(&format!("{on} {n}, {}", imm_s(W::B8, amt.into())), |a| {
                        a.shift_ri(op, w, r, amt)
                    });
                    // The by-one form has no immediate byte.
                    let op_at = b.len() - 2 - usize::from(amt != 1);
                    assert_eq!(b[op_at] & 0xFE, if amt == 1 { 0xD0 } else { 0xC0 });
                }
            }
            if w != W::B8 {
                for bit in [0u8, 5, 31, 63] {
                    c.one(&format!("bt {n}, {}", imm_s(W::B8, bit.into())), |a| {
                        a.bt_ri(w, r, bit)
                    });
                }
            }
            if matches!(w, W::B32 | W::B64) {
                c.one(&format!("bswap {n}"), |a| a.bswap(w, r));
            }
        }
        for (cc, ccn) in Cc::ALL.into_iter().zip(CC) {
            c.one(&format!("set{ccn} {}", R8[r as usize]), |a| a.setcc(cc, r));
        }
        c.one(&format!("push {}", R64[r as usize]), |a| a.push(r));
        c.one(&format!("pop {}", R64[r as usize]), |a| a.pop(r));
        c.one(&format!("call {}", R64[r as usize]), |a| a.call_r(r));
        c.one(&format!("jmp {}", R64[r as usize]), |a| a.jmp_r(r));
    }
}

#[test]
fn no_operand() {
    let mut c = Chk::new();
    c.one("cwd", |a| a.cdq_cqo(W::B16));
    c.one("cdq", |a| a.cdq_cqo(W::B32));
    c.one("cqo", |a| a.cdq_cqo(W::B64));
    c.one("ret", |a| a.ret());
    c.one("lahf", |a| a.lahf());
    c.one("sahf", |a| a.sahf());
    c.one("cmc", |a| a.cmc());
    c.one("stc", |a| a.stc());
    c.one("clc", |a| a.clc());
    c.one("ud2", |a| a.ud2());
    c.one("int3", |a| a.int3());
    c.one("nop", |a| a.nop());
}

// ---- immediates ----

const IMMS: [i32; 16] = [
    0,
    1,
    -1,
    127,
    -128,
    128,
    -129,
    255,
    0x7FFF,
    -0x8000,
    0xFFFF,
    0x1_0000,
    0x1234_5678,
    -0x1234_5678,
    i32::MIN,
    i32::MAX,
];

fn imm_fits(w: W, imm: i32) -> bool {
    match w {
        W::B8 => (-0x80..=0xFF).contains(&imm),
        W::B16 => (-0x8000..=0xFFFF).contains(&imm),
        W::B32 | W::B64 => true,
    }
}

#[test]
fn alu_ri_all() {
    let mut c = Chk::new();
    for (op, name) in Alu::ALL.into_iter().zip(ALU) {
        for w in W::ALL {
            for d in Reg::ALL {
                for imm in IMMS {
                    if !imm_fits(w, imm) {
                        bad(|a| a.alu_ri(op, w, d, imm));
                        continue;
                    }
                    let want = format!("{name} {}, {}", rn(w, d), imm_s(w, imm.into()));
                    let b = c.one(&want, |a| a.alu_ri(op, w, d, imm));
                    // Shortest form: imm8 whenever it fits sign-extended.
                    let rex =
                        w == W::B64 || d as u8 >= 8 || (w == W::B8 && matches!(d as u8, 4..=7));
                    let immlen = match w {
                        _ if w == W::B8 || i8::try_from(imm).is_ok() => 1,
                        W::B16 => 2,
                        _ => 4,
                    };
                    let want_len = usize::from(w == W::B16) + usize::from(rex) + 1 + 1 + immlen;
                    assert_eq!(b.len(), want_len, "{want}");
                }
            }
        }
    }
}

#[test]
fn test_ri_all() {
    let mut c = Chk::new();
    for w in W::ALL {
        for r in Reg::ALL {
            for imm in [
                0u32,
                1,
                0x7F,
                0x80,
                0xFF,
                0x100,
                0xFFFF,
                0x1_0000,
                0x7FFF_FFFF,
                0x8000_0000,
                u32::MAX,
            ] {
                let ok = match w {
                    W::B8 => imm <= 0xFF,
                    W::B16 => imm <= 0xFFFF,
                    W::B32 => true,
                    W::B64 => imm <= 0x7FFF_FFFF,
                };
                if !ok {
                    bad(|a| a.test_ri(w, r, imm));
                    bad(|a| a.test_mi(w, Mem::base(r, 0), imm));
                    continue;
                }
                let i = format!("0x{imm:x}");
                c.one(&format!("test {}, {i}", rn(w, r)), |a| a.test_ri(w, r, imm));
                for m in [
                    Mem::base(r, 0),
                    Mem::base(r, -300),
                    Mem::indexed(r, Reg::R9, 2, 4),
                ] {
                    c.one(&format!("test {}{}, {i}", ptr(w), mem_s(m)), |a| {
                        a.test_mi(w, m, imm)
                    });
                }
            }
        }
    }
}

#[test]
fn mov_ri_forms() {
    let mut c = Chk::new();
    for r in Reg::ALL {
        let (n32, n64) = (R32[r as usize], R64[r as usize]);
        let rex = usize::from(r as u8 >= 8);
        // 0: xor r32, r32 (2 bytes, 3 with REX); keep_flags: never xor.
        let b = c.one(&format!("xor {n32}, {n32}"), |a| a.mov_ri(r, 0));
        assert_eq!(b.len(), 2 + rex);
        c.one(&format!("mov {n32}, 0x0"), |a| a.mov_ri_keep_flags(r, 0));
        for v in [1u64, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF] {
            let want = format!("mov {n32}, 0x{v:x}");
            assert_eq!(c.one(&want, |a| a.mov_ri(r, v)).len(), 5 + rex);
            assert_eq!(c.one(&want, |a| a.mov_ri_keep_flags(r, v)).len(), 5 + rex);
        }
        // Negative i32: mov r64, simm32 (REX.W C7 /0, 7 bytes).
        for v in [-1i64, -2, i64::from(i32::MIN)] {
            let want = format!("mov {n64}, 0x{:x}", v as u64);
            assert_eq!(c.one(&want, |a| a.mov_ri(r, v as u64)).len(), 7);
            assert_eq!(c.one(&want, |a| a.mov_ri_keep_flags(r, v as u64)).len(), 7);
        }
        // Anything else: movabs (10 bytes).
        for v in [
            0x1_0000_0000u64,
            0x1234_5678_9ABC_DEF0,
            0x8000_0000_0000_0000,
            (i64::from(i32::MIN) - 1) as u64,
        ] {
            let want = format!("mov {n64}, 0x{v:x}");
            assert_eq!(c.one(&want, |a| a.mov_ri(r, v)).len(), 10);
        }
    }
}

// ---- memory forms ----

#[test]
fn mem_operand_every_form() {
    // Every base, index, scale and displacement class through one
    // instruction, with the length pinned to the shortest encoding.
    let mut c = Chk::new();
    for (k, m) in all_mems().into_iter().enumerate() {
        let r = Reg::ALL[k % 16];
        let b = c.one(
            &format!("add qword ptr {}, {}", mem_s(m), R64[r as usize]),
            |a| a.alu_mr(Alu::Add, W::B64, m, r),
        );
        assert_eq!(b.len(), 2 + mem_len(m), "{}", mem_s(m));
        let b = c.one(&format!("lea {}, {}", R32[r as usize], mem_s(m)), |a| {
            a.lea(W::B32, r, m)
        });
        let rex = usize::from(
            r as u8 >= 8 || m.base as u8 >= 8 || m.index.is_some_and(|(i, _)| i as u8 >= 8),
        );
        assert_eq!(b.len(), rex + 1 + mem_len(m), "{}", mem_s(m));
    }
    assert!(c.n > 19_000);
}

#[test]
fn loads_and_stores() {
    let mut c = Chk::new();
    for (k, m) in some_mems().into_iter().enumerate() {
        let ms = mem_s(m);
        for r in [Reg::ALL[k % 16], Reg::ALL[(k + 5) % 16], Reg::Rsi, Reg::Rsp] {
            let n32 = R32[r as usize];
            c.one(&format!("movzx {n32}, byte ptr {ms}"), |a| {
                a.load(W::B8, r, m)
            });
            c.one(&format!("movzx {n32}, word ptr {ms}"), |a| {
                a.load(W::B16, r, m)
            });
            c.one(&format!("mov {n32}, dword ptr {ms}"), |a| {
                a.load(W::B32, r, m)
            });
            c.one(&format!("mov {}, qword ptr {ms}", R64[r as usize]), |a| {
                a.load(W::B64, r, m)
            });
            for (from, to) in [
                (W::B8, W::B32),
                (W::B8, W::B64),
                (W::B16, W::B32),
                (W::B16, W::B64),
                (W::B32, W::B64),
            ] {
                let mn = if from == W::B32 { "movsxd" } else { "movsx" };
                c.one(&format!("{mn} {}, {}{ms}", rn(to, r), ptr(from)), |a| {
                    a.load_sx(from, to, r, m)
                });
            }
            for w in W::ALL {
                c.one(&format!("mov {}{ms}, {}", ptr(w), rn(w, r)), |a| {
                    a.store(w, m, r)
                });
            }
            c.one(&format!("lea {}, {ms}", R64[r as usize]), |a| {
                a.lea(W::B64, r, m)
            });
        }
        for w in W::ALL {
            for imm in IMMS {
                if !imm_fits(w, imm) {
                    bad(|a| a.store_i(w, m, imm));
                    continue;
                }
                c.one(
                    &format!("mov {}{ms}, {}", ptr(w), imm_s(w, imm.into())),
                    |a| a.store_i(w, m, imm),
                );
            }
        }
        c.one(&format!("jmp qword ptr {ms}"), |a| a.jmp_m(m));
    }
}

#[test]
fn alu_memory_forms() {
    let mut c = Chk::new();
    for (k, m) in some_mems().into_iter().enumerate() {
        let ms = mem_s(m);
        let r = Reg::ALL[(k * 7) % 16];
        for (op, name) in Alu::ALL.into_iter().zip(ALU) {
            for w in W::ALL {
                let rs = rn(w, r);
                c.one(&format!("{name} {rs}, {}{ms}", ptr(w)), |a| {
                    a.alu_rm(op, w, r, m)
                });
                c.one(&format!("{name} {}{ms}, {rs}", ptr(w)), |a| {
                    a.alu_mr(op, w, m, r)
                });
                for imm in [0, 5, -1, 200, -300, 0x12345] {
                    if !imm_fits(w, imm) {
                        bad(|a| a.alu_mi(op, w, m, imm));
                        continue;
                    }
                    c.one(
                        &format!("{name} {}{ms}, {}", ptr(w), imm_s(w, imm.into())),
                        |a| a.alu_mi(op, w, m, imm),
                    );
                }
            }
        }
    }
}

#[test]
fn byte_registers_with_memory() {
    // spl/bpl/sil/dil as the register of a memory form need a bare REX.
    let mut c = Chk::new();
    let m = Mem::base(Reg::Rbx, 8);
    for r in Reg::ALL {
        let n = R8[r as usize];
        let b = c.one(&format!("mov byte ptr [rbx+0x8], {n}"), |a| {
            a.store(W::B8, m, r)
        });
        assert_eq!(b.len(), 3 + usize::from(r as u8 >= 4));
        c.one(&format!("add {n}, byte ptr [rbx+0x8]"), |a| {
            a.alu_rm(Alu::Add, W::B8, r, m)
        });
        c.one(&format!("cmp byte ptr [rbx+0x8], {n}"), |a| {
            a.alu_mr(Alu::Cmp, W::B8, m, r)
        });
    }
    c.one("cmp byte ptr [r13], 0x0", |a| {
        a.alu_mi(Alu::Cmp, W::B8, Mem::base(Reg::R13, 0), 0)
    });
    c.one("add qword ptr [rbx+0x8], 0x5", |a| {
        a.alu_mi(Alu::Add, W::B64, m, 5)
    });
}

// ---- errors ----

#[test]
fn bad_operands() {
    bad(|a| a.load(W::B64, Reg::Rax, Mem::indexed(Reg::Rax, Reg::Rsp, 1, 0)));
    bad(|a| a.store(W::B32, Mem::indexed(Reg::Rax, Reg::Rcx, 3, 0), Reg::Rax));
    bad(|a| a.lea(W::B64, Reg::Rax, Mem::indexed(Reg::Rax, Reg::Rcx, 0, 0)));
    bad(|a| a.lea(W::B8, Reg::Rax, Mem::base(Reg::Rax, 0)));
    bad(|a| a.lea(W::B16, Reg::Rax, Mem::base(Reg::Rax, 0)));
    bad(|a| a.cmov(W::B8, Cc::E, Reg::Rax, Reg::Rcx));
    bad(|a| a.imul_rr(W::B8, Reg::Rax, Reg::Rcx));
    bad(|a| a.bswap(W::B16, Reg::Rax));
    bad(|a| a.bsr(W::B8, Reg::Rax, Reg::Rcx));
    bad(|a| a.bsf(W::B8, Reg::Rax, Reg::Rcx));
    bad(|a| a.bt_ri(W::B8, Reg::Rax, 1));
    bad(|a| a.bt_rr(W::B8, Reg::Rax, Reg::Rcx));
    bad(|a| a.shld_ri(W::B8, Reg::Rax, Reg::Rcx, 1));
    bad(|a| a.shrd_ri(W::B8, Reg::Rax, Reg::Rcx, 1));
    bad(|a| a.cdq_cqo(W::B8));
    bad(|a| a.movzx_rr(W::B64, Reg::Rax, Reg::Rcx));
    bad(|a| a.movsx_rr(W::B32, W::B32, Reg::Rax, Reg::Rcx));
    bad(|a| a.movsx_rr(W::B8, W::B16, Reg::Rax, Reg::Rcx));
    bad(|a| a.movsx_rr(W::B64, W::B64, Reg::Rax, Reg::Rcx));
    bad(|a| a.load_sx(W::B16, W::B16, Reg::Rax, Mem::base(Reg::Rax, 0)));
    bad(|a| a.store_i(W::B8, Mem::base(Reg::Rax, 0), 256));
    bad(|a| a.store_i(W::B16, Mem::base(Reg::Rax, 0), 0x1_0000));
    bad(|a| a.alu_ri(Alu::Add, W::B8, Reg::Rax, -129));
    bad(|a| a.test_ri(W::B64, Reg::Rax, 0x8000_0000));
    // The first error is kept; later valid code does not clear it.
    let mut a = Asm::new();
    a.lea(W::B8, Reg::Rax, Mem::base(Reg::Rax, 0));
    a.nop();
    assert_eq!(a.finish(0), Err(EncError::BadOperand));
}

// ---- labels and absolute branches ----

const BASE: u64 = 0x7FFF_1234_0000;

/// Decodes the whole buffer placed at `base`, returning (offset, insn).
fn decode_all(bytes: &[u8], base: u64) -> Vec<(u64, Instruction)> {
    let mut d = Decoder::with_ip(64, bytes, base, DecoderOptions::NONE);
    let mut v = Vec::new();
    while d.can_decode() {
        let i = d.decode();
        assert_ne!(i.code(), Code::INVALID);
        v.push((i.ip() - base, i));
    }
    v
}

#[test]
fn labels_forward_and_backward() {
    for (cc, ccn) in Cc::ALL
        .into_iter()
        .map(Some)
        .chain([None])
        .zip(CC.iter().map(Some).chain([None]))
    {
        let mut a = Asm::new();
        let (fwd, back, far) = (a.new_label(), a.new_label(), a.new_label());
        a.bind(far).unwrap();
        a.bind(back).unwrap();
        a.nop();
        let br = |a: &mut Asm, l| match cc {
            Some(cc) => a.jcc(cc, l),
            None => a.jmp(l),
        };
        br(&mut a, fwd); // offset 1, rel32
        br(&mut a, back); // short backward
        for _ in 0..200 {
            a.nop();
        }
        // `far` is 200+ bytes back: rel32 even though it is bound.
        let at_far = a.len();
        br(&mut a, far);
        a.bind(fwd).unwrap();
        let fwd_off = a.len() as u64;
        a.ret();
        let code = a.finish(BASE).unwrap();
        let insns = decode_all(&code, BASE);
        let branches: Vec<_> = insns
            .iter()
            .filter(|(_, i)| i.near_branch_target() != 0)
            .collect();
        assert_eq!(branches.len(), 3);
        let (o0, i0) = branches[0];
        let (o1, i1) = branches[1];
        let (o2, i2) = branches[2];
        assert_eq!((*o0, i0.len()), (1, if cc.is_some() { 6 } else { 5 }));
        assert_eq!(i0.near_branch_target(), BASE + fwd_off);
        assert_eq!(*o1, 1 + i0.len() as u64);
        assert_eq!(i1.len(), 2, "backward close branch is rel8");
        assert_eq!(i1.near_branch_target(), BASE);
        assert_eq!(*o2, at_far as u64);
        assert!(i2.len() >= 5);
        assert_eq!(i2.near_branch_target(), BASE);
        let mut s = String::new();
        formatter().format_mnemonic(i0, &mut s);
        assert_eq!(s, ccn.map_or("jmp".into(), |n| format!("j{n}")));
    }
}

#[test]
fn absolute_targets() {
    for target in [BASE + 0x1000, BASE - 0x7000_0000, BASE + 5, BASE] {
        let mut a = Asm::new();
        a.nop();
        a.jmp_abs(target);
        a.jcc_abs(Cc::Ne, target);
        a.call_abs(target);
        let code = a.finish(BASE).unwrap();
        let insns = decode_all(&code, BASE);
        assert_eq!(insns.len(), 4);
        for (_, i) in &insns[1..] {
            assert_eq!(i.near_branch_target(), target);
        }
        assert_eq!(insns[3].1.code(), Code::Call_rel32_64);
        assert_eq!(insns[2].1.code(), Code::Jne_rel32_64);
    }
    // Exactly at the edge of rel32, and one past it, both ways.
    let end = BASE + 5;
    let mut a = Asm::new();
    a.jmp_abs(end + i32::MAX as u64);
    assert!(a.finish(BASE).is_ok());
    let mut a = Asm::new();
    a.jmp_abs(end + i32::MAX as u64 + 1);
    assert_eq!(a.finish(BASE), Err(EncError::OutOfRange));
    let mut a = Asm::new();
    a.call_abs(end - 0x8000_0000);
    assert!(a.finish(BASE).is_ok());
    let mut a = Asm::new();
    a.call_abs(end - 0x8000_0001);
    assert_eq!(a.finish(BASE), Err(EncError::OutOfRange));
    let mut a = Asm::new();
    a.jcc_abs(Cc::E, 0);
    assert_eq!(a.finish(u64::MAX - 100), Err(EncError::OutOfRange));
}

#[test]
fn label_errors() {
    let mut a = Asm::new();
    let l = a.new_label();
    a.jmp(l);
    assert_eq!(a.finish(0), Err(EncError::UnboundLabel));

    let mut a = Asm::new();
    let l = a.new_label();
    a.bind(l).unwrap();
    assert_eq!(a.bind(l), Err(EncError::AlreadyBound));
    assert_eq!(a.finish(0), Err(EncError::AlreadyBound));

    // A label of another Asm.
    let mut other = Asm::new();
    let _ = other.new_label();
    let foreign = other.new_label();
    let mut a = Asm::new();
    a.jmp(foreign);
    assert_eq!(a.finish(0), Err(EncError::BadOperand));
    let mut a = Asm::new();
    assert_eq!(a.bind(foreign), Err(EncError::BadOperand));
}

#[test]
fn cc_invert() {
    for (k, cc) in Cc::ALL.into_iter().enumerate() {
        assert_eq!(cc.invert().invert(), cc);
        assert_ne!(cc.invert(), cc);
        assert_eq!(cc.invert() as usize, k ^ 1);
    }
    assert_eq!(Cc::E.invert(), Cc::Ne);
    assert_eq!(Cc::L.invert(), Cc::Ge);
    assert_eq!(Cc::A.invert(), Cc::Be);
}

#[test]
fn sequence_decodes_in_order() {
    // Instructions appended to one buffer stay independent.
    let mut a = Asm::new();
    a.push(Reg::R12);
    a.mov_ri(Reg::Rax, 0x1234_5678_9ABC_DEF0);
    a.alu_mi(Alu::Add, W::B64, Mem::base(Reg::Rbx, 8), 5);
    a.setcc(Cc::B, Reg::Rsi);
    a.pop(Reg::R12);
    a.ret();
    let code = a.finish(0x1000).unwrap();
    let mut f = formatter();
    let texts: Vec<String> = decode_all(&code, 0x1000)
        .iter()
        .map(|(_, i)| {
            let mut s = String::new();
            f.format(i, &mut s);
            s
        })
        .collect();
    assert_eq!(
        texts,
        vec![
            "push r12",
            "mov rax, 0x123456789abcdef0",
            "add qword ptr [rbx+0x8], 0x5",
            "setb sil",
            "pop r12",
            "ret"
        ]
    );
}

#[test]
fn rel8_boundary() {
    // A backward branch takes rel8 exactly while the displacement from its
    // end is >= -128.
    for (nops, want_len) in [(126, 2), (127, 5)] {
        for cc in [None, Some(Cc::L)] {
            let mut a = Asm::new();
            let l = a.new_label();
            a.bind(l).unwrap();
            for _ in 0..nops {
                a.nop();
            }
            match cc {
                None => a.jmp(l),
                Some(cc) => a.jcc(cc, l),
            }
            let code = a.finish(BASE).unwrap();
            let (off, i) = decode_all(&code, BASE).pop().unwrap();
            assert_eq!(off, nops);
            let want_len = if cc.is_some() && want_len == 5 {
                6
            } else {
                want_len
            };
            assert_eq!(i.len(), want_len);
            assert_eq!(i.near_branch_target(), BASE);
        }
    }
}

#[test]
fn finish_without_fixups_is_the_bytes() {
    let mut a = Asm::new();
    a.mov_ri(Reg::R15, u64::MAX);
    a.store(W::B8, Mem::indexed(Reg::R12, Reg::R13, 8, 0), Reg::Rdi);
    let raw = a.bytes().to_vec();
    assert!(!a.is_empty());
    assert_eq!(a.len(), raw.len());
    assert_eq!(a.finish(0xFFFF_FFFF_0000).unwrap(), raw);
}

// ---- SSE ----

/// The reference name and memory operand size of each SSE operation.
fn sse_ref(op: Sse) -> (&'static str, &'static str) {
    match op {
        Sse::Movq => ("movq", "qword ptr "),
        Sse::Movd => ("movd", "dword ptr "),
        Sse::Movups => ("movups", "xmmword ptr "),
        Sse::Movss => ("movss", "dword ptr "),
        Sse::Addsd => ("addsd", "qword ptr "),
        Sse::Subsd => ("subsd", "qword ptr "),
        Sse::Mulsd => ("mulsd", "qword ptr "),
        Sse::Divsd => ("divsd", "qword ptr "),
        Sse::Addss => ("addss", "dword ptr "),
        Sse::Subss => ("subss", "dword ptr "),
        Sse::Mulss => ("mulss", "dword ptr "),
        Sse::Divss => ("divss", "dword ptr "),
        Sse::Ucomisd => ("ucomisd", "qword ptr "),
        Sse::Ucomiss => ("ucomiss", "dword ptr "),
        Sse::Xorps => ("xorps", "xmmword ptr "),
        Sse::Pand => ("pand", "xmmword ptr "),
        Sse::Pandn => ("pandn", "xmmword ptr "),
        Sse::Por => ("por", "xmmword ptr "),
        Sse::Pxor => ("pxor", "xmmword ptr "),
        Sse::Pcmpeqb => ("pcmpeqb", "xmmword ptr "),
        Sse::Pcmpeqw => ("pcmpeqw", "xmmword ptr "),
        Sse::Pcmpeqd => ("pcmpeqd", "xmmword ptr "),
        Sse::Paddb => ("paddb", "xmmword ptr "),
        Sse::Paddw => ("paddw", "xmmword ptr "),
        Sse::Paddd => ("paddd", "xmmword ptr "),
        Sse::Paddq => ("paddq", "xmmword ptr "),
        Sse::Psubb => ("psubb", "xmmword ptr "),
        Sse::Psubw => ("psubw", "xmmword ptr "),
        Sse::Psubd => ("psubd", "xmmword ptr "),
        Sse::Psubq => ("psubq", "xmmword ptr "),
        Sse::Punpcklbw => ("punpcklbw", "xmmword ptr "),
        Sse::Punpcklwd => ("punpcklwd", "xmmword ptr "),
        Sse::Punpckldq => ("punpckldq", "xmmword ptr "),
        Sse::Pcmpgtb => ("pcmpgtb", "xmmword ptr "),
        Sse::Pcmpgtw => ("pcmpgtw", "xmmword ptr "),
        Sse::Pcmpgtd => ("pcmpgtd", "xmmword ptr "),
        Sse::Sqrtsd => ("sqrtsd", "qword ptr "),
        Sse::Sqrtss => ("sqrtss", "dword ptr "),
        Sse::Cvtss2sd => ("cvtss2sd", "dword ptr "),
        Sse::Cvtsd2ss => ("cvtsd2ss", "qword ptr "),
        Sse::Maxsd => ("maxsd", "qword ptr "),
        Sse::Maxss => ("maxss", "dword ptr "),
        Sse::Minsd => ("minsd", "qword ptr "),
        Sse::Minss => ("minss", "dword ptr "),
        Sse::Addps => ("addps", "xmmword ptr "),
        Sse::Addpd => ("addpd", "xmmword ptr "),
        Sse::Subps => ("subps", "xmmword ptr "),
        Sse::Subpd => ("subpd", "xmmword ptr "),
        Sse::Mulps => ("mulps", "xmmword ptr "),
        Sse::Mulpd => ("mulpd", "xmmword ptr "),
        Sse::Divps => ("divps", "xmmword ptr "),
        Sse::Divpd => ("divpd", "xmmword ptr "),
    }
}

#[test]
fn sse_register_and_memory_forms() {
    let mut c = Chk::new();
    for op in Sse::ALL {
        let (name, size) = sse_ref(op);
        for d in 0..16 {
            for s in 0..16 {
                // movd xmm, xmm has no such form: movd's source is r/m32.
                if op != Sse::Movd {
                    c.one(&format!("{name} xmm{d}, xmm{s}"), |a| {
                        a.sse_rr(op, Xmm(d), Xmm(s))
                    });
                }
            }
            for m in some_mems() {
                c.one(&format!("{name} xmm{d}, {size}{}", mem_s(m)), |a| {
                    a.sse_rm(op, Xmm(d), m)
                });
            }
        }
    }
    for x in 0..16 {
        for m in some_mems() {
            c.one(&format!("movups xmmword ptr {}, xmm{x}", mem_s(m)), |a| {
                a.movups_store(m, Xmm(x))
            });
            c.one(&format!("movq qword ptr {}, xmm{x}", mem_s(m)), |a| {
                a.movq_store(m, Xmm(x))
            });
        }
        let names = [
            "psrlw", "psraw", "psllw", "psrld", "psrad", "pslld", "psrlq", "psllq", "psrldq",
            "pslldq",
        ];
        for (op, name) in SseShift::ALL.into_iter().zip(names) {
            for amount in [0u8, 1, 8, 15, 63] {
                let i = imm_s(W::B8, i64::from(amount));
                c.one(&format!("{name} xmm{x}, {i}"), |a| {
                    a.sse_shift(op, Xmm(x), amount)
                });
            }
        }
        for y in 0..16 {
            for (op, name) in [
                (SseShuffle::Pshufd, "pshufd"),
                (SseShuffle::Pshuflw, "pshuflw"),
                (SseShuffle::Pshufhw, "pshufhw"),
            ] {
                c.one(&format!("{name} xmm{x}, xmm{y}, 0xb1"), |a| {
                    a.sse_shuffle(op, Xmm(x), Xmm(y), 0xb1)
                });
            }
        }
    }
}

#[test]
fn sse_general_register_moves() {
    let mut c = Chk::new();
    for x in 0..16u8 {
        for r in Reg::ALL {
            for (w, name) in [(W::B32, "movd"), (W::B64, "movq")] {
                let (rn, xn) = (rn(w, r), format!("xmm{x}"));
                c.one(&format!("{name} {rn}, {xn}"), |a| {
                    a.mov_from_xmm(w, r, Xmm(x))
                });
                c.one(&format!("{name} {xn}, {rn}"), |a| {
                    a.mov_to_xmm(w, Xmm(x), r)
                });
            }
        }
    }
    bad(|a| a.mov_from_xmm(W::B16, Reg::Rax, Xmm(0)));
    bad(|a| a.mov_to_xmm(W::B8, Xmm(0), Reg::Rax));
}

#[test]
fn movzx_from_ah() {
    let mut c = Chk::new();
    for (r, name) in [Reg::Rax, Reg::Rcx, Reg::Rdx, Reg::Rbx]
        .into_iter()
        .zip(["eax", "ecx", "edx", "ebx"])
    {
        c.one(&format!("movzx {name}, ah"), |a| a.movzx_ah(r));
    }
    bad(|a| a.movzx_ah(Reg::Rsi));
    bad(|a| a.movzx_ah(Reg::R8));
}

#[test]
fn sse_int_conversions() {
    let mut c = Chk::new();
    for x in 0..16u8 {
        for r in Reg::ALL {
            for (w, _) in [(W::B32, ()), (W::B64, ())] {
                let (rn, xn) = (rn(w, r), format!("xmm{x}"));
                c.one(&format!("cvtsi2sd {xn}, {rn}"), |a| {
                    a.cvt_from_int(true, w, Xmm(x), r)
                });
                c.one(&format!("cvtsi2ss {xn}, {rn}"), |a| {
                    a.cvt_from_int(false, w, Xmm(x), r)
                });
                c.one(&format!("cvttsd2si {rn}, {xn}"), |a| {
                    a.cvt_to_int(true, w, r, Xmm(x))
                });
                c.one(&format!("cvttss2si {rn}, {xn}"), |a| {
                    a.cvt_to_int(false, w, r, Xmm(x))
                });
            }
        }
    }
    bad(|a| a.cvt_from_int(true, W::B16, Xmm(0), Reg::Rax));
    bad(|a| a.cvt_to_int(true, W::B8, Reg::Rax, Xmm(0)));
}

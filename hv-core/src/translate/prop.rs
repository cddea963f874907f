//! Property test: random sequences of data-processing instructions with
//! random operands, run by the interpreter (split into blocks of random
//! size) and checked against a reference written here, separately from the
//! interpreter: flags from wide (u128/i128) arithmetic, bit-field aliases by
//! their textbook definitions, logical immediates built from element size,
//! run length and rotation and encoded from those.

use super::asm;
use super::{Cpu, CpuConfig, Exit, FlatBus};
use crate::addr::GuestAddress;
use crate::mem::{GuestMemory, GuestRam};
use crate::mmio::MmioBus;
use alloc::vec;
use alloc::vec::Vec;
use proptest::prelude::*;

const RAM: u64 = 0x4000_0000;
/// Registers the generated code uses (small, so results feed each other).
const REGS: u32 = 8;

#[derive(Clone, Debug)]
enum Op {
    AddSubImm {
        sf: bool,
        sub: bool,
        s: bool,
        sh: bool,
        imm: u32,
        rd: u32,
        rn: u32,
    },
    AddSubReg {
        sf: bool,
        sub: bool,
        s: bool,
        shift: u32,
        amt: u32,
        rd: u32,
        rn: u32,
        rm: u32,
    },
    Carry {
        sf: bool,
        sub: bool,
        s: bool,
        rd: u32,
        rn: u32,
        rm: u32,
    },
    LogicReg {
        sf: bool,
        opc: u32,
        inv: bool,
        shift: u32,
        amt: u32,
        rd: u32,
        rn: u32,
        rm: u32,
    },
    LogicImm {
        sf: bool,
        opc: u32,
        esize: u32,
        ones: u32,
        rot: u32,
        rd: u32,
        rn: u32,
    },
    MovW {
        sf: bool,
        opc: u32,
        hw: u32,
        imm: u32,
        rd: u32,
    },
    Csel {
        sf: bool,
        op: u32,
        o2: u32,
        cond: u32,
        rd: u32,
        rn: u32,
        rm: u32,
    },
    Ccmp {
        sf: bool,
        sub: bool,
        imm: bool,
        rm: u32,
        cond: u32,
        rn: u32,
        nzcv: u32,
    },
    ShiftV {
        sf: bool,
        kind: u32,
        rd: u32,
        rn: u32,
        rm: u32,
    },
    Mul {
        sf: bool,
        kind: u32,
        rd: u32,
        rn: u32,
        rm: u32,
        ra: u32,
    },
    Div {
        sf: bool,
        signed: bool,
        rd: u32,
        rn: u32,
        rm: u32,
    },
    Field {
        sf: bool,
        kind: u32,
        lsb: u32,
        width: u32,
        rd: u32,
        rn: u32,
    },
    Bits {
        sf: bool,
        kind: u32,
        rd: u32,
        rn: u32,
    },
}

fn reg() -> impl Strategy<Value = u32> {
    0..REGS
}

fn op() -> impl Strategy<Value = Op> {
    let b = any::<bool>;
    prop_oneof![
        (b(), b(), b(), b(), 0..4096u32, reg(), reg()).prop_map(|(sf, sub, s, sh, imm, rd, rn)| {
            Op::AddSubImm {
                sf,
                sub,
                s,
                sh,
                imm,
                rd,
                rn,
            }
        }),
        (b(), b(), b(), 0..3u32, 0..64u32, reg(), reg(), reg()).prop_map(
            |(sf, sub, s, shift, amt, rd, rn, rm)| Op::AddSubReg {
                sf,
                sub,
                s,
                shift,
                amt: if sf { amt } else { amt % 32 },
                rd,
                rn,
                rm
            }
        ),
        (b(), b(), b(), reg(), reg(), reg()).prop_map(|(sf, sub, s, rd, rn, rm)| Op::Carry {
            sf,
            sub,
            s,
            rd,
            rn,
            rm
        }),
        (b(), 0..4u32, b(), 0..4u32, 0..64u32, reg(), reg(), reg()).prop_map(
            |(sf, opc, inv, shift, amt, rd, rn, rm)| Op::LogicReg {
                sf,
                opc,
                inv,
                shift,
                amt: if sf { amt } else { amt % 32 },
                rd,
                rn,
                rm
            }
        ),
        (
            b(),
            0..4u32,
            1..6u32,
            any::<u32>(),
            any::<u32>(),
            reg(),
            reg()
        )
            .prop_map(|(sf, opc, log, a, r, rd, rn)| {
                // Element size 2..=64 (at most 32 for 32-bit operations).
                let log = if sf { log } else { log.min(5) };
                let esize = 1u32 << log;
                let esize = if sf && log == 5 && a % 2 == 0 {
                    64
                } else {
                    esize
                };
                Op::LogicImm {
                    sf,
                    opc,
                    esize,
                    ones: 1 + a % (esize - 1),
                    rot: r % esize,
                    rd,
                    rn,
                }
            }),
        (
            b(),
            prop_oneof![Just(0u32), Just(2), Just(3)],
            0..4u32,
            any::<u16>(),
            reg()
        )
            .prop_map(|(sf, opc, hw, imm, rd)| Op::MovW {
                sf,
                opc,
                hw: if sf { hw } else { hw % 2 },
                imm: u32::from(imm),
                rd
            }),
        (b(), 0..2u32, 0..2u32, 0..14u32, reg(), reg(), reg()).prop_map(
            |(sf, op, o2, cond, rd, rn, rm)| Op::Csel {
                sf,
                op,
                o2,
                cond,
                rd,
                rn,
                rm
            }
        ),
        (b(), b(), b(), 0..32u32, 0..14u32, reg(), 0..16u32).prop_map(
            |(sf, sub, imm, rm, cond, rn, nzcv)| Op::Ccmp {
                sf,
                sub,
                imm,
                rm: if imm { rm } else { rm % REGS },
                cond,
                rn,
                nzcv
            }
        ),
        (b(), 0..4u32, reg(), reg(), reg()).prop_map(|(sf, kind, rd, rn, rm)| Op::ShiftV {
            sf,
            kind,
            rd,
            rn,
            rm
        }),
        (b(), 0..8u32, reg(), reg(), reg(), reg()).prop_map(|(sf, kind, rd, rn, rm, ra)| Op::Mul {
            sf,
            kind,
            rd,
            rn,
            rm,
            ra
        }),
        (b(), b(), reg(), reg(), reg()).prop_map(|(sf, signed, rd, rn, rm)| Op::Div {
            sf,
            signed,
            rd,
            rn,
            rm
        }),
        (b(), 0..5u32, 0..64u32, 1..65u32, reg(), reg()).prop_map(
            |(sf, kind, lsb, width, rd, rn)| {
                let size = if sf { 64 } else { 32 };
                let lsb = lsb % size;
                let width = 1 + (width - 1) % (size - lsb);
                Op::Field {
                    sf,
                    kind,
                    lsb,
                    width,
                    rd,
                    rn,
                }
            }
        ),
        (b(), 0..4u32, reg(), reg()).prop_map(|(sf, kind, rd, rn)| Op::Bits { sf, kind, rd, rn }),
    ]
}

/// Encode an op with the test assembler.
fn encode(op: &Op) -> u32 {
    match *op {
        Op::AddSubImm {
            sf,
            sub,
            s,
            sh,
            imm,
            rd,
            rn,
        } => asm::addsub_imm(sf, u32::from(sub), s, sh, imm, rn, rd),
        Op::AddSubReg {
            sf,
            sub,
            s,
            shift,
            amt,
            rd,
            rn,
            rm,
        } => asm::addsub_reg(sf, u32::from(sub), s, shift, rm, amt, rn, rd),
        Op::Carry {
            sf,
            sub,
            s,
            rd,
            rn,
            rm,
        } => asm::addsub_carry(sf, u32::from(sub), s, rm, rn, rd),
        Op::LogicReg {
            sf,
            opc,
            inv,
            shift,
            amt,
            rd,
            rn,
            rm,
        } => asm::logic_reg(sf, opc, inv, shift, rm, amt, rn, rd),
        Op::LogicImm {
            sf,
            opc,
            esize,
            ones,
            rot,
            rd,
            rn,
        } => {
            // imms: a size marker (ones above a zero) then `ones - 1`.
            let n = esize == 64;
            let marker = if n { 0 } else { (!(esize * 2 - 1)) & 0x3f };
            let imms = marker | (ones - 1);
            // ROR by `rot` of the element is encoded directly as immr.
            asm::logic_imm(sf, opc, n, rot, imms, rn, rd)
        }
        Op::MovW {
            sf,
            opc,
            hw,
            imm,
            rd,
        } => asm::movw(sf, opc, hw, imm, rd),
        Op::Csel {
            sf,
            op,
            o2,
            cond,
            rd,
            rn,
            rm,
        } => asm::csel(sf, op, o2, rm, cond, rn, rd),
        Op::Ccmp {
            sf,
            sub,
            imm,
            rm,
            cond,
            rn,
            nzcv,
        } => asm::ccmp(sf, u32::from(sub), imm, rm, cond, rn, nzcv),
        Op::ShiftV {
            sf,
            kind,
            rd,
            rn,
            rm,
        } => asm::dp2(sf, 8 + kind, rm, rn, rd),
        Op::Mul {
            sf,
            kind,
            rd,
            rn,
            rm,
            ra,
        } => match kind {
            0 => asm::dp3(sf, 0, 0, rm, ra, rn, rd),
            1 => asm::dp3(sf, 0, 1, rm, ra, rn, rd),
            2 => asm::dp3(true, 1, 0, rm, ra, rn, rd),
            3 => asm::dp3(true, 1, 1, rm, ra, rn, rd),
            4 => asm::dp3(true, 5, 0, rm, ra, rn, rd),
            5 => asm::dp3(true, 5, 1, rm, ra, rn, rd),
            6 => asm::dp3(true, 2, 0, rm, 31, rn, rd),
            _ => asm::dp3(true, 6, 0, rm, 31, rn, rd),
        },
        Op::Div {
            sf,
            signed,
            rd,
            rn,
            rm,
        } => asm::dp2(sf, 2 + u32::from(signed), rm, rn, rd),
        Op::Field {
            sf,
            kind,
            lsb,
            width,
            rd,
            rn,
        } => {
            let size = if sf { 64 } else { 32 };
            let (opc, immr, imms) = match kind {
                0 => (2, lsb, lsb + width - 1),           // UBFX
                1 => (0, lsb, lsb + width - 1),           // SBFX
                2 => (2, (size - lsb) % size, width - 1), // UBFIZ
                3 => (1, (size - lsb) % size, width - 1), // BFI
                _ => (1, lsb, lsb + width - 1),           // BFXIL
            };
            asm::bitfield(sf, opc, immr, imms, rn, rd)
        }
        Op::Bits { sf, kind, rd, rn } => {
            let opcode = [4, 0, if sf { 3 } else { 2 }, 5][kind as usize % 4];
            asm::dp1(sf, opcode, rn, rd)
        }
    }
}

/// The reference machine state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ref {
    x: [u64; REGS as usize],
    n: bool,
    z: bool,
    c: bool,
    v: bool,
}

fn width_mask(sf: bool) -> u64 {
    if sf {
        u64::MAX
    } else {
        0xffff_ffff
    }
}

fn bits_of(sf: bool) -> u32 {
    if sf {
        64
    } else {
        32
    }
}

/// Signed value of the low `bits` of `x`.
fn signed(x: u64, bits: u32) -> i128 {
    if bits == 64 {
        i128::from(x as i64)
    } else {
        i128::from(x as u32 as i32)
    }
}

impl Ref {
    fn get(&self, r: u32) -> u64 {
        self.x[r as usize]
    }
    fn set(&mut self, r: u32, v: u64, sf: bool) {
        self.x[r as usize] = v & width_mask(sf);
    }

    /// a + b + carry_in with flags from exact wide arithmetic.
    fn add(&mut self, sf: bool, a: u64, b: u64, cin: u64, flags: bool) -> u64 {
        let bits = bits_of(sf);
        let m = width_mask(sf);
        let (a, b) = (a & m, b & m);
        let wide = u128::from(a) + u128::from(b) + u128::from(cin);
        let r = (wide as u64) & m;
        if flags {
            let sres = signed(a, bits) + signed(b, bits) + i128::from(cin);
            self.n = signed(r, bits) < 0;
            self.z = r == 0;
            self.c = wide > u128::from(m);
            self.v = sres != signed(r, bits);
        }
        r
    }

    fn cond(&self, cond: u32) -> bool {
        match cond {
            0 => self.z,
            1 => !self.z,
            2 => self.c,
            3 => !self.c,
            4 => self.n,
            5 => !self.n,
            6 => self.v,
            7 => !self.v,
            8 => self.c && !self.z,
            9 => !self.c || self.z,
            10 => self.n == self.v,
            11 => self.n != self.v,
            12 => !self.z && self.n == self.v,
            13 => self.z || self.n != self.v,
            _ => true,
        }
    }

    fn shifted(&self, sf: bool, v: u64, shift: u32, amt: u32) -> u64 {
        let bits = bits_of(sf);
        let v = v & width_mask(sf);
        let r = match shift {
            0 => v << amt,
            1 => v >> amt,
            2 => (signed(v, bits) >> amt) as u64,
            _ => {
                if amt == 0 {
                    v
                } else {
                    (v >> amt) | (v << (bits - amt))
                }
            }
        };
        r & width_mask(sf)
    }

    fn step(&mut self, op: &Op) {
        match *op {
            Op::AddSubImm {
                sf,
                sub,
                s,
                sh,
                imm,
                rd,
                rn,
            } => {
                let b = u64::from(imm) << if sh { 12 } else { 0 };
                let a = self.get(rn);
                let r = if sub {
                    self.add(sf, a, !b, 1, s)
                } else {
                    self.add(sf, a, b, 0, s)
                };
                self.set(rd, r, sf);
            }
            Op::AddSubReg {
                sf,
                sub,
                s,
                shift,
                amt,
                rd,
                rn,
                rm,
            } => {
                let b = self.shifted(sf, self.get(rm), shift, amt);
                let a = self.get(rn);
                let r = if sub {
                    self.add(sf, a, !b, 1, s)
                } else {
                    self.add(sf, a, b, 0, s)
                };
                self.set(rd, r, sf);
            }
            Op::Carry {
                sf,
                sub,
                s,
                rd,
                rn,
                rm,
            } => {
                let b = self.get(rm);
                let b = if sub { !b } else { b };
                let r = self.add(sf, self.get(rn), b, u64::from(self.c), s);
                self.set(rd, r, sf);
            }
            Op::LogicReg {
                sf,
                opc,
                inv,
                shift,
                amt,
                rd,
                rn,
                rm,
            } => {
                let mut b = self.shifted(sf, self.get(rm), shift, amt);
                if inv {
                    b = !b & width_mask(sf);
                }
                self.logic(sf, opc, rd, rn, b);
            }
            Op::LogicImm {
                sf,
                opc,
                esize,
                ones,
                rot,
                rd,
                rn,
            } => {
                // Element: `ones` low bits set, rotated right by `rot`.
                let emask = if esize == 64 {
                    u64::MAX
                } else {
                    (1u64 << esize) - 1
                };
                let run = (1u64 << ones) - 1;
                let mut elem = run;
                for _ in 0..rot {
                    elem = ((elem >> 1) | ((elem & 1) << (esize - 1))) & emask;
                }
                let mut imm = 0u64;
                let mut i = 0;
                while i < 64 {
                    imm |= elem << i;
                    i += esize;
                }
                self.logic(sf, opc, rd, rn, imm & width_mask(sf));
            }
            Op::MovW {
                sf,
                opc,
                hw,
                imm,
                rd,
            } => {
                let v = u64::from(imm) << (16 * hw);
                let r = match opc {
                    0 => !v,
                    2 => v,
                    _ => (self.get(rd) & !(0xffffu64 << (16 * hw))) | v,
                };
                self.set(rd, r, sf);
            }
            Op::Csel {
                sf,
                op,
                o2,
                cond,
                rd,
                rn,
                rm,
            } => {
                let r = if self.cond(cond) {
                    self.get(rn)
                } else {
                    let b = self.get(rm);
                    match (op, o2) {
                        (0, 0) => b,
                        (0, _) => b.wrapping_add(1),
                        (_, 0) => !b,
                        _ => 0u64.wrapping_sub(b),
                    }
                };
                self.set(rd, r, sf);
            }
            Op::Ccmp {
                sf,
                sub,
                imm,
                rm,
                cond,
                rn,
                nzcv,
            } => {
                if self.cond(cond) {
                    let b = if imm { u64::from(rm) } else { self.get(rm) };
                    if sub {
                        self.add(sf, self.get(rn), !b, 1, true);
                    } else {
                        self.add(sf, self.get(rn), b, 0, true);
                    }
                } else {
                    self.n = nzcv & 8 != 0;
                    self.z = nzcv & 4 != 0;
                    self.c = nzcv & 2 != 0;
                    self.v = nzcv & 1 != 0;
                }
            }
            Op::ShiftV {
                sf,
                kind,
                rd,
                rn,
                rm,
            } => {
                let amt = (self.get(rm) % u64::from(bits_of(sf))) as u32;
                let r = self.shifted(sf, self.get(rn), kind, amt);
                self.set(rd, r, sf);
            }
            Op::Mul {
                sf,
                kind,
                rd,
                rn,
                rm,
                ra,
            } => {
                let (n, m, a) = (self.get(rn), self.get(rm), self.get(ra));
                let sw = |x: u64| i128::from(x as u32 as i32);
                let uw = |x: u64| i128::from(x as u32);
                let r: i128 = match kind {
                    // Only the low 64 bits are kept, so wrapping is exact.
                    0 => i128::from(a).wrapping_add(i128::from(n).wrapping_mul(i128::from(m))),
                    1 => i128::from(a).wrapping_sub(i128::from(n).wrapping_mul(i128::from(m))),
                    2 => i128::from(a) + sw(n) * sw(m),
                    3 => i128::from(a) - sw(n) * sw(m),
                    4 => i128::from(a) + uw(n) * uw(m),
                    5 => i128::from(a) - uw(n) * uw(m),
                    6 => (i128::from(n as i64) * i128::from(m as i64)) >> 64,
                    _ => ((u128::from(n) * u128::from(m)) >> 64) as i128,
                };
                let wide = kind >= 2;
                self.set(rd, r as u64, sf || wide);
            }
            Op::Div {
                sf,
                signed: sg,
                rd,
                rn,
                rm,
            } => {
                let bits = bits_of(sf);
                let (n, m) = (self.get(rn) & width_mask(sf), self.get(rm) & width_mask(sf));
                let r = if m == 0 {
                    0
                } else if sg {
                    // Truncating division of exact values, wrapped to the width.
                    (signed(n, bits) / signed(m, bits)) as u64
                } else {
                    n / m
                };
                self.set(rd, r, sf);
            }
            Op::Field {
                sf,
                kind,
                lsb,
                width,
                rd,
                rn,
            } => {
                let src = self.get(rn) & width_mask(sf);
                let fmask = if width == 64 {
                    u64::MAX
                } else {
                    (1u64 << width) - 1
                };
                let r = match kind {
                    0 => (src >> lsb) & fmask,
                    1 => {
                        let f = (src >> lsb) & fmask;
                        let top = width - 1;
                        if (f >> top) & 1 == 1 {
                            f | !fmask
                        } else {
                            f
                        }
                    }
                    2 => (src & fmask) << lsb,
                    3 => (self.get(rd) & !(fmask << lsb)) | ((src & fmask) << lsb),
                    _ => (self.get(rd) & !fmask) | ((src >> lsb) & fmask),
                };
                self.set(rd, r, sf);
            }
            Op::Bits { sf, kind, rd, rn } => {
                let bits = bits_of(sf);
                let v = self.get(rn) & width_mask(sf);
                let r = match kind {
                    0 => {
                        // CLZ by scanning from the top.
                        let mut c = 0u64;
                        for i in (0..bits).rev() {
                            if (v >> i) & 1 == 1 {
                                break;
                            }
                            c += 1;
                        }
                        c
                    }
                    1 => {
                        let mut r = 0u64;
                        for i in 0..bits {
                            if (v >> i) & 1 == 1 {
                                r |= 1 << (bits - 1 - i);
                            }
                        }
                        r
                    }
                    2 => {
                        let mut r = 0u64;
                        for i in 0..bits / 8 {
                            let byte = (v >> (8 * i)) & 0xff;
                            r |= byte << (bits - 8 - 8 * i);
                        }
                        r
                    }
                    _ => {
                        // CLS: run of bits equal to the sign bit, minus one.
                        let sign = (v >> (bits - 1)) & 1;
                        let mut c = 0u64;
                        for i in (0..bits - 1).rev() {
                            if (v >> i) & 1 != sign {
                                break;
                            }
                            c += 1;
                        }
                        c
                    }
                };
                self.set(rd, r, sf);
            }
        }
    }

    fn logic(&mut self, sf: bool, opc: u32, rd: u32, rn: u32, b: u64) {
        let a = self.get(rn) & width_mask(sf);
        let r = match opc {
            0 | 3 => a & b,
            1 => a | b,
            _ => a ^ b,
        } & width_mask(sf);
        if opc == 3 {
            self.n = signed(r, bits_of(sf)) < 0;
            self.z = r == 0;
            self.c = false;
            self.v = false;
        }
        self.set(rd, r, sf);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn interpreter_matches_reference(
        ops in proptest::collection::vec(op(), 1..40),
        init in proptest::array::uniform8(any::<u64>()),
        flags in 0..16u32,
        block in 1..48usize,
    ) {
        let mut prog: Vec<u32> = ops.iter().map(encode).collect();
        prog.push(asm::hvc(0xffff));
        let ram = GuestRam::with_size(GuestAddress(RAM), 0x1000).unwrap();
        for (i, w) in prog.iter().enumerate() {
            ram.write_u32(GuestAddress(RAM + 4 * i as u64), *w).unwrap();
        }
        let mut bus = FlatBus::new(ram, MmioBus::new());
        let config = CpuConfig { max_block_insns: block, ..CpuConfig::default() };
        let mut cpu = Cpu::new(config).unwrap();
        cpu.reset(RAM);
        let mut r = Ref {
            x: init,
            n: flags & 8 != 0,
            z: flags & 4 != 0,
            c: flags & 2 != 0,
            v: flags & 1 != 0,
        };
        for (i, v) in init.iter().enumerate() {
            cpu.set_x(i as u8, *v);
        }
        cpu.set_nzcv(flags << 28);
        for op in &ops {
            r.step(op);
        }
        prop_assert_eq!(cpu.run(&mut bus, 10_000), Exit::Hvc { imm: 0xffff });
        for i in 0..REGS {
            prop_assert_eq!(cpu.x(i as u8), r.x[i as usize], "x{}", i);
        }
        let want = (u32::from(r.n) << 31) | (u32::from(r.z) << 30) | (u32::from(r.c) << 29) | (u32::from(r.v) << 28);
        prop_assert_eq!(cpu.nzcv(), want);
    }
}

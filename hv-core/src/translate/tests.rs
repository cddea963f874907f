//! Instruction-level tests of the interpreter: small hand-assembled
//! programs run on a flat machine, with expected values computed by hand
//! from the Arm ARM's definitions.

use super::asm::*;
use super::decode::{decode, SP};
use super::exception::{Spsr, VectorKind};
use super::sysreg;
use super::{Cpu, CpuConfig, Exit, FlatBus};
use crate::addr::GuestAddress;
use crate::mem::{GuestMemory, GuestRam};
use crate::mmio::{AccessWidth, MmioBus, MmioDevice};
use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

const RAM: u64 = 0x4000_0000;
const RAM_SIZE: u64 = 0x2_0000;
const VBAR: u64 = 0x4000_8000;
const DATA: u64 = 0x4001_0000;
const STACK: u64 = 0x4001_f000;
const HALT_IMM: u16 = 0xffff;
const HALT: u32 = hvc(HALT_IMM as u32);
const N: u32 = 1 << 31;
const Z: u32 = 1 << 30;
const C: u32 = 1 << 29;
const V: u32 = 1 << 28;

struct Machine {
    cpu: Cpu,
    bus: FlatBus<GuestRam>,
}

/// Each vector of the table at VBAR is `HVC #(0x100 + index)`, so a test
/// sees which vector was taken as an exit.
fn vector_hvc(kind: VectorKind, group: u64) -> u16 {
    0x100 + (group * 4 + kind as u64) as u16
}

impl Machine {
    fn with_config(prog: &[u32], config: CpuConfig) -> Machine {
        let ram = GuestRam::with_size(GuestAddress(RAM), RAM_SIZE).unwrap();
        for (i, w) in prog.iter().enumerate() {
            ram.write_u32(GuestAddress(RAM + 4 * i as u64), *w).unwrap();
        }
        for i in 0..16u64 {
            ram.write_u32(GuestAddress(VBAR + i * 0x80), hvc(0x100 + i as u32))
                .unwrap();
        }
        let mut cpu = Cpu::new(config).unwrap();
        cpu.reset(RAM);
        cpu.sys.vbar = VBAR;
        cpu.sys.cpacr = 3 << 20;
        cpu.set_banked_sp(1, STACK);
        Machine {
            cpu,
            bus: FlatBus::new(ram, MmioBus::new()),
        }
    }

    fn new(prog: &[u32]) -> Machine {
        Self::with_config(prog, CpuConfig::default())
    }

    fn run(&mut self) -> Exit {
        self.cpu.run(&mut self.bus, 100_000)
    }

    /// Run to the program's final `HVC #0xffff`.
    fn halt(&mut self) -> &mut Self {
        assert_eq!(self.run(), Exit::Hvc { imm: HALT_IMM });
        self
    }

    fn x(&self, n: u8) -> u64 {
        self.cpu.x(n)
    }

    fn mem64(&self, addr: u64) -> u64 {
        self.bus.mem.read_u64(GuestAddress(addr)).unwrap()
    }
}

/// Run `prog` (followed by HALT) with `init` registers; return the machine.
fn run_with(init: &[(u8, u64)], prog: &[u32]) -> Machine {
    let mut p: Vec<u32> = prog.to_vec();
    p.push(HALT);
    let mut m = Machine::new(&p);
    for &(r, v) in init {
        m.cpu.set_x(r, v);
    }
    m.halt();
    m
}

#[test]
fn add_sub_immediate_and_flags() {
    let m = run_with(
        &[(1, 0x7fff_ffff_ffff_ffff), (2, 0)],
        &[
            adds_imm(true, 0, 1, 1), // signed overflow
            sub_imm(true, 3, 1, 0xfff),
            addsub_imm(true, 0, false, true, 1, 1, 4), // + 0x1000
        ],
    );
    assert_eq!(m.x(0), 0x8000_0000_0000_0000);
    assert_eq!(m.cpu.nzcv(), N | V);
    assert_eq!(m.x(3), 0x7fff_ffff_ffff_f000);
    assert_eq!(m.x(4), 0x8000_0000_0000_0fff);

    // 32-bit: 0 - 1 borrows (C clear), result zero-extended.
    let m = run_with(&[(2, 0xffff_ffff_0000_0000)], &[subs_imm(false, 0, 2, 1)]);
    assert_eq!(m.x(0), 0xffff_ffff);
    assert_eq!(m.cpu.nzcv(), N);
    // 5 - 5: Z and C (no borrow).
    let m = run_with(&[(2, 5)], &[cmp_imm(true, 2, 5)]);
    assert_eq!(m.cpu.nzcv(), Z | C);
    // ADD to SP uses SP, not XZR.
    let m = run_with(&[], &[sub_imm(true, 31, 31, 32), add_imm(true, 5, 31, 0)]);
    assert_eq!(m.x(5), STACK - 32);
    assert_eq!(m.cpu.sp(), STACK - 32);
}

#[test]
fn add_sub_shifted_and_extended_registers() {
    let m = run_with(
        &[(1, 100), (2, 3), (3, 0xffff_ffff_ffff_fff0), (4, 0x80)],
        &[
            addsub_reg(true, 0, false, 0, 2, 4, 1, 0), // 100 + (3 << 4) = 148
            addsub_reg(true, 1, true, 2, 3, 2, 1, 5),  // 100 - (-16 >> 2) = 104
            addsub_ext(true, 0, false, 4, 4, 1, 1, 6), // 100 + sxtb(0x80) << 1 = -156
            addsub_ext(false, 1, false, 3, 2, 0, 1, 7), // w: 100 - 0xfffffff0 = 116
        ],
    );
    assert_eq!(m.x(0), 148);
    assert_eq!(m.x(5), 104);
    // 100 - 0xffff_ffff_ffff_fffc borrows (C clear); the result is positive.
    assert_eq!(m.cpu.nzcv(), 0);
    assert_eq!(m.x(6), (100i64 - 256) as u64);
    assert_eq!(m.x(7), 116);
}

#[test]
fn add_sub_with_carry() {
    // 128-bit add: (2^64 - 1) + 1 = 2^64.
    let m = run_with(
        &[(1, u64::MAX), (2, 0), (3, 1), (4, 0)],
        &[
            addsub_reg(true, 0, true, 0, 3, 0, 1, 5), // adds x5, x1, x3
            addsub_carry(true, 0, false, 4, 2, 6),    // adc x6, x2, x4
            addsub_carry(true, 1, true, 4, 2, 7),     // sbcs x7, x2, x4 with C=1: 0
        ],
    );
    assert_eq!(m.x(5), 0);
    assert_eq!(m.x(6), 1);
    assert_eq!(m.x(7), 0);
    assert_eq!(m.cpu.nzcv(), Z | C);
}

#[test]
fn logical_immediate_and_register() {
    let m = run_with(
        &[(1, 0x1234_5678_9abc_def0), (2, 0xff00)],
        &[
            logic_imm(true, 0, true, 0, 7, 1, 0),       // and x0, x1, #0xff
            logic_imm(false, 1, false, 1, 1, 31, 3),    // mov w3, #0x80000001
            logic_imm(true, 2, false, 0, 0x3c, 1, 4),   // eor x4, x1, #0x5555..
            logic_reg(true, 0, true, 0, 2, 0, 1, 5),    // bic x5, x1, x2
            logic_reg(false, 1, false, 3, 2, 8, 31, 6), // orr w6, wzr, w2, ror #8
            logic_reg(true, 3, false, 0, 2, 56, 1, 7),  // ands x7, x1, x2, lsl #56 -> 0
        ],
    );
    assert_eq!(m.x(0), 0xf0);
    assert_eq!(m.x(3), 0x8000_0001);
    assert_eq!(m.x(4), 0x1234_5678_9abc_def0 ^ 0x5555_5555_5555_5555);
    assert_eq!(m.x(5), 0x1234_5678_9abc_00f0);
    assert_eq!(m.x(6), 0xff);
    assert_eq!(m.x(7), 0);
    assert_eq!(m.cpu.nzcv(), Z);
}

#[test]
fn move_wide() {
    let mut prog: Vec<u32> = mov64(0, 0xdead_beef_cafe_f00d).to_vec();
    prog.push(movn(true, 1, 0x1234, 1)); // !(0x1234 << 16)
    prog.push(movn(false, 2, 0, 0)); // w2 = 0xffffffff
    prog.push(movk(false, 2, 0xabcd, 1));
    let m = run_with(&[(2, u64::MAX)], &prog);
    assert_eq!(m.x(0), 0xdead_beef_cafe_f00d);
    assert_eq!(m.x(1), !0x1234_0000u64);
    assert_eq!(m.x(2), 0xabcd_ffff);
}

#[test]
fn bitfield_moves() {
    let m = run_with(
        &[(1, 0xffff_ffff_ffff_8765), (9, 0x1111_1111_1111_1111)],
        &[
            bitfield(true, 2, 4, 11, 1, 0),   // ubfx x0, x1, #4, #8 = 0x76
            bitfield(true, 0, 8, 15, 1, 2),   // sbfx x2, x1, #8, #8 = sext(0x87)
            bitfield(true, 2, 60, 59, 1, 3),  // lsl x3, x1, #4
            bitfield(false, 0, 31, 31, 1, 4), // asr w4, w1, #31 = 0xffffffff
            bitfield(true, 1, 60, 3, 1, 9),   // bfi x9, x1, #4, #4
            bitfield(false, 2, 0, 7, 1, 5),   // uxtb w5, w1 = 0x65
            bitfield(true, 0, 0, 15, 1, 6),   // sxth x6, x1 = sext(0x8765)
            bitfield(true, 0, 56, 7, 1, 7),   // sbfiz x7, x1, #8, #8 = sext(0x65) << 8
        ],
    );
    assert_eq!(m.x(0), 0x76);
    assert_eq!(m.x(2), 0xffff_ffff_ffff_ff87);
    assert_eq!(m.x(3), 0xffff_ffff_fff8_7650);
    assert_eq!(m.x(4), 0xffff_ffff);
    assert_eq!(m.x(9), 0x1111_1111_1111_1151);
    assert_eq!(m.x(5), 0x65);
    assert_eq!(m.x(6), 0xffff_ffff_ffff_8765);
    assert_eq!(m.x(7), 0x6500);
}

#[test]
fn extract_and_variable_shifts() {
    let m = run_with(
        &[
            (1, 0x0123_4567_89ab_cdef),
            (2, 0xfedc_ba98_7654_3210),
            (3, 68),
        ],
        &[
            extr(true, 0, 1, 2, 16), // (x1:x2) >> 16
            extr(true, 4, 1, 1, 8),  // ror x1, #8
            dp2(true, 8, 3, 1, 5),   // lslv: 68 % 64 = 4
            dp2(false, 10, 3, 2, 6), // asrv w: 68 % 32 = 4 of 0x76543210
            dp2(true, 10, 3, 2, 7),  // asrv x by 4
            dp2(false, 11, 3, 1, 8), // rorv w by 4 of 0x89abcdef
        ],
    );
    assert_eq!(m.x(0), 0xcdef_fedc_ba98_7654);
    assert_eq!(m.x(4), 0xef01_2345_6789_abcd);
    assert_eq!(m.x(5), 0x1234_5678_9abc_def0);
    assert_eq!(m.x(6), 0x0765_4321);
    assert_eq!(m.x(7), 0xffed_cba9_8765_4321);
    assert_eq!(m.x(8), 0xf89a_bcde);
}

#[test]
fn conditional_compare_and_select() {
    let m = run_with(
        &[(1, 5), (2, 7)],
        &[
            cmp_imm(true, 1, 5),                   // Z C
            ccmp(true, 1, false, 2, EQ, 1, 0),     // eq holds: cmp 5, 7 -> N
            csel(true, 0, 0, 2, LT, 1, 3),         // lt: x3 = x1 = 5
            csel(true, 0, 1, 31, GE, 31, 4),       // cset x4, lt (csinc xzr, xzr, ge)
            ccmp(true, 1, true, 9, PL, 1, 0b0110), // pl false (N set): flags = 0110
            csel(true, 1, 1, 2, EQ, 1, 5),         // csneg: Z set -> x5 = x1
            csel(true, 1, 1, 2, NE, 1, 6),         // Z set -> -x2
            csel(false, 1, 0, 2, MI, 1, 7),        // csinv w: N clear -> !w2
        ],
    );
    assert_eq!(m.x(3), 5);
    assert_eq!(m.x(4), 1);
    assert_eq!(m.x(5), 5);
    assert_eq!(m.x(6), (-7i64) as u64);
    assert_eq!(m.x(7), 0xffff_fff8);
    assert_eq!(m.cpu.nzcv(), Z | C);
}

#[test]
fn multiply_and_divide() {
    let m = run_with(
        &[
            (1, 0xffff_ffff_ffff_fffe), // -2
            (2, 3),
            (3, 1000),
            (4, 0x8000_0000_0000_0000),
            (5, u64::MAX), // -1
        ],
        &[
            dp3(true, 0, 0, 2, 3, 1, 0),   // madd: 1000 + -2*3 = 994
            dp3(true, 0, 1, 2, 3, 1, 6),   // msub: 1000 - -6 = 1006
            dp3(true, 1, 0, 2, 31, 1, 7),  // smull: sext(0xfffffffe)*3 = -6
            dp3(true, 5, 0, 2, 31, 1, 8),  // umull: 0xfffffffe * 3
            dp3(true, 2, 0, 1, 31, 1, 9),  // smulh(-2, -2) = 0
            dp3(true, 6, 0, 1, 31, 1, 10), // umulh(2^64-2, 2^64-2) = 2^64-4
            dp2(true, 3, 5, 4, 11),        // sdiv MIN / -1 = MIN
            dp2(true, 2, 31, 3, 12),       // udiv by zero = 0
            dp2(true, 3, 2, 1, 13),        // sdiv -2 / 3 = 0 (truncates)
            dp2(false, 2, 2, 3, 14),       // udiv w 1000 / 3 = 333
        ],
    );
    assert_eq!(m.x(0), 994);
    assert_eq!(m.x(6), 1006);
    assert_eq!(m.x(7), (-6i64) as u64);
    assert_eq!(m.x(8), 0x2_ffff_fffa);
    assert_eq!(m.x(9), 0);
    assert_eq!(m.x(10), 0xffff_ffff_ffff_fffc);
    assert_eq!(m.x(11), 0x8000_0000_0000_0000);
    assert_eq!(m.x(12), 0);
    assert_eq!(m.x(13), 0);
    assert_eq!(m.x(14), 333);
}

#[test]
fn bit_operations() {
    let m = run_with(
        &[(1, 0x0000_0000_0000_00f1), (2, 0xffff_ff00_0000_0000)],
        &[
            dp1(true, 0, 1, 0),   // rbit
            dp1(true, 4, 1, 3),   // clz = 56
            dp1(false, 4, 31, 4), // clz wzr = 32
            dp1(true, 5, 2, 5),   // cls: 24 ones -> 23
            dp1(true, 3, 1, 6),   // rev
            dp1(false, 1, 1, 7),  // rev16 w
            dp1(true, 2, 2, 8),   // rev32
        ],
    );
    assert_eq!(m.x(0), 0x8f00_0000_0000_0000);
    assert_eq!(m.x(3), 56);
    assert_eq!(m.x(4), 32);
    assert_eq!(m.x(5), 23);
    assert_eq!(m.x(6), 0xf100_0000_0000_0000);
    assert_eq!(m.x(7), 0xf100);
    assert_eq!(m.x(8), 0x00ff_ffff_0000_0000);
}

/// CRC of "123456789" with the standard check values of CRC-32 and
/// CRC-32C (init and final XOR all ones).
#[test]
fn crc32_check_values() {
    let msg = b"123456789";
    let prog = [
        // x1 = pointer, x2 = end, w0 = crc, w5 = crc32c
        movn(false, 0, 0, 0),
        movn(false, 5, 0, 0),
        ldst_imm9(0, false, 1, 1, 1, 1, 3), // ldrb w3, [x1], #1
        dp2(false, 16, 3, 0, 0),            // crc32b w0, w0, w3
        dp2(false, 20, 3, 5, 5),            // crc32cb w5, w5, w3
        addsub_reg(true, 1, true, 0, 2, 0, 1, 31), // cmp x1, x2
        b_cond(NE, -16),
        logic_reg(false, 1, true, 0, 0, 0, 31, 0), // mvn w0, w0
        logic_reg(false, 1, true, 0, 5, 0, 31, 5),
        HALT,
    ];
    let mut m = Machine::new(&prog);
    m.bus.mem.write(GuestAddress(DATA), msg).unwrap();
    m.cpu.set_x(1, DATA);
    m.cpu.set_x(2, DATA + msg.len() as u64);
    m.halt();
    assert_eq!(m.x(0), 0xcbf4_3926);
    assert_eq!(m.x(5), 0xe306_9283);

    // The doubleword form over the same bytes (8 of them) agrees with the
    // byte form.
    let m = run_with(
        &[
            (1, u64::from_le_bytes(*b"12345678")),
            (0, 0xffff_ffff),
            (2, 0xffff_ffff),
        ],
        &[dp2(true, 19, 1, 0, 0)],
    );
    let mut byte_crc = 0xffff_ffffu32;
    for &b in b"12345678" {
        byte_crc ^= u32::from(b);
        for _ in 0..8 {
            byte_crc = if byte_crc & 1 != 0 {
                (byte_crc >> 1) ^ 0xedb8_8320
            } else {
                byte_crc >> 1
            };
        }
    }
    assert_eq!(m.x(0), u64::from(byte_crc));
}

#[test]
fn branches_loops_and_calls() {
    // sum = 1 + ... + 10 in a loop; then BL to a leaf that doubles x0.
    let prog = [
        movz(true, 0, 0, 0),
        movz(true, 1, 10, 0),
        addsub_reg(true, 0, false, 0, 1, 0, 0, 0), // loop: add x0, x0, x1
        subs_imm(true, 1, 1, 1),
        b_cond(NE, -8),
        bl(12), // call double
        HALT,
        NOP,
        addsub_reg(true, 0, false, 0, 0, 0, 0, 0), // double: add x0, x0, x0
        RET,
    ];
    let mut m = Machine::new(&prog);
    m.halt();
    assert_eq!(m.x(0), 110);
    assert_eq!(m.x(30), RAM + 24);

    // CBZ/CBNZ/TBZ/TBNZ/BR taken and not taken.
    let prog = [
        cbz(true, false, 1, 8), // x1 != 0: fall through
        movz(true, 10, 1, 0),
        cbz(false, true, 2, 8), // w2 = 0 (upper bits ignored): fall through
        movz(true, 11, 1, 0),
        tbz(true, 3, 40, 8), // bit 40 set: taken
        movz(true, 12, 1, 0),
        tbz(false, 3, 1, 8), // bit 1 clear: taken
        movz(true, 13, 1, 0),
        adr(4, 12),
        br(4),
        movz(true, 14, 1, 0),
        HALT,
    ];
    let mut m = Machine::new(&prog);
    m.cpu.set_x(1, 1);
    m.cpu.set_x(2, 0xffff_ffff_0000_0000);
    m.cpu.set_x(3, 1 << 40);
    m.halt();
    assert_eq!(
        [m.x(10), m.x(11), m.x(12), m.x(13), m.x(14)],
        [1, 1, 0, 0, 0]
    );
}

#[test]
fn pc_relative_addressing() {
    let prog = [NOP, adr(0, -4), adrp(1, 3), adr(2, 0xfffff), HALT];
    let mut m = Machine::new(&prog);
    m.halt();
    assert_eq!(m.x(0), RAM);
    assert_eq!(m.x(1), RAM + 3 * 4096);
    assert_eq!(m.x(2), RAM + 12 + 0xfffff);
}

#[test]
fn load_store_addressing_modes() {
    let d = DATA;
    let mut m = Machine::new(&[
        str_imm(true, 2, 1, 8),                    // [d+8] = x2
        ldst_imm9(2, false, 0, -4, 3, 1, 3),       // str w3, [x1, #-4]!  (x1 = d-4)
        ldst_imm9(3, false, 1, 12, 1, 1, 4),       // ldr x4, [x1], #12   (x1 = d+8)
        ldst_uimm(0, false, 2, 12, 5, 6),          // ldrsb x6, [x5, #12]
        ldst_uimm(1, false, 3, 6, 5, 7),           // ldrsh w7, [x5, #12]
        ldst_reg(3, false, 1, 8, 3, true, 5, 9),   // ldr x9, [x5, x8, lsl #3]
        ldst_reg(2, false, 2, 10, 6, true, 1, 11), // ldrsw x11, [x1, w10, sxtw #2]
        ldst_imm9(3, false, 1, 1, 0, 5, 12),       // ldur x12, [x5, #1] (unaligned)
        ldr_lit(1, false, 8, 13),                  // ldr x13, literal (the two words below)
        HALT,
        0xaaaa_bbbb,
        0xcccc_dddd,
    ]);
    // Unaligned accesses need Normal memory: SCTLR_EL1.M = 1 with the
    // flat bus stands for an identity map of Normal memory.
    m.cpu.sys.sctlr |= sysreg::SCTLR_M;
    m.cpu.set_x(1, d);
    m.cpu.set_x(2, 0x8877_6655_4433_2211);
    m.cpu.set_x(3, 0xdead_beef);
    m.cpu.set_x(5, d - 4);
    m.cpu.set_x(8, 2);
    m.cpu.set_x(10, (-3i64) as u64);
    m.halt();
    assert_eq!(m.mem64(d + 8), 0x8877_6655_4433_2211);
    // [d-4, d+4): the stored word, then the untouched (zero) word at d.
    assert_eq!(m.x(4), 0xdead_beef);
    assert_eq!(m.x(1), d + 8);
    // [d-4+12] = [d+8] = 0x11 -> ldrsb 0x11; halfword 0x2211 positive.
    assert_eq!(m.x(6), 0x11);
    assert_eq!(m.x(7), 0x2211);
    // x5 + 16 = d + 12: upper word of the stored x2.
    assert_eq!(m.x(9) & 0xffff_ffff, 0x8877_6655);
    // x1 - 12 = d - 4: 0xdeadbeef sign-extended.
    assert_eq!(m.x(11), 0xffff_ffff_dead_beef);
    // Bytes d-3..d+5: be ad de 00 00 00 00 00.
    assert_eq!(m.x(12), 0x00de_adbe);
    assert_eq!(m.x(13), 0xcccc_dddd_aaaa_bbbb);
}

#[test]
fn load_store_pairs() {
    let mut m = Machine::new(&[
        ldst_pair(2, false, 3, false, -2, 30, 31, 29), // stp x29, x30, [sp, #-16]!
        ldst_pair(0, false, 2, false, 2, 2, 31, 1),    // stp w1, w2, [sp, #8]
        ldst_pair(1, false, 2, true, 2, 4, 31, 3),     // ldpsw x3, x4, [sp, #8]
        ldst_pair(2, false, 1, true, 2, 6, 31, 5),     // ldp x5, x6, [sp], #16
        HALT,
    ]);
    m.cpu.set_x(29, 0x1111);
    m.cpu.set_x(30, 0x2222);
    m.cpu.set_x(1, 0x8000_0000);
    m.cpu.set_x(2, 7);
    m.halt();
    assert_eq!(m.cpu.sp(), STACK);
    assert_eq!(m.mem64(STACK - 16), 0x1111);
    assert_eq!(m.x(3), 0xffff_ffff_8000_0000);
    assert_eq!(m.x(4), 7);
    assert_eq!(m.x(5), 0x1111);
    assert_eq!(m.x(6), 0x0000_0007_8000_0000);
}

#[test]
fn exclusives_and_ordered_accesses() {
    let mut m = Machine::new(&[
        ldst_excl(3, 0, 1, 0, 31, 1, 31, 1, 0), // ldaxr x0, [x1]
        add_imm(true, 0, 0, 5),
        ldst_excl(3, 0, 0, 0, 2, 1, 31, 1, 0), // stlxr w2, x0, [x1] -> 0
        ldst_excl(3, 0, 0, 0, 3, 0, 31, 1, 0), // stxr w3, x0, [x1] -> 1 (no monitor)
        ldst_excl(2, 0, 1, 0, 31, 0, 31, 1, 4), // ldxr w4, [x1]
        CLREX,
        ldst_excl(2, 0, 0, 0, 5, 0, 31, 1, 4), // stxr w5, w4, [x1] -> 1
        ldst_excl(3, 0, 1, 1, 31, 0, 7, 1, 6), // ldxp x6, x7, [x1]
        ldst_excl(3, 0, 0, 1, 8, 0, 6, 9, 7),  // stxp w8, x7, x6, [x9]: wrong address -> 1
        ldst_excl(3, 1, 0, 0, 31, 1, 31, 9, 0), // stlr x0, [x9]
        ldst_excl(3, 1, 1, 0, 31, 1, 31, 9, 10), // ldar x10, [x9]
        HALT,
    ]);
    m.bus.mem.write_u64(GuestAddress(DATA), 37).unwrap();
    m.bus.mem.write_u64(GuestAddress(DATA + 8), 99).unwrap();
    m.cpu.set_x(1, DATA);
    m.cpu.set_x(9, DATA + 16);
    m.halt();
    assert_eq!(m.mem64(DATA), 42);
    assert_eq!([m.x(2), m.x(3), m.x(5), m.x(8)], [0, 1, 1, 1]);
    assert_eq!([m.x(6), m.x(7)], [42, 99]);
    assert_eq!(m.x(10), 42);

    // A misaligned exclusive load is an alignment fault (DFSC 0b100001).
    let mut m = Machine::new(&[ldst_excl(3, 0, 1, 0, 31, 0, 31, 1, 0), HALT]);
    m.cpu.set_x(1, DATA + 4);
    assert_eq!(
        m.run(),
        Exit::Hvc {
            imm: vector_hvc(VectorKind::Sync, 1)
        }
    );
    assert_eq!(m.cpu.sys.esr, (0x25 << 26) | (1 << 25) | 0b10_0001);
    assert_eq!(m.cpu.sys.far, DATA + 4);
}

#[test]
fn svc_takes_the_exception_and_eret_returns() {
    let mut m = Machine::new(&[movz(true, 0, 7, 0), svc(0x12), add_imm(true, 0, 0, 1), HALT]);
    m.cpu.set_nzcv(C);
    m.cpu.set_pstate(m.cpu.pstate() - Spsr::I); // unmask IRQs to see them saved
    assert_eq!(
        m.run(),
        Exit::Hvc {
            imm: vector_hvc(VectorKind::Sync, 1)
        }
    );
    assert_eq!(m.cpu.sys.esr, 0x5600_0012);
    assert_eq!(m.cpu.sys.elr, RAM + 8);
    // SPSR: C, D A F masked, I clear, EL1h (0b0101).
    assert_eq!(m.cpu.sys.spsr, u64::from(C) | 0x340 | 0b0101);
    assert_eq!(m.cpu.pstate().bits() & 0x3c0, 0x3c0);
    // The handler (at VBAR + 0x200) is an HVC: redirect it to ERET.
    m.bus
        .mem
        .write_u32(GuestAddress(VBAR + 0x204), ERET)
        .unwrap();
    m.cpu.invalidate_code(VBAR + 0x204, 4);
    m.cpu.set_pc(VBAR + 0x204);
    m.halt();
    assert_eq!(m.x(0), 8);
    assert_eq!(m.cpu.nzcv(), C);
    assert_eq!(m.cpu.pstate().bits() & 0x3c0, 0x340);
}

#[test]
fn el0_code_traps_to_el1_through_the_lower_el_vector() {
    // EL1 drops to EL0 with ERET; EL0 does SVC, an EL1-only MRS, and WFI.
    let el0 = RAM + 0x100;
    let mut prog = vec_at(&[(0, mrs(0, sysreg::CURRENT_EL)), (1, ERET)]);
    prog.resize(0x40, NOP);
    prog.extend_from_slice(&[
        mrs(1, sysreg::CURRENT_EL), // el0 + 0: readable? no: EL1 register -> undefined
        svc(3),
        HALT,
    ]);
    let mut m = Machine::new(&prog);
    m.cpu.sys.elr = el0;
    m.cpu.sys.spsr = 0; // EL0t, all unmasked
    m.cpu.set_banked_sp(0, STACK - 0x100);
    // ERET, then the MRS at EL0 is undefined: lower-EL sync vector.
    assert_eq!(
        m.run(),
        Exit::Hvc {
            imm: vector_hvc(VectorKind::Sync, 2)
        }
    );
    assert_eq!(m.x(0), 1 << 2);
    assert_eq!(m.cpu.sys.esr, 0x0200_0000);
    assert_eq!(m.cpu.sys.elr, el0);
    assert_eq!(m.cpu.sys.spsr, 0);
    assert_eq!(m.cpu.el(), 1);
    // Resume EL0 after the MRS: the SVC is taken from EL0.
    m.cpu.sys.elr = el0 + 4;
    m.bus
        .mem
        .write_u32(GuestAddress(VBAR + 0x404), ERET)
        .unwrap();
    m.cpu.invalidate_code(VBAR + 0x404, 4);
    m.cpu.set_pc(VBAR + 0x404);
    assert_eq!(
        m.run(),
        Exit::Hvc {
            imm: vector_hvc(VectorKind::Sync, 2)
        }
    );
    assert_eq!(m.cpu.sys.esr, 0x5600_0003);
    assert_eq!(m.cpu.sys.elr, el0 + 8);
    assert_eq!(m.cpu.sp(), STACK, "SP_EL1 in use at EL1");
    assert_eq!(m.cpu.banked_sp()[0], STACK - 0x100);
    // HVC at EL0 is undefined.
    m.cpu.set_pc(VBAR + 0x404);
    assert_eq!(
        m.run(),
        Exit::Hvc {
            imm: vector_hvc(VectorKind::Sync, 2)
        }
    );
    assert_eq!(m.cpu.sys.esr, 0x0200_0000);
    assert_eq!(m.cpu.sys.elr, el0 + 8);
}

/// Words at instruction indices, NOP elsewhere.
fn vec_at(words: &[(usize, u32)]) -> Vec<u32> {
    let len = words.iter().map(|(i, _)| i + 1).max().unwrap_or(0);
    let mut v = alloc::vec![NOP; len];
    for &(i, w) in words {
        v[i] = w;
    }
    v
}

#[test]
fn undefined_brk_and_aborts_reach_the_guest() {
    // An unallocated encoding: EC 0, ELR at the instruction.
    let mut m = Machine::new(&[NOP, 0x0000_0000, HALT]);
    assert_eq!(
        m.run(),
        Exit::Hvc {
            imm: vector_hvc(VectorKind::Sync, 1)
        }
    );
    assert_eq!(m.cpu.sys.esr, 0x0200_0000);
    assert_eq!(m.cpu.sys.elr, RAM + 4);

    let mut m = Machine::new(&[brk(0x3e8), HALT]);
    assert_eq!(
        m.run(),
        Exit::Hvc {
            imm: vector_hvc(VectorKind::Sync, 1)
        }
    );
    assert_eq!(m.cpu.sys.esr, (0x3c << 26) | (1 << 25) | 0x3e8);
    assert_eq!(m.cpu.sys.elr, RAM);

    // A store to an address with neither RAM nor a device: external abort,
    // WnR set, FAR the address, no write-back of the base register.
    let mut m = Machine::new(&[ldst_imm9(3, false, 0, 8, 3, 1, 0), HALT]);
    m.cpu.set_x(1, 0x1000);
    assert_eq!(
        m.run(),
        Exit::Hvc {
            imm: vector_hvc(VectorKind::Sync, 1)
        }
    );
    assert_eq!(
        m.cpu.sys.esr,
        (0x25 << 26) | (1 << 25) | (1 << 6) | 0b01_0000
    );
    assert_eq!(m.cpu.sys.far, 0x1008);
    assert_eq!(m.x(1), 0x1000);

    // Branching to unmapped memory: instruction abort at the target.
    let mut m = Machine::new(&[br(1), HALT]);
    m.cpu.set_x(1, 0x2000);
    assert_eq!(
        m.run(),
        Exit::Hvc {
            imm: vector_hvc(VectorKind::Sync, 1)
        }
    );
    assert_eq!(m.cpu.sys.esr, (0x21 << 26) | (1 << 25) | 0b01_0000);
    assert_eq!(m.cpu.sys.elr, 0x2000);

    // A misaligned branch target: PC alignment fault.
    let mut m = Machine::new(&[br(1), HALT]);
    m.cpu.set_x(1, RAM + 2);
    assert_eq!(
        m.run(),
        Exit::Hvc {
            imm: vector_hvc(VectorKind::Sync, 1)
        }
    );
    assert_eq!(m.cpu.sys.esr >> 26, 0x22);
    assert_eq!(m.cpu.sys.far, RAM + 2);
}

#[test]
fn exits_for_hvc_smc_wfi_and_budget() {
    let mut m = Machine::new(&[hvc(0x42), smc(7), WFI, WFE, b(0)]);
    assert_eq!(m.run(), Exit::Hvc { imm: 0x42 });
    assert_eq!(m.cpu.pc(), RAM + 4);
    assert_eq!(m.run(), Exit::Smc { imm: 7 });
    assert_eq!(m.run(), Exit::Wfi);
    assert_eq!(m.run(), Exit::Wfe);
    assert_eq!(m.cpu.pc(), RAM + 16);
    let before = m.cpu.icount();
    assert_eq!(m.cpu.run(&mut m.bus, 1000), Exit::Budget);
    assert_eq!(m.cpu.icount() - before, 1000);
}

#[test]
fn exit_on_exception_reports_each_guest_exception() {
    let config = CpuConfig {
        exit_on_exception: true,
        ..CpuConfig::default()
    };
    let mut m = Machine::with_config(&[svc(1), HALT], config);
    assert_eq!(
        m.run(),
        Exit::Exception {
            esr: 0x5600_0001,
            from_el: 1,
            elr: RAM + 4,
            kind: VectorKind::Sync
        }
    );
    assert_eq!(m.cpu.pc(), VBAR + 0x200);
}

#[test]
fn system_registers() {
    let m = run_with(
        &[(1, 0x1234), (2, 0xf000_0000), (3, 0x40_0000_1000)],
        &[
            msr(sysreg::TPIDR_EL0, 1),
            mrs(4, sysreg::TPIDR_EL0),
            msr(sysreg::NZCV, 2),
            mrs(5, sysreg::NZCV),
            msr_daifclr(0b0010), // clear I
            mrs(6, sysreg::DAIF),
            mrs(7, sysreg::CURRENT_EL),
            msr(sysreg::TTBR0_EL1, 3),
            mrs(8, sysreg::TTBR0_EL1),
            mrs(9, sysreg::MIDR_EL1),
            mrs(10, sysreg::MPIDR_EL1),
            msr(sysreg::SP_EL0, 1),
            msr_spsel(0),
            add_imm(true, 11, 31, 0), // mov x11, sp (SP_EL0 now)
            msr_spsel(1),
            mrs(12, sysreg::SPSEL),
            mrs(13, sysreg::ID_AA64ISAR0_EL1),
            mrs(14, sysreg::VBAR_EL1),
            mrs(15, sysreg::CNTFRQ_EL0),
        ],
    );
    assert_eq!(m.x(4), 0x1234);
    assert_eq!(m.x(5), 0xf000_0000);
    assert_eq!(m.x(6), 0x340);
    assert_eq!(m.x(7), 4);
    assert_eq!(m.x(8), 0x40_0000_1000);
    assert_eq!(m.x(9), 0x411f_d070);
    assert_eq!(m.x(10), 0x8000_0000);
    assert_eq!(m.x(11), 0x1234);
    assert_eq!(m.x(12), 1);
    // ID_AA64ISAR0_EL1: AES = 2 (with PMULL), SHA1 = 1, SHA2 = 1,
    // CRC32 = 1, Atomic = 2 (fields at bits 4, 8, 12, 16, 20).
    assert_eq!(m.x(13), 0x0021_1120);
    assert_eq!(m.x(14), VBAR);
    assert_eq!(m.x(15), 62_500_000);

    // Read-only and EL2 registers are undefined at EL1; unallocated ID
    // space reads as zero.
    for w in [
        msr(sysreg::MIDR_EL1, 1),
        mrs(0, sysreg::SP_EL1),
        mrs(0, sysreg::SysRegEnc::new(3, 4, 1, 1, 0)), // HCR_EL2
    ] {
        let mut m = Machine::new(&[w, HALT]);
        assert_eq!(
            m.run(),
            Exit::Hvc {
                imm: vector_hvc(VectorKind::Sync, 1)
            },
            "{w:#x}"
        );
        assert_eq!(m.cpu.sys.esr, 0x0200_0000);
    }
    let m = run_with(&[(0, 5)], &[mrs(0, sysreg::SysRegEnc::new(3, 0, 0, 3, 7))]);
    assert_eq!(m.x(0), 0);
}

#[test]
fn timer_fires_after_the_home_skips_idle_ticks() {
    let mut m = Machine::new(&[
        movz(true, 0, 100, 0),
        msr(sysreg::CNTV_TVAL_EL0, 0), // 2nd instruction: counter 2, CVAL 102
        movz(true, 1, 1, 0),
        msr(sysreg::CNTV_CTL_EL0, 1), // enable, unmasked
        WFI,
        mrs(2, sysreg::CNTV_CTL_EL0),
        HALT,
    ]);
    assert_eq!(m.run(), Exit::Wfi);
    assert_eq!(m.cpu.sys.cntv_cval, 102);
    assert_eq!(m.cpu.counter(), 5);
    assert_eq!(m.cpu.ticks_to_timer(), Some(97));
    assert!(!m.cpu.timer_lines().virt);
    m.cpu.skip_ticks(97);
    assert_eq!(m.cpu.ticks_to_timer(), Some(0));
    assert_eq!(
        m.cpu.timer_lines(),
        super::TimerLines {
            virt: true,
            phys: false
        }
    );
    m.halt();
    assert_eq!(m.x(2), 0b101, "ENABLE and ISTATUS");
    // Masking the output (IMASK) keeps ISTATUS but drops the line.
    m.cpu.sys.cntv_ctl = 0b11;
    assert!(!m.cpu.timer_lines().virt);
    assert_eq!(m.cpu.ticks_to_timer(), None);
}

#[test]
fn counter_ticks_with_instructions() {
    let m = run_with(
        &[],
        &[
            mrs(0, sysreg::CNTVCT_EL0),
            NOP,
            NOP,
            mrs(1, sysreg::CNTVCT_EL0),
        ],
    );
    assert_eq!(m.x(1) - m.x(0), 3);
}

#[test]
fn fp_access_traps_until_cpacr_enables_it() {
    // ldr q0, [x1] with FPEN = 0: EC 0x07.
    let ldr_q = ldst_uimm(0, true, 3, 0, 1, 0);
    let mut m = Machine::new(&[ldr_q, HALT]);
    m.cpu.sys.cpacr = 0;
    m.cpu.set_x(1, DATA);
    assert_eq!(
        m.run(),
        Exit::Hvc {
            imm: vector_hvc(VectorKind::Sync, 1)
        }
    );
    assert_eq!(m.cpu.sys.esr, (0x07 << 26) | (1 << 25));
    let mut m = Machine::new(&[ldr_q, ldst_uimm(3, true, 0, 2, 1, 0), HALT]);
    m.bus.mem.write_u64(GuestAddress(DATA), 0x1111).unwrap();
    m.bus.mem.write_u64(GuestAddress(DATA + 8), 0x2222).unwrap();
    m.cpu.set_x(1, DATA);
    m.halt();
    assert_eq!(m.cpu.v(0), 0x2222_0000_0000_0000_1111);
    assert_eq!(m.mem64(DATA + 16), 0x1111, "str d0 stores the low 64 bits");
}

#[test]
fn irq_is_taken_when_unmasked() {
    let mut m = Machine::new(&[NOP, msr_daifclr(0b0010), NOP, NOP, HALT]);
    m.cpu.set_irq(true);
    // Masked at reset: runs into the DAIFClr block end, then takes the IRQ.
    assert_eq!(
        m.run(),
        Exit::Hvc {
            imm: vector_hvc(VectorKind::Irq, 1)
        }
    );
    assert_eq!(m.cpu.sys.elr, RAM + 8);
    assert_eq!(m.cpu.sys.spsr & 0x3c0, 0x340);
}

#[test]
fn wfi_with_a_pending_interrupt_does_not_wait() {
    // IRQs masked (reset state) but the line is high: WFI falls through.
    let mut m = Machine::new(&[WFI, HALT]);
    m.cpu.set_irq(true);
    m.halt();
    let mut m = Machine::new(&[WFI, HALT]);
    assert_eq!(m.run(), Exit::Wfi);
}

#[test]
fn illegal_exception_return_sets_il_and_faults() {
    // SPSR says EL2: illegal return; the next instruction raises EC 0x0e.
    let mut m = Machine::new(&[ERET, NOP, HALT]);
    m.cpu.sys.spsr = 0b1001; // EL2h
    m.cpu.sys.elr = RAM + 4;
    assert_eq!(
        m.run(),
        Exit::Hvc {
            imm: vector_hvc(VectorKind::Sync, 1)
        }
    );
    assert_eq!(m.cpu.sys.esr, (0x0e << 26) | (1 << 25));
    assert_eq!(m.cpu.sys.elr, RAM + 4);
    assert_eq!(m.cpu.sys.spsr & (1 << 20), 1 << 20, "IL saved in SPSR");
    assert!(!m.cpu.pstate().contains(Spsr::IL));
}

#[test]
fn dc_zva_zeroes_a_64_byte_block() {
    let mut m = Machine::new(&[sys(3, 7, 4, 1, 1), HALT]);
    m.cpu.sys.sctlr |= sysreg::SCTLR_M; // DC ZVA needs Normal memory
    for i in 0..24u64 {
        m.bus
            .mem
            .write_u64(GuestAddress(DATA + 8 * i), u64::MAX)
            .unwrap();
    }
    m.cpu.set_x(1, DATA + 64 + 13);
    m.halt();
    assert_eq!(m.mem64(DATA + 56), u64::MAX);
    for i in 8..16 {
        assert_eq!(m.mem64(DATA + 8 * i), 0);
    }
    assert_eq!(m.mem64(DATA + 128), u64::MAX);
}

#[test]
fn writing_code_invalidates_its_translation() {
    // The loop body at `patch` is executed, then overwritten with
    // `add x0, x0, #100`, then executed again.
    let patch = RAM + 4 * 4;
    let prog = [
        movz(true, 0, 0, 0),
        movz(true, 3, 2, 0),
        ldr_lit(0, false, 4 * 9, 2), // w2 = the new instruction word
        movz(true, 1, 0, 0),
        add_imm(true, 0, 0, 1), // patch: replaced on the second pass
        subs_imm(true, 3, 3, 1),
        cbz(true, false, 3, 12),         // done after two passes: to HALT
        ldst_uimm(2, false, 0, 4, 4, 2), // str w2, [x4, #16] (x4 = RAM)
        b(-16),
        HALT,
        NOP,
        add_imm(true, 0, 0, 100), // index 11: the literal (2 + 36 / 4)
    ];
    let mut m = Machine::new(&prog);
    m.cpu.set_x(4, RAM);
    m.halt();
    assert_eq!(
        m.bus.mem.read_u32(GuestAddress(patch)).unwrap(),
        add_imm(true, 0, 0, 100)
    );
    assert_eq!(m.x(0), 101);
    assert!(m.cpu.cache().stats().invalidated >= 1);
}

struct Recorder(Arc<AtomicU64>);
impl MmioDevice for Recorder {
    fn read(&mut self, offset: u64, _w: AccessWidth) -> u64 {
        0x1000 + offset
    }
    fn write(&mut self, _offset: u64, _w: AccessWidth, value: u64) {
        self.0.store(value, Ordering::Relaxed);
    }
}

#[test]
fn mmio_outside_ram_goes_to_the_bus() {
    let seen = Arc::new(AtomicU64::new(0));
    let mut m = Machine::new(&[
        ldst_uimm(0, false, 0, 0, 1, 2), // strb w2, [x1]
        ldst_uimm(2, false, 1, 6, 1, 3), // ldr w3, [x1, #0x18]
        HALT,
    ]);
    m.bus
        .mmio
        .insert(
            GuestAddress(0x0900_0000),
            0x1000,
            Box::new(Recorder(seen.clone())),
        )
        .unwrap();
    m.cpu.set_x(1, 0x0900_0000);
    m.cpu.set_x(2, 0x41);
    m.halt();
    assert_eq!(seen.load(Ordering::Relaxed), 0x41);
    assert_eq!(m.x(3), 0x1018);
}

#[test]
fn sp_and_zr_are_distinguished_by_encoding() {
    // `add x0, sp, #0` reads SP; `orr x1, xzr, #1` reads ZR; `ldr x2, [sp]`.
    let m = run_with(
        &[],
        &[
            add_imm(true, 0, 31, 0),
            logic_imm(true, 1, true, 0, 0, 31, 1),
            str_imm(true, 1, 31, 0),
            ldr_imm(true, 2, 31, 0),
            addsub_reg(true, 0, false, 0, 31, 0, 31, 3), // add x3, xzr, xzr
        ],
    );
    assert_eq!(m.x(0), STACK);
    assert_eq!(m.x(1), 1);
    assert_eq!(m.x(2), 1);
    assert_eq!(m.x(3), 0);
    assert_eq!(SP, 32);
}

/// Random words must decode and execute without a host panic: whatever
/// they do, the CPU ends in a guest exception, an exit, or runs on.
#[test]
fn random_words_never_panic_the_host() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..200_000 {
        let _ = decode(next() as u32);
    }
    // 8192 random words fill RAM up to the vector table at VBAR; every
    // start address is run with random general and FP registers, so
    // addresses, shift amounts and lane indices come from random data.
    let mut prog = Vec::new();
    for _ in 0..((VBAR - RAM) / 4) {
        prog.push(next() as u32);
    }
    let mut m = Machine::new(&prog);
    let mut executed = 0;
    for i in 0..prog.len() as u64 {
        m.cpu.reset(RAM + 4 * i);
        m.cpu.sys.vbar = VBAR;
        m.cpu.sys.cpacr = 3 << 20;
        for r in 0..31 {
            m.cpu.set_x(r, next());
        }
        for r in 0..32 {
            m.cpu
                .set_v(r, u128::from(next()) << 64 | u128::from(next()));
        }
        let before = m.cpu.icount();
        let _ = m.cpu.run(&mut m.bus, 8);
        executed += m.cpu.icount() - before;
    }
    assert!(
        executed >= prog.len() as u64,
        "every start executed at least one instruction"
    );
}

// ---------------------------------------------------------------------------
// FP/SIMD. Encodings below were produced by
// `llvm-mc -triple=aarch64 -mattr=+neon -show-encoding`.

/// Every FP/SIMD form of the supported subset, as LLVM assembles it.
const FP_SIMD_FORMS: &[(&str, u32)] = &[
    ("fmov s0, s1", 0x1e20_4020),
    ("fabs d2, d3", 0x1e60_c062),
    ("fneg s4, s5", 0x1e21_40a4),
    ("fadd v0.4s, v1.4s, v2.4s", 0x4e22_d420),
    ("fsub v0.2d, v1.2d, v2.2d", 0x4ee2_d420),
    ("fmul v0.2s, v1.2s, v2.2s", 0x2e22_dc20),
    ("fdiv v0.4s, v1.4s, v2.4s", 0x6e22_fc20),
    ("fmax v0.2d, v1.2d, v2.2d", 0x4e62_f420),
    ("fmin v0.4s, v1.4s, v2.4s", 0x4ea2_f420),
    ("fmaxnm v0.4s, v1.4s, v2.4s", 0x4e22_c420),
    ("fminnm v0.2d, v1.2d, v2.2d", 0x4ee2_c420),
    ("mul v0.8h, v1.8h, v2.8h", 0x4e62_9c20),
    ("fabs v0.4s, v1.4s", 0x4ea0_f820),
    ("fneg v0.2d, v1.2d", 0x6ee0_f820),
    ("fsqrt d6, d7", 0x1e61_c0e6),
    ("fcvt d0, s1", 0x1e22_c020),
    ("fcvt s2, d3", 0x1e62_4062),
    ("frintn d0, d1", 0x1e64_4020),
    ("frintp s0, s1", 0x1e24_c020),
    ("frintm d0, d1", 0x1e65_4020),
    ("frintz d0, d1", 0x1e65_c020),
    ("frinta d0, d1", 0x1e66_4020),
    ("frintx d0, d1", 0x1e67_4020),
    ("frinti d0, d1", 0x1e67_c020),
    ("fmul d0, d1, d2", 0x1e62_0820),
    ("fdiv s0, s1, s2", 0x1e22_1820),
    ("fadd d0, d1, d2", 0x1e62_2820),
    ("fsub d0, d1, d2", 0x1e62_3820),
    ("fmax d0, d1, d2", 0x1e62_4820),
    ("fmin s0, s1, s2", 0x1e22_5820),
    ("fmaxnm d0, d1, d2", 0x1e62_6820),
    ("fminnm d0, d1, d2", 0x1e62_7820),
    ("fnmul d0, d1, d2", 0x1e62_8820),
    ("fmadd d0, d1, d2, d3", 0x1f42_0c20),
    ("fmsub s0, s1, s2, s3", 0x1f02_8c20),
    ("fnmadd d0, d1, d2, d3", 0x1f62_0c20),
    ("fnmsub d0, d1, d2, d3", 0x1f62_8c20),
    ("fcmp d0, d1", 0x1e61_2000),
    ("fcmp s0, #0.0", 0x1e20_2008),
    ("fcmpe d0, d1", 0x1e61_2010),
    ("fcmpe d0, #0.0", 0x1e60_2018),
    ("fccmp d0, d1, #4, ne", 0x1e61_1404),
    ("fccmpe s0, s1, #2, eq", 0x1e21_0412),
    ("fcsel d0, d1, d2, gt", 0x1e62_cc20),
    ("fmov d0, #1.00000000", 0x1e6e_1000),
    ("fmov s1, #-0.50000000", 0x1e3c_1001),
    ("fcvtzs w0, d1", 0x1e78_0020),
    ("fcvtzu x0, s1", 0x9e39_0020),
    ("fcvtns x0, d1", 0x9e60_0020),
    ("fcvtps w0, d1", 0x1e68_0020),
    ("fcvtms x0, d1", 0x9e70_0020),
    ("fcvtas w0, s1", 0x1e24_0020),
    ("fcvtau x0, d1", 0x9e65_0020),
    ("scvtf d0, x1", 0x9e62_0020),
    ("ucvtf s0, w1", 0x1e23_0020),
    ("scvtf s0, x1", 0x9e22_0020),
    ("fmov w0, s1", 0x1e26_0020),
    ("fmov s0, w1", 0x1e27_0020),
    ("fmov x0, d1", 0x9e66_0020),
    ("fmov d0, x1", 0x9e67_0020),
    ("fmov x0, v1.d[1]", 0x9eae_0020),
    ("fmov v0.d[1], x1", 0x9eaf_0020),
    ("and v0.16b, v1.16b, v2.16b", 0x4e22_1c20),
    ("bic v0.8b, v1.8b, v2.8b", 0x0e62_1c20),
    ("orr v0.16b, v1.16b, v2.16b", 0x4ea2_1c20),
    ("orn v0.16b, v1.16b, v2.16b", 0x4ee2_1c20),
    ("eor v0.16b, v1.16b, v2.16b", 0x6e22_1c20),
    ("bsl v0.16b, v1.16b, v2.16b", 0x6e62_1c20),
    ("bit v0.16b, v1.16b, v2.16b", 0x6ea2_1c20),
    ("bif v0.16b, v1.16b, v2.16b", 0x6ee2_1c20),
    ("add v0.4s, v1.4s, v2.4s", 0x4ea2_8420),
    ("sub v0.2d, v1.2d, v2.2d", 0x6ee2_8420),
    ("cmeq v0.16b, v1.16b, v2.16b", 0x6e22_8c20),
    ("cmtst v0.8h, v1.8h, v2.8h", 0x4e62_8c20),
    ("cmhi v0.16b, v1.16b, v2.16b", 0x6e22_3420),
    ("cmhs v0.4s, v1.4s, v2.4s", 0x6ea2_3c20),
    ("cmgt v0.16b, v1.16b, v2.16b", 0x4e22_3420),
    ("cmge v0.8b, v1.8b, v2.8b", 0x0e22_3c20),
    ("umax v0.16b, v1.16b, v2.16b", 0x6e22_6420),
    ("umin v0.16b, v1.16b, v2.16b", 0x6e22_6c20),
    ("smax v0.4s, v1.4s, v2.4s", 0x4ea2_6420),
    ("smin v0.4s, v1.4s, v2.4s", 0x4ea2_6c20),
    ("addp v0.16b, v1.16b, v2.16b", 0x4e22_bc20),
    ("umaxp v0.16b, v1.16b, v2.16b", 0x6e22_a420),
    ("uminp v0.16b, v1.16b, v2.16b", 0x6e22_ac20),
    ("cmeq v0.16b, v1.16b, #0", 0x4e20_9820),
    ("cmgt v0.4s, v1.4s, #0", 0x4ea0_8820),
    ("cmge v0.8b, v1.8b, #0", 0x2e20_8820),
    ("cmle v0.16b, v1.16b, #0", 0x6e20_9820),
    ("cmlt v0.2d, v1.2d, #0", 0x4ee0_a820),
    ("cnt v0.8b, v1.8b", 0x0e20_5820),
    ("mvn v0.16b, v1.16b", 0x6e20_5820),
    ("xtn v0.8b, v1.8h", 0x0e21_2820),
    ("rev64 v0.16b, v1.16b", 0x4e20_0820),
    ("rev32 v0.8b, v0.8b", 0x2e20_0800),
    ("mov h1, v0.h[3]", 0x5e0e_0401),
    ("sli v4.4s, v1.4s, #8", 0x6f28_5424),
    ("sri v4.4s, v1.4s, #8", 0x6f38_4424),
    ("rev16 v0.16b, v1.16b", 0x4e20_1820),
    ("addv b0, v1.16b", 0x4e31_b820),
    ("umaxv b0, v1.16b", 0x6e30_a820),
    ("uminv h0, v1.8h", 0x6e71_a820),
    ("smaxv s0, v1.4s", 0x4eb0_a820),
    ("uaddlv h0, v1.8b", 0x2e30_3820),
    ("uaddlv s0, v1.8h", 0x6e70_3820),
    ("dup v0.16b, v1.b[3]", 0x4e07_0420),
    ("dup v0.2d, v1.d[1]", 0x4e18_0420),
    ("dup v0.4s, w1", 0x4e04_0c20),
    ("dup v0.2d, x1", 0x4e08_0c20),
    ("mov v0.s[2], w1", 0x4e14_1c20),
    ("mov v0.d[1], x1", 0x4e18_1c20),
    ("mov v0.b[5], v1.b[9]", 0x6e0b_4c20),
    ("umov w0, v1.b[7]", 0x0e0f_3c20),
    ("umov w0, v1.h[3]", 0x0e0e_3c20),
    ("mov w0, v1.s[1]", 0x0e0c_3c20),
    ("mov x0, v1.d[1]", 0x4e18_3c20),
    ("smov x0, v1.b[2]", 0x4e05_2c20),
    ("smov w0, v1.h[1]", 0x0e06_2c20),
    ("movi v0.16b, #255", 0x4f07_e7e0),
    ("movi v0.2d, #0xff00ff00ff00ff00", 0x6f05_e540),
    ("movi d0, #0000000000000000", 0x2f00_e400),
    ("movi v0.4s, #1, lsl #8", 0x4f00_2420),
    ("mvni v0.4h, #2", 0x2f00_8440),
    ("orr v0.4s, #3, lsl #16", 0x4f00_5460),
    ("bic v0.8h, #4", 0x6f00_9480),
    ("movi v0.4s, #18, msl #8", 0x4f00_c640),
    ("fmov v0.4s, #1.00000000", 0x4f03_f600),
    ("fmov v0.2d, #-2.00000000", 0x6f04_f400),
    ("ext v0.16b, v1.16b, v2.16b, #3", 0x6e02_1820),
    ("ushr v0.16b, v1.16b, #3", 0x6f0d_0420),
    ("sshr v0.2d, v1.2d, #63", 0x4f41_0420),
    ("shl v0.4s, v1.4s, #5", 0x4f25_5420),
    ("shrn v0.8b, v1.8h, #4", 0x0f0c_8420),
    ("ushll v0.8h, v1.8b, #0", 0x2f08_a420),
    ("sshll2 v0.4s, v1.8h, #2", 0x4f12_a420),
    ("ld1 { v0.16b }, [x0]", 0x4c40_7000),
    ("ld1 { v0.16b, v1.16b }, [x0], #32", 0x4cdf_a000),
    ("ld1 { v0.4s, v1.4s, v2.4s }, [x0], x2", 0x4cc2_6800),
    ("ld1 { v0.2d, v1.2d, v2.2d, v3.2d }, [x0]", 0x4c40_2c00),
    ("st1 { v0.16b }, [x0], #16", 0x4c9f_7000),
    ("st1 { v0.8b, v1.8b }, [x1]", 0x0c00_a020),
    ("ldr q0, [x0, #16]", 0x3dc0_0400),
    ("str d1, [sp, #-8]!", 0xfc1f_8fe1),
    ("ldr b2, [x1], #1", 0x3c40_1422),
    ("str h3, [x1, x2, lsl #1]", 0x7c22_7823),
    ("ldp q0, q1, [x0, #32]", 0xad41_0400),
    ("stp s0, s1, [sp, #-8]!", 0x2dbf_07e0),
    ("ldr d0, #8", 0x5c00_0040),
];

#[test]
fn every_fp_simd_form_decodes() {
    for &(text, w) in FP_SIMD_FORMS {
        assert!(
            matches!(
                decode(w),
                super::decode::Insn::Fp(_)
                    | super::decode::Insn::Mem { .. }
                    | super::decode::Insn::Pair { .. }
            ),
            "{text} ({w:#010x}) decoded as {:?}",
            decode(w)
        );
    }
}

fn d(x: f64) -> u128 {
    u128::from(x.to_bits())
}
fn s(x: f32) -> u128 {
    u128::from(x.to_bits())
}

#[test]
fn scalar_fp_arithmetic_compare_and_convert() {
    let prog = [
        0x1e62_2820, // fadd d0, d1, d2
        0x1e25_0883, // fmul s3, s4, s5
        0x1e62_1826, // fdiv d6, d1, d2
        0x1e61_c027, // fsqrt d7, d1
        0x9e78_00c0, // fcvtzs x0, d6
        0x9e62_0028, // scvtf d8, x1
        0x1e62_2020, // fcmp d1, d2
        0x1e62_bc29, // fcsel d9, d1, d2, lt
        0x1f42_002a, // fmadd d10, d1, d2, d0
        0x1e62_402b, // fcvt s11, d1
        0x1e66_41ac, // frinta d12, d13
        0x9e66_0022, // fmov x2, d1
        0x1e70_900e, // fmov d14, #-2.5
        0x1e23_006f, // ucvtf s15, w3
        0x1e39_01e4, // fcvtzu w4, s15
        0x1e61_4030, // fneg d16, d1
        0x1e62_6831, // fmaxnm d17, d1, d2
        HALT,
    ];
    let mut m = Machine::new(&prog);
    m.cpu.set_v(1, d(1.5) | (0xdead_u128 << 64)); // upper bits are ignored
    m.cpu.set_v(2, d(2.25));
    m.cpu.set_v(4, s(1.5));
    m.cpu.set_v(5, s(-4.0));
    m.cpu.set_v(13, d(-2.5));
    m.cpu.set_x(1, (-7i64) as u64);
    m.cpu.set_x(3, 10);
    m.halt();
    assert_eq!(m.cpu.v(0), d(3.75), "scalar writes clear the upper bits");
    assert_eq!(m.cpu.v(3), s(-6.0));
    assert_eq!(m.cpu.v(6), d(1.5 / 2.25));
    assert_eq!(m.cpu.v(7), d(1.224_744_871_391_589));
    assert_eq!(m.x(0), 0);
    assert_eq!(m.cpu.v(8), d(-7.0));
    assert_eq!(m.cpu.nzcv(), N);
    assert_eq!(m.cpu.v(9), d(1.5));
    assert_eq!(m.cpu.v(10), d(7.125));
    assert_eq!(m.cpu.v(11), s(1.5));
    assert_eq!(m.cpu.v(12), d(-3.0));
    assert_eq!(m.x(2), 1.5f64.to_bits());
    assert_eq!(m.cpu.v(14), d(-2.5));
    assert_eq!(m.cpu.v(15), s(10.0));
    assert_eq!(m.x(4), 10);
    assert_eq!(m.cpu.v(16), d(-1.5));
    assert_eq!(m.cpu.v(17), d(2.25));
}

#[test]
fn fp_conversions_saturate_and_compares_see_nans() {
    let prog = [
        0x9e78_00c0, // fcvtzs x0, d6
        0x1e39_01e4, // fcvtzu w4, s15
        0x1e62_2020, // fcmp d1, d2
        HALT,
    ];
    let mut m = Machine::new(&prog);
    m.cpu.set_v(6, d(-1e300));
    m.cpu.set_v(15, s(-3.0));
    m.cpu.set_v(1, d(f64::NAN));
    m.halt();
    assert_eq!(m.x(0), i64::MIN as u64);
    assert_eq!(m.x(4), 0);
    assert_eq!(m.cpu.nzcv(), C | V, "unordered");
}

#[test]
fn simd_moves_compares_and_reductions() {
    let prog = [
        0x4e01_0c20, // dup v0.16b, w1
        0x4e20_9841, // cmeq v1.16b, v2.16b, #0
        0x6e30_a823, // umaxv b3, v1.16b
        0x9e66_0024, // fmov x4, d1
        0x0e20_58c5, // cnt v5.8b, v6.8b
        0x2e30_38a5, // uaddlv h5, v5.8b
        0x1e26_00a6, // fmov w6, s5
        0x6f05_e547, // movi v7.2d, #0xff00ff00ff00ff00
        0x0f0c_8528, // shrn v8.8b, v9.8h, #4
        0x6e0c_196a, // ext v10.16b, v11.16b, v12.16b, #3
        0x0e1f_3d67, // umov w7, v11.b[15]
        0x4e18_1c2d, // mov v13.d[1], x1
        0x6e6c_1d6e, // bsl v14.16b, v11.16b, v12.16b
        0x4e2c_bd6f, // addp v15.16b, v11.16b, v12.16b
        HALT,
    ];
    let bytes = |f: &dyn Fn(u32) -> u8| {
        let mut v = 0u128;
        for i in 0..16 {
            v |= u128::from(f(i)) << (8 * i);
        }
        v
    };
    let mut m = Machine::new(&prog);
    m.cpu.set_x(1, 0x1234_56ab);
    m.cpu.set_v(2, u128::from_le_bytes(*b"hello, world!\0\0\0"));
    m.cpu.set_v(6, 0x0103_070f_ff00_8001);
    m.cpu.set_v(9, 0x1000_0100_0010_0001_ff00_00f0_abcd_1234);
    m.cpu.set_v(11, bytes(&|i| i as u8));
    m.cpu.set_v(12, bytes(&|i| (16 + i) as u8));
    m.cpu.set_v(13, u128::MAX / 3);
    m.cpu
        .set_v(14, bytes(&|i| if i % 2 == 0 { 0xff } else { 0 }));
    m.halt();
    assert_eq!(m.cpu.v(0), bytes(&|_| 0xab));
    assert_eq!(m.cpu.v(1), 0xffff_ff00_0000_0000_0000_0000_0000_0000);
    assert_eq!(m.cpu.v(3), 0xff);
    assert_eq!(m.x(4), 0);
    // Bytes 01 80 00 ff 0f 07 03 01 have 1+1+0+8+4+3+2+1 = 20 bits set.
    assert_eq!(m.cpu.v(5), 20);
    assert_eq!(m.x(6), 20);
    assert_eq!(m.cpu.v(7), 0xff00_ff00_ff00_ff00_ff00_ff00_ff00_ff00);
    assert_eq!(m.cpu.v(8), 0x0010_0100_f00f_bc23);
    assert_eq!(m.cpu.v(10), bytes(&|i| (i + 3) as u8));
    assert_eq!(m.x(7), 15);
    assert_eq!(
        m.cpu.v(13),
        (u128::MAX / 3) & u128::from(u64::MAX) | (0x1234_56ab << 64)
    );
    assert_eq!(
        m.cpu.v(14),
        bytes(&|i| if i % 2 == 0 { i as u8 } else { (16 + i) as u8 })
    );
    assert_eq!(m.cpu.v(15), bytes(&|i| (4 * i + 1) as u8));
}

#[test]
fn simd_structure_loads_and_stores_and_q_pairs() {
    let prog = [
        0x4cdf_7002,                             // ld1 {v2.16b}, [x0], #16
        0x4c00_70a0,                             // st1 {v0.16b}, [x5]
        ldst_pair(2, true, 2, true, 2, 4, 6, 3), // ldp q3, q4, [x6, #32]
        HALT,
    ];
    let mut m = Machine::new(&prog);
    let pattern: Vec<u8> = (0..96u8).collect();
    m.bus.mem.write(GuestAddress(DATA), &pattern).unwrap();
    m.cpu.set_x(0, DATA);
    m.cpu.set_x(5, DATA + 0x100);
    m.cpu.set_x(6, DATA);
    m.cpu.set_v(0, 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210);
    m.halt();
    let le = |off: usize| {
        let mut b = [0u8; 16];
        b.copy_from_slice(&pattern[off..off + 16]);
        u128::from_le_bytes(b)
    };
    assert_eq!(m.cpu.v(2), le(0));
    assert_eq!(m.x(0), DATA + 16);
    assert_eq!(m.mem64(DATA + 0x100), 0xfedc_ba98_7654_3210);
    assert_eq!(m.mem64(DATA + 0x108), 0x0123_4567_89ab_cdef);
    assert_eq!(m.cpu.v(3), le(32));
    assert_eq!(m.cpu.v(4), le(48));
}

/// A strlen in the style of optimized C libraries: 16 bytes at a time,
/// CMEQ against zero, UMAXV to test, then a scalar tail.
#[test]
fn vector_strlen_runs() {
    let text = b"The quick brown fox jumps over the lazy dog\0";
    let prog = [
        mov_reg(true, 1, 0),                // x1 = start
        0x4cdf_7002,                        // loop: ld1 {v2.16b}, [x0], #16
        0x4e20_9841,                        // cmeq v1.16b, v2.16b, #0
        0x6e30_a823,                        // umaxv b3, v1.16b
        0x1e26_0066,                        // fmov w6, s3 (llvm-mc)
        cbz(false, false, 6, -16),          // no zero byte: next 16
        sub_imm(true, 0, 0, 16),            // back to the chunk
        ldst_imm9(0, false, 1, 1, 1, 0, 7), // tail: ldrb w7, [x0], #1
        cbz(false, true, 7, -4),
        sub_imm(true, 0, 0, 1),
        addsub_reg(true, 1, false, 0, 1, 0, 0, 0), // x0 = x0 - x1
        HALT,
    ];
    let mut m = Machine::new(&prog);
    m.bus.mem.write(GuestAddress(DATA), text).unwrap();
    m.cpu.set_x(0, DATA);
    m.halt();
    assert_eq!(m.x(0), text.len() as u64 - 1);
}

/// A bus whose instruction fetches are translated by a movable offset, as a
/// soft MMU's would be after the guest edits its page tables.
struct ShiftBus {
    inner: FlatBus<GuestRam>,
    offset: u64,
}

impl super::CpuBus for ShiftBus {
    fn load(&mut self, va: u64, size: u8, el: u8) -> Result<u64, super::Fault> {
        self.inner.load(va, size, el)
    }
    fn store(&mut self, va: u64, size: u8, value: u64, el: u8) -> Result<u64, super::Fault> {
        self.inner.store(va, size, value, el)
    }
    fn fetch_pa(&mut self, va: u64, el: u8) -> Result<u64, super::Fault> {
        self.inner.fetch_pa(va.wrapping_add(self.offset), el)
    }
    fn fetch_word(&mut self, pa: u64) -> Result<u32, super::Fault> {
        self.inner.fetch_word(pa)
    }
}

#[test]
fn guest_tlbi_drops_virtual_block_lookups() {
    let mut prog = vec_at(&[(0, hvc(1)), (0x40, sys(0, 8, 7, 0, 31)), (0x41, b(-0x104))]);
    prog.resize(0x400, NOP);
    prog.extend_from_slice(&[hvc(2)]); // PA RAM + 0x1000
    prog.resize(0x440, NOP);
    prog.extend_from_slice(&[sys(0, 8, 7, 0, 31), b(-0x104)]); // PA RAM + 0x1100
    let m = Machine::new(&prog);
    let mut cpu = m.cpu;
    let mut bus = ShiftBus {
        inner: m.bus,
        offset: 0,
    };
    assert_eq!(cpu.run(&mut bus, 100), Exit::Hvc { imm: 1 });
    // The "page tables" now map VA RAM.. to PA RAM + 0x1000..; the guest
    // runs TLBI VMALLE1 (at VA RAM + 0x100) and branches to VA RAM.
    bus.offset = 0x1000;
    cpu.set_pc(RAM + 0x100);
    assert_eq!(cpu.run(&mut bus, 100), Exit::Hvc { imm: 2 });
}

#[test]
fn el0_access_is_gated_by_sctlr_and_cntkctl() {
    let mut m = Machine::new(&[mrs(0, sysreg::CNTVCT_EL0), WFI, msr_daifset(2), HALT]);
    let to_el0 = |m: &mut Machine, pc: u64| {
        m.cpu.set_pstate(Spsr::empty()); // EL0t, unmasked
        m.cpu.set_pc(pc);
    };
    let sync_lower = Exit::Hvc {
        imm: vector_hvc(VectorKind::Sync, 2),
    };
    // Counter access disabled by CNTKCTL_EL1: EC 0x18 with the encoding
    // (op0 3, op2 2, op1 3, CRn 14, Rt 0, CRm 0, read).
    to_el0(&mut m, RAM);
    assert_eq!(m.run(), sync_lower);
    assert_eq!(m.cpu.sys.esr, 0x6234_f801);
    m.cpu.sys.cntkctl = 2;
    to_el0(&mut m, RAM);
    // WFI at EL0 with SCTLR_EL1.nTWI clear: EC 0x01, CV, cond AL, WFI.
    assert_eq!(m.run(), sync_lower);
    assert_eq!(m.cpu.sys.esr, 0x07e0_0000);
    assert_eq!(m.cpu.sys.elr, RAM + 4);
    m.cpu.sys.sctlr |= sysreg::SCTLR_NTWI;
    to_el0(&mut m, RAM + 4);
    assert_eq!(m.run(), Exit::Wfi);
    // DAIFSet at EL0 with UMA clear: EC 0x18 (op0 0, op2 6, op1 3, CRn 4,
    // Rt 31, CRm 2, write).
    assert_eq!(m.run(), sync_lower);
    assert_eq!(m.cpu.sys.esr, 0x620c_d3e4);
    m.cpu.sys.sctlr |= sysreg::SCTLR_UMA;
    to_el0(&mut m, RAM + 8);
    assert_eq!(
        m.run(),
        Exit::Hvc {
            imm: vector_hvc(VectorKind::Sync, 2)
        },
        "HVC is undefined at EL0"
    );
    assert_eq!(m.cpu.sys.esr, 0x0200_0000);
    assert_eq!(m.cpu.sys.spsr & 0x3c0, 0x080, "DAIFSet #2 masked I at EL0");
}

/// An instruction to patch: index, target label, encoder of the offset.
type Fixup = (usize, &'static str, fn(i32) -> u32);

/// A two-pass helper for test programs with labels.
#[derive(Default)]
struct Prog {
    words: Vec<u32>,
    labels: Vec<(&'static str, usize)>,
    fixups: Vec<Fixup>,
}

impl Prog {
    fn emit(&mut self, w: u32) -> &mut Self {
        self.words.push(w);
        self
    }
    fn label(&mut self, name: &'static str) -> &mut Self {
        self.labels.push((name, self.words.len()));
        self
    }
    /// A PC-relative instruction to `name`, built by `enc(byte offset)`.
    fn to(&mut self, name: &'static str, enc: fn(i32) -> u32) -> &mut Self {
        self.fixups.push((self.words.len(), name, enc));
        self.words.push(0);
        self
    }
    fn align(&mut self, bytes: usize) -> &mut Self {
        while (self.words.len() * 4) % bytes != 0 {
            self.words.push(NOP);
        }
        self
    }
    fn finish(&mut self) -> Vec<u32> {
        for &(at, name, enc) in &self.fixups {
            let target = self.labels.iter().find(|l| l.0 == name).unwrap().1;
            self.words[at] = enc((target as i32 - at as i32) * 4);
        }
        self.words.clone()
    }
}

/// A miniature kernel: installs its vector table, drops to EL0 with ERET,
/// serves "syscalls" through SVC and the lower-EL synchronous vector, and
/// halts when the user program calls exit.
#[test]
fn mini_kernel_runs_a_user_program_with_syscalls() {
    let mut p = Prog::default();
    p.to("vectors", |o| adr(0, o))
        .emit(msr(sysreg::VBAR_EL1, 0))
        .emit(movz(true, 0, 0x30, 1)) // CPACR_EL1.FPEN = 0b11
        .emit(msr(sysreg::CPACR_EL1, 0));
    for w in mov64(1, STACK - 0x1000) {
        p.emit(w);
    }
    p.emit(msr(sysreg::SP_EL0, 1))
        .to("user", |o| adr(0, o))
        .emit(msr(sysreg::ELR_EL1, 0))
        .emit(msr(sysreg::SPSR_EL1, 31))
        .emit(ERET);
    // EL0: five syscalls doubling their argument, summed.
    p.label("user")
        .emit(movz(true, 19, 0, 0))
        .emit(movz(true, 20, 5, 0))
        .label("loop")
        .emit(mov_reg(true, 0, 20))
        .emit(movz(true, 8, 1, 0))
        .emit(svc(0))
        .emit(addsub_reg(true, 0, false, 0, 0, 0, 19, 19))
        .emit(ldst_pair(2, false, 3, false, -2, 20, 31, 19)) // stp x19, x20, [sp, #-16]!
        .emit(ldst_pair(2, false, 1, true, 2, 20, 31, 19)) // ldp x19, x20, [sp], #16
        .emit(subs_imm(true, 20, 20, 1))
        .to("loop", |o| b_cond(NE, o))
        .emit(movz(true, 8, 2, 0))
        .emit(svc(0))
        .emit(hvc(0xdead)); // not reached
                            // Vector table: only "synchronous, lower EL" (offset 0x400) is used.
    p.align(2048).label("vectors");
    for _ in 0..0x400 / 4 {
        p.emit(hvc(0xbad));
    }
    p.emit(ldst_pair(2, false, 3, false, -2, 30, 31, 29)) // stp x29, x30, [sp, #-16]!
        .emit(mrs(29, sysreg::ESR_EL1))
        .emit(bitfield(true, 2, 26, 63, 29, 29)) // lsr x29, x29, #26
        .emit(cmp_imm(true, 29, 0x15))
        .to("bad", |o| b_cond(NE, o))
        .emit(cmp_imm(true, 8, 1))
        .to("not1", |o| b_cond(NE, o))
        .emit(addsub_reg(true, 0, false, 0, 0, 0, 0, 0)) // x0 += x0
        .emit(ldst_pair(2, false, 1, true, 2, 30, 31, 29)) // ldp x29, x30, [sp], #16
        .emit(ERET)
        .label("not1")
        .emit(cmp_imm(true, 8, 2))
        .to("bad", |o| b_cond(NE, o))
        .emit(mov_reg(true, 0, 19))
        .emit(HALT)
        .label("bad")
        .emit(hvc(0xdead));
    let prog = p.finish();
    let mut m = Machine::new(&prog);
    m.cpu.sys.cpacr = 0;
    m.halt();
    assert_eq!(m.x(0), 2 * (5 + 4 + 3 + 2 + 1));
    assert_eq!(m.cpu.el(), 1);
    assert_eq!(m.cpu.banked_sp(), [STACK - 0x1000, STACK - 16]);
    assert_eq!(m.cpu.sys.esr, 0x5600_0000);
    assert_eq!(m.cpu.sys.cpacr, 3 << 20);
}

/// With the MMU off every data access is to Device memory: unaligned
/// accesses and DC ZVA are alignment faults (as on hardware and QEMU);
/// LD1 checks the element size only.
#[test]
fn mmu_off_accesses_must_be_aligned() {
    for (w, x1, fault) in [
        (ldr_imm(true, 0, 1, 0), DATA + 4, true),
        (ldr_imm(false, 0, 1, 0), DATA + 4, false),
        (ldst_pair(2, false, 2, true, 0, 2, 1, 0), DATA + 8, false), // ldp x0, x2
        (ldst_uimm(0, true, 3, 0, 1, 0), DATA + 8, true),            // ldr q0
        (0x4c40_7020, DATA + 1, false),                              // ld1 {v0.16b}, [x1] (llvm-mc)
        (0x4c40_7c20, DATA + 4, true),                               // ld1 {v0.2d}, [x1] (llvm-mc)
        (sys(3, 7, 4, 1, 1), DATA, true),                            // dc zva, x1
    ] {
        let mut m = Machine::new(&[w, HALT]);
        m.cpu.set_x(1, x1);
        if fault {
            assert_eq!(
                m.run(),
                Exit::Hvc {
                    imm: vector_hvc(VectorKind::Sync, 1)
                },
                "{w:#x}"
            );
            assert_eq!(
                m.cpu.sys.esr & 0xfc00_003f,
                (0x25 << 26) | 0b10_0001,
                "{w:#x}"
            );
            assert_eq!(m.cpu.sys.far, x1);
        } else {
            m.halt();
        }
    }
}

/// NaN cases of the fused multiply-add family, where the Arm rules differ
/// from "first NaN operand" (found by differential runs against QEMU).
#[test]
fn fused_multiply_add_nan_rules() {
    let qnan = 0x7ff8_0000_0000_0000u128;
    let prog = [
        0x1f42_8c23, // fmsub d3, d1, d2, d3 (llvm-mc): the multiplicand is negated first
        0x1f62_1024, // fnmadd d4, d1, d2, d4 (llvm-mc): quiet-NaN addend, inf * 0
        HALT,
    ];
    let mut m = Machine::new(&prog);
    m.cpu.set_v(1, qnan);
    m.cpu.set_v(2, d(2.0));
    m.cpu.set_v(3, d(1.0));
    m.halt();
    assert_eq!(m.cpu.v(3), 0xfff8_0000_0000_0000);

    let mut m = Machine::new(&prog);
    m.cpu.set_v(1, d(f64::INFINITY));
    m.cpu.set_v(2, d(0.0));
    m.cpu.set_v(3, d(1.0));
    m.cpu.set_v(4, 0x7ff8_0000_0000_0001);
    m.halt();
    assert_eq!(
        m.cpu.v(4),
        0x7ff8_0000_0000_0000,
        "default NaN, not the addend"
    );
}

/// The monitor is value-based: a plain store that changes the armed data
/// makes STXR fail; one that leaves it unchanged does not (both are
/// allowed, the store's effect on the local monitor being IMPLEMENTATION
/// DEFINED; this is also QEMU's behaviour).
#[test]
fn plain_stores_that_change_armed_data_fail_store_exclusive() {
    let prog = [
        ldst_excl(3, 0, 1, 0, 31, 0, 31, 1, 0), // ldxr x0, [x1]
        str_imm(true, 2, 1, 0),                 // str x2, [x1]
        ldst_excl(3, 0, 0, 0, 3, 0, 31, 1, 4),  // stxr w3, x4, [x1]
        HALT,
    ];
    for (x2, status, stored) in [(7u64, 1u64, 7u64), (5, 0, 99)] {
        let mut m = Machine::new(&prog);
        m.bus.mem.write_u64(GuestAddress(DATA), 5).unwrap();
        m.cpu.set_x(1, DATA);
        m.cpu.set_x(2, x2);
        m.cpu.set_x(4, 99);
        m.halt();
        assert_eq!(m.x(3), status, "x2 = {x2}");
        assert_eq!(m.mem64(DATA), stored);
    }
}

#[test]
fn vector_fp_arithmetic_and_integer_multiply() {
    let prog = [
        0x4e22_d420, // fadd v0.4s, v1.4s, v2.4s (llvm-mc)
        0x2e22_dc23, // fmul v3.2s, v1.2s, v2.2s
        0x4ee2_d424, // fsub v4.2d, v1.2d, v2.2d
        0x4e62_9c25, // mul v5.8h, v1.8h, v2.8h
        0x6ee0_f826, // fneg v6.2d, v1.2d
        HALT,
    ];
    let lanes32 = |v: [f32; 4]| {
        v.iter().enumerate().fold(0u128, |acc, (i, x)| {
            acc | (u128::from(x.to_bits()) << (32 * i))
        })
    };
    let mut m = Machine::new(&prog);
    m.cpu.set_v(1, lanes32([1.5, -2.0, 3.0, 0.25]));
    m.cpu.set_v(2, lanes32([0.5, 4.0, -1.0, 0.25]));
    m.halt();
    assert_eq!(m.cpu.v(0), lanes32([2.0, 2.0, 2.0, 0.5]));
    assert_eq!(
        m.cpu.v(3),
        lanes32([0.75, -8.0, 0.0, 0.0]),
        "2S: upper half zero"
    );
    // As doubles the same bits are other numbers; check lane 0 by the host.
    let lo = |v: u128| f64::from_bits(v as u64);
    let hi = |v: u128| f64::from_bits((v >> 64) as u64);
    let (a, b) = (m.cpu.v(1), m.cpu.v(2));
    assert_eq!(m.cpu.v(4), d(lo(a) - lo(b)) | (d(hi(a) - hi(b)) << 64));
    // Halfword products, low 16 bits: e.g. lane 1 of 0x3fc0_0000 times
    // 0x3f00_0000 is 0x3fc0 * 0x3f00 mod 2^16.
    assert_eq!((m.cpu.v(5) >> 16) as u16, 0x3fc0u16.wrapping_mul(0x3f00));
    assert_eq!(m.cpu.v(6), a ^ ((1u128 << 127) | (1u128 << 63)));
}

#[test]
fn simd_rev32_and_rev16_reverse_within_their_containers() {
    let prog = [
        0x2e20_0820, // rev32 v0.8b, v1.8b
        0x6e60_0822, // rev32 v2.8h, v1.8h
        0x4e20_1823, // rev16 v3.16b, v1.16b
        HALT,
    ];
    let mut m = Machine::new(&prog);
    m.cpu.set_v(1, 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100);
    m.halt();
    assert_eq!(
        m.cpu.v(0),
        0x0405_0607_0001_0203,
        "64-bit form clears the top half"
    );
    assert_eq!(m.cpu.v(2), 0x0d0c_0f0e_0908_0b0a_0504_0706_0100_0302);
    assert_eq!(m.cpu.v(3), 0x0e0f_0c0d_0a0b_0809_0607_0405_0203_0001);
}

#[test]
fn simd_scalar_dup_takes_one_element() {
    let prog = [
        0x5e0e_0401, // mov h1, v0.h[3]
        0x5e18_0402, // mov d2, v0.d[1]
        HALT,
    ];
    let mut m = Machine::new(&prog);
    m.cpu.set_v(0, 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100);
    m.cpu.set_v(1, u128::MAX);
    m.halt();
    assert_eq!(m.cpu.v(1), 0x0706, "the rest of the register is cleared");
    assert_eq!(m.cpu.v(2), 0x0f0e_0d0c_0b0a_0908);
}

#[test]
fn simd_sli_and_sri_insert_shifted_bits() {
    let prog = [
        0x6f28_5424, // sli v4.4s, v1.4s, #8
        0x6f38_4425, // sri v5.4s, v1.4s, #8
        HALT,
    ];
    let mut m = Machine::new(&prog);
    m.cpu.set_v(1, 0x1111_1111_2222_2222_3333_3333_a1b2_c3d4);
    m.cpu.set_v(4, 0xffff_ffff_ffff_ffff_ffff_ffff_ffff_ffff);
    m.cpu.set_v(5, 0xffff_ffff_ffff_ffff_ffff_ffff_ffff_ffff);
    m.halt();
    // SLI keeps the low 8 bits of each destination lane.
    assert_eq!(m.cpu.v(4), 0x1111_11ff_2222_22ff_3333_33ff_b2c3_d4ff);
    // SRI keeps the high 8 bits.
    assert_eq!(m.cpu.v(5), 0xff11_1111_ff22_2222_ff33_3333_ffa1_b2c3);
}

/// An exception entry counts as one towards the budget and the counter, so
/// a guest that only takes exceptions still runs out of budget.
#[test]
fn exception_entries_count_towards_icount() {
    // Start outside RAM: the fetch aborts, and the vector is HVC.
    let mut m = Machine::new(&[]);
    m.cpu.set_pc(0x10);
    let exit = m.run();
    assert_eq!(
        exit,
        Exit::Hvc {
            imm: vector_hvc(VectorKind::Sync, 1)
        }
    );
    assert_eq!(m.cpu.icount(), 2, "one entry and the HVC");
}

/// A fetch abort at the vector the last abort entered, with no progress,
/// is reported once instead of looping for ever.
#[test]
fn a_fault_at_the_vector_just_entered_is_a_fault_loop() {
    let mut m = Machine::new(&[]);
    m.cpu.sys.vbar = 0x1000; // outside RAM
    m.cpu.set_pc(0x10);
    let exit = m.cpu.run(&mut m.bus, u64::MAX);
    match exit {
        Exit::FaultLoop { pc, esr, vbar } => {
            assert_eq!(pc, 0x1200);
            assert_eq!(vbar, 0x1000);
            assert_eq!(esr >> 26, 0x21, "instruction abort, same EL: {esr:#x}");
        }
        other => panic!("expected a fault loop, got {other:?}"),
    }
    assert_eq!(m.cpu.icount(), 1, "one entry; the next fault is the loop");
}

/// Each feature ID_AA64ISAR0_EL1 advertises decodes (words from llvm-mc):
/// a guest that trusts the ID register never meets an UNDEF for it.
/// (PMULL, also covered by AES = 2, lands with the FP/SIMD tier.)
#[test]
fn advertised_features_decode() {
    for (name, w) in [
        ("aese v0.16b, v1.16b", 0x4e28_4820u32),
        ("aesimc v2.16b, v3.16b", 0x4e28_7862),
        ("sha1c q0, s1, v2.4s", 0x5e02_0020),
        ("sha1h s0, s1", 0x5e28_0820),
        ("sha256h q0, q1, v2.4s", 0x5e02_4020),
        ("sha256su0 v0.4s, v1.4s", 0x5e28_2820),
        ("crc32cx w0, w1, x2", 0x9ac2_5c20),
        ("casal x0, x1, [x2]", 0xc8e0_fc41),
        ("ldaddal w0, w1, [x2]", 0xb8e0_0041),
    ] {
        assert_ne!(decode(w), super::decode::Insn::Undefined, "{name}");
    }
}

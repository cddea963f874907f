//! hv-core's emulation of the ALU instructions a guest uses on MMIO
//! (`arch::x86_64::mmio_insn`), checked against the host CPU running the
//! same instructions on the same values: the memory result and the six
//! status flags, at every width.
#![cfg(target_arch = "x86_64")]

use core::arch::asm;
use hv_core::arch::x86_64::mmio_insn::{decode, flags, CpuMode, MmioAccess, Regs, Segment};
use hv_core::mmio::AccessWidth;

/// The operand in "MMIO": one register-sized cell.
struct Cell(u64);

impl MmioAccess for Cell {
    type Error = ();
    fn read(&mut self, w: AccessWidth) -> Result<u64, ()> {
        Ok(self.0 & w.mask())
    }
    fn write(&mut self, w: AccessWidth, v: u64) -> Result<(), ()> {
        self.0 = (self.0 & !w.mask()) | (v & w.mask());
        Ok(())
    }
    fn read_virt(&mut self, _: Segment, _: u64, _: AccessWidth) -> Result<u64, ()> {
        Err(())
    }
    fn write_virt(&mut self, _: u64, _: AccessWidth, _: u64) -> Result<(), ()> {
        Err(())
    }
}

/// `op [mem], reg` on the host: returns memory after and RFLAGS after,
/// starting from `flags_in`.
macro_rules! native {
    ($insn:literal, $ptr:literal, $reg:literal, $mem:expr, $b:expr, $flags_in:expr) => {{
        let mut mem: u64 = $mem;
        let mut f: u64 = $flags_in;
        // SAFETY: the instruction reads and writes only `mem`, a local
        // the pointer names, and RFLAGS, saved and restored through the
        // stack (pushfq/popfq balance, and the asm may use the stack).
        unsafe {
            asm!(
                "push {f}",
                "popfq",
                concat!($insn, " ", $ptr, " ptr [{m}], {b", $reg, "}"),
                "pushfq",
                "pop {f}",
                m = in(reg) &mut mem as *mut u64,
                b = in(reg) $b,
                f = inout(reg) f,
            );
        }
        (mem, f)
    }};
}

/// Runs `op [mem], b` at `width` bytes on the host.
fn host(op: &str, width: u64, a: u64, b: u64, flags_in: u64) -> (u64, u64) {
    macro_rules! by_op {
        ($ptr:literal, $reg:literal) => {
            match op {
                "and" => native!("and", $ptr, $reg, a, b, flags_in),
                "or" => native!("or", $ptr, $reg, a, b, flags_in),
                "xor" => native!("xor", $ptr, $reg, a, b, flags_in),
                "cmp" => native!("cmp", $ptr, $reg, a, b, flags_in),
                _ => native!("test", $ptr, $reg, a, b, flags_in),
            }
        };
    }
    match width {
        1 => by_op!("byte", ":l"),
        2 => by_op!("word", ":x"),
        4 => by_op!("dword", ":e"),
        _ => by_op!("qword", ""),
    }
}

/// `op [rdi], <rsi at width>` encoded, for hv-core's decoder.
fn encode(op: &str, width: u64) -> Vec<u8> {
    let base = match op {
        "and" => 0x20,
        "or" => 0x08,
        "xor" => 0x30,
        "cmp" => 0x38,
        _ => 0x84,
    };
    let modrm = 0x37; // [rdi], rsi
    match width {
        1 => vec![0x40, base, modrm], // REX so that SIL, not DH
        2 => vec![0x66, base | 1, modrm],
        4 => vec![base | 1, modrm],
        _ => vec![0x48, base | 1, modrm],
    }
}

#[test]
fn alu_results_and_flags_match_the_host_cpu() {
    // Edge values at every width, then pseudo-random ones.
    let edges = [
        0u64,
        1,
        0x7f,
        0x80,
        0xff,
        0x7fff,
        0x8000,
        0xffff,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_ffff,
        0x7fff_ffff_ffff_ffff,
        0x8000_0000_0000_0000,
        u64::MAX,
        0x0f0f_0f0f_0f0f_0f0f,
        0x1010_1010_1010_1010,
    ];
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut values: Vec<u64> = edges.to_vec();
    for _ in 0..48 {
        rng = rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        values.push(z ^ (z >> 31));
    }
    let mut cases = 0;
    for op in ["and", "or", "xor", "cmp", "test"] {
        for width in [1u64, 2, 4, 8] {
            let insn = decode(&encode(op, width), CpuMode::Long64).expect("decodes");
            for &a in &values {
                for &b in &values {
                    // Start from all status flags set, then all clear:
                    // every flag must be written, not left over.
                    for flags_in in [0x2 | flags::STATUS, 0x2] {
                        let (mem, host_flags) = host(op, width, a, b, flags_in);
                        let mut regs = Regs {
                            rflags: flags_in,
                            ..Regs::default()
                        };
                        regs.gpr[6] = b;
                        let mut cell = Cell(a);
                        insn.emulate(&mut regs, &mut cell).unwrap();
                        // AF is undefined after AND/OR/XOR/TEST (hv
                        // clears it, as the CPUs seen so far do).
                        let defined = if op == "cmp" {
                            flags::STATUS
                        } else {
                            flags::STATUS & !flags::AF
                        };
                        assert_eq!(
                            (cell.0, regs.rflags & defined),
                            (mem, host_flags & defined),
                            "{op} width {width}: a {a:#x}, b {b:#x}, flags in {flags_in:#x}"
                        );
                        cases += 1;
                    }
                }
            }
        }
    }
    assert_eq!(cases, 5 * 4 * 64 * 64 * 2);
}

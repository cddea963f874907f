//! The FP arithmetic decoder checked against LLVM's disassembler
//! (`llvm-mc --disassemble -triple=aarch64 -mattr=+v8a,+neon,+fp-armv8,+crc`,
//! ARMv8.0 without FEAT_FP16, as the CPU advertises).
//!
//! `llvm_fp_encodings_exhaustive` (ignored: it needs `llvm-mc`) enumerates
//! every opcode, size, Q/U, immediate and index bit of the FP encoding
//! classes (register fields random), keeps the words of the FP classes
//! ([`fp_class`]), has LLVM classify them and checks that every word LLVM
//! accepts decodes to an instruction here and every word it rejects stays
//! Undefined; it also rewrites `testdata/llvm_fp.txt`, a seeded sample of
//! the classified words that `llvm_fp_sample_agrees` checks on every run.

use super::super::decode::{decode, Insn};
use alloc::vec::Vec;

#[inline]
const fn bits(w: u32, hi: u32, lo: u32) -> u32 {
    (w >> lo) & ((1u32 << (hi - lo + 1)) - 1)
}

/// Whether `w` lies in one of the FP arithmetic encoding classes (valid or
/// not): the groups whose every allocated encoding is FP.
pub(super) fn fp_class(w: u32) -> bool {
    let op = |hi, lo| bits(w, hi, lo);
    let two_misc_fp = |opc: u32| (0b01100..=0b01111).contains(&opc) || opc >= 0b10110;
    if op(30, 30) == 0 && op(28, 24) == 0b11110 {
        return true; // FP data processing, compare, conversions
    }
    if op(30, 30) == 0 && op(28, 24) == 0b11111 {
        return true; // FP data processing, 3 source
    }
    // AdvSIMD scalar: 01 U 1 ...; vector: 0 Q U 0 ...
    let scalar = op(31, 30) == 0b01 && op(28, 28) == 1;
    let vector = op(31, 31) == 0 && op(28, 28) == 0;
    if !(scalar || vector) {
        return false;
    }
    let top = if scalar { 0b11110 } else { 0b01110 };
    if op(28, 24) == top && op(21, 21) == 1 {
        if op(10, 10) == 1 {
            return op(15, 11) >= 0b11000; // three same
        }
        if op(11, 10) == 0b10 && op(20, 17) == 0b0000 {
            return two_misc_fp(op(16, 12));
        }
        if op(11, 10) == 0b10 && op(20, 17) == 0b1000 {
            return matches!(op(16, 12), 0b01100 | 0b01101 | 0b01111);
        }
        return false;
    }
    let top = if scalar { 0b111110 } else { 0b011110 };
    if op(28, 23) == top && op(10, 10) == 1 && op(22, 19) != 0 {
        return matches!(op(15, 11), 0b11100 | 0b11111); // shift: fixed point
    }
    let top = if scalar { 0b11111 } else { 0b01111 };
    if op(28, 24) == top && op(10, 10) == 0 {
        return matches!(op(15, 12), 0b0001 | 0b0101 | 0b1001); // by element
    }
    false
}

#[test]
fn fp_class_covers_the_groups() {
    // fadd s0, s1, s2; fmla v0.4s, v1.4s, v2.s[1]; add v0.4s (integer).
    assert!(fp_class(0x1e22_2820));
    assert!(fp_class(0x4fa2_1020));
    assert!(!fp_class(0x4ea2_8420));
}

fn parse_sample(text: &str) -> Vec<(bool, u32)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, w) = l.split_once(' ').unwrap();
            (k == "v", u32::from_str_radix(w, 16).unwrap())
        })
        .collect()
}

#[test]
fn llvm_fp_sample_agrees() {
    let sample = parse_sample(include_str!("testdata/llvm_fp.txt"));
    assert!(sample.len() > 1000);
    let mut bad = Vec::new();
    for (valid, w) in sample {
        assert!(fp_class(w), "{w:#010x} is not in the FP classes");
        if valid == (decode(w) == Insn::Undefined) {
            bad.push(alloc::format!("{w:08x} llvm-valid={valid}"));
        }
    }
    assert!(bad.is_empty(), "disagreements with LLVM: {bad:?}");
}

#[test]
#[ignore = "needs llvm-mc; rewrites testdata/llvm_fp.txt"]
fn llvm_fp_encodings_exhaustive() {
    extern crate std;
    use std::io::Write;
    use std::process::{Command, Stdio};
    // (fixed value, fixed bits, enumerated bits); the rest is random.
    let groups: &[(u32, u32, u32)] = &[
        (0x1e00_0000, 0x5f00_0000, 0xa0ff_fc00),
        (0x1e20_2000, 0x5f20_3c00, 0xa0c0_c01f), // compares: bits 4:0 matter
        (0x1f00_0000, 0x5f00_0000, 0xa0e0_8000),
        (0x5e00_0000, 0xdf00_0000, 0x20ff_fc00),
        (0x5f00_0000, 0xdf00_0000, 0x20ff_fc00),
        (0x0e00_0000, 0x9f00_0000, 0x60ff_fc00),
        (0x0f00_0000, 0x9f00_0000, 0x60ff_fc00),
    ];
    let mut seed = 0x1234_5678_9abc_def1u64;
    let mut rnd = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed as u32
    };
    let mut words = Vec::new();
    for &(base, fixed, var) in groups {
        let free = !(var | fixed);
        let n = var.count_ones();
        for i in 0..(1u32 << n) {
            // Scatter i over the enumerated bits.
            let mut w = base;
            let mut k = 0;
            for b in 0..32 {
                if var >> b & 1 != 0 {
                    w |= (i >> k & 1) << b;
                    k += 1;
                }
            }
            w |= rnd() & free;
            if fp_class(w) {
                words.push(w);
            }
        }
    }
    words.sort_unstable();
    words.dedup();
    let bin = std::env::var("LLVM_MC").unwrap_or_else(|_| "llvm-mc-14".into());
    let mut child = Command::new(bin)
        .args([
            "--disassemble",
            "-triple=aarch64",
            "-mattr=+v8a,+neon,+fp-armv8,+crc",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("llvm-mc");
    let mut input = std::string::String::new();
    for w in &words {
        let b = w.to_le_bytes();
        input.push_str(&alloc::format!(
            "0x{:02x} 0x{:02x} 0x{:02x} 0x{:02x}\n",
            b[0],
            b[1],
            b[2],
            b[3]
        ));
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    let err = std::string::String::from_utf8_lossy(&out.stderr);
    let mut invalid = std::collections::BTreeSet::new();
    for l in err.lines() {
        if let Some(rest) = l.strip_prefix("<stdin>:") {
            if l.contains("invalid instruction encoding") {
                let line: usize = rest.split(':').next().unwrap().parse().unwrap();
                invalid.insert(line - 1);
            }
        }
    }
    let mut bad = Vec::new();
    let mut valid_words = Vec::new();
    let mut invalid_words = Vec::new();
    for (i, &w) in words.iter().enumerate() {
        let valid = !invalid.contains(&i);
        if valid {
            valid_words.push(w);
        } else {
            invalid_words.push(w);
        }
        if valid == (decode(w) == Insn::Undefined) {
            bad.push(alloc::format!("{w:08x} llvm-valid={valid}"));
        }
    }
    std::println!(
        "{} words: {} valid, {} invalid, {} disagreements",
        words.len(),
        valid_words.len(),
        invalid_words.len(),
        bad.len()
    );
    // A sample for the regular test: every 40th word of each kind.
    let mut text = std::string::String::from(
        "# Generated by llvm_fp_encodings_exhaustive (llvm_fp.rs): FP-class\n\
         # words LLVM's disassembler accepts (v) or rejects (i), ARMv8.0.\n",
    );
    for (k, list) in [("v", &valid_words), ("i", &invalid_words)] {
        for w in list.iter().step_by(if k == "v" { 4 } else { 40 }) {
            text.push_str(&alloc::format!("{k} {w:08x}\n"));
        }
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/translate/fp/testdata/llvm_fp.txt");
    std::fs::write(path, text).unwrap();
    let shown: Vec<_> = bad.iter().take(60).collect();
    assert!(bad.is_empty(), "{} disagreements: {shown:?}", bad.len());
}

//! Tests of the crypto instructions: single instructions against QEMU,
//! whole AES-128 / SHA-1 / SHA-256 blocks computed by the instruction
//! sequences of Linux's aes-ce, sha1-ce and sha2-ce against the published
//! FIPS test vectors, and decoding against LLVM.

use super::SBOX;
use crate::addr::GuestAddress;
use crate::mem::{GuestMemory, GuestRam};
use crate::mmio::MmioBus;
use crate::translate::asm::hvc;
use crate::translate::decode::{decode, Insn};
use crate::translate::{Cpu, CpuConfig, Exit, FlatBus};
use alloc::vec;
use alloc::vec::Vec;

const RAM: u64 = 0x4000_0000;
const DATA: u64 = 0x4001_0000;

/// Run `prog` (then `HVC #0xffff`) with FP enabled, V registers `v`, X1 =
/// DATA and `data` at DATA.
fn run(prog: &[u32], v: &[(u8, u128)], data: &[u8]) -> Cpu {
    let ram = GuestRam::with_size(GuestAddress(RAM), 0x2_0000).unwrap();
    for (i, w) in prog.iter().chain(&[hvc(0xffff)]).enumerate() {
        ram.write_u32(GuestAddress(RAM + 4 * i as u64), *w).unwrap();
    }
    ram.write(GuestAddress(DATA), data).unwrap();
    let mut cpu = Cpu::new(CpuConfig::default()).unwrap();
    cpu.reset(RAM);
    cpu.sys.cpacr = 3 << 20;
    cpu.set_x(1, DATA);
    for &(r, x) in v {
        cpu.set_v(r, x);
    }
    let mut bus = FlatBus::new(ram, MmioBus::new());
    assert_eq!(cpu.run(&mut bus, 100_000), Exit::Hvc { imm: 0xffff });
    cpu
}

/// 32-bit lanes (lane 0 first) to a register value.
fn lanes(l: [u32; 4]) -> u128 {
    l.iter()
        .enumerate()
        .fold(0, |a, (i, &x)| a | (u128::from(x) << (32 * i)))
}

fn lane(v: u128, i: usize) -> u32 {
    (v >> (32 * i)) as u32
}

#[test]
fn crypto_matches_qemu() {
    for &(text, w, [v0, v1, v2], out) in QEMU_CRYPTO {
        let cpu = run(&[w], &[(0, v0), (1, v1), (2, v2)], &[]);
        assert_eq!(cpu.v(0), out, "{text}");
        assert_eq!((cpu.v(1), cpu.v(2)), (v1, v2), "{text}: sources");
    }
}

#[test]
fn crypto_decode_agrees_with_llvm() {
    for &w in CRYPTO_SLOT_VALID {
        assert!(
            matches!(decode(w), Insn::Fp(super::FpInsn::Crypto(_))),
            "{w:#010x}"
        );
    }
    for &w in CRYPTO_SLOT_INVALID {
        assert_eq!(decode(w), Insn::Undefined, "{w:#010x}");
    }
}

/// The S-box against FIPS-197 figure 7 (a few entries) and its defining
/// property (no fixed points, S(0) = 0x63).
#[test]
fn sbox_entries() {
    assert_eq!(SBOX[0x00], 0x63);
    assert_eq!(SBOX[0x53], 0xed);
    assert_eq!(SBOX[0xff], 0x16);
    assert_eq!(SBOX[0x10], 0xca);
    assert!((0..256).all(|i| usize::from(SBOX[i]) != i));
}

/// AES-128 key expansion (FIPS-197 5.2), for the test only.
fn expand_key(key: [u8; 16]) -> [u128; 11] {
    let mut w = [[0u8; 4]; 44];
    for i in 0..4 {
        w[i].copy_from_slice(&key[4 * i..4 * i + 4]);
    }
    let mut rcon = 1u8;
    for i in 4..44 {
        let mut t = w[i - 1];
        if i % 4 == 0 {
            t = [
                SBOX[usize::from(t[1])] ^ rcon,
                SBOX[usize::from(t[2])],
                SBOX[usize::from(t[3])],
                SBOX[usize::from(t[0])],
            ];
            rcon = (rcon << 1) ^ if rcon & 0x80 != 0 { 0x1b } else { 0 };
        }
        for j in 0..4 {
            w[i][j] = w[i - 4][j] ^ t[j];
        }
    }
    let mut k = [0u128; 11];
    for (r, kr) in k.iter_mut().enumerate() {
        let mut b = [0u8; 16];
        for c in 0..4 {
            b[4 * c..4 * c + 4].copy_from_slice(&w[4 * r + c]);
        }
        *kr = u128::from_le_bytes(b);
    }
    k
}

/// FIPS-197 appendix C.1 (AES-128): key 00 01 .. 0f, plaintext
/// 00 11 22 .. ff, ciphertext 69c4e0d86a7b0430d8cdb78070b4c55a.
#[test]
fn aes128_fips197_c1() {
    let key: [u8; 16] = core::array::from_fn(|i| i as u8);
    let pt: [u8; 16] = core::array::from_fn(|i| (i as u8) * 0x11);
    let ct = [
        0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30, 0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5,
        0x5a,
    ];
    let rk = expand_key(key);
    // FIPS-197 C.1 lists the last round key: 13111d7fe3944a17f307a78b4d2b30c5.
    assert_eq!(
        rk[10].to_le_bytes(),
        [
            0x13, 0x11, 0x1d, 0x7f, 0xe3, 0x94, 0x4a, 0x17, 0xf3, 0x07, 0xa7, 0x8b, 0x4d, 0x2b,
            0x30, 0xc5
        ]
    );
    let mut v = vec![(0u8, u128::from_le_bytes(pt))];
    v.extend(rk.iter().enumerate().map(|(i, &k)| (1 + i as u8, k)));
    let cpu = run(AES128_PROG, &v, &[]);
    assert_eq!(cpu.v(30).to_le_bytes(), ct, "encryption");
    assert_eq!(cpu.v(0).to_le_bytes(), pt, "decryption");
}

/// The one-block message "abc" padded (FIPS 180-4, 5.1.1), as 16
/// big-endian words.
fn abc_block() -> [u32; 16] {
    let mut m = [0u32; 16];
    m[0] = 0x6162_6380;
    m[15] = 24;
    m
}

/// FIPS 180-2 appendix B.1: SHA-256("abc") =
/// ba7816bf 8f01cfea 414140de 5dae2223 b00361a3 96177a9c b410ff61 f20015ad.
#[test]
fn sha256_abc_fips180() {
    let h = [
        0x6a09_e667,
        0xbb67_ae85,
        0x3c6e_f372,
        0xa54f_f53a,
        0x510e_527f,
        0x9b05_688c,
        0x1f83_d9ab,
        0x5be0_cd19,
    ];
    let m = abc_block();
    let mut v = vec![
        (0u8, lanes([h[0], h[1], h[2], h[3]])),
        (1, lanes([h[4], h[5], h[6], h[7]])),
    ];
    for i in 0..4 {
        v.push((
            4 + i as u8,
            lanes([m[4 * i], m[4 * i + 1], m[4 * i + 2], m[4 * i + 3]]),
        ));
    }
    let k: Vec<u8> = SHA256_K.iter().flat_map(|k| k.to_le_bytes()).collect();
    let cpu = run(SHA256_BLOCK, &v, &k);
    let got: Vec<u32> = (0..8)
        .map(|i| lane(cpu.v(i / 4), usize::from(i % 4)))
        .collect();
    assert_eq!(
        got,
        [
            0xba78_16bf,
            0x8f01_cfea,
            0x4141_40de,
            0x5dae_2223,
            0xb003_61a3,
            0x9617_7a9c,
            0xb410_ff61,
            0xf200_15ad
        ]
    );
}

/// FIPS 180-2 appendix A.1: SHA-1("abc") =
/// a9993e36 4706816a ba3e2571 7850c26c 9cd0d89d.
#[test]
fn sha1_abc_fips180() {
    let h = [
        0x6745_2301,
        0xefcd_ab89,
        0x98ba_dcfe,
        0x1032_5476,
        0xc3d2_e1f0u32,
    ];
    let m = abc_block();
    let mut v = vec![
        (0u8, lanes([h[0], h[1], h[2], h[3]])),
        (1, u128::from(h[4])),
    ];
    for i in 0..4 {
        v.push((
            4 + i as u8,
            lanes([m[4 * i], m[4 * i + 1], m[4 * i + 2], m[4 * i + 3]]),
        ));
    }
    for (i, k) in [0x5a82_7999u32, 0x6ed9_eba1, 0x8f1b_bcdc, 0xca62_c1d6]
        .into_iter()
        .enumerate()
    {
        v.push((24 + i as u8, lanes([k; 4])));
    }
    let cpu = run(SHA1_BLOCK, &v, &[]);
    let got = [
        lane(cpu.v(0), 0),
        lane(cpu.v(0), 1),
        lane(cpu.v(0), 2),
        lane(cpu.v(0), 3),
        lane(cpu.v(17), 0),
    ];
    assert_eq!(
        got,
        [
            0xa999_3e36,
            0x4706_816a,
            0xba3e_2571,
            0x7850_c26c,
            0x9cd0_d89d
        ]
    );
}

/// SHA-256 round constants (FIPS 180-4, 4.2.2: the first 32 bits of the
/// fractional parts of the cube roots of the first 64 primes).
const SHA256_K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// AES-128: encrypt V0 with the round keys in V1-V11 (the aes-ce
/// sequence), keep the ciphertext in V30, then decrypt V0 again with the
/// equivalent inverse cipher (AESIMC on round keys 1-9). Encoded by llvm-mc.
const AES128_PROG: &[u32] = &[
    0x4e284820, // aese v0.16b, v1.16b
    0x4e286800, // aesmc v0.16b, v0.16b
    0x4e284840, // aese v0.16b, v2.16b
    0x4e286800, // aesmc v0.16b, v0.16b
    0x4e284860, // aese v0.16b, v3.16b
    0x4e286800, // aesmc v0.16b, v0.16b
    0x4e284880, // aese v0.16b, v4.16b
    0x4e286800, // aesmc v0.16b, v0.16b
    0x4e2848a0, // aese v0.16b, v5.16b
    0x4e286800, // aesmc v0.16b, v0.16b
    0x4e2848c0, // aese v0.16b, v6.16b
    0x4e286800, // aesmc v0.16b, v0.16b
    0x4e2848e0, // aese v0.16b, v7.16b
    0x4e286800, // aesmc v0.16b, v0.16b
    0x4e284900, // aese v0.16b, v8.16b
    0x4e286800, // aesmc v0.16b, v0.16b
    0x4e284920, // aese v0.16b, v9.16b
    0x4e286800, // aesmc v0.16b, v0.16b
    0x4e284940, // aese v0.16b, v10.16b
    0x6e2b1c00, // eor v0.16b, v0.16b, v11.16b
    0x4ea01c1e, // mov v30.16b, v0.16b
    0x4e287842, // aesimc v2.16b, v2.16b
    0x4e287863, // aesimc v3.16b, v3.16b
    0x4e287884, // aesimc v4.16b, v4.16b
    0x4e2878a5, // aesimc v5.16b, v5.16b
    0x4e2878c6, // aesimc v6.16b, v6.16b
    0x4e2878e7, // aesimc v7.16b, v7.16b
    0x4e287908, // aesimc v8.16b, v8.16b
    0x4e287929, // aesimc v9.16b, v9.16b
    0x4e28794a, // aesimc v10.16b, v10.16b
    0x4e285960, // aesd v0.16b, v11.16b
    0x4e287800, // aesimc v0.16b, v0.16b
    0x4e285940, // aesd v0.16b, v10.16b
    0x4e287800, // aesimc v0.16b, v0.16b
    0x4e285920, // aesd v0.16b, v9.16b
    0x4e287800, // aesimc v0.16b, v0.16b
    0x4e285900, // aesd v0.16b, v8.16b
    0x4e287800, // aesimc v0.16b, v0.16b
    0x4e2858e0, // aesd v0.16b, v7.16b
    0x4e287800, // aesimc v0.16b, v0.16b
    0x4e2858c0, // aesd v0.16b, v6.16b
    0x4e287800, // aesimc v0.16b, v0.16b
    0x4e2858a0, // aesd v0.16b, v5.16b
    0x4e287800, // aesimc v0.16b, v0.16b
    0x4e285880, // aesd v0.16b, v4.16b
    0x4e287800, // aesimc v0.16b, v0.16b
    0x4e285860, // aesd v0.16b, v3.16b
    0x4e287800, // aesimc v0.16b, v0.16b
    0x4e285840, // aesd v0.16b, v2.16b
    0x6e211c00, // eor v0.16b, v0.16b, v1.16b
];

/// One SHA-256 block (the sha2-ce instruction sequence): state in V0/V1,
/// message words in V4-V7, X1 -> the 64 round constants. Encoded by llvm-mc.
const SHA256_BLOCK: &[u32] = &[
    0x4ea01c14, // mov v20.16b, v0.16b
    0x4ea11c35, // mov v21.16b, v1.16b
    0x4cdf7830, // ld1 {v16.4s}, [x1], #16
    0x4ea48610, // add v16.4s, v16.4s, v4.4s
    0x4ea01c02, // mov v2.16b, v0.16b
    0x5e104020, // sha256h q0, q1, v16.4s
    0x5e105041, // sha256h2 q1, q2, v16.4s
    0x5e2828a4, // sha256su0 v4.4s, v5.4s
    0x5e0760c4, // sha256su1 v4.4s, v6.4s, v7.4s
    0x4cdf7830, // ld1 {v16.4s}, [x1], #16
    0x4ea58610, // add v16.4s, v16.4s, v5.4s
    0x4ea01c02, // mov v2.16b, v0.16b
    0x5e104020, // sha256h q0, q1, v16.4s
    0x5e105041, // sha256h2 q1, q2, v16.4s
    0x5e2828c5, // sha256su0 v5.4s, v6.4s
    0x5e0460e5, // sha256su1 v5.4s, v7.4s, v4.4s
    0x4cdf7830, // ld1 {v16.4s}, [x1], #16
    0x4ea68610, // add v16.4s, v16.4s, v6.4s
    0x4ea01c02, // mov v2.16b, v0.16b
    0x5e104020, // sha256h q0, q1, v16.4s
    0x5e105041, // sha256h2 q1, q2, v16.4s
    0x5e2828e6, // sha256su0 v6.4s, v7.4s
    0x5e056086, // sha256su1 v6.4s, v4.4s, v5.4s
    0x4cdf7830, // ld1 {v16.4s}, [x1], #16
    0x4ea78610, // add v16.4s, v16.4s, v7.4s
    0x4ea01c02, // mov v2.16b, v0.16b
    0x5e104020, // sha256h q0, q1, v16.4s
    0x5e105041, // sha256h2 q1, q2, v16.4s
    0x5e282887, // sha256su0 v7.4s, v4.4s
    0x5e0660a7, // sha256su1 v7.4s, v5.4s, v6.4s
    0x4cdf7830, // ld1 {v16.4s}, [x1], #16
    0x4ea48610, // add v16.4s, v16.4s, v4.4s
    0x4ea01c02, // mov v2.16b, v0.16b
    0x5e104020, // sha256h q0, q1, v16.4s
    0x5e105041, // sha256h2 q1, q2, v16.4s
    0x5e2828a4, // sha256su0 v4.4s, v5.4s
    0x5e0760c4, // sha256su1 v4.4s, v6.4s, v7.4s
    0x4cdf7830, // ld1 {v16.4s}, [x1], #16
    0x4ea58610, // add v16.4s, v16.4s, v5.4s
    0x4ea01c02, // mov v2.16b, v0.16b
    0x5e104020, // sha256h q0, q1, v16.4s
    0x5e105041, // sha256h2 q1, q2, v16.4s
    0x5e2828c5, // sha256su0 v5.4s, v6.4s
    0x5e0460e5, // sha256su1 v5.4s, v7.4s, v4.4s
    0x4cdf7830, // ld1 {v16.4s}, [x1], #16
    0x4ea68610, // add v16.4s, v16.4s, v6.4s
    0x4ea01c02, // mov v2.16b, v0.16b
    0x5e104020, // sha256h q0, q1, v16.4s
    0x5e105041, // sha256h2 q1, q2, v16.4s
    0x5e2828e6, // sha256su0 v6.4s, v7.4s
    0x5e056086, // sha256su1 v6.4s, v4.4s, v5.4s
    0x4cdf7830, // ld1 {v16.4s}, [x1], #16
    0x4ea78610, // add v16.4s, v16.4s, v7.4s
    0x4ea01c02, // mov v2.16b, v0.16b
    0x5e104020, // sha256h q0, q1, v16.4s
    0x5e105041, // sha256h2 q1, q2, v16.4s
    0x5e282887, // sha256su0 v7.4s, v4.4s
    0x5e0660a7, // sha256su1 v7.4s, v5.4s, v6.4s
    0x4cdf7830, // ld1 {v16.4s}, [x1], #16
    0x4ea48610, // add v16.4s, v16.4s, v4.4s
    0x4ea01c02, // mov v2.16b, v0.16b
    0x5e104020, // sha256h q0, q1, v16.4s
    0x5e105041, // sha256h2 q1, q2, v16.4s
    0x5e2828a4, // sha256su0 v4.4s, v5.4s
    0x5e0760c4, // sha256su1 v4.4s, v6.4s, v7.4s
    0x4cdf7830, // ld1 {v16.4s}, [x1], #16
    0x4ea58610, // add v16.4s, v16.4s, v5.4s
    0x4ea01c02, // mov v2.16b, v0.16b
    0x5e104020, // sha256h q0, q1, v16.4s
    0x5e105041, // sha256h2 q1, q2, v16.4s
    0x5e2828c5, // sha256su0 v5.4s, v6.4s
    0x5e0460e5, // sha256su1 v5.4s, v7.4s, v4.4s
    0x4cdf7830, // ld1 {v16.4s}, [x1], #16
    0x4ea68610, // add v16.4s, v16.4s, v6.4s
    0x4ea01c02, // mov v2.16b, v0.16b
    0x5e104020, // sha256h q0, q1, v16.4s
    0x5e105041, // sha256h2 q1, q2, v16.4s
    0x5e2828e6, // sha256su0 v6.4s, v7.4s
    0x5e056086, // sha256su1 v6.4s, v4.4s, v5.4s
    0x4cdf7830, // ld1 {v16.4s}, [x1], #16
    0x4ea78610, // add v16.4s, v16.4s, v7.4s
    0x4ea01c02, // mov v2.16b, v0.16b
    0x5e104020, // sha256h q0, q1, v16.4s
    0x5e105041, // sha256h2 q1, q2, v16.4s
    0x5e282887, // sha256su0 v7.4s, v4.4s
    0x5e0660a7, // sha256su1 v7.4s, v5.4s, v6.4s
    0x4cdf7830, // ld1 {v16.4s}, [x1], #16
    0x4ea48610, // add v16.4s, v16.4s, v4.4s
    0x4ea01c02, // mov v2.16b, v0.16b
    0x5e104020, // sha256h q0, q1, v16.4s
    0x5e105041, // sha256h2 q1, q2, v16.4s
    0x4cdf7830, // ld1 {v16.4s}, [x1], #16
    0x4ea58610, // add v16.4s, v16.4s, v5.4s
    0x4ea01c02, // mov v2.16b, v0.16b
    0x5e104020, // sha256h q0, q1, v16.4s
    0x5e105041, // sha256h2 q1, q2, v16.4s
    0x4cdf7830, // ld1 {v16.4s}, [x1], #16
    0x4ea68610, // add v16.4s, v16.4s, v6.4s
    0x4ea01c02, // mov v2.16b, v0.16b
    0x5e104020, // sha256h q0, q1, v16.4s
    0x5e105041, // sha256h2 q1, q2, v16.4s
    0x4cdf7830, // ld1 {v16.4s}, [x1], #16
    0x4ea78610, // add v16.4s, v16.4s, v7.4s
    0x4ea01c02, // mov v2.16b, v0.16b
    0x5e104020, // sha256h q0, q1, v16.4s
    0x5e105041, // sha256h2 q1, q2, v16.4s
    0x4eb48400, // add v0.4s, v0.4s, v20.4s
    0x4eb58421, // add v1.4s, v1.4s, v21.4s
];

/// One SHA-1 block (the sha1-ce instruction sequence): a-d in V0, e in
/// V1, message words in V4-V7, K0-K3 in V24-V27; the final e is in V17.
/// Encoded by llvm-mc.
const SHA1_BLOCK: &[u32] = &[
    0x4ea01c14, // mov v20.16b, v0.16b
    0x4ea11c35, // mov v21.16b, v1.16b
    0x4eb88490, // add v16.4s, v4.4s, v24.4s
    0x5e280812, // sha1h s18, s0
    0x5e100020, // sha1c q0, s1, v16.4s
    0x5e0630a4, // sha1su0 v4.4s, v5.4s, v6.4s
    0x5e2818e4, // sha1su1 v4.4s, v7.4s
    0x4eb884b0, // add v16.4s, v5.4s, v24.4s
    0x5e280811, // sha1h s17, s0
    0x5e100240, // sha1c q0, s18, v16.4s
    0x5e0730c5, // sha1su0 v5.4s, v6.4s, v7.4s
    0x5e281885, // sha1su1 v5.4s, v4.4s
    0x4eb884d0, // add v16.4s, v6.4s, v24.4s
    0x5e280812, // sha1h s18, s0
    0x5e100220, // sha1c q0, s17, v16.4s
    0x5e0430e6, // sha1su0 v6.4s, v7.4s, v4.4s
    0x5e2818a6, // sha1su1 v6.4s, v5.4s
    0x4eb884f0, // add v16.4s, v7.4s, v24.4s
    0x5e280811, // sha1h s17, s0
    0x5e100240, // sha1c q0, s18, v16.4s
    0x5e053087, // sha1su0 v7.4s, v4.4s, v5.4s
    0x5e2818c7, // sha1su1 v7.4s, v6.4s
    0x4eb88490, // add v16.4s, v4.4s, v24.4s
    0x5e280812, // sha1h s18, s0
    0x5e100220, // sha1c q0, s17, v16.4s
    0x5e0630a4, // sha1su0 v4.4s, v5.4s, v6.4s
    0x5e2818e4, // sha1su1 v4.4s, v7.4s
    0x4eb984b0, // add v16.4s, v5.4s, v25.4s
    0x5e280811, // sha1h s17, s0
    0x5e101240, // sha1p q0, s18, v16.4s
    0x5e0730c5, // sha1su0 v5.4s, v6.4s, v7.4s
    0x5e281885, // sha1su1 v5.4s, v4.4s
    0x4eb984d0, // add v16.4s, v6.4s, v25.4s
    0x5e280812, // sha1h s18, s0
    0x5e101220, // sha1p q0, s17, v16.4s
    0x5e0430e6, // sha1su0 v6.4s, v7.4s, v4.4s
    0x5e2818a6, // sha1su1 v6.4s, v5.4s
    0x4eb984f0, // add v16.4s, v7.4s, v25.4s
    0x5e280811, // sha1h s17, s0
    0x5e101240, // sha1p q0, s18, v16.4s
    0x5e053087, // sha1su0 v7.4s, v4.4s, v5.4s
    0x5e2818c7, // sha1su1 v7.4s, v6.4s
    0x4eb98490, // add v16.4s, v4.4s, v25.4s
    0x5e280812, // sha1h s18, s0
    0x5e101220, // sha1p q0, s17, v16.4s
    0x5e0630a4, // sha1su0 v4.4s, v5.4s, v6.4s
    0x5e2818e4, // sha1su1 v4.4s, v7.4s
    0x4eb984b0, // add v16.4s, v5.4s, v25.4s
    0x5e280811, // sha1h s17, s0
    0x5e101240, // sha1p q0, s18, v16.4s
    0x5e0730c5, // sha1su0 v5.4s, v6.4s, v7.4s
    0x5e281885, // sha1su1 v5.4s, v4.4s
    0x4eba84d0, // add v16.4s, v6.4s, v26.4s
    0x5e280812, // sha1h s18, s0
    0x5e102220, // sha1m q0, s17, v16.4s
    0x5e0430e6, // sha1su0 v6.4s, v7.4s, v4.4s
    0x5e2818a6, // sha1su1 v6.4s, v5.4s
    0x4eba84f0, // add v16.4s, v7.4s, v26.4s
    0x5e280811, // sha1h s17, s0
    0x5e102240, // sha1m q0, s18, v16.4s
    0x5e053087, // sha1su0 v7.4s, v4.4s, v5.4s
    0x5e2818c7, // sha1su1 v7.4s, v6.4s
    0x4eba8490, // add v16.4s, v4.4s, v26.4s
    0x5e280812, // sha1h s18, s0
    0x5e102220, // sha1m q0, s17, v16.4s
    0x5e0630a4, // sha1su0 v4.4s, v5.4s, v6.4s
    0x5e2818e4, // sha1su1 v4.4s, v7.4s
    0x4eba84b0, // add v16.4s, v5.4s, v26.4s
    0x5e280811, // sha1h s17, s0
    0x5e102240, // sha1m q0, s18, v16.4s
    0x5e0730c5, // sha1su0 v5.4s, v6.4s, v7.4s
    0x5e281885, // sha1su1 v5.4s, v4.4s
    0x4eba84d0, // add v16.4s, v6.4s, v26.4s
    0x5e280812, // sha1h s18, s0
    0x5e102220, // sha1m q0, s17, v16.4s
    0x5e0430e6, // sha1su0 v6.4s, v7.4s, v4.4s
    0x5e2818a6, // sha1su1 v6.4s, v5.4s
    0x4ebb84f0, // add v16.4s, v7.4s, v27.4s
    0x5e280811, // sha1h s17, s0
    0x5e101240, // sha1p q0, s18, v16.4s
    0x5e053087, // sha1su0 v7.4s, v4.4s, v5.4s
    0x5e2818c7, // sha1su1 v7.4s, v6.4s
    0x4ebb8490, // add v16.4s, v4.4s, v27.4s
    0x5e280812, // sha1h s18, s0
    0x5e101220, // sha1p q0, s17, v16.4s
    0x4ebb84b0, // add v16.4s, v5.4s, v27.4s
    0x5e280811, // sha1h s17, s0
    0x5e101240, // sha1p q0, s18, v16.4s
    0x4ebb84d0, // add v16.4s, v6.4s, v27.4s
    0x5e280812, // sha1h s18, s0
    0x5e101220, // sha1p q0, s17, v16.4s
    0x4ebb84f0, // add v16.4s, v7.4s, v27.4s
    0x5e280811, // sha1h s17, s0
    0x5e101240, // sha1p q0, s18, v16.4s
    0x4eb48400, // add v0.4s, v0.4s, v20.4s
    0x4eb58631, // add v17.4s, v17.4s, v21.4s
];

/// (assembly, word, V0-V2 before, V0 after): "after" recorded from
/// qemu-aarch64 -cpu max (QEMU 10.0.2) on random register values.
type Vector = (&'static str, u32, [u128; 3], u128);

const QEMU_CRYPTO: &[Vector] = &[
    (
        "aese v0.16b, v1.16b",
        0x4e284820,
        [
            0x21bade026a6ae768f2ed66ffdcc99396,
            0x6102dd7063e8540e9dd8904f07489671,
            0x83faac572f564652466de486522c4f8d,
        ],
        0x1966b40a80c7b33b96c6de709134294,
    ),
    (
        "aese v0.16b, v1.16b",
        0x4e284820,
        [
            0x781b9a43d04ce50b0620f0877e5fe381,
            0xc35d7d3b92e4016e27e47ffc284a2d4f,
            0x6e7df8e1eb1c66e79f74d60ac03031e,
        ],
        0x2c1c8bbcfd59944db15a6921eac2738b,
    ),
    (
        "aese v0.16b, v1.16b",
        0x4e284820,
        [
            0x2e09e4b8245edebc817af708207473b7,
            0xb7c039842be38ecc1f07a223563ebc38,
            0x91d5d9efb044d527dd1775a93cdba284,
        ],
        0x76ff8aeb0bd6c15138dd53f1ee7afc73,
    ),
    (
        "aese v0.16b, v1.16b",
        0x4e284820,
        [
            0xe88f40a23bd43e94a114f27eab195b47,
            0x46371f37e9a462ce0fa030a07210d3db,
            0xe429392b51a7e36e01090aee5622276a,
        ],
        0xb58dc42ae401cfbe356c4a1de45125de,
    ),
    (
        "aese v0.16b, v1.16b",
        0x4e284820,
        [
            0xac0e36d556132dfb84492cd42b1141d6,
            0x6754614c64ffc6049b70e7695b05816f,
            0xc958a7924e9a430cbcfdc56a522162b3,
        ],
        0x2312baeec0fa5b1651bee97a1fce1f56,
    ),
    (
        "aese v0.16b, v1.16b",
        0x4e284820,
        [
            0x8f4c6fc399f0665958282d8a2af2003c,
            0x1428dfad70ce79934498d7d67c213c12,
            0xd84ae56db93ba169e144c4eecf3c3005,
        ],
        0x1ee7eb9f9c66e774b143c04a14b22d31,
    ),
    (
        "aesd v0.16b, v1.16b",
        0x4e285820,
        [
            0xf9c215672ac38adf41b079157a6d7ff3,
            0x4819dab3e928d1d52a83fb1d9c7c489a,
            0x159d9c16eb5c35d9471968ce7b05bc1a,
        ],
        0xf566571956e311a3339fb2bf053c5fe4,
    ),
    (
        "aesd v0.16b, v1.16b",
        0x4e285820,
        [
            0x60be9aa9ba30a81819fc1a20e2110b06,
            0xf1a52983aa7975e26e325d76d3b1613a,
            0x7e9743173a941f7a78d735a57767929d,
        ],
        0x2eecc995ac4716147c4458b902a44b6d,
    ),
    (
        "aesd v0.16b, v1.16b",
        0x4e285820,
        [
            0x7266e1399edf96f41ac85512395cb3f8,
            0x6bd32c8eddd594518b41c2546a35e376,
            0x5d6e17423f8803eadf30a0ea38b376e4,
        ],
        0x50f26a208ee4852964d26c98aca380e6,
    ),
    (
        "aesd v0.16b, v1.16b",
        0x4e285820,
        [
            0x61fadc6d875b6eff3759629ab6cfe835,
            0xe41c70db4f3ff07ce8ec3450159840ea,
            0x3756d89d88d1f52c0f79d7a2c98406b7,
        ],
        0x71d2df7967dab941b1f56f10ef8caaef,
    ),
    (
        "aesd v0.16b, v1.16b",
        0x4e285820,
        [
            0xbe6e5d4f0234bf176c68d4a019ee685f,
            0x6dd9de7b8e1a0cc7bcc3b28706028b3e,
            0x347a6ea793cd7e6faa5ce5e498d48663,
        ],
        0xcb0e4b28a983d360f0204d3d60c341d8,
    ),
    (
        "aesd v0.16b, v1.16b",
        0x4e285820,
        [
            0xb3e729f240a33c60f2ec940dcb12b6cc,
            0xf87db32f7c86e5ae6d924e06d10ad589,
            0x5a176daa6c375307ecde257b379cf45f,
        ],
        0x438ae5c9cc347aec6d37009e6ec23768,
    ),
    (
        "aesmc v0.16b, v1.16b",
        0x4e286820,
        [
            0xd335427fcd7d61d4299374b83e88aa32,
            0x802ae68bcd8cf7d86c1d0bf8d49aa335,
            0xef0e5a598144c69601eef85efc3eb39d,
        ],
        0x51a2a29689606fe8dd7da587d5de09da,
    ),
    (
        "aesmc v0.16b, v1.16b",
        0x4e286820,
        [
            0xdd3433341c82e4fba33bff68610464bf,
            0x9cb47fd0f4c65508cd084e337c06e2e5,
            0xa894a44b5fbd9cc9774afa8f38fcee42,
        ],
        0x8363751278cd07dd92217a71288f4c96,
    ),
    (
        "aesmc v0.16b, v1.16b",
        0x4e286820,
        [
            0x8bdc7df78839b1b21c204b5b4bf01f77,
            0x64eed74dcb962ed26d82cbab1877df1,
            0xe2aeba83e9353b1ce7549cf90680d87f,
        ],
        0x330f618c549925026d57b7e58b512848,
    ),
    (
        "aesmc v0.16b, v1.16b",
        0x4e286820,
        [
            0x83fe5ef30cae83762ea84326db41130f,
            0x39276e393527107d21027ce877153f24,
            0x24483daccf05f3f15eab8ad452958c0a,
        ],
        0x7052b5deda7c01d81ff3376ca8a8126b,
    ),
    (
        "aesmc v0.16b, v1.16b",
        0x4e286820,
        [
            0x75d478b3343089c11a0f4d025086d5ea,
            0xec9df79ce486be4bfe3a9921751cfcb4,
            0x4976ec52e72fcffa0414e39c9dd441eb,
        ],
        0x1665395036d5592d27d5b836cdef0605,
    ),
    (
        "aesmc v0.16b, v1.16b",
        0x4e286820,
        [
            0xb1bed0c33f250fab45d0d322fd7f51ff,
            0xd7141ac2188112f85a25508ff7b4b7df,
            0xaf9ea7bdac8f1f562fa18767ab145043,
        ],
        0xe6921d72b0db5c444b7b1a8a8c199a24,
    ),
    (
        "aesimc v0.16b, v1.16b",
        0x4e287820,
        [
            0xaf26e1282355a7b822100d09940c48d1,
            0x92def36a1391fc2827601a661265ad65,
            0x6a06e3919fa99e5d2d39c515f88e9d1,
        ],
        0xc1871182248c6799a90ee27e06bbdcde,
    ),
    (
        "aesimc v0.16b, v1.16b",
        0x4e287820,
        [
            0x2f926d7adca4271c702f348ebfd1aaa3,
            0xb1e4bf6533320ffa6887d5e745f3cb0d,
            0x30f1526f2badd9f6dab926f28e268174,
        ],
        0xa1e7aa635f289013c0b6dc77068c6892,
    ),
    (
        "aesimc v0.16b, v1.16b",
        0x4e287820,
        [
            0x9196afc089ea28b8e03f20c7d57dee44,
            0x2280c150673259c0714e8b10fb674f53,
            0xdfd0b7a219caff387a55f340dadef6e0,
        ],
        0xd70252b43c8b81fa85a02cadba781557,
    ),
    (
        "aesimc v0.16b, v1.16b",
        0x4e287820,
        [
            0xe7233dab3d96daded045c1f51c7ba654,
            0x66757d308008c173436d4bd7e1571133,
            0xc71d5b330f68d64ac843f16fb4373875,
        ],
        0x3ec4993d9305a60a05ba727febf328a4,
    ),
    (
        "aesimc v0.16b, v1.16b",
        0x4e287820,
        [
            0x9c68953f63b433c8e5ea20e94e978e6b,
            0x2f1fa7a96cfac5b1e1a9611df1526a9f,
            0xc3e41dfbc259ca14c0b726d9dd70b68b,
        ],
        0xfb440f8eec499addbb50538ca7c690a7,
    ),
    (
        "aesimc v0.16b, v1.16b",
        0x4e287820,
        [
            0x49489f0213a6e35c2b42f9840aed189,
            0x7f748bf7a6195746e98deecdc9cbd203,
            0x76a88a3ceeee017554ff65980a97b99b,
        ],
        0x6bba71d73db28baaf4177dd93bd39da6,
    ),
    (
        "sha1c q0, s1, v2.4s",
        0x5e020020,
        [
            0xdf8bb31d2a2b5f67668f0f4a8ee5c3fe,
            0x52d5bed2248a7405f2d9cc0d21b9523f,
            0xaece3d01fc9faa446e096c47e85c9f65,
        ],
        0x28768c33cc61c632116816ef17b346ec,
    ),
    (
        "sha1c q0, s1, v2.4s",
        0x5e020020,
        [
            0x5b120ed1388c6396a90cc8ab38573260,
            0x849b3da049e077521aa0fd847e6142c1,
            0xff3416d0ad06e8bdf60106b7fa83cb94,
        ],
        0xbf7a684b4dc4abc7d5ecc201e626f1bd,
    ),
    (
        "sha1c q0, s1, v2.4s",
        0x5e020020,
        [
            0xc58ccccd3d013056ca70c2cad61d1405,
            0x46b0b7b6bce2230637a87c40e3f7a468,
            0xbc951b690e6e81dc4cc786abaf258e06,
        ],
        0xd912efdb95ba1c6d1f14ee8dc2d68351,
    ),
    (
        "sha1c q0, s1, v2.4s",
        0x5e020020,
        [
            0x15452b7bd4ed2d927207b1f82d457981,
            0x23d44588b80542186d778be4758a7959,
            0xeebf394e12f6ba9b51a8db7fb730ed18,
        ],
        0x4aabf08a6663ee0c37dc5cd651a8b6d2,
    ),
    (
        "sha1c q0, s1, v2.4s",
        0x5e020020,
        [
            0xa7387a4c20790637fd386ad01788aa07,
            0x23f20d8639eb81cd3ebbb5aa1b990287,
            0x53423a1d0163c2e7e074d24c9df3ae4c,
        ],
        0x733680f45699b541667d846e39e78d21,
    ),
    (
        "sha1c q0, s1, v2.4s",
        0x5e020020,
        [
            0x941865c1c1b017f290322d5bf42698e2,
            0x65e0591e6882ba9e05900eb37ee058da,
            0xe455ec57d25b1798ab03009a2523754f,
        ],
        0x6b43cc16b1a5803853d4f700be0cfdd1,
    ),
    (
        "sha1p q0, s1, v2.4s",
        0x5e021020,
        [
            0xdcd54c10e3cf8493888f0e67a371933e,
            0x93b8f2e00eb347f2876cf57843732a6a,
            0x76942b6f8245e09dad1a894771be60ed,
        ],
        0xf6be6e83a2f13ae16eb8f35a057d3c1f,
    ),
    (
        "sha1p q0, s1, v2.4s",
        0x5e021020,
        [
            0xd97ff3510a68bc92168b95f5e20eed01,
            0x4ec046183345c70775a503b726084c59,
            0x344c913144b6a55d4287b513f54f932f,
        ],
        0x88b4967e8905e725f205fc7a8ecfb7b4,
    ),
    (
        "sha1p q0, s1, v2.4s",
        0x5e021020,
        [
            0x4f7a192f6f25c6c06fd3fcb4adeb8b92,
            0x45f7476c3d28f5240253e91180a3acc4,
            0x943d757c1f016769a73185356f8799cc,
        ],
        0x3f4a37109d4076407c091000128581ae,
    ),
    (
        "sha1p q0, s1, v2.4s",
        0x5e021020,
        [
            0xd25b74c6c0189f35ac7c83b978676c36,
            0x38c28e856f7572f05d31c67725f6ff6,
            0x3cecd71f450408434025294ba8023e1b,
        ],
        0xb963a74aa5ed45d60c47f993e1da958b,
    ),
    (
        "sha1p q0, s1, v2.4s",
        0x5e021020,
        [
            0xd89963272a448f1704b1a745e768b92,
            0x7f7673335f7bb4bf7c4c446550d14398,
            0x2d1794d42369eadcdcc2f8245756e821,
        ],
        0xe19818ae39c63af1871ab32bbd9e126f,
    ),
    (
        "sha1p q0, s1, v2.4s",
        0x5e021020,
        [
            0xe69c468716cbe85eab3b45e5e46e131e,
            0x90d3b6c34495044fac8c599ba210dc9f,
            0x609b310730841204d789952d28a304f,
        ],
        0x977297016172e2b7d1648ee6490cfa7e,
    ),
    (
        "sha1m q0, s1, v2.4s",
        0x5e022020,
        [
            0x4761f31a05e0adffed0156e9d8f36844,
            0xbf38852dd078019f13e378ba96efda1a,
            0x2dd464e21e4f99b160ac3d38fa94ff0e,
        ],
        0xbd54f66fab1a758b28bbe73f7d0e78b0,
    ),
    (
        "sha1m q0, s1, v2.4s",
        0x5e022020,
        [
            0x20b5d1d4863729fbedad7770457f9573,
            0x174510422925feb3af6a2ff591b15dc1,
            0x4590f7e92cdeaf261f6cfe6fdd895c96,
        ],
        0xf0f8b6abb0ff510d062a3dd51841f4a3,
    ),
    (
        "sha1m q0, s1, v2.4s",
        0x5e022020,
        [
            0x14dc6d7a3dd1ecf49cefc6a87a0c9d5,
            0x86d5360f1522287cd0302955b16614f4,
            0x7ae79f54faf404177bf46361e7b6e3a7,
        ],
        0xa3c10486386d835a58f3021c0d9ba65d,
    ),
    (
        "sha1m q0, s1, v2.4s",
        0x5e022020,
        [
            0xb7190885e03d82abd44248521abd4141,
            0x38718ebc3c58423c098e3e6189631325,
            0x8fd8f466de274210391ec4a277e3e80c,
        ],
        0xd3420af5505eb28432c61937e116f7b1,
    ),
    (
        "sha1m q0, s1, v2.4s",
        0x5e022020,
        [
            0x47eaceb8d7cf26a3e96e12c974cef79c,
            0x1043c4f3a53677854d0318cc65305d1c,
            0xd453cac58a860eea32e6bc8986794c09,
        ],
        0x135da8d7281d675fce7c8b172fb67067,
    ),
    (
        "sha1m q0, s1, v2.4s",
        0x5e022020,
        [
            0x3eea853dfc978fdbe95795231aa549d5,
            0x310b55c7e8e754f9f4462e637563acb0,
            0x3708af725bae8804b6f583d2271a99a5,
        ],
        0xfb7fc18c6c15a75952170b0666bfc6e9,
    ),
    (
        "sha1su0 v0.4s, v1.4s, v2.4s",
        0x5e023020,
        [
            0x13787aaf7258d9456aa3ece5d8384a1,
            0x2f08bd813017d0eb42f9cc5696188707,
            0x2c0350d8bcabb1ba7b3c7613712aeca4,
        ],
        0x6fcd1b24dd96bb292ca1cf77db8ce591,
    ),
    (
        "sha1su0 v0.4s, v1.4s, v2.4s",
        0x5e023020,
        [
            0xda48a80b94a4b6e7e4b2bfb5541658a0,
            0x39ef22cedd72414a189db57b50698cf6,
            0x15f5aa3f72fdad03039f2dd98b111370,
        ],
        0xd720b74fb63097123d653a674ba3fd37,
    ),
    (
        "sha1su0 v0.4s, v1.4s, v2.4s",
        0x5e023020,
        [
            0xe4aca745f73124251ea667a373684247,
            0x6c60da4258bdc7159aae8c98028f3b02,
            0xcf80a978e473cdc98ce7a62c59bb4d5d,
        ],
        0xb18282a511cdd2ee76ed66cadde22b3f,
    ),
    (
        "sha1su0 v0.4s, v1.4s, v2.4s",
        0x5e023020,
        [
            0x57f2b9b83873367675eb16c707637958,
            0xde78f703d25349a8591e0c37d67cc0bc,
            0xa1d2f16bfcb1f4f142673532e0d59f3c,
        ],
        0xaf3e44e412be023b607e9a4ddfc5d012,
    ),
    (
        "sha1su0 v0.4s, v1.4s, v2.4s",
        0x5e023020,
        [
            0x741025533bf1df8ac9fd3e5f6c9031e0,
            0x9d8cf6d21cb3e931faa77baad2916a5a,
            0x20f6b2abd17c1e5ce536aae9e3a48ff4,
        ],
        0xae41ec52381cab8c58dbb1e5b4c5619e,
    ),
    (
        "sha1su0 v0.4s, v1.4s, v2.4s",
        0x5e023020,
        [
            0x7d42a12a7baf17ac777f52114d126f38,
            0xbab1c8ab50692ce5d21fcf86dd71fc59,
            0x6f5d9815f8149f29a68132ddd1ccf529,
        ],
        0xc000f6b95eca74dcacbcc1e6e7718dbd,
    ),
    (
        "sha1h s0, s1",
        0x5e280820,
        [
            0x4936cf2abfed0fb513919642744e3f0e,
            0x1522d7c0de298785e7f937ddb00a6e15,
            0x2ac52257d8c0da58a4ce482cfeb1cbbd,
        ],
        0x6c029b85,
    ),
    (
        "sha1h s0, s1",
        0x5e280820,
        [
            0xf4a53e21ad554ba1ed6c0d0aecb88a12,
            0xa7fc556368a68f707c5153d0ae7ff7af,
            0xc8aab92f81c19d6fbc6424bceaf8edcf,
        ],
        0xeb9ffdeb,
    ),
    (
        "sha1h s0, s1",
        0x5e280820,
        [
            0x96769fd9f8f008c5411bdd8efa71a34a,
            0x98a84de25b3ff0f40f119987cefedcaf,
            0x5dc5269222e26edfe353e6071bd39c7c,
        ],
        0xf3bfb72b,
    ),
    (
        "sha1h s0, s1",
        0x5e280820,
        [
            0x3bc328a8d03b304d7fd848d9c8677435,
            0x46937d2b70b8eff299ffd534c54fd271,
            0x1e128ef97e8ff4f86b9cca5ce753015f,
        ],
        0x7153f49c,
    ),
    (
        "sha1h s0, s1",
        0x5e280820,
        [
            0xa92c8f72193f3429ba7c569c991132c0,
            0x4fd0bea507b9077d42bb9c0fb20b064d,
            0x6ba67d6df993a85466546794893e84c3,
        ],
        0x6c82c193,
    ),
    (
        "sha1h s0, s1",
        0x5e280820,
        [
            0xb5691c1845a2a213c6219c15f6a5f7c1,
            0xf50f84715d6c710a4ffb22fda4b76819,
            0x33a1a6f1d21cbc847ae6b99784b422f7,
        ],
        0x692dda06,
    ),
    (
        "sha1su1 v0.4s, v1.4s",
        0x5e281820,
        [
            0xc9570a1c71710d2888ab399abfe4abb0,
            0x19a66d94efa96b6ebf5e20eeae482612,
            0x6547bfa90d32fedac5555dacd3c5f3c2,
        ],
        0x90443941d1aec178ce04a5e8017516bc,
    ),
    (
        "sha1su1 v0.4s, v1.4s",
        0x5e281820,
        [
            0x1580e8ae01038acbcd12bfb3aaed06cf,
            0x7fe22aeb09d5034b9a46e3cab73b1828,
            0x593ea623e14f2add37eadcd2b41ba443,
        ],
        0xe9ae4548fdc34040898f79f16157ca0a,
    ),
    (
        "sha1su1 v0.4s, v1.4s",
        0x5e281820,
        [
            0xf2fd320ccc4591832be1a3713a6d60aa,
            0x114a2d32fdd112ebc02b92e46c58e7ea,
            0x29f41249092ddf24f6ec4c363faae37d,
        ],
        0xce1ad22ba1f7963ac616335f48de49d,
    ),
    (
        "sha1su1 v0.4s, v1.4s",
        0x5e281820,
        [
            0xe43ad4ae42f5f4316924252358e885e3,
            0x80c75e57b10d8a2350ed63df86e7b6d1,
            0x390c74507b278b5b4792851d14090b01,
        ],
        0xe86231ad846554cdb0535e01100bcc78,
    ),
    (
        "sha1su1 v0.4s, v1.4s",
        0x5e281820,
        [
            0xfd6678a60eb083ed6aad59f88094159b,
            0x9c25175025fdb58c1a0caeefb352a548,
            0x4521d7efe9205d2058ca25ac5817f52d,
        ],
        0x90ae1c9f252b297b9ea1d8e8353176e9,
    ),
    (
        "sha1su1 v0.4s, v1.4s",
        0x5e281820,
        [
            0x1e1249f6daf35c74a25d88c44458d722,
            0x8569da6f2e7eec405c1dbb710969c362,
            0x2940523b69f66775efa94a8e5aa48218,
        ],
        0x5d3122a0bf350c361846c909308ad8a6,
    ),
    (
        "sha256h q0, q1, v2.4s",
        0x5e024020,
        [
            0x19b0c2f005c4486fc200281f561bfb20,
            0xf9e9227d69b1111dc3bb13f5ede7f949,
            0x35251dcbcd23b5b4bcf7629f3d0ca33f,
        ],
        0xdf88967b928fe3f8bf8e4db9324a0afa,
    ),
    (
        "sha256h q0, q1, v2.4s",
        0x5e024020,
        [
            0x416224567526dc67ea959065af1de605,
            0xbe0a25ceb421caa578547fe2154a3306,
            0xd47a46a92787bdd4e760dd8d0f224963,
        ],
        0x76a4598b1f6226edd8ee8a902397e0b3,
    ),
    (
        "sha256h q0, q1, v2.4s",
        0x5e024020,
        [
            0xc3b7c0de12da9645ece093bb9e5f7f1a,
            0xae898af42c22a47b7ded0e8da533190b,
            0xd349284b0aeb052dd2a3d813c640d29e,
        ],
        0xf9f2d83f3b0c99d534b5248eb40c742c,
    ),
    (
        "sha256h q0, q1, v2.4s",
        0x5e024020,
        [
            0x8dda38f20d8f7f48697d50db9310e85c,
            0xeb737133e270735e97ba5d1ad4bfed2d,
            0xdeacacaa1f40491ffd2dba52670382f3,
        ],
        0x852f9b57be9a226af8d5181fabe0b510,
    ),
    (
        "sha256h q0, q1, v2.4s",
        0x5e024020,
        [
            0x45a4eb5cf93dd30f42279aea585a8b2,
            0x8a14e745d8f595a072c10f11f77db210,
            0x1f752ee64426491257d569c2b6a48819,
        ],
        0x5a6f0e5c033f27753713ad14cd1ba754,
    ),
    (
        "sha256h q0, q1, v2.4s",
        0x5e024020,
        [
            0x48194b0a2809d960966cd1c040364b37,
            0x7dffe51ce2760d5b55c9367a692d1db0,
            0x888385bc140013864566a4cbb36bb87,
        ],
        0x2e8126de045b34e6b2ebd224597f4167,
    ),
    (
        "sha256h2 q0, q1, v2.4s",
        0x5e025020,
        [
            0x9e89f5265cb6c6d7743165dca62174af,
            0x442d2dad4da2e7d24df64d80e55df7,
            0x1c307c1aaacc7c190d86ce9595f0c7,
        ],
        0xecf21025c139ab7d4bc3fcc474acc130,
    ),
    (
        "sha256h2 q0, q1, v2.4s",
        0x5e025020,
        [
            0x1ca8cc0d455af2370b90828d02ee975b,
            0x3827eac6d82548b9dcaa91f6404fd92d,
            0x2c2b8a13759c025e6a761aed1de32011,
        ],
        0xaa65031fbbc830f144fdbf14e7770e1f,
    ),
    (
        "sha256h2 q0, q1, v2.4s",
        0x5e025020,
        [
            0xb7a5dde0bb2e6ea0ee4c08413c4e098b,
            0xfe7ffe21ec7b7856700d926f1a8d10f0,
            0x62fbcf71dd6537d2d16d8b55b07a52b7,
        ],
        0x509f115263e641dd554fe75200997a87,
    ),
    (
        "sha256h2 q0, q1, v2.4s",
        0x5e025020,
        [
            0x8bdd51370122ed5a6c2ab542571179ee,
            0x43287475f710a5730dc8129b3521414,
            0x220f0cc63973b85b4ba706bdde5ffb8a,
        ],
        0xbebcda3df16db608e0b869ca798960df,
    ),
    (
        "sha256h2 q0, q1, v2.4s",
        0x5e025020,
        [
            0x57f58a68dc55b9348c355cf19ff13355,
            0xd5f95e2ccff6b4957b7b2064a932bd58,
            0x3884adce88eb0d8654bcf579857e3cd6,
        ],
        0x43f84dff4fbfd63624b003d74818aa56,
    ),
    (
        "sha256h2 q0, q1, v2.4s",
        0x5e025020,
        [
            0xa1c3068e4b9f74580ae7c0cc225f30df,
            0x1aa0ec1a199072f2bae564319e3b3d4c,
            0x41ea8616440f382724ffc6880405e22e,
        ],
        0x55267256159e74dd61f2721116ae63ce,
    ),
    (
        "sha256su0 v0.4s, v1.4s",
        0x5e282820,
        [
            0xa7e4b08871bef4f6703a4fdd2b841b18,
            0x24365f3c0d41a29abf64688e4aa418cb,
            0xf8aeef0efcb315d77e03bba6f1db38f2,
        ],
        0x41d7ca099b506b7fd0238ef552947c82,
    ),
    (
        "sha256su0 v0.4s, v1.4s",
        0x5e282820,
        [
            0xec20fbbbca8165510d663430d188ac20,
            0xa352395b4e3a162c231e81f2bbf3cd43,
            0xb675be8e40e63ebb7882ed7ecc91c3a2,
        ],
        0x4f7a6c891f340ad9f0f790f0be42b5d7,
    ),
    (
        "sha256su0 v0.4s, v1.4s",
        0x5e282820,
        [
            0x2efdd0b5c58dacff5ec2e1e91c01c3fe,
            0xca797bb997190a2bab73456557d501d5,
            0x4565a270048ee74ea7be33e97693afbf,
        ],
        0xf1e3081e13cb707eac8418e7d21524c,
    ),
    (
        "sha256su0 v0.4s, v1.4s",
        0x5e282820,
        [
            0xca190202d427bfd975836546ecacf078,
            0x6f91b22584079fbdabff88004c3ba77e,
            0x1afb54845e62f4ae053e258e79f50b2a,
        ],
        0xe6d992b1307f609bbc5e32d347b7e77a,
    ),
    (
        "sha256su0 v0.4s, v1.4s",
        0x5e282820,
        [
            0x8d3d2d4fd43a07117851092ec4c39d6e,
            0x29dcdf040549468e1c83f6130e4255a0,
            0xf4b77ea0eb9f672d940fd7a9d0af4a70,
        ],
        0x61f9fade9a2843cd313c4b10d674ba91,
    ),
    (
        "sha256su0 v0.4s, v1.4s",
        0x5e282820,
        [
            0x5af3908511786aeb825e0e05c4b4ee43,
            0x1beb52480b939d7e54ca069d91f86dcd,
            0x2eb1e89011a4b30029b9a4b10c95c0e0,
        ],
        0xed6329a1f7432e78511547db5d830b8e,
    ),
    (
        "sha256su1 v0.4s, v1.4s, v2.4s",
        0x5e026020,
        [
            0x3815043717975cc053ab7160798f06d2,
            0xf97729cbed5d97efe4c8d57256363ce7,
            0x519577ab3503de0df13831a5a91ef56e,
        ],
        0x4fa5285a78a175ee563db0f4f322591a,
    ),
    (
        "sha256su1 v0.4s, v1.4s, v2.4s",
        0x5e026020,
        [
            0x72711538c850691d6890d72e5ab5a4ce,
            0xd60e19dcbb93bc54eab5a390c91b0008,
            0xeb4d2cea1bd28f4698b3f643e5047629,
        ],
        0x8deba847ef5e8b8457f78f065bb8828e,
    ),
    (
        "sha256su1 v0.4s, v1.4s, v2.4s",
        0x5e026020,
        [
            0xee0962ef0801aa060b97b9d649fb22b8,
            0xf47dff2ca8a8ab124b1b7f7050357cb1,
            0x92847619b9785bcf887caffc2be37a8c,
        ],
        0xc2acb03a658d44906a2bbef7bbc717ad,
    ),
    (
        "sha256su1 v0.4s, v1.4s, v2.4s",
        0x5e026020,
        [
            0x4e8c8d9c43cad162b3e01d0dcb26eb21,
            0xf1a7f0becbf7683bf21282dfad5a821,
            0x99659af9b08c5fd266981b7f7f73a783,
        ],
        0x812dae79b42c3b01ea53a882e87408e,
    ),
    (
        "sha256su1 v0.4s, v1.4s, v2.4s",
        0x5e026020,
        [
            0xc0668d89b12c3654eac280ab51260ca6,
            0x5736903f37d62c9dbaf4d2d039c3c15c,
            0x8fdd7d2c490977efa4cc53b39f8f06f3,
        ],
        0xde8d4a0e32d58e9733a8ce92a132ef6e,
    ),
    (
        "sha256su1 v0.4s, v1.4s, v2.4s",
        0x5e026020,
        [
            0x8905dba3748324cd928d9573cf0d5fc7,
            0x5bac79659854a1014587f7de1164ad17,
            0x935b9798d7395a6465d9075575dd0a50,
        ],
        0x5864d8e429c5443be3fdc3979ae096d2,
    ),
];

/// Sampled from the AES and SHA slots (random opcodes, sizes and single
/// bit flips), classified by llvm-mc 14 with
/// `--disassemble -mattr=+v8a,+neon,+fp-armv8,+crc,+lse,+aes,+sha2`; the valid
/// list keeps the crypto instructions only.
const CRYPTO_SLOT_VALID: &[u32] = &[
    0x4e284801, 0x4e284808, 0x4e284813, 0x4e28481b, 0x4e28481e, 0x4e284834, 0x4e28483a, 0x4e28483b,
    0x4e284844, 0x4e28484c, 0x4e284850, 0x4e28485b, 0x4e28485f, 0x4e284869, 0x4e284874, 0x4e28487a,
    0x4e2848bf, 0x4e2848cd, 0x4e2848e3, 0x4e2848ee, 0x4e2848ef, 0x4e284918, 0x4e284919, 0x4e28491c,
    0x4e284926, 0x4e28493c, 0x4e284944, 0x4e28495c, 0x4e284974, 0x4e28497d, 0x4e284987, 0x4e2849af,
    0x4e2849b2, 0x4e2849b6, 0x4e2849c0, 0x4e2849c5, 0x4e2849cd, 0x4e2849d5, 0x4e2849e4, 0x4e2849e9,
    0x4e2849ef, 0x4e2849f9, 0x4e284a0b, 0x4e284a0c, 0x4e284a12, 0x4e284a16, 0x4e284a30, 0x4e284a6a,
    0x4e284a6c, 0x4e284a76, 0x4e284a8a, 0x4e284a8d, 0x4e284a94, 0x4e284aa5, 0x4e284ac9, 0x4e284aea,
    0x4e284af3, 0x4e284b01, 0x4e284b04, 0x4e284b07, 0x4e284b2e, 0x4e284b41, 0x4e284b4f, 0x4e284b68,
    0x4e284b76, 0x4e284b7a, 0x4e284b7b, 0x4e284b7d, 0x4e284b86, 0x4e284b99, 0x4e284b9e, 0x4e284bab,
    0x4e284bb4, 0x4e284bca, 0x4e284bcb, 0x4e284bd2, 0x4e284be5, 0x4e284beb, 0x4e284bf1, 0x4e285809,
    0x4e28580e, 0x4e285812, 0x4e285819, 0x4e28581b, 0x4e285821, 0x4e28582d, 0x4e285841, 0x4e285844,
    0x4e28584c, 0x4e28584f, 0x4e285866, 0x4e285867, 0x4e285868, 0x4e28587a, 0x4e285899, 0x4e2858a1,
    0x4e2858a7, 0x4e2858c6, 0x4e2858cd, 0x4e2858d2, 0x4e2858eb, 0x4e285943, 0x4e285947, 0x4e28594c,
    0x4e285964, 0x4e28596f, 0x4e285971, 0x4e285981, 0x4e285999, 0x4e28599c, 0x4e2859a3, 0x4e2859aa,
    0x4e2859ac, 0x4e2859b3, 0x4e2859ce, 0x4e2859d1, 0x4e2859d3, 0x4e2859dd, 0x4e2859f7, 0x4e285a09,
    0x4e285a1d, 0x4e285a27, 0x4e285a50, 0x4e285a5a, 0x4e285a60, 0x4e285a6b, 0x4e285a6e, 0x4e285a72,
    0x4e285a74, 0x4e285a75, 0x4e285a7c, 0x4e285a8a, 0x4e285a92, 0x4e285a9a, 0x4e285a9d, 0x4e285abc,
    0x4e285ac5, 0x4e285acd, 0x4e285ad0, 0x4e285ad1, 0x4e285ad7, 0x4e285ae3, 0x4e285b26, 0x4e285b2f,
    0x4e285b47, 0x4e285b49, 0x4e285b54, 0x4e285b62, 0x4e285b64, 0x4e285b67, 0x4e285b7d, 0x4e285b89,
    0x4e285b8a, 0x4e285b95, 0x4e285b96, 0x4e285bad, 0x4e285bb6, 0x4e285bb7, 0x4e285bbb, 0x4e285bbe,
    0x4e285bc1, 0x4e285bd4, 0x4e285bda, 0x4e285bf5, 0x4e286810, 0x4e286815, 0x4e286817, 0x4e28681e,
    0x4e286824, 0x4e286825, 0x4e286841, 0x4e286844, 0x4e286853, 0x4e286855, 0x4e28685d, 0x4e286863,
    0x4e286867, 0x4e286877, 0x4e286892, 0x4e28689b, 0x4e2868a4, 0x4e2868a6, 0x4e2868a7, 0x4e2868a8,
    0x4e2868ad, 0x4e2868b2, 0x4e2868b9, 0x4e2868e3, 0x4e2868ed, 0x4e2868ef, 0x4e286904, 0x4e286912,
    0x4e286938, 0x4e286954, 0x4e28695e, 0x4e286964, 0x4e286966, 0x4e286968, 0x4e28696a, 0x4e28696c,
    0x4e286970, 0x4e28697b, 0x4e286994, 0x4e286995, 0x4e2869a9, 0x4e2869ae, 0x4e2869c6, 0x4e2869d8,
    0x4e2869e0, 0x4e2869f8, 0x4e286a0e, 0x4e286a18, 0x4e286a30, 0x4e286a31, 0x4e286a55, 0x4e286a56,
    0x4e286a5d, 0x4e286a7a, 0x4e286a7e, 0x4e286a80, 0x4e286a8a, 0x4e286a92, 0x4e286a94, 0x4e286a97,
    0x4e286aa1, 0x4e286aa3, 0x4e286ab1, 0x4e286ab4, 0x4e286ab8, 0x4e286ad4, 0x4e286af0, 0x4e286af2,
    0x4e286aff, 0x4e286b10, 0x4e286b26, 0x4e286b27, 0x4e286b2e, 0x4e286b36, 0x4e286b3c, 0x4e286b45,
    0x4e286b5a, 0x4e286b8a, 0x4e286ba1, 0x4e286ba8, 0x4e286bab, 0x4e286bb4, 0x4e286bb8, 0x4e286bba,
    0x4e286bc6, 0x4e286bce, 0x4e286bcf, 0x4e286bd0, 0x4e286be7, 0x4e286be8, 0x4e28782d, 0x4e28782e,
    0x4e287838, 0x4e28783e, 0x4e28784d, 0x4e287851, 0x4e287861, 0x4e28786b, 0x4e287873, 0x4e287877,
    0x4e28787e, 0x4e28788d, 0x4e28789b, 0x4e28789e, 0x4e2878c2, 0x4e2878d1, 0x4e2878f0, 0x4e287907,
    0x4e28790b, 0x4e28790d, 0x4e287920, 0x4e287929, 0x4e28792f, 0x4e287931, 0x4e287969, 0x4e287971,
    0x4e2879be, 0x4e2879c3, 0x4e2879cc, 0x4e2879d3, 0x4e2879ea, 0x4e2879ef, 0x4e2879f2, 0x4e287a06,
    0x4e287a08, 0x4e287a3a, 0x4e287a4c, 0x4e287a5b, 0x4e287a5f, 0x4e287a79, 0x4e287a8b, 0x4e287ac3,
    0x4e287ad2, 0x4e287aef, 0x4e287af3, 0x4e287afa, 0x4e287b04, 0x4e287b08, 0x4e287b1a, 0x4e287b1b,
    0x4e287b1c, 0x4e287b33, 0x4e287b60, 0x4e287b77, 0x4e287b7c, 0x4e287b8e, 0x4e287b90, 0x4e287ba3,
    0x4e287ba4, 0x4e287bc0, 0x4e287bd0, 0x4e287bdb, 0x4e287be7, 0x4e287bf7, 0x4e287bf9, 0x4e287bff,
    0x5e00038e, 0x5e002179, 0x5e0030ad, 0x5e0033fe, 0x5e004273, 0x5e0042cd, 0x5e005303, 0x5e005326,
    0x5e005341, 0x5e0101c8, 0x5e01036f, 0x5e011037, 0x5e011084, 0x5e0110b5, 0x5e0110c3, 0x5e0120d8,
    0x5e0120e2, 0x5e012255, 0x5e012277, 0x5e01432e, 0x5e0161b9, 0x5e01629b, 0x5e0163f2, 0x5e020064,
    0x5e020205, 0x5e0202d3, 0x5e0203b2, 0x5e02113d, 0x5e0211ab, 0x5e02212f, 0x5e022179, 0x5e02224d,
    0x5e024024, 0x5e024372, 0x5e02439c, 0x5e0250ee, 0x5e025258, 0x5e0262dd, 0x5e0300cc, 0x5e030381,
    0x5e0303e9, 0x5e0311bb, 0x5e0312be, 0x5e0320cb, 0x5e0322db, 0x5e03322e, 0x5e0332e8, 0x5e034088,
    0x5e0340db, 0x5e034227, 0x5e03435c, 0x5e034384, 0x5e0351ff, 0x5e0353d0, 0x5e0361cf, 0x5e0363ce,
    0x5e0400c8, 0x5e04029a, 0x5e041303, 0x5e0413b6, 0x5e042122, 0x5e04400c, 0x5e0442ad, 0x5e04432e,
    0x5e045214, 0x5e04539a, 0x5e0453e0, 0x5e046374, 0x5e04639d, 0x5e0463f9, 0x5e0501bc, 0x5e050373,
    0x5e05122b, 0x5e05130c, 0x5e0513db, 0x5e0521a3, 0x5e0522ba, 0x5e05308b, 0x5e0540eb, 0x5e05425b,
    0x5e055322, 0x5e056085, 0x5e056372, 0x5e060318, 0x5e06036b, 0x5e062317, 0x5e063291, 0x5e0632b1,
    0x5e0643e9, 0x5e0650ae, 0x5e06538a, 0x5e0660a3, 0x5e06617e, 0x5e07025f, 0x5e070387, 0x5e07119c,
    0x5e071380, 0x5e073070, 0x5e0730cd, 0x5e073213, 0x5e073385, 0x5e074064, 0x5e0741ca, 0x5e0750c7,
    0x5e07511e, 0x5e075260, 0x5e07538f, 0x5e076110, 0x5e076190, 0x5e076244, 0x5e08017e, 0x5e080331,
    0x5e0812a4, 0x5e0841f4, 0x5e08501f, 0x5e0850b9, 0x5e0852d0, 0x5e0852e7, 0x5e086121, 0x5e090262,
    0x5e0903a0, 0x5e0922ee, 0x5e093076, 0x5e094077, 0x5e09505f, 0x5e0952df, 0x5e0a01ea, 0x5e0a022b,
    0x5e0a032d, 0x5e0a131e, 0x5e0a2210, 0x5e0a3143, 0x5e0a3318, 0x5e0a3374, 0x5e0a40b2, 0x5e0a41d5,
    0x5e0a5236, 0x5e0a61ff, 0x5e0a63a4, 0x5e0b0056, 0x5e0b03f5, 0x5e0b10ea, 0x5e0b10ee, 0x5e0b111a,
    0x5e0b13d7, 0x5e0b22aa, 0x5e0b22c0, 0x5e0b305e, 0x5e0b3121, 0x5e0b3200, 0x5e0b32e9, 0x5e0b41da,
    0x5e0b431b, 0x5e0b516b, 0x5e0b6016, 0x5e0b61b2, 0x5e0b628c, 0x5e0c002d, 0x5e0c012a, 0x5e0c2332,
    0x5e0c40fd, 0x5e0c5188, 0x5e0c5297, 0x5e0c6240, 0x5e0c6372, 0x5e0d0069, 0x5e0d00d4, 0x5e0d0207,
    0x5e0d100b, 0x5e0d208b, 0x5e0d221e, 0x5e0d22cd, 0x5e0d4123, 0x5e0d41b4, 0x5e0d42a4, 0x5e0d433a,
    0x5e0d52bf, 0x5e0d60f9, 0x5e0d6171, 0x5e0d63e3, 0x5e0e0318, 0x5e0e038e, 0x5e0e1152, 0x5e0e137b,
    0x5e0e3047, 0x5e0e3218, 0x5e0e3332, 0x5e0e4184, 0x5e0e5122, 0x5e0e53f9, 0x5e0e638b, 0x5e0e63ee,
    0x5e0f014b, 0x5e0f01c1, 0x5e0f023d, 0x5e0f136e, 0x5e0f13d9, 0x5e0f2167, 0x5e0f217d, 0x5e0f21d5,
    0x5e0f2327, 0x5e0f2337, 0x5e0f2347, 0x5e0f23b1, 0x5e0f315e, 0x5e0f31aa, 0x5e0f40ef, 0x5e0f41ca,
    0x5e0f5006, 0x5e0f505a, 0x5e0f5187, 0x5e0f532e, 0x5e0f629e, 0x5e0f6305, 0x5e1012a3, 0x5e10203d,
    0x5e10403f, 0x5e1040c1, 0x5e10517b, 0x5e10523e, 0x5e1053c7, 0x5e11007c, 0x5e11008b, 0x5e11113f,
    0x5e111257, 0x5e11214b, 0x5e1122a5, 0x5e11232a, 0x5e113294, 0x5e11334c, 0x5e1133fd, 0x5e11403d,
    0x5e114185, 0x5e11422b, 0x5e115001, 0x5e115039, 0x5e11530b, 0x5e116170, 0x5e1161a3, 0x5e120054,
    0x5e12029c, 0x5e1202ab, 0x5e1203ee, 0x5e1211f9, 0x5e122218, 0x5e12413e, 0x5e1241a0, 0x5e1243f9,
    0x5e1250b8, 0x5e12624e, 0x5e1302ba, 0x5e13201d, 0x5e132110, 0x5e133119, 0x5e1332dd, 0x5e133315,
    0x5e13332f, 0x5e1333ce, 0x5e1341a9, 0x5e135099, 0x5e136089, 0x5e136144, 0x5e136332, 0x5e136377,
    0x5e14005e, 0x5e14013c, 0x5e140376, 0x5e141225, 0x5e14130c, 0x5e142099, 0x5e142148, 0x5e142212,
    0x5e1441be, 0x5e1442c9, 0x5e1443a6, 0x5e145073, 0x5e146057, 0x5e146348, 0x5e150114, 0x5e15109d,
    0x5e1510b5, 0x5e1510ff, 0x5e15115d, 0x5e151188, 0x5e152016, 0x5e152054, 0x5e1521de, 0x5e152217,
    0x5e152378, 0x5e153018, 0x5e153066, 0x5e1530aa, 0x5e1530ef, 0x5e15326e, 0x5e15411e, 0x5e154185,
    0x5e15428d, 0x5e155192, 0x5e1551ce, 0x5e1560dd, 0x5e1560f7, 0x5e156207, 0x5e160041, 0x5e160052,
    0x5e160325, 0x5e1603d2, 0x5e162025, 0x5e16217a, 0x5e162254, 0x5e1622c5, 0x5e1630b0, 0x5e1631f4,
    0x5e16326d, 0x5e16414f, 0x5e1641a5, 0x5e164314, 0x5e16539b, 0x5e1660fc, 0x5e1700ac, 0x5e17025a,
    0x5e17031b, 0x5e170386, 0x5e1703db, 0x5e171050, 0x5e171255, 0x5e1712d1, 0x5e1720aa, 0x5e172164,
    0x5e172216, 0x5e17223e, 0x5e17302e, 0x5e1730cd, 0x5e173376, 0x5e1740c8, 0x5e174226, 0x5e175211,
    0x5e176075, 0x5e17616c, 0x5e176201, 0x5e176354, 0x5e17639c, 0x5e1803ed, 0x5e1821a6, 0x5e18222b,
    0x5e1823b9, 0x5e1832ab, 0x5e184185, 0x5e184346, 0x5e1850a1, 0x5e186006, 0x5e1861a5, 0x5e18635e,
    0x5e1900fb, 0x5e191312, 0x5e19133d, 0x5e192331, 0x5e1923a9, 0x5e1932d2, 0x5e193352, 0x5e193397,
    0x5e19422a, 0x5e194342, 0x5e1952c4, 0x5e19611c, 0x5e1a0222, 0x5e1a027f, 0x5e1a02f7, 0x5e1a12f5,
    0x5e1a13bf, 0x5e1a13c7, 0x5e1a203e, 0x5e1a2196, 0x5e1a21d2, 0x5e1a3097, 0x5e1a31e2, 0x5e1a3305,
    0x5e1a4146, 0x5e1a4237, 0x5e1a4330, 0x5e1a538e, 0x5e1a60c5, 0x5e1a6252, 0x5e1a6255, 0x5e1a6300,
    0x5e1b0013, 0x5e1b01a5, 0x5e1b0318, 0x5e1b03a6, 0x5e1b102b, 0x5e1b1351, 0x5e1b21e5, 0x5e1b228e,
    0x5e1b230d, 0x5e1b33c2, 0x5e1b4072, 0x5e1b40fb, 0x5e1b414d, 0x5e1b4245, 0x5e1b43e7, 0x5e1b43e9,
    0x5e1b536d, 0x5e1b63a9, 0x5e1c020c, 0x5e1c10de, 0x5e1c12da, 0x5e1c131e, 0x5e1c2195, 0x5e1c237a,
    0x5e1c3023, 0x5e1c339e, 0x5e1c33d3, 0x5e1c4374, 0x5e1c439c, 0x5e1c62b4, 0x5e1d0306, 0x5e1d10c4,
    0x5e1d1129, 0x5e1d1207, 0x5e1d1252, 0x5e1d1350, 0x5e1d307e, 0x5e1d409b, 0x5e1d42f0, 0x5e1d617f,
    0x5e1d619c, 0x5e1d63ad, 0x5e1e2021, 0x5e1e208d, 0x5e1e2126, 0x5e1e2127, 0x5e1e23fd, 0x5e1e42fd,
    0x5e1e4382, 0x5e1e515e, 0x5e1e51df, 0x5e1e5236, 0x5e1e61c2, 0x5e1e62ca, 0x5e1f001f, 0x5e1f02bf,
    0x5e1f02ca, 0x5e1f11cc, 0x5e1f13f1, 0x5e1f2079, 0x5e1f20e0, 0x5e1f218d, 0x5e1f21ab, 0x5e1f2259,
    0x5e1f22f7, 0x5e1f233d, 0x5e1f30d5, 0x5e1f30e7, 0x5e1f3243, 0x5e1f404f, 0x5e1f405c, 0x5e1f4096,
    0x5e1f415b, 0x5e1f419a, 0x5e1f608e, 0x5e1f612e, 0x5e1f625f, 0x5e1f62da, 0x5e1f63bc, 0x5e28080f,
    0x5e280815, 0x5e280817, 0x5e28081c, 0x5e280824, 0x5e28082a, 0x5e28084b, 0x5e280854, 0x5e28085f,
    0x5e280869, 0x5e28086a, 0x5e280871, 0x5e280872, 0x5e280887, 0x5e28088f, 0x5e2808a2, 0x5e2808a5,
    0x5e2808ac, 0x5e2808ad, 0x5e2808b7, 0x5e2808bb, 0x5e2808cd, 0x5e2808d4, 0x5e2808de, 0x5e2808fe,
    0x5e280900, 0x5e280905, 0x5e28090d, 0x5e28090f, 0x5e280920, 0x5e28093b, 0x5e280943, 0x5e280944,
    0x5e280958, 0x5e28095b, 0x5e280963, 0x5e280971, 0x5e280982, 0x5e28098d, 0x5e280994, 0x5e280996,
    0x5e28099b, 0x5e2809a3, 0x5e2809af, 0x5e2809bc, 0x5e2809d6, 0x5e2809d7, 0x5e2809dc, 0x5e2809e3,
    0x5e2809ff, 0x5e280a32, 0x5e280a34, 0x5e280a38, 0x5e280a47, 0x5e280a49, 0x5e280a57, 0x5e280a5d,
    0x5e280a5f, 0x5e280a61, 0x5e280a73, 0x5e280a78, 0x5e280a79, 0x5e280a7b, 0x5e280a7e, 0x5e280a80,
    0x5e280aa8, 0x5e280aad, 0x5e280ab3, 0x5e280ab7, 0x5e280ad7, 0x5e280adb, 0x5e280aee, 0x5e280af2,
    0x5e280af7, 0x5e280b14, 0x5e280b1a, 0x5e280b23, 0x5e280b26, 0x5e280b27, 0x5e280b31, 0x5e280b34,
    0x5e280b43, 0x5e280b48, 0x5e280b5e, 0x5e280b61, 0x5e280b70, 0x5e280b79, 0x5e280b7f, 0x5e280b81,
    0x5e280b86, 0x5e280b92, 0x5e280ba0, 0x5e280bad, 0x5e280bb2, 0x5e280bc2, 0x5e280bc9, 0x5e280bd8,
    0x5e280be9, 0x5e280bf1, 0x5e281807, 0x5e28180d, 0x5e28180e, 0x5e281815, 0x5e281818, 0x5e281820,
    0x5e28182b, 0x5e28183d, 0x5e28183f, 0x5e281846, 0x5e281862, 0x5e28186c, 0x5e281871, 0x5e281874,
    0x5e28187e, 0x5e281882, 0x5e28188a, 0x5e28188b, 0x5e281896, 0x5e2818a9, 0x5e2818ab, 0x5e2818cd,
    0x5e2818da, 0x5e2818dc, 0x5e2818df, 0x5e2818e5, 0x5e281904, 0x5e281908, 0x5e281916, 0x5e28191f,
    0x5e281920, 0x5e281937, 0x5e281949, 0x5e281956, 0x5e281965, 0x5e28196d, 0x5e281970, 0x5e281984,
    0x5e281988, 0x5e28198c, 0x5e281992, 0x5e281993, 0x5e2819a5, 0x5e2819a7, 0x5e2819b5, 0x5e2819c1,
    0x5e2819c7, 0x5e2819d2, 0x5e2819df, 0x5e2819f7, 0x5e2819f9, 0x5e281a01, 0x5e281a09, 0x5e281a12,
    0x5e281a22, 0x5e281a2e, 0x5e281a36, 0x5e281a8c, 0x5e281a92, 0x5e281a95, 0x5e281aa4, 0x5e281aab,
    0x5e281ab8, 0x5e281abb, 0x5e281ac8, 0x5e281add, 0x5e281b00, 0x5e281b15, 0x5e281b1e, 0x5e281b29,
    0x5e281b2d, 0x5e281b30, 0x5e281b34, 0x5e281b38, 0x5e281b5b, 0x5e281b5c, 0x5e281b62, 0x5e281b6a,
    0x5e281b6e, 0x5e281b8b, 0x5e281b91, 0x5e281b94, 0x5e281ba3, 0x5e281ba8, 0x5e281bab, 0x5e281bb1,
    0x5e281bb2, 0x5e281bb8, 0x5e281bbd, 0x5e281bc8, 0x5e281bdf, 0x5e281be4, 0x5e281be7, 0x5e281bf7,
    0x5e281bfc, 0x5e282805, 0x5e282808, 0x5e28280f, 0x5e28281b, 0x5e282820, 0x5e28282b, 0x5e28282c,
    0x5e282832, 0x5e282834, 0x5e282844, 0x5e282861, 0x5e282882, 0x5e2828af, 0x5e2828b7, 0x5e2828bb,
    0x5e2828bd, 0x5e2828c9, 0x5e2828e3, 0x5e2828eb, 0x5e282901, 0x5e282915, 0x5e28291b, 0x5e28291c,
    0x5e282923, 0x5e282940, 0x5e282941, 0x5e28297b, 0x5e282992, 0x5e282995, 0x5e28299b, 0x5e28299f,
    0x5e2829a4, 0x5e2829b3, 0x5e2829c0, 0x5e2829c5, 0x5e2829d8, 0x5e2829de, 0x5e2829e2, 0x5e2829e5,
    0x5e2829f1, 0x5e2829f8, 0x5e2829fa, 0x5e282a03, 0x5e282a09, 0x5e282a13, 0x5e282a17, 0x5e282a1c,
    0x5e282a1f, 0x5e282a26, 0x5e282a33, 0x5e282a43, 0x5e282a4a, 0x5e282a5a, 0x5e282a5c, 0x5e282a5d,
    0x5e282a5e, 0x5e282a62, 0x5e282a64, 0x5e282a68, 0x5e282a6d, 0x5e282a72, 0x5e282a86, 0x5e282a87,
    0x5e282a88, 0x5e282a95, 0x5e282aa9, 0x5e282aab, 0x5e282ab5, 0x5e282ab7, 0x5e282abd, 0x5e282ad2,
    0x5e282ad7, 0x5e282ad8, 0x5e282adc, 0x5e282ade, 0x5e282adf, 0x5e282afb, 0x5e282b02, 0x5e282b1a,
    0x5e282b1f, 0x5e282b30, 0x5e282b36, 0x5e282b3c, 0x5e282b3d, 0x5e282b46, 0x5e282b4d, 0x5e282b51,
    0x5e282b61, 0x5e282b6f, 0x5e282b92, 0x5e282b9e, 0x5e282ba2, 0x5e282ba8, 0x5e282bb8, 0x5e282bc2,
    0x5e282bc5, 0x5e282bdc, 0x5e282bde, 0x5e282bf7, 0x5e282bfa,
];
const CRYPTO_SLOT_INVALID: &[u32] = &[
    0x0e2838c5, 0x0e2848b1, 0x0e286af4, 0x0e28c8b1, 0x0e68496e, 0x0e69ab3c, 0x0ea90bf9, 0x0ee85866,
    0x0ee87b8e, 0x1e07438a, 0x1e10a239, 0x1e1522ac, 0x1e1b232f, 0x1e1b734f, 0x1e28ebbf, 0x1e2999c3,
    0x1edfb2c6, 0x46280ae3, 0x462819ca, 0x462849e4, 0x46284be7, 0x462858e1, 0x46285a39, 0x46285ae0,
    0x4628789f, 0x462899b3, 0x4628a900, 0x46293ac5, 0x4629685c, 0x4629d85a, 0x4629db3e, 0x46a9faae,
    0x4a28cb4d, 0x4a68a907, 0x4a69a8ab, 0x4aa899ca, 0x4c282932, 0x4c284a7f, 0x4c286bde, 0x4c287914,
    0x4c289be8, 0x4c28bbdf, 0x4c298850, 0x4ca85992, 0x4ca86963, 0x4ce848e0, 0x4ce91a76, 0x4e0848e5,
    0x4e084b75, 0x4e08cab2, 0x4e08ebf5, 0x4e08f8c3, 0x4e1fc158, 0x4e21faf1, 0x4e280899, 0x4e28089e,
    0x4e2808c9, 0x4e28091c, 0x4e280996, 0x4e2809a2, 0x4e2809a9, 0x4e2809d6, 0x4e280a4e, 0x4e280a5f,
    0x4e280aeb, 0x4e280b2b, 0x4e280b49, 0x4e280b4c, 0x4e280b70, 0x4e280bc6, 0x4e280be0, 0x4e280bf2,
    0x4e281815, 0x4e28181e, 0x4e281833, 0x4e28183a, 0x4e281871, 0x4e2818ba, 0x4e2819b9, 0x4e2819d1,
    0x4e281a09, 0x4e281a2a, 0x4e281a71, 0x4e281aa1, 0x4e281aba, 0x4e281b23, 0x4e281bad, 0x4e281bb5,
    0x4e281bc9, 0x4e2828df, 0x4e282971, 0x4e282ab9, 0x4e282b0a, 0x4e283805, 0x4e28380f, 0x4e2838ca,
    0x4e2838f1, 0x4e283924, 0x4e2839fe, 0x4e283a84, 0x4e283a95, 0x4e283aad, 0x4e283b00, 0x4e283b01,
    0x4e283b12, 0x4e283b84, 0x4e28887f, 0x4e2888ba, 0x4e28893b, 0x4e288a1c, 0x4e288a7b, 0x4e288b3c,
    0x4e288b90, 0x4e288bf0, 0x4e2898c4, 0x4e2898ca, 0x4e2899a1, 0x4e2899b9, 0x4e2899bb, 0x4e289a00,
    0x4e289ab7, 0x4e289bef, 0x4e28a80b, 0x4e28a82c, 0x4e28a83b, 0x4e28a841, 0x4e28a88f, 0x4e28a8cb,
    0x4e28a8f6, 0x4e28a926, 0x4e28a956, 0x4e28a9c4, 0x4e28a9cd, 0x4e28aa1c, 0x4e28aa44, 0x4e28ab02,
    0x4e28ab3a, 0x4e28ab97, 0x4e28ab99, 0x4e28aba2, 0x4e28aba9, 0x4e28abda, 0x4e28abdd, 0x4e28b80b,
    0x4e28b82d, 0x4e28b8e0, 0x4e28b927, 0x4e28b960, 0x4e28b9be, 0x4e28ba13, 0x4e28bac3, 0x4e28bb98,
    0x4e28bbc3, 0x4e28c85b, 0x4e28c87b, 0x4e28c914, 0x4e28c975, 0x4e28c97d, 0x4e28c9bf, 0x4e28ca42,
    0x4e28cba6, 0x4e28cbfa, 0x4e28d89a, 0x4e28d8ab, 0x4e28d8d4, 0x4e28d939, 0x4e28da3a, 0x4e28da49,
    0x4e28da93, 0x4e28db7b, 0x4e28db98, 0x4e28dba6, 0x4e28e849, 0x4e28e856, 0x4e28e913, 0x4e28e927,
    0x4e28e934, 0x4e28e958, 0x4e28e998, 0x4e28e9dc, 0x4e28e9f0, 0x4e28e9f1, 0x4e28ea32, 0x4e28eac7,
    0x4e28eb15, 0x4e28eb74, 0x4e28eb75, 0x4e28ebca, 0x4e28ebcb, 0x4e28ebf3, 0x4e28f8ee, 0x4e28f9b1,
    0x4e28f9f2, 0x4e28f9fa, 0x4e28fa6f, 0x4e28fb11, 0x4e28fbee, 0x4e290815, 0x4e29085a, 0x4e290862,
    0x4e29094d, 0x4e29096b, 0x4e29098b, 0x4e290a4a, 0x4e290aa7, 0x4e290aaa, 0x4e290b91, 0x4e290be4,
    0x4e290bf8, 0x4e291824, 0x4e291841, 0x4e2918b4, 0x4e2918b5, 0x4e2918b7, 0x4e291929, 0x4e291959,
    0x4e2919a1, 0x4e2919b9, 0x4e291a0d, 0x4e291a9e, 0x4e291aa4, 0x4e291aea, 0x4e291be1, 0x4e291bf3,
    0x4e292807, 0x4e292812, 0x4e292894, 0x4e2928d8, 0x4e292904, 0x4e292950, 0x4e2929a2, 0x4e292a2f,
    0x4e292a86, 0x4e292a8d, 0x4e292b11, 0x4e292b2f, 0x4e292b57, 0x4e292b6d, 0x4e292bc1, 0x4e29383b,
    0x4e293873, 0x4e2938f1, 0x4e2939a2, 0x4e2939b8, 0x4e2939c4, 0x4e293a3f, 0x4e293a50, 0x4e293aae,
    0x4e293bf9, 0x4e294800, 0x4e294921, 0x4e2949ac, 0x4e294a00, 0x4e294a48, 0x4e294ade, 0x4e294b58,
    0x4e294b91, 0x4e294b97, 0x4e294baa, 0x4e294bb8, 0x4e294bcf, 0x4e294bef, 0x4e295850, 0x4e29588f,
    0x4e2958d5, 0x4e2958df, 0x4e295a88, 0x4e295b11, 0x4e295bb0, 0x4e295bce, 0x4e296801, 0x4e29681e,
    0x4e2968b8, 0x4e2968d3, 0x4e2968fa, 0x4e29693c, 0x4e296965, 0x4e2969dc, 0x4e2969f3, 0x4e296a57,
    0x4e296a60, 0x4e296ab0, 0x4e296abe, 0x4e296ac2, 0x4e296b0b, 0x4e296b47, 0x4e296baa, 0x4e296bb0,
    0x4e29788c, 0x4e29788e, 0x4e2978ba, 0x4e2978d4, 0x4e297924, 0x4e297944, 0x4e2979d7, 0x4e2979da,
    0x4e2979ea, 0x4e297a23, 0x4e297ad2, 0x4e297ae7, 0x4e297aeb, 0x4e297b01, 0x4e297b15, 0x4e297b44,
    0x4e297bb4, 0x4e2988b5, 0x4e298911, 0x4e29896a, 0x4e298a75, 0x4e298a9d, 0x4e298ae7, 0x4e298b78,
    0x4e298bcf, 0x4e299a14, 0x4e299a68, 0x4e299ae4, 0x4e299b04, 0x4e29a80e, 0x4e29a8de, 0x4e29a8ef,
    0x4e29a929, 0x4e29a94d, 0x4e29a9d8, 0x4e29aa62, 0x4e29aa8e, 0x4e29aaa0, 0x4e29aae4, 0x4e29aaee,
    0x4e29ab2c, 0x4e29ab43, 0x4e29ab48, 0x4e29ab53, 0x4e29abaf, 0x4e29b87c, 0x4e29b895, 0x4e29b8c7,
    0x4e29b969, 0x4e29b98a, 0x4e29b99b, 0x4e29b99f, 0x4e29ba05, 0x4e29ba0a, 0x4e29ba3e, 0x4e29ba6b,
    0x4e29ba9d, 0x4e29bb14, 0x4e29bbcc, 0x4e29bbe6, 0x4e29c805, 0x4e29c87f, 0x4e29c89c, 0x4e29c8aa,
    0x4e29c905, 0x4e29c95d, 0x4e29c98b, 0x4e29c9b6, 0x4e29ca2f, 0x4e29ca72, 0x4e29ca76, 0x4e29cadb,
    0x4e29cafc, 0x4e29cb01, 0x4e29cb31, 0x4e29cb75, 0x4e29cbe1, 0x4e29cbfc, 0x4e29d86f, 0x4e29d8c7,
    0x4e29d8f6, 0x4e29d97c, 0x4e29d990, 0x4e29d9d0, 0x4e29da71, 0x4e29dafa, 0x4e29db15, 0x4e29db5b,
    0x4e29db9e, 0x4e29dbe3, 0x4e29dbfd, 0x4e29e833, 0x4e29e8c3, 0x4e29e8df, 0x4e29e8e4, 0x4e29e91a,
    0x4e29e925, 0x4e29e998, 0x4e29e9b5, 0x4e29e9d7, 0x4e29e9ec, 0x4e29ea1e, 0x4e29ea6b, 0x4e29eb33,
    0x4e29eb8e, 0x4e29ebb0, 0x4e29ebba, 0x4e29f874, 0x4e29f933, 0x4e29f95b, 0x4e29f97e, 0x4e29f999,
    0x4e29f99d, 0x4e29f9ec, 0x4e29f9f1, 0x4e29fa37, 0x4e29fab3, 0x4e29fb24, 0x4e29fbbc, 0x4e29fbf8,
    0x4e2a98cb, 0x4e2b1820, 0x4e2c49d1, 0x4e2d6a34, 0x4e2d6bd9, 0x4e2d7be7, 0x4e385bb8, 0x4e38687e,
    0x4e386b6c, 0x4e387bed, 0x4e38aa5d, 0x4e38bad3, 0x4e38c9ef, 0x4e392a25, 0x4e3938be, 0x4e3939da,
    0x4e398989, 0x4e39ba28, 0x4e39d9fa, 0x4e4f4230, 0x4e680b03, 0x4e6818f0, 0x4e681abe, 0x4e6829a4,
    0x4e683976, 0x4e68399c, 0x4e6839e1, 0x4e684856, 0x4e68486c, 0x4e6848d1, 0x4e684953, 0x4e68496b,
    0x4e68496e, 0x4e6849fe, 0x4e684a56, 0x4e684a67, 0x4e684a7d, 0x4e684ac1, 0x4e684b8a, 0x4e684ba2,
    0x4e684bfe, 0x4e68590f, 0x4e6859e4, 0x4e685a04, 0x4e685a3a, 0x4e685a6e, 0x4e685a8f, 0x4e685bcb,
    0x4e685bcf, 0x4e686829, 0x4e686913, 0x4e68697a, 0x4e686a80, 0x4e686ad6, 0x4e686af9, 0x4e686b0c,
    0x4e686b66, 0x4e686b67, 0x4e686b73, 0x4e686bef, 0x4e68782f, 0x4e6878a6, 0x4e687921, 0x4e68796f,
    0x4e68797f, 0x4e687b03, 0x4e687b2a, 0x4e687b6c, 0x4e687b86, 0x4e68899f, 0x4e6898e2, 0x4e68a818,
    0x4e68b88e, 0x4e68ca93, 0x4e68daac, 0x4e68dbad, 0x4e68e970, 0x4e68e9a9, 0x4e68f814, 0x4e6908f9,
    0x4e690b12, 0x4e6919b2, 0x4e6929a7, 0x4e692b3c, 0x4e693957, 0x4e6948e3, 0x4e694ba4, 0x4e69685e,
    0x4e6968cd, 0x4e69698c, 0x4e696b7e, 0x4e69797b, 0x4e697a27, 0x4e699aa5, 0x4e69a841, 0x4e69a908,
    0x4e69ca46, 0x4e69f909, 0x4e69f934, 0x4e789a25, 0x4e78b86e, 0x4e9331b5, 0x4ea16a39, 0x4ea80833,
    0x4ea80be4, 0x4ea81899, 0x4ea819ee, 0x4ea81ab7, 0x4ea828a6, 0x4ea82b71, 0x4ea8382b, 0x4ea84836,
    0x4ea848ab, 0x4ea84914, 0x4ea84a87, 0x4ea84abf, 0x4ea84af8, 0x4ea84b49, 0x4ea84b67, 0x4ea85815,
    0x4ea85889, 0x4ea858c5, 0x4ea85906, 0x4ea8598d, 0x4ea85adb, 0x4ea85ae4, 0x4ea85aee, 0x4ea85b60,
    0x4ea85b68, 0x4ea85b79, 0x4ea85b9a, 0x4ea85ba7, 0x4ea85bae, 0x4ea86855, 0x4ea86899, 0x4ea8695c,
    0x4ea869be, 0x4ea86a32, 0x4ea86a45, 0x4ea86a6d, 0x4ea86aa2, 0x4ea86adf, 0x4ea86bec, 0x4ea87818,
    0x4ea878d6, 0x4ea87963, 0x4ea87a2d, 0x4ea87a7e, 0x4ea87b2c, 0x4ea87b76, 0x4ea87b7c, 0x4ea88992,
    0x4ea8a97c, 0x4ea8aaa1, 0x4ea8b87c, 0x4ea8ca0c, 0x4ea8dbcd, 0x4ea8f9a6, 0x4ea92968, 0x4ea939c4,
    0x4ea93a3e, 0x4ea9481a, 0x4ea958df, 0x4ea97844, 0x4ea979f2, 0x4ea9a870, 0x4ea9d9c2, 0x4ea9da8e,
    0x4ea9daeb, 0x4ea9db74, 0x4eadbb66, 0x4ec643fb, 0x4ee82812, 0x4ee828ff, 0x4ee82a74, 0x4ee838a3,
    0x4ee84808, 0x4ee84890, 0x4ee848d9, 0x4ee8491f, 0x4ee8497f, 0x4ee84a15, 0x4ee84aa2, 0x4ee84b6f,
    0x4ee84bae, 0x4ee84baf, 0x4ee85907, 0x4ee859fe, 0x4ee85a0f, 0x4ee85ad5, 0x4ee85aec, 0x4ee85b45,
    0x4ee8680e, 0x4ee8682a, 0x4ee86870, 0x4ee868c5, 0x4ee86911, 0x4ee86952, 0x4ee869a6, 0x4ee869c8,
    0x4ee869ce, 0x4ee86a4a, 0x4ee86b0a, 0x4ee86b95, 0x4ee86bb0, 0x4ee8784d, 0x4ee87896, 0x4ee878cb,
    0x4ee87943, 0x4ee8794f, 0x4ee87a39, 0x4ee87a5a, 0x4ee87aba, 0x4ee87b13, 0x4ee87b31, 0x4ee87b45,
    0x4ee88acb, 0x4ee89964, 0x4ee8c823, 0x4ee8d909, 0x4ee8dbbd, 0x4ee8ebcd, 0x4ee90996, 0x4ee938a5,
    0x4ee93b9c, 0x4ee94a61, 0x4ee94a76, 0x4ee94b66, 0x4ee94be9, 0x4ee958f2, 0x4ee97995, 0x4ee97a92,
    0x4ee98ba5, 0x4ee99903, 0x4ee9aa25, 0x4ee9aa75, 0x4ee9c832, 0x4ee9ca1f, 0x4ee9cb11, 0x4ee9daf5,
    0x4eed6a3d, 0x4f28488d, 0x4f285982, 0x4f28ea81, 0x4f290afe, 0x4fe84b8b, 0x4fe9a9d4, 0x560022bb,
    0x560253fa, 0x560f035c, 0x5611e3db, 0x5614c115, 0x56280b3c, 0x562818f0, 0x5628191f, 0x56281a9e,
    0x562828ec, 0x56287bfe, 0x56294833, 0x56297b72, 0x5629da17, 0x56682a2d, 0x56696be7, 0x56816363,
    0x5a013051, 0x5a03a188, 0x5a0520de, 0x5a06735a, 0x5a0c1139, 0x5a1c12fa, 0x5a282849, 0x5a28f911,
    0x5a29a9ac, 0x5a29d8d9, 0x5a29fa7b, 0x5a681b3a, 0x5ae9a99c, 0x5e0070d9, 0x5e007209, 0x5e0072d8,
    0x5e008207, 0x5e011776, 0x5e0170aa, 0x5e01d085, 0x5e02382f, 0x5e027006, 0x5e0272d4, 0x5e0273b5,
    0x5e02b2ac, 0x5e02c132, 0x5e02d1d6, 0x5e02e0f2, 0x5e037130, 0x5e0372de, 0x5e03909b, 0x5e0390a9,
    0x5e0391d1, 0x5e0392ab, 0x5e03b06e, 0x5e03b2bb, 0x5e03b33d, 0x5e03b393, 0x5e03c0aa, 0x5e03d083,
    0x5e03d122, 0x5e03e065, 0x5e03e0c1, 0x5e03e2d4, 0x5e03e3c2, 0x5e03f0cd, 0x5e03f128, 0x5e03f1f5,
    0x5e03f264, 0x5e03f2d8, 0x5e047045, 0x5e0470fd, 0x5e0471b8, 0x5e04731c, 0x5e04e218, 0x5e057049,
    0x5e05707a, 0x5e0572e9, 0x5e0673ea, 0x5e0690af, 0x5e06a117, 0x5e06d0a1, 0x5e0771b8, 0x5e07729e,
    0x5e0773df, 0x5e0784ea, 0x5e078559, 0x5e079088, 0x5e07a006, 0x5e07a053, 0x5e07b37c, 0x5e07c0f7,
    0x5e07c310, 0x5e07c3c0, 0x5e07d1f8, 0x5e07f055, 0x5e07f370, 0x5e0808a7, 0x5e0809ce, 0x5e08281c,
    0x5e082856, 0x5e085b18, 0x5e089232, 0x5e08aa29, 0x5e091854, 0x5e0970c5, 0x5e09a216, 0x5e09c816,
    0x5e0a7015, 0x5e0a7224, 0x5e0a80b5, 0x5e0a90f7, 0x5e0b2544, 0x5e0b707c, 0x5e0b7154, 0x5e0b71b0,
    0x5e0b833b, 0x5e0b83f9, 0x5e0b9120, 0x5e0bb1b4, 0x5e0bc100, 0x5e0be1c8, 0x5e0bf000, 0x5e0bf0e8,
    0x5e0bf39e, 0x5e0c55bf, 0x5e0c6944, 0x5e0c9189, 0x5e0ce2f1, 0x5e0d72e8, 0x5e0da187, 0x5e0da253,
    0x5e0da3b9, 0x5e0df2c4, 0x5e0e69f2, 0x5e0e7210, 0x5e0e7348, 0x5e0e9056, 0x5e0ea395, 0x5e0eb157,
    0x5e0ed119, 0x5e0ed302, 0x5e0ed363, 0x5e0f7101, 0x5e0f71fc, 0x5e0f731a, 0x5e0f812a, 0x5e0f824e,
    0x5e0f827c, 0x5e0f837a, 0x5e0f83d6, 0x5e0f929d, 0x5e0fa2ad, 0x5e0fb16a, 0x5e0fb190, 0x5e0fb2dd,
    0x5e0fc08e, 0x5e0fc6df, 0x5e0fd361, 0x5e0fe020, 0x5e0fe1ba, 0x5e0fe276, 0x5e0fe39f, 0x5e0ff1c5,
    0x5e0ff20f, 0x5e0ff30e, 0x5e107079, 0x5e1070ac, 0x5e1171f7, 0x5e117246, 0x5e119356, 0x5e11c040,
    0x5e11d3f6, 0x5e11f3dc, 0x5e1271ff, 0x5e127396, 0x5e129043, 0x5e12b1b9, 0x5e12b378, 0x5e136bc6,
    0x5e137002, 0x5e13701c, 0x5e1370e3, 0x5e1371e0, 0x5e137375, 0x5e1373a1, 0x5e1380c7, 0x5e13a263,
    0x5e13c35d, 0x5e13c396, 0x5e13c3d0, 0x5e13d1e7, 0x5e13e346, 0x5e13e3fc, 0x5e1470fa, 0x5e157005,
    0x5e157249, 0x5e1582f0, 0x5e15a30d, 0x5e15d3c2, 0x5e15e397, 0x5e167024, 0x5e16737b, 0x5e16f14e,
    0x5e16f1a2, 0x5e16f374, 0x5e17703e, 0x5e1770e9, 0x5e177139, 0x5e17714a, 0x5e1771c6, 0x5e17728d,
    0x5e1772f6, 0x5e179298, 0x5e1793a3, 0x5e17b10e, 0x5e17b139, 0x5e17b38f, 0x5e17c2e9, 0x5e17c395,
    0x5e17d128, 0x5e17e1e2, 0x5e187037, 0x5e1870e6, 0x5e187101, 0x5e187238, 0x5e18b36c, 0x5e19700b,
    0x5e19731e, 0x5e1993ad, 0x5e1993ef, 0x5e19a2f2, 0x5e19d3d8, 0x5e19e271, 0x5e1a7054, 0x5e1ab396,
    0x5e1ac167, 0x5e1ac256, 0x5e1b805a, 0x5e1b807d, 0x5e1b820b, 0x5e1b9138, 0x5e1b923c, 0x5e1b9258,
    0x5e1bc18b, 0x5e1bc2d0, 0x5e1be323, 0x5e1bf11a, 0x5e1bf2c7, 0x5e1c8143, 0x5e1d73f4, 0x5e1da00b,
    0x5e1e8163, 0x5e1e918b, 0x5e1ec0eb, 0x5e1ec3ca, 0x5e1f72fe, 0x5e1f824e, 0x5e1f82b8, 0x5e1f833b,
    0x5e1f9217, 0x5e1fa0fa, 0x5e1fa3a3, 0x5e1fc040, 0x5e1fd17f, 0x5e1fd315, 0x5e1ff2fb, 0x5e2019e3,
    0x5e2019e8, 0x5e20bba5, 0x5e2118ec, 0x5e217996, 0x5e2179e3, 0x5e218970, 0x5e218aaa, 0x5e21987c,
    0x5e219a67, 0x5e21e8b3, 0x5e22614a, 0x5e238261, 0x5e250177, 0x5e278030, 0x5e2801e8, 0x5e280366,
    0x5e281ec4, 0x5e281ec5, 0x5e281ef2, 0x5e28226d, 0x5e2822ff, 0x5e283816, 0x5e28391d, 0x5e2839a7,
    0x5e2839ce, 0x5e283a60, 0x5e283a67, 0x5e283aac, 0x5e283af4, 0x5e283b38, 0x5e283b63, 0x5e283ba7,
    0x5e283bc3, 0x5e284158, 0x5e28481a, 0x5e28482d, 0x5e284842, 0x5e28486c, 0x5e2848ef, 0x5e28492c,
    0x5e284971, 0x5e2849c6, 0x5e284a1e, 0x5e284a66, 0x5e284aaf, 0x5e284ab0, 0x5e284ac4, 0x5e284b09,
    0x5e284b25, 0x5e284b2a, 0x5e284b31, 0x5e284bd8, 0x5e285913, 0x5e2859e7, 0x5e2859e9, 0x5e285a56,
    0x5e285a81, 0x5e285add, 0x5e285b22, 0x5e285b34, 0x5e285b54, 0x5e285b86, 0x5e285bc9, 0x5e28681d,
    0x5e286838, 0x5e28686a, 0x5e2868aa, 0x5e2868b5, 0x5e2868d3, 0x5e2868e1, 0x5e286931, 0x5e2869b7,
    0x5e2869bf, 0x5e2869f2, 0x5e2869f4, 0x5e286a0a, 0x5e286a26, 0x5e286ad0, 0x5e286af2, 0x5e287807,
    0x5e28780e, 0x5e287828, 0x5e28783e, 0x5e28785d, 0x5e2878bd, 0x5e2878de, 0x5e2878ea, 0x5e28792f,
    0x5e28793b, 0x5e2879ba, 0x5e287baf, 0x5e28881b, 0x5e28882b, 0x5e288889, 0x5e2888b0, 0x5e2888bb,
    0x5e288906, 0x5e288907, 0x5e288930, 0x5e28894d, 0x5e2889cf, 0x5e288a7d, 0x5e288a8b, 0x5e288a8e,
    0x5e288ac9, 0x5e288ae8, 0x5e288aec, 0x5e288b4f, 0x5e288bb0, 0x5e288bb2, 0x5e288bde, 0x5e289835,
    0x5e2898b1, 0x5e2898bc, 0x5e289908, 0x5e28991f, 0x5e289937, 0x5e2899c1, 0x5e2899ec, 0x5e289a20,
    0x5e289a53, 0x5e289aaa, 0x5e289afb, 0x5e289bcf, 0x5e289bee, 0x5e28a808, 0x5e28a887, 0x5e28a894,
    0x5e28aad3, 0x5e28aafb, 0x5e28ab46, 0x5e28ab72, 0x5e28abc5, 0x5e28b84c, 0x5e28b854, 0x5e28b88b,
    0x5e28b88f, 0x5e28b8fa, 0x5e28b98e, 0x5e28b9ae, 0x5e28b9fd, 0x5e28ba3b, 0x5e28baaa, 0x5e28bac2,
    0x5e28bb03, 0x5e28bb36, 0x5e28bb9f, 0x5e28bbd3, 0x5e28c886, 0x5e28c8df, 0x5e28c910, 0x5e28c987,
    0x5e28c9d1, 0x5e28c9df, 0x5e28ca17, 0x5e28ca32, 0x5e28cac8, 0x5e28d80d, 0x5e28d83f, 0x5e28d887,
    0x5e28d89b, 0x5e28d8f3, 0x5e28d9b2, 0x5e28db2c, 0x5e28db7b, 0x5e28dbcc, 0x5e28e81b, 0x5e28e835,
    0x5e28e892, 0x5e28e8aa, 0x5e28e8d7, 0x5e28e8e1, 0x5e28e912, 0x5e28e927, 0x5e28e96f, 0x5e28ebbf,
    0x5e28ebc6, 0x5e28f843, 0x5e28f84c, 0x5e28f84f, 0x5e28f895, 0x5e28f899, 0x5e28f920, 0x5e28f946,
    0x5e28f99e, 0x5e28fbdd, 0x5e290827, 0x5e290833, 0x5e2908fb, 0x5e2909f0, 0x5e290a52, 0x5e290a7d,
    0x5e290b2b, 0x5e290b5a, 0x5e290bef, 0x5e291816, 0x5e291891, 0x5e2918b3, 0x5e291948, 0x5e29195b,
    0x5e2919c5, 0x5e291a0c, 0x5e291a8a, 0x5e291add, 0x5e291b1d, 0x5e291b32, 0x5e291bc4, 0x5e292821,
    0x5e292883, 0x5e2929fa, 0x5e292a16, 0x5e292b23, 0x5e292b49, 0x5e292bb6, 0x5e292bf2, 0x5e293823,
    0x5e29382c, 0x5e29389f, 0x5e2938b4, 0x5e2938e3, 0x5e2938fa, 0x5e29395c, 0x5e29395d, 0x5e293a01,
    0x5e293a18, 0x5e293a2f, 0x5e293ae1, 0x5e293b60, 0x5e293bd0, 0x5e293bff, 0x5e294824, 0x5e294845,
    0x5e294868, 0x5e2948fe, 0x5e29496a, 0x5e294999, 0x5e2949d8, 0x5e294a15, 0x5e294a24, 0x5e294a85,
    0x5e294a8f, 0x5e294aba, 0x5e294b23, 0x5e294bbb, 0x5e294bc3, 0x5e29580c, 0x5e295887, 0x5e2958a9,
    0x5e29599a, 0x5e2959b1, 0x5e295a44, 0x5e295a5a, 0x5e295ac1, 0x5e295b3d, 0x5e295b9f, 0x5e29687d,
    0x5e296881, 0x5e296943, 0x5e29694a, 0x5e2969c9, 0x5e296a41, 0x5e296ab1, 0x5e296ad7, 0x5e296b64,
    0x5e296b6d, 0x5e296b71, 0x5e296b89, 0x5e29783a, 0x5e29784b, 0x5e29784d, 0x5e29789e, 0x5e2978bb,
    0x5e2978e6, 0x5e2978f0, 0x5e297981, 0x5e29799a, 0x5e297ba6, 0x5e297bf9, 0x5e2989db, 0x5e298a01,
    0x5e298a1a, 0x5e298b0c, 0x5e298b5f, 0x5e299807, 0x5e299889, 0x5e299964, 0x5e299a22, 0x5e299a47,
    0x5e299a7e, 0x5e299acb, 0x5e299b2d, 0x5e299b40, 0x5e29a86a, 0x5e29a8af, 0x5e29a8e4, 0x5e29a985,
    0x5e29a999, 0x5e29a9dc, 0x5e29a9ed, 0x5e29aa0b, 0x5e29aa6d, 0x5e29aae3, 0x5e29aaf5, 0x5e29aafc,
    0x5e29ab5e, 0x5e29abb8, 0x5e29b928, 0x5e29b932, 0x5e29b98a, 0x5e29c895, 0x5e29c8c4, 0x5e29c8cb,
    0x5e29c8e5, 0x5e29c984, 0x5e29c9aa, 0x5e29c9e5, 0x5e29ca24, 0x5e29ca32, 0x5e29ca4a, 0x5e29ca6d,
    0x5e29caca, 0x5e29cad3, 0x5e29cad4, 0x5e29cb81, 0x5e29cb90, 0x5e29d803, 0x5e29d825, 0x5e29d85a,
    0x5e29d8c8, 0x5e29d924, 0x5e29d93b, 0x5e29d9ab, 0x5e29da4f, 0x5e29da61, 0x5e29da67, 0x5e29dadf,
    0x5e29dae5, 0x5e29daf7, 0x5e29db1d, 0x5e29db24, 0x5e29e892, 0x5e29e8f3, 0x5e29e955, 0x5e29e9d5,
    0x5e29eaac, 0x5e29ebc1, 0x5e29ebec, 0x5e29f860, 0x5e29f8d5, 0x5e29f8d8, 0x5e29f94c, 0x5e29f9a3,
    0x5e29fabc, 0x5e2a0811, 0x5e2a2bf2, 0x5e2b615b, 0x5e2ba872, 0x5e2bc18b, 0x5e2bd860, 0x5e2c08f8,
    0x5e2c1917, 0x5e2c7987, 0x5e2c888e, 0x5e2ca87b, 0x5e2cf9df, 0x5e2d4806, 0x5e2de13a, 0x5e2e1271,
    0x5e37507d, 0x5e3808fc, 0x5e3819b6, 0x5e381a31, 0x5e382ab5, 0x5e382b4d, 0x5e382ba0, 0x5e39e85d,
    0x5e3d7253, 0x5e3f00b7, 0x5e40c249, 0x5e413026, 0x5e41a1e2, 0x5e42332b, 0x5e42a2bf, 0x5e430338,
    0x5e43135e, 0x5e43701a, 0x5e44f2fa, 0x5e4611c2, 0x5e461393, 0x5e4613fb, 0x5e4650ff, 0x5e47f197,
    0x5e47f383, 0x5e483148, 0x5e4951e9, 0x5e4a32bc, 0x5e4a33ff, 0x5e4a424c, 0x5e4b0157, 0x5e4bf186,
    0x5e4c00bb, 0x5e4c3219, 0x5e4c528b, 0x5e4d3182, 0x5e4e92a0, 0x5e4f03d7, 0x5e4f508b, 0x5e4f528d,
    0x5e4fa1ad, 0x5e50c348, 0x5e517362, 0x5e51d0f3, 0x5e520058, 0x5e5202ad, 0x5e52323b, 0x5e531202,
    0x5e53434a, 0x5e5373f0, 0x5e543019, 0x5e54804a, 0x5e54d3b6, 0x5e550315, 0x5e5683e2, 0x5e5701f5,
    0x5e5701fa, 0x5e5763e9, 0x5e57b358, 0x5e57f254, 0x5e5832df, 0x5e5843de, 0x5e5922a0, 0x5e5bd124,
    0x5e5ca342, 0x5e5d02d5, 0x5e5d5007, 0x5e5d52a1, 0x5e5d603e, 0x5e5f46fe, 0x5e5f8344, 0x5e5f9284,
    0x5e5fe2e9, 0x5e680871, 0x5e680893, 0x5e6808b3, 0x5e6808d5, 0x5e68090b, 0x5e680956, 0x5e680961,
    0x5e680999, 0x5e6809ea, 0x5e6809ed, 0x5e680a36, 0x5e680a55, 0x5e680a5d, 0x5e680a8b, 0x5e680abd,
    0x5e680b6d, 0x5e680b90, 0x5e680bdc, 0x5e680bdd, 0x5e68182b, 0x5e681833, 0x5e68185d, 0x5e6819eb,
    0x5e681a68, 0x5e681a6b, 0x5e681a8f, 0x5e681ab8, 0x5e681aee, 0x5e682805, 0x5e68280d, 0x5e68283d,
    0x5e68287a, 0x5e682895, 0x5e68294d, 0x5e682997, 0x5e6829e6, 0x5e682a1e, 0x5e682a38, 0x5e682a86,
    0x5e682af7, 0x5e682b53, 0x5e6839f6, 0x5e683a69, 0x5e685aa5, 0x5e685bb4, 0x5e686a87, 0x5e6879ae,
    0x5e688bd3, 0x5e68994b, 0x5e689ab3, 0x5e689aea, 0x5e68a95f, 0x5e68a97c, 0x5e68d876, 0x5e68e9df,
    0x5e68ea91, 0x5e68eb74, 0x5e6908c7, 0x5e69096b, 0x5e690af9, 0x5e694858, 0x5e695b88, 0x5e696bce,
    0x5e697a93, 0x5e697b08, 0x5e698a21, 0x5e699801, 0x5e699ac9, 0x5e69aa7e, 0x5e69add0, 0x5e69b9ec,
    0x5e69ba70, 0x5e69bb6f, 0x5e69c835, 0x5e69c848, 0x5e69fbda, 0x5e701153, 0x5e81506b, 0x5e8191f4,
    0x5e82408e, 0x5e831307, 0x5e833264, 0x5e836263, 0x5e83c168, 0x5e843139, 0x5e84333f, 0x5e859113,
    0x5e85c2ee, 0x5e86208b, 0x5e86e3c6, 0x5e87139f, 0x5e8732cc, 0x5e87b063, 0x5e87f3f4, 0x5e8830cc,
    0x5e883134, 0x5e891102, 0x5e89216c, 0x5e89420d, 0x5e8942a9, 0x5e895b49, 0x5e89609c, 0x5e8a125a,
    0x5e8b00d2, 0x5e8b031a, 0x5e8c1355, 0x5e8c3002, 0x5e8d2af8, 0x5e8d6087, 0x5e8e3095, 0x5e8f300a,
    0x5e8f41e1, 0x5e8fe3aa, 0x5e904185, 0x5e91a3cd, 0x5e921393, 0x5e9252fa, 0x5e92730d, 0x5e93c047,
    0x5e9420a1, 0x5e947025, 0x5e94a1c5, 0x5e9540e6, 0x5e96434d, 0x5e9652e2, 0x5e9656a9, 0x5e971258,
    0x5e973044, 0x5e9731cc, 0x5e9762b8, 0x5e9890fd, 0x5e98c03f, 0x5e990250, 0x5e995083, 0x5e9a21ab,
    0x5e9a52e8, 0x5e9a7074, 0x5e9aa06f, 0x5e9aa2d0, 0x5e9b13aa, 0x5e9bc073, 0x5e9d4038, 0x5e9e0318,
    0x5e9e21f1, 0x5e9e4017, 0x5e9e73a4, 0x5e9ef285, 0x5e9f6259, 0x5e9f83d7, 0x5ea0095c, 0x5ea80807,
    0x5ea80818, 0x5ea80834, 0x5ea808a9, 0x5ea808bb, 0x5ea80979, 0x5ea80981, 0x5ea809a7, 0x5ea809fd,
    0x5ea80a1a, 0x5ea80a32, 0x5ea80ac0, 0x5ea80b4b, 0x5ea80b7b, 0x5ea80bbe, 0x5ea80bfe, 0x5ea8185d,
    0x5ea81994, 0x5ea819e6, 0x5ea81a92, 0x5ea81b3b, 0x5ea81b99, 0x5ea82832, 0x5ea82848, 0x5ea8284f,
    0x5ea82891, 0x5ea8289a, 0x5ea8289c, 0x5ea828bc, 0x5ea828f8, 0x5ea8295f, 0x5ea829f2, 0x5ea82b3e,
    0x5ea82b98, 0x5ea82bb1, 0x5ea82bcb, 0x5ea82bfd, 0x5ea83805, 0x5ea83957, 0x5ea848e8, 0x5ea85b8e,
    0x5ea86a68, 0x5ea86ac5, 0x5ea87aee, 0x5ea87bd4, 0x5ea888e3, 0x5ea8985d, 0x5ea898fd, 0x5ea899bd,
    0x5ea899e6, 0x5ea89be6, 0x5ea8a808, 0x5ea8a923, 0x5ea8c8f2, 0x5ea8f94e, 0x5ea90afa, 0x5ea919d9,
    0x5ea91a84, 0x5ea92a1a, 0x5ea9385d, 0x5ea94919, 0x5ea95847, 0x5ea97986, 0x5ea97b6b, 0x5ea989dc,
    0x5ea99b48, 0x5ea9a385, 0x5ea9ab4a, 0x5ea9b82e, 0x5ea9e942, 0x5eaa28eb, 0x5eacba9c, 0x5eadb84b,
    0x5eb7038f, 0x5eb90a0e, 0x5ec022a7, 0x5ec11327, 0x5ec12318, 0x5ec17162, 0x5ec2e1a1, 0x5ec2f1aa,
    0x5ec3d0d0, 0x5ec50286, 0x5ec5e0d4, 0x5ec712fb, 0x5ec73100, 0x5ec7312f, 0x5ec7e1e1, 0x5ec82041,
    0x5ec83293, 0x5ec861ae, 0x5ec870af, 0x5ec92779, 0x5ec9331a, 0x5ec9400d, 0x5ec941c6, 0x5ecae0e2,
    0x5ecaf372, 0x5ecb1259, 0x5ecb324f, 0x5ecb3360, 0x5ecb4265, 0x5ecb525e, 0x5ecc53c7, 0x5ecd1162,
    0x5ecd4303, 0x5ecd43c7, 0x5ecda2e9, 0x5ece52d4, 0x5ecf417f, 0x5ecf5213, 0x5ecfb308, 0x5ecfd3c7,
    0x5ed00106, 0x5ed0133f, 0x5ed0633b, 0x5ed20331, 0x5ed24364, 0x5ed3211a, 0x5ed36314, 0x5ed4021f,
    0x5ed471bc, 0x5ed490e5, 0x5ed5d012, 0x5ed5d0e6, 0x5ed65379, 0x5ed66331, 0x5ed6709b, 0x5ed7a102,
    0x5ed91294, 0x5eda00c1, 0x5eda73cd, 0x5edae0cb, 0x5edb22b3, 0x5edb507f, 0x5edba0a4, 0x5edc52b2,
    0x5edd42b8, 0x5edde2f4, 0x5ede0218, 0x5edfd3d1, 0x5ee01852, 0x5ee02855, 0x5ee17815, 0x5ee17a59,
    0x5ee80953, 0x5ee8098b, 0x5ee80a02, 0x5ee80a75, 0x5ee80aaa, 0x5ee80acb, 0x5ee80afe, 0x5ee80bae,
    0x5ee80bfe, 0x5ee81216, 0x5ee81868, 0x5ee8190b, 0x5ee81930, 0x5ee81999, 0x5ee81ab9, 0x5ee81b1e,
    0x5ee81b25, 0x5ee81b52, 0x5ee81bf8, 0x5ee8281a, 0x5ee82827, 0x5ee8283e, 0x5ee8284c, 0x5ee82870,
    0x5ee828d1, 0x5ee828ff, 0x5ee829a8, 0x5ee82a07, 0x5ee82b7c, 0x5ee82ba5, 0x5ee82bd1, 0x5ee83ad4,
    0x5ee85bd7, 0x5ee86891, 0x5ee87b14, 0x5ee89a6c, 0x5ee89bc8, 0x5ee8a991, 0x5ee8a9f5, 0x5ee8dbbd,
    0x5ee8e898, 0x5ee8e8a1, 0x5ee8e96f, 0x5ee8e9e1, 0x5ee8ebca, 0x5ee91bd1, 0x5ee92a02, 0x5ee94836,
    0x5ee94b60, 0x5ee95be0, 0x5ee95be7, 0x5ee96932, 0x5ee97826, 0x5ee989c4, 0x5ee99858, 0x5ee9aa6f,
    0x5ee9c9e2, 0x5ee9cac3, 0x5ee9d839, 0x5ee9d86a, 0x5ee9f932, 0x5f037282, 0x5f098375, 0x5f0d53be,
    0x5f1550de, 0x5f1b638e, 0x5f1bc332, 0x5f1d003a, 0x5f280b30, 0x5f28193d, 0x5f281a3b, 0x5f281be4,
    0x5f282844, 0x5f282a25, 0x5f282a44, 0x5f2909ea, 0x5f4d5017, 0x5fe80a97, 0x5fe81851, 0x6e285b65,
    0x6e28692c, 0x6e286b6e, 0x6e287930, 0x6e299a09, 0x6e29aaef, 0x6e29abbd, 0x6e691a20, 0x6ee828b1,
    0x6ee87883, 0x7e05501e, 0x7e0c1127, 0x7e0c12fc, 0x7e1461cf, 0x7e157179, 0x7e17124a, 0x7e1d31a9,
    0x7e1d61bf, 0x7e1fe3d2, 0x7e2809c0, 0x7e2819f3, 0x7e281a70, 0x7e282892, 0x7e28292e, 0x7e285a92,
    0x7e28d840, 0x7e29788b, 0x7e684be7, 0x7e68e88d, 0x7e699866, 0xce285bb5, 0xce286a4b, 0xce286a7c,
    0xce286ac8, 0xce28788c, 0xce294896, 0xce29b88a, 0xcea9dacd, 0xcee898f3, 0xcee968b5, 0xcee97b51,
    0xde077091, 0xde09a021, 0xde1431f9, 0xde181054, 0xde1b312b, 0xde1fc388, 0xde28080f, 0xde2819e6,
    0xde281a54, 0xde281aa0, 0xde2829b6, 0xde282a1d, 0xde282b11, 0xde284adf, 0xde2859f0, 0xde286b68,
    0xde289bb5, 0xde296b66, 0xde297981, 0xde298b79, 0xde695838, 0xde842373,
];

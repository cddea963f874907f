//! The Cryptographic Extension's AES, SHA1 and SHA256 instructions
//! (FEAT_AES, FEAT_SHA1, FEAT_SHA256; PMULL is FEAT_PMULL, elsewhere):
//! decoding ([`decode`]) and execution ([`execute`]), written from the
//! Arm ARM pseudocode (`AESSubBytes`, `AESShiftRows`, `AESMixColumns`,
//! `SHA256hash`, ...). All of them work on whole 128-bit registers, so an
//! instruction decodes to one [`Crypto`] and runs without allocation.
//!
//! Encodings (everything else in these slots is unallocated):
//!
//! * AES: `01001110 00 10100 opcode(5) 10 Rn Rd`, opcode 00100 AESE,
//!   00101 AESD, 00110 AESMC, 00111 AESIMC.
//! * SHA three-register: `01011110 00 0 Rm 0 opcode(3) 00 Rn Rd`, opcode
//!   000 SHA1C, 001 SHA1P, 010 SHA1M, 011 SHA1SU0, 100 SHA256H,
//!   101 SHA256H2, 110 SHA256SU1.
//! * SHA two-register: `01011110 00 10100 opcode(5) 10 Rn Rd`, opcode
//!   00000 SHA1H, 00001 SHA1SU1, 00010 SHA256SU0.

use super::FpInsn;
use crate::translate::interp::Cpu;

/// A crypto operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CryptoOp {
    /// AES single round encryption (AddRoundKey, ShiftRows, SubBytes).
    Aese,
    /// AES single round decryption (AddRoundKey, InvShiftRows, InvSubBytes).
    Aesd,
    /// AES MixColumns.
    Aesmc,
    /// AES InvMixColumns.
    Aesimc,
    /// SHA1 hash update (choose).
    Sha1c,
    /// SHA1 hash update (parity).
    Sha1p,
    /// SHA1 hash update (majority).
    Sha1m,
    /// SHA1 schedule update 0.
    Sha1su0,
    /// SHA1 fixed rotate.
    Sha1h,
    /// SHA1 schedule update 1.
    Sha1su1,
    /// SHA256 hash update (part 1).
    Sha256h,
    /// SHA256 hash update (part 2).
    Sha256h2,
    /// SHA256 schedule update 0.
    Sha256su0,
    /// SHA256 schedule update 1.
    Sha256su1,
}

/// A decoded crypto instruction; `rm` is 0 for the two-register forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crypto {
    /// The operation.
    pub op: CryptoOp,
    /// Destination (and first source).
    pub rd: u8,
    /// Second source.
    pub rn: u8,
    /// Third source (three-register forms).
    pub rm: u8,
}

/// Decode a word of the AES or SHA slots; `None` for any other word
/// (including the unallocated opcodes of these slots).
#[inline]
pub fn decode(w: u32) -> Option<FpInsn> {
    let rd = (w & 31) as u8;
    let rn = ((w >> 5) & 31) as u8;
    let op = if w & 0xffff_cc00 == 0x4e28_4800 {
        match (w >> 12) & 3 {
            0 => CryptoOp::Aese,
            1 => CryptoOp::Aesd,
            2 => CryptoOp::Aesmc,
            _ => CryptoOp::Aesimc,
        }
    } else if w & 0xffe0_8c00 == 0x5e00_0000 {
        let op = match (w >> 12) & 7 {
            0 => CryptoOp::Sha1c,
            1 => CryptoOp::Sha1p,
            2 => CryptoOp::Sha1m,
            3 => CryptoOp::Sha1su0,
            4 => CryptoOp::Sha256h,
            5 => CryptoOp::Sha256h2,
            6 => CryptoOp::Sha256su1,
            _ => return None,
        };
        let rm = ((w >> 16) & 31) as u8;
        return Some(FpInsn::Crypto(Crypto { op, rd, rn, rm }));
    } else if w & 0xfffe_0c00 == 0x5e28_0800 {
        match (w >> 12) & 31 {
            0 => CryptoOp::Sha1h,
            1 => CryptoOp::Sha1su1,
            2 => CryptoOp::Sha256su0,
            _ => return None,
        }
    } else {
        return None;
    };
    Some(FpInsn::Crypto(Crypto { op, rd, rn, rm: 0 }))
}

/// The AES S-box (FIPS-197, figure 7).
const SBOX: [u8; 256] = {
    let mut s = [0u8; 256];
    // Generated from the definition: multiplicative inverse in GF(2^8)
    // followed by the affine map, so no table is copied by hand.
    let mut i = 0;
    while i < 256 {
        let inv = gf_inv(i as u8);
        let mut x = inv;
        let mut r = inv;
        let mut k = 0;
        while k < 4 {
            x = x.rotate_left(1);
            r ^= x;
            k += 1;
        }
        s[i] = r ^ 0x63;
        i += 1;
    }
    s
};

/// The inverse S-box.
const INV_SBOX: [u8; 256] = {
    let mut s = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        s[SBOX[i] as usize] = i as u8;
        i += 1;
    }
    s
};

/// Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1.
const fn gf_mul(mut a: u8, mut b: u8) -> u8 {
    let mut p = 0u8;
    while b != 0 {
        if b & 1 != 0 {
            p ^= a;
        }
        let hi = a & 0x80;
        a <<= 1;
        if hi != 0 {
            a ^= 0x1b;
        }
        b >>= 1;
    }
    p
}

/// Multiplicative inverse (0 maps to 0): a^254.
const fn gf_inv(a: u8) -> u8 {
    let mut r = 1u8;
    let mut k = 0;
    while k < 254 {
        r = gf_mul(r, a);
        k += 1;
    }
    r
}

/// Bytes of a register, byte i = bits 8i+7:8i (the AES state in column
/// order: state[r][c] = byte[r + 4c]).
#[inline]
fn bytes(v: u128) -> [u8; 16] {
    v.to_le_bytes()
}

fn shift_rows(s: [u8; 16], inverse: bool) -> [u8; 16] {
    let mut o = [0u8; 16];
    for c in 0..4 {
        for r in 0..4 {
            let src = r + 4 * ((c + r) % 4);
            if inverse {
                o[src] = s[r + 4 * c];
            } else {
                o[r + 4 * c] = s[src];
            }
        }
    }
    o
}

fn mix_columns(s: [u8; 16], inverse: bool) -> [u8; 16] {
    let m: [u8; 4] = if inverse {
        [0x0e, 0x0b, 0x0d, 0x09]
    } else {
        [0x02, 0x03, 0x01, 0x01]
    };
    let mut o = [0u8; 16];
    for c in 0..4 {
        for r in 0..4 {
            let mut acc = 0u8;
            for k in 0..4 {
                acc ^= gf_mul(m[(k + 4 - r) % 4], s[k + 4 * c]);
            }
            o[r + 4 * c] = acc;
        }
    }
    o
}

#[inline]
fn lane(v: u128, e: u32) -> u32 {
    (v >> (32 * e)) as u32
}

#[inline]
fn with_lane(v: u128, e: u32, x: u32) -> u128 {
    (v & !(u128::from(u32::MAX) << (32 * e))) | (u128::from(x) << (32 * e))
}

/// `SHA1C/SHA1P/SHA1M`: four rounds on X (a..d in lanes 0..3) and Y (e).
fn sha1_rounds(mut x: u128, mut y: u32, w: u128, f: fn(u32, u32, u32) -> u32) -> u128 {
    for e in 0..4 {
        let t = f(lane(x, 1), lane(x, 2), lane(x, 3));
        y = y
            .wrapping_add(lane(x, 0).rotate_left(5))
            .wrapping_add(t)
            .wrapping_add(lane(w, e));
        x = with_lane(x, 1, lane(x, 1).rotate_left(30));
        // <Y, X> = ROL(Y : X, 32)
        let top = lane(x, 3);
        x = (x << 32) | u128::from(y);
        y = top;
    }
    x
}

/// `SHA256hash(X, Y, W, part1)`.
fn sha256_hash(mut x: u128, mut y: u128, w: u128, part1: bool) -> u128 {
    for e in 0..4 {
        let (y0, y1, y2, y3) = (lane(y, 0), lane(y, 1), lane(y, 2), lane(y, 3));
        let (x0, x1, x2) = (lane(x, 0), lane(x, 1), lane(x, 2));
        let chs = ((y1 ^ y2) & y0) ^ y2;
        let maj = (x0 & x1) | ((x0 | x1) & x2);
        let sigma1 = y0.rotate_right(6) ^ y0.rotate_right(11) ^ y0.rotate_right(25);
        let sigma0 = x0.rotate_right(2) ^ x0.rotate_right(13) ^ x0.rotate_right(22);
        let t1 = y3
            .wrapping_add(sigma1)
            .wrapping_add(chs)
            .wrapping_add(lane(w, e));
        x = with_lane(x, 3, t1.wrapping_add(lane(x, 3)));
        y = with_lane(y, 3, t1.wrapping_add(sigma0).wrapping_add(maj));
        // <Y, X> = ROL(Y : X, 32)
        let (xt, yt) = (x >> 96, y >> 96);
        x = (x << 32) | yt;
        y = (y << 32) | xt;
    }
    if part1 {
        x
    } else {
        y
    }
}

/// Execute a crypto instruction (the caller has done the CPACR check).
pub fn execute(cpu: &mut Cpu, c: &Crypto) {
    let d = cpu.v(c.rd);
    let n = cpu.v(c.rn);
    let m = cpu.v(c.rm);
    let r = match c.op {
        CryptoOp::Aese | CryptoOp::Aesd => {
            let inv = c.op == CryptoOp::Aesd;
            let s = shift_rows(bytes(d ^ n), inv);
            let table = if inv { &INV_SBOX } else { &SBOX };
            u128::from_le_bytes(s.map(|b| table[usize::from(b)]))
        }
        CryptoOp::Aesmc => u128::from_le_bytes(mix_columns(bytes(n), false)),
        CryptoOp::Aesimc => u128::from_le_bytes(mix_columns(bytes(n), true)),
        CryptoOp::Sha1c => sha1_rounds(d, n as u32, m, |x, y, z| ((y ^ z) & x) ^ z),
        CryptoOp::Sha1p => sha1_rounds(d, n as u32, m, |x, y, z| x ^ y ^ z),
        CryptoOp::Sha1m => sha1_rounds(d, n as u32, m, |x, y, z| (x & y) | ((x | y) & z)),
        CryptoOp::Sha1su0 => {
            let t = (n << 64) | (d >> 64);
            t ^ d ^ m
        }
        CryptoOp::Sha1h => u128::from((n as u32).rotate_left(30)),
        CryptoOp::Sha1su1 => {
            let t = d ^ (n >> 32);
            let mut r = 0u128;
            for e in 0..4 {
                r = with_lane(r, e, lane(t, e).rotate_left(1));
            }
            with_lane(r, 3, lane(r, 3) ^ lane(t, 0).rotate_left(2))
        }
        CryptoOp::Sha256h => sha256_hash(d, n, m, true),
        CryptoOp::Sha256h2 => sha256_hash(n, d, m, false),
        CryptoOp::Sha256su0 => {
            let t = (n << 96) | (d >> 32);
            let mut r = 0u128;
            for e in 0..4 {
                let x = lane(t, e);
                let s0 = x.rotate_right(7) ^ x.rotate_right(18) ^ (x >> 3);
                r = with_lane(r, e, s0.wrapping_add(lane(d, e)));
            }
            r
        }
        CryptoOp::Sha256su1 => {
            let t0 = (m << 96) | (n >> 32);
            let mut r = 0u128;
            for e in 0..4 {
                // Lanes 2 and 3 use the lanes 0 and 1 just computed.
                let x = if e < 2 {
                    lane(m, e + 2)
                } else {
                    lane(r, e - 2)
                };
                let s1 = x.rotate_right(17) ^ x.rotate_right(19) ^ (x >> 10);
                let v = s1.wrapping_add(lane(d, e)).wrapping_add(lane(t0, e));
                r = with_lane(r, e, v);
            }
            r
        }
    };
    cpu.set_v(c.rd, r);
}

#[cfg(test)]
#[path = "crypto_tests.rs"]
mod tests;

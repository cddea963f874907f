//! FEAT_CRC32 arithmetic: CRC32B/H/W/X (polynomial 0x04C11DB7) and
//! CRC32CB/H/W/X (Castagnoli, 0x1EDC6F41), bit-reflected as the Arm ARM's
//! `CRC32` pseudocode (`BitReverse`, `Poly32Mod2`) defines them.
//!
//! Table-driven: one 256-entry table per polynomial, built at compile time,
//! so CRC32X costs eight lookups instead of 64 shift/xor steps.

/// The reflected CRC-32 polynomial (0x04C11DB7 bit-reversed).
const POLY: u32 = 0xedb8_8320;
/// The reflected CRC-32C polynomial (0x1EDC6F41 bit-reversed).
const POLY_C: u32 = 0x82f6_3b78;

const fn table(poly: u32) -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ poly } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static TABLE: [u32; 256] = table(POLY);
static TABLE_C: [u32; 256] = table(POLY_C);

/// The CRC of the low `bytes` bytes of `val` (little-endian order)
/// continued from `acc`: the result register of `CRC32<sz>` / `CRC32C<sz>`.
#[inline]
pub fn crc32(acc: u32, val: u64, bytes: u32, castagnoli: bool) -> u32 {
    let t = if castagnoli { &TABLE_C } else { &TABLE };
    let mut crc = acc;
    for i in 0..bytes.min(8) {
        let b = (val >> (8 * i)) as u8;
        crc = (crc >> 8) ^ t[usize::from(crc as u8 ^ b)];
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::crc32;
    use crate::translate::decode::{decode, Dp2, Insn};

    /// Every CRC32 form on random operands against QEMU, through the
    /// decoder (which picks the size and polynomial from the word).
    #[test]
    fn crc32_matches_qemu() {
        for &(text, w, x1, x2, x0) in QEMU_CRC {
            let Insn::Dp2 {
                op:
                    Dp2::Crc32 {
                        size_log2,
                        castagnoli,
                    },
                rd: 0,
                rn: 1,
                rm: 2,
                ..
            } = decode(w)
            else {
                panic!("{text}: {:?}", decode(w));
            };
            let got = crc32(x1 as u32, x2, 1 << size_log2, castagnoli);
            assert_eq!(u64::from(got), x0, "{text}");
        }
    }

    /// The standard check values: CRC-32("123456789") = 0xCBF43926 and
    /// CRC-32C("123456789") = 0xE3069283 (init and final XOR all ones).
    #[test]
    fn check_values() {
        let msg = b"123456789";
        for (c, want) in [(false, 0xcbf4_3926u32), (true, 0xe306_9283)] {
            let crc = msg.iter().fold(!0u32, |a, &b| crc32(a, u64::from(b), 1, c));
            assert_eq!(!crc, want);
        }
    }

    /// (assembly, word, X1, X2, X0 after) recorded from qemu-aarch64 -cpu max.
    const QEMU_CRC: &[(&str, u32, u64, u64, u64)] = &[
        (
            "crc32b w0, w1, w2",
            0x1ac24020,
            0x61790134676b1b69,
            0x9974d75b333824fe,
            0x6e0c6dfc,
        ),
        (
            "crc32b w0, w1, w2",
            0x1ac24020,
            0x3af27f802dc5fd3d,
            0x221c4e003f9931ee,
            0x1ff74693,
        ),
        (
            "crc32b w0, w1, w2",
            0x1ac24020,
            0x162a01dec28753f8,
            0xbaa1c6f1404b6eaf,
            0xf5cd4304,
        ),
        (
            "crc32b w0, w1, w2",
            0x1ac24020,
            0x87e355b26210b784,
            0xb35331ceaf2ed9dd,
            0x12d5f9e7,
        ),
        (
            "crc32b w0, w1, w2",
            0x1ac24020,
            0x16ff82e389e3995a,
            0x9fb932d4f0397722,
            0x5e571a97,
        ),
        (
            "crc32h w0, w1, w2",
            0x1ac24420,
            0x331057ca7d411fab,
            0xb8e3c71f6bf08d62,
            0x439e32e,
        ),
        (
            "crc32h w0, w1, w2",
            0x1ac24420,
            0x96a1da2c9cfbba43,
            0xcae8c077377925b3,
            0x740cf393,
        ),
        (
            "crc32h w0, w1, w2",
            0x1ac24420,
            0xc9cf158de6e96d45,
            0xd283eb3a5fbd238e,
            0xb96a84fb,
        ),
        (
            "crc32h w0, w1, w2",
            0x1ac24420,
            0xdc8ac0bb635b4c41,
            0x366c5acdaeafb905,
            0x59c2efc9,
        ),
        (
            "crc32h w0, w1, w2",
            0x1ac24420,
            0x7623c4dd26fb984f,
            0x2dd301c8a91afa5c,
            0xc253671d,
        ),
        (
            "crc32w w0, w1, w2",
            0x1ac24820,
            0x91215785d9977338,
            0x153d3a3f56bc09cb,
            0xc6c23717,
        ),
        (
            "crc32w w0, w1, w2",
            0x1ac24820,
            0xb7785728f2655b19,
            0xad689cf88759f153,
            0x73da9ca3,
        ),
        (
            "crc32w w0, w1, w2",
            0x1ac24820,
            0x167a34d0c643e653,
            0x50fe32817812f170,
            0x249747bb,
        ),
        (
            "crc32w w0, w1, w2",
            0x1ac24820,
            0xaeb34f967124890,
            0x8ed5f03644f758cd,
            0xa42f02d4,
        ),
        (
            "crc32w w0, w1, w2",
            0x1ac24820,
            0x6cda4ccb01f35efe,
            0x5ccedc773429e79c,
            0x76c413a1,
        ),
        (
            "crc32x w0, w1, x2",
            0x9ac24c20,
            0xeee1f220fd547512,
            0x14b062ae88c88ad1,
            0x2571b8de,
        ),
        (
            "crc32x w0, w1, x2",
            0x9ac24c20,
            0x84c69290764b5018,
            0x32b55d35e67646f1,
            0x3871ad0,
        ),
        (
            "crc32x w0, w1, x2",
            0x9ac24c20,
            0x767389669b02a56d,
            0xd2329d9fa09ca46,
            0xbbaf6c92,
        ),
        (
            "crc32x w0, w1, x2",
            0x9ac24c20,
            0x210f4d0c5b86c0ef,
            0xf3d2273a37403227,
            0xf4ff5c0c,
        ),
        (
            "crc32x w0, w1, x2",
            0x9ac24c20,
            0xb713b4c7ebb7344d,
            0xbf5cb443292af8f3,
            0xfcca9216,
        ),
        (
            "crc32cb w0, w1, w2",
            0x1ac25020,
            0x71143591cab5f7c4,
            0xecc2c55e986d4842,
            0xa49d6967,
        ),
        (
            "crc32cb w0, w1, w2",
            0x1ac25020,
            0x2d78dc4bfb9e8dda,
            0x80d16aaff1a41fe5,
            0x6e0beb18,
        ),
        (
            "crc32cb w0, w1, w2",
            0x1ac25020,
            0x2d0fd6d9a90965f5,
            0x1c1b5b32097ce80c,
            0x8b75bddc,
        ),
        (
            "crc32cb w0, w1, w2",
            0x1ac25020,
            0x2bd2ed1c05f73dba,
            0xaf11c1e779462a34,
            0x2e8b7362,
        ),
        (
            "crc32cb w0, w1, w2",
            0x1ac25020,
            0x6b451936d1d5c42f,
            0xefca6c3a14c6e95e,
            0x832202ca,
        ),
        (
            "crc32ch w0, w1, w2",
            0x1ac25420,
            0xa1cbb7236ce8571b,
            0x2495da1716055583,
            0xb829d4df,
        ),
        (
            "crc32ch w0, w1, w2",
            0x1ac25420,
            0x9e0d54254f4f81b0,
            0x618d3f430173745f,
            0x5ab9e124,
        ),
        (
            "crc32ch w0, w1, w2",
            0x1ac25420,
            0x22c4d84f5467115b,
            0x67c3b9fe85fdadc4,
            0xdc29e8fb,
        ),
        (
            "crc32ch w0, w1, w2",
            0x1ac25420,
            0xe664718333674334,
            0xf94cf6b0c986fa9f,
            0xe71ce8b8,
        ),
        (
            "crc32ch w0, w1, w2",
            0x1ac25420,
            0xa3f3760f0e2eb028,
            0x7166a9f536209dbc,
            0x1519a687,
        ),
        (
            "crc32cw w0, w1, w2",
            0x1ac25820,
            0x8ba3fb8041f089dc,
            0xd33bf8206770fa78,
            0xbfd5b9bc,
        ),
        (
            "crc32cw w0, w1, w2",
            0x1ac25820,
            0x20588857c3881083,
            0xf0fc795a5a9331f6,
            0xba9b50b,
        ),
        (
            "crc32cw w0, w1, w2",
            0x1ac25820,
            0x79e48824b1eb72c8,
            0xe4a1175ec154269,
            0x976adb66,
        ),
        (
            "crc32cw w0, w1, w2",
            0x1ac25820,
            0xbd11e14f21846d9e,
            0xb7e6ace5dd2a7afe,
            0xb66f795b,
        ),
        (
            "crc32cw w0, w1, w2",
            0x1ac25820,
            0xc768beaf9983d819,
            0x26833ccabf49e557,
            0xb31606d1,
        ),
        (
            "crc32cx w0, w1, x2",
            0x9ac25c20,
            0xf0f404719ba8272c,
            0x1fd6833568865042,
            0xcc71b0d6,
        ),
        (
            "crc32cx w0, w1, x2",
            0x9ac25c20,
            0x1e64176618b3205e,
            0x4bc4f0a024c70f48,
            0xdbacd36c,
        ),
        (
            "crc32cx w0, w1, x2",
            0x9ac25c20,
            0xfdba24d02c941da5,
            0x68ed8a232d7a2d12,
            0x59da3499,
        ),
        (
            "crc32cx w0, w1, x2",
            0x9ac25c20,
            0xec9409ff25403cfd,
            0xe163e7ce3523eb0d,
            0x2eafbc98,
        ),
        (
            "crc32cx w0, w1, x2",
            0x9ac25c20,
            0x51b0f6188f9b7341,
            0x7fc73719c543e396,
            0x7f48d8ca,
        ),
    ];
}

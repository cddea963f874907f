//! `cargo xtask decode-coverage`: every word of the code of Debian's arm64
//! kernel and of busybox, decoded by hv's decoder and by LLVM's
//! disassembler; the words LLVM decodes and hv calls undefined are
//! counted, by mnemonic and by architecture feature.
//!
//! Each word goes through LLVM twice (rustup's `llvm-objdump`, on an ELF
//! `llvm-objcopy` wraps the bytes in): once with every feature
//! (`--mattr=+all`), once with only ARMv8.0 and the extensions hv is to
//! implement ([`REQUIRED_MATTR`]). A word LLVM decodes with the restricted
//! set is *required*: hv must decode it (HINT-space words such as PACIASP
//! come out as `hint #25` there, since they execute as NOPs on CPUs without
//! the feature). A word LLVM decodes only with every feature is an
//! *extension* word. [`feature_of`] names the feature of a mnemonic; where
//! LLVM's two runs disagree with it, the report says so.

use crate::image::{cargo, workspace_root};
use crate::prereq;
use std::collections::{BTreeMap, HashSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// ARMv8.0 (with FP and Advanced SIMD) and the extensions hv implements or
/// is to implement and advertise (issue 11): CRC32, LSE, AES (with the
/// 64-bit PMULL), SHA1 and SHA256 (LLVM's `sha2`).
pub const REQUIRED_MATTR: &str = "+v8a,+fp-armv8,+neon,+crc,+lse,+aes,+sha2";

/// The arm64 kernel aligns the end of its text (`_etext`) to 64 KiB.
const SEGMENT: usize = 0x1_0000;

/// An architecture feature, as the report groups words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Feature {
    /// ARMv8.0-A with FP and Advanced SIMD.
    Base,
    Crc32,
    Lse,
    /// AES and the 64-bit PMULL (FEAT_AES, FEAT_PMULL).
    Aes,
    Sha1,
    Sha256,
    // Not advertised by hv:
    Pan,
    Uao,
    Dit,
    Ssbs,
    PAuth,
    Bti,
    /// LDAPR (FEAT_LRCPC).
    Rcpc,
    /// LDAPUR/STLUR (FEAT_LRCPC2).
    Rcpc2,
    Lor,
    Sb,
    Rdm,
    FlagM,
    Jscvt,
    Fcma,
    DotProd,
    FrintTs,
    Sha3,
    Sha512,
    Sm,
    I8mm,
    Bf16,
    Mte,
    Ras,
    Spe,
    Wfxt,
    /// System operations only EL2 or EL3 may execute (`tlbi alle2`, `tlbi
    /// ipas2e1is`, `at s12e1r`, ...): UNDEFINED at EL1, where hv-sim's
    /// guests run (the kernel carries them for KVM at EL2).
    El2Sys,
    /// TLBI by address range (`tlbi rvae1is`, ...; ARMv8.4).
    TlbiRange,
    /// DC CVAP (ARMv8.2).
    Dpb,
    /// DC CVADP (ARMv8.5).
    Dpb2,
    /// CPY*/SET* memory copy and set (FEAT_MOPS).
    Mops,
    /// Recognised by its Z/P register operands.
    Sve,
    /// Recognised by ZA operands or SMSTART/SMSTOP.
    Sme,
}

impl Feature {
    /// Whether hv is to decode words of this feature (ARMv8.0 and the
    /// extensions of [`REQUIRED_MATTR`]).
    pub fn required(self) -> bool {
        matches!(
            self,
            Feature::Base
                | Feature::Crc32
                | Feature::Lse
                | Feature::Aes
                | Feature::Sha1
                | Feature::Sha256
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Feature::Base => "ARMv8.0",
            Feature::Crc32 => "CRC32",
            Feature::Lse => "LSE",
            Feature::Aes => "AES/PMULL",
            Feature::Sha1 => "SHA1",
            Feature::Sha256 => "SHA256",
            Feature::Pan => "PAN",
            Feature::Uao => "UAO",
            Feature::Dit => "DIT",
            Feature::Ssbs => "SSBS",
            Feature::PAuth => "PAuth",
            Feature::Bti => "BTI",
            Feature::Rcpc => "LRCPC",
            Feature::Rcpc2 => "LRCPC2",
            Feature::Lor => "LOR",
            Feature::Sb => "SB",
            Feature::Rdm => "RDM",
            Feature::FlagM => "FlagM",
            Feature::Jscvt => "JSCVT",
            Feature::Fcma => "FCMA",
            Feature::DotProd => "DotProd",
            Feature::FrintTs => "FRINTTS",
            Feature::Sha3 => "SHA3",
            Feature::Sha512 => "SHA512",
            Feature::Sm => "SM3/SM4",
            Feature::I8mm => "I8MM",
            Feature::Bf16 => "BF16",
            Feature::Mte => "MTE",
            Feature::Ras => "RAS",
            Feature::Spe => "SPE",
            Feature::Wfxt => "WFxT",
            Feature::El2Sys => "EL2/EL3 system op",
            Feature::TlbiRange => "TLBIRANGE",
            Feature::Dpb => "DPB",
            Feature::Dpb2 => "DPB2",
            Feature::Mops => "MOPS",
            Feature::Sve => "SVE",
            Feature::Sme => "SME",
        }
    }
}

/// The extension mnemonics (LLVM's spelling, `--mattr=+all`). A mnemonic
/// not here is taken as ARMv8.0; the restricted LLVM run checks that on
/// every word (see [`classify`]). Checked by hand with Debian's `llvm-mc`
/// 14 (`--disassemble -triple=aarch64`): one word per feature decodes with
/// `-mattr=+v8a,+fp-armv8,+neon,+FEATURE` and not without it (+lse casa,
/// stadd; +crc crc32b; +aes aese, pmull .1q; +sha2 sha1h, sha256su0;
/// +pauth pacia; +rcpc ldaprb; +rcpc-immo ldapurb; +lor ldlarb; +mte ldg,
/// irg; +rdm sqrdmlah; +dotprod udot; +jsconv fjcvtzs; +complxnum fcmla;
/// +fptoint frint32z; +sha3 eor3, sha512h; +sve rdvl, cntb; +mops cpyfp),
/// or decodes without it only as `hint #n` (+pauth paciasp, +bti bti, +ras
/// esb, +spe psb) or as LLVM's generic `msr S0_...` of the unallocated
/// MSR (immediate) space (+sb sb, +pan msr PAN, +ssbs msr SSBS, +dit msr
/// DIT, +flagm cfinv, +wfxt wfet).
const TABLE: &[(Feature, &[&str])] = &[
    (
        Feature::Crc32,
        &[
            "crc32b", "crc32h", "crc32w", "crc32x", "crc32cb", "crc32ch", "crc32cw", "crc32cx",
        ],
    ),
    (Feature::Aes, &["aese", "aesd", "aesmc", "aesimc"]),
    (
        Feature::Sha1,
        &["sha1c", "sha1p", "sha1m", "sha1h", "sha1su0", "sha1su1"],
    ),
    (
        Feature::Sha256,
        &["sha256h", "sha256h2", "sha256su0", "sha256su1"],
    ),
    (
        Feature::PAuth,
        &[
            "paciasp",
            "pacibsp",
            "autiasp",
            "autibsp",
            "paciaz",
            "pacibz",
            "autiaz",
            "autibz",
            "pacia1716",
            "pacib1716",
            "autia1716",
            "autib1716",
            "xpaclri",
            "pacia",
            "pacib",
            "pacda",
            "pacdb",
            "autia",
            "autib",
            "autda",
            "autdb",
            "paciza",
            "pacizb",
            "pacdza",
            "pacdzb",
            "autiza",
            "autizb",
            "autdza",
            "autdzb",
            "xpaci",
            "xpacd",
            "pacga",
            "braa",
            "brab",
            "blraa",
            "blrab",
            "braaz",
            "brabz",
            "blraaz",
            "blrabz",
            "retaa",
            "retab",
            "eretaa",
            "eretab",
            "ldraa",
            "ldrab",
        ],
    ),
    (Feature::Bti, &["bti"]),
    (Feature::Rcpc, &["ldapr", "ldaprb", "ldaprh"]),
    (
        Feature::Rcpc2,
        &[
            "ldapur", "ldapurb", "ldapurh", "ldapursb", "ldapursh", "ldapursw", "stlur", "stlurb",
            "stlurh",
        ],
    ),
    (
        Feature::Lor,
        &["ldlar", "ldlarb", "ldlarh", "stllr", "stllrb", "stllrh"],
    ),
    (Feature::Sb, &["sb"]),
    (Feature::Rdm, &["sqrdmlah", "sqrdmlsh"]),
    (
        Feature::FlagM,
        &["cfinv", "rmif", "setf8", "setf16", "axflag", "xaflag"],
    ),
    (Feature::Jscvt, &["fjcvtzs"]),
    (Feature::Fcma, &["fcmla", "fcadd"]),
    (Feature::DotProd, &["sdot", "udot"]),
    (
        Feature::FrintTs,
        &["frint32x", "frint32z", "frint64x", "frint64z"],
    ),
    (Feature::Sha3, &["eor3", "bcax", "rax1", "xar"]),
    (
        Feature::Sha512,
        &["sha512h", "sha512h2", "sha512su0", "sha512su1"],
    ),
    (
        Feature::Sm,
        &[
            "sm3ss1",
            "sm3tt1a",
            "sm3tt1b",
            "sm3tt2a",
            "sm3tt2b",
            "sm3partw1",
            "sm3partw2",
            "sm4e",
            "sm4ekey",
        ],
    ),
    (
        Feature::I8mm,
        &["smmla", "ummla", "usmmla", "usdot", "sudot"],
    ),
    (
        Feature::Bf16,
        &[
            "bfdot", "bfmmla", "bfmlalb", "bfmlalt", "bfcvt", "bfcvtn", "bfcvtn2",
        ],
    ),
    (
        Feature::Mte,
        &[
            "irg", "gmi", "subp", "subps", "addg", "subg", "stg", "st2g", "stzg", "stz2g", "stgp",
            "ldg", "ldgm", "stgm", "stzgm",
        ],
    ),
    (Feature::Ras, &["esb"]),
    (Feature::Spe, &["psb"]),
    (Feature::Wfxt, &["wfet", "wfit"]),
    (Feature::Sme, &["smstart", "smstop"]),
    // SVE instructions with no Z or P operand.
    (
        Feature::Sve,
        &[
            "rdvl", "addvl", "addpl", "cntb", "cnth", "cntw", "cntd", "incb", "inch", "incw",
            "incd", "decb", "dech", "decw", "decd", "sqincb", "sqinch", "sqincw", "sqincd",
            "uqincb", "uqinch", "uqincw", "uqincd", "sqdecb", "sqdech", "sqdecw", "sqdecd",
            "uqdecb", "uqdech", "uqdecw", "uqdecd", "setffr",
        ],
    ),
];

/// MOPS: CPYP/CPYM/CPYE, CPYFP/..., SETP/SETM/SETE, SETGP/... and their
/// option suffixes (WN, RN, N, WT, RT, T, ...).
fn is_mops(m: &str) -> bool {
    let rest = ["cpyf", "cpy", "setg", "set"]
        .iter()
        .find_map(|p| m.strip_prefix(p).filter(|r| r.starts_with(['p', 'm', 'e'])));
    rest.is_some_and(|r| {
        r[1..]
            .bytes()
            .all(|b| matches!(b, b'w' | b'r' | b'n' | b't'))
    })
}

/// LSE: CAS, CASP, SWP and the LD<op>/ST<op> atomics with their
/// acquire/release and byte/halfword suffixes.
fn is_lse(m: &str) -> bool {
    const OPS: [&str; 8] = ["add", "clr", "eor", "set", "smax", "smin", "umax", "umin"];
    let strip_size = |s: &'static str, m: &str| -> bool {
        let Some(rest) = m.strip_prefix(s) else {
            return false;
        };
        let rest = rest.strip_suffix(['b', 'h']).unwrap_or(rest);
        matches!(rest, "" | "a" | "al" | "l")
    };
    if let Some(rest) = m.strip_prefix("casp") {
        return matches!(rest, "" | "a" | "al" | "l");
    }
    if strip_size("cas", m) || strip_size("swp", m) {
        return true;
    }
    OPS.iter().any(|op| {
        m.strip_prefix("ld")
            .and_then(|r| r.strip_prefix(op))
            .is_some_and(|r| {
                let r = r.strip_suffix(['b', 'h']).unwrap_or(r);
                matches!(r, "" | "a" | "al" | "l")
            })
            || m.strip_prefix("st")
                .and_then(|r| r.strip_prefix(op))
                .is_some_and(|r| {
                    let r = r.strip_suffix(['b', 'h']).unwrap_or(r);
                    matches!(r, "" | "l")
                })
    })
}

/// Whether an operand list names SVE registers (`z3.d`, `p0/z`, `p1.b`).
fn has_sve_operand(ops: &str) -> bool {
    operand_tokens(ops).any(|t| {
        let mut c = t.chars();
        matches!(c.next(), Some('z' | 'p'))
            && !c.as_str().is_empty()
            && c.as_str().bytes().all(|b| b.is_ascii_digit())
    })
}

/// Whether an operand list names SME's ZA array (`za`, `za0h.s[w12, 0]`).
fn has_za_operand(ops: &str) -> bool {
    operand_tokens(ops).any(|t| {
        t.strip_prefix("za").is_some_and(|r| {
            r.trim_end_matches(['h', 'v'])
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
    })
}

/// The register-like tokens of an operand list, lower case, without
/// arrangement suffixes (`z3.d` -> `z3`).
fn operand_tokens(ops: &str) -> impl Iterator<Item = String> + '_ {
    ops.split([',', ' ', '{', '}', '[', ']', '/'])
        .map(|t| t.split('.').next().unwrap_or("").to_ascii_lowercase())
}

/// The feature of one disassembled instruction (`mnemonic`, then its
/// operands as LLVM prints them).
pub fn feature_of(mnemonic: &str, ops: &str) -> Feature {
    let m = mnemonic.to_ascii_lowercase();
    let first = ops
        .split(',')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if m == "msr" {
        match first.as_str() {
            "pan" => return Feature::Pan,
            "uao" => return Feature::Uao,
            "dit" => return Feature::Dit,
            "ssbs" => return Feature::Ssbs,
            "tco" => return Feature::Mte,
            _ => {}
        }
    }
    // SYS aliases of later extensions: LLVM names them even without the
    // feature; ARMv8.0 has no TLBI operation starting with R and no DC
    // operation CVAP, CVADP or starting with G (the MTE tag operations).
    if m == "tlbi" && first.starts_with('r') {
        return Feature::TlbiRange;
    }
    const EL1_TLBI: &[&str] = &[
        "vmalle1",
        "vmalle1is",
        "vae1",
        "vae1is",
        "aside1",
        "aside1is",
        "vaae1",
        "vaae1is",
        "vale1",
        "vale1is",
        "vaale1",
        "vaale1is",
    ];
    const EL1_AT: &[&str] = &["s1e1r", "s1e1w", "s1e0r", "s1e0w"];
    if (m == "tlbi" && !EL1_TLBI.contains(&first.as_str()))
        || (m == "at" && !EL1_AT.contains(&first.as_str()))
    {
        return Feature::El2Sys;
    }
    if m == "dc" {
        match first.as_str() {
            "cvap" => return Feature::Dpb,
            "cvadp" => return Feature::Dpb2,
            op if op.starts_with('g') || op.starts_with("cg") => return Feature::Mte,
            _ => {}
        }
    }
    if (m == "pmull" || m == "pmull2") && ops.contains(".1q") {
        return Feature::Aes;
    }
    if let Some((f, _)) = TABLE.iter().find(|(_, ms)| ms.contains(&m.as_str())) {
        return *f;
    }
    if is_lse(&m) {
        return Feature::Lse;
    }
    if is_mops(&m) {
        return Feature::Mops;
    }
    if has_za_operand(ops) {
        return Feature::Sme;
    }
    if has_sve_operand(ops) {
        return Feature::Sve;
    }
    Feature::Base
}

/// One line of `llvm-objdump -d --no-show-raw-insn`: the address and the
/// instruction (`None` for `<unknown>`), tabs made spaces, comments and
/// symbol annotations dropped. Other lines give `None`.
pub fn parse_objdump_line(line: &str) -> Option<(u64, Option<String>)> {
    let (addr, rest) = line.split_once(':')?;
    let addr = addr.trim();
    if addr.is_empty() || !addr.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let addr = u64::from_str_radix(addr, 16).ok()?;
    let text = rest.trim();
    if text.is_empty() {
        return None;
    }
    if text.starts_with("<unknown>") {
        return Some((addr, None));
    }
    let text = text.split("//").next().unwrap_or(text);
    let text = match text.find(" <") {
        Some(i) => &text[..i],
        None => text,
    };
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    Some((addr, Some(text)))
}

/// One line of binutils' `objdump -b binary -m aarch64 -D -z`: the
/// address and the instruction (`None` for `.inst 0x... ; undefined`).
pub fn parse_binutils_line(line: &str) -> Option<(u64, Option<String>)> {
    let (addr, rest) = line.split_once(':')?;
    let addr = addr.trim();
    if addr.is_empty() || !addr.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let addr = u64::from_str_radix(addr, 16).ok()?;
    let rest = rest.trim_start();
    let (word, text) = rest.split_once(char::is_whitespace)?;
    if word.len() != 8 || !word.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let text = text.trim();
    if text.starts_with(".inst") && text.ends_with("undefined") {
        return Some((addr, None));
    }
    let text = text.split("//").next().unwrap_or(text);
    let text = text.split(" <").next().unwrap_or(text);
    Some((
        addr,
        Some(text.split_whitespace().collect::<Vec<_>>().join(" ")),
    ))
}

/// Mnemonic and operands of a parsed instruction.
fn split_insn(text: &str) -> (&str, &str) {
    text.split_once(' ').unwrap_or((text, ""))
}

/// `_text` and `_etext` from a System.map (`None` for Debian's
/// placeholder, which holds no symbols).
pub fn parse_system_map(map: &str) -> Option<(u64, u64)> {
    let mut text = None;
    let mut etext = None;
    for line in map.lines() {
        let mut f = line.split_whitespace();
        let (Some(addr), Some(_), Some(name)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let slot = match name {
            "_text" => &mut text,
            "_etext" => &mut etext,
            _ => continue,
        };
        *slot = u64::from_str_radix(addr, 16).ok();
    }
    match (text, etext) {
        (Some(t), Some(e)) if e > t => Some((t, e)),
        _ => None,
    }
}

/// BaseOfCode of the PE/COFF header an EFI-stub arm64 Image carries: the
/// offset of `_stext` (the end of the header page).
pub fn pe_base_of_code(image: &[u8]) -> Option<usize> {
    let u32_at = |o: usize| -> Option<u32> {
        Some(u32::from_le_bytes(image.get(o..o + 4)?.try_into().ok()?))
    };
    let pe = u32_at(0x3c)? as usize;
    if image.get(pe..pe + 4)? != b"PE\0\0" {
        return None;
    }
    // Optional header at pe + 24; BaseOfCode at +20 in PE32+.
    let base = u32_at(pe + 24 + 20)? as usize;
    (base > 0 && base < image.len()).then_some(base)
}

/// Where the kernel's text ends, from the words LLVM cannot decode per
/// 64 KiB segment (`unknown[i]` of `total[i]` words in segment i, counted
/// from a 64 KiB-aligned start): the start of the first segment in which
/// at least 10% are undecodable. The kernel's text decodes to well under
/// 1% (padding is `udf #0`), the read-only data after `_etext` to 40%.
pub fn estimate_text_end(unknown: &[usize], total: &[usize]) -> usize {
    unknown
        .iter()
        .zip(total)
        .position(|(&u, &t)| t > 0 && u * 10 >= t)
        .unwrap_or(total.len())
}

/// Which code this word belongs to, as the report groups it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// ARMv8.0 or an advertised extension: hv must decode it.
    Required,
    /// UDF: permanently undefined; Undefined is hv's right answer.
    Udf,
    /// An extension hv does not advertise.
    Extension,
}

/// The group and feature of a word: `restricted` is LLVM's text with
/// [`REQUIRED_MATTR`] (`None`: it did not decode), `all` its text with
/// every feature. The last value says the feature table and LLVM disagree.
pub fn classify(restricted: Option<&str>, all: &str) -> (Group, Feature, bool) {
    let (m, ops) = split_insn(all);
    let feature = feature_of(m, ops);
    if m == "udf" {
        return (Group::Udf, Feature::Base, false);
    }
    // LLVM prints the unallocated MSR (immediate) space (op0 = 0, e.g.
    // MSR PAN without +pan) as a generic `msr S0_...`: that is no ARMv8.0
    // instruction.
    match restricted.filter(|r| !r.contains("S0_")) {
        // LLVM names the SYS aliases of later extensions and of EL2/EL3
        // even without the feature (`tlbi rvae1is`, `dc cvap`, `tlbi
        // alle2`): [`feature_of`] decides for those.
        Some(_) if matches!(m, "tlbi" | "dc" | "at") && feature != Feature::Base => {
            (Group::Extension, feature, false)
        }
        Some(r) => {
            let hint = split_insn(r).0 == "hint";
            (Group::Required, feature, !feature.required() && !hint)
        }
        None => (Group::Extension, feature, feature.required()),
    }
}

/// One input: a name and its code bytes.
struct Code {
    name: &'static str,
    bytes: Vec<u8>,
    /// How the range was found.
    range: String,
}

/// Counts of one group or feature.
#[derive(Default)]
struct Tally {
    words: usize,
    undefined: usize,
    /// mnemonic -> (undefined words, examples (word, text))
    by_mnemonic: BTreeMap<String, (usize, Vec<(u32, String)>)>,
}

impl Tally {
    fn add(&mut self, undefined: bool, mnemonic: &str, word: u32, text: &str) {
        self.words += 1;
        if !undefined {
            return;
        }
        self.undefined += 1;
        let e = self.by_mnemonic.entry(mnemonic.to_string()).or_default();
        e.0 += 1;
        if e.1.len() < 2 && !e.1.iter().any(|(w, _)| *w == word) {
            e.1.push((word, text.to_string()));
        }
    }
}

/// The options of `cargo xtask decode-coverage`.
#[derive(clap::Args, Debug)]
pub struct DecodeCoverageArgs {
    /// Also fail when a word of an extension hv does not advertise is
    /// undefined.
    #[arg(long)]
    pub strict: bool,
    /// Mnemonics listed per group.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// An arm64 Image (plain or gzip) instead of Debian's.
    #[arg(long)]
    pub kernel: Option<PathBuf>,
    /// The kernel's System.map, for `_text`/`_etext` (Debian's package
    /// ships a placeholder; without a real one the end of the text is
    /// estimated).
    #[arg(long)]
    pub system_map: Option<PathBuf>,
    /// An AArch64 ELF whose .text is counted instead of Debian's busybox.
    #[arg(long)]
    pub busybox: Option<PathBuf>,
    /// Also disassemble with binutils (aarch64-linux-gnu-objdump) and
    /// report the words where it and LLVM disagree on being instructions.
    #[arg(long)]
    pub binutils: bool,
}

fn work_dir() -> PathBuf {
    workspace_root().join("target/xtask/decode-coverage")
}

/// Offset and size of an ELF64 little-endian section by name.
pub fn elf_section(elf: &[u8], want: &str) -> Option<(usize, usize)> {
    let u16_at = |o: usize| Some(u16::from_le_bytes(elf.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(elf.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(elf.get(o..o + 8)?.try_into().ok()?));
    if elf.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let shoff = u64_at(0x28)? as usize;
    let shentsize = u16_at(0x3a)? as usize;
    let shnum = u16_at(0x3c)? as usize;
    let shstrndx = u16_at(0x3e)? as usize;
    let sh = |i: usize| shoff.checked_add(i.checked_mul(shentsize)?);
    let strtab = u64_at(sh(shstrndx)? + 0x18)? as usize;
    for i in 0..shnum {
        let h = sh(i)?;
        let name_off = strtab.checked_add(u32_at(h)? as usize)?;
        let name = elf.get(name_off..)?.split(|&b| b == 0).next()?;
        if name == want.as_bytes() {
            let off = u64_at(h + 0x18)? as usize;
            let size = u64_at(h + 0x20)? as usize;
            elf.get(off..off.checked_add(size)?)?;
            return Some((off, size));
        }
    }
    None
}

/// Build (once) and locate the hv side: `hv-sim`'s `decode_undefined`
/// example.
fn build_decoder() -> Result<PathBuf, String> {
    let out = Command::new(cargo())
        .current_dir(workspace_root())
        .args([
            "build",
            "--quiet",
            "-p",
            "hv-sim",
            "--example",
            "decode_undefined",
            "--message-format=json",
        ])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cargo: {e}"))?;
    if !out.status.success() {
        return Err("building hv-sim's decode_undefined example failed".into());
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"]["name"] == "decode_undefined")
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| "cargo did not say where decode_undefined is".into())
}

/// The indices of the words hv calls undefined.
fn hv_undefined(decoder: &Path, bin: &Path, words: usize) -> Result<HashSet<usize>, String> {
    let out = Command::new(decoder)
        .arg(bin)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("{}: {e}", decoder.display()))?;
    if !out.status.success() {
        return Err(format!("{} {} failed", decoder.display(), bin.display()));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut set = HashSet::new();
    let mut seen = None;
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("words ") {
            seen = n.parse::<usize>().ok();
        } else {
            set.insert(line.parse::<usize>().map_err(|e| format!("{line}: {e}"))?);
        }
    }
    if seen != Some(words) {
        return Err(format!("decode_undefined read {seen:?} words, not {words}"));
    }
    Ok(set)
}

/// Run llvm-objdump over `elf` and call `each(word index, text)` per
/// word, in order; `text` is `None` where LLVM decodes nothing.
fn objdump(
    objdump: &Path,
    elf: &Path,
    mattr: &str,
    mut each: impl FnMut(usize, Option<String>),
) -> Result<(), String> {
    let mut child = Command::new(objdump)
        .args(["-d", "-z", "--no-show-raw-insn", "--triple=aarch64"])
        .arg(format!("--mattr={mattr}"))
        .arg(elf)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("{}: {e}", objdump.display()))?;
    let stdout = child.stdout.take().ok_or("llvm-objdump: no stdout")?;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("llvm-objdump output: {e}"))?;
        if let Some((addr, text)) = parse_objdump_line(&line) {
            each((addr / 4) as usize, text);
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("llvm-objdump --mattr={mattr} failed"));
    }
    Ok(())
}

/// Write `bytes` as an ELF (one .text section at address 0) for llvm-objdump.
fn to_elf(bytes: &[u8], name: &str) -> Result<PathBuf, String> {
    let dir = work_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let bin = dir.join(format!("{name}.bin"));
    let elf = dir.join(format!("{name}.o"));
    std::fs::write(&bin, bytes).map_err(|e| format!("{}: {e}", bin.display()))?;
    let status = Command::new(prereq::llvm_objcopy()?)
        .args([
            "-I",
            "binary",
            "-O",
            "elf64-littleaarch64",
            "--rename-section",
            ".data=.text,code,alloc,readonly",
        ])
        .arg(&bin)
        .arg(&elf)
        .status()
        .map_err(|e| format!("llvm-objcopy: {e}"))?;
    if !status.success() {
        return Err("llvm-objcopy failed".into());
    }
    Ok(elf)
}

fn words_of(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// The kernel's code: `_text.._etext` from a real System.map, else
/// `_stext` (the PE header's BaseOfCode) to an estimated `_etext`.
fn kernel_code(args: &DecodeCoverageArgs, od: &Path) -> Result<Code, String> {
    let (image_path, map_path) = match &args.kernel {
        Some(k) => (k.clone(), args.system_map.clone()),
        None => {
            let root = crate::linux::debian_root()?;
            let (image, _) = crate::linux::find_kernel(&root).ok_or("no kernel in the package")?;
            let version = image
                .file_name()
                .map(|n| {
                    n.to_string_lossy()
                        .trim_start_matches("vmlinuz-")
                        .to_string()
                })
                .unwrap_or_default();
            let map = args
                .system_map
                .clone()
                .unwrap_or_else(|| root.join(format!("boot/System.map-{version}")));
            (image, Some(map))
        }
    };
    let image = crate::linux::plain_image(&image_path)?;
    let map = map_path
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|m| parse_system_map(&m));
    if let Some((text, etext)) = map {
        let len = usize::try_from(etext - text).map_err(|e| e.to_string())?;
        let bytes = image
            .get(..len)
            .ok_or("System.map's _etext lies beyond the Image")?
            .to_vec();
        return Ok(Code {
            name: "kernel",
            bytes,
            range: format!("_text.._etext from System.map: Image[0x0..{len:#x}]"),
        });
    }
    let start = pe_base_of_code(&image).ok_or("no System.map and no PE header in the Image")?;
    let tail = &image[start..];
    let elf = to_elf(tail, "kernel-image")?;
    let segments = tail.len().div_ceil(SEGMENT);
    let (mut unknown, mut total) = (vec![0usize; segments], vec![0usize; segments]);
    objdump(od, &elf, "+all", |i, t| {
        let s = i * 4 / SEGMENT;
        if s < segments {
            total[s] += 1;
            unknown[s] += usize::from(t.is_none());
        }
    })?;
    let end = start + estimate_text_end(&unknown, &total) * SEGMENT;
    Ok(Code {
        name: "kernel",
        bytes: image[start..end.min(image.len())].to_vec(),
        range: format!(
            "Image[{start:#x}..{end:#x}]: _stext from the PE header's BaseOfCode; _etext \
             estimated (System.map in Debian's package is a placeholder): the first 64 KiB \
             segment where LLVM decodes under 90% of the words"
        ),
    })
}

fn busybox_code(args: &DecodeCoverageArgs) -> Result<Code, String> {
    let path = match &args.busybox {
        Some(p) => p.clone(),
        None => crate::linux::debian_root()?.join("bin/busybox"),
    };
    let elf = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (off, size) = elf_section(&elf, ".text")
        .ok_or_else(|| format!("{}: no .text section", path.display()))?;
    Ok(Code {
        name: "busybox",
        bytes: elf[off..off + size].to_vec(),
        range: format!(
            "{} .text: file offset {off:#x}, {size:#x} bytes",
            path.display()
        ),
    })
}

/// The per-input result.
#[derive(Default)]
struct Report {
    total: usize,
    llvm_decoded: usize,
    groups: BTreeMap<Group, Tally>,
    features: BTreeMap<Feature, Tally>,
    /// Words where the feature table and LLVM disagree: mnemonic -> (count, example).
    disagree: BTreeMap<String, (usize, u32, String)>,
    /// With --binutils: words binutils decodes, then the words only one of
    /// the two disassemblers decodes (binutils only, LLVM only), with
    /// examples, and how many of the binutils-only words hv calls Undefined.
    binutils: Option<Binutils>,
    /// Words LLVM does not decode (even with +all) that hv decodes.
    hv_only: usize,
    hv_only_examples: Vec<u32>,
}

#[derive(Default)]
struct Binutils {
    decoded: usize,
    only_binutils: usize,
    only_llvm: usize,
    only_binutils_hv_undefined: usize,
    examples: Vec<(u32, String)>,
}

/// Binutils' view of `bin`, against LLVM's (`llvm[i]`: LLVM decodes word i).
fn binutils_check(
    bin: &Path,
    words: &[u32],
    llvm: &[bool],
    undefined: &HashSet<usize>,
) -> Result<Binutils, String> {
    let mut child = Command::new("aarch64-linux-gnu-objdump")
        .args(["-b", "binary", "-m", "aarch64", "-D", "-z"])
        .arg(bin)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| {
            format!("aarch64-linux-gnu-objdump: {e} (apt-get install binutils-aarch64-linux-gnu)")
        })?;
    let stdout = child.stdout.take().ok_or("objdump: no stdout")?;
    let mut b = Binutils::default();
    let mut seen = vec![false; words.len()];
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("objdump output: {e}"))?;
        let Some((addr, text)) = parse_binutils_line(&line) else {
            continue;
        };
        let i = (addr / 4) as usize;
        if i >= words.len() || seen[i] {
            continue;
        }
        seen[i] = true;
        match (text, llvm[i]) {
            (Some(t), false) => {
                b.decoded += 1;
                b.only_binutils += 1;
                if undefined.contains(&i) {
                    b.only_binutils_hv_undefined += 1;
                }
                if b.only_binutils <= 5 {
                    b.examples.push((words[i], format!("binutils: {t}")));
                }
            }
            (Some(_), true) => b.decoded += 1,
            (None, true) => {
                b.only_llvm += 1;
                if b.only_llvm <= 5 {
                    b.examples.push((words[i], "binutils: undefined".into()));
                }
            }
            (None, false) => {}
        }
    }
    if !child.wait().map_err(|e| e.to_string())?.success() {
        return Err("aarch64-linux-gnu-objdump failed".into());
    }
    Ok(b)
}

fn measure(code: &Code, od: &Path, decoder: &Path, binutils: bool) -> Result<Report, String> {
    let words = words_of(&code.bytes);
    let elf = to_elf(&code.bytes, code.name)?;
    let undefined = hv_undefined(decoder, &elf.with_extension("bin"), words.len())?;
    let mut restricted: Vec<Option<String>> = vec![None; words.len()];
    let mut decoded_restricted = vec![false; words.len()];
    objdump(od, &elf, REQUIRED_MATTR, |i, t| {
        if i < words.len() {
            decoded_restricted[i] = t.is_some();
            let keep = |t: &str| t.starts_with("hint") || t.contains("S0_");
            if undefined.contains(&i) || t.as_deref().is_some_and(keep) {
                restricted[i] = t;
            }
        }
    })?;
    let mut r = Report {
        total: words.len(),
        ..Report::default()
    };
    let mut llvm = vec![false; words.len()];
    objdump(od, &elf, "+all", |i, t| {
        let (Some(all), Some(&word)) = (t, words.get(i)) else {
            return;
        };
        llvm[i] = true;
        r.llvm_decoded += 1;
        let res = if decoded_restricted[i] {
            Some(restricted[i].as_deref().unwrap_or("(decoded)"))
        } else {
            None
        };
        let (group, feature, disagree) = classify(res, &all);
        let mnemonic = split_insn(&all).0;
        let key = match feature {
            Feature::Base => mnemonic.to_string(),
            f => format!("{mnemonic} [{}]", f.name()),
        };
        let undef = undefined.contains(&i);
        r.groups
            .entry(group)
            .or_default()
            .add(undef, &key, word, &all);
        if group != Group::Udf {
            r.features
                .entry(feature)
                .or_default()
                .add(undef, &key, word, &all);
        }
        if disagree {
            let e = r
                .disagree
                .entry(mnemonic.to_string())
                .or_insert((0, word, all.clone()));
            e.0 += 1;
        }
    })?;
    for (i, &w) in words.iter().enumerate() {
        if !llvm[i] && !undefined.contains(&i) {
            r.hv_only += 1;
            if r.hv_only_examples.len() < 5 {
                r.hv_only_examples.push(w);
            }
        }
    }
    if binutils {
        let bin = elf.with_extension("bin");
        r.binutils = Some(binutils_check(&bin, &words, &llvm, &undefined)?);
    }
    Ok(r)
}

fn print_top(t: &Tally, top: usize) {
    let mut v: Vec<_> = t.by_mnemonic.iter().collect();
    v.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
    for (m, (n, ex)) in v.iter().take(top) {
        let ex: Vec<String> = ex.iter().map(|(w, s)| format!("{w:08x} {s}")).collect();
        println!("    {n:>8}  {m:<18} e.g. {}", ex.join("; "));
    }
    if v.len() > top {
        println!("    ... {} more mnemonics", v.len() - top);
    }
}

fn print_report(code: &Code, r: &Report, top: usize) {
    println!("== {} ({})", code.name, code.range);
    println!(
        "  words {}, LLVM decodes {} ({} not), hv Undefined among them {}",
        r.total,
        r.llvm_decoded,
        r.total - r.llvm_decoded,
        r.groups.values().map(|t| t.undefined).sum::<usize>()
    );
    let ex: Vec<String> = r
        .hv_only_examples
        .iter()
        .map(|w| format!("{w:08x}"))
        .collect();
    println!(
        "  of the {} words LLVM does not decode, hv decodes {} (e.g. {})",
        r.total - r.llvm_decoded,
        r.hv_only,
        ex.join(" ")
    );
    println!("  by feature, without UDF (words LLVM decodes / hv Undefined):");
    for (f, t) in &r.features {
        let tag = if f.required() {
            ""
        } else {
            "  (not advertised)"
        };
        println!(
            "    {:<10} {:>9} {:>9}{tag}",
            f.name(),
            t.words,
            t.undefined
        );
    }
    for (g, title) in [
        (
            Group::Required,
            "ARMv8.0 + advertised extensions (must be zero)",
        ),
        (
            Group::Extension,
            "extensions hv does not advertise (may stay Undefined)",
        ),
        (
            Group::Udf,
            "UDF (permanently undefined: Undefined is right)",
        ),
    ] {
        let Some(t) = r.groups.get(&g) else { continue };
        println!("  {title}: {} words, {} hv Undefined", t.words, t.undefined);
        if g != Group::Udf {
            print_top(t, top);
        }
    }
    if let Some(b) = &r.binutils {
        println!(
            "  binutils decodes {} words; only binutils: {} ({} of them hv Undefined), \
             only LLVM: {}",
            b.decoded, b.only_binutils, b.only_binutils_hv_undefined, b.only_llvm
        );
        for (w, t) in &b.examples {
            println!("    {w:08x} {t}");
        }
    }
    if !r.disagree.is_empty() {
        println!("  the feature table disagrees with LLVM's restricted run on:");
        for (m, (n, w, s)) in &r.disagree {
            println!("    {n:>8}  {m:<12} e.g. {w:08x} {s}");
        }
    }
}

pub fn run(args: &DecodeCoverageArgs) -> Result<(), String> {
    let od = prereq::llvm_objcopy()?.with_file_name("llvm-objdump");
    if !od.is_file() {
        return Err(format!(
            "{} missing (rustup component add llvm-tools)",
            od.display()
        ));
    }
    let version = Command::new(&od)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let version = version
        .lines()
        .find_map(|l| l.trim().strip_prefix("LLVM version "))
        .unwrap_or("unknown")
        .to_string();
    println!("decode-coverage: LLVM {version} ({})", od.display());
    let decoder = build_decoder()?;
    let inputs = [kernel_code(args, &od)?, busybox_code(args)?];
    let mut required = 0;
    let mut extension = 0;
    for code in &inputs {
        let r = measure(code, &od, &decoder, args.binutils)?;
        print_report(code, &r, args.top);
        let undef = |g| r.groups.get(&g).map_or(0, |t: &Tally| t.undefined);
        required += undef(Group::Required);
        extension += undef(Group::Extension);
    }
    println!(
        "decode-coverage: {required} ARMv8.0/advertised words hv calls Undefined, \
         {extension} of extensions it does not advertise"
    );
    if required > 0 || (args.strict && extension > 0) {
        return Err(format!(
            "{required} required{} words undecoded",
            if args.strict {
                format!(" and {extension} extension")
            } else {
                String::new()
            }
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objdump_lines_parse() {
        assert_eq!(
            parse_objdump_line("      14:      \tldadd\tw0, w0, [x0]"),
            Some((0x14, Some("ldadd w0, w0, [x0]".into())))
        );
        assert_eq!(
            parse_objdump_line("  20:      \t<unknown>"),
            Some((0x20, None))
        );
        assert_eq!(
            parse_objdump_line("       4:      \tb\t0x1398d1c <_binary_Image_start+0x1398d1c>"),
            Some((4, Some("b 0x1398d1c".into())))
        );
        assert_eq!(
            parse_objdump_line("  8:  \tadrp\tx0, 0x1000 // =0x1000"),
            Some((8, Some("adrp x0, 0x1000".into())))
        );
        assert_eq!(
            parse_objdump_line("0000000000000000 <_binary_Image_start>:"),
            None
        );
        assert_eq!(parse_objdump_line("Disassembly of section .text:"), None);
        assert_eq!(
            parse_objdump_line("img.o:\tfile format elf64-littleaarch64"),
            None
        );
    }

    #[test]
    fn binutils_lines_parse() {
        assert_eq!(
            parse_binutils_line("   4:\tb8200000 \tldadd\tw0, w0, [x0]"),
            Some((4, Some("ldadd w0, w0, [x0]".into())))
        );
        assert_eq!(
            parse_binutils_line("  1c:\tffffffff \t.inst\t0xffffffff ; undefined"),
            Some((0x1c, None))
        );
        assert_eq!(
            parse_binutils_line("  20:\t94000010 \tbl\t0x60 <.data+0x60>"),
            Some((0x20, Some("bl 0x60".into())))
        );
        assert_eq!(parse_binutils_line("0000000000000000 <.data>:"), None);
        assert_eq!(parse_binutils_line("u.bin:     file format binary"), None);
    }

    #[test]
    fn features_by_mnemonic() {
        assert_eq!(feature_of("add", "x0, x1, x2"), Feature::Base);
        assert_eq!(feature_of("crc32cx", "w0, w1, x2"), Feature::Crc32);
        for m in [
            "ldaddal", "ldaddalb", "ldclrh", "stsetl", "stumaxlb", "casal", "caspl", "swpab",
            "cash",
        ] {
            assert_eq!(feature_of(m, "w0, w1, [x2]"), Feature::Lse, "{m}");
        }
        for m in ["ldadd2", "casx", "stadda", "ldr", "ldar", "stlr", "cset"] {
            assert_ne!(feature_of(m, "w0, w1, [x2]"), Feature::Lse, "{m}");
        }
        assert_eq!(feature_of("pmull", "v0.1q, v1.1d, v2.1d"), Feature::Aes);
        assert_eq!(feature_of("pmull", "v0.8h, v1.8b, v2.8b"), Feature::Base);
        assert_eq!(feature_of("msr", "PAN, #0x1"), Feature::Pan);
        assert_eq!(feature_of("msr", "SPSel, #0x0"), Feature::Base);
        assert_eq!(feature_of("tlbi", "rvae1is, x7"), Feature::TlbiRange);
        assert_eq!(feature_of("tlbi", "vae1is, x7"), Feature::Base);
        assert_eq!(feature_of("tlbi", "ipas2e1is, x1"), Feature::El2Sys);
        assert_eq!(feature_of("tlbi", "alle2"), Feature::El2Sys);
        assert_eq!(feature_of("at", "s1e1r, x0"), Feature::Base);
        assert_eq!(feature_of("at", "s12e1r, x0"), Feature::El2Sys);
        assert_eq!(feature_of("dc", "cvap, x3"), Feature::Dpb);
        assert_eq!(feature_of("dc", "cvadp, x3"), Feature::Dpb2);
        assert_eq!(feature_of("dc", "gzva, x2"), Feature::Mte);
        assert_eq!(feature_of("dc", "civac, x2"), Feature::Base);
        assert_eq!(feature_of("dc", "cvac, x2"), Feature::Base);
        assert_eq!(feature_of("paciasp", ""), Feature::PAuth);
        assert_eq!(feature_of("ld1d", "{ z0.d }, p0/z, [x0]"), Feature::Sve);
        assert_eq!(feature_of("ld1", "{ v0.2d }, [x0]"), Feature::Base);
        assert_eq!(feature_of("smstart", ""), Feature::Sme);
        assert_eq!(
            feature_of("mova", "z0.s, p0/m, za0h.s[w12, 0]"),
            Feature::Sme
        );
        assert_eq!(feature_of("zero", "{za}"), Feature::Sme);
        assert_eq!(feature_of("cntd", "x0"), Feature::Sve);
        for m in ["cpyfp", "cpye", "cpyfmwn", "setp", "setgmt", "sete"] {
            assert_eq!(feature_of(m, "[x3]!, x2!, x1"), Feature::Mops, "{m}");
        }
        for m in ["cpy", "set", "setf8", "cset", "csetm"] {
            assert_ne!(feature_of(m, "x0, x1"), Feature::Mops, "{m}");
        }
        assert!(Feature::Lse.required() && !Feature::PAuth.required());
    }

    #[test]
    fn groups_follow_llvm_runs() {
        // Decoded without the feature as a hint: required, the table agrees.
        assert_eq!(
            classify(Some("hint #25"), "paciasp"),
            (Group::Required, Feature::PAuth, false)
        );
        assert_eq!(
            classify(None, "ldlar x0, [x0]"),
            (Group::Extension, Feature::Lor, false)
        );
        // LLVM's generic rendering of the unallocated MSR (immediate) space.
        assert_eq!(
            classify(Some("msr S0_0_C4_C0_4, xzr"), "msr PAN, #0x0"),
            (Group::Extension, Feature::Pan, false)
        );
        assert_eq!(
            classify(Some("ldadd w0, w0, [x0]"), "ldadd w0, w0, [x0]"),
            (Group::Required, Feature::Lse, false)
        );
        assert_eq!(classify(Some("udf #0x0"), "udf #0x0").0, Group::Udf);
        assert_eq!(
            classify(Some("tlbi rvae1is, x7"), "tlbi rvae1is, x7"),
            (Group::Extension, Feature::TlbiRange, false)
        );
        assert_eq!(
            classify(Some("tlbi vae1is, x7"), "tlbi vae1is, x7"),
            (Group::Required, Feature::Base, false)
        );
        // A mnemonic the table misses: flagged.
        assert_eq!(
            classify(None, "frecpx h0, h1"),
            (Group::Extension, Feature::Base, true)
        );
        assert_eq!(
            classify(Some("sb"), "sb"),
            (Group::Required, Feature::Sb, true)
        );
    }

    #[test]
    fn system_map_and_pe_header() {
        let map =
            "ffff800008000000 T _text\nffff800008010000 T _stext\nffff800008be0000 T _etext\n";
        assert_eq!(
            parse_system_map(map),
            Some((0xffff_8000_0800_0000, 0xffff_8000_08be_0000))
        );
        assert_eq!(
            parse_system_map(
                "ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package"
            ),
            None
        );
        let mut img = vec![0u8; 0x200];
        img[0x3c] = 0x40;
        img[0x40..0x44].copy_from_slice(b"PE\0\0");
        img[0x40 + 24 + 20..0x40 + 24 + 24].copy_from_slice(&0x100u32.to_le_bytes());
        assert_eq!(pe_base_of_code(&img), Some(0x100));
        img[0x40] = b'X';
        assert_eq!(pe_base_of_code(&img), None);
    }

    #[test]
    fn text_end_is_the_first_mostly_undecodable_segment() {
        assert_eq!(
            estimate_text_end(&[0, 5, 1, 4000], &[16384, 16384, 2000, 16384]),
            3
        );
        assert_eq!(estimate_text_end(&[0, 0], &[10, 10]), 2);
        assert_eq!(estimate_text_end(&[1, 0], &[10, 0]), 0);
    }

    #[test]
    fn elf_sections_are_found() {
        // A minimal ELF64: header, section data, .shstrtab, three headers.
        let strtab = b"\0.text\0.shstrtab\0";
        let mut elf = vec![0u8; 0x40];
        elf[..6].copy_from_slice(b"\x7fELF\x02\x01");
        let text_off = elf.len();
        elf.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        let str_off = elf.len();
        elf.extend_from_slice(strtab);
        while elf.len() % 8 != 0 {
            elf.push(0);
        }
        let shoff = elf.len();
        let mut sh = |name: u32, off: usize, size: usize| {
            let mut h = vec![0u8; 64];
            h[..4].copy_from_slice(&name.to_le_bytes());
            h[0x18..0x20].copy_from_slice(&(off as u64).to_le_bytes());
            h[0x20..0x28].copy_from_slice(&(size as u64).to_le_bytes());
            elf.extend_from_slice(&h);
        };
        sh(0, 0, 0);
        sh(1, text_off, 8);
        sh(7, str_off, strtab.len());
        elf[0x28..0x30].copy_from_slice(&(shoff as u64).to_le_bytes());
        elf[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes());
        elf[0x3c..0x3e].copy_from_slice(&3u16.to_le_bytes());
        elf[0x3e..0x40].copy_from_slice(&2u16.to_le_bytes());
        assert_eq!(elf_section(&elf, ".text"), Some((text_off, 8)));
        assert_eq!(elf_section(&elf, ".data"), None);
        assert_eq!(elf_section(&elf[..shoff + 10], ".text"), None);
    }
}

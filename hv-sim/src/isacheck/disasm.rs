//! Disassembly with LLVM's `llvm-objdump` (rustup's llvm-tools), for the
//! report and for the generator's validity test.

use super::elf;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The features hv's CPU has: ARMv8.0-A with FP and Advanced SIMD, CRC32,
/// LSE atomics, AES/PMULL and SHA1/SHA256. An encoding LLVM decodes only
/// with other features (FP16, RDM, ...) is `<unknown>` here.
pub const MATTR: &str = "--mattr=+v8a,+neon,+fp-armv8,+crc,+lse,+aes,+sha2";

/// Where rustup's llvm-objdump is, if installed.
pub fn find_objdump() -> Option<PathBuf> {
    let out = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    std::fs::read_dir(sysroot.join("lib/rustlib"))
        .ok()?
        .filter_map(Result::ok)
        .map(|d| d.path().join("bin/llvm-objdump"))
        .find(|p| p.is_file())
}

/// The text LLVM gives each of `words` (`<unknown>` for what it rejects),
/// in order. `dir` holds the temporary ELF.
pub fn disassemble(objdump: &Path, dir: &Path, words: &[u32]) -> Result<Vec<String>, String> {
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    const VADDR: u64 = 0x10_0000;
    let file = elf::write(&elf::Image {
        vaddr: VADDR,
        bytes: &bytes,
        entry: VADDR,
        text: (0, bytes.len() as u64),
    });
    let path = dir.join(format!("disasm-{}.elf", std::process::id()));
    std::fs::write(&path, file).map_err(|e| format!("{}: {e}", path.display()))?;
    let out = Command::new(objdump)
        .args(["-d", "--no-show-raw-insn", MATTR])
        .arg(&path)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", objdump.display()))?;
    let _ = std::fs::remove_file(&path);
    if !out.status.success() {
        return Err(format!(
            "{} failed: {}",
            objdump.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut text = vec![String::new(); words.len()];
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some((addr, rest)) = line.split_once(':') else {
            continue;
        };
        let Ok(addr) = u64::from_str_radix(addr.trim(), 16) else {
            continue;
        };
        let Some(i) = addr.checked_sub(VADDR).map(|o| (o / 4) as usize) else {
            continue;
        };
        if let Some(slot) = text.get_mut(i) {
            *slot = rest.split_whitespace().collect::<Vec<_>>().join(" ");
        }
    }
    Ok(text)
}

/// The mnemonic of a disassembled line.
pub fn mnemonic(text: &str) -> &str {
    text.split_whitespace().next().unwrap_or("")
}

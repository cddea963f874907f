//! hv's side of `cargo xtask decode-coverage`: which words of a code dump
//! hv's decoder calls undefined.
//!
//! ```text
//! decode_undefined FILE
//! ```
//!
//! FILE holds little-endian A64 words (a trailing partial word is ignored).
//! Every word goes through `hv_core::translate::decode::decode`, the entry
//! the interpreter uses (FP/SIMD words included); the index of each word it
//! returns `Insn::Undefined` for is printed, one per line, then a last line
//! `words N`. xtask lives outside the workspace's crates (it depends on
//! none of them), so it asks this program instead of linking the decoder.

use hv_core::translate::decode::{decode, Insn};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path] = args.as_slice() else {
        eprintln!("usage: decode_undefined FILE");
        return ExitCode::FAILURE;
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("decode_undefined: {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let mut words = 0usize;
    for (i, chunk) in bytes.chunks_exact(4).enumerate() {
        let w = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        if decode(w) == Insn::Undefined && writeln!(out, "{i}").is_err() {
            return ExitCode::FAILURE;
        }
        words += 1;
    }
    if writeln!(out, "words {words}")
        .and_then(|()| out.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

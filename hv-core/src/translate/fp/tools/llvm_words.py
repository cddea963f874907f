#!/usr/bin/env python3
"""Classify seeded random words of the AdvSIMD structure load/store, permute,
TBL/TBX, copy, scalar copy, EXT and REV groups with LLVM's disassembler and
print them as Rust arrays for fp/llvm_simd.rs.

Usage: python3 llvm_words.py [count-per-group] > /tmp/out.rs
Needs llc and llvm-objdump of the Rust toolchain (llvm-tools)."""
import os, random, re, subprocess, sys, tempfile

BIN = os.path.expanduser(
    "~/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/lib/rustlib/x86_64-unknown-linux-gnu/bin")
MATTR = "+v8a,+neon,+fp-armv8,+crc"

# (name, mask, value): random words w with w & mask == value.
GROUPS = [
    ("LDST_STRUCT", 0x3e000000, 0x0c000000),  # any bit 31, multiple and single
    ("PERMUTE_TBL", 0xbf208400, 0x0e000000),
    ("COPY", 0x9fe08400, 0x0e000400),
    ("SCALAR_COPY", 0xdfe08400, 0x5e000400),
    ("EXT", 0xbf208400, 0x2e000000),
    ("REV", 0x9f3fec00, 0x0e200800),
]


def classify(words):
    with tempfile.TemporaryDirectory() as d:
        ll = os.path.join(d, "t.ll")
        with open(ll, "w") as f:
            f.write('target triple = "aarch64-unknown-linux-gnu"\n')
            f.write('module asm ".text"\n')
            for w in words:
                f.write('module asm ".inst 0x%08x"\n' % w)
        obj = os.path.join(d, "t.o")
        subprocess.check_call([f"{BIN}/llc", "-filetype=obj", ll, "-o", obj])
        out = subprocess.check_output(
            [f"{BIN}/llvm-objdump", "-d", f"--mattr={MATTR}", obj], text=True)
    res = {}
    for line in out.splitlines():
        m = re.match(r"\s*([0-9a-f]+):\s+([0-9a-f]{8})\s+(.*)", line)
        if m:
            res[int(m.group(2), 16)] = "<unknown>" not in m.group(3)
    return [(w, res[w]) for w in words]


def emit(name, ws):
    print(f"pub(super) const {name}: &[u32] = &[")
    for i in range(0, len(ws), 8):
        print("    " + ", ".join("0x%08x" % w for w in ws[i:i + 8]) + ",")
    print("];")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    rng = random.Random(20261201)
    for name, mask, value in GROUPS:
        words = set()
        for i in range(n):
            w = (rng.getrandbits(32) & ~mask) | value
            if name == "LDST_STRUCT":
                # Also exercise the no-offset forms (Rm = 0, and for the
                # multiple-structure ones bit 21 = 0) and bit 31 = 0, which
                # uniform words rarely hit.
                words.add(w & ~(0x1f << 16))
                words.add(w & ~(0x3f << 16) & ~(1 << 31))
            words.add(w)
        words = sorted(words)
        cls = classify(words)
        emit(f"{name}_VALID", [w for w, ok in cls if ok])
        emit(f"{name}_INVALID", [w for w, ok in cls if not ok])


if __name__ == "__main__":
    main()

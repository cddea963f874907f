#!/usr/bin/env python3
"""Generate simd_int_cases.rs: oracle data for the integer AdvSIMD classes.

Random words are drawn from every encoding class simd_int.rs covers (the
integer opcodes of vector and scalar three same, three different,
two-register misc, across lanes, pairwise, shift by immediate, by element,
and modified immediate), all other fields random. LLVM's disassembler
(`llvm-mc --disassemble -mattr=+neon,+aes`, ARMv8.0 + FEAT_PMULL) splits
them into accepted and rejected words. Each accepted word runs once under
`qemu-aarch64 -cpu max` in a static program this script writes: it loads
V0-V31 from the inputs `inputs(i)` below (Rust recomputes the same ones),
clears FPSR, runs the word, and dumps V0-V31 and FPSR. The table keeps the
word, Vd and FPSR afterwards; the script checks that no other V register
changed.

Usage: python3 simd_int_gen.py [seed]  (writes simd_int_cases.rs next to it)
"""
import os
import random
import struct
import subprocess
import sys
import tempfile

M64 = (1 << 64) - 1
LLVM_MC = os.environ.get("LLVM_MC", "llvm-mc")
QEMU = os.environ.get("QEMU_AARCH64", "qemu-aarch64")


class SplitMix:
    def __init__(self, seed):
        self.s = seed & M64

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & M64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)


SPECIAL = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0xFE, 0x81, 0x40]
WORDS = [0x80000000, 0x7FFFFFFF, 0xFFFFFFFF, 0x00000001, 0x80008000, 0x7FFF7FFF, 0x00000000,
         0x80000001]


def inputs(i):
    """V0-V31 for case i (mirrored by `inputs` in simd_int_tests.rs)."""
    r = SplitMix((i + 1) * 0x2545F4914F6CDD1D)
    regs = []
    for _ in range(32):
        mode = r.next() % 7
        if mode == 0:
            lo = r.next()
            hi = r.next()
            v = lo | (hi << 64)
        elif mode in (1, 2, 3):
            v = 0
            for b in range(16):
                x = r.next()
                if mode == 1:
                    byte = SPECIAL[x % 8]
                elif mode == 2:
                    byte = x % 8
                else:
                    byte = ((x % 17) - 8) & 0xFF
                v |= byte << (8 * b)
        elif mode == 5:
            v = 0
            for k in range(4):
                v |= WORDS[r.next() % 8] << (32 * k)
        elif mode == 6:
            v = 0
            for k in range(4):
                v |= (0x80000000 if r.next() & 1 else 0x80008000) << (32 * k)
        else:
            v = 0
            for h in range(2):
                x = r.next() >> (r.next() % 64)
                if r.next() & 1:
                    x = (-x) & M64
                v |= x << (64 * h)
        regs.append(v)
    return regs


def rnd(n):
    return random.getrandbits(n)


def fields(q, u, size, rest, rm=True):
    w = (q << 30) | (u << 29) | (size << 22) | rest | (rnd(5) << 5) | rnd(5)
    return w | (rnd(5) << 16) if rm else w


THREE_SAME = [o for o in range(0b11000) if o != 0b00011]
MISC = list(range(0b01100)) + [0b10010, 0b10011, 0b10100]
ACROSS = [0b00011, 0b01010, 0b11010, 0b11011]
SHIFT = list(range(0b10101))
ELEM = [o for o in range(16) if o not in (0b0001, 0b0101, 0b1001)]


def gen(kind):
    q, u, size = rnd(1), rnd(1), rnd(2)
    c = random.choice
    if kind == "vec_three_same":
        return fields(q, u, size, 0x0E200400 | (c(THREE_SAME) << 11))
    if kind == "sca_three_same":
        return fields(1, u, size, 0x1E200400 | (c(THREE_SAME) << 11))
    if kind == "vec_three_diff":
        return fields(q, u, size, 0x0E200000 | (rnd(4) << 12))
    if kind == "sca_three_diff":
        return fields(1, u, size, 0x1E200000 | (rnd(4) << 12))
    if kind == "vec_misc":
        return fields(q, u, size, 0x0E200800 | (c(MISC) << 12), rm=False)
    if kind == "sca_misc":
        return fields(1, u, size, 0x1E200800 | (c(MISC) << 12), rm=False)
    if kind == "across":
        return fields(q, u, size, 0x0E300800 | (c(ACROSS) << 12), rm=False)
    if kind == "sca_pairwise":
        return fields(1, u, size, 0x1E300800 | (0b11011 << 12), rm=False)
    if kind in ("vec_shift", "sca_shift"):
        immh = 1 + random.randrange(15)
        w = (0x0F000400 if kind == "vec_shift" else 0x5F000400) | (immh << 19) | (rnd(3) << 16)
        w |= c(SHIFT) << 11
        return w | (q << 30 if kind == "vec_shift" else 0) | (u << 29) | (rnd(5) << 5) | rnd(5)
    if kind in ("vec_elem", "sca_elem"):
        base = 0x0F000000 if kind == "vec_elem" else 0x5F000000
        w = base | (size << 22) | (rnd(2) << 20) | (c(ELEM) << 12) | (rnd(1) << 11)
        return w | (q << 30 if kind == "vec_elem" else 0) | (u << 29) | (rnd(4) << 16) | (rnd(5) << 5) | rnd(5)
    if kind == "mod_imm":
        o2 = 1 if random.random() < 0.1 else 0
        return (0x0F000400 | (q << 30) | (u << 29) | (rnd(3) << 16) | (rnd(4) << 12)
                | (o2 << 11) | (rnd(5) << 5) | rnd(5))
    raise ValueError(kind)


KINDS = {
    "vec_three_same": 1200,
    "sca_three_same": 600,
    "vec_three_diff": 900,
    "sca_three_diff": 150,
    "vec_misc": 900,
    "sca_misc": 300,
    "across": 300,
    "sca_pairwise": 40,
    "vec_shift": 1200,
    "sca_shift": 600,
    "vec_elem": 600,
    "sca_elem": 250,
    "mod_imm": 400,
}


# Edge cases the random fields rarely hit (aliases, extreme shifts).
DIRECTED = """
uxtl v0.8h, v1.8b
uxtl2 v2.4s, v3.8h
uxtl2 v10.8h, v11.16b
sxtl v4.2d, v5.2s
sxtl2 v6.8h, v7.16b
uxtl2 v8.2d, v9.4s
sxtl2 v12.2d, v13.4s
sshr v0.2d, v1.2d, #64
sshr v0.16b, v1.16b, #8
ushr d0, d1, #64
ushr v3.8h, v4.8h, #16
ursra d2, d3, #64
srsra v2.4s, v3.4s, #32
srshr v4.16b, v5.16b, #8
urshr d4, d5, #64
sri v6.4s, v7.4s, #32
sri d8, d9, #64
sli d8, d9, #63
sli v8.16b, v9.16b, #0
shl d1, d2, #63
sqshl b0, b1, #7
uqshl h2, h3, #15
sqshlu s4, s5, #31
sqshlu d6, d7, #63
sqshl d6, d7, #0
sqrshrun b0, h1, #8
uqrshrn s2, d3, #32
sqshrn2 v4.4s, v5.2d, #32
sqrshrn h6, s7, #1
rshrn v1.8b, v2.8h, #8
shrn2 v1.4s, v2.2d, #32
sqdmulh v0.8h, v1.8h, v2.h[7]
sqrdmulh s0, s1, v31.s[3]
sqdmull2 v0.4s, v1.8h, v15.h[5]
sqdmlal d0, s1, v2.s[1]
sqdmlsl s0, h1, v3.h[0]
mla v0.8h, v1.8h, v15.h[7]
mls v0.4s, v1.4s, v31.s[3]
umlal2 v0.2d, v1.4s, v20.s[2]
smull v0.4s, v1.4h, v9.h[4]
pmull v0.1q, v1.1d, v2.1d
pmull2 v3.1q, v4.2d, v5.2d
addp d0, v1.2d
addv b0, v1.16b
uaddlv s0, v1.8h
saddlv d0, v1.4s
uminv h0, v1.4h
shll2 v0.2d, v1.4s, #32
shll v0.8h, v1.8b, #8
"""


# Same-register forms, so that min * min (the only saturating product)
# occurs with the inputs' special words.
for k in range(12):
    a, b = 16 + k, 4 + k
    DIRECTED += f"""
sqdmulh v{a}.4s, v{b}.4s, v{b}.4s
sqrdmulh v{a}.8h, v{b}.8h, v{b}.8h
sqdmulh h{a}, h{b}, h{b}
sqrdmulh s{a}, s{b}, s{b}
sqdmull v{a}.2d, v{b}.2s, v{b}.2s
sqdmull2 v{a}.4s, v{b}.8h, v{b}.8h
sqdmlal v{a}.4s, v{b}.4h, v{b}.4h
sqdmlsl2 v{a}.2d, v{b}.4s, v{b}.4s
sqdmull d{a}, s{b}, s{b}
sqdmlal s{a}, h{b}, h{b}
sqdmulh v{a}.8h, v{b}.8h, v{b}.h[{k % 8}]
sqrdmulh v{a}.4s, v{b}.4s, v{b}.s[{k % 4}]
sqdmull2 v{a}.2d, v{b}.4s, v{b}.s[{k % 4}]
sqdmlsl s{a}, h{b}, v{b}.h[{k % 8}]
"""


def llvm_assemble(text):
    p = subprocess.run([LLVM_MC, "-triple=aarch64", "-mattr=+neon,+aes", "-show-encoding"],
                       input=text, capture_output=True, text=True, check=True)
    words = []
    for line in p.stdout.splitlines():
        if "encoding: [" in line:
            bs = line.split("encoding: [")[1].rstrip("]").split(",")
            words.append(sum(int(b, 16) << (8 * i) for i, b in enumerate(bs)))
    return words


def llvm_classify(words):
    """Map each word to its LLVM disassembly, or None if LLVM rejects it."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        for w in words:
            f.write(" ".join("0x%02x" % ((w >> (8 * i)) & 0xFF) for i in range(4)) + "\n")
        name = f.name
    p = subprocess.run([LLVM_MC, "--disassemble", "-triple=aarch64", "-mattr=+neon,+aes", name],
                       capture_output=True, text=True)
    os.unlink(name)
    bad = set()
    for line in p.stderr.splitlines():
        if "invalid instruction encoding" in line:
            bad.add(int(line.split(":")[1]) - 1)
    texts = [l.strip() for l in p.stdout.splitlines() if l.strip() and l.strip() != ".text"]
    out, k = [], 0
    for i, w in enumerate(words):
        if i in bad:
            out.append(None)
        else:
            out.append(texts[k])
            k += 1
    assert k == len(texts), (k, len(texts))
    return out


# Field spaces enumerated completely for the LLVM agreement check: (name,
# base word, fields as (lowest bit, values)); registers are fixed (Rd = 3,
# Rn = 5, Rm = 7) and so is immb (5), which no validity rule reads.
R = 3 | (5 << 5)
QU = [(30, [0, 1]), (29, [0, 1])]
SIZE = [(22, [0, 1, 2, 3])]
SPACES = [
    ("vector three same", 0x0E200400 | R | (7 << 16), QU + SIZE + [(11, list(range(0b11000)))]),
    ("scalar three same", 0x5E200400 | R | (7 << 16), QU[1:] + SIZE + [(11, list(range(0b11000)))]),
    ("vector three different", 0x0E200000 | R | (7 << 16), QU + SIZE + [(12, list(range(16)))]),
    ("scalar three different", 0x5E200000 | R | (7 << 16), QU[1:] + SIZE + [(12, list(range(16)))]),
    ("vector two-register misc", 0x0E200800 | R, QU + SIZE + [(12, MISC)]),
    ("scalar two-register misc", 0x5E200800 | R, QU[1:] + SIZE + [(12, MISC)]),
    ("across lanes", 0x0E300800 | R, QU + SIZE + [(12, ACROSS)]),
    ("scalar pairwise", 0x5E300800 | R | (0b11011 << 12), QU[1:] + SIZE),
    ("vector shift by immediate", 0x0F000400 | R | (5 << 16),
     QU + [(19, list(range(1, 16))), (11, SHIFT)]),
    ("scalar shift by immediate", 0x5F000400 | R | (5 << 16),
     QU[1:] + [(19, list(range(1, 16))), (11, SHIFT)]),
    ("vector by element", 0x0F000000 | R | (7 << 16),
     QU + SIZE + [(21, [0, 1]), (20, [0, 1]), (11, [0, 1]), (12, ELEM)]),
    ("scalar by element", 0x5F000000 | R | (7 << 16),
     QU[1:] + SIZE + [(21, [0, 1]), (20, [0, 1]), (11, [0, 1]), (12, ELEM)]),
    ("modified immediate", 0x0F000400 | 3 | (0b10110 << 5) | (0b101 << 16),
     QU + [(12, list(range(16))), (11, [0, 1])]),
]


def space_words(base, flds):
    words = [base]
    for lo, vals in flds:
        words = [w | (v << lo) for w in words for v in vals]
    return words


def le32(ws):
    return b"".join(struct.pack("<I", w) for w in ws)


def movabs(reg, value):
    """MOVZ/MOVK sequence for a 48-bit address."""
    ws = [0xD2800000 | (((value >> 0) & 0xFFFF) << 5) | reg]
    for sh in (1, 2):
        ws.append(0xF2800000 | (sh << 21) | (((value >> (16 * sh)) & 0xFFFF) << 5) | reg)
    return ws


def run_qemu(words):
    """Run each word on QEMU; return per-case (V0-V31, FPSR)."""
    base = 0x400000
    n = len(words)
    per_case = 8 * 2 + 4
    code_len = 4 * (6 + n * per_case + 12)
    in_off = (0x78 + code_len + 0xFFF) & ~0xFFF
    out_off = in_off + n * 512
    out_len = n * 528
    code = movabs(19, base + in_off) + movabs(20, base + out_off)
    for w in words:
        for k in range(8):
            code.append(0x4CDF2E60 | (4 * k))
        code += [0xD51B443F, w, 0xD53B4436]
        for k in range(8):
            code.append(0x4C9F2E80 | (4 * k))
        code.append(0xF8010696)  # str x22, [x20], #16
    code += [0xD2800020] + movabs(1, base + out_off) + movabs(2, out_len)
    code += [0xD2800808, 0xD4000001, 0xD2800000, 0xD2800BA8, 0xD4000001]
    body = le32(code)
    assert 0x78 + len(body) <= in_off
    data = bytearray()
    for i in range(n):
        for v in inputs(i):
            data += v.to_bytes(16, "little")
    filesz = in_off + len(data)
    memsz = out_off + out_len
    ehdr = struct.pack("<4sBBBBB7sHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0, b"\0" * 7,
                       2, 183, 1, base + 0x78, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 7, 0, base, base, filesz, memsz, 0x1000)
    img = bytearray(ehdr + phdr + body)
    img += b"\0" * (in_off - len(img))
    img += data
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(img)
        name = f.name
    os.chmod(name, 0o755)
    p = subprocess.run([QEMU, "-cpu", "max", name], capture_output=True)
    os.unlink(name)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert len(out) == out_len, (len(out), out_len)
    res = []
    for i in range(n):
        rec = out[528 * i: 528 * (i + 1)]
        regs = [int.from_bytes(rec[16 * r:16 * r + 16], "little") for r in range(32)]
        fpsr = int.from_bytes(rec[512:520], "little")
        res.append((regs, fpsr))
    return res


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 11
    random.seed(seed)
    words = []
    for kind, count in KINDS.items():
        seen = set()
        while len(seen) < count:
            seen.add(gen(kind) & 0xFFFFFFFF)
        words += sorted(seen)
    words += [w for w in llvm_assemble(DIRECTED) if w not in words]
    dis = llvm_classify(words)
    valid = [(w, t) for w, t in zip(words, dis) if t is not None]
    invalid = [w for w, t in zip(words, dis) if t is None]
    res = run_qemu([w for w, _ in valid])
    lines = []
    for i, ((w, text), (regs, fpsr)) in enumerate(zip(valid, res)):
        rd = w & 31
        before = inputs(i)
        for r in range(32):
            if r != rd and regs[r] != before[r]:
                raise SystemExit("%08x (%s) changed V%d" % (w, text, r))
        lines.append("    (0x%08x, 0x%032x, 0x%x), // %s" % (w, regs[rd], fpsr, text.replace("\t", " ")))
    spaces = []
    for name, base, flds in SPACES:
        ws = space_words(base, flds)
        ok = [t is not None for t in llvm_classify(ws)]
        hexs = "".join("%x" % sum(ok[k + j] << j for j in range(4) if k + j < len(ok))
                       for k in range(0, len(ok), 4))
        spaces.append((name, base, flds, hexs, sum(ok), len(ok)))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "simd_int_cases.rs")
    with open(out, "w") as f:
        f.write("// Generated by simd_int_gen.py %d: do not edit.\n" % seed)
        f.write("// (word, Vd, FPSR) after the word ran on qemu-aarch64 -cpu max with\n")
        f.write("// V0-V31 = inputs(case index); the comment is llvm-mc's disassembly.\n")
        f.write("pub const QEMU_CASES: &[(u32, u128, u32)] = &[\n")
        f.write("\n".join(lines) + "\n];\n\n")
        f.write("/// Words of the same classes that llvm-mc -mattr=+neon,+aes rejects.\n")
        f.write("pub const LLVM_INVALID: &[u32] = &[\n")
        for k in range(0, len(invalid), 8):
            f.write("    " + ", ".join("0x%08x" % w for w in invalid[k:k + 8]) + ",\n")
        f.write("];\n\n")
        f.write("/// Complete field spaces of each class: (name, base word, fields as (lowest\n")
        f.write("/// bit, values), the first field outermost), and per word, in that order,\n")
        f.write("/// whether llvm-mc accepts it (bit k of the hex string, 4 per digit).\n")
        f.write("#[allow(clippy::type_complexity)]\n")
        f.write("pub const LLVM_SPACES: &[(&str, u32, &[(u32, &[u32])], &str)] = &[\n")
        for name, base, flds, hexs, nok, n in spaces:
            fs = ", ".join("(%d, &[%s])" % (lo, ", ".join(str(v) for v in vals)) for lo, vals in flds)
            f.write("    // %d of %d accepted\n" % (nok, n))
            f.write('    (\n        "%s",\n        0x%08x,\n        &[%s],\n        "%s",\n    ),\n'
                    % (name, base, fs, hexs))
        f.write("];\n")
    print("valid %d, invalid %d -> %s" % (len(valid), len(invalid), out))


if __name__ == "__main__":
    main()

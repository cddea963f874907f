#!/usr/bin/env python3
"""Run each test case of fp/simd_qemu_tests.rs on qemu-aarch64 (user mode)
and print the Rust table of what it changed.

Each case is a few A64 instructions, assembled by LLVM (llc, module asm) into
a static program that first sets a fixed initial state (the same one
`simd_qemu_tests.rs` builds in the interpreter):
  * buf: 1024 bytes, byte k = (k * 71 + 13) & 0xff;
  * V[i] byte j = ((16 i + j) * 29) % 251 for i < 16, and
    ((16 i + j) * 13) % 72 for i >= 16 (small: TBL indices in and out of range);
  * X[i] = buf + X_INIT[i] (a pointer), except X9 = 5, X10 = -16, X11 = 48;
  * SP = buf + 512;
then runs the case and writes V0-V31, X0-X30, SP and buf to stdout. The
table lists the V registers whose value changed (new value), the X registers
and SP (31) that changed (for loads/stores, `x_rel`, as a difference to the
initial value, since buf is at a different address in the interpreter; else
the new value) and the bytes of buf that changed.

Usage: python3 qemu_expect.py > /tmp/cases.rs (the fixed CASES), or
       python3 qemu_expect.py --random N > /tmp/random.rs (N random words
       of the LLVM-valid encodings of these groups, see random_cases)."""
import os, random, re, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

BIN = os.path.expanduser(
    "~/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/lib/rustlib/x86_64-unknown-linux-gnu/bin")

# Offsets into buf of X0..X30 (X9-X11 are plain numbers, see above).
X_INIT = [0, 64, 128, 192, 256, 320, 384, 448, 0x101, 5, -16, 48,
          16, 32, 48, 80, 96, 112, 144, 160, 176, 208, 224, 240,
          272, 288, 304, 336, 352, 368, 400]
SP_INIT = 512

CASES = [
    # LD1-LD4 / ST1-ST4 (multiple structures)
    "ld1 {v16.16b}, [x0]",
    "ld1 {v1.8b}, [x1]",
    "ld1 {v2.4h, v3.4h}, [x2], #16",
    "ld1 {v30.2d, v31.2d, v0.2d}, [x3], x9",
    "ld1 {v4.1d, v5.1d, v6.1d, v7.1d}, [x4]",
    "ld1 {v5.4s, v6.4s, v7.4s, v8.4s}, [sp], #64",
    "ld1 {v9.8b, v10.8b}, [x8]",
    "ld2 {v0.16b, v1.16b}, [x0]",
    "ld2 {v2.4h, v3.4h}, [x1], #16",
    "ld2 {v4.4s, v5.4s}, [x2], x10",
    "ld2 {v31.2d, v0.2d}, [x3], #32",
    "ld2 {v6.8b, v7.8b}, [x8], x11",
    "ld2 {v8.2s, v9.2s}, [x4]",
    "ld2 {v10.8h, v11.8h}, [x5]",
    "ld3 {v0.16b, v1.16b, v2.16b}, [x0], #48",
    "ld3 {v3.8b, v4.8b, v5.8b}, [x1]",
    "ld3 {v6.4h, v7.4h, v8.4h}, [x2], x9",
    "ld3 {v9.8h, v10.8h, v11.8h}, [x3]",
    "ld3 {v30.2s, v31.2s, v0.2s}, [x4], #24",
    "ld3 {v12.4s, v13.4s, v14.4s}, [x5]",
    "ld3 {v15.2d, v16.2d, v17.2d}, [sp]",
    "ld4 {v16.16b, v17.16b, v18.16b, v19.16b}, [x23]",
    "ld4 {v0.8b, v1.8b, v2.8b, v3.8b}, [x0], #32",
    "ld4 {v4.4h, v5.4h, v6.4h, v7.4h}, [x1]",
    "ld4 {v8.8h, v9.8h, v10.8h, v11.8h}, [x2], x11",
    "ld4 {v29.2s, v30.2s, v31.2s, v0.2s}, [x3]",
    "ld4 {v12.4s, v13.4s, v14.4s, v15.4s}, [x4], #64",
    "ld4 {v20.2d, v21.2d, v22.2d, v23.2d}, [x5]",
    "ld4 {v24.16b, v25.16b, v26.16b, v27.16b}, [x8], x10",
    "st1 {v16.16b}, [x0]",
    "st1 {v1.8b}, [x1], #8",
    "st1 {v2.4h, v3.4h}, [x2], x9",
    "st1 {v30.2d, v31.2d, v0.2d}, [x3]",
    "st1 {v4.1d, v5.1d, v6.1d, v7.1d}, [sp], #32",
    "st1 {v5.4s, v6.4s, v7.4s, v8.4s}, [x4]",
    "st2 {v0.16b, v1.16b}, [x0], #32",
    "st2 {v2.4h, v3.4h}, [x1]",
    "st2 {v31.2d, v0.2d}, [x2], x10",
    "st2 {v4.8b, v5.8b}, [x8]",
    "st2 {v6.4s, v7.4s}, [x3]",
    "st3 {v0.16b, v1.16b, v2.16b}, [x0]",
    "st3 {v3.8b, v4.8b, v5.8b}, [x1], x11",
    "st3 {v30.8h, v31.8h, v0.8h}, [x2], #48",
    "st3 {v6.2s, v7.2s, v8.2s}, [x3]",
    "st3 {v9.2d, v10.2d, v11.2d}, [x4]",
    "st4 {v16.16b, v17.16b, v18.16b, v19.16b}, [x0]",
    "st4 {v0.8b, v1.8b, v2.8b, v3.8b}, [x1], #32",
    "st4 {v4.4h, v5.4h, v6.4h, v7.4h}, [x2]",
    "st4 {v29.4s, v30.4s, v31.4s, v0.4s}, [x3], x9",
    "st4 {v8.2d, v9.2d, v10.2d, v11.2d}, [sp]",
    # single structure, one lane
    "ld1 {v0.b}[15], [x0]",
    "ld1 {v1.b}[3], [x8], #1",
    "ld1 {v1.h}[7], [x1], #2",
    "ld1 {v2.s}[3], [x2], x9",
    "ld1 {v3.d}[1], [x3]",
    "ld1 {v3.d}[0], [sp], x10",
    "ld2 {v4.b, v5.b}[9], [x4]",
    "ld2 {v31.h, v0.h}[2], [x5], #4",
    "ld2 {v6.s, v7.s}[1], [x6], x11",
    "ld2 {v8.d, v9.d}[1], [x7], #16",
    "ld3 {v31.s, v0.s, v1.s}[1], [x0]",
    "ld3 {v10.b, v11.b, v12.b}[14], [x8], #3",
    "ld3 {v13.h, v14.h, v15.h}[6], [x1], x9",
    "ld3 {v16.d, v17.d, v18.d}[0], [x2], #24",
    "ld4 {v6.d, v7.d, v8.d, v9.d}[0], [sp], #32",
    "ld4 {v4.h, v5.h, v6.h, v7.h}[5], [x3]",
    "ld4 {v20.b, v21.b, v22.b, v23.b}[7], [x8], x10",
    "ld4 {v29.s, v30.s, v31.s, v0.s}[2], [x4], #16",
    "st1 {v0.b}[15], [x0]",
    "st1 {v1.h}[7], [x1], #2",
    "st1 {v2.s}[2], [x2], x9",
    "st1 {v3.b}[11], [x8]",
    "st2 {v4.b, v5.b}[9], [x3], #2",
    "st2 {v31.d, v0.d}[0], [x4]",
    "st3 {v6.h, v7.h, v8.h}[3], [x5], x11",
    "st3 {v9.s, v10.s, v11.s}[3], [sp], #12",
    "st4 {v12.b, v13.b, v14.b, v15.b}[12], [x6]",
    "st4 {v28.d, v29.d, v30.d, v31.d}[1], [x7], #32",
    "st4 {v16.h, v17.h, v18.h, v19.h}[0], [x0], x10",
    "st4 {v20.s, v21.s, v22.s, v23.s}[1], [x1]",
    # load and replicate
    "ld1r {v0.16b}, [x0]",
    "ld1r {v1.1d}, [x1], #8",
    "ld1r {v2.8b}, [x8], x9",
    "ld1r {v3.4s}, [sp]",
    "ld2r {v4.4h, v5.4h}, [x2], #4",
    "ld2r {v31.2d, v0.2d}, [x3]",
    "ld3r {v6.2s, v7.2s, v8.2s}, [x4], x11",
    "ld3r {v9.8h, v10.8h, v11.8h}, [x5], #6",
    "ld3r {v12.1d, v13.1d, v14.1d}, [x6]",
    "ld4r {v12.2d, v13.2d, v14.2d, v15.2d}, [x7], #32",
    "ld4r {v16.8b, v17.8b, v18.8b, v19.8b}, [x8]",
    "ld4r {v29.16b, v30.16b, v31.16b, v0.16b}, [x0], x10",
    "ld4r {v20.4s, v21.4s, v22.4s, v23.4s}, [x1]",
    # table lookups
    "tbl v0.8b, {v1.16b}, v16.8b",
    "tbl v2.16b, {v3.16b}, v17.16b",
    "tbl v4.16b, {v5.16b, v6.16b}, v18.16b",
    "tbl v7.8b, {v8.16b, v9.16b, v10.16b}, v19.8b",
    "tbl v11.16b, {v12.16b, v13.16b, v14.16b, v15.16b}, v20.16b",
    "tbl v21.16b, {v30.16b, v31.16b, v0.16b}, v22.16b",
    "tbl v16.16b, {v16.16b, v17.16b}, v16.16b",
    "tbx v0.8b, {v1.16b}, v23.8b",
    "tbx v2.16b, {v3.16b}, v24.16b",
    "tbx v4.16b, {v5.16b, v6.16b}, v25.16b",
    "tbx v7.16b, {v8.16b, v9.16b, v10.16b}, v26.16b",
    "tbx v11.8b, {v12.16b, v13.16b, v14.16b, v15.16b}, v27.8b",
    "tbx v28.16b, {v31.16b, v0.16b, v1.16b, v2.16b}, v29.16b",
]
for op in ["zip1", "zip2", "uzp1", "uzp2", "trn1", "trn2"]:
    for i, t in enumerate(["8b", "16b", "4h", "8h", "2s", "4s", "2d"]):
        CASES.append(f"{op} v{i}.{t}, v{i + 8}.{t}, v{i + 20}.{t}")
CASES.append("zip1 v3.4s, v3.4s, v3.4s")
CASES += [
    # EXT, REV
    "ext v0.8b, v1.8b, v2.8b, #3",
    "ext v3.8b, v4.8b, v5.8b, #0",
    "ext v6.8b, v7.8b, v8.8b, #7",
    "ext v9.16b, v10.16b, v11.16b, #0",
    "ext v12.16b, v13.16b, v14.16b, #9",
    "ext v15.16b, v16.16b, v17.16b, #15",
    "rev16 v0.8b, v1.8b",
    "rev16 v2.16b, v3.16b",
    "rev32 v4.8b, v5.8b",
    "rev32 v6.16b, v7.16b",
    "rev32 v8.4h, v9.4h",
    "rev32 v10.8h, v11.8h",
    "rev64 v12.8b, v13.8b",
    "rev64 v14.16b, v15.16b",
    "rev64 v16.4h, v17.4h",
    "rev64 v18.8h, v19.8h",
    "rev64 v20.2s, v21.2s",
    "rev64 v22.4s, v23.4s",
    # copies (general-register sources are X9-X11, the plain numbers)
    "dup v0.8b, v1.b[15]",
    "dup v2.16b, v3.b[0]",
    "dup v4.4h, v5.h[7]",
    "dup v6.8h, v7.h[3]",
    "dup v8.2s, v9.s[3]",
    "dup v10.4s, v11.s[1]",
    "dup v12.2d, v13.d[1]",
    "dup v14.8b, w10",
    "dup v15.16b, w9",
    "dup v16.4h, w10",
    "dup v17.8h, w11",
    "dup v18.2s, w10",
    "dup v19.4s, wzr",
    "dup v20.2d, x10",
    "mov v0.b[13], w10",
    "mov v1.h[6], w11",
    "mov v2.s[3], w10",
    "mov v3.d[1], x10",
    "mov v4.d[0], xzr",
    "mov v5.b[2], v6.b[14]",
    "mov v7.h[7], v8.h[1]",
    "mov v9.s[0], v10.s[3]",
    "mov v11.d[1], v12.d[0]",
    "umov w0, v1.b[15]",
    "umov w1, v2.h[5]",
    "mov w2, v3.s[3]",
    "mov x3, v4.d[1]",
    "umov wzr, v4.b[1]",
    "smov w4, v5.b[9]",
    "smov w5, v6.h[7]",
    "smov x6, v7.b[3]",
    "smov x7, v8.h[2]",
    "smov x8, v9.s[3]",
    "smov x9, v18.b[0]",
    "mov b0, v1.b[15]",
    "mov h2, v3.h[7]",
    "mov s4, v5.s[2]",
    "mov d6, v7.d[1]",
    "dup d8, v9.d[0]",
]


def buf_byte(k):
    return (k * 71 + 13) & 0xff


def v_init(i):
    b = [((16 * i + j) * 29) % 251 if i < 16 else ((16 * i + j) * 13) % 72 for j in range(16)]
    return int.from_bytes(bytes(b), "little")


def program(case):
    lines = [
        ".text", ".globl _start", "_start:",
        "adrp x28, buf", "add x28, x28, :lo12:buf",
        # fill buf
        "mov x1, #0", "1:", "mov x2, #71", "mul x2, x1, x2", "add x2, x2, #13",
        "strb w2, [x28, x1]", "add x1, x1, #1", "cmp x1, #1024", "b.ne 1b",
        "adrp x27, vinit", "add x27, x27, :lo12:vinit",
    ]
    for i in range(0, 32, 2):
        lines.append(f"ldp q{i}, q{i + 1}, [x27, #{16 * i}]")
    lines.append(f"add x1, x28, #{SP_INIT}")
    lines.append("mov sp, x1")
    for i, off in enumerate(X_INIT):
        if i in (9, 10, 11):
            lines.append(f"mov x{i}, #{off}")
        elif i != 28:
            lines.append(f"add x{i}, x28, #{off}")
    lines.append(f"add x28, x28, #{X_INIT[28]}")
    lines.append("nop // case start")
    lines += case.split(";")
    lines.append("nop // case end")
    lines += [
        "msr tpidr_el0, x0",
        "adrp x0, out", "add x0, x0, :lo12:out",
    ]
    for i in range(0, 32, 2):
        lines.append(f"stp q{i}, q{i + 1}, [x0, #{16 * i}]")
    for i in range(1, 31):
        lines.append(f"str x{i}, [x0, #{512 + 8 * i}]")
    lines += [
        "mrs x1, tpidr_el0", "str x1, [x0, #512]",
        "mov x1, sp", "str x1, [x0, #760]",
        "adrp x1, buf", "add x1, x1, :lo12:buf", "str x1, [x0, #768]",
        "sub x1, x0, #1024", "mov x0, #1", "mov x2, #(776 + 1024)", "mov x8, #64", "svc #0",
        "mov x0, #0", "mov x8, #93", "svc #0",
        ".data", ".balign 16", "vinit:",
    ]
    for i in range(32):
        v = v_init(i)
        lines.append(".quad 0x%016x, 0x%016x" % (v & (2**64 - 1), v >> 64))
    lines += [".balign 16", "buf: .zero 1024", "out: .zero 776"]
    return lines


def run(case):
    with tempfile.TemporaryDirectory() as d:
        ll = os.path.join(d, "t.ll")
        with open(ll, "w") as f:
            f.write('target triple = "aarch64-unknown-linux-gnu"\n')
            for line in program(case):
                f.write('module asm "%s"\n' % line.replace('"', '\\"'))
        obj, exe = os.path.join(d, "t.o"), os.path.join(d, "t")
        subprocess.check_call([f"{BIN}/llc", "-filetype=obj", "-mattr=+neon", ll, "-o", obj])
        subprocess.check_call([f"{BIN}/rust-lld", "-flavor", "gnu", "-static", obj, "-o", exe])
        dis = subprocess.check_output([f"{BIN}/llvm-objdump", "-d", obj], text=True)
        out = subprocess.check_output(["qemu-aarch64", "-cpu", "cortex-a57", exe])
    words, text, inside = [], [], False
    for line in dis.splitlines():
        m = re.match(r"\s*[0-9a-f]+:\s+([0-9a-f]{8})\s+(\S+)", line)
        if not m:
            continue
        if m.group(2) == "nop":
            if inside:
                break
            inside = True
            continue
        if inside:
            words.append(int(m.group(1), 16))
            text.append(" ".join(line.split("\t")[1:]).strip())
    assert len(out) == 776 + 1024, len(out)
    mem, out = out[:1024], out[1024:]
    v = [int.from_bytes(out[16 * i:16 * i + 16], "little") for i in range(32)]
    x = [int.from_bytes(out[512 + 8 * i:520 + 8 * i], "little") for i in range(32)]  # x[31] = SP
    buf = int.from_bytes(out[768:776], "little")
    return words, v, x, buf, mem, " ; ".join(text)


def random_cases(n):
    """`n` random words of the groups of llvm_words.py that LLVM accepts, with
    the register fields the shared initial state cannot take at random fixed
    up: structure bases are 16-byte aligned pointers or SP, post-index and
    DUP/INS general sources are X9-X11 or 31."""
    import llvm_words as lw
    rng = random.Random(0x51d)
    out = []
    for name, mask, value in lw.GROUPS:
        # Half of the sample for the structure loads/stores, the biggest group.
        want = n // 2 if name == "LDST_STRUCT" else n // (2 * (len(lw.GROUPS) - 1))
        valid = []
        while len(valid) < want:
            words = []
            for _ in range(64):
                w = (rng.getrandbits(32) & ~mask) | value
                if name == "LDST_STRUCT":
                    w &= ~(1 << 31)
                    rn = rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 12, 20, 23, 28, 30, 31])
                    w = (w & ~(31 << 5)) | (rn << 5)
                    rm = rng.choice([9, 10, 11, 31]) if w & (1 << 23) else 0
                    if not w & (1 << 24) and not w & (1 << 23):
                        w &= ~(1 << 21)
                    w = (w & ~(31 << 16)) | (rm << 16)
                if name == "COPY" and (w >> 11) & 15 in (1, 3) and not w & (1 << 29):
                    w = (w & ~(31 << 5)) | (rng.choice([9, 10, 11, 31]) << 5)
                words.append(w)
            valid += [w for w, ok in lw.classify(words) if ok]
        out += [".inst 0x%08x" % w for w in valid[:want]]
    return out


def main():
    import sys
    print("// Generated by tools/qemu_expect.py from qemu-aarch64 -cpu cortex-a57 runs.")
    cases, name = CASES, "CASES"
    if len(sys.argv) > 2 and sys.argv[1] == "--random":
        cases, name = random_cases(int(sys.argv[2])), "RANDOM_CASES"
    print(f"const {name}: &[Case] = &[")
    for case in cases:
        words, v, x, buf, mem, text = run(case)
        if case.startswith(".inst"):
            case = text
        dv = [(i, v[i]) for i in range(32) if v[i] != v_init(i)]
        x0 = [buf + o if i not in (9, 10, 11) else o % 2**64 for i, o in enumerate(X_INIT)] + [buf + SP_INIT]
        # Base write-back of loads/stores: as a difference; others: the value.
        rel = words[0] & 0x0a000000 == 0x08000000  # load/store group
        dx = [(i, (x[i] - x0[i]) % 2**64 if rel else x[i]) for i in range(32) if x[i] != x0[i]]
        dm = [(k, mem[k]) for k in range(1024) if mem[k] != buf_byte(k)]
        print("    Case {")
        print(f"        asm: {case!r},".replace("'", '"'))
        print("        words: &[%s]," % ", ".join("0x%08x" % w for w in words))
        print("        v: &[%s]," % ", ".join("(%d, 0x%032x)" % t for t in dv))
        print(f"        x_rel: {str(rel).lower()},")
        print("        x: &[%s]," % ", ".join("(%d, 0x%x)" % t for t in dx))
        print("        mem: &[%s]," % ", ".join("(%d, 0x%02x)" % t for t in dm))
        print("    },")
    print("];")


main()

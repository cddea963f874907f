import os, random, subprocess, re, sys, struct
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from q import run
random.seed(4242)
MATTR="+v8a,+neon,+aes,+sha2"
def enc_many(lines):
    r = subprocess.run(["llvm-mc","-triple=aarch64",f"-mattr={MATTR}","-show-encoding"],input="\n".join(lines),capture_output=True,text=True)
    assert r.returncode == 0, r.stderr
    out = []
    for m in re.finditer(r"encoding: \[0x(..),0x(..),0x(..),0x(..)\]", r.stdout):
        out.append(int(m.group(4)+m.group(3)+m.group(2)+m.group(1),16))
    assert len(out) == len(lines)
    return out
ops = ["aese v0.16b, v1.16b","aesd v0.16b, v1.16b","aesmc v0.16b, v1.16b","aesimc v0.16b, v1.16b",
       "sha1c q0, s1, v2.4s","sha1p q0, s1, v2.4s","sha1m q0, s1, v2.4s","sha1su0 v0.4s, v1.4s, v2.4s",
       "sha1h s0, s1","sha1su1 v0.4s, v1.4s","sha256h q0, q1, v2.4s","sha256h2 q0, q1, v2.4s",
       "sha256su0 v0.4s, v1.4s","sha256su1 v0.4s, v1.4s, v2.4s"]
words = enc_many(ops)
cases = []
mode = sys.argv[1]
if mode == "vectors":
    for text, w in zip(ops, words):
        for k in range(6):
            vals = [random.getrandbits(128) for _ in range(3)]
            buf = b"".join(v.to_bytes(16, "little") for v in vals)
            body = "    adr x1, buf\n    ldp q0, q1, [x1]\n    ldr q2, [x1, #32]\n" + f"    .inst {w:#010x}\n"
            r = run(body, buf, mattr="+v8a,+neon,+aes,+sha2")
            assert "v" in r, r
            cases.append((text, w, vals, r["v"][0]))
    print("/// (assembly, word, V0-V2 before, V0 after): \"after\" recorded from")
    print("/// qemu-aarch64 -cpu max (QEMU 10.0.2) on random register values.")
    print("const QEMU_CRYPTO: &[(&str, u32, [u128; 3], u128)] = &[")
    for t, w, v, o in cases:
        print(f'    ("{t}", {w:#010x}, [{v[0]:#x}, {v[1]:#x}, {v[2]:#x}], {o:#x}),')
    print("];")
elif mode == "sha256":
    prog = ["mov v20.16b, v0.16b", "mov v21.16b, v1.16b"]
    for i in range(16):
        a = 4 + i % 4
        prog += ["ld1 {v16.4s}, [x1], #16", f"add v16.4s, v16.4s, v{a}.4s", "mov v2.16b, v0.16b",
                 "sha256h q0, q1, v16.4s", "sha256h2 q1, q2, v16.4s"]
        if i < 12:
            prog += [f"sha256su0 v{a}.4s, v{4+(i+1)%4}.4s", f"sha256su1 v{a}.4s, v{4+(i+2)%4}.4s, v{4+(i+3)%4}.4s"]
    prog += ["add v0.4s, v0.4s, v20.4s", "add v1.4s, v1.4s, v21.4s"]
    ws = enc_many(prog)
    print("/// One SHA-256 block (the sha2-ce instruction sequence): state in V0/V1,")
    print("/// message words in V4-V7, X1 -> the 64 round constants. Encoded by llvm-mc.")
    print("const SHA256_BLOCK: &[u32] = &[")
    for t, w in zip(prog, ws): print(f"    {w:#010x}, // {t}")
    print("];")
elif mode == "sha1":
    prog = ["mov v20.16b, v0.16b", "mov v21.16b, v1.16b"]
    E = [17, 18]
    for i in range(20):
        a = 4 + i % 4
        op = "c" if i < 5 else "p" if i < 10 else "m" if i < 15 else "p"
        cur = 1 if i == 0 else E[i % 2]
        prog += [f"add v16.4s, v{a}.4s, v{24 + i // 5}.4s", f"sha1h s{E[(i+1)%2]}, s0", f"sha1{op} q0, s{cur}, v16.4s"]
        if i < 16:
            prog += [f"sha1su0 v{a}.4s, v{4+(i+1)%4}.4s, v{4+(i+2)%4}.4s", f"sha1su1 v{a}.4s, v{4+(i+3)%4}.4s"]
    prog += ["add v0.4s, v0.4s, v20.4s", f"add v{E[0]}.4s, v{E[0]}.4s, v21.4s"]
    ws = enc_many(prog)
    print("/// One SHA-1 block (the sha1-ce instruction sequence): a-d in V0, e in")
    print("/// V1, message words in V4-V7, K0-K3 in V24-V27; the final e is in V17.")
    print("/// Encoded by llvm-mc.")
    print("const SHA1_BLOCK: &[u32] = &[")
    for t, w in zip(prog, ws): print(f"    {w:#010x}, // {t}")
    print("];")
if mode == "aes":
    prog = []
    for r in range(9):
        prog += [f"aese v0.16b, v{1+r}.16b", "aesmc v0.16b, v0.16b"]
    prog += ["aese v0.16b, v10.16b", "eor v0.16b, v0.16b, v11.16b", "mov v30.16b, v0.16b"]
    prog += [f"aesimc v{1+i}.16b, v{1+i}.16b" for i in range(1, 10)]
    prog += ["aesd v0.16b, v11.16b", "aesimc v0.16b, v0.16b"]
    for r in range(9, 1, -1):
        prog += [f"aesd v0.16b, v{1+r}.16b", "aesimc v0.16b, v0.16b"]
    prog += ["aesd v0.16b, v2.16b", "eor v0.16b, v0.16b, v1.16b"]
    ws = enc_many(prog)
    print("/// AES-128: encrypt V0 with the round keys in V1-V11 (the aes-ce")
    print("/// sequence), keep the ciphertext in V30, then decrypt V0 again with the")
    print("/// equivalent inverse cipher (AESIMC on round keys 1-9). Encoded by llvm-mc.")
    print("const AES128_PROG: &[u32] = &[")
    for t, w in zip(prog, ws): print(f"    {w:#010x}, // {t}")
    print("];")
if mode == "k":
    from decimal import Decimal, getcontext
    getcontext().prec = 60
    primes = [p for p in range(2, 400) if all(p % d for d in range(2, p))][:64]
    ks = []
    for p in primes:
        c = Decimal(p) ** (Decimal(1) / Decimal(3))
        ks.append(int((c - int(c)) * (1 << 32)))
    print("/// SHA-256 round constants (FIPS 180-4, 4.2.2: the first 32 bits of the")
    print("/// fractional parts of the cube roots of the first 64 primes).")
    print("const SHA256_K: [u32; 64] = [")
    for i in range(0, 64, 8): print("    " + ", ".join(f"{k:#010x}" for k in ks[i:i+8]) + ",")
    print("];")

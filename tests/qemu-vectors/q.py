#!/usr/bin/env python3
"""Run an A64 snippet under qemu-aarch64 and print X0-X30, NZCV, V0-V31 and a 256-byte buffer."""
import subprocess, sys, os, tempfile, struct
BIN = os.path.expanduser("~/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/lib/rustlib/x86_64-unknown-linux-gnu/bin")
def run(body, buf=b"", mattr="+v8.1a,+lse,+crc,+crypto,+aes,+sha2,+neon"):
    buf = buf + bytes(256 - len(buf))
    src = ".text\n.globl _start\n_start:\n" + body + "\n" + """
    msr tpidr_el0, x0
    adr x0, out
    stp x1, x2, [x0, #8]
    stp x3, x4, [x0, #24]
    stp x5, x6, [x0, #40]
    stp x7, x8, [x0, #56]
    stp x9, x10, [x0, #72]
    stp x11, x12, [x0, #88]
    stp x13, x14, [x0, #104]
    stp x15, x16, [x0, #120]
    stp x17, x18, [x0, #136]
    stp x19, x20, [x0, #152]
    stp x21, x22, [x0, #168]
    stp x23, x24, [x0, #184]
    stp x25, x26, [x0, #200]
    stp x27, x28, [x0, #216]
    stp x29, x30, [x0, #232]
    mrs x1, tpidr_el0
    str x1, [x0]
    mrs x1, nzcv
    str x1, [x0, #248]
    add x0, x0, #256
""" + "".join(f"    str q{i}, [x0, #{16*i}]\n" for i in range(32)) + """
    mov x0, #1
    adr x1, out
    mov x2, #(256+512+256)
    mov x8, #64
    svc #0
    mov x0, #0
    mov x8, #93
    svc #0
.data
.balign 64
out: .skip 768
buf: .byte """ + ",".join(str(b) for b in buf) + "\n"
    d = tempfile.mkdtemp()
    open(f"{d}/t.s","w").write(src)
    subprocess.run(["llvm-mc","-triple=aarch64-linux-gnu",f"-mattr={mattr}","-filetype=obj","-o",f"{d}/t.o",f"{d}/t.s"],check=True)
    subprocess.run([f"{BIN}/rust-lld","-flavor","gnu","-static","-e","_start","-o",f"{d}/t",f"{d}/t.o"],check=True)
    r = subprocess.run(["qemu-aarch64","-cpu","max",f"{d}/t"],capture_output=True)
    o = r.stdout
    if len(o) != 1024:
        return {"error": r.returncode, "stderr": r.stderr.decode(), "len": len(o)}
    x = struct.unpack("<31Q", o[:248]); nzcv = struct.unpack("<Q", o[248:256])[0]
    v = [int.from_bytes(o[256+16*i:272+16*i], "little") for i in range(32)]
    return {"x": x, "nzcv": nzcv, "v": v, "buf": o[768:1024]}
if __name__ == "__main__":
    r = run(open(sys.argv[1]).read())
    print(r)

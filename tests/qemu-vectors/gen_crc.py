import os, random, sys, subprocess, re
sys.path.insert(0,os.path.dirname(os.path.abspath(__file__)))
from q import run
random.seed(99)
forms = [("crc32b","w"),("crc32h","w"),("crc32w","w"),("crc32x","x"),("crc32cb","w"),("crc32ch","w"),("crc32cw","w"),("crc32cx","x")]
out=[]
for name, r in forms:
    text = f"{name} w0, w1, {r}2"
    e = subprocess.run(["llvm-mc","-triple=aarch64","-mattr=+crc","-show-encoding"],input=text,capture_output=True,text=True).stdout
    m = re.search(r"encoding: \[0x(..),0x(..),0x(..),0x(..)\]", e); w = int(m.group(4)+m.group(3)+m.group(2)+m.group(1),16)
    for k in range(5):
        a = random.getrandbits(64); b = random.getrandbits(64)
        body = "".join(f"    movk x{reg}, #{(v >> s) & 0xffff}, lsl #{s}\n" for reg, v in ((1,a),(2,b)) for s in (0,16,32,48))
        body = "    mov x1, #0\n    mov x2, #0\n" + body + f"    .inst {w:#010x}\n"
        res = run(body)
        out.append((text, w, a, b, res["x"][0]))
print("/// (assembly, word, X1, X2, X0 after) recorded from qemu-aarch64 -cpu max.")
print("const QEMU_CRC: &[(&str, u32, u64, u64, u64)] = &[")
for t,w,a,b,o in out: print(f'    ("{t}", {w:#010x}, {a:#x}, {b:#x}, {o:#x}),')
print("];")

import os, random, subprocess, re, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from q import run
random.seed(20261201)
def enc(text):
    r = subprocess.run(["llvm-mc","-triple=aarch64","-mattr=+v8.1a,+lse","-show-encoding"],input=text,capture_output=True,text=True)
    assert r.returncode == 0, (text, r.stderr)
    m = re.search(r"encoding: \[0x(..),0x(..),0x(..),0x(..)\]", r.stdout)
    return int(m.group(4)+m.group(3)+m.group(2)+m.group(1),16)
def rnd(bits):
    # interesting values: random, with sign bit set sometimes, small
    c = random.random()
    if c < 0.2: return random.randrange(0, 4)
    if c < 0.4: return (1 << (bits-1)) | random.getrandbits(bits-1)
    return random.getrandbits(64)
sizes = {"b":0,"h":1,"":2,"x":3}
orders = ["","a","l","al"]
cases = []
ops = ["add","clr","eor","set","smax","smin","umax","umin"]
for i in range(160):
    kind = random.choice(["ld"]*8+["swp"]*2+["cas"]*3+["casp"]*2)
    o = random.choice(orders)
    if kind == "casp":
        x = random.choice([True, False])
        rp = "x" if x else "w"
        text = f"casp{o} {rp}2, {rp}3, {rp}4, {rp}5, [x1]"
        size = 3 if x else 2
    else:
        key = random.choice(list(sizes))
        size = sizes[key]
        sfx = key if key in ("b","h") else ""
        rp = "x" if size == 3 else "w"
        rt = random.choice([4,4,4,31,2]) 
        if kind == "ld":
            op = random.choice(ops)
            if rt == 31 and o in ("","l"):
                text = f"st{op}{o}{sfx} {rp}2, [x1]"
            else:
                text = f"ld{op}{o}{sfx} {rp}2, {rp}{rt if rt!=31 else 'zr'}, [x1]".replace(f"{rp}zr", "wzr" if rp=="w" else "xzr")
        elif kind == "swp":
            text = f"swp{o}{sfx} {rp}2, {rp}{rt}, [x1]".replace(f"{rp}31", "wzr" if rp=="w" else "xzr")
        else:
            text = f"cas{o}{sfx} {rp}2, {rp}{rt}, [x1]".replace(f"{rp}31", "wzr" if rp=="w" else "xzr")
    w = enc(text)
    regs = [rnd(64) for _ in range(4)]
    mem = [random.getrandbits(64), random.getrandbits(64)]
    if kind in ("cas","casp") and random.random() < 0.5:
        m = (1 << (8 << size)) - 1
        if kind == "cas":
            mem[0] = (mem[0] & ~m) | (regs[0] & m)
        elif size == 3:
            mem = [regs[0], regs[1]]
        else:
            mem[0] = (regs[0] & m) | ((regs[1] & m) << 32)
    body = "    adr x1, buf\n"
    for i, v in enumerate(regs):
        r = i + 2
        body += f"    movz x{r}, #{v & 0xffff}\n" + "".join(f"    movk x{r}, #{(v >> s) & 0xffff}, lsl #{s}\n" for s in (16,32,48))
    body += f"    .inst {w:#010x}\n"
    res = run(body, mem[0].to_bytes(8,"little") + mem[1].to_bytes(8,"little"))
    assert "x" in res, (text, res)
    after = [res["x"][i] for i in (2,3,4,5)]
    buf = res["buf"]
    mafter = [int.from_bytes(buf[0:8],"little"), int.from_bytes(buf[8:16],"little")]
    cases.append((text, w, mem, regs, mafter, after))
print("/// (assembly, word, memory before, X2-X5 before, memory after, X2-X5 after),")
print("/// the \"after\" values recorded from qemu-aarch64 -cpu max (QEMU 10.0.2).")
print("const QEMU_ATOMICS: &[(&str, u32, [u64; 2], [u64; 4], [u64; 2], [u64; 4])] = &[")
for (t,w,m,r,ma,a) in cases:
    h = lambda l: "[" + ", ".join(f"{v:#x}" for v in l) + "]"
    print(f'    ("{t}", {w:#010x}, {h(m)}, {h(r)}, {h(ma)}, {h(a)}),')
print("];")

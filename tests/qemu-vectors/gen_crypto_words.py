import os, random, sys
sys.path.insert(0,os.path.dirname(os.path.abspath(__file__)))
from classify import classify
random.seed(11)
words=[]
for _ in range(3000):
    r = random.getrandbits(32)
    c = random.random()
    if c < 0.33:   # AES slot neighbourhood: 01001110 xx 10100 xxxxx 10 Rn Rd, random size and opcode
        w = 0x4e280800 | (r & 0x3ff) | ((((r >> 10) & 31) if random.random()<0.5 else random.randrange(4,8)) << 12) | ((((r >> 15) & 3) if random.random()<0.3 else 0) << 22)
        if random.random() < 0.2: w ^= 1 << random.randrange(10, 32)
    elif c < 0.66: # SHA three-register: 01011110 xx 0 Rm x opcode 00 Rn Rd
        w = 0x5e000000 | (r & 0x3ff) | ((((r >> 10) & 0x3f) if random.random()<0.5 else random.randrange(0,8)) << 12) | (((r >> 16) & 31) << 16) | ((((r >> 21) & 3) if random.random()<0.3 else 0) << 22)
        if random.random() < 0.2: w ^= 1 << random.randrange(10, 32)
    else:          # SHA two-register
        w = 0x5e280800 | (r & 0x3ff) | ((((r >> 10) & 31) if random.random()<0.5 else random.randrange(0,3)) << 12) | ((((r >> 15) & 3) if random.random()<0.3 else 0) << 22)
        if random.random() < 0.2: w ^= 1 << random.randrange(10, 32)
    words.append(w)
v, inv = classify(words)
def emit(name, l):
    print(f"const {name}: &[u32] = &[")
    l = sorted(set(l))
    for i in range(0, len(l), 8):
        print("    " + ", ".join(f"{w:#010x}" for w in l[i:i+8]) + ",")
    print("];")
emit("CRYPTO_SLOT_VALID", [w for w,t in v.items() if t.split()[0] in ("aese","aesd","aesmc","aesimc","sha1c","sha1p","sha1m","sha1h","sha1su0","sha1su1","sha256h","sha256h2","sha256su0","sha256su1")]); emit("CRYPTO_SLOT_INVALID", inv)
import collections
print(collections.Counter(t.split()[0] for t in v.values()), file=sys.stderr)

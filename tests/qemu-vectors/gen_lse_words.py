import os, random, sys
sys.path.insert(0,os.path.dirname(os.path.abspath(__file__)))
from classify import classify
random.seed(7)
words = []
for _ in range(1500):
    # load/store register group, atomic slot: size 111 V 00 A R 1 Rs o3 opc 00 Rn Rt
    w = random.getrandbits(32)
    w = (w & ~(0b111 << 27)) | (0b111 << 27)
    w &= ~(0b11 << 24); w |= 1 << 21; w &= ~(0b11 << 10)
    if random.random() < 0.8: w &= ~(1 << 26)
    words.append(w)
for _ in range(1500):
    # exclusive group: size 001000 o2 L o1 Rs o0 Rt2 Rn Rt
    w = random.getrandbits(32)
    w = (w & ~(0b111111 << 24)) | (0b001000 << 24)
    if random.random() < 0.6: w |= 0b11111 << 10
    if random.random() < 0.6: w |= 1 << 21
    words.append(w)
v, inv = classify(words)
def emit(name, l):
    print(f"const {name}: &[u32] = &[")
    l = sorted(set(l))
    for i in range(0, len(l), 8):
        print("    " + ", ".join(f"{w:#010x}" for w in l[i:i+8]) + ",")
    print("];")
emit("LSE_VALID", v.keys()); emit("LSE_INVALID", inv)
import collections
print("//", collections.Counter(t.split()[0] for t in v.values()).most_common(80), file=sys.stderr)

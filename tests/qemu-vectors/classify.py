import subprocess, re
MATTR = "+v8a,+neon,+fp-armv8,+crc,+lse,+aes,+sha2"
def classify(words, mattr=MATTR):
    """Return (valid dict word->text, invalid set)."""
    inp = "\n".join(" ".join(f"0x{(w >> (8*i)) & 0xff:02x}" for i in range(4)) for w in words) + "\n"
    r = subprocess.run(["llvm-mc","--disassemble","-triple=aarch64",f"-mattr={mattr}"],input=inp,capture_output=True,text=True)
    bad = set()
    for m in re.finditer(r"<stdin>:(\d+):\d+: warning: invalid instruction encoding", r.stderr):
        bad.add(int(m.group(1)) - 1)
    outs = [l.strip() for l in r.stdout.splitlines() if l.strip() and not l.strip().startswith(".text")]
    valid = {}; inval = set(); j = 0
    for i, w in enumerate(words):
        if i in bad: inval.add(w)
        else:
            valid[w] = outs[j]; j += 1
    assert j == len(outs), (j, len(outs))
    return valid, inval

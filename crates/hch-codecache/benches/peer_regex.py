"""Peer for the codelist benchmark: the leak research's regex over the same file (best of 3)."""
import re, sys, time
rx = re.compile(r'^(\d+) (-?\d+) (-?\d+) (\S+) \[(0x[0-9a-f]+), (0x[0-9a-f]+) - (0x[0-9a-f]+)\]$')
text = open(sys.argv[1]).read()
best = 1e9
for _ in range(3):
    t = time.perf_counter()
    n = 0
    for line in text.splitlines():
        m = rx.match(line)
        if m:
            n += 1
            (int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4), int(m.group(5), 16), int(m.group(6), 16), int(m.group(7), 16))
    best = min(best, time.perf_counter() - t)
print(f"python re: {n} lines, best of 3: {best*1e3:.0f} ms")

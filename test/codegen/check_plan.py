"""Checks the arena plan a generated NAME.c declares (its `#define Bk OFFSET
/* BYTES bytes, ops FIRST..LAST */` lines): every buffer is 64-byte aligned
and inside the arena, no two buffers whose lives overlap share a byte, and
the arena is smaller than the buffers laid end to end (memory is reused).
Usage: check_plan.py NAME.c; prints the figures."""
import re
import sys

src = open(sys.argv[1]).read()
arena = int(re.search(r"Arena plan: \d+ buffers in (\d+) bytes", src).group(1))
bufs = [tuple(map(int, m)) for m in re.findall(r"#define B\d+ (\d+) /\* (\d+) bytes, ops (\d+)\.\.(\d+) \*/", src)]
assert bufs, "no buffers"
bad = 0
for i, (o1, n1, f1, l1) in enumerate(bufs):
    if o1 % 64 or o1 + n1 > arena:
        print(f"buffer {i}: offset {o1}, {n1} bytes: misaligned or outside the {arena}-byte arena")
        bad += 1
    for j in range(i):
        o2, n2, f2, l2 = bufs[j]
        if f1 <= l2 and f2 <= l1 and o1 < o2 + n2 and o2 < o1 + n1:
            print(f"buffers {j} and {i} are live together (ops {f2}..{l2}, {f1}..{l1}) and overlap")
            bad += 1
total = sum(n for _, n, _, _ in bufs)
print(f"{len(bufs)} buffers, {total} bytes end to end, arena {arena} bytes")
if arena >= total:
    print("no reuse")
    bad += 1
sys.exit(1 if bad else 0)

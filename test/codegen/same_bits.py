"""Exit 0 when two .npy files hold the same shape, dtype and bytes; else
print the first differing element and exit 1. Used by the C backend's
bit-exactness tests (test/codegen/check_compiled.sh)."""
import sys

import numpy as np

a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
if a.dtype != b.dtype or a.shape != b.shape:
    print(f"MISMATCH {sys.argv[1]}: {a.dtype}{list(a.shape)} vs {b.dtype}{list(b.shape)}")
    sys.exit(1)
x, y = a.reshape(-1).view(np.uint8), b.reshape(-1).view(np.uint8)
if not np.array_equal(x, y):
    av, bv = a.reshape(-1), b.reshape(-1)
    diff = (x.reshape(av.size, -1) != y.reshape(bv.size, -1)).any(axis=1)
    i = int(np.nonzero(diff)[0][0])
    print(f"MISMATCH {sys.argv[1]}: element {i}: {av[i]!r} vs {bv[i]!r}; {int(diff.sum())} of {av.size} differ")
    sys.exit(1)
print(f"same bits: {a.dtype}{list(a.shape)}")

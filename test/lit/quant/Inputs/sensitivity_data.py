#!/usr/bin/python3
"""Writes the samples of report-sensitivity.qir (test_data_set layout, .npy)
into OUTDIR: x is f32[4x8] of values in [-1, 1] from a fixed generator,
with x[0, 0] = 1000 in the first set. Column 0 of x meets only the zero row
0 of W1, so the outlier never reaches h or y; it only widens x's per-tensor
range (u8 step about 1000/255 = 3.9, larger than every other x), which
makes x the activation whose rounding hurts y.

    sensitivity_data.py OUTDIR
"""
import os
import sys

import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(7)
for i in range(2):
    x = rng.uniform(-1, 1, (4, 8)).astype(np.float32)
    if i == 0:
        x[0, 0] = 1000
    d = os.path.join(out, "test_data_set_%d" % i)
    os.makedirs(d, exist_ok=True)
    np.save(os.path.join(d, "input_0.npy"), x)

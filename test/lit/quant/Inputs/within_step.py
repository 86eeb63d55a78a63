"""Compares two quench-run output folders (output_K.npy) of a QDQ graph and
its lower-int lowering: every output K must agree within steps[K] (one
quantization step of that output) up to float rounding.
Usage: within_step.py QDQ_DIR LOWERED_DIR STEP0 [STEP1 ...]"""
import sys

import numpy as np

a_dir, b_dir, steps = sys.argv[1], sys.argv[2], [float(s) for s in sys.argv[3:]]
bad = 0
for k, step in enumerate(steps):
    a = np.load(f"{a_dir}/output_{k}.npy").astype(np.float64)
    b = np.load(f"{b_dir}/output_{k}.npy").astype(np.float64)
    assert a.shape == b.shape, (k, a.shape, b.shape)
    d = np.abs(a - b)
    steps_off = np.rint(d / step).astype(np.int64)
    ok = bool(np.all(d <= step * (1 + 1e-5)))
    bad += not ok
    print(f"output {k}: {'ok' if ok else 'FAIL'} max {steps_off.max()} step(s) off, "
          f"{int((steps_off > 0).sum())} of {d.size} differ")
sys.exit(1 if bad else 0)

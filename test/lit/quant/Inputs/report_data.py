#!/usr/bin/python3
"""Writes the two evaluation samples of the report-*.qir tests (test_data_set
layout, .npy files) into OUTDIR, and a wrong-shape set into OUTDIR-bad.

    report_data.py OUTDIR
"""
import os
import sys

import numpy as np

out = sys.argv[1]
sets = [np.array([[1.2, 2, 3], [0.4, -1, 0.2]], np.float32),
        np.array([[0.9, 1.1, 0], [0, 0, 2]], np.float32)]
for i, x in enumerate(sets):
    d = os.path.join(out, "test_data_set_%d" % i)
    os.makedirs(d, exist_ok=True)
    np.save(os.path.join(d, "input_0.npy"), x)
bad = os.path.join(out + "-bad", "test_data_set_0")
os.makedirs(bad, exist_ok=True)
np.save(os.path.join(bad, "input_0.npy"), np.zeros((2, 4), np.float32))

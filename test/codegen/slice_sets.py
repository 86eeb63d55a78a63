"""Writes batch-1 test sets from a batched one: row r of every input of
SRC/test_data_set_0 becomes DST/test_data_set_r/input_K.pb, for r < N.
Usage: slice_sets.py SRC DST N. Needs Debian's python3-onnx."""
import os
import sys

import onnx
from onnx import numpy_helper

src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
folder = os.path.join(src, "test_data_set_0")
inputs = sorted(f for f in os.listdir(folder) if f.startswith("input_"))
for r in range(n):
    out = os.path.join(dst, f"test_data_set_{r}")
    os.makedirs(out, exist_ok=True)
    for f in inputs:
        t = onnx.TensorProto()
        with open(os.path.join(folder, f), "rb") as fh:
            t.ParseFromString(fh.read())
        a = numpy_helper.to_array(t)[r:r + 1]
        with open(os.path.join(out, f), "wb") as fh:
            fh.write(numpy_helper.from_array(a, t.name).SerializeToString())

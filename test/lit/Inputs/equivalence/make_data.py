# Writes the samples of test/lit/pm/equivalence-data.qir: x (1x2 f32) =
# [0, 1], [1, 0], [0, 0] in sets/test_data_set_{0,1,2}/input_0.npy.
# Run with /usr/bin/python3 (numpy) from this folder.
import os
import numpy as np

for i, x in enumerate([[0, 1], [1, 0], [0, 0]]):
    d = f"sets/test_data_set_{i}"
    os.makedirs(d, exist_ok=True)
    np.save(f"{d}/input_0.npy", np.array([x], dtype=np.float32))

#!/usr/bin/env python3
"""`quench-run --numerics ort` against ONNX Runtime, bit for bit (run by
test/ort/run.sh in a venv holding onnxruntime, onnx and numpy).

    numerics.py BIN_DIR WORK_DIR

One-node models: Tanh over a sweep of [-10, 10] and Sigmoid over [-20, 20],
plus NaN, +-inf, +-0 and subnormals, and f32 ReduceSum/ReduceMean in every pattern the ort mode
covers: rows (the reduced axes last, rows starting off a 16-byte boundary,
shorter than a packet), columns (the reduced axes first), the middle axis
(lengths 4k, 4k+1, 4k+2, 4k+3: the one-row SGEMM's groups of 4, 2 and 1),
every axis, and a pattern left to the exact path (two separate axes, where
ONNX Runtime's order is not emulated: checked only to be within 1e-5
relative). Inputs mix magnitudes 2^-8 to 2^24 so that the order of
additions shows in the last bits. Each output of the ort mode must equal
ONNX Runtime's bit for bit; and for every emulated case the exact mode
(double accumulation, libm's tanh) must differ in some element, which shows that these
inputs tell the orders apart. Exit 1 on any failure.
"""
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper


def model(op, shape, axes, keepdims):
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)]
    inits = []
    node_in = ["x"]
    if axes is not None:
        inits.append(helper.make_tensor("axes", TensorProto.INT64, [len(axes)], axes))
        node_in.append("axes")
    attrs = {} if op in ("Tanh", "Sigmoid") else {"keepdims": keepdims}
    node = helper.make_node(op, node_in, ["y"], **attrs)
    g = helper.make_graph([node], op.lower(), inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 8
    return m


def mixed(rng, shape):
    mag = np.exp2(rng.integers(-8, 25, size=shape)).astype(np.float32)
    return (rng.standard_normal(shape).astype(np.float32) * mag).astype(np.float32)


def run_quench(bin_dir, work, name, m, x, numerics):
    path = os.path.join(work, name + ".onnx")
    onnx.save(m, path)
    np.save(os.path.join(work, name + ".in.npy"), x)
    out = os.path.join(work, name + "." + numerics)
    os.makedirs(out, exist_ok=True)
    r = subprocess.run([os.path.join(bin_dir, "quench-run"), path, os.path.join(work, name + ".in.npy"),
                        "--numerics", numerics, "--output-dir", out, "--format", "npy"], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("quench-run failed on %s: %s" % (name, r.stderr.strip()))
    return np.load(os.path.join(out, "output_0.npy"))


def main():
    bin_dir, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(7)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sweep = np.concatenate([np.linspace(-10, 10, 40001, dtype=np.float32), rng.normal(0, 2, 20000).astype(np.float32),
                            np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -1e-40, 9.0, -9.0], np.float32)])
    sweep_s = np.concatenate([np.linspace(-20, 20, 40001, dtype=np.float32), rng.normal(0, 4, 20000).astype(np.float32),
                              np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -1e-40, 18.0, -18.0], np.float32)])
    cases = [("tanh", "Tanh", sweep, None, 1, True), ("sigmoid", "Sigmoid", sweep_s, None, 1, True)]
    for op in ("ReduceSum", "ReduceMean"):
        cases += [
            (op + "-rows", op, mixed(rng, (7, 37)), [1], 1, True),
            (op + "-rows-short", op, mixed(rng, (64, 3)), [1], 0, True),
            (op + "-rows-3d", op, mixed(rng, (16, 5, 19)), [1, 2], 1, True),
            (op + "-cols", op, mixed(rng, (29, 6)), [0], 0, True),
            (op + "-all", op, mixed(rng, (9, 23)), [], 0, True),
        ]
        for r in (12, 13, 14, 15):
            cases.append((op + "-mid%d" % r, op, mixed(rng, (3, r, 10)), [1], 1, True))
        cases.append((op + "-split-axes", op, mixed(rng, (4, 6, 5)), [0, 2], 1, False))
    failed = 0
    for name, op, x, axes, keep, emulated in cases:
        m = model(op, list(x.shape), axes or None, keep)  # [] : every axis, no axes input
        sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
        want = sess.run(None, {"x": x})[0]
        got = run_quench(bin_dir, work, name, m, x, "ort")
        exact = run_quench(bin_dir, work, name, m, x, "exact")
        same = got.shape == want.shape and np.array_equal(got.view(np.uint32), want.view(np.uint32))
        if emulated:
            ok = same
            detail = "bit-exact" if same else "%d of %d elements differ" % (
                int(np.sum(got.view(np.uint32) != want.view(np.uint32))) if got.shape == want.shape else -1, want.size)
            if np.array_equal(exact, want):
                ok = False
                detail += "; but the exact mode agrees too: these inputs do not tell the orders apart"
        else:
            ok = got.shape == want.shape and np.allclose(got, want, rtol=1e-5, atol=0)
            detail = "exact path, within 1e-5 relative" if ok else "exact path, off by more than 1e-5"
        print("%-4s %-24s %s" % ("ok" if ok else "FAIL", name, detail))
        failed += not ok
    print("numerics: %d of %d cases pass (onnxruntime %s)" % (len(cases) - failed, len(cases), ort.__version__))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

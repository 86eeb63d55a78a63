#!/usr/bin/python3
"""Builds the outlier test model: one small transformer block whose
LayerNorm outputs carry a few channels 50-100x larger than the rest, the
activation pattern reported for LLMs (Dettmers et al. 2022, "LLM.int8()";
Xiao et al. 2023, "SmoothQuant", fig. 4). The outlier passes
(docs/passes/README.md) are measured on it; test/lit/models/outlier-model.test
builds it at test time (nothing generated is committed).

    x [1, 32, 64] -> LayerNormalization (gamma/beta: a few channels 50-100x)
      -> q, k, v = MatMul + bias -> single-head attention (Softmax)
      -> o_proj MatMul + bias -> Add x -> LayerNormalization (outliers again)
      -> fc1 MatMul + bias -> Relu -> fc2 MatMul + bias -> Add -> y [1, 32, 64]

Weights are seeded Gaussians scaled 1/sqrt(fan-in); the rows that read an
outlier channel are scaled down 10x so the attention logits stay moderate
(the outliers still dominate every per-tensor activation range). Each of
the N test sets draws x from its own seed; the reference outputs are
computed in numpy float64 from the float32 weights, then cast to float32.

Usage: /usr/bin/python3 scripts/make_outlier_model.py DIR [--sets N]
Needs Debian's python3-onnx and python3-numpy. Deterministic.
"""
import argparse
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

T, D, F = 32, 64, 128  # tokens, model width, MLP width
OUTLIERS = (3, 17, 42, 58)  # channels carrying outliers
EPS = 1e-5


def weights(rng):
    """All initializers (float32), seeded."""
    w = {}
    for i, ln in enumerate(("ln1", "ln2")):
        g = 1.0 + 0.1 * rng.standard_normal(D)
        b = 0.1 * rng.standard_normal(D)
        for j, c in enumerate(OUTLIERS):
            # 50x .. 100x the ordinary channels, alternating signs.
            g[c] = (50.0 + 50.0 * ((j + i) % len(OUTLIERS)) / (len(OUTLIERS) - 1)) * (1 if j % 2 == 0 else -1)
            b[c] = 0.2 * g[c]
        w[ln + ".gamma"], w[ln + ".beta"] = g, b

    def lin(name, n_in, n_out, outlier_rows):
        m = rng.standard_normal((n_in, n_out)) / math.sqrt(n_in)
        if outlier_rows:
            for c in OUTLIERS:
                m[c, :] *= 0.1
        w[name + ".weight"] = m
        w[name + ".bias"] = 0.02 * rng.standard_normal(n_out)

    for name in ("q", "k", "v"):
        lin(name, D, D, True)
    lin("o", D, D, False)
    lin("fc1", D, F, True)
    lin("fc2", F, D, False)
    return {k: v.astype(np.float32) for k, v in w.items()}


def layernorm(x, g, b):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + EPS) * g + b


def reference(x, w):
    """The block in float64."""
    w = {k: v.astype(np.float64) for k, v in w.items()}
    x = x.astype(np.float64)
    h = layernorm(x, w["ln1.gamma"], w["ln1.beta"])
    q, k, v = (h @ w[n + ".weight"] + w[n + ".bias"] for n in ("q", "k", "v"))
    s = (q @ np.swapaxes(k, -1, -2)) * (1.0 / math.sqrt(D))
    s = np.exp(s - s.max(axis=-1, keepdims=True))
    p = s / s.sum(axis=-1, keepdims=True)
    a = (p @ v) @ w["o.weight"] + w["o.bias"]
    r = x + a
    h2 = layernorm(r, w["ln2.gamma"], w["ln2.beta"])
    f = np.maximum(h2 @ w["fc1.weight"] + w["fc1.bias"], 0.0)
    return r + f @ w["fc2.weight"] + w["fc2.bias"]


def build(w):
    n = []
    def node(op, ins, out, name, **attrs):
        n.append(helper.make_node(op, ins, [out], name=name, **attrs))

    node("LayerNormalization", ["x", "ln1.gamma", "ln1.beta"], "ln1", "ln1", axis=-1, epsilon=EPS)
    for p in ("q", "k", "v"):
        node("MatMul", ["ln1", p + ".weight"], p + ".mm", p + "_proj")
        node("Add", [p + ".mm", p + ".bias"], p, p + "_bias")
    node("Transpose", ["k"], "kT", "k_transpose", perm=[0, 2, 1])
    node("MatMul", ["q", "kT"], "scores.raw", "scores")
    node("Mul", ["scores.raw", "inv_sqrt_d"], "scores.scaled", "scores_scale")
    node("Softmax", ["scores.scaled"], "probs", "softmax", axis=-1)
    node("MatMul", ["probs", "v"], "ctx", "attn_v")
    node("MatMul", ["ctx", "o.weight"], "o.mm", "o_proj")
    node("Add", ["o.mm", "o.bias"], "attn", "o_bias")
    node("Add", ["x", "attn"], "resid1", "resid1")
    node("LayerNormalization", ["resid1", "ln2.gamma", "ln2.beta"], "ln2", "ln2", axis=-1, epsilon=EPS)
    node("MatMul", ["ln2", "fc1.weight"], "fc1.mm", "fc1")
    node("Add", ["fc1.mm", "fc1.bias"], "fc1.out", "fc1_bias")
    node("Relu", ["fc1.out"], "act", "relu")
    node("MatMul", ["act", "fc2.weight"], "fc2.mm", "fc2")
    node("Add", ["fc2.mm", "fc2.bias"], "mlp", "fc2_bias")
    node("Add", ["resid1", "mlp"], "y", "resid2")
    inits = [numpy_helper.from_array(v, k) for k, v in sorted(w.items())]
    inits.append(numpy_helper.from_array(np.array(1.0 / math.sqrt(D), dtype=np.float32), "inv_sqrt_d"))
    g = helper.make_graph(n, "outlier_block",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, T, D])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, T, D])], inits)
    m = helper.make_model(g, producer_name="quench make_outlier_model.py",
                          opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir")
    ap.add_argument("--sets", type=int, default=8, help="test_data_set_* folders (default 8)")
    a = ap.parse_args()
    if a.sets < 1:
        sys.exit("make_outlier_model.py: --sets must be at least 1")
    w = weights(np.random.default_rng(20231))
    os.makedirs(a.dir, exist_ok=True)
    onnx.save(build(w), os.path.join(a.dir, "model.onnx"))
    for i in range(a.sets):
        x = np.random.default_rng(1000 + i).standard_normal((1, T, D)).astype(np.float32)
        y = reference(x, w).astype(np.float32)
        d = os.path.join(a.dir, "test_data_set_%d" % i)
        os.makedirs(d, exist_ok=True)
        for name, arr, f in (("x", x, "input_0.pb"), ("y", y, "output_0.pb")):
            with open(os.path.join(d, f), "wb") as fh:
                fh.write(numpy_helper.from_array(arr, name).SerializeToString())


if __name__ == "__main__":
    main()

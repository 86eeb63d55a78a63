#!/usr/bin/python3
"""Builds the C backend's coverage model: one small CNN that uses every op
kind `quench compile` lowers differently, so a single bit-exactness run
covers them (test/lit/codegen/compile-coverage.test):

    x [1, 4, 12, 12]
      -> Conv 3x3 pad 1 (GEMM conv, padding taps) -> Relu
      -> Conv 3x3 stride 2 group 8 (depthwise, strided) -> HardSwish
      -> Conv 1x1 group 2 (grouped GEMM conv)  ---------------+
      -> MaxPool 2x2 / AveragePool 3x3 pad 1 (both kept)      |
      -> Add(pool, conv) (quench.QAdd, residual) <------------+
      -> GlobalAveragePool -> Conv 1x1 -> HardSigmoid -> Mul (SE scale,
         quantized for the next Conv: the fused channel gate)
      -> Conv 1x1 -> Transpose / Reshape -> MatMul + bias (Gemm path) -> Sigmoid
      -> Concat with a second MatMul branch (on a Slice of the flattened
         tensor: a contiguous run, compiled as a view) -> Softmax -> y [1, 20]

Weights are seeded Gaussians scaled 1/sqrt(fan-in). Writes DIR/model.onnx and
N calibration/evaluation inputs DIR/test_data_set_K/input_0.pb (seeded).
--gate-shared also returns ReduceMax of the residual sum (a float op) as a
second output, so its dequantized floats are needed and the gate must not
be fused.
Usage: /usr/bin/python3 test/codegen/make_codegen_model.py DIR [--sets N] [--gate-shared]
Needs Debian's python3-onnx and python3-numpy. Deterministic.
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--sets", type=int, default=3)
    ap.add_argument("--gate-shared", action="store_true")
    a = ap.parse_args()
    rng = np.random.default_rng(6)
    inits, nodes = [], []

    def w(name, *shape):
        fan = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
        v = (rng.standard_normal(shape) / np.sqrt(fan)).astype(np.float32)
        inits.append(numpy_helper.from_array(v, name))
        return name

    def b(name, n):
        inits.append(numpy_helper.from_array((0.1 * rng.standard_normal(n)).astype(np.float32), name))
        return name

    def node(op, ins, out, **attrs):
        nodes.append(helper.make_node(op, ins, [out], name=out, **attrs))
        return out

    x = "x"
    c1 = node("Conv", [x, w("w1", 8, 4, 3, 3), b("b1", 8)], "conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    r1 = node("Relu", [c1], "relu1")
    dw = node("Conv", [r1, w("wdw", 8, 1, 3, 3), b("bdw", 8)], "dwconv", kernel_shape=[3, 3], pads=[1, 1, 1, 1],
              strides=[2, 2], group=8)
    hs = node("HardSwish", [dw], "hswish")
    g2 = node("Conv", [hs, w("wg", 8, 4, 1, 1), b("bg", 8)], "gconv", kernel_shape=[1, 1], group=2)
    mp = node("MaxPool", [g2], "maxpool", kernel_shape=[2, 2], strides=[1, 1], pads=[0, 0, 1, 1])
    avp = node("AveragePool", [mp], "avgpool", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    add = node("Add", [avp, g2], "residual")
    gap = node("GlobalAveragePool", [add], "gap")
    se = node("Conv", [gap, w("wse", 8, 8, 1, 1), b("bse", 8)], "se_conv", kernel_shape=[1, 1])
    hsig = node("HardSigmoid", [se], "se_gate", alpha=0.2, beta=0.5)
    mul = node("Mul", [add, hsig], "se_scale")
    pw = node("Conv", [mul, w("wpw", 8, 8, 1, 1), b("bpw", 8)], "se_pw", kernel_shape=[1, 1])
    tr = node("Transpose", [pw], "nhwc", perm=[0, 2, 3, 1])
    inits.append(numpy_helper.from_array(np.array([1, 6 * 6 * 8], np.int64), "flat_shape"))
    flat = node("Reshape", [tr, "flat_shape"], "flat")
    m1 = node("MatMul", [flat, w("wfc", 288, 12)], "fc")
    fc = node("Add", [m1, b("bfc", 12)], "fc_bias")
    sg = node("Sigmoid", [fc], "fc_act")
    inits.append(numpy_helper.from_array(np.array([96], np.int64), "sl_start"))
    inits.append(numpy_helper.from_array(np.array([288], np.int64), "sl_end"))
    inits.append(numpy_helper.from_array(np.array([1], np.int64), "sl_axis"))
    tail = node("Slice", [flat, "sl_start", "sl_end", "sl_axis"], "tail")
    m2 = node("MatMul", [tail, w("wfc2", 192, 8)], "fc2")
    cat = node("Concat", [sg, m2], "concat", axis=1)
    node("Softmax", [cat], "y", axis=1)
    outs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 20])]
    if a.gate_shared:
        node("ReduceMax", [add], "residual_max", axes=[2, 3], keepdims=0)
        outs.append(helper.make_tensor_value_info("residual_max", TensorProto.FLOAT, [1, 8]))
    graph = helper.make_graph(nodes, "codegen_coverage",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 12, 12])], outs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="make_codegen_model")
    model.ir_version = 8
    onnx.checker.check_model(model)
    os.makedirs(a.dir, exist_ok=True)
    onnx.save(model, os.path.join(a.dir, "model.onnx"))
    for k in range(a.sets):
        d = os.path.join(a.dir, f"test_data_set_{k}")
        os.makedirs(d, exist_ok=True)
        v = np.random.default_rng(100 + k).standard_normal((1, 4, 12, 12)).astype(np.float32)
        with open(os.path.join(d, "input_0.pb"), "wb") as f:
            f.write(numpy_helper.from_array(v, "x").SerializeToString())


if __name__ == "__main__":
    main()

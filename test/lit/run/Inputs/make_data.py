#!/usr/bin/python3
"""Writes tensor files, tiny ONNX models and node-test folders for the
quench-run and quench-conformance lit tests. Expected outputs are computed
here with numpy, never by quench.

    make_data.py CASE OUTDIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def save_pb(path, array, name):
    t = numpy_helper.from_array(array, name)
    with open(path, "wb") as f:
        f.write(t.SerializeToString())


def model(nodes, inputs, outputs, opset=17):
    g = helper.make_graph(nodes, "g", inputs, outputs)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="make_data.py")
    m.ir_version = 8
    return m


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def add_model(path):
    """z = x + y (f32[2x3] + f32[3]), idx = ArgMax(z, axis 1) as int64."""
    m = model([helper.make_node("Add", ["x", "y"], ["z"]),
               helper.make_node("ArgMax", ["z"], ["idx"], axis=1, keepdims=0)],
              [vi("x", TensorProto.FLOAT, [2, 3]), vi("y", TensorProto.FLOAT, [3])],
              [vi("z", TensorProto.FLOAT, [2, 3]), vi("idx", TensorProto.INT64, [2])])
    onnx.save(m, path)


X = np.array([[1, -2, 3.5], [0.25, 8, -1]], np.float32)
Y = np.array([10, 20, 30], np.float32)


def write_set(d, z, idx):
    os.makedirs(d, exist_ok=True)
    save_pb(os.path.join(d, "input_0.pb"), X, "x")
    save_pb(os.path.join(d, "input_1.pb"), Y, "y")
    save_pb(os.path.join(d, "output_0.pb"), z, "z")
    save_pb(os.path.join(d, "output_1.pb"), idx, "idx")


def case_check(out):
    """add.onnx and sets: good (exact), near (z off by 2e-5 relative),
    far (z off by 1%), badidx (wrong argmax), short (one output missing)."""
    add_model(os.path.join(out, "add.onnx"))
    z = X + Y
    idx = np.argmax(z, axis=1).astype(np.int64)
    write_set(os.path.join(out, "good"), z, idx)
    write_set(os.path.join(out, "near"), z * np.float32(1 + 2e-5), idx)
    write_set(os.path.join(out, "far"), z * np.float32(1.01), idx)
    write_set(os.path.join(out, "badidx"), z, (idx + 1) % 3)
    write_set(os.path.join(out, "short"), z, idx)
    os.remove(os.path.join(out, "short", "output_1.pb"))
    # Inputs as .npy and .pb, a wrong dtype, a wrong shape, Fortran order.
    np.save(os.path.join(out, "x.npy"), X)
    save_pb(os.path.join(out, "y.pb"), Y, "y")
    save_pb(os.path.join(out, "y_unnamed.pb"), Y, "")
    np.save(os.path.join(out, "x_f64.npy"), X.astype(np.float64))
    np.save(os.path.join(out, "x_shape.npy"), X.reshape(3, 2))
    np.save(os.path.join(out, "x_fortran.npy"), np.asfortranarray(X.T))
    with open(os.path.join(out, "expected.txt"), "w") as f:
        f.write(" ".join("%.9g" % v for v in z.ravel()) + "\n")


def case_npy(out):
    """Reference .npy files written by numpy itself, for byte comparison."""
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, "ref_z.npy"), X + Y)
    np.save(os.path.join(out, "ref_idx.npy"), np.argmax(X + Y, axis=1).astype(np.int64))
    add_model(os.path.join(out, "add.onnx"))
    np.save(os.path.join(out, "x.npy"), X)
    np.save(os.path.join(out, "y.npy"), Y)


def node_test(root, name, m, inputs, outputs):
    d = os.path.join(root, name)
    os.makedirs(os.path.join(d, "test_data_set_0"), exist_ok=True)
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(m if isinstance(m, bytes) else m.SerializeToString())
    for k, (n, a) in enumerate(inputs):
        save_pb(os.path.join(d, "test_data_set_0", "input_%d.pb" % k), a, n)
    for k, (n, a) in enumerate(outputs):
        save_pb(os.path.join(d, "test_data_set_0", "output_%d.pb" % k), a, n)


def case_suite(out):
    """A four-test node suite: one passes, one has a wrong expected output,
    one uses an op outside the op table, one model is not protobuf."""
    a = np.array([1, 2, 3], np.float32)
    b = np.array([0.5, -1, 4], np.float32)
    relu = model([helper.make_node("Relu", ["a"], ["r"])], [vi("a", TensorProto.FLOAT, [3])],
                 [vi("r", TensorProto.FLOAT, [3])])
    node_test(out, "test_relu", relu, [("a", b)], [("r", np.maximum(b, 0))])
    add = model([helper.make_node("Add", ["a", "b"], ["s"])],
                [vi("a", TensorProto.FLOAT, [3]), vi("b", TensorProto.FLOAT, [3])], [vi("s", TensorProto.FLOAT, [3])])
    node_test(out, "test_add_wrong", add, [("a", a), ("b", b)], [("s", a + b + np.float32(0.01))])
    foo = model([helper.make_node("FooBar", ["a"], ["r"])], [vi("a", TensorProto.FLOAT, [3])],
                [vi("r", TensorProto.FLOAT, [3])])
    node_test(out, "test_foobar", foo, [("a", a)], [("r", a)])
    node_test(out, "test_garbage", b"\xff\xff\xff\xff", [("a", a)], [("r", a)])


def case_forever(out):
    """A test that must not take the runner down: a Loop of 10^12 steps (the
    per-test time limit stops it)."""
    one = numpy_helper.from_array(np.array(1, np.float32), "one")
    body = helper.make_graph(
        [helper.make_node("Identity", ["c"], ["c_out"]),
         helper.make_node("Constant", [], ["one"], value=one),
         helper.make_node("Add", ["vb", "one"], ["v_out"])],
        "body", [vi("i", TensorProto.INT64, []), vi("c", TensorProto.BOOL, []), vi("vb", TensorProto.FLOAT, [])],
        [vi("c_out", TensorProto.BOOL, []), vi("v_out", TensorProto.FLOAT, [])])
    loop = model([helper.make_node("Loop", ["m", "cond", "v0"], ["v"], body=body)],
                 [vi("m", TensorProto.INT64, []), vi("cond", TensorProto.BOOL, []), vi("v0", TensorProto.FLOAT, [])],
                 [vi("v", TensorProto.FLOAT, [])])
    node_test(out, "test_loop_forever", loop,
              [("m", np.array(10**12, np.int64)), ("cond", np.array(True)), ("v0", np.array(0, np.float32))],
              [("v", np.array(1e12, np.float32))])


CASES = {"forever": case_forever, "check": case_check, "npy": case_npy, "suite": case_suite}

if __name__ == "__main__":
    os.makedirs(sys.argv[2], exist_ok=True)
    CASES[sys.argv[1]](sys.argv[2])

#!/usr/bin/python3
"""Writes small ONNX models for the importer's lit tests.

    make_model.py CASE OUT.onnx

Good cases exercise one import feature each; bad cases are models the
importer must refuse with a clear error. Tensors of types newer than the
installed onnx package (f8, int4, f4) are built field by field, which the
proto allows since data_type is a plain int32.
"""
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def model(nodes, inputs, outputs, inits=(), opset=OPSET, name="g", value_info=(), domains=()):
    g = helper.make_graph(nodes, name, inputs, outputs, list(inits), value_info=list(value_info))
    ops = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, 1) for d in domains]
    m = helper.make_model(g, opset_imports=ops, producer_name="make_model.py")
    m.ir_version = 8
    return m


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def raw(name, dtype, dims, data):
    t = TensorProto()
    t.name = name
    t.data_type = dtype
    t.dims.extend(dims)
    t.raw_data = bytes(data)
    return t


def ident(name):
    return helper.make_node("Identity", [name], [name + "_out"], name="id_" + name)


def case_types():
    """Initializers of every element type, raw and in typed fields."""
    inits = [
        numpy_helper.from_array(np.array([1.5, -2.0], np.float32), "f32_raw"),
        helper.make_tensor("f32_typed", TensorProto.FLOAT, [2], [0.25, 3.0]),
        helper.make_tensor("f64_typed", TensorProto.DOUBLE, [2], [1.0, -0.5]),
        helper.make_tensor("i64_typed", TensorProto.INT64, [3], [-1, 0, 7]),
        helper.make_tensor("i32_typed", TensorProto.INT32, [2], [-5, 6]),
        helper.make_tensor("i8_typed", TensorProto.INT8, [2], [-128, 127]),
        helper.make_tensor("u8_raw", TensorProto.UINT8, [2], b"\x00\xff", raw=True),
        helper.make_tensor("i16_typed", TensorProto.INT16, [1], [-300]),
        helper.make_tensor("u16_typed", TensorProto.UINT16, [1], [65535]),
        helper.make_tensor("u32_typed", TensorProto.UINT32, [1], [4000000000]),
        helper.make_tensor("u64_typed", TensorProto.UINT64, [1], [18446744073709551615]),
        helper.make_tensor("bool_typed", TensorProto.BOOL, [3], [True, False, True]),
        # f16 1.0 = 0x3C00, -2.0 = 0xC000 as int32_data bit patterns.
        raw("f16_raw", TensorProto.FLOAT16, [2], struct.pack("<2H", 0x3C00, 0xC000)),
        # bf16 1.5 = 0x3FC0 in raw_data.
        raw("bf16_raw", TensorProto.BFLOAT16, [1], struct.pack("<H", 0x3FC0)),
        # int4, 3 values packed low nibble first: -1, 7, -8 -> 0x7F, 0x08.
        raw("i4_raw", 22, [3], b"\x7f\x08"),
        # uint4 in int32_data, one packed byte per entry: 1, 15, 2 -> 0xF1, 0x02.
        (lambda t: (t.int32_data.extend([0xF1, 0x02]), t)[1])(raw("u4_typed", 21, [3], b"")),
        # f8E4M3FN 1.0 = 0x38, -0.5 = 0xB0.
        raw("f8_raw", 17, [2], b"\x38\xb0"),
        # f8E5M2 2.0 = 0x40 in int32_data.
        (lambda t: (t.int32_data.extend([0x40]), t)[1])(raw("f8e5m2_typed", 19, [1], b"")),
        # f4E2M1 0.5 (0x1) and -6.0 (0xF), one byte.
        raw("f4_raw", 23, [2], b"\xf1"),
    ]
    for t in inits:
        if not t.raw_data:
            t.ClearField("raw_data")
    nodes = [ident("f32_raw")]
    return model(nodes, [], [vi("f32_raw_out", TensorProto.FLOAT, [2])], inits)


def case_symbolic():
    """Symbolic, static and missing dims; broadcasting of symbols."""
    x = vi("x", TensorProto.FLOAT, ["batch", "seq", 4])
    y = vi("y", TensorProto.FLOAT, [1, "seq", 4])
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, None)
    w = numpy_helper.from_array(np.ones((4, 3), np.float32), "w")
    nodes = [
        helper.make_node("Add", ["x", "y"], ["s"], name="add"),
        helper.make_node("MatMul", ["s", "w"], ["mm"], name="mm"),
        helper.make_node("Relu", ["z"], ["rz"], name="relu"),
    ]
    outs = [vi("mm", TensorProto.FLOAT, ["batch", "seq", 3]), helper.make_tensor_value_info("rz", TensorProto.FLOAT, None)]
    m = model(nodes, [x, y, z], outs, [w])
    # A dim with neither value nor param: dynamic.
    m.graph.input[1].type.tensor_type.shape.dim[1].Clear()
    return m


def case_attrs():
    """Attributes of every kind the table knows."""
    x = vi("x", TensorProto.FLOAT, [5, 1, 3])
    shape = numpy_helper.from_array(np.array([2, 3], np.int64), "shape")
    nodes = [
        helper.make_node("Softmax", ["x"], ["sm"], name="softmax", axis=-1),
        helper.make_node("LeakyRelu", ["sm"], ["lr"], name="leaky", alpha=0.25),
        helper.make_node("Pad", ["lr", "pads"], ["pd"], name="pad", mode="reflect"),
        helper.make_node("Transpose", ["pd"], ["tr"], name="transpose", perm=[2, 0, 1]),
        helper.make_node("ConstantOfShape", ["shape"], ["cs"], name="cos",
                         value=helper.make_tensor("v", TensorProto.INT32, [1], [7])),
        helper.make_node("LSTM", ["x", "W", "R"], ["Y", "Y_h"], name="lstm", hidden_size=2,
                         activations=["Sigmoid", "Tanh", "Tanh"], activation_alpha=[1.0, 0.5, 0.5],
                         direction="forward"),
    ]
    inits = [
        shape,
        numpy_helper.from_array(np.array([0, 0, 1, 0, 0, 1], np.int64), "pads"),
        numpy_helper.from_array(np.zeros((1, 8, 3), np.float32), "W"),
        numpy_helper.from_array(np.zeros((1, 8, 2), np.float32), "R"),
    ]
    outs = [vi("tr", TensorProto.FLOAT, None), vi("cs", TensorProto.INT32, None),
            vi("Y", TensorProto.FLOAT, None), vi("Y_h", TensorProto.FLOAT, None)]
    return model(nodes, [x], outs, inits)


def case_constants():
    """Constant nodes in each of their forms."""
    nodes = [
        helper.make_node("Constant", [], ["c_t"], name="ct",
                         value=numpy_helper.from_array(np.array([[1, 2]], np.int32))),
        helper.make_node("Constant", [], ["c_f"], name="cf", value_float=0.5),
        helper.make_node("Constant", [], ["c_fs"], name="cfs", value_floats=[1.0, 2.0, 3.0]),
        helper.make_node("Constant", [], ["c_i"], name="ci", value_int=4),
        helper.make_node("Constant", [], ["c_is"], name="cis", value_ints=[5, 6]),
    ]
    outs = [vi(n, TensorProto.FLOAT, None) for n in ("c_f", "c_fs")]
    outs += [vi(n, TensorProto.INT64, None) for n in ("c_i", "c_is")] + [vi("c_t", TensorProto.INT32, None)]
    return model(nodes, [], outs)


def case_if():
    """If with branches that read outer values; symbolic dims join."""
    c = vi("c", TensorProto.BOOL, [])
    x = vi("x", TensorProto.FLOAT, ["n", 2])
    then_g = helper.make_graph([helper.make_node("Relu", ["x"], ["t"], name="then_relu")], "then", [],
                               [vi("t", TensorProto.FLOAT, None)])
    else_g = helper.make_graph([helper.make_node("Neg", ["x"], ["e"], name="else_neg")], "else", [],
                               [vi("e", TensorProto.FLOAT, None)])
    nodes = [helper.make_node("If", ["c"], ["r"], name="if", then_branch=then_g, else_branch=else_g)]
    return model(nodes, [c, x], [vi("r", TensorProto.FLOAT, None)])


def case_loop():
    """Loop with a carried value and a scan output; body args from its inputs."""
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"], name="cond"),
         helper.make_node("Add", ["acc_in", "x"], ["acc_out"], name="acc"),
         helper.make_node("Identity", ["acc_out"], ["scan_out"], name="scan")],
        "body",
        [vi("i", TensorProto.INT64, []), vi("cond_in", TensorProto.BOOL, []), vi("acc_in", TensorProto.FLOAT, [2])],
        [vi("cond_out", TensorProto.BOOL, []), vi("acc_out", TensorProto.FLOAT, [2]),
         vi("scan_out", TensorProto.FLOAT, [2])])
    inits = [numpy_helper.from_array(np.array(3, np.int64), "trip"),
             numpy_helper.from_array(np.array(True), "go")]
    nodes = [helper.make_node("Loop", ["trip", "go", "x"], ["final", "scans"], name="loop", body=body)]
    return model(nodes, [vi("x", TensorProto.FLOAT, [2])],
                 [vi("final", TensorProto.FLOAT, None), vi("scans", TensorProto.FLOAT, None)], inits)


def case_scan():
    """Scan summing rows: one state, one scan input, one scan output."""
    body = helper.make_graph(
        [helper.make_node("Add", ["s_in", "row"], ["s_out"], name="sum"),
         helper.make_node("Identity", ["s_out"], ["y"], name="emit")],
        "body", [vi("s_in", TensorProto.FLOAT, [3]), vi("row", TensorProto.FLOAT, [3])],
        [vi("s_out", TensorProto.FLOAT, [3]), vi("y", TensorProto.FLOAT, [3])])
    nodes = [helper.make_node("Scan", ["init", "xs"], ["final", "ys"], name="scan", body=body, num_scan_inputs=1)]
    return model(nodes, [vi("init", TensorProto.FLOAT, [3]), vi("xs", TensorProto.FLOAT, [5, 3])],
                 [vi("final", TensorProto.FLOAT, None), vi("ys", TensorProto.FLOAT, None)])


def case_legacy():
    """Opset 9 forms rewritten to the table's: Unsqueeze/Squeeze axes, Slice
    attributes, Upsample, Pad pads, Clip min/max attributes (opset 6 form
    is kept out: Clip is opset 6 in this file's opset 9)."""
    x = vi("x", TensorProto.FLOAT, [1, 2, 4, 4])
    nodes = [
        helper.make_node("Unsqueeze", ["x"], ["u"], name="unsq", axes=[0]),
        helper.make_node("Squeeze", ["u"], ["s"], name="sq", axes=[0]),
        helper.make_node("Slice", ["s"], ["sl"], name="slice", starts=[1], ends=[3], axes=[2]),
        helper.make_node("Upsample", ["sl", "scales"], ["up"], name="up", mode="nearest"),
        helper.make_node("Pad", ["up"], ["pd"], name="pad", pads=[0, 0, 1, 1, 0, 0, 1, 1], value=0.5),
        helper.make_node("Clip", ["pd"], ["cl"], name="clip", min=0.0, max=6.0),
        helper.make_node("ReduceSum", ["cl"], ["rs"], name="rsum", axes=[1], keepdims=0),
    ]
    inits = [numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")]
    return model(nodes, [x], [vi("rs", TensorProto.FLOAT, None)], inits, opset=9)


def case_unsorted():
    """Nodes listed out of order and an absent optional input."""
    nodes = [
        helper.make_node("Relu", ["a"], ["b"], name="second"),
        helper.make_node("Clip", ["x", "", "hi"], ["a"], name="first"),
    ]
    inits = [numpy_helper.from_array(np.array(6.0, np.float32), "hi")]
    return model(nodes, [vi("x", TensorProto.FLOAT, [3])], [vi("b", TensorProto.FLOAT, [3])], inits)


def case_external(out):
    """An initializer in an external file next to the model."""
    data = np.arange(6, dtype=np.float32)
    fname = os.path.basename(out) + ".data"
    with open(os.path.join(os.path.dirname(out) or ".", fname), "wb") as f:
        f.write(b"\0" * 16 + data.tobytes())
    t = TensorProto()
    t.name = "w"
    t.data_type = TensorProto.FLOAT
    t.dims.extend([2, 3])
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", fname), ("offset", "16"), ("length", "24")):
        e = t.external_data.add()
        e.key, e.value = k, v
    nodes = [ident("w")]
    return model(nodes, [], [vi("w_out", TensorProto.FLOAT, [2, 3])], [t])


def case_shapes():
    """Shape arithmetic feeding Reshape/Expand/ConstantOfShape/Range/Tile."""
    x = vi("x", TensorProto.FLOAT, ["B", 6])
    nodes = [
        helper.make_node("Shape", ["x"], ["sh"], name="shape"),
        helper.make_node("Gather", ["sh", "zero"], ["b"], name="gather", axis=0),
        helper.make_node("Unsqueeze", ["b", "ax0"], ["b1"], name="unsq"),
        helper.make_node("Concat", ["b1", "two", "m1"], ["newshape"], name="concat", axis=0),
        helper.make_node("Reshape", ["x", "newshape"], ["r"], name="reshape"),
        helper.make_node("Tile", ["r", "reps"], ["t"], name="tile"),
        helper.make_node("Range", ["r0", "r5", "r1"], ["rg"], name="range"),
        helper.make_node("Split", ["t"], ["p0", "p1"], name="split", axis=1),
    ]
    inits = [numpy_helper.from_array(np.array(0, np.int64), "zero"),
             numpy_helper.from_array(np.array([0], np.int64), "ax0"),
             numpy_helper.from_array(np.array([2], np.int64), "two"),
             numpy_helper.from_array(np.array([-1], np.int64), "m1"),
             numpy_helper.from_array(np.array([1, 2, 1], np.int64), "reps"),
             numpy_helper.from_array(np.array(0, np.int64), "r0"),
             numpy_helper.from_array(np.array(5, np.int64), "r5"),
             numpy_helper.from_array(np.array(1, np.int64), "r1")]
    outs = [vi(n, TensorProto.FLOAT, None) for n in ("p0", "p1")] + [vi("rg", TensorProto.INT64, None)]
    return model(nodes, [x], outs, inits)


# ---- bad models ---------------------------------------------------------

def small():
    return model([helper.make_node("Relu", ["x"], ["y"], name="relu")], [vi("x", TensorProto.FLOAT, [2])],
                 [vi("y", TensorProto.FLOAT, [2])])


def with_init(t):
    return model([helper.make_node("Identity", [t.name], ["y"], name="id")], [], [vi("y", TensorProto.FLOAT, None)],
                 [t])


def ext_tensor(location, offset=0, length=None):
    t = TensorProto()
    t.name = "w"
    t.data_type = TensorProto.FLOAT
    t.dims.extend([4])
    t.data_location = TensorProto.EXTERNAL
    kv = [("location", location), ("offset", str(offset))]
    if length is not None:
        kv.append(("length", str(length)))
    for k, v in kv:
        e = t.external_data.add()
        e.key, e.value = k, v
    return t


def bad(case, out):
    d = os.path.dirname(out) or "."
    if case == "truncated":
        b = case_types().SerializeToString()
        return b[: len(b) // 2]
    if case == "notproto":
        return b"this is not an ONNX model, just some text\n"
    if case == "rawlen":
        return with_init(raw("w", TensorProto.FLOAT, [3], b"\0" * 8)).SerializeToString()
    if case == "typedlen":
        t = TensorProto()
        t.name, t.data_type = "w", TensorProto.FLOAT
        t.dims.extend([3])
        t.float_data.extend([1.0, 2.0])
        return with_init(t).SerializeToString()
    if case == "overflow":
        return with_init(raw("w", TensorProto.FLOAT, [1 << 32, 1 << 32, 1 << 32], b"")).SerializeToString()
    if case == "negdim":
        return with_init(raw("w", TensorProto.FLOAT, [-1, 2], b"")).SerializeToString()
    if case == "string":
        return with_init(helper.make_tensor("w", TensorProto.STRING, [1], [b"hi"])).SerializeToString()
    if case == "ext-dotdot":
        return with_init(ext_tensor("../outside.bin")).SerializeToString()
    if case == "ext-absolute":
        return with_init(ext_tensor("/etc/passwd")).SerializeToString()
    if case == "ext-symlink":
        # A link inside the folder that points outside it.
        link = os.path.join(d, os.path.basename(out) + ".link")
        if os.path.lexists(link):
            os.remove(link)
        os.symlink("/etc/hostname", link)
        return with_init(ext_tensor(os.path.basename(link))).SerializeToString()
    if case == "ext-past-end":
        fname = os.path.basename(out) + ".data"
        with open(os.path.join(d, fname), "wb") as f:
            f.write(b"\0" * 20)
        return with_init(ext_tensor(fname, offset=8)).SerializeToString()
    if case == "ext-length":
        fname = os.path.basename(out) + ".data"
        with open(os.path.join(d, fname), "wb") as f:
            f.write(b"\0" * 64)
        return with_init(ext_tensor(fname, length=12)).SerializeToString()
    if case == "missing-init":
        m = model([helper.make_node("MatMul", ["x", "W"], ["y"], name="fc")], [vi("x", TensorProto.FLOAT, [2, 2])],
                  [vi("y", TensorProto.FLOAT, None)])
        return m.SerializeToString()
    if case == "cycle":
        nodes = [helper.make_node("Add", ["x", "c"], ["a"], name="first"),
                 helper.make_node("Relu", ["a"], ["b"], name="second"),
                 helper.make_node("Neg", ["b"], ["c"], name="third")]
        return model(nodes, [vi("x", TensorProto.FLOAT, [2])], [vi("b", TensorProto.FLOAT, None)]).SerializeToString()
    if case == "unknown-op":
        m = model([helper.make_node("Foo", ["x"], ["y"], name="X")], [vi("x", TensorProto.FLOAT, [2])],
                  [vi("y", TensorProto.FLOAT, None)])
        return m.SerializeToString()
    if case == "unknown-domain":
        m = model([helper.make_node("Gelu", ["x"], ["y"], name="g", domain="com.microsoft")],
                  [vi("x", TensorProto.FLOAT, [2])], [vi("y", TensorProto.FLOAT, None)], domains=["com.microsoft"])
        return m.SerializeToString()
    if case == "new-opset":
        m = small()
        m.opset_import[0].version = 99
        return m.SerializeToString()
    if case == "attr-kind":
        m = model([helper.make_node("Softmax", ["x"], ["y"], name="sm", axis=1.0)],
                  [vi("x", TensorProto.FLOAT, [2, 2])], [vi("y", TensorProto.FLOAT, None)])
        return m.SerializeToString()
    if case == "attr-unknown":
        m = model([helper.make_node("Relu", ["x"], ["y"], name="relu", gamma=2.0)],
                  [vi("x", TensorProto.FLOAT, [2])], [vi("y", TensorProto.FLOAT, None)])
        return m.SerializeToString()
    if case == "attr-sparse":
        sp = helper.make_sparse_tensor(helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0]),
                                       helper.make_tensor("i", TensorProto.INT64, [1], [0]), [2])
        node = helper.make_node("ConstantOfShape", ["s"], ["y"], name="k")
        node.attribute.append(helper.make_attribute("value", sp))
        s = numpy_helper.from_array(np.array([2], np.int64), "s")
        return model([node], [], [vi("y", TensorProto.FLOAT, None)], [s]).SerializeToString()
    if case == "shape-mismatch":
        w = numpy_helper.from_array(np.ones((4, 2), np.float32), "w")
        m = model([helper.make_node("MatMul", ["x", "w"], ["y"], name="fc")], [vi("x", TensorProto.FLOAT, [2, 3])],
                  [vi("y", TensorProto.FLOAT, None)], [w])
        return m.SerializeToString()
    if case == "arity":
        m = model([helper.make_node("Relu", ["x", "x"], ["y"], name="relu")], [vi("x", TensorProto.FLOAT, [2])],
                  [vi("y", TensorProto.FLOAT, None)])
        return m.SerializeToString()
    if case == "undefined-output":
        m = model([], [vi("x", TensorProto.FLOAT, [2])], [vi("nowhere", TensorProto.FLOAT, None)])
        return m.SerializeToString()
    raise SystemExit("unknown case " + case)


GOOD = {"types": case_types, "symbolic": case_symbolic, "attrs": case_attrs, "constants": case_constants,
        "if": case_if, "loop": case_loop, "scan": case_scan, "legacy": case_legacy, "unsorted": case_unsorted,
        "shapes": case_shapes}


def main():
    case, out = sys.argv[1], sys.argv[2]
    if case in GOOD:
        data = GOOD[case]().SerializeToString()
    elif case == "external":
        data = case_external(out).SerializeToString()
    else:
        data = bad(case, out)
    with open(out, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()

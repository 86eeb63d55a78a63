#!/usr/bin/python3
"""Writes the model of import-unique.qir: Unique with an axis (four results)
and without one, and Scatter (deprecated in opset 11, same as ScatterElements).

    make_unique.py OUT.onnx
"""
import sys

from onnx import TensorProto, helper

nodes = [
    helper.make_node("Unique", ["x"], ["y", "idx", "inv", "cnt"], name="u_axis", axis=0),
    helper.make_node("Unique", ["x"], ["flat"], name="u_flat", sorted=0),
    helper.make_node("Scatter", ["x", "ind", "upd"], ["s"], name="sc", axis=1),
]
g = helper.make_graph(
    nodes, "g",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3]),
     helper.make_tensor_value_info("ind", TensorProto.INT64, ["N", 2]),
     helper.make_tensor_value_info("upd", TensorProto.FLOAT, ["N", 2])],
    [helper.make_tensor_value_info(n, t, None) for n, t in
     (("y", TensorProto.FLOAT), ("idx", TensorProto.INT64), ("inv", TensorProto.INT64), ("cnt", TensorProto.INT64),
      ("flat", TensorProto.FLOAT), ("s", TensorProto.FLOAT))])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 11)], producer_name="make_unique.py")
m.ir_version = 8
with open(sys.argv[1], "wb") as f:
    f.write(m.SerializeToString())

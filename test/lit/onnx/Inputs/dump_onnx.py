#!/usr/bin/python3
"""Prints an ONNX model's structure one fact a line, for the exporter's lit
tests (test/lit/onnx/export-*.qir) to FileCheck what was written:

    dump_onnx.py MODEL.onnx

Initializer bytes are printed as raw_data in hex, so packing (int4 two per
byte, low nibble first) is checked byte by byte. Reads fields only, so data
types newer than the installed onnx package print as their numbers.
"""
import sys

import onnx
from onnx import AttributeProto


def attr_text(a):
    if a.type == AttributeProto.INT:
        return "%s=%d" % (a.name, a.i)
    if a.type == AttributeProto.FLOAT:
        return "%s=%g" % (a.name, a.f)
    if a.type == AttributeProto.STRING:
        return "%s=%r" % (a.name, a.s.decode())
    if a.type == AttributeProto.INTS:
        return "%s=%s" % (a.name, list(a.ints))
    if a.type == AttributeProto.FLOATS:
        return "%s=%s" % (a.name, ["%g" % f for f in a.floats])
    if a.type == AttributeProto.STRINGS:
        return "%s=%s" % (a.name, [s.decode() for s in a.strings])
    if a.type == AttributeProto.TENSOR:
        return "%s=tensor(dtype=%d dims=%s raw=%s)" % (a.name, a.t.data_type, list(a.t.dims), a.t.raw_data.hex())
    if a.type == AttributeProto.GRAPH:
        return "%s=graph" % a.name
    return "%s=?%d" % (a.name, a.type)


def type_text(vi):
    t = vi.type.tensor_type
    if not t.HasField("shape"):
        return "dtype=%d unranked" % t.elem_type
    dims = []
    for d in t.shape.dim:
        dims.append(str(d.dim_value) if d.HasField("dim_value") else d.dim_param if d.HasField("dim_param") else "?")
    return "dtype=%d [%s]" % (t.elem_type, ",".join(dims))


def graph(g, ind):
    p = "  " * ind
    print("%sgraph %s" % (p, g.name))
    for vi in g.input:
        print("%sinput %s %s" % (p, vi.name, type_text(vi)))
    for t in g.initializer:
        print("%sinit %s dtype=%d dims=%s raw=%s" % (p, t.name, t.data_type, list(t.dims), t.raw_data.hex()))
    for n in g.node:
        attrs = " ".join(attr_text(a) for a in n.attribute)
        print("%snode %s %s in=%s out=%s %s" % (p, n.name or "-", n.op_type, list(n.input), list(n.output), attrs))
        for a in n.attribute:
            if a.type == AttributeProto.GRAPH:
                graph(a.g, ind + 1)
    for vi in g.output:
        print("%soutput %s %s" % (p, vi.name, type_text(vi)))
    for vi in g.value_info:
        print("%svalue_info %s %s" % (p, vi.name, type_text(vi)))


m = onnx.load(sys.argv[1])
print("ir_version %d" % m.ir_version)
for o in m.opset_import:
    print("opset %r %d" % (o.domain, o.version))
print("producer %r" % m.producer_name)
graph(m.graph, 0)

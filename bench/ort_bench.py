#!/usr/bin/env python3
"""Helpers for bench/interp_vs_ort.sh (runs in the bench venv: onnxruntime, onnx, numpy).

  ort_bench.py peak
      prints "PEAK_GFLOPS<TAB>how it was derived" (physical single-core f32 peak)
  ort_bench.py ort MODEL SET_DIR N
      prints "ORT_MEDIAN_MS<TAB>ORT_BEST_MS<TAB>GFLOP" for one model on SET_DIR/input_K.pb
"""
import glob
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference


# --- physical peak -----------------------------------------------------------

def cpu_peak():
    """lanes * 2 (FMA = 2 flops) * 2 (FMA units per core, assumed) * GHz."""
    info = open("/proc/cpuinfo").read()
    flags = set(re.search(r"^flags\s*:(.*)$", info, re.M).group(1).split())
    lanes, isa = (16, "avx512f") if "avx512f" in flags else (8, "avx2") \
        if "avx2" in flags else (4, "sse")
    mhz, src = None, None
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"^CPU max MHz:\s*([\d.]+)", out, re.M)
        if m:
            mhz, src = float(m.group(1)), "lscpu 'CPU max MHz'"
    except OSError:
        pass
    if mhz is None:
        mhz = float(re.search(r"^cpu MHz\s*:\s*([\d.]+)", info, re.M).group(1))
        src = "/proc/cpuinfo 'cpu MHz'"
    ghz = mhz / 1000.0
    peak = lanes * 2 * 2 * ghz
    how = (f"{lanes} f32 lanes ({isa}) x 2 (FMA) x 2 FMA units/core (assumed) x "
           f"{ghz:.3f} GHz ({src}) = {peak:.1f} GFLOP/s")
    fam = re.search(r"^cpu family\s*:\s*(\d+)", info, re.M)
    if (lanes == 16 and "AuthenticAMD" in info and fam and int(fam.group(1)) == 25):
        how += ("; note: AMD family 25 (Zen 4) runs 512-bit FMAs as two 256-bit halves,"
                " so its real peak is half this")
    return peak, how


# --- FLOPs from shape inference ------------------------------------------------

def dims(vi):
    t = vi.type.tensor_type
    if not t.HasField("shape"):
        return None
    out = []
    for d in t.shape.dim:
        if not d.HasField("dim_value"):
            return None
        out.append(d.dim_value)
    return out


def prod(xs):
    p = 1
    for x in xs:
        p *= x
    return p


def attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def node_macs(node, ins, o):
    """Multiply-accumulates of one node from its input shapes and first output
    shape, or None when a needed shape is unknown."""
    op = node.op_type
    s = lambda i: ins[i] if len(ins) > i else None
    if op == "Conv":
        w = s(1)
        if w is None or o is None:
            return None
        return prod(o) * prod(w[1:])          # per output: C/group * prod(kernel)
    if op == "ConvTranspose":
        x, w = s(0), s(1)
        if x is None or w is None:
            return None
        return prod(x) * prod(w[1:])          # per input: M/group * prod(kernel)
    if op == "MatMul":
        a = s(0)
        if a is None or o is None:
            return None
        return prod(o) * a[-1]
    if op == "Gemm":
        a = s(0)
        if a is None or o is None:
            return None
        return prod(o) * (a[0] if attr(node, "transA", 0) else a[1])
    if op in ("LSTM", "GRU"):
        x, w, r = s(0), s(1), s(2)
        if x is None or w is None or r is None:
            return None
        seq, batch = (x[1], x[0]) if attr(node, "layout", 0) else (x[0], x[1])
        # w: [dirs, gates*H, input], r: [dirs, gates*H, H]
        return seq * batch * w[0] * w[1] * (w[2] + r[2])
    return 0


def executed(g, profile):
    """True when ORT's profile saw a node of g (or of its subgraphs) run."""
    for n in g.node:
        if n.name in profile:
            return True
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH and executed(a.g, profile):
                return True
    return False


def graph_macs(g, outer, profile):
    shape = dict(outer)
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        d = dims(vi)
        if d is not None:
            shape[vi.name] = d
    for t in g.initializer:
        shape[t.name] = list(t.dims)
    total, unknown = 0, []
    for n in g.node:
        if n.op_type == "If":
            # Count the branch ORT ran; the costlier one if the profile says neither.
            branches = [a.g for a in n.attribute if a.type == onnx.AttributeProto.GRAPH]
            ran = [b for b in branches if executed(b, profile)]
            best = 0
            for b in ran or branches:
                m, u = graph_macs(b, shape, profile)
                best = max(best, m)
                unknown += u
            total += best
            continue
        if n.op_type in ("Loop", "Scan"):
            unknown.append(f"{n.op_type} {n.name} (trip count unknown)")
            continue
        # Shapes from shape inference; where it has none (data-dependent
        # shapes), the shapes ONNX Runtime recorded when it ran the node.
        prof_in, prof_out = profile.get(n.name, ([], []))
        ins = [shape.get(x) if x in shape else
               (prof_in[i] if i < len(prof_in) else None)
               for i, x in enumerate(n.input)]
        o = shape.get(n.output[0]) if n.output and n.output[0] in shape else \
            (prof_out[0] if prof_out else None)
        m = node_macs(n, ins, o)
        if m is None:
            unknown.append(f"{n.op_type} {n.name}")
        else:
            total += m
    return total, unknown


def ort_profile_shapes(model_path, feeds, tmp_dir):
    """{node name: (input shapes, output shapes)} as ORT ran them, one run with
    graph optimizations off so that node names and op types are the model's."""
    import json
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    so.enable_profiling = True
    so.profile_file_prefix = os.path.join(tmp_dir, "ort_profile")
    sess = ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])
    sess.run(None, feeds)
    path = sess.end_profiling()
    with open(path) as f:
        events = json.load(f)
    os.remove(path)
    shapes = lambda l: [list(next(iter(d.values()))) for d in (l or [])]
    out = {}
    for e in events:
        name = e.get("name", "")
        if e.get("cat") == "Node" and name.endswith("_kernel_time"):
            a = e.get("args", {})
            out[name[:-len("_kernel_time")]] = (shapes(a.get("input_type_shape")),
                                                 shapes(a.get("output_type_shape")))
    return out


def gflop(model, feeds_shapes, profile):
    """2 * MACs of Conv/ConvTranspose/MatMul/Gemm/LSTM/GRU for these input shapes."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for vi in m.graph.input:
        if vi.name in feeds_shapes:
            t = vi.type.tensor_type
            del t.shape.dim[:]
            for d in feeds_shapes[vi.name]:
                t.shape.dim.add().dim_value = d
    m = shape_inference.infer_shapes(m, data_prop=True)
    macs, unknown = graph_macs(m.graph, {}, profile)
    for u in unknown:
        print(f"warning: FLOPs of {u} not counted (shape unknown)", file=sys.stderr)
    return 2.0 * macs / 1e9


# --- ONNX Runtime timing -------------------------------------------------------

def load_feeds(model, set_dir):
    files = sorted(glob.glob(os.path.join(set_dir, "input_*.pb")),
                   key=lambda p: int(re.search(r"input_(\d+)\.pb$", p).group(1)))
    inits = {t.name for t in model.graph.initializer}
    names = [vi.name for vi in model.graph.input if vi.name not in inits]
    if len(files) != len(names):
        sys.exit(f"error: {set_dir} has {len(files)} input_K.pb, model has "
                 f"{len(names)} inputs")
    feeds = {}
    for name, path in zip(names, files):   # input_K binds the K-th graph input
        t = onnx.TensorProto()
        with open(path, "rb") as f:
            t.ParseFromString(f.read())
        feeds[name] = numpy_helper.to_array(t)
    return feeds


def ort_time(model_path, feeds, n):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])
    for _ in range(2):
        sess.run(None, feeds)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times)


def main(argv):
    if len(argv) == 2 and argv[1] == "peak":
        peak, how = cpu_peak()
        print(f"{peak:.3f}\t{how}")
        return 0
    if len(argv) == 5 and argv[1] == "ort":
        model_path, set_dir, n = argv[2], argv[3], int(argv[4])
        model = onnx.load(model_path)
        feeds = load_feeds(model, set_dir)
        med, best = ort_time(model_path, feeds, n)
        with tempfile.TemporaryDirectory() as tmp:
            profile = ort_profile_shapes(model_path, feeds, tmp)
        g = gflop(model, {k: list(np.shape(v)) for k, v in feeds.items()}, profile)
        print(f"{med:.3f}\t{best:.3f}\t{g:.6f}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

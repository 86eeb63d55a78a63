#!/usr/bin/env python3
"""ONNX Runtime interop for quench's ONNX export (run by test/ort/run.sh in a
venv holding onnxruntime, onnx and numpy).

    interop.py BIN_DIR WORK_DIR CASES_DIR [MODELS_DIR]

For each hand-written QDQ module CASES_DIR/*.qir: export it with
`quench-opt CASE.qir -o CASE.onnx`, fill its inputs with seeded random
values, run the exported model in ONNX Runtime and the .qir in quench-run,
and compare. With MODELS_DIR (../shared/models) and the `quench` driver,
also quantize mnist8 and ppocr_cls_mobile_v2 (`quench quantize --preset
w8a8`, calibrated on their test_data_set folders) to .qir and .onnx and
compare on test_data_set_0.

Tolerance: one quantization step of each output, element-wise: the largest
scale of the nearest QuantizeLinear/DequantizeLinear the output is computed
from (walking producers back through float ops). The two runtimes compute
x/scale and the float ops between Q/DQ pairs in their own order, so a value
on a rounding boundary may land one code apart; more than one step means
the exported model means something else. Exit 1 on any mismatch.
"""
import glob
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

ELEM_NP = {1: np.float32, 2: np.uint8, 3: np.int8, 6: np.int32, 7: np.int64, 9: np.bool_, 10: np.float16,
           11: np.float64}


def constants(model):
    """name -> array for initializers and Constant nodes (any nesting)."""
    out = {}
    for t in model.graph.initializer:
        out[t.name] = numpy_helper.to_array(t)
    for n in model.graph.node:
        if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value":
            out[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    return out


def output_step(model, name):
    """Largest scale of the nearest Q or DQ upstream of `name` (breadth first)."""
    producer = {o: n for n in model.graph.node for o in n.output}
    consts = constants(model)
    queue, seen = [name], set()
    while queue:
        v = queue.pop(0)
        if v in seen or v not in producer:
            continue
        seen.add(v)
        n = producer[v]
        if n.op_type in ("QuantizeLinear", "DequantizeLinear"):
            s = consts.get(n.input[1])
            if s is not None:
                return float(np.max(np.abs(s.astype(np.float64))))
        queue.extend(i for i in n.input if i)
    return None


def random_inputs(sess, seed):
    rng = np.random.default_rng(seed)
    feeds = []
    for i in sess.get_inputs():
        shape = [d if isinstance(d, int) else 2 for d in i.shape]
        feeds.append((i.name, rng.uniform(-2.0, 2.0, shape).astype(np.float32)))
    return feeds


def write_set(folder, feeds):
    os.makedirs(folder, exist_ok=True)
    for k, (name, x) in enumerate(feeds):
        t = numpy_helper.from_array(x, name)
        with open(os.path.join(folder, "input_%d.pb" % k), "wb") as f:
            f.write(t.SerializeToString())


def read_set(folder, prefix):
    files = sorted(glob.glob(os.path.join(folder, prefix + "_*.pb")),
                   key=lambda p: int(p.rsplit("_", 1)[1].split(".")[0]))
    out = []
    for p in files:
        t = onnx.TensorProto()
        with open(p, "rb") as f:
            t.ParseFromString(f.read())
        out.append((t.name, numpy_helper.to_array(t)))
    return out


def compare(label, onnx_path, qir_path, set_dir, bin_dir, work):
    model = onnx.load(onnx_path)
    feeds = read_set(set_dir, "input")
    try:
        # Graph optimizations off: ORT would otherwise fuse DQ->Conv->Q into
        # QLinearConv, whose integer requantization rounds differently from
        # the graph as written (the thing under test).
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
        ort_out = sess.run(None, {i.name: x for i, (_, x) in zip(sess.get_inputs(), feeds)})
    except Exception as e:  # noqa: BLE001 - ORT raises its own exception types
        print("FAIL %s: ONNX Runtime refused the exported model: %s" % (label, e))
        return False
    out_dir = os.path.join(work, label + ".quench")
    os.makedirs(out_dir, exist_ok=True)
    for f in glob.glob(os.path.join(out_dir, "*.pb")):
        os.remove(f)
    cmd = [os.path.join(bin_dir, "quench-run"), qir_path, "--output-dir", out_dir] + \
        [os.path.join(set_dir, "input_%d.pb" % k) for k in range(len(feeds))]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print("FAIL %s: quench-run failed:\n%s" % (label, r.stderr))
        return False
    q_out = read_set(out_dir, "output")
    ok = True
    for k, (o, want) in enumerate(zip(model.graph.output, ort_out)):
        got = q_out[k][1].astype(np.float64)
        want = np.asarray(want).astype(np.float64)
        step = output_step(model, o.name)
        if step is None or got.shape != want.shape:
            print("FAIL %s output %s: %s" % (label, o.name, "no Q/DQ upstream" if step is None else
                                             "shape %s vs ORT %s" % (got.shape, want.shape)))
            ok = False
            continue
        diff = np.abs(got - want)
        worst = float(diff.max()) if diff.size else 0.0
        off = int(np.count_nonzero(diff > 0))
        bad = int(np.count_nonzero(diff > step * (1 + 1e-6)))
        verdict = "PASS" if bad == 0 else "FAIL"
        print("%s %s output %s: %d elements, %d differ, max |quench - ORT| = %.3g = %.3f steps (step %.3g)"
              % (verdict, label, o.name, diff.size, off, worst, worst / step, step))
        ok &= bad == 0
    return ok


def main():
    bin_dir, work, cases = sys.argv[1:4]
    models = sys.argv[4] if len(sys.argv) > 4 else None
    os.makedirs(work, exist_ok=True)
    ok, n = True, 0
    for case in sorted(glob.glob(os.path.join(cases, "*.qir"))):
        label = os.path.splitext(os.path.basename(case))[0]
        onnx_path = os.path.join(work, label + ".onnx")
        r = subprocess.run([os.path.join(bin_dir, "quench-opt"), case, "-o", onnx_path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print("FAIL %s: export failed:\n%s" % (label, r.stderr))
            ok = False
            continue
        try:
            sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001
            print("FAIL %s: ONNX Runtime cannot load the exported model: %s" % (label, e))
            ok = False
            continue
        set_dir = os.path.join(work, label + ".inputs")
        write_set(set_dir, random_inputs(sess, 7))
        ok &= compare(label, onnx_path, case, set_dir, bin_dir, work)
        n += 1
    quench = os.path.join(bin_dir, "quench")
    if models and os.path.isdir(models) and os.access(quench, os.X_OK):
        for m in ("mnist8", "ppocr_cls_mobile_v2"):
            src = os.path.join(models, m, "model.onnx")
            outs = [os.path.join(work, m + ".w8a8" + ext) for ext in (".onnx", ".qir")]
            for out in outs:
                r = subprocess.run([quench, "quantize", src, "--calib", os.path.join(models, m), "--preset",
                                    "w8a8", "-o", out], capture_output=True, text=True)
                if r.returncode != 0:
                    print("FAIL %s: quench quantize -o %s failed:\n%s" % (m, out, r.stderr))
                    ok = False
                    break
            else:
                ok &= compare(m + ".w8a8", outs[0], outs[1], os.path.join(models, m, "test_data_set_0"),
                              bin_dir, work)
                n += 1
    elif models:
        print("note: real-model flow skipped (%s absent or no quench driver)" % models)
    print("%d passed, %d failed" % (n, 0 if ok else 1) if ok else "interop: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

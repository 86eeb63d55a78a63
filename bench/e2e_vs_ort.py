#!/usr/bin/env python3
"""Helper of bench/e2e_vs_ort.sh (runs in its venv: onnxruntime, onnx, numpy).

  e2e_vs_ort.py prep MODEL_DIR WORK
      Writes WORK/data: model.onnx (a link) and batch-1 test_data_set_* folders
      made from MODEL_DIR's sets (a set whose inputs share a batch dim > 1 on
      a dynamic graph dim 0 -- magika's 76 files -- becomes one set per row,
      its output_K.pb sliced the same way). These are the calibration inputs
      of both quantizers and WORK/data/test_data_set_0 is the timed input.
  e2e_vs_ort.py ort-quantize WORK
      ONNX Runtime's own int8 model, quant_vs_ort.ort_quantize (QDQ,
      per-channel, MinMax, calibrated on WORK/data), scored on every set of
      WORK/data like the compiled model -> prints "PATH<TAB>SQNR<TAB>AGREEMENT%"
      on its last line.
  e2e_vs_ort.py ort MODEL SET N THREADS
      Times MODEL on SET/input_K.pb in ONNX Runtime: CPU provider,
      intra_op_num_threads=THREADS, inter_op_num_threads=1, sequential
      execution, all graph optimizations; one warm-up, N timed runs.
      Prints "MEDIAN_MS<TAB>BEST_MS".
  e2e_vs_ort.py score OUT_ROOT DATA
      SQNR (dB) of OUT_ROOT/<set>/output_K.npy against DATA/<set>/output_K.pb
      for every test_data_set of DATA (pooled over outputs and sets) and
      top-1 agreement on output 0 (quant_vs_ort.score).
      Prints "SQNR<TAB>AGREEMENT%<TAB>SETS".
"""
import glob
import os
import re
import statistics
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quant_vs_ort  # noqa: E402 - the shared quantizer and scorer
from quant_vs_ort import numbered, read_pb, sets  # noqa: E402


def graph_inputs(model):
    inits = {t.name for t in model.graph.initializer}
    return [vi for vi in model.graph.input if vi.name not in inits]


def write_pb(path, arr, name):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(np.ascontiguousarray(arr), name).SerializeToString())


def prep(model_dir, work):
    data = os.path.join(work, "data")
    os.makedirs(data, exist_ok=True)
    link = os.path.join(data, "model.onnx")
    if not os.path.exists(link):
        os.symlink(os.path.abspath(os.path.join(model_dir, "model.onnx")), link)
    model = onnx.load(os.path.join(model_dir, "model.onnx"), load_external_data=False)
    dyn0 = []
    for vi in graph_inputs(model):
        d = vi.type.tensor_type.shape.dim
        dyn0.append(len(d) > 0 and not d[0].HasField("dim_value"))
    k = 0
    for s in sets(model_dir):
        ins = [read_pb(p) for p in numbered(s, "input")]
        outs = [read_pb(p) for p in numbered(s, "output")]
        b = ins[0].shape[0] if ins and ins[0].ndim > 0 else 1
        split = (b > 1 and all(dyn0) and all(x.ndim > 0 and x.shape[0] == b for x in ins + outs))
        for r in range(b if split else 1):
            d = os.path.join(data, "test_data_set_%d" % k)
            os.makedirs(d, exist_ok=True)
            for kind, arrs in (("input", ins), ("output", outs)):
                for i, a in enumerate(arrs):
                    write_pb(os.path.join(d, "%s_%d.pb" % (kind, i)), a[r:r + 1] if split else a, "")
            k += 1
    print("%d\t%s" % (k, data))
    return 0


def ort_time(path, set_dir, n, threads):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    feeds = dict(zip(names, (read_pb(p) for p in numbered(set_dir, "input"))))
    sess.run(None, feeds)  # warm-up, as the compiled driver does
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), min(times)


def score(out_root, data):
    """quant_vs_ort.score over every set of DATA, the compiled outputs being
    OUT_ROOT/<set name>/output_K.npy."""
    outs = []
    for d in sets(data):
        got = os.path.join(out_root, os.path.basename(d))
        files = sorted(glob.glob(os.path.join(got, "output_*.npy")),
                       key=lambda p: int(re.search(r"output_(\d+)\.npy$", p).group(1)))
        if not files or len(files) != len(numbered(d, "output")):
            sys.exit("error: %s has %d output_K.npy, %s has %d output_K.pb"
                     % (got, len(files), d, len(numbered(d, "output"))))
        outs.append([np.load(p) for p in files])
    sq, ag = quant_vs_ort.score(outs, data, "top1")
    return sq, ag, len(outs)


def main(argv):
    if len(argv) == 4 and argv[1] == "prep":
        return prep(argv[2], argv[3])
    if len(argv) == 3 and argv[1] == "ort-quantize":
        work = argv[2]
        data = os.path.join(work, "data")
        path = quant_vs_ort.ort_quantize(data, work, "minmax")
        sq, ag = quant_vs_ort.score(quant_vs_ort.ort_outputs(path, data), data, "top1")
        print("%s\t%.2f\t%s" % (path, sq, "-" if ag is None else "%.1f" % ag))
        return 0
    if len(argv) == 6 and argv[1] == "ort":
        med, best = ort_time(argv[2], argv[3], int(argv[4]), int(argv[5]))
        print("%.3f\t%.3f" % (med, best))
        return 0
    if len(argv) == 4 and argv[1] == "score":
        sq, ag, k = score(argv[2], argv[3])
        print("%.2f\t%s\t%d" % (sq, "-" if ag is None else "%.1f" % ag, k))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

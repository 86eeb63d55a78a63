#!/usr/bin/env python3
"""Helper of bench/quant_vs_ort.sh (runs in its venv: onnxruntime, onnx, numpy).

  quant_vs_ort.py MODEL_DIR BIN_DIR WORK CALIBRATOR TASK

Quantizes MODEL_DIR/model.onnx twice, calibrating on the inputs of every
MODEL_DIR/test_data_set_*:
  - ONNX Runtime: (models below opset 13 converted to 13 with
    onnx.version_converter, which per-channel DequantizeLinear needs)
    onnxruntime.quantization.quantize_static (QuantFormat.QDQ,
    per_channel=True, activations QUInt8, weights QInt8, CalibrationMethod
    MinMax or Entropy; "default" is MinMax, quantize_static's default) after
    shape_inference.quant_pre_process;
  - quench: `quench quantize MODEL --calib MODEL_DIR --preset w8a8
    --calibrator minmax|entropy -o OUT.qir` ("default": no --calibrator,
    the preset's own), run with quench-run.
Both int8 models run on every test set; one function computes, for both,
the output SQNR against the FP32 reference outputs (output_K.pb, all outputs
and sets pooled) and the task agreement (TASK: top1 = argmax over the last
axis, next-token = argmax per position, none). Prints one tab-separated
line: RESULT quench_sqnr ort_sqnr quench_agree ort_agree (agreements '-' for none).
"""
import glob
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper


def read_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def numbered(folder, prefix):
    files = glob.glob(os.path.join(folder, prefix + "_*.pb"))
    return sorted(files, key=lambda p: int(p.rsplit("_", 1)[1].split(".")[0]))


def sets(model_dir):
    return sorted(glob.glob(os.path.join(model_dir, "test_data_set_*")))


class Reader:
    """CalibrationDataReader over the test sets' inputs, bound in order."""

    def __init__(self, names, model_dir):
        self.feeds = [dict(zip(names, (read_pb(p) for p in numbered(s, "input")))) for s in sets(model_dir)]
        self.i = 0

    def get_next(self):
        if self.i >= len(self.feeds):
            return None
        self.i += 1
        return self.feeds[self.i - 1]

    def rewind(self):
        self.i = 0


def ort_quantize(model_dir, work, calibrator):
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat, QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process
    src = os.path.join(model_dir, "model.onnx")
    m = onnx.load(src)
    opset = max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
    if opset < 13:
        # Per-channel DequantizeLinear (axis) needs opset 13; ORT's quantizer
        # does not convert, so the model is converted first.
        from onnx import version_converter
        src = os.path.join(work, "opset13.onnx")
        onnx.save(version_converter.convert_version(m, 13), src)
    pre = os.path.join(work, "ort_pre.onnx")
    try:
        # Symbolic shape inference needs sympy, which the venv lacks.
        quant_pre_process(src, pre, skip_symbolic_shape=True)
    except Exception as e:  # noqa: BLE001 - fall back to the plain model
        print("note: quant_pre_process failed (%s); quantizing the model as is" % e, file=sys.stderr)
        pre = src
    out = os.path.join(work, "ort_%s.onnx" % calibrator)
    # "default": each tool's default; quantize_static's is MinMax.
    method = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
              "default": CalibrationMethod.MinMax}[calibrator]
    for i, model in enumerate([pre, src] if pre != src else [src]):
        names = [x.name for x in ort.InferenceSession(model, providers=["CPUExecutionProvider"]).get_inputs()]
        try:
            quantize_static(model, out, Reader(names, model_dir), quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            calibrate_method=method)
            return out
        except Exception as e:  # noqa: BLE001 - ORT fails on some pre-processed graphs
            if i == 0 and model != src:
                print("note: quantize_static failed on the pre-processed model (%r); retrying on the "
                      "model as is" % e, file=sys.stderr)
                continue
            raise
    return out


def ort_outputs(path, model_dir):
    s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    names = [i.name for i in s.get_inputs()]
    return [s.run(None, dict(zip(names, (read_pb(p) for p in numbered(d, "input"))))) for d in sets(model_dir)]


def quench_outputs(bin_dir, model_dir, work, calibrator):
    q = os.path.join(work, "quench_%s.qir" % calibrator)
    # "default": the preset's own calibrator (docs/passes/quantize.md).
    calib = [] if calibrator == "default" else ["--calibrator", calibrator]
    cmd = [os.path.join(bin_dir, "quench"), "quantize", os.path.join(model_dir, "model.onnx"), "--calib",
           model_dir, "--preset", "w8a8"] + calib + ["--stats", os.path.join(work, "quench.qstats"), "-o", q]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    outs = []
    for d in sets(model_dir):
        od = os.path.join(work, "qout_%s_%s" % (calibrator, os.path.basename(d)))
        os.makedirs(od, exist_ok=True)
        subprocess.run([os.path.join(bin_dir, "quench-run"), q, "--output-dir", od] + numbered(d, "input"),
                       check=True, capture_output=True, text=True)
        outs.append([read_pb(p) for p in numbered(od, "output")])
    return outs


def score(outs, model_dir, task):
    """(SQNR dB over all outputs and sets, task agreement % or None)."""
    sig = err = 0.0
    agree = total = 0
    for got, d in zip(outs, sets(model_dir)):
        refs = [read_pb(p) for p in numbered(d, "output")]
        for k, (g, r) in enumerate(zip(got, refs)):
            g = np.asarray(g, np.float64).reshape(r.shape)
            r = r.astype(np.float64)
            sig += float(np.sum(r * r))
            err += float(np.sum((r - g) ** 2))
            if k == 0 and task != "none":
                a, b = np.argmax(g, axis=-1), np.argmax(r, axis=-1)
                agree += int(np.sum(a == b))
                total += a.size
    sqnr = float("inf") if err == 0 else 10 * np.log10(sig / err)
    return sqnr, (100.0 * agree / total if total else None)


def main():
    model_dir, bin_dir, work, calibrator, task = sys.argv[1:6]
    os.makedirs(work, exist_ok=True)
    # Each side is measured on its own: a failure of one (ORT's histogram
    # calibrators refuse tensors whose shape varies across samples) is
    # reported on stderr and printed as FAIL without hiding the other.
    res = []
    for side in ("quench", "ort"):
        try:
            if side == "quench":
                outs = quench_outputs(bin_dir, model_dir, work, calibrator)
            else:
                outs = ort_outputs(ort_quantize(model_dir, work, calibrator), model_dir)
            sq, ag = score(outs, model_dir, task)
            res.append(("%.2f" % sq, "-" if ag is None else "%.1f%%" % ag))
        except Exception as e:  # noqa: BLE001 - report and go on
            msg = e.stderr if isinstance(e, subprocess.CalledProcessError) else repr(e)
            print("%s failed: %s" % (side, str(msg).strip().splitlines()[-1:]), file=sys.stderr)
            res.append(("FAIL", "-"))
    print("RESULT\t%s\t%s\t%s\t%s" % (res[0][0], res[1][0], res[0][1], res[1][1]))
    return 0 if all(r[0] != "FAIL" for r in res) else 1


if __name__ == "__main__":
    sys.exit(main())

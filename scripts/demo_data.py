#!/usr/bin/python3
"""Inputs and scores for the compiled-C part of scripts/demo.sh (Debian's
python3 with python3-numpy and python3-onnx, from scripts/install-deps.sh).

  demo_data.py magika CONFIG OUT N_CALIB N_EVAL
      Real inputs for magika's network: real files under /usr/share (then
      /usr/lib) turned into its byte features exactly as magika's own Python
      preprocessing does (magika 0.6 _extract_features_from_seekable, with the
      sizes read from CONFIG = config.min.json): read min(block_size, size)
      bytes at the start and at the end of the file; the features are the
      first beg_size bytes of the start after lstrip() (ASCII whitespace),
      padded at the end with padding_token, then the last end_size bytes of
      the end after rstrip(), padded at the front. Files smaller than
      min_file_size_for_dl are skipped (magika does not run its model on
      them). To cover many formats the files are picked one per file-name
      extension (files without one are skipped), in sorted walk order; the first N_CALIB go to
      OUT/calib/test_data_set_K/input_0.pb, the next N_EVAL to OUT/eval/...
      (int32 [1, beg+mid+end]); OUT/eval/files.txt names each set's file.
  demo_data.py score GOT_ROOT SET...
      For each SET, GOT_ROOT/<SET's folder name>/output_K.npy against
      SET/output_K.pb: prints "SQNR_DB<TAB>AGREEMENT%" pooled over all
      outputs and sets (SQNR = 10 log10(sum ref^2 / sum (ref - got)^2);
      agreement = share of equal argmax over the last axis of output 0).
  demo_data.py labels CONFIG GOT_ROOT EVAL_DIR N
      For the first N sets of EVAL_DIR (made by `magika`): the file, the
      label of the FP32 reference's top-1 and of the compiled model's top-1
      (CONFIG's target_labels_space).
"""
import glob
import json
import math
import os
import re
import sys

import numpy as np
from onnx import TensorProto, numpy_helper

WS = b" \t\n\r\x0b\x0c"  # what bytes.strip() removes, as magika relies on


def magika_features(path, cfg):
    beg_size, mid_size, end_size = cfg["beg_size"], cfg["mid_size"], cfg["end_size"]
    pad, block = cfg["padding_token"], cfg["block_size"]
    if mid_size != 0 or cfg.get("use_inputs_at_offsets"):
        sys.exit("demo_data: this config asks for mid/offset features, which this script does not build")
    size = os.path.getsize(path)
    n = min(block, size)
    with open(path, "rb") as f:
        beg = f.read(n)
        f.seek(size - n)
        end = f.read(n)
    beg = list(beg.lstrip(WS)[:beg_size])
    end = list(end.rstrip(WS)[-end_size:]) if end_size else []
    return np.array([beg + [pad] * (beg_size - len(beg)) + [pad] * (end_size - len(end)) + end], np.int32)


def pick_files(n, min_size):
    seen, out = set(), []
    for top in ("/usr/share", "/usr/lib"):
        for root, dirs, files in os.walk(top):
            dirs.sort()
            for name in sorted(files):
                p = os.path.join(root, name)
                # One file per extension (extension-less files are skipped).
                ext = os.path.splitext(name)[1].lower()
                if not ext or ext in seen:
                    continue
                try:
                    if os.path.islink(p) or not os.path.isfile(p) or not os.access(p, os.R_OK) \
                            or os.path.getsize(p) < min_size:
                        continue
                except OSError:
                    continue
                seen.add(ext)
                out.append(p)
                if len(out) == n:
                    return out
    return out


def write_pb(path, arr):
    t = numpy_helper.from_array(arr)
    with open(path, "wb") as f:
        f.write(t.SerializeToString())


def make_magika(config, out, ncal, neval):
    with open(config) as f:
        cfg = json.load(f)
    files = pick_files(ncal + neval, max(1, cfg.get("min_file_size_for_dl", 1)))
    if len(files) < ncal + neval:
        sys.exit("demo_data: only %d usable files under /usr/share and /usr/lib" % len(files))
    for part, chunk in (("calib", files[:ncal]), ("eval", files[ncal:])):
        lines = []
        for k, p in enumerate(chunk):
            d = os.path.join(out, part, "test_data_set_%d" % k)
            os.makedirs(d, exist_ok=True)
            write_pb(os.path.join(d, "input_0.pb"), magika_features(p, cfg))
            lines.append("test_data_set_%d\t%s" % (k, p))
        with open(os.path.join(out, part, "files.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
    return 0


def numbered(folder, prefix, ext):
    files = glob.glob(os.path.join(folder, "%s_*.%s" % (prefix, ext)))
    return sorted(files, key=lambda p: int(re.search(r"_(\d+)\.[a-z]+$", p).group(1)))


def read_pb(path):
    t = TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def score(got_root, set_dirs):
    sig = err = 0.0
    agree = total = 0
    for s in set_dirs:
        refs = numbered(s, "output", "pb")
        gots = numbered(os.path.join(got_root, os.path.basename(s.rstrip("/"))), "output", "npy")
        if not refs or len(refs) != len(gots):
            sys.exit("demo_data: %s has %d output_K.pb but %d outputs were computed" % (s, len(refs), len(gots)))
        for k, (rp, gp) in enumerate(zip(refs, gots)):
            r = read_pb(rp).astype(np.float64)
            g = np.load(gp).astype(np.float64).reshape(r.shape)
            sig += float(np.sum(r * r))
            err += float(np.sum((r - g) ** 2))
            if k == 0:
                a, b = np.argmax(g, axis=-1), np.argmax(r, axis=-1)
                agree += int(np.sum(a == b))
                total += a.size
    sqnr = math.inf if err == 0 else 10 * math.log10(sig / err)
    print("%.2f\t%.1f" % (sqnr, 100.0 * agree / max(total, 1)))
    return 0


def labels(config, got_root, eval_dir, n):
    with open(config) as f:
        space = json.load(f)["target_labels_space"]
    with open(os.path.join(eval_dir, "files.txt")) as f:
        files = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    for name, path in files[:n]:
        ref = read_pb(os.path.join(eval_dir, name, "output_0.pb"))
        got = np.load(os.path.join(got_root, name, "output_0.npy"))
        print("  %-60s FP32 %-12s compiled %s" % (path, space[int(np.argmax(ref))], space[int(np.argmax(got))]))
    return 0


def main(argv):
    if len(argv) == 6 and argv[1] == "magika":
        return make_magika(argv[2], argv[3], int(argv[4]), int(argv[5]))
    if len(argv) == 6 and argv[1] == "labels":
        return labels(argv[2], argv[3], argv[4], int(argv[5]))
    if len(argv) >= 4 and argv[1] == "score":
        return score(argv[2], argv[3:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

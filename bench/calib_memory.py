#!/usr/bin/python3
"""Calibration memory bound: peak RSS of `quench-opt ... calibrate` on magika
with N1 and N2 samples. Builds max(N1, N2) magika feature vectors from files
under /usr/share and /usr/lib (as .npy, int32 [1, 2048]: the first 1024
bytes after stripping leading whitespace, padded at the end with 256, then
the last 1024 bytes after stripping trailing whitespace, padded at the
front; magika's config: beg_size = end_size = 1024, block_size = 4096,
padding_token = 256), runs calibrate on the first N1 and on the first N2 and
prints wall time and peak RSS (getrusage of that child, via os.wait4) of
each, and their ratio. Exit 1 if the N2 peak is not under twice the N1 one;
77 if the model is absent.

    calib_memory.py QUENCH_OPT MODEL N1 N2
"""
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

BLOCK, BEG, END, PAD = 4096, 1024, 1024, 256


def features(path):
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(BLOCK)
        f.seek(max(0, size - BLOCK))
        tail = f.read(BLOCK)
    beg = list(head.lstrip()[:BEG])
    end = list(tail.rstrip()[-END:]) if END else []
    beg = beg + [PAD] * (BEG - len(beg))
    end = [PAD] * (END - len(end)) + end
    return np.array([beg + end], np.int32)


def sample_files(n):
    """The first n non-empty regular files under /usr/share, /usr/lib in a
    fixed (sorted walk) order."""
    out = []
    for top in ("/usr/share", "/usr/lib"):
        for root, dirs, files in os.walk(top):
            dirs.sort()
            for name in sorted(files):
                p = os.path.join(root, name)
                try:
                    if os.path.islink(p) or not os.path.isfile(p) or os.path.getsize(p) == 0:
                        continue
                    if not os.access(p, os.R_OK):
                        continue
                except OSError:
                    continue
                out.append(p)
                if len(out) == n:
                    return out
    return out


def run(qopt, model, data, n, stats):
    cmd = [qopt, model, "--passes=canonicalize,calibrate{data=%s,samples=%d,stats=%s,progress=false}" % (data, n, stats)]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.stderr.write(err.decode(errors="replace"))
        sys.exit("calib_memory: quench-opt failed with %d samples" % n)
    return wall, ru.ru_maxrss  # KiB on Linux


def main():
    qopt, model, n1, n2 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    if not os.path.exists(model):
        print("skip: %s is absent" % model)
        return 77
    with tempfile.TemporaryDirectory(prefix="calib_memory.") as tmp:
        data = os.path.join(tmp, "samples")
        os.mkdir(data)
        files = sample_files(max(n1, n2))
        if len(files) < max(n1, n2):
            sys.exit("calib_memory: only %d sample files found" % len(files))
        for i, p in enumerate(files):
            np.save(os.path.join(data, "sample_%05d.npy" % i), features(p))
        res = {}
        for n in (n1, n2):
            wall, rss = run(qopt, model, data, n, os.path.join(tmp, "s%d.qstats" % n))
            res[n] = (wall, rss)
            print("samples %5d: wall %7.2f s  (%.1f ms/sample)  peak RSS %7.1f MiB" % (n, wall, 1e3 * wall / n, rss / 1024))
    ratio = res[n2][1] / res[n1][1]
    print("peak RSS ratio %d/%d samples: %.3f (must be < 2)" % (n2, n1, ratio))
    return 0 if ratio < 2 else 1


if __name__ == "__main__":
    sys.exit(main())

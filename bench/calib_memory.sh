#!/usr/bin/env bash
# Calibration memory does not grow with the number of samples: runs
# `quench-opt magika --passes='canonicalize,calibrate{...}'` on 10 and on
# 1000 samples built from files under /usr/share and /usr/lib, prints wall
# time and peak RSS of each and their ratio, exits 1 unless the 1000-sample
# peak is under twice the 10-sample one (77: the model is absent).
# Usage: bench/calib_memory.sh [N1 N2]   (env: QUENCH_BUILD=dir, default build)
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
opt="${QUENCH_OPT:-$root/${QUENCH_BUILD:-build}/bin/quench-opt}"
model="$root/../shared/models/magika_v3_3/model.onnx"
if [ ! -f "$model" ]; then
	echo "skip: $model is absent (see shared/models/MANIFEST.md)"
	exit 77
fi
if [ ! -x "$opt" ]; then
	echo "error: $opt not found; build first" >&2
	exit 2
fi
exec /usr/bin/python3 "$root/bench/calib_memory.py" "$opt" "$model" "${1:-10}" "${2:-1000}"

#!/usr/bin/env bash
# ONNX Runtime tests (ctest: ort/interop, ort/numerics). Installs
# onnxruntime, onnx and numpy from PyPI into a venv under the build folder
# (as bench/interp_vs_ort.sh does, unpinned), then runs
#   interop:  interop.py, exported QDQ models in ONNX Runtime vs quench-run,
#             within one quantization step per element;
#   numerics: numerics.py, `quench-run --numerics ort` vs ONNX Runtime, bit
#             for bit.
# Exits 77 (ctest: skipped) with a message when PyPI is out of reach.
# Usage: test/ort/run.sh BUILD_DIR [interop|numerics] [MODELS_DIR]
set -u
build=$(cd "$1" && pwd) || exit 2
what=${2:-interop}
shift
[ $# -gt 0 ] && shift
case $what in interop | numerics) ;; *) echo "usage: run.sh BUILD_DIR [interop|numerics] [MODELS_DIR]" >&2; exit 2 ;; esac
src=$(cd "$(dirname "$0")/../.." && pwd)
models=${1:-$src/../shared/models}
venv=$build/ort-venv
py=$venv/bin/python
if ! "$py" -c 'import onnxruntime, onnx, numpy' 2>/dev/null; then
	echo "setting up $venv (onnxruntime, onnx, numpy from PyPI)..."
	if ! python3 -m venv "$venv"; then
		echo "skip: cannot create a venv at $venv (python3-venv missing?)"
		exit 77
	fi
	if ! "$venv/bin/pip" install -q --disable-pip-version-check --timeout 30 onnxruntime numpy onnx; then
		echo "skip: pip could not install onnxruntime from PyPI (offline?); the ONNX Runtime interop test needs it"
		exit 77
	fi
fi
echo "onnxruntime $("$py" -c 'import onnxruntime; print(onnxruntime.__version__)')"
if [ "$what" = numerics ]; then
	exec "$py" "$src/test/ort/numerics.py" "$build/bin" "$build/test/ort-numerics"
fi
if [ ! -d "$models" ]; then
	echo "note: $models is absent: only the hand-written QDQ cases run"
	models=
fi
exec "$py" "$src/test/ort/interop.py" "$build/bin" "$build/test/ort-work" "$src/test/ort/cases" ${models:+"$models"}

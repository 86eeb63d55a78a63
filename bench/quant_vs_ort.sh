#!/usr/bin/env bash
# Post-training int8 quantization, quench vs ONNX Runtime's quantizer, on the
# dev models of ../shared/models: output SQNR against the FP32 reference
# outputs and task agreement, with each tool's default calibration, MinMax
# and Entropy, both models calibrated on the model's test_data_set inputs.
# bench/README.md explains.
# Usage: bench/quant_vs_ort.sh   (env: QUENCH_BUILD=dir holding bin/quench,
#        default build; MODELS=list to run fewer models; BENCH_VENV=venv,
#        default build-bench/venv)
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
models_dir=../shared/models
build=${QUENCH_BUILD:-build}
venv=${BENCH_VENV:-build-bench/venv}
py=$venv/bin/python
if [ ! -d "$models_dir" ]; then
	echo "skip: $models_dir is absent (see shared/models/MANIFEST.md)"
	exit 0
fi
for t in quench quench-run; do
	if [ ! -x "$build/bin/$t" ]; then
		echo "error: $build/bin/$t not found; build first (ninja -C $build)" >&2
		exit 2
	fi
done
# The same private venv as bench/interp_vs_ort.sh (nothing system-wide).
if ! "$py" -c 'import onnxruntime, onnx, numpy' 2>/dev/null; then
	echo "setting up $venv (onnxruntime, onnx, numpy from PyPI)..."
	if ! python3 -m venv "$venv" || ! "$venv/bin/pip" install -q onnxruntime numpy onnx; then
		echo "error: could not create $venv" >&2
		exit 2
	fi
fi
echo "onnxruntime $("$py" -c 'import onnxruntime; print(onnxruntime.__version__)'); w8a8: per-channel i8 weights, per-tensor u8 activations (QDQ)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
row() { printf '%-24s %-8s %12s %12s %14s %14s\n' "$@"; }
row model calib "quench dB" "ORT dB" "quench agree" "ORT agree"
status=0
for m in ${MODELS:-mnist8 ppocr_cls_mobile_v2 magika_v3_3 yunet_120x160 stories260k ppocr_en_number_rec_v2}; do
	case $m in
	mnist8 | ppocr_cls_mobile_v2 | magika_v3_3) task=top1 ;;
	stories260k) task=next-token ;;
	*) task=none ;;
	esac
	if [ ! -f "$models_dir/$m/model.onnx" ]; then
		echo "skip: $m (no model.onnx)"
		continue
	fi
	for c in default minmax entropy; do
		out=$("$py" bench/quant_vs_ort.py "$models_dir/$m" "$build/bin" "$work/$m" "$c" "$task" 2>"$work/err")
		if [ $? -ne 0 ]; then
			status=1
			grep -E '^(quench|ort) failed' "$work/err" | sed 's/^/    /' >&2
		fi
		# ORT's calibrators print progress on stdout: take the RESULT line.
		IFS=$'\t' read -r _ qs os qa oa < <(printf '%s\n' "$out" | tr '\r' '\n' | grep '^RESULT')
		row "$m" "$c" "${qs:-FAIL}" "${os:-FAIL}" "${qa:--}" "${oa:--}"
	done
done
exit $status

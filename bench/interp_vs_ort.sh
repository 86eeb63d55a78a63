#!/usr/bin/env bash
# End-to-end: quench's reference interpreter vs ONNX Runtime, both on one
# thread, on the real models of ../shared/models (test_data_set_0).
# Usage: bench/interp_vs_ort.sh   (env: BENCH_REPEAT=N runs, default 10;
#        QUENCH_BUILD=dir holding bin/quench-run, default build)
# Exits 1 if quench-run's --check (--numerics ort: the references come from
# ONNX Runtime) fails for any model: timing wrong results means nothing, but
# the other models are still measured. Timed in the default exact mode.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
models_dir=../shared/models
run="${QUENCH_BUILD:-build}/bin/quench-run"
n=${BENCH_REPEAT:-10}
venv=build-bench/venv
py=$venv/bin/python

if [ ! -d "$models_dir" ]; then
	echo "skip: $models_dir is absent (see shared/models/MANIFEST.md)"
	exit 0
fi
if [ ! -x "$run" ]; then
	echo "error: $run not found; build first (ninja -C build)" >&2
	exit 2
fi
# The venv is private to this benchmark: nothing is installed system-wide.
if ! "$py" -c 'import onnxruntime, onnx, numpy' 2>/dev/null; then
	echo "setting up $venv (onnxruntime, onnx, numpy from PyPI)..."
	if ! python3 -m venv "$venv" ||
		! "$venv/bin/pip" install -q onnxruntime numpy onnx; then
		echo "error: could not create $venv" >&2
		exit 2
	fi
fi

peak_line=$("$py" bench/ort_bench.py peak) || exit 2
peak=${peak_line%%$'\t'*}
echo "cpu: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "peak (1 core, f32): ${peak_line#*$'\t'}"
echo "onnxruntime $("$py" -c 'import onnxruntime; print(onnxruntime.__version__)'), runs: $n after 2 warm-ups (quench-run: --repeat $n)"
echo "GFLOP = 2 x MACs of Conv, ConvTranspose, MatMul, Gemm, LSTM, GRU only"
echo

row() { printf '%-24s %9s %9s %9s %9s %7s %9s %8s %8s %7s %7s\n' "$@"; }
row model "q med ms" "q best" "ORT med" "ORT best" "q/ORT" GFLOP "q GF/s" "ORT GF/s" "q %pk" "ORT %pk"
status=0
for m in mnist8 ppocr_cls_mobile_v2 ppocr_en_number_rec_v2 yunet_120x160 \
	silero_vad/silero_vad.onnx magika_v3_3 stories260k; do
	case $m in
	*.onnx) model=$models_dir/$m dir=$(dirname "$model") ;;
	*) model=$models_dir/$m/model.onnx dir=$models_dir/$m ;;
	esac
	set_dir=$dir/test_data_set_0
	name=${m%%/*}
	if [ ! -f "$model" ] || [ ! -d "$set_dir" ]; then
		echo "skip: $m ($model or $set_dir missing)"
		continue
	fi
	# Correctness against the ONNX Runtime-made reference in the ort numerics
	# mode (docs/interpreter.md); the timed runs use the default exact mode,
	# the one calibration uses.
	qout=$("$run" "$model" --check "$set_dir" --numerics ort 2>&1) &&
		qout=$("$run" "$model" "$set_dir"/input_*.pb --repeat "$n" 2>&1)
	qrc=$?
	if [ $qrc -ne 0 ]; then
		echo "FAIL: $m: quench-run --check failed (rc $qrc), timing void:"
		while IFS= read -r line; do printf '    %s\n' "$line"; done <<<"$qout"
		status=1
		continue
	fi
	# "time: median X ms, best Y ms over N runs (1 thread)"
	read -r qmed qbest < <(echo "$qout" |
		sed -n 's/^time: median \([0-9.]*\) ms, best \([0-9.]*\) ms.*/\1 \2/p')
	if [ -z "${qmed:-}" ]; then
		echo "FAIL: $m: no time line in quench-run output" >&2
		status=1
		continue
	fi
	if ! oout=$("$py" bench/ort_bench.py ort "$model" "$set_dir" "$n"); then
		echo "FAIL: $m: ONNX Runtime run failed" >&2
		status=1
		continue
	fi
	read -r omed obest gf <<<"$oout"
	# shellcheck disable=SC2046 # awk prints 10 space-free numbers
	row "$name" $(awk -v qm="$qmed" -v qb="$qbest" -v om="$omed" -v ob="$obest" \
		-v gf="$gf" -v pk="$peak" 'BEGIN {
		qg = gf / (qm / 1e3); og = gf / (om / 1e3)
		printf "%.3f %.3f %.3f %.3f %.1f %.4f %.2f %.2f %.2f %.2f\n",
			qm, qb, om, ob, qm / om, gf, qg, og, 100 * qg / pk, 100 * og / pk
	}')
done
exit $status

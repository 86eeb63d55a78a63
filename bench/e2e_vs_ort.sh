#!/usr/bin/env bash
# End to end: quench's compiled C (quench compile, w8a8, the best target for
# this CPU) against ONNX Runtime FP32 and ONNX Runtime running its own int8
# QDQ model, at batch 1, on 1 and 2 threads, on the dev models of
# ../shared/models; also the compile time per model and the compiled
# model's output SQNR against the FP32 reference. bench/README.md explains.
# Usage: bench/e2e_vs_ort.sh [--profile]   (--profile: after each model, its
#        per-layer time profile on 1 thread: the generated code rebuilt with
#        -DQRT_PROFILE, `NAME_main --profile`; env: BENCH_REPEAT=N timed runs, default 200,
#        at least 20; QUENCH_BUILD=dir holding bin/quench, default build;
#        MODELS="m1 m2" (default mnist8 ppocr_cls_mobile_v2 magika_v3_3);
#        THREADS="1 2"; TARGET=t to force a target; E2E_MIN_SQNR=dB below
#        which a compiled model counts as wrong, default 15;
#        BENCH_VENV=venv, default build-bench/venv)
# Exits 1 when a model fails to compile, build or run, or its outputs are
# below E2E_MIN_SQNR (such a model gets no speed number); the other models
# are still measured.
set -u
profile=no
for a in "$@"; do
	case $a in
	--profile) profile=yes ;;
	*)
		echo "usage: bench/e2e_vs_ort.sh [--profile]" >&2
		exit 2
		;;
	esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
models_dir=../shared/models
build=${QUENCH_BUILD:-build}
quench=$build/bin/quench
n=${BENCH_REPEAT:-200}
min_sqnr=${E2E_MIN_SQNR:-15}
venv=${BENCH_VENV:-build-bench/venv}
py=$venv/bin/python
if [ ! -d "$models_dir" ]; then
	echo "skip: $models_dir is absent (see shared/models/MANIFEST.md)"
	exit 0
fi
if [ ! -x "$quench" ]; then
	echo "error: $quench not found; build first (ninja -C $build)" >&2
	exit 2
fi
if [ "$n" -lt 20 ]; then
	echo "error: BENCH_REPEAT=$n: at least 20 timed runs" >&2
	exit 2
fi
# The same private venv as the other benches (nothing system-wide).
if ! "$py" -c 'import onnxruntime, onnx, numpy' 2>/dev/null; then
	echo "setting up $venv (onnxruntime, onnx, numpy from PyPI)..."
	if ! python3 -m venv "$venv" || ! "$venv/bin/pip" install -q onnxruntime numpy onnx; then
		echo "error: could not create $venv" >&2
		exit 2
	fi
fi
flags=$(grep -m1 '^flags' /proc/cpuinfo)
if [ -n "${TARGET:-}" ]; then
	target=$TARGET
elif [[ " $flags " == *" avx512_vnni "* && " $flags " == *" amx_int8 "* && " $flags " == *" amx_tile "* ]]; then
	target=x86-64-amx
elif [[ " $flags " == *" avx512_vnni "* ]]; then
	target=x86-64-avx512vnni
elif [[ " $flags " == *" avx2 "* ]]; then
	target=x86-64-avx2
else
	target=generic
fi
# Pin: 1 thread on core 0, T threads on cores 0..T-1 (when taskset exists).
pin() {
	local t=$1
	shift
	if command -v taskset >/dev/null 2>&1 && [ "$t" -le "$(nproc)" ]; then
		taskset -c "0-$((t - 1))" "$@"
	else
		"$@"
	fi
}
field() { grep -m1 "^$1" /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'; }
echo "cpu: $(field 'model name') (family $(field 'cpu family') model $(field 'model[[:space:]]*:'), $(field 'cpu MHz') MHz)," \
	"$(nproc) cores online; avx2 $([[ " $flags " == *" avx2 "* ]] && echo yes || echo no)," \
	"avx512_vnni $([[ " $flags " == *" avx512_vnni "* ]] && echo yes || echo no)"
echo "target: $target; onnxruntime $("$py" -c 'import onnxruntime; print(onnxruntime.__version__)'); cc: $(cc --version | head -1)"
echo "runs: $n timed after 1 warm-up, batch 1, test_data_set_0 (magika: its first file);" \
	"pinned with taskset: $(command -v taskset >/dev/null && echo yes || echo no)"
echo "quench: w8a8 compiled C; ORT-fp32: the model; ORT-int8: quantize_static QDQ per-channel MinMax;"
echo "both quantizers calibrated on the same inputs (every test_data_set, batch-1 rows)"
echo
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
row() { printf '%-20s %3s %9s %8s %9s %8s %9s %8s %7s %7s %7s %6s %7s %8s\n' "$@"; }
row model thr "q med ms" "q best" "i8 med" "i8 best" "f32 med" "f32 best" "q/i8 x" "q/f32 x" "q SQNR" top1 "i8 SQNR" compile-s
# --profile: the per-layer time profile of the compiled model (the generated
# code rebuilt with -DQRT_PROFILE, `NAME_main --profile`: ms per run of each
# op, the slowest first), printed under the model's 1-thread row.
prof() {
	local m=$1 w=$2 set0=$3 ms=$4 reps
	# About 2 s of runs, so that small models get enough samples too.
	reps=$(awk -v ms="$ms" -v n="$n" 'BEGIN { r = int(2000 / (ms > 0 ? ms : 1)); if (r < n) r = n; if (r > 20000) r = 20000; print r }')
	rm -rf "$w/cp" && cp -r "$w/c" "$w/cp"
	if ! make -s -C "$w/cp" clean >/dev/null || ! make -s -C "$w/cp" OPT="-O3 -DQRT_PROFILE" >"$w/prof.log" 2>&1 ||
		! pin 1 "$w/cp/${m}_main" --bench "$reps" --profile --out "$w" "$set0" >"$w/prof.txt" 2>>"$w/prof.log"; then
		echo "    profile: failed ($(tail -1 "$w/prof.log" 2>/dev/null))"
		return
	fi
	echo "    per-layer profile of ${m}_main, 1 thread, $reps runs (ms per run, share, node and op; top 12):"
	sed -n '3,$p' "$w/prof.txt" | grep -v ' total$' | head -12 | sed 's/^/    /'
	tail -1 "$w/prof.txt" | sed 's/^/    /'
}
status=0
declare -a short=()
measured=0
for m in ${MODELS:-mnist8 ppocr_cls_mobile_v2 magika_v3_3}; do
	dir=$models_dir/$m
	w=$work/$m
	mkdir -p "$w"
	if [ ! -f "$dir/model.onnx" ]; then
		echo "skip: $m (no model.onnx)"
		continue
	fi
	fail() {
		echo "FAIL: $m: $1"
		[ -f "${2:-}" ] && sed 's/^/    /' "$2" | tail -20
		status=1
	}
	if ! prep=$("$py" bench/e2e_vs_ort.py prep "$dir" "$w" 2>"$w/err"); then
		fail "could not prepare its inputs" "$w/err"
		continue
	fi
	data=${prep#*$'\t'}
	set0=$data/test_data_set_0
	t0=$(date +%s%N)
	if ! "$quench" compile "$dir/model.onnx" --calib "$data" --preset w8a8 --target "$target" --name "$m" \
		-o "$w/c" >"$w/compile.log" 2>&1; then
		fail "quench compile failed" "$w/compile.log"
		continue
	fi
	csec=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
	if ! make -s -C "$w/c" >"$w/make.log" 2>&1; then
		fail "make failed" "$w/make.log"
		continue
	fi
	# Accuracy on every prepared set (magika: all 76 files), not only the timed one.
	ok=1
	for s in "$data"/test_data_set_*; do
		mkdir -p "$w/out/${s##*/}"
		"$w/c/${m}_main" --out "$w/out/${s##*/}" "$s" >"$w/run.log" 2>&1 || { ok=0; break; }
	done
	if [ $ok = 0 ]; then
		fail "${m}_main failed on $s" "$w/run.log"
		continue
	fi
	if ! sc=$("$py" bench/e2e_vs_ort.py score "$w/out" "$data" 2>"$w/err"); then
		fail "could not score its outputs" "$w/err"
		continue
	fi
	IFS=$'\t' read -r sqnr agree _ <<<"$sc"
	if ! awk -v s="$sqnr" -v t="$min_sqnr" 'BEGIN { exit !(s >= t) }'; then
		fail "output SQNR $sqnr dB < $min_sqnr dB against the FP32 reference: not timed"
		continue
	fi
	# ORT's calibrator prints progress on stdout: the path is the last line.
	i8sq=-
	if i8=$("$py" bench/e2e_vs_ort.py ort-quantize "$w" 2>"$w/err" | tail -1) && IFS=$'\t' read -r i8 i8sq _ <<<"$i8" &&
		[ -f "$i8" ]; then
		:
	else
		i8='' i8sq=-
		echo "note: $m: ORT quantize_static failed; no ORT-int8 column" && sed 's/^/    /' "$w/err" | tail -3
		status=1
	fi
	for t in ${THREADS:-1 2}; do
		q=$(pin "$t" "$w/c/${m}_main" --threads "$t" --bench "$n" --out "$w" "$set0" 2>&1)
		read -r qmed qbest < <(echo "$q" | sed -n 's/.*median \([0-9.]*\) ms, best \([0-9.]*\) ms.*/\1 \2/p')
		read -r fmed fbest < <(pin "$t" "$py" bench/e2e_vs_ort.py ort "$dir/model.onnx" "$set0" "$n" "$t" 2>>"$w/err")
		imed='' ibest=''
		[ -n "$i8" ] && read -r imed ibest < <(pin "$t" "$py" bench/e2e_vs_ort.py ort "$i8" "$set0" "$n" "$t" 2>>"$w/err")
		if [ -z "${qmed:-}" ] || [ -z "${fmed:-}" ]; then
			fail "no time (driver: ${q:0:200})" "$w/err"
			continue
		fi
		ri=$(awk -v q="$qmed" -v o="${imed:-}" 'BEGIN { if (o == "") print "-"; else printf "%.2f", o / q }')
		rf=$(awk -v q="$qmed" -v o="$fmed" 'BEGIN { printf "%.2f", o / q }')
		row "$m" "$t" "$qmed" "$qbest" "${imed:--}" "${ibest:--}" "$fmed" "$fbest" "$ri" "$rf" "$sqnr" "${agree}%" "$i8sq" "$csec"
		if [ "$t" = 1 ]; then
			measured=$((measured + 1))
			[ $profile = yes ] && prof "$m" "$w" "$set0" "$qmed"
			awk -v a="$ri" -v b="$rf" 'BEGIN { exit !(a != "-" && a >= 1.5 && b >= 2) }' ||
				short+=("$m (1 thread: ${ri}x vs ORT-int8, ${rf}x vs ORT-fp32)")
		fi
	done
done
echo
echo "q/i8 x, q/f32 x: speedup of quench's compiled C = ORT median / quench median (> 1: quench faster)."
echo "SQNR: compiled int8 outputs vs the FP32 reference output_K.pb, pooled over every batch-1 set (mnist8 3,"
echo "ppocr_cls 6, magika 76 files); top1: quench's argmax equal to FP32's; i8 SQNR: ORT-int8's, the same way."
echo "Times: test_data_set_0 (magika: its first file)."
echo "compile-s: quench compile wall time (calibration + quantization + codegen; make not included)."
if [ "$measured" -eq 0 ]; then
	echo "targets (1 thread: >= 1.5x ORT-int8, >= 2x ORT-fp32): no model was timed on 1 thread"
elif [ ${#short[@]} -eq 0 ]; then
	echo "targets (1 thread: >= 1.5x ORT-int8, >= 2x ORT-fp32): met by every model measured"
else
	echo "targets (1 thread: >= 1.5x ORT-int8, >= 2x ORT-fp32) not met by:"
	printf '    %s\n' "${short[@]}"
fi
exit $status

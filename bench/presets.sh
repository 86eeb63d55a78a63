#!/usr/bin/env bash
# Every quantization preset on every dev model: output SQNR (worst output),
# cosine and the MANIFEST's task agreement against the FP32 model, through
# `quench report` (calibrated and evaluated on the model's test_data_sets).
# Usage: bench/presets.sh   (env: QUENCH_BUILD=dir holding bin/quench, default
#        build; PRESETS="w8a8 fp8" and MODELS="mnist8 magika_v3_3" to run fewer)
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
models_dir=../shared/models
quench=${QUENCH_BUILD:-build}/bin/quench
if [ ! -d "$models_dir" ]; then
	echo "skip: $models_dir is absent (see shared/models/MANIFEST.md)"
	exit 0
fi
if [ ! -x "$quench" ]; then
	echo "error: $quench not found; build first" >&2
	exit 2
fi
presets=${PRESETS:-"w8a8 w8a8-sym w4a16 w4a8 fp8 mxfp4 nvfp4"}
models=${MODELS:-"mnist8 ppocr_cls_mobile_v2 magika_v3_3 yunet_120x160 stories260k ppocr_en_number_rec_v2"}
task_of() {
	case $1 in
	yunet_120x160) echo detect ;;
	stories260k) echo next-token ;;
	ppocr_en_number_rec_v2) echo ctc ;;
	*) echo top1 ;;
	esac
}
printf '%-24s %-9s %9s %9s %-18s %7s\n' model preset sqnr-dB cosine agreement secs
for m in $models; do
	dir=$models_dir/$m
	[ -f "$dir/model.onnx" ] || continue
	for p in $presets; do
		t0=$(date +%s%N)
		out=$("$quench" report "$dir/model.onnx" --calib "$dir" --data "$dir" --preset "$p" --task "$(task_of "$m")" \
			--top 0 2>&1)
		rc=$?
		secs=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
		if [ $rc -ne 0 ]; then
			printf '%-24s %-9s %9s\n' "$m" "$p" FAIL
			echo "$out" | tail -3 | sed 's/^/    /'
			continue
		fi
		sqnr=$(echo "$out" | grep -oE '^output .* sqnr [-0-9.a-z]+' | awk '{print $NF}' | sort -g | head -1)
		cos=$(echo "$out" | grep -oE '^output .* cosine [-0-9.]+' | awk '{print $NF}' | sort -g | head -1)
		agree=$(echo "$out" | grep -oE '^task .*: [0-9]+ of [0-9]+ agree \([0-9.]+%\)' | sed -E 's/.*: ([0-9]+ of [0-9]+) agree \(([0-9.]+)%\)/\1 (\2%)/')
		printf '%-24s %-9s %9s %9s %-18s %7s\n' "$m" "$p" "${sqnr:--}" "${cos:--}" "${agree:--}" "$secs"
	done
done
echo
echo "sqnr/cosine: the worst output against the FP32 model; agreement: same top-1 label (top1), same"
echo "CTC-decoded text (ctc), same next token (next-token), same anchors with face score > 0.5 (detect)."

#!/usr/bin/env bash
# The outlier passes (docs/passes/README.md) against each other: output SQNR
# (worst output) and task agreement against the FP32 model for the outlier
# test model (scripts/make_outlier_model.py), stories260k and magika_v3_3 at
# w8a8, w4a8 and w4a4, for no pass, each pass alone and the best of a few
# combinations. Each pipeline is
#   canonicalize,calibrate{data=D,stats=A},PASS,calibrate{data=D,stats=B},quantize{preset=P,stats=B}
# through quench-opt (the calibrated module before quantize is built once per
# pipeline and reused for every preset), then scored by
#   quench report MODEL --quantized Q.qir --data D --task T
# Calibration and evaluation use the same test_data_sets. A pass that is not
# registered in `quench-opt --help` prints "n/a (not built)"; one that
# declines everything still runs (its row equals "none"). In a combination a
# calibration follows every pass, so each pass sees statistics of its input.
# Usage: bench/outlier_passes.sh   (env: QUENCH_BUILD=dir holding bin/, default
#        build; MODELS="outlier stories260k magika_v3_3"; PRESETS="w8a8 w4a8
#        w4a4"; PASSES="smoothquant osplus reparam rotate split noisyquant"; COMBOS=
#        "smoothquant,rotate osplus,rotate ..."; OUTLIER_DIR=an existing build
#        of the outlier model, else one is made in a temporary folder)
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
models_dir=$root/../shared/models
build=${QUENCH_BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
opt=$build/bin/quench-opt
quench=$build/bin/quench
for t in "$opt" "$quench"; do
	if [ ! -x "$t" ]; then
		echo "error: $t not found; build first" >&2
		exit 2
	fi
done
models=${MODELS:-"outlier stories260k magika_v3_3"}
presets=${PRESETS:-"w8a8 w4a8 w4a4"}
passes=${PASSES:-"smoothquant osplus reparam rotate split noisyquant"}
# The combinations "best" is chosen from (passes run left to right).
combos=${COMBOS:-"smoothquant,rotate osplus,rotate smoothquant,split rotate,noisyquant smoothquant,rotate,noisyquant osplus,rotate,noisyquant"}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/outlier_passes.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT

registered=$("$opt" --help 2>&1 | sed -nE 's/^  ([a-z0-9-]+) .*/\1/p')
is_registered() { echo "$registered" | grep -qx "$1"; }
# All passes of a comma list registered?
all_registered() {
	local p
	for p in ${1//,/ }; do is_registered "$p" || return 1; done
}

model_dir() {
	case $1 in
	outlier)
		if [ -n "${OUTLIER_DIR:-}" ]; then
			echo "$OUTLIER_DIR"
		else
			[ -f "$tmp/outlier/model.onnx" ] ||
				/usr/bin/python3 scripts/make_outlier_model.py "$tmp/outlier" >&2 || return 1
			echo "$tmp/outlier"
		fi
		;;
	*) echo "$models_dir/$1" ;;
	esac
}
task_of() {
	case $1 in
	stories260k) echo next-token ;;
	magika_v3_3) echo top1 ;;
	*) echo none ;;
	esac
}

# One row as it is measured; the markdown table at the end gathers them.
declare -A cell=()
order=()
row() {
	printf '%-12s %-6s %-34s %9s %s\n' "$@"
	local key="$1|$3" v a=${5:--}
	a=${a% (*}
	case $4 in
	FAIL) v="FAIL" ;;
	-) v="${5:--}" ;;
	*) v="$4"; [ "$a" = - ] || v="$v / $a" ;;
	esac
	case $3 in "best: "*) key="$1|best combination" v="$v (${3#best: })" ;; esac
	[ -n "${cell[$key|x]:-}" ] || { order+=("$key"); cell[$key|x]=1; }
	cell[$key|$2]=$v
}

printf '%-12s %-6s %-34s %9s %s\n' model preset pipeline sqnr-dB agreement
for m in $models; do
	dir=$(model_dir "$m") || { row "$m" - - FAIL "cannot build the outlier model"; continue; }
	if [ ! -f "$dir/model.onnx" ]; then
		row "$m" - - skip "$dir/model.onnx is absent"
		continue
	fi
	task=$(task_of "$m")
	w=$tmp/$m
	mkdir -p "$w"
	if ! "$opt" "$dir/model.onnx" --passes="canonicalize,calibrate{data=$dir,stats=$w/a.qstats,progress=false}" \
		-o "$w/base.qir" >"$w/base.log" 2>&1; then
		row "$m" - - FAIL "$(tail -1 "$w/base.log")"
		continue
	fi
	# Each pipeline: name, comma list of passes (empty: none).
	pipes="none:"
	for p in $passes; do pipes="$pipes $p:$p"; done
	for c in $combos; do pipes="$pipes ${c//,/+}:$c"; done
	declare -A best_s=() best_a=() best_n=()
	for pipe in $pipes; do
		name=${pipe%%:*}
		list=${pipe#*:}
		if [ -n "$list" ] && ! all_registered "$list"; then
			case $name in *+*) continue ;; esac # combinations: only where buildable
			for pr in $presets; do row "$m" "$pr" "$name" - "n/a (not built)"; done
			continue
		fi
		# The calibrated module before quantize: each pass, then calibrate.
		src=$w/base.qir
		stats=$w/a.qstats
		if [ -n "$list" ]; then
			pl="" i=0
			for p in ${list//,/ }; do
				i=$((i + 1))
				stats=$w/$name.$i.qstats
				pl="$pl${pl:+,}$p,calibrate{data=$dir,stats=$stats,progress=false}"
			done
			src=$w/$name.qir
			if ! "$opt" "$w/base.qir" --passes="$pl" -o "$src" >"$w/$name.log" 2>&1; then
				for pr in $presets; do row "$m" "$pr" "$name" FAIL "$(grep -m1 error "$w/$name.log")"; done
				continue
			fi
		fi
		for pr in $presets; do
			q=$w/$name.$pr.qir
			if ! "$opt" "$src" --passes="quantize{preset=$pr,stats=$stats}" -o "$q" >"$w/q.log" 2>&1; then
				row "$m" "$pr" "$name" FAIL "$(grep -m1 error "$w/q.log")"
				continue
			fi
			out=$("$quench" report "$dir/model.onnx" --quantized "$q" --data "$dir" --task "$task" --top 0 2>&1)
			if [ $? -ne 0 ]; then
				row "$m" "$pr" "$name" FAIL "$(echo "$out" | grep -m1 error)"
				continue
			fi
			rm -f "$q" "${q}.weights"
			sqnr=$(echo "$out" | grep -oE '^output .* sqnr [-0-9.a-z]+' | awk '{print $NF}' | sort -g | head -1)
			agree=$(echo "$out" | grep -oE '^task .*: [0-9]+ of [0-9]+ agree \([0-9.]+%\)' |
				sed -E 's/.*: ([0-9]+ of [0-9]+) agree \(([0-9.]+)%\)/\1 (\2%)/')
			case $name in
			*+*)
				if [ -z "${best_s[$pr]:-}" ] || awk -v a="$sqnr" -v b="${best_s[$pr]}" 'BEGIN { exit !(a > b) }'; then
					best_s[$pr]=$sqnr best_a[$pr]=${agree:--} best_n[$pr]=$name
				fi
				;;
			*) row "$m" "$pr" "$name" "${sqnr:--}" "${agree:--}" ;;
			esac
		done
	done
	for pr in $presets; do
		if [ -n "${best_s[$pr]:-}" ]; then
			row "$m" "$pr" "best: ${best_n[$pr]}" "${best_s[$pr]}" "${best_a[$pr]}"
		else
			row "$m" "$pr" "best combination" - "n/a (no combination built)"
		fi
	done
	unset best_s best_a best_n
done
echo
# The markdown table (docs/passes/README.md): one row per model and pipeline.
printf '| model | pipeline |'
for pr in $presets; do printf ' %s |' "$pr"; done
printf '\n|---|---|'
for pr in $presets; do printf -- '---|'; done
printf '\n'
for key in "${order[@]}"; do
	printf '| %s | %s |' "${key%%|*}" "${key#*|}"
	for pr in $presets; do printf ' %s |' "${cell[$key|$pr]:--}"; done
	printf '\n'
done
echo
echo "sqnr: the worst output against the FP32 model; agreement: same next token (stories260k), same"
echo "top-1 label (magika_v3_3); the outlier model has no task (SQNR is its gate). best: the combination"
echo "of COMBOS with the highest SQNR."

#!/usr/bin/env bash
# The main job: install, build, then for each real model in ../shared/models
# import the ONNX file, canonicalize it (the verifier after every pass), write
# it as .qir + weights, run the written .qir on the reference interpreter
# against every test_data_set the model has, and report accuracy (worst SQNR
# and max relative error over the sets) and speed (median and best ms per
# inference, one thread). Then it quantizes each dev model (w8a8: calibrate on
# its test_data_sets, quantize, lower to integer ops), runs the lowered model
# and reports accuracy against FP32 (output SQNR, cosine, the MANIFEST's task
# agreement, via `quench report`) and its interpreter time. Where
# ../shared/models is absent, the sample module in examples/ goes through the
# pass pipeline alone.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# Its own build folder, so the Release flags never churn the test build.
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DQUENCH_TESTS=OFF >/dev/null
cmake --build build-release -j"$(nproc)"
opt=build-release/bin/quench-opt
run=build-release/bin/quench-run
quench=build-release/bin/quench
out=${QUENCH_DEMO_OUT:-build-release/demo}
models=${QUENCH_MODELS:-../shared/models}
repeat=${QUENCH_DEMO_REPEAT:-10}
mkdir -p "$out"

if [ ! -d "$models" ]; then
  echo "demo: $models is absent; running the pass pipeline on examples/sample.qir only"
  "$opt" examples/sample.qir --passes=canonicalize --pass-stats --time-passes -o "$out/sample.qir"
  exit 0
fi

printf '\n%-24s %5s %5s %5s %9s %11s %9s %9s\n' model ops canon sets pass worst-SQNR median-ms best-ms
status=0
for f in mnist8/model.onnx ppocr_cls_mobile_v2/model.onnx ppocr_en_number_rec_v2/model.onnx \
         yunet_120x160/model.onnx silero_vad/silero_vad.onnx magika_v3_3/model.onnx stories260k/model.onnx; do
  [ -f "$models/$f" ] || continue
  dir=$(dirname "$models/$f")
  name=$(basename "$dir")
  dst="$out/$name.qir"
  log="$out/$name.log"
  "$opt" "$models/$f" --passes=canonicalize --pass-stats -o "$dst" 2>"$log"
  count() { grep -cE '^ +(%[^ ]+(, %[^ ]+)* = )?[A-Z][A-Za-z0-9_.]*\(' "$1" || true; }
  before=$("$opt" "$models/$f" | count /dev/stdin)
  after=$(count "$dst")
  sets=0 passed=0 worst=inf
  for s in "$dir"/test_data_set_*; do
    [ -d "$s" ] || continue
    sets=$((sets + 1))
    if "$run" "$dst" --check "$s" >"$log.check" 2>&1; then passed=$((passed + 1)); else status=1; fi
    cat "$log.check" >>"$log"
    w=$(grep -oE 'sqnr [0-9.a-z]+' "$log.check" | awk '{print $2}' | sort -g | head -1)
    [ -n "$w" ] && worst=$(printf '%s\n%s\n' "$worst" "$w" | sort -g | head -1)
  done
  first=$(ls -d "$dir"/test_data_set_* | head -1)
  timing=$("$run" "$dst" --check "$first" --repeat "$repeat" 2>&1 | grep '^time:' || true)
  med=$(echo "$timing" | sed -E 's/.*median ([0-9.]+) ms.*/\1/')
  best=$(echo "$timing" | sed -E 's/.*best ([0-9.]+) ms.*/\1/')
  printf '%-24s %5d %5d %5d %9s %11s %9s %9s\n' "$name" "$before" "$after" "$sets" "$passed/$sets" "$worst" "$med" "$best"
done
echo
echo "ops: in the imported model / after canonicalize; pass: test_data_sets within max rel err 1e-4 or SQNR 80 dB"
echo "(worst-SQNR in dB over all outputs and sets); times: reference interpreter, one thread, $repeat runs."
echo "Outputs and per-model logs (pass statistics, per-output errors): $out/"

# Quantized: w8a8, lowered to integer ops, scored against the FP32 model.
preset=${QUENCH_DEMO_PRESET:-w8a8}
# The lowered integer ops run on the interpreter's reference kernels (magika:
# ~30 s a batch), so fewer timing runs here.
qrepeat=${QUENCH_DEMO_QREPEAT:-3}
printf '\n%-24s %-6s %5s %9s %9s %10s %9s %9s %9s\n' model preset lowrd out-SQNR cosine agreement quant-s median-ms best-ms
for m in mnist8:top1 ppocr_cls_mobile_v2:top1 magika_v3_3:top1 yunet_120x160:detect stories260k:next-token \
         ppocr_en_number_rec_v2:ctc; do
  name=${m%%:*} task=${m#*:}
  dir="$models/$name"
  [ -f "$dir/model.onnx" ] || continue
  q="$out/$name-$preset.qir" log="$out/$name-$preset.log"
  t0=$(date +%s%N)
  "$quench" quantize "$dir/model.onnx" --calib "$dir" --preset "$preset" --lower-int -o "$q" >"$log" 2>&1 || status=1
  secs=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { print (b - a) / 1e9 }')
  lowered=$(grep -cE '= (ConvInteger|MatMulInteger)\(' "$q" || true)
  "$quench" report "$dir/model.onnx" --quantized "$q" --data "$dir" --task "$task" --top 5 --html "$out/$name-$preset.html" \
    >>"$log" 2>&1 || status=1
  sqnr=$(grep -oE '^output .* sqnr [-0-9.a-z]+' "$log" | awk '{print $NF}' | sort -g | head -1)
  cos=$(grep -oE '^output .* cosine [-0-9.]+' "$log" | awk '{print $NF}' | sort -g | head -1)
  agree=$(grep -oE '^task .*\(([0-9.]+)%\)' "$log" | grep -oE '[0-9.]+%' | head -1)
  first=$(ls -d "$dir"/test_data_set_* | head -1)
  timing=$("$run" "$q" --check "$first" --min-sqnr 0 --repeat "$qrepeat" 2>&1 | grep '^time:' || true)
  med=$(echo "$timing" | sed -E 's/.*median ([0-9.]+) ms.*/\1/')
  best=$(echo "$timing" | sed -E 's/.*best ([0-9.]+) ms.*/\1/')
  printf '%-24s %-6s %5s %9s %9s %10s %9.2f %9s %9s\n' "$name" "$preset" "$lowered" "${sqnr:--}" "${cos:--}" \
    "${agree:--}" "$secs" "${med:--}" "${best:--}"
done
echo
echo "lowrd: Conv/MatMul lowered to integer ops; out-SQNR/cosine: worst output against the FP32 model;"
echo "agreement: the MANIFEST's task score (same top-1, same text, same next token, same faces);"
echo "quant-s: calibrate + quantize + lower seconds; times: the lowered model on the reference interpreter,"
echo "$qrepeat runs (its integer kernels are plain reference code; speed is the C backend's job, issue 6)."
echo "HTML reports: $out/*.html"
exit $status

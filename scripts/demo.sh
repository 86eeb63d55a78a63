#!/usr/bin/env bash
# The main job: install, build, then for each real model in ../shared/models
# import the ONNX file, canonicalize it (the verifier after every pass), write
# it as .qir + weights, run the written .qir on the reference interpreter
# against every test_data_set the model has, and report accuracy (worst SQNR
# and max relative error over the sets) and speed (median and best ms per
# inference, one thread). Then it quantizes each dev model (w8a8: calibrate on
# its test_data_sets, quantize, lower to integer ops), runs the lowered model
# and reports accuracy against FP32 (output SQNR, cosine, the MANIFEST's task
# agreement, via `quench report`) and its interpreter time. Last it compiles
# to C (`quench compile`, w8a8, the best target for this CPU) a real model
# fetched from a pinned PyPI wheel (scripts/fetch_model.sh: magika 0.6.2, sha256
# of wheel and model checked) and the dev models mnist8, ppocr_cls_mobile_v2
# and magika_v3_3, builds each with make, runs it, and reports accuracy against
# FP32 (output SQNR, top-1 agreement) and speed against FP32 (the FP32
# interpreter; ONNX Runtime FP32 where bench/e2e_vs_ort.sh's venv exists).
# Where ../shared/models is absent, the sample module in examples/ goes through
# the pass pipeline and the fetched model is compiled alone.
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

# Compiled C: `quench compile` (w8a8, the best target for this CPU), make, run
# the driver; accuracy against FP32 and speed against the FP32 interpreter
# (and ONNX Runtime FP32 where the bench venv exists). First the model fetched
# from its pinned PyPI wheel (scripts/fetch_model.sh), on inputs built from
# real files under /usr/share (scripts/demo_data.py), then the dev models.
# Runs where ../shared/models is absent too (the fetched model alone).
compiled_c() {
  flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
  if [[ " $flags " == *" avx512_vnni "* && " $flags " == *" amx_int8 "* ]]; then target=x86-64-amx
  elif [[ " $flags " == *" avx512_vnni "* ]]; then target=x86-64-avx512vnni
  elif [[ " $flags " == *" avx2 "* ]]; then target=x86-64-avx2
  else target=generic; fi
  crepeat=${QUENCH_DEMO_CREPEAT:-20}   # compiled and ORT runs
  irepeat=${QUENCH_DEMO_IREPEAT:-5}    # FP32 interpreter runs (magika's batch of 76: ~3 s each)
  cout=$out/compiled
  rm -rf "$cout"
  mkdir -p "$cout"
  pin() { if command -v taskset >/dev/null; then taskset -c 0 "$@"; else "$@"; fi; }
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", b / a; else print "-" }'; }
  py=/usr/bin/python3  # Debian's, with python3-numpy and python3-onnx (install-deps.sh)
  bpy=build-bench/venv/bin/python
  have_ort=no
  "$bpy" -c 'import onnxruntime' 2>/dev/null && have_ort=yes
  entries=()
  if fetched=$(bash scripts/fetch_model.sh 2>&1); then
    fdir=$(echo "$fetched" | tail -1)
    echo "$fetched" | head -n -1
    data=$cout/pypi-magika-data
    # Real inputs: 32 files to calibrate, 32 others to evaluate; FP32 reference = the interpreter.
    "$py" scripts/demo_data.py magika "$fdir/config.min.json" "$data" 32 32 || status=1
    for s in "$data"/eval/test_data_set_*; do
      "$run" "$fdir/model.onnx" "$s/input_0.pb" --output-dir "$s" >/dev/null || status=1
    done
    entries+=("pypi-magika|$fdir/model.onnx|$data/calib|$data/eval|32 /usr/share files, ref: interpreter")
  else
    echo "$fetched" >&2
    echo "demo: could not fetch the PyPI model; compiled section runs on ../shared/models only" >&2
    status=1
  fi
  for name in mnist8 ppocr_cls_mobile_v2 magika_v3_3; do
    [ -f "$models/$name/model.onnx" ] || continue
    tsets=("$models/$name"/test_data_set_*)
    n=${#tsets[@]}
    entries+=("$name|$models/$name/model.onnx|$models/$name|$models/$name|test sets: $n, ref: output_K.pb")
  done
  printf '\n%-20s %-34s %6s %9s %8s %6s %9s %9s %7s %9s %7s\n' model inputs batch compile-s SQNR-dB top1 \
    c-med-ms f32-int-ms x-int ort-f32-ms x-ort
  for e in "${entries[@]}"; do
    IFS='|' read -r name model calib evald what <<<"$e"
    w=$cout/$name log=$cout/$name.log
    t0=$(date +%s%N)
    if ! "$quench" compile "$model" --calib "$calib" --preset w8a8 --target "$target" --name model -o "$w" >"$log" 2>&1 ||
      ! make -s -C "$w" >>"$log" 2>&1; then
      printf '%-20s %-34s FAIL: compile or make (%s)\n' "$name" "$what" "$log"
      status=1
      continue
    fi
    csec=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
    esets=("$evald"/test_data_set_*)
    ok=yes
    for s in "${esets[@]}"; do
      mkdir -p "$w/got/$(basename "$s")"
      "$w/model_main" --out "$w/got/$(basename "$s")" "$s" >>"$log" 2>&1 || ok=no
    done
    sc=
    if [ $ok = yes ]; then sc=$("$py" scripts/demo_data.py score "$w/got" "${esets[@]}" 2>>"$log" || true); fi
    [ -n "$sc" ] || { sc=$'FAIL\t-'; status=1; }
    IFS=$'\t' read -r sqnr agree <<<"$sc"
    batch=$("$py" -c 'import sys; from onnx import TensorProto; t = TensorProto(); t.ParseFromString(open(sys.argv[1], "rb").read()); print(t.dims[0] if t.dims else 1)' "${esets[0]}/input_0.pb" || echo '?')
    cmed=$(pin "$w/model_main" --threads 1 --bench "$crepeat" --out "$w" "${esets[0]}" 2>&1 |
      sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' || true)
    imed=$(pin "$run" "$model" "${esets[0]}"/input_*.pb --repeat "$irepeat" 2>&1 | sed -n 's/^time: median \([0-9.]*\) ms.*/\1/p' || true)
    omed=-
    [ $have_ort = yes ] && omed=$(pin "$bpy" bench/e2e_vs_ort.py ort "$model" "${esets[0]}" "$crepeat" 1 2>>"$log" | cut -f1 || true)
    printf '%-20s %-34s %6s %9s %8s %6s %9s %9s %7s %9s %7s\n' "$name" "$what" "$batch" "$csec" "$sqnr" "$agree%" \
      "${cmed:--}" "${imed:--}" "$(ratio "$cmed" "$imed")" "${omed:--}" "$(ratio "$cmed" "$omed")"
  done
  echo
  echo "compiled: quench compile --preset w8a8 --target $target (calibrated on the 'calib' inputs: pypi-magika on 32"
  echo "other /usr/share files, the dev models on their own test sets), make, then the driver on every evaluation set."
  echo "SQNR-dB/top1: compiled int8 outputs vs FP32 (pooled SQNR, same argmax); compile-s: compile + make seconds."
  echo "c-med-ms: compiled driver median of $crepeat runs, 1 thread, pinned; f32-int-ms: quench-run on the FP32 model,"
  echo "median of $irepeat runs; ort-f32-ms: ONNX Runtime FP32, 1 thread, $crepeat runs ($( [ $have_ort = yes ] &&
    echo "build-bench/venv" || echo "no build-bench/venv: run bench/e2e_vs_ort.sh once to create it")); x-int, x-ort: speedup of compiled C."
  if [ -d "$cout/pypi-magika/got" ]; then
    echo "pypi-magika, the first 8 of its evaluation files: magika's top-1 label, FP32 interpreter and compiled C:"
    "$py" scripts/demo_data.py labels "$fdir/config.min.json" "$cout/pypi-magika/got" "$cout/pypi-magika-data/eval" 8 ||
      status=1
  fi
  echo "Generated C folders and logs: $cout/"
}

if [ ! -d "$models" ]; then
  echo "demo: $models is absent; running the pass pipeline on examples/sample.qir only"
  "$opt" examples/sample.qir --passes=canonicalize --pass-stats --time-passes -o "$out/sample.qir"
  status=0
  compiled_c
  exit $status
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
    if "$run" "$dst" --check "$s" --numerics ort >"$log.check" 2>&1; then passed=$((passed + 1)); else status=1; fi
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
echo "(checked with --numerics ort: the reference outputs come from ONNX Runtime, docs/interpreter.md)"
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

compiled_c
exit $status

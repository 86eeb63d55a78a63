#!/usr/bin/env bash
# The main job, as far as quench goes today: install, build, then import each
# real ONNX model in ../shared/models (or, where that folder is absent, the
# sample module in examples/), run the clean-up pipeline on it with the
# verifier after every pass, and write the result as .qir + weights file.
# Running models and reporting accuracy and speed come with the interpreter
# and the backends (docs/roadmap.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# Its own build folder, so the Release flags never churn the test build.
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DQUENCH_TESTS=OFF >/dev/null
cmake --build build-release -j"$(nproc)"
opt=build-release/bin/quench-opt

out=${QUENCH_DEMO_OUT:-build-release/demo}
mkdir -p "$out"
models=${QUENCH_MODELS:-../shared/models}
pipeline='remove-identity,dce'

inputs=()
if [ -d "$models" ]; then
  for f in mnist8/model.onnx ppocr_cls_mobile_v2/model.onnx ppocr_en_number_rec_v2/model.onnx \
           yunet_120x160/model.onnx silero_vad/silero_vad.onnx magika_v3_3/model.onnx \
           stories260k/model.onnx; do
    [ -f "$models/$f" ] && inputs+=("$models/$f")
  done
else
  echo "demo: $models is absent; using examples/sample.qir instead of the real models"
fi
[ ${#inputs[@]} -eq 0 ] && inputs=(examples/sample.qir)

printf '\n%-28s %6s %6s %9s %10s %9s\n' model ops-in ops-out weights-KB qir-KB time-ms
for f in "${inputs[@]}"; do
  name=$(basename "$(dirname "$f")")
  [ "$f" = examples/sample.qir ] && name=sample
  dst="$out/$name.qir"
  log="$out/$name.log"
  t0=$(date +%s%N)
  "$opt" "$f" --passes="$pipeline" --pass-stats --time-passes -o "$dst" 2>"$log"
  t1=$(date +%s%N)
  # Ops are counted in the printed IR of the input and of the result.
  before=$("$opt" "$f" | grep -cE '^ *(%[^ ]+(, %[^ ]+)* = )?[A-Za-z][A-Za-z0-9_.]*\(' || true)
  after=$(grep -cE '^ *(%[^ ]+(, %[^ ]+)* = )?[A-Za-z][A-Za-z0-9_.]*\(' "$dst" || true)
  wkb=0
  [ -f "$dst.weights" ] && wkb=$(( $(stat -c %s "$dst.weights") / 1024 ))
  printf '%-28s %6d %6d %9d %10d %9d\n' "$name" "$before" "$after" "$wkb" \
    $(( $(stat -c %s "$dst") / 1024 )) $(( (t1 - t0) / 1000000 ))
done

echo
echo "pipeline: $pipeline (verifier after every pass); outputs and per-model logs in $out/"
echo "pass statistics and timing for the last model ($(basename "$dst")):"
sed 's/^/  /' "$log"

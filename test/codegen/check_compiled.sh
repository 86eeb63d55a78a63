#!/usr/bin/env bash
# Bit-exactness of the C backend on a real model:
#   check_compiled.sh MODEL DATA OUTDIR TARGET [TARGET...]
# compiles MODEL (calibrated on DATA's test_data_set_* folders) for each
# TARGET, builds the generated folder with -Werror (and the sanitizers of
# this build, $QUENCH_CG_CFLAGS), runs the driver on every test set (under
# qemu-aarch64 for aarch64-dotprod) and compares every output byte for byte
# with the reference interpreter running the module the compiler wrote
# (OUTDIR/TARGET/NAME.qir), with one thread and with a pool of three.
# Prints one line per target; exits 1 on the
# first difference. QUENCH_CG_PRESET picks the preset (default w8a8);
# QUENCH_CG_SHAPES binds the input shapes (--input-shape) and QUENCH_CG_EVAL
# names other test_data_set folders to run (default: DATA's), e.g. batch-1
# slices of a batched calibration set.
set -euo pipefail
model=$1 data=$2 out=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
name=model
preset=${QUENCH_CG_PRESET:-w8a8}
eval_dir=${QUENCH_CG_EVAL:-$data}
rm -rf "$out"
mkdir -p "$out"
stats= shapes=
for target in "$@"; do
  dir=$out/$target
  if [ -z "$stats" ]; then
    stats=$out/stats.qstats
    quench compile "$model" --calib "$data" --stats "$stats" --preset "$preset" --target "$target" --name $name \
      ${QUENCH_CG_SHAPES:+--input-shape "$QUENCH_CG_SHAPES"} -o "$dir" --print-pipeline >"$out/compile-$target.log"
    # Later targets reuse the statistics and the input shapes bound from the
    # first calibration sample.
    shapes=$(sed -n 's/.*bind-shapes{shapes="\([^"]*\)"}.*/\1/p' "$out/compile-$target.log")
  else
    quench compile "$model" --stats "$stats" ${shapes:+--input-shape "$shapes"} --preset "$preset" --target "$target" \
      --name $name -o "$dir" >"$out/compile-$target.log"
  fi
  cflags="-O2 -Werror"
  run=()
  cc=(CC="${QUENCH_CG_CC:-cc}")
  if [ "$target" = aarch64-dotprod ]; then
    run=(qemu-aarch64 -cpu max)
    cc=() # the generated Makefile names the cross compiler
  else
    cflags="$cflags ${QUENCH_CG_CFLAGS:-}"
  fi
  if ! make -s -C "$dir" OPT="$cflags" "${cc[@]}" >"$out/make-$target.log" 2>&1; then
    cat "$out/make-$target.log"
    exit 1
  fi
  sets=0 outs=0
  for set in "$eval_dir"/test_data_set_*; do
    got=$out/got-$target-$(basename "$set") ref=$out/ref-$target-$(basename "$set")
    mkdir -p "$got" "$ref"
    inputs=$(ls "$set"/input_*.pb | sort -V)
    "${run[@]}" "$dir/${name}_main" --out "$got" $inputs
    # and with a thread pool: the split never changes a result
    mkdir -p "$got-t3"
    "${run[@]}" "$dir/${name}_main" --threads 3 --out "$got-t3" $inputs
    # The interpreter's outputs, computed once for the module: every target
    # compiles the same module (checked byte for byte past the module line,
    # which names the statistics file), only flags differ.
    if [ -n "${first:-}" ] && cmp -s <(tail -n +2 "$dir/$name.qir") <(tail -n +2 "$first/$name.qir") &&
      cmp -s "$dir/$name.qir.weights" "$first/$name.qir.weights" 2>/dev/null; then
      ref=$out/ref-$(basename "$first")-$(basename "$set")
    else
      quench-run "$dir/$name.qir" $inputs --output-dir "$ref" --format npy >/dev/null
    fi
    for f in "$ref"/output_*.npy; do
      for g in "$got" "$got-t3"; do
        $py "$here/same_bits.py" "$g/$(basename "$f")" "$f" >/dev/null || {
          $py "$here/same_bits.py" "$g/$(basename "$f")" "$f"; echo "FAIL: $target $(basename "$set") ($g)"; exit 1; }
      done
      outs=$((outs + 1))
    done
    sets=$((sets + 1))
  done
  echo "bit-exact $target: $sets sets, $outs outputs"
  first=${first:-$dir}
done

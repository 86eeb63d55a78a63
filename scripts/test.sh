#!/usr/bin/env bash
# The test command: installs dependencies, configures, builds, runs ctest.
#   scripts/test.sh            normal build in build/ (gcc)
#   scripts/test.sh --sanitize ASan+UBSan build in build-san/ (clang)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

dir=build
args=(-DQUENCH_WERROR=ON)
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-san
  args+=(-DQUENCH_SANITIZE=ON -DCMAKE_C_COMPILER=clang)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
cmake -S . -B "$dir" -G Ninja "${args[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
ctest --test-dir "$dir" --output-on-failure -j"$(nproc)"

#!/bin/sh
# runtime/gemm-aarch64: cross-compiles test_qrt_gemm.c and the runtime for
# aarch64 with dotprod (the QRT_PATH_NEON_DOT kernels) and runs it under
# qemu-aarch64 -cpu max. Exit 77 (skipped) without the cross compiler or qemu.
# Usage: run_aarch64.sh OUT "WARNING FLAGS" TEST.c RUNTIME.c...
set -e
out=$1 wflags=$2
shift 2
cc=${QRT_AARCH64_CC:-aarch64-linux-gnu-gcc}
qemu=${QRT_QEMU_AARCH64:-qemu-aarch64}
for tool in "$cc" "$qemu"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "skipped: $tool not found (apt install gcc-aarch64-linux-gnu qemu-user)"
    exit 77
  fi
done
rtdir=$(dirname "$2")
# shellcheck disable=SC2086
"$cc" -std=c11 -O2 -static -march=armv8.2-a+dotprod -ffp-contract=off $wflags \
  -DQRT_TEST_EXPECT_PATH='"aarch64-dotprod"' -I"$rtdir" -o "$out" "$@"
exec "$qemu" -cpu max "$out"

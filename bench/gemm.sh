#!/bin/sh
# int8 GEMM: libquench_rt (AVX-512 VNNI path) against oneDNN, one thread.
# Builds bench/gemm_vs_onednn.c with cc -O3 and the avx512vnni flags, links
# Debian's libdnnl (apt install libdnnl-dev), runs it. Exit 1 when the two
# libraries disagree anywhere. bench/README.md explains the table.
#   bench/gemm.sh [SHAPE_INDEX]       (CC=..., GEMM_BENCH_BIN=path of the binary)
set -e
src=$(cd "$(dirname "$0")/.." && pwd)
cc=${CC:-cc}
bin=${GEMM_BENCH_BIN:-${TMPDIR:-/tmp}/quench_gemm_vs_onednn}
if ! [ -e /usr/include/oneapi/dnnl/dnnl.h ] && ! [ -e /usr/include/dnnl.h ]; then
  echo "gemm.sh: oneDNN headers not found (apt install libdnnl-dev)" >&2
  exit 2
fi
if ! grep -q avx512_vnni /proc/cpuinfo; then
  echo "gemm.sh: this CPU lacks AVX-512 VNNI; the quench kernel under test needs it" >&2
  exit 2
fi
"$cc" -std=c11 -O3 -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -ffp-contract=off \
  -Wall -Wextra -I"$src/runtime" -o "$bin" \
  "$src/bench/gemm_vs_onednn.c" "$src/runtime/qrt_gemm.c" "$src/runtime/qrt_gemm_x86.c" "$src/runtime/qrt_gemm_neon.c" \
  -ldnnl
export OMP_NUM_THREADS=1 OMP_PROC_BIND=true DNNL_VERBOSE=0
# 1. oneDNN held to the instruction set quench uses (AVX-512 VNNI): the
#    comparison the targets are about. 2. oneDNN free to pick (AMX int8 on
#    Sapphire Rapids and later), for reference.
status=0
echo "== oneDNN limited to AVX-512 VNNI (DNNL_MAX_CPU_ISA=AVX512_CORE_VNNI)"
DNNL_MAX_CPU_ISA=AVX512_CORE_VNNI "$bin" "$@" || status=1
echo
echo "== oneDNN unrestricted (its best ISA on this CPU)"
env -u DNNL_MAX_CPU_ISA "$bin" "$@" || status=1
exit $status

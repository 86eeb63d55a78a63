#!/bin/sh
# int8 GEMM: libquench_rt against oneDNN, one thread. Builds
# bench/gemm_vs_onednn.c with cc -O3 twice, with the avx512vnni flags and
# (where the CPU has AMX int8) with the amx flags, links Debian's libdnnl
# (apt install libdnnl-dev), runs three tables. Exit 1 when the two
# libraries disagree anywhere. bench/README.md explains the tables.
#   bench/gemm.sh [SHAPE_INDEX]       (CC=..., GEMM_BENCH_BIN=path of the binary;
#                                      the AMX one is that path with -amx appended)
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
vnni="-mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni"
build() { # OUT FLAGS...
  out=$1
  shift
  "$cc" -std=c11 -O3 "$@" -ffp-contract=off -Wall -Wextra -I"$src/runtime" -o "$out" \
    "$src/bench/gemm_vs_onednn.c" "$src/runtime/qrt_gemm.c" "$src/runtime/qrt_gemm_x86.c" \
    "$src/runtime/qrt_gemm_neon.c" -ldnnl -lpthread
}
# shellcheck disable=SC2086
build "$bin" $vnni
amx=0
if grep -q amx_int8 /proc/cpuinfo; then
  # shellcheck disable=SC2086
  build "$bin-amx" $vnni -mamx-tile -mamx-int8
  amx=1
fi
export OMP_NUM_THREADS=1 OMP_PROC_BIND=true DNNL_VERBOSE=0
# 1. oneDNN held to the instruction set quench's VNNI path uses: the
#    comparison the VNNI targets are about. 2. oneDNN free to pick (AMX int8
#    on Sapphire Rapids and later), for reference. 3. quench's AMX path
#    against oneDNN free to pick (its AMX).
status=0
echo "== 1. quench AVX-512 VNNI vs oneDNN limited to AVX-512 VNNI (DNNL_MAX_CPU_ISA=AVX512_CORE_VNNI)"
DNNL_MAX_CPU_ISA=AVX512_CORE_VNNI "$bin" "$@" || status=1
echo
echo "== 2. quench AVX-512 VNNI vs oneDNN unrestricted (its best ISA on this CPU)"
env -u DNNL_MAX_CPU_ISA "$bin" "$@" || status=1
echo
if [ $amx = 1 ]; then
  echo "== 3. quench AMX vs oneDNN unrestricted (its best ISA on this CPU: AMX)"
  env -u DNNL_MAX_CPU_ISA "$bin-amx" "$@" || status=1
else
  echo "== 3. skipped: this CPU lacks AMX int8"
fi
exit $status

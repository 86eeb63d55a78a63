#!/usr/bin/env bash
# The one place quench's dependencies come from (Debian bookworm packages).
# Safe to run twice: apt-get install is idempotent, and the package list is
# refreshed only when a package is missing.
set -euo pipefail

PKGS=(
  # build
  cmake ninja-build make gcc clang pkg-config
  llvm-19-dev libxml2-dev libprotobuf-c-dev protobuf-c-compiler libonnx-dev libxgboost-dev
  # tests
  llvm-19-tools libonnx-testdata libcmocka-dev libclang-rt-14-dev
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
  python3 python3-onnx python3-numpy python3-venv
  pocl-opencl-icd ocl-icd-opencl-dev opencl-headers
  # bench peers
  libdnnl-dev
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${#missing[@]} package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: done"

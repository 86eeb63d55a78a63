#!/bin/sh
# ctest conformance/onnx-*: runs quench-conformance over an ONNX node-test
# suite given as a folder or as a .tar.xz (extracted once into WORK, inside
# the build folder: extracted data is never part of the source tree).
# Exits 77, which ctest reports as skipped, when the suite is not on this
# machine (no ../shared/models, or Debian's libonnx-testdata not installed).
# usage: run-suite.sh TOOL LABEL SOURCE WORK [quench-conformance options]
set -eu
tool=$1 label=$2 src=$3 work=$4
shift 4
if [ ! -e "$src" ]; then
  echo "skipped: $src is absent, so the $label node tests cannot run here"
  exit 77
fi
case "$src" in
*.tar.xz)
  stamp="$work/.extracted"
  if [ ! -f "$stamp" ] || [ "$src" -nt "$stamp" ]; then
    rm -rf "$work"
    mkdir -p "$work"
    tar -xJf "$src" -C "$work"
    touch "$stamp"
  fi
  dir="$work/node"
  ;;
*) dir="$src" ;;
esac
exec "$tool" "$@" "$label=$dir"

#!/usr/bin/env bash
# Fetches a real ONNX model from a pinned PyPI wheel, for the main job
# (scripts/demo.sh): magika 0.6.2 (Google's file-type classifier, Apache-2.0)
# ships its standard_v3_3 network and preprocessing config inside the wheel.
# The wheel is downloaded with pip (`pip download magika==0.6.2 --no-deps
# --only-binary :all:`, the manylinux_2_28 x86_64 build whatever the host, so
# the bytes and their pinned sha256 are the same everywhere), its sha256 is
# checked, and model.onnx and config.min.json are extracted and checked against
# their own pinned sha256. Nothing fetched is committed: it all lands in
# build-models/ (ignored by git).
# Usage: scripts/fetch_model.sh [DEST]   (default build-models; a relative
#        DEST is taken from the repository root)
# Prints the folder holding model.onnx and config.min.json (absolute) on its last line;
# exits 1 with a message when PyPI cannot be reached or a checksum differs.
# This model is the same file as ../shared/models/magika_v3_3/model.onnx.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-build-models}

pkg=magika version=0.6.2
wheel=magika-0.6.2-py3-none-manylinux_2_28_x86_64.whl
wheel_sha256=57cd1d64897634d15de552bd6b3ae9c6ff6ead9c60d384dc46497c08288e4559
member_dir=magika/models/standard_v3_3
model_sha256=fe2d2eb49c5f88a9e0a6c048e15d6ffdf86235519c2afc535044de433169ec8c
config_sha256=ae24c742205358f6ff6dfd5facb6743fb69743dbba8373e73da58ff0cbd695db
out=$dest/magika_v3_3

sha() { sha256sum "$1" | cut -d' ' -f1; }
check() { # FILE SHA256 WHAT
  local got
  got=$(sha "$1")
  if [ "$got" != "$2" ]; then
    echo "fetch_model: error: $3 $1 has sha256 $got, expected $2" >&2
    return 1
  fi
}

if [ -f "$out/model.onnx" ] && [ -f "$out/config.min.json" ] &&
  [ "$(sha "$out/model.onnx")" = "$model_sha256" ] && [ "$(sha "$out/config.min.json")" = "$config_sha256" ]; then
  echo "fetch_model: $out/model.onnx present, checksums match ($pkg==$version)"
  (cd "$out" && pwd)
  exit 0
fi

mkdir -p "$dest"
if [ ! -f "$dest/$wheel" ] || [ "$(sha "$dest/$wheel")" != "$wheel_sha256" ]; then
  rm -f "$dest/$wheel"
  # pip from the system python, else from a bare venv (python3-venv ships pip).
  pip=(python3 -m pip)
  if ! python3 -m pip --version >/dev/null 2>&1; then
    if [ ! -x "$dest/pip-venv/bin/pip" ] && ! python3 -m venv "$dest/pip-venv" >/dev/null; then
      echo "fetch_model: error: no pip (python3 -m pip) and no python3 -m venv to get one" >&2
      exit 1
    fi
    pip=("$dest/pip-venv/bin/pip")
  fi
  echo "fetch_model: downloading $pkg==$version from PyPI..."
  if ! "${pip[@]}" download "$pkg==$version" --no-deps --only-binary :all: --platform manylinux_2_28_x86_64 \
    --python-version 3.11 --implementation py --disable-pip-version-check -q -d "$dest" >"$dest/pip.log" 2>&1 ||
    [ ! -f "$dest/$wheel" ]; then
    echo "fetch_model: error: could not download $pkg==$version from PyPI (is the network or PyPI reachable?):" >&2
    tail -3 "$dest/pip.log" | sed 's/^/    /' >&2
    exit 1
  fi
fi
check "$dest/$wheel" "$wheel_sha256" "wheel" || exit 1
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
python3 - "$dest/$wheel" "$member_dir" "$out.tmp" <<'EOF'
import sys, zipfile
wheel, member_dir, out = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z:
    for name in ("model.onnx", "config.min.json"):
        with open(f"{out}/{name}", "wb") as f:
            f.write(z.read(f"{member_dir}/{name}"))
EOF
check "$out.tmp/model.onnx" "$model_sha256" "extracted model" || { rm -rf "$out.tmp"; exit 1; }
check "$out.tmp/config.min.json" "$config_sha256" "extracted config" || { rm -rf "$out.tmp"; exit 1; }
rm -rf "$out"
mv "$out.tmp" "$out"
echo "fetch_model: $out/model.onnx ($pkg==$version wheel sha256 and model sha256 checked)"
(cd "$out" && pwd)

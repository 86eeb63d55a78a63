#!/usr/bin/env bash
# Print fixed point: for every .qir under test/, print(parse(print(parse(x))))
# must equal print(parse(x)) byte for byte. Files that do not parse are
# skipped only if they are parse-error tests (a RUN line expecting quench-opt
# to fail); any other parse failure fails this test.
set -u
opt=$1
root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
checked=0 skipped=0 failed=0
while IFS= read -r -d '' f; do
  # A test whose RUN lines never read the file itself (%s) holds only
  # directives (FileCheck %s reads only its checks), e.g. ONNX import tests.
  if grep -q 'RUN:' "$f" && ! grep -E 'RUN:' "$f" | sed 's/FileCheck[^|]*%s//g' | grep -q '%s'; then
    continue
  fi
  if ! "$opt" --no-verify --split-input-file "$f" >"$tmp/a" 2>"$tmp/err"; then
    if grep -qE 'RUN:.*not quench-opt' "$f"; then
      skipped=$((skipped + 1))
      continue
    fi
    echo "FAIL: $f does not parse and is not an error test:"
    sed 's/^/  /' "$tmp/err"
    failed=$((failed + 1))
    continue
  fi
  if ! "$opt" --no-verify --split-input-file "$tmp/a" >"$tmp/b" 2>"$tmp/err"; then
    echo "FAIL: printed form of $f does not parse:"
    sed 's/^/  /' "$tmp/err"
    failed=$((failed + 1))
    continue
  fi
  if ! cmp -s "$tmp/a" "$tmp/b"; then
    echo "FAIL: printing $f is not a fixed point:"
    diff "$tmp/a" "$tmp/b" | head -20 | sed 's/^/  /'
    failed=$((failed + 1))
    continue
  fi
  checked=$((checked + 1))
done < <(find "$root" -name '*.qir' -print0 | sort -z)
# The example at the top of docs/ir.md must be exactly what the printer writes.
doc=$root/../docs/ir.md
awk '/^```/{n++; next} n==1' "$doc" >"$tmp/doc.qir"
if "$opt" "$tmp/doc.qir" >"$tmp/doc.out" 2>"$tmp/err" && cmp -s "$tmp/doc.qir" "$tmp/doc.out"; then
  checked=$((checked + 1))
else
  echo "FAIL: the first example in docs/ir.md is not printer output:"
  cat "$tmp/err"; diff "$tmp/doc.qir" "$tmp/doc.out" | head -20 | sed 's/^/  /'
  failed=$((failed + 1))
fi
echo "print fixed point: $checked files checked, $skipped parse-error tests skipped, $failed failed"
[ "$failed" -eq 0 ] && [ "$checked" -gt 0 ]

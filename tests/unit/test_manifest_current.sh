#!/bin/bash
# The checked-in manifest (results/manifest.json, which Python reads without a build) must be what
# the binary prints: a suite, kind, metric or option changed in C++ and not regenerated would leave
# compare, report and the matrix working from a description of another binary.
# Usage: test_manifest_current.sh SWAPBENCH_BINARY [MANIFEST] (default: the repository's copy)
set -u
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
copy=${2:-$(cd "$here/../.." && pwd)/results/manifest.json}
fresh=$(mktemp)
trap 'rm -f "$fresh"' EXIT
if ! "$bin" list --json >"$fresh"; then
  echo "FAIL: $bin list --json exited non-zero"
  exit 1
fi
if [ ! -f "$copy" ]; then
  echo "FAIL: $copy is missing; make it with: build/bench/swapbench list --json > results/manifest.json"
  exit 1
fi
if ! diff -u "$copy" "$fresh" >"$fresh.diff"; then
  echo "FAIL: $copy differs from '$bin list --json' (- the copy, + the binary):"
  head -40 "$fresh.diff"
  echo "regenerate it with: build/bench/swapbench list --json > results/manifest.json"
  rm -f "$fresh.diff"
  exit 1
fi
rm -f "$fresh.diff"
echo "ok: $copy is current"

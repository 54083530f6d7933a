#!/usr/bin/env bash
# The front door as an ordinary user on a copy of the checkout that was never built: the analysis
# verbs work without the C++ packages or a build, --help never builds or installs, routing reads
# options rather than substrings, --version without a build says so; and the skip summary of
# `./swapbench test`. As root (CI) it runs as nobody (setpriv), so that what an ordinary user meets
# is what is tested.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/swapbench-door.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
copy="$work/checkout"
mkdir "$copy"
tar -C "$top" --exclude='./build*' --exclude='./results/*.json' --exclude='__pycache__' -cf - . | tar -C "$copy" -xf -
# The manifest is the one result-folder file the analysis needs: generated, checked in, no build.
cp "$top/results/manifest.json" "$copy/results/"
# A package no Debian has, in the C++ group only: the verbs that need no build must not ask for it.
sed -i 's/^\[build\]$/[build]\nswapbench-no-such-package/' "$copy/cmake/debian-packages.txt"
grep -qx swapbench-no-such-package "$copy/cmake/debian-packages.txt" || fail "could not plant the package"
if [ "$(id -u)" -eq 0 ]; then
  chown -R 65534:65534 "$work"
  as_user() { (cd / && setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH=/usr/bin:/bin HOME="$work" "$@"); }
else
  as_user() { (cd / && env -i PATH=/usr/bin:/bin HOME="$work" "$@"); }
fi
door="$copy/swapbench"
fixtures="$copy/analysis/tests/fixtures"
no_build() { [ ! -e "$copy/build" ] && [ ! -e "$copy/build-asan" ] && [ ! -e "$copy/build-tsan" ] || fail "$1 made a build folder"; }

# compare needs python3 and its packages only: the missing C++ package is not asked for.
as_user "$door" compare "$fixtures/quick-a.json" "$fixtures/quick-inject5000.json" --calibrations /nonexistent \
  >"$work/out" 2>"$work/err"
rc=$?
{ [ $rc -eq 0 ] || [ $rc -eq 1 ]; } || { cat "$work/err"; fail "compare as $(id -un 65534 2>/dev/null || echo user): exit $rc"; }
grep -q "B/A" "$work/out" || { cat "$work/out" "$work/err"; fail "compare printed no B/A"; }
grep -q "swapbench-no-such-package\|configuring\|installing" "$work/err" && { cat "$work/err"; fail "compare asked for packages or built"; }
no_build compare
echo "ok: compare with no build and a C++ package missing (exit $rc)"

# A verb that runs the binary does need it, and says what to install (exit 2, nothing built).
as_user "$door" list >"$work/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "apt-get install -y swapbench-no-such-package" "$work/out" || { cat "$work/out"; fail "list: exit $rc without the install line"; }
grep -q "python3-pytest\|qemu" "$work/out" && { cat "$work/out"; fail "list asked for the test or guest packages"; }
no_build list
echo "ok: list names only the missing C++ package"

# --help of every verb: exit 0, nothing built or installed.
for v in test build run list check restore compare report history capacity calibrate matrix ab; do
  as_user "$door" "$v" --help >"$work/out" 2>&1
  rc=$?
  [ $rc -eq 0 ] || { cat "$work/out"; fail "$v --help: exit $rc"; }
  grep -q "configuring\|installing\|apt-get install -y" "$work/out" && { cat "$work/out"; fail "$v --help built or installed"; }
  [ -s "$work/out" ] || fail "$v --help printed nothing"
done
no_build "--help"
echo "ok: every verb's --help, nothing built"

as_user "$door" test --preset debug -L unit >"$work/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "accepted: release, asan-ubsan, tsan" "$work/out" || { cat "$work/out"; fail "test --preset debug: exit $rc"; }
no_build "test --preset debug"
echo "ok: test --preset with an unknown build is refused up front"

# Routing by option, not substring: --kernel goes to the kernel checker, --kernels does not.
as_user "$door" check --kernel debian-6.12 --help >"$work/out" 2>&1
grep -q "usage: swapbench check" "$work/out" || { cat "$work/out"; fail "check --kernel --help is not the kernel checker's"; }
as_user "$door" check --kernels debian-6.12 --help >"$work/out" 2>&1
grep -q "usage: swapbench check" "$work/out" && { cat "$work/out"; fail "check --kernels was routed as --kernel"; }
grep -q "C++ binary" "$work/out" || { cat "$work/out"; fail "check --kernels --help is not the binary's"; }
as_user "$door" calibrate --exact --help >"$work/out" 2>&1
grep -q "calibrate-exact" "$work/out" || { cat "$work/out"; fail "calibrate --exact --help is not calibrate-exact's"; }
as_user "$door" calibrate --exactly --help >"$work/out" 2>&1
grep -q "calibrate-exact" "$work/out" && { cat "$work/out"; fail "calibrate --exactly was routed as --exact"; }
echo "ok: --kernel/--kernels and --exact/--exactly routed apart"

as_user "$door" --version >"$work/out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "not built yet" "$work/out" || { cat "$work/out"; fail "--version without a build: exit $rc"; }
no_build "--version"
echo "ok: --version without a build says so"

# The summary `./swapbench test` ends with: every skip, whole tests and those inside a pytest file.
cat >"$work/junit.xml" <<'XML'
<testsuite tests="4" failures="0" skipped="2">
  <testcase name="privileged.test_x" status="notrun"><skipped message="SKIP_RETURN_CODE=77"/>
    <system-out>SKIP: needs root (fix: run ./swapbench test as root)
</system-out></testcase>
  <testcase name="StateDir.X" status="notrun"><skipped message="SKIP_REGULAR_EXPRESSION_MATCHED"/>
    <system-out>[ RUN      ] StateDir.X
tests/unit/test_state_dir.cpp:131: Skipped
needs root to give the folder to nobody (run the unit tests as root)
[  SKIPPED ] StateDir.X (0 ms)
</system-out></testcase>
  <testcase name="kernels-config.test_patches" status="run"><system-out>..ss
SKIPPED [2] kernels-config/tests/test_patches.py:150: no pristine 6.1 tree: add one
2 passed, 2 skipped in 0.1s
</system-out></testcase>
  <testcase name="unit.passed" status="run"><system-out>ok</system-out></testcase>
</testsuite>
XML
/usr/bin/python3 "$top/tests/skips.py" "$work/junit.xml" >"$work/out" 2>&1
rc=$?
[ $rc -eq 0 ] || { cat "$work/out"; fail "skips.py: exit $rc"; }
for want in "skipped privileged.test_x: SKIP: needs root (fix: run ./swapbench test as root)" \
            "skipped StateDir.X: needs root to give the folder to nobody (run the unit tests as root)" \
            "skipped 2 in kernels-config.test_patches: kernels-config/tests/test_patches.py:150: no pristine 6.1 tree" \
            "skips: 2 whole tests and 2 tests inside test files did not run"; do
  grep -qF "$want" "$work/out" || { cat "$work/out"; fail "the skip summary lacks: $want"; }
done
grep -q "unit.passed" "$work/out" && { cat "$work/out"; fail "a test that ran was listed as skipped"; }
echo "ok: the test summary lists each skip with its reason and counts them"

# Without root: each refusal says plainly what needs root, and what runs
# without it runs. The front door uses a build that root made instead of failing on its log.
source "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
state >"$work/before"
as_nobody() { (cd / && setpriv --reuid=65534 --regid=65534 --clear-groups env -u SWAPBENCH_STATE_DIR HOME=/ "$@"); }

# The binary, straight: a result folder it cannot write is bad input before the run, not a lost result.
as_nobody env SWAPBENCH_RESULTS_DIR=/var/lib/swapbench-nobody-results "$bin" run --pages 64 --repetitions 1 >"$work/out" 2>&1
rc=$?
[ $rc -eq 2 ] || { cat "$work/out"; fail "an unwritable results folder: exit $rc, expected 2 before the run"; }
grep -q "give --out FILE" "$work/out" || { cat "$work/out"; fail "no advice to give --out"; }
grep -q "rep 1" "$work/out" && fail "a set ran although the result could not be written"

# The front door, on a build root made: list and compare-style verbs work, with a note.
if [ -x "$top/build/bench/swapbench" ] && [ "$(stat -c %u "$top/build")" = 0 ]; then
  as_nobody "$top/swapbench" list >"$work/out" 2>&1 || { rc=$?; cat "$work/out"; fail "front door list as nobody exited $rc"; }
  grep -q "using the binary built there" "$work/out" || { cat "$work/out"; fail "no note about the root-owned build"; }
  grep -q "build failed" "$work/out" && { cat "$work/out"; fail "front door said 'build failed' for a permission problem"; }
  pass "front door as an ordinary user: uses root's build and says so"
else
  echo "note: no root-owned build at $top/build; the front-door case is not exercised"
fi

# Issue 19, item 9: asked for what needs root, an ordinary user gets exit 2 saying so before anything
# runs (--backend zram ran the first-touch floor and exited 0; --suite writeback ran 0 sets, exit 0).
out=$(mktemp -d /tmp/swapbench-nobody.XXXXXX); chmod 777 "$out"
nobody_run() {  # expected-substring args...
  local want=$1; shift
  (cd / && runuser -u nobody -- env -u SWAPBENCH_STATE_DIR HOME=/ SWAPBENCH_RESULTS_DIR="$out" \
     timeout 120 "$bin" run "$@" --pages 64 --repetitions 1 --out "$out/r.json") >"$work/out" 2>&1
  local rc=$?
  [ $rc -eq 2 ] || { cat "$work/out"; rm -rf "$out"; fail "as nobody, run $*: exit $rc, expected 2"; }
  grep -q -- "$want" "$work/out" || { cat "$work/out"; rm -rf "$out"; fail "as nobody, run $*: message lacks '$want'"; }
  grep -q " sets x \|floor_firsttouch" "$work/out" && { cat "$work/out"; rm -rf "$out"; fail "as nobody, run $*: a set ran"; }
  [ -z "$(ls -A "$out")" ] || { ls -l "$out"; rm -rf "$out"; fail "as nobody, run $*: something was written"; }
  echo "ok: as nobody, run $* -> $(head -c 200 "$work/out" | tr '\n' ' ')"
}
nobody_run "backend zram needs root (swap areas, zswap parameters, zram devices, cgroups): run it as root" --backend zram
nobody_run "suite writeback: every set needs root" --suite writeback
nobody_run "suite race: every set needs root" --suite race
nobody_run "compressor lzo needs root" --compressor lzo
nobody_run "no-floors: every other set needs root" --no-floors
nobody_run "filter 'swapin' matches none of the 1 sets" --filter swapin
# calibrate measures with the suite: as nobody it is refused before it makes a folder or starts a run.
(cd / && runuser -u nobody -- env HOME=/ PYTHONPATH="$top" SWAPBENCH_BIN="$bin" SWAPBENCH_RESULTS_DIR="$out" \
   timeout 120 /usr/bin/python3 -m analysis calibrate) >"$work/out" 2>&1
rc=$?
[ $rc -eq 2 ] || { cat "$work/out"; rm -rf "$out"; fail "as nobody, calibrate: exit $rc, expected 2"; }
grep -q "measuring needs root" "$work/out" || { cat "$work/out"; rm -rf "$out"; fail "calibrate does not say it needs root"; }
[ -z "$(ls -A "$out")" ] || { ls -lR "$out"; rm -rf "$out"; fail "as nobody, calibrate made something before refusing"; }
rm -rf "$out"
pass "non-root: what needs root is refused with exit 2 before anything runs"

# restore needs root and says so plainly.
as_nobody "$bin" restore >"$work/out" 2>&1
rc=$?
[ $rc -ne 0 ] || { cat "$work/out"; fail "restore as nobody exited 0"; }
grep -qi "needs root\|run it as root" "$work/out" || { cat "$work/out"; fail "restore as nobody does not say it needs root"; }
grep -q "what():\|terminate called" "$work/out" && { cat "$work/out"; fail "a raw exception"; }
expect_state "$work/before" "after non-root refusals"
pass "non-root: unwritable results refused before the run; restore says it needs root"

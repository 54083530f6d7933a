# Without root (issue 9, defect 10): each refusal says plainly what needs root, and what runs
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

# restore needs root and says so plainly.
as_nobody "$bin" restore >"$work/out" 2>&1
rc=$?
[ $rc -ne 0 ] || { cat "$work/out"; fail "restore as nobody exited 0"; }
grep -qi "needs root\|run it as root" "$work/out" || { cat "$work/out"; fail "restore as nobody does not say it needs root"; }
grep -q "what():\|terminate called" "$work/out" && { cat "$work/out"; fail "a raw exception"; }
expect_state "$work/before" "after non-root refusals"
pass "non-root: unwritable results refused before the run; restore says it needs root"

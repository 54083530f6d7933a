# The writeback race, briefly: slots freed and reused while writeback runs, zero stale pages on this
# (fixed) kernel with writebacks really happening; then the detector's negative test: a page handed
# back one generation old must fail the run loudly (exit 1, HARD FAILURE, the page named). The
# machine is given back after both.
source "$(dirname "$0")/lib.sh"
state >"$work/before"
"$bin" run --suite race --duration 2 --out "$work/r.json" >"$work/out" 2>&1 || { rc=$?; cat "$work/out"; fail "race exited $rc"; }
expect_state "$work/before" "after the race"
$py - "$work/r.json" <<'PY' || { cat "$work/out"; fail "race result checks"; }
import json, sys
r = json.load(open(sys.argv[1]))
b = [b for b in r["benchmarks"] if b["run_type"] == "iteration"]
assert len(b) == 1, [x["name"] for x in b]
s = b[0]["swapbench"]
assert s["kind"] == "race" and s["valid"], s["invalid_reason"]
assert s["stale_pages"] == 0 and s["race"]["damaged_pages"] == 0, s["race"]
assert s["operations"] > 1000 and s["writebacks"] > 0, (s["operations"], s["writebacks"])
# a swap area of exactly the region + 32 spare slots (mkswap's size operand): freed slots are reused
area = r["context"]["swapbench"]["swap_area"]
assert area["exact_size"] and area["slots"] == s["pages"] + 32, area
print("race:", s["operations"], "cycles,", s["writebacks"], "written back, 0 stale")
PY
"$bin" run --suite race --duration 1 --test-stale-page 7 --out "$work/s.json" >"$work/sout" 2>&1
rc=$?
[ $rc -eq 1 ] || { cat "$work/sout"; fail "a stale page must fail the run (exit $rc, expected 1)"; }
grep -q "HARD FAILURE" "$work/sout" || { cat "$work/sout"; fail "no HARD FAILURE message"; }
grep -q "page 7 at .*stale generation" "$work/sout" || { cat "$work/sout"; fail "the stale page is not named"; }
expect_state "$work/before" "after the stale-page run"
pass "race: 0 stale with writeback running; a fed stale page fails loudly; machine restored"

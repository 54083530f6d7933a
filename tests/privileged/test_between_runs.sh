# calibrate --between-runs end to end, small: the quick suite really runs twice as separate
# processes, the between-run calibration is stored, compare takes several runs per side and uses
# the calibration for one run per side; each result records the sample timer (why, frequency), the
# host reference per repetition and the per-set outliers and host drift; the machine is given back.
# Figures of runs this small mean nothing; the plumbing is what is tested.
source "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
state >"$work/before"
export SWAPBENCH_BIN="$bin" SWAPBENCH_RESULTS_DIR="$work/results"
PYTHONPATH="$top" $py -m analysis calibrate --between-runs 2 --pages 128 --pool 3 >"$work/out" 2>"$work/err" \
  || { rc=$?; cat "$work/out" "$work/err"; fail "calibrate --between-runs exited $rc"; }
expect_state "$work/before" "after calibrate --between-runs"
grep -q "between-run A/A on" "$work/out" || { cat "$work/out"; fail "no between-run summary printed"; }
runs=("$work"/results/calibration/between-*.json)
[ ${#runs[@]} -eq 2 ] || fail "expected 2 between-run results, found ${#runs[@]}"
cal=$(ls "$work"/results/calibration/*-between-*.json | head -1)
$py - "$cal" "${runs[@]}" <<'PY' || fail "calibration and result checks"
import json, sys
c = json.load(open(sys.argv[1]))
assert c["schema"] == "swapbench-between-runs/1" and c["n_runs"] == 2 and c["pairs"] == 1, c
assert c["between_run_threshold"] is not None and c["halves"] is None
for path in sys.argv[2:]:
    r = json.load(open(path))
    sb = r["context"]["swapbench"]
    t = sb["timer"]["sample_timer"]
    assert t["kind"] in ("counter", "clock_gettime") and t["why"] and t["frequency_hz"] > 1e6, t
    assert sb["harness_overhead"]["p50_ns"] > 0
    noise = sb["set_noise"]
    its = [b for b in r["benchmarks"] if b["run_type"] == "iteration"]
    sw = [b for b in its if b["swapbench"]["kind"] == "swapin"]
    assert sw and all(b["swapbench"]["host_ref"]["samples"] >= 1 for b in sw), "no host reference in swap-in sets"
    for name in {b["name"] for b in sw}:
        o = noise["sets"][name]["outliers_p50"]
        assert o["n"] == 3 and o["mild"] + o["severe"] <= 3, o
PY
a=${runs[0]} b=${runs[1]}
PYTHONPATH="$top" $py -m analysis compare "$a" "$b" >"$work/one" 2>&1
grep -q "within-run noise only" "$work/one" || { cat "$work/one"; fail "one run per side: scope not stated"; }
PYTHONPATH="$top" $py -m analysis compare "$a" "$b" -- "$b" "$a" >"$work/two" 2>&1
rc=$?
[ $rc -le 1 ] || { cat "$work/two"; fail "compare with two runs per side exited $rc"; }
grep -q "hierarchical bootstrap over 2 run(s) of A and 2 of B" "$work/two" || { cat "$work/two"; fail "several runs per side not used"; }
pass "between-run calibration stored; compare with several runs per side; timer, host reference, outliers recorded; machine restored"

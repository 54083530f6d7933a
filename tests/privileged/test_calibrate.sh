# ./swapbench calibrate end to end, small: the calibrate suite really runs (seven interleaved arms,
# real injected delays), the analysis stores a calibration that compare then uses, and the machine
# is given back. The figures of a run this small mean nothing; the plumbing is what is tested.
source "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
state >"$work/before"
export SWAPBENCH_BIN="$bin" SWAPBENCH_RESULTS_DIR="$work/results"
PYTHONPATH="$top" $py -m analysis calibrate --pages 256 --pool 12 -k 5 --experiments 100 \
  >"$work/out" 2>"$work/err" || { cat "$work/out" "$work/err"; fail "calibrate exited $?"; }
expect_state "$work/before" "after calibrate"
grep -q "A/A false-positive rate" "$work/out" || { cat "$work/out"; fail "no false-positive rate printed"; }
grep -q "minimum detectable effect" "$work/out" || fail "no minimum detectable effect printed"
cal=$(ls "$work"/results/calibration/*-*.json | grep -v /run- | head -1)
[ -f "$cal" ] || fail "no calibration stored under $work/results/calibration"
$py - "$cal" <<'PY' || fail "calibration checks"
import json, sys
c = json.load(open(sys.argv[1]))
assert c["schema"] == "swapbench-calibration/1"
assert c["scenario"]["pool_per_arm"] == 12 and c["scenario"]["pages"] == 256
assert [d["requested_ns"] for d in c["deltas"]] == [25, 50, 100, 200, 400]
assert all(d["added_ns"] >= d["requested_ns"] * 0.5 for d in c["deltas"]), c["deltas"]
assert 0 <= c["false_positive_rate"] <= 1 and c["noise_threshold"] > 0
run = json.load(open(c["run_file"]))
arms = {b["swapbench"]["variant"] for b in run["benchmarks"] if b["run_type"] == "iteration"}
assert arms == {"", "twin", "inject25ns", "inject50ns", "inject100ns", "inject200ns", "inject400ns"}, arms
assert all(b["swapbench"]["valid"] for b in run["benchmarks"] if b["run_type"] == "iteration")
PY
# compare takes the stored threshold for results of this machine
PYTHONPATH="$top" $py -m analysis compare "$(ls "$work"/results/calibration/run-*.json)" \
  "$(ls "$work"/results/calibration/run-*.json)" >"$work/cmp" 2>&1
grep -q "calibrated for this machine" "$work/cmp" || { cat "$work/cmp"; fail "compare did not use the calibration"; }
pass "calibrate ran the seven arms, stored a calibration compare uses; machine restored"

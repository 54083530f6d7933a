# ./swapbench calibrate end to end, small: the calibrate suite really runs (eight page-interleaved
# arms in one loop, real injected delays; and the earlier separate-set design), the analysis stores
# a calibration that compare then uses, and the machine is given back. The figures of a run this
# small mean nothing; the plumbing and the properties of the interleaved loop are what is tested.
source "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
state >"$work/before"
export SWAPBENCH_BIN="$bin" SWAPBENCH_RESULTS_DIR="$work/results"
PYTHONPATH="$top" $py -m analysis calibrate --pages 256 --pool 12 -k 6 --experiments 100 \
  >"$work/out" 2>"$work/err" || { rc=$?; cat "$work/out" "$work/err"; fail "calibrate exited $rc"; }
expect_state "$work/before" "after calibrate"
grep -q "A/A false-positive rate" "$work/out" || { cat "$work/out"; fail "no false-positive rate printed"; }
grep -q "minimum detectable effect" "$work/out" || fail "no minimum detectable effect printed"
cal=$(ls "$work"/results/calibration/*-*.json | grep -v /run- | head -1)
[ -f "$cal" ] || fail "no calibration stored under $work/results/calibration"
$py - "$cal" <<'PY' || fail "interleaved calibration checks"
import json, sys
c = json.load(open(sys.argv[1]))
assert c["schema"] == "swapbench-calibration/2" and c["design"] == "interleaved"
assert c["scenario"]["pool"] == 12 and c["scenario"]["pages"] == 256
assert [d["requested_ns"] for d in c["deltas"]] == [10, 25, 50, 100, 200, 400]
assert all(d["added_ns"] >= d["requested_ns"] * 0.5 for d in c["deltas"]), c["deltas"]
assert 0 <= c["false_positive_rate"] <= 1 and c["noise_threshold"] > 0
run = json.load(open(c["run_file"]))
its = [b for b in run["benchmarks"] if b["run_type"] == "iteration"]
assert {b["name"] for b in its} == {"swapin/zswap/lzo/ratio2/random/interleaved"}, {b["name"] for b in its}
assert len(its) == 12
seeds = set()
for b in its:
    sb = b["swapbench"]
    assert sb["valid"], sb["invalid_reason"]
    il = sb["interleaved"]
    arms = il["arms"]
    assert [a["label"] for a in arms] == ["", "twin", "inject10ns", "inject25ns", "inject50ns", "inject100ns",
                                          "inject200ns", "inject400ns"]
    # balanced: 256 pages over 8 arms, 32 each, every page in one arm
    assert [a["pages"] for a in arms] == [32] * 8, [a["pages"] for a in arms]
    # the proof is per set and covers every arm: every one of the 256 pages came from zswap
    v = sb["deltas"]["vmstat"]
    assert v["zswpin"] == 256 and v["pswpin"] == 0, v
    # the set's own figures are the base arm's
    assert sb["latency_ns"] == arms[0]["latency_ns"] and b["iterations"] == 32
    # the paired statistic is each arm's p50 over the base's, in this repetition
    for a, p in zip(arms[1:], il["paired"]):
        assert p["label"] == a["label"]
        assert abs(p["p50_ratio"] - a["latency_ns"]["p50"] / arms[0]["latency_ns"]["p50"]) < 1e-9
    # a busy-wait arm's every sample holds its delay (the wait spins until the clock passes it)
    assert arms[-1]["latency_ns"]["min"] >= 400, arms[-1]
    seeds.add(il["assignment"]["seed"])
assert len(seeds) == 12, "the assignment must be shuffled afresh in every repetition"
PY
# compare takes the stored threshold for results of this machine
PYTHONPATH="$top" $py -m analysis compare "$(ls "$work"/results/calibration/run-*.json)" \
  "$(ls "$work"/results/calibration/run-*.json)" >"$work/cmp" 2>&1
grep -q "calibrated for this machine" "$work/cmp" || { cat "$work/cmp"; fail "compare did not use the calibration"; }

# The earlier design still runs and is analysed as before.
PYTHONPATH="$top" $py -m analysis calibrate --design sets --pages 256 --pool 12 -k 5 --experiments 100 \
  --out "$work/sets.json" >"$work/out2" 2>"$work/err2" || { rc=$?; cat "$work/out2" "$work/err2"; fail "calibrate --design sets exited $rc"; }
expect_state "$work/before" "after calibrate --design sets"
$py - "$work/sets.json" <<'PY' || fail "separate-set calibration checks"
import json, sys
c = json.load(open(sys.argv[1]))
assert c["schema"] == "swapbench-calibration/1"
assert c["scenario"]["pool_per_arm"] == 12 and [d["requested_ns"] for d in c["deltas"]] == [25, 50, 100, 200, 400]
run = json.load(open(c["run_file"]))
arms = {b["swapbench"]["variant"] for b in run["benchmarks"] if b["run_type"] == "iteration"}
assert arms == {"", "twin", "inject25ns", "inject50ns", "inject100ns", "inject200ns", "inject400ns"}, arms
assert all(b["swapbench"]["valid"] for b in run["benchmarks"] if b["run_type"] == "iteration")
PY
pass "calibrate ran eight page-interleaved arms (balanced, reshuffled per repetition, proof over every page) and the separate-set design, stored calibrations compare uses; machine restored"

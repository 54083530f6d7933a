import json

import pytest

from analysis.calibrate import analyse
from analysis.store import find_calibration
from analysis.load import ResultError, load
from conftest import CALIBRATE, QUICK_A


def test_analysis_of_a_calibration_run():
    R = load(CALIBRATE)
    doc = analyse(R, k=9, experiments=200)
    assert doc["scenario"]["pool_per_arm"] == 24 and doc["per_fault_ns"] > 0
    assert [d["requested_ns"] for d in doc["deltas"]] == [25, 50, 100, 200, 400]
    # the delay each arm really added was measured by the run, not assumed
    measured = {a["requested_ns"]: a["added_p50_ns"] for a in R.sb["inject"]["arms"]}
    assert all(d["added_ns"] == measured[d["requested_ns"]] for d in doc["deltas"])
    assert doc["noise_threshold"] > 0
    # the threshold is the A/A ratios' 95th percentile and a verdict needs the whole interval
    # beyond it, so at most 5% of A/A experiments can be called a change
    assert 0 <= doc["false_positive_rate"] <= 0.05
    assert all(0 <= d["power"] <= 1 for d in doc["deltas"])
    if doc["mde"]:
        assert doc["deltas"][[d["requested_ns"] for d in doc["deltas"]].index(doc["mde"]["requested_ns"])]["power"] >= 0.95
    assert doc["limits"] and doc["drift_share"] is not None


def test_a_run_without_calibration_arms_is_refused():
    with pytest.raises(ResultError, match="not a calibration run"):
        analyse(load(QUICK_A))


def test_too_small_a_pool_is_refused():
    with pytest.raises(ResultError, match="need a larger pool"):
        analyse(load(CALIBRATE), k=30)


def test_stored_calibration_is_found_for_the_same_machine_only(run, tmp_path, derive):
    rc, out, _ = run("calibrate", "--from", CALIBRATE, "-k", "9", "--experiments", "200", "--out", tmp_path / "c.json")
    assert rc == 0 and "A/A false-positive rate" in out and "minimum detectable effect" in out
    assert find_calibration(load(QUICK_A).machine_key(), "p50", str(tmp_path)) is not None
    other = derive(QUICK_A, "other.json", lambda d: d["context"].update(host_name="elsewhere"))
    assert find_calibration(load(other).machine_key(), "p50", str(tmp_path)) is None
    assert json.loads((tmp_path / "c.json").read_text())["schema"] == "swapbench-calibration/1"

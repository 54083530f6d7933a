"""calibrate --between-runs (issue 13 item 3): the A/A spread between separate runs, on runs derived
from a fixture with known whole-run drift, and compare's use of it for one run per side."""
import json

from analysis import between_runs, stats
from analysis.load import load
from conftest import QUICK_A, ZSWAP_LZO
from test_compare_runs import DRIFT_A, DRIFT_B, _side


def test_drift_between_runs_is_measured_and_pairs_counted(derive):
    runs = [load(p) for p in _side(derive, "r", DRIFT_A + DRIFT_B)]
    doc = between_runs.analyse(runs, 0.01)
    assert doc["n_runs"] == 12 and doc["pairs"] == 66
    assert doc["calibrated_set"] == ZSWAP_LZO
    # The runs differ only by whole-run factors from 0.93 to 1.08: the 95th percentile of the pairs'
    # |ratio - 1| lies within what those factors allow (largest 1.08 / 0.93 - 1 = 16%).
    assert 0.05 < doc["between_run_threshold"] <= 1.08 / 0.93 - 1 + 1e-9
    # At a 1% threshold many of those pairs are called: the false verdicts the issue describes.
    assert doc["share_within_noise"] < 0.95
    h = doc["halves"]
    assert h["runs_per_side"] == 6 and h["aa_within_noise_share"] == 1.0
    assert h["shift_found"] == (h["shift_verdict"] == stats.SLOWER)
    assert doc["goal"]["met"] is False


def test_cli_stores_it_and_compare_uses_it_for_one_run_per_side(run, derive, tmp_path):
    paths = _side(derive, "r", DRIFT_A + DRIFT_B)
    cal = tmp_path / "cal"
    cal.mkdir()
    out = cal / "between.json"
    rc, text, _ = run("calibrate", "--between-runs", "12", "--from-runs", *paths, "--out", out)
    assert rc == 0 and "between-run threshold" in text and "66 pairs" in text
    doc = json.loads(out.read_text())
    assert doc["schema"] == between_runs.SCHEMA
    # Two separate runs 8% apart: slower at the 1% default; within noise once the between-run
    # spread of this machine is the threshold. The fixture copies share a date: make B later.
    later = derive(QUICK_A, "later.json", lambda d: (d["context"].update(date="2099-01-01T00:00:00+00:00"),
                                                      [b["swapbench"]["latency_ns"].update(
                                                          p50=b["swapbench"]["latency_ns"]["p50"] * 1.08)
                                                       for b in d["benchmarks"] if b.get("run_type") == "iteration"]))
    rc, text, _ = run("compare", "--calibrations", "/nonexistent", QUICK_A, later)
    assert rc == 1 and "calibrate --between-runs 8 measures" in text
    rc, text, _ = run("compare", "--calibrations", cal, QUICK_A, later)
    assert rc == 0 and "between-run calibration of this machine" in text
    assert "the threshold is this machine's between-run spread" in text


def test_too_few_runs_is_bad_input(run, derive):
    rc, _, err = run("calibrate", "--between-runs", "1")
    assert rc == 2 and "at least 2 runs" in err

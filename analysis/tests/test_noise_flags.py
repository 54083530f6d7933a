"""Outliers flagged (Tukey fences over repetitions) and host drift (the reference loop) in compare
and report."""
import json

import numpy as np

from analysis import stats
from analysis.load import load
from conftest import QUICK_A, ZSWAP_LZO, iterations

NO_CAL = ["--calibrations", "/nonexistent-calibrations"]


def test_tukey_classes_match_the_cpp_summary_on_a_known_sample():
    # The very sample of tests/unit/test_outliers.cpp: q1 4, q3 8; 15 mild, 40 severe.
    o = stats.tukey_outliers([1, 2, 3, 4, 5, 6, 7, 8, 4.5, 4.5, 12, 40, 15])
    assert (o["high_mild"], o["high_severe"], o["low_mild"], o["low_severe"]) == (1, 1, 0, 0)
    assert o["fences"] == [-8.0, -2.0, 14.0, 20.0]
    low = stats.tukey_outliers([100, 101, 102, 103, 104, 105, 106, 107, 90, 50])
    assert (low["low_mild"], low["low_severe"]) == (1, 1)
    assert stats.tukey_outliers([1, 1000, 2])["fences"] is None
    assert stats.fmt_outliers(o) == "1 mild, 1 severe of 13"


def _with_host(ns_per_set):
    """A change() putting a host reference of ns (per set name, default 500) into every repetition."""
    def change(d):
        for b in d["benchmarks"]:
            if b.get("run_type") == "iteration":
                b["swapbench"]["host_ref"] = {"loop_ns_p50": ns_per_set.get(b["name"], 500.0), "samples": 128}
    return change


def test_compare_flags_outliers_and_keeps_them(run, derive, tmp_path):
    def spike(d):
        its = iterations(d, ZSWAP_LZO)
        its[0]["swapbench"]["latency_ns"]["p50"] *= 10  # one repetition caught a stall
    b = derive(QUICK_A, "spike.json", spike)
    js = tmp_path / "c.json"
    run("compare", QUICK_A, b, *NO_CAL, "--json", js)
    row = next(r for r in json.loads(js.read_text())["rows"] if r["set"] == ZSWAP_LZO)
    assert row["outliers_b"]["severe"] == 1 and row["reps_b"] == 9  # flagged, not dropped
    assert row["outliers_a"]["severe"] == 0


def test_compare_warns_when_the_sides_ran_under_different_host_speed(run, derive):
    a = derive(QUICK_A, "a.json", _with_host({}))
    same = derive(QUICK_A, "same.json", _with_host({}))
    slow = derive(QUICK_A, "slow.json", _with_host({ZSWAP_LZO: 600.0}))
    _, out, _ = run("compare", a, same, *NO_CAL)
    assert "different speed" not in out
    _, out, _ = run("compare", a, slow, *NO_CAL)
    assert "host ran at a different speed on the two sides in 1 set(s)" in out
    assert "20.0% slower" in out and ZSWAP_LZO in out
    # Results without a reference (made before it existed) compare as before, without the warning.
    _, out, _ = run("compare", QUICK_A, slow, *NO_CAL)
    assert "different speed" not in out


def test_host_slower_against_the_run_median(derive):
    R = load(derive(QUICK_A, "h.json", _with_host({ZSWAP_LZO: 550.0})))
    assert np.isclose(R.host_slower(R.sets[ZSWAP_LZO]), 0.10)
    other = next(s for n, s in R.sets.items() if n != ZSWAP_LZO and s.host_ref_ns().size)
    assert np.isclose(R.host_slower(other), 0.0)
    assert np.isnan(load(QUICK_A).host_slower(load(QUICK_A).sets[ZSWAP_LZO]))


def test_report_shows_outliers_and_host(run, derive, tmp_path):
    src = derive(QUICK_A, "h.json", _with_host({ZSWAP_LZO: 550.0}))
    rc, _, _ = run("report", src, "-o", tmp_path / "rep")
    html = (tmp_path / "rep" / "index.html").read_text()
    assert rc == 0 and "outliers (p50 of reps)" in html and "+10.0% slower" in html and "mild" in html

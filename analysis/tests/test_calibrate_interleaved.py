"""The interleaved calibration: the paired test on known inputs, and calibrate's judging
on synthetic interleaved runs whose answer is known: a drift shared by every arm must not make a
verdict, a known shift must. The runs are made here (shaped as bench/interleave.cpp writes them,
on the context of a real result), never measured."""
import copy
import json

import numpy as np
import pytest
from scipy import stats as sst

from analysis import stats
from analysis.calibrate import analyse, render
from analysis.errors import ResultError
from analysis.load import load
from conftest import QUICK_A, read

ARMS = [("", 0), ("twin", 0), ("inject10ns", 10), ("inject25ns", 25), ("inject50ns", 50), ("inject100ns", 100),
        ("inject200ns", 200), ("inject400ns", 400)]


def synthetic_run(tmp_path, reps=120, drift_cv=0.3, noise=0.004, fault_ns=5000.0, shift=None, seed=1,
                  rep_seconds=0.2, name="run.json"):
    """An interleaved calibrate run: per repetition a host speed factor shared by every arm (slow
    trend + large jumps: drift_cv), per arm its own small noise, and inject_ns (or `shift`:
    label -> extra factor) on top. Returns the file's path."""
    rng = np.random.default_rng(seed)
    doc = copy.deepcopy(read(QUICK_A))
    t = np.arange(reps) * rep_seconds
    speed = np.exp(drift_cv * (0.7 * np.sin(t / 3.0) + 0.7 * rng.standard_normal(reps)))
    entries = []
    for i in range(reps):
        arms = []
        for label, inj in ARMS:
            p50 = (fault_ns * speed[i] + inj) * (1 + noise * rng.standard_normal())
            if shift and label in shift:
                p50 *= shift[label]
            arms.append({"label": label, "inject_ns": inj, "pages": 1024,
                         "latency_ns": {"p50": p50, "mean": p50 * 1.1, "p99": p50 * 2}})
        base = arms[0]["latency_ns"]
        sb = {"kind": "swapin", "backend": "zswap", "compressor": "lzo", "profile": "ratio2", "pattern": "random",
              "pages": 8192, "fault": "read", "inject_ns": 0, "variant": "interleaved", "started_s": float(t[i]),
              "valid": True, "latency_ns": dict(base), "histogram": {"buckets": []},
              "interleaved": {"base": "", "arms": arms,
                              "paired": [{"label": a["label"], "p50_ratio": a["latency_ns"]["p50"] / base["p50"]}
                                         for a in arms[1:]]}}
        entries.append({"name": "swapin/zswap/lzo/ratio2/random/interleaved", "run_type": "iteration",
                        "repetition_index": i, "real_time": base["mean"], "swapbench": sb})
    doc["benchmarks"] = entries
    doc["context"]["swapbench"]["wall_seconds"] = reps * rep_seconds
    doc["context"]["swapbench"]["inject"] = {"arms": [{"requested_ns": n, "added_p50_ns": float(n)}
                                                      for _, n in ARMS if n]}
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return str(p)


def test_signed_rank_p_is_scipys_exact_wilcoxon():
    rng = np.random.default_rng(5)
    for n in (6, 9, 14, 25):
        d = rng.normal(0.002, 0.01, n)
        assert stats.paired_ratio_test(np.exp(d))["p"] == pytest.approx(sst.wilcoxon(d, mode="exact").pvalue)
    assert stats.signed_rank_null(10).sum() == pytest.approx(1.0)


def test_interval_excludes_one_exactly_when_p_is_below_alpha():
    rng = np.random.default_rng(6)
    r = np.exp(rng.normal(0.004, 0.01, (2000, 10)))
    t = stats.paired_ratio_test(r)
    outside = (t["ci_low"] > 1) | (t["ci_high"] < 1)
    assert outside.any() and (~outside).any()
    assert np.array_equal(outside, t["p"] < stats.ALPHA)


def test_paired_test_holds_its_level_and_finds_a_shift():
    rng = np.random.default_rng(7)
    aa = stats.paired_ratio_test(np.exp(rng.normal(0, 0.01, (4000, 10))))
    assert np.mean(aa["verdict"] != stats.NOISE) <= 0.06  # exact test: size 4.9% at n = 10
    ab = stats.paired_ratio_test(np.exp(rng.normal(0.02, 0.01, (4000, 10))))
    assert np.mean(ab["verdict"] == stats.SLOWER) > 0.95
    assert np.median(ab["ratio"]) == pytest.approx(np.exp(0.02), rel=0.003)


def test_too_few_repetitions_give_no_verdict():
    t = stats.paired_ratio_test(np.array([1.1, 1.2, 1.3, 1.1, 1.2]))  # n = 5: P(T = 0) = 1/32 > 2.5%
    assert t["verdict"] == stats.NOISE and np.isinf(t["ci_high"])


def test_shared_drift_makes_no_verdict_paired_but_fools_separate_sets(tmp_path):
    # 30% host drift shared by every arm, no shift anywhere but the injected delays.
    doc = analyse(load(synthetic_run(tmp_path, drift_cv=0.3)), k=10, experiments=300)
    assert doc["design"] == "interleaved" and doc["schema"] == "swapbench-calibration/2"
    assert doc["false_positive_rate"] <= 0.08
    assert doc["per_rep_cv"] > 0.2 and doc["paired_ratio_sd"] < 0.01
    # Judged as separate sets, the same data cannot find even the largest delay (8% of a fault).
    top = doc["deltas"][-1]
    assert top["requested_ns"] == 400 and top["power_unpaired"] < 0.5 and top["power"] == 1.0
    # 50 ns of a 5 us fault (1%) with 0.4% noise per arm: found.
    fifty = next(d for d in doc["deltas"] if d["requested_ns"] == 50)
    assert fifty["power"] >= 0.95
    assert doc["mde"]["requested_ns"] <= 50
    assert doc["goal_delta"]["requested_ns"] == 50
    assert doc["fewest_reps_for_goal"] is not None and doc["goal"]["met"]


def test_a_known_shift_of_the_twin_is_a_false_positive_and_stops_the_goal(tmp_path):
    # The twin made 2% slower: A/A is no longer A/A, the rate must show it and the goal fail.
    doc = analyse(load(synthetic_run(tmp_path, shift={"twin": 1.02})), k=10, experiments=300)
    assert doc["false_positive_rate"] > 0.9
    assert doc["mde"] is None and not doc["goal"]["met"]
    assert any("false-positive rate" in x for x in doc["limits"])


def test_noise_too_large_for_the_goal_says_how_many_repetitions_it_needs(tmp_path):
    # 3% independent noise per arm and repetition: 1% is not found at any k the pool allows.
    doc = analyse(load(synthetic_run(tmp_path, noise=0.03, reps=60)), k=10, experiments=200)
    assert not doc["goal"]["met"] and doc["fewest_reps_for_goal"] is None
    assert any("needs about" in x for x in doc["limits"])
    out = render(doc, "x.json")
    assert "NOT met" in out and "minimum detectable effect" in out


def test_a_pool_too_small_is_refused(tmp_path):
    with pytest.raises(ResultError, match="larger pool"):
        analyse(load(synthetic_run(tmp_path, reps=15)), k=10)


def test_arms_that_change_between_repetitions_are_refused(tmp_path, derive):
    src = synthetic_run(tmp_path, reps=30)

    def drop_arm(d):
        d["benchmarks"][3]["swapbench"]["interleaved"]["arms"].pop()
    with pytest.raises(ResultError, match="other arms"):
        analyse(load(derive(src, "bad.json", drop_arm)), k=10)


def test_compare_of_one_file_pairs_the_arms_of_its_interleaved_set(tmp_path, run):
    src = synthetic_run(tmp_path, reps=20, drift_cv=0.3)
    rc, out, _ = run("compare", src, "--json", tmp_path / "c.json")
    doc = json.loads((tmp_path / "c.json").read_text())
    assert doc["schema"] == "swapbench-compare-paired/1" and rc == doc["exit_status"] == 1
    v = {r["arm"]: r["verdict"] for r in doc["rows"]}
    assert v["twin"] == stats.NOISE and v["inject400ns"] == stats.SLOWER and v["inject100ns"] == stats.SLOWER
    r400 = next(r for r in doc["rows"] if r["arm"] == "inject400ns")
    assert r400["ci_low"] > 1 and r400["ratio"] == pytest.approx(1.08, rel=0.01)
    assert "paired comparison within" in out


def test_compare_of_one_file_without_interleaved_sets_is_refused(run):
    rc, _, err = run("compare", QUICK_A)
    assert rc == 2 and "page-interleaved" in err


def test_an_interleaved_set_without_a_twin_is_not_a_calibration(tmp_path, derive):
    src = synthetic_run(tmp_path, reps=30)

    def rename_twin(d):
        for b in d["benchmarks"]:
            b["swapbench"]["interleaved"]["arms"][1]["label"] = "write"
    with pytest.raises(ResultError, match="not a calibration set"):
        analyse(load(derive(src, "faults.json", rename_twin)), k=10)

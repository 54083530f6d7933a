import numpy as np

from analysis import stats


def test_verdict_needs_both_the_interval_beyond_the_threshold_and_a_small_p():
    t = 0.01
    assert stats.verdict(1.02, 1.05, 0.001, t) == stats.SLOWER
    assert stats.verdict(1.005, 1.05, 0.001, t) == stats.NOISE   # interval reaches into the band
    assert stats.verdict(1.02, 1.05, 0.2, t) == stats.NOISE      # not significant
    assert stats.verdict(0.90, 0.98, 0.001, t) == stats.FASTER
    assert stats.verdict(0.90, 0.995, 0.001, t) == stats.NOISE


def test_verdicts_vectorise_over_experiments():
    v = stats.verdict(np.array([1.02, 1.0, 0.9]), np.array([1.05, 1.1, 0.95]), np.array([0.01, 0.01, 0.01]), 0.01)
    assert list(v) == [stats.SLOWER, stats.NOISE, stats.FASTER]


def test_identical_samples_are_within_noise_with_p_1():
    a = np.array([4100, 4200, 3900, 4500, 4000, 4300, 4150, 3950, 4250.0])
    r = stats.compare_samples(a, a.copy(), 0.0)
    assert r["ratio"] == 1.0 and r["p"] == 1.0 and r["verdict"] == stats.NOISE
    assert r["ci_low"] <= 1.0 <= r["ci_high"]


def test_a_clear_shift_is_slower_and_its_interval_holds_the_true_ratio():
    rng = np.random.default_rng(7)
    a = rng.normal(4000, 100, 10)
    r = stats.compare_samples(a, a * 1.2 + rng.normal(0, 20, 10), 0.01)
    assert r["verdict"] == stats.SLOWER and r["p"] < 0.001
    assert r["ci_low"] < 1.2 < r["ci_high"]


def test_same_input_same_answer():
    a, b = np.arange(10.0) + 100, np.arange(10.0) + 103
    r1, r2 = stats.compare_samples(a, b, 0.01), stats.compare_samples(a, b, 0.01)
    assert (r1["ci_low"], r1["ci_high"]) == (r2["ci_low"], r2["ci_high"])

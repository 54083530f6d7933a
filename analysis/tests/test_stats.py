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


def _runs(rng, n_runs, reps, base, run_sd, rep_sd):
    """Synthetic runs: each run's host speed is a shared factor over all its repetitions."""
    return [base * rng.lognormal(0, run_sd) * rng.lognormal(0, rep_sd, reps) for _ in range(n_runs)]


def test_hierarchical_drift_shared_within_runs_creates_no_verdict():
    # Each run drifts by ~8% as a whole (a shared cloud VM's between-run movement), repetitions by 2%.
    # A/A: same distribution both sides. Pooled repetitions called slower/faster often; the
    # hierarchical bootstrap must not.
    rng = np.random.default_rng(1)
    called_h = called_pooled = 0
    for _ in range(30):
        a, b = _runs(rng, 5, 10, 5000, 0.08, 0.02), _runs(rng, 5, 10, 5000, 0.08, 0.02)
        called_h += stats.compare_runs(a, b, 0.01, resamples=1000)["verdict"] != stats.NOISE
        called_pooled += stats.compare_samples(np.concatenate(a), np.concatenate(b), 0.01,
                                               resamples=1000)["verdict"] != stats.NOISE
    assert called_h <= 3            # at most 10% of A/A pairs (alpha 5%, plus resampling slack)
    assert called_pooled >= 10      # the failure it fixes: repetitions pooled as if independent


def test_hierarchical_finds_a_known_shift_across_runs():
    rng = np.random.default_rng(2)
    found = 0
    for _ in range(20):
        a, b = _runs(rng, 6, 10, 5000, 0.03, 0.02), _runs(rng, 6, 10, 5000 * 1.15, 0.03, 0.02)
        r = stats.compare_runs(a, b, 0.01, resamples=1000)
        found += r["verdict"] == stats.SLOWER
        assert r["runs_a"] == 6
    assert found >= 19


def test_hierarchical_one_run_per_side_is_a_bootstrap_over_repetitions():
    a = [np.array([100, 101, 99, 100, 102, 98, 100, 101, 99.0])]
    r = stats.compare_runs(a, [x * 1.2 for x in a], 0.01, resamples=1000)
    assert r["verdict"] == stats.SLOWER and 1.15 < r["ci_low"] <= 1.2 <= r["ci_high"] < 1.25
    same = stats.compare_runs(a, a, 0.01, resamples=1000)
    assert same["verdict"] == stats.NOISE and same["p"] > 0.5

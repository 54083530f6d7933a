"""A/B statistics over repetitions (never over the pages of one run): ratio of medians with a
bootstrap interval, Mann-Whitney U, and the three-way verdict. scipy does the statistics; this
file only decides how they are combined.

Every function takes arrays whose last axis holds the repetitions, so calibration can judge
hundreds of resampled experiments in one call with the very rule compare uses for one.
"""
import warnings

import numpy as np
from scipy import stats

ALPHA = 0.05        # significance level: the conventional 5%, what the A/A false-positive goal is stated in
CONFIDENCE = 0.95   # two-sided interval of the ratio B/A
RESAMPLES = 4000    # bootstrap resamples: the percentile interval's ends move by < 0.1% between seeds here
SEED = 20261122     # fixed, so the same files always give the same verdict
MIN_REPS = 9        # below this Mann-Whitney U has little power (Google Benchmark's compare.py warns too)

# Verdicts in the metric's own direction (analysis/metrics.py): SLOWER is worse (more ns, fewer
# pages per second), FASTER is better.
SLOWER, FASTER, NOISE = "slower", "faster", "within noise"


def _ratio_of_medians(a, b, axis):
    return np.median(b, axis=axis) / np.median(a, axis=axis)


def compare_samples(a, b, threshold, alpha=ALPHA, resamples=RESAMPLES, seed=SEED, higher_is_better=False):
    """a, b: repetitions of A and B (last axis). threshold: the relative change below which a
    difference is noise (0.01 = 1%). Returns a dict of arrays (or scalars for 1-D input)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    ratio = _ratio_of_medians(a, b, axis=-1)
    with warnings.catch_warnings():
        # Identical inputs give a degenerate bootstrap distribution: the interval is then [r, r],
        # which is the right answer, so scipy's warning about it is noise here.
        warnings.simplefilter("ignore")
        ci = stats.bootstrap((a, b), _ratio_of_medians, vectorized=True, paired=False, axis=-1,
                             confidence_level=CONFIDENCE, n_resamples=resamples, method="percentile",
                             random_state=np.random.default_rng(seed)).confidence_interval
        p = stats.mannwhitneyu(a, b, alternative="two-sided", axis=-1).pvalue
    lo, hi = np.asarray(ci.low), np.asarray(ci.high)
    p = np.nan_to_num(np.asarray(p, dtype=float), nan=1.0)  # all-equal samples: no evidence of a change
    return {"median_a": np.median(a, axis=-1), "median_b": np.median(b, axis=-1), "ratio": ratio,
            "ci_low": lo, "ci_high": hi, "p": p, "verdict": verdict(lo, hi, p, threshold, alpha, higher_is_better)}


def verdict(lo, hi, p, threshold, alpha=ALPHA, higher_is_better=False):
    """slower or faster only when the whole interval of B/A clears the threshold and p < alpha;
    B/A above 1 is slower for a lower-is-better metric, faster for a higher-is-better one."""
    lo, hi, p = np.asarray(lo), np.asarray(hi), np.asarray(p)
    out = np.full(np.broadcast(lo, hi, p).shape, NOISE, dtype=object)
    sig = p < alpha
    up, down = (FASTER, SLOWER) if higher_is_better else (SLOWER, FASTER)
    out[sig & (lo - 1.0 > threshold)] = up
    out[sig & (hi - 1.0 < -threshold)] = down
    return out if out.shape else out.item()


def _hierarchical_medians(runs, resamples, rng):
    """Bootstrap distribution of the median of one side: each resample draws as many runs as there
    are, with replacement, then within each drawn run as many repetitions as it has, with
    replacement, and takes the median of everything drawn."""
    k = len(runs)
    pick = rng.integers(0, k, size=(resamples, k))
    out = np.empty(resamples)
    for i in range(resamples):
        drawn = [runs[j] for j in pick[i]]
        out[i] = np.median(np.concatenate([r[rng.integers(0, r.size, r.size)] for r in drawn]))
    return out


def compare_runs(a_runs, b_runs, threshold, alpha=ALPHA, resamples=RESAMPLES, seed=SEED, higher_is_better=False):
    """B against A with several runs per side (a_runs, b_runs: one 1-D array of repetitions per
    run). A hierarchical (two-stage) bootstrap, runs then repetitions (Davison & Hinkley 1997,
    section 3.8; Saravanan et al. 2020 for nested measurements): repetitions of one run share its
    host's state, so pooling them as independent would take between-run drift for signal (the dev
    VM: the same kernel's p50 moved 40% between runs). Resampling runs first puts that variance
    into the interval. B/A: the ratio of the pooled medians, its percentile interval, and a
    two-sided bootstrap p (twice the smaller share of resampled ratios on either side of 1), judged
    by verdict(). With one run per side it reduces to a bootstrap over repetitions; with two or
    three runs per side the interval is still narrower than the truth (few distinct draws), so use
    more runs for a between-run verdict."""
    a_runs = [np.asarray(r, dtype=float) for r in a_runs]
    b_runs = [np.asarray(r, dtype=float) for r in b_runs]
    if not a_runs or not b_runs or any(r.size == 0 for r in a_runs + b_runs):
        raise ValueError("every run needs at least one repetition")
    rng = np.random.default_rng(seed)
    ma, mb = _hierarchical_medians(a_runs, resamples, rng), _hierarchical_medians(b_runs, resamples, rng)
    ratios = mb / ma
    lo, hi = np.quantile(ratios, [(1 - CONFIDENCE) / 2, 1 - (1 - CONFIDENCE) / 2])
    p = min(1.0, 2 * min(np.mean(ratios <= 1.0), np.mean(ratios >= 1.0)))
    p = max(p, 1.0 / resamples)  # a bootstrap cannot say less than one resample in its count
    med_a, med_b = float(np.median(np.concatenate(a_runs))), float(np.median(np.concatenate(b_runs)))
    return {"median_a": med_a, "median_b": med_b, "ratio": med_b / med_a, "ci_low": float(lo), "ci_high": float(hi),
            "p": float(p), "verdict": verdict(lo, hi, p, threshold, alpha, higher_is_better),
            "runs_a": len(a_runs), "runs_b": len(b_runs)}


def tukey_outliers(values):
    """Outliers flagged, never dropped (criterion.rs's Tukey fences): counts of mild (beyond 1.5 IQR,
    within 3) and severe (beyond 3 IQR) values, low and high. Over the per-repetition statistic the
    verdict uses, not over pages (bench/outliers.h says why); quartiles interpolated linearly,
    numpy's default and the C++ run summary's, so both flag the same repetitions. Fewer than 4
    values fence nothing."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    out = {"n": int(v.size), "mild": 0, "severe": 0, "low_mild": 0, "low_severe": 0, "high_mild": 0,
           "high_severe": 0, "fences": None}
    if v.size < 4:
        return out
    q1, q3 = np.quantile(v, [0.25, 0.75])
    iqr = q3 - q1
    f = [q1 - 3 * iqr, q1 - 1.5 * iqr, q3 + 1.5 * iqr, q3 + 3 * iqr]
    out["low_severe"] = int(np.sum(v < f[0]))
    out["low_mild"] = int(np.sum((v >= f[0]) & (v < f[1])))
    out["high_mild"] = int(np.sum((v > f[2]) & (v <= f[3])))
    out["high_severe"] = int(np.sum(v > f[3]))
    out["mild"], out["severe"] = out["low_mild"] + out["high_mild"], out["low_severe"] + out["high_severe"]
    out["fences"] = [float(x) for x in f]
    return out


def fmt_outliers(o):
    """'1 mild, 0 severe of 10' as the report and compare say it."""
    return f"{o['mild']} mild, {o['severe']} severe of {o['n']}"


# Exact counts (instructions, calls: analysis/metrics.py kind "exact") have their own rule, no
# statistics: a count that repeats from boot to boot differs or it does not. The spread seen
# between the repetitions and boots of each side (normally zero) is what "differs" must exceed.
MORE, FEWER, IDENTICAL = "more", "fewer", "identical"
# Figures are medians of integer counts (and ratios of them): differences below this share of the
# figure are floating-point rounding, not instructions.
EXACT_ROUNDING = 1e-9


def exact_verdict(a, b, spread_a=0.0, spread_b=0.0):
    """MORE when B exceeds A by more than the larger of the two spreads, FEWER when it falls short
    by more, else IDENTICAL (a difference within what either side varies by on its own)."""
    margin = max(spread_a, spread_b, 0.0) + EXACT_ROUNDING * max(abs(a), abs(b))
    if b - a > margin:
        return MORE
    if a - b > margin:
        return FEWER
    return IDENTICAL


# Paired ratios: arms of one page-interleaved set share the host's speed, so each
# repetition yields a ratio (arm p50 / base p50) from which drift has cancelled; the question is
# then one-sample: is the ratios' centre 1?
def signed_rank_null(n):
    """P(T+ = t) for t = 0..n(n+1)/2 under H0 for n non-zero differences: the exact null
    distribution of Wilcoxon's signed-rank statistic (each rank in or out with probability 1/2),
    by dynamic programming in probabilities (exact for any n, no 2^n counts to overflow)."""
    p = np.zeros(n * (n + 1) // 2 + 1)
    p[0] = 1.0
    for i in range(1, n + 1):
        p[i:] = (p[i:] + p[:-i].copy()) / 2
        p[:i] /= 2
    return p


def walsh_averages(d):
    """All (d_i + d_j) / 2, i <= j, along the last axis: Tukey's form of the signed-rank test."""
    d = np.asarray(d, dtype=float)
    i, j = np.triu_indices(d.shape[-1])
    return (d[..., i] + d[..., j]) / 2


def paired_ratio_test(ratios, threshold=0.0, alpha=ALPHA, higher_is_better=False):
    """ratios: per-repetition paired ratios (last axis; leading axes are experiments). Wilcoxon's
    signed-rank test on log ratios, exact, in Tukey's Walsh-average form, and the matching
    Hodges-Lehmann estimate and confidence interval (Hollander & Wolfe, Nonparametric Statistical
    Methods, 3.1-3.3). Why this test: one sample of paired differences against 0 is its textbook
    use; it is distribution-free given symmetry, which the log of a ratio of two medians of ~1000
    pages each has (both medians near normal), and keeps 95% of the t-test's efficiency under
    normality while one repetition that caught a host stall moves it by one rank, not by its size.
    The sign test needs no symmetry but has 64% efficiency; a bootstrap of the median of ratios
    is coarse with 10 repetitions. The interval is the set of centres the test would not reject,
    so it excludes 1 exactly when p < alpha (zeros counted half) and the verdict rule is compare's.
    Returns arrays over the leading axes: ratio (exp of the Hodges-Lehmann estimate), ci_low,
    ci_high, p, verdict, and median_ratio (plain median of the ratios)."""
    r = np.asarray(ratios, dtype=float)
    n = r.shape[-1]
    d = np.log(r)
    w = np.sort(walsh_averages(d), axis=-1)
    m = w.shape[-1]
    null = signed_rank_null(n)
    cdf = np.cumsum(null)
    tplus = np.sum(w > 0, axis=-1) + 0.5 * np.sum(w == 0, axis=-1)
    lo_tail = np.interp(tplus, np.arange(cdf.size), cdf)            # P(T <= t), halves interpolated
    hi_tail = 1 - np.interp(tplus - 1, np.arange(cdf.size), cdf, left=0.0)  # P(T >= t)
    p = np.minimum(1.0, 2 * np.minimum(lo_tail, hi_tail))
    # a = the largest t with P(T <= t) <= alpha/2; the interval is [W_(a+1), W_(m-a)] (1-based).
    a = int(np.searchsorted(cdf, alpha / 2 + 1e-12, side="right")) - 1
    if a < 0:  # too few repetitions for any interval at this level (n <= 5 at 95%)
        lo = np.full(w.shape[:-1], -np.inf)
        hi = np.full(w.shape[:-1], np.inf)
    else:
        lo, hi = w[..., a], w[..., m - a - 1]
    hl = np.median(w, axis=-1)
    lo, hi = np.exp(lo), np.exp(hi)
    return {"ratio": np.exp(hl), "ci_low": lo, "ci_high": hi, "p": p, "n": n,
            "median_ratio": np.median(r, axis=-1),
            "verdict": verdict(lo, hi, p, threshold, alpha, higher_is_better)}

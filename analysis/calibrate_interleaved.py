"""calibrate's interleaved design (the default, the calibrate suite): the arms timed page by page
in one loop, each repetition giving per arm its paired ratio over the base arm, from which the
host's drift has cancelled; experiments judged on those ratios (stats.paired_ratio_test)."""
import numpy as np

from analysis import metrics, stats
from analysis.calibrate_goals import (DEFAULT_K, EXPERIMENTS, FPR_GOAL, MDE_GOAL, POWER_GOAL, RESAMPLES, WALL_GOAL_S,
                                       render_tail, smoothed_share)
from analysis.errors import ResultError
from analysis.output import fmt_ns, table
from analysis.paired import arm_values


PAIRED_SCHEMA = "swapbench-calibration/2"
# Repetitions per experiment tried when searching the fewest that meet the goal: from the fewest
# with a 95% signed-rank interval (6) up; only those the pool can hold twice (disjoint draws).
K_LADDER = (6, 8, 10, 15, 20, 30, 40, 60, 80)


def interleaved_set(R):
    """The one interleaved swap-in set of a calibrate run, checked valid; None if the run has none."""
    sets = [s for s in R.sets.values() if s.kind == metrics.SWAPIN and s.variant == "interleaved"]
    if not sets:
        return None
    if len(sets) > 1:
        raise ResultError(f"{R.path}: {len(sets)} interleaved swap-in sets: calibrate analyses one compressor per run")
    s = sets[0]
    why = s.invalid_reason()
    if why:
        raise ResultError(f"{R.path}: refused {s.name}: {why}")
    return s


def judge_paired(ratios, k, experiments, rng, threshold=0.0):
    """ratios[rep, arm]: experiments of k repetitions drawn without replacement, each arm judged by
    stats.paired_ratio_test; returns per arm that test's arrays over experiments."""
    idx = rng.random((experiments, ratios.shape[0])).argsort(axis=1)[:, :k]
    return [stats.paired_ratio_test(ratios[idx, j], threshold) for j in range(ratios.shape[1])]


def _unpaired(vals, base, twin, deltas, k, experiments, rng):
    """The same data as if the arms were separate sets: A's k repetitions and B's k others
    (disjoint, as two sets seconds apart), compare's unpaired rule. Gives compare's threshold for
    separate sets and the power pairing is measured against."""
    idx = rng.random((experiments, vals.shape[0])).argsort(axis=1)
    ia, ib = idx[:, :k], idx[:, k:2 * k]
    aa0 = stats.compare_samples(vals[ia, base], vals[ib, twin], 0.0, resamples=RESAMPLES)
    threshold = float(np.quantile(np.abs(aa0["ratio"] - 1.0), 0.95))
    aa = stats.compare_samples(vals[ia, base], vals[ib, twin], threshold, resamples=RESAMPLES)
    power = {}
    for j in deltas:
        raw = stats.compare_samples(vals[ia, base], vals[ib, j], 0.0, resamples=RESAMPLES)
        power[j] = float(np.mean(raw["verdict"] == stats.SLOWER))
    return {"noise_threshold": threshold, "false_positive_rate": float(np.mean(aa["verdict"] != stats.NOISE)),
            "false_positive_rate_statistics_only": float(np.mean(aa0["verdict"] != stats.NOISE)),
            "power_statistics_only": power}


def _pool(R, s, k, metric):
    """(arms, per-repetition values per arm, index of the twin arm) of a calibration set whose pool
    holds two disjoint draws of k repetitions."""
    arms, vals = arm_values(s, metric)
    n = vals.shape[0]
    if n < 2 * k:
        raise ResultError(f"{R.path}: {n} valid repetitions; experiments of {k} need a larger pool (at least "
                          f"{2 * k}, for the unpaired comparison's disjoint draws: --pool {4 * k})")
    labels = [a["label"] for a in arms]
    if labels[0] != "" or "twin" not in labels or len(arms) < 3:
        raise ResultError(f"{R.path}: {s.name} is not a calibration set (needs the base arm first, a 'twin' and "
                          "inject arms; made by ./swapbench run --suite calibrate)")
    return arms, vals, labels.index("twin")


def _added_ns(R):
    """requested ns -> the delay each inject arm added to the median fault, as the run measured it."""
    try:
        return {int(x["requested_ns"]): float(x["added_p50_ns"]) for x in R.sb.get("inject", {}).get("arms", [])}
    except (KeyError, TypeError, ValueError):
        raise ResultError(f"{R.path}: context.swapbench.inject.arms is not a list of {{requested_ns, added_p50_ns}} "
                          "(results/SCHEMA.md)") from None


def _delta_rows(arms, vals, ratios, deltas, added, main, res_t, unp):
    """One row per inject arm, by the delay asked: its measured size and power in each design."""
    per_fault = float(np.median(vals[:, 0]))
    rows = []
    for j in deltas:
        req = arms[j]["inject_ns"]
        add = added.get(req, float(req))
        rows.append({"label": arms[j]["label"], "requested_ns": req, "added_ns": add, "share": add / per_fault,
                     "power": main["power"][j],
                     "power_with_threshold": float(np.mean(res_t[j - 1] == stats.SLOWER)),
                     "power_unpaired": unp["power_statistics_only"][j],
                     "median_ratio": float(np.median(ratios[:, j - 1])),
                     "median_diff_ns": float(np.median(vals[:, j] - vals[:, 0]))})
    rows.sort(key=lambda d: d["requested_ns"])
    return rows


def _mde(rows, power_of, fpr):
    """The smallest delay found with the goal's power, when the false positives are within the goal."""
    if fpr > FPR_GOAL:
        return None
    for d in rows:
        if power_of(d) >= POWER_GOAL:
            return {"requested_ns": d["requested_ns"], "added_ns": d["added_ns"], "share": d["share"]}
    return None


def _fewest_reps(rows, ladder):
    """(the goal's delta row, the fewest repetitions of the ladder that meet the goal): the goal's
    delta is the largest delay tried that is at most 1% of a fault (as measured)."""
    small = [d for d in rows if d["share"] <= MDE_GOAL]
    goal_row = max(small, key=lambda d: d["requested_ns"]) if small else None
    if goal_row:
        for L in ladder:
            if L["false_positive_rate"] <= FPR_GOAL and L["power"][str(goal_row["requested_ns"])] >= POWER_GOAL:
                return goal_row, L
    return goal_row, None


def _drift(s, vals, per_fault):
    """The share of the base arm's variance that is slow drift over the run, when every repetition
    carries its start time; else None."""
    valid = [r for r in s.reps if r.valid]
    if not all(r.sb.get("started_s") is not None for r in valid):
        return None
    return smoothed_share([(r.sb.get("started_s"), x / per_fault) for r, x in zip(valid, vals[:, 0])])


def analyse_interleaved(R, s, k=DEFAULT_K, metric="p50", experiments=EXPERIMENTS, seed=stats.SEED):
    arms, vals, twin = _pool(R, s, k, metric)
    n = vals.shape[0]
    deltas = [j for j in range(1, len(arms)) if j != twin]
    ratios = vals[:, 1:] / vals[:, :1]  # column j-1 is arm j over the base, repetition by repetition
    rng = np.random.default_rng(seed)
    per_fault = float(np.median(vals[:, 0]))
    wall = float(R.sb.get("wall_seconds", float("nan")))
    per_rep_s = wall / n
    added = _added_ns(R)

    def at(kk, threshold=0.0):
        res = judge_paired(ratios, kk, experiments, rng, threshold)
        return {"fpr": float(np.mean(res[twin - 1]["verdict"] != stats.NOISE)),
                "power": {j: float(np.mean(res[j - 1]["verdict"] == stats.SLOWER)) for j in deltas}, "res": res}

    main = at(k)
    aa_hl = main["res"][twin - 1]["ratio"]
    paired_threshold = float(np.quantile(np.abs(aa_hl - 1.0), 0.95))
    res_t = [stats.verdict(x["ci_low"], x["ci_high"], x["p"], paired_threshold) for x in main["res"]]
    unp = _unpaired(vals, 0, twin, deltas, k, experiments, rng)
    rows = _delta_rows(arms, vals, ratios, deltas, added, main, res_t, unp)
    m = _mde(rows, lambda d: d["power"], main["fpr"])
    # The fewest repetitions that meet the goal: the ladder of k, each judged afresh.
    ladder = []
    for kk in sorted(set(K_LADDER) | {k}):
        if kk > n // 2:
            break
        r = main if kk == k else at(kk)
        ladder.append({"k": kk, "seconds": kk * per_rep_s, "false_positive_rate": r["fpr"],
                       "power": {str(arms[j]["inject_ns"]): r["power"][j] for j in deltas}})
    goal_row, fewest = _fewest_reps(rows, ladder)
    twin_log = np.log(ratios[:, twin - 1])
    base_cv = float(np.std(vals[:, 0], ddof=1) / np.mean(vals[:, 0]))
    drift = _drift(s, vals, per_fault)
    doc = {
        "schema": PAIRED_SCHEMA, "design": "interleaved", "date": R.date,
        "machine": {"host": R.host, "cpu_model": R.sb.get("cpu_model", "unknown"), "accelerator": R.accelerator,
                    "kernel": R.kernel},
        "scenario": {"set": s.name, "pages": s.pages, "arms": arms, "pages_per_arm": s.pages / len(arms),
                     "pool": n},
        "run_file": R.path, "metric": metric, "experiment_reps": k, "experiments": experiments,
        "seconds_per_repetition": per_rep_s, "experiment_seconds": k * per_rep_s,
        "per_fault_ns": per_fault, "per_rep_cv": base_cv, "drift_share": drift,
        "paired_ratio_sd": float(np.std(twin_log, ddof=1)),
        "test": ("per repetition, each arm's paired ratio (its p50 over the base arm's in the same repetition); per "
                 "experiment of k repetitions, Wilcoxon's signed-rank test of the log ratios against 0 (exact), and "
                 "the Hodges-Lehmann estimate and 95% interval; slower when p < 0.05 and the interval is above 1"),
        "false_positive_rate": main["fpr"], "deltas": rows, "mde": m,
        "paired_threshold": paired_threshold,
        "paired_threshold_meaning": ("95th percentile of |A'/A - 1| (Hodges-Lehmann) over the A/A experiments; "
                                     "power_with_threshold asks the interval to clear it too"),
        "mde_with_threshold": _mde(rows, lambda d: d["power_with_threshold"], 0.0),
        "noise_threshold": unp["noise_threshold"],
        "noise_threshold_meaning": (f"unpaired: 95th percentile of |A'/A - 1| over {experiments} experiments of {k} "
                                    "repetitions of A against k other repetitions of A' (as two separate sets; "
                                    "each arm's p50 is over its share of the pages, a little noisier than a whole "
                                    "set's); compare's default threshold for separate sets on this machine"),
        "unpaired": {"false_positive_rate": unp["false_positive_rate"],
                     "false_positive_rate_statistics_only": unp["false_positive_rate_statistics_only"]},
        "by_reps": ladder, "fewest_reps_for_goal": fewest,
        "goal_delta": goal_row and {"requested_ns": goal_row["requested_ns"], "added_ns": goal_row["added_ns"],
                                    "share": goal_row["share"]},
        "measurement_wall_s": wall,
        "goal": {"mde_share_max": MDE_GOAL, "fpr_max": FPR_GOAL, "wall_s_max": WALL_GOAL_S,
                 "power_min": POWER_GOAL},
    }
    doc["goal"]["met"] = bool(fewest and fewest["seconds"] <= WALL_GOAL_S)
    doc["limits"] = _paired_limits(doc)
    return doc


def _paired_limits(doc):
    """What holds the paired resolution back, in words built from the figures."""
    out = []
    sd, k = doc["paired_ratio_sd"], doc["experiment_reps"]
    out.append(f"the A/A paired ratio varies by {sd * 100:.2f}% (SD of log A'/A) between repetitions, against "
               f"{doc['per_rep_cv'] * 100:.1f}% (CV) for the base arm's own p50: pairing removes what the arms share")
    if doc["drift_share"] is not None:
        out.append(f"{doc['drift_share'] * 100:.0f}% of the base arm's per-repetition variance is slow drift over "
                   "seconds; the paired ratio does not see it")
    g = doc["goal_delta"]
    if g is None:
        out.append(f"no delay tried was at most {MDE_GOAL * 100:.0f}% of a fault "
                   f"({doc['per_fault_ns']:.0f} ns), so the 1% goal could not be judged")
    elif doc["fewest_reps_for_goal"] is None:
        # One-sample normal approximation (Wilcoxon's efficiency 0.955): n = ((z.975 + z.95) sd / effect)^2 / 0.955
        eff = np.log1p(g["share"])
        need = int(np.ceil(((1.960 + 1.645) * sd / eff) ** 2 / 0.955)) if eff > 0 else None
        out.append(f"+{g['requested_ns']} ns ({g['share'] * 100:.2f}% of a fault) reached {POWER_GOAL * 100:.0f}% power "
                   f"at no k tried (up to {doc['by_reps'][-1]['k'] if doc['by_reps'] else k})"
                   + (f"; by the normal approximation it needs about {need} repetitions "
                      f"({need * doc['seconds_per_repetition']:.0f} s)" if need else ""))
    else:
        f = doc["fewest_reps_for_goal"]
        out.append(f"+{g['requested_ns']} ns ({g['share'] * 100:.2f}% of a fault) is found with "
                   f"{f['power'][str(g['requested_ns'])] * 100:.0f}% power at {f['false_positive_rate'] * 100:.1f}% "
                   f"false positives from {f['k']} repetitions ({f['seconds']:.0f} s of measurement)")
    if doc["false_positive_rate"] > FPR_GOAL:
        out.append(f"the A/A false-positive rate {doc['false_positive_rate'] * 100:.1f}% is above "
                   f"{FPR_GOAL * 100:.0f}%: the arms are not exchangeable, or the pool is small (experiments are "
                   "drawn from one pool, so the rate is an estimate)")
    return out


def render_interleaved(doc, path):
    sc = doc["scenario"]
    lines = [f"calibration (page-interleaved arms) of {sc['set']} ({sc['pages']} pages, {len(sc['arms'])} arms, "
             f"{sc['pages_per_arm']:.0f} pages per arm) on {doc['machine']['host']} ({doc['machine']['cpu_model']}, "
             f"{doc['machine']['accelerator']}, kernel {doc['machine']['kernel']})",
             f"per-fault cost ({doc['metric']}, median of A): {fmt_ns(doc['per_fault_ns'])}; pool {sc['pool']} "
             f"repetitions ({doc['seconds_per_repetition']:.2f} s each); {doc['experiments']} experiments of "
             f"{doc['experiment_reps']} repetitions ({doc['experiment_seconds']:.1f} s of measurement each)",
             f"test: {doc['test']}", "",
             f"A/A false-positive rate: {doc['false_positive_rate'] * 100:.1f}% (paired); as separate sets "
             f"{doc['unpaired']['false_positive_rate_statistics_only'] * 100:.1f}% on interval and p alone, "
             f"{doc['unpaired']['false_positive_rate'] * 100:.1f}% at compare's threshold "
             f"{doc['noise_threshold'] * 100:.2f}%", ""]
    rows = [[f"+{d['requested_ns']} ns", f"{d['added_ns']:.0f} ns", f"{d['share'] * 100:.2f}%",
             f"{d['median_ratio']:.4f}", f"{d['median_diff_ns']:.0f} ns", f"{d['power'] * 100:.1f}%",
             f"{d['power_with_threshold'] * 100:.1f}%", f"{d['power_unpaired'] * 100:.1f}%"] for d in doc["deltas"]]
    lines.append(table(["delta asked", "added (measured)", "of a fault", "median ratio", "median diff",
                        "power (paired)", f"paired, thr {doc['paired_threshold'] * 100:.2f}%",
                        "power as separate sets"], rows))
    lines.append("")
    lines.append(table(["k", "seconds", "A/A FPR"] + [f"+{d['requested_ns']}" for d in doc["deltas"]],
                       [[str(L["k"]), f"{L['seconds']:.1f}", f"{L['false_positive_rate'] * 100:.1f}%"]
                        + [f"{L['power'][str(d['requested_ns'])] * 100:.0f}%" for d in doc["deltas"]]
                        for L in doc["by_reps"]]))
    g = doc["goal"]
    return render_tail(lines, doc, path, f"minimum detectable effect (k={doc['experiment_reps']})",
                        f"power >= {POWER_GOAL * 100:.0f}% at <= {FPR_GOAL * 100:.0f}% false positives",
                        f"or the false-positive rate above {FPR_GOAL * 100:.0f}%", " for the pool",
                        f"+1% of a fault found with >= {g['power_min'] * 100:.0f}% power at <= "
                        f"{g['fpr_max'] * 100:.0f}% false positives within {g['wall_s_max']} s", "separate sets")

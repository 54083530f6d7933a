"""calibrate's earlier design (`--design sets`, the calibrate-sets suite): the arms as separate
sets interleaved per repetition, each experiment judged with the very rule compare uses."""
import numpy as np

from analysis import metrics, stats, store
from analysis.calibrate_goals import (DEFAULT_K, EXPERIMENTS, FPR_GOAL, MDE_GOAL, POWER_GOAL, RESAMPLES, WALL_GOAL_S,
                                       render_tail, smoothed_share)
from analysis.errors import ResultError
from analysis.output import fmt_ns, table


def _arms(R):
    """variant -> SetResult for the calibrate suite's swap-in arms."""
    if not any(s.variant == "twin" for s in R.sets.values()):
        raise ResultError(f"{R.path}: not a calibration run (needs a swap-in set, its 'twin' and inject arms; "
                          "made by ./swapbench run --suite calibrate)")
    arms = {}
    for s in R.sets.values():
        if s.kind == metrics.SWAPIN:
            if s.variant in arms:
                raise ResultError(f"{R.path}: more than one swap-in set with variant '{s.variant}': "
                                  "calibrate analyses one compressor per run")
            arms[s.variant] = s
    if "" not in arms or "twin" not in arms or len(arms) < 3:
        raise ResultError(f"{R.path}: not a calibration run (needs a swap-in set, its 'twin' and inject arms; "
                          "made by ./swapbench run --suite calibrate)")
    for s in arms.values():
        why = s.invalid_reason()
        if why:
            raise ResultError(f"{R.path}: refused {s.name}: {why}")
    return arms


def _experiments(rng, a, b, k, n):
    """n experiments of k repetitions per side, each side drawn without replacement."""
    ia = rng.random((n, len(a))).argsort(axis=1)[:, :k]
    ib = rng.random((n, len(b))).argsort(axis=1)[:, :k]
    return a[ia], b[ib]


def _drift_share(arms, metric):
    """Share of the per-repetition variance that is slow drift shared by all arms: each value is
    divided by its arm's median, sorted by start time, and smoothed over 9 neighbours. High means
    the machine itself speeds up and slows down across seconds (what limits the resolution)."""
    pts = []
    for s in arms.values():
        v = [(r.sb.get("started_s"), r.value(metric)) for r in s.reps if r.valid]
        if any(t is None for t, _ in v):
            return None
        med = np.median([x for _, x in v])
        pts += [(t, x / med) for t, x in v]
    return smoothed_share(pts)


def analyse_sets(R, k=DEFAULT_K, metric="p50", experiments=EXPERIMENTS, seed=stats.SEED):
    """The earlier design: arms as separate sets (calibrate-sets suite)."""
    arms = _arms(R)
    base = arms[""].values(metric)
    twin = arms["twin"].values(metric)
    if min(len(base), len(twin)) < k + 1:
        raise ResultError(f"{R.path}: {min(len(base), len(twin))} repetitions per arm; experiments of "
                          f"{k} need a larger pool (--pool {4 * k})")
    rng = np.random.default_rng(seed)
    per_fault = float(np.median(base))
    a, b = _experiments(rng, base, twin, k, experiments)
    aa0 = stats.compare_samples(a, b, 0.0, resamples=RESAMPLES)
    threshold = float(np.quantile(np.abs(aa0["ratio"] - 1.0), 0.95))
    aa = stats.compare_samples(a, b, threshold, resamples=RESAMPLES)
    fpr = float(np.mean(aa["verdict"] != stats.NOISE))
    fpr0 = float(np.mean(aa0["verdict"] != stats.NOISE))

    try:
        added = {int(x["requested_ns"]): float(x["added_p50_ns"]) for x in R.sb.get("inject", {}).get("arms", [])}
    except (KeyError, TypeError, ValueError):
        raise ResultError(f"{R.path}: context.swapbench.inject.arms is not a list of {{requested_ns, added_p50_ns}} "
                          "(results/SCHEMA.md)") from None
    deltas = []
    for variant, s in sorted(arms.items(), key=lambda kv: kv[1].inject_ns):
        if variant in ("", "twin"):
            continue
        a, b = _experiments(rng, base, s.values(metric), k, experiments)
        cal = stats.compare_samples(a, b, threshold, resamples=RESAMPLES)
        raw = stats.compare_samples(a, b, 0.0, resamples=RESAMPLES)
        req = int(s.inject_ns)
        add = added.get(req, float(req))
        deltas.append({"set": s.name, "requested_ns": req, "added_ns": add, "share": add / per_fault,
                       "power": float(np.mean(cal["verdict"] == stats.SLOWER)),
                       "power_statistics_only": float(np.mean(raw["verdict"] == stats.SLOWER)),
                       "median_ratio": float(np.median(cal["ratio"]))})

    def mde(key):
        for d in deltas:
            if d[key] >= POWER_GOAL:
                return {"requested_ns": d["requested_ns"], "added_ns": d["added_ns"], "share": d["share"]}
        return None

    cv = float(np.std(base, ddof=1) / np.mean(base))
    wall = float(R.sb.get("wall_seconds", float("nan")))
    m = mde("power")
    doc = {
        "schema": store.CALIBRATION_SCHEMA, "date": R.date,
        "machine": {"host": R.host, "cpu_model": R.sb.get("cpu_model", "unknown"), "accelerator": R.accelerator,
                    "kernel": R.kernel},
        "scenario": {"set": arms[""].name, "pages": arms[""].pages, "pool_per_arm": len(base)},
        "run_file": R.path, "metric": metric, "experiment_reps": k, "experiments": experiments,
        "per_fault_ns": per_fault, "per_rep_cv": cv, "drift_share": _drift_share(arms, metric),
        "noise_threshold": threshold,
        "noise_threshold_meaning": (f"95th percentile of |A'/A - 1| over {experiments} A/A experiments of {k} "
                                    "repetitions per side; compare's default threshold on this machine"),
        "false_positive_rate": fpr, "false_positive_rate_statistics_only": fpr0,
        "deltas": deltas, "mde": m, "mde_statistics_only": mde("power_statistics_only"),
        "measurement_wall_s": wall,
        "goal": {"mde_share_max": MDE_GOAL, "fpr_max": FPR_GOAL, "wall_s_max": WALL_GOAL_S},
    }
    doc["goal"]["met"] = bool(m and m["share"] <= MDE_GOAL and fpr <= FPR_GOAL and wall <= WALL_GOAL_S)
    doc["limits"] = _limits(doc)
    return doc


def _limits(doc):
    """What holds the resolution back, in words built from the figures above."""
    out = []
    k, cv = doc["experiment_reps"], doc["per_rep_cv"]
    out.append(f"per-repetition {doc['metric']} varies by {cv * 100:.1f}% (CV) between repetitions of the same "
               f"set; with {k} repetitions per side two identical sets differ by up to "
               f"{doc['noise_threshold'] * 100:.2f}% 19 times in 20")
    t = doc["noise_threshold"]
    if t > doc["goal"]["mde_share_max"]:
        need = int(np.ceil(k * (t / doc["goal"]["mde_share_max"]) ** 2))
        out.append(f"if the noise were independent between repetitions, the A/A spread would fall under "
                   f"{doc['goal']['mde_share_max'] * 100:.0f}% only at about {need} repetitions per side "
                   f"(spread ~ 1/sqrt(repetitions)); drift makes that optimistic")
    if doc["drift_share"] is not None:
        out.append(f"{doc['drift_share'] * 100:.0f}% of that variance is slow drift shared by all arms "
                   "(the machine speeding up and slowing down over seconds), not sampling noise within a set")
    if doc["mde"] is None:
        top = doc["deltas"][-1] if doc["deltas"] else None
        if top:
            out.append(f"even the largest delay ({top['added_ns']:.0f} ns, {top['share'] * 100:.1f}% of a fault) "
                       f"was found in only {top['power'] * 100:.0f}% of experiments")
    return out


def render_sets(doc, path):
    pf = doc["per_fault_ns"]
    lines = [f"calibration of {doc['scenario']['set']} ({doc['scenario']['pages']} pages) on {doc['machine']['host']} "
             f"({doc['machine']['cpu_model']}, {doc['machine']['accelerator']}, kernel {doc['machine']['kernel']})",
             f"per-fault cost ({doc['metric']}, median of A): {fmt_ns(pf)}; pool {doc['scenario']['pool_per_arm']} "
             f"repetitions per arm; {doc['experiments']} experiments of {doc['experiment_reps']} repetitions per side",
             "",
             f"A/A false-positive rate: {doc['false_positive_rate'] * 100:.1f}% with the calibrated threshold "
             f"{doc['noise_threshold'] * 100:.2f}%  ({doc['false_positive_rate_statistics_only'] * 100:.1f}% on "
             "interval and p-value alone)", ""]
    rows = [[f"+{d['requested_ns']} ns", f"{d['added_ns']:.0f} ns", f"{d['share'] * 100:.2f}%",
             f"{d['median_ratio']:.4f}", f"{d['power'] * 100:.1f}%", f"{d['power_statistics_only'] * 100:.1f}%"]
            for d in doc["deltas"]]
    lines.append(table(["delta asked", "added (measured)", "of a fault", "median B/A", "power",
                        "power (threshold 0)"], rows))
    g = doc["goal"]
    return render_tail(lines, doc, path, "minimum detectable effect", f"power >= {POWER_GOAL * 100:.0f}%",
                        f"no delta reached {POWER_GOAL * 100:.0f}% power", "",
                        f"MDE <= {g['mde_share_max'] * 100:.0f}% of a fault, FPR <= {g['fpr_max'] * 100:.0f}%, "
                        f"<= {g['wall_s_max']} s", "results")

"""`compare RUN.json` (one file): the arms of each page-interleaved set against its base arm, judged
on the paired ratios. Arms of one interleaved set were timed page by page in one loop,
so they saw the same host speed; each repetition's ratio (arm over base) is free of the drift that
separates two sets or two runs, and the question is one-sample: is its centre 1? Two files are
never paired: their sets ran at different times, so compare A.json B.json stays unpaired.
"""
import numpy as np

from analysis import metrics, stats
from analysis.errors import ResultError
from analysis.output import fmt_p, table

SCHEMA = "swapbench-compare-paired/1"
# What each arm of an interleaved set carries (bench/interleave.cpp: its pages' latency summary).
ARM_METRICS = ("min", "p50", "p90", "p99", "p999", "max", "mean")
MIN_REPS = 6  # fewer: no 95% signed-rank interval exists (P(T+ = 0) = 1/32 > 2.5% at 5)


def interleaved_sets(R):
    return [s for s in R.sets.values() if s.variant == "interleaved"]


def arm_values(s, metric):
    """(arms, values): arms = [{label, inject_ns}] with the base first, values[rep, arm] the metric
    of each arm in each valid repetition (the set's `interleaved` block, results/SCHEMA.md)."""
    if metric not in ARM_METRICS:
        raise ResultError(f"--metric {metric}: an interleaved set's arms carry {', '.join(ARM_METRICS)}")
    arms, rows = None, []
    for r in s.reps:
        if not r.valid:
            continue
        block = r.sb.get("interleaved")
        try:
            these = [{"label": a["label"], "inject_ns": int(a["inject_ns"])} for a in block["arms"]]
            row = [a["latency_ns"][metric] for a in block["arms"]]
        except (KeyError, TypeError, ValueError):
            raise ResultError(f"{s.name}: repetition {r.index}: swapbench.interleaved.arms is not a list of "
                              f"{{label, inject_ns, latency_ns.{metric}}} (results/SCHEMA.md)") from None
        if arms is None:
            arms = these
        elif these != arms:
            raise ResultError(f"{s.name}: repetition {r.index} has other arms than repetition 0")
        rows.append(row)
    if arms is None or len(arms) < 2:
        raise ResultError(f"{s.name}: no valid repetition with two arms or more")
    v = np.array(rows, dtype=float)
    if not np.all(v > 0):
        raise ResultError(f"{s.name}: an arm's {metric} is zero or missing in some repetition")
    return arms, v


def compare_paired(R, opts):
    """The comparison document of one file's interleaved sets, under compare_options.CompareOptions opts."""
    sets = interleaved_sets(R)
    if not sets:
        raise ResultError(f"{R.path}: one file compares the arms of its page-interleaved sets, and it has none "
                          "(./swapbench run --suite calibrate makes one); to compare two runs give A.json B.json")
    threshold = opts.threshold / 100 if opts.threshold is not None else 0.0
    source = (f"--threshold {opts.threshold}%" if opts.threshold is not None else
              "0: the arms share the host's speed, so the test's level is the false-positive rate "
              "(./swapbench calibrate measures it on the twin arm)")
    rows, refused, warnings_ = [], [], []
    for s in sets:
        why = s.invalid_reason()
        if why:
            refused.append({"set": s.name, "file": R.path, "reason": why})
            continue
        arms, vals = arm_values(s, opts.metric)
        n = vals.shape[0]
        if n < MIN_REPS:
            warnings_.append(f"{s.name}: {n} repetitions; fewer than {MIN_REPS} give no 95% interval, so every arm "
                             "is within noise")
        for j in range(1, len(arms)):
            t = stats.paired_ratio_test(vals[:, j] / vals[:, 0], threshold, opts.alpha)
            rows.append({"set": s.name, "base": arms[0]["label"], "arm": arms[j]["label"],
                         "inject_ns_base": arms[0]["inject_ns"], "inject_ns_arm": arms[j]["inject_ns"], "reps": n,
                         "median_base": float(np.median(vals[:, 0])), "median_arm": float(np.median(vals[:, j])),
                         "ratio": float(t["ratio"]), "median_ratio": float(t["median_ratio"]),
                         "ci_low": float(t["ci_low"]), "ci_high": float(t["ci_high"]), "p": float(t["p"]),
                         "verdict": str(t["verdict"])})
    m = metrics.get(opts.metric)
    slower = any(r["verdict"] == stats.SLOWER for r in rows)
    return {"schema": SCHEMA, "path": R.path, "metric": opts.metric, "metric_meaning": m.meaning,
            "threshold": threshold, "threshold_source": source, "alpha": opts.alpha,
            "test": ("per repetition, the arm's metric over the base arm's; Wilcoxon signed-rank test of the log "
                     "ratios against 0 (exact) and the Hodges-Lehmann estimate with its 95% interval "
                     "(stats.paired_ratio_test); slower/faster when p < alpha and the interval is beyond the "
                     "threshold"),
            "rows": rows, "refused": refused, "warnings": warnings_,
            "exit_status": 2 if refused and not rows else (1 if slower else 0)}


def render_text(doc):
    m = metrics.get(doc["metric"])
    out = [f"paired comparison within {doc['path']}: each arm of a page-interleaved set against its base arm",
           f"metric: {doc['metric']} ({doc['metric_meaning']})", f"test: {doc['test']}", ""]
    rows = [[r["arm"], r["inject_ns_arm"], m.fmt(r["median_base"]),
             m.fmt(r["median_arm"]), f"{r['ratio']:.4f}", f"[{r['ci_low']:.4f}, {r['ci_high']:.4f}]", fmt_p(r["p"]),
             r["verdict"], r["reps"]] for r in doc["rows"]]
    for name in dict.fromkeys(r["set"] for r in doc["rows"]):
        out.append(f"set {name}")
        out.append(table(["arm", "inject ns", "base", "arm", "arm/base", "95% CI", "p (signed rank)", "verdict",
                          "reps"], [c for c, r in zip(rows, doc["rows"]) if r["set"] == name]))
    out.append(f"\nThreshold {doc['threshold'] * 100:.2f}% ({doc['threshold_source']}); alpha {doc['alpha']}.")
    for r in doc["refused"]:
        out.append(f"REFUSED {r['set']} in {r['file']}: {r['reason']}")
    for w in doc["warnings"]:
        out.append(f"warning: {w}")
    return "\n".join(out)

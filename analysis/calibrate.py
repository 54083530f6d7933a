"""`./swapbench calibrate`: how small a slowdown can this machine resolve, and how often does it
cry wolf?

Two designs (`--design`):
- interleaved (default): the `calibrate` suite's one zswap swap-in set times eight arms
  page by page in one loop (bench/interleave.h): A, an identical twin A' and A + 10/25/50/100/200/400
  ns busy-waited inside every timed fault. Each repetition gives per arm the paired ratio (its p50
  over A's, within the repetition), from which the host's drift has cancelled. Experiments of K
  repetitions are drawn from the pool and judged on those ratios, one-sample against 1
  (stats.paired_ratio_test: Wilcoxon signed-rank, exact, with its Hodges-Lehmann interval):
  A/A false-positive rate, power per delta, minimum detectable effect, and how many repetitions
  (seconds of measurement) the goal needs. The same data judged as if the arms were separate sets
  (disjoint repetitions, compare's unpaired rule) gives the threshold compare uses for separate
  sets, and shows what pairing buys.
- sets (`calibrate-sets` suite, the earlier design): seven separate sets interleaved per repetition.
  From each arm's pool of repetitions we draw many experiments of K repetitions (K = what a user's
  run has by default) and judge each with the very rule `compare` uses:
  - the A/A false-positive rate: A against A' found slower or faster;
  - the power at each delta: A against A+delta found slower;
  - the minimum detectable effect: the smallest delta found with at least 95% power.
The noise threshold stored for `compare` is the 95th percentile of |A'/A - 1| over the A/A
experiments: what two identical K-repetition sets differ by 19 times out of 20 on this machine.
"""
import os
import subprocess
import sys
import time

import numpy as np

from analysis import between_runs, environment, manifest, metrics, stats, store
from analysis.errors import ResultError
from analysis.load import load
from analysis.output import fmt_ns, table
from analysis.paired import arm_values
from analysis.writer import check_file, write_json

POWER_GOAL = 0.95     # "detectable": found slower in at least 95% of experiments
FPR_GOAL = 0.05       # the A/A false-positive rate the issue sets as acceptable
MDE_GOAL = 0.01       # 1% of the per-fault cost
WALL_GOAL_S = 120     # within 2 minutes of measurement
EXPERIMENTS = 400     # resampled experiments per comparison: the rates' standard error is <= 2.5 points
# The suite each --design measures.
DESIGN_SUITES = {"interleaved": manifest.load().suite("calibrate").name,
                 "sets": manifest.load().suite("calibrate-sets").name}
# What a user's compare sees by default: the repetitions of the suite a user runs.
DEFAULT_K = manifest.load().suite(between_runs.SUITE).repetitions
# Bootstrap resamples per experiment: fewer than compare's 4000, because here only the share of
# hundreds of experiments called slower matters, not one interval's ends to the last 0.1%.
RESAMPLES = 1000


def add_arguments(p):
    p.add_argument("--out", metavar="FILE",
                   help="calibration file (default: results/calibration/<host>-<accelerator>-<UTC>.json, "
                        "where compare looks)")
    p.add_argument("--design", choices=tuple(DESIGN_SUITES), default="interleaved",
                   help="interleaved (default): arms page by page in one loop, judged on paired ratios; sets: the "
                        "earlier design, arms as separate sets seconds apart (calibrate-sets suite)")
    p.add_argument("--compressor", default="lzo",
                   help="zswap compressor of the calibrated set (default lzo: the one every kernel has)")
    p.add_argument("--pages", type=int, help="pages per set (default: the suite's 8192, as in the quick suite)")
    p.add_argument("--pool", type=int,
                   help="repetitions measured (default: the suite's: interleaved 160, about 30 s here; sets 40 per "
                        "arm, about a minute)")
    p.add_argument("-k", "--experiment-reps", type=int, default=DEFAULT_K,
                   help="repetitions per side of one simulated comparison (default %(default)s, the quick suite's)")
    # The calibrated arms are swap-in sets: only what a swap-in set has can be calibrated.
    p.add_argument("--metric", default="p50", help="as in compare (default p50)",
                   choices=sorted(n for n in metrics.statistics() if metrics.get(n).applies_to(metrics.SWAPIN)))
    p.add_argument("--experiments", type=int, default=EXPERIMENTS,
                   help="resampled experiments per comparison (default %(default)s)")
    p.add_argument("--from", dest="from_run", metavar="RUN.json",
                   help="analyse an earlier `run --suite calibrate` result instead of measuring")
    p.add_argument("--between-runs", type=int, metavar="N",
                   help="instead: run the quick suite N times (separate processes) and measure the A/A spread "
                        "between runs; compare then uses it for one run per side (8 or more on a quiet machine; "
                        "--pages and --pool size each run)")
    p.add_argument("--from-runs", nargs="+", metavar="RUN.json",
                   help="with --between-runs: analyse these earlier runs of one kernel instead of measuring")


def measuring_problem(args, suite):
    """ResultError before anything is made or run when a measurement cannot start: no binary, not
    root, or options the binary's run would refuse (asked of its `list`, which checks them alike)."""
    binary = os.environ.get("SWAPBENCH_BIN")
    if not binary:
        raise ResultError("SWAPBENCH_BIN is not set: run calibrate through ./swapbench calibrate")
    if os.geteuid() != 0:
        raise ResultError("measuring needs root (it borrows zswap, a swap file and a memory cgroup): run "
                          "./swapbench calibrate as root, or analyse an earlier run with --from RUN.json")
    cmd = [binary, "list", "--suite", suite, "--compressor", args.compressor]
    if args.pages:
        cmd += ["--pages", str(args.pages)]
    if args.pool:
        cmd += ["--repetitions", str(args.pool)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ResultError(f"SWAPBENCH_BIN={binary}: cannot run it ({e}); run calibrate through "
                          "./swapbench calibrate") from None
    if r.returncode != 0:
        why = "; ".join(l.removeprefix("swapbench list: ") for l in r.stderr.strip().splitlines() if l.strip())
        raise ResultError(why or f"{binary} list exited {r.returncode}")


def measure(args, run_out):
    binary = environment.from_env("SWAPBENCH_BIN", "program")
    if not binary:
        raise ResultError("SWAPBENCH_BIN is not set: run calibrate through ./swapbench calibrate")
    suite = DESIGN_SUITES[getattr(args, "design", "interleaved")]
    cmd = [binary, "run", "--suite", suite, "--compressor", args.compressor, "--out", run_out]
    if args.pages:
        cmd += ["--pages", str(args.pages)]
    if args.pool:
        cmd += ["--repetitions", str(args.pool)]
    print("swapbench calibrate: " + " ".join(cmd[1:]), file=sys.stderr)
    # The run prints a progress line per set on stderr; its summary table goes to our stderr too,
    # so stdout carries only the calibration.
    try:
        rc = subprocess.run(cmd, stdout=sys.stderr).returncode
    except OSError as e:
        raise ResultError(f"SWAPBENCH_BIN={binary}: cannot run it ({e.strerror}); run calibrate through "
                          "./swapbench calibrate") from None
    if rc != 0:
        raise ResultError(f"the calibration run failed (exit {rc}); see above")


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
    return _smoothed_share(pts)


def _smoothed_share(pts):
    pts = sorted(pts)
    y = np.array([x for _, x in pts])
    if len(y) < 20:
        return None
    smooth = np.array([np.median(y[max(0, i - 4):i + 5]) for i in range(len(y))])
    return float(np.var(smooth) / np.var(y)) if np.var(y) > 0 else 0.0


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
    return _render_tail(lines, doc, path, "minimum detectable effect", f"power >= {POWER_GOAL * 100:.0f}%",
                        f"no delta reached {POWER_GOAL * 100:.0f}% power", "",
                        f"MDE <= {g['mde_share_max'] * 100:.0f}% of a fault, FPR <= {g['fpr_max'] * 100:.0f}%, "
                        f"<= {g['wall_s_max']} s", "results")


def _render_tail(lines, doc, path, mde_label, mde_rule, mde_none, wall_note, goal_text, stored_for):
    """The lines both designs end with: the minimum detectable effect, time, goal, limits, where stored."""
    m = doc["mde"]
    lines.append("")
    if m:
        lines.append(f"{mde_label}: {m['added_ns']:.0f} ns = {m['share'] * 100:.2f}% of a fault "
                     f"(asked +{m['requested_ns']} ns; {mde_rule})")
    else:
        lines.append(f"{mde_label}: above the largest delay tried ({mde_none})")
    lines.append(f"measurement: {doc['measurement_wall_s']:.0f} s{wall_note}")
    lines.append(f"goal ({goal_text}): {'met' if doc['goal']['met'] else 'NOT met'}")
    lines += [f"  - {x}" for x in doc["limits"]]
    lines.append(f"stored: {path} (compare's default threshold for {stored_for} from this machine and accelerator)")
    return "\n".join(lines)



# ---- the interleaved design -------------------------------------------------------------------

PAIRED_SCHEMA = "swapbench-calibration/2"
# Repetitions per experiment tried when searching the fewest that meet the goal: from the fewest
# with a 95% signed-rank interval (6) up; only those the pool can hold twice (disjoint draws).
K_LADDER = (6, 8, 10, 15, 20, 30, 40, 60, 80)


def _interleaved_set(R):
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


def analyse_interleaved(R, s, k=DEFAULT_K, metric="p50", experiments=EXPERIMENTS, seed=stats.SEED):
    arms, vals = arm_values(s, metric)
    n = vals.shape[0]
    if n < 2 * k:
        raise ResultError(f"{R.path}: {n} valid repetitions; experiments of {k} need a larger pool (at least "
                          f"{2 * k}, for the unpaired comparison's disjoint draws: --pool {4 * k})")
    labels = [a["label"] for a in arms]
    if labels[0] != "" or "twin" not in labels or len(arms) < 3:
        raise ResultError(f"{R.path}: {s.name} is not a calibration set (needs the base arm first, a 'twin' and "
                          "inject arms; made by ./swapbench run --suite calibrate)")
    twin = labels.index("twin")
    deltas = [j for j in range(1, len(arms)) if j != twin]
    ratios = vals[:, 1:] / vals[:, :1]  # column j-1 is arm j over the base, repetition by repetition
    rng = np.random.default_rng(seed)
    per_fault = float(np.median(vals[:, 0]))
    wall = float(R.sb.get("wall_seconds", float("nan")))
    per_rep_s = wall / n
    try:
        added = {int(x["requested_ns"]): float(x["added_p50_ns"]) for x in R.sb.get("inject", {}).get("arms", [])}
    except (KeyError, TypeError, ValueError):
        raise ResultError(f"{R.path}: context.swapbench.inject.arms is not a list of {{requested_ns, added_p50_ns}} "
                          "(results/SCHEMA.md)") from None

    def at(kk, threshold=0.0):
        res = judge_paired(ratios, kk, experiments, rng, threshold)
        return {"fpr": float(np.mean(res[twin - 1]["verdict"] != stats.NOISE)),
                "power": {j: float(np.mean(res[j - 1]["verdict"] == stats.SLOWER)) for j in deltas}, "res": res}

    main = at(k)
    aa_hl = main["res"][twin - 1]["ratio"]
    paired_threshold = float(np.quantile(np.abs(aa_hl - 1.0), 0.95))
    res_t = [stats.verdict(x["ci_low"], x["ci_high"], x["p"], paired_threshold) for x in main["res"]]
    unp = _unpaired(vals, 0, twin, deltas, k, experiments, rng)
    rows = []
    for j in deltas:
        req = arms[j]["inject_ns"]
        add = added.get(req, float(req))
        rows.append({"label": labels[j], "requested_ns": req, "added_ns": add, "share": add / per_fault,
                     "power": main["power"][j],
                     "power_with_threshold": float(np.mean(res_t[j - 1] == stats.SLOWER)),
                     "power_unpaired": unp["power_statistics_only"][j],
                     "median_ratio": float(np.median(ratios[:, j - 1])),
                     "median_diff_ns": float(np.median(vals[:, j] - vals[:, 0]))})
    rows.sort(key=lambda d: d["requested_ns"])

    def mde(power_of, fpr):
        if fpr > FPR_GOAL:
            return None
        for d in rows:
            if power_of(d) >= POWER_GOAL:
                return {"requested_ns": d["requested_ns"], "added_ns": d["added_ns"], "share": d["share"]}
        return None

    m = mde(lambda d: d["power"], main["fpr"])
    # The fewest repetitions that meet the goal: the ladder of k, each judged afresh.
    ladder = []
    for kk in sorted(set(K_LADDER) | {k}):
        if kk > n // 2:
            break
        r = main if kk == k else at(kk)
        ladder.append({"k": kk, "seconds": kk * per_rep_s, "false_positive_rate": r["fpr"],
                       "power": {str(arms[j]["inject_ns"]): r["power"][j] for j in deltas}})
    # The goal's delta: the largest delay tried that is at most 1% of a fault (as measured).
    small = [d for d in rows if d["share"] <= MDE_GOAL]
    goal_row = max(small, key=lambda d: d["requested_ns"]) if small else None
    fewest = None
    if goal_row:
        for L in ladder:
            if L["false_positive_rate"] <= FPR_GOAL and L["power"][str(goal_row["requested_ns"])] >= POWER_GOAL:
                fewest = L
                break
    twin_log = np.log(ratios[:, twin - 1])
    base_cv = float(np.std(vals[:, 0], ddof=1) / np.mean(vals[:, 0]))
    drift = _smoothed_share([(r.sb.get("started_s"), x / per_fault) for r, x in
                             zip([r for r in s.reps if r.valid], vals[:, 0])]) \
        if all(r.sb.get("started_s") is not None for r in s.reps if r.valid) else None
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
        "mde_with_threshold": mde(lambda d: d["power_with_threshold"], 0.0),
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
    return _render_tail(lines, doc, path, f"minimum detectable effect (k={doc['experiment_reps']})",
                        f"power >= {POWER_GOAL * 100:.0f}% at <= {FPR_GOAL * 100:.0f}% false positives",
                        f"or the false-positive rate above {FPR_GOAL * 100:.0f}%", " for the pool",
                        f"+1% of a fault found with >= {g['power_min'] * 100:.0f}% power at <= "
                        f"{g['fpr_max'] * 100:.0f}% false positives within {g['wall_s_max']} s", "separate sets")


def analyse(R, k=DEFAULT_K, metric="p50", experiments=EXPERIMENTS, seed=stats.SEED):
    """A calibrate run of either design."""
    s = _interleaved_set(R)
    if s is not None:
        return analyse_interleaved(R, s, k, metric, experiments, seed)
    return analyse_sets(R, k, metric, experiments, seed)


def render(doc, path):
    return render_interleaved(doc, path) if doc.get("design") == "interleaved" else render_sets(doc, path)

def check_options(args):
    for flag, v, least in (("-k/--experiment-reps", args.experiment_reps, 2), ("--experiments", args.experiments, 1),
                           ("--pages", args.pages, 1), ("--pool", args.pool, 3)):
        if v is not None and v < least:
            raise ResultError(f"{flag} {v}: at least {least}")


def main(args):
    t0 = time.monotonic()
    check_options(args)
    if args.between_runs is not None or args.from_runs:
        if args.between_runs is not None and args.between_runs < 2:
            raise ResultError(f"--between-runs {args.between_runs}: at least 2 runs")
        runs = [os.path.realpath(p) for p in args.from_runs or []]
        twice = sorted({p for p in runs if runs.count(p) > 1})
        if twice:  # one run given twice would pass for two runs that agree perfectly
            raise ResultError(f"--from-runs: {', '.join(twice)} given more than once; give each run once")
        if args.out:
            check_file(args.out)
        if not args.from_runs:
            measuring_problem(args, between_runs.SUITE)
        from analysis import compare_options  # compare's threshold rule, for one file per side
        opts = compare_options.CompareOptions(metric=args.metric)
        return between_runs.main(args, lambda R: compare_options.within_run_threshold(opts, R))
    if args.out:
        check_file(args.out)
    if not args.from_run:
        measuring_problem(args, DESIGN_SUITES[args.design])
    if not (args.from_run and args.out):
        store.prepare_calibrations_dir()
    if args.from_run:
        run_file = args.from_run
    else:
        run_file = store.new_run_path()
        measure(args, run_file)
    R = load(run_file)
    out = args.out or store.calibration_path(R.host, R.accelerator, R.date)
    check_file(out)  # before the minute of resampling
    print(f"swapbench calibrate: analysing {run_file} ({args.experiments} experiments per comparison)",
          file=sys.stderr)
    doc = analyse(R, k=args.experiment_reps, metric=args.metric, experiments=args.experiments)
    doc["wall_s_total"] = time.monotonic() - t0
    write_json(out, doc)
    print(render(doc, out))
    return 0

"""`./swapbench calibrate`: how small a slowdown can this machine resolve, and how often does it
cry wolf?

One run of the `calibrate` suite (bench/scenario.cpp) interleaves seven arms of the same zswap
swap-in set: A, an identical twin A' and A + 25/50/100/200/400 ns busy-waited inside every timed
fault. From each arm's pool of repetitions we draw many experiments of K repetitions (K = what a
user's run has by default) and judge each with the very rule `compare` uses:
  - the A/A false-positive rate: A against A' found slower or faster;
  - the power at each delta: A against A+delta found slower;
  - the minimum detectable effect: the smallest delta found with at least 95% power.
The noise threshold stored for `compare` is the 95th percentile of |A'/A - 1| over the A/A
experiments: what two identical K-repetition sets differ by 19 times out of 20 on this machine.
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np

from analysis import metrics, stats, store
from analysis.errors import ResultError
from analysis.load import load
from analysis.output import fmt_ns, table
from analysis.writer import check_file, write_json

POWER_GOAL = 0.95     # "detectable": found slower in at least 95% of experiments
FPR_GOAL = 0.05       # the A/A false-positive rate the issue sets as acceptable
MDE_GOAL = 0.01       # 1% of the per-fault cost
WALL_GOAL_S = 120     # within 2 minutes of measurement
EXPERIMENTS = 400     # resampled experiments per comparison: the rates' standard error is <= 2.5 points
DEFAULT_K = 10        # the quick suite's repetitions: what a user's compare sees by default
# Bootstrap resamples per experiment: fewer than compare's 4000, because here only the share of
# hundreds of experiments called slower matters, not one interval's ends to the last 0.1%.
RESAMPLES = 1000


def add_arguments(p):
    p.add_argument("--out", metavar="FILE",
                   help="calibration file (default: results/calibration/<host>-<accelerator>-<UTC>.json, "
                        "where compare looks)")
    p.add_argument("--compressor", default="lzo",
                   help="zswap compressor of the calibrated set (default lzo: the one every kernel has)")
    p.add_argument("--pages", type=int, help="pages per set (default: the suite's 8192, as in the quick suite)")
    p.add_argument("--pool", type=int,
                   help="repetitions measured per arm (default: the suite's 40; 7 arms x 40 take about a minute here)")
    p.add_argument("-k", "--experiment-reps", type=int, default=DEFAULT_K,
                   help="repetitions per side of one simulated comparison (default %(default)s, the quick suite's)")
    # The calibrated arms are swap-in sets: only what a swap-in set has can be calibrated.
    p.add_argument("--metric", default="p50", help="as in compare (default p50)",
                   choices=sorted(n for n in metrics.statistics() if metrics.get(n).applies_to("swapin")))
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


def measure(args, run_out):
    binary = os.environ.get("SWAPBENCH_BIN")
    if not binary:
        raise ResultError("SWAPBENCH_BIN is not set: run calibrate through ./swapbench calibrate")
    cmd = [binary, "run", "--suite", "calibrate", "--compressor", args.compressor, "--out", run_out]
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
        if s.kind == "swapin":
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
    pts.sort()
    y = np.array([x for _, x in pts])
    if len(y) < 20:
        return None
    smooth = np.array([np.median(y[max(0, i - 4):i + 5]) for i in range(len(y))])
    return float(np.var(smooth) / np.var(y)) if np.var(y) > 0 else 0.0


def analyse(R, k=DEFAULT_K, metric="p50", experiments=EXPERIMENTS, seed=stats.SEED):
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


def render(doc, path):
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
    m = doc["mde"]
    lines.append("")
    if m:
        lines.append(f"minimum detectable effect: {m['added_ns']:.0f} ns = {m['share'] * 100:.2f}% of a fault "
                     f"(asked +{m['requested_ns']} ns; power >= {POWER_GOAL * 100:.0f}%)")
    else:
        lines.append(f"minimum detectable effect: above the largest delay tried (no delta reached "
                     f"{POWER_GOAL * 100:.0f}% power)")
    lines.append(f"measurement: {doc['measurement_wall_s']:.0f} s")
    g = doc["goal"]
    lines.append(f"goal (MDE <= {g['mde_share_max'] * 100:.0f}% of a fault, FPR <= {g['fpr_max'] * 100:.0f}%, "
                 f"<= {g['wall_s_max']} s): {'met' if g['met'] else 'NOT met'}")
    lines += [f"  - {x}" for x in doc["limits"]]
    lines.append(f"stored: {path} (compare's default threshold for results from this machine and accelerator)")
    return "\n".join(lines)


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
        if args.out:
            check_file(args.out)
        from analysis import between_runs, compare  # compare's threshold rule, for one file per side
        ns = argparse.Namespace(threshold=None, metric=args.metric, calibrations=None)
        return between_runs.main(args, lambda R: compare.within_run_threshold(ns, R))
    if args.out:
        check_file(args.out)
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

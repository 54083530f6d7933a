"""`./swapbench calibrate --between-runs N`: how far apart do separate runs of the same kernel land
on this machine?

Runs the quick suite N times, each a separate process (what a user's base.json and patched.json
are), and measures the A/A spread between them, per set present and valid in every run:
  - every pair of runs (i < j) judged as `compare A.json B.json` judges one file per side: the
    share of pairs called within noise at the threshold compare would use, per set and overall;
  - the between-run threshold: the 95th percentile of |median_j / median_i - 1| over all pairs,
    per set and for the calibrated set (zswap swap-in with the calibrated compressor), which compare
    then uses for one-run-per-side comparisons of this machine (per set where the calibration has the
    set, else the calibrated set's; never below the within-run threshold);
  - with 4 runs or more, what a user of that threshold would see, judged out of sample: each pair
    (i, j) at the threshold a calibration made from the OTHER runs would give (leave the pair's two
    runs out, so no pair judges itself), the share of A/A pairs within noise, and the share of pairs
    in which +400 ns added to run j's calibrated set is found;
  - whether the host's CPU speed explains the drift: the reference loop per run against the
    calibrated set's median;
  - with 4 runs or more: the first half of the runs against the second half, and the runs
    alternated (odd against even), by compare's several-runs rule (the hierarchical bootstrap),
    each also with +400 ns added to every repetition of side B's calibrated set (a constructed
    shift: added to the measured figures, not measured; it says whether the rule still finds a
    shift of that size).
The issue's goal: at least 95% of pairs within noise over 8 or more runs, +400 ns still found. It is
judged on the out-of-sample share (compare's behaviour once calibrated) and on the shift found by
a split whose A/A is clean.
"""
import itertools
import os
import subprocess
import sys
import time

import numpy as np

from analysis import environment, manifest, provenance, stats, store
from analysis.errors import ResultError
from analysis.load import load
from analysis.output import table
from analysis.writer import check_file, write_json

SCHEMA = store.BETWEEN_RUNS_SCHEMA
# The runs measured: the suite a user runs and compares.
SUITE = manifest.load().suite("quick").name
PAIR_GOAL = 0.95     # share of A/A pairs called within noise (the calibration's goal)
MIN_RUNS_GOAL = 8    # the goal is stated over all pairs of at least 8 runs
SHIFT_NS = 400       # the shift that must still be found (the calibration's goal)


def measure(args, n, stamp):
    """Runs the quick suite n times; returns the result paths."""
    binary = environment.from_env("SWAPBENCH_BIN", "program")
    if not binary:
        raise ResultError("SWAPBENCH_BIN is not set: run calibrate through ./swapbench calibrate")
    paths = []
    for i in range(n):
        out = os.path.join(store.calibrations_dir(), f"between-{stamp}-{i + 1:02d}.json")
        cmd = [binary, "run", "--suite", SUITE, "--compressor", args.compressor, "--out", out]
        if args.pages:
            cmd += ["--pages", str(args.pages)]
        if args.pool:
            cmd += ["--repetitions", str(args.pool)]
        print(f"swapbench calibrate: run {i + 1}/{n}: " + " ".join(cmd[1:]), file=sys.stderr)
        try:
            rc = subprocess.run(cmd, stdout=sys.stderr).returncode
        except OSError as e:
            raise ResultError(f"SWAPBENCH_BIN={binary}: cannot run it ({e.strerror})") from None
        if rc != 0:
            raise ResultError(f"between-runs run {i + 1} failed (exit {rc}); see above")
        paths.append(out)
    return paths


def _key_set(common, compressor):
    """The calibrated set: the quick suite's zswap swap-in with the calibrated compressor."""
    for n in common:
        if n.startswith(f"swapin/zswap/{compressor}/") and n.count("/") == 4:
            return n
    return None


def analyse(runs, threshold, metric="p50", compressor="lzo", resamples=1000):
    """runs: loaded results of the same kernel on this machine. threshold: what compare would use
    for one file per side (the within-run calibration, else its default)."""
    if len(runs) < 2:
        raise ResultError(f"{len(runs)} run(s): the spread between runs needs at least 2")
    common = [n for n in runs[0].sets
              if all(n in R.sets and not R.sets[n].invalid_reason() and R.sets[n].values(metric).size >= 2
                     for R in runs)]
    if not common:
        raise ResultError("no set is valid with 2 or more repetitions in every run")
    key = _key_set(common, compressor)
    vals = {n: [R.sets[n].values(metric) for R in runs] for n in common}
    pairs = list(itertools.combinations(range(len(runs)), 2))
    per_set, all_ratios_key, calls, judged = {}, [], 0, {}
    for n in common:
        v = vals[n]
        within, ratios = 0, []
        judged[n] = {}
        for i, j in pairs:
            r = stats.compare_samples(v[i], v[j], threshold, resamples=resamples)
            within += r["verdict"] == stats.NOISE
            ratios.append(float(r["ratio"]))
            judged[n][(i, j)] = r
        calls += len(pairs) - within
        per_set[n] = {"pairs": len(pairs), "within_noise": within, "share_within_noise": within / len(pairs),
                      "max_abs_change": float(np.max(np.abs(np.array(ratios) - 1))),
                      "between_run_threshold": _q95(ratios),
                      "run_medians": [float(np.median(x)) for x in v]}
        if n == key:
            all_ratios_key = ratios
    share = 1 - calls / (len(pairs) * len(common))
    doc = {"schema": SCHEMA, "runs": [R.path for R in runs], "n_runs": len(runs), "metric": metric,
           "machine": {"host": runs[0].host, "cpu_model": runs[0].sb.get("cpu_model", "unknown"),
                       "accelerator": runs[0].accelerator, "kernel": runs[0].kernel},
           "date": max(R.date for R in runs), "threshold_used": threshold, "pairs": len(pairs),
           "share_within_noise": share, "per_set": per_set, "calibrated_set": key,
           "between_run_threshold": _q95(all_ratios_key) if all_ratios_key else None,
           "goal": {"share_within_noise_min": PAIR_GOAL, "runs_min": MIN_RUNS_GOAL}}
    doc["host"] = _host(runs, key, metric) if key else None
    doc["halves"] = _halves(runs, vals, key, threshold, resamples) if len(runs) >= 4 else None
    doc["out_of_sample"] = (_out_of_sample(vals, judged, pairs, key, threshold, resamples)
                            if len(runs) >= 4 else None)
    h, o = doc["halves"], doc["out_of_sample"]
    # +400 ns must be found by a split of the runs whose A/A is clean (halves, or alternated).
    found = bool(h) and any(x["aa_within_noise_share"] == 1.0 and x.get("shift_found") for x in (h, h["alternated"]))
    doc["goal"]["met"] = bool(len(runs) >= MIN_RUNS_GOAL and o and o["share_within_noise"] >= PAIR_GOAL and found)
    return doc


def _host(runs, key, metric):
    """Does the host's CPU speed explain the drift between runs? The reference loop timed between
    the calibrated set's faults (workloads/measure/host_ref.h), per run, against the set's own median."""
    loops = [R.sets[key].host_ref_ns() for R in runs]
    if any(x.size == 0 for x in loops):
        return None
    ref = [float(np.median(x)) for x in loops]
    med = [float(np.median(R.sets[key].values(metric))) for R in runs]
    spread = lambda v: max(v) / min(v) - 1  # noqa: E731
    corr = float(np.corrcoef(ref, med)[0, 1]) if np.std(ref) > 0 and np.std(med) > 0 else None
    return {"set": key, "run_ref_ns": ref, "ref_spread": spread(ref), "set_spread": spread(med),
            "correlation": corr}


def _q95(ratios):
    return float(np.quantile(np.abs(np.array(ratios, dtype=float) - 1), 0.95))


def _out_of_sample(vals, judged, pairs, key, threshold, resamples):
    """Each pair judged as compare would judge it after a between-run calibration made from the other
    runs: threshold = max(within-run threshold, 95th percentile of |ratio - 1| over the pairs of the
    runs other than i and j, of the same set). A calibration made from the pair itself would call it
    within noise by construction; leaving its runs out measures what a new pair of runs would get."""
    within, total, per_set = 0, 0, {}
    shift_found, shift_total = 0, 0
    for n, res in judged.items():
        ok = 0
        for i, j in pairs:
            others = [abs(float(res[p]["ratio"]) - 1) for p in pairs if i not in p and j not in p]
            thr = max(threshold, float(np.quantile(others, 0.95)))
            r = res[(i, j)]
            ok += stats.verdict(r["ci_low"], r["ci_high"], r["p"], thr) == stats.NOISE
            if n == key:
                v = vals[n]
                s = stats.compare_samples(v[i], np.asarray(v[j], dtype=float) + SHIFT_NS, thr, resamples=resamples)
                shift_found += s["verdict"] == stats.SLOWER
                shift_total += 1
        per_set[n] = {"within_noise": ok, "pairs": len(pairs)}
        within += ok
        total += len(pairs)
    return {"rule": "each pair at the threshold calibrated from the other runs (its two runs left out)",
            "share_within_noise": within / total, "per_set": per_set,
            "shift_ns": SHIFT_NS, "shift_pairs": shift_total,
            "shift_found_share": (shift_found / shift_total) if shift_total else None,
            "shift_note": "constructed: +400 ns added to every repetition of the later run of each pair, "
                          "one run per side"}


def _halves(runs, vals, key, threshold, resamples):
    """First half of the runs against the second, by compare's several-runs rule; and the same with
    SHIFT_NS added to the second half's calibrated set (constructed, not measured). Also the runs
    alternated (odd against even), as a user running base and patched in turn would have them:
    a drift over minutes then falls on both sides alike."""
    h = len(runs) // 2
    out = {"runs_per_side": h}
    out.update(_split(vals, key, threshold, resamples, lambda v: (v[:h], v[h:2 * h])))
    out["alternated"] = _split(vals, key, threshold, resamples, lambda v: (v[0:2 * h:2], v[1:2 * h:2]))
    return out


def _split(vals, key, threshold, resamples, sides):
    verdicts = {n: stats.compare_runs(*sides(v), threshold, resamples=resamples)["verdict"]
                for n, v in vals.items()}
    out = {"aa_verdicts": verdicts,
           "aa_within_noise_share": sum(x == stats.NOISE for x in verdicts.values()) / len(verdicts)}
    if key:
        v = vals[key]
        a, b = sides(v)
        r = stats.compare_runs(a, [x + SHIFT_NS for x in b], threshold, resamples=resamples)
        out.update(shift_ns=SHIFT_NS, shift_share=SHIFT_NS / float(np.median(np.concatenate(v))),
                   shift_verdict=r["verdict"], shift_ci=[r["ci_low"], r["ci_high"]],
                   shift_found=r["verdict"] == stats.SLOWER,
                   shift_note="constructed: +400 ns added to every repetition's figure of side B's runs")
    return out


def render(doc, path):
    lines = [f"between-run A/A on {doc['machine']['host']} ({doc['machine']['cpu_model']}, "
             f"{doc['machine']['accelerator']}, kernel {doc['machine']['kernel']}): {doc['n_runs']} runs, "
             f"{doc['pairs']} pairs, metric {doc['metric']}, threshold {doc['threshold_used'] * 100:.2f}% "
             "(compare's for one file per side)", ""]
    oos = (doc.get("out_of_sample") or {}).get("per_set", {})
    rows = [[n, f"{s['within_noise']}/{s['pairs']}",
             f"{oos[n]['within_noise']}/{oos[n]['pairs']}" if n in oos else "-",
             f"{s['max_abs_change'] * 100:.1f}%", f"{s['between_run_threshold'] * 100:.2f}%",
             " ".join(f"{m:.0f}" for m in s["run_medians"])] for n, s in doc["per_set"].items()]
    lines.append(table(["set", f"within noise at {doc['threshold_used'] * 100:.2f}%", "once calibrated",
                        "largest |B/A-1|", "between-run thr", "run medians (ns)"], rows))
    lines.append(f"\npairs called within noise, all sets: {doc['share_within_noise'] * 100:.1f}% "
                 f"(goal >= {PAIR_GOAL * 100:.0f}% over >= {MIN_RUNS_GOAL} runs)")
    if doc["between_run_threshold"] is not None:
        lines.append(f"between-run threshold ({doc['calibrated_set']}): {doc['between_run_threshold'] * 100:.2f}% "
                     "(95th percentile of |B/A - 1| over pairs); compare uses it for one run per side")
    o = doc.get("out_of_sample")
    if o:
        lines.append(f"once calibrated (out of sample: {o['rule']}): {o['share_within_noise'] * 100:.1f}% of A/A "
                     "pairs within noise"
                     + (f"; +{o['shift_ns']} ns (constructed) found in {o['shift_found_share'] * 100:.0f}% of "
                        f"{o['shift_pairs']} pairs, one run per side" if o["shift_pairs"] else ""))
    hr = doc.get("host")
    if hr:
        lines.append(f"host CPU speed between runs (reference loop in {hr['set']}): {hr['ref_spread'] * 100:.1f}% "
                     f"apart at most, against {hr['set_spread'] * 100:.1f}% for the set's median"
                     + (f" (correlation {hr['correlation']:.2f})" if hr["correlation"] is not None else "")
                     + ("; the drift is not the CPU's speed, so the reference loop cannot correct it"
                        if hr["set_spread"] > 2 * hr["ref_spread"] else ""))
    h = doc["halves"]
    if h:
        for label, x in (("halves (first against second", h), ("alternated (odd against even", h.get("alternated"))):
            if not x:
                continue
            lines.append(f"{label}, {h['runs_per_side']} runs per side, hierarchical bootstrap): "
                         f"{x['aa_within_noise_share'] * 100:.0f}% of sets within noise; +{x.get('shift_ns')} ns "
                         f"({x.get('shift_share', 0) * 100:.1f}% of a fault, constructed) "
                         f"{'found' if x.get('shift_found') else 'NOT found'}: {x.get('shift_verdict')}"
                         + (f" (B/A interval [{x['shift_ci'][0]:.3f}, {x['shift_ci'][1]:.3f}])"
                            if x.get("shift_ci") else ""))
    if doc["n_runs"] < MIN_RUNS_GOAL:
        lines.append(f"only {doc['n_runs']} runs: the goal is judged over >= {MIN_RUNS_GOAL} (a quiet machine)")
    lines.append(f"goal: {'met' if doc['goal']['met'] else 'NOT met'}")
    lines.append(f"stored: {path}")
    return "\n".join(lines)


def main(args, threshold_for):
    """threshold_for(R) -> (threshold, source), compare's own choice for one file per side."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    if args.from_runs:
        paths = args.from_runs
    else:
        store.prepare_calibrations_dir()
        paths = measure(args, args.between_runs, stamp)
    runs = [load(p) for p in paths]
    thr, _ = threshold_for(runs[0])
    doc = analyse(runs, thr, args.metric, args.compressor)
    out = args.out or os.path.join(store.calibrations_dir(), f"{runs[0].host}-{runs[0].accelerator}-between-"
                                   f"{doc['date'].replace('-', '').replace(':', '')}.json")
    check_file(out)
    doc["swapbench"] = provenance.stamp()  # the build that analysed, as a result records the one that measured
    write_json(out, doc)
    print(render(doc, out))
    return 0

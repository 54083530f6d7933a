"""`./swapbench compare A.json B.json`: is B's difference from A real?

First what differs between the two runs (kernel, compressor, zpool, CPU, pinning, zswap
parameters, accelerator), then per set present in both: medians over repetitions, B/A with a 95%
bootstrap interval, the Mann-Whitney U p-value and a verdict in the metric's own direction
(analysis/metrics.py); sets with a check (race: stale pages) are checked whatever the metric.
When both files carry instruction counts (swapbench.exact), a second table follows with
their own rule (analysis/exact.py): more / fewer instructions or identical, beside the timed
verdicts, never merged with them. Exit status: 0 no regression, 1 a set slower beyond the
threshold, a failed check or more instructions counted, 2 an error (bad input, refused sets,
counts from different QEMU versions, CPU models, icount modes or sources).
"""
import os
from dataclasses import dataclass, field

import numpy as np

from analysis import exact, metrics, paired, provenance, stats
from analysis.compare_options import CompareOptions, check_options, resolve_threshold
from analysis.errors import ResultError
from analysis.compare_render import render_markdown, render_text
from analysis.load import load
from analysis.writer import check_file, write_json, write_text

SCHEMA = "swapbench-compare/2"
FAILED, FIXED, PASSED = "FAILED", "fixed", "passed"  # a check's verdicts: B non-zero, only A non-zero, both 0

EXIT_OK, EXIT_REGRESSION, EXIT_ERROR = 0, 1, 2


def add_arguments(p):
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="A.json B.json (one run per side); RUN.json alone: each arm of its page-interleaved sets "
                        "against the base arm, paired; A1.json A2.json ... -- B1.json B2.json ... (several "
                        "runs per side, options before the --); or two folders, each holding one side's runs")
    p.add_argument("--metric", default=CompareOptions.metric, choices=sorted(metrics.statistics()),
                   help="per-repetition statistic compared (default %(default)s: the median page, robust to the "
                        "few slow pages a repetition can catch)")
    p.add_argument("--threshold", type=float, metavar="PCT",
                   help="noise threshold in percent: a change is reported only when the whole interval is "
                        "beyond it (default: this machine's calibrated value, else 1%%)")
    p.add_argument("--alpha", type=float, default=CompareOptions.alpha,
                   help="significance level for Mann-Whitney U (default %(default)s)")
    p.add_argument("--force", action="store_true",
                   help="compare even when the scenarios or the accelerators differ, or the instruction "
                        "counts come from different QEMU versions, CPU models, icount modes or sources "
                        "(such figures are not comparable; the output says so)")
    p.add_argument("--ignore-invalid", action="store_true",
                   help="compare the valid sets and exit 0/1 on them; invalid sets are still listed")
    p.add_argument("--calibrations", metavar="DIR",
                   help="where calibrations are looked up (default: results/calibration)")
    p.add_argument("--json", metavar="FILE", help="also write the comparison as JSON")
    p.add_argument("--markdown", metavar="FILE", help="also write the comparison as Markdown")


def context_diff(A, B):
    """(field, A's value, B's value) for everything that says where and how each ran."""
    def sets_attr(R, attr):
        return ",".join(sorted({str(getattr(s, attr)) for s in R.sets.values() if getattr(s, attr) not in (None, "none")})) or "-"

    def zparams(R):
        return R.sb.get("zswap_params_found", {})

    rows = [
        ("host", A.host, B.host),
        ("kernel", A.kernel, B.kernel),
        ("kernel config (fnv1a64)", A.sb.get("kernel", {}).get("config_fnv1a64", ""),
         B.sb.get("kernel", {}).get("config_fnv1a64", "")),
        ("accelerator", A.accelerator, B.accelerator),
        ("cpu", A.sb.get("cpu_model", "?"), B.sb.get("cpu_model", "?")),
        ("pinned cpu", A.sb.get("binding", {}).get("cpu", "?"), B.sb.get("binding", {}).get("cpu", "?")),
        ("compressors", sets_attr(A, "compressor"), sets_attr(B, "compressor")),
        ("zpool", sets_attr(A, "zpool"), sets_attr(B, "zpool")),
        ("injected delay ns", sets_attr(A, "inject_ns"), sets_attr(B, "inject_ns")),
        ("suite", A.sb.get("suite"), B.sb.get("suite")),
        ("repetitions", A.sb.get("repetitions"), B.sb.get("repetitions")),
        ("pages per set", A.sb.get("pages"), B.sb.get("pages")),
        ("date", A.date, B.date),
    ]
    za, zb = zparams(A), zparams(B)
    for k in sorted(set(za) | set(zb)):
        rows.append((f"zswap {k} (found)", za.get(k, "-"), zb.get(k, "-")))
    return [(f, str(a), str(b)) for f, a, b in rows]


# What must be equal between the runs of one side: they are repetitions of one measurement.
SIDE_FIELDS = (("kernel", lambda R: R.kernel), ("accelerator", lambda R: R.accelerator),
               ("cpu", lambda R: R.sb.get("cpu_model", "?")),
               ("kernel config", lambda R: R.sb.get("kernel", {}).get("config_fnv1a64", "")))

ONE_RUN_SCOPE = ("one run per side: the verdict covers within-run noise only (the repetitions of one run share its "
                 "host's state); separate runs on a shared host can differ by far more (40% seen on a cloud VM). Give "
                 "several runs per side (A1.json A2.json ... -- B1.json ...) for a between-run verdict")


def split_sides(argv):
    """(argv without the side separator, side B's paths or None). argparse drops a '--', so the
    sides are split before it parses: options go before the '--', B's paths after it."""
    argv = list(argv)
    if len(argv) > 0 and argv[0] == "compare" and "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, None


def side_paths(args):
    """([A's files], [B's files]) from the positional paths: two files, two folders, or '--'."""
    side_b = getattr(args, "side_b", None)
    if side_b is not None:
        a, b = list(args.paths), list(side_b)
        if not b:
            raise ResultError("nothing after '--': give side B's result files after it (A1.json ... -- B1.json ...)")
    elif len(args.paths) == 2:
        a, b = [args.paths[0]], [args.paths[1]]
    else:
        raise ResultError(f"{len(args.paths)} paths without '--': give A.json B.json, two folders, or "
                          "A1.json A2.json ... -- B1.json B2.json ...")

    def expand(side, tag):
        if len(side) == 1 and os.path.isdir(side[0]):
            files = sorted(os.path.join(side[0], f) for f in os.listdir(side[0]) if f.endswith(".json"))
            if not files:
                raise ResultError(f"{side[0]}: side {tag} is a folder with no .json result in it")
            return files
        for x in side:
            if os.path.isdir(x):
                raise ResultError(f"{x}: a folder among several paths; give one folder per side, or files")
        return side
    return expand(a, "A"), expand(b, "B")


def check_side(runs, tag, force, warnings_):
    """Refuses runs of one side that are not runs of the same kernel on the same machine."""
    for name, get in SIDE_FIELDS:
        vals = sorted({str(get(R)) for R in runs})
        if len(vals) > 1:
            msg = f"the runs of side {tag} differ in {name}: {', '.join(vals)}; a side's runs must measure one thing"
            if not force:
                raise ResultError(msg + " (--force compares them anyway)")
            warnings_.append(msg + " (--force)")


@dataclass
class _Tally:
    """What the per-set pass over the common sets found."""
    rows: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    refused: list = field(default_factory=list)
    few: dict = field(default_factory=dict)           # (side, repetitions) -> sets with fewer than MIN_REPS
    not_compared: dict = field(default_factory=dict)  # kind -> sets without the metric
    host_differs: list = field(default_factory=list)  # (set, host ratio) beyond the threshold


def compare(A, B, opts, more_a=(), more_b=()):
    """Returns the comparison document; raises ResultError for what cannot be compared at all.
    A, B: the first run of each side (context, exact counts, checks); more_a, more_b: further runs,
    which make the timed statistics a hierarchical bootstrap over runs (stats.compare_runs)."""
    warnings_, errors = [], []
    runs_a, runs_b = [A, *more_a], [B, *more_b]
    several = len(runs_a) > 1 or len(runs_b) > 1
    _refuse_other_setups(A, B, runs_a, runs_b, opts, warnings_)
    threshold, source, set_threshold = resolve_threshold(opts, A, B, several)
    common = _common_sets(A, B, runs_a + runs_b, opts, warnings_)
    # Exact counts first: counts that cannot be compared refuse the comparison before any work.
    ex = exact.compare(A, B, common, opts.force)
    warnings_ += ex["warnings"]
    other_machine = _other_machine(runs_a, runs_b, opts, warnings_)
    skip_timed = bool(other_machine) and not opts.force
    metric = metrics.get(opts.metric)
    t = _Tally()
    for n in common:
        _check_set(n, A.sets[n], runs_b, t)
        if not metric.applies_to(A.sets[n].kind):
            t.not_compared.setdefault(A.sets[n].kind, []).append(n)
        elif not skip_timed:
            _time_set(n, runs_a, runs_b, metric, opts, set_threshold.get(n, threshold), several, t)
    warnings_ += _tally_warnings(t, opts.metric, threshold)
    warnings_ += _scope_warnings(A, B, runs_a, runs_b, source, several)
    if skip_timed and not (t.checks or ex["rows"]):
        raise ResultError(f"nothing to compare: the timed figures come from different machines ({other_machine}) "
                          "and neither file has instruction counts or checks (--force compares the timings anyway)")
    if t.refused and not opts.ignore_invalid:
        errors.append("refused sets (invalid or too few repetitions); --ignore-invalid compares the rest")
    return {"schema": SCHEMA, "a": {"path": A.path, "label": A.label(), "paths": [R.path for R in runs_a]},
            "b": {"path": B.path, "label": B.label(), "paths": [R.path for R in runs_b]}, "metric": opts.metric,
            "scope": _scope(runs_a, runs_b, source, several),
            "metric_meaning": metric.meaning, "metric_unit": metric.unit, "metric_direction": metric.direction,
            "metric_kind": metric.kind, "threshold": threshold, "threshold_source": source,
            "alpha": opts.alpha, "confidence": stats.CONFIDENCE, "context": context_diff(A, B),
            "only_in_a": [n for n in A.sets if n not in B.sets], "only_in_b": [n for n in B.sets if n not in A.sets],
            "rows": t.rows, "checks": t.checks, "not_compared": [n for ns in t.not_compared.values() for n in ns],
            "exact": {k: ex[k] for k in ("rows", "context", "not_compared", "rule")},
            "refused": t.refused, "warnings": warnings_, "errors": errors,
            "exit_status": _exit_status(errors, t, ex["rows"])}


def _forced(msg, force, warnings_):
    """A difference that makes the two sides not comparable: refused, or with --force a warning."""
    if not force:
        raise ResultError(msg + " (--force compares them anyway)")
    warnings_.append(msg + " (--force)")


def _refuse_other_setups(A, B, runs_a, runs_b, opts, warnings_):
    check_side(runs_a, "A", opts.force, warnings_)
    check_side(runs_b, "B", opts.force, warnings_)
    if A.accelerator != B.accelerator:
        _forced(f"accelerators differ: A ran on {A.accelerator}, B on {B.accelerator}; emulated and native "
                "timings are not comparable", opts.force, warnings_)


def _common_sets(A, B, runs, opts, warnings_):
    """The sets every run has, each with the same scenario on both sides (or --force)."""
    common = [n for n in A.sets if all(n in R.sets for R in runs)]
    if not common:
        raise ResultError(f"no set is in both files: A has {', '.join(list(A.sets)[:4])}...; "
                          f"B has {', '.join(list(B.sets)[:4])}...")
    for n in common:
        sa, sb = A.sets[n].scenario(), B.sets[n].scenario()
        if sa != sb:
            diff = ", ".join(f"{k} {sa[k]} vs {sb[k]}" for k in sa if sa[k] != sb[k])
            _forced(f"scenario of {n} differs: {diff}", opts.force, warnings_)
    return common


def _other_machine(runs_a, runs_b, opts, warnings_):
    """What differs between the machines of the two sides, or None. Timings from different machines
    differ by the machines (a reference run made on another CPU model read as 0.45x and 1.43x): not
    a verdict on the kernel. Exact counts and checks keep their own rules."""
    other = machines_differ(runs_a, runs_b)
    if other and opts.force:
        warnings_.append(f"timed figures from different machines ({other}) compared (--force): the "
                         "difference may be the machines', not the kernels'")
    elif other:
        warnings_.append(f"timed figures not compared: they come from different machines ({other}); "
                         "--force compares them anyway")
    return other


def _check_set(n, sa, runs_b, t):
    """The set's checks: every B run is checked, and a stale page in any of them fails."""
    for m in metrics.checks_for(sa.kind):
        cs = [check_row(sa, R.sets[n], m) for R in runs_b]
        c = next((x for x in cs if x.get("verdict") == FAILED), next((x for x in cs if x.get("refused")), cs[0]))
        if c.get("refused"):
            t.refused.append(c["refused"])
        else:
            t.checks.append(c)


def _time_set(n, runs_a, runs_b, metric, opts, thr, several, t):
    """The set's timed row, or its refusal: an invalid run, too few repetitions."""
    bad = [(f"{tag}{i + 1 if several else ''}", R.sets[n].invalid_reason())
           for tag, side in (("A", runs_a), ("B", runs_b)) for i, R in enumerate(side) if R.sets[n].invalid_reason()]
    if bad:
        t.refused += [{"set": n, "file": tag, "reason": why} for tag, why in bad]
        return
    per_run_a = [R.sets[n].values(opts.metric) for R in runs_a]
    per_run_b = [R.sets[n].values(opts.metric) for R in runs_b]
    a, b = np.concatenate(per_run_a), np.concatenate(per_run_b)
    if len(a) < 2 or len(b) < 2:
        t.refused.append({"set": n, "file": "A" if len(a) < 2 else "B",
                          "reason": f"{min(len(a), len(b))} repetition(s): an interval needs at least 2 "
                                    "(run with --repetitions 10)"})
        return
    for tag, v in (("A", a), ("B", b)):
        if len(v) < stats.MIN_REPS:
            t.few.setdefault((tag, len(v)), []).append(n)
    hib = metric.direction == metrics.HIGHER
    if several:
        if min(len(v) for v in per_run_a + per_run_b) < 1:
            t.refused.append({"set": n, "file": "A or B", "reason": "a run without a repetition of this set"})
            return
        r = stats.compare_runs(per_run_a, per_run_b, thr, opts.alpha, higher_is_better=hib)
    else:
        r = stats.compare_samples(a, b, thr, opts.alpha, higher_is_better=hib)
    host = host_ratio([R.sets[n] for R in runs_a], [R.sets[n] for R in runs_b])
    if host is not None and abs(host - 1) > thr:
        t.host_differs.append((n, host))
    sa, sb = runs_a[0].sets[n], runs_b[0].sets[n]
    t.rows.append({"set": n, "id": sa.id.fields(), "reps_a": len(a), "reps_b": len(b),
                   "runs_a": len(runs_a), "runs_b": len(runs_b),
                   "median_a": float(r["median_a"]), "median_b": float(r["median_b"]),
                   "ratio": float(r["ratio"]), "ci_low": float(r["ci_low"]), "ci_high": float(r["ci_high"]),
                   "p": float(r["p"]), "verdict": str(r["verdict"]), "threshold": thr,
                   "outliers_a": stats.tukey_outliers(a), "outliers_b": stats.tukey_outliers(b),
                   "host_ratio": host, "inject_ns_a": sa.inject_ns, "inject_ns_b": sb.inject_ns})


def _tally_warnings(t, metric, threshold):
    out = []
    for (tag, k), names in sorted(t.few.items()):
        which = names[0] if len(names) == 1 else f"{len(names)} sets ({names[0]}, ...)"
        out.append(f"{which}: {tag} has {k} repetitions; below {stats.MIN_REPS} the test has little power "
                   "and a real change may come out 'within noise' (more: --repetitions 10 in run or matrix)")
    for kind, names in t.not_compared.items():
        own = metrics.names_for(kind)
        out.append(f"not compared on {metric}: {', '.join(names)}: {kind} sets have no {metric} "
                   f"(theirs: {', '.join(own) if own else 'none declared in analysis/metrics.py'}"
                   f"{'; checked below' if metrics.checks_for(kind) else ''})")
    if t.host_differs:
        worst = max(t.host_differs, key=lambda x: abs(x[1] - 1))
        out.append(f"the host ran at a different speed on the two sides in {len(t.host_differs)} set(s), by more "
                   f"than the {threshold * 100:.2f}% threshold (worst {worst[0]}: B's host "
                   f"{abs(worst[1] - 1) * 100:.1f}% {'slower' if worst[1] > 1 else 'faster'} than A's, by the "
                   "reference loop timed between faults): a verdict of that size there may be the host's, "
                   "not the kernel's; rerun both sides on a quiet machine, or give several runs per side")
    return out


def _scope_warnings(A, B, runs_a, runs_b, source, several):
    out = []
    if several and min(len(runs_a), len(runs_b)) < 5:
        out.append(f"{len(runs_a)} run(s) of A and {len(runs_b)} of B: with fewer than 5 runs per side the "
                   "bootstrap over runs has few distinct draws and its interval is narrower than the truth; "
                   "8 or more runs per side give a between-run verdict worth its name")
    if source.startswith("calibrated") and A.date != B.date and not several:
        out.append("A and B are separate runs; the calibrated threshold measures noise within one run. On a "
                   "shared host separate runs can differ far more (on a cloud VM, the same kernel's zswap "
                   "swap-in 40% slower an hour later): check with two runs of the same kernel first")
    return out


def _scope(runs_a, runs_b, source, several):
    if several:
        return (f"between runs: hierarchical bootstrap over {len(runs_a)} run(s) of A and {len(runs_b)} of B, "
                "then their repetitions")
    return ONE_RUN_SCOPE + ("; the threshold is this machine's between-run spread" if source.startswith("between-run")
                            else "; ./swapbench calibrate --between-runs 8 measures this machine's "
                                 "between-run spread, which compare then uses")


def _exit_status(errors, t, exact_rows):
    if errors or not (t.rows or t.checks or exact_rows):
        return EXIT_ERROR
    worse = (any(r["verdict"] == stats.SLOWER for r in t.rows) or any(c["verdict"] == FAILED for c in t.checks)
             or any(exact.is_worse(r) for r in exact_rows))
    return EXIT_REGRESSION if worse else EXIT_OK


def machines_differ(runs_a, runs_b):
    """What differs between the machines that timed the two sides ("CPU model: A x, B y"), or None.
    A field unknown on either side (older guest results) is not held against them."""
    diffs = []
    for i, what in ((0, "host"), (1, "CPU model")):
        va = {R.timing_machine()[i] for R in runs_a} - {None, "", "unknown", "?"}
        vb = {R.timing_machine()[i] for R in runs_b} - {None, "", "unknown", "?"}
        if va and vb and va != vb:
            diffs.append(f"{what}: A {', '.join(sorted(va))}, B {', '.join(sorted(vb))}")
    return "; ".join(diffs) or None


def host_ratio(sets_a, sets_b):
    """B's host reference over A's for one set, over every run of each side (>1: B's host ran
    slower), None where either side has no reference (results made before workloads/measure/host_ref.h)."""
    ha = np.concatenate([s.host_ref_ns() for s in sets_a])
    hb = np.concatenate([s.host_ref_ns() for s in sets_b])
    if not ha.size or not hb.size:
        return None
    return float(np.median(hb) / np.median(ha))


def check_row(sa, sb, m):
    """A check metric (any non-zero is a failure) on one set of A and of B. Every repetition counts,
    valid or not: a stale page is the finding itself, and the run marks such a set invalid. A zero
    proves something only in a valid set, so B's zero in an invalid set is refused like a timing."""
    a, b = (float(s.values(m.name, valid_only=False).sum()) for s in (sa, sb))
    if b > 0:
        verdict = FAILED
    else:
        why = next(((tag, s.invalid_reason()) for tag, s in (("A", sa), ("B", sb)) if s.invalid_reason()), None)
        if why and not (why[0] == "A" and a > 0):
            return {"refused": {"set": sa.name, "file": why[0], "reason": why[1]}}
        verdict = FIXED if a > 0 else PASSED
    return {"set": sa.name, "id": sa.id.fields(), "metric": m.name, "a": a, "b": b, "verdict": verdict}


def main(args):
    opts = CompareOptions.from_args(args)
    check_options(opts)
    for path in (args.json, args.markdown):
        if path:
            check_file(path)  # before the work: a bad output path must not cost a comparison
    if len(args.paths) == 1 and getattr(args, "side_b", None) is None and not os.path.isdir(args.paths[0]):
        # One file: the arms of its page-interleaved sets, paired (analysis/paired.py).
        doc = paired.compare_paired(load(args.paths[0]), opts)
        print(paired.render_text(doc))
        if args.json:
            write_json(args.json, {**doc, "swapbench": provenance.stamp()})
        if args.markdown:
            write_text(args.markdown, "```\n" + paired.render_text(doc) + "\n```\n")
        return doc["exit_status"]
    pa, pb = side_paths(args)
    ra, rb = [load(p) for p in pa], [load(p) for p in pb]
    doc = compare(ra[0], rb[0], opts, ra[1:], rb[1:])
    print(render_text(doc))
    if args.json:
        write_json(args.json, {**doc, "swapbench": provenance.stamp()})
    if args.markdown:
        write_text(args.markdown, render_markdown(doc))
    return doc["exit_status"]

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

from analysis import between_runs, environment, manifest, metrics, stats, store
from analysis.calibrate_goals import DEFAULT_K, EXPERIMENTS
from analysis.calibrate_interleaved import analyse_interleaved, interleaved_set, render_interleaved
from analysis.calibrate_sets import analyse_sets, render_sets
from analysis import provenance
from analysis.errors import ResultError
from analysis.load import load
from analysis.writer import check_file, write_json

# The suite each --design measures.
DESIGN_SUITES = {"interleaved": manifest.load().suite("calibrate").name,
                 "sets": manifest.load().suite("calibrate-sets").name}


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


def analyse(R, k=DEFAULT_K, metric="p50", experiments=EXPERIMENTS, seed=stats.SEED):
    """A calibrate run of either design."""
    s = interleaved_set(R)
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
    doc["swapbench"] = provenance.stamp()  # the build that analysed, as a result records the one that measured
    write_json(out, doc)
    print(render(doc, out))
    return 0

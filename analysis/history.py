"""`./swapbench history [DIR]`: one set's metric across kernel releases and dates, as a table and a
plot. Results are grouped by machine (host, CPU model) and accelerator, and groups are never put on
one axis unless --mix asks: figures from a TCG guest and a native host, or from two machines, are
not comparable."""
import os

import numpy as np

from analysis import exact, metrics, plots, store
from analysis.errors import ResultError
from analysis.output import table
from analysis.writer import check_file

DEFAULT_SET = "swapin/zswap/lzo/ratio2/random"  # the quick suite's zswap swap-in: in every default run


def add_arguments(p):
    p.add_argument("folder", nargs="?", metavar="DIR", help="where to look, recursively (default: results/)")
    p.add_argument("--set", default=DEFAULT_SET, help="which set (default %(default)s)")
    p.add_argument("--metric", default="p50",
                   help=f"per-repetition statistic: {', '.join(metrics.statistics())}, or pmu.EVENT (default p50); "
                        f"or an exact count: {', '.join(metrics.exact())}, functions.FUNC.instructions_per_call, "
                        "functions.FUNC.calls_per_op")
    p.add_argument("--mix", action="store_true",
                   help="one table and one plot across machines and accelerators (labelled, not advised)")
    p.add_argument("-o", "--out", metavar="PNG", help="plot file (default: DIR/history-<set>-<metric>.png)")


def collect(results, set_name, metric):
    """(rows, refused): rows of dicts per result holding a valid set_name, oldest first. An exact
    metric (instructions counted) is read from the set's exact block, whatever its
    timings' validity (the counts come from boots of their own), and grouped by what the counts
    depend on (QEMU version, CPU model, icount, source), not by the machine that ran QEMU."""
    rows, refused = [], []
    m = metrics.get(metric)
    for R in results:
        s = R.sets.get(set_name)
        if s is None:
            continue
        if m.counted:
            b = exact.block(s)
            v, _, reps = m.exact_figures(b) if b is not None and m.applies_to(s.kind) else (float("nan"), 0, [])
            if v != v:
                refused.append(f"{R.path}: {set_name}: no {metric} (" +
                               ("no swapbench.exact block: the result had no count pass" if b is None else
                                f"not in its exact block") + ")")
                continue
            prov = exact.provenance({set_name: b})
            rows.append({"group": " / ".join(f"{k} {prov[k]}" for k in exact.COMPARABLE), "kernel": R.kernel,
                         "date": R.date, "accelerator": R.accelerator, "median": v,
                         "low": min(reps, default=v), "high": max(reps, default=v), "reps": len(reps),
                         "path": R.path})
            continue
        why = s.invalid_reason() or (None if m.applies_to(s.kind) else
                                     f"{s.kind} sets have no {metric} (theirs: {', '.join(metrics.names_for(s.kind))})")
        if why:
            refused.append(f"{R.path}: {set_name}: {why}")
            continue
        v = s.values(metric)
        if not len(v):
            refused.append(f"{R.path}: {set_name}: no value of {metric}")
            continue
        rows.append({"group": " / ".join(R.machine_key()), "kernel": R.kernel, "date": R.date,
                     "accelerator": R.accelerator, "median": float(np.median(v)), "low": float(np.min(v)),
                     "high": float(np.max(v)), "reps": len(v), "path": R.path})
    rows.sort(key=lambda r: r["date"])
    return rows, refused


def main(args):
    folder = args.folder or store.results_dir()
    if not os.path.isdir(folder):
        raise ResultError(f"{folder}: not a folder (give the folder holding result files)")
    metric = metrics.get(args.metric)
    out = args.out or os.path.join(folder, f"history-{args.set.replace('/', '_')}-{args.metric}.png")
    check_file(out)  # before reading every result under the folder
    results, skipped = store.list_results(folder)
    rows, refused = collect(results, args.set, args.metric)
    if not rows:
        names = sorted({n for R in results for n in R.sets})
        raise ResultError(f"no valid '{args.set}' in {len(results)} result(s) under {folder}"
                          + (f"; sets found: {', '.join(names[:8])}" if names else "")
                          + (f"; refused: {refused[0]}" if refused else ""))
    groups = {}
    for r in rows:
        groups.setdefault("all results (mixed machines/accelerators)" if args.mix else r["group"], []).append(r)
    for g, rs in groups.items():
        print(f"{args.set} {args.metric} ({'counted; min-max over counted repetitions' if metric.counted else 'median over repetitions; min-max'}) - {g}")
        print(table(["date", "kernel", "accel", args.metric, "min", "max", "reps", "file"],
                    [[r["date"], r["kernel"], r["accelerator"], metric.fmt(r["median"]), metric.fmt(r["low"]),
                      metric.fmt(r["high"]), r["reps"], os.path.relpath(r["path"], folder)] for r in rs]))
        print()
    if len(groups) > 1:
        print(f"{len(groups)} machine/accelerator groups kept apart (--mix puts them on one axis)")
    for x in refused:
        print(f"refused {x}")
    if skipped:
        print(f"{len(skipped)} file(s) under {folder} are not results and were skipped (first: {skipped[0]})")
    scale, unit = (1e3, "us") if metric.unit == "ns" else (1.0, metric.unit)
    if len(groups) > 1 and metric.counted:
        print("exact counts compare only within one QEMU version, CPU model, icount mode and source")
    pts = {g: [(f"{r['kernel']}\n{r['date'][:16]}", r["median"] / scale, r["low"] / scale, r["high"] / scale)
               for r in rs] for g, rs in groups.items()}
    plots.history_plot(pts, out, f"{args.set}: {args.metric} over kernels and dates",
                       f"{args.metric} ({unit}); bars: min-max over repetitions")
    print(f"plot: {out}")
    return 0

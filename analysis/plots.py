"""PNG plots (matplotlib, Agg: no display needed). Every axis names its quantity and unit; invalid
sets never reach a plot (callers pass only valid sets)."""
import io

import numpy as np

from analysis import stats
from analysis.load import SetId
from analysis.output import short_labels
from analysis.writer import write_bytes

DPI = 110
VERDICT_COLOURS = {stats.SLOWER: "tab:red", stats.FASTER: "tab:green", stats.NOISE: "tab:gray"}


def _pyplot():
    """matplotlib's pyplot on the Agg backend, imported at the first chart: importing it sets up a
    config folder, which for a user without a writable home means a warning on stderr, and compare,
    which draws nothing, would print it too."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot
    return matplotlib.pyplot


def _subplots(*args, **kwargs):
    return _pyplot().subplots(*args, **kwargs)


def _save(fig, path):
    """Writes the PNG through the writer and returns its bytes (the report embeds them without
    reading the file back, which may be a FIFO or a device)."""
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    _pyplot().close(fig)
    write_bytes(path, buf.getvalue())
    return buf.getvalue()


def latency_cdf(sets, path, title):
    """One line per set: share of faults at or below each latency, from the merged histograms."""
    fig, ax = _subplots(figsize=(8, 4.8))
    labels, common = short_labels([s.id for s in sets])
    for s, lab in zip(sets, labels):
        h = s.merged_histogram()
        if not h:
            continue
        hi = np.array([b[1] for b in h], dtype=float)
        n = np.cumsum([b[2] for b in h], dtype=float)
        ax.step(hi / 1e3, n / n[-1], where="post", label=lab)
    ax.set_xscale("log")
    ax.set_xlabel("latency per page (us, log scale; timer included)")
    ax.set_ylabel("share of faults at or below (0-1)")
    ax.set_ylim(0, 1.01)
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(title + (f"\n{common}" if common else ""), fontsize=10)
    ax.legend(fontsize=8)
    return _save(fig, path)


def latency_histograms(sets, path, title):
    """Small multiples: each set's share of faults per histogram bucket (log-linear buckets)."""
    n = len(sets)
    cols = 2 if n > 1 else 1
    rows = (n + cols - 1) // cols
    fig, axes = _subplots(rows, cols, figsize=(8, 2.6 * rows), squeeze=False)
    labels, common = short_labels([s.id for s in sets])
    for ax, s, lab in zip(axes.flat, sets, labels):
        h = s.merged_histogram()
        lo = np.array([b[0] for b in h], dtype=float) / 1e3
        hi = np.array([b[1] for b in h], dtype=float) / 1e3
        c = np.array([b[2] for b in h], dtype=float)
        ax.bar(lo, 100 * c / c.sum(), width=hi - lo, align="edge", color="tab:blue")
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(_pyplot().NullFormatter())  # minor labels overlap on narrow ranges
        ax.set_title(lab, fontsize=9)
        ax.set_xlabel("latency per page (us, log)", fontsize=8)
        ax.set_ylabel("faults per bucket (%)", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(title + (f" - {common}" if common else ""), fontsize=10)
    return _save(fig, path)


def swapout_cost(sets, path, title):
    """Per backend/compressor: median over repetitions of the per-page p50 (bar, with the range of
    repetitions) and of p99 (marker)."""
    fig, ax = _subplots(figsize=(8, 4.2))
    labels, common = short_labels([s.id for s in sets])
    x = np.arange(len(sets))
    p50 = [s.values("p50") / 1e3 for s in sets]
    p99 = [np.median(s.values("p99")) / 1e3 for s in sets]
    med = np.array([np.median(v) for v in p50])
    err = np.array([[m - v.min() for m, v in zip(med, p50)], [v.max() - m for m, v in zip(med, p50)]])
    ax.bar(x, med, yerr=err, capsize=4, color="tab:blue", label="p50 (bar: median; whiskers: min-max over repetitions)")
    ax.scatter(x, p99, marker="_", s=400, color="tab:red", label="p99 (median over repetitions)", zorder=3)
    ax.set_xticks(x, labels, rotation=20, fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("swap-out cost per page (us, log scale;\nMADV_PAGEOUT syscall included)")
    ax.set_title(title + (f"\n{common}" if common else ""), fontsize=10)
    ax.grid(True, axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    return _save(fig, path)


def counters_per_fault(sets, path, title):
    """Counters per page: libpfm4 events (as measured) and the kernel's own vmstat deltas."""
    series = {}
    for s in sets:
        for r in s.reps:
            if not r.valid:
                continue
            for ev, v in (r.sb.get("pmu") or {}).items():
                if v is not None:
                    series.setdefault(("pmu", ev), {}).setdefault(s.name, []).append(v)
            pages = r.sb.get("pages") or 1
            for key in ("pgmajfault", "zswpin", "pswpin", "zswpout", "pswpout"):
                v = r.sb.get("deltas", {}).get("vmstat", {}).get(key)
                if v is not None:
                    series.setdefault(("vmstat", key), {}).setdefault(s.name, []).append(v / pages)
    keys = [k for k in series if any(np.median(v) for v in series[k].values())]
    if not keys:
        return None
    fig, axes = _subplots(len(keys), 1, figsize=(8, 1.9 * len(keys) + 0.8), squeeze=False)
    labels, common = short_labels([s.id for s in sets])
    for ax, k in zip(axes.flat, keys):
        vals = [np.median(series[k].get(s.name, [np.nan])) for s in sets]
        ax.barh(np.arange(len(sets)), vals, color="tab:purple" if k[0] == "pmu" else "tab:olive")
        ax.set_yticks(np.arange(len(sets)), labels, fontsize=7)
        unit = "ns per page" if k[1] == "perf::task-clock" else "per page"
        ax.set_xlabel(f"{k[0]} {k[1]} ({unit}, median over repetitions)", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
    fig.suptitle(title + (f" - {common}" if common else ""), fontsize=10)
    return _save(fig, path)


def ab_chart(rows, threshold, path, title, higher_is_better=False):
    """B/A per set with its 95% interval; the shaded band is the noise threshold."""
    fig, ax = _subplots(figsize=(8, 0.45 * len(rows) + 1.6))
    labels, common = short_labels([SetId.of(r["set"], r["id"]) for r in rows])
    y = np.arange(len(rows))
    for i, r in enumerate(rows):
        ax.errorbar(r["ratio"], i, xerr=[[r["ratio"] - r["ci_low"]], [r["ci_high"] - r["ratio"]]], fmt="o",
                    capsize=3, color=VERDICT_COLOURS[r["verdict"]])
    ax.axvspan(1 - threshold, 1 + threshold, color="tab:gray", alpha=0.2, label=f"noise threshold +-{threshold * 100:.2f}%")
    ax.axvline(1.0, color="black", lw=0.8)
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    up = "faster" if higher_is_better else "slower"
    ax.set_xlabel(f"B/A ratio of medians over repetitions (1 = no change, >1 = B {up})\n"
                  "whiskers: 95% bootstrap interval", fontsize=9)
    for v, c in VERDICT_COLOURS.items():
        ax.plot([], [], "o", color=c, label=v)
    ax.legend(fontsize=7, loc="best")
    ax.set_title(title + (f"\n{common}" if common else ""), fontsize=10)
    return _save(fig, path)


def history_plot(groups, path, title, ylabel):
    """groups: {label: [(x_label, value, low, high)]}: one panel per machine group."""
    fig, axes = _subplots(len(groups), 1, figsize=(8, 3.2 * len(groups)), squeeze=False)
    for ax, (g, pts) in zip(axes.flat, groups.items()):
        x = np.arange(len(pts))
        v = np.array([p[1] for p in pts])
        lo = np.array([p[2] for p in pts])
        hi = np.array([p[3] for p in pts])
        ax.errorbar(x, v, yerr=[v - lo, hi - v], fmt="o-", capsize=3)
        ax.set_xticks(x, [p[0] for p in pts], rotation=25, fontsize=7, ha="right")
        ax.set_ylabel(ylabel, fontsize=8)
        ax.set_title(g, fontsize=9)
        ax.grid(True, alpha=0.3)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


EXACT_COLOURS = {"A": "tab:blue", "B": "tab:orange"}


def exact_ab_chart(rows, path, title, xlabel):
    """One quantity (a function's instructions per call, or kernel instructions per operation) in A
    and B, per set: paired bars, each pair labelled with B - A and the exact verdict. Sets where one
    side never called the function show only that side's bar."""
    fig, ax = _subplots(figsize=(8, 0.6 * len(rows) + 1.6))
    labels, common = short_labels([SetId.of(r["set"], r["id"]) for r in rows])
    y = np.arange(len(rows))
    a = np.array([np.nan if r["a"] is None else r["a"] for r in rows], dtype=float)
    b = np.array([np.nan if r["b"] is None else r["b"] for r in rows], dtype=float)
    ax.barh(y - 0.2, np.nan_to_num(a), height=0.38, color=EXACT_COLOURS["A"], label="A")
    ax.barh(y + 0.2, np.nan_to_num(b), height=0.38, color=EXACT_COLOURS["B"], label="B")
    top = np.nanmax(np.concatenate([a, b])) if np.isfinite(np.concatenate([a, b])).any() else 1.0
    for i, r in enumerate(rows):
        note = r["verdict"] if r["delta"] is None else (
            f"{r['delta']:+,.6g}" + ("" if r["delta_pct"] is None else f" ({r['delta_pct']:+.2f}%)") + f"  {r['verdict']}")
        ax.text(top * 1.02, i, note, va="center", fontsize=7)
    ax.set_xlim(0, top * 1.6)
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel + " (counted in the guest; B - A and the exact verdict at right)", fontsize=8)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(title + (f"\n{common}" if common else ""), fontsize=10)
    return _save(fig, path)

"""What swapping the pages costs in CPU: the kernel's own swap-in and swap-out times from this
host's suite results, else the sampler's user-space compressor times; CPUs at a swap-in rate; the
plot of memory saved against cost."""
import os

import numpy as np

from analysis import writer
from analysis.errors import ResultError
from analysis.output import fmt_ns, table

def _median_of_medians_ci(groups, resamples=400, seed=1):
    """95% interval of the median of per-set medians: repetitions resampled inside each set
    (sets are separate measurements; their repetitions are the spread)."""
    rng = np.random.default_rng(seed)
    groups = [np.asarray(g, float) for g in groups if len(g)]
    draws = [float(np.median([np.median(g[rng.integers(0, len(g), len(g))]) for g in groups]))
             for _ in range(resamples)]
    return [float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))]


def kernel_cost(results_dir, host, release, backend="zswap"):
    """Per compressor, the kernel's own swap-in and swap-out p50 (ns) through this backend from the
    newest suite result of this host and kernel, each with a 95% interval from its repetitions:
    (path or None, {compressor: {"swapin_ns", "swapin_ns_ci95", "swapout_ns", ...}})."""
    from analysis.load import load
    best = None
    for name in sorted(os.listdir(results_dir)) if os.path.isdir(results_dir) else []:
        if not name.endswith(".json"):
            continue
        try:
            r = load(os.path.join(results_dir, name))
        except ResultError:
            continue  # not a suite result (a capacity file, a calibration): not a cost source
        if r.host == host and r.kernel == release and (best is None or r.date > best.date):
            best = r
    if best is None:
        return None, {}
    out = {}
    for s in best.sets.values():
        if s.backend != backend or s.kind not in ("swapin", "swapout") or s.invalid_reason():
            continue
        v = s.values("p50")
        if len(v):
            out.setdefault(s.compressor, {}).setdefault(f"{s.kind}_ns", []).append([float(x) for x in v])
    cost = {}
    for c, d in out.items():
        cost[c] = {}
        for k, sets in d.items():
            cost[c][k] = float(np.median([np.median(g) for g in sets]))
            cost[c][f"{k}_ci95"] = _median_of_medians_ci(sets)
    return best.path, cost


def per_page_cpu(doc, kcost, backend, compressor):
    """CPU time one page costs when it is swapped out and back in (ns), with its 95% interval and
    where it comes from: the kernel's own swap-out + swap-in p50 where this host's suite result
    measured both for this backend and compressor, else the user-space compress + decompress p50
    (no interval: one run; it leaves out the kernel's fault and I/O path, so it is a floor)."""
    k = kcost.get(backend, {}).get(compressor, {})
    if "swapin_ns" in k and "swapout_ns" in k:
        ci = [k["swapin_ns_ci95"][0] + k["swapout_ns_ci95"][0], k["swapin_ns_ci95"][1] + k["swapout_ns_ci95"][1]] \
            if "swapin_ns_ci95" in k and "swapout_ns_ci95" in k else [k["swapin_ns"] + k["swapout_ns"]] * 2
        return {"ns": k["swapin_ns"] + k["swapout_ns"], "ns_ci95": ci, "source": f"kernel {backend} swap-out + swap-in p50"}
    c = doc.get("cost", {}).get("per_compressor", {}).get(compressor, {})
    if c.get("compress_ns") and c.get("decompress_ns"):
        ns = c["compress_ns"]["p50"] + c["decompress_ns"]["p50"]
        return {"ns": ns, "ns_ci95": [ns, ns], "source": "user-space compress + decompress p50 (a floor: no fault path)"}
    return None


def cpu_at_rate(cost, row, rate=None, share=None):
    """CPUs one host spends at a swap-in rate: `rate` pages/s, or `share` percent of the pages kept
    out per minute (so the rate follows the row's own kept-out estimate and its interval). Every
    page swapped in was swapped out once: a swap-out plus a swap-in each. Interval: the product of
    the factors' bounds (both positive), wider than either alone."""
    if cost is None or (rate is None and share is None):
        return None
    if rate is not None:
        r, r_ci = float(rate), [float(rate), float(rate)]
    else:
        kept, kept_ci = row["estimate"]["kept_out_pages"], row["ci95"]["kept_out_pages"]
        r, r_ci = share / 100 * kept / 60, [share / 100 * kept_ci[0] / 60, share / 100 * kept_ci[1] / 60]
    return {"rate_pages_per_s": r, "rate_ci95": r_ci, "cpus": r * cost["ns"] / 1e9,
            "cpus_ci95": [r_ci[0] * cost["ns_ci95"][0] / 1e9, r_ci[1] * cost["ns_ci95"][1] / 1e9]}


def render_cpu(rows, rate, share):
    header = ["compressor", "backend/alloc", "per page us", "95%", "pages/s", "CPUs", "CPUs 95%", "cost from"]
    out = []
    for r in rows:
        c, u = r.get("cpu_cost"), r.get("cpu")
        if not c or not u:
            continue
        out.append([r["compressor"], f"{r['backend']}/{r['allocator']}", f"{c['ns'] / 1e3:.2f}",
                    f"[{c['ns_ci95'][0] / 1e3:.2f}, {c['ns_ci95'][1] / 1e3:.2f}]", f"{u['rate_pages_per_s']:.4g}",
                    f"{u['cpus']:.3g}", f"[{u['cpus_ci95'][0]:.3g}, {u['cpus_ci95'][1]:.3g}]", c["source"]])
    what = f"{rate:g} pages/s" if rate is not None else f"{share:g}% of the pages kept out, per minute"
    return "\n".join(["", f"CPU per host at {what} swapped in (and out once before)", table(header, out)])


def render_cost(doc, kcost_path, kcost, rate):
    cost = doc.get("cost", {}).get("per_compressor", {})
    rows = []
    for name, c in cost.items():
        if not c.get("compress_ns"):
            continue
        k = kcost.get(name, {})
        row = [name, fmt_ns(c["compress_ns"]["p50"]), fmt_ns(c["decompress_ns"]["p50"]),
               fmt_ns(k["swapin_ns"]) if "swapin_ns" in k else "-", fmt_ns(k["swapout_ns"]) if "swapout_ns" in k else "-"]
        if rate:
            # Each page read back was written once before: a swap-in and a swap-out per page.
            per_page = (k.get("swapin_ns", c["decompress_ns"]["p50"]) + k.get("swapout_ns", c["compress_ns"]["p50"]))
            row.append(f"{rate * per_page / 1e9:.3f}")
        rows.append(row)
    header = ["compressor", "compress p50", "decompress p50", "kernel swap-in p50", "kernel swap-out p50"]
    if rate:
        header.append(f"CPUs at {rate:g} pages/s")
    lines = ["", f"cost per data page: user space on this CPU (load at the end: {doc.get('cost', {}).get('loadavg_at_end', '?')});"
             f" kernel: {kcost_path or 'no suite result of this host and kernel (run ./swapbench run)'}",
             table(header, rows)]
    if rate:
        lines.append("CPUs: swap-in plus swap-out time per page x the rate (kernel figures where measured, else user "
                     "space); each fault also waits the swap-in time")
    return "\n".join(lines)


def plot_saved_vs_cost(result, doc, kcost, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    cost = doc.get("cost", {}).get("per_compressor", {})
    for r in result["rows"]:
        if r["backend"] != "zswap" or r["allocator"] != "zsmalloc" or not cost.get(r["compressor"], {}).get("compress_ns"):
            continue
        c, k = cost[r["compressor"]], kcost.get(r["compressor"], {})
        x = (k.get("swapin_ns", c["decompress_ns"]["p50"]) + k.get("swapout_ns", c["compress_ns"]["p50"])) / 1e3
        y = r["estimate"]["saved_bytes"] / 2**20
        lo, hi = (v / 2**20 for v in r["ci95"]["saved_bytes"])
        kernel = "swapin_ns" in k and "swapout_ns" in k
        ax.errorbar([x], [y], yerr=[[y - lo], [hi - y]], fmt="o" if kernel else "s", capsize=3,
                    mfc=None if kernel else "none")
        ax.annotate(r["compressor"], (x, y), textcoords="offset points", xytext=(5, 5))
    ax.set_xlabel("swap-out + swap-in per page (us)")
    ax.set_ylabel("memory saved (MiB, zswap/zsmalloc)")
    ax.set_title("memory saved against cost, per compressor\n(filled: kernel swap cost measured; "
                 "hollow: user-space compressor time only)", fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    import io
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    writer.write_bytes(path, buf.getvalue())

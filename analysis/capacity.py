"""./swapbench capacity: how much memory compressed swap would save on these pages, per compressor
and allocator, as a given kernel version stores them; with intervals from the sampling.

Pages come from bench/capacity.cpp (swapbench-capacity): per sampled page its class and its
compressed length under each compressor, kernel-exact. The model (analysis/capacity_model.py)
turns them into stored pages, pool size, metadata and memory saved.

Estimator: each source is a stratum sampled without replacement; a page of stratum h stands for
N_h / n_h pages. Point estimates apply the model to the weighted page mix (the pool's per-class
ceil applied to the estimated counts). Intervals: a stratified bootstrap (resample n_h pages with
replacement inside each stratum, rerun the model, 2.5 and 97.5 percentiles). Bootstrap rather
than a normal interval on a sum because the pool is not a sum over pages (zspage rounding,
zbud pairing) and the ratios are ratios of sums; resampling inside strata keeps the design.
With --all there is no sampling error: the interval is the point.
"""
import json
import os
import signal
import subprocess
import sys

import numpy as np

from analysis import capacity_model as cm
from analysis import environment, writer
from analysis.errors import ResultError
from analysis.output import fmt_ns, table

SCHEMA_VERSION = 1
# 400 resamples: the 2.5/97.5 percentiles move by well under a tenth of the interval's width
# between runs at this count; zbud/z3fold are simulated page by page, so they get fewer.
BOOTSTRAP = 400
BOOTSTRAP_SIMULATED = 40
# Compressors whose zram lengths differ from zswap's, and the sampler's name for zram's version.
ZRAM_VARIANTS = {"zstd": "zstd-zram"}


def _load_capacity(path, kind, accepted):
    """A capacity file of this kind and schema version, or ResultError naming path."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as e:
        raise ResultError(f"{path}: {e.strerror}; accepted: {accepted}") from None
    except json.JSONDecodeError as e:
        raise ResultError(f"{path}: not JSON ({e.msg} at line {e.lineno}); accepted: {accepted}") from None
    head = doc.get("swapbench_capacity") if isinstance(doc, dict) else None
    if not isinstance(head, dict) or head.get("kind") != kind:
        raise ResultError(f"{path}: no swapbench_capacity block of kind '{kind}'; accepted: {accepted}")
    if head.get("schema_version") != SCHEMA_VERSION:
        raise ResultError(f"{path}: schema_version {head.get('schema_version')!r}; accepted: {SCHEMA_VERSION}")
    return doc


def load_pages(path):
    return _checked_pages(_load_capacity(path, "pages", "swapbench-capacity output (a pages file)"), path)


def _checked_pages(doc, path):
    pages = doc.get("pages", {})
    n = pages.get("count")
    if not isinstance(n, int) or len(pages.get("class", [])) != n or len(pages.get("stratum", [])) != n or \
            any(len(v) != n for v in pages.get("length", {}).values()):
        raise ResultError(f"{path}: pages arrays disagree with pages.count; the file is damaged")
    return doc


def weights_of(doc):
    """Per page: how many pages of its source it stands for (N_h / n_h)."""
    strata = np.asarray(doc["pages"]["stratum"], dtype=np.int64)
    w = np.zeros(len(strata))
    for h, src in enumerate(doc["sources"]):
        mask = strata == h
        got = int(mask.sum())
        if got:
            w[mask] = src["population_pages"] / got
    return strata, w


def figures(classes, lengths, w, backend, allocator, version, zs_table):
    """The model's figures for one compressor on (weighted) pages."""
    if backend == "zram":
        out = cm.zram_outcome(classes, lengths, zs_table.huge_class_size, version)
    else:
        out = cm.zswap_outcome(classes, lengths, version, allocator)
    stored = float(np.sum(w * out.stored))
    compressed_pages = float(np.sum(w * (out.pooled_len > 0)))
    compressed_bytes = float(np.sum(w * out.pooled_len))
    pool = cm.pool_figures(out, allocator, zs_table, w)
    meta = stored * cm.entry_bytes(backend, version)
    kept_out = stored + float(np.sum(w * out.zero_elsewhere))  # pages no longer in RAM
    saved = kept_out * cm.PAGE - pool - meta
    return {
        "stored_pages": stored,
        "same_pages": float(np.sum(w * out.same)),
        "zero_outside_pages": float(np.sum(w * out.zero_elsewhere)),
        "rejected_pages": float(np.sum(w * out.rejected)),
        "huge_pages": float(np.sum(w * out.huge)),
        "compressed_bytes": compressed_bytes,
        "pool_bytes": pool,
        "metadata_bytes": meta,
        "kept_out_pages": kept_out,
        "saved_bytes": saved,
        "ratio_compressor": compressed_pages * cm.PAGE / compressed_bytes if compressed_bytes else float("nan"),
        "ratio_with_overhead": kept_out * cm.PAGE / (pool + meta) if pool + meta else float("nan"),
    }


def estimate(doc, version, chain_size=None, bootstrap=BOOTSTRAP, seed=1, compressors=None, subset=None, backends=None):
    """subset: per page, whether it counts (e.g. the cold pages): the others weigh 0, so every
    figure is of the subset's pages in the whole population, with the same stratified bootstrap
    (a resample draws subset and other pages alike, so the subset's size is uncertain too)."""
    classes = np.asarray(doc["pages"]["class"], dtype=np.int64)
    strata, w = weights_of(doc)
    if subset is not None:
        w = np.where(np.asarray(subset, bool), w, 0.0)
    zs = cm.ZsmallocTable(version, chain_size)
    exact = doc["sampling"]["mode"] == "all" or all(s["sampled_pages"] >= s["population_pages"] for s in doc["sources"])
    rng = np.random.default_rng(seed)
    groups = [np.nonzero(strata == h)[0] for h in range(len(doc["sources"]))]
    rows = []
    held = doc["pages"]["length"]
    names = compressors or [c for c in held if c not in ZRAM_VARIANTS.values()]
    for comp in names:
        if comp not in held:
            raise ResultError(f"--compressor {comp}: not in the pages file; it holds {', '.join(held)}")
        for backend, allocator in [("zswap", a) for a in cm.allocators_for(version)] + [("zram", "zsmalloc")]:
            if backends and (backend, allocator) not in backends:
                continue
            # zram's own zstd backend (6.12+) tunes zstd for a page: its lengths, where sampled.
            variant = ZRAM_VARIANTS.get(comp) if backend == "zram" and version >= (6, 12) else None
            lengths = np.asarray(held[variant if variant in held else comp], dtype=np.int64)
            point = figures(classes, lengths, w, backend, allocator, version, zs)
            reps = 0 if exact else (bootstrap if allocator == "zsmalloc" else min(bootstrap, BOOTSTRAP_SIMULATED))
            draws = {k: [] for k in point}
            for _ in range(reps):
                idx = np.concatenate([g[rng.integers(0, len(g), len(g))] for g in groups if len(g)])
                f = figures(classes[idx], lengths[idx], w[idx], backend, allocator, version, zs)
                for k, v in f.items():
                    draws[k].append(v)
            ci = {k: ([float(np.nanpercentile(v, 2.5)), float(np.nanpercentile(v, 97.5))] if v else [point[k], point[k]])
                  for k, v in draws.items()}
            rows.append({"compressor": comp, "backend": backend, "allocator": allocator, "estimate": point,
                         "ci95": ci, "bootstrap": reps})
    return {"rows": rows, "exact": exact, "huge_class_size": zs.huge_class_size, "chain_size": zs.chain_size}


def _median_of_medians_ci(groups, resamples=400, seed=1):
    """95% interval of the median of per-set medians: repetitions resampled inside each set
    (sets are separate measurements; their repetitions are the spread)."""
    rng = np.random.default_rng(seed)
    groups = [np.asarray(g, float) for g in groups if len(g)]
    draws = [float(np.median([np.median(g[rng.integers(0, len(g), len(g))]) for g in groups]))
             for _ in range(resamples)]
    return [float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))]


# /proc/kpageflags through the sampler: the kernel's own LRU lists (bench/capacity.cpp).
LRU_CODES = {0: "unknown", 1: "active", 2: "inactive_referenced", 3: "inactive", 4: "off_lru"}
COLD_CODES = (2, 3)  # the inactive anon list: what reclaim (and so zswap/zram) takes first


def _kernel_config():
    import gzip
    release = os.uname().release
    for path, opener in (("/proc/config.gz", gzip.open), (f"/boot/config-{release}", open)):
        try:
            with opener(path, "rt") as f:
                return {k: v for k, _, v in (line.strip().partition("=") for line in f if line.startswith("CONFIG_"))}, path
        except OSError:
            continue
    return None, None


def coldness_offer(config, exists):
    """What a kernel offers to split pages by how recently they were touched, and whether each way
    is usable on a process the suite does not own (only a read-only way is). config: CONFIG_ name ->
    value (None: unknown); exists: path -> bool. Pure."""
    def on(name):
        return None if config is None else config.get(f"CONFIG_{name}") == "y"
    ways = [
        ("soft-dirty", on("MEM_SOFT_DIRTY"), "CONFIG_MEM_SOFT_DIRTY",
         "clearing the bits (write 4 to /proc/PID/clear_refs) write-protects the process's pages: it faults on its "
         "next writes"),
        ("idle page tracking", on("IDLE_PAGE_TRACKING") or exists("/sys/kernel/mm/page_idle/bitmap"),
         "CONFIG_IDLE_PAGE_TRACKING", "marking pages idle writes page flags machine-wide (/sys/kernel/mm/page_idle/bitmap)"),
        ("DAMON (virtual addresses)", on("DAMON_VADDR"), "CONFIG_DAMON_VADDR",
         "a kernel thread clears the accessed bits in the target's page tables"),
        ("DAMON (physical addresses)", on("DAMON_PADDR") or exists("/sys/kernel/mm/damon/admin"), "CONFIG_DAMON_PADDR",
         "machine-wide, by physical region: not per process, and it clears accessed bits"),
    ]
    lru_gen = exists("/sys/kernel/mm/lru_gen/enabled") or on("LRU_GEN")
    out = {"ways": [{"name": n, "present": bool(p), "option": o, "why_not_used": w} for n, p, o, w in ways],
           "read_only_way": "the kernel's LRU lists: /proc/kpageflags ACTIVE/REFERENCED of each sampled page "
                            "(root; CONFIG_PROC_PAGE_MONITOR)",
           "lru_gen": bool(lru_gen),
           "config_known": config is not None}
    return out


def render_coldness(offer, doc, cold_rows):
    c = doc.get("coldness") or {}
    have = ", ".join(f"{w['name']} {'present' if w['present'] else 'absent (' + w['option'] + ')'}" for w in offer["ways"])
    lines = ["", f"coldness: this kernel: {have}" + ("" if offer["config_known"] else " (kernel config not readable: "
                                                                                       "presence from sysfs only)"),
             "  none of these is read-only (" + "; ".join(f"{w['name']}: {w['why_not_used']}" for w in offer["ways"]) +
             "), so none is used on a process the suite does not own"]
    states = c.get("state")
    if not c.get("available") or not states:
        lines.append(f"  split by the kernel's LRU lists: not available here: {c.get('why_not') or 'no process pages sampled'}")
        return "\n".join(lines)
    if c.get("lru_gen_enabled") not in (None, "", "0", "0x0000"):
        lines.append("  multi-gen LRU is on: the active flag no longer says which pages reclaim takes first; no split")
        return "\n".join(lines)
    _, w = weights_of(doc)
    st = np.asarray(states)
    total = float(w.sum())
    share = {LRU_CODES[k]: float(w[st == k].sum()) / total for k in LRU_CODES if (st == k).any()}
    lines.append("  split by the kernel's own LRU lists (/proc/kpageflags, read only; reclaim swaps the inactive list "
                 "first): " + ", ".join(f"{k} {100 * v:.1f}%" for k, v in share.items()))
    if share.get("active", 0) < 0.005:
        # New anon pages join the inactive list (5.9+); only reclaim's scans promote them, so on a
        # host without memory pressure "inactive" means "never judged", not "cold".
        lines.append("  (almost) no page on the active list: reclaim has not scanned these pages (no memory pressure), so the "
                     "inactive share is an upper bound on the cold set, not a measurement of it")
    if cold_rows:
        header = ["compressor", "backend/alloc", "cold pages", "saved MiB", "saved 95%", "ratio+alloc"]
        rows = [[r["compressor"], f"{r['backend']}/{r['allocator']}", f"{r['estimate']['kept_out_pages']:.0f}",
                 _mib(r["estimate"]["saved_bytes"]),
                 f"[{_mib(r['ci95']['saved_bytes'][0])}, {_mib(r['ci95']['saved_bytes'][1])}]",
                 _ratio(r['estimate']['ratio_with_overhead'])] for r in cold_rows]
        lines.append("  if only the inactive-list pages were swapped:")
        lines.append(table(header, rows))
    return "\n".join(lines)


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


def load_prediction(path):
    return _load_capacity(path, "prediction", "a ./swapbench capacity --json file")


def merge_fleet(docs, rate=None, share=None, names=None):
    """Fleet totals per compressor x backend x allocator over hosts' predictions. Hosts are
    sampled independently, so variances add: each host's 95% interval is read as +-1.96 standard
    deviations (the bootstrap's percentiles, symmetrised), the total's interval is
    +-1.96 sqrt(sum of variances). Rows present on only some hosts are left out (different kernels
    offer different allocators) and listed.

    CPU: each host's CPUs at its own swap-in rate (its file's --swapin-rate/--swapin-share, else
    `rate`/`share` given here) times its own per-page cost (its kernel's measured swap cost where
    its suite measured it), summed the same way. Hosts with no rate at all are named, and the row
    then has no CPU total rather than a total of some hosts."""
    names = names or [f"host {i}" for i in range(len(docs))]
    keyed = {}
    for h, d in enumerate(docs):
        for r in d["rows"]:
            keyed.setdefault((r["compressor"], r["backend"], r["allocator"]), []).append((h, r))
    rows, partial = [], []
    host_mem = [d.get("host_memory_bytes") for d in docs if d.get("host_memory_bytes")]
    no_rate = set()
    for key, hrs in sorted(keyed.items()):
        rs = [r for _, r in hrs]
        if len(rs) != len(docs):
            partial.append("/".join(key))
            continue
        tot = {}
        for fig in ("stored_pages", "zero_outside_pages", "pool_bytes", "metadata_bytes", "saved_bytes", "compressed_bytes"):
            tot[fig] = _sum_with_ci([(r["estimate"][fig], r["ci95"][fig]) for r in rs])
        kept = tot["stored_pages"]["estimate"] + tot["zero_outside_pages"]["estimate"]
        over = tot["pool_bytes"]["estimate"] + tot["metadata_bytes"]["estimate"]
        row = {"compressor": key[0], "backend": key[1], "allocator": key[2], "totals": tot,
               "ratio_with_overhead": kept * cm.PAGE / over if over else float("nan")}
        if host_mem:
            row["hosts_worth_saved"] = tot["saved_bytes"]["estimate"] / (sum(host_mem) / len(host_mem))
        cpus, missing, sources = [], [], set()
        for h, r in hrs:
            u = r.get("cpu")
            if u is None and (rate is not None or share is not None) and "kept_out_pages" in r["estimate"]:
                u = cpu_at_rate(r.get("cpu_cost"), r, rate, share)
            if u is None:
                missing.append(names[h])
                continue
            cpus.append((u["cpus"], u["cpus_ci95"]))
            sources.add(r["cpu_cost"]["source"])
        if missing:
            no_rate.update(missing)
        else:
            row["cpus"] = _sum_with_ci(cpus)
            row["cpu_cost_sources"] = sorted(sources)
        rows.append(row)
    return {"hosts": len(docs), "rows": rows, "left_out": partial, "hosts_without_cpu": sorted(no_rate),
            "host_memory_mean_bytes": sum(host_mem) / len(host_mem) if host_mem else None}


def _sum_with_ci(pairs):
    """Sum of independent estimates, each (estimate, [lo, hi]) read as +-1.96 sd."""
    est = sum(e for e, _ in pairs)
    var = sum(((ci[1] - ci[0]) / 2 / 1.96) ** 2 for _, ci in pairs)
    return {"estimate": est, "ci95": [est - 1.96 * var ** 0.5, est + 1.96 * var ** 0.5]}


def render_fleet(merged):
    header = ["compressor", "backend/alloc", "saved GiB", "95%", "pool GiB", "ratio+alloc", "hosts' worth", "CPUs", "CPUs 95%"]
    rows = []
    for r in merged["rows"]:
        t = r["totals"]
        c = r.get("cpus")
        rows.append([r["compressor"], f"{r['backend']}/{r['allocator']}", _gib(t["saved_bytes"]["estimate"]),
                     f"[{_gib(t['saved_bytes']['ci95'][0])}, {_gib(t['saved_bytes']['ci95'][1])}]",
                     _gib(t["pool_bytes"]["estimate"]), _ratio(r['ratio_with_overhead']),
                     f"{r['hosts_worth_saved']:.2f}" if "hosts_worth_saved" in r else "-",
                     f"{c['estimate']:.3g}" if c else "-",
                     f"[{c['ci95'][0]:.3g}, {c['ci95'][1]:.3g}]" if c else "-"])
    lines = [f"fleet: {merged['hosts']} host(s)", table(header, rows)]
    if merged["left_out"]:
        lines.append("left out (not on every host): " + ", ".join(merged["left_out"]))
    if merged["hosts_without_cpu"]:
        lines.append("no CPU total: no swap-in rate for " + ", ".join(merged["hosts_without_cpu"]) +
                     " (fix: predict with --swapin-rate or --swapin-share, or give one to --merge for hosts without)")
    else:
        lines.append("CPUs: summed over hosts, each host's rate times its per-page swap-out + swap-in cost "
                     "(its kernel's measured cost where its suite measured it, else user-space compressor time)")
    return "\n".join(lines)


def zswap_param(name, default):
    try:
        with open(f"/sys/module/zswap/parameters/{name}") as f:
            return float(f.read().strip())
    except (OSError, ValueError):
        return default


def pool_limit(host_memory, percent, rows):
    """zswap's pool limit on the sampled host, and the zswap rows whose pool would exceed it."""
    percent = percent if percent is not None else zswap_param("max_pool_percent", 20.0)
    out = {"percent": percent, "accept_threshold_percent": zswap_param("accept_threshold_percent", 90.0),
           "host_memory_bytes": host_memory, "limit_bytes": None, "over": []}
    if host_memory:
        out["limit_bytes"] = host_memory * percent / 100
        out["over"] = [f"{r['compressor']}/{r['allocator']}" for r in rows
                       if r["backend"] == "zswap" and r["estimate"]["pool_bytes"] > out["limit_bytes"]]
    return out


def _gib(b):
    return f"{b / 2**30:.3f}"


def _mib(b):
    return f"{b / 2**20:.1f}"


def _ci_pct(est, ci):
    if not est or est != est:
        return "-"
    half = max(abs(ci[1] - est), abs(est - ci[0]))
    return f"±{100 * half / abs(est):.1f}%"


def _ratio(x):
    """A ratio of nothing (no page reached the compressor or the pool) is no number: "-"."""
    return "-" if x != x else f"{x:.2f}"


def render(doc, result, version):
    total_pages = sum(s["population_pages"] for s in doc["sources"])
    lines = [f"pages: {total_pages} present ({_gib(total_pages * cm.PAGE)} GiB) in {len(doc['sources'])} source(s); "
             f"{doc['pages']['count']} sampled ({'every page' if result['exact'] else 'stratified, seed ' + str(doc['sampling']['seed'])})",
             f"model: kernel {version[0]}.{version[1]}, zsmalloc chain {result['chain_size']}, huge class from "
             f"{result['huge_class_size']} bytes; intervals: 95% stratified bootstrap"]
    header = ["compressor", "backend/alloc", "stored", "rejected", "pool MiB", "meta MiB", "saved MiB", "saved ±",
              "ratio", "ratio+alloc", "ratio+alloc 95%"]
    rows = []
    for r in result["rows"]:
        e, ci = r["estimate"], r["ci95"]
        rows.append([r["compressor"], f"{r['backend']}/{r['allocator']}", f"{e['stored_pages']:.0f}", f"{e['rejected_pages']:.0f}",
                     _mib(e["pool_bytes"]), _mib(e["metadata_bytes"]), _mib(e["saved_bytes"]),
                     _ci_pct(e["saved_bytes"], ci["saved_bytes"]), _ratio(e["ratio_compressor"]),
                     _ratio(e["ratio_with_overhead"]),
                     f"[{_ratio(ci['ratio_with_overhead'][0])}, {_ratio(ci['ratio_with_overhead'][1])}]"])
    lines.append(table(header, rows))
    if any(r["estimate"]["ratio_compressor"] != r["estimate"]["ratio_compressor"] for r in result["rows"]):
        lines.append("ratio -: no sampled page reached the compressor (all of them zero or same-filled, stored "
                     "without compression)")
    # The target: every figure within 1%. Interval half-widths shrink as 1/sqrt(n).
    if not result["exact"]:
        worst = 0.0
        for r in result["rows"]:
            if r["backend"] == "zswap" and r["allocator"] == "zsmalloc":
                for k in ("pool_bytes", "saved_bytes"):
                    e, ci = r["estimate"][k], r["ci95"][k]
                    if e:
                        worst = max(worst, max(ci[1] - e, e - ci[0]) / abs(e))
        n = doc["pages"]["count"]
        if worst > 0.01:
            lines.append(f"intervals up to ±{100 * worst:.1f}% (zswap pool, saved): for ±1% sample about "
                         f"--sample {int(n * (worst / 0.01) ** 2) + 1}")
        else:
            lines.append(f"every zswap pool and saved figure within ±{100 * worst:.2f}% (target ±1%)")
    t = doc.get("timing", {})
    if t:
        lines.append(f"sampling took {t.get('elapsed_s', 0):.2f} s ({t.get('seconds_per_gib_sampled', 0):.1f} s per GiB sampled, "
                     "every compressor)")
    return "\n".join(lines)


def running_version():
    return cm.parse_version(os.uname().release)


def running_chain_size():
    """CONFIG_ZSMALLOC_CHAIN_SIZE of the running kernel, or None when its config is not readable."""
    import gzip
    release = os.uname().release
    for path, opener in (("/proc/config.gz", gzip.open), (f"/boot/config-{release}", open)):
        try:
            with opener(path, "rt") as f:
                for line in f:
                    if line.startswith("CONFIG_ZSMALLOC_CHAIN_SIZE="):
                        return int(line.split("=", 1)[1])
        except (OSError, ValueError):
            continue
    return None


def add_arguments(p):
    p.add_argument("--merge", nargs="+", metavar="PREDICTION", help="fleet: merge hosts' --json predictions into "
                                                                     "totals with intervals (nothing is sampled)")
    p.add_argument("--pid", help="processes, comma-separated (their present anonymous and shared-memory pages)")
    p.add_argument("--cgroup", action="append", default=[], help="every process of this cgroup folder")
    p.add_argument("--file", action="append", default=[], help="a raw file, as pages")
    p.add_argument("--core", action="append", default=[], help="an ELF core dump (its PT_LOAD segments)")
    p.add_argument("--sample", type=int, default=16384, help="pages to sample (default 16384: the pool and the saving came within ±1%% at this "
                                                             "size on the heaps measured here; the output says when not, and what size would)")
    p.add_argument("--all", action="store_true", help="every page, no sampling")
    p.add_argument("--seed", type=int, help="sampling seed (default from the clock; recorded)")
    p.add_argument("--pages", help="model this swapbench-capacity pages file instead of sampling")
    p.add_argument("--keep-pages", help="keep the sampler's pages file (per-page lengths, JSON) here, to model "
                                        "again later with --pages")
    p.add_argument("--kernel-version", help="the kernel whose rules apply (default the running one), e.g. 6.1, 6.12")
    p.add_argument("--max-pool-percent", type=float, help="zswap's pool limit, percent of RAM (default this "
                                                          "kernel's parameter, else 20, the kernel's default)")
    p.add_argument("--chain-size", type=int, help="CONFIG_ZSMALLOC_CHAIN_SIZE (default 8 from 6.3, 4 before)")
    p.add_argument("--compressor", help="compressors, comma-separated (default every one in the pages)")
    p.add_argument("--bootstrap", type=int, default=BOOTSTRAP, help=f"bootstrap resamples (default {BOOTSTRAP})")
    p.add_argument("--json", help="write the prediction here (versioned JSON)")
    p.add_argument("--plot", help="write a PNG of memory saved against cost per compressor here")
    p.add_argument("--swapin-rate", type=float, help="pages per second swapped back in (and out) per host: "
                                                     "prints the CPUs that costs per compressor; with --merge, the "
                                                     "rate of hosts whose file has none")
    p.add_argument("--swapin-share", type=float, help="instead of a rate: percent of the pages kept out that are "
                                                      "swapped back in per minute (the rate then follows each row's "
                                                      "estimate); with --merge, for hosts whose file has neither")
    p.add_argument("--results", help="suite results to take the kernel's swap-in/out cost from (default "
                                     "$SWAPBENCH_RESULTS_DIR or results/)")
    p.add_argument("--validate", action="store_true",
                   help="root: push the sampled pages through zswap with every compressor the kernel accepts, and "
                        "through a fresh zram device per compressor zram offers, and compare the kernel's figures "
                        "with the prediction for exactly those pages (with --kernels: in guests, no root)")
    p.add_argument("--kernels", help="with --validate: validate in these kernels booted under QEMU instead of this "
                                     "host (names from kernels-config/kernels.toml, e.g. debian-6.12,debian-6.1); "
                                     "each guest's figures are compared with the model of its own kernel version")
    p.add_argument("--zpool", default="all",
                   help="with --kernels: zswap allocators to validate in each guest, comma-separated (default all: "
                        "zsmalloc, zbud, z3fold, those the guest kernel offers; the others are listed with why)")
    p.add_argument("--accel", default="auto", choices=["auto", "kvm", "tcg"],
                   help="with --kernels: auto uses KVM only where a probe guest boots under it, else TCG")
    p.add_argument("--guest-timeout", type=int, default=600,
                   help="with --kernels: hard limit per guest boot in seconds (default %(default)s)")
    p.add_argument("--guest-files", help="with --kernels: keep each guest's console and raw validation JSON here")


def sampler_binary():
    """swapbench-capacity: $SWAPBENCH_CAPACITY_BIN, else beside $SWAPBENCH_BIN (the front door sets
    it), else this checkout's build. It reads other processes' memory and, with --validate, borrows
    the machine: as root, a program named by the environment must be root's alone
    (analysis/environment.py), or ResultError."""
    named = environment.from_env("SWAPBENCH_CAPACITY_BIN", "program")
    if named:
        return named
    suite = environment.from_env("SWAPBENCH_BIN", "program")
    if not suite:
        return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "bench",
                            "swapbench-capacity")
    beside = os.path.join(os.path.dirname(suite), "swapbench-capacity")
    why = environment.untrusted_reason(beside, "program") if os.geteuid() == 0 else None
    if why:
        raise ResultError(f"SWAPBENCH_BIN={os.environ['SWAPBENCH_BIN']}: the sampler beside it: {why}; a run as root "
                          "starts only programs that root alone can change")
    return beside


def validation_block(doc, measured, version, chain, where):
    """The comparison of one kernel's --validate figures with the model of that kernel's version,
    printed, with the rows whose counts disagree (not those another process disturbed)."""
    v = {"rows": compare_validation(doc, measured, version, chain), "refused": measured.get("refused", {}),
         "zpool_refused": measured.get("zpool_refused", {}),
         "kernel": (measured.get("kernel") or {}).get("release") or os.uname().release,
         "model_kernel_version": list(version), "chain_size": chain,
         "zram_rows": compare_zram_validation(doc, measured, version, chain),
         "zram_skipped": measured.get("zram_skipped"), "zswap_skipped": measured.get("zswap_skipped")}
    if not measured.get("zswap_skipped"):
        print(render_validation(v["rows"], v["refused"], where, v["zpool_refused"]))
    else:
        print(f"\nzswap not validated: {measured['zswap_skipped']}")
    # Compressors the pages hold but this kernel's zram does not offer: named, with the fix.
    if measured.get("zram_offered") and not measured.get("zram_skipped"):
        done = {r["compressor"] for r in v["zram_rows"]}
        asked = [c for c in doc["pages"]["length"] if c not in ZRAM_VARIANTS.values() and c not in done]
        v["zram_not_offered"] = {c: f"this kernel's zram offers {', '.join(measured['zram_offered'])} (fix: a kernel "
                                    f"with zram's {c} backend: CONFIG_ZRAM_BACKEND_{c.split('-')[0].upper()} "
                                    "from 6.12, the crypto algorithm before)"
                                 for c in asked if c not in measured["zram_offered"]}
    print(render_zram_validation(v["zram_rows"], measured.get("zram_skipped")))
    for c, why in sorted(v.get("zram_not_offered", {}).items()):
        print(f"zram {c} not validated: {why}")
    v["disagree"] = [f"{r['compressor']}/{r['allocator']}" for r in v["rows"] if not r["counts_exact"] and not not_judged(r)]
    v["disagree"] += [f"zram/{r['compressor']}" for r in v["zram_rows"] if not r["counts_exact"] and not not_judged(r)]
    return v


def _kmatrix():
    """kernels-config/kmatrix, the guests' side (importable from the analysis verbs too)."""
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if os.path.join(top, "kernels-config") not in sys.path:
        sys.path.insert(0, os.path.join(top, "kernels-config"))
    import kmatrix.capacity
    import kmatrix.defs
    return kmatrix


def _check_kernels(text):
    """Every --kernels name defined and bootable here, before anything is sampled."""
    names = [k for k in text.split(",") if k]
    km = _kmatrix()
    try:
        defs = km.defs.load_defs()
    except km.defs.KernelError as e:
        raise ResultError(f"--kernels: {e}") from None
    # Not "running" (the host: --validate without --kernels), not another architecture (no cross
    # build of the sampler), not "debian-source" (a kernel build first: ./swapbench ab's business).
    bootable = sorted(n for n, d in defs.items() if d.source not in ("running", "debian-source") and d.arch == "amd64")
    bad = [k for k in names if k not in bootable]
    if not names or bad:
        raise ResultError(f"--kernels {','.join(bad) or repr(text)}: accepted: names from kernels-config/kernels.toml "
                          f"that boot as amd64 guests: {', '.join(bootable)}")


def run_guest_validation(args, raw_fd, compressors):
    """The pages validated in each kernel of --kernels, booted under QEMU (kernels-config/kmatrix)."""
    guest = _kmatrix().capacity
    return guest.validate_in_guests([k for k in args.kernels.split(",") if k], raw_fd, compressors, args.zpool,
                                    args.accel, args.guest_timeout, args.guest_files)


def run_validation(raw_fd, compressors=None):
    """The kernel's figures for the pages in raw_fd (a memfd: run_sampler), from `swapbench-capacity
    --validate`, which reads them through its inherited copy of the descriptor."""
    cmd = [sampler_binary(), "--validate", f"/dev/fd/{raw_fd}"]
    if compressors:
        cmd += ["--compressor", ",".join(compressors)]
    return _json_of(run_child(cmd, (raw_fd,)), cmd[0])


def _pages_for_validation(doc, version, chain_size):
    return np.asarray(doc["pages"]["class"], dtype=np.int64), cm.ZsmallocTable(version, chain_size)


def _validated_runs(doc, measured, key, version, zram):
    """(run, compressor, per-page lengths) for each run of a compressor the pages file holds (zram's
    own zstd lengths from 6.12 where sampled)."""
    held = doc["pages"]["length"]
    for r in measured.get(key, []):
        comp = r["compressor"]
        if comp not in held:
            continue
        variant = ZRAM_VARIANTS.get(comp) if zram and version >= (6, 12) else None
        yield r, comp, np.asarray(held[variant if variant in held else comp], dtype=np.int64)


# The pool's stated error per allocator, which --validate holds the kernel's pool_total_size to:
# zsmalloc is modelled class by class as the kernel packs (the 1%); zbud and z3fold are
# simulated in arrival order as the kernel places buddies, which for a pool that only grows (a
# validation run) gave the kernel's page count exactly in the 6.1 guest. The 1% leaves room for
# compressed lengths that differ from the kernel's (zstd: another library version).
POOL_TOLERANCE = {"zsmalloc": 0.01, "zbud": 0.01, "z3fold": 0.01}


REJECT_COUNTERS = ("reject_compress_poor", "reject_compress_fail", "reject_alloc_fail")


def _rejected(zd, vd):
    """Pages zswap refused: those the page-out wrote to the swap device (vmstat pswpout), which
    is every refusal whatever its cause. zswap's own counters miss some: Debian's 6.1 gives the
    compressor PAGE_SIZE of output and a page that does not fit fails compression, counted
    nowhere (mm/zswap.c 6.1.192: ret = -EINVAL, no counter; 6.12 counts it reject_compress_fail).
    Without pswpout: the counters' sum."""
    if vd.get("pswpout") is not None:
        return vd["pswpout"]
    if zd.get("reject_compress_poor") is None:
        return None
    return sum(zd.get(k) or 0 for k in REJECT_COUNTERS)


def _rel_error(predicted, measured):
    """(predicted - measured) / measured; a kernel figure of 0 is met exactly by a prediction of 0
    (every page rejected: no pool at all), and missed without bound by any other (was nan)."""
    if measured is None:
        return float("nan")
    if measured == 0:
        return 0.0 if predicted == 0 else float("inf")
    return (predicted - measured) / measured


def _pct(e):
    return "-" if e != e else f"{100 * e:+.3f}%"


def compare_validation(doc, measured, version, chain_size=None):
    """Predicted for exactly the pages pushed through zswap (every page weight 1) against the
    kernel's deltas, per compressor and allocator (the run's zpool; zsmalloc where the run names
    none). Counts must match exactly; the pool within POOL_TOLERANCE of its allocator: for zsmalloc
    at most one part-filled zspage per class is not an error (the model rounds up per class the
    same way)."""
    classes, zs = _pages_for_validation(doc, version, chain_size)
    rows = []
    for r, comp, lengths in _validated_runs(doc, measured, "runs", version, zram=False):
        allocator = r.get("zpool") or "zsmalloc"
        o = cm.zswap_outcome(classes, lengths, version, allocator)
        zd, vd = r.get("zswap_delta", {}), r.get("vmstat_delta", {})
        pred_pool = cm.pool_figures(o, allocator, zs)
        meas_pool = zd.get("pool_total_size")
        pairs = {
            "stored_pages": (int(o.stored.sum()), zd.get("stored_pages")),
            "same_pages": (int(o.same.sum()), zd.get("same_filled_pages") if version < (6, 12) else None),
            "zero_pages": (int(o.zero_elsewhere.sum()), vd.get("swpout_zero") if version >= (6, 12) else None),
            "rejected_pages": (int(o.rejected.sum()), _rejected(zd, vd)),
            "incompressible_pages": (int(o.huge.sum()), zd.get("stored_incompressible_pages")),
            "pool_bytes": (pred_pool, meas_pool),
        }
        if "zswap" in r.get("memcg_delta", {}):
            pairs["memcg_zswap_bytes"] = (int(o.pooled_len.sum()), r["memcg_delta"]["zswap"])
        # zswap's counters are machine-wide: a store by another process during the run lands in them
        # too. The region's cgroup counts only the region's swap entries; the excess is foreign.
        foreign = None
        md = r.get("memcg_delta", {})
        if "swap" in md and "zswpout" in vd:
            region_out = md["swap"] // cm.PAGE
            machine_out = vd["zswpout"] + vd.get("swpout_zero", 0) + vd.get("pswpout", 0)
            foreign = max(0, machine_out - region_out)
        counts_exact = all(p == m for k, (p, m) in pairs.items() if k.endswith("_pages") and m is not None)
        # Pages other users held in zswap at the start: their frees during the run would lower the
        # pool's delta (the count delta too), so the comparison is then not exact by construction.
        # Zero-length (same-filled) entries hold no pool memory: the validation's own flush leaves
        # some behind on purpose (bench/capacity_validate.cpp).
        zb = r.get("zswap_before", {})
        others_before = None if zb.get("stored_pages") is None else \
            zb["stored_pages"] - (zb.get("same_filled_pages") or 0)
        err = _rel_error(pred_pool, meas_pool)
        tol = POOL_TOLERANCE.get(allocator, 0.01)
        rows.append({"compressor": comp, "allocator": allocator,
                     "reject_counters": {k: zd[k] for k in REJECT_COUNTERS if k in zd},
                     "figures": {k: {"predicted": p, "measured": m} for k, (p, m) in pairs.items()},
                     "counts_exact": counts_exact, "pool_error": err, "pool_tolerance": tol,
                     "pool_within_tolerance": err == err and abs(err) <= tol,
                     "foreign_pages_swapped_meanwhile": foreign,
                     "other_pages_in_zswap_before": others_before,
                     "resident_after_pageout": r.get("resident_after"), "memcg": measured.get("memcg")})
    return rows


# zram's byte figures: compr_data_size is a sum of lengths (the compressor's own output, so exact
# when the user-space lengths are the kernel's); mem_used_total is zsmalloc pages, which the model
# rounds per class as the kernel does, so the same 1% the issue sets for zswap's pool.
ZRAM_BYTES_TOLERANCE = 0.01


def compare_zram_validation(doc, measured, version, chain_size=None):
    """Predicted for exactly the pages pushed through each fresh zram device (weight 1 each)
    against its mm_stat after the page-out: orig_data_size / 4096 (pages stored, same-filled ones
    included), same_pages, huge_pages and swpout_zero exactly; compr_data_size and mem_used_total
    within ZRAM_BYTES_TOLERANCE. A device is the only swap area on during its run, so another
    process's swap-out lands in it too: the region's cgroup counts only the region's pages and the
    excess is reported as foreign."""
    classes, zs = _pages_for_validation(doc, version, chain_size)
    rows = []
    for r, comp, lengths in _validated_runs(doc, measured, "zram_runs", version, zram=True):
        o = cm.zram_outcome(classes, lengths, zs.huge_class_size, version)
        d, vd, md = r.get("mm_stat_delta", {}), r.get("vmstat_delta", {}), r.get("memcg_delta", {})
        # The device already holds mkswap's header page (slot 0) in a zspage of its class; the
        # region's objects fill that zspage's free slots first, so mem_used_total grows by the pool
        # of header + region less the pool of the header alone.
        pre = _objects_before(r.get("mm_stat_before", {}))
        region_objs = o.pooled_len[o.pooled_len > 0]
        mem_used = zs.pool_pages(np.concatenate([region_objs, pre]))[0] - zs.pool_pages(pre)[0]
        orig = d.get("orig_data_size")
        pairs = {
            "stored_pages": (int(o.stored.sum()), None if orig is None else orig // cm.PAGE),
            "same_pages": (int(o.same.sum()), d.get("same_pages")),
            "huge_pages": (int(o.huge.sum()), d.get("huge_pages")),
            "zero_pages": (int(o.zero_elsewhere.sum()), vd.get("swpout_zero") if version >= (6, 12) else None),
            "compr_data_bytes": (int(o.pooled_len.sum()), d.get("compr_data_size")),
            "mem_used_bytes": (int(mem_used * cm.PAGE), d.get("mem_used_total")),
        }
        foreign = None
        if "swap" in md and "pswpout" in vd:
            foreign = max(0, vd["pswpout"] + vd.get("swpout_zero", 0) + vd.get("zswpout", 0) - md["swap"] // cm.PAGE)
        counts_exact = all(p == m for k, (p, m) in pairs.items() if k.endswith("_pages") and m is not None)
        errors = {k: _rel_error(*pairs[k]) for k in ("compr_data_bytes", "mem_used_bytes")}
        bytes_within = all(abs(e) <= ZRAM_BYTES_TOLERANCE for e in errors.values() if e == e)
        rows.append({"compressor": comp, "device": r.get("device"),
                     "figures": {k: {"predicted": p, "measured": m} for k, (p, m) in pairs.items()},
                     "counts_exact": counts_exact, "errors": errors, "bytes_within_tolerance": bytes_within,
                     "tolerance": ZRAM_BYTES_TOLERANCE, "foreign_pages_swapped_meanwhile": foreign,
                     "resident_after_pageout": r.get("resident_after"),
                     # mkswap's header stays: what the region leaves behind is after-free less before.
                     "left_after_free_bytes": _left_after_free(r)})
    return rows


def not_judged(row):
    """Why a validation row's counts cannot be held to the prediction, or None: another process
    swapped meanwhile (machine-wide counters), or MADV_PAGEOUT left pages of the region resident
    after its passes (they were never offered to zswap or zram)."""
    if row.get("foreign_pages_swapped_meanwhile"):
        return f"other processes stored {row['foreign_pages_swapped_meanwhile']} pages meanwhile"
    if row.get("resident_after_pageout"):
        return f"{row['resident_after_pageout']} pages stayed resident after page-out"
    return None


def _verdict(row):
    return "exact" if row["counts_exact"] else (not_judged(row) or "DIFFER")


def _left_after_free(run):
    after, before = run.get("mm_stat_after_free", {}).get("orig_data_size"), run.get("mm_stat_before", {}).get("orig_data_size")
    return None if after is None or before is None else after - before


def _objects_before(mm):
    """The object lengths a device held before the run, when its mm_stat tells them: nothing, or
    one page (the swap header mkswap wrote) compressed to compr_data_size, or stored raw."""
    pages = (mm.get("orig_data_size") or 0) // cm.PAGE - (mm.get("same_pages") or 0)
    if pages <= 0:
        return np.zeros(0, dtype=np.int64)
    if pages == 1:
        return np.asarray([cm.PAGE if mm.get("huge_pages") else mm.get("compr_data_size", 0)], dtype=np.int64)
    raise ResultError(f"the zram device held {pages} pages before the run: its pool cannot be split from the region's")


def render_zram_validation(rows, skipped):
    header = ["compressor", "stored pred", "stored kernel", "same pred", "same kernel", "huge pred", "huge kernel",
              "zero pred", "zero kernel", "compr MiB pred", "compr MiB kernel", "compr error", "mem_used MiB pred",
              "mem_used MiB kernel", "mem_used error", "counts"]
    out = []
    for r in rows:
        f = r["figures"]
        m = lambda k: "-" if f[k]["measured"] is None else str(f[k]["measured"])
        out.append([r["compressor"], str(f["stored_pages"]["predicted"]), m("stored_pages"), str(f["same_pages"]["predicted"]),
                    m("same_pages"), str(f["huge_pages"]["predicted"]), m("huge_pages"), str(f["zero_pages"]["predicted"]),
                    m("zero_pages"), _mib(f["compr_data_bytes"]["predicted"]), _mib(f["compr_data_bytes"]["measured"] or 0),
                    _pct(r["errors"]["compr_data_bytes"]), _mib(f["mem_used_bytes"]["predicted"]),
                    _mib(f["mem_used_bytes"]["measured"] or 0), _pct(r["errors"]["mem_used_bytes"]),
                    _verdict(r)])
    lines = ["", "validation: the sampled pages through a fresh zram device per compressor (its mm_stat; vmstat swpout_zero)"]
    if rows:
        lines.append(table(header, out))
        lines.append(f"bytes: within ±{100 * ZRAM_BYTES_TOLERANCE:g}% expected (compr_data_size is a sum of the "
                     "compressor's lengths; mem_used_total is zsmalloc pages, rounded per class as modelled)")
    if skipped:
        lines.append(f"zram not validated: {skipped}")
    return "\n".join(lines)


def render_validation(rows, refused, where="this kernel's zswap", zpool_refused=None):
    header = ["compressor", "allocator", "stored pred", "stored kernel", "same pred", "same kernel", "zero pred",
              "zero kernel", "raw pred", "raw kernel", "rejected pred", "rejected kernel", "pool pred MiB",
              "pool kernel MiB", "pool error", "pool", "counts"]
    out = []
    for r in rows:
        f = r["figures"]
        m = lambda k: "-" if k not in f or f[k]["measured"] is None else str(f[k]["measured"])
        p = lambda k: str(f[k]["predicted"]) if k in f else "-"
        tol = r.get("pool_tolerance", 0.01)
        out.append([r["compressor"], r.get("allocator", "zsmalloc"), p("stored_pages"), m("stored_pages"),
                    p("same_pages"), m("same_pages"), p("zero_pages"), m("zero_pages"), p("incompressible_pages"),
                    m("incompressible_pages"), p("rejected_pages"), m("rejected_pages"),
                    _mib(f["pool_bytes"]["predicted"]), _mib(f["pool_bytes"]["measured"] or 0),
                    _pct(r["pool_error"]),
                    f"{'within' if abs(r['pool_error']) <= tol else 'OUTSIDE'} ±{100 * tol:g}%",
                    _verdict(r)])
    lines = ["", f"validation: the sampled pages through {where} (debugfs and vmstat deltas)", table(header, out)]
    if refused:
        lines.append("compressors not validated (the kernel refused them): " +
                     "; ".join(f"{c}: {why}" for c, why in sorted(refused.items())) +
                     " (fix: a kernel with that compressor built in or as a module)")
    for z, why in sorted((zpool_refused or {}).items()):
        lines.append(f"allocator {z} not validated: the kernel refused it ({why}); {ZPOOL_FIX.get(z, '')}")
    busy = [f"{r['compressor']} ({r['other_pages_in_zswap_before']})" for r in rows if r.get("other_pages_in_zswap_before")]
    if busy:
        lines.append("zswap held other processes' pages when these runs began (their swap-ins and frees move the "
                     "machine-wide figures): " + ", ".join(busy))
    return "\n".join(lines)


# What would let a kernel validate an allocator it refused.
ZPOOL_FIX = {
    "zbud": "fix: a kernel up to 6.14 with CONFIG_ZBUD (removed in 6.15)",
    "z3fold": "fix: a kernel up to 6.14 with CONFIG_Z3FOLD (6.12 needs CONFIG_Z3FOLD_DEPRECATED; removed in 6.15), "
              "its module loaded",
    "zsmalloc": "fix: a kernel with CONFIG_ZSMALLOC",
}


class SamplerExit(Exception):
    """The sampler (or a signal) ended the verb: exit with code; message, when there is one, is the
    one line to print (a sampler that refused or failed has printed its own line already)."""

    def __init__(self, code, message=None):
        super().__init__(message)
        self.code, self.message = code, message


def run_child(cmd, pass_fds=()):
    """Runs swapbench-capacity with its standard output (JSON) kept in memory and returned, never in
    a file; its standard error passes through (its refusals are one line naming the input, exit 2).
    SIGINT, SIGTERM and SIGHUP sent to this process are passed on to it and then waited for: a
    --validate sampler gives the machine back before it exits (its own signal handling), and a
    sampler left running after its caller died would go on reading another process's memory."""
    got = []
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, pass_fds=pass_fds)

    def forward(signum, _frame):
        got.append(signum)
        if p.poll() is None:
            p.send_signal(signum)

    caught = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    before = {s: signal.signal(s, forward) for s in caught}
    try:
        out, _ = p.communicate()
    finally:
        for s, h in before.items():
            signal.signal(s, h)
    if got:
        raise SamplerExit(128 + got[0], f"{signal.Signals(got[0]).name}: stopped (the sampler ended first, "
                                        f"status {p.returncode})")
    if p.returncode < 0:
        raise SamplerExit(1, f"{cmd[0]} was killed by {signal.Signals(-p.returncode).name}"
                             + ("; as root, ./swapbench restore gives back what its validation borrowed"
                                if "--validate" in cmd else ""))
    if p.returncode != 0:
        raise SamplerExit(p.returncode)  # it said why, in one line
    return out


def _json_of(out, binary):
    try:
        return json.loads(out)
    except ValueError as e:
        raise RuntimeError(f"{binary} wrote no JSON on its standard output ({e})") from None


def run_sampler(args, raw_fd=None):
    """The pages file (per-page lengths, no page contents) as a dict; with raw_fd, the sampled pages
    themselves are written into that descriptor (a memfd), for --validate."""
    binary = sampler_binary()
    cmd = [binary]
    if raw_fd is not None:
        cmd += ["--save-pages-fd", str(raw_fd)]
    if args.pid:
        cmd += ["--pid", args.pid]
    for flag in ("cgroup", "file", "core"):
        for v in getattr(args, flag):
            cmd += [f"--{flag}", v]
    cmd += ["--all"] if args.all else ["--sample", str(args.sample)]
    if args.seed is not None:
        cmd += ["--seed", str(args.seed)]
    if args.compressor:
        cmd += ["--compressor", args.compressor]
    doc = _json_of(run_child(cmd, () if raw_fd is None else (raw_fd,)), binary)
    return _checked_pages(doc, f"{binary}'s output")


def main(args):
    try:
        return _main(args)
    except RuntimeError as e:  # the sampler or the validation failed (it said why above)
        print(f"swapbench capacity: {e}", file=sys.stderr)
        return 1
    except SamplerExit as e:
        if e.message:
            print(f"swapbench capacity: {e.message}", file=sys.stderr)
        return e.code
    except KeyboardInterrupt as e:  # kmatrix's handlers turn SIGINT/SIGTERM into this, QEMU killed first
        print(f"swapbench capacity: interrupted ({e}); no QEMU left running", file=sys.stderr)
        return 130


def remove_old_page_folders(tmp=None):
    """Folders /tmp/swapbench-capacity-* of this user: up to 2026-12-07 capacity kept the sampled
    pages there (pages.raw, another process's memory), and a SIGTERM or kill -9 left them. Nothing
    makes them now (the pages live in a memfd); any found is a leftover, removed and named.
    Only real folders of this user (lstat: a link or another user's folder is left alone)."""
    import shutil
    import stat
    import tempfile
    tmp = tmp or tempfile.gettempdir()
    for name in sorted(os.listdir(tmp)):
        path = os.path.join(tmp, name)
        if not name.startswith("swapbench-capacity-"):
            continue
        st = os.lstat(path)
        if stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid():
            print(f"swapbench capacity: removing {path}: an earlier capacity left another process's pages there",
                  file=sys.stderr)
            shutil.rmtree(path, ignore_errors=True)


def _check_rate(args):
    if args.swapin_rate is not None and args.swapin_rate < 0:
        raise ResultError(f"--swapin-rate {args.swapin_rate}: accepted: pages per second, 0 or more")
    if args.swapin_share is not None and not 0 <= args.swapin_share <= 100:
        raise ResultError(f"--swapin-share {args.swapin_share}: accepted: 0 to 100 (percent of the pages kept out, per minute)")
    if args.swapin_rate is not None and args.swapin_share is not None:
        raise ResultError("--swapin-rate and --swapin-share: accepted: one of them (a rate in pages/s, or a share per minute)")


def _main(args):
    _check_rate(args)
    if args.merge:
        merged = merge_fleet([load_prediction(p) for p in args.merge], args.swapin_rate, args.swapin_share, args.merge)
        print(render_fleet(merged))
        if args.json:
            writer.write_json(args.json, {"swapbench_capacity": {"schema_version": SCHEMA_VERSION, "kind": "fleet"},
                                          "inputs": args.merge, **merged})
        return 0
    if args.sample <= 0:
        raise ResultError(f"--sample {args.sample}: accepted: a positive number of pages")
    if args.kernels is not None and not args.validate:
        raise ResultError("--kernels: accepted with --validate only (the guests it boots validate the pages)")
    if args.kernels is not None:
        _check_kernels(args.kernels)
    bad = [z for z in args.zpool.split(",") if z not in ("all", "zsmalloc", "zbud", "z3fold")]
    if bad or ("all" in args.zpool.split(",") and args.zpool != "all"):
        raise ResultError(f"--zpool {args.zpool}: accepted: zsmalloc, zbud, z3fold (comma-separated) or all")
    if args.bootstrap < 0:
        raise ResultError(f"--bootstrap {args.bootstrap}: accepted: 0 or more")
    if args.max_pool_percent is not None and not 0 <= args.max_pool_percent <= 100:
        raise ResultError(f"--max-pool-percent {args.max_pool_percent}: accepted: 0 to 100")
    if args.chain_size is not None and not 4 <= args.chain_size <= 16:
        raise ResultError(f"--chain-size {args.chain_size}: accepted: 4 to 16 (CONFIG_ZSMALLOC_CHAIN_SIZE's range)")
    try:
        version = cm.parse_version(args.kernel_version) if args.kernel_version else running_version()
    except ValueError as e:
        raise ResultError(f"--kernel-version {e}") from None
    for path in (args.json, args.plot):
        if path:
            writer.check_file(path)
    if args.pages:
        if args.validate:
            raise ResultError("--validate needs the pages themselves: sample with --pid/--cgroup/--file/--core, not --pages")
        doc = load_pages(args.pages)
    else:
        if not (args.pid or args.cgroup or args.file or args.core):
            raise ResultError("no pages: give --pid, --cgroup, --file, --core, or --pages FILE")
        if args.keep_pages:
            writer.check_file(args.keep_pages)
        remove_old_page_folders()
        # The sampled pages themselves (another process's memory: its secrets) exist only in this
        # memfd: no file system holds them, and it is gone with the last process that has it open,
        # however that process ends (kill -9 included). The JSON on stdout holds lengths, no contents.
        raw_fd = os.memfd_create("swapbench-capacity-pages") if args.validate else None
        try:
            doc = run_sampler(args, raw_fd)
            if args.keep_pages:
                writer.write_json(args.keep_pages, doc)
            if args.validate:
                asked = [c for c in args.compressor.split(",") if c not in ZRAM_VARIANTS.values()] if args.compressor else None
                if args.kernels:
                    # Only compressors the pages hold lengths for can be compared: emulated page-outs
                    # are slow, so the guest runs no others (lz4hc, 842).
                    held = [c for c in doc["pages"]["length"] if c not in ZRAM_VARIANTS.values()]
                    guests = run_guest_validation(args, raw_fd, asked or held)
                else:
                    measured = run_validation(raw_fd, asked)
        finally:
            if raw_fd is not None:
                os.close(raw_fd)
    comps = args.compressor.split(",") if args.compressor else None
    chain = args.chain_size
    if chain is None and version == running_version() and version >= (6, 3):
        chain = running_chain_size()  # this kernel's own build, where the model is of it
    result = estimate(doc, version, chain, args.bootstrap, compressors=comps)
    result["pool_limit"] = pool_limit(doc.get("host_memory_bytes"), args.max_pool_percent, result["rows"])
    print(render(doc, result, version))
    config, _ = _kernel_config()
    offer = coldness_offer(config, os.path.exists)
    cold_rows = []
    col = doc.get("coldness") or {}
    if col.get("available") and col.get("state") and any(v in COLD_CODES for v in col["state"]):
        cold = np.isin(np.asarray(col["state"]), COLD_CODES)
        cold_rows = estimate(doc, version, chain, args.bootstrap, compressors=comps, subset=cold,
                             backends=[("zswap", "zsmalloc"), ("zram", "zsmalloc")])["rows"]
    print(render_coldness(offer, doc, cold_rows))
    result["coldness"] = {"kernel_offers": offer, "cold_states": [LRU_CODES[c] for c in COLD_CODES],
                          "cold_rows": cold_rows}
    if result["pool_limit"]["over"]:
        pl = result["pool_limit"]
        print(f"over zswap's pool limit ({pl['percent']:g}% of {_gib(pl['host_memory_bytes'])} GiB = "
              f"{_mib(pl['limit_bytes'])} MiB): {', '.join(pl['over'])}: zswap stops storing at the limit "
              f"(pool_limit_hit) and starts again below {pl['accept_threshold_percent']:g}% of it")
    from analysis import store
    kdir = args.results or store.results_dir()
    release = (doc.get("kernel") or {}).get("release")
    kpath, kcost = kernel_cost(kdir, doc.get("host"), release)
    _, kcost_zram = kernel_cost(kdir, doc.get("host"), release, "zram")
    print(render_cost(doc, kpath, kcost, args.swapin_rate))
    result["kernel_cost"] = {"source": kpath, "per_compressor": kcost, "zram_per_compressor": kcost_zram}
    result["swapin"] = {"rate_pages_per_s": args.swapin_rate, "share_percent_per_min": args.swapin_share}
    for row in result["rows"]:
        row["cpu_cost"] = per_page_cpu(doc, {"zswap": kcost, "zram": kcost_zram}, row["backend"], row["compressor"])
        u = cpu_at_rate(row["cpu_cost"], row, args.swapin_rate, args.swapin_share)
        if u:
            row["cpu"] = u
    if args.swapin_rate is not None or args.swapin_share is not None:
        print(render_cpu(result["rows"], args.swapin_rate, args.swapin_share))
    if args.plot:
        plot_saved_vs_cost(result, doc, kcost, args.plot)
    if args.validate and args.kernels:
        result["validation"] = {"guests": [], "where": "guests"}
        disagree = []
        for g in guests:
            if "skipped" in g:
                print(f"\nvalidation in {g['kernel']}: not validated: {g['skipped']}")
                result["validation"]["guests"].append(g)
                continue
            v = cm.parse_version(g["release"])
            where = (f"zswap of kernel {g['release']} ({g['kernel']}), measured in a guest under "
                     f"{g['accelerator'].upper()}; model {v[0]}.{v[1]}, zsmalloc chain {g['chain_size'] or 4}")
            block = validation_block(doc, g["measured"], v, g["chain_size"], where)
            block.update({k: g[k] for k in g if k != "measured"})
            block["measured_in"] = f"guest ({g['accelerator']})"
            result["validation"]["guests"].append(block)
            disagree += [f"{g['kernel']}: {d}" for d in block["disagree"]]
        not_validated = [g["kernel"] for g in guests if "skipped" in g]
    elif args.validate:
        result["validation"] = validation_block(doc, measured, running_version(), running_chain_size(),
                                                "this kernel's zswap")
        result["validation"]["measured_in"] = "this host"
        disagree = result["validation"]["disagree"]
    if args.json:
        out = {"swapbench_capacity": {"schema_version": SCHEMA_VERSION, "kind": "prediction"},
               "host": doc.get("host"), "host_memory_bytes": doc.get("host_memory_bytes"),
               "kernel_measured_on": doc.get("kernel"), "model_kernel_version": list(version),
               "sources": doc["sources"], "sampling": doc["sampling"], "estimator":
                   "stratified (weights N_h/n_h); 95% intervals from a stratified bootstrap",
               "rule_sources": cm.RULE_SOURCES, "cost": doc.get("cost"), "timing": doc.get("timing"), **result}
        writer.write_json(args.json, out)
    if args.validate and args.kernels and not_validated:
        print(f"swapbench capacity: not validated in {', '.join(not_validated)} (why above)", file=sys.stderr)
        return 1
    if args.validate and disagree:
        print(f"swapbench capacity: the kernel's counts differ from the prediction for {', '.join(disagree)}",
              file=sys.stderr)
        return 1
    return 0

"""Which of the sampled pages are cold: what the kernel offers to tell, and the split by the
kernel's own LRU lists (read only), with the prediction for the inactive-list pages alone."""
import os

import numpy as np

from analysis.capacity.estimate import estimate
from analysis.capacity.pages import weights_of
from analysis.capacity.report import mib, ratio
from analysis.output import table

# /proc/kpageflags through the sampler: the kernel's own LRU lists (bench/capacity.cpp).
LRU_CODES = {0: "unknown", 1: "active", 2: "inactive_referenced", 3: "inactive", 4: "off_lru"}


LRU_CODES = {0: "unknown", 1: "active", 2: "inactive_referenced", 3: "inactive", 4: "off_lru"}
COLD_CODES = (2, 3)  # the inactive anon list: what reclaim (and so zswap/zram) takes first


def kernel_config():
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
                 mib(r["estimate"]["saved_bytes"]),
                 f"[{mib(r['ci95']['saved_bytes'][0])}, {mib(r['ci95']['saved_bytes'][1])}]",
                 ratio(r['estimate']['ratio_with_overhead'])] for r in cold_rows]
        lines.append("  if only the inactive-list pages were swapped:")
        lines.append(table(header, rows))
    return "\n".join(lines)


def cold_prediction(doc, version, chain, bootstrap, compressors):
    """(what this kernel offers, the prediction for the inactive-list pages alone, the JSON block)."""
    config, _ = kernel_config()
    offer = coldness_offer(config, os.path.exists)
    cold_rows = []
    col = doc.get("coldness") or {}
    if col.get("available") and col.get("state") and any(v in COLD_CODES for v in col["state"]):
        cold = np.isin(np.asarray(col["state"]), COLD_CODES)
        cold_rows = estimate(doc, version, chain, bootstrap, compressors=compressors, subset=cold,
                             backends=[("zswap", "zsmalloc"), ("zram", "zsmalloc")])["rows"]
    block = {"kernel_offers": offer, "cold_states": [LRU_CODES[c] for c in COLD_CODES], "cold_rows": cold_rows}
    return offer, cold_rows, block

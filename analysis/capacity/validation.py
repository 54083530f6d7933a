"""--validate's comparison: the model's prediction for exactly the pages pushed out against
the kernel's own counters (zswap's debugfs, vmstat, the cgroup; zram's mm_stat), per compressor and
allocator, with the tolerance each figure is held to. Pure: the measured side is the sampler's JSON."""
import numpy as np

from analysis.capacity import model as cm
from analysis.capacity.estimate import ZRAM_VARIANTS
from analysis.errors import ResultError

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


def rejected_pages(zd, vd):
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
            "rejected_pages": (int(o.rejected.sum()), rejected_pages(zd, vd)),
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
                     "left_after_free_bytes": _left_after_free(r),
                     "swap_cached_bytes_after_free": r.get("swap_cached_bytes_after_free")})
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


def verdict(row):
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

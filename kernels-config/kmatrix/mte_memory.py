"""The memory saved MTE tags take while their pages are swapped out, per page (issue 12, item 5).

Each swap-in set of the mte suite records, around its region's push-out, what the slab caches
gained (bench/mte_memory.h: swapbench.slab_swapped_out). A tagged set's gain holds the tag storage
(one 128-byte kmalloc object per page, kept in an xarray of radix_tree_node slabs) on top of what
every push-out costs (swap cache, zswap entries); the untagged set of the same backend has only the
latter. Their difference per page is the tags' cost. Method and error: results/SCHEMA.md."""
import statistics

# The caches the tags use (arch/arm64/mm/mteswap.c), and two whole-slab cross-checks.
MEASURES = ("kmalloc_128_bytes", "radix_tree_node_bytes", "all_caches_bytes", "meminfo_slab_bytes")
TAG_CACHES = ("kmalloc_128_bytes", "radix_tree_node_bytes")


def _figure(tagged, untagged):
    t, u = statistics.median(tagged), statistics.median(untagged)
    return {"bytes_per_page": t - u, "tagged_per_page_median": t, "untagged_per_page_median": u,
            # half the sum of the two arms' ranges over repetitions: how far one repetition of either
            # arm strayed, per page
            "error_bytes_per_page": ((max(tagged) - min(tagged)) + (max(untagged) - min(untagged))) / 2,
            "repetitions": [len(tagged), len(untagged)]}


def per_page(entries):
    """{"per_backend": {backend[/compressor]: {"saved_tags_bytes_per_page", "error_bytes_per_page",
    measure: figure...}}, ...} from the iteration entries of one kernel, or None when no swap-in set
    of the mte suite recorded slab readings."""
    groups, unreadable, unshrunk = {}, set(), 0
    for e in entries:
        sb = e.get("swapbench", {})
        d = sb.get("slab_swapped_out")
        if sb.get("kind") != "swapin" or not d or sb.get("variant") not in ("mte-tagged", "untagged"):
            continue
        if not d.get("readable") or not sb.get("valid", True):
            unreadable.add(d.get("why") or sb.get("invalid_reason") or "unreadable")
            continue
        unshrunk += not d.get("shrunk", False)
        key = sb["backend"] + (f"/{sb['compressor']}" if sb["backend"] in ("zswap", "zram") else "")
        g = groups.setdefault(key, {"mte-tagged": [], "untagged": []})
        g[sb["variant"]].append({m: d[m] / sb["pages"] for m in MEASURES})
    if not groups and not unreadable:
        return None
    out = {}
    for key, g in sorted(groups.items()):
        if not g["mte-tagged"] or not g["untagged"]:
            continue
        figs = {m: _figure([x[m] for x in g["mte-tagged"]], [x[m] for x in g["untagged"]]) for m in MEASURES}
        out[key] = {"saved_tags_bytes_per_page": sum(figs[m]["bytes_per_page"] for m in TAG_CACHES),
                    "error_bytes_per_page": sum(figs[m]["error_bytes_per_page"] for m in TAG_CACHES), **figs}
    return {"per_backend": out, "skipped": sorted(unreadable),
            # an unshrunk reading undercounts (SLUB hides per-CPU free objects; bench/mte_memory.h)
            "readings_without_shrink": unshrunk,
            "method": "slab caches (/proc/slabinfo active objects x size) after minus before the region's push-out, "
                      "tagged set minus untagged set of the same backend (medians over repetitions), per page; "
                      "saved_tags_bytes_per_page = kmalloc-128 + radix_tree_node (the tag storage and its xarray)",
            "note": "measured in the guest; see results/SCHEMA.md for the error"}


def describe(block):
    """One summary line's worth: backend X B/page (+-E)."""
    return "; ".join(f"{k} {v['saved_tags_bytes_per_page']:.0f} B/page (+-{v['error_bytes_per_page']:.0f})"
                     for k, v in block["per_backend"].items()) or "no paired tagged/untagged sets"

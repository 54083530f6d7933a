"""--validate's comparison as printed: one kernel's block (zswap per allocator, zram per
compressor, what the kernel refused and why, with the fix)."""
import os

from analysis.capacity import model as cm
from analysis.capacity.estimate import ZRAM_VARIANTS
from analysis.capacity.report import mib, pct
from analysis.capacity.validation import (ZRAM_BYTES_TOLERANCE, compare_validation, compare_zram_validation,
                                          not_judged, verdict)
from analysis.output import table

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
                    m("zero_pages"), mib(f["compr_data_bytes"]["predicted"]), mib(f["compr_data_bytes"]["measured"] or 0),
                    pct(r["errors"]["compr_data_bytes"]), mib(f["mem_used_bytes"]["predicted"]),
                    mib(f["mem_used_bytes"]["measured"] or 0), pct(r["errors"]["mem_used_bytes"]),
                    verdict(r)])
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
                    mib(f["pool_bytes"]["predicted"]), mib(f["pool_bytes"]["measured"] or 0),
                    pct(r["pool_error"]),
                    f"{'within' if abs(r['pool_error']) <= tol else 'OUTSIDE'} ±{100 * tol:g}%",
                    verdict(r)])
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


def guest_validation(doc, guests):
    """Each guest's figures against the model of its own kernel version, printed: (the JSON block,
    rows that disagree as "kernel: row", kernels not validated)."""
    out, disagree = {"guests": [], "where": "guests"}, []
    for g in guests:
        if "skipped" in g:
            print(f"\nvalidation in {g['kernel']}: not validated: {g['skipped']}")
            out["guests"].append(g)
            continue
        v = cm.parse_version(g["release"])
        where = (f"zswap of kernel {g['release']} ({g['kernel']}), measured in a guest under "
                 f"{g['accelerator'].upper()}; model {v[0]}.{v[1]}, zsmalloc chain {g['chain_size'] or 4}")
        block = validation_block(doc, g["measured"], v, g["chain_size"], where)
        block.update({k: g[k] for k in g if k != "measured"})
        block["measured_in"] = f"guest ({g['accelerator']})"
        out["guests"].append(block)
        disagree += [f"{g['kernel']}: {d}" for d in block["disagree"]]
    return out, disagree, [g["kernel"] for g in guests if "skipped" in g]

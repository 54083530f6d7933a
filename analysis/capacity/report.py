"""The prediction as text: the table per compressor, backend and allocator, and the number
formats every capacity table shares."""
from analysis.capacity import model as cm
from analysis.output import table

def gib(b):
    return f"{b / 2**30:.3f}"


def mib(b):
    return f"{b / 2**20:.1f}"


def ci_pct(est, ci):
    if not est or est != est:
        return "-"
    half = max(abs(ci[1] - est), abs(est - ci[0]))
    return f"±{100 * half / abs(est):.1f}%"


def ratio(x):
    """A ratio of nothing (no page reached the compressor or the pool) is no number: "-"."""
    return "-" if x != x else f"{x:.2f}"


def pct(e):
    return "-" if e != e else f"{100 * e:+.3f}%"


def render(doc, result, version):
    total_pages = sum(s["population_pages"] for s in doc["sources"])
    lines = [f"pages: {total_pages} present ({gib(total_pages * cm.PAGE)} GiB) in {len(doc['sources'])} source(s); "
             f"{doc['pages']['count']} sampled ({'every page' if result['exact'] else 'stratified, seed ' + str(doc['sampling']['seed'])})",
             f"model: kernel {version[0]}.{version[1]}, zsmalloc chain {result['chain_size']}, huge class from "
             f"{result['huge_class_size']} bytes; intervals: 95% stratified bootstrap"]
    header = ["compressor", "backend/alloc", "stored", "rejected", "pool MiB", "meta MiB", "saved MiB", "saved ±",
              "ratio", "ratio+alloc", "ratio+alloc 95%"]
    rows = []
    for r in result["rows"]:
        e, ci = r["estimate"], r["ci95"]
        rows.append([r["compressor"], f"{r['backend']}/{r['allocator']}", f"{e['stored_pages']:.0f}", f"{e['rejected_pages']:.0f}",
                     mib(e["pool_bytes"]), mib(e["metadata_bytes"]), mib(e["saved_bytes"]),
                     ci_pct(e["saved_bytes"], ci["saved_bytes"]), ratio(e["ratio_compressor"]),
                     ratio(e["ratio_with_overhead"]),
                     f"[{ratio(ci['ratio_with_overhead'][0])}, {ratio(ci['ratio_with_overhead'][1])}]"])
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

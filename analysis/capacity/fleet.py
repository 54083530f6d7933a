"""--merge: hosts' predictions summed into fleet totals, with intervals and CPUs."""
from analysis.capacity import model as cm
from analysis.capacity.cost import cpu_at_rate
from analysis.capacity.report import gib, ratio
from analysis.output import table

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
        rows.append([r["compressor"], f"{r['backend']}/{r['allocator']}", gib(t["saved_bytes"]["estimate"]),
                     f"[{gib(t['saved_bytes']['ci95'][0])}, {gib(t['saved_bytes']['ci95'][1])}]",
                     gib(t["pool_bytes"]["estimate"]), ratio(r['ratio_with_overhead']),
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

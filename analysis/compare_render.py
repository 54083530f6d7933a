"""compare's document as text (the terminal) and Markdown: the context, the timed rows with their
verdicts, the exact counts and the checks, then what was refused and warned of."""
from analysis import exact, metrics, stats
from analysis.load import SetId
from analysis.output import fmt_p, markdown_table, short_labels, table


def _outl(o):
    return f"{o['mild']}m{o['severe']}s" if o else "-"


def _row_cells(r, label, metric):
    host = r.get("host_ratio")
    return [label, metric.fmt(r["median_a"]), metric.fmt(r["median_b"]), f"{r['ratio']:.4f}",
            f"[{r['ci_low']:.4f}, {r['ci_high']:.4f}]", fmt_p(r["p"]), r["verdict"],
            f"{_outl(r.get('outliers_a'))} {_outl(r.get('outliers_b'))}",
            "-" if host is None else f"{host:.3f}",
            "-" if r.get("threshold") is None else f"{r['threshold'] * 100:.2f}%"]


def _check_cells(c, label):
    return [label, c["metric"], f"{c['a']:.0f}", f"{c['b']:.0f}", c["verdict"]]


def row_ids(rows):
    """The set identities of compare rows or checks, for short_labels()."""
    return [SetId.of(r["set"], r["id"]) for r in rows]


def _meaning(doc):
    higher = doc["metric_direction"] == metrics.HIGHER
    return doc["metric_meaning"] + ("; higher is better, so slower means B lower" if higher else "")


HEADER = ["set", "A", "B", "B/A", "95% CI", "p (MWU)", "verdict", "outliers A B", "host B/A", "thr"]
CHECK_HEADER = ["set", "check", "A", "B", "verdict"]
CHECK_NOTE = "exact counts where any non-zero is a failure, over every repetition"


def render_text(doc):
    out = [f"{tag.upper()}: {p}" + (f"  ({doc[tag]['label']})" if i == 0 else "")
           for tag in ("a", "b") for i, p in enumerate(doc[tag].get("paths") or [doc[tag]["path"]])]
    out += [f"scope: {doc['scope']}", ""]
    out.append(table(["context", "A", "B", ""],
                     [[f, a, b, "" if a == b else "differs"] for f, a, b in doc["context"]], numeric=False))
    out.append("")
    metric = metrics.get(doc["metric"])
    if doc["rows"]:
        labels, common = short_labels(row_ids(doc["rows"]))
        out.append(f"metric: {doc['metric']} ({_meaning(doc)}), median over repetitions"
                   + (f"\nlabels: {common}" if common else ""))
        out.append(table(HEADER, [_row_cells(r, lab, metric) for r, lab in zip(doc["rows"], labels)]))
        counts = {v: sum(r["verdict"] == v for r in doc["rows"]) for v in (stats.SLOWER, stats.FASTER, stats.NOISE)}
        out.append(f"\n{counts[stats.SLOWER]} slower, {counts[stats.FASTER]} faster, {counts[stats.NOISE]} within "
                   f"noise. Threshold {doc['threshold'] * 100:.2f}% ({doc['threshold_source']}); "
                   f"alpha {doc['alpha']}; slower/faster only when the whole 95% interval is beyond the "
                   "threshold and p < alpha. outliers: mild (m) and severe (s) repetitions by Tukey's fences, "
                   "kept; host B/A: the reference loop's time in B over A's during the set (>1: B's host slower); "
                   "thr: the threshold the set was judged at.")
    out += exact_text(doc)
    if doc["checks"]:
        labels, _ = short_labels(row_ids(doc["checks"]))
        out.append(f"\nchecks ({CHECK_NOTE}):")
        out.append(table(CHECK_HEADER, [_check_cells(c, lab) for c, lab in zip(doc["checks"], labels)]))
    for r in doc["refused"]:
        out.append(f"REFUSED {r['set']} in {r['file']}: {r['reason']}")
    for n in doc["only_in_a"]:
        out.append(f"only in A: {n}")
    for n in doc["only_in_b"]:
        out.append(f"only in B: {n}")
    for w in doc["warnings"]:
        out.append(f"warning: {w}")
    for e in doc["errors"]:
        out.append(f"error: {e}")
    return "\n".join(out)


def exact_text(doc):
    """The exact table: nothing at all when neither file carries instruction counts."""
    x = doc.get("exact") or {}
    out = []
    if x.get("context"):
        out.append("")
        out.append(table(["counted with", "A", "B", ""],
                         [[f, a, b, "" if a == b else "differs"] for f, a, b in x["context"]], numeric=False))
    rows = [r for r in x.get("rows", []) if exact.shown(r)]
    if rows:
        # One label per set, on its first row only: the rows of a set follow each other.
        names = list(dict.fromkeys(r["set"] for r in rows))
        short, common = short_labels(row_ids([next(r for r in rows if r["set"] == n) for n in names]))
        short = dict(zip(names, short))
        labels = [short[r["set"]] if i == 0 or rows[i - 1]["set"] != r["set"] else "" for i, r in enumerate(rows)]
        out.append("\nexact: guest instructions counted per operation and per call (QEMU plugin; not time)"
                   + (f"\nlabels: {common}" if common else ""))
        out.append(table(exact.HEADER, [exact.cells(r, lab) for r, lab in zip(rows, labels)]))
        c = exact.counts(x["rows"])
        out.append(f"\n{c['more']} more, {c['fewer']} fewer, {c['identical']} identical"
                   + (f", {c['only one side']} on one side only" if c["only one side"] else "")
                   + f" ({x['rule']}; calls per operation shown where they differ, every row in --json).")
    for r in x.get("not_compared", []):
        out.append(f"exact: not compared {r['set']}: {r['reason']}")
    return out


def render_markdown(doc):
    out = ["# swapbench compare", "", f"- A: `{doc['a']['path']}` ({doc['a']['label']})",
           f"- B: `{doc['b']['path']}` ({doc['b']['label']})", "", "## Context", ""]
    out += [f"- scope: {doc['scope']}", ""]
    out.append(markdown_table(["", "A", "B"], [[f + (" **(differs)**" if a != b else ""), a, b]
                                               for f, a, b in doc["context"]]))
    metric = metrics.get(doc["metric"])
    out += ["", f"## Sets ({doc['metric']}: {_meaning(doc)})", ""]
    out.append(markdown_table(HEADER, [_row_cells(r, f"`{r['set']}`", metric) for r in doc["rows"]]))
    if doc["checks"]:
        out += ["", f"## Checks ({CHECK_NOTE})", ""]
        out.append(markdown_table(CHECK_HEADER, [_check_cells(c, f"`{c['set']}`") for c in doc["checks"]]))
    x = doc.get("exact") or {}
    if x.get("rows"):
        out += ["", "## Exact: guest instructions counted (QEMU plugin; not time)", ""]
        if x.get("context"):
            out.append(markdown_table(["counted with", "A", "B"], [list(c) for c in x["context"]]))
            out.append("")
        out.append(markdown_table(exact.HEADER, [exact.cells(r, f"`{r['set']}`") for r in x["rows"]]))
        out += ["", x["rule"] + "."]
    out += ["", f"Threshold {doc['threshold'] * 100:.2f}% ({doc['threshold_source']}), alpha {doc['alpha']}."]
    out += [f"- refused `{r['set']}` in {r['file']}: {r['reason']}" for r in doc["refused"]]
    out += [f"- warning: {w}" for w in doc["warnings"]]
    return "\n".join(out) + "\n"

"""Exact instruction counts in compare, report and history: the swapbench.exact block each
set carries after the count pass (results/SCHEMA.md), what must match for two of them to be
comparable, and the rows of an exact comparison. The metrics are declared in analysis/metrics.py
(kind "exact"); the verdict rule is stats.exact_verdict. Nothing here touches a timed figure:
exact and timed verdicts are shown side by side, never merged."""
from analysis import metrics, stats
from analysis.errors import ResultError

# Counts are comparable only when every one of these is the same on both sides: the emulated CPU
# model decides which code variants the kernel patches in, QEMU's version how it translates, icount
# which kernel paths run (../shared/notes/exact-cost.md), and the source (the QEMU plugin, a host
# PMU) what was counted at all.
COMPARABLE = ("qemu_version", "cpu_model", "icount", "source")


def block(s):
    """A set's exact block (the count pass writes the same one into each of its repetitions), or
    None. A block that is not a JSON object is refused naming the set."""
    for r in s.reps:
        b = r.sb.get(metrics.EXACT_BLOCK)
        if b is None:
            continue
        if not isinstance(b, dict):
            raise ResultError(f"{s.name}: swapbench.exact is a {type(b).__name__}, not a JSON object "
                              "(results/SCHEMA.md)")
        return b
    return None


def blocks(R):
    """{set name: exact block} of a result, in file order, for the sets that have one."""
    out = {}
    for n, s in R.sets.items():
        b = block(s)
        if b is not None:
            out[n] = b
    return out


def functions(*bs):
    """Every listed function of the blocks, in the first block's order, then the others'."""
    seen = {}
    for b in bs:
        for f in (b.get("functions") or {}) if b else {}:
            seen.setdefault(f, None)
    return list(seen)


def provenance(bs):
    """{field: 'value' or 'v1 | v2' when the blocks of one file disagree} over COMPARABLE."""
    out = {}
    for k in COMPARABLE:
        vals = sorted({repr(b.get(k)) if not isinstance(b.get(k), str) else b.get(k) for b in bs.values()})
        out[k] = " | ".join(vals)
    return out


def check_comparable(ba, bb, force):
    """(context rows, warnings): raises ResultError naming both values of the first field that
    differs, unless force."""
    pa, pb = provenance(ba), provenance(bb)
    rows = [(f"exact {k}", pa[k], pb[k]) for k in COMPARABLE]
    diff = [f"{k} differs: A {pa[k]!s}, B {pb[k]!s}" for k in COMPARABLE if pa[k] != pb[k]]
    if not diff:
        return rows, []
    msg = ("instruction counts not comparable: " + "; ".join(diff) +
           " (counts depend on QEMU's version, the emulated CPU model, icount mode and what counted them)")
    if not force:
        raise ResultError(msg + " (--force compares them anyway)")
    return rows, [msg + " (--force)"]


def noun(m):
    return "calls" if m.unit.startswith("calls") else "instructions"


def _pct(d, base):
    return 100.0 * d / base if base else None


def row(name, sid, m, ba, bb):
    """One exact row of set `name` (SetId sid) on metric m, or None when neither side has the figure
    (a function neither side calls)."""
    a, sa, ra = m.exact_figures(ba)
    b, sb, rb = m.exact_figures(bb)
    if a != a and b != b:
        return None
    if a != a or b != b:  # one side never called it (a function of one release only, or a new call)
        v = "called only in A" if b != b else "called only in B"
        return {"set": name, "id": sid.fields(), "metric": m.name, "unit": m.unit, "a": a if a == a else None,
                "b": b if b == b else None, "delta": None, "delta_pct": None, "spread_a": sa, "spread_b": sb,
                "reps_a": len(ra), "reps_b": len(rb), "verdict": v}
    d = b - a
    v = stats.exact_verdict(a, b, sa, sb)
    r = {"set": name, "id": sid.fields(), "metric": m.name, "unit": m.unit, "a": a, "b": b, "delta": d,
         "delta_pct": _pct(d, a), "spread_a": sa, "spread_b": sb, "reps_a": len(ra), "reps_b": len(rb),
         "verdict": v if v == stats.IDENTICAL else f"{v} {noun(m)}"}
    if m.name.endswith(".instructions_per_call"):
        # The same function's own instructions per operation: per call x calls per operation.
        cpo = metrics.function_metric(m.name[len(metrics.FUNCTION_PREFIX):].rsplit(".", 1)[0], "calls_per_op")
        ca, cb = cpo.exact_figures(ba)[0], cpo.exact_figures(bb)[0]
        if ca == ca and cb == cb:
            r.update(per_op_a=a * ca, per_op_b=b * cb, delta_per_op=b * cb - a * ca,
                     delta_per_op_pct=_pct(b * cb - a * ca, a * ca))
    return r


def is_worse(r):
    return r["verdict"].startswith(stats.MORE)


def compare(A, B, common, force):
    """The exact part of compare: {rows, context, only_in_a, only_in_b, not_compared, warnings}.
    Both without exact blocks: empty rows and nothing said (the comparison is the timed one alone)."""
    ba, bb = blocks(A), blocks(B)
    out = {"rows": [], "context": [], "not_compared": [], "warnings": [],
           "rule": ("exact counts, no statistics: 'more'/'fewer' when B - A exceeds the larger spread between "
                    "repetitions and boots of either side, else 'identical'")}
    if not ba and not bb:
        return out
    if not ba or not bb:
        which, other = ("A", "B") if ba else ("B", "A")
        out["warnings"].append(f"instruction counts (swapbench.exact) only in {which}: {other} had no count pass "
                               "(./swapbench matrix without --no-count counts); not compared on instructions")
        return out
    out["context"], w = check_comparable(ba, bb, force)
    out["warnings"] += w
    for n in common:
        sa, sb_ = A.sets[n], B.sets[n]
        xa, xb = ba.get(n), bb.get(n)
        if xa is None or xb is None:
            out["not_compared"].append({"set": n, "reason": f"no exact block in {'A' if xa is None else 'B'}"})
            continue
        if not metrics.get("kernel_instructions_per_op").applies_to(sa.kind):
            out["not_compared"].append({"set": n, "reason": f"{sa.kind} sets count no operations"})
            continue
        empty = [t for t, x in (("A", xa), ("B", xb)) if not x.get("repetitions")]
        if empty:
            x = xa if empty[0] == "A" else xb
            why = next((m.get("why") for m in x.get("missing") or [] if isinstance(m, dict)), None)
            out["not_compared"].append({"set": n, "reason": f"no counted repetition in {' and '.join(empty)}"
                                                            + (f" ({why})" if why else "")})
            continue
        for tag, s in (("A", sa), ("B", sb_)):
            why = s.invalid_reason()
            if why:
                out["warnings"].append(f"{n}: timings invalid in {tag} ({why}); its instruction counts come from "
                                       "separate counted boots and are compared on their own")
        sid = sa.id
        ms = [metrics.get(x) for x in metrics.exact()]
        for f in functions(xa, xb):
            cpo = metrics.function_metric(f, "calls_per_op")
            if any(c == c and c > 0 for c in (cpo.exact_figures(xa)[0], cpo.exact_figures(xb)[0])):
                ms += [metrics.function_metric(f, fig) for fig in metrics.FUNCTION_FIGURES]
        for m in ms:
            r = row(n, sid, m, xa, xb)
            if r is not None:
                out["rows"].append(r)
    return out


def shown(r):
    """Rows the text table shows: totals and per-call figures always, calls per operation only
    where they differ (every row is in --json)."""
    return not r["metric"].endswith(".calls_per_op") or (r["verdict"] != stats.IDENTICAL
                                                         and not r["verdict"].startswith("called only"))


def quantity(r):
    m = r["metric"]
    if m.startswith(metrics.FUNCTION_PREFIX):
        func, fig = m[len(metrics.FUNCTION_PREFIX):].rsplit(".", 1)
        return f"{func} {'per call' if fig == 'instructions_per_call' else 'calls/op'}"
    return {"kernel_instructions_per_op": "kernel per op", "user_instructions_per_op": "user per op"}.get(m, m)


def cells(r, label):
    f = metrics.fmt_count
    pct = lambda p: "-" if p is None else f"{p:+.2f}%"
    delta = "-" if r["delta"] is None else f"{r['delta']:+,.6g}"
    per_op = "-" if r.get("delta_per_op") is None else f"{r['delta_per_op']:+,.6g} ({pct(r['delta_per_op_pct'])})"
    a = "-" if r["a"] is None else f(r["a"])
    b = "-" if r["b"] is None else f(r["b"])
    return [label, quantity(r), a, b, delta, pct(r["delta_pct"]), per_op,
            f"{f(r['spread_a'])}/{f(r['spread_b'])}", r["verdict"]]


HEADER = ["set", "quantity", "A", "B", "B-A", "B-A %", "per op B-A", "spread A/B", "verdict"]


def counts(rows):
    c = {"more": 0, "fewer": 0, "identical": 0, "only one side": 0}
    for r in rows:
        v = r["verdict"]
        c["more" if v.startswith(stats.MORE) else "fewer" if v.startswith(stats.FEWER) else
          "identical" if v == stats.IDENTICAL else "only one side"] += 1
    return c

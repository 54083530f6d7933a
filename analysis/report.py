"""`./swapbench report RESULTS... -o DIR`: DIR/index.html (self-contained: the plots are embedded)
plus the same plots as PNG files beside it. With two or more results, every later one is also
compared against the first (the base) with compare's statistics."""
import base64
import html
import os

import numpy as np

from analysis import compare, exact, metrics, plots, stats
from analysis.compare_options import CompareOptions, check_options
from analysis.errors import ResultError
from analysis.load import load
from analysis.output import fmt_ns
from analysis.writer import check_folder, make_folder, write_text


def add_arguments(p):
    p.add_argument("results", nargs="+", metavar="RESULT.json", help="result files; the first is the A/B base")
    p.add_argument("-o", "--out", required=True, metavar="DIR",
                   help="folder for index.html and the PNGs: an existing one, or a new one whose parent exists")
    p.add_argument("--metric", default=CompareOptions.metric, choices=sorted(metrics.statistics()),
                   help="for the A/B chart (default %(default)s)")
    p.add_argument("--threshold", type=float, metavar="PCT", help="as in compare")
    p.add_argument("--calibrations", metavar="DIR", help="as in compare")
    p.add_argument("--force", action="store_true", help="as in compare: A/B across accelerators or scenarios")
    p.add_argument("--base", type=int, default=1, metavar="N",
                   help="which result (1 = the first) the others are compared against (default 1)")


def _valid_sets(R, kinds):
    ok, bad = [], []
    for s in R.sets.values():
        if s.kind not in kinds:
            continue
        (bad if s.invalid_reason() else ok).append(s)
    return ok, bad


def _median(s, metric="p50"):
    v = s.values(metric)
    return float(np.median(v)) if len(v) else float("nan")


def summary_lines(R):
    """Plain statements, each one readable off a plot in the report."""
    out = []
    sw, _ = _valid_sets(R, {metrics.SWAPIN})
    sw = [s for s in sw if not s.variant]
    z = sorted([s for s in sw if s.backend == "zswap"], key=_median)
    d = [s for s in sw if s.backend == "disk"]
    for backend in ("zswap", "zram"):
        c = sorted([s for s in sw if s.backend == backend], key=_median)
        if c:
            out.append(f"{backend} swap-in p50: " + ", ".join(f"{s.compressor} {fmt_ns(_median(s))}" for s in c) +
                       f"; cheapest {c[0].compressor}.")
    if z and d:
        out.append(f"disk swap-in p50 {fmt_ns(_median(d[0]))}: {_median(d[0]) / _median(z[0]):.1f}x the "
                   f"zswap-{z[0].compressor} fault; at p99 {fmt_ns(_median(d[0], 'p99'))} against "
                   f"{fmt_ns(_median(z[0], 'p99'))}.")
    so, _ = _valid_sets(R, {metrics.SWAPOUT})
    so = sorted(so, key=_median)
    if so:
        out.append("swap-out p50 per page: " + ", ".join(f"{s.backend}{'-' + s.compressor if s.compressor != 'none' else ''} "
                                                        f"{fmt_ns(_median(s))}" for s in so) +
                   " (disk only submits the write; zswap and zram compress synchronously).")
    fl = _valid_sets(R, {metrics.FLOOR_SWAPCACHE})[0]
    if z and fl:
        f = _median(fl[-1])
        out.append(f"a swap-cache hit (minor fault) costs {fmt_ns(f)}: the zswap-{z[0].compressor} fault spends "
                   f"{fmt_ns(_median(z[0]) - f)} more (the zswap load; the report cannot split it further).")
    wb, _ = _valid_sets(R, {metrics.WRITEBACK})
    for s in wb:
        out.append(f"writeback by {s.variant} ({s.compressor}): {_median(s, 'pages_per_second'):,.0f} pages/s; the "
                   f"written-back pages came back from disk at p50 {fmt_ns(_median(s))}.")
    for s in (x for x in R.sets.values() if x.kind == metrics.RACE):
        r = s.reps[0].sb
        out.append(f"race ({s.variant}): {r.get('operations', 0):,} free/reuse cycles with {r.get('writebacks', 0):,} pages "
                   f"written back; {_checks(s)}.")
    maj = [s for s in sw if (s.reps[0].sb.get("pmu") or {}).get("perf::major-faults") is not None]
    if maj:
        v = [np.median([r.sb["pmu"]["perf::major-faults"] for r in s.reps if r.valid]) for s in maj]
        out.append(f"perf::major-faults per swap-in page: {min(v):.2f} to {max(v):.2f} (1 = one major fault per page, "
                   "an independent check of the path).")
    return out


def _checks(s):
    """A set's checks (analysis/metrics.py) in words, over every repetition: '0 stale pages'."""
    return ", ".join(f"{s.values(m.name, valid_only=False).sum():.0f} {m.name.replace('_', ' ')}"
                     for m in metrics.checks_for(s.kind))


def _img(png, name, caption):
    data = base64.b64encode(png).decode()
    return (f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)} ({html.escape(name)})</figcaption></figure>")


def _context_table(R):
    sb = R.sb
    rows = [("file", R.path), ("kernel", R.kernel), ("accelerator", R.accelerator), ("host", R.host),
            ("cpu", sb.get("cpu_model", "?")), ("pinned cpu", sb.get("binding", {}).get("cpu", "?")),
            ("date", R.date), ("suite", sb.get("suite")), ("repetitions", sb.get("repetitions")),
            ("pages per set", sb.get("pages")),
            ("events unavailable", "; ".join(f"{e['event']}: {e['reason']}" for e in sb.get("events_unavailable", [])) or "none")]
    return "<table>" + "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                               for k, v in rows) + "</table>"


def _sets_table(R):
    head = ("<tr><th>set</th><th>reps valid</th><th>p50</th><th>p99</th><th>outliers (p50 of reps)</th>"
            "<th>host vs run median</th><th>note</th></tr>")
    body = []
    for s in R.sets.values():
        why = s.invalid_reason()
        n_ok = sum(r.valid for r in s.reps)
        timed = metrics.get("p50").applies_to(s.kind)  # a race times nothing per page
        p50 = "-" if why or not timed else fmt_ns(_median(s))
        p99 = "-" if why or not timed else fmt_ns(_median(s, "p99"))
        outl = "-" if why or not timed else stats.fmt_outliers(stats.tukey_outliers(s.values("p50")))
        slow = R.host_slower(s)
        host = "-" if np.isnan(slow) else f"{slow * 100:+.1f}% slower" if slow >= 0 else f"{-slow * 100:.1f}% faster"
        note = "INVALID, not plotted: " + why if why else _checks(s)
        body.append(f"<tr><td>{html.escape(s.name)}</td><td>{n_ok}/{len(s.reps)}</td><td>{p50}</td><td>{p99}</td>"
                    f"<td>{outl}</td><td>{host}</td><td>{html.escape(note)}</td></tr>")
    return ("<table>" + head + "".join(body) + "</table><p>outliers: repetitions beyond Tukey's fences on their p50 "
            "(mild 1.5 IQR, severe 3 IQR), flagged and kept in every figure. host: the fixed CPU loop timed between "
            "faults during the set against its median over the whole run (slower host, slower figures).</p>")


CSS = ("body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}"
       "table{border-collapse:collapse;margin:1em 0;font-size:90%}td,th{border:1px solid #ccc;padding:3px 8px;"
       "text-align:left}figure{margin:1em 0}img{max-width:100%}figcaption{font-size:85%;color:#555}")


def build(results, out, args):
    make_folder(out)
    parts, written = [], []

    def add(png, name, caption):
        if png:
            parts.append(_img(png, name, caption))
            written.append(name)

    for i, R in enumerate(results):
        tag = f"r{i + 1}"
        title = f"{R.kernel} ({R.accelerator}) {R.date}"
        parts.append(f"<h2>Result {i + 1}: {html.escape(title)}</h2>" + _context_table(R))
        summ = summary_lines(R)
        if summ:
            parts.append("<h3>Summary</h3><ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in summ) + "</ul>")
        parts.append("<h3>Sets</h3>" + _sets_table(R))
        fault_sets, _ = _valid_sets(R, metrics.FAULT_KINDS - {metrics.SWAPOUT})
        if fault_sets:
            name = f"{tag}-cdf.png"
            add(plots.latency_cdf(fault_sets, os.path.join(out, name), f"fault latency CDF - {title}"), name,
                "latency CDF per backend and compressor")
            name = f"{tag}-hist.png"
            add(plots.latency_histograms(fault_sets, os.path.join(out, name), f"fault latency - {title}"), name,
                "latency histograms")
        so, _ = _valid_sets(R, {metrics.SWAPOUT})
        if so:
            name = f"{tag}-swapout.png"
            add(plots.swapout_cost(so, os.path.join(out, name), f"swap-out cost - {title}"), name,
                "swap-out cost per backend and compressor")
        parts += exact_tables(R)
        all_ok, _ = _valid_sets(R, metrics.COUNTER_KINDS)
        name = f"{tag}-counters.png"
        add(plots.counters_per_fault(all_ok, os.path.join(out, name), f"counters per page - {title}"), name,
            "counters per fault")
    if len(results) > 1:
        parts += ab_and_matrix(results, out, args, written)
    parts += ftrace_section(results)
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>swapbench report</title>"
            f"<style>{CSS}</style></head><body><h1>swapbench report</h1>"
            "<p>Latencies are per page, timer included; p50/p99 are medians over valid repetitions of each "
            "repetition's percentile. Invalid sets are listed, never plotted.</p>" + "".join(parts) + "</body></html>")
    write_text(os.path.join(out, "index.html"), page)
    return written


def compare_options(args):
    """What report asks of compare: its flags, and every valid set compared (invalid ones are listed
    in the report, never plotted)."""
    return CompareOptions(metric=args.metric, threshold=args.threshold, force=args.force, ignore_invalid=True,
                          calibrations=args.calibrations)


def ab_and_matrix(results, out, args, written):
    """Every result against the base: an A/B chart each, and one matrix of sets x results."""
    metric = metrics.get(args.metric)
    bi = args.base - 1
    A = results[bi]
    parts = [f"<h2>Against result {args.base} ({html.escape(A.label())})</h2>"]
    cargs = compare_options(args)
    docs = {}
    for j, B in enumerate(results, start=1):
        if j - 1 == bi:
            continue
        try:
            doc = compare.compare(A, B, cargs)
        except ResultError as e:
            parts.append(f"<p>Result {j} not compared with result {args.base}: {html.escape(str(e))}</p>")
            continue
        docs[j] = doc
        n = {v: sum(r["verdict"] == v for r in doc["rows"]) for v in (stats.SLOWER, stats.FASTER, stats.NOISE)}
        parts.append(f"<p>Result {j} ({html.escape(B.label())}) against result {args.base} ({doc['metric']}): "
                     f"{n[stats.SLOWER]} slower, {n[stats.FASTER]} faster, {n[stats.NOISE]} within noise; threshold "
                     f"{doc['threshold'] * 100:.2f}% ({html.escape(doc['threshold_source'])}).</p>")
        for w in doc["warnings"]:
            parts.append(f"<p>warning: {html.escape(w)}</p>")
        for r in doc["refused"]:
            parts.append(f"<p>refused {html.escape(r['set'])} in {r['file']}: {html.escape(r['reason'])}</p>")
        for c in doc["checks"]:
            parts.append(f"<p>check {html.escape(c['set'])}: {c['metric']} {c['a']:.0f} in result {args.base}, "
                         f"{c['b']:.0f} in result {j}: {c['verdict']}</p>")
        parts += exact_ab(doc, j, args.base, out, written)
        if doc["rows"]:
            name = f"ab-r{j}.png"
            png = plots.ab_chart(doc["rows"], doc["threshold"], os.path.join(out, name),
                                 f"result {j} / result {args.base} ({doc['metric']})",
                                 higher_is_better=metric.direction == metrics.HIGHER)
            parts.append(_img(png, name, f"A/B: result {j} against result {args.base} with 95% intervals"))
            written.append(name)
    if docs:
        head = (f"<tr><th>set</th><th>{html.escape(A.kernel)} ({html.escape(A.accelerator)}) base</th>"
                + "".join(f"<th>{html.escape(results[j - 1].kernel)} ({html.escape(results[j - 1].accelerator)})</th>"
                          for j in docs) + "</tr>")
        body = []
        for name, s in A.sets.items():
            base = ("INVALID" if s.invalid_reason() else
                    metric.fmt(_median(s, args.metric)) if metric.applies_to(s.kind) else "-")
            cells = [f"<td>{html.escape(name)}</td>", f"<td>{base}</td>"]
            for j, doc in docs.items():
                r = next((r for r in doc["rows"] if r["set"] == name), None)
                cells.append("<td>-</td>" if r is None else
                             f"<td>{metric.fmt(r['median_b'])} ({r['ratio']:.3f}x, {r['verdict']})</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        parts.append(f"<h3>Matrix: each set on each result, {html.escape(args.metric)}, verdict against the base</h3>"
                     "<table>" + head + "".join(body) + "</table>")
    return parts


def _cell(v):
    return "-" if v is None or v != v else metrics.fmt_count(v)


def exact_tables(R):
    """One result's instruction counts (swapbench.exact): per set the totals per operation, then a
    per-function table (own instructions per call, calls per operation, spread); nothing without
    a count pass."""
    bs = exact.blocks(R)
    if not bs:
        return []
    prov = exact.provenance(bs)
    head = ("<tr><th>set</th><th>kernel instructions per op (median; min)</th><th>spread</th>"
            "<th>user instructions per op</th><th>counted repetitions</th><th>boots</th></tr>")
    body = []
    for n, b in bs.items():
        k = b.get("kernel_instructions_per_op") or {}
        u = b.get("user_instructions_per_op") or {}
        sp = (b.get("spread") or {}).get("kernel_median_per_op")
        body.append(f"<tr><td>{html.escape(n)}</td><td>{_cell(k.get('median'))} ({_cell(k.get('min'))})</td>"
                    f"<td>{_cell(sp)}</td><td>{_cell(u.get('median'))}</td><td>{b.get('repetitions', '-')}</td>"
                    f"<td>{html.escape(str(b.get('boots', '-')))}</td></tr>")
    fhead = ("<tr><th>set</th><th>function</th><th>own instructions per call</th><th>calls per op</th>"
             "<th>own instructions per op</th><th>spread per call</th></tr>")
    fbody = []
    for n, b in bs.items():
        for f, v in (b.get("functions") or {}).items():
            if not isinstance(v, dict) or not v.get("calls_per_op"):
                continue
            ipc, cpo = v.get("instructions_per_call"), v.get("calls_per_op")
            per_op = ipc * cpo if isinstance(ipc, (int, float)) and isinstance(cpo, (int, float)) else None
            fbody.append(f"<tr><td>{html.escape(n)}</td><td>{html.escape(f)}</td><td>{_cell(ipc)}</td>"
                         f"<td>{_cell(cpo)}</td><td>{_cell(per_op)}</td><td>{_cell(v.get('spread_per_call'))}</td></tr>")
    synthetic = any(b.get("synthetic") for b in bs.values())
    return [("<h3>Exact cost: guest instructions counted (not time)</h3>"
             + ("<p><strong>SYNTHETIC TEST DATA: these counts were not measured.</strong></p>" if synthetic else "")
             + "<p>Counted by the QEMU plugin in boots of their own, between the benchmark's markers: "
             + html.escape(", ".join(f"{k} {v}" for k, v in prov.items()))
             + ". Functions are counted self-only (callees excluded); functions not called in a set are left out.</p>"
             + "<table>" + head + "".join(body) + "</table>"
             + "<h4>Per function</h4><table>" + fhead + "".join(fbody) + "</table>")]


def exact_ab(doc, j, base, out, written):
    """Result j against the base on instruction counts: the verdict table and an A-vs-B chart of
    kernel instructions per operation and of each function's own instructions per call."""
    x = doc.get("exact") or {}
    rows = x.get("rows") or []
    if not rows:
        return []
    c = exact.counts(rows)
    parts = [f"<h3>Result {j} against result {base} on instructions counted (exact; beside the timed verdicts, "
             "never merged)</h3>",
             f"<p>{c['more']} more, {c['fewer']} fewer, {c['identical']} identical, {c['only one side']} on one side "
             f"only. {html.escape(x['rule'])}.</p>"]
    head = "".join(f"<th>{html.escape(h)}</th>" for h in exact.HEADER)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in exact.cells(r, r["set"])) + "</tr>"
                   for r in rows if exact.shown(r))
    parts.append(f"<table><tr>{head}</tr>{body}</table>")
    charts = {"kernel_instructions_per_op": ("kernel instructions per operation", "kernel")}
    for r in rows:
        if r["metric"].endswith(".instructions_per_call"):
            f = r["metric"][len(metrics.FUNCTION_PREFIX):].rsplit(".", 1)[0]
            charts.setdefault(r["metric"], (f"{f}: own instructions per call", f))
    for m, (what, stem) in charts.items():
        rs = [r for r in rows if r["metric"] == m]
        if not rs:
            continue
        name = f"exact-r{j}-{stem}.png"
        png = plots.exact_ab_chart(rs, os.path.join(out, name), f"{what}: result {j} (B) against result {base} (A)",
                                   what)
        parts.append(_img(png, name, f"instructions counted: {what}, result {j} against result {base}"))
        written.append(name)
    return parts


FTRACE_FIGURES = ("p50_corrected_us", "p50_us", "p90_us", "calls")


def _traced_functions(R):
    """function -> figures of a matrix result's traced pass (the writeback pass's marked); a block
    not as results/SCHEMA.md describes is refused naming the file."""
    t, out = R.sb["ftrace"], {}
    for suffix, block in (("", t), (" (writeback pass)", t.get("writeback_pass") or {})):
        fs = block.get("functions", {}) if isinstance(block, dict) else None
        if not isinstance(fs, dict) or not all(
                isinstance(v, dict) and all(isinstance(v.get(k), (int, float)) for k in FTRACE_FIGURES)
                for v in fs.values()):
            raise ResultError(f"{R.path}: context.swapbench.ftrace{'.writeback_pass' if suffix else ''}.functions "
                              f"is not as results/SCHEMA.md describes ({', '.join(FTRACE_FIGURES)} per function)")
        out.update({f + suffix: v for f, v in fs.items()})
    return out


def ftrace_section(results):
    """In-kernel attribution from the kernel matrix's traced pass, per function and kernel."""
    traced = [(R, R.sb["ftrace"], _traced_functions(R)) for R in results if R.sb.get("ftrace")]
    if not traced:
        return []
    funcs = sorted({f for _, t, fns in traced for f in fns if not f.startswith(str(t.get("baseline_function")))})
    head = "<tr><th>function</th>" + "".join(
        f"<th>{html.escape(R.kernel)} ({html.escape(R.accelerator)})</th>" for R, _, _ in traced) + "</tr>"
    rows = []
    for f in funcs:
        cells = [f"<td>{html.escape(f)}</td>"]
        for _, _, fns in traced:
            v = fns.get(f)
            cells.append("<td>not in this kernel</td>" if v is None else
                         f"<td>{v['p50_corrected_us']:.2f} us ({v['p50_us']:.2f} raw; p90 {v['p90_us']:.1f}; "
                         f"{v['calls']} calls)</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    base = "; ".join(f"{html.escape(R.kernel)}: {html.escape(str(t.get('baseline_function')))} "
                     f"p50 {t['baseline_p50_us'] if t.get('baseline_p50_us') is not None else '-'} us"
                     for R, t, _ in traced)
    return ["<h2>In-kernel attribution (ftrace function_graph, guests)</h2>",
            "<p>Per-call duration, p50 with the tracer's own cost subtracted (baseline: "
            f"{base}); raw p50, p90 and calls in brackets. Taken in a separate traced pass, never in the timed run; "
            "emulated (tcg) durations compare only with each other.</p>",
            "<table>" + head + "".join(rows) + "</table>"]


def main(args):
    check_options(compare_options(args))
    if not 1 <= args.base <= len(args.results):
        raise ResultError(f"--base {args.base}: between 1 and {len(args.results)} (the number of results)")
    check_folder(args.out)  # before the work: a bad -o must not cost the plots
    results = [load(p) for p in args.results]
    written = build(results, args.out, args)
    print(f"swapbench report: wrote {os.path.join(args.out, 'index.html')} and {len(written)} plots: "
          + ", ".join(written))
    return 0

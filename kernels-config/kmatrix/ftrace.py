"""Per-call durations of the swap path's kernel functions from a function_graph trace (taken in a
guest, in a pass separate from the timed one), with ftrace's own cost subtracted.

The baseline is getppid (its __x64_sys_ entry point, or what the kernel lets ftrace trace), a
syscall that does next to nothing, called 20000 times: its
traced duration is what tracing one call costs. A traced function that calls other traced
functions pays that cost once for itself and once per traced call beneath it (at any depth), so
the correction is baseline x (1 + traced calls beneath it)."""
import re

import numpy as np

BASELINE = "__x64_sys_getppid"  # the usual name; the guest reports which one it could trace

# ' 0)   3.456 us    |  zswap_load();'  or  ' 0) + 15.234 us   |  } /* do_swap_page */'
#  or   ' 0)               |  do_swap_page() {'
_LINE = re.compile(r"^\s*\d+\)\s*(?:[+!#*@$]\s*)?(?P<dur>[\d.]+)?\s*(?:us)?\s*\|\s*(?P<body>.*)$")


def parse(lines):
    """-> {function: [(duration_us, traced_descendants)]}"""
    calls, stack = {}, []
    for line in lines:
        m = _LINE.match(line)
        if not m:
            continue  # headers, context-switch markers
        body, dur = m.group("body").strip(), m.group("dur")
        if body.endswith("() {"):
            stack.append([body[:-4], 0])
        elif body.startswith("}"):
            name = re.search(r"/\*\s*(\S+)\s*\*/", body)
            if not stack:
                continue  # the close of a call whose start fell before the trace began
            fn, inner = stack.pop()
            if name and name.group(1) != fn:
                stack.clear()  # lost track (a dropped event): start over rather than mis-attribute
                continue
            if dur:
                calls.setdefault(fn, []).append((float(dur), inner))
            if stack:
                stack[-1][1] += 1 + inner
        elif body.endswith("();") and dur:
            fn = body[:-3]
            calls.setdefault(fn, []).append((float(dur), 0))
            if stack:
                stack[-1][1] += 1
    return calls


def attribute(lines, functions_found, baseline=None):
    baseline = baseline or BASELINE
    calls = parse(lines)
    base = calls.get(baseline, [])
    base_p50 = float(np.median([d for d, _ in base])) if base else None
    out = {}
    for fn, cs in sorted(calls.items()):
        d = np.array([x for x, _ in cs])
        ch = np.array([c for _, c in cs], dtype=float)
        corr = d - (base_p50 or 0.0) * (1 + ch) if base_p50 is not None else d
        out[fn] = {"calls": len(cs), "p10_us": float(np.percentile(d, 10)), "p50_us": float(np.median(d)),
                   "p90_us": float(np.percentile(d, 90)), "p99_us": float(np.percentile(d, 99)),
                   "mean_us": float(d.mean()), "traced_beneath_mean": float(ch.mean()),
                   "p50_corrected_us": float(np.median(corr))}
    return {"tracer": "function_graph", "baseline_function": baseline if base else None, "baseline_p50_us": base_p50,
            "functions_found": functions_found, "functions": out,
            "note": "durations from a separate traced pass (swapin suite, zswap-lzo, 1024 pages), inflated by "
                    "the emulator under tcg; p50_corrected_us subtracts the baseline once per call and per traced "
                    "call beneath it (not subtracted when no baseline could be traced)"}

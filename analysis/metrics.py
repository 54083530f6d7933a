"""The declared table of metrics: what compare, report and history may judge, in which unit, which
direction is better, whether it is timed or exact, and which kinds of set have it.

A change's sign means the same everywhere: compare's "slower" is worse in the metric's own
direction (more ns per page, fewer pages per second written back), "faster" is better.

kind:
  timed   measured with noise: judged by statistics over repetitions (stats.py)
  exact   a count that does not vary by chance. With `check`, any non-zero value is a failure in
          itself (race: stale_pages), never a statistic. Without it: guest instructions counted
          by the count pass (issue 10; a set's swapbench.exact block, results/SCHEMA.md), one
          figure per set and its spread between repetitions and boots, judged by
          stats.exact_verdict (more / fewer / identical), never merged with a timed verdict.
"""
import math
from dataclasses import dataclass

from analysis.errors import ResultError
from analysis.output import fmt_ns

LOWER, HIGHER = "lower_is_better", "higher_is_better"
TIMED, EXACT = "timed", "exact"

# Set kinds (results/SCHEMA.md, benchmarks[].swapbench.kind). A writeback set's latency is the
# swap-in of its region afterwards, timed like a swap-in set's.
FAULT_KINDS = frozenset({"swapin", "swapout", "floor_swapcache", "floor_firsttouch", "writeback"})
MODEL_KINDS = frozenset({"recheck_model"})  # a model's entries hold only the mean (ns per lookup)


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    direction: str
    kind: str
    set_kinds: frozenset
    meaning: str
    path: tuple            # where a repetition's swapbench block holds it; () for Google Benchmark's real_time
    check: bool = False    # exact count where any non-zero is a failure
    # Exact counts (issue 10) only: where the set's spread between repetitions is (in the swapbench
    # block; () when the block declares none), and how one plugin report line gives the figure of
    # one repetition: (numerator path, denominator path or ()).
    spread: tuple = ()
    per_rep: tuple = ()

    def applies_to(self, set_kind):
        return set_kind in self.set_kinds

    def value(self, rep):
        """The metric in one repetition: a float, NaN when the entry does not carry it."""
        v = rep.real_time if not self.path else _dig(rep.sb, self.path)
        if v is None:
            return math.nan
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ResultError(f"{'.'.join(self.path) or 'real_time'} is {v!r} in a repetition, not a number")
        return float(v)

    def fmt(self, v):
        if v != v:  # NaN
            return "-"
        if self.counted:
            return fmt_count(v)
        if self.unit == "ns":
            return fmt_ns(v)
        if self.unit == "per page":
            return f"{v:.4g}"
        return f"{v:,.0f} {self.unit}"

    @property
    def better(self):
        return "lower" if self.direction == LOWER else "higher"

    @property
    def counted(self):
        """An instruction-count metric of the count pass (exact, not a check)."""
        return self.kind == EXACT and not self.check

    def exact_figures(self, block):
        """(figure, spread, per-repetition figures) of this metric in one set's exact block; the
        figure is NaN when the block does not carry it (a function not called in this set). The
        spread is the block's own where it declares one, else max - min over its repetitions."""
        v = _dig(block, self.path[1:])
        reps = []
        for r in block.get("per_repetition") or []:
            num = _dig(r, self.per_rep[0])
            den = _dig(r, self.per_rep[1]) if self.per_rep[1] else 1
            if _number(num) and _number(den) and den:
                reps.append(float(num) / float(den))
        sp = _dig(block, self.spread[1:]) if self.spread else None
        if not _number(sp):
            sp = (max(reps) - min(reps)) if reps else 0.0
        return (float(v) if _number(v) else math.nan), float(sp), reps


def _dig(d, path):
    for k in path:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def fmt_count(v):
    """Instructions or calls: whole numbers with thousands separators, fractions to 4 figures."""
    if v != v:
        return "-"
    if abs(v - round(v)) < 1e-9:
        return f"{v:,.0f}"
    return f"{v:,.1f}" if abs(v) >= 100 else f"{v:.4g}"


def _latency(name, meaning):
    return Metric(name, "ns", LOWER, TIMED, FAULT_KINDS, meaning, ("latency_ns", name))


METRICS = {m.name: m for m in (
    _latency("p50", "median per-page latency of the repetition"),
    _latency("p90", "90th percentile per-page latency"),
    _latency("p99", "99th percentile per-page latency"),
    _latency("p999", "99.9th percentile per-page latency"),
    Metric("mean", "ns", LOWER, TIMED, FAULT_KINDS | MODEL_KINDS,
           "mean per-page latency (Google Benchmark's real_time)", ()),
    _latency("min", "fastest page of the repetition"),
    Metric("pages_per_second", "pages/s", HIGHER, TIMED, frozenset({"writeback"}),
           "pages written back per second while writeback ran", ("writeback", "pages_per_second")),
    Metric("ns_per_written_back_page", "ns", LOWER, TIMED, frozenset({"writeback"}),
           "writeback time per written-back page", ("writeback", "ns_per_written_back_page")),
    Metric("stale_pages", "pages", LOWER, EXACT, frozenset({"race"}),
           "pages read back with an old generation's data during the writeback race", ("stale_pages",),
           check=True),
)}

# Exact instruction counts of the count pass (issue 10): one figure per set in its swapbench.exact
# block, from operations marked in the benchmark (each fault, page-out, writeback trigger). Lower is
# better: fewer instructions for the same work. Writeback sets count their triggers.
EXACT_KINDS = FAULT_KINDS
EXACT_BLOCK = "exact"
FUNCTION_PREFIX = "functions."
FUNCTION_FIGURES = ("instructions_per_call", "calls_per_op")

for _m in (
    Metric("kernel_instructions_per_op", "instructions/op", LOWER, EXACT, EXACT_KINDS,
           "guest kernel instructions per operation (median over operations, median over repetitions)",
           (EXACT_BLOCK, "kernel_instructions_per_op", "median"), spread=(EXACT_BLOCK, "spread", "kernel_median_per_op"),
           per_rep=(("kernel", "median"), ())),
    Metric("user_instructions_per_op", "instructions/op", LOWER, EXACT, EXACT_KINDS,
           "guest user instructions per operation between the markers (median, median over repetitions)",
           (EXACT_BLOCK, "user_instructions_per_op", "median"), spread=(EXACT_BLOCK, "spread", "user_median_per_op"),
           per_rep=(("user", "median"), ())),
):
    METRICS[_m.name] = _m


def function_metric(func, figure):
    """functions.FUNC.instructions_per_call (own instructions per call, callees excluded) or
    functions.FUNC.calls_per_op, of a kernel function the count pass lists."""
    if figure == "instructions_per_call":
        return Metric(f"{FUNCTION_PREFIX}{func}.{figure}", "instructions/call", LOWER, EXACT, EXACT_KINDS,
                      f"{func}'s own instructions per call (callees excluded)",
                      (EXACT_BLOCK, "functions", func, "instructions_per_call"),
                      spread=(EXACT_BLOCK, "functions", func, "spread_per_call"),
                      per_rep=(("functions", func, "instructions"), ("functions", func, "calls")))
    if figure == "calls_per_op":
        return Metric(f"{FUNCTION_PREFIX}{func}.{figure}", "calls/op", LOWER, EXACT, EXACT_KINDS,
                      f"calls of {func} per operation", (EXACT_BLOCK, "functions", func, "calls_per_op"),
                      per_rep=(("functions", func, "calls"), ("ops",)))
    raise ResultError(f"unknown function figure '{figure}'; accepted: {', '.join(FUNCTION_FIGURES)}")


def exact():
    """The exact instruction-count metrics declared above (functions.* come from each block)."""
    return [n for n, m in METRICS.items() if m.counted]


# Counters per page, from libpfm4 (benchmarks[].swapbench.pmu): fewer events per page is better,
# and multiplexing makes them noisy like a time.
PMU_PREFIX = "pmu."


def get(name):
    """The metric of that name (pmu.EVENT for any counter); ResultError names the accepted ones."""
    if name in METRICS:
        return METRICS[name]
    if name.startswith(PMU_PREFIX) and len(name) > len(PMU_PREFIX):
        return Metric(name, "per page", LOWER, TIMED, FAULT_KINDS - {"writeback"},
                      f"libpfm4 event {name[len(PMU_PREFIX):]} per page", ("pmu", name[len(PMU_PREFIX):]))
    if name.startswith(FUNCTION_PREFIX):
        func, _, figure = name[len(FUNCTION_PREFIX):].rpartition(".")
        if func and figure in FUNCTION_FIGURES:
            return function_metric(func, figure)
    raise ResultError(f"unknown metric '{name}'; accepted: {', '.join(statistics())}, or {PMU_PREFIX}EVENT; "
                      f"exact: {', '.join(exact())}, {FUNCTION_PREFIX}FUNC.instructions_per_call, "
                      f"{FUNCTION_PREFIX}FUNC.calls_per_op")


def statistics():
    """Timed metrics, what compare's and report's --metric accept: the checks are always applied
    and the exact counts always compared when both files carry them."""
    return [n for n, m in METRICS.items() if m.kind == TIMED]


def checks_for(set_kind):
    return [m for m in METRICS.values() if m.check and m.applies_to(set_kind)]


def names_for(set_kind):
    return [n for n, m in METRICS.items() if m.applies_to(set_kind)]

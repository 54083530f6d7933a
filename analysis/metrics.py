"""The declared table of metrics: what compare, report and history may judge, in which unit, which
direction is better, whether it is timed or exact, and which kinds of set have it.

A change's sign means the same everywhere: compare's "slower" is worse in the metric's own
direction (more ns per page, fewer pages per second written back), "faster" is better.

kind:
  timed   measured with noise: judged by statistics over repetitions (stats.py)
  exact   a count that does not vary by chance. With `check`, any non-zero value is a failure in
          itself (race: stale_pages), never a statistic. Exact instruction counts (per fault, per
          call; issue 10) will be exact metrics without `check`.
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
        if self.unit == "ns":
            return fmt_ns(v)
        if self.unit == "per page":
            return f"{v:.4g}"
        return f"{v:,.0f} {self.unit}"

    @property
    def better(self):
        return "lower" if self.direction == LOWER else "higher"


def _dig(d, path):
    for k in path:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


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
    raise ResultError(f"unknown metric '{name}'; accepted: {', '.join(statistics())}, or {PMU_PREFIX}EVENT")


def statistics():
    """Names a verb's --metric accepts: everything but the checks, which are always applied."""
    return [n for n, m in METRICS.items() if not m.check]


def checks_for(set_kind):
    return [m for m in METRICS.values() if m.check and m.applies_to(set_kind)]


def names_for(set_kind):
    return [n for n, m in METRICS.items() if m.applies_to(set_kind)]

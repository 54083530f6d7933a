"""The declared table of metrics: what compare, report and history may judge, in which unit, which
direction is better, whether it is timed or exact, and which kinds of set have it. The binary
declares them (analysis/manifest.py); this module adds how each is read from a result and shown.

A change's sign means the same everywhere: compare's "slower" is worse in the metric's own
direction (more ns per page, fewer pages per second written back), "faster" is better.

kind:
  timed   measured with noise: judged by statistics over repetitions (stats.py)
  exact   a count that does not vary by chance. With `check`, any non-zero value is a failure in
          itself (race: stale_pages), never a statistic. Without it: guest instructions counted
          by the count pass (a set's swapbench.exact block, results/SCHEMA.md), one figure per set
          and its spread between repetitions and boots, judged by stats.exact_verdict (more /
          fewer / identical), never merged with a timed verdict.
"""
import math
from dataclasses import dataclass

from analysis import manifest
from analysis.errors import ResultError
from analysis.output import fmt_ns

LOWER, HIGHER = manifest.DIRECTIONS
TIMED, EXACT = manifest.METRIC_KINDS

_M = manifest.load()
# Set kinds (results/SCHEMA.md, benchmarks[].swapbench.kind), as the binary declares them. A
# writeback set's latency is the swap-in of its region afterwards, timed like a swap-in set's.
FAULT_KINDS = _M.kinds_where(fault=True)
MODEL_KINDS = _M.kinds_where(model=True)  # a model's entries hold only the mean (ns per lookup)
# The kinds the analysis reads by their role (report's summary lines, calibrate's arms): looked up
# in the manifest, so a kind renamed in C++ stops every verb here with the name, not as an empty report.
SWAPIN, SWAPOUT, FLOOR_SWAPCACHE, WRITEBACK, RACE = (
    _M.kind(n).name for n in ("swapin", "swapout", "floor_swapcache", "writeback", "race"))


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
    # Counted exact metrics only, as the manifest declares them (manifest.MetricDecl): where the
    # set's spread between repetitions is, and how one plugin report line gives one repetition's figure.
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
        # Whole units hide what a figure of a few seconds differs by (2.59 s and 3.41 s both "3 s").
        return f"{v:.3g} {self.unit}" if abs(v) < 100 else f"{v:,.0f} {self.unit}"

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


# The count pass's block in a set's swapbench block (kmatrix/count.py writes it): one figure per set
# from operations marked in the benchmark (each fault, page-out, writeback trigger). Lower is better:
# fewer instructions for the same work. Writeback sets count their triggers.
EXACT_BLOCK = "exact"
# A family's placeholder as help and errors show it: a counter for timed families, a function for
# the count pass's.
_SHOWN_AS = {TIMED: "EVENT", EXACT: "FUNC"}


def _metric(d):
    return Metric(d.name, d.unit, d.direction, d.kind, d.set_kinds, d.meaning, d.path, d.check, d.spread, d.per_rep)


METRICS = {d.name: _metric(d) for d in _M.metrics if not d.family}
# Families: one metric per counter (pmu.EVENT) or per kernel function the count pass lists.
FAMILIES = tuple(d for d in _M.metrics if d.family)
_FUNCTION_FAMILIES = {d.path[3]: d for d in FAMILIES if d.path[:2] == (EXACT_BLOCK, "functions")}
FUNCTION_FIGURES = tuple(_FUNCTION_FAMILIES)
if not _FUNCTION_FAMILIES:
    raise manifest.ManifestError(f"{_M.path}: declares no family of per-function counts (exact.functions); "
                                 f"regenerate it with {manifest.REGENERATE}")
FUNCTION_PREFIX = next(iter(_FUNCTION_FAMILIES.values())).name.partition(manifest.PLACEHOLDER)[0]
# The kinds whose sets carry counters per page (the pmu.EVENT family): report's counters plot.
COUNTER_KINDS = frozenset().union(*(d.set_kinds for d in FAMILIES if d.path[:1] == ("pmu",)))


def function_metric(func, figure):
    """functions.FUNC.instructions_per_call (own instructions per call, callees excluded) or
    functions.FUNC.calls_per_op, of a kernel function the count pass lists."""
    d = _FUNCTION_FAMILIES.get(figure)
    if d is None:
        raise ResultError(f"unknown function figure '{figure}'; accepted: {', '.join(FUNCTION_FIGURES)}")
    return _metric(d.filled(func))


def exact():
    """The exact instruction-count metrics declared above (functions.* come from each block)."""
    return [n for n, m in METRICS.items() if m.counted]


def _shown(kind):
    return [d.name.replace(manifest.PLACEHOLDER, _SHOWN_AS[kind]) for d in FAMILIES if d.kind == kind]


def get(name):
    """The metric of that name (pmu.EVENT for any counter); ResultError names the accepted ones."""
    if name in METRICS:
        return METRICS[name]
    for d in FAMILIES:
        part = d.member(name)
        if part is not None:
            return _metric(d.filled(part))
    raise ResultError(f"unknown metric '{name}'; accepted: {', '.join(statistics())}, or {', '.join(_shown(TIMED))}; "
                      f"exact: {', '.join(exact() + _shown(EXACT))}")


def statistics():
    """Timed metrics, what compare's and report's --metric accept: the checks are always applied
    and the exact counts always compared when both files carry them."""
    return [n for n, m in METRICS.items() if m.kind == TIMED]


def checks_for(set_kind):
    return [m for m in METRICS.values() if m.check and m.applies_to(set_kind)]


def names_for(set_kind):
    return [n for n, m in METRICS.items() if m.applies_to(set_kind)]

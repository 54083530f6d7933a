"""One loader for every analysis command: reads a swapbench result file, checks both schema versions
(results/SCHEMA.md) and groups the iteration entries into sets with their repetitions.

Nothing here decides what an invalid set means; it only says which sets are invalid and why, so
each command can refuse them by name.
"""
import json
import os
from dataclasses import dataclass, field

import numpy as np

GBENCH_SCHEMA = 1      # Google Benchmark's context.json_schema_version
SWAPBENCH_SCHEMA = 1   # context.swapbench.schema_version (results/SCHEMA.md)

# Per-repetition statistics a command can compare. Every one is a time per page in ns, and for
# every one lower is better: a ratio B/A above 1 always means B is slower.
METRICS = {
    "p50": "median per-page latency of the repetition",
    "p90": "90th percentile per-page latency",
    "p99": "99th percentile per-page latency",
    "p999": "99.9th percentile per-page latency",
    "mean": "mean per-page latency (Google Benchmark's real_time)",
    "min": "fastest page of the repetition",
}


class ResultError(Exception):
    """A file that cannot be used, with the reason and what would be accepted."""


@dataclass
class Rep:
    index: int
    sb: dict
    real_time: float
    error: str | None

    @property
    def valid(self):
        return self.error is None and bool(self.sb.get("valid"))

    @property
    def reason(self):
        return self.error or self.sb.get("invalid_reason") or "marked invalid"

    def value(self, metric):
        if metric == "mean":
            return float(self.real_time)
        if metric.startswith("pmu."):
            v = (self.sb.get("pmu") or {}).get(metric[4:])
            return float("nan") if v is None else float(v)
        v = self.sb["latency_ns"].get(metric)
        return float("nan") if v is None else float(v)  # a model's entries hold only the mean


@dataclass
class SetResult:
    name: str
    reps: list = field(default_factory=list)

    def _first(self, key, default=None):
        return self.reps[0].sb.get(key, default) if self.reps else default

    kind = property(lambda s: s._first("kind"))
    backend = property(lambda s: s._first("backend"))
    compressor = property(lambda s: s._first("compressor"))
    zpool = property(lambda s: s._first("zpool"))
    profile = property(lambda s: s._first("profile"))
    pattern = property(lambda s: s._first("pattern"))
    pages = property(lambda s: s._first("pages"))
    fault = property(lambda s: s._first("fault"))
    inject_ns = property(lambda s: s._first("inject_ns", 0))
    variant = property(lambda s: s._first("variant", ""))

    def scenario(self):
        """What must match for two sets of the same name to be compared (the injected delay is a
        deliberate treatment, not part of the scenario)."""
        return {"pages": self.pages, "fault": self.fault, "profile": self.profile, "pattern": self.pattern,
                "kind": self.kind, "backend": self.backend, "compressor": self.compressor}

    def invalid_reason(self):
        """None when every repetition is valid; otherwise why not, naming the first reason."""
        bad = [r for r in self.reps if not r.valid]
        if not self.reps:
            return "no repetitions"
        if not bad:
            return None
        return f"{len(bad)} of {len(self.reps)} repetitions invalid: {bad[0].reason}"

    def values(self, metric):
        """The metric per valid repetition, in repetition order."""
        if metric not in METRICS and not metric.startswith("pmu."):
            raise ResultError(f"unknown metric '{metric}'; accepted: {', '.join(METRICS)}, or pmu.EVENT")
        v = np.array([r.value(metric) for r in self.reps if r.valid], dtype=float)
        return v[~np.isnan(v)]

    def merged_histogram(self):
        """Bucket counts summed over valid repetitions: [(lo_ns, hi_ns, count)], sorted."""
        acc = {}
        for r in self.reps:
            if not r.valid:
                continue
            for lo, hi, n in r.sb.get("histogram", {}).get("buckets", []):
                acc[(lo, hi)] = acc.get((lo, hi), 0) + n
        return [(lo, hi, n) for (lo, hi), n in sorted(acc.items())]


@dataclass
class Result:
    path: str
    context: dict
    sets: dict  # name -> SetResult, in file order

    @property
    def sb(self):
        return self.context["swapbench"]

    @property
    def accelerator(self):
        return self.sb.get("accelerator", "unknown")

    @property
    def kernel(self):
        return self.sb.get("kernel", {}).get("release", "unknown")

    @property
    def date(self):
        return self.context.get("date", "")

    @property
    def host(self):
        return self.context.get("host_name", "unknown")

    def machine_key(self):
        """Results are comparable over time only within one machine and accelerator."""
        return (self.host, self.sb.get("cpu_model", "unknown"), self.accelerator)

    def label(self):
        return f"{self.kernel} {self.accelerator} {self.date[:10]}"


def load(path):
    """Reads and checks one result file; raises ResultError naming the file and the problem."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except FileNotFoundError:
        raise ResultError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ResultError(f"{path}: is a folder; give a result file (results/*.json)") from None
    except UnicodeDecodeError:
        raise ResultError(f"{path}: not a text file; a swapbench result is JSON") from None
    except json.JSONDecodeError as e:
        raise ResultError(f"{path}: not valid JSON ({e.msg} at line {e.lineno} column {e.colno}); "
                          "truncated or corrupt? A failed run never overwrites a result, so an earlier "
                          "file may still be intact") from None
    if not isinstance(doc, dict) or "context" not in doc or "benchmarks" not in doc:
        raise ResultError(f"{path}: not a Google Benchmark result (no 'context' and 'benchmarks'); "
                          "expected a file written by ./swapbench run")
    ctx = doc["context"]
    v = ctx.get("json_schema_version")
    if v != GBENCH_SCHEMA:
        raise ResultError(f"{path}: context.json_schema_version is {v!r}; this analysis reads {GBENCH_SCHEMA}")
    sbctx = ctx.get("swapbench")
    if not isinstance(sbctx, dict):
        raise ResultError(f"{path}: a Google Benchmark file without a 'swapbench' context: written by another "
                          "benchmark, not by ./swapbench run")
    sv = sbctx.get("schema_version")
    if sv != SWAPBENCH_SCHEMA:
        raise ResultError(f"{path}: swapbench schema_version is {sv!r}; this analysis reads {SWAPBENCH_SCHEMA} "
                          "(results/SCHEMA.md); a newer file needs a newer swapbench")
    sets = {}
    for b in doc["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        sb = b.get("swapbench")
        if not isinstance(sb, dict) or "latency_ns" not in sb:
            raise ResultError(f"{path}: benchmark '{b.get('name')}' has no swapbench block with latency_ns")
        s = sets.setdefault(b["name"], SetResult(b["name"]))
        err = b.get("error_message") if b.get("error_occurred") else None
        s.reps.append(Rep(int(b.get("repetition_index", len(s.reps))), sb, float(b.get("real_time", 0.0)), err))
    if not sets:
        raise ResultError(f"{path}: holds no benchmark repetitions")
    for s in sets.values():
        s.reps.sort(key=lambda r: r.index)
    return Result(os.path.abspath(path), ctx, sets)


def load_many(paths):
    return [load(p) for p in paths]


def find_results(folder):
    """Every swapbench result under folder (recursively), and the files skipped with why."""
    found, skipped = [], []
    for root, _dirs, files in os.walk(folder):
        for n in sorted(files):
            if not n.endswith(".json"):
                continue
            p = os.path.join(root, n)
            try:
                found.append(load(p))
            except ResultError as e:
                skipped.append(str(e))
    return found, skipped

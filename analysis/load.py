"""One loader for every analysis command: reads a swapbench result file, checks both schema versions
(results/SCHEMA.md) and groups the iteration entries into sets with their repetitions.

Nothing here decides what an invalid set means; it only says which sets are invalid and why, so
each command can refuse them by name.
"""
import json
import os
import stat
from dataclasses import dataclass, field

import numpy as np

from analysis import metrics
from analysis.errors import ResultError

GBENCH_SCHEMA = 1      # Google Benchmark's context.json_schema_version
SWAPBENCH_SCHEMA = 1   # context.swapbench.schema_version (results/SCHEMA.md)


@dataclass(frozen=True)
class SetId:
    """What a set is, from its entries' swapbench block (never from its name, which is only a
    key: a profile like file:PATH holds slashes of its own)."""
    name: str
    kind: str | None
    backend: str | None
    compressor: str | None
    profile: str | None
    pattern: str | None
    fault: str | None
    variant: str | None

    FIELDS = ("kind", "backend", "compressor", "profile", "pattern", "fault", "variant")

    @classmethod
    def of(cls, name, sb):
        return cls(name, *(sb.get(k) for k in cls.FIELDS))

    def fields(self):
        return {k: getattr(self, k) for k in self.FIELDS}


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
        return metrics.get(metric).value(self)


@dataclass
class SetResult:
    name: str
    reps: list = field(default_factory=list)

    @property
    def id(self):
        return SetId.of(self.name, self.reps[0].sb if self.reps else {})

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

    def values(self, metric, valid_only=True):
        """The metric per repetition (valid ones only unless asked), in repetition order; a
        repetition that does not carry it is left out."""
        m = metrics.get(metric)
        try:
            v = np.array([m.value(r) for r in self.reps if r.valid or not valid_only], dtype=float)
        except ResultError as e:
            raise ResultError(f"{self.name}: {e}") from None
        return v[~np.isnan(v)]

    def host_ref_ns(self):
        """Per valid repetition, the host reference loop's median ns (workloads/measure/host_ref.h); empty
        for results made before it existed."""
        return np.array([r.sb["host_ref"]["loop_ns_p50"] for r in self.reps
                         if r.valid and isinstance(r.sb.get("host_ref"), dict)], dtype=float)

    def merged_histogram(self):
        """Bucket counts summed over valid repetitions: [(lo_ns, hi_ns, count)], sorted."""
        acc = {}
        for r in self.reps:
            if not r.valid:
                continue
            for lo, hi, n in (r.sb.get("histogram") or {}).get("buckets", []):
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

    def timing_machine(self):
        """(host name, CPU model) of the machine whose CPU ran the timed loops, None where unknown.
        A guest's own CPU model is QEMU's ("QEMU TCG CPU"), the same on every host: its timings
        belong to the host it ran on (matrix.host; guest results older than that field
        carry none)."""
        m = self.sb.get("matrix")
        if m is not None:
            h = m.get("host") or {}
            return (h.get("name"), h.get("cpu_model"))
        return (self.context.get("host_name"), self.sb.get("cpu_model"))

    def label(self):
        return f"{self.kernel} {self.accelerator} {self.date[:10]}"

    def host_ref_ns(self):
        """The run's median of the host reference loop over every valid repetition (NaN without)."""
        v = np.concatenate([s.host_ref_ns() for s in self.sets.values()] or [np.array([])])
        return float(np.median(v)) if v.size else float("nan")

    def host_slower(self, s):
        """How much slower the host ran during set s than the run's median (+0.1 = 10%); NaN without."""
        v = s.host_ref_ns()
        return float(np.median(v)) / self.host_ref_ns() - 1 if v.size else float("nan")


# Objects the verbs read into (results/SCHEMA.md): checked once here, so a damaged file is refused
# by name instead of failing deep inside a verb.
CONTEXT_OBJECTS = {"kernel": dict, "binding": dict, "zswap_params_found": dict, "inject": dict, "ftrace": dict,
                   "matrix": dict, "events_unavailable": list, "exact": dict}
SET_OBJECTS = {"interleaved": dict, "host_ref": dict, "latency_ns": dict, "histogram": dict, "pmu": dict, "deltas": dict, "writeback": dict, "race": dict,
               "exact": dict}


def _check_shapes(path, where, block, shapes):
    for key, typ in shapes.items():
        if key in block and block[key] is not None and not isinstance(block[key], typ):
            raise ResultError(f"{path}: {where}: '{key}' is a {type(block[key]).__name__}, not a "
                              f"{'JSON object' if typ is dict else 'JSON list'} (results/SCHEMA.md)")


def _kind(mode):
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path, accepted="a result file (results/*.json)"):
    """path opened for reading as text, if it is a regular file; ResultError naming what it is
    otherwise. O_NONBLOCK so that a FIFO cannot hold the open, and the check is on what was opened
    (fstat), not on the name: /dev/zero would feed json.load for ever, a FIFO would wait for a writer."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except FileNotFoundError:
        raise ResultError(f"{path}: no such file; give {accepted}") from None
    except OSError as e:
        raise ResultError(f"{path}: cannot read ({e.strerror}); give {accepted}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise ResultError(f"{path}: is a folder; give {accepted}")
        raise ResultError(f"{path}: is {_kind(mode)}, not a regular file; give {accepted}")
    os.set_blocking(fd, True)
    return open(fd, encoding="utf-8")


def load(path):
    """Reads and checks one result file; raises ResultError naming the file and the problem."""
    try:
        with open_regular(path) as f:
            doc = json.load(f)
    except OSError as e:
        raise ResultError(f"{path}: cannot read ({e.strerror}); give a readable result file") from None
    except UnicodeDecodeError:
        raise ResultError(f"{path}: not a text file; a swapbench result is JSON") from None
    except json.JSONDecodeError as e:
        raise ResultError(f"{path}: not valid JSON ({e.msg} at line {e.lineno} column {e.colno}); "
                          "truncated or corrupt? A failed run never overwrites a result, so an earlier "
                          "file may still be intact") from None
    except RecursionError:
        raise ResultError(f"{path}: JSON nested too deeply to be a swapbench result") from None
    if (not isinstance(doc, dict) or not isinstance(doc.get("context"), dict)
            or not isinstance(doc.get("benchmarks"), list)):
        raise ResultError(f"{path}: not a Google Benchmark result (no 'context' object and 'benchmarks' list); "
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
    _check_shapes(path, "context.swapbench", sbctx, CONTEXT_OBJECTS)
    sets = {}
    for i, b in enumerate(doc["benchmarks"]):
        if not isinstance(b, dict):
            raise ResultError(f"{path}: benchmark entry {i} is a {type(b).__name__}, not a JSON object")
        if b.get("run_type") != "iteration":
            continue
        name = b.get("name")
        sb = b.get("swapbench")
        if not isinstance(name, str) or not isinstance(sb, dict) or "latency_ns" not in sb:
            raise ResultError(f"{path}: benchmark entry {i} ('{name}') has no name or no swapbench block with "
                              "latency_ns")
        _check_shapes(path, f"benchmark entry {i} ('{name}')", sb, SET_OBJECTS)
        lat = sb["latency_ns"] or {}
        if not all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in lat.values()):
            raise ResultError(f"{path}: benchmark entry {i} ('{name}'): latency_ns holds something other than numbers")
        buckets = (sb.get("histogram") or {}).get("buckets", [])
        if not isinstance(buckets, list) or not all(
                isinstance(x, list) and len(x) == 3 and all(isinstance(v, (int, float)) for v in x) for x in buckets):
            raise ResultError(f"{path}: benchmark entry {i} ('{name}'): histogram.buckets is not a list of "
                              "[lo_ns, hi_ns, count]")
        s = sets.setdefault(name, SetResult(name))
        try:
            s.reps.append(Rep(int(b.get("repetition_index", len(s.reps))), sb, float(b.get("real_time", 0.0)),
                              str(b.get("error_message")) if b.get("error_occurred") else None))
        except (TypeError, ValueError):
            raise ResultError(f"{path}: benchmark entry {i} ('{name}'): repetition_index or real_time is not a "
                              "number") from None
    if not sets:
        raise ResultError(f"{path}: holds no benchmark repetitions")
    for s in sets.values():
        s.reps.sort(key=lambda r: r.index)
    return Result(os.path.abspath(path), ctx, sets)


def load_many(paths):
    return [load(p) for p in paths]

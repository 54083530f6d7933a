"""The binary's description of itself as data: its kinds of set, suites, backends and metrics
(results/manifest.json, which `swapbench list --json` prints; the repository keeps a copy so that
compare, report and history work without a build). Python takes every kind, suite and metric
name from here rather than typing its own list, so a kind or suite added in C++ reaches the
analysis and the matrix with no Python edit.

Only this module reads the file; it refuses a missing file, another manifest_version or an entry
without the fields below, naming the file and what would be accepted.
"""
import json
import os
import sys
from dataclasses import dataclass
from functools import lru_cache

from analysis.errors import ResultError

VERSION = 1
PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "results", "manifest.json")
REGENERATE = "build/bench/swapbench list --json > results/manifest.json"
# A metric family's name, path and meaning hold this where the run fills in a counter or function.
PLACEHOLDER = "{}"
DIRECTIONS = ("lower_is_better", "higher_is_better")
METRIC_KINDS = ("timed", "exact")


class ManifestError(ResultError):
    """The manifest cannot be read as this version describes it: bad input, exit 2."""


@dataclass(frozen=True)
class Kind:
    name: str
    short: str          # a row label in tables ("in" for swapin)
    fault: bool         # its latency is a per-page fault timing
    model: bool         # a user-space model: its entries hold only the mean
    privileged: bool = True
    threads: bool = False


@dataclass(frozen=True)
class Suite:
    name: str
    kinds: tuple
    pages: int
    repetitions: int
    guest_pages: object  # pages per set in a guest unless asked; None: the suite sizes its own region
    mte: bool            # arm64 MTE: tagged sets beside untagged ones
    model: bool = False
    interleaved: bool = False
    known_work: bool = False


@dataclass(frozen=True)
class MetricDecl:
    name: str
    unit: str
    direction: str
    kind: str            # timed or exact
    set_kinds: frozenset
    path: tuple          # where a repetition's swapbench block holds it; () for Google Benchmark's real_time
    check: bool
    meaning: str
    family: bool = False  # name, path and meaning hold PLACEHOLDER (a counter, a function)
    # Counted exact metrics only: where the set's exact block holds the spread between repetitions
    # (() when it declares none), and how one repetition's plugin report gives the figure:
    # (numerator path, denominator path or () for 1).
    spread: tuple = ()
    per_rep: tuple = ()

    def filled(self, part):
        """A family's member: the placeholder replaced by part (a counter's or a function's name)."""
        f = lambda s: s.replace(PLACEHOLDER, part)
        path = lambda p: tuple(f(k) for k in p)
        return MetricDecl(f(self.name), self.unit, self.direction, self.kind, self.set_kinds, path(self.path),
                          self.check, f(self.meaning), False, path(self.spread), tuple(path(p) for p in self.per_rep))

    def member(self, name):
        """The part of name the placeholder stands for, when name is one of this family's; else None."""
        head, _, tail = self.name.partition(PLACEHOLDER)
        if self.family and len(name) > len(head) + len(tail) and name.startswith(head) and name.endswith(tail):
            return name[len(head):len(name) - len(tail)]
        return None


@dataclass(frozen=True)
class Option:
    flag: str
    type: str        # integer, number, string, flag or list
    default: object  # as the declaration prints it (text), or None
    help: str


@dataclass(frozen=True)
class Manifest:
    path: str
    kinds: dict      # name -> Kind, in the binary's order
    suites: dict     # name -> Suite
    backends: tuple
    metrics: tuple   # MetricDecl, in the binary's order
    options: dict = None  # verb or program -> {flag: Option}

    def option(self, program, flag):
        """An option a verb or program of the binary declares; ManifestError when it declares none."""
        opts = (self.options or {}).get(program)
        if opts is None:
            raise ManifestError(f"{self.path}: declares no options of '{program}'; regenerate it with {REGENERATE}")
        return self._named(opts, f"option of {program}", flag)

    def kind(self, name):
        """The kind of that name; ManifestError when the binary declares none (a name Python relies on)."""
        return self._named(self.kinds, "kind", name)

    def suite(self, name):
        return self._named(self.suites, "suite", name)

    def kinds_where(self, **flags):
        return frozenset(k.name for k in self.kinds.values() if all(getattr(k, f) == v for f, v in flags.items()))

    def _named(self, table, what, name):
        if name not in table:
            raise ManifestError(f"{self.path}: declares no {what} '{name}' (declared: {', '.join(table)}); "
                                f"regenerate it with {REGENERATE}")
        return table[name]


def _field(path, where, entry, key, types, default=None, required=True):
    if key not in entry:
        if required:
            raise ManifestError(f"{path}: {where} has no '{key}'; regenerate it with {REGENERATE}")
        return default
    v = entry[key]
    if not isinstance(v, types) or (isinstance(v, bool) and bool not in _tuple(types)):
        raise ManifestError(f"{path}: {where}.{key} is {v!r}, not {_names(types)}")
    return v


def _tuple(t):
    return t if isinstance(t, tuple) else (t,)


def _names(types):
    return " or ".join("null" if t is type(None) else t.__name__ for t in _tuple(types))


def _entries(path, doc, key):
    v = doc.get(key)
    if not isinstance(v, list) or not all(isinstance(e, dict) for e in v):
        raise ManifestError(f"{path}: '{key}' is not a list of objects; regenerate it with {REGENERATE}")
    return v


def _kind(path, i, e):
    w = f"kinds[{i}]"
    return Kind(_field(path, w, e, "name", str), _field(path, w, e, "short", str), _field(path, w, e, "fault", bool),
                _field(path, w, e, "model", bool), _field(path, w, e, "privileged", bool, True, False),
                _field(path, w, e, "threads", bool, False, False))


def _suite(path, i, e, kinds):
    w = f"suites[{i}]"
    ks = tuple(_field(path, w, e, "kinds", list))
    unknown = [k for k in ks if k not in kinds]
    if unknown:
        raise ManifestError(f"{path}: {w}.kinds names {', '.join(map(str, unknown))}, not a declared kind")
    return Suite(_field(path, w, e, "name", str), ks, _field(path, w, e, "pages", int),
                 _field(path, w, e, "repetitions", int),
                 _field(path, w, e, "guest_pages", (int, type(None))), _field(path, w, e, "mte", bool),
                 _field(path, w, e, "model", bool, False, False), _field(path, w, e, "interleaved", bool, False, False),
                 _field(path, w, e, "known_work", bool, False, False))


def _reading(path, w, e):
    """(spread, per_rep) of a counted metric's entry: both required, since without them compare
    would judge its counts with no spread and no repetitions."""
    per = _field(path, w, e, "per_repetition", dict)
    return (tuple(_field(path, w, e, "spread", list)),
            (tuple(_field(path, f"{w}.per_repetition", per, "value", list)),
             tuple(_field(path, f"{w}.per_repetition", per, "over", list))))


def _metric(path, i, e, kinds):
    w = f"metrics[{i}]"
    kind, check = _field(path, w, e, "kind", str), _field(path, w, e, "check", bool)
    m = MetricDecl(_field(path, w, e, "name", str), _field(path, w, e, "unit", str),
                   _field(path, w, e, "direction", str), kind,
                   frozenset(_field(path, w, e, "set_kinds", list)), tuple(_field(path, w, e, "path", list)),
                   check, _field(path, w, e, "meaning", str), _field(path, w, e, "family", bool, False, False),
                   *(_reading(path, w, e) if kind == METRIC_KINDS[1] and not check else ()))
    for key, v, accepted in (("direction", m.direction, DIRECTIONS), ("kind", m.kind, METRIC_KINDS)):
        if v not in accepted:
            raise ManifestError(f"{path}: {w}.{key} is '{v}'; accepted: {', '.join(accepted)}")
    unknown = sorted(k for k in m.set_kinds if k not in kinds)
    if unknown:
        raise ManifestError(f"{path}: {w}.set_kinds names {', '.join(map(str, unknown))}, not a declared kind")
    if m.family != (PLACEHOLDER in m.name):
        raise ManifestError(f"{path}: {w} '{m.name}': a family's name holds '{PLACEHOLDER}', and only a family's")
    return m


def _options(path, doc):
    groups = doc.get("options")
    if not isinstance(groups, dict):
        raise ManifestError(f"{path}: 'options' is not an object; regenerate it with {REGENERATE}")
    out = {}
    for program in groups:
        opts = {}
        for i, e in enumerate(_entries(path, groups, program)):
            w = f"options.{program}[{i}]"
            o = Option(_field(path, w, e, "flag", str), _field(path, w, e, "type", str),
                       _field(path, w, e, "default", (str, type(None))), _field(path, w, e, "help", str))
            opts[o.flag] = o
        out[program] = opts
    return out


def _unique(path, what, names):
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ManifestError(f"{path}: {what} {', '.join(twice)} declared more than once")


def load(path=None):
    """The manifest at path (default: the repository's copy, PATH); ManifestError names the file
    and why."""
    return _load(path or PATH)


@lru_cache(maxsize=None)
def _load(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except FileNotFoundError:
        raise ManifestError(f"{path}: missing; it is generated from the binary: {REGENERATE}") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ManifestError(f"{path}: cannot read it as JSON ({e}); regenerate it with {REGENERATE}") from None
    if not isinstance(doc, dict):
        raise ManifestError(f"{path}: not a JSON object; regenerate it with {REGENERATE}")
    v = doc.get("manifest_version")
    if v != VERSION or isinstance(v, bool):
        raise ManifestError(f"{path}: manifest_version is {v!r}; this analysis reads {VERSION} (regenerate it "
                            f"with {REGENERATE}, or use the analysis of the same commit as the binary)")
    kinds = [_kind(path, i, e) for i, e in enumerate(_entries(path, doc, "kinds"))]
    names = {k.name: k for k in kinds}
    suites = [_suite(path, i, e, names) for i, e in enumerate(_entries(path, doc, "suites"))]
    metrics = tuple(_metric(path, i, e, names) for i, e in enumerate(_entries(path, doc, "metrics")))
    backends = tuple(_field(path, f"backends[{i}]", e, "name", str)
                     for i, e in enumerate(_entries(path, doc, "backends")))
    for what, ns in (("kind", [k.name for k in kinds]), ("suite", [s.name for s in suites]),
                     ("metric", [m.name for m in metrics]), ("backend", list(backends))):
        _unique(path, what, ns)
    return Manifest(path, names, {s.name: s for s in suites}, backends, metrics, _options(path, doc))


def require(prog, path=None):
    """At a command's start: the manifest, or its error on stderr and exit 2 (bad input, as for a
    bad flag), before any module that takes names from it is imported."""
    try:
        return load(path)
    except ManifestError as e:
        print(f"{prog}: {e}", file=sys.stderr)
        sys.exit(2)

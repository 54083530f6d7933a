"""Where results and calibrations live, and finding them: the only place analysis knows the layout.

  $SWAPBENCH_RESULTS_DIR, else <repo>/results     result files (results/SCHEMA.md), any depth
  <results>/calibration/                          calibrations, and the calibrate suite's raw runs

The C++ binary and the front door locate results/ the same way (one rule: the environment
variable, else the repository's folder).
"""
import json
import os
import time

from analysis import environment, manifest
from analysis.errors import OutputError, ResultError
from analysis.load import load, open_regular
from analysis.writer import make_folder

CALIBRATION_SCHEMA = "swapbench-calibration/1"
# /2: the interleaved design (analysis/calibrate.py); noise_threshold means the same in both.
CALIBRATION_SCHEMAS = (CALIBRATION_SCHEMA, "swapbench-calibration/2")
# analysis/between_runs.py writes these; the store finds them.
BETWEEN_RUNS_SCHEMA = "swapbench-between-runs/1"


def results_dir():
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return environment.from_env("SWAPBENCH_RESULTS_DIR", "folder") or os.path.join(top, "results")


def calibrations_dir(folder=None):
    """folder if given (compare --calibrations), else the store's calibration folder."""
    return folder or os.path.join(results_dir(), "calibration")


def list_results(folder=None):
    """Every swapbench result under folder (default: the results folder), recursively, in path
    order, and the .json files skipped with why (a calibration, notes, a broken file). The binary's
    manifest, checked in beside the results, is not a result and not worth a mention."""
    found, skipped = [], []
    own = os.path.realpath(manifest.PATH)
    for root, dirs, files in os.walk(folder or results_dir()):
        dirs.sort()
        for n in sorted(files):
            if not n.endswith(".json"):
                continue
            p = os.path.join(root, n)
            if os.path.realpath(p) == own:
                continue
            try:
                found.append(load(p))
            except ResultError as e:
                skipped.append(str(e))
    return found, skipped


def _machine(doc):
    m = doc.get("machine")
    if not isinstance(m, dict):
        return None
    return (m.get("host"), m.get("cpu_model"), m.get("accelerator"))


def read_calibration(path):
    """A calibration document, or None when the file is not one (another schema, broken)."""
    try:
        with open_regular(path, "a calibration file") as f:  # a FIFO named *.json must not hang compare
            doc = json.load(f)
    except (OSError, UnicodeDecodeError, ValueError, ResultError):
        return None
    if not isinstance(doc, dict) or doc.get("schema") not in CALIBRATION_SCHEMAS or not isinstance(doc.get("date"), str):
        return None
    return doc


def find_calibration(machine, metric="p50", folder=None):
    """The newest calibration of `metric` made on `machine` ((host, cpu_model, accelerator), as
    Result.machine_key() gives it): (doc, path), or None."""
    best = None
    d = calibrations_dir(folder)
    try:
        names = sorted(os.listdir(d))
    except OSError:  # no calibration folder yet: nothing calibrated, the default threshold applies
        return None
    for n in names:
        if not n.endswith(".json"):
            continue
        path = os.path.join(d, n)
        doc = read_calibration(path)
        if doc is None or _machine(doc) != tuple(machine) or doc.get("metric") != metric:
            continue
        if not isinstance(doc.get("noise_threshold"), (int, float)):
            continue
        if best is None or doc["date"] > best[0]["date"]:
            best = (doc, path)
    return best


def calibration_path(host, accelerator, date, folder=None):
    """Where a calibration is stored unless --out says otherwise: <host>-<accelerator>-<date>.json."""
    stamp = date.replace("-", "").replace(":", "")
    return os.path.join(calibrations_dir(folder), f"{host}-{accelerator}-{stamp}.json")


def new_run_path(folder=None):
    """Where the calibrate suite's raw result goes: beside the calibrations it feeds."""
    return os.path.join(calibrations_dir(folder), "run-" + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + ".json")


def prepare_calibrations_dir(folder=None):
    """The calibration folder is the store's own: it may be created, and so may the results folder
    itself (as `swapbench run` creates it), but never a missing parent: a mistyped
    $SWAPBENCH_RESULTS_DIR is an error, not a new tree."""
    d = calibrations_dir(folder)
    if folder is None and not os.path.isdir(results_dir()):
        if not os.path.isdir(os.path.dirname(os.path.abspath(results_dir()))):
            raise OutputError(f"{results_dir()}: neither the results folder nor its parent exists (set "
                              "SWAPBENCH_RESULTS_DIR to a folder whose parent exists, or --out FILE)")
        make_folder(results_dir())
    make_folder(d)
    return d


def find_between_runs(machine, metric="p50", folder=None):
    """The newest between-run calibration (analysis/between_runs.py) of `metric` on `machine`:
    (doc, path), or None."""
    best = None
    d = calibrations_dir(folder)
    try:
        names = sorted(os.listdir(d))
    except OSError:
        return None
    for n in names:
        if not n.endswith(".json"):
            continue
        path = os.path.join(d, n)
        try:
            with open_regular(path, "a calibration file") as f:
                doc = json.load(f)
        except (OSError, UnicodeDecodeError, ValueError, ResultError):
            continue
        if not isinstance(doc, dict) or doc.get("schema") != BETWEEN_RUNS_SCHEMA or _machine(doc) != tuple(machine):
            continue
        if doc.get("metric") != metric or not isinstance(doc.get("between_run_threshold"), (int, float)):
            continue
        if best is None or str(doc.get("date")) > str(best[0].get("date")):
            best = (doc, path)
    return best

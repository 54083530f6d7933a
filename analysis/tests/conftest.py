"""Fixtures: result files made by the suite on a 2-vCPU cloud VM (see fixtures/README.md), and helpers that
derive a changed copy of one in a temporary folder for the tests that need a bad input."""
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from analysis.__main__ import main as analysis_main

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
QUICK_A = os.path.join(FIXTURES, "quick-a.json")
QUICK_SHIFTED = os.path.join(FIXTURES, "quick-inject5000.json")
CALIBRATE = os.path.join(FIXTURES, "calibrate-small.json")
ZSWAP_LZO = "swapin/zswap/lzo/ratio2/random"


def read(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture
def derive(tmp_path):
    """derive(src, name, change) -> path of a copy of src with change(doc) applied."""
    def make(src, name, change):
        doc = copy.deepcopy(read(src))
        change(doc)
        p = tmp_path / name
        p.write_text(json.dumps(doc))
        return str(p)
    return make


@pytest.fixture
def run(capsys):
    """run(*argv) -> (exit status, stdout, stderr) of an analysis verb, in process."""
    def call(*argv):
        rc = analysis_main([str(a) for a in argv])
        out = capsys.readouterr()
        return rc, out.out, out.err
    return call


NOBODY = 65534
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class OrdinaryUser:
    """An ordinary user, for what permission bits refuse: the user running the tests when that is
    not root; as root (CI runs the tests as root), nobody, through setpriv. Without this, root would
    skip those tests, since permission bits refuse root nothing, and CI would never run them."""

    def __init__(self):
        self.root = os.geteuid() == 0
        self.folder = tempfile.mkdtemp(prefix="swapbench-user-")  # not tmp_path: root's is 0700
        self.own(self.folder)

    def own(self, path):
        """path made the user's (it is already when the tests run as an ordinary user)."""
        if self.root:
            os.chown(path, NOBODY, NOBODY)

    def run(self, argv, home=None):
        """argv run as the user, from /, in a clean environment with analysis/ importable; HOME is
        the user's folder unless home says otherwise."""
        if self.root:
            argv = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--", *argv]
        env = {"PATH": "/usr/bin:/bin", "HOME": home or self.folder, "PYTHONPATH": ROOT,
               "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg"}
        return subprocess.run([str(a) for a in argv], cwd="/", env=env, capture_output=True, text=True, timeout=120)

    def python(self, *args, home=None):
        return self.run([sys.executable, *args], home=home)


@pytest.fixture
def ordinary_user():
    user = OrdinaryUser()
    yield user
    shutil.rmtree(user.folder, ignore_errors=True)


def iterations(doc, name):
    return [b for b in doc["benchmarks"] if b["name"] == name and b["run_type"] == "iteration"]
# ./swapbench matrix results (TCG guests), see fixtures/README.md
MATRIX_61 = os.path.join(FIXTURES, "matrix-debian-6.1-tcg.json")
MATRIX_612 = os.path.join(FIXTURES, "matrix-debian-6.12-tcg.json")


def add_writeback_and_race(doc, rate=50000.0, stale=0):
    """Adds a writeback set (pages_per_second from `rate` up, one step per repetition) and a race set
    with `stale` stale pages, shaped as bench/kinds/race.cpp writes them, built from the zswap
    swap-in set's entries: no fixture of the suite has them yet."""
    its = iterations(doc, ZSWAP_LZO)
    for i, b in enumerate(its):
        w = copy.deepcopy(b)
        w["name"] = "writeback/zswap/lzo/ratio2/random/memcg"
        w["swapbench"].update(kind="writeback", variant="memcg")
        pps = rate + 100.0 * i
        w["swapbench"]["writeback"] = {"mechanism": "memcg", "pages_per_second": pps,
                                       "ns_per_written_back_page": 1e9 / pps, "written_back": 2048}
        doc["benchmarks"].append(w)
    r = copy.deepcopy(its[0])
    r["name"] = "race/zswap/lzo/ratio2/random/memcg"
    r["swapbench"].update(kind="race", variant="memcg", operations=1000, writebacks=100, stale_pages=stale)
    r["swapbench"]["latency_ns"] = {k: 0 for k in r["swapbench"]["latency_ns"]}
    if stale:
        r["error_occurred"] = True
        r["error_message"] = f"{stale} stale and 0 damaged pages during the writeback race: page 7"
    doc["benchmarks"].append(r)

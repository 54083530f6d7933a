"""Fixtures: result files made by the suite on the dev VM (see fixtures/README.md), and helpers that
derive a changed copy of one in a temporary folder for the tests that need a bad input."""
import copy
import json
import os

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

"""zram sets go through compare and report like zswap and disk ones (fixtures/zram-lzo.json: a real
run with zswap-lzo and zram-lzo sets interleaved)."""
import json
import os

from analysis.load import load
from conftest import FIXTURES, iterations

ZRAM = os.path.join(FIXTURES, "zram-lzo.json")
ZRAM_IN = "swapin/zram/lzo/ratio2/random"
NO_CAL = ["--calibrations", "/nonexistent-calibrations"]


def test_zram_sets_load_with_their_footprint():
    R = load(ZRAM)
    s = R.sets[ZRAM_IN]
    assert s.backend == "zram" and s.compressor == "lzo" and s.invalid_reason() is None
    z = s.reps[0].sb["zram"]
    assert z["orig_data_size"] == 4096 * s.pages and 0 < z["compr_data_size"] < z["orig_data_size"]


def test_a_zram_swapin_made_slower_is_found_and_only_it(run, derive, tmp_path):
    def slower(d):
        for b in iterations(d, ZRAM_IN):
            for k in ("p50", "p99", "mean"):
                b["swapbench"]["latency_ns"][k] *= 1.5
    b = derive(ZRAM, "b.json", slower)
    js = tmp_path / "ab.json"
    rc, out, _ = run("compare", ZRAM, b, *NO_CAL, "--json", js)
    assert rc == 1, out
    rows = {r["set"]: r for r in json.loads(js.read_text())["rows"]}
    assert rows[ZRAM_IN]["verdict"] == "slower"
    assert rows["swapin/zswap/lzo/ratio2/random"]["verdict"] != "slower"
    assert "in zram-lzo" in out


def test_the_report_speaks_of_zram(run, tmp_path):
    rc, _, _ = run("report", ZRAM, "-o", tmp_path, "--calibrations", "/nonexistent")
    assert rc == 0
    page = (tmp_path / "index.html").read_text()
    assert "zram swap-in p50: lzo" in page and "zram-lzo" in page

"""The declared table of metrics (analysis/metrics.py) and its use by compare, report and history."""
import json

import numpy as np
import pytest

from analysis import metrics, stats
from analysis.errors import ResultError
from conftest import QUICK_A, add_writeback_and_race

NO_CAL = ["--calibrations", "/nonexistent-calibrations"]
WB = "writeback/zswap/lzo/ratio2/random/memcg"
RACE = "race/zswap/lzo/ratio2/random/memcg"


def test_every_metric_declares_unit_direction_kind_and_set_kinds():
    for m in metrics.METRICS.values():
        assert m.unit and m.meaning and m.set_kinds
        assert m.direction in (metrics.LOWER, metrics.HIGHER)
        assert m.kind in (metrics.TIMED, metrics.EXACT)
        assert not m.check or m.kind == metrics.EXACT  # a check is a count, never a statistic
    assert metrics.get("pages_per_second").direction == metrics.HIGHER
    assert metrics.get("ns_per_written_back_page").direction == metrics.LOWER
    assert metrics.checks_for("race") == [metrics.get("stale_pages")]
    assert "stale_pages" not in metrics.statistics()
    assert metrics.get("pmu.cycles").unit == "per page"
    with pytest.raises(ResultError, match="unknown metric 'p42'; accepted: p50"):
        metrics.get("p42")


def test_a_verdict_is_worse_or_better_in_the_metrics_own_direction():
    # B/A whole interval above 1 + threshold: more ns is slower, more pages/s is faster
    assert stats.verdict(1.1, 1.2, 0.001, 0.01) == stats.SLOWER
    assert stats.verdict(1.1, 1.2, 0.001, 0.01, higher_is_better=True) == stats.FASTER
    assert stats.verdict(0.8, 0.9, 0.001, 0.01, higher_is_better=True) == stats.SLOWER


@pytest.fixture
def wb_pair(derive):
    def make(rate_b, stale_a=0, stale_b=0):
        a = derive(QUICK_A, "wa.json", lambda d: add_writeback_and_race(d, 50000.0, stale_a))
        b = derive(QUICK_A, "wb.json", lambda d: add_writeback_and_race(d, rate_b, stale_b))
        return a, b
    return make


def test_a_higher_is_better_metric_getting_worse_is_slower_and_exits_1(run, wb_pair, tmp_path):
    a, b = wb_pair(40000.0)
    js = tmp_path / "c.json"
    rc, out, _ = run("compare", a, b, *NO_CAL, "--metric", "pages_per_second", "--json", js)
    assert rc == 1
    doc = json.loads(js.read_text())
    assert doc["metric_direction"] == "higher_is_better" and doc["metric_unit"] == "pages/s"
    (row,) = doc["rows"]
    assert row["set"] == WB and row["ratio"] < 0.85 and row["verdict"] == "slower"
    assert row["id"]["kind"] == "writeback" and row["id"]["variant"] == "memcg"
    assert "higher is better, so slower means B lower" in out
    assert "50,400 pages/s" in out
    # the same change seen as time per written-back page: more ns, also slower
    rc, out, _ = run("compare", a, b, *NO_CAL, "--metric", "ns_per_written_back_page", "--json", js)
    assert rc == 1 and json.loads(js.read_text())["rows"][0]["verdict"] == "slower"
    rc, _, _ = run("compare", a, wb_pair(60000.0)[1], *NO_CAL, "--metric", "pages_per_second", "--json", js)
    assert rc == 0 and json.loads(js.read_text())["rows"][0]["verdict"] == "faster"


def test_stale_pages_are_a_check_not_a_statistic(run, wb_pair, tmp_path):
    js = tmp_path / "c.json"
    a, b = wb_pair(50000.0, stale_b=3)
    rc, out, _ = run("compare", a, b, *NO_CAL, "--ignore-invalid", "--json", js)
    doc = json.loads(js.read_text())
    assert rc == 1 and doc["checks"] == [{"set": RACE, "id": doc["checks"][0]["id"], "metric": "stale_pages",
                                          "a": 0.0, "b": 3.0, "verdict": "FAILED"}]
    assert RACE not in [r["set"] for r in doc["rows"]] and RACE in doc["not_compared"]
    assert "race sets have no p50 (theirs: stale_pages; checked below)" in out
    a, b = wb_pair(50000.0, stale_a=2)
    rc, _, _ = run("compare", a, b, *NO_CAL, "--json", js)
    assert json.loads(js.read_text())["checks"][0]["verdict"] == "fixed"
    a, b = wb_pair(50000.0)
    rc, _, _ = run("compare", a, b, *NO_CAL, "--json", js)
    assert rc == 0 and json.loads(js.read_text())["checks"][0]["verdict"] == "passed"


def test_report_and_history_read_the_table(run, wb_pair, tmp_path):
    a, b = wb_pair(40000.0, stale_b=1)
    rc, _, _ = run("report", a, b, "-o", tmp_path / "r", "--metric", "pages_per_second", *NO_CAL)
    page = (tmp_path / "r" / "index.html").read_text()
    assert rc == 0 and "writeback by memcg (lzo): 50,400 pages/s" in page
    assert "stale_pages 0 in result 1, 1 in result 2: FAILED" in page
    assert "0 stale pages" in page
    rc, out, _ = run("history", tmp_path, "--set", WB, "--metric", "pages_per_second", "-o", tmp_path / "h.png")
    assert rc == 0 and "50,400 pages/s" in out
    rc, _, err = run("history", tmp_path, "--set", RACE, "-o", tmp_path / "h.png")
    assert rc == 2 and "race sets have no p50" in err


def test_values_that_are_not_numbers_are_refused_by_name(derive, run):
    def spoil(d):
        add_writeback_and_race(d)
        d["benchmarks"][-2]["swapbench"]["writeback"]["pages_per_second"] = "fast"
    p = derive(QUICK_A, "bad.json", spoil)
    rc, _, err = run("compare", p, p, *NO_CAL, "--metric", "pages_per_second")
    assert rc == 2 and "writeback.pages_per_second is 'fast'" in err and WB in err
    assert np.isnan(metrics.get("p50").value(type("Rep", (), {"sb": {"latency_ns": {}}, "real_time": 0})()))


def test_a_figure_of_a_few_units_keeps_three_figures():
    """A workload's seconds (usemem real 2.59 s) are not rounded to whole units; large rates keep
    their thousands separators."""
    assert metrics.get("real_s").fmt(2.594) == "2.59 s"
    assert metrics.get("real_s").fmt(0.0481) == "0.0481 s"
    assert metrics.get("throughput_bytes_per_s").fmt(206093060.4) == "206,093,060 bytes/s"

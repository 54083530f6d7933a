"""Exact instruction counts in compare, report and history, on the *-exact-fixture.json
files: the matrix fixtures with SYNTHETIC exact blocks (fixtures/make_exact_fixtures.py)."""
import json
import os

import pytest

from analysis import metrics, stats
from analysis.errors import ResultError
from conftest import FIXTURES, MATRIX_61, MATRIX_612, iterations, read

EX_61 = os.path.join(FIXTURES, "matrix-debian-6.1-tcg-exact-fixture.json")
EX_612 = os.path.join(FIXTURES, "matrix-debian-6.12-tcg-exact-fixture.json")
NO_CAL = ["--calibrations", "/nonexistent-calibrations"]
LZ4_IN = "swapin/zswap/lz4/ratio2/random"


def blocks_of(doc, name=None):
    return [b["swapbench"]["exact"] for b in doc["benchmarks"]
            if b["run_type"] == "iteration" and (name is None or b["name"] == name)]


def exact_rows(js, set_name=None, metric=None):
    doc = json.loads(js.read_text())
    return [r for r in doc["exact"]["rows"]
            if (set_name is None or r["set"] == set_name) and (metric is None or r["metric"] == metric)]


def test_the_fixtures_say_they_are_synthetic():
    for path in (EX_61, EX_612):
        doc = read(path)
        assert doc["context"]["swapbench"]["exact"]["synthetic"] is True
        assert "SYNTHETIC TEST DATA" in doc["context"]["swapbench"]["exact"]["note"]
        assert all(b["synthetic"] and "not measured" in b["note"] for b in blocks_of(doc))


def test_the_exact_verdict_rule():
    assert stats.exact_verdict(206, 206) == stats.IDENTICAL
    assert stats.exact_verdict(206, 214) == stats.MORE
    assert stats.exact_verdict(214, 206) == stats.FEWER
    assert stats.exact_verdict(19826, 19831, 11, 0) == stats.IDENTICAL   # within A's spread
    assert stats.exact_verdict(19826, 19838, 0, 11) == stats.MORE       # beyond the larger spread
    assert stats.exact_verdict(1 / 3, (1 / 3) * (1 + 1e-12)) == stats.IDENTICAL  # rounding, not an instruction


def test_exact_metrics_are_declared_in_the_table():
    for n in metrics.exact():
        m = metrics.get(n)
        assert m.kind == metrics.EXACT and m.direction == metrics.LOWER and not m.check and m.counted
    m = metrics.get("functions.zswap_load.instructions_per_call")
    assert m.kind == metrics.EXACT and m.unit == "instructions/call" and m.applies_to("swapin")
    assert metrics.get("functions.zswap_load.calls_per_op").unit == "calls/op"
    assert not set(metrics.exact()) & set(metrics.statistics())  # --metric of compare/report stays timed
    with pytest.raises(ResultError, match="exact: kernel_instructions_per_op"):
        metrics.get("functions.zswap_load.cycles")


def test_identical_counts_are_identical_and_the_timed_table_is_unchanged_beside_them(run, tmp_path):
    js = tmp_path / "c.json"
    rc, out, _ = run("compare", EX_612, EX_612, *NO_CAL, "--json", js)
    doc = json.loads(js.read_text())
    rows = doc["exact"]["rows"]
    assert rows and {r["verdict"] for r in rows} == {"identical"}
    assert all(r["delta"] == 0 for r in rows)
    assert rc == 0
    # timed and exact side by side: both tables, both in --json, never merged
    assert "p (MWU)" in out and "within noise" in out
    assert "spread A/B" in out and "kernel per op" in out and "zswap_load per call" in out
    assert doc["rows"] and all(r["verdict"] in ("slower", "faster", "within noise") for r in doc["rows"])
    assert doc["exact"]["context"][0][0] == "exact qemu_version"


def _add_per_call(d, func, extra):
    """B: `extra` more own instructions per call of func, in the block and in every repetition's report."""
    for b in blocks_of(d):
        f = b["functions"].get(func)
        if not f or not f["calls_per_op"]:
            continue
        f["instructions_per_call"] += extra
        for r in b["per_repetition"]:
            r["functions"][func]["instructions"] += extra * r["functions"][func]["calls"]


def test_eight_more_instructions_per_call_in_one_function(run, derive, tmp_path):
    b = derive(EX_612, "b.json", lambda d: _add_per_call(d, "zswap_load", 8))
    js, md = tmp_path / "c.json", tmp_path / "c.md"
    rc, out, _ = run("compare", EX_612, b, *NO_CAL, "--json", js, "--markdown", md)
    assert rc == 1  # more instructions is worse in the metric's direction, like slower
    (r,) = exact_rows(js, LZ4_IN, "functions.zswap_load.instructions_per_call")
    assert r["verdict"] == "more instructions" and r["a"] == 57 and r["b"] == 65
    assert r["delta"] == 8 and r["delta_pct"] == pytest.approx(100 * 8 / 57)
    assert r["delta_per_op"] == 8 and r["delta_per_op_pct"] == pytest.approx(100 * 8 / 57)
    assert r["spread_a"] == 0 and r["spread_b"] == 0
    others = [x for x in exact_rows(js) if x["metric"] != "functions.zswap_load.instructions_per_call"]
    assert {x["verdict"] for x in others} == {"identical"}  # nothing else moved
    assert "+14.04%" in out and "more instructions" in out
    assert "more instructions" in md.read_text()


def test_more_calls_per_operation_is_its_own_row(run, derive, tmp_path):
    def twice(d):
        for b in blocks_of(d, LZ4_IN):
            b["functions"]["zswap_load"]["calls_per_op"] = 2.0
            for r in b["per_repetition"]:
                r["functions"]["zswap_load"]["calls"] *= 2
                r["functions"]["zswap_load"]["instructions"] *= 2
    js = tmp_path / "c.json"
    rc, out, _ = run("compare", EX_612, derive(EX_612, "b.json", twice), *NO_CAL, "--json", js)
    (r,) = exact_rows(js, LZ4_IN, "functions.zswap_load.calls_per_op")
    assert rc == 1 and r["verdict"] == "more calls" and r["delta"] == 1
    (c,) = exact_rows(js, LZ4_IN, "functions.zswap_load.instructions_per_call")
    assert c["verdict"] == "identical" and c["delta_per_op"] == 57  # same per call, twice per operation
    assert "zswap_load calls/op" in out


def test_a_difference_within_the_spread_between_boots_is_identical(run, derive, tmp_path):
    # 6.12's swap-in kernel medians vary by 11 instructions between repetitions in the fixture.
    def shift(n):
        def change(d):
            for b in blocks_of(d, LZ4_IN):
                b["kernel_instructions_per_op"]["median"] += n
        return change
    js = tmp_path / "c.json"
    run("compare", EX_612, derive(EX_612, "b5.json", shift(5)), *NO_CAL, "--json", js)
    (r,) = exact_rows(js, LZ4_IN, "kernel_instructions_per_op")
    assert r["spread_a"] == 11 and r["delta"] == 5 and r["verdict"] == "identical"
    run("compare", EX_612, derive(EX_612, "b12.json", shift(12)), *NO_CAL, "--json", js)
    (r,) = exact_rows(js, LZ4_IN, "kernel_instructions_per_op")
    assert r["delta"] == 12 and r["verdict"] == "more instructions"


@pytest.mark.parametrize("field,value", [("qemu_version", "QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-1~bpo12+1)"),
                                         ("cpu_model", "Skylake-Client"), ("icount", True), ("source", "libpfm4")])
def test_counts_from_another_qemu_cpu_icount_or_source_are_refused_unless_forced(run, derive, field, value):
    def other(d):
        for b in blocks_of(d):
            b[field] = value
    b = derive(EX_612, "b.json", other)
    rc, _, err = run("compare", EX_612, b, *NO_CAL)
    assert rc == 2 and f"{field} differs" in err and "--force" in err
    a_value = read(EX_612)["benchmarks"][0]["swapbench"]["exact"][field]
    assert str(value) in err and str(a_value) in err  # names both
    rc, out, _ = run("compare", EX_612, b, *NO_CAL, "--force")
    assert rc == 0 and "warning: instruction counts not comparable" in out and "identical" in out


def test_results_without_exact_blocks_compare_as_before(run, tmp_path):
    js = tmp_path / "c.json"
    rc, out, _ = run("compare", MATRIX_61, MATRIX_612, *NO_CAL, "--json", js)
    assert "exact" not in out.replace("exact counts where any non-zero", "")
    assert json.loads(js.read_text())["exact"]["rows"] == []
    # one side counted: said, not compared
    rc, out, _ = run("compare", MATRIX_612, EX_612, *NO_CAL)
    assert "instruction counts (swapbench.exact) only in B" in out and "spread A/B" not in out


def test_two_releases_show_where_the_instructions_went(run, tmp_path):
    js = tmp_path / "c.json"
    rc, out, _ = run("compare", EX_61, EX_612, *NO_CAL, "--json", js)
    assert rc == 1
    (r,) = exact_rows(js, LZ4_IN, "functions.do_swap_page.instructions_per_call")
    assert (r["a"], r["b"], r["delta"], r["verdict"]) == (247, 321, 74, "more instructions")
    (r,) = exact_rows(js, LZ4_IN, "functions.zswap_load.instructions_per_call")
    assert r["verdict"] == "called only in B" and r["a"] is None and r["b"] == 57


def test_report_has_a_function_table_and_an_ab_chart_per_function(run, tmp_path):
    rc, out, _ = run("report", EX_61, EX_612, "-o", tmp_path / "r", *NO_CAL)
    page = (tmp_path / "r" / "index.html").read_text()
    assert rc == 0
    assert "Exact cost: guest instructions counted" in page and "SYNTHETIC TEST DATA" in page
    assert "<td>zswap_frontswap_load</td><td>206</td>" in page and "<td>zswap_load</td><td>57</td>" in page
    assert "on instructions counted (exact; beside the timed verdicts" in page
    for f in ("do_swap_page", "zswap_load", "zswap_frontswap_load", "kernel"):
        assert (tmp_path / "r" / f"exact-r2-{f}.png").stat().st_size > 1000
    assert "ab-r2.png" in out  # the timed chart is still there


def test_a_report_without_counts_has_no_exact_section(run, tmp_path):
    rc, out, _ = run("report", MATRIX_61, MATRIX_612, "-o", tmp_path / "r", *NO_CAL)
    assert rc == 0 and "Exact cost" not in (tmp_path / "r" / "index.html").read_text() and "exact-r2" not in out


def test_history_follows_an_exact_metric(run, tmp_path):
    folder = tmp_path / "results"
    folder.mkdir()
    for p in (EX_61, EX_612, MATRIX_61):
        (folder / os.path.basename(p)).write_text(open(p).read())
    rc, out, _ = run("history", folder, "--set", LZ4_IN, "--metric", "functions.do_swap_page.instructions_per_call",
                     "-o", tmp_path / "h.png")
    assert rc == 0 and "247" in out and "321" in out and "cpu_model max" in out
    assert "no swapbench.exact block" in out  # the plain matrix fixture: said, not plotted
    rc, out, _ = run("history", folder, "--set", LZ4_IN, "--metric", "kernel_instructions_per_op", "-o", tmp_path / "h.png")
    assert rc == 0 and "17,713" in out and "19,826" in out and "19,822" in out and "19,833" in out


def test_a_damaged_exact_block_is_refused_by_name(run, derive):
    def spoil(d):
        iterations(d, LZ4_IN)[0]["swapbench"]["exact"] = [1, 2]
    rc, _, err = run("compare", EX_612, derive(EX_612, "bad.json", spoil), *NO_CAL)
    assert rc == 2 and "'exact' is a list" in err and LZ4_IN in err

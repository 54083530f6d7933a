import os

import matplotlib.image as mpimg
import numpy as np

from conftest import QUICK_A, QUICK_SHIFTED, ZSWAP_LZO, iterations


def not_blank(path):
    img = mpimg.imread(path)[..., :3]
    ink = (img < 0.9).any(axis=-1).mean()       # share of pixels that are not near-white
    colours = len(np.unique((img * 255).astype(int).reshape(-1, 3), axis=0))
    return ink > 0.02 and colours > 20


def test_report_writes_html_and_plots_that_are_not_blank(run, tmp_path):
    rc, out, _ = run("report", QUICK_A, QUICK_SHIFTED, "-o", tmp_path, "--calibrations", "/nonexistent")
    assert rc == 0
    page = (tmp_path / "index.html").read_text()
    pngs = sorted(p for p in os.listdir(tmp_path) if p.endswith(".png"))
    assert {"r1-cdf.png", "r1-hist.png", "r1-swapout.png", "r1-counters.png", "ab-r2.png"} <= set(pngs)
    for p in pngs:
        assert not_blank(tmp_path / p), p
        assert p in page                     # each plot is in the page, embedded
    assert page.count("data:image/png;base64,") == len(pngs)
    assert "zswap swap-in p50" in page and "slower" in page


def test_invalid_sets_are_listed_not_plotted(run, derive, tmp_path):
    def spoil(d):
        for b in iterations(d, ZSWAP_LZO):
            b["swapbench"]["valid"] = False
            b["swapbench"]["invalid_reason"] = "zswpin 0 != pages"
    bad = derive(QUICK_A, "bad.json", spoil)
    out_dir = tmp_path / "rep"
    rc, _, _ = run("report", bad, "-o", out_dir)
    assert rc == 0
    page = (out_dir / "index.html").read_text()
    assert "INVALID, not plotted: 9 of 9 repetitions invalid: zswpin 0 != pages" in page
    assert "zswap swap-in p50: deflate" in page   # the summary only speaks of the valid sets


def test_a_corrupt_result_fails_the_report_with_exit_2(run, tmp_path):
    p = tmp_path / "x.json"
    p.write_text("{")
    rc, _, err = run("report", p, "-o", tmp_path / "r")
    assert rc == 2 and "not valid JSON" in err


def test_kernel_matrix_results_give_a_matrix_view_and_the_ftrace_table(run, tmp_path):
    from conftest import MATRIX_61, MATRIX_612
    rc, _, _ = run("report", MATRIX_61, MATRIX_612, "-o", tmp_path, "--calibrations", "/nonexistent")
    assert rc == 0
    page = (tmp_path / "index.html").read_text()
    assert "Matrix: each set on each result" in page
    assert "6.1.0-" in page and "6.12." in page and "(tcg)" in page
    assert "In-kernel attribution (ftrace function_graph, guests)" in page
    assert "zswap_frontswap_load" in page and "zswap_load" in page and "not in this kernel" in page


def test_report_base_must_name_one_of_the_results(run, tmp_path):
    from conftest import MATRIX_61, MATRIX_612
    rc, _, err = run("report", MATRIX_61, MATRIX_612, "-o", tmp_path, "--base", "3")
    assert rc == 2 and "--base 3: between 1 and 2" in err

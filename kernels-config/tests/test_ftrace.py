"""function_graph parsing and the baseline correction, on lines cut from a real guest trace."""
import os

from kmatrix.ftrace import attribute, parse

TRACE = os.path.join(os.path.dirname(__file__), "fixtures", "trace-6.12-tcg-excerpt")


def lines():
    with open(TRACE) as f:
        return f.readlines()


def test_calls_nesting_and_durations():
    calls = parse(lines())
    # five whole do_swap_page calls, each with swap_read_folio { zswap_load } inside
    assert [d for d, _ in calls["do_swap_page"]] == [2620.112, 1470.864, 573.471, 439.429, 63.173]
    assert all(n == 2 for _, n in calls["do_swap_page"])          # swap_read_folio and zswap_load beneath
    assert all(n == 1 for _, n in calls["swap_read_folio"])
    assert [d for d, _ in calls["zswap_load"]][:2] == [206.015, 335.131]
    assert len(calls["zswap_store"]) == 8 and calls["zswap_store"][0] == (2586.161, 0)
    assert len(calls["__do_sys_getppid"]) == 10


def test_baseline_is_subtracted_once_per_traced_call():
    a = attribute(lines(), ["do_swap_page", "swap_read_folio", "zswap_load", "zswap_store", "__do_sys_getppid"],
                  "__do_sys_getppid")
    base = a["baseline_p50_us"]
    assert a["baseline_function"] == "__do_sys_getppid" and 2.4 < base < 3.3
    d = a["functions"]["do_swap_page"]
    assert d["calls"] == 5 and d["traced_beneath_mean"] == 2
    assert abs(d["p50_corrected_us"] - (d["p50_us"] - 3 * base)) < 1e-9
    z = a["functions"]["zswap_load"]
    assert abs(z["p50_corrected_us"] - (z["p50_us"] - base)) < 1e-9


def test_a_close_without_its_start_is_dropped_not_guessed():
    # a trace that begins mid-call: the closing brace of a call whose start was not recorded
    cut = [l for l in lines() if "zswap_store" not in l]
    cut = cut[cut.index(" 0) ! 795.072 us  |    } /* swap_read_folio */\n"):]   # inside the second call
    calls = parse(cut)
    assert [d for d, _ in calls["do_swap_page"]] == [573.471, 439.429, 63.173]    # 1470.864 dropped
    assert len(calls["swap_read_folio"]) == 3


def test_without_a_baseline_nothing_is_subtracted():
    a = attribute([l for l in lines() if "getppid" not in l], ["do_swap_page"], "__do_sys_getppid")
    assert a["baseline_p50_us"] is None and a["baseline_function"] is None
    d = a["functions"]["do_swap_page"]
    assert d["p50_corrected_us"] == d["p50_us"]

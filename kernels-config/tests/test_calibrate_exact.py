"""The exact metric's calibration verdict (kmatrix.calibrate_exact.judge) on fixture results."""
import copy

from kmatrix import calibrate_exact


def _block(user, kernel, per_call=57.0, spread=0):
    return {"kernel_instructions_per_op": {"median": kernel}, "user_instructions_per_op": {"median": user},
            "functions": {"zswap_load": {"instructions_per_call": per_call}, "never_called": {"instructions_per_call": None}},
            "spread": {"kernel_median_per_op": spread}}


def _doc(deltas=None, kernel_moves=None, spread=0):
    deltas = deltas or {}
    kernel_moves = kernel_moves or {}
    benches = [{"swapbench": {"variant": "", "exact": _block(12, 19822, spread=spread)}}]
    for arm, n in calibrate_exact.ARMS.items():
        benches.append({"swapbench": {"variant": arm, "exact": _block(12 + deltas.get(arm, n),
                                                                      19822 + kernel_moves.get(arm, 0), spread=spread)}})
    return {"benchmarks": benches}


def test_exact_deltas_and_an_identical_twin_pass():
    rows, ok, smallest = calibrate_exact.judge(_doc())
    assert ok and smallest == 8
    assert [r["user_delta_per_fault"] for r in rows] == [0, 8, 64, 512]


def test_a_delta_off_by_one_fails_that_arm():
    rows, ok, smallest = calibrate_exact.judge(_doc(deltas={"plus8insn": 9}))
    assert not ok and smallest == 64
    assert [r["arm"] for r in rows if not r["found"]] == ["plus8insn"]


def test_a_kernel_difference_beyond_the_spread_fails_and_within_it_passes():
    _, ok, _ = calibrate_exact.judge(_doc(kernel_moves={"twin": 3}))
    assert not ok
    _, ok, _ = calibrate_exact.judge(_doc(kernel_moves={"twin": 3}, spread=5))
    assert ok


def test_a_function_that_moved_per_call_fails_the_arm():
    d = _doc()
    d["benchmarks"][1]["swapbench"]["exact"]["functions"]["zswap_load"]["instructions_per_call"] = 58.0
    rows, ok, _ = calibrate_exact.judge(d)
    assert not ok and rows[0]["functions_moved"] == {"zswap_load": 1.0}


def test_a_missing_arm_is_reported_not_skipped():
    d = _doc()
    d["benchmarks"] = [b for b in d["benchmarks"] if b["swapbench"]["variant"] != "plus64insn"]
    rows, ok, _ = calibrate_exact.judge(copy.deepcopy(d))
    assert not ok and any(r["arm"] == "plus64insn" and not r["found"] for r in rows)

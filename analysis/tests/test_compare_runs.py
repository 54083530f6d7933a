"""compare with several runs per side: the hierarchical bootstrap over runs, the
'--' separator and folders, and the plain statement of a one-run-per-side verdict's scope."""
import json
import os

from conftest import QUICK_A, ZSWAP_LZO

NO_CAL = ["--calibrations", "/nonexistent-calibrations"]
# Whole-run drift factors, as a shared cloud VM's speed moves between runs (several %), different per side.
DRIFT_A = [1.00, 1.08, 0.95, 1.03, 0.97, 1.06]
DRIFT_B = [1.05, 0.93, 1.00, 1.07, 0.98, 1.02]


def _scaled(factor, only=None):
    def change(d):
        for b in d["benchmarks"]:
            if b.get("run_type") != "iteration" or (only and b["name"] != only):
                continue
            lat = b["swapbench"]["latency_ns"]
            for k in lat:
                if isinstance(lat[k], (int, float)) and k != "count":
                    lat[k] *= factor
    return change


def _side(derive, tag, drifts, extra=1.0, only=None):
    paths = []
    for i, f in enumerate(drifts):
        ch = _scaled(f)
        if extra != 1.0:
            first, second = ch, _scaled(extra, only)
            ch = lambda d, first=first, second=second: (first(d), second(d))  # noqa: E731
        paths.append(derive(QUICK_A, f"{tag}{i}.json", ch))
    return paths


def test_run_level_drift_is_within_noise_over_runs_but_not_within_one(run, derive, tmp_path):
    a, b = _side(derive, "a", DRIFT_A), _side(derive, "b", DRIFT_B)
    js = tmp_path / "c.json"
    rc, out, _ = run("compare", *NO_CAL, "--json", js, *a, "--", *b)
    doc = json.loads(js.read_text())
    assert rc == 0, out
    assert all(r["verdict"] == "within noise" for r in doc["rows"])
    assert all(r["runs_a"] == 6 and r["runs_b"] == 6 for r in doc["rows"])
    assert doc["scope"].startswith("between runs: hierarchical bootstrap over 6 run(s) of A and 6 of B")
    assert doc["a"]["paths"] == a and f"A: {a[1]}" in out
    # One run per side, the same drift (8%): called slower, and the output says what it covers.
    rc, out, _ = run("compare", *NO_CAL, a[0], derive(QUICK_A, "drift.json", _scaled(1.08)))
    assert rc == 1 and "within-run noise only" in out


def test_a_shift_in_every_b_run_is_found(run, derive, tmp_path):
    a = _side(derive, "a", DRIFT_A)
    b = _side(derive, "b", DRIFT_B, extra=1.4, only=ZSWAP_LZO)
    js = tmp_path / "c.json"
    rc, out, _ = run("compare", *NO_CAL, "--json", js, *a, "--", *b)
    assert rc == 1
    rows = {r["set"]: r for r in json.loads(js.read_text())["rows"]}
    assert rows[ZSWAP_LZO]["verdict"] == "slower" and rows[ZSWAP_LZO]["ci_low"] > 1.2
    assert "1 slower, 0 faster, 7 within noise" in out


def test_two_folders_are_two_sides(run, derive, tmp_path):
    a, b = _side(derive, "a", DRIFT_A[:5]), _side(derive, "b", DRIFT_B[:5])
    for tag, side in (("A", a), ("B", b)):
        os.makedirs(tmp_path / tag)
        for p in side:
            os.rename(p, tmp_path / tag / os.path.basename(p))
    rc, out, _ = run("compare", *NO_CAL, tmp_path / "A", tmp_path / "B")
    assert rc == 0 and "5 run(s) of A and 5 of B" in out
    os.makedirs(tmp_path / "empty")
    rc, _, err = run("compare", *NO_CAL, tmp_path / "A", tmp_path / "empty")
    assert rc == 2 and "no .json result" in err


def test_bad_side_arguments(run, derive):
    a = _side(derive, "a", DRIFT_A[:2])
    rc, _, err = run("compare", *NO_CAL, QUICK_A, *a)
    assert rc == 2 and "3 paths without '--'" in err
    rc, _, err = run("compare", *NO_CAL, *a, "--")
    assert rc == 2 and "nothing after '--'" in err
    other = derive(QUICK_A, "k.json", lambda d: d["context"]["swapbench"]["kernel"].update(release="6.1.0"))
    rc, _, err = run("compare", *NO_CAL, a[0], other, "--", a[1])
    assert rc == 2 and "the runs of side A differ in kernel" in err
    rc, out, _ = run("compare", *NO_CAL, *a, "--", a[0])
    assert rc == 0 and "fewer than 5 runs per side" in out

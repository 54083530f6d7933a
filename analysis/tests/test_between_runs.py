"""calibrate --between-runs: the A/A spread between separate runs, on runs derived
from a fixture with known whole-run drift, and compare's use of it for one run per side."""
import json

from analysis import between_runs, stats
from analysis.load import load
from conftest import QUICK_A, ZSWAP_LZO
from test_compare_runs import DRIFT_A, DRIFT_B, _scaled, _side


def test_drift_between_runs_is_measured_and_pairs_counted(derive):
    runs = [load(p) for p in _side(derive, "r", DRIFT_A + DRIFT_B)]
    doc = between_runs.analyse(runs, 0.01)
    assert doc["n_runs"] == 12 and doc["pairs"] == 66
    assert doc["calibrated_set"] == ZSWAP_LZO
    # The runs differ only by whole-run factors from 0.93 to 1.08: the 95th percentile of the pairs'
    # |ratio - 1| lies within what those factors allow (largest 1.08 / 0.93 - 1 = 16%).
    assert 0.05 < doc["between_run_threshold"] <= 1.08 / 0.93 - 1 + 1e-9
    assert doc["host"] is None  # this fixture predates the host reference loop
    # At a 1% threshold many of those pairs are called: the false verdicts the issue describes.
    assert doc["share_within_noise"] < 0.95
    h = doc["halves"]
    assert h["runs_per_side"] == 6 and h["aa_within_noise_share"] == 1.0
    assert h["shift_found"] == (h["shift_verdict"] == stats.SLOWER)
    # Alternated runs (odd against even): the whole-run factors fall on both sides.
    alt = h["alternated"]
    assert alt["aa_within_noise_share"] == 1.0 and alt["shift_found"] == (alt["shift_verdict"] == stats.SLOWER)
    # The goal is judged on what compare does once calibrated, not on the 1% threshold.
    assert doc["goal"]["met"] == (doc["out_of_sample"]["share_within_noise"] >= 0.95
                                  and (h["shift_found"] or alt["shift_found"]))


def test_cli_stores_it_and_compare_uses_it_for_one_run_per_side(run, derive, tmp_path):
    paths = _side(derive, "r", DRIFT_A + DRIFT_B)
    cal = tmp_path / "cal"
    cal.mkdir()
    out = cal / "between.json"
    rc, text, _ = run("calibrate", "--between-runs", "12", "--from-runs", *paths, "--out", out)
    assert rc == 0 and "between-run threshold" in text and "66 pairs" in text
    doc = json.loads(out.read_text())
    assert doc["schema"] == between_runs.SCHEMA
    # Two separate runs 8% apart: slower at the 1% default; within noise once the between-run
    # spread of this machine is the threshold. The fixture copies share a date: make B later.
    later = derive(QUICK_A, "later.json", lambda d: (d["context"].update(date="2099-01-01T00:00:00+00:00"),
                                                      [b["swapbench"]["latency_ns"].update(
                                                          p50=b["swapbench"]["latency_ns"]["p50"] * 1.08)
                                                       for b in d["benchmarks"] if b.get("run_type") == "iteration"]))
    rc, text, _ = run("compare", "--calibrations", "/nonexistent", QUICK_A, later)
    assert rc == 1 and "calibrate --between-runs 8 measures" in text
    rc, text, _ = run("compare", "--calibrations", cal, QUICK_A, later)
    assert rc == 0 and "between-run calibration of this machine" in text
    assert "the threshold is this machine's between-run spread" in text


def test_too_few_runs_is_bad_input(run, derive):
    rc, _, err = run("calibrate", "--between-runs", "1")
    assert rc == 2 and "at least 2 runs" in err


FLOOR = "floor_swapcache/disk/none/ratio2/random"
# The floor set drifts more between runs than the rest (seen on a cloud VM: 9.3% against zswap's 6.5%).
FLOOR_DRIFT = [1.00, 1.25, 0.85, 1.15, 0.90, 1.20, 1.10, 0.80, 1.05, 0.95, 1.22, 0.88]


def _runs_with_floor_drift(derive):
    paths = []
    for i, (f, g) in enumerate(zip(DRIFT_A + DRIFT_B, FLOOR_DRIFT)):
        def change(d, f=f, g=g):
            _scaled(f)(d)
            _scaled(g, FLOOR)(d)
        paths.append(derive(QUICK_A, f"fd{i}.json", change))
    return paths


def test_per_set_thresholds_and_the_out_of_sample_share(derive):
    runs = [load(p) for p in _runs_with_floor_drift(derive)]
    doc = between_runs.analyse(runs, 0.01)
    ps = doc["per_set"]
    # Each set gets its own between-run threshold; the floor's own extra drift makes its wider.
    assert ps[FLOOR]["between_run_threshold"] > ps[ZSWAP_LZO]["between_run_threshold"] + 0.1
    assert doc["between_run_threshold"] == ps[ZSWAP_LZO]["between_run_threshold"]
    o = doc["out_of_sample"]
    # Judged at thresholds calibrated without the pair's own runs, far more A/A pairs are within
    # noise than at the 1% within-run threshold, but not all by construction.
    assert o["share_within_noise"] > doc["share_within_noise"] + 0.3
    assert o["per_set"][ZSWAP_LZO]["pairs"] == 66
    # +400 ns on a ~5 us fault is ~8%, inside these runs' up-to-16% drift: found in some pairs only.
    assert o["shift_pairs"] == 66 and 0 <= o["shift_found_share"] <= 1
    h = doc["halves"]
    assert doc["goal"]["met"] == (o["share_within_noise"] >= 0.95 and any(
        x["aa_within_noise_share"] == 1.0 and x["shift_found"] for x in (h, h["alternated"])))


def test_out_of_sample_needs_four_runs(derive):
    runs = [load(p) for p in _side(derive, "s", DRIFT_A[:3])]
    doc = between_runs.analyse(runs, 0.01)
    assert doc["out_of_sample"] is None and doc["halves"] is None and doc["goal"]["met"] is False


def _calibrated(run, derive, tmp_path):
    """A calibrations folder holding the between-run calibration of the floor-drift runs."""
    cal = tmp_path / "cal"
    cal.mkdir()
    rc, _, err = run("calibrate", "--between-runs", "12", "--from-runs", *_runs_with_floor_drift(derive),
                     "--out", cal / "between.json")
    assert rc == 0, err
    return cal


def test_compare_uses_each_sets_own_between_run_threshold(run, derive, tmp_path):
    cal = _calibrated(run, derive, tmp_path)
    ps = json.loads((cal / "between.json").read_text())["per_set"]
    # B: a later run where the floor moved 20% (inside its own between-run spread) and zswap lzo 20%
    # (far outside its own): the floor is within noise, zswap lzo slower.
    def change(d):
        d["context"].update(date="2099-01-01T00:00:00+00:00")
        _scaled(1.20, FLOOR)(d)
        _scaled(1.20, ZSWAP_LZO)(d)
    later = derive(QUICK_A, "later2.json", change)
    js = tmp_path / "c.json"
    rc, text, _ = run("compare", "--calibrations", cal, "--json", js, QUICK_A, later)
    rows = {r["set"]: r for r in json.loads(js.read_text())["rows"]}
    assert rows[FLOOR]["threshold"] == ps[FLOOR]["between_run_threshold"] > 0.2
    assert rows[FLOOR]["verdict"] == "within noise"
    assert rows[ZSWAP_LZO]["threshold"] == ps[ZSWAP_LZO]["between_run_threshold"] < 0.2
    assert rows[ZSWAP_LZO]["verdict"] == "slower" and rc == 1
    assert "per set as calibrated" in text


def test_host_speed_against_the_drift_between_runs(derive):
    """The reference loop per run against the calibrated set's median: a drift the loop shares is the
    CPU's; one it does not share (measured on a cloud VM: 0.9% against 34.6%) is not."""
    def with_host(f, h):
        def change(d):
            _scaled(f)(d)
            for b in d["benchmarks"]:
                if b.get("run_type") == "iteration":
                    b["swapbench"]["host_ref"] = {"loop_ns_p50": 1000.0 * h, "samples": 4}
        return change
    flat = [load(derive(QUICK_A, f"h{i}.json", with_host(f, 1.0 + 0.001 * (i % 2))))
            for i, f in enumerate(DRIFT_A)]
    hr = between_runs.analyse(flat, 0.01)["host"]
    assert hr["ref_spread"] < 0.002 and abs(hr["set_spread"] - (1.08 / 0.95 - 1)) < 1e-6
    text = between_runs.render(between_runs.analyse(flat, 0.01), "x")
    assert "the drift is not the CPU's speed" in text
    same = [load(derive(QUICK_A, f"s{i}.json", with_host(f, f))) for i, f in enumerate(DRIFT_A)]
    hr = between_runs.analyse(same, 0.01)["host"]
    assert hr["correlation"] > 0.99 and abs(hr["ref_spread"] - hr["set_spread"]) < 1e-6
    assert "not the CPU's speed" not in between_runs.render(between_runs.analyse(same, 0.01), "x")


def test_a_set_that_drifts_alone_gets_its_threshold_even_when_the_calibrated_one_is_quiet(run, derive, tmp_path):
    cal = _calibrated(run, derive, tmp_path)
    doc = json.loads((cal / "between.json").read_text())
    # The calibrated set quiet (under the 1% default), the floor not.
    doc["between_run_threshold"] = 0.005
    for n, s in doc["per_set"].items():
        s["between_run_threshold"] = 0.3 if n == FLOOR else 0.005
    (cal / "between.json").write_text(json.dumps(doc))
    later = derive(QUICK_A, "later3.json", lambda d: (d["context"].update(date="2099-01-01T00:00:00+00:00"),
                                                       _scaled(1.20, FLOOR)(d)))
    js = tmp_path / "c.json"
    run("compare", "--calibrations", cal, "--json", js, QUICK_A, later)
    out = json.loads(js.read_text())
    rows = {r["set"]: r for r in out["rows"]}
    assert rows[FLOOR]["threshold"] == 0.3 and rows[FLOOR]["verdict"] == "within noise"
    assert rows[ZSWAP_LZO]["threshold"] == out["threshold"] == 0.01

import json

from analysis import stats
from analysis.calibrate import analyse
from analysis.load import load
from conftest import CALIBRATE, QUICK_A, QUICK_SHIFTED, ZSWAP_LZO, iterations

NO_CAL = ["--calibrations", "/nonexistent-calibrations"]


def test_a_file_against_itself_is_within_noise_everywhere(run):
    rc, out, _ = run("compare", QUICK_A, QUICK_A, *NO_CAL)
    assert rc == 0
    assert "0 slower, 0 faster, 8 within noise" in out


def test_identical_interleaved_sets_are_within_noise_at_the_calibrated_threshold():
    # The calibrate run holds the same set twice (A and its twin), interleaved: real noise, no change.
    R = load(CALIBRATE)
    doc = analyse(R, k=9, experiments=200)
    base = R.sets[ZSWAP_LZO].values("p50")
    twin = R.sets[ZSWAP_LZO + "/twin"].values("p50")
    r = stats.compare_samples(base, twin, doc["noise_threshold"])
    assert r["verdict"] == stats.NOISE


def test_a_constructed_5us_shift_is_slower_and_exits_1(run, tmp_path):
    js, md = tmp_path / "ab.json", tmp_path / "ab.md"
    rc, out, _ = run("compare", QUICK_A, QUICK_SHIFTED, *NO_CAL, "--json", js, "--markdown", md)
    assert rc == 1
    doc = json.loads(js.read_text())
    row = next(r for r in doc["rows"] if r["set"] == ZSWAP_LZO)
    assert row["verdict"] == "slower" and row["ci_low"] > 1.01 and row["p"] < 0.05
    assert row["inject_ns_b"] == 5000 and row["inject_ns_a"] == 0
    assert "injected delay ns" in out and "differs" in out
    assert f"`{ZSWAP_LZO}`" in md.read_text() and "| verdict |" in md.read_text()


def test_an_invalid_set_is_refused_by_name_with_its_reason(run, derive):
    def spoil(d):
        b = iterations(d, ZSWAP_LZO)[2]
        b["swapbench"]["valid"] = False
        b["swapbench"]["invalid_reason"] = "pswpin 5 != 0: pages came from disk"
    bad = derive(QUICK_A, "bad.json", spoil)
    rc, out, _ = run("compare", QUICK_A, bad, *NO_CAL)
    assert rc == 2
    assert f"REFUSED {ZSWAP_LZO} in B: 1 of 9 repetitions invalid: pswpin 5 != 0" in out
    rc, out, _ = run("compare", QUICK_A, bad, *NO_CAL, "--ignore-invalid")
    assert rc == 0 and f"REFUSED {ZSWAP_LZO}" in out and "7 within noise" in out


def test_different_accelerators_are_refused_unless_forced(run, derive):
    tcg = derive(QUICK_A, "tcg.json", lambda d: d["context"]["swapbench"].update(accelerator="tcg"))
    rc, _, err = run("compare", QUICK_A, tcg, *NO_CAL)
    assert rc == 2 and "accelerators differ: A ran on" in err and "--force" in err
    rc, out, _ = run("compare", QUICK_A, tcg, *NO_CAL, "--force")
    assert rc == 0 and "warning: accelerators differ" in out


def test_timings_of_different_cpu_models_are_refused_unless_forced(run, derive):
    # A reference recorded on an Intel VM against a run on an AMD one.
    amd = derive(QUICK_A, "amd.json", lambda d: d["context"]["swapbench"].update(cpu_model="AMD EPYC"))
    rc, _, err = run("compare", QUICK_A, amd, *NO_CAL)
    assert rc == 2 and "different machines (CPU model: A Intel(R) Xeon(R) Processor, B AMD EPYC)" in err
    rc, out, _ = run("compare", QUICK_A, amd, *NO_CAL, "--force")
    assert rc == 0 and "8 within noise" in out and "compared (--force)" in out


def test_guest_timings_are_kept_apart_by_the_host_they_ran_on(run, derive):
    def on(host):
        return lambda d: d["context"]["swapbench"].update(
            matrix={"kernel": "debian-6.12", "host": {"name": host, "cpu_model": "AMD EPYC"}})
    a, b, b_old = (derive(QUICK_A, f"{n}.json", f) for n, f in
                   (("ga", on("vm")), ("gb", on("other-vm")),
                    ("gold", lambda d: d["context"]["swapbench"].update(matrix={"kernel": "debian-6.12"}))))
    rc, _, err = run("compare", a, b, *NO_CAL)
    assert rc == 2 and "host: A vm, B other-vm" in err
    # A guest result from before the host was recorded: nothing to hold against it.
    rc, out, _ = run("compare", a, b_old, *NO_CAL)
    assert rc == 0 and "8 within noise" in out


def test_different_scenarios_are_refused_unless_forced(run, derive):
    def pages(d):
        for b in iterations(d, ZSWAP_LZO):
            b["swapbench"]["pages"] = 4096
    other = derive(QUICK_A, "pages.json", pages)
    rc, _, err = run("compare", QUICK_A, other, *NO_CAL)
    assert rc == 2 and f"scenario of {ZSWAP_LZO} differs: pages 2048 vs 4096" in err
    assert run("compare", QUICK_A, other, *NO_CAL, "--force")[0] == 0


def test_fewer_than_9_repetitions_warn(run, derive):
    def drop(d):
        keep = {id(b) for b in iterations(d, ZSWAP_LZO)[:5]}
        d["benchmarks"] = [b for b in d["benchmarks"]
                           if not (b["name"] == ZSWAP_LZO and b["run_type"] == "iteration") or id(b) in keep]
    few = derive(QUICK_A, "few.json", drop)
    rc, out, _ = run("compare", QUICK_A, few, *NO_CAL)
    assert f"warning: {ZSWAP_LZO}: B has 5 repetitions; below 9" in out


def test_corrupt_or_foreign_input_exits_2_with_the_reason(run, tmp_path):
    p = tmp_path / "cut.json"
    p.write_text(open(QUICK_A).read()[:100])
    rc, _, err = run("compare", QUICK_A, p, *NO_CAL)
    assert rc == 2 and "cut.json: not valid JSON" in err


def test_threshold_comes_from_the_machines_calibration(run, tmp_path):
    rc, out, _ = run("calibrate", "--from", CALIBRATE, "-k", "9", "--experiments", "200", "--out", tmp_path / "cal.json")
    assert rc == 0
    cal = json.loads((tmp_path / "cal.json").read_text())
    rc, out, _ = run("compare", QUICK_A, QUICK_A, "--calibrations", tmp_path)
    assert f"Threshold {cal['noise_threshold'] * 100:.2f}% (calibrated for this machine" in out
    rc, out, _ = run("compare", QUICK_A, QUICK_A, "--calibrations", tmp_path, "--threshold", "3")
    assert "Threshold 3.00% (--threshold 3.0%)" in out


def test_bad_flags_exit_2(run):
    import pytest
    with pytest.raises(SystemExit) as e:
        run("compare", QUICK_A, QUICK_A, "--metric", "p42")
    assert e.value.code == 2


def test_two_kernels_under_the_same_emulator_are_compared_and_labelled(run):
    from conftest import MATRIX_61, MATRIX_612
    rc, out, _ = run("compare", MATRIX_61, MATRIX_612, *NO_CAL)
    assert rc in (0, 1)
    assert "6.1.0-" in out and "6.12." in out and "tcg" in out and "kernel" in out
    assert "in zswap-lz4" in out


def test_an_emulated_result_is_never_compared_with_a_native_one(run):
    from conftest import MATRIX_612
    rc, _, err = run("compare", QUICK_A, MATRIX_612, *NO_CAL)
    assert rc == 2 and "accelerators differ" in err and "tcg" in err


def test_compare_as_a_user_without_a_writable_home_prints_no_matplotlib_warning(ordinary_user):
    """nobody's home is /nonexistent: a verb that imported matplotlib would warn on stderr that it
    made a temporary config folder, though compare draws nothing."""
    r = ordinary_user.python("-m", "analysis", "compare", QUICK_A, QUICK_A, "--calibrations",
                             "/nonexistent-calibrations", home="/nonexistent")
    assert r.returncode == 0, r.stderr
    assert "matplotlib" not in r.stderr.lower() and "MPLCONFIGDIR" not in r.stderr, r.stderr

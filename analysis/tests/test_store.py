"""The results/calibration store (analysis/store.py)."""
import json
import os
import shutil

import pytest

from analysis import store
from analysis.errors import OutputError
from analysis.load import load
from conftest import CALIBRATE, QUICK_A


@pytest.fixture
def results(tmp_path, monkeypatch):
    d = tmp_path / "results"
    d.mkdir()
    monkeypatch.setenv("SWAPBENCH_RESULTS_DIR", str(d))
    return d


def test_the_results_folder_comes_from_the_environment_else_the_repository(results, monkeypatch):
    assert store.results_dir() == str(results)
    assert store.calibrations_dir() == os.path.join(results, "calibration")
    assert store.calibrations_dir("/elsewhere") == "/elsewhere"
    monkeypatch.delenv("SWAPBENCH_RESULTS_DIR")
    top = os.path.dirname(os.path.dirname(os.path.abspath(store.__file__)))  # analysis/ is in the repository
    assert store.results_dir() == os.path.join(top, "results")


def test_results_are_listed_recursively_and_other_json_is_skipped_with_why(results):
    (results / "reference").mkdir()
    shutil.copy(QUICK_A, results / "reference" / "a.json")
    shutil.copy(QUICK_A, results / "b.json")
    (results / "notes.json").write_text('{"not": "a result"}')
    (results / "README.md").write_text("not json")
    found, skipped = store.list_results()
    assert sorted(os.path.basename(R.path) for R in found) == ["a.json", "b.json"]
    assert len(skipped) == 1 and "notes.json: not a Google Benchmark result" in skipped[0]


def _calibration(folder, name, **change):
    doc = {"schema": store.CALIBRATION_SCHEMA, "date": "2026-11-22T01:00:00Z", "metric": "p50",
           "noise_threshold": 0.02, "machine": {"host": "vm", "cpu_model": "cpu", "accelerator": "kvm"}}
    doc.update(change)
    (folder / name).write_text(json.dumps(doc))


def test_the_newest_calibration_of_the_same_machine_and_metric_is_found(tmp_path):
    machine = ("vm", "cpu", "kvm")
    _calibration(tmp_path, "old.json", noise_threshold=0.05)
    _calibration(tmp_path, "new.json", date="2026-11-23T01:00:00Z", noise_threshold=0.03)
    _calibration(tmp_path, "p99.json", date="2026-11-24T01:00:00Z", metric="p99")
    _calibration(tmp_path, "other.json", date="2026-11-24T01:00:00Z",
                 machine={"host": "other", "cpu_model": "cpu", "accelerator": "kvm"})
    _calibration(tmp_path, "future-schema.json", date="2027-01-01T00:00:00Z", schema="swapbench-calibration/3")
    _calibration(tmp_path, "no-machine.json", date="2027-01-01T00:00:00Z", machine=None)
    (tmp_path / "broken.json").write_text("{")
    doc, path = store.find_calibration(machine, "p50", str(tmp_path))
    assert path.endswith("new.json") and doc["noise_threshold"] == 0.03
    assert store.find_calibration(machine, "p99", str(tmp_path))[1].endswith("p99.json")
    assert store.find_calibration(("vm", "cpu", "tcg"), "p50", str(tmp_path)) is None
    # /2, the interleaved design's: its noise_threshold means the same, so compare takes it
    _calibration(tmp_path, "interleaved.json", date="2026-11-25T01:00:00Z", schema="swapbench-calibration/2",
                 noise_threshold=0.04)
    assert store.find_calibration(machine, "p50", str(tmp_path))[1].endswith("interleaved.json")
    assert store.find_calibration(machine, "p50", str(tmp_path / "none")) is None


def test_calibrate_stores_where_compare_looks(results, run):
    rc, out, _ = run("calibrate", "--from", CALIBRATE, "-k", "9", "--experiments", "100")
    assert rc == 0
    stored = os.listdir(results / "calibration")
    assert len(stored) == 1 and stored[0].startswith("vm-kvm-")
    R = load(CALIBRATE)
    assert store.calibration_path(R.host, R.accelerator, R.date) == str(results / "calibration" / stored[0])
    rc, out, _ = run("compare", QUICK_A, QUICK_A)
    assert "(calibrated for this machine" in out


def test_a_missing_results_folder_with_a_missing_parent_is_an_error_not_a_new_tree(tmp_path, monkeypatch, run):
    monkeypatch.setenv("SWAPBENCH_RESULTS_DIR", str(tmp_path / "typo" / "results"))
    with pytest.raises(OutputError, match="neither the results folder nor its parent exists"):
        store.prepare_calibrations_dir()
    rc, _, err = run("calibrate", "--from", CALIBRATE, "-k", "9", "--experiments", "100")
    assert rc == 2 and "nor its parent exists" in err and not (tmp_path / "typo").exists()


def test_a_missing_results_folder_is_created_as_run_creates_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SWAPBENCH_RESULTS_DIR", str(tmp_path / "results"))
    d = store.prepare_calibrations_dir()
    assert d == str(tmp_path / "results" / "calibration") and (tmp_path / "results" / "calibration").is_dir()

import json

import pytest

from analysis.load import ResultError, load
from conftest import QUICK_A, ZSWAP_LZO


def test_a_suite_result_loads_with_its_sets_and_repetitions():
    R = load(QUICK_A)
    s = R.sets[ZSWAP_LZO]
    assert len(s.reps) == 9 and s.invalid_reason() is None
    assert s.kind == "swapin" and s.backend == "zswap" and s.compressor == "lzo"
    v = s.values("p50")
    assert len(v) == 9 and (v > 0).all()
    assert R.accelerator and R.kernel != "unknown"


def test_corrupt_json_names_the_file_and_the_place(tmp_path):
    p = tmp_path / "cut.json"
    p.write_text(open(QUICK_A).read()[:5000])  # a run cut short mid-write
    with pytest.raises(ResultError, match=r"cut.json: not valid JSON .* line \d+"):
        load(str(p))


def test_foreign_google_benchmark_file_is_refused(tmp_path):
    p = tmp_path / "other.json"
    p.write_text(json.dumps({"context": {"json_schema_version": 1, "host_name": "x"},
                             "benchmarks": [{"name": "BM_memcpy/8", "run_type": "iteration", "real_time": 3.0}]}))
    with pytest.raises(ResultError, match="without a 'swapbench' context"):
        load(str(p))


def test_json_that_is_not_a_benchmark_result_is_refused(tmp_path):
    p = tmp_path / "package.json"
    p.write_text('{"name": "left-pad", "version": "1.3.0"}')
    with pytest.raises(ResultError, match="not a Google Benchmark result"):
        load(str(p))


def test_unknown_schema_version_is_refused(derive):
    p = derive(QUICK_A, "v2.json", lambda d: d["context"]["swapbench"].update(schema_version=2))
    with pytest.raises(ResultError, match="schema_version is 2"):
        load(p)


def test_missing_file_and_folder_are_clear_errors(tmp_path):
    with pytest.raises(ResultError, match="no such file"):
        load(str(tmp_path / "nope.json"))
    with pytest.raises(ResultError, match="is a folder"):
        load(str(tmp_path))


def test_an_invalid_repetition_makes_the_set_invalid_with_its_reason(derive):
    def spoil(d):
        b = [b for b in d["benchmarks"] if b["name"] == ZSWAP_LZO and b["run_type"] == "iteration"][3]
        b["swapbench"]["valid"] = False
        b["swapbench"]["invalid_reason"] = "zswpin delta 2040 != pages 2048"
    R = load(derive(QUICK_A, "spoilt.json", spoil))
    assert R.sets[ZSWAP_LZO].invalid_reason() == "1 of 9 repetitions invalid: zswpin delta 2040 != pages 2048"
    assert len(R.sets[ZSWAP_LZO].values("p50")) == 8

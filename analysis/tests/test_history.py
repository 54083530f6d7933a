import matplotlib.image as mpimg
import shutil

from conftest import QUICK_A, QUICK_SHIFTED, read
import json


def test_history_keeps_machines_apart_unless_mixed(run, tmp_path):
    shutil.copy(QUICK_A, tmp_path / "a.json")
    shutil.copy(QUICK_SHIFTED, tmp_path / "b.json")
    doc = read(QUICK_A)
    doc["context"]["host_name"] = "another-host"
    (tmp_path / "other.json").write_text(json.dumps(doc))
    (tmp_path / "notes.json").write_text('{"not": "a result"}')
    rc, out, _ = run("history", tmp_path, "-o", tmp_path / "h.png")
    assert rc == 0
    assert "2 machine/accelerator groups kept apart" in out
    assert "another-host" in out and "1 file(s)" in out
    img = mpimg.imread(tmp_path / "h.png")
    assert (img[..., :3] < 0.9).any(axis=-1).mean() > 0.02
    rc, out, _ = run("history", tmp_path, "--mix", "-o", tmp_path / "m.png")
    assert rc == 0 and "mixed machines/accelerators" in out and "kept apart" not in out


def test_history_of_an_unknown_set_names_what_exists(run, tmp_path):
    shutil.copy(QUICK_A, tmp_path / "a.json")
    rc, _, err = run("history", tmp_path, "--set", "swapin/zswap/zstd/ratio2/random")
    assert rc == 2 and "sets found:" in err and "swapin/zswap/lzo/ratio2/random" in err


def test_history_by_a_counter(run, tmp_path):
    shutil.copy(QUICK_A, tmp_path / "a.json")
    rc, out, _ = run("history", tmp_path, "--metric", "pmu.perf::major-faults", "-o", tmp_path / "c.png")
    assert rc == 0 and "pmu.perf::major-faults" in out

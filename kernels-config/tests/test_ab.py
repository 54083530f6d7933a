"""`swapbench ab`'s pure parts: the run folder's layout, patch-set identity, the functions a patch
touches, the definitions handed to the matrix, and the --max-instructions-delta rule."""
import os
import tomllib
from types import SimpleNamespace

import pytest

from kmatrix import ab

PATCH = """A known delta for zswap_load (a header: patch ignores this text).

--- a/mm/zswap.c
+++ b/mm/zswap.c
@@ -1601,6 +1601,7 @@ bool zswap_load(struct folio *folio)
 	bool swapcache = folio_test_swapcache(folio);
+	asm volatile(".rept 16\\n\\tnop\\n\\t.endr");
@@ -1640,3 +1641,4 @@ static int zswap_writeback_entry(struct zswap_entry *entry,
@@ -10,3 +11,4 @@
"""


def test_the_run_folder_keeps_each_sides_patches_in_apply_order(tmp_path):
    p1, p2 = tmp_path / "first.patch", tmp_path / "second.patch"
    p1.write_text("1")
    p2.write_text("2")
    folder = ab.layout(str(tmp_path / "run"), [], [str(p1), str(p2)])
    assert sorted(os.listdir(os.path.join(folder, "patches", "B"))) == ["01-first.patch", "02-second.patch"]
    assert os.listdir(os.path.join(folder, "patches", "A")) == []
    with pytest.raises(FileExistsError):
        ab.layout(folder, [], [str(p1)])  # never writes into an earlier run's folder


def test_touched_functions_come_from_the_hunk_headers(tmp_path):
    p = tmp_path / "k.patch"
    p.write_text(PATCH)
    assert ab.touched_functions([str(p)]) == ["zswap_load", "zswap_writeback_entry"]


def test_definitions_are_custom_kernels_without_modules(tmp_path):
    kf = SimpleNamespace(image="/c/bzImage", modules_dir="/c/modules/6.12.117", config="/c/.config")
    path = ab.definitions([("A-none", kf), ("B-1234", kf)], str(tmp_path / "kernels.toml"))
    doc = tomllib.load(open(path, "rb"))
    assert set(doc["kernel"]) == {"A-none", "B-1234"}
    assert doc["kernel"]["B-1234"]["source"] == "custom" and doc["kernel"]["B-1234"]["modules"] == []


def test_only_more_instructions_beyond_the_limit_count_as_worse():
    rows = [{"metric": "functions.zswap_load.instructions_per_call", "delta": 16, "verdict": "more instructions", "set": "s"},
            {"metric": "functions.zswap_load.calls_per_op", "delta": 3, "verdict": "more calls", "set": "s"},
            {"metric": "kernel_instructions_per_op", "delta": 5, "verdict": "identical", "set": "s"},
            {"metric": "functions.do_swap_page.instructions_per_call", "delta": None, "verdict": "called only in B"}]
    assert [r["metric"] for r in ab.exact_worse({"exact": {"rows": rows}}, 0)] == ["functions.zswap_load.instructions_per_call"]
    assert ab.exact_worse({"exact": {"rows": rows}}, 16) == []


# ------------------------------------------------------------------------------- the race A/B's verdict

def _race_result(tmp_path, name, **race):
    import json
    sb = {"kind": "race", "operations": race.get("operations", 0), "writebacks": race.get("writebacks", 0),
          "stale_pages": race.get("stale", 0),
          "race": {"seconds": 30.0, "damaged_pages": race.get("damaged", 0), "first_failures": race.get("first", [])}}
    p = tmp_path / name
    p.write_text(json.dumps({"benchmarks": [{"name": "race/x", "run_type": "iteration", "swapbench": sb},
                                            {"name": "race/x_mean", "run_type": "aggregate", "swapbench": sb}]}))
    return str(p)


def test_race_summary_adds_up_iterations_and_names_stale_pages_and_crashes(tmp_path):
    a = ab.race_summary(_race_result(tmp_path, "A.json", operations=419512, writebacks=6251), [])
    assert (a["operations"], a["writebacks"], a["stale_pages"], a["crashes"]) == (419512, 6251, 0, [])
    assert "0 stale, 0 damaged" in ab.describe_race(a)
    b = ab.race_summary(_race_result(tmp_path, "B.json", operations=10, writebacks=3, stale=1,
                                     first=["page 7 at 2.0 s: stale generation"]), [])
    assert b["stale_pages"] == 1 and "first: page 7" in ab.describe_race(b)
    crash = {"what": "BUG: kernel NULL pointer dereference", "at_s": 1.48, "rip": "zs_map_object",
             "call_trace": ["zswap_decompress", "zswap_writeback_entry"]}
    c = ab.race_summary(None, [{"kernel": "B-1", "boot": 2, "crash": crash, "console": "/x/console.log"}])
    text = ab.describe_race(c)
    assert c["operations"] == 0 and "boot 2: the kernel crashed" in text and "zs_map_object" in text


def test_an_existing_or_unmakeable_out_folder_is_exit_2_before_any_build(tmp_path, capsys, fake_kernel_tree,
                                                                          monkeypatch):
    import argparse
    from test_refusals import BIN
    monkeypatch.setenv("SWAPBENCH_BIN", BIN)  # the suites are checked by the suite's binary first
    tree = fake_kernel_tree
    patch = tmp_path / "p.patch"
    patch.write_text("--- a/mm/zswap.c\n+++ b/mm/zswap.c\n@@ -1,3 +1,3 @@\n line 1\n-line 2\n+LINE 2\n line 3\n")
    p = argparse.ArgumentParser()
    ab.add_arguments(p)
    (tmp_path / "old").mkdir()
    for out, says in ((tmp_path / "old", "exists"), (tmp_path / "no" / "such", "does not exist")):
        a = p.parse_args(["--source", str(tree), "--patch", str(patch), "--out", str(out)])
        assert ab.main(a) == 2
        err = capsys.readouterr().err
        assert says in err and str(out) in err and "Traceback" not in err


def test_the_built_kernels_are_defined_with_their_architecture(tmp_path):
    kf = SimpleNamespace(image="/x/Image", modules_dir="/x/m", config="/x/.config")
    path = ab.definitions([("A-1", kf), ("B-2", kf)], str(tmp_path / "k.toml"), "arm64")
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    assert doc["kernel"]["A-1"]["arch"] == doc["kernel"]["B-2"]["arch"] == "arm64"

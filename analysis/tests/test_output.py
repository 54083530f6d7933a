import json

import pytest

from analysis.output import short_labels, write_json_atomic


def test_short_labels_say_only_what_tells_sets_apart():
    names = ["swapin/zswap/lzo/ratio2/random", "swapin/zswap/lzo/ratio2/seq", "swapout/zswap/lzo/ratio2/seq",
             "swapin/disk/none/ratio2/random", "floor_swapcache/disk/none/ratio2/random",
             "swapin/zswap/lzo/ratio2/random/twin"]
    labels, legend = short_labels(names)
    assert labels == ["in zswap-lzo random", "in zswap-lzo seq", "out zswap-lzo", "in disk", "floor-cache",
                      "in zswap-lzo twin"]
    assert "patterns random, seq" in legend


def test_names_that_do_not_parse_stay_whole():
    assert short_labels(["BM_a", "BM_b"]) == (["BM_a", "BM_b"], "")


def test_a_failed_write_leaves_the_earlier_file_intact(tmp_path):
    p = tmp_path / "r.json"
    write_json_atomic(str(p), {"ok": 1})
    with pytest.raises(TypeError):
        write_json_atomic(str(p), {"bad": object()})
    assert json.loads(p.read_text()) == {"ok": 1}
    assert [f.name for f in tmp_path.iterdir()] == ["r.json"]  # no temporary file left behind

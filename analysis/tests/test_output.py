import json

import pytest

from analysis.load import SetId
from analysis.output import short_labels
from analysis.writer import write_json


def test_short_labels_say_only_what_tells_sets_apart():
    names = ["swapin/zswap/lzo/ratio2/random", "swapin/zswap/lzo/ratio2/seq", "swapout/zswap/lzo/ratio2/seq",
             "swapin/disk/none/ratio2/random", "floor_swapcache/disk/none/ratio2/random",
             "swapin/zswap/lzo/ratio2/random/twin"]
    labels, legend = short_labels([_id(n) for n in names])
    assert labels == ["in zswap-lzo random", "in zswap-lzo seq", "out zswap-lzo", "in disk", "floor-cache",
                      "in zswap-lzo twin"]
    assert "patterns random, seq" in legend


def _id(name):
    """The identity a result's swapbench block gives the set of that name (test shorthand)."""
    p = name.split("/")
    return SetId(name, *p[:5], "read", p[5] if len(p) > 5 else "")


def test_sets_without_a_full_identity_keep_their_names():
    assert short_labels([SetId("BM_a", *[None] * 7), SetId("BM_b", *[None] * 7)]) == (["BM_a", "BM_b"], "")


def test_labels_come_from_the_fields_not_the_name():
    # a file: profile holds slashes; parsing the name would take "tmp" for the pattern
    a = SetId("swapin/zswap/lzo/file:/tmp/x/random", "swapin", "zswap", "lzo", "file:/tmp/x", "random", "write", "")
    b = SetId("swapin/disk/none/file:/tmp/x/random", "swapin", "disk", "none", "file:/tmp/x", "random", "read", "")
    assert short_labels([a, b])[0] == ["in zswap-lzo write", "in disk"]


def test_a_failed_write_leaves_the_earlier_file_intact(tmp_path):
    p = tmp_path / "r.json"
    write_json(str(p), {"ok": 1})
    with pytest.raises(TypeError):
        write_json(str(p), {"bad": object()})
    assert json.loads(p.read_text()) == {"ok": 1}
    assert [f.name for f in tmp_path.iterdir()] == ["r.json"]  # no temporary file left behind

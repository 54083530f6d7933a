"""kmatrix/mte_memory.py on fixture entries: the saved tags' memory per page is the tagged sets'
slab gain minus the untagged sets' of the same backend, per page, with the spread as its error.
The figure is the suite binary's (swapbench mte-tag-memory), so these run the build's binary."""
import os

import pytest

from kmatrix import mte_memory
from kmatrix.defs import KernelError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("SWAPBENCH_TEST_BIN") or os.path.join(ROOT, "build", "bench", "swapbench")


def per_page(entries):
    return mte_memory.per_page(entries, BIN)


def _entry(backend, variant, kmalloc, radix, pages=1024, shrunk=True, kind="swapin", valid=True):
    return {"swapbench": {"kind": kind, "backend": backend, "compressor": "lz4" if backend != "disk" else "none",
                          "variant": variant, "pages": pages, "valid": valid,
                          "slab_swapped_out": {"readable": True, "shrunk": shrunk, "kmalloc_128_bytes": kmalloc,
                                               "radix_tree_node_bytes": radix, "all_caches_bytes": kmalloc + radix,
                                               "meminfo_slab_bytes": 0}}}


def test_tagged_minus_untagged_per_page_with_the_spread_as_error():
    entries = [_entry("zswap", "mte-tagged", 131072, 31536), _entry("zswap", "mte-tagged", 131072, 32120),
               _entry("zswap", "mte-tagged", 131072, 31536), _entry("zswap", "untagged", 0, 21024),
               _entry("zswap", "untagged", 128, 21024), _entry("zswap", "untagged", 0, 21024),
               _entry("zswap", "mte-tagged", 0, 0, kind="swapout")]  # swap-out sets carry no reading
    b = per_page(entries)["per_backend"]["zswap/lz4"]
    assert b["kmalloc_128_bytes"]["bytes_per_page"] == 128.0
    assert b["radix_tree_node_bytes"]["bytes_per_page"] == (31536 - 21024) / 1024
    assert b["saved_tags_bytes_per_page"] == 128.0 + (31536 - 21024) / 1024
    # half the sum of the two arms' ranges: (584 + 0) / 2 radix bytes and (0 + 128) / 2 kmalloc bytes, per page
    assert b["error_bytes_per_page"] == (584 / 2 + 128 / 2) / 1024
    assert b["kmalloc_128_bytes"]["repetitions"] == [3, 3]


def test_unpaired_unreadable_and_unshrunk_readings_are_said():
    entries = [_entry("disk", "mte-tagged", 131072, 0), _entry("zram", "untagged", 0, 0, shrunk=False),
               {"swapbench": {"kind": "swapin", "backend": "zram", "variant": "mte-tagged", "pages": 8, "valid": True,
                              "slab_swapped_out": {"readable": False, "why": "/proc/slabinfo unreadable"}}}]
    b = per_page(entries)
    assert b["per_backend"] == {} and b["skipped"] == ["/proc/slabinfo unreadable"]
    assert b["readings_without_shrink"] == 1
    assert mte_memory.describe(b) == "no paired tagged/untagged sets"
    assert per_page([{"swapbench": {"kind": "swapin", "variant": ""}}]) is None


def test_a_set_without_valid_does_not_count_and_is_named():
    # The rule the native run applies: a set whose block has no `valid` flag was never proved, so
    # its reading is left out (here the tagged arm's only reading: no pair, no figure) and said.
    entries = [_entry("zswap", "mte-tagged", 131072, 31536), _entry("zswap", "untagged", 0, 21024)]
    del entries[0]["swapbench"]["valid"]
    b = per_page(entries)
    assert b["per_backend"] == {}
    assert b["skipped"] == ["a set without a valid flag (nothing proved it)"]
    entries[0]["swapbench"]["valid"] = True
    assert per_page(entries)["per_backend"]["zswap/lz4"]["saved_tags_bytes_per_page"] == 128.0 + (31536 - 21024) / 1024


def test_an_invalid_set_is_named_by_its_reason():
    entries = [_entry("zswap", "mte-tagged", 131072, 31536, valid=False), _entry("zswap", "untagged", 0, 21024)]
    entries[0]["swapbench"]["invalid_reason"] = "zswpin delta 3 != 1024 pages"
    assert per_page(entries)["skipped"] == ["zswpin delta 3 != 1024 pages"]


def test_without_the_binary_it_says_so(monkeypatch):
    monkeypatch.delenv("SWAPBENCH_BIN", raising=False)
    with pytest.raises(KernelError, match="SWAPBENCH_BIN"):
        mte_memory.per_page([])

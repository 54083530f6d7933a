"""kmatrix/mte_memory.py on fixture entries: the saved tags' memory per page is the tagged sets'
slab gain minus the untagged sets' of the same backend, per page, with the spread as its error."""
from kmatrix import mte_memory


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
    b = mte_memory.per_page(entries)["per_backend"]["zswap/lz4"]
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
    b = mte_memory.per_page(entries)
    assert b["per_backend"] == {} and b["skipped"] == ["/proc/slabinfo unreadable"]
    assert b["readings_without_shrink"] == 1
    assert mte_memory.describe(b) == "no paired tagged/untagged sets"
    assert mte_memory.per_page([{"swapbench": {"kind": "swapin", "variant": ""}}]) is None

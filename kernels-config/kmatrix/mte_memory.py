"""The memory saved MTE tags take while their pages are swapped out, per page.

Each swap-in set of the mte suite records, around its region's push-out, what the slab caches
gained (bench/mte_memory.h: swapbench.slab_swapped_out). A tagged set's gain holds the tag storage
(one 128-byte kmalloc object per page, kept in an xarray of radix_tree_node slabs) on top of what
every push-out costs (swap cache, zswap entries); the untagged set of the same backend has only the
latter. Their difference per page is the tags' cost. Method and error: results/SCHEMA.md.

The figure is the suite binary's (bench/mte_memory.cpp), over every boot's sets: which readings
count is one rule, written once, for a native run and a matrix alike; this side only asks and shows."""
import json
import subprocess

from analysis import environment
from kmatrix.defs import KernelError


def per_page(entries, binary=None):
    """{"per_backend": {backend[/compressor]: {"saved_tags_bytes_per_page", "error_bytes_per_page",
    measure: figure...}}, "skipped", "readings_without_shrink", ...} over the iteration entries of one
    kernel, from `swapbench mte-tag-memory` (binary: default $SWAPBENCH_BIN, the host's build), or
    None when no swap-in set of the mte suite recorded slab readings."""
    binary = binary or environment.from_env("SWAPBENCH_BIN", "program")
    if not binary:
        raise KernelError("SWAPBENCH_BIN is not set: the saved-tag memory is the suite binary's figure "
                          "(run through ./swapbench matrix)")
    p = subprocess.run([binary, "mte-tag-memory"], input=json.dumps({"benchmarks": entries}), capture_output=True,
                       text=True)
    if p.returncode != 0:
        raise KernelError(f"{binary} mte-tag-memory exited {p.returncode}: {p.stderr.strip()}")
    return json.loads(p.stdout)


def describe(block):
    """One summary line's worth: backend X B/page (+-E)."""
    return "; ".join(f"{k} {v['saved_tags_bytes_per_page']:.0f} B/page (+-{v['error_bytes_per_page']:.0f})"
                     for k, v in block["per_backend"].items()) or "no paired tagged/untagged sets"

"""Which build of the suite wrote a file: the same two facts the binary records in every result
(context.swapbench.version and .commit), for the files the analysis writes itself (capacity's
prediction and fleet, calibrations, between-run checks, compare's JSON).

The version is CMakeLists.txt's project VERSION, read from the file so it is declared once; the
commit is `git describe --always --dirty` of the checkout, as CMakeLists.txt asks it ("unknown"
outside git, as there). The binary reads the commit when cmake configured the build, this module
when the file is written: after an uncommitted edit to the analysis the two may differ, and this
one is the analysis's own.
"""
import os
import re
import subprocess
from functools import lru_cache

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNKNOWN = "unknown"


@lru_cache(maxsize=None)
def stamp(top=TOP):
    """{"version": ..., "commit": ...} of the checkout at top."""
    return {"version": _version(top), "commit": _commit(top)}


def _version(top):
    try:
        with open(os.path.join(top, "CMakeLists.txt")) as f:
            m = re.search(r"^project\(\s*swapbench\s+VERSION\s+([0-9][0-9.]*)", f.read(), re.M)
    except OSError:
        return UNKNOWN
    return m.group(1) if m else UNKNOWN


def _commit(top):
    try:
        r = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=top, capture_output=True, text=True,
                           timeout=10)
    except (OSError, subprocess.SubprocessError):
        return UNKNOWN
    return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else UNKNOWN

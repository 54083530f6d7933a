"""A few files of a Debian kernel source, without the whole tree: for the tests that compile a part of
the kernel in user space (tests/capacity/test_kernel_oracle.sh compiles lib/lzo and lib/zlib_deflate).

API:
    tree = source_files(name, paths, cache=None) -> str
        name: a kernels.toml definition whose source is "debian-source" (debian-6.12-source, say);
        paths: files or folders relative to the top of the tree.
        The tree the matrix unpacked (<cache>/src/<package>_<version>/linux-source-X.Y) when it is
        there; else the package's linux-source tarball, fetched the way build.py fetches it (apt-get
        download into <cache>/src/<key>.download/, where a later full unpack finds it and takes it),
        with only paths extracted, into <cache>/src/<key>.files/linux-source-X.Y. The whole tree is
        1.7 GB unpacked; these files are a few hundred KB. KernelError when it cannot be had.
"""
import fcntl
import glob
import os
import shutil
import subprocess
import sys

from kmatrix import build
from kmatrix.defs import KernelError, cache_dir, resolve_package


def _tree_in(root):
    trees = [p for p in glob.glob(os.path.join(root, "linux-source-*")) if os.path.isdir(p)]
    return trees[0] if len(trees) == 1 else None


def _has(tree, paths):
    return tree is not None and all(os.path.exists(os.path.join(tree, p)) for p in paths)


def _tarball(pkg, ver, dl):
    """The package's tarball in dl (the download folder build.py uses), fetched when not there."""
    tarballs = glob.glob(os.path.join(dl, "linux-source-*.tar.*"))
    if os.path.exists(os.path.join(dl, ".complete")) and len(tarballs) == 1:
        return tarballs[0]
    shutil.rmtree(dl, ignore_errors=True)
    os.makedirs(dl)
    print(f"swapbench: fetching {pkg} {ver} into {dl} (apt-get download; not installed)", file=sys.stderr, flush=True)
    tarball = build._download_tarball(pkg, ver, dl)
    open(os.path.join(dl, ".complete"), "w").close()
    return tarball


def _extract(tarball, paths, dest):
    tmp = dest + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    # */PATH with * not matching '/': the path under the tarball's one top folder, nowhere deeper; a
    # folder comes with everything in it.
    r = subprocess.run(["tar", "-xf", tarball, "-C", tmp, "--wildcards", "--no-wildcards-match-slash",
                        *[f"*/{p}" for p in paths]], capture_output=True, text=True)
    if r.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise KernelError(f"tar -xf {tarball} {' '.join(paths)} failed: {r.stderr.strip()[-400:]}; "
                          f"delete {os.path.dirname(tarball)} to fetch it again")
    shutil.rmtree(dest, ignore_errors=True)
    os.rename(tmp, dest)


def source_files(name, paths, cache=None):
    d = build.check_source(name)
    if d is None:
        raise KernelError(f"{name}: not a source definition; accepted: {', '.join(build.source_names())}")
    cache = cache or cache_dir()
    pkg = resolve_package(d)
    ver = build._candidate_version(pkg)
    key = f"{pkg}_{ver.replace(':', '_')}"
    src = os.path.join(cache, "src")
    full = os.path.join(src, key)
    if os.path.exists(os.path.join(full, ".complete")) and _has(_tree_in(full), paths):
        return _tree_in(full)
    files = os.path.join(src, key + ".files")
    os.makedirs(src, exist_ok=True)
    # One fetch at a time: two tests (or a test and a second CI job) would download it twice.
    with open(os.path.join(src, key + ".files.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _has(_tree_in(files), paths):
            _extract(_tarball(pkg, ver, full + ".download"), paths, files)
        tree = _tree_in(files)
        if not _has(tree, paths):
            missing = [p for p in paths if tree is None or not os.path.exists(os.path.join(tree, p))]
            raise KernelError(f"{pkg} {ver}: the tarball holds no {', '.join(missing)}")
        return tree

"""Guest kernels built from source, with or without patches (the patch A/B loop).

API:
    src = resolve_source(spec)                  # -> Source
        spec: a kernels.toml definition whose source is "debian-source" (package = "linux-source-X.Y",
        e.g. debian-6.12-source), or the path of a kernel tree (a git checkout, say).
        A Debian source is fetched with apt-get download into <cache>/src/<package>_<version>/ and its
        linux-source-X.Y.tar.xz unpacked there once; that tree stays pristine (nothing writes to it).
    check_source(spec) -> KernelDef | None       # SourceError for what is no source; nothing fetched
    check_patches(src, patches: list[str]) -> None
        Applies the patches in order to a scratch copy of the files they touch; raises PatchError
        (a KernelError) naming the patch and the hunk that failed. Exact context only (--fuzz=0).
    kf = build_kernel(src, patches: list[str], say) -> KernelFiles
        One build folder per (source, patch set): <cache>/build/<source key>/<patch-set key>/ with
        tree/ (the pristine tree copied with hard links, then patched: patch writes a new file for
        each file it changes, so the pristine inode is never touched; checked after patching),
        tree/swapbench-obj/ (make O=; inside the tree so that kbuild's paths are relative and
        ccache hits from one tree to another), build.log (make's whole output), patches/ (copies),
        modules/ (modules are off: only kbuild's modules.builtin). Reused when present, so a
        rebuild is incremental. ccache (CC="ccache gcc", CCACHE_DIR=<cache>/ccache) makes another
        patch set's first build mostly cache hits. say(str) gets the steps and a progress line
        every ~10 s (in place on a terminal); on failure KernelError with the log's path and its
        last 40 lines.
        kf.image = <objdir>/arch/x86/boot/bzImage, kf.config = <objdir>/.config, kf.release = make
        kernelrelease (LOCALVERSION -swapbench[-<patch-set key>]), kf.package = the source's key,
        kf.version = <patch-set key>+<sha256 of bzImage, 8 hex>: the patch set and the exact image
        (caches keyed on it, such as the count pass's kallsyms ranges, never mix two builds).
    guest_config.fragment(requirements_path, extra) -> str
        The config fragment (pure): guest-config.toml's groups, every requirements.toml option =y,
        then extra ({OPTION: "y" | "n" | value}) last.

The configuration: make tinyconfig, the fragment merged with scripts/kconfig/merge_config.sh -m,
make olddefconfig; then every option asked for is verified in .config and the config checker
(check.py, requirements.toml) is run on it; the build is refused naming any option that did not
stick. The guest boots with the usual initramfs: a definition's modules are all built in (found in
modules.builtin), or give it modules = [].
"""
import fcntl
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

from kmatrix.defs import REQUIREMENTS_TOML, KernelError, KernelFiles, cache_dir, get_def, load_defs, \
    resolve_package
from kmatrix.guest_config import fragment, kconfig_symbols, parse_fragment, verify_config
from kmatrix.make_run import elapsed, make, tail

JOBS_MAX = 2            # this machine has 2 vCPUs, shared: never more jobs than that by default
# Fixed so that two builds of the same inputs give the same bzImage (init/version.o embeds them),
# and the image hash in kf.version identifies the build, not the moment it ran.
OBJ = "swapbench-obj"   # make O=, inside the build tree (see _build_locked)
REPRODUCIBLE_ENV = {"KBUILD_BUILD_TIMESTAMP": "Thu Jan  1 00:00:00 UTC 2026", "KBUILD_BUILD_USER": "swapbench",
                    "KBUILD_BUILD_HOST": "swapbench", "KBUILD_BUILD_VERSION": "1"}


class PatchError(KernelError):
    """A patch does not apply: which patch, which file, which hunk."""


class SourceError(KernelError):
    """--source names no source: not a definition of one, not a clean kernel tree (bad input)."""


@dataclass(frozen=True)
class Source:
    name: str        # the definition's name, or the tree's folder name
    tree: str        # the pristine kernel tree; never written to
    key: str         # its identity in the build cache (package_version, or dir-<path hash>[-<git head>])
    package: str = ""
    version: str = ""
    # the definition's own config options (KernelDef.options), merged after guest-config.toml's
    options: dict = field(default_factory=dict, compare=False, hash=False)


# ---------------------------------------------------------------------------------------------- source

def _run(cmd, what, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise KernelError(f"{what} failed (exit {r.returncode}): {(r.stderr or r.stdout).strip()[-400:]}")
    return r.stdout


def _candidate_version(pkg):
    out = _run(["apt-cache", "show", "--no-all-versions", pkg], f"apt-cache show {pkg}")
    m = re.search(r"^Version: (\S+)", out, re.M)
    if not m:
        raise KernelError(f"apt-cache show {pkg}: no Version (fix: apt-get update)")
    return m.group(1)


def _download_tarball(pkg, ver, dest):
    """The package's linux-source-*.tar.* (apt-get download, dpkg-deb -x) moved into dest; its path."""
    work = os.path.join(dest, "deb")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    _run(["apt-get", "download", "-q", f"{pkg}={ver}"], f"apt-get download {pkg}={ver}", cwd=work)
    debs = glob.glob(os.path.join(work, "*.deb"))
    if len(debs) != 1:
        raise KernelError(f"apt-get download {pkg}: expected one .deb in {work}, found {len(debs)}")
    _run(["dpkg-deb", "-x", debs[0], os.path.join(work, "x")], f"dpkg-deb -x {debs[0]}")
    tars = glob.glob(os.path.join(work, "x", "usr", "src", "linux-source-*.tar.*"))
    if len(tars) != 1:
        raise KernelError(f"{pkg}: no single usr/src/linux-source-*.tar.* in the package")
    tarball = os.path.join(dest, os.path.basename(tars[0]))
    os.rename(tars[0], tarball)
    shutil.rmtree(work)  # the .deb beside the tarball would double the cache
    return tarball


def check_patches_in_tarball(tarball, patch_sets, scratch_parent):
    """Each patch set checked against only the files its patches name, extracted from the source
    tarball (a few files instead of the whole 1.7 GB tree): PatchError before the full unpack."""
    files = sorted({f for ps in patch_sets for p in ps for f in patch_files(p)})
    if not files:
        return
    os.makedirs(scratch_parent, exist_ok=True)
    sparse = tempfile.mkdtemp(dir=scratch_parent, prefix="sparse-")
    try:
        # */PATH with * not matching '/': the file under the tarball's one top folder, nowhere deeper.
        r = subprocess.run(["tar", "-xf", tarball, "-C", sparse, "--wildcards", "--no-wildcards-match-slash",
                            *[f"*/{f}" for f in files]], capture_output=True, text=True)
        # A name not in the archive (a file the patch creates, or a wrong path) is for patch to
        # report; anything else is a damaged tarball.
        other = [l for l in r.stderr.splitlines()
                 if l.strip() and "Not found in archive" not in l and "previous errors" not in l]
        if r.returncode != 0 and other:
            raise KernelError(f"tar -xf {tarball} (the files the patches touch) failed: {'; '.join(other)[-400:]}; "
                              f"delete {os.path.dirname(tarball)} to fetch it again")
        tops = [os.path.join(sparse, t) for t in os.listdir(sparse)]
        tree = tops[0] if len(tops) == 1 else sparse
        for ps in patch_sets:
            check_patches(Source("sparse", tree, "sparse"), ps, scratch_parent)
    finally:
        shutil.rmtree(sparse, ignore_errors=True)


def _fetch_debian_source(d, cache, patch_sets=()):
    pkg = resolve_package(d)
    ver = _candidate_version(pkg)
    key = f"{pkg}_{ver.replace(':', '_')}"
    root = os.path.join(cache, "src", key)
    if not os.path.exists(os.path.join(root, ".complete")):
        # The tarball is kept apart until unpacked: a patch that does not apply ends the run before
        # the unpack, and the next attempt starts from the tarball, not from another download.
        dl = root + ".download"
        tarballs = glob.glob(os.path.join(dl, "linux-source-*.tar.*"))
        if not os.path.exists(os.path.join(dl, ".complete")) or len(tarballs) != 1:
            shutil.rmtree(dl, ignore_errors=True)
            os.makedirs(dl)
            print(f"swapbench: fetching {pkg} {ver} into {dl} (apt-get download; not installed)", file=sys.stderr,
                  flush=True)
            tarballs = [_download_tarball(pkg, ver, dl)]
            open(os.path.join(dl, ".complete"), "w").close()
        check_patches_in_tarball(tarballs[0], patch_sets, os.path.join(cache, "work"))
        tmp = root + ".partial"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        print(f"swapbench: unpacking {os.path.basename(tarballs[0])} into {root}", file=sys.stderr, flush=True)
        _run(["tar", "-xf", tarballs[0], "-C", tmp], f"tar -xf {tarballs[0]}")
        shutil.rmtree(root, ignore_errors=True)
        os.rename(tmp, root)
        open(os.path.join(root, ".complete"), "w").close()
        shutil.rmtree(dl)
    trees = [p for p in glob.glob(os.path.join(root, "linux-source-*")) if os.path.isdir(p)]
    if len(trees) != 1:
        raise KernelError(f"{root}: expected one linux-source-* folder; delete {root} to fetch again")
    return Source(d.name, trees[0], key, pkg, ver, dict(d.options))


def _tree_source(path):
    tree = os.path.realpath(path)
    for f in ("Makefile", "Kconfig", "mm", "scripts/kconfig/merge_config.sh"):
        if not os.path.exists(os.path.join(tree, f)):
            raise SourceError(f"{path}: not a kernel tree (no {f}); accepted: a clean kernel tree or a source "
                              f"definition ({', '.join(source_names())})")
    for f in (".config", "include/config"):
        if os.path.exists(os.path.join(tree, f)):
            raise SourceError(f"{path}: the tree has been configured in place ({f} exists); builds use make O=, "
                              f"which needs a clean tree (fix: make -C {path} mrproper)")
    key = "dir-" + hashlib.sha256(tree.encode()).hexdigest()[:10]
    version = ""
    if os.path.exists(os.path.join(tree, ".git")):
        r = subprocess.run(["git", "-C", tree, "rev-parse", "HEAD"], capture_output=True, text=True)
        if r.returncode == 0:
            version = r.stdout.strip()
            key += "-" + version[:12]
    return Source(os.path.basename(tree), tree, key, "", version)


def source_names(defs=None):
    """The definitions a --source may name (source = "debian-source")."""
    try:
        defs = defs if defs is not None else load_defs()
    except KernelError:
        return []
    return [n for n, d in defs.items() if d.source == "debian-source"]


def check_source(spec, defs=None):
    """SourceError unless spec is a clean kernel tree or a debian-source definition; fetches nothing.
    Returns the definition, or None for a tree."""
    if os.path.isdir(spec):
        _tree_source(spec)
        return None
    defs = defs if defs is not None else load_defs()
    accepted = f"accepted: a clean kernel tree (a folder) or one of {', '.join(source_names(defs))}"
    if os.path.lexists(spec):
        raise SourceError(f"{spec}: not a folder; {accepted}")
    if spec not in defs:
        raise SourceError(f"unknown source '{spec}' (no such folder, no such definition in kernels.toml); {accepted}")
    d = defs[spec]
    if d.source != "debian-source":
        raise SourceError(f"kernel {spec} is a {d.source} kernel, not a source to build: {accepted}")
    return d


def resolve_source(spec, defs=None, cache=None, patch_sets=()):
    """A definition name (source = "debian-source") or a kernel tree's path -> Source. A Debian
    source not yet unpacked is checked against patch_sets (lists of patches, each applied in order)
    before its full unpack (check_patches_in_tarball)."""
    d = check_source(spec, defs)
    if d is None:
        return _tree_source(spec)
    return _fetch_debian_source(d, cache or cache_dir(), patch_sets)


# --------------------------------------------------------------------------------------------- patches

def patch_files(patch_path):
    """The files a patch touches (-p1 names), from its ---/+++ lines; /dev/null left out."""
    names = []
    with open(patch_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"^(?:---|\+\+\+) (\S+)", line)
            if m and m.group(1) != "/dev/null":
                parts = m.group(1).split("/", 1)
                if len(parts) == 2 and parts[1] not in names:
                    names.append(parts[1])
    return names


def _patch_failure(out):
    """The lines of patch's output that say what failed (file, hunk, reason)."""
    keep = [l.strip() for l in out.splitlines()
            if re.search(r"FAILED|^patching file|can't find file|No file to patch|Reversed|malformed|"
                         r"Only garbage|doesn't exist|No such file", l)]
    return "; ".join(keep) or out.strip()[-400:]


def _apply(tree, patch, earlier, dry_run=False):
    cmd = ["patch", "-p1", "--batch", "--forward", "--fuzz=0", "--no-backup-if-mismatch", "-d", tree,
           "-i", os.path.abspath(patch)]
    r = subprocess.run(cmd + (["--dry-run"] if dry_run else []), capture_output=True, text=True)
    if r.returncode != 0:
        after = f" (after {', '.join(os.path.basename(p) for p in earlier)})" if earlier else ""
        raise PatchError(f"patch {patch} does not apply{after}: {_patch_failure(r.stdout + r.stderr)} "
                         "(exact context only, as git apply; refresh the patch against this source)")
    return r.stdout


def check_patches(src, patches, scratch_parent=None):
    """Each patch applied in order to a scratch copy of the files the patches touch; PatchError on
    the first that fails. Nothing in src.tree is written."""
    for p in patches:
        if not os.path.isfile(p):
            raise PatchError(f"patch {p}: no such file")
    if not patches:
        return
    scratch_parent = scratch_parent or os.path.join(cache_dir(), "work")
    os.makedirs(scratch_parent, exist_ok=True)
    scratch = tempfile.mkdtemp(dir=scratch_parent, prefix="patch-check-")
    try:
        for p in patches:
            for rel in patch_files(p):
                s, t = os.path.join(src.tree, rel), os.path.join(scratch, rel)
                if os.path.isfile(s) and not os.path.exists(t):
                    os.makedirs(os.path.dirname(t), exist_ok=True)
                    shutil.copy2(s, t)
        for i, p in enumerate(patches):
            _apply(scratch, p, patches[:i])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def patchset_key(patches):
    """'pristine', or 12 hex of sha256 over the patches' contents in order (names do not matter)."""
    if not patches:
        return "pristine"
    h = hashlib.sha256()
    for p in patches:
        with open(p, "rb") as f:
            data = f.read()
        h.update(f"{len(data)}\n".encode())
        h.update(data)
    return h.hexdigest()[:12]


def prepare_tree(src, patches, tree):
    """tree = src.tree copied with hard links (cp -al), then patched; reused when complete. Every file
    a patch changed must be a new inode (the pristine tree unchanged), else KernelError."""
    done = os.path.join(tree, ".swapbench-complete")
    if os.path.exists(done):
        return False
    tmp = tree + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    # .git stays out: setlocalversion would ask git about a tree that is not its checkout
    os.makedirs(tmp)
    entries = [os.path.join(src.tree, e) for e in sorted(os.listdir(src.tree)) if e not in (".git", ".complete")]
    _run(["cp", "-al", "--", *entries, tmp], f"cp -al {src.tree} {tmp}")
    for i, p in enumerate(patches):
        _apply(tmp, p, patches[:i])
    for p in patches:
        for rel in patch_files(p):
            a, b = os.path.join(src.tree, rel), os.path.join(tmp, rel)
            if os.path.exists(a) and os.path.exists(b) and os.stat(a).st_ino == os.stat(b).st_ino:
                # one inode for both: the patch was written through the link into the pristine tree
                raise KernelError(f"{rel}: patching wrote through the hard link into the pristine tree {src.tree}; "
                                  f"delete {os.path.dirname(src.tree)} to fetch it again")
    os.rename(tmp, tree)
    open(done, "w").close()
    return True


# ------------------------------------------------------------------------------------------------ build

def build_env(cache):
    env = dict(os.environ)
    env.update(REPRODUCIBLE_ENV)
    env["CCACHE_DIR"] = os.path.join(cache, "ccache")
    # the paths ccache hashes are relative (objdir inside the tree); these keep it so should a tool
    # pass an absolute one
    env["CCACHE_BASEDIR"] = os.path.join(cache, "build")
    env["CCACHE_NOHASHDIR"] = "1"
    env.pop("ARCH", None)
    env.pop("CROSS_COMPILE", None)
    return env


def _jobs():
    return max(1, min(os.cpu_count() or 1, JOBS_MAX))


# How each architecture is built (Debian's names): the make variables, the image make builds and where.
# arm64 is cross-compiled with Debian's gcc-aarch64-linux-gnu; its guest boots the uncompressed Image.
ARCH_BUILD = {
    "amd64": {"make": [], "target": "bzImage", "image": ("arch", "x86", "boot", "bzImage"), "cc": "gcc"},
    "arm64": {"make": ["ARCH=arm64", "CROSS_COMPILE=aarch64-linux-gnu-"], "target": "Image",
              "image": ("arch", "arm64", "boot", "Image"), "cc": "aarch64-linux-gnu-gcc"},
}


def build_kernel(src, patches, say, cache=None, extra=None, jobs=None, arch="amd64"):
    """The guest kernel of src with patches applied in order -> KernelFiles (see the module doc)."""
    cache = cache or cache_dir()
    if arch not in ARCH_BUILD:
        raise KernelError(f"arch {arch!r}: accepted: {', '.join(ARCH_BUILD)}")
    for tool in ("ccache", "gcc", "make", "bison", "flex", "bc", "patch", ARCH_BUILD[arch]["cc"]):
        if not shutil.which(tool):
            raise KernelError(f"{tool} not found: apt-get install bison flex libelf-dev libssl-dev bc ccache patch"
                              + (" gcc-aarch64-linux-gnu" if arch == "arm64" else ""))
    patches = [os.path.abspath(p) for p in patches]
    check_patches(src, patches)
    pkey = patchset_key(patches)
    # one tree per (source, patch set, architecture): the x86 trees keep their names
    bdir = os.path.join(cache, "build", src.key, pkey if arch == "amd64" else f"{pkey}-{arch}")
    os.makedirs(bdir, exist_ok=True)
    with open(os.path.join(bdir, ".lock"), "w") as lockf:
        try:
            fcntl.flock(lockf, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"{bdir}: another build holds it; waiting")
            fcntl.flock(lockf, fcntl.LOCK_EX)
        return _build_locked(src, patches, pkey, bdir, say, cache, {**src.options, **(extra or {})},
                             jobs or _jobs(), arch)


def _build_locked(src, patches, pkey, bdir, say, cache, extra, jobs, arch="amd64"):
    ab = ARCH_BUILD[arch]
    tree, log = os.path.join(bdir, "tree"), os.path.join(bdir, "build.log")
    # The objdir inside the tree: kbuild then names the source "..", so every path on a compiler's
    # command line is relative and the same in every tree; ccache hits across patch sets with no
    # path rewriting (an objdir elsewhere makes srctree absolute, different for each tree).
    obj = os.path.join(tree, OBJ)
    label = f"{src.name}{'' if pkey == 'pristine' else '+' + pkey}"
    if prepare_tree(src, patches, tree):
        say(f"{label}: tree {tree} (hard links to {src.tree}, {len(patches)} patch(es) applied)")
    pdir = os.path.join(bdir, "patches")
    if patches and not os.path.isdir(pdir):
        os.makedirs(pdir)
        for i, p in enumerate(patches):
            shutil.copy2(p, os.path.join(pdir, f"{i + 1:02d}-{os.path.basename(p)}"))
    moddir = os.path.join(bdir, "modules")
    os.makedirs(moddir, exist_ok=True)
    os.makedirs(obj, exist_ok=True)
    env = build_env(cache)
    localversion = "-swapbench" + ("" if pkey == "pristine" else "-" + pkey[:8])
    common = ["-C", tree, f"O={obj}", *ab["make"], f"CC=ccache {ab['cc']}", "HOSTCC=ccache gcc",
              f"LOCALVERSION={localversion}"]

    frag = fragment(REQUIREMENTS_TOML, extra, arch=arch)
    stamp = os.path.join(obj, ".swapbench-fragment")
    cfg = os.path.join(obj, ".config")
    old = open(stamp).read() if os.path.exists(stamp) else None
    if old != frag or not os.path.exists(cfg):
        say(f"{label}: configuring (tinyconfig + fragment + olddefconfig)")
        frag_path = os.path.join(bdir, "guest.fragment")
        with open(frag_path, "w") as f:
            f.write(frag)
        make(common + ["tinyconfig"], log, say, f"{label} tinyconfig", env)
        with open(log, "a") as lf:
            lf.write(f"\n$ merge_config.sh -m -O {obj} {cfg} {frag_path}\n")
            lf.flush()
            r = subprocess.run(["sh", os.path.join(tree, "scripts/kconfig/merge_config.sh"), "-m", "-O", obj, cfg,
                                frag_path], cwd=tree, stdout=lf, stderr=subprocess.STDOUT, env=env)
        if r.returncode != 0:
            raise KernelError(f"merge_config.sh failed (exit {r.returncode}); log {log}:\n{tail(log)}")
        make(common + ["olddefconfig"], log, say, f"{label} olddefconfig", env)
        absent = verify_config(cfg, parse_fragment(frag), kconfig_symbols(tree))
        if absent:
            say(f"{label}: options this kernel does not have (skipped): {' '.join(absent)}")
        with open(stamp, "w") as f:
            f.write(frag)
    else:
        verify_config(cfg, parse_fragment(frag), kconfig_symbols(tree))
    say(f"{label}: make -j{jobs} {ab['target']} in {obj} (log {log})")
    dt = make(common + [f"-j{jobs}", ab["target"]], log, say, f"{label} build", env)
    image = os.path.join(obj, *ab["image"])
    if not os.path.exists(image):
        raise KernelError(f"make succeeded but {image} is missing; log {log}")
    # modules.builtin (kbuild writes it with vmlinux.o, modules or not) in the otherwise empty
    # modules folder: initramfs.module_order then reports a definition's modules as built in
    # instead of refusing them as missing
    builtin = os.path.join(obj, "modules.builtin")
    if os.path.exists(builtin):
        shutil.copy2(builtin, os.path.join(moddir, "modules.builtin"))
    release = _run(["make", "-s", *common, "kernelrelease"], "make kernelrelease", env=env).strip().splitlines()[-1]
    h = hashlib.sha256()
    with open(image, "rb") as f:
        h.update(f.read())
    say(f"{label}: {release} built in {elapsed(dt)}: {image}")
    return KernelFiles(name=label, release=release, image=image, modules_dir=moddir, config=cfg,
                       package=src.key, version=f"{pkey}+{h.hexdigest()[:8]}")

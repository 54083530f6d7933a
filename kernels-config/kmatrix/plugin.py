"""The exact-cost plugin (kernels-config/plugin/): its header, its build, and the version check.

A QEMU TCG plugin must be built against the qemu-plugin.h of the QEMU that loads it. Debian ships
QEMU with plugin support but without the header; it is in Debian's qemu source package. This fetches
the source package of exactly the installed version with apt, from deb-src entries for the host's
own suites written into a private sources list, with private index and cache folders under the
kernel cache, so the host's apt configuration and state are not touched. Only the header is kept:

    <cache>/qemu-plugin/<tag>/include/qemu/qemu-plugin.h   (+ provenance.json: where it came from)
    <cache>/qemu-plugin/<tag>/build/libswapbench-exact-<tag>.so (+ .qemu-version, the sidecar)
    <cache>/qemu-plugin/apt/   the private sources list, indexes and download cache

where <cache> is defs.cache_dir() and <tag> the Debian package version with ':' as '_'
(1_7.2+dfsg-7+deb12u18+b3). First use costs about 4 s and 24 MB of download (the source tarballs,
deleted once the header is out); later uses about 0.4 s.

The QEMU is named by its binary: a qemu-system-* kmatrix/unpacked.py unpacked from
bookworm-backports (what guests run under: its version from the unpack's record, its source from
bookworm-backports' deb-src) or an installed one such as the host's qemu-system-x86_64 (its
version from dpkg, its source from deb-src twins of the host's entries). The 10.x header includes glib.h: its build needs libglib2.0-dev.

API: ensure_header(cache_dir[, qemu_binary]), ensure_plugin(cache_dir[, qemu_binary]), check_plugin_matches(so, qemu_binary).
"""
import contextlib
import fcntl
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

from kmatrix.defs import HERE, KernelError

PLUGIN_SRC = os.path.join(HERE, "plugin")
QEMU_BINARY = "qemu-system-x86_64"
HEADER = "include/qemu/qemu-plugin.h"
HOST_SOURCES = ("/etc/apt/sources.list", "/etc/apt/sources.list.d")
DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


class PluginError(KernelError):
    """The plugin cannot be had or must not be loaded; the message says what is missing."""


def _say(msg):
    print(f"swapbench: {msg}", file=sys.stderr, flush=True)


def _run(cmd, **kw):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, **kw)
    except OSError as e:
        raise PluginError(f"{cmd[0]}: {e}") from None


def _tail(r, n=400):
    return (r.stderr.strip() or r.stdout.strip())[-n:]


# ---- versions -------------------------------------------------------------------------------------

def version_line(qemu_binary=QEMU_BINARY):
    """The first line of `qemu_binary --version`: what the sidecar holds and what must match."""
    r = _run([qemu_binary, "--version"])
    if r.returncode != 0 or not r.stdout.strip():
        raise PluginError(f"{qemu_binary} --version failed: {_tail(r)} (apt-get install qemu-system-x86)")
    return r.stdout.splitlines()[0].strip()


def source_version(binary_version):
    """A binNMU (+bN) rebuilds the same source: 1:7.2+dfsg-7+deb12u18+b3 -> 1:7.2+dfsg-7+deb12u18."""
    return re.sub(r"\+b\d+$", "", binary_version)


def installed_qemu(qemu_binary=QEMU_BINARY):
    """(version line, Debian binary version, source package, source version) of the QEMU that
    qemu_binary runs, from dpkg's record of the package owning it."""
    line = version_line(qemu_binary)
    path = shutil.which(qemu_binary) or qemu_binary
    r = _run(["dpkg-query", "-S", os.path.realpath(path)])
    if r.returncode != 0:
        # /usr/bin vs /bin (merged /usr): dpkg knows the path the package shipped
        r = _run(["dpkg-query", "-S", path])
    if r.returncode != 0:
        raise PluginError(f"{path} belongs to no Debian package ({_tail(r)}); the plugin header comes from "
                          "Debian's qemu source package, so this QEMU needs a header by other means")
    pkg = r.stdout.split(":", 1)[0].strip()
    r = _run(["dpkg-query", "-W", "-f", "${Version}\t${source:Package}\t${source:Version}", pkg])
    if r.returncode != 0:
        raise PluginError(f"dpkg-query -W {pkg} failed: {_tail(r)}")
    version, src, src_version = r.stdout.split("\t")
    src_version = src_version or source_version(version)
    m = re.search(r"\(Debian ([^)]+)\)", line)
    if m and m.group(1) != version:
        raise PluginError(f"{qemu_binary} says {line!r} but dpkg has {pkg} {version}: a half-finished upgrade? "
                          f"(fix: apt-get install --reinstall {pkg})")
    return line, version, src, src_version


def unpacked_qemu(qemu_binary):
    """(Debian binary version, source package, source version, deb-src lines) of a QEMU unpacked by
    kmatrix/unpacked.py (<dest>/root/usr/bin/<binary>, with <dest>/versions), or None for any other
    binary. Such a QEMU is in no dpkg record: its version is the one unpack() wrote down, and its
    source package comes from the suite it was fetched from (bookworm-backports)."""
    path = os.path.realpath(shutil.which(qemu_binary) or qemu_binary)
    dest = path
    for _ in range(4):  # root/usr/bin/<binary>
        dest = os.path.dirname(dest)
    vfile = os.path.join(dest, "versions")
    if os.path.basename(os.path.dirname(os.path.dirname(os.path.dirname(path)))) != "root" or not os.path.exists(vfile):
        return None
    from kmatrix import unpacked
    with open(vfile) as f:
        versions = dict(l.split(None, 1) for l in f.read().splitlines() if l.strip())
    pkg = f"{unpacked.package_of(path)}:amd64"
    if pkg not in versions:
        raise PluginError(f"{vfile} names no {pkg} (it lists {', '.join(versions) or 'nothing'}): not the QEMU "
                          f"kmatrix/unpacked.py unpacks; remove {dest} to fetch it again")
    version = versions[pkg].strip()
    # Every qemu-system-* binary package of Debian is built from the source package qemu, and a
    # backport carries no binNMU suffix of its own beyond what source_version() strips.
    return version, "qemu", source_version(version), [unpacked.BACKPORTS.replace("deb ", "deb-src ", 1)]


def qemu_identity(qemu_binary=QEMU_BINARY):
    """(version line, Debian binary version, source package, source version, deb-src lines or None)
    of the QEMU qemu_binary runs: an unpacked one (unpacked_qemu) or the host's installed one (None:
    the deb-src twins of the host's own apt entries)."""
    unpacked = unpacked_qemu(qemu_binary)
    if unpacked:
        line = version_line(qemu_binary)
        m = re.search(r"\(Debian ([^)]+)\)", line)
        if m and m.group(1) != unpacked[0]:
            raise PluginError(f"{qemu_binary} says {line!r} but its unpack recorded {unpacked[0]}: remove the unpacked "
                              "folder to fetch it again")
        return (line, *unpacked)
    return (*installed_qemu(qemu_binary), None)


def version_tag(version):
    """A version as a file name: [^A-Za-z0-9.+_-] -> '_' (the epoch's ':' would break make, which
    reads it in a path as a rule separator)."""
    return re.sub(r"[^A-Za-z0-9.+_-]", "_", version)


def plugin_file_name(version_line_):
    """The .so name CMakeLists.txt gives the plugin for that version line (the same rule: keep them
    in step): the Debian version where there is one, else upstream's, as a version_tag()."""
    m = re.search(r"\(Debian ([^)]+)\)", version_line_) or re.search(r"version (\S+)", version_line_)
    if not m:
        raise PluginError(f"{version_line_!r} names no version")
    return f"libswapbench-exact-{version_tag(m.group(1))}.so"


# ---- deb-src entries for the host's suites --------------------------------------------------------

def _deb822_entries(text):
    for stanza in re.split(r"\n\s*\n", text):
        fields, key = {}, None
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0] in " \t" and key:
                fields[key] += " " + line.strip()
            elif ":" in line:
                key, val = line.split(":", 1)
                key = key.strip().lower()
                fields[key] = val.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            for suite in fields.get("suites", "").split():
                yield uri, suite, fields.get("components", "").split(), fields.get("signed-by", "")


def _one_line_entries(text):
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        m = re.match(r"deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s*(.*)", line)
        if not m:
            continue
        opts = dict(re.findall(r"([\w-]+)=([^\s\]]+)", m.group(1) or ""))
        yield m.group(2), m.group(3), m.group(4).split(), opts.get("signed-by", "")


def host_deb_entries(paths=HOST_SOURCES):
    """(uri, suite, components, signed_by) of every enabled binary (deb) entry of the host's apt
    sources: both formats, the .list file and the .sources/.list files of the parts folder."""
    files = []
    for p in paths:
        if os.path.isdir(p):
            files += sorted(glob.glob(os.path.join(p, "*.list")) + glob.glob(os.path.join(p, "*.sources")))
        elif os.path.exists(p):
            files.append(p)
    out, seen = [], set()
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        for e in (_deb822_entries(text) if f.endswith(".sources") else _one_line_entries(text)):
            key = (e[0].rstrip("/"), e[1])  # one archive and suite listed twice: the first entry wins
            if key not in seen:
                seen.add(key)
                out.append(e)
    return out


def deb_src_lines(entries):
    """One-line deb-src entries for the same archives and suites (the plugin header is in main)."""
    lines = []
    for uri, suite, comps, signed_by in entries:
        if not signed_by and os.path.exists(DEBIAN_KEYRING) and "debian" in uri:
            signed_by = DEBIAN_KEYRING
        opt = f"[signed-by={signed_by}] " if signed_by and not signed_by.lstrip().startswith("-----") else ""
        lines.append(f"deb-src {opt}{uri} {suite} {' '.join(comps) or 'main'}")
    return lines


# ---- the header -----------------------------------------------------------------------------------

def patch_sections(patch_text, path=HEADER):
    """The parts of a patch that change `path` (a diff of several files cut down to that file's
    sections), or '' when it does not touch it."""
    out, keep, pending = [], False, []
    for line in patch_text.splitlines(keepends=True):
        if line.startswith("--- "):
            pending, keep = [line], False
            continue
        if line.startswith("+++ ") and pending:
            target = line[4:].split("\t")[0].strip()
            keep = target.endswith("/" + path) or target == path
            if keep:
                out += pending + [line]
            pending = []
            continue
        if pending:
            pending.append(line)
        elif keep:
            if line.startswith("diff ") or line.startswith("Index: "):
                keep = False
            else:
                out.append(line)
    return "".join(out)


def _apt(root, *args, cwd=None):
    """apt-get with the private configuration under root: deb-src entries only, its own index and
    cache folders; /etc/apt/sources.list* and /var/lib/apt are neither read for sources nor written."""
    opts = ["-o", f"Dir::Etc::SourceList={root}/sources.list", "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", f"Dir::State::Lists={root}/lists", "-o", f"Dir::Cache={root}/cache", "-q"]
    return _run(["apt-get", *opts, *args], cwd=cwd)


def _private_dir(path):
    # apt downloads as the unprivileged user _apt; a folder it cannot write makes apt fall back to
    # downloading as root, with a warning.
    os.makedirs(path, exist_ok=True)
    if os.geteuid() == 0:
        try:
            shutil.chown(path, user="_apt")
        except (LookupError, OSError):
            pass


def _extract_header(dl):
    """(header bytes, names of the Debian patches applied to it) from the downloaded source
    package: the header from the orig tarball, then every patch of debian/patches/series that
    touches it, in series order (only its sections for the header)."""
    origs = glob.glob(os.path.join(dl, "*.orig.tar.*"))
    if len(origs) != 1:
        raise PluginError(f"{dl}: expected one *.orig.tar.* in the source package, found {origs}")
    with tarfile.open(origs[0]) as t:
        m = next((m for m in t if m.isfile() and (m.name == HEADER or m.name.endswith("/" + HEADER))), None)
        if m is None:
            raise PluginError(f"{origs[0]} holds no {HEADER}: this QEMU predates the plugin API")
        header = t.extractfile(m).read()
    applied = []
    for deb in glob.glob(os.path.join(dl, "*.debian.tar.*")):
        with tarfile.open(deb) as t:
            names = {m.name.removeprefix("./"): m for m in t if m.isfile()}
            series = names.get("debian/patches/series")
            if series is None:
                continue
            for entry in t.extractfile(series).read().decode().splitlines():
                name = entry.split("#", 1)[0].split()
                if not name:
                    continue
                member = names.get(f"debian/patches/{name[0]}")
                if member is None:
                    raise PluginError(f"{deb}: series names {name[0]}, which is not in debian/patches")
                sections = patch_sections(t.extractfile(member).read().decode("utf-8", "replace"))
                if sections:
                    header = _apply(header, sections, name[0])
                    applied.append(name[0])
    return header, applied


def _apply(header, sections, name):
    with tempfile.TemporaryDirectory() as tree:
        target = os.path.join(tree, HEADER)
        os.makedirs(os.path.dirname(target))
        with open(target, "wb") as f:
            f.write(header)
        r = _run(["patch", "-p1", "--no-backup-if-mismatch", "-d", tree, "-i", "/dev/stdin"], input=sections)
        if r.returncode != 0:
            raise PluginError(f"Debian patch {name} touches {HEADER} and does not apply to it: {_tail(r)}")
        with open(target, "rb") as f:
            return f.read()


def ensure_header(cache_dir, qemu_binary=QEMU_BINARY):
    """The folder holding qemu/qemu-plugin.h for the QEMU qemu_binary runs, fetched from Debian's
    source package of exactly that version on first use and cached."""
    _line, version, src, src_version, srcs = qemu_identity(qemu_binary)
    with _locked(cache_dir):
        return _ensure_header_for(cache_dir, version, src, src_version, srcs)


@contextlib.contextmanager
def _locked(cache_dir):
    """One fetch or build at a time per cache: two would download into and build in the same
    folders. (flock: released when the holder dies.)"""
    top = os.path.join(cache_dir, "qemu-plugin")
    os.makedirs(top, exist_ok=True)
    with open(os.path.join(top, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _ensure_header_for(cache_dir, version, src, src_version, srcs=None):
    """srcs: the deb-src lines to fetch from (an unpacked QEMU's suite), or None for the deb-src
    twins of the host's own entries (the installed QEMU). Each kind has its own private apt folder,
    so switching between them does not refetch indexes."""
    top = os.path.join(cache_dir, "qemu-plugin")
    inc = os.path.join(top, version_tag(version), "include")
    if os.path.exists(os.path.join(inc, "qemu", "qemu-plugin.h")):
        return inc
    what = f"no deb-src reachable for {src} {version}"
    if srcs is None:
        entries = host_deb_entries()
        if not entries:
            raise PluginError(f"{what}: the host's apt sources ({', '.join(HOST_SOURCES)}) have no deb entry to "
                              "derive deb-src entries from")
        srcs, apt_root, origin = deb_src_lines(entries), os.path.join(top, "apt"), "twins of the host's apt entries"
    else:
        apt_root, origin = os.path.join(top, "apt-unpacked"), "the suite the unpacked QEMU came from"
    os.makedirs(os.path.join(apt_root, "lists", "partial"), exist_ok=True)
    os.makedirs(os.path.join(apt_root, "cache", "archives", "partial"), exist_ok=True)
    with open(os.path.join(apt_root, "sources.list"), "w") as f:
        f.write(f"# written by swapbench (kmatrix/plugin.py): deb-src entries ({origin}), used only\n"
                "# with -o Dir::Etc::SourceList=this file; the host's apt configuration is unchanged.\n")
        f.write("\n".join(srcs) + "\n")
    _say(f"fetching the QEMU plugin header: source package {src} {src_version} (for {version}) with apt from "
         f"{'; '.join(srcs)} (private lists in {apt_root}; the host's apt configuration is not changed)")
    r = _apt(apt_root, "update")
    if r.returncode != 0 or re.search(r"^(E|W): Failed to fetch", r.stdout + r.stderr, re.M):
        raise PluginError(f"{what}: apt-get update of the deb-src entries {srcs} failed: {_tail(r)}")
    dl = os.path.join(top, version_tag(version), "source.partial")
    shutil.rmtree(dl, ignore_errors=True)
    _private_dir(dl)
    r = _apt(apt_root, "source", "--download-only", f"{src}={src_version}", cwd=dl)
    patches_note = "checked: every patch of debian/patches/series that touches the header was applied"
    if r.returncode != 0:
        full = _tail(r)
        # A mirror may hold the upstream tarball (shared by every Debian revision) but no longer the
        # .dsc and debian tarball of a superseded backport (seen for qemu 10.0.2~bpo12+1: 404). The
        # tarball alone, checked by apt against the signed Sources index, still gives the upstream
        # header; whether a Debian patch changes it is then unknown, and the provenance says so.
        shutil.rmtree(dl, ignore_errors=True)
        _private_dir(dl)
        r = _apt(apt_root, "source", "--download-only", "--tar-only", f"{src}={src_version}", cwd=dl)
        if r.returncode != 0:
            raise PluginError(f"{what}: apt-get source --download-only {src}={src_version} from {srcs} failed: "
                              f"{full} (the archive keeps only current versions; snapshot.debian.org keeps every one)")
        patches_note = (f"not checked: the .dsc and debian tarball were not reachable ({full[-200:]}); the header is "
                        "upstream's, from the orig tarball apt verified against the Sources index")
        _say(f"plugin header for {src} {src_version}: only the orig tarball was reachable; Debian's patches to the "
             "header could not be checked (provenance.json says so)")
    header, patches = _extract_header(dl)
    staging = inc + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(os.path.join(staging, "qemu"))
    with open(os.path.join(staging, "qemu", "qemu-plugin.h"), "wb") as f:
        f.write(header)
    with open(os.path.join(top, version_tag(version), "provenance.json"), "w") as f:
        json.dump({"qemu_package_version": version, "source": f"{src} {src_version}",
                   "files": sorted(os.path.basename(p) for p in glob.glob(os.path.join(dl, "*"))),
                   "debian_patches_applied_to_header": patches, "debian_patches": patches_note,
                   "sha256": hashlib.sha256(header).hexdigest(), "deb_src": srcs}, f, indent=1)
        f.write("\n")
    shutil.rmtree(inc, ignore_errors=True)
    os.rename(staging, inc)
    shutil.rmtree(dl, ignore_errors=True)  # the source tarballs (~24 MB): only the header is used
    return inc


# ---- the plugin -----------------------------------------------------------------------------------

def _cmake_source_of(build):
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            m = re.search(r"^CMAKE_HOME_DIRECTORY:INTERNAL=(.*)$", f.read(), re.M)
            return m.group(1) if m else None
    except OSError:
        return None


def ensure_plugin(cache_dir, qemu_binary=QEMU_BINARY):
    """(path of the plugin .so, the QEMU version line it was built for), built by
    kernels-config/plugin/CMakeLists.txt against the header of the QEMU qemu_binary runs. The build
    folder is reused; make rebuilds only when exactcount.c or its header changed."""
    line, version, src, src_version, srcs = qemu_identity(qemu_binary)
    build = os.path.join(cache_dir, "qemu-plugin", version_tag(version), "build")
    with _locked(cache_dir):
        inc = _ensure_header_for(cache_dir, version, src, src_version, srcs)
        if _cmake_source_of(build) not in (None, PLUGIN_SRC):
            # configured from another checkout: CMake refuses a cache made for another source folder
            shutil.rmtree(build)
        if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
            r = _run(["cmake", "-S", PLUGIN_SRC, "-B", build, f"-DQEMU_PLUGIN_INCLUDE={inc}",
                      f"-DQEMU_VERSION_LINE={line}"])
            if r.returncode != 0:
                raise PluginError(f"configuring the plugin ({PLUGIN_SRC}) failed: {_tail(r, 800)}")
        r = _run(["cmake", "--build", build, "-j2"])
        if r.returncode != 0:
            raise PluginError(f"building the plugin in {build} failed: {_tail(r, 800)}")
    so = os.path.join(build, plugin_file_name(line))
    if not os.path.exists(so):
        raise PluginError(f"the plugin build in {build} made no {os.path.basename(so)} "
                          "(plugin_file_name() and CMakeLists.txt disagree on the name)")
    check_plugin_matches(so, qemu_binary)
    return so, line


def check_plugin_matches(so_path, qemu_binary):
    """None when the plugin at so_path was built for the QEMU qemu_binary runs (its sidecar
    <so>.qemu-version holds the same --version line); PluginError otherwise. A plugin built against
    another version's header may see other struct layouts and count nonsense with no sign."""
    sidecar = so_path + ".qemu-version"
    try:
        with open(sidecar) as f:
            built_for = f.readline().strip()
    except OSError as e:
        raise PluginError(f"plugin {so_path} has no version sidecar ({e}); not loaded: rebuild it with "
                          "kmatrix.plugin.ensure_plugin()") from None
    running = version_line(qemu_binary)
    if built_for != running:
        raise PluginError(f"plugin {so_path} was built for {built_for!r} but {qemu_binary} is {running!r}; "
                          "a plugin is never loaded into another QEMU version (fix: ensure_plugin() builds one "
                          "for this QEMU)")

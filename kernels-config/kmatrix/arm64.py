"""What an arm64 guest needs besides its kernel, each fetched with apt-get download and unpacked into
the cache, never installed (the host keeps its own QEMU and libraries):

  <cache>/arm64/qemu-<version>/   qemu-system-aarch64 from bookworm-backports (10.0.x). Bookworm's
                                  own QEMU 7.2 corrupts MTE tags in system mode (QEMU issue 1416,
                                  gitlab.com/qemu-project/qemu/-/issues/1416, fixed in 8.0;
                                  ../shared/notes/guests.md), so it is never used here.
  <cache>/arm64/busybox-<version>/ busybox-static:arm64, the guest's shell and tools
  <cache>/arm64/sysroot/          the arm64 builds of the suite's libraries (Google Benchmark, hwloc,
                                  libpfm4, zstd, lz4, zlib, lzo2 and what they link), for the cross build and the
                                  guest's /lib. Unpacked rather than installed through multiarch: an
                                  installed :arm64 library must have exactly the version of its amd64
                                  twin, and on a host behind its archive that would upgrade systemd,
                                  OpenSSL and others on the host (measured here: 26 packages).

bookworm-backports is reached through a private sources list with its own index folder (as
plugin.py does for deb-src), so /etc/apt and the host's package lists are not changed.
The arm64 packages need `dpkg --add-architecture arm64` and an apt-get update (the front door does
both when an arm64 kernel is asked for)."""
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys

from kmatrix.defs import KernelError, cache_dir

BACKPORTS = "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main"
QEMU_PACKAGE = "qemu-system-arm"
# 8.0 fixed MTE tag storage in system mode; older QEMUs are refused before a boot.
QEMU_MIN_MTE = (8, 0)
BUSYBOX_PACKAGE = "busybox-static:arm64"
# The suite's libraries and the shared libraries they link (readelf NEEDED, outside glibc and
# libstdc++, which the cross toolchain's libc6-arm64-cross / libstdc++6-arm64-cross provide).
SYSROOT_PACKAGES = ["libbenchmark-dev", "libbenchmark1debian", "libhwloc-dev", "libhwloc15", "libudev1",
                    "libnuma1", "libpfm4-dev", "libpfm4", "libzstd-dev", "libzstd1", "liblz4-dev", "liblz4-1",
                    # capacity (zlib's deflate; liblzo2, which CMakeLists.txt requires at configure time)
                    "zlib1g-dev", "zlib1g", "liblzo2-dev", "liblzo2-2",
                    # a --swap-device is probed for signatures before a swap header is written on it
                    "libblkid-dev", "libblkid1"]
CROSS_LIBDIR = "/usr/aarch64-linux-gnu/lib"
GUEST_MACHINE = "virt,mte=on"
GUEST_CPU = "max"
CONSOLE = "ttyAMA0"


def _run(cmd, **kw):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, **kw)
    except OSError as e:
        raise KernelError(f"{cmd[0]}: {e}") from None


def _tail(r):
    return (r.stderr.strip() or r.stdout.strip())[-400:]


def _apt_private(top):
    """apt-get options for the bookworm-backports list under top (its own lists and cache)."""
    root = os.path.join(top, "apt")
    for d in ("lists/partial", "cache/archives/partial"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    with open(os.path.join(root, "sources.list"), "w") as f:
        f.write("# written by swapbench (kmatrix/arm64.py), used only with -o Dir::Etc::SourceList=this file\n"
                + BACKPORTS + "\n")
    _chown_apt(root)
    return ["-o", f"Dir::Etc::SourceList={root}/sources.list", "-o", "Dir::Etc::SourceParts=/dev/null",
            "-o", f"Dir::State::Lists={root}/lists", "-o", f"Dir::Cache={root}/cache", "-q"]


def _chown_apt(path):
    # apt downloads as the user _apt: a folder it cannot write makes it warn and download as root.
    if os.geteuid() != 0:
        return
    for d, _dirs, _files in os.walk(path):
        try:
            shutil.chown(d, user="_apt")
        except (LookupError, OSError):
            return


def unpack(packages, dest, apt_opts=(), what=""):
    """Downloads packages (names, name:arch or name/suite) with apt-get download and unpacks each
    into dest/root; dest/.complete marks a finished unpack, which is reused as it is."""
    if os.path.exists(os.path.join(dest, ".complete")):
        return os.path.join(dest, "root")
    tmp = dest + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    _chown_apt(tmp)
    r = _run(["apt-get", *apt_opts, "download", *packages], cwd=tmp)
    if r.returncode != 0:
        raise KernelError(f"apt-get download {' '.join(packages)}{what} failed: {_tail(r)} "
                          "(arm64 packages need: dpkg --add-architecture arm64 && apt-get update)")
    versions = {}
    for deb in sorted(glob.glob(os.path.join(tmp, "*.deb"))):
        x = _run(["dpkg-deb", "-x", deb, os.path.join(tmp, "root")])
        if x.returncode != 0:
            raise KernelError(f"dpkg-deb -x {deb} failed: {_tail(x)}")
        f = _run(["dpkg-deb", "-f", deb, "Package", "Version", "Architecture"]).stdout
        fields = dict(l.split(": ", 1) for l in f.splitlines() if ": " in l)
        versions[f"{fields.get('Package')}:{fields.get('Architecture')}"] = fields.get("Version", "")
        os.unlink(deb)  # the unpacked tree is what is used
    _relative_links(os.path.join(tmp, "root"))
    with open(os.path.join(tmp, "versions"), "w") as f:
        f.writelines(f"{k} {v}\n" for k, v in sorted(versions.items()))
    shutil.rmtree(dest, ignore_errors=True)
    os.rename(tmp, dest)
    open(os.path.join(dest, ".complete"), "w").close()
    return os.path.join(dest, "root")


def _relative_links(root):
    """Absolute symlinks inside an unpacked tree (libz.so -> /lib/aarch64-linux-gnu/libz.so.1) made
    relative, so they point into the tree and not at the host's own files."""
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            if os.path.islink(p) and os.readlink(p).startswith("/"):
                target = os.path.join(root, os.readlink(p).lstrip("/"))
                os.unlink(p)
                os.symlink(os.path.relpath(target, d), p)


def _candidates(pkgs, apt_opts=()):
    """{package: the version apt would fetch}, from one apt-cache policy call."""
    r = _run(["apt-cache", *apt_opts, "policy", *pkgs])
    found = dict(re.findall(r"^(\S+):\n\s+Installed:.*\n\s+Candidate:\s*(\S+)", r.stdout, re.M))
    missing = [p for p in pkgs if found.get(p, "(none)") == "(none)"]
    if r.returncode != 0 or missing:
        why = f" (apt-cache: {r.stderr.strip()[-200:]})" if r.returncode != 0 else ""
        raise KernelError(f"apt knows no candidate for {', '.join(missing)}{why}; "
                          "fix: dpkg --add-architecture arm64 && apt-get update")
    return found


def _candidate(pkg, apt_opts=()):
    return _candidates([pkg], apt_opts)[pkg]


def _tag(version):
    return re.sub(r"[^A-Za-z0-9.+_-]", "_", version)


def top(cache=None):
    return os.path.join(cache or cache_dir(), "arm64")


class Qemu:
    """The unpacked qemu-system-aarch64: its path, its environment and its --version line."""

    def __init__(self, binary, module_dir):
        self.binary = binary
        # An empty module folder: the unpacked QEMU would otherwise look for its optional modules
        # (display, audio) in the host's /usr/lib/x86_64-linux-gnu/qemu, built for another version,
        # and warn about each.
        self.env = dict(os.environ, QEMU_MODULE_DIR=module_dir)
        r = _run([binary, "--version"], env=self.env)
        if r.returncode != 0 or not r.stdout.strip():
            raise KernelError(f"{binary} --version failed: {_tail(r)} (it runs against the host's libraries: "
                              f"ldd {binary} | grep 'not found' names what is missing)")
        self.version_line = r.stdout.splitlines()[0].strip()
        m = re.search(r"version (\d+)\.(\d+)", self.version_line)
        self.version = (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def ensure_qemu(cache=None):
    """bookworm-backports' qemu-system-aarch64, unpacked into the cache on first use.
    SWAPBENCH_QEMU_AARCH64=PATH uses another one as it is, without the version check: the MTE gate
    in every guest is what judges it (the guest test points it at bookworm's 7.2 to see the gate fail)."""
    t = top(cache)
    os.makedirs(t, exist_ok=True)
    mods = os.path.join(t, "qemu-modules-empty")
    os.makedirs(mods, exist_ok=True)
    from analysis import environment  # as root, only a QEMU root alone can change
    named = environment.from_env("SWAPBENCH_QEMU_AARCH64", "program")
    if named:
        q = Qemu(named, mods)
        print(f"swapbench: qemu-system-aarch64 from SWAPBENCH_QEMU_AARCH64: {q.binary} ({q.version_line}); "
              "not checked by version, only by the MTE gate", file=sys.stderr, flush=True)
        return q
    opts = _apt_private(t)
    found = sorted(glob.glob(os.path.join(t, "qemu-*", ".complete")))
    if found:
        dest = os.path.dirname(found[-1])
    else:
        r = _run(["apt-get", *opts, "update"])
        if r.returncode != 0 or re.search(r"^(E|W): Failed to fetch", r.stdout + r.stderr, re.M):
            raise KernelError(f"apt-get update of bookworm-backports (private list in {t}/apt) failed: {_tail(r)}")
        ver = _candidate(QEMU_PACKAGE, opts)
        dest = os.path.join(t, f"qemu-{_tag(ver)}")
        print(f"swapbench: fetching {QEMU_PACKAGE} {ver} from bookworm-backports into {dest} (not installed)",
              flush=True, file=sys.stderr)
        unpack([f"{QEMU_PACKAGE}={ver}"], dest, opts, " from bookworm-backports")
    bindir = os.path.join(dest, "root", "usr", "bin")
    # QEMU looks for its modules in QEMU_MODULE_DIR and then in its built-in folder, which is the host
    # QEMU's (/usr/lib/x86_64-linux-gnu/qemu): loading one of those 7.2 modules aborts 10.0 (an
    # assertion after "Only modules from the same build can be loaded"). A qemu-bundle folder beside
    # the binary moves the built-in folders under it, where they are empty.
    os.makedirs(os.path.join(bindir, "qemu-bundle", "usr", "lib", "x86_64-linux-gnu", "qemu"), exist_ok=True)
    q = Qemu(os.path.join(bindir, "qemu-system-aarch64"), mods)
    if q.version < QEMU_MIN_MTE:
        raise KernelError(f"{q.binary} is {q.version_line}: QEMU before 8.0 corrupts MTE tags in system mode "
                          f"(QEMU issue 1416, https://gitlab.com/qemu-project/qemu/-/issues/1416); "
                          f"remove {dest} to fetch bookworm-backports' again")
    return q


def ensure_busybox(cache=None):
    ver = _candidate(BUSYBOX_PACKAGE)
    root = unpack([f"{BUSYBOX_PACKAGE}={ver}"], os.path.join(top(cache), f"busybox-{_tag(ver)}"))
    path = os.path.join(root, "bin", "busybox")
    if not os.path.exists(path):
        raise KernelError(f"{BUSYBOX_PACKAGE} {ver} holds no bin/busybox (in {root})")
    return path


def ensure_sysroot(cache=None):
    """The arm64 libraries' tree (usr/include, usr/lib/aarch64-linux-gnu), keyed by their versions
    so that an archive update gives a new tree rather than a mixed one."""
    versions = _candidates([p + ":arm64" for p in SYSROOT_PACKAGES])
    pkgs = [f"{p}:arm64={versions[p + ':arm64']}" for p in SYSROOT_PACKAGES]
    h = hashlib.sha256(" ".join(pkgs).encode()).hexdigest()[:12]
    dest = os.path.join(top(cache), f"sysroot-{h}")
    root = unpack(pkgs, dest)
    link = os.path.join(top(cache), "sysroot")
    if os.path.realpath(link) != os.path.realpath(root):
        tmp = link + ".tmp"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(root, tmp)
        os.replace(tmp, link)
    return link


# ---- the guest's shared libraries ------------------------------------------------------------------

def _needed(path):
    r = _run(["aarch64-linux-gnu-readelf", "-d", "-l", path])
    if r.returncode != 0:
        raise KernelError(f"aarch64-linux-gnu-readelf {path}: {_tail(r)} (apt-get install binutils-aarch64-linux-gnu)")
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", r.stdout)
    interp = re.search(r"Requesting program interpreter: ([^\]]+)\]", r.stdout)
    return needed, interp.group(1) if interp else None


def guest_libs(binary, sysroot):
    """[(guest path, host file)] of every shared library binary needs, found in the cross
    toolchain's glibc and the sysroot: what ldd does for a native binary."""
    dirs = [CROSS_LIBDIR, os.path.join(sysroot, "usr/lib/aarch64-linux-gnu"), os.path.join(sysroot, "lib/aarch64-linux-gnu")]
    out, todo, seen = [], [binary], set()
    needed0, interp = _needed(binary)
    if interp:
        host = os.path.join(CROSS_LIBDIR, os.path.basename(interp))
        if not os.path.exists(host):
            raise KernelError(f"{binary}: interpreter {interp} not in {CROSS_LIBDIR} (apt-get install libc6-arm64-cross)")
        out.append((interp, os.path.realpath(host)))
    while todo:
        needed, _ = _needed(todo.pop())
        for n in needed:
            if n in seen:
                continue
            seen.add(n)
            host = next((os.path.join(d, n) for d in dirs if os.path.exists(os.path.join(d, n))), None)
            if host is None:
                raise KernelError(f"{binary} needs {n}, found in none of {dirs}")
            out.append((f"/lib/aarch64-linux-gnu/{n}", os.path.realpath(host)))
            todo.append(host)
    return out


def qemu_args(accel):
    """Machine and CPU of an arm64 guest. Only TCG on a host of another architecture; MTE needs
    mte=on (the machine gives the guest tag memory) and a CPU model with MTE (max)."""
    if accel != "tcg":
        raise KernelError(f"--accel {accel}: an arm64 guest on this {os.uname().machine} host runs under TCG only")
    return ["-M", GUEST_MACHINE, "-accel", "tcg", "-cpu", GUEST_CPU]

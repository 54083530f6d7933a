"""What an arm64 guest needs besides its kernel, each fetched with apt-get download and unpacked into
the cache, never installed (the host keeps its own QEMU and libraries):

  <cache>/arm64/qemu-<version>/   qemu-system-aarch64 from bookworm-backports (10.0.x), fetched by
                                  unpacked.py: bookworm's own 7.2 corrupts MTE tags in system mode
                                  (QEMU issue 1416, fixed in 8.0), so it is never used here.
  <cache>/arm64/busybox-<version>/ busybox-static:arm64, the guest's shell and tools
  <cache>/arm64/sysroot/          the arm64 builds of the suite's libraries (Google Benchmark, hwloc,
                                  libpfm4, zstd, lz4, zlib, lzo2 and what they link), for the cross build and the
                                  guest's /lib. Unpacked rather than installed through multiarch: an
                                  installed :arm64 library must have exactly the version of its amd64
                                  twin, and on a host behind its archive that would upgrade systemd,
                                  OpenSSL and others on the host (measured here: 26 packages).

The arm64 packages need `dpkg --add-architecture arm64` and an apt-get update (the front door does
both when an arm64 kernel is asked for)."""
import hashlib
import os
import re

from kmatrix.defs import KernelError
from kmatrix.unpacked import run_tool, tail_of, candidate, candidates, tag, top as _top, unpack

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


def top(cache=None):
    return _top("arm64", cache)


def ensure_busybox(cache=None):
    ver = candidate(BUSYBOX_PACKAGE)
    root = unpack([f"{BUSYBOX_PACKAGE}={ver}"], os.path.join(top(cache), f"busybox-{tag(ver)}"))
    path = os.path.join(root, "bin", "busybox")
    if not os.path.exists(path):
        raise KernelError(f"{BUSYBOX_PACKAGE} {ver} holds no bin/busybox (in {root})")
    return path


def ensure_sysroot(cache=None):
    """The arm64 libraries' tree (usr/include, usr/lib/aarch64-linux-gnu), keyed by their versions
    so that an archive update gives a new tree rather than a mixed one."""
    versions = candidates([p + ":arm64" for p in SYSROOT_PACKAGES])
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
    r = run_tool(["aarch64-linux-gnu-readelf", "-d", "-l", path])
    if r.returncode != 0:
        raise KernelError(f"aarch64-linux-gnu-readelf {path}: {tail_of(r)} (apt-get install binutils-aarch64-linux-gnu)")
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

"""Debian packages fetched with apt-get download and unpacked into the kernel cache, never installed
(the host keeps its own QEMU and libraries), and the QEMU each guest architecture runs under:

  <cache>/<arch>/qemu-<version>/  bookworm-backports' qemu-system-x86 or qemu-system-arm (10.0.x).
                                  Bookworm's own QEMU 7.2 is never used for guests: under TCG it
                                  gets the flags of cmpxchg16b wrong (x86-64 guests) and corrupts MTE
                                  tags in system mode (arm64 guests); both fixed in 8.0.
  <cache>/<arch>/apt/             the private sources list naming bookworm-backports, its index and
                                  download folders (as plugin.py does for deb-src), so /etc/apt and
                                  the host's package lists are not changed.

arm64.py fetches the arm64 guest's other parts (busybox, the libraries' sysroot) with unpack()."""
import glob
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass

from kmatrix.defs import KernelError, cache_dir

BACKPORTS = "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main"


@dataclass(frozen=True)
class QemuSpec:
    """Which QEMU an architecture's guests need, and why an older one is refused."""
    package: str   # the Debian binary package holding the emulator
    binary: str    # its program in usr/bin
    variable: str  # the environment variable naming another one to use as it is
    minimum: tuple  # (major, minor): older versions are refused before a boot
    why: str       # what goes wrong before minimum
    gate: str      # the guest self-test that judges a QEMU named by variable
    data: tuple = ()  # packages of its firmware and data files (an x86 machine needs its BIOS)


# QEMU 7.2's TCG (target/i386) computes the flags of cmpxchg16b from a lazy condition-code state it
# never wrote back: after a flag-setting instruction in the same translation block, the flags come
# from that instruction's operand. Linux 6.x's SLUB runs cmpxchg16b on every allocation, and the
# garbage reaches EFLAGS (VM, DF, AC): double faults in kmem_cache_alloc. 8.0 rewrote cmpxchg16b as
# inline TCG ops that compute the flags first.
CX16_WHY = ("QEMU before 8.0 computes the flags of cmpxchg16b under TCG from a stale lazy flags state "
            "(helper_cmpxchg16b_unlocked; Linux's SLUB then sees garbage EFLAGS and double-faults)")
QEMUS = {
    "amd64": QemuSpec("qemu-system-x86", "qemu-system-x86_64", "SWAPBENCH_QEMU_X86_64", (8, 0), CX16_WHY,
                      "the cmpxchg16b flags gate",
                      # the BIOS and option ROMs the pc machine loads (bios-256k.bin, linuxboot_dma.bin)
                      data=("qemu-system-data", "seabios")),
    "arm64": QemuSpec("qemu-system-arm", "qemu-system-aarch64", "SWAPBENCH_QEMU_AARCH64", (8, 0),
                      "QEMU before 8.0 corrupts MTE tags in system mode (QEMU issue 1416, "
                      "https://gitlab.com/qemu-project/qemu/-/issues/1416)", "the MTE gate"),
}


def run_tool(cmd, **kw):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, **kw)
    except OSError as e:
        raise KernelError(f"{cmd[0]}: {e}") from None


def tail_of(r):
    return (r.stderr.strip() or r.stdout.strip())[-400:]


def top(arch, cache=None):
    return os.path.join(cache or cache_dir(), arch)


def apt_private(folder):
    """apt-get options for the bookworm-backports list under folder (its own lists and cache)."""
    root = os.path.join(folder, "apt")
    for d in ("lists/partial", "cache/archives/partial"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    with open(os.path.join(root, "sources.list"), "w") as f:
        f.write("# written by swapbench (kmatrix/unpacked.py), used only with -o Dir::Etc::SourceList=this file\n"
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
    r = run_tool(["apt-get", *apt_opts, "download", *packages], cwd=tmp)
    if r.returncode != 0:
        raise KernelError(f"apt-get download {' '.join(packages)}{what} failed: {tail_of(r)} "
                          "(arm64 packages need: dpkg --add-architecture arm64 && apt-get update)")
    versions = {}
    for deb in sorted(glob.glob(os.path.join(tmp, "*.deb"))):
        x = run_tool(["dpkg-deb", "-x", deb, os.path.join(tmp, "root")])
        if x.returncode != 0:
            raise KernelError(f"dpkg-deb -x {deb} failed: {tail_of(x)}")
        f = run_tool(["dpkg-deb", "-f", deb, "Package", "Version", "Architecture"]).stdout
        fields = dict(l.split(": ", 1) for l in f.splitlines() if ": " in l)
        versions[f"{fields.get('Package')}:{fields.get('Architecture')}"] = fields.get("Version", "")
        os.unlink(deb)  # the unpacked tree is what is used
    relative_links(os.path.join(tmp, "root"))
    with open(os.path.join(tmp, "versions"), "w") as f:
        f.writelines(f"{k} {v}\n" for k, v in sorted(versions.items()))
    shutil.rmtree(dest, ignore_errors=True)
    os.rename(tmp, dest)
    open(os.path.join(dest, ".complete"), "w").close()
    return os.path.join(dest, "root")


def relative_links(root):
    """Absolute symlinks inside an unpacked tree (libz.so -> /lib/aarch64-linux-gnu/libz.so.1) made
    relative, so they point into the tree and not at the host's own files."""
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            if os.path.islink(p) and os.readlink(p).startswith("/"):
                target = os.path.join(root, os.readlink(p).lstrip("/"))
                os.unlink(p)
                os.symlink(os.path.relpath(target, d), p)


def candidates(pkgs, apt_opts=()):
    """{package: the version apt would fetch}, from one apt-cache policy call."""
    r = run_tool(["apt-cache", *apt_opts, "policy", *pkgs])
    found = dict(re.findall(r"^(\S+):\n\s+Installed:.*\n\s+Candidate:\s*(\S+)", r.stdout, re.M))
    missing = [p for p in pkgs if found.get(p, "(none)") == "(none)"]
    if r.returncode != 0 or missing:
        why = f" (apt-cache: {r.stderr.strip()[-200:]})" if r.returncode != 0 else ""
        raise KernelError(f"apt knows no candidate for {', '.join(missing)}{why}; "
                          "fix: dpkg --add-architecture arm64 && apt-get update")
    return found


def candidate(pkg, apt_opts=()):
    return candidates([pkg], apt_opts)[pkg]


def tag(version):
    return re.sub(r"[^A-Za-z0-9.+_-]", "_", version)


class Qemu:
    """An unpacked (or named) qemu-system-*: its path, its environment and its --version line."""

    def __init__(self, binary, module_dir):
        self.binary = binary
        # An empty module folder: the unpacked QEMU would otherwise look for its optional modules
        # (display, audio) in the host's /usr/lib/x86_64-linux-gnu/qemu, built for another version,
        # and warn about each.
        self.env = dict(os.environ, QEMU_MODULE_DIR=module_dir)
        r = run_tool([binary, "--version"], env=self.env)
        if r.returncode != 0 or not r.stdout.strip():
            raise KernelError(f"{binary} --version failed: {tail_of(r)} (it runs against the host's libraries: "
                              f"ldd {binary} | grep 'not found' names what is missing)")
        self.version_line = r.stdout.splitlines()[0].strip()
        self.version = parse_version(self.version_line)


def parse_version(line):
    """(major, minor) of a `qemu-system-* --version` line, (0, 0) when it names none."""
    m = re.search(r"version (\d+)\.(\d+)", line or "")
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def _fetch(spec, t):
    """The folder of bookworm-backports' spec.package unpacked under t: the newest one already
    there, else fetched now."""
    opts = apt_private(t)
    found = sorted(glob.glob(os.path.join(t, "qemu-*", ".complete")))
    if found:
        return os.path.dirname(found[-1])
    r = run_tool(["apt-get", *opts, "update"])
    if r.returncode != 0 or re.search(r"^(E|W): Failed to fetch", r.stdout + r.stderr, re.M):
        raise KernelError(f"apt-get update of bookworm-backports (private list in {t}/apt) failed: {tail_of(r)}")
    vers = candidates([spec.package, *spec.data], opts)
    dest = os.path.join(t, f"qemu-{tag(vers[spec.package])}")
    pkgs = [f"{p}={v}" for p, v in vers.items()]
    print(f"swapbench: fetching {' '.join(pkgs)} from bookworm-backports into {dest} (not installed)",
          flush=True, file=sys.stderr)
    unpack(pkgs, dest, opts, " from bookworm-backports")
    return dest


def _named_qemu(arch):
    """The QEMU the environment names for arch's guests (spec.variable), or None."""
    from analysis import environment  # as root, only a QEMU root alone can change
    if arch == "amd64":
        return environment.from_env("SWAPBENCH_QEMU_X86_64", "program")
    return environment.from_env("SWAPBENCH_QEMU_AARCH64", "program")


def ensure_qemu(arch, cache=None):
    """bookworm-backports' QEMU for arch's guests, unpacked into the cache on first use.
    The spec's variable (SWAPBENCH_QEMU_X86_64, SWAPBENCH_QEMU_AARCH64) =PATH uses another one as it
    is, without the version check: the guest's gate is what judges it (the guest tests point it at
    bookworm's 7.2 to see the gate fail)."""
    spec = QEMUS[arch]
    t = top(arch, cache)
    os.makedirs(t, exist_ok=True)
    mods = os.path.join(t, "qemu-modules-empty")
    os.makedirs(mods, exist_ok=True)
    named = _named_qemu(arch)
    if named:
        q = Qemu(named, mods)
        print(f"swapbench: {spec.binary} from {spec.variable}: {q.binary} ({q.version_line}); "
              f"not checked by version, only by {spec.gate}", file=sys.stderr, flush=True)
        return q
    dest = _fetch(spec, t)
    bindir = os.path.join(dest, "root", "usr", "bin")
    # QEMU looks for its modules in QEMU_MODULE_DIR and then in its built-in folder, which is the host
    # QEMU's (/usr/lib/x86_64-linux-gnu/qemu): loading one of those 7.2 modules aborts 10.0 (an
    # assertion after "Only modules from the same build can be loaded"). A qemu-bundle folder beside
    # the binary moves the built-in folders under it, where they are empty.
    bundle = os.path.join(bindir, "qemu-bundle", "usr")
    os.makedirs(os.path.join(bundle, "lib", "x86_64-linux-gnu", "qemu"), exist_ok=True)
    # Its data folders (Debian's QEMU looks in share/qemu and share/seabios) move there too: each
    # pointed back at the unpacked tree's own.
    for name in ("qemu", "seabios") if spec.data else ():
        link = os.path.join(bundle, "share", name)
        if not os.path.lexists(link):
            os.makedirs(os.path.dirname(link), exist_ok=True)
            os.symlink(os.path.relpath(os.path.join(dest, "root", "usr", "share", name), os.path.dirname(link)), link)
    q = Qemu(os.path.join(bindir, spec.binary), mods)
    if q.version < spec.minimum:
        raise KernelError(f"{q.binary} is {q.version_line}: {spec.why}; remove {dest} to fetch "
                          "bookworm-backports' again")
    return q


def package_of(binary):
    """The Debian package of an unpacked qemu-system-* binary (by its program name), or None."""
    return next((s.package for s in QEMUS.values() if s.binary == os.path.basename(binary)), None)

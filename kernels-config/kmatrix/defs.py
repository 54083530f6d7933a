"""Kernel definitions (kernels-config/kernels.toml) and what it takes to get each one: the newest
Debian package matching a pattern, fetched into a cache and unpacked, never installed."""
import fnmatch
import glob
import gzip
import hashlib
import lzma
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import tomllib
import urllib.request
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNELS_TOML = os.path.join(HERE, "kernels.toml")
REQUIREMENTS_TOML = os.path.join(HERE, "requirements.toml")
# Machine-wide, so clean clones (CI) reuse what earlier runs fetched; SWAPBENCH_KERNEL_CACHE moves it.
# A user who cannot write there gets their own under ~/.cache.
STATE_CACHE = "/var/cache/swapbench"
DEFAULT_CACHE = os.path.join(STATE_CACHE, "kernels")


class KernelError(Exception):
    """Something about a kernel definition or its files, with what would fix it."""


@dataclass
class KernelDef:
    name: str
    source: str
    why: str = ""
    package: str = ""
    suite: str = ""
    exclude: list = field(default_factory=list)
    modules: list = field(default_factory=list)
    image: str = ""
    modules_dir: str = ""
    config: str = ""
    # debian-source: config options beyond guest-config.toml for this source only ({OPTION: "y"|"n"|value})
    options: dict = field(default_factory=dict)
    # Debian's name of the kernel's architecture: amd64 (the default, booted with qemu-system-x86_64)
    # or arm64 (qemu-system-aarch64); both from bookworm-backports (kmatrix/unpacked.py).
    arch: str = "amd64"

    @property
    def machine(self):
        """The architecture as uname -m says it: what results are labelled with."""
        return ARCHES[self.arch]


ARCHES = {"amd64": "x86_64", "arm64": "aarch64"}


def load_defs(path=KERNELS_TOML):
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise KernelError(f"{path}: {e}") from None
    defs = {}
    for name, d in doc.get("kernel", {}).items():
        src = d.get("source")
        if src not in ("debian", "debian-suite", "debian-source", "running", "custom"):
            raise KernelError(f"{path}: kernel {name}: source {src!r}; "
                              "accepted: debian, debian-suite, debian-source, running, custom")
        if src == "debian-suite" and not (d.get("suite") and d.get("package")):
            raise KernelError(f"{path}: kernel {name}: a debian-suite kernel needs suite = '...' and package = '...'")
        if src == "debian" and not d.get("package"):
            raise KernelError(f"{path}: kernel {name}: a debian kernel needs package = 'linux-image-...'")
        if src == "debian-source" and not d.get("package"):
            raise KernelError(f"{path}: kernel {name}: a debian-source kernel needs package = 'linux-source-...'")
        if d.get("arch", "amd64") not in ARCHES:
            raise KernelError(f"{path}: kernel {name}: arch {d.get('arch')!r}; accepted: {', '.join(ARCHES)}")
        known = {f for f in KernelDef.__dataclass_fields__} - {"name"}
        unknown = set(d) - known
        if unknown:
            raise KernelError(f"{path}: kernel {name}: unknown keys {sorted(unknown)}; accepted: {sorted(known)}")
        defs[name] = KernelDef(name=name, **d)
    return defs


def get_def(name, defs=None, path=KERNELS_TOML):
    defs = defs if defs is not None else load_defs(path)
    if name not in defs:
        raise KernelError(f"unknown kernel '{name}'; defined: {', '.join(defs)}")
    return defs[name]


def _version_key(s):
    return [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", s)]


def resolve_package(d):
    """The newest package name matching d.package (and none of d.exclude) that apt knows."""
    rx = fnmatch.translate(d.package)
    try:
        out = subprocess.run(["apt-cache", "pkgnames", d.package.split("*")[0]], capture_output=True, text=True,
                             check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError) as e:
        raise KernelError(f"apt-cache cannot list packages ({e}); this needs a Debian host with apt") from None
    names = [n for n in out if re.match(rx, n) and not any(x in n for x in d.exclude)]
    if not names:
        raise KernelError(f"kernel {d.name}: no package matches {d.package} in apt's lists "
                          "(fix: apt-get update, or check the suite is in /etc/apt/sources.list)")
    return max(names, key=_version_key)


def _writable(d):
    while not os.path.exists(d):
        d = os.path.dirname(d)
    return os.access(d, os.W_OK)


def state_cache():
    """Machine facts worth remembering across runs (the KVM probe), apart from the kernel cache
    so that an empty kernel cache does not cost a probe boot again."""
    return STATE_CACHE if _writable(STATE_CACHE) else os.path.expanduser("~/.cache/swapbench")


def cache_dir():
    from analysis import environment  # as root, only a folder root alone can change: QEMU runs from it
    named = environment.from_env("SWAPBENCH_KERNEL_CACHE", "cache")
    if named:
        return named
    return DEFAULT_CACHE if _writable(DEFAULT_CACHE) else os.path.expanduser("~/.cache/swapbench/kernels")


@dataclass
class KernelFiles:
    """A kernel ready to boot or check: its image, modules folder, config, release."""
    name: str
    release: str
    image: str
    modules_dir: str
    config: str
    package: str = ""
    version: str = ""


def _say(msg):
    print(f"swapbench: {msg}", file=sys.stderr, flush=True)


MIRROR = "http://deb.debian.org/debian"
INDEX_MAX_AGE_S = 86400  # a suite's package list is fetched again after a day


def _suite_index(suite, cache):
    """The suite's main/binary-amd64 Packages stanzas, cached for a day."""
    path = os.path.join(cache, f"Packages-{suite}")
    if not os.path.exists(path) or time.time() - os.path.getmtime(path) > INDEX_MAX_AGE_S:
        url = f"{MIRROR}/dists/{suite}/main/binary-amd64/Packages.xz"
        try:
            with urllib.request.urlopen(url, timeout=60) as r:
                data = lzma.decompress(r.read())
        except (OSError, lzma.LZMAError) as e:
            raise KernelError(f"suite {suite}: cannot read {url}: {e} (not reachable from here?)") from None
        os.makedirs(cache, exist_ok=True)
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.replace(path + ".tmp", path)
    with open(path, encoding="utf-8", errors="replace") as f:
        for stanza in f.read().split("\n\n"):
            fields = dict(l.split(": ", 1) for l in stanza.splitlines() if ": " in l and not l.startswith(" "))
            if "Package" in fields:
                yield fields


def _download(fields, tmp):
    deb = os.path.join(tmp, os.path.basename(fields["Filename"]))
    h = hashlib.sha256()
    with urllib.request.urlopen(f"{MIRROR}/{fields['Filename']}", timeout=600) as r, open(deb, "wb") as f:
        while chunk := r.read(1 << 20):
            h.update(chunk)
            f.write(chunk)
    if h.hexdigest() != fields.get("SHA256"):
        raise KernelError(f"{fields['Filename']}: SHA256 does not match the suite's index; not used")


def _fetch_from_suite(d, cache, tmp, pkg):
    """pkg and the kernel parts it depends on, from the mirror, each checked against the index's
    SHA256 (apt does the same for configured suites). From 7.x linux-image-* is only a shell:
    the kernel is in linux-binary-* and the modules in linux-modules-*."""
    index = {f["Package"]: f for f in _suite_index(d.suite, cache)}
    todo, names = [pkg], []
    while todo:
        n = todo.pop()
        if n in names:
            continue
        names.append(n)
        f = index.get(n)
        if f is None:
            raise KernelError(f"{n}: not in {d.suite}'s index")
        _download(f, tmp)
        for dep in re.split(r",\s*", f.get("Depends", "")):
            dn = dep.split()[0] if dep.strip() else ""
            if re.match(r"linux-(binary|modules|image|base)-\d", dn):
                todo.append(dn)
    return names


def fetch(d, cache=None):
    """Unpacks a debian kernel's package into the cache (reused when already there)."""
    cache = cache or cache_dir()
    if d.source == "debian-suite":
        cands = [f for f in _suite_index(d.suite, cache)
                 if re.match(fnmatch.translate(d.package), f["Package"]) and not any(x in f["Package"] for x in d.exclude)]
        if not cands:
            raise KernelError(f"kernel {d.name}: no package matches {d.package} in {d.suite}")
        pkg = max(cands, key=lambda f: _version_key(f["Package"] + " " + f["Version"]))["Package"]
    else:
        pkg = resolve_package(d)
    root = os.path.join(cache, pkg)
    done = os.path.join(root, ".complete")
    if not os.path.exists(done):
        tmp = root + ".partial"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        if d.source == "debian-suite":
            _say(f"fetching {pkg} from {d.suite} into {root} (checked against the suite's SHA256; not installed)")
            _fetch_from_suite(d, cache, tmp, pkg)
        else:
            _say(f"fetching {pkg} into {root} (apt-get download; not installed)")
            # Another architecture's package is named name:arch (dpkg --add-architecture first).
            want = f"{pkg}:{d.arch}" if d.arch != "amd64" else pkg
            r = subprocess.run(["apt-get", "download", "-q", want], cwd=tmp, capture_output=True, text=True)
            if r.returncode != 0:
                raise KernelError(f"apt-get download {pkg} failed: {r.stderr.strip()[-300:]}")
        debs = sorted(glob.glob(os.path.join(tmp, "*.deb")))
        if not debs:
            raise KernelError(f"{pkg}: nothing was downloaded")
        for deb in debs:
            r = subprocess.run(["dpkg-deb", "-x", deb, os.path.join(tmp, "root")], capture_output=True, text=True)
            if r.returncode != 0:
                raise KernelError(f"dpkg-deb -x {deb} failed: {r.stderr.strip()[-300:]}")
        main = next(x for x in debs if os.path.basename(x).startswith(pkg + "_"))
        ver = subprocess.run(["dpkg-deb", "-f", main, "Version"], capture_output=True, text=True).stdout.strip()
        with open(os.path.join(tmp, "version"), "w") as f:
            f.write(ver + "\n")
        for deb in debs:
            os.unlink(deb)  # the unpacked tree is what is reused; the .debs would double the cache
        shutil.rmtree(root, ignore_errors=True)
        os.rename(tmp, root)
        open(done, "w").close()
    tree = os.path.join(root, "root")
    # Up to 6.x: boot/vmlinuz-R and boot/config-R. From 7.x (merged /usr): usr/lib/modules/R/vmlinuz
    # and usr/lib/modules/R/config.
    images = glob.glob(os.path.join(tree, "boot", "vmlinuz-*")) or glob.glob(
        os.path.join(tree, "usr", "lib", "modules", "*", "vmlinuz"))
    configs = glob.glob(os.path.join(tree, "boot", "config-*")) or glob.glob(
        os.path.join(tree, "usr", "lib", "modules", "*", "config"))
    if not images or not configs:
        raise KernelError(f"{pkg}: no boot/vmlinuz-* or boot/config-* in the package (cache {root}); "
                          "delete that folder to fetch again")
    if os.path.basename(images[0]) == "vmlinuz":
        release = os.path.basename(os.path.dirname(images[0]))
        modules = os.path.dirname(images[0])
    else:
        release = os.path.basename(images[0])[len("vmlinuz-"):]
        modules = os.path.join(tree, "lib", "modules", release)
    with open(os.path.join(root, "version")) as f:
        version = f.read().strip()
    return KernelFiles(d.name, release, images[0], modules, configs[0], pkg, version)


def running_files():
    rel = platform.release()
    for c in ("/proc/config.gz", f"/boot/config-{rel}"):
        if os.path.exists(c):
            return KernelFiles("running", rel, "", f"/lib/modules/{rel}", c)
    return KernelFiles("running", rel, "", f"/lib/modules/{rel}", "")


def files_for(d, fetch_if_needed=True):
    if d.source == "debian-source":
        raise KernelError(f"kernel {d.name} is a kernel source ({d.package}), not a built kernel: "
                          "it is built by kmatrix.build (resolve_source, build_kernel)")
    if d.source == "running":
        return running_files()
    if d.source == "custom":
        for what, p in (("image", d.image), ("config", d.config)):
            if not p or not os.path.exists(p):
                raise KernelError(f"kernel {d.name}: {what} {p!r} does not exist (set it in {KERNELS_TOML})")
        rel = os.path.basename(os.path.normpath(d.modules_dir)) if d.modules_dir else "custom"
        return KernelFiles(d.name, rel, d.image, d.modules_dir, d.config)
    return fetch(d)


def read_config(path):
    """CONFIG_X -> 'y' / 'm' / value, from a .config or /proc/config.gz."""
    opener = gzip.open if path.endswith(".gz") else open
    cfg = {}
    with opener(path, "rt") as f:
        for line in f:
            line = line.strip()
            if line.startswith("CONFIG_") and "=" in line:
                k, v = line.split("=", 1)
                cfg[k[len("CONFIG_"):]] = v.strip('"')
    return cfg

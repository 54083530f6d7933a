"""The guest's root file system: a newc cpio (gzip -1) holding busybox-static, the suite's binary
with the shared libraries it links (as ldd finds them on the host), the kernel's modules in
dependency order, and /init (kernels-config/guest-init.sh).

Per-boot settings go into a second, tiny cpio appended to the first (the kernel unpacks
concatenated archives in order), so the large one is built once per kernel and binary."""
import glob
import gzip
import hashlib
import lzma
import os
import re
import shutil
import subprocess

from kmatrix.defs import HERE, KernelError

BUSYBOX = "/bin/busybox"   # busybox-static: no libraries needed in the guest
GUEST_INIT = os.path.join(HERE, "guest-init.sh")


def _norm(m):
    return m.replace("-", "_")


def _index_modules(modules_dir):
    idx = {}
    for root, _d, files in os.walk(os.path.join(modules_dir, "kernel")):
        for f in files:
            m = re.match(r"(.+)\.ko(\.xz|\.zst|\.gz)?$", f)
            if m:
                idx[_norm(m.group(1))] = os.path.join(root, f)
    return idx


def _builtin(modules_dir):
    p = os.path.join(modules_dir, "modules.builtin")
    if not os.path.exists(p):
        return set()
    with open(p) as f:
        return {_norm(os.path.basename(l.strip()).split(".ko")[0]) for l in f if l.strip()}


def _depends(path):
    r = subprocess.run(["modinfo", "-F", "depends", path], capture_output=True, text=True)
    if r.returncode != 0:
        raise KernelError(f"modinfo {path} failed: {r.stderr.strip()} (apt-get install kmod)")
    return [_norm(x) for x in r.stdout.strip().split(",") if x]


def module_order(modules_dir, wanted):
    """(load order [(name, path)], built-in names, missing names): dependencies first."""
    idx, builtin = _index_modules(modules_dir), _builtin(modules_dir)
    order, seen, missing, inbuilt = [], set(), [], []

    def visit(m, stack=()):
        m = _norm(m)
        if m in seen:
            return
        seen.add(m)
        if m not in idx:
            (inbuilt if m in builtin else missing).append(m)
            return
        for dep in _depends(idx[m]):
            visit(dep, stack + (m,))
        order.append((m, idx[m]))

    for w in wanted:
        visit(w)
    return order, inbuilt, missing


def _copy_ko(src, dst):
    if src.endswith(".xz"):
        data = lzma.open(src).read()
    elif src.endswith(".gz"):
        data = gzip.open(src).read()
    elif src.endswith(".zst"):
        data = subprocess.run(["zstd", "-dc", src], capture_output=True, check=True).stdout
    else:
        data = open(src, "rb").read()
    # Uncompressed: busybox insmod passes the bytes to init_module, which takes no compressed modules.
    with open(dst, "wb") as f:
        f.write(data)


def _libs(binary):
    r = subprocess.run(["ldd", binary], capture_output=True, text=True)
    if r.returncode != 0:
        raise KernelError(f"ldd {binary}: {r.stderr.strip()}")
    out = []
    for line in r.stdout.splitlines():
        m = re.search(r"(/\S+) \(0x", line)
        if m:
            out.append(m.group(1))
    return out


def _cpio(staging, out):
    with open(out, "wb") as f:
        find = subprocess.Popen(["find", "."], cwd=staging, stdout=subprocess.PIPE)
        cpio = subprocess.Popen(["cpio", "-o", "-H", "newc", "--quiet"], cwd=staging, stdin=find.stdout,
                                stdout=subprocess.PIPE)
        gz = subprocess.run(["gzip", "-1"], stdin=cpio.stdout, stdout=f)
        find.wait()
        cpio.wait()
        if find.returncode or cpio.returncode or gz.returncode:
            raise KernelError(f"building {out} failed (find/cpio/gzip; apt-get install cpio)")


def _guest_parts(kdef, binary):
    """(busybox, [(guest path, host file)] of the binary's shared libraries) for kdef's architecture.
    arm64: busybox-static:arm64 and the cross build's libraries (kmatrix/arm64.py)."""
    if kdef.arch == "arm64":
        from kmatrix import arm64
        return arm64.ensure_busybox(), arm64.guest_libs(binary, arm64.ensure_sysroot())
    if not os.path.exists(BUSYBOX):
        raise KernelError(f"{BUSYBOX} missing: apt-get install busybox-static")
    return BUSYBOX, [(lib, os.path.realpath(lib)) for lib in _libs(binary)]


def build_base(kf, kdef, binary, workdir):
    """The per-kernel initramfs; reused while the binary, modules and init are unchanged."""
    busybox, libs = _guest_parts(kdef, binary)
    order, inbuilt, missing = module_order(kf.modules_dir, kdef.modules)
    if missing:
        raise KernelError(f"kernel {kdef.name}: modules {missing} are neither in {kf.modules_dir} nor built in; "
                          f"fix the modules list in kernels.toml")
    h = hashlib.sha256()
    for p in [binary, GUEST_INIT, busybox] + [p for _, p in order] + [h for _, h in libs]:
        with open(p, "rb") as f:
            h.update(f.read())
    out = os.path.join(workdir, f"base-{kf.release}-{h.hexdigest()[:16]}.cpio.gz")
    if os.path.exists(out):
        return out, order, inbuilt
    for old in glob.glob(os.path.join(workdir, f"base-{glob.escape(kf.release)}-*.cpio.gz")):
        os.unlink(old)  # built from an older binary or init: never used again
    staging = out + ".d"
    shutil.rmtree(staging, ignore_errors=True)
    for d in ("bin", "sbin", "proc", "sys", "dev", "tmp", "var/tmp", "var/lib/swapbench", "results", "modules",
              "etc/swapbench", "lib64", "lib/x86_64-linux-gnu", "lib/aarch64-linux-gnu"):
        os.makedirs(os.path.join(staging, d), exist_ok=True)
    shutil.copy2(busybox, os.path.join(staging, "bin", "busybox"))
    shutil.copy2(binary, os.path.join(staging, "bin", "swapbench"))
    for lib, host in libs:
        dst = os.path.join(staging, lib.lstrip("/"))
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(host, dst)
    with open(os.path.join(staging, "modules", "order"), "w") as f:
        for i, (m, p) in enumerate(order):
            _copy_ko(p, os.path.join(staging, "modules", f"{m}.ko"))
            f.write(m + "\n")
    shutil.copy2(GUEST_INIT, os.path.join(staging, "init"))
    os.chmod(os.path.join(staging, "init"), 0o755)
    tmp = out + ".tmp"
    _cpio(staging, tmp)
    os.rename(tmp, out)
    shutil.rmtree(staging, ignore_errors=True)
    return out, order, inbuilt


def build_boot(base, settings, out):
    """base + a small archive with /etc/swapbench/* (one file per setting), concatenated."""
    staging = out + ".d"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(os.path.join(staging, "etc", "swapbench"))
    for k, v in settings.items():
        with open(os.path.join(staging, "etc", "swapbench", k), "w") as f:
            f.write(v + "\n")
    extra = out + ".extra"
    _cpio(staging, extra)
    with open(out, "wb") as o:
        for p in (base, extra):
            with open(p, "rb") as f:
                shutil.copyfileobj(f, o)
    os.unlink(extra)
    shutil.rmtree(staging, ignore_errors=True)
    return out

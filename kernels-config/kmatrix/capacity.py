"""`./swapbench capacity --validate --kernels ...`: the capacity validation in guests. The sampled
pages (in a memfd written by swapbench-capacity --save-pages-fd) travel into each guest in its boot
archive; the guest runs swapbench-capacity --validate on them with every compressor its kernel
accepts and every zswap allocator it offers, swapping on its own virtio disk, and returns the
kernel's figures as JSON. Nothing on the host changes (no root needed); the model's prediction
for exactly those pages, by the guest kernel's version, is analysis/capacity/'s: this module is the
validator `python3 -m kmatrix capacity` hands to it (check_kernels, validate_in_guests).

The guest's /init is kernels-config/guest-init.sh in its `capacity` mode; /bin/swapbench in these
guests is swapbench-capacity (initramfs.build_base copies whichever binary it is given)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from analysis.capacity.sampler import sampler_binary
from analysis.errors import ResultError
from kmatrix import initramfs, qemu
from kmatrix.defs import KernelError, cache_dir, files_for, get_def, load_defs, read_config
from kmatrix.matrix import choose_accel

# 1 GiB, as the matrix: the pages arrive in the guest's RAM (its root file system) and are copied into
# a region of the same size, so up to ~100k pages (400 MiB) fit with the pool beside them.
MEM_MB = 1024
GUEST_PAGES_PATH = "/var/lib/swapbench/pages.raw"
# Guest-side swap: the region once, plus what swap_bytes_for adds, plus mkswap's header; the disk is
# sparse, so its size costs nothing on the host.
SWAP_MARGIN_MIB = 160


def _say(msg):
    print(f"swapbench capacity: {msg}", file=sys.stderr, flush=True)


def capacity_binary():
    """swapbench-capacity as analysis/capacity/ finds it (one rule, with its checks for root)."""
    b = sampler_binary()
    if not os.access(b, os.X_OK):
        raise KernelError(f"{b}: no swapbench-capacity binary (run through ./swapbench capacity, which builds it)")
    return b


def check_kernels(text):
    """Every --kernels name defined and bootable here, before anything is sampled (ResultError: exit 2)."""
    names = [k for k in text.split(",") if k]
    try:
        defs = load_defs()
    except KernelError as e:
        raise ResultError(f"--kernels: {e}") from None
    # Not "running" (the host: --validate without --kernels), not another architecture (no cross
    # build of the sampler), not "debian-source" (a kernel build first: ./swapbench ab's business).
    bootable = sorted(n for n, d in defs.items() if d.source not in ("running", "debian-source") and d.arch == "amd64")
    bad = [k for k in names if k not in bootable]
    if not names or bad:
        raise ResultError(f"--kernels {','.join(bad) or repr(text)}: accepted: names from kernels-config/kernels.toml "
                          f"that boot as amd64 guests: {', '.join(bootable)}")


def guest_args(compressors=None, zpools="all"):
    """The guest's swapbench-capacity command line (after the binary): pages, allocators, its disk."""
    args = ["--validate", GUEST_PAGES_PATH, "--zpool", zpools, "--swap-device", "/dev/vda"]
    if compressors:
        args += ["--compressor", ",".join(compressors)]
    return " ".join(args)


def chain_size(config):
    """CONFIG_ZSMALLOC_CHAIN_SIZE of a kernel config as defs.read_config reads it (None before 6.3,
    where there is none)."""
    v = config.get("ZSMALLOC_CHAIN_SIZE")
    try:
        return int(v) if v is not None else None
    except ValueError:
        return None


def _newc(name, mode, size):
    """One newc cpio header and its name, padded to 4 bytes (the format the kernel unpacks:
    Documentation/driver-api/early-userspace/buffer-format.rst)."""
    fields = [0, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, len(name) + 1, 0]
    head = b"070701" + b"".join(b"%08X" % f for f in fields) + name.encode() + b"\0"
    return head + bytes(-len(head) % 4)


def _pages_archive(raw_fd, out):
    """Writes into the open file `out` an uncompressed newc cpio holding the pages (read from raw_fd)
    at GUEST_PAGES_PATH: appended after the gzip'd base, the kernel unpacks it too (each archive of
    an initramfs is detected by its own magic), and incompressible pages would only make gzip slow.
    Written here rather than by cpio from a staging folder: the pages go straight from memory into
    the boot archive, with no copy of them in a file of their own."""
    size = os.fstat(raw_fd).st_size
    parts = GUEST_PAGES_PATH.strip("/").split("/")
    for i in range(1, len(parts)):
        out.write(_newc("/".join(parts[:i]), 0o040755, 0))
    out.write(_newc("/".join(parts), 0o100600, size))
    done = 0
    while done < size:
        chunk = os.pread(raw_fd, min(1 << 20, size - done), done)
        if not chunk:
            raise KernelError(f"the sampled pages ended at byte {done} of {size} while the guest's archive was written")
        out.write(chunk)
        done += len(chunk)
    out.write(bytes(-size % 4))
    out.write(_newc("TRAILER!!!", 0, 0))


OWNER = "owner"  # in each run folder: "PID BOOT_ID" of the process it belongs to


def _boot_id():
    with open("/proc/sys/kernel/random/boot_id") as f:
        return f.read().strip()


def remove_stale_runs(work):
    """Run folders of capacity validations that ended without removing them (kill -9): each holds
    the sampled pages (in its boot archive, and in its swap disk what the guest swapped there).
    A folder is stale when its owner process is gone (or of another boot), or when it has no owner
    file and is older than a minute (an owner writes it right after creating the folder)."""
    import time
    for name in os.listdir(work) if os.path.isdir(work) else []:
        path = os.path.join(work, name)
        if not name.startswith("capacity-") or not os.path.isdir(path):
            continue
        try:
            with open(os.path.join(path, OWNER)) as f:
                pid, boot = f.read().split()
            alive = boot == _boot_id() and os.path.exists(f"/proc/{int(pid)}")
        except (OSError, ValueError):
            alive = time.time() - os.stat(path).st_mtime < 60
        if not alive:
            _say(f"removing {path}: a capacity validation that ended without removing it left it (pages inside)")
            shutil.rmtree(path, ignore_errors=True)


def _guest_result(name, tag, run, res, boot, keep):
    """The guest's --validate JSON from its results disk, or the failure classified: a kernel
    crash or no result (KernelError), or the emulator's or host's (qemu.InfrastructureFailure)."""
    rc, lines, timeout, oom = boot
    out = os.path.join(run, "out")
    os.makedirs(out)
    x = subprocess.run(["tar", "-xf", res, "-C", out], capture_output=True, text=True)
    console = "\n".join(lines)
    if keep:
        os.makedirs(keep, exist_ok=True)
        with open(os.path.join(keep, f"console-{name}.log"), "w") as f:
            f.write(console + "\n")
    bad_archive = [l for l in lines if "Initramfs unpacking failed" in l]
    if bad_archive:
        raise KernelError(f"{tag} the guest could not unpack its boot archive (so not the pages either): "
                          f"{bad_archive[0].strip()}")
    failure = qemu.classify_failure(rc, lines, timeout, oom)
    if failure and failure.kind == "kernel":
        raise KernelError(f"{tag} the guest kernel crashed: {failure.reason}")
    if failure and (rc is None or x.returncode != 0 or not os.path.exists(os.path.join(out, "rc"))):
        raise qemu.InfrastructureFailure(f"{tag} infrastructure failure, not the kernel's: {failure.reason}",
                                         dict(failure.record(), kernel=name))
    if rc is None:
        raise KernelError(f"{tag} no result within {timeout} s (QEMU killed); last console lines:\n"
                          + "\n".join(lines[-20:]))
    if x.returncode != 0 or not os.path.exists(os.path.join(out, "rc")):
        raise KernelError(f"{tag} the guest wrote no results (QEMU exit {rc}); last console lines:\n"
                          + "\n".join(lines[-20:]))
    guest_rc = open(os.path.join(out, "rc")).read().strip()
    if guest_rc != "0" or not os.path.exists(os.path.join(out, "result.json")):
        log = open(os.path.join(out, "log"), errors="replace").read()[-3000:] \
            if os.path.exists(os.path.join(out, "log")) else ""
        raise KernelError(f"{tag} swapbench-capacity --validate exited {guest_rc} in the guest:\n{log}")
    with open(os.path.join(out, "result.json")) as f:
        measured = json.load(f)
    if keep:
        shutil.copy(os.path.join(out, "result.json"), os.path.join(keep, f"validation-{name}.json"))
    return measured


def validate_in_guest(name, raw_fd, compressors=None, zpools="all", accel="auto", timeout=600, keep=None):
    """Boots kernel `name` once and validates the pages there. Returns {"kernel", "release", "package",
    "package_version", "accelerator", "accelerator_reason", "qemu", "chain_size", "boot_wall_s",
    "measured": the guest's swapbench-capacity --validate JSON}. Raises KernelError naming the fix."""
    d = get_def(name, load_defs())
    if d.source == "running":
        raise KernelError("kernel 'running' is this host: validate it with ./swapbench capacity --validate (as root)")
    if d.arch != "amd64":
        raise KernelError(f"kernel {name} is {d.arch}: capacity validation boots amd64 guests only "
                          f"(fix: an amd64 kernel of the same version)")
    kf = files_for(d)
    binary = capacity_binary()
    # A folder of its own: build_base removes other bases of the same release as stale, and the
    # matrix's (the suite's binary) and these (the sampler) would otherwise evict each other.
    work = os.path.join(cache_dir(), "work", "capacity")
    os.makedirs(work, exist_ok=True)
    base, order, inbuilt = initramfs.build_base(kf, d, binary, work)
    pages = os.fstat(raw_fd).st_size // 4096
    remove_stale_runs(work)
    # 0700 (mkdtemp), owned by this process (OWNER), removed however this function ends, and by the
    # next validation after a kill -9: the boot archive and the swap disk hold the pages. The swap
    # disk must be a file (QEMU opens it with O_DIRECT, cache=none, which a memfd refuses).
    run = tempfile.mkdtemp(dir=work, prefix="capacity-")
    try:
        with open(os.path.join(run, OWNER), "w") as f:
            f.write(f"{os.getpid()} {_boot_id()}\n")
        acc, why = choose_accel(accel, kf, base, run, qemu.qemu_version())
        swap, res = os.path.join(run, "swap.img"), os.path.join(run, "results.img")
        for path, mib in ((swap, pages * 4096 // (1 << 20) * 2 + SWAP_MARGIN_MIB), (res, 64)):
            with open(path, "wb") as f:
                f.truncate(mib << 20)
        settings = {"mode": "capacity", "args": guest_args(compressors, zpools), "accel": acc}
        initrd = initramfs.build_boot(base, settings, os.path.join(run, "initrd"))
        with open(initrd, "ab") as o:
            # The kernel reads an uncompressed archive only from a 4-byte boundary (init/initramfs.c
            # unpack_to_rootfs); the zero bytes before it are skipped.
            o.write(bytes(-o.tell() % 4))
            _pages_archive(raw_fd, o)
        cmd = qemu.command(acc, kf.image, initrd, [swap, res], MEM_MB, 1, qemu.append_for(d.arch))
        tag = f"[{name} {acc}]"
        _say(f"{tag} booting {kf.release}: {pages} pages, zpools {zpools}, modules "
             f"{' '.join(m for m, _ in order) or 'none'}")

        def show(line):
            if "swapbench-guest:" in line or "swapbench capacity:" in line:
                print(f"  {tag} {line}", file=sys.stderr, flush=True)

        qemu.install_signal_handlers()
        oom_before = qemu.host_oom_kills()
        rc, lines, up, wall = qemu.boot(cmd, timeout, show)
        oom = (qemu.host_oom_kills() or 0) - (oom_before or 0)
        measured = _guest_result(name, tag, run, res, (rc, lines, timeout, oom), keep)
        return {"kernel": name, "release": kf.release, "package": kf.package, "package_version": kf.version,
                "accelerator": acc, "accelerator_reason": why, "qemu": qemu.qemu_version(),
                "chain_size": chain_size(read_config(kf.config)), "boot_wall_s": wall, "init_up_s": up,
                "modules_loaded": [m for m, _ in order], "built_in": inbuilt, "measured": measured}
    finally:
        qemu.kill_all()
        shutil.rmtree(run, ignore_errors=True)


def validate_in_guests(names, raw_fd, compressors=None, zpools="all", accel="auto", timeout=600, keep=None):
    """One boot per kernel, in order. A kernel that cannot be validated (not fetched, crashed, no
    result) becomes {"kernel", "skipped": why} and the others still run."""
    out = []
    for name in names:
        lost = []  # a boot lost to the emulator or the host is booted again, once, and recorded
        while True:
            try:
                r = validate_in_guest(name, raw_fd, compressors, zpools, accel, timeout, keep)
                if lost:
                    r["infrastructure_failures"] = lost
                out.append(r)
            except qemu.InfrastructureFailure as e:
                lost.append(e.record)
                if len(lost) == 1:
                    _say(f"{name}: {e}; booting it again, once")
                    continue
                _say(f"{name}: not validated: {e}")
                out.append({"kernel": name, "skipped": str(e), "infrastructure_failures": lost})
            except KernelError as e:
                _say(f"{name}: not validated: {e}")
                out.append({"kernel": name, "skipped": str(e)})
            break
    return out

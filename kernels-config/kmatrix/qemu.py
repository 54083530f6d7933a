"""Boots one guest under QEMU with a hard timeout, and makes sure no QEMU outlives us: the process
runs in its own process group, which is SIGKILLed on timeout, on error and on SIGINT/SIGTERM."""
import json
import os
import platform
import re
import selectors
import signal
import subprocess
import time

from kmatrix.defs import KernelError

QEMU = "qemu-system-x86_64"
UP_MARK = "swapbench-guest: up"
DONE_MARK = "swapbench-guest: done"

_live = set()  # process groups of running QEMUs


def kill_all():
    for pgid in list(_live):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _live.discard(pgid)


def _on_signal(signum, _frame):
    kill_all()
    raise KeyboardInterrupt(f"signal {signum}")


def install_signal_handlers():
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)


def qemu_version():
    """The version line of the QEMU that boots x86-64 guests (emulator("amd64"))."""
    return emulator("amd64").version_line


# The CPU model of TCG guests: recorded with every count, because it decides which code variants the
# kernel patches in (alternatives), and so the instructions it executes.
TCG_CPU = "max"


class Emulator:
    """The QEMU that boots one architecture's guests: its binary, environment and version line."""

    def __init__(self, arch, binary, env, version_line):
        self.arch, self.binary, self.env, self.version_line = arch, binary, env, version_line


_emulators = {}


def emulator(arch="amd64"):
    """The QEMU of arch's guests: bookworm-backports' 10.0.x, unpacked into the cache on first use
    (kmatrix/unpacked.py; bookworm's own 7.2 gets cmpxchg16b's flags wrong on x86-64 and MTE tags
    wrong on arm64 under TCG). One per process: its --version runs once."""
    if arch not in _emulators:
        from kmatrix import unpacked
        q = unpacked.ensure_qemu(arch)
        _emulators[arch] = Emulator(arch, q.binary, q.env, q.version_line)
    return _emulators[arch]


def command(accel, image, initrd, disks, mem_mb, smp, append, plugin=None, emu=None):
    emu = emu or emulator("amd64")
    arch = emu.arch
    cmd = [emu.binary, "-nographic", "-no-reboot", "-nic", "none", "-m", str(mem_mb),
           "-smp", str(smp), "-kernel", image, "-initrd", initrd, "-append", append]
    if arch == "arm64":
        from kmatrix import arm64
        cmd += arm64.qemu_args(accel)
    else:
        cmd += ["-accel", "kvm", "-cpu", "host"] if accel == "kvm" else ["-accel", "tcg", "-cpu", TCG_CPU]
    if plugin:
        if accel == "kvm":
            raise KernelError("a QEMU plugin counts only under TCG, not KVM")
        cmd += ["-plugin", plugin]
    for d in disks:
        cmd += ["-drive", f"file={d},if=virtio,format=raw,cache=none,aio=threads"]
    return cmd


# hung_task_panic: a guest task stuck for 120 s panics with its backtrace on the console (and QEMU
# exits) instead of sitting out the boot timeout silently. oops=panic: after an oops the guest would
# otherwise carry on with a dead task holding locks and hang (seen: a use-after-free in zs_map_object
# under the no-recheck patch left the guest silent until the boot timeout); with it the guest stops
# at once and the console holds the oops.
APPEND = "console=ttyS0 panic=-1 rdinit=/init loglevel=4 hung_task_panic=1 oops=panic"

# The first line of a kernel crash report on the console, as the kernel prints them (mm/ and
# arch/x86/mm/fault.c, lib/bug.c, kernel/panic.c, kernel/hung_task.c, the watchdogs).
_CRASH = re.compile(r"BUG: |Oops: |general protection fault|kernel BUG at|Kernel panic - not syncing|"
                    r"watchdog: BUG: soft lockup|INFO: task .* blocked for more than|slab .* double free|"
                    r"list_(add|del) corruption")
_STAMP = re.compile(r"^\[\s*(\d+\.\d+)\]\s?")
_FRAME = re.compile(r"^\s*(?:\? )?([A-Za-z_][\w.]*)\+0x[0-9a-f]+/0x[0-9a-f]+")


def kernel_crash(lines):
    """The first kernel crash report in console lines, or None: {"what": its first line, "at_s": the
    guest's printk time, "rip": the faulting kernel function, "call_trace": the functions of its
    first call trace, innermost first ('?' frames, which the unwinder only guessed, left out)}."""
    for i, raw in enumerate(lines):
        m = _STAMP.match(raw)
        text = raw[m.end():] if m else raw
        if not _CRASH.search(text):
            continue
        out = {"what": text.strip(), "at_s": float(m.group(1)) if m else None, "rip": None, "call_trace": []}
        in_trace = False
        for later in lines[i + 1:i + 200]:
            t = later[_STAMP.match(later).end():] if _STAMP.match(later) else later
            r = re.match(r"\s*RIP: 0010:([\w.]+)", t)
            if r and out["rip"] is None:
                out["rip"] = r.group(1)
            if "Call Trace:" in t:
                in_trace = not out["call_trace"]
                continue
            if in_trace:
                if "</TASK>" in t or "---[ end" in t:
                    in_trace = False
                    continue
                f = _FRAME.match(t)
                if f and not t.lstrip().startswith("?"):
                    out["call_trace"].append(f.group(1))
            if "---[ end" in t:
                break
        return out
    return None


# A hung task waiting in one of these waited for the block layer: the guest's disk is QEMU's, so a
# 120 s wait there is the emulator's (or the host's) I/O standing still. Seen on a 6.1 guest under
# TCG (2026-12-07): a task blocked 120 s in wbt_wait on a virtio disk write, no kernel error before it.
IO_WAIT_FUNCTIONS = ("wbt_wait", "rq_qos_wait", "io_schedule", "io_schedule_timeout", "blk_mq_get_tag",
                     "bit_wait_io", "folio_wait_bit_common", "folio_wait_writeback", "wait_on_page_bit_common",
                     "wait_on_page_writeback", "submit_bio_wait", "blk_mq_get_new_requests", "__blk_mq_alloc_requests")


_GENERIC_WAITS = ("io_schedule", "io_schedule_timeout", "bit_wait_io", "folio_wait_bit_common",
                  "wait_on_page_bit_common", "rq_qos_wait")


class Failure:
    """Why a boot gave no result. kind: "kernel" (the guest kernel failed: oops, BUG, KASAN,
    panic, a hung task not waiting for I/O: a finding about the kernel) or "infrastructure" (the
    emulator or the host failed: an I/O stall of the emulated disk, a QEMU error, QEMU killed, the
    host out of memory, a timeout with no kernel error on the console: never the kernel's fault).
    crash: kernel_crash()'s report when the console holds one."""

    def __init__(self, kind, reason, crash=None):
        self.kind, self.reason, self.crash = kind, reason, crash

    def record(self):
        return {"kind": self.kind, "reason": self.reason, "crash": self.crash}


class InfrastructureFailure(KernelError):
    """A boot lost to the emulator or the host (classify_failure says which): never a finding about
    the kernel or a patch; the callers retry it once. record: Failure.record() with where the boot
    was (kernel, boot, attempt, console)."""

    def __init__(self, msg, record):
        super().__init__(msg)
        self.record = record


def _qemu_errors(lines, binary):
    """QEMU's own error lines on the console (it prefixes them with its program name)."""
    name = os.path.basename(binary or QEMU)
    return [l.strip() for l in lines if l.startswith(name + ":")]


def classify_failure(rc, lines, timeout_s=None, oom_kills=0, binary=None):
    """A boot without a result, told apart: the kernel's failure or the infrastructure's.
    rc: QEMU's exit status (None: killed by us on timeout; negative: killed by that signal);
    oom_kills: how many processes the host's OOM killer ended while QEMU ran."""
    crash = kernel_crash(lines)
    if crash:
        if "blocked for more than" in crash["what"]:
            # Named by the most specific wait (wbt_wait, folio_wait_writeback), not io_schedule.
            waits = [f for f in crash["call_trace"] if f in IO_WAIT_FUNCTIONS]
            waits = [f for f in waits if f not in _GENERIC_WAITS] or waits
            if waits:
                return Failure("infrastructure",
                               f"an I/O stall, not a kernel failure: {crash['what']} waiting for the emulated disk "
                               f"(in {waits[0]}; call trace: {' < '.join(crash['call_trace'][:6])}), no kernel error "
                               "before it", crash)
        return Failure("kernel", describe_crash(crash), crash)
    if oom_kills:
        return Failure("infrastructure", f"the host ran out of memory: its OOM killer ended {oom_kills} process(es) "
                                         f"during the boot (QEMU exit {rc})")
    errors = _qemu_errors(lines, binary)
    if errors:
        return Failure("infrastructure", f"QEMU failed (exit {rc}): {errors[0]}")
    if rc is not None and rc < 0:
        return Failure("infrastructure", f"QEMU was killed by signal {-rc} (not by the matrix), no kernel error on "
                                         "the console")
    if rc is None:
        return Failure("infrastructure", f"no result within {timeout_s} s and no kernel error on the console (QEMU "
                                         "killed): an emulator stall, or a timeout too short for this host")
    return None


def host_oom_kills():
    """The host's OOM kill count since it booted (/proc/vmstat oom_kill), or None where not kept."""
    try:
        with open("/proc/vmstat") as f:
            for line in f:
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def describe_crash(c):
    trace = " < ".join(c["call_trace"][:8])
    return (f"{c['what']}" + (f" at {c['rip']}" if c["rip"] else "")
            + (f" (call trace: {trace})" if trace else "") + (f", guest time {c['at_s']:.2f} s" if c["at_s"] else ""))


def append_for(arch="amd64"):
    """APPEND with the console of the architecture's machine (arm64 virt: the PL011, ttyAMA0)."""
    return APPEND.replace("console=ttyS0", "console=ttyAMA0") if arch == "arm64" else APPEND


def boot(cmd, timeout_s, on_line=None, env=None):
    """Runs QEMU until it exits or timeout_s passes. Returns (exit status or None on timeout,
    console lines, seconds until the guest's init said it was up, wall seconds)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True, env=env)
    _live.add(p.pid)
    lines, up_at, buf = [], None, b""
    try:
        sel = selectors.DefaultSelector()
        sel.register(p.stdout, selectors.EVENT_READ)
        while True:
            left = timeout_s - (time.monotonic() - t0)
            if left <= 0:
                return None, lines, up_at, time.monotonic() - t0
            if not sel.select(timeout=min(left, 1.0)):
                if p.poll() is not None:
                    break
                continue
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            *done, buf = buf.split(b"\n")
            for raw in done:
                line = raw.decode("utf-8", "replace").rstrip("\r")
                lines.append(line)
                if up_at is None and UP_MARK in line:
                    up_at = time.monotonic() - t0
                if on_line:
                    on_line(line)
        p.wait(timeout=10)
        return p.returncode, lines, up_at, time.monotonic() - t0
    finally:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
        _live.discard(p.pid)


def choose_accel(want, probe):
    """'kvm' or 'tcg'. auto: KVM only if a guest actually boots under it (probe() -> bool); a
    /dev/kvm that exists is not proof (kvm_pvm, seen on a cloud VM, cannot run stock kernels)."""
    if want in ("kvm", "tcg"):
        return want, f"asked (--accel {want})"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg", "no usable /dev/kvm"
    if probe():
        return "kvm", "a probe guest booted under KVM"
    return "tcg", ("/dev/kvm exists but a probe guest did not boot under it within the probe timeout (the answer "
                   "is remembered per host kernel and QEMU version in kvm-probe.json)")


def cached_probe(cache, key, fn):
    """Remembers the KVM probe per host kernel and QEMU version (it costs a boot)."""
    path = os.path.join(cache, "kvm-probe.json")
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, json.JSONDecodeError):
        doc = {}
    k = f"{platform.release()} {key}"
    if k not in doc:
        doc[k] = bool(fn())
        os.makedirs(cache, exist_ok=True)
        with open(path + ".tmp", "w") as f:
            json.dump(doc, f)
        os.replace(path + ".tmp", path)
    return doc[k]

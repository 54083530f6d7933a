"""One guest boot of the matrix: its disks and init settings, the QEMU command, the guest's
result checked and kept, and a boot lost to the emulator or the host retried once. The matrix
(kmatrix/matrix.py) decides which boots to run and merges their results."""
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib

from analysis import manifest
from kmatrix import contention, count, crash, ftrace, gates, initramfs, qemu
from kmatrix.config import LARGEST_GUEST_PAGES
from kmatrix.defs import KERNELS_TOML, KernelError
from kmatrix.gates import EmulatorFault
from kmatrix.qemu import InfrastructureFailure

# Guest size: 1 GiB holds the quick suite's 32 MiB region twice over plus the initramfs (~40 MiB).
MEM_MB = 1024
# The traced pass: the swap-in suite, so the traced functions see swap-in faults and the stores that
# set them up, then the writeback suite's mechanisms.
TRACE_SUITE = manifest.load().suite("swapin").name
TRACE_WRITEBACK_SUITE = manifest.load().suite("writeback").name


def _run_args(a, reps):
    """The guest's run options of MatrixConfig a, for reps repetitions."""
    out = ["--suite", a.suite, "--repetitions", str(reps)]
    # A counter group counts only the thread that opens it: run refuses --events with threads.
    if a.threads <= 1:
        out += ["--events", a.events]
    if a.thp:
        out.append("--thp")
    for flag, v in (("--backend", a.backend), ("--compressor", a.compressor), ("--pages", a.pages),
                    ("--duration", a.duration), ("--race-mechanism", a.race_mechanism),
                    ("--test-corrupt-page", a.test_corrupt_page), ("--threads", a.threads if a.threads > 1 else None)):
        if v not in (None, ""):
            out += [flag, str(v)]
    return " ".join(out)


def _ftrace_functions(key="functions"):
    with open(KERNELS_TOML, "rb") as f:
        return tomllib.load(f).get("ftrace", {}).get(key, [])


def _sparse(path, mib):
    with open(path, "wb") as f:
        f.truncate(mib << 20)


def _say(msg):
    print(f"swapbench matrix: {msg}", file=sys.stderr, flush=True)


class GuestCrash(KernelError):
    """A guest's kernel crashed (or hung) during a boot: a finding about the kernel, not a fault of the
    matrix. record: {"kernel", "boot", "kind": "kernel", "reason", "crash": qemu.kernel_crash(),
    "console": where the whole console is}."""

    def __init__(self, msg, record):
        super().__init__(msg)
        self.record = record


class Boot:
    def __init__(self, kernel, index, rnd, counted=None, emu=None):
        self.kernel, self.index, self.round = kernel, index, rnd
        # Real boots always pass their emulator (matrix.run); the placeholder serves tests of the
        # failure paths, which must not fetch a QEMU (a boot under it would fail the cx16 gate).
        self.emu = emu or qemu.Emulator("amd64", qemu.QEMU, None, "")
        self.result = None
        self.hard_failure = False  # the suite exited 1 in the guest (pages came back wrong), result kept
        self.info = {}
        self.trace = None
        # A counted boot: (plugin .so, funcs file, where the plugin writes its reports).
        self.counted = counted
        self.attempt = 1  # 2: the boot again after a failure (matrix.boot_with_retry)


def _failed_boot(tag, b, lines, why, console_dir, rc=None, timeout_s=None, oom_kills=0):
    """A boot that produced no result: its whole console kept, then a GuestCrash if the kernel failed,
    an InfrastructureFailure if the emulator or the host did (qemu.classify_failure), else a
    KernelError; each names the console's file."""
    name = f"console-boot{b.index}-{b.kernel.name}" + ("-retry" if b.attempt > 1 else "") + ".log"
    path = os.path.join(console_dir, name)
    try:
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
    except OSError as e:
        path = f"(not kept: {e})"
    f = qemu.classify_failure(rc, lines, timeout_s, oom_kills, b.emu.binary)
    if f:
        record = dict(f.record(), kernel=b.kernel.name, boot=b.index, attempt=b.attempt, console=path)
        if f.kind == "kernel":
            raise GuestCrash(f"{tag} the guest kernel crashed: {f.reason}; console: {path}", record)
        raise InfrastructureFailure(f"{tag} infrastructure failure, not the kernel's: {f.reason}; console: {path}",
                                    record)
    tail = "\n".join(lines[-25:])
    report = crash.explain("\n".join(lines), crash.guest_binaries())
    raise KernelError(f"{tag} {why}; console: {path}; last console lines:\n{tail}"
                      + (f"\n{tag} the suite crashed first, frames named on the host:\n{report}" if report else ""))


def run_boot(b, kf, base, accel, a, reps, work, do_ftrace, total, console_dir=None):
    if b.counted:
        accel = "tcg"  # plugins exist only under TCG
    tag = f"[{'count ' if b.counted else ''}boot {b.index}/{total} {b.kernel.name} {accel}]"
    d = tempfile.mkdtemp(dir=work, prefix=f"boot{b.index}-")
    try:
        pages = a.pages or LARGEST_GUEST_PAGES  # the swap disk's size; the race suite's region is smaller
        swap = os.path.join(d, "swap.img")
        res = os.path.join(d, "results.img")
        _sparse(swap, max(256, 2 * pages * 4096 // (1 << 20) + 160))
        _sparse(res, 128)
        initrd = initramfs.build_boot(base, _guest_settings(b, a, reps, accel, do_ftrace),
                                      os.path.join(d, "initrd.cpio.gz"))
        cmd = _qemu_command(b, kf, accel, initrd, swap, res, a.smp)
        _say(f"{tag} booting {kf.release} ({reps} repetitions{', then the ftrace pass' if do_ftrace else ''}"
             f"{', instructions counted' if b.counted else ''})")

        def show(line):
            if line.startswith("[") and "rep" in line or "HARD FAILURE" in line or "swapbench-guest:" in line:
                print(f"  {tag} {line}", file=sys.stderr, flush=True)

        oom_before = qemu.host_oom_kills()
        rc, lines, up, wall = qemu.boot(cmd, a.timeout, show, env=b.emu.env)
        oom = (qemu.host_oom_kills() or 0) - (oom_before or 0)
        console_dir = console_dir or d
        if rc is None:
            _failed_boot(tag, b, lines, f"no result within {a.timeout} s (QEMU killed)", console_dir, rc, a.timeout, oom)
        out = os.path.join(d, "out")
        os.makedirs(out)
        x = subprocess.run(["tar", "-xf", res, "-C", out], capture_output=True, text=True)
        if x.returncode != 0 or not os.path.exists(os.path.join(out, "rc")):
            _failed_boot(tag, b, lines, f"the guest wrote no results (QEMU exit {rc})", console_dir, rc, a.timeout, oom)
        gate, cx16 = _checked_guest(tag, b, kf, out)
        _keep_result(b, a, out, lines, work)
        uptime = float(open(os.path.join(out, "uptime")).read().split()[0])
        b.info = {"boot": b.index, "round": b.round, "wall_s": wall, "up_s": up, "guest_uptime_s": uptime,
                  "qemu_exit": rc, "accelerator": accel, "qemu_command": cmd, "counted": bool(b.counted),
                  "arch": b.kernel.machine, "qemu": b.emu.version_line, "vcpus": 1 if b.counted else a.smp,
                  "guest_cpus": _guest_cpus(out)}
        lc = None if b.counted else contention.read(out, a.smp)
        if lc is not None:
            b.info["lock_contention"] = lc
        if cx16:
            b.info["cx16_gate"] = cx16
        if gate:
            b.info["mte_gate"] = {"passed": gate["rc"] == "0", "skipped": gate["rc"] == "77", "report": gate["report"]}
        if do_ftrace and os.path.exists(os.path.join(out, "trace")):
            b.trace = _guest_trace(out)
        _say(f"{tag} done: init up after {up:.1f} s, boot total {wall:.0f} s")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _guest_settings(b, a, reps, accel, do_ftrace):
    """What the guest's init runs (initramfs.build_boot): the suite's arguments and the ftrace pass."""
    # A counted boot runs its sets in a fixed order: the same pool state before each set in every
    # boot, so per-call counts repeat (random interleaving would change it from boot to boot).
    settings = {"args": _run_args(a, reps) + (" --fixed-order" if b.counted else ""), "accel": accel}
    if b.kernel.arch == "arm64":
        settings["mte_gate"] = "1"
    if a.contention and not b.counted:
        settings.update(contention.pass_settings(a.smp, a.compressor))
    if do_ftrace:
        settings["ftrace"] = " ".join(_ftrace_functions())
        # zswap only: one path per traced function, so each distribution is one thing
        settings["ftrace_args"] = (f"--suite {TRACE_SUITE} --backend zswap --compressor lzo --pages 1024 "
                                   "--repetitions 1 --events perf::task-clock")
        settings["ftrace_wb"] = " ".join(_ftrace_functions("writeback_functions"))
        settings["ftrace_wb_args"] = (f"--suite {TRACE_WRITEBACK_SUITE} --compressor lzo --pages 1024 "
                                      "--repetitions 1 --events perf::task-clock")
    return settings


def _qemu_command(b, kf, accel, initrd, swap, res, smp):
    append = qemu.append_for(b.kernel.arch)
    if b.counted:
        # One vCPU always: the plugin counts one instruction stream (config.smp_problem).
        so, funcs, plugin_out = b.counted
        return qemu.command(accel, kf.image, initrd, [swap, res], MEM_MB, 1, f"{append} {count.NOKASLR}",
                            plugin=f"{so},out={plugin_out},funcs={funcs}", emu=b.emu)
    return qemu.command(accel, kf.image, initrd, [swap, res], MEM_MB, smp, append, emu=b.emu)


def _guest_cpus(out):
    """The CPUs the guest kernel brought online (guest-init.sh writes /sys/devices/system/cpu/online)."""
    p = os.path.join(out, "cpus-online")
    if not os.path.exists(p):
        return None
    n = 0
    for part in open(p).read().strip().split(","):
        lo, _, hi = part.partition("-")
        n += int(hi or lo) - int(lo) + 1 if lo else 0
    return n


def _checked_guest(tag, b, kf, out):
    """The MTE gate's outcome and the cmpxchg16b gate's record (each None when not run), after
    refusing an emulator fault and a suite that ended without a result; sets b.hard_failure."""
    gate = _mte_gate(out)
    if gate and gate["rc"] not in ("0", "77"):
        raise EmulatorFault(f"{tag} emulator fault, not a kernel result: under {b.emu.version_line} MTE tags "
                            f"written before any swap did not read back (the MTE gate), so nothing was measured "
                            f"on {kf.release}:\n{gate['report']}")
    cx16 = gates.check_cx16(out, tag, b.kernel.arch, b.emu.version_line)
    guest_rc = open(os.path.join(out, "rc")).read().strip()
    # Exit 1 with a result is the suite's hard failure (a page came back wrong): a finding, kept
    # and reported at the end; anything else without a result is the matrix's failure.
    if guest_rc not in ("0", "1") or not os.path.exists(os.path.join(out, "result.json")):
        log = open(os.path.join(out, "log"), errors="replace").read()
        dmesg = os.path.join(out, "dmesg")
        dmesg = open(dmesg, errors="replace").read() if os.path.exists(dmesg) else ""
        raise KernelError(crash.suite_failure(tag, guest_rc, log, crash.guest_binaries(), dmesg))
    b.hard_failure = guest_rc == "1"
    return gate, cx16


def _keep_result(b, a, out, lines, work):
    """The guest's result copied into work as b.result, and everything it wrote kept when asked."""
    if a.guest_files:
        shutil.copytree(out, os.path.join(a.guest_files, f"boot{b.index}-{b.kernel.name}"), dirs_exist_ok=True)
        with open(os.path.join(a.guest_files, f"boot{b.index}-{b.kernel.name}", "console"), "w") as f:
            f.write("\n".join(lines) + "\n")
    b.result = os.path.join(work, f"{b.kernel.name}-boot{b.index}.json")
    shutil.copy(os.path.join(out, "result.json"), b.result)


def _guest_trace(out):
    """The ftrace pass's attribution per function, and the writeback pass's when it ran."""
    funcs = open(os.path.join(out, "ftrace-functions")).read().split()
    bl = os.path.join(out, "ftrace-baseline")
    baseline = open(bl).read().strip() if os.path.exists(bl) else None
    trace = ftrace.attribute(open(os.path.join(out, "trace"), errors="replace"), funcs, baseline)
    cands = os.path.join(out, "ftrace-baseline-candidates")
    trace["baseline_candidates_seen"] = open(cands).read().split() if os.path.exists(cands) else []
    trace["ftrace_run_rc"] = open(os.path.join(out, "ftrace-rc")).read().strip() \
        if os.path.exists(os.path.join(out, "ftrace-rc")) else "missing"
    trace["asked"] = _ftrace_functions()
    wbt = os.path.join(out, "trace-writeback")
    if os.path.exists(wbt):
        wbf = open(os.path.join(out, "ftrace-wb-functions")).read().split()
        trace["writeback_pass"] = ftrace.attribute(open(wbt, errors="replace"), wbf, baseline)
        trace["writeback_pass"]["note"] = ("a second traced pass: the writeback suite (every mechanism the "
                                           "kernel offers), zswap-lzo, 1024 pages")
    return trace


def _mte_gate(out):
    """The guest's MTE gate outcome {rc, report}, or None when the boot had no gate."""
    return gates.read_gate(out, "mte-gate")


def boot_with_retry(b, go, crashes, infra, retry_crash=False):
    """go(): one boot of b. An infrastructure failure is retried once, saying why, and never counts
    against the kernel. A kernel crash is a finding and is not retried, except with retry_crash (a
    test whose subject is the suite, not the kernel): then it is retried once, and stays recorded
    and reported all the same. Records go to crashes / infra; each gets retried and retry_ok. True
    when the boot gave a result."""
    while True:
        try:
            go()
        except (GuestCrash, InfrastructureFailure) as e:
            crash = isinstance(e, GuestCrash)
            (crashes if crash else infra).append(e.record)
            _say(f"HARD FAILURE: {e}" if crash else str(e))
            e.record["retried"] = b.attempt == 1 and (retry_crash or not crash)
            e.record["retry_ok"] = False
            if not e.record["retried"]:
                return False
            _say(f"[boot {b.index} {b.kernel.name}] booting it again, once: "
                 + ("--retry-crash (the crash stays in the result and in the exit code)" if crash else
                    "an infrastructure failure is not the kernel's"))
            b.attempt += 1
            continue
        if b.attempt > 1:
            for rec in crashes + infra:
                if rec["kernel"] == b.kernel.name and rec["boot"] == b.index:
                    rec["retry_ok"] = True
            b.info["attempt"] = b.attempt
        return True

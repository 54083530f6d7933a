"""`./swapbench matrix`: the same scenario on several kernels, each booted under QEMU (KVM where it
works, TCG otherwise), repetitions interleaved by boot (A B A B ...), one result file per kernel.

Nothing on the host changes: kernels are unpacked into a cache, the guest swaps on its own virtio
disk, and every system change the suite makes happens inside the guest."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import replace

import socket

import numpy as np

from analysis import manifest
from kmatrix import count, crash, ftrace, gates, initramfs, mte_memory, qemu
# The verb's flags (add_arguments) and their defaults are MatrixConfig's, in kmatrix/config.py.
from kmatrix.config import LARGEST_GUEST_PAGES, MatrixConfig, add_arguments, default_pages  # noqa: F401
from kmatrix.gates import EmulatorFault
from kmatrix.qemu import InfrastructureFailure
from kmatrix.defs import KERNELS_TOML, KernelError, cache_dir, files_for, get_def, load_defs, state_cache

# Guest size: 1 GiB holds the quick suite's 32 MiB region twice over plus the initramfs (~40 MiB).
MEM_MB = 1024
# One vCPU: under TCG, switching ftrace tracers with -smp 2 soft-locked 3 of 7 boots of 6.1
# (../shared/notes/guests.md), and the timed run does not need a second CPU.
SMP = 1
# The traced pass: the swap-in suite, so the traced functions see swap-in faults and the stores that
# set them up, then the writeback suite's mechanisms.
TRACE_SUITE = manifest.load().suite("swapin").name
TRACE_WRITEBACK_SUITE = manifest.load().suite("writeback").name


def _run_args(a, reps):
    """The guest's run options of MatrixConfig a, for reps repetitions."""
    out = ["--suite", a.suite, "--repetitions", str(reps), "--events", a.events]
    if a.thp:
        out.append("--thp")
    for flag, v in (("--backend", a.backend), ("--compressor", a.compressor), ("--pages", a.pages),
                    ("--duration", a.duration), ("--race-mechanism", a.race_mechanism),
                    ("--test-corrupt-page", a.test_corrupt_page)):
        if v not in (None, ""):
            out += [flag, str(v)]
    return " ".join(out)


def run_options_problem(binary, a):
    """What the suite binary would refuse of MatrixConfig a's run options in the guests (suite,
    backend, compressor, pages, duration, race mechanism), asked of it now through `list`, which
    checks them as run does: its message, or None. Milliseconds here, where a refusal inside a guest
    costs a fetch and a boot."""
    args = [binary, "list", "--suite", a.suite]
    if a.thp:
        args.append("--thp")
    for flag, v in (("--backend", a.backend), ("--compressor", a.compressor), ("--pages", a.pages),
                    ("--duration", a.duration), ("--race-mechanism", a.race_mechanism)):
        if v not in (None, ""):
            args += [flag, str(v)]
    try:
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"{binary} list: cannot run it ({e})"
    if r.returncode == 0:
        return None
    lines = [l.removeprefix("swapbench list: ") for l in r.stderr.strip().splitlines() if l.strip()]
    return "; ".join(lines) or f"{binary} list exited {r.returncode}"


def kernels_asked(a, binaries):
    """The KernelDefs --kernels names, checked before anything is fetched: (defs, None) or (None, why).
    Every name must be defined, and be a kernel to boot (not the host, not a source to build)."""
    try:
        defs = load_defs(a.definitions) if a.definitions else load_defs()
    except KernelError as e:
        return None, f"--definitions {e}"
    bootable = [n for n, d in defs.items() if d.source not in ("running", "debian-source")]
    accepted = f"accepted: {', '.join(bootable)} (comma-separated; kernels-config/kernels.toml)"
    names = [k.strip() for k in a.kernels.split(",") if k.strip()]
    if not names:
        return None, f"--kernels '{a.kernels}': no kernel named; {accepted}"
    kernels = []
    for name in names:
        d = defs.get(name)
        if d is None:
            return None, f"--kernels: unknown kernel '{name}'; {accepted}"
        if d.source == "running":
            return None, "--kernels: kernel 'running' is the host itself: measure it with ./swapbench run"
        if d.source == "debian-source":
            return None, (f"--kernels: {name} is a kernel source, not a built kernel: build and compare it with "
                          f"./swapbench ab --source {name}; {accepted}")
        if not binaries[d.arch] or not os.access(binaries[d.arch], os.X_OK):
            return None, (f"kernel {name} is {d.arch} and SWAPBENCH_BIN_AARCH64 names no executable: run it through "
                          "./swapbench matrix (it cross-builds the suite into build-aarch64/)")
        if d.arch != "amd64" and a.accel == "kvm":
            return None, (f"--accel kvm: kernel {name} is {d.arch}, emulated (TCG) on this {os.uname().machine} host; "
                          "use --accel auto or tcg")
        kernels.append(d)
    return kernels, None


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
        # A counted boot runs its sets in a fixed order: the same pool state before each set in every
        # boot, so per-call counts repeat (random interleaving would change it from boot to boot).
        settings = {"args": _run_args(a, reps) + (" --fixed-order" if b.counted else ""), "accel": accel}
        append = qemu.append_for(b.kernel.arch)
        if b.kernel.arch == "arm64":
            settings["mte_gate"] = "1"
        if do_ftrace:
            settings["ftrace"] = " ".join(_ftrace_functions())
            # zswap only: one path per traced function, so each distribution is one thing
            settings["ftrace_args"] = (f"--suite {TRACE_SUITE} --backend zswap --compressor lzo --pages 1024 "
                                       "--repetitions 1 --events perf::task-clock")
            settings["ftrace_wb"] = " ".join(_ftrace_functions("writeback_functions"))
            settings["ftrace_wb_args"] = (f"--suite {TRACE_WRITEBACK_SUITE} --compressor lzo --pages 1024 "
                                          "--repetitions 1 --events perf::task-clock")
        initrd = initramfs.build_boot(base, settings, os.path.join(d, "initrd.cpio.gz"))
        if b.counted:
            so, funcs, plugin_out = b.counted
            cmd = qemu.command(accel, kf.image, initrd, [swap, res], MEM_MB, SMP, f"{append} {count.NOKASLR}",
                               plugin=f"{so},out={plugin_out},funcs={funcs}", emu=b.emu)
        else:
            cmd = qemu.command(accel, kf.image, initrd, [swap, res], MEM_MB, SMP, append, emu=b.emu)
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
        if a.guest_files:
            shutil.copytree(out, os.path.join(a.guest_files, f"boot{b.index}-{b.kernel.name}"), dirs_exist_ok=True)
            with open(os.path.join(a.guest_files, f"boot{b.index}-{b.kernel.name}", "console"), "w") as f:
                f.write("\n".join(lines) + "\n")
        b.result = os.path.join(work, f"{b.kernel.name}-boot{b.index}.json")
        shutil.copy(os.path.join(out, "result.json"), b.result)
        uptime = float(open(os.path.join(out, "uptime")).read().split()[0])
        b.info = {"boot": b.index, "round": b.round, "wall_s": wall, "up_s": up, "guest_uptime_s": uptime,
                  "qemu_exit": rc, "accelerator": accel, "qemu_command": cmd, "counted": bool(b.counted),
                  "arch": b.kernel.machine, "qemu": b.emu.version_line}
        if cx16:
            b.info["cx16_gate"] = cx16
        if gate:
            b.info["mte_gate"] = {"passed": gate["rc"] == "0", "skipped": gate["rc"] == "77", "report": gate["report"]}
        if do_ftrace and os.path.exists(os.path.join(out, "trace")):
            funcs = open(os.path.join(out, "ftrace-functions")).read().split()
            bl = os.path.join(out, "ftrace-baseline")
            baseline = open(bl).read().strip() if os.path.exists(bl) else None
            b.trace = ftrace.attribute(open(os.path.join(out, "trace"), errors="replace"), funcs, baseline)
            cands = os.path.join(out, "ftrace-baseline-candidates")
            b.trace["baseline_candidates_seen"] = open(cands).read().split() if os.path.exists(cands) else []
            b.trace["ftrace_run_rc"] = open(os.path.join(out, "ftrace-rc")).read().strip() \
                if os.path.exists(os.path.join(out, "ftrace-rc")) else "missing"
            b.trace["asked"] = _ftrace_functions()
            wbt = os.path.join(out, "trace-writeback")
            if os.path.exists(wbt):
                wbf = open(os.path.join(out, "ftrace-wb-functions")).read().split()
                b.trace["writeback_pass"] = ftrace.attribute(open(wbt, errors="replace"), wbf, baseline)
                b.trace["writeback_pass"]["note"] = ("a second traced pass: the writeback suite (every mechanism the "
                                                     "kernel offers), zswap-lzo, 1024 pages")
        _say(f"{tag} done: init up after {up:.1f} s, boot total {wall:.0f} s")
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _mte_gate(out):
    """The guest's MTE gate outcome {rc, report}, or None when the boot had no gate."""
    p = os.path.join(out, "mte-gate-rc")
    if not os.path.exists(p):
        return None
    return {"rc": open(p).read().strip(), "report": open(os.path.join(out, "mte-gate"), errors="replace").read().strip()}


def _iterations(boots):
    """The boots' iteration entries, each marked with its boot, repetitions renumbered per set."""
    import json
    docs = [json.load(open(b.result)) for b in boots]
    benches, counter = [], {}
    for b, d in zip(boots, docs):
        for e in d["benchmarks"]:
            if e.get("run_type") != "iteration":
                continue
            n = e["name"]
            e["repetition_index"] = counter.get(n, 0)
            counter[n] = e["repetition_index"] + 1
            e["swapbench"]["boot"] = b.index
            benches.append(e)
    for e in benches:
        e["repetitions"] = counter[e["name"]]
    return docs, benches, counter


def host_machine():
    """The machine whose CPU ran the guests: a guest reports QEMU's CPU model, the same on every
    host, so compare needs this to keep timings of different hosts apart."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())  # the first CPU's
    except OSError:
        pass
    # x86: "model name"; arm64 has none, only the implementer and part numbers.
    model = fields.get("model name") or " ".join(f"{k} {fields[k]}" for k in ("CPU implementer", "CPU part")
                                                 if k in fields) or "unknown"
    return {"name": socket.gethostname(), "cpu_model": model}


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


def merge(boots, kf, kdef, accel, why_accel, qemu_ver, counted=(), exact_ctx=None, failed_boots=()):
    """One result per kernel from its boots: iteration entries renumbered, each marked with its
    boot; Google Benchmark's per-boot aggregates are dropped (they would be per boot, not per kernel).
    Counted boots give each set its swapbench.exact block; their timings are never used, and with
    --count-only (no timed boots) their sets are marked invalid as timings."""
    count_only = not boots
    docs, benches, counter = _iterations(boots or counted)
    out = docs[0]
    out["benchmarks"] = benches
    sb = out["context"]["swapbench"]
    sb["repetitions"] = max(counter.values()) if counter else 0
    sb["wall_seconds"] = sum(d["context"]["swapbench"].get("wall_seconds", 0) for d in docs)
    sb["accelerator"] = "tcg" if count_only else accel
    sb["matrix"] = {"kernel": kdef.name, "why": kdef.why, "package": kf.package, "package_version": kf.version,
                    "release": kf.release, "arch": kdef.machine, "accelerator": sb["accelerator"],
                    "accelerator_reason": why_accel,
                    "qemu": qemu_ver, "boots": [b.info for b in boots or counted],
                    "host": host_machine(),
                    "note": "repetitions from several boots, interleaved with the other kernels' boots (A B A B)",
                    # Every boot that gave no result, kept in the result: a kernel crash (a finding,
                    # even when its retry booted fine) or an infrastructure failure (not the kernel's).
                    "failed_boots": list(failed_boots)}
    gates = [b.info["mte_gate"] for b in boots or counted if "mte_gate" in b.info]
    if gates:
        sb["matrix"]["mte_gate"] = {"boots": gates, "passed_in_every_boot": all(g["passed"] for g in gates),
                                    "note": "tags written to a PROT_MTE region and read back before any swap; "
                                            "a failure stops the boot as an emulator fault"}
    tags = mte_memory.per_page(benches)
    if tags is not None:
        sb["mte_tag_memory"] = tags
    traced = [b.trace for b in boots if b.trace]
    if traced:
        sb["ftrace"] = traced[0]
    if counted:
        _, counted_entries, _ = _iterations(counted) if boots else (None, benches, None)
        reports, unended = {}, []
        for b in counted:
            r, ended = count.read_reports(b.counted[2])
            reports.update({(b.index, k): v for k, v in r.items()})
            if not ended:
                unended.append(b.index)
        meta = {"qemu_version": qemu_ver, "cpu_model": qemu.TCG_CPU, "icount": False, "accelerator": "tcg",
                "boots": [b.index for b in counted],
                "functions_absent": count.absent_functions((exact_ctx or {}).get("functions", {}))}
        blocks = count.exact_blocks(counted_entries, reports, meta)
        for e in benches:
            if e["name"] in blocks:
                e["swapbench"]["exact"] = blocks[e["name"]]
            if count_only:
                e["swapbench"]["valid"] = False
                e["swapbench"]["invalid_reason"] = ("a counted boot (--count-only): the plugin slows every instruction, "
                                                    "so its timings are not measurements; its counts are in swapbench.exact")
        sb["exact"] = dict(exact_ctx or {}, schema=count.EXACT_SCHEMA, counted_boots=[b.info for b in counted],
                           boots_without_end_line=unended,
                           note="instructions counted by a QEMU TCG plugin in boots of their own; never timed")
    return out


def kvm_probe(kf, base, work):
    """Whether a guest of this kernel (its files kf, its base archive) boots under KVM within 60 s:
    a /dev/kvm that opens is not proof (qemu.choose_accel)."""
    initrd = initramfs.build_boot(base, {"mode": "probe"}, os.path.join(work, "probe.cpio.gz"))
    cmd = qemu.command("kvm", kf.image, initrd, [], 512, 1, qemu.APPEND)
    rc, lines, up, _ = qemu.boot(cmd, 60)
    return up is not None


def choose_accel(want, kf, base, work, qemu_version):
    """--accel for amd64 guests: KVM only where kvm_probe boots (remembered per host kernel and QEMU)."""
    return qemu.choose_accel(want, lambda: qemu.cached_probe(state_cache(), qemu_version,
                                                             lambda: kvm_probe(kf, base, work)))


def main(args):
    """The matrix verb: its flags (add_arguments) as one MatrixConfig, run."""
    return run(MatrixConfig.from_args(args))


def run(a, written_paths=None, crashes=None, infra=None, hard=None):
    """One matrix run of MatrixConfig a. written_paths: a list the result files are appended to (for callers such as calibrate --exact);
    crashes: a list each guest kernel crash's record is appended to (GuestCrash.record); infra: the
    same for boots lost to the emulator or host (InfrastructureFailure.record), never a finding about
    a kernel; hard: the findings (crashes, pages that came back wrong) as printed. A crash, a hard
    failure in a guest or a boot lost twice to the infrastructure ends in exit 1 after the other boots
    ran and every result was written."""
    crashes = crashes if crashes is not None else []
    infra = infra if infra is not None else []
    failed = []
    from analysis.errors import OutputError
    from analysis.writer import make_folder, write_json
    from analysis.store import results_dir
    qemu.install_signal_handlers()
    from analysis import environment
    binary = environment.from_env("SWAPBENCH_BIN", "program")
    if not binary or not os.access(binary, os.X_OK):
        print("swapbench matrix: SWAPBENCH_BIN is not set: run it through ./swapbench matrix", file=sys.stderr)
        return 2
    # arm64 guests run the cross-built suite (build-aarch64/), which the front door builds when an
    # arm64 kernel is asked for.
    binaries = {"amd64": binary, "arm64": environment.from_env("SWAPBENCH_BIN_AARCH64", "program", "")}
    if a.pages is None:
        a = replace(a, pages=default_pages(a.suite))
    if a.no_count and a.count_only:
        print("swapbench matrix: --no-count and --count-only: give one", file=sys.stderr)
        return 2
    if a.count_boots < 1:
        print(f"swapbench matrix: --count-boots {a.count_boots}: at least 1 (or --no-count)", file=sys.stderr)
        return 2
    if a.repetitions < 1 or a.boots < 1 or a.boots > a.repetitions:
        print(f"swapbench matrix: --repetitions {a.repetitions} --boots {a.boots}: need 1 <= boots <= repetitions",
              file=sys.stderr)
        return 2
    for flag, v in (("--pages", a.pages), ("--timeout", a.timeout)):
        if v is not None and v < 1:
            print(f"swapbench matrix: {flag} {v}: at least 1", file=sys.stderr)
            return 2
    kernels, why = kernels_asked(a, binaries)
    why = why or run_options_problem(binary, a)
    if why:
        print(f"swapbench matrix: {why} (nothing was fetched or booted)", file=sys.stderr)
        return 2
    t_start = time.monotonic()
    out_dir = a.out or results_dir()
    # The folder named by --out (or the results folder) is made now, before any kernel is fetched or
    # booted, so a bad place costs seconds rather than a whole matrix; never its missing parents.
    try:
        make_folder(out_dir)
    except OutputError as e:
        print(f"swapbench matrix: --out {e}", file=sys.stderr)
        return 2
    work = os.path.join(cache_dir(), "work")
    os.makedirs(work, exist_ok=True)
    run_dir = tempfile.mkdtemp(dir=work, prefix="run-")
    try:
        emus = {arch: qemu.emulator(arch) for arch in {d.arch for d in kernels}}
        qv = emus["amd64"].version_line if "amd64" in emus else ""
        prepared = []
        for d in kernels:
            kf = files_for(d)
            base, order, inbuilt = initramfs.build_base(kf, d, binaries[d.arch], work)
            _say(f"{d.name}: {kf.package or kf.image} {kf.version} ({kf.release}); modules "
                 f"{' '.join(m for m, _ in order) or 'none'}{'; built in: ' + ' '.join(inbuilt) if inbuilt else ''}")
            prepared.append((d, kf, base))

        native = [p for p in prepared if p[0].arch == "amd64"]

        accel, why = (choose_accel(a.accel, native[0][1], native[0][2], run_dir, qv) if native
                      else ("tcg", "no native kernel asked for"))
        # Another architecture's guest is emulated whatever this host offers.
        accels = {d.name: (accel, why) if d.arch == "amd64" else
                  ("tcg", f"an {d.arch} guest on an {os.uname().machine} host: emulated (TCG)") for d, _, _ in prepared}
        for d, _, _ in prepared:
            _say(f"{d.name}: accelerator {accels[d.name][0]} ({accels[d.name][1]})")

        per_boot = [a.repetitions // a.boots + (1 if i < a.repetitions % a.boots else 0) for i in range(a.boots)]
        boots = {d.name: [] for d in kernels}
        counted = {d.name: [] for d in kernels}
        timed_rounds = 0 if a.count_only else a.boots
        count_rounds = 0 if a.no_count else a.count_boots
        total = (timed_rounds + count_rounds) * len(kernels)
        n = 0
        for rnd in range(timed_rounds):
            for d, kf, base in prepared:
                n += 1
                b = Boot(d, n, rnd + 1, emu=emus[d.arch])
                if boot_with_retry(b, lambda: run_boot(b, kf, base, accels[d.name][0], a, per_boot[rnd], run_dir,
                                                       do_ftrace=(rnd == 0 and not a.no_ftrace), total=total,
                                                       console_dir=out_dir),
                                   crashes, infra, a.retry_crash):
                    boots[d.name].append(b)
        exact_ctx = {}
        if count_rounds:
            from kmatrix import plugin  # the QEMU plugin is built on first use of the count pass
            # One plugin per QEMU: each is built against the header of the QEMU that loads it (the
            # unpacked 10.0 of each architecture: the same version, so the same plugin).
            plugins = {}
            for arch, emu in emus.items():
                so, version_line = plugin.ensure_plugin(cache_dir(), emu.binary)
                plugin.check_plugin_matches(so, emu.binary)
                plugins[arch] = (so, version_line)
            funcs = {}
            for d, kf, base in prepared:
                ranges, rdoc = count.resolve_ranges(kf, base, run_dir, 180, _say, emu=emus[d.arch])
                funcs[d.name] = count.funcs_file(ranges, os.path.join(run_dir, f"{d.name}.funcs"))
                so, version_line = plugins[d.arch]
                exact_ctx[d.name] = {"plugin": os.path.basename(so), "plugin_qemu_version": version_line,
                                     "functions": rdoc}
            for rnd in range(count_rounds):
                for d, kf, base in prepared:
                    n += 1
                    out = os.path.join(run_dir, f"{d.name}-count{n}.jsonl")
                    b = Boot(d, n, rnd + 1, counted=(plugins[d.arch][0], funcs[d.name], out), emu=emus[d.arch])
                    if boot_with_retry(b, lambda: run_boot(b, kf, base, "tcg", a, per_boot[0], run_dir, do_ftrace=False,
                                                           total=total, console_dir=out_dir),
                                       crashes, infra, a.retry_crash):
                        counted[d.name].append(b)
        written = []
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        for d, kf, _ in prepared:
            failed += [f"{d.name} boot {b.index}: the suite found pages that came back wrong (see its result)"
                       for b in boots[d.name] + counted[d.name] if b.hard_failure]
            if not boots[d.name] and not counted[d.name]:
                continue  # every boot of it crashed: the crashes say so, there is nothing to merge
            acc, why_acc = accels[d.name]
            doc = merge(boots[d.name], kf, d, acc, why_acc, emus[d.arch].version_line, counted[d.name],
                        exact_ctx.get(d.name), [f for f in crashes + infra if f["kernel"] == d.name])
            path = os.path.join(out_dir, f"{d.name}-{kf.release}-{acc}-{stamp}.json")
            write_json(path, doc)
            written.append((d, kf, path, doc))
    except EmulatorFault as e:
        print(f"swapbench matrix: {e}\nno result was written for any kernel of this matrix", file=sys.stderr)
        return 1
    except KernelError as e:
        print(f"swapbench matrix: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:
        print(f"swapbench matrix: interrupted ({e}); no QEMU left running", file=sys.stderr)
        return 130
    finally:
        qemu.kill_all()
        shutil.rmtree(run_dir, ignore_errors=True)
    if written_paths is not None:
        written_paths.extend(p for _, _, p, _ in written)
    print(summary(written, time.monotonic() - t_start))
    for c in crashes:
        failed.append(f"{c['kernel']} boot {c['boot']}: the kernel crashed: {qemu.describe_crash(c['crash'])} "
                      f"(console: {c['console']}){'; its retry booted fine' if c.get('retry_ok') else ''}")
    if hard is not None:
        hard.extend(failed)
    for f in failed:
        print(f"HARD FAILURE: {f}")
    # A record whose boot was not booted again (its second attempt) is a boot lost.
    lost = [f for f in infra if not f.get("retried") and not f.get("retry_ok")]
    for f in infra:
        print(f"{'INFRASTRUCTURE FAILURE' if f in lost else 'infrastructure failure, retried'} (not the kernel's): "
              f"{f['kernel']} boot {f['boot']}: {f['reason']} (console: {f['console']})"
              + ("; the boot is lost" if f in lost else "; booted again fine" if f.get("retry_ok") else "; booted again"))
    return 1 if failed or lost else 0


def summary(written, wall):
    from analysis.load import load
    from analysis.metrics import SWAPIN
    from analysis.output import fmt_ns, table
    rows = []
    for d, kf, path, doc in written:
        R = load(path)
        boot = [b["up_s"] for b in doc["context"]["swapbench"]["matrix"]["boots"] if b["up_s"]]
        cells = []
        for s in R.sets.values():
            if s.kind == SWAPIN and s.variant in ("", "untagged", "mte-tagged"):
                why = s.invalid_reason()
                cells.append(f"{s.backend}{'-' + s.compressor if s.backend in ('zswap', 'zram') else ''}"
                             f"{' ' + s.variant if s.variant else ''} "
                             + ("INVALID" if why else fmt_ns(float(np.median(s.values("p50"))))))
        exact = []
        for e in doc["benchmarks"]:
            x, k = e["swapbench"].get("exact"), e["swapbench"].get("kind")
            if x and x.get("kernel_instructions_per_op") and k == SWAPIN and e["repetition_index"] == 0:
                v = e["swapbench"].get("variant") if e["swapbench"].get("variant") in ("untagged", "mte-tagged") else ""
                exact.append(f"{e['swapbench']['backend']}"
                             f"{'-' + e['swapbench']['compressor'] if e['swapbench']['backend'] in ('zswap', 'zram') else ''}"
                             f"{' ' + v if v else ''} {x['kernel_instructions_per_op']['median']:.0f}")
        ft = doc["context"]["swapbench"].get("ftrace", {}).get("functions", {})
        base_fn = doc["context"]["swapbench"].get("ftrace", {}).get("baseline_function")
        ftxt = ", ".join(f"{f} {v['p50_corrected_us']:.1f} us" for f, v in ft.items() if f != base_fn)
        rows.append([d.name, kf.release, R.accelerator, f"{min(boot):.1f} s" if boot else "-", "; ".join(cells),
                     "; ".join(exact) or "-", ftxt or "-"])
    # A set whose counted repetitions produced no operation (it marks none: the race) says so.
    uncounted = []
    for d, kf, path, doc in written:
        for e in doc["benchmarks"]:
            x = e["swapbench"].get("exact")
            if x is not None and not x.get("repetitions") and e["repetition_index"] == 0:
                why = "; ".join(sorted({m["why"] for m in x.get("missing", [])})) or "no report"
                uncounted.append(f"no instruction counts for {d.name} {e['name']}: {why}")
    # The mte suite: every granule's tag checked after swap-in, per kernel.
    for d, kf, path, doc in written:
        tags = [e["swapbench"]["mte_tags"] for e in doc["benchmarks"] if "mte_tags" in e["swapbench"]]
        if tags:
            uncounted.append(f"MTE tags {d.name}: {sum(t['granules_checked'] for t in tags):,} granules checked after "
                             f"swap-in in {len(tags)} tagged sets, {sum(t['granules_wrong'] for t in tags)} wrong")
        whole = [(e["name"], e["swapbench"]["pushout_vmstat"]["thp_swpout"], e["swapbench"]["mte_tags"]["granules_wrong"])
                 for e in doc["benchmarks"] if e["swapbench"].get("pushout_vmstat", {}).get("thp_swpout")
                 and "mte_tags" in e["swapbench"]]
        if whole:
            uncounted.append(f"PROT_MTE THPs swapped out whole {d.name} (thp_swpout at the push-out; back page by page): "
                             + "; ".join(f"{n} {t} THPs, {w} wrong tags" for n, t, w in whole))
        mem = doc["context"]["swapbench"].get("mte_tag_memory")
        if mem:
            uncounted.append(f"MTE saved-tag memory {d.name} (slab, tagged minus untagged): {mte_memory.describe(mem)}")
    rows_note = ("\n" + "\n".join(uncounted)) if uncounted else ""
    return (table(["kernel", "release", "accel", "boot", "swap-in p50 (emulated if tcg)",
                   "swap-in kernel instructions per fault (counted)", "ftrace p50 per call"], rows, numeric=False)
            + rows_note + "\n" + "\n".join(f"wrote {p}" for _, _, p, _ in written) + f"\nmatrix wall time {wall:.0f} s")

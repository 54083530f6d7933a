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
from dataclasses import replace

import socket

import numpy as np

from kmatrix import contention, count, initramfs, mte_memory, qemu
from kmatrix.boot import Boot, EmulatorFault, _say, boot_with_retry, run_boot
# The verb's flags (add_arguments) and their defaults are MatrixConfig's, in kmatrix/config.py.
from kmatrix.config import MatrixConfig, add_arguments, default_pages, smp_problem  # noqa: F401
from kmatrix.defs import KernelError, cache_dir, files_for, get_def, load_defs, state_cache

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
    lc = contention.summary([b.info.get("lock_contention") for b in boots], sb["accelerator"],
                            max((b.info.get("vcpus", 1) for b in boots), default=1))
    if lc:
        sb["lock_contention"] = lc
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
    from analysis.writer import make_folder
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
    why = _boot_options_problem(a)
    if why:
        print(f"swapbench matrix: {why}", file=sys.stderr)
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
        prepared = _prepare(kernels, binaries, work)
        accels = _accelerators(a, prepared, run_dir, emus["amd64"].version_line if "amd64" in emus else "")
        boots, counted, exact_ctx = _boot_all(a, kernels, prepared, emus, accels, run_dir, out_dir, crashes, infra)
        written = _write_results(prepared, boots, counted, accels, emus, exact_ctx, crashes + infra, out_dir, failed)
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
    return _report_failures(failed, crashes, infra, hard)


def _boot_options_problem(a):
    """What is wrong with the boot and count options, before anything is fetched; None if nothing."""
    if a.no_count and a.count_only:
        return "--no-count and --count-only: give one"
    if a.count_boots < 1:
        return f"--count-boots {a.count_boots}: at least 1 (or --no-count)"
    if a.repetitions < 1 or a.boots < 1 or a.boots > a.repetitions:
        return f"--repetitions {a.repetitions} --boots {a.boots}: need 1 <= boots <= repetitions"
    why = smp_problem(a.smp, not a.no_count, a.contention, a.threads)
    if why:
        return why
    for flag, v in (("--pages", a.pages), ("--timeout", a.timeout)):
        if v is not None and v < 1:
            return f"{flag} {v}: at least 1"
    return None


def _prepare(kernels, binaries, work):
    """(definition, kernel files, base initramfs) of each kernel asked for."""
    prepared = []
    for d in kernels:
        kf = files_for(d)
        base, order, inbuilt = initramfs.build_base(kf, d, binaries[d.arch], work)
        _say(f"{d.name}: {kf.package or kf.image} {kf.version} ({kf.release}); modules "
             f"{' '.join(m for m, _ in order) or 'none'}{'; built in: ' + ' '.join(inbuilt) if inbuilt else ''}")
        prepared.append((d, kf, base))
    return prepared


def _accelerators(a, prepared, run_dir, qv):
    """kernel name -> (accelerator, why): the one asked or probed for native kernels; another
    architecture's guest is emulated whatever this host offers."""
    native = [p for p in prepared if p[0].arch == "amd64"]
    accel, why = (choose_accel(a.accel, native[0][1], native[0][2], run_dir, qv) if native
                  else ("tcg", "no native kernel asked for"))
    accels = {d.name: (accel, why) if d.arch == "amd64" else
              ("tcg", f"an {d.arch} guest on an {os.uname().machine} host: emulated (TCG)") for d, _, _ in prepared}
    for d, _, _ in prepared:
        _say(f"{d.name}: accelerator {accels[d.name][0]} ({accels[d.name][1]})")
    return accels


def _boot_all(a, kernels, prepared, emus, accels, run_dir, out_dir, crashes, infra):
    """The timed rounds, then the count pass's: (timed boots, counted boots, count context) by kernel."""
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
        plugins, funcs, exact_ctx = _count_setup(prepared, emus, run_dir)
        for rnd in range(count_rounds):
            for d, kf, base in prepared:
                n += 1
                out = os.path.join(run_dir, f"{d.name}-count{n}.jsonl")
                b = Boot(d, n, rnd + 1, counted=(plugins[d.arch][0], funcs[d.name], out), emu=emus[d.arch])
                if boot_with_retry(b, lambda: run_boot(b, kf, base, "tcg", a, per_boot[0], run_dir, do_ftrace=False,
                                                       total=total, console_dir=out_dir),
                                   crashes, infra, a.retry_crash):
                    counted[d.name].append(b)
    return boots, counted, exact_ctx


def _count_setup(prepared, emus, run_dir):
    """(plugin per architecture, functions file per kernel, count context per kernel) of the count pass."""
    from kmatrix import plugin  # the QEMU plugin is built on first use of the count pass
    # One plugin per QEMU: each is built against the header of the QEMU that loads it (the
    # unpacked 10.0 of each architecture: the same version, so the same plugin).
    plugins = {}
    for arch, emu in emus.items():
        so, version_line = plugin.ensure_plugin(cache_dir(), emu.binary)
        plugin.check_plugin_matches(so, emu.binary)
        plugins[arch] = (so, version_line)
    funcs, exact_ctx = {}, {}
    for d, kf, base in prepared:
        ranges, rdoc = count.resolve_ranges(kf, base, run_dir, 180, _say, emu=emus[d.arch])
        funcs[d.name] = count.funcs_file(ranges, os.path.join(run_dir, f"{d.name}.funcs"))
        so, version_line = plugins[d.arch]
        exact_ctx[d.name] = {"plugin": os.path.basename(so), "plugin_qemu_version": version_line, "functions": rdoc}
    return plugins, funcs, exact_ctx


def _write_results(prepared, boots, counted, accels, emus, exact_ctx, lost_boots, out_dir, failed):
    """One merged result per kernel that has a boot; [(definition, files, path, document)]. Appends
    each boot whose suite found a page that came back wrong to failed."""
    from analysis.writer import write_json
    written = []
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    for d, kf, _ in prepared:
        failed += [f"{d.name} boot {b.index}: the suite found pages that came back wrong (see its result)"
                   for b in boots[d.name] + counted[d.name] if b.hard_failure]
        if not boots[d.name] and not counted[d.name]:
            continue  # every boot of it crashed: the crashes say so, there is nothing to merge
        acc, why_acc = accels[d.name]
        doc = merge(boots[d.name], kf, d, acc, why_acc, emus[d.arch].version_line, counted[d.name],
                    exact_ctx.get(d.name), [f for f in lost_boots if f["kernel"] == d.name])
        path = os.path.join(out_dir, f"{d.name}-{kf.release}-{acc}-{stamp}.json")
        write_json(path, doc)
        written.append((d, kf, path, doc))
    return written


def _report_failures(failed, crashes, infra, hard):
    """Prints the findings and the boots lost; the exit status: 1 when there is either."""
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
        if doc["context"]["swapbench"].get("lock_contention"):
            uncounted.append(contention.describe(d.name, doc["context"]["swapbench"]["lock_contention"]))
        mem = doc["context"]["swapbench"].get("mte_tag_memory")
        if mem:
            uncounted.append(f"MTE saved-tag memory {d.name} (slab, tagged minus untagged): {mte_memory.describe(mem)}")
    rows_note = ("\n" + "\n".join(uncounted)) if uncounted else ""
    return (table(["kernel", "release", "accel", "boot", "swap-in p50 (emulated if tcg)",
                   "swap-in kernel instructions per fault (counted)", "ftrace p50 per call"], rows, numeric=False)
            + rows_note + "\n" + "\n".join(f"wrote {p}" for _, _, p, _ in written) + f"\nmatrix wall time {wall:.0f} s")

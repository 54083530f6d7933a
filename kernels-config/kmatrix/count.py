"""The count pass of `./swapbench matrix`: each kernel booted once more (or --count-boots times)
under TCG with swapbench's QEMU plugin, which counts every guest instruction between the
benchmark's START and STOP markers, per kernel function and in all (kernels-config/plugin/).

Exact where wall time is noisy: the same kernel build gives the same counts from boot to boot
(../shared/notes/exact-cost.md). Wall time is never taken from a counted boot: the plugin slows
every instruction.

Pieces: the function ranges of a kernel (its /proc/kallsyms, read once per kernel build in a short
boot with nokaslr, cached), the counted boot itself (matrix.run_boot with the plugin), and the
pairing of the plugin's reports with the sets' repetitions (each repetition records which REPORT
marker it executed: swapbench.count_report)."""
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import tomllib

from kmatrix import gates, initramfs, qemu
from kmatrix.defs import KERNELS_TOML, KernelError, state_cache

EXACT_SCHEMA = 1
# The count boots' kernel command line adds nokaslr: function addresses are then the same in every
# boot of one kernel build, so ranges read once stay true.
NOKASLR = "nokaslr"


def functions(arch="amd64"):
    """Kernel functions counted apart (kernels.toml [exact]): 6.1 names and later ones, plus the
    architecture's own list (functions_arm64: the MTE tag save/restore path); each kernel counts
    those it has, and the others are reported absent (absent_functions)."""
    with open(KERNELS_TOML, "rb") as f:
        exact = tomllib.load(f).get("exact", {})
    extra = exact.get(f"functions_{arch}", [])
    return exact.get("functions", []) + [n for n in extra if n not in exact.get("functions", [])]


def absent_functions(rdoc):
    """{name: why} for each asked function a kernel's ranges lack: never reported as zero calls, since
    a function that is not there (inlined into its callers, or not built) is not one that ran 0 times."""
    out = {n: "not a text symbol of this kernel's /proc/kallsyms (inlined into its callers, or not built)"
           for n in rdoc.get("missing", [])}
    out.update({n: "defined more than once in /proc/kallsyms (a static function in several files): range ambiguous"
                for n in rdoc.get("ambiguous", [])})
    return out


def parse_kallsyms(text, wanted):
    """{name: (start, end)} for each wanted function found among the text symbols of a sorted or
    unsorted /proc/kallsyms: end is the next higher symbol address (aliases at the same address
    share the range). A name defined more than once (a static function in several files) is
    refused: its range would be ambiguous."""
    syms = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        try:
            addr = int(parts[0], 16)
        except ValueError:
            continue
        syms.append((addr, parts[1], parts[2]))
    if syms and all(a == 0 for a, _, _ in syms):
        raise KernelError("/proc/kallsyms shows only zero addresses (kptr_restrict): the guest must read it as root")
    addrs = sorted({a for a, _, _ in syms})
    nxt = {a: b for a, b in zip(addrs, addrs[1:])}
    found, dup = {}, set()
    want = set(wanted)
    for addr, kind, name in syms:
        if name not in want or kind not in "tTwW":
            continue
        if name in found and found[name][0] != addr:
            dup.add(name)
        if addr in nxt:
            found[name] = (addr, nxt[addr])
    for n in dup:
        del found[n]
    return found, sorted(dup)


def ranges_path(kf):
    key = "-".join(x for x in (kf.name, kf.package or "custom", kf.version or "", kf.release) if x)
    return os.path.join(state_cache(), "kallsyms", key.replace("/", "_") + ".json")


def load_ranges(kf):
    try:
        with open(ranges_path(kf)) as f:
            doc = json.load(f)
        return {n: tuple(v) for n, v in doc["ranges"].items()}, doc
    except (OSError, ValueError, KeyError):
        return None, None


def store_ranges(kf, ranges, dup, wanted):
    path = ranges_path(kf)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    doc = {"kernel": kf.name, "release": kf.release, "package": kf.package, "version": kf.version,
           "ranges": {n: list(v) for n, v in sorted(ranges.items())},
           "asked": list(wanted), "missing": sorted(set(wanted) - set(ranges) - set(dup)), "ambiguous": dup,
           "note": "text symbol ranges from the guest's /proc/kallsyms, booted with nokaslr"}
    with open(path + ".tmp", "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(path + ".tmp", path)
    return doc


def funcs_file(ranges, path):
    """The plugin's funcs= file: NAME START_HEX END_HEX, END exclusive. Aliases (two wanted names at
    one address) are given once, under the first name: the plugin refuses overlapping ranges."""
    seen = set()
    with open(path, "w") as f:
        for n, (s, e) in sorted(ranges.items(), key=lambda kv: (kv[1][0], kv[0])):
            if (s, e) in seen:
                continue
            seen.add((s, e))
            f.write(f"{n} {s:x} {e:x}\n")
    return path


def read_reports(path):
    """The plugin's JSON lines: {report number: line}, and whether its end line was written (a boot
    that ended early leaves it out)."""
    reports, ended = {}, False
    try:
        with open(path) as f:
            for i, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    d = json.loads(line)
                except ValueError:
                    raise KernelError(f"{path}:{i}: the plugin wrote a line that is not JSON: {line[:120]}") from None
                if d.get("end"):
                    ended = True
                elif "report" in d:
                    reports[int(d["report"])] = d
    except OSError as e:
        raise KernelError(f"the plugin wrote no counts ({e})") from None
    return reports, ended


def _summary(values):
    return {"median": statistics.median(values), "min": min(values), "mean": statistics.fmean(values)}


def exact_blocks(entries, reports, meta):
    """{set name: the set's swapbench.exact block} from the counted boots' iteration entries (each
    with swapbench.count_report and swapbench.boot) and the plugin's reports, keyed by
    (boot, report number). meta: qemu_version, cpu_model, icount, accelerator, boots. A repetition
    whose report is missing or counted no operation is left out, and said so in the block."""
    by_set = {}
    for e in entries:
        sb = e.get("swapbench", {})
        n = sb.get("count_report")
        rep = reports.get((sb.get("boot"), n)) if n is not None else None
        s = by_set.setdefault(e["name"], {"reps": [], "missing": []})
        if rep is None or not rep.get("ops"):
            s["missing"].append({"boot": sb.get("boot"), "count_report": n,
                                 "why": "no plugin report" if rep is None else "the report counted no operation"})
            continue
        s["reps"].append(dict(rep, boot=sb.get("boot")))
    out = {}
    for name, s in by_set.items():
        reps = s["reps"]
        block = {"schema": EXACT_SCHEMA, "source": "qemu-plugin", **meta, "repetitions": len(reps),
                 "per_repetition": reps, "missing": s["missing"]}
        if reps:
            kmed = [r["kernel"]["median"] for r in reps]
            umed = [r["user"]["median"] for r in reps]
            block["ops_per_repetition"] = statistics.median(r["ops"] for r in reps)
            block["kernel_instructions_per_op"] = _summary(kmed)
            block["user_instructions_per_op"] = _summary(umed)
            funcs = {}
            for f in reps[0].get("functions", {}):
                per_call = [r["functions"][f]["instructions"] / r["functions"][f]["calls"]
                            for r in reps if r["functions"].get(f, {}).get("calls")]
                per_op = [r["functions"].get(f, {}).get("calls", 0) / r["ops"] for r in reps]
                funcs[f] = {"instructions_per_call": statistics.median(per_call) if per_call else None,
                            "calls_per_op": statistics.median(per_op),
                            "spread_per_call": (max(per_call) - min(per_call)) if per_call else None}
            block["functions"] = funcs
            block["spread"] = {"kernel_median_per_op": max(kmed) - min(kmed), "user_median_per_op": max(umed) - min(umed)}
        out[name] = block
    return out


def resolve_ranges(kf, base, work, timeout, say, emu=None):
    """The wanted functions' ranges in this kernel build: cached, else one short boot (nokaslr, the
    modules loaded as in every boot) that writes its sorted /proc/kallsyms to the results disk.
    emu: the qemu.Emulator of the kernel's architecture (default: the x86-64 guests' one)."""
    emu = emu or qemu.emulator("amd64")
    arch = emu.arch
    wanted = functions(arch)
    ranges, doc = load_ranges(kf)
    if ranges is not None and doc.get("asked") == wanted:
        return ranges, doc
    d = tempfile.mkdtemp(dir=work, prefix="kallsyms-")
    try:
        res = os.path.join(d, "results.img")
        swap = os.path.join(d, "swap.img")
        for p, mib in ((res, 64), (swap, 16)):
            with open(p, "wb") as f:
                f.truncate(mib << 20)
        initrd = initramfs.build_boot(base, {"mode": "kallsyms"}, os.path.join(d, "initrd.cpio.gz"))
        cmd = qemu.command("tcg", kf.image, initrd, [swap, res], 512, 1, f"{qemu.append_for(arch)} {NOKASLR}", emu=emu)
        say(f"{kf.name}: reading function addresses from /proc/kallsyms (one short boot, cached)")
        rc, lines, up, _ = qemu.boot(cmd, timeout, env=emu.env)
        out = os.path.join(d, "out")
        os.makedirs(out)
        x = subprocess.run(["tar", "-xf", res, "-C", out], capture_output=True, text=True)
        ks = os.path.join(out, "kallsyms")
        if x.returncode == 0 and os.path.exists(os.path.join(out, "rc")):
            gates.check_cx16(out, f"{kf.name}: the kallsyms boot:", arch, emu.version_line)
        if rc is None or x.returncode != 0 or not os.path.exists(ks):
            tail = "\n".join(lines[-15:])
            raise KernelError(f"{kf.name}: the kallsyms boot wrote nothing (QEMU exit {rc}); last console lines:\n{tail}")
        with open(ks, errors="replace") as f:
            ranges, dup = parse_kallsyms(f.read(), wanted)
        return ranges, store_ranges(kf, ranges, dup, wanted)
    finally:
        shutil.rmtree(d, ignore_errors=True)

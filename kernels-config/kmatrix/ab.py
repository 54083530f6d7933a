"""`./swapbench ab`: a patch's cost before merge. Kernel A is the source as it is (or with
--patch-a), kernel B the same source with --patch (several, applied in order). Both are built
(kmatrix/build.py: a small guest configuration from data, ccache, one tree per patch set), booted
alternately A B A B under QEMU with the timed pass and the count pass (matrix), and compared: the
exact table (instructions per call and per operation) beside the timed one (emulated under TCG).

Everything of one A/B run goes into one folder: the patches as given, the kernel definitions
used, each suite's result per side, and each suite's comparison (text and JSON), so a reader sees
exactly what was compared."""
import json
import math
import os
import re
import shutil
import stat
import subprocess
import sys
import time

from analysis import manifest
from analysis.metrics import RACE
from kmatrix import build, config, contention, matrix, qemu
from kmatrix.config import MatrixConfig
from kmatrix.defs import KernelError

DEFAULT_SUITES = ",".join(manifest.load().suite(n).name for n in ("quick", "writeback"))
# Pages per set unless asked: a quarter of the quick suite's, so that four boots per side stay short.
AB_PAGES = manifest.load().suite("quick").pages // 4
_D = MatrixConfig()


def suite_pages(suite, asked):
    """Pages per set of a suite in ab's guests: as asked, else AB_PAGES, except for a suite that
    sizes its own region (the race: it runs for a duration)."""
    s = manifest.load().suites.get(suite)
    return asked or (None if s is not None and s.guest_pages is None else AB_PAGES)


def _races(suite):
    """Whether the suite provokes the writeback race (its figures are summarised per side)."""
    s = manifest.load().suites.get(suite)
    return s is not None and RACE in s.kinds


def add_arguments(p):
    p.add_argument("--source", required=True,
                   help="a kernel source: a definition in kernels.toml (debian-6.12-source, debian-6.1-source) or "
                        "a kernel tree (a folder, e.g. a git checkout)")
    p.add_argument("--patch", action="append", default=[], metavar="FILE",
                   help="B = the source with this patch (repeat: applied in order)")
    p.add_argument("--patch-a", action="append", default=[], metavar="FILE",
                   help="A = the source with this patch (repeat; default: A is the source as it is)")
    p.add_argument("--suite", default=DEFAULT_SUITES, help=f"suites, comma-separated (default {DEFAULT_SUITES})")
    p.add_argument("--boots", type=int, default=_D.boots, help="timed boots per side (default %(default)s)")
    p.add_argument("--repetitions", type=int, default=_D.repetitions,
                   help="repetitions per set and side (default %(default)s)")
    p.add_argument("--count-boots", type=int, default=_D.count_boots,
                   help="counted boots per side (default %(default)s)")
    p.add_argument("--no-count", action="store_true", help="timed boots only (no exact verdict)")
    p.add_argument("--backend", help="as in run (default: the suite's)")
    p.add_argument("--compressor", help="as in run (default: every compressor the guest kernel accepts)")
    p.add_argument("--pages", type=int, help=f"as in run (default {AB_PAGES}; the race suite its own)")
    p.add_argument("--duration", type=float, help="the race suite's seconds, if it is among --suite")
    p.add_argument("--race-mechanism", help="as in run: how the race suite forces writeback")
    p.add_argument("--max-instructions-delta", type=float, metavar="N",
                   help="exit 1 when B executes more than N instructions per call (in any function) or per operation "
                        "more than A; default: increases are reported, exit 0")
    p.add_argument("--arch", default="amd64", choices=sorted(build.ARCH_BUILD),
                   help="the architecture the kernels are built for and booted as (default amd64; arm64: "
                        "cross-compiled, booted under qemu-system-aarch64 -M virt,mte=on; counted by a plugin "
                        "built for that QEMU)")
    p.add_argument("--timeout", type=int, default=_D.timeout, help="hard limit per boot in seconds (default %(default)s)")
    config.add_smp_arguments(p)
    p.add_argument("--out", metavar="DIR", help="the A/B run's folder (default: results/ab-<source>-<UTC>)")


def _say(msg):
    print(f"swapbench ab: {msg}", file=sys.stderr, flush=True)


def guest_options(a):
    """Config options the built kernels need beyond guest-config.toml for these flags: as many
    possible CPUs as --smp (tinyconfig's NR_CPUS is 2: a third vCPU would stay offline, silently);
    with --contention, what the contention pass traces with (contention.KERNEL_OPTIONS)."""
    extra = {"NR_CPUS": str(a.smp)} if a.smp > 2 else {}
    if a.contention:
        extra.update(contention.KERNEL_OPTIONS)
    return extra


def touched_functions(patches):
    """Functions a patch's hunks sit in (the text git and diff put after @@ ... @@), in order."""
    seen = {}
    for p in patches:
        with open(p, errors="replace") as f:
            for line in f:
                m = re.match(r"^@@ [^@]+ @@\s*(.*)$", line)
                if m:
                    name = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(", m.group(1))
                    if name:
                        seen.setdefault(name.group(1), None)
    return list(seen)


def layout(folder, patches_a, patches_b):
    """The A/B run's folder: patches/{A,B}/NN-name as given (numbered in apply order)."""
    os.mkdir(folder)  # never its missing parents, as matrix --out: a typo should not grow a tree
    for side, ps in (("A", patches_a), ("B", patches_b)):
        d = os.path.join(folder, "patches", side)
        os.makedirs(d)
        for i, p in enumerate(ps, 1):
            shutil.copy2(p, os.path.join(d, f"{i:02d}-{os.path.basename(p)}"))
    return folder


def definitions(kernels, path, arch="amd64"):
    """A kernels.toml of the two built kernels (source = "custom"), for the matrix."""
    with open(path, "w") as f:
        f.write("# The two kernels of this A/B run, as built (kmatrix/build.py)\n")
        for name, kf in kernels:
            f.write(f'\n[kernel."{name}"]\nsource = "custom"\narch = "{arch}"\nwhy = "{name}"\nimage = "{kf.image}"\n'
                    f'modules_dir = "{kf.modules_dir}"\nconfig = "{kf.config}"\nmodules = []\n')
    return path


def exact_worse(cmp_json, limit):
    """compare's exact rows (--json) where B executes more than `limit` instructions than A, per call
    or per operation, beyond the spread (the verdict says "more"); calls per operation are not
    instructions and are left out."""
    out = []
    for r in cmp_json.get("exact", {}).get("rows", []):
        d = r.get("delta")
        if r.get("metric", "").endswith("calls_per_op") or not isinstance(d, (int, float)):
            continue
        if d > limit and r.get("verdict", "").startswith("more"):
            out.append(r)
    return out


def race_summary(result_path, crashes):
    """One side of a race A/B: the race sets' figures from its result, and its kernel crashes."""
    out = {"operations": 0, "writebacks": 0, "stale_pages": 0, "damaged_pages": 0, "seconds": 0.0,
           "first_failures": [], "crashes": [{"boot": c["boot"], "crash": c["crash"], "console": c["console"]}
                                             for c in crashes]}
    if result_path:
        with open(result_path) as f:
            doc = json.load(f)
        for e in doc.get("benchmarks", []):
            sb = e.get("swapbench", {})
            if sb.get("kind") != RACE or e.get("run_type") == "aggregate":
                continue
            race = sb.get("race", {})
            for k in ("operations", "writebacks", "stale_pages"):
                out[k] += sb.get(k, 0)
            out["damaged_pages"] += race.get("damaged_pages", 0)
            out["seconds"] += race.get("seconds", 0.0)
            out["first_failures"] += race.get("first_failures", [])
    return out


def describe_race(r):
    s = (f"{r['operations']} free/reuse cycles, {r['writebacks']} pages written back in {r['seconds']:.0f} s: "
         f"{r['stale_pages']} stale, {r['damaged_pages']} damaged pages")
    if r["first_failures"]:
        s += f" (first: {r['first_failures'][0]})"
    for c in r["crashes"]:
        s += f"; boot {c['boot']}: the kernel crashed: {qemu.describe_crash(c['crash'])}"
    return s


def patch_problem(path):
    """What makes path no patch file (None: a readable, non-empty unified diff)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "no such file"
    except OSError as e:
        return e.strerror
    if stat.S_ISDIR(st.st_mode):
        return "a folder, not a patch file"
    if not stat.S_ISREG(st.st_mode):
        kind = ("a character device" if stat.S_ISCHR(st.st_mode) else "a block device" if stat.S_ISBLK(st.st_mode)
                else "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a special file")
        return f"{kind}, not a regular file"
    if st.st_size == 0:
        return "empty"
    if not os.access(path, os.R_OK):
        return "not readable by this user"
    if not build.patch_files(path):
        return "names no file (no '--- a/...' '+++ b/...' lines): not a unified diff"
    return None


def _out_problem(folder):
    """What keeps the A/B run's folder from being made later (None: it can be)."""
    if os.path.lexists(folder):
        return f"{folder}: exists; an A/B run never writes into an earlier run's folder (give a new --out, or leave " \
               "it out for results/ab-<source>-<UTC>)"
    parent = os.path.dirname(os.path.abspath(folder))
    if not os.path.isdir(parent):
        return f"{folder}: cannot make it: its parent {parent} does not exist (only the last folder is made)"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"{folder}: cannot make it: {parent} is not writable by this user"
    return None


def argument_problem(a):
    """Every argument checked before anything is fetched, unpacked, built or written: a message
    naming the one that is wrong and what would be accepted, or None."""
    if not a.patch and not a.patch_a:
        return "give --patch FILE (B = the source with it; A = the source as it is)"
    for flag, ps in (("--patch-a", a.patch_a), ("--patch", a.patch)):
        for p in ps:
            why = patch_problem(p)
            if why:
                return f"{flag} {p}: {why}; accepted: a unified diff (-p1, as git diff writes)"
    suites = [s for s in a.suite.split(",") if s.strip()]
    if not suites:
        return f"--suite '{a.suite}': no suite named; accepted: suite names, comma-separated (./swapbench list)"
    for flag, v, least in (("--boots", a.boots, 1), ("--repetitions", a.repetitions, 1), ("--timeout", a.timeout, 1),
                           ("--count-boots", a.count_boots, 1), ("--pages", a.pages, 1)):
        if v is not None and v < least:
            return f"{flag} {v}: at least {least}"
    if a.boots > a.repetitions:
        return f"--boots {a.boots} --repetitions {a.repetitions}: every boot runs at least one repetition; " \
               "need boots <= repetitions"
    why = config.smp_problem(a.smp, not a.no_count, a.contention, a.threads)
    if why:
        return why
    d = a.max_instructions_delta
    if d is not None:
        if not math.isfinite(d) or d < 0:
            return f"--max-instructions-delta {d:g}: accepted: a number of instructions, 0 or more"
        if a.no_count:
            return "--max-instructions-delta with --no-count: the limit is on counted instructions, which " \
                   "--no-count does not measure; give one"
    binary = os.environ.get("SWAPBENCH_BIN")
    if not binary or not os.access(binary, os.X_OK):
        return "SWAPBENCH_BIN names no executable: run it through ./swapbench ab"
    for suite in suites:
        m = MatrixConfig(suite=suite, backend=a.backend, compressor=a.compressor, duration=a.duration,
                         race_mechanism=a.race_mechanism, pages=suite_pages(suite, a.pages))
        why = matrix.run_options_problem(binary, m)
        if why:
            return f"suite {suite}: {why}"
    try:
        build.check_source(a.source)
    except KernelError as e:
        return f"--source {e}"
    return None


def main(a):
    why = argument_problem(a)
    if why:
        print(f"swapbench ab: {why} (nothing was fetched or built)", file=sys.stderr)
        return 2
    suites = [s for s in a.suite.split(",") if s.strip()]
    t0 = time.monotonic()
    out = _default_out(a)
    why = _out_problem(out)
    if why:
        print(f"swapbench ab: --out {why} (nothing was fetched or built)", file=sys.stderr)
        return 2
    try:
        src = _checked_source(a)
        if src is None:
            return 2
        folder = _made_folder(out, a)
        if folder is None:
            return 2
        kernels = _build_sides(src, a)
        defs = definitions(kernels, os.path.join(folder, "kernels.toml"), a.arch)
        summary = {"source": a.source, "patches_a": a.patch_a, "patches_b": a.patch, "suites": {},
                   "functions_touched_by_b": touched_functions(a.patch), "kernels": {n: kf.release for n, kf in kernels}}
        worse, found, incomplete = [], [], []
        for suite in suites:
            rc = _run_suite(a, suite, kernels, defs, os.path.join(folder, suite), summary, (worse, found, incomplete))
            if rc is not None:
                return rc
        summary["wall_seconds"] = time.monotonic() - t0
        with open(os.path.join(folder, "ab.json"), "w") as f:
            json.dump(summary, f, indent=1)
    except KernelError as e:
        print(f"swapbench ab: {e}", file=sys.stderr)
        return 1
    _print_outcome(a, summary, folder, worse, found, incomplete)
    return 1 if worse or found or incomplete else 0


def _default_out(a):
    from analysis.store import results_dir
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    label = re.sub(r"[^A-Za-z0-9._-]+", "_", os.path.basename(os.path.normpath(a.source)))
    return a.out or os.path.join(results_dir(), f"ab-{label}-{stamp}")


def _checked_source(a):
    """The kernel source with both sides' patches checked against it; None (said why) when one does
    not apply. A Debian source not yet unpacked has the patches checked against the files they
    touch before its full unpack."""
    try:
        src = build.resolve_source(a.source, patch_sets=(a.patch_a, a.patch))
        for side, ps in (("A", a.patch_a), ("B", a.patch)):
            try:
                build.check_patches(src, ps)
            except build.PatchError as e:
                raise build.PatchError(f"side {side}: {e}") from None
    except build.PatchError as e:
        print(f"swapbench ab: {e} (nothing was built)", file=sys.stderr)
        return None
    return src


def _made_folder(out, a):
    try:
        return layout(out, a.patch_a, a.patch)
    except OSError as e:
        print(f"swapbench ab: --out {e.filename}: cannot make it: {e.strerror}", file=sys.stderr)
        return None


def _build_sides(src, a):
    kernels = []
    for side, ps in (("A", a.patch_a), ("B", a.patch)):
        t = time.monotonic()
        kf = build.build_kernel(src, ps, _say, arch=a.arch, extra=guest_options(a))
        _say(f"kernel {side} ({len(ps)} patches) ready in {time.monotonic() - t:.0f} s: {kf.image}")
        # Named by the build (bzImage hash): the count pass caches function addresses per kernel name.
        kernels.append((f"{side}-{kf.version.split('+')[-1]}", kf))
    return kernels


def _run_suite(a, suite, kernels, defs, out, summary, verdicts):
    """One suite booted on both sides, then compared; an exit status when the A/B run must stop."""
    worse, found, incomplete = verdicts
    m = MatrixConfig(kernels=",".join(n for n, _ in kernels), suite=suite, repetitions=a.repetitions,
                     boots=a.boots, backend=a.backend, compressor=a.compressor,
                     pages=suite_pages(suite, a.pages), duration=a.duration,
                     race_mechanism=a.race_mechanism, no_ftrace=True, no_count=a.no_count,
                     count_boots=a.count_boots, timeout=a.timeout, out=out, definitions=defs,
                     smp=a.smp, contention=a.contention, threads=a.threads)
    written, crashes, infra, hard = [], [], [], []
    rc = matrix.run(m, written, crashes, infra, hard)
    if rc not in (0, 1):
        return rc
    by_side = {os.path.basename(p)[0]: p for p in written}  # result files start with the kernel's name
    # Only a kernel crash or pages that came back wrong count against a side; a boot lost to the
    # emulator or the host (infra), or a matrix that stopped on an error, is no finding.
    entry = {"a": by_side.get("A"), "b": by_side.get("B"), "crashes": crashes, "hard_failures": bool(hard),
             "infrastructure": infra}
    summary["suites"][suite] = entry
    if a.contention:
        entry["lock_contention"] = {side: _lock_contention(by_side.get(side)) for side in "AB"}
    if hard:
        found.append(suite)
    elif rc == 1:
        incomplete.append(suite)
    if _races(suite) or crashes:
        entry["race"] = {side: race_summary(by_side.get(side), [c for c in crashes
                                                               if c["kernel"].startswith(side + "-")])
                         for side in "AB"}
        for side in "AB":
            print(f"race, {side}: {describe_race(entry['race'][side])}", flush=True)
    if not (entry["a"] and entry["b"]):
        return None  # one side has no result (its kernel crashed in every boot): nothing to compare
    return _compare_suite(a, suite, entry, out, worse)


def _lock_contention(result_path):
    """A side's lock_contention block (contention.summary), or None without a result or a pass."""
    if not result_path:
        return None
    with open(result_path) as f:
        return json.load(f)["context"]["swapbench"].get("lock_contention")


def _compare_suite(a, suite, entry, out, worse):
    ra, rb = entry["a"], entry["b"]
    cmp_txt, cmp_json = os.path.join(out, "compare.txt"), os.path.join(out, "compare.json")
    env = dict(os.environ)
    c = subprocess.run([sys.executable, "-m", "analysis", "compare", ra, rb, "--json", cmp_json,
                        "--ignore-invalid"], capture_output=True, text=True, env=env)
    with open(cmp_txt, "w") as f:
        f.write(c.stdout + c.stderr)
    print(f"\n== {suite}: A {os.path.basename(ra)} vs B {os.path.basename(rb)}\n{c.stdout}", flush=True)
    if c.returncode not in (0, 1):
        print(c.stderr, file=sys.stderr)
        return c.returncode
    cj = json.load(open(cmp_json))
    entry.update({"compare": cmp_json, "compare_exit": c.returncode})
    if a.max_instructions_delta is not None:
        worse += [(suite, r) for r in exact_worse(cj, a.max_instructions_delta)]
    return None


def _print_outcome(a, summary, folder, worse, found, incomplete):
    touched = summary["functions_touched_by_b"]
    print(f"functions B's patches touch: {', '.join(touched) or '(none found in the hunk headers)'}")
    print(f"A/B run folder: {folder} ({summary['wall_seconds']:.0f} s from start to verdict)")
    for suite in found:
        print(f"HARD FAILURE in suite {suite}: a guest kernel crashed or pages came back wrong (above; ab.json)")
    for suite in incomplete:
        print(f"INCOMPLETE suite {suite}: the matrix did not finish (an infrastructure failure or an error, above; "
              "ab.json): not a finding against A or B")
    for suite, r in worse:
        print(f"B worse than --max-instructions-delta {a.max_instructions_delta:g}: {suite} {r['set']} "
              f"{r['metric']} {r['delta']:+g}")

"""swapbench-capacity, the C++ page sampler (bench/capacity/): found, run with its JSON kept in
memory and signals passed on, for the pages file and for the host's --validate."""
import json
import os
import signal
import subprocess
import sys

from analysis import environment
from analysis.capacity.pages import checked_pages
from analysis.errors import ResultError

# The checkout this package is in (analysis/capacity/ -> the top).
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

def sampler_binary():
    """swapbench-capacity: $SWAPBENCH_CAPACITY_BIN, else beside $SWAPBENCH_BIN (the front door sets
    it), else this checkout's build. It reads other processes' memory and, with --validate, borrows
    the machine: as root, a program named by the environment must be root's alone
    (analysis/environment.py), or ResultError."""
    named = environment.from_env("SWAPBENCH_CAPACITY_BIN", "program")
    if named:
        return named
    suite = environment.from_env("SWAPBENCH_BIN", "program")
    if not suite:
        return os.path.join(TOP, "build", "bench", "swapbench-capacity")
    beside = os.path.join(os.path.dirname(suite), "swapbench-capacity")
    why = environment.untrusted_reason(beside, "program") if os.geteuid() == 0 else None
    if why:
        raise ResultError(f"SWAPBENCH_BIN={os.environ['SWAPBENCH_BIN']}: the sampler beside it: {why}; a run as root "
                          "starts only programs that root alone can change")
    return beside


class SamplerExit(Exception):
    """The sampler (or a signal) ended the verb: exit with code; message, when there is one, is the
    one line to print (a sampler that refused or failed has printed its own line already)."""

    def __init__(self, code, message=None):
        super().__init__(message)
        self.code, self.message = code, message


def run_child(cmd, pass_fds=()):
    """Runs swapbench-capacity with its standard output (JSON) kept in memory and returned, never in
    a file; its standard error passes through (its refusals are one line naming the input, exit 2).
    SIGINT, SIGTERM and SIGHUP sent to this process are passed on to it and then waited for: a
    --validate sampler gives the machine back before it exits (its own signal handling), and a
    sampler left running after its caller died would go on reading another process's memory."""
    got = []
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, pass_fds=pass_fds)

    def forward(signum, _frame):
        got.append(signum)
        if p.poll() is None:
            p.send_signal(signum)

    caught = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    before = {s: signal.signal(s, forward) for s in caught}
    try:
        out, _ = p.communicate()
    finally:
        for s, h in before.items():
            signal.signal(s, h)
    if got:
        raise SamplerExit(128 + got[0], f"{signal.Signals(got[0]).name}: stopped (the sampler ended first, "
                                        f"status {p.returncode})")
    if p.returncode < 0:
        raise SamplerExit(1, f"{cmd[0]} was killed by {signal.Signals(-p.returncode).name}"
                             + ("; as root, ./swapbench restore gives back what its validation borrowed"
                                if "--validate" in cmd else ""))
    if p.returncode != 0:
        raise SamplerExit(p.returncode)  # it said why, in one line
    return out


def json_of(out, binary):
    try:
        return json.loads(out)
    except ValueError as e:
        raise RuntimeError(f"{binary} wrote no JSON on its standard output ({e})") from None


def run_sampler(args, raw_fd=None):
    """The pages file (per-page lengths, no page contents) as a dict; with raw_fd, the sampled pages
    themselves are written into that descriptor (a memfd), for --validate."""
    binary = sampler_binary()
    cmd = [binary]
    if raw_fd is not None:
        cmd += ["--save-pages-fd", str(raw_fd)]
    if args.pid:
        cmd += ["--pid", args.pid]
    for flag in ("cgroup", "file", "core"):
        for v in getattr(args, flag):
            cmd += [f"--{flag}", v]
    cmd += ["--all"] if args.all else ["--sample", str(args.sample)]
    if args.seed is not None:
        cmd += ["--seed", str(args.seed)]
    if args.compressor:
        cmd += ["--compressor", args.compressor]
    doc = json_of(run_child(cmd, () if raw_fd is None else (raw_fd,)), binary)
    return checked_pages(doc, f"{binary}'s output")


def run_validation(raw_fd, compressors=None):
    """The kernel's figures for the pages in raw_fd (a memfd: run_sampler), from `swapbench-capacity
    --validate`, which reads them through its inherited copy of the descriptor."""
    cmd = [sampler_binary(), "--validate", f"/dev/fd/{raw_fd}"]
    if compressors:
        cmd += ["--compressor", ",".join(compressors)]
    return json_of(run_child(cmd, (raw_fd,)), cmd[0])


def remove_old_page_folders(tmp=None):
    """Folders /tmp/swapbench-capacity-* of this user: up to 2026-12-07 capacity kept the sampled
    pages there (pages.raw, another process's memory), and a SIGTERM or kill -9 left them. Nothing
    makes them now (the pages live in a memfd); any found is a leftover, removed and named.
    Only real folders of this user (lstat: a link or another user's folder is left alone)."""
    import shutil
    import stat
    import tempfile
    tmp = tmp or tempfile.gettempdir()
    for name in sorted(os.listdir(tmp)):
        path = os.path.join(tmp, name)
        if not name.startswith("swapbench-capacity-"):
            continue
        st = os.lstat(path)
        if stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid():
            print(f"swapbench capacity: removing {path}: an earlier capacity left another process's pages there",
                  file=sys.stderr)
            shutil.rmtree(path, ignore_errors=True)

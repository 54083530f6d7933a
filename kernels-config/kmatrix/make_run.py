"""make for a kernel build: its whole output kept in a log, a progress line every few seconds (in
place on a terminal) naming what make is doing, and the log's tail in the error when it fails."""
import os
import re
import subprocess
import sys
import threading
import time

from kmatrix.defs import KernelError

TAIL_LINES = 40         # of build.log, in the error of a failed build
PROGRESS_EVERY_S = 10   # a progress line this often when stderr is not a terminal


def what(line):
    """What make is doing, from one line of its quiet output ('CC mm/zswap.o'), or None."""
    m = re.match(r"^\s+([A-Z][A-Z0-9_-]{1,12})\s+(\S+)", line)
    return f"{m.group(1)} {m.group(2)}" if m else None


def elapsed(s):
    s = int(s)
    return f"{s // 60}m{s % 60:02d}s"


def tail(path, n=TAIL_LINES):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def make(args, log, say, label, env):
    """Runs make, all of its output to log; a progress line (elapsed, last step) every ~10 s or, on
    a terminal, updated in place. KernelError with the log's tail if make fails."""
    tty = sys.stderr.isatty()
    state = {"what": "starting", "done": False}
    t0 = time.monotonic()

    def ticker():
        every = 1 if tty else PROGRESS_EVERY_S
        while not stop.wait(every):
            msg = f"{label}: {elapsed(time.monotonic() - t0)}  {state['what']}"
            if tty:
                sys.stderr.write("\r\033[K" + msg[:150])
                sys.stderr.flush()
            else:
                say(msg)

    stop = threading.Event()
    th = threading.Thread(target=ticker, daemon=True)
    th.start()
    try:
        with open(log, "a") as lf:
            lf.write(f"\n$ make {' '.join(args)}\n")
            lf.flush()
            p = subprocess.Popen(["make", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 errors="replace", env=env, start_new_session=True)
            try:
                for line in p.stdout:
                    lf.write(line)
                    w = what(line)
                    if w:
                        state["what"] = w
                rc = p.wait()
            except BaseException:
                os.killpg(p.pid, 15)
                p.wait()
                raise
    finally:
        stop.set()
        th.join()
        if tty:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
    dt = time.monotonic() - t0
    if rc != 0:
        raise KernelError(f"{label} failed (make exit {rc}) after {elapsed(dt)}; full log: {log}\n"
                          f"last {TAIL_LINES} lines:\n{tail(log)}")
    return dt

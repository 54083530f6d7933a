"""A crash report of the suite's binary (workloads/diagnostics/crash_report.h) found in a guest's log, with the
frames inside the binary named: the guest runs a copy of the host's binary, so `addr2line` on the
host's file turns each swapbench+OFFSET into a function. Which host file is the guest's is decided
by the build ID the report prints, never assumed: a wrong binary would name wrong functions."""
import os
import re
import subprocess

BEGIN = "swapbench: crash report:"
END = "swapbench: end of crash report"
_FRAME = re.compile(r"^swapbench:\s+#(\d+) swapbench\+(0x[0-9a-f]+)")
_BUILD_ID = re.compile(r"build ID ([0-9a-f]+)")


def guest_binaries():
    """The host files a guest's binary is a copy of: the suite's build for amd64 guests, the
    cross-built one for arm64 guests (the matrix's SWAPBENCH_BIN and SWAPBENCH_BIN_AARCH64)."""
    return [os.environ.get("SWAPBENCH_BIN"), os.environ.get("SWAPBENCH_BIN_AARCH64")]


def reports(text):
    """Every crash report in text, each a list of its lines (the last one cut short if the log is)."""
    out, cur = [], None
    for line in text.splitlines():
        if line.startswith(BEGIN) and cur is None:
            cur = []
        if cur is not None:
            cur.append(line)
            if line.startswith(END):
                out.append(cur)
                cur = None
    if cur:
        out.append(cur + ["(the log ends here: the rest of the report was not written)"])
    return out


def build_id(binary):
    """The GNU build ID of an ELF file as hex, or None."""
    try:
        r = subprocess.run(["readelf", "-n", binary], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"Build ID: ([0-9a-f]+)", r.stdout)
    return m.group(1) if m else None


def _names(binary, offsets):
    """addr2line's function name for each offset (None where it cannot say)."""
    try:
        r = subprocess.run(["addr2line", "-C", "-f", "-e", binary] + offsets, capture_output=True, text=True,
                           timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return [None] * len(offsets)
    lines = r.stdout.splitlines()
    if r.returncode != 0 or len(lines) != 2 * len(offsets):
        return [None] * len(offsets)
    return [None if f == "??" else f for f in lines[0::2]]


def symbolize(report, binaries):
    """The report's lines with ' <- function' after each frame inside the binary, named from the
    candidate binary whose build ID is the report's; or the lines and a sentence saying why not."""
    m = next((_BUILD_ID.search(l) for l in report if _BUILD_ID.search(l)), None)
    if not m:
        return report + ["(frames not named: the report gives no build ID)"]
    given = [b for b in binaries if b]
    binary = next((b for b in given if build_id(b) == m.group(1)), None)
    if not given:
        return report + ["(frames not named: no binary to name them from; SWAPBENCH_BIN is not set)"]
    if not binary:
        return report + [f"(frames not named: none of {', '.join(given)} has build ID {m.group(1)})"]
    frames = [(i, _FRAME.match(l)) for i, l in enumerate(report)]
    frames = [(i, fm) for i, fm in frames if fm]
    # Past frame 0 an address is a return address, one past the call: the call is the byte before.
    offsets = [hex(int(fm.group(2), 16) - (1 if int(fm.group(1)) > 0 else 0)) for _, fm in frames]
    names = _names(binary, offsets) if offsets else []
    out = list(report)
    for (i, _), name in zip(frames, names):
        if name:
            out[i] += f" <- {name}"
    return out + [f"(frames named by addr2line from {binary})"]


def explain(text, binaries):
    """The crash reports in a guest log, frames named, as one block of text; "" when there is none."""
    return "\n".join("\n".join(symbolize(r, binaries)) for r in reports(text))


# Kernel lines that bear on a user-space crash during swapping: a swap page read that failed or
# came back wrong, a bad swap entry, a kernel warning or oops, memory running out.
_KERNEL_CLUES = re.compile(r"swap|zswap|segfault|I/O error|Oops|BUG|WARNING|bad page|out of memory|oom-kill",
                           re.IGNORECASE)


def kernel_clues(dmesg, most=20):
    """The last `most` lines of a guest's dmesg that may explain a crash of the suite."""
    return [l for l in dmesg.splitlines() if _KERNEL_CLUES.search(l)][-most:]


def suite_failure(tag, rc, log, binaries, dmesg=""):
    """What the matrix says when the suite exited rc in a guest without a result: the log's tail, the
    guest kernel's lines about swap and faults, then any crash report in full with its frames named.
    The report last, so the tail of a test's output (often all a CI log keeps) shows it however long
    the log before it was."""
    msg = f"{tag} the suite exited {rc} in the guest:\n{log[-3000:]}"
    report = explain(log, binaries)
    if not report:
        return msg
    clues = kernel_clues(dmesg)
    msg += f"\n{tag} the guest kernel's lines on swap and faults: " + ("\n" + "\n".join(clues) if clues else "none")
    return msg + f"\n{tag} the crash, frames named on the host:\n{report}"

"""The emulator's self-tests, as the host reads them from a guest's results: a boot whose emulator
failed one gives no figure at all (EmulatorFault), never a kernel result.

The cmpxchg16b flags gate (x86-64 guests): before anything else, the guest's /init runs
`swapbench cx16-selftest` (bench/cx16_gate.h), which checks the flags after a cmpxchg16b that
follows a flag-setting instruction. QEMU before 8.0 gets them wrong under TCG: its helper computes
them from a lazy flags state the translator did not write back, so they come from the previous
instruction's operand. Linux 6.x's SLUB runs cmpxchg16b on every allocation; the garbage reaches
EFLAGS and the guest double-faults in kmem_cache_alloc (VM set: #GP while delivering an interrupt)
or copies backwards (DF set). Seen in 2 of 46 counted 6.12 boots under Debian 12's QEMU 7.2."""
import os

from kmatrix.defs import KernelError

CX16_BUG = ("QEMU's TCG cmpxchg16b flags bug (before 8.0, helper_cmpxchg16b_unlocked computes the flags from a "
            "stale lazy flags state; Linux's SLUB then runs on garbage EFLAGS and double-faults)")
CX16_FIX = ("fix: QEMU >= 8.0; the suite fetches bookworm-backports' qemu-system-x86 10.0.2 into its kernel cache "
            "by itself (unset SWAPBENCH_QEMU_X86_64 to use it)")


class EmulatorFault(KernelError):
    """The emulator failed a self-test (a gate): a fault of QEMU, not of the kernel under test."""


def read_gate(out, name):
    """A gate's outcome in the guest's results folder out, {rc, report}, or None when it did not run."""
    p = os.path.join(out, f"{name}-rc")
    if not os.path.exists(p):
        return None
    with open(p) as f:
        rc = f.read().strip()
    report = os.path.join(out, name)
    with open(report, errors="replace") if os.path.exists(report) else open(os.devnull) as f:
        return {"rc": rc, "report": f.read().strip()}


def check_cx16(out, tag, arch, version_line):
    """The cmpxchg16b gate of an x86-64 boot: its record {passed, skipped, report} for the result,
    or EmulatorFault when it failed or did not run (an arm64 boot: None)."""
    if arch != "amd64":
        return None
    g = read_gate(out, "cx16-gate")
    if g is None:
        raise EmulatorFault(f"{tag} the guest ran no cmpxchg16b flags gate (no cx16-gate-rc in its results), so "
                            f"its emulator ({version_line}) is unproven and nothing from it counts")
    if g["rc"] not in ("0", "77"):
        raise EmulatorFault(f"{tag} emulator fault, not a kernel result: {version_line} fails the cmpxchg16b flags "
                            f"gate, so nothing was measured: {g['report'] or 'exit ' + g['rc']}; this is "
                            f"{CX16_BUG}; {CX16_FIX}")
    return {"passed": g["rc"] == "0", "skipped": g["rc"] == "77", "report": g["report"]}

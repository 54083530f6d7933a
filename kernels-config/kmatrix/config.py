"""What one matrix run is asked to do, as one typed value: `./swapbench matrix` builds it from its
flags, ab and calibrate --exact build it for the suites they run. The defaults are stated here
once, and the matrix flags take theirs from it."""
import argparse
from dataclasses import dataclass, fields
from typing import Optional

from analysis import manifest

_SUITES = manifest.load().suites
DEFAULT_KERNELS = "debian-6.1,debian-6.12"
DEFAULT_SUITE = manifest.load().suite("quick").name
# The MTE suites set and read every granule's tag (256 per page) in emulation under TCG, which is
# why the binary declares them a smaller guest size than the others.
MTE_SUITES = tuple(s.name for s in _SUITES.values() if s.mte)
# The swap disk of a boot whose suite sizes its own region holds the largest default region.
LARGEST_GUEST_PAGES = max(s.guest_pages or 0 for s in _SUITES.values())


def default_pages(suite):
    """Pages per set in guests when --pages is not given: the suite's guest size, smaller than on a
    host because emulated faults are slow. None: the suite sizes its own region (the race: provoked
    only in a small region), or no such suite (the binary refuses it before anything boots)."""
    s = _SUITES.get(suite)
    return s.guest_pages if s else None


@dataclass(frozen=True)
class MatrixConfig:
    kernels: str = DEFAULT_KERNELS
    suite: str = DEFAULT_SUITE
    # Sized for TCG, where a fault costs 10-30x native: two kernels' quick suite at 16 MiB and 2
    # repetitions take about 4 minutes here. For verdicts, raise repetitions (compare warns below 9).
    repetitions: int = 2
    boots: int = 2
    backend: Optional[str] = None
    compressor: Optional[str] = None
    duration: Optional[float] = None
    race_mechanism: Optional[str] = None
    pages: Optional[int] = None        # None: default_pages(suite)
    thp: bool = False
    # Software events: TCG guests have no hardware PMU.
    events: str = "perf::task-clock,perf::major-faults"
    test_corrupt_page: Optional[int] = None
    retry_crash: bool = False
    no_ftrace: bool = False
    no_count: bool = False
    count_only: bool = False
    # Two counted boots: the exact metric's claim is that counts repeat from boot to boot, and the
    # spread between boots is what a difference must exceed to count.
    count_boots: int = 2
    accel: str = "auto"
    # One vCPU unless asked: the count pass counts one instruction stream (its markers and counters
    # are one vCPU's), and a single-threaded set gains nothing from a second CPU.
    smp: int = 1
    # The lock contention pass after the timed run (kmatrix/contention.py); needs smp >= 2.
    contention: bool = False
    # run's --threads in the guest: 1, as in run (the uncontended cost); more is for --smp guests.
    threads: int = 1
    timeout: int = 900
    out: Optional[str] = None
    definitions: Optional[str] = None
    guest_files: Optional[str] = None

    @classmethod
    def from_args(cls, args):
        """From the matrix verb's parsed flags (add_arguments): every field, by name."""
        return cls(**{f.name: getattr(args, f.name) for f in fields(cls)})


_D = MatrixConfig()


def _pages_help():
    q = _SUITES[DEFAULT_SUITE]
    own = [s.name for s in _SUITES.values() if s.guest_pages is None]
    mte = sorted({_SUITES[n].guest_pages for n in MTE_SUITES})
    return (f"as in run (default: the suite's guest size, {q.guest_pages} for {DEFAULT_SUITE}, half its {q.pages}: "
            f"emulated faults are slow; {', '.join(map(str, mte))} for {', '.join(MTE_SUITES)}, whose tags are "
            f"emulated too; none for {', '.join(own)}: they size their own region or take no --pages)")


def add_arguments(p):
    p.add_argument("--kernels", default=_D.kernels,
                   help=f"comma-separated names from kernels-config/kernels.toml (default {_D.kernels})")
    p.add_argument("--suite", default=_D.suite,
                   help=f"suite run in every guest (default {_D.suite}; accepted: {', '.join(_SUITES)})")
    p.add_argument("--repetitions", type=int, default=_D.repetitions,
                   help="repetitions per set and kernel, over all boots (default %(default)s)")
    p.add_argument("--boots", type=int, default=_D.boots,
                   help="boots per kernel; repetitions are split over them, kernels alternating A B A B "
                        "(default %(default)s: boot-to-boot variation enters the statistics)")
    p.add_argument("--backend", help="as in run (default: the suite's)")
    p.add_argument("--compressor", help="as in run (default: every compressor the guest kernel accepts)")
    p.add_argument("--duration", type=float, help="as in run: the race suite's seconds (default: run's)")
    p.add_argument("--race-mechanism", help="as in run: how the race suite forces writeback (default: run's)")
    p.add_argument("--pages", type=int, help=_pages_help())
    p.add_argument("--thp", action="store_true",
                   help="as in run: transparent huge pages for the region (the mte suite's THP case on arm64)")
    p.add_argument("--events", default=_D.events, help="counters (default: software events; TCG guests have no "
                                                       "hardware PMU)")
    # Tests only: passed to run in the guest (a damaged page, or for the mte suite a wrong tag, that
    # the checks must name).
    p.add_argument("--test-corrupt-page", type=int, help=argparse.SUPPRESS)
    p.add_argument("--retry-crash", action="store_true",
                   help="boot again, once, after a guest kernel crash (for tests whose subject is the suite on a "
                        "stock kernel): the crash stays in the result's failed_boots, is printed, and still ends "
                        "in exit 1. Infrastructure failures (emulator I/O stall, QEMU error, host out of memory, "
                        "timeout without a kernel error) are always retried once and never count as the kernel's")
    p.add_argument("--no-ftrace", action="store_true", help="skip the traced pass (function_graph) in each kernel")
    p.add_argument("--no-count", action="store_true",
                   help="skip the count pass (guest instructions per operation and per function, by a QEMU plugin)")
    p.add_argument("--count-only", action="store_true",
                   help="only the count pass: no timed boots (the result's sets carry counts, not timings)")
    p.add_argument("--count-boots", type=int, default=_D.count_boots,
                   help="counted boots per kernel (default %(default)s: the boot-to-boot spread is part of the "
                        "verdict)")
    p.add_argument("--accel", default=_D.accel, choices=["auto", "kvm", "tcg"],
                   help="auto: KVM if a probe guest boots under it, else TCG")
    p.add_argument("--timeout", type=int, default=_D.timeout,
                   help="hard limit per boot in seconds (default %(default)s)")
    add_smp_arguments(p)
    p.add_argument("--out", metavar="DIR", help="one result file per kernel (default: results/)")
    p.add_argument("--definitions", metavar="FILE",
                   help="kernel definitions (default: kernels-config/kernels.toml); e.g. your own build as "
                        "source = \"custom\"")
    p.add_argument("--guest-files", metavar="DIR",
                   help="also keep each boot's raw guest files (console log, dmesg, ftrace trace) under DIR")


def add_smp_arguments(p):
    """--smp and --contention, the same in matrix and ab."""
    p.add_argument("--smp", type=int, default=_D.smp,
                   help="vCPUs per guest (default %(default)s: the count pass counts one vCPU's instruction stream, "
                        "so more needs --no-count; under TCG each vCPU is a host thread of its own)")
    p.add_argument("--contention", action="store_true",
                   help="after the timed run, a lock contention pass: one loader per vCPU swapping through one "
                        "zswap tree and swap device, with every contended spin-lock acquisition traced and named "
                        "by its lock (needs --smp 2 or more)")
    p.add_argument("--threads", type=int, default=_D.threads,
                   help="as in run: threads of the swap-in, swap-out and writeback sets in the guest (default "
                        "%(default)s; more than 1 needs --no-count, takes no --events, and wants --smp as large: "
                        "threads beyond the vCPUs share them, and the result says so)")


def smp_problem(smp, counted, contention, threads=1):
    """What is wrong with --smp, --contention and --threads for a run with or without the count pass;
    None if nothing."""
    if smp < 1:
        return f"--smp {smp}: at least 1"
    if threads < 1:
        return f"--threads {threads}: at least 1"
    if threads > 1 and counted:
        return (f"--threads {threads} with the count pass: a fault's count is the instructions between its "
                "thread's two markers, and another thread's work on the same vCPU would fall between them; "
                "give --no-count, or --threads 1")
    if smp > 1 and counted:
        return (f"--smp {smp} with the count pass: its instruction counts belong to one vCPU's stream between "
                "markers, and with several vCPUs the others' work enters a region at moments the markers do not "
                "see (the plugin refuses such a guest); give --no-count, or --smp 1")
    if contention and smp < 2:
        return "--contention with one vCPU: a spin lock cannot be contended; give --smp 2 or more"
    return None

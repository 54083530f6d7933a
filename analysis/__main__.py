"""The analysis verbs of ./swapbench (run as: /usr/bin/python3 -m analysis VERB ...)."""
import argparse
import os
import sys

from analysis import manifest

# Every verb takes its kind, suite and metric names from the manifest as it is imported: a missing
# one, or one of another version, is bad input (exit 2 naming the file), not a traceback.
manifest.require("swapbench")

from analysis import calibrate, capacity, compare, environment, history, report  # noqa: E402
from analysis.errors import OutputError, ResultError  # noqa: E402

EXIT_ERROR = 2  # bad input or an output that cannot be written, as argparse uses for bad flags

EXAMPLES = {
    "compare": """examples:
  ./swapbench compare results/base.json results/patched.json
  ./swapbench compare A.json B.json --metric p99 --markdown ab.md --json ab.json
  ./swapbench compare A.json B.json --threshold 2 --alpha 0.01
  ./swapbench compare --json ab.json base1.json base2.json base3.json -- patched1.json patched2.json patched3.json
  ./swapbench compare results/base-runs/ results/patched-runs/      every .json in each folder is one run
(with several runs per side: a hierarchical bootstrap over runs, then repetitions; options before the --)
exit status: 0 no regression, 1 a set slower beyond the threshold or a failed check (stale pages),
2 an error (bad input, refused sets, an output that cannot be written)""",
    "calibrate": """examples:
  ./swapbench calibrate  (as root)               page-interleaved arms: measure (about 30 s), judge, store
  ./swapbench calibrate --design sets            the earlier design: arms as separate sets (about a minute)
  ./swapbench calibrate --compressor deflate
  ./swapbench calibrate --from results/calibration/run-20261122T010000Z.json   re-analyse, no measuring""",
    "report": """examples:
  ./swapbench report results/myhost-6.18.44-*.json -o /tmp/report      one run: CDFs, histograms, costs
  ./swapbench report base.json patched.json -o /tmp/ab                 plus an A/B chart against the first""",
    "capacity": """examples:
  ./swapbench capacity --pid 1234                     16384 sampled pages of a process, every compressor
  ./swapbench capacity --cgroup /sys/fs/cgroup/memory/db --sample 50000 --json /tmp/db.json
  ./swapbench capacity --core /var/crash/core.1234 --kernel-version 6.1     as 6.1 would store them
  ./swapbench capacity --pages /tmp/pages.json --kernel-version 6.12 --chain-size 16
  ./swapbench capacity --file /var/lib/db/table.dat --all --compressor lzo-rle,zstd
  ./swapbench capacity --pid 1234 --validate                 (root) checked against this kernel's zswap and zram
  ./swapbench capacity --pid 1234 --sample 4096 --validate --kernels debian-6.12,debian-6.1
      the sampled pages carried into Debian 6.12 and 6.1 guests (QEMU, TCG here): lz4, zstd, lzo, deflate through
      zswap with zsmalloc, zbud and z3fold (where the kernel has them) and zram, against each kernel's model
  ./swapbench capacity --file big.bin --validate --kernels debian-6.1 --zpool z3fold --compressor lz4
exit status: 0 ok, 1 a failure, 2 bad input (a pid that does not exist, a non-ELF core, ...)""",
    "history": """examples:
  ./swapbench history                               zswap-lzo swap-in p50 over every result in results/
  ./swapbench history results/ --set swapin/disk/none/ratio2/random --metric p99 -o /tmp/disk-p99.png
  ./swapbench history --mix                         put machines and accelerators on one axis (not advised)""",
}


def build_parser():
    p = argparse.ArgumentParser(prog="swapbench", description="swapbench analysis verbs")
    sub = p.add_subparsers(dest="verb", required=True)
    for name, mod, text in (("compare", compare, "is B's difference from A real? (statistics, verdicts)"),
                            ("calibrate", calibrate, "this machine's A/A false-positive rate and minimum detectable effect"),
                            ("report", report, "HTML report with PNG plots from result files"),
                            ("history", history, "one metric across kernels and dates"),
                            ("capacity", capacity, "what compressed swap would save on real pages, per compressor and allocator")):
        sp = sub.add_parser(name, help=text, description=text, epilog=EXAMPLES[name],
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(sp)
        sp.set_defaults(main=mod.main)
    return p


def main(argv=None, capacity_guests=None):
    """capacity_guests: the validator that boots `capacity --validate --kernels` guests, handed in by
    kernels-config/kmatrix (analysis never imports it); without one, --kernels is refused."""
    p = build_parser()
    argv, side_b = compare.split_sides(sys.argv[1:] if argv is None else argv)
    args = p.parse_args(argv)  # bad flags: argparse prints usage and exits 2, our error status
    if args.verb == "compare":
        args.side_b = side_b
    if args.verb == "capacity":
        args.main = capacity.with_guests(capacity_guests)
    try:
        environment.check_all()  # a root run's programs and folders, before anything happens
        return args.main(args)
    except (ResultError, OutputError) as e:
        print(f"swapbench {args.verb}: {e}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # stdout closed early (| head): say so once, and keep Python from a second error at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(f"swapbench {args.verb}: standard output closed before the end; output incomplete", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())

"""Kernel verbs of ./swapbench (run as: /usr/bin/python3 -m kmatrix VERB ..., with kernels-config/ on
PYTHONPATH): `check --kernel NAME`, `matrix`, `ab`, `calibrate-exact`, and `capacity` (analysis's
verb with the guests' validator)."""
import argparse
import sys

from analysis import manifest

# The matrix takes its suites' guest sizes from the manifest as it is imported: a missing one, or
# one of another version, is bad input (exit 2 naming the file), not a traceback.
manifest.require("swapbench")

from kmatrix import ab, calibrate_exact, check, config, matrix  # noqa: E402

EXAMPLES = {
    "check": """examples:
  ./swapbench check --kernel debian-6.12      fetches the package (cache) and reads its config
  ./swapbench check --kernel running""",
    "matrix": """examples:
  ./swapbench matrix                                         Debian 6.1 and 6.12, quick suite, under TCG here
  ./swapbench matrix --kernels debian-6.12 --compressor lz4,zstd --pages 2048 --repetitions 6 --boots 3
  ./swapbench compare results/debian-6.1-*.json results/debian-6.12-*.json   across releases (same accelerator)
  ./swapbench matrix --count-only --kernels debian-6.12       only guest instruction counts (QEMU plugin)""",
    "ab": """examples:
  ./swapbench ab --source debian-6.12-source --patch my.patch          A = the source, B = with my.patch
  ./swapbench ab --source ~/linux --patch a.patch --patch b.patch --suite writeback --max-instructions-delta 0
  ./swapbench ab --source debian-6.12-source --patch-a base-fix.patch --patch base-fix.patch --patch mine.patch
  ./swapbench ab --source debian-6.12-source --suite race --duration 30 --no-count
      --patch-a kernels-config/patches/race-window-6.12.patch --patch kernels-config/patches/race-window-6.12.patch
      --patch kernels-config/patches/no-recheck-6.12.patch         the writeback race: A must be clean, B caught
  ./swapbench ab --source debian-6.12-source --arch arm64 --no-count --suite mte --compressor lz4
      --patch kernels-config/patches/restore-after-free-6.12.patch   arm64 MTE: lost tags must be caught on B""",
    "calibrate-exact": """examples:
  ./swapbench calibrate --exact                       Debian 6.12, two counted boots: A/A and +8/+64/+512 instructions
  ./swapbench calibrate --exact --kernel debian-6.1""",
}


def _front_door_helpers(argv):
    """Two questions ./swapbench asks before building: `arches MATRIX-ARGS` (the architectures of
    the kernels a matrix would boot, one a line; a name it does not know is left for the matrix to
    refuse) and `cross-sysroot` (the arm64 libraries unpacked for the cross build; prints the path);
    and one the tests ask: `source-files SOURCE PATH...` (those files of a Debian kernel source,
    fetched into the kernel cache if need be; prints the tree's path; source_files.py)."""
    from kmatrix.defs import KernelError, load_defs
    if argv[0] == "source-files":
        from analysis.errors import ResultError
        from kmatrix.source_files import source_files
        try:
            print(source_files(argv[1], argv[2:]))
        except (KernelError, ResultError) as e:
            print(f"swapbench: {e}", file=sys.stderr)
            return 1
        return 0
    if argv[0] == "arches":
        p = argparse.ArgumentParser(add_help=False)
        p.add_argument("--kernels", default=config.DEFAULT_KERNELS)
        p.add_argument("--definitions")
        p.add_argument("--arch")  # ab: the architecture it builds for
        a, _ = p.parse_known_args(argv[1:])
        if a.arch:
            print(a.arch)
            return 0
        try:
            defs = load_defs(a.definitions) if a.definitions else load_defs()
        except KernelError:
            return 0
        print("\n".join(sorted({defs[k].arch for k in a.kernels.split(",") if k in defs})))
        return 0
    from kmatrix import arm64
    try:
        print(arm64.ensure_sysroot())
    except KernelError as e:
        print(f"swapbench: {e}", file=sys.stderr)
        return 2
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("arches", "cross-sysroot", "source-files"):
        return _front_door_helpers(argv)
    if argv and argv[0] == "capacity":
        # analysis's verb, with this side's guest validator handed in for --validate --kernels.
        from analysis.__main__ import main as analysis_main
        from kmatrix import capacity
        return analysis_main(argv, capacity_guests=capacity)
    p = argparse.ArgumentParser(prog="swapbench")
    sub = p.add_subparsers(dest="verb", required=True)
    for name, mod, text in (("check", check, "what each benchmark can do on a kernel, from its config"),
                            ("matrix", matrix, "run the suite on several kernels under QEMU"),
                            ("ab", ab, "a patch's cost: kernels built without and with it, booted A B A B, "
                                       "compared exactly (instructions) and in time"),
                            ("calibrate-exact", calibrate_exact,
                             "prove the exact metric: A/A and known instruction deltas in counted guests")):
        sp = sub.add_parser(name, help=text, description=text, epilog=EXAMPLES[name],
                            formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(sp)
        sp.set_defaults(main=mod.main)
    args = p.parse_args(argv)
    from analysis import environment
    from analysis.errors import ResultError
    try:
        # A root run's programs and folders named by the environment, before anything happens.
        environment.check_all()
    except ResultError as e:
        print(f"swapbench {args.verb}: {e}", file=sys.stderr)
        return 2
    return args.main(args)


if __name__ == "__main__":
    sys.exit(main())

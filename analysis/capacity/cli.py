"""./swapbench capacity: the verb's options, and the run from pages to prediction, validation and
the written JSON. Guests are booted by kernels-config/kmatrix, which hands its validator in
(`guests`): this package never imports kmatrix."""
import functools
import os
import sys

from analysis import manifest, provenance, writer
from analysis.capacity import model as cm
from analysis.capacity.coldness import cold_prediction, render_coldness
from analysis.capacity.cost import cpu_at_rate, kernel_cost, per_page_cpu, plot_saved_vs_cost, render_cost, render_cpu
from analysis.capacity.estimate import BOOTSTRAP, ZRAM_VARIANTS, estimate
from analysis.capacity.fleet import merge_fleet, render_fleet
from analysis.capacity.host import pool_limit, running_chain_size, running_version
from analysis.capacity.pages import SCHEMA_VERSION, load_pages, load_prediction
from analysis.capacity.report import gib, mib, render
from analysis.capacity.sampler import SamplerExit, remove_old_page_folders, run_sampler, run_validation
from analysis.capacity.validation_report import guest_validation, validation_block
from analysis.errors import ResultError


def add_arguments(p):
    p.add_argument("--merge", nargs="+", metavar="PREDICTION", help="fleet: merge hosts' --json predictions into "
                                                                     "totals with intervals (nothing is sampled)")
    _sampler_options(p)
    p.add_argument("--pages", help="model this swapbench-capacity pages file instead of sampling")
    p.add_argument("--keep-pages", help="keep the sampler's pages file (per-page lengths, JSON) here, to model "
                                        "again later with --pages")
    p.add_argument("--kernel-version", help="the kernel whose rules apply (default the running one), e.g. 6.1, 6.12")
    p.add_argument("--max-pool-percent", type=float, help="zswap's pool limit, percent of RAM (default this "
                                                          "kernel's parameter, else 20, the kernel's default)")
    p.add_argument("--chain-size", type=int, help="CONFIG_ZSMALLOC_CHAIN_SIZE (default 8 from 6.3, 4 before)")
    p.add_argument("--compressor", help="compressors, comma-separated (default every one in the pages)")
    p.add_argument("--bootstrap", type=int, default=BOOTSTRAP, help=f"bootstrap resamples (default {BOOTSTRAP})")
    p.add_argument("--json", help="write the prediction here (versioned JSON)")
    p.add_argument("--plot", help="write a PNG of memory saved against cost per compressor here")
    p.add_argument("--swapin-rate", type=float, help="pages per second swapped back in (and out) per host: "
                                                     "prints the CPUs that costs per compressor; with --merge, the "
                                                     "rate of hosts whose file has none")
    p.add_argument("--swapin-share", type=float, help="instead of a rate: percent of the pages kept out that are "
                                                      "swapped back in per minute (the rate then follows each row's "
                                                      "estimate); with --merge, for hosts whose file has neither")
    p.add_argument("--results", help="suite results to take the kernel's swap-in/out cost from (default "
                                     "$SWAPBENCH_RESULTS_DIR or results/)")
    p.add_argument("--validate", action="store_true",
                   help="root: push the sampled pages through zswap with every compressor the kernel accepts, and "
                        "through a fresh zram device per compressor zram offers, and compare the kernel's figures "
                        "with the prediction for exactly those pages (with --kernels: in guests, no root)")
    p.add_argument("--kernels", help="with --validate: validate in these kernels booted under QEMU instead of this "
                                     "host (names from kernels-config/kernels.toml, e.g. debian-6.12,debian-6.1); "
                                     "each guest's figures are compared with the model of its own kernel version")
    p.add_argument("--zpool", default="all",
                   help="with --kernels: zswap allocators to validate in each guest, comma-separated (default all: "
                        "zsmalloc, zbud, z3fold, those the guest kernel offers; the others are listed with why)")
    p.add_argument("--accel", default="auto", choices=["auto", "kvm", "tcg"],
                   help="with --kernels: auto uses KVM only where a probe guest boots under it, else TCG")
    p.add_argument("--guest-timeout", type=int, default=600,
                   help="with --kernels: hard limit per guest boot in seconds (default %(default)s)")
    p.add_argument("--guest-files", help="with --kernels: keep each guest's console and raw validation JSON here")


def _sampler_options(p):
    """The options handed through to the sampler, with the help and default the sampler declares
    (`swapbench list --json`, options.capacity: bench/capacity/capacity_cli.cpp)."""
    m = manifest.load()
    help_of = lambda flag: m.option("capacity", flag).help
    p.add_argument("--pid", help=help_of("--pid"))
    for flag in ("--cgroup", "--file", "--core"):  # each may be given more than once
        p.add_argument(flag, action="append", default=[], help=help_of(flag))
    p.add_argument("--sample", type=int, default=int(m.option("capacity", "--sample").default),
                   help=help_of("--sample") + "; the output says when the interval is wider, and what size would do")
    p.add_argument("--all", action="store_true", help=help_of("--all"))
    p.add_argument("--seed", type=int, help=help_of("--seed"))


def main(args, guests=None):
    """guests: the validator that boots --kernels (kmatrix.capacity: check_kernels(text),
    validate_in_guests(names, raw_fd, compressors, zpools, accel, timeout, keep)), or None where
    no guests can be booted (python3 -m analysis capacity)."""
    try:
        return _main(args, guests)
    except RuntimeError as e:  # the sampler or the validation failed (it said why above)
        print(f"swapbench capacity: {e}", file=sys.stderr)
        return 1
    except SamplerExit as e:
        if e.message:
            print(f"swapbench capacity: {e.message}", file=sys.stderr)
        return e.code
    except KeyboardInterrupt as e:  # kmatrix's handlers turn SIGINT/SIGTERM into this, QEMU killed first
        print(f"swapbench capacity: interrupted ({e}); no QEMU left running", file=sys.stderr)
        return 130


def with_guests(guests):
    """main with this guest validator handed in."""
    return functools.partial(main, guests=guests)


def _check_rate(args):
    if args.swapin_rate is not None and args.swapin_rate < 0:
        raise ResultError(f"--swapin-rate {args.swapin_rate}: accepted: pages per second, 0 or more")
    if args.swapin_share is not None and not 0 <= args.swapin_share <= 100:
        raise ResultError(f"--swapin-share {args.swapin_share}: accepted: 0 to 100 (percent of the pages kept out, per minute)")
    if args.swapin_rate is not None and args.swapin_share is not None:
        raise ResultError("--swapin-rate and --swapin-share: accepted: one of them (a rate in pages/s, or a share per minute)")


def _main(args, guests):
    _check_rate(args)
    if args.merge:
        return _merge(args)
    version = _checked_options(args, guests)
    doc, measured = _pages(args, guests)
    comps = args.compressor.split(",") if args.compressor else None
    chain = args.chain_size
    if chain is None and version == running_version() and version >= (6, 3):
        chain = running_chain_size()  # this kernel's own build, where the model is of it
    result = estimate(doc, version, chain, args.bootstrap, compressors=comps)
    result["pool_limit"] = pool_limit(doc.get("host_memory_bytes"), args.max_pool_percent, result["rows"])
    print(render(doc, result, version))
    offer, cold_rows, result["coldness"] = cold_prediction(doc, version, chain, args.bootstrap, comps)
    print(render_coldness(offer, doc, cold_rows))
    if result["pool_limit"]["over"]:
        pl = result["pool_limit"]
        print(f"over zswap's pool limit ({pl['percent']:g}% of {gib(pl['host_memory_bytes'])} GiB = "
              f"{mib(pl['limit_bytes'])} MiB): {', '.join(pl['over'])}: zswap stops storing at the limit "
              f"(pool_limit_hit) and starts again below {pl['accept_threshold_percent']:g}% of it")
    _cost(args, doc, result)
    disagree, not_validated = _validation(args, doc, measured, result)
    if args.json:
        # The pages' own header says which sampler build measured them (absent in older pages files).
        sampled = doc.get("swapbench_capacity") or {}
        out = {"swapbench_capacity": {"schema_version": SCHEMA_VERSION, "kind": "prediction", **provenance.stamp()},
               "sampled_by": {k: sampled.get(k) for k in ("version", "commit")},
               "host": doc.get("host"), "host_memory_bytes": doc.get("host_memory_bytes"),
               "kernel_measured_on": doc.get("kernel"), "model_kernel_version": list(version),
               "sources": doc["sources"], "sampling": doc["sampling"], "estimator":
                   "stratified (weights N_h/n_h); 95% intervals from a stratified bootstrap",
               "rule_sources": cm.RULE_SOURCES, "cost": doc.get("cost"), "timing": doc.get("timing"), **result}
        writer.write_json(args.json, out)
    if not_validated:
        print(f"swapbench capacity: not validated in {', '.join(not_validated)} (why above)", file=sys.stderr)
        return 1
    if disagree:
        print(f"swapbench capacity: the kernel's counts differ from the prediction for {', '.join(disagree)}",
              file=sys.stderr)
        return 1
    return 0


def _merge(args):
    merged = merge_fleet([load_prediction(p) for p in args.merge], args.swapin_rate, args.swapin_share, args.merge)
    print(render_fleet(merged))
    if args.json:
        writer.write_json(args.json, {"swapbench_capacity": {"schema_version": SCHEMA_VERSION, "kind": "fleet",
                                                                             **provenance.stamp()},
                                      "inputs": args.merge, **merged})
    return 0


def _checked_options(args, guests):
    """Every option checked before anything is sampled; the model's kernel version."""
    if args.sample <= 0:
        raise ResultError(f"--sample {args.sample}: accepted: a positive number of pages")
    if args.kernels is not None and not args.validate:
        raise ResultError("--kernels: accepted with --validate only (the guests it boots validate the pages)")
    if args.kernels is not None:
        if guests is None:
            raise ResultError("--kernels: accepted through ./swapbench capacity (kernels-config/kmatrix boots the "
                              "guests); python3 -m analysis capacity --validate checks this host's kernel only")
        guests.check_kernels(args.kernels)
    bad = [z for z in args.zpool.split(",") if z not in ("all", "zsmalloc", "zbud", "z3fold")]
    if bad or ("all" in args.zpool.split(",") and args.zpool != "all"):
        raise ResultError(f"--zpool {args.zpool}: accepted: zsmalloc, zbud, z3fold (comma-separated) or all")
    if args.bootstrap < 0:
        raise ResultError(f"--bootstrap {args.bootstrap}: accepted: 0 or more")
    if args.max_pool_percent is not None and not 0 <= args.max_pool_percent <= 100:
        raise ResultError(f"--max-pool-percent {args.max_pool_percent}: accepted: 0 to 100")
    if args.chain_size is not None and not 4 <= args.chain_size <= 16:
        raise ResultError(f"--chain-size {args.chain_size}: accepted: 4 to 16 (CONFIG_ZSMALLOC_CHAIN_SIZE's range)")
    try:
        version = cm.parse_version(args.kernel_version) if args.kernel_version else running_version()
    except ValueError as e:
        raise ResultError(f"--kernel-version {e}") from None
    for path in (args.json, args.plot):
        if path:
            writer.check_file(path)
    return version


def _pages(args, guests):
    """The pages file, and with --validate what the kernel (or each guest's) measured on them."""
    if args.pages:
        if args.validate:
            raise ResultError("--validate needs the pages themselves: sample with --pid/--cgroup/--file/--core, not --pages")
        return load_pages(args.pages), None
    if not (args.pid or args.cgroup or args.file or args.core):
        raise ResultError("no pages: give --pid, --cgroup, --file, --core, or --pages FILE")
    if args.keep_pages:
        writer.check_file(args.keep_pages)
    remove_old_page_folders()
    # The sampled pages themselves (another process's memory: its secrets) exist only in this
    # memfd: no file system holds them, and it is gone with the last process that has it open,
    # however that process ends (kill -9 included). The JSON on stdout holds lengths, no contents.
    raw_fd = os.memfd_create("swapbench-capacity-pages") if args.validate else None
    try:
        doc = run_sampler(args, raw_fd)
        if args.keep_pages:
            writer.write_json(args.keep_pages, doc)
        return doc, (_measure(args, doc, raw_fd, guests) if args.validate else None)
    finally:
        if raw_fd is not None:
            os.close(raw_fd)


def _measure(args, doc, raw_fd, guests):
    asked = [c for c in args.compressor.split(",") if c not in ZRAM_VARIANTS.values()] if args.compressor else None
    if not args.kernels:
        return run_validation(raw_fd, asked)
    # Only compressors the pages hold lengths for can be compared: emulated page-outs are slow, so
    # the guest runs no others (lz4hc, 842).
    held = [c for c in doc["pages"]["length"] if c not in ZRAM_VARIANTS.values()]
    return guests.validate_in_guests([k for k in args.kernels.split(",") if k], raw_fd, asked or held, args.zpool,
                                     args.accel, args.guest_timeout, args.guest_files)


def _cost(args, doc, result):
    """The kernel's swap cost from this host's suite results, CPUs at the swap-in rate, the plot."""
    from analysis import store
    kdir = args.results or store.results_dir()
    release = (doc.get("kernel") or {}).get("release")
    kpath, kcost = kernel_cost(kdir, doc.get("host"), release)
    _, kcost_zram = kernel_cost(kdir, doc.get("host"), release, "zram")
    print(render_cost(doc, kpath, kcost, args.swapin_rate))
    result["kernel_cost"] = {"source": kpath, "per_compressor": kcost, "zram_per_compressor": kcost_zram}
    result["swapin"] = {"rate_pages_per_s": args.swapin_rate, "share_percent_per_min": args.swapin_share}
    for row in result["rows"]:
        row["cpu_cost"] = per_page_cpu(doc, {"zswap": kcost, "zram": kcost_zram}, row["backend"], row["compressor"])
        u = cpu_at_rate(row["cpu_cost"], row, args.swapin_rate, args.swapin_share)
        if u:
            row["cpu"] = u
    if args.swapin_rate is not None or args.swapin_share is not None:
        print(render_cpu(result["rows"], args.swapin_rate, args.swapin_share))
    if args.plot:
        plot_saved_vs_cost(result, doc, kcost, args.plot)


def _validation(args, doc, measured, result):
    """result["validation"] from what was measured: (rows that disagree, kernels not validated)."""
    if not args.validate:
        return [], []
    if args.kernels:
        result["validation"], disagree, not_validated = guest_validation(doc, measured)
        return disagree, not_validated
    result["validation"] = validation_block(doc, measured, running_version(), running_chain_size(),
                                            "this kernel's zswap")
    result["validation"]["measured_in"] = "this host"
    return result["validation"]["disagree"], []

"""`./swapbench check --kernel NAME`: reads a kernel's config and says, per benchmark, whether it
can run there and if not why (kernels-config/requirements.toml holds the rules, as data)."""
import sys
import tomllib

from kmatrix.defs import REQUIREMENTS_TOML, KernelError, files_for, get_def, load_defs, read_config


def load_requirements(path=REQUIREMENTS_TOML):
    with open(path, "rb") as f:
        return tomllib.load(f)


def evaluate(cfg, req):
    """Pure: config dict + requirements -> (rows, compressors). rows: (benchmark, ok, reason)."""
    opts = req["option"]

    def have(opt):
        v = cfg.get(opt)
        need = opts.get(opt, {}).get("need", "m")
        return v == "y" or (v == "m" and need == "m")

    def why_not(opt):
        v = cfg.get(opt)
        need = opts.get(opt, {}).get("need", "m")
        state = "not set" if v is None else f"={v}"
        want = "built in (=y)" if need == "y" else "=y or =m"
        return f"CONFIG_{opt} {state}, needs {want}: {opts.get(opt, {}).get('reason', '')}"

    comps = {c: have(o) for c, o in req["compressors"].items()}
    rows = []
    for bench, b in req["benchmark"].items():
        missing = [o for o in b["requires"] if not have(o)]
        if bench.endswith("-zswap") and not missing and not any(comps.values()):
            missing_reason = "no zswap compressor in the config (" + ", ".join(
                f"CONFIG_{o}" for o in req["compressors"].values()) + ")"
            rows.append((bench, False, missing_reason))
            continue
        rows.append((bench, not missing, "; ".join(why_not(o) for o in missing) if missing else ""))
    return rows, comps


def add_arguments(p):
    p.add_argument("--kernel", required=True, help="a kernel defined in kernels-config/kernels.toml")
    p.add_argument("--definitions", metavar="FILE", help="kernel definitions (default: kernels-config/kernels.toml)")


def main(args):
    # A name or a definitions file that is wrong is bad input (exit 2) before anything is fetched; a
    # fetch or a config that fails afterwards is an error (exit 1), not the user's input.
    try:
        d = get_def(args.kernel, load_defs(args.definitions) if args.definitions else None)
        if d.source == "debian-source":
            raise KernelError(f"kernel {d.name} is a kernel source ({d.package}), not a built kernel: its config "
                              f"exists once built (./swapbench ab --source {d.name})")
        # a custom kernel's files are named by its definition: missing ones are the definition's fault
        kf = files_for(d) if d.source in ("custom", "running") else None
    except KernelError as e:
        print(f"swapbench check: {e}", file=sys.stderr)
        return 2
    try:
        kf = kf or files_for(d)
        if not kf.config:
            raise KernelError(f"kernel {d.name}: no config found (/proc/config.gz or /boot/config-{kf.release}); "
                              "fix: modprobe configs, or install the kernel's config file")
        cfg = read_config(kf.config)
    except (KernelError, OSError) as e:
        print(f"swapbench check: {e}", file=sys.stderr)
        return 1
    rows, comps = evaluate(cfg, load_requirements())
    src = f"{kf.package} {kf.version}".strip() or d.source
    print(f"kernel {d.name}: {kf.release} ({src}); config {kf.config}")
    if d.why:
        print(f"  {d.why}")
    print("zswap compressors in the config: " + ", ".join(
        f"{c} ({cfg.get(o, 'not set')})" for c, o in load_requirements()["compressors"].items()))
    width = max(len(r[0]) for r in rows)
    for bench, ok, why in rows:
        print(f"  {bench.ljust(width)}  {'ok' if ok else 'CANNOT: ' + why}")
    if d.source != "running":
        print("(a config says what can be built in; the run itself discovers what the booted kernel accepts)")
    return 0

"""A guest kernel's configuration when it is built from source: the fragment (guest-config.toml's
groups, every requirements.toml option, then what the caller adds), and the check that what
olddefconfig made of it is what was asked (kmatrix/build.py builds with it)."""
import os
import re
import tomllib

from kmatrix.check import evaluate, load_requirements
from kmatrix.defs import HERE, REQUIREMENTS_TOML, KernelError, read_config

GUEST_CONFIG = os.path.join(HERE, "guest-config.toml")


def load_guest_config(path=GUEST_CONFIG):
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise KernelError(f"{path}: {e}") from None


def fragment_options(requirements_path=REQUIREMENTS_TOML, extra=None, guest_config=None, arch="amd64"):
    """[(group, option, value)] in order: guest-config groups (those of every architecture and those
    marked arch = this one), requirements (=y), extra; an option asked both on and off by two sources
    is refused (extra may override the groups, never a requirement)."""
    gc = guest_config if guest_config is not None else load_guest_config()
    req = load_requirements(requirements_path)
    out, where = [], {}

    def put(group, opt, val, may_override):
        if opt in where:
            g0, v0 = where[opt]
            if v0 == val:
                return
            if not may_override or g0 == "requirements":
                raise KernelError(f"CONFIG_{opt}: {g0} asks {v0}, {group} asks {val}")
            out[:] = [x for x in out if x[1] != opt]
        where[opt] = (group, val)
        out.append((group, opt, val))

    for g, body in gc.get("group", {}).items():
        if body.get("arch", arch) != arch:
            continue
        for o in body.get("y", []):
            put(g, o, "y", False)
        for o in body.get("n", []):
            put(g, o, "n", False)
    for o in req.get("option", {}):
        put("requirements", o, "y", False)  # modules are off: "m is enough" becomes built in
    for o, v in (extra or {}).items():
        put("extra", o.removeprefix("CONFIG_"), v, True)
    return out


def fragment(requirements_path=REQUIREMENTS_TOML, extra=None, guest_config=None, arch="amd64"):
    """The fragment's text for merge_config.sh, grouped and commented with where each option comes from."""
    lines, last = [], None
    for g, o, v in fragment_options(requirements_path, extra, guest_config, arch):
        if g != last:
            lines.append(f"# {g}")
            last = g
        if v == "n":
            lines.append(f"# CONFIG_{o} is not set")
        elif v in ("y", "m") or re.fullmatch(r"-?\d+|0x[0-9a-fA-F]+", v):
            lines.append(f"CONFIG_{o}={v}")
        else:
            lines.append(f'CONFIG_{o}="{v}"')
    return "\n".join(lines) + "\n"


def parse_fragment(text):
    """{OPTION: value} from a fragment ('n' for '# CONFIG_X is not set')."""
    want = {}
    for line in text.splitlines():
        m = re.match(r"^# CONFIG_(\w+) is not set", line)
        if m:
            want[m.group(1)] = "n"
            continue
        m = re.match(r"^CONFIG_(\w+)=(.*)$", line)
        if m:
            want[m.group(1)] = m.group(2).strip('"')
    return want


def kconfig_symbols(tree):
    """Every symbol some Kconfig file of the tree declares."""
    syms = set()
    for root, dirs, files in os.walk(tree):
        dirs[:] = [d for d in dirs if d not in (".git", "Documentation", "tools")]
        for f in files:
            if f.startswith("Kconfig"):
                with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
                    syms.update(re.findall(r"^\s*(?:menu)?config\s+(\w+)", fh.read(), re.M))
    return syms


def config_mismatches(cfg, want, declared):
    """(did not stick [(option, asked, got)], not declared by this kernel [option]) -- pure."""
    bad, absent = [], []
    for o, v in want.items():
        if o not in declared:
            absent.append(o)
            continue
        got = cfg.get(o, "n")
        if got != v:
            bad.append((o, v, "not set" if got == "n" else got))
    return bad, sorted(absent)


def verify_config(config_path, want, declared, requirements_path=REQUIREMENTS_TOML):
    """KernelError naming every option that did not stick, and every benchmark the checker refuses;
    returns the options this kernel does not declare (skipped)."""
    cfg = read_config(config_path)
    bad, absent = config_mismatches(cfg, want, declared)
    req = load_requirements(requirements_path)
    missing_req = [o for o in absent if o in req.get("option", {})]
    problems = [f"CONFIG_{o}: asked {v}, got {g}" for o, v, g in bad]
    problems += [f"CONFIG_{o}: required by requirements.toml, but this kernel has no such option" for o in missing_req]
    rows, _ = evaluate(cfg, req)
    problems += [f"{b}: {why}" for b, ok, why in rows if not ok]
    if problems:
        raise KernelError(f"{config_path}: the configuration is not what was asked (olddefconfig changed it, "
                          "usually a dependency the fragment lacks; add it to guest-config.toml):\n  "
                          + "\n  ".join(problems))
    return absent

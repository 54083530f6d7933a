"""Environment variables that name a program or a folder, as a run as root may take them.

A run as root starts programs and writes files. A variable that points it at something another
user can change hands that user root: SWAPBENCH_CAPACITY_BIN=/tmp/evil.sh once made `capacity`
run a script as root. So, when running as root, such a variable is accepted only if what it names,
and every folder above it, is root's alone: owned by root and writable by neither group nor others
(checked component by component on the opened path, links resolved first, so what is checked is
what is used: nobody else can change a component once all of them are root's). As an ordinary
user the variable is taken as given: the program runs with that user's rights and nothing more.
README.md "Environment variables" lists every variable and how each is treated.

Kinds: program (a program the run starts), cache (a folder of programs and libraries the run
starts, loads and writes into: the kernel cache holds an unpacked QEMU and the kernels it boots),
folder (a folder the run writes into). A path that does not exist yet is judged by the part that
exists: nobody else can create the rest inside folders only root can change.

One exception for all three: a root-owned sticky folder (/tmp, /var/tmp) may be above what is
named, though not hold it directly. The sticky bit stops others from renaming or removing root's
entries, so root's 0700 folder under /tmp stays root's (the tests' work folders are there); but a
name directly in /tmp is anyone's to take whenever root's file is not there, so /tmp/tool is
refused even when root made it.
"""
import os
import pwd
import stat

from analysis.errors import ResultError


def _owner(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def untrusted_reason(path, kind):
    """None if root alone can change `path` (kind "program", "cache" or "folder"), else why not."""
    real = os.path.realpath(path)
    parts = [p for p in real.split("/") if p]
    fd = os.open("/", os.O_PATH | os.O_DIRECTORY)
    cur = "/"
    st = os.fstat(fd)
    try:
        for i in range(len(parts) + 1):
            if i:
                try:
                    nfd = os.open(parts[i - 1], os.O_PATH | os.O_NOFOLLOW, dir_fd=fd)
                except FileNotFoundError:
                    # Nobody else can make it appear in a folder only root can change (what uses
                    # it says it is missing); in a folder others can write to, they could first.
                    missing = os.path.join(cur, parts[i - 1])
                    return f"{missing} does not exist and others could create it first" if st.st_mode & 0o022 else None
                os.close(fd)
                fd = nfd
                cur = os.path.join(cur, parts[i - 1])
            st = os.fstat(fd)
            last = i == len(parts)
            if stat.S_ISLNK(st.st_mode):
                return f"{cur} is a link that appeared while it was checked"
            if st.st_uid != 0:
                return f"{cur} belongs to {_owner(st.st_uid)}, not root"
            if st.st_mode & 0o022:
                sticky_above = i < len(parts) - 1 and stat.S_ISDIR(st.st_mode) and st.st_mode & stat.S_ISVTX
                if not sticky_above:
                    who = " and ".join(w for w, bit in (("group", 0o020), ("others", 0o002)) if st.st_mode & bit)
                    return f"{cur} is writable by {who} (mode {stat.S_IMODE(st.st_mode):04o})"
            if last:
                if kind == "program" and not stat.S_ISREG(st.st_mode):
                    return f"{cur} is not a regular file"
                if kind != "program" and not stat.S_ISDIR(st.st_mode):
                    return f"{cur} is not a folder"
        return None
    finally:
        os.close(fd)


def from_env(var, kind, default=None):
    """The value of `var` (default when unset or empty); as root, only if untrusted_reason finds
    nothing wrong with it, else ResultError (exit 2) naming the variable, the reason and the fix.
    Returns the resolved path as root, so that what was checked is what is used."""
    value = os.environ.get(var)
    if not value:
        return default
    if os.geteuid() != 0:
        return value
    why = untrusted_reason(value, kind)
    if why:
        what = {"program": "starts only programs", "cache": "starts programs and loads libraries only from folders",
                "folder": "writes only into folders"}[kind]
        raise ResultError(f"{var}={value}: {why}; a run as root {what} that root alone can change (owned by root, "
                          f"not writable by group or others, and every folder above the same): move it there, "
                          f"or unset {var}")
    return os.path.realpath(value)


# Every variable the Python side reads that names a program or a folder, with its kind (above).
# The C++ binary's own are in bench/environment.cpp; README.md "Environment variables" has both.
PATH_VARIABLES = {
    "SWAPBENCH_BIN": "program",            # the suite's binary: calibrate runs it as root
    "SWAPBENCH_CAPACITY_BIN": "program",   # the sampler: capacity --validate runs it as root
    "SWAPBENCH_BIN_AARCH64": "program",    # copied into arm64 guests (checked all the same: a program)
    "SWAPBENCH_QEMU_AARCH64": "program",   # started by the matrix, on the host
    "SWAPBENCH_QEMU_X86_64": "program",    # the same, for x86-64 guests
    "SWAPBENCH_KERNEL_CACHE": "cache",     # kernels, an unpacked QEMU and its modules, build trees
    "SWAPBENCH_RESULTS_DIR": "folder",     # results and calibrations are written here
}


def check_all():
    """Every variable of PATH_VARIABLES that is set, before a verb does anything (ResultError);
    as root, PATH without the folders others can change (trusted_search_path)."""
    for var, kind in PATH_VARIABLES.items():
        from_env(var, kind)
    if os.geteuid() == 0:
        os.environ["PATH"] = trusted_search_path(os.environ.get("PATH", ""))


def trusted_search_path(path):
    """PATH for a run as root: its folders that root alone can change, in order; the others (and
    relative ones, which mean the current folder) are left out, and said so on stderr once. The
    programs a root run starts by name (cpio, tar, QEMU, make, apt-get) are found there; the front
    door (./swapbench) does the same before Python starts."""
    kept, dropped = [], []
    for d in path.split(":"):
        why = "relative" if not d.startswith("/") else untrusted_reason(d, "folder")
        (dropped if why else kept).append(f"{d or '(empty)'} ({why})" if why else d)
    if dropped:
        import sys
        print(f"swapbench: running as root: PATH folders others can change are not searched: {', '.join(dropped)}",
              file=sys.stderr)
    return ":".join(kept) or "/usr/sbin:/usr/bin:/sbin:/bin"

"""The one way analysis writes a file (compare --json/--markdown, report's folder, history's plot,
calibrations).

What the path is decides how it is written:
  - a regular file, or a new name in an existing folder: atomically (temporary file in the same
    folder, fsync, rename), so a reader or a crash never sees half a file and an earlier file of
    that name survives a failure;
  - a character or block device or a FIFO: opened and written in place. Renaming over one would
    replace it with a regular file: as root, `--json /dev/null` would destroy /dev/null;
  - a symlink: followed, and its target written by the rules above; the link itself is never
    replaced, so a link into another folder (or to /proc/self/fd/1) keeps working.
Folders the user did not name are never created: a missing parent is an error, not a mkdir -p.

check_file() and check_folder() find a bad path before a verb does its work; the write functions
check again, because the path can change in between.
"""
import errno
import json
import os
import select
import stat
import sys
import tempfile
import time

from analysis.errors import OutputError

ACCEPTED_FILE = ("a new or existing file in an existing writable folder, a device, a FIFO, or a symlink to one "
                 "of these")
ACCEPTED_FOLDER = "an existing writable folder, or a new folder whose parent exists"


def _what(mode):
    for test, name in ((stat.S_ISDIR, "folder"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISFIFO, "FIFO"), (stat.S_ISREG, "regular file")):
        if test(mode):
            return name
    return "special file"


def _probe_folder(path, folder, accepted=ACCEPTED_FILE):
    """Creates and removes a temporary file in folder: os.access() says yes to root everywhere, yet
    /proc and /sys refuse new files and a read-only mount refuses everyone."""
    if not os.path.isdir(folder):
        raise OutputError(f"{path}: folder {folder} does not exist; create it first (analysis creates no "
                          f"folder it was not asked for); accepted: {accepted}")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".swapbench-probe-")
    except OSError as e:
        raise OutputError(f"{path}: cannot create anything in {folder} ({e.strerror}); accepted: {accepted}") from None
    os.close(fd)
    os.unlink(tmp)


def _foreign_link(path):
    """As root, a symlink another user owns is not followed (the rule of the kernel's
    fs.protected_symlinks, applied in every folder): it would let that user aim root's output at
    any file. Returns why, or None. Every link of the chain is checked."""
    if os.geteuid() != 0:
        return None
    for _ in range(40):  # the kernel's own limit on links followed in one lookup
        try:
            st = os.lstat(path)
        except OSError:
            return None
        if not stat.S_ISLNK(st.st_mode):
            return None
        if st.st_uid != 0:
            return (f"{path} is a symlink of uid {st.st_uid}'s; a run as root does not follow another user's "
                    "link (it could aim the output at any file): remove it or name its target")
        path = os.path.join(os.path.dirname(path), os.readlink(path))
    return f"{path}: more than 40 symlinks in a row"


def _plan(path):
    """('through', path) for a device or FIFO, else ('atomic', the real path of the file to replace
    or create). Raises OutputError naming the path."""
    path = os.fspath(path)
    why = _foreign_link(path)
    if why:
        raise OutputError(f"{why}; accepted: {ACCEPTED_FILE}")
    try:
        st = os.stat(path)  # follows symlinks: the target decides
    except FileNotFoundError:
        st = None
    except OSError as e:  # ENOTDIR (a parent is a file), ELOOP, EACCES
        raise OutputError(f"{path}: {e.strerror}; accepted: {ACCEPTED_FILE}") from None
    if st is None:
        # A dangling symlink names the file to create; the link itself stays.
        real = os.path.realpath(path) if os.path.islink(path) else os.path.abspath(path)
        _probe_folder(path, os.path.dirname(real))
        return "atomic", real
    kind = _what(st.st_mode)
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{path}: is a folder; give a file name in it; accepted: {ACCEPTED_FILE}")
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) or stat.S_ISFIFO(st.st_mode):
        if not os.access(path, os.W_OK):
            raise OutputError(f"{path}: {kind} not writable by this user")
        if stat.S_ISFIFO(st.st_mode):
            _hold_fifo(path)
        return "through", path
    if not stat.S_ISREG(st.st_mode):
        raise OutputError(f"{path}: a {kind}, which analysis does not write; accepted: {ACCEPTED_FILE}")
    real = os.path.realpath(path)
    if not os.access(real, os.W_OK):
        raise OutputError(f"{path}: not writable by this user (it would be replaced, not edited)")
    _probe_folder(path, os.path.dirname(real))
    return "atomic", real


def check_file(path):
    """Raises OutputError if path cannot be written by write_bytes()."""
    _plan(path)


def check_folder(path):
    """Raises OutputError unless path is a writable folder or can be made one by make_folder()."""
    path = os.fspath(path)
    if os.path.isdir(path):  # follows a symlink to a folder
        _probe_folder(path, path, ACCEPTED_FOLDER)
        return
    if os.path.lexists(path):
        kind = "a symlink to nothing" if not os.path.exists(path) else f"a {_what(os.stat(path).st_mode)}"
        raise OutputError(f"{path}: {kind}, not a folder; the output is a folder of files: {ACCEPTED_FOLDER}")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise OutputError(f"{path}: its parent {parent} does not exist; only the last folder is created; "
                          f"accepted: {ACCEPTED_FOLDER}")
    _probe_folder(path, parent, ACCEPTED_FOLDER)


def make_folder(path):
    """The folder the user named, and only it: never its parents."""
    check_folder(path)
    try:
        os.mkdir(path)
    except FileExistsError:
        pass
    except OSError as e:
        raise OutputError(f"{path}: cannot create the folder ({e.strerror}); accepted: {ACCEPTED_FOLDER}") from None


# FIFOs checked by check_file(), by path: their write ends, open until written. A plain open would
# wait for a reader for ever and silently; O_NONBLOCK says ENXIO instead, and the end stays open
# because closing it would hand a waiting reader its end of file before the output exists.
_held = {}
NOTICE_S = 10       # a line on stderr when a reader has taken nothing for this long
PATIENCE_S = 600    # and an error after this long without progress


def _hold_fifo(path):
    if path in _held:
        return
    # A reader started just before (`cat FIFO & ./swapbench compare ... --json FIFO`) may not have
    # opened its end yet: it gets two seconds.
    deadline = time.monotonic() + 2
    while True:
        try:
            _held[path] = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            return
        except OSError as e:
            if e.errno == errno.ENXIO and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            if e.errno == errno.ENXIO:
                raise OutputError(f"{path}: a FIFO with no reader; start its reader first (e.g. cat {path} > out &), "
                                  f"or give a file; accepted: {ACCEPTED_FILE}") from None
            raise OutputError(f"{path}: cannot open the FIFO for writing ({e.strerror})") from None


def _write_through(path, data):
    # No O_CREAT: if the device or FIFO vanished since the check, fail rather than leave a regular
    # file in its place.
    fd = _held.pop(path, None)
    if fd is None:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as e:
            raise OutputError(f"{path}: cannot open for writing ({e.strerror})") from None
    try:
        view, waited, said = memoryview(data), 0, False
        while view:
            try:
                view = view[os.write(fd, view):]
                waited = 0
            except BlockingIOError:
                if select.select([], [fd], [], NOTICE_S)[1]:
                    continue
                waited += NOTICE_S
                if not said:
                    said = True
                    print(f"swapbench: waiting for the reader of {path} ({len(data) - len(view)} of {len(data)} "
                          f"bytes written); giving up after {PATIENCE_S} s", file=sys.stderr, flush=True)
                if waited >= PATIENCE_S:
                    raise OutputError(f"{path}: its reader took nothing for {PATIENCE_S} s; output incomplete")
    except OSError as e:
        raise OutputError(f"{path}: cannot write ({e.strerror}); nothing else was changed") from None
    finally:
        os.close(fd)


def _write_atomic(path, real, data):
    folder = os.path.dirname(real)
    try:
        old_mode = stat.S_IMODE(os.stat(real).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        old_mode = 0o666 & ~umask  # mkstemp makes 0600; results are meant to be read by others
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(real))
    except OSError as e:
        raise OutputError(f"{path}: cannot create a file in {folder} ({e.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), old_mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, real)
    except OSError as e:
        os.unlink(tmp)
        raise OutputError(f"{path}: cannot write ({e.strerror}); an earlier file of that name is intact") from None
    except BaseException:
        os.unlink(tmp)
        raise


def write_bytes(path, data):
    how, where = _plan(path)
    if how == "through":
        _write_through(where, data)
    else:
        _write_atomic(os.fspath(path), where, data)


def write_text(path, text):
    write_bytes(path, text.encode("utf-8"))


def write_json(path, doc):
    write_text(path, json.dumps(doc, indent=1, default=_plain) + "\n")


def _plain(x):
    # numpy scalars and 0-d arrays
    if hasattr(x, "item"):
        return x.item()
    if hasattr(x, "tolist"):
        return x.tolist()
    raise TypeError(f"not JSON: {type(x).__name__}")

"""Small shared pieces: atomic writes, number formatting, aligned tables."""
import json
import os
import tempfile


def write_atomic(path, text):
    """Temporary file in the same folder, fsync, rename: a reader (or a crash) never sees half a file
    and an earlier file of that name survives a failure."""
    d = os.path.dirname(os.path.abspath(path)) or "."
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        # mkstemp makes the file 0600; results are meant to be read by others, like any file here.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json_atomic(path, doc):
    write_atomic(path, json.dumps(doc, indent=1, default=_plain) + "\n")


def _plain(x):
    # numpy scalars and 0-d arrays
    if hasattr(x, "item"):
        return x.item()
    if hasattr(x, "tolist"):
        return x.tolist()
    raise TypeError(f"not JSON: {type(x).__name__}")


def fmt_ns(ns):
    if ns != ns:  # NaN
        return "-"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e4:
        return f"{ns / 1e3:.1f} us"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} us"
    return f"{ns:.0f} ns"


def fmt_p(p):
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"


def table(header, rows, numeric=True):
    """Aligned plain-text table: the first column left-aligned, the others right-aligned when
    numeric, else left-aligned too."""
    cols = [header] + [[str(c) for c in r] for r in rows]
    w = [max(len(r[i]) for r in cols) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w[i]) if i == 0 or not numeric else c.rjust(w[i])
                               for i, c in enumerate(r)).rstrip()
    return "\n".join([line(header)] + [line(r) for r in cols[1:]])


def markdown_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


KIND_SHORT = {"swapin": "in", "swapout": "out", "floor_swapcache": "floor-cache", "floor_firsttouch": "floor-touch"}


def short_labels(names):
    """Short row labels for set names (kind/backend/compressor/profile/pattern[/write][/variant]):
    'in zswap-lzo', 'out disk', 'floor-cache'; the profile and pattern are added only where two
    labels would otherwise be the same. Returns (labels, legend); names that do not parse stay whole."""
    parts = [n.split("/") for n in names]
    if len(names) < 2 or any(len(p) < 5 for p in parts):
        return list(names), ""

    def base(p):
        kind = KIND_SHORT.get(p[0], p[0])
        store = p[1] if p[2] == "none" else f"{p[1]}-{p[2]}"
        if p[0].startswith("floor"):
            store = ""
        extra = [x for x in p[5:]]
        return " ".join(x for x in [kind, store] + extra if x)

    labels = [base(p) for p in parts]
    for i in (3, 4):  # profile, then pattern: only where it tells labels that are still alike apart
        vary = {lab for lab in labels
                if len({p[i] for l2, p in zip(labels, parts) if l2 == lab}) > 1}
        labels = [f"{lab} {p[i]}" if lab in vary else lab for lab, p in zip(labels, parts)]
    if len(set(labels)) < len(labels):
        return list(names), ""
    profiles = sorted({p[3] for p in parts})
    patterns = sorted({p[4] for p in parts})
    legend = (f"in/out = swap-in/swap-out; profiles {', '.join(profiles)}; patterns {', '.join(patterns)}; "
              "full names in --json")
    return labels, legend

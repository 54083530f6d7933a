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


def short_labels(names):
    """Drops the name parts every set shares, so a table row says only what differs:
    swapin/zswap/lzo/ratio2/random and swapin/disk/none/ratio2/random -> zswap/lzo, disk/none.
    Returns (labels, common) where common shows the dropped parts ('*' marks a kept part)."""
    split = [n.split("/") for n in names]
    width = max(len(s) for s in split)
    pad = [s + [""] * (width - len(s)) for s in split]
    same = [len({s[i] for s in pad}) == 1 for i in range(width)]
    if len(names) < 2 or all(same):
        return list(names), ""
    labels = ["/".join(p for p, sm in zip(s, same) if not sm and p) or "(base)" for s in pad]
    if not any(same):
        return list(names), ""
    common = "/".join(pad[0][i] if same[i] else "*" for i in range(width) if pad[0][i] or not same[i])
    return labels, common

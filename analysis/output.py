"""Small shared pieces: number formatting, aligned tables, short set labels. Files are written by
analysis/writer.py."""
from analysis import manifest


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


KIND_SHORT = {k.name: k.short for k in manifest.load().kinds.values()}


def short_labels(ids):
    """Short row labels for sets, from their identity (load.SetId: kind, backend, compressor,
    profile, pattern, fault, variant): 'in zswap-lzo', 'out disk', 'floor-cache'; the profile and
    pattern are added only where two labels would otherwise be the same. Returns (labels, legend);
    when any identity is incomplete (a file from another tool) or labels would clash, the full
    names are kept."""
    ids = list(ids)
    if len(ids) < 2 or any(None in (i.kind, i.backend, i.compressor, i.profile, i.pattern) for i in ids):
        return [i.name for i in ids], ""

    def base(i):
        store = i.backend if i.compressor == "none" else f"{i.backend}-{i.compressor}"
        if i.kind.startswith("floor"):
            store = ""
        extra = ["write" if i.fault == "write" else "", i.variant or ""]
        return " ".join(x for x in [KIND_SHORT.get(i.kind, i.kind), store] + extra if x)

    labels = [base(i) for i in ids]
    for attr in ("profile", "pattern"):  # only where it tells labels that are still alike apart
        vary = {lab for lab in labels
                if len({getattr(i, attr) for l2, i in zip(labels, ids) if l2 == lab}) > 1}
        labels = [f"{lab} {getattr(i, attr)}" if lab in vary else lab for lab, i in zip(labels, ids)]
    if len(set(labels)) < len(labels):
        return [i.name for i in ids], ""
    profiles = sorted({i.profile for i in ids})
    patterns = sorted({i.pattern for i in ids})
    legend = (f"in/out = swap-in/swap-out; profiles {', '.join(profiles)}; patterns {', '.join(patterns)}; "
              "full names in --json")
    return labels, legend


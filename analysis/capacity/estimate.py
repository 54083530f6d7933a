"""The estimator: the model applied to the weighted page mix, per compressor, backend and
allocator, with a stratified bootstrap for the intervals (the package docstring says why)."""
import numpy as np

from analysis.capacity import model as cm
from analysis.capacity.pages import weights_of
from analysis.errors import ResultError

SCHEMA_VERSION = 1
# 400 resamples: the 2.5/97.5 percentiles move by well under a tenth of the interval's width
# between runs at this count; zbud/z3fold are simulated page by page, so they get fewer.
BOOTSTRAP = 400


BOOTSTRAP = 400
BOOTSTRAP_SIMULATED = 40


BOOTSTRAP_SIMULATED = 40
# Compressors whose zram lengths differ from zswap's, and the sampler's name for zram's version.
ZRAM_VARIANTS = {"zstd": "zstd-zram"}


def figures(classes, lengths, w, backend, allocator, version, zs_table):
    """The model's figures for one compressor on (weighted) pages."""
    if backend == "zram":
        out = cm.zram_outcome(classes, lengths, zs_table.huge_class_size, version)
    else:
        out = cm.zswap_outcome(classes, lengths, version, allocator)
    stored = float(np.sum(w * out.stored))
    compressed_pages = float(np.sum(w * (out.pooled_len > 0)))
    compressed_bytes = float(np.sum(w * out.pooled_len))
    pool = cm.pool_figures(out, allocator, zs_table, w)
    meta = stored * cm.entry_bytes(backend, version)
    kept_out = stored + float(np.sum(w * out.zero_elsewhere))  # pages no longer in RAM
    saved = kept_out * cm.PAGE - pool - meta
    return {
        "stored_pages": stored,
        "same_pages": float(np.sum(w * out.same)),
        "zero_outside_pages": float(np.sum(w * out.zero_elsewhere)),
        "rejected_pages": float(np.sum(w * out.rejected)),
        "huge_pages": float(np.sum(w * out.huge)),
        "compressed_bytes": compressed_bytes,
        "pool_bytes": pool,
        "metadata_bytes": meta,
        "kept_out_pages": kept_out,
        "saved_bytes": saved,
        "ratio_compressor": compressed_pages * cm.PAGE / compressed_bytes if compressed_bytes else float("nan"),
        "ratio_with_overhead": kept_out * cm.PAGE / (pool + meta) if pool + meta else float("nan"),
    }


def estimate(doc, version, chain_size=None, bootstrap=BOOTSTRAP, seed=1, compressors=None, subset=None, backends=None):
    """subset: per page, whether it counts (e.g. the cold pages): the others weigh 0, so every
    figure is of the subset's pages in the whole population, with the same stratified bootstrap
    (a resample draws subset and other pages alike, so the subset's size is uncertain too)."""
    classes = np.asarray(doc["pages"]["class"], dtype=np.int64)
    strata, w = weights_of(doc)
    if subset is not None:
        w = np.where(np.asarray(subset, bool), w, 0.0)
    zs = cm.ZsmallocTable(version, chain_size)
    exact = doc["sampling"]["mode"] == "all" or all(s["sampled_pages"] >= s["population_pages"] for s in doc["sources"])
    rng = np.random.default_rng(seed)
    groups = [np.nonzero(strata == h)[0] for h in range(len(doc["sources"]))]
    rows = []
    held = doc["pages"]["length"]
    names = compressors or [c for c in held if c not in ZRAM_VARIANTS.values()]
    for comp in names:
        if comp not in held:
            raise ResultError(f"--compressor {comp}: not in the pages file; it holds {', '.join(held)}")
        for backend, allocator in [("zswap", a) for a in cm.allocators_for(version)] + [("zram", "zsmalloc")]:
            if backends and (backend, allocator) not in backends:
                continue
            # zram's own zstd backend (6.12+) tunes zstd for a page: its lengths, where sampled.
            variant = ZRAM_VARIANTS.get(comp) if backend == "zram" and version >= (6, 12) else None
            lengths = np.asarray(held[variant if variant in held else comp], dtype=np.int64)
            point = figures(classes, lengths, w, backend, allocator, version, zs)
            reps = 0 if exact else (bootstrap if allocator == "zsmalloc" else min(bootstrap, BOOTSTRAP_SIMULATED))
            draws = {k: [] for k in point}
            for _ in range(reps):
                idx = np.concatenate([g[rng.integers(0, len(g), len(g))] for g in groups if len(g)])
                f = figures(classes[idx], lengths[idx], w[idx], backend, allocator, version, zs)
                for k, v in f.items():
                    draws[k].append(v)
            ci = {k: ([float(np.nanpercentile(v, 2.5)), float(np.nanpercentile(v, 97.5))] if v else [point[k], point[k]])
                  for k, v in draws.items()}
            rows.append({"compressor": comp, "backend": backend, "allocator": allocator, "estimate": point,
                         "ci95": ci, "bootstrap": reps})
    return {"rows": rows, "exact": exact, "huge_class_size": zs.huge_class_size, "chain_size": zs.chain_size}

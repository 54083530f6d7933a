"""./swapbench capacity: how much memory compressed swap would save on these pages, per compressor
and allocator, as a given kernel version stores them; with intervals from the sampling.

Pages come from bench/capacity/ (swapbench-capacity): per sampled page its class and its
compressed length under each compressor, kernel-exact. The model (model.py) turns them into
stored pages, pool size, metadata and memory saved.

Estimator (estimate.py): each source is a stratum sampled without replacement; a page of stratum h
stands for N_h / n_h pages. Point estimates apply the model to the weighted page mix (the pool's
per-class ceil applied to the estimated counts). Intervals: a stratified bootstrap (resample n_h
pages with replacement inside each stratum, rerun the model, 2.5 and 97.5 percentiles). Bootstrap
rather than a normal interval on a sum because the pool is not a sum over pages (zspage rounding,
zbud pairing) and the ratios are ratios of sums; resampling inside strata keeps the design.
With --all there is no sampling error: the interval is the point.

Modules, one concern each: pages (files), model (the kernel's rules), estimate, coldness, cost,
fleet (--merge), host (the running kernel), report (text), sampler (the C++ binary), validation and
validation_report (--validate), cli (the verb).
"""
from analysis.capacity.cli import add_arguments, main, with_guests

__all__ = ["add_arguments", "main", "with_guests"]

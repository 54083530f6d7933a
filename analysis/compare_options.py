"""compare's statistical options as one typed value (compare builds it from its flags; report and
calibrate ask compare with one of their own), and the noise threshold they resolve to: given,
calibrated for the machine, or the default."""
import os
from dataclasses import dataclass, fields
from typing import Optional

from analysis import stats, store
from analysis.errors import ResultError

# Without a calibration for the machine: criterion.rs's default noise threshold. It is a guess, not
# a measurement; `./swapbench calibrate` replaces it with what this machine can resolve.
DEFAULT_THRESHOLD = 0.01


@dataclass(frozen=True)
class CompareOptions:
    """The statistical options of a comparison: compare's flags, and what report and calibrate
    ask of compare. Defaults stated once; the flags take theirs from here."""
    # The median page: robust to the few slow pages a repetition can catch.
    metric: str = "p50"
    threshold: Optional[float] = None   # percent; None: calibrated for the machine, else DEFAULT_THRESHOLD
    alpha: float = stats.ALPHA
    force: bool = False
    ignore_invalid: bool = False
    calibrations: Optional[str] = None  # None: the store's calibration folder

    @classmethod
    def from_args(cls, args):
        """From compare's parsed flags (add_arguments): every field, by name."""
        return cls(**{f.name: getattr(args, f.name) for f in fields(cls)})



def check_options(opts):
    """Bad values of the statistical flags (CompareOptions), before any file is read (compare and
    report)."""
    if opts.threshold is not None and not 0 <= opts.threshold < 100:  # NaN fails too
        raise ResultError(f"--threshold {opts.threshold}: a percentage in [0, 100)")
    if not 0 < opts.alpha < 1:
        raise ResultError(f"--alpha {opts.alpha}: a significance level in (0, 1), e.g. 0.05")
    # A folder not made yet holds no calibration (the default threshold applies, and says so); a path
    # that is something else is a mistake the lookup would otherwise pass over in silence.
    cal = opts.calibrations
    if cal and os.path.exists(cal) and not os.path.isdir(cal):
        raise ResultError(f"--calibrations {cal}: not a folder; give the folder holding calibration files "
                          "(default: results/calibration)")


def resolve_threshold(opts, A, B=None, several=False):
    """(relative threshold, where it came from, {set: threshold}). One run per side from separate
    runs: the larger of the within-run threshold and this machine's between-run calibration, where
    one exists: per set where the calibration measured the set (sets drift by different amounts
    between runs: the swap-cache floor more than zswap), else its calibrated set's figure."""
    t, source = within_run_threshold(opts, A)
    if opts.threshold is not None or several or B is None or A.date == B.date:
        return t, source, {}
    btw = store.find_between_runs(A.machine_key(), opts.metric, opts.calibrations)
    if not btw:
        return t, source, {}
    doc, path = btw
    per_set = {n: max(t, s["between_run_threshold"]) for n, s in (doc.get("per_set") or {}).items()
               if isinstance(s, dict) and isinstance(s.get("between_run_threshold"), (int, float))}
    # A set of its own may drift more than the calibrated one, even where that one stays under t.
    if doc["between_run_threshold"] > t or any(v > t for v in per_set.values()):
        why = (f"between-run calibration of this machine ({path}, {doc['n_runs']} runs, {doc['date']}): "
               f"separate runs differ by up to {doc['between_run_threshold'] * 100:.2f}% 19 times in 20"
               + (" in its calibrated set; per set as calibrated (column thr)" if per_set else ""))
        return max(t, doc["between_run_threshold"]), why, per_set
    return t, source, {}


def within_run_threshold(opts, A):
    """(relative threshold, where it came from), for repetitions of one run."""
    check_options(opts)
    if opts.threshold is not None:
        return opts.threshold / 100, f"--threshold {opts.threshold}%"
    cal = store.find_calibration(A.machine_key(), opts.metric, opts.calibrations)
    if cal:
        doc, path = cal
        return doc["noise_threshold"], (f"calibrated for this machine ({path}, {doc['date']}, "
                                        f"{doc['scenario']['set']} {doc['metric']})")
    return DEFAULT_THRESHOLD, ("default 1% (no calibration of this machine and accelerator found; "
                               "./swapbench calibrate, as root, measures one)")

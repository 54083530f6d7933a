"""What calibrate aims at and what both designs share: the goals (minimum detectable effect,
false-positive rate, time), the experiments' size, and the lines a calibration report ends with."""
import numpy as np

from analysis import between_runs, manifest

POWER_GOAL = 0.95     # "detectable": found slower in at least 95% of experiments
FPR_GOAL = 0.05       # the A/A false-positive rate the issue sets as acceptable
MDE_GOAL = 0.01       # 1% of the per-fault cost
WALL_GOAL_S = 120     # within 2 minutes of measurement
EXPERIMENTS = 400     # resampled experiments per comparison: the rates' standard error is <= 2.5 points
# What a user's compare sees by default: the repetitions of the suite a user runs.
DEFAULT_K = manifest.load().suite(between_runs.SUITE).repetitions
# Bootstrap resamples per experiment: fewer than compare's 4000, because here only the share of
# hundreds of experiments called slower matters, not one interval's ends to the last 0.1%.
RESAMPLES = 1000


def smoothed_share(pts):
    pts = sorted(pts)
    y = np.array([x for _, x in pts])
    if len(y) < 20:
        return None
    smooth = np.array([np.median(y[max(0, i - 4):i + 5]) for i in range(len(y))])
    return float(np.var(smooth) / np.var(y)) if np.var(y) > 0 else 0.0


def render_tail(lines, doc, path, mde_label, mde_rule, mde_none, wall_note, goal_text, stored_for):
    """The lines both designs end with: the minimum detectable effect, time, goal, limits, where stored."""
    m = doc["mde"]
    lines.append("")
    if m:
        lines.append(f"{mde_label}: {m['added_ns']:.0f} ns = {m['share'] * 100:.2f}% of a fault "
                     f"(asked +{m['requested_ns']} ns; {mde_rule})")
    else:
        lines.append(f"{mde_label}: above the largest delay tried ({mde_none})")
    lines.append(f"measurement: {doc['measurement_wall_s']:.0f} s{wall_note}")
    lines.append(f"goal ({goal_text}): {'met' if doc['goal']['met'] else 'NOT met'}")
    lines += [f"  - {x}" for x in doc["limits"]]
    lines.append(f"stored: {path} (compare's default threshold for {stored_for} from this machine and accelerator)")
    return "\n".join(lines)
